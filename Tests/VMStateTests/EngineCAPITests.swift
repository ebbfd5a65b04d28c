import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// QEMU's C entry points (0 or a negative errno) and the one-call GError forms.
@Suite struct EngineCAPITests {
    @Test func saveAndLoadState() throws {
        var d = EngInner(a: 1, b: 2)
        let r = cSave(eng_vmsd_inner(), &d)
        #expect(r.ret == 0 && r.fileError == 0)
        #expect(r.bytes == [0x00, 0x01, 0x00, 0x00, 0x00, 0x02])

        var l = EngInner()
        let c = cLoad(eng_vmsd_inner(), &l, version: 1, r.bytes + [0xEE])
        #expect(c.ret == 0 && c.fileError == 0)
        #expect(c.remaining == 1)  // vmstate_load_state reads only its own bytes
        #expect(l.a == 1 && l.b == 2)
    }

    @Test func saveAppendsToTheCallersArray() throws {
        var d = EngInner(a: 1, b: 2)
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        var prefix: [UInt8] = [0xEE, 0xFF]
        g_byte_array_append(out, &prefix, 2)
        let f = vmstate_file_new_output(out)!
        #expect(vmstate_save_state(f, eng_vmsd_inner(), &d, nil) == 0)
        #expect(qemu_file_total_transferred(f) == 6)
        #expect(qemu_fclose(f) == 0)
        #expect(bytes(of: out) == [0xEE, 0xFF, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02])
    }

    @Test func errnoValues() throws {
        var s = EngSub()
        #expect(cLoad(eng_vmsd_sub(), &s, version: 2, [0, 0, 0, 0]).ret == Errno.einval)  // too new
        #expect(cLoad(eng_vmsd_sub(), &s, version: 0, [0, 0, 0, 0]).ret == Errno.einval)  // too old
        let unknown = [0, 0, 0, 0, 0x05, 0x09] + ascii("eng-sub/q") + [0, 0, 0, 1]
        #expect(cLoad(eng_vmsd_sub(), &s, version: 1, unknown).ret == Errno.enoent)
        let short = cLoad(eng_vmsd_sub(), &s, version: 1, [0, 0])
        #expect(short.ret == Errno.eio && short.fileError == Errno.eio)
        var v = EngValidate()
        #expect(cLoad(eng_vmsd_validate(), &v, version: 1, [0, 0, 1, 0]).ret == -1)
        // A failed field also becomes the file's error, as QEMU's qemu_file_set_error(f, ret).
        var e = EngEqual(i32: 1, u8: 0, u16: 0, u32: 0, u64: 0, le: 0)
        let mismatch = cLoad(eng_vmsd_equal(), &e, version: 1, [0, 0, 0, 2] + [UInt8](repeating: 0, count: 19))
        #expect(mismatch.ret == Errno.einval && mismatch.fileError == Errno.einval)
    }

    @Test func saveNeeded() throws {
        var s = EngSub()
        #expect(vmstate_save_needed(eng_vmsd_sub(), &s))  // no needed function
        // A subsection's description with needed() answers through it.
        let subsections = try #require(eng_vmsd_sub().pointee.subsections)
        let x = try #require(subsections[0])
        #expect(!vmstate_save_needed(x, &s))
        s.need_x = true
        #expect(vmstate_save_needed(x, &s))
    }

    @Test func loadFromBytesSucceeds() throws {
        var d = EngInner()
        let r = cLoadFromBytes(eng_vmsd_inner(), &d, version: 1, [0x00, 0x07, 0x00, 0x00, 0x00, 0x08])
        #expect(r.ok && r.code == 0)
        #expect(d.a == 7 && d.b == 8)
    }

