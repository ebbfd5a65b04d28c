import Testing
import VMState
import VMStateAnalysis

/// `vmstate compat` rule by rule on the hand-written dumps of Tests/Fixtures/compat, and on the
/// `-dump-vmstate` files of QEMU 7.2 and 10.0, each compared with what QEMU 10.0's
/// `scripts/vmstate-static-checker.py` printed on the same pair
/// (Tests/Fixtures/compat/static-checker, made by scripts/qemu/make-compat-fixtures).
@Suite struct CompatRuleTests {
    static let dir = TestPaths.packageRoot + "/Tests/Fixtures/compat"

    static func dump(_ name: String) throws -> JSONValue { try TestPaths.readJSON("\(dir)/\(name).json") }

    /// What vmstate-static-checker.py printed with `-s OLD -d NEW` (the fixtures' paths).
    static func script(_ old: String, _ new: String) throws -> String {
        func key(_ p: String) -> String {
            String(p.dropLast(p.hasSuffix(".json") ? 5 : 0)).replacingOccurrences(of: "/", with: "_")
        }
        return try TestPaths.readText("\(dir)/static-checker/\(key(old))--\(key(new)).txt")
    }

    static func check(_ old: JSONValue, _ new: JSONValue, _ configure: (inout CompatChecker) -> Void = { _ in })
        -> CompatReport
    {
        var checker = CompatChecker()
        configure(&checker)
        do {
            return try checker.check(old: old, new: new)
        } catch {
            Issue.record("bad input: \(error)")
            return CompatReport()
        }
    }

    static func check(_ old: String, _ new: String) throws -> CompatReport {
        check(try dump(old), try dump(new))
    }

