import CVMState
#if canImport(Glibc)
    import Glibc
#endif

// The compiled steps (Program.swift) of a description, for saves (with a compact vmdesc or
// none) and loads (checked by a load guard or not). Each step does what the per-field path
// would do for its fields, with the same bytes, vmdesc text, calls, errors and paths; whatever
// a step cannot do fast (an older version, a short input, a subsection marker after a struct
// element, a step whose bytes a load guard does not allow at once) goes through the per-field
// path.
//
// SAFETY (the whole file): a `Program` is a view of memory its plan's `ProgramStorage` owns
// (each save or load holds its plan, passed down as an argument, for as long as it runs, and a
// plan holds its nested plans, so the view, its `extras`, its item names and the nested plans
// behind `Unmanaged` stay valid while they are used); each step names only its
// own items and fields (built that way in `Program.compile`). The struct addresses
// (`opaque + step.offset + i * step.stride`) are the C table's numbers, checked for overflow
// when compiled (`Program.fixedCount`) and, in a checked load, against the load guard
// (`allowed`) before the step writes. Input and output bytes are reserved through
// `MigrationFile` (`append`, `consume`) before `Codec` touches them.

extension Engine {
    func saveSteps(
        _ plan: DescriptionPlan, _ program: Program, _ opaque: UnsafeMutableRawPointer, version: Int32
    ) throws(VMStateError) {
        let items = program.items
        for step in program.steps {
            switch step.kind {
            case .run:
                if step.maxVersion <= version {
                    file.append(step.wireBytes) { dest in
                        _ = Codec.putRun(items, step.items, base: opaque, into: dest)
                    }
                } else {
                    for index in step.fields {
                        try saveField(plan.fields[index], opaque, version: version, vmdesc: nil)
                    }
                }
            case .tested:
                if step.test!(opaque, version) {  // a tested step always has its field_exists
                    file.append(step.wireBytes) { dest in
                        _ = Codec.putRun(items, step.items, base: opaque, into: dest)
                    }
                }
            case .structs:
                guard step.maxVersion <= version, let nested = step.nested?.takeUnretainedValue() else { continue }
                let nestedVersion = step.nestedVersion ?? nested.versionID
                for i in 0..<step.count {
                    do throws(VMStateError) {
                        try save(nested, opaque + step.offset + i * step.stride, version: nestedVersion, vmdesc: nil)
                    } catch {
                        var failure = error.under(elementLabel(plan, step, i))
                        if dialect == .qemu10_0 { failure.savingField(plan.fields[step.fields.lowerBound]) }
                        throw failure
                    }
                }
            case .field:
                try saveField(plan.fields[step.fields.lowerBound], opaque, version: version, vmdesc: nil)
            }
        }
    }

