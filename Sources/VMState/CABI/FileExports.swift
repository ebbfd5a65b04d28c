import CGLib
import CVMState

// QEMU's QEMUFile accessors over MigrationFile (declared in migration/qemu-file-types.h and
// migration/vmstate.h). A NULL file is ignored on output and reads as zeros on input.

// SAFETY (every function below): `f` is NULL or a live `QEMUFile *` from a `vmstate_file_new_*`,
// borrowed through `MigrationFile.borrow` (CEdge.swift) for the call; C may not use it after qemu_fclose.
@inline(__always) private func file(_ f: OpaquePointer?) -> MigrationFile? { MigrationFile.borrow(f) }

/// C's `vmstate_file_new_output`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_file_new_output(_ out: UnsafeMutablePointer<GByteArray>?) -> OpaquePointer? {
    guard let out else { return nil }
    // SAFETY: `out` is the caller's GByteArray, which the C API requires to outlive the file (written in
    // place, never freed by the file).
    return MigrationFile(output: out).retainedHandle()
}

/// C's `vmstate_file_new_input`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_file_new_input(_ input: OpaquePointer?) -> OpaquePointer? {
    guard let input else { return nil }
    // QEMU's QEMUFile: looking past the end of the input records -EIO (see peekPastEndFails).
    // SAFETY: the file's GBytesSource takes its own ref on `input`.
    return MigrationFile(input: input, peekPastEndFails: true).retainedHandle()
}

/// C's `vmstate_file_new_output_stream`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_file_new_output_stream(_ out: UnsafeMutablePointer<GOutputStream>?)
    -> OpaquePointer?
{
    guard let out else { return nil }
    // SAFETY: StreamSink takes its own ref on the stream (dropped in its deinit).
    return MigrationFile(sink: StreamSink(out)).retainedHandle()
}

/// C's `vmstate_file_new_input_stream`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_file_new_input_stream(_ input: UnsafeMutablePointer<GInputStream>?)
    -> OpaquePointer?
{
    guard let input else { return nil }
    // QEMU's QEMUFile over a channel: looking past the end records -EIO (see peekPastEndFails).
    // SAFETY: StreamSource takes its own ref on the stream (dropped in its deinit).
    return MigrationFile(source: StreamSource(input), peekPastEndFails: true).retainedHandle()
}

/// C's `vmstate_file_get_stream_error`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_file_get_stream_error(_ f: OpaquePointer?) -> UnsafeMutablePointer<GError>? {
    guard let file = file(f) else { return nil }
    if let streamError = file.copyStreamError() { return streamError }
    guard let full = file.capacityFailure else { return nil }
    var error: UnsafeMutablePointer<GError>?
    setGError(&error, full)
    return error
}

/// C's `vmstate_file_remaining`, declared and documented in `migration/vmstate.h`.
@c @implementation public func vmstate_file_remaining(_ f: OpaquePointer?) -> Int {
    guard let file = file(f), file.direction == .input else { return 0 }
    return file.buffered
}

/// C's `qemu_fflush`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_fflush(_ f: OpaquePointer?) {
    file(f)?.flush()
}

/// C's `qemu_fclose`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_fclose(_ f: OpaquePointer?) -> Int32 {
    guard let file = MigrationFile.borrow(f) else { return 0 }
    if file.direction == .output { file.flush() }
    let code = file.errorCode
    // SAFETY: the local `file` keeps the object alive to the end of the function; the C caller gives
    // its one retain back here, once.
    MigrationFile.release(f)
    return code
}

