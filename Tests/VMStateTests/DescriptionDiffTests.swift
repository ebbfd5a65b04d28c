import Testing
import VMState
import VMStateAnalysis

/// `vmstate diff` and `vmstate compat` on device descriptions: vmdesc JSON files, `-dump-vmstate`
/// files and streams (standing for their vmdesc), in every mix, on QEMU 7.2's and 10.0's outputs.
private func d(_ section: String, _ field: String, _ kind: StreamDifference.Kind, _ a: String?, _ b: String?)
    -> StreamDifference
{
    StreamDifference(section: section, instance: 0, field: field, kind: kind, a: a, b: b)
}

@Suite struct DescriptionDiffTests {
    static let vmdesc72 = TestPaths.qemuFixtures + "/pc-bios/vmdesc.json"
    static let vmdesc10 = TestPaths.qemu10Fixtures + "/pc-bios/vmdesc.json"
    static let stream72 = TestPaths.qemuFixtures + "/pc-bios/stream.bin"
    static let stream10 = TestPaths.qemu10Fixtures + "/pc-bios/stream.bin"
    static let dump72 = TestPaths.qemuFixtures + "/dump-vmstate-pc.json"
    static let dump10 = TestPaths.qemu10Fixtures + "/dump-vmstate-pc.json"

    static func set(_ path: String, elementSizes: Bool = true) throws -> DescriptionSet {
        let json: JSONValue
        if path.hasSuffix(".bin") {
            json = try StreamAnalysis.readVMDesc(StreamBytes(contentsOfFile: path)).0
        } else {
            json = try TestPaths.readJSON(path)
        }
        return try DescriptionSet(json, label: path, elementSizes: elementSizes)
    }

    static func diff(_ a: String, _ b: String) throws -> StreamDiff {
        let (ca, cb, notes) = DescriptionSet.comparable(try set(a), try set(b))
        return StreamDiff(descriptions: ca, cb, notes: notes)
    }

    /// What QEMU 10.0 changed in the pc machine's state, as the two vmdescs show it.
    static let changes72to10 = [
        d("hpet", "num_timers", .onlyInA, "uint8, 1 byte", nil),
        d("hpet", "num_timers_save", .onlyInB, nil, "uint8, 1 byte"),
        d("globalstate", "runstate", .changed, "buffer, 100 bytes", "buffer, 32 bytes"),
        d("globalstate", "has_vm_was_suspended", .onlyInB, nil, "uint8, 1 byte"),
        d("globalstate", "vm_was_suspended", .onlyInB, nil, "uint8, 1 byte"),
        d("globalstate", "unused", .onlyInB, nil, "buffer, 66 bytes"),
    ]

    @Test func formatsAreRecognized() throws {
        let v = try Self.set(Self.vmdesc72)
        #expect(v.format == .vmdesc && v.machine == nil && v.entries.count == 30)
        #expect(v.entries.map(\.key).prefix(3) == ["timer", "cpu_common", "cpu"])
        #expect(v.entries.contains { $0.key == "dma (instance 1)" && $0.descriptionName == "dma" })
        let d = try Self.set(Self.dump72)
        #expect(d.format == .dumpVMState && d.machine == "pc-i440fx-7.2")
        #expect(d.entries.first { $0.section == "isa-pit" }?.descriptionName == "i8254")
        // A stream stands for its vmdesc.
        let s = try Self.set(Self.stream72)
        #expect(s.format == .vmdesc && s.document == v.document)
    }

    @Test(arguments: [vmdesc72, dump72, stream72])
    func descriptionsEqualThemselves(_ path: String) throws {
        let diff = try Self.diff(path, path)
        #expect(diff.isEqual && diff.notes.isEmpty)
        #expect(diff.text() == "descriptions are equal\n")
    }