    /// `saveSteps` and `saveSubsections` with a vmdesc: the description's keys, its field
    /// objects and its subsections, written as the per-field path writes them. `w` takes
    /// compiled text (`takesCompiledText`).
    func saveDescribed(
        _ plan: DescriptionPlan, _ program: Program, _ opaque: UnsafeMutableRawPointer, version: Int32,
        _ w: VMDescWriter
    ) throws(VMStateError) {
        let items = program.items
        let extras = program.extras.pointee
        let text = extras.text
        w.appendItems(UnsafeBufferPointer(rebasing: text[extras.descPrefix]))
        w.appendDecimal(Int(version))
        w.appendOpening("\"fields\": [", array: true)
        for (step, extra) in zip(program.steps, extras.steps) {
            switch step.kind {
            case .run:
                if step.maxVersion <= version, let desc = extra.desc {
                    file.append(step.wireBytes) { dest in
                        _ = Codec.putRun(items, step.items, base: opaque, into: dest)
                    }
                    w.appendItems(UnsafeBufferPointer(rebasing: text[desc]))
                } else {
                    for index in step.fields {
                        try saveField(plan.fields[index], opaque, version: version, vmdesc: w)
                    }
                }
            case .tested:
                guard let desc = extra.desc else {
                    try saveField(plan.fields[step.fields.lowerBound], opaque, version: version, vmdesc: w)
                    continue
                }
                if step.test!(opaque, version) {  // a tested step always has its field_exists
                    file.append(step.wireBytes) { dest in
                        _ = Codec.putRun(items, step.items, base: opaque, into: dest)
                    }
                    w.appendItems(UnsafeBufferPointer(rebasing: text[desc]))
                }
            case .structs:
                guard step.maxVersion <= version, let nested = step.nested?.takeUnretainedValue(), let desc = extra.desc
                else {
                    try saveField(plan.fields[step.fields.lowerBound], opaque, version: version, vmdesc: w)
                    continue
                }
                let nestedVersion = step.nestedVersion ?? nested.versionID
                for i in 0..<step.count {
                    let describe = i == 0 || !extra.compressible
                    let before = file.written
                    if describe {
                        w.appendOpening(UnsafeBufferPointer(rebasing: text[desc]), array: false)
                        w.memberWritten()
                        if step.count > 1 {
                            if extra.compressible {
                                w.appendRaw(", \"array_len\": ")
                            } else {
                                w.appendRaw(", \"index\": ")
                            }
                            w.appendDecimal(extra.compressible ? step.count : i)
                        }
                        w.appendRaw(UnsafeBufferPointer(rebasing: text[extra.descType]))
                        if extra.isStruct { w.appendOpening("\"struct\": {", array: false) }
                    }
                    do throws(VMStateError) {
                        try save(
                            nested, opaque + step.offset + i * step.stride, version: nestedVersion,
                            vmdesc: describe ? w : nil)
                    } catch {
                        throw error.under(elementLabel(plan, step, i))
                    }
                    if describe {
                        if extra.isStruct { w.appendClosing(UInt8(ascii: "}")) }
                        w.appendRaw(", \"size\": ")
                        w.appendDecimal(file.written - before)
                        w.appendClosing(UInt8(ascii: "}"))
                    }
                }
            case .field:
                try saveField(plan.fields[step.fields.lowerBound], opaque, version: version, vmdesc: w)
            }
        }
        w.appendClosing(UInt8(ascii: "]"))

        var described = false
        for entry in program.subsections {
            let sub = entry.vmsd
            if let needed = sub.pointee.needed, !needed(opaque) { continue }
            guard entry.name.count <= 255 else {
                throw VMStateError(
                    .invalidTable, path: plan.name, offset: file.position,
                    reason: "subsection name longer than 255 bytes")
            }
            if !described {
                w.appendOpening("\"subsections\": [", array: true)
                described = true
            }
            w.appendOpening("{", array: false)
            let version = sub.pointee.version_id
            file.append(entry.name.count + 6) { dest in
                Codec.putSubsectionHeader(dest, name: entry.name, version: version)
            }
            let subPlan: DescriptionPlan
            if let built = entry.plan { subPlan = built.takeUnretainedValue() } else { subPlan = try Planner.plan(sub) }
            do throws(VMStateError) {
                try save(subPlan, opaque, version: version, vmdesc: w)
            } catch {
                throw error.under(subsectionLabel(subPlan.name, parent: plan.name))
            }
            w.appendClosing(UInt8(ascii: "}"))
        }
        if described { w.appendClosing(UInt8(ascii: "]")) }
    }

    /// Whether step `index` may run whole in a checked load: outside a counted field, or inside
    /// one when the bytes it writes are few enough spans to record (else the per-field path
    /// records each field's).
    @inline(__always)
    private func recordable(_ program: Program, _ index: Int) -> Bool {
        loadGuard!.countedDepth == 0 || program.extras.pointee.steps[index].written != nil
    }

    /// Inside a counted field, records the stream bytes step `index` wrote from `opaque`
    /// (``LoadGuard/streamWrites(_:spans:)``), so that a pointer among them is not followed.
    @inline(__always)
    private func recordWrites(_ program: Program, _ index: Int, _ opaque: UnsafeMutableRawPointer) {
        guard let loadGuard, loadGuard.countedDepth > 0,
            let written = program.extras.pointee.steps[index].written
        else { return }
        loadGuard.streamWrites(opaque, spans: UnsafeBufferPointer(rebasing: program.extras.pointee.written[written]))
    }

