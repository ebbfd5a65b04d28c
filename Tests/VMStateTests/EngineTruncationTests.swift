import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// Truncated input: kind .shortInput, the path of the value that did not fit (through arrays,
/// nested structs and subsections) and the byte offset where that value starts.
@Suite struct EngineTruncationTests {
    // eng-trunc saved from head 0xAA, arr 1...5, structs (6,7) (8,9), in (10,11), sub_val 12.
    let full: [UInt8] =
        [0xAA]  // head                                           0
        + [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5]  // arr[0...4] at 1, 5, 9, 13, 17
        + [0, 6, 0, 0, 0, 7]  // structs[0]: a at 21, b at 23
        + [0, 8, 0, 0, 0, 9]  // structs[1]: a at 27, b at 29
        + [0, 10, 0, 0, 0, 11]  // in: a at 33, b at 35
        + [0x05, 0x0D] + Array("eng-trunc/sub".utf8)  // subsection header at 39, name at 41
        + [0, 0, 0, 1]  // subsection version at 54
        + [0, 12]  // sub_val at 58

    func device() -> EngTrunc {
        EngTrunc(
            head: 0xAA, arr: (1, 2, 3, 4, 5), structs: (EngInner(a: 6, b: 7), EngInner(a: 8, b: 9)),
            in: EngInner(a: 10, b: 11), sub_val: 12)
    }

    @Test func theFullStream() throws {
        #expect(full.count == 60)
        var d = device()
        #expect(try save(eng_vmsd_trunc(), &d) == full)
        var l = EngTrunc()
        try VMStateEngine.load(eng_vmsd_trunc(), opaque: &l, from: full)
        #expect(l.sub_val == 12 && l.in.b == 11 && elements(l.arr, as: UInt32.self) == [1, 2, 3, 4, 5])
    }

    /// The message counts the element that was cut: its size and what is left of it.
    @Test(arguments: [
        (0, "eng-trunc/head: input ended; expected 1 byte, got 0 left (at byte 0)"),
        (1, "eng-trunc/arr[0]: input ended; expected 4 bytes, got 0 left (at byte 1)"),
        (14, "eng-trunc/arr[3]: input ended; expected 4 bytes, got 1 left (at byte 13)"),
        (20, "eng-trunc/arr[4]: input ended; expected 4 bytes, got 3 left (at byte 17)"),
    ])
    func truncatedMessage(length: Int, message: String) throws {
        var d = EngTrunc()
        let e = try #require(
            engineError { try VMStateEngine.load(eng_vmsd_trunc(), opaque: &d, from: Array(full[0..<length])) })
        #expect(e.description == message)
    }

    @Test(arguments: [
        (0, "eng-trunc/head", 0),
        (1, "eng-trunc/arr[0]", 1),
        (14, "eng-trunc/arr[3]", 13),
        (20, "eng-trunc/arr[4]", 17),
        (22, "eng-trunc/structs[0]/a", 21),
        (30, "eng-trunc/structs[1]/b", 29),
        (34, "eng-trunc/in/a", 33),
        (38, "eng-trunc/in/b", 35),
        (59, "eng-trunc/sub/sub_val", 58),
    ])
    func truncatedAt(length: Int, path: String, offset: Int) throws {
        var d = EngTrunc()
        let e = try #require(
            engineError { try VMStateEngine.load(eng_vmsd_trunc(), opaque: &d, from: Array(full[0..<length])) })
        #expect(e.kind == .shortInput)
        #expect(e.path == path)
        #expect(e.offset == offset)
        #expect(e.errno == Errno.eio)

        var c = EngTrunc()
        let r = cLoad(eng_vmsd_trunc(), &c, version: 1, Array(full[0..<length]))
        #expect(r.ret == Errno.eio)
        #expect(r.fileError == Errno.eio)
    }

    @Test func truncatedInsideTheSubsectionVersion() throws {
        var d = EngTrunc()
        let e = try #require(
            engineError { try VMStateEngine.load(eng_vmsd_trunc(), opaque: &d, from: Array(full[0..<56])) })
        #expect(e.kind == .shortInput)
        #expect(e.offset == 54)
        #expect(e.path.hasPrefix("eng-trunc"))
    }

    @Test func theGErrorNamesPathAndOffset() throws {
        var d = EngTrunc()
        let r = cLoadFromBytes(eng_vmsd_trunc(), &d, version: 1, Array(full[0..<30]))
        #expect(!r.ok)
        #expect(r.domain == vmstate_error_quark())
        #expect(r.code == code(VMSTATE_ERROR_SHORT_INPUT))
        #expect(r.message.contains("eng-trunc/structs[1]/b"))
        #expect(r.message.contains("byte 29"))
    }

    @Test func truncatedInsideListsTreesTmpAndVStruct() throws {
        // eng-qdev: tag, then elements of 1 + (v, w); cut inside the second element's w.
        var q = EngQDev()
        eng_qdev_init(&q)
        defer { eng_qdev_free(&q) }
        let list: [UInt8] = [0x07, 0x01, 0, 0, 0, 1, 0, 2, 0x01, 0, 0, 0, 3, 0]
        let eq = try #require(engineError { try VMStateEngine.load(eng_vmsd_qdev(), opaque: &q, from: list) })
        #expect(eq.kind == .shortInput)
        #expect(eq.path == "eng-qdev/q[1]/w")
        #expect(eq.offset == 13)

        // eng-trees: cut inside the second direct node's value.
        var t = EngTrees()
        eng_trees_init(&t)
        defer { eng_trees_destroy(&t) }
        let tree: [UInt8] =
            [0, 0, 0, 2]
            + [0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 10]
            + [0x01, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0]
        let et = try #require(engineError { try VMStateEngine.load(eng_vmsd_trees(), opaque: &t, from: tree) })
        #expect(et.kind == .shortInput)
        #expect(et.path == "eng-trees/direct[1]/v")
        #expect(et.offset == 26)

        // eng-tmp: cut inside the scratch struct's first field.
        var p = EngTmpParent()
        let etmp = try #require(engineError { try VMStateEngine.load(eng_vmsd_tmp(), opaque: &p, from: [0, 0, 0, 0]) })
        #expect(etmp.kind == .shortInput)
        #expect(etmp.path == "eng-tmp/tmp/combined")
        #expect(etmp.offset == 0)

        // eng-vstruct: v2s is loaded at version 2, so its b is read; cut there.
        var v = EngVStruct()
        let ev = try #require(
            engineError { try VMStateEngine.load(eng_vmsd_vstruct(), opaque: &v, from: [0, 1, 0, 2, 0, 0]) })
        #expect(ev.kind == .shortInput)
        #expect(ev.path == "eng-vstruct/v2s/b")
        #expect(ev.offset == 4)
    }
}
