import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// include/qemu/queue.h: scripted QLIST, QSLIST, QSIMPLEQ, QTAILQ and *_RAW_* sequences in C
/// (Tests/CFixtures/queue_ops.c) record element ids; the expected orders are written out by hand.
/// -1 ends a dump, -2 is a NULL element (or a broken back link). The dumps also check every back
/// pointer (QLIST le_prev, QTAILQ prev-link, QSIMPLEQ tail pointer).
@Suite struct QueueMacroTests {
    static let end: Int32 = -1
    static let null: Int32 = -2

    /// Runs a recorder with room for 256 values and returns what it wrote.
    func record(_ body: (UnsafeMutablePointer<Int32>, Int) -> Int) -> [Int32] {
        var buffer = [Int32](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        precondition(n <= 256)
        return Array(buffer[0..<n])
    }

    @Test func layoutsMatchQEMU() {
        var values = [Int](repeating: 0, count: 32)
        let n = values.withUnsafeMutableBufferPointer { qops_layout($0.baseAddress!, $0.count) }
        #expect(
            Array(values[0..<n]) == [
                8, 16, 0, 8,  // QLIST head; entry, le_next, le_prev
                8, 8,  // QSLIST head, entry
                16, 0, 8, 8,  // QSIMPLEQ head, sqh_first, sqh_last; entry
                16, 0, 0,  // QTAILQ head, tqh_first, tqh_circ (a union)
                16, 0, 0,  // QTAILQ entry, tqe_next, tqe_circ (a union)
                16, 0, 8,  // QTailQLink, tql_next, tql_prev
            ])
    }

