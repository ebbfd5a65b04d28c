import CVMState
import Synchronization

// The compiled form of a description, for saves (with or without vmdesc) and loads (checked
// or not).
//
// A plan's fields are grouped into steps. Consecutive plain fields (standard scalars at fixed
// offsets with fixed counts, and fixed arrays of "flat" structs: no hooks, no subsections, only
// plain fields) become one run: a list of items with a known wire size, saved with one output
// reservation and one bounds check, and no per-field dispatch. The other fields keep their
// per-field path (`Engine.saveField` / `loadField`), with two shortcuts for the common ones: a
// scalar behind a `field_exists` test, and a struct (array) that needs the full recursion.
//
// The vmdesc JSON of a save is compiled too: the text of every field object that does not
// depend on the state (names, types, sizes, array lengths) is written once, when the plan is
// built, with the same writer calls as the per-field path makes (so it is the same text), and a
// save with vmdesc appends it; only counts, sizes of nested structs and which subsections are
// present are written while saving.
//
// Checked loads run the same steps: each run, tested scalar and struct step knows the bytes
// its fields occupy in their struct, checked once against the load guard's region (the
// per-field path checks each field; a step whose bytes do not fit goes through it, to fail
// there with the field's own error). Inside a field whose count or size comes from the struct,
// a run also records the spans it wrote (`StepExtra.written`), as the per-field path records
// each field's bytes, so that the load guard knows which pointers the stream wrote.
//
// Everything here is trivially copyable (no reference counting in the loops): nested plans are
// unretained references (the plan holds them strongly through its `FieldPlan.op` and
// `subsectionPlans`, so they live as long as it does).

/// One scalar, one array of scalars, or the repetition of a flat struct's items.
struct RunItem {
    enum Kind: UInt8 {
        /// One value of that width at `offset`.
        case u8, u16, u32, u64
        /// One bool: saved as its byte, loaded as 1 for any non-zero byte.
        case bool
        /// `count` values of `width` bytes every `stride` bytes from `offset`.
        case array
        /// The `body` items that follow, `count` times, every `stride` bytes from `offset`.
        case repeatStruct
    }
    // 32 bytes: the items of a run are walked for every save and load, so they are kept small
    // (a field whose numbers do not fit takes the per-field path).
    var kind: Kind
    /// array: the element width.
    var width: UInt8 = 0
    /// array: loads store 1 for any non-zero byte.
    var isBool: Bool = false
    /// repeatStruct: how many of the following items are its body.
    var body: UInt32 = 0
    /// From the base of the struct the run belongs to.
    var offset: UInt32
    var count: UInt32
    var stride: UInt32
    /// repeatStruct: the nested description's name, for the subsection check after each element
    /// on load (bytes owned by the program).
    var nameCount: UInt32 = 0
    /// SAFETY: owned by the program's storage (copied there by `Program.compile`).
    var name: UnsafePointer<UInt8>? = nil

    init(
        kind: Kind, width: UInt8 = 0, isBool: Bool = false, body: Int = 0, offset: Int, count: Int, stride: Int,
        name: UnsafeBufferPointer<UInt8>? = nil
    ) {
        self.kind = kind
        self.width = width
        self.isBool = isBool
        self.body = UInt32(body)
        self.offset = UInt32(offset)
        self.count = UInt32(count)
        self.stride = UInt32(stride)
        self.nameCount = UInt32(name?.count ?? 0)
        self.name = name?.baseAddress
    }

    /// Whether the numbers of an item fit its fields.
    static func fits(_ numbers: Int...) -> Bool { numbers.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) } }

    /// `count` scalars of `width` bytes (1, 2, 4 or 8) every `stride` bytes from `offset`.
    static func scalars(width: Int, isBool: Bool, offset: Int, count: Int, stride: Int) -> RunItem? {
        guard [1, 2, 4, 8].contains(width), fits(offset, count, stride) else { return nil }
        if count != 1 {
            return RunItem(
                kind: .array, width: UInt8(width), isBool: isBool, offset: offset, count: count, stride: stride)
        }
        let kind: Kind = isBool && width == 1 ? .bool : width == 1 ? .u8 : width == 2 ? .u16 : width == 4 ? .u32 : .u64
        return RunItem(kind: kind, width: UInt8(width), offset: offset, count: 1, stride: stride)
    }
}

