import CVMState

/// Checks C `VMStateDescription` tables against the flag rules of QEMU 7.2's migration core
/// (docs/FORMAT.md §7), without running them: `vmstate lint`'s rule checker.
///
/// A table is walked from its top-level description through nested struct descriptions
/// (STRUCT, VSTRUCT, and the `vmsd` of `tmp`, `qtailq`, `qlist` and `gtree` fields) and
/// subsections. Each finding names the place as a path: the top-level description's name, then
/// `/field` for each field (through nested structs), and for a subsection `/` plus its name
/// without the parent's `name/` prefix (so `hpet/offset/hpet_offset`, `pckbd/kbd/extended_state`).
///
/// Rules (``Rule``), errors first:
/// - `array-varray-exclusive`: VMS_ARRAY together with a VMS_VARRAY_* flag.
/// - `varray-exclusive`: more than one VMS_VARRAY_* flag.
/// - `multiply-needs-vbuffer`: VMS_MULTIPLY without VMS_VBUFFER.
/// - `alloc-needs-pointer`: VMS_ALLOC without VMS_POINTER.
/// - `multiply-elements-needs-count`: VMS_MULTIPLY_ELEMENTS without an element count (VMS_ARRAY
///   or VMS_VARRAY_*) or with `num` (the multiplier) below 1.
/// - `struct-needs-vmsd`: VMS_STRUCT / VMS_VSTRUCT, or the `tmp`, `qtailq`, `qlist`, `gtree`
///   infos, without `vmsd`.
/// - `needs-info`: any other field (except VMSTATE_VALIDATE) without `info`.
/// - `subsection-name`: a subsection whose name does not start with its parent's name (the
///   loader would hand it back to the caller, so it never loads), is not longer than it, is
///   longer than 255 bytes, or is used twice under one parent.
/// - `out-of-bounds`: a field that reaches past the end of its struct, where the struct's size
///   is known (nested structs: the field `size` of the struct field; top level: `structSize`).
///   For a field with a custom info only its offset is checked (the info decides what it
///   touches).
/// - `version-range`: `minimum_version_id` above `version_id`.
/// - `recursive-struct`: a description that contains itself in every instance, through fields
///   saved a fixed number of times (saving it would not end). One that contains itself through
///   a field the state may leave empty (a VMS_VARRAY_* count, a list, a tree, an array of
///   pointers, a `field_exists` test, a subsection with `needed`) is a tree: not reported (its
///   depth is the data's). Also reported under this rule: descriptions nested deeper than 64
///   levels, which the engine refuses when it plans them.
/// - `missing-name`: a description without a name.
///
/// Warnings:
/// - `subsection-separator`: a subsection name that starts with the parent's name but not with
///   `parent/` (QEMU accepts it; the convention is `parent/name`).
/// - `duplicate-field`: one table lists the same entry twice (same offset, size, flags, count,
///   info, vmsd, version and test: a copied line saves the field twice; vmdesc calls them
///   `name[0]`, `name[1]`, ...), or two entries of one name, neither with a `field_exists`
///   test, save the same bytes (a copied line with a version bump, `VMSTATE_UINT32(x)` beside
///   `VMSTATE_UINT32_EQUAL(x)`, overlapping slices): QEMU saves every entry without a test
///   whose version_id is not above the description's. Other entries that share a name are
///   QEMU's idioms, not reported: QEMU's macros name a field after its C member, so slices of
///   one array that do not overlap (`VMSTATE_UINT32_SUB_ARRAY`, the x86 vector registers),
///   alternatives chosen by a test (PCI's two `config` entries, fw_cfg's `cur_offset`) and
///   the names the macros fix (`unused`, `tmp`) repeat in QEMU's own devices.
/// - `varray-unvalidated`: a VMS_VARRAY_* field whose count is loaded from the stream earlier in
///   the same table with no guard: no VMSTATE_VALIDATE between the count and the array or
///   right after the array, no `field_exists` test of the array's own (QEMU's "guarded pair",
///   virtio-net's MAC table: lint cannot read what a test checks, as for VMSTATE_VALIDATE), and
///   the count not loaded with an `_equal` or `int32 le` info. Not reported where nothing can
///   be overrun: VMS_ALLOC arrays (the engine allocates count × size) and `VMSTATE_UNUSED_*`
///   fields (their bytes are read and dropped). (VMS_POINTER arrays without VMS_ALLOC get
///   `unguarded` instead.)
/// - `unguarded`: a VMS_POINTER field without VMS_ALLOC whose element count (VMS_VARRAY_*) or
///   byte size (VMS_VBUFFER) comes unguarded (as above) from the stream: the engine cannot
///   know how much memory is behind the pointer.
/// - `missing-end`: a field list that ends without QEMU 10.0's VMS_END flag while another
///   table of the list has it: a table built with `VMSTATE_QEMU_API` 1000 whose list ends with
///   `{}` where `VMSTATE_END_OF_LIST()` belongs, on which QEMU 10.0 aborts (the assertion after
///   the field loops of `vmstate_save_state` and `vmstate_load_state`, and in `-dump-vmstate`);
///   `vmstate schema` would take it for a QEMU 7.2 table. (A list of QEMU 7.2 tables and 10.0
///   tables together is reported too; a single table cannot be told.)
/// - `field-version`: a field whose `version_id` is above its description's (never saved).
/// - `file-descriptor`: a QEMU 10.0 `VMSTATE_FD` field (`vmstate_info_fd`): a file descriptor
///   cannot travel in a byte buffer or stream, so saving it fails (-1, the file's error -EIO) and
///   loading it fails (-EIO, the field set to -1), as QEMU 10.0 on a channel without descriptor
///   passing; only a `field_exists` test that is false (VMSTATE_FD_TEST) keeps the table usable.
public enum VMStateLint {
    /// How bad a finding is: an error is a table that cannot work — one the engine refuses, one
    /// whose save would not end (`recursive-struct`: the engine stops it at its nesting limit,
    /// `.boundExceeded`), or one QEMU's own engine could not save (`missing-name`: the
    /// library's engine calls it "(unnamed)") —, a warning a likely mistake.
    public enum Severity: String, Sendable, Comparable {
        case warning
        case error

