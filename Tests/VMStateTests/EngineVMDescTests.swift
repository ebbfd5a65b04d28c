import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// The vmdesc JSON written during save (docs/FORMAT.md §4), compared as text with QEMU 7.2's exact format:
/// ", " between members, ": " after names, keys in QEMU's order.
@Suite struct EngineVMDescTests {
    let inner =
        #"{"vmsd_name": "eng-inner", "version": 1, "fields": [{"name": "a", "type": "uint16", "size": 2}, "#
        + #"{"name": "b", "type": "uint32", "size": 4}]}"#
    let innerSub =
        #"{"vmsd_name": "eng-inner-sub", "version": 1, "fields": [{"name": "a", "type": "uint16", "size": 2}, "#
        + #"{"name": "b", "type": "uint32", "size": 4}]}"#

    func descDevice(_ p0: UnsafeMutablePointer<EngInner>?, _ p1: UnsafeMutablePointer<EngInner>?) -> EngDesc {
        var d = EngDesc()
        d.dup = 1
        d.dup2 = 2
        d.arr = (3, 4, 5)
        d.idx = (6, 7)
        d.s = EngInner(a: 8, b: 9)
        d.sarr = (EngInner(a: 10, b: 11), EngInner(a: 12, b: 13))
        d.tarr = (EngInner(a: 14, b: 15), EngInner(a: 16, b: 17))
        d.vs = EngVInner(a: 18, b: 19)
        d.parr = (p0, p1)
        d.sub = 22
        return d
    }

    @Test func duplicatesArraysIndexesStructsVStructAndSubsections() throws {
        let p = cArray([EngInner(a: 20, b: 21)])
        defer { p.deallocate() }
        var d = descDevice(p, nil)
        let (bytes, json) = try vmdescJSON(eng_vmsd_desc(), &d)

        let fields = [
            #"{"name": "dup[0]", "type": "uint8", "size": 1}"#,
            #"{"name": "dup[1]", "type": "uint8", "size": 1}"#,
            #"{"name": "unused[0]", "type": "unused_buffer", "size": 2}"#,
            #"{"name": "unused[1]", "type": "unused_buffer", "size": 1}"#,
            #"{"name": "arr", "array_len": 3, "type": "uint16", "size": 2}"#,
            #"{"name": "idx", "index": 0, "type": "uint32", "size": 4}"#,
            #"{"name": "idx", "index": 1, "type": "uint32", "size": 4}"#,
            #"{"name": "s", "type": "struct", "struct": "# + inner + #", "size": 6}"#,
            #"{"name": "sarr", "array_len": 2, "type": "struct", "struct": "# + inner + #", "size": 6}"#,
            #"{"name": "tarr", "index": 0, "type": "struct", "struct": "# + innerSub + #", "size": 6}"#,
            #"{"name": "tarr", "index": 1, "type": "struct", "struct": "# + innerSub + #", "size": 6}"#,
            #"{"name": "vs", "type": "vstruct", "vmsd_name": "eng-vinner", "version": 1, "fields": "#
                + #"[{"name": "a", "type": "uint16", "size": 2}], "size": 2}"#,
            #"{"name": "parr", "array_len": 2, "type": "struct", "struct": "# + inner + #", "size": 6}"#,
        ]
        let expected =
            #"{"vmsd_name": "eng-desc", "version": 1, "fields": ["# + fields.joined(separator: ", ")
            + #"], "subsections": [{"vmsd_name": "eng-desc/sub", "version": 1, "fields": "#
            + #"[{"name": "sub", "type": "uint8", "size": 1}]}]}"#
        #expect(json == expected)

        let expectedBytes: [UInt8] =
            [0x01, 0x02, 0x00, 0x00, 0x00]  // dup, dup, unused (2), unused (1)
            + [0x00, 0x03, 0x00, 0x04, 0x00, 0x05]  // arr
            + [0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x07]  // idx
            + [0x00, 0x08, 0x00, 0x00, 0x00, 0x09]  // s
            + [0x00, 0x0A, 0x00, 0x00, 0x00, 0x0B, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x0D]  // sarr
            + [0x00, 0x0E, 0x00, 0x00, 0x00, 0x0F, 0x00, 0x10, 0x00, 0x00, 0x00, 0x11]  // tarr
            + [0x00, 0x12]  // vs at version 1
            + [0x00, 0x14, 0x00, 0x00, 0x00, 0x15, 0x30]  // parr
            + [0x05, 0x0C] + ascii("eng-desc/sub") + [0x00, 0x00, 0x00, 0x01, 0x16]
        #expect(bytes == expectedBytes)
        // Describing does not change what is written.
        #expect(try save(eng_vmsd_desc(), &d) == expectedBytes)
    }

