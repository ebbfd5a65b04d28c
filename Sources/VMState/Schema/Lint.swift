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
/// - `recursive-struct`: a description that contains itself (saving it would not end).
/// - `missing-name`: a description without a name.
///
/// Warnings:
/// - `subsection-separator`: a subsection name that starts with the parent's name but not with
///   `parent/` (QEMU accepts it; the convention is `parent/name`).
/// - `duplicate-field`: a field name used more than once in one table (vmdesc disambiguates
///   them as `name[0]`, `name[1]`, ...).
/// - `varray-unvalidated`: a VMS_VARRAY_* field whose count is loaded from the stream earlier in
///   the same table with no guard: no VMSTATE_VALIDATE between the count and the array or
///   right after the array, and the count not loaded with an `_equal` or `int32 le` info.
///   (VMS_POINTER arrays without VMS_ALLOC get `unguarded` instead.)
/// - `unguarded`: a VMS_POINTER field without VMS_ALLOC whose element count (VMS_VARRAY_*) or
///   byte size (VMS_VBUFFER) comes unguarded from the stream: the engine cannot know how much
///   memory is behind the pointer.
/// - `field-version`: a field whose `version_id` is above its description's (never saved).
public enum VMStateLint {
    public enum Severity: String, Sendable, Comparable {
        case warning
        case error

        public static func < (a: Severity, b: Severity) -> Bool {
            a == .warning && b == .error
        }
    }

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

        public var severity: Severity {
            switch self {
            case .subsectionSeparator, .duplicateField, .varrayUnvalidated, .unguarded, .fieldVersion:
                return .warning
            default:
                return .error
            }
        }
    }

    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public let severity: Severity
        /// `desc/field`, nested through structs and subsections.
        public let path: String
        public let rule: Rule
        public let message: String

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
    public static func check(_ vmsd: UnsafePointer<VMStateDescription>, structSize: Int? = nil) -> [Finding] {
        var walker = LintWalker()
        let name = vmsd.pointee.name.map { String(cString: $0) } ?? "?"
        walker.description(vmsd, path: name, bound: structSize)
        return walker.findings
    }

    /// The findings for several top-level descriptions, in order.
    public static func check(_ vmsds: [UnsafePointer<VMStateDescription>]) -> [Finding] {
        vmsds.flatMap { check($0) }
    }

    /// The findings for a NULL-terminated C array of descriptions.
    public static func check(nullTerminated list: UnsafePointer<UnsafePointer<VMStateDescription>?>) -> [Finding] {
        check(VMStateSchema.descriptions(nullTerminated: list))
    }
}

// MARK: - The walk

private let varrayFlags: UInt32 =
    VMS_VARRAY_INT32.rawValue | VMS_VARRAY_UINT8.rawValue | VMS_VARRAY_UINT16.rawValue
    | VMS_VARRAY_UINT32.rawValue

/// The standard infos by address (taken in C: Swift may copy imported globals).
private func stdInfo(_ kind: VMStateStdKind) -> UnsafePointer<VMStateInfo>? {
    vmstate_std_info(Int32(kind.rawValue))
}

private struct StdInfos {
    let tmp = stdInfo(VMSTATE_STD_TMP)
    let qtailq = stdInfo(VMSTATE_STD_QTAILQ)
    let qlist = stdInfo(VMSTATE_STD_QLIST)
    let gtree = stdInfo(VMSTATE_STD_GTREE)
    let unusedBuffer = stdInfo(VMSTATE_STD_UNUSED_BUFFER)
    /// All of them: memory a field with another info touches is up to that info.
    let all: [UnsafePointer<VMStateInfo>?] = (0..<Int32(VMSTATE_STD_COUNT.rawValue)).map {
        vmstate_std_info($0)
    }
    /// Infos that only accept a value equal to (or, int32 le, not above) the current one.
    let checking: [UnsafePointer<VMStateInfo>?] = [
        stdInfo(VMSTATE_STD_INT32_EQUAL), stdInfo(VMSTATE_STD_INT32_LE),
        stdInfo(VMSTATE_STD_UINT8_EQUAL), stdInfo(VMSTATE_STD_UINT16_EQUAL),
        stdInfo(VMSTATE_STD_UINT32_EQUAL), stdInfo(VMSTATE_STD_UINT64_EQUAL),
    ]
}

