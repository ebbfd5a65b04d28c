import CGLib
import CVMState

// The registry C API (migration/vmstate-registry.h) over Registry.

// SAFETY (every function below): `reg` is NULL or a live `VMStateRegistry *` borrowed through
// CEdge's `borrow`; C strings are NUL-terminated (the C contract) and copied into Swift strings.
@inline(__always) private func registry(_ r: OpaquePointer?) -> Registry? { Registry.borrow(r) }

private func fail(_ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?, _ e: VMStateError) -> Bool {
    setGError(error, e)
    return false
}

/// C's `vmstate_registry_new`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_new() -> OpaquePointer? {
    Registry().retainedHandle()
}

/// C's `vmstate_registry_free`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_free(_ reg: OpaquePointer?) {
    Registry.release(reg)
}

/// C's `vmstate_registry_add`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_add(
    _ reg: OpaquePointer?, _ idstr: UnsafePointer<CChar>?, _ instance_id: UInt32,
    _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    addDevice("vmstate_registry_add", reg, idstr, instance_id, vmsd, opaque, nil, .qemu7_2, error)
}

/// C's `vmstate_registry_add_sized`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_add_sized(
    _ reg: OpaquePointer?, _ idstr: UnsafePointer<CChar>?, _ instance_id: UInt32,
    _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?, _ opaque_size: Int,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    addDevice("vmstate_registry_add_sized", reg, idstr, instance_id, vmsd, opaque, opaque_size, .qemu7_2, error)
}

/// `vmstate_registry_add` of a file built with `VMSTATE_QEMU_API` 1000 (a QEMU 10.0 table).
@c @implementation public func vmstate_registry_add_v1000(
    _ reg: OpaquePointer?, _ idstr: UnsafePointer<CChar>?, _ instance_id: UInt32,
    _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    addDevice("vmstate_registry_add", reg, idstr, instance_id, vmsd, opaque, nil, .qemu10_0, error)
}

/// `vmstate_registry_add_sized` of a file built with `VMSTATE_QEMU_API` 1000 (a QEMU 10.0 table).
@c @implementation public func vmstate_registry_add_sized_v1000(
    _ reg: OpaquePointer?, _ idstr: UnsafePointer<CChar>?, _ instance_id: UInt32,
    _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?, _ opaque_size: Int,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    addDevice("vmstate_registry_add_sized", reg, idstr, instance_id, vmsd, opaque, opaque_size, .qemu10_0, error)
}

/// The four registration entry points: a table of `layout`'s `VMStateDescription`, sized when
/// `size` is given.
private func addDevice(
    _ function: String, _ reg: OpaquePointer?, _ idstr: UnsafePointer<CChar>?, _ instanceID: UInt32,
    _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?, _ size: Int?,
    _ layout: QEMUDialect, _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    guard let r = registry(reg), let idstr else {
        return fail(error, VMStateError(.failed, reason: "\(function): NULL argument"))
    }
    // (The codes of the one-call functions: a NULL description or state is an unusable table.)
    guard let vmsd else {
        return fail(error, VMStateError(.invalidTable, reason: "\(function): NULL VMStateDescription"))
    }
    guard let opaque else { return fail(error, VMStateError(.invalidTable, reason: "\(function): NULL opaque")) }
    do throws(VMStateError) {
        // SAFETY: `vmsd` and `opaque` must stay valid while registered (the header's contract, kept as
        // Registry.Device's); a sized load is bounded to `size` bytes of `opaque`.
        try r.add(
            idstr: try cName(idstr, "idstr"), instanceID: instanceID, vmsd: vmsd, opaque: opaque, size: size,
            layout: layout)
        return true
    } catch let failure { return fail(error, failure) }
}