    /// Whether a load guard lets step `index` write its bytes without checking field by field.
    @inline(__always)
    private func allowed(_ program: Program, _ index: Int, _ opaque: UnsafeMutableRawPointer) -> Bool {
        guard let loadGuard else { return true }
        let extra = program.extras.pointee.steps[index]
        return extra.lower >= extra.upper || loadGuard.allows(opaque, extra.lower, extra.upper)
    }

    func loadSteps(
        _ plan: DescriptionPlan, _ program: Program, _ opaque: UnsafeMutableRawPointer, version: Int32
    ) throws(VMStateError) {
        let items = program.items
        for step in program.steps {
            switch step.kind {
            case .run:
                if step.maxVersion <= version
                    && file.consume(
                        step.wireBytes,
                        { source, end in
                            Codec.getRun(items, step.items, base: opaque, from: source, end: end) != nil
                        })
                {
                    continue
                }
                for index in step.fields {
                    try loadField(plan.fields[index], opaque, version: version)
                }
            case .tested:
                guard step.test!(opaque, version) else { continue }  // (set for every tested step)
                if !file.consume(
                    step.wireBytes,
                    { source, end in
                        _ = Codec.getRun(items, step.items, base: opaque, from: source, end: end)
                        return true
                    })
                {
                    try loadPresentField(plan.fields[step.fields.lowerBound], opaque)
                }
            case .structs:
                guard step.maxVersion <= version, let nested = step.nested?.takeUnretainedValue() else { continue }
                try loadElements(nested, of: plan, step, opaque)
            case .field:
                try loadField(plan.fields[step.fields.lowerBound], opaque, version: version)
            }
        }
    }

    /// A `structs` step's elements, each loaded with `nested` at the step's version (or the
    /// nested description's own) and checked as `loadPresentField` checks a field: the file's
    /// error after each (QEMU's check), a failure named by the element.
    @inline(__always)
    private func loadElements(
        _ nested: DescriptionPlan, of plan: DescriptionPlan, _ step: Step, _ opaque: UnsafeMutableRawPointer
    ) throws(VMStateError) {
        let nestedVersion = step.nestedVersion ?? nested.versionID
        for i in 0..<step.count {
            do throws(VMStateError) {
                try load(nested, opaque + step.offset + i * step.stride, version: nestedVersion)
                if file.errorCode < 0 { throw fileError() }
            } catch {
                try elementFailed(error, under: elementLabel(plan, step, i))
            }
        }
    }

    /// `loadSteps` for a checked load: each step's bytes are checked at once against the load
    /// guard (`allowed`); a step they do not fit in goes field by field, to fail (or not) there.
    /// Kept apart from `loadSteps` so that unchecked loads pay nothing for it.
    func loadStepsChecked(
        _ plan: DescriptionPlan, _ program: Program, _ opaque: UnsafeMutableRawPointer, version: Int32
    ) throws(VMStateError) {
        let items = program.items
        for index in program.steps.indices {
            let step = program.steps[index]
            switch step.kind {
            case .run:
                if step.maxVersion <= version && recordable(program, index) && allowed(program, index, opaque)
                    && file.consume(
                        step.wireBytes,
                        { source, end in
                            Codec.getRun(items, step.items, base: opaque, from: source, end: end) != nil
                        })
                {
                    recordWrites(program, index, opaque)
                    continue
                }
                for index in step.fields {
                    try loadField(plan.fields[index], opaque, version: version)
                }
            case .tested:
                guard step.test!(opaque, version) else { continue }  // (set for every tested step)
                if recordable(program, index) && allowed(program, index, opaque)
                    && file.consume(
                        step.wireBytes,
                        { source, end in
                            _ = Codec.getRun(items, step.items, base: opaque, from: source, end: end)
                            return true
                        })
                {
                    recordWrites(program, index, opaque)
                } else {
                    try loadPresentField(plan.fields[step.fields.lowerBound], opaque)
                }
            case .structs:
                guard step.maxVersion <= version, let nested = step.nested?.takeUnretainedValue() else { continue }
                if !allowed(program, index, opaque) {
                    try loadField(plan.fields[step.fields.lowerBound], opaque, version: version)
                    continue
                }
                try loadElements(nested, of: plan, step, opaque)
            case .field:
                try loadField(plan.fields[step.fields.lowerBound], opaque, version: version)
            }
        }
    }

