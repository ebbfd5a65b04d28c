import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// The table "Results and the file's error" in docs/C-API.md, row by row: each row's case is run
/// through QEMU's API and its three columns (the return value, `qemu_file_get_error()` after the
/// call, `qemu_fclose()`) are compared with what happened. Every row has a case here and every
/// case a row, so the document and the code cannot drift apart.
@Suite struct QEMUResultTableTests {
    typealias Result = (ret: Int32, fileError: Int32, close: Int32)

    struct Row: CustomStringConvertible, Sendable {
        let name: String
        let ret: Int32
        let fileError: Int32
        let close: Int32
        var description: String { name }
    }

    static func errno(_ text: String) -> Int32? {
        switch text {
        case "-EIO": return -5
        case "-EINVAL": return -22
        case "-ENOENT": return -2
        case "-ERANGE": return -34
        default: return Int32(text)
        }
    }

    /// The rows of the table under "#### Results and the file's error".
    static func rows() throws -> [Row] {
        let text = try TestPaths.readText(TestPaths.packageRoot + "/docs/C-API.md")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let heading = lines.firstIndex(of: "#### Results and the file's error"),
            let header = lines[heading...].firstIndex(where: { $0.hasPrefix("| Case |") })
        else { return [] }
        var rows: [Row] = []
        for line in lines[(header + 2)...] {
            guard line.hasPrefix("|") else { break }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 4, let ret = errno(cells[1]), let fileError = errno(cells[2]),
                let close = errno(cells[3])
            else {
                rows.append(Row(name: "unreadable row: \(line)", ret: 0, fileError: 0, close: 0))
                continue
            }
            rows.append(Row(name: cells[0], ret: ret, fileError: fileError, close: close))
        }
        return rows
    }

    static func load(
        _ vmsd: UnsafePointer<VMStateDescription>, _ opaque: UnsafeMutableRawPointer, version: Int32, _ data: [UInt8]
    ) -> Result {
        let input = gbytes(data)
        defer { g_bytes_unref(input) }
        let f = vmstate_file_new_input(input)!
        let ret = vmstate_load_state(f, vmsd, opaque, version)
        let fileError = qemu_file_get_error(f)
        return (ret, fileError, qemu_fclose(f))
    }

    static func save(_ vmsd: UnsafePointer<VMStateDescription>, _ opaque: UnsafeMutableRawPointer) -> Result {
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        let f = vmstate_file_new_output(out)!
        let ret = vmstate_save_state(f, vmsd, opaque, nil)
        let fileError = qemu_file_get_error(f)
        return (ret, fileError, qemu_fclose(f))
    }

    static func hooks(_ set: (inout EngHooks) -> Void) -> EngHooks {
        var h = EngHooks()
        h.v = 0x0102_0304
        set(&h)
        return h
    }

