import VMState

/// A field of a stream's device section whose saved value QEMU's destination compares with its
/// own device's value on load, instead of taking it (migration/vmstate-types.c):
///
/// - `VMSTATE_*_EQUAL` (vmdesc types `uint8 equal`, `uint16 equal`, `uint32 equal`, `int32
///   equal`, and `int64 equal`, QEMU's name for the uint64 one) refuse any other value: QEMU
///   prints the two in hex, its own first (`8 != 10`), then `Failed to load DESCRIPTION:FIELD`.
/// - `VMSTATE_INT32_POSITIVE_LE` (`int32 le`) refuses a negative value or one above its own
///   (`Invalid value 3 expecting positive value <= 2`).
///
/// Such fields hold what the device or the machine was made with (a PCIe port's `aer_log_max`,
/// QXL's surface count, the PCI bus's `nirq`: 4 on `pc`, 8 on `q35`), so a stream the
/// destination's own QEMU saved shows the value it will compare with.
public struct CheckedFieldValue: Sendable, Equatable {
    /// How QEMU compares the saved value with its own.
    public enum Rule: Sendable, Equatable {
        /// Any other value is refused (`VMSTATE_*_EQUAL`).
        case equal
        /// A negative value or one above the destination's is refused
        /// (`VMSTATE_INT32_POSITIVE_LE`).
        case positiveAtMost
    }

    /// The section's idstr.
    public var section: String
    /// The section's instance id.
    public var instanceID: UInt32
    /// The field's path in the section (`parent_obj.exp.aer_log/log_max`, `ports[1]`).
    public var field: String
    /// The description holding the field (`PCIE_AER_ERROR_LOG`: QEMU's "Failed to load
    /// PCIE_AER_ERROR_LOG:log_max"), when the vmdesc names it.
    public var description: String?
    /// The vmdesc type (`uint16 equal`).
    public var type: String
    /// The value's big-endian bytes as saved.
    public var bytes: [UInt8]

    /// A value with every part given.
    public init(
        section: String, instanceID: UInt32, field: String, description: String? = nil, type: String, bytes: [UInt8]
    ) {
        (self.section, self.instanceID, self.field, self.description) = (section, instanceID, field, description)
        (self.type, self.bytes) = (type, bytes)
    }

    /// Section, instance and field: where two streams' values pair up.
    public struct Key: Hashable, Sendable {
        public var section: String
        public var instanceID: UInt32
        public var field: String
    }

    /// Where this value pairs up with the other stream's.
    public var key: Key { Key(section: section, instanceID: instanceID, field: field) }

    /// A section of a stream: its idstr and instance id.
    public struct Section: Hashable, Sendable {
        public var name: String
        public var instanceID: UInt32
        public init(name: String, instanceID: UInt32) { (self.name, self.instanceID) = (name, instanceID) }
    }

    /// The rule of a vmdesc type, nil for a type QEMU does not compare.
    public static func rule(ofType type: String) -> Rule? {
        switch type {
        case "uint8 equal", "uint16 equal", "uint32 equal", "int32 equal", "int64 equal": return .equal
        case "int32 le": return .positiveAtMost
        default: return nil
        }
    }

    /// The value as an unsigned number (the bytes, big-endian, at most 8).
    public var unsigned: UInt64 { bytes.suffix(8).reduce(0) { $0 << 8 | UInt64($1) } }

    /// The value of an `int32 le` field as QEMU reads it (an `int32_t`).
    var int32: Int32 { Int32(truncatingIfNeeded: unsigned) }

    /// QEMU's message when its destination, holding this value (with this field's type: the
    /// destination's table decides), refuses `saved`; nil when it takes it.
    public func refusal(of saved: CheckedFieldValue) -> String? {
        switch Self.rule(ofType: type) {
        case .equal?:
            guard saved.unsigned != unsigned else { return nil }
            return String(unsigned, radix: 16) + " != " + String(saved.unsigned, radix: 16)
        case .positiveAtMost?:
            guard saved.int32 < 0 || saved.int32 > int32 else { return nil }
            return "Invalid value \(saved.int32) expecting positive value <= \(int32)"
        case nil:
            return nil
        }
    }

