import CGLib
import CVMState

/// Saves and loads descriptions over one `MigrationFile`, with QEMU 7.2's semantics
/// (docs/FORMAT.md §2, §6): versions, field_exists, every flag, subsections and hooks in QEMU's order.
///
/// Errors are thrown as `VMStateError`; the path is built while unwinding, so the success path
/// pays nothing for it.
///
/// SAFETY (the whole engine): `opaque` is the caller's device struct, valid and unshared for
/// the call (QEMU's contract for `vmstate_save_state` / `vmstate_load_state`); the C tables
/// (`plan.vmsd`, `FieldPlan.field`, infos, hooks) are `static const` and outlive every plan
/// (docs/C-API.md, "Lifetimes"). Offsets and sizes into `opaque` are the table's: the
/// per-field path reads and writes them through `StructMemory` (StructMemory.swift), after
/// the checks of `loadPresentField` in a checked load; the compiled steps are in
/// FastPath.swift and Codec.swift, with their own notes.
struct Engine {
    let file: MigrationFile
    /// Bounds and undo records of a checked load; nil for QEMU's unchecked load.
    var loadGuard: LoadGuard? = nil
    /// Whether saves and loads use the plans' compiled steps where they can
    /// (FastPath.swift); false only in tests that compare them with the per-field path.
    var compiled = true
    /// Whose rules the vmdesc and the results follow where QEMU versions differ (Dialect.swift).
    var dialect: QEMUDialect = .qemu7_2

    /// Where the thread's stack ends, for the recursion through nested descriptions.
    let stack = StackLimit()

    /// Throws when the thread's stack is nearly used up (``StackLimit``): a pointer cycle in the
    /// state saved, a tree nested deeper than the stack holds.
    @inline(__always)
    func checkStack() throws(VMStateError) {
        if stack.isNearlyUsedUp { throw StackLimit.exceeded(offset: file.position) }
    }

    // MARK: - save

    func save(
        _ plan: DescriptionPlan, _ opaque: UnsafeMutableRawPointer, version: Int32,
        vmdesc: VMDescWriter?
    ) throws(VMStateError) {
        try checkStack()
        let vmsd = plan.vmsd.pointee
        if let preSave = vmsd.pre_save {
            let r = preSave(opaque)
            if r != 0 {
                throw hookError("pre_save", r, qemu: "pre-save failed: \(plan.name)")
            }
        }
        do throws(VMStateError) {
            if compiled, vmdesc == nil, let program = plan.program {
                try saveSteps(plan, program, opaque, version: version)
                try saveSubsections(plan, program, opaque)
            } else if compiled, let vmdesc, vmdesc.takesCompiledText, dialect.usesCompiledVMDesc,
                let program = plan.program
            {
                ProgramCounters.count(.describedSaves, program)
                try saveDescribed(plan, program, opaque, version: version, vmdesc)
            } else {
                ProgramCounters.count(.interpretedSaves, plan.program)
                if let vmdesc {
                    vmdesc.string("vmsd_name", plan.name)
                    vmdesc.int("version", Int64(version))
                    vmdesc.startArray("fields")
                }
                for field in plan.fields {
                    try saveField(field, opaque, version: version, vmdesc: vmdesc)
                }
                vmdesc?.endArray()
                try saveSubsections(plan, opaque, vmdesc: vmdesc)
            }
        } catch {
            _ = vmsd.post_save?(opaque)
            throw error
        }
        if let postSave = vmsd.post_save {
            let r = postSave(opaque)
            if r != 0 { throw hookError("post_save", r, qemu: "post-save failed: \(plan.name)") }
        }
    }

    func saveField(
        _ field: FieldPlan, _ opaque: UnsafeMutableRawPointer, version: Int32, vmdesc: VMDescWriter?
    ) throws(VMStateError) {
        guard exists(field, opaque, version) else {
            if field.mustExist {
                throw VMStateError(
                    .mustExist, path: field.name, offset: file.position,
                    reason: "output state validation failed: a VMS_MUST_EXIST field is absent")
            }
            return
        }
        let n = try count(field, opaque, label: field.name)
        let size = try elementSize(field, opaque)
        let base = try firstElement(field, opaque, n: n, size: size)

        // Bulk path: a run of scalars described (if at all) by its first element.
        if case .scalar(let width, _) = field.op, !field.arrayOfPointer, n > 0,
            vmdesc == nil || (field.compressible || n == 1), let base
        {
            if let vmdesc { Self.describeStart(vmdesc, field, index: 0, count: n) }
            Codec.putScalars(file, base, count: n, width: width, stride: size)
            if let vmdesc { Self.describeEnd(vmdesc, field, size: width) }
            return
        }

        var describe = vmdesc
        var previousNull = false
        for i in 0..<n {
            var element = base.map { $0 + i * size }
            if field.arrayOfPointer {
                // SAFETY: VMS_ARRAY_OF_POINTER: element i of the array is a pointer (its
                // size is the table's `size`, a pointer's as QEMU requires).
                element = element.flatMap { StructMemory($0).loadPointer() }
            }
            let isNull = element == nil && size != 0
            // QEMU's `max_elems`: 7.2 describes every element with the whole count; 10.0 with the
            // elements left, cut at the next change between NULL and non-NULL entries.
            var span = dialect.indexOnLastElement ? n : n - i
            if dialect.describesNullEntries, vmdesc != nil, field.arrayOfPointer, isNull != previousNull {
                previousNull = isNull
                describe = vmdesc
                if let base {
                    for j in (i + 1)..<max(n, i + 1) {
                        // SAFETY: entry j < n of the same array of pointers.
                        let other = StructMemory(base + j * size).loadPointer() == nil
                        if other != isNull {
                            span = j - i
                            break
                        }
                    }
                }
            }
            let nullEntry = isNull && dialect.describesNullEntries
            if let describe {
                if nullEntry {
                    Self.describeNullStart(describe, field, count: span)
                } else {
                    Self.describeStart(describe, field, index: i, count: span, type: vmdescType(field))
                }
            }
            let before = file.written
            do throws(VMStateError) {
                if let element {
                    try saveElement(field, element, size: size, vmdesc: describe)
                } else if size != 0 {
                    file.putByte(UInt8(VMS_NULLPTR_MARKER))
                }
            } catch {
                var failure = error.under(n > 1 ? "\(field.name)[\(i)]" : field.name)
                if dialect == .qemu10_0 {
                    // The infos that save a nested description (tmp, lists, trees) do it without
                    // errp in QEMU 10.0: a negative result is the info's "put failed".
                    if field.op.savesNestedThroughInfo, failure.errno < 0 { failure.qemuMessage = "put failed" }
                    failure.savingField(field)
                }
                throw failure
            }
            if let writer = describe {
                if nullEntry {
                    writer.int("size", Int64(file.written - before))
                    writer.endObject()
                } else {
                    Self.describeEnd(writer, field, size: file.written - before)
                }
                if field.compressible { describe = nil }
            }
        }
    }

