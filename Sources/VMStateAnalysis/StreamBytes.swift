import CGLib
import Synchronization
import VMState
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of a migration stream: a file read through bounded memory maps (``StreamWindow``),
/// or a copy of an array. A stream read from a pipe is first copied to an unlinked temporary
/// file (in `$TMPDIR`, default /tmp), so memory stays bounded whatever the stream's size; pages
/// the analysis does not touch are never read from a regular file.
public final class StreamBytes: @unchecked Sendable {
    /// The file (regular, or the temporary copy of a pipe); -1 for bytes held in memory.
    private let fd: Int32
    /// Bytes held in memory (``init(_:origin:)``).
    private let copied: UnsafeRawPointer?
    /// Number of bytes.
    public let count: Int
    /// Where the bytes came from (a path, or "<memory>").
    public let origin: String
    /// The whole file mapped at once, made on first use of ``withUnsafeBytes(_:)`` (for JSON
    /// files; the analysis of a stream maps only bounded windows).
    private var whole: UnsafeRawPointer?
    /// Guards `whole` and `retired`.
    private let lock = Mutex(())
    /// The stopped prefetcher of the last window closed, whose thread may still be unmapping:
    /// waited for and freed here, by the reader, when the next is stopped or these bytes are
    /// freed.
    /// (Its thread never frees: glibc would give it an arena of its own, see `WindowPrefetcher`.)
    private var retired: WindowPrefetcher?
    /// The file's slot in ``ShrunkFileReport`` (-1: not watched).
    private let watchSlot: Int
    /// The file's modification time when it was opened (seconds, nanoseconds).
    private let openedModification: (Int, Int)

