import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// The standard VMStateInfo instances (docs/FORMAT.md §3): exact wire bytes on save, exact values on load.
@Suite struct EngineStandardInfoTests {
    // MARK: integers, bool, cpudouble

    func scalarsDevice() -> EngScalars {
        var d = EngScalars()
        d.b = true
        d.i8 = -2
        d.i16 = -3
        d.i32 = -4
        d.i64 = -5
        d.u8 = 0xAB
        d.u16 = 0x1234
        d.u32 = 0xDEAD_BEEF
        d.u64 = 0x0011_2233_4455_6677
        d.d.l.upper = 0x4009_1EB8  // 3.14
        d.d.l.lower = 0x51EB_851F
        return d
    }

    let scalarBytes: [UInt8] = [
        0x01,  // bool
        0xFE,  // int8 -2
        0xFF, 0xFD,  // int16 -3
        0xFF, 0xFF, 0xFF, 0xFC,  // int32 -4
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFB,  // int64 -5
        0xAB,  // uint8
        0x12, 0x34,  // uint16
        0xDE, 0xAD, 0xBE, 0xEF,  // uint32
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,  // uint64
        0x40, 0x09, 0x1E, 0xB8,  // cpudouble: upper word first
        0x51, 0xEB, 0x85, 0x1F,  // then lower word
    ]

    @Test func scalarsSaveBigEndian() throws {
        var d = scalarsDevice()
        #expect(try save(eng_vmsd_scalars(), &d) == scalarBytes)
    }

    @Test func scalarsLoad() throws {
        var d = EngScalars()
        try VMStateEngine.load(eng_vmsd_scalars(), opaque: &d, from: scalarBytes)
        #expect(d.b == true)
        #expect(d.i8 == -2)
        #expect(d.i16 == -3)
        #expect(d.i32 == -4)
        #expect(d.i64 == -5)
        #expect(d.u8 == 0xAB)
        #expect(d.u16 == 0x1234)
        #expect(d.u32 == 0xDEAD_BEEF)
        #expect(d.u64 == 0x0011_2233_4455_6677)
        #expect(d.d.l.upper == 0x4009_1EB8)
        #expect(d.d.l.lower == 0x51EB_851F)
        #expect(d.d.ll == 0x4009_1EB8_51EB_851F)
    }

    @Test func boolLoadAnyNonZeroIsTrue() throws {
        var d = EngScalars()
        var stream = scalarBytes
        stream[0] = 0x02
        try VMStateEngine.load(eng_vmsd_scalars(), opaque: &d, from: stream)
        // The stored byte is a proper bool 1, not the 2 from the stream.
        #expect(rawBytes(d)[0] == 1)

        var bools = EngBools()
        try VMStateEngine.load(eng_vmsd_bools(), opaque: &bools, from: [0x00, 0x01, 0x7F, 0xFF])
        #expect(rawBytes(bools.flags) == [0, 1, 1, 1])
    }

    @Test func boolArraySave() throws {
        var bools = EngBools()
        bools.flags = (true, false, true, true)
        #expect(try save(eng_vmsd_bools(), &bools) == [0x01, 0x00, 0x01, 0x01])
    }

    // MARK: _equal and int32_le

    func equalDevice() -> EngEqual {
        EngEqual(i32: -7, u8: 0x11, u16: 0x2233, u32: 0x4455_6677, u64: 0x8899_AABB_CCDD_EEFF, le: 10)
    }

