import CGLib
import CVMState

// QEMU's vmstate_* entry points and this library's one-call GLib forms (migration/vmstate.h).
// Each converts between the C conventions (0 / negative errno, GError) and the throwing
// Swift engine; the detailed error is also kept on the file for the one-call forms.

// SAFETY (the entry points below): `f` and `vmdesc` are NULL or live handles borrowed through
// CEdge's `borrow`; `vmsd` and `opaque` are the caller's valid table and device struct (QEMU's
// contract, as the Engine's); the engine checks both for NULL.
/// C's `vmstate_load_state`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_load_state(
    _ f: OpaquePointer?, _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
    _ version_id: Int32
) -> Int32 {
    guard let file = MigrationFile.borrow(f) else { return -22 }
    do throws(VMStateError) {
        // Called from a custom `get` or a hook of a transactional load on this thread (QEMU's
        // virtio_load loads the device's own table so), it is part of that load: checked
        // against its structs, its allocations, tree nodes and timers undone by its rollback.
        try VMStateEngine.load(file, vmsd, opaque, version: version_id, guard: LoadGuard.current)
        return 0
    } catch {
        return file.record(error).errno
    }
}

/// C's `vmstate_save_state`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_save_state(
    _ f: OpaquePointer?, _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
    _ vmdesc: OpaquePointer?
) -> Int32 {
    vmstate_save_state_v(f, vmsd, opaque, vmdesc, vmsd?.pointee.version_id ?? 0)
}

/// C's `vmstate_save_state_v`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_save_state_v(
    _ f: OpaquePointer?, _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
    _ vmdesc: OpaquePointer?, _ version_id: Int32
) -> Int32 {
    guard let file = MigrationFile.borrow(f) else { return -22 }
    let writer = VMDescWriter.borrow(vmdesc)
    do throws(VMStateError) {
        try VMStateEngine.save(file, vmsd, opaque, version: version_id, vmdesc: writer)
        return 0
    } catch {
        return file.record(error).errno
    }
}

/// C's `vmstate_save_needed`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_save_needed(
    _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?
) -> Bool {
    // SAFETY: a non-NULL `vmsd` is the caller's valid table; `needed` is its C callback for `opaque`.
    guard let needed = vmsd?.pointee.needed else { return true }
    return needed(opaque)
}

// The standard VMStateInfo get/put, when C calls them itself (the engine calls them inline).
// Scalars (a custom info's put calling vmstate_info_uint32.put, say) take no plan: the same
// Codec calls as the engine's, without building a FieldPlan (and its strings) per call.

/// Width and bool-ness of the scalar standard kinds.
private func scalarKind(_ kind: Int32) -> (width: Int, isBool: Bool)? {
    switch StandardKind(standard: kind) {
    case VMSTATE_STD_BOOL?: return (1, true)
    case VMSTATE_STD_INT8?, VMSTATE_STD_UINT8?: return (1, false)
    case VMSTATE_STD_INT16?, VMSTATE_STD_UINT16?: return (2, false)
    case VMSTATE_STD_INT32?, VMSTATE_STD_UINT32?: return (4, false)
    case VMSTATE_STD_INT64?, VMSTATE_STD_UINT64?, VMSTATE_STD_CPUDOUBLE?: return (8, false)
    default: return nil
    }
}