    /// Opens a file. Throws `StreamFileError` when it cannot be opened or read. `/dev/stdin` is
    /// standard input itself (descriptor 0, duplicated), not opened again by name: opening it
    /// by name fails for a pipe that belongs to another user.
    ///
    /// A pipe or device is copied only while its first bytes can start a migration stream or,
    /// with `acceptingJSON`, a JSON document (``couldStartInput(_:acceptingJSON:)``).
    public init(contentsOfFile path: String, acceptingJSON: Bool = true) throws(StreamFileError) {
        origin = path
        copied = nil
        var fd = path == "/dev/stdin" ? fcntl(0, F_DUPFD_CLOEXEC, 0) : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StreamFileError(path: path, operation: "open", reason: String(cString: strerror(errno)))
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw StreamFileError(path: path, operation: "stat", reason: reason)
        }
        if (st.st_mode & S_IFMT) != S_IFREG {
            // A pipe or a device: copy it to an unlinked temporary file, in 1 MiB pieces.
            let spool: Int32
            do { spool = try StreamBytes.spool(fd, path: path, acceptingJSON: acceptingJSON) } catch {
                close(fd)
                throw error
            }
            close(fd)
            fd = spool
            guard fstat(fd, &st) == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw StreamFileError(path: path, operation: "stat", reason: reason)
            }
        }
        self.fd = fd
        count = Int(st.st_size)
        openedModification = (Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec))
        watchSlot = ShrunkFileReport.watch(fd: fd, size: count, path: path)
    }

    /// Whether bytes that start so can start what the tool reads: a migration stream (magic
    /// "QEVM") or, with `acceptingJSON`, a JSON document (`{` or `[` after JSON's blanks and an
    /// optional UTF-8 byte order mark). Nil while `head` is too short to tell (a prefix of the
    /// magic or of the mark, or only blanks).
    static func couldStartInput(_ head: some Collection<UInt8>, acceptingJSON: Bool) -> Bool? {
        let magic = streamMagic, mark: [UInt8] = [0xEF, 0xBB, 0xBF]
        if head.starts(with: magic) { return true }
        if magic.starts(with: head) { return nil }
        guard acceptingJSON else { return false }
        var rest = head[...]
        if rest.starts(with: mark) {
            rest = rest.dropFirst(mark.count)
        } else if mark.starts(with: rest) {
            return nil
        }
        guard let first = rest.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return nil }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    /// A migration stream's first four bytes, "QEVM" (`StreamFormat.magic`, big-endian).
    package static let streamMagic = Swift.withUnsafeBytes(of: StreamFormat.magic.bigEndian) { Array($0) }

    /// The most JSON text the tool reads from one input (a vmdesc or `-dump-vmstate` file):
    /// 64 MiB. QEMU's are smaller (a vmdesc about 100 KB for a pc machine and 7.5 KB more per
    /// x86 vCPU, 30 MB for QEMU 10.0's most, 4,096; a `-dump-vmstate` file under 1 MB); what
    /// the parsed value may take is bounded apart (`JSONValue.parsedMemoryLimit`).
    public static let jsonTextLimit = 64 << 20

    /// Copies everything `fd` delivers into a new unlinked temporary file; returns its fd. Once
    /// its first bytes show it is neither a stream nor (`acceptingJSON`) JSON
    /// (``couldStartInput(_:acceptingJSON:)``), the copy stops there: what was copied is enough
    /// to say so, and an endless input (`/dev/zero`, `yes |`) does not fill `$TMPDIR` first.
    /// Throws `StreamFileError` when reading or writing fails, when the first MiB is only
    /// JSON's blanks, and when JSON goes on past ``jsonTextLimit``.
    private static func spool(_ fd: Int32, path: String, acceptingJSON: Bool) throws(StreamFileError) -> Int32 {
        let (out, dir, code) = makeUnlinkedTemporaryFile("vmstate-stream")
        guard out >= 0 else {
            throw StreamFileError(
                path: path, operation: "read",
                reason: "cannot make a temporary file in \(dir): " + String(cString: strerror(code)))
        }
        let size = 1 << 20
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { chunk.deallocate() }
        // The bytes read until they tell what the input is.
        var head: [UInt8] = []
        var undecided = true
        // JSON (not a stream): how much was copied, up to the limit.
        var json = false, copied = 0
        while true {
            let n = read(fd, chunk, size)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(out)
                throw StreamFileError(path: path, operation: "read", reason: reason)
            }
            if n == 0 { break }
            var stop = false
            if undecided {
                head.append(contentsOf: UnsafeRawBufferPointer(start: chunk, count: n))
                switch couldStartInput(head, acceptingJSON: acceptingJSON) {
                case true?:
                    undecided = false
                    json = !head.starts(with: streamMagic)
                case false?: stop = true
                case nil where head.count > 1 << 20:
                    close(out)
                    throw StreamFileError(
                        path: path, operation: "read",
                        reason: "its first \(head.count) bytes are only blanks: neither a migration stream nor JSON")
                case nil: break
                }
                if !undecided { head = [] }
            }
            copied += n
            if json && copied > jsonTextLimit {
                close(out)
                throw StreamFileError(
                    path: path, operation: "read",
                    reason:
                        "more than \(jsonTextLimit >> 20) MiB of JSON, more than the tool reads (QEMU's vmdescs and "
                        + "-dump-vmstate files take a few MiB at most)")
            }
            var done = 0
            while done < n {
                let w = write(out, chunk + done, n - done)
                if w < 0 {
                    if errno == EINTR { continue }
                    let reason = String(cString: strerror(errno))
                    close(out)
                    throw StreamFileError(
                        path: path, operation: "read", reason: "cannot copy to a temporary file in \(dir): " + reason)
                }
                done += w
            }
            if stop { break }
        }
        return out
    }

    /// Copies bytes held in memory.
    public init(_ bytes: [UInt8], origin: String = "<memory>") {
        self.origin = origin
        count = bytes.count
        fd = -1
        watchSlot = -1
        openedModification = (0, 0)
        if bytes.isEmpty {
            copied = nil
        } else {
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 16)
            bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            copied = UnsafeRawPointer(p)
        }
    }

    deinit {
        retired?.waitUntilFinished()
        if let whole { munmap(UnsafeMutableRawPointer(mutating: whole), count) }
        if let copied { UnsafeMutableRawPointer(mutating: copied).deallocate() }
        ShrunkFileReport.unwatch(watchSlot)
        if fd >= 0 { close(fd) }
    }

    /// A bounded window onto these bytes, for one sequential reader. With `prefetching`, a file
    /// of at least ``WindowPrefetcher/minimumCount`` bytes, read by a thread that may run on two
    /// or more processors (``WindowPrefetcher/allowedProcessorCount()``: not under `taskset -c
    /// 0`), is read through a ``WindowPrefetcher``: a second thread reads the cells ahead of
    /// the reader and releases those it has left, mapping or copying them as
    /// ``WindowPrefetcher/probeMode(fd:count:)`` finds faster for this file (or as `mode` says).
    package func makeWindow(prefetching: Bool = false, mode: WindowPrefetcher.Mode? = nil) -> StreamWindow {
        var prefetcher: WindowPrefetcher? = nil
        if prefetching && fd >= 0 && count >= WindowPrefetcher.minimumCount
            && WindowPrefetcher.allowedProcessorCount() >= 2
        {
            prefetcher = WindowPrefetcher.start(fd: fd, count: count, mode: mode)
        }
        return StreamWindow(self, fd: fd, copied: copied, prefetcher: prefetcher)
    }

    /// Takes a stopped prefetcher (its window is closed); waits for the one before it.
    fileprivate func retire(_ prefetcher: WindowPrefetcher) {
        let earlier = lock.withLock { _ in
            let earlier = retired
            retired = prefetcher
            return earlier
        }
        earlier?.waitUntilFinished()
    }

    /// `n` bytes at `offset` (clipped to the end), read without mapping.
    package func copyBytes(at offset: Int, count n: Int) -> [UInt8] {
        let n = max(0, min(n, count - offset))
        guard n > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: n) { out, done in
            done = readBytes(at: offset, into: UnsafeMutableRawBufferPointer(out))
        }
    }

    /// Reads up to `buffer.count` bytes at `offset` into `buffer` (clipped to the end), without
    /// mapping or allocating; returns how many were read (fewer only at the end, or when the
    /// file cannot be read).
    package func readBytes(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = max(0, min(buffer.count, count - offset))
        guard n > 0, let out = buffer.baseAddress else { return 0 }
        if let copied {
            // SAFETY: offset..<offset + n lies inside the copied bytes (n is clipped to them).
            out.copyMemory(from: copied + offset, byteCount: n)
            return n
        }
        var done = 0
        while done < n {
            let got = pread(fd, out + done, n - done, off_t(offset + done))
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            done += got
        }
        return done
    }

    /// Reads exactly `buffer.count` bytes at `offset` into `buffer`, like
    /// ``readBytes(at:into:)``. Throws `StreamFileError` when fewer are there: with no
    /// operation and ``shrinkReason()`` when the file became shorter, else operation "read" and
    /// the system's error or "the file ends at byte N".
    package func readExactly(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(StreamFileError) {
        let got = readBytes(at: offset, into: buffer)
        guard got < buffer.count else { return }
        let failure = errno
        if let shrunk = shrinkReason() { throw StreamFileError(path: origin, operation: "", reason: shrunk) }
        let reason =
            offset + got < count
            ? String(cString: strerror(failure))
            : "the file ends at byte \(count), \(buffer.count) bytes were needed at offset \(offset)"
        throw StreamFileError(path: origin, operation: "read", reason: reason)
    }

    /// When the file is now shorter than when it was opened (another program truncated or
    /// rewrote it, as QEMU's `file:` migration and `exec:cat > FILE` do): `the file became
    /// shorter while it was read (N bytes when opened, M now): another program truncated or
    /// rewrote it`, the words ``ShrunkFileReport`` uses for the SIGBUS of a mapped read. Nil
    /// otherwise, and for bytes held in memory. Readers call it when a read comes back short
    /// or a window cannot be mapped, to say why.
    package func shrinkReason() -> String? {
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) < count else { return nil }
        return
            "the file became shorter while it was read (\(count) bytes when opened, \(st.st_size) now): another program truncated or rewrote it"
    }

    /// When the file changed after it was opened (another program rewrote it: a save to the same
    /// path, `cat > FILE`): ``shrinkReason()`` when it is shorter, else that it has another size
    /// or modification time now. Nil otherwise, and for bytes held in memory. Errors of a stream
    /// read from such a file say so, since the bytes read may be half old and half new.
    package func changeReason() -> String? {
        if let shrunk = shrinkReason() { return shrunk }
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        if Int(st.st_size) != count {
            return
                "the file changed size while it was read (\(count) bytes when opened, \(st.st_size) now): another program rewrote it"
        }
        if (Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)) != openedModification {
            return "the file was modified while it was read: another program rewrote it"
        }
        return nil
    }

    /// The message for a window that could not be mapped (or copied): `PATH: ` and
    /// ``shrinkReason()`` when the file became shorter, else `otherwise`.
    package func mapFailure(_ otherwise: @autoclosure () -> String) -> String {
        shrinkReason().map { "\(origin): \($0)" } ?? otherwise()
    }

    /// All the bytes, the file mapped whole on first use; valid while this object is alive.
    /// Throws `StreamFileError` (operation "map") when the file cannot be mapped whole (as
    /// under a `ulimit -v` smaller than the file: the analysis uses ``makeWindow()`` instead).
    private func mapWhole() throws(StreamFileError) -> UnsafeRawBufferPointer {
        if let copied { return UnsafeRawBufferPointer(start: copied, count: count) }
        guard count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let failure: Int32? = lock.withLock { _ in
            guard whole == nil else { return nil }
            let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
            guard let p, p != MAP_FAILED else { return errno }
            whole = UnsafeRawPointer(p)
            return nil
        }
        if let failure {
            throw StreamFileError(
                path: origin, operation: "map",
                reason: "\(String(cString: strerror(failure))) (the whole file, \(count) bytes, is needed here)")
        }
        return UnsafeRawBufferPointer(start: whole, count: count)
    }

    /// Calls `body` with all the bytes (the file mapped whole); the buffer is valid only during
    /// the call. Throws `StreamFileError` when the file cannot be mapped, or what `body` throws.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let all = try mapWhole()
        return try withExtendedLifetime(self) { try body(all) }
    }

    /// A copy of some bytes.
    public subscript(range: Range<Int>) -> [UInt8] {
        copyBytes(at: range.lowerBound, count: range.count)
    }
}