    /// QEMU 7.2 describes an array of struct pointers whose first element was NULL (s390's
    /// `s390_css` `css`) with an empty "struct": a vmdesc with it compares (as a field without a
    /// nested description, whose NULL entries are undecided), and `analyze` says why such a
    /// vmdesc cannot describe the section's bytes.
    @Test func aQEMU72EmptyStructEntry() throws {
        let vmdesc = try JSONValue(
            parsing:
                #"{"page_size": 4096, "devices": [{"name": "s390_css", "instance_id": 0, "vmsd_name": "s390_css", "version": 1, "fields": [{"name": "css", "array_len": 256, "type": "struct", "struct": {}, "size": 1}, {"name": "default_cssid", "type": "uint8", "size": 1}]}]}"#
        )
        let set = try DescriptionSet(vmdesc, label: "OLD")
        let css = try #require(set.entries.first?.value["Description"]?.objectValue?["Fields"]?.arrayValue?.first)
        #expect(
            css == [
                "field": "css", "version_id": 0, "field_exists": false, "size": 256, "type": "struct", "array_len": 256,
                "first_entry_null": true,
            ])
        let report = Self.check(set.document, set.document) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
        }
        #expect(report.isCompatible && report.findings.isEmpty && report.undecided == 1)
        #expect(
            report.warnings == [
                #"section "s390_css", description "s390_css", field "css": an array of pointers with NULL entries (OLD: 0, and further ones not described; NEW: 0, and further ones not described): QEMU loads it only when the same entries are NULL on both sides, which OLD does not say (QEMU 7.2's vmdesc describes an array by its first entry only)"#
            ])
        let be32 = { (v: UInt32) in withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        let json = Array(vmdesc.formatted(.pythonCompact).utf8)
        let stream =
            Array("QEVM".utf8) + be32(3) + [0x04] + be32(1) + [8] + Array("s390_css".utf8) + be32(0) + be32(1)
            + [UInt8](repeating: 0x30, count: 256) + [0xFE] + [0x00, 0x06] + be32(UInt32(json.count)) + json
        let e = try #require(streamError(stream))
        #expect(
            e.message.hasSuffix(
                #"devices[0] ("s390_css").fields[0] ("css"): an empty "struct": QEMU 7.2 described this array of pointers by its first element, which was NULL, so the elements that are not have no description and the section cannot be read from this vmdesc (QEMU 8.2 and later describe NULL and other elements apart)"#
            ), "\(e.message)")
    }

    /// Sections of one idstr and instance (QEMU 7.2's isapc `isa-ide`): each OLD one is checked
    /// against NEW's first, which QEMU loads them all into (`find_se`); from a vmdesc, which
    /// holds no state, whether the copies differ is undecided.
    @Test func sectionsOfOneKeyAllLoadIntoNEWsFirst() throws {
        func vmdesc(_ versions: [Int]) throws -> JSONValue {
            try Self.vmdesc(
                devices: versions.map {
                    Self.vmdescDevice("dev", version: $0, fields: #"{"name": "a", "type": "uint32", "size": 4}"#)
                }
            ).document
        }
        // (A finding in the second names that copy.)
        for (old, label) in [([9, 1], "dev"), ([1, 9], "dev (2nd section)")] {
            let report = Self.check(try vmdesc(old), try vmdesc([1, 1])) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }
            #expect(
                report.findings.map(\.text) == [
                    #"section "\#(label)", description "dev": version 9 in OLD, but only 1 in NEW: NEW cannot load the newer state [version]"#
                ], "\(old)")
            #expect(report.findings.map(\.section) == [label])
            #expect(
                report.warnings == [
                    #"section "dev": OLD saves 2 sections "dev" (one idstr and instance: QEMU 7.2's isapc saves its isa-ide channels all as instance 0); QEMU finds the device a section loads into by idstr and instance, the first it has (find_se), so it loads all 2 into NEW's first "dev" device, which ends with the last one's state, and NEW's other devices of that idstr and instance, if any, keep theirs: fine when the 2 hold the same state, which a vmdesc does not tell (compare OLD's stream)"#
                ] && report.undecided == 1, "\(report.warnings)")
        }
        // NEW's second is never loaded: OLD's second goes to NEW's first, of version 1.
        let same = Self.check(try vmdesc([1, 9]), try vmdesc([1, 9])) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
        }
        #expect(
            same.findings.map(\.text) == [
                #"section "dev (2nd section)", description "dev": version 9 in OLD, but only 1 in NEW: NEW cannot load the newer state [version]"#
            ])
        // Told the copies hold the same state (as OLD's stream would): no warning.
        let identical = Self.check(try vmdesc([1, 1]), try vmdesc([1, 1])) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
            $0.oldRepeatedSections = ["dev": false]
        }
        #expect(identical.isCompatible && identical.findings.isEmpty && identical.warnings.isEmpty)
        let differing = Self.check(try vmdesc([1, 1]), try vmdesc([1, 1])) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
            $0.oldRepeatedSections = ["dev": true]
        }
        #expect(differing.findings.map(\.kind) == [.sectionRepeated] && differing.warnings.isEmpty)
        // Missing in NEW: each named apart.
        let other = try Self.vmdesc(devices: [
            Self.vmdescDevice("other", fields: #"{"name": "a", "type": "uint32", "size": 4}"#)
        ])
        let missing = Self.check(try vmdesc([1, 1]), other.document) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
        }
        #expect(
            missing.findings.map(\.text) == [
                #"section "dev": section "dev" does not exist in NEW: QEMU refuses the stream ("Unknown savevm section or instance 'dev' 0. ..."): its device is not in NEW's machine (a -device, -smp for cpu, a -netdev user for slirp) [section-missing]"#,
                #"section "dev (2nd section)": section "dev (2nd section)" does not exist in NEW: QEMU refuses the stream ("Unknown savevm section or instance 'dev' 0. ..."): its device is not in NEW's machine (a -device, -smp for cpu, a -netdev user for slirp) [section-missing]"#,
            ])
        // Only in NEW: its second and later of a name beyond OLD's, named so; all of a name OLD
        // lacks.
        let extra = Self.check(try vmdesc([1]), try vmdesc([1, 1, 1])) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
        }
        #expect(extra.isCompatible && extra.findings.isEmpty)
        #expect(
            extra.warnings == [
                "NEW has 2 sections that OLD does not save: dev (2nd section), dev (3rd section); QEMU loads OLD's state, and those devices keep the state they had before the load"
            ])
        let others = Self.check(other.document, try vmdesc([1, 1])) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
        }
        #expect(
            others.warnings == [
                "NEW has 2 sections that OLD does not save: dev, dev (2nd section); QEMU loads OLD's state, and those devices keep the state they had before the load"
            ])
    }

    /// An array of structs described per element ("index": QEMU's form when the element's
    /// description has subsections) and as one entry ("array_len") is compared per element:
    /// compatible when the elements are alike, a problem when one element gained a field.
    @Test func anArrayDescribedPerElementAndAsOneEntry() throws {
        func element(_ index: Int?, extra: Bool = false, arrayLength: Int? = nil) -> String {
            let fields =
                #"{"name": "a", "type": "uint32", "size": 4}"#
                + (extra ? #", {"name": "b", "type": "uint32", "size": 4}"# : "")
            return #"{"name": "x", "#
                + (index.map { #""index": \#($0), "# } ?? "") + (arrayLength.map { #""array_len": \#($0), "# } ?? "")
                + #""type": "struct", "struct": {"vmsd_name": "el", "version": 1, "fields": [\#(fields)]}, "size": \#(extra ? 8 : 4)}"#
        }
        func vmdesc(_ fields: [String]) throws -> JSONValue {
            let tail = #"{"name": "tail", "type": "uint32", "size": 4}"#
            return try Self.vmdesc(devices: [
                Self.vmdescDevice("dev", fields: (fields + [tail]).joined(separator: ", "))
            ])
            .document
        }
        let compressed = try vmdesc([element(nil, arrayLength: 3)])
        let perElement = try vmdesc([element(0), element(1), element(nil)])
        let grown = try vmdesc([element(0), element(1, extra: true), element(nil)])
        func compare(_ a: JSONValue, _ b: JSONValue) -> CompatReport {
            Self.check(a, b) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }
        }
        for (a, b) in [(compressed, perElement), (perElement, compressed)] {
            let report = compare(a, b)
            #expect(report.isCompatible && report.warnings.isEmpty && report.undecided == 0, "\(report.warnings)")
        }
        #expect(
            compare(compressed, grown).findings.map(\.text) == [
                #"section "dev", description "el", field "b": NEW saves this field (one uint32) after OLD's last saved field and reads it from OLD's stream, but OLD does not save it (a vmdesc shows no entry for an empty variable-size array, and NEW's shows one value, not an array) [field-added]"#
            ])
    }

    /// QEMU writes an array of structs as one entry with "array_len" only when the element's
    /// description, and those of its VMS_STRUCT fields, have no subsections
    /// (`vmsd_can_compress`): a subsection OLD's elements saved against such an entry of NEW is
    /// a problem (QEMU's load: "unknown subsection"), not a subsection NEW did not need.
    @Test func aSubsectionAgainstAnArrayNEWDescribesAsOneEntry() throws {
        let sub = #"{"vmsd_name": "el/sub", "version": 1, "fields": [{"name": "v", "type": "uint32", "size": 4}]}"#
        // `inner`: the subsection is the element's (false) or its struct field's (true).
        func element(_ index: Int?, subsection: Bool, inner: Bool = false, arrayLength: Int? = nil) -> String {
            let subs = subsection ? #", "subsections": [\#(sub)]"# : ""
            let fields =
                inner
                ? #"{"name": "in", "type": "struct", "struct": {"vmsd_name": "in", "version": 1, "fields": [{"name": "v", "type": "uint32", "size": 4}]\#(subs)}, "size": 4}"#
                : #"{"name": "v", "type": "uint32", "size": 4}"#
            return #"{"name": "x", "#
                + (index.map { #""index": \#($0), "# } ?? "") + (arrayLength.map { #""array_len": \#($0), "# } ?? "")
                + #""type": "struct", "struct": {"vmsd_name": "el", "version": 1, "fields": [\#(fields)]\#(inner ? "" : subs)}, "size": 4}"#
        }
        func vmdesc(_ fields: [String]) throws -> JSONValue {
            try Self.vmdesc(devices: [Self.vmdescDevice("dev", fields: fields.joined(separator: ", "))]).document
        }
        func compare(_ a: JSONValue, _ b: JSONValue) -> CompatReport {
            Self.check(a, b) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }
        }
        let withSub = try vmdesc([element(0, subsection: true), element(nil, subsection: true)])
        let compressed = try vmdesc([element(nil, subsection: false, arrayLength: 2)])
        let problem =
            #"subsection "el/sub" does not exist in NEW (NEW's vmdesc describes an array of "el", or of a struct holding it, as one entry with "array_len", which QEMU writes only for descriptions without subsections) [subsection-missing]"#
        let report = compare(withSub, compressed)
        // (Found in each element: said once, with how many.)
        let twice = problem.replacingOccurrences(of: ") [", with: ") (the same in 2 elements) [")
        #expect(report.findings.map(\.text) == [#"section "dev", description "el": "# + twice])
        #expect(report.warnings.isEmpty && !report.isCompatible)
        #expect(compare(compressed, withSub).isCompatible)
        // The subsection of a struct field of the elements: NEW's one entry says none either.
        let innerSub = try vmdesc([
            element(0, subsection: true, inner: true), element(nil, subsection: true, inner: true),
        ])
        let innerNone = try vmdesc([element(nil, subsection: false, inner: true, arrayLength: 2)])
        #expect(
            compare(innerSub, innerNone).findings.map(\.text) == [
                #"section "dev", description "in": "#
                    + twice.replacingOccurrences(of: #"array of "el""#, with: #"array of "in""#)
            ])
        // NEW described per element ("index"): its description may have the subsection, which
        // its save did not need (a warning, as for any subsection a vmdesc did not save).
        let perElement = try vmdesc([element(0, subsection: false), element(nil, subsection: false)])
        let needless = compare(withSub, perElement)
        #expect(needless.findings.isEmpty && needless.warnings.count == 2)
        // An array of pointers with NULL entries (A.AA), NEW's runs that are not NULL with
        // "array_len": QEMU 10.0's form for a compressible element, so no subsections either
        // (verify13 R2: a warning, "compatible"); OLD's one entry per element, NULL ones too.
        let null = #"{"name": "x", "type": "nullptr", "size": 1}"#
        let nullsWithSub = try vmdesc([
            element(0, subsection: true), null, element(2, subsection: true), element(nil, subsection: true),
        ])
        let nullsCompressed = try vmdesc([
            element(nil, subsection: false, arrayLength: 4), null, element(nil, subsection: false, arrayLength: 2),
        ])
        let nullsReport = compare(nullsWithSub, nullsCompressed)
        #expect(nullsReport.findings.map(\.text) == [#"section "dev", description "el": "# + problem])
        #expect(nullsReport.warnings.isEmpty && !nullsReport.isCompatible)
        #expect(compare(nullsCompressed, nullsWithSub).isCompatible)
        // NEW's runs each of one element (.A.A): no "array_len", no proof (a warning).
        let alternating = try vmdesc([null, element(nil, subsection: false), null, element(nil, subsection: false)])
        let alternatingWithSub = try vmdesc([
            null, element(nil, subsection: true), null, element(nil, subsection: true),
        ])
        let unproven = compare(alternatingWithSub, alternating)
        #expect(unproven.findings.isEmpty && unproven.warnings.count == 1 && unproven.isCompatible)
    }

    /// QEMU 10.0 describes an array of pointers with NULL entries as runs of one name (NULL
    /// ones as `nullptr`): one field of the whole array's length, whose NULL entries two
    /// vmdescs compare (QEMU loads an entry as NULL where its own pointer is NULL), whose length
    /// is compared, and whose entries' description is checked like any nested one.
    @Test func arraysOfPointersWithNullEntries() throws {
        func vmdesc(_ runs: String) throws -> DescriptionSet {
            try Self.vmdesc(devices: [
                Self.vmdescDevice(
                    "s390_css", fields: runs + #", {"name": "default_cssid", "type": "uint8", "size": 1}"#)
            ])
        }
        func image(_ field: String) -> String {
            #"{"vmsd_name": "s390_css_img", "version": 1, "fields": [{"name": "\#(field)", "type": "uint8", "size": 768}]}"#
        }
        let (chpids, renamed) = (image("chpids"), image("chp"))
        func runs(_ before: Int, _ after: Int, image: String = chpids) -> String {
            #"{"name": "css", "array_len": \#(before), "type": "nullptr", "size": 1}, {"name": "css", "type": "struct", "struct": \#(image), "size": 768}, {"name": "css", "array_len": \#(after), "type": "nullptr", "size": 1}"#
                .replacingOccurrences(of: #""array_len": 1, "#, with: "")
        }
        let tenOh = try vmdesc(runs(254, 1))
        let css = try #require(tenOh.entries.first?.value["Description"]?.objectValue?["Fields"]?.arrayValue?.first)
        #expect(css.objectValue?["field"] == "css")
        #expect(css.objectValue?["array_len"] == 256)
        #expect(css.objectValue?["size"] == 1023)
        #expect(css.objectValue?["type"] == "struct")
        #expect(css.objectValue?["null_entries"] == "0-253, 255")
        #expect(css.objectValue?["Description"]?.objectValue?["name"] == "s390_css_img")
        #expect(tenOh.entries.first?.value["Description"]?.objectValue?["Fields"]?.arrayValue?.count == 2)
        // All NULL: one nullptr field, marked as such.
        let allNull = try vmdesc(#"{"name": "css", "array_len": 256, "type": "nullptr", "size": 1}"#)
        let nulls = try #require(allNull.entries.first?.value["Description"]?.objectValue?["Fields"]?.arrayValue?.first)
        #expect(nulls.objectValue?["null_entries"] == "0-255")
        func compare(_ a: DescriptionSet, _ b: DescriptionSet) -> CompatReport {
            Self.check(a.document, b.document) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }
        }
        let same = compare(tenOh, tenOh)
        #expect(same.isCompatible && same.warnings.isEmpty && same.undecided == 0)
        let moved = compare(tenOh, try vmdesc(runs(253, 2)))
        #expect(
            moved.findings.map(\.text) == [
                #"section "s390_css", description "s390_css", field "css": an array of pointers whose NULL entries (one marker byte each) are 0-253, 255 in OLD and 0-252, 254-255 in NEW: QEMU loads an entry as NULL where its own pointer is NULL, so the same ones must be [null-entries]"#
            ])
        let none = compare(tenOh, allNull)
        #expect(none.findings.map(\.kind) == [.nullEntries])
        let longer = compare(tenOh, try vmdesc(runs(254, 2)))
        #expect(
            longer.findings.map(\.text) == [
                #"section "s390_css", description "s390_css", field "css": array length changed from 256 in OLD to 257 in NEW (an array of pointers) [size]"#
            ])
        // The entries' description is compared as a nested one.
        let other = compare(tenOh, try vmdesc(runs(254, 1, image: renamed)))
        #expect(other.findings.map(\.kind) == [.fieldMismatch], "\(other.findings)")
        // Entries that are not NULL without a description on one side, and of another size.
        let u64 =
            #"{"name": "css", "array_len": 254, "type": "nullptr", "size": 1}, {"name": "css", "type": "uint64", "size": 8}, {"name": "css", "type": "nullptr", "size": 1}"#
        let scalar = try vmdesc(u64)
        #expect(
            compare(tenOh, scalar).findings.map(\.text) == [
                #"section "s390_css", description "s390_css", field "css": the entries that are not NULL of an array of pointers have description "s390_css_img" in OLD, none in NEW [description-missing]"#
            ])
        #expect(
            compare(
                scalar, try vmdesc(u64.replacingOccurrences(of: #""uint64", "size": 8"#, with: #""uint32", "size": 4"#))
            )
            .findings.map(\.text) == [
                #"section "s390_css", description "s390_css", field "css": size changed from 263 bytes in OLD to 259 bytes in NEW (the entries that are not NULL of an array of pointers) [size]"#
            ])
        // Runs of entries that are not NULL described two ways (QEMU saves them with one field),
        // and runs of NULL entries side by side (one range).
        let twoWays = try vmdesc(runs(100, 1) + ", " + runs(152, 1, image: renamed))
        #expect(
            compare(tenOh, twoWays).findings.map(\.text) == [
                #"section "s390_css", description "s390_css", field "css": NEW describes the entries that are not NULL of an array of pointers in more than one way, where QEMU saves them all with one field: not compared [field-mismatch]"#
            ])
        let split = try vmdesc(
            #"{"name": "css", "array_len": 100, "type": "nullptr", "size": 1}, "# + runs(154, 1))
        let splitCSS = split.entries.first?.value["Description"]?.objectValue?["Fields"]?.arrayValue?.first
        #expect(splitCSS?.objectValue?["null_entries"] == "0-253, 255")
        #expect(compare(tenOh, split).isCompatible)
        // An array that starts with an entry that is not NULL: QEMU 10.0 gives that first run
        // the whole array's length (a real stream: entries 0, 3 and 254 not NULL).
        let entry = #"{"name": "css", "type": "struct", "struct": \#(chpids), "size": 768}"#
        let startsSet = try vmdesc(
            entry.replacingOccurrences(of: #""name": "css", "#, with: #""name": "css", "array_len": 256, "#)
                + #", {"name": "css", "array_len": 2, "type": "nullptr", "size": 1}, "# + entry
                + #", {"name": "css", "array_len": 250, "type": "nullptr", "size": 1}, "# + entry
                + #", {"name": "css", "type": "nullptr", "size": 1}"#)
        let startsCSS = try #require(
            startsSet.entries.first?.value["Description"]?.objectValue?["Fields"]?.arrayValue?.first?.objectValue)
        #expect(startsCSS["array_len"] == 256 && startsCSS["null_entries"] == "1-2, 4-253, 255")
        #expect(startsCSS["size"] == 2557)  // three entries of 768 bytes, 253 NULL markers
        #expect(
            compare(startsSet, tenOh).findings.map(\.text) == [
                #"section "s390_css", description "s390_css", field "css": an array of pointers whose NULL entries (one marker byte each) are 1-2, 4-253, 255 in OLD and 0-253, 255 in NEW: QEMU loads an entry as NULL where its own pointer is NULL, so the same ones must be [null-entries]"#
            ])
    }

    /// QEMU 7.2 (and this library's default API) describes each element of an array of
    /// pointers that is not compressible apart, with its index, a NULL one as an empty "struct"
    /// of its one marker byte: a NULL entry, compared with QEMU 10.0's "nullptr" (verify13 R1:
    /// identical patterns were "NOT compatible", the 7.2 side read as having none).
    @Test func aQEMU72PerElementArrayOfPointersHasItsNullEntries() throws {
        let element =
            #""type": "struct", "struct": {"vmsd_name": "elem", "version": 1, "fields": [{"name": "v", "type": "uint32", "size": 4}]}, "size": 4"#
        func vmdesc(_ pattern: String, qemu10: Bool) throws -> JSONValue {
            let entries = pattern.enumerated().map { i, c in
                c == "A"
                    ? #"{"name": "arr", "index": \#(i), \#(element)}"#
                    : qemu10
                        ? #"{"name": "arr", "type": "nullptr", "size": 1}"#
                        : #"{"name": "arr", "index": \#(i), "type": "struct", "struct": {}, "size": 1}"#
            }
            return try Self.oneDevice(entries.joined(separator: ", "))
        }
        func check(_ a: JSONValue, _ b: JSONValue) -> CompatReport {
            Self.check(a, b) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }
        }
        for (a, b) in [(false, true), (true, false), (false, false)] {
            let same = check(try vmdesc("AAA.", qemu10: a), try vmdesc("AAA.", qemu10: b))
            #expect(same.isCompatible && same.findings.isEmpty && same.undecided == 0, "\(same.text())")
        }
        #expect(
            check(try vmdesc("AAA.", qemu10: false), try vmdesc("AAAA", qemu10: false)).findings.map(\.text) == [
                #"section "dev", description "dev", field "arr": an array of pointers whose NULL entries (one marker byte each) are 3 in OLD and none in NEW: QEMU loads an entry as NULL where its own pointer is NULL, so the same ones must be [null-entries]"#
            ])
        #expect(
            check(try vmdesc("A.AA", qemu10: false), try vmdesc("AA.A", qemu10: true)).findings.map(\.text) == [
                #"section "dev", description "dev", field "arr": an array of pointers whose NULL entries (one marker byte each) are 1 in OLD and 2 in NEW: QEMU loads an entry as NULL where its own pointer is NULL, so the same ones must be [null-entries]"#
            ])
    }

    /// QEMU 10.0's vmdesc entries of an array of pointers whose element description is not
    /// compressible (it has subsections: `VMSTATE_ARRAY_CLOCK`'s clocks) are one per element,
    /// NULL ones too ("index" on some that are not NULL; "array_len" on NULL ones that is the
    /// run's length at its start, then the rest of the array's): read as one entry per element,
    /// so the NULL entries compared are the real ones, against a compressible description of
    /// the same array too, and against one per element without NULL entries ("none").
    @Test func arraysOfPointersDescribedPerElementWithNullEntries() throws {
        // QEMU 10.0's `vmstate_save_state_v` for `pattern` ("A" not NULL, "." NULL).
        func entries(_ pattern: String, compressible: Bool) -> [String] {
            let p = Array(pattern), n = p.count
            var out: [String] = [], previousNull = false, described = true
            for i in 0..<n {
                let null = p[i] == "."
                var most = n - i
                if null != previousNull {
                    previousNull = null
                    described = true
                    if let j = (i + 1..<n).first(where: { (p[$0] == ".") != null }) { most = j - i }
                }
                if described {
                    let count =
                        most < 2 ? "" : null || compressible ? #""array_len": \#(most), "# : #""index": \#(i), "#
                    out.append(
                        #"{"name": "arr", "# + count
                            + (null
                                ? #""type": "nullptr", "size": 1}"#
                                : #""type": "struct", "struct": {"vmsd_name": "elem", "version": 1, "fields": [{"name": "v", "type": "uint32", "size": 4}]}, "size": 4}"#)
                    )
                }
                if compressible { described = false }
            }
            return out
        }
        func vmdesc(_ pattern: String, compressible: Bool) throws -> DescriptionSet {
            try Self.vmdesc(devices: [
                Self.vmdescDevice(
                    "dev",
                    fields: (entries(pattern, compressible: compressible)
                        + [#"{"name": "after", "type": "uint8", "size": 1}"#]).joined(separator: ", "))
            ])
        }
        func arr(_ set: DescriptionSet) -> JSONObject? {
            set.entries.first?.value["Description"]?.objectValue?["Fields"]?.arrayValue?.first?.objectValue
        }
        func compare(_ a: DescriptionSet, _ b: DescriptionSet) -> CompatReport {
            Self.check(a.document, b.document) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }
        }
        #expect(
            entries("A..A", compressible: false) == [
                #"{"name": "arr", "index": 0, "type": "struct", "struct": {"vmsd_name": "elem", "version": 1, "fields": [{"name": "v", "type": "uint32", "size": 4}]}, "size": 4}"#,
                #"{"name": "arr", "array_len": 2, "type": "nullptr", "size": 1}"#,
                #"{"name": "arr", "array_len": 2, "type": "nullptr", "size": 1}"#,
                #"{"name": "arr", "type": "struct", "struct": {"vmsd_name": "elem", "version": 1, "fields": [{"name": "v", "type": "uint32", "size": 4}]}, "size": 4}"#,
            ])
        for (pattern, nulls, size) in [("A..A", "1-2", 10), ("....", "0-3", 4), ("A.AA", "1", 13), ("AA.A", "2", 13)] {
            let field = try #require(arr(try vmdesc(pattern, compressible: false)))
            #expect(field["array_len"] == 4 && field["null_entries"] == .string(nulls), "\(pattern)")
            #expect(field["size"] == .number(JSONNumber(size)) && field["entries_differ"] == nil, "\(pattern)")
        }
        // Subsections are saved where an element needs them: those of any element, once.
        var needed = entries("A.AA", compressible: false)
        needed[2] = needed[2].replacingOccurrences(
            of: #""size": 4}]}"#,
            with: #""size": 4}], "subsections": [{"vmsd_name": "elem/sub", "version": 1, "fields": []}]}"#)
        let withSub = try Self.vmdesc(devices: [Self.vmdescDevice("dev", fields: needed.joined(separator: ", "))])
        let subField = try #require(arr(withSub))
        #expect(subField["entries_differ"] == nil && subField["null_entries"] == "1")
        #expect(
            subField["Description"]?.objectValue?["Subsections"]
                == [["name": "elem/sub", "version_id": 1, "Fields": []]])
        let moved = compare(try vmdesc("A.AA", compressible: false), try vmdesc("AA.A", compressible: false))
        #expect(
            moved.findings.map(\.text) == [
                #"section "dev", description "dev", field "arr": an array of pointers whose NULL entries (one marker byte each) are 1 in OLD and 2 in NEW: QEMU loads an entry as NULL where its own pointer is NULL, so the same ones must be [null-entries]"#
            ])
        // The element gained a subsection (not needed): the same bytes, which QEMU loads.
        for pattern in ["....", ".AAA", "A.AA", "AAA."] {
            let report = compare(try vmdesc(pattern, compressible: true), try vmdesc(pattern, compressible: false))
            #expect(report.isCompatible && report.findings.isEmpty && report.warnings.isEmpty, "\(pattern)")
        }
        // Per element, none NULL: every element is shown, so none is.
        #expect(
            compare(try vmdesc("A..A", compressible: false), try vmdesc("AAAA", compressible: false)).findings.map(
                \.text) == [
                    #"section "dev", description "dev", field "arr": an array of pointers whose NULL entries (one marker byte each) are 1-2 in OLD and none in NEW: QEMU loads an entry as NULL where its own pointer is NULL, so the same ones must be [null-entries]"#
                ])
        #expect(
            compare(try vmdesc("AAAA", compressible: false), try vmdesc("A.AA", compressible: true)).findings.map(
                \.kind)
                == [.nullEntries])
        #expect(
            StreamDiff(descriptions: try vmdesc("A..A", compressible: false), try vmdesc("AAAA", compressible: false))
                .differences.map(\.b) == [#"struct x 4, description "elem", 4 bytes, NULL entries none"#])
    }

    /// QEMU 10.0 describes each run of an array of pointers by the run's first element as saved:
    /// sizes of what the element's state decides (a `VMSTATE_VBUFFER*` buffer, a nested
    /// VARRAY's length, a nested array that was empty and has no entry) differ between runs of
    /// one save, which compares equal with itself; what is the field's (a fixed-width type's
    /// size, a nested field's name) differing is still not QEMU's.
    @Test func runsOfAnArrayOfPointersWhoseEntriesSavedOtherSizes() throws {
        func element(_ fields: String, size: Int, arrayLength: Int? = nil) -> String {
            #"{"name": "arr", "# + (arrayLength.map { #""array_len": \#($0), "# } ?? "")
                + #""type": "struct", "struct": {"vmsd_name": "elem", "version": 1, "fields": [\#(fields)]}, "size": \#(size)}"#
        }
        let len = #"{"name": "len", "type": "uint32", "size": 4}"#
        func buffer(_ n: Int) -> String { #"{"name": "buf", "type": "buffer", "size": \#(n)}"# }
        let null = #"{"name": "arr", "type": "nullptr", "size": 1}"#
        func vmdesc(_ first: String, _ second: String, elementSizes: Bool = false) throws -> DescriptionSet {
            // Entries 0 and 2-3 not NULL (QEMU 10.0 gives the first run the whole length).
            try Self.vmdesc(
                devices: [
                    Self.vmdescDevice(
                        "dev",
                        fields: [
                            #"{"name": "before", "type": "uint8", "size": 1}"#, first, null, second,
                            #"{"name": "after", "type": "uint8", "size": 1}"#,
                        ]
                        .joined(separator: ", "))
                ], elementSizes: elementSizes)
        }
        func merged(_ set: DescriptionSet) -> JSONObject? {
            set.entries.first?.value["Description"]?.objectValue?["Fields"]?.arrayValue?[1].objectValue
        }
        func compare(_ a: DescriptionSet, _ b: DescriptionSet) -> CompatReport {
            Self.check(a.document, b.document) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }
        }
        // Element 0's buffer 2 bytes, elements 2-3's 6 (a save of the library's QEMU 10.0 writer).
        let buffers = try vmdesc(
            element(len + ", " + buffer(2), size: 6, arrayLength: 4),
            element(len + ", " + buffer(6), size: 10, arrayLength: 2))
        let arr = try #require(merged(buffers))
        #expect(arr["entries_differ"] == nil && arr["null_entries"] == "1" && arr["array_len"] == 4)
        #expect(arr["size"] == 27)  // 6 + 1 + 2 x 10
        let same = compare(buffers, buffers)
        #expect(same.isCompatible && same.findings.isEmpty && same.warnings.isEmpty, "\(same.findings)")
        // As `diff` reads it (sizes per element): one entry's size, the first run's.
        let perElement = try vmdesc(
            element(len + ", " + buffer(2), size: 6, arrayLength: 4),
            element(len + ", " + buffer(6), size: 10, arrayLength: 2), elementSizes: true)
        #expect(merged(perElement)?["entries_differ"] == nil && merged(perElement)?["size"] == 6)
        // A nested array of 3 in one element, empty (no entry) in the other.
        let varray = #"{"name": "regs", "array_len": 3, "type": "uint16", "size": 6}"#
        let emptyOrNot = try vmdesc(
            element(len + ", " + varray, size: 10, arrayLength: 4), element(len, size: 4, arrayLength: 2))
        #expect(merged(emptyOrNot)?["entries_differ"] == nil)
        #expect(compare(emptyOrNot, emptyOrNot).isCompatible)
        // A fixed-width field's size, or a value QEMU always writes, differing: not QEMU's.
        let wider = #"{"name": "len", "type": "uint32", "size": 8}"#
        let second = #"{"name": "other", "type": "uint8", "size": 1}"#
        for (a, b) in [(len, wider), (len + ", " + second, len)] {
            let twoWays = try vmdesc(element(a, size: 4, arrayLength: 4), element(b, size: 4, arrayLength: 2))
            #expect(merged(twoWays)?["entries_differ"] == true)
            #expect(
                compare(twoWays, twoWays).findings.map(\.text) == [
                    #"section "dev", description "dev", field "arr": OLD describes the entries that are not NULL of an array of pointers in more than one way, where QEMU saves them all with one field: not compared [field-mismatch]"#
                ])
        }
    }

    /// Field sizes by the field's VMStateInfo (QEMU 7.2's and 10.0's `put` functions): two
    /// vmdescs that give a fixed-size type two sizes (MIPS's `tlb_entry`, 28 bytes in QEMU 7.2,
    /// 32 in 10.0: QEMU 10.0 refuses 7.2's "cpu" with "Missing section footer") have a size
    /// problem, while a type that writes what the state needs (`virtio`) only warns; against a
    /// `-dump-vmstate` file, whose sizes are the table's, a type that writes another number of
    /// bytes than its table's (AVR's `sreg`: 1 byte of the 216-byte CPU state) is not compared,
    /// a plain integer is.
    @Test func fieldSizesByTheirType() throws {
        func vmdesc(_ type: String, _ size: Int) throws -> JSONValue {
            try DescriptionSet(
                [
                    "page_size": 4096,
                    "devices": [
                        [
                            "name": "cpu", "instance_id": 0, "vmsd_name": "cpu", "version": 1,
                            "fields": [["name": "env", "type": .string(type), "size": .number(JSONNumber(size))]],
                        ]
                    ],
                ], label: "x"
            ).document
        }
        func vmdescs(_ old: JSONValue, _ new: JSONValue) -> CompatReport {
            Self.check(old, new) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }
        }
        let tlb = vmdescs(try vmdesc("tlb_entry", 28), try vmdesc("tlb_entry", 32))
        #expect(
            tlb.findings.map { "\($0.section)|\($0.field ?? "")|\($0.kind.rawValue)|\($0.message)" } == [
                "cpu|env|size|size changed from 28 bytes in OLD to 32 bytes in NEW"
            ])
        let virtio = vmdescs(try vmdesc("virtio", 28), try vmdesc("virtio", 32))
        #expect(virtio.findings.isEmpty)
        // (Undecided: virtio-net with queues=2 and queues=1 differ so, and QEMU refuses those.)
        #expect(virtio.undecided == 1)
        #expect(
            virtio.warnings == [
                "section \"cpu\", description \"cpu\", field \"env\": size 28 bytes in OLD, 32 bytes in NEW; its type (virtio) writes as many bytes as the state saved needs, so two saves may differ, and so do devices made with other options (virtio-net's queues=), some of which QEMU refuses (not compared)"
            ])
        let dump: JSONValue = [
            "cpu": [
                "Name": "cpu", "version_id": 1, "minimum_version_id": 1,
                "Description": [
                    "name": "cpu", "version_id": 1, "minimum_version_id": 1,
                    "Fields": [["field": "env", "version_id": 0, "field_exists": false, "size": 216]],
                ],
            ]
        ]
        func againstDump(_ type: String) throws -> [String] {
            Self.check(try vmdesc(type, 1), dump) { $0.oldIsVMDesc = true }.findings.map {
                "\($0.field ?? "")|\($0.kind.rawValue)|\($0.message)"
            }
        }
        #expect(try againstDump("sreg").isEmpty)
        #expect(try againstDump("qlist").isEmpty)
        #expect(try againstDump("uint8") == ["env|size|size changed from 1 byte in OLD to 216 bytes in NEW"])
    }

    /// OLD with QEMU 10.0's SWITCHOVER_START against a NEW stream without it: a problem when
    /// NEW's vmdesc shows QEMU 8.1 or older (no described configuration), a warning when it may
    /// be QEMU 8.2 to 9.2 (refuses) or QEMU 10.0 with a machine type that sends none (loads).
    @Test func switchoverStartAgainstAStreamWithoutIt() throws {
        let document = try DescriptionSet(["page_size": 4096, "devices": []], label: "x").document
        func report(newDescribes: Bool, newSends: Bool = false) -> CompatReport {
            Self.check(document, document) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
                $0.oldConfiguration = .init(
                    uuid: nil, capabilities: [], noFooters: false, firstSection: "timer", hasConfiguration: true,
                    switchoverStart: true, vmdescDescribesConfiguration: true)
                $0.newConfiguration = .init(
                    uuid: nil, capabilities: [], noFooters: false, firstSection: "timer", hasConfiguration: true,
                    switchoverStart: newSends, vmdescDescribesConfiguration: newDescribes)
            }
        }
        let old = report(newDescribes: false)
        #expect(old.findings.map(\.kind) == [.configuration])
        #expect(old.warnings.isEmpty)
        let maybe = report(newDescribes: true)
        #expect(maybe.findings.isEmpty)
        #expect(
            maybe.warnings == [
                "OLD sends the command SWITCHOVER_START (QEMU 10.0, for machine types 10.0 and later and unversioned ones) and NEW's stream has none: QEMU before 10.0 refuses it (\"MIG_CMD 0xb unknown (len 0x0)\"), as QEMU 8.2 to 9.2 do; a QEMU 10.0 that sends none for its machine type (9.2 and older, or -global migration.send-switchover-start=off) loads it"
            ])
        let same = report(newDescribes: true, newSends: true)
        #expect(same.findings.isEmpty && same.warnings.isEmpty)
        // What the analyzer finds in QEMU's streams: pc-i440fx-10.0 sends it, 9.2 and 7.2 do not.
        let sends = try [
            TestPaths.qemu10Fixtures + "/pc-bios", TestPaths.qemu10Fixtures + "/pc-9.2",
            TestPaths.qemuFixtures + "/pc-bios",
        ].map {
            let a = try StreamAnalysis(path: $0 + "/stream.bin", options: .init(recordPages: false))
            return [a.hasSwitchoverStart, a.vmdescDescribesConfiguration]
        }
        #expect(sends == [[true, true], [false, true], [false, false]])
    }

    /// The (section, description) each problem of the script's output is about, in order; the
    /// machine-type warning left out.
    static func scriptProblems(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("Section \"") else { return nil }
            let parts = line.split(separator: "\"", omittingEmptySubsequences: false)
            let section = parts[1]
            let description = line.contains("Description \"") ? "/" + parts[3] : ""
            return section + description
        }
    }

    static func problems(_ report: CompatReport) -> [String] {
        report.findings.map { $0.section + ($0.descriptionName.map { "/" + $0 } ?? "") }
    }

    /// The warnings of a check that found the state loadable; nil when it found problems.
    static func warnings(_ report: CompatReport) -> [String]? { report.isCompatible ? report.warnings : nil }

    /// The warnings of a check of `old` against `new`, either of them read as a vmdesc; nil when
    /// it found problems.
    static func warnings(_ old: JSONValue, _ new: JSONValue, oldVMDesc: Bool = false, newVMDesc: Bool = false)
        -> [String]?
    {
        warnings(
            check(old, new) {
                $0.oldIsVMDesc = oldVMDesc
                $0.newIsVMDesc = newVMDesc
            })
    }

    /// A vmdesc of `devices` (each a JSON object's text) as a description set.
    static func vmdesc(devices: [String], label: String = "OLD", elementSizes: Bool = false) throws -> DescriptionSet {
        try DescriptionSet(
            JSONValue(parsing: #"{"page_size": 4096, "devices": ["# + devices.joined(separator: ", ") + "]}"),
            label: label, elementSizes: elementSizes)
    }

    /// A vmdesc's device `name` (instance 0, a description of its name) with `fields` (JSON text).
    /// The vmdesc document of one device "dev" (version 1) with `fields` (JSON objects, comma-separated).
    static func oneDevice(_ fields: String) throws -> JSONValue {
        try vmdesc(devices: [vmdescDevice("dev", fields: fields)]).document
    }

    static func vmdescDevice(_ name: String, version: Int = 1, fields: String) -> String {
        #"{"name": "\#(name)", "instance_id": 0, "vmsd_name": "\#(name)", "version": \#(version), "fields": [\#(fields)]}"#
    }

    static func field(_ name: String, _ size: Int64, version: Int64 = 0, exists: Bool = false) -> JSONValue {
        [
            "field": .string(name), "version_id": .number(JSONNumber(version)), "field_exists": .bool(exists),
            "size": .number(JSONNumber(size)),
        ]
    }

    /// Section `name` (version 1) whose description has no "Fields" (QEMU 7.2's vhost-user-fs).
    static func sectionWithoutFields(_ name: String) -> JSONValue {
        var o = section(name, version: 1, fields: []).objectValue![name]!.objectValue!
        var d = o["Description"]!.objectValue!
        d["Fields"] = nil
        o["Description"] = .object(d)
        return [name: .object(o)]
    }

    /// Section "e1000": its `parent_obj` (a VMS_STRUCT field of description "PCIDevice" at
    /// `pciVersion`, of `pciFields`), then `rxbuf_size`.
    static func e1000(pciVersion: Int64, pciFields: [JSONValue]) -> JSONValue {
        let pci: JSONValue = [
            "name": "PCIDevice", "version_id": .number(JSONNumber(pciVersion)), "minimum_version_id": 1,
            "Fields": .array(pciFields),
        ]
        var parent = Self.field("parent_obj", 2608).objectValue!
        parent["Description"] = pci
        return Self.section("e1000", version: 2, fields: [.object(parent), Self.field("rxbuf_size", 4)])
    }

    static func section(_ name: String, version: Int64, minimum: Int64 = 1, fields: [JSONValue]) -> JSONValue {
        let min: JSONValue = .number(JSONNumber(minimum))
        return [
            name: [
                "Name": .string(name), "version_id": .number(JSONNumber(version)), "minimum_version_id": min,
                "Description": [
                    "name": .string(name), "version_id": .number(JSONNumber(version)), "minimum_version_id": min,
                    "Fields": .array(fields),
                ],
            ]
        ]
    }

    // MARK: A field added to NEW

    @Test func addedFieldWithoutANewVersion() throws {
        // NEW appends irq_coalesced with version_id 0 and keeps version 3: loading OLD's version 3,
        // NEW reads 4 bytes OLD never wrote. The script does not look past OLD's last field.
        let report = try Self.check("tiny-v3", "tiny-added")
        #expect(
            report.findings == [
                CompatFinding(
                    section: "tiny-rtc", descriptionName: "tiny-rtc", field: "irq_coalesced", kind: .fieldAdded,
                    message:
                        "NEW reads this field from OLD's version 3 (its version_id is 0, not above 3), but OLD does not save it"
                )
            ])
        #expect(report.warnings.isEmpty)
        #expect(
            report.text() == """
                section "tiny-rtc", description "tiny-rtc", field "irq_coalesced": NEW reads this field from OLD's version 3 (its version_id is 0, not above 3), but OLD does not save it [field-added]
                NOT compatible: 1 problem (state saved by OLD does not load into NEW: QEMU refuses it or loads wrong values)

                """)
        #expect(
            report.json == [
                [
                    "section": "tiny-rtc", "description": "tiny-rtc", "field": "irq_coalesced", "kind": "field-added",
                    "message":
                        "NEW reads this field from OLD's version 3 (its version_id is 0, not above 3), but OLD does not save it",
                ]
            ])
        #expect(try Self.script("compat/tiny-v3.json", "compat/tiny-added.json") == "exit status 0\n")
        // The other direction: NEW (here the saver) writes a field OLD does not read.
        #expect(try Self.check("tiny-added", "tiny-v3").findings.map(\.kind) == [.fieldMissing])
    }

    @Test func addedFieldWithANewVersion() throws {
        // The same field at version 4 (and the description at 4): NEW reads it only from
        // version 4 streams.
        #expect(try Self.check("tiny-v3", "tiny-added-v4") == CompatReport())
        #expect(try Self.script("compat/tiny-v3.json", "compat/tiny-added-v4.json") == "exit status 0\n")
    }

    @Test func fieldInsertedWithANewVersion() throws {
        // period (version 4) between cmos_index and unused: NEW skips it at version 3, so OLD's
        // streams load. The script compares it with OLD's "unused" and reports a mismatch.
        #expect(try Self.check("tiny-v3", "tiny-inserted-v4") == CompatReport())
        #expect(
            try Self.script("compat/tiny-v3.json", "compat/tiny-inserted-v4.json") == """
                Section "tiny-rtc", Description "tiny-rtc": unused size mismatch near " unused"
                exit status 1

                """)
    }

    @Test func fieldVersionRaisedAboveOLDsVersion() throws {
        // NEW reads base_rtc only from version 4: at OLD's version 3 it skips OLD's 8 bytes.
        let new = Self.section(
            "tiny-rtc", version: 4,
            fields: [
                Self.field("cmos_data", 128), Self.field("cmos_index", 1), Self.field("unused", 16),
                Self.field("base_rtc", 8, version: 4),
            ])
        let old = Self.section(
            "tiny-rtc", version: 3,
            fields: [
                Self.field("cmos_data", 128), Self.field("cmos_index", 1), Self.field("unused", 16),
                Self.field("base_rtc", 8, version: 3),
            ])
        let report = Self.check(old, new)
        #expect(
            report.findings == [
                CompatFinding(
                    section: "tiny-rtc", descriptionName: "tiny-rtc", field: "base_rtc", kind: .fieldVersion,
                    message: "NEW reads the field only from version 4, but OLD saves it at version 3")
            ])
    }

    @Test func fieldVersionLoweredWhereBothAcceptTheVersions() throws {
        // The script's rule: NEW reads base_rtc from version 0, OLD has it from version 3. It
        // matters in the versions both accept below 3: NEW misreads state of those.
        let old = Self.section(
            "tiny-rtc", version: 3, fields: [Self.field("cmos_index", 1), Self.field("base_rtc", 8, version: 3)])
        func new(minimum: Int64) -> JSONValue {
            Self.section(
                "tiny-rtc", version: 3, minimum: minimum,
                fields: [Self.field("cmos_index", 1), Self.field("base_rtc", 8)])
        }
        func finding(_ versions: String) -> CompatFinding {
            CompatFinding(
                section: "tiny-rtc", descriptionName: "tiny-rtc", field: "base_rtc", kind: .fieldVersion,
                message:
                    "the field exists from version 3 in OLD but from version 0 in NEW, so NEW misreads state of \(versions), which both accept"
            )
        }
        #expect(Self.check(old, new(minimum: 0)).findings == [finding("versions 1..2")])
        #expect(Self.check(old, new(minimum: 2)).findings == [finding("version 2")])
        // NEW refuses every version below 3 (QEMU 10.1's rtc and hpet: their fields' versions
        // dropped with a minimum_version_id raised past them): nothing is misread.
        #expect(Self.check(old, new(minimum: 3)) == CompatReport())
        // The versions named end at the lower version_id (here NEW's, 2, a problem of its own).
        let newer = Self.section(
            "tiny-rtc", version: 5, minimum: 0,
            fields: [Self.field("cmos_index", 1), Self.field("base_rtc", 8, version: 5)])
        let lower = Self.section(
            "tiny-rtc", version: 2, minimum: 0, fields: [Self.field("cmos_index", 1), Self.field("base_rtc", 8)])
        #expect(
            Self.check(newer, lower).findings.map(\.message) == [
                "version 5 in OLD, but only 2 in NEW: NEW cannot load the newer state",
                "the field exists from version 5 in OLD but from version 0 in NEW, so NEW misreads state of versions 0..2, which both accept",
            ])
    }

    /// QEMU 10.1 against QEMU 10.0 (`-M pc-i440fx-10.0`): rtc's and hpet's fields lost their
    /// versions with a minimum_version_id raised past them, and pvscsi dropped its conditional
    /// `parent_obj`, saved only for machine types 10.1 no longer has. QEMU 10.1 loads QEMU 10.0's
    /// state of all three (the qemuversions probe: a 10.0 stream with -device pvscsi, "completed").
    /// The script reports 9 problems here.
    @Test func qemu101DroppedOldVersions() throws {
        let (v100, v101) = ("qemu-10.1/qemu-10.0-cut", "qemu-10.1/qemu-10.1-cut")
        let forward = try Self.check(v100, v101)
        #expect(forward.findings.isEmpty)
        #expect(
            forward.warnings == [
                "section \"pvscsi\", description \"pvscsi\", field \"parent_obj\": OLD saves this conditional field before \"msi_used\" when its test passes; NEW has no such field: it misreads what OLD saves then (fine if the test never passes on the machine types NEW has)"
            ])
        #expect(forward.undecided == 1)
        let back = try Self.check(v101, v100)
        #expect(back.findings.isEmpty)
        #expect(
            back.warnings == [
                "section \"pvscsi\", description \"pvscsi\", field \"parent_obj\": NEW reads this conditional field before \"msi_used\" when its test passes; OLD does not save it"
            ])
    }

    /// A conditional field one side has and the other lacks is an undecided warning wherever it
    /// is, and the fields around it are still compared: in the middle (the other side's next
    /// field comes later on this side), as OLD's last field, or as NEW's.
    @Test func aConditionalFieldOnOneSideOnly() throws {
        func dev(_ fields: [JSONValue]) -> JSONValue { Self.section("tiny-dev", version: 1, fields: fields) }
        let at = "section \"tiny-dev\", description \"tiny-dev\""
        // OLD: a, cond (conditional), b; NEW: a, b (4 bytes, where OLD's is 2).
        let middle = Self.check(
            dev([Self.field("a", 4), Self.field("cond", 8, exists: true), Self.field("b", 2)]),
            dev([Self.field("a", 4), Self.field("b", 4)]))
        #expect(
            middle.warnings == [
                "\(at), field \"cond\": OLD saves this conditional field before \"b\" when its test passes; NEW has no such field: it misreads what OLD saves then (fine if the test never passes on the machine types NEW has)"
            ])
        #expect(
            middle.findings == [
                CompatFinding(
                    section: "tiny-dev", descriptionName: "tiny-dev", field: "b", kind: .size,
                    message: "size changed from 2 bytes in OLD to 4 bytes in NEW")
            ])
        let last = Self.check(
            dev([Self.field("a", 4), Self.field("cond", 8, exists: true)]), dev([Self.field("a", 4)]))
        #expect(last.findings.isEmpty)
        #expect(
            last.warnings == [
                "\(at), field \"cond\": OLD saves this conditional field after NEW's last field when its test passes; NEW has no such field: it cannot load what OLD saves then (fine if the test never passes on the machine types NEW has)"
            ])
        #expect(last.undecided == 1)
        // Not conditional, the same field is a problem (the previous rule, kept).
        let plain = Self.check(dev([Self.field("a", 4), Self.field("cond", 8)]), dev([Self.field("a", 4)]))
        #expect(plain.findings.map(\.kind) == [.fieldMissing])
        // Unused space against a conditional field of its size, either way round.
        for (old, new, field, side, other) in [
            (Self.field("x", 4, exists: true), Self.field("unused", 4), "x", "OLD", "unused"),
            (Self.field("unused", 4), Self.field("x", 4, exists: true), "x", "NEW", "unused"),
        ] {
            let report = Self.check(
                dev([Self.field("a", 4), old, Self.field("b", 4)]), dev([Self.field("a", 4), new, Self.field("b", 4)]))
            #expect(report.findings.isEmpty)
            #expect(
                report.warnings == [
                    "\(at), field \"\(field)\": conditional in \(side), where \"\(other)\" of its size is not: when its test fails, the fields after it are read 4 bytes off"
                ])
        }
        let newOnly = Self.check(
            dev([Self.field("a", 4), Self.field("b", 4)]),
            dev([Self.field("a", 4), Self.field("cond", 8, exists: true), Self.field("b", 4)]))
        #expect(newOnly.findings.isEmpty)
        #expect(
            newOnly.warnings == [
                "\(at), field \"cond\": NEW reads this conditional field before \"b\" when its test passes; OLD does not save it"
            ])
    }

    @Test func twoConditionalFieldsOfOneName() throws {
        // PCIDevice's `config`: 256 bytes when the device is not PCI Express, 4096 when it is,
        // each a conditional field. One side without the first pairs the other's second.
        func pci(_ fields: [JSONValue]) -> JSONValue {
            let all = [Self.field("version_id", 4)] + fields + [Self.field("irq_state", 16, version: 2)]
            return Self.section("PCIDevice", version: 2, fields: all)
        }
        let both = pci([Self.field("config", 256, exists: true), Self.field("config", 4096, exists: true)])
        let express = pci([Self.field("config", 4096, exists: true)])
        let at = "section \"PCIDevice\", description \"PCIDevice\", field \"config\""
        #expect(
            Self.warnings(both, express) == [
                "\(at): OLD saves this conditional field of 256 bytes before another \"config\" of 4096 bytes when its test passes; NEW has only the later one: it misreads what OLD saves then (fine if the test never passes on the machine types NEW has)"
            ])
        #expect(
            Self.warnings(express, both) == [
                "\(at): NEW reads this conditional field of 256 bytes before another \"config\" of 4096 bytes when its test passes; OLD has only the later one and does not save it"
            ])
        #expect(Self.check(both, both) == CompatReport())
        // The first alone is the one OLD's second pairs with: the second is OLD's extra one.
        let plain = pci([Self.field("config", 256, exists: true)])
        #expect(
            Self.warnings(both, plain) == [
                "\(at): OLD saves this conditional field before \"irq_state\" when its test passes; NEW has no such field: it misreads what OLD saves then (fine if the test never passes on the machine types NEW has)"
            ])
        // Two conditional fields of one name and different sizes, neither side with another:
        // misread whenever the test passes.
        #expect(
            Self.warnings(plain, express) == [
                "\(at): conditional on both sides, of 256 bytes in OLD and 4096 bytes in NEW: misread whenever its test passes (fine if it never does on the machine types both have)"
            ])
        // Three of one name (256, 512, 4096) where NEW has only the last: the first two are
        // OLD's alone. And a conditional 256-byte one before a plain 4096-byte one.
        let three = pci([
            Self.field("config", 256, exists: true), Self.field("config", 512, exists: true),
            Self.field("config", 4096, exists: true),
        ])
        #expect(
            Self.warnings(three, express)?.map { $0.replacingOccurrences(of: at, with: "") } == [
                ": OLD saves this conditional field of 256 bytes before another \"config\" of 4096 bytes when its test passes; NEW has only the later one: it misreads what OLD saves then (fine if the test never passes on the machine types NEW has)",
                ": OLD saves this conditional field of 512 bytes before another \"config\" of 4096 bytes when its test passes; NEW has only the later one: it misreads what OLD saves then (fine if the test never passes on the machine types NEW has)",
            ])
        let alwaysExpress = pci([Self.field("config", 4096)])
        let plainAfter = pci([Self.field("config", 256, exists: true), Self.field("config", 4096)])
        #expect(Self.warnings(plainAfter, alwaysExpress)?.count == 1)
        #expect(Self.warnings(alwaysExpress, plainAfter)?.count == 1)
    }

    @Test func addedToANestedDescription() throws {
        // A VMS_STRUCT description is loaded at NEW's own version: a field added to it is read
        // whatever its version_id.
        let pciFields = [Self.field("version_id", 4), Self.field("config", 256)]
        let old = Self.e1000(pciVersion: 2, pciFields: pciFields)
        let new = Self.e1000(pciVersion: 3, pciFields: pciFields + [Self.field("irq_state", 16, version: 3)])
        let report = Self.check(old, new)
        #expect(
            report.findings == [
                CompatFinding(
                    section: "e1000", descriptionName: "PCIDevice", field: "irq_state", kind: .fieldAdded,
                    message:
                        "NEW reads this field, but OLD does not save it (NEW loads a nested description at its own version, 3, whatever the version of the field)"
                )
            ])
    }

    @Test func nestedFieldsAboveEachSidesOwnVersion() throws {
        // Each side saves and loads a VMS_STRUCT description at its own version_id: a field
        // above OLD's is never saved by OLD, one above NEW's never read by NEW.
        let pciFields = [Self.field("version_id", 4), Self.field("config", 256)]
        let irq = Self.field("irq_state", 16, version: 3)
        // OLD (PCIDevice at 2) has irq_state from version 3, which it never saves; NEW (at 3)
        // reads it.
        let oldUnsaved = Self.e1000(pciVersion: 2, pciFields: pciFields + [irq])
        let newReads = Self.e1000(pciVersion: 3, pciFields: pciFields + [irq])
        #expect(
            Self.check(oldUnsaved, newReads).findings == [
                CompatFinding(
                    section: "e1000", descriptionName: "PCIDevice", field: "irq_state", kind: .fieldAdded,
                    message:
                        "NEW reads this field (its version_id is 3, not above NEW's version 3), but OLD does not save it (OLD saves the nested description at its version 2, below the field's version_id 3 there)"
                )
            ])
        // NEW at 2 does not read it either: compatible, whether OLD lists it or not.
        let newSkips = Self.e1000(pciVersion: 2, pciFields: pciFields + [irq])
        #expect(Self.check(oldUnsaved, newSkips) == CompatReport())
        #expect(Self.check(Self.e1000(pciVersion: 2, pciFields: pciFields), newSkips) == CompatReport())
        // OLD lists it (unsaved) where NEW has none, at the end or before another field.
        #expect(Self.check(oldUnsaved, Self.e1000(pciVersion: 2, pciFields: pciFields)) == CompatReport())
        let irqFirst = Self.e1000(pciVersion: 2, pciFields: [irq] + pciFields)
        #expect(Self.check(irqFirst, Self.e1000(pciVersion: 3, pciFields: pciFields)) == CompatReport())
        // NEW at 3 reading irq_state from version 2 (lowered): OLD at 2 saved none.
        let newLowered = Self.e1000(pciVersion: 3, pciFields: pciFields + [Self.field("irq_state", 16, version: 2)])
        #expect(
            Self.check(oldUnsaved, newLowered).findings == [
                CompatFinding(
                    section: "e1000", descriptionName: "PCIDevice", field: "irq_state", kind: .fieldAdded,
                    message:
                        "NEW reads this field (its version_id is 2, not above NEW's version 3), but OLD does not save it (OLD saves the nested description at its version 2, below the field's version_id 3 there)"
                )
            ])
        // Lowered where both save and load it (PCIDevice at 3 on both sides): a VMS_STRUCT field
        // is fine, a VMS_VSTRUCT one (at a struct_version_id the dump does not show) may not be.
        let oldAt3 = Self.e1000(pciVersion: 3, pciFields: pciFields + [irq])
        #expect(
            Self.warnings(oldAt3, newLowered) == [
                "section \"e1000\", description \"PCIDevice\", field \"irq_state\": its version_id is 3 in OLD and 2 in NEW, in a nested description both save and load whole at their versions (3, 3): fine for a VMS_STRUCT field; a VMS_VSTRUCT one (-dump-vmstate does not say which) saves and loads it at its struct_version_id, where NEW reads it from 2 and OLD saves it only from 3"
            ])
        // NEW reads it from version 4, above its own 3: OLD at 3 saves it, NEW never reads it.
        let newAbove = Self.e1000(pciVersion: 3, pciFields: pciFields + [Self.field("irq_state", 16, version: 4)])
        #expect(
            Self.check(newReads, newAbove).findings == [
                CompatFinding(
                    section: "e1000", descriptionName: "PCIDevice", field: "irq_state", kind: .fieldVersion,
                    message:
                        "NEW never reads the field (its version_id 4 is above NEW's version 3 of the nested description), but OLD saves it at its version 3"
                )
            ])
    }

    @Test func versionSkipsAtTheEdges() throws {
        func dev(_ version: Int64, _ fields: [JSONValue]) -> JSONValue {
            Self.section("dev", version: version, fields: fields)
        }
        let a = Self.field("a", 4)
        // OLD's last field is one it never saves (version 2 above its 1); NEW's field after
        // `a` is still read: OLD never wrote it.
        #expect(
            Self.check(dev(1, [a, Self.field("z", 4, version: 2)]), dev(1, [a, Self.field("x", 4)])).findings == [
                CompatFinding(
                    section: "dev", descriptionName: "dev", field: "x", kind: .fieldAdded,
                    message:
                        "NEW reads this field from OLD's version 1 (its version_id is 0, not above 1), but OLD does not save it"
                )
            ])
        // So is OLD's unused space of a version above its own: not in the stream either.
        #expect(
            Self.check(dev(1, [a, Self.field("unused", 4, version: 2)]), dev(1, [a, Self.field("x", 4)])).findings.map(
                \.kind) == [.fieldAdded])
        // A conditional field is saved and read when its test passes, whatever its version_id:
        // one OLD alone has, of version 2 above OLD's 1, is still an undecided warning.
        #expect(
            Self.warnings(dev(1, [a, Self.field("c", 4, version: 2, exists: true)]), dev(1, [a])) == [
                "section \"dev\", description \"dev\", field \"c\": OLD saves this conditional field after NEW's last field when its test passes; NEW has no such field: it cannot load what OLD saves then (fine if the test never passes on the machine types NEW has)"
            ])
        // A field of a version above both sides' is in neither stream: its size is not compared.
        #expect(
            Self.check(dev(1, [a, Self.field("b", 4, version: 2)]), dev(1, [a, Self.field("b", 8, version: 2)]))
                == CompatReport())
        // OLD's unused space that NEW's fields take, one of them of a version NEW does not read
        // at OLD's 2: 4 of OLD's 8 bytes are left over.
        let newSplit = dev(3, [a, Self.field("x", 4), Self.field("y", 4, version: 3)])
        #expect(
            Self.check(dev(2, [a, Self.field("unused", 8)]), newSplit).findings == [
                CompatFinding(
                    section: "dev", descriptionName: "dev", field: "unused", kind: .unusedSize,
                    message: "OLD's unused space \"unused\" is 4 bytes larger than the fields NEW has in its place")
            ])
        // Versions at the end of Int64's range: no overflow in the versions both accept.
        let top = Int64.max
        #expect(Self.check(dev(top, [a]), dev(top, [a])) == CompatReport())
        #expect(
            Self.check(dev(top, [a, Self.field("b", 4, version: top)]), dev(top, [a, Self.field("b", 4)])).findings.map(
                \.kind) == [.fieldVersion])
    }

    @Test func aNestedFieldWhereNEWRefusesTheSection() throws {
        // NEW refuses OLD's version 2 of the section: one problem, not also the nested field
        // OLD's inner description (at 1) never saves and NEW's (at 2) reads.
        func dev(_ version: Int64, inner: Int64) -> JSONValue {
            let desc: JSONValue = [
                "name": "inner", "version_id": .number(JSONNumber(inner)), "minimum_version_id": 1,
                "Fields": [Self.field("a", 4), Self.field("b", 4, version: 2)],
            ]
            var st = Self.field("st", 8).objectValue!
            st["Description"] = desc
            return Self.section("dev", version: version, fields: [Self.field("x", 4), .object(st)])
        }
        #expect(Self.check(dev(2, inner: 1), dev(1, inner: 2)).findings.map(\.kind) == [.version])
        // Nor a nested field NEW never reads (version 2 above its inner 1) that OLD saves.
        #expect(Self.check(dev(2, inner: 2), dev(1, inner: 1)).findings.map(\.kind) == [.version, .version])
        #expect(
            Self.check(dev(1, inner: 2), dev(1, inner: 1)).findings.last
                == CompatFinding(
                    section: "dev", descriptionName: "inner", field: "b", kind: .fieldVersion,
                    message:
                        "NEW never reads the field (its version_id 2 is above NEW's version 1 of the nested description), but OLD saves it at its version 2"
                ))
        #expect(Self.check(dev(1, inner: 1), dev(1, inner: 2)).findings.map(\.kind) == [.fieldAdded])
    }

    @Test func descriptionsNestedTooDeep() throws {
        // A section's description with `levels` nested under it, one per struct field "st".
        func nested(_ levels: Int) -> JSONValue {
            var inner: JSONValue = ["name": .string("l\(levels)"), "version_id": 1, "Fields": [Self.field("a", 4)]]
            for level in stride(from: levels - 1, through: 0, by: -1) {
                var st = Self.field("st", 4).objectValue!
                st["Description"] = inner
                inner = ["name": .string("l\(level)"), "version_id": 1, "Fields": [Self.field("a", 4), .object(st)]]
            }
            return ["dev": ["Name": "dev", "version_id": 1, "Description": inner]]
        }
        // 24 descriptions deep are compared; 25 are bad input, not a crash.
        #expect(Self.check(nested(23), nested(23)) == CompatReport())
        #expect {
            _ = try CompatChecker().check(old: nested(24), new: nested(24))
        } throws: { error in
            let e = error as? CompatInputError
            return e?.message == "descriptions nested deeper than 24 levels (QEMU's nest at most 5), not compared"
                && e?.location
                    == "OLD section \"dev\".Description"
                    + String(repeating: #".Fields (field "st").Description"#, count: 24)
        }
    }

    @Test func aFieldConditionalOnOneSideOnly() throws {
        func dev(_ fields: [JSONValue]) -> JSONValue { Self.section("dev", version: 1, fields: fields) }
        let a = Self.field("a", 4)
        let at = "section \"dev\", description \"dev\", field \"b\""
        // OLD saves b when its test passes; NEW reads b only from version 2 (not at 1).
        #expect(
            Self.warnings(
                dev([a, Self.field("b", 4, version: 2, exists: true)]), dev([a, Self.field("b", 4, version: 2)]))
                == [
                    "\(at): conditional in OLD (saved when its test passes), not in NEW, which does not read it here (its version_id 2 is above 1): OLD's state loads only where that test fails"
                ])
        // NEW reads b when its test passes; OLD always saves it.
        #expect(
            Self.warnings(dev([a, Self.field("b", 4)]), dev([a, Self.field("b", 4, exists: true)])) == [
                "\(at): conditional in NEW (read when its test passes), not in OLD, which saves it here: OLD's state loads only where that test passes"
            ])
        // Conditional on both sides: the version_id does not count (lowered here).
        #expect(
            Self.check(
                dev([a, Self.field("b", 4, version: 2, exists: true)]), dev([a, Self.field("b", 4, exists: true)]))
                == CompatReport())
        // Where NEW reads it, sizes still count.
        #expect(
            Self.check(dev([a, Self.field("b", 4, exists: true)]), dev([a, Self.field("b", 8)])).findings.map(\.kind)
                == [
                    .size
                ])
    }

    @Test func unusedSpaceOfOtherSizesOnBothSides() throws {
        // OLD's 4 unused bytes and x against NEW's 8 unused bytes: the same 8 bytes.
        let old = Self.section(
            "dev", version: 1, fields: [Self.field("a", 4), Self.field("unused", 4), Self.field("x", 4)])
        let new = Self.section("dev", version: 1, fields: [Self.field("a", 4), Self.field("unused", 8)])
        #expect(Self.check(old, new) == CompatReport())
        #expect(Self.check(new, old) == CompatReport())
        // A conditional field among those in the other side's unused space: undecided.
        let conditional = Self.section(
            "dev", version: 1, fields: [Self.field("a", 4), Self.field("x", 4, exists: true), Self.field("y", 4)])
        #expect(
            Self.warnings(new, conditional) == [
                "section \"dev\", description \"dev\", field \"x\": conditional in NEW, where OLD has unused space or fields of another size: whether the fields after it line up depends on its test; the rest of the fields were not compared"
            ])
        // Conditional unused space (VMSTATE_UNUSED_TEST) against fields of another size: so.
        let unusedTest = Self.section(
            "dev", version: 1, fields: [Self.field("a", 4), Self.field("unused", 8, exists: true)])
        let twoFields = Self.section(
            "dev", version: 1, fields: [Self.field("a", 4), Self.field("x", 4), Self.field("y", 4)])
        #expect(
            Self.warnings(unusedTest, twoFields) == [
                "section \"dev\", description \"dev\", field \"unused\": conditional in OLD, where NEW has unused space or fields of another size: whether the fields after it line up depends on its test; the rest of the fields were not compared"
            ])
        // OLD's VMSTATE_UNUSED_V(2, 4) (never saved at 1) before a VMSTATE_UNUSED(4): NEW's one
        // unused field is OLD's second.
        let twoUnused = Self.section(
            "dev", version: 1,
            fields: [Self.field("a", 4), Self.field("unused", 4, version: 2), Self.field("unused", 4)])
        let oneUnused = Self.section("dev", version: 1, fields: [Self.field("a", 4), Self.field("unused", 4)])
        #expect(Self.check(twoUnused, oneUnused) == CompatReport())
        // And NEW's VMSTATE_UNUSED_V(2, 4) (not read at OLD's 1) before its VMSTATE_UNUSED(4).
        let newTwoUnused = Self.section(
            "dev", version: 2,
            fields: [Self.field("a", 4), Self.field("unused", 4, version: 2), Self.field("unused", 4)])
        #expect(Self.check(oneUnused, newTwoUnused) == CompatReport())
        let short = Self.section("dev", version: 1, fields: [Self.field("a", 4), Self.field("unused", 4)])
        #expect(
            Self.check(short, new).findings == [
                CompatFinding(
                    section: "dev", descriptionName: "dev", field: "unused", kind: .unusedSize,
                    message: "NEW's unused space \"unused\" is 4 bytes larger than the fields OLD has in its place")
            ])
    }

    @Test func aFieldOLDNeverSavesWhereNEWHasNone() throws {
        // OLD's last field, and one in the middle, have a version_id above OLD's version: OLD
        // saves neither, so NEW, which lacks both, loads OLD's streams.
        let old = Self.section(
            "tiny-dev", version: 3,
            fields: [
                Self.field("a", 4), Self.field("b", 2, version: 4), Self.field("c", 1), Self.field("d", 8, version: 4),
            ])
        let new = Self.section("tiny-dev", version: 3, fields: [Self.field("a", 4), Self.field("c", 1)])
        #expect(Self.check(old, new) == CompatReport())
        // Saved (at 4, and NEW accepts 4): each is a field NEW lacks.
        let old4 = Self.section(
            "tiny-dev", version: 4,
            fields: [Self.field("a", 4), Self.field("b", 2, version: 4), Self.field("c", 1)])
        let new4 = Self.section("tiny-dev", version: 4, fields: [Self.field("a", 4), Self.field("c", 1)])
        #expect(Self.check(old4, new4).findings.map(\.kind) == [.fieldMismatch])
    }

    @Test func addedWhereOLDHasNoFields() throws {
        // QEMU 7.2's vhost-user-fs has no fields (it is unmigratable, which -dump-vmstate does
        // not show); QEMU 10.0's has one.
        let noFields = Self.sectionWithoutFields("dev")
        let new = Self.section("dev", version: 1, fields: [Self.field("virtio", 0)])
        #expect(Self.check(noFields, new).findings.map(\.kind) == [.fieldAdded])
        #expect(Self.check(noFields, new).findings.first?.field == "virtio")
    }

    @Test func fieldsWhereNEWHasNone() throws {
        // NEW's description without "Fields": OLD's are walked against none. A plain one is
        // missing; a conditional one is undecided; one OLD never saves (version 2 above its 1)
        // takes no part.
        let noFields = Self.sectionWithoutFields("dev")
        let plain = Self.section("dev", version: 1, fields: [Self.field("a", 4)])
        #expect(
            Self.check(plain, noFields).findings == [
                CompatFinding(
                    section: "dev", descriptionName: "dev", field: "a", kind: .fieldMissing,
                    message: "OLD saves field \"a\" here, but NEW has no further fields")
            ])
        let conditional = Self.section("dev", version: 1, fields: [Self.field("a", 4, exists: true)])
        #expect(
            Self.warnings(conditional, noFields) == [
                "section \"dev\", description \"dev\", field \"a\": OLD saves this conditional field after NEW's last field when its test passes; NEW has no such field: it cannot load what OLD saves then (fine if the test never passes on the machine types NEW has)"
            ])
        let unsaved = Self.section("dev", version: 1, fields: [Self.field("a", 4, version: 2)])
        #expect(Self.check(unsaved, noFields) == CompatReport())
    }

    @Test func addedButUndecidable() throws {
        let old = Self.section("dev", version: 2, fields: [Self.field("a", 4)])
        // A conditional field: its test decides.
        let conditional = Self.section(
            "dev", version: 2, fields: [Self.field("a", 4), Self.field("b", 4, exists: true)])
        let r1 = Self.check(old, conditional)
        #expect(
            Self.warnings(r1) == [
                "section \"dev\", description \"dev\", field \"b\": NEW reads this conditional field after OLD's last field when its test passes; OLD does not save it"
            ])
        // OLD a vmdesc: an empty variable-size array has no entry in it.
        let added = Self.section("dev", version: 2, fields: [Self.field("a", 4), Self.field("b", 4)])
        #expect(
            Self.warnings(old, added, oldVMDesc: true) == [
                "section \"dev\", description \"dev\", field \"b\": NEW reads this field after OLD's last saved field; OLD's vmdesc has no entry for it: it was an empty variable-size array or a conditional field left out when saved (loadable when its count or test comes from the stream; not when the devices' options set it, as memory hotplug's slots= does), or OLD lacks it (not loadable)"
            ])
        // NEW a vmdesc saved at a later version: its fields have no version_id.
        let later = Self.section("dev", version: 3, fields: [Self.field("a", 4), Self.field("b", 4)])
        #expect(
            Self.warnings(old, later, newVMDesc: true) == [
                "section \"dev\", description \"dev\", field \"b\": NEW saved this field at version 3; NEW's vmdesc does not say whether it reads it at OLD's version 2"
            ])
        // Both vmdescs (two streams): the later version is the likelier reason too.
        let both = Self.check(old, later) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
        }
        #expect(
            Self.warnings(both) == [
                "section \"dev\", description \"dev\", field \"b\": NEW saved this field at version 3; NEW's vmdesc does not say whether it reads it at OLD's version 2"
            ])
        #expect(both.undecided == 1)
        #expect(
            both.text()
                == "warning: section \"dev\", description \"dev\", field \"b\": NEW saved this field at version 3; NEW's vmdesc does not say whether it reads it at OLD's version 2\n"
                + "compatible, but 1 warning above is undecided: state saved by OLD loads into NEW if what it leaves open is the loadable case\n"
        )
        // ... but saved at OLD's version, NEW reads it.
        let r4 = Self.check(old, added) { $0.newIsVMDesc = true }
        #expect(
            r4.findings.map(\.message) == [
                "NEW saves this field at version 2, the version OLD saves, and reads it from OLD's stream, but OLD does not save it"
            ])
    }

    /// Fields that moved into structs (nested lists entered and left) between arrays one vmdesc
    /// has no entry for (looked ahead for): each list's index of names is made once, so 8,000 of
    /// each compare in linear time (the index remade after each return from a nested list took
    /// 52 s), with one warning per array.
    @Test func lookAheadsBetweenNestedListsOverManyFields() throws {
        let n = 8000
        var old: [String] = [], new: [String] = []
        for k in 0..<n {
            let a = #"{"name": "a\#(k)", "type": "uint8", "size": 1}"#,
                e = #"{"name": "e\#(k)", "type": "uint8", "size": 1}"#
            old += [a, e]
            new += [
                #"{"name": "s\#(k)", "type": "struct", "struct": {"vmsd_name": "t\#(k)", "version": 1, "fields": [\#(a)]}, "size": 1}"#,
                #"{"name": "g\#(k)", "array_len": 2, "type": "uint8", "size": 1}"#, e,
            ]
        }
        func vmdesc(_ fields: [String]) throws -> JSONValue {
            try Self.vmdesc(devices: [Self.vmdescDevice("dev", fields: fields.joined(separator: ", "))]).document
        }
        let report = Self.check(try vmdesc(old), try vmdesc(new)) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
        }
        func warning(_ k: Int) -> String {
            #"section "dev", description "dev", field "g\#(k)": NEW reads this field before "e\#(k)"; OLD's vmdesc has no entry for it: it was an empty variable-size array or a conditional field left out when saved (loadable when its count or test comes from the stream; not when the devices' options set it, as memory hotplug's slots= does), or OLD lacks it (not loadable)"#
        }
        #expect(report.findings.isEmpty && report.undecided == n)
        #expect(report.warnings == (0..<n).map(warning))
    }

    /// A vmdesc has no entry for an array that was empty when it was saved, wherever the array
    /// is, nor for a subsection that was not needed: a warning, not a problem, and the walk
    /// goes on (it stopped at a `field-mismatch` before).
    @Test func whatAVmdescLeavesOutInTheMiddle() throws {
        let three = Self.section(
            "dev", version: 2, fields: [Self.field("n", 4), Self.field("ents", 2), Self.field("buf", 32)])
        let two = Self.section("dev", version: 2, fields: [Self.field("n", 4), Self.field("buf", 32)])
        #expect(
            Self.warnings(two, three, oldVMDesc: true) == [
                "section \"dev\", description \"dev\", field \"ents\": NEW reads this field before \"buf\"; OLD's vmdesc has no entry for it: it was an empty variable-size array or a conditional field left out when saved (loadable when its count or test comes from the stream; not when the devices' options set it, as memory hotplug's slots= does), or OLD lacks it (not loadable)"
            ])
        #expect(
            Self.warnings(three, two, newVMDesc: true) == [
                "section \"dev\", description \"dev\", field \"ents\": OLD saves this field before \"buf\"; NEW's vmdesc has no entry for it: it was an empty variable-size array or a conditional field left out when NEW saved (loadable when its count or test comes from the stream; not when the devices' options set it, as memory hotplug's slots= does), or NEW lacks it (not loadable)"
            ])
        // Between two -dump-vmstate files the field is missing.
        #expect(Self.check(two, three).findings.map(\.kind) == [.fieldMismatch])
        #expect(Self.check(three, two).findings.map(\.kind) == [.fieldMismatch])
        // A field the other side has nowhere later is a mismatch even against a vmdesc.
        let other = Self.section(
            "dev", version: 2, fields: [Self.field("n", 4), Self.field("x", 2), Self.field("buf", 32)])
        #expect(Self.check(other, three) { $0.oldIsVMDesc = true }.findings.map(\.kind) == [.fieldMismatch])
        // A subsection NEW, a vmdesc, did not save.
        var withSub = two
        CompatTests.edit(&withSub, [.key("dev"), .key("Description")]) { v in
            guard case .object(var o) = v else { return }
            o["Subsections"] = [
                ["name": "dev/extra", "version_id": 1, "minimum_version_id": 1, "Fields": .array([Self.field("x", 4)])]
            ]
            v = .object(o)
        }
        #expect(
            Self.warnings(withSub, two, newVMDesc: true) == [
                "section \"dev\", description \"dev\": OLD saves subsection \"dev/extra\"; NEW's vmdesc shows no such subsection: it was not needed when NEW saved (fine), or NEW lacks it (not loadable)"
            ])
        #expect(Self.check(withSub, two).findings.map(\.kind) == [.subsectionMissing])
    }

    @Test func addedToASubsection() throws {
        // A subsection is loaded at the version in its header, OLD's: a field appended to it
        // without a new version is read from OLD's state.
        func rtc(_ subFields: [JSONValue], subVersion: Int64) -> JSONValue {
            var doc = Self.section("rtc", version: 3, fields: [Self.field("cmos_index", 1)])
            CompatTests.edit(&doc, [.key("rtc"), .key("Description")]) { v in
                guard case .object(var o) = v else { return }
                o["Subsections"] = [
                    [
                        "name": "rtc/irq_reinject", "version_id": .number(JSONNumber(subVersion)),
                        "minimum_version_id": 1, "Fields": .array(subFields),
                    ]
                ]
                v = .object(o)
            }
            return doc
        }
        let old = rtc([Self.field("reinject_count", 4)], subVersion: 1)
        let added = rtc([Self.field("reinject_count", 4), Self.field("lost", 4)], subVersion: 1)
        #expect(
            Self.check(old, added).findings == [
                CompatFinding(
                    section: "rtc", descriptionName: "rtc/irq_reinject", field: "lost", kind: .fieldAdded,
                    message:
                        "NEW reads this field from OLD's version 1 (its version_id is 0, not above 1), but OLD does not save it"
                )
            ])
        let versioned = rtc([Self.field("reinject_count", 4), Self.field("lost", 4, version: 2)], subVersion: 2)
        #expect(Self.check(old, versioned) == CompatReport())
    }

    @Test func noAddedFieldLookAfterASizeChange() throws {
        // A field changed size: the bytes no longer line up, one finding says so.
        let old = Self.section("dev", version: 1, fields: [Self.field("a", 8)])
        let new = Self.section("dev", version: 1, fields: [Self.field("a", 4), Self.field("b", 4)])
        #expect(Self.check(old, new).findings.map(\.kind) == [.size])
        #expect(Self.check(old, new).warnings.isEmpty)
    }

    @Test func unusedSpaceOLDDoesNotFill() throws {
        // OLD's 4 bytes, then nothing, where NEW has 8 bytes of unused space.
        let old = Self.section("dev", version: 1, fields: [Self.field("a", 4)])
        let new = Self.section("dev", version: 1, fields: [Self.field("unused", 8)])
        #expect(
            Self.check(old, new).findings == [
                CompatFinding(
                    section: "dev", descriptionName: "dev", field: "unused", kind: .unusedSize,
                    message: "NEW's unused space \"unused\" is 4 bytes larger than the fields OLD has in its place")
            ])
    }

    // MARK: "num"

    @Test func arrayTakesUnusedSpace() throws {
        // NEW's regs: 4 × 4 bytes ("num": 4) where OLD has 16 unused bytes; and back.
        #expect(try Self.check("tiny-v3", "tiny-num4") == CompatReport())
        #expect(try Self.check("tiny-num4", "tiny-v3") == CompatReport())
        #expect(try Self.script("compat/tiny-v3.json", "compat/tiny-num4.json") == "exit status 0\n")
        // Without "num" the 4-byte element would not fill the space: NEW's regs and base_rtc
        // take 12 of OLD's 16 unused bytes, and NEW has nothing for the rest.
        var noNum = try Self.dump("tiny-num4")
        CompatTests.edit(&noNum, [.key("tiny-rtc"), .key("Description"), .key("Fields"), .index(2)]) { v in
            if case .object(var o) = v { o["num"] = nil; v = .object(o) }
        }
        #expect(
            Self.check(try Self.dump("tiny-v3"), noNum).findings == [
                CompatFinding(
                    section: "tiny-rtc", descriptionName: "tiny-rtc", field: "unused", kind: .unusedSize,
                    message: "OLD's unused space \"unused\" is 4 bytes larger than the fields NEW has in its place")
            ])
    }

    @Test func arraysTakeUnusedSpaceInPieces() throws {
        // OLD's 16 unused bytes taken by NEW's a (2 × 4) and b (8): whole sizes all along.
        let old = Self.section("dev", version: 1, fields: [Self.field("unused", 16)])
        var a = Self.field("a", 4).objectValue!
        a["num"] = 2
        let new = Self.section("dev", version: 1, fields: [.object(a), Self.field("b", 8)])
        #expect(Self.check(old, new) == CompatReport())
        #expect(Self.check(new, old) == CompatReport())
    }

    @Test func arrayLengthChanged() throws {
        // regs grows from 4 to 8 elements of 4 bytes: the script compares element sizes only.
        let report = try Self.check("tiny-num4", "tiny-num8")
        #expect(
            report.findings == [
                CompatFinding(
                    section: "tiny-rtc", descriptionName: "tiny-rtc", field: "regs", kind: .size,
                    message: "size changed from 16 bytes (4 × 4 bytes) in OLD to 32 bytes (8 × 4 bytes) in NEW")
            ])
        #expect(try Self.script("compat/tiny-num4.json", "compat/tiny-num8.json") == "exit status 0\n")
    }

    @Test func numOnOneSideOnly() throws {
        // A QEMU 7.2 dump has no "num": element sizes are compared, as the script does.
        let old = Self.section("dev", version: 1, fields: [Self.field("regs", 4)])
        var regs = Self.field("regs", 4).objectValue!
        regs["num"] = 8
        let new = Self.section("dev", version: 1, fields: [.object(regs)])
        #expect(Self.check(old, new) == CompatReport())
        regs["size"] = 2
        #expect(
            Self.check(old, Self.section("dev", version: 1, fields: [.object(regs)])).findings.map(\.message) == [
                "size changed from 4 bytes in OLD to 2 bytes in NEW"
            ])
    }

    // MARK: Renames

    @Test func qemuRenamesAreBuiltIn() throws {
        // A renamed section (ICH9 LPC -> ICH9-LPC, e1000-82540em -> e1000), a renamed field
        // (e1000: dev -> parent_obj) and a renamed nested description (ich9-ahci: ahci ->
        // ich9_ahci).
        #expect(try Self.check("renames-old", "renames-new") == CompatReport())
        #expect(try Self.script("compat/renames-old.json", "compat/renames-new.json") == "exit status 0\n")
        let without = Self.check(try Self.dump("renames-old"), try Self.dump("renames-new")) {
            $0.options.qemuRenames = false
        }
        #expect(
            without.text() == """
                section "ICH9 LPC": section "ICH9 LPC" does not exist in NEW [section-missing]
                section "e1000-82540em": section "e1000-82540em" does not exist in NEW [section-missing]
                section "ich9-ahci", description "ahci": description "ahci" is "ich9_ahci" in NEW; its fields were not compared [description-renamed]
                NOT compatible: 3 problems (state saved by OLD does not load into NEW: QEMU refuses it or loads wrong values)

                """)
        // The field rename alone: the section under its new name on both sides.
        var old = try Self.dump("renames-old")
        if case .object(var o) = old {
            var s = o["e1000-82540em"]!
            o["e1000-82540em"] = nil
            CompatTests.edit(&s, [.key("Name")]) { $0 = "e1000" }
            o["e1000"] = s
            old = .object(o)
        }
        let fieldOnly = Self.check(old, try Self.dump("renames-new")) { $0.options.qemuRenames = false }
        #expect(
            fieldOnly.findings.filter { $0.section == "e1000" } == [
                CompatFinding(
                    section: "e1000", descriptionName: "e1000", field: "dev", kind: .fieldMismatch,
                    message:
                        "expected field \"dev\", but NEW has \"parent_obj\" in its place; the rest of the fields were not compared"
                )
            ])
        #expect(Self.check(old, try Self.dump("renames-new")).isCompatible)
    }

    @Test func qemuRenameTables() {
        #expect(
            CompatChecker.versionRenames == [
                "hpet": [["num_timers", "num_timers_save"]],
                "esp": [["data_in_ready", "data_ready"], ["ti_cmd", "mig_ti_cmd"]],
                "mpc-i2c": [["dfssr", "dfsrr"]],
                "cpu": [["gt_timer[0]", "gt_timer[GTIMER_PHYS]"], ["gt_timer[1]", "gt_timer[GTIMER_VIRT]"]],
            ])
        #expect(CompatChecker.qemuRenames["hpet"] == [["num_timers", "num_timers_save"]])
        #expect(CompatChecker.qemuRenames.values.reduce(0) { $0 + $1.count } == 53)
        let t = CompatChecker.scriptRenames
        // Every list of the script (29 tables of fields and description names, 45 pairs; 2
        // section renames), as pairs of old and new names.
        #expect(t.count == 30)
        #expect(t.values.reduce(0) { $0 + $1.count } == 47)
        #expect(t["(section)"] == [["ICH9 LPC", "ICH9-LPC"], ["e1000-82540em", "e1000"]])
        #expect(
            t["piix4_pm"] == [
                ["dev", "parent_obj"], ["pci0_status", "acpi_pci_hotplug.acpi_pcihp_pci_status[0x0]"],
                ["pm1a.sts", "ar.pm1.evt.sts"], ["pm1a.en", "ar.pm1.evt.en"], ["pm1_cnt.cnt", "ar.pm1.cnt.cnt"],
                ["tmr.timer", "ar.tmr.timer"], ["tmr.overflow_time", "ar.tmr.overflow_time"], ["gpe", "ar.gpe"],
            ])
        #expect(t["usb-tablet"] == [["usb-ptr-queue", "HIDPointerEventQueue"]])
        #expect(t["spapr_pci"]?.count == 5)
    }

    @Test func renamesArePairs() {
        // The script accepts any two names of a list (piix4_pm's "dev" for "ar.gpe"); a rename
        // here is one pair.
        let old = Self.section("piix4_pm", version: 3, fields: [Self.field("dev", 4)])
        let renamed = Self.section("piix4_pm", version: 3, fields: [Self.field("parent_obj", 4)])
        let other = Self.section("piix4_pm", version: 3, fields: [Self.field("ar.gpe", 4)])
        #expect(Self.check(old, renamed).isCompatible)
        #expect(Self.check(old, other).findings.map(\.kind) == [.fieldMismatch])
    }

    // MARK: QEMU 7.2 and 10.0

    @Test func qemu72DumpToQEMU10Dump() throws {
        let old = "qemu-7.2/dump-vmstate-pc.json", new = "qemu-10.0/dump-vmstate-pc.json"
        let root = TestPaths.packageRoot + "/Tests/Fixtures/"
        // With the script's renames only, to compare with what the script prints.
        let report = Self.check(try TestPaths.readJSON(root + old), try TestPaths.readJSON(root + new)) {
            $0.options = CompatChecker.Options(renames: CompatChecker.scriptRenames, qemuRenames: false)
        }
        #expect(
            report.text() == """
                warning: comparing different machine types: "pc-i440fx-7.2" (OLD) and "pc-i440fx-10.0" (NEW)
                section "e1000e", description "e1000e", field "core.eitr_guest_value": expected field "core.eitr_guest_value", but NEW has "core.itr_guest_value" in its place; the rest of the fields were not compared [field-mismatch]
                section "acpi-ged", description "acpi-ghes", field "ghes_addr_le": expected field "ghes_addr_le", but NEW has "hw_error_le" in its place; the rest of the fields were not compared [field-mismatch]
                section "serial-mm": section "serial-mm" does not exist in NEW [section-missing]
                section "sysbus-ahci": section "sysbus-ahci" does not exist in NEW [section-missing]
                section "acpi-ged-x86": section "acpi-ged-x86" does not exist in NEW [section-missing]
                section "virtio-vga-gl-base-type": section "virtio-vga-gl-base-type" does not exist in NEW [section-missing]
                section "pci-piix3": section "pci-piix3" does not exist in NEW [section-missing]
                section "am53c974", description "esp", field "data_in_ready": expected field "data_in_ready", but NEW has "data_ready" in its place; the rest of the fields were not compared [field-mismatch]
                section "am53c974", description "esp": subsection "esp/pdma" does not exist in NEW (NEW has no subsections) [subsection-missing]
                section "vhost-user-fs-device", description "vhost-user-fs", field "virtio": NEW reads this field from OLD's version 0 (its version_id is 0, not above 0), but OLD does not save it [field-added]
                section "hpet", description "hpet", field "num_timers": expected field "num_timers", but NEW has "num_timers_save" in its place; the rest of the fields were not compared [field-mismatch]
                section "pci-qxl": section "pci-qxl" does not exist in NEW [section-missing]
                section "sysbus-esp", description "esp", field "data_in_ready": expected field "data_in_ready", but NEW has "data_ready" in its place; the rest of the fields were not compared [field-mismatch]
                section "sysbus-esp", description "esp": subsection "esp/pdma" does not exist in NEW (NEW has no subsections) [subsection-missing]
                section "qxl": section "qxl" does not exist in NEW [section-missing]
                section "virtio-vga-gl": section "virtio-vga-gl" does not exist in NEW [section-missing]
                section "qxl-vga": section "qxl-vga" does not exist in NEW [section-missing]
                section "PIIX3-xen": section "PIIX3-xen" does not exist in NEW [section-missing]
                section "dc390", description "esp", field "data_in_ready": expected field "data_in_ready", but NEW has "data_ready" in its place; the rest of the fields were not compared [field-mismatch]
                section "dc390", description "esp": subsection "esp/pdma" does not exist in NEW (NEW has no subsections) [subsection-missing]
                NOT compatible: 20 problems (state saved by OLD does not load into NEW: QEMU refuses it or loads wrong values)

                """)
        // The script reports the same 19 problems, in the same order; the one more is QEMU
        // 10.0's vhost-user-fs field, which the script does not see (7.2's has no fields).
        let script = try Self.script(old, new)
        #expect(script.hasSuffix("exit status 19\n"))
        #expect(
            script.hasPrefix(
                "Warning: checking incompatible machine types: \"pc-i440fx-7.2\", \"pc-i440fx-10.0\"\n"))
        let ours = Self.problems(report)
        #expect(ours.filter { $0 != "vhost-user-fs-device/vhost-user-fs" } == Self.scriptProblems(script))
        #expect(report.findings.filter { $0.kind == .fieldAdded }.map(\.section) == ["vhost-user-fs-device"])
        // With QEMU 7.2 to 10.0's renames too (the default): hpet agrees, and esp is compared
        // past its renamed fields to the one QEMU 10.0 added without a version, which makes
        // QEMU 10.0 refuse 7.2's am53c974 ("Missing section footer for 0000:00:02.0/pciespscsi").
        let all = Self.check(try TestPaths.readJSON(root + old), try TestPaths.readJSON(root + new))
        #expect(all.findings.count == 19)
        #expect(!all.findings.contains { $0.section == "hpet" })
        #expect(
            all.findings.filter { $0.field == "drq_state" }.map { "\($0.section) \($0.kind.rawValue): \($0.message)" }
                == [
                    "am53c974", "sysbus-esp", "dc390",
                ].map {
                    "\($0) field-added: NEW reads this field, but OLD does not save it (NEW loads a nested description at its own version, 7, whatever the version of the field)"
                })
    }

    // MARK: QEMU 7.2 and 10.0, aarch64 `virt`

    // Tests/Fixtures/compat/aarch64-virt-{7.2,10.0}.json: the `-dump-vmstate` files of
    // `qemu-system-aarch64 -M virt` of each version, cut to five sections: imx2.wdt and
    // xlnx.csu_dma (the same in both), imx.fec (10.0 dropped five phy_ fields and went to
    // version 3, minimum 3), allwinner-sdhost (10.0 appended sample_delay at version 1) and
    // aspeed.i2c (10.0 at version 3, minimum 3, its bus struct grown).

    static let arm72 = "aarch64-virt-7.2", arm10 = "aarch64-virt-10.0"

    @Test func fieldsNeitherSideSaves() throws {
        // imx2.wdt and xlnx.csu_dma have version 0 and ptimer fields of version 1: QEMU saves
        // and loads a field only at its version or later, so neither build has them in the
        // stream, and the descriptions, the same on both sides, are compatible.
        let old = try Self.dump(Self.arm72), new = try Self.dump(Self.arm10)
        for doc in [old, new] {
            #expect(doc["imx2.wdt"]?["version_id"] == 0)
            #expect(
                doc["imx2.wdt"]?["Description"]?["Fields"]?.arrayValue?.prefix(2).map { $0["version_id"] } == [1, 1])
            #expect(doc["xlnx.csu_dma"]?["Description"]?["Fields"]?[0]?["version_id"] == 1)
            // A build's description loads its own state.
            #expect(Self.check(doc, doc) == CompatReport())
        }
        let sections = ["imx2.wdt", "xlnx.csu_dma"]
        for (a, b) in [(old, new), (new, old)] {
            #expect(Self.check(a, b).findings.filter { sections.contains($0.section) } == [])
        }
        for (a, b) in [(Self.arm72, Self.arm10), (Self.arm10, Self.arm72)] {
            let script = try Self.script("compat/\(a).json", "compat/\(b).json")
            #expect(!script.contains("imx2.wdt") && !script.contains("xlnx.csu_dma"))
        }
    }

    /// A buffer longer than the other side's of the same name, with no fields after it on the
    /// other side to make up its bytes: a size change, both ways (pseries' `fdt_blob` between two
    /// vmdescs; it was "unused space" one way and "no further fields" the other).
    @Test func aLongerBufferNotMadeUpByFieldsIsASizeChange() throws {
        func vmdesc(_ size: Int) throws -> JSONValue {
            try Self.oneDevice(
                #"{"name": "len", "type": "uint32", "size": 4}, {"name": "blob", "type": "buffer", "size": \#(size)}"#)
        }
        func check(_ a: Int, _ b: Int) throws -> [String] {
            Self.check(try vmdesc(a), try vmdesc(b)) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }.findings.map(\.text)
        }
        #expect(
            try check(8, 12) == [
                #"section "dev", description "dev", field "blob": size changed from 8 bytes in OLD to 12 bytes in NEW (the longer buffer is not the other side's and the fields after it: those end 4 bytes short) [size]"#
            ])
        #expect(
            try check(12, 8) == [
                #"section "dev", description "dev", field "blob": size changed from 12 bytes in OLD to 8 bytes in NEW (the longer buffer is not the other side's and the fields after it: those end 4 bytes short) [size]"#
            ])
    }

    /// An array whose element count each stream holds in an earlier field (ARM's register list
    /// after cpreg_vmstate_array_len) may differ between two streams: QEMU reads the count the
    /// stream gives. But a fixed array whose length changed, next to a field that holds that
    /// length by chance, looks the same (verify12 N2: 4 and 8 elements, `n` 4 and 8, whose load
    /// fails): undecided, not compatible without a doubt. Without such a field: a size change.
    @Test func anArrayAsLongAsAnEarlierFieldOfEachStreamIsUndecided() throws {
        func vmdesc(_ count: Int) throws -> JSONValue {
            try Self.oneDevice(
                #"{"name": "n", "type": "uint32", "size": 4}, {"name": "arr", "type": "uint32", "size": 4, "array_len": \#(count)}"#
            )
        }
        let sized: Set<SizedBuffer> = [SizedBuffer(section: "dev", description: "dev", field: "arr")]
        let report = Self.check(try vmdesc(4), try vmdesc(8)) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
            ($0.oldSizedBuffers, $0.newSizedBuffers) = (sized, sized)
        }
        #expect(report.isCompatible && report.undecided == 1)
        #expect(
            report.warnings == [
                #"section "dev", description "dev", field "arr": an array of 16 bytes in OLD and 32 bytes in NEW, each of as many elements as an earlier field of its stream holds: if that field is its count (VMSTATE_VARRAY*), QEMU reads as many elements as the stream says (checks of the count are findings of their own); if the array's length is fixed, it changed (not loadable)"#
            ])
        let unsized = Self.check(try vmdesc(4), try vmdesc(8)) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
        }
        #expect(
            unsized.findings.map(\.text) == [
                #"section "dev", description "dev", field "arr": size changed from 16 bytes in OLD to 32 bytes in NEW [size]"#
            ])
    }

    /// QEMU 7.2 to 10.0's renames the script lacks, between two vmdescs as QEMU 7.2 and 10.0
    /// save them: ARM's `cpu` timers (7.2's `GTIMER_PHYS` was a `#define` of 0, so its field is
    /// "gt_timer[0]") and mpc-i2c's `dfssr`, now `dfsrr`. Without QEMU's renames: the mismatch.
    @Test func armTimerAndMPCI2CRenames() throws {
        func vmdesc(_ timers: (String, String), _ i2c: String) throws -> JSONValue {
            try Self.vmdesc(devices: [
                Self.vmdescDevice(
                    "cpu", version: 22,
                    fields: #"{"name": "\#(timers.0)", "type": "timer", "size": 8}, "#
                        + #"{"name": "\#(timers.1)", "type": "timer", "size": 8}, "#
                        + #"{"name": "pmsav7_dummy", "type": "uint32", "size": 4}"#),
                Self.vmdescDevice(
                    "mpc-i2c",
                    fields: #"{"name": "dr", "type": "uint8", "size": 1}, "#
                        + #"{"name": "\#(i2c)", "type": "uint8", "size": 1}"#),
            ]).document
        }
        let old = try vmdesc(("gt_timer[0]", "gt_timer[1]"), "dfssr")
        let new = try vmdesc(("gt_timer[GTIMER_PHYS]", "gt_timer[GTIMER_VIRT]"), "dfsrr")
        for (a, b) in [(old, new), (new, old)] {
            let report = Self.check(a, b) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }
            #expect(report.isCompatible && report.findings.isEmpty && report.warnings.isEmpty, "\(report.text())")
        }
        let without = Self.check(old, new) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
            $0.options.qemuRenames = false
        }
        #expect(
            without.findings.map(\.text) == [
                #"section "cpu", description "cpu", field "gt_timer[0]": expected field "gt_timer[0]", but NEW has "gt_timer[GTIMER_PHYS]" in its place; the rest of the fields were not compared [field-mismatch]"#,
                #"section "mpc-i2c", description "mpc-i2c", field "dfssr": expected field "dfssr", but NEW has "dfsrr" in its place; the rest of the fields were not compared [field-mismatch]"#,
            ])
    }

    @Test func aarch64Virt72To10() throws {
        // The script's 5 problems; the one more is allwinner-sdhost's sample_delay, which NEW
        // reads from OLD's version 1 (the script does not look past OLD's last field).
        // aspeed.i2c's bus struct grew in NEW (pool, dma_dram_offset), but NEW refuses OLD's
        // version 2 (its minimum is 3) and reads none of it: no field-added there.
        let report = try Self.check(Self.arm72, Self.arm10)
        #expect(
            report.text() == """
                warning: comparing different machine types: "virt-7.2" (OLD) and "virt-10.0" (NEW)
                section "allwinner-sdhost", description "allwinner-sdhost", field "sample_delay": NEW reads this field from OLD's version 1 (its version_id is 0, not above 1), but OLD does not save it [field-added]
                section "imx.fec", description "imx.fec": OLD saves version 2, but NEW accepts only versions 3 and later [minimum-version]
                section "imx.fec", description "imx.fec", field "phy_status": OLD saves field "phy_status" here, but NEW has no further fields [field-missing]
                section "aspeed.i2c", description "aspeed.i2c": OLD saves version 2, but NEW accepts only versions 3 and later [minimum-version]
                section "aspeed.i2c", description "aspeed.i2c": OLD saves version 5, but NEW accepts only versions 6 and later [minimum-version]
                section "aspeed.i2c", description "aspeed.i2c", field "pool": expected field "pool", but NEW has "share_pool" in its place; the rest of the fields were not compared [field-mismatch]
                NOT compatible: 6 problems (state saved by OLD does not load into NEW: QEMU refuses it or loads wrong values)

                """)
        let script = try Self.script("compat/\(Self.arm72).json", "compat/\(Self.arm10).json")
        #expect(script.hasSuffix("exit status 5\n"))
        #expect(
            Self.problems(report).filter { $0 != "allwinner-sdhost/allwinner-sdhost" } == Self.scriptProblems(script))
    }

    @Test func aarch64Virt10To72() throws {
        // NEW (7.2) refuses OLD's imx.fec version 3: the five phy_ fields it has after OLD's
        // last one are not reported as read. The script prints each top-level version error
        // twice (section and description), 8 lines for these 6 problems.
        let report = try Self.check(Self.arm10, Self.arm72)
        #expect(
            report.text() == """
                warning: comparing different machine types: "virt-10.0" (OLD) and "virt-7.2" (NEW)
                section "allwinner-sdhost", description "allwinner-sdhost", field "sample_delay": OLD saves field "sample_delay" here, but NEW has no further fields [field-missing]
                section "imx.fec", description "imx.fec": version 3 in OLD, but only 2 in NEW: NEW cannot load the newer state [version]
                section "aspeed.i2c", description "aspeed.i2c": version 3 in OLD, but only 2 in NEW: NEW cannot load the newer state [version]
                section "aspeed.i2c", description "aspeed.i2c": version 6 in OLD, but only 5 in NEW: NEW cannot load the newer state [version]
                section "aspeed.i2c", description "aspeed.i2c", field "pool": OLD saves field "pool" here, but NEW has no further fields [field-missing]
                section "aspeed.i2c", description "aspeed.i2c", field "share_pool": expected field "share_pool", but NEW has "pool" in its place; the rest of the fields were not compared [field-mismatch]
                NOT compatible: 6 problems (state saved by OLD does not load into NEW: QEMU refuses it or loads wrong values)

                """)
        let script = try Self.script("compat/\(Self.arm10).json", "compat/\(Self.arm72).json")
        #expect(script.hasSuffix("exit status 8\n"))
        let sectionLevel = ["Section \"imx.fec\" version error: 3 > 2", "Section \"aspeed.i2c\" version error: 3 > 2"]
        #expect(sectionLevel.allSatisfy { script.contains($0 + "\n") })
        let scriptWithoutSectionLevel = script.split(separator: "\n").filter { !sectionLevel.contains(String($0)) }
            .joined(separator: "\n")
        #expect(Self.problems(report) == Self.scriptProblems(scriptWithoutSectionLevel))
    }

    @Test func qemu10DumpToQEMU72Dump() throws {
        // Backward: the same 39 problems as the script, in the same order.
        let old = "qemu-10.0/dump-vmstate-pc.json", new = "qemu-7.2/dump-vmstate-pc.json"
        let root = TestPaths.packageRoot + "/Tests/Fixtures/"
        let report = Self.check(try TestPaths.readJSON(root + old), try TestPaths.readJSON(root + new)) {
            $0.options = CompatChecker.Options(renames: CompatChecker.scriptRenames, qemuRenames: false)
        }
        let script = try Self.script(old, new)
        #expect(script.hasSuffix("exit status 39\n"))
        #expect(report.findings.count == 39)
        #expect(Self.problems(report) == Self.scriptProblems(script))
        func kinds(_ r: CompatReport) -> [String: Int] {
            r.findings.map(\.kind.rawValue).reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
        }
        #expect(
            kinds(report) == [
                "section-missing": 22, "field-mismatch": 6, "subsection-missing": 7, "version": 3, "field-missing": 1,
            ])
        // With QEMU 7.2 to 10.0's renames (the default): hpet agrees; each esp is compared past
        // its renamed fields to the field 7.2 lacks (QEMU 7.2 loads 10.0's esp section, which
        // has as many bytes, into other fields).
        let all = Self.check(try TestPaths.readJSON(root + old), try TestPaths.readJSON(root + new))
        #expect(
            kinds(all) == [
                "section-missing": 22, "field-mismatch": 2, "subsection-missing": 7, "version": 3, "field-missing": 4,
            ])
        #expect(!all.findings.contains { $0.section == "hpet" })
        #expect(
            all.findings.filter { $0.kind == .fieldMissing && $0.field == "drq_state" }.map(\.section) == [
                "am53c974", "sysbus-esp", "dc390",
            ])
    }
}

