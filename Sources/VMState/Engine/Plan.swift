import CGLib
import CVMState
import Synchronization

/// The standard `vmstate_info_*` instances: C's `VMStateStdKind`, expanded from the one list
/// `VMSTATE_STD_INFO_LIST` in `migration/vmstate.h` (cases `VMSTATE_STD_BOOL`, ...).
typealias StandardKind = VMStateStdKind

extension VMStateStdKind {
    /// Recognises a standard instance by address (taken in C, see `vmstate_std_info`), or a
    /// copy of one that ``StandardInfoCopies/adopt(lookup:)`` was told of.
    static func of(_ info: UnsafePointer<VMStateInfo>) -> VMStateStdKind? {
        let address = UInt(bitPattern: info)
        if let kind = standardKindAddressTable[address] { return kind }
        return StandardInfoCopies.kind(at: address)
    }

    /// The kind numbered `raw`, if it is one.
    init?(standard raw: Int32) {
        guard raw >= 0 && raw < Int32(VMSTATE_STD_COUNT.rawValue) else { return nil }
        self.init(rawValue: UInt32(raw))
    }

    /// The standard instance of this kind (a static C object: `vmstate_std_info` returns NULL
    /// only for numbers outside the list; the kinds used come from `of`, `init?(standard:)`
    /// or `all`, all inside it).
    var info: UnsafePointer<VMStateInfo> { vmstate_std_info(Int32(rawValue))! }

    /// Every standard kind, in list order.
    static let all: [VMStateStdKind] = (0..<VMSTATE_STD_COUNT.rawValue).map { VMStateStdKind(rawValue: $0) }
}

/// The address of `vmstate_info_fd` (taken in C, as the standard instances).
private let fdInfoAddress = UInt(bitPattern: vmstate_fd_info())

private let standardKindAddressTable: [UInt: VMStateStdKind] = Dictionary(
    uniqueKeysWithValues: VMStateStdKind.all.map { (UInt(bitPattern: $0.info), $0) })

/// Other copies of the standard `vmstate_info_*` instances (and of `vmstate_info_fd`) in this
/// process. The engine knows an info by its address; a process can hold two copies of the C
/// objects: the `vmstate` tool has the engine linked in, and a table library it opens
/// (`vmstate schema`, `vmstate lint`) brings `libswiftvmstate.so`, whose copies that library's
/// tables point to. Told of them, the engine treats them as its own (the standard kinds' rules,
/// lint's `file-descriptor` and guarded counts). Process-wide; lookups take a lock only for an
/// address that is not one of this copy's (a custom info).
package enum StandardInfoCopies {
    private static let copies = Mutex<(kinds: [UInt: VMStateStdKind], fd: Set<UInt>)>(([:], []))

    /// Looks up every standard instance's C symbol (`vmstate_info_int32`, ..., `vmstate_info_fd`)
    /// with `lookup` (e.g. `dlsym` on a library just opened) and adopts the addresses found
    /// that are not this copy's.
    package static func adopt(lookup: (String) -> UnsafeRawPointer?) {
        var kinds: [UInt: VMStateStdKind] = [:]
        for kind in VMStateStdKind.all {
            guard let symbol = vmstate_std_info_symbol(Int32(kind.rawValue)),
                let address = lookup(String(cString: symbol)).map({ UInt(bitPattern: $0) }),
                standardKindAddressTable[address] == nil
            else { continue }
            kinds[address] = kind
        }
        let fd = lookup("vmstate_info_fd").map { UInt(bitPattern: $0) }.flatMap { $0 == fdInfoAddress ? nil : $0 }
        copies.withLock { table in
            table.kinds.merge(kinds) { _, new in new }
            if let fd { table.fd.insert(fd) }
        }
    }

    static func kind(at address: UInt) -> VMStateStdKind? { copies.withLock { $0.kinds[address] } }

    static func isFD(_ address: UInt) -> Bool { copies.withLock { $0.fd.contains(address) } }
}

/// The VMS_VARRAY_* flags (one of them gives the element count).
let varrayFlagMask: UInt32 =
    VMS_VARRAY_INT32.rawValue | VMS_VARRAY_UINT8.rawValue | VMS_VARRAY_UINT16.rawValue
    | VMS_VARRAY_UINT32.rawValue

/// One `VMStateField` of a C table, decoded: the only place the raw C field is read.
///
/// The planner turns it into a ``FieldPlan``; `vmstate lint` and the schema dump read it
/// directly, so they see the same flags, counts and sizes the engine uses. Decoding never fails:
/// ``tableErrors`` says what makes the field unusable (docs/FORMAT.md §7).
struct DecodedField {
    /// The C entry (valid as long as the table).
    let pointer: UnsafePointer<VMStateField>
    let name: String
    let flags: UInt32
    let offset: Int
    /// `size`: element size in bytes (bit count for `bitmap`, scratch size for `tmp`).
    let size: Int
    /// `num`: the fixed count (VMS_ARRAY) or the multiplier (VMS_MULTIPLY_ELEMENTS).
    let num: Int
    let numOffset: Int
    let sizeOffset: Int
    /// `start`: the link offset in a qtailq/qlist element, or the key size of a gtree.
    let start: Int
    let version: Int32
    /// `struct_version_id`: the version a VMS_VSTRUCT element is saved and loaded at.
    let structVersion: Int32
    let info: UnsafePointer<VMStateInfo>?
    /// The standard instance `info` is, or nil (custom info, or none).
    let standard: StandardKind?
    let vmsd: UnsafePointer<VMStateDescription>?
    let fieldExists: (@convention(c) (UnsafeMutableRawPointer?, Int32) -> Bool)?
    /// `err_hint`: printed when an `_equal` check fails.
    let errHint: UnsafePointer<CChar>?

    /// SAFETY: `field` is an entry of a C table (valid for the life of the process, as the
    /// table); its strings are NUL-terminated C strings of the table.
    init(_ field: UnsafePointer<VMStateField>, flagsMask: UInt32 = ~0) {
        let f = field.pointee
        pointer = field
        name = f.name.map { String(cString: $0) } ?? ""
        flags = f.flags.rawValue & flagsMask
        offset = f.offset
        size = f.size
        num = Int(f.num)
        numOffset = f.num_offset
        sizeOffset = f.size_offset
        start = f.start
        version = f.version_id
        structVersion = f.struct_version_id
        info = f.info
        standard = f.info.flatMap { StandardKind.of($0) }
        vmsd = f.vmsd
        fieldExists = f.field_exists
        errHint = f.err_hint
    }

