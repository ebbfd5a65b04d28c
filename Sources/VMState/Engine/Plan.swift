import CGLib
import CVMState
import Synchronization

/// The standard `vmstate_info_*` instances, in the order of `VMStateStdKind`.
enum StandardKind: Int32 {
    case bool = 0, int8, int16, int32, int64, uint8, uint16, uint32, uint64
    case int32Equal, int32LE, uint8Equal, uint16Equal, uint32Equal, uint64Equal
    case nullptr, cpudouble, buffer, unusedBuffer, timer, tmp, bitmap, qtailq, gtree, qlist

    /// Recognises a standard instance by address (taken in C, see `vmstate_std_info`).
    static func of(_ info: UnsafePointer<VMStateInfo>) -> StandardKind? {
        addressTable[UInt(bitPattern: info)]
    }

    private static let addressTable: [UInt: StandardKind] = {
        var table: [UInt: StandardKind] = [:]
        for raw in 0..<Int32(VMSTATE_STD_COUNT.rawValue) {
            if let info = vmstate_std_info(raw), let kind = StandardKind(rawValue: raw) {
                table[UInt(bitPattern: info)] = kind
            }
        }
        return table
    }()
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
    /// No info and no vmsd (VMSTATE_VALIDATE): only valid with zero elements.
    case none
}

/// How many elements a field has.
enum CountRule {
    case one
    case fixed(Int)
    /// The counter at `offset` in the opaque, of `width` bytes (signed for VARRAY_INT32).
    case counter(offset: Int, width: Int, signed: Bool)
}

/// One field of a description, resolved once: everything the save and load loops need.
struct FieldPlan {
    let field: UnsafePointer<VMStateField>
    let name: String
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
}

/// A description resolved into field plans; built on first use and cached by address.
final class DescriptionPlan: @unchecked Sendable {
    let vmsd: UnsafePointer<VMStateDescription>
    let name: String
    let nameBytes: [UInt8]
    // Set while the plan is built, read-only once it is published: exempt from dynamic
    // exclusivity checks, which would otherwise run on every save and load of the description.
    @exclusivity(unchecked) fileprivate(set) var fields: [FieldPlan] = []
    @exclusivity(unchecked) fileprivate(set) var subsections: [(vmsd: UnsafePointer<VMStateDescription>, name: [UInt8])] = []
    /// The subsections' plans where they could be built with this one (held for `program`).
    @exclusivity(unchecked) fileprivate(set) var subsectionPlans: [DescriptionPlan?] = []
    /// The compiled steps for saves and loads (with vmdesc, checked or not); set once the plan is
    /// built, before it is published.
    @exclusivity(unchecked) fileprivate(set) var program: Program?
    fileprivate let programStorage = ProgramStorage()

    fileprivate init(_ vmsd: UnsafePointer<VMStateDescription>) {
        self.vmsd = vmsd
        name = vmsd.pointee.name.map { String(cString: $0) } ?? "(unnamed)"
        nameBytes = Array(name.utf8)
    }

    var versionID: Int32 { vmsd.pointee.version_id }
    var minimumVersionID: Int32 { vmsd.pointee.minimum_version_id }
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

    private static let cache = Mutex<[Key: DescriptionPlan]>([:])
    /// Serialises building: two threads planning the same new description at once each built
    /// it, and the plans of the one that lost the race were dropped, leaking them when they
    /// form a cycle (a self-nesting description: LeakSanitizer saw it in parallel tests).
    private static let buildLock = Mutex<Void>(())

    private static func key(_ vmsd: UnsafePointer<VMStateDescription>) -> Key {
        let d = vmsd.pointee
        return Key(
            vmsd: UInt(bitPattern: vmsd), fields: UInt(bitPattern: d.fields),
            name: UInt(bitPattern: d.name), subsections: UInt(bitPattern: d.subsections),
            versions: Int64(d.version_id) << 32 | Int64(UInt32(bitPattern: d.minimum_version_id)))
    }

    /// The plan for `vmsd`, building it (and the plans it refers to) on first use.
    static func plan(_ vmsd: UnsafePointer<VMStateDescription>) throws(VMStateError) -> DescriptionPlan {
        let k = key(vmsd)
        if let plan = cache.withLock({ $0[k] }) { return plan }
        return try buildLock.withLock { _ throws(VMStateError) -> DescriptionPlan in
            if let plan = cache.withLock({ $0[k] }) { return plan }
            var building: [Key: DescriptionPlan] = [:]
            let plan = try build(vmsd, &building)
            cache.withLock { table in
                for (key, value) in building where table[key] == nil { table[key] = value }
            }
            return plan
        }
    }

    private static func build(
        _ vmsd: UnsafePointer<VMStateDescription>, _ building: inout [Key: DescriptionPlan]
    ) throws(VMStateError) -> DescriptionPlan {
        let k = key(vmsd)
        if let plan = building[k] ?? cache.withLock({ $0[k] }) { return plan }
        let plan = DescriptionPlan(vmsd)
        building[k] = plan

        var fieldPointers: [UnsafePointer<VMStateField>] = []
        if var cursor = vmsd.pointee.fields {
            while cursor.pointee.name != nil {
                fieldPointers.append(cursor)
                cursor += 1
            }
        }
        let names = fieldPointers.map { String(cString: $0.pointee.name) }
        var seen: [String: Int] = [:]
        var totals: [String: Int] = [:]
        for n in names { totals[n, default: 0] += 1 }

        var fields: [FieldPlan] = []
        for (index, field) in fieldPointers.enumerated() {
            let name = names[index]
            let occurrence = seen[name, default: 0]
            seen[name] = occurrence + 1
            let vmdescName = totals[name]! > 1 ? "\(name)[\(occurrence)]" : name
            fields.append(
                try fieldPlan(field, info: field.pointee.info, name: name, vmdescName: vmdescName, owner: plan.name, &building))
        }
        plan.fields = fields

        if var sub = vmsd.pointee.subsections {
            while let s = sub.pointee {
                plan.subsections.append((s, Array(String(cString: s.pointee.name).utf8)))
                // Built ahead when it can be; a subsection that fails to build still fails only
                // when it is used (nothing of a failed attempt is kept).
                var attempt = building
                if let subPlan = try? build(s, &attempt) {
                    building = attempt
                    plan.subsectionPlans.append(subPlan)
                } else {
                    plan.subsectionPlans.append(nil)
                }
                sub += 1
            }
        }
        plan.program = Program.compile(plan, subsectionPlans: plan.subsectionPlans, storage: plan.programStorage)
        return plan
    }