    @Test func twoVMDescs() throws {
        let diff = try Self.diff(Self.vmdesc72, Self.vmdesc10)
        #expect(diff.differences == Self.changes72to10)
        #expect(diff.notes.isEmpty)
        #expect(
            diff.text().hasSuffix(
                """
                globalstate: unused  (only in B)
                    B: buffer, 66 bytes
                6 differences in 2 sections

                """))
        // A stream and its vmdesc are the same thing here.
        #expect(try Self.diff(Self.stream72, Self.vmdesc10).differences == Self.changes72to10)
    }

    @Test func vmdescAgainstTheDumpOfTheSameBuild() throws {
        let diff = try Self.diff(Self.vmdesc72, Self.dump72)
        // The only difference: a variable array that was empty when the stream was saved
        // (QEMU writes no vmdesc entry for it).
        #expect(
            diff.differences == [
                d(
                    "piix4_pm", "memhp/acpi_memory_hotplug/devs", .onlyInB, nil,
                    "description \"memory hotplug device state\", 24 bytes")
            ])
        #expect(
            diff.notes == [
                "9 sections of A's vmdesc have no description in B (a -dump-vmstate file lists device classes only) and were not compared: timer, cpu_common, cpu, apic, PCIBUS, 0000:00:01.1/ide, i2c_bus, acpi_build, globalstate",
                "123 descriptions of B (a -dump-vmstate file) are not in A's vmdesc and were not compared",
                "compared by description name; A's vmdesc is what a save wrote: B's fields added after A's versions, and conditional fields and subsections A did not write, are left out (an array that was empty when A was saved is not in A at all)",
            ])
        // The other way round: the same difference, from the other side.
        let back = try Self.diff(Self.dump72, Self.stream72)
        #expect(
            back.differences == [
                d(
                    "piix4_pm", "memhp/acpi_memory_hotplug/devs", .onlyInA,
                    "description \"memory hotplug device state\", 24 bytes", nil)
            ])
        #expect(back.notes.first?.hasPrefix("9 sections of B's vmdesc have") == true)
    }

    /// A dump without "vmschkmachine" (QEMU writes it in every one) differs from one with it;
    /// one whose "Name" is not a string, or with a device entry without "version_id", is bad
    /// input, as compat finds it (they compared as equal: hostile53 D4).
    @Test func dumpsWithoutAMachineTypeOrAVersion() throws {
        var dump = try #require(try TestPaths.readJSON(Self.dump10).objectValue)
        let full = try DescriptionSet(.object(dump), label: "A")
        dump["vmschkmachine"] = nil
        let none = try DescriptionSet(.object(dump), label: "B")
        let diff = StreamDiff(descriptions: full, none, notes: [])
        #expect(diff.differences == [d("vmschkmachine", "Name", .changed, "pc-i440fx-10.0", "(none)")])
        dump["vmschkmachine"] = try JSONValue(parsing: #"{"Name": 5}"#)
        #expect(
            throws: CompatInputError(
                location: "B section \"vmschkmachine\"", message: "\"Name\": expected a string, found number")
        ) { try DescriptionSet(.object(dump), label: "B") }
        dump["vmschkmachine"] = try JSONValue(parsing: #"{"Name": "pc-i440fx-10.0"}"#)
        var bridge = try #require(dump["pcie-pci-bridge"]?.objectValue)
        bridge["version_id"] = nil
        dump["pcie-pci-bridge"] = .object(bridge)
        #expect(
            throws: CompatInputError(location: "B section \"pcie-pci-bridge\"", message: "no \"version_id\"")
        ) { try DescriptionSet(.object(dump), label: "B") }
    }

    @Test func twoDumps() throws {
        let diff = try Self.diff(Self.dump72, Self.dump10)
        #expect(diff.differences.count == 199)
        #expect(Set(diff.differences.map(\.sectionLabel)).count == 144)
        // First the machine types the files were dumped for (QEMU refuses another one's stream).
        #expect(diff.differences.first == d("vmschkmachine", "Name", .changed, "pc-i440fx-7.2", "pc-i440fx-10.0"))
        #expect(
            diff.differences.contains(
                d("vmclock", "", .onlyInB, nil, "description \"vmclock\", version 1 (minimum 1), 1 field")))
        #expect(diff.differences.contains(d("sb16", "unused", .onlyInB, nil, "20 bytes")))
        // -dump-vmstate gives C struct sizes: PCIDevice grew in QEMU 10.0.
        #expect(
            diff.differences.contains(
                d(
                    "e1000", "parent_obj", .changed, "description \"PCIDevice\", 2608 bytes",
                    "description \"PCIDevice\", 2736 bytes")))
        #expect(diff.text().hasSuffix("199 differences in 144 sections\n"))
        // With the differences on disk (the tool's: none held), the same text and JSON.
        let (ca, cb, notes) = DescriptionSet.comparable(try Self.set(Self.dump72), try Self.set(Self.dump10))
        let spilled = StreamDiff(descriptions: ca, cb, notes: notes, differencesOnDisk: true)
        #expect(spilled.differences.isEmpty)
        #expect(spilled.differenceCount == 199)
        #expect(spilled.text() == diff.text())
        var heldJSON = JSONTextWriter(format: .python)
        try diff.writeJSON(to: &heldJSON)
        var spilledJSON = JSONTextWriter(format: .python)
        try spilled.writeJSON(to: &spilledJSON)
        #expect(spilledJSON.text == heldJSON.text)
        #expect(spilledJSON.text.contains(#""section": "vmclock""#))
    }

    @Test func versionsAndFieldsOfAnEditedDump() throws {
        // i8254 (key isa-pit) at version 4, minimum 3, with "count" of "pit channel" resized
        // and a field added at the end.
        var doc = try TestPaths.readJSON(Self.dump72)
        guard var top = doc.objectValue, var pit = top["isa-pit"]?.objectValue,
            var desc = pit["Description"]?.objectValue,
            var fields = desc["Fields"]?.arrayValue, var channels = fields[1].objectValue,
            var channel = channels["Description"]?.objectValue, var cfields = channel["Fields"]?.arrayValue,
            var count = cfields[0].objectValue
        else {
            Issue.record("unexpected dump shape")
            return
        }
        count["size"] = 8
        cfields[0] = .object(count)
        channel["Fields"] = .array(cfields)
        channels["Description"] = .object(channel)
        fields[1] = .object(channels)
        fields.append(["field": "extra", "version_id": 4, "field_exists": false, "size": 2])
        desc["Fields"] = .array(fields)
        desc["version_id"] = 4
        desc["minimum_version_id"] = 3
        pit["Description"] = .object(desc)
        top["isa-pit"] = .object(pit)
        doc = .object(top)
        let diff = StreamDiff(descriptions: try Self.set(Self.dump72), try DescriptionSet(doc, label: "edited"))
        #expect(
            diff.differences == [
                d("isa-pit", "", .version, "version 3", "version 4"),
                d("isa-pit", "", .version, "minimum version 2", "minimum version 3"),
                d("isa-pit", "channels/count", .changed, "4 bytes", "8 bytes"),
                d("isa-pit", "extra", .onlyInB, nil, "2 bytes, from version 4"),
            ])
    }

    /// Sections of one idstr and instance (isapc's three `isa-ide`): the n-th of A compared
    /// with the n-th of B, whichever of them changed; a third only in B.
    @Test func sectionsOfOneKeyArePairedInOrder() throws {
        func vmdesc(_ versions: [Int]) throws -> DescriptionSet {
            try CompatRuleTests.vmdesc(
                devices: versions.map {
                    CompatRuleTests.vmdescDevice(
                        "dev", version: $0, fields: #"{"name": "a", "type": "uint32", "size": 4}"#)
                }, label: "x")
        }
        let base = try vmdesc([1, 1])
        for (n, changed) in [[9, 1], [1, 9]].enumerated() {
            #expect(
                StreamDiff(descriptions: base, try vmdesc(changed)).differences == [
                    StreamDifference(
                        section: "dev", instance: 0, field: "", kind: .version, a: "version 1", b: "version 9",
                        occurrence: n)
                ])
        }
        #expect(StreamDiff(descriptions: base, base).differences == [])
        #expect(
            StreamDiff(descriptions: base, try vmdesc([1, 1, 2])).differences == [
                StreamDifference(
                    section: "dev", instance: 0, field: "", kind: .onlyInB, a: nil,
                    b: #"description "dev", version 2, 1 field"#, occurrence: 2)
            ])
        let fewer = StreamDiff(descriptions: try vmdesc([1, 1, 2]), base)
        #expect(
            fewer.differences == [
                StreamDifference(
                    section: "dev", instance: 0, field: "", kind: .onlyInA,
                    a: #"description "dev", version 2, 1 field"#,
                    b: nil, occurrence: 2)
            ])
        #expect(fewer.differences.first?.sectionLabel == "dev (instance 0, 3rd section)")
    }

    /// An array of structs described per element on one side ("index") and as one entry on
    /// the other ("array_len") is compared per element: equal when the elements are alike; an
    /// element that gained a field is named by its place.
    @Test func anArrayDescribedPerElementAndAsOneEntry() throws {
        func vmdesc(_ fields: String) throws -> DescriptionSet {
            try CompatRuleTests.vmdesc(
                devices: [CompatRuleTests.vmdescDevice("dev", fields: fields)], label: "x", elementSizes: true)
        }
        let el =
            #""type": "struct", "struct": {"vmsd_name": "el", "version": 1, "fields": [{"name": "a", "type": "uint32", "size": 4}]}, "size": 4}"#
        let grown =
            #""type": "struct", "struct": {"vmsd_name": "el", "version": 1, "fields": [{"name": "a", "type": "uint32", "size": 4}, {"name": "b", "type": "uint32", "size": 4}]}, "size": 8}"#
        let compressed = try vmdesc(#"{"name": "x", "array_len": 3, "# + el)
        let perElement = try vmdesc(
            #"{"name": "x", "index": 0, "# + el + #", {"name": "x", "index": 1, "# + el + #", {"name": "x", "# + el)
        #expect(StreamDiff(descriptions: compressed, perElement).differences == [])
        #expect(StreamDiff(descriptions: perElement, compressed).differences == [])
        let other = try vmdesc(
            #"{"name": "x", "index": 0, "# + el + #", {"name": "x", "index": 1, "# + grown + #", {"name": "x", "# + el)
        #expect(
            StreamDiff(descriptions: compressed, other).differences == [
                d("dev", "x#2", .changed, #"struct, description "el", 4 bytes"#, #"struct, description "el", 8 bytes"#),
                d("dev", "x#2/b", .onlyInB, nil, "uint32, 4 bytes"),
            ])
    }

    /// An array of pointers with NULL entries (QEMU 10.0's runs, merged into one field): its
    /// NULL entries, its entries' type and description, and runs described two ways differ.
    @Test func arraysOfPointersWithNullEntries() throws {
        let image =
            #""type": "struct", "struct": {"vmsd_name": "img", "version": 1, "fields": [{"name": "c", "type": "uint8", "size": 768}]}, "size": 768}"#
        let null = #""type": "nullptr", "size": 1}"#
        func vmdesc(_ runs: [(Int, String)]) throws -> DescriptionSet {
            let fields = runs.map { n, rest in #"{"name": "css", "# + (n > 1 ? #""array_len": \#(n), "# : "") + rest }
            return try CompatRuleTests.vmdesc(
                devices: [CompatRuleTests.vmdescDevice("s390_css", fields: fields.joined(separator: ", "))], label: "x",
                elementSizes: true)
        }
        let base = try vmdesc([(254, null), (1, image), (1, null)])
        let struct768 = #"struct x 256, description "img", 768 bytes"#
        #expect(StreamDiff(descriptions: base, base).differences == [])
        #expect(
            StreamDiff(descriptions: base, try vmdesc([(253, null), (1, image), (2, null)])).differences == [
                d(
                    "s390_css", "css", .changed, struct768 + ", NULL entries 0-253, 255",
                    struct768 + ", NULL entries 0-252, 254-255")
            ])
        #expect(
            StreamDiff(descriptions: base, try vmdesc([(254, null), (1, #""type": "uint64", "size": 8}"#), (1, null)]))
                .differences == [
                    d(
                        "s390_css", "css", .changed, struct768 + ", NULL entries 0-253, 255",
                        "uint64 x 256, 8 bytes, NULL entries 0-253, 255")
                ])
        let other = image.replacingOccurrences(
            of: #""c", "type": "uint8", "size": 768"#, with: #""c", "type": "uint8", "size": 760"#
        )
        .replacingOccurrences(of: #""size": 768}"#, with: #""size": 760}"#)
        #expect(
            StreamDiff(descriptions: base, try vmdesc([(100, null), (1, image), (153, null), (1, other), (1, null)]))
                .differences.map(\.b) == [
                    struct768 + ", NULL entries 0-99, 101-253, 255, entries described in more than one way"
                ])
    }

    // MARK: - the command line

    @Test func diffCommandOnDescriptions() throws {
        guard Tool.path != nil else { return }
        let r = try Tool.run(["diff", Self.vmdesc72, Self.stream10])
        #expect(r.status == 1 && r.stderr == "")
        #expect(r.stdout.hasSuffix("6 differences in 2 sections\n"))
        let same = try Tool.run(["diff", Self.dump72, Self.dump72])
        #expect(same.status == 0 && same.stdout == "descriptions are equal\n")
        let json = try Tool.run(["diff", "--json", Self.vmdesc72, Self.vmdesc10])
        let parsed = try JSONValue(parsing: Array(json.stdout.utf8))
        #expect(
            parsed["sections"]?[0] == [
                "section": "hpet", "instance": 0, "field": "num_timers", "kind": "only-in-a", "a": "uint8, 1 byte",
                "b": nil,
            ])
        #expect(parsed["notes"] == nil)
    }

    @Test func diffCommandBadDescription() throws {
        guard Tool.path != nil else { return }
        let r = try Tool.run(["diff", Self.vmdesc72, TestPaths.qemuFixtures + "/pc-bios/cmdline.txt"])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("vmstate diff: error: "))
    }

    @Test func compatAcceptsStreamsAndVMDescs() throws {
        guard Tool.path != nil else { return }
        // A stream as OLD against the -dump-vmstate of the build that wrote it: compatible.
        for old in [Self.stream72, Self.vmdesc72] {
            let r = try Tool.run(["compat", old, Self.dump72])
            #expect(r.status == 0, "\(old): \(r.stdout) \(r.stderr)")
            // (The memory hotplug `devs` QEMU 7.2's dump has and its save left out, empty; and the
            // 9 sections not compared.)
            #expect(
                r.stdout.hasSuffix(
                    "\ncompatible, but 2 warnings above are undecided: state saved by OLD loads into NEW "
                        + "if what each leaves open is the loadable case\n"))
            #expect(r.stdout.hasPrefix("warning: 9 sections of OLD's vmdesc have no description in NEW"))
        }
        // QEMU 7.2's stream against QEMU 10.0's build and against QEMU 10.0's stream: another
        // machine type (pc-i440fx-10.0), which QEMU refuses first, and the descriptions.
        let r = try Tool.run(["compat", "--json", Self.stream72, Self.stream10])
        // (globalstate's runstate buffer is NEW's runstate and the fields after it: a warning.)
        #expect(r.status == 1)
        #expect(
            r.stderr
                == "warning: section \"globalstate\", description \"globalstate\", field \"runstate\": OLD's buffer of 100 bytes is NEW's \"runstate\" and the fields after it, the same bytes in all: QEMU loads them as they are (whether the device reads them alike is its own design)\n"
        )
        #expect(
            try JSONValue(parsing: Array(r.stdout.utf8)) == [
                [
                    "section": "configuration", "description": nil, "kind": "machine-type",
                    "message":
                        "OLD was saved by machine type \"pc-i440fx-7.2\" and NEW is \"pc-i440fx-10.0\": QEMU refuses it (\"Machine type received is 'pc-i440fx-7.2' and local is 'pc-i440fx-10.0'\")",
                ]
            ])
        let machineTypeOnly = """
            section "configuration": OLD was saved by machine type "pc-i440fx-7.2" and NEW is "pc-i440fx-10.0": QEMU refuses it ("Machine type received is 'pc-i440fx-7.2' and local is 'pc-i440fx-10.0'") [machine-type]
            NOT compatible: 1 problem (state saved by OLD does not load into NEW: QEMU refuses it or loads wrong values)

            """
        // QEMU 10.0 renamed hpet's num_timers (num_timers_save): one of QEMU's renames.
        let dump = try Tool.run(["compat", Self.stream72, Self.dump10])
        #expect(dump.status == 1)
        #expect(dump.stdout.hasSuffix(machineTypeOnly))
        let byName = try Tool.run(["compat", "--no-qemu-renames", Self.stream72, Self.dump10])
        #expect(byName.status == 1)
        #expect(
            byName.stdout.hasSuffix(
                """
                section "hpet", description "hpet", field "num_timers": expected field "num_timers", but NEW has "num_timers_save" in its place; the rest of the fields were not compared [field-mismatch]
                NOT compatible: 2 problems (state saved by OLD does not load into NEW: QEMU refuses it or loads wrong values)

                """))
        let renamed = try Tool.run([
            "compat", "--no-qemu-renames", "--rename", "hpet:num_timers=num_timers_save", Self.stream72, Self.dump10,
        ])
        // The descriptions now agree; the machine type still differs.
        #expect(renamed.status == 1)
        #expect(
            renamed.stdout.hasSuffix(
                """
                section "configuration": OLD was saved by machine type "pc-i440fx-7.2" and NEW is "pc-i440fx-10.0": QEMU refuses it ("Machine type received is 'pc-i440fx-7.2' and local is 'pc-i440fx-10.0'") [machine-type]
                NOT compatible: 1 problem (state saved by OLD does not load into NEW: QEMU refuses it or loads wrong values)

                """))
        // Two -dump-vmstate files: as before.
        let dumps = try Tool.run(["compat", Self.dump72, Self.dump72])
        #expect(dumps.status == 0 && dumps.stdout == "compatible: state saved by OLD loads into NEW\n")
    }

    /// `--reverse` checks the other direction as if OLD and NEW were given the other way round:
    /// `compat --reverse STREAM DUMP` finds what `compat DUMP STREAM` finds (it reported every
    /// description's minimum_version_id as missing in the stream's vmdesc, which has none).
    @Test func compatReverseWithAVMDesc() throws {
        guard Tool.path != nil else { return }
        func problems(_ args: [String]) throws -> [JSONValue] {
            let r = try Tool.run(["compat", "--json"] + args)
            #expect(r.status <= 1, "\(args): \(r.stderr)")
            return try JSONValue(parsing: Array(r.stdout.utf8)).arrayValue!.map { p in
                // The messages name the sides by their places on the command line.
                var o = p.objectValue!
                o["message"] = nil
                return .object(o)
            }
        }
        for (stream, dump) in [
            (Self.stream72, Self.dump72), (Self.stream10, Self.dump10), (Self.stream72, Self.dump10),
        ] {
            let reversed = try problems(["--reverse", stream, dump])
            #expect(reversed == (try problems([dump, stream])), "\(stream) \(dump)")
            #expect(!reversed.contains { $0["kind"] == "entry-missing" })
        }
    }

    /// A NEW -dump-vmstate whose minimum_version_id is above the version a stream was saved at.
    @Test func compatChecksNEWsMinimumAgainstTheSavedVersion() throws {
        var doc = try TestPaths.readJSON(Self.dump72)
        // Every class with the description i8254 (kvm-pit, isa-pit, pit-common).
        guard var top = doc.objectValue else {
            Issue.record("unexpected dump shape")
            return
        }
        for i in top.members.indices {
            guard var entry = top.members[i].value.objectValue, var desc = entry["Description"]?.objectValue,
                desc["name"] == "i8254"
            else { continue }
            desc["minimum_version_id"] = 4
            desc["version_id"] = 4
            entry["Description"] = .object(desc)
            top.members[i].value = .object(entry)
        }
        doc = .object(top)
        let (old, new, _) = DescriptionSet.comparable(
            try Self.set(Self.stream72), try DescriptionSet(doc, label: "NEW"), labels: ("OLD", "NEW"))
        var checker = CompatChecker()
        checker.oldIsVMDesc = true
        let report = try checker.check(old: old.document, new: new.document)
        #expect(
            report.findings == [
                CompatFinding(
                    section: "i8254", descriptionName: "i8254", field: nil, kind: .minimumVersion,
                    message: "OLD saves version 3, but NEW accepts only versions 4 and later")
            ])
        // piix4_pm's memory hotplug devs was an empty array when QEMU 7.2 saved the stream.
        #expect(
            report.warnings == [
                "section \"piix4_pm\", description \"memory hotplug state\", field \"devs\": NEW reads this field after OLD's last saved field; OLD's vmdesc has no entry for it: it was an empty variable-size array or a conditional field left out when saved (loadable when its count or test comes from the stream; not when the devices' options set it, as memory hotplug's slots= does), or OLD lacks it (not loadable)"
            ])
    }

    /// OLD (or NEW) a vmdesc and the other side a `-dump-vmstate` file: a vmdesc's array
    /// ("array_len", element size) is as many bytes as the unused space the other side has in
    /// its place. QEMU 7.2's e1000e saves `core.itr_intr_pending` (a bool) and
    /// `core.eitr_intr_pending` (5 bools) where QEMU 10.0 has `VMSTATE_UNUSED(1)` and
    /// `VMSTATE_UNUSED(5)` (found comparing a 7.2 stream with `-device e1000e` against
    /// qemu-10.0/dump-vmstate-pc-i440fx-7.2.json: the 5 bools were taken as 1 byte, the 4 bytes
    /// after them as the rest of the unused space, and the next fields as a field mismatch).
    @Test func vmdescArrayAgainstUnusedSpace() throws {
        func vmdesc(_ count: Int) throws -> DescriptionSet {
            try DescriptionSet(
                JSONValue(
                    parsing: """
                        {"page_size": 4096, "devices": [{"name": "0000:00:02.0/e1000e", "instance_id": 0,
                          "vmsd_name": "e1000e", "version": 1, "fields": [
                          {"name": "core.itr_intr_pending", "type": "bool", "size": 1},
                          {"name": "core.eitr_intr_pending", "array_len": \(count), "type": "bool", "size": 1},
                          {"name": "core.itr_guest_value", "type": "uint32", "size": 4},
                          {"name": "core.eitr_guest_value", "array_len": 5, "type": "uint32", "size": 4},
                          {"name": "core.vet", "type": "uint16", "size": 2}]}]}
                        """), label: "vmdesc", elementSizes: true)
        }
        var eitrGuestValue = CompatRuleTests.field("core.eitr_guest_value", 4).objectValue!
        eitrGuestValue["num"] = 5
        let dump = try DescriptionSet(
            CompatRuleTests.section(
                "e1000e", version: 1,
                fields: [
                    CompatRuleTests.field("unused", 1), CompatRuleTests.field("unused", 5),
                    CompatRuleTests.field("core.itr_guest_value", 4), .object(eitrGuestValue),
                    CompatRuleTests.field("core.vet", 2),
                ]), label: "dump")
        func check(_ old: DescriptionSet, _ new: DescriptionSet) throws -> CompatReport {
            let (o, n, _) = DescriptionSet.comparable(old, new, labels: ("OLD", "NEW"))
            var checker = CompatChecker()
            checker.oldIsVMDesc = old.format == .vmdesc
            checker.newIsVMDesc = new.format == .vmdesc
            return try checker.check(old: o.document, new: n.document)
        }
        #expect(try check(vmdesc(5), dump).findings == [])
        #expect(try check(dump, vmdesc(5)).findings == [])
        // Four bools do not fill five bytes: the bytes after them no longer line up.
        #expect(try check(vmdesc(4), dump).findings.map(\.kind) == [.unusedSize])
        #expect(try check(dump, vmdesc(4)).findings.map(\.kind) == [.unusedSize])
    }

    /// A conditional field whose `-dump-vmstate` size is 0 (its VMStateInfo decides how many
    /// bytes it writes) is the field a vmdesc saved under its name, whatever size that was:
    /// pci_bridge's `shpc` (QEMU 7.2 wrote 160 bytes for `-device pci-bridge`; found comparing
    /// such a stream with qemu-10.0/dump-vmstate-pc-i440fx-7.2.json, where the field was left
    /// out as not saved: compat said NEW has no further fields, diff "only in A").
    @Test func conditionalFieldOfSizeZeroIsTheSavedOne() throws {
        let vmdesc = try DescriptionSet(
            JSONValue(
                parsing: """
                    {"page_size": 4096, "devices": [{"name": "0000:00:02.0/pci_bridge", "instance_id": 0,
                      "vmsd_name": "pci_bridge", "version": 1, "fields": [
                      {"name": "bus", "type": "uint8", "size": 1},
                      {"name": "shpc", "type": "shpc", "size": 160}]}]}
                    """), label: "vmdesc", elementSizes: true)
        let dump = try DescriptionSet(
            CompatRuleTests.section(
                "pci_bridge", version: 1,
                fields: [CompatRuleTests.field("bus", 1), CompatRuleTests.field("shpc", 0, exists: true)]),
            label: "dump")
        try Self.expectSameBothWays(vmdesc, dump)
    }

    /// A vmdesc against a `-dump-vmstate` file where several device classes have the saved
    /// description's name: the class whose fields the save has. QEMU 7.2's `-device isa-vga`
    /// saves `vga` as `latch`, `sr_index`, ...; the first class of QEMU 10.0's dump with the
    /// description `vga` is pci-vga (`dev`, `vga`); ne2k_isa's `ne2000` has the field `ne2000`,
    /// ne2k_pci's `dev` and `ne2000` (found comparing QEMU 7.2 `-M isapc` and `-device
    /// isa-vga` streams with qemu-10.0/dump-vmstate-pc-i440fx-7.2.json: field mismatches
    /// `latch`/`dev` and `ne2000`/`dev`, and ne2k_pci's minimum version).
    @Test func sameDescriptionNameInSeveralClasses() throws {
        let vmdesc = try DescriptionSet(
            JSONValue(
                parsing: """
                    {"page_size": 4096, "devices": [
                      {"name": "vga", "instance_id": 0, "vmsd_name": "vga", "version": 2, "fields": [
                        {"name": "latch", "type": "uint32", "size": 4},
                        {"name": "sr_index", "type": "uint8", "size": 1}]},
                      {"name": "ne2000", "instance_id": 0, "vmsd_name": "ne2000", "version": 2, "fields": [
                        {"name": "ne2000", "type": "uint8", "size": 1}]}]}
                    """), label: "vmdesc", elementSizes: true)
        func entry(_ name: String, _ version: Int, _ minimum: Int, _ fields: [(String, Int)]) -> String {
            let f = fields.map {
                #"{"field": "\#($0.0)", "version_id": 0, "field_exists": false, "size": \#($0.1)}"#
            }
            return """
                {"Name": "\(name)", "version_id": \(version), "minimum_version_id": \(minimum),
                 "Description": {"name": "\(name)", "version_id": \(version), "minimum_version_id": \(minimum),
                 "Fields": [\(f.joined(separator: ", "))]}}
                """
        }
        let dump = try DescriptionSet(
            JSONValue(
                parsing: """
                    {"vmschkmachine": {"Name": "pc-i440fx-7.2"},
                     "pci-vga": \(entry("vga", 2, 2, [("dev", 4), ("vga", 8)])),
                     "ne2k_pci": \(entry("ne2000", 3, 3, [("dev", 4), ("ne2000", 1)])),
                     "isa-vga": \(entry("vga", 2, 2, [("latch", 4), ("sr_index", 1)])),
                     "ne2k_isa": \(entry("ne2000", 2, 2, [("ne2000", 1)]))}
                    """), label: "dump")
        try Self.expectSameBothWays(vmdesc, dump)
    }

    /// `compat` finds nothing and `diff` no difference between `vmdesc` and `dump`, either way
    /// round (each as OLD, and as A).
    static func expectSameBothWays(_ vmdesc: DescriptionSet, _ dump: DescriptionSet) throws {
        for (old, new) in [(vmdesc, dump), (dump, vmdesc)] {
            let (o, n, notes) = DescriptionSet.comparable(old, new, labels: ("OLD", "NEW"))
            var checker = CompatChecker()
            checker.oldIsVMDesc = old.format == .vmdesc
            checker.newIsVMDesc = new.format == .vmdesc
            let report = try checker.check(old: o.document, new: n.document)
            #expect(report.findings == [])
            #expect(StreamDiff(descriptions: o, n, notes: notes).differences == [])
        }
    }

    @Test func usageErrorExits64() throws {
        guard Tool.path != nil else { return }
        let r = try Tool.run(["compat", "OLD.json"])
        #expect(r.status == 64 && r.stdout == "")
        #expect(r.stderr.hasPrefix("Error: Missing expected argument '<new>'\n"))
        #expect(try Tool.run(["diff", "--no-such-option", "a", "b"]).status == 64)
        #expect(try Tool.run(["no-such-command"]).status == 64)
    }
}