    /// The name's bytes exactly as in the table (`name` repairs bytes that are not UTF-8).
    var nameBytes: [UInt8] { pointer.pointee.name.map { cStringBytes($0) } ?? [] }

    func has(_ flag: VMStateFlags) -> Bool { flags & flag.rawValue != 0 }

    /// All an entry says about what is saved (offset, size, flags, counts, info, vmsd, version
    /// and test), the name aside, as one hashable value: two entries with equal keys are one
    /// entry again.
    var entryKey: EntryKey {
        EntryKey(
            offset: offset, size: size, flags: flags, num: num, numOffset: numOffset, sizeOffset: sizeOffset,
            start: start, version: version, structVersion: structVersion, info: info.map { UInt(bitPattern: $0) },
            vmsd: vmsd.map { UInt(bitPattern: $0) },
            test: fieldExists.map { UInt(bitPattern: unsafeBitCast($0, to: UnsafeRawPointer.self)) })
    }

    /// What an entry says about what is saved (``entryKey``).
    struct EntryKey: Hashable {
        let offset, size: Int
        let flags: UInt32
        let num, numOffset, sizeOffset, start: Int
        let version, structVersion: Int32
        let info, vmsd, test: UInt?
    }

    /// Whether this entry and `other` save some bytes in common: their places in the state
    /// struct overlap, where both are fixed there (a value, or an array of a fixed count, not
    /// through a pointer); else whether they start at the same offset (the same pointer or
    /// variable-length array).
    func overlaps(_ other: DecodedField) -> Bool {
        guard let mine = fixedBytes, let theirs = other.fixedBytes else {
            return offset == other.offset && isPointer == other.isPointer
        }
        return mine.overlaps(theirs)
    }

    /// The bytes of the state struct the entry saves, where fixed (see ``overlaps(_:)``).
    var fixedBytes: Range<Int>? {
        let moving =
            VMS_POINTER.rawValue | VMS_ARRAY_OF_POINTER.rawValue | VMS_VBUFFER.rawValue | VMS_MULTIPLY.rawValue
            | VMS_MULTIPLY_ELEMENTS.rawValue | varrayFlagMask
        guard flags & moving == 0, size > 0 else { return nil }
        let count = has(VMS_ARRAY) ? num : 1
        let (length, overflow) = size.multipliedReportingOverflow(by: max(count, 1))
        guard !overflow, offset <= Int.max - length else { return nil }
        return offset..<(offset + length)
    }

    /// QEMU 10.0's `vmstate_info_fd` (not a standard kind: QEMU 7.2 has no such info), or a
    /// copy of it that ``StandardInfoCopies/adopt(lookup:)`` was told of.
    var isFD: Bool {
        guard let address = info.map({ UInt(bitPattern: $0) }) else { return false }
        return address == fdInfoAddress || StandardInfoCopies.isFD(address)
    }

    var varray: UInt32 { flags & varrayFlagMask }
    var isPointer: Bool { has(VMS_POINTER) }
    var mustExist: Bool { has(VMS_MUST_EXIST) }
    /// VMS_STRUCT or VMS_VSTRUCT: elements are saved through `vmsd`.
    var isStruct: Bool { has(VMS_STRUCT) || has(VMS_VSTRUCT) }
    /// The standard infos that save elements through `vmsd` (tmp, qtailq, qlist, gtree).
    var infoNeedsVMSD: Bool {
        standard == VMSTATE_STD_TMP || standard == VMSTATE_STD_QTAILQ || standard == VMSTATE_STD_QLIST
            || standard == VMSTATE_STD_GTREE
    }
    /// Infos that only accept a value equal to (int32 le: not above) the current one.
    var infoChecksValue: Bool {
        switch standard {
        case VMSTATE_STD_INT32_EQUAL?, VMSTATE_STD_INT32_LE?, VMSTATE_STD_UINT8_EQUAL?,
            VMSTATE_STD_UINT16_EQUAL?, VMSTATE_STD_UINT32_EQUAL?, VMSTATE_STD_UINT64_EQUAL?:
            return true
        default:
            return false
        }
    }

    /// How many elements: VMS_ARRAY before the VMS_VARRAY_* flags, in QEMU's order.
    var count: CountRule {
        if has(VMS_ARRAY) { return .fixed(num) }
        if has(VMS_VARRAY_INT32) { return .counter(offset: numOffset, width: 4, signed: true) }
        if has(VMS_VARRAY_UINT32) { return .counter(offset: numOffset, width: 4, signed: false) }
        if has(VMS_VARRAY_UINT16) { return .counter(offset: numOffset, width: 2, signed: false) }
        if has(VMS_VARRAY_UINT8) { return .counter(offset: numOffset, width: 1, signed: false) }
        return .one
    }

    /// A `VMSTATE_VALIDATE` entry: VMS_MUST_EXIST, no info, no vmsd and no elements; only its
    /// `field_exists` test runs.
    var isValidate: Bool {
        guard mustExist && info == nil && vmsd == nil else { return false }
        if case .fixed(let n) = count, n == 0 { return true }
        return false
    }

    /// The bytes the field occupies in its struct, where the table says (nil: not knowable,
    /// or nothing of the struct is touched).
    var footprint: (start: Int, end: Int)? {
        switch standard {
        case VMSTATE_STD_UNUSED_BUFFER?, VMSTATE_STD_TMP?:
            return nil  // nothing of the struct is touched (tmp uses a scratch struct)
        case VMSTATE_STD_QTAILQ?:
            return (offset, offset + QueueLayout.tailqHeadSize)
        case VMSTATE_STD_QLIST?:
            return (offset, offset + QueueLayout.qlistHeadSize)
        case VMSTATE_STD_GTREE?:
            return (offset, offset + MemoryLayout<UnsafeRawPointer>.size)  // the GTree *
        default:
            break
        }
        if isPointer { return (offset, offset + MemoryLayout<UnsafeRawPointer>.size) }
        if isFD { return (offset, offset + 4) }  // an int32_t
        if has(VMS_VBUFFER) { return nil }
        if !isStruct && standard == nil {
            // A custom info gets `size` and decides what it touches (QEMU's "pci config"
            // follows a pointer member): only the member's start is known to be in the struct.
            return (offset, offset + 1)
        }
        var n = 1
        if has(VMS_ARRAY) {
            n = num
            if has(VMS_MULTIPLY_ELEMENTS) { n *= num }
        }
        let (bytes, overflow) = size.multipliedReportingOverflow(by: max(n, 0))
        return (offset, overflow ? Int.max : offset &+ bytes)
    }