    /// The vmdesc `type` of `field`'s elements in this dialect.
    func vmdescType(_ field: FieldPlan) -> String {
        if case .nullptr = field.op { return dialect.nullptrTypeName }
        return field.typeName
    }

    /// QEMU 10.0's entry for a NULL entry of an array of pointers (its fake nullptr field: the
    /// field's name, or `name[-1]` when the name is not unique in the table, `"nullptr"`,
    /// compressible), up to the size.
    static func describeNullStart(_ w: VMDescWriter, _ field: FieldPlan, count: Int) {
        w.startObject()
        w.string("name", field.vmdescName == field.name ? field.name : "\(field.name)[-1]")
        if count > 1 { w.int("array_len", Int64(count)) }
        w.string("type", "nullptr")
    }

    func saveElement(
        _ field: FieldPlan, _ element: UnsafeMutableRawPointer, size: Int, vmdesc: VMDescWriter?
    ) throws(VMStateError) {
        switch field.op {
        case .scalar(let width, _), .equal(let width):
            Codec.putScalars(file, element, count: 1, width: width, stride: width)
        case .int32LE:
            Codec.putScalars(file, element, count: 1, width: 4, stride: 4)
        case .buffer:
            file.putBytes(element, size)
        case .unusedBuffer:
            file.putZeros(size)
        case .nullptr:
            var error = VMStateError(
                .invalidTable, offset: file.position,
                reason: "vmstate_info_nullptr saves only NULL entries")
            if dialect == .qemu10_0 { error.qemuMessage = "put failed" }
            throw error
        case .fd:
            // QEMU 10.0's put_fd on a channel that cannot pass descriptors: -EIO on the file,
            // the put returns -1.
            file.setError(-5)
            var error = VMStateError(
                .fieldFailed, offset: file.position,
                reason: "a file descriptor (VMSTATE_FD) cannot be saved into a byte stream", errno: -1)
            error.qemuMessage = "put failed"
            throw error
        case .timer:
            file.putBE64(UInt64(bitPattern: Timers.expireTime(element.assumingMemoryBound(to: QEMUTimer.self))))
        case .bitmap:
            Codec.putScalars(file, element, count: (size + 63) / 64, width: 8, stride: 8)
        case .structure(let nested):
            try saveNested(nested, element, version: nested.versionID, vmdesc: vmdesc)
        case .vstructure(let nested):
            try save(nested, element, version: field.structVersion, vmdesc: vmdesc)
        case .tmp(let nested):
            let scratch = g_malloc0(gsize(max(size, MemoryLayout<UnsafeRawPointer>.size)))!
            defer { g_free(scratch) }
            // SAFETY: the scratch struct is at least a pointer long (allocated above); VMSTATE_WITH_TMP
            // puts the parent's pointer first in it, as QEMU's get_tmp / put_tmp do.
            StructMemory(scratch, count: max(size, QueueLayout.pointer)).store(element)
            try save(nested, scratch, version: nested.versionID, vmdesc: vmdesc)
        case .qtailq(let nested), .qlist(let nested):
            try saveList(field, nested, head: element, vmdesc: vmdesc)
        case .gtree(let value, let key):
            try saveTree(value: value, key: key, element, vmdesc: vmdesc)
        case .custom(let info):
            guard let put = info.pointee.put else {
                throw VMStateError(.invalidTable, offset: file.position, reason: "VMStateInfo has no put")
            }
            let saved = file.failure
            file.failure = nil
            // SAFETY: the writer is passed unretained: the caller holds it for this call, and the
            // C put may only use it during the call (json_* functions of the vmdesc argument).
            let r = put(
                file.handle, element, size, field.field,
                vmdesc.map { OpaquePointer(Unmanaged.passUnretained($0).toOpaque()) })
            let inner = file.failure
            file.failure = saved
            if r != 0 {
                var error =
                    inner
                    ?? VMStateError(
                        .fieldFailed, offset: file.position,
                        reason: "\(field.typeName) put returned \(r)", errno: r)
                // QEMU 10.0 sets "put failed" for a negative result; for a positive one it sets
                // nothing (and then crashes prefixing it): this says what the put returned.
                if dialect == .qemu10_0 { error.qemuMessage = r < 0 ? "put failed" : "put returned \(r)" }
                throw error
            }
        case .none:
            throw VMStateError(.invalidTable, offset: file.position, reason: "field has neither info nor vmsd")
        }
    }

    private func saveSubsections(
        _ plan: DescriptionPlan, _ opaque: UnsafeMutableRawPointer, vmdesc: VMDescWriter?
    ) throws(VMStateError) {
        var described = false
        for (sub, name) in plan.subsections {
            if let needed = sub.pointee.needed, !needed(opaque) { continue }
            guard name.count <= 255 else {
                throw VMStateError(
                    .invalidTable, offset: file.position,
                    reason:
                        "subsection name longer than 255 bytes: \(sub.pointee.name.map { String(cString: $0) } ?? "")")
            }
            if let vmdesc {
                if !described {
                    vmdesc.startArray("subsections")
                    described = true
                }
                vmdesc.startObject()
            }
            file.putByte(5)
            file.putByte(UInt8(name.count))
            file.putBytes(name)
            file.putBE32(UInt32(bitPattern: sub.pointee.version_id))
            let subPlan = try Planner.plan(sub)
            do throws(VMStateError) {
                try save(subPlan, opaque, version: sub.pointee.version_id, vmdesc: vmdesc)
            } catch {
                throw error.under(subsectionLabel(subPlan.name, parent: plan.name))
            }
            vmdesc?.endObject()
        }
        if described { vmdesc?.endArray() }
    }

    /// Saves a QTAILQ or QLIST: byte 1 before each element, byte 0 at the end. Kept out of
    /// `saveElement`, whose frame every level of struct nesting takes.
    @inline(never)
    private func saveList(
        _ field: FieldPlan, _ nested: DescriptionPlan, head element: UnsafeMutableRawPointer, vmdesc: VMDescWriter?
    ) throws(VMStateError) {
        // SAFETY: `element` is the list head in the struct (QTAILQ_HEAD / QLIST_HEAD both
        // begin with the first element); each element's next pointer lies `field.start`
        // bytes in (QTAILQ_ENTRY / QLIST_ENTRY begin with it). The list is the device's own,
        // well formed as its C code keeps it, as QEMU's put_qtailq / put_qlist assume.
        var link = StructMemory(element).loadPointer(at: QueueLayout.tailqHeadFirst)
        var index = 0
        while let item = link {
            file.putByte(1)
            do throws(VMStateError) {
                try saveNested(nested, item, version: nested.versionID, vmdesc: vmdesc)
            } catch {
                throw error.under("[\(index)]")  // as a load names the element
            }
            link = StructMemory(item).loadPointer(at: field.start + QueueLayout.tailqNext)
            index += 1
        }
        file.putByte(0)
    }