struct Step {
    enum Kind: UInt8 {
        /// Items `items` of the program, `wireBytes` on the wire, when the version is at least
        /// `maxVersion`; otherwise fields `fields` one by one.
        case run
        /// One plain scalar field (`items.lowerBound`) present when `test(opaque, version)`.
        case tested
        /// A STRUCT / VSTRUCT field at a fixed offset with a fixed count, present when its
        /// version is at most the description's.
        case structs
        /// `fields.lowerBound` through the per-field path.
        case field
    }
    var kind: Kind
    var fields: Range<Int>
    var items: Range<Int> = 0..<0
    var wireBytes: Int = 0
    var maxVersion: Int32 = 0
    var test: (@convention(c) (UnsafeMutableRawPointer?, Int32) -> Bool)? = nil
    // structs
    /// SAFETY: unretained; the plan holds the nested plan strongly (its field's `op`), so it
    /// lives as long as the plan.
    var nested: Unmanaged<DescriptionPlan>? = nil
    /// The version the nested description is saved and loaded at (`nil`: its own version_id).
    var nestedVersion: Int32? = nil
    var offset: Int = 0
    var count: Int = 0
    var stride: Int = 0
}

/// What saves with vmdesc and checked loads need of a step, kept apart from `Step` so that the
/// plain save and load loops copy no more than they use.
struct StepExtra {
    /// run, tested, structs: the bytes the step's fields occupy from the struct's base (what
    /// the per-field path's bounds checks cover, and what the items write); `lower == upper`
    /// when none.
    var lower: Int = 0
    var upper: Int = 0
    /// The vmdesc text of the step in `ProgramExtras.text` (compact form). run, tested: the
    /// field objects, comma-separated; structs: `{"name": "..."`. Nil: the per-field path
    /// describes the step's fields.
    var desc: Range<Int>? = nil
    /// structs: `, "type": "..."`.
    var descType: Range<Int> = 0..<0
    /// structs: the field's vmdesc has the first element only (`array_len`) rather than every
    /// element (`index`); and a `struct` object around the nested description.
    var compressible = false
    var isStruct = false
    /// run, tested: the bytes the items write on load, as spans of `ProgramExtras.written`
    /// (merged, in address order, from the struct's base), for a checked load inside a counted
    /// field to record (``LoadGuard/streamWrites(_:spans:)``); nil when they are more than
    /// `Program.recordLimit` spans (such a step goes field by field there).
    var written: Range<Int>? = nil
}

/// A program's parts for saves with vmdesc and checked loads (behind one pointer, for the same
/// reason as `StepExtra`).
struct ProgramExtras {
    /// One per step.
    let steps: UnsafeBufferPointer<StepExtra>
    /// The vmdesc fragments of the steps, and `descPrefix`: `"vmsd_name": "...", "version": `.
    let text: UnsafeBufferPointer<UInt8>
    let descPrefix: Range<Int>
    /// Flat: the bytes its run occupies from the struct's base (see `StepExtra.lower`).
    let flatLower: Int
    let flatUpper: Int
    /// The spans of every step's `StepExtra.written`.
    let written: UnsafeBufferPointer<Range<Int>>
    /// Owned by the plan's storage.
    let counters: Unmanaged<ProgramCounters>
}

/// How often a description ran through the compiled steps with a vmdesc or a load guard, or
/// through the per-field path; counted only while `enabled` (tests: a debug hook to show which
/// path ran). Plain saves and unchecked loads are not counted, to keep their loops as they were.
final class ProgramCounters: Sendable {
    static let enabled = Atomic<Bool>(false)
    /// Saves with vmdesc and checked loads by the compiled steps.
    let describedSaves = Atomic<Int>(0)
    let checkedLoads = Atomic<Int>(0)
    /// Saves and loads of the description by the per-field path.
    let interpretedSaves = Atomic<Int>(0)
    let interpretedLoads = Atomic<Int>(0)