    static let cases: [String: @Sendable () -> Result] = [
        "load: the state, then more input": {
            var d = EngSub()
            return load(eng_vmsd_sub(), &d, version: 1, [0, 0, 0, 1, 0x1F])
        },
        "load: the state and nothing after it": {
            var d = EngSub()
            return load(eng_vmsd_sub(), &d, version: 1, [0, 0, 0, 1])
        },
        "load: the state and nothing after it, the last field a struct": {
            var d = EngVStruct()
            return load(eng_vmsd_vstruct(), &d, version: 1, [0, 1, 0, 2, 0, 0, 0, 3])
        },
        "load: version above `version_id`": {
            var d = EngSub()
            return load(eng_vmsd_sub(), &d, version: 2, [0, 0, 0, 1, 0x1F])
        },
        "load: version below `minimum_version_id`": {
            var d = EngVersioned()
            return load(eng_vmsd_versioned(), &d, version: 0, [0x1F])
        },
        "load: `pre_load` returns -9": {
            var h = hooks { $0.pre_load_ret = -9 }
            return load(eng_vmsd_hooks(), &h, version: 3, [0, 0, 0, 1, 0x1F])
        },
        "load: `post_load` returns -42": {
            var h = hooks { $0.post_load_ret = -42 }
            return load(eng_vmsd_hooks(), &h, version: 3, [0, 0, 0, 1, 0x1F])
        },
        "load: a `VMSTATE_VALIDATE` test fails": {
            var d = EngValidate()
            return load(eng_vmsd_validate(), &d, version: 1, [0, 0, 0, 200, 0x1F])
        },
        "load: an unknown subsection": {
            var d = EngSub()
            return load(
                eng_vmsd_sub(), &d, version: 1, [0, 0, 0, 1, 0x05, 9] + ascii("eng-sub/q") + [0, 0, 0, 1, 7, 0x1F])
        },
        "load: a subsection's version above its `version_id`": {
            var d = EngSub()
            return load(
                eng_vmsd_sub(), &d, version: 1, [0, 0, 0, 1, 0x05, 9] + ascii("eng-sub/y") + [0, 0, 0, 2, 7, 0x1F])
        },
        "load: a struct in a field fails (its version is too new)": {
            var d = EngVStruct()
            return load(eng_vmsd_vstruct_bad(), &d, version: 1, [0, 1, 0, 0, 0, 2, 0x1F])
        },
        "load: a custom `get` returns -71": {
            var h = hooks { $0.get_ret = -71 }
            return load(eng_vmsd_hooks(), &h, version: 3, [0, 0, 0, 1, 0x1F])
        },
        "load: a custom `get` returns 3 (positive: the load goes on)": {
            // The get returns before reading: the rest is not a subsection, post_load runs.
            var h = hooks { $0.get_ret = 3 }
            return load(eng_vmsd_hooks(), &h, version: 3, [0, 0, 0, 1, 0x1F])
        },
        "load: `pre_load` returns 3": {
            var h = hooks { $0.pre_load_ret = 3 }
            return load(eng_vmsd_hooks(), &h, version: 3, [0, 0, 0, 1, 0x1F])
        },
        "load: a struct in a field whose `post_load` returns 3 (the load goes on)": {
            var p = EngHooksParent(h: hooks { $0.post_load_ret = 3 }, after: 0)
            let r = load(eng_vmsd_hooks_parent(), &p, version: 1, [0, 0, 0, 1, 7, 0x1F])
            return p.after == 7 ? r : (-1000, 0, 0)  // the field after the struct was loaded
        },
        "load: a struct in a field whose `post_load` returns -42": {
            var p = EngHooksParent(h: hooks { $0.post_load_ret = -42 }, after: 0)
            return load(eng_vmsd_hooks_parent(), &p, version: 1, [0, 0, 0, 1, 7, 0x1F])
        },
        "load: a custom `get` records -71 and returns 0": {
            var d = EngSetErr()
            d.get_error = -71
            return load(eng_vmsd_seterr(), &d, version: 1, [1, 2, 3, 0x1F])
        },
        "load: the input ends inside a field": {
            var d = EngSub()
            return load(eng_vmsd_sub(), &d, version: 1, [0, 0])
        },
        "load: the input ends inside an `_EQUAL` field whose zeros differ": {
            // i32 is -2 (0xfffffffe); QEMU reads ff ff 00 00.
            var d = EngEqual(i32: -2, u8: 0, u16: 0, u32: 0, u64: 0, le: 0)
            return load(eng_vmsd_equal(), &d, version: 1, [0xFF, 0xFF])
        },
        "load: the input ends before a NULL pointer's marker": {
            var d = EngNullptr()
            return load(eng_vmsd_nullptr_load(), &d, version: 1, [1])
        },
        "save: success": {
            var d = EngSub(a: 1, need_x: true, x: 2, need_y: false, y: 0)
            return save(eng_vmsd_sub(), &d)
        },
        "save: `pre_save` returns -13": {
            var h = hooks { $0.pre_save_ret = -13 }
            return save(eng_vmsd_hooks(), &h)
        },
        "save: `post_save` returns -7": {
            var h = hooks { $0.post_save_ret = -7 }
            return save(eng_vmsd_hooks(), &h)
        },
        "save: a custom `put` returns -71": {
            var h = hooks { $0.put_ret = -71 }
            return save(eng_vmsd_hooks(), &h)
        },
        "save: a custom `put` records -EIO and returns 0": {
            var d = EngSetErr(a: 1, mark: 2, b: 3, put_error: -5, get_error: 0)
            return save(eng_vmsd_seterr(), &d)
        },
        "save: a `VMS_MUST_EXIST` field is absent (QEMU 7.2 aborts)": {
            var d = EngValidate(x: 200)
            return save(eng_vmsd_validate(), &d)
        },
    ]

