import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// Every VMStateFlags bit (docs/FORMAT.md §2): exact bytes on save, exact values on load.
@Suite struct EngineFlagTests {
    // MARK: ARRAY (plain, 2D, sub-array)

    let arrayBytes: [UInt8] = [
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06,  // arr[3] of uint16
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06,  // grid[2][3] of uint8
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03,  // sub[1...3]
    ]

    @Test func arraySave() throws {
        var d = EngFlags()
        d.arr = (0x0102, 0x0304, 0x0506)
        d.grid = ((1, 2, 3), (4, 5, 6))
        d.sub = (0xAAAA_AAAA, 1, 2, 3, 0xBBBB_BBBB)
        #expect(try save(eng_vmsd_array(), &d) == arrayBytes)
    }

    @Test func arrayLoad() throws {
        var d = EngFlags()
        d.sub = (0xAAAA_AAAA, 0, 0, 0, 0xBBBB_BBBB)
        try VMStateEngine.load(eng_vmsd_array(), opaque: &d, from: arrayBytes)
        #expect(elements(d.arr, as: UInt16.self) == [0x0102, 0x0304, 0x0506])
        #expect(rawBytes(d.grid) == [1, 2, 3, 4, 5, 6])
        #expect(elements(d.sub, as: UInt32.self) == [0xAAAA_AAAA, 1, 2, 3, 0xBBBB_BBBB])
    }

    // MARK: VARRAY_INT32 / UINT8 / UINT16 / UINT32 (with and without POINTER)

    let varrayBytes: [UInt8] = [
        0x00, 0x00, 0x00, 0x02,  // vi32_n
        0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,  // *vi32 (VARRAY_INT32 | POINTER)
        0x00, 0x00, 0x00, 0x03,  // ui32_n
        0xFF, 0xFF, 0x00, 0x02, 0xFF, 0xFD,  // ui32_inline[0..<3] (VARRAY_INT32, int16)
        0x02,  // vu8_n
        0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04,  // vu8 (STRUCT)
        0x00, 0x01,  // vu16_n
        0xAB, 0xCD,  // vu16[0]
        0x00, 0x00, 0x00, 0x02,  // vu32_n
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // *vu32 (VARRAY_UINT32 | POINTER)
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x00, 0x00, 0x00, 0x01,  // su32_n
        0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,  // su32[0] (STRUCT | VARRAY_UINT32)
    ]

    @Test func varraySave() throws {
        let vi32 = cArray([UInt32(0x1111_1111), 0x2222_2222])
        let vu32 = cArray([UInt64(1), UInt64.max])
        defer { vi32.deallocate(); vu32.deallocate() }
        var d = EngFlags()
        d.vi32_n = 2
        d.vi32 = vi32
        d.ui32_n = 3
        d.ui32_inline = (-1, 2, -3, 99)
        d.vu8_n = 2
        d.vu8 = (EngInner(a: 1, b: 2), EngInner(a: 3, b: 4), EngInner(a: 5, b: 6))
        d.vu16_n = 1
        d.vu16 = (0xABCD, 0x1111, 0x2222, 0x3333)
        d.vu32_n = 2
        d.vu32 = vu32
        d.su32_n = 1
        d.su32 = (EngInner(a: 0x0A0B, b: 0x0C0D_0E0F), EngInner(a: 9, b: 9), EngInner(a: 9, b: 9))
        #expect(try save(eng_vmsd_varray(), &d) == varrayBytes)
    }

    @Test func varrayLoad() throws {
        let vi32 = cArray([UInt32(0), 0])
        let vu32 = cArray([UInt64(0), 0])
        defer { vi32.deallocate(); vu32.deallocate() }
        var d = EngFlags()
        d.vi32 = vi32
        d.vu32 = vu32
        d.ui32_inline = (0, 0, 0, 99)
        d.vu8 = (EngInner(), EngInner(), EngInner(a: 7, b: 7))
        d.vu16 = (0, 0x1111, 0x2222, 0x3333)
        d.su32 = (EngInner(), EngInner(a: 8, b: 8), EngInner(a: 9, b: 9))
        try VMStateEngine.load(eng_vmsd_varray(), opaque: &d, from: varrayBytes)
        #expect(d.vi32_n == 2 && vi32[0] == 0x1111_1111 && vi32[1] == 0x2222_2222)
        #expect(d.ui32_n == 3 && elements(d.ui32_inline, as: Int16.self) == [-1, 2, -3, 99])
        #expect(d.vu8_n == 2)
        #expect(d.vu8.0.a == 1 && d.vu8.0.b == 2 && d.vu8.1.a == 3 && d.vu8.1.b == 4)
        #expect(d.vu8.2.a == 7 && d.vu8.2.b == 7)
        #expect(d.vu16_n == 1 && elements(d.vu16, as: UInt16.self) == [0xABCD, 0x1111, 0x2222, 0x3333])
        #expect(d.vu32_n == 2 && vu32[0] == 1 && vu32[1] == UInt64.max)
        #expect(d.su32_n == 1 && d.su32.0.a == 0x0A0B && d.su32.0.b == 0x0C0D_0E0F)
        #expect(d.su32.1.a == 8 && d.su32.2.a == 9)
    }