        /// Warnings order before errors.
        public static func < (a: Severity, b: Severity) -> Bool {
            a == .warning && b == .error
        }
    }

    /// The rules, named by the ids `vmstate lint` prints (listed on ``VMStateLint``).
    public enum Rule: String, Sendable, CaseIterable {
        case arrayVarrayExclusive = "array-varray-exclusive"
        case varrayExclusive = "varray-exclusive"
        case multiplyNeedsVbuffer = "multiply-needs-vbuffer"
        case allocNeedsPointer = "alloc-needs-pointer"
        case multiplyElementsNeedsCount = "multiply-elements-needs-count"
        case structNeedsVmsd = "struct-needs-vmsd"
        case needsInfo = "needs-info"
        case subsectionName = "subsection-name"
        case outOfBounds = "out-of-bounds"
        case versionRange = "version-range"
        case recursiveStruct = "recursive-struct"
        case missingName = "missing-name"
        case subsectionSeparator = "subsection-separator"
        case duplicateField = "duplicate-field"
        case varrayUnvalidated = "varray-unvalidated"
        case unguarded = "unguarded"
        case fieldVersion = "field-version"
        case fileDescriptor = "file-descriptor"
        case missingEnd = "missing-end"

        /// Whether breaking the rule is an error or a warning.
        public var severity: Severity {
            switch self {
            case .subsectionSeparator, .duplicateField, .varrayUnvalidated, .unguarded, .fieldVersion,
                .fileDescriptor, .missingEnd:
                return .warning
            default:
                return .error
            }
        }
    }

    /// One broken rule at one place of a table.
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        /// The rule's severity.
        public let severity: Severity
        /// `desc/field`, nested through structs and subsections.
        public let path: String
        /// The rule broken.
        public let rule: Rule
        /// What is wrong, in a sentence.
        public let message: String

        /// A finding of `rule` at `path`; the severity is the rule's.
        public init(rule: Rule, path: String, message: String) {
            self.severity = rule.severity
            self.path = path
            self.rule = rule
            self.message = message
        }