    /// What makes the field unusable, in rule order (docs/FORMAT.md §7): the planner refuses
    /// the table with the first, `vmstate lint` reports them all.
    var tableErrors: [(rule: VMStateLint.Rule, message: String)] {
        if isValidate { return [] }
        var errors: [(rule: VMStateLint.Rule, message: String)] = []
        if has(VMS_ARRAY) && varray != 0 {
            errors.append((.arrayVarrayExclusive, "VMS_ARRAY and VMS_VARRAY_* are exclusive"))
        }
        if varray.nonzeroBitCount > 1 {
            errors.append((.varrayExclusive, "more than one VMS_VARRAY_* flag"))
        }
        if has(VMS_MULTIPLY) && !has(VMS_VBUFFER) {
            errors.append((.multiplyNeedsVbuffer, "VMS_MULTIPLY without VMS_VBUFFER"))
        }
        if has(VMS_ALLOC) && !has(VMS_POINTER) {
            errors.append((.allocNeedsPointer, "VMS_ALLOC without VMS_POINTER"))
        }
        if has(VMS_MULTIPLY_ELEMENTS) {
            if !has(VMS_ARRAY) && varray == 0 {
                errors.append(
                    (
                        .multiplyElementsNeedsCount,
                        "VMS_MULTIPLY_ELEMENTS without an element count (VMS_ARRAY or VMS_VARRAY_*)"
                    ))
            } else if num < 1 {
                errors.append((.multiplyElementsNeedsCount, "VMS_MULTIPLY_ELEMENTS with num \(num)"))
            }
        }
        if isStruct && vmsd == nil {
            errors.append((.structNeedsVmsd, "a struct field without vmsd"))
        } else if infoNeedsVMSD && vmsd == nil {
            let infoName = info?.pointee.name.map { String(cString: $0) } ?? "?"
            errors.append((.structNeedsVmsd, "info \"\(infoName)\" without vmsd"))
        }
        if !isStruct && info == nil {
            errors.append((.needsInfo, "the field has neither info nor vmsd"))
        }
        return errors
    }
}

/// The bytes of a NUL-terminated C string, without the NUL.
func cStringBytes(_ p: UnsafePointer<CChar>) -> [UInt8] {
    // SAFETY: `p` is a NUL-terminated string of a C table (valid as long as the table);
    // strlen bounds the buffer read.
    let n = strlen(p)
    return p.withMemoryRebound(to: UInt8.self, capacity: n) { Array(UnsafeBufferPointer(start: $0, count: n)) }
}

/// One `VMStateDescription` of a C table, decoded: its fields (up to the entry without a name)
/// and its subsections (up to NULL), with the rules its subsection names break.
struct DecodedDescription {
    let vmsd: UnsafePointer<VMStateDescription>
    /// nil when the description has no name.
    let name: String?
    let version: Int32
    let minimumVersion: Int32
    /// nil when `fields` is NULL (the schema dump leaves `"Fields"` out then).
    let fields: [DecodedField]?
    /// nil when `subsections` is NULL.
    let subsections: [UnsafePointer<VMStateDescription>]?
    /// The flags of the entry that ends `fields` (QEMU 10.0's VMSTATE_END_OF_LIST() sets
    /// ``QEMUDialect/vmsEnd``, 7.2's none); nil when `fields` is NULL.
    let endFlags: UInt32?

    /// The name's bytes exactly as in the table; nil without a name.
    var nameBytes: [UInt8]? { vmsd.pointee.name.map { cStringBytes($0) } }

    /// SAFETY: `vmsd` is a C table, `static const` and never freed (docs/C-API.md,
    /// "Lifetimes"); its `fields` end with an entry whose name is NULL and its `subsections`
    /// with NULL, as QEMU's VMSTATE_END_OF_LIST and subsection lists do: the walks stop there
    /// (a table without its terminator is undefined behaviour in QEMU as here).
    init(_ vmsd: UnsafePointer<VMStateDescription>) {
        let d = vmsd.pointee
        self.vmsd = vmsd
        name = d.name.map { String(cString: $0) }
        version = d.version_id
        minimumVersion = d.minimum_version_id
        if var cursor = d.fields {
            var list: [DecodedField] = []
            while cursor.pointee.name != nil {
                list.append(DecodedField(cursor))
                cursor += 1
            }
            fields = list
            endFlags = cursor.pointee.flags.rawValue
        } else {
            fields = nil
            endFlags = nil
        }
        if var cursor = d.subsections {
            var list: [UnsafePointer<VMStateDescription>] = []
            while let sub = cursor.pointee {
                list.append(sub)
                cursor += 1
            }
            subsections = list
        } else {
            subsections = nil
        }
    }

    /// A subsection as the parent sees it: its name bytes (nil without a name), its path
    /// component (the name without `parent/`), and what is wrong with the name.
    struct Subsection {
        let vmsd: UnsafePointer<VMStateDescription>
        let name: [UInt8]?
        let component: String
        /// Rule violations of the name, errors and the `subsection-separator` warning.
        let problems: [(rule: VMStateLint.Rule, message: String)]
    }

