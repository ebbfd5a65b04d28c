import CGLib
import CVMState

/// The bounds of a checked load (`vmstate_load_checked`, sized registry entries): where the
/// engine may write, what it allocated, and how to undo it all for a transactional load.
///
/// A write lands either inside a known region (the caller's struct of known size, or memory the
/// engine allocated itself) and must then stay inside it, or in memory reached through a raw
/// pointer the engine did not allocate, whose size nobody knows (`vmstate lint` reports such
/// fields as unguarded).
final class LoadGuard {
    private struct Region {
        let start: UInt
        let end: UInt
    }

    private var regions: [Region] = []
    /// Memory allocated during this load, freed again when a transactional load fails.
    private var allocations: [UnsafeMutableRawPointer] = []
    /// Nodes inserted into caller trees: (tree, key, key allocated by us).
    private var treeInsertions: [(tree: OpaquePointer, key: UnsafeMutableRawPointer?, value: UnsafeMutableRawPointer)] = []
    /// Copies of the structs taken before a transactional load.
    private var snapshots: [(pointer: UnsafeMutableRawPointer, bytes: [UInt8])] = []

    let transactional: Bool
    var depth = 0
    static let maximumDepth = 64
    /// The largest single allocation a stream may cause (1 GiB).
    static let maximumAllocation = 1 << 30

    init(transactional: Bool) { self.transactional = transactional }

    /// Adds the caller's struct: writes that start inside it must end inside it.
    func addStruct(_ opaque: UnsafeMutableRawPointer, size: Int) {
        regions.append(Region(start: UInt(bitPattern: opaque), end: UInt(bitPattern: opaque) + UInt(size)))
        if transactional {
            snapshots.append((opaque, Array(UnsafeRawBufferPointer(start: opaque, count: size))))
        }
    }

    /// Checks that `length` bytes from `start` fit in the region holding `owner` (the struct the
    /// field belongs to, or the memory a pointer points into; a pointer just past the end of a
    /// region counts as in it); memory in no known region is not checked.
    func check(_ start: UnsafeMutableRawPointer, _ length: Int, owner: UnsafeMutableRawPointer) -> String? {
        let o = UInt(bitPattern: owner)
        guard let region = regions.last(where: { o >= $0.start && o < $0.end })
            ?? regions.last(where: { o == $0.end && length > 0 })
        else { return nil }
        let s = UInt(bitPattern: start)
        guard s >= region.start, s <= region.end, UInt(length) <= region.end - s else {
            let offset = Int(bitPattern: s &- region.start)
            return "\(length) bytes at offset \(offset) of a \(region.end - region.start)-byte region"
        }
        return nil
    }

    /// Allocates `size` bytes (zeroed) for the stream, within the allocation limit, and tracks them.
    func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        guard size > 0, size <= LoadGuard.maximumAllocation, let p = g_try_malloc0(gsize(size)) else { return nil }
        regions.append(Region(start: UInt(bitPattern: p), end: UInt(bitPattern: p) + UInt(size)))
        allocations.append(p)
        return p
    }

    /// Records memory allocated by the engine (list elements, tree nodes) for rollback.
    func adopt(_ p: UnsafeMutableRawPointer, size: Int) {
        regions.append(Region(start: UInt(bitPattern: p), end: UInt(bitPattern: p) + UInt(size)))
        allocations.append(p)
    }

    /// Forgets a tracked allocation the engine freed itself.
    func release(_ p: UnsafeMutableRawPointer) {
        if let i = allocations.lastIndex(of: p) { allocations.remove(at: i) }
        regions.removeAll { $0.start == UInt(bitPattern: p) }
    }

    func insertedIntoTree(_ tree: OpaquePointer, key: UnsafeMutableRawPointer?, value: UnsafeMutableRawPointer) {
        treeInsertions.append((tree, key, value))
    }

    /// Rolls back (when transactional) and returns `error`, saying so in its reason.
    func rollBackAfter(_ error: VMStateError) -> VMStateError {
        guard transactional else { return error }
        rollBack()
        var copy = error
        copy.reason += " (load rolled back: the state is as it was before the call)"
        return copy
    }

    /// Undoes a failed transactional load: removes inserted tree nodes, frees every allocation
    /// and puts the structs' bytes back.
    func rollBack() {
        guard transactional else { return }
        for insertion in treeInsertions.reversed() {
            _ = g_tree_steal(insertion.tree, insertion.key)
        }
        for p in allocations.reversed() { g_free(p) }
        for snapshot in snapshots {
            snapshot.bytes.withUnsafeBytes { snapshot.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
        allocations.removeAll()
        treeInsertions.removeAll()
    }
}
