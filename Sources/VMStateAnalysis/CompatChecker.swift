import Synchronization
import VMState
// Static migration compatibility between two `-dump-vmstate` files.
//
// The question: can state saved by the OLD binary be loaded by the NEW one? The rules are those
// of QEMU's scripts/vmstate-static-checker.py (as of QEMU 10.0):
//
// * every OLD section must exist in NEW (or under a name QEMU renamed it to);
// * NEW's version_id must not be lower than OLD's (sections and descriptions) and neither may
//   a field's version_id, the version it appeared in (but see the loader rules below);
// * NEW's minimum_version_id must not be higher than OLD's version_id;
// * fields are compared in order: same names (or a known rename), same sizes. OLD's "unused"
//   space may be taken by NEW fields of the same total size, and NEW's "unused" space may
//   cover OLD fields of the same total size; an array's size there is its element size times
//   its "num" (QEMU 8.1 and later write "num" for fixed-size arrays). Fields that NEW moved
//   into a nested struct (or that OLD had in one and NEW flattened) still match when the
//   struct's first field does;
// * a field with a nested description needs one in NEW, with the same name, itself compatible;
// * every OLD subsection must exist in NEW (by name), compatible;
// * every entry of an OLD section or description must be present in NEW;
// * the names QEMU changed over the years (the script's tables of sections, fields and
//   description names) count as the same, per pair (the script accepts any two names of a
//   table's list; a list is pairs of old and new names).
//
// Beyond the script, the rules of QEMU's loader and saver (migration/vmstate.c,
// vmstate_load_state and vmstate_save_state_v: a field is read or written when its version_id
// is at most the version being loaded or saved, a conditional one when its test passes,
// whatever its version_id; a top-level description is saved at OLD's version_id and loaded at
// the version in the stream, OLD's; a subsection at the version in its header, OLD's; a nested
// VMS_STRUCT description is saved at OLD's own version_id and loaded at NEW's):
//
// * a NEW field that OLD does not have, read when NEW loads OLD's version (its version_id not
//   above it), is reported (`field-added`): NEW would read bytes OLD never wrote. Checked where
//   OLD's fields end too, which the script does not look at (unless a field of the list
//   changed size: the bytes no longer line up then);
// * a NEW field with a version_id above the version NEW loads is skipped when it does not match
//   OLD's field (NEW does not read it: a field added with a new version is compatible), and a
//   matching field whose version_id NEW raised above OLD's version is reported (unless OLD's
//   own version_id for it is above OLD's version too: QEMU saves a field only at its version,
//   so neither side has it in the stream);
// * a field OLD never saves (its version_id above the version OLD saves at) takes no part: not
//   compared, nor taking unused space, and NEW may lack it; one NEW reads there is `field-added`
//   (in a nested description: OLD's version below the field's, NEW's not);
// * no field NEW reads is looked for where NEW refuses OLD's version (above NEW's version_id or
//   below its minimum_version_id): NEW reads none of the fields then;
// * a field whose version_id NEW lowered (the script's rule) is reported only when some version
//   both sides accept lies between the two: NEW reads the field there, where OLD's description
//   says state of that version has none. QEMU 10.1 lowered rtc's and hpet's fields to version 0
//   while raising minimum_version_id above their old versions: it refuses those versions, and
//   loads QEMU 10.0's state. In a nested description, saved and loaded at one version on each
//   side, the rules above decide; one lowered that both save and load is an undecided warning
//   (a VMS_VSTRUCT field, whose struct_version_id -dump-vmstate does not show, may differ);
// * a fixed array whose "num" differs on the two sides (both having "num") is a size change;
// * NEW's unused space that OLD's remaining fields do not fill is reported;
// * minimum_version_id is also checked at section level; the section-level version check is
//   skipped when the section's numbers are those of its own description (the description check
//   reports it, so it is not reported twice); NEW's unused space smaller than the OLD field it
//   would cover is reported at once.
//
// A side that is a vmdesc (`oldIsVMDesc`, `newIsVMDesc`) has no field versions and no entries
// for variable-size arrays that were empty, so the added-field rule is a warning where it
// cannot be decided.

/// One reason why OLD state does not load into NEW.
public struct CompatFinding: Sendable, Equatable {
    /// What kind of rule was broken. Raw values are the `kind` strings of `--json` output.
    public enum Kind: String, Sendable, CaseIterable {
        /// An OLD section does not exist in NEW.
        case sectionMissing = "section-missing"
        /// NEW's version_id is lower than OLD's (a section or description).
        case version = "version"
        /// NEW's minimum_version_id is higher than OLD's version_id.
        case minimumVersion = "minimum-version"
        /// A field's version_id (the version that added it) differs where it matters: lower in
        /// NEW than in OLD (the script's rule) where versions both accept lie between the two
        /// (NEW reads the field there, where OLD's state has none), or above the version NEW
        /// loads OLD's state at (NEW skips what OLD saved).
        case fieldVersion = "field-version"
        /// A field's size changed.
        case size = "size"
        /// NEW has no field where OLD has one (NEW's field list ends early, or has none).
        case fieldMissing = "field-missing"
        /// NEW has a different field where OLD has one: renamed, reordered, inserted or removed.
        case fieldMismatch = "field-mismatch"
        /// "unused" space on one side does not add up to the fields on the other side.
        case unusedSize = "unused-size"
        /// An OLD subsection does not exist in NEW.
        case subsectionMissing = "subsection-missing"
        /// An OLD field or section has a nested description and NEW's has none.
        case descriptionMissing = "description-missing"
        /// A nested description has a different name in NEW.
        case descriptionRenamed = "description-renamed"
        /// Another entry of an OLD section or description (e.g. minimum_version_id) is absent
        /// in NEW.
        case entryMissing = "entry-missing"
        /// NEW reads a field that OLD does not save: added without a version above OLD's
        /// version_id (or to a nested description, which NEW loads at its own version).
        case fieldAdded = "field-added"
        /// The machine types differ where a side is a stream (its configuration section): QEMU
        /// refuses a stream of another machine type, or without a configuration section when
        /// its own machine type sends one.
        case machineType = "machine-type"
        /// A RAM block OLD's stream sends is missing in NEW's, or has another length there
        /// (stream against stream only; QEMU: "Unknown ramblock", "Size mismatch").
        case ramBlock = "ram-block"
        /// Stream against stream, the configuration sections disagree on what QEMU checks
        /// besides the machine type: the VM UUID (capability validate-uuid), section footers
        /// (`-global migration.send-section-footer=off`).
        case configuration = "configuration"
        /// Stream against stream, a device's PCI configuration space differs in a bit QEMU
        /// compares on load (one fixed when the device was made: its model, `vectors`,
        /// `num_queues`...; QEMU: "Bad config data").
        case pciConfig = "pci-config"
        /// Stream against stream, a field QEMU compares with the destination device's own value
        /// on load (`VMSTATE_*_EQUAL`: any other value; `VMSTATE_INT32_POSITIVE_LE`: a larger or
        /// negative one) holds in OLD a value NEW's QEMU refuses (QEMU: "8 != 10").
        case checkedValue = "checked-value"
        /// Stream against stream, OLD's ARM `cpu` section migrates a coprocessor register NEW's
        /// CPU does not have (`cpreg_vmstate_indexes`; QEMU's `cpu_post_load` fails the load:
        /// "error while loading state for instance 0x0 of device 'cpu'").
        case cpuRegisters = "cpu-registers"
        /// Stream against stream, OLD's ppc `cpu` section, in no compatibility mode, has a PVR
        /// of another CPU family than NEW's (`env.spr[287]`; QEMU's `cpu_post_load` fails the
        /// load).
        case cpuModel = "cpu-model"
        /// Two vmdescs (QEMU 10.0's) give an array of pointers (`VMS_ARRAY_OF_POINTER`) NULL
        /// entries at other indices: QEMU saves a NULL entry as one marker byte 0x30 and loads
        /// one where its own pointer is NULL (QEMU: "vmstate: get_nullptr expected
        /// VMS_NULLPTR_MARKER"), so the same entries must be NULL on both sides.
        case nullEntries = "null-entries"
        /// OLD's stream or vmdesc has several sections of one idstr and instance (QEMU 7.2's
        /// isapc saves its `isa-ide` channels all as instance 0) holding different state: QEMU
        /// loads each into the first device of that idstr and instance it has (`find_se`), so
        /// that device ends with the last one's state and the others' is lost.
        case sectionRepeated = "section-repeated"
        /// Two streams or vmdescs: OLD's section of an idstr without a device path (ISA's
        /// `ne2000`) goes to another of NEW's devices than the one of that idstr: QEMU's
        /// `find_se` also takes a device whose idstr holds the section's and whose description
        /// has its name (the entry every device with a path has for streams saved before there
        /// were paths), and NEW has such a device before (`0000:00:05.0/ne2000`).
        case sectionOtherDevice = "section-other-device"
        /// OLD's stream has a record QEMU's destination refuses whatever its machine (a hash
        /// table chunk past the table, storage attributes marked incomplete).
        case streamRefused = "stream-refused"
    }

    /// The section (the top-level key of the dump), as named in OLD.
    public var section: String
    /// The description the problem is in, when there is one.
    public var descriptionName: String?
    /// The field, when the problem is about one.
    public var field: String?
    /// What kind of problem (the `kind` of `--json`).
    public var kind: Kind
    /// A sentence explaining the problem.
    public var message: String

    /// A finding with every part given.
    public init(section: String, descriptionName: String?, field: String?, kind: Kind, message: String) {
        self.section = section
        self.descriptionName = descriptionName
        self.field = field
        self.kind = kind
        self.message = message
    }

    /// `section "s", description "d", field "f": message`
    public var text: String {
        var s = "section \"\(section)\""
        if let descriptionName { s += ", description \"\(descriptionName)\"" }
        if let field { s += ", field \"\(field)\"" }
        return s + ": " + message + " [\(kind.rawValue)]"
    }

    /// `{"section", "description" (null when none), "field" (only when there is one), "kind",
    /// "message"}`
    package var json: JSONValue {
        var o: JSONObject = ["section": .string(section), "description": descriptionName.map { .string($0) } ?? .null]
        if let field { o["field"] = .string(field) }
        o["kind"] = .string(kind.rawValue)
        o["message"] = .string(message)
        return .object(o)
    }
}

/// The outcome of a compatibility check.
public struct CompatReport: Sendable, Equatable {
    /// The problems that make state saved by OLD fail to load into NEW; empty when compatible.
    public var findings: [CompatFinding] = []
    /// Notes that do not make the pair incompatible (e.g. different machine types).
    public var warnings: [String] = []
    /// How many of ``warnings`` leave open whether the state loads: a field one side's vmdesc
    /// has no entry for, which an empty array or a field left out explains (it loads when the
    /// stream decides the count or test) as well as a field that side lacks (it does not). (A
    /// subsection a vmdesc lacks is warned about, not counted: not needed when saved is the
    /// common case.)
    public var undecided = 0

    /// True when there are no findings (warnings do not count).
    public var isCompatible: Bool { findings.isEmpty }

    /// A report with these findings and warnings (by default none: compatible).
    public init(findings: [CompatFinding] = [], warnings: [String] = []) {
        self.findings = findings
        self.warnings = warnings
    }

    package var json: JSONValue { .array(findings.map(\.json)) }
}

/// A `-dump-vmstate` file that does not have the expected shape.
public struct CompatInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which input ("OLD" or "NEW", or a file name) and where in it.
    public var location: String
    /// What is wrong there.
    public var message: String

    /// An input error at `location`.
    public init(location: String, message: String) {
        self.location = location
        self.message = message
    }

    /// `location: message`.
    public var description: String { "\(location): \(message)" }
}

/// Compares two `-dump-vmstate` files with the rules of QEMU's
/// `scripts/vmstate-static-checker.py`: can state saved by OLD load into NEW?
public struct CompatChecker: Sendable {
    /// The validated capabilities of `capabilities` that QEMU before 9.0 does not know: all
    /// but x-ignore-shared (QEMU 7.2 to 8.2 validate only that one; 9.0 added mapped-ram).
    package static func capabilitiesUnknownBefore9_0(_ capabilities: [String]) -> [String] {
        var seen = Set<String>()
        return capabilities.filter { $0 != "x-ignore-shared" && seen.insert($0).inserted }
    }

    /// "OLD sends 344 RAM pages compressed (capability compress, RAM flag 0x100)".
    package static func compressedPagesMessage(_ count: Int, _ side: String) -> String {
        "\(side) sends \(count) RAM page\(count == 1 ? "" : "s") compressed (capability compress, RAM flag 0x100)"
    }

    /// The warning for compressed pages against a loader that may have compress (QEMU before
    /// 9.1, with the capability on for the migration).
    package static func compressedPagesWarning(_ count: Int, _ side: String) -> String {
        compressedPagesMessage(count, side)
            + ": the destination must migrate with compress on (QEMU 7.2: \"Received an unexpected compressed page\" without it), which QEMU 9.1 and later no longer have (QEMU 10.0: \"Unknown combination of migration flags: 0x120\")"
    }

    /// What the checker treats as equal.
    public struct Options: Sendable {
        /// Names that count as the same: scope -> groups of interchangeable names. For field
        /// names the scope is the description name; for nested description names it is the
        /// section name; the scope "" applies everywhere. Section names use the scope
        /// "(section)".
        public var renames: [String: [Set<String>]]
        /// Whether QEMU's renames (``CompatChecker/qemuRenames``: those `vmstate-static-checker.py`
        /// knows, and QEMU 7.2 to 10.0's) count too (the default).
        public var qemuRenames: Bool

        /// Options with the given interchangeable names (none by default) besides QEMU's own
        /// when `qemuRenames`.
        public init(renames: [String: [Set<String>]] = [:], qemuRenames: Bool = true) {
            self.renames = renames
            self.qemuRenames = qemuRenames
        }

        /// Adds `a` and `b` as interchangeable names in `scope`.
        public mutating func addRename(scope: String, _ a: String, _ b: String) {
            renames[scope, default: []].append([a, b])
        }
    }

    /// The names QEMU changed without changing the bytes, the ones ``Options/qemuRenames``
    /// turns on: ``scriptRenames`` and ``versionRenames`` together.
    public static let qemuRenames: [String: [Set<String>]] = scriptRenames.merging(versionRenames) { $0 + $1 }

    /// The sections QEMU 7.2 and 10.0 save only while their description's `needed` holds (a
    /// `needed` on the section's own description, which `qemu_savevm_state_complete_precopy`
    /// checks through `vmstate_section_needed` before it writes the section): a stream, and so
    /// its vmdesc, may leave out a section its QEMU has. By name: `globalstate` (with
    /// `store-global-state` on; QEMU 7.2 also while the run state is neither running nor
    /// paused), `PCIHost` and `pcspk`
    /// (machine types whose compat properties turn their migration on), `smbus-eeprom`,
    /// `qemu-s390-flic`, `spapr_drc`, `spapr_watchdog`, `icp/server` (7.2), `VFIODisplay`,
    /// `ramfb-dev` and the `xen_*` sections (10.0) (read from QEMU's hw/ and migration/).
    public static let sectionsSavedWhenNeeded: Set<String> = [
        "globalstate", "PCIHost", "pcspk", "smbus-eeprom", "qemu-s390-flic", "spapr_drc", "spapr_watchdog",
        "icp/server", "VFIODisplay", "ramfb-dev", "xen_evtchn", "xen_gnttab", "xen_overlay", "xen_xenstore",
    ]

    /// The names QEMU renamed between QEMU 7.2 and 10.0 without changing the bytes (same place,
    /// size and version), which ``scriptRenames`` lacks: hpet's `num_timers`, now
    /// `num_timers_save`; esp's `data_in_ready` and `ti_cmd`, now `data_ready` and
    /// `mig_ti_cmd`; mpc-i2c's `dfssr`, now `dfsrr`; and ARM's `cpu` timers `gt_timer[0]` and
    /// `gt_timer[1]`, now `gt_timer[GTIMER_PHYS]` and `gt_timer[GTIMER_VIRT]` (QEMU names a
    /// field by its C expression: 7.2's GTIMER_PHYS was a `#define` of 0, 10.0's an enum
    /// constant). In ``Options/renames``' shape.
    public static let versionRenames: [String: [Set<String>]] = [
        "hpet": [["num_timers", "num_timers_save"]],
        "esp": [["data_in_ready", "data_ready"], ["ti_cmd", "mig_ti_cmd"]],
        "mpc-i2c": [["dfssr", "dfsrr"]],
        "cpu": [["gt_timer[0]", "gt_timer[GTIMER_PHYS]"], ["gt_timer[1]", "gt_timer[GTIMER_VIRT]"]],
    ]

    /// The names QEMU changed without changing the bytes, as QEMU 10.0's
    /// `scripts/vmstate-static-checker.py` lists them: scope -> pairs of old and new names, in
    /// ``Options/renames``' shape. A field's scope is its description name (`e1000`:
    /// `dev` = `parent_obj`); a nested description's is its section (`ich9-ahci`: `ahci` =
    /// `ich9_ahci`); sections use "(section)" (`ICH9 LPC` = `ICH9-LPC`, `e1000-82540em` =
    /// `e1000`).
    public static let scriptRenames: [String: [Set<String>]] = {
        let lists: [(String, [String])] = [
            ("(section)", ["ICH9 LPC", "ICH9-LPC", "e1000-82540em", "e1000"]),
            ("apic", ["timer", "timer_expiry"]),
            ("e1000", ["dev", "parent_obj"]),
            ("ehci", ["dev", "pcidev"]),
            ("I440FX", ["dev", "parent_obj"]),
            ("ich9_ahci", ["card", "parent_obj"]),
            ("ich9-ahci", ["ahci", "ich9_ahci"]),
            ("ioh3420", ["PCIDevice", "PCIEDevice"]),
            (
                "ioh-3240-express-root-port",
                [
                    "port.br.dev", "parent_obj.parent_obj.parent_obj", "port.br.dev.exp.aer_log",
                    "parent_obj.parent_obj.parent_obj.exp.aer_log",
                ]
            ),
            ("cirrus_vga", ["hw_cursor_x", "vga.hw_cursor_x", "hw_cursor_y", "vga.hw_cursor_y"]),
            ("lsiscsi", ["dev", "parent_obj"]),
            ("mch", ["d", "parent_obj"]),
            ("pci_bridge", ["bridge.dev", "parent_obj", "bridge.dev.shpc", "shpc"]),
            ("pcnet", ["pci_dev", "parent_obj"]),
            ("PIIX3", ["pci_irq_levels", "pci_irq_levels_vmstate"]),
            (
                "piix4_pm",
                [
                    "dev", "parent_obj", "pci0_status", "acpi_pci_hotplug.acpi_pcihp_pci_status[0x0]", "pm1a.sts",
                    "ar.pm1.evt.sts", "pm1a.en", "ar.pm1.evt.en", "pm1_cnt.cnt", "ar.pm1.cnt.cnt", "tmr.timer",
                    "ar.tmr.timer", "tmr.overflow_time", "ar.tmr.overflow_time", "gpe", "ar.gpe",
                ]
            ),
            ("rtl8139", ["dev", "parent_obj"]),
            ("qxl", ["num_surfaces", "ssd.num_surfaces"]),
            ("usb-ccid", ["abProtocolDataStructure", "abProtocolDataStructure.data"]),
            ("usb-host", ["dev", "parent_obj"]),
            ("usb-mouse", ["usb-ptr-queue", "HIDPointerEventQueue"]),
            ("usb-tablet", ["usb-ptr-queue", "HIDPointerEventQueue"]),
            ("vmware_vga", ["card", "parent_obj"]),
            ("vmware_vga_internal", ["depth", "new_depth"]),
            ("xhci", ["pci_dev", "parent_obj"]),
            ("x3130-upstream", ["PCIDevice", "PCIEDevice"]),
            (
                "xio3130-express-downstream-port",
                [
                    "port.br.dev", "parent_obj.parent_obj.parent_obj", "port.br.dev.exp.aer_log",
                    "parent_obj.parent_obj.parent_obj.exp.aer_log",
                ]
            ),
            ("xio3130-downstream", ["PCIDevice", "PCIEDevice"]),
            (
                "xio3130-express-upstream-port",
                ["br.dev", "parent_obj.parent_obj", "br.dev.exp.aer_log", "parent_obj.parent_obj.exp.aer_log"]
            ),
            (
                "spapr_pci",
                [
                    "dma_liobn[0]", "mig_liobn", "mem_win_addr", "mig_mem_win_addr", "mem_win_size",
                    "mig_mem_win_size", "io_win_addr", "mig_io_win_addr", "io_win_size", "mig_io_win_size",
                ]
            ),
        ]
        var table: [String: [Set<String>]] = [:]
        for (scope, names) in lists {
            for i in stride(from: 0, to: names.count - 1, by: 2) {
                table[scope, default: []].append([names[i], names[i + 1]])
            }
        }
        return table
    }()

    /// The options of the check.
    public var options: Options
    /// Names used for the inputs in error messages.
    public var oldLabel = "OLD"
    /// The name used for the loading side in error messages.
    public var newLabel = "NEW"
    /// OLD is a vmdesc (what a save wrote): a variable-size array that was empty has no entry,
    /// so a NEW field missing from it is a warning, not a finding.
    public var oldIsVMDesc = false
    /// NEW is a vmdesc: its fields have no version_id, so whether NEW reads a field OLD lacks
    /// is known only when NEW saved the version OLD saves (or for nested descriptions).
    public var newIsVMDesc = false

    /// Where a side's machine type comes from.
    public enum MachineType: Sendable, Equatable {
        /// A stream's configuration section; nil when it has none (machine types up to 2.3).
        case stream(String?)
        /// A `-dump-vmstate` file's "vmschkmachine".
        case dump(String)
        /// A vmdesc's description of the configuration section (QEMU 8.2 and later): the length
        /// in bytes of the machine type's name (its `name` buffer's size), all a vmdesc tells
        /// of it.
        case vmdesc(nameLength: Int)
    }
    /// OLD's machine type, when known. When OLD or NEW is a stream and both are known, a
    /// difference is a `machine-type` finding (two dumps: the "vmschkmachine" warning).
    public var oldMachine: MachineType?
    /// NEW's machine type, when known.
    public var newMachine: MachineType?
    /// OLD's RAM blocks (name, used length in bytes), when OLD is a stream; compared with
    /// ``newRAMBlocks`` when both are known.
    public var oldRAMBlocks: [RAMBlock]?
    /// NEW's RAM blocks, when NEW is a stream.
    public var newRAMBlocks: [RAMBlock]?
    /// OLD's PCI configuration spaces, when OLD is a stream; compared with ``newPCIConfigs``
    /// (same section, instance and field) when both are known.
    public var oldPCIConfigs: [PCIConfigSpace]?
    /// NEW's PCI configuration spaces, when NEW is a stream.
    public var newPCIConfigs: [PCIConfigSpace]?
    /// OLD's and NEW's virtio-pci negotiated features (``VirtioFeatures``), when both are streams.
    package var oldVirtioFeatures: [VirtioFeatures]?
    package var newVirtioFeatures: [VirtioFeatures]?
    /// OLD's ARM `cpu` register lists (``CPURegisterList``), when OLD is a stream; compared with
    /// ``newCPURegisterLists`` (same section and instance) when both are known.
    public var oldCPURegisterLists: [CPURegisterList]?
    /// NEW's ARM `cpu` register lists, when NEW is a stream.
    public var newCPURegisterLists: [CPURegisterList]?
    /// OLD's device sections of one idstr and instance that the stream has more than once, by
    /// key (``DescriptionSet/Entry/key``), true when the copies hold different state, when OLD
    /// is a stream (``DeviceSectionFacts/repeatedSections``).
    public var oldRepeatedSections: [String: Bool]?
    /// How many sections OLD's stream has of each of those keys (its vmdesc may list fewer
    /// entries, a crafted one: QEMU loads the sections, whatever the vmdesc says).
    public var oldSectionCopies: [String: Int]?
    /// OLD's ppc `cpu` PVRs (``CPUVersionRegister``), when OLD is a stream; compared with
    /// ``newCPUVersionRegisters`` (same section and instance) when both are known.
    public var oldCPUVersionRegisters: [CPUVersionRegister]?
    /// NEW's ppc `cpu` PVRs, when NEW is a stream.
    public var newCPUVersionRegisters: [CPUVersionRegister]?
    /// OLD's fields that QEMU compares on load (``CheckedFieldValue``), when OLD is a stream;
    /// compared with ``newCheckedValues`` (same section, instance and field) when both are known.
    public var oldCheckedValues: [CheckedFieldValue]?
    /// NEW's fields that QEMU compares on load, when NEW is a stream.
    public var newCheckedValues: [CheckedFieldValue]?
    /// OLD's values of fields NEW's stream types as compared and OLD's does not (another
    /// table), when both are streams.
    public var oldValuesNEWChecks: [CheckedFieldValue]?
    /// NEW's values of fields OLD's stream types as compared and NEW's does not.
    public var newValuesOLDChecks: [CheckedFieldValue]?
    /// NEW's stream's sections, when both are streams (a compared field of a section NEW lacks
    /// is left to the section-missing rule).
    public var newStreamSections: Set<CheckedFieldValue.Section>?

