// `vmstate lint`'s rule checker against deliberately broken tables (Tests/CFixtures/pc/
// lint_broken.c, one planted mistake each) and against the pc-machine tables, which must have
// no errors.

import CFixtures
import CVMState
import Testing

@testable import VMState

/// Every planted mistake: (rule, path) exactly as lint must report it.
let lintPlantedFindings: [(rule: VMStateLint.Rule, path: String)] = [
    (.arrayVarrayExclusive, "broken_array_varray/items"),
    (.varrayExclusive, "broken_varray_flags/items"),
    (.multiplyNeedsVbuffer, "broken_multiply/items"),
    (.allocNeedsPointer, "broken_alloc/items"),
    (.multiplyElementsNeedsCount, "broken_multiply_elements/x"),
    (.structNeedsVmsd, "broken_struct/inner/missing"),
    (.needsInfo, "broken_info/x"),
    (.subsectionName, "broken_subsection/elsewhere/sub"),
    (.subsectionSeparator, "broken_subsection/broken_subsection_extra"),
    (.duplicateField, "broken_duplicate/x"),
    (.duplicateField, "broken_duplicate_version/x"),
    (.duplicateField, "broken_duplicate_equal/y"),
    (.duplicateField, "broken_duplicate_slices/items"),
    (.varrayUnvalidated, "broken_varray_unvalidated/items16"),
    (.unguarded, "broken_unguarded/data"),
    (.outOfBounds, "broken_bounds/inner/far"),
    (.versionRange, "broken_versions"),
    (.fieldVersion, "broken_versions/x"),
    (.recursiveStruct, "broken_recursive/self"),
]

func lintBrokenTables() -> [UnsafePointer<VMStateDescription>] {
    VMStateSchema.descriptions(nullTerminated: pc_lint_broken_vmsd_list())
}

@Suite("Lint")
struct LintTests {
    @Test(
        "each planted mistake is found with its rule id, severity and path",
        arguments: lintPlantedFindings.map { "\($0.rule.rawValue) \($0.path)" })
    func plantedMistakeFound(_ planted: String) throws {
        let parts = planted.split(separator: " ", maxSplits: 1).map(String.init)
        let rule = try #require(VMStateLint.Rule(rawValue: parts[0]))
        let findings = VMStateLint.check(lintBrokenTables())
        let match = findings.first { $0.rule == rule && $0.path == parts[1] }
        #expect(match != nil, "not found; lint said:\n\(findings.map(\.description).joined(separator: "\n"))")
        #expect(match?.severity == rule.severity)
        #expect(match?.message.isEmpty == false)
    }

    /// The tool's `lint` takes each finding as it is found (a description nested at many
    /// places has findings at each: held, 65,536 of them took 311 MB, outputs F2): the same
    /// findings in the same order as those returned, for the broken tables and the pc tables.
    @Test func reportedFindingsAreTheReturnedOnes() {
        for list in [pc_lint_broken_vmsd_list(), pc_device_vmsd_list()] {
            var reported: [String] = []
            VMStateLint.check(nullTerminated: list!) { reported.append($0.description) }
            #expect(reported == VMStateLint.check(nullTerminated: list!).map(\.description))
        }
        var broken: [String] = []
        VMStateLint.check(nullTerminated: pc_lint_broken_vmsd_list()) { broken.append($0.description) }
        #expect(broken.count == lintPlantedFindings.count)
    }

    @Test("the broken tables give exactly the planted findings, nothing else")
    func nothingElse() {
        let findings = VMStateLint.check(lintBrokenTables())
        let got = findings.map { "\($0.rule.rawValue) \($0.path)" }
        let want = lintPlantedFindings.map { "\($0.rule.rawValue) \($0.path)" }
        #expect(got.sorted() == want.sorted(), "\(findings.map(\.description).joined(separator: "\n"))")
    }