    /// Saves a GTree: its be32 node count, then byte 1, the key and the value of each node in
    /// key order, and byte 0.
    @inline(never)
    private func saveTree(
        value: DescriptionPlan, key: DescriptionPlan?, _ element: UnsafeMutableRawPointer, vmdesc: VMDescWriter?
    ) throws(VMStateError) {
        // SAFETY: a VMSTATE_GTREE field is a `GTree *` member of the struct (its bytes checked
        // as the field's footprint in a checked load); the tree is the device's.
        guard let tree = StructMemory(element).load(as: OpaquePointer?.self) else {
            throw VMStateError(.invalidTable, offset: file.position, reason: "the GTree pointer is NULL")
        }
        let nodes = GTreeNodes.collect(tree)
        file.putBE32(UInt32(truncatingIfNeeded: g_tree_nnodes(tree)))
        for (index, (k, v)) in nodes.enumerated() {
            file.putByte(1)
            if let key {
                guard let k else {
                    throw VMStateError(
                        .invalidTable, path: "[\(index)]", offset: file.position, reason: "NULL GTree key")
                }
                do throws(VMStateError) {
                    try saveNested(key, k, version: key.versionID, vmdesc: vmdesc)
                } catch {
                    throw error.under("[\(index)].key")  // as a load names the node
                }
            } else {
                file.putBE64(UInt64(UInt(bitPattern: k)))
            }
            guard let v else {
                throw VMStateError(.invalidTable, path: "[\(index)]", offset: file.position, reason: "NULL GTree value")
            }
            do throws(VMStateError) {
                try saveNested(value, v, version: value.versionID, vmdesc: vmdesc)
            } catch {
                throw error.under("[\(index)]")
            }
        }
        file.putByte(0)
    }

    // MARK: - load

    func load(_ plan: DescriptionPlan, _ opaque: UnsafeMutableRawPointer, version: Int32) throws(VMStateError) {
        try checkStack()
        let vmsd = plan.vmsd.pointee
        if let loadGuard {
            loadGuard.depth += 1
            if loadGuard.depth > LoadGuard.maximumDepth {
                throw VMStateError(
                    .boundExceeded, offset: file.position,
                    reason: "descriptions nested deeper than \(LoadGuard.maximumDepth) levels")
            }
        }
        defer { loadGuard?.depth -= 1 }
        if version > vmsd.version_id {
            throw VMStateError(
                .versionTooNew, offset: file.position,
                reason: "incoming version \(version) is too new for \(plan.name)",
                expected: "at most \(vmsd.version_id)", actual: "\(version)")
        }
        if version < vmsd.minimum_version_id {
            throw VMStateError(
                .versionTooOld, offset: file.position,
                reason: "incoming version \(version) is too old for \(plan.name)",
                expected: "at least \(vmsd.minimum_version_id)", actual: "\(version)")
        }
        if let preLoad = vmsd.pre_load {
            let r = preLoad(opaque)
            if r != 0 { throw hookError("pre_load", r) }
        }
        if compiled, let program = plan.program {
            if loadGuard == nil {
                try loadSteps(plan, program, opaque, version: version)
                try subsectionsLoaded { () throws(VMStateError) in try loadSubsections(plan, program, opaque) }
            } else {
                ProgramCounters.count(.checkedLoads, program)
                try loadStepsChecked(plan, program, opaque, version: version)
                try subsectionsLoaded { () throws(VMStateError) in try loadSubsectionsChecked(plan, program, opaque) }
            }
        } else {
            ProgramCounters.count(.interpretedLoads, plan.program)
            for field in plan.fields {
                try loadField(field, opaque, version: version)
            }
            try subsectionsLoaded { () throws(VMStateError) in try loadSubsections(plan, opaque) }
        }
        if let postLoad = vmsd.post_load {
            let r = postLoad(opaque, version)
            if r != 0 { throw hookError("post_load", r) }
        }
    }

    /// Runs a description's subsection load; with QEMU 10.0's rules its failure is also the
    /// file's error (10.0's `vmstate_load_state` calls `qemu_file_set_error` with it).
    @inline(__always)
    private func subsectionsLoaded(_ body: () throws(VMStateError) -> Void) throws(VMStateError) {
        do throws(VMStateError) {
            try body()
        } catch {
            if dialect.subsectionFailureSetsFileError { file.setError(error.errno) }
            throw error
        }
    }

    func loadField(_ field: FieldPlan, _ opaque: UnsafeMutableRawPointer, version: Int32) throws(VMStateError) {
        guard exists(field, opaque, version) else {
            if field.mustExist {
                throw VMStateError(
                    .mustExist, path: field.name, offset: file.position,
                    reason: "input validation failed", errno: -1)
            }
            return
        }
        try loadPresentField(field, opaque)
    }