    /// The subsections with the name rules checked (docs/FORMAT.md §6): the name exists, starts
    /// with the parent's name and is longer, fits the length byte, and is used once.
    var checkedSubsections: [Subsection] {
        let parentName = name ?? ""
        let parent = Array(parentName.utf8)
        var seen = Set<[UInt8]>()
        var result: [Subsection] = []
        for sub in subsections ?? [] {
            guard let cname = sub.pointee.name else {
                result.append(
                    Subsection(
                        vmsd: sub, name: nil, component: "?",
                        problems: [(.missingName, "a subsection has no name")]))
                continue
            }
            let subName = String(cString: cname)
            let bytes = Array(subName.utf8)
            let component =
                bytes.starts(with: parent + [UInt8(ascii: "/")])
                ? String(decoding: bytes[(parent.count + 1)...], as: UTF8.self) : subName
            var problems: [(rule: VMStateLint.Rule, message: String)] = []
            if !seen.insert(bytes).inserted {
                problems.append((.subsectionName, "two subsections of \"\(parentName)\" are named \"\(subName)\""))
            }
            if bytes.count > 255 {
                problems.append((.subsectionName, "the name is \(bytes.count) bytes; the stream allows 255"))
            } else if !bytes.starts(with: parent) || bytes.count <= parent.count {
                problems.append(
                    (
                        .subsectionName,
                        "the name \"\(subName)\" is not the parent's name \"\(parentName)\" followed by more; the loader hands such a subsection back to the caller, so it never loads"
                    ))
            } else if bytes[parent.count] != UInt8(ascii: "/") {
                problems.append(
                    (
                        .subsectionSeparator,
                        "the name \"\(subName)\" does not start with \"\(parentName)/\" (QEMU loads it; keep a name already "
                            + "released: a renamed subsection fails to load from builds that send the old name)"
                    ))
            }
            result.append(Subsection(vmsd: sub, name: bytes, component: component, problems: problems))
        }
        return result
    }
}

/// What is done for one element of a field, resolved once per field.
enum ElementOp {
    /// Integers, bools, CPU_DoubleU: `width` bytes, byte-swapped; bool loads any non-zero as 1.
    case scalar(width: Int, isBool: Bool)
    /// A value that must equal the local one (`_equal` infos); `signedLE` is int32_le.
    case equal(width: Int)
    case int32LE
    case buffer
    case unusedBuffer
    case nullptr
    case timer
    case tmp(DescriptionPlan)
    case bitmap
    case qtailq(DescriptionPlan)
    case qlist(DescriptionPlan)
    case gtree(value: DescriptionPlan, key: DescriptionPlan?)
    case structure(DescriptionPlan)
    case vstructure(DescriptionPlan)
    case custom(UnsafePointer<VMStateInfo>)
    /// QEMU 10.0's vmstate_info_fd: a file descriptor, which a byte stream cannot carry (saves
    /// and loads fail as QEMU 10.0's on a channel without descriptor passing).
    case fd
    /// No info and no vmsd (VMSTATE_VALIDATE): only valid with zero elements.
    case none
}

extension ElementOp {
    /// The plans of the descriptions the element nests.
    var nestedPlans: [DescriptionPlan] {
        switch self {
        case .tmp(let plan), .qtailq(let plan), .qlist(let plan), .structure(let plan), .vstructure(let plan):
            return [plan]
        case .gtree(let value, let key): return [value] + (key.map { [$0] } ?? [])
        default: return []
        }
    }

    /// A standard info whose put saves a nested description (QEMU's put_tmp, put_qtailq,
    /// put_qlist, put_gtree call vmstate_save_state without an Error).
    var savesNestedThroughInfo: Bool {
        switch self {
        case .tmp, .qtailq, .qlist, .gtree: return true
        default: return false
        }
    }
}

/// How many elements a field has.
enum CountRule {
    case one
    case fixed(Int)
    /// The counter at `offset` in the opaque, of `width` bytes (signed for VARRAY_INT32).
    case counter(offset: Int, width: Int, signed: Bool)
}

extension DescriptionPlan {
    /// How far into its struct the description's fields (and its subsections', which share
    /// the struct) reach whatever the state: each field's fixed storage (a scalar, a fixed-size
    /// array, an in-struct buffer or struct, a pointer's own 8 bytes), a counter's, and a
    /// VMS_VBUFFER's size field; the field that reaches furthest. Fields whose storage is not
    /// at their offset (unused space, VMS_WITH_TMP, a custom or list info, which may use
    /// `container_of`), and elements whose number the state gives, are not counted. Nil when
    /// no field counts.
    fileprivate func fixedExtent() -> (end: Int, field: String)? {
        var best: (end: Int, field: String)?
        var seen = Set<ObjectIdentifier>()
        func visit(_ plan: DescriptionPlan) {
            guard seen.insert(ObjectIdentifier(plan)).inserted else { return }
            for f in plan.fields {
                var end = 0
                if f.isPointer {
                    end = f.offset + MemoryLayout<UnsafeRawPointer>.size
                } else {
                    switch f.op {
                    case .scalar, .equal, .int32LE, .structure, .vstructure, .timer,
                        .buffer where f.sizeOffset == nil:
                        switch f.count {
                        case .one: end = f.offset + f.size
                        case .fixed(let n): end = f.offset + f.size * n * f.countMultiplier
                        case .counter: end = f.offset
                        }
                    default: end = 0
                    }
                }
                if case .counter(let offset, let width, _) = f.count { end = max(end, offset + width) }
                if let sizeOffset = f.sizeOffset { end = max(end, sizeOffset + 4) }
                if end > (best?.end ?? 0) { best = (end, "\(plan.name)/\(f.name)") }
            }
            for sub in plan.subsectionPlans { if let sub { visit(sub) } }
        }
        visit(self)
        return best
    }

    /// Refuses a struct of `size` bytes that ``fixedReach`` passes (a size given for the
    /// wrong struct, or a table for another one), before any byte loads: a load would fail
    /// only at the first field that does not fit, the fields before it loaded.
    func checkFits(size: Int, path: String) throws(VMStateError) {
        guard let reach = fixedReach, reach.end > size else { return }
        throw VMStateError(
            .failed, path: path,
            reason:
                "the struct's size is smaller than its description's fields need: field \"\(reach.field)\" ends at byte \(reach.end)",
            expected: "at least \(reach.end) bytes", actual: "\(size)")
    }
}

