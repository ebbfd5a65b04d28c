import VMState

/// The virtio features a guest negotiated with a virtio-pci device, as its section's `virtio`
/// field carries them, for QEMU's check of them on load.
///
/// QEMU's `virtio_save` (hw/virtio/virtio.c, 7.2 and 10.0) writes the transport's config first
/// (virtio-pci: `vmstate_pci_device`, its version 2, the configuration space, 256 bytes or a PCI
/// Express device's 4096, and 16 bytes of IRQ state; then, when the device has MSI-X, its table of 16 bytes a vector, its
/// pending bits and the be16 config vector), then the status and ISR bytes, the be16 queue
/// selector and the be32 low half of the negotiated features (`guest_features`); then the
/// queues, the device's own state (of any layout, some of it the guest's to write: virtio-net's
/// VLAN filter) and last the subsections of `vmstate_virtio`, one of which,
/// `virtio/64bit_features`, holds all 64 bits (saved when the device offers a feature above bit
/// 31, as every virtio 1.0 device does). Loading, `virtio_load` refuses features the
/// destination's device does not offer ("Features 0x... unsupported. Allowed features: 0x..."):
/// the subsection's 64 bits when that device offers a feature above bit 31, else the be32 low
/// half. What a device offers follows from its options and machine type and is not in the stream.
package struct VirtioFeatures: Sendable, Equatable {
    /// The section's idstr (`0000:00:04.0/virtio-blk`) and instance id.
    package var section: String
    package var instanceID: UInt32
    /// The field's path in the section (`virtio`).
    package var field: String
    /// The be32 low half `virtio_save` writes before the device's state.
    package var lowHalf: UInt32
    /// The 64 bits of `virtio/64bit_features`, when the stream has it; nil when it has not, or
    /// when the subsections could not be read (``subsectionsRead``).
    package var all: UInt64?
    /// Whether the field ends in `vmstate_virtio`'s subsections as QEMU 7.2 and 10.0 save them
    /// (``decode(_:)``); when not, whether it has `virtio/64bit_features` is not known.
    package var subsectionsRead: Bool

    /// Features with every part given.
    package init(
        section: String, instanceID: UInt32, field: String, lowHalf: UInt32, all: UInt64?, subsectionsRead: Bool
    ) {
        (self.section, self.instanceID, self.field) = (section, instanceID, field)
        (self.lowHalf, self.all, self.subsectionsRead) = (lowHalf, all, subsectionsRead)
    }

    /// The features the guest negotiated as the stream has them: the subsection's 64 bits, else
    /// the low half.
    package var negotiated: UInt64 { all ?? UInt64(lowHalf) }

    /// The `virtio` fields of one device section's record, virtio-pci's only (a section whose
    /// idstr is a PCI path), in stream order.
    static func collect(
        _ record: FieldRecord, path: String, section: AnalyzedSection, into found: inout [VirtioFeatures]
    ) {
        guard PCIConfigSpace.isPCIPath(section.name) else { return }
        for m in record.members {
            let p = path.isEmpty ? m.name : path + "/" + m.name
            if m.type == "virtio", case .bytes(let blob) = m.value, let d = decode(blob) {
                found.append(
                    VirtioFeatures(
                        section: section.name, instanceID: section.instanceID, field: p, lowHalf: d.lowHalf,
                        all: d.all, subsectionsRead: d.subsectionsRead))
            } else if case .record(let r) = m.value {
                collect(r, path: p, section: section, into: &found)
            }
        }
    }

    /// What ``decode(_:)`` reads from a `virtio` field's bytes.
    package struct Decoded: Sendable, Equatable {
        package var lowHalf: UInt32
        package var all: UInt64?
        package var subsectionsRead: Bool

        package init(lowHalf: UInt32, all: UInt64?, subsectionsRead: Bool) {
            (self.lowHalf, self.all, self.subsectionsRead) = (lowHalf, all, subsectionsRead)
        }
    }

    /// The negotiated features in the bytes of a virtio-pci device's `virtio` field: the be32
    /// low half at its place after the transport's config, and `virtio/64bit_features` found
    /// where QEMU's loader meets it, among the subsections that end the field
    /// (``subsectionChain(_:from:)``); nil when the bytes do not begin as virtio-pci's do.
    package static func decode(_ blob: [UInt8]) -> Decoded? {
        guard blob.count >= 4 + 256 + 16, blob[0..<4].elementsEqual([0, 0, 0, 2]) else { return nil }
        // In the capability list: the MSI-X capability (id 0x11), its table size field the
        // vectors less one (hw/pci/msix.c msix_init); the PCI Express one (id 0x10), which a
        // virtio-pci device has exactly when it is a PCI Express device (behind a root port:
        // hw/virtio/virtio-pci.c virtio_pci_realize), whose whole 4 KiB configuration space
        // `vmstate_pci_device` saves (migrate_is_pcie).
        var vectors = 0
        var express = false
        if blob[4 + 6] & 0x10 != 0 {
            var at = Int(blob[4 + 0x34] & 0xFC)
            var steps = 0
            while at >= 0x40, at + 3 < 256, steps < 48 {
                if blob[4 + at] == 0x11 {
                    vectors = Int(UInt16(blob[4 + at + 2]) | UInt16(blob[4 + at + 3]) << 8) & 0x7FF + 1
                } else if blob[4 + at] == 0x10 {
                    express = true
                }
                at = Int(blob[4 + at + 1] & 0xFC)
                steps += 1
            }
        }
        let pciDevice = 4 + (express ? 4096 : 256) + 16
        let msix = vectors == 0 ? 0 : vectors * 16 + (vectors + 7) / 8 + 2
        let low = pciDevice + msix + 4
        guard blob.count >= low + 4 else { return nil }
        let lowHalf = blob[low..<low + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        // The subsections are found by reading them: the first place after the low half from
        // which `vmstate_virtio`'s subsections, in QEMU's order and of their sizes, run to the
        // field's end exactly. The guest's own bytes in the device's state can spell a
        // subsection (forged 64 bits in virtio-net's VLAN filter: review55 D1), but a forged
        // run would have to line up with the real subsections after it, which QEMU writes in
        // one order and of fixed sizes, so the real ones are the first to do so.
        var i = low + 4
        while i < blob.count {
            if blob[i] == StreamFormat.subsection, let all = subsectionChain(blob, from: i) {
                return Decoded(lowHalf: lowHalf, all: all, subsectionsRead: true)
            }
            i += 1
        }
        return Decoded(lowHalf: lowHalf, all: nil, subsectionsRead: false)
    }

    /// `vmstate_virtio`'s subsections (hw/virtio/virtio.c, the same in 7.2 and 10.0) in the
    /// order QEMU saves them, each version 1, with the size of its fields: `VIRTIO_QUEUE_MAX`
    /// (1024) queues in the three arrays (`VMSTATE_STRUCT_VARRAY_POINTER_KNOWN` saves them all).
    /// `virtio/extra_state` holds virtio-pci's `vmstate_virtio_pci`: nothing, or its subsection
    /// `virtio_pci/modern_state` (``modernStateSize``).
    static let subsectionSizes: [(name: String, size: Int?)] = [
        ("virtio/device_endian", 1), ("virtio/64bit_features", 8), ("virtio/virtqueues", 1024 * 16),
        ("virtio/ringsize", 1024 * 4), ("virtio/broken", 1), ("virtio/extra_state", nil), ("virtio/started", 1),
        ("virtio/packed_virtqueues", 1024 * 10), ("virtio/disabled", 1),
    ]

    /// `virtio_pci/modern_state`'s fields: dfselect, gfselect, two be32 feature words, then
    /// 1024 queues of be16 num, an unused byte, the enabled byte and three pairs of be32
    /// addresses (hw/virtio/virtio-pci.c).
    static let modernStateSize = 4 + 4 + 8 + 1024 * (2 + 1 + 1 + 24)

    /// The subsection header at `at` (the stream format's: 0x05, the name's length byte, the
    /// name, be32 version; ``ConfigurationSubsectionHeader``) when its version is 1: its
    /// length and name, or nil.
    private static func subsectionHeader(_ blob: [UInt8], at: Int) -> (length: Int, name: String)? {
        guard at < blob.count, blob[at] == StreamFormat.subsection,
            case .record(let header, let length) = blob[at...].withUnsafeBytes({
                ConfigurationSubsectionHeader.Decoder().decode($0)
            }),
            header.version == 1
        else { return nil }
        return (length, header.name)
    }

    /// Reads `vmstate_virtio`'s subsections from `start` to the end of `blob`: some of them,
    /// each once, in QEMU's order, each of its size. Returns nil when they do not run to the
    /// end exactly; else `virtio/64bit_features`'s value, or `.some(nil)` without it.
    static func subsectionChain(_ blob: [UInt8], from start: Int) -> UInt64?? {
        var at = start
        var next = 0
        var all: UInt64?
        repeat {
            guard let (length, name) = subsectionHeader(blob, at: at),
                let k = subsectionSizes.firstIndex(where: { $0.name == name }),
                k >= next
            else { return nil }
            at += length
            var size = subsectionSizes[k].size ?? 0
            if size == 0, let inner = subsectionHeader(blob, at: at), inner.name == "virtio_pci/modern_state" {
                size = inner.length + modernStateSize
            }
            guard at + size <= blob.count else { return nil }
            if k == 1 { all = blob[at..<at + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
            at += size
            next = k + 1
        } while at < blob.count
        return .some(all)
    }

    /// The transport feature bits by number (include/standard-headers/linux/virtio_config.h,
    /// virtio_ring.h) and the device option that offers each, where QEMU has one
    /// (DEFINE_VIRTIO_COMMON_FEATURES, hw/virtio/virtio.h).
    static let transportBits: [Int: (name: String, option: String?)] = [
        24: ("VIRTIO_F_NOTIFY_ON_EMPTY", "notify_on_empty"), 27: ("VIRTIO_F_ANY_LAYOUT", "any_layout"),
        28: ("VIRTIO_RING_F_INDIRECT_DESC", "indirect_desc"), 29: ("VIRTIO_RING_F_EVENT_IDX", "event_idx"),
        32: ("VIRTIO_F_VERSION_1", nil), 33: ("VIRTIO_F_ACCESS_PLATFORM", "iommu_platform"),
        34: ("VIRTIO_F_RING_PACKED", "packed"), 35: ("VIRTIO_F_IN_ORDER", "in_order"),
        36: ("VIRTIO_F_ORDER_PLATFORM", nil), 37: ("VIRTIO_F_SR_IOV", nil),
        38: ("VIRTIO_F_NOTIFICATION_DATA", "notification_data"), 39: ("VIRTIO_F_NOTIF_CONFIG_DATA", nil),
        40: ("VIRTIO_F_RING_RESET", "queue_reset"), 41: ("VIRTIO_F_ADMIN_VQ", nil),
    ]

    /// The device feature bits of virtio-net, virtio-blk, virtio-balloon and virtio-scsi by number
    /// (include/standard-headers/linux/virtio_net.h, virtio_blk.h, virtio_balloon.h,
    /// virtio_scsi.h) and the device option that offers each, where QEMU has one
    /// (hw/net/virtio-net.c, hw/block/virtio-blk.c, hw/virtio/virtio-balloon.c,
    /// hw/scsi/virtio-scsi.c); keyed by the device's name, the end of its section's idstr.
    static let deviceBits: [String: [Int: (name: String, option: String?)]] = [
        "virtio-net": [
            0: ("VIRTIO_NET_F_CSUM", "csum"), 1: ("VIRTIO_NET_F_GUEST_CSUM", "guest_csum"),
            2: ("VIRTIO_NET_F_CTRL_GUEST_OFFLOADS", "ctrl_guest_offloads"), 3: ("VIRTIO_NET_F_MTU", "host_mtu"),
            5: ("VIRTIO_NET_F_MAC", nil), 6: ("VIRTIO_NET_F_GSO", "gso"), 7: ("VIRTIO_NET_F_GUEST_TSO4", "guest_tso4"),
            8: ("VIRTIO_NET_F_GUEST_TSO6", "guest_tso6"), 9: ("VIRTIO_NET_F_GUEST_ECN", "guest_ecn"),
            10: ("VIRTIO_NET_F_GUEST_UFO", "guest_ufo"), 11: ("VIRTIO_NET_F_HOST_TSO4", "host_tso4"),
            12: ("VIRTIO_NET_F_HOST_TSO6", "host_tso6"), 13: ("VIRTIO_NET_F_HOST_ECN", "host_ecn"),
            14: ("VIRTIO_NET_F_HOST_UFO", "host_ufo"), 15: ("VIRTIO_NET_F_MRG_RXBUF", "mrg_rxbuf"),
            16: ("VIRTIO_NET_F_STATUS", "status"), 17: ("VIRTIO_NET_F_CTRL_VQ", "ctrl_vq"),
            18: ("VIRTIO_NET_F_CTRL_RX", "ctrl_rx"), 19: ("VIRTIO_NET_F_CTRL_VLAN", "ctrl_vlan"),
            20: ("VIRTIO_NET_F_CTRL_RX_EXTRA", "ctrl_rx_extra"), 21: ("VIRTIO_NET_F_GUEST_ANNOUNCE", "guest_announce"),
            22: ("VIRTIO_NET_F_MQ", "mq"), 23: ("VIRTIO_NET_F_CTRL_MAC_ADDR", "ctrl_mac_addr"),
            54: ("VIRTIO_NET_F_GUEST_USO4", "guest_uso4"), 55: ("VIRTIO_NET_F_GUEST_USO6", "guest_uso6"),
            56: ("VIRTIO_NET_F_HOST_USO", "host_uso"), 57: ("VIRTIO_NET_F_HASH_REPORT", "hash"),
            60: ("VIRTIO_NET_F_RSS", "rss"), 61: ("VIRTIO_NET_F_RSC_EXT", "guest_rsc_ext"),
            62: ("VIRTIO_NET_F_STANDBY", "failover"), 63: ("VIRTIO_NET_F_SPEED_DUPLEX", nil),
        ],
        "virtio-blk": [
            1: ("VIRTIO_BLK_F_SIZE_MAX", nil), 2: ("VIRTIO_BLK_F_SEG_MAX", nil), 4: ("VIRTIO_BLK_F_GEOMETRY", nil),
            5: ("VIRTIO_BLK_F_RO", nil), 6: ("VIRTIO_BLK_F_BLK_SIZE", nil), 7: ("VIRTIO_BLK_F_SCSI", nil),
            9: ("VIRTIO_BLK_F_FLUSH", nil), 10: ("VIRTIO_BLK_F_TOPOLOGY", nil),
            11: ("VIRTIO_BLK_F_CONFIG_WCE", "config-wce"), 12: ("VIRTIO_BLK_F_MQ", "num-queues"),
            13: ("VIRTIO_BLK_F_DISCARD", "discard"), 14: ("VIRTIO_BLK_F_WRITE_ZEROES", "write-zeroes"),
        ],
        "virtio-balloon": [
            0: ("VIRTIO_BALLOON_F_MUST_TELL_HOST", nil), 1: ("VIRTIO_BALLOON_F_STATS_VQ", nil),
            2: ("VIRTIO_BALLOON_F_DEFLATE_ON_OOM", "deflate-on-oom"),
            3: ("VIRTIO_BALLOON_F_FREE_PAGE_HINT", "free-page-hint"),
            4: ("VIRTIO_BALLOON_F_PAGE_POISON", "page-poison"),
            5: ("VIRTIO_BALLOON_F_REPORTING", "free-page-reporting"),
        ],
        "virtio-scsi": [
            0: ("VIRTIO_SCSI_F_INOUT", nil), 1: ("VIRTIO_SCSI_F_HOTPLUG", "hotplug"),
            2: ("VIRTIO_SCSI_F_CHANGE", "param_change"), 3: ("VIRTIO_SCSI_F_T10_PI", nil),
        ],
    ]

    /// The set bits of `bits`, each named: `bit 33 VIRTIO_F_ACCESS_PLATFORM (option
    /// iommu_platform)`, `bit 15 VIRTIO_NET_F_MRG_RXBUF (option mrg_rxbuf)` for `device`
    /// `virtio-net`, `bit 5 (the device's own)`; VERSION_1 is offered unless `disable-modern=on`.
    /// Separated by `; `.
    static func described(_ bits: UInt64, device: String? = nil) -> String {
        let own = device.flatMap { deviceBits[$0] } ?? [:]
        return (0..<64).filter { bits >> UInt64($0) & 1 != 0 }.map { bit in
            if bit == 32 { return "bit 32 VIRTIO_F_VERSION_1 (offered unless disable-modern=on)" }
            guard let known = transportBits[bit] ?? own[bit] else { return "bit \(bit) (the device's own)" }
            return "bit \(bit) \(known.name)" + (known.option.map { " (option \($0))" } ?? "")
        }.joined(separator: "; ")
    }

    /// The device's name in a section's idstr: what follows its last `/` (`virtio-net`).
    static func deviceName(_ idstr: String) -> String {
        idstr.lastIndex(of: "/").map { String(idstr[idstr.index(after: $0)...]) } ?? idstr
    }
}
