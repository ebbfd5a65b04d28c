import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

/// VMSTATE_LOAD_TRANSACTIONAL: a load that fails at any point leaves the struct's bytes (and
/// everything reachable from it: lists, trees, buffers) as they were, and frees what it
/// allocated (LeakSanitizer checks that in scripts/checks/hostile-asan.sh, valgrind in
/// scripts/checks/hostile-leaks.sh).
@Suite struct TransactionalLoadTests {
    /// Loads `bytes` transactionally into `device`, expects a failure, and checks that nothing
    /// changed: the struct's bytes and the digest of what it reaches.
    @discardableResult
    func expectRolledBack(
        _ device: HxDevice, _ bytes: [UInt8], version: Int32? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> VMStateError {
        let structBefore = Array(UnsafeRawBufferPointer(start: device.opaque, count: device.size))
        let digestBefore = device.digest
        let e = device.loadError(bytes, version: version, transactional: true, sourceLocation: sourceLocation)
        let structAfter = Array(UnsafeRawBufferPointer(start: device.opaque, count: device.size))
        #expect(structAfter == structBefore, "the struct's bytes changed", sourceLocation: sourceLocation)
        #expect(device.digest == digestBefore, "what the struct reaches changed", sourceLocation: sourceLocation)
        #expect(
            e.reason.hasSuffix("(load rolled back: the state is as it was before the call)"),
            sourceLocation: sourceLocation)
        return e
    }

    /// A complete hx-ptr state that allocates all four ALLOC fields.
    var allocatingPtr: HxPtrWire { HxPtrWire(n16: 3, nu32: 2, nstruct: 2, blen: 5, vlen: 10, bits: 70) }