    @Test func qlistSequence() {
        let e = Self.end
        let null = Self.null
        #expect(
            record { qops_qlist($0, $1) } == [
                1,  // EMPTY of an initializer
                5, 0, 1, 2, 4, 3, e,  // INSERT_HEAD, INSERT_AFTER, INSERT_BEFORE (incl. before the head)
                0, 5, 4, null,  // EMPTY, FIRST, NEXT, NEXT of the last
                0, 1,  // IS_INSERTED
                0, null, 0,  // REMOVE clears the links; SAFE_REMOVE of a removed element is a no-op
                0, 2, e,  // after removing head, tail and a middle element
                4, 6, 7, e, 0, 2, e,  // SWAP
                2, e,  // REMOVE through a back pointer SWAP moved
                4, 6, 7, 8, e, 7, e,  // FOREACH_SAFE removing the even ids
                1, 2, e,  // SWAP with empty lists
            ])
    }

    @Test func qslistSequence() {
        let e = Self.end
        let null = Self.null
        #expect(
            record { qops_qslist($0, $1) } == [
                1,  // EMPTY
                0, 1, 2, 3, 4, e,  // INSERT_HEAD, INSERT_AFTER, INSERT_HEAD_ATOMIC
                0, 3, 0,  // FIRST, NEXT, EMPTY
                null, null,  // REMOVE_HEAD and REMOVE_AFTER clear the removed element's next
                3, e,  // REMOVE of the tail and of the head
                6, 3, e,  // REMOVE of a middle element
                1, 6, 3, e,  // MOVE_ATOMIC empties the source, replaces the destination
                7, 8, 6, 3, e, 8, e,  // FOREACH_SAFE removing all but 8
            ])
    }

    @Test func qsimpleqSequence() {
        let e = Self.end
        let null = Self.null
        #expect(
            record { qops_qsimpleq($0, $1) } == [
                1, null,  // EMPTY, LAST of an empty queue
                0, 1, 2, 3, 4, 5, e,  // INSERT_TAIL, INSERT_HEAD, INSERT_AFTER (at the tail too)
                5, 0, 4,  // LAST, FIRST, NEXT
                null, 4,  // REMOVE_HEAD clears next; LAST after REMOVE of the tail
                2, 4, 6, e,  // INSERT_TAIL after that REMOVE, REMOVE of a middle and the head
                1, 2, e, 4, 6, e,  // SPLIT_AFTER: removed, then what head keeps
                1, 1, 2, 7, 4, 6, e, 6,  // CONCAT (EMPTY_ATOMIC of head2), CONCAT of empty; LAST
                1, 0, 1, 2, 7, 4, 6, e,  // PREPEND
                // PREPEND onto an empty queue, then INSERT_TAIL; LAST. (QEMU's own macro leaves
                // the tail pointer at the head here: 3 and 5 would be lost, giving 8, e, 8.)
                3, 5, 8, e, 8,
                0, 1, 2, 7, 4, 6, e, 0, 2, 4, 6, e,  // FOREACH_SAFE removing the odd ids
                0, 2, 4, 6, e, e,  // SPLIT_AFTER at the last element
                1, 9, e,  // SPLIT_AFTER of an empty queue; the emptied queue still appends
            ])
    }

    @Test func qtailqSequence() {
        let e = Self.end
        let null = Self.null
        #expect(
            record { qops_qtailq($0, $1) } == [
                1, null,  // EMPTY, LAST of an empty queue
                9, 0, 1, 2, 3, 4, e,  // INSERT_TAIL, INSERT_HEAD, INSERT_AFTER, INSERT_BEFORE
                4, 3, 2, 1, 0, 9, e,  // FOREACH_REVERSE
                9, 4, 2, 2, null, 0,  // FIRST, LAST, NEXT, PREV, PREV of the first, LINK_PREV
                0, 1, 0,  // IN_USE, IN_USE, EMPTY
                0, null,  // REMOVE clears prev-link and next
                0, 1, 3, e,  // after removing head, tail and a middle element
                0, 6, 7, e, 7, 6, 0, e,  // REMOVE_SEVERAL of a middle run
                0, e,  // REMOVE_SEVERAL up to the tail
                1, null,  // REMOVE_SEVERAL of the only element
                0, 1, 2, 3, 4, 5, e, 1, 3, 5, e,  // FOREACH_SAFE removing the even ids
                5, 3, 1, e, 3, e,  // FOREACH_REVERSE_SAFE removing all but 3
                8, 9, e, 9, 8, e,  // INSERT_HEAD into an empty queue sets the tail
            ])
    }

    @Test func rawOffsetSequence() {
        let e = Self.end
        #expect(
            record { qops_raw($0, $1) } == [
                4, 2, 7, e,  // QTAILQ_RAW_INSERT_TAIL (mixed with QTAILQ_INSERT_TAIL), RAW_FOREACH
                4, 2, 7, e, 7, 2, 4, e,  // the same queue through the typed macros
                4, 2, 1, 1, 5,  // RAW_FIRST, RAW_NEXT, RAW_TQH_CIRC, RAW_TQE_CIRC, field_at_offset
                1, 3, 6, e, 1, 3, 6, e,  // QLIST_RAW_INSERT_HEAD, RAW_INSERT_AFTER, RAW_FOREACH
                1, 3, 1,  // QLIST_RAW_FIRST, RAW_NEXT, RAW_PREVIOUS
                1, 6, e,  // QLIST_REMOVE through the back pointers the raw macros set
            ])
    }

    /// A device with a QSIMPLEQ and a QSLIST next to a VMSTATE_QTAILQ_V field: the stream holds
    /// only the QTAILQ; a load appends to it and leaves the other two lists as they were.
    @Test func qtailqFieldNextToSimpleqAndSlistRoundTrips() throws {
        let e = Self.end
        let src = qops_dev_new()!
        defer { qops_dev_free(src) }
        qops_dev_set(src, 0xA1B2_C3D4, 0x0102)
        qops_dev_add_req(src, 7, 0x200)
        qops_dev_add_req(src, 0x0102_0304, 0xFFFF)
        qops_dev_add_pend(src, 100)
        qops_dev_add_pend(src, 101)
        qops_dev_add_spare(src, 200)
        let bytes = try save(qops_dev_vmsd(), UnsafeMutableRawPointer(src))
        #expect(
            bytes == [
                0xA1, 0xB2, 0xC3, 0xD4,  // tag
                0x01, 0x00, 0x00, 0x00, 0x07, 0x02, 0x00,  // req 7, len 0x200
                0x01, 0x01, 0x02, 0x03, 0x04, 0xFF, 0xFF,  // req 0x01020304, len 0xFFFF
                0x00,  // end of the QTAILQ
                0x01, 0x02,  // tail
            ])

        let dst = qops_dev_new()!
        defer { qops_dev_free(dst) }
        qops_dev_add_pend(dst, 110)
        qops_dev_add_pend(dst, 111)
        qops_dev_add_spare(dst, 210)
        qops_dev_add_spare(dst, 211)
        try VMStateEngine.load(qops_dev_vmsd(), opaque: UnsafeMutableRawPointer(dst), from: bytes)
        #expect(
            record { qops_dev_describe(dst, $0, $1) } == [
                Int32(bitPattern: 0xA1B2_C3D4), 0x0102,
                7, 0x200, 0x0102_0304, 0xFFFF, e,  // reqs, loaded in stream order
                110, 111, e,  // pend: untouched
                211, 210, e,  // spare: untouched (INSERT_HEAD order)
                1,  // every prev-link and the QSIMPLEQ tail pointer consistent
            ])
        #expect(try save(qops_dev_vmsd(), UnsafeMutableRawPointer(dst)) == bytes)
    }

    /// Forty sized devices, each with a QTAILQ the caller filled: a TRANSACTIONAL load that
    /// fails in the last section puts back every list, the links of the caller's last elements
    /// included (written by the appends, outside any struct the guard copied), and frees what
    /// it allocated; a whole load appends each device's requests to its own list.
    @Test func transactionalLoadOfManyListsPutsEveryOneBack() throws {
        let e = Self.end
        let count = 40
        func machine(_ devices: [OpaquePointer]) throws -> Registry {
            let registry = Registry()
            for (i, d) in devices.enumerated() {
                try registry.add(
                    idstr: "queue-ops-dev", instanceID: UInt32(i), vmsd: qops_dev_vmsd(),
                    opaque: UnsafeMutableRawPointer(d), size: qops_dev_size())
            }
            return registry
        }
        let sources = (0..<count).map { _ in qops_dev_new()! }
        let targets = (0..<count).map { _ in qops_dev_new()! }
        defer { for d in sources + targets { qops_dev_free(d) } }
        for i in 0..<count {
            qops_dev_set(sources[i], UInt32(1000 + i), UInt16(i))
            qops_dev_add_req(sources[i], UInt32(100 + i), 7)
            qops_dev_add_req(sources[i], UInt32(200 + i), 8)
            qops_dev_set(targets[i], UInt32(5000 + i), 9)
            qops_dev_add_req(targets[i], UInt32(i), 1)
        }
        let stream = try machine(sources).save(machineType: "m")
        let target = try machine(targets)
        func described(_ i: Int) -> [Int32] { record { qops_dev_describe(targets[i], $0, $1) } }
        let before = (0..<count).map(described)
        #expect(before[3] == [5003, 9, 3, 1, e, e, e, 1])

        // The last section's tail (2 bytes) cut: its requests were loaded, then it failed.
        let marker = try #require(stream.withUnsafeBytes { VMDescRecord.locateAtEnd($0) }).markerOffset
        let tail = marker - 1 - 5 - 2
        let error = engineError { try target.load(Array(stream[..<(tail + 1)]), options: .transactional) }
        #expect(error?.reason.hasPrefix("section \"queue-ops-dev\" instance \(count - 1): ") == true)
        #expect((0..<count).map(described) == before)

        try target.load(stream, options: .transactional)
        for i in [0, 17, count - 1] {
            #expect(
                described(i) == [
                    Int32(1000 + i), Int32(i), Int32(i), 1, Int32(100 + i), 7, Int32(200 + i), 8, e, e, e, 1,
                ])
        }
    }
}
