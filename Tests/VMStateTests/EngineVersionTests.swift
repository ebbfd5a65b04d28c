import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// Field versions, the description's version range and field_exists (docs/FORMAT.md §2, step 1).
@Suite struct EngineVersionTests {
    func device() -> EngVersioned {
        var d = EngVersioned()
        d.a = 0x0A0B_0C0D
        d.b = 0x1122_3344
        d.c = 0x5566
        d.has_d = true
        d.d = 0x77
        d.e = 0x88
        return d
    }

    @Test func saveAtVersion2WritesEveryField() throws {
        var d = device()
        #expect(
            try save(eng_vmsd_versioned(), &d) == [
                0x0A, 0x0B, 0x0C, 0x0D,  // a
                0x11, 0x22, 0x33, 0x44,  // b (version 2)
                0x55, 0x66,  // c
                0x01,  // has_d
                0x77,  // d: field_exists(has_d) is true
                0x88,  // e: field_exists(version >= 2) is true
            ])
        #expect(d.e_test_last_version == 2)
    }

    @Test func fieldExistsSkipsOnSave() throws {
        var d = device()
        d.has_d = false
        #expect(
            try save(eng_vmsd_versioned(), &d) == [
                0x0A, 0x0B, 0x0C, 0x0D, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                0x00,  // has_d = false, so no d
                0x88,
            ])
    }

    @Test func saveAtAnOlderVersionThroughTheCAPI() throws {
        var d = device()
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        let f = vmstate_file_new_output(out)!
        #expect(vmstate_save_state_v(f, eng_vmsd_versioned(), &d, nil, 1) == 0)
        #expect(qemu_fclose(f) == 0)
        // Version 1: no b; e's field_exists is asked with version 1 and says no.
        #expect(bytes(of: out) == [0x0A, 0x0B, 0x0C, 0x0D, 0x55, 0x66, 0x01, 0x77])
        #expect(d.e_test_last_version == 1)
    }

    @Test func version1StreamLoadsIntoVersion2Description() throws {
        var d = EngVersioned()
        d.b = 0xBBBB_BBBB
        d.e = 0xEE
        let v1: [UInt8] = [0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x01, 0x03]  // a, c, has_d, d
        try VMStateEngine.load(eng_vmsd_versioned(), opaque: &d, version: 1, from: v1)
        #expect(d.a == 1 && d.c == 2 && d.has_d && d.d == 3)
        #expect(d.b == 0xBBBB_BBBB)  // a version 2 field keeps its value
        #expect(d.e == 0xEE)  // field_exists said no at version 1
        #expect(d.e_test_calls == 1 && d.e_test_last_version == 1)
    }

    @Test func fieldExistsSkipsOnLoad() throws {
        var d = EngVersioned()
        d.d = 0xDD
        let stream: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 2, 0, 3, 0x00, 0x44]  // has_d = 0: no d byte
        try VMStateEngine.load(eng_vmsd_versioned(), opaque: &d, from: stream)
        #expect(d.a == 1 && d.b == 2 && d.c == 3 && !d.has_d)
        #expect(d.d == 0xDD)
        #expect(d.e == 0x44)
        #expect(d.e_test_last_version == 2)
    }

    @Test func fieldExistsDoesNotSkipOnLoad() throws {
        var d = EngVersioned()
        let stream: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 2, 0, 3, 0x01, 0x55, 0x44]
        try VMStateEngine.load(eng_vmsd_versioned(), opaque: &d, from: stream)
        #expect(d.has_d && d.d == 0x55 && d.e == 0x44)
    }

    @Test func tooNewVersionIsRefused() throws {
        var d = device()
        let e = try #require(
            engineError { try VMStateEngine.load(eng_vmsd_versioned(), opaque: &d, version: 3, from: [0, 0, 0, 0]) })
        #expect(e.kind == .versionTooNew)
        #expect(e.path == "eng-versioned")
        #expect(e.offset == 0)
        #expect(e.expected == "at most 2" && e.actual == "3")
        #expect(d.a == 0x0A0B_0C0D)
        #expect(cLoad(eng_vmsd_versioned(), &d, version: 3, [0, 0, 0, 0]).ret == Errno.einval)
    }

    @Test func tooOldVersionIsRefused() throws {
        var d = device()
        let e = try #require(
            engineError { try VMStateEngine.load(eng_vmsd_versioned(), opaque: &d, version: 0, from: [0, 0, 0, 0]) })
        #expect(e.kind == .versionTooOld)
        #expect(e.path == "eng-versioned")
        #expect(e.expected == "at least 1" && e.actual == "0")
        #expect(cLoad(eng_vmsd_versioned(), &d, version: 0, [0, 0, 0, 0]).ret == Errno.einval)
    }
}
