import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// Hook order and hook failures (docs/FORMAT.md §2): save runs pre_save, fields, subsections, post_save
/// (always); load runs the version checks, pre_load, fields, subsections, post_load(version).
/// Each hook of "eng-hooks" and its subsection appends its name to the device's log.
@Suite struct EngineHookTests {
    let subBytes: [UInt8] = [0x05, 0x0D] + ascii("eng-hooks/sub") + [0x00, 0x00, 0x00, 0x01, 0x09]
    var stream: [UInt8] { [0x01, 0x02, 0x03, 0x04] + subBytes }

    func device() -> EngHooks {
        var h = EngHooks()
        h.v = 0x0102_0304
        h.s = 9
        return h
    }

    func log(_ h: inout EngHooks) -> String { String(cString: eng_hooks_log(&h)) }

    @Test func saveOrder() throws {
        var h = device()
        #expect(try save(eng_vmsd_hooks(), &h) == stream)
        #expect(log(&h) == "pre_save;put;sub.pre_save;sub.post_save;post_save;")
    }

    @Test(arguments: [Int32(3), 2])
    func loadOrderWithTheVersion(version: Int32) throws {
        var h = EngHooks()
        try VMStateEngine.load(eng_vmsd_hooks(), opaque: &h, version: version, from: stream)
        #expect(h.v == 0x0102_0304 && h.s == 9)
        #expect(log(&h) == "pre_load;get;sub.pre_load;sub.post_load:1;post_load:\(version);")
    }

