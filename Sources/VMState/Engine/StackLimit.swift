import CVMState

/// Where the calling thread's own stack ends, for the recursions of planning, saving and
/// loading (one level per nested description, a few KiB each): they stop with an error before
/// using the last `reserve` bytes instead of overflowing the stack. QEMU has no such check.
///
/// Only frames on the thread's own stack (as `pthread_getattr_np` gives it, at most 256 MiB
/// counted: `ulimit -s unlimited` reports terabytes) are checked: a save or load running on a
/// stack of its own (a coroutine's, as QEMU's incoming migration, or a signal stack) is not.
struct StackLimit {
    /// What is kept in reserve: 32 KiB, room for the error's unwinding and for a custom `get`,
    /// `put` or hook (and GLib's allocator) at the deepest level, and more than one level of
    /// nesting takes (about 6 KiB), so that no level steps over it. A debug build of the
    /// library (the tests, also under AddressSanitizer, whose frames are many times larger)
    /// keeps 256 KiB.
    #if DEBUG
        static let reserve = 256 << 10
    #else
        static let reserve = 32 << 10
    #endif
    /// The error when the reserve is reached, at `path` and byte `offset`.
    static func exceeded(path: String = "", offset: Int = 0) -> VMStateError {
        VMStateError(.boundExceeded, path: path, offset: offset, reason: reason)
    }

    /// The message of that error.
    static let reason =
        "less than \(reserve >> 10) KiB of the thread's stack left (descriptions nested too deep for the stack, or a pointer cycle in the state)"

    /// The bytes kept in reserve by this limit: ``reserve`` unless given.
    let kept: Int
    /// The lowest address a level may start at (0: the stack's extent is unknown).
    let floor: UInt

    /// A limit that keeps `reserve` bytes of the thread's stack (default ``reserve``).
    init(reserve: Int = StackLimit.reserve) {
        kept = reserve
        floor = UInt(vmstate_stack_floor(reserve))
    }

    /// Whether the caller's frame lies in the reserve at the end of the thread's stack.
    @inline(__always)
    var isNearlyUsedUp: Bool {
        let here = UInt(vmstate_stack_here())
        return here < floor && here >= floor &- UInt(kept)
    }
}
