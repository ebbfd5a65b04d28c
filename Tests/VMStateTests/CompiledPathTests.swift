import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// The compiled steps on the paths real migrations take: saves with a vmdesc, registry saves
/// and loads, checked and transactional loads. They must run there (counted per description),
/// and give what the per-field path gives (bytes, vmdesc text, state, errors).
@Suite struct CompiledPathTests {
    // MARK: - helpers

    /// A save of `vmsd` from `opaque`: its bytes and the vmdesc text (an object around the
    /// description's keys), or the error.
    static func save(
        _ vmsd: UnsafePointer<VMStateDescription>, _ opaque: UnsafeMutableRawPointer, version: Int32? = nil,
        compiled: Bool, pretty: Bool = false
    ) -> String {
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        let file = MigrationFile(output: out)
        let writer = VMDescWriter(pretty: pretty)
        writer.startObject()
        do throws(VMStateError) {
            try VMStateEngine.save(
                file, vmsd, opaque, version: version ?? vmsd.pointee.version_id, vmdesc: writer,
                compiled: compiled)
        } catch {
            return "error: \(error.description)"
        }
        writer.endObject()
        let bytes = Array(UnsafeBufferPointer(start: out.pointee.data, count: Int(out.pointee.len)))
        return "\(bytes)\n\(writer.string)"
    }

    /// A copy of `vmsd` at a new address: the planner gives it a plan (and counters) of its own,
    /// which no other test uses.
    static func privateCopy(_ vmsd: UnsafePointer<VMStateDescription>) -> UnsafePointer<VMStateDescription> {
        let copy = UnsafeMutablePointer<VMStateDescription>.allocate(capacity: 1)
        copy.initialize(to: vmsd.pointee)
        return UnsafePointer(copy)  // kept: plans are cached for the life of the process
    }

    struct Counts: Equatable, CustomStringConvertible {
        var describedSaves = 0, checkedLoads = 0, interpretedSaves = 0, interpretedLoads = 0

        init(_ vmsd: UnsafePointer<VMStateDescription>) throws {
            let program = try #require(try Planner.plan(vmsd).program)
            let c = program.extras.pointee.counters.takeUnretainedValue()
            describedSaves = c.describedSaves.load(ordering: .relaxed)
            checkedLoads = c.checkedLoads.load(ordering: .relaxed)
            interpretedSaves = c.interpretedSaves.load(ordering: .relaxed)
            interpretedLoads = c.interpretedLoads.load(ordering: .relaxed)
        }

        static func - (a: Counts, b: Counts) -> Counts {
            var d = a
            d.describedSaves -= b.describedSaves
            d.checkedLoads -= b.checkedLoads
            d.interpretedSaves -= b.interpretedSaves
            d.interpretedLoads -= b.interpretedLoads
            return d
        }

        var description: String {
            "compiled: saves with vmdesc \(describedSaves), checked loads \(checkedLoads); "
                + "per-field saves \(interpretedSaves), per-field loads \(interpretedLoads)"
        }
    }

    /// What `body` adds to the counters of `vmsd`'s plan.
    static func counted(_ vmsd: UnsafePointer<VMStateDescription>, _ body: () throws -> Void) throws -> Counts {
        ProgramCounters.enabled.store(true, ordering: .relaxed)
        let before = try Counts(vmsd)
        try body()
        return try Counts(vmsd) - before
    }

    static func expectCounts(
        _ d: Counts, describedSaves: Int = 0, checkedLoads: Int = 0,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var expected = d
        expected.describedSaves = describedSaves
        expected.checkedLoads = checkedLoads
        expected.interpretedSaves = 0
        expected.interpretedLoads = 0
        #expect(d == expected, sourceLocation: sourceLocation)
    }

    // MARK: - the compiled steps run where real migrations go

    @Test func compiledStepsRunOnEveryPath() throws {
        let vmsd = Self.privateCopy(fp_dev_vmsd_ptr())
        var dev = FastPathTests.device(hasF: true, more: true, hasSub: true)
        let size = MemoryLayout<FpDev>.size
        try withUnsafeMutablePointer(to: &dev) { p in
            let opaque = UnsafeMutableRawPointer(p)
            // A plain save (compiled steps: no per-field save; not counted otherwise), and a save
            // with a vmdesc (vmstate_save_state with a JSONWriter).
            var plain: [UInt8] = []
            Self.expectCounts(try Self.counted(vmsd) { plain = try VMStateEngine.save(vmsd, opaque: opaque) })
            let json = json_writer_new(false)
            defer { json_writer_free(json) }
            json_writer_start_object(json, nil)
            let out = g_byte_array_new()!
            defer { g_byte_array_unref(out) }
            var r: Int32 = -1
            Self.expectCounts(
                try Self.counted(vmsd) {
                    let f = vmstate_file_new_output(out)
                    r = vmstate_save_state(f, vmsd, opaque, json)
                    _ = qemu_fclose(f)
                }, describedSaves: 1)
            #expect(r == 0)
            #expect(Array(UnsafeBufferPointer(start: out.pointee.data, count: Int(out.pointee.len))) == plain)

            // Unchecked (not counted but for the per-field path), checked and transactional loads.
            Self.expectCounts(try Self.counted(vmsd) { try VMStateEngine.load(vmsd, opaque: opaque, from: plain) })
            Self.expectCounts(
                try Self.counted(vmsd) {
                    try VMStateEngine.loadChecked(vmsd, opaque: opaque, size: size, from: plain)
                }, checkedLoads: 1)
            Self.expectCounts(
                try Self.counted(vmsd) {
                    try VMStateEngine.loadChecked(
                        vmsd, opaque: opaque, size: size, from: plain, options: .transactional)
                }, checkedLoads: 1)

            // A registry save (always with vmdesc) and loads (always checked), sized or not.
            for sized in [false, true] {
                let registry = Registry()
                try registry.add(idstr: "fp-dev", instanceID: 0, vmsd: vmsd, opaque: opaque, size: sized ? size : nil)
                var stream: [UInt8] = []
                Self.expectCounts(
                    try Self.counted(vmsd) { stream = try registry.save(machineType: "m") }, describedSaves: 1)
                Self.expectCounts(try Self.counted(vmsd) { try registry.load(stream) }, checkedLoads: 1)
                Self.expectCounts(
                    try Self.counted(vmsd) { try registry.load(stream, options: .transactional) },
                    checkedLoads: 1)
            }
        }
    }