    let equalBytes: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xF9,  // int32 equal (-7)          offset 0
        0x11,  // uint8 equal                                  offset 4
        0x22, 0x33,  // uint16 equal                           offset 5
        0x44, 0x55, 0x66, 0x77,  // uint32 equal               offset 7
        0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF,  // uint64 equal, offset 11
        0x00, 0x00, 0x00, 0x0A,  // int32 le                   offset 19
    ]

    @Test func equalSaveWritesTheValue() throws {
        var d = equalDevice()
        #expect(try save(eng_vmsd_equal(), &d) == equalBytes)
    }

    @Test func equalLoadAcceptsEqualValues() throws {
        var d = equalDevice()
        try VMStateEngine.load(eng_vmsd_equal(), opaque: &d, from: equalBytes)
        #expect(d.i32 == -7 && d.u8 == 0x11 && d.u16 == 0x2233 && d.u32 == 0x4455_6677)
        #expect(d.u64 == 0x8899_AABB_CCDD_EEFF && d.le == 10)
    }

    @Test(arguments: [
        // (byte to change, new value, field, offset, expected, actual)
        (3, UInt8(0xF8), "i32", 0, "0xfffffff9", "0xfffffff8"),
        (4, UInt8(0x12), "u8", 4, "0x11", "0x12"),
        (6, UInt8(0x34), "u16", 5, "0x2233", "0x2234"),
        (7, UInt8(0x45), "u32", 7, "0x44556677", "0x45556677"),
        (18, UInt8(0x00), "u64", 11, "0x8899aabbccddeeff", "0x8899aabbccddee00"),
    ])
    func equalMismatchIsAnError(
        index: Int, value: UInt8, field: String, offset: Int, expected: String, actual: String
    ) throws {
        var d = equalDevice()
        var stream = equalBytes
        stream[index] = value
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_equal(), opaque: &d, from: stream) })
        #expect(e.kind == .mismatch)
        #expect(e.path == "eng-equal/\(field)")
        #expect(e.offset == offset)
        #expect(e.expected == expected)
        #expect(e.actual == actual)
        #expect(e.reason.contains("hint-\(field)"))
        #expect(e.errno == Errno.einval)

        var c = equalDevice()
        #expect(cLoad(eng_vmsd_equal(), &c, version: 1, stream).ret == Errno.einval)
    }

    @Test func int32LEStoresSmallerOrEqualValues() throws {
        for (incoming, stored) in [(Int32(10), Int32(10)), (5, 5), (0, 0)] {
            var d = equalDevice()
            var stream = equalBytes
            stream[19...22] = ArraySlice(rawBytes(incoming.bigEndian))
            try VMStateEngine.load(eng_vmsd_equal(), opaque: &d, from: stream)
            #expect(d.le == stored)
        }
    }

    @Test(arguments: [Int32(11), -1, Int32.min])
    func int32LERejectsLargerOrNegative(incoming: Int32) throws {
        var d = equalDevice()
        var stream = equalBytes
        stream[19...22] = ArraySlice(rawBytes(incoming.bigEndian))
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_equal(), opaque: &d, from: stream) })
        #expect(e.kind == .mismatch)
        #expect(e.path == "eng-equal/le")
        #expect(e.offset == 19)
        #expect(e.actual == "\(incoming)")
        #expect(e.expected?.contains("10") == true)
        #expect(d.le == 10)
    }

    // MARK: buffers

    @Test func buffersSave() throws {
        var d = EngBuffers()
        d.buf = (1, 2, 3, 4)
        d.mid = (0x10, 0x11, 0x12, 0x13, 0x14, 0x15)
        d.part = (0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27)
        d.tail = 0x99
        #expect(
            try save(eng_vmsd_buffers(), &d) == [
                0x01, 0x02, 0x03, 0x04,  // buf
                0x00, 0x00, 0x00,  // unused: zeros
                0x12, 0x13, 0x14, 0x15,  // mid from index 2
                0x20, 0x21, 0x22,  // the first 3 bytes of part
                0x99,
            ])
    }

    @Test func buffersLoadSkipsUnusedBytes() throws {
        var d = EngBuffers()
        d.mid = (0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE)
        d.part = (0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE)
        let stream: [UInt8] = [
            0xA1, 0xA2, 0xA3, 0xA4, 0x55, 0x66, 0x77, 0xB2, 0xB3, 0xB4, 0xB5, 0xC0, 0xC1, 0xC2, 0x9A,
        ]
        try VMStateEngine.load(eng_vmsd_buffers(), opaque: &d, from: stream)
        #expect(rawBytes(d.buf) == [0xA1, 0xA2, 0xA3, 0xA4])
        #expect(rawBytes(d.mid) == [0xEE, 0xEE, 0xB2, 0xB3, 0xB4, 0xB5])
        #expect(rawBytes(d.part) == [0xC0, 0xC1, 0xC2, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE])
        #expect(d.tail == 0x9A)
    }

    // MARK: nullptr

    @Test func nullEntriesOfAnArrayOfPointersAreMarkers() throws {
        var d = EngNullptr()
        d.before = 1
        d.after = 2
        #expect(try save(eng_vmsd_nullptr_save(), &d) == [0x01, 0x30, 0x30, 0x02])

        var l = EngNullptr()
        try VMStateEngine.load(eng_vmsd_nullptr_save(), opaque: &l, from: [0x07, 0x30, 0x30, 0x08])
        #expect(l.before == 7 && l.after == 8)
        #expect(l.ptrs.0 == nil && l.ptrs.1 == nil)
    }

    @Test func nullptrInfoRefusesANonNullElementOnSave() throws {
        var d = EngNullptr()
        var target: UInt8 = 0
        withUnsafeMutablePointer(to: &target) { d.ptrs.1 = UnsafeMutableRawPointer($0) }
        #expect(engineError { _ = try save(eng_vmsd_nullptr_save(), &d) } != nil)
        #expect(cSave(eng_vmsd_nullptr_save(), &d).ret == Errno.einval)
    }

    @Test func nullptrLoadNeedsTheMarker() throws {
        var d = EngNullptr()
        try VMStateEngine.load(eng_vmsd_nullptr_load(), opaque: &d, from: [0x01, 0x30, 0x02])
        #expect(d.before == 1 && d.after == 2)

        let e = try #require(
            engineError { try VMStateEngine.load(eng_vmsd_nullptr_load(), opaque: &d, from: [0x01, 0x31, 0x02]) })
        #expect(e.kind == .badMarker)
        #expect(e.path == "eng-nullptr-load/marker")
        #expect(e.offset == 1)
        #expect(e.expected == "0x30" && e.actual == "0x31")
        #expect(cLoad(eng_vmsd_nullptr_load(), &d, version: 1, [0x01, 0x31, 0x02]).ret == Errno.einval)
    }

    @Test func nullptrInfoCalledFromC() throws {
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        let f = vmstate_file_new_output(out)!
        #expect(eng_call_nullptr_put(f) == 0)
        #expect(qemu_fclose(f) == 0)
        #expect(bytes(of: out) == [0x30])

        for (input, expected) in [([UInt8(0x30)], Int32(0)), ([0x31], Errno.einval)] {
            let g = gbytes(input)
            let f = vmstate_file_new_input(g)!
            #expect(eng_call_nullptr_get(f) == expected)
            qemu_fclose(f)
            g_bytes_unref(g)
        }
    }

    // MARK: timers (default functions: expire_time is read and written)

    @Test func timersSave() throws {
        let idle = newTimer(expire: nil)
        let five = newTimer(expire: 5)
        defer { idle.deallocate(); five.deallocate() }
        #expect(idle.pointee.expire_time == -1)
        var d = EngTimers()
        vmstate_timer_init(&d.t, nil, nil)
        d.t.expire_time = 0x1122_3344_5566_7788
        d.tp = idle
        d.arr = (five, nil, idle)
        #expect(
            try save(eng_vmsd_timers(), &d) == [
                0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,  // t
                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // tp: not pending
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,  // arr[0]
                0x30,  // arr[1] is NULL
                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // arr[2]: not pending
            ])
        // Any negative expire time is "not pending" and saved as -1, as QEMU's timer_put does
        // (a -2 saved as it is would arm QEMU's timer on load).
        d.t.expire_time = -2
        #expect(Array(try save(eng_vmsd_timers(), &d).prefix(8)) == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(d.t.expire_time == -2)
        #expect(!eng_timer_pending(&d.t) && eng_timer_expire_time_ns(&d.t) == UInt64.max)
    }

    @Test func timersLoad() throws {
        let pointed = newTimer(expire: 7)
        let a = newTimer(expire: 9)
        let c = newTimer(expire: nil)
        defer { pointed.deallocate(); a.deallocate(); c.deallocate() }
        let stream: [UInt8] = [
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64,  // t = 100
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC8,  // *tp = 200
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // arr[0]: stop
            0x30,  // arr[1]: NULL
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2C,  // arr[2] = 300
        ]
        var d = EngTimers()
        vmstate_timer_init(&d.t, nil, nil)
        d.tp = pointed
        d.arr = (a, nil, c)
        try VMStateEngine.load(eng_vmsd_timers(), opaque: &d, from: stream)
        #expect(d.t.expire_time == 100)
        #expect(pointed.pointee.expire_time == 200)
        #expect(a.pointee.expire_time == -1)
        #expect(d.arr.1 == nil)
        #expect(c.pointee.expire_time == 300)

        var bad = stream
        bad[24] = 0x00
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_timers(), opaque: &d, from: bad) })
        #expect(e.kind == .badMarker)
        #expect(e.path == "eng-timers/arr[1]")
        #expect(e.offset == 24)
    }

    // MARK: tmp

    @Test func withTmpSavesTheScratchStructFilledByPreSave() throws {
        var p = EngTmpParent(lo: 0x1122_3344, hi: 0x5566_7788, limit: 0x10, scratch_pre_load_calls: 0)
        #expect(
            try save(eng_vmsd_tmp(), &p) == [
                0x55, 0x66, 0x77, 0x88, 0x11, 0x22, 0x33, 0x44,  // combined = hi:lo
                0x00, 0x00, 0x00, 0x10,  // limit
            ])
    }

    @Test func withTmpLoadsThroughTheScratchStruct() throws {
        let stream: [UInt8] = [0x55, 0x66, 0x77, 0x88, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x10]
        var p = EngTmpParent(lo: 0, hi: 0, limit: 0x10, scratch_pre_load_calls: 0)
        try VMStateEngine.load(eng_vmsd_tmp(), opaque: &p, from: stream)
        #expect(p.lo == 0x1122_3344)
        #expect(p.hi == 0x5566_7788)
        #expect(p.scratch_pre_load_calls == 1)

        // pre_load copied the parent's limit into the scratch struct, so the _equal check sees it.
        var other = EngTmpParent(lo: 1, hi: 2, limit: 0x20, scratch_pre_load_calls: 0)
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_tmp(), opaque: &other, from: stream) })
        #expect(e.kind == .mismatch)
        #expect(e.path == "eng-tmp/tmp/limit")
        #expect(e.offset == 8)
        #expect(e.expected == "0x00000020" && e.actual == "0x00000010")
        #expect(other.lo == 1 && other.hi == 2)
    }

    // MARK: bitmap

    @Test func bitmapIsWholeBigEndianWords() throws {
        let words = cArray([UInt(0x8000_0000_0000_0001), UInt(0x3F)])
        defer { words.deallocate() }
        var d = EngBitmap(bits: 70, bm: words)
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x46,  // bits = 70
            0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // word 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3F,  // word 1 (70 bits need 2 words)
        ]
        #expect(try save(eng_vmsd_bitmap(), &d) == expected)

        let target = cArray([UInt(0), UInt(0)])
        defer { target.deallocate() }
        var l = EngBitmap(bits: 0, bm: target)
        try VMStateEngine.load(eng_vmsd_bitmap(), opaque: &l, from: expected)
        #expect(l.bits == 70)
        #expect(target[0] == 0x8000_0000_0000_0001 && target[1] == 0x3F)
    }
}

