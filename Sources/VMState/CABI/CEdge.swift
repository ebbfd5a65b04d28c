import CGLib
import CVMState

// The C edge: how a Swift object becomes an opaque C handle and back, and how a failure becomes
// a GError. Every exported function goes through these two; nothing else converts.

/// A Swift object handed to C as an opaque pointer: `QEMUFile *` (``MigrationFile``),
/// `JSONWriter *` (``VMDescWriter``), `VMStateRegistry *` (``Registry``) and
/// `VMStateMigration *` (``Migration``).
///
/// Ownership follows the C API: a `*_new` function returns ``retainedHandle()``, which owns one
/// retain until the matching `*_free` / `qemu_fclose` calls ``release(_:)``; every other
/// function borrows with ``borrow(_:)``, valid while the C caller keeps its handle.
protocol CHandle: AnyObject {}

extension CHandle {
    /// A handle that owns one retain of `self`, for the C caller to give back to ``release(_:)``.
    func retainedHandle() -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(self).toOpaque())
    }

    /// A borrowed handle, valid while `self` is kept alive by the Swift caller (for calls into
    /// C during an engine call that holds `self`).
    var handle: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    /// The object behind `handle`, borrowed; nil for a NULL handle.
    @inline(__always)
    static func borrow(_ handle: OpaquePointer?) -> Self? {
        // SAFETY: a non-NULL handle of this type was made by `retainedHandle()` (C callers get
        // no other) and the C API's contract is that it is not used after its release.
        handle.map { Unmanaged<Self>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }

    /// Drops the retain a C caller owned through `handle`; nothing for NULL.
    static func release(_ handle: OpaquePointer?) {
        // SAFETY: as in `borrow`; the C caller gives its one retain back exactly once.
        if let handle { Unmanaged<Self>.fromOpaque(UnsafeRawPointer(handle)).release() }
    }
}

extension MigrationFile: CHandle {}
extension VMDescWriter: CHandle {}
extension Registry: CHandle {}
extension Migration: CHandle {}

// MARK: - GError

/// Sets `*error` (when the caller asked for it: GLib's convention, `error` NULL or pointing at a
/// NULL `GError *` the caller then owns) to a VMSTATE_ERROR with `e`'s kind and message.
func setGError(_ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?, _ e: VMStateError) {
    setGError(error, domain: vmstate_error_quark(), code: e.kind.rawValue, message: e.description)
}

/// Sets `*error` to a new GError of `domain` and `code` with `message` (made safe for C by
/// ``cMessage(_:)``), when the caller asked for it.
func setGError(
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?, domain: GQuark, code: Int32, message: String
) {
    guard let error else { return }
    g_set_error_literal(error, domain, code, cMessage(message))
}

/// Sets `*error` for a failure `e` of a stream file: the stream's own GError (its domain and
/// code, e.g. `G_IO_ERROR_NO_SPACE`) with `e`'s message, which names the section and offset,
/// when the file's stream failed; else `e` as a VMSTATE_ERROR. Returns false (the C result).
@discardableResult
func setGError(
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?, _ e: VMStateError, streamOf file: MigrationFile?
) -> Bool {
    guard let error else { return false }
    if let file, let streamError = file.copyStreamError() {
        // SAFETY: `copyStreamError` returns a GError this function owns; its message is replaced
        // with a g_strdup'ed one before ownership passes on. g_propagate_error hands it to the
        // caller, or, when `*error` is already set, keeps that one (GLib's warning) and frees it.
        g_free(streamError.pointee.message)
        streamError.pointee.message = g_strdup(cMessage(e.description))
        g_propagate_error(error, streamError)
        return false
    }
    setGError(error, e)
    return false
}

/// A C name argument (an idstr, a RAM block name, a machine type) as a String; one that is not
/// UTF-8 is refused (decoding would replace its bytes with U+FFFD: the stream would carry
/// other bytes than the caller's, and two names could become one). QEMU's names are ASCII.
func cName(_ name: UnsafePointer<CChar>, _ what: String) throws(VMStateError) -> String {
    // SAFETY: `name` is a NUL-terminated C string (the C contract).
    guard let s = String(validatingCString: name) else {
        throw VMStateError(.failed, reason: "the \(what) is not valid UTF-8 (QEMU's names are ASCII)")
    }
    return s
}

/// A C machine type argument: NULL (the loaded stream's), or a name as ``cName(_:_:)`` takes it.
func cMachineType(_ name: UnsafePointer<CChar>?) throws(VMStateError) -> String? {
    guard let name else { return nil }
    return try cName(name, "machine type")
}

/// `text` for a C string: names taken from a stream may hold NUL (which would cut the message
/// short) or other control characters; those are written as \xNN (``escapingControlCharacters(_:keepingNewlines:)``).
func cMessage(_ text: String) -> String {
    escapingControlCharacters(text)
}

// MARK: - GIO streams

/// Refuses, as GIO would refuse a read or write, a caller's stream that is closed
/// (`G_IO_ERROR_CLOSED`, "Stream is already closed") or has an operation pending now
/// (`G_IO_ERROR_PENDING`, "Stream has outstanding operation": an asynchronous one not finished,
/// say), before anything is read or written: a stream over a local regular file is read and
/// written through its descriptor, past GIO's own checks. (The stream is not marked pending
/// while the library works: an operation another thread starts later is not refused.) False
/// when refused (the C result, `error` set).
func checkUsable(
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?, output out: UnsafeMutablePointer<GOutputStream>
) -> Bool {
    checkUsable(error, closed: g_output_stream_is_closed(out) != 0, pending: g_output_stream_has_pending(out) != 0)
}

/// ``checkUsable(_:output:)`` for an input stream.
func checkUsable(
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?, input: UnsafeMutablePointer<GInputStream>
) -> Bool {
    checkUsable(error, closed: g_input_stream_is_closed(input) != 0, pending: g_input_stream_has_pending(input) != 0)
}

private func checkUsable(
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?, closed: Bool, pending: Bool
) -> Bool {
    guard closed || pending else { return true }
    setGError(
        error, domain: g_io_error_quark(),
        code: Int32((closed ? G_IO_ERROR_CLOSED : G_IO_ERROR_PENDING).rawValue),
        message: closed ? "Stream is already closed" : "Stream has outstanding operation")
    return false
}
