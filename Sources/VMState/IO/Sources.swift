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
/// more, grown by doubling as the bytes arrive). Holds a reference to the stream; never closes
/// it. A read of 0 bytes is the end; a failed read is recorded on the file (its GError kept,
/// -EIO set) and also ends the input.
///
/// When the stream reads a regular file (``DirectFile``), the window is 8 MiB and is filled
/// with whole 4 KiB blocks read with `O_DIRECT`, past the page cache (the bytes up to the first
/// block boundary, and any after a short read, through the stream); skips move the offset.
final class StreamSource: InputSource {
    private let stream: UnsafeMutablePointer<GInputStream>
    private var storage: UnsafeMutableRawPointer
    /// The window's allocation, bytes.
    private(set) var capacity: Int
    /// Where the window starts in `storage`: 0, or with direct reads the offset that puts the
    /// end of the kept bytes on an aligned address.
    private var pad = 0
    private let direct: DirectFile?
    private(set) var ended = false
    /// The most bytes the window has held (read ahead, or held for the vmdesc).
    private(set) var peakWindow = 0
    /// Bytes read from the stream so far (for error offsets).
    private(set) var consumed = 0
    // SAFETY: an empty window over `storage`, owned (allocated in init, freed in deinit).
    var initialWindow: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: 0) }
    /// Bytes read with `O_DIRECT` so far.
    var directBytes: Int { direct?.bytesRead ?? 0 }

    static let bufferSize = 256 << 10
    /// The window's size with direct reads: 8 MiB.
    static let directBufferSize = 8 << 20

    /// A source over `stream` (it takes a reference). `directIO`: read whole blocks of a
    /// regular file with `O_DIRECT` (``DirectFile``), past the page cache; off by default (a
    /// file the page cache holds reads faster through it).
    init(_ stream: UnsafeMutablePointer<GInputStream>, directIO: Bool = false) {
        self.stream = stream
        g_object_ref(stream)
        // (A descriptor the caller opened with O_DIRECT reads only whole aligned blocks.)
        direct = directIO || DirectFile.inputHasODirect(stream) ? DirectFile(input: stream) : nil
        capacity = direct == nil ? Self.bufferSize : Self.directBufferSize
        storage = Self.allocate(capacity, aligned: direct != nil)
    }

    deinit {
        Self.free(storage, aligned: direct != nil)
        g_object_unref(stream)
    }

    /// `capacity` bytes, plus two blocks aligned to a block when `aligned`.
    private static func allocate(_ capacity: Int, aligned: Bool) -> UnsafeMutableRawPointer {
        aligned
            ? g_aligned_alloc(gsize(capacity + 2 * DirectFile.block), 1, gsize(DirectFile.block))!
            : g_malloc(gsize(capacity))!
    }

    private static func free(_ storage: UnsafeMutableRawPointer, aligned: Bool) {
        if aligned { g_aligned_free(storage) } else { g_free(storage) }
    }

    func refill(keeping: Int, end: Int, need: Int, _ file: MigrationFile) -> UnsafeRawBufferPointer? {
        var count = end - keeping
        let block = DirectFile.block
        // SAFETY: the window was `storage[pad..<pad + end]`; the kept bytes are its `keeping..<end`.
        let kept = storage + pad + keeping
        let newPad = direct == nil ? 0 : (block - count % block) % block
        if count > 0 && kept != storage + newPad {
            // SAFETY: both ranges lie in the allocation (newPad + count <= pad + end); memmove allows overlap.
            memmove(storage + newPad, kept, count)
        }
        pad = newPad
        // Read what fits, until `need` bytes are there. The window grows as the bytes arrive (at
        // most doubling), not to `need` at once: a length in a hostile stream may ask for any
        // size with a few bytes behind it, so memory follows the input actually read.
        while count < need && !ended {
            let least = direct?.usable == true ? block : 1
            if capacity - count < least {
                let grownCapacity = max(capacity * 2, count + least)
                // SAFETY: a new allocation; the window's bytes are copied over at the same pad and the
                // old one freed. The file takes the returned window as its new base and drops any pointer
                // into the old one (MigrationFile.refill).
                let grown = Self.allocate(grownCapacity, aligned: direct != nil)
                if count > 0 { (grown + pad).copyMemory(from: storage + pad, byteCount: count) }
                Self.free(storage, aligned: direct != nil)
                storage = grown
                capacity = grownCapacity
            }
            if let direct, direct.usable {
                let position = direct.position
                let space = (capacity - count) / block * block
                if position % block == 0 && space > 0 {
                    // SAFETY: `storage[pad + count..<pad + count + space]` is free space in the allocation
                    // (pad < block, space <= capacity - count, allocation = capacity + 2 blocks); aligned, as
                    // `pad + count` is a multiple of the block and `storage` is aligned.
                    if let result = direct.read(into: storage + pad + count, space) {
                        switch result {
                        case .read(let got):
                            if got == 0 { ended = true }
                            count += got
                            consumed += got
                        case .failed(let error):
                            ended = true
                            file.recordStreamError(error, at: consumed)
                        }
                        continue
                    }
                }
            }
            // Through the stream: up to the next block boundary while direct reads are on.
            var want = capacity - count
            if let direct, direct.usable {
                let position = direct.position
                if position % block != 0 { want = min(want, block - position % block) }
            }
            var error: UnsafeMutablePointer<GError>?
            // SAFETY: `storage[pad + count..<pad + count + want]` is owned free space (want <= capacity - count,
            // which the growth above keeps at least 1).
            let got = g_input_stream_read(stream, storage + pad + count, gsize(want), nil, &error)
            if got < 0 {
                ended = true
                file.recordStreamError(error ?? Self.silentFailure("read"), at: consumed)
            } else if got > want {
                // A broken GInputStream subclass: the bytes it claims lie past the buffer.
                ended = true
                file.recordStreamError(Self.overcount(got, want), at: consumed)
            } else if got == 0 {
                ended = true
            } else {
                count += got
                consumed += got
            }
        }
        peakWindow = max(peakWindow, count)
        // SAFETY: `storage[pad..<pad + count]` holds the kept and the read bytes; valid until the next refill.
        return UnsafeRawBufferPointer(start: storage + pad, count: count)
    }

    /// Whether the stream is a `GSeekable` that can seek (`g_seekable_can_seek`).
    private var seekable: Bool {
        // SAFETY: a GInputStream is a GTypeInstance (GObject's first member).
        let instance = UnsafeMutableRawPointer(stream).assumingMemoryBound(to: GTypeInstance.self)
        guard g_type_check_instance_is_a(instance, g_seekable_get_type()) != 0 else { return false }
        return g_seekable_can_seek(OpaquePointer(stream)) != 0
    }

    /// The error for a read or skip that returned -1 without setting its GError (a broken
    /// stream implementation), which the caller owns.
    static func silentFailure(_ call: String) -> UnsafeMutablePointer<GError> {
        gioFailure("the GInputStream's \(call) failed without an error")
    }

    /// The error for a read or skip that returned `got` bytes when at most `asked` were asked
    /// for (GIO's contract: at most the count given), which the caller owns.
    static func overcount(_ got: Int, _ asked: Int) -> UnsafeMutablePointer<GError> {
        gioFailure(
            "the GInputStream returned \(got) bytes for a read of at most \(asked) (a broken stream implementation)")
    }

    func skip(_ n: Int, _ file: MigrationFile) -> Int {
        if let direct, direct.usable {
            let done = direct.skip(n)
            consumed += done
            if done < n { ended = true }
            return done
        }
        // A stream that seeks skips by seeking (all or nothing); any other is read into the
        // window's storage, which the file dropped: GIO's skip by reading returns -1 for a read
        // that fails after part of the skip, losing where it failed.
        let seeks = seekable
        var done = 0
        while done < n && !ended {
            var error: UnsafeMutablePointer<GError>?
            let asked = min(n - done, seeks ? 1 << 30 : capacity)
            // SAFETY: `storage[0..<capacity]` is owned, and holds no bytes the file still uses.
            let got =
                seeks
                ? g_input_stream_skip(stream, gsize(asked), nil, &error)
                : g_input_stream_read(stream, storage, gsize(asked), nil, &error)
            if got < 0 {
                ended = true
                file.recordStreamError(error ?? Self.silentFailure(seeks ? "skip" : "read"), at: consumed)
            } else if got > asked {
                ended = true
                file.recordStreamError(Self.overcount(got, asked), at: consumed)
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