    enum Kind { case describedSaves, checkedLoads, interpretedSaves, interpretedLoads }

    @inline(__always) static func count(_ kind: Kind, _ program: Program?) {
        guard enabled.load(ordering: .relaxed), let program else { return }
        // SAFETY: the counters are owned by the program's storage (`ProgramStorage.counters`),
        // which lives as long as the plan.
        program.extras.pointee.counters.takeUnretainedValue().add(kind)
    }

    private func add(_ kind: Kind) {
        switch kind {
        case .describedSaves: describedSaves.add(1, ordering: .relaxed)
        case .checkedLoads: checkedLoads.add(1, ordering: .relaxed)
        case .interpretedSaves: interpretedSaves.add(1, ordering: .relaxed)
        case .interpretedLoads: interpretedLoads.add(1, ordering: .relaxed)
        }
    }
}

/// A subsection, resolved ahead where possible.
struct SubsectionEntry {
    let vmsd: UnsafePointer<VMStateDescription>
    /// Built with the parent: never nil from `Planner` (a subsection that fails to build fails
    /// the parent's plan); kept optional so that a nil one is built when used.
    /// SAFETY: unretained; the parent holds it strongly (`subsectionPlans`), so it lives as
    /// long as the parent. `vmsd` is the C table's; `name` is owned by the program's storage.
    var plan: Unmanaged<DescriptionPlan>?
    let name: UnsafeBufferPointer<UInt8>
}

/// The memory behind a plan's `Program`, freed with the plan.
///
/// SAFETY: the only owner of the buffers a `Program` views. Each holds trivial values
/// (`Step`, `RunItem`, `StepExtra`, `SubsectionEntry`, bytes: no references that need a
/// release), initialized in full by `copy` and never written again; they are freed once, in
/// `deinit`, which runs only when the plan goes (a save or load holds its plan while it runs,
/// and a plan holds its nested plans, so views handed out from a plan in use never dangle).
final class ProgramStorage {
    fileprivate var allocations: [UnsafeMutableRawPointer] = []
    fileprivate let counters = ProgramCounters()

    fileprivate func copy<T>(_ array: [T]) -> UnsafeBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
        _ = buffer.initialize(from: array)  // (capacity >= array.count: all of it is copied)
        allocations.append(UnsafeMutableRawPointer(buffer.baseAddress!))
        return UnsafeBufferPointer(rebasing: buffer[0..<array.count])
    }

    deinit {
        // Everything in these buffers is trivially destroyed.
        for p in allocations { p.deallocate() }
    }
}

/// A description's compiled steps: a trivially copyable view of memory that the plan's
/// `ProgramStorage` owns, so that reading it in the hot loops costs no reference counting.
struct Program {
    let steps: UnsafeBufferPointer<Step>
    let items: UnsafeBufferPointer<RunItem>
    let subsections: UnsafeBufferPointer<SubsectionEntry>
    /// The description as one run (its items are all of `items`), when it is flat: usable
    /// inline by a struct field that refers to it, or for one list or tree element.
    let flat: Bool
    /// Flat: the highest version among the fields (a version below it skips some of them).
    let flatMaxVersion: Int32
    /// The description's name (for the subsection check after a flat element on load).
    let name: UnsafeBufferPointer<UInt8>
    /// Wire bytes of the description's runs: a lower bound of what one save writes.
    let fixedBytes: Int
    /// What one save is expected to write: the runs, tested scalars, nested structs and
    /// subsections as if present (not the per-field steps, whose sizes depend on the state).
    /// Only for reserving output room; at most `estimateLimit`.
    let estimatedBytes: Int
    static let estimateLimit = 64 << 20
    /// For saves with vmdesc and checked loads.
    let extras: UnsafePointer<ProgramExtras>