    @Test func everyRowHasACaseAndEveryCaseARow() throws {
        let names = try Self.rows().map(\.name)
        #expect(names.count == 26)
        #expect(Set(names) == Set(Self.cases.keys))
        #expect(Set(names).count == names.count)
    }

    @Test(arguments: try rows()) func theRowHolds(row: Row) throws {
        let run = try #require(Self.cases[row.name], "no case for the row \"\(row.name)\"")
        let r = run()
        #expect(r.ret == row.ret, "returns")
        #expect(r.fileError == row.fileError, "qemu_file_get_error()")
        #expect(r.close == row.close, "qemu_fclose()")
    }

    /// After a custom put recorded an error, QEMU writes nothing more; the one-call form fails
    /// rather than return the incomplete bytes.
    @Test func nothingIsWrittenAfterAPutRecordedAnError() throws {
        var d = EngSetErr(a: 1, mark: 2, b: 3, put_error: -5, get_error: 0)
        let r = cSave(eng_vmsd_seterr(), &d)
        #expect(r.ret == 0 && r.fileError == Errno.eio)
        #expect(r.bytes == [1, 0x4D])
        let e = try #require(engineError { _ = try VMStateEngine.save(eng_vmsd_seterr(), opaque: &d) })
        #expect(e.kind == .fieldFailed && e.errno == Errno.eio)
        #expect(
            e.description
                == "eng-seterr: the save recorded error -5 on the file; nothing was written after it (at byte 2)")
        var error: UnsafeMutablePointer<GError>? = nil
        #expect(vmstate_save_to_bytes(eng_vmsd_seterr(), &d, nil, &error) == nil)
        #expect(error?.pointee.code == code(VMSTATE_ERROR_FIELD_FAILED))
        g_clear_error(&error)

        var ok = EngSetErr(a: 1, mark: 2, b: 3, put_error: 0, get_error: 0)
        #expect(cSave(eng_vmsd_seterr(), &ok).bytes == [1, 0x4D, 3])
    }

    /// QEMU's peeks at the end of the input record -EIO, also on an empty input; a skip past
    /// the end does nothing.
    @Test func peeksPastTheEndRecordEIO() throws {
        let empty = gbytes([])
        defer { g_bytes_unref(empty) }
        let e = vmstate_file_new_input(empty)!
        #expect(qemu_peek_byte(e, 0) == 0)
        #expect(qemu_fclose(e) == Errno.eio)

        let input = gbytes([1, 2, 3])
        defer { g_bytes_unref(input) }
        let f = vmstate_file_new_input(input)!
        var p: UnsafeMutablePointer<UInt8>? = nil
        #expect(qemu_peek_buffer(f, &p, 3, 0) == 3 && qemu_file_get_error(f) == 0)
        qemu_file_skip(f, 4)
        #expect(vmstate_file_remaining(f) == 3)
        #expect(qemu_get_be16(f) == 0x0102)
        #expect(qemu_peek_buffer(f, &p, 2, 0) == 1 && p?.pointee == 3)
        #expect(qemu_file_get_error(f) == Errno.eio)
        #expect(qemu_fclose(f) == Errno.eio)

        // The one-call forms read an input that ends where the state ends: no error there.
        var d = EngVStruct()
        let r = cLoadFromBytes(eng_vmsd_vstruct(), &d, version: 1, [0, 1, 0, 2, 0, 0, 0, 3])
        #expect(r.ok && d.v2s.b == 3)
    }

    /// An error recorded on the file before a load fails the load at its first element, with
    /// that error (QEMU checks the file after each element).
    @Test func anErrorRecordedBeforeFailsTheNextLoad() throws {
        let input = gbytes([0, 0, 0, 1, 0x1F])
        defer { g_bytes_unref(input) }
        let f = vmstate_file_new_input(input)!
        qemu_file_set_error(f, -71)
        var d = EngSub()
        #expect(vmstate_load_state(f, eng_vmsd_sub(), &d, 1) == -71)
        #expect(d.a == 1)  // the element was read, then the check failed
        #expect(qemu_fclose(f) == -71)
    }
}