/// One field of a description, resolved once: everything the save and load loops need.
///
/// A class (immutable, built once per field): the loops pass fields around and take them out
/// of the plan's array, and a reference costs one retain where a struct of these strings and
/// references cost one each.
///
/// SAFETY (@unchecked Sendable): every property is a `let` set by `init`; the C pointers are
/// the description's tables, valid while its plan is used (see ``DescriptionPlan``), and
/// only read.
final class FieldPlan: @unchecked Sendable {
    let field: UnsafePointer<VMStateField>
    let name: String
    /// The name of the description the field belongs to (QEMU 10.0's "Save of field
    /// OWNER/NAME failed").
    let owner: String
    /// The name in vmdesc: `name[k]` when the name occurs more than once in the table.
    let vmdescName: String
    /// The `type` in vmdesc.
    let typeName: String
    let offset: Int
    let size: Int
    let version: Int32
    let fieldExists: (@convention(c) (UnsafeMutableRawPointer?, Int32) -> Bool)?
    let mustExist: Bool
    let count: CountRule
    /// Multiply the count by this (VMS_MULTIPLY_ELEMENTS), or 1.
    let countMultiplier: Int
    /// VMS_VBUFFER: the element size is the int32 at this offset (times `size` with MULTIPLY).
    let sizeOffset: Int?
    let multiplySize: Bool
    let isPointer: Bool
    let allocates: Bool
    let arrayOfPointer: Bool
    let isStruct: Bool
    let op: ElementOp
    /// QEMU's vmsd_can_compress: an array is described by its first element only.
    let compressible: Bool
    /// The version VMS_VSTRUCT elements are saved and loaded at (`struct_version_id`).
    let structVersion: Int32
    /// `start`: the link offset in a qtailq/qlist element, or a gtree's key size (0: direct
    /// keys).
    let start: Int
    /// `err_hint`, printed when an `_equal` check fails.
    let errHint: UnsafePointer<CChar>?

    init(
        field: UnsafePointer<VMStateField>, name: String, owner: String, vmdescName: String, typeName: String,
        offset: Int, size: Int, version: Int32,
        fieldExists: (@convention(c) (UnsafeMutableRawPointer?, Int32) -> Bool)?,
        mustExist: Bool, count: CountRule, countMultiplier: Int, sizeOffset: Int?, multiplySize: Bool, isPointer: Bool,
        allocates: Bool, arrayOfPointer: Bool, isStruct: Bool, op: ElementOp, compressible: Bool, structVersion: Int32,
        start: Int, errHint: UnsafePointer<CChar>?
    ) {
        self.field = field
        self.name = name
        self.owner = owner
        self.vmdescName = vmdescName
        self.typeName = typeName
        self.offset = offset
        self.size = size
        self.version = version
        self.fieldExists = fieldExists
        self.mustExist = mustExist
        self.count = count
        self.countMultiplier = countMultiplier
        self.sizeOffset = sizeOffset
        self.multiplySize = multiplySize
        self.isPointer = isPointer
        self.allocates = allocates
        self.arrayOfPointer = arrayOfPointer
        self.isStruct = isStruct
        self.op = op
        self.compressible = compressible
        self.structVersion = structVersion
        self.start = start
        self.errHint = errHint
    }

    /// Whether the element count (VMS_VARRAY_*) or size (VMS_VBUFFER) is a member of the struct.
    var countFromStruct: Bool {
        if case .counter = count { return true }
        return sizeOffset != nil
    }
}

/// A description resolved into field plans; built on first use and cached by address.
///
/// SAFETY (@unchecked Sendable): every stored property is set while the plan is built, under
/// `Planner.buildLock`, and only read once the plan is published in the cache (the Mutex
/// orders the writes before any other thread's read). The C pointers (`vmsd`, the fields'
/// tables) stay valid while the plan is used (docs/C-API.md, "Lifetimes"; the cache drops
/// its plans when a shared object is unloaded, `Planner`). A plan holds the plans it refers
/// to strongly (its fields' `op`, `subsectionPlans`), so they live as long as it does, which
/// is what lets `Program` hold unretained references to them and views of `programStorage`;
/// a save or load holds its root plan until it returns. Plans that refer to each other (a
/// description nesting itself through a list) are freed by ``discard()`` once no save or load
/// can be using them (`Planner.holding(_:)`).
final class DescriptionPlan: @unchecked Sendable {
    let vmsd: UnsafePointer<VMStateDescription>
    let name: String
    let nameBytes: [UInt8]
    // Set while the plan is built, read-only once it is published: exempt from dynamic
    // exclusivity checks, which would otherwise run on every save and load of the description.
    @exclusivity(unchecked) fileprivate(set) var fields: [FieldPlan] = []
    @exclusivity(unchecked) fileprivate(set) var subsections:
        [(vmsd: UnsafePointer<VMStateDescription>, name: [UInt8])] = []
    /// The subsections' plans, built (and checked) with this one; never nil since tables are
    /// validated when planned (the element type stays optional for `Program.compile`).
    @exclusivity(unchecked) fileprivate(set) var subsectionPlans: [DescriptionPlan?] = []
    /// The compiled steps for saves and loads (with vmdesc, checked or not); set once the plan is
    /// built, before it is published.
    @exclusivity(unchecked) fileprivate(set) var program: Program?
    /// ``fixedExtent()``, worked out once when the plan is built (``checkFits(size:path:)``
    /// runs at every checked load).
    @exclusivity(unchecked) fileprivate(set) var fixedReach: (end: Int, field: String)?
    fileprivate let programStorage = ProgramStorage()
    /// The longest chain of descriptions from this one down, itself included (subsections
    /// count); 0 while the plan is being built.
    fileprivate(set) var height = 0
    /// The field (or subsection) starting that chain and the plan it leads to; nil at the end.
    fileprivate var deepest: (label: String, plan: DescriptionPlan)?

    fileprivate init(_ vmsd: UnsafePointer<VMStateDescription>) {
        self.vmsd = vmsd
        name = vmsd.pointee.name.map { String(cString: $0) } ?? "(unnamed)"
        nameBytes = Array(name.utf8)
    }

    var versionID: Int32 { vmsd.pointee.version_id }
    var minimumVersionID: Int32 { vmsd.pointee.minimum_version_id }

    /// The labels along the longest chain below this plan.
    fileprivate var deepestChain: [String] {
        var chain: [String] = []
        var step = deepest
        while let (label, plan) = step {
            chain.append(label)
            step = plan.deepest
        }
        return chain
    }

    /// Drops the references to other plans of a plan that no one uses any more (its pass
    /// failed, or it left the cache at an unload and no save or load runs), which may form
    /// cycles.
    fileprivate func discard() {
        fields = []
        subsectionPlans = []
        deepest = nil
        program = nil
    }
}