    @Test(arguments: [(Int32(4), VMStateError.Kind.versionTooNew), (1, .versionTooOld)])
    func versionChecksComeBeforePreLoad(version: Int32, kind: VMStateError.Kind) throws {
        var h = EngHooks()
        let e = try #require(
            engineError { try VMStateEngine.load(eng_vmsd_hooks(), opaque: &h, version: version, from: stream) })
        #expect(e.kind == kind)
        #expect(log(&h) == "")
    }

    @Test func preSaveFailureAborts() throws {
        var h = device()
        h.pre_save_ret = -4
        let e = try #require(engineError { _ = try save(eng_vmsd_hooks(), &h) })
        #expect(e.kind == .hookFailed)
        #expect(e.errno == -4)
        #expect(e.path == "eng-hooks")
        #expect(log(&h) == "pre_save;")

        var c = device()
        c.pre_save_ret = -4
        let r = cSave(eng_vmsd_hooks(), &c)
        #expect(r.ret == -4)
        #expect(r.bytes == [])
    }

    @Test func postSaveRunsAfterAFailedFieldAndItsErrorIsNotReported() throws {
        var h = device()
        h.put_ret = -7
        h.post_save_ret = -3
        let e = try #require(engineError { _ = try save(eng_vmsd_hooks(), &h) })
        #expect(e.kind == .fieldFailed)
        #expect(e.errno == -7)
        #expect(e.path == "eng-hooks/v")
        #expect(log(&h) == "pre_save;put;post_save;")

        var c = device()
        c.put_ret = -7
        c.post_save_ret = -3
        #expect(cSave(eng_vmsd_hooks(), &c).ret == -7)
    }

    @Test func postSaveErrorIsReportedWhenNothingFailedBefore() throws {
        var h = device()
        h.post_save_ret = -3
        let e = try #require(engineError { _ = try save(eng_vmsd_hooks(), &h) })
        #expect(e.kind == .hookFailed)
        #expect(e.errno == -3)
        #expect(log(&h) == "pre_save;put;sub.pre_save;sub.post_save;post_save;")

        var c = device()
        c.post_save_ret = -3
        let r = cSave(eng_vmsd_hooks(), &c)
        #expect(r.ret == -3)
        #expect(r.bytes == stream)  // everything was written before post_save failed
    }

    @Test func preLoadFailureAborts() throws {
        var h = EngHooks()
        h.pre_load_ret = -9
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_hooks(), opaque: &h, from: stream) })
        #expect(e.kind == .hookFailed)
        #expect(e.errno == -9)
        #expect(e.offset == 0)
        #expect(h.v == 0)
        #expect(log(&h) == "pre_load;")
        var c = EngHooks()
        c.pre_load_ret = -9
        let r = cLoad(eng_vmsd_hooks(), &c, version: 3, stream)
        #expect(r.ret == -9)
        #expect(r.remaining == stream.count)
    }

    @Test func fieldGetFailureSkipsTheRest() throws {
        var h = EngHooks()
        h.get_ret = -6
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_hooks(), opaque: &h, from: stream) })
        #expect(e.kind == .fieldFailed)
        #expect(e.errno == -6)
        #expect(e.path == "eng-hooks/v")
        #expect(log(&h) == "pre_load;get;")
        var c = EngHooks()
        c.get_ret = -6
        #expect(cLoad(eng_vmsd_hooks(), &c, version: 3, stream).ret == -6)
    }

    /// A nested load's positive result fails the field when the file has a negative error, as
    /// QEMU's `if (ret >= 0) ret = qemu_file_get_error(f)`: here the input ends inside the
    /// subsection's version (-EIO), and the subsection's pre_load then returns 4.
    @Test func aPositiveNestedResultOverAFileErrorFails() throws {
        var d = EngPositive()
        let input: [UInt8] = [1, 5, 22] + Array("eng-positive-inner/sub".utf8) + [0, 0, 0]
        let r = cLoad(eng_vmsd_positive(), &d, version: 1, input)
        #expect(r.ret == Errno.eio)
        #expect(r.fileError == Errno.eio)
        #expect(d.in.a == 1)
        // With the whole input the positive result lets the load go on (the subsection's
        // pre_load result ends the subsection before `b`, whose byte is left).
        var ok = EngPositive()
        let whole = cLoad(eng_vmsd_positive(), &ok, version: 1, input + [1, 2])
        #expect(whole.ret == 0)
        #expect(whole.fileError == 0)
        #expect(whole.remaining == 1)
        #expect(ok.in.a == 1 && ok.in.b == 0)
    }

    @Test func postLoadResultIsTheResult() throws {
        var h = EngHooks()
        h.post_load_ret = -11
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_hooks(), opaque: &h, from: stream) })
        #expect(e.kind == .hookFailed)
        #expect(e.errno == -11)
        #expect(h.v == 0x0102_0304 && h.s == 9)
        #expect(log(&h) == "pre_load;get;sub.pre_load;sub.post_load:1;post_load:3;")
        var c = EngHooks()
        c.post_load_ret = -11
        #expect(cLoad(eng_vmsd_hooks(), &c, version: 3, stream).ret == -11)
    }

    /// A whole-stream load fails on a device hook's positive result too (docs/C-API.md,
    /// `vmstate_registry_load`), although QEMU fails a section only on a negative one.
    @Test func positivePostLoadFailsAWholeStreamLoad() throws {
        var saved = device()
        let source = Registry()
        try source.add(idstr: "eng-hooks", instanceID: 0, vmsd: eng_vmsd_hooks(), opaque: &saved)
        let bytes = try source.save(machineType: "pc-i440fx-7.2")
        var h = EngHooks()
        h.post_load_ret = 3
        let destination = Registry()
        try destination.add(idstr: "eng-hooks", instanceID: 0, vmsd: eng_vmsd_hooks(), opaque: &h)
        let e = try #require(throws: VMStateError.self) { try destination.load(bytes) }
        #expect(e.kind == .hookFailed)
        #expect(e.errno == 3)
        #expect(e.description.hasPrefix("eng-hooks: section \"eng-hooks\" instance 0: post_load returned 3"))
        #expect(h.v == 0x0102_0304 && h.s == 9)
        #expect(log(&h) == "pre_load;get;sub.pre_load;sub.post_load:1;post_load:3;")
    }
}

/// VMStateInfo written in C with qemu_get_* / qemu_put_*, including one that recurses into
/// vmstate_save_state / vmstate_load_state.
@Suite struct EngineCustomInfoTests {
    let stream: [UInt8] = [
        0x0A, 0x0B, 0x0C,  // u24 (3 bytes)
        0xCA, 0xFE, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,  // w: tag, then eng-inner
        0x05, 0x75, 0x61, 0x72, 0x74, 0x30,  // name: counted string "uart0"
    ]