    /// What a stream's configuration says besides its machine type, as QEMU's destination
    /// checks it (savevm.c: the VM UUID, the validated capabilities, the section footers).
    public struct StreamConfiguration: Sendable, Equatable {
        /// The VM UUID (capability validate-uuid), as QEMU prints it; nil when not sent.
        public var uuid: String?
        /// The validated capabilities listed in the configuration section.
        public var capabilities: [String]
        /// The stream has sections and no section footers (saved with `-global
        /// migration.send-section-footer=off`, or, without a configuration section, for a
        /// machine type up to 2.3).
        public var noFooters: Bool
        /// The stream's first section after the configuration (QEMU's missing-footer error
        /// names it).
        public var firstSection: String?
        /// The stream has a configuration section.
        public var hasConfiguration: Bool
        /// The stream has the command SWITCHOVER_START (QEMU 10.0, machine types 10.0 and later
        /// and unversioned ones), which QEMU before 10.0 refuses.
        public var switchoverStart: Bool
        /// The stream's vmdesc describes its configuration section (QEMU 8.2 and later).
        public var vmdescDescribesConfiguration: Bool
        /// The bits of `configuration/target-page-bits`, which QEMU sends when its target's
        /// page size is above the target's minimum (ARM); nil when not sent.
        public var targetPageBits: Int?
        /// How many RAM pages the stream sends compressed (capability compress, RAM flag 0x100).
        public var compressedPages: Int

        public init(
            uuid: String?, capabilities: [String], noFooters: Bool, firstSection: String?, hasConfiguration: Bool,
            switchoverStart: Bool = false, vmdescDescribesConfiguration: Bool = false, targetPageBits: Int? = nil,
            compressedPages: Int = 0
        ) {
            self.compressedPages = compressedPages
            self.targetPageBits = targetPageBits
            self.uuid = uuid
            self.capabilities = capabilities
            self.noFooters = noFooters
            self.firstSection = firstSection
            self.hasConfiguration = hasConfiguration
            self.switchoverStart = switchoverStart
            self.vmdescDescribesConfiguration = vmdescDescribesConfiguration
        }
    }
    /// The buffers of OLD's and NEW's streams (when both are streams read whole) whose length
    /// equals an integer field before them in the same description (``SizedBuffer``).
    package var oldSizedBuffers: Set<SizedBuffer>?
    package var newSizedBuffers: Set<SizedBuffer>?

    /// Whether both streams give `buffer` the length an earlier field of theirs says.
    func bothStreamsSize(_ buffer: SizedBuffer) -> Bool {
        oldSizedBuffers?.contains(buffer) == true && newSizedBuffers?.contains(buffer) == true
    }
    /// Whether both sides' ARM coprocessor register lists of the section `key` (its
    /// ``DescriptionSet/Entry/key(_:_:)``) are known, and so compared by register
    /// (``CPURegisterList``): then the lists' arrays are known to be QEMU's
    /// `VMSTATE_VARRAY_INT32` counted by `cpreg_vmstate_array_len` (target/arm/machine.c, 7.2
    /// and 10.0 alike), whose lengths may differ.
    func comparesCPURegisterLists(ofSection key: String) -> Bool {
        func known(_ lists: [CPURegisterList]?) -> Bool {
            lists?.contains { DescriptionSet.Entry.key($0.section, $0.instanceID) == key } == true
        }
        return known(oldCPURegisterLists) && known(newCPURegisterLists)
    }
    /// OLD's and NEW's configurations, when both are streams with a configuration section, or
    /// both without one (only their footers are then compared).
    public var oldConfiguration: StreamConfiguration?
    public var newConfiguration: StreamConfiguration?

    /// A checker with `options`.
    public init(options: Options = Options()) {
        self.options = options
    }

    /// Checks whether state saved by a binary described by `old` loads into one described by
    /// `new`. Throws `CompatInputError` when an input is not a `-dump-vmstate` document.
    package func check(old: JSONValue, new: JSONValue) throws(CompatInputError) -> CompatReport {
        var run = CompatRun(checker: self)
        try run.checkAll(old: old, new: new)
        if !run.oldStyleSections.isEmpty {
            // (Each name once: QEMU 7.2 saves one slirp section per -netdev user, all instance 0.)
            var seen = Set<String>()
            let names = run.oldStyleSections.filter { seen.insert($0).inserted }
            let list = abbreviatedList(names, first: 8)
            run.report.warnings.append(
                "\(names.count == 1 ? "section" : "sections") \(list): saved by QEMU's old-style handlers, which a vmdesc does not describe, so compared by presence only"
            )
        }
        return run.report
    }

    /// The other names ``namesMatch(scope:_:_:)`` pairs `name` with: those of every group of
    /// renames (given, or QEMU's with ``Options/qemuRenames``) of `scope` or of all
    /// descriptions that holds it.
    func renamedAlike(scope: String, _ name: String) -> Set<String> {
        var names = Set<String>()
        for s in [scope, ""] {
            for group in options.renames[s] ?? [] where group.contains(name) { names.formUnion(group) }
            if options.qemuRenames {
                for group in Self.qemuRenames[s] ?? [] where group.contains(name) { names.formUnion(group) }
            }
        }
        names.remove(name)
        return names
    }

    /// Whether `a` and `b` name the same field of the description `scope` (or the same section,
    /// scope `(section)`): equal, or one rename group of ``Options/renames`` (the scope's or
    /// the empty scope's) or, with ``Options/qemuRenames``, of ``qemuRenames`` holds both.
    public func namesMatch(scope: String, _ a: String, _ b: String) -> Bool {
        if a == b { return true }
        // (Every group that pairs them counts as used: one given twice, or in both scopes.)
        var paired = false
        for s in [scope, ""] {
            for group in options.renames[s] ?? [] where group.contains(a) && group.contains(b) {
                renamesUsed.set.withLock { _ = $0.insert(RenameUse(scope: s, names: group)) }
                paired = true
            }
        }
        if paired { return true }
        guard options.qemuRenames else { return false }
        for s in [scope, ""] {
            for group in Self.qemuRenames[s] ?? [] where group.contains(a) && group.contains(b) {
                return true
            }
        }
        return false
    }

    /// The renames of ``Options/renames`` that paired no two names in the checks so far (a
    /// misspelt name, or a scope that is not the description or section the name is in), as
    /// (scope, names), in scope order: a `--rename` that changed nothing.
    public var unusedRenames: [(scope: String, names: Set<String>)] {
        let used = renamesUsed.set.withLock { $0 }
        return options.renames.keys.sorted().flatMap { scope in
            options.renames[scope]!.filter { !used.contains(RenameUse(scope: scope, names: $0)) }.map { (scope, $0) }
        }
    }

    private struct RenameUse: Hashable { let scope: String, names: Set<String> }
    private final class RenameUses: Sendable { let set = Mutex<Set<RenameUse>>([]) }
    /// Which of ``Options/renames`` paired two names. Shared by the copies of this checker (a
    /// check holds copies, and `namesMatch` is passed on as a function): a checker made for one
    /// comparison reports the renames that comparison used; make another for the next.
    private let renamesUsed = RenameUses()

    /// The other name of `section` (`ICH9 LPC` for `ICH9-LPC`) among the section renames,
    /// each that `isPresent` accepts, in order: the user's first, then QEMU's.
    func sectionRename(of section: String, where isPresent: (String) -> Bool) -> String? {
        for group in options.renames["(section)"] ?? [] where group.contains(section) {
            if let alt = group.sorted().first(where: { $0 != section && isPresent($0) }) {
                renamesUsed.set.withLock { _ = $0.insert(RenameUse(scope: "(section)", names: group)) }
                return alt
            }
        }
        guard options.qemuRenames else { return nil }
        for group in Self.qemuRenames["(section)"] ?? [] where group.contains(section) {
            if let alt = group.sorted().first(where: { $0 != section && isPresent($0) }) { return alt }
        }
        return nil
    }
}

// MARK: - The walk

private struct CompatRun {
    let checker: CompatChecker
    var report = CompatReport()

    /// The `virtio` fields ``checkVirtioFeatures()`` warned of (section key, NUL, field path).
    var virtioFeaturesWarned = Set<String>()
    /// A warning that leaves open whether state saved by OLD loads (a vmdesc cannot tell an
    /// empty array or a field left out from one a side lacks): counted for the verdict.
    mutating func undecided(_ warning: String) {
        report.warnings.append(warning)
        report.undecided += 1
    }
    /// Sections both sides save with QEMU's old-style handlers (compared by presence only).
    var oldStyleSections: [String] = []

    /// How many descriptions deep the walk is (a section's is 1; a nested one or a subsection,
    /// one more), and the most it goes: the walk recurses a level per description, and an
    /// unoptimized build's frames take about 250 KB a level (33 overflowed an 8 MiB stack).
    /// QEMU's own descriptions nest at most 5 deep (7.2 and 10.0, every target).
    var descriptionDepth = 0
    static let deepestDescription = 24

    /// The section being compared when it is OLD's second or later of its name (isapc's three
    /// `isa-ide`): its name, and the label findings and warnings give it ("isa-ide (2nd
    /// section)"), so that a message says which copy.
    var sectionCopy: (name: String, label: String)?

    init(checker: CompatChecker) { self.checker = checker }

    /// How findings and warnings name `section`: ``sectionCopy``'s label for that copy.
    func shown(_ section: String) -> String {
        if let copy = sectionCopy, copy.name == section { return copy.label }
        return section
    }

    /// The last finding and how many times it was found in a row (the
    /// elements of an array, compared one by one: `DescriptionSet.matchingElementEntries`).
    var repeated: (finding: CompatFinding, times: Int)?

    /// A finding; the same one found again right after is said once, with how many times.
    mutating func add(
        _ section: String, _ desc: String?, _ field: String?, _ kind: CompatFinding.Kind, _ message: String
    ) {
        let finding = CompatFinding(
            section: shown(section), descriptionName: desc, field: field, kind: kind, message: message)
        if let (last, times) = repeated, last == finding, let i = report.findings.indices.last {
            repeated = (last, times + 1)
            report.findings[i].message = message + " (the same in \(times + 1) elements)"
            return
        }
        repeated = (finding, 1)
        report.findings.append(finding)
    }

    // Typed access with input errors that say where.

    /// Where in a document a check is, for its errors (`section "cpu".Description (field
    /// "env").Description.Fields[3]`): its parts, joined only when an error names it (joined
    /// at every level, the paths of descriptions nested deep under long names took memory
    /// quadratic in the depth: 63 levels of 50,000-byte names, 320 MB).
    struct DocumentPath: CustomStringConvertible, ExpressibleByStringInterpolation {
        private var parts: [String]

        init(stringLiteral start: String) { parts = [start] }
        init(stringInterpolation start: DefaultStringInterpolation) { parts = [String(stringInterpolation: start)] }

        var description: String { parts.joined() }

        /// The path with `part` appended to its text.
        static func + (path: DocumentPath, part: String) -> DocumentPath {
            var longer = path
            longer.parts.append(part)
            return longer
        }
    }

    func object(_ v: JSONValue, _ side: String, _ path: DocumentPath) throws(CompatInputError) -> JSONObject {
        guard let o = v.objectValue else {
            throw CompatInputError(location: "\(side) \(path)", message: "expected an object, found \(v.kindName)")
        }
        return o
    }

    func int(_ o: JSONObject, _ key: String, _ side: String, _ path: DocumentPath) throws(CompatInputError) -> Int64 {
        guard let v = o[key] else {
            throw CompatInputError(location: "\(side) \(path)", message: "no \"\(key)\"")
        }
        guard let n = v.int64Value else {
            if case .number(let number) = v, case .bigInteger = number.storage {
                throw CompatInputError(
                    location: "\(side) \(path)",
                    message: "\"\(key)\" \(v.formatted(.pythonCompact)) is out of range (a signed 64-bit integer)")
            }
            throw CompatInputError(
                location: "\(side) \(path)",
                message: "\"\(key)\" must be an integer, found \(v.formatted(.pythonCompact))")
        }
        return n
    }

    func string(_ o: JSONObject, _ key: String, _ side: String, _ path: DocumentPath) throws(CompatInputError) -> String
    {
        guard let v = o[key] else {
            throw CompatInputError(location: "\(side) \(path)", message: "no \"\(key)\"")
        }
        guard let s = v.stringValue else {
            throw CompatInputError(
                location: "\(side) \(path)", message: "\"\(key)\" must be a string, found \(v.kindName)")
        }
        return s
    }

    func list(_ o: JSONObject, _ key: String, _ side: String, _ path: DocumentPath) throws(CompatInputError)
        -> [JSONObject]
    {
        guard let v = o[key] else { return [] }
        guard let a = v.arrayValue else {
            throw CompatInputError(
                location: "\(side) \(path)", message: "\"\(key)\" must be a list, found \(v.kindName)")
        }
        return try a.enumerated().map { (entry) throws(CompatInputError) in
            try object(entry.element, side, path + ".\(key)[\(entry.offset)]")
        }
    }

    var oldSide: String { checker.oldLabel }
    var newSide: String { checker.newLabel }

    /// QEMU's test of the received machine type: `strncmp(received, local, received length)`,
    /// so the local name may be longer, and a NUL byte ends either name (the received one then
    /// must be the whole local name).
    static func machineTypeMatches(received: String, local: String) -> Bool {
        let received = Array(received.utf8), localName = local.utf8.prefix { $0 != 0 }
        guard let nul = received.firstIndex(of: 0) else { return localName.starts(with: received) }
        return localName.elementsEqual(received[..<nul])
    }

    /// QEMU's configuration check (savevm.c, configuration_post_load and qemu_loadvm_state):
    /// the destination refuses a machine type name that is not a prefix of its own (`strncmp`
    /// over the received length, ``machineTypeMatches(received:local:)``), and a stream without
    /// the configuration section when its own machine type sends one (above 2.3); one up to 2.3
    /// reads the section's byte 0x07 as an unknown section type.
    mutating func checkMachineTypes() {
        guard let saver = checker.oldMachine, let loader = checker.newMachine else { return }
        func isVMDesc(_ m: CompatChecker.MachineType) -> Bool { if case .vmdesc = m { true } else { false } }
        if isVMDesc(saver) || isVMDesc(loader) {
            checkMachineNameLengths(saver, loader)
            return
        }
        func name(_ m: CompatChecker.MachineType) -> String? {
            switch m {
            case .stream(let n): n
            case .dump(let n): n
            case .vmdesc: nil  // (Not here: checkMachineNameLengths.)
            }
        }
        func isStream(_ m: CompatChecker.MachineType) -> Bool { if case .stream = m { true } else { false } }
        guard isStream(saver) || isStream(loader) else { return }
        let saved = name(saver), local = name(loader)
        if let saved, let local {
            if !QEMUStreamRules.forMachine(local, version: .qemu7_2).configuration {
                // A machine type up to 2.3 expects no configuration section: its loader reads
                // the section's byte 0x07 as a section type before any name is compared.
                add(
                    "configuration", nil, nil, .machineType,
                    "\(oldSide) was saved by machine type \"\(saved)\" with a configuration section, which \(newSide)'s machine type \"\(local)\" (2.3 or older) does not expect: QEMU refuses it (\"Unknown savevm section type 7\")"
                )
            } else if !Self.machineTypeMatches(received: saved, local: local) {
                add(
                    "configuration", nil, nil, .machineType,
                    "\(oldSide) was saved by machine type \"\(saved)\" and \(newSide) is \"\(local)\": QEMU refuses it (\"Machine type received is '\(saved)' and local is '\(local)'\")"
                )
            }
        } else if let local, saved == nil {
            if QEMUStreamRules.forMachine(local, version: .qemu7_2).configuration {
                let what =
                    "\(oldSide)'s stream has no configuration section (a machine type up to 2.3, or -global migration.send-configuration=off), which \(newSide)'s machine type \"\(local)\" expects"
                if isStream(loader) {
                    // (A QEMU that saved a configuration section expects one.)
                    add(
                        "configuration", nil, nil, .machineType,
                        "\(what): QEMU refuses it (\"Configuration section missing\")")
                } else {
                    // QEMU expects the section unless its own send-configuration is off, which a
                    // -dump-vmstate file does not record.
                    undecided(
                        "section \"configuration\": \(what) unless its QEMU runs with -global "
                            + "migration.send-configuration=off too, which a -dump-vmstate file does not say: QEMU "
                            + "refuses it otherwise (\"Configuration section missing\")")
                }
            }
        } else if let saved, local == nil {
            add(
                "configuration", nil, nil, .machineType,
                "\(oldSide) was saved by machine type \"\(saved)\" with a configuration section; \(newSide)'s stream has none (a machine type up to 2.3, or -global migration.send-configuration=off), so \(newSide)'s QEMU refuses it (\"Unknown savevm section type 7\")"
            )
        }
    }

    /// The machine types of two sides one of which is a vmdesc, which gives the name's length
    /// only: QEMU compares the received name with its own over the received name's length
    /// (``machineTypeMatches(received:local:)``), so a longer received name is another machine
    /// type (a problem), and a shorter one is unless it is the start of the local name (an
    /// undecided warning: QEMU 7.2 and 10.0 load pc-q35-4.0's stream into pc-q35-4.0.1).
    mutating func checkMachineNameLengths(_ saver: CompatChecker.MachineType, _ loader: CompatChecker.MachineType) {
        // A vmdesc that describes the configuration section is of a stream that has one; a
        // stream without one is of a machine type that neither sends nor reads it (verify15 N2).
        switch (saver, loader) {
        case (.vmdesc, .stream(nil)):
            add(
                "configuration", nil, nil, .machineType,
                "\(oldSide)'s vmdesc describes the configuration section, so its stream has one, and \(newSide)'s stream has none (a machine type up to 2.3, or -global migration.send-configuration=off): \(newSide)'s QEMU refuses it (\"Unknown savevm section type 7\")"
            )
            return
        case (.stream(nil), .vmdesc):
            add(
                "configuration", nil, nil, .machineType,
                "\(oldSide)'s stream has no configuration section (a machine type up to 2.3, or -global migration.send-configuration=off) and \(newSide)'s vmdesc describes one, so its QEMU expects it: QEMU refuses it (\"Configuration section missing\")"
            )
            return
        default: break
        }
        func shown(_ m: CompatChecker.MachineType) -> (length: Int, text: String, name: String)? {
            switch m {
            case .stream(let n?), .dump(let n): (n.utf8.count, "machine type \"\(n)\" (\(n.utf8.count) bytes)", n)
            case .stream(nil): nil
            case .vmdesc(let length):
                (length, "a machine type whose name is \(length) bytes long (its vmdesc gives the length only)", "...")
            }
        }
        guard let saved = shown(saver), let local = shown(loader), saved.length != local.length else { return }
        let sides = "\(oldSide) was saved by \(saved.text) and \(newSide) is \(local.text)"
        let refusal = "(\"Machine type received is '\(saved.name)' and local is '\(local.name)'\")"
        if saved.length > local.length {
            add("configuration", nil, nil, .machineType, "\(sides): QEMU refuses it \(refusal)")
        } else {
            undecided(
                "section \"configuration\": \(sides): QEMU compares the \(saved.length) bytes it receives with the "
                    + "start of \(newSide)'s name, so it loads \(oldSide)'s state only if \(oldSide)'s name is the start of "
                    + "\(newSide)'s (as pc-q35-4.0 is of pc-q35-4.0.1), and refuses another machine type \(refusal)")
        }
    }