        /// `error: path: message [rule]`
        public var description: String {
            "\(severity.rawValue): \(path): \(message) [\(rule.rawValue)]"
        }
    }

    /// The findings for one top-level description. `structSize`, when given, is sizeof the
    /// struct the description is saved from (enables `out-of-bounds` at the top level).
    ///
    /// `vmsd` is read as a C table (valid for the call, terminated as QEMU's are); nothing is
    /// written, and no pointer is kept in the findings.
    public static func check(_ vmsd: UnsafePointer<VMStateDescription>, structSize: Int? = nil) -> [Finding] {
        check(vmsd, structSize: structSize, endedByVMSEnd: endedByVMSEnd([vmsd]))
    }

    /// The findings for several top-level descriptions, in order (`missing-end` compares all
    /// of them).
    public static func check(_ vmsds: [UnsafePointer<VMStateDescription>]) -> [Finding] {
        var findings: [Finding] = []
        check(vmsds) { findings.append($0) }
        return findings
    }

    /// The findings for several top-level descriptions, in order, each handed to `report` as
    /// it is found rather than held (the tool's `lint`: a description nested at several places
    /// is checked, and its findings reported, at each of them, which multiplies them with
    /// every level that nests it twice).
    package static func check(_ vmsds: [UnsafePointer<VMStateDescription>], report: (Finding) -> Void) {
        let ended = endedByVMSEnd(vmsds)
        withoutActuallyEscaping(report) { report in
            for vmsd in vmsds { _ = check(vmsd, structSize: nil, endedByVMSEnd: ended, sink: report) }
        }
    }

    /// Whether two of `same` (entries of one name) are the same entry (``DecodedField/entryKey``);
    /// in linear time, however many share the name (complexity F2: all pairs, for each entry,
    /// took minutes on a generated table of 1,024).
    fileprivate static func hasSameEntryTwice(_ same: [DecodedField]) -> Bool {
        var seen = Set<DecodedField.EntryKey>()
        return same.contains { !seen.insert($0.entryKey).inserted }
    }

    /// Whether two of `same` (entries of one name) are both saved and save the same bytes.
    /// QEMU saves an entry without a `field_exists` test whenever its version_id is not above
    /// the description's (migration/vmstate.c, `vmstate_save_state_v`): two such entries are
    /// both saved, a version does not choose between them. Where the bytes overlap, the same
    /// bytes are saved when the elements are saved alike: values of standard kinds, or of one
    /// custom info, or structs through one description at one version (the x86 vector
    /// registers are one array saved through several, each its own part of an element; a
    /// VSTRUCT at another struct_version_id saves other fields). Entries are grouped by how
    /// they save, and each group is checked by offset in O(n log n).
    fileprivate static func hasTwoSavingTheSameBytes(_ same: [DecodedField], version: Int32) -> Bool {
        enum Saver: Hashable {
            case standard
            case custom(UInt?)
            case structure(UInt?, Int32)
        }
        var groups: [Saver: [DecodedField]] = [:]
        for f in same where f.fieldExists == nil && f.version <= version {
            let saver: Saver =
                f.isStruct
                ? .structure(f.vmsd.map { UInt(bitPattern: $0) }, f.structVersion)
                : f.standard != nil ? .standard : .custom(f.info.map { UInt(bitPattern: $0) })
            groups[saver, default: []].append(f)
        }
        for group in groups.values where group.count > 1 {
            // Entries not fixed in the struct overlap those at their offset (``DecodedField/overlaps(_:)``).
            var atOffset: [Int: (pointer: Int, other: Int)] = [:]
            for f in group {
                atOffset[f.offset, default: (0, 0)].pointer += f.isPointer ? 1 : 0
                atOffset[f.offset, default: (0, 0)].other += f.isPointer ? 0 : 1
            }
            for f in group where f.fixedBytes == nil {
                let count = atOffset[f.offset]!
                if (f.isPointer ? count.pointer : count.other) > 1 { return true }
            }
            // Fixed ones: sorted by where they start, one overlaps an earlier one when it
            // starts before the furthest end so far.
            let fixed = group.compactMap(\.fixedBytes).sorted { $0.lowerBound < $1.lowerBound }
            var end = Int.min
            for range in fixed {
                if range.lowerBound < end { return true }
                end = max(end, range.upperBound)
            }
        }
        return false
    }

    /// The name of a description of `vmsds` (or nested in them) whose field list ends with
    /// QEMU 10.0's VMS_END, if one does.
    private static func endedByVMSEnd(_ vmsds: [UnsafePointer<VMStateDescription>]) -> String? {
        switch VMStateSchema.origin(of: vmsds) {
        case .mixed(_, let new): return new
        // (Every list the origin walks ends so; one it does not walk, a GTree's keys, may not.)
        case .one(.qemu10_0): return vmsds.lazy.compactMap { DecodedDescription($0).name }.first ?? "(no name)"
        default: return nil
        }
    }

    private static func check(
        _ vmsd: UnsafePointer<VMStateDescription>, structSize: Int?, endedByVMSEnd: String?,
        sink: ((Finding) -> Void)? = nil
    ) -> [Finding] {
        var walker = LintWalker(endedByVMSEnd: endedByVMSEnd, sink: sink)
        let name = DecodedDescription(vmsd).name ?? "?"
        walker.description(vmsd, path: name, bound: structSize)
        return walker.findings
    }

    /// The findings for a NULL-terminated C array of descriptions.
    public static func check(nullTerminated list: UnsafePointer<UnsafePointer<VMStateDescription>?>) -> [Finding] {
        check(VMStateSchema.descriptions(nullTerminated: list))
    }

    /// The findings of ``check(nullTerminated:)``, each handed to `report` as it is found.
    package static func check(
        nullTerminated list: UnsafePointer<UnsafePointer<VMStateDescription>?>, report: (Finding) -> Void
    ) {
        check(VMStateSchema.descriptions(nullTerminated: list), report: report)
    }
}

