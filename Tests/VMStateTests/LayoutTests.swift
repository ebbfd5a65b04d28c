import CFixtures
import CVMState
import Testing

/// The C ABI as Swift sees it: QEMU 7.2's x86-64 sizes and member offsets (docs/FORMAT.md §1), the
/// flag and priority values, and the standard types the macros refer to.
@Suite struct LayoutTests {
    @Test func structSizesMatchQEMU() {
        #expect(MemoryLayout<VMStateInfo>.size == 24)
        #expect(MemoryLayout<VMStateField>.size == 104)
        #expect(MemoryLayout<VMStateDescription>.size == 88)
        #expect(MemoryLayout<VMStateInfo>.alignment == 8)
        #expect(MemoryLayout<VMStateField>.alignment == 8)
        #expect(MemoryLayout<VMStateDescription>.alignment == 8)
    }

    @Test func vmStateInfoOffsets() {
        #expect(MemoryLayout<VMStateInfo>.offset(of: \.name) == 0)
        #expect(MemoryLayout<VMStateInfo>.offset(of: \.get) == 8)
        #expect(MemoryLayout<VMStateInfo>.offset(of: \.put) == 16)
    }

    @Test func vmStateFieldOffsets() {
        typealias F = VMStateField
        #expect(MemoryLayout<F>.offset(of: \.name) == 0)
        #expect(MemoryLayout<F>.offset(of: \.err_hint) == 8)
        #expect(MemoryLayout<F>.offset(of: \.offset) == 16)
        #expect(MemoryLayout<F>.offset(of: \.size) == 24)
        #expect(MemoryLayout<F>.offset(of: \.start) == 32)
        #expect(MemoryLayout<F>.offset(of: \.num) == 40)
        #expect(MemoryLayout<F>.offset(of: \.num_offset) == 48)
        #expect(MemoryLayout<F>.offset(of: \.size_offset) == 56)
        #expect(MemoryLayout<F>.offset(of: \.info) == 64)
        #expect(MemoryLayout<F>.offset(of: \.flags) == 72)
        #expect(MemoryLayout<F>.offset(of: \.vmsd) == 80)
        #expect(MemoryLayout<F>.offset(of: \.version_id) == 88)
        #expect(MemoryLayout<F>.offset(of: \.struct_version_id) == 92)
        #expect(MemoryLayout<F>.offset(of: \.field_exists) == 96)
    }

    @Test func vmStateDescriptionOffsets() {
        typealias D = VMStateDescription
        #expect(MemoryLayout<D>.offset(of: \.name) == 0)
        #expect(MemoryLayout<D>.offset(of: \.unmigratable) == 8)
        #expect(MemoryLayout<D>.offset(of: \.version_id) == 12)
        #expect(MemoryLayout<D>.offset(of: \.minimum_version_id) == 16)
        #expect(MemoryLayout<D>.offset(of: \.priority) == 20)
        #expect(MemoryLayout<D>.offset(of: \.pre_load) == 24)
        #expect(MemoryLayout<D>.offset(of: \.post_load) == 32)
        #expect(MemoryLayout<D>.offset(of: \.pre_save) == 40)
        #expect(MemoryLayout<D>.offset(of: \.post_save) == 48)
        #expect(MemoryLayout<D>.offset(of: \.needed) == 56)
        #expect(MemoryLayout<D>.offset(of: \.dev_unplug_pending) == 64)
        #expect(MemoryLayout<D>.offset(of: \.fields) == 72)
        #expect(MemoryLayout<D>.offset(of: \.subsections) == 80)
    }

    @Test func memberTypeSizes() {
        // int members are 4 bytes, the enums are int-sized, pointers 8.
        #expect(MemoryLayout<VMStateFlags>.size == 4)
        #expect(MemoryLayout<MigrationPriority>.size == 4)
        #expect(MemoryLayout.size(ofValue: VMStateField().num) == 4)
        #expect(MemoryLayout.size(ofValue: VMStateField().offset) == 8)
        #expect(MemoryLayout.size(ofValue: VMStateDescription().version_id) == 4)
    }