    /// The compared fields of one device section's record (its members, nested structs,
    /// subsections and array elements), in stream order; with `keys`, the integer fields at
    /// those keys (``key``) whatever their type instead.
    static func collect(
        _ record: FieldRecord, path: String, section: AnalyzedSection, keys: Set<Key>? = nil,
        into found: inout [CheckedFieldValue]
    ) {
        func visit(_ value: FieldValue, _ type: String, _ path: String, in description: String?) {
            switch value {
            case .integer(let bytes, _):
                let wanted =
                    keys?.contains(Key(section: section.name, instanceID: section.instanceID, field: path))
                    ?? (rule(ofType: type) != nil)
                guard wanted else { return }
                found.append(
                    CheckedFieldValue(
                        section: section.name, instanceID: section.instanceID, field: path, description: description,
                        type: type, bytes: bytes.array))
            case .record(let r):
                for m in r.members { visit(m.value, m.type, path + "/" + m.name, in: r.vmsdName ?? description) }
            case .list(let values):
                // A list's elements share its type: of integers that QEMU does not compare, none.
                if keys == nil, rule(ofType: type) == nil, case .integer? = values.first { return }
                for (i, v) in values.enumerated() { visit(v, type, "\(path)[\(i)]", in: description) }
            default:
                break
            }
        }
        for m in record.members {
            visit(m.value, m.type, path.isEmpty ? m.name : path + "/" + m.name, in: record.vmsdName)
        }
    }
}

/// A buffer field of a stream's device section that is as long as the value of an integer field
/// before it in the same description: a `VMSTATE_VBUFFER*` field, whose length the stream
/// carries (spapr's `fdt_blob` after `fdt_size`), which two saves may give two lengths that
/// QEMU loads alike. (A vmdesc says only "buffer", as for a fixed one.) Likewise an array of
/// as many elements as such a field says: a `VMSTATE_VARRAY*` field (ARM cpu's
/// `cpreg_vmstate_indexes` after `cpreg_vmstate_array_len`).
package struct SizedBuffer: Hashable, Sendable {
    /// The section's key in `vmstate compat`'s documents: its idstr, with " (instance N)" for
    /// N > 0 (``DescriptionSet/Entry/key``).
    package var section: String
    /// The description holding the field.
    package var description: String
    /// The field's name.
    package var field: String

    package init(section: String, description: String, field: String) {
        (self.section, self.description, self.field) = (section, description, field)
    }

    /// The sized buffers of one device section's record (its members, nested structs and
    /// subsections) into `found`.
    static func collect(_ record: FieldRecord, section: AnalyzedSection, into found: inout Set<SizedBuffer>) {
        let key = DescriptionSet.Entry.key(section.name, section.instanceID)
        func visit(_ r: FieldRecord) {
            var lengths = Set<UInt64>()
            for m in r.members {
                if let length = m.value.unsignedValue { lengths.insert(length) }
                switch m.value {
                case .bytes(let b) where m.type == "buffer" && !b.isEmpty && lengths.contains(UInt64(b.count)):
                    found.insert(SizedBuffer(section: key, description: r.vmsdName ?? "", field: m.name))
                case .list(let values) where !values.isEmpty && lengths.contains(UInt64(values.count)):
                    found.insert(SizedBuffer(section: key, description: r.vmsdName ?? "", field: m.name))
                case .record(let nested):
                    visit(nested)
                default:
                    break
                }
            }
        }
        visit(record)
    }
}

/// The coprocessor register list an ARM `cpu` section carries (`cpreg_vmstate_indexes`, QEMU's
/// target/arm/machine.c): the indexes of the registers the source migrates, ascending. QEMU's
/// destination walks it beside its own list in `cpu_post_load` and fails the load ("error while
/// loading state for instance 0x0 of device 'cpu'") at an index its own list lacks, unless every
/// index of its own list is below it (the rest of the incoming list is then not looked at).
///
/// A register of the destination's list that the incoming one lacks is not skipped as QEMU's
/// comment says ("retains its current (reset) value"): `cpu_post_load` leaves its slot of
/// `cpreg_values` as it was, memory `init_cpreg_list` allocated (`g_new`) and only a save
/// fills, then `write_list_to_cpustate` writes every slot to its register and fails the load
/// when one does not read back: a constant register whose value is not what the slot holds (in
/// practice 0), as cortex-a8/a9's RMR_EL3 (value 1) that QEMU 10.0 added (checked on
/// 2026-12-07: QEMU 10.0 refuses its own vexpress-a9 stream without that register, and loads it
/// without the 15 others 10.0 added, all 0 there).
public struct CPURegisterList: Sendable, Equatable {
    /// The section's idstr (`cpu`) and instance id.
    public var section: String
    public var instanceID: UInt32
    /// The indexes, as saved.
    public var indexes: [UInt64]
    /// The registers' values (`cpreg_vmstate_values`), one per index, when the section's
    /// record has them.
    public var values: [UInt64]?

    public init(section: String, instanceID: UInt32, indexes: [UInt64], values: [UInt64]? = nil) {
        (self.section, self.instanceID, self.indexes, self.values) = (section, instanceID, indexes, values)
    }

