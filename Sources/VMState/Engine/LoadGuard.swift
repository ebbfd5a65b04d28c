import CGLib
import CVMState

/// The bounds of a checked load (`vmstate_load_checked`, sized registry entries): where the
/// engine may write, what it allocated, and how to undo it all for a transactional load.
///
/// A write lands either inside a known region (the caller's struct of known size, a registered
/// RAM block, or memory the engine allocated itself) and must then stay inside it, or in memory
/// reached through a raw pointer the engine did not allocate, whose size nobody knows (`vmstate
/// lint` reports such fields as unguarded).
final class LoadGuard {
    private struct Region: Equatable {
        let start: UInt
        let end: UInt

        init(_ p: UnsafeMutableRawPointer, _ size: Int) {
            start = UInt(bitPattern: p)
            end = start + UInt(size)
        }

        init(start: UInt, end: UInt) {
            self.start = start
            self.end = end
        }

        func contains(_ address: UInt) -> Bool { address >= start && address < end }
    }

    /// The caller's structs and RAM blocks, in the order added. Where two overlap, the one added
    /// last bounds the addresses both hold, except that the struct of the device loading
    /// (``current``) bounds its own.
    private var fixed: [Region] = []
    /// ``fixed`` as disjoint pieces sorted by address, each with the region that bounds its
    /// addresses, for a binary search; made when first needed after a change, once there are
    /// more than ``linearSearchLimit`` regions (nil until then). A registry adds one region per
    /// sized device: a search of them all per field check made a load of N devices take N²
    /// steps (16,384 devices: 0.7 s).
    private var pieces: [Piece]?

    private struct Piece {
        let start: UInt
        let end: UInt
        let region: Region
    }

    /// The struct of the device whose section is loading, when added with its size: it bounds
    /// the addresses it holds whatever other region holds them too. QEMU saves the `CPUState`
    /// at the start of an `X86CPU` as section "cpu_common" and the whole `X86CPU` as "cpu": a
    /// caller that adds both with their sizes has two structs at one address, and each
    /// section's fields are bounded by its own.
    private var current: Region?
    /// Memory allocated during this load, in allocation order: freed again when a transactional
    /// load fails, or when the element it was allocated for fails to load.
    private var allocations: [Region] = []
    /// The same allocations by address, in GLib's balanced tree (keys the blocks' addresses,
    /// values their ends): the one holding an address is found in log n steps. An address in no
    /// region (a device added without a size) was looked for through every allocation of the
    /// load, once per field: N allocations and M such fields took N x M steps.
    private let allocationTree: OpaquePointer
    /// The snapshots' structs, as pieces each given the struct that holds it to the highest
    /// end, when there are more than ``linearSearchLimit`` (nil: to be made).
    private var snapshotPieces: [Piece]?
    /// Copies of the structs taken before a transactional load (each copy malloc'd, freed with
    /// the guard: a size no allocation can hold is an error, not a trap).
    private var snapshots: [(pointer: UnsafeMutableRawPointer, copy: UnsafeMutableRawBufferPointer)] = []
    /// Bytes outside the snapshots and allocations as they were before the load wrote them
    /// (list links of elements the caller owns, memory behind raw pointers); transactional only.
    private var undoLog: [(pointer: UnsafeMutableRawPointer, bytes: [UInt8])] = []
    private var preserved: Set<UInt> = []
    /// Changes to caller trees, in order (transactional: undone in reverse, or completed).
    private var treeLog: [TreeChange] = []
    /// Tree nodes inserted by this load (by value pointer), to refuse a key loaded twice.
    private var insertedValues: Set<UInt> = []
    /// Allocations a VMS_ALLOC field stored in memory a rollback does not put back (the struct
    /// of a device added without a size, which keeps what was loaded) or in another such
    /// allocation, by address: a rollback leaves them to that memory (freeing them would leave
    /// its pointer dangling). Transactional only.
    private var handedOver: Set<UInt> = []
    /// Memory the stream's bytes were written to while loading a field whose element count or
    /// size comes from the struct (``countedDepth`` above 0), with the innermost such field's
    /// name: disjoint ranges. Such a count may run past its array into the members after
    /// it (a checked load allows that within the struct or the engine memory holding it); a
    /// pointer among those bytes is the stream's (``plantedPointer(at:)``). Only the engine's own
    /// writes of stream values are recorded, not what hooks write.
    /// Kept per region (the struct or engine allocation holding the bytes, by its start), each
    /// list in address order: writes mostly go up within a region, so keeping one is cheap.
    private var streamWritten: [UInt: [WrittenRange]] = [:]
    /// The fields whose count or size comes from the struct (VMS_VARRAY_*, VMS_VBUFFER) that the
    /// load is inside, outermost first, as indexes into ``writerNames``.
    private var countedFields: [Int] = []
    /// The names of the counted fields this load entered (one of the last few entered again
    /// keeps its index: the elements of an array each entering the same fields).
    private var writerNames: [String] = []
    /// How deep the load is inside such fields.
    var countedDepth: Int { countedFields.count }
    /// Where the engine stored the pointer to each allocation of a VMS_ALLOC field (the field's
    /// member), by allocation address: one whose member no longer holds it when the load gives
    /// its allocations up was taken by the device's hooks (``handOverTakenAllocations(_:)``).
    private var members: [UInt: UInt] = [:]
    /// Memory the caller's hooks gave to `vmstate_free_after_load` while a device whose struct
    /// a rollback restores was loading: freed on commit, left on rollback (the restored
    /// pointers reach it again). Transactional only.
    private var deferredFrees: [UnsafeMutableRawPointer] = []
    /// What the caller's hooks gave `vmstate_load_on_rollback` while a device whose struct a
    /// rollback restores was loading, in order: called last first when the load rolls back,
    /// before anything is put back or freed; dropped when it commits, or passed to the
    /// enclosing transactional load that puts this one's structs back. Transactional only.
    private var rollbackActions: [RollbackAction] = []

