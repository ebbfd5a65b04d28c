import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// `vmstate_load_state` over every cut of the saved bytes of fixture devices that between them
/// use every standard info, every flag, nested structs (also as the last field), lists, trees,
/// custom infos and subsections (of the device and of a nested struct): at each length from 0 to
/// the whole, the return value and `qemu_file_get_error()` are what QEMU 7.2's rules give
/// (QEMUResultModel.swift, which walks a layout written out here by hand).
@Suite struct QEMUResultTruncationTests {
    /// A fixture device: its saved bytes, the layout QEMU walks, and a load of given bytes into
    /// a fresh destination through QEMU's API.
    struct Device: CustomStringConvertible, @unchecked Sendable {
        let name: String
        let version: Int32
        let full: [UInt8]
        let layout: QDesc
        let load: ([UInt8]) -> (ret: Int32, fileError: Int32)
        var description: String { name }
    }

    static let inner = QDesc("eng-inner", [[.bytes(2)], [.bytes(4)]])

    /// Loads `data` with vmstate_load_state into `opaque`; (return, file error).
    static func qemuLoad(
        _ vmsd: UnsafePointer<VMStateDescription>, _ opaque: UnsafeMutableRawPointer, _ version: Int32, _ data: [UInt8]
    ) -> (ret: Int32, fileError: Int32) {
        let r = cLoad(vmsd, opaque, version: version, data)
        return (r.ret, r.fileError)
    }

    /// A device saved from `source` and loaded into copies of `destination` (plain structs).
    static func plain<T>(
        _ name: String, _ vmsd: UnsafePointer<VMStateDescription>, source: T, destination: T, version: Int32 = 1,
        _ layout: QDesc
    ) -> Device {
        var s = source
        let full = withUnsafeMutableBytes(of: &s) { cSave(vmsd, $0.baseAddress!).bytes }
        return Device(name: name, version: version, full: full, layout: layout) { data in
            var d = destination
            return withUnsafeMutableBytes(of: &d) { qemuLoad(vmsd, $0.baseAddress!, version, data) }
        }
    }

    static func flagsSource() -> EngFlags {
        var f = EngFlags()
        f.arr = (0x0102, 0x0304, 0x0506)
        f.grid = ((1, 2, 3), (4, 5, 6))
        f.sub = (9, 1, 2, 3, 9)
        f.vi32_n = 2
        f.ui32_n = 3
        f.ui32_inline = (-1, 2, -3, 4)
        f.vu8_n = 2
        f.vu8 = (EngInner(a: 1, b: 2), EngInner(a: 3, b: 4), EngInner(a: 5, b: 6))
        f.vu16_n = 2
        f.vu16 = (7, 8, 9, 10)
        f.vu32_n = 1
        f.su32_n = 2
        f.su32 = (EngInner(a: 11, b: 12), EngInner(a: 13, b: 14), EngInner(a: 15, b: 16))
        f.mul_n = 3
        f.vbuf_len = 3
        f.vbm_len = 2
        f.vbu_len = 4
        f.s = EngInner(a: 0x2122, b: 0x2324_2526)
        f.sarr = (EngInner(a: 31, b: 32), EngInner(a: 33, b: 34))
        return f
    }

    /// EngFlags with every pointer field pointing at memory of `arena` (NULL for parr[1]).
    static func withPointers(_ f: EngFlags, _ arena: inout [UnsafeMutableRawPointer]) -> EngFlags {
        func block(_ bytes: Int, fill: UInt8) -> UnsafeMutableRawPointer {
            let p = g_malloc0(gsize(bytes))!
            memset(p, Int32(fill), bytes)
            arena.append(p)
            return p
        }
        var f = f
        f.vi32 = block(64, fill: 0x11).assumingMemoryBound(to: UInt32.self)
        f.vu32 = block(64, fill: 0x22).assumingMemoryBound(to: UInt64.self)
        f.vbuf = block(64, fill: 0x33).assumingMemoryBound(to: UInt8.self)
        f.vbm = block(64, fill: 0x44).assumingMemoryBound(to: UInt8.self)
        f.vbu = block(64, fill: 0x55).assumingMemoryBound(to: UInt8.self)
        f.praw = block(64, fill: 0x66).assumingMemoryBound(to: UInt8.self)
        f.sp = block(64, fill: 0x07).assumingMemoryBound(to: EngInner.self)
        f.parr = (
            block(64, fill: 0x08).assumingMemoryBound(to: EngInner.self), nil,
            block(64, fill: 0x09).assumingMemoryBound(to: EngInner.self)
        )
        return f
    }