    /// `save(nested, element, ...)` for a struct element outside a run (a list or tree element,
    /// a struct behind a pointer): a flat description is written straight from its run.
    @inline(__always)
    func saveNested(
        _ nested: DescriptionPlan, _ element: UnsafeMutableRawPointer, version: Int32, vmdesc: VMDescWriter?
    ) throws(VMStateError) {
        if compiled, vmdesc == nil, let program = nested.program, program.flat, program.flatMaxVersion <= version {
            let items = program.items
            file.append(program.fixedBytes) { dest in
                _ = Codec.putRun(items, 0..<items.count, base: element, into: dest)
            }
            return
        }
        try save(nested, element, version: version, vmdesc: vmdesc)
    }

    /// `load(nested, element, ...)` for a struct element outside a run: a flat description is
    /// read straight into its run when the input holds it and no subsection marker follows.
    @inline(__always)
    func loadNested(_ nested: DescriptionPlan, _ element: UnsafeMutableRawPointer, version: Int32) throws(VMStateError)
    {
        if compiled, loadGuard == nil, let program = nested.program, program.flat, program.flatMaxVersion <= version,
            version <= nested.versionID, version >= nested.minimumVersionID
        {
            let items = program.items
            if file.consume(
                program.fixedBytes,
                { source, end in
                    Codec.getStruct(
                        items, bytes: program.fixedBytes, name: program.name, base: element, from: source, end: end)
                })
            {
                return
            }
        } else if compiled, loadGuard != nil, loadFlatChecked(nested, element, version: version) {
            return
        }
        try load(nested, element, version: version)
    }

    /// The flat-element shortcut of `loadNested` in a checked load: taken within the nesting
    /// limit when the element's bytes lie in its region. False: load it the long way.
    @inline(never)
    private func loadFlatChecked(_ nested: DescriptionPlan, _ element: UnsafeMutableRawPointer, version: Int32) -> Bool
    {
        guard let loadGuard, let program = nested.program, program.flat, program.flatMaxVersion <= version,
            version <= nested.versionID, version >= nested.minimumVersionID,
            loadGuard.depth < LoadGuard.maximumDepth,
            program.steps.isEmpty || recordable(program, 0),
            loadGuard.allows(element, program.extras.pointee.flatLower, program.extras.pointee.flatUpper)
        else { return false }
        ProgramCounters.count(.checkedLoads, program)
        let items = program.items
        guard
            file.consume(
                program.fixedBytes,
                { source, end in
                    Codec.getStruct(
                        items, bytes: program.fixedBytes, name: program.name, base: element, from: source, end: end)
                })
        else { return false }
        if !program.steps.isEmpty { recordWrites(program, 0, element) }
        return true
    }

    /// Subsections of a save without vmdesc: the same as `saveSubsections`, with the header in
    /// one append and the plans resolved ahead.
    func saveSubsections(
        _ plan: DescriptionPlan, _ program: Program, _ opaque: UnsafeMutableRawPointer
    ) throws(VMStateError) {
        for entry in program.subsections {
            let sub = entry.vmsd
            if let needed = sub.pointee.needed, !needed(opaque) { continue }
            guard entry.name.count <= 255 else {
                throw VMStateError(
                    .invalidTable, path: plan.name, offset: file.position,
                    reason: "subsection name longer than 255 bytes")
            }
            let version = sub.pointee.version_id
            file.append(entry.name.count + 6) { dest in
                Codec.putSubsectionHeader(dest, name: entry.name, version: version)
            }
            let subPlan: DescriptionPlan
            if let built = entry.plan { subPlan = built.takeUnretainedValue() } else { subPlan = try Planner.plan(sub) }
            do throws(VMStateError) {
                try save(subPlan, opaque, version: version, vmdesc: nil)
            } catch {
                throw error.under(subsectionLabel(subPlan.name, parent: plan.name))
            }
        }
    }