    @Test func varrayWithZeroCountsAndNullPointers() throws {
        var d = EngFlags()
        let zeros: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]  // only the counters
        #expect(try save(eng_vmsd_varray(), &d) == zeros)
        try VMStateEngine.load(eng_vmsd_varray(), opaque: &d, from: zeros)
        #expect(d.vi32 == nil && d.vu32 == nil)
    }

    // MARK: MULTIPLY_ELEMENTS

    @Test func multiplyElements() throws {
        var d = EngFlags()
        d.mul_n = 3
        d.mul = (1, 2, 3, 4, 5, 6, 7, 8)
        let expected: [UInt8] = [0x00, 0x00, 0x00, 0x03, 1, 2, 3, 4, 5, 6]  // 3 x 2 elements
        #expect(try save(eng_vmsd_multiply(), &d) == expected)

        var l = EngFlags()
        l.mul = (0, 0, 0, 0, 0, 0, 0xEE, 0xEE)
        try VMStateEngine.load(eng_vmsd_multiply(), opaque: &l, from: expected)
        #expect(l.mul_n == 3)
        #expect(rawBytes(l.mul) == [1, 2, 3, 4, 5, 6, 0xEE, 0xEE])
    }

    // MARK: VBUFFER (int32 and uint32 sizes, MULTIPLY), BUFFER | POINTER

    let vbufferBytes: [UInt8] = [
        0x00, 0x00, 0x00, 0x03, 0x09, 0x08, 0x07,  // vbuf_len, vbuf
        0x00, 0x00, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,  // vbm_len, vbm (2 x 3 bytes)
        0x00, 0x00, 0x00, 0x01, 0x42,  // vbu_len, vbu
        0xAA, 0xBB,  // *praw (2 bytes)
    ]

    @Test func vbufferSave() throws {
        let vbuf = cArray([UInt8(9), 8, 7])
        let vbm = cArray([UInt8(1), 2, 3, 4, 5, 6, 0xEE])
        let vbu = cArray([UInt8(0x42)])
        let praw = cArray([UInt8(0xAA), 0xBB, 0xCC])
        defer { vbuf.deallocate(); vbm.deallocate(); vbu.deallocate(); praw.deallocate() }
        var d = EngFlags()
        d.vbuf_len = 3
        d.vbuf = vbuf
        d.vbm_len = 2
        d.vbm = vbm
        d.vbu_len = 1
        d.vbu = vbu
        d.praw = praw
        #expect(try save(eng_vmsd_vbuffer(), &d) == vbufferBytes)
    }

    @Test func vbufferLoad() throws {
        let vbuf = cArray([UInt8](repeating: 0, count: 3))
        let vbm = cArray([UInt8](repeating: 0xEE, count: 7))
        let vbu = cArray([UInt8(0)])
        let praw = cArray([UInt8(0), 0, 0xCC])
        defer { vbuf.deallocate(); vbm.deallocate(); vbu.deallocate(); praw.deallocate() }
        var d = EngFlags()
        d.vbuf = vbuf
        d.vbm = vbm
        d.vbu = vbu
        d.praw = praw
        try VMStateEngine.load(eng_vmsd_vbuffer(), opaque: &d, from: vbufferBytes)
        #expect(d.vbuf_len == 3 && Array(UnsafeBufferPointer(start: vbuf, count: 3)) == [9, 8, 7])
        #expect(d.vbm_len == 2 && Array(UnsafeBufferPointer(start: vbm, count: 7)) == [1, 2, 3, 4, 5, 6, 0xEE])
        #expect(d.vbu_len == 1 && vbu[0] == 0x42)
        #expect(Array(UnsafeBufferPointer(start: praw, count: 3)) == [0xAA, 0xBB, 0xCC])
    }

    // MARK: STRUCT, STRUCT | POINTER, STRUCT | ARRAY

    let structBytes: [UInt8] = [
        0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  // s
        0x00, 0x03, 0x00, 0x00, 0x00, 0x04,  // *sp
        0x00, 0x05, 0x00, 0x00, 0x00, 0x06,  // sarr[0]
        0x00, 0x07, 0x00, 0x00, 0x00, 0x08,  // sarr[1]
    ]

    @Test func structSaveAndLoad() throws {
        let sp = cArray([EngInner(a: 3, b: 4)])
        defer { sp.deallocate() }
        var d = EngFlags()
        d.s = EngInner(a: 1, b: 2)
        d.sp = sp
        d.sarr = (EngInner(a: 5, b: 6), EngInner(a: 7, b: 8))
        #expect(try save(eng_vmsd_struct(), &d) == structBytes)

        let target = cArray([EngInner()])
        defer { target.deallocate() }
        var l = EngFlags()
        l.sp = target
        try VMStateEngine.load(eng_vmsd_struct(), opaque: &l, from: structBytes)
        #expect(l.s.a == 1 && l.s.b == 2)
        #expect(target.pointee.a == 3 && target.pointee.b == 4)
        #expect(l.sarr.0.a == 5 && l.sarr.0.b == 6 && l.sarr.1.a == 7 && l.sarr.1.b == 8)
    }

    // MARK: ARRAY_OF_POINTER with NULL entries

    let ptrArrayBytes: [UInt8] = [
        0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  // *parr[0]
        0x30,  // parr[1] is NULL
        0x00, 0x03, 0x00, 0x00, 0x00, 0x04,  // *parr[2]
    ]

    @Test func arrayOfPointerSaveWritesMarkerForNull() throws {
        let x = cArray([EngInner(a: 1, b: 2)])
        let y = cArray([EngInner(a: 3, b: 4)])
        defer { x.deallocate(); y.deallocate() }
        var d = EngFlags()
        d.parr = (x, nil, y)
        #expect(try save(eng_vmsd_ptrarray(), &d) == ptrArrayBytes)
    }

    @Test func arrayOfPointerLoadKeepsNullAndNeedsTheMarker() throws {
        let x = cArray([EngInner()])
        let y = cArray([EngInner()])
        defer { x.deallocate(); y.deallocate() }
        var d = EngFlags()
        d.parr = (x, nil, y)
        try VMStateEngine.load(eng_vmsd_ptrarray(), opaque: &d, from: ptrArrayBytes)
        #expect(x.pointee.a == 1 && x.pointee.b == 2)
        #expect(d.parr.1 == nil)
        #expect(y.pointee.a == 3 && y.pointee.b == 4)

        var bad = ptrArrayBytes
        bad[6] = 0x31
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_ptrarray(), opaque: &d, from: bad) })
        #expect(e.kind == .badMarker)
        #expect(e.path == "eng-ptrarray/parr[1]")
        #expect(e.offset == 6)
        #expect(e.expected == "0x30" && e.actual == "0x31")
        #expect(d.parr.1 == nil)
        #expect(cLoad(eng_vmsd_ptrarray(), &d, version: 1, bad).ret == Errno.einval)
    }

    // MARK: VSTRUCT

    @Test func vstructSavesAtStructVersion() throws {
        var d = EngVStruct(v1s: EngVInner(a: 0x0102, b: 0x0304_0506), v2s: EngVInner(a: 0x0708, b: 0x090A_0B0C))
        let expected: [UInt8] = [
            0x01, 0x02,  // v1s at version 1: a only
            0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C,  // v2s at version 2: a and b
        ]
        #expect(try save(eng_vmsd_vstruct(), &d) == expected)

        var l = EngVStruct(v1s: EngVInner(a: 0, b: 0xEEEE_EEEE), v2s: EngVInner(a: 0, b: 0xEEEE_EEEE))
        try VMStateEngine.load(eng_vmsd_vstruct(), opaque: &l, from: expected)
        #expect(l.v1s.a == 0x0102 && l.v1s.b == 0xEEEE_EEEE)  // b is a version 2 field
        #expect(l.v2s.a == 0x0708 && l.v2s.b == 0x090A_0B0C)
    }

    @Test func vstructLoadChecksTheStructVersion() throws {
        var d = EngVStruct()
        let e = try #require(
            engineError {
                try VMStateEngine.load(eng_vmsd_vstruct_bad(), opaque: &d, from: [0, 1, 0, 0, 0, 2])
            })
        #expect(e.kind == .versionTooNew)
        #expect(e.path == "eng-vstruct-bad/v1s")
        #expect(e.offset == 0)
    }

    // MARK: ALLOC

    let allocBytes: [UInt8] = [
        0x00, 0x00, 0x00, 0x03,  // n
        0x00, 0x01, 0x00, 0x02, 0x00, 0x03,  // vals (uint16)
        0x00, 0x00, 0x00, 0x02,  // sn
        0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04,  // structs
        0x00, 0x00, 0x00, 0x02,  // blen
        0xAA, 0xBB,  // blob
        0x00, 0x01,  // hn
        0x7F,  // h
    ]

    @Test func allocSave() throws {
        let vals = cArray([UInt16(1), 2, 3])
        let structs = cArray([EngInner(a: 1, b: 2), EngInner(a: 3, b: 4)])
        let blob = cArray([UInt8(0xAA), 0xBB])
        let h = cArray([UInt8(0x7F)])
        defer { vals.deallocate(); structs.deallocate(); blob.deallocate(); h.deallocate() }
        var d = EngAlloc(n: 3, vals: vals, sn: 2, structs: structs, blen: 2, blob: blob, hn: 1, h: h)
        #expect(try save(eng_vmsd_alloc(), &d) == allocBytes)
    }

    @Test func allocLoadAllocatesMemory() throws {
        var d = EngAlloc()
        try VMStateEngine.load(eng_vmsd_alloc(), opaque: &d, from: allocBytes)
        defer {
            g_free(d.vals)
            g_free(d.structs)
            g_free(d.blob)
            g_free(d.h)
        }
        let vals = try #require(d.vals)
        let structs = try #require(d.structs)
        let blob = try #require(d.blob)
        let h = try #require(d.h)
        #expect(d.n == 3 && Array(UnsafeBufferPointer(start: vals, count: 3)) == [1, 2, 3])
        #expect(d.sn == 2)
        #expect(structs[0].a == 1 && structs[0].b == 2 && structs[1].a == 3 && structs[1].b == 4)
        #expect(d.blen == 2 && blob[0] == 0xAA && blob[1] == 0xBB)
        #expect(d.hn == 1 && h[0] == 0x7F)
    }

    @Test func allocWithZeroCountAllocatesNothing() throws {
        var d = EngAlloc()
        try VMStateEngine.load(eng_vmsd_alloc(), opaque: &d, from: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(d.vals == nil && d.structs == nil && d.blob == nil && d.h == nil)
    }

    // MARK: MUST_EXIST (VMSTATE_VALIDATE)

    @Test func validatePassesAndWritesNothing() throws {
        var d = EngValidate(x: 5)
        #expect(try save(eng_vmsd_validate(), &d) == [0x00, 0x00, 0x00, 0x05])
        var l = EngValidate()
        try VMStateEngine.load(eng_vmsd_validate(), opaque: &l, from: [0x00, 0x00, 0x00, 0x05])
        #expect(l.x == 5)
    }

    @Test func validateFailureOnLoad() throws {
        var d = EngValidate()
        let stream: [UInt8] = [0x00, 0x00, 0x00, 0xC8]  // 200: the check runs on the loaded value
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_validate(), opaque: &d, from: stream) })
        #expect(e.kind == .mustExist)
        #expect(e.path == "eng-validate/x below 100")
        #expect(e.offset == 4)
        #expect(e.errno == -1)
        var c = EngValidate()
        #expect(cLoad(eng_vmsd_validate(), &c, version: 1, stream).ret == -1)
    }

    @Test func validateFailureOnSaveIsReported() throws {
        // QEMU asserts here (a programming error); the engine reports it instead.
        var d = EngValidate(x: 200)
        let e = try #require(engineError { _ = try save(eng_vmsd_validate(), &d) })
        #expect(e.kind == .mustExist)
        #expect(e.path == "eng-validate/x below 100")
    }
}