/// C's `qemu_file_get_error`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_file_get_error(_ f: OpaquePointer?) -> Int32 { file(f)?.errorCode ?? 0 }
/// C's `qemu_file_set_error`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_file_set_error(_ f: OpaquePointer?, _ ret: Int32) { file(f)?.setError(ret) }
/// C's `qemu_file_total_transferred`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_file_total_transferred(_ f: OpaquePointer?) -> Int64 {
    Int64(file(f)?.position ?? 0)
}
/// C's `qemu_file_rate_limit` (QEMU 7.2), declared and documented in `migration/qemu-file-types.h`:
/// 1 when the file has an error (these files have no bandwidth limit and no shutdown), else 0.
@c @implementation public func qemu_file_rate_limit(_ f: OpaquePointer?) -> Int32 {
    (file(f)?.errorCode ?? 0) != 0 ? 1 : 0
}
/// C's `migration_rate_exceeded` (QEMU 10.0), declared and documented in `migration/qemu-file-types.h`:
/// whether the file has an error (no bandwidth limit of its own).
@c @implementation public func migration_rate_exceeded(_ f: OpaquePointer?) -> Bool {
    (file(f)?.errorCode ?? 0) != 0
}
/// C's `qemu_file_is_seekable` (QEMU 10.0), declared and documented in `migration/qemu-file-types.h`:
/// false, since no file here offers positioned I/O.
@c @implementation public func qemu_file_is_seekable(_ f: OpaquePointer?) -> Bool { false }

// MARK: output

// SAFETY (the puts below): `pv` is NULL or points at a value of its type (the C caller's contract,
// as QEMU's); it is only read.
/// C's `qemu_put_byte`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_byte(_ f: OpaquePointer?, _ v: Int32) {
    file(f)?.putByte(UInt8(truncatingIfNeeded: v))
}
/// C's `qemu_put_sbyte`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_sbyte(_ f: OpaquePointer?, _ v: Int32) {
    file(f)?.putByte(UInt8(truncatingIfNeeded: v))
}
/// C's `qemu_put_be16`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_be16(_ f: OpaquePointer?, _ v: UInt32) {
    file(f)?.putBE16(UInt16(truncatingIfNeeded: v))
}
/// C's `qemu_put_be32`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_be32(_ f: OpaquePointer?, _ v: UInt32) { file(f)?.putBE32(v) }
/// C's `qemu_put_be64`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_be64(_ f: OpaquePointer?, _ v: UInt64) { file(f)?.putBE64(v) }

/// C's `qemu_put_buffer`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_buffer(_ f: OpaquePointer?, _ buf: UnsafePointer<UInt8>?, _ size: Int) {
    guard let buf else { return }
    // SAFETY: `buf` holds `size` readable bytes (the C contract); putBytes copies them.
    file(f)?.putBytes(UnsafeRawPointer(buf), size)
}

/// C's `qemu_put_counted_string`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_counted_string(_ f: OpaquePointer?, _ name: UnsafePointer<CChar>?) {
    guard let file = file(f) else { return }
    // NULL is the empty string (QEMU's strlen would crash): the length byte keeps the reader in step.
    guard let name else { return file.putByte(0) }
    // The bytes as they are (no UTF-8 decoding, which would replace invalid bytes).
    // SAFETY: `name` is a NUL-terminated C string (the C contract); strlen reads to its NUL.
    let length = strlen(name)
    // QEMU asserts a length below 256; a cut name would load as another: the file's error instead.
    guard length <= 255 else { return file.setError(-22) }
    file.putByte(UInt8(length))
    file.putBytes(UnsafeRawPointer(name), length)
}

/// C's `qemu_put_8s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_8s(_ f: OpaquePointer?, _ pv: UnsafePointer<UInt8>?) {
    file(f)?.putByte(pv?.pointee ?? 0)
}
/// C's `qemu_put_be16s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_be16s(_ f: OpaquePointer?, _ pv: UnsafePointer<UInt16>?) {
    file(f)?.putBE16(pv?.pointee ?? 0)
}
/// C's `qemu_put_be32s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_be32s(_ f: OpaquePointer?, _ pv: UnsafePointer<UInt32>?) {
    file(f)?.putBE32(pv?.pointee ?? 0)
}
/// C's `qemu_put_be64s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_be64s(_ f: OpaquePointer?, _ pv: UnsafePointer<UInt64>?) {
    file(f)?.putBE64(pv?.pointee ?? 0)
}
/// C's `qemu_put_s8s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_s8s(_ f: OpaquePointer?, _ pv: UnsafePointer<Int8>?) {
    file(f)?.putByte(UInt8(bitPattern: pv?.pointee ?? 0))
}
/// C's `qemu_put_sbe16`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_sbe16(_ f: OpaquePointer?, _ v: Int32) {
    file(f)?.putBE16(UInt16(truncatingIfNeeded: v))
}
/// C's `qemu_put_sbe32`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_sbe32(_ f: OpaquePointer?, _ v: Int32) {
    file(f)?.putBE32(UInt32(bitPattern: v))
}
/// C's `qemu_put_sbe64`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_sbe64(_ f: OpaquePointer?, _ v: Int64) {
    file(f)?.putBE64(UInt64(bitPattern: v))
}
/// C's `qemu_put_sbe16s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_sbe16s(_ f: OpaquePointer?, _ pv: UnsafePointer<Int16>?) {
    file(f)?.putBE16(UInt16(bitPattern: pv?.pointee ?? 0))
}
/// C's `qemu_put_sbe32s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_sbe32s(_ f: OpaquePointer?, _ pv: UnsafePointer<Int32>?) {
    file(f)?.putBE32(UInt32(bitPattern: pv?.pointee ?? 0))
}
/// C's `qemu_put_sbe64s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_put_sbe64s(_ f: OpaquePointer?, _ pv: UnsafePointer<Int64>?) {
    file(f)?.putBE64(UInt64(bitPattern: pv?.pointee ?? 0))
}