    @Test func failureInTheFirstField() {
        let e = expectRolledBack(HxDevice("hx-ptr"), [0x00])
        #expect(e.kind == .shortInput && e.path == "hx-ptr/n16" && e.offset == 0)
        // The example of docs/C-API.md (vmstate_load_checked): the phrase ends the REASON part.
        #expect(
            e.description
                == "hx-ptr/n16: input ended (load rolled back: the state is as it was before the call); expected 2 bytes, got 1 left (at byte 0)"
        )
    }

    @Test func failureInAMiddleFieldAfterAllocations() {
        var wire = allocatingPtr
        wire.vulen = 1 << 20  // vubuf points at a 16-byte buffer
        let e = expectRolledBack(HxDevice("hx-ptr"), wire.bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-ptr/vubuf")
    }

    @Test func failureInTheLastField() {
        var wire = allocatingPtr
        wire.nullMarker = 0x00
        let e = expectRolledBack(HxDevice("hx-ptr"), wire.bytes)
        #expect(e.kind == .badMarker && e.path == "hx-ptr/nulls[1]")
    }

    @Test func failureAfterTheLastField() {
        let e = expectRolledBack(HxDevice("hx-ptr"), allocatingPtr.bytes + [0xEE])
        #expect(e.kind == .failed && e.reason.hasPrefix("bytes left after the state"))
    }

    @Test func failureInASubsection() {
        var wire = HxNestWire(tmpCount: 2)
        wire.tail =
            HxWire().subsection("hx-nest/a").be32(7).subsection("hx-nest/b", version: 2).be64(0xB)
            .subsection("hx-nest/b/c").be16(0).bytes
        let device = HxDevice("hx-nest", sample: true)
        let e = expectRolledBack(device, wire.bytes)
        #expect(e.kind == .shortInput && e.path == "hx-nest/b/c/sub_c")
        #expect(device.state(HxNest.self).pointee.sub_a == 0xA)  // the sample's, not 7
    }

    @Test func failureInASubsectionsPostLoad() {
        var wire = HxNestWire()
        wire.tail = HxWire().subsection("hx-nest/a").be32(0xBAD).bytes
        hx_reset_counters()
        let e = expectRolledBack(HxDevice("hx-nest", sample: true), wire.bytes)
        #expect(e.kind == .hookFailed && e.path == "hx-nest/a" && e.errno == -22)
    }

    @Test func failureInPostLoad() throws {
        var bytes = try HxDevice("hx-scalars", sample: true).save()
        bytes.replaceSubrange(19..<23, with: [0xDE, 0xAD, 0xBE, 0xEF])  // u32
        let device = HxDevice("hx-scalars", sample: true)
        let e = expectRolledBack(device, bytes)
        #expect(e.kind == .hookFailed && e.path == "hx-scalars" && e.reason.hasPrefix("post_load returned -22"))
        // pre_load ran (and counted) before the failure; the count was rolled back too.
        #expect(device.state(HxScalars.self).pointee.pre_load_calls == 0)
    }

    @Test func failureInANestedListElement() {
        // Elements appended to lists and trees the caller already filled, then a failure.
        var wire = HxCollWire()
        wire.elements = [(10, [1, 2, 3]), (11, [4])]
        wire.links = [7, 8, 9]
        wire.tree = [(1, 100, 101), (9, 900, 901)]  // key 1 replaces the caller's node
        wire.dtree = [(0x20, 5, 6), (0x30, 7, 8)]
        var bytes = wire.bytes
        bytes.removeLast(2)  // `after` is cut short
        let device = HxDevice("hx-coll", sample: true)
        let s = device.state(HxColl.self)
        let lengths = (hx_coll_queue_length(s), hx_coll_list_length(s), hx_coll_tree_size(s), hx_coll_dtree_size(s))
        let e = expectRolledBack(device, bytes)
        #expect(e.kind == .shortInput && e.path == "hx-coll/after")
        #expect(hx_coll_queue_length(s) == lengths.0 && hx_coll_list_length(s) == lengths.1)
        #expect(hx_coll_tree_size(s) == lengths.2 && hx_coll_dtree_size(s) == lengths.3)
        var key = HxKey(k: 1)
        let value = g_tree_lookup(s.pointee.tree, &key)!.assumingMemoryBound(to: HxVal.self)
        #expect(value.pointee.a == 10)  // the caller's node is back
    }

    @Test func failureInsideAListElement() {
        var wire = HxCollWire()
        wire.elements = [(10, [1, 2, 3]), (11, [4, 5])]
        wire.claimedLengths = [nil, 1 << 20]  // the second element's buffer cannot be filled
        let e = expectRolledBack(HxDevice("hx-coll", sample: true), wire.bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-coll/q[1]/data")
    }

    @Test func failureDeepInANestedList() {
        let w = HxWire()
        w.be32(1)
        for i in 0..<10 { w.u8(1).be32(UInt32(i)) }  // ten levels, never closed
        let e = expectRolledBack(HxDevice("hx-deep", sample: true), w.bytes)
        #expect(e.kind == .shortInput)
    }

    @Test func failureInATmpStruct() {
        let e = expectRolledBack(HxDevice("hx-nest", sample: true), HxNestWire(tmpCount: 9).bytes)
        #expect(e.kind == .boundExceeded && e.path == "hx-nest/tmp/vals")
    }

    @Test func versionFailures() throws {
        let bytes = try HxDevice("hx-scalars", sample: true).save()
        let e = expectRolledBack(HxDevice("hx-scalars", sample: true), bytes, version: 3)
        #expect(e.kind == .versionTooNew)
        let f = expectRolledBack(HxDevice("hx-scalars", sample: true), bytes, version: 0)
        #expect(f.kind == .versionTooOld)
    }

    @Test func everyPrefixOfEveryDeviceRollsBack() throws {
        for name in ["hx-ptr", "hx-coll", "hx-nest"] {
            let source = HxDevice(name, sample: name != "hx-ptr")
            let bytes = name == "hx-ptr" ? allocatingPtr.bytes : try source.save()
            for cut in stride(from: 0, to: bytes.count, by: 3)
            where (try? HxDevice(name).load(Array(bytes.prefix(cut)))) == nil {
                expectRolledBack(HxDevice(name, sample: name != "hx-ptr"), Array(bytes.prefix(cut)))
            }
        }
    }

    @Test func successIsNotRolledBack() throws {
        let device = HxDevice("hx-ptr")
        try device.load(allocatingPtr.bytes, transactional: true)
        let s = device.state(HxPtr.self).pointee
        #expect(s.n16 == 3 && s.a16 != nil && s.blob != nil && s.vlen == 10)
    }

    // MARK: - memory the hooks free (vmstate_free_after_load)

    static let oldBytes = Array("OLD-STATE-BYTES!".utf8)
    static let newBytes = Array("NEW-STATE-BYTES!".utf8)

    /// The wire of a txn-buf: n, its n bytes, tail (left out: the input ends there).
    static func txnWire(_ bytes: [UInt8], tail: UInt32?) -> [UInt8] {
        let w = HxWire().be32(UInt32(bytes.count)).raw(bytes)
        if let tail { w.be32(tail) }
        return w.bytes
    }

    static func contents(_ s: TxnBuf) -> [UInt8]? {
        s.buf.map { Array(UnsafeBufferPointer(start: $0, count: Int(s.n))) }
    }

    /// A pre_load that frees the old ALLOC buffer with vmstate_free_after_load: a failed
    /// transactional load puts the struct back, its pointer to the old buffer included, and the
    /// buffer is still there with its bytes (freed at once, it would be the same-sized block
    /// the load allocated next, with the stream's bytes, freed again by the rollback).
    @Test func memoryAHookFreesIsFreedOnlyWhenTheLoadSucceeds() {
        var s = TxnBuf()
        Self.oldBytes.withUnsafeBufferPointer { txn_buf_init(&s, $0.baseAddress, 16, 7) }
        let before = s
        let cut = Self.txnWire(Self.newBytes, tail: nil)
        #expect(!cut.withUnsafeBufferPointer { txn_load_checked(&s, $0.baseAddress, $0.count) })
        #expect(s.buf == before.buf && s.n == 16 && s.tail == 7)
        #expect(Self.contents(s) == Self.oldBytes)
        // It loads: the new buffer (the old one freed once the load was done).
        let whole = Self.txnWire(Self.newBytes, tail: 9)
        #expect(whole.withUnsafeBufferPointer { txn_load_checked(&s, $0.baseAddress, $0.count) })
        #expect(Self.contents(s) == Self.newBytes && s.tail == 9)
        txn_buf_clear(&s)
        // Outside a load it frees at once; NULL does nothing.
        vmstate_free_after_load(g_malloc(32))
        vmstate_free_after_load(nil)
    }

    /// A load run from a transactional load's hook (the outer struct's post_load loads the
    /// TxnBuf inside it, with or without the flag): the inner one succeeds, and its deferred free
    /// waits for the outer one, whose rollback puts the inner struct's old pointer back (the
    /// bytes left over after the outer state fail it after its post_load) and frees the buffer
    /// the inner load allocated (LeakSanitizer: scripts/checks/hostile-asan.sh).
    @Test(arguments: [false, true]) func aNestedLoadLeavesItsFreesToTheOuterOne(plain: Bool) {
        var o = TxnOuter()
        o.inner_plain = plain
        Self.oldBytes.withUnsafeBufferPointer { txn_buf_init(&o.inner, $0.baseAddress, 16, 7) }
        let oldBuffer = o.inner.buf
        let inner = Self.txnWire(Self.newBytes, tail: 9)
        inner.withUnsafeBufferPointer { innerBytes in
            o.inner_bytes = innerBytes.baseAddress
            o.inner_len = innerBytes.count
            let leftOver: [UInt8] = [0, 0, 0, 5, 0xFF]
            #expect(!leftOver.withUnsafeBufferPointer { txn_outer_load_checked(&o, $0.baseAddress, $0.count) })
            #expect(o.a == 0 && o.inner.buf == oldBuffer && o.inner.tail == 7)
            #expect(Self.contents(o.inner) == Self.oldBytes)
            // Both succeed: the new buffer, the old one freed by the outer load's commit.
            let whole: [UInt8] = [0, 0, 0, 5]
            #expect(whole.withUnsafeBufferPointer { txn_outer_load_checked(&o, $0.baseAddress, $0.count) })
            #expect(o.a == 5 && Self.contents(o.inner) == Self.newBytes && o.inner.tail == 9)
        }
        txn_buf_clear(&o.inner)
    }

    /// A load a custom `get` runs (QEMU's virtio devices: VMSTATE_VIRTIO_DEVICE's get loads the
    /// device's own table with vmstate_load_state) is part of the transactional load running: a
    /// later field's failure takes the domains it inserted out of the GTree, puts back the node
    /// the caller had under one of their keys (not destroyed: the tree's value destroy
    /// function is g_free), and frees the array and list elements it allocated (LeakSanitizer:
    /// scripts/checks/hostile-asan.sh). They stayed, and leaked, before (devices53 D1: QEMU's
    /// virtio-iommu kept the failed stream's 7 domains). The nested table's post_load indexes
    /// the list elements elsewhere (as virtio-iommu's fills `endpoints`), which the rollback
    /// does not put back: vmstate_load_on_rollback takes them out before the elements are freed
    /// (without it the index points into freed memory: recheck53 D1). With the QEMU 7.2 and
    /// 10.0 APIs.
    @Test(arguments: [false, true]) func aLoadACustomGetRunsRollsBackWithTheLoad(qemu10: Bool) {
        let (make, free, addDomain, saved, load, summary) =
            qemu10
            ? (
                txn_nested10_new, txn_nested10_free, txn_nested10_add_domain, txn_nested10_saved, txn_nested10_load,
                txn_nested10_summary
            )
            : (
                txn_nested_new, txn_nested_free, txn_nested_add_domain, txn_nested_saved, txn_nested_load,
                txn_nested_summary
            )
        let setUndo = qemu10 ? txn_nested10_set_undo_index : txn_nested_set_undo_index
        var bytes = [UInt8](repeating: 0, count: 4096)
        let length = saved(3, 9, 1, &bytes, bytes.count)
        #expect(length > 0)
        bytes.removeSubrange(length...)
        func state(_ s: OpaquePointer?) -> TxnNestedSummary {
            var out = TxnNestedSummary()
            summary(s, &out)
            return out
        }
        var message = [CChar](repeating: 0, count: 1024)
        func text() -> String {
            String(decoding: message.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
        }
        let s = make(2)  // the stream's tail is 1: the load fails after the nested one
        addDomain(s, 2, 77)
        setUndo(s, true)
        #expect(!bytes.withUnsafeBufferPointer { load(s, $0.baseAddress, $0.count, 0x4, &message, message.count) })
        #expect(
            text()
                == "txn-nested/tail: value differs from the local one (load rolled back: the state is as it was before the call); expected 0x00000002, got 0x00000001 (at byte \(length - 4))"
        )
        var after = state(s)
        #expect(after.magic == 0 && after.domains == 1 && after.mark_of_2 == 77)
        #expect(after.n == 0 && !after.tab_allocated && after.elems == 0 && after.indexed == 0)
        free(s)
        // Without it the post_load's index keeps its 3 entries, whose elements the rollback
        // freed (not read here); without the flag nothing is put back nor freed, and the
        // function is not called.
        let dangling = make(2)
        #expect(
            !bytes.withUnsafeBufferPointer { load(dangling, $0.baseAddress, $0.count, 0x4, &message, message.count) })
        after = state(dangling)
        #expect(after.elems == 0 && after.indexed == 3)
        free(dangling)
        let plain = make(2)
        setUndo(plain, true)
        #expect(!bytes.withUnsafeBufferPointer { load(plain, $0.baseAddress, $0.count, 0, &message, message.count) })
        after = state(plain)
        #expect(after.magic == 0x5eed && after.domains == 3 && after.elems == 3 && after.indexed == 3)
        free(plain)
        // Whole, it commits: the loaded domains, domain 2 replaced as g_tree_insert replaces.
        let t = make(1)
        addDomain(t, 2, 77)
        setUndo(t, true)
        #expect(bytes.withUnsafeBufferPointer { load(t, $0.baseAddress, $0.count, 0x4, &message, message.count) })
        after = state(t)
        #expect(after.magic == 0x5eed && after.domains == 3 && after.mark_of_2 == 9)
        #expect(after.n == 3 && after.tab_allocated && after.tab_first == 101 && after.elems == 3)
        #expect(after.indexed == 3)
        free(t)
    }

    /// Through a registry: a device added with its size is put back with its old buffer; one
    /// added without (not restored: it keeps what it loaded) keeps the buffer the load
    /// allocated for it, which the rollback must not free under it.
    @Test func aRegistryRollbackLeavesEveryBufferReachable() {
        for aSized in [true, false] {
            var a = TxnBuf()
            var b = TxnBuf()
            Self.oldBytes.withUnsafeBufferPointer {
                txn_buf_init(&a, $0.baseAddress, 16, 7)
                txn_buf_init(&b, $0.baseAddress, 16, 8)
            }
            let (oldA, oldB) = (a.buf, b.buf)
            let bytes = HostileStreamTests.stream([
                HostileStreamTests.section(1, "txn-a", Self.txnWire(Self.newBytes, tail: 1)),
                HostileStreamTests.section(2, "txn-b", Self.txnWire(Self.newBytes, tail: nil)),
            ])
            var message = [CChar](repeating: 0, count: 1024)
            let loaded = bytes.withUnsafeBufferPointer {
                txn_registry_load(&a, aSized, &b, $0.baseAddress, $0.count, &message, message.count)
            }
            #expect(!loaded)
            let text = String(decoding: message.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
            // txn-b's tail is missing: its footer's bytes are read as the tail, and the stream
            // ends inside the footer.
            #expect(text.contains("stream ended inside the section footer (load rolled back: "), "\(text)")
            #expect(b.buf == oldB && Self.contents(b) == Self.oldBytes && b.tail == 8)
            if aSized {
                #expect(a.buf == oldA && Self.contents(a) == Self.oldBytes && a.tail == 7)
                #expect(text.contains("(load rolled back: the state is as it was before the call)"))
            } else {
                #expect(Self.contents(a) == Self.newBytes && a.tail == 1)
                #expect(text.contains("not restored (added without a size, or RAM): section \"txn-a\" instance 0)"))
            }
            txn_buf_clear(&a)
            txn_buf_clear(&b)
        }
    }

    /// A post_load that takes the buffer the load allocated (frees it and clears the pointer,
    /// as QEMU's spapr_pci does with msi_devs), then a later section fails: the rollback leaves
    /// that buffer to the hook (freeing it again was a double free and an abort, devices50 D2)
    /// and puts the struct back. Whole, the load commits with the hook's result. (txn-b's new
    /// buffer has the same size; at 4000 bytes, past glibc's per-thread cache, which calloc does
    /// not use, it is the block the hook freed: the load forgets the freed one when it sees its
    /// address again.)
    @Test(arguments: [3, 16, 4000])
    func aBufferAPostLoadTookIsNotFreedAgainOnRollback(size: Int) {
        var t = TxnTaken(n: 0, buf: nil, sum: 5)
        var b = TxnBuf()
        Self.oldBytes.withUnsafeBufferPointer { txn_buf_init(&b, $0.baseAddress, 16, 8) }
        let oldB = b.buf
        let bytes = (0..<size).map { UInt8($0 % 7 + 1) }
        let sum = UInt32(bytes.reduce(0) { $0 + Int($1) })
        let taken = Self.txnWire(bytes, tail: nil)
        // txn-b's new buffer of the same size: malloc's next block of that size is the one the
        // hook just freed.
        let fresh = (0..<size).map { UInt8($0 % 5 + 0x40) }
        let cut = HostileStreamTests.stream([
            HostileStreamTests.section(1, "txn-taken", taken),
            HostileStreamTests.section(2, "txn-b", Self.txnWire(fresh, tail: nil)),
        ])
        var message = [CChar](repeating: 0, count: 1024)
        let failed = cut.withUnsafeBufferPointer {
            txn_taken_registry_load(&t, &b, $0.baseAddress, $0.count, &message, message.count)
        }
        #expect(!failed)
        let text = String(decoding: message.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
        #expect(text.contains("(load rolled back: the state is as it was before the call)"), "\(text)")
        #expect(t.n == 0 && t.buf == nil && t.sum == 5)
        #expect(b.buf == oldB && Self.contents(b) == Self.oldBytes && b.tail == 8)
        let whole = HostileStreamTests.stream([
            HostileStreamTests.section(1, "txn-taken", taken),
            HostileStreamTests.section(2, "txn-b", Self.txnWire(fresh, tail: 9)),
        ])
        let loaded = whole.withUnsafeBufferPointer {
            txn_taken_registry_load(&t, &b, $0.baseAddress, $0.count, &message, message.count)
        }
        #expect(loaded)
        #expect(t.n == 0 && t.buf == nil && t.sum == 5 + sum)
        #expect(Self.contents(b) == fresh && b.tail == 9)
        txn_buf_clear(&b)
    }

    // MARK: - through the registry

    @Test func streamFailureRestoresEveryDevice() throws {
        let machine = try HostileStreamTests.Machine(sample: true)
        let digests = machine.devices.mapValues(\.digest)
        let bytes = HostileStreamTests.stream([
            HostileStreamTests.section(1, "hx-ptr", allocatingPtr.bytes),
            HostileStreamTests.section(2, "hx-coll", HxCollWire(elements: [(3, [3])], links: [1]).bytes),
            HostileStreamTests.section(3, "hx-varray", HxVarrayWire(n16: 9999).bytes),
        ])
        let e = machine.error(bytes, options: .transactional)
        #expect(e.kind == .boundExceeded && e.path == "hx-varray/a16")
        #expect(e.reason.hasSuffix("(load rolled back: the state is as it was before the call)"))
        #expect(
            e.description
                == "hx-varray/a16: section \"hx-varray\" instance 0: the field would be written outside its struct: 19998 bytes at offset 120 of a 168-byte region (load rolled back: the state is as it was before the call); expected at most the struct's size, got 9999 element(s) of 2 bytes (at byte \(e.offset))"
        )
        for (name, device) in machine.devices { #expect(device.digest == digests[name], "\(name) changed") }
        // Without the option the devices before the failure keep what they loaded.
        let plain = try HostileStreamTests.Machine(sample: true)
        _ = plain.error(bytes)
        #expect(plain.devices["hx-ptr"]!.state(HxPtr.self).pointee.n16 == 3)
    }
}

/// Timers without installed timer functions: a rollback puts back each `expire_time` the load
/// wrote where the device loading reaches it (in its struct, or behind its VMSTATE_TIMER_PTR
/// fields); a device added without a size keeps its loaded timers as it keeps its other fields.
@Suite struct TransactionalTimerTests {
    @Test func aRollbackPutsBackTimersBehindPointers() throws {
        let timers = [newTimer(expire: 42), newTimer(expire: nil), newTimer(expire: 7), newTimer(expire: nil)]
        let d = UnsafeMutablePointer<EngTimers>.allocate(capacity: 1)
        d.initialize(to: EngTimers())
        defer { timers.forEach { $0.deallocate() }; d.deallocate() }
        vmstate_timer_init(&d.pointee.t, nil, nil)
        d.pointee.t.expire_time = 5
        d.pointee.tp = timers[0]
        d.pointee.arr = (timers[1], timers[2], timers[3])
        let before = Array(UnsafeRawBufferPointer(start: d, count: MemoryLayout<EngTimers>.size))
        let wire = [0x55, 0x66, 0x10, -1, 0x30].flatMap(bigEndian64) + [0xEE]
        let error = #expect(throws: VMStateError.self) {
            try VMStateEngine.loadChecked(
                eng_vmsd_timers(), opaque: d, size: MemoryLayout<EngTimers>.size, from: wire, options: .transactional)
        }
        #expect(error?.reason.hasSuffix("(load rolled back: the state is as it was before the call)") == true)
        #expect(timers.map { $0.pointee.expire_time } == [42, -1, 7, -1])
        #expect(Array(UnsafeRawBufferPointer(start: d, count: MemoryLayout<EngTimers>.size)) == before)

        // Without the flag the loaded values stay.
        #expect(throws: VMStateError.self) {
            try VMStateEngine.loadChecked(eng_vmsd_timers(), opaque: d, size: MemoryLayout<EngTimers>.size, from: wire)
        }
        #expect(d.pointee.t.expire_time == 0x55 && timers.map { $0.pointee.expire_time } == [0x66, 0x10, -1, 0x30])
    }

    @Test func aDeviceAddedWithoutASizeKeepsItsLoadedTimers() throws {
        // Source: "a" and "c" (eng-timers), "b" (eng-timer-alloc, tail 8).
        let source = (0..<8).map { i in newTimer(expire: 0x100 + Int64(i)) }
        let target = (0..<8).map { _ in newTimer(expire: 3) }
        let devices = UnsafeMutablePointer<EngTimers>.allocate(capacity: 4)
        let allocs = UnsafeMutablePointer<EngTimerAlloc>.allocate(capacity: 2)
        defer {
            (source + target).forEach { $0.deallocate() }
            devices.deallocate()
            allocs.deallocate()
        }
        for i in 0..<4 {
            let t = i < 2 ? source : target
            devices[i] = EngTimers()
            vmstate_timer_init(&devices[i].t, nil, nil)
            devices[i].tp = t[(i % 2) * 4]
            devices[i].arr = (t[(i % 2) * 4 + 1], t[(i % 2) * 4 + 2], t[(i % 2) * 4 + 3])
        }
        allocs[0] = EngTimerAlloc(n: 0, elems: nil, tail: 8)
        allocs[1] = EngTimerAlloc(n: 0, elems: nil, tail: 9)  // the stream's 8 fails here
        let size = MemoryLayout<EngTimers>.size
        let saver = Registry()
        try saver.add(idstr: "a", instanceID: 0, vmsd: eng_vmsd_timers(), opaque: devices)
        try saver.add(idstr: "c", instanceID: 0, vmsd: eng_vmsd_timers(), opaque: devices + 1)
        try saver.add(idstr: "b", instanceID: 0, vmsd: eng_vmsd_timer_alloc(), opaque: allocs)
        let stream = try saver.save(machineType: "m")

        let loader = Registry()
        try loader.add(idstr: "a", instanceID: 0, vmsd: eng_vmsd_timers(), opaque: devices + 2)
        try loader.add(idstr: "c", instanceID: 0, vmsd: eng_vmsd_timers(), opaque: devices + 3, size: size)
        try loader.add(
            idstr: "b", instanceID: 0, vmsd: eng_vmsd_timer_alloc(), opaque: allocs + 1,
            size: MemoryLayout<EngTimerAlloc>.size)
        let error = #expect(throws: VMStateError.self) { try loader.load(stream, options: .transactional) }
        #expect(error?.path == "eng-timer-alloc/tail")
        #expect(
            error?.reason.hasSuffix("not restored (added without a size, or RAM): section \"a\" instance 0)") == true)
        // "a" (no size) keeps the stream's times behind its pointers; "c" (sized) has its own again.
        #expect(target[0..<4].map { $0.pointee.expire_time } == [0x100, 0x101, 0x102, 0x103])
        #expect(target[4..<8].map { $0.pointee.expire_time } == [3, 3, 3, 3])
    }
}