extension CompatRuleTests {
    /// `value` with the member at `path` (object keys) replaced by `new`.
    static func replacing(_ value: JSONValue, _ path: [String], with new: JSONValue) -> JSONValue {
        guard let first = path.first, var o = value.objectValue else { return new }
        o[first] = replacing(o[first] ?? .null, Array(path.dropFirst()), with: new)
        return .object(o)
    }

    /// An array of structs whose length changed: "num" of two -dump-vmstate files (QEMU 10.0's
    /// usb-hub `ports`), "array_len" of two vmdescs (QEMU 10.0's xhci `ports`, whose length
    /// the `p2`/`p3` properties set; QEMU refuses the stream: "Missing section footer").
    @Test func structArrayLengthChanged() throws {
        var dump = try TestPaths.readJSON(TestPaths.qemu10Fixtures + "/dump-vmstate-pc.json")
        let original = dump
        let hub = try #require(dump.objectValue?["usb-hub"])
        var fields = try #require(hub.objectValue?["Description"]?.objectValue?["Fields"]?.arrayValue)
        var ports = try #require(fields[1].objectValue)
        #expect(ports["field"] == "ports" && ports["num"] == 8)
        ports["num"] = 4
        fields[1] = .object(ports)
        dump = Self.replacing(dump, ["usb-hub", "Description", "Fields"], with: .array(fields))
        let r = Self.check(dump, original)
        #expect(
            r.findings.map { "\($0.section)|\($0.field ?? "")|\($0.kind.rawValue)|\($0.message)" } == [
                "usb-hub|ports|size|array length changed from 4 in OLD to 8 in NEW (elements of description \"usb-hub-port\")"
            ])
        #expect(Self.check(original, original).findings.isEmpty)

