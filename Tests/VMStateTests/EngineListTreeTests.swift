import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// qtailq, qlist and gtree (docs/FORMAT.md §3): byte 1 before each element, byte 0 at the end; elements
/// are allocated on load and linked in stream order; trees carry a be32 node count.
@Suite struct EngineListTreeTests {
    let qtailqBytes: [UInt8] = [
        0x07,  // tag
        0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0A,  // element (v 1, w 0x0A)
        0x01, 0x01, 0x02, 0x03, 0x04, 0xBE, 0xEF,  // element (v 0x01020304, w 0xBEEF)
        0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x06,  // element (v 5, w 6)
        0x00,  // end of list
    ]

    @Test func qtailqSave() throws {
        var d = EngQDev()
        eng_qdev_init(&d)
        defer { eng_qdev_free(&d) }
        d.tag = 7
        eng_qdev_append(&d, 1, 0x0A)
        eng_qdev_append(&d, 0x0102_0304, 0xBEEF)
        eng_qdev_append(&d, 5, 6)
        #expect(try save(eng_vmsd_qdev(), &d) == qtailqBytes)

        var empty = EngQDev()
        eng_qdev_init(&empty)
        empty.tag = 1
        #expect(try save(eng_vmsd_qdev(), &empty) == [0x01, 0x00])
    }

    @Test func qtailqLoadAppendsInOrder() throws {
        var d = EngQDev()
        eng_qdev_init(&d)
        defer { eng_qdev_free(&d) }
        try VMStateEngine.load(eng_vmsd_qdev(), opaque: &d, from: qtailqBytes)
        #expect(d.tag == 7)
        #expect(eng_qdev_count(&d) == 3)
        var v: UInt32 = 0
        var w: UInt16 = 0
        for (i, (ev, ew)) in [(UInt32(1), UInt16(0x0A)), (0x0102_0304, 0xBEEF), (5, 6)].enumerated() {
            #expect(eng_qdev_get(&d, Int32(i), &v, &w))
            #expect(v == ev && w == ew)
        }
        #expect(eng_qdev_links_ok(&d))
        // The list is a proper QTAILQ: QTAILQ_INSERT_TAIL still works after the load.
        eng_qdev_append(&d, 9, 9)
        #expect(eng_qdev_count(&d) == 4)
        #expect(eng_qdev_get(&d, 3, &v, &w) && v == 9)
        #expect(eng_qdev_links_ok(&d))
    }

    @Test func qtailqLoadAppendsToExistingElements() throws {
        var d = EngQDev()
        eng_qdev_init(&d)
        defer { eng_qdev_free(&d) }
        eng_qdev_append(&d, 100, 100)
        try VMStateEngine.load(eng_vmsd_qdev(), opaque: &d, from: [0x03, 0x01, 0, 0, 0, 0x2A, 0, 0x2B, 0x00])
        #expect(eng_qdev_count(&d) == 2)
        var v: UInt32 = 0
        var w: UInt16 = 0
        #expect(eng_qdev_get(&d, 0, &v, &w) && v == 100)
        #expect(eng_qdev_get(&d, 1, &v, &w) && v == 0x2A && w == 0x2B)
        #expect(eng_qdev_links_ok(&d))
    }

    let qlistBytes: [UInt8] = [
        0x01, 0x00, 0x00, 0x00, 0x01,
        0x01, 0x00, 0x00, 0x00, 0x02,
        0x01, 0x00, 0x00, 0x00, 0x03,
        0x00,  // end of list
        0x09,  // tag
    ]

    @Test func qlistSaveInListOrder() throws {
        var d = EngLDev()
        defer { eng_ldev_free(&d) }
        eng_ldev_insert_head(&d, 3)
        eng_ldev_insert_head(&d, 2)
        eng_ldev_insert_head(&d, 1)
        d.tag = 9
        #expect(try save(eng_vmsd_ldev(), &d) == qlistBytes)
    }

    @Test func qlistLoadKeepsStreamOrder() throws {
        var d = EngLDev()
        defer { eng_ldev_free(&d) }
        try VMStateEngine.load(eng_vmsd_ldev(), opaque: &d, from: qlistBytes)
        #expect(d.tag == 9)
        #expect(eng_ldev_count(&d) == 3)
        var v: UInt32 = 0
        for i in 0..<3 {
            #expect(eng_ldev_get(&d, Int32(i), &v) && v == UInt32(i + 1))
        }
        #expect(eng_ldev_links_ok(&d))
        // And saving it again gives the same bytes.
        #expect(try save(eng_vmsd_ldev(), &d) == qlistBytes)
    }

    @Test func qlistLoadPutsTheStreamsElementsFirst() throws {
        // QEMU inserts the first loaded element at the head and each next one after it.
        var d = EngLDev()
        defer { eng_ldev_free(&d) }
        eng_ldev_insert_head(&d, 100)
        try VMStateEngine.load(eng_vmsd_ldev(), opaque: &d, from: [0x01, 0, 0, 0, 1, 0x01, 0, 0, 0, 2, 0x00, 0x00])
        var v: UInt32 = 0
        #expect(eng_ldev_count(&d) == 3)
        #expect(eng_ldev_get(&d, 0, &v) && v == 1)
        #expect(eng_ldev_get(&d, 1, &v) && v == 2)
        #expect(eng_ldev_get(&d, 2, &v) && v == 100)
        #expect(eng_ldev_links_ok(&d))
    }