    /// Entries of one name without a test that save the same bytes are both saved: a version
    /// bump, an `_EQUAL` check of a saved field, a slice inside the whole array (hostile10 F4:
    /// only identical entries were reported).
    @Test("entries without a test saving the same bytes are reported")
    func savedTwiceWithoutTest() {
        let findings = VMStateLint.check(lintBrokenTables()).filter { $0.path.hasPrefix("broken_duplicate_") }
        #expect(
            findings.map(\.description) == [
                "warning: broken_duplicate_version/x: 2 fields are named \"x\" and two without a test save the same bytes (QEMU saves both: a version does not choose between them, only a field_exists test does); vmdesc calls them x[0]..x[1] [duplicate-field]",
                "warning: broken_duplicate_equal/y: 2 fields are named \"y\" and two without a test save the same bytes (QEMU saves both: a version does not choose between them, only a field_exists test does); vmdesc calls them y[0]..y[1] [duplicate-field]",
                "warning: broken_duplicate_slices/items: 2 fields are named \"items\" and two without a test save the same bytes (QEMU saves both: a version does not choose between them, only a field_exists test does); vmdesc calls them items[0]..items[1] [duplicate-field]",
            ])
    }

    @Test("every rule has a planted example")
    func everyRuleCovered() {
        let covered = Set(lintPlantedFindings.map(\.rule))
        // file-descriptor and missing-end need QEMU 10.0 tables: QEMU10APITests.lintFD and
        // .lintMissingEnd plant them.
        let missing = VMStateLint.Rule.allCases.filter {
            !covered.contains($0) && $0 != .missingName && $0 != .fileDescriptor && $0 != .missingEnd
        }
        #expect(missing.isEmpty, "rules without an example: \(missing)")
    }

    /// VMSTATE_ARRAY_OF_POINTER_TO_STRUCT's size is a pointer's: the struct each element points
    /// to (12 bytes of fields here) is not bounded by it (it was an out-of-bounds error, as on
    /// QEMU's spapr_llan table).
    @Test("an array of pointers to structs is not bounded by the pointer's size")
    func arrayOfPointersToStructs() {
        let findings = withUnsafePointer(to: fx_nic_vmsd) {
            VMStateLint.check($0, structSize: MemoryLayout<FxNICState>.size)
        }
        #expect(findings.filter { $0.severity == .error }.isEmpty, "\(findings.map(\.description))")
    }

    @Test("the pc-machine tables have no errors, also with their struct sizes")
    func pcTablesHaveNoErrors() {
        let findings = VMStateLint.check(nullTerminated: pc_device_vmsd_list())
        let errors = findings.filter { $0.severity == .error }
        #expect(errors.isEmpty, "\(errors.map(\.description).joined(separator: "\n"))")
        for vmsd in pcDevices() {
            let bounded = VMStateLint.check(vmsd, structSize: pc_device_state_size(vmsd))
            #expect(bounded.filter { $0.severity == .error }.isEmpty, "\(bounded)")
        }
    }

    @Test("the pc-machine tables' warnings are the known QEMU quirks")
    func pcTablesWarnings() {
        let findings = VMStateLint.check(nullTerminated: pc_device_vmsd_list())
        let got = Set(findings.map { "\($0.rule.rawValue) \($0.path)" })
        let want: Set<String> = [
            // QEMU names these subsections without the "parent/" convention.
            "subsection-separator apic/apic_sipi",
            "subsection-separator pckbd/kbd/pckbd_outport",
            "subsection-separator ide/bmdma/ide bmdma_current",
            // (No duplicate-field: the names QEMU lists twice on purpose, for other versions or
            // tests (fw_cfg's cur_offset, PCI's config), as slices (the x86 vector registers) or
            // fixed by a macro (mc146818rtc's unused), are different entries.)
        ]
        #expect(got == want, "\(findings.map(\.description).joined(separator: "\n"))")
    }

    /// Entries sharing a name that differ (slices, alternatives, `unused`), a count guarded by
    /// the fields' own tests, an UNUSED varray and an allocated varray: QEMU's devices do all of
    /// these (e1000, PCIDevice, mc146818rtc, virtio-net); with the duplicate made identical, it
    /// is reported.
    @Test("QEMU's own idioms are not reported")
    func idiomsNotReported() throws {
        let idioms = try #require(pc_lint_idioms_vmsd())
        #expect(VMStateLint.check(idioms).map(\.description) == [])
        let fields = try #require(idioms.pointee.fields)
        var copy = Array(UnsafeBufferPointer(start: fields, count: 12))  // 11 fields and the end
        copy[1] = copy[0]  // regs[0..3] twice
        try copy.withUnsafeBufferPointer { list in
            var table = idioms.pointee
            table.fields = list.baseAddress
            let found = withUnsafePointer(to: table) { VMStateLint.check($0) }
            #expect(
                found.map(\.description) == [
                    "warning: idioms/regs: 2 fields are named \"regs\" and two are the same entry (the field is saved "
                        + "twice); vmdesc calls them regs[0]..regs[1] [duplicate-field]"
                ])
            #expect(list.last?.name == nil)  // (still ended)
        }
    }

    /// Thousands of entries of one name (a generated table): checked once per name and in
    /// about linear time (complexity F2: each entry built all pairs again, minutes for 1,024);
    /// slices apart are not reported, one that overlaps another is, and so is one entry twice.
    @Test("many entries of one name: slices apart, one overlapping, one twice")
    func manyEntriesOfOneName() throws {
        let idioms = try #require(pc_lint_idioms_vmsd())
        let first = try #require(idioms.pointee.fields).pointee  // regs[0..3]: 4 x uint32
        #expect(first.size == 4 && first.num == 4)
        func lint(_ entries: [VMStateField]) -> [String] {
            (entries + [VMStateField()]).withUnsafeBufferPointer { list in
                var table = idioms.pointee
                table.fields = list.baseAddress
                return withUnsafePointer(to: table) { VMStateLint.check($0) }.map(\.description)
            }
        }
        var entries = (0..<4096).map { i in
            var f = first
            f.offset = first.offset + 16 * i
            return f
        }
        #expect(lint(entries) == [])
        var overlapping = entries
        overlapping[4000].offset = entries[17].offset + 12
        let saved =
            "two without a test save the same bytes (QEMU saves both: a version does not choose between "
            + "them, only a field_exists test does)"
        #expect(
            lint(overlapping) == [
                "warning: idioms/regs: 4096 fields are named \"regs\" and \(saved); vmdesc calls them "
                    + "regs[0]..regs[4095] [duplicate-field]"
            ])
        entries[3000] = entries[5]
        #expect(
            lint(entries) == [
                "warning: idioms/regs: 4096 fields are named \"regs\" and two are the same entry (the field is saved "
                    + "twice); vmdesc calls them regs[0]..regs[4095] [duplicate-field]"
            ])
    }

    @Test("a guarded count is not reported: VMSTATE_VALIDATE (hpet) and an _equal count (PCIBUS)")
    func guardsRecognised() throws {
        let hpet = try #require(pc_device_vmsd_named("hpet"))
        let pcibus = try #require(pc_device_vmsd_named("PCIBUS"))
        #expect(VMStateLint.check(hpet).isEmpty)
        #expect(VMStateLint.check(pcibus).isEmpty)
    }

    @Test("structSize bounds the top level")
    func topLevelBound() throws {
        let rtc = try #require(pc_device_vmsd_named("mc146818rtc"))
        let size = pc_device_state_size(rtc)
        #expect(VMStateLint.check(rtc, structSize: size).filter { $0.rule == .outOfBounds }.isEmpty)
        let tooSmall = VMStateLint.check(rtc, structSize: 64).filter { $0.rule == .outOfBounds }
        // cmos_data covers bytes 0..<128: past a 64-byte struct.
        #expect(tooSmall.contains { $0.path == "mc146818rtc/cmos_data" })
    }

    @Test("finding text")
    func findingText() {
        let f = VMStateLint.Finding(rule: .needsInfo, path: "a/b", message: "no info")
        #expect(f.description == "error: a/b: no info [needs-info]")
        #expect(f.severity == .error)
        #expect(VMStateLint.Rule.duplicateField.severity == .warning)
    }
}