    func device() -> EngCustom {
        var d = EngCustom()
        d.u24 = 0x0A0B0C
        d.w = EngInner(a: 0x1122, b: 0x3344_5566)
        withUnsafeMutableBytes(of: &d.name) { raw in
            for (i, c) in "uart0".utf8.enumerated() { raw[i] = c }
        }
        return d
    }

    @Test func customPut() throws {
        var d = device()
        #expect(try save(eng_vmsd_custom(), &d) == stream)
        #expect(cSave(eng_vmsd_custom(), &d).bytes == stream)
    }

    @Test func customGet() throws {
        var d = EngCustom()
        try VMStateEngine.load(eng_vmsd_custom(), opaque: &d, from: stream)
        #expect(d.u24 == 0x0A0B0C)
        #expect(d.w.a == 0x1122 && d.w.b == 0x3344_5566)
        #expect(Array(rawBytes(d.name).prefix(6)) == ascii("uart0") + [0])
    }

    @Test func customPutFailure() throws {
        var d = device()
        d.u24 = 0x0100_0000
        let e = try #require(engineError { _ = try save(eng_vmsd_custom(), &d) })
        #expect(e.kind == .fieldFailed)
        #expect(e.errno == Errno.erange)
        #expect(e.path == "eng-custom/u24")
        #expect(e.offset == 0)
        #expect(cSave(eng_vmsd_custom(), &d).ret == Errno.erange)
    }

    @Test func customGetFailure() throws {
        var d = EngCustom()
        var bad = stream
        bad[4] = 0xFF  // wrong tag
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_custom(), opaque: &d, from: bad) })
        #expect(e.kind == .fieldFailed)
        #expect(e.errno == Errno.einval)
        #expect(e.path == "eng-custom/w")
        #expect(e.offset == 3)
        #expect(cLoad(eng_vmsd_custom(), &d, version: 1, bad).ret == Errno.einval)
    }

    @Test func shortInputInsideARecursiveCustomGet() throws {
        var d = EngCustom()
        let cut = Array(stream[0..<9])  // ends inside eng-inner's b (offset 7)
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_custom(), opaque: &d, from: cut) })
        #expect(e.kind == .shortInput)
        #expect(e.path == "eng-custom/w/eng-inner/b")
        #expect(e.offset == 7)
        #expect(cLoad(eng_vmsd_custom(), &d, version: 1, cut).ret == Errno.eio)
    }

    @Test func shortInputInsideAPlainCustomGet() throws {
        var d = EngCustom()
        let e = try #require(
            engineError { try VMStateEngine.load(eng_vmsd_custom(), opaque: &d, from: [0x0A, 0x0B]) })
        #expect(e.kind == .shortInput)
        #expect(e.path == "eng-custom/u24")
        let c = cLoad(eng_vmsd_custom(), &d, version: 1, [0x0A, 0x0B])
        #expect(c.ret == Errno.eio)
        #expect(c.fileError == Errno.eio)
    }

    @Test func customInfoCallingStandardInfosDirectly() throws {
        var d = EngDirect(a: 0x1234, flag: true, magic: 0x5A)
        #expect(try save(eng_vmsd_direct(), &d) == [0x12, 0x34, 0x01, 0x5A])

        var l = EngDirect(a: 0, flag: false, magic: 0x5A)
        try VMStateEngine.load(eng_vmsd_direct(), opaque: &l, from: [0x12, 0x34, 0x02, 0x5A])
        #expect(l.a == 0x1234)
        #expect(rawBytes(l)[2] == 1)  // any non-zero byte loads as true

        let e = try #require(
            engineError { try VMStateEngine.load(eng_vmsd_direct(), opaque: &l, from: [0x12, 0x34, 0x01, 0x5B]) })
        #expect(e.kind == .mismatch)
        #expect(e.path == "eng-direct/pair")
        #expect(e.offset == 3)
        #expect(e.expected == "0x5a" && e.actual == "0x5b")
        #expect(cLoad(eng_vmsd_direct(), &l, version: 1, [0x12, 0x34, 0x01, 0x5B]).ret == Errno.einval)
    }
}
