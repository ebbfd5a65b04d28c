import CGLib
import CVMState

// QEMU 10.0's device-facing entry points (migration/vmstate.h with VMSTATE_QEMU_API 1000, which
// links vmstate_load_state, vmstate_save_state, vmstate_save_state_v and vmstate_save_to_bytes
// to the `_v1000` symbols below). Same engine as the 7.2 forms, with `QEMUDialect.qemu10_0`:
// QEMU 10.0's vmdesc, its Error messages and its file error after a failed subsection load.

// SAFETY (the entry points below): as EngineExports.swift: `f` and `vmdesc` are NULL or live
// handles borrowed through CEdge's `borrow`; `vmsd` and `opaque` are the caller's valid table
// and device struct; `errp` is NULL, `&error_abort`, `&error_fatal` or the address of the
// caller's `Error *` (qapi/error.h; set only through vmstate_error_set_message).

/// QEMU 10.0's `vmstate_load_state` (symbol `vmstate_load_state_v1000`), declared and documented
/// in `migration/vmstate.h`.
@c @implementation public func vmstate_load_state_v1000(
    _ f: OpaquePointer?, _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
    _ version_id: Int32
) -> Int32 {
    guard let file = MigrationFile.borrow(f) else { return -22 }
    do throws(VMStateError) {
        // (Part of a transactional load running on this thread, as vmstate_load_state.)
        try VMStateEngine.load(file, vmsd, opaque, version: version_id, guard: LoadGuard.current, dialect: .qemu10_0)
        return 0
    } catch {
        return file.record(error).errno
    }
}

/// QEMU 10.0's `vmstate_save_state` (symbol `vmstate_save_state_v1000`), declared and documented
/// in `migration/vmstate.h`.
@c @implementation public func vmstate_save_state_v1000(
    _ f: OpaquePointer?, _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
    _ vmdesc: OpaquePointer?
) -> Int32 {
    vmstate_save_state_v_v1000(f, vmsd, opaque, vmdesc, vmsd?.pointee.version_id ?? 0, nil)
}

/// C's `vmstate_save_state_with_err` (QEMU 10.0), declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_save_state_with_err(
    _ f: OpaquePointer?, _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
    _ vmdesc: OpaquePointer?, _ errp: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    vmstate_save_state_v_v1000(f, vmsd, opaque, vmdesc, vmsd?.pointee.version_id ?? 0, errp)
}

/// QEMU 10.0's `vmstate_save_state_v` (symbol `vmstate_save_state_v_v1000`), declared and
/// documented in `migration/vmstate.h`.
@c @implementation public func vmstate_save_state_v_v1000(
    _ f: OpaquePointer?, _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
    _ vmdesc: OpaquePointer?, _ version_id: Int32, _ errp: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guard let file = MigrationFile.borrow(f) else {
        setQEMUError(errp, "vmstate_save_state_v: NULL QEMUFile")
        return -22
    }
    let writer = VMDescWriter.borrow(vmdesc)
    do throws(VMStateError) {
        try VMStateEngine.save(file, vmsd, opaque, version: version_id, vmdesc: writer, dialect: .qemu10_0)
        return 0
    } catch {
        file.record(error)
        setQEMUError(errp, error.qemuMessage ?? error.description)
        return error.errno
    }
}

/// C's `vmstate_section_needed` (QEMU 10.0's name for `vmstate_save_needed`), declared and
/// documented in `migration/vmstate.h`.
@c @implementation public func vmstate_section_needed(
    _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?
) -> Bool {
    vmstate_save_needed(vmsd, opaque)
}

/// QEMU 10.0's `vmstate_save_to_bytes` (symbol `vmstate_save_to_bytes_v1000`), declared and
/// documented in `migration/vmstate.h`.
@c @implementation public func vmstate_save_to_bytes_v1000(
    _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
    _ vmdesc_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> UnsafeMutablePointer<GByteArray>? {
    saveToBytes(vmsd, opaque, vmdesc_json, error, dialect: .qemu10_0)
}

/// Sets the caller's `Error` (when it asked for one) to `message`, made safe for C.
private func setQEMUError(_ errp: UnsafeMutablePointer<OpaquePointer?>?, _ message: String) {
    guard let errp else { return }
    vmstate_error_set_message(errp, cMessage(message))
}

/// `vmstate_fd_get` of `vmstate-internal.h` (vmstate_info_fd's get, when C calls it itself): the
/// field becomes -1 and the file's error -EIO; returns 0, as QEMU 10.0's get_fd.
@c @implementation public func vmstate_fd_get(
    _ f: OpaquePointer?, _ pv: UnsafeMutableRawPointer?, _ size: Int, _ field: UnsafePointer<VMStateField>?
) -> Int32 {
    guard let file = MigrationFile.borrow(f) else { return -22 }
    // SAFETY: `pv` is the caller's int32_t (vmstate_info_fd's element type).
    pv?.storeBytes(of: Int32(-1), as: Int32.self)
    file.setError(-5)
    return 0
}

/// `vmstate_fd_put` of `vmstate-internal.h` (vmstate_info_fd's put, when C calls it itself): the
/// file's error becomes -EIO; returns -1, as QEMU 10.0's put_fd on a channel without descriptor
/// passing.
@c @implementation public func vmstate_fd_put(
    _ f: OpaquePointer?, _ pv: UnsafeMutableRawPointer?, _ size: Int, _ field: UnsafePointer<VMStateField>?,
    _ vmdesc: OpaquePointer?
) -> Int32 {
    guard let file = MigrationFile.borrow(f) else { return -22 }
    file.setError(-5)
    return -1
}
