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
///
/// When the stream writes to a regular file (a `GFileDescriptorBased` stream such as
/// `GUnixOutputStream` or the `GFileOutputStream` of a local file, see ``DirectFile``), the
/// buffer is 8 MiB and its whole 4 KiB blocks go to the file with `O_DIRECT`, past the page
/// cache, through a second descriptor of the same file; the bytes before the first block
/// boundary and after the last one go through the stream. The file holds the same bytes either
/// way, and the stream's descriptor is left at the end of what was written.
final class StreamSink: OutputSink {
    let buffer: UnsafeMutablePointer<GByteArray>
    private let stream: UnsafeMutablePointer<GOutputStream>
    /// Bytes written to the stream or the file so far.
    private var written = 0
    /// Where the bytes not yet written begin in the buffer: 0, or with ``DirectFile`` the index
    /// at which their file offset falls on the same place in a 4 KiB block as their address
    /// (so that whole blocks of the file are whole aligned blocks of the buffer).
    private var start = 0
    /// The file opened again with `O_DIRECT`, when the stream writes to a regular file.
    private var direct: DirectFile?
    /// Bytes written with `O_DIRECT` so far.
    var directBytes: Int { direct?.bytesWritten ?? 0 }
    /// The most bytes held before a write-out.
    private let capacity: Int
    /// Bytes passed on, less the unused bytes before ``start`` (so that `passedOn` plus the
    /// buffer's `len` is the output's length).
    var passedOn: Int { written - start }
    var limit: Int? { nil }
    var reserveLimit: Int? { capacity }

    /// The buffer's size: 256 KiB.
    static let bufferSize = 256 << 10
    /// The buffer's size when writing to a file with `O_DIRECT`: 8 MiB.
    static let directBufferSize = 8 << 20

    /// A sink over `stream` (it takes a reference). `directIO`: write whole blocks of a regular
    /// file with `O_DIRECT` (``DirectFile``), as QEMU's `direct-io` migration parameter; off by
    /// default, since a file written past the page cache is read back from the disk.
    init(_ stream: UnsafeMutablePointer<GOutputStream>, directIO: Bool = false) {
        self.stream = stream
        g_object_ref(stream)
        direct = directIO ? DirectFile(stream) : nil
        capacity = direct == nil ? Self.bufferSize : Self.directBufferSize
        // Room for the capacity starting anywhere in the first two blocks.
        buffer = g_byte_array_sized_new(guint(capacity + (direct == nil ? 0 : 2 * DirectFile.block)))
        realign()
    }

    deinit {
        g_byte_array_unref(buffer)
        g_object_unref(stream)
    }

    /// With ``DirectFile``: an empty buffer starting where the file's next offset falls in its
    /// block; else an empty buffer.
    private func realign() {
        start = 0
        // SAFETY: `buffer` is this sink's own GByteArray; `start < 2 * block` lies in its allocation
        // (capacity + 2 blocks).
        if let direct, direct.usable {
            let block = DirectFile.block
            let address = Int(bitPattern: UnsafeRawPointer(buffer.pointee.data))
            start = (block - address % block) % block + direct.position % block
        }
        g_byte_array_set_size(buffer, guint(start))
    }

    func makeRoom(_ n: Int, _ file: MigrationFile) -> Int? {
        // Once the stream failed, nothing more is written (QEMU drops writes after an error).
        guard file.streamError == nil else { return nil }
        // SAFETY: `buffer` is this sink's own GByteArray (made in init, unref'd only in deinit).
        let len = Int(buffer.pointee.len)
        if len - start + n > capacity && len > start {
            guard writeOut(file, all: false) else { return nil }
        }
        // One value larger than the buffer (a caller's put of a huge piece at once) gets room
        // of its own size.
        let want = max(start + capacity, Int(buffer.pointee.len) + n)
        let old = buffer.pointee.len
        g_byte_array_set_size(buffer, guint(want))
        g_byte_array_set_size(buffer, old)
        return want
    }

    func flush(_ file: MigrationFile) -> Bool {
        guard writeOut(file, all: true) else { return false }
        var error: UnsafeMutablePointer<GError>?
        guard g_output_stream_flush(stream, nil, &error) != 0 else {
            file.recordStreamError(error, at: written)
            return false
        }
        return true
    }

    /// Writes the buffered bytes out: all of them (`all`), or (with ``DirectFile``) at least
    /// its whole blocks, keeping the rest.
    private func writeOut(_ file: MigrationFile, all: Bool) -> Bool {
        // SAFETY: `buffer` is owned (as in makeRoom); `data[start..<len]` are bytes the file wrote.
        let len = Int(buffer.pointee.len)
        guard len > start else { return true }
        let data = UnsafeMutableRawPointer(buffer.pointee.data!)
        var done = start
        if let direct {
            let result = direct.write(data + start, len - start, through: stream)
            written += result.written
            done += result.written
            if let error = result.error {
                file.recordStreamError(error, at: written)
                return false
            }
            let rest = len - done
            let block = DirectFile.block
            if !all && done > start && rest < block {
                // Keep the rest (less than a block, starting on a block boundary of the file) at
                // the buffer's first aligned address.
                let aligned = (block - Int(bitPattern: data) % block) % block
                // SAFETY: both ranges lie in the allocation (aligned + rest < 2 blocks <= len); memmove
                // allows the overlap.
                memmove(data + aligned, data + done, rest)
                start = aligned
                g_byte_array_set_size(buffer, guint(aligned + rest))
                return true
            }
        }
        var n: gsize = 0
        var error: UnsafeMutablePointer<GError>?
        let ok = g_output_stream_write_all(stream, data + done, gsize(len - done), &n, nil, &error) != 0
        written += Int(n)
        guard ok else {
            start = 0
            g_byte_array_set_size(buffer, 0)
            file.recordStreamError(
                error ?? g_error_new_literal(g_io_error_quark(), Int32(G_IO_ERROR_FAILED.rawValue), "short write"),
                at: written)
            return false
        }
        realign()
        return true
    }
}