// MARK: - The walk

/// Walks decoded tables (``DecodedDescription``, ``DecodedField``: the planner's reading of the
/// C structs) and reports what the planner would refuse plus the warnings.
private struct LintWalker {
    typealias Rule = VMStateLint.Rule

    /// A description of the list whose field list ends with VMS_END (QEMU 10.0's), if any.
    let endedByVMSEnd: String?
    /// Where findings go as they are found (nil: into `findings`).
    let sink: ((VMStateLint.Finding) -> Void)?
    var findings: [VMStateLint.Finding] = []
    var stack: [UnsafePointer<VMStateDescription>] = []
    /// Per entry of `stack`: whether the field (or subsection) leading to it may be empty in
    /// the state, so that a cycle through it can end.
    var mayBeEmpty: [Bool] = []
    static let maxDepth = Planner.maximumDepth

    mutating func report(_ rule: Rule, _ path: String, _ message: String) {
        let finding = VMStateLint.Finding(rule: rule, path: path, message: message)
        if let sink { sink(finding) } else { findings.append(finding) }
    }

    /// One field of a table and its index in it.
    struct FieldFacts {
        let index: Int
        let field: DecodedField
        var name: String { field.name }
        var isValidate: Bool { field.isValidate }
    }

    mutating func description(
        _ vmsd: UnsafePointer<VMStateDescription>, path: String, bound: Int?, mayBeEmpty: Bool = false
    ) {
        let decoded = DecodedDescription(vmsd)
        guard decoded.name != nil else {
            report(.missingName, path, "the description has no name")
            return
        }
        if stack.count >= Self.maxDepth {
            report(.recursiveStruct, path, "descriptions nested deeper than \(Self.maxDepth) levels")
            return
        }
        stack.append(vmsd)
        self.mayBeEmpty.append(mayBeEmpty)
        defer {
            stack.removeLast()
            self.mayBeEmpty.removeLast()
        }

        if let ended = endedByVMSEnd, let flags = decoded.endFlags, flags & QEMUDialect.vmsEnd == 0 {
            report(
                .missingEnd, path,
                "the field list ends without QEMU 10.0's VMS_END, unlike \"\(ended)\"'s: built with "
                    + "VMSTATE_QEMU_API 1000, it ends with {} where VMSTATE_END_OF_LIST() belongs, and QEMU 10.0 "
                    + "aborts on it when it saves or loads the table (built for QEMU 7.2, it is fine)")
        }

        let version = decoded.version
        if decoded.minimumVersion > version {
            report(
                .versionRange, path,
                "minimum_version_id \(decoded.minimumVersion) is above version_id \(version): no stream can load")
        }

        let fields = (decoded.fields ?? []).enumerated().map { FieldFacts(index: $0.offset, field: $0.element) }

        // The same entry twice (VMSTATE_VALIDATE entries are not migrated and not in vmdesc;
        // `unused` and `tmp` are names QEMU's macros fix).
        var byName: [String: [DecodedField]] = [:]
        for fact in fields where !fact.isValidate {
            byName[fact.name, default: []].append(fact.field)
        }
        var checked = Set<String>()
        for fact in fields where !fact.isValidate && checked.insert(fact.name).inserted {
            let same = byName[fact.name]!
            guard same.count > 1, fact.field.standard != VMSTATE_STD_UNUSED_BUFFER,
                fact.field.standard != VMSTATE_STD_TMP
            else { continue }
            let reason: String
            if VMStateLint.hasSameEntryTwice(same) {
                reason = "two are the same entry (the field is saved twice)"
            } else if VMStateLint.hasTwoSavingTheSameBytes(same, version: version) {
                reason =
                    "two without a test save the same bytes (QEMU saves both: a version does not choose between them, "
                    + "only a field_exists test does)"
            } else {
                continue
            }
            let n = same.count
            report(
                .duplicateField, "\(path)/\(fact.name)",
                "\(n) fields are named \"\(fact.name)\" and \(reason); "
                    + "vmdesc calls them \(fact.name)[0]..\(fact.name)[\(n - 1)]")
        }

        for fact in fields {
            field(fact, in: fields, descriptionVersion: version, path: "\(path)/\(fact.name)", bound: bound)
        }

        // Subsections: same struct as the parent.
        for sub in decoded.checkedSubsections {
            let subPath = "\(path)/\(sub.component)"
            for problem in sub.problems {
                report(problem.rule, subPath, problem.message)
            }
            guard let subName = sub.name else { continue }
            let optional = sub.vmsd.pointee.needed != nil
            if let cycle = cycle(to: sub.vmsd, through: optional) {
                if !cycle {
                    report(
                        .recursiveStruct, subPath,
                        "the subsection \"\(String(decoding: subName, as: UTF8.self))\" contains itself")
                }
                continue
            }
            description(sub.vmsd, path: subPath, bound: bound, mayBeEmpty: optional)
        }
    }

