import CGLib
import CVMState

/// The object behind a C `QEMUFile *`: an output that appends to a caller's `GByteArray`, or an
/// input that reads a `GBytes` with a cursor.
///
/// All access to the underlying bytes happens here, with the bounds check in one place
/// (`take(_:)` / `peek(_:at:)` for input, `append(_:)` for output); the rest of the engine asks
/// for values, not pointers.
final class MigrationFile {
    enum Direction { case input, output }
    let direction: Direction

    // Output: the caller's array (not owned), and its length when the file was created.
    private let array: UnsafeMutablePointer<GByteArray>?
    private let outputStart: Int
    // Output: room this file made in the array: its allocation holds at least `roomEnd` bytes
    // as long as `data` is still `roomData` and `len` is still `roomLen`, the length this file
    // left (anything else changing the array -- an append not through this file, a steal --
    // changes one of them, and the room is made again).
    @exclusivity(unchecked) private var roomData: UnsafeMutablePointer<UInt8>?
    @exclusivity(unchecked) private var roomLen = 0
    @exclusivity(unchecked) private var roomEnd = 0

    // Input: a reference to the caller's GBytes, its bytes, and the cursor.
    private let bytes: OpaquePointer?
    private let base: UnsafeRawPointer?
    let count: Int
    // (The hot state is exempt from dynamic exclusivity checks: a file is used by one thread at
    // a time, and no access to it overlaps another.)
    @exclusivity(unchecked) private(set) var cursor: Int = 0

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

    init(output: UnsafeMutablePointer<GByteArray>) {
        direction = .output
        array = output
        outputStart = Int(output.pointee.len)
        bytes = nil
        base = nil
        count = 0
        peekPastEndFails = false
    }

    init(input: OpaquePointer, peekPastEndFails: Bool = false) {
        direction = .input
        self.peekPastEndFails = peekPastEndFails
        array = nil
        outputStart = 0
        bytes = g_bytes_ref(input)
        var size: gsize = 0
        base = UnsafeRawPointer(g_bytes_get_data(input, &size))
        count = Int(size)
    }

    deinit {
        if let bytes { g_bytes_unref(bytes) }
    }

    // MARK: C handles