    fileprivate init(
        steps: [Step], extras stepExtras: [StepExtra], items: [RunItem], subsections: [SubsectionEntry], flat: Bool,
        name: UnsafeBufferPointer<UInt8>, text: [UInt8], descPrefix: Range<Int>, written: [Range<Int>],
        storage: ProgramStorage
    ) {
        self.steps = storage.copy(steps)
        self.items = storage.copy(items)
        self.subsections = storage.copy(subsections)
        extras = storage.copy([
            ProgramExtras(
                steps: storage.copy(stepExtras), text: storage.copy(text), descPrefix: descPrefix,
                flatLower: flat ? stepExtras.first?.lower ?? 0 : 0, flatUpper: flat ? stepExtras.first?.upper ?? 0 : 0,
                written: storage.copy(written), counters: Unmanaged.passUnretained(storage.counters))
        ]).baseAddress!
        self.flat = flat
        flatMaxVersion = steps.first?.maxVersion ?? Int32.min
        self.name = name
        fixedBytes = steps.reduce(0) { $0 + ($1.kind == .run ? $1.wireBytes : 0) }
        var estimate = 0
        func add(_ n: Int) { estimate = min(estimate + min(n, Program.estimateLimit), Program.estimateLimit) }
        for step in steps {
            switch step.kind {
            case .run, .tested: add(step.wireBytes)
            case .structs:
                let each = step.nested?.takeUnretainedValue().program?.estimatedBytes ?? 0
                add(
                    each.multipliedReportingOverflow(by: step.count).overflow
                        ? Program.estimateLimit : each * step.count)
            case .field: break
            }
        }
        for entry in subsections {
            add(entry.name.count + 6 + (entry.plan?.takeUnretainedValue().program?.estimatedBytes ?? 0))
        }
        estimatedBytes = estimate
    }

    /// Compiles `plan` (whose fields are set) into memory owned by `storage`.
    /// `subsectionPlans[i]` is the plan of subsection i when it could be built.
    static func compile(
        _ plan: DescriptionPlan, subsectionPlans: [DescriptionPlan?], storage: ProgramStorage
    ) -> Program {
        func owned(_ bytes: [UInt8]) -> UnsafeBufferPointer<UInt8> { storage.copy(bytes) }

        var steps: [Step] = []
        var items: [RunItem] = []
        var runStart: Int? = nil
        func closeRun(_ end: Int) {
            guard let start = runStart else { return }
            runStart = nil
            steps[steps.count - 1].fields = start..<end
            steps[steps.count - 1].maxVersion = plan.fields[start..<end].map(\.version).max() ?? 0
        }

        for (index, field) in plan.fields.enumerated() {
            if let run = plainItems(field, owned: owned) {
                if runStart == nil {
                    runStart = index
                    steps.append(Step(kind: .run, fields: index..<index + 1, items: items.count..<items.count))
                }
                items.append(contentsOf: run.items)
                steps[steps.count - 1].items = steps[steps.count - 1].items.lowerBound..<items.count
                steps[steps.count - 1].wireBytes += run.bytes
                continue
            }
            closeRun(index)
            if let (item, bytes) = testedScalar(field) {
                steps.append(
                    Step(
                        kind: .tested, fields: index..<index + 1, items: items.count..<items.count + 1,
                        wireBytes: bytes, test: field.fieldExists))
                items.append(item)
            } else if let step = structs(field, index: index) {
                steps.append(step)
            } else {
                steps.append(Step(kind: .field, fields: index..<index + 1))
            }
        }
        closeRun(plan.fields.count)

        // Vmdesc text and the bytes each step occupies.
        var text: [UInt8] = []
        func stash(_ bytes: [UInt8]) -> Range<Int> {
            text.append(contentsOf: bytes)
            return text.count - bytes.count..<text.count
        }
        var extras = [StepExtra](repeating: StepExtra(), count: steps.count)
        var written: [Range<Int>] = []
        for i in steps.indices {
            let range = steps[i].fields
            var lower = Int.max
            var upper = Int.min
            for field in plan.fields[range] {
                guard let n = fixedCount(field), n > 0, field.size > 0 else { continue }
                lower = min(lower, field.offset)
                upper = max(upper, field.offset + n * field.size)
            }
            let (itemsLower, itemsUpper) = extent(items, steps[i].items)
            lower = min(lower, itemsLower)
            upper = max(upper, itemsUpper)
            if lower < upper {
                extras[i].lower = lower
                extras[i].upper = upper
            }
            switch steps[i].kind {
            case .run, .tested:
                if let described = VMDescText.fields(plan, range) { extras[i].desc = stash(described) }
                if let spans = writtenSpans(items, steps[i].items) {
                    written.append(contentsOf: spans)
                    extras[i].written = written.count - spans.count..<written.count
                }
            case .structs:
                let field = plan.fields[range.lowerBound]
                extras[i].desc = stash(Array("{\"name\": ".utf8) + VMDescWriter.quoted(field.vmdescName))
                extras[i].descType = stash(Array(", \"type\": ".utf8) + VMDescWriter.quoted(field.typeName))
                extras[i].compressible = field.compressible
                extras[i].isStruct = field.isStruct
            case .field:
                break
            }
        }
        let descPrefix = stash(
            Array("\"vmsd_name\": ".utf8) + VMDescWriter.quoted(plan.name) + Array(", \"version\": ".utf8))

        let vmsd = plan.vmsd.pointee  // (the C table: valid for the life of the process)
        let hasHooks = vmsd.pre_save != nil || vmsd.post_save != nil || vmsd.pre_load != nil || vmsd.post_load != nil
        let flat =
            !hasHooks && plan.subsections.isEmpty && plan.versionID >= plan.minimumVersionID
            && (steps.isEmpty || (steps.count == 1 && steps[0].kind == .run && steps[0].maxVersion <= plan.versionID))

        var subsections: [SubsectionEntry] = []
        for (i, sub) in plan.subsections.enumerated() {
            subsections.append(
                SubsectionEntry(
                    vmsd: sub.vmsd, plan: subsectionPlans[i].map { Unmanaged.passUnretained($0) },
                    name: owned(sub.name)))
        }
        let name = owned(plan.nameBytes)
        return Program(
            steps: steps, extras: extras, items: items, subsections: subsections, flat: flat, name: name, text: text,
            descPrefix: descPrefix, written: written, storage: storage)
    }

