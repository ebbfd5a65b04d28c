// QEMU 10.0's device-facing C API (VMSTATE_QEMU_API 1000) on Tests/CFixtures/qemu10/fx_qemu10.c,
// a device written as a QEMU 10.0 author writes it. Expected bytes and vmdesc are computed by
// hand from QEMU 10.0's migration/vmstate.c rules (docs/C-API.md, "The QEMU 10.0 API"). They
// were also compared, outside the repository, with what QEMU 10.0.13's own migration/vmstate.c
// gives for the same fixture file compiled against QEMU 10.0's headers: the device's bytes and
// vmdesc, the 20 arrays-of-pointers patterns, the save failures QEMU survives and every load
// case here are the same. QEMU 10.0 crashes on FX10_PUT_POSITIVE and FX10_STRUCT_FAILS with an
// errp (SIGSEGV in error_prepend) and aborts on FX10_VSTRUCT_FAILS with a vmdesc (its JSON
// writer asserts on the containers the failed inner save left open; without a vmdesc it gives
// the message tested here).

import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

private func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(hex(UInt64($0), width: 1).dropFirst(2)) }.joined()
}

private func bytes(fromHex text: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        out.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return out
}

/// A fixture save through the QEMU 10.0 C API.
private struct Fx10Saved {
    var ret: Int32
    var hex: String
    var vmdesc: String
    var error: String?
    var fileError: Int32
}

private func fx10Save(_ which: Fx10Case, errp: Bool = true) -> Fx10Saved {
    var out: UnsafeMutablePointer<GByteArray>?
    var vmdesc: UnsafeMutablePointer<CChar>?
    var error: UnsafeMutablePointer<CChar>?
    var fileError: Int32 = 0
    let ret = fx10_save_case(which, errp, &out, &vmdesc, &error, &fileError)
    defer {
        g_byte_array_unref(out)
        g_free(vmdesc)
        g_free(error)
    }
    let data = Array(UnsafeBufferPointer(start: out!.pointee.data, count: Int(out!.pointee.len)))
    return Fx10Saved(
        ret: ret, hex: hexString(data), vmdesc: String(cString: vmdesc!), error: error.map { String(cString: $0) },
        fileError: fileError)
}

/// A fixture load through QEMU 10.0's (or 7.2's) vmstate_load_state: (ret, file error, bytes left).
private func fx10Load(_ which: Fx10Case, hex: String, version: Int32 = 1, api72: Bool = false)
    -> (ret: Int32, fileError: Int32, remaining: Int)
{
    let input = bytes(fromHex: hex)
    var fileError: Int32 = 0
    var remaining = 0
    let ret = input.withUnsafeBufferPointer { buffer in
        api72
            ? fx10_load_case_72(which, buffer.baseAddress, buffer.count, version, &fileError, &remaining)
            : fx10_load_case(which, buffer.baseAddress, buffer.count, version, &fileError, &remaining)
    }
    return (ret, fileError, remaining)
}

private func fx10Pattern(_ pattern: String, compressible: Bool) -> (ret: Int32, hex: String, vmdesc: String) {
    var out: UnsafeMutablePointer<GByteArray>?
    var vmdesc: UnsafeMutablePointer<CChar>?
    let ret = fx10_save_pattern(pattern, compressible, &out, &vmdesc)
    defer {
        g_byte_array_unref(out)
        g_free(vmdesc)
    }
    let data = Array(UnsafeBufferPointer(start: out!.pointee.data, count: Int(out!.pointee.len)))
    return (ret, hexString(data), String(cString: vmdesc!))
}

private func summary() -> String {
    let text = fx10_device_summary()!
    defer { g_free(text) }
    return String(cString: text)
}

// The wire bytes of the device (fx10_device_reset), field by field.
private let deviceHex =
    "a1b2c3d4"  // id
    + "010203040506"  // regs[3]
    + "8000000000000001" + "000000000000003f"  // bitmap (70 bits: 2 be64 words)
    + "0042"  // tmp: level 0x21 doubled
    // (fd: its VMSTATE_FD_TEST is false)
    + "00000011" + "30" + "30" + "00000044"  // ptrs: P N N P
    + "30" + "00000022" + "0509656c656d7375622f73" + "00000001" + "00000022" + "30"  // sub_ptrs: N P N
    + "00000055" + "0509656c656d7375622f73" + "00000001" + "00000055"  // pair[0]
    + "00000066" + "0509656c656d7375622f73" + "00000001" + "00000066"  // pair[1]
    + "050c" + "7131306465762f6578747261" + "00000001" + "deadbeef"  // subsection q10dev/extra

