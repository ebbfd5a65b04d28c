import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

/// Checked loads (`vmstate_load_checked`) of crafted streams: for every count and size a stream
/// controls, a value that would make QEMU 7.2's loader write past the device's memory (or
/// allocate without bound) gets its own error, with the field path, instead of the write.
/// Run under AddressSanitizer by scripts/checks/hostile-asan.sh.
@Suite struct HostileLoadTests {

    /// A custom VMStateInfo with a count and size the table fixes writes what its `get`
    /// decides: QEMU's PCI configuration space (256 bytes) goes through the device's `config`
    /// pointer, so a checked load of a struct smaller than 256 bytes loads it (it refused it:
    /// "the field would be written outside its struct"). A count from the stream still bounds
    /// custom elements whole.
    @Test func aCustomInfoOfFixedSizeWritesWhatItsGetDecides() throws {
        let config = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        config.initialize(repeating: 0, count: 256)
        defer { config.deallocate() }
        let stream: [UInt8] = (0..<256).map { UInt8($0) } + [0, 0, 0, 2, 0xA1, 0xA2]
        var s = EngThrough(config: config, n: 0, small: (0, 0))
        #expect(MemoryLayout<EngThrough>.size < 256)
        let input = stream.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
        defer { g_bytes_unref(input) }
        var error: UnsafeMutablePointer<GError>? = nil
        #expect(vmstate_load_checked(eng_vmsd_through(), &s, MemoryLayout<EngThrough>.size, 1, input, 0, &error))
        #expect(error == nil)
        #expect((0..<256).allSatisfy { config[$0] == UInt8($0) })
        #expect(s.n == 2 && s.small.0 == 0xA1 && s.small.1 == 0xA2)

        var three = stream
        three[259] = 5  // n = 5: small has room for 2, the struct (16 bytes) for 4 from small
        three += [0xA3, 0xA4, 0xA5]
        let bad = three.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
        defer { g_bytes_unref(bad) }
        #expect(!vmstate_load_checked(eng_vmsd_through(), &s, MemoryLayout<EngThrough>.size, 1, bad, 0, &error))
        let e = try #require(error)
        defer { g_error_free(e) }
        #expect(e.pointee.code == Int32(VMSTATE_ERROR_BOUND_EXCEEDED.rawValue))
        #expect(
            String(cString: e.pointee.message).hasPrefix(
                "eng-through/small: the field would be written outside its struct"))