/// C's `vmstate_registry_add_ram`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_add_ram(
    _ reg: OpaquePointer?, _ block_idstr: UnsafePointer<CChar>?, _ host: UnsafeMutableRawPointer?, _ length: Int,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    guard let r = registry(reg), let block_idstr, let host else {
        return fail(error, VMStateError(.failed, reason: "vmstate_registry_add_ram: NULL argument"))
    }
    do throws(VMStateError) {
        // SAFETY: `host` holds `length` bytes of guest RAM while registered (the header's contract).
        try r.addRAM(idstr: try cName(block_idstr, "RAM block name"), host: host, length: length)
        return true
    } catch let failure { return fail(error, failure) }
}

/// C's `vmstate_registry_save`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_save(
    _ reg: OpaquePointer?, _ machine_type: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<GByteArray>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    guard let r = registry(reg), let out else {
        return fail(error, VMStateError(.failed, reason: "vmstate_registry_save: NULL argument"))
    }
    // SAFETY: `out` is the caller's live GByteArray (non-NULL, checked); on failure it is cut back to
    // its length before the call (the file wrote only after `start`).
    let start = out.pointee.len
    do throws(VMStateError) {
        try r.save(machineType: try cMachineType(machine_type), into: out)
        return true
    } catch let failure {
        g_byte_array_set_size(out, start)
        return fail(error, failure)
    }
}

/// C's `vmstate_registry_load`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_load(
    _ reg: OpaquePointer?, _ input: OpaquePointer?, _ flags: UInt32,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    guard let r = registry(reg), let input else {
        return fail(error, VMStateError(.failed, reason: "vmstate_registry_load: NULL argument"))
    }
    do throws(VMStateError) {
        // SAFETY: the file's GBytesSource takes its own ref on `input`.
        try r.loadStream(MigrationFile(input: input), options: Registry.LoadOptions(rawValue: flags))
        return true
    } catch let failure { return fail(error, failure) }
}

/// C's `vmstate_registry_save_to_stream`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_save_to_stream(
    _ reg: OpaquePointer?, _ machine_type: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<GOutputStream>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    guard let r = registry(reg), let out else {
        return fail(error, VMStateError(.failed, reason: "vmstate_registry_save_to_stream: NULL argument"))
    }
    guard checkUsable(error, output: out) else { return false }
    // SAFETY: StreamSink takes its own ref on `out`.
    let file = MigrationFile(sink: StreamSink(out, fileIO: r.fileIO))
    do throws(VMStateError) {
        try r.save(machineType: try cMachineType(machine_type), to: file)
        return true
    } catch let failure {
        return setGError(error, failure, streamOf: file)
    }
}

/// C's `vmstate_registry_load_from_stream`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_load_from_stream(
    _ reg: OpaquePointer?, _ input: UnsafeMutablePointer<GInputStream>?, _ flags: UInt32,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    guard let r = registry(reg), let input else {
        return fail(error, VMStateError(.failed, reason: "vmstate_registry_load_from_stream: NULL argument"))
    }
    guard checkUsable(error, input: input) else { return false }
    // SAFETY: StreamSource takes its own ref on `input`.
    let file = MigrationFile(source: StreamSource(input, directIO: r.fileIO == .direct))
    do throws(VMStateError) {
        try r.loadStream(file, options: Registry.LoadOptions(rawValue: flags))
        return true
    } catch let failure {
        return setGError(error, failure, streamOf: file)
    }
}