    mutating func field(
        _ fact: FieldFacts, in fields: [FieldFacts], descriptionVersion: Int32, path: String, bound: Int?
    ) {
        let f = fact.field
        if fact.isValidate {
            return
        }
        for error in f.tableErrors {
            report(error.rule, path, error.message)
        }
        if f.fieldExists == nil && f.version > descriptionVersion {
            report(
                .fieldVersion, path,
                "version_id \(f.version) is above the description's \(descriptionVersion): never saved")
        }

        if f.isFD {
            report(
                .fileDescriptor, path,
                "a file descriptor (VMSTATE_FD) cannot be saved into or loaded from a byte stream: "
                    + "saving fails with -1 (file error -EIO), loading with -EIO"
                    + (f.fieldExists != nil ? " whenever its field_exists test is true" : ""))
        }
        checkBounds(f, path: path, bound: bound)
        checkCounts(fact, in: fields, path: path)

        // Nested descriptions. A field the state may leave empty can end a description that
        // contains itself (a tree).
        guard let nested = f.vmsd else { return }
        let nestedBound = f.size > 0 ? f.size : nil
        let emptiable = f.varray != 0 || f.fieldExists != nil || f.has(VMS_ARRAY_OF_POINTER)
        if f.isStruct {
            // Behind a pointer (VMSTATE_STRUCT_POINTER, or each element of an array of pointers,
            // whose size is the pointer's), the struct's size is not the field's.
            let behindPointer = f.isPointer || f.has(VMS_ARRAY_OF_POINTER)
            descend(nested, path: path, bound: behindPointer ? nil : nestedBound, mayBeEmpty: emptiable)
        } else if f.standard == VMSTATE_STD_TMP {
            descend(nested, path: path, bound: nestedBound, mayBeEmpty: emptiable)
        } else if f.standard == VMSTATE_STD_QTAILQ || f.standard == VMSTATE_STD_QLIST {
            descend(nested, path: path, bound: nestedBound, mayBeEmpty: true)
        } else if f.standard == VMSTATE_STD_GTREE {
            descend(nested, path: path, bound: nestedBound, mayBeEmpty: true)
            if f.start != 0 {
                descend(nested + 1, path: path, bound: f.start, mayBeEmpty: true)  // the keys
            }
        }
    }

