import CFixtures
import CVMState
import Testing

@testable import VMState

/// The compiled steps (saves without vmdesc, loads without a load guard) against the per-field
/// path on a device with every kind of step: same bytes, same state, same errors.
@Suite struct FastPathTests {
    static func device(hasF: Bool, more: Bool, hasSub: Bool) -> FpDev {
        var d = FpDev()
        d.a = 0x1122_3344
        d.b = 0x5566
        d.c = true
        d.d = (0x0102_0304_0506_0708, 0x1112_1314_1516_1718, 0x2122_2324_2526_2728)
        d.e = (1, 2, 3, 4, 5)
        d.f = -7
        d.has_f = hasF
        d.g.0 = FpItem(x: 0xA1, y: true, z: (0xA2, 0xA3))
        d.g.1 = FpItem(x: 0xB1, y: false, z: (0xB2, 0xB3))
        d.g.2 = FpItem(x: 0xC1, y: true, z: (0xC2, 0xC3))
        d.h.0.v = 0xD0
        d.h.0.w = 0xD1D2
        d.h.0.more = more
        d.h.0.inner = (FpItem(x: 0xD3, y: true, z: (1, 2)), FpItem(x: 0xD4, y: false, z: (3, 4)))
        d.h.1.v = 0xE0
        d.h.1.w = 0xE1E2
        d.h.1.more = !more
        d.late = 0xF00D
        d.n = 3
        d.var = (10, 20, 30, 40)
        d.s = 0xABCD
        d.has_sub = hasSub
        return d
    }

    nonisolated(unsafe) static let vmsd = fp_dev_vmsd_ptr()!

    /// Saves at `version` with the compiled steps and with the per-field path (without and
    /// with vmdesc); all three must be equal.
    static func saveBoth(_ dev: inout FpDev, version: Int32) throws -> (fast: [UInt8], slow: [UInt8]) {
        func save(compiled: Bool, describe: Bool) throws -> [UInt8] {
            let out = g_byte_array_new()!
            defer { g_byte_array_unref(out) }
            let file = MigrationFile(output: out)
            let writer = describe ? VMDescWriter() : nil
            writer?.startObject()
            try withUnsafeMutablePointer(to: &dev) {
                try VMStateEngine.save(
                    file, vmsd, UnsafeMutableRawPointer($0), version: version, vmdesc: writer,
                    compiled: compiled)
            }
            return Array(UnsafeBufferPointer(start: out.pointee.data, count: Int(out.pointee.len)))
        }
        let slow = try save(compiled: false, describe: false)
        #expect(try save(compiled: false, describe: true) == slow)
        return (try save(compiled: true, describe: false), slow)
    }

    static func bytes(of dev: FpDev) -> [UInt8] {
        withUnsafeBytes(of: dev) { Array($0) }
    }