/// C's `vmstate_registry_load_from_listener`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_load_from_listener(
    _ reg: OpaquePointer?, _ listener: UnsafeMutablePointer<GSocketListener>?, _ flags: UInt32,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    guard let r = registry(reg), let listener else {
        return fail(error, VMStateError(.failed, reason: "vmstate_registry_load_from_listener: NULL argument"))
    }
    // Refused before the source's connection is taken (the accept below may wait for ever):
    // unknown flags, a live migration of the registry in progress.
    do throws(VMStateError) {
        try r.checkLoad(Registry.LoadOptions(rawValue: flags))
    } catch let failure {
        return fail(error, failure)
    }
    var acceptError: UnsafeMutablePointer<GError>?
    guard let connection = g_socket_listener_accept(listener, nil, nil, &acceptError) else {
        g_propagate_error(error, acceptError)
        return false
    }
    defer { g_object_unref(connection) }
    let extra = ExtraChannels(listener, main: g_socket_connection_get_socket(connection))
    // SAFETY: a GSocketConnection is a GIOStream; StreamSource takes its own ref on the input.
    let stream = UnsafeMutableRawPointer(connection).assumingMemoryBound(to: GIOStream.self)
    let file = MigrationFile(source: StreamSource(g_io_stream_get_input_stream(stream), directIO: false))
    var failure: VMStateError?
    do throws(VMStateError) {
        try r.loadStream(file, options: Registry.LoadOptions(rawValue: flags))
    } catch let e { failure = e }
    // Closed before the extra connections are: a source whose stream failed here fails now.
    extra.closeMain { g_io_stream_close(stream, nil, nil) }
    let seen = extra.stop()
    if seen.multifd > 0 {
        // Whatever the stream gave: the pages on those channels are not in guest RAM.
        let count = seen.multifd == 1 ? "a second connection" : "\(seen.multifd) more connections"
        var reason =
            "the source opened \(count) beside the migration stream, QEMU multifd channels (magic 0x11223344): "
            + "capability multifd is on, and the RAM pages it sends on those channels are not loaded; "
            + "turn multifd off on the source"
        if let failure {
            // A stream end that the thread's shutdown made is not the source's: said as such.
            var what = failure.reason
            if failure.kind == .shortInput && extra.shutStream, let cut = what.firstRange(of: "stream ended inside ") {
                let channels = seen.multifd == 1 ? "that channel" : "those channels"
                what.replaceSubrange(cut, with: "its reading was stopped for \(channels) inside ")
            }
            reason += " (the stream: \(failure.path.isEmpty ? "" : failure.shownPath + ": ")\(what))"
        }
        return fail(error, VMStateError(.badStream, offset: failure?.offset ?? file.position, reason: reason))
    }
    if let failure { return setGError(error, failure, streamOf: file) }
    return true
}

/// C's `vmstate_registry_set_direct_io`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_set_direct_io(_ reg: OpaquePointer?, _ enable: Bool) {
    registry(reg)?.fileIO = enable ? .direct : .pageCache
}

/// C's `vmstate_registry_machine_type`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_machine_type(_ reg: OpaquePointer?) -> UnsafePointer<CChar>? {
    // SAFETY: the string is owned by the registry, valid as the header says (see machineTypeCString).
    registry(reg)?.machineTypeCString()
}

/// C's `vmstate_registry_set_stream_version`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_set_stream_version(
    _ reg: OpaquePointer?, _ version: UInt32, _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    guard let r = registry(reg) else {
        return fail(error, VMStateError(.failed, reason: "vmstate_registry_set_stream_version: NULL argument"))
    }
    guard let v = QEMUDialect(rawValue: version) else {
        return fail(
            error,
            VMStateError(
                .failed, reason: "unknown stream version",
                expected: "VMSTATE_STREAM_QEMU_7_2 (702) or VMSTATE_STREAM_QEMU_10_0 (1000)", actual: "\(version)"))
    }
    r.streamVersion = v
    return true
}

/// C's `vmstate_registry_set_target_page_bits_min`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_set_target_page_bits_min(
    _ reg: OpaquePointer?, _ bits: UInt32, _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> Bool {
    guard let r = registry(reg) else {
        return fail(error, VMStateError(.failed, reason: "vmstate_registry_set_target_page_bits_min: NULL argument"))
    }
    do {
        try r.setTargetPageBitsMinimum(Int(bits))
    } catch let e {
        return fail(error, e)
    }
    return true
}

/// C's `vmstate_registry_stream_version`, declared and documented in `migration/vmstate-registry.h`.
@c @implementation public func vmstate_registry_stream_version(_ reg: OpaquePointer?) -> UInt32 {
    registry(reg)?.streamVersion.rawValue ?? 0
}
