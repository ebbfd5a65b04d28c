import CGLib
import CVMState

/// Where an input ``MigrationFile``'s bytes come from: a window of bytes the file reads with
/// a cursor, refilled on demand.
protocol InputSource: AnyObject {
    /// The window before any read.
    var initialWindow: UnsafeRawBufferPointer { get }
    /// Whether the end of the input is known (every byte is in the window or was consumed).
    var ended: Bool { get }
    /// Drops the window's bytes before `keeping`, keeps `keeping..<end`, and reads until at
    /// least `need` bytes follow `keeping` (or the input ends or fails); returns the new window,
    /// which starts with the kept bytes, or nil when nothing could be read.
    func refill(keeping: Int, end: Int, need: Int, _ file: MigrationFile) -> UnsafeRawBufferPointer?
    /// Skips `n` bytes past the window (which the file dropped); returns how many it skipped.
    func skip(_ n: Int, _ file: MigrationFile) -> Int
}

/// A caller's `GBytes`: one window holding all of it (a reference is held).
final class GBytesSource: InputSource {
    private let bytes: OpaquePointer
    let initialWindow: UnsafeRawBufferPointer
    var ended: Bool { true }

    init(_ bytes: OpaquePointer) {
        self.bytes = g_bytes_ref(bytes)
        var size: gsize = 0
        let data = g_bytes_get_data(bytes, &size)
        // SAFETY: the data stays valid while this source holds its ref to `bytes` (the file holds the
        // source); NULL data only with size 0.
        initialWindow = UnsafeRawBufferPointer(start: data, count: Int(size))
    }

    deinit { g_bytes_unref(bytes) }

    func refill(keeping: Int, end: Int, need: Int, _ file: MigrationFile) -> UnsafeRawBufferPointer? { nil }
    func skip(_ n: Int, _ file: MigrationFile) -> Int { 0 }
}

/// A `GInputStream` read into one bounded window (256 KiB, larger only while one read needs
/// more). Holds a reference to the stream; never closes it. A read of 0 bytes is the end; a
/// failed read is recorded on the file (its GError kept, -EIO set) and also ends the input.
final class StreamSource: InputSource {
    private let stream: UnsafeMutablePointer<GInputStream>
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private(set) var ended = false
    /// The most bytes the window has held (read ahead, or held for the vmdesc).
    private(set) var peakWindow = 0
    /// Bytes read from the stream so far (for error offsets).
    private(set) var consumed = 0
    // SAFETY: an empty window over `storage`, owned (g_malloc'ed in init, freed in deinit).
    var initialWindow: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: 0) }

    static let bufferSize = 256 << 10

    init(_ stream: UnsafeMutablePointer<GInputStream>) {
        self.stream = stream
        g_object_ref(stream)
        capacity = Self.bufferSize
        storage = g_malloc(gsize(capacity))!
    }

    deinit {
        g_free(storage)
        g_object_unref(stream)
    }

    func refill(keeping: Int, end: Int, need: Int, _ file: MigrationFile) -> UnsafeRawBufferPointer? {
        var count = end - keeping
        if keeping > 0 && count > 0 {
            // SAFETY: both ranges lie in `storage[0..<capacity]`; memmove allows the overlap.
            memmove(storage, storage + keeping, count)
        }
        if need > capacity {
            capacity = max(need, capacity * 2)
            // SAFETY: the realloc moves the window; the file takes the returned window as its new base and
            // drops any pointer into the old one (MigrationFile.refill).
            storage = g_realloc(storage, gsize(capacity))!
        }
        // Read what fits, until `need` bytes are there.
        while count < need && !ended {
            var error: UnsafeMutablePointer<GError>?
            // SAFETY: `storage[count..<capacity]` is owned free space (count <= need <= capacity here).
            let got = g_input_stream_read(stream, storage + count, gsize(capacity - count), nil, &error)
            if got < 0 {
                ended = true
                file.recordStreamError(error, at: consumed)
            } else if got == 0 {
                ended = true
            } else {
                count += got
                consumed += got
            }
        }
        peakWindow = max(peakWindow, count)
        // SAFETY: `storage[0..<count]` holds the kept and the read bytes; valid until the next refill.
        return UnsafeRawBufferPointer(start: storage, count: count)
    }

    func skip(_ n: Int, _ file: MigrationFile) -> Int {
        var done = 0
        while done < n && !ended {
            var error: UnsafeMutablePointer<GError>?
            let got = g_input_stream_skip(stream, gsize(min(n - done, 1 << 30)), nil, &error)
            if got < 0 {
                ended = true
                file.recordStreamError(error, at: consumed)
            } else if got == 0 {
                ended = true
            } else {
                done += got
                consumed += got
            }
        }
        return done
    }
}