    /// A plan for calling the standard `info` on one element of `field` directly (a C caller
    /// invoking `vmstate_info_X.get/put` itself).
    static func standalone(
        _ field: UnsafePointer<VMStateField>, info: UnsafePointer<VMStateInfo>
    ) throws(VMStateError) -> FieldPlan {
        var building: [Key: DescriptionPlan] = [:]
        let name = field.pointee.name.map { String(cString: $0) } ?? ""
        return try fieldPlan(field, info: info, name: name, vmdescName: name, owner: "", &building, flagsMask: 0)
    }

    private static func fieldPlan(
        _ field: UnsafePointer<VMStateField>, info: UnsafePointer<VMStateInfo>?, name: String, vmdescName: String,
        owner: String, _ building: inout [Key: DescriptionPlan], flagsMask: UInt32 = ~0
    ) throws(VMStateError) -> FieldPlan {
        let f = field.pointee
        let flags = f.flags.rawValue & flagsMask
        func has(_ flag: VMStateFlags) -> Bool { flags & flag.rawValue != 0 }
        let path = "\(owner)/\(name)"

        func nested(_ vmsd: UnsafePointer<VMStateDescription>?) throws(VMStateError) -> DescriptionPlan {
            guard let vmsd else {
                throw VMStateError(.invalidTable, path: path, reason: "field has no vmsd")
            }
            return try build(vmsd, &building)
        }

        let count: CountRule
        if has(VMS_ARRAY) {
            count = .fixed(Int(f.num))
        } else if has(VMS_VARRAY_INT32) {
            count = .counter(offset: f.num_offset, width: 4, signed: true)
        } else if has(VMS_VARRAY_UINT32) {
            count = .counter(offset: f.num_offset, width: 4, signed: false)
        } else if has(VMS_VARRAY_UINT16) {
            count = .counter(offset: f.num_offset, width: 2, signed: false)
        } else if has(VMS_VARRAY_UINT8) {
            count = .counter(offset: f.num_offset, width: 1, signed: false)
        } else {
            count = .one
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
            case .bool?: op = .scalar(width: 1, isBool: true)
            case .int8?, .uint8?: op = .scalar(width: 1, isBool: false)
            case .int16?, .uint16?: op = .scalar(width: 2, isBool: false)
            case .int32?, .uint32?: op = .scalar(width: 4, isBool: false)
            case .int64?, .uint64?, .cpudouble?: op = .scalar(width: 8, isBool: false)
            case .uint8Equal?: op = .equal(width: 1)
            case .uint16Equal?: op = .equal(width: 2)
            case .uint32Equal?, .int32Equal?: op = .equal(width: 4)
            case .uint64Equal?: op = .equal(width: 8)
            case .int32LE?: op = .int32LE
            case .nullptr?: op = .nullptr
            case .buffer?: op = .buffer
            case .unusedBuffer?: op = .unusedBuffer
            case .timer?: op = .timer
            case .bitmap?: op = .bitmap
            case .tmp?: op = .tmp(try nested(f.vmsd))
            case .qtailq?: op = .qtailq(try nested(f.vmsd))
            case .qlist?: op = .qlist(try nested(f.vmsd))
            case .gtree?:
                let value = try nested(f.vmsd)
                let key = f.start == 0 ? nil : try nested(f.vmsd.map { $0 + 1 })
                op = .gtree(value: value, key: key)
            case nil: op = .custom(info)
            }
        } else {
            op = .none
            typeName = "unknown"
        }

        return FieldPlan(
            field: field, name: name, vmdescName: vmdescName, typeName: typeName,
            offset: f.offset, size: f.size, version: f.version_id,
            fieldExists: f.field_exists, mustExist: has(VMS_MUST_EXIST), count: count,
            countMultiplier: has(VMS_MULTIPLY_ELEMENTS) ? Int(f.num) : 1,
            sizeOffset: has(VMS_VBUFFER) ? f.size_offset : nil, multiplySize: has(VMS_MULTIPLY),
            isPointer: has(VMS_POINTER), allocates: has(VMS_POINTER) && has(VMS_ALLOC),
            arrayOfPointer: has(VMS_ARRAY_OF_POINTER), isStruct: has(VMS_STRUCT), op: op,
            compressible: canCompress(field))
    }

    /// QEMU's rule for describing an array by its first element only.
    static func canCompress(_ field: UnsafePointer<VMStateField>) -> Bool {
        let f = field.pointee
        if f.field_exists != nil { return false }
        if f.flags.rawValue & VMS_STRUCT.rawValue != 0 {
            guard let vmsd = f.vmsd else { return false }
            if var sub = vmsd.pointee.fields {
                while sub.pointee.name != nil {
                    if !canCompress(sub) { return false }
                    sub += 1
                }
            }
            if vmsd.pointee.subsections != nil { return false }
        }
        return true
    }
}