/// The cache of plans, safe to use from several threads.
enum Planner {
    private struct Key: Hashable {
        let vmsd: UInt
        let fields: UInt
        let name: UInt
        let subsections: UInt
        let versions: Int64
    }

    /// The plans by the addresses of their tables, while no shared object has been unloaded
    /// since they were built: a dlclose may free a plugin's tables and a later dlopen put
    /// another plugin's at the same addresses (verify18 A: its device was saved with the first
    /// plugin's plan), so a change in the process's count of unloads drops them all. A save or
    /// load that holds one (inside ``holding(_:)``) keeps it and the plans it refers to until it
    /// returns; the dropped plans are retired, and their references to each other broken (so
    /// that plans forming a cycle are freed too) once no save or load runs.
    private struct Cache {
        var plans: [Key: DescriptionPlan] = [:]
        var unloads: UInt64 = 0
        /// Plans out of the cache that a running save or load may still use: those dropped at
        /// an unload, and those a pass built when an unload kept it from publishing them.
        var retired: [DescriptionPlan] = []

        /// Empties the cache when `unloads` (read by the caller just before) is past the count
        /// its plans were built at. (A count read before another thread's newer one is not: the
        /// plans built since are of the tables as they are now.)
        mutating func update(unloads: UInt64) {
            guard unloads > self.unloads else { return }
            retire(plans.values)
            plans = [:]
            self.unloads = unloads
        }

        mutating func retire(_ unused: some Sequence<DescriptionPlan>) {
            retired.append(contentsOf: unused)
            if !retired.isEmpty { hasRetired.store(true, ordering: .sequentiallyConsistent) }
        }

        /// The plan of `key`, after ``update(unloads:)``.
        mutating func plan(_ key: Key, unloads: UInt64) -> DescriptionPlan? {
            update(unloads: unloads)
            return plans[key]
        }
    }

    private static let cache = Mutex<Cache>(Cache(unloads: vmstate_unloaded_objects()))
    /// Serialises building: two threads planning the same new description at once each built
    /// it, and the plans of the one that lost the race were dropped, leaking them when they
    /// form a cycle (a self-nesting description: LeakSanitizer saw it in parallel tests).
    private static let buildLock = Mutex<Void>(())
    /// Saves, loads and other uses of plans running now (``holding(_:)``), on every thread.
    private static let holders = Atomic<Int>(0)
    /// Whether `Cache.retired` may hold plans (read without the lock when a holder ends).
    private static let hasRetired = Atomic<Bool>(false)