    /// The registers of this list whose value is not 0 that `saved` does not have: each one a
    /// destination holding this list sets to what its slot holds (see above), by index, with its
    /// value here; empty without values.
    public func unsent(by saved: CPURegisterList) -> [(index: UInt64, value: UInt64)] {
        guard let values, values.count == indexes.count else { return [] }
        let sent = Set(saved.indexes)
        return zip(indexes, values).filter { $0.1 != 0 && !sent.contains($0.0) }.map { (index: $0.0, value: $0.1) }
    }

    /// The first index of `saved` that a destination holding this list refuses, walking both
    /// lists as QEMU does; nil when it loads.
    public func refused(_ saved: CPURegisterList) -> UInt64? {
        var i = 0
        for index in saved.indexes {
            while i < indexes.count && index > indexes[i] { i += 1 }
            guard i < indexes.count else { return nil }
            if index < indexes[i] { return index }
            i += 1
        }
        return nil
    }

    /// The list of one device section's record, when it is an ARM `cpu` description's.
    static func collect(_ record: FieldRecord, section: AnalyzedSection, into found: inout [CPURegisterList]) {
        guard record.vmsdName == "cpu",
            let member = record.members.first(where: { $0.name == "cpreg_vmstate_indexes" }),
            case .list(let values) = member.value
        else { return }
        let indexes = values.compactMap(\.unsignedValue)
        guard indexes.count == values.count else { return }
        var registerValues: [UInt64]?
        if case .list(let v)? = record["cpreg_vmstate_values"] {
            let numbers = v.compactMap(\.unsignedValue)
            if numbers.count == indexes.count { registerValues = numbers }
        }
        found.append(
            CPURegisterList(
                section: section.name, instanceID: section.instanceID, indexes: indexes, values: registerValues))
    }
}

/// The processor version register a ppc `cpu` section carries (QEMU's target/ppc/machine.c:
/// `env.spr[287]`, SPR_PVR) and the compatibility mode it ran in (its `cpu/compat` subsection's
/// `compat_pvr`, saved only when nonzero). QEMU's destination, when the source ran in no
/// compatibility mode, takes a PVR other than its own CPU model's only when the model's
/// `pvr_match` accepts it (`cpu_post_load`, else "error while loading state for instance 0x0 of
/// device 'cpu'"). Every model's rule refuses a PVR of another family (its upper 16 bits,
/// CPU_POWERPC_POWER_SERVER_MASK; CPUs other than the POWER server ones take only their own
/// PVR); within a family it depends on the model and the QEMU version (QEMU 10.0: POWER7 and
/// POWER8 take any revision, POWER9 DD2.0/2.1 and DD2.2/2.3 are two models, POWER10 and
/// POWER11 take the same major revision).
public struct CPUVersionRegister: Sendable, Equatable {
    /// The section's idstr (`cpu`) and instance id.
    public var section: String
    public var instanceID: UInt32
    /// The PVR, as saved.
    public var pvr: UInt64
    /// The compatibility mode's PVR, when the section has a `cpu/compat` subsection.
    public var compatPVR: UInt64?

    public init(section: String, instanceID: UInt32, pvr: UInt64, compatPVR: UInt64?) {
        (self.section, self.instanceID, self.pvr, self.compatPVR) = (section, instanceID, pvr, compatPVR)
    }

    /// SPR_PVR, the index of the PVR in `env.spr`.
    static let index = 287

    /// The PVR of one device section's record, when it is a ppc `cpu` description's (its
    /// `env.spr` array holds the PVR).
    static func collect(_ record: FieldRecord, section: AnalyzedSection, into found: inout [CPUVersionRegister]) {
        guard record.vmsdName == "cpu", case .list(let sprs)? = record["env.spr"], sprs.count > index,
            let pvr = sprs[index].unsignedValue
        else { return }
        var compatPVR: UInt64?
        if case .record(let compat)? = record["cpu/compat"] { compatPVR = compat["compat_pvr"]?.unsignedValue }
        found.append(
            CPUVersionRegister(section: section.name, instanceID: section.instanceID, pvr: pvr, compatPVR: compatPVR))
    }
}