private struct LintWalker {
    typealias Rule = VMStateLint.Rule

    var findings: [VMStateLint.Finding] = []
    var stack: [UnsafePointer<VMStateDescription>] = []
    let infos = StdInfos()
    static let maxDepth = 64

    mutating func report(_ rule: Rule, _ path: String, _ message: String) {
        findings.append(VMStateLint.Finding(rule: rule, path: path, message: message))
    }

    /// One field of a table, with what the checks need.
    struct FieldFacts {
        let index: Int
        let ptr: UnsafePointer<VMStateField>
        let name: String
        var f: VMStateField { ptr.pointee }
        var flags: UInt32 { ptr.pointee.flags.rawValue }
        func has(_ flag: VMStateFlags) -> Bool { flags & flag.rawValue != 0 }
        var isValidate: Bool {
            has(VMS_MUST_EXIST) && f.info == nil && f.vmsd == nil && (!has(VMS_ARRAY) || f.num == 0)
                && flags & varrayFlags == 0
        }
    }

    mutating func description(_ vmsd: UnsafePointer<VMStateDescription>, path: String, bound: Int?) {
        guard let cname = vmsd.pointee.name else {
            report(.missingName, path, "the description has no name")
            return
        }
        let name = String(cString: cname)
        if stack.count >= Self.maxDepth {
            report(.recursiveStruct, path, "descriptions nested more than \(Self.maxDepth) deep")
            return
        }
        stack.append(vmsd)
        defer { stack.removeLast() }

        let version = vmsd.pointee.version_id
        if vmsd.pointee.minimum_version_id > version {
            report(.versionRange, path,
                   "minimum_version_id \(vmsd.pointee.minimum_version_id) is above version_id \(version): no stream can load")
        }

        var fields: [FieldFacts] = []
        if var p = vmsd.pointee.fields {
            while let fname = p.pointee.name {
                fields.append(FieldFacts(index: fields.count, ptr: p, name: String(cString: fname)))
                p += 1
            }
        }

        // Duplicate names (VMSTATE_VALIDATE entries are not migrated and not in vmdesc).
        var counts: [String: Int] = [:]
        for fact in fields where !fact.isValidate {
            counts[fact.name, default: 0] += 1
        }
        var reported = Set<String>()
        for fact in fields where !fact.isValidate && counts[fact.name]! > 1 && !reported.contains(fact.name) {
            reported.insert(fact.name)
            let n = counts[fact.name]!
            report(.duplicateField, "\(path)/\(fact.name)",
                   "\(n) fields are named \"\(fact.name)\"; vmdesc calls them \(fact.name)[0]..\(fact.name)[\(n - 1)]")
        }

        for fact in fields {
            field(fact, in: fields, descriptionVersion: version, path: "\(path)/\(fact.name)", bound: bound)
        }

        // Subsections: same struct as the parent.
        if var s = vmsd.pointee.subsections {
            var seen = Set<[UInt8]>()
            let parent = Array(name.utf8)
            while let sub = s.pointee {
                defer { s += 1 }
                guard let sname = sub.pointee.name else {
                    report(.missingName, "\(path)/?", "a subsection has no name")
                    continue
                }
                let bytes = Array(String(cString: sname).utf8)
                let subName = String(cString: sname)
                let component: String
                if bytes.starts(with: parent + [UInt8(ascii: "/")]) {
                    component = String(decoding: bytes[(parent.count + 1)...], as: UTF8.self)
                } else {
                    component = subName
                }
                let subPath = "\(path)/\(component)"
                if !seen.insert(bytes).inserted {
                    report(.subsectionName, subPath, "two subsections of \"\(name)\" are named \"\(subName)\"")
                }
                if bytes.count > 255 {
                    report(.subsectionName, subPath, "the name is \(bytes.count) bytes; the stream allows 255")
                } else if !bytes.starts(with: parent) || bytes.count <= parent.count {
                    report(.subsectionName, subPath,
                           "the name \"\(subName)\" is not the parent's name \"\(name)\" followed by more; the loader hands such a subsection back to the caller, so it never loads")
                } else if bytes[parent.count] != UInt8(ascii: "/") {
                    report(.subsectionSeparator, subPath,
                           "the name \"\(subName)\" does not start with \"\(name)/\"")
                }
                if stack.contains(sub) {
                    report(.recursiveStruct, subPath, "the subsection \"\(subName)\" contains itself")
                    continue
                }
                description(sub, path: subPath, bound: bound)
            }
        }
    }

