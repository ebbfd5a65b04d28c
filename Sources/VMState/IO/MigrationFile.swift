import CGLib
import CVMState

/// The object behind a C `QEMUFile *`: a buffer over a sink (output) or a source (input).
///
/// Output always appends to a `GByteArray`, the sink's buffer (``OutputSink``): for
/// ``ByteArraySink`` that is the caller's array itself, written in place; for ``StreamSink`` it
/// is one bounded buffer that is written to a `GOutputStream` when full and on ``flush()``, as
/// QEMU's `QEMUFile` buffers its channel. Input reads a window of bytes with a cursor: a
/// ``GBytesSource`` is one window holding all the input; a ``StreamSource`` refills a bounded
/// window from a `GInputStream` when a read needs more than it holds.
///
/// All access to the underlying bytes happens here, with the bounds check in one place
/// (`take(_:)` / `peek(_:at:)` for input, `append(_:)` for output); the rest of the engine asks
/// for values, not pointers. Offsets (`position`, `count`) count from the start of the file's
/// input or output, whatever part of it is in the window.
final class MigrationFile {
    enum Direction { case input, output }
    let direction: Direction

    // Output: the sink, its buffer, and the buffer's length (plus what the sink passed on
    // already) when the file was created.
    private let sink: OutputSink?
    /// The sink's buffer, read again after every call that may change it.
    @exclusivity(unchecked) private var array: UnsafeMutablePointer<GByteArray>?
    private let outputStart: Int
    // Output: room the sink made in the buffer: its allocation holds at least `roomEnd` bytes
    // as long as `data` is still `roomData` and `len` is still `roomLen`, the length this file
    // left (anything else changing the array -- an append not through this file, a steal, a
    // flush -- changes one of them, and the room is asked for again).
    @exclusivity(unchecked) private var roomData: UnsafeMutablePointer<UInt8>?
    @exclusivity(unchecked) private var roomLen = 0
    @exclusivity(unchecked) private var roomEnd = 0

    // Input: the source, and its window: `base[0..<end]` holds the input bytes from offset
    // `windowOffset`; the cursor indexes the window.
    private let source: InputSource?
    @exclusivity(unchecked) private var base: UnsafeRawPointer?
    @exclusivity(unchecked) private var end: Int = 0
    @exclusivity(unchecked) private var windowOffset = 0
    // (The hot state is exempt from dynamic exclusivity checks: a file is used by one thread at
    // a time, and no access to it overlaps another.)
    @exclusivity(unchecked) private var cursor: Int = 0
    /// Input: an offset from which the window keeps its bytes when it refills (nil: only from
    /// the cursor), so that a caller can copy a record it has read past (``bytes(from:to:)``).
    var mark: Int?
    /// Input: the most bytes the window may hold from the mark (nil: no limit). A read that
    /// would hold more fails as the end of the input does, and sets ``markLimitReached``.
    var markLimit: Int?
    /// Whether a read failed because of ``markLimit``.
    private(set) var markLimitReached = false

    /// QEMU's file error: the first negative errno recorded, or 0. Once it is set, output
    /// appends nothing more (QEMU's `qemu_put_*` return at once when `last_error` is set).
    private(set) var errorCode: Int32 = 0
    /// Whether looking past the end of the input (a subsection check, `qemu_peek_byte`,
    /// `qemu_peek_buffer`) records -EIO, as QEMU 7.2's `qemu_fill_buffer` does when it finds the
    /// end (migration/qemu-file.c). True for files made by `vmstate_file_new_input`, which follow
    /// QEMU's QEMUFile; false for the one-call forms and the registry, whose input ends where the
    /// state ends (looking for a subsection there finds none).
    let peekPastEndFails: Bool
    /// The first detailed failure recorded on this file (by the engine or a nested C call).
    var failure: VMStateError?
    /// Output to a `GByteArray`: why it refused more bytes (it holds at most 4 GiB), once it did.
    var capacityFailure: VMStateError?
    /// The GError of the first failed read or write of the file's stream (owned), and the
    /// offset at which it failed.
    private(set) var streamError: UnsafeMutablePointer<GError>?
    private(set) var streamErrorOffset = 0
    /// What the caller is reading or writing from here on (a section as messages name it,
    /// ``VMStateError/sectionLabel(_:_:)``; nil for none), for errors of the stream. Output
    /// remembers where each one started, so that a buffered write that fails later names the
    /// section its failing byte belongs to.
    var context: String? {
        get { contexts.last?.name }
        set {
            let at = position
            if direction == .output, let passed = sink?.settled {
                // Only what is still buffered can fail: drop marks that end before it.
                while contexts.count > 1 && contexts[1].start <= passed - outputStart { contexts.removeFirst() }
            } else {
                contexts.removeAll(keepingCapacity: true)
            }
            contexts.append((at, newValue))
        }
    }
    private var contexts: [(start: Int, name: String?)] = []
    private(set) var streamErrorContext: String?