    @Test func prettyVMDescTakesThePerFieldPathWithTheSameText() throws {
        let vmsd = Self.privateCopy(fp_dev_vmsd_ptr())
        var dev = FastPathTests.device(hasF: true, more: false, hasSub: true)
        try withUnsafeMutablePointer(to: &dev) { p in
            var pretty = ""
            let d = try Self.counted(vmsd) {
                pretty = Self.save(vmsd, UnsafeMutableRawPointer(p), compiled: true, pretty: true)
            }
            #expect(d.interpretedSaves == 1 && d.describedSaves == 0)
            #expect(pretty == Self.save(vmsd, UnsafeMutableRawPointer(p), compiled: false, pretty: true))
        }
    }

    // MARK: - same results as the per-field path

    @Test(arguments: [
        (true, true, true, Int32(3)), (false, false, false, 3), (true, false, true, 2), (false, true, false, 1),
    ])
    func vmdescTextIsThePerFieldPaths(hasF: Bool, more: Bool, hasSub: Bool, version: Int32) throws {
        var dev = FastPathTests.device(hasF: hasF, more: more, hasSub: hasSub)
        withUnsafeMutablePointer(to: &dev) { p in
            let vmsd = fp_dev_vmsd_ptr()!
            let fast = Self.save(vmsd, UnsafeMutableRawPointer(p), version: version, compiled: true)
            #expect(fast == Self.save(vmsd, UnsafeMutableRawPointer(p), version: version, compiled: false))
            #expect(!fast.hasPrefix("error"))
        }
    }