        let vmdesc = try TestPaths.readJSON(TestPaths.qemu10Fixtures + "/q35-devices/vmdesc.json")
        let old = try DescriptionSet(vmdesc, label: "OLD")
        var new = old
        let i = try #require(new.entries.firstIndex { $0.section == "0000:00:02.0/xhci" })
        var top = try #require(new.entries[i].value["Description"]?.objectValue?["Fields"]?.arrayValue)
        var xhci = try #require(top[2].objectValue?["Description"]?.objectValue)
        var inner = try #require(xhci["Fields"]?.arrayValue)
        var p = try #require(inner[0].objectValue)
        #expect(p["field"] == "ports" && p["array_len"] == 8)
        p["array_len"] = 16
        inner[0] = .object(p)
        xhci["Fields"] = .array(inner)
        var field = try #require(top[2].objectValue)
        field["Description"] = .object(xhci)
        top[2] = .object(field)
        var description = try #require(new.entries[i].value["Description"]?.objectValue)
        description["Fields"] = .array(top)
        new.entries[i].value["Description"] = .object(description)
        let v = Self.check(old.document, new.document) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
        }
        #expect(
            v.findings.map { "\($0.section)|\($0.field ?? "")|\($0.kind.rawValue)|\($0.message)" } == [
                "0000:00:02.0/xhci|ports|size|array length changed from 8 in OLD to 16 in NEW (elements of description \"xhci-port\")"
            ])
    }

    /// A buffer that the other side's same-named buffer and the fields after it share out
    /// exactly (QEMU 10.0's globalstate, from these vmdesc entries of the fixtures) is a warning
    /// both ways; fields that come out longer are a size problem.
    @Test func aBufferSharedOutByTheOtherSidesFields() throws {
        func set(_ fields: [JSONValue]) throws -> JSONValue {
            let entry: JSONValue = [
                "name": "globalstate", "instance_id": 0, "vmsd_name": "globalstate", "version": 1,
                "fields": .array(fields),
            ]
            return try DescriptionSet(["page_size": 4096, "devices": [entry]], label: "x", elementSizes: false)
                .document
        }
        func f(_ name: String, _ type: String, _ size: Int) -> JSONValue {
            ["name": .string(name), "type": .string(type), "size": .number(JSONNumber(Int64(size)))]
        }
        let seven = try set([f("size", "uint32", 4), f("runstate", "buffer", 100)])
        let ten = try set([
            f("size", "uint32", 4), f("runstate", "buffer", 32), f("has_vm_was_suspended", "uint8", 1),
            f("vm_was_suspended", "uint8", 1), f("unused", "buffer", 66),
        ])
        func run(_ old: JSONValue, _ new: JSONValue) -> CompatReport {
            Self.check(old, new) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }
        }
        let warning = { (side: String, other: String) in
            "section \"globalstate\", description \"globalstate\", field \"runstate\": \(side)'s buffer of 100 bytes is \(other)'s \"runstate\" and the fields after it, the same bytes in all: QEMU loads them as they are (whether the device reads them alike is its own design)"
        }
        #expect(Self.warnings(run(seven, ten)) == [warning("OLD", "NEW")])
        #expect(Self.warnings(run(ten, seven)) == [warning("NEW", "OLD")])
        let longer = try set([
            f("size", "uint32", 4), f("runstate", "buffer", 32), f("has_vm_was_suspended", "uint8", 1),
            f("vm_was_suspended", "uint8", 1), f("unused", "buffer", 70),
        ])
        #expect(
            run(seven, longer).findings.map(\.message) == [
                "size changed: OLD's buffer \"runstate\" (100 bytes) is NEW's fields from \"runstate\" up to \"unused\", which are 4 bytes longer"
            ])
        #expect(
            run(longer, seven).findings.map(\.message) == [
                "size changed: NEW's buffer \"runstate\" (100 bytes) is OLD's fields from \"runstate\" up to \"unused\", which are 4 bytes longer"
            ])
    }

    /// Two vmdescs give the bytes each save wrote: a field whose VMStateInfo writes what the
    /// state needs (QEMU's `virtio`: 45,541 and 45,563 bytes in two saves of one QEMU 7.2
    /// virtio-balloon) differs in size with a warning, loadable; a fixed-width one is a problem.
    @Test func aFieldSizedByItsStateIsNotComparedBetweenTwoVMDescs() throws {
        func set(_ type: String, _ size: Int) throws -> JSONValue {
            let fields: [JSONValue] = [
                ["name": "virtio", "type": .string(type), "size": .number(JSONNumber(Int64(size)))],
                ["name": "after", "type": "uint32", "size": 4],
            ]
            let entry: JSONValue = [
                "name": "0000:00:02.0/virtio-balloon", "instance_id": 0, "vmsd_name": "virtio-balloon", "version": 1,
                "fields": .array(fields),
            ]
            return try DescriptionSet(["page_size": 4096, "devices": [entry]], label: "x").document
        }
        func run(_ old: JSONValue, _ new: JSONValue) -> CompatReport {
            Self.check(old, new) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }
        }
        #expect(
            Self.warnings(run(try set("virtio", 45541), try set("virtio", 45563))) == [
                "section \"0000:00:02.0/virtio-balloon\", description \"virtio-balloon\", field \"virtio\": size 45541 "
                    + "bytes in OLD, 45563 bytes in NEW; its type (virtio) writes as many bytes as the state saved needs, "
                    + "so two saves may differ, and so do devices made with other options (virtio-net's queues=), "
                    + "some of which QEMU refuses (not compared)"
            ])
        #expect(
            run(try set("uint32", 4), try set("uint32", 8)).findings.map { "\($0.kind.rawValue)|\($0.message)" } == [
                "size|size changed from 4 bytes in OLD to 8 bytes in NEW"
            ])
    }

    /// A NEW vmdesc's field after OLD's last, saved at OLD's version: one value of a
    /// fixed-width type (QEMU 10.0's esp `drq_state`, which QEMU 10.0 reads from QEMU 7.2's
    /// streams and fails) is a field OLD never saved; an array (`array_len`, or QEMU 7.2's
    /// `index`) may have been empty in OLD's save, a warning.
    @Test func aScalarFieldOnlyNEWsVMDescHasIsAProblem() throws {
        func set(_ extra: JSONValue?) throws -> JSONValue {
            var fields: [JSONValue] = [["name": "status", "type": "uint8", "size": 1]]
            if let extra { fields.append(extra) }
            let entry: JSONValue = [
                "name": "esp", "instance_id": 0, "vmsd_name": "esp", "version": 6, "fields": .array(fields),
            ]
            return try DescriptionSet(["page_size": 4096, "devices": [entry]], label: "x").document
        }
        func run(_ new: JSONValue?) throws -> CompatReport {
            Self.check(try set(nil), try set(new)) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }
        }
        #expect(
            try run(["name": "drq_state", "type": "bool", "size": 1]).findings.map {
                "\($0.field ?? "")|\($0.kind.rawValue)|\($0.message)"
            } == [
                "drq_state|field-added|NEW saves this field (one bool) after OLD's last saved field and reads it from "
                    + "OLD's stream, but OLD does not save it (a vmdesc shows no entry for an empty variable-size "
                    + "array, and NEW's shows one value, not an array)"
            ])
        let warning =
            "section \"esp\", description \"esp\", field \"fifo\": NEW reads this field after OLD's last saved field; "
            + "OLD's vmdesc has no entry for it: it was an empty variable-size array or a conditional field left out when saved (loadable when its count or test comes from the stream; not when the devices' options set it, as memory hotplug's slots= does), or OLD lacks "
            + "it (not loadable)"
        #expect(Self.warnings(try run(["name": "fifo", "type": "uint8", "size": 1, "array_len": 16])) == [warning])
        #expect(Self.warnings(try run(["name": "fifo", "type": "uint8", "size": 1, "index": 0])) == [warning])
    }

    /// The same rule before a field both have: QEMU 7.2's esp reads `ti_cmd` before `lun`,
    /// and QEMU 10.0 no longer saves it, so 7.2 takes 10.0's `lun` for `ti_cmd` (one uint8 in
    /// 7.2's vmdesc: no empty array). The other way, one value only OLD's vmdesc shows may be a
    /// field NEW reads from older saves only (QEMU 10.0 reads 7.2's `ti_cmd` so): a warning.
    @Test func aScalarFieldBeforeAFieldBothHaveIsAProblem() throws {
        func set(_ middle: JSONValue?) throws -> JSONValue {
            var fields: [JSONValue] = [["name": "status", "type": "uint8", "size": 1]]
            if let middle { fields.append(middle) }
            fields.append(["name": "lun", "type": "uint8", "size": 1])
            let entry: JSONValue = [
                "name": "esp", "instance_id": 0, "vmsd_name": "esp", "version": 6, "fields": .array(fields),
            ]
            return try DescriptionSet(["page_size": 4096, "devices": [entry]], label: "x").document
        }
        func run(_ old: JSONValue?, _ new: JSONValue?) throws -> CompatReport {
            Self.check(try set(old), try set(new)) {
                $0.oldIsVMDesc = true
                $0.newIsVMDesc = true
            }
        }
        let tiCmd: JSONValue = ["name": "ti_cmd", "type": "uint8", "size": 1]
        #expect(
            try run(nil, tiCmd).findings.map { "\($0.field ?? "")|\($0.kind.rawValue)|\($0.message)" } == [
                "ti_cmd|field-added|NEW saves this field (one uint8) before \"lun\" and reads it from OLD's stream, "
                    + "but OLD does not save it (a vmdesc shows no entry for an empty variable-size array, and "
                    + "NEW's shows one value, not an array); the rest of the fields were not compared"
            ])
        #expect(
            Self.warnings(try run(tiCmd, nil)) == [
                "section \"esp\", description \"esp\", field \"ti_cmd\": OLD saves this field before \"lun\"; NEW's "
                    + "vmdesc has no entry for it: NEW reads it only from older saves, as a conditional field (fine), "
                    + "or NEW lacks it (not loadable)"
            ])
        // An array on the side that has it may have been empty on the other's save: warnings.
        let fifo: JSONValue = ["name": "fifo", "type": "uint8", "size": 1, "array_len": 16]
        #expect(
            Self.warnings(try run(nil, fifo)) == [
                "section \"esp\", description \"esp\", field \"fifo\": NEW reads this field before \"lun\"; OLD's "
                    + "vmdesc has no entry for it: it was an empty variable-size array or a conditional field left out when saved (loadable when its count or test comes from the stream; not when the devices' options set it, as memory hotplug's slots= does), or OLD "
                    + "lacks it (not loadable)"
            ])
        #expect(
            Self.warnings(try run(fifo, nil)) == [
                "section \"esp\", description \"esp\", field \"fifo\": OLD saves this field before \"lun\"; NEW's "
                    + "vmdesc has no entry for it: it was an empty variable-size array or a conditional field left out when NEW saved (loadable when its count or test comes from the stream; not when the devices' options set it, as memory hotplug's slots= does), or NEW "
                    + "lacks it (not loadable)"
            ])
    }

    /// A vmdesc entry of QEMU's old-style handlers (no `vmsd_name`, no `version`) becomes an
    /// entry with no description; a section old-style on one side and described on the other
    /// is not compared, with a warning.
    @Test func oldStyleVMDescEntries() throws {
        let slirp: JSONValue = [
            "name": "slirp", "instance_id": 0, "size": 131,
            "fields": [["name": "data", "size": 131, "type": "buffer"]],
        ]
        let described: JSONValue = [
            "name": "slirp", "instance_id": 0, "vmsd_name": "slirp", "version": 4,
            "fields": [["name": "data", "size": 131, "type": "buffer"]],
        ]
        let old = try DescriptionSet(["page_size": 4096, "devices": [slirp]], label: "OLD")
        #expect(old.entries.count == 1)
        #expect(old.entries[0].oldStyle)
        #expect(old.entries[0].value == ["Name": "slirp"])
        #expect(old.entries[0].descriptionName == nil)
        let new = try DescriptionSet(["page_size": 4096, "devices": [described]], label: "NEW")
        #expect(!new.entries[0].oldStyle)
        let r = Self.check(old.document, new.document) {
            $0.oldIsVMDesc = true
            $0.newIsVMDesc = true
        }
        #expect(r.isCompatible)
        #expect(
            r.warnings == [
                "section \"slirp\" is saved by QEMU's old-style handlers in OLD (no description) and by a description in the other: not compared"
            ])
        let gone = Self.check(
            old.document, try DescriptionSet(["page_size": 4096, "devices": []], label: "NEW").document)
        #expect(gone.findings.map(\.message) == ["section \"slirp\" does not exist in NEW"])
    }

    /// A `fields` or `subsections` list met again (converted once: lists with the same text
    /// share their storage, as here lists built from one array do) is refused past 64 levels of
    /// descriptions deeper down just as it is the first time, whatever came before it.
    @Test func aListMetAgainDeeperIsRefusedPast64Levels() throws {
        let leaf: JSONValue = [
            "vmsd_name": "leaf", "version": 1, "fields": [["name": "f", "size": 4, "type": "uint32"]],
        ]
        let shared: JSONValue = [leaf]
        func wrapped(_ levels: Int) -> JSONObject {
            var d: JSONValue = ["vmsd_name": "top", "version": 1, "fields": [], "subsections": shared]
            for level in 0..<levels {
                d = ["vmsd_name": .string("w\(level)"), "version": 1, "fields": [], "subsections": [d]]
            }
            var b = d.objectValue!
            b["name"] = "b"
            b["instance_id"] = 0
            b["section_id"] = 1
            return b
        }
        let a: JSONValue = [
            "name": "a", "instance_id": 0, "section_id": 2, "vmsd_name": "a", "version": 1, "fields": [],
            "subsections": shared,
        ]
        func set(_ devices: [JSONValue]) throws -> DescriptionSet {
            try DescriptionSet(["page_size": 4096, "devices": .array(devices)], label: "OLD")
        }
        // 63 wrappers put the leaf 64 levels down: refused alone, and after `a` met it at level 1.
        for devices in [[JSONValue.object(wrapped(63))], [a, .object(wrapped(63))]] {
            #expect {
                _ = try set(devices)
            } throws: { error in
                (error as? CompatInputError)?.message == "descriptions nested deeper than 64 levels"
            }
        }
        // 62 wrappers: the leaf 63 levels down, accepted alone and reused.
        let alone = try set([.object(wrapped(62))])
        let reused = try set([a, .object(wrapped(62))])
        let b = try #require(alone.document.objectValue?.members.first)
        #expect(alone.document.objectValue?.count == 1)
        #expect(reused.document.objectValue?.members.last == b)
    }
}