    /// An output file over `sink`.
    init(sink: OutputSink) {
        direction = .output
        self.sink = sink
        array = sink.buffer
        // SAFETY: the sink's buffer is a live GByteArray (the caller's array or the sink's own) for the
        // sink's lifetime, and the file holds the sink.
        outputStart = sink.passedOn + Int(sink.buffer.pointee.len)
        source = nil
        peekPastEndFails = false
    }

    /// An output file appending to the caller's array in place (``ByteArraySink``).
    convenience init(output: UnsafeMutablePointer<GByteArray>) {
        self.init(sink: ByteArraySink(output))
    }

    /// An input file over `source`; `peekPastEndFails` as QEMU's own `QEMUFile` (see the
    /// property).
    init(source: InputSource, peekPastEndFails: Bool = false) {
        direction = .input
        sink = nil
        self.peekPastEndFails = peekPastEndFails
        array = nil
        outputStart = 0
        self.source = source
        let window = source.initialWindow
        base = window.baseAddress
        end = window.count
    }

    /// An input file reading all of the caller's `GBytes` (``GBytesSource``).
    convenience init(input: OpaquePointer, peekPastEndFails: Bool = false) {
        self.init(source: GBytesSource(input), peekPastEndFails: peekPastEndFails)
    }

    deinit {
        if let streamError { g_error_free(streamError) }
    }

    // (C handles: `CHandle` in CABI/CEdge.swift; a `QEMUFile *` owns one retain until
    // `qemu_fclose`.)

    // MARK: errors

    func setError(_ code: Int32) {
        if errorCode == 0 && code != 0 {
            errorCode = code
            // Output: forget the room, so that the next append takes the slow path, which
            // writes nothing while the file has an error.
            roomData = nil
            roomEnd = 0
        }
    }

    /// The errno of a read that ran past the end: the file's first error (-EIO unless an
    /// error was recorded before), which is what QEMU's field check returns.
    var shortReadErrno: Int32 { errorCode != 0 ? errorCode : -5 }

    /// A look past the end of the input: -EIO when this file follows QEMU's rule.
    @inline(__always)
    func lookedPastEnd() {
        if peekPastEndFails { setError(-5) }
    }

    /// Records `error` as the detailed failure (the first one wins); returns it for throwing.
    /// The file's errno is not changed: as in QEMU it is set only by I/O errors and by a field
    /// element that fails to load (see `Engine.loadField`).
    @discardableResult
    func record(_ error: VMStateError) -> VMStateError {
        if failure == nil { failure = error }
        return error
    }

    /// Records a failed read or write of the stream: takes `error` (owned), sets -EIO.
    func recordStreamError(_ error: UnsafeMutablePointer<GError>?, at offset: Int) {
        if streamError == nil, let error {
            streamError = error
            streamErrorOffset = offset
            let absolute = direction == .output ? offset - outputStart : offset
            streamErrorContext = contexts.last(where: { $0.start <= absolute })?.name ?? nil
        } else if let error {
            g_error_free(error)
        }
        setError(-5)
    }