private let elemStruct =
    #""struct": {"vmsd_name": "elem", "version": 1, "fields": [{"name": "v", "type": "uint32", "size": 4}]}"#
private let elemsubStruct =
    #""struct": {"vmsd_name": "elemsub", "version": 1, "fields": [{"name": "v", "type": "uint32", "size": 4}], "subsections": [{"vmsd_name": "elemsub/s", "version": 1, "fields": [{"name": "v", "type": "uint32", "size": 4}]}]}"#

private let deviceHead =
    #"{"vmsd_name": "q10dev", "version": 1, "fields": [{"name": "id", "type": "uint32", "size": 4}, "#
    + #"{"name": "regs", "array_len": 3, "type": "uint16", "size": 2}, "#
    + #"{"name": "bitmap", "type": "bitmap", "size": 16}, "#
    + #"{"name": "tmp", "type": "tmp", "vmsd_name": "q10_tmp", "version": 0, "fields": [{"name": "doubled", "type": "uint16", "size": 2}], "size": 2}, "#
private let deviceTail =
    #"], "subsections": [{"vmsd_name": "q10dev/extra", "version": 1, "fields": [{"name": "extra", "type": "uint32", "size": 4}]}]}"#

/// QEMU 10.0's vmdesc of the device: the P N N P array split in three segments (the first with
/// the whole array's array_len, QEMU 10.0's over-count), the N P N array of a non-compressible
/// struct as three entries, and the last element of `pair` without "index".
private let deviceVMDesc10 =
    deviceHead
    + #"{"name": "ptrs", "array_len": 4, "type": "struct", \#(elemStruct), "size": 4}, "#
    + #"{"name": "ptrs", "array_len": 2, "type": "nullptr", "size": 1}, "#
    + #"{"name": "ptrs", "type": "struct", \#(elemStruct), "size": 4}, "#
    + #"{"name": "sub_ptrs", "type": "nullptr", "size": 1}, "#
    + #"{"name": "sub_ptrs", "type": "struct", \#(elemsubStruct), "size": 23}, "#
    + #"{"name": "sub_ptrs", "type": "nullptr", "size": 1}, "#
    + #"{"name": "pair", "index": 0, "type": "struct", \#(elemsubStruct), "size": 23}, "#
    + #"{"name": "pair", "type": "struct", \#(elemsubStruct), "size": 23}"#
    + deviceTail

/// QEMU 7.2's vmdesc of the same table: a compressible array described by its first element
/// only, NULL entries of the non-compressible array as empty structs, every index written.
private let deviceVMDesc72 =
    deviceHead
    + #"{"name": "ptrs", "array_len": 4, "type": "struct", \#(elemStruct), "size": 4}, "#
    + #"{"name": "sub_ptrs", "index": 0, "type": "struct", "struct": {}, "size": 1}, "#
    + #"{"name": "sub_ptrs", "index": 1, "type": "struct", \#(elemsubStruct), "size": 23}, "#
    + #"{"name": "sub_ptrs", "index": 2, "type": "struct", "struct": {}, "size": 1}, "#
    + #"{"name": "pair", "index": 0, "type": "struct", \#(elemsubStruct), "size": 23}, "#
    + #"{"name": "pair", "index": 1, "type": "struct", \#(elemsubStruct), "size": 23}"#
    + deviceTail

private let resetSummary =
    "id=a1b2c3d4 regs=0102,0304,0506 bitmap=8000000000000001,000000000000003f level=33 ptrs=11,N,N,44 "
    + "sub_ptrs=N,22,N pair=55,66 extra=deadbeef"

@Suite("QEMU 10.0 API", .serialized)
struct QEMU10APITests {
    @Test("the 10.0 device saves QEMU's bytes and QEMU 10.0's vmdesc through vmstate_save_state_with_err")
    func deviceSave() {
        let saved = fx10Save(FX10_DEVICE)
        #expect(saved.ret == 0)
        #expect(saved.error == nil)
        #expect(saved.fileError == 0)
        #expect(saved.hex == deviceHex)
        #expect(saved.vmdesc == deviceVMDesc10)
    }

    @Test("vmstate_save_state (10.0, no errp) gives the same bytes and vmdesc")
    func deviceSaveWithoutErrp() {
        let saved = fx10Save(FX10_DEVICE, errp: false)
        #expect(saved.ret == 0)
        #expect(saved.hex == deviceHex)
        #expect(saved.vmdesc == deviceVMDesc10)
    }

    @Test("the same table through the 7.2 API: the same bytes, QEMU 7.2's vmdesc")
    func deviceSave72() throws {
        fx10_device_reset()
        let writer = VMDescWriter()
        writer.startObject()
        let data = try VMStateEngine.save(fx10_device_vmsd(), opaque: fx10_device_state(), vmdesc: writer)
        writer.endObject()
        #expect(hexString(data) == deviceHex)
        #expect(writer.string == deviceVMDesc72)
    }