    /// A 0-element array writes nothing to the vmdesc, not even a separator, wherever it sits
    /// among fields described one by one (QEMU 7.2's vmstate.c; it once left `[, `, `, , ` and
    /// `, ]`, which no JSON reader takes).
    @Test func zeroElementArraysLeaveNoSeparator() throws {
        var d = descDevice(nil, nil)
        let (bytes, json) = try vmdescJSON(eng_vmsd_desc_empty(), &d)
        #expect(bytes == [0, 0, 0, 6, 0, 0, 0, 7, 1])
        let expected =
            #"{"vmsd_name": "eng-desc-empty", "version": 1, "fields": ["#
            + #"{"name": "idx", "index": 0, "type": "uint32", "size": 4}, "#
            + #"{"name": "idx", "index": 1, "type": "uint32", "size": 4}, "#
            + #"{"name": "dup", "type": "uint8", "size": 1}]}"#
        #expect(json == expected)
    }

    @Test func nullFirstEntryOfACompressedPointerArray() throws {
        let p = cArray([EngInner(a: 20, b: 21)])
        defer { p.deallocate() }
        var d = descDevice(nil, p)
        let (_, json) = try vmdescJSON(eng_vmsd_desc(), &d)
        // QEMU opens the "struct" object, writes the 0x30 marker (1 byte) and closes it.
        #expect(json.contains(#"{"name": "parr", "array_len": 2, "type": "struct", "struct": {}, "size": 1}]"#))
    }

    @Test func standardTypeNames() throws {
        var s = EngScalars()
        let (_, scalars) = try vmdescJSON(eng_vmsd_scalars(), &s)
        #expect(
            scalars
                == #"{"vmsd_name": "eng-scalars", "version": 1, "fields": ["#
                + #"{"name": "b", "type": "bool", "size": 1}, {"name": "i8", "type": "int8", "size": 1}, "#
                + #"{"name": "i16", "type": "int16", "size": 2}, {"name": "i32", "type": "int32", "size": 4}, "#
                + #"{"name": "i64", "type": "int64", "size": 8}, {"name": "u8", "type": "uint8", "size": 1}, "#
                + #"{"name": "u16", "type": "uint16", "size": 2}, {"name": "u32", "type": "uint32", "size": 4}, "#
                + #"{"name": "u64", "type": "uint64", "size": 8}, {"name": "d", "type": "CPU_Double_U", "size": 8}]}"#)

        var e = EngEqual()
        let (_, equal) = try vmdescJSON(eng_vmsd_equal(), &e)
        #expect(
            equal
                == #"{"vmsd_name": "eng-equal", "version": 1, "fields": ["#
                + #"{"name": "i32", "type": "int32 equal", "size": 4}, "#
                + #"{"name": "u8", "type": "uint8 equal", "size": 1}, "#
                + #"{"name": "u16", "type": "uint16 equal", "size": 2}, "#
                + #"{"name": "u32", "type": "uint32 equal", "size": 4}, "#
                + #"{"name": "u64", "type": "int64 equal", "size": 8}, "#
                + #"{"name": "le", "type": "int32 le", "size": 4}]}"#)
    }