    mutating func field(
        _ fact: FieldFacts, in fields: [FieldFacts], descriptionVersion: Int32, path: String, bound: Int?
    ) {
        let f = fact.f
        if fact.isValidate {
            return
        }
        let varray = fact.flags & varrayFlags
        let isStruct = fact.has(VMS_STRUCT) || fact.has(VMS_VSTRUCT)

        if fact.has(VMS_ARRAY) && varray != 0 {
            report(.arrayVarrayExclusive, path, "VMS_ARRAY and VMS_VARRAY_* are exclusive")
        }
        if varray.nonzeroBitCount > 1 {
            report(.varrayExclusive, path, "more than one VMS_VARRAY_* flag")
        }
        if fact.has(VMS_MULTIPLY) && !fact.has(VMS_VBUFFER) {
            report(.multiplyNeedsVbuffer, path, "VMS_MULTIPLY without VMS_VBUFFER")
        }
        if fact.has(VMS_ALLOC) && !fact.has(VMS_POINTER) {
            report(.allocNeedsPointer, path, "VMS_ALLOC without VMS_POINTER")
        }
        if fact.has(VMS_MULTIPLY_ELEMENTS) {
            if !fact.has(VMS_ARRAY) && varray == 0 {
                report(.multiplyElementsNeedsCount, path,
                       "VMS_MULTIPLY_ELEMENTS without an element count (VMS_ARRAY or VMS_VARRAY_*)")
            } else if f.num < 1 {
                report(.multiplyElementsNeedsCount, path, "VMS_MULTIPLY_ELEMENTS with num \(f.num)")
            }
        }
        let info = f.info
        let infoNeedsVmsd = info != nil && [infos.tmp, infos.qtailq, infos.qlist, infos.gtree].contains(info)
        if isStruct && f.vmsd == nil {
            report(.structNeedsVmsd, path, "a struct field without vmsd")
        } else if infoNeedsVmsd && f.vmsd == nil {
            report(.structNeedsVmsd, path, "info \"\(String(cString: info!.pointee.name))\" without vmsd")
        }
        if !isStruct && info == nil {
            report(.needsInfo, path, "a field that is not a struct has no info")
        }
        if f.field_exists == nil && f.version_id > descriptionVersion {
            report(.fieldVersion, path,
                   "version_id \(f.version_id) is above the description's \(descriptionVersion): never saved")
        }

        checkBounds(fact, path: path, bound: bound)
        checkCounts(fact, in: fields, path: path)

        // Nested descriptions.
        guard let nested = f.vmsd else { return }
        let nestedBound = fact.has(VMS_POINTER) ? nil : (f.size > 0 ? f.size : nil)
        if isStruct {
            descend(nested, path: path, bound: nestedBound)
        } else if info == infos.tmp || info == infos.qtailq || info == infos.qlist {
            descend(nested, path: path, bound: f.size > 0 ? f.size : nil)
        } else if info == infos.gtree {
            descend(nested, path: path, bound: f.size > 0 ? f.size : nil)
            if f.start != 0 {
                descend(nested + 1, path: path, bound: f.start)  // the keys
            }
        }
    }

    mutating func descend(_ nested: UnsafePointer<VMStateDescription>, path: String, bound: Int?) {
        if stack.contains(nested) {
            let name = nested.pointee.name.map { String(cString: $0) } ?? "?"
            report(.recursiveStruct, path, "the description \"\(name)\" contains itself")
            return
        }
        description(nested, path: path, bound: bound)
    }