    /// A C function and its argument (`vmstate_load_on_rollback`).
    struct RollbackAction {
        let function: @convention(c) (UnsafeMutableRawPointer?) -> Void
        let opaque: UnsafeMutableRawPointer?
    }
    /// Timers this load armed or stopped through the installed timer functions
    /// (`vmstate_set_timer_ops`), first change of each only, in order, with the expire time each
    /// had before (-1 for one in memory this load allocated: a rollback or a failed element frees
    /// that memory, so the timer is stopped first). Kept by a transactional load, and by any
    /// checked load for timers in its allocations. The emulator's own timer state is not memory
    /// a rollback can copy back: it is put back through the same functions.
    private var timerLog: [UnsafeMutablePointer<QEMUTimer>] = []
    private var timersBefore: [UInt: Int64] = [:]
    /// The transactional load this one runs in (from one of its hooks), while ``run(restored:_:)``
    /// runs. When this one commits into structs that load puts back on rollback, it takes this
    /// load's deferred frees (its rollback puts pointers to them back) and allocations (its
    /// rollback leaves them unreachable, so frees them).
    private var enclosing: LoadGuard?

    private enum TreeChange {
        /// `key` was inserted (stolen again on rollback).
        case inserted(tree: OpaquePointer, key: UnsafeMutableRawPointer?)
        /// An entry the caller had under an equal key was set aside (put back on rollback;
        /// replaced with GLib's g_tree_insert semantics on commit).
        case displaced(
            tree: OpaquePointer, key: UnsafeMutableRawPointer?, value: UnsafeMutableRawPointer?,
            by: UnsafeMutableRawPointer?)
    }

    let transactional: Bool
    var depth = 0
    static let maximumDepth = 64
    /// The largest single allocation a stream may cause (1 GiB).
    static let maximumAllocation = 1 << 30

    init(transactional: Bool) {
        self.transactional = transactional
        // SAFETY: the comparison reads no memory: keys are addresses compared as integers.
        allocationTree = g_tree_new { a, b in
            let (x, y) = (UInt(bitPattern: a), UInt(bitPattern: b))
            return x < y ? -1 : x > y ? 1 : 0
        }
    }

    deinit {
        g_tree_unref(allocationTree)
        // SAFETY: each copy was malloc'd by addStruct and is freed once, here.
        for snapshot in snapshots { free(snapshot.copy.baseAddress) }
    }

    /// Adds the caller's struct of `size` bytes (more than 0): writes that start inside it must
    /// end inside it. A transactional load copies it first; `label` names it when its size is
    /// more than can be allocated (a `.failed` error: a wrong size, such as 2^62 bytes).
    func addStruct(_ opaque: UnsafeMutableRawPointer, size: Int, label: @autoclosure () -> String = "")
        throws(VMStateError)
    {
        if transactional {
            // (No struct is larger than a user address space, at most 2^56 bytes on x86-64 with
            // 5-level paging: no allocation is tried beyond, which a sanitizer's allocator would
            // refuse by aborting rather than return NULL.)
            guard size < 1 << 56, let copy = malloc(size) else {
                throw VMStateError(
                    .failed, path: label(),
                    reason: "a transactional load keeps a copy of the struct to restore on failure, and its size "
                        + "cannot be allocated (is the struct's size right?)", actual: "\(size) bytes")
            }
            // SAFETY: the caller (vmstate_load_checked, a sized registry entry) gives the
            // struct's size; its `size` bytes stay valid for the load and its rollback, and `copy`
            // holds as many.
            copy.copyMemory(from: opaque, byteCount: size)
            snapshots.append((opaque, UnsafeMutableRawBufferPointer(start: copy, count: size)))
            snapshotPieces = nil
        }
        fixed.append(Region(opaque, size))
        pieces = nil
    }

    /// Adds `size` bytes (more than 0) the load may write (a RAM block) without restoring them
    /// on rollback.
    func addRegion(_ start: UnsafeMutableRawPointer, size: Int) {
        fixed.append(Region(start, size))
        pieces = nil
    }

    /// Sets the struct of the device whose section loads next (added with ``addStruct(_:size:)``),
    /// or nil for a device added without a size and after the section.
    func loading(_ opaque: UnsafeMutableRawPointer?, size: Int?) {
        current = opaque.flatMap { p in size.map { Region(p, $0) } }
    }

    /// Allocations found lately (most recent first): an element's fields and the buffers they
    /// allocate alternate between a few regions, which may lie far back in `allocations` (an
    /// array of structs, each allocating). Emptied whenever memory is freed.
    private var recent: [Region] = []