    @Test func loadFromBytesErrors() throws {
        var i = EngInner()
        let trailing = cLoadFromBytes(eng_vmsd_inner(), &i, version: 1, [0, 1, 0, 0, 0, 2, 0xEE])
        #expect(!trailing.ok)
        #expect(trailing.domain == vmstate_error_quark())
        #expect(trailing.code == code(VMSTATE_ERROR_FAILED))
        #expect(trailing.message.contains("byte 6"))

        let short = cLoadFromBytes(eng_vmsd_inner(), &i, version: 1, [0, 1, 0])
        #expect(short.code == code(VMSTATE_ERROR_SHORT_INPUT))
        #expect(short.message.contains("eng-inner/b"))
        #expect(short.message.contains("byte 2"))

        var s = EngSub()
        let tooNew = cLoadFromBytes(eng_vmsd_sub(), &s, version: 5, [0, 0, 0, 0])
        #expect(tooNew.code == code(VMSTATE_ERROR_VERSION_TOO_NEW))
        #expect(tooNew.message.contains("eng-sub"))
        let tooOld = cLoadFromBytes(eng_vmsd_sub(), &s, version: 0, [0, 0, 0, 0])
        #expect(tooOld.code == code(VMSTATE_ERROR_VERSION_TOO_OLD))
        let unknown = cLoadFromBytes(
            eng_vmsd_sub(), &s, version: 1, [0, 0, 0, 0, 0x05, 0x09] + ascii("eng-sub/q") + [0, 0, 0, 1])
        #expect(unknown.code == code(VMSTATE_ERROR_UNKNOWN_SUBSECTION))
        #expect(unknown.message.contains("eng-sub/q"))

        var e = EngEqual(i32: 1, u8: 0, u16: 0, u32: 0, u64: 0, le: 0)
        let mismatch = cLoadFromBytes(
            eng_vmsd_equal(), &e, version: 1, [0, 0, 0, 2] + [UInt8](repeating: 0, count: 19))
        #expect(mismatch.code == code(VMSTATE_ERROR_MISMATCH))
        #expect(mismatch.message.contains("eng-equal/i32"))
        #expect(mismatch.message.contains("hint-i32"))
        #expect(mismatch.message.contains("0x00000001") && mismatch.message.contains("0x00000002"))

        var n = EngNullptr()
        let marker = cLoadFromBytes(eng_vmsd_nullptr_load(), &n, version: 1, [0, 0x31, 0])
        #expect(marker.code == code(VMSTATE_ERROR_BAD_MARKER))

        var v = EngValidate()
        let validate = cLoadFromBytes(eng_vmsd_validate(), &v, version: 1, [0, 0, 1, 0])
        #expect(validate.code == code(VMSTATE_ERROR_MUST_EXIST))
        #expect(validate.message.contains("eng-validate/x below 100"))

        var h = EngHooks()
        h.pre_load_ret = -9
        let hook = cLoadFromBytes(eng_vmsd_hooks(), &h, version: 3, [0, 0, 0, 0])
        #expect(hook.code == code(VMSTATE_ERROR_HOOK_FAILED))

        var c = EngCustom()
        let field = cLoadFromBytes(eng_vmsd_custom(), &c, version: 1, [0, 0, 0, 0xCA, 0xFF])
        #expect(field.code == code(VMSTATE_ERROR_FIELD_FAILED))
        #expect(field.message.contains("eng-custom/w"))
    }

    /// Errors compare by their public properties: the QEMU 10.0 message a failed 10.0 save
    /// keeps for the C API does not make two otherwise equal errors differ.
    @Test func errorsCompareByTheirPublicProperties() {
        var a = VMStateError(.failed, path: "dev/x", offset: 3, reason: "put failed")
        let b = a
        a.qemuMessage = "Save of field dev/x failed: put failed"
        #expect(a == b)
        #expect(a != VMStateError(.failed, path: "dev/x", offset: 4, reason: "put failed"))
        #expect(a != VMStateError(.failed, path: "dev/x", offset: 3, reason: "put failed", errno: -5))
    }

    @Test func saveToBytesError() throws {
        var h = EngHooks()
        h.pre_save_ret = -4
        var error: UnsafeMutablePointer<GError>? = nil
        let out = vmstate_save_to_bytes(eng_vmsd_hooks(), &h, nil, &error)
        defer { g_clear_error(&error) }
        #expect(out == nil)
        let e = try #require(error)
        #expect(e.pointee.domain == vmstate_error_quark())
        #expect(e.pointee.code == code(VMSTATE_ERROR_HOOK_FAILED))
        #expect(String(cString: e.pointee.message).contains("pre_save"))
    }

    @Test func qemuFileAccessorsRoundTrip() throws {
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        let f = vmstate_file_new_output(out)!
        qemu_put_byte(f, 0x1FF)  // low 8 bits
        qemu_put_be16(f, 0x1234)
        qemu_put_be32(f, 0xDEAD_BEEF)
        qemu_put_be64(f, 0x0102_0304_0506_0708)
        qemu_put_sbe32(f, -2)
        qemu_put_counted_string(f, "ab")
        #expect(qemu_fclose(f) == 0)
        let expected: [UInt8] = [
            0xFF, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0xFF, 0xFF, 0xFE, 0x02, 0x61, 0x62,
        ]
        #expect(bytes(of: out) == expected)

        let input = gbytes(expected)
        defer { g_bytes_unref(input) }
        let g = vmstate_file_new_input(input)!
        #expect(qemu_peek_byte(g, 1) == 0x12)
        #expect(qemu_get_byte(g) == 0xFF)
        #expect(qemu_get_be16(g) == 0x1234)
        #expect(qemu_get_be32(g) == 0xDEAD_BEEF)
        #expect(qemu_get_be64(g) == 0x0102_0304_0506_0708)
        #expect(qemu_get_sbe32(g) == -2)
        qemu_file_skip(g, 1)
        #expect(qemu_get_byte(g) == 0x61)
        #expect(qemu_file_get_error(g) == 0)
        #expect(vmstate_file_remaining(g) == 1)
        #expect(qemu_get_byte(g) == 0x62)
        #expect(qemu_file_get_error(g) == 0)
        #expect(qemu_get_be32(g) == 0)  // past the end: zeros and -EIO
        #expect(qemu_file_get_error(g) == Errno.eio)
        #expect(qemu_fclose(g) == Errno.eio)
    }