    /// A device over EngFlags (pointer fields set up in source and destination).
    static func flags(_ name: String, _ vmsd: UnsafePointer<VMStateDescription>, _ layout: QDesc) -> Device {
        var sourceArena: [UnsafeMutableRawPointer] = []
        var s = withPointers(flagsSource(), &sourceArena)
        let full = cSave(vmsd, &s).bytes
        sourceArena.forEach { g_free($0) }
        return Device(name: name, version: 1, full: full, layout: layout) { data in
            var arena: [UnsafeMutableRawPointer] = []
            defer { arena.forEach { g_free($0) } }
            var d = withPointers(EngFlags(), &arena)
            return qemuLoad(vmsd, &d, 1, data)
        }
    }

    static let devices: [Device] = {
        var list: [Device] = []
        let inner = Self.inner

        // Arrays of scalars, arrays of structs, a struct last, the device's own subsection.
        var trunc = EngTrunc(
            head: 0xAA, arr: (1, 2, 3, 4, 5), structs: (EngInner(a: 6, b: 7), EngInner(a: 8, b: 9)),
            in: EngInner(a: 10, b: 11), sub_val: 12)
        list.append(
            plain(
                "eng-trunc", eng_vmsd_trunc(), source: trunc, destination: EngTrunc(),
                QDesc(
                    "eng-trunc",
                    [
                        [.bytes(1)], each(.bytes(4), 5), each(.nested(inner, version: 1), 2),
                        [.nested(inner, version: 1)],
                    ],
                    subsections: [QDesc("eng-trunc/sub", [[.bytes(2)]])])))
        trunc.sub_val = 0

        var scalars = EngScalars()
        scalars.b = true
        scalars.i8 = -2
        scalars.i16 = -300
        scalars.i32 = -70000
        scalars.i64 = -5_000_000_000
        scalars.u8 = 200
        scalars.u16 = 60000
        scalars.u32 = 4_000_000_000
        scalars.u64 = 0x0102_0304_0506_0708
        list.append(
            plain(
                "eng-scalars", eng_vmsd_scalars(), source: scalars, destination: EngScalars(),
                QDesc(
                    "eng-scalars",
                    [
                        [.bytes(1)], [.bytes(1)], [.bytes(2)], [.bytes(4)], [.bytes(8)], [.bytes(1)], [.bytes(2)],
                        [.bytes(4)], [.bytes(8)], [.bytes(8)],
                    ])))
        list.append(
            plain(
                "eng-bools", eng_vmsd_bools(), source: EngBools(flags: (true, false, true, true)),
                destination: EngBools(), QDesc("eng-bools", [each(.bytes(1), 4)])))

        // _EQUAL and _LE: values cut short are compared as QEMU reads them (zeros past the end).
        let equal = EngEqual(i32: -2, u8: 0x5A, u16: 0x0100, u32: 0x1234_0000, u64: 7, le: 3)
        var equalLocal = equal
        equalLocal.le = 9
        list.append(
            plain(
                "eng-equal", eng_vmsd_equal(), source: equal, destination: equalLocal,
                QDesc(
                    "eng-equal",
                    [
                        [.equal(4, 0xFFFF_FFFE)], [.equal(1, 0x5A)], [.equal(2, 0x0100)], [.equal(4, 0x1234_0000)],
                        [.equal(8, 7)], [.le(9)],
                    ])))

        var buffers = EngBuffers()
        buffers.buf = (1, 2, 3, 4)
        buffers.mid = (0, 0, 5, 6, 7, 8)
        buffers.part = (9, 10, 11, 0, 0, 0, 0, 0)
        buffers.tail = 12
        list.append(
            plain(
                "eng-buffers", eng_vmsd_buffers(), source: buffers, destination: EngBuffers(),
                QDesc("eng-buffers", [[.bytes(4)], [.bytes(3)], [.bytes(4)], [.bytes(3)], [.bytes(1)]])))

        // NULL entries of an array of pointers, and vmstate_info_nullptr as a single field.
        list.append(
            plain(
                "eng-nullptr-save", eng_vmsd_nullptr_save(), source: EngNullptr(before: 1, ptrs: (nil, nil), after: 2),
                destination: EngNullptr(),
                QDesc("eng-nullptr-save", [[.bytes(1)], [.nullMarker, .nullMarker], [.bytes(1)]])))
        let nullptrLoad = QDesc("eng-nullptr-load", [[.bytes(1)], [.nullMarker], [.bytes(1)]])
        list.append(
            Device(name: "eng-nullptr-load", version: 1, full: [1, 0x30, 2], layout: nullptrLoad) { data in
                var d = EngNullptr()
                return qemuLoad(eng_vmsd_nullptr_load(), &d, 1, data)
            })

        // Timers: TIMER, TIMER_PTR, TIMER_PTR_ARRAY.
        let timerLayout = QDesc("eng-timers", [[.bytes(8)], [.bytes(8)], each(.bytes(8), 3)])
        let timerFull: [UInt8] = {
            let timers = UnsafeMutablePointer<QEMUTimer>.allocate(capacity: 5)
            defer { timers.deallocate() }
            for i in 0..<5 {
                vmstate_timer_init(timers + i, nil, nil)
                timers[i].expire_time = Int64(1000 * (i + 1))
            }
            var t = EngTimers()
            t.t = timers[0]
            t.tp = timers + 1
            t.arr = (timers + 2, timers + 3, timers + 4)
            return cSave(eng_vmsd_timers(), &t).bytes
        }()
        list.append(
            Device(name: "eng-timers", version: 1, full: timerFull, layout: timerLayout) { data in
                let timers = UnsafeMutablePointer<QEMUTimer>.allocate(capacity: 4)
                defer { timers.deallocate() }
                for i in 0..<4 { vmstate_timer_init(timers + i, nil, nil) }
                var t = EngTimers()
                vmstate_timer_init(&t.t, nil, nil)
                t.tp = timers
                t.arr = (timers + 1, timers + 2, timers + 3)
                return qemuLoad(eng_vmsd_timers(), &t, 1, data)
            })

        // WITH_TMP: the scratch description (version 0) has an _EQUAL against the parent's limit.
        let tmpSource = EngTmpParent(lo: 0x1111_2222, hi: 0x3333_4444, limit: 0x0A0B_0C0D, scratch_pre_load_calls: 0)
        list.append(
            plain(
                "eng-tmp", eng_vmsd_tmp(), source: tmpSource,
                destination: EngTmpParent(lo: 0, hi: 0, limit: 0x0A0B_0C0D, scratch_pre_load_calls: 0),
                QDesc(
                    "eng-tmp",
                    [
                        [
                            .nested(
                                QDesc(
                                    "eng-tmp-scratch", version: 0, minimum: 0, [[.bytes(8)], [.equal(4, 0x0A0B_0C0D)]]),
                                version: 0)
                        ]
                    ])))

        // BITMAP of 70 bits: two be64 words.
        let bitmapFull: [UInt8] = {
            let words = UnsafeMutablePointer<UInt>.allocate(capacity: 2)
            defer { words.deallocate() }
            words[0] = 0x0123_4567_89AB_CDEF
            words[1] = 0x3F
            var b = EngBitmap(bits: 70, bm: words)
            return cSave(eng_vmsd_bitmap(), &b).bytes
        }()
        list.append(
            Device(
                name: "eng-bitmap", version: 1, full: bitmapFull,
                layout: QDesc("eng-bitmap", [[.bytes(4)], [.bytes(16)]])
            ) { data in
                let words = UnsafeMutablePointer<UInt>.allocate(capacity: 2)
                defer { words.deallocate() }
                var b = EngBitmap(bits: 70, bm: words)
                return qemuLoad(eng_vmsd_bitmap(), &b, 1, data)
            })

        // QTAILQ and QLIST of two elements each.
        let qelem = QDesc("eng-qelem", [[.bytes(4)], [.bytes(2)]])
        let qdevFull: [UInt8] = {
            var q = EngQDev()
            eng_qdev_init(&q)
            defer { eng_qdev_free(&q) }
            q.tag = 7
            eng_qdev_append(&q, 1, 2)
            eng_qdev_append(&q, 3, 4)
            return cSave(eng_vmsd_qdev(), &q).bytes
        }()
        list.append(
            Device(
                name: "eng-qdev", version: 1, full: qdevFull,
                layout: QDesc("eng-qdev", [[.bytes(1)], [.list(qelem, version: 1)]])
            ) { data in
                var q = EngQDev()
                eng_qdev_init(&q)
                defer { eng_qdev_free(&q) }
                return qemuLoad(eng_vmsd_qdev(), &q, 1, data)
            })
        let lelem = QDesc("eng-lelem", [[.bytes(4)]])
        let ldevFull: [UInt8] = {
            var l = EngLDev()
            defer { eng_ldev_free(&l) }
            l.tag = 9
            eng_ldev_insert_head(&l, 5)
            eng_ldev_insert_head(&l, 6)
            return cSave(eng_vmsd_ldev(), &l).bytes
        }()
        list.append(
            Device(
                name: "eng-ldev", version: 1, full: ldevFull,
                layout: QDesc("eng-ldev", [[.list(lelem, version: 1)], [.bytes(1)]])
            ) { data in
                var l = EngLDev()
                defer { eng_ldev_free(&l) }
                return qemuLoad(eng_vmsd_ldev(), &l, 1, data)
            })

        // GTrees: direct keys (two nodes) and keyed by a description (one node).
        let tval = QDesc("eng-tval", [[.bytes(4)]])
        let tkey = QDesc("eng-tkey", [[.bytes(4)], [.bytes(1)]])
        let treesFull: [UInt8] = {
            var t = EngTrees()
            eng_trees_init(&t)
            defer { eng_trees_destroy(&t) }
            eng_trees_add_direct(&t, 1, 10)
            eng_trees_add_direct(&t, 2, 20)
            eng_trees_add_keyed(&t, 3, 4, 30)
            t.tail = 5
            return cSave(eng_vmsd_trees(), &t).bytes
        }()
        list.append(
            Device(
                name: "eng-trees", version: 1, full: treesFull,
                layout: QDesc(
                    "eng-trees",
                    [
                        [.tree(key: nil, value: tval, version: 1)], [.tree(key: tkey, value: tval, version: 1)],
                        [.bytes(1)],
                    ])
            ) { data in
                var t = EngTrees()
                eng_trees_init(&t)
                defer { eng_trees_destroy(&t) }
                return qemuLoad(eng_vmsd_trees(), &t, 1, data)
            })

        // The flags: ARRAY, 2D, sub-array, every VARRAY kind (with POINTER), MULTIPLY, VBUFFER
        // kinds, BUFFER_POINTER, STRUCT (plain, POINTER, ARRAY), ARRAY_OF_POINTER with a NULL.
        list.append(
            flags(
                "eng-array", eng_vmsd_array(),
                QDesc("eng-array", [each(.bytes(2), 3), each(.bytes(1), 6), each(.bytes(4), 3)])))
        list.append(
            flags(
                "eng-varray", eng_vmsd_varray(),
                QDesc(
                    "eng-varray",
                    [
                        [.bytes(4)], each(.bytes(4), 2), [.bytes(4)], each(.bytes(2), 3), [.bytes(1)],
                        each(.nested(inner, version: 1), 2), [.bytes(2)], each(.bytes(2), 2), [.bytes(4)], [.bytes(8)],
                        [.bytes(4)],
                        each(.nested(inner, version: 1), 2),
                    ])))
        list.append(
            flags("eng-multiply", eng_vmsd_multiply(), QDesc("eng-multiply", [[.bytes(4)], each(.bytes(1), 6)])))
        list.append(
            flags(
                "eng-vbuffer", eng_vmsd_vbuffer(),
                QDesc(
                    "eng-vbuffer",
                    [[.bytes(4)], [.bytes(3)], [.bytes(4)], [.bytes(6)], [.bytes(4)], [.bytes(4)], [.bytes(2)]])))
        list.append(
            flags(
                "eng-struct", eng_vmsd_struct(),
                QDesc(
                    "eng-struct",
                    [[.nested(inner, version: 1)], [.nested(inner, version: 1)], each(.nested(inner, version: 1), 2)])))
        list.append(
            flags(
                "eng-ptrarray", eng_vmsd_ptrarray(),
                QDesc("eng-ptrarray", [[.nested(inner, version: 1), .nullMarker, .nested(inner, version: 1)]])))

        // ALLOC: the engine allocates on load; freed after each load.
        let allocFull: [UInt8] = {
            var a = EngAlloc()
            a.n = 2
            a.vals = cArray([UInt16(1), 2])
            a.sn = 2
            a.structs = cArray([EngInner(a: 3, b: 4), EngInner(a: 5, b: 6)])
            a.blen = 3
            a.blob = cArray([UInt8(7), 8, 9])
            a.hn = 2
            a.h = cArray([UInt8(10), 11])
            defer {
                a.vals.deallocate()
                a.structs.deallocate()
                a.blob.deallocate()
                a.h.deallocate()
            }
            return cSave(eng_vmsd_alloc(), &a).bytes
        }()
        list.append(
            Device(
                name: "eng-alloc", version: 1, full: allocFull,
                layout: QDesc(
                    "eng-alloc",
                    [
                        [.bytes(4)], each(.bytes(2), 2), [.bytes(4)], each(.nested(inner, version: 1), 2), [.bytes(4)],
                        [.bytes(3)], [.bytes(2)], each(.bytes(1), 2),
                    ])
            ) { data in
                var a = EngAlloc()
                defer {
                    g_free(a.vals)
                    g_free(a.structs)
                    g_free(a.blob)
                    g_free(a.h)
                }
                return qemuLoad(eng_vmsd_alloc(), &a, 1, data)
            })

        // VALIDATE (a field with no elements), VSTRUCT at two versions, field versions and tests.
        list.append(
            plain(
                "eng-validate", eng_vmsd_validate(), source: EngValidate(x: 42), destination: EngValidate(),
                QDesc("eng-validate", [[.bytes(4)], []])))
        let vinner1 = QDesc("eng-vinner", version: 2, minimum: 1, [[.bytes(2)]])
        let vinner2 = QDesc("eng-vinner", version: 2, minimum: 1, [[.bytes(2)], [.bytes(4)]])
        list.append(
            plain(
                "eng-vstruct", eng_vmsd_vstruct(),
                source: EngVStruct(v1s: EngVInner(a: 1, b: 2), v2s: EngVInner(a: 3, b: 4)), destination: EngVStruct(),
                QDesc("eng-vstruct", [[.nested(vinner1, version: 1)], [.nested(vinner2, version: 2)]])))
        var versioned = EngVersioned()
        versioned.a = 1
        versioned.b = 2
        versioned.c = 3
        versioned.has_d = true
        versioned.d = 4
        versioned.e = 5
        list.append(
            plain(
                "eng-versioned", eng_vmsd_versioned(), source: versioned, destination: EngVersioned(), version: 2,
                QDesc(
                    "eng-versioned", version: 2,
                    [[.bytes(4)], [.bytes(4)], [.bytes(2)], [.bytes(1)], [.bytes(1)], [.bytes(1)]])))

        // Subsections: two of the device's; a nested struct's subsection then the parent's.
        list.append(
            plain(
                "eng-sub", eng_vmsd_sub(),
                source: EngSub(a: 0x0102_0304, need_x: true, x: 0x0506, need_y: true, y: 7), destination: EngSub(),
                QDesc(
                    "eng-sub", [[.bytes(4)]],
                    subsections: [QDesc("eng-sub/x", version: 2, [[.bytes(2)]]), QDesc("eng-sub/y", [[.bytes(1)]])])))
        list.append(
            plain(
                "eng-outer", eng_vmsd_outer(),
                source: EngOuter(v: 1, in: EngIn(p: 2, q: 3), w: 4), destination: EngOuter(),
                QDesc(
                    "eng-outer",
                    [
                        [.bytes(1)],
                        [
                            .nested(
                                QDesc("eng-in", [[.bytes(1)]], subsections: [QDesc("eng-in/q", [[.bytes(1)]])]),
                                version: 1)
                        ],
                    ],
                    subsections: [QDesc("eng-outer/w", [[.bytes(1)]])])))

        // Custom infos: be24 (three qemu_get_byte), wrapped (be16 tag then vmstate_load_state of
        // eng-inner from the get), name (qemu_get_counted_string; a short one returns the error).
        var custom = EngCustom()
        custom.u24 = 0x0A0B0C
        custom.w = EngInner(a: 0x0D0E, b: 0x0F10_1112)
        withUnsafeMutableBytes(of: &custom.name) { $0.copyBytes(from: Array("uart".utf8)) }
        let wrapped = QItem.custom { m in
            if m.getBE(2) != 0xCAFE { return -22 }
            return m.load(inner, version: 1)
        }
        let name = QItem.custom { m in
            let len = Int(m.getByte())
            let available = min(len, m.input.count - m.position)
            m.position += available
            if available < len { m.setError(-5) }
            let got = available == len ? len : 0
            if got == 0 && m.error != 0 { return m.error }
            return got >= 16 ? -7 : 0
        }
        list.append(
            plain(
                "eng-custom", eng_vmsd_custom(), source: custom, destination: EngCustom(),
                QDesc("eng-custom", [[.bytes(3)], [wrapped], [name]])))

        // Custom gets that call the standard infos' get themselves: QEMU's get_uint16 and
        // get_bool return 0 at the end (zeros read), get_uint8_equal refuses a 0 read.
        let pair = QItem.custom { m in
            _ = m.getBE(2)
            _ = m.getByte()
            return m.getByte() == 0x5A ? 0 : -22
        }
        list.append(
            plain(
                "eng-direct", eng_vmsd_direct(), source: EngDirect(a: 0x0102, flag: true, magic: 0x5A),
                destination: EngDirect(a: 0, flag: false, magic: 0x5A), QDesc("eng-direct", [[pair]])))
        let tolerant = QItem.custom { m in
            _ = m.getByte()
            return 0
        }
        list.append(
            plain(
                "eng-tolerant", eng_vmsd_tolerant(), source: EngTolerant(magic: 0x5A, after: 7, inner_ret: 0),
                destination: EngTolerant(magic: 0x5A, after: 0, inner_ret: 0),
                QDesc("eng-tolerant", [[tolerant], [.bytes(1)]])))
        return list
    }()

