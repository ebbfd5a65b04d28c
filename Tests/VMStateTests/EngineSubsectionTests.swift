import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// Subsections (docs/FORMAT.md §6): 0x05, len, name, be32 version, state; the parent-name prefix rule.
@Suite struct EngineSubsectionTests {
    let a: [UInt8] = [0x01, 0x02, 0x03, 0x04]
    var xSection: [UInt8] { [0x05, 0x09] + ascii("eng-sub/x") + [0x00, 0x00, 0x00, 0x02, 0xBE, 0xEF] }
    var ySection: [UInt8] { [0x05, 0x09] + ascii("eng-sub/y") + [0x00, 0x00, 0x00, 0x01, 0x42] }

    func device(needX: Bool, needY: Bool) -> EngSub {
        EngSub(a: 0x0102_0304, need_x: needX, x: 0xBEEF, need_y: needY, y: 0x42)
    }

    @Test func neededSubsectionsAreWrittenInTableOrder() throws {
        var d = device(needX: true, needY: true)
        let expected =
            [
                0x01, 0x02, 0x03, 0x04,
                0x05, 0x09, 0x65, 0x6E, 0x67, 0x2D, 0x73, 0x75, 0x62, 0x2F, 0x78,  // "eng-sub/x"
                0x00, 0x00, 0x00, 0x02, 0xBE, 0xEF,
                0x05, 0x09, 0x65, 0x6E, 0x67, 0x2D, 0x73, 0x75, 0x62, 0x2F, 0x79,  // "eng-sub/y"
                0x00, 0x00, 0x00, 0x01, 0x42,
            ] as [UInt8]
        #expect(try save(eng_vmsd_sub(), &d) == expected)
    }

    @Test func notNeededSubsectionsAreNotWritten() throws {
        var onlyY = device(needX: false, needY: true)
        #expect(try save(eng_vmsd_sub(), &onlyY) == a + ySection)
        var none = device(needX: false, needY: false)
        #expect(try save(eng_vmsd_sub(), &none) == a)
        #expect(vmstate_save_needed(eng_vmsd_sub(), &none))
    }

    @Test func presentSubsectionsAreLoadedInAnyOrder() throws {
        var d = EngSub()
        try VMStateEngine.load(eng_vmsd_sub(), opaque: &d, from: a + ySection + xSection)
        #expect(d.a == 0x0102_0304 && d.x == 0xBEEF && d.y == 0x42)
    }

    @Test func absentSubsectionsKeepTheirValues() throws {
        var d = EngSub(a: 0, need_x: false, x: 0x1111, need_y: false, y: 0x22)
        try VMStateEngine.load(eng_vmsd_sub(), opaque: &d, from: a)
        #expect(d.a == 0x0102_0304 && d.x == 0x1111 && d.y == 0x22)
        try VMStateEngine.load(eng_vmsd_sub(), opaque: &d, from: a + ySection)
        #expect(d.x == 0x1111 && d.y == 0x42)
    }