/// A new file in `$TMPDIR` (default /tmp) named `prefix.XXXXXX`, unlinked at once, so that it
/// lives only as long as its descriptor: the descriptor (-1 on failure), the directory, and the
/// errno of a failure.
func makeUnlinkedTemporaryFile(_ prefix: String) -> (fd: Int32, directory: String, errno: Int32) {
    let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array((dir + "/" + prefix + ".XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { return (-1, dir, errno) }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    return (fd, dir, 0)
}

/// A bounded read-only memory map of part of a stream file (16 MiB, more only while one read
/// needs more), or a ``WindowPrefetcher``'s cell, moved along by a sequential reader.
/// ``map(at:minCount:)`` hands back a buffer indexed by absolute stream offsets: valid for indices
/// from the window's start (at most 4 KiB before the offset asked for, or the start of the
/// window's mapping when that already held the bytes asked for; with a prefetcher, the start of
/// the offset's cell) to its `count`; only those may be read, and only until the next call.
/// Bytes held in memory are handed back whole.
package final class StreamWindow {
    private let owner: StreamBytes
    private let fd: Int32
    private let copied: UnsafeRawPointer?
    private let prefetcher: WindowPrefetcher?
    /// The reader's own mapping (nil while it reads a prefetcher's window).
    private var mapped: UnsafeMutableRawPointer?
    private var mappedLength = 0
    /// The stream offset `mapped` starts at.
    private var mappedStart = 0
    /// The size of a window.
    package static let size = 16 << 20

    fileprivate init(_ owner: StreamBytes, fd: Int32, copied: UnsafeRawPointer?, prefetcher: WindowPrefetcher?) {
        self.owner = owner
        self.fd = fd
        self.copied = copied
        self.prefetcher = prefetcher
    }

    deinit {
        unmap()
        if let prefetcher {
            prefetcher.stop()
            owner.retire(prefetcher)
        }
    }

    /// Whether a ``WindowPrefetcher`` reads this window's cells.
    package var isPrefetching: Bool { prefetcher != nil }

    /// How the prefetcher reads the cells (nil without one).
    package var prefetchMode: WindowPrefetcher.Mode? { prefetcher?.mode }

    /// The prefetcher's cell size, lookahead, overlap and bound (nil without one).
    package var cellGeometry: (cellSize: Int, overlap: Int, lookahead: Int, bound: Int)? {
        prefetcher.map { ($0.cellSize, $0.overlap, $0.lookahead, $0.cellBound) }
    }

    /// How many of the prefetcher's cells are held (mapped or copied) now (0 without one).
    package var mappedCellCount: Int { prefetcher?.mappedCellCount ?? 0 }

    /// The addresses of the prefetcher's copy buffers (none without one, or in map mode).
    package var copyBufferAddresses: [UInt] { prefetcher?.bufferAddresses ?? [] }

    private func unmap() {
        if let mapped { munmap(mapped, mappedLength) }
        mapped = nil
    }

    /// Gives the pages of the window's own mapping that lie wholly inside stream offsets `range`
    /// back to the kernel (`madvise(MADV_DONTNEED)`): they stop counting in the tool's resident
    /// memory, and come back from the page cache if read again. For a reader that goes through
    /// a large mapping once (the vmdesc, up to 64 MiB of JSON: parsed forward, searched for
    /// backward). Does nothing for a stream held in memory or a prefetcher's cell.
    package func release(_ range: Range<Int>) {
        guard let mapped, prefetcher == nil, copied == nil else { return }
        let low = (max(range.lowerBound - mappedStart, 0) + 4095) & ~4095
        let high = min(range.upperBound - mappedStart, mappedLength)
        let end = high == mappedLength ? high : high & ~4095
        guard end > low else { return }
        // SAFETY: `mapped` is this window's own read-only file mapping of `mappedLength` bytes
        // (MAP_PRIVATE, never written): dropping its pages loses nothing, and low..<end lies
        // inside it, `low` page-aligned.
        madvise(mapped + low, end - low, MADV_DONTNEED)
    }

    /// A buffer indexed by stream offset that holds `offset..<offset + minCount` (clipped to the
    /// end of the stream), or an empty buffer when that cannot be mapped.
    package func map(at offset: Int, minCount: Int) -> UnsafeRawBufferPointer {
        let total = owner.count
        if let copied { return UnsafeRawBufferPointer(start: copied, count: total) }
        if let mapped, prefetcher == nil, offset >= mappedStart,
            offset + minCount <= mappedStart + mappedLength || mappedStart + mappedLength == total
        {
            // The mapping already holds what is asked for (a reader going back a little, as
            // the device sections read again one at a time): it is handed back, not remade.
            // SAFETY: as below.
            let virtualBase = UnsafeRawPointer(bitPattern: UInt(bitPattern: mapped) &- UInt(mappedStart))
            return UnsafeRawBufferPointer(start: virtualBase, count: mappedStart + mappedLength)
        }
        unmap()
        if let prefetcher, let found = prefetcher.cell(holding: offset, minCount: minCount) {
            // (A cell that cannot be copied: the file is shorter than it was. Mapping it would
            // raise SIGBUS when read; the caller reports the short buffer.)
            guard let cell = found else { return UnsafeRawBufferPointer(start: nil, count: 0) }
            // SAFETY: as below; the prefetcher keeps the cell (its mapping, or its buffer, which
            // never lies at the cell's offset) until the reader asks
            // for a later cell (which it does only through this function, after which this
            // buffer is no longer used).
            let virtualBase = UnsafeRawPointer(bitPattern: UInt(bitPattern: cell.base) &- UInt(cell.start))
            return UnsafeRawBufferPointer(start: virtualBase, count: cell.start + cell.length)
        }
        let start = offset & ~4095
        let length = min(total - start, max(StreamWindow.size, offset - start + minCount + 4096))
        guard length > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, off_t(start))
        guard let p, p != MAP_FAILED else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        mapped = p
        mappedLength = length
        mappedStart = start
        // SAFETY: the returned buffer starts `start` bytes before the mapping so that it is
        // indexed by stream offset; callers read only indices in start..<start + length, which
        // lie inside the mapping (the address arithmetic does not wrap: mappings lie far above
        // any stream offset a file can have on a 64-bit host).
        let virtualBase = UnsafeRawPointer(bitPattern: UInt(bitPattern: p) &- UInt(start))
        return UnsafeRawBufferPointer(start: virtualBase, count: start + length)
    }
}

/// Reads a large stream file for a sequential reader in fixed cells, with a second thread that
/// works ahead of the reader, in one of two ways (``Mode``), chosen for each file by
/// ``probeMode(fd:count:)``:
///
/// - ``Mode/map``: cells of 8 MiB, each a memory map of the file 64 KiB longer (so that a record
///   that starts in a cell is read whole from it). The thread maps the cell after the reader's,
///   touches one byte of each 4 KiB page (the kernel enters the page and its neighbours in the
///   page tables), stops as soon as the reader enters the cell, and unmaps the cells the reader
///   has left. At most the reader's cell, the one before it, the ``lookahead`` cells after it and
///   one the thread is still populating are mapped (the reader unmaps older cells itself): 32.3
///   MiB of the file. (Larger cells mean fewer `munmap` calls, each of which interrupts the other
///   thread to flush its TLB: 8 MiB cells were faster than 4 MiB ones, as fast as 12 MiB ones.)
/// - ``Mode/copy``: cells of 1 MiB, each copied with `pread`, 16 KiB longer, into one of seven
///   buffers allocated with the prefetcher (7.1 MiB, in 2 MiB pages where the kernel gives them).
///   The thread copies the ``lookahead`` cells after the reader's; a reader that finds its cell
///   still being copied copies a later one itself meanwhile, so both threads copy.
///
/// Why: reading a RAM page header costs little; getting the file page that holds it costs most
/// of an analysis (see docs/PERFORMANCE.md, "The analyzer"). When the page cache holds the file
/// in 2 MiB folios (Linux 6.16+ with ext4, after the file was read from disk) a map enters each
/// folio with one page-table entry, and mapping is far cheaper than copying. When it holds it in
/// small folios (as QEMU's small writes leave it) a map enters every 4 KiB page (about 0.4 µs a
/// page with the unmapping, on a virtual machine), and copying the bytes is cheaper: the kernel
/// copies from its own huge-page map of memory. The second thread halves the cost where the host
/// runs both threads at once.
///
/// The thread never calls malloc or free: its cells are in a table (and the copy buffers in one
/// map) allocated with the prefetcher, and the reader frees the prefetcher once the thread is
/// done with it. (glibc gives a thread that allocates an arena of its own, 64 MiB of address
/// space reserved, 128 MiB while it is made, which `ulimit -v` counts: more than the cells.)
package final class WindowPrefetcher: @unchecked Sendable {
    /// How the cells are read.
    package enum Mode: Sendable, Equatable {
        /// Cells of 8 MiB mapped from the file (mapped 64 KiB longer), one mapped ahead.
        case map
        /// Cells of 1 MiB copied into buffers (16 KiB longer), up to four copied ahead.
        case copy
    }

    /// Files smaller than this are read without a second thread (starting it costs more).
    package static let minimumCount = 64 << 20
    /// (The sum of the bytes ``probeMode(fd:count:)`` touched, stored so that the loads are not
    /// optimized away.)
    private static let probeSum = Atomic<UInt8>(0)

    /// How the cells are read.
    package let mode: Mode
    /// The cell size.
    package let cellSize: Int
    /// How much longer than a cell each cell's map or copy is.
    package let overlap: Int
    /// How many cells after the reader's are read ahead.
    package let lookahead: Int
    /// At most this many cells are held (mapped or copied) at once, whatever the thread's pace.
    package let cellBound: Int

    private let fd: Int32
    private let count: Int
    private let cellCount: Int
    /// The cell the reader reads; -1 before its first. Written under `mutex`, read by the
    /// thread between pages to stop populating a cell the reader has reached.
    private let readerCell = Atomic<Int>(-1)
    private let stopping = Atomic<Bool>(false)
    /// (On the heap: a pthread object must not move.)
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var thread = pthread_t()
    /// The state of a slot's cell (``Mode/copy``; a mapped cell is `ready` once mapped).
    private enum CellState { case free, copying, ready, failed }
    /// A held cell, or a free slot (`index` -1).
    private struct Slot {
        var index = -1
        var base: UnsafeMutableRawPointer? = nil
        var length = 0
        var state = CellState.free
    }
    /// How many slots there are. Mapped cells: twice the bound, with room to spare (when none is
    /// free the thread maps nothing and the reader maps its own window). Copied cells: one buffer
    /// each, the bound.
    private let slotCount: Int
    // Under `mutex`:
    /// The cells held.
    private let cells: UnsafeMutablePointer<Slot>
    /// (``Mode/copy``) The buffers, `bufferSize` bytes each, slot `i` owning the `i`th; fixed.
    private let buffers: UnsafeMutableRawPointer?
    private let bufferSize: Int
    /// (``Mode/copy``) The map that holds the buffers, from a 2 MiB boundary in it on.
    private let pool: UnsafeMutableRawPointer?
    private let poolLength: Int
    /// (``Mode/map``) The next cell the thread maps.
    private var nextCell = 0
    /// (``Mode/map``) The cell the thread is populating (outside the mutex), which only it may
    /// unmap.
    private var populating = -1
    /// Whether the thread is done: it has unmapped its cells and uses this object no more once
    /// it unlocks the mutex.
    private var finished = false
    /// (A sum of the bytes touched, stored so that the loads are not optimized away.)
    private var touched: UInt8 = 0

    private init?(fd: Int32, count: Int, mode: Mode) {
        self.fd = fd
        self.count = count
        self.mode = mode
        switch mode {
        case .map:
            (cellSize, overlap, lookahead) = (8 << 20, 64 << 10, 1)
            cellBound = lookahead + 3
            slotCount = 2 * cellBound
            bufferSize = 0
            buffers = nil
            pool = nil
            poolLength = 0
        case .copy:
            (cellSize, overlap, lookahead) = (1 << 20, 16 << 10, 4)
            // The reader's cell, those ahead, one the thread may still be copying after the
            // reader jumped back, and one to spare.
            cellBound = lookahead + 3
            slotCount = cellBound
            bufferSize = cellSize + overlap
            // In 2 MiB pages where the kernel has them to give (transparent huge pages, which
            // Debian enables on request): four page faults instead of 1,800 when the buffers are
            // first written (measured: 2 ms less on the 201 MiB stream), and fewer TLB misses
            // while the kernel copies into them.
            let huge = 2 << 20
            // The buffers start a page past the 2 MiB boundary, so that none lies at a multiple
            // of the cell size: at an address equal to the offset of the cell it holds, the
            // buffer ``StreamWindow/map(at:minCount:)`` returns (indexed by stream offset) would
            // start at address 0, nil, and be empty. (Where maps lie below the file's size, as
            // under valgrind: there the pool's boundary was at 88 MiB, and the reader of a 201
            // MiB stream found cell 88 empty.)
            let page = 4096
            poolLength = (page + slotCount * bufferSize + huge - 1) / huge * huge + huge
            let pool = mmap(nil, poolLength, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let pool, pool != MAP_FAILED else { return nil }
            self.pool = pool
            // SAFETY: the first 2 MiB boundary in the pool; `huge` bytes were added for it.
            let aligned = pool + (huge - Int(bitPattern: UInt(bitPattern: pool)) % huge) % huge
            #if os(Linux)
                madvise(aligned, poolLength - huge, MADV_HUGEPAGE)
            #endif
            buffers = aligned + page
        }
        cellCount = (count + cellSize - 1) / cellSize
        cells = UnsafeMutablePointer<Slot>.allocate(capacity: slotCount)
        cells.initialize(repeating: Slot(), count: slotCount)
        if let buffers {
            for i in 0..<slotCount { cells[i].base = buffers + i * bufferSize }
        }
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    deinit {
        if mode == .map {
            for i in 0..<slotCount where cells[i].index >= 0 { munmap(cells[i].base, cells[i].length) }
        }
        if let pool { munmap(pool, poolLength) }
        cells.deallocate()
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        wake.deallocate()
        mutex.deallocate()
    }

    /// A prefetcher with its thread running, reading cells in `mode` (nil: the mode
    /// ``probeMode(fd:count:)`` finds faster for this file), or nil when the thread cannot be
    /// started (the reader then maps its own windows).
    static func start(fd: Int32, count: Int, mode: Mode? = nil) -> WindowPrefetcher? {
        guard let prefetcher = WindowPrefetcher(fd: fd, count: count, mode: mode ?? probeMode(fd: fd, count: count))
        else { return nil }
        // The generic metadata the thread's code uses (the atomics), instantiated here: an
        // unoptimized build looks it up at run time, and the first lookup allocates. With that
        // and the slot table, the thread never calls malloc (see `cells`).
        _ = prefetcher.readerCell.load(ordering: .relaxed)
        _ = prefetcher.stopping.load(ordering: .relaxed)
        _ = prefetcher.slot(-1)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, 256 << 10)
        // Unretained: the thread must not release the prefetcher (the last release frees it, and
        // a thread that frees gets a glibc arena); the reader keeps it until the thread is done
        // with it (`StreamBytes.retire`, `waitUntilFinished()`).
        let context = Unmanaged.passUnretained(prefetcher).toOpaque()
        let started = pthread_create(
            &prefetcher.thread, &attributes,
            { context in
                // SAFETY: `context` is the prefetcher, which is released only after
                // `waitUntilFinished()`, and `run()` is the thread's last use of it.
                Unmanaged<WindowPrefetcher>.fromOpaque(context!).takeUnretainedValue().run()
                return nil
            }, context)
        return started == 0 ? prefetcher : nil
    }

    /// The faster way to read the file `fd` (`count` bytes): the 2 MiB from the 2 MiB boundary
    /// at or before its middle are mapped and one byte of each 4 KiB page touched (a file with
    /// fewer bytes there, shorter than 2 MiB: ``Mode/copy``).
    /// When the page cache holds them in a 2 MiB folio the kernel enters it with one page-table
    /// entry (about 10–30 ns a 4 KiB page, measured), and mapping is cheaper than copying; when it
    /// holds them in small folios it enters each page (about 400 ns a page), and copying is
    /// cheaper. Over 100 ns a page: ``Mode/copy`` (so also for a file not in the page cache).
    package static func probeMode(fd: Int32, count: Int) -> Mode {
        let span = 2 << 20
        let offset = (count / 2) & ~(span - 1)
        guard offset + span <= count else { return .copy }
        var before = timespec()
        var after = timespec()
        clock_gettime(CLOCK_MONOTONIC, &before)
        let p = mmap(nil, span, PROT_READ, MAP_PRIVATE, fd, off_t(offset))
        guard let p, p != MAP_FAILED else { return .copy }
        // SAFETY: 0..<span is the mapping.
        let sum = touchPages(p, from: 0, to: span)
        clock_gettime(CLOCK_MONOTONIC, &after)
        munmap(p, span)
        probeSum.store(sum, ordering: .relaxed)
        let nanoseconds = (after.tv_sec - before.tv_sec) * 1_000_000_000 + (after.tv_nsec - before.tv_nsec)
        return nanoseconds < 100 * (span / 4096) ? .map : .copy
    }

    /// Stops the thread: it reads no cell after this returns, unmaps every mapped cell and
    /// returns (without this thread waiting for it, so that the unmapping overlaps the caller's
    /// next work; ``waitUntilFinished()`` waits). The reader calls it once, when it is done with
    /// every buffer it was given. (The thread is detached: nothing joins it, and it frees its
    /// stack itself when it exits, as a process that ends with it still unmapping wants.)
    func stop() {
        pthread_mutex_lock(mutex)
        stopping.store(true, ordering: .relaxed)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        pthread_detach(thread)
    }

    /// Waits, after ``stop()``, until the thread has unmapped its cells and no longer uses this
    /// object (its last act is to unlock the mutex), so that it may be freed.
    func waitUntilFinished() {
        pthread_mutex_lock(mutex)
        while !finished { pthread_cond_wait(wake, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// How many processors the calling thread may run on (a thread it starts inherits that):
    /// its affinity mask counted (`sched_getaffinity`, which `taskset` and cgroup cpusets
    /// narrow), else GLib's `g_get_num_processors`. (GLib 2.74, Debian 12's, counts the online
    /// processors only: 2 under `taskset -c 0` on a 2-processor host.)
    package static func allowedProcessorCount() -> Int {
        #if os(Linux)
            // sched_getaffinity is a GNU function that Swift's Glibc module does not import.
            typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32
            if let symbol = dlsym(dlopen(nil, RTLD_NOW), "sched_getaffinity") {
                // SAFETY: glibc's and musl's sched_getaffinity(pid_t, size_t, cpu_set_t *) -> int;
                // it writes at most the `MemoryLayout<cpu_set_t>.size` bytes it is given.
                let getAffinity = unsafeBitCast(symbol, to: GetAffinity.self)
                var mask = cpu_set_t()
                if getAffinity(0, MemoryLayout<cpu_set_t>.size, &mask) == 0 {
                    let n = withUnsafeBytes(of: &mask) { $0.reduce(0) { $0 + $1.nonzeroBitCount } }
                    if n > 0 { return n }
                }
            }
        #endif
        return Int(g_get_num_processors())
    }

    /// The addresses of the copy buffers (``Mode/copy``; none in map mode).
    var bufferAddresses: [UInt] {
        guard let buffers else { return [] }
        return (0..<slotCount).map { UInt(bitPattern: buffers + $0 * bufferSize) }
    }

    /// How many cells are held (mapped, or copied or being copied) now.
    var mappedCellCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        var n = 0
        for i in 0..<slotCount where cells[i].index >= 0 { n += 1 }
        return n
    }

    /// The first slot whose cell index (-1 when free) passes `test`, or nil. Under `mutex`.
    /// (A plain loop: generic code such as `Range.first(where:)` can make the Swift runtime
    /// instantiate metadata, which allocates, when the thread runs it in an unoptimized build.)
    private func firstSlot(where test: (Int) -> Bool) -> Int? {
        var i = 0
        while i < slotCount {
            if test(cells[i].index) { return i }
            i += 1
        }
        return nil
    }

    /// The slot holding cell `k` (`k` -1: a free slot), or nil. Under `mutex`.
    private func slot(_ k: Int) -> Int? { firstSlot { $0 == k } }

    private func cellLength(_ k: Int) -> Int {
        min(count - k * cellSize, cellSize + overlap)
    }

    /// The cell that holds `offset..<offset + minCount` (clipped to the end of the file): its
    /// bytes, its first offset and its length. Nil when no cell holds it all or the cell cannot
    /// be mapped (the reader maps such a read itself); `.some(nil)` when the cell cannot be
    /// copied (the file is shorter than it was). From this call on the reader reads only this
    /// cell: the cells before it are unmapped or reused.
    func cell(holding offset: Int, minCount: Int) -> (base: UnsafeRawPointer, start: Int, length: Int)?? {
        let k = offset / cellSize
        let start = k * cellSize
        let length = cellLength(k)
        guard k < cellCount, min(offset + minCount, count) <= start + length else { return nil }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if k < readerCell.load(ordering: .relaxed) { nextCell = k + 1 }  // (a jump back)
        readerCell.store(k, ordering: .relaxed)
        pthread_cond_broadcast(wake)
        switch mode {
        case .map:
            return mappedCell(k).map { .some((UnsafeRawPointer($0), start, length)) }
        case .copy:
            return .some(copiedCell(k).map { (UnsafeRawPointer($0), start, length) })
        }
    }

    /// (``Mode/map``, under `mutex`) Cell `k`'s mapping, mapped now if the thread has not.
    private func mappedCell(_ k: Int) -> UnsafeMutableRawPointer? {
        // The thread unmaps the cells the reader has left; the reader unmaps those the thread
        // has not got to yet, and those mapped ahead of where it was before a jump back, so
        // that what stays mapped is bounded even when the thread is not run.
        for i in 0..<slotCount {
            let j = cells[i].index
            if j >= 0 && (j < k - 1 || j > k + lookahead) && j != populating {
                munmap(cells[i].base, cells[i].length)
                cells[i] = Slot()
            }
        }
        if let i = slot(k), let base = cells[i].base { return base }
        guard let free = slot(-1) else { return nil }
        let length = cellLength(k)
        let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, off_t(k * cellSize))
        guard let p, p != MAP_FAILED else { return nil }
        cells[free] = Slot(index: k, base: p, length: length, state: .ready)
        return p
    }

    /// (``Mode/copy``, under `mutex`) Cell `k`'s buffer once it is copied: copied now if no
    /// thread has begun it; while the thread copies it, this thread copies a later cell or waits.
    /// Nil when the cell cannot be read (the file is shorter than it was).
    private func copiedCell(_ k: Int) -> UnsafeMutableRawPointer? {
        while true {
            if let i = slot(k) {
                switch cells[i].state {
                case .ready: return cells[i].base
                case .failed:
                    cells[i].index = -1
                    cells[i].state = .free
                    return nil
                case .copying, .free:
                    if let (j, free) = nextCopy(from: k + 1, reader: k) {
                        copy(j, into: free)
                    } else {
                        pthread_cond_wait(wake, mutex)
                    }
                }
            } else if let free = reusableSlot(reader: k) {
                copy(k, into: free)
            } else {
                pthread_cond_wait(wake, mutex)
            }
        }
    }

    /// (Under `mutex`) A slot whose cell the reader, in cell `reader`, no longer needs nor will
    /// soon: not `reader` to `reader` + ``lookahead``, nor being copied.
    private func reusableSlot(reader: Int) -> Int? {
        var i = 0
        while i < slotCount {
            let j = cells[i].index
            if cells[i].state != .copying && (j < reader || j > reader + lookahead) { return i }
            i += 1
        }
        return nil
    }

    /// (Under `mutex`) The first cell from `first` to the reader's cell + ``lookahead`` that no
    /// slot holds, and a slot to copy it into; nil when there is none.
    private func nextCopy(from first: Int, reader: Int) -> (cell: Int, slot: Int)? {
        var j = first
        while j <= reader + lookahead && j < cellCount {
            if slot(j) == nil {
                guard let free = reusableSlot(reader: reader) else { return nil }
                return (j, free)
            }
            j += 1
        }
        return nil
    }

    /// (Under `mutex`, which it releases while it copies) Copies cell `k` into slot `i`'s buffer
    /// with `pread`, marks it ready (or failed) and wakes a thread waiting for it.
    private func copy(_ k: Int, into i: Int) {
        let length = cellLength(k)
        cells[i].index = k
        cells[i].length = length
        cells[i].state = .copying
        // SAFETY: slot i's buffer is `bufferSize` >= `length` bytes, fixed for the prefetcher's
        // life; while the slot is `copying` no other thread reads or writes it.
        let base = buffers! + i * bufferSize
        pthread_mutex_unlock(mutex)
        var done = 0
        while done < length {
            let n = pread(fd, base + done, length - done, off_t(k * cellSize + done))
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        pthread_mutex_lock(mutex)
        cells[i].state = done == length ? .ready : .failed
        pthread_cond_broadcast(wake)
    }

    /// The thread: reads the cells after the reader's, releases those before it, sleeps when
    /// there is nothing to do.
    private func run() {
        pthread_mutex_lock(mutex)
        while !stopping.load(ordering: .relaxed) {
            if mode == .map ? mapAhead() : copyAhead() { continue }
            pthread_cond_wait(wake, mutex)
        }
        while let i = firstSlot(where: { $0 >= 0 }) {
            if mode == .copy {
                cells[i].index = -1  // (the slot keeps its buffer)
                cells[i].state = .free
                continue
            }
            let left = cells[i]
            cells[i] = Slot()
            pthread_mutex_unlock(mutex)
            munmap(left.base, left.length)
            pthread_mutex_lock(mutex)
        }
        finished = true
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
    }

    /// (``Mode/copy``, the thread, under `mutex`) Copies the next cell ahead of the reader (from
    /// cell 0 before its first); false when there is none to copy.
    private func copyAhead() -> Bool {
        let reader = max(readerCell.load(ordering: .relaxed), 0)
        guard let (k, i) = nextCopy(from: reader, reader: reader) else { return false }
        copy(k, into: i)
        return true
    }

    /// (``Mode/map``, the thread, under `mutex`) Unmaps a cell the reader has left, or maps and
    /// populates the next cell ahead of it; false when there is nothing to do.
    private func mapAhead() -> Bool {
        let reader = readerCell.load(ordering: .relaxed)
        // (One at a time, the slot freed under the mutex, unmapped outside it.)
        if let i = firstSlot(where: { $0 >= 0 && $0 < reader }) {
            let left = cells[i]
            cells[i] = Slot()
            pthread_mutex_unlock(mutex)
            munmap(left.base, left.length)
            pthread_mutex_lock(mutex)
            return true
        }
        nextCell = max(nextCell, reader + 1)
        // (Before the reader's first cell, while it reads the vmdesc at the end of the file,
        // the cells a reader in cell 0 would have ahead, and cell 0.)
        guard nextCell < cellCount && nextCell <= max(reader, 0) + lookahead else { return false }
        let k = nextCell
        nextCell += 1
        if slot(k) != nil { return true }
        guard let free = slot(-1) else { return true }
        let length = cellLength(k)
        let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, off_t(k * cellSize))
        guard let p, p != MAP_FAILED else { return true }
        cells[free] = Slot(index: k, base: p, length: length, state: .ready)
        populating = k
        pthread_mutex_unlock(mutex)
        populate(k, UnsafeRawPointer(p), length)
        pthread_mutex_lock(mutex)
        populating = -1
        return true
    }

    /// Touches one byte of each 4 KiB page of cell `k` (mapped at `base`, `length` bytes), in
    /// order, until the reader reaches the cell or the prefetcher stops.
    private func populate(_ k: Int, _ base: UnsafeRawPointer, _ length: Int) {
        var offset = 0
        // (In 64 KiB steps, checking between them.)
        while offset < length && readerCell.load(ordering: .relaxed) < k && !stopping.load(ordering: .relaxed) {
            let end = min(offset + 0x10000, length)
            // SAFETY: offset..<end lies in the cell's mapping, which nobody unmaps while it is
            // `populating`.
            touched &+= WindowPrefetcher.touchPages(base, from: offset, to: end)
            offset = end
        }
    }

    /// Loads one byte of each 4 KiB page of `base[start..<end]` (`start` at a page) and returns
    /// their sum, for the caller to store so that the loads are not optimized away. The caller
    /// keeps those bytes mapped. (Plain integers and a loop: the prefetching thread calls it, and
    /// must not make an unoptimized build instantiate generic metadata, which allocates.)
    private static func touchPages(_ base: UnsafeRawPointer, from start: Int, to end: Int) -> UInt8 {
        var sum: UInt8 = 0
        var offset = start
        while offset < end {
            // SAFETY: start <= offset < end, inside the caller's mapping.
            sum &+= base.load(fromByteOffset: offset, as: UInt8.self)
            offset += 4096
        }
        return sum
    }
}

/// A stream file that cannot be opened or read.
public struct StreamFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// "open", "stat", "read" or "map"; empty when the file changed while it was read (the
    /// reason says how).
    public var operation: String
    /// The system's explanation (strerror).
    public var reason: String

    /// The error of `operation` on `path`.
    public init(path: String, operation: String, reason: String) {
        self.path = path
        self.operation = operation
        self.reason = reason
    }

    /// `cannot OPERATION PATH: REASON`, or `PATH: REASON` with no operation.
    public var description: String {
        operation.isEmpty ? "\(path): \(reason)" : "cannot \(operation) \(path): \(reason)"
    }
}