/// What `vmstate compat` compares of two streams' device sections besides their descriptions,
/// gathered in one reading of each device section.
package struct DeviceSectionFacts: Sendable {
    /// The PCI configuration spaces (``PCIConfigSpace``), in stream order.
    package var pciConfigs: [PCIConfigSpace] = []
    /// The fields QEMU compares on load (``CheckedFieldValue``), in stream order.
    package var checkedValues: [CheckedFieldValue] = []
    /// The buffers whose length an earlier field gives (``SizedBuffer``).
    package var sizedBuffers: Set<SizedBuffer> = []
    /// The ARM `cpu` sections' register lists (``CPURegisterList``), in stream order.
    package var cpuRegisterLists: [CPURegisterList] = []
    /// The ppc `cpu` sections' PVRs (``CPUVersionRegister``), in stream order.
    package var cpuVersionRegisters: [CPUVersionRegister] = []
    /// The virtio-pci devices' negotiated features (``VirtioFeatures``), in stream order.
    package var virtioFeatures: [VirtioFeatures] = []
    /// The device sections the stream has more than one of with one idstr and instance (QEMU
    /// 7.2's isapc registers its `isa-ide` channels all as instance 0), by key
    /// (``DescriptionSet/Entry/key``): true when the copies hold different state.
    package var repeatedSections: [String: Bool] = [:]
    /// How many sections the stream has of each of those keys.
    package var sectionCopies: [String: Int] = [:]

    /// The facts of the device sections of `analysis`, read without keeping their fields and
    /// read again one at a time (``StreamAnalysis/deviceRecord(at:reader:)``). Throws
    /// `StreamAnalysisError` when one no longer reads as it did.
    package static func found(in analysis: StreamAnalysis) throws(StreamAnalysisError) -> DeviceSectionFacts {
        var facts = DeviceSectionFacts()
        var copies: [String: Int] = [:]
        for s in analysis.sections { copies[DescriptionSet.Entry.key(s.name, s.instanceID), default: 0] += 1 }
        facts.sectionCopies = copies.filter { $0.value > 1 }
        var firstCopy: [String: FieldRecord] = [:]  // (of the repeated keys only)
        try forEachDeviceRecord(in: analysis) { record, s in
            PCIConfigSpace.collect(record, path: "", section: s, into: &facts.pciConfigs)
            CheckedFieldValue.collect(record, path: "", section: s, into: &facts.checkedValues)
            SizedBuffer.collect(record, section: s, into: &facts.sizedBuffers)
            CPURegisterList.collect(record, section: s, into: &facts.cpuRegisterLists)
            CPUVersionRegister.collect(record, section: s, into: &facts.cpuVersionRegisters)
            VirtioFeatures.collect(record, path: "", section: s, into: &facts.virtioFeatures)
            let key = DescriptionSet.Entry.key(s.name, s.instanceID)
            guard copies[key, default: 0] > 1 else { return }
            if let first = firstCopy[key] {
                facts.repeatedSections[key] =
                    facts.repeatedSections[key, default: false] || !first.sameState(as: record)
            } else {
                firstCopy[key] = record
            }
        }
        return facts
    }

    /// The integer fields of `analysis` at `keys` (``CheckedFieldValue/key``), whatever their
    /// type: the other stream's values of fields one stream's QEMU compares and the other's
    /// does not (a field another QEMU's table declares otherwise). Nothing is read when `keys`
    /// is empty.
    package static func values(
        in analysis: StreamAnalysis, at keys: Set<CheckedFieldValue.Key>
    ) throws(StreamAnalysisError) -> [CheckedFieldValue] {
        guard !keys.isEmpty else { return [] }
        var found: [CheckedFieldValue] = []
        try forEachDeviceRecord(in: analysis, named: Set(keys.map(\.section))) { record, s in
            CheckedFieldValue.collect(record, path: "", section: s, keys: keys, into: &found)
        }
        return found
    }

    /// Each device section of `analysis` (of those `named`, when given), read again
    /// (``StreamAnalysis/deviceRecord(at:reader:)``), in stream order.
    private static func forEachDeviceRecord(
        in analysis: StreamAnalysis, named: Set<String>? = nil, _ body: (FieldRecord, AnalyzedSection) -> Void
    ) throws(StreamAnalysisError) {
        let rereader = try analysis.makeDeviceSectionRereader()
        for (i, s) in analysis.sections.enumerated() where named?.contains(s.name) ?? true {
            guard let record = try analysis.deviceRecord(at: i, reader: rereader) else { continue }
            body(record, s)
        }
    }
}

extension FieldRecord {
    /// Whether `other` holds the same state: the same description and version, and members of
    /// the same names, types and values (nested records alike), wherever each was read.
    func sameState(as other: FieldRecord) -> Bool {
        guard vmsdName == other.vmsdName, version == other.version, members.count == other.members.count else {
            return false
        }
        return zip(members, other.members).allSatisfy {
            $0.name == $1.name && $0.type == $1.type && Self.sameValue($0.value, $1.value)
        }
    }

    private static func sameValue(_ a: FieldValue, _ b: FieldValue) -> Bool {
        switch (a, b) {
        case (.record(let x), .record(let y)): x.sameState(as: y)
        case (.list(let x), .list(let y)): x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
        default: a == b
        }
    }
}