    /// QEMU's configuration checks besides the machine type, stream against stream: a VM UUID
    /// both streams give and that differs ("UUID received is ... and local is ...": a
    /// destination with another `-uuid` refuses the stream), and section footers one stream
    /// has and the other not (a `configuration` problem each); validated capabilities that
    /// differ (a warning: they are set for each migration, which NEW's stream does not show).
    mutating func checkConfigurations() {
        guard let saver = checker.oldConfiguration, let loader = checker.newConfiguration else { return }
        if let u = saver.uuid {
            if let local = loader.uuid {
                if u != local {
                    add(
                        "configuration", nil, nil, .configuration,
                        "\(oldSide) carries VM UUID \(u) and \(newSide) runs with \(local): QEMU refuses it (\"UUID received is \(u) and local is \(local)\")"
                    )
                }
            } else {
                // Undecided: loadable or not by NEW's -uuid (debug54 D3).
                undecided(
                    "\(oldSide) carries VM UUID \(u) (capability validate-uuid) and \(newSide)'s stream does not give its own: QEMU refuses the stream if \(newSide) runs with another -uuid (\"UUID received is \(u) and local is ...\")"
                )
            }
        }
        // A validated capability the loader's QEMU does not know: QEMU 8.1 and older (a
        // stream whose vmdesc does not describe its configuration) know x-ignore-shared only.
        let unknownToLoader = CompatChecker.capabilitiesUnknownBefore9_0(saver.capabilities)
        if loader.hasConfiguration && !loader.vmdescDescribesConfiguration, let first = unknownToLoader.first {
            add(
                "configuration", nil, nil, .configuration,
                "\(oldSide) was saved with the validated capabilit\(unknownToLoader.count == 1 ? "y" : "ies") \(unknownToLoader.joined(separator: ", ")) (QEMU 9.0 and later) and \(newSide)'s stream was written by QEMU 8.1 or older (its vmdesc does not describe the configuration section), which validates x-ignore-shared only: QEMU refuses it (\"Received unknown capability \(first)\")"
            )
        } else if saver.capabilities != loader.capabilities {
            func list(_ c: [String]) -> String {
                c.isEmpty ? "no validated capabilities" : "the validated capabilities " + c.joined(separator: ", ")
            }
            let qemu =
                saver.capabilities.first { !loader.capabilities.contains($0) }
                .map { "Capability \($0) is off, but received capability is on" }
                ?? loader.capabilities.first { !saver.capabilities.contains($0) }
                .map { "Capability \($0) is on, but received capability is off" } ?? ""
            report.warnings.append(
                "\(oldSide) was saved with \(list(saver.capabilities)) and \(newSide)'s stream with \(list(loader.capabilities)): the destination must migrate with exactly \(oldSide)'s, else QEMU refuses the stream (\"\(qemu)\")"
            )
        }
        if saver.compressedPages > 0 {
            if loader.switchoverStart {
                add(
                    "ram", nil, nil, .configuration,
                    CompatChecker.compressedPagesMessage(saver.compressedPages, oldSide)
                        + " and \(newSide)'s stream was written by QEMU 10.0 (it sends SWITCHOVER_START), which has no compress: QEMU refuses it (\"Unknown combination of migration flags: 0x120\")"
                )
            } else if loader.compressedPages == 0 {
                // A NEW of QEMU 8.2 or later (its vmdesc describes the configuration) that sends
                // no SWITCHOVER_START may be 9.1 or later for a machine type of 9.2 or older:
                // undecided (QEMU 10.0 with pc-i440fx-7.2 refuses it; compatreader F2).
                let warning = CompatChecker.compressedPagesWarning(saver.compressedPages, oldSide)
                if loader.vmdescDescribesConfiguration { undecided(warning) } else { report.warnings.append(warning) }
            }
        }
        // QEMU 10.0's SWITCHOVER_START (MIG_CMD 0x0b) is unknown to QEMU before 10.0. A NEW
        // stream without it and without a described configuration is QEMU 8.1's or older: it
        // refuses the command; one with a described configuration may be QEMU 8.2 to 9.2's
        // (refuses it) or QEMU 10.0's for a machine type that does not send it (loads it).
        if saver.switchoverStart && !saver.hasConfiguration {
            // No QEMU writes that: QEMU 10.0 sends a configuration section for every machine
            // type, and QEMU 7.2, whose machine types up to 2.3 send none, lacks the command.
            add(
                "configuration", nil, nil, .configuration,
                "\(oldSide) sends the command SWITCHOVER_START but no configuration section: QEMU 10.0 sends both, and "
                    + "QEMU 7.2, whose machine types up to 2.3 take a stream without one, refuses the command "
                    + "(\"MIG_CMD 0xb unknown (len 0x0)\")")
        } else if saver.switchoverStart && !loader.switchoverStart && loader.hasConfiguration {
            let refusal = "QEMU before 10.0 refuses it (\"MIG_CMD 0xb unknown (len 0x0)\")"
            if !loader.vmdescDescribesConfiguration {
                add(
                    "configuration", nil, nil, .configuration,
                    "\(oldSide) sends the command SWITCHOVER_START (QEMU 10.0, for machine types 10.0 and later and unversioned ones) and \(newSide)'s stream was written by QEMU 8.1 or older (its vmdesc does not describe the configuration section): \(refusal)"
                )
            } else {
                report.warnings.append(
                    "\(oldSide) sends the command SWITCHOVER_START (QEMU 10.0, for machine types 10.0 and later and unversioned ones) and \(newSide)'s stream has none: \(refusal), as QEMU 8.2 to 9.2 do; a QEMU 10.0 that sends none for its machine type (9.2 and older, or -global migration.send-switchover-start=off) loads it"
                )
            }
        }
        // QEMU's target page size check (savevm.c, target-page-bits): a destination whose page
        // size is above its target's minimum sends the subsection itself and takes a stream
        // without it as of the minimum; one at the minimum sends none and compares a received
        // value with the minimum.
        if saver.hasConfiguration, loader.hasConfiguration, saver.targetPageBits != loader.targetPageBits {
            if let local = loader.targetPageBits {
                let received = saver.targetPageBits.map(String.init) ?? "N"
                add(
                    "configuration", nil, nil, .configuration,
                    saver.targetPageBits == nil
                        ? "\(oldSide) has no configuration/target-page-bits and \(newSide)'s stream has \(local) (its target's pages, \(1 << local) bytes, are above the target's minimum): QEMU takes a stream without it as of the minimum page size and refuses it (\"Received TARGET_PAGE_BITS is \(received) but local is \(local)\", N the minimum: 10 on ARM); an emulator writing OLD sets vmstate_registry_set_target_page_bits_min"
                        : "\(oldSide) has configuration/target-page-bits \(received) and \(newSide)'s stream has \(local): QEMU refuses it (\"Received TARGET_PAGE_BITS is \(received) but local is \(local)\")"
                )
            } else if let sent = saver.targetPageBits {
                add(
                    "configuration", nil, nil, .configuration,
                    "\(oldSide) has configuration/target-page-bits \(sent) and \(newSide)'s stream has none (its target's pages are at the target's minimum size, or it was written without the subsection): QEMU refuses it unless its pages are \(1 << sent) bytes (\"Received TARGET_PAGE_BITS is \(sent) but local is N\", N its own)"
                )
            }
        }
        // Without a configuration section, footers are off for machine types up to 2.3 too.
        let footersOff =
            saver.hasConfiguration
            ? "-global migration.send-section-footer=off"
            : "-global migration.send-section-footer=off, or a machine type up to 2.3"
        if saver.noFooters != loader.noFooters {
            if saver.noFooters {
                add(
                    "configuration", nil, nil, .configuration,
                    "\(oldSide) was saved without section footers (\(footersOff)) and \(newSide)'s QEMU sends and expects them: QEMU refuses it (\"Missing section footer for \(saver.firstSection ?? "...")\")"
                )
            } else {
                add(
                    "configuration", nil, nil, .configuration,
                    "\(oldSide) has section footers and \(newSide)'s QEMU runs without them (\(footersOff)): it reads a footer's byte 0x7e as a section type and refuses the stream (\"Unknown savevm section type 126\")"
                )
            }
        }
    }

    /// QEMU's RAM block check (ram.c, the RAM section's block list; physmem.c,
    /// qemu_ram_resize): a block the destination does not have is refused ("Unknown
    /// ramblock"), and one of another length too ("Size mismatch") unless it is resizeable:
    /// QEMU makes the fw_cfg blobs resizeable (the `/rom@etc/...` blocks: ACPI tables, table
    /// loader, RSDP), which load when the new length is within the destination's maximum, a
    /// number no stream records (a warning then). Blocks only NEW has are not read.
    mutating func checkRAMBlocks() {
        guard let saved = checker.oldRAMBlocks, let local = checker.newRAMBlocks else { return }
        var lengths: [String: UInt64] = [:]
        for b in local { lengths[b.name] = b.length }
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        for b in saved {
            guard let length = lengths[b.name] else {
                add(
                    "ram", nil, nil, .ramBlock,
                    "RAM block \"\(b.name)\" (\(hex(b.length)) bytes) is not in \(newSide): QEMU refuses it (\"Unknown ramblock \"\(b.name)\", cannot accept migration\")"
                )
                continue
            }
            guard length != b.length else { continue }
            if b.name.hasPrefix("/rom@") {
                report.warnings.append(
                    "RAM block \"\(b.name)\" is \(hex(b.length)) bytes in \(oldSide) and \(hex(length)) in \(newSide); QEMU resizes this fw_cfg blob on load when \(newSide)'s maximum allows it, which a stream does not record"
                )
            } else {
                // A PCI device's option ROM ("0000:00:02.0/e1000.rom"): its size is its ROM
                // file's rounded up to a power of two (hw/pci/pci.c, pci_add_option_rom), so
                // two builds' files differ (Debian's NIC boot ROMs are 256 KiB, Ubuntu's 512);
                // the device's `romsize` property sets it, and the stream carries the contents.
                let rom =
                    b.name.contains("/") && b.name.hasSuffix(".rom") && b.length.nonzeroBitCount == 1
                    ? "; a PCI device's option ROM: \(newSide)'s device made with romsize=\(b.length) takes it"
                    : ""
                add(
                    "ram", nil, nil, .ramBlock,
                    "RAM block \"\(b.name)\" is \(hex(b.length)) bytes in \(oldSide) and \(hex(length)) in \(newSide): QEMU refuses it (\"Size mismatch: \(b.name): \(hex(b.length)) != \(hex(length))\")\(rom)"
                )
            }
        }
    }

    /// OLD's facts, each with NEW's of the same `key` (section, instance and field), in OLD's
    /// order; those NEW lacks are left out.
    static func paired<T>(_ saved: [T], _ local: [T], _ key: (T) -> String) -> [(saved: T, local: T)] {
        var byKey: [String: T] = [:]
        for l in local { byKey[key(l)] = l }
        return saved.compactMap { s in byKey[key(s)].map { (s, $0) } }
    }

    /// QEMU's check of a PCI device's configuration space on load (hw/pci/pci.c,
    /// `get_pci_config_device`): a saved byte that differs from the destination device's in a
    /// bit it compares (``PCIConfigSpace/checkedBits()``) is refused. The first such byte of
    /// each device, as QEMU stops at it.
    mutating func checkPCIConfigs() {
        guard let saved = checker.oldPCIConfigs, let local = checker.newPCIConfigs else { return }
        func hex(_ v: Int) -> String { "0x" + String(v, radix: 16) }
        for (c, device) in Self.paired(saved, local, { "\($0.section) \($0.instanceID) \($0.field)" }) {
            guard let d = device.firstDifference(saved: c) else { continue }
            // (Named as the other findings of one instance name a section that has several.)
            let section = DescriptionSet.Entry.key(c.section, c.instanceID)
            add(
                section, nil, c.field, .pciConfig,
                "PCI configuration byte \(hex(d.offset)) (\(d.register)) is \(hex(Int(d.old))) in \(oldSide) and \(hex(Int(d.new))) in \(newSide); QEMU compares its bits \(hex(Int(d.mask))) and refuses it (\"Bad config data: i=\(hex(d.offset)) read: \(String(d.old, radix: 16)) device: \(String(d.new, radix: 16))\"): the devices were made with other options or another model"
            )
        }
    }

    /// What QEMU says of OLD's section `key` (``DescriptionSet/Entry/key``) that NEW's machine
    /// lacks, and what usually causes it, when a vmdesc side lists NEW's sections: QEMU refuses
    /// the stream ("Unknown savevm section or instance", migration/savevm.c, 7.2 and 10.0). A
    /// PCI device's idstr starts with its PCI address: NEW's sections of the same device at
    /// another address are named.
    func missingSectionCause(_ key: String, newSections lists: [String: [JSONValue]]) -> String {
        let (name, instance) = Self.idstrAndInstance(key)
        let newSections = lists.keys
        var cause = "its device is not in \(newSide)'s machine (a -device, -smp for cpu, a -netdev user for slirp)"
        if instance != 0, let copies = lists[name]?.count, copies > 1 {
            // (QEMU 7.2 registers every slirp as instance 0, and isapc's isa-ide channels.)
            cause =
                "\(newSide) saves its \(copies) \"\(name)\" sections all as instance 0 (as QEMU 7.2 does for "
                + "slirp and for isapc's isa-ide channels), so no command line gives it instance \(instance)"
        }
        if PCIConfigSpace.isPCIPath(name), let last = name.lastIndex(of: "/") {
            // The same device elsewhere (its idstr's last part), another device at its place.
            let (place, device) = (name[..<last], name[last...])
            let pci = newSections.filter { PCIConfigSpace.isPCIPath($0) }
            let moved = pci.filter { $0.hasSuffix(device) }.sorted()
            let replaced = pci.filter { $0.hasPrefix(place + "/") && !$0.hasSuffix(device) }.sorted()
            func quoted(_ names: [String]) -> String { names.map { "\"\($0)\"" }.joined(separator: ", ") }
            cause +=
                moved.isEmpty
                ? ", or is at another address (its idstr starts with its PCI address)"
                : ", or is at another address: \(newSide) has \(quoted(moved))"
            if !replaced.isEmpty { cause += "; \(newSide) has \(quoted(replaced)) at its place" }
        }
        return ": QEMU refuses the stream (\"Unknown savevm section or instance '\(name)' \(instance). ...\"): \(cause)"
    }

    /// OLD's virtio-pci devices whose guest negotiated features NEW's did not
    /// (``VirtioFeatures``): QEMU's `virtio_load` refuses features NEW's device does not offer,
    /// which a stream does not show (a guest takes only some of them; one that never ran, none):
    /// undecided, naming the bits and the options that offer them. Such a field's size
    /// warning is left out (``virtioFeaturesWarned``).
    mutating func checkVirtioFeatures() {
        guard let saved = checker.oldVirtioFeatures, let local = checker.newVirtioFeatures else { return }
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        for (f, device) in Self.paired(saved, local, { "\($0.section) \($0.instanceID) \($0.field)" }) {
            // Without its subsection, NEW's device offers no feature above bit 31, and QEMU then
            // checks the be32 low half only (virtio_load); with it, the 64 bits of OLD's.
            let compared = device.all != nil ? f.negotiated : UInt64(f.lowHalf)
            let missing = compared & ~device.negotiated
            guard missing != 0 else { continue }
            let section = DescriptionSet.Entry.key(f.section, f.instanceID)
            virtioFeaturesWarned.insert(section + "\u{0}" + f.field)
            let newOnes =
                device.negotiated == 0
                ? "\(newSide)'s guest none (saved before its driver set them)"
                : "\(newSide)'s \(hex(device.negotiated))"
            undecided(
                "section \"\(section)\", field \"\(f.field)\": \(oldSide)'s guest negotiated the virtio features \(hex(f.negotiated)), \(newOnes); QEMU refuses the load (\"Features \(hex(compared)) unsupported. Allowed features: ...\") if \(newSide)'s device does not offer every one, which a stream does not show: make it with the options and machine type that offer \(VirtioFeatures.described(missing, device: VirtioFeatures.deviceName(f.section)))"
            )
        }
    }

    /// QEMU's `VMSTATE_*_EQUAL` and `VMSTATE_INT32_POSITIVE_LE` checks on load
    /// (``CheckedFieldValue``): a saved OLD value NEW's QEMU refuses, by NEW's own table (its
    /// stream's type) and value. An OLD field QEMU compares that NEW's stream lacks is a warning
    /// (its value could not be compared); fields only NEW has are other rules' business.
    mutating func checkCheckedValues() {
        guard let local = checker.newCheckedValues, let saved = checker.oldCheckedValues else { return }
        var savedByKey: [CheckedFieldValue.Key: CheckedFieldValue] = [:]
        for v in saved + (checker.oldValuesNEWChecks ?? []) where savedByKey[v.key] == nil { savedByKey[v.key] = v }
        var compared = Set<CheckedFieldValue.Key>()
        for own in local {
            compared.insert(own.key)
            guard let v = savedByKey[own.key], let refusal = own.refusal(of: v) else { continue }
            let section = DescriptionSet.Entry.key(own.section, own.instanceID)
            let rule =
                CheckedFieldValue.rule(ofType: own.type) == .equal
                ? "its own on load and refuses another value" : "its own on load and refuses a larger or negative one"
            add(
                section, own.description, own.field, .checkedValue,
                "the \(own.type) field is 0x\(String(v.unsigned, radix: 16)) in \(oldSide) and 0x\(String(own.unsigned, radix: 16)) in \(newSide); QEMU compares it with \(rule) (\"\(refusal)\"): the devices were made with other options, or the machines differ"
            )
        }
        let elsewhere = Set((checker.newValuesOLDChecks ?? []).map(\.key))
        for v in saved
        where !compared.contains(v.key) && !elsewhere.contains(v.key)
            && checker.newStreamSections?.contains(.init(name: v.section, instanceID: v.instanceID)) != false
        {
            let section = DescriptionSet.Entry.key(v.section, v.instanceID)
            report.warnings.append(
                "section \"\(section)\", field \"\(v.field)\": \(oldSide) saves this \(v.type) field, which QEMU compares with its own on load, and \(newSide)'s stream does not have it (a subsection \(newSide) did not save, or \(newSide) lacks the field): its value was not compared"
            )
        }
    }

    /// OLD's sections of one idstr and instance saved more than once (`keys`: OLD's sections in
    /// order, by ``DescriptionSet/Entry/key``): QEMU's destination loads them all into its first
    /// device of that idstr and instance (`find_se` returns the first match; QEMU 7.2 and 10.0),
    /// which keeps the last one's state. A problem when OLD's stream shows the copies differ
    /// (checked on 2026-12-07: QEMU 7.2 and 10.0 load QEMU 7.2's isapc stream, whose two
    /// `isa-ide` channels are both instance 0, with the secondary's state in the primary
    /// channel); undecided when only a vmdesc tells of them.
    mutating func checkRepeatedSections(_ keys: [String]) {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for k in keys where k != "vmschkmachine" {
            if counts[k] == nil { order.append(k) }
            counts[k, default: 0] += 1
        }
        for (k, n) in (checker.oldSectionCopies ?? [:]).sorted(by: { $0.key < $1.key }) where n > counts[k, default: 0]
        {
            if counts[k] == nil { order.append(k) }
            counts[k] = n
        }
        for k in order where counts[k]! > 1 {
            let n = counts[k]!
            let what =
                "\(oldSide) saves \(n) sections \"\(k)\" (one idstr and instance: QEMU 7.2's isapc saves its isa-ide channels all as instance 0); QEMU finds the device a section loads into by idstr and instance, the first it has (find_se), so it loads all \(n) into \(newSide)'s first \"\(k)\" device, which ends with the last one's state, and \(newSide)'s other devices of that idstr and instance, if any, keep theirs"
            switch checker.oldRepeatedSections?[k] {
            case true?:
                add(k, nil, nil, .sectionRepeated, what + ": the state the others hold differs, and is lost")
            case false?:
                continue
            case nil:
                undecided(
                    "section \"\(k)\": \(what): fine when the \(n) hold the same state, which a vmdesc does not tell (compare \(oldSide)'s stream)"
                )
            }
        }
    }

    /// A section key's idstr and instance (``DescriptionSet/Entry/key``).
    static func idstrAndInstance(_ key: String) -> (idstr: String, instance: UInt32) {
        let marker = Array(" (instance ".utf8)
        let bytes = Array(key.utf8)
        guard bytes.last == UInt8(ascii: ")") else { return (key, 0) }
        var at = bytes.count - 1 - marker.count
        while at >= 0 && !bytes[at..<at + marker.count].elementsEqual(marker) { at -= 1 }
        guard at >= 0, let n = UInt32(String(decoding: bytes[(at + marker.count)..<(bytes.count - 1)], as: UTF8.self))
        else { return (key, 0) }
        return (String(decoding: bytes[..<at], as: UTF8.self), n)
    }

    /// OLD's sections of an idstr without a device path that QEMU's destination gives to another
    /// of NEW's devices (`oldKeys`, `newKeys`: the sections in stream order). QEMU's `find_se`
    /// (migration/savevm.c, 7.2 and 10.0) goes through the devices in their order (the order
    /// they save in) and takes the first whose idstr and instance are the section's, or whose
    /// idstr holds the section's and whose compat entry is the section's idstr and instance: a
    /// device registered with a path (`0000:00:05.0/ne2000`) has one, its description's name
    /// (`ne2000`) and instance the count of such devices of that name before it. With
    /// `-device ne2k_pci` before `-device ne2k_isa`, QEMU 7.2 gives the ISA card's section to
    /// the PCI card, which refuses it ("ne2000: incoming version_id 2 is too old for local
    /// minimum version_id 3"), even loading its own stream (devices55); QEMU 10.0 refuses to
    /// start such a machine ("Detected duplicate SaveStateEntry").
    ///
    /// Also where NEW has no device of that idstr (`ne2k_pci` only): QEMU then gives it the
    /// other device as well, and does not say "Unknown savevm section" (recheck55 D5). Returns
    /// the sections reported.
    @discardableResult
    mutating func checkOtherDevices(_ oldKeys: [String], _ newKeys: [String]) -> (
        sections: Set<String>, takers: Set<String>
    ) {
        let sections = newKeys.filter { $0 != "vmschkmachine" }.map(Self.idstrAndInstance)
        var compatInstance: [Int: UInt32] = [:]
        var counts: [String: UInt32] = [:]
        for (i, s) in sections.enumerated() where s.idstr.contains("/") {
            let name = VirtioFeatures.deviceName(s.idstr)
            compatInstance[i] = counts[name, default: 0]
            counts[name, default: 0] += 1
        }
        var seen = Set<String>()
        var (reported, takers) = (Set<String>(), Set<String>())
        for key in oldKeys where key != "vmschkmachine" && seen.insert(key).inserted {
            let (idstr, instance) = Self.idstrAndInstance(key)
            guard !idstr.contains("/") else { continue }
            let own = sections.firstIndex(where: { $0.idstr == idstr && $0.instance == instance })
            guard
                let other = sections[..<(own ?? sections.count)].indices.first(where: {
                    compatInstance[$0] == instance && VirtioFeatures.deviceName(sections[$0].idstr) == idstr
                })
            else { continue }
            let taker = DescriptionSet.Entry.key(sections[other].idstr, sections[other].instance)
            let how =
                "its find_se, going through the devices in their order, takes a device whose idstr holds the section's and whose description is named \"\(idstr)\" (the entry a device with a path has for streams saved before there were paths, instance \(instance) here) as it takes the device of that idstr"
            let outcome =
                "QEMU loads the state into it if its description takes it (else refuses the stream: \"\(idstr): incoming version_id ... is too old for local minimum version_id ...\")"
            add(
                key, nil, nil, .sectionOtherDevice,
                own == nil
                    ? "QEMU gives \(oldSide)'s section to \(newSide)'s \"\(taker)\", which \(newSide) has in place of a device \"\(key)\": \(how); \(outcome). Give \(newSide) the device \"\(key)\", created before \"\(taker)\""
                    : "QEMU gives \(oldSide)'s section to \(newSide)'s \"\(taker)\", not to its \"\(key)\": \(how), and \"\(taker)\" comes first; \(outcome), and \"\(key)\" keeps its own. Create \(newSide)'s \"\(key)\" before \"\(taker)\" (QEMU 10.0 refuses to start a machine where it comes after: \"Detected duplicate SaveStateEntry\")"
            )
            reported.insert(key)
            takers.insert(taker)
        }
        return (reported, takers)
    }

    /// ARM's coprocessor register lists (``CPURegisterList``): a register OLD's CPU migrates
    /// that NEW's lacks fails NEW's `cpu_post_load`; so may one NEW's has and OLD's lacks, whose
    /// value in NEW's stream is not 0 (a constant register), and a writable one takes a value
    /// neither side had.
    mutating func checkCPURegisterLists() {
        guard let saved = checker.oldCPURegisterLists, let local = checker.newCPURegisterLists else { return }
        var lists: [CheckedFieldValue.Section: CPURegisterList] = [:]
        for l in local { lists[.init(name: l.section, instanceID: l.instanceID)] = l }
        for l in saved {
            guard let own = lists[.init(name: l.section, instanceID: l.instanceID)] else { continue }
            let section = DescriptionSet.Entry.key(l.section, l.instanceID)
            let refusal = "error while loading state for instance 0x\(String(l.instanceID, radix: 16)) of device 'cpu'"
            let why = "the CPUs are other models, were made with other options, or are QEMU versions whose CPUs differ"
            if let index = own.refused(l) {
                add(
                    section, "cpu", "cpreg_vmstate_indexes", .cpuRegisters,
                    "\(oldSide)'s CPU migrates coprocessor register 0x\(String(index, radix: 16)), which \(newSide)'s CPU does not have (its list of \(own.indexes.count) lacks it; \(oldSide)'s has \(l.indexes.count)): QEMU refuses it in cpu_post_load (\"\(refusal)\"): \(why)"
                )
                continue
            }
            let unsent = own.unsent(by: l)
            guard !unsent.isEmpty else { continue }
            let listed = abbreviatedList(
                unsent.map { "0x\(String($0.index, radix: 16)) (0x\(String($0.value, radix: 16)))" }, first: 8)
            let count = unsent.count == 1 ? "a coprocessor register" : "\(unsent.count) coprocessor registers"
            add(
                section, "cpu", "cpreg_vmstate_indexes", .cpuRegisters,
                "\(newSide)'s CPU has \(count) that \(oldSide)'s does not migrate, not 0 in \(newSide)'s stream: \(listed); QEMU's cpu_post_load writes each register the stream lacks with what its slot of cpreg_values holds (memory allocated at start and filled only by a save: in practice 0), and refuses the load (\"\(refusal)\") when a register does not read that back, as a constant one that is not 0 does (cortex-a8/a9's RMR_EL3 from QEMU 10.0 on); a writable one takes that value: \(why)"
            )
        }
    }

    /// ppc's PVR (``CPUVersionRegister``): OLD's CPU, in no compatibility mode, of another
    /// family than NEW's is refused by NEW's `cpu_post_load`; of the same family but another
    /// PVR, whether NEW's CPU model takes it is undecided (its `pvr_match`).
    mutating func checkCPUVersionRegisters() {
        guard let saved = checker.oldCPUVersionRegisters, let local = checker.newCPUVersionRegisters else { return }
        var own: [CheckedFieldValue.Section: CPUVersionRegister] = [:]
        for r in local { own[.init(name: r.section, instanceID: r.instanceID)] = r }
        func hex(_ v: UInt64) -> String { "0x" + analysisHex(v, width: 8) }
        for r in saved where (r.compatPVR ?? 0) == 0 {
            guard let mine = own[.init(name: r.section, instanceID: r.instanceID)], mine.pvr != r.pvr else { continue }
            let section = DescriptionSet.Entry.key(r.section, r.instanceID)
            let field = "env.spr[\(CPUVersionRegister.index)]"
            let values = "the CPU's PVR (\(field)) is \(hex(r.pvr)) in \(oldSide) and \(hex(mine.pvr)) in \(newSide)"
            if r.pvr >> 16 != mine.pvr >> 16 {
                add(
                    section, "cpu", field, .cpuModel,
                    "\(values), another CPU family, and \(oldSide)'s CPU ran in no compatibility mode (no cpu/compat): QEMU refuses it in cpu_post_load (\"error while loading state for instance 0x\(String(r.instanceID, radix: 16)) of device 'cpu'\"): the machines' CPU models differ (-cpu, or the machine type's default CPU)"
                )
            } else {
                undecided(
                    "section \"\(section)\", description \"cpu\", field \"\(field)\": \(values), and \(oldSide)'s CPU ran in no compatibility mode (no cpu/compat): QEMU loads it only if \(newSide)'s CPU model takes that revision (its pvr_match in cpu_post_load; QEMU 10.0's POWER9 models take DD2.0/2.1 or DD2.2/2.3, not both), else refuses it (\"error while loading state for instance 0x\(String(r.instanceID, radix: 16)) of device 'cpu'\"): the machines' CPU models differ (-cpu, or the machine type's default CPU, which QEMU versions change: QEMU 7.2's pseries-7.2 starts a POWER9 DD2.0, QEMU 10.0's a POWER9 DD2.2)"
                )
            }
        }
    }