    @Test func truncatedListIsShortInput() throws {
        var d = EngLDev()
        defer { eng_ldev_free(&d) }
        let e = try #require(
            engineError { try VMStateEngine.load(eng_vmsd_ldev(), opaque: &d, from: Array(qlistBytes[0..<8])) })
        #expect(e.kind == .shortInput)
        #expect(e.path == "eng-ldev/l[1]/v")
        #expect(e.offset == 6)
    }

    // MARK: GTree

    let treeBytes: [UInt8] = [
        // direct: count, then per node 1, be64 key, value
        0x00, 0x00, 0x00, 0x03,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x1E,  // 3 -> 30
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x64,  // 10 -> 100
        0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,  // 2^32 -> 7
        0x00,
        // keyed: count, then per node 1, key struct (id, tag), value
        0x00, 0x00, 0x00, 0x02,
        0x01, 0x00, 0x00, 0x00, 0x01, 0x0A, 0x00, 0x00, 0x00, 0x0B,  // {1, 0x0A} -> 11
        0x01, 0x00, 0x00, 0x00, 0x02, 0x0B, 0x00, 0x00, 0x00, 0x16,  // {2, 0x0B} -> 22
        0x00,
        0x5A,  // tail
    ]

    @Test func gtreeSaveInKeyOrder() throws {
        var t = EngTrees()
        eng_trees_init(&t)
        defer { eng_trees_destroy(&t) }
        eng_trees_add_direct(&t, 10, 100)
        eng_trees_add_direct(&t, 3, 30)
        eng_trees_add_direct(&t, 0x1_0000_0000, 7)
        eng_trees_add_keyed(&t, 2, 0x0B, 22)
        eng_trees_add_keyed(&t, 1, 0x0A, 11)
        t.tail = 0x5A
        #expect(try save(eng_vmsd_trees(), &t) == treeBytes)
    }

    @Test func gtreeRoundTripIntoFreshTrees() throws {
        var t = EngTrees()
        eng_trees_init(&t)
        defer { eng_trees_destroy(&t) }
        try VMStateEngine.load(eng_vmsd_trees(), opaque: &t, from: treeBytes)
        #expect(eng_trees_direct_count(&t) == 3)
        #expect(eng_trees_direct_lookup(&t, 3) == 30)
        #expect(eng_trees_direct_lookup(&t, 10) == 100)
        #expect(eng_trees_direct_lookup(&t, 0x1_0000_0000) == 7)
        #expect(eng_trees_keyed_count(&t) == 2)
        var tag: UInt8 = 0
        #expect(eng_trees_keyed_lookup(&t, 1, &tag) == 11 && tag == 0x0A)
        #expect(eng_trees_keyed_lookup(&t, 2, &tag) == 22 && tag == 0x0B)
        #expect(t.tail == 0x5A)
        #expect(try save(eng_vmsd_trees(), &t) == treeBytes)
    }

    @Test func gtreeLoadInsertsIntoTheExistingTree() throws {
        var t = EngTrees()
        eng_trees_init(&t)
        defer { eng_trees_destroy(&t) }
        eng_trees_add_direct(&t, 99, 1)
        try VMStateEngine.load(eng_vmsd_trees(), opaque: &t, from: treeBytes)
        #expect(eng_trees_direct_count(&t) == 4)
        #expect(eng_trees_direct_lookup(&t, 99) == 1)
    }

    @Test("a save that fails in a list element or a tree node names it, as a load does")
    func saveErrorsNameTheElement() throws {
        var d = EngQDev()
        eng_qdev_init(&d)
        defer { eng_qdev_free(&d) }
        for v in [1, 2, ENG_PICKY_REFUSED] { eng_qdev_append(&d, v, 0) }
        // Two elements of 5 bytes (marker, v), then the third's marker: its pre_save at byte 11.
        let list = try #require(engineError { _ = try VMStateEngine.save(eng_vmsd_picky_qdev(), opaque: &d) })
        #expect(list.description == "eng-picky-qdev/q[2]: pre_save returned -7 (at byte 11)")

        var t = EngTrees()
        eng_trees_init(&t)
        defer { eng_trees_destroy(&t) }
        eng_trees_add_keyed(&t, 1, 0, 11)
        eng_trees_add_keyed(&t, 2, 0, ENG_PICKY_REFUSED)
        // The node count (4 bytes), node 0 (marker, key id, value: 9 bytes), node 1's marker and
        // key: its value's pre_save at byte 18.
        let value = try #require(engineError { _ = try VMStateEngine.save(eng_vmsd_picky_trees(), opaque: &t) })
        #expect(value.description == "eng-picky-trees/keyed[1]: pre_save returned -7 (at byte 18)")
        eng_trees_destroy(&t)
        eng_trees_init(&t)
        eng_trees_add_keyed(&t, 1, 0, 11)
        eng_trees_add_keyed(&t, ENG_PICKY_REFUSED, 0, 5)
        let key = try #require(engineError { _ = try VMStateEngine.save(eng_vmsd_picky_trees(), opaque: &t) })
        #expect(key.description == "eng-picky-trees/keyed[1].key: pre_save returned -9 (at byte 14)")
    }

    @Test(arguments: [UInt8(0x02), 0x04])
    func gtreeCountMismatchIsAnError(count: UInt8) throws {
        var t = EngTrees()
        eng_trees_init(&t)
        defer { eng_trees_destroy(&t) }
        var stream = treeBytes
        stream[3] = count
        let e = try #require(engineError { try VMStateEngine.load(eng_vmsd_trees(), opaque: &t, from: stream) })
        #expect(e.kind == .mismatch)
        #expect(e.path.hasPrefix("eng-trees/direct"))
        var c = EngTrees()
        eng_trees_init(&c)
        defer { eng_trees_destroy(&c) }
        #expect(cLoad(eng_vmsd_trees(), &c, version: 1, stream).ret == Errno.einval)
    }
}
