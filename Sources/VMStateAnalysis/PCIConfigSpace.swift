import VMState

/// The PCI configuration space a device section of a stream carries, and QEMU's check of it on
/// load.
///
/// QEMU saves a PCI device's configuration space (`PCIDevice`'s `config`, a field of type `pci
/// config`, `config[0]` in a vmdesc; for virtio-pci devices inside the `virtio` field, after the
/// `PCIDevice` version, 2) and, loading it, refuses a byte that differs from the destination device's own in a
/// bit it must not change (hw/pci/pci.c `get_pci_config_device`: `cmask & ~wmask & ~w1cmask`,
/// "Bad config data: i=0x.. read: .. device: .."). Those bits are fixed when the device is
/// realized from its options (device model, `vectors`, `num_queues`, `multifunction`...), so
/// two streams whose devices were made differently show them. ``checkedBits`` computes the
/// bits this check covers from the first 256 bytes: a subset of QEMU's, those whose masks are
/// fixed by QEMU's code and the PCI specification.
public struct PCIConfigSpace: Sendable, Equatable {
    /// The section's idstr (`0000:00:02.0/virtio-net`).
    public var section: String
    /// The section's instance id.
    public var instanceID: UInt32
    /// Where the bytes are in the section: the field path (`parent_obj/config[0]`, `virtio`).
    public var field: String
    /// The first 256 bytes (the PCI header and the capability list; a PCI Express device's
    /// extended space after them is not read).
    public var bytes: [UInt8]

    /// A space with every part given.
    public init(section: String, instanceID: UInt32, field: String, bytes: [UInt8]) {
        self.section = section
        self.instanceID = instanceID
        self.field = field
        self.bytes = bytes
    }

    /// The configuration spaces of the device sections of a stream, in stream order.
    public static func found(in sections: [AnalyzedSection]) -> [PCIConfigSpace] {
        var found: [PCIConfigSpace] = []
        for s in sections {
            guard case .device(let record) = s.content else { continue }
            collect(record, path: "", section: s, into: &found)
        }
        return found
    }

    /// The configuration spaces of one device section's record (its members, nested structs,
    /// subsections and array elements), in stream order (of a whole stream:
    /// ``DeviceSectionFacts``).
    static func collect(
        _ record: FieldRecord, path: String, section: AnalyzedSection, into found: inout [PCIConfigSpace]
    ) {
        for m in record.members {
            let p = path.isEmpty ? m.name : path + "/" + m.name
            if m.type == "pci config", let bytes = firstBytes(m.value), bytes.count >= 256 {
                found.append(
                    PCIConfigSpace(
                        section: section.name, instanceID: section.instanceID, field: p, bytes: Array(bytes.prefix(256))
                    ))
            } else if m.type == "virtio", case .bytes(let blob) = m.value, isPCIPath(section.name),
                blob.count >= 4 + 256,
                blob[0..<4].elementsEqual([0, 0, 0, 2])
            {
                // virtio_save() begins with the transport's config: for virtio-pci,
                // vmstate_pci_device (its version_id, 2, then the configuration space).
                found.append(
                    PCIConfigSpace(
                        section: section.name, instanceID: section.instanceID, field: p, bytes: Array(blob[4..<260])))
            } else {
                switch m.value {
                case .record(let r): collect(r, path: p, section: section, into: &found)
                case .list(let values):
                    for case .record(let r) in values { collect(r, path: p, section: section, into: &found) }
                default: break
                }
            }
        }
    }

    /// The bytes of a buffer field, or of the first element of a one-element list (QEMU 7.2's
    /// vmdesc names the buffer `config[0]`).
    private static func firstBytes(_ v: FieldValue) -> [UInt8]? {
        switch v {
        case .bytes(let b): return b
        case .list(let values): if let first = values.first { return firstBytes(first) }
        default: break
        }
        return nil
    }