    mutating func checkAll(old: JSONValue, new: JSONValue) throws(CompatInputError) {
        checkMachineTypes()
        checkRAMBlocks()
        checkPCIConfigs()
        checkVirtioFeatures()
        checkCPURegisterLists()
        checkCPUVersionRegisters()
        checkCheckedValues()
        checkConfigurations()
        // With a vmdesc side, every OLD section of a name is compared with NEW's first of it:
        // QEMU loads each section into the first device of its idstr and instance it has
        // (`find_se`), also where OLD saves several (QEMU 7.2's isapc `isa-ide` channels: see
        // checkRepeatedSections); two -dump-vmstate files, JSON objects of device classes, take
        // the last member of a name, as Python reads them (QEMU's vmstate-static-checker).
        let inOrder = checker.oldIsVMDesc || checker.newIsVMDesc
        let top = try object(old, oldSide, "(top level)")
        let o = inOrder ? top : top.deduplicated()
        let n = try object(new, newSide, "(top level)")
        if checker.oldIsVMDesc { checkRepeatedSections(o.keys) }
        let otherDevices: (sections: Set<String>, takers: Set<String>) =
            checker.oldIsVMDesc && checker.newIsVMDesc ? checkOtherDevices(o.keys, n.keys) : ([], [])
        var newSectionLists: [String: [JSONValue]] = [:]
        for member in n.members { newSectionLists[member.key, default: []].append(member.value) }
        var occurrence: [String: Int] = [:]
        if checker.oldIsVMDesc && checker.newIsVMDesc {
            // Two machines' sections: what only NEW has is not in OLD's stream at all. QEMU
            // loads the stream; those devices keep the state they had before the load.
            // (Also NEW's second and later sections of a name beyond as many as OLD saves,
            // named as OLD's are: "isa-ide (2nd section)".)
            var oldCounts: [String: Int] = [:]
            for k in o.keys { oldCounts[k, default: 0] += 1 }
            var newCounts: [String: Int] = [:]
            var onlyNew: [String] = []
            for k in n.keys where k != "vmschkmachine" {
                let nth = newCounts[k, default: 0]
                newCounts[k] = nth + 1
                let saved =
                    oldCounts[k]
                    ?? checker.sectionRename(of: k, where: { oldCounts[$0] != nil }).flatMap { oldCounts[$0] } ?? 0
                // (A device QEMU gives another of OLD's sections to does not keep its state.)
                if nth >= saved && !(nth == 0 && otherDevices.takers.contains(k)) {
                    onlyNew.append(nth == 0 ? k : "\(k) (\(ordinal(nth + 1)) section)")
                }
            }
            if !onlyNew.isEmpty {
                let list = abbreviatedList(onlyNew, first: 16)
                report.warnings.append(
                    "\(newSide) has \(onlyNew.count) section\(onlyNew.count == 1 ? "" : "s") that \(oldSide) does not save: \(list); QEMU loads \(oldSide)'s state, and \(onlyNew.count == 1 ? "that device keeps" : "those devices keep") the state \(onlyNew.count == 1 ? "it" : "they") had before the load"
                )
            }
        }
        for member in o.members {
            let sec = member.key
            let nth = occurrence[sec, default: 0]
            occurrence[sec] = nth + 1
            // (The second and later of a name are named so: "slirp (2nd section)".)
            let label = nth == 0 ? sec : "\(sec) (\(ordinal(nth + 1)) section)"
            sectionCopy = nth == 0 ? nil : (sec, label)
            var target = sec
            if newSectionLists[target] == nil {
                guard let alt = checker.sectionRename(of: sec, where: { newSectionLists[$0] != nil }) else {
                    if checker.newIsVMDesc && CompatChecker.sectionsSavedWhenNeeded.contains(sec) {
                        // NEW's save may have skipped it (QEMU 7.2 loads a pc stream saved
                        // before the guest ran into one whose globalstate was not needed).
                        undecided(
                            "section \"\(label)\": \(oldSide) saves it; \(newSide) did not save it: QEMU saves \"\(sec)\" only while its description's needed() holds, so it was not needed when \(newSide) saved (fine), or \(newSide) lacks it (QEMU refuses: \"Unknown savevm section or instance '\(sec)' ...\")"
                        )
                        continue
                    }
                    if otherDevices.sections.contains(sec) { continue }  // (QEMU finds another device for it)
                    add(
                        sec, nil, nil, .sectionMissing,
                        "section \"\(label)\" does not exist in \(newSide)"
                            + (checker.newIsVMDesc ? missingSectionCause(sec, newSections: newSectionLists) : ""))
                    continue
                }
                target = alt
            }
            let candidates = newSectionLists[target]!
            let s = try object(member.value, oldSide, "section \"\(label)\"")
            let d = try object(
                candidates[inOrder ? 0 : candidates.count - 1], newSide,
                "section \"\(target)\"")
            if sec == "vmschkmachine" {
                let a = s["Name"]?.stringValue ?? "?", b = d["Name"]?.stringValue ?? "?"
                if a != b {
                    report.warnings.append(
                        "comparing different machine types: \"\(a)\" (\(oldSide)) and \"\(b)\" (\(newSide))")
                }
                continue
            }
            // Sections of QEMU's old-style save handlers (a vmdesc gives no description or
            // version for them): compared by presence only.
            let oldStyle = (
                !s.contains(key: "version_id") && !s.contains(key: "Description"),
                !d.contains(key: "version_id") && !d.contains(key: "Description")
            )
            if oldStyle.0 || oldStyle.1 {
                if oldStyle.0 && oldStyle.1 {
                    oldStyleSections.append(sec)
                } else {
                    let side = oldStyle.0 ? oldSide : newSide
                    report.warnings.append(
                        "section \"\(label)\" is saved by QEMU's old-style handlers in \(side) (no description) and by a description in the other: not compared"
                    )
                }
                continue
            }
            // Section-level numbers; skipped when they are the description's own.
            var sameAsDescription = false
            if let sd = s["Description"]?.objectValue, let dd = d["Description"]?.objectValue {
                sameAsDescription =
                    s["version_id"] == sd["version_id"] && s["minimum_version_id"] == sd["minimum_version_id"]
                    && d["version_id"] == dd["version_id"] && d["minimum_version_id"] == dd["minimum_version_id"]
            }
            if !sameAsDescription {
                try checkVersions(s, d, sec: sec, desc: nil, path: "section \"\(label)\"")
            }
            var seen = Set<String>()
            for entry in s.keys where seen.insert(entry).inserted {
                if !d.contains(key: entry) {
                    if entry == "Description" {
                        let name = s["Description"]?.objectValue?["name"]?.stringValue
                        add(sec, name, nil, .descriptionMissing, "\(newSide) has no description for the section")
                    } else {
                        add(sec, nil, nil, .entryMissing, "entry \"\(entry)\" is missing in \(newSide)")
                    }
                    continue
                }
                if entry == "Description" {
                    let sd = try object(s[entry]!, oldSide, "section \"\(label)\".Description")
                    let dd = try object(d[entry]!, newSide, "section \"\(target)\".Description")
                    try checkDescriptions(sd, dd, sec: sec, nested: false, path: "section \"\(label)\".Description")
                }
            }
        }
        sectionCopy = nil
    }

    /// Whether a field is "unused" space (VMSTATE_UNUSED): named "unused" in `-dump-vmstate`,
    /// and "unused[N]" in a vmdesc when a description has more than one (QEMU makes repeated
    /// field names unique there with the index among them).
    func isUnused(_ name: String) -> Bool {
        guard name.hasPrefix("unused") else { return false }
        let rest = name.dropFirst("unused".count)
        return rest.isEmpty
            || (rest.hasPrefix("[") && rest.hasSuffix("]") && rest.count > 2
                && rest.dropFirst().dropLast().allSatisfy(\.isNumber))
    }

    /// version_id and minimum_version_id rules for a section or description.
    mutating func checkVersions(
        _ s: JSONObject, _ d: JSONObject, sec: String, desc: String?, path: DocumentPath
    ) throws(CompatInputError) {
        let sv = try int(s, "version_id", oldSide, path)
        let dv = try int(d, "version_id", newSide, path)
        if sv > dv {
            add(
                sec, desc, nil, .version,
                "version \(sv) in \(oldSide), but only \(dv) in \(newSide): \(newSide) cannot load the newer state")
        }
        if d.contains(key: "minimum_version_id") {
            let dm = try int(d, "minimum_version_id", newSide, path)
            if sv < dm {
                add(
                    sec, desc, nil, .minimumVersion,
                    "\(oldSide) saves version \(sv), but \(newSide) accepts only versions \(dm) and later")
            }
        }
    }

    /// The script's rule for a field whose version_id NEW lowered (it appeared in version `sv`
    /// in OLD, `dv` in NEW): NEW reads it in versions `dv..<sv`, where by OLD's description that
    /// state has no such field. Reported only for the versions of them both descriptions accept
    /// (`Load.accepted`): those NEW refuses it does not misread, and of those OLD refuses OLD's
    /// description says nothing. Returns whether it reported. (Not for a nested description,
    /// which each side saves or loads at one version: the walk compares what each does then.)
    mutating func checkFieldVersion(
        _ s: JSONObject, _ d: JSONObject, sec: String, desc: String, field: String, load: Load, path: DocumentPath
    ) throws(CompatInputError) -> Bool {
        let sv = s.contains(key: "version_id") ? try int(s, "version_id", oldSide, path) : 0
        let dv = d.contains(key: "version_id") ? try int(d, "version_id", newSide, path) : 0
        guard !load.nested, sv > dv, let accepted = load.accepted else { return false }
        let low = max(dv, accepted.lowerBound)
        let high = min(sv - 1, accepted.upperBound)
        guard low <= high else { return false }
        let versions = low == high ? "version \(low)" : "versions \(low)..\(high)"
        add(
            sec, desc, field, .fieldVersion,
            "the field exists from version \(sv) in \(oldSide) but from version \(dv) in \(newSide), so \(newSide) misreads state of \(versions), which both accept"
        )
        return true
    }

    /// Compares two descriptions. `nested`: a VMS_STRUCT field's description, which NEW loads
    /// at its own version_id; otherwise (a section's, a subsection) NEW loads OLD's version.
    /// `refusedAbove`: NEW refuses the version of a description this one is part of, so it
    /// loads none of this one either. `newHasNoSubsections`: NEW's vmdesc proves that NEW's
    /// description has none (`Load.newHasNoSubsections`), so one OLD saves is a problem.
    mutating func checkDescriptions(
        _ s: JSONObject, _ d: JSONObject, sec: String, nested: Bool, refusedAbove: Bool = false,
        newHasNoSubsections: Bool = false, path: DocumentPath
    ) throws(CompatInputError) {
        descriptionDepth += 1
        defer { descriptionDepth -= 1 }
        guard descriptionDepth <= Self.deepestDescription else {
            throw CompatInputError(
                location: "\(oldSide) \(path)",
                message:
                    "descriptions nested deeper than \(Self.deepestDescription) levels (QEMU's nest at most 5), not compared"
            )
        }
        let sName = try string(s, "name", oldSide, path)
        let dName = try string(d, "name", newSide, path)
        // QEMU loads a nested description at NEW's own version, whatever OLD's was: with OLD
        // a vmdesc (the fields it saved), the fields decide. (Two -dump-vmstate files: the
        // script's rule, a description's version lowered anywhere, is kept.)
        if !(nested && checker.oldIsVMDesc) {
            try checkVersions(s, d, sec: sec, desc: sName, path: path)
        }
        let oldVersion = try int(s, "version_id", oldSide, path)
        let newVersion = try int(d, "version_id", newSide, path)
        let load = nested ? newVersion : oldVersion
        // NEW, a vmdesc (no minimum_version_id), saved a later version than OLD's: QEMU refuses
        // OLD's when NEW's minimum_version_id is above it (QEMU 10.0's lan9118, version 3, from
        // QEMU 7.2's mps2-an385 stream, version 2: "lan9118: incoming version_id 2 is too old
        // for local minimum version_id 3").
        if !nested && checker.newIsVMDesc && !d.contains(key: "minimum_version_id") && oldVersion < newVersion {
            undecided(
                "section \"\(shown(sec))\", description \"\(dName)\": \(oldSide) saves version \(oldVersion), \(newSide) version \(newVersion): \(newSide) loads it only if its minimum_version_id is \(oldVersion) or lower, which \(newSide)'s vmdesc does not give (QEMU refuses it otherwise: \"\(dName): incoming version_id \(oldVersion) is too old for local minimum version_id ...\")"
            )
        }
        // NEW refuses OLD's version (vmstate_load_state: above its version_id or below its
        // minimum_version_id; checkVersions reports it) and reads none of the fields. A nested
        // description is loaded at NEW's own version, never refused.
        var refused = refusedAbove
        if !nested && !refused {
            refused = load > newVersion
            if d.contains(key: "minimum_version_id"), try load < int(d, "minimum_version_id", newSide, path) {
                refused = true
            }
        }
        // The versions both descriptions accept (a field's lowered version_id matters there).
        func minimum(_ o: JSONObject, _ side: String) throws(CompatInputError) -> Int64 {
            o.contains(key: "minimum_version_id") ? try int(o, "minimum_version_id", side, path) : 0
        }
        let acceptedLow = max(try minimum(s, oldSide), try minimum(d, newSide))
        let acceptedHigh = min(oldVersion, newVersion)
        let fieldsLoad = Load(
            version: load, nested: nested, oldVersion: oldVersion, newVersion: newVersion, refused: refused,
            accepted: acceptedLow <= acceptedHigh ? acceptedLow...acceptedHigh : nil,
            newHasNoSubsections: newHasNoSubsections)
        if !checker.namesMatch(scope: sec, sName, dName) {
            add(
                sec, sName, nil, .descriptionRenamed,
                "description \"\(sName)\" is \"\(dName)\" in \(newSide); its fields were not compared")
            return
        }
        if !s.contains(key: "Fields") && d.contains(key: "Fields") {
            // OLD saves no fields here; NEW's are all added.
            try checkFields(
                [], list(d, "Fields", newSide, path), desc: sName, sec: sec, load: fieldsLoad, path: path + ".Fields")
        }
        var seen = Set<String>()
        for entry in s.keys where seen.insert(entry).inserted {
            if !d.contains(key: entry) {
                switch entry {
                case "Fields":
                    // NEW reads no fields here: OLD's are walked against none (a conditional one
                    // is undecided, one OLD never saves takes no part).
                    try checkFields(
                        list(s, "Fields", oldSide, path), [], desc: sName, sec: sec, load: fieldsLoad,
                        path: path + ".Fields")
                case "Subsections":
                    for sub in try list(s, "Subsections", oldSide, path) {
                        subsectionMissing(
                            sec: sec, desc: sName, subsection: sub["name"]?.stringValue ?? "?",
                            detail: newHasNoSubsections
                                ? " (\(newSide)'s vmdesc describes an array of \"\(dName)\", or of a struct holding "
                                    + "it, as one entry with \"array_len\", which QEMU writes only for descriptions "
                                    + "without subsections)"
                                : " (\(newSide) has no subsections)",
                            known: newHasNoSubsections)
                    }
                default:
                    add(sec, sName, nil, .entryMissing, "entry \"\(entry)\" is missing in \(newSide)")
                }
                continue
            }
            if entry == "Fields" {
                try checkFields(
                    list(s, "Fields", oldSide, path), list(d, "Fields", newSide, path), desc: sName, sec: sec,
                    load: fieldsLoad, path: path + ".Fields")
            } else if entry == "Subsections" {
                try checkSubsections(
                    list(s, "Subsections", oldSide, path), list(d, "Subsections", newSide, path), desc: sName, sec: sec,
                    refusedAbove: refused, path: path + ".Subsections")
            }
        }
    }

    mutating func checkSubsections(
        _ src: [JSONObject], _ dst: [JSONObject], desc: String, sec: String, refusedAbove: Bool, path: DocumentPath
    ) throws(CompatInputError) {
        // NEW's subsections by name, each name's in order (looked up once per OLD subsection:
        // a description may have many).
        var byName: [String: [Int]] = [:]
        for (j, d) in dst.enumerated() {
            byName[try string(d, "name", newSide, path + "[\(j)]"), default: []].append(j)
        }
        for (i, s) in src.enumerated() {
            let name = try string(s, "name", oldSide, path + "[\(i)]")
            let matches = byName[name] ?? []
            for j in matches {
                try checkDescriptions(
                    s, dst[j], sec: sec, nested: false, refusedAbove: refusedAbove, path: path + "[\(j)]")
            }
            if matches.isEmpty { subsectionMissing(sec: sec, desc: desc, subsection: name) }
        }
    }

    /// An OLD subsection that NEW does not have: a `subsection-missing` problem, or a warning
    /// when NEW is a vmdesc, which lists the subsections its save sent (those whose `needed` was
    /// true then) and so cannot say whether NEW has the subsection, unless it is `known` that
    /// NEW's description has none.
    mutating func subsectionMissing(
        sec: String, desc: String, subsection: String, detail: String = "", known: Bool = false
    ) {
        if checker.newIsVMDesc && !known {
            // (Not counted as undecided: a subsection a save did not need is the common case,
            // two saves of one build differ so, e.g. x86 `cpu/msr_smi_count`.)
            report.warnings.append(
                "section \"\(shown(sec))\", description \"\(desc)\": \(oldSide) saves subsection \"\(subsection)\"; \(newSide)'s vmdesc shows no such subsection: it was not needed when \(newSide) saved (fine), or \(newSide) lacks it (not loadable)"
            )
        } else {
            add(
                sec, desc, nil, .subsectionMissing, "subsection \"\(subsection)\" does not exist in \(newSide)\(detail)"
            )
        }
    }

    /// A field's nested fields when its description's first field matches `name`: the field
    /// is a struct that took over (or gave up) fields without changing the wire format.
    func nestedFieldsStarting(with name: String, in item: JSONObject) -> [JSONObject]? {
        guard let desc = item["Description"]?.objectValue,
            let fields = desc["Fields"]?.arrayValue?.compactMap(\.objectValue), let first = fields.first,
            let firstName = first["field"]?.stringValue
        else { return nil }
        let scope = desc["name"]?.stringValue ?? ""
        return checker.namesMatch(scope: scope, firstName, name) ? fields : nil
    }

    /// The version NEW loads a field list at, and why.
    struct Load {
        /// The version: OLD's version_id for a section's description or a subsection, NEW's
        /// own for a nested description.
        var version: Int64
        /// A nested (VMS_STRUCT) description's fields.
        var nested: Bool
        /// OLD's version_id of the description: what OLD saves a nested description at.
        var oldVersion: Int64
        /// NEW's version_id of the description.
        var newVersion: Int64
        /// NEW refuses `version` (it is above NEW's version_id or below its
        /// minimum_version_id): NEW reads none of the fields, so none is added.
        var refused: Bool
        /// The versions both descriptions accept: from the higher minimum_version_id to the
        /// lower version_id (nil when they share none).
        var accepted: ClosedRange<Int64>?
        /// NEW's vmdesc proves that this description, and those of its VMS_STRUCT fields, have
        /// no subsections: NEW described an array of it as one entry with "array_len", which
        /// QEMU writes only when the element's description and those of its VMS_STRUCT fields,
        /// all the way down, have none (QEMU 10.0 migration/vmstate.c, `vmsd_can_compress`).
        var newHasNoSubsections = false
    }