    /// Counted strings: NULL is the empty string (a 0 length byte keeps a reader in step); more
    /// than 255 bytes writes nothing and sets -EINVAL (QEMU asserts; cut, it would load as
    /// another name). A write into an input file writes nothing and sets -EIO.
    @Test func qemuFileMisuseIsTheFilesError() throws {
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        let f = vmstate_file_new_output(out)!
        qemu_put_counted_string(f, nil)
        qemu_put_counted_string(f, String(repeating: "x", count: 255))
        #expect(qemu_file_get_error(f) == 0)
        qemu_put_counted_string(f, String(repeating: "y", count: 256))
        #expect(qemu_file_get_error(f) == -22)
        qemu_put_byte(f, 1)  // nothing after an error
        #expect(qemu_fclose(f) == -22)
        #expect(bytes(of: out) == [0, 255] + [UInt8](repeating: 0x78, count: 255))

        let input = gbytes([1, 2, 3])
        defer { g_bytes_unref(input) }
        let g = vmstate_file_new_input(input)!
        var s = EngValidate(x: 5)
        // (Its return is 0, as QEMU's vmstate_save_state does not look at the file's error.)
        #expect(vmstate_save_state(g, eng_vmsd_validate(), &s, nil) == 0)
        #expect(qemu_file_get_error(g) == Errno.eio)
        #expect(qemu_fclose(g) == Errno.eio)
    }

    // QEMU sets a QEMUFile's error on I/O errors and when vmstate_load_state fails inside a
    // field element (qemu_file_set_error(f, ret)); version checks, hooks, VMS_MUST_EXIST, an
    // unknown subsection, save failures and the standard infos' get/put leave it alone.

    @Test func aToleratedStandardGetFailureDoesNotFailTheLoad() throws {
        var d = EngTolerant(magic: 0x5A, after: 0, inner_ret: 0)
        try VMStateEngine.load(eng_vmsd_tolerant(), opaque: &d, from: [0x5B, 0x07])
        #expect(d.inner_ret == Errno.einval)
        #expect(d.after == 7)

        var c = EngTolerant(magic: 0x5A, after: 0, inner_ret: 0)
        // The load succeeds; the file's -EIO is QEMU's look for a subsection past the end of the
        // input (the device's bytes are all there is), not the tolerated failure.
        let r = cLoad(eng_vmsd_tolerant(), &c, version: 1, [0x5B, 0x07])
        #expect(r.ret == 0 && r.fileError == Errno.eio)
        let t = cLoad(eng_vmsd_tolerant(), &c, version: 1, [0x5B, 0x07, 0x1F])
        #expect(t.ret == 0 && t.fileError == 0 && t.remaining == 1)
        #expect(c.inner_ret == Errno.einval && c.after == 7)
    }

    @Test func aShortReadInsideAToleratingGetStillFails() throws {
        // The standard get ran past the end: -EIO is on the file, which the engine checks after
        // every element, whatever the custom get returned.
        var d = EngTolerant(magic: 0x5A, after: 0, inner_ret: 0)
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_tolerant(), opaque: &d, from: []) })
        #expect(e.kind == .shortInput)
        #expect(e.path == "eng-tolerant/magic")
        // QEMU's get_uint8_equal reads 0 past the end, which differs from 0x5A: -EINVAL.
        #expect(d.inner_ret == Errno.einval)
        var c = EngTolerant(magic: 0x5A, after: 0, inner_ret: 0)
        let r = cLoad(eng_vmsd_tolerant(), &c, version: 1, [])
        #expect(r.ret == Errno.eio && r.fileError == Errno.eio)
    }

    @Test func fileErrorOnlyWhereQEMUSetsIt() throws {
        var s = EngSub()
        let tooNew = cLoad(eng_vmsd_sub(), &s, version: 2, [0, 0, 0, 0])
        #expect(tooNew.ret == Errno.einval && tooNew.fileError == 0)
        let unknown = cLoad(
            eng_vmsd_sub(), &s, version: 1, [0, 0, 0, 0, 0x05, 0x09] + ascii("eng-sub/q") + [0, 0, 0, 1])
        #expect(unknown.ret == Errno.enoent && unknown.fileError == 0)
        var v = EngValidate()
        let validate = cLoad(eng_vmsd_validate(), &v, version: 1, [0, 0, 1, 0])
        #expect(validate.ret == -1 && validate.fileError == 0)
        var h = EngHooks()
        h.pre_load_ret = -9
        let hook = cLoad(eng_vmsd_hooks(), &h, version: 3, [0, 0, 0, 0])
        #expect(hook.ret == -9 && hook.fileError == 0)

        // A nested description's version failure happens inside the parent's field: set.
        var vs = EngVStruct()
        let nested = cLoad(eng_vmsd_vstruct_bad(), &vs, version: 1, [0, 1, 0, 0, 0, 2])
        #expect(nested.ret == Errno.einval && nested.fileError == Errno.einval)

        // Save failures are returned, not recorded on the file.
        var cu = EngCustom()
        cu.u24 = 0x0100_0000
        let save = cSave(eng_vmsd_custom(), &cu)
        #expect(save.ret == Errno.erange && save.fileError == 0)
    }
}
