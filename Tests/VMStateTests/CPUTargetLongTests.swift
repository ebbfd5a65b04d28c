import CFixtures
import CVMState
import Testing

@testable import VMState

// migration/cpu.h: the target_ulong forms QEMU's CPU tables (target/<arch>/machine.c) use. The
// fx-cputl table (Tests/CFixtures/fx_cputl_table.h) is built for a 64-bit target (TARGET_LONG_BITS
// 64) and a 32-bit one (32); each VMSTATE_UINTTL* field must be the VMSTATE_UINT64* or
// VMSTATE_UINT32* field it stands for, with its bytes and its vmdesc type, and the qemu_*_betl
// accessors the be64 or be32 ones. The type errors are in scripts/checks/negative-compile.sh.

/// The 64-bit device, with distinct values in every register.
private func filled64() -> FxCpuTl64State {
    var s = FxCpuTl64State()
    s.selector = 0x10
    s.base = 0x0000_7fff_0000_1000
    s.regs = (1, 0x1_0000_0002, 3)
    s.tlb = ((0x11, 0x12), (0x21, 0x22))
    s.model = 0x63
    s.extra = 0xabcd
    s.eip = 0xffff_ffff_8000_0000
    s.cr3 = 0x1234_5000
    s.pair = (0x8000_0000_0000_0001, UInt64(bitPattern: -2))
    s.has_extra = true
    return s
}

/// The 32-bit device, with the same registers cut to 32 bits.
private func filled32() -> FxCpuTl32State {
    var s = FxCpuTl32State()
    s.selector = 0x10
    s.base = 0x0000_1000
    s.regs = (1, 2, 3)
    s.tlb = ((0x11, 0x12), (0x21, 0x22))
    s.model = 0x63
    s.extra = 0xabcd
    s.eip = 0x8000_0000
    s.cr3 = 0x1234_5000
    s.pair = (0x8000_0001, UInt32(bitPattern: -2))
    s.has_extra = true
    return s
}

/// The wire bytes of `filled64`, field by field (big-endian, 8 bytes per target_ulong).
private let bytes64: [UInt8] =
    [0, 0, 0, 0x10]  // selector (uint32)
    + [0, 0, 0x7f, 0xff, 0, 0, 0x10, 0]  // base
    + [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3]  // regs[3]
    + [0, 0, 0, 0, 0, 0, 0, 0x11, 0, 0, 0, 0, 0, 0, 0, 0x12]  // tlb[0]
    + [0, 0, 0, 0, 0, 0, 0, 0x21, 0, 0, 0, 0, 0, 0, 0, 0x22]  // tlb[1]
    + [0, 0, 0, 0, 0, 0, 0, 0x63]  // model
    + [0, 0, 0, 0, 0, 0, 0xab, 0xcd]  // extra (has_extra)
    + [0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0]  // eip (version 2)
    + [0, 0, 0, 0, 0x12, 0x34, 0x50, 0]  // cr3 (vmstate_info_uinttl)
    + [0x80, 0, 0, 0, 0, 0, 0, 1]  // pair[0]: qemu_put_betls
    + [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]  // pair[1]: qemu_put_sbetl

/// The wire bytes of `filled32` (4 bytes per target_ulong).
private let bytes32: [UInt8] =
    [0, 0, 0, 0x10]  // selector
    + [0, 0, 0x10, 0]  // base
    + [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]  // regs[3]
    + [0, 0, 0, 0x11, 0, 0, 0, 0x12, 0, 0, 0, 0x21, 0, 0, 0, 0x22]  // tlb[2][2]
    + [0, 0, 0, 0x63]  // model
    + [0, 0, 0xab, 0xcd]  // extra
    + [0x80, 0, 0, 0]  // eip
    + [0x12, 0x34, 0x50, 0]  // cr3
    + [0x80, 0, 0, 1]  // pair[0]
    + [0xff, 0xff, 0xff, 0xfe]  // pair[1]

/// The vmdesc of the table, `width` bytes per target_ulong: QEMU's type names of the
/// fixed-width fields (the _EQUAL ones included: "int64 equal" is QEMU's name for uint64 equal).
private func expectedJSON(width: Int) -> String {
    let t = width == 8 ? "uint64" : "uint32"
    let equal = width == 8 ? "int64 equal" : "uint32 equal"
    let fields = [
        #"{"name": "selector", "type": "uint32", "size": 4}"#,
        #"{"name": "base", "type": "\#(t)", "size": \#(width)}"#,
        #"{"name": "regs", "array_len": 3, "type": "\#(t)", "size": \#(width)}"#,
        #"{"name": "tlb", "array_len": 4, "type": "\#(t)", "size": \#(width)}"#,
        #"{"name": "model", "type": "\#(equal)", "size": \#(width)}"#,
        #"{"name": "extra", "type": "\#(t)", "size": \#(width)}"#,
        #"{"name": "eip", "type": "\#(t)", "size": \#(width)}"#,
        #"{"name": "cr3", "type": "\#(t)", "size": \#(width)}"#,
        #"{"name": "pair", "type": "tl-pair", "size": \#(2 * width)}"#,
    ]
    return #"{"vmsd_name": "fx-cputl", "version": 2, "fields": ["# + fields.joined(separator: ", ") + "]}"
}

