// The one view through which the per-field path reads and writes a device struct's memory.
//
// QEMU's API (`vmstate_save_state` / `vmstate_load_state`) passes a struct as `void *opaque`
// alone: nobody tells the engine its size. What bounds the engine's accesses is the C table
// (each field's offset and footprint, which `FieldPlan` decodes), and in a checked load the
// `LoadGuard`, which checks every field's bytes against the region they lie in before they
// are written. A `StructMemory` carries the base and, where it is known, the bound; its
// accessors check that bound in debug builds only, so that the release build reads and
// writes exactly as the raw pointers did. The hot loops in Codec.swift take no view at all:
// they run over run items whose numbers were checked for overflow when the plan was built,
// and whose bytes a checked load checks per step (`StepExtra.lower/upper`).

/// `count` bytes of memory from `base`: a device struct (or part of one), an element, or memory
/// the engine allocated. `count` is `StructMemory.unknown` when nobody knows the size (a struct
/// passed by QEMU's API, memory behind a raw pointer of the struct).
///
/// SAFETY: a view does not own its memory and keeps nothing alive; the caller's `opaque` (or the
/// engine's allocation) must stay valid while it is used, which holds for the duration of one
/// save or load (QEMU's contract for `opaque`).
struct StructMemory {
    let base: UnsafeMutableRawPointer
    let count: Int

    /// The bound of a struct whose size nobody passed.
    static let unknown = Int.max

    @inline(__always)
    init(_ base: UnsafeMutableRawPointer, count: Int = StructMemory.unknown) {
        self.base = base
        self.count = count
    }

    @inline(__always)
    private func checkRange(_ offset: Int, _ length: Int) {
        assert(
            offset >= 0 && length >= 0 && (count == StructMemory.unknown || offset <= count - length),
            "access of \(length) bytes at \(offset) outside a view of \(count) bytes")
    }

    /// The address `offset` bytes in.
    @inline(__always)
    func pointer(at offset: Int) -> UnsafeMutableRawPointer {
        checkRange(offset, 0)
        return base + offset
    }

    /// The `length` bytes at `offset` as a view of their own.
    @inline(__always)
    func slice(_ offset: Int, _ length: Int) -> StructMemory {
        checkRange(offset, length)
        return StructMemory(base + offset, count: length)
    }

    /// The value of type `T` at `offset` (host order; any alignment: C structs may be packed).
    @inline(__always)
    func load<T: BitwiseCopyable>(at offset: Int = 0, as type: T.Type) -> T {
        checkRange(offset, MemoryLayout<T>.size)
        return base.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    /// A pointer stored at `offset` (a `T *` member of the C struct).
    @inline(__always)
    func loadPointer(at offset: Int = 0) -> UnsafeMutableRawPointer? {
        load(at: offset, as: UnsafeMutableRawPointer?.self)
    }

    /// Stores `value` at `offset` (host order; any alignment).
    @inline(__always)
    func store<T: BitwiseCopyable>(_ value: T, at offset: Int = 0) {
        checkRange(offset, MemoryLayout<T>.size)
        base.storeBytes(of: value, toByteOffset: offset, as: T.self)
    }
}

/// Where QEMU 7.2's queue macros (include/qemu/queue.h) keep their links, as offsets from the
/// head, or from the link field (`VMStateField.start`) in an element. Every link is one
/// pointer; the engine writes them with `IntrusiveList` exactly as the C macros would, so that
/// the device's own QTAILQ_* / QLIST_* code can walk the lists it loads.
enum QueueLayout {
    static let pointer = MemoryLayout<UnsafeRawPointer>.size

    /// QTAILQ_HEAD: `union { T *tqh_first; QTailQLink tqh_circ; }`, where `QTailQLink` is
    /// `{ void *tql_next; QTailQLink *tql_prev; }`: the first element, then the link of the
    /// last element (the head's own `tqh_circ` when the list is empty; NULL in a zeroed head
    /// that was never initialised).
    static let tailqHeadFirst = 0
    static let tailqHeadLast = pointer
    static let tailqHeadSize = 2 * pointer

    /// QTAILQ_ENTRY: `union { T *tqe_next; QTailQLink tqe_circ; }`: the next element, then the
    /// previous element's link (or the head's `tqh_circ`). A `QTailQLink`'s `tql_next` is at 0.
    static let tailqNext = 0
    static let tailqPrev = pointer
    static let tailqLinkNext = 0

    /// QLIST_HEAD: `{ T *lh_first; }`.
    static let qlistHeadFirst = 0
    static let qlistHeadSize = pointer

    /// QLIST_ENTRY: `{ T *le_next; T **le_prev; }`: the next element, then the address of the
    /// pointer that points to this element (the previous element's `le_next` or the head's
    /// `lh_first`).
    static let qlistNext = 0
    static let qlistPrev = pointer
}