@Suite(.enabled(if: Tool.path != nil, "the vmstate executable is not built next to the tests"))
struct CompatRuleCLITests {
    static let dir = TestPaths.packageRoot + "/Tests/Fixtures/compat"

    @Test func addedFieldAndRenames() throws {
        let added = try Tool.run(["compat", Self.dir + "/tiny-v3.json", Self.dir + "/tiny-added.json"])
        #expect(added.status == 1)
        #expect(
            added.stdout == """
                section "tiny-rtc", description "tiny-rtc", field "irq_coalesced": NEW reads this field from OLD's version 3 (its version_id is 0, not above 3), but OLD does not save it [field-added]
                NOT compatible: 1 problem (state saved by OLD does not load into NEW: QEMU refuses it or loads wrong values)

                """)
        let renames = [Self.dir + "/renames-old.json", Self.dir + "/renames-new.json"]
        let on = try Tool.run(["compat"] + renames)
        #expect(on.status == 0)
        #expect(on.stdout == "compatible: state saved by OLD loads into NEW\n")
        let off = try Tool.run(["compat", "--no-qemu-renames", "--json"] + renames)
        #expect(off.status == 1)
        #expect(
            try JSONValue(parsing: off.stdout).arrayValue?.map { $0["kind"] } == [
                "section-missing", "section-missing", "description-renamed",
            ])
    }
}