/// `vmstate_set_timer_ops`: custom functions are used for save and load, NULL restores the
/// defaults. The custom functions treat only "special" timers differently, so other tests that
/// run at the same time see default behaviour.
@Suite(.serialized) struct EngineTimerOpsTests {
    @Test func customTimerFunctionsAndReset() throws {
        // The C side keeps the record's address while the functions are installed.
        let record = UnsafeMutablePointer<EngTimerRecord>.allocate(capacity: 1)
        record.initialize(to: EngTimerRecord())
        let other = newTimer(expire: 42)
        defer { record.deallocate(); other.deallocate() }
        var d = EngTimers()
        eng_special_timer_init(&d.t)
        d.tp = other

        eng_timer_ops_install(record)
        let saved: [UInt8]
        do {
            defer { eng_timer_ops_reset() }
            saved = try save(eng_vmsd_timers(), &d)
            #expect(
                saved == [
                    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // from the custom expire_time
                    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2A,  // an ordinary timer
                    0x30, 0x30, 0x30,
                ])
            #expect(record.pointee.reads == 1)

            var armed = saved
            armed[0...7] = [0, 0, 0, 0, 0, 0, 0, 0x55]
            try VMStateEngine.load(eng_vmsd_timers(), opaque: &d, from: armed)
            #expect(record.pointee.mods == 1 && record.pointee.last_mod == 0x55)
            #expect(d.t.expire_time == -1)  // the custom mod did not touch expire_time

            var stopped = saved
            stopped[0...7] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
            try VMStateEngine.load(eng_vmsd_timers(), opaque: &d, from: stopped)
            #expect(record.pointee.dels == 1)
            #expect(record.pointee.user_ok == 1)
        }