/// `vmstate_std_get` of `vmstate-internal.h` (the standard infos' trampolines call it).
@c @implementation public func vmstate_std_get(
    _ kind: Int32, _ f: OpaquePointer?, _ pv: UnsafeMutableRawPointer?, _ size: Int,
    _ field: UnsafePointer<VMStateField>?
) -> Int32 {
    guard let file = MigrationFile.borrow(f), let info = vmstate_std_info(kind) else { return -22 }
    // SAFETY: `pv` is the C caller's element of the info's size (`width` bytes for a scalar kind: the
    // trampoline's contract); stores are unaligned-safe storeBytes of exactly `width` bytes.
    if let pv, let (width, isBool) = scalarKind(kind) {
        let at = file.position
        if Codec.getScalars(file, pv, count: 1, width: width, stride: width, isBool: isBool) { return 0 }
        // QEMU's get_<int> reads byte by byte (zeros past the end, -EIO on the file) and
        // returns 0: the caller finds the error on the file.
        let value = file.getPartial(width).value
        switch width {
        case 1: pv.storeBytes(of: isBool ? (value != 0 ? 1 : 0) : UInt8(truncatingIfNeeded: value), as: UInt8.self)
        case 2: pv.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
        case 4: pv.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
        default: pv.storeBytes(of: value, as: UInt64.self)
        }
        file.record(Engine(file: file).shortInput(width, at: at))
        return 0
    }
    do throws(VMStateError) {
        try Planner.holding { () throws(VMStateError) in
            let plan = try Planner.standalone(field ?? VMStateEngine.emptyField, info: info)
            guard let pv else {
                guard kind == VMSTATE_STD_NULLPTR.rawValue else {
                    throw VMStateError(.invalidTable, offset: file.position, reason: "NULL element pointer")
                }
                // SAFETY: a NULLPTR element is never dereferenced (its load reads only the marker byte); the
                // dummy pointer only satisfies the non-optional parameter.
                try Engine(file: file).loadElement(plan, UnsafeMutableRawPointer(bitPattern: 1)!, size: size)
                return
            }
            try Engine(file: file).loadElement(plan, pv, size: size)
        }
        return 0
    } catch {
        file.record(error)
        // QEMU's gets of plain values (buffers, timers, bitmaps, _EQUAL and _LE values that
        // read as equal or in range) return 0 when the input ends; the error is on the file.
        if error.kind == .shortInput, error.errno != -22, leafKind(kind) { return 0 }
        return error.errno
    }
}

/// Standard kinds whose QEMU get reads a plain value (no nested description, no marker).
private func leafKind(_ kind: Int32) -> Bool {
    switch StandardKind(standard: kind) {
    case VMSTATE_STD_BUFFER?, VMSTATE_STD_UNUSED_BUFFER?, VMSTATE_STD_TIMER?, VMSTATE_STD_BITMAP?,
        VMSTATE_STD_INT32_EQUAL?, VMSTATE_STD_INT32_LE?, VMSTATE_STD_UINT8_EQUAL?, VMSTATE_STD_UINT16_EQUAL?,
        VMSTATE_STD_UINT32_EQUAL?, VMSTATE_STD_UINT64_EQUAL?:
        return true
    default: return false
    }
}

/// `vmstate_std_put` of `vmstate-internal.h` (the standard infos' trampolines call it).
@c @implementation public func vmstate_std_put(
    _ kind: Int32, _ f: OpaquePointer?, _ pv: UnsafeMutableRawPointer?, _ size: Int,
    _ field: UnsafePointer<VMStateField>?, _ vmdesc: OpaquePointer?
) -> Int32 {
    guard let file = MigrationFile.borrow(f), let info = vmstate_std_info(kind) else { return -22 }
    if kind == VMSTATE_STD_NULLPTR.rawValue {
        guard pv == nil else { return -22 }
        file.putByte(UInt8(VMS_NULLPTR_MARKER))
        return 0
    }
    // SAFETY: as in vmstate_std_get: `pv` is an element of `width` bytes, only read.
    if let pv, let (width, _) = scalarKind(kind) {
        Codec.putScalars(file, pv, count: 1, width: width, stride: width)
        return 0
    }
    let writer = VMDescWriter.borrow(vmdesc)
    do throws(VMStateError) {
        guard let pv else { throw VMStateError(.invalidTable, offset: file.position, reason: "NULL element pointer") }
        try Planner.holding { () throws(VMStateError) in
            let plan = try Planner.standalone(field ?? VMStateEngine.emptyField, info: info)
            try Engine(file: file).saveElement(plan, pv, size: size, vmdesc: writer)
        }
        return 0
    } catch {
        return file.record(error).errno
    }
}

// MARK: timers

/// C's `vmstate_set_timer_ops`, declared and documented in `qemu/timer.h`.
@c @implementation public func vmstate_set_timer_ops(_ ops: UnsafePointer<VMStateTimerOps>?) {
    // SAFETY: `ops` is NULL or the caller's table, copied here (pointee) before the call returns.
    Timers.install(ops?.pointee)
}

/// C's `vmstate_timer_init`, declared and documented in `qemu/timer.h`.
@c @implementation public func vmstate_timer_init(
    _ timer: UnsafeMutablePointer<QEMUTimer>?, _ cb: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let timer else { return }
    // SAFETY: `timer` is the caller's QEMUTimer (the C contract); all of it is written, nothing read.
    timer.pointee = QEMUTimer()
    timer.pointee.expire_time = -1
    timer.pointee.cb = cb
    timer.pointee.opaque = opaque
}

