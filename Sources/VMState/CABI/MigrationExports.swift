import CGLib
import CVMState

// The live migration C API (migration/vmstate-registry.h) over Migration.

// SAFETY (every function below): `mig` is NULL or a live `VMStateMigration *` borrowed through
// CEdge's `borrow`; a Migration holds its registry strongly, so freeing the registry first is harmless.
@inline(__always) private func migration(_ m: OpaquePointer?) -> Migration? { Migration.borrow(m) }

@c @implementation public func vmstate_registry_set_dirty_log(
    _ reg: OpaquePointer?, _ fn: VMStateDirtyLogFn?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let reg else { return }
    // SAFETY: `reg` is non-NULL (checked) and a live registry handle (CEdge's `borrow`); `fn` and
    // `opaque` are kept for the log calls (the header's contract: valid while set).
    let r = Registry.borrow(reg)!
    r.dirtyLog = fn.map { ($0, opaque) }
}

@c @implementation public func vmstate_migration_start(
    _ reg: OpaquePointer?, _ machine_type: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<GOutputStream>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> OpaquePointer? {
    guard let reg, let out else {
        _ = setGError(error, VMStateError(.failed, reason: "vmstate_migration_start: NULL argument"), streamOf: nil)
        return nil
    }
    guard checkUsable(error, output: out) else { return nil }
    // A live migration writes through GIO, and a descriptor with O_DIRECT refuses unaligned writes.
    if let fd = DirectFile.descriptor(of: UnsafeMutableRawPointer(out)), DirectFile.hasODirect(fd) {
        setGError(
            error, domain: g_io_error_quark(), code: Int32(G_IO_ERROR_INVALID_ARGUMENT.rawValue),
            message:
                "vmstate_migration_start: the stream's descriptor has O_DIRECT, which takes only whole aligned blocks: "
                + "open it without O_DIRECT")
        return nil
    }
    // SAFETY: as above (`reg` non-NULL, checked); StreamSink takes its own ref on `out`.
    let r = Registry.borrow(reg)!
    let file = MigrationFile(sink: StreamSink(out))
    do throws(VMStateError) {
        let m = try Migration(registry: r, machineType: try cMachineType(machine_type), file: file)
        return m.retainedHandle()
    } catch let failure {
        _ = setGError(error, failure, streamOf: file)
        return nil
    }
}

@c @implementation public func vmstate_migration_iterate(
    _ mig: OpaquePointer?, _ pending_bytes: UnsafeMutablePointer<UInt64>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    guard let m = migration(mig) else {
        return setGError(
            error, VMStateError(.failed, reason: "vmstate_migration_iterate: NULL argument"), streamOf: nil)
    }
    do throws(VMStateError) {
        let pending = try m.iterate()
        // SAFETY: `pending_bytes` is NULL or points at a writable uint64_t (the C contract).
        pending_bytes?.pointee = pending
        return true
    } catch let failure {
        pending_bytes?.pointee = m.pendingBytes
        return setGError(error, failure, streamOf: m.file)
    }
}

@c @implementation public func vmstate_migration_iterate_until(
    _ mig: OpaquePointer?, _ max_downtime_us: UInt64, _ max_passes: UInt32, _ converged: UnsafeMutablePointer<Bool>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    // SAFETY: `converged` is NULL or points at a writable bool (the C contract).
    converged?.pointee = false
    guard let m = migration(mig) else {
        return setGError(
            error, VMStateError(.failed, reason: "vmstate_migration_iterate_until: NULL argument"), streamOf: nil)
    }
    do throws(VMStateError) {
        // (Not `converged?.pointee = try m.iterate(...)`: with `converged` NULL, optional
        // chaining skips the right-hand side, and no pass was made.)
        let done = try m.iterate(untilDowntime: max_downtime_us, maxPasses: Int(max_passes))
        converged?.pointee = done
        return true
    } catch let failure {
        return setGError(error, failure, streamOf: m.file)
    }
}

@c @implementation public func vmstate_migration_complete(
    _ mig: OpaquePointer?, _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    guard let m = migration(mig) else {
        return setGError(
            error, VMStateError(.failed, reason: "vmstate_migration_complete: NULL argument"), streamOf: nil)
    }
    do throws(VMStateError) {
        try m.complete()
        return true
    } catch let failure {
        return setGError(error, failure, streamOf: m.file)
    }
}

@c @implementation public func vmstate_migration_set_max_bandwidth(_ mig: OpaquePointer?, _ bytes_per_second: UInt64) {
    migration(mig)?.maxBandwidth = bytes_per_second
}

@c @implementation public func vmstate_migration_get_stats(
    _ mig: OpaquePointer?, _ stats: UnsafeMutablePointer<VMStateMigrationStats>?
) {
    guard let m = migration(mig), let stats else { return }
    let s = m.stats
    // SAFETY: `stats` is non-NULL (checked) and points at a writable VMStateMigrationStats (the C
    // contract); all of it is written.
    stats.pointee = VMStateMigrationStats(
        passes: s.passes, pages_sent: s.pagesSent, zero_pages: s.zeroPages, bytes_sent: m.bytesSent,
        pending_bytes: m.pendingBytes, last_pass_pages: s.lastPassPages, last_pass_bytes: s.lastPassBytes,
        last_pass_us: s.lastPassMicroseconds, bandwidth: s.bandwidth, downtime_us: s.downtimeMicroseconds,
        total_us: m.totalMicroseconds)
}

@c @implementation public func vmstate_migration_free(_ mig: OpaquePointer?) {
    Migration.release(mig)
}