    /// The `QEMUFile *` for this object; the C caller owns one retain until `qemu_fclose`.
    func retainedHandle() -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(self).toOpaque())
    }

    /// A borrowed `QEMUFile *` for calls into C during an engine call that holds `self`.
    var handle: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ handle: OpaquePointer) -> MigrationFile {
        Unmanaged<MigrationFile>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    static func release(_ handle: OpaquePointer) {
        Unmanaged<MigrationFile>.fromOpaque(UnsafeRawPointer(handle)).release()
    }

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

    /// Position for error messages: the input cursor or the output length.
    var position: Int { direction == .input ? cursor : written }

    // MARK: output

    /// Bytes this file has appended so far.
    var written: Int { array.map { Int($0.pointee.len) - outputStart } ?? 0 }

    /// Appends `n` bytes written by `body` into the new space.
    ///
    /// The array grows geometrically (to powers of two, through `g_byte_array_set_size`, so GLib
    /// owns every allocation) and `len` is advanced here by exactly `n`: it is exact whenever
    /// `body` returns, so C code called at any point sees the true length.
    @inline(__always)
    func append(_ n: Int, _ body: (UnsafeMutableRawPointer) -> Void) {
        guard let array, n > 0 else { return }
        let old = Int(array.pointee.len)
        if _slowPath(array.pointee.data != roomData || old != roomLen || n > roomEnd - old) {
            if errorCode != 0 { return }  // QEMU writes nothing after a file error
            makeRoom(n)
        }
        body(UnsafeMutableRawPointer(array.pointee.data!) + old)
        array.pointee.len = guint(old + n)
        roomLen = old + n
    }

    /// Makes room for at least `n` more bytes without changing the contents.
    func reserve(_ n: Int) {
        guard let array, n > 0, errorCode == 0 else { return }
        let old = Int(array.pointee.len)
        if array.pointee.data != roomData || old != roomLen || n > roomEnd - old {
            makeRoom(n)
        }
    }

    /// Grows the array's allocation to hold `n` more bytes -- to the next power of two, the
    /// size GLib itself would allocate for it -- and leaves `len` as it was.
    @inline(never)
    private func makeRoom(_ n: Int) {
        guard let array else { return }
        let old = Int(array.pointee.len)
        var want = max(old + n, 256)
        if want & (want - 1) != 0 {
            want = min(1 << (Int.bitWidth - (want - 1).leadingZeroBitCount), max(Int(UInt32.max), old + n))
        }
        g_byte_array_set_size(array, guint(want))
        g_byte_array_set_size(array, guint(old))
        roomData = array.pointee.data
        roomLen = old
        roomEnd = want
    }

    func putByte(_ v: UInt8) { append(1) { $0.storeBytes(of: v, as: UInt8.self) } }
    func putBE16(_ v: UInt16) { append(2) { $0.storeBytes(of: v.bigEndian, as: UInt16.self) } }
    func putBE32(_ v: UInt32) { append(4) { $0.storeBytes(of: v.bigEndian, as: UInt32.self) } }
    func putBE64(_ v: UInt64) { append(8) { $0.storeBytes(of: v.bigEndian, as: UInt64.self) } }

    func putBytes(_ source: UnsafeRawPointer?, _ n: Int) {
        guard n > 0 else { return }
        append(n) { dest in
            if let source { dest.copyMemory(from: source, byteCount: n) } else { dest.initializeMemory(as: UInt8.self, repeating: 0, count: n) }
        }
    }

    func putBytes(_ data: [UInt8]) {
        data.withUnsafeBytes { putBytes($0.baseAddress, $0.count) }
    }

    func putZeros(_ n: Int) { putBytes(nil, n) }

    // MARK: input

    var remaining: Int { count - cursor }

    /// Consumes `n` bytes and hands them to `body`; nil (and the -EIO file error) when fewer
    /// than `n` are left, in which case the cursor moves to the end as QEMU's does.
    @inline(__always)
    func take<R>(_ n: Int, _ body: (UnsafeRawPointer) -> R) -> R? {
        guard n <= count - cursor, n >= 0, let base else {
            cursor = count
            setError(-5)
            return nil
        }
        let p = base + cursor
        cursor += n
        return body(p)
    }

    /// Hands the `n` bytes at the cursor and the end of the whole input to `body`, and consumes
    /// them when `body` returns true. False, with nothing consumed and no error recorded, when
    /// fewer than `n` bytes are left or `body` returned false.
    ///
    /// Also false while the file has an error, and, on a file that follows QEMU's end rule, when
    /// the `n` bytes are all that is left: the per-field path then checks the file's error after
    /// each element and looks for subsections at the end as QEMU does.
    @inline(__always)
    func consume(_ n: Int, _ body: (UnsafeRawPointer, UnsafeRawPointer) -> Bool) -> Bool {
        let left = count - cursor
        guard n >= 0, n < left || (n == left && !peekPastEndFails), errorCode == 0, let base else { return false }
        guard body(base + cursor, base + count) else { return false }
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
        let left = count - cursor
        guard left > 0, let base else {  // (an empty GBytes may have no data pointer)
            lookedPastEnd()
            return nil
        }
        guard base.load(fromByteOffset: cursor, as: UInt8.self) == 5 else { return nil }
        guard left > 1 else {
            lookedPastEnd()
            return nil
        }
        let len = Int(base.load(fromByteOffset: cursor + 1, as: UInt8.self))
        guard len >= parent.count + 1 else { return nil }
        guard len <= left - 2 else {
            lookedPastEnd()
            return nil
        }
        guard Codec.startsSubsection(base + cursor, end: base + count, of: parent) else { return nil }
        return UnsafeRawBufferPointer(start: base + cursor + 2, count: len)
    }

    /// The `n` bytes starting `offset` past the cursor, without consuming them; nil when they
    /// are not all there (which records -EIO on a file that follows QEMU's end rule).
    func peek(_ n: Int, at offset: Int = 0) -> UnsafeRawBufferPointer? {
        guard offset >= 0, n >= 0 else { return nil }
        guard offset <= count - cursor, n <= count - cursor - offset else {
            lookedPastEnd()
            return nil
        }
        guard let base else { return nil }
        return UnsafeRawBufferPointer(start: base + cursor + offset, count: n)
    }

    /// A copy of the input bytes from `start` up to `end` (absolute offsets, clamped).
    func bytes(from start: Int, to end: Int) -> [UInt8] {
        guard let base, start < end else { return [] }
        let lo = max(0, start), hi = min(count, end)
        return lo < hi ? Array(UnsafeRawBufferPointer(start: base + lo, count: hi - lo)) : []
    }

    /// All input bytes (for whole-stream scans such as finding the vmdesc).
    func withAllBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        body(UnsafeRawBufferPointer(start: base, count: count))
    }

    func skip(_ n: Int) { cursor = min(count, cursor + max(0, n)) }

    func getByte() -> UInt8? { take(1) { $0.load(as: UInt8.self) } }
    func getBE16() -> UInt16? { take(2) { UInt16(bigEndian: $0.loadUnaligned(as: UInt16.self)) } }
    func getBE32() -> UInt32? { take(4) { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) } }
    func getBE64() -> UInt64? { take(8) { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) } }

    /// A big-endian unsigned integer of `width` bytes as QEMU's `qemu_get_be16/32/64` read it
    /// (migration/qemu-file.c): byte by byte, each read past the end giving 0 and recording
    /// -EIO. So a value cut short is its bytes that are there followed by zero bytes; `complete`
    /// says whether all were there. The cursor ends at the end of the input when it is short.
    func getPartial(_ width: Int) -> (value: UInt64, complete: Bool) {
        let have = max(0, min(width, remaining))
        var value: UInt64 = 0
        if let base {
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

    /// Copies up to `n` bytes into `dest`; returns how many were available.
    func getBytes(into dest: UnsafeMutableRawPointer?, _ n: Int) -> Int {
        let available = max(0, min(n, remaining))
        if available > 0, let base, let dest {
            dest.copyMemory(from: base + cursor, byteCount: available)
        }
        cursor += available
        if available < n { setError(-5) }
        return available
    }
}
