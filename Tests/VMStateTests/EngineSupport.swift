import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

// Helpers shared by the engine acceptance tests (Engine*.swift). Expected bytes in the tests
// are always written out by hand; nothing here computes them.

/// The bytes of an ASCII string (for subsection names in expected streams).
func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

/// The error `body` throws, or nil when it succeeds.
func engineError(_ body: () throws -> Void) -> VMStateError? {
    thrownError(VMStateError.self, body)
}

/// Saves through the Swift API, returning the bytes (or the error).
func save(
    _ vmsd: UnsafePointer<VMStateDescription>, _ opaque: UnsafeMutableRawPointer
) throws(VMStateError) -> [UInt8] {
    try VMStateEngine.save(vmsd, opaque: opaque)
}

/// Saves with a vmdesc writer inside an object started and ended here; returns the JSON text.
func vmdescJSON(
    _ vmsd: UnsafePointer<VMStateDescription>, _ opaque: UnsafeMutableRawPointer
) throws(VMStateError) -> (bytes: [UInt8], json: String) {
    let writer = VMDescWriter()
    writer.startObject()
    let bytes = try VMStateEngine.save(vmsd, opaque: opaque, vmdesc: writer)
    writer.endObject()
    return (bytes, writer.string)
}

/// A C-allocated array holding `values` (free with `.deallocate()`).
func cArray<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
    let p = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
    p.initialize(from: values, count: values.count)
    return p
}

/// The elements of a homogeneous tuple (a C array) as a Swift array.
func elements<T, E>(_ tuple: T, as: E.Type) -> [E] {
    withUnsafeBytes(of: tuple) { Array($0.bindMemory(to: E.self)) }
}

/// Bytes of a GByteArray.
func bytes(of array: UnsafeMutablePointer<GByteArray>) -> [UInt8] {
    Array(UnsafeBufferPointer(start: array.pointee.data, count: Int(array.pointee.len)))
}

/// A new GBytes holding `data` (unref it).
func gbytes(_ data: [UInt8]) -> OpaquePointer {
    data.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }!
}

/// Runs QEMU's C `vmstate_save_state` into a fresh GByteArray; returns its result and the bytes.
func cSave(
    _ vmsd: UnsafePointer<VMStateDescription>, _ opaque: UnsafeMutableRawPointer, vmdesc: OpaquePointer? = nil
) -> (ret: Int32, bytes: [UInt8], fileError: Int32) {
    let out = g_byte_array_new()!
    defer { g_byte_array_unref(out) }
    let f = vmstate_file_new_output(out)!
    let ret = vmstate_save_state(f, vmsd, opaque, vmdesc)
    let fileError = qemu_fclose(f)
    return (ret, bytes(of: out), fileError)
}

/// Runs QEMU's C `vmstate_load_state` over `data`; returns its result, the bytes left unread
/// and the file's error.
func cLoad(
    _ vmsd: UnsafePointer<VMStateDescription>, _ opaque: UnsafeMutableRawPointer, version: Int32,
    _ data: [UInt8]
) -> (ret: Int32, remaining: Int, fileError: Int32) {
    let input = gbytes(data)
    defer { g_bytes_unref(input) }
    let f = vmstate_file_new_input(input)!
    let ret = vmstate_load_state(f, vmsd, opaque, version)
    let remaining = vmstate_file_remaining(f)
    let fileError = qemu_fclose(f)
    return (ret, remaining, fileError)
}

/// Runs `vmstate_load_from_bytes`; returns (ok, domain, code, message).
func cLoadFromBytes(
    _ vmsd: UnsafePointer<VMStateDescription>, _ opaque: UnsafeMutableRawPointer, version: Int32,
    _ data: [UInt8]
) -> (ok: Bool, domain: GQuark, code: Int32, message: String) {
    let input = gbytes(data)
    defer { g_bytes_unref(input) }
    var error: UnsafeMutablePointer<GError>? = nil
    let ok = vmstate_load_from_bytes(vmsd, opaque, version, input, &error)
    defer { g_clear_error(&error) }
    guard let e = error else { return (ok, 0, 0, "") }
    return (ok, e.pointee.domain, e.pointee.code, String(cString: e.pointee.message))
}

/// The GError code of a failure kind, as C sees it.
func code(_ c: VMStateErrorCode) -> Int32 { Int32(c.rawValue) }

/// Negative errno values QEMU's int-returning API reports.
enum Errno {
    static let eio: Int32 = -5
    static let einval: Int32 = -22
    static let enoent: Int32 = -2
    static let erange: Int32 = -34
}