    /// Loads `input` (all of it) into a copy of `start` with the compiled steps and with the
    /// per-field path.
    static func loadBoth(_ input: [UInt8], into start: FpDev, version: Int32)
        -> (fast: Result<Void, VMStateError>, slow: Result<Void, VMStateError>, fastState: [UInt8], slowState: [UInt8])
    {
        func load(_ dev: inout FpDev, compiled: Bool) -> Result<Void, VMStateError> {
            let gbytes = input.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }!
            defer { g_bytes_unref(gbytes) }
            let file = MigrationFile(input: gbytes)
            return withUnsafeMutablePointer(to: &dev) { p in
                Result { () throws(VMStateError) in
                    try VMStateEngine.load(file, vmsd, UnsafeMutableRawPointer(p), version: version, compiled: compiled)
                    try VMStateEngine.expectEnd(file)
                }
            }
        }
        var fast = start, slow = start
        let fastResult = load(&fast, compiled: true)
        let slowResult = load(&slow, compiled: false)
        return (fastResult, slowResult, bytes(of: fast), bytes(of: slow))
    }

    @Test(arguments: [
        (true, true, true, Int32(3)), (false, false, false, Int32(3)), (true, false, true, Int32(2)),
        (false, true, false, Int32(1)),
    ])
    func sameBytesStateAndErrors(hasF: Bool, more: Bool, hasSub: Bool, version: Int32) throws {
        var dev = Self.device(hasF: hasF, more: more, hasSub: hasSub)
        let (fast, slow) = try Self.saveBoth(&dev, version: version)
        #expect(fast == slow)
        #expect(fast.count > 60)

        // Every prefix (and the whole) loads the same way into the same starting state.
        var start = FpDev()
        withUnsafeMutableBytes(of: &start) { raw in
            for i in raw.indices { raw[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 11) }
        }
        start.n = 3
        start.has_f = hasF
        for length in 0...fast.count {
            let input = Array(fast[0..<length])
            let r = Self.loadBoth(input, into: start, version: version)
            #expect(r.fastState == r.slowState, "state after loading \(length) of \(fast.count) bytes")
            switch (r.fast, r.slow) {
            case (.success, .success):
                // The whole stream, or a prefix that ends where an optional subsection starts.
                break
            case (.failure(let a), .failure(let b)):
                #expect(a == b, "error after loading \(length) of \(fast.count) bytes")
            default:
                Issue.record("fast \(r.fast) vs per-field \(r.slow) at \(length) bytes")
            }
        }
        // The whole stream restores the saved state: saving it again gives the same bytes.
        var loaded = start
        try withUnsafeMutablePointer(to: &loaded) {
            try VMStateEngine.load(Self.vmsd, opaque: UnsafeMutableRawPointer($0), version: version, from: fast)
        }
        #expect(try Self.saveBoth(&loaded, version: version).fast == fast)
    }

    /// Bytes after a flat struct element that look like one of its subsections: the per-field
    /// path reports an unknown subsection, and so must the fast path.
    @Test(arguments: [true, false])
    func subsectionMarkerAfterFlatElement(_ matching: Bool) throws {
        var dev = Self.device(hasF: false, more: false, hasSub: false)
        // g[1] on the wire: x (be32) y (1 byte) z (2 x be16) = 05 0c "fp" / "-" / "it" "em"
        dev.g.1.x = matching ? 0x050C_6670 : 0x0507_6670
        withUnsafeMutableBytes(of: &dev.g.1.y) { $0[0] = 0x2D }
        dev.g.1.z = (0x6974, 0x656D)
        let (fast, slow) = try Self.saveBoth(&dev, version: 3)
        #expect(fast == slow)
        let r = Self.loadBoth(fast, into: FpDev(), version: 3)
        #expect(r.fastState == r.slowState)
        switch (r.fast, r.slow) {
        case (.success, .success):
            #expect(!matching)
        case (.failure(let a), .failure(let b)):
            #expect(a == b)
            #expect(matching && a.kind == .unknownSubsection)
        default:
            Issue.record("fast \(r.fast) vs per-field \(r.slow)")
        }
    }

    nonisolated(unsafe) static let listsVMSD = fp_lists_vmsd_ptr()!

    static func save(lists: UnsafeMutablePointer<FpLists>, compiled: Bool) throws -> [UInt8] {
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        try VMStateEngine.save(
            MigrationFile(output: out), listsVMSD, UnsafeMutableRawPointer(lists), version: 1,
            vmdesc: nil, compiled: compiled)
        return Array(UnsafeBufferPointer(start: out.pointee.data, count: Int(out.pointee.len)))
    }

    /// Loads `input` into new empty lists; returns the result and what the lists then save.
    static func load(lists input: [UInt8], compiled: Bool) throws -> (Result<Void, VMStateError>, [UInt8]) {
        let lists = fp_lists_new(0)!
        defer { fp_lists_free(lists) }
        let gbytes = input.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }!
        defer { g_bytes_unref(gbytes) }
        let file = MigrationFile(input: gbytes)
        let result = Result { () throws(VMStateError) in
            try VMStateEngine.load(file, listsVMSD, UnsafeMutableRawPointer(lists), version: 1, compiled: compiled)
            try VMStateEngine.expectEnd(file)
        }
        return (result, try save(lists: lists, compiled: false))
    }

    @Test func listsAndTreesOfFlatElements() throws {
        let lists = fp_lists_new(4)!
        defer { fp_lists_free(lists) }
        let fast = try Self.save(lists: lists, compiled: true)
        #expect(fast == (try Self.save(lists: lists, compiled: false)))
        for length in 0...fast.count {
            let input = Array(fast[0..<length])
            let (a, stateA) = try Self.load(lists: input, compiled: true)
            let (b, stateB) = try Self.load(lists: input, compiled: false)
            #expect(stateA == stateB, "state after loading \(length) of \(fast.count) bytes")
            switch (a, b) {
            case (.success, .success): #expect(length == fast.count)
            case (.failure(let x), .failure(let y)): #expect(x == y, "error after \(length) bytes")
            default: Issue.record("fast \(a) vs per-field \(b) at \(length) bytes")
            }
        }
        #expect(try Self.load(lists: fast, compiled: true).1 == fast)

        // After a list element and after a tree value: bytes that begin a subsection of the
        // element's description.
        let entry: [UInt8] = [0, 0, 0x10, 0, 1, 0, 0, 0xff, 0xff]
        let listMarker: [UInt8] = [1] + entry + [5, 9] + Array("fp-entry!".utf8) + [0, 0, 0, 1]
        let treeMarker: [UInt8] = [0, 0, 0, 1, 1, 0, 0, 0, 3] + entry + [5, 8] + Array("fp-item!".utf8)
        for input in [listMarker, [0] + treeMarker] {
            let (a, stateA) = try Self.load(lists: input, compiled: true)
            let (b, stateB) = try Self.load(lists: input, compiled: false)
            #expect(stateA == stateB)
            guard case .failure(let x) = a, case .failure(let y) = b else {
                Issue.record("expected failures: \(a) / \(b)")
                continue
            }
            #expect(x == y)
            #expect(x.kind == .unknownSubsection)
        }
    }
}