    /// Whether an idstr names a PCI device: QEMU prefixes it with the device's PCI path
    /// (hw/pci/pci.c `pcibus_get_dev_path`): its root bus's path, then `:SS.F` for each slot
    /// and function from the root down (`0000:00:02.0/`, behind bridges `0000:00:03.0:01.0/`).
    /// The root bus's path is the host bridge's own (`pci_root_bus_path`): domain and bus for
    /// i440fx, q35, gpex (aarch64 and riscv virt) and pxb; `pci@` and the bridge's address for
    /// ppc64 pseries (`pci@800000020000000:00.0/`); else the root bus's name (`pci.0:0d.0/` on
    /// ppc64 mac99, `pci:12.0/` on mips malta).
    package static func isPCIPath(_ idstr: String) -> Bool {
        guard let slash = idstr.firstIndex(of: "/") else { return false }
        let parts = idstr[..<slash].split(separator: ":", omittingEmptySubsequences: false)
        func hex(_ part: Substring, _ count: Int) -> Bool { part.count == count && part.allSatisfy(\.isHexDigit) }
        // The slots: two hex digits, a dot, the function.
        var root = parts.count
        while root > 0, parts[root - 1].count == 4, hex(parts[root - 1].prefix(2), 2),
            parts[root - 1].dropFirst(2).first == ".", hex(parts[root - 1].suffix(1), 1)
        {
            root -= 1
        }
        guard root < parts.count else { return false }
        switch root {
        case 2: return hex(parts[0], 4) && hex(parts[1], 2)  // domain and bus
        case 1:  // a bus's name or pseries' pci@ADDRESS
            return !parts[0].isEmpty && parts[0] != "pci@"
                && parts[0].allSatisfy { $0.isLetter || $0.isNumber || "@._-".contains($0) }
        default: return false
        }
    }

    /// A byte where a saved configuration space differs from the loading device's in bits
    /// QEMU compares.
    public struct Difference: Sendable, Equatable {
        /// The byte's offset in the configuration space.
        public var offset: Int
        /// OLD's (the saved) byte and NEW's (the loading device's).
        public var old: UInt8, new: UInt8
        /// The bits QEMU compares there.
        public var mask: UInt8
        /// The register, e.g. `device ID`, `MSI-X message control: table size`.
        public var register: String

        /// A difference with every part given.
        public init(offset: Int, old: UInt8, new: UInt8, mask: UInt8, register: String) {
            (self.offset, self.old, self.new, self.mask, self.register) = (offset, old, new, mask, register)
        }
    }

    /// The first byte where `saved` differs from this (the loading device's) space in a bit
    /// QEMU's load compares, or nil.
    public func firstDifference(saved: PCIConfigSpace) -> Difference? {
        let (masks, names) = checkedBits()
        for i in 0..<min(bytes.count, saved.bytes.count) where (bytes[i] ^ saved.bytes[i]) & masks[i] != 0 {
            return Difference(offset: i, old: saved.bytes[i], new: bytes[i], mask: masks[i], register: names[i])
        }
        return nil
    }

