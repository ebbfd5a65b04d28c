import CFixtures
import CVMState
import Testing

@testable import VMState

// QEMU's helper names for device-level macros (`vmstate_offset_*`, `type_check*`,
// `typeof_field`, `typeof_elt_of_field`): the fx-devmacros table (Tests/CFixtures/
// fx_devmacros_table.h) makes its fields with macros shaped like QEMU's VMSTATE_FIFO8,
// VMSTATE_MACADDR, VMSTATE_SEGMENT(_ARRAY) and VMSTATE_GPE_ARRAY. The offsets are checked at
// compile time there; here the bytes they make and load. The type errors these helpers raise
// are in scripts/checks/negative-compile.sh.

/// The device's state for the tests (gpe_en points at two bytes owned by the caller).
private func filledState(gpe: UnsafeMutablePointer<UInt8>) -> FxDevMacrosState {
    var s = FxDevMacrosState()
    s.ctrl = 0x1122_3344
    s.rx.data = (1, 2, 3, 4)
    s.rx.head = 1
    s.rx.num = 3
    s.mac.a = (0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
    s.segs.0 = FxDmSegment(selector: 0x10, base: 0x1000)
    s.segs.1 = FxDmSegment(selector: 0x18, base: 0x2000)
    s.ldt = FxDmSegment(selector: 0x28, base: 0xffff_0000)
    gpe[0] = 0xa5
    gpe[1] = 0x5a
    s.gpe_en = gpe
    s.regs = ((1, 2), (3, 4), (5, 6))
    s.win = (0xee, 0xee, 7, 8, 9, 0xee)
    s.cfg = (0xc0, 0xc1, 0xc2, 0xc3, 0xc4)
    s.nvec = 3
    s.vec = (0x100, 0x200, 0x300, 0xeeee)
    return s
}

/// The wire bytes of `filledState`, field by field (big-endian, as QEMU writes them).
private let filledBytes: [UInt8] =
    [0x11, 0x22, 0x33, 0x44]  // ctrl
    + [1, 2, 3, 4, 0, 0, 0, 1, 0, 0, 0, 3]  // rx: data, head, num
    + [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]  // mac
    + [0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0x10, 0x00]  // segs[0]
    + [0, 0, 0, 0x18, 0, 0, 0, 0, 0, 0, 0x20, 0x00]  // segs[1]
    + [0, 0, 0, 0x28, 0, 0, 0, 0, 0xff, 0xff, 0, 0]  // ldt
    + [0xa5, 0x5a]  // gpe_en[0..1]
    + [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6]  // regs
    + [0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0, 9]  // win[2..4]
    + [0xc0, 0xc1, 0xc2, 0xc3, 0xc4]  // cfg
    + [3]  // nvec
    + [0x01, 0x00, 0x02, 0x00, 0x03, 0x00]  // vec[0..2]

@Suite("QEMU's helper macros for device-level macros")
struct DeviceMacroHelperTests {
    @Test("fields made with vmstate_offset_*, type_check* and typeof_field save QEMU's bytes")
    func save() throws {
        let gpe = UnsafeMutablePointer<UInt8>.allocate(capacity: 2)
        defer { gpe.deallocate() }
        var s = filledState(gpe: gpe)
        let bytes = try withUnsafeMutablePointer(to: &s) { p in
            try VMStateEngine.save(withUnsafePointer(to: fx_devmacros_vmsd) { $0 }, opaque: p)
        }
        #expect(bytes == filledBytes)
        let c = withUnsafeMutablePointer(to: &s) { p in
            cSave(withUnsafePointer(to: fx_devmacros_vmsd) { $0 }, p)
        }
        #expect(c.ret == 0)
        #expect(c.bytes == filledBytes)
    }

    @Test("the same table built with the QEMU 10.0 API saves the same bytes")
    func save10() throws {
        let gpe = UnsafeMutablePointer<UInt8>.allocate(capacity: 2)
        defer { gpe.deallocate() }
        var s = filledState(gpe: gpe)
        let bytes = try withUnsafeMutablePointer(to: &s) { p in
            try VMStateEngine.save(withUnsafePointer(to: fx10_devmacros_vmsd) { $0 }, opaque: p, dialect: .qemu10_0)
        }
        #expect(bytes == filledBytes)
    }

    @Test("loading those bytes fills every field the helpers point at, and only those")
    func load() throws {
        let gpe = UnsafeMutablePointer<UInt8>.allocate(capacity: 2)
        defer { gpe.deallocate() }
        gpe.initialize(repeating: 0, count: 2)
        var s = FxDevMacrosState()
        s.gpe_en = gpe
        s.win = (0xee, 0xee, 0, 0, 0, 0xee)
        s.vec.3 = 0xeeee
        try withUnsafeMutablePointer(to: &s) { p in
            try VMStateEngine.loadChecked(
                withUnsafePointer(to: fx_devmacros_vmsd) { $0 }, opaque: p,
                size: MemoryLayout<FxDevMacrosState>.size, from: filledBytes)
        }
        #expect(s.ctrl == 0x1122_3344)
        #expect(elements(s.rx.data, as: UInt8.self) == [1, 2, 3, 4])
        #expect(s.rx.head == 1 && s.rx.num == 3)
        #expect(elements(s.mac.a, as: UInt8.self) == [0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
        #expect(s.segs.0.selector == 0x10 && s.segs.0.base == 0x1000)
        #expect(s.segs.1.selector == 0x18 && s.segs.1.base == 0x2000)
        #expect(s.ldt.selector == 0x28 && s.ldt.base == 0xffff_0000)
        #expect(s.gpe_en == gpe && gpe[0] == 0xa5 && gpe[1] == 0x5a)
        #expect(elements(s.regs, as: UInt16.self) == [1, 2, 3, 4, 5, 6])
        #expect(elements(s.win, as: UInt32.self) == [0xee, 0xee, 7, 8, 9, 0xee])
        #expect(elements(s.cfg, as: UInt8.self) == [0xc0, 0xc1, 0xc2, 0xc3, 0xc4])
        #expect(s.nvec == 3)
        #expect(elements(s.vec, as: UInt16.self) == [0x100, 0x200, 0x300, 0xeeee])
    }
}