        // Defaults again (NULL was installed): the special timer's own expire_time is used.
        d.t.expire_time = 0x77
        let again = try save(eng_vmsd_timers(), &d)
        #expect(Array(again[0...7]) == [0, 0, 0, 0, 0, 0, 0, 0x77])
        var load = again
        load[0...7] = [0, 0, 0, 0, 0, 0, 0x01, 0x00]
        try VMStateEngine.load(eng_vmsd_timers(), opaque: &d, from: load)
        #expect(d.t.expire_time == 0x100)
        #expect(record.pointee.reads == 1 && record.pointee.mods == 1 && record.pointee.dels == 1)
    }

    /// qemu/timer.h's `timer_pending` and `timer_expire_time_ns` (QEMU's, for device hooks) see
    /// a timer as a save does: `expire_time` by default, the installed function otherwise.
    @Test func timerQueriesFollowTheInstalledFunctions() throws {
        var s = EngTimerSub()
        s.x = 0x7F
        vmstate_timer_init(&s.t, nil, nil)
        #expect(!eng_timer_pending(&s.t))
        #expect(eng_timer_expire_time_ns(&s.t) == UInt64.max)
        #expect(vmstate_timer_expire_time(nil) == -1)
        // Not pending: the subsection whose `needed` asks timer_pending is left out.
        #expect(try save(eng_vmsd_timer_sub(), &s) == [0x7F])

        s.t.expire_time = 0  // 0 is pending (QEMU: expire_time >= 0)
        #expect(eng_timer_pending(&s.t) && eng_timer_expire_time_ns(&s.t) == 0)
        s.t.expire_time = 0x1234
        #expect(eng_timer_expire_time_ns(&s.t) == 0x1234)
        let subsection: [UInt8] =
            [0x05, 19] + Array("eng-timer-sub/timer".utf8) + [0, 0, 0, 1]
        #expect(try save(eng_vmsd_timer_sub(), &s) == [0x7F] + subsection + [0, 0, 0, 0, 0, 0, 0x12, 0x34])

        // With functions installed, a special timer's expire_time member says "not pending"
        // but the installed function says ENG_SPECIAL_EXPIRE: the queries agree with the save.
        let record = UnsafeMutablePointer<EngTimerRecord>.allocate(capacity: 1)
        record.initialize(to: EngTimerRecord())
        defer { record.deallocate() }
        eng_special_timer_init(&s.t)
        #expect(s.t.expire_time == -1)
        eng_timer_ops_install(record)
        defer { eng_timer_ops_reset() }
        #expect(eng_timer_pending(&s.t))
        #expect(eng_timer_expire_time_ns(&s.t) == UInt64(ENG_SPECIAL_EXPIRE))
        #expect(
            try save(eng_vmsd_timer_sub(), &s)
                == [0x7F] + subsection + [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08])
        #expect(record.pointee.user_ok == 1)
    }

    // MARK: rollback of a transactional load

    /// A failed transactional load puts back each timer it armed or stopped, through the
    /// installed functions (an emulator's timer lists are not memory a rollback can copy back),
    /// last change first: the embedded special timer at the time its `expire_time` function gave
    /// before the load, those behind pointers at theirs (-1: stopped). The struct's bytes are
    /// as before.
    @Test func aTransactionalRollbackPutsTimersBackThroughTheFunctions() throws {
        let record = UnsafeMutablePointer<EngTimerRecord>.allocate(capacity: 1)
        record.initialize(to: EngTimerRecord())
        let timers = [newTimer(expire: 42), newTimer(expire: nil), newTimer(expire: 7), newTimer(expire: nil)]
        let d = UnsafeMutablePointer<EngTimers>.allocate(capacity: 1)
        d.initialize(to: EngTimers())
        defer { record.deallocate(); timers.forEach { $0.deallocate() }; d.deallocate() }
        eng_special_timer_init(&d.pointee.t)
        d.pointee.tp = timers[0]
        d.pointee.arr = (timers[1], timers[2], timers[3])
        let before = Array(UnsafeRawBufferPointer(start: d, count: MemoryLayout<EngTimers>.size))
        // t, tp, arr[0...2], then a byte after the state: the load fails at its end.
        let wire = [0x55, 0x66, 0x10, -1, 0x30].flatMap(bigEndian64) + [0xEE]

        eng_timer_ops_install(record)
        defer { eng_timer_ops_reset() }
        let (calls, error) = traceTimerCalls {
            #expect(throws: VMStateError.self) {
                try VMStateEngine.loadChecked(
                    eng_vmsd_timers(), opaque: d, size: MemoryLayout<EngTimers>.size, from: wire,
                    options: .transactional)
            }
        }
        #expect(error?.reason.hasSuffix("(load rolled back: the state is as it was before the call)") == true)
        let t = UnsafeRawPointer(d) + MemoryLayout<EngTimers>.offset(of: \.t)!
        let (tp, a0, a1, a2) = (
            UnsafeRawPointer(timers[0]), UnsafeRawPointer(timers[1]), UnsafeRawPointer(timers[2]),
            UnsafeRawPointer(timers[3])
        )
        #expect(
            calls == [
                TimerCall("m", t, 0x55), TimerCall("m", tp, 0x66), TimerCall("m", a0, 0x10), TimerCall("d", a1, -1),
                TimerCall("m", a2, 0x30),
                // the rollback
                TimerCall("d", a2, -1), TimerCall("m", a1, 7), TimerCall("d", a0, -1), TimerCall("m", tp, 42),
                TimerCall("m", t, ENG_SPECIAL_EXPIRE),
            ])
        #expect(timers.map { $0.pointee.expire_time } == [42, -1, 7, -1])
        #expect(Array(UnsafeRawBufferPointer(start: d, count: MemoryLayout<EngTimers>.size)) == before)
        #expect(
            record.pointee.mods == 2 && record.pointee.last_mod == ENG_SPECIAL_EXPIRE && record.pointee.user_ok == 1)
    }

    /// A checked load does not write through a pointer the stream's bytes were written over
    /// inside a field whose count comes from the struct (QEMU 7.2's openpic: `max_irq` past
    /// `src`, onto `dst[0].raised.queue`, which a VMSTATE_BITMAP writes through; devices50 D1),
    /// even with the value the pointer had: the stream would choose where the load writes. The
    /// pointers inside a struct array's elements (hpet's timers), which the stream does not
    /// write, are followed as before, also when the elements' own hooks set them; and the same
    /// holds in memory the load allocated (recheck50 D1, D2).
    @Test(arguments: [false, true])
    func aCheckedLoadRefusesAPointerACountWroteOver(transactional: Bool) throws {
        let victim = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        let own = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        let timers = [newTimer(expire: 1), newTimer(expire: 2)]
        let d = UnsafeMutablePointer<EngPlanted>.allocate(capacity: 1)
        defer { victim.deallocate(); own.deallocate(); timers.forEach { $0.deallocate() }; d.deallocate() }
        func reset() {
            victim.pointee = 0x7777
            own.pointee = 0x1111
            d.initialize(to: EngPlanted())
            d.pointee.target = own
            d.pointee.slots.0.t = timers[0]
            d.pointee.slots.1.t = timers[1]
        }
        let options: VMStateEngine.LoadOptions = transactional ? .transactional : []
        let size = MemoryLayout<EngPlanted>.size
        #expect(MemoryLayout<EngPlanted>.offset(of: \.target) == 24 && size == 64)
        let refusal =
            "refusing to write through a pointer that field \"arr\" of this load wrote over: its element count or "
            + "size (from the stream, often) reached past its array into the members after it"

        // n = 3: arr[2] is `target`, given the victim's address, then its own: refused both times.
        for (address, written) in [(victim, victim), (own, own)] {
            reset()
            let planted =
                be32(3) + be32(0) + bigEndian64(5) + bigEndian64(6) + bigEndian64(Int64(Int(bitPattern: address)))
                + [0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA]
            let e = try #require(
                thrownError(VMStateError.self) {
                    try VMStateEngine.loadChecked(
                        eng_vmsd_planted(), opaque: d, size: size, from: planted, options: options)
                })
            #expect(e.kind == .boundExceeded && e.path == "eng-planted/target" && e.offset == 32, "\(e)")
            #expect(e.reason.hasPrefix(refusal), "\(e)")
            #expect(victim.pointee == 0x7777 && own.pointee == 0x1111)
            #expect(d.pointee.target == (transactional ? own : written))
        }

        // Two slots (the count in range): their timer pointers are followed.
        reset()
        let slots =
            be32(2) + be32(2) + bigEndian64(5) + bigEndian64(6) + [9] + bigEndian64(0x90) + [10] + bigEndian64(0xA0)
            + [1, 1, 1, 1, 1, 1, 1, 1]
        try VMStateEngine.loadChecked(eng_vmsd_planted(), opaque: d, size: size, from: slots, options: options)
        #expect(d.pointee.slots.0.v == 9 && d.pointee.slots.1.v == 10)
        #expect(d.pointee.arr.0.x == 5 && d.pointee.arr.1.x == 6)
        #expect(timers[0].pointee.expire_time == 0x90 && timers[1].pointee.expire_time == 0xA0)
        #expect(own.pointee == 0x0101_0101_0101_0101)

        // Elements whose pre_load sets the pointer their TIMER_PTR follows: followed.
        let h = UnsafeMutablePointer<EngPlantedHook>.allocate(capacity: 1)
        defer { h.deallocate() }
        h.initialize(to: EngPlantedHook())
        let hooked = be32(2) + be32(1) + bigEndian64(0x11) + be32(2) + bigEndian64(0x22)
        try VMStateEngine.loadChecked(
            eng_vmsd_planted_hook(), opaque: h, size: MemoryLayout<EngPlantedHook>.size, from: hooked,
            options: options)
        #expect(h.pointee.e.0.i == 1 && h.pointee.e.1.i == 2)
        #expect(h.pointee.e.0.spare.expire_time == 0x11 && h.pointee.e.1.spare.expire_time == 0x22)

        // In memory the load allocated: m = 5 writes a[2...4], a[3] and a[4] over p[0], then
        // p[0] would be written through.
        let a = UnsafeMutablePointer<EngPlantedAlloc>.allocate(capacity: 1)
        defer { a.deallocate() }
        a.initialize(to: EngPlantedAlloc())
        let address = UInt64(UInt(bitPattern: victim))
        let overrun =
            be32(1) + be32(5) + be32(1) + be32(2) + be32(0) + be32(UInt32(truncatingIfNeeded: address))
            + be32(UInt32(truncatingIfNeeded: address >> 32)) + be32(0x4141_4141)
        let e = try #require(
            thrownError(VMStateError.self) {
                try VMStateEngine.loadChecked(
                    eng_vmsd_planted_alloc(), opaque: a, size: MemoryLayout<EngPlantedAlloc>.size, from: overrun,
                    options: options)
            })
        #expect(e.kind == .boundExceeded && e.path == "eng-planted-alloc/e/p/p", "\(e)")
        #expect(
            e.reason.hasPrefix(
                "refusing to write through a pointer that field \"a\" of this load wrote over"), "\(e)")
        #expect(victim.pointee == 0x7777)
        if !transactional, let elements = a.pointee.e { g_free(elements) }
    }

    /// A checked load does not hand the installed timer functions (QEMU's `timer_mod` follows
    /// `timer_list`) an inline timer whose pointer members a count from the struct wrote over
    /// (recheck51 A3); with the count in range the timer is armed through them, and without
    /// them the engine writes `expire_time` alone and follows nothing.
    @Test(arguments: [false, true])
    func aCheckedLoadDoesNotHandTheTimerFunctionsATimerACountWroteOver(transactional: Bool) throws {
        let record = UnsafeMutablePointer<EngTimerRecord>.allocate(capacity: 1)
        record.initialize(to: EngTimerRecord())
        let d = UnsafeMutablePointer<EngTimerOverrun>.allocate(capacity: 1)
        defer { record.deallocate(); d.deallocate() }
        let size = MemoryLayout<EngTimerOverrun>.size
        #expect(MemoryLayout<EngTimerOverrun>.offset(of: \.t) == 16 && size == 64)
        func reset() {
            d.initialize(to: EngTimerOverrun())
            eng_special_timer_init(&d.pointee.t)
        }
        func wire(_ n: UInt32) -> [UInt8] {
            be32(n) + (0..<n).flatMap { be32(0x4141_0000 + $0) } + bigEndian64(0x55)
        }
        let options: VMStateEngine.LoadOptions = transactional ? .transactional : []
        let t = UnsafeRawPointer(d) + 16

        eng_timer_ops_install(record)
        // n = 7: a[5] and a[6] land on t.timer_list.
        reset()
        let (refused, error) = traceTimerCalls {
            thrownError(VMStateError.self) {
                try VMStateEngine.loadChecked(
                    eng_vmsd_timer_overrun(), opaque: d, size: size, from: wire(7), options: options)
            }
        }
        #expect(refused == [])
        #expect(error?.kind == .boundExceeded && error?.path == "eng-timer-overrun/t" && error?.offset == 4 + 28 + 8)
        #expect(
            error?.reason.hasPrefix(
                "refusing to hand the timer functions a timer whose timer_list field \"a\" of this load wrote over")
                == true, "\(String(describing: error))")
        // n = 5: expire_time only (a value, not a pointer), then the field's value: armed.
        reset()
        let (armed, none) = traceTimerCalls {
            thrownError(VMStateError.self) {
                try VMStateEngine.loadChecked(
                    eng_vmsd_timer_overrun(), opaque: d, size: size, from: wire(5), options: options)
            }
        }
        #expect(none == nil, "\(String(describing: none))")
        #expect(armed == [TimerCall("m", t, 0x55)])

        // A timer the load armed, then a count wrote over its timer_list, then the load failed:
        // the rollback does not hand it to the functions again (they would follow the stream's
        // pointer); its bytes, with the struct's, are as before the load (recheck51b D1).
        if transactional {
            let late = UnsafeMutablePointer<EngTimerOverrunLate>.allocate(capacity: 1)
            defer { late.deallocate() }
            late.initialize(to: EngTimerOverrunLate())
            eng_special_timer_init(&late.pointee.t)
            let lateSize = MemoryLayout<EngTimerOverrunLate>.size
            let before = Array(UnsafeRawBufferPointer(start: late, count: lateSize))
            let lateWire = bigEndian64(0x55) + be32(7) + (0..<7).flatMap { be32(0x4141_0000 + $0) } + [1]
            let (calls, failure) = traceTimerCalls {
                thrownError(VMStateError.self) {
                    try VMStateEngine.loadChecked(
                        eng_vmsd_timer_overrun_late(), opaque: late, size: lateSize, from: lateWire,
                        options: .transactional)
                }
            }
            #expect(failure?.kind == .mismatch && failure?.path == "eng-timer-overrun-late/tail")
            #expect(calls == [TimerCall("m", UnsafeRawPointer(late) + 16, 0x55)])
            #expect(Array(UnsafeRawBufferPointer(start: late, count: lateSize)) == before)
        }
        eng_timer_ops_reset()

        // Without the functions: n = 7 loads; timer_list keeps the stream's bytes, not followed.
        reset()
        try VMStateEngine.loadChecked(eng_vmsd_timer_overrun(), opaque: d, size: size, from: wire(7), options: options)
        #expect(d.pointee.t.expire_time == 0x55)
        #expect(UInt(bitPattern: d.pointee.t.timer_list) == 0x4141_0006_4141_0005)
    }

    /// Timers in memory the load allocated (a VMS_ALLOC array of structs) are stopped before a
    /// rollback frees that memory, last armed first.
    @Test func aTransactionalRollbackStopsTimersInMemoryItFrees() throws {
        let record = UnsafeMutablePointer<EngTimerRecord>.allocate(capacity: 1)
        record.initialize(to: EngTimerRecord())
        let d = UnsafeMutablePointer<EngTimerAlloc>.allocate(capacity: 1)
        d.initialize(to: EngTimerAlloc(n: 0, elems: nil, tail: 9))
        defer { record.deallocate(); d.deallocate() }
        // n = 2; elems[0] (t 0x100, v 1), elems[1] (t 0x200, v 2); tail 8, not 9: the load fails there.
        let wire: [UInt8] = [0, 0, 0, 2] + bigEndian64(0x100) + [1] + bigEndian64(0x200) + [2, 8]

        eng_timer_ops_install(record)
        defer { eng_timer_ops_reset() }
        let (calls, error) = traceTimerCalls {
            #expect(throws: VMStateError.self) {
                try VMStateEngine.loadChecked(
                    eng_vmsd_timer_alloc(), opaque: d, size: MemoryLayout<EngTimerAlloc>.size, from: wire,
                    options: .transactional)
            }
        }
        #expect(error?.path == "eng-timer-alloc/tail")
        try #require(calls.count == 4)
        #expect(calls.map(\.op) == ["m", "m", "d", "d"] && calls.map(\.expire) == [0x100, 0x200, -1, -1])
        #expect(calls[2].timer == calls[1].timer && calls[3].timer == calls[0].timer)
        #expect(d.pointee.n == 0 && d.pointee.elems == nil && d.pointee.tail == 9)
    }

    /// A list element that fails to load after its timer was armed is freed: its timer is
    /// stopped first, in a transactional load and in a checked one, and a rollback does not
    /// touch it again.
    @Test func aFailedListElementStopsItsTimerBeforeItIsFreed() throws {
        let record = UnsafeMutablePointer<EngTimerRecord>.allocate(capacity: 1)
        record.initialize(to: EngTimerRecord())
        let d = UnsafeMutablePointer<EngTimerQ>.allocate(capacity: 1)
        d.initialize(to: EngTimerQ())
        eng_timer_q_init(d)
        defer { record.deallocate(); d.deallocate() }
        // One element: t 0x100, then v 1 where the new element holds 0 (an _EQUAL field): it fails.
        let wire: [UInt8] = [1] + bigEndian64(0x100) + [1]

        eng_timer_ops_install(record)
        defer { eng_timer_ops_reset() }
        for options: VMStateEngine.LoadOptions in [.transactional, []] {
            let (calls, error) = traceTimerCalls {
                #expect(throws: VMStateError.self) {
                    try VMStateEngine.loadChecked(
                        eng_vmsd_timer_q(), opaque: d, size: MemoryLayout<EngTimerQ>.size, from: wire, options: options)
                }
            }
            #expect(error?.path == "eng-timer-q/q[0]/v")
            try #require(calls.count == 2)
            #expect(calls[0].op == "m" && calls[0].expire == 0x100)
            #expect(calls[1] == TimerCall("d", calls[0].timer, -1))
            #expect(d.pointee.q.tqh_first == nil)
        }
    }
}