    @Test("VMStateEngine.save with the QEMU 10.0 dialect writes what the 10.0 C API writes")
    func swiftDialect() throws {
        fx10_device_reset()
        let writer = VMDescWriter()
        writer.startObject()
        let data = try VMStateEngine.save(
            fx10_device_vmsd(), opaque: fx10_device_state(), vmdesc: writer, dialect: .qemu10_0)
        writer.endObject()
        #expect(hexString(data) == deviceHex)
        #expect(writer.string == deviceVMDesc10)
    }

    @Test("vmstate_save_to_bytes of a 10.0 file writes 10.0's vmdesc; the 7.2 symbol 7.2's")
    func saveToBytes() throws {
        fx10_device_reset()
        for (v1000, want) in [(true, deviceVMDesc10), (false, deviceVMDesc72)] {
            var json: UnsafeMutablePointer<CChar>?
            var error: UnsafeMutablePointer<GError>?
            let out =
                v1000
                ? vmstate_save_to_bytes_v1000(fx10_device_vmsd(), fx10_device_state(), &json, &error)
                : vmstate_save_to_bytes(fx10_device_vmsd(), fx10_device_state(), &json, &error)
            let array = try #require(out)
            defer {
                g_byte_array_unref(array)
                g_free(json)
            }
            #expect(error == nil)
            #expect(
                hexString(Array(UnsafeBufferPointer(start: array.pointee.data, count: Int(array.pointee.len))))
                    == deviceHex)
            #expect(json.map { String(cString: $0) } == want)
        }
    }

    @Test("the 10.0 device loads its bytes back (vmstate_load_state, 10.0)")
    func deviceLoad() {
        let loaded = fx10Load(FX10_DEVICE, hex: deviceHex + "00")  // a byte after the state: no look past the end
        #expect(loaded.ret == 0)
        #expect(loaded.fileError == 0)
        #expect(loaded.remaining == 1)
        #expect(summary() == resetSummary)
    }

    @Test(
        "arrays of pointers with NULL entries: QEMU 10.0's bytes and vmdesc, 20 patterns",
        arguments: [
            "PP", "PPP", "PPNP", "NNP", "PN", "NPN", "NN", "PNNP", "NNNN", "PNPN",
        ])
    func pointerPatterns(_ pattern: String) {
        let elem = elemStruct
        let sub = elemsubStruct
        func t(_ prefix: String, _ size: Int, _ s: String) -> String {
            #"{"name": "p", \#(prefix)"type": "struct", \#(s), "size": \#(size)}"#
        }
        func n(_ prefix: String = "") -> String { #"{"name": "p", \#(prefix)"type": "nullptr", "size": 1}"# }
        let c = { (l: Int) in #""array_len": \#(l), "# }
        let i = { (k: Int) in #""index": \#(k), "# }
        // (compressible bytes, compressible fields, not-compressible fields); not-compressible
        // bytes follow from the compressible ones (each element gets its "elemsub/s" subsection).
        let expected: [String: (String, [String], [String])] = [
            "PP": ("0000001100000022", [t(c(2), 4, elem)], [t(i(0), 23, sub), t("", 23, sub)]),
            "PPP": (
                "000000110000002200000033", [t(c(3), 4, elem)], [t(i(0), 23, sub), t(i(1), 23, sub), t("", 23, sub)]
            ),
            "PPNP": (
                "00000011000000223000000044", [t(c(4), 4, elem), n(), t("", 4, elem)],
                [t(i(0), 23, sub), t(i(1), 23, sub), n(), t("", 23, sub)]
            ),
            "NNP": ("303000000033", [n(c(2)), t("", 4, elem)], [n(c(2)), n(c(2)), t("", 23, sub)]),
            "PN": ("0000001130", [t(c(2), 4, elem), n()], [t(i(0), 23, sub), n()]),
            "NPN": ("300000002230", [n(), t("", 4, elem), n()], [n(), t("", 23, sub), n()]),
            "NN": ("3030", [n(c(2))], [n(c(2)), n()]),
            "PNNP": (
                "00000011303000000044", [t(c(4), 4, elem), n(c(2)), t("", 4, elem)],
                [t(i(0), 23, sub), n(c(2)), n(c(2)), t("", 23, sub)]
            ),
            "NNNN": ("30303030", [n(c(4))], [n(c(4)), n(c(3)), n(c(2)), n()]),
            "PNPN": (
                "00000011300000003330", [t(c(4), 4, elem), n(), t("", 4, elem), n()],
                [t(i(0), 23, sub), n(), t("", 23, sub), n()]
            ),
        ]
        let (compressedHex, compressedFields, plainFields) = expected[pattern]!
        let wrap = { (fields: [String]) in
            #"{"vmsd_name": "dev", "version": 1, "fields": [\#(fields.joined(separator: ", "))]}"#
        }
        let compressed = fx10Pattern(pattern, compressible: true)
        #expect(compressed.ret == 0)
        #expect(compressed.hex == compressedHex)
        #expect(compressed.vmdesc == wrap(compressedFields))

        var plainHex = ""
        for (k, ch) in pattern.enumerated() where true {
            if ch == "N" {
                plainHex += "30"
            } else {
                let v = String(format: "%08x", 0x11 * (k + 1))
                plainHex += v + "0509656c656d7375622f73" + "00000001" + v
            }
        }
        let plain = fx10Pattern(pattern, compressible: false)
        #expect(plain.ret == 0)
        #expect(plain.hex == plainHex)
        #expect(plain.vmdesc == wrap(plainFields))
    }

    @Test("save failures: QEMU 10.0's result and Error message")
    func saveFailures() {
        let cases: [(Fx10Case, Int32, String, String)] = [
            (FX10_PRE_SAVE_FAILS, -7, "", "pre-save failed: top"),
            (FX10_PUT_FAILS, -22, "", "Save of field top/x failed: put failed"),
            (FX10_VSTRUCT_FAILS, -22, "", "Save of field top/e failed: Save of field inner/v failed: put failed"),
            (FX10_POST_SAVE_FAILS, -3, "00000002", "post-save failed: top"),
            (FX10_SUBSECTION_FAILS, -7, "00000002" + "0507746f702f626164" + "00000001", "pre-save failed: top/bad"),
            (FX10_TMP_FAILS, -7, "", "Save of field top/tmp failed: put failed"),
            // QEMU 10.0 crashes on these two (error_prepend on a NULL Error); this library sets
            // the Error with the inner failure instead.
            (FX10_PUT_POSITIVE, 1, "", "Save of field top/x failed: put returned 1"),
            (FX10_STRUCT_FAILS, -7, "", "Save of field top/e failed: pre-save failed: innerbad"),
        ]
        for (which, ret, hex, message) in cases {
            let saved = fx10Save(which)
            #expect(saved.ret == ret, "case \(which.rawValue)")
            #expect(saved.hex == hex, "case \(which.rawValue)")
            #expect(saved.error == message, "case \(which.rawValue)")
            #expect(saved.fileError == 0, "case \(which.rawValue)")
        }
    }

    @Test("without errp (vmstate_save_state) the same failures return the same results, no Error")
    func saveFailuresWithoutErrp() {
        for (which, ret) in [(FX10_PRE_SAVE_FAILS, -7), (FX10_PUT_FAILS, -22), (FX10_STRUCT_FAILS, -7)]
            as [(Fx10Case, Int32)]
        {
            let saved = fx10Save(which, errp: false)
            #expect(saved.ret == ret)
            #expect(saved.error == nil)
        }
    }

    @Test("VMSTATE_FD: the save fails with -1 and -EIO on the file; QEMU 10.0's message")
    func fdSave() {
        let saved = fx10Save(FX10_DEVICE_FD)
        #expect(saved.ret == -1)
        #expect(saved.fileError == -5)
        #expect(saved.error == "Save of field q10dev/fd failed: put failed")
        #expect(saved.hex == "a1b2c3d4" + "010203040506" + "8000000000000001000000000000003f" + "0042")
    }

    @Test("VMSTATE_FD: the load fails with -EIO, the field becomes -1, nothing more is read")
    func fdLoad() {
        let loaded = fx10Load(FX10_DEVICE_FD, hex: deviceHex)
        #expect(loaded.ret == -5)
        #expect(loaded.fileError == -5)
        #expect(fx10_device_fd() == -1)
        // id, regs, bitmap, tmp read: 4 + 6 + 16 + 2 bytes
        #expect(loaded.remaining == deviceHex.count / 2 - 28)
    }

    @Test("vmstate_info_fd called directly: put -1 and -EIO, get 0 with the field -1 and -EIO")
    func fdInfoDirect() {
        var getRet: Int32 = 0
        var value: Int32 = 0
        var getFileError: Int32 = 0
        var putFileError: Int32 = 0
        let putRet = fx10_fd_info_direct(&getRet, &value, &getFileError, &putFileError)
        #expect(putRet == -1)
        #expect(putFileError == -5)
        #expect(getRet == 0)
        #expect(value == -1)
        #expect(getFileError == -5)
    }

    @Test("a failed subsection load is also the file's error in 10.0 (not in 7.2)")
    func subsectionFailureFileError() {
        // elemsub v=1, then an unknown subsection "elemsub/zz"
        let unknown = "00000001" + "050a656c656d7375622f7a7a" + "00000001"
        let ten = fx10Load(FX10_ELEMSUB, hex: unknown)
        #expect(ten.ret == -2)
        #expect(ten.fileError == -2)
        #expect(ten.remaining == 16)
        let seven = fx10Load(FX10_ELEMSUB, hex: unknown, api72: true)
        #expect(seven.ret == -2)
        #expect(seven.fileError == 0)
        #expect(seven.remaining == 16)

        // "elemsub/s" at version 2, above its version_id 1
        let tooNew = "00000001" + "0509656c656d7375622f73" + "00000002" + "00000001" + "00"
        let tenNew = fx10Load(FX10_ELEMSUB, hex: tooNew)
        #expect(tenNew.ret == -22)
        #expect(tenNew.fileError == -22)
        let sevenNew = fx10Load(FX10_ELEMSUB, hex: tooNew, api72: true)
        #expect(sevenNew.ret == -22)
        #expect(sevenNew.fileError == 0)
    }

    @Test("a subsection's positive result: 10.0 records it on the file and the load goes on")
    func positiveSubsectionResult() {
        // in[0] = 1 + "posin/s" v1 b=2, in[1] = 3 + "posin/s" v1 b=4, x = 7, one byte more
        let sub = "05" + "07" + "706f73696e2f73" + "00000001"
        let input = "01" + sub + "02" + "03" + sub + "04" + "07" + "1f"
        func summary() -> String {
            let s = fx10_positive_summary()!
            defer { g_free(s) }
            return String(cString: s)
        }
        // QEMU 10.0 (checked against its migration/vmstate.c): 0, file error 5, all loaded.
        let ten = fx10Load(FX10_POSITIVE_SUB, hex: input)
        #expect(ten.ret == 0)
        #expect(ten.fileError == 5)
        #expect(ten.remaining == 1)
        #expect(summary() == "in0=1/2 in1=3/4 x=7")
        // QEMU 7.2 records nothing and goes on the same way.
        let seven = fx10Load(FX10_POSITIVE_SUB, hex: input, api72: true)
        #expect(seven.ret == 0)
        #expect(seven.fileError == 0)
        #expect(seven.remaining == 1)
        #expect(summary() == "in0=1/2 in1=3/4 x=7")
    }

    @Test("a version above version_id: -EINVAL, nothing read, no file error (both APIs)")
    func versionTooNew() {
        for api72 in [false, true] {
            let loaded = fx10Load(FX10_ELEMSUB, hex: "00000005", version: 2, api72: api72)
            #expect(loaded.ret == -22)
            #expect(loaded.fileError == 0)
            #expect(loaded.remaining == 4)
        }
    }

    @Test("the QEMU 10.0 layout: bool unmigratable at 8, bool early_setup at 9, the rest as 7.2")
    func layout() {
        var offsets = [Int](repeating: 0, count: 5)
        offsets.withUnsafeMutableBufferPointer { fx10_layout($0.baseAddress) }
        #expect(offsets == [8, 9, 12, 80, 88])
        #expect(MemoryLayout<VMStateDescription>.size == 88)
        #expect(MemoryLayout<VMStateDescription>.offset(of: \.version_id) == 12)
        #expect(MemoryLayout<VMStateDescription>.offset(of: \.subsections) == 80)
        #expect(fx10_end_of_list_flags() == 0x10000)
        #expect(fx10_end_of_list_flags() == QEMUDialect.vmsEnd)
    }

    /// QEMU 8.1 and later's `-dump-vmstate` gives a VMS_ARRAY field's element count as `"num"`
    /// before its `"size"` (migration/savevm.c `dump_vmstate_vmsf`); 7.2's does not. Otherwise
    /// the two formats are the same.
    @Test("vmstate_dump_schema from a QEMU 10.0 file writes 10.0's format, with \"num\"")
    func schemaDumpOfQEMU10Tables() throws {
        var error: UnsafeMutablePointer<GError>?
        let raw = try #require(fx10_dump_schema(&error))
        defer { g_free(raw) }
        let ten = String(cString: raw)
        let device = fx10_device_vmsd()!
        #expect(try VMStateSchema.dumpJSON([device], machine: "pc-i440fx-10.0", qemu: .qemu10_0) == ten)
        let seven = try VMStateSchema.dumpJSON([device], machine: "pc-i440fx-10.0")
        // 7.2's text with the counts of regs[3], ptrs[4], sub_ptrs[3] and pair[2] put back.
        var expected = ""
        var field: String?
        for line in seven.split(separator: "\n", omittingEmptySubsequences: false) {
            expected += line + "\n"
            if line.hasPrefix("          \"field\": ") { field = String(line.split(separator: "\"")[3]) }
            if line.hasPrefix("          \"field_exists\": "),
                let count = ["regs": 3, "ptrs": 4, "sub_ptrs": 3, "pair": 2][field ?? ""]
            {
                expected += "          \"num\": \(count),\n"
            }
        }
        #expect(ten + "\n" == expected)
        #expect(ten.components(separatedBy: "\"num\"").count == 5)
        #expect(
            ten.contains(
                "          \"field\": \"regs\",\n          \"version_id\": 0,\n          \"field_exists\": false,\n          \"num\": 3,\n          \"size\": 2\n"
            ))

        // Which QEMU's tables: told by how their field lists end (VMS_END in 10.0's).
        #expect(VMStateSchema.origin(of: [device]) == .one(.qemu10_0))
        #expect(VMStateSchema.origin(of: pcDevices()) == .one(.qemu7_2))
        let rtc = try #require(pcDevice("mc146818rtc"))
        #expect(VMStateSchema.origin(of: [rtc, device]) == .mixed(qemu7_2: "mc146818rtc", qemu10_0: "q10dev"))
        #expect(VMStateSchema.origin(of: []) == .unknown)
    }

    @Test("QEMUDialect reads unmigratable and early_setup as each version lays them out")
    func dialectFlags() {
        let ten = QEMUDialect.qemu10_0.flags(of: fx10_device_vmsd())
        #expect(ten.unmigratable == false)
        #expect(ten.earlySetup == true)
        // A 10.0 table registered from a 7.2 file: the 7.2 view's `int unmigratable` holds the
        // two bools in its first two bytes (read whole, early_setup made it look unmigratable).
        let seven = QEMUDialect.qemu7_2.flags(of: fx10_device_vmsd())
        #expect(seven.unmigratable == false)
        #expect(seven.earlySetup == true)
        let blocked = QEMUDialect.qemu7_2.flags(of: fx10_blocked_vmsd())
        #expect(blocked.unmigratable == true && blocked.earlySetup == false)
        // A 7.2 table's `int unmigratable = 1`.
        let old = QEMUDialect.qemu7_2.flags(of: str_blocked_vmsd_ptr())
        #expect(old.unmigratable == true && old.earlySetup == false)
        #expect(QEMUDialect.qemu7_2.flags(of: str_iommu_vmsd_ptr()).unmigratable == false)
    }

    @Test("A QEMU 10.0 early-setup table registered from a 7.2 file saves, for 7.2 and 10.0")
    func tenTableFromASevenFile() throws {
        fx10_device_reset()
        let reg = vmstate_registry_new()
        defer { vmstate_registry_free(reg) }
        var error: UnsafeMutablePointer<GError>? = nil
        func message() -> String { error.map { String(cString: $0.pointee.message) } ?? "" }
        // Swift calls the 7.2 symbol, as a C file built without VMSTATE_QEMU_API does.
        #expect(vmstate_registry_add(reg, "q10dev", 0, fx10_device_vmsd(), fx10_device_state(), &error))
        let counter = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        counter.initialize(to: StrCounter())
        defer { counter.deallocate() }
        #expect(vmstate_registry_add(reg, "uart", 0, StreamFixtures.counter, counter, &error))
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        // It failed with "device q10dev instance 0 is marked unmigratable".
        #expect(vmstate_registry_save(reg, "m", out, &error), "\(message())")
        #expect(vmstate_registry_set_stream_version(reg, 1000, &error))
        g_byte_array_set_size(out, 0)
        #expect(vmstate_registry_save(reg, "m", out, &error), "\(message())")
    }

    @Test("QEMU 10.0's new macros give the fields QEMU 10.0's header gives")
    func newMacros() {
        let text = fx10_macro_mismatches()!
        defer { g_free(text) }
        #expect(String(cString: text) == "")
    }

    @Test("vmstate_section_needed follows `needed`")
    func sectionNeeded() {
        #expect(fx10_extra_needed(true))
        #expect(!fx10_extra_needed(false))
    }

    @Test("qapi/error.h: setg, prepend, propagate, setg_errno, prepend on nothing")
    func errorAPI() {
        let text = fx10_error_api_demo()!
        defer { g_free(text) }
        #expect(String(cString: text) == "outer: middle: inner 7|open x: No such file or directory|unset")
    }

    @Test("vmstate lint reports VMSTATE_FD fields")
    func lintFD() {
        let plain = VMStateLint.check(fx10_fd_vmsd())
        #expect(
            plain.map(\.description) == [
                "warning: fd_dev/fd: a file descriptor (VMSTATE_FD) cannot be saved into or loaded from a byte stream: saving fails with -1 (file error -EIO), loading with -EIO [file-descriptor]"
            ])
        let device = VMStateLint.check(fx10_device_vmsd()).filter { $0.rule == .fileDescriptor }
        #expect(device.map(\.path) == ["q10dev/fd"])
        #expect(device.first?.message.hasSuffix("whenever its field_exists test is true") == true)
    }

    /// QEMU 10.0 aborts on a field list without VMS_END; a list that mixes the two endings
    /// tells lint which one lacks it (a lone table cannot be told from a QEMU 7.2 one).
    @Test("vmstate lint reports a QEMU 10.0 field list ended with {}")
    func lintMissingEnd() {
        #expect(
            VMStateLint.check(fx10_noend_vmsd()).map(\.description) == [
                "warning: noend_dev/sub: the field list ends without QEMU 10.0's VMS_END, unlike \"noend_dev\"'s: "
                    + "built with VMSTATE_QEMU_API 1000, it ends with {} where VMSTATE_END_OF_LIST() belongs, and "
                    + "QEMU 10.0 aborts on it when it saves or loads the table (built for QEMU 7.2, it is fine) [missing-end]"
            ])
        #expect(VMStateLint.check([fx10_fd_vmsd(), fx10_device_vmsd()]).filter { $0.rule == .missingEnd }.isEmpty)
    }

    // MARK: - QEMU 10.0 tables in the registry

    /// A QEMU 10.0 table registered from a 10.0 file (vmstate_registry_add_sized's `_v1000`
    /// symbol): its `early_setup` is not read as 7.2's `int unmigratable`, a stream written for
    /// QEMU 10.0 saves it in the setup phase (a FULL section after the RAM START, as
    /// `qemu_savevm_state_setup` with RAM's handler first) with QEMU 10.0's vmdesc, and one for QEMU 7.2 in the usual
    /// place with 7.2's vmdesc.
    @Test func earlySetupTableInTheRegistry() throws {
        fx10_device_reset()
        let body = bytes(fromHex: fx10Save(FX10_DEVICE).hex)
        let registry = Registry()
        let ram = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { ram.deallocate() }
        memset(ram, 0x5A, 4096)
        try registry.addRAM(idstr: "pc.ram", host: ram, length: 4096)
        var error: UnsafeMutablePointer<GError>?
        #expect(fx10_register(registry.handle, false, &error))
        #expect(registry.devices.map(\.layout) == [.qemu10_0])

        registry.streamVersion = .qemu10_0
        let s10 = try registry.save(machineType: "pc-i440fx-10.0")
        let header10: [UInt8] = [0x51, 0x45, 0x56, 0x4D, 0, 0, 0, 3, 0x07, 0, 0, 0, 14] + ascii("pc-i440fx-10.0")
        // RAM is section 1 (registered first; never 0), the early-setup device section 2, right
        // after the RAM START (which ends with EOS, be64 0x10, and its footer), as QEMU 10.0
        // writes virtio-mem-device-early.
        let early: [UInt8] =
            [0x04, 0, 0, 0, 2, 6] + ascii("q10dev") + [0, 0, 0, 0, 0, 0, 0, 1] + body + [0x7E, 0, 0, 0, 2]
        #expect(Array(s10.prefix(header10.count + 9)) == header10 + [0x01, 0, 0, 0, 1, 3] + ascii("ram"))
        let startEnd: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0x10, 0x7E, 0, 0, 0, 1]
        let afterStart =
            try #require(
                (header10.count..<s10.count - startEnd.count).first {
                    s10[$0..<$0 + startEnd.count].elementsEqual(startEnd)
                }
            ) + startEnd.count
        #expect(Array(s10[afterStart...].prefix(early.count)) == early)
        let text10 = String(decoding: s10, as: UTF8.self)
        #expect(text10.contains("\"type\": \"nullptr\""))

        registry.streamVersion = .qemu7_2
        let s72 = try registry.save(machineType: "pc-i440fx-7.2")
        let header72: [UInt8] = [0x51, 0x45, 0x56, 0x4D, 0, 0, 0, 3, 0x07, 0, 0, 0, 13] + ascii("pc-i440fx-7.2")
        #expect(Array(s72[header72.count...].prefix(9)) == [0x01, 0, 0, 0, 1, 3] + ascii("ram"))
        #expect(!String(decoding: s72, as: UTF8.self).contains("nullptr"))

        // Both load back into a registry holding the same table.
        for stream in [s10, s72] {
            let target = Registry()
            try target.addRAM(idstr: "pc.ram", host: ram, length: 4096)
            #expect(fx10_register(target.handle, false, &error))
            fx10_device_clear()
            try target.load(stream)
            let summary = fx10_device_summary()!
            defer { g_free(summary) }
            fx10_device_reset()
            let expected = fx10_device_summary()!
            defer { g_free(expected) }
            #expect(String(cString: summary) == String(cString: expected))
        }
    }

    /// A destination without the early-setup device skips its section up to its footer, as
    /// QEMU 10.0's own: it comes after the RAM START, so RAM is never held for it, even from a
    /// GIO stream whose RAM is past the 64 MiB a held stream may take.
    @Test func anUnknownEarlySetupSectionOfOurOwnIsSkippedWithoutHoldingRAM() throws {
        let length = 65 << 20
        let ram = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
        defer { ram.deallocate() }
        memset(ram, 0x5A, length)
        let source = Registry()
        try source.addRAM(idstr: "pc.ram", host: ram, length: length)
        var error: UnsafeMutablePointer<GError>?
        #expect(fx10_register_early(source.handle, false, &error))
        source.streamVersion = .qemu10_0
        let stream = try source.save(machineType: "pc-i440fx-10.0")
        let into = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
        defer { into.deallocate() }
        memset(into, 0, length)
        let target = Registry()
        try target.addRAM(idstr: "pc.ram", host: into, length: length)
        let r = StreamIOTests.loadFromStream(
            target, stream, chunk: 65536, flags: Registry.LoadOptions.skipUnknown.rawValue)
        #expect(r.ok, "\(r.message)")
        #expect(memcmp(ram, into, length) == 0)
        // The early-setup section is right after the RAM START, before SWITCHOVER_START.
        let early = [0x04, 0, 0, 0, 2, 8] + ascii("q10early") + [0, 0, 0, 0, 0, 0, 0, 1]
        let at = try #require((0..<200).first { stream[$0..<$0 + early.count].elementsEqual(early) })
        let ramStart = [0x01, 0, 0, 0, 1, 3] + ascii("ram")
        #expect((0..<at).contains { stream[$0..<$0 + ramStart.count].elementsEqual(ramStart) })
        #expect(Array(stream[(at + early.count + 12)...].prefix(10)) == [0x7E, 0, 0, 0, 2, 0x08, 0, 0x0B, 0, 0])
    }

    /// Early-setup sections follow the RAM START in priority order (a save, as a live
    /// migration, and as QEMU 10.0 for the default priority), whatever the registration order.
    @Test func earlySetupSectionsFollowTheRAMStartByPriority() throws {
        let ram = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { ram.deallocate() }
        memset(ram, 0, 4096)
        let registry = Registry()
        var error: UnsafeMutablePointer<GError>?
        #expect(fx10_register_early(registry.handle, true, &error))
        try registry.addRAM(idstr: "pc.ram", host: ram, length: 4096)
        registry.streamVersion = .qemu10_0
        let stream = try registry.save(machineType: "pc-i440fx-10.0")
        func at(_ header: [UInt8]) -> Int? {
            (0..<stream.count - header.count).first { stream[$0..<$0 + header.count].elementsEqual(header) }
        }
        // RAM is section 1, then the devices by priority: q10early-first 2, q10early 3.
        let first = try #require(at([0x04, 0, 0, 0, 2, 14] + ascii("q10early-first")))
        let ramStart = try #require(at([0x01, 0, 0, 0, 1, 3] + ascii("ram")))
        let early = try #require(at([0x04, 0, 0, 0, 3, 8] + ascii("q10early")))
        #expect(ramStart < first && first < early)
        // The data: be32 a, be64 b; then the footer.
        #expect(
            Array(stream[(first + 6 + 14 + 8)...].prefix(17))
                == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0x10, 0x11, 0x12, 0x7E, 0, 0, 0, 2])
        let target = Registry()
        try target.addRAM(idstr: "pc.ram", host: ram, length: 4096)
        #expect(fx10_register_early(target.handle, true, &error))
        try target.load(stream)
        #expect(try target.save() == stream)
    }

    /// QEMU 10.0's `bool unmigratable` refuses the save, read at its own offset.
    @Test func unmigratableTenTableInTheRegistry() throws {
        let registry = Registry()
        var error: UnsafeMutablePointer<GError>?
        #expect(fx10_register(registry.handle, true, &error))
        let e = try #require(engineError { _ = try registry.save(machineType: "pc-i440fx-10.0") })
        #expect(e.reason == "device q10blocked instance 0 is marked unmigratable")
    }
}