    /// The stream's failure as an error for the caller: the section being read or written, the
    /// byte offset and the stream's own message; nil when the stream did not fail.
    func streamFailure(writing: Bool) -> VMStateError? {
        guard let streamError else { return nil }
        // SAFETY: `streamError` is a GError this file owns (freed only in deinit); GLib sets its message.
        let message = streamError.pointee.message.map { String(cString: $0) } ?? "unknown error"
        let section = streamErrorContext.map { "\($0): " } ?? ""
        return VMStateError(
            writing ? .failed : .shortInput, offset: streamErrorOffset,
            reason: section + (writing ? "writing the stream failed: " : "reading the stream failed: ") + message,
            errno: -5)
    }

    /// A copy of the stream's GError (the caller owns it), or nil.
    func copyStreamError() -> UnsafeMutablePointer<GError>? { streamError.map { g_error_copy($0) } }

    /// Position for error messages: the input cursor or the output length.
    var position: Int { direction == .input ? windowOffset + cursor : written }

    // MARK: output

    /// Bytes this file has appended so far.
    var written: Int {
        guard let array, let sink else { return 0 }
        // SAFETY: `array` is the sink's live GByteArray (see init), held through `sink`.
        return sink.passedOn + Int(array.pointee.len) - outputStart
    }

    /// The most bytes the whole output may still take (the sink's limit), or nil for no limit.
    var outputLimit: Int? {
        guard let sink, let limit = sink.limit else { return nil }
        // SAFETY: an output file always has `array` (set from the sink in init), live as long as the sink.
        return limit - (sink.passedOn + Int(array!.pointee.len))
    }

    /// Appends `n` bytes written by `body` into the new space.
    ///
    /// The buffer's room comes from the sink (``OutputSink/makeRoom(_:)``) and `len` is
    /// advanced here by exactly `n`: it is exact whenever `body` returns, so C code called at
    /// any point sees the true length. When the sink cannot take the bytes (a full array, a
    /// failed stream) `body` is not called and the file's error is set.
    @inline(__always)
    func append(_ n: Int, _ body: (UnsafeMutableRawPointer) -> Void) {
        guard var array, n > 0 else {
            // A write into an input file: nothing is written, and the file says so (-EIO), as a
            // read from an output file does.
            if n > 0 && direction == .input { setError(-5) }
            return
        }
        // SAFETY: room check: `data` and `len` unchanged since the sink made room for `roomEnd` bytes and
        // `n <= roomEnd - old`, else `makeRoom(n)` made room for n more; so `data[old..<old + n]` is allocated.
        var old = Int(array.pointee.len)
        if _slowPath(array.pointee.data != roomData || old != roomLen || n > roomEnd - old) {
            if errorCode != 0 { return }  // QEMU writes nothing after a file error
            guard makeRoom(n) else { return }
            array = self.array!  // (a sink may give another buffer)
            old = Int(array.pointee.len)
        }
        body(UnsafeMutableRawPointer(array.pointee.data!) + old)
        array.pointee.len = guint(old + n)
        roomLen = old + n
    }

    /// Makes room for at least `n` more bytes, when the sink keeps that many in its buffer
    /// (a bounded stream buffer makes room only up to its size).
    func reserve(_ n: Int) {
        guard let array, let sink, n > 0, errorCode == 0 else { return }
        // SAFETY: `array` is the sink's live GByteArray (see init); only its header fields are read.
        let old = Int(array.pointee.len)
        if array.pointee.data != roomData || old != roomLen || n > roomEnd - old {
            _ = makeRoom(min(n, sink.reserveLimit ?? n))
        }
    }

    @inline(never)
    private func makeRoom(_ n: Int) -> Bool {
        guard let sink else { return false }
        let room = sink.makeRoom(n, self)
        let array = sink.buffer
        self.array = array
        guard let room else {
            roomData = nil
            roomEnd = 0
            return false
        }
        // SAFETY: as in `reserve`; the sink's answer is the allocation's size for this `data` and `len`.
        roomData = array.pointee.data
        roomLen = Int(array.pointee.len)
        roomEnd = room
        return true
    }

    /// Passes the buffered bytes on to the sink's stream (QEMU's `qemu_fflush`); false when
    /// the stream failed (now or before).
    @discardableResult
    func flush() -> Bool {
        guard let sink, streamError == nil else { return streamError == nil }
        let ok = sink.flush(self)
        array = sink.buffer
        roomData = nil
        return ok
    }