    /// Up to this many caller regions are searched in order (faster than the pieces for a few).
    private static let linearSearchLimit = 16

    /// ``pieces``, made from ``fixed`` if needed: each piece bounded by the last region added
    /// that holds it.
    private var indexedPieces: [Piece] {
        if let pieces { return pieces }
        let made = Self.pieces(of: fixed, claimedIn: fixed.indices.reversed())
        pieces = made
        return made
    }

    /// `regions` cut into disjoint pieces sorted by address: the boundaries of every region
    /// sorted, and each span between two of them given to the first region in `order` that
    /// holds it (each region, in that order, claims the spans no earlier one claimed; a
    /// union-find skips the spans claimed, so each is visited once). Adjacent spans of one
    /// region make one piece.
    private static func pieces(of regions: [Region], claimedIn order: some Sequence<Int>) -> [Piece] {
        let bounds = Array(Set(regions.flatMap { [$0.start, $0.end] })).sorted()
        var owner = [Int](repeating: -1, count: max(bounds.count - 1, 0))
        // next[i]: the first span at or after i not claimed yet (bounds.count - 1: none).
        var next = Array(0..<bounds.count)
        func unclaimed(_ i: Int) -> Int {
            var root = i
            while next[root] != root { root = next[root] }
            var j = i
            while next[j] != root {
                let after = next[j]
                next[j] = root
                j = after
            }
            return root
        }
        for k in order {
            let r = regions[k]
            let last = firstIndex(bounds.count) { bounds[$0] >= r.end }
            var i = unclaimed(firstIndex(bounds.count) { bounds[$0] >= r.start })
            while i < last {
                owner[i] = k
                next[i] = i + 1
                i = unclaimed(i + 1)
            }
        }
        var made: [Piece] = []
        for (i, k) in owner.enumerated() where k >= 0 {
            if let previous = made.last, previous.end == bounds[i], previous.region == regions[k] {
                made[made.count - 1] = Piece(start: previous.start, end: bounds[i + 1], region: regions[k])
            } else {
                made.append(Piece(start: bounds[i], end: bounds[i + 1], region: regions[k]))
            }
        }
        return made
    }

    /// The piece of `pieces` (disjoint, sorted) that holds `address`.
    private static func piece(of pieces: [Piece], holding address: UInt) -> Piece? {
        // Only the last piece starting at or before the address can hold it.
        let i = firstIndex(pieces.count) { pieces[$0].start > address }
        return i > 0 && address < pieces[i - 1].end ? pieces[i - 1] : nil
    }