// MARK: input

// SAFETY (the gets below): `pv` is NULL or points at a writable value of its type (the C caller's
// contract, as QEMU's); it is only written.
/// C's `qemu_get_byte`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_byte(_ f: OpaquePointer?) -> Int32 { Int32(file(f)?.getByte() ?? 0) }
/// C's `qemu_get_sbyte`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_sbyte(_ f: OpaquePointer?) -> Int32 { Int32(file(f)?.getByte() ?? 0) }
/// C's `qemu_get_ubyte`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_ubyte(_ f: OpaquePointer?) -> UInt32 { UInt32(file(f)?.getByte() ?? 0) }
// Multi-byte reads cut short by the end give the bytes that are there followed by zero bytes,
// as QEMU's byte-by-byte qemu_get_be16/32/64 do.
@inline(__always) private func be(_ f: OpaquePointer?, _ width: Int) -> UInt64 { file(f)?.getPartial(width).value ?? 0 }
/// C's `qemu_get_be16`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_be16(_ f: OpaquePointer?) -> UInt32 { UInt32(be(f, 2)) }
/// C's `qemu_get_be32`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_be32(_ f: OpaquePointer?) -> UInt32 { UInt32(be(f, 4)) }
/// C's `qemu_get_be64`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_be64(_ f: OpaquePointer?) -> UInt64 { be(f, 8) }

/// C's `qemu_get_buffer`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_buffer(_ f: OpaquePointer?, _ buf: UnsafeMutablePointer<UInt8>?, _ size: Int)
    -> Int
{
    // SAFETY: `buf` holds `size` writable bytes (the C contract); getBytes writes at most that many.
    // (A size_t of 2^63 or more arrives negative: more than any input holds, so what there is,
    // and -EIO.)
    file(f)?.getBytes(into: buf.map(UnsafeMutableRawPointer.init), size < 0 ? Int.max : size) ?? 0
}

/// C's `qemu_get_counted_string`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_counted_string(_ f: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?) -> Int
{
    guard let file = file(f), let buf, let len = file.getByte() else { return 0 }
    // SAFETY: `buf` holds 256 bytes (QEMU's contract for qemu_get_counted_string); `len <= 255` and
    // `got <= len`, so the NUL at `buf[got]` is inside.
    let got = file.getBytes(into: UnsafeMutableRawPointer(buf), Int(len))
    buf[got] = 0
    return got == Int(len) ? got : 0
}

