import CGLib
import CVMState

/// Where an output ``MigrationFile``'s bytes go. The file appends to ``buffer`` and asks the
/// sink for room when the buffer's allocation is full.
protocol OutputSink: AnyObject {
    /// The array the file appends to (it may be another one after ``makeRoom(_:_:)`` or
    /// ``flush(_:)``).
    var buffer: UnsafeMutablePointer<GByteArray> { get }
    /// Bytes passed on from the buffer to the sink's destination so far.
    var passedOn: Int { get }
    /// Bytes of ``passedOn`` known to be written: a failure can only be at or after this offset
    /// (less than ``passedOn`` while a writer thread still has some).
    var settled: Int { get }
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
    var settled: Int { 0 }
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
            if file.capacityFailure == nil { file.capacityFailure = Self.tooLarge(old, n) }
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
/// With a ``FileWriter`` (a registry save to a local regular file, see ``FileIO``), the buffers
/// are the writer's (``FileWriter/buffers(for:)``): a full buffer is handed to the writer's thread, which
/// writes it at its file offset (through the page cache, or its whole 4 KiB blocks with
/// `O_DIRECT`) while the engine fills the next; a flush waits for all of them and then moves
/// the stream's offset to the end of what was written, as if the bytes had gone through it.
/// Each buffer's bytes start where their address and their file offset fall on the same place
/// of a 4 KiB block, so that whole blocks of the file are whole aligned blocks of memory.
final class StreamSink: OutputSink {
    private(set) var buffer: UnsafeMutablePointer<GByteArray>
    private let stream: UnsafeMutablePointer<GOutputStream>
    /// Bytes handed on (written to the stream, or handed to the writer) so far.
    private var written = 0
    /// Where the bytes not yet handed on begin in the buffer: 0, or with a writer the index at
    /// which their address falls on the same place in a 4 KiB block as their file offset.
    private var start = 0
    /// The writer of a save to a regular file, if any.
    let writer: FileWriter?
    /// Whether bytes were handed to the writer since its last ``FileWriter/finish(at:)``.
    private var unfinished = false
    /// The most bytes held before a write-out.
    private let capacity: Int
    /// Bytes handed on, less the unused bytes before ``start`` (so that `passedOn` plus the
    /// buffer's `len` is the output's length).
    var passedOn: Int { written - start }
    var settled: Int { passedOn - (writer?.pendingBytes ?? 0) }
    var limit: Int? { nil }
    var reserveLimit: Int? { capacity }

    /// The buffer's size without a writer: 256 KiB.
    static let bufferSize = 256 << 10

    /// A sink over `stream` (it takes a reference). `fileIO`: when the stream writes to a local
    /// regular file, write it from a ``FileWriter``'s thread that way; nil (QEMUFile, live
    /// migration): always through the stream, on the caller's thread.
    convenience init(_ stream: UnsafeMutablePointer<GOutputStream>, fileIO: FileIO? = nil) {
        self.init(stream, writer: fileIO.flatMap { FileWriter(stream, mode: $0) })
    }

    /// A sink over `stream` (it takes a reference) whose bytes `writer` (made for the same
    /// stream) writes, or the stream itself when nil.
    init(_ stream: UnsafeMutablePointer<GOutputStream>, writer: FileWriter?) {
        self.stream = stream
        g_object_ref(stream)
        self.writer = writer
        capacity = writer?.bufferSize ?? Self.bufferSize
        buffer = writer?.first ?? g_byte_array_sized_new(guint(capacity))
        realign()
    }

    deinit {
        if let writer {
            // Whatever was handed over is written before the stream goes; the stream's offset
            // then ends where the writes ended. Not again when the last flush put it there:
            // the caller may have written to the stream since.
            let failure = writer.drain()
            if unfinished { writer.finish(at: failure?.offset ?? writer.base + written) }
        } else {
            g_byte_array_unref(buffer)
        }
        g_object_unref(stream)
    }

    /// An empty buffer; with a writer, starting where the file's next offset falls in its block.
    private func realign() {
        start = 0
        // SAFETY: `buffer` is this sink's own GByteArray (or one of its writer's, which it holds between
        // hand-overs); `start < 2 * block` lies in its allocation (capacity + 2 blocks).
        if let writer {
            let block = DirectFile.block
            let address = Int(bitPattern: UnsafeRawPointer(buffer.pointee.data))
            start = (block - address % block) % block + (writer.base + written) % block
        }
        g_byte_array_set_size(buffer, guint(start))
    }

    func makeRoom(_ n: Int, _ file: MigrationFile) -> Int? {
        // Once the stream failed, nothing more is written (QEMU drops writes after an error).
        guard file.streamError == nil else { return nil }
        // SAFETY: `buffer` is this sink's (see realign).
        let len = Int(buffer.pointee.len)
        if len - start + n > capacity && len > start {
            guard writeOut(file) else { return nil }
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
        guard writeOut(file) else { return false }
        if let writer {
            unfinished = false
            if let failure = writer.drain() {
                writer.finish(at: failure.offset)
                file.recordStreamError(failure.gerror, at: failure.offset - writer.base)
                return false
            }
            writer.finish(at: writer.base + written)
        }
        var error: UnsafeMutablePointer<GError>?
        guard g_output_stream_flush(stream, nil, &error) != 0 else {
            file.recordStreamError(error, at: written)
            return false
        }
        return true
    }

    /// Writes the buffered bytes out (to the stream), or hands them to the writer and takes
    /// the next buffer.
    private func writeOut(_ file: MigrationFile) -> Bool {
        // SAFETY: `buffer` is this sink's (see realign); `data[start..<len]` are bytes the file wrote.
        let len = Int(buffer.pointee.len)
        guard len > start else { return true }
        if let writer {
            let result = writer.submit(buffer, start: start, end: len, offset: writer.base + written)
            written += len - start
            unfinished = true
            switch result {
            case .success(let next):
                buffer = next
                realign()
                return true
            case .failure(let failure):
                file.recordStreamError(failure.gerror, at: failure.offset - writer.base)
                return false
            }
        }
        // `g_output_stream_write` until all is written, rather than `g_output_stream_write_all`:
        // that one fails a stream whose write returns 0 with a GLib critical and no error, nor
        // the count it had written by then, and trusts a count past what it asked for.
        var done = 0
        var error: UnsafeMutablePointer<GError>?
        while done < len, error == nil {
            let asked = len - done
            // SAFETY: `data[done..<len]` are bytes of `buffer`, the sink's, unchanged by the write.
            let n = g_output_stream_write(stream, buffer.pointee.data + done, gsize(asked), nil, &error)
            if n < 0 {
                error = error ?? gioFailure("the GOutputStream's write failed without an error")
            } else if n == 0 {
                error = gioFailure("the GOutputStream wrote nothing (its write returned 0 for \(asked) bytes)")
            } else if n > asked {
                error = gioFailure(
                    "the GOutputStream returned \(n) bytes for a write of \(asked) (a broken stream implementation)")
            } else {
                done += n
            }
        }
        written += done
        g_byte_array_set_size(buffer, 0)
        if let error {
            file.recordStreamError(error, at: written)
            return false
        }
        return true
    }
}

/// A `G_IO_ERROR_FAILED` error with `message`, which the caller owns: a GIO stream that broke
/// GIO's contract for its reads or writes (``StreamSource``, ``StreamSink``).
func gioFailure(_ message: String) -> UnsafeMutablePointer<GError> {
    g_error_new_literal(g_io_error_quark(), Int32(G_IO_ERROR_FAILED.rawValue), message)
}