    @Test func subsectionIsLoadedAtTheStreamVersion() throws {
        var d = EngSub()
        var v1 = xSection
        v1[14] = 0x01  // version 1 is in eng-sub/x's range
        try VMStateEngine.load(eng_vmsd_sub(), opaque: &d, from: a + v1)
        #expect(d.x == 0xBEEF)

        var v3 = xSection
        v3[14] = 0x03
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_sub(), opaque: &d, from: a + v3) })
        #expect(e.kind == .versionTooNew)
        #expect(e.path == "eng-sub/x")
        #expect(e.offset == 19)
    }

    @Test func subsectionVersionIsReadAsOneByte() throws {
        // QEMU keeps only the low byte of the be32 version (a uint8_t).
        var d = EngSub()
        var odd = xSection
        odd[13] = 0x01  // 0x00000102 -> version 2
        try VMStateEngine.load(eng_vmsd_sub(), opaque: &d, from: a + odd)
        #expect(d.x == 0xBEEF)
    }

    @Test func unknownSubsectionWithTheParentsPrefix() throws {
        var d = EngSub()
        let stream = a + [0x05, 0x09] + ascii("eng-sub/z") + [0x00, 0x00, 0x00, 0x01, 0x00]
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_sub(), opaque: &d, from: stream) })
        #expect(e.kind == .unknownSubsection)
        #expect(e.path == "eng-sub")
        #expect(e.offset == 4)
        #expect(e.reason.contains("eng-sub/z"))
        #expect(e.errno == Errno.enoent)

        let c = cLoad(eng_vmsd_sub(), &d, version: 1, stream)
        #expect(c.ret == Errno.enoent)
        #expect(c.remaining == stream.count - 4)  // nothing of the subsection was consumed

        // The prefix test compares only strlen(parent) bytes: "eng-subx" passes it, then is unknown.
        // In a nested struct the path is the field that holds it.
        var o = EngOuter()
        let nested = [0x01, 0x02, 0x05, 0x08] + ascii("eng-in/z") + [0x00, 0x00, 0x00, 0x01, 0x00]
        let n = try #require(engineError { try VMStateEngine.load(eng_vmsd_outer(), opaque: &o, from: nested) })
        #expect(n.kind == .unknownSubsection)
        #expect(n.path == "eng-outer/in")
        #expect(n.offset == 2)

        let sibling = a + [0x05, 0x08] + ascii("eng-subx") + [0x00, 0x00, 0x00, 0x01]
        #expect(cLoad(eng_vmsd_sub(), &d, version: 1, sibling).ret == Errno.enoent)
    }

    @Test func subsectionNameIsComparedUpToItsFirstNUL() throws {
        // QEMU copies the wire name into a C string and looks it up with strcmp: "eng-sub/x\0zz"
        // (length 12) is eng-sub/x, and all 12 bytes of the name are consumed.
        var d = EngSub()
        let stream =
            a + [0x05, 0x0C] + ascii("eng-sub/x") + [0x00, 0x7A, 0x7A] + [0x00, 0x00, 0x00, 0x02, 0xBE, 0xEF]
        try VMStateEngine.load(eng_vmsd_sub(), opaque: &d, from: stream)
        #expect(d.a == 0x0102_0304 && d.x == 0xBEEF)

        var c = EngSub()
        let r = cLoad(eng_vmsd_sub(), &c, version: 1, stream)
        #expect(r.ret == 0 && r.remaining == 0)
        #expect(c.x == 0xBEEF)

        // Before the NUL the name must still be a subsection: "eng-sub/z\0x" is unknown.
        let unknown = a + [0x05, 0x0B] + ascii("eng-sub/z") + [0x00, 0x78] + [0x00, 0x00, 0x00, 0x01, 0x00]
        #expect(cLoad(eng_vmsd_sub(), &c, version: 1, unknown).ret == Errno.enoent)
    }

    @Test func foreignSubsectionStopsParsingAndIsLeftForTheCaller() throws {
        var d = EngSub(a: 0, need_x: false, x: 0x1111, need_y: false, y: 0x22)
        let foreign = [0x05, 0x07] + ascii("other/x") + [0x00, 0x00, 0x00, 0x01, 0x99]
        let c = cLoad(eng_vmsd_sub(), &d, version: 1, a + ySection + foreign)
        #expect(c.ret == 0)
        #expect(c.remaining == foreign.count)
        #expect(d.a == 0x0102_0304 && d.y == 0x42 && d.x == 0x1111)

        // The Swift API wants all of the input, so the leftover bytes are an error there.
        let e = try #require(
            engineError { try VMStateEngine.load(eng_vmsd_sub(), opaque: &d, from: a + ySection + foreign) })
        #expect(e.kind == .failed)
        #expect(e.offset == 4 + ySection.count)
    }

    @Test func nameNoLongerThanTheParentStopsParsing() throws {
        var d = EngSub()
        // len 7 < strlen("eng-sub") + 1: not a subsection of eng-sub, whatever follows.
        let short = [0x05, 0x07] + ascii("eng-sub") + [0x00, 0x00, 0x00, 0x01]
        let c = cLoad(eng_vmsd_sub(), &d, version: 1, a + short)
        #expect(c.ret == 0)
        #expect(c.remaining == short.count)
    }

    @Test func nestedStructLeavesTheParentsSubsectionForTheParent() throws {
        var d = EngOuter(v: 1, in: EngIn(p: 2, q: 3), w: 4)
        let inQ = [0x05, 0x08] + ascii("eng-in/q") + [0x00, 0x00, 0x00, 0x01, 0x03]
        let outerW = [0x05, 0x0B] + ascii("eng-outer/w") + [0x00, 0x00, 0x00, 0x01, 0x04]
        #expect(try save(eng_vmsd_outer(), &d) == [0x01, 0x02] + inQ + outerW)

        var l = EngOuter()
        try VMStateEngine.load(eng_vmsd_outer(), opaque: &l, from: [0x01, 0x02] + inQ + outerW)
        #expect(l.v == 1 && l.in.p == 2 && l.in.q == 3 && l.w == 4)

        // Without the nested subsection, eng-in meets "eng-outer/w", stops, and the parent loads it.
        var m = EngOuter(v: 0, in: EngIn(p: 0, q: 0x33), w: 0)
        try VMStateEngine.load(eng_vmsd_outer(), opaque: &m, from: [0x01, 0x02] + outerW)
        #expect(m.in.p == 2 && m.in.q == 0x33 && m.w == 4)
    }
}