/// C's `vmstate_timer_expire_time`, declared and documented in `qemu/timer.h`.
@c @implementation public func vmstate_timer_expire_time(_ timer: UnsafeMutablePointer<QEMUTimer>?) -> Int64 {
    // The header asks for a timer; NULL reads as not pending rather than crashing here.
    guard let timer else { return -1 }
    // SAFETY: `timer` is the caller's QEMUTimer (the C contract), read by the default or
    // passed to the installed expire_time function as a save would.
    return Timers.expireTime(timer)
}

// MARK: one-call forms with GError

/// C's `vmstate_error_quark`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_error_quark() -> GQuark {
    g_quark_from_string("vmstate-error-quark")
}

/// C's `vmstate_save_to_bytes`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_save_to_bytes(
    _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
    _ vmdesc_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> UnsafeMutablePointer<GByteArray>? {
    saveToBytes(vmsd, opaque, vmdesc_json, error, dialect: .qemu7_2)
}

/// vmstate_save_to_bytes with `dialect`'s vmdesc (`vmstate_save_to_bytes_v1000` is QEMU 10.0's).
func saveToBytes(
    _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
    _ vmdesc_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?, dialect: QEMUDialect
) -> UnsafeMutablePointer<GByteArray>? {
    let out = g_byte_array_new()!
    let file = MigrationFile(output: out)
    let writer = vmdesc_json == nil ? nil : VMDescWriter()
    do throws(VMStateError) {
        writer?.startObject()
        // SAFETY: `out` is owned here until returned to the caller (or unref'd on failure).
        try VMStateEngine.save(
            file, vmsd, opaque, version: vmsd?.pointee.version_id ?? 0, vmdesc: writer, dialect: dialect)
        try VMStateEngine.expectNoFileError(file, after: vmsd)
        if let writer, let vmdesc_json {
            writer.endObject()
            // SAFETY: `vmdesc_json` is non-NULL (checked); the caller owns the g_strdup'ed string.
            vmdesc_json.pointee = g_strdup(writer.cText())
        }
        return out
    } catch let failure {
        g_byte_array_unref(out)
        setGError(error, failure)
        return nil
    }
}

/// C's `vmstate_load_from_bytes`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_load_from_bytes(
    _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?, _ version_id: Int32,
    _ input: OpaquePointer?, _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    guard let input else {
        setGError(error, VMStateError(.failed, reason: "no input bytes"))
        return false
    }
    // SAFETY: the file's GBytesSource takes its own ref on `input` (the caller's GBytes).
    let file = MigrationFile(input: input)
    do throws(VMStateError) {
        try VMStateEngine.load(file, vmsd, opaque, version: version_id)
        try VMStateEngine.expectEnd(file, after: vmsd)
        return true
    } catch let failure {
        setGError(error, failure)
        return false
    }
}

/// C's `vmstate_free_after_load`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_free_after_load(_ mem: UnsafeMutableRawPointer?) {
    guard let mem else { return }
    if let load = LoadGuard.current { load.freeAfterLoad(mem) } else { g_free(mem) }
}

/// C's `vmstate_load_on_rollback`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_load_on_rollback(
    _ fn: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let fn, let load = LoadGuard.current else { return }
    load.onRollback(.init(function: fn, opaque: opaque))
}

/// C's `vmstate_load_checked`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_load_checked(
    _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?, _ opaque_size: Int,
    _ version_id: Int32, _ input: OpaquePointer?, _ flags: UInt32,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    guard let input else {
        setGError(error, VMStateError(.failed, reason: "no input bytes"))
        return false
    }
    do throws(VMStateError) {
        // SAFETY: as vmstate_load_from_bytes; writes are bounded to `opaque_size` bytes of `opaque` (the
        // caller's contract: the struct is at least that large).
        try VMStateEngine.loadChecked(
            MigrationFile(input: input), vmsd, opaque, size: opaque_size,
            version: version_id, options: VMStateEngine.LoadOptions(rawValue: flags))
        return true
    } catch let failure {
        setGError(error, failure)
        return false
    }
}