    /// The first index in `0..<count` for which `isAfter` holds, `count` if none (`isAfter`
    /// false, then true, along the indices).
    fileprivate static func firstIndex(_ count: Int, where isAfter: (Int) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if isAfter(mid) { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// The caller region that bounds `address`, other than ``current``: the last added that
    /// holds it.
    private func fixedRegion(holding address: UInt) -> Region? {
        if fixed.count <= Self.linearSearchLimit { return fixed.last { $0.contains(address) } }
        return Self.piece(of: indexedPieces, holding: address)?.region
    }

    /// Whether a caller region overlaps `lo ..< hi`.
    private func fixedOverlaps(_ lo: UInt, _ hi: UInt) -> Bool {
        if fixed.count <= Self.linearSearchLimit { return fixed.contains { $0.start < hi && lo < $0.end } }
        let pieces = indexedPieces
        // Disjoint, so the ends rise with the starts: the first piece ending after `lo` is the
        // one with the lowest start among those that may overlap.
        let i = Self.firstIndex(pieces.count) { pieces[$0].end > lo }
        return i < pieces.count && pieces[i].start < hi
    }

    private func region(holding address: UInt) -> Region? {
        if let current, current.contains(address) { return current }
        if let r = fixedRegion(holding: address) { return r }
        if let r = recent.first(where: { $0.contains(address) }) { return r }
        guard let r = allocation(holding: address) else { return nil }
        recent.insert(r, at: 0)
        if recent.count > 4 { recent.removeLast() }
        return r
    }

    /// Checks that `length` bytes from `start` fit in the region holding `owner` (the struct the
    /// field belongs to, or the memory a pointer points into); memory in no known region is not
    /// checked. A region holds the addresses from its start up to, not including, its end: an
    /// owner at a region's end lies in whatever begins there (a struct placed right after a RAM
    /// block is that struct's, not the block's).
    ///
    /// Only addresses are compared (as `UInt`); nothing is read or written here.
    func check(_ start: UnsafeMutableRawPointer, _ length: Int, owner: UnsafeMutableRawPointer) -> String? {
        guard let region = region(holding: UInt(bitPattern: owner)) else { return nil }
        let s = UInt(bitPattern: start)
        guard s >= region.start, s <= region.end, UInt(length) <= region.end - s else {
            let offset = Int(bitPattern: s &- region.start)
            return "\(length) bytes at offset \(offset) of a \(region.end - region.start)-byte region"
        }
        return nil
    }

    /// Whether the bytes `base + lower ..< base + upper` may be written without checking each
    /// field there: true when they lie in the region holding `base` (each field's own check,
    /// with an owner in that region, would pass), or when `base` is in no region and no
    /// caller region (struct, RAM block) overlaps them (each check would find no region). False
    /// means "check field by field", not "refused". Engine allocations are not searched for
    /// the second case: they are separate heap blocks, which a caller's struct cannot overlap.
    func allows(_ base: UnsafeMutableRawPointer, _ lower: Int, _ upper: Int) -> Bool {
        let b = UInt(bitPattern: base)
        let lo = b &+ UInt(bitPattern: lower)
        let hi = b &+ UInt(bitPattern: upper)
        guard lower <= upper, lo >= b, hi >= lo else { return false }
        if let region = region(holding: b) { return lo >= region.start && hi <= region.end }
        return !fixedOverlaps(lo, hi)
    }

    // MARK: engine memory

    /// The allocation holding `address`, from ``allocationTree``: the block with the highest
    /// address at or below it, if it reaches that far (allocations are separate heap blocks:
    /// none overlap).
    private func allocation(holding address: UInt) -> Region? {
        guard !allocations.isEmpty, let key = UnsafeRawPointer(bitPattern: address) else { return nil }
        let node: OpaquePointer?
        if let after = g_tree_upper_bound(allocationTree, key) {
            node = g_tree_node_previous(after)
        } else {
            node = g_tree_node_last(allocationTree)
        }
        guard let node else { return nil }
        let region = Region(
            start: UInt(bitPattern: g_tree_node_key(node)), end: UInt(bitPattern: g_tree_node_value(node)))
        return region.contains(address) ? region : nil
    }

    /// Allocates `size` bytes (zeroed) for the stream, within the allocation limit, and tracks them.
    func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        // SAFETY: the block is tracked until it is released, freed with `freeAllocations`, or
        // handed over to the caller's structures on commit (then the guard forgets it).
        guard size > 0, size <= LoadGuard.maximumAllocation, let p = g_try_malloc0(gsize(size)) else { return nil }
        let region = Region(p, size)
        // Malloc returned an address this load allocated before: a hook freed it (QEMU's
        // spapr_pci `post_load` frees the `msi_devs` array the load allocated), so it is not this
        // load's to free or to look into any more, nor are its timers to stop.
        if g_tree_lookup(allocationTree, p) != nil { untrack(region.start, stoppingTimers: false) }
        allocations.append(region)
        g_tree_insert(allocationTree, p, UnsafeMutableRawPointer(bitPattern: region.end))
        return p
    }

    /// Forgets the allocation at `address`: its logged timers (stopped first when
    /// `stoppingTimers`), where its pointer was stored, the stream bytes recorded in it.
    private func untrack(_ address: UInt, stoppingTimers: Bool) {
        if let i = allocations.lastIndex(where: { $0.start == address }) {
            stopTimers(inBlocks: [allocations[i]], stopping: stoppingTimers)
            allocations.remove(at: i)
        }
        g_tree_remove(allocationTree, UnsafeRawPointer(bitPattern: address))
        members[address] = nil
        streamWritten[address] = nil
        handedOver.remove(address)
        recent.removeAll()
    }

    /// Tracks `regions`, allocated and committed by a load nested in this one's hook into structs
    /// this one puts back on rollback, as this load's own: freed if it rolls back.
    private func adopt(_ regions: [Region], members adopted: [UInt: UInt]) {
        for region in regions {
            allocations.append(region)
            if let member = adopted[region.start] { members[region.start] = member }
            g_tree_insert(
                allocationTree, UnsafeMutableRawPointer(bitPattern: region.start),
                UnsafeMutableRawPointer(bitPattern: region.end))
        }
        recent.removeAll()
    }

    /// Records that the engine stored the pointer to `allocation` (of this load) at `slot`: one
    /// stored where a rollback puts back no bytes is handed over to that memory (see
    /// ``handedOver``).
    func stored(_ allocation: UnsafeMutableRawPointer, at slot: UnsafeMutableRawPointer) {
        members[UInt(bitPattern: allocation)] = UInt(bitPattern: slot)
        guard transactional else { return }
        let address = UInt(bitPattern: slot)
        if inSnapshot(address, MemoryLayout<UnsafeMutableRawPointer>.size) { return }
        if let owner = self.allocation(holding: address), !handedOver.contains(owner.start) { return }
        handedOver.insert(UInt(bitPattern: allocation))
    }

    /// `vmstate_free_after_load`: frees `memory` (g_free) on commit when a rollback would put
    /// back a struct that may point to it (a transactional load, the device loading added with
    /// its size), leaves it to the enclosing transactional load that puts this load's structs
    /// back (a load without the flag nested in its hook), else frees it at once.
    func freeAfterLoad(_ memory: UnsafeMutableRawPointer) {
        if transactional {
            if current != nil { deferredFrees.append(memory) } else { g_free(memory) }
        } else if let enclosing, restoredByEnclosing {
            // (A load without the flag nested in a transactional one that puts its struct back.)
            enclosing.deferredFrees.append(memory)
        } else {
            g_free(memory)
        }
    }

    /// `vmstate_load_on_rollback`: keeps `action` for a rollback of this load when it restores
    /// the struct of the device loading (a transactional load, the device added with its size),
    /// or of the enclosing transactional load that puts this load's structs back; else drops
    /// it (nothing of this load is put back).
    func onRollback(_ action: RollbackAction) {
        if transactional {
            if current != nil { rollbackActions.append(action) }
        } else if let enclosing, restoredByEnclosing {
            enclosing.rollbackActions.append(action)
        }
    }

    /// Whether this load runs nested in a transactional load that puts back every struct this
    /// one loads into.
    private var restoredByEnclosing: Bool {
        guard let enclosing, enclosing.transactional, !fixed.isEmpty else { return false }
        return fixed.allSatisfy { enclosing.inSnapshot($0.start, Int($0.end - $0.start)) }
    }

    /// Runs a load, `body`, then commits it, or rolls it back and throws its error saying so
    /// (`restored`, asked only then: what the rollback put back). While `body` runs this is the
    /// load `vmstate_free_after_load` defers to on the calling thread (a transactional load, or
    /// any load nested in another's hook; the previous one is put back after).
    func run(
        restored: () -> String = { "the state is as it was before the call" },
        _ body: () throws(VMStateError) -> Void
    ) throws(VMStateError) {
        enclosing = Self.current
        let registers = transactional || enclosing != nil
        // SAFETY: the pointer is this guard's, unretained: `self` outlives the call, and the
        // previous value is put back before it returns, so no thread keeps it afterwards.
        let previous = registers ? vmstate_exchange_current_load(Unmanaged.passUnretained(self).toOpaque()) : nil
        defer {
            if registers { _ = vmstate_exchange_current_load(previous) }
            enclosing = nil
        }
        do throws(VMStateError) {
            try body()
            commit()
        } catch {
            throw rollBackAfter(error, restored: restored())
        }
    }

    /// The load `vmstate_free_after_load` defers to on the calling thread, if any.
    static var current: LoadGuard? {
        // SAFETY: set by ``run(restored:_:)`` of a guard alive until it resets it.
        vmstate_current_load().map { Unmanaged<LoadGuard>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Frees a tracked allocation the engine is done with.
    func release(_ p: UnsafeMutableRawPointer) {
        untrack(UInt(bitPattern: p), stoppingTimers: true)
        g_free(p)
    }

    /// A point to come back to with `freeAllocations(since:)`.
    var mark: Int { allocations.count }

    /// Frees everything allocated since `mark`: an element that failed to load and whatever was
    /// allocated while loading it, which nothing else can reach once the element is gone.
    /// (`takenChecked`: ``handOverTakenAllocations(_:)`` ran already, before a rollback put
    /// bytes back.)
    func freeAllocations(since mark: Int, takenChecked: Bool = false) {
        guard mark < allocations.count else { return }
        if !takenChecked { handOverTakenAllocations(allocations[mark...]) }
        stopTimers(inBlocks: Array(allocations[mark...]))
        for region in allocations[mark...].reversed() {
            // SAFETY: every tracked region is a live g_try_malloc0 block of this load (`release`
            // removes a block from the list before freeing it), so each is freed once.
            let block = UnsafeMutableRawPointer(bitPattern: region.start)
            g_tree_remove(allocationTree, block)
            members[region.start] = nil
            streamWritten[region.start] = nil
            if handedOver.remove(region.start) == nil { g_free(block) }
        }
        allocations.removeSubrange(mark...)
        recent.removeAll()
    }

    /// Hands over (``handedOver``: not freed, its timers left alone) each of `regions`, in
    /// allocation order, that the device's hooks took: the member the engine stored its pointer
    /// in (VMS_ALLOC) holds another pointer now, as after QEMU's spapr_pci `post_load`, which
    /// frees the `msi_devs` array the load allocated and clears the member (spapr_iommu's does
    /// the same with `mig_table`), or lies in an allocation they took. Freeing it again would
    /// be a double free; one the hooks kept elsewhere is theirs. Members in memory the load does
    /// not know (behind a raw pointer) are not read: those allocations are freed as before.
    private func handOverTakenAllocations(_ regions: ArraySlice<Region>) {
        guard !members.isEmpty else { return }
        var taken: Set<UInt> = []
        let size = MemoryLayout<UnsafeMutableRawPointer>.size
        for region in regions where !handedOver.contains(region.start) {
            guard let member = members[region.start] else { continue }
            if let parent = allocation(holding: member) {
                if taken.contains(parent.start) {
                    taken.insert(region.start)
                    continue
                }
            } else if !(current?.contains(member) ?? false) && fixedRegion(holding: member) == nil
                && !inSnapshot(member, size)
            {
                continue
            }
            // SAFETY: the member lies in a struct the caller keeps valid until the load returns,
            // or in an allocation of this load that is still live (not taken: nothing freed it).
            let now = UnsafeRawPointer(bitPattern: member)!.loadUnaligned(as: UInt.self)
            if now != region.start { taken.insert(region.start) }
        }
        handedOver.formUnion(taken)
    }

    // MARK: pointers the stream wrote

    /// Called when a field whose element count or size comes from the struct starts loading
    /// (``leaveCounted()`` when it ends).
    func enterCounted(_ field: String) {
        // (Each element of an array may enter the same one or two fields in turn.)
        let recent = writerNames.count - min(writerNames.count, 4)
        let index = writerNames[recent...].lastIndex(of: field) ?? writerNames.count
        if index == writerNames.count { writerNames.append(field) }
        countedFields.append(index)
    }

    func leaveCounted() { countedFields.removeLast() }

    /// Records that the engine writes stream bytes to `length` bytes at `start` (inside a
    /// counted field: ``countedDepth`` above 0).
    func streamWrites(_ start: UnsafeMutableRawPointer, _ length: Int) {
        guard let field = countedFields.last, length > 0 else { return }
        let s = UInt(bitPattern: start)
        let e = s &+ UInt(length)
        // (Memory in no region the load knows is not bounded, nor recorded.)
        guard e > s, let region = region(holding: s) else { return }
        streamWritten[region.start, default: []].record(s, e, field: field)
    }

    /// Records the bytes `spans` (from `base`) that a compiled run wrote from the stream
    /// (``streamWrites(_:_:)`` for each).
    func streamWrites(_ base: UnsafeMutableRawPointer, spans: UnsafeBufferPointer<Range<Int>>) {
        for span in spans { streamWrites(base + span.lowerBound, span.count) }
    }

    /// The name of the counted field inside which the stream's bytes were written over the
    /// pointer at `slot` in this load (``streamWritten``): a pointer the stream chose, which the
    /// load must not write through (QEMU 7.2's openpic reads `max_irq` from the stream as the
    /// count of `src`, whose 265th element lies on `dst[0].raised.queue`, the pointer a
    /// VMSTATE_BITMAP writes through). Nil when the stream wrote none of its bytes.
    func plantedPointer(at slot: UnsafeMutableRawPointer) -> String? {
        guard !streamWritten.isEmpty else { return nil }
        let s = UInt(bitPattern: slot)
        let e = s &+ UInt(MemoryLayout<UnsafeMutableRawPointer>.size)
        guard let region = region(holding: s), let ranges = streamWritten[region.start] else { return nil }
        let i = Self.firstIndex(ranges.count) { ranges[$0].end > s }
        return i < ranges.count && ranges[i].start < e ? writerNames[ranges[i].field] : nil
    }

    // MARK: timers

    /// Called before the load applies a loaded value to `timer` (``Timers/restore(_:_:)``):
    /// remembers what a rollback must put back. A timer whose struct a rollback restores, or
    /// which the device loading (added with its size) reaches through a pointer, goes back to
    /// its expire time from before the load: through the timer functions when they are
    /// installed, else by its `expire_time` bytes (an undo record where no snapshot holds them).
    /// One in memory this load allocated is stopped before that memory is freed. A timer of a
    /// device added without a size keeps what was loaded, as that device's fields do.
    func willRestore(_ timer: UnsafeMutablePointer<QEMUTimer>) {
        let throughOps = Timers.restoresThroughOps
        guard transactional || throughOps else { return }
        let address = UInt(bitPattern: timer)
        let allocated = allocation(holding: address) != nil
        guard transactional || allocated else { return }
        guard allocated || current != nil || inSnapshot(address, MemoryLayout<QEMUTimer>.size) else { return }
        guard throughOps else {
            preserve(UnsafeMutableRawPointer(timer), MemoryLayout<Int64>.size)  // expire_time
            return
        }
        guard timersBefore[address] == nil else { return }
        timersBefore[address] = allocated ? -1 : Timers.expireTime(timer)
        timerLog.append(timer)
    }

    /// Forgets the logged timers inside `blocks` (allocations leaving the guard), stopping those
    /// in blocks about to be freed when `stopping` (a block handed over to memory that keeps it
    /// is not freed: its timers stay with it; one a hook freed is gone already).
    private func stopTimers(inBlocks blocks: [Region], stopping: Bool = true) {
        guard !timerLog.isEmpty, !blocks.isEmpty else { return }
        timerLog.removeAll { timer in
            let address = UInt(bitPattern: timer)
            guard let block = blocks.first(where: { $0.contains(address) }) else { return false }
            timersBefore[address] = nil
            if stopping && !handedOver.contains(block.start) && plantedMember(of: timer) == nil {
                Timers.restore(timer, -1)
            }
            return true
        }
    }

    /// The first of `timer`'s pointer members (``Timers/pointerMembers``) that a field of this
    /// load whose count or size came from the struct wrote over, with that field's name
    /// (``plantedPointer(at:)``); nil when none.
    func plantedMember(of timer: UnsafeMutablePointer<QEMUTimer>) -> (member: String, writer: String)? {
        guard !streamWritten.isEmpty else { return nil }
        for (member, offset) in Timers.pointerMembers {
            if let writer = plantedPointer(at: UnsafeMutableRawPointer(timer) + offset) { return (member, writer) }
        }
        return nil
    }

    /// Whether `timer` lies in an allocation of this load handed over to memory a rollback keeps.
    private func isHandedOver(_ timer: UnsafeMutablePointer<QEMUTimer>) -> Bool {
        allocation(holding: UInt(bitPattern: timer)).map { handedOver.contains($0.start) } ?? false
    }

    /// Puts the logged timers back, last change first, through the timer functions (before any
    /// memory is copied back or freed, so that the emulator's functions see the timers as its
    /// timer lists hold them), and returns the bytes of those in the structs a rollback copies
    /// back, to be written over the copies: the emulator's members of a `QEMUTimer` are as its
    /// functions left them, not as they were before the load.
    private func putTimersBack() -> [(timer: UnsafeMutablePointer<QEMUTimer>, bytes: QEMUTimer)] {
        var kept: [(timer: UnsafeMutablePointer<QEMUTimer>, bytes: QEMUTimer)] = []
        for timer in timerLog.reversed() {
            let address = UInt(bitPattern: timer)
            if isHandedOver(timer) { continue }  // kept with that memory
            // A timer whose pointer members a counted field wrote over after the load armed it
            // is not handed to the functions (they would follow the stream's pointers): its
            // bytes go back as they were before the load, with the struct's.
            if plantedMember(of: timer) != nil { continue }
            Timers.restore(timer, timersBefore[address] ?? -1)
            // SAFETY: a timer of this load's structs, still valid: the caller keeps its structs
            // and what they point to valid until the load returns.
            if inSnapshot(address, MemoryLayout<QEMUTimer>.size) { kept.append((timer, timer.pointee)) }
        }
        timerLog.removeAll()
        timersBefore.removeAll()
        return kept
    }

    // MARK: undo records (transactional)

    /// Remembers `length` bytes at `p` before the load writes them, unless a rollback restores or
    /// frees them anyway (the structs, engine memory).
    func preserve(_ p: UnsafeMutableRawPointer, _ length: Int) {
        guard transactional, length > 0 else { return }
        let address = UInt(bitPattern: p)
        // The first record of an address holds its value from before the load; later ones
        // add nothing (and a QLIST load asks for the caller's first element once per element).
        if preserved.contains(address) { return }
        if inSnapshot(address, length) { return }
        if allocation(holding: address) != nil { return }
        preserved.insert(address)
        // SAFETY: `p` is a list link or head the engine is about to write (`Engine.loadList`),
        // `length` bytes the C layout gives it (`QueueLayout`): memory the load writes anyway.
        undoLog.append((p, Array(UnsafeRawBufferPointer(start: p, count: length))))
    }

    /// Whether the `length` bytes at `address` lie in one struct a snapshot restores.
    private func inSnapshot(_ address: UInt, _ length: Int) -> Bool {
        let end = address + UInt(length)
        if snapshots.count <= Self.linearSearchLimit {
            return snapshots.contains {
                let start = UInt(bitPattern: $0.pointer)
                return address >= start && end <= start + UInt($0.copy.count)
            }
        }
        if snapshotPieces == nil {
            let structs = snapshots.map { Region($0.pointer, $0.copy.count) }
            let furthestFirst = structs.indices.sorted { structs[$0].end > structs[$1].end }
            snapshotPieces = Self.pieces(of: structs, claimedIn: furthestFirst)
        }
        // The struct holding the address that reaches furthest holds the bytes if any does.
        return Self.piece(of: snapshotPieces!, holding: address).map { end <= $0.region.end } ?? false
    }

    /// Inserts a loaded node into a caller's tree. A key this load inserted already is refused
    /// (returns false); a key the caller had is replaced as g_tree_insert does, but only once
    /// the load has succeeded, so that a rollback can put the caller's node back.
    func insert(into tree: OpaquePointer, key: UnsafeMutableRawPointer?, value: UnsafeMutableRawPointer) -> Bool {
        var oldKey: gpointer? = nil
        var oldValue: gpointer? = nil
        if g_tree_lookup_extended(tree, key, &oldKey, &oldValue) != 0 {
            if let oldValue, insertedValues.contains(UInt(bitPattern: oldValue)) { return false }
            if transactional {
                _ = g_tree_steal(tree, key)
                treeLog.append(.displaced(tree: tree, key: oldKey, value: oldValue, by: key))
            }
        }
        g_tree_insert(tree, key, value)
        insertedValues.insert(UInt(bitPattern: value))
        if transactional { treeLog.append(.inserted(tree: tree, key: key)) }
        return true
    }

    // MARK: end of the load

    /// Completes a successful load (``run(restored:_:)``): caller tree nodes set aside for loaded
    /// ones are now replaced the way g_tree_insert replaces (the tree's destroy functions run on
    /// the old value and the new key, the old key stays).
    func commit() {
        for change in treeLog {
            guard case .displaced(let tree, let oldKey, let oldValue, let newKey) = change else { continue }
            var key: gpointer? = nil
            var value: gpointer? = nil
            guard g_tree_lookup_extended(tree, newKey, &key, &value) != 0 else { continue }
            _ = g_tree_steal(tree, newKey)
            g_tree_insert(tree, oldKey, oldValue)
            g_tree_insert(tree, key, value)
        }
        treeLog.removeAll()
        undoLog.removeAll()
        preserved.removeAll()
        streamWritten.removeAll()
        // A load nested in a transactional one's hook, into structs that one puts back.
        if let enclosing, restoredByEnclosing {
            for timer in timerLog where !isHandedOver(timer) && enclosing.timersBefore[UInt(bitPattern: timer)] == nil {
                enclosing.timersBefore[UInt(bitPattern: timer)] = timersBefore[UInt(bitPattern: timer)]
                enclosing.timerLog.append(timer)
            }
            enclosing.deferredFrees += deferredFrees
            enclosing.rollbackActions += rollbackActions
            enclosing.adopt(allocations.filter { !handedOver.contains($0.start) }, members: members)
        } else {
            // SAFETY: each was given by the caller for g_free once the load is done, once.
            for memory in deferredFrees { g_free(memory) }
        }
        deferredFrees.removeAll()
        rollbackActions.removeAll()
        timerLog.removeAll()
        timersBefore.removeAll()
        allocations.removeAll()
        g_tree_remove_all(allocationTree)
        recent.removeAll()
        handedOver.removeAll()
        members.removeAll()
    }

    /// Rolls back (when transactional) and returns `error`, saying so in its reason.
    private func rollBackAfter(_ error: VMStateError, restored: String) -> VMStateError {
        guard transactional else { return error }
        rollBack()
        var copy = error
        copy.reason += Self.rollbackNoteStart + restored + ")"
        return copy
    }

    /// How the note that a transactional load rolled back starts; it ends the error's reason.
    static let rollbackNoteStart = " (load rolled back: "

    /// `error` without the rollback note that ends its reason, and the note ("" when none): for
    /// a message that adds to the reason and keeps the note last.
    static func splittingRollbackNote(_ error: VMStateError) -> (error: VMStateError, note: String) {
        guard let start = error.reason.ranges(of: rollbackNoteStart).last?.lowerBound else { return (error, "") }
        var bare = error
        bare.reason = String(error.reason[..<start])
        return (bare, String(error.reason[start...]))
    }

    /// Undoes a failed transactional load: puts timers back through the timer functions, takes
    /// loaded nodes out of caller trees and puts the caller's back, restores bytes written
    /// outside the structs, frees every allocation and puts the structs' bytes back.
    func rollBack() {
        guard transactional else { return }
        // SAFETY: each is the caller's C function with its argument, given by a hook of this load
        // to be called once if it rolls back, while what the load made is still there.
        for action in rollbackActions.reversed() { action.function(action.opaque) }
        rollbackActions.removeAll()
        handOverTakenAllocations(allocations[...])
        let timers = putTimersBack()
        for change in treeLog.reversed() {
            switch change {
            case .inserted(let tree, let key):
                _ = g_tree_steal(tree, key)
            case .displaced(let tree, let key, let value, _):
                g_tree_insert(tree, key, value)
            }
        }
        // SAFETY: each record and snapshot is written back to the bytes it was copied from,
        // which the caller keeps valid until the load returns (links of elements the caller
        // owns, its structs); records are never empty (`preserve` takes length > 0), nor are
        // the snapshots written back (an empty one is skipped).
        for entry in undoLog.reversed() {
            entry.bytes.withUnsafeBytes { entry.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
        freeAllocations(since: 0, takenChecked: true)
        for snapshot in snapshots where snapshot.copy.count > 0 {
            snapshot.pointer.copyMemory(from: snapshot.copy.baseAddress!, byteCount: snapshot.copy.count)
        }
        for (timer, bytes) in timers { timer.pointee = bytes }
        streamWritten.removeAll()
        treeLog.removeAll()
        undoLog.removeAll()
        preserved.removeAll()
        insertedValues.removeAll()
        handedOver.removeAll()
        members.removeAll()
        deferredFrees.removeAll()
    }
}

/// Bytes the stream wrote inside a counted field (``LoadGuard/streamWrites(_:_:)``): from
/// `start` up to, not including, `end`, under the field's index in the guard's names.
struct WrittenRange {
    var start: UInt
    var end: UInt
    var field: Int
}

extension [WrittenRange] {
    /// Adds `s..<e` written under `field` to these disjoint ranges in address order: the new
    /// range takes the bytes of the ranges it covers (a range of the same field, or one touching
    /// it, joins it; one of another field keeps what lies outside).
    mutating func record(_ s: UInt, _ e: UInt, field: Int) {
        // Writes mostly go up: at or past the last range, it is extended or one is appended.
        // A gap shorter than a pointer between two ranges of one field joins them (padding
        // between elements): a pointer overlapping it would overlap one of them anyway.
        if let last = self.last, last.end <= s {
            if s - last.end < UInt(MemoryLayout<UnsafeRawPointer>.size) && last.field == field {
                self[count - 1].end = e
            } else {
                append(WrittenRange(start: s, end: e, field: field))
            }
            return
        }
        // The ranges from the first that ends after `s` (their ends ascend) to the last that
        // starts at or before `e`.
        var i = LoadGuard.firstIndex(count) { self[$0].end > s }
        var merged = WrittenRange(start: s, end: e, field: field)
        if i > 0 && self[i - 1].end == s && self[i - 1].field == field {
            i -= 1
            merged.start = self[i].start
        }
        var before: WrittenRange?
        var after: WrittenRange?
        var j = i
        while j < count && self[j].start <= e {
            let r = self[j]
            if r.field == field {
                merged.start = Swift.min(merged.start, r.start)
                merged.end = Swift.max(merged.end, r.end)
            } else {
                if r.start < s { before = WrittenRange(start: r.start, end: s, field: r.field) }
                if r.end > e { after = WrittenRange(start: e, end: r.end, field: r.field) }
            }
            j += 1
        }
        replaceSubrange(i..<j, with: [before, merged, after].compactMap { $0 })
    }
}