    /// Sanity of the hand-written layouts: each walks its device's whole saved stream, followed
    /// by one more byte, to exactly that byte without an error.
    @Test(arguments: devices) func theLayoutsDescribeTheSavedBytes(device: Device) throws {
        let model = QEMUModel(device.full + [0x1F])
        #expect(model.load(device.layout, version: Int(device.version)) == 0)
        #expect(model.error == 0)
        #expect(model.position == device.full.count)
    }

    /// The whole saved bytes and nothing after them: QEMU's final look for a subsection finds
    /// the end (-EIO on the file); when the last field is a struct, that look is the struct's
    /// and the parent's check after the element fails the load.
    @Test func theWholeBytesAloneEndWithEIO() throws {
        var endsWithStruct: [String] = []
        for device in Self.devices {
            let r = device.load(device.full)
            #expect(r.fileError == Errno.eio, "\(device.name)")
            if r.ret != 0 { endsWithStruct.append(device.name) }
            #expect(r.ret == 0 || r.ret == Errno.eio)
        }
        #expect(endsWithStruct == ["eng-tmp", "eng-varray", "eng-struct", "eng-ptrarray", "eng-vstruct"])
    }

    @Test(arguments: devices) func everyCutGivesQEMUsResult(device: Device) throws {
        var differences: [String] = []
        for length in 0...device.full.count {
            let cut = Array(device.full[0..<length])
            let expected = QEMUModel.result(device.layout, version: Int(device.version), cut)
            let got = device.load(cut)
            if got != expected {
                differences.append(
                    "\(length): got (\(got.ret), \(got.fileError)), QEMU (\(expected.ret), \(expected.fileError))")
            }
        }
        // The whole stream followed by another byte (as in a migration stream): no error at all.
        let followed = device.load(device.full + [0x1F])
        #expect(followed == (0, 0))
        #expect(differences == [], "\(device.name): \(device.full.count + 1) cuts")
    }