    /// Walks OLD's and NEW's field lists side by side.
    mutating func checkFields(
        _ src: [JSONObject], _ dst: [JSONObject], desc: String, sec: String, load: Load, path: DocumentPath
    ) throws(CompatInputError) {
        // (Two vmdescs: an array of structs one describes per element, the other as one entry,
        // is compared per element.)
        let (src, dst) =
            checker.oldIsVMDesc && checker.newIsVMDesc
            ? DescriptionSet.matchingElementEntries(src, dst, wholeArraySizes: true) : (src, dst)
        // Each side: the list being walked, the position in it, and the lists it was entered from
        // (each with its position and its index, below).
        var sList = src, sPos = 0, sOuter: [([JSONObject], Int, [String: Int]?)] = []
        var dList = dst, dPos = 0, dOuter: [([JSONObject], Int, [String: Int]?)] = []
        // The list being walked's last position of each field name: made when first needed,
        // kept with the list when the walk enters a nested one, and taken back on return (so
        // made at most once per list: remade after each return, it made the walk quadratic).
        var sIndex: [String: Int]? = nil, dIndex: [String: Int]? = nil
        var fetchOld = true, fetchNew = true
        // Bytes of "unused" space still to be matched by fields of the other side.
        var unused: Int64 = 0
        // A buffer of one side whose bytes the other side's fields share out (`unused` counts
        // what is left of it): its name, the side whose buffer it is, and its size. QEMU 10.0's
        // globalstate keeps QEMU 7.2's 100-byte `runstate` as 32 bytes, two flags and 66 unused.
        // `other` is the other side's buffer of that name, the smaller.
        var split: (field: String, side: String, size: Int64, other: Int64)? = nil
        var s = JSONObject(), d = JSONObject()
        // A size finding was made here: the two sides' bytes no longer line up, so what NEW
        // reads after OLD's last field is not looked at.
        var misaligned = false

        func name(_ o: JSONObject, _ side: String) throws(CompatInputError) -> String {
            try string(o, "field", side, path + " (a field of \"\(desc)\")")
        }
        // (QEMU prints a `size_t`: a negative one is bad input, and would overflow the unused
        // space's arithmetic below.)
        func size(_ o: JSONObject, _ side: String) throws(CompatInputError) -> Int64 {
            let at = path + " (field \"\(o["field"]?.stringValue ?? "?")\")"
            let n = try int(o, "size", side, at)
            guard n >= 0 else {
                throw CompatInputError(location: "\(side) \(at)", message: "\"size\" \(n) is not a size")
            }
            return n
        }
        // The field's size; for an array with "num" (QEMU 8.1+), element size times num. A vmdesc
        // compared with a -dump-vmstate file gives element sizes too (`DescriptionSet` with
        // `elementSizes`, as `DescriptionSet.comparable` takes it), and its array's length as
        // "array_len": e1000e's 5-byte `core.eitr_intr_pending` (QEMU 7.2) is the unused space
        // of 5 bytes QEMU 10.0 has in its place. (Two vmdescs give whole-array sizes.)
        func totalSize(_ o: JSONObject, _ side: String) throws(CompatInputError) -> Int64 {
            let n = try size(o, side)
            let vmdescElementSizes = checker.oldIsVMDesc != checker.newIsVMDesc
            let countKey =
                o.contains(key: "num") ? "num" : vmdescElementSizes && o.contains(key: "array_len") ? "array_len" : nil
            guard let countKey else { return n }
            let num = try int(o, countKey, side, path + " (field \"\(o["field"]?.stringValue ?? "?")\")")
            let (total, overflow) = n.multipliedReportingOverflow(by: num)
            guard !overflow, num >= 0 else {
                throw CompatInputError(
                    location: "\(side) \(path) (field \"\(o["field"]?.stringValue ?? "?")\")",
                    message: "\"size\" \(n) times \"\(countKey)\" \(num) is not a size")
            }
            return total
        }
        // The version_id NEW reads a field from (0 when it has none).
        func fieldVersion(_ o: JSONObject, _ side: String) throws(CompatInputError) -> Int64 {
            guard o.contains(key: "version_id") else { return 0 }
            return try int(o, "version_id", side, path + " (field \"\(o["field"]?.stringValue ?? "?")\")")
        }
        // NEW skips the field when it loads OLD's version, or a nested description at its own
        // (only in the description's own list). (A VMS_VSTRUCT field loads its description at
        // the field's struct_version_id, at most the description's, which -dump-vmstate does not
        // show: a field above the description's version is skipped all the same.)
        // A conditional field (field_exists) is saved and read when its test passes, whatever its
        // version_id: neither side skips it by version.
        func newSkips(_ o: JSONObject, inOwnList: Bool) throws(CompatInputError) -> Bool {
            guard inOwnList, !checker.newIsVMDesc, o["field_exists"]?.boolValue != true else { return false }
            return try fieldVersion(o, newSide) > load.version
        }
        // OLD does not save the field: QEMU's saver, like its loader, writes a field only when
        // its version_id is at most the version the description is saved at
        // (vmstate_save_state_v): OLD's version, a nested one's own. QEMU 7.2 and 10.0's
        // imx2.wdt (version 0) has ptimer fields of version 1, neither saved nor loaded.
        func oldSkips(_ o: JSONObject, inOwnList: Bool) throws(CompatInputError) -> Bool {
            guard inOwnList, !checker.oldIsVMDesc, o["field_exists"]?.boolValue != true else { return false }
            return try fieldVersion(o, oldSide) > (load.nested ? load.oldVersion : load.version)
        }

        // A conditional field in or among those covering unused space (or a buffer) of another
        // size on the other side: saved or read only when its test passes, so whether the bytes
        // after it line up depends on the test. The walk of the list stops there (the caller
        // returns when this says so): either outcome may be the one that loads.
        func conditionalAgainstUnused(_ o: JSONObject, _ side: String) -> Bool {
            let vmdesc = side == oldSide ? checker.oldIsVMDesc : checker.newIsVMDesc
            guard o["field_exists"]?.boolValue == true, !vmdesc else { return false }
            let other = side == oldSide ? newSide : oldSide
            undecided(
                "section \"\(shown(sec))\", description \"\(desc)\", field \"\(o["field"]?.stringValue ?? "?")\": conditional in \(side), where \(other) has unused space or fields of another size: whether the fields after it line up depends on its test; the rest of the fields were not compared"
            )
            return true
        }
        // Whether `list` has a field named `n` (or a known rename of it) at `start` or after. (By
        // each list's last position of a name, made once per list: a scan per field pair would
        // be quadratic in a description's fields.)
        func later(_ list: [JSONObject], _ index: inout [String: Int]?, from start: Int, has n: String) -> Bool {
            if index == nil {
                var last: [String: Int] = [:]
                for (i, f) in list.enumerated() { if let name = f["field"]?.stringValue { last[name] = i } }
                index = last
            }
            if let i = index?[n], i >= start { return true }
            // (A rename found is recorded as used, as `namesMatch` records it.)
            return checker.renamedAlike(scope: desc, n).contains {
                if let i = index?[$0], i >= start { return checker.namesMatch(scope: desc, $0, n) }
                return false
            }
        }
        // The buffer being shared out is not covered: one side's fields end first. A size change.
        func splitUncovered(_ b: (field: String, side: String, size: Int64, other: Int64)) {
            let (o, n) = b.side == oldSide ? (b.size, b.other) : (b.other, b.size)
            add(
                sec, desc, b.field, .size,
                "size changed from \(byteCount(o)) in \(oldSide) to \(byteCount(n)) in \(newSide) (the longer buffer is not the other side's and the fields after it: those end \(byteCount(unused)) short)"
            )
        }
        // The buffer being shared out is covered exactly: the same bytes, which QEMU loads.
        func splitCovered() {
            guard let b = split else { return }
            let other = b.side == oldSide ? newSide : oldSide
            report.warnings.append(
                "section \"\(shown(sec))\", description \"\(desc)\", field \"\(b.field)\": \(b.side)'s buffer of \(byteCount(b.size)) is \(other)'s \"\(b.field)\" and the fields after it, the same bytes in all: QEMU loads them as they are (whether the device reads them alike is its own design)"
            )
            split = nil
        }

        while true {
            if fetchOld {
                if sPos < sList.count {
                    s = sList[sPos]
                    sPos += 1
                } else if let outer = sOuter.popLast() {
                    (sList, sPos, sIndex) = outer
                    continue
                } else {
                    // OLD has no more fields: what NEW still reads, OLD never wrote.
                    if !fetchNew && unused > 0, let b = split {
                        splitUncovered(b)
                        return
                    }
                    if !fetchNew && unused > 0 {
                        let dn = try name(d, newSide)
                        add(
                            sec, desc, dn, .unusedSize,
                            "\(newSide)'s unused space \"\(dn)\" is \(byteCount(unused)) larger than the fields \(oldSide) has in its place"
                        )
                        return
                    }
                    if misaligned || load.refused { break }
                    // (NEW's current field too when it is still to be matched: after a field of
                    // OLD's that OLD does not save.)
                    var rest: [(field: JSONObject, ownList: Bool)] = fetchNew ? [] : [(d, dOuter.isEmpty)]
                    rest += dList[dPos...].map { ($0, dOuter.isEmpty) }
                    for (i, outer) in dOuter.enumerated().reversed() {
                        rest += outer.0[outer.1...].map { ($0, i == 0) }
                    }
                    for (f, own) in rest {
                        if try newSkips(f, inOwnList: own) { continue }
                        try reportAdded(f, desc: desc, sec: sec, load: load, path: path)
                    }
                    break
                }
            } else if unused == 0 {
                fetchOld = true  // skip one fetch (entering or leaving a nested list)
            }
            if fetchNew {
                if dPos < dList.count {
                    d = dList[dPos]
                    dPos += 1
                } else if let outer = dOuter.popLast() {
                    (dList, dPos, dIndex) = outer
                    fetchOld = false
                    continue
                } else if !fetchOld && unused > 0, let b = split {
                    splitUncovered(b)
                    return
                } else if !fetchOld && unused > 0 {
                    let sn = try name(s, oldSide)
                    add(
                        sec, desc, sn, .unusedSize,
                        "\(oldSide)'s unused space \"\(sn)\" is \(byteCount(unused)) larger than the fields \(newSide) has in its place"
                    )
                    return
                } else if checker.newIsVMDesc && unused == 0 {
                    // NEW's vmdesc has no entry for what OLD saves from here on: each is an
                    // array that was empty when NEW saved (QEMU 7.2 and 10.0's "memory hotplug
                    // state" ends with `devs`), a warning, or a field NEW lacks. One value in
                    // OLD's vmdesc is no array: a field NEW lacks (NEW saves what it reads at
                    // the end of a description), a problem.
                    var rest: [(field: JSONObject, ownList: Bool)] = [(s, sOuter.isEmpty)]
                    rest += sList[sPos...].map { ($0, sOuter.isEmpty) }
                    for (i, outer) in sOuter.enumerated().reversed() {
                        rest += outer.0[outer.1...].map { ($0, i == 0) }
                    }
                    for (f, own) in rest where try !oldSkips(f, inOwnList: own) {
                        let sn = try name(f, oldSide)
                        if checker.oldIsVMDesc && oneValue(f) != nil {
                            add(
                                sec, desc, sn, .fieldMissing,
                                "\(oldSide) saves field \"\(sn)\" here, but \(newSide) has no further fields")
                            return
                        }
                        undecided(
                            "section \"\(shown(sec))\", description \"\(desc)\", field \"\(sn)\": \(oldSide) saves this field after \(newSide)'s last saved field; \(newSide)'s vmdesc has no entry for it: \(emptyArrayOrLacking(newSide, when: "\(newSide) saved"))"
                        )
                    }
                    return
                } else {
                    let sn = try name(s, oldSide)
                    if try oldSkips(s, inOwnList: sOuter.isEmpty) {
                        // OLD does not save it (its version_id is above the version OLD saves at).
                        fetchOld = true
                        continue
                    }
                    if s["field_exists"]?.boolValue == true {
                        // A conditional field (as in the walk below): saved only when its test
                        // passes, and then NEW refuses the section (its footer is not next).
                        undecided(
                            "section \"\(shown(sec))\", description \"\(desc)\", field \"\(sn)\": \(oldSide) saves this conditional field after \(newSide)'s last field when its test passes; \(newSide) has no such field: it cannot load what \(oldSide) saves then (fine if the test never passes on the machine types \(newSide) has)"
                        )
                        fetchOld = true
                        continue
                    }
                    add(
                        sec, desc, sn, .fieldMissing,
                        "\(oldSide) saves field \"\(sn)\" here, but \(newSide) has no further fields")
                    return
                }
            } else if unused == 0 {
                fetchNew = true
            }

            if unused != 0 {
                if !fetchNew {
                    // NEW's unused space (or buffer) is being covered by OLD's fields (of which
                    // one OLD does not save takes none of it).
                    if try oldSkips(s, inOwnList: sOuter.isEmpty) { continue }
                    if conditionalAgainstUnused(s, oldSide) { return }
                    unused -= try totalSize(s, oldSide)
                    if unused == 0 {
                        splitCovered()
                        fetchNew = true
                        continue
                    }
                    if unused < 0 {
                        let sn = try name(s, oldSide)
                        if let b = split {
                            add(
                                sec, desc, b.field, .size,
                                "size changed: \(newSide)'s buffer \"\(b.field)\" (\(byteCount(b.size))) is \(oldSide)'s fields from \"\(b.field)\" up to \"\(sn)\", which are \(byteCount(-unused)) longer"
                            )
                            return
                        }
                        add(
                            sec, desc, sn, .unusedSize,
                            "\(oldSide)'s fields up to \"\(sn)\" do not fit the unused space \(newSide) has in their place (\(byteCount(-unused)) too many)"
                        )
                        return
                    }
                    continue
                }
                if !fetchOld {
                    // OLD's unused space (or buffer) is being taken by NEW's fields (of which one
                    // NEW does not read takes none of it).
                    if try newSkips(d, inOwnList: dOuter.isEmpty) { continue }
                    if conditionalAgainstUnused(d, newSide) { return }
                    unused -= try totalSize(d, newSide)
                    if unused == 0 {
                        splitCovered()
                        fetchOld = true
                        continue
                    }
                    if unused < 0 {
                        let dn = try name(d, newSide)
                        if let b = split {
                            add(
                                sec, desc, b.field, .size,
                                "size changed: \(oldSide)'s buffer \"\(b.field)\" (\(byteCount(b.size))) is \(newSide)'s fields from \"\(b.field)\" up to \"\(dn)\", which are \(byteCount(-unused)) longer"
                            )
                            return
                        }
                        add(
                            sec, desc, dn, .unusedSize,
                            "\(newSide)'s fields up to \"\(dn)\" are \(byteCount(-unused)) larger than the unused space \(oldSide) has in their place"
                        )
                        return
                    }
                    continue
                }
            }

            let sn = try name(s, oldSide), dn = try name(d, newSide)
            if !checker.namesMatch(scope: desc, sn, dn) {
                if try newSkips(d, inOwnList: dOuter.isEmpty) {
                    // NEW does not read this field at OLD's version: added with a new version.
                    fetchOld = false
                    continue
                }
                if try oldSkips(s, inOwnList: sOuter.isEmpty) {
                    // OLD does not save this field (its version_id is above OLD's version), so
                    // NEW need not read it.
                    fetchNew = false
                    continue
                }
                if let nested = nestedFieldsStarting(with: sn, in: d) {
                    dOuter.append((dList, dPos, dIndex))
                    (dList, dPos) = (nested, 0)
                    dIndex = nil
                    fetchOld = false
                    continue
                }
                if let nested = nestedFieldsStarting(with: dn, in: s) {
                    sOuter.append((sList, sPos, sIndex))
                    (sList, sPos) = (nested, 0)
                    sIndex = nil
                    fetchNew = false
                    continue
                }
                if isUnused(sn) || isUnused(dn) {
                    let ss = try totalSize(s, oldSide), ds = try totalSize(d, newSide)
                    if ss == ds {
                        // Unused space and a field of its size, one of them conditional: one side
                        // writes or reads those bytes only when its test passes, the other always.
                        let sc = s["field_exists"]?.boolValue == true, dc = d["field_exists"]?.boolValue == true
                        if sc != dc {
                            let (n, side, other) = sc ? (sn, oldSide, dn) : (dn, newSide, sn)
                            undecided(
                                "section \"\(shown(sec))\", description \"\(desc)\", field \"\(n)\": conditional in \(side), where \"\(other)\" of its size is not: when its test fails, the fields after it are read \(byteCount(ss)) off"
                            )
                        }
                        continue
                    }
                    // (Either of them conditional: VMSTATE_UNUSED_TEST, or a field of another size.)
                    if conditionalAgainstUnused(s, oldSide) || conditionalAgainstUnused(d, newSide) { return }
                    if isUnused(dn) {
                        fetchNew = false
                        unused = ds - ss
                        if unused < 0 {
                            add(
                                sec, desc, sn, .unusedSize,
                                "\(oldSide)'s field \"\(sn)\" (\(byteCount(ss))) is larger than the unused space (\(byteCount(ds))) \(newSide) has in its place"
                            )
                            return
                        }
                        continue
                    }
                    fetchOld = false
                    unused = ss - ds
                    if unused < 0 {
                        add(
                            sec, desc, dn, .unusedSize,
                            "\(newSide)'s field \"\(dn)\" (\(byteCount(ds))) is larger than the unused space (\(byteCount(ss))) \(oldSide) has in its place"
                        )
                        return
                    }
                    continue
                }
                // A vmdesc has no entry for a variable-size array that was empty when it was
                // saved (QEMU describes each element it writes). When the field one side lacks
                // here comes later on the other side, and the other's field does not, the walk
                // goes on past it with a warning: what the vmdesc cannot tell is said.
                let at = "section \"\(shown(sec))\", description \"\(desc)\""
                if checker.oldIsVMDesc, later(dList, &dIndex, from: dPos, has: sn),
                    !later(sList, &sIndex, from: sPos, has: dn)
                {
                    // NEW's vmdesc, saved at the version NEW loads OLD's state at, shows one
                    // value here, not an array: a field OLD never saved, which NEW reads from
                    // OLD's stream (QEMU 7.2's esp `ti_cmd`, read from QEMU 10.0's streams).
                    if checker.newIsVMDesc, load.nested || load.newVersion <= load.version, let type = oneValue(d) {
                        add(
                            sec, desc, dn, .fieldAdded,
                            "\(newSide) saves this field (one \(type)) before \"\(sn)\" and reads it from "
                                + "\(oldSide)'s stream, but \(oldSide) does not save it (a vmdesc shows no entry for an "
                                + "empty variable-size array, and \(newSide)'s shows one value, not an array); the rest of "
                                + "the fields were not compared")
                        return
                    }
                    undecided(
                        "\(at), field \"\(dn)\": \(newSide) reads this field before \"\(sn)\"; \(oldSide)'s vmdesc has no entry for it: \(emptyArrayOrLacking(oldSide, when: "saved"))"
                    )
                    fetchOld = false
                    continue
                }
                if checker.newIsVMDesc, later(sList, &sIndex, from: sPos, has: dn),
                    !later(dList, &dIndex, from: dPos, has: sn)
                {
                    // One value in OLD's vmdesc is no empty array; NEW may still read it from
                    // older versions only (QEMU 10.0's esp reads 7.2's `ti_cmd` so), which its
                    // own save does not show.
                    let why =
                        checker.oldIsVMDesc && oneValue(s) != nil
                        ? "\(newSide) reads it only from older saves, as a conditional field (fine), or \(newSide) lacks it (not loadable)"
                        : emptyArrayOrLacking(newSide, when: "\(newSide) saved")
                    undecided(
                        "\(at), field \"\(sn)\": \(oldSide) saves this field before \"\(dn)\"; \(newSide)'s vmdesc has no entry for it: \(why)"
                    )
                    fetchNew = false
                    continue
                }
                // A conditional field (VMSTATE_*_TEST: "field_exists" in -dump-vmstate) one side
                // has and the other lacks, where the other's field comes later on this side: the
                // save writes it only when its test passes, which depends on the machine type or
                // the device's state, not shown here. QEMU 10.1 dropped pvscsi's `parent_obj`,
                // saved by QEMU 10.0 only for the old machine types 10.1 no longer has.
                if s["field_exists"]?.boolValue == true, later(sList, &sIndex, from: sPos, has: dn),
                    !later(dList, &dIndex, from: dPos, has: sn)
                {
                    undecided(
                        "\(at), field \"\(sn)\": \(oldSide) saves this conditional field before \"\(dn)\" when its test passes; \(newSide) has no such field: it misreads what \(oldSide) saves then (fine if the test never passes on the machine types \(newSide) has)"
                    )
                    fetchNew = false
                    continue
                }
                if d["field_exists"]?.boolValue == true, later(dList, &dIndex, from: dPos, has: sn),
                    !later(sList, &sIndex, from: sPos, has: dn)
                {
                    undecided(
                        "\(at), field \"\(dn)\": \(newSide) reads this conditional field before \"\(sn)\" when its test passes; \(oldSide) does not save it"
                    )
                    fetchOld = false
                    continue
                }
                add(
                    sec, desc, sn, .fieldMismatch,
                    "expected field \"\(sn)\", but \(newSide) has \"\(dn)\" in its place; the rest of the fields were not compared"
                )
                return
            }

            if try oldSkips(s, inOwnList: sOuter.isEmpty), try newSkips(d, inOwnList: dOuter.isEmpty) {
                // Neither side has it in the stream (its version_id is above the version saved).
                continue
            }
            // Fields of one name, the first conditional (saved when its test passes: PCIDevice's
            // `config`, 256 bytes for PCI and 4096 for PCI Express), where one side lacks it: a
            // later one of that name and size on the other side, past conditional ones only, is
            // the pair. (Looked for among the next 8: QEMU's runs are of 2, and a longer look at
            // each field of a long run would be quadratic.)
            let sConditional = s["field_exists"]?.boolValue == true, dConditional = d["field_exists"]?.boolValue == true
            if sConditional || dConditional {
                let ss = try totalSize(s, oldSide), ds = try totalSize(d, newSide)
                func pairsWith(_ list: [JSONObject], _ pos: Int, _ side: String, size: Int64) throws(CompatInputError)
                    -> Bool
                {
                    var i = pos
                    while i < min(list.count, pos + 8), try name(list[i], side) == sn {
                        if try totalSize(list[i], side) == size { return true }
                        if list[i]["field_exists"]?.boolValue != true { return false }
                        i += 1
                    }
                    return false
                }
                let at = "section \"\(shown(sec))\", description \"\(desc)\", field \"\(sn)\""
                if sConditional, ss != ds, try pairsWith(sList, sPos, oldSide, size: ds) {
                    undecided(
                        "\(at): \(oldSide) saves this conditional field of \(byteCount(ss)) before another \"\(sn)\" of \(byteCount(ds)) when its test passes; \(newSide) has only the later one: it misreads what \(oldSide) saves then (fine if the test never passes on the machine types \(newSide) has)"
                    )
                    fetchNew = false
                    continue
                }
                if dConditional, ss != ds, try pairsWith(dList, dPos, newSide, size: ss) {
                    undecided(
                        "\(at): \(newSide) reads this conditional field of \(byteCount(ds)) before another \"\(sn)\" of \(byteCount(ss)) when its test passes; \(oldSide) has only the later one and does not save it"
                    )
                    fetchOld = false
                    continue
                }
            }
            if try oldSkips(s, inOwnList: sOuter.isEmpty), try !newSkips(d, inOwnList: dOuter.isEmpty),
                later(sList, &sIndex, from: sPos, has: sn)
            {
                // OLD never saves this one of two fields of its name (QEMU's VMSTATE_UNUSED_V
                // before a VMSTATE_UNUSED): NEW's is OLD's later one.
                fetchNew = false
                continue
            }
            if try newSkips(d, inOwnList: dOuter.isEmpty), try !oldSkips(s, inOwnList: sOuter.isEmpty),
                later(dList, &dIndex, from: dPos, has: dn)
            {
                // NEW never reads this one of two fields of its name at OLD's version: OLD's is
                // NEW's later one.
                fetchOld = false
                continue
            }
            // (A vmdesc has no "field_exists": its entry is a field that save wrote.)
            if sConditional != dConditional, !checker.oldIsVMDesc, !checker.newIsVMDesc {
                // Conditional on one side only: saved (or read) there when its test passes, on
                // the other by its version_id. Whether they agree depends on the test.
                let plainSkips =
                    sConditional
                    ? try newSkips(d, inOwnList: dOuter.isEmpty) : try oldSkips(s, inOwnList: sOuter.isEmpty)
                if !load.refused {
                    let (test, plain, plainField, verb) =
                        sConditional ? (oldSide, newSide, d, "read") : (newSide, oldSide, s, "save")
                    let plainVersion = sConditional || !load.nested ? load.version : load.oldVersion
                    let does =
                        plainSkips
                        ? "does not \(verb) it here (its version_id \(try fieldVersion(plainField, plain)) is above \(plainVersion))"
                        : "\(verb)s it here"
                    undecided(
                        "section \"\(shown(sec))\", description \"\(desc)\", field \"\(sn)\": conditional in \(test) (\(sConditional ? "saved" : "read") when its test passes), not in \(plain), which \(does): \(oldSide)'s state loads only where that test \(plainSkips ? "fails" : "passes")"
                    )
                }
                if plainSkips { continue }
            } else if sConditional && dConditional {
                // (Conditional on both sides: each saves or reads it by its test, whatever the
                // version_id; the same test is assumed.)
            } else if try newSkips(d, inOwnList: dOuter.isEmpty), try !oldSkips(s, inOwnList: sOuter.isEmpty) {
                if !load.refused {
                    let v = try fieldVersion(d, newSide)
                    add(
                        sec, desc, sn, .fieldVersion,
                        load.nested
                            ? "\(newSide) never reads the field (its version_id \(v) is above \(newSide)'s version \(load.newVersion) of the nested description), but \(oldSide) saves it at its version \(load.oldVersion)"
                            : "\(newSide) reads the field only from version \(v), but \(oldSide) saves it at version \(load.version)"
                    )
                }
            } else if try checkFieldVersion(
                s, d, sec: sec, desc: desc, field: sn, load: load, path: path + " (field \"\(sn)\")")
            {
                // (The script's rule for a lowered version_id, reported.)
            } else if load.nested, !load.refused, try oldSkips(s, inOwnList: sOuter.isEmpty),
                try !newSkips(d, inOwnList: dOuter.isEmpty)
            {
                // Each side saves and loads a nested description at its own version: OLD's is
                // below the field's version_id, so OLD never saves it, and NEW's is not.
                add(
                    sec, desc, sn, .fieldAdded,
                    "\(newSide) reads this field (its version_id is \(try fieldVersion(d, newSide)), not above \(newSide)'s version \(load.newVersion)), but \(oldSide) does not save it (\(oldSide) saves the nested description at its version \(load.oldVersion), below the field's version_id \(try fieldVersion(s, oldSide)) there)"
                )
            } else if load.nested, !load.refused, try fieldVersion(s, oldSide) > fieldVersion(d, newSide) {
                // Lowered in a nested description that each side saves or loads whole, the field
                // included (a VMS_STRUCT). A VMS_VSTRUCT field saves and loads it at its own
                // struct_version_id instead, which -dump-vmstate does not show (QEMU's pckbd
                // `kbd`): there NEW may read the field where OLD did not save it.
                let sv = try fieldVersion(s, oldSide), dv = try fieldVersion(d, newSide)
                undecided(
                    "section \"\(shown(sec))\", description \"\(desc)\", field \"\(sn)\": its version_id is \(sv) in \(oldSide) and \(dv) in \(newSide), in a nested description both save and load whole at their versions (\(load.oldVersion), \(load.newVersion)): fine for a VMS_STRUCT field; a VMS_VSTRUCT one (-dump-vmstate does not say which) saves and loads it at its struct_version_id, where \(newSide) reads it from \(dv) and \(oldSide) saves it only from \(sv)"
                )
            }
            if isUnused(sn), isUnused(dn), !s.contains(key: "Description"), !d.contains(key: "Description") {
                // Unused space on both sides, of other sizes: the larger one's rest is the other
                // side's fields after it, as for unused space against a field.
                let ss = try totalSize(s, oldSide), ds = try totalSize(d, newSide)
                if ss < ds {
                    (fetchNew, unused) = (false, ds - ss)
                    continue
                } else if ss > ds {
                    (fetchOld, unused) = (false, ss - ds)
                    continue
                }
            }
            if s.contains(key: "null_entries") || d.contains(key: "null_entries") || s.contains(key: "first_entry_null")
                || d.contains(key: "first_entry_null")
            {
                // An array of pointers with NULL entries (`DescriptionSet.mergingNullRuns`): its
                // bytes depend on which entries are NULL, so its length, those entries and its
                // entries' description are compared, not its size.
                let ns = s["array_len"]?.int64Value ?? s["num"]?.int64Value
                let nd = d["array_len"]?.int64Value ?? d["num"]?.int64Value
                if let ns, let nd, ns != nd {
                    misaligned = true
                    add(
                        sec, desc, sn, .size,
                        "array length changed from \(ns) in \(oldSide) to \(nd) in \(newSide) (an array of pointers)")
                    continue
                }
                func nulls(_ o: JSONObject, _ side: String) -> String {
                    if let n = o["null_entries"]?.stringValue { return "\(side): \(n)" }
                    if o["first_entry_null"] != nil { return "\(side): 0, and further ones not described" }
                    return "\(side): not described"
                }
                if let side = [(s, oldSide), (d, newSide)].first(where: { $0.0["entries_differ"] != nil })?.1 {
                    misaligned = true
                    add(
                        sec, desc, sn, .fieldMismatch,
                        "\(side) describes the entries that are not NULL of an array of pointers in more than one way, "
                            + "where QEMU saves them all with one field: not compared")
                    continue
                }
                var sameNulls = false
                if let a = s["null_entries"]?.stringValue, let b = d["null_entries"]?.stringValue {
                    sameNulls = a == b
                    if a != b {
                        let which = "are \(a) in \(oldSide) and \(b) in \(newSide)"
                        add(
                            sec, desc, sn, .nullEntries,
                            "an array of pointers whose NULL entries (one marker byte each) \(which): QEMU loads an "
                                + "entry as NULL where its own pointer is NULL, so the same ones must be")
                    }
                } else if let (nullFirst, notNull) = CompatChecker.firstEntryNullAgainstNotNull(
                    s, d, oldSide, newSide, vmdescs: (checker.oldIsVMDesc, checker.newIsVMDesc))
                {
                    // One side's entry 0 is NULL (QEMU 7.2's vmdesc by its NULL first entry, the
                    // rest not described) and the other's is not: decided (verify14 N3).
                    func known(_ o: JSONObject, _ side: String) -> String {
                        o["null_entries"] == nil && o["first_entry_null"] == nil
                            ? "\(side): not 0, the others not described" : nulls(o, side)
                    }
                    add(
                        sec, desc, sn, .nullEntries,
                        "an array of pointers whose entry 0 is NULL in \(nullFirst) and not in \(notNull) (NULL entries, "
                            + "one marker byte each: \(known(s, oldSide)); \(known(d, newSide))): QEMU loads an entry as "
                            + "NULL where its own pointer is NULL, so the same ones must be")
                } else {
                    let unknown = [(s, oldSide), (d, newSide)].first { $0.0["null_entries"] == nil }!
                    let why =
                        unknown.0["first_entry_null"] != nil
                        ? "QEMU 7.2's vmdesc describes an array by its first entry only"
                        : (unknown.1 == oldSide ? checker.oldIsVMDesc : checker.newIsVMDesc)
                            ? "a vmdesc without \"nullptr\" entries for it had none NULL, or describes the first entry only (QEMU 7.2)"
                            : "a -dump-vmstate file describes the table, not which pointers are NULL"
                    undecided(
                        "section \"\(shown(sec))\", description \"\(desc)\", field \"\(sn)\": an array of pointers with NULL entries "
                            + "(\(nulls(s, oldSide)); \(nulls(d, newSide))): QEMU loads it only when the same entries are NULL "
                            + "on both sides, which \(unknown.1) does not say (\(why))")
                }
                // Its entries that are not NULL: OLD's description, or their size (QEMU loads each
                // with NEW's field). Sizes only where the same entries are NULL on both sides
                // (a size is then all entries' on both, or one entry's on both); not where a side
                // has all of them NULL (a `nullptr` field: the NULL entries differ) or describes
                // its first entry only, a NULL one (QEMU 7.2: undecided above).
                let notDescribed =
                    s["type"]?.stringValue == "nullptr" || d["type"]?.stringValue == "nullptr"
                    || s["first_entry_null"] != nil || d["first_entry_null"] != nil
                if notDescribed {
                    // (Nothing more: the NULL entries were compared, or are undecided.)
                } else if let sd = s["Description"] {
                    guard let dd = d["Description"] else {
                        let n = sd.objectValue?["name"]?.stringValue
                        add(
                            sec, desc, sn, .descriptionMissing,
                            "the entries that are not NULL of an array of pointers have description \"\(n ?? "?")\" in \(oldSide), none in \(newSide)"
                        )
                        continue
                    }
                    // (NEW's runs with "array_len", "compressed": NEW's description has no
                    // subsections, as in a plain array's below.)
                    let noSubsections =
                        checker.newIsVMDesc && d["type"]?.stringValue == "struct"
                        && (d["compressed"] != nil || load.newHasNoSubsections)
                    try checkDescriptions(
                        object(sd, oldSide, path + " (field \"\(sn)\").Description"),
                        object(dd, newSide, path + " (field \"\(dn)\").Description"),
                        sec: sec, nested: true, refusedAbove: load.refused, newHasNoSubsections: noSubsections,
                        path: path + " (field \"\(sn)\").Description")
                } else if sameNulls {
                    let ss = try size(s, oldSide), ds = try size(d, newSide)
                    if ss != ds {
                        misaligned = true
                        add(
                            sec, desc, sn, .size,
                            "size changed from \(byteCount(ss)) in \(oldSide) to \(byteCount(ds)) in \(newSide) (the entries that are not NULL of an array of pointers)"
                        )
                    }
                }
                continue
            }
            if !s.contains(key: "Description") {
                let ss = try size(s, oldSide), ds = try size(d, newSide)
                if s.contains(key: "num") && d.contains(key: "num") {
                    // Both sides give the array's length: compare whole arrays.
                    let ts = try totalSize(s, oldSide), td = try totalSize(d, newSide)
                    if ts != td {
                        misaligned = true
                        let ns = try int(s, "num", oldSide, path), nd = try int(d, "num", newSide, path)
                        add(
                            sec, desc, sn, .size,
                            "size changed from \(byteCount(ts)) (\(ns) × \(byteCount(ss))) in \(oldSide) to \(byteCount(td)) (\(nd) × \(byteCount(ds))) in \(newSide)"
                        )
                    }
                } else if ss != ds,
                    (s["type"]?.stringValue == "buffer" && d["type"]?.stringValue == "buffer")
                        || s.contains(key: "array_len") || d.contains(key: "array_len"),
                    checker.bothStreamsSize(SizedBuffer(section: sec, description: desc, field: sn))
                {
                    // Each stream has an earlier field of the same description that holds the
                    // buffer's length or the array's element count: a VMSTATE_VBUFFER* (a device
                    // tree, a firmware blob) or VMSTATE_VARRAY* (ARM cpu's register list), which
                    // QEMU reads as long as the stream says, or a fixed buffer or array whose
                    // length changed and matches such a field by chance (verify12, verify13). A
                    // vmdesc does not tell.
                    // ARM's register lists (cpreg_vmstate_indexes and _values) are such arrays
                    // in every QEMU, compared by register when both sides' are known.
                    let registerList =
                        desc == "cpu" && (sn == "cpreg_vmstate_indexes" || sn == "cpreg_vmstate_values")
                        && checker.comparesCPURegisterLists(ofSection: sec)
                    if !registerList {
                        let start = "section \"\(shown(sec))\", description \"\(desc)\", field \"\(sn)\": "
                        let sizes = "\(byteCount(ss)) in \(oldSide) and \(byteCount(ds)) in \(newSide)"
                        undecided(
                            s["type"]?.stringValue == "buffer" && d["type"]?.stringValue == "buffer"
                                ? start
                                    + "a buffer of \(sizes), each as long as an earlier field of its stream holds: if "
                                    + "that field is its length (VMSTATE_VBUFFER*), QEMU reads as many bytes as the stream "
                                    + "says; if the buffer's length is fixed, it changed (not loadable)"
                                : start
                                    + "an array of \(sizes), each of as many elements as an earlier field of its stream "
                                    + "holds: if that field is its count (VMSTATE_VARRAY*), QEMU reads as many elements as "
                                    + "the stream says (checks of the count are findings of their own); if the array's "
                                    + "length is fixed, it changed (not loadable)")
                    }
                } else if ss != ds, s["type"]?.stringValue == "buffer", d["type"]?.stringValue == "buffer",
                    !s.contains(key: "array_len"), !d.contains(key: "array_len"), ss > 0, ds > 0
                {
                    // A buffer of one side is the start of the other's, and the fields after
                    // that may hold the rest of its bytes.
                    if ss > ds {
                        split = (sn, oldSide, ss, ds)
                        unused = ss - ds
                        fetchOld = false
                    } else {
                        split = (sn, newSide, ds, ss)
                        unused = ds - ss
                        fetchNew = false
                    }
                } else if ss != ds, checker.oldIsVMDesc, checker.newIsVMDesc,
                    !QEMUInfoSize.isFixedPerField(s["type"]?.stringValue)
                        || !QEMUInfoSize.isFixedPerField(d["type"]?.stringValue)
                {
                    // Two vmdescs give what each save wrote: a field whose VMStateInfo decides how
                    // many bytes it writes from the state (virtio, msix state, a bitmap or queue
                    // whose length is another field) may differ in size between two saves of
                    // one build, and its loader reads what the stream holds. So do devices made
                    // with other options (virtio-net's queues=, checked inside `virtio`), which
                    // QEMU refuses: undecided. (Not a virtio field whose negotiated features were
                    // warned of: that warning says more.)
                    if !virtioFeaturesWarned.contains(sec + "\u{0}" + sn) {
                        undecided(
                            "section \"\(shown(sec))\", description \"\(desc)\", field \"\(sn)\": size \(byteCount(ss)) in "
                                + "\(oldSide), \(byteCount(ds)) in \(newSide); its type (\(s["type"]?.stringValue ?? "none")) "
                                + "writes as many bytes as the state saved needs, so two saves may differ, and so do devices "
                                + "made with other options (virtio-net's queues=), some of which QEMU refuses (not compared)"
                        )
                    }
                } else if ss != ds, sConditional, dConditional, !checker.oldIsVMDesc, !checker.newIsVMDesc {
                    // Conditional on both sides (the same test assumed): saved and read only
                    // when it passes, and misread then.
                    undecided(
                        "section \"\(shown(sec))\", description \"\(desc)\", field \"\(sn)\": conditional on both sides, of \(byteCount(ss)) in \(oldSide) and \(byteCount(ds)) in \(newSide): misread whenever its test passes (fine if it never does on the machine types both have)"
                    )
                } else if ss != ds
                    // A -dump-vmstate size of 0 is a field whose VMStateInfo decides how many
                    // bytes it writes (msix state, ...): a vmdesc's size, what was written, is
                    // not comparable with it.
                    && !(checker.oldIsVMDesc && !checker.newIsVMDesc && ds == 0)
                    && !(checker.newIsVMDesc && !checker.oldIsVMDesc && ss == 0)
                    // Nor when the vmdesc's type writes other than its table's size (AVR's
                    // sreg: 1 byte of a CPU state; a qlist: 1 byte per empty list).
                    && !(checker.oldIsVMDesc != checker.newIsVMDesc
                        && QEMUInfoSize.mayDifferFromTable((checker.oldIsVMDesc ? s : d)["type"]?.stringValue))
                {
                    misaligned = true
                    add(
                        sec, desc, sn, .size,
                        "size changed from \(byteCount(ss)) in \(oldSide) to \(byteCount(ds)) in \(newSide)")
                }
            }
            if s.contains(key: "Description") && d.contains(key: "Description") {
                // An array of structs: its length, where both sides give it the same way ("num"
                // of two -dump-vmstate files, QEMU 8.1+; "array_len" of two vmdescs, QEMU 10.0's
                // run of equal elements). QEMU's checker compares no size of a struct field;
                // QEMU's loader reads OLD's elements into NEW's and fails ("Missing section
                // footer"). (A vmdesc's run may be part of the array: not compared with "num".)
                func count(_ o: JSONObject, _ key: String, _ side: String) throws(CompatInputError) -> Int64? {
                    guard o.contains(key: key) else { return nil }
                    return try int(o, key, side, path + " (field \"\(o["field"]?.stringValue ?? "?")\")")
                }
                let key = checker.oldIsVMDesc && checker.newIsVMDesc ? "array_len" : "num"
                if let ns = try count(s, key, oldSide), let nd = try count(d, key, newSide), ns != nd {
                    misaligned = true
                    let name = s["Description"]?.objectValue?["name"]?.stringValue ?? "?"
                    add(
                        sec, desc, sn, .size,
                        "array length changed from \(ns) in \(oldSide) to \(nd) in \(newSide) (elements of description \"\(name)\")"
                    )
                }
            }
            if let sd = s["Description"] {
                guard let dd = d["Description"] else {
                    let n = sd.objectValue?["name"]?.stringValue
                    add(
                        sec, desc, sn, .descriptionMissing,
                        "the field has description \"\(n ?? "?")\" in \(oldSide), none in \(newSide)")
                    continue
                }
                // NEW's vmdesc entry of a VMS_STRUCT array with "array_len" (or an element of
                // one, `DescriptionSet.matchingElementEntries`), or a VMS_STRUCT field of a
                // description that has no subsections: NEW's description has none either.
                let noSubsections =
                    checker.newIsVMDesc && d["type"]?.stringValue == "struct"
                    && (d["array_len"] != nil || d["compressed"] != nil || load.newHasNoSubsections)
                try checkDescriptions(
                    object(sd, oldSide, path + " (field \"\(sn)\").Description"),
                    object(dd, newSide, path + " (field \"\(dn)\").Description"),
                    sec: sec, nested: true, refusedAbove: load.refused, newHasNoSubsections: noSubsections,
                    path: path + " (field \"\(sn)\").Description")
            }
        }
    }
}