/// C's `qemu_get_8s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_8s(_ f: OpaquePointer?, _ pv: UnsafeMutablePointer<UInt8>?) {
    // (Read first: `pv?.pointee = read` would skip the read when `pv` is NULL.)
    let v = file(f)?.getByte() ?? 0; pv?.pointee = v
}
/// C's `qemu_get_be16s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_be16s(_ f: OpaquePointer?, _ pv: UnsafeMutablePointer<UInt16>?) {
    let v = UInt16(be(f, 2)); pv?.pointee = v
}
/// C's `qemu_get_be32s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_be32s(_ f: OpaquePointer?, _ pv: UnsafeMutablePointer<UInt32>?) {
    let v = UInt32(be(f, 4)); pv?.pointee = v
}
/// C's `qemu_get_be64s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_be64s(_ f: OpaquePointer?, _ pv: UnsafeMutablePointer<UInt64>?) {
    let v = be(f, 8); pv?.pointee = v
}
/// C's `qemu_get_s8s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_s8s(_ f: OpaquePointer?, _ pv: UnsafeMutablePointer<Int8>?) {
    let v = Int8(bitPattern: file(f)?.getByte() ?? 0); pv?.pointee = v
}
/// C's `qemu_get_sbe16`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_sbe16(_ f: OpaquePointer?) -> Int32 {
    Int32(Int16(truncatingIfNeeded: be(f, 2)))
}
/// C's `qemu_get_sbe32`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_sbe32(_ f: OpaquePointer?) -> Int32 { Int32(truncatingIfNeeded: be(f, 4)) }
/// C's `qemu_get_sbe64`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_sbe64(_ f: OpaquePointer?) -> Int64 { Int64(bitPattern: be(f, 8)) }
/// C's `qemu_get_sbe16s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_sbe16s(_ f: OpaquePointer?, _ pv: UnsafeMutablePointer<Int16>?) {
    let v = Int16(truncatingIfNeeded: be(f, 2)); pv?.pointee = v
}
/// C's `qemu_get_sbe32s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_sbe32s(_ f: OpaquePointer?, _ pv: UnsafeMutablePointer<Int32>?) {
    let v = Int32(truncatingIfNeeded: be(f, 4)); pv?.pointee = v
}
/// C's `qemu_get_sbe64s`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_get_sbe64s(_ f: OpaquePointer?, _ pv: UnsafeMutablePointer<Int64>?) {
    let v = Int64(bitPattern: be(f, 8)); pv?.pointee = v
}

/// C's `qemu_peek_byte`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_peek_byte(_ f: OpaquePointer?, _ offset: Int32) -> Int32 {
    guard let file = file(f) else { return 0 }
    // Over a stream, as qemu_peek_buffer: at most one buffer past the cursor (QEMU asserts the
    // offset is inside its buffer).
    if !file.inputEnded && Int(offset) >= StreamSource.bufferSize { return 0 }
    guard let bytes = file.peek(1, at: Int(offset)) else { return 0 }
    return Int32(bytes[0])
}

/// C's `qemu_peek_buffer`, declared and documented in `migration/qemu-file-types.h`.
@c @implementation public func qemu_peek_buffer(
    _ f: OpaquePointer?, _ buf: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ size: Int, _ offset: Int
) -> Int {
    // size_t arguments arrive as Int: a huge offset is negative here, a huge size means "as
    // many as there are" (over a stream: as many as one buffer holds).
    guard let file = file(f), let buf, size != 0 else { return 0 }
    guard offset >= 0 else {
        // (An offset of 2^63 or more: past the end of any input.)
        if file.inputEnded { file.lookedPastEnd() }
        return 0
    }
    let cap = file.inputEnded ? Int.max : StreamSource.bufferSize
    guard offset < cap else { return 0 }
    let want = min(size < 0 ? Int.max : size, cap - offset)
    _ = file.ensure(min(want, Int.max - offset) + offset)
    // QEMU's qemu_peek_buffer: fewer bytes than asked for means it reached the end (-EIO).
    if file.inputEnded && (size < 0 || offset > file.buffered || size > file.buffered - offset) {
        file.lookedPastEnd()
    }
    guard offset < file.buffered else { return 0 }
    let available = min(want, file.buffered - offset)
    guard available > 0, let bytes = file.peek(available, at: offset) else { return 0 }
    // SAFETY: `peek` checked `available` bytes at `offset` are in the window; C gets a read-only view
    // (QEMU's contract) valid until the next read of the file, as QEMU's own buffer is.
    buf.pointee = UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
    return available
}

/// QEMU's qemu_file_skip moves only within the bytes it has: a skip past the end does nothing.
@c @implementation public func qemu_file_skip(_ f: OpaquePointer?, _ size: Int32) {
    guard let file = file(f), size >= 0 else { return }
    _ = file.ensure(Int(size))  // a stream file reads up to `size` bytes into its window first
    guard Int(size) <= file.buffered else { return }
    _ = file.skip(Int(size))
}
