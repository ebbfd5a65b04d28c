import CVMState
import Synchronization

/// How timers are read and re-armed: `expire_time` by default, or the emulator's functions
/// installed with `vmstate_set_timer_ops`.
enum Timers {
    // SAFETY (@unchecked Sendable): the ops are C function pointers and a `user` pointer,
    // copied from `vmstate_set_timer_ops` and process-wide (include/qemu/timer.h); the Mutex
    // guards the copy itself. They are called on whichever thread saves or loads: that they
    // (and `user`) bear this is the emulator's side of the contract, which the header does
    // not spell out.
    private struct Ops: @unchecked Sendable { var value: VMStateTimerOps }
    private static let installed = Mutex<Ops?>(nil)

    static func install(_ ops: VMStateTimerOps?) {
        installed.withLock { $0 = ops.map(Ops.init) }
    }

    /// The value to save: the expire time, or -1 when not pending. As QEMU's `timer_put`
    /// (`timer_expire_time_ns`: pending means an expire time of at least 0), any negative
    /// value, the member's or the installed function's, is saved as -1 (a -2 saved as it is
    /// would arm QEMU's timer on load).
    ///
    /// SAFETY (both functions): `timer` is a VMSTATE_TIMER field's element: a `QEMUTimer`
    /// embedded in the device struct at the field's offset (or behind its pointer, for
    /// VMSTATE_TIMER_PTR), as the table says (include/qemu/timer.h), checked as the field's
    /// footprint in a checked load; the installed ops get it as QEMU's timer_* would.
    static func expireTime(_ timer: UnsafeMutablePointer<QEMUTimer>) -> Int64 {
        let value: Int64
        if let ops = installed.withLock({ $0?.value }), let read = ops.expire_time {
            value = read(timer, ops.user)
        } else {
            value = timer.pointee.expire_time
        }
        return value < 0 ? -1 : value
    }

    /// Whether `restore` goes through an installed function (`mod` or `del`) rather than only
    /// writing `expire_time`: the emulator then keeps timer state the engine cannot copy back.
    static var restoresThroughOps: Bool {
        installed.withLock { $0.map { $0.value.mod != nil || $0.value.del != nil } ?? false }
    }

    /// Whether `restore(_:value)` calls an installed function (`del` for -1, `mod` for any
    /// other value) rather than writing `expire_time` alone.
    static func callsFunction(for value: Int64) -> Bool {
        installed.withLock { ops in ops.map { value == -1 ? $0.value.del != nil : $0.value.mod != nil } ?? false }
    }

    /// The pointer members of a `QEMUTimer` (which QEMU's `timer_mod` and `timer_del` follow or
    /// hand on), by name and offset.
    static let pointerMembers: [(String, Int)] = [
        ("timer_list", MemoryLayout<QEMUTimer>.offset(of: \.timer_list)!),
        ("cb", MemoryLayout<QEMUTimer>.offset(of: \.cb)!),
        ("opaque", MemoryLayout<QEMUTimer>.offset(of: \.opaque)!),
        ("next", MemoryLayout<QEMUTimer>.offset(of: \.next)!),
    ]

    /// Applies a loaded value: -1 stops the timer, anything else arms it at that time.
    static func restore(_ timer: UnsafeMutablePointer<QEMUTimer>, _ value: Int64) {
        let ops = installed.withLock { $0?.value }
        if value == -1 {
            if let del = ops?.del { del(timer, ops?.user) } else { timer.pointee.expire_time = -1 }
        } else {
            if let mod = ops?.mod { mod(timer, value, ops?.user) } else { timer.pointee.expire_time = value }
        }
    }
}