    @Test func variableArraysAndBuffers() throws {
        let vi32 = cArray([UInt32(1), 2])
        let vu32 = cArray([UInt64(3), 4])
        defer { vi32.deallocate(); vu32.deallocate() }
        var d = EngFlags()
        d.vi32_n = 2
        d.vi32 = vi32
        d.ui32_n = 3
        d.vu8_n = 2
        d.vu16_n = 1
        d.vu32_n = 2
        d.vu32 = vu32
        d.su32_n = 1
        let (_, json) = try vmdescJSON(eng_vmsd_varray(), &d)
        let fields = [
            #"{"name": "vi32_n", "type": "int32", "size": 4}"#,
            #"{"name": "vi32", "array_len": 2, "type": "uint32", "size": 4}"#,
            #"{"name": "ui32_n", "type": "int32", "size": 4}"#,
            #"{"name": "ui32_inline", "array_len": 3, "type": "int16", "size": 2}"#,
            #"{"name": "vu8_n", "type": "uint8", "size": 1}"#,
            #"{"name": "vu8", "array_len": 2, "type": "struct", "struct": "# + inner + #", "size": 6}"#,
            #"{"name": "vu16_n", "type": "uint16", "size": 2}"#,
            #"{"name": "vu16", "type": "uint16", "size": 2}"#,  // one element: no array_len
            #"{"name": "vu32_n", "type": "uint32", "size": 4}"#,
            #"{"name": "vu32", "array_len": 2, "type": "uint64", "size": 8}"#,
            #"{"name": "su32_n", "type": "uint32", "size": 4}"#,
            #"{"name": "su32", "type": "struct", "struct": "# + inner + #", "size": 6}"#,
        ]
        #expect(
            json == #"{"vmsd_name": "eng-varray", "version": 1, "fields": ["# + fields.joined(separator: ", ") + "]}")

        // Zero elements: the field is not described at all.
        var z = EngFlags()
        let (_, zero) = try vmdescJSON(eng_vmsd_varray(), &z)
        #expect(!zero.contains(#""name": "vi32""#) && !zero.contains(#""name": "su32""#))
        #expect(zero.contains(#"{"name": "su32_n", "type": "uint32", "size": 4}]}"#))

        let vbuf = cArray([UInt8(9), 8, 7])
        let vbm = cArray([UInt8](repeating: 1, count: 6))
        let vbu = cArray([UInt8(0x42)])
        let praw = cArray([UInt8(0xAA), 0xBB])
        defer { vbuf.deallocate(); vbm.deallocate(); vbu.deallocate(); praw.deallocate() }
        var b = EngFlags()
        b.vbuf_len = 3
        b.vbuf = vbuf
        b.vbm_len = 2
        b.vbm = vbm
        b.vbu_len = 1
        b.vbu = vbu
        b.praw = praw
        let (_, buffers) = try vmdescJSON(eng_vmsd_vbuffer(), &b)
        #expect(
            buffers
                == #"{"vmsd_name": "eng-vbuffer", "version": 1, "fields": ["#
                + #"{"name": "vbuf_len", "type": "int32", "size": 4}, {"name": "vbuf", "type": "buffer", "size": 3}, "#
                + #"{"name": "vbm_len", "type": "uint32", "size": 4}, {"name": "vbm", "type": "buffer", "size": 6}, "#
                + #"{"name": "vbu_len", "type": "uint32", "size": 4}, {"name": "vbu", "type": "buffer", "size": 1}, "#
                + #"{"name": "praw", "type": "buffer", "size": 2}]}"#)
    }

    @Test func nestedStructWithItsOwnSubsection() throws {
        var d = EngOuter(v: 1, in: EngIn(p: 2, q: 3), w: 4)
        let (_, json) = try vmdescJSON(eng_vmsd_outer(), &d)
        #expect(
            json
                == #"{"vmsd_name": "eng-outer", "version": 1, "fields": [{"name": "v", "type": "uint8", "size": 1}, "#
                + #"{"name": "in", "type": "struct", "struct": {"vmsd_name": "eng-in", "version": 1, "fields": "#
                + #"[{"name": "p", "type": "uint8", "size": 1}], "subsections": [{"vmsd_name": "eng-in/q", "#
                + #""version": 1, "fields": [{"name": "q", "type": "uint8", "size": 1}]}]}, "size": 16}], "#
                + #""subsections": [{"vmsd_name": "eng-outer/w", "version": 1, "fields": "#
                + #"[{"name": "w", "type": "uint8", "size": 1}]}]}"#)
    }