extension CompatRun {
    /// A NEW field after OLD's last one, that NEW reads when it loads `load.version`: a
    /// finding, or a warning when that cannot be decided (a conditional field; an OLD vmdesc,
    /// which has no entry for an empty variable-size array; a NEW vmdesc saved at a later
    /// version, whose fields have no version_id).
    mutating func reportAdded(_ f: JSONObject, desc: String, sec: String, load: Load, path: DocumentPath)
        throws(CompatInputError)
    {
        let fname = try string(f, "field", newSide, path + " (a field of \"\(desc)\")")
        let at = "section \"\(shown(sec))\", description \"\(desc)\", field \"\(fname)\""
        if f["field_exists"]?.boolValue == true {
            undecided(
                "\(at): \(newSide) reads this conditional field after \(oldSide)'s last field when its test passes; \(oldSide) does not save it"
            )
            return
        }
        // (First: a field NEW saved at a later version than OLD's is most likely one added
        // with that version, whatever OLD is.)
        if checker.newIsVMDesc && !load.nested && load.newVersion > load.version {
            undecided(
                "\(at): \(newSide) saved this field at version \(load.newVersion); \(newSide)'s vmdesc does not say whether it reads it at \(oldSide)'s version \(load.version)"
            )
            return
        }
        if checker.oldIsVMDesc {
            // NEW's vmdesc, saved at the version OLD saved, shows one value of a fixed-width
            // type, not an array: not an empty variable-size array on OLD's side, but a field OLD
            // never saved (QEMU 10.0's esp `drq_state`, which QEMU 10.0 reads from 7.2's streams
            // and fails: "Missing section footer").
            if checker.newIsVMDesc, load.nested || load.newVersion <= load.version, let type = oneValue(f) {
                add(
                    sec, desc, fname, .fieldAdded,
                    "\(newSide) saves this field (one \(type)) after \(oldSide)'s last saved field and reads it from "
                        + "\(oldSide)'s stream, but \(oldSide) does not save it (a vmdesc shows no entry for an "
                        + "empty variable-size array, and \(newSide)'s shows one value, not an array)")
                return
            }
            undecided(
                "\(at): \(newSide) reads this field after \(oldSide)'s last saved field; \(oldSide)'s vmdesc has no entry for it: \(emptyArrayOrLacking(oldSide, when: "saved"))"
            )
            return
        }
        if load.nested {
            add(
                sec, desc, fname, .fieldAdded,
                "\(newSide) reads this field, but \(oldSide) does not save it (\(newSide) loads a nested description at its own version, \(load.version), whatever the version of the field)"
            )
        } else {
            let v = f["version_id"]?.int64Value ?? 0
            add(
                sec, desc, fname, .fieldAdded,
                checker.newIsVMDesc
                    ? "\(newSide) saves this field at version \(load.version), the version \(oldSide) saves, and reads it from \(oldSide)'s stream, but \(oldSide) does not save it"
                    : "\(newSide) reads this field from \(oldSide)'s version \(load.version) (its version_id is \(v), not above \(load.version)), but \(oldSide) does not save it"
            )
        }
    }
}

private func byteCount(_ n: Int64) -> String { n == 1 ? "1 byte" : "\(n) bytes" }

/// Whether a vmdesc field of `type` (its VMStateInfo's name) has a size that does not depend on
/// the state saved: QEMU's fixed-width types (migration/vmstate-types.c, savevm.c's `timer`)
/// and buffers (compared apart). Any other (`virtio`, `msix state`, `pci config`, `bitmap`,
/// `qtailq`, `gtree`, `qlist`, a target's own) writes what its `put` decides.
func vmdescSizeIsFixed(_ type: String?) -> Bool {
    switch type {
    case "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "int32 equal",
        "int32 le", "int64 equal", "uint8 equal", "uint16 equal", "uint32 equal", "CPU_Double_U", "timer",
        "float64", "buffer", "unused_buffer", "nullptr":
        return true
    default:
        return false
    }
}

/// How many bytes a vmdesc field of a VMStateInfo of QEMU 7.2 or 10.0 writes, by the info's
/// name (the vmdesc's `type`; each `put` read): what tells which sizes two saves, or a save
/// and QEMU's table (`-dump-vmstate`), may give one field.
enum QEMUInfoSize {
    /// The table field's size, whatever the state: ``vmdescSizeIsFixed(_:)``'s generic types
    /// but `timer`, and the targets' register packers that write their member (ARM's `cpsr`,
    /// PowerPC's `msr`, ...), `pci config`.
    case table
    /// The same number of bytes on every save, but not the table's: an embedded `timer` 8 of
    /// its struct, AVR's `sreg` 1 byte of the CPU state and `rampD` 1 of 4, PowerPC's `fpr` 8
    /// of 16 and `slbe` 16 of 24, MIPS's `tlb_entry` (28 bytes in 7.2, 32 in 10.0 on mips),
    /// `pci irq state` 16 of 1, `shpc` 160 of 0, ...
    case fixedOther
    /// As many bytes as the state needs (`virtio`, `msix state`, lists, trees, bitmaps, ...).
    case variable

    /// The class of `type`; nil for a type QEMU does not have (an emulator's own).
    static func of(_ type: String?) -> QEMUInfoSize? {
        if type == "timer" { return .fixedOther }
        if vmdescSizeIsFixed(type) { return .table }
        switch type {
        case "pci config", "sr", "fpcr", "fpsr", "fpscr", "cpsr", "powered_off", "psr", "fsr", "xcc", "avr",
            "cpu/altivec/vscr", "msr":
            return .table
        case "fd", "pci irq state", "shpc", "int32_as_uint16", "uint16_from_uint8", "sreg", "rampD", "rampX",
            "rampY", "rampZ", "eind", "fpr", "vsr", "slbe", "tlb_entry", "psw", "tlb entry":
            return .fixedOther
        case "bitmap", "tmp", "qtailq", "gtree", "qlist", "capability", "virtio", "virtqueue_extra_state",
            "virtio-gpu", "blob", "irqs", "usb-redir-parser", "usb-redir-bufpq", "usb-redir-packet-id-q",
            "scsi-requests", "msix state", "virtio-net vhost-user backend state", "virtio-fs back-end state":
            return .variable
        default:
            return nil
        }
    }

    /// Whether two saves of one table field write the same number of bytes, so that two sizes
    /// mean the bytes changed (QEMU 10.0 refuses 7.2's mips "cpu" section).
    static func isFixedPerField(_ type: String?) -> Bool { of(type).map { $0 != .variable } ?? false }

    /// Whether a save's size of the field (a vmdesc's) may differ from its table's size (a
    /// `-dump-vmstate` file's).
    static func mayDifferFromTable(_ type: String?) -> Bool { of(type).map { $0 != .table } ?? false }
}

/// The type of a vmdesc field entry that shows one value of a fixed-width type (no
/// `array_len`, no `index`, no nested description, not a buffer), nil for any other: what an
/// entry looks like that cannot be an array QEMU found empty on another save.
func oneValue(_ f: JSONObject) -> String? {
    guard !f.contains(key: "array_len"), !f.contains(key: "index"), !f.contains(key: "Description"),
        let type = f["type"]?.stringValue, vmdescSizeIsFixed(type), type != "buffer", type != "unused_buffer"
    else { return nil }
    return type
}

extension CompatReport {
    /// Human-readable report.
    public func text(oldLabel: String = "OLD", newLabel: String = "NEW") -> String {
        var lines = warnings.map { "warning: \($0)" }
        lines += findings.map(\.text)
        lines.append(verdict(oldLabel: oldLabel, newLabel: newLabel))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report's last line: compatible (saying how many warnings are ``undecided``, if any)
    /// or not (how many problems).
    public func verdict(oldLabel: String = "OLD", newLabel: String = "NEW") -> String {
        if isCompatible && undecided > 0 {
            return undecided == 1
                ? "compatible, but 1 warning above is undecided: state saved by \(oldLabel) loads into \(newLabel) if what it leaves open is the loadable case"
                : "compatible, but \(undecided) warnings above are undecided: state saved by \(oldLabel) loads into \(newLabel) if what each leaves open is the loadable case"
        } else if isCompatible {
            return "compatible: state saved by \(oldLabel) loads into \(newLabel)"
        }
        return
            "NOT compatible: \(findings.count) problem\(findings.count == 1 ? "" : "s") (state saved by \(oldLabel) does not load into \(newLabel): QEMU refuses it or loads wrong values)"
    }
}

/// Why a vmdesc may have no entry for a field the other side has: `side`'s save (`when`) wrote
/// an empty variable-size array or left out a conditional field there, which a vmdesc does not
/// describe (loadable when the stream decides the count or test, not when the devices' options
/// do), or `side` lacks the field.
private func emptyArrayOrLacking(_ side: String, when: String) -> String {
    "it was an empty variable-size array or a conditional field left out when \(when) (loadable when its count or test comes from the stream; not when the devices' options set it, as memory hotplug's slots= does), or \(side) lacks it (not loadable)"
}

// MARK: - Descriptions from a -dump-vmstate file or a vmdesc

/// Device descriptions read from a `-dump-vmstate` file or from a vmdesc (the JSON a stream
/// ends with, in a file of its own or read from the stream), in `-dump-vmstate`'s shape, for
/// `vmstate compat` and `vmstate diff`.
///
/// A vmdesc entry `{"name", "instance_id", "vmsd_name", "version", "fields", "subsections"}`
/// becomes `{"Name": vmsd_name, "version_id": version, "Description": {"name", "version_id",
/// "Fields", "Subsections"}}`; each field `{"name", "type", "size", "array_len", "struct"}`
/// becomes `{"field", "version_id": 0, "field_exists": false, "size", "type", "array_len",
/// "Description"}`. A vmdesc has no `minimum_version_id`, no field `version_id`, and only the
/// fields that were saved; its sizes are bytes on the wire (a struct field's size is what its
/// fields wrote), where `-dump-vmstate` gives the C field's size.
public struct DescriptionSet: Sendable {
    public enum Format: String, Sendable {
        case dumpVMState = "-dump-vmstate"
        case vmdesc = "vmdesc"
    }

