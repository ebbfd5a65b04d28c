import VMState

/// The virtio features a guest negotiated with a virtio-pci device, as its section's `virtio`
/// field carries them, for QEMU's check of them on load.
///
/// QEMU's `virtio_save` (hw/virtio/virtio.c, 7.2 and 10.0) writes the transport's config first
/// (virtio-pci: `vmstate_pci_device`, its version 2, the 256-byte configuration space and 16
/// bytes of IRQ state; then, when the device has MSI-X, its table of 16 bytes a vector, its
/// pending bits and the be16 config vector), then the status and ISR bytes, the be16 queue
/// selector and the be32 low half of the negotiated features (`guest_features`); all 64 bits
/// come again at the end, in the subsection `virtio/64bit_features` (saved when the device
/// offers a feature above bit 31, as every virtio 1.0 device does). Loading, `virtio_load`
/// refuses features the destination's device does not offer ("Features 0x... unsupported.
/// Allowed features: 0x..."); what a device offers follows from its options and machine type
/// and is not in the stream.
package struct VirtioFeatures: Sendable, Equatable {
    /// The section's idstr (`0000:00:04.0/virtio-blk`) and instance id.
    package var section: String
    package var instanceID: UInt32
    /// The field's path in the section (`virtio`).
    package var field: String
    /// The negotiated features: all 64 bits when ``complete``, else the low 32.
    package var negotiated: UInt64
    /// Whether the stream had `virtio/64bit_features` (the high 32 bits are known).
    package var complete: Bool

    /// Features with every part given.
    package init(section: String, instanceID: UInt32, field: String, negotiated: UInt64, complete: Bool) {
        (self.section, self.instanceID, self.field) = (section, instanceID, field)
        (self.negotiated, self.complete) = (negotiated, complete)
    }

    /// The `virtio` fields of one device section's record, virtio-pci's only (a section whose
    /// idstr is a PCI path), in stream order.
    static func collect(
        _ record: FieldRecord, path: String, section: AnalyzedSection, into found: inout [VirtioFeatures]
    ) {
        guard PCIConfigSpace.isPCIPath(section.name) else { return }
        for m in record.members {
            let p = path.isEmpty ? m.name : path + "/" + m.name
            if m.type == "virtio", case .bytes(let blob) = m.value, let (features, complete) = decode(blob) {
                found.append(
                    VirtioFeatures(
                        section: section.name, instanceID: section.instanceID, field: p, negotiated: features,
                        complete: complete))
            } else if case .record(let r) = m.value {
                collect(r, path: p, section: section, into: &found)
            }
        }
    }

    /// The negotiated features in the bytes of a virtio-pci device's `virtio` field, and
    /// whether all 64 bits were found; nil when the bytes do not begin as virtio-pci's do.
    package static func decode(_ blob: [UInt8]) -> (UInt64, Bool)? {
        let pciDevice = 4 + 256 + 16
        guard blob.count >= pciDevice, blob[0..<4].elementsEqual([0, 0, 0, 2]) else { return nil }
        // The MSI-X capability (id 0x11) in the capability list, its table size field the
        // vectors less one (hw/pci/msix.c msix_init).
        var vectors = 0
        if blob[4 + 6] & 0x10 != 0 {
            var at = Int(blob[4 + 0x34] & 0xFC)
            var steps = 0
            while at >= 0x40, at + 3 < 256, steps < 48 {
                if blob[4 + at] == 0x11 {
                    vectors = Int(UInt16(blob[4 + at + 2]) | UInt16(blob[4 + at + 3]) << 8) & 0x7FF + 1
                    break
                }
                at = Int(blob[4 + at + 1] & 0xFC)
                steps += 1
            }
        }
        let msix = vectors == 0 ? 0 : vectors * 16 + (vectors + 7) / 8 + 2
        let low = pciDevice + msix + 4
        guard blob.count >= low + 4 else { return nil }
        let lowHalf = blob[low..<low + 4].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let marker: [UInt8] = [0x05, 21] + Array("virtio/64bit_features".utf8) + [0, 0, 0, 1]
        var i = low + 4
        while i + marker.count + 8 <= blob.count {
            if blob[i] == 0x05, blob[i..<i + marker.count].elementsEqual(marker) {
                let at = i + marker.count
                let all = blob[at..<at + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                // (The subsection's value holds the low half too: a match elsewhere would not.)
                if all & 0xFFFF_FFFF == lowHalf { return (all, true) }
            }
            i += 1
        }
        return (lowHalf, false)
    }

    /// The transport feature bits by number (include/standard-headers/linux/virtio_config.h,
    /// virtio_ring.h) and the device option that offers each, where QEMU has one
    /// (DEFINE_VIRTIO_COMMON_FEATURES, hw/virtio/virtio.h).
    static let transportBits: [Int: (name: String, option: String?)] = [
        24: ("VIRTIO_F_NOTIFY_ON_EMPTY", "notify_on_empty"), 27: ("VIRTIO_F_ANY_LAYOUT", "any_layout"),
        28: ("VIRTIO_RING_F_INDIRECT_DESC", "indirect_desc"), 29: ("VIRTIO_RING_F_EVENT_IDX", "event_idx"),
        32: ("VIRTIO_F_VERSION_1", "disable-modern"), 33: ("VIRTIO_F_ACCESS_PLATFORM", "iommu_platform"),
        34: ("VIRTIO_F_RING_PACKED", "packed"), 35: ("VIRTIO_F_IN_ORDER", "in_order"),
        36: ("VIRTIO_F_ORDER_PLATFORM", nil), 37: ("VIRTIO_F_SR_IOV", nil),
        38: ("VIRTIO_F_NOTIFICATION_DATA", "notification_data"), 39: ("VIRTIO_F_NOTIF_CONFIG_DATA", nil),
        40: ("VIRTIO_F_RING_RESET", "queue_reset"), 41: ("VIRTIO_F_ADMIN_VQ", nil),
    ]

    /// The set bits of `bits`, each named: `bit 33 VIRTIO_F_ACCESS_PLATFORM (option
    /// iommu_platform)`, `bit 5 (the device's own)`; separated by `; `.
    static func described(_ bits: UInt64) -> String {
        (0..<64).filter { bits >> UInt64($0) & 1 != 0 }.map { bit in
            guard let known = transportBits[bit] else { return "bit \(bit) (the device's own)" }
            return "bit \(bit) \(known.name)" + (known.option.map { " (option \($0))" } ?? "")
        }.joined(separator: "; ")
    }
}