    /// The most spans a step's `StepExtra.written` has.
    static let recordLimit = 64

    /// The bytes `items[range]` write on load from the base of their struct (each scalar's
    /// elements at their stride, as the per-field path records them: `count * stride`, at
    /// least the width), merged into ascending disjoint spans; nil when there are more than
    /// ``recordLimit``.
    static func writtenSpans(_ items: [RunItem], _ range: Range<Int>) -> [Range<Int>]? {
        var spans: [Range<Int>] = []
        var j = range.lowerBound
        while j < range.upperBound {
            let item = items[j]
            let offset = Int(item.offset)
            let count = Int(item.count)
            let stride = Int(item.stride)
            guard item.kind == .repeatStruct else {
                if count > 0 {
                    spans.append(offset..<offset + max((count - 1) * stride + Int(item.width), count * stride))
                }
                j += 1
                continue
            }
            let body = j + 1..<j + 1 + Int(item.body)
            j = body.upperBound
            guard count > 0 else { continue }
            // (An element of more spans than a step records: so is the step.)
            guard let element = writtenSpans(items, body) else { return nil }
            if element.isEmpty { continue }
            if element == [0..<stride] {
                spans.append(offset..<offset + count * stride)  // elements that cover their stride
                continue
            }
            guard count <= recordLimit * 4 / element.count else { return nil }
            for k in 0..<count {
                let at = offset + k * stride
                spans.append(contentsOf: element.map { at + $0.lowerBound..<at + $0.upperBound })
            }
            if spans.count > recordLimit * 4 { return nil }
        }
        spans.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for span in spans {
            if let last = merged.last, span.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, span.upperBound)
            } else {
                merged.append(span)
            }
        }
        return merged.count <= recordLimit ? merged : nil
    }

    /// The bytes `items[range]` write or occupy (each item's elements at their stride) from
    /// the base of their struct; `(Int.max, Int.min)` when none.
    private static func extent(_ items: [RunItem], _ range: Range<Int>) -> (Int, Int) {
        var lower = Int.max
        var upper = Int.min
        var j = range.lowerBound
        while j < range.upperBound {
            let item = items[j]
            let offset = Int(item.offset)
            let count = Int(item.count)
            let stride = Int(item.stride)
            if item.kind == .repeatStruct {
                let body = j + 1..<j + 1 + Int(item.body)
                if count > 0 {
                    lower = min(lower, offset)
                    upper = max(upper, offset + count * stride)
                    let (bodyLower, bodyUpper) = extent(items, body)
                    if bodyLower < bodyUpper {
                        lower = min(lower, offset + bodyLower)
                        upper = max(upper, offset + (count - 1) * stride + bodyUpper)
                    }
                }
                j = body.upperBound
                continue
            }
            if count > 0 {
                lower = min(lower, offset)
                upper = max(upper, offset + max((count - 1) * stride + Int(item.width), count * stride))
            }
            j += 1
        }
        return (lower, upper)
    }

    /// The run items of a plain field: a standard scalar, or a fixed array of a flat struct.
    private static func plainItems(
        _ field: FieldPlan, owned: ([UInt8]) -> UnsafeBufferPointer<UInt8>
    ) -> (items: [RunItem], bytes: Int)? {
        guard field.fieldExists == nil, !field.mustExist, !field.isPointer, !field.arrayOfPointer,
            field.sizeOffset == nil, let n = fixedCount(field)
        else { return nil }
        switch field.op {
        case .scalar(let width, let isBool):
            guard n > 0 else { return [1, 2, 4, 8].contains(width) ? ([], 0) : nil }
            guard
                let item = RunItem.scalars(
                    width: width, isBool: isBool, offset: field.offset, count: n, stride: field.size)
            else { return nil }
            return ([item], n * width)
        case .structure(let nested):
            guard let program = nested.program, program.flat else { return nil }
            guard n > 0 else { return ([], 0) }
            let body = Array(program.items)
            let bodyBytes = program.fixedBytes
            let total = bodyBytes.multipliedReportingOverflow(by: n)
            guard !total.overflow, RunItem.fits(body.count, field.offset, n, field.size, nested.nameBytes.count)
            else { return nil }
            let name = owned(nested.nameBytes)
            var items = [
                RunItem(
                    kind: .repeatStruct, body: body.count, offset: field.offset, count: n,
                    stride: field.size, name: name)
            ]
            items.append(contentsOf: body)
            return (items, total.partialValue)
        default:
            return nil
        }
    }

    /// A plain scalar field but for its `field_exists` test.
    private static func testedScalar(_ field: FieldPlan) -> (RunItem, Int)? {
        guard field.fieldExists != nil, !field.mustExist, !field.isPointer, !field.arrayOfPointer,
            field.sizeOffset == nil, let n = fixedCount(field), n > 0,
            case .scalar(let width, let isBool) = field.op,
            let item = RunItem.scalars(width: width, isBool: isBool, offset: field.offset, count: n, stride: field.size)
        else { return nil }
        return (item, n * width)
    }

    private static func structs(_ field: FieldPlan, index: Int) -> Step? {
        guard field.fieldExists == nil, !field.mustExist, !field.isPointer, !field.arrayOfPointer,
            field.sizeOffset == nil, let n = fixedCount(field)
        else { return nil }
        var step = Step(
            kind: .structs, fields: index..<index + 1, maxVersion: field.version, offset: field.offset,
            count: n, stride: field.size)
        switch field.op {
        case .structure(let nested):
            step.nested = Unmanaged.passUnretained(nested)
        case .vstructure(let nested):
            step.nested = Unmanaged.passUnretained(nested)
            step.nestedVersion = field.structVersion
        default:
            return nil
        }
        return step
    }

    /// The element count when it does not depend on the struct (and is one the per-field path
    /// accepts).
    static func fixedCount(_ field: FieldPlan) -> Int? {
        var n: Int
        switch field.count {
        case .one: n = 1
        case .fixed(let num): n = num
        case .counter: return nil
        }
        if field.countMultiplier != 1 { n = n &* field.countMultiplier }
        guard n >= 0 && n <= Int(Int32.max), field.size >= 0,
            !field.size.multipliedReportingOverflow(by: n).overflow
        else { return nil }
        return n
    }
}