    public struct Entry: Sendable {
        /// The `-dump-vmstate` key (a device class name) or the vmdesc section idstr.
        public var section: String
        /// The vmdesc instance id; 0 for `-dump-vmstate`.
        public var instance: UInt32
        /// The entry in `-dump-vmstate`'s shape.
        package var value: JSONObject
        /// A vmdesc entry of a section saved by QEMU's old-style handlers (no `vmsd_name`, no
        /// `version`: only the bytes it wrote): `value` then has only `"Name"` (the idstr).
        public var oldStyle = false

        package init(section: String, instance: UInt32, value: JSONObject, oldStyle: Bool = false) {
            self.section = section
            self.instance = instance
            self.value = value
            self.oldStyle = oldStyle
        }

        /// The name of the entry's description ("i8254" for the key "isa-pit").
        public var descriptionName: String? { value["Description"]?.objectValue?["name"]?.stringValue }

        /// The key in a `-dump-vmstate` document: the section, with " (instance N)" for N > 0.
        public var key: String { Self.key(section, instance) }

        /// The key of `section`'s entry of `instance`: the idstr, with " (instance N)" for N > 0.
        static func key(_ section: String, _ instance: UInt32) -> String {
            instance == 0 ? section : "\(section) (instance \(instance))"
        }
    }

    public var format: Format
    /// The machine type of a `-dump-vmstate` file ("vmschkmachine"), when it has one.
    public var machine: String?
    /// A vmdesc's description of the configuration section (QEMU 8.2 and later write one;
    /// QEMU 7.2 and 8.1 none): whether it has one, and the size of its `name` buffer, the
    /// length in bytes of the machine type's name (nil when not given).
    public var configuration: (described: Bool, machineNameLength: Int?) = (false, nil)
    public var entries: [Entry]

    /// Reads `json`, a `-dump-vmstate` document or a vmdesc (an object with a "devices" list).
    /// `label` names the input in errors. A vmdesc's array sizes become whole-array sizes
    /// (element size times "array_len") unless `elementSizes` is set.
    package init(_ json: JSONValue, label: String, elementSizes: Bool = false) throws {
        guard let top = json.objectValue else {
            throw CompatInputError(
                location: "\(label) (top level)", message: "expected an object, found \(json.kindName)")
        }
        if let devices = top["devices"] {
            format = .vmdesc
            if let c = top["configuration"]?.objectValue {
                let name = c["fields"]?.arrayValue?.first { $0.objectValue?["name"]?.stringValue == "name" }
                let size = name?.objectValue?["size"]?.int64Value
                configuration = (true, size.flatMap { $0 >= 0 && $0 <= 1 << 20 ? Int($0) : nil })
            }
            guard let list = devices.arrayValue else {
                throw CompatInputError(
                    location: "\(label) \"devices\"", message: "expected a list, found \(devices.kindName)")
            }
            entries = []
            var converted = ConvertedLists()
            for (i, d) in list.enumerated() {
                let path = "\(label) devices[\(i)]"
                guard let o = d.objectValue else {
                    throw CompatInputError(location: path, message: "expected an object, found \(d.kindName)")
                }
                guard let name = o["name"]?.stringValue else {
                    throw CompatInputError(location: path, message: "no \"name\" string")
                }
                // (Absent: 0. Present, it must be one: null, 1.5, "1" or 2^63 are no instance.)
                let instance = o["instance_id"].map { $0.int64Value ?? -1 } ?? 0
                guard instance >= 0 && instance <= Int64(UInt32.max) else {
                    throw CompatInputError(
                        location: path,
                        message:
                            "\"instance_id\" must be an integer from 0 to 4294967295, found \(String(o["instance_id"]!.formatted(.pythonCompact).prefix(40)))"
                    )
                }
                if !o.contains(key: "vmsd_name") && !o.contains(key: "version") {
                    // A section of QEMU's old-style save handlers (`register_savevm_live`: slirp,
                    // for one): QEMU's vmdesc gives only its size and one "data" buffer field.
                    // It has no description to compare; the section is compared by presence.
                    entries.append(
                        Entry(
                            section: name, instance: UInt32(instance), value: ["Name": .string(name)],
                            oldStyle: true))
                    continue
                }
                let desc = try Self.description(
                    o, path: path, elementSizes: elementSizes, depth: 0, converted: &converted)
                var value = JSONObject()
                value["Name"] = desc["name"]
                value["version_id"] = desc["version_id"]
                value["Description"] = .object(desc)
                entries.append(Entry(section: name, instance: UInt32(instance), value: value))
            }
        } else {
            format = .dumpVMState
            entries = []
            for member in top.deduplicated().members {
                guard let o = member.value.objectValue else {
                    throw CompatInputError(
                        location: "\(label) section \"\(member.key)\"",
                        message: "expected an object, found \(member.value.kindName)")
                }
                if member.key == "vmschkmachine" {
                    // QEMU writes {"Name": "MACHINE"}: another shape is no machine type.
                    guard let name = o["Name"]?.stringValue else {
                        throw CompatInputError(
                            location: "\(label) section \"vmschkmachine\"",
                            message: o["Name"].map { "\"Name\": expected a string, found \($0.kindName)" }
                                ?? "no \"Name\" (QEMU writes the machine type there)")
                    }
                    machine = name
                    continue
                }
                // QEMU's dump_vmstate_json writes "Name", "version_id", "minimum_version_id" and a
                // "Description" object with a "name" for every device class: without them this is
                // not a dump (`vmstate analyze`'s output, say, which would compare as "equal").
                let location = "\(label) section \"\(member.key)\""
                guard let description = o["Description"] else {
                    throw CompatInputError(
                        location: location,
                        message:
                            "no \"Description\" object: not a -dump-vmstate device entry (\"Name\", \"version_id\", "
                            + "\"minimum_version_id\", \"Description\"), nor a vmdesc (an object with a \"devices\" "
                            + "list); the JSON that analyze prints holds values, not descriptions: give the stream itself"
                    )
                }
                guard description.objectValue?["name"]?.stringValue != nil else {
                    throw CompatInputError(
                        location: location + " Description",
                        message: description.objectValue == nil
                            ? "expected an object, found \(description.kindName)" : "no \"name\" string")
                }
                for key in ["Fields", "Subsections"] {
                    if let value = description.objectValue?[key], value.arrayValue == nil {
                        throw CompatInputError(
                            location: location + " Description \(key)",
                            message: "expected a list, found \(value.kindName)")
                    }
                }
                for key in ["version_id", "minimum_version_id"] {
                    if let value = o[key], value.int64Value == nil {
                        throw CompatInputError(
                            location: location + " \(key)",
                            message: "expected an integer, found \(value.formatted(.pythonCompact).prefix(40))")
                    }
                }
                // (QEMU writes it for every device class; compat needs it.)
                guard o["version_id"] != nil else {
                    throw CompatInputError(location: location, message: "no \"version_id\"")
                }
                entries.append(Entry(section: member.key, instance: 0, value: o))
            }
            // (`{}` would otherwise compare as a file without descriptions: "equal", "compatible".)
            guard !entries.isEmpty || machine != nil else {
                throw CompatInputError(
                    location: "\(label) (top level)",
                    message:
                        "an empty object: neither a vmdesc (with a \"devices\" list) nor a -dump-vmstate file (device entries and \"vmschkmachine\")"
                )
            }
        }
    }

    /// The `"Fields"` and `"Subsections"` lists made from a vmdesc's `"fields"` and
    /// `"subsections"` lists, by the address of the vmdesc array's storage: the parser gives
    /// lists with the same text one storage (a machine of many CPUs lists the same fields for
    /// each), so each is converted once and the results share theirs. (The addresses stay
    /// valid while the vmdesc is held, through the whole conversion.) Each result keeps how
    /// many levels of descriptions its list nests below the description that holds it, so that
    /// a list reused deeper down is refused past 64 levels as it would be converted anew.
    struct ConvertedLists {
        var fields: [UnsafeRawPointer: (list: JSONValue, levels: Int)] = [:]
        var subsections: [UnsafeRawPointer: (list: JSONValue, levels: Int)] = [:]
        /// The deepest description level reached so far in the list being converted.
        var deepest = 0
    }

    /// A vmdesc description object (`vmsd_name`, `version`, `fields`, `subsections`) in
    /// `-dump-vmstate`'s shape.
    static func description(
        _ o: JSONObject, path: String, elementSizes: Bool, depth: Int, converted: inout ConvertedLists
    ) throws -> JSONObject {
        guard depth < 64 else { throw tooDeep(path) }
        converted.deepest = max(converted.deepest, depth)
        guard let name = o["vmsd_name"]?.stringValue else {
            throw CompatInputError(location: path, message: "no \"vmsd_name\" string")
        }
        guard let version = o["version"]?.int64Value else {
            throw CompatInputError(location: path, message: "no integer \"version\"")
        }
        var d = JSONObject()
        d["name"] = .string(name)
        d["version_id"] = .number(JSONNumber(version))
        // QEMU writes "fields" for every description it saves (`vmstate_save_state_v`), an empty
        // list when it saved none: a vmdesc without the key is taken as one with none.
        do {
            let fields = o["fields"] ?? .array([])
            guard let list = fields.arrayValue else {
                throw CompatInputError(location: path + ".fields", message: "expected a list, found \(fields.kindName)")
            }
            let key = JSONValue.storageAddress(of: list)
            if let key, let done = converted.fields[key] {
                try reuse(done, at: path + ".fields")
                d["Fields"] = done.list
                return try withSubsections(d)
            }
            let deepestBefore = converted.deepest
            converted.deepest = depth
            var out: [JSONValue] = []
            for (i, f) in list.enumerated() {
                let fpath = "\(path).fields[\(i)]"
                guard let fo = f.objectValue, let fname = fo["name"]?.stringValue else {
                    throw CompatInputError(location: fpath, message: "expected an object with a \"name\" string")
                }
                guard let size = fo["size"]?.int64Value, size >= 0 else {
                    throw CompatInputError(location: fpath, message: "no \"size\" (a non-negative integer)")
                }
                let count = fo["array_len"]?.int64Value
                var field = JSONObject()
                field["field"] = .string(fname)
                field["version_id"] = 0
                field["field_exists"] = false
                let (total, overflow) = size.multipliedReportingOverflow(by: max(count ?? 1, 0))
                field["size"] = .number(JSONNumber(elementSizes || overflow ? size : total))
                if let type = fo["type"]?.stringValue { field["type"] = .string(type) }
                if let count { field["array_len"] = .number(JSONNumber(count)) }
                // (QEMU 7.2 describes each element of an array of two or more apart, with its index.)
                if let index = fo["index"] { field["index"] = index }
                // VMS_STRUCT fields nest under "struct"; VMSTATE_WITH_TMP writes the nested
                // description's members into the field itself. An empty "struct" is QEMU 7.2's
                // for an array of pointers whose first entry was NULL (s390's `css`: QEMU 7.2
                // describes such an array by its first entry): a field without a nested
                // description.
                if let nested = fo["struct"]?.objectValue, !nested.isEmpty {
                    field["Description"] = .object(
                        try description(
                            nested, path: fpath + ".struct", elementSizes: elementSizes, depth: depth + 1,
                            converted: &converted))
                } else if fo.contains(key: "vmsd_name") {
                    field["Description"] = .object(
                        try description(
                            fo, path: fpath, elementSizes: elementSizes, depth: depth + 1, converted: &converted))
                }
                // (QEMU 7.2 describes a compressible array by its first entry: an empty "struct"
                // with "array_len" is an array of pointers whose first entry was NULL.)
                if fo["struct"]?.objectValue?.isEmpty == true, count != nil { field["first_entry_null"] = true }
                // (And each element of an array of pointers that is not compressible apart, with
                // its index: a NULL one as an empty "struct" of its one marker byte, QEMU 10.0's
                // "nullptr" entry.)
                if fo["index"] != nil, fo["struct"]?.objectValue?.isEmpty == true, count == nil, size == 1 {
                    field["type"] = "nullptr"
                }
                out.append(.object(field))
            }
            out = mergingNullRuns(out, elementSizes: elementSizes)
            d["Fields"] = .array(out)
            if let key { converted.fields[key] = (.array(out), converted.deepest - depth) }
            converted.deepest = max(deepestBefore, converted.deepest)
        }
        return try withSubsections(d)

        func tooDeep(_ path: String) -> CompatInputError {
            CompatInputError(location: path, message: "descriptions nested deeper than 64 levels")
        }

        /// Takes a list converted before (at another depth, perhaps) as this description's.
        func reuse(_ done: (list: JSONValue, levels: Int), at path: String) throws {
            guard depth + done.levels < 64 else { throw tooDeep(path) }
            converted.deepest = max(converted.deepest, depth + done.levels)
        }

        func withSubsections(_ d: JSONObject) throws -> JSONObject {
            guard let subs = o["subsections"] else { return d }
            guard let list = subs.arrayValue else {
                throw CompatInputError(
                    location: path + ".subsections", message: "expected a list, found \(subs.kindName)")
            }
            var d = d
            let key = JSONValue.storageAddress(of: list)
            if let key, let done = converted.subsections[key] {
                try reuse(done, at: path + ".subsections")
                d["Subsections"] = done.list
                return d
            }
            let deepestBefore = converted.deepest
            converted.deepest = depth
            var out: [JSONValue] = []
            for (i, s) in list.enumerated() {
                guard let so = s.objectValue else {
                    throw CompatInputError(
                        location: "\(path).subsections[\(i)]", message: "expected an object, found \(s.kindName)")
                }
                out.append(
                    .object(
                        try description(
                            so, path: "\(path).subsections[\(i)]", elementSizes: elementSizes, depth: depth + 1,
                            converted: &converted)))
            }
            d["Subsections"] = .array(out)
            if let key { converted.subsections[key] = (.array(out), converted.deepest - depth) }
            converted.deepest = max(deepestBefore, converted.deepest)
            return d
        }
    }

    /// The field lists of one description on two sides, with an array of structs that one
    /// side describes as one entry ("array_len" n, a nested description) and the other as one
    /// entry per element ("index" 0, 1, ...: QEMU's form for an element description with
    /// subsections, `vmsd_can_compress`, which a struct gains or loses between versions) given
    /// per element on both: the one entry becomes n entries with indices 0 to n-1, each of its
    /// size divided by n when sizes are `wholeArraySizes` (two vmdescs'); n at most the other
    /// side's entries of that name (more is another length either way: left as it is), so the
    /// lists grow no longer than the input.
    static func matchingElementEntries(_ a: [JSONObject], _ b: [JSONObject], wholeArraySizes: Bool)
        -> ([JSONObject], [JSONObject])
    {
        // The names described per element, and how many entries each has.
        func perElement(_ list: [JSONObject]) -> [String: Int64] {
            let names = Set(list.compactMap { $0["index"]?.int64Value == 0 ? $0["field"]?.stringValue : nil })
            var count: [String: Int64] = [:]
            for f in list {
                if let name = f["field"]?.stringValue, names.contains(name) { count[name, default: 0] += 1 }
            }
            return count
        }
        func expanding(_ list: [JSONObject], _ names: [String: Int64]) -> [JSONObject] {
            guard !names.isEmpty else { return list }
            var out: [JSONObject] = []
            for f in list {
                guard let name = f["field"]?.stringValue, let most = names[name], !f.contains(key: "index"),
                    f["Description"] != nil, let n = f["array_len"]?.int64Value, n >= 2, n <= most
                else {
                    out.append(f)
                    continue
                }
                var element = f
                element["array_len"] = nil
                // (One entry with "array_len": QEMU's form for an element description without
                // subsections, which `CompatRun.checkFields` tells by "compressed".)
                element["compressed"] = true
                if wholeArraySizes, let size = f["size"]?.int64Value { element["size"] = .number(JSONNumber(size / n)) }
                for i in 0..<n {
                    var entry = element
                    entry["index"] = .number(JSONNumber(i))
                    out.append(entry)
                }
            }
            return out
        }
        // An array of pointers with NULL entries that one side gives as one entry
        // ("null_entries", `mergingNullRuns`) and the other per element: that side shows every
        // element (QEMU gives a NULL one an entry, `nullptr`, of which it has none), so it
        // becomes one entry too, with "null_entries" "none", and the NULL entries are compared.
        func collapsing(_ list: [JSONObject], against other: [JSONObject]) -> [JSONObject] {
            let pointers = Set(other.compactMap { $0["null_entries"] != nil ? $0["field"]?.stringValue : nil })
            let names = Set(perElement(list).keys).intersection(pointers)
            guard !names.isEmpty else { return list }
            var out: [JSONObject] = []
            var i = 0
            while i < list.count {
                guard let name = list[i]["field"]?.stringValue, names.contains(name) else {
                    out.append(list[i])
                    i += 1
                    continue
                }
                var j = i + 1, size = max(list[i]["size"]?.int64Value ?? 0, 0)
                while j < list.count, list[j]["field"]?.stringValue == name {
                    let (sum, overflow) = size.addingReportingOverflow(max(list[j]["size"]?.int64Value ?? 0, 0))
                    size = overflow ? .max : sum
                    j += 1
                }
                var merged = list[i]
                merged["index"] = nil
                merged["array_len"] = .number(JSONNumber(Int64(j - i)))
                if wholeArraySizes { merged["size"] = .number(JSONNumber(size)) }
                merged["null_entries"] = "none"
                out.append(merged)
                i = j
            }
            return out
        }
        let (a, b) = (collapsing(a, against: b), collapsing(b, against: a))
        return (expanding(a, perElement(b)), expanding(b, perElement(a)))
    }

    /// QEMU 10.0 describes an array of pointers (`VMS_ARRAY_OF_POINTER`) that has NULL entries
    /// as runs of one name: each run of NULL entries a `nullptr` field (one marker byte each),
    /// each run of others a field of the array's type (migration/vmstate.c,
    /// `vmstate_save_state_v`). The runs of converted `fields` become one field of the whole
    /// array's length ("array_len"), with the type and description of its non-NULL entries (a
    /// `nullptr` field when all are NULL), "null_entries" the indices of the NULL ones ("0-253,
    /// 255"), and as size the bytes of all runs (with `elementSizes`, one entry's, a non-NULL
    /// one's when there is one). Other fields are left as they are, and so are QEMU's
    /// one-entry-per-element descriptions (with "index") without NULL entries; with some (an
    /// element that is not compressible), each entry is one element. Runs whose non-NULL entries differ in
    /// more than what each run's first element saved decides (`sameFieldOfTwoElements`), which
    /// QEMU never writes (it saves them all with one field), are merged with "entries_differ".
    static func mergingNullRuns(_ fields: [JSONValue], elementSizes: Bool) -> [JSONValue] {
        func count(_ f: JSONObject) -> Int64 { max(f["array_len"]?.int64Value ?? 1, 0) }
        func isNull(_ f: JSONObject) -> Bool { f["type"]?.stringValue == "nullptr" }
        // (Hostile sizes and counts saturate: they only ever make a size finding.)
        func plus(_ a: Int64, _ b: Int64) -> Int64 {
            let (r, o) = a.addingReportingOverflow(b)
            return o ? .max : r
        }
        var out: [JSONValue] = []
        var i = 0
        while i < fields.count {
            guard let first = fields[i].objectValue, let name = first["field"]?.stringValue else {
                out.append(fields[i])
                i += 1
                continue
            }
            var pieces = [first]
            var j = i + 1
            while j < fields.count, let next = fields[j].objectValue, next["field"]?.stringValue == name {
                pieces.append(next)
                j += 1
            }
            // (QEMU saves every entry that is not NULL with the same field: runs that differ in
            // more than their length and what their first elements' states decide are not
            // QEMU's, and are marked "entries_differ".)
            func entry(_ f: JSONObject) -> JSONObject {
                var e = f
                e["array_len"] = nil
                if !elementSizes, let size = f["size"]?.int64Value, count(f) > 0 {
                    e["size"] = .number(JSONNumber(size / count(f)))
                }
                return e
            }
            guard pieces.contains(where: isNull) else {
                out += fields[i..<j]
                i = j
                continue
            }
            // An element description that is not compressible (subsections, a conditional
            // field: `vmsd_can_compress`) gets one entry per element, NULL ones too: an entry
            // that is not NULL has "index" when the run it starts, or the rest of the array
            // from it, is longer than one; a run of k NULL ones starts with "array_len" k, and
            // each other gives the rest of the array's length (one less each time, none when 1).
            // So "index", or NULL entries side by side so (a compressible one's runs alternate),
            // tell it; each entry is one element. (Without them each run is one element: both
            // readings agree.)
            func nullsOnePerElement() -> Bool {
                var k = 0
                while k < pieces.count {
                    guard isNull(pieces[k]) else {
                        k += 1
                        continue
                    }
                    var end = k + 1
                    while end < pieces.count, isNull(pieces[end]) { end += 1 }
                    if end - k > 1, count(pieces[k]) == Int64(end - k),
                        (k + 2..<end).allSatisfy({ count(pieces[$0]) == count(pieces[$0 - 1]) - 1 })
                    {
                        return true
                    }
                    k = end
                }
                return false
            }
            let onePerElement = pieces.contains(where: { $0.contains(key: "index") }) || nullsOnePerElement()
            // A run of structs that is not NULL with "array_len": QEMU writes it only for an
            // element description it can compress (`vmsd_can_compress`: no subsections), so
            // this one has none (`CompatRun.checkFields` tells it by "compressed").
            let compressed =
                !onePerElement
                && pieces.contains { !isNull($0) && $0["type"]?.stringValue == "struct" && $0["array_len"] != nil }
            if onePerElement {
                pieces = pieces.map { f in
                    var e = entry(f)
                    e["index"] = nil
                    return e
                }
            }
            let entries = pieces.filter { !isNull($0) }
            var merged = entries.first ?? pieces[0]
            // (The subsections any element saved, each once: what NEW must have.)
            if entries.count > 1, var description = merged["Description"]?.objectValue {
                var names = Set<String>(), subsections: [JSONValue] = []
                for e in entries {
                    for sub in e["Description"]?.objectValue?["Subsections"]?.arrayValue ?? [] {
                        if names.insert(sub.objectValue?["name"]?.stringValue ?? "").inserted {
                            subsections.append(sub)
                        }
                    }
                }
                if !subsections.isEmpty {
                    description["Subsections"] = .array(subsections)
                    merged["Description"] = .object(description)
                }
            }
            // (Each run's with the next's: linear in the runs' descriptions, however many.)
            if !zip(entries, entries.dropFirst()).allSatisfy({
                sameFieldOfTwoElements(entry($0), entry($1), elementSizes: elementSizes)
            }) {
                merged["entries_differ"] = true
            }
            // QEMU 10.0 gives the first run of an array that starts with entries that are not
            // NULL the whole array's length (migration/vmstate.c; docs/C-API.md): that run's
            // own is what the other runs leave.
            if let first = pieces.first, !isNull(first), count(first) > 1 {
                let rest = pieces.dropFirst().reduce(Int64(0)) { plus($0, count($1)) }
                if rest < count(first) {
                    let own = count(first) - rest
                    var run = first
                    run["array_len"] = .number(JSONNumber(own))
                    if !elementSizes, let size = first["size"]?.int64Value {
                        run["size"] = .number(JSONNumber(size / count(first) * own))
                    }
                    pieces[0] = run
                }
            }
            var length: Int64 = 0, bytes: Int64 = 0
            // (Adjacent NULL entries, one element each or runs, are one range.)
            var nullRanges: [ClosedRange<Int64>] = []
            for piece in pieces {
                let n = count(piece), size = max(piece["size"]?.int64Value ?? 0, 0)
                if isNull(piece) && n > 0 {
                    let run = length...plus(length, n - 1)
                    if let last = nullRanges.last, last.upperBound < .max, last.upperBound + 1 == run.lowerBound {
                        nullRanges[nullRanges.count - 1] = last.lowerBound...run.upperBound
                    } else {
                        nullRanges.append(run)
                    }
                }
                // (A converted field's size is the whole run's, unless `elementSizes`.)
                bytes = plus(bytes, size)
                length = plus(length, n)
            }
            merged["array_len"] = .number(JSONNumber(length))
            if !elementSizes { merged["size"] = .number(JSONNumber(bytes)) }
            let ranges = nullRanges.map {
                $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)"
            }
            merged["null_entries"] = .string(ranges.joined(separator: ", "))
            if compressed { merged["compressed"] = true }
            out.append(.object(merged))
            i = j
        }
        return out
    }

