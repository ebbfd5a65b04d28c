import CGLib
import CVMState

/// Where an output ``MigrationFile``'s bytes go. The file appends to ``buffer`` and asks the
/// sink for room when the buffer's allocation is full.
protocol OutputSink: AnyObject {
    /// The array the file appends to.
    var buffer: UnsafeMutablePointer<GByteArray> { get }
    /// Bytes passed on from the buffer to the sink's destination so far.
    var passedOn: Int { get }
    /// The most bytes the whole output can have (``passedOn`` plus the buffer), or nil.
    var limit: Int? { get }
    /// The most room one request gets (a bounded buffer), or nil.
    var reserveLimit: Int? { get }
    /// Makes room for `n` more bytes after the buffer's `len` (which it may reset by passing
    /// the bytes on); returns the allocation's size, or nil (with the failure recorded on
    /// `file`) when the bytes cannot be taken.
    func makeRoom(_ n: Int, _ file: MigrationFile) -> Int?
    /// Passes the buffered bytes on; false when that failed (recorded on `file`).
    func flush(_ file: MigrationFile) -> Bool
}

/// The caller's `GByteArray`, written in place; at most 4 GiB (a `GByteArray`'s `guint`
/// length), past which the file fails with an error that points at the stream functions.
final class ByteArraySink: OutputSink {
    let buffer: UnsafeMutablePointer<GByteArray>
    var passedOn: Int { 0 }
    var limit: Int? { Self.maximumLength }
    var reserveLimit: Int? { nil }

    /// The most bytes a `GByteArray` holds.
    static let maximumLength = Int(UInt32.max)

    init(_ array: UnsafeMutablePointer<GByteArray>) { buffer = array }

    /// Grows the array's allocation to hold `n` more bytes -- to the next power of two, the
    /// size GLib itself would allocate for it -- and leaves `len` as it was.
    func makeRoom(_ n: Int, _ file: MigrationFile) -> Int? {
        // SAFETY: `buffer` is the caller's GByteArray, which the C API requires to outlive the file; GLib
        // reallocates it in place through the same pointer (g_byte_array_set_size).
        let old = Int(buffer.pointee.len)
        guard n <= Self.maximumLength - old else {
            file.setError(-27)  // EFBIG
            file.record(Self.tooLarge(old, n))
            return nil
        }
        var want = max(old + n, 256)
        if want & (want - 1) != 0 {
            want = min(1 << (Int.bitWidth - (want - 1).leadingZeroBitCount), max(Self.maximumLength, old + n))
        }
        g_byte_array_set_size(buffer, guint(want))
        g_byte_array_set_size(buffer, guint(old))
        return want
    }

    func flush(_ file: MigrationFile) -> Bool { true }

    static func tooLarge(_ have: Int, _ more: Int) -> VMStateError {
        VMStateError(
            .boundExceeded, offset: have,
            reason: "the stream does not fit in a GByteArray, which holds at most 4 GiB: save to a GOutputStream "
                + "(vmstate_file_new_output_stream, vmstate_registry_save_to_stream)",
            expected: "at most \(maximumLength) bytes", actual: "\(have) bytes and \(more) more", errno: -27)
    }
}

/// A `GOutputStream` behind one bounded buffer (QEMU's QEMUFile buffers its channel the same
/// way): the buffer is written out with `g_output_stream_write_all` when full and on flush.
/// Holds a reference to the stream; never closes it.
final class StreamSink: OutputSink {
    let buffer: UnsafeMutablePointer<GByteArray>
    private let stream: UnsafeMutablePointer<GOutputStream>
    private(set) var passedOn = 0
    var limit: Int? { nil }
    var reserveLimit: Int? { Self.bufferSize }

    /// The buffer's size: 256 KiB.
    static let bufferSize = 256 << 10

    init(_ stream: UnsafeMutablePointer<GOutputStream>) {
        self.stream = stream
        g_object_ref(stream)
        buffer = g_byte_array_sized_new(guint(Self.bufferSize))
    }

    deinit {
        g_byte_array_unref(buffer)
        g_object_unref(stream)
    }

    func makeRoom(_ n: Int, _ file: MigrationFile) -> Int? {
        // Once the stream failed, nothing more is written (QEMU drops writes after an error).
        guard file.streamError == nil else { return nil }
        // SAFETY: `buffer` is this sink's own GByteArray (made in init, unref'd only in deinit).
        if Int(buffer.pointee.len) + n > Self.bufferSize && buffer.pointee.len > 0 {
            guard writeOut(file) else { return nil }
        }
        // One value larger than the buffer (a caller's put of a huge piece at once) gets room
        // of its own size; the buffer shrinks back at the next write-out.
        let want = max(Self.bufferSize, Int(buffer.pointee.len) + n)
        let old = buffer.pointee.len
        g_byte_array_set_size(buffer, guint(want))
        g_byte_array_set_size(buffer, old)
        return want
    }

    func flush(_ file: MigrationFile) -> Bool {
        guard writeOut(file) else { return false }
        var error: UnsafeMutablePointer<GError>?
        guard g_output_stream_flush(stream, nil, &error) != 0 else {
            file.recordStreamError(error, at: passedOn)
            return false
        }
        return true
    }

    private func writeOut(_ file: MigrationFile) -> Bool {
        // SAFETY: `buffer` is owned (as in makeRoom); GLib reads `data[0..<len]`, all of it initialized
        // (the file advances `len` only over bytes it wrote).
        let len = Int(buffer.pointee.len)
        guard len > 0 else { return true }
        var written: gsize = 0
        var error: UnsafeMutablePointer<GError>?
        let ok = g_output_stream_write_all(stream, buffer.pointee.data, gsize(len), &written, nil, &error) != 0
        passedOn += Int(written)
        g_byte_array_set_size(buffer, 0)
        guard ok else {
            file.recordStreamError(
                error ?? g_error_new_literal(g_io_error_quark(), Int32(G_IO_ERROR_FAILED.rawValue), "short write"),
                at: passedOn)
            return false
        }
        return true
    }
}