    @Test func customInfosTmpAndTimers() throws {
        var c = EngCustom()
        c.w = EngInner(a: 1, b: 2)
        let (_, custom) = try vmdescJSON(eng_vmsd_custom(), &c)
        // The recursing info passes the writer to vmstate_save_state: eng-inner's keys go straight
        // into the field's object.
        #expect(
            custom
                == #"{"vmsd_name": "eng-custom", "version": 1, "fields": ["#
                + #"{"name": "u24", "type": "eng-be24", "size": 3}, "#
                + #"{"name": "w", "type": "eng-wrapped", "vmsd_name": "eng-inner", "version": 1, "fields": "#
                + #"[{"name": "a", "type": "uint16", "size": 2}, {"name": "b", "type": "uint32", "size": 4}], "#
                + #""size": 8}, {"name": "name", "type": "eng-name", "size": 1}]}"#)

        var t = EngTmpParent()
        let (_, tmp) = try vmdescJSON(eng_vmsd_tmp(), &t)
        #expect(
            tmp
                == #"{"vmsd_name": "eng-tmp", "version": 1, "fields": [{"name": "tmp", "type": "tmp", "#
                + #""vmsd_name": "eng-tmp-scratch", "version": 0, "fields": ["#
                + #"{"name": "combined", "type": "uint64", "size": 8}, "#
                + #"{"name": "limit", "type": "uint32 equal", "size": 4}], "size": 12}]}"#)

        let five = newTimer(expire: 5)
        defer { five.deallocate() }
        var tm = EngTimers()
        vmstate_timer_init(&tm.t, nil, nil)
        tm.tp = five
        tm.arr = (five, nil, nil)
        let (_, timers) = try vmdescJSON(eng_vmsd_timers(), &tm)
        #expect(
            timers
                == #"{"vmsd_name": "eng-timers", "version": 1, "fields": ["#
                + #"{"name": "t", "type": "timer", "size": 8}, {"name": "tp", "type": "timer", "size": 8}, "#
                + #"{"name": "arr", "array_len": 3, "type": "timer", "size": 8}]}"#)
    }

    @Test func qtailqElementsDescribeThemselvesIntoTheFieldObject() throws {
        var d = EngQDev()
        eng_qdev_init(&d)
        defer { eng_qdev_free(&d) }
        d.tag = 1
        eng_qdev_append(&d, 1, 2)
        eng_qdev_append(&d, 3, 4)
        let (_, json) = try vmdescJSON(eng_vmsd_qdev(), &d)
        // As QEMU's put_qtailq: each element's description keys are written into the same object.
        let element =
            #""vmsd_name": "eng-qelem", "version": 1, "fields": [{"name": "v", "type": "uint32", "size": 4}, "#
            + #"{"name": "w", "type": "uint16", "size": 2}]"#
        #expect(
            json
                == #"{"vmsd_name": "eng-qdev", "version": 1, "fields": [{"name": "tag", "type": "uint8", "size": 1}, "#
                + #"{"name": "q", "type": "qtailq", "# + element + ", " + element + #", "size": 15}]}"#)
    }

    @Test func oneCallSaveReturnsTheWholeObject() throws {
        var d = EngValidate(x: 5)
        var json: UnsafeMutablePointer<CChar>? = nil
        var error: UnsafeMutablePointer<GError>? = nil
        let out = try #require(vmstate_save_to_bytes(eng_vmsd_validate(), &d, &json, &error))
        defer { g_byte_array_unref(out); g_free(json) }
        #expect(error == nil)
        #expect(bytes(of: out) == [0x00, 0x00, 0x00, 0x05])
        // VMSTATE_VALIDATE has no elements, so it is not described.
        #expect(
            String(cString: try #require(json))
                == #"{"vmsd_name": "eng-validate", "version": 1, "fields": [{"name": "x", "type": "uint32", "size": 4}]}"#
        )
    }

    @Test func cWriterPassedToVmstateSaveState() throws {
        var d = EngValidate(x: 5)
        let w = try #require(json_writer_new(false))
        defer { json_writer_free(w) }
        json_writer_start_object(w, nil)
        let r = cSave(eng_vmsd_validate(), &d, vmdesc: w)
        json_writer_end_object(w)
        #expect(r.ret == 0)
        #expect(
            String(cString: try #require(json_writer_get(w)))
                == #"{"vmsd_name": "eng-validate", "version": 1, "fields": [{"name": "x", "type": "uint32", "size": 4}]}"#
        )
    }