    /// `loadSubsections` with the names and plans resolved ahead: the same checks, errors and
    /// versions.
    func loadSubsections(
        _ plan: DescriptionPlan, _ program: Program, _ opaque: UnsafeMutableRawPointer
    ) throws(VMStateError) {
        while let (index, name) = try nextSubsection(program) {
            try loadSubsection(try enterSubsection(program, index, nameLength: name.count), of: plan, opaque)
        }
    }

    /// `loadSubsections` of a checked load: a subsection the stream repeats is refused.
    func loadSubsectionsChecked(
        _ plan: DescriptionPlan, _ program: Program, _ opaque: UnsafeMutableRawPointer
    ) throws(VMStateError) {
        var loaded: UInt64 = 0  // checked loads: the subsections loaded, by index (the first 64)
        var loadedMore: Set<Int>? = nil  // ... and the others
        while let (index, name) = try nextSubsection(program) {
            // QEMU loads a repeated subsection again; a checked load refuses it (a second ALLOC
            // would leak the first, a second list load would append twice).
            if !Self.firstTime(index, &loaded, &loadedMore) {
                throw VMStateError(
                    .badStream, offset: file.position,
                    reason: "subsection \"\(String(decoding: name, as: UTF8.self))\" appears twice")
            }
            // The version is read as the per-field path reads it (QEMU's uint8_t of a be32 that
            // may be cut short), so that both give the same result, error and path.
            try loadSubsection(try enterSubsection(program, index, nameLength: name.count), of: plan, opaque)
        }
    }

    /// The subsection of `program` that the stream holds next (its index in
    /// `program.subsections` and its wire name, valid until the file reads again), nil when the
    /// next bytes are no subsection of it; one the description does not have is refused, as QEMU
    /// refuses it. Reads nothing: ``enterSubsection(_:_:nameLength:)`` steps over the header.
    private func nextSubsection(
        _ program: Program
    ) throws(VMStateError) -> (Int, UnsafeRawBufferPointer)? {
        guard let name = file.peekSubsection(of: program.name) else { return nil }
        guard let index = subsectionIndex(program, named: name) else {
            throw VMStateError(
                .unknownSubsection, offset: file.position,
                reason: "unknown subsection \"\(String(decoding: name, as: UTF8.self))\"")
        }
        return (index, name)
    }

    /// Steps over the header of subsection `index` (marker, name length, name) and gives its
    /// plan, built ahead or now.
    private func enterSubsection(
        _ program: Program, _ index: Int, nameLength: Int
    ) throws(VMStateError) -> DescriptionPlan {
        file.skip(2 + nameLength)
        let entry = program.subsections[index]
        if let built = entry.plan { return built.takeUnretainedValue() }
        return try Planner.plan(entry.vmsd)
    }

    /// Records `index` in `mask` (below 64) or `more`; false when it was there already.
    private static func firstTime(_ index: Int, _ mask: inout UInt64, _ more: inout Set<Int>?) -> Bool {
        if index < 64 {
            let bit: UInt64 = 1 << UInt64(index)
            defer { mask |= bit }
            return mask & bit == 0
        }
        if more == nil { more = [] }
        return more!.insert(index).inserted
    }

    /// The index of the subsection called `name`, without building anything.
    /// SAFETY: memcmp reads `name.count` bytes of both, after checking the counts are equal
    /// and non-zero; `name` points into the file's input, valid while the file is.
    ///
    /// QEMU 7.2 compares the name as a C string (`vmstate_get_subsection`'s `strcmp`), so a
    /// name with a NUL byte matches the subsection named by the bytes before it.
    func subsectionIndex(_ program: Program, named wireName: UnsafeRawBufferPointer) -> Int? {
        let name = Codec.cStringPrefix(wireName)
        for (index, entry) in program.subsections.enumerated()
        where entry.name.count == name.count
            && (name.count == 0 || memcmp(entry.name.baseAddress!, name.baseAddress!, name.count) == 0)
        {
            return index
        }
        return nil
    }

    private func elementLabel(_ plan: DescriptionPlan, _ step: Step, _ i: Int) -> String {
        let name = plan.fields[step.fields.lowerBound].name
        return step.count > 1 ? "\(name)[\(i)]" : name
    }
}