    /// Loads a field that takes part (its version or field_exists said so).
    func loadPresentField(_ field: FieldPlan, _ opaque: UnsafeMutableRawPointer) throws(VMStateError) {
        let n = try count(field, opaque, label: field.name)
        let size = try elementSize(field, opaque)
        let extent = size.multipliedReportingOverflow(by: n)
        guard !extent.overflow else {
            throw VMStateError(
                .boundExceeded, path: field.name, offset: file.position,
                reason: "element count times size overflows", actual: "\(n) x \(size)")
        }
        // The field's own bytes in its struct: its elements, or the pointer to them.
        let own = field.isPointer ? MemoryLayout<UnsafeRawPointer>.size : footprint(field, n: n, size: size)
        if let loadGuard, own > 0, let problem = loadGuard.check(opaque + field.offset, own, owner: opaque) {
            throw VMStateError(
                .boundExceeded, path: field.name, offset: file.position,
                reason: "the field would be written outside its struct: \(problem)",
                expected: "at most the struct's size", actual: "\(n) element(s) of \(size) bytes")
        }
        if field.allocates && extent.partialValue != 0 {
            try allocate(field, opaque, n: n, bytes: extent.partialValue)
        }
        if let loadGuard, field.isPointer, !field.allocates {
            try refusePlanted(loadGuard, opaque + field.offset, field: field.name)
        }
        let base = try firstElement(field, opaque, n: n, size: size)
        // Through a pointer into memory the load knows (the struct, engine memory, RAM), the
        // elements must fit in what is left of it; raw pointers elsewhere cannot be bounded.
        if let loadGuard, field.isPointer, n > 0, let base,
            let problem = loadGuard.check(base, footprint(field, n: n, size: size), owner: base)
        {
            throw VMStateError(
                .boundExceeded, path: field.name, offset: file.position,
                reason: "the field would be written past the memory its pointer points into: \(problem)",
                expected: "at most the pointed-to region's size", actual: "\(n) element(s) of \(size) bytes")
        }

        // A count or size from the struct may run past the array (checked: within the region
        // holding it): the stream bytes written inside such a field are recorded, and a pointer
        // among them is not followed (LoadGuard.plantedPointer).
        let countedGuard = field.countFromStruct ? loadGuard : nil
        countedGuard?.enterCounted(field.name)
        defer { countedGuard?.leaveCounted() }

        if case .scalar(let width, let isBool) = field.op, !field.arrayOfPointer, n > 0, let base {
            // (Memory allocated for these values alone holds no pointer: not recorded.)
            if !field.allocates { loadGuard?.streamWrites(base, n * size) }
            let start = file.position
            guard Codec.getScalars(file, base, count: n, width: width, stride: size, isBool: isBool) else {
                // The element that was cut, with what it needed and what was left of it.
                let index = (file.count - start) / max(width, 1)
                let elementStart = start + index * width
                throw VMStateError(
                    .shortInput, path: n > 1 ? "\(field.name)[\(index)]" : field.name, offset: elementStart,
                    reason: "input ended", expected: "\(width) byte\(width == 1 ? "" : "s")",
                    actual: "\(max(0, file.count - elementStart)) left", errno: file.shortReadErrno)
            }
            // QEMU checks the file's error after each element: one recorded before fails here.
            if file.errorCode < 0 { throw fileError().under(n > 1 ? "\(field.name)[0]" : field.name) }
            return
        }

        for i in 0..<n {
            do throws(VMStateError) {
                var element = base.map { $0 + i * size }
                if field.arrayOfPointer {
                    if let loadGuard, let slot = element { try refusePlanted(loadGuard, slot, field: field.name) }
                    // SAFETY: VMS_ARRAY_OF_POINTER: element i of the array is a pointer (its
                    // size is the table's `size`, a pointer's as QEMU requires).
                    element = element.flatMap { StructMemory($0).loadPointer() }
                    if let loadGuard, let element,
                        let problem = loadGuard.check(element, elementFootprint(field.op, size: size), owner: element)
                    {
                        throw VMStateError(
                            .boundExceeded, offset: file.position,
                            reason: "the entry would be written past the memory it points into: \(problem)")
                    }
                }
                if let element {
                    try loadElement(field, element, size: size)
                } else if size != 0 {
                    try loadNullMarker("NULL entry marker missing")
                }
                // QEMU's vmstate_load_state checks the file's error after each element: a look
                // past the end for a nested struct's subsections, or an error recorded before.
                if file.errorCode < 0 { throw fileError() }
            } catch {
                try elementFailed(error, under: n > 1 ? "\(field.name)[\(i)]" : field.name)
            }
        }
    }

    /// Refuses to write through the pointer at `slot` (a member of the caller's struct) when a
    /// field of this load whose count or size came from the struct wrote over it
    /// (``LoadGuard/plantedPointer(at:)``): the stream would choose where the load writes.
    func refusePlanted(_ loadGuard: LoadGuard, _ slot: UnsafeMutableRawPointer, field name: String)
        throws(VMStateError)
    {
        guard let writer = loadGuard.plantedPointer(at: slot) else { return }
        throw VMStateError(
            .boundExceeded, path: name, offset: file.position,
            reason: "refusing to write through a pointer that field \"\(writer)\" of this load wrote over: "
                + Self.plantedBecause)
    }

    /// Refuses to hand the installed timer functions (`vmstate_set_timer_ops`, whose `mod` and
    /// `del` are QEMU's `timer_mod` and `timer_del`: they follow `timer_list`, and the emulator
    /// may call `cb` with `opaque`) a timer whose pointer members a field of this load whose
    /// count or size came from the struct wrote over (``LoadGuard/plantedMember(of:)``). Where no
    /// function is called for `value` (none installed, or only the other one), the engine writes
    /// `expire_time` alone and follows none of them.
    func refusePlantedTimer(
        _ loadGuard: LoadGuard, _ timer: UnsafeMutablePointer<QEMUTimer>, value: Int64
    ) throws(VMStateError) {
        guard Timers.callsFunction(for: value), let (member, writer) = loadGuard.plantedMember(of: timer) else {
            return
        }
        throw VMStateError(
            .boundExceeded, offset: file.position,
            reason: "refusing to hand the timer functions a timer whose \(member) field \"\(writer)\" of this load "
                + "wrote over: " + Self.plantedBecause)
    }

    /// Why a planted pointer is refused (the end of both messages).
    static let plantedBecause =
        "its element count or size (from the stream, often) reached past its array into the members after it"

    /// QEMU's vmstate_load_state after an element's `get` or nested load gave `error.errno`:
    /// a positive result is not a failure, and the load goes on, unless the file has a negative
    /// error (`if (ret >= 0) ret = qemu_file_get_error(f)`), which then fails the element; a
    /// failure becomes the file's error and is thrown under `label`.
    func elementFailed(_ error: VMStateError, under label: @autoclosure () -> String) throws(VMStateError) {
        var failure = error
        if error.errno > 0 {
            guard file.errorCode < 0 else { return }
            failure = fileError()
        }
        file.setError(failure.errno)
        throw failure.under(label())
    }

