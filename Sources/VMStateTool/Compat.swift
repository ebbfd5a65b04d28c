import ArgumentParser
import VMState
import VMStateAnalysis

struct Compat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check whether state saved by one QEMU build loads into another.",
        discussion: """
            OLD and NEW are each a `qemu-system-... -dump-vmstate FILE` output, a vmdesc JSON \
            file, or a migration stream (standing for the vmdesc it ends with, the \
            descriptions it was saved with). The rules are those of QEMU 10.0's \
            scripts/vmstate-static-checker.py: sections missing in NEW, \
            version_id lowered, minimum_version_id raised above OLD's version_id, fields \
            missing, renamed, reordered or resized ("unused" space, "unused[N]" in a vmdesc, \
            may be split into fields of the same total size, and the reverse; an array counts \
            as its "size" times its "num", which -dump-vmstate of QEMU 8.1 and later \
            writes, or its "array_len" in a vmdesc; an older file's arrays count as one \
            element, and a warning names it when sizes disagree), subsections missing, \
            nested descriptions missing or renamed. The names QEMU renamed without changing \
            the bytes (the script's tables: sections "ICH9 LPC" and "e1000-82540em", fields \
            such as e1000's "dev", now "parent_obj", ...; and those of QEMU 7.2 to 10.0 the \
            script lacks: hpet's "num_timers", now "num_timers_save", esp's "data_in_ready" \
            and "ti_cmd", now "data_ready" and "mig_ti_cmd", mpc-i2c's "dfssr", now "dfsrr", \
            ARM cpu's "gt_timer[0]" and "gt_timer[1]", now "gt_timer[GTIMER_PHYS]" and \
            "gt_timer[GTIMER_VIRT]") count as the same, one old name \
            for one new one; --no-qemu-renames turns that off, --rename adds more.

            Beyond the script, QEMU's loader rules: NEW reads a field when its version_id is at \
            most the version it loads (a section's description and a subsection at OLD's \
            version_id, a nested struct at NEW's own version_id). So a field NEW reads that OLD \
            does not save is reported (field-added), also after OLD's last field, where the \
            script does not look; a NEW field at a version above OLD's is skipped (compatible), \
            and a matching field whose version_id NEW raised above OLD's version is reported; \
            a fixed-size array whose "num" differs is a size change; NEW's unused space that \
            OLD's fields do not fill is reported. A buffer longer than the other side's buffer \
            of the same name is a warning when that one and the fields after it take exactly \
            its bytes (QEMU loads the same bytes; globalstate's runstate, QEMU 7.2 and 10.0), \
            or, stream against stream, when each stream's buffer is as long as an integer \
            field before it in its description says (VMSTATE_VBUFFER*: pseries' fdt_blob; \
            undecided, as a fixed buffer whose length changed looks the same), else a size \
            change; only a vmdesc says a field is a buffer (type "buffer"), so \
            between two -dump-vmstate files it is a size change, as for QEMU's checker.

            A vmdesc has what a save wrote: the versions saved, no minimum_version_id, no \
            field versions, no fields or subsections that were not saved. So an OLD stream \
            (or vmdesc) against a NEW -dump-vmstate file checks, by these rules, whether that \
            state loads into NEW: NEW's version_id and minimum_version_id against the saved \
            versions, and NEW's fields at those versions against the saved fields. (A \
            variable array that was empty when saved has no vmdesc entry. So a field one \
            side has and the other side's vmdesc lacks, before that vmdesc's next field or \
            after its last, is a warning, not a problem; not so a field an OLD vmdesc shows as \
            one value past the end of a NEW vmdesc's description.) Against a \
            -dump-vmstate file, sections are matched by description name (of the device \
            classes of one name, isa-vga's and VGA's "vga", with the one whose fields the \
            save has) and only the descriptions both sides have are compared (warnings list \
            the others, and sections of the saving side's vmdesc left so, "cpu" and "timer" \
            among them, make the verdict undecided; none in common is bad input, but for an \
            OLD vmdesc of no devices, a save of nothing); two vmdescs \
            are matched by section idstr and instance id, with whole-array sizes. Sections \
            OLD saves more than once with one idstr and instance (QEMU 7.2's isapc \
            "isa-ide") are each compared with NEW's first of them, which QEMU loads them all \
            into (see section-repeated below), and messages name the second on so: \
            "isa-ide (2nd section)". \
            A NEW vmdesc \
            has no minimum_version_id, so that rule is not checked then (a description NEW \
            saved at a later version than OLD is an undecided warning), and a field it has \
            that OLD lacks is a problem only when NEW saved OLD's version and shows one value \
            of a fixed-width type, no array (else a warning: an array may have been empty when \
            OLD saved; a field only OLD has may be one NEW reads from older saves only). \
            An OLD subsection a NEW vmdesc did not save is a warning (it may not have been \
            needed), but a problem where NEW describes an array of that struct as one entry \
            ("array_len"), which QEMU writes only for descriptions without subsections. An \
            OLD section a NEW stream or vmdesc did not save is a problem (section-missing), \
            but an undecided warning for the sections QEMU saves only while their own \
            needed() holds (globalstate, PCIHost, pcspk, smbus-eeprom, spapr_drc, ...). \
            With OLD a vmdesc, a nested description's version is not compared (QEMU loads it \
            at NEW's own version); its fields are. Between two -dump-vmstate files it is, as \
            QEMU's checker compares it: a lower version in NEW is then a problem even where \
            QEMU loads the state (esp, QEMU 10.0 to 7.2: the same number of bytes, which \
            7.2's fields take in another order). A vmdesc's \
            size is what the save wrote: two vmdescs' sizes of a field whose type writes what \
            the state needs (virtio, msix state, a list, a type QEMU lacks) are an undecided \
            warning (devices made with other options differ so too, virtio-net's queues=, \
            and QEMU refuses those), and \
            against a -dump-vmstate file (the tables' sizes) a type that writes another size \
            than its table's (AVR's sreg, qlist, timer) is not size-compared.

            A stream also gives the machine type it was saved by (its configuration \
            section). Against a stream or -dump-vmstate file of another machine type that is \
            a problem (machine-type), since QEMU refuses the stream; two -dump-vmstate files \
            of different machine types only warn. A vmdesc of QEMU 8.2 or later gives only \
            the length of its machine type's name: a received name longer than the local \
            one is a problem, a shorter one an undecided warning (QEMU loads a name that is \
            the start of its own: pc-q35-4.0 into pc-q35-4.0.1), and that its stream has a \
            configuration section: against a stream without one (a machine type up to 2.3), \
            either way, a problem. A -dump-vmstate file lists device classes, \
            not the devices of one machine: instances (-smp 2, a second NIC) and which devices \
            a machine has are compared only stream against stream (a section only NEW has \
            is a warning: its device keeps its state), and so are RAM blocks \
            (-m, a NIC's option ROM): a block OLD sends that NEW lacks, or of another length, \
            is a problem (ram-block), as QEMU refuses it; the fw_cfg blobs (/rom@etc/...), \
            which QEMU resizes, only warn. Sections of QEMU's old-style save handlers (slirp, \
            for -netdev user) have no description in a vmdesc: they are compared by presence \
            only (a warning names them). Stream against stream, the rest of what QEMU checks \
            of the configuration: a VM UUID (capability validate-uuid) both give that differs, \
            section footers one has and the other not (-global \
            migration.send-section-footer=off), and QEMU 10.0's command SWITCHOVER_START in \
            OLD where NEW's stream is QEMU 8.1's or older (no configuration in its vmdesc; \
            QEMU before 10.0 refuses the command: a warning when NEW may be 8.2 to 9.2's; \
            with OLD a vmdesc of QEMU 8.2 or later, which does not show the command, an \
            undecided warning), \
            are problems (configuration); so is that command against a -dump-vmstate file \
            without array lengths (QEMU 8.0 or older) or a vmdesc that does not describe the \
            configuration (QEMU 8.1 or older), a warning against a dump of an unversioned \
            machine type (isapc, none) or a vmdesc that does; a target-page-bits subsection one stream \
            has and the other not, or another value, is a problem too; validated \
            capabilities that differ (x-ignore-shared, mapped-ram) only warn, as they are set \
            for each migration, but one QEMU before 9.0 does not know (mapped-ram) is a \
            problem against NEW's stream or vmdesc of QEMU 8.1 or older or a -dump-vmstate file \
            without array lengths (QEMU: "Received unknown capability"). Pages saved \
            compressed (capability compress) warn, the destination must turn it on, and \
            are a problem against QEMU 10.0 (NEW's stream sends SWITCHOVER_START, or a \
            -dump-vmstate file of machine type 9.1 or later: QEMU 9.1 removed compress), \
            an undecided warning against a NEW that may be 9.1 or later (a stream or vmdesc \
            of QEMU 8.2 or later without the command, a -dump-vmstate file with array \
            lengths of another machine type). \
            And stream against stream, each PCI device's configuration \
            space (its IDs, class, capability list, MSI/MSI-X table sizes, virtio \
            capabilities: bits no guest can write, fixed by the device's model and options \
            such as vectors or num_queues) is compared as QEMU's load compares it: a \
            difference is a problem (pci-config; QEMU: "Bad config data"), and so are the \
            fields QEMU compares with its own device's on load instead of taking them \
            (VMSTATE_*_EQUAL and VMSTATE_INT32_POSITIVE_LE, vmdesc types "uint16 equal", \
            "int32 le"...: fixed by the device's options, such as a PCIe port's aer_log_max): \
            an OLD value NEW's QEMU refuses is a problem (checked-value; QEMU: "8 != 10"), \
            and so is an ARM CPU register (cpreg_vmstate_indexes) OLD's CPU migrates and \
            NEW's lacks (cpu-registers; QEMU's cpu_post_load fails), or one NEW's CPU has \
            and OLD's does not migrate whose value in NEW's stream is not 0 (QEMU writes \
            it a value no save set: a constant register fails the load), and a ppc CPU's PVR \
            (env.spr[287]) of another CPU family than NEW's when OLD's CPU ran in no \
            compatibility mode (cpu-model; QEMU's cpu_post_load fails): another PVR of the \
            same family is an undecided warning (whether NEW's CPU model takes that revision \
            depends on the model and the QEMU version). Sections of one idstr and instance \
            OLD saves more than once (QEMU 7.2's isapc saves its isa-ide channels all as \
            instance 0), which QEMU loads all into its first such device, are a problem \
            when their state differs (section-repeated; undecided when OLD is a vmdesc \
            file, which holds no state). A section of an idstr without a device path that \
            QEMU gives to an earlier device of NEW whose idstr holds it and whose description \
            has its name (QEMU 7.2 with ne2k_pci before ne2k_isa) is a problem \
            (section-other-device). A buffer or array whose \
            length each stream gives in an earlier field (VMSTATE_VBUFFER*, VMSTATE_VARRAY*) \
            may differ: an undecided warning (a fixed one whose length changed looks the \
            same), but for ARM's register lists, compared register by register. Checks a device makes in its own post_load code beyond these \
            (ARM's constant ID registers and L2CTLR: another -cpu model or option, \
            another -smp; ppc's compatibility modes) are not known to compat. These stream \
            against stream checks need both streams read whole: when one cannot be \
            (postcopy's command records, a block migration section, a damaged section), a \
            warning says so and why, and the descriptions are compared without them; when a \
            side is a vmdesc or -dump-vmstate file (but for two -dump-vmstate files), a \
            compatible verdict's last warning says they were not made. What OLD's stream \
            alone asks of the destination is said against a NEW vmdesc or -dump-vmstate file \
            too: its VM UUID and x-ignore-shared (warnings: the destination must run so), no \
            section footers (undecided: QEMU refuses it unless run without them too), and the \
            command, capabilities and compressed pages as above.

            Each problem names the section, the description and the field; warnings come \
            first ("warning: ..."), then the problems and the verdict, all on standard \
            output. A finding that repeats in the next elements of an array is said once, \
            ending "(the same in N elements)", and counts once. Where a vmdesc cannot tell whether a field loads (no entry for it: an \
            empty array or a field left out when saved, which loads, or a field that side \
            lacks, which does not), its warning counts, and a verdict of compatible says how \
            many \
            ("compatible, but 1 warning above is undecided: ..."). With --json standard output is a list of objects with keys "section", \
            "description" (null when none), "field" (only when there is one), "kind" and \
            "message", and the warnings go to standard error (with the verdict when it says \
            some are undecided). Kinds:
              section-missing      an OLD section does not exist in NEW
              version              NEW's version_id is lower than OLD's
              minimum-version      NEW's minimum_version_id is higher than OLD's version_id
              field-version        a field's version_id: NEW skips it, or lowered it
              size                 a field's size changed
              field-missing        NEW has no field where OLD has one
              field-mismatch       NEW has a different field where OLD has one
              unused-size          unused space does not match the fields on the other side
              subsection-missing   an OLD subsection does not exist in NEW
              description-missing  a nested description is missing in NEW
              description-renamed  a nested description has another name in NEW
              entry-missing        another OLD entry of a section/description is not in NEW
              field-added          NEW reads a field that OLD does not save
              machine-type         the machine types differ (a side is a stream or vmdesc)
              ram-block            a RAM block missing or of another length (two streams)
              configuration        VM UUID, footers, target page bits (two streams), a
                                   command, capability or compressed pages refused
              pci-config           a PCI device's fixed configuration differs (two streams)
              checked-value        an _EQUAL value QEMU would refuse on load (two streams)
              cpu-registers        an ARM CPU register NEW's CPU lacks, or one NEW's has
                                   that OLD does not migrate, not 0 (two streams)
              cpu-model            a ppc CPU's PVR of another CPU family (two streams)
              null-entries         NULL entries of a pointer array differ (two vmdescs;
                                   QEMU 7.2's first-entry form: its stream, read whole
                                   and one way only; an entry 0 NULL on one side and
                                   known not to be on the other)
              section-repeated     OLD saves sections of one idstr and instance that
                                   differ: QEMU loads all into its first such device
              section-other-device QEMU gives OLD's section of an idstr without a
                                   device path to another device NEW has before the
                                   one of that idstr (find_se's entry for old streams)
              stream-refused       OLD's stream has a record QEMU's destination refuses
                                   (a hash table chunk past the table, storage
                                   attributes marked incomplete)

            Exit status: 0 compatible (also with warnings undecided, unless --strict), 1 not \
            compatible (with --strict, also undecided), 2 bad input (or output that could not be \
            written), 64 usage error.
            """
    )

    @Argument(
        help:
            "The build that saves the state: its -dump-vmstate output, a vmdesc JSON file or a stream (- for standard input).",
        completion: .file()
    )
    var old: String

    @Argument(
        help:
            "The build that loads it: its -dump-vmstate output, a vmdesc JSON file or a stream (- for standard input).",
        completion: .file())
    var new: String

    @Flag(help: "Print the problems as a JSON list.")
    var json = false

    @Flag(help: "Check the other direction (NEW saves, OLD loads).")
    var reverse = false

    @Flag(
        help:
            "Exit with status 1 also when the verdict is undecided (compatible, but with warnings that leave open whether it loads), for a gate that passes only what was shown to load: against a -dump-vmstate file, a field QEMU added without a new version is such a warning (the debugging guide, section 5)."
    )
    var strict = false

    @Flag(
        name: .customLong("no-qemu-renames"),
        help:
            "Do not treat the names QEMU changed (vmstate-static-checker.py's tables, QEMU 7.2 to 10.0's) as the same.")
    var noQEMURenames = false

    @Option(
        name: .customLong("rename"),
        help: ArgumentHelp(
            "Treat two names as the same: SCOPE:A=B (A and B not empty), where SCOPE is a description name (for its field names) or a section name (for nested description names); an empty SCOPE applies everywhere; the literal SCOPE '(section)' renames sections, e.g. --rename '(section):pci-piix3=PIIX3'. SCOPE ends at the last ':' before the '=' (a section name such as 0000:00:02.0/e1000 may be one); after '(section):' A and B may hold colons. Repeatable.",
            valueName: "scope:a=b"))
    var renames: [String] = []

    /// `SCOPE:A=B`: SCOPE ends at the last `:` before the first `=` (a section name as SCOPE
    /// may hold colons, `0000:00:02.0/e1000`), except in `(section):A=B`, whose A and B are
    /// section names and may hold colons themselves. Nil when A or B is empty.
    static func parseRename(_ r: String) -> (scope: String, a: String, b: String)? {
        let sections = "(section):"
        let scope: Substring, rest: Substring
        if r.hasPrefix(sections) {
            scope = r.prefix(sections.count - 1)
            rest = r.dropFirst(sections.count)
        } else {
            guard let equals = r.firstIndex(of: "="), let colon = r[..<equals].lastIndex(of: ":") else { return nil }
            scope = r[..<colon]
            rest = r[r.index(after: colon)...]
        }
        let pair = rest.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else { return nil }
        return (String(scope), String(pair[0]), String(pair[1]))
    }

    func validate() throws {
        for r in renames {
            guard let (_, a, b) = Compat.parseRename(r) else {
                throw ValidationError("--rename expects SCOPE:A=B with A and B not empty, got \"\(r)\"")
            }
            guard a != b else { throw ValidationError("--rename \"\(r)\" names the same name twice") }
        }
    }

    func run() throws {
        var options = CompatChecker.Options(qemuRenames: !noQEMURenames)
        for r in renames {
            // (Checked by `validate()`.)
            guard let (scope, a, b) = Compat.parseRename(r) else { continue }
            options.addRename(scope: scope, a, b)
        }
        let report = try withBadInputHandling("compat") { () throws -> CompatReport in
            // Two streams are read through first: a QEMU 7.2 stream's NULL entries of an array
            // of pointers (`readsQEMU72NullEntries`) go into its descriptions.
            var streamNotes: [String] = []
            var nullNotes: [String] = []
            var refusals: [String: StreamAnalysisError] = [:]
            var read: (StreamAnalysis, StreamAnalysis)? = nil
            let isStream = (old: try isStreamFile(old), new: try isStreamFile(new))
            let bothStreams = isStream.old && isStream.new
            // Each stream read whole (its NULL entries kept whatever the other side is: a
            // stream that cannot be read whole, a vmdesc, a -dump-vmstate file).
            var sides: (StreamAnalysis?, StreamAnalysis?) = (nil, nil)
            if bothStreams {
                sides = try readStreams(old, new, notes: &streamNotes, nullNotes: &nullNotes, refusals: &refusals)
                if let a = sides.0, let b = sides.1 { read = (a, b) }
            } else {
                if isStream.old { sides.0 = Self.readingQEMU72NullEntries(old) }
                if isStream.new { sides.1 = Self.readingQEMU72NullEntries(new) }
            }
            // (A stream that cannot be read whole leaves its configuration, RAM blocks, PCI
            // configuration spaces and compared values undecided: its warning counts so.)
            let unreadable = bothStreams && read == nil
            // NULL entries the stream does not tell (it reads to the footer another way too):
            // named, undecided, and left out of its vmdesc.
            var nulls: ([StreamAnalysis.QEMU72NullEntries], [StreamAnalysis.QEMU72NullEntries]) = ([], [])
            for (label, path, side) in [("OLD", old, sides.0), ("NEW", new, sides.1)] {
                let entries = side?.qemu72NullEntries ?? []
                for e in entries where e.readings != .one {
                    nullNotes.append(Self.nullEntriesNotKnown(e, label: label, path: path))
                }
                let known = entries.filter { $0.readings == .one }
                if label == "OLD" { nulls.0 = known } else { nulls.1 = known }
            }
            // (The vmdescs the streams were read with, shared: entries come from a side read.)
            let parsed = (sides.0?.vmdesc, sides.1?.vmdesc)
            for (label, path, entries, vmdesc) in [("OLD", old, nulls.0, parsed.0), ("NEW", new, nulls.1, parsed.1)] {
                guard let vmdesc, !entries.isEmpty else { continue }
                let left = DescriptionSet.markingQEMU72NullEntries(vmdesc, entries).left
                for e in left { nullNotes.append(Self.nullEntriesNotCompared(e, label: label, path: path)) }
            }
            var oldSet = try loadDescriptionSet(
                old, label: "OLD", elementSizes: true, nullEntries: nulls.0, parsed: parsed.0)
            var newSet = try loadDescriptionSet(
                new, label: "NEW", elementSizes: true, nullEntries: nulls.1, parsed: parsed.1)
            var oldJSON: JSONValue, newJSON: JSONValue
            var notes: [String] = []
            // (Its renames also say which -dump-vmstate field a vmdesc's save wrote under another name.)
            var checker = CompatChecker(options: options)
            // Sections of the saving side, a vmdesc, that the -dump-vmstate side has no
            // description for (`cpu`, `timer`: QEMU dumps device classes only): not compared, so
            // the verdict cannot say they load (QEMU may refuse their versions).
            var uncomparedSaved = 0
            if oldSet.format == .dumpVMState && newSet.format == .dumpVMState {
                // As before: the documents themselves, duplicate keys and all. (Of the sets, only
                // their format and machine are used from here on: their entries are let go
                // before the documents are read, as below.)
                (oldSet.entries, newSet.entries) = ([], [])
                oldJSON = try readJSONFile(old)
                newJSON = try readJSONFile(new)
            } else if oldSet.format == .vmdesc && newSet.format == .vmdesc {
                // Whole-array sizes: two vmdescs show what each save wrote.
                (oldSet.entries, newSet.entries) = ([], [])
                oldJSON = try loadDescriptionSet(
                    old, label: "OLD", elementSizes: false, nullEntries: nulls.0, parsed: parsed.0
                ).document
                newJSON = try loadDescriptionSet(
                    new, label: "NEW", elementSizes: false, nullEntries: nulls.1, parsed: parsed.1
                ).document
            } else if reverse {
                // The side that saves first: the -dump-vmstate side keeps its minimum_version_id
                // only where the side that loads has one (a vmdesc has none).
                let (n, o, ns) = DescriptionSet.comparable(
                    newSet, oldSet, labels: ("NEW", "OLD"), sameField: checker.namesMatch)
                try requireDescriptionsInCommon(
                    newSet, oldSet, compared: n, labels: ("NEW", "OLD"), paths: (new, old), emptySaveLoads: true)
                if newSet.format == .vmdesc { uncomparedSaved = newSet.entries.count - n.entries.count }
                (oldJSON, newJSON, notes) = (o.document, n.document, ns)
            } else {
                let (o, n, ns) = DescriptionSet.comparable(
                    oldSet, newSet, labels: ("OLD", "NEW"), sameField: checker.namesMatch)
                try requireDescriptionsInCommon(
                    oldSet, newSet, compared: o, labels: ("OLD", "NEW"), paths: (old, new), emptySaveLoads: true)
                if oldSet.format == .vmdesc { uncomparedSaved = oldSet.entries.count - o.entries.count }
                (oldJSON, newJSON, notes) = (o.document, n.document, ns)
            }
            // (Before the swap: the user's files, for the array lengths warning below.)
            let inputs = [("OLD", old, oldSet.format, oldJSON), ("NEW", new, newSet.format, newJSON)]
            if reverse { swap(&oldJSON, &newJSON) }
            checker.oldLabel = reverse ? "NEW" : "OLD"
            checker.newLabel = reverse ? "OLD" : "NEW"
            checker.oldIsVMDesc = (reverse ? newSet : oldSet).format == .vmdesc
            checker.newIsVMDesc = (reverse ? oldSet : newSet).format == .vmdesc
            var machines = (try machineType(old, oldSet, label: "OLD"), try machineType(new, newSet, label: "NEW"))
            if reverse { machines = (machines.1, machines.0) }
            (checker.oldMachine, checker.newMachine) = machines
            var placement: [CompatFinding] = []
            notes += streamNotes + nullNotes
            // A record QEMU's destination refuses in the stream whose state is to load: it loads
            // nowhere (review55 D5: "compatible, but undecided").
            if let e = refusals[checker.oldLabel], let section = e.refusedSection {
                placement.append(
                    CompatFinding(
                        section: section, descriptionName: nil, field: nil, kind: .streamRefused,
                        message:
                            "\(checker.oldLabel)'s stream has a record QEMU's destination refuses whatever its machine (under TCG at least), at byte \(e.offset): \(e.message)"
                    ))
            }
            if var streams = read {
                if reverse { streams = (streams.1, streams.0) }
                placement = Self.misplacedConfigurations(streams.0, label: checker.oldLabel)
                (checker.oldRAMBlocks, checker.newRAMBlocks) = (
                    streams.0.announcedRAMBlocks, streams.1.announcedRAMBlocks
                )
                let facts = (try DeviceSectionFacts.found(in: streams.0), try DeviceSectionFacts.found(in: streams.1))
                (checker.oldPCIConfigs, checker.newPCIConfigs) = (facts.0.pciConfigs, facts.1.pciConfigs)
                (checker.oldVirtioFeatures, checker.newVirtioFeatures) = (
                    facts.0.virtioFeatures, facts.1.virtioFeatures
                )
                (checker.oldCheckedValues, checker.newCheckedValues) = (facts.0.checkedValues, facts.1.checkedValues)
                (checker.oldSizedBuffers, checker.newSizedBuffers) = (facts.0.sizedBuffers, facts.1.sizedBuffers)
                (checker.oldCPURegisterLists, checker.newCPURegisterLists) = (
                    facts.0.cpuRegisterLists, facts.1.cpuRegisterLists
                )
                (checker.oldCPUVersionRegisters, checker.newCPUVersionRegisters) = (
                    facts.0.cpuVersionRegisters, facts.1.cpuVersionRegisters
                )
                checker.oldRepeatedSections = facts.0.repeatedSections
                checker.oldSectionCopies = facts.0.sectionCopies
                // A field one side's table compares and the other's does not (or lacks): the
                // other side's value, whatever its type (rare: read only for such fields).
                let keys = (Set(facts.0.checkedValues.map(\.key)), Set(facts.1.checkedValues.map(\.key)))
                checker.newStreamSections = Set(
                    streams.1.sections.map { CheckedFieldValue.Section(name: $0.name, instanceID: $0.instanceID) })
                (checker.oldValuesNEWChecks, checker.newValuesOLDChecks) = (
                    try DeviceSectionFacts.values(in: streams.0, at: keys.1.subtracting(keys.0)),
                    try DeviceSectionFacts.values(in: streams.1, at: keys.0.subtracting(keys.1))
                )
                // Both with a configuration section, or neither (then only the footers are
                // compared); one without it is the machine-type check's.
                if (streams.0.machineType == nil) == (streams.1.machineType == nil) {
                    (checker.oldConfiguration, checker.newConfiguration) = (
                        configuration(streams.0), configuration(streams.1)
                    )
                }
            }
            // A stream against a -dump-vmstate file or a vmdesc: what the stream needs of the
            // loading QEMU (SWITCHOVER_START, validated capabilities, compressed pages) against
            // what that file tells of its release (configurationAgainst).
            let (saverPath, loaderSet) = reverse ? (new, oldSet) : (old, newSet)
            let saverSet = reverse ? newSet : oldSet
            let (saverIsStream, loaderIsStream) = reverse ? (isStream.new, isStream.old) : (isStream.old, isStream.new)
            let loaderRelease: LoaderRelease =
                loaderIsStream
                ? .stream(describesConfiguration: loaderSet.configuration.described, label: checker.newLabel)
                : loaderSet.format == .dumpVMState
                    ? .dump(
                        givesArrayLengths: Self.givesArrayLengths(loaderSet.document), machine: loaderSet.machine,
                        label: checker.newLabel)
                    : .vmdesc(describesConfiguration: loaderSet.configuration.described, label: checker.newLabel)
            // The mirror: what the loader's own stream shows of how its QEMU runs (without
            // footers, with validated capabilities), which a saving vmdesc or dump does not.
            let saverSendsFooters =
                saverSet.format == .dumpVMState
                ? saverSet.machine.map { QEMUStreamRules.forMachine($0, version: .qemu7_2).sectionFooters } ?? true
                : true
            let againstLoader =
                saverIsStream && !loaderIsStream
                ? Self.configurationAgainst(
                    saverPath, read: reverse ? sides.1 : sides.0, loader: loaderRelease,
                    labels: (checker.oldLabel, checker.newLabel))
                : !saverIsStream && loaderIsStream
                    ? Self.loaderConfiguration(
                        reverse ? old : new, read: reverse ? sides.0 : sides.1, saverSendsFooters: saverSendsFooters,
                        labels: (checker.oldLabel, checker.newLabel)) : []
            // A vmdesc that saves does not show the commands its stream sent: QEMU 10.0's
            // SWITCHOVER_START, when its QEMU (8.2 or later: it describes the configuration) is
            // 10.0, is refused by a loader of QEMU 8.1 or older.
            var switchoverDoubt: String? = nil
            if !saverIsStream, saverSet.format == .vmdesc, saverSet.configuration.described,
                let older = loaderRelease.older
            {
                switchoverDoubt =
                    "\(checker.oldLabel) is a vmdesc of QEMU 8.2 or later (it describes the configuration section), which "
                    + "does not show whether its stream sends the command SWITCHOVER_START (QEMU 10.0, for machine types "
                    + "10.0 and later and unversioned ones), and \(older): QEMU before 10.0 refuses that command "
                    + "(\"MIG_CMD 0xb unknown (len 0x0)\")"
            }
            do {
                var report = try checker.check(old: oldJSON, new: newJSON)
                if uncomparedSaved > 0 {
                    // (The note of comparable() that lists them says what the verdict leaves open.)
                    let loader = checker.newLabel
                    notes = notes.map { note in
                        guard note.hasPrefix("\(uncomparedSaved) section"), note.contains(" not compared: ") else {
                            return note
                        }
                        return note
                            + "; whether \(loader) takes \(uncomparedSaved == 1 ? "it" : "them") (QEMU refuses a section it lacks, or at a version it does not take) is not known: compare with a stream \(loader) saved"
                    }
                    report.undecided += 1
                }
                report.warnings = notes + report.warnings
                if unreadable { report.undecided += 1 }
                report.undecided += nullNotes.count
                if let switchoverDoubt {
                    report.warnings.append(switchoverDoubt)
                    report.undecided += 1
                }
                for outcome in againstLoader.reversed() {
                    if case .finding(let f) = outcome { report.findings.insert(f, at: 0) }
                }
                report.findings.insert(contentsOf: placement, at: 0)
                for outcome in againstLoader {
                    switch outcome {
                    case .warning(let w): report.warnings.append(w)
                    case .undecided(let w):
                        report.warnings.append(w)
                        report.undecided += 1
                    case .finding: break
                    }
                }
                let unused = checker.unusedRenames
                var warned = Set<String>()  // (one warning for a rename given twice)
                for r in renames where warned.insert(r).inserted {
                    guard let (scope, a, b) = Compat.parseRename(r),
                        unused.contains(where: { $0.scope == scope && $0.names == [a, b] })
                    else { continue }
                    report.warnings.append(
                        "--rename '\(r)' paired no names (\"\(a)\" in one file with \"\(b)\" in the other, \(scope.isEmpty ? "anywhere" : "in \"\(scope)\"")): check the names and the scope (a description's name for its fields, a section's for its nested descriptions, (section) for sections)"
                    )
                }
                // (The verdict is about saved state, whose values only streams hold; not so
                // between two -dump-vmstate files, descriptions of device classes.)
                let formats = (saverIsStream ? nil : saverSet.format, loaderIsStream ? nil : loaderSet.format)
                if report.isCompatible, formats.0 != nil || formats.1 != nil,
                    !(formats.0 == .dumpVMState && formats.1 == .dumpVMState)
                {
                    report.warnings.append(
                        Self.notComparedWithoutStreams(
                            old: formats.0, new: formats.1, labels: (checker.oldLabel, checker.newLabel)))
                }
                let sizeKinds: Set<CompatFinding.Kind> = [.size, .fieldMismatch, .unusedSize, .fieldMissing]
                if report.findings.contains(where: { sizeKinds.contains($0.kind) }) {
                    for file in Self.filesWithoutArrayLengths(inputs) {
                        report.warnings.append(
                            "\(file) is a -dump-vmstate file without array lengths (\"num\", which QEMU 8.1 and later write): each of its arrays counts as one element, so a size, field or unused-space problem next to an array may be misjudged; compare with a stream that build saved"
                        )
                    }
                }
                return report
            } catch var e as CompatInputError {
                for (label, file) in [("OLD", old), ("NEW", new)] where e.location.hasPrefix(label) {
                    e.location = "\(label) (\(file))" + e.location.dropFirst(label.count)
                    break
                }
                throw e
            }
        }
        if json {
            for w in report.warnings { Stderr.write("warning: \(escapingControlCharacters("\(w)"))\n") }
            if report.isCompatible && report.undecided > 0 {
                // An empty list alone would read as compatible without a doubt.
                let (o, n) = reverse ? ("NEW", "OLD") : ("OLD", "NEW")
                Stderr.write(report.verdict(oldLabel: o, newLabel: n) + "\n")
            }
            Stdout.write(report.json.formatted(.python) + "\n")
        } else {
            let (o, n) = reverse ? ("NEW", "OLD") : ("OLD", "NEW")
            Stdout.write(escapingControlCharacters(report.text(oldLabel: o, newLabel: n), keepingNewlines: true))
        }
        if !report.isCompatible { throw ExitCode(1) }
        if strict && report.undecided > 0 {
            Stderr.write(
                "vmstate: --strict: \(report.undecided) undecided warning\(report.undecided == 1 ? "" : "s") make\(report.undecided == 1 ? "s" : "") the exit status 1\n"
            )
            throw ExitCode(1)
        }
    }

    enum Outcome {
        case finding(CompatFinding)
        case warning(String)
        /// A warning that leaves the verdict open (counted in "N warnings above are undecided").
        case undecided(String)
    }

    /// A configuration section of the stream that saves anywhere but right after its header:
    /// QEMU's loader reads one only there and refuses one elsewhere ("Unknown savevm section
    /// type 7"; a destination that expects one and finds none after the header says
    /// "Configuration section missing" first, the machine-type check's).
    static func misplacedConfigurations(_ stream: StreamAnalysis, label: String) -> [CompatFinding] {
        let misplaced = stream.configurationOffsets.filter { $0 != 8 }
        guard let first = misplaced.first else { return [] }
        let more = misplaced.count == 1 ? "" : " (and \(misplaced.count - 1) more)"
        let place =
            stream.configurationOffsets.first == 8
            ? "another configuration section at byte \(first)\(more) besides the one after its header: QEMU reads "
                + "only that one"
            : "a configuration section at byte \(first)\(more), not right after its header: QEMU reads one only there"
        return [
            CompatFinding(
                section: "configuration", descriptionName: nil, field: nil, kind: .configuration,
                message: "\(label)'s stream has \(place), and refuses this (\"Unknown savevm section type 7\")")
        ]
    }

    /// What a `-dump-vmstate` file or a vmdesc that loads tells of its QEMU release, for
    /// ``configurationAgainst(_:read:loader:labels:)``. Each text continues "OLD sends ... and ".
    struct LoaderRelease {
        /// The loader is QEMU 8.1 or older (it validates x-ignore-shared only and refuses
        /// SWITCHOVER_START): how it shows that; nil when it may be later.
        var older: String?
        /// The releases that refuse a capability unknown before 9.0 with "Received unknown
        /// capability" when the loader may be later than 8.1.
        var unknownCapabilityReleases: String
        /// The loader has no compress (QEMU 9.1 and later): how it shows that.
        var withoutCompress: String?
        /// When ``older`` is nil: why the loader may refuse SWITCHOVER_START (a warning), and
        /// the releases it may be that refuse it; nil when it takes it.
        var maySkipSwitchover: (why: String, releases: String)?
        /// The loader's machine type sends section footers unless run without them (all but a
        /// dump of a machine type up to 2.3).
        var sendsFooters = true

        /// A `-dump-vmstate` file: without array lengths ("num") it is QEMU 8.0's or older; a
        /// versioned machine type such as `pc-i440fx-9.1` is its QEMU's release or older (so
        /// 9.1 or later has no compress; 10.0 or later takes SWITCHOVER_START, and an older one
        /// is not the stream's, which a `machine-type` problem says); an unversioned one
        /// (`isapc`, `none`) any QEMU has.
        static func dump(givesArrayLengths: Bool, machine: String?, label n: String) -> LoaderRelease {
            let release = machine.flatMap(QEMUStreamRules.machineVersion)
            let withoutLengths =
                "\(n) is a -dump-vmstate file without array lengths (\"num\"), as QEMU 8.0 and older write them"
            return LoaderRelease(
                older: givesArrayLengths ? nil : withoutLengths, unknownCapabilityReleases: "8.1 to 8.2",
                withoutCompress: release.flatMap { r in
                    r >= (9, 1)
                        ? "\(n) is a -dump-vmstate file of machine type \(machine ?? ""), of QEMU \(r.0).\(r.1) or later, which has no compress (removed in 9.1)"
                        : nil
                },
                maySkipSwitchover: release == nil
                    ? ("\(n) is a -dump-vmstate file of an unversioned machine type, which any QEMU has", "8.1 to 9.2")
                    : nil,
                sendsFooters: machine.map { QEMUStreamRules.forMachine($0, version: .qemu7_2).sectionFooters } ?? true)
        }

        /// A stream, by its vmdesc (as ``vmdesc(describesConfiguration:label:)``); only
        /// ``older`` is used of it.
        static func stream(describesConfiguration: Bool, label n: String) -> LoaderRelease {
            var release = vmdesc(describesConfiguration: describesConfiguration, label: n)
            if !describesConfiguration {
                release.older =
                    "\(n)'s stream was written by QEMU 8.1 or older (its vmdesc does not describe the configuration section)"
            }
            return release
        }

        /// A vmdesc: one that describes the configuration section is QEMU 8.2's or later's, one
        /// that does not QEMU 8.1's or older (or the library's in QEMU 7.2's dialect).
        static func vmdesc(describesConfiguration: Bool, label n: String) -> LoaderRelease {
            LoaderRelease(
                older: describesConfiguration
                    ? nil
                    : "\(n) is a vmdesc that does not describe the configuration section, as QEMU 8.1 and older write them",
                unknownCapabilityReleases: "8.2", withoutCompress: nil,
                maySkipSwitchover: (
                    "\(n) is a vmdesc of QEMU 8.2 or later (it describes the configuration section), which does not say which",
                    "8.2 to 9.2"
                ))
        }
    }

    /// What the stream at `path` needs of the QEMU that loads it, against a `-dump-vmstate`
    /// file or a vmdesc as its destination (``LoaderRelease``):
    /// - QEMU 10.0's SWITCHOVER_START: a problem against QEMU 8.1 or older, which refuses the
    ///   command; a warning where the loader may be 8.2 to 9.2 (10.0 loads it).
    /// - a validated capability other than x-ignore-shared (mapped-ram, QEMU 9.0): a problem
    ///   against QEMU 8.1 or older (it validates x-ignore-shared only), else a warning (the
    ///   destination must migrate with it on).
    /// - compressed pages (capability compress, removed in QEMU 9.1): a problem against QEMU
    ///   9.1 or later, else a warning (the destination must migrate with it on).
    /// - a configuration section besides the one after the header (``misplacedConfigurations``):
    ///   a problem.
    /// Nothing when the stream cannot be read through (its pages skipped).
    /// `read`: the stream already read whole (pages skipped), when it was; else it is read here.
    static func configurationAgainst(
        _ path: String, read: StreamAnalysis? = nil, loader: LoaderRelease, labels: (String, String)
    ) -> [Outcome] {
        guard let stream = read ?? readThrough(path) else { return [] }
        let o = labels.0
        var outcomes: [Outcome] = misplacedConfigurations(stream, label: o).map { .finding($0) }
        func problem(_ section: String, _ message: String) {
            outcomes.append(
                .finding(
                    CompatFinding(
                        section: section, descriptionName: nil, field: nil, kind: .configuration, message: message)))
        }
        // What QEMU checks of the configuration whichever its release: the VM UUID, section
        // footers, x-ignore-shared (the others below), which depend on how the destination runs.
        if let uuid = stream.uuidString {
            outcomes.append(
                .warning(
                    "\(o) carries VM UUID \(uuid) (capability validate-uuid): QEMU refuses the stream if the destination runs with another -uuid (\"UUID received is \(uuid) and local is ...\")"
                ))
        }
        if stream.lacksFooters && loader.sendsFooters {
            let off = footersOff(stream)
            outcomes.append(
                .undecided(
                    "\(o) was saved without section footers (\(off)): a destination that sends them, as QEMU does for machine types 2.4 and later unless run so, refuses it (\"Missing section footer for \(stream.sections.first?.name ?? "...")\")"
                ))
        }
        if stream.capabilities.contains("x-ignore-shared") {
            outcomes.append(
                .warning(
                    "\(o) was saved with the validated capability x-ignore-shared: the destination must migrate with it on, else QEMU refuses the stream (\"Capability x-ignore-shared is off, but received capability is on\")"
                ))
        }
        let unknown = CompatChecker.capabilitiesUnknownBefore9_0(stream.capabilities)
        if let first = unknown.first {
            let saved =
                "\(o) was saved with the validated capabilit\(unknown.count == 1 ? "y" : "ies") \(unknown.joined(separator: ", ")) (QEMU 9.0 and later)"
            if let older = loader.older {
                problem(
                    "configuration",
                    "\(saved) and \(older), which validate x-ignore-shared only: QEMU refuses it (\"Received unknown capability \(first)\")"
                )
            } else {
                outcomes.append(
                    .warning(
                        "\(saved): the destination must migrate with \(unknown.count == 1 ? "it" : "them") on, else QEMU refuses the stream (\"Capability \(first) is off, but received capability is on\"; QEMU \(loader.unknownCapabilityReleases): \"Received unknown capability \(first)\")"
                    ))
            }
        }
        let compressed = compressedPages(stream)
        if compressed > 0 {
            if let without = loader.withoutCompress {
                problem(
                    "ram",
                    CompatChecker.compressedPagesMessage(compressed, o)
                        + " and \(without): QEMU refuses it (QEMU 10.0: \"Unknown combination of migration flags: 0x120\")"
                )
            } else {
                // A loader that may be QEMU 9.1 or later leaves it open; one of 8.1 or older
                // has compress.
                let warning = CompatChecker.compressedPagesWarning(compressed, o)
                outcomes.append(loader.older == nil ? .undecided(warning) : .warning(warning))
            }
        }
        guard stream.hasSwitchoverStart else { return outcomes }
        let sends =
            "\(o) sends the command SWITCHOVER_START (QEMU 10.0, for machine types 10.0 and later and unversioned ones)"
        let refusal = "QEMU before 10.0 refuses it (\"MIG_CMD 0xb unknown (len 0x0)\")"
        if let older = loader.older {
            problem("configuration", "\(sends) and \(older): \(refusal)")
        } else if let doubt = loader.maySkipSwitchover {
            outcomes.append(
                .warning("\(sends) and \(doubt.why): \(refusal), as QEMU \(doubt.releases) do; QEMU 10.0 loads it"))
        }
        return outcomes
    }

    /// The stream at `path` read through, its pages skipped; nil when it cannot be.
    static func readThrough(_ path: String) -> StreamAnalysis? {
        try? StreamAnalysis(bytes: openInput(path), options: .init(recordPages: false, keepDeviceFields: false))
    }

    /// How a stream without section footers was saved so: with its configuration section only
    /// by the global property, without it also by a machine type up to 2.3.
    static func footersOff(_ stream: StreamAnalysis) -> String {
        stream.machineType != nil
            ? "-global migration.send-section-footer=off"
            : "-global migration.send-section-footer=off, or a machine type up to 2.3"
    }

    /// What the loader's stream at `path` shows of how its QEMU runs, against a saving
    /// `-dump-vmstate` file or vmdesc, which does not show how its QEMU ran (the mirror of
    /// ``configurationAgainst(_:read:loader:labels:)``; hostile10 F2):
    /// - saved without section footers: run so as the destination, QEMU takes the footer
    ///   marker of a stream that has them for a section type (migration/savevm.c,
    ///   `check_section_footer`), undecided where the saver's machine type sends them;
    /// - saved with validated capabilities (x-ignore-shared; mapped-ram, QEMU 9.0): run so, QEMU
    ///   refuses a stream saved without them (`configuration_validate_capabilities`), a warning.
    /// Nothing when the stream cannot be read through.
    static func loaderConfiguration(
        _ path: String, read: StreamAnalysis?, saverSendsFooters: Bool, labels: (String, String)
    ) -> [Outcome] {
        guard let stream = read ?? readThrough(path) else { return [] }
        let (o, n) = labels
        var outcomes: [Outcome] = []
        if stream.lacksFooters && saverSendsFooters {
            let off = footersOff(stream)
            outcomes.append(
                .undecided(
                    "\(n) was saved without section footers (\(off)): run so as the destination, its QEMU refuses a stream that has them, as QEMU sends for machine types 2.4 and later unless run so, which \(o) does not show (\"Unknown savevm section type 126\")"
                ))
        }
        let validated =
            (stream.capabilities.contains("x-ignore-shared") ? ["x-ignore-shared"] : [])
            + CompatChecker.capabilitiesUnknownBefore9_0(stream.capabilities)
        if let first = validated.first {
            outcomes.append(
                .warning(
                    "\(n) was saved with the validated capabilit\(validated.count == 1 ? "y" : "ies") \(validated.joined(separator: ", ")): run so as the destination, its QEMU refuses a stream saved without \(validated.count == 1 ? "it" : "them"), which \(o) does not show (\"Capability \(first) is on, but received capability is off\")"
                ))
        }
        return outcomes
    }

    /// The warning of a compatible verdict where a side is a vmdesc or `-dump-vmstate` file
    /// (`old`, `new`: that side's format, nil for a stream): what only two streams let compat
    /// compare.
    static func notComparedWithoutStreams(
        old: DescriptionSet.Format?, new: DescriptionSet.Format?, labels: (String, String)
    ) -> String {
        func kind(_ f: DescriptionSet.Format) -> String { f == .vmdesc ? "a vmdesc" : "a -dump-vmstate file" }
        let who: String
        let compare: String
        switch (old, new) {
        case (let o?, let n?):
            who =
                o == n
                ? "\(labels.0) and \(labels.1) are \(o == .vmdesc ? "vmdescs" : "-dump-vmstate files"), which hold"
                : "\(labels.0) is \(kind(o)) and \(labels.1) \(kind(n)), which hold"
            compare = "streams both saved"
        case (let o?, nil):
            (who, compare) = ("\(labels.0) is \(kind(o)), which holds", "a stream \(labels.0) saved")
        case (nil, let n):
            (who, compare) = ("\(labels.1) is \(kind(n ?? .vmdesc)), which holds", "a stream \(labels.1) saved")
        }
        let machine =
            old == .vmdesc || new == .vmdesc
            ? "the machine type's name (a vmdesc gives its length only, before QEMU 8.2 nothing), " : ""
        return
            "\(who) no saved values: \(machine)RAM blocks (-m, option ROMs), PCI configuration bytes, the values QEMU checks on load (VMSTATE_*_EQUAL) and CPU models (ARM register lists, ppc PVRs) were not compared: compare with \(compare)"
    }

    /// How many RAM pages `stream` sends compressed (capability compress).
    static func compressedPages(_ stream: StreamAnalysis) -> Int {
        stream.sections.reduce(0) { total, section in
            if case .ram(let ram) = section.content { return total + ram.compressedPageCount }
            return total
        }
    }

    /// Both streams read through, their pages skipped: their RAM blocks as they announce them
    /// (``StreamAnalysis/announcedRAMBlocks``), PCI configuration spaces, fields QEMU compares
    /// on load and configuration.
    /// Each nil, with a warning in `notes`, when it cannot be read whole although its vmdesc
    /// can (as a stream with postcopy's command records or a block migration section, or one
    /// damaged after its configuration): its descriptions are still compared, these checks are
    /// not (the other's NULL entries are still used).
    /// A QEMU 7.2 stream whose device section does not read as its vmdesc says is read again
    /// with the NULL entries of its arrays of pointers recognised
    /// (`StreamAnalysis.Options.readsQEMU72NullEntries`); when that does not read whole
    /// either, but met such entries, `nullNotes` gets a warning that names the array.
    func readStreams(
        _ old: String, _ new: String, notes: inout [String], nullNotes: inout [String],
        refusals: inout [String: StreamAnalysisError]
    ) throws -> (StreamAnalysis?, StreamAnalysis?) {
        var read: [StreamAnalysis?] = []
        for (label, path) in [("OLD", old), ("NEW", new)] {
            do {
                // (Device sections are read again, one at a time, for their PCI configuration.)
                read.append(try StreamAnalysis(bytes: openInput(path), options: Self.streamOptions))
            } catch let e as StreamAnalysisError {
                if e.refusedSection != nil { refusals[label] = e }
                notes.append(
                    "\(label) (\(path)) cannot be read whole, so its RAM blocks, PCI configuration spaces, compared fields (VMSTATE_*_EQUAL) and configuration section were not compared: \(e)"
                )
                if let n = e.unreadNullEntries {
                    nullNotes.append(
                        "section \"\(n.section)\", field \"\(n.field)\": QEMU 7.2's vmdesc of \(label) (\(path)) "
                            + "describes this array of structs by its first entry, and its stream has the NULL "
                            + "marker 0x30 where \(n.indices.count == 1 ? "element" : "elements") "
                            + "\(Self.indexRanges(n.indices)) \(n.indices.count == 1 ? "starts" : "start") (NULL entries, if it is "
                            + "an array of pointers), but with each such byte taken as NULL it does not read whole either "
                            + "(other readings, an element that is not NULL starting with that byte, were not "
                            + "searched): its NULL entries are not "
                            + "known, and QEMU loads it only when the same entries are NULL on both sides "
                            + "(\"get_nullptr expected VMS_NULLPTR_MARKER\") (undecided)")
                }
                read.append(nil)
            }
        }
        return (read[0], read[1])
    }

    /// How compat reads a stream: pages skipped, device sections read again one at a time,
    /// QEMU 7.2's NULL entries recognised.
    static var streamOptions: StreamAnalysis.Options {
        var options = StreamAnalysis.Options(recordPages: false, keepDeviceFields: false)
        options.readsQEMU72NullEntries = true
        return options
    }

    /// A QEMU 7.2 stream compared with a vmdesc or -dump-vmstate file, read whole for the NULL
    /// entries of its arrays of pointers; nil, without a warning (nothing else is taken from
    /// it), when it is another QEMU's or cannot be read whole.
    static func readingQEMU72NullEntries(_ path: String) -> StreamAnalysis? {
        guard let bytes = try? openInput(path), let vmdesc = try? StreamAnalysis.readVMDesc(bytes).0.objectValue,
            !StreamRules.forVMDesc(vmdesc).laterFieldTypes.contains("nullptr")
        else { return nil }
        return try? StreamAnalysis(bytes: bytes, options: streamOptions)
    }

    /// "0-4, 8, 10-12".
    static func indexRanges(_ indices: [Int]) -> String {
        var ranges: [ClosedRange<Int>] = []
        for i in indices {
            if let last = ranges.last, last.upperBound + 1 == i {
                ranges[ranges.count - 1] = last.lowerBound...i
            } else {
                ranges.append(i...i)
            }
        }
        return ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ", ")
    }

    /// The warning on NULL entries of a QEMU 7.2 stream that reads to its section's footer
    /// another way too (an element that is not NULL may start with 0x30), or that was not
    /// searched through for another way (`QEMU72NullReadings`): not known.
    static func nullEntriesNotKnown(_ n: StreamAnalysis.QEMU72NullEntries, label: String, path: String) -> String {
        let other =
            n.readings == .several
            ? "and also another way (an element that is not NULL may start with that byte)"
            : "and was not searched through for another way (an element that is not NULL may start with that byte): the "
                + "search stops after \(QEMU72NullReadings.stepsPerByte) steps per byte of the section and "
                + "\(QEMU72NullReadings.extraSteps) more for the stream"
        return
            "section \"\(n.section)\"\(n.instance == 0 ? "" : " instance \(n.instance)"), field \"\(n.field)\": QEMU "
            + "7.2's vmdesc of \(label) (\(path)) describes this array of structs by its first entry, and its stream reads to "
            + "the section's footer with the NULL marker 0x30 where \(n.indices.count == 1 ? "element" : "elements") "
            + "\(indexRanges(n.indices)) \(n.indices.count == 1 ? "starts" : "start") taken as NULL entries, \(other): its "
            + "NULL entries are not known, and QEMU loads it only when the same entries are NULL on both sides (undecided)"
    }

    /// The warning on NULL entries a QEMU 7.2 stream showed in an array its vmdesc describes
    /// inside another array or struct (`DescriptionSet.markingQEMU72NullEntries` leaves them):
    /// not compared.
    static func nullEntriesNotCompared(_ n: StreamAnalysis.QEMU72NullEntries, label: String, path: String) -> String {
        "section \"\(n.section)\"\(n.instance == 0 ? "" : " instance \(n.instance)"), field \"\(n.field)\": an array of "
            + "pointers with NULL entries \(indexRanges(n.indices)) in \(label) (\(path)) (QEMU 7.2's vmdesc describes it by "
            + "its first entry; its stream has the NULL marker 0x30 where those elements start): inside another array "
            + "or struct, not compared; QEMU loads it only when the same entries are NULL on both sides"
    }

    /// The inputs (`LABEL (path)`) that are -dump-vmstate files giving no array length ("num",
    /// QEMU before 8.1) while the other input gives some ("num", or a vmdesc's "array_len"):
    /// their arrays' sizes are one element's, which misleads the size rules.
    static func filesWithoutArrayLengths(
        _ files: [(label: String, path: String, format: DescriptionSet.Format, json: JSONValue)]
    ) -> [String] {
        let gives = files.map { givesArrayLengths($0.json) }
        return files.indices.compactMap { i in
            let other = files.count - 1 - i
            guard files[i].format == .dumpVMState, !gives[i], gives[other] else { return nil }
            return "\(files[i].label) (\(files[i].path))"
        }
    }

    /// Whether a description document has a "num" or "array_len" member anywhere.
    static func givesArrayLengths(_ json: JSONValue) -> Bool {
        var pending = [json]
        while let value = pending.popLast() {
            switch value {
            case .object(let o):
                for m in o.members {
                    if m.key == "num" || m.key == "array_len" { return true }
                    pending.append(m.value)
                }
            case .array(let items):
                pending.append(contentsOf: items)
            default:
                break
            }
        }
        return false
    }

    /// What QEMU checks of a stream's configuration besides the machine type.
    func configuration(_ s: StreamAnalysis) -> CompatChecker.StreamConfiguration {
        CompatChecker.StreamConfiguration(
            uuid: s.uuidString, capabilities: s.capabilities, noFooters: s.lacksFooters,
            firstSection: s.sections.first?.name, hasConfiguration: s.machineType != nil,
            switchoverStart: s.hasSwitchoverStart, vmdescDescribesConfiguration: s.vmdescDescribesConfiguration,
            targetPageBits: s.targetPageBits, compressedPages: Self.compressedPages(s))
    }

    /// The machine type of an input: a stream's configuration section, a dump's
    /// "vmschkmachine"; nil for a vmdesc JSON file (it does not record one). `label` ("OLD",
    /// "NEW") names the input in errors, with the file.
    func machineType(_ path: String, _ set: DescriptionSet, label: String) throws -> CompatChecker.MachineType? {
        if try isStreamFile(path) {
            do {
                return .stream(try StreamAnalysis.configurationMachineType(openInput(path)))
            } catch let e as StreamAnalysisError {
                throw InputFileError(description: "\(label) (\(path)): \(e)")
            }
        }
        if set.format == .vmdesc { return set.configuration.machineNameLength.map { .vmdesc(nameLength: $0) } }
        return set.machine.map { .dump($0) }
    }
}