    /// Strings and names are escaped from their bytes as QEMU's `quoted_str` does after
    /// `mod_utf8_codepoint` (util/unicode.c): one U+FFFD per invalid sequence, ending before
    /// the byte that does not continue it, and for overlong forms, surrogates, noncharacters
    /// and values past U+10FFFF; `C0 80` is U+0000.
    @Test func cStringsAreEscapedFromTheirBytesAsQEMUDoes() throws {
        let cases: [([UInt8], String)] = [
            (Array("a\"b\\c\u{08}\u{0C}\n\r\t\u{01}\u{7F}~".utf8), #"a\"b\\c\b\f\n\r\t\u0001\u007F~"#),
            ([0x61, 0xC0, 0x80, 0x62], #"a\u0000b"#),  // modified UTF-8's NUL
            ([0xC3, 0xA9], #"\u00E9"#),  // é
            ([0xF0, 0x9F, 0x98, 0x80], #"\uD83D\uDE00"#),  // U+1F600: a surrogate pair
            ([0xEF, 0xBF, 0xBE], #"\uFFFD"#),  // U+FFFE, a noncharacter
            ([0xEF, 0xB7, 0x90], #"\uFFFD"#),  // U+FDD0, a noncharacter
            ([0xF4, 0x8F, 0xBF, 0xBF], #"\uFFFD"#),  // U+10FFFF, a noncharacter
            ([0xC0, 0xAF], #"\uFFFD"#),  // overlong "/": one character
            ([0xED, 0xA0, 0x80], #"\uFFFD"#),  // a surrogate
            ([0xF4, 0x90, 0x80, 0x80], #"\uFFFD"#),  // past U+10FFFF
            ([0xF8, 0x88, 0x80, 0x80, 0x80], #"\uFFFD"#),  // a 5-byte form
            ([0xE2, 0x82, 0x78], #"\uFFFDx"#),  // cut before its third byte
            ([0x80, 0xFF, 0xFE, 0x41], #"\uFFFD\uFFFD\uFFFDA"#),
        ]
        for (bytes, escaped) in cases {
            let w = try #require(json_writer_new(false))
            defer { json_writer_free(w) }
            let text = bytes.map { CChar(bitPattern: $0) } + [0]
            json_writer_start_object(w, nil)
            json_writer_str(w, text, text)
            json_writer_end_object(w)
            #expect(String(cString: try #require(json_writer_get(w))) == "{\"\(escaped)\": \"\(escaped)\"}", "\(bytes)")
        }
    }

    /// An `end` that does not close the innermost open container (none open, or one of the
    /// other kind) writes nothing and logs a GLib critical of the domain "swift-vmstate" (QEMU
    /// asserts; a Swift trap without a message was the result here).
    @Test func anUnbalancedEndIsIgnoredWithACritical() throws {
        final class Messages { var list: [String] = [] }
        let messages = Messages()
        let box = Unmanaged.passUnretained(messages).toOpaque()
        let id = g_log_set_handler(
            "swift-vmstate", GLogLevelFlags(G_LOG_LEVEL_CRITICAL.rawValue),
            { _, _, message, user in
                guard let message, let user else { return }
                Unmanaged<Messages>.fromOpaque(user).takeUnretainedValue().list.append(String(cString: message))
            }, box)
        defer { g_log_remove_handler("swift-vmstate", id) }
        let w = try #require(json_writer_new(false))
        defer { json_writer_free(w) }
        json_writer_end_object(w)
        json_writer_start_array(w, nil)
        json_writer_end_object(w)
        json_writer_int64(w, nil, 1)
        json_writer_end_array(w)
        json_writer_end_array(w)
        #expect(String(cString: try #require(json_writer_get(w))) == "[1]")
        #expect(
            messages.list == [
                "json_writer_end_object: no object is open (call ignored)",
                "json_writer_end_object: the innermost open container is an array (call ignored)",
                "json_writer_end_array: no array is open (call ignored)",
            ])
    }

    @Test func olderVersionThroughSaveStateV() throws {
        var d = EngVersioned()
        d.has_d = true
        let w = try #require(json_writer_new(false))
        defer { json_writer_free(w) }
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        let f = vmstate_file_new_output(out)!
        json_writer_start_object(w, nil)
        #expect(vmstate_save_state_v(f, eng_vmsd_versioned(), &d, w, 1) == 0)
        json_writer_end_object(w)
        #expect(qemu_fclose(f) == 0)
        #expect(
            String(cString: try #require(json_writer_get(w)))
                == #"{"vmsd_name": "eng-versioned", "version": 1, "fields": ["#
                + #"{"name": "a", "type": "uint32", "size": 4}, {"name": "c", "type": "uint16", "size": 2}, "#
                + #"{"name": "has_d", "type": "bool", "size": 1}, {"name": "d", "type": "uint8", "size": 1}]}"#)
        #expect(bytes(of: out).count == 8)
    }
}