    // SAFETY (the four puts): `append(n)` hands `body` exactly n writable bytes; stores are of n bytes
    // (storeBytes takes any alignment for these trivial types).
    func putByte(_ v: UInt8) { append(1) { $0.storeBytes(of: v, as: UInt8.self) } }
    func putBE16(_ v: UInt16) { append(2) { $0.storeBytes(of: v.bigEndian, as: UInt16.self) } }
    func putBE32(_ v: UInt32) { append(4) { $0.storeBytes(of: v.bigEndian, as: UInt32.self) } }
    func putBE64(_ v: UInt64) { append(8) { $0.storeBytes(of: v.bigEndian, as: UInt64.self) } }

    func putBytes(_ source: UnsafeRawPointer?, _ n: Int) {
        guard n > 0 else { return }
        // More than a bounded buffer holds goes in pieces.
        if let chunk = sink?.reserveLimit, n > chunk {
            var done = 0
            while done < n && streamError == nil {
                let piece = min(chunk, n - done)
                // SAFETY: `source` holds `n` readable bytes (the caller's contract); `done + piece <= n`.
                putBytes(source.map { $0 + done }, piece)
                done += piece
            }
            return
        }
        append(n) { dest in
            if let source {
                // SAFETY: `dest` has n writable bytes (from `append`); `source` has n readable bytes (caller's
                // contract), not inside this file's own output buffer (which `append` may have moved).
                dest.copyMemory(from: source, byteCount: n)
            } else {
                dest.initializeMemory(as: UInt8.self, repeating: 0, count: n)
            }
        }
    }

    func putBytes(_ data: [UInt8]) {
        data.withUnsafeBytes { putBytes($0.baseAddress, $0.count) }
    }

    func putZeros(_ n: Int) { putBytes(nil, n) }

    // MARK: input

    /// The input's end offset when it is known (the source ended); else the end of the bytes
    /// read so far.
    var count: Int { windowOffset + end }

    /// Bytes left to read: exact when the source's end is known (a `GBytes`, a stream that
    /// ended), else a number larger than any read (reads then find out).
    var remaining: Int { source?.ended ?? true ? end - cursor : Int.max >> 2 }

    /// Bytes left in the window (read from the source, not consumed).
    var buffered: Int { end - cursor }

    /// Whether the source's end is known.
    var inputEnded: Bool { source?.ended ?? true }

    /// Makes `n` bytes available at the cursor, reading from the source; false when the input
    /// ends (or fails) first.
    @inline(__always)
    func ensure(_ n: Int) -> Bool {
        n <= end - cursor || refill(n)
    }

    @inline(never)
    private func refill(_ n: Int) -> Bool {
        guard let source, n >= 0, !source.ended else { return false }
        let keepFrom = min(cursor, mark.map { max(0, $0 - windowOffset) } ?? cursor)
        if let markLimit, mark != nil, cursor - keepFrom + n > markLimit {
            markLimitReached = true
            return false
        }
        guard let window = source.refill(keeping: keepFrom, end: end, need: cursor - keepFrom + n, self) else {
            return false
        }
        windowOffset += keepFrom
        cursor -= keepFrom
        base = window.baseAddress
        end = window.count
        return n <= end - cursor
    }

    /// How ``readAhead(limit:until:)`` ended.
    enum ReadAhead {
        /// `found` held.
        case found
        /// The input ended first (all of it is in the window).
        case ended
        /// More than `limit` bytes would have been held.
        case overLimit
        /// A read of the stream failed (its GError is recorded).
        case failed
    }

    /// Reads on into the window (keeping from the cursor or the mark) until `found` holds for
    /// the bytes held (the window, and the stream offset of its first byte), checked before
    /// each read and after it. Each read takes what the source has (one read call, at least one
    /// byte), so a stream whose writer has sent all and waits is not read again once `found`
    /// holds.
    func readAhead(limit: Int, until found: (UnsafeRawBufferPointer, Int) -> Bool) -> ReadAhead {
        while true {
            if withAllBytes({ found($0, windowOffset) }) { return .found }
            if inputEnded { return streamError == nil ? .ended : .failed }
            let held = end - min(cursor, mark.map { max(0, $0 - windowOffset) } ?? cursor)
            if held >= limit { return .overLimit }
            _ = refill(end - cursor + 1)
        }
    }