/// Plans (and their compiled steps) built and used from several threads at once.
@Suite struct ConcurrentPlanTests {
    @Test func savesAndLoadsFromManyThreadsAgree() async throws {
        nonisolated(unsafe) let vmsd = fp_dev_race_vmsd_ptr()!
        let expected: [UInt8] = try {
            var dev = FastPathTests.device(hasF: true, more: true, hasSub: true)
            return try FastPathTests.saveBoth(&dev, version: 3).slow
        }()
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var ok = true
                    for _ in 0..<200 {
                        var dev = FastPathTests.device(hasF: true, more: true, hasSub: true)
                        guard
                            let bytes = try? withUnsafeMutablePointer(
                                to: &dev,
                                {
                                    try VMStateEngine.save(vmsd, opaque: UnsafeMutableRawPointer($0))
                                })
                        else { return false }
                        ok = ok && bytes == expected
                        var copy = FpDev()
                        copy.n = 3
                        ok =
                            ok
                            && (try? withUnsafeMutablePointer(
                                to: &copy,
                                {
                                    try VMStateEngine.load(vmsd, opaque: UnsafeMutableRawPointer($0), from: bytes)
                                })) != nil
                        ok = ok && copy.a == dev.a && copy.h.0.w == dev.h.0.w && copy.s == dev.s
                    }
                    return ok
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }
}

/// C calling a standard scalar info's get/put itself takes a shortcut without a plan; it must
/// do what the planned element path does, except that a get cut short returns 0 as QEMU's
/// get_<int> does (the error is on the file).
@Suite struct StandardInfoShortcutTests {
    static let kinds: [(VMStateStdKind, Int)] = [
        (VMSTATE_STD_BOOL, 1), (VMSTATE_STD_INT8, 1), (VMSTATE_STD_UINT8, 1), (VMSTATE_STD_INT16, 2),
        (VMSTATE_STD_UINT16, 2), (VMSTATE_STD_INT32, 4), (VMSTATE_STD_UINT32, 4), (VMSTATE_STD_INT64, 8),
        (VMSTATE_STD_UINT64, 8), (VMSTATE_STD_CPUDOUBLE, 8),
    ]

    @Test func sameAsThePlannedElementPath() throws {
        for (kind, width) in Self.kinds {
            var value: UInt64 = 0x0102_0304_0506_0780
            // put
            let a = g_byte_array_new()!, b = g_byte_array_new()!
            defer { g_byte_array_unref(a); g_byte_array_unref(b) }
            let fa = MigrationFile(output: a), fb = MigrationFile(output: b)
            #expect(vmstate_std_put(Int32(kind.rawValue), fa.handle, &value, width, nil, nil) == 0)
            let plan = try Planner.standalone(VMStateEngine.emptyField, info: vmstate_std_info(Int32(kind.rawValue))!)
            try withUnsafeMutableBytes(of: &value) {
                try Engine(file: fb).saveElement(plan, $0.baseAddress!, size: width, vmdesc: nil)
            }
            #expect(a.pointee.len == UInt32(width))
            #expect(
                Array(UnsafeBufferPointer(start: a.pointee.data, count: Int(a.pointee.len)))
                    == Array(UnsafeBufferPointer(start: b.pointee.data, count: Int(b.pointee.len))))
            // get, whole and short
            for length in [width, width - 1] {
                let input: [UInt8] = [0x80, 2, 3, 4, 5, 6, 7, 8].prefix(length) + [0xEE]
                let bytes = input.prefix(length).withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }!
                defer { g_bytes_unref(bytes) }
                let ia = MigrationFile(input: bytes), ib = MigrationFile(input: bytes)
                var x: UInt64 = 0x5555_5555_5555_5555, y = x
                let r = vmstate_std_get(Int32(kind.rawValue), ia.handle, &x, width, nil)
                let expected: VMStateError? = withUnsafeMutableBytes(of: &y) { p in
                    do throws(VMStateError) {
                        try Engine(file: ib).loadElement(plan, p.baseAddress!, size: width)
                        return nil
                    } catch { return error }
                }
                #expect(ia.failure == expected)
                if length == width {
                    #expect(x == y)
                    #expect(r == (expected?.errno ?? 0))
                    #expect(ia.position == ib.position)
                } else {
                    // Cut short: QEMU's get_<int> reads the bytes there and zeros after them,
                    // returns 0 and leaves -EIO on the file (the element path throws that -EIO).
                    #expect(r == 0 && expected?.errno == Errno.eio)
                    #expect(qemu_file_get_error(ia.handle) == Errno.eio)
                    #expect(ia.position == length)
                    var partial: UInt64 = 0
                    for i in 0..<width { partial = partial << 8 | UInt64(i < length ? input[i] : 0) }
                    if kind == VMSTATE_STD_BOOL { partial = partial != 0 ? 1 : 0 }
                    var want: UInt64 = 0x5555_5555_5555_5555
                    withUnsafeMutableBytes(of: &want) { w in
                        withUnsafeBytes(of: partial) {
                            w.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<width]))
                        }
                    }
                    #expect(x == want)
                }
            }
        }
    }
}