    func loadElement(_ field: FieldPlan, _ element: UnsafeMutableRawPointer, size: Int) throws(VMStateError) {
        let at = file.position
        if let loadGuard, loadGuard.countedDepth > 0, !field.allocates {
            switch field.op {
            case .scalar, .int32LE, .buffer, .bitmap, .custom:
                loadGuard.streamWrites(element, elementFootprint(field.op, size: size))
            default: break
            }
        }
        switch field.op {
        case .scalar(let width, let isBool):
            guard Codec.getScalars(file, element, count: 1, width: width, stride: width, isBool: isBool) else {
                throw shortInput(width, at: at)
            }
        case .equal(let width):
            let (incoming, complete) = file.getPartial(width)
            let local = Codec.loadInteger(element, width: width)
            if !complete {
                // QEMU compares what it read (zeros past the end): -EINVAL when that differs.
                throw shortInput(width, at: at, errno: incoming != local ? -22 : nil)
            }
            if incoming != local {
                var reason = "value differs from the local one"
                if let hint = field.errHint { reason += " (\(String(cString: hint)))" }
                throw VMStateError(
                    .mismatch, offset: at, reason: reason,
                    expected: hex(local, width: width), actual: hex(incoming, width: width))
            }
        case .int32LE:
            let (raw, complete) = file.getPartial(4)
            let loaded = Int32(truncatingIfNeeded: raw)
            // SAFETY: an int32_t element (vmstate_info_int32_le) at its field's offset; checked
            // against the load guard with the field's footprint.
            let local = StructMemory(element, count: 4).load(as: Int32.self)
            if !complete {
                throw shortInput(4, at: at, errno: loaded >= 0 && loaded <= local ? nil : -22)
            }
            guard loaded >= 0 && loaded <= local else {
                throw VMStateError(
                    .mismatch, offset: at, reason: "value out of range",
                    expected: "0...\(local)", actual: "\(loaded)")
            }
            StructMemory(element, count: 4).store(loaded)
        case .buffer:
            if file.getBytes(into: element, size) < size { throw shortInput(size, at: at) }
        case .unusedBuffer:
            // (Over a stream whose end is not known yet, the skip finds out.)
            guard file.skip(size) else {
                file.setError(-5)  // a read past the end: -EIO
                throw shortInput(size, at: at)
            }
        case .nullptr:
            try loadNullMarker("NULL pointer marker missing")
        case .fd:
            // QEMU 10.0's get_fd on a file that cannot pass descriptors: the field becomes -1,
            // the file's error -EIO, which fails the field.
            // SAFETY: an int32_t element (vmstate_info_fd) at its field's offset; checked against
            // the load guard with the field's footprint.
            StructMemory(element, count: 4).store(Int32(-1))
            file.setError(-5)
            throw VMStateError(
                .fieldFailed, offset: at, reason: "a file descriptor (VMSTATE_FD) cannot be loaded from a byte stream",
                errno: -5)
        case .timer:
            guard let raw = file.getBE64() else { throw shortInput(8, at: at) }
            let timer = element.assumingMemoryBound(to: QEMUTimer.self)
            if let loadGuard { try refusePlantedTimer(loadGuard, timer, value: Int64(bitPattern: raw)) }
            loadGuard?.willRestore(timer)
            Timers.restore(timer, Int64(bitPattern: raw))
        case .bitmap:
            let words = (size + 63) / 64
            guard Codec.getScalars(file, element, count: words, width: 8, stride: 8, isBool: false) else {
                throw shortInput(words * 8, at: at)
            }
        case .structure(let nested):
            try loadNested(nested, element, version: nested.versionID)
        case .vstructure(let nested):
            try load(nested, element, version: field.structVersion)
        case .tmp(let nested):
            // Engine memory like any other: a checked load bounds the tmp struct's fields to it.
            let scratch = try engineAllocate(max(size, MemoryLayout<UnsafeRawPointer>.size))
            defer { engineFree(scratch) }
            // SAFETY: the scratch struct is at least a pointer long (allocated above); VMSTATE_WITH_TMP
            // puts the parent's pointer first in it, as QEMU's get_tmp / put_tmp do.
            StructMemory(scratch, count: max(size, QueueLayout.pointer)).store(element)
            try load(nested, scratch, version: field.version)
        case .qtailq(let nested), .qlist(let nested):
            try loadList(field, nested, head: element)
        case .gtree(let value, let key):
            try loadTree(field, element, value: value, key: key)
        case .custom(let info):
            guard let get = info.pointee.get else {
                throw VMStateError(.invalidTable, offset: at, reason: "VMStateInfo has no get")
            }
            let saved = file.failure
            file.failure = nil
            var r = get(file.handle, element, size, field.field)
            let inner = file.failure
            file.failure = saved
            if r >= 0 { r = file.errorCode }
            if r < 0 {
                // The result is what the get returned (or the file's error), as in QEMU.
                if var inner {
                    inner.errno = r
                    throw inner
                }
                if r == -5 {
                    throw VMStateError(
                        .shortInput, offset: file.position, reason: "input ended inside \(field.typeName)")
                }
                throw VMStateError(.fieldFailed, offset: at, reason: "\(field.typeName) get returned \(r)", errno: r)
            }
        case .none:
            throw VMStateError(.invalidTable, offset: at, reason: "field has neither info nor vmsd")
        }
    }

    /// Loads a QTAILQ or QLIST: elements follow a 1 byte each, the list ends with a 0 byte.
    private func loadList(_ field: FieldPlan, _ nested: DescriptionPlan, head: UnsafeMutableRawPointer)
        throws(VMStateError)
    {
        let version = field.version
        try checkVersion(nested, version)
        let entry = field.start
        let isTail: Bool
        if case .qtailq = field.op { isTail = true } else { isTail = false }
        if let loadGuard {
            // The head's pointers, which the appends write through.
            try refusePlanted(
                loadGuard, head + (isTail ? QueueLayout.tailqHeadFirst : QueueLayout.qlistHeadFirst), field: field.name)
            if isTail { try refusePlanted(loadGuard, head + QueueLayout.tailqHeadLast, field: field.name) }
        }
        var previous: UnsafeMutableRawPointer? = nil
        var index = 0
        while true {
            let at = file.position
            guard let marker = file.getByte() else { throw shortInput(1, at: at) }
            if marker == 0 { break }
            let mark = loadGuard?.mark
            let element = try engineAllocate(max(field.size, 1))
            do throws(VMStateError) {
                try loadNested(nested, element, version: version)
            } catch {
                freeFailed(element, since: mark)
                throw error.under("[\(index)]")
            }
            if let loadGuard {
                // The links the insertion writes in elements the caller owns, for a rollback.
                if isTail {
                    let links = StructMemory(head, count: QueueLayout.tailqHeadSize)
                    loadGuard.preserve(head, QueueLayout.tailqHeadSize)
                    if let last = links.loadPointer(at: QueueLayout.tailqHeadLast) {
                        loadGuard.preserve(last + QueueLayout.tailqLinkNext, QueueLayout.pointer)
                    }
                } else {
                    let slot = previous.map { $0 + entry + QueueLayout.qlistNext } ?? head + QueueLayout.qlistHeadFirst
                    loadGuard.preserve(slot, QueueLayout.pointer)
                    if let next = StructMemory(slot, count: QueueLayout.pointer).loadPointer() {
                        loadGuard.preserve(next + entry + QueueLayout.qlistPrev, QueueLayout.pointer)
                    }
                }
            }
            if isTail {
                IntrusiveList.tailqAppend(head: head, element: element, entry: entry)
            } else {
                IntrusiveList.qlistInsert(head: head, after: previous, element: element, entry: entry)
            }
            previous = element
            index += 1
        }
    }