    /// Consumes `n` bytes and hands them to `body`; nil (and the -EIO file error) when fewer
    /// than `n` are left, in which case the cursor moves to the end as QEMU's does.
    @inline(__always)
    func take<R>(_ n: Int, _ body: (UnsafeRawPointer) -> R) -> R? {
        // SAFETY: `ensure(n)` made `base[cursor..<cursor + n]` valid window bytes; `body` must not keep `p`
        // (the window moves on the next refill).
        guard n >= 0, ensure(n), let base else {
            cursor = end
            setError(-5)
            return nil
        }
        let p = base + cursor
        cursor += n
        return body(p)
    }

    /// Hands the `n` bytes at the cursor and the end of the window to `body`, and consumes
    /// them when `body` returns true. False, with nothing consumed and no error recorded, when
    /// fewer than `n` bytes are left or `body` returned false.
    ///
    /// Also false while the file has an error, and, on a file that follows QEMU's end rule, when
    /// the `n` bytes are all that is left: the per-field path then checks the file's error after
    /// each element and looks for subsections at the end as QEMU does.
    @inline(__always)
    func consume(_ n: Int, _ body: (UnsafeRawPointer, UnsafeRawPointer) -> Bool) -> Bool {
        guard n >= 0, errorCode == 0, ensure(n), let base else { return false }
        // QEMU's end rule: a run that takes the very last bytes goes field by field.
        if peekPastEndFails && inputEnded && n == end - cursor { return false }
        // SAFETY: `ensure(n)` made `base[cursor..<end]` hold at least n window bytes; `body` gets the window
        // end to bound its own reads and does not keep the pointers.
        guard body(base + cursor, base + end) else { return false }
        cursor += n
        return true
    }

    /// The name in the subsection header at the cursor (0x05, length, name), when the whole
    /// name is there and starts with `parent` (QEMU's rule for a subsection of `parent`);
    /// nothing is consumed.
    ///
    /// QEMU 7.2's `vmstate_subsection_load` peeks the marker, then the length, then (when the
    /// length is at least the parent's name plus one) the name; each of those peeks that finds
    /// the end records -EIO on a file that follows QEMU's end rule (see `peekPastEndFails`).
    @inline(__always)
    func peekSubsection(of parent: UnsafeBufferPointer<UInt8>) -> UnsafeRawBufferPointer? {
        guard ensure(1), let first = base else {  // (an empty GBytes may have no data pointer)
            lookedPastEnd()
            return nil
        }
        // SAFETY: `ensure(1)` checked byte `cursor` is in the window; `base` re-read after each ensure
        // (a refill may move the window).
        guard first.load(fromByteOffset: cursor, as: UInt8.self) == 5 else { return nil }
        guard ensure(2), let header = base else {
            lookedPastEnd()
            return nil
        }
        // SAFETY: `ensure(2)` checked bytes `cursor` and `cursor + 1` are in the window.
        let len = Int(header.load(fromByteOffset: cursor + 1, as: UInt8.self))
        guard len >= parent.count + 1 else { return nil }
        guard ensure(2 + len), let base else {
            lookedPastEnd()
            return nil
        }
        // SAFETY: `ensure(2 + len)` checked the whole header (marker, length, name) is in the window.
        guard Codec.startsSubsection(base + cursor, end: base + end, of: parent) else { return nil }
        return UnsafeRawBufferPointer(start: base + cursor + 2, count: len)
    }

    /// The `n` bytes starting `offset` past the cursor, without consuming them; nil when they
    /// are not all there (which records -EIO on a file that follows QEMU's end rule).
    func peek(_ n: Int, at offset: Int = 0) -> UnsafeRawBufferPointer? {
        guard offset >= 0, n >= 0, offset <= Int.max - n else { return nil }
        guard ensure(offset + n) else {
            lookedPastEnd()
            return nil
        }
        guard let base else { return nil }
        // SAFETY: `ensure(offset + n)` checked (overflow excluded above); the view is valid until the next
        // read refills the window (callers copy or use it at once).
        return UnsafeRawBufferPointer(start: base + cursor + offset, count: n)
    }