    /// Whether going down to `nested` closes a cycle, and if so whether the cycle can end (one
    /// of its steps, `last` the one about to be taken, may be empty); nil: no cycle.
    func cycle(to nested: UnsafePointer<VMStateDescription>, through last: Bool) -> Bool? {
        guard let start = stack.lastIndex(of: nested) else { return nil }
        return last || mayBeEmpty[(start + 1)...].contains(true)
    }

    mutating func descend(
        _ nested: UnsafePointer<VMStateDescription>, path: String, bound: Int?, mayBeEmpty: Bool
    ) {
        if let cycle = cycle(to: nested, through: mayBeEmpty) {
            if !cycle {
                let name = DecodedDescription(nested).name ?? "?"
                report(.recursiveStruct, path, "the description \"\(name)\" contains itself")
            }
            return
        }
        description(nested, path: path, bound: bound, mayBeEmpty: mayBeEmpty)
    }

    mutating func checkBounds(_ f: DecodedField, path: String, bound: Int?) {
        guard let bound, let (start, end) = f.footprint else { return }
        if start < 0 || end > bound || end < start {
            report(
                .outOfBounds, path,
                "the field covers bytes \(start)..<\(end) of a \(bound)-byte struct")
        }
    }

    /// Whether the integer at `offset` (`width` bytes) is loaded from the stream by a field
    /// before `index`, and if so by which one (the last).
    func loader(ofOffset offset: Int, width: Int, before index: Int, in fields: [FieldFacts]) -> FieldFacts? {
        var found: FieldFacts? = nil
        for other in fields[..<index] where !other.isValidate && !other.field.isPointer {
            guard let (start, end) = other.field.footprint else { continue }
            if start < offset + width && offset < end {
                found = other
            }
        }
        return found
    }

    func guarded(loader: FieldFacts, at index: Int, in fields: [FieldFacts]) -> Bool {
        // A test of the field's own guards it as VMSTATE_VALIDATE does (QEMU's "guarded pair").
        if loader.field.infoChecksValue || fields[index].field.fieldExists != nil {
            return true
        }
        if fields[(loader.index + 1)..<index].contains(where: { $0.isValidate }) {
            return true
        }
        return index + 1 < fields.count && fields[index + 1].isValidate
    }

    mutating func checkCounts(_ fact: FieldFacts, in fields: [FieldFacts], path: String) {
        let f = fact.field
        // Nothing to overrun: an unused field's bytes are dropped; VMS_ALLOC allocates the count.
        if f.standard == VMSTATE_STD_UNUSED_BUFFER || f.has(VMS_ALLOC) { return }
        let pointerUnbounded = f.isPointer
        if f.varray.nonzeroBitCount == 1, case .counter(let offset, let width, _) = f.count {
            if let count = loader(ofOffset: offset, width: width, before: fact.index, in: fields),
                !guarded(loader: count, at: fact.index, in: fields)
            {
                if pointerUnbounded {
                    report(
                        .unguarded, path,
                        "the element count comes from the stream (\"\(count.name)\") and the array behind the pointer has no known size; add a VMSTATE_VALIDATE"
                    )
                } else {
                    report(
                        .varrayUnvalidated, path,
                        "the element count comes from the stream (\"\(count.name)\") with no VMSTATE_VALIDATE before or right after the array"
                    )
                }
            }
        }
        if f.has(VMS_VBUFFER) && pointerUnbounded {
            if let size = loader(ofOffset: f.sizeOffset, width: 4, before: fact.index, in: fields),
                !guarded(loader: size, at: fact.index, in: fields)
            {
                report(
                    .unguarded, path,
                    "the buffer size comes from the stream (\"\(size.name)\") and the buffer behind the pointer has no known size; add a VMSTATE_VALIDATE"
                )
            }
        }
    }
}