    /// Runs `body`, which may get plans (``plan(_:)``, ``standalone(_:info:)``) and use them
    /// until it returns: plans the cache drops meanwhile (at an unload) are not discarded until
    /// every such call has returned. Every top-level save, load or table check runs in one;
    /// nesting is allowed (a custom VMStateInfo's save of another description).
    static func holding<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        holders.add(1, ordering: .sequentiallyConsistent)
        defer {
            // The last holder out frees the retired plans. The count is read again under the lock
            // that retires plans: a holder that started since may have taken plans from the cache
            // before they were retired; one starting later cannot reach them.
            if holders.subtract(1, ordering: .sequentiallyConsistent).newValue == 0,
                hasRetired.load(ordering: .sequentiallyConsistent)
            {
                let unused = cache.withLock { table -> [DescriptionPlan] in
                    guard holders.load(ordering: .sequentiallyConsistent) == 0 else { return [] }
                    hasRetired.store(false, ordering: .sequentiallyConsistent)
                    defer { table.retired = [] }
                    return table.retired
                }
                for plan in unused { plan.discard() }
            }
        }
        return try body()
    }

    private static func key(_ vmsd: UnsafePointer<VMStateDescription>) -> Key {
        let d = vmsd.pointee
        return Key(
            vmsd: UInt(bitPattern: vmsd), fields: UInt(bitPattern: d.fields),
            name: UInt(bitPattern: d.name), subsections: UInt(bitPattern: d.subsections),
            versions: Int64(d.version_id) << 32 | Int64(UInt32(bitPattern: d.minimum_version_id)))
    }

    /// The deepest nesting of descriptions a table may have (the root, its structs, theirs, and
    /// subsections, each a level): the same 64 levels a checked load allows and `vmstate lint`
    /// reports. Real tables nest a dozen levels at most; a deeper chain could not load through a
    /// checked load, and planning it recursed until the stack ran out (about 4,000 levels).
    static let maximumDepth = LoadGuard.maximumDepth

    /// One call's planning: the plans built so far, published together when it succeeds.
    private struct Pass {
        var plans: [Key: DescriptionPlan] = [:]
        /// The root's name, then the field (or subsection) leading to each description being
        /// built: the error path when a table nests too deeply.
        var trail: [String] = []
        /// Descriptions known to be (or not be) compressible as struct elements.
        var compressible: [UnsafePointer<VMStateDescription>: Bool] = [:]
        /// Where the thread's stack ends: planning recurses once per nested description too.
        let stack = StackLimit()
    }

    /// The plan for `vmsd`, building it (and the plans it refers to) on first use. The caller
    /// runs inside ``holding(_:)`` for as long as it uses the plan.
    static func plan(_ vmsd: UnsafePointer<VMStateDescription>) throws(VMStateError) -> DescriptionPlan {
        let k = key(vmsd)
        // (About 20 ns: glibc's dl_iterate_phdr stops at the first object.)
        let unloads = vmstate_unloaded_objects()
        if let plan = cache.withLock({ $0.plan(k, unloads: unloads) }) { return plan }
        return try buildLock.withLock { _ throws(VMStateError) -> DescriptionPlan in
            if let plan = cache.withLock({ $0.plan(k, unloads: unloads) }) { return plan }
            return try planning(unloads: unloads) { (pass) throws(VMStateError) in try build(vmsd, &pass) }
        }
    }

    /// One pass of planning, under `buildLock` (so no other pass publishes while it runs, and
    /// it builds no description the cache holds): its plans are published in the cache when
    /// `body` succeeds (retired instead when an unload came meanwhile, as they may be of its
    /// tables), discarded when it fails (they may refer to each other: a description nesting
    /// itself through a list).
    private static func planning<T>(
        unloads: UInt64, _ body: (inout Pass) throws(VMStateError) -> T
    ) throws(VMStateError) -> T {
        var pass = Pass()
        let result: T
        do throws(VMStateError) {
            result = try body(&pass)
        } catch {
            for unused in pass.plans.values { unused.discard() }
            throw error
        }
        cache.withLock { table in
            guard table.unloads == unloads else { return table.retire(pass.plans.values) }
            // (A key the cache holds already cannot come from a pass under `buildLock`; were it
            // to, that copy is not retired: this pass's published plans may refer to it.)
            for (key, value) in pass.plans where table.plans[key] == nil { table.plans[key] = value }
        }
        return result
    }

    private static func build(
        _ vmsd: UnsafePointer<VMStateDescription>, _ pass: inout Pass
    ) throws(VMStateError) -> DescriptionPlan {
        let k = key(vmsd)
        if let plan = pass.plans[k] ?? cache.withLock({ $0.plans[k] }) { return plan }
        let plan = DescriptionPlan(vmsd)
        if pass.trail.isEmpty { pass.trail.append(plan.name) }
        // Checked before recursing further, so a chain of thousands of levels fails here
        // instead of exhausting the stack; the height check below covers chains that reach
        // plans built earlier.
        if pass.trail.count > maximumDepth { throw tooDeep(pass.trail) }
        if pass.stack.isNearlyUsedUp { throw StackLimit.exceeded(path: pass.trail.joined(separator: "/")) }
        pass.plans[k] = plan

        // The table is checked here, once, so an unusable one fails when it is registered or
        // first used, not at the first save that reaches the field (docs/FORMAT.md §7).
        let decoded = DecodedDescription(vmsd)
        let fieldList = decoded.fields ?? []
        var seen: [String: Int] = [:]
        var totals: [String: Int] = [:]
        for field in fieldList { totals[field.name, default: 0] += 1 }

        var fields: [FieldPlan] = []
        var deepest: (label: String, plan: DescriptionPlan)? = nil
        func reach(_ label: String, _ nested: DescriptionPlan) {
            if nested.height > (deepest?.plan.height ?? 0) { deepest = (label, nested) }
        }
        for field in fieldList {
            let name = field.name
            if let error = field.tableErrors.first {
                throw VMStateError(.invalidTable, path: "\(plan.name)/\(name)", reason: error.message)
            }
            let occurrence = seen[name, default: 0]
            seen[name] = occurrence + 1
            let vmdescName = totals[name]! > 1 ? "\(name)[\(occurrence)]" : name
            pass.trail.append(name)
            defer { pass.trail.removeLast() }
            let fieldPlan = try fieldPlan(
                field, info: field.info, vmdescName: vmdescName, owner: plan.name, &pass)
            for nested in fieldPlan.op.nestedPlans { reach(name, nested) }
            fields.append(fieldPlan)
        }
        plan.fields = fields

        for sub in decoded.checkedSubsections {
            if let problem = sub.problems.first(where: { $0.rule.severity == .error }) {
                throw VMStateError(.invalidTable, path: "\(plan.name)/\(sub.component)", reason: problem.message)
            }
            plan.subsections.append((sub.vmsd, sub.name ?? []))
            pass.trail.append(sub.component)
            defer { pass.trail.removeLast() }
            let subPlan = try build(sub.vmsd, &pass)
            reach(sub.component, subPlan)
            plan.subsectionPlans.append(subPlan)
        }

        // The longest chain of descriptions from here down. A plan still being built (a
        // description reached again through itself, as a tree's nodes through their list of
        // children) has height 0: that depth is the stream's, bounded when a checked load
        // reads it.
        plan.height = 1 + (deepest?.plan.height ?? 0)
        plan.deepest = deepest
        if pass.trail.count - 1 + plan.height > maximumDepth {
            throw tooDeep(pass.trail + plan.deepestChain)
        }
        plan.program = Program.compile(plan, subsectionPlans: plan.subsectionPlans, storage: plan.programStorage)
        plan.fixedReach = plan.fixedExtent()
        return plan
    }

    /// The error for a chain of descriptions deeper than `maximumDepth`: the path names the
    /// root and the fields (or subsections) down to the first description past the limit,
    /// whichever way the chain was found.
    private static func tooDeep(_ chain: [String]) -> VMStateError {
        VMStateError(
            .invalidTable, path: chain.prefix(maximumDepth + 1).joined(separator: "/"),
            reason: "descriptions nested deeper than \(maximumDepth) levels")
    }

    /// A plan for calling the standard `info` on one element of `field` directly (a C caller
    /// invoking `vmstate_info_X.get/put` itself).
    /// The descriptions it refers to are planned (and cached) as ``plan(_:)`` does; the caller
    /// runs inside ``holding(_:)`` while it uses the plan.
    static func standalone(
        _ field: UnsafePointer<VMStateField>, info: UnsafePointer<VMStateInfo>
    ) throws(VMStateError) -> FieldPlan {
        // Under `buildLock`, as every pass: a description planned by two passes at once was
        // built twice, and the copy that lost, retired while a published plan of the other
        // pass referred to it, was discarded under it (verify21 1: later saves wrote nothing for
        // the nested struct, or crashed).
        let unloads = vmstate_unloaded_objects()
        var plan: FieldPlan? = nil
        try buildLock.withLock { _ throws(VMStateError) in
            cache.withLock { $0.update(unloads: unloads) }
            plan = try planning(unloads: unloads) { (pass) throws(VMStateError) in
                try fieldPlan(DecodedField(field, flagsMask: 0), info: info, vmdescName: nil, owner: "", &pass)
            }
        }
        return plan!
    }

    private static func fieldPlan(
        _ f: DecodedField, info: UnsafePointer<VMStateInfo>?, vmdescName: String?, owner: String,
        _ pass: inout Pass
    ) throws(VMStateError) -> FieldPlan {
        func has(_ flag: VMStateFlags) -> Bool { f.has(flag) }
        let path = "\(owner)/\(f.name)"

        func nested(_ vmsd: UnsafePointer<VMStateDescription>?) throws(VMStateError) -> DescriptionPlan {
            guard let vmsd else {
                throw VMStateError(.invalidTable, path: path, reason: "field has no vmsd")
            }
            return try build(vmsd, &pass)
        }

        let op: ElementOp
        let typeName: String
        if has(VMS_STRUCT) {
            op = .structure(try nested(f.vmsd))
            typeName = "struct"
        } else if has(VMS_VSTRUCT) {
            op = .vstructure(try nested(f.vmsd))
            typeName = "vstruct"
        } else if let info {
            typeName = info.pointee.name.map { String(cString: $0) } ?? "unknown"
            switch StandardKind.of(info) {
            case VMSTATE_STD_BOOL?: op = .scalar(width: 1, isBool: true)
            case VMSTATE_STD_INT8?, VMSTATE_STD_UINT8?: op = .scalar(width: 1, isBool: false)
            case VMSTATE_STD_INT16?, VMSTATE_STD_UINT16?: op = .scalar(width: 2, isBool: false)
            case VMSTATE_STD_INT32?, VMSTATE_STD_UINT32?: op = .scalar(width: 4, isBool: false)
            case VMSTATE_STD_INT64?, VMSTATE_STD_UINT64?, VMSTATE_STD_CPUDOUBLE?: op = .scalar(width: 8, isBool: false)
            case VMSTATE_STD_UINT8_EQUAL?: op = .equal(width: 1)
            case VMSTATE_STD_UINT16_EQUAL?: op = .equal(width: 2)
            case VMSTATE_STD_UINT32_EQUAL?, VMSTATE_STD_INT32_EQUAL?: op = .equal(width: 4)
            case VMSTATE_STD_UINT64_EQUAL?: op = .equal(width: 8)
            case VMSTATE_STD_INT32_LE?: op = .int32LE
            case VMSTATE_STD_NULLPTR?: op = .nullptr
            case VMSTATE_STD_BUFFER?: op = .buffer
            case VMSTATE_STD_UNUSED_BUFFER?: op = .unusedBuffer
            case VMSTATE_STD_TIMER?: op = .timer
            case VMSTATE_STD_BITMAP?: op = .bitmap
            case VMSTATE_STD_TMP?: op = .tmp(try nested(f.vmsd))
            case VMSTATE_STD_QTAILQ?: op = .qtailq(try nested(f.vmsd))
            case VMSTATE_STD_QLIST?: op = .qlist(try nested(f.vmsd))
            case VMSTATE_STD_GTREE?:
                let value = try nested(f.vmsd)
                let key = f.start == 0 ? nil : try nested(f.vmsd.map { $0 + 1 })
                op = .gtree(value: value, key: key)
            default: op = f.isFD ? .fd : .custom(info)  // not a standard instance
            }
        } else {
            op = .none
            typeName = "unknown"
        }

        return FieldPlan(
            field: f.pointer, name: f.name, owner: owner, vmdescName: vmdescName ?? f.name, typeName: typeName,
            offset: f.offset, size: f.size, version: f.version,
            fieldExists: f.fieldExists, mustExist: f.mustExist, count: f.count,
            countMultiplier: has(VMS_MULTIPLY_ELEMENTS) ? f.num : 1,
            sizeOffset: has(VMS_VBUFFER) ? f.sizeOffset : nil, multiplySize: has(VMS_MULTIPLY),
            isPointer: f.isPointer, allocates: f.isPointer && has(VMS_ALLOC),
            arrayOfPointer: has(VMS_ARRAY_OF_POINTER), isStruct: has(VMS_STRUCT), op: op,
            compressible: canCompress(f, &pass.compressible), structVersion: f.structVersion, start: f.start,
            errHint: f.errHint)
    }

    /// QEMU's rule for describing an array by its first element only (vmsd_can_compress): not
    /// with `field_exists`, and for a struct, only when the nested description has no
    /// subsections and each of its fields is compressible in turn.
    ///
    /// QEMU recurses through the nested descriptions and never ends on one that contains itself
    /// through VMS_STRUCT; here such a cycle counts as compressible when every description in
    /// it is (the answer does not depend on the order descriptions are planned). The walk uses
    /// its own stack and `known` remembers each description's answer, so deep tables cost one
    /// visit per description.
    static func canCompress(
        _ f: DecodedField, _ known: inout [UnsafePointer<VMStateDescription>: Bool]
    ) -> Bool {
        if f.fieldExists != nil { return false }
        guard f.has(VMS_STRUCT) else { return true }
        guard let root = f.vmsd else { return false }
        if let answer = known[root] { return answer }
        // Every description reachable from `root` through VMS_STRUCT must have no subsections
        // and no field_exists fields: a search for one that does.
        var visited: Set<UnsafePointer<VMStateDescription>> = [root]
        var pending = [root]
        var compressible = true
        search: while let vmsd = pending.popLast() {
            let nested = DecodedDescription(vmsd)
            if nested.subsections != nil {
                compressible = false
                break
            }
            for field in nested.fields ?? [] {
                if field.fieldExists != nil {
                    compressible = false
                    break search
                }
                guard field.has(VMS_STRUCT) else { continue }
                guard let next = field.vmsd, known[next] != false else {
                    compressible = false
                    break search
                }
                if known[next] == nil, visited.insert(next).inserted { pending.append(next) }
            }
        }
        // A true answer holds for everything visited (it reaches only descriptions reached from
        // `root`); a false one only for `root`.
        if compressible {
            for vmsd in visited { known[vmsd] = true }
        } else {
            known[root] = false
        }
        return compressible
    }
}

extension DescriptionPlan {
    /// Whether loading this description a second time into the same struct only writes over
    /// what the first load wrote: no field, here or in a nested description or subsection,
    /// allocates (VMS_ALLOC), fills a list or a tree, or calls a custom `get` (which may do
    /// either). QEMU loads every section of one idstr and instance into the first device of them
    /// (`find_se`), so a section that comes twice (QEMU 7.2's isapc saves both `isa-ide`
    /// channels as instance 0) loads twice into it, the last one's state staying.
    var reloadsInPlace: Bool {
        var seen = Set<ObjectIdentifier>()
        func inPlace(_ plan: DescriptionPlan) -> Bool {
            guard seen.insert(ObjectIdentifier(plan)).inserted else { return true }
            for field in plan.fields {
                if field.allocates { return false }
                switch field.op {
                case .qtailq, .qlist, .gtree, .custom: return false
                case .tmp(let nested), .structure(let nested), .vstructure(let nested):
                    if !inPlace(nested) { return false }
                default: break
                }
            }
            return plan.subsectionPlans.allSatisfy { $0.map(inPlace) ?? true }
        }
        return inPlace(self)
    }
}