    private func loadTree(
        _ field: FieldPlan, _ element: UnsafeMutableRawPointer, value: DescriptionPlan, key: DescriptionPlan?
    ) throws(VMStateError) {
        let version = field.version
        if let key { try checkVersion(key, version) }
        try checkVersion(value, version)
        if let loadGuard { try refusePlanted(loadGuard, element, field: field.name) }
        // SAFETY: as in saveElement: the field's `GTree *` member, checked as its footprint.
        guard let tree = StructMemory(element).load(as: OpaquePointer?.self) else {
            throw VMStateError(.invalidTable, offset: file.position, reason: "the GTree pointer is NULL")
        }
        let at = file.position
        let (rawCount, complete) = file.getPartial(4)
        let expected = Int32(truncatingIfNeeded: rawCount)
        // QEMU reads the count (zeros past the end), then a 0 marker at the end: -EINVAL unless
        // the count it read is 0.
        guard complete else { throw shortInput(4, at: at, errno: expected != 0 ? -22 : nil) }
        var loaded: Int32 = 0
        while true {
            let markerAt = file.position
            guard let marker = file.getByte() else {
                // The end reads as the 0 marker in QEMU: -EINVAL when nodes are missing.
                throw shortInput(1, at: markerAt, errno: loaded != expected ? -22 : nil)
            }
            if marker == 0 { break }
            loaded += 1
            if loaded > expected {
                throw VMStateError(
                    .mismatch, offset: markerAt, reason: "more tree nodes than the stream's count",
                    expected: "\(expected)", actual: "at least \(loaded)")
            }
            var keyPointer: UnsafeMutableRawPointer?
            let mark = loadGuard?.mark
            if let key {
                let k = try engineAllocate(max(field.start, 1))
                do throws(VMStateError) { try loadNested(key, k, version: version) } catch {
                    freeFailed(k, since: mark)
                    throw error.under("[\(loaded - 1)].key")
                }
                keyPointer = k
            } else {
                guard let raw = file.getBE64() else { throw shortInput(8, at: markerAt + 1) }
                // A direct key (no key description): the pointer's value is the key, as QEMU's
                // get_gtree stores it; nothing here dereferences it.
                keyPointer = UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: raw))
            }
            let v: UnsafeMutableRawPointer
            do throws(VMStateError) {
                v = try engineAllocate(max(field.size, 1))
                do throws(VMStateError) { try loadNested(value, v, version: version) } catch {
                    if loadGuard == nil { g_free(v) }
                    throw error
                }
            } catch {
                if let loadGuard, let mark {
                    loadGuard.freeAllocations(since: mark)  // the value, the key, what they hold
                } else if key != nil, let keyPointer {
                    g_free(keyPointer)
                }
                throw error.under("[\(loaded - 1)]")
            }
            if let loadGuard {
                guard loadGuard.insert(into: tree, key: keyPointer, value: v) else {
                    loadGuard.freeAllocations(since: mark!)
                    throw VMStateError(
                        .mismatch, path: "[\(loaded - 1)]", offset: markerAt,
                        reason: "the stream has this tree key twice", expected: "each key once",
                        actual: key == nil
                            ? "key \(hex(UInt64(UInt(bitPattern: keyPointer)), width: 8)) again" : "a repeated key")
                }
            } else {
                g_tree_insert(tree, keyPointer, v)
            }
        }
        if loaded != expected {
            throw VMStateError(
                .mismatch, offset: file.position, reason: "tree node count differs from the stream's count",
                expected: "\(expected)", actual: "\(loaded)")
        }
    }

    private func loadSubsections(_ plan: DescriptionPlan, _ opaque: UnsafeMutableRawPointer) throws(VMStateError) {
        var loadedNames: Set<[UInt8]> = []
        // SAFETY: the name returned points into the file's input bytes (not into nameBytes),
        // which stay valid while the file exists.
        while let nameBuffer = plan.nameBytes.withUnsafeBufferPointer({ file.peekSubsection(of: $0) }) {
            let len = nameBuffer.count
            let found: Int? =
                if let program = plan.program { subsectionIndex(program, named: nameBuffer) } else {
                    plan.subsections.firstIndex(where: { Codec.cStringPrefix(nameBuffer).elementsEqual($0.name) })
                }
            guard let found else {
                throw VMStateError(
                    .unknownSubsection, offset: file.position,
                    reason: "unknown subsection \"\(String(decoding: nameBuffer, as: UTF8.self))\"")
            }
            // QEMU loads a repeated subsection again; a checked load refuses it (a second ALLOC
            // would leak the first, a second list load would append twice).
            if loadGuard != nil, !loadedNames.insert(Array(Codec.cStringPrefix(nameBuffer))).inserted {
                throw VMStateError(
                    .badStream, offset: file.position,
                    reason: "subsection \"\(String(decoding: nameBuffer, as: UTF8.self))\" appears twice")
            }
            let sub = plan.subsections[found]
            file.skip(2 + len)
            let subPlan: DescriptionPlan
            if let built = plan.subsectionPlans[found] { subPlan = built } else { subPlan = try Planner.plan(sub.vmsd) }
            try loadSubsection(subPlan, of: plan, opaque)
        }
    }

    /// Reads a subsection's version (after its name) and loads it, as QEMU 7.2's
    /// `vmstate_subsection_load` does: `version_id = qemu_get_be32(f)` into a `uint8_t`, so a
    /// version cut short by the end is 0 (its low byte is the missing last one), and the
    /// subsection is loaded at that version (usually too old: -EINVAL). The error then says
    /// the input ended, with QEMU's errno.
    func loadSubsection(_ subPlan: DescriptionPlan, of plan: DescriptionPlan, _ opaque: UnsafeMutableRawPointer)
        throws(VMStateError)
    {
        let at = file.position
        let (rawVersion, complete) = file.getPartial(4)
        let version = Int32(UInt8(truncatingIfNeeded: rawVersion))
        do throws(VMStateError) {
            try load(subPlan, opaque, version: version)
        } catch {
            let label = subsectionLabel(subPlan.name, parent: plan.name)
            if !complete { throw shortInput(4, at: at, errno: error.errno).under(label) }
            throw error.under(label)
        }
    }

    // MARK: - memory the engine allocates on load

    /// The most an unchecked load allocates for a VMS_ALLOC field whose input is too short to
    /// fill it (QEMU allocates whatever the count says, then reads past the end).
    static let smallAllocation = 1 << 16

    /// Over a stream whose end is not known yet, a VMS_ALLOC field is allocated once the bytes
    /// that fill it have been read, up to this many (64 MiB): a larger one (no QEMU device has
    /// one) is allocated, as the count says within ``LoadGuard/maximumAllocation``, once 64 MiB
    /// of it are there.
    static let confirmedAllocationInput = 64 << 20

    /// VMS_ALLOC: allocates the field's memory before loading it (QEMU: `g_malloc(size * n)`),
    /// refusing sizes the rest of the input cannot fill and sizes over 1 GiB.
    private func allocate(_ field: FieldPlan, _ opaque: UnsafeMutableRawPointer, n: Int, bytes: Int)
        throws(VMStateError)
    {
        let wire = minimumWireSize(field, size: bytes / max(n, 1))
        let needed = wire.multipliedReportingOverflow(by: n)
        var short = needed.overflow || needed.partialValue > file.remaining
        if !short && !file.inputEnded {
            // A stream whose end is not known yet: read (up to 64 MiB of) the bytes that must
            // fill the memory before allocating it (they are read next anyway), so that a few
            // bytes of a hostile stream cannot have memory allocated for a count they do not
            // hold. An input that ends there is then as short as a GBytes one.
            _ = file.ensure(min(needed.partialValue, Engine.confirmedAllocationInput))
            short = needed.partialValue > file.remaining
        }
        // QEMU allocates and then reads past the end (-EIO). A checked load refuses at once; an
        // unchecked one does as QEMU up to a small size, so that its result is QEMU's.
        if bytes > LoadGuard.maximumAllocation || (short && (loadGuard != nil || bytes > Engine.smallAllocation)) {
            if short { file.setError(-5) }
            throw VMStateError(
                .boundExceeded, path: field.name, offset: file.position,
                reason: "refusing to allocate \(bytes) bytes for \(n) element(s)",
                expected: "at most \(min(file.remaining, LoadGuard.maximumAllocation)) bytes of input to fill it",
                actual: "\(n) element(s) needing at least \(wire) byte(s) each",
                errno: short ? file.shortReadErrno : nil)
        }
        let memory = try engineAllocate(bytes)
        // SAFETY: the pointer member of a VMS_ALLOC field, whose bytes the caller checked
        // against the load guard (`own` in `loadPresentField`) in a checked load.
        StructMemory(opaque).store(Optional(memory), at: field.offset)
        loadGuard?.stored(memory, at: opaque + field.offset)
    }

    /// Zeroed memory for the stream's data; tracked (and bounded) by a checked load.
    private func engineAllocate(_ bytes: Int) throws(VMStateError) -> UnsafeMutableRawPointer {
        let memory = loadGuard.map { $0.allocate(bytes) } ?? g_try_malloc0(gsize(bytes))
        guard let memory else {
            throw VMStateError(.boundExceeded, offset: file.position, reason: "cannot allocate \(bytes) bytes")
        }
        return memory
    }

    private func engineFree(_ memory: UnsafeMutableRawPointer) {
        if let loadGuard { loadGuard.release(memory) } else { g_free(memory) }
    }

    /// Frees an element (list element, tree key or value) that failed to load. A checked load
    /// also frees what was allocated while loading it (from `mark` on): only the element
    /// reached it. QEMU's unchecked load leaks that, as QEMU does.
    private func freeFailed(_ element: UnsafeMutableRawPointer, since mark: Int?) {
        if let loadGuard, let mark { loadGuard.freeAllocations(since: mark) } else { g_free(element) }
    }

    /// The bytes `n` elements of `field` occupy where they lie. `size` is not always that: QTAILQ,
    /// QLIST and GTree fields hold a head or a tree pointer (`size` is the element's size), tmp
    /// writes only its scratch struct, and a bitmap's `size` counts bits.
    ///
    /// A custom `VMStateInfo` writes what its `get` decides: QEMU's PCI configuration space
    /// (`vmstate_info_pci_config`, 256 bytes) goes through the device's `config` pointer, not at
    /// the field. When the table fixes the count and size (nothing from the stream), the
    /// elements must start inside the struct, the rest being the `get`'s business as in QEMU;
    /// a count or size the stream sets bounds them whole.
    private func footprint(_ field: FieldPlan, n: Int, size: Int) -> Int {
        guard n > 0 else { return 0 }
        if field.arrayOfPointer { return n * size }
        if case .custom = field.op, field.sizeOffset == nil {
            switch field.count {
            case .one, .fixed: return size == 0 ? 0 : (n - 1) * size + 1
            case .counter: break
            }
        }
        let last = elementFootprint(field.op, size: size)
        return last == 0 ? 0 : (n - 1) * size + last  // n * size did not overflow
    }

    private func elementFootprint(_ op: ElementOp, size: Int) -> Int {
        switch op {
        case .qtailq: return QueueLayout.tailqHeadSize
        case .qlist: return QueueLayout.qlistHeadSize
        case .gtree: return MemoryLayout<UnsafeRawPointer>.size  // the GTree *
        case .tmp, .unusedBuffer, .nullptr, .none: return 0  // nothing written in place
        case .bitmap: return (size + 63) / 64 * 8
        default: return size
        }
    }

    /// The fewest input bytes one element of this kind consumes (0 when it may consume none).
    /// Structs count the fields they always have, so that a stream cannot make a checked load
    /// allocate a large array of structs for a few bytes of input.
    private func minimumWireSize(_ field: FieldPlan, size: Int, depth: Int = 0) -> Int {
        switch field.op {
        case .scalar(let width, _), .equal(let width): return width
        case .int32LE: return 4
        case .buffer, .unusedBuffer: return size
        case .timer: return 8
        case .bitmap: return (size + 63) / 64 * 8
        case .nullptr, .qtailq, .qlist: return 1
        case .gtree: return 5
        case .structure(let plan): return minimumWireSize(of: plan, version: plan.versionID, depth: depth)
        case .vstructure(let plan):
            return minimumWireSize(of: plan, version: field.structVersion, depth: depth)
        default: return 0
        }
    }

    /// The fewest input bytes a description takes at `version`: the fields it always has (no
    /// field_exists test, a count and size fixed by the table); subsections are optional.
    private func minimumWireSize(of plan: DescriptionPlan, version: Int32, depth: Int) -> Int {
        guard depth < 8 else { return 0 }
        var total = 0
        for f in plan.fields where f.fieldExists == nil && f.version <= version && f.sizeOffset == nil {
            let count: Int
            switch f.count {
            case .one: count = 1
            case .fixed(let k): count = max(0, k) &* max(0, f.countMultiplier)
            case .counter: continue
            }
            total &+= count &* minimumEntry(f, depth: depth)
            if total < 0 || total > Int(Int32.max) { return Int(Int32.max) }
        }
        return total
    }

    private func minimumEntry(_ f: FieldPlan, depth: Int) -> Int {
        let each = minimumWireSize(f, size: f.size, depth: depth + 1)
        return f.arrayOfPointer ? min(each, 1) : each  // a NULL entry is one marker byte
    }

    // MARK: - shared

    @inline(__always)
    private func exists(_ field: FieldPlan, _ opaque: UnsafeMutableRawPointer, _ version: Int32) -> Bool {
        if let test = field.fieldExists { return test(opaque, version) }
        return field.version <= version
    }

    @inline(__always)
    private func count(_ field: FieldPlan, _ opaque: UnsafeMutableRawPointer, label: String) throws(VMStateError) -> Int
    {
        var n: Int
        switch field.count {
        case .one: n = 1
        case .fixed(let num): n = num
        case .counter(let offset, let width, let signed):
            // SAFETY: the counter field's offset and width come from the C table (num_offset
            // and the VMS_VARRAY_* flag), read from the caller's struct as QEMU reads them.
            let s = StructMemory(opaque)
            switch width {
            case 1: n = Int(s.load(at: offset, as: UInt8.self))
            case 2: n = Int(s.load(at: offset, as: UInt16.self))
            default: n = signed ? Int(s.load(at: offset, as: Int32.self)) : Int(s.load(at: offset, as: UInt32.self))
            }
        }
        if field.countMultiplier != 1 { n = n &* field.countMultiplier }
        guard n >= 0 && n <= Int(Int32.max) else {
            throw VMStateError(
                .boundExceeded, path: label, offset: file.position,
                reason: "element count out of range", actual: "\(n)")
        }
        return n
    }

    @inline(__always)
    private func elementSize(_ field: FieldPlan, _ opaque: UnsafeMutableRawPointer) throws(VMStateError) -> Int {
        guard let sizeOffset = field.sizeOffset else { return field.size }
        // SAFETY: size_offset comes from the C table (VMS_VBUFFER), an int32_t member of the
        // caller's struct, read as QEMU reads it.
        var size = Int(StructMemory(opaque).load(at: sizeOffset, as: Int32.self))
        if field.multiplySize { size = size &* field.size }
        guard size >= 0 && size <= Int(Int32.max) else {
            throw VMStateError(
                .boundExceeded, path: field.name, offset: file.position,
                reason: "buffer size out of range", actual: "\(size)")
        }
        return size
    }

    @inline(__always)
    private func firstElement(
        _ field: FieldPlan, _ opaque: UnsafeMutableRawPointer, n: Int, size: Int
    ) throws(VMStateError) -> UnsafeMutableRawPointer? {
        let s = StructMemory(opaque)
        guard field.isPointer else { return s.pointer(at: field.offset) }
        // SAFETY: a VMS_POINTER field's member is a pointer at its offset in the caller's
        // struct; what it points to is the device's (or the engine's, after VMS_ALLOC), and
        // a checked load bounds the elements to the region it lies in (`loadPresentField`).
        let pointer = s.loadPointer(at: field.offset)
        if pointer == nil && n > 0 && size > 0 {
            throw VMStateError(
                .invalidTable, path: field.name, offset: file.position,
                reason: "pointer field is NULL but has \(n) element(s) of \(size) bytes")
        }
        return pointer
    }

    private func checkVersion(_ plan: DescriptionPlan, _ version: Int32) throws(VMStateError) {
        if version > plan.versionID {
            throw VMStateError(
                .versionTooNew, offset: file.position, reason: "\(plan.name) too new",
                expected: "at most \(plan.versionID)", actual: "\(version)")
        }
        if version < plan.minimumVersionID {
            throw VMStateError(
                .versionTooOld, offset: file.position, reason: "\(plan.name) too old",
                expected: "at least \(plan.minimumVersionID)", actual: "\(version)")
        }
    }

    static func describeStart(_ w: VMDescWriter, _ field: FieldPlan, index: Int, count: Int, type: String? = nil) {
        w.startObject()
        w.string("name", field.vmdescName)
        if count > 1 {
            if field.compressible { w.int("array_len", Int64(count)) } else { w.int("index", Int64(index)) }
        }
        w.string("type", type ?? field.typeName)
        if field.isStruct { w.startObject("struct") }
    }

    static func describeEnd(_ w: VMDescWriter, _ field: FieldPlan, size: Int) {
        if field.isStruct { w.endObject() }
        w.int("size", Int64(size))
        w.endObject()
    }

    private func hookError(_ hook: String, _ r: Int32, qemu: String? = nil) -> VMStateError {
        var error = VMStateError(.hookFailed, offset: file.position, reason: "\(hook) returned \(r)", errno: r)
        if dialect == .qemu10_0 { error.qemuMessage = qemu }
        return error
    }

    /// The input ended inside a value of `needed` bytes starting at `at`. Its errno is QEMU's
    /// result: `errno` when given (a value QEMU reads as zeros past the end and then refuses:
    /// -EINVAL), else the file's first error (-EIO, or an error recorded before).
    func shortInput(_ needed: Int, at: Int? = nil, errno: Int32? = nil) -> VMStateError {
        let start = at ?? file.position
        return VMStateError(
            .shortInput, offset: start, reason: "input ended",
            expected: "\(needed) byte\(needed == 1 ? "" : "s")", actual: "\(max(0, file.count - start)) left",
            errno: errno ?? file.shortReadErrno)
    }

    /// ``fileError()``'s reason for -EIO.
    static let fileErrorAfterValue = "input ended (looking for subsections after the value)"

    /// The failure of an element that loaded while the file has an error: QEMU's
    /// `vmstate_load_state` returns `qemu_file_get_error(f)` then. -EIO there is the end of the
    /// input found by a look for a nested description's subsections.
    func fileError() -> VMStateError {
        let code = file.errorCode
        if code == -5 {
            return VMStateError(.shortInput, offset: file.position, reason: Self.fileErrorAfterValue, errno: code)
        }
        return VMStateError(.failed, offset: file.position, reason: "the file has error \(code)", errno: code)
    }

    /// A NULL pointer's marker byte (0x30). QEMU's `get_nullptr` reads 0 past the end and
    /// refuses it: -EINVAL, with -EIO recorded on the file.
    private func loadNullMarker(_ reason: String) throws(VMStateError) {
        let at = file.position
        guard let marker = file.getByte() else { throw shortInput(1, at: at, errno: -22) }
        if marker != UInt8(VMS_NULLPTR_MARKER) {
            throw VMStateError(.badMarker, offset: at, reason: reason, expected: "0x30", actual: hexByte(marker))
        }
    }

    func subsectionLabel(_ name: String, parent: String) -> String {
        name.hasPrefix(parent + "/") ? String(name.dropFirst(parent.count + 1)) : name
    }
}

extension VMStateError {
    /// QEMU 10.0's `error_prepend` for a failed element of `field`: "Save of field
    /// OWNER/FIELD failed: " before the inner message (the failure's own reason when the inner
    /// save set none: QEMU 10.0 crashes there, see `vmstate_save_state_v`'s docs).
    mutating func savingField(_ field: FieldPlan) {
        qemuMessage = "Save of field \(field.owner)/\(field.name) failed: " + (qemuMessage ?? reason)
    }

    /// The same error one level further out: `label` goes in front of the path.
    func under(_ label: String) -> VMStateError {
        var copy = self
        copy.path = path.isEmpty ? label : label + (path.hasPrefix("[") ? "" : "/") + path
        return copy
    }
}

func hexByte(_ v: UInt8) -> String { hex(UInt64(v), width: 1) }

func hex(_ v: UInt64, width: Int) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, width * 2 - digits.count)) + digits
}