    @Test func vmStateFlagsValues() {
        #expect(VMS_SINGLE.rawValue == 0x1)
        #expect(VMS_POINTER.rawValue == 0x2)
        #expect(VMS_ARRAY.rawValue == 0x4)
        #expect(VMS_STRUCT.rawValue == 0x8)
        #expect(VMS_VARRAY_INT32.rawValue == 0x10)
        #expect(VMS_BUFFER.rawValue == 0x20)
        #expect(VMS_ARRAY_OF_POINTER.rawValue == 0x40)
        #expect(VMS_VARRAY_UINT16.rawValue == 0x80)
        #expect(VMS_VBUFFER.rawValue == 0x100)
        #expect(VMS_MULTIPLY.rawValue == 0x200)
        #expect(VMS_VARRAY_UINT8.rawValue == 0x400)
        #expect(VMS_VARRAY_UINT32.rawValue == 0x800)
        #expect(VMS_MUST_EXIST.rawValue == 0x1000)
        #expect(VMS_ALLOC.rawValue == 0x2000)
        #expect(VMS_MULTIPLY_ELEMENTS.rawValue == 0x4000)
        #expect(VMS_VSTRUCT.rawValue == 0x8000)
    }

    @Test func migrationPriorityValues() {
        #expect(MIG_PRI_DEFAULT.rawValue == 0)
        #expect(MIG_PRI_IOMMU.rawValue == 1)
        #expect(MIG_PRI_PCI_BUS.rawValue == 2)
        #expect(MIG_PRI_VIRTIO_MEM.rawValue == 3)
        #expect(MIG_PRI_GICV3_ITS.rawValue == 4)
        #expect(MIG_PRI_GICV3.rawValue == 5)
        #expect(MIG_PRI_MAX.rawValue == 6)
    }

    @Test func nullPointerMarker() {
        #expect(VMS_NULLPTR_MARKER == 0x30)
    }

    @Test func cpuDoubleUIsALittleEndianUnion() {
        #expect(MemoryLayout<CPU_DoubleU>.size == 8)
        var u = CPU_DoubleU()
        u.ll = 0x1122_3344_5566_7788
        #expect(u.d == 0x1122_3344_5566_7788)
        #expect(u.l.upper == 0x1122_3344)
        #expect(u.l.lower == 0x5566_7788)
    }

    @Test func qemuTimerStartsWithItsExpireTime() {
        #expect(MemoryLayout<QEMUTimer>.offset(of: \.expire_time) == 0)
        #expect(MemoryLayout<QEMUTimer>.size == 48)
    }

    @Test func queueLayouts() {
        // QTAILQ head and entry: a 16-byte union of the first/next pointer and { next, prev-link }.
        #expect(MemoryLayout<QTailQLink>.size == 16)
        #expect(MemoryLayout<QTailQLink>.offset(of: \.tql_next) == 0)
        #expect(MemoryLayout<QTailQLink>.offset(of: \.tql_prev) == 8)
        // FxQReq = 16 bytes of data + a QTAILQ entry; FxQHandle = 8 bytes + a QLIST entry
        // { next, pointer to previous next }.
        #expect(MemoryLayout<FxQReq>.offset(of: \.next) == 16)
        #expect(MemoryLayout<FxQReq>.size == 32)
        #expect(MemoryLayout<FxQHandle>.offset(of: \.link) == 8)
        #expect(MemoryLayout<FxQHandle>.size == 24)
        // FxQueuesState: uint32 + padding, QTAILQ head (16), QLIST head (8), two GTree pointers.
        #expect(MemoryLayout<FxQueuesState>.offset(of: \.pending) == 8)
        #expect(MemoryLayout<FxQueuesState>.offset(of: \.handles) == 24)
        #expect(MemoryLayout<FxQueuesState>.offset(of: \.mappings) == 32)
        #expect(MemoryLayout<FxQueuesState>.size == 48)
    }
}