    @Test func vmdescTextOfEveryFixtureDeviceIsThePerFieldPaths() throws {
        var count = 0
        var fixtures = 0
        let all = hx_fixtures(&count)!
        for i in 0..<count {
            for sample in [false, true] {
                let fx = all + i
                let opaque = hx_create(fx, sample)!
                defer { hx_destroy(fx, opaque) }
                let fast = Self.save(fx.pointee.vmsd, opaque, compiled: true)
                #expect(
                    fast == Self.save(fx.pointee.vmsd, opaque, compiled: false), "\(String(cString: fx.pointee.name))")
                fixtures += 1
            }
        }
        var list = pc_device_vmsd_list()!
        while let vmsd = list.pointee {
            let state = pc_device_state_new(vmsd)!
            defer { g_free(state) }
            let fast = Self.save(vmsd, state, compiled: true)
            #expect(fast == Self.save(vmsd, state, compiled: false), "\(String(cString: vmsd.pointee.name))")
            #expect(!fast.hasPrefix("error"), "\(String(cString: vmsd.pointee.name)): \(fast)")
            list += 1
            fixtures += 1
        }
        #expect(fixtures > 20)
    }

    /// A checked (and transactional) load of every prefix of every fixture device's sample
    /// stream: the compiled steps and the per-field path end the same way, with the same state
    /// (the same bytes and vmdesc when saved again).
    @Test(arguments: [false, true])
    func checkedLoadsOfEveryPrefixAreThePerFieldPaths(transactional: Bool) throws {
        var count = 0
        let all = hx_fixtures(&count)!
        for i in 0..<count {
            let fx = all + i
            let name = String(cString: fx.pointee.name)
            let source = hx_create(fx, name != "hx-ptr")!
            defer { hx_destroy(fx, source) }
            let stream = try VMStateEngine.save(fx.pointee.vmsd, opaque: source)
            for length in 0...stream.count {
                // The state compared by what it saves (the structs hold pointers, which differ).
                func load(compiled: Bool) -> (String, String) {
                    let target = hx_create(fx, false)!
                    defer { hx_destroy(fx, target) }
                    let bytes = Array(stream[0..<length])
                    let gbytes = bytes.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }!
                    defer { g_bytes_unref(gbytes) }
                    let file = MigrationFile(input: gbytes)
                    let loadGuard = LoadGuard(transactional: transactional)
                    try! loadGuard.addStruct(target, size: fx.pointee.size)
                    var outcome = "ok"
                    do throws(VMStateError) {
                        try loadGuard.run { () throws(VMStateError) in
                            try VMStateEngine.load(
                                file, fx.pointee.vmsd, target, version: fx.pointee.vmsd.pointee.version_id,
                                guard: loadGuard, compiled: compiled)
                            try VMStateEngine.expectEnd(file)
                        }
                    } catch {
                        outcome = error.description
                    }
                    return (outcome, Self.save(fx.pointee.vmsd, target, compiled: false))
                }
                let fast = load(compiled: true)
                let slow = load(compiled: false)
                #expect(fast.0 == slow.0, "\(name), \(length) of \(stream.count) bytes")
                #expect(fast.1 == slow.1, "\(name), \(length) of \(stream.count) bytes: state differs; \(fast.0)")
            }
        }
    }

    // MARK: - inside a counted field

    /// The spans a run writes on load (`StepExtra.written`), which a checked load inside a
    /// field whose count comes from the struct records instead of going field by field: each
    /// scalar's bytes, a fixed array of flat structs expanded element by element, touching
    /// spans joined; none (the per-field path) past `Program.recordLimit` spans.
    @Test func runsKnowTheSpansTheyWrite() throws {
        func spans(_ plan: DescriptionPlan) throws -> [Range<Int>]? {
            let program = try #require(plan.program)
            #expect(program.steps.count >= 1 && program.steps[0].kind == .run)
            let extra = program.extras.pointee.steps[0]
            return extra.written.map { Array(program.extras.pointee.written[$0]) }
        }
        func element(_ vmsd: UnsafePointer<VMStateDescription>) throws -> DescriptionPlan {
            guard case .structure(let nested) = try Planner.plan(vmsd).fields[1].op else {
                Issue.record("field 1 is not a struct array")
                throw VMStateError(.invalidTable, reason: "test")
            }
            return nested
        }
        #expect(MemoryLayout<EngCountedElem>.size == 40 && MemoryLayout<EngCountedElem>.offset(of: \.w) == 24)
        // tag; pairs[0].a, .b, pairs[1].a (touching), .b; w. (The TIMER_PTR is a step of its own.)
        let elem = try element(eng_vmsd_counted())
        #expect(try spans(elem) == [0..<2, 4..<5, 8..<13, 16..<20, 24..<32])
        #expect(elem.program?.steps.count == 2)
        // The pair alone: a, then b after 3 bytes of padding.
        guard case .structure(let pair) = elem.fields[1].op else { throw VMStateError(.invalidTable, reason: "test") }
        #expect(try spans(pair) == [0..<1, 4..<8])
        // 70 pairs: 71 spans (each b touches the next pair's a), more than a run records.
        #expect(Program.recordLimit == 64)
        #expect(try spans(try element(eng_vmsd_counted_wide())) == nil)
        // The same 70 pairs as the one element of a fixed struct array: none either.
        #expect(try spans(try element(eng_vmsd_counted_nest())) == nil)
        // A struct array whose elements cover their stride is one span.
        let table = try #require(try Planner.plan(eng_vmsd_planted()).program)
        #expect(table.steps[0].kind == .run)
        #expect(table.extras.pointee.steps[0].written.map { Array(table.extras.pointee.written[$0]) } == [0..<8])
    }

    /// A checked load inside a counted field, by the compiled steps (recording the spans each
    /// run writes) and by the per-field path (recording each field), gives the same outcome,
    /// the same struct bytes and the same timers, for every prefix of a stream with a count in
    /// range and of one whose count runs past the array onto the pointer `target` (refused,
    /// naming the counted field; the element's own timer pointer, which the stream did not
    /// write, is followed). For a run that records its spans and for ones that go field by
    /// field (`eng-counted-wide`, `eng-counted-nest`).
    @Test(arguments: [false, true])
    func countedFieldsRecordWhatTheCompiledStepsWrite(transactional: Bool) throws {
        let victim = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        let own = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        let timers = (0..<3).map { _ in newTimer(expire: nil) }
        defer { victim.deallocate(); own.deallocate(); timers.forEach { $0.deallocate() } }
        let address = UInt64(UInt(bitPattern: victim))

        struct Case {
            let vmsd: UnsafePointer<VMStateDescription>
            let size: Int
            let reset: (UnsafeMutableRawPointer) -> Void
            let streams: [[UInt8]]
            let refusedAt: Int
        }
        func counted(_ n: UInt32, _ w: [UInt64]) -> [UInt8] {
            var wire = be32(n)
            for (i, value) in w.enumerated() {
                let k = UInt8(i + 1)
                wire += [0, k] + [k] + be32(UInt32(k) << 8) + [k | 0x10] + be32(UInt32(k) << 16) + be64(value)
                wire += bigEndian64(Int64(i) * 100 + 7)  // the timer's expire time
            }
            return wire + [0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A]
        }
        func wide(_ n: UInt32, planted: Bool) -> [UInt8] {
            var wire = be32(n)
            for i in 0..<Int(n) {
                for k in 0..<70 {
                    let b = planted && i == 2 && k == 1 ? UInt32(truncatingIfNeeded: address) : UInt32(i * 70 + k)
                    wire += [UInt8(truncatingIfNeeded: k)] + be32(b)
                }
            }
            return wire + [0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A]
        }
        // The 70-pair layouts: zeroed but for `target`.
        func wideCase<T>(
            _ vmsd: UnsafePointer<VMStateDescription>, _ empty: T,
            target: WritableKeyPath<T, UnsafeMutablePointer<UInt64>?>
        ) -> Case {
            Case(
                vmsd: vmsd, size: MemoryLayout<T>.size,
                reset: { raw in
                    let d = raw.assumingMemoryBound(to: T.self)
                    d.initialize(to: empty)
                    d.pointee[keyPath: target] = own
                },
                streams: [wide(2, planted: false), wide(3, planted: true)], refusedAt: 4 + 3 * 350)
        }
        #expect(
            MemoryLayout<EngCounted>.offset(of: \.target) == 8 + 2 * 40 + 24 && MemoryLayout<EngCounted>.size == 128)
        #expect(MemoryLayout<EngCountedWide>.offset(of: \.target) == 4 + 3 * 560 - 560 + 12)
        #expect(MemoryLayout<EngCountedNest>.offset(of: \.target) == MemoryLayout<EngCountedWide>.offset(of: \.target))
        let cases = [
            Case(
                vmsd: eng_vmsd_counted(), size: MemoryLayout<EngCounted>.size,
                reset: { raw in
                    let d = raw.assumingMemoryBound(to: EngCounted.self)
                    d.initialize(to: EngCounted())
                    d.pointee.e.0.t = timers[0]
                    d.pointee.e.1.t = timers[1]
                    d.pointee.spare = timers[2]
                    d.pointee.target = own
                },
                streams: [counted(2, [0x1111, 0x2222]), counted(3, [0x1111, 0x2222, address])], refusedAt: 4 + 3 * 28),
            wideCase(eng_vmsd_counted_wide(), EngCountedWide(), target: \.target),
            wideCase(eng_vmsd_counted_nest(), EngCountedNest(), target: \.target),
        ]
        let options: VMStateEngine.LoadOptions = transactional ? .transactional : []
        for c in cases {
            let name = String(cString: c.vmsd.pointee.name)
            let raw = UnsafeMutableRawPointer.allocate(byteCount: c.size, alignment: 16)
            defer { raw.deallocate() }
            // The outcome, the struct's bytes and the timers' expire times after one load.
            func load(_ bytes: [UInt8], compiled: Bool) -> (String, [UInt8], [Int64]) {
                c.reset(raw)
                victim.pointee = 0x7777
                own.pointee = 0x1111
                for t in timers { t.pointee.expire_time = -1 }
                let gbytes = bytes.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }!
                defer { g_bytes_unref(gbytes) }
                let file = MigrationFile(input: gbytes)
                let loadGuard = LoadGuard(transactional: transactional)
                try! loadGuard.addStruct(raw, size: c.size)
                var outcome = "ok"
                do throws(VMStateError) {
                    try loadGuard.run { () throws(VMStateError) in
                        try VMStateEngine.load(
                            file, c.vmsd, raw, version: 1, guard: loadGuard, compiled: compiled)
                        try VMStateEngine.expectEnd(file)
                    }
                } catch {
                    outcome = error.description
                }
                #expect(victim.pointee == 0x7777, "\(name): written through the planted pointer")
                return (
                    outcome, Array(UnsafeRawBufferPointer(start: raw, count: c.size)), timers.map(\.pointee.expire_time)
                )
            }
            for (index, stream) in c.streams.enumerated() {
                // The whole stream, through the public API as well.
                c.reset(raw)
                let e = thrownError(VMStateError.self) {
                    try VMStateEngine.loadChecked(c.vmsd, opaque: raw, size: c.size, from: stream, options: options)
                }
                if index == 0 {
                    #expect(e == nil, "\(name): \(String(describing: e))")
                    #expect(own.pointee == 0x5A5A_5A5A_5A5A_5A5A)
                } else {
                    #expect(e?.kind == .boundExceeded && e?.path == "\(name)/target" && e?.offset == c.refusedAt)
                    #expect(
                        e?.reason.hasPrefix(
                            "refusing to write through a pointer that field \"e\" of this load wrote over")
                            == true, "\(String(describing: e))")
                }
                if name == "eng-counted" && (index == 0 || !transactional) {
                    // Each element's timer loaded, e[2]'s through `spare` (a rollback puts them back).
                    #expect(
                        timers.prefix(index + 2).map(\.pointee.expire_time) == Array([7, 107, 207].prefix(index + 2)))
                }
                for length in 0...stream.count {
                    let prefix = Array(stream[0..<length])
                    let fast = load(prefix, compiled: true)
                    let slow = load(prefix, compiled: false)
                    #expect(fast.0 == slow.0, "\(name) stream \(index), \(length) of \(stream.count) bytes")
                    #expect(fast.1 == slow.1, "\(name) stream \(index), \(length) bytes: state differs; \(fast.0)")
                    #expect(fast.2 == slow.2, "\(name) stream \(index), \(length) bytes: timers differ")
                }
            }
        }
    }

    /// A tested array described element by element whose text would pass
    /// `VMDescText.limit`: the step keeps no text, the per-field path describes it, and the
    /// result is the same.
    @Test func longElementByElementTextIsLeftToThePerFieldPath() throws {
        let count = 20000
        let fields = UnsafeMutablePointer<VMStateField>.allocate(capacity: 2)
        fields.initialize(repeating: VMStateField(), count: 2)
        fields[0].name = UnsafePointer(g_strdup("bytes"))
        fields[0].size = 1
        fields[0].num = Int32(count)
        fields[0].info = vmstate_std_info(Int32(VMSTATE_STD_UINT8.rawValue))
        fields[0].flags = VMS_ARRAY
        fields[0].field_exists = { _, _ in true }
        let vmsd = processLifetimeDescription("long-tested-array", fields: fields)
        let program = try #require(try Planner.plan(vmsd).program)
        #expect(program.steps.count == 1 && program.steps[0].kind == .tested)
        #expect(program.extras.pointee.steps[0].desc == nil)

        let opaque = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 8)
        defer { opaque.deallocate() }
        for i in 0..<count { opaque.storeBytes(of: UInt8(truncatingIfNeeded: i), toByteOffset: i, as: UInt8.self) }
        let fast = Self.save(vmsd, opaque, compiled: true)
        #expect(fast == Self.save(vmsd, opaque, compiled: false))
        #expect(fast.contains("{\"name\": \"bytes\", \"index\": 19999, \"type\": \"uint8\", \"size\": 1}]}"))
    }

    // MARK: - regions end where they end

    /// A description of one uint32 at offset 0 (a 4-byte device).
    nonisolated(unsafe) static let word: UnsafePointer<VMStateDescription> = {
        let fields = UnsafeMutablePointer<VMStateField>.allocate(capacity: 2)
        fields.initialize(repeating: VMStateField(), count: 2)
        fields[0].name = UnsafePointer(g_strdup("v"))
        fields[0].size = 4
        fields[0].info = vmstate_std_info(Int32(VMSTATE_STD_UINT32.rawValue))
        fields[0].flags = VMS_SINGLE
        let vmsd = processLifetimeDescription("adjacent-word", fields: fields)
        return UnsafePointer(vmsd)
    }()

    /// The issue's case: a 4-byte device struct right after a 4096-byte RAM block, registered
    /// through the C API without a size, loads (it was refused as "4 bytes at offset 4096 of a
    /// 4096-byte region").
    @Test(arguments: [false, true])
    func deviceRightAfterARAMBlockLoads(sized: Bool) throws {
        func machine(_ memory: UnsafeMutableRawPointer) -> OpaquePointer {
            let reg = vmstate_registry_new()!
            var error: UnsafeMutablePointer<GError>? = nil
            #expect(vmstate_registry_add_ram(reg, "pc.ram", memory, 4096, &error))
            if sized {
                #expect(vmstate_registry_add_sized(reg, "word", 0, Self.word, memory + 4096, 4, &error))
            } else {
                #expect(vmstate_registry_add(reg, "word", 0, Self.word, memory + 4096, &error))
            }
            return reg
        }
        let source = UnsafeMutableRawPointer.allocate(byteCount: 4096 + 4, alignment: 4096)
        let target = UnsafeMutableRawPointer.allocate(byteCount: 4096 + 4, alignment: 4096)
        defer {
            source.deallocate()
            target.deallocate()
        }
        for i in 0..<4096 {
            source.storeBytes(of: UInt8(truncatingIfNeeded: i * 7 + 1), toByteOffset: i, as: UInt8.self)
        }
        (source + 4096).storeBytes(of: 0xDEAD_BEEF as UInt32, as: UInt32.self)
        target.initializeMemory(as: UInt8.self, repeating: 0, count: 4096 + 4)

        let saver = machine(source)
        let loader = machine(target)
        defer {
            vmstate_registry_free(saver)
            vmstate_registry_free(loader)
        }
        var error: UnsafeMutablePointer<GError>? = nil
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        #expect(vmstate_registry_save(saver, "m", out, &error))
        let stream = g_bytes_new(out.pointee.data, gsize(out.pointee.len))!
        defer { g_bytes_unref(stream) }
        for flags in [UInt32(0), UInt32(VMSTATE_LOAD_TRANSACTIONAL)] {
            let loaded = vmstate_registry_load(loader, stream, flags, &error)
            #expect(loaded, "\(error.map { String(cString: $0.pointee.message) } ?? "")")
            if let e = error {
                g_error_free(e)
                error = nil
            }
            #expect((target + 4096).load(as: UInt32.self) == 0xDEAD_BEEF)
            #expect(memcmp(source, target, 4096) == 0)
        }
    }

    /// Two sized devices back to back in one allocation: each loads into its own struct.
    @Test func sizedStructsBackToBackLoad() throws {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
        defer { memory.deallocate() }
        memory.storeBytes(of: 0x1111_1111 as UInt32, as: UInt32.self)
        (memory + 4).storeBytes(of: 0x2222_2222 as UInt32, as: UInt32.self)
        let registry = Registry()
        try registry.add(idstr: "first", instanceID: 0, vmsd: Self.word, opaque: memory, size: 4)
        try registry.add(idstr: "second", instanceID: 0, vmsd: Self.word, opaque: memory + 4, size: 4)
        let stream = try registry.save(machineType: "m")
        memory.storeBytes(of: 0 as UInt64, as: UInt64.self)
        try registry.load(stream, options: .transactional)
        #expect(memory.load(as: UInt32.self) == 0x1111_1111 && (memory + 4).load(as: UInt32.self) == 0x2222_2222)
    }

    /// A description named `name` of `count` uint32 fields `v0`, `v1`, ... at offsets 0, 4, ...
    static func words(_ name: String, _ count: Int) -> UnsafePointer<VMStateDescription> {
        let fields = UnsafeMutablePointer<VMStateField>.allocate(capacity: count + 1)
        fields.initialize(repeating: VMStateField(), count: count + 1)
        for i in 0..<count {
            fields[i].name = UnsafePointer(g_strdup("v\(i)"))
            fields[i].offset = 4 * i
            fields[i].size = 4
            fields[i].info = vmstate_std_info(Int32(VMSTATE_STD_UINT32.rawValue))
            fields[i].flags = VMS_SINGLE
        }
        let vmsd = processLifetimeDescription(name, fields: fields)
        return UnsafePointer(vmsd)
    }

    nonisolated(unsafe) static let fourWords = words("four-words", 4)

    /// QEMU saves the `CPUState` at the start of an `X86CPU` as section "cpu_common" and the
    /// whole `X86CPU` as "cpu": two sized structs at one address. Each section is bounded by its
    /// own struct, whichever was added last (the last added bounded both, and "cpu"'s fields past
    /// the 4 bytes of "cpu_common" were refused when "cpu_common" came second).
    @Test(arguments: [false, true])
    func structsAtOneAddressAreEachBoundedByTheirOwn(commonFirst: Bool) throws {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        defer { memory.deallocate() }
        let words = memory.bindMemory(to: UInt32.self, capacity: 16)
        let registry = Registry()
        func addCommon() throws {
            try registry.add(idstr: "cpu_common", instanceID: 0, vmsd: Self.word, opaque: memory, size: 4)
        }
        if commonFirst { try addCommon() }
        try registry.add(idstr: "cpu", instanceID: 0, vmsd: Self.fourWords, opaque: memory, size: 16)
        if !commonFirst { try addCommon() }
        for i in 0..<4 { words[i] = 0x1000 + UInt32(i) }
        let stream = try registry.save(machineType: "m")
        for options in [Registry.LoadOptions(), .transactional] {
            memset(memory, 0, 16)
            try registry.load(stream, options: options)
            #expect((0..<4).map { words[$0] } == [0x1000, 0x1001, 0x1002, 0x1003])
        }

        // A struct smaller than its fields is refused when added, though a larger struct added
        // before it holds the same bytes (each section is bounded by its own).
        let small = Registry()
        try small.add(idstr: "outer", instanceID: 0, vmsd: Self.word, opaque: memory, size: 64)
        let e = engineError {
            try small.add(idstr: "cpu", instanceID: 0, vmsd: Self.fourWords, opaque: memory, size: 12)
        }
        #expect(e?.kind == .failed)
        #expect(
            e?.description
                == "cpu: the struct's size is smaller than its description's fields need: field \"four-words/v3\" ends at byte 16; expected at least 16 bytes, got 12 (at byte 0)"
        )
    }

    /// Many engine allocations, some released and some freed back to a mark: the guard finds
    /// the one holding an owner (GLib's tree by address) as a plain search of the live ones
    /// does, for owners inside, at the edges of and just outside blocks live and gone; after
    /// `commit` it finds none.
    @Test func manyAllocationsAnswerAsAPlainSearch() throws {
        let loadGuard = LoadGuard(transactional: false)
        var rng = StreamMutationTests.SplitMix(state: 9)
        var live: [(start: Int, size: Int)] = []
        var gone: [(start: Int, size: Int)] = []
        for _ in 0..<3000 {
            let size = Int.random(in: 1...200, using: &rng)
            let p = try #require(loadGuard.allocate(size))
            live.append((Int(bitPattern: p), size))
        }
        for _ in 0..<500 {
            let i = Int.random(in: 0..<live.count, using: &rng)
            loadGuard.release(try #require(UnsafeMutableRawPointer(bitPattern: live[i].start)))
            gone.append(live.remove(at: i))
        }
        let mark = loadGuard.mark
        for _ in 0..<400 {
            let size = Int.random(in: 1...200, using: &rng)
            let p = try #require(loadGuard.allocate(size))
            live.append((Int(bitPattern: p), size))
        }
        loadGuard.freeAllocations(since: mark)
        gone += live.suffix(400)
        live.removeLast(400)

        func expectPlainAnswers() {
            var mismatches = 0
            for _ in 0..<5_000 {
                let blocks = Bool.random(using: &rng) || gone.isEmpty ? live : gone
                guard let block = blocks.randomElement(using: &rng) else { break }
                let owner = block.start + Int.random(in: -8...(block.size + 8), using: &rng)
                let length = Int.random(in: 0...16, using: &rng)
                let plain = live.first { $0.start <= owner && owner < $0.start + $0.size }.flatMap { r in
                    owner + length <= r.start + r.size
                        ? nil : "\(length) bytes at offset \(owner - r.start) of a \(r.size)-byte region"
                }
                let p = UnsafeMutableRawPointer(bitPattern: owner)!
                if loadGuard.check(p, length, owner: p) != plain {
                    mismatches += 1
                    if mismatches <= 5 {
                        Issue.record("owner \(owner) length \(length): plainly \(String(describing: plain))")
                    }
                }
            }
            #expect(mismatches == 0)
        }
        expectPlainAnswers()
        loadGuard.commit()
        let handedOver = live
        gone += live
        live = []
        expectPlainAnswers()
        // A block allocated after the commit is the only one found.
        let size = 48
        let last = try #require(loadGuard.allocate(size))
        live = [(Int(bitPattern: last), size)]
        expectPlainAnswers()
        loadGuard.freeAllocations(since: 0)
        for block in handedOver { g_free(UnsafeMutableRawPointer(bitPattern: block.start)) }
    }

    /// A registry of 4,096 sized devices, their structs back to back in one allocation and
    /// registered in a shuffled order: a load puts each one's word back into its own struct,
    /// transactional or not, and a stream whose section of one of them is cut short restores
    /// them all under TRANSACTIONAL.
    @Test func manySizedDevicesLoadEachIntoItsOwnStruct() throws {
        let count = 4096
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 4 * count, alignment: 8)
        defer { memory.deallocate() }
        let words = memory.bindMemory(to: UInt32.self, capacity: count)
        let registry = Registry()
        var rng = StreamMutationTests.SplitMix(state: 7)
        let order = (0..<count).shuffled(using: &rng)
        for i in order {
            words[i] = 0x5000_0000 | UInt32(i)
            try registry.add(idstr: "word", instanceID: UInt32(i), vmsd: Self.word, opaque: memory + 4 * i, size: 4)
        }
        let stream = try registry.save(machineType: "m")
        for options in [Registry.LoadOptions(), .transactional] {
            memset(memory, 0, 4 * count)
            try registry.load(stream, options: options)
            #expect((0..<count).allSatisfy { words[$0] == 0x5000_0000 | UInt32($0) })
        }
        // Cut in the last section's word (the device registered last; before its 5-byte footer
        // and the EOF byte before the vmdesc's 0x06): every struct is put back as it was.
        let marker = try #require(stream.withUnsafeBytes { VMDescRecord.locateAtEnd($0) }).markerOffset
        let lastWord = marker - 1 - 5 - 4
        for i in 0..<count { words[i] = 0xAAAA_0000 | UInt32(i) }
        let e = engineError { try registry.load(Array(stream[..<(lastWord + 2)]), options: .transactional) }
        #expect(e?.reason.hasPrefix("section \"word\" instance \(order[count - 1]): ") == true)
        #expect((0..<count).allSatisfy { words[$0] == 0xAAAA_0000 | UInt32($0) })
    }

    /// A 4-byte field in a struct too small for it: refused at the struct's end, by the
    /// compiled steps and the per-field path alike.
    @Test(arguments: [true, false])
    func structSmallerThanItsFieldIsRefused(compiled: Bool) throws {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
        defer { memory.deallocate() }
        let bytes: [UInt8] = [1, 2, 3, 4]
        let gbytes = bytes.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }!
        defer { g_bytes_unref(gbytes) }
        let loadGuard = LoadGuard(transactional: false)
        try loadGuard.addStruct(memory, size: 3)
        do {
            try VMStateEngine.load(
                MigrationFile(input: gbytes), Self.word, memory, version: 1, guard: loadGuard,
                compiled: compiled)
            Issue.record("the load unexpectedly succeeded")
        } catch {
            #expect(error.kind == .boundExceeded && error.path == "adjacent-word/v")
            #expect(
                error.reason == "the field would be written outside its struct: 4 bytes at offset 0 of a 3-byte region")
        }
    }

    /// Both edges of each kind of region: the last byte is inside, the end is outside (and
    /// belongs to whatever begins there).
    @Test(arguments: ["struct", "ram", "allocation"])
    func regionEdges(kind: String) throws {
        let loadGuard = LoadGuard(transactional: false)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
        defer { buffer.deallocate() }
        let start: UnsafeMutableRawPointer
        switch kind {
        case "struct":
            start = buffer
            try loadGuard.addStruct(start, size: 32)
        case "ram":
            start = buffer
            loadGuard.addRegion(start, size: 32)
        default:
            start = try #require(loadGuard.allocate(32))
        }
        defer { if kind == "allocation" { loadGuard.freeAllocations(since: 0) } }
        let end = start + 32

        // Inside: from the first byte to the last.
        #expect(loadGuard.check(start, 32, owner: start) == nil)
        #expect(loadGuard.check(start + 31, 1, owner: start) == nil)
        #expect(loadGuard.check(start + 31, 1, owner: start + 31) == nil)
        #expect(loadGuard.allows(start, 0, 32))
        #expect(loadGuard.allows(start + 31, 0, 1))
        // One past the last byte, from an owner inside: refused.
        #expect(loadGuard.check(start + 31, 2, owner: start) == "2 bytes at offset 31 of a 32-byte region")
        #expect(loadGuard.check(end, 1, owner: start) == "1 bytes at offset 32 of a 32-byte region")
        #expect(!loadGuard.allows(start, 0, 33))
        #expect(!loadGuard.allows(start + 31, 0, 2))
        // An owner at the end is not in the region: memory nobody registered is not bounded ...
        #expect(loadGuard.check(end, 4, owner: end) == nil)
        #expect(loadGuard.allows(end, 0, 4))
        // ... and a region that begins there bounds it by itself.
        if kind != "allocation" {
            try loadGuard.addStruct(end, size: 4)
            #expect(loadGuard.check(end, 4, owner: end) == nil)
            #expect(loadGuard.check(end, 5, owner: end) == "5 bytes at offset 0 of a 4-byte region")
            #expect(loadGuard.allows(end, 0, 4))
            #expect(!loadGuard.allows(end, 0, 5))
        }
        // Before the first byte: not in the region; a run from there that reaches into a
        // caller region is checked field by field.
        if kind != "allocation" {
            #expect(loadGuard.check(start - 4, 4, owner: start - 4) == nil)
            #expect(loadGuard.allows(start - 4, 0, 4))
            #expect(!loadGuard.allows(start - 4, 0, 5))
        }
    }

    /// Many caller regions (a registry of many sized devices): the guard finds them by a
    /// binary search. Its answers equal a plain search of the regions as added (the struct of
    /// the device loading first, then the last added that holds the owner) for every query of a
    /// fixed random set: regions side by side, then over each other, with and without a device
    /// loading.
    @Test func manyRegionsAnswerAsAPlainSearch() throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 8192, alignment: 16)
        defer { buffer.deallocate() }
        // Regions of 1 to 48 bytes with gaps of 0 to 16, added shuffled.
        var rng = StreamMutationTests.SplitMix(state: 42)
        var layout: [(offset: Int, size: Int)] = []
        var offset = 8
        while offset < 7900 {
            let size = Int.random(in: 1...48, using: &rng)
            layout.append((offset, size))
            offset += size + Int.random(in: 0...16, using: &rng)
        }
        layout.shuffle(using: &rng)
        let loadGuard = LoadGuard(transactional: false)
        var added: [(start: Int, end: Int)] = []
        for (i, region) in layout.enumerated() {
            if i % 2 == 0 {
                try loadGuard.addStruct(buffer + region.offset, size: region.size)
            } else {
                loadGuard.addRegion(buffer + region.offset, size: region.size)
            }
            added.append((region.offset, region.offset + region.size))
        }

        // The struct of the device loading, when set, bounds what it holds before the others.
        var current: (start: Int, end: Int)?
        func expectPlainAnswers(_ queries: Int) {
            var mismatches = 0
            for _ in 0..<queries {
                let owner = Int.random(in: 0..<8192, using: &rng)
                let start = owner + Int.random(in: -4...8, using: &rng)
                let length = Int.random(in: 0...40, using: &rng)
                // The plain search: the current struct, then the last region added that holds
                // the owner.
                func holding(_ a: Int) -> (start: Int, end: Int)? {
                    if let c = current, c.start <= a && a < c.end { return c }
                    return added.last { $0.start <= a && a < $0.end }
                }
                let plainCheck: String? = holding(owner).flatMap { r in
                    start >= r.start && start <= r.end && length <= r.end - start
                        ? nil : "\(length) bytes at offset \(start - r.start) of a \(r.end - r.start)-byte region"
                }
                let lower = Int.random(in: -8...8, using: &rng)
                let upper = lower + Int.random(in: 0...40, using: &rng)
                let lo = owner + lower
                let hi = owner + upper
                let plainAllows: Bool
                if let r = holding(owner) {
                    plainAllows = lower >= 0 && lo >= r.start && hi <= r.end
                } else {
                    plainAllows = lower >= 0 && !added.contains { $0.start < hi && lo < $0.end }
                }
                guard start >= 0, start + length <= 8192, lo >= 0, hi <= 8192 else { continue }
                let check = loadGuard.check(buffer + start, length, owner: buffer + owner)
                let allows = loadGuard.allows(buffer + owner, lower, upper)
                if check != plainCheck || allows != plainAllows {
                    mismatches += 1
                    if mismatches <= 5 {
                        let what =
                            "owner \(owner) start \(start) length \(length): \(String(describing: check)), "
                            + "plainly \(String(describing: plainCheck)); allows \(lower)..<\(upper): \(allows), "
                            + "plainly \(plainAllows)"
                        Issue.record("\(what)")
                    }
                }
            }
            #expect(mismatches == 0)
        }
        expectPlainAnswers(20_000)
        // The regions are disjoint: a write past one's end is refused though the next begins
        // there.
        let first = try #require(layout.filter { $0.size > 0 }.min { $0.offset < $1.offset })
        #expect(
            loadGuard.check(buffer + first.offset, first.size + 1, owner: buffer + first.offset)
                == "\(first.size + 1) bytes at offset 0 of a \(first.size)-byte region")
        // A region over many others, then one inside it: the last added that holds an address
        // bounds it.
        loadGuard.addRegion(buffer + 1000, size: 3000)
        added.append((1000, 4000))
        try loadGuard.addStruct(buffer + 2000, size: 8)
        added.append((2000, 2008))
        #expect(loadGuard.check(buffer + 1500, 100, owner: buffer + 1500) == nil)
        #expect(loadGuard.check(buffer + 2000, 9, owner: buffer + 2000) == "9 bytes at offset 0 of a 8-byte region")
        expectPlainAnswers(20_000)
        // Many regions over each other, of 1 to 600 bytes anywhere.
        for i in 0..<400 {
            let start = Int.random(in: 0..<8000, using: &rng)
            let size = Int.random(in: 1...min(600, 8192 - start), using: &rng)
            if i % 2 == 0 {
                try loadGuard.addStruct(buffer + start, size: size)
            } else {
                loadGuard.addRegion(buffer + start, size: size)
            }
            added.append((start, start + size))
        }
        expectPlainAnswers(20_000)
        // The struct of a device loading bounds its bytes, whatever was added after it.
        let (cStart, cEnd) = added[added.count - 300]
        loadGuard.loading(buffer + cStart, size: cEnd - cStart)
        current = (cStart, cEnd)
        #expect(
            loadGuard.check(buffer + cStart, cEnd - cStart + 1, owner: buffer + cStart)
                == "\(cEnd - cStart + 1) bytes at offset 0 of a \(cEnd - cStart)-byte region")
        expectPlainAnswers(20_000)
        loadGuard.loading(nil, size: nil)
        current = nil
        expectPlainAnswers(5_000)
    }
}