        // A flag the library does not know is refused before anything is loaded.
        var untouched = EngThrough(config: config, n: 7, small: (1, 2))
        /// The message of a refused C load into `untouched` (code VMSTATE_ERROR_FAILED).
        func refusal(size: Int, flags: UInt32) throws -> String {
            var error: UnsafeMutablePointer<GError>? = nil
            #expect(!vmstate_load_checked(eng_vmsd_through(), &untouched, size, 1, input, flags, &error))
            let e = try #require(error)
            defer { g_error_free(e) }
            #expect(e.pointee.code == Int32(VMSTATE_ERROR_FAILED.rawValue))
            return String(cString: e.pointee.message)
        }
        #expect(
            try refusal(size: MemoryLayout<EngThrough>.size, flags: 0x4 | 0x10)
                == "unknown load flags 0x10: vmstate_load_checked takes 0 or VMSTATE_LOAD_TRANSACTIONAL (0x4) (at byte 0)"
        )
        #expect(untouched.n == 7 && untouched.small.0 == 1)

        // The Swift call refuses the same; and a size of 0 for a table without a name is an
        // error naming it "(unnamed)", as a named table's names it (not a trap).
        let swiftFlags = try #require(
            thrownError(VMStateError.self) {
                try VMStateEngine.loadChecked(
                    eng_vmsd_through(), opaque: &untouched, size: MemoryLayout<EngThrough>.size, from: stream,
                    options: .init(rawValue: 0x14))
            })
        #expect(
            swiftFlags.description
                == "unknown load flags 0x10: vmstate_load_checked takes 0 or VMSTATE_LOAD_TRANSACTIONAL (0x4) (at byte 0)"
        )
        var nameless = eng_vmsd_through().pointee
        nameless.name = nil
        let zero = try #require(
            thrownError(VMStateError.self) {
                try VMStateEngine.loadChecked(&nameless, opaque: &untouched, size: 0, from: stream)
            })
        #expect(zero.kind == .failed)
        // A C size_t past Int.max (SIZE_MAX) is refused, shown as the caller passed it.
        #expect(
            try refusal(size: -1, flags: 0)
                == "eng-through: the struct's size must be positive (it bounds the load's writes), got -1 (18446744073709551615 as a C size_t) (at byte 0)"
        )
        #expect(
            zero.description
                == "(unnamed): the struct's size must be positive (it bounds the load's writes), got 0 (at byte 0)")
        // A transactional load copies the struct first: a size no allocation holds (2^62 bytes)
        // is an error, from C and Swift alike, and nothing is loaded.
        #expect(
            try refusal(size: 1 << 62, flags: 0x4)
                == "eng-through: a transactional load keeps a copy of the struct to restore on failure, and its size "
                + "cannot be allocated (is the struct's size right?), got 4611686018427387904 bytes (at byte 0)")
        let swiftTooLarge = try #require(
            thrownError(VMStateError.self) {
                try VMStateEngine.loadChecked(
                    eng_vmsd_through(), opaque: &untouched, size: Int.max, from: stream, options: .transactional)
            })
        #expect(swiftTooLarge.kind == .failed && swiftTooLarge.actual == "\(Int.max) bytes")
        #expect(untouched.n == 7 && untouched.small.0 == 1)
    }
    // MARK: - sample states load back (the fixtures and the bounds agree)

    @Test(arguments: ["hx-scalars", "hx-varray", "hx-ptr", "hx-nest", "hx-coll", "hx-deep", "hx-custom"])
    func sampleStateRoundTrips(_ name: String) throws {
        let source = HxDevice(name, sample: true)
        let bytes = try source.save()
        let target = HxDevice(name)
        try target.load(bytes)
        #expect(try target.save() == bytes)
        let again = HxDevice(name)
        try again.load(bytes, transactional: true)
        #expect(try again.save() == bytes)
    }

    // MARK: - VARRAY counters loaded earlier in the same stream

    @Test func varrayUint8CounterPastTheStruct() {
        // p8 is HxPair[4] at offset 24 of a 168-byte struct; QEMU would write 255 pairs.
        let e = HxDevice("hx-varray").loadError(HxVarrayWire(n8: 255).bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-varray/p8")
        #expect(e.reason.contains("outside its struct") && e.offset == 23)
    }

    @Test func varrayUint8CounterWithinTheStructLoads() throws {
        // 18 pairs end exactly at the struct's end (24 + 18 * 8 = 168): nothing to refuse.
        let device = HxDevice("hx-varray")
        var wire = HxVarrayWire(n8: 18)
        wire.dataLimit = 18
        // The arrays after p8 get overwritten by p8's elements as the table says; load fine.
        try device.load(wire.bytes)
        #expect(device.state(HxVarray.self).pointee.n8 == 18)
    }

    @Test func varrayUint16CounterPastTheStruct() {
        let e = HxDevice("hx-varray").loadError(HxVarrayWire(n16: 0xFFFF).bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-varray/a16")
        #expect(e.actual == "65535 element(s) of 2 bytes")
    }

    @Test func varrayInt32NegativeCounter() {
        let e = HxDevice("hx-varray").loadError(HxVarrayWire(n32: -1).bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-varray/p32")
        #expect(e.reason == "element count out of range" && e.actual == "-1")
    }

    @Test func varrayInt32CounterPastTheStruct() {
        let e = HxDevice("hx-varray").loadError(HxVarrayWire(ni32: 100).bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-varray/ai32")
    }

    @Test func varrayUint32CounterAboveInt32() {
        var wire = HxVarrayWire(nu32: 0x8000_0000)
        wire.dataLimit = 8
        let e = HxDevice("hx-varray").loadError(wire.bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-varray/pu32" && e.actual == "2147483648")
    }

    @Test func varrayUint32CounterPastTheStruct() {
        let e = HxDevice("hx-varray").loadError(HxVarrayWire(nu32: 20).bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-varray/pu32")
    }

    @Test func multiplyElementsOverflow() {
        // nmul * 3 does not fit an int32 count.
        var wire = HxVarrayWire(nmul: 0x5555_5556)
        wire.dataLimit = 4
        let e = HxDevice("hx-varray").loadError(wire.bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-varray/mul" && e.reason == "element count out of range")
    }

    @Test func multiplyElementsPastTheStruct() {
        let e = HxDevice("hx-varray").loadError(HxVarrayWire(nmul: 10).bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-varray/mul")
    }

    @Test func unusedVarrayIsReadNotWritten() throws {
        // 200 unused entries of 2 bytes: more than the struct holds, but nothing is stored.
        let device = HxDevice("hx-varray")
        try device.load(HxVarrayWire(nunused: 200).bytes)
        // ... and the input must have them.
        var short = HxVarrayWire(nunused: 200)
        short.dataLimit = 10
        let e = HxDevice("hx-varray").loadError(short.bytes)
        #expect(e.kind == .shortInput && e.path.hasPrefix("hx-varray/unused["))
    }

    // MARK: - sizes and counts behind pointers

    @Test func vbufferPastItsStorage() {
        // vbuf points at a 32-byte buffer inside the struct; vlen comes from the stream.
        let e = HxDevice("hx-ptr").loadError(HxPtrWire(vlen: 4096).bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-ptr/vbuf")
        #expect(e.reason.contains("past the memory its pointer points into"))
    }

    @Test func vbufferNegativeSize() {
        let e = HxDevice("hx-ptr").loadError(HxPtrWire(vlen: -8).bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-ptr/vbuf" && e.reason == "buffer size out of range")
    }

    @Test func vbufferUint32SizeAboveInt32() {
        var wire = HxPtrWire(vulen: 0xFFFF_FFF0)
        wire.dataLimit = 0
        let e = HxDevice("hx-ptr").loadError(wire.bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-ptr/vubuf" && e.actual == "-16")
    }

    @Test func vbufferMultiplyOverflow() {
        var wire = HxPtrWire(mlen: 0x4000_0000)  // times 4 is 2^32
        wire.dataLimit = 0
        let e = HxDevice("hx-ptr").loadError(wire.bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-ptr/mbuf")
    }

    @Test func varrayBehindPointerPastItsStorage() {
        let e = HxDevice("hx-ptr").loadError(HxPtrWire(ni32: 1000).bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-ptr/vi32")
        // Within the struct is all a checked load can tell: vu32's 4 entries may spill into
        // the next storage; 1000 may not.
        let f = HxDevice("hx-ptr").loadError(HxPtrWire(nvu32: 1000).bytes)
        #expect(f.kind == .boundExceeded && f.path == "hx-ptr/vu32")
    }

    @Test func structVarrayBehindPointerPastItsStorage() {
        let e = HxDevice("hx-ptr").loadError(HxPtrWire(nsp32: 40).bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-ptr/spi32")
        let f = HxDevice("hx-ptr").loadError(HxPtrWire(nsp16: 0xFFFF).bytes)
        #expect(f.kind == .boundExceeded && f.path == "hx-ptr/spu16")
        var wire = HxPtrWire(nspu32: 0xFFFF_FFFF)  // VARRAY_INT32 reads it as -1 (QEMU 7.2's flag)
        wire.dataLimit = 0
        let g = HxDevice("hx-ptr").loadError(wire.bytes)
        #expect(g.kind == .boundExceeded && g.path == "hx-ptr/spu32" && g.actual == "-1")
    }

    @Test func bitmapBitsPastItsStorage() {
        let e = HxDevice("hx-ptr").loadError(HxPtrWire(bits: 1_000_000).bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-ptr/bitmap")
        #expect(e.reason.contains("125000 bytes"))
        let f = HxDevice("hx-ptr").loadError(HxPtrWire(bits: -1).bytes)
        #expect(f.kind == .boundExceeded && f.path == "hx-ptr/bitmap")
    }

    // MARK: - allocations (VMS_ALLOC)

    @Test func allocationLargerThanTheInputCanFill() {
        var wire = HxPtrWire(nu32: 0x0FFF_FFFF)  // 1 GiB - 4 bytes of uint32
        wire.dataLimit = 16
        let e = HxDevice("hx-ptr").loadError(wire.bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-ptr/a32")
        #expect(e.reason == "refusing to allocate 1073741820 bytes for 268435455 element(s)")
    }

    @Test func allocationOverOneGiB() {
        var wire = HxPtrWire(blen: 0x7FFF_FFFF)
        wire.dataLimit = 16
        let e = HxDevice("hx-ptr").loadError(wire.bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-ptr/blob")
    }

    @Test func allocationOfStructsCountsTheirWireSize() {
        // 100 million HxPair (8 bytes in memory, 6 on the wire): 800 MB for a few bytes of input.
        var wire = HxPtrWire(nstruct: 100_000_000)
        wire.dataLimit = 4
        let e = HxDevice("hx-ptr").loadError(wire.bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-ptr/pairs")
        #expect(e.actual == "100000000 element(s) needing at least 6 byte(s) each")
        let f = HxDevice("hx-ptr").loadError(HxPtrWire(nstruct: -3).bytes)
        #expect(f.kind == .boundExceeded && f.path == "hx-ptr/pairs" && f.actual == "-3")
    }

    @Test func allocationsHoldWhatTheStreamSays() throws {
        let device = HxDevice("hx-ptr")
        try device.load(HxPtrWire(n16: 3, nu32: 2, nstruct: 2, blen: 5).bytes)
        let s = device.state(HxPtr.self).pointee
        #expect(s.a16 != nil && s.a32 != nil && s.pairs != nil && s.blob != nil)
        #expect(s.pairs[1].a == 0x5A5A_5A5A)
    }

    @Test func nullPointerMarkerChecked() {
        let e = HxDevice("hx-ptr").loadError(HxPtrWire(nullMarker: 0x31).bytes)
        #expect(e.kind == .badMarker && e.path == "hx-ptr/nulls[1]" && e.expected == "0x30" && e.actual == "0x31")
    }

    // MARK: - the tmp scratch struct

    @Test func tmpVarrayPastTheScratch() {
        // HxNestTmp is 16 bytes; vals (3 entries) starts at 10.
        let e = HxDevice("hx-nest").loadError(HxNestWire(tmpCount: 6).bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-nest/tmp/vals")
        #expect(e.reason.contains("12 bytes at offset 10 of a 16-byte region"))
    }

    @Test func tmpVarrayWithinTheScratchLoads() throws {
        let device = HxDevice("hx-nest")
        try device.load(HxNestWire(tmpCount: 3).bytes)
        #expect(device.state(HxNest.self).pointee.tn == 3)
    }

    // MARK: - subsections

    @Test func unknownSubsectionWithTheParentsPrefix() {
        var wire = HxNestWire()
        wire.tail = HxWire().subsection("hx-nest/zzz").be32(1).bytes
        let e = HxDevice("hx-nest").loadError(wire.bytes)
        #expect(e.kind == .unknownSubsection && e.path == "hx-nest" && e.reason == "unknown subsection \"hx-nest/zzz\"")
    }

    @Test func subsectionOfAnotherDescriptionIsNotLoaded() {
        // Not this description's prefix: the bytes are left for the caller, so they trail.
        var wire = HxNestWire()
        wire.tail = HxWire().subsection("hx-other/a").be32(1).bytes
        let e = HxDevice("hx-nest").loadError(wire.bytes)
        #expect(
            e.kind == .failed
                && e.reason
                    == "bytes left after the state: a subsection header (0x05) cut short, or not of a subsection of \"hx-nest\""
        )
    }

    @Test func subsectionNameLongerThanTheInput() {
        var wire = HxNestWire()
        wire.tail = [5, 200] + Array("hx-nest/a".utf8)
        let e = HxDevice("hx-nest").loadError(wire.bytes)
        #expect(e.kind == .failed && e.actual == "11 more bytes")
        #expect(
            e.description
                == "hx-nest: bytes left after the state: a subsection header (0x05) cut short, or not of a subsection of \"hx-nest\"; expected end of input, got 11 more bytes (at byte \(wire.bytes.count - 11))"
        )
    }

    @Test func subsectionNameShorterThanTheParent() {
        var wire = HxNestWire()
        wire.tail = [5, 3] + Array("hx-".utf8) + [0, 0, 0, 1]
        let e = HxDevice("hx-nest").loadError(wire.bytes)
        #expect(e.kind == .failed && e.reason.hasPrefix("bytes left after the state: a subsection header (0x05)"))
    }

    @Test func subsectionVersionIsItsLowByte() {
        // QEMU reads the subsection version into a uint8_t: 0x100 is version 0, too old.
        var wire = HxNestWire()
        wire.tail = HxWire().subsection("hx-nest/a", version: 0x100).be32(1).bytes
        let e = HxDevice("hx-nest").loadError(wire.bytes)
        #expect(e.kind == .versionTooOld && e.path == "hx-nest/a" && e.actual == "0")
    }

    @Test func repeatedSubsectionIsRefused() {
        var wire = HxNestWire()
        wire.tail = HxWire().subsection("hx-nest/a").be32(1).subsection("hx-nest/a").be32(2).bytes
        let e = HxDevice("hx-nest").loadError(wire.bytes)
        #expect(e.kind == .badStream && e.path == "hx-nest" && e.reason == "subsection \"hx-nest/a\" appears twice")
    }

    @Test func subsectionSpelledWithATrailingNULIsTheSameSubsection() throws {
        // "hx-nest/a\0x" is hx-nest/a to QEMU's strcmp: it loads, and hx-nest/a again later is
        // the same subsection twice.
        var first = HxNestWire()
        first.tail = HxWire().subsection("hx-nest/a\0x").be32(0xA1).bytes
        let device = HxDevice("hx-nest")
        try device.load(first.bytes)
        #expect(device.state(HxNest.self).pointee.sub_a == 0xA1)

        var twice = HxNestWire()
        twice.tail =
            HxWire().subsection("hx-nest/a\0x").be32(1).subsection("hx-nest/b", version: 2).be64(2)
            .subsection("hx-nest/a").be32(3).bytes
        let e = HxDevice("hx-nest").loadError(twice.bytes)
        #expect(e.kind == .badStream && e.path == "hx-nest" && e.reason == "subsection \"hx-nest/a\" appears twice")

        // Right after hx-nest/a, a name with its prefix is looked up among hx-nest/a's own
        // subsections (it has none): -ENOENT there, as in QEMU.
        var nested = HxNestWire()
        nested.tail = HxWire().subsection("hx-nest/a").be32(1).subsection("hx-nest/a\0x").be32(2).bytes
        let n = HxDevice("hx-nest").loadError(nested.bytes)
        #expect(n.kind == .unknownSubsection && n.path == "hx-nest/a")
    }

    @Test func nestedSubsectionLoads() throws {
        var wire = HxNestWire()
        wire.tail = HxWire().subsection("hx-nest/b", version: 2).be64(0xB).subsection("hx-nest/b/c").be32(0xC).bytes
        let device = HxDevice("hx-nest")
        try device.load(wire.bytes)
        #expect(device.state(HxNest.self).pointee.sub_c == 0xC)
        var short = HxNestWire()
        short.tail = HxWire().subsection("hx-nest/b", version: 2).be64(0xB).subsection("hx-nest/b/c").u8(0).bytes
        let e = HxDevice("hx-nest").loadError(short.bytes)
        #expect(e.kind == .shortInput && e.path == "hx-nest/b/c/sub_c")
    }

    // MARK: - lists, trees, nesting

    @Test func listElementAllocationBoundedByInput() {
        var wire = HxCollWire()
        wire.elements = [(1, [1, 2]), (2, [])]
        wire.claimedLengths = [nil, 0xFFFF_FF00]
        let e = HxDevice("hx-coll").loadError(wire.bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-coll/q[1]/data")
    }

    @Test func listWithoutEnd() {
        let w = HxWire()
        w.be32(0xBEF0)
        for i in 0..<100 { w.u8(1).be32(UInt32(i)).be32(0) }
        let e = HxDevice("hx-coll").loadError(w.bytes)
        #expect(e.kind == .shortInput && e.path == "hx-coll/q" && e.offset == w.bytes.count)
    }

    @Test func longListsLoadInLinearTime() throws {
        // 100,000 elements with an allocated buffer each, appended to a list the caller had,
        // transactional, then a failure at the very end: region lookups, undo records and the
        // rollback must stay cheap per element (a hostile stream is mostly such repetition).
        let w = HxWire().be32(0xBEF0)
        for i in 0..<100_000 { w.u8(1).be32(UInt32(i)).be32(1).u8(7) }
        w.u8(0).u8(0).be32(0).u8(0).be32(0).u8(0)
        let device = HxDevice("hx-coll", sample: true)
        let start = ContinuousClock.now
        try device.load(w.bytes + [0, 0, 0, 1], transactional: true)
        #expect(hx_coll_queue_length(device.state(HxColl.self)) == 100_003)
        let failing = HxDevice("hx-coll", sample: true)
        let before = failing.digest
        let e = failing.loadError(w.bytes + [0, 0], transactional: true)
        #expect(e.kind == .shortInput && failing.digest == before)
        #expect(ContinuousClock.now - start < .seconds(60))
    }

    @Test func longQlistIntoAFilledListLoadsInLinearTime() throws {
        // QLIST elements go in after the previous one, before the caller's first element,
        // whose back link a transactional load must remember: once, not once per element.
        let w = HxWire().be32(0xBEF0).u8(0)
        for i in 0..<100_000 { w.u8(1).be16(UInt16(truncatingIfNeeded: i)) }
        w.u8(0).be32(0).u8(0).be32(0).u8(0)
        let device = HxDevice("hx-coll", sample: true)
        let before = device.digest
        let start = ContinuousClock.now
        let e = device.loadError(w.bytes + [0, 0], transactional: true)
        #expect(e.kind == .shortInput && device.digest == before)
        try device.load(w.bytes + [0, 0, 0, 1], transactional: true)
        #expect(hx_coll_list_length(device.state(HxColl.self)) == 100_003)
        #expect(ContinuousClock.now - start < .seconds(60))
    }

    @Test func treeCountBelowItsNodes() {
        var wire = HxCollWire()
        wire.tree = [(1, 1, 1), (2, 2, 2)]
        wire.treeCount = 1
        let e = HxDevice("hx-coll").loadError(wire.bytes)
        #expect(
            e.kind == .mismatch && e.path == "hx-coll/tree" && e.reason == "more tree nodes than the stream's count")
    }

    @Test func treeCountAboveItsNodes() {
        var wire = HxCollWire()
        wire.dtree = [(0x20, 1, 1)]
        wire.dtreeCount = Int32.max
        let e = HxDevice("hx-coll").loadError(wire.bytes)
        #expect(e.kind == .mismatch && e.path == "hx-coll/dtree" && e.expected == "2147483647" && e.actual == "1")
        var negative = HxCollWire()
        negative.tree = [(1, 1, 1)]
        negative.treeCount = -1
        let f = HxDevice("hx-coll").loadError(negative.bytes)
        #expect(f.kind == .mismatch && f.path == "hx-coll/tree")
    }

    @Test func treeKeyTwiceIsRefused() {
        var wire = HxCollWire()
        wire.tree = [(7, 1, 1), (7, 2, 2)]
        let e = HxDevice("hx-coll").loadError(wire.bytes)
        #expect(e.kind == .mismatch && e.path == "hx-coll/tree[1]" && e.reason == "the stream has this tree key twice")
        var direct = HxCollWire()
        direct.dtree = [(0x99, 1, 1), (0x99, 2, 2)]
        let f = HxDevice("hx-coll").loadError(direct.bytes)
        #expect(f.kind == .mismatch && f.path == "hx-coll/dtree[1]" && f.actual == "key 0x0000000000000099 again")
    }

    @Test func treeKeyTheCallerHasIsReplacedLikeGTreeInsert() throws {
        let device = HxDevice("hx-coll", sample: true)  // keys 1 and 5, direct 0x20 and 0x1000
        var wire = HxCollWire()
        wire.tree = [(5, 500, 501)]
        wire.dtree = [(0x20, 30, 40)]
        try device.load(wire.bytes, transactional: true)
        let s = device.state(HxColl.self)
        #expect(hx_coll_tree_size(s) == 2 && hx_coll_dtree_size(s) == 2)
        var key = HxKey(k: 5)
        let value = g_tree_lookup(s.pointee.tree, &key)!.assumingMemoryBound(to: HxVal.self)
        #expect(value.pointee.a == 500 && value.pointee.b == 501)
    }

    @Test func nestingDeeperThan64Levels() {
        let w = HxWire()
        w.be32(1)
        for i in 0..<100 { w.u8(1).be32(UInt32(i)) }
        w.fill(101, 0)
        let e = HxDevice("hx-deep").loadError(w.bytes)
        #expect(e.kind == .boundExceeded && e.reason == "descriptions nested deeper than 64 levels")
        #expect(e.path.hasPrefix("hx-deep/root/kids[0]/kids[0]/"))
    }

    @Test func nestingOf60LevelsLoads() throws {
        let w = HxWire()
        w.be32(1)
        for i in 0..<60 { w.u8(1).be32(UInt32(i)) }
        w.fill(61, 0)
        let device = HxDevice("hx-deep")
        try device.load(w.bytes)
        #expect(hx_deep_depth(device.state(HxDeep.self)) == 61)
    }

    // MARK: - device code reading with qemu_get_* past the end

    @Test func customInfoReadingPastTheEnd() {
        // bytes: be16 length 100, then only 3 bytes.
        let bytes = HxWire().be32(1).u8(2).text("hi").be16(100).fill(3).bytes
        let e = HxDevice("hx-custom").loadError(bytes)
        #expect(e.kind == .shortInput && e.path == "hx-custom/bytes" && e.reason == "input ended inside hx-bytes")
        let f = HxDevice("hx-custom").loadError(HxWire().be32(1).u8(40).text("short").bytes)
        #expect(f.kind == .shortInput && f.path == "hx-custom/name")
    }

    @Test func customInfoRefusing() {
        let bytes = HxWire().be32(1).u8(2).text("hi").be16(0xFFFF).bytes
        let e = HxDevice("hx-custom").loadError(bytes)
        #expect(e.kind == .fieldFailed && e.path == "hx-custom/bytes" && e.errno == -34)
    }

    @Test func qemuFileReadsPastTheEnd() {
        let input = [UInt8](repeating: 0xAB, count: 5)
        let gbytes = input.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
        defer { g_bytes_unref(gbytes) }
        let f = vmstate_file_new_input(gbytes)
        #expect(qemu_get_be32(f) == 0xABAB_ABAB)
        // 1 byte left: QEMU reads byte by byte, zeros past the end: the byte, then 7 zero bytes;
        // cursor at the end, -EIO.
        #expect(qemu_get_be64(f) == 0xAB00_0000_0000_0000)
        #expect(qemu_file_get_error(f) == -5)
        #expect(vmstate_file_remaining(f) == 0)
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(qemu_get_buffer(f, &buffer, 16) == 0)
        #expect(qemu_get_byte(f) == 0 && qemu_peek_byte(f, 1000) == 0 && qemu_peek_byte(f, -1) == 0)
        var peeked: UnsafeMutablePointer<UInt8>? = nil
        #expect(qemu_peek_buffer(f, &peeked, 4, 0) == 0)
        #expect(qemu_peek_buffer(f, &peeked, Int.max, Int.min) == 0)  // SIZE_MAX-ish size_t values
        qemu_file_skip(f, Int32.max)
        qemu_file_skip(f, -5)
        var name = [CChar](repeating: 0, count: 256)
        #expect(qemu_get_counted_string(f, &name) == 0)
        #expect(qemu_fclose(f) == -5)

        let g2 = [UInt8]([3, 0x61, 0x62]).withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
        defer { g_bytes_unref(g2) }
        let g = vmstate_file_new_input(g2)
        #expect(qemu_peek_buffer(g, &peeked, -1, 1) == 2)  // size_t huge: what there is
        #expect(qemu_get_counted_string(g, &name) == 0)  // says 3, has 2
        #expect(qemu_fclose(g) == -5)

        // A size_t size or offset of 2^63 or more (negative as Int): more than any input holds,
        // so what there is and -EIO, not 0 bytes and no error.
        for huge in [Int.min, -1] {
            let h = vmstate_file_new_input(g2)
            var out = [UInt8](repeating: 0, count: 3)
            #expect(qemu_get_buffer(h, &out, huge) == 3 && out == [3, 0x61, 0x62])
            #expect(qemu_file_get_error(h) == -5)
            #expect(qemu_fclose(h) == -5)
            let p = vmstate_file_new_input(g2)
            #expect(qemu_peek_buffer(p, &peeked, 1, huge) == 0)
            #expect(qemu_file_get_error(p) == -5)
            #expect(qemu_fclose(p) == -5)
        }
    }

    // MARK: - the struct itself

    @Test func int32LEOutOfRange() throws {
        var bytes = try HxDevice("hx-scalars", sample: true).save()
        bytes.replaceSubrange(66..<70, with: [0, 0, 0, 101])  // le: 101 > the target's 100
        let e = HxDevice("hx-scalars").loadError(bytes)
        #expect(e.kind == .mismatch && e.path == "hx-scalars/le" && e.expected == "0...100" && e.actual == "101")
        bytes.replaceSubrange(66..<70, with: [0xFF, 0xFF, 0xFF, 0xFF])
        let f = HxDevice("hx-scalars").loadError(bytes)
        #expect(f.kind == .mismatch && f.actual == "-1")
    }

    @Test func equalFieldDiffers() throws {
        var bytes = try HxDevice("hx-scalars", sample: true).save()
        bytes[47] = 0x5B  // eq8
        let e = HxDevice("hx-scalars").loadError(bytes)
        #expect(e.kind == .mismatch && e.path == "hx-scalars/eq8" && e.expected == "0x5a" && e.actual == "0x5b")
        #expect(e.reason.contains("eq8 is fixed by the machine"))
    }

    @Test func validateFails() throws {
        var bytes = try HxDevice("hx-scalars", sample: true).save()
        bytes.replaceSubrange(66..<70, with: [0, 0, 0, 13])
        let e = HxDevice("hx-scalars").loadError(bytes)
        #expect(e.kind == .mustExist && e.path == "hx-scalars/le is not unlucky" && e.errno == -1)
    }

    @Test func structSizeSmallerThanTheTable() throws {
        // The caller says the struct is smaller than the table's fields reach: refused before
        // anything loads, naming the field that reaches furthest (a fixed array, `tail`).
        let device = HxDevice("hx-varray")
        let bytes = HxVarrayWire().bytes
        let before = Array(UnsafeRawBufferPointer(start: device.opaque, count: 20))
        let e = try #require(
            thrownError(VMStateError.self) {
                try VMStateEngine.loadChecked(device.vmsd, opaque: device.opaque, size: 20, from: bytes)
            })
        #expect(e.kind == .failed && e.path == "hx-varray")
        #expect(
            e.description
                == "hx-varray: the struct's size is smaller than its description's fields need: field \"hx-varray/tail\" ends at byte 168; expected at least 168 bytes, got 20 (at byte 0)"
        )
        #expect(Array(UnsafeRawBufferPointer(start: device.opaque, count: 20)) == before)
    }

    /// Whether `bytes` loads into a blank `name` (a state cut just before its subsections does).
    func loadsAsItIs(_ name: String, _ bytes: [UInt8]) -> Bool {
        (try? HxDevice(name).load(bytes)) != nil
    }

    @Test func truncatedAtEveryByte() throws {
        // Every prefix of every sample fails cleanly (shortInput, or a marker/count error).
        for name in ["hx-scalars", "hx-varray", "hx-ptr", "hx-nest", "hx-coll", "hx-deep", "hx-custom"] {
            let bytes = try HxDevice(name, sample: true).save()
            for cut in 0..<bytes.count where !loadsAsItIs(name, Array(bytes.prefix(cut))) {
                let device = HxDevice(name, sample: name == "hx-coll")
                let before = device.digest
                let e = device.loadError(Array(bytes.prefix(cut)), transactional: true)
                // Input ending inside a value, a list or tree cut short, an allocation the rest
                // of the input cannot fill, or a subsection header cut short (its bytes are
                // then not the description's: "bytes left after the state").
                #expect(
                    [.shortInput, .mismatch, .boundExceeded, .failed].contains(e.kind), "\(name) cut at \(cut): \(e)")
                #expect(device.digest == before, "\(name) cut at \(cut) changed the state")
            }
        }
    }
}