    /// Bytes a field occupies in its struct, when the table says (nil: not knowable).
    func extent(_ fact: FieldFacts) -> (start: Int, end: Int)? {
        let f = fact.f
        let info = f.info
        if info == infos.unusedBuffer || info == infos.tmp {
            return nil  // nothing of the struct is touched (tmp uses a scratch struct)
        }
        if info == infos.qtailq {
            return (f.offset, f.offset + 16)
        }
        if info == infos.qlist || info == infos.gtree {
            return (f.offset, f.offset + 8)
        }
        if fact.has(VMS_POINTER) {
            return (f.offset, f.offset + MemoryLayout<UnsafeRawPointer>.size)
        }
        if fact.has(VMS_VBUFFER) {
            return nil
        }
        let isStruct = fact.has(VMS_STRUCT) || fact.has(VMS_VSTRUCT)
        if !isStruct && !infos.all.contains(info) {
            // A custom info gets `size` and decides what it touches (QEMU's "pci config"
            // follows a pointer member): only the member's start is known to be in the struct.
            return (f.offset, f.offset + 1)
        }
        var n = 1
        if fact.has(VMS_ARRAY) {
            n = Int(f.num)
            if fact.has(VMS_MULTIPLY_ELEMENTS) {
                n *= Int(f.num)
            }
        }
        let (bytes, overflow) = f.size.multipliedReportingOverflow(by: max(n, 0))
        return (f.offset, overflow ? Int.max : f.offset &+ bytes)
    }

    mutating func checkBounds(_ fact: FieldFacts, path: String, bound: Int?) {
        guard let bound, let (start, end) = extent(fact) else { return }
        if start < 0 || end > bound || end < start {
            report(.outOfBounds, path,
                   "the field covers bytes \(start)..<\(end) of a \(bound)-byte struct")
        }
    }

    /// Whether the integer at `offset` (`width` bytes) is loaded from the stream by a field
    /// before `index`, and if so by which one (the last).
    func loader(ofOffset offset: Int, width: Int, before index: Int, in fields: [FieldFacts]) -> FieldFacts? {
        var found: FieldFacts? = nil
        for other in fields[..<index] where !other.isValidate && !other.has(VMS_POINTER) {
            guard let (start, end) = extent(other) else { continue }
            if start < offset + width && offset < end {
                found = other
            }
        }
        return found
    }

    func guarded(loader: FieldFacts, at index: Int, in fields: [FieldFacts]) -> Bool {
        if infos.checking.contains(loader.f.info) {
            return true
        }
        if fields[(loader.index + 1)..<index].contains(where: { $0.isValidate }) {
            return true
        }
        return index + 1 < fields.count && fields[index + 1].isValidate
    }

    mutating func checkCounts(_ fact: FieldFacts, in fields: [FieldFacts], path: String) {
        let f = fact.f
        let pointerUnbounded = fact.has(VMS_POINTER) && !fact.has(VMS_ALLOC)
        let varray = fact.flags & varrayFlags
        if varray.nonzeroBitCount == 1 {
            let width: Int
            switch varray {
            case VMS_VARRAY_UINT8.rawValue: width = 1
            case VMS_VARRAY_UINT16.rawValue: width = 2
            default: width = 4
            }
            if let count = loader(ofOffset: f.num_offset, width: width, before: fact.index, in: fields),
                !guarded(loader: count, at: fact.index, in: fields)
            {
                if pointerUnbounded {
                    report(.unguarded, path,
                           "the element count comes from the stream (\"\(count.name)\") and the array behind the pointer has no known size; add a VMSTATE_VALIDATE")
                } else {
                    report(.varrayUnvalidated, path,
                           "the element count comes from the stream (\"\(count.name)\") with no VMSTATE_VALIDATE before or right after the array")
                }
            }
        }
        if fact.has(VMS_VBUFFER) && pointerUnbounded {
            if let size = loader(ofOffset: f.size_offset, width: 4, before: fact.index, in: fields),
                !guarded(loader: size, at: fact.index, in: fields)
            {
                report(.unguarded, path,
                       "the buffer size comes from the stream (\"\(size.name)\") and the buffer behind the pointer has no known size; add a VMSTATE_VALIDATE")
            }
        }
    }
}