/// A call of the installed timer functions' `mod` ("m") or `del` ("d", expire -1).
struct TimerCall: Equatable, CustomStringConvertible {
    let op: Character
    let timer: UnsafeRawPointer?
    let expire: Int64

    init(_ op: Character, _ timer: UnsafeRawPointer?, _ expire: Int64) {
        self.op = op
        self.timer = timer
        self.expire = expire
    }

    var description: String { "\(op)(\(timer.map { "\($0)" } ?? "nil"), \(expire))" }
}

/// Runs `body` with eng-timers' trace of `mod` and `del` calls on this thread; returns the calls
/// and the `VMStateError` `body`'s `#expect(throws:)` saw, if any.
func traceTimerCalls(_ body: () -> VMStateError?) -> (calls: [TimerCall], error: VMStateError?) {
    eng_timer_trace_start()
    let error = body()
    var buffer = [EngTimerCall](repeating: EngTimerCall(), count: Int(ENG_TIMER_TRACE_MAX))
    let count = Int(eng_timer_trace_stop(&buffer, ENG_TIMER_TRACE_MAX))
    let calls = buffer.prefix(min(count, Int(ENG_TIMER_TRACE_MAX))).map {
        TimerCall(Character(UnicodeScalar(UInt8(bitPattern: $0.op))), UnsafeRawPointer($0.timer), $0.expire)
    }
    return (calls, error)
}

/// `value`'s 8 bytes, big-endian (a VMSTATE_TIMER's wire bytes).
func bigEndian64(_ value: Int64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: value) >> (56 - 8 * UInt64($0))) }
}

/// A heap timer (deallocate it); `expire` nil means not pending.
func newTimer(expire: Int64?) -> UnsafeMutablePointer<QEMUTimer> {
    let t = UnsafeMutablePointer<QEMUTimer>.allocate(capacity: 1)
    t.initialize(to: QEMUTimer())
    vmstate_timer_init(t, nil, nil)
    if let expire { t.pointee.expire_time = expire }
    return t
}
