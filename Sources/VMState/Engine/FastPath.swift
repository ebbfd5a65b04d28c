import CVMState
#if canImport(Glibc)
import Glibc
#endif

// The compiled steps (Program.swift) of a description, for saves without vmdesc and loads
// without a load guard. Each step does what the per-field path would do for its fields, with
// the same bytes, calls, errors and paths; whatever a step cannot do fast (an older version, a
// short input, a subsection marker after a struct element) goes through the per-field path.

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
                if step.test!(opaque, version) {
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
                        throw error.under(elementLabel(plan, step, i))
                    }
                }
            case .field:
                try saveField(plan.fields[step.fields.lowerBound], opaque, version: version, vmdesc: nil)
            }
        }
    }

    func loadSteps(
        _ plan: DescriptionPlan, _ program: Program, _ opaque: UnsafeMutableRawPointer, version: Int32
    ) throws(VMStateError) {
        let items = program.items
        for step in program.steps {
            switch step.kind {
            case .run:
                if step.maxVersion <= version
                    && file.consume(step.wireBytes, { source, end in
                        Codec.getRun(items, step.items, base: opaque, from: source, end: end) != nil
                    })
                {
                    continue
                }
                for index in step.fields {
                    try loadField(plan.fields[index], opaque, version: version)
                }
            case .tested:
                guard step.test!(opaque, version) else { continue }
                if !file.consume(step.wireBytes, { source, end in
                    _ = Codec.getRun(items, step.items, base: opaque, from: source, end: end)
                    return true
                }) {
                    try loadPresentField(plan.fields[step.fields.lowerBound], opaque)
                }
            case .structs:
                guard step.maxVersion <= version, let nested = step.nested?.takeUnretainedValue() else { continue }
                let nestedVersion = step.nestedVersion ?? nested.versionID
                for i in 0..<step.count {
                    do throws(VMStateError) {
                        try load(nested, opaque + step.offset + i * step.stride, version: nestedVersion)
                        if file.errorCode != 0 { throw fileError() }  // as loadPresentField (QEMU's check)
                    } catch {
                        if error.errno > 0 { continue }  // as loadPresentField
                        file.setError(error.errno)  // as loadField: a failed element sets the file error
                        throw error.under(elementLabel(plan, step, i))
                    }
                }
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
    func loadNested(_ nested: DescriptionPlan, _ element: UnsafeMutableRawPointer, version: Int32) throws(VMStateError) {
        if compiled, loadGuard == nil, let program = nested.program, program.flat, program.flatMaxVersion <= version,
            version <= nested.versionID, version >= nested.minimumVersionID
        {
            let items = program.items
            if file.consume(program.fixedBytes, { source, end in
                Codec.getStruct(items, bytes: program.fixedBytes, name: program.name, base: element, from: source, end: end)
            }) {
                return
            }
        }
        try load(nested, element, version: version)
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
                throw VMStateError(.invalidTable, path: plan.name, offset: file.position,
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
        while let name = file.peekSubsection(of: program.name) {
            guard let index = subsectionIndex(program, named: name) else {
                throw VMStateError(
                    .unknownSubsection, offset: file.position,
                    reason: "unknown subsection \"\(String(decoding: name, as: UTF8.self))\"")
            }
            let entry = program.subsections[index]
            file.skip(2 + name.count)
            let subPlan: DescriptionPlan
            if let built = entry.plan { subPlan = built.takeUnretainedValue() } else { subPlan = try Planner.plan(entry.vmsd) }
            try loadSubsection(subPlan, of: plan, opaque)
        }
    }

    /// The index of the subsection called `name`, without building anything.
    func subsectionIndex(_ program: Program, named name: UnsafeRawBufferPointer) -> Int? {
        for (index, entry) in program.subsections.enumerated()
        where entry.name.count == name.count && (name.count == 0 || memcmp(entry.name.baseAddress!, name.baseAddress!, name.count) == 0) {
            return index
        }
        return nil
    }

    private func elementLabel(_ plan: DescriptionPlan, _ step: Step, _ i: Int) -> String {
        let name = plan.fields[step.fields.lowerBound].name
        return step.count > 1 ? "\(name)[\(i)]" : name
    }
}