    /// A copy of the input bytes from `start` up to `end` (offsets in the input, clamped to the
    /// bytes still in the window).
    func bytes(from start: Int, to stop: Int) -> [UInt8] {
        guard let base, start < stop else { return [] }
        let lo = max(0, start - windowOffset), hi = min(end, stop - windowOffset)
        // SAFETY: `0 <= lo < hi <= end`: the range lies in the window `base[0..<end]`; copied at once.
        return lo < hi ? Array(UnsafeRawBufferPointer(start: base + lo, count: hi - lo)) : []
    }

    /// The stream offset of the window's first byte (index 0 of ``withAllBytes(_:)``).
    var windowStartOffset: Int { windowOffset }

    /// The bytes in the window (all of a `GBytes` input), for scans such as finding the vmdesc
    /// at the end of the input.
    func withAllBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        // SAFETY: `base[0..<end]` is the window (a nil base only with `end == 0`); valid for the call.
        body(UnsafeRawBufferPointer(start: base, count: end))
    }

    /// Moves the cursor forward by `n` bytes; false (cursor at the end) when the input ends
    /// first. A stream source skips what is not in the window without keeping it.
    @discardableResult
    func skip(_ n: Int) -> Bool {
        let n = max(0, n)
        if n <= end - cursor {
            cursor += n
            return true
        }
        guard let source, !source.ended else {
            cursor = end
            return false
        }
        if mark != nil {
            // The marked bytes stay in the window.
            guard ensure(n) else {
                cursor = end
                return false
            }
            cursor += n
            return true
        }
        let beyond = n - (end - cursor)
        windowOffset += end
        cursor = 0
        end = 0
        let skipped = source.skip(beyond, self)
        windowOffset += skipped
        return skipped == beyond
    }

    // SAFETY (the four gets): `take(n)` hands a pointer with n window bytes; loadUnaligned for the
    // multi-byte values (the window has no alignment).
    func getByte() -> UInt8? { take(1) { $0.load(as: UInt8.self) } }
    func getBE16() -> UInt16? { take(2) { UInt16(bigEndian: $0.loadUnaligned(as: UInt16.self)) } }
    func getBE32() -> UInt32? { take(4) { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) } }
    func getBE64() -> UInt64? { take(8) { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) } }

    /// A big-endian unsigned integer of `width` bytes as QEMU's `qemu_get_be16/32/64` read it
    /// (migration/qemu-file.c): byte by byte, each read past the end giving 0 and recording
    /// -EIO. So a value cut short is its bytes that are there followed by zero bytes; `complete`
    /// says whether all were there. The cursor ends at the end of the input when it is short.
    func getPartial(_ width: Int) -> (value: UInt64, complete: Bool) {
        _ = ensure(width)
        let have = max(0, min(width, buffered))
        var value: UInt64 = 0
        if let base {
            // SAFETY: `have <= buffered == end - cursor`, so bytes `cursor..<cursor + have` are in the window.
            for i in 0..<have { value = value << 8 | UInt64(base.load(fromByteOffset: cursor + i, as: UInt8.self)) }
        }
        cursor += have
        if have < width {
            value <<= UInt64(8 * (width - have))
            setError(-5)
            return (value, false)
        }
        return (value, true)
    }

    /// Copies up to `n` bytes into `dest`; returns how many were available (fewer: the input
    /// ended, and the -EIO file error is set).
    func getBytes(into dest: UnsafeMutableRawPointer?, _ n: Int) -> Int {
        let n = max(0, n)
        var done = 0
        while done < n {
            if end == cursor && !refill(min(n - done, 1 << 16)) && end == cursor { break }
            let available = min(n - done, end - cursor)
            // SAFETY: `available <= end - cursor` bytes in the window; `dest` holds n bytes (caller's contract),
            // `done + available <= n`.
            if let base, let dest { (dest + done).copyMemory(from: base + cursor, byteCount: available) }
            cursor += available
            done += available
        }
        if done < n { setError(-5) }
        return done
    }
}