@Suite("migration/cpu.h: the target_ulong macros and accessors")
struct CPUTargetLongTests {
    @Test("with TARGET_LONG_BITS 64, VMSTATE_UINTTL* are the uint64 fields and betl is be64")
    func save64() throws {
        var s = filled64()
        let (bytes, json) = try vmdescJSON(withUnsafePointer(to: fx_cputl64_vmsd) { $0 }, &s)
        #expect(bytes == bytes64)
        #expect(json == expectedJSON(width: 8))
        let c = cSave(withUnsafePointer(to: fx_cputl64_vmsd) { $0 }, &s)
        #expect(c.ret == 0)
        #expect(c.bytes == bytes64)
    }

    @Test("with TARGET_LONG_BITS 32, VMSTATE_UINTTL* are the uint32 fields and betl is be32")
    func save32() throws {
        var s = filled32()
        let (bytes, json) = try vmdescJSON(withUnsafePointer(to: fx_cputl32_vmsd) { $0 }, &s)
        #expect(bytes == bytes32)
        #expect(json == expectedJSON(width: 4))
    }

    @Test("the fields are the fixed-width macros' own: size, info, flags, version")
    func fields() {
        // The engine's own instances: vmstate_info_uint64 / _uint32 and their _equal forms.
        let u64 = vmstate_std_info(Int32(VMSTATE_STD_UINT64.rawValue))
        let u32 = vmstate_std_info(Int32(VMSTATE_STD_UINT32.rawValue))
        let e64 = vmstate_std_info(Int32(VMSTATE_STD_UINT64_EQUAL.rawValue))
        let e32 = vmstate_std_info(Int32(VMSTATE_STD_UINT32_EQUAL.rawValue))
        let expected:
            [(
                name: String, info64: UnsafePointer<VMStateInfo>?, info32: UnsafePointer<VMStateInfo>?, flags: UInt32,
                num: Int32, version: Int32
            )] = [
                ("base", u64, u32, 0x1, 0, 0), ("regs", u64, u32, 0x4, 3, 0), ("tlb", u64, u32, 0x4, 4, 0),
                ("model", e64, e32, 0x1, 0, 0), ("extra", u64, u32, 0x1, 0, 0), ("eip", u64, u32, 0x1, 0, 2),
                ("cr3", u64, u32, 0x1, 0, 0),
            ]
        for (index, want) in expected.enumerated() {
            let f64 = fx_cputl64_vmsd.fields[index + 1]
            let f32 = fx_cputl32_vmsd.fields[index + 1]
            #expect(String(cString: f64.name) == want.name)
            #expect(String(cString: f32.name) == want.name)
            #expect(f64.size == 8 && f32.size == 4)
            #expect(f64.info == want.info64 && f32.info == want.info32)
            #expect(f64.flags.rawValue == want.flags && f32.flags.rawValue == want.flags)
            #expect(f64.num == want.num && f32.num == want.num)
            #expect(f64.version_id == want.version && f32.version_id == want.version)
            #expect((f64.field_exists != nil) == (want.name == "extra"))
            #expect(f64.err_hint == nil)
        }
        #expect(fx_cputl64_vmsd.fields[2].offset == MemoryLayout<FxCpuTl64State>.offset(of: \.regs)!)
        #expect(fx_cputl32_vmsd.fields[3].offset == MemoryLayout<FxCpuTl32State>.offset(of: \.tlb)!)
    }

    @Test("the bytes load back through qemu_get_betls and qemu_get_sbetl, and UINTTL_EQUAL checks")
    func load() throws {
        var s64 = FxCpuTl64State()
        s64.model = 0x63
        s64.has_extra = true
        try VMStateEngine.load(withUnsafePointer(to: fx_cputl64_vmsd) { $0 }, opaque: &s64, from: bytes64)
        #expect(s64.base == 0x0000_7fff_0000_1000 && s64.eip == 0xffff_ffff_8000_0000)
        #expect(elements(s64.regs, as: UInt64.self) == [1, 0x1_0000_0002, 3])
        #expect(elements(s64.tlb, as: UInt64.self) == [0x11, 0x12, 0x21, 0x22])
        #expect(s64.extra == 0xabcd && s64.cr3 == 0x1234_5000)
        #expect(s64.pair.0 == 0x8000_0000_0000_0001 && s64.pair.1 == UInt64(bitPattern: -2))

        var s32 = FxCpuTl32State()
        s32.model = 0x63
        s32.has_extra = true
        try VMStateEngine.load(withUnsafePointer(to: fx_cputl32_vmsd) { $0 }, opaque: &s32, from: bytes32)
        #expect(s32.base == 0x1000 && s32.eip == 0x8000_0000 && s32.cr3 == 0x1234_5000)
        #expect(s32.pair.0 == 0x8000_0001 && s32.pair.1 == UInt32(bitPattern: -2))

        // VMSTATE_UINTTL_EQUAL: a model other than the device's is refused, as uint64 equal.
        var other = FxCpuTl64State()
        other.model = 0x64
        other.has_extra = true
        let error = engineError {
            try VMStateEngine.load(withUnsafePointer(to: fx_cputl64_vmsd) { $0 }, opaque: &other, from: bytes64)
        }
        #expect(error?.kind == .mismatch)
        #expect(error?.path == "fx-cputl/model")
    }
}