    /// Per byte of the first 256, the bits QEMU's load compares (a subset: those fixed for
    /// every device by pci.c's `pci_init_cmask`, `pci_register_bar` and `pci_add_capability`, and the capability
    /// registers no guest can write: MSI, MSI-X, power management, PCI Express, virtio's), and
    /// the register each belongs to. The capability list is walked in these bytes: the
    /// loading device's, whose masks QEMU uses.
    package func checkedBits() -> (masks: [UInt8], names: [String]) {
        var masks = [UInt8](repeating: 0, count: 256)
        var names = [String](repeating: "", count: 256)
        func mark(_ range: Range<Int>, _ name: String, bits mask: UInt8 = 0xff) {
            for i in range where i < 256 {
                masks[i] |= mask
                names[i] = name
            }
        }
        guard bytes.count >= 256 else { return (masks, names) }
        // pci_init_cmask: IDs, the status register's capability-list bit, revision, class,
        // header type, capabilities pointer (none of them writable).
        mark(0..<2, "vendor ID")
        mark(2..<4, "device ID")
        mark(6..<7, "status: capability list", bits: 0x10)
        mark(8..<9, "revision ID")
        mark(9..<12, "class code")
        mark(14..<15, "header type")
        mark(0x34..<0x35, "capabilities pointer")
        // pci_register_bar: a BAR's bits below its size are compared (cmask all, wmask
        // ~(size - 1)), so at least its type bits, I/O (bit 0 set) 0-1, memory 0-3. A BAR that
        // reads 0 may be unregistered (nothing compared) or an unassigned 32-bit memory BAR:
        // not known, left out; so is a 64-bit BAR's upper half. Six BARs, a bridge's two.
        var bar = 0x10
        while bar < (bytes[14] & 0x7f == 1 ? 0x18 : 0x28) {
            let low = bytes[bar]
            let value = bytes[bar..<bar + 4].reduce(0) { $0 | $1 }
            let n = (bar - 0x10) / 4
            if value == 0 {
                bar += 4
            } else if low & 1 != 0 {
                mark(bar..<bar + 1, "BAR \(n): I/O space", bits: 0x03)
                bar += 4
            } else {
                mark(bar..<bar + 1, "BAR \(n): memory type, prefetchable", bits: 0x0f)
                bar += low & 0x06 == 0x04 ? 8 : 4
            }
        }
        guard bytes[6] & 0x10 != 0 else { return (masks, names) }
        let isVirtio = bytes[0] == 0xf4 && bytes[1] == 0x1a
        var at = Int(bytes[0x34] & 0xfc)
        var seen = Set<Int>()
        // pci_add_capability compares a capability's bytes, less what its init makes writable.
        while at >= 0x40, at <= 0xfc, seen.insert(at).inserted {
            let id = bytes[at]
            mark(at..<at + 2, "capability 0x\(String(id, radix: 16)) at 0x\(String(at, radix: 16)): ID, next pointer")
            switch id {
            case 0x01:  // power management: PMC
                mark(at + 2..<at + 4, "power management capabilities")
            case 0x05:  // MSI: message control less enable and multiple message enable
                mark(at + 2..<at + 3, "MSI message control", bits: 0x8e)
                mark(at + 3..<at + 4, "MSI message control")
            case 0x10:  // PCI Express: capabilities, device capabilities, link capabilities
                mark(at + 2..<at + 4, "PCI Express capabilities register")
                mark(at + 4..<at + 8, "PCI Express device capabilities")
                mark(at + 12..<at + 16, "PCI Express link capabilities")
            case 0x11:  // MSI-X: table size, table and PBA offsets (enable and mask-all are writable)
                mark(at + 2..<at + 3, "MSI-X message control: table size")
                mark(at + 3..<at + 4, "MSI-X message control: table size", bits: 0x3f)
                mark(at + 4..<at + 8, "MSI-X table offset")
                mark(at + 8..<at + 12, "MSI-X PBA offset")
            case 0x09:  // vendor-specific: its length
                mark(at + 2..<at + 3, "vendor-specific capability length")
                if isVirtio, at + 3 < 256 {
                    // struct virtio_pci_cap: cfg_type, bar, id, padding, offset, length; the
                    // PCI configuration access capability (type 5) has bar, offset and length
                    // writable.
                    mark(at + 3..<at + 4, "virtio capability type")
                    if bytes[at + 3] != 5 { mark(at + 4..<at + 16, "virtio capability: bar, offset, length") }
                    if bytes[at + 3] == 2 { mark(at + 16..<at + 20, "virtio notify offset multiplier") }
                }
            default:
                break
            }
            at = Int(bytes[at + 1] & 0xfc)
        }
        return (masks, names)
    }
}