    /// The numbers the issue asks about: how many cuts, and of what results.
    @Test func theCutsCoverEveryResult() throws {
        var counts: [String: Int] = [:]
        var total = 0
        for device in Self.devices {
            for length in 0...device.full.count {
                let r = QEMUModel.result(device.layout, version: Int(device.version), Array(device.full[0..<length]))
                counts["\(r.ret)/\(r.fileError)", default: 0] += 1
                total += 1
            }
        }
        // Short reads (-EIO), values QEMU reads as zeros and refuses (-EINVAL with -EIO on the
        // file), and cuts inside a subsection header of the device itself (0 with -EIO).
        #expect(counts["-5/-5"]! > 0 && counts["-22/-5"]! > 0 && counts["0/-5"]! > 0)
        #expect(counts.keys.sorted() == ["-22/-5", "-5/-5", "0/-5"])
        #expect(total == 644)
    }

    /// The case: a stream cut right after a nested struct that is the parent's last
    /// field. QEMU's look for the nested struct's subsections finds the end (-EIO on the file),
    /// and the parent's check after the element fails with it.
    @Test func aCutAfterANestedStructFails() throws {
        var d = EngTrunc()
        let r = cLoad(eng_vmsd_trunc(), &d, version: 1, Array(EngineTruncationTests().full[0..<39]))
        #expect(r.ret == Errno.eio && r.fileError == Errno.eio)
        // Through the one-call form, whose input ends where the state ends, the same bytes are
        // a whole device without its subsection.
        var e = EngTrunc()
        try VMStateEngine.load(eng_vmsd_trunc(), opaque: &e, from: Array(EngineTruncationTests().full[0..<39]))
        #expect(e.in.b == 11)
    }
}