    /// Whether `a` and `b` (converted entries, sizes per element when `elementSizes`, else of
    /// the entry's "array_len" elements) can be QEMU's description of one field saved from two
    /// elements: QEMU 10.0 describes each run of an array of pointers by the run's first element
    /// as saved (migration/vmstate.c, `vmstate_save_state_v`: each entry's "size" and its nested
    /// description's are the bytes that element wrote, and a nested field with no elements gets
    /// no entry). So they may differ in what an element's state decides: the size of a type
    /// that writes what the state needs (a `VMSTATE_VBUFFER*` buffer, `virtio`, a list: any but
    /// a fixed-width type, `QEMUInfoSize`), a struct's size, a nested array's length (a
    /// VARRAY's) and NULL entries, a nested entry for an array that was empty in the other
    /// (any entry but one value of a fixed-width type, `oneValue`), and subsections (saved
    /// where an element needed them: elements described one by one). Names, types, descriptions
    /// and their versions, and a fixed-width type's size per element are the field's.
    static func sameFieldOfTwoElements(_ a: JSONObject, _ b: JSONObject, elementSizes: Bool) -> Bool {
        let fromState: Set<String> = [
            "size", "array_len", "null_entries", "entries_differ", "first_entry_null", "compressed", "Description",
        ]
        let keys = Set(a.keys).subtracting(fromState)
        guard keys == Set(b.keys).subtracting(fromState), keys.allSatisfy({ a[$0] == b[$0] }) else { return false }
        switch (a["Description"]?.objectValue, b["Description"]?.objectValue) {
        case (nil, nil):
            let type = a["type"]?.stringValue
            guard QEMUInfoSize.isFixedPerField(type), type != "buffer", a["null_entries"] == nil,
                b["null_entries"] == nil
            else { return true }
            func perElement(_ f: JSONObject) -> Int64? {
                guard let size = f["size"]?.int64Value else { return nil }
                let n = f["array_len"]?.int64Value ?? 1
                return elementSizes || n <= 0 ? size : size / n
            }
            return perElement(a) == perElement(b)
        case (let da?, let db?):
            let keys = Set(da.keys).subtracting(["Fields", "Subsections"])
            guard keys == Set(db.keys).subtracting(["Fields", "Subsections"]), keys.allSatisfy({ da[$0] == db[$0] })
            else {
                return false
            }
            let fa = da["Fields"]?.arrayValue?.compactMap(\.objectValue) ?? []
            let fb = db["Fields"]?.arrayValue?.compactMap(\.objectValue) ?? []
            // Each list's last position of each name: whether the other list still has a name.
            func last(_ list: [JSONObject]) -> [String: Int] {
                var index: [String: Int] = [:]
                for (i, f) in list.enumerated() { if let name = f["field"]?.stringValue { index[name] = i } }
                return index
            }
            let lastA = last(fa), lastB = last(fb)
            var i = 0, j = 0
            while i < fa.count || j < fb.count {
                let na = i < fa.count ? fa[i]["field"]?.stringValue : nil
                let nb = j < fb.count ? fb[j]["field"]?.stringValue : nil
                if let na, na == nb {
                    guard sameFieldOfTwoElements(fa[i], fb[j], elementSizes: elementSizes) else { return false }
                    i += 1
                    j += 1
                } else if i < fa.count, (na.flatMap { lastB[$0] } ?? -1) < j, oneValue(fa[i]) == nil {
                    i += 1  // an array that was empty in `b`'s element
                } else if j < fb.count, (nb.flatMap { lastA[$0] } ?? -1) < i, oneValue(fb[j]) == nil {
                    j += 1
                } else {
                    return false
                }
            }
            return true
        default:
            return false
        }
    }

    /// A `-dump-vmstate` document of the entries (and the machine, when known).
    package var document: JSONValue {
        var o = JSONObject()
        if let machine { o["vmschkmachine"] = .object(["Name": .string(machine)]) }
        for e in entries { o.append(e.key, .object(e.value)) }
        return .object(o)
    }

    /// Two sets made comparable. Same format: unchanged. A vmdesc against a `-dump-vmstate`
    /// file: both keyed by description name (QEMU keys `-dump-vmstate` by device class, a
    /// vmdesc by section idstr; of several classes with the name, `bestMatch`); only the
    /// descriptions both have are kept (`notes` say how many were left out, and which); and the
    /// `-dump-vmstate` side is reduced to what a save at the vmdesc's versions writes: fields
    /// added after that version, conditional fields (`field_exists`) and subsections the vmdesc
    /// did not save are dropped, field versions set to 0 (a vmdesc has none),
    /// `minimum_version_id` dropped when the `-dump-vmstate` side is `a` (for `compat`, `a` is
    /// the side that saves: the vmdesc that loads has none to compare with), and vmdesc names
    /// like `config[0]` (one entry per array element) merged back to `config`. `sameField(scope,
    /// a, b)` tells whether the field `a` of the `-dump-vmstate` description `scope` is the saved
    /// field `b` under another name (``CompatChecker/namesMatch(scope:_:_:)``, for renames); it
    /// is asked only of names the save does not have.
    public static func comparable(
        _ a: DescriptionSet, _ b: DescriptionSet, labels: (String, String) = ("A", "B"),
        sameField: (_ scope: String, _ a: String, _ b: String) -> Bool = { _, _, _ in false }
    )
        -> (DescriptionSet, DescriptionSet, notes: [String])
    {
        guard a.format != b.format else { return (a, b, []) }
        let (dumpIsA, dump, saved) = a.format == .dumpVMState ? (true, a, b) : (false, b, a)
        let dumpLabel = dumpIsA ? labels.0 : labels.1, savedLabel = dumpIsA ? labels.1 : labels.0
        var savedOut = saved
        var byName: [String: [Entry]] = [:]
        for e in dump.entries {
            if let n = e.descriptionName { byName[n, default: []].append(e) }
        }
        var dumpOut = dump
        dumpOut.entries = []
        dumpOut.machine = nil
        savedOut.machine = nil
        var kept: [Entry] = []
        var missing: [String] = []
        var used = Set<String>()
        // (Each class's names once, and each set of saved names' match once: 4,096 vCPUs
        // against a dump of many classes of one name stay linear.)
        var candidateNames: [String: [Set<String>]] = [:]
        var matches: [String: [Set<String>: Int]] = [:]
        for e in savedOut.entries {
            guard let name = e.descriptionName, let candidates = byName[name] else {
                missing.append(e.key)
                continue
            }
            let savedNames = topLevelNames(e)
            let best: Int
            if let known = matches[name]?[savedNames] {
                best = known
            } else {
                if candidateNames[name] == nil { candidateNames[name] = candidates.map(topLevelNames) }
                best = bestMatch(candidateNames[name]!, for: savedNames)
                matches[name, default: [:]][savedNames] = best
            }
            var d = candidates[best]
            used.insert(name)
            var s = e
            s.value = mergeElementNames(e.value, keeping: fieldNames(in: d.value))
            s.section = name
            d.section = name
            d.instance = s.instance
            d.value = reduce(section: d.value, to: s.value, dropMinimum: dumpIsA, sameField: sameField)
            kept.append(s)
            dumpOut.entries.append(d)
        }
        savedOut.entries = kept
        var notes: [String] = []
        if !missing.isEmpty {
            notes.append(
                "\(missing.count) section\(missing.count == 1 ? "" : "s") of \(savedLabel)'s vmdesc \(missing.count == 1 ? "has" : "have") no description in \(dumpLabel) (a -dump-vmstate file lists device classes only) and \(missing.count == 1 ? "was" : "were") not compared: \(missing.joined(separator: ", "))"
            )
        }
        let unused = Set(byName.keys).subtracting(used).count
        if unused > 0 {
            notes.append(
                "\(unused) description\(unused == 1 ? "" : "s") of \(dumpLabel) (a -dump-vmstate file) \(unused == 1 ? "is" : "are") not in \(savedLabel)'s vmdesc and \(unused == 1 ? "was" : "were") not compared"
            )
        }
        notes.append(
            "compared by description name; \(savedLabel)'s vmdesc is what a save wrote: \(dumpLabel)'s fields added after \(savedLabel)'s versions, and conditional fields and subsections \(savedLabel) did not write, are left out (an array that was empty when \(savedLabel) was saved is not in \(savedLabel) at all)"
        )
        return dumpIsA ? (dumpOut, savedOut, notes) : (savedOut, dumpOut, notes)
    }

    /// Of the `-dump-vmstate` entries whose description has the saved entry's name, the one
    /// with most of the saved entry's top-level field names, then fewest others (the first on
    /// ties). QEMU gives device classes of other layouts one description name: `vga` is
    /// isa-vga's VGA state (`latch`, `sr_index`, ...) and VGA's, pci-vga's and secondary-vga's
    /// PCI device (`dev`, `vga`); `ne2000` is ne2k_isa's (`ne2000`) and ne2k_pci's (`dev`,
    /// `ne2000`). By top-level field names (``topLevelNames(_:)``): the index of the candidate.
    static func bestMatch(_ candidates: [Set<String>], for saved: Set<String>) -> Int {
        func score(_ names: Set<String>) -> (Int, Int) {
            (saved.intersection(names).count, -names.subtracting(saved).count)
        }
        var best = 0
        var bestScore = score(candidates[0])
        for (i, c) in candidates.enumerated().dropFirst() {
            let s = score(c)
            if s > bestScore { (best, bestScore) = (i, s) }
        }
        return best
    }

    /// The names of an entry's description's own fields.
    static func topLevelNames(_ e: Entry) -> Set<String> {
        let fields = e.value["Description"]?.objectValue?["Fields"]?.arrayValue ?? []
        return Set(fields.compactMap { $0.objectValue?["field"]?.stringValue })
    }

    /// Every field name in a `-dump-vmstate` entry, nested descriptions and subsections included.
    static func fieldNames(in o: JSONObject) -> Set<String> {
        var names = Set<String>()
        func walk(_ o: JSONObject) {
            if let desc = o["Description"]?.objectValue { walk(desc) }
            for f in o["Fields"]?.arrayValue ?? [] {
                guard let fo = f.objectValue else { continue }
                if let name = fo["field"]?.stringValue { names.insert(name) }
                walk(fo)
            }
            for sub in o["Subsections"]?.arrayValue ?? [] { sub.objectValue.map(walk) }
        }
        walk(o)
        return names
    }

    /// `config[0]`, `config[1]` ... (a vmdesc's entries for the elements of an array it could
    /// not describe in one entry) merged into one field `config`, recursively. A name in
    /// `literal` (the -dump-vmstate side's field names) is the field's own: ahci's
    /// "port.ifs[0]", which QEMU writes as it is when it is the only field of that name.
    static func mergeElementNames(_ o: JSONObject, keeping literal: Set<String>) -> JSONObject {
        var o = o
        if let desc = o["Description"]?.objectValue {
            o["Description"] = .object(mergeElementNames(desc, keeping: literal))
        }
        if let fields = o["Fields"]?.arrayValue {
            var out: [JSONValue] = []
            var lastBase: String?
            for f in fields {
                guard var fo = f.objectValue, let name = fo["field"]?.stringValue else { out.append(f); continue }
                // QEMU names a field that shares its name with others in its description
                // "name[i]", i counting the fields of that name: "cur_offset[1]" is the second
                // "cur_offset" of -dump-vmstate's list.
                if !literal.contains(name), name.hasSuffix("]"), let open = name.lastIndex(of: "["),
                    let index = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]), index >= 0
                {
                    fo["field"] = .string(String(name[..<open]))
                    fo["vmdesc_index"] = .number(JSONNumber(index))
                    lastBase = nil
                } else {
                    // An array of structs is one entry per element, all under its name.
                    if name == lastBase { continue }
                    lastBase = name
                }
                if let d = fo["Description"]?.objectValue {
                    fo["Description"] = .object(mergeElementNames(d, keeping: literal))
                }
                out.append(.object(fo))
            }
            o["Fields"] = .array(out)
        }
        if let subs = o["Subsections"]?.arrayValue {
            o["Subsections"] = .array(
                subs.map { $0.objectValue.map { .object(mergeElementNames($0, keeping: literal)) } ?? $0 })
        }
        return o
    }

    /// QEMU's timer info writes a be64 (the expire time) whatever the C field holding the
    /// timer: `-dump-vmstate` gives the field's size, 8 for `VMSTATE_TIMER_PTR` and
    /// `sizeof(QEMUTimer)`, 48 on a 64-bit host, for an embedded `VMSTATE_TIMER` (QEMU 7.2 and
    /// 10.0 alike, and this package's `qemu/timer.h`), and a vmdesc the 8 bytes written. A
    /// dump's 48-byte field that the save shows as an 8-byte timer takes the size written.
    static func timerAsWritten(_ fo: inout JSONObject, saved: JSONObject?) {
        guard let saved, saved["type"]?.stringValue == "timer", saved["size"]?.int64Value == 8,
            fo["size"]?.int64Value == 48
        else { return }
        fo["size"] = saved["size"]
    }

    /// A `-dump-vmstate` section reduced to what a save described by the vmdesc section
    /// `saved` can show (see `comparable`).
    static func reduce(
        section d: JSONObject, to s: JSONObject, dropMinimum: Bool,
        sameField: (String, String, String) -> Bool
    ) -> JSONObject {
        var d = d
        if dropMinimum { d["minimum_version_id"] = nil }
        if let dd = d["Description"]?.objectValue {
            d["Description"] = .object(
                reduce(
                    description: dd, to: s["Description"]?.objectValue ?? JSONObject(), dropMinimum: dropMinimum,
                    sameField: sameField))
        }
        return d
    }

    static func reduce(
        description d: JSONObject, to s: JSONObject, dropMinimum: Bool,
        sameField: (String, String, String) -> Bool
    ) -> JSONObject {
        var d = d
        if dropMinimum { d["minimum_version_id"] = nil }
        let version = s["version_id"]?.int64Value ?? Int64.max
        let savedFields = (s["Fields"]?.arrayValue ?? []).compactMap(\.objectValue)
        var savedByName: [String: JSONObject] = [:]
        var savedLeft: [String: ArraySlice<JSONObject>] = [:]
        var savedIndexes: [String: Set<Int64>] = [:]
        // The first saved field of each name and vmdesc_index (looked up per field: a
        // description may have many).
        var savedByIndex: [String: [Int64: JSONObject]] = [:]
        for f in savedFields {
            guard let n = f["field"]?.stringValue else { continue }
            if savedByName[n] == nil { savedByName[n] = f }
            savedLeft[n, default: []].append(f)
            if let i = f["vmdesc_index"]?.int64Value {
                savedIndexes[n, default: []].insert(i)
                if savedByIndex[n]?[i] == nil { savedByIndex[n, default: [:]][i] = f }
            }
        }
        // The saved name of a field: its own, or the first saved name it was renamed from.
        let scope = d["name"]?.stringValue ?? ""
        let savedNames = savedLeft.keys.sorted()
        func savedName(_ name: String) -> String {
            if savedLeft[name] != nil { return name }
            return savedNames.first { sameField(scope, name, $0) } ?? name
        }
        var occurrence: [String: Int64] = [:]
        if let fields = d["Fields"]?.arrayValue {
            var out: [JSONValue] = []
            for f in fields {
                guard var fo = f.objectValue, let ownName = fo["field"]?.stringValue else { out.append(f); continue }
                let name = savedName(ownName)
                let k = occurrence[name, default: 0]
                occurrence[name] = k + 1
                if (fo["version_id"]?.int64Value ?? 0) > version { continue }
                if let indexes = savedIndexes[name] {
                    // The save named which fields of this name it wrote.
                    guard indexes.contains(k) else { continue }
                    fo["version_id"] = 0
                    timerAsWritten(&fo, saved: savedByIndex[name]?[k])
                    if let nested = fo["Description"]?.objectValue {
                        let savedNested = savedByIndex[name]?[k]?["Description"]?.objectValue ?? JSONObject()
                        fo["Description"] = .object(
                            reduce(
                                description: nested, to: savedNested, dropMinimum: dropMinimum, sameField: sameField
                            ))
                    }
                    out.append(.object(fo))
                    continue
                }
                // A conditional field counts as saved when the save's next field of its name
                // is like it (the same size, or the same nested description): PCIDevice has two
                // conditional "config" fields, 256 and 4096 bytes, and a save writes one. A
                // -dump-vmstate size of 0 is a field whose VMStateInfo decides how many bytes it
                // writes (pci_bridge's conditional "shpc"): any size the save wrote is like it.
                let next = savedLeft[name]?.first
                timerAsWritten(&fo, saved: next)
                if fo["field_exists"]?.boolValue == true {
                    guard let next else { continue }
                    let nested = fo["Description"]?.objectValue?["name"]
                    let alike =
                        nested != nil
                        ? nested == next["Description"]?.objectValue?["name"]
                        : fo["size"] == next["size"] || fo["size"]?.int64Value == 0
                    if !alike { continue }
                }
                if next != nil { savedLeft[name] = savedLeft[name]!.dropFirst() }
                fo["version_id"] = 0
                if let nested = fo["Description"]?.objectValue {
                    let savedNested = savedByName[name]?["Description"]?.objectValue ?? JSONObject()
                    fo["Description"] = .object(
                        reduce(description: nested, to: savedNested, dropMinimum: dropMinimum, sameField: sameField))
                }
                out.append(.object(fo))
            }
            d["Fields"] = .array(out)
        }
        if let subs = d["Subsections"]?.arrayValue {
            let savedSubs = (s["Subsections"]?.arrayValue ?? []).compactMap(\.objectValue)
            // The first saved subsection of each string name (looked up per subsection); any
            // other name (a number, null, none) only among the others, which never equal a string.
            var savedFirst: [String: JSONObject] = [:]
            for sub in savedSubs {
                if let n = sub["name"]?.stringValue, savedFirst[n] == nil { savedFirst[n] = sub }
            }
            let savedOthers = savedSubs.filter { $0["name"]?.stringValue == nil }
            // A subsection the save did not write was not needed then: it is not compared.
            d["Subsections"] = .array(
                subs.compactMap { sub in
                    guard let so = sub.objectValue else { return sub }
                    let saved: JSONObject?
                    if let n = so["name"]?.stringValue {
                        saved = savedFirst[n]
                    } else {
                        saved = savedOthers.first { $0["name"] == so["name"] }
                    }
                    guard let match = saved else { return nil }
                    return .object(reduce(description: so, to: match, dropMinimum: dropMinimum, sameField: sameField))
                })
        }
        return d
    }
}

extension CompatChecker {
    /// Of an array of pointers, the side (`oldSide` or `newSide`) whose entry 0 is NULL (by
    /// QEMU 7.2's vmdesc, `"first_entry_null"`: it describes the array by that entry, the rest
    /// not described; or among its known NULL entries, `"null_entries"`) and the other side,
    /// whose NULL entries are not both known, and whose entry 0 is known not to be NULL: its NULL
    /// entries are known (`"null_entries"`) and leave it out, or it is a vmdesc (`vmdescs`: of
    /// OLD, of NEW) that describes entry 0 as an element (a vmdesc describes a NULL one:
    /// QEMU 7.2 as an empty struct, `"first_entry_null"`; QEMU 10.0 as a `nullptr` entry); nil
    /// otherwise (a -dump-vmstate file does not say).
    static func firstEntryNullAgainstNotNull(
        _ s: JSONObject, _ d: JSONObject, _ oldSide: String, _ newSide: String, vmdescs: (Bool, Bool)
    ) -> (String, String)? {
        func zeroIsNull(_ ranges: String) -> Bool {
            guard let first = ranges.split(separator: ",").first else { return false }
            return first.split(separator: "-").first.map { String($0.filter { $0 != " " }) } == "0"
        }
        func zeroIsNotNull(_ o: JSONObject, vmdesc: Bool) -> Bool {
            if let n = o["null_entries"]?.stringValue { return !zeroIsNull(n) }
            return vmdesc && o["first_entry_null"] == nil && o["type"]?.stringValue != "nullptr"
        }
        // Entry 0 NULL: by QEMU 7.2's first-entry form, or among known NULL entries (QEMU
        // 10.0's, against a 7.2 vmdesc whose entry 0 is an element: verify16 G1).
        func zeroNull(_ o: JSONObject) -> Bool {
            o["first_entry_null"] != nil || o["null_entries"]?.stringValue.map(zeroIsNull) == true
        }
        if zeroNull(s), zeroIsNotNull(d, vmdesc: vmdescs.1) { return (oldSide, newSide) }
        if zeroNull(d), zeroIsNotNull(s, vmdesc: vmdescs.0) { return (newSide, oldSide) }
        return nil
    }
}

extension DescriptionSet {
    /// A QEMU 7.2 stream's vmdesc with the arrays of pointers whose NULL entries its stream
    /// showed (`StreamAnalysis.Options.readsQEMU72NullEntries`) described as QEMU 10.0 describes
    /// them (migration/vmstate.c, `vmstate_save_state_v`): each run of NULL entries a `nullptr`
    /// entry (one marker byte each), each other run the array's own entry, the first run (not
    /// NULL: QEMU 7.2 described the array by it) with the whole array's length, the others with
    /// their own, "array_len" only on a run longer than one; so their NULL entries are compared
    /// as a QEMU 10.0 stream's (`mergingNullRuns`). Only a field of a section's own description
    /// (`entries`' `field` without "/" or "[") is rewritten, where its entry is the array's
    /// struct with that "array_len"; the others are left, and returned.
    package static func markingQEMU72NullEntries(
        _ json: JSONValue, _ entries: [StreamAnalysis.QEMU72NullEntries]
    ) -> (vmdesc: JSONValue, left: [StreamAnalysis.QEMU72NullEntries]) {
        guard !entries.isEmpty, var root = json.objectValue, var devices = root["devices"]?.arrayValue else {
            return (json, entries)
        }
        var left: [StreamAnalysis.QEMU72NullEntries] = []
        // Each section's last entry by idstr and instance id, looked up once per array (a
        // search of the list per array took K² steps for K such sections).
        struct Key: Hashable {
            var name: String
            var instance: Int64
        }
        var index: [Key: Int] = [:]
        for (i, d) in devices.enumerated() {
            if let o = d.objectValue, let name = o["name"]?.stringValue, let instance = o["instance_id"]?.int64Value {
                index[Key(name: name, instance: instance)] = i
            }
        }
        for entry in entries {
            let plain = !entry.field.contains("/") && !entry.field.contains("[")
            guard plain,
                let d = index[Key(name: entry.section, instance: Int64(entry.instance))],
                var device = devices[d].objectValue, var fields = device["fields"]?.arrayValue,
                let f = fields.firstIndex(where: {
                    $0.objectValue?["name"]?.stringValue == entry.field
                        && $0.objectValue?["type"]?.stringValue == "struct"
                        && $0.objectValue?["array_len"]?.int64Value == Int64(entry.length)
                }),
                let array = fields[f].objectValue
            else {
                left.append(entry)
                continue
            }
            let nulls = Set(entry.indices)
            var runs: [JSONValue] = []
            var i = 0
            while i < entry.length {
                let null = nulls.contains(i)
                var j = i + 1
                while j < entry.length, nulls.contains(j) == null { j += 1 }
                let length = i == 0 && !null ? entry.length : j - i
                var run: JSONObject
                if null {
                    run = JSONObject([("name", .string(entry.field)), ("type", "nullptr"), ("size", 1)])
                } else {
                    run = array
                    run["array_len"] = nil
                }
                if length > 1 { run["array_len"] = .number(JSONNumber(Int64(length))) }
                runs.append(.object(run))
                i = j
            }
            fields.replaceSubrange(f...f, with: runs)
            device["fields"] = .array(fields)
            devices[d] = .object(device)
        }
        root["devices"] = .array(devices)
        return (.object(root), left)
    }
}
