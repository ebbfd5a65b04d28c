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

    /// Opens a file. Throws `StreamFileError` when it cannot be opened or read.
    public init(contentsOfFile path: String) throws(StreamFileError) {
        origin = path
        copied = nil
        var fd = open(path, O_RDONLY | O_CLOEXEC)
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
            do { spool = try StreamBytes.spool(fd, path: path) } catch {
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
    }

    /// Copies everything `fd` delivers into a new unlinked temporary file; returns its fd.
    private static func spool(_ fd: Int32, path: String) throws(StreamFileError) -> Int32 {
        let (out, dir, code) = makeUnlinkedTemporaryFile("vmstate-stream")
        guard out >= 0 else {
            throw StreamFileError(
                path: path, operation: "read",
                reason: "cannot make a temporary file in \(dir): " + String(cString: strerror(code)))
        }
        let size = 1 << 20
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = read(fd, chunk, size)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(out)
                throw StreamFileError(path: path, operation: "read", reason: reason)
            }
            if n == 0 { break }
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
        }
        return out
    }

    /// Copies bytes held in memory.
    public init(_ bytes: [UInt8], origin: String = "<memory>") {
        self.origin = origin
        count = bytes.count
        fd = -1
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
        if fd >= 0 { close(fd) }
    }

    /// A bounded window onto these bytes, for one sequential reader. With `prefetching`, a file
    /// of at least ``WindowPrefetcher/minimumCount`` bytes, read by a thread that may run on two
    /// or more processors (``WindowPrefetcher/allowedProcessorCount()``: not under `taskset -c
    /// 0`), is read through a ``WindowPrefetcher``: a second thread maps the windows ahead of
    /// the reader and unmaps those it has left.
    package func makeWindow(prefetching: Bool = false) -> StreamWindow {
        var prefetcher: WindowPrefetcher? = nil
        if prefetching && fd >= 0 && count >= WindowPrefetcher.minimumCount
            && WindowPrefetcher.allowedProcessorCount() >= 2
        {
            prefetcher = WindowPrefetcher.start(fd: fd, count: count)
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
/// needs more), moved along by a sequential reader. ``map(at:minCount:)`` hands back a buffer
/// indexed by absolute stream offsets: valid for indices from the window's start (at most 4 KiB
/// before the offset asked for; with a ``WindowPrefetcher``, the start of the offset's 8 MiB
/// cell) to its `count`; only those may be read, and only until the next call. Bytes held in
/// memory are handed back whole.
package final class StreamWindow {
    private let owner: StreamBytes
    private let fd: Int32
    private let copied: UnsafeRawPointer?
    private let prefetcher: WindowPrefetcher?
    /// The reader's own mapping (nil while it reads a prefetcher's window).
    private var mapped: UnsafeMutableRawPointer?
    private var mappedLength = 0
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

    /// Whether a ``WindowPrefetcher`` maps this window's cells.
    package var isPrefetching: Bool { prefetcher != nil }

    /// How many of the prefetcher's cells are mapped now (0 without one).
    package var mappedCellCount: Int { prefetcher?.mappedCellCount ?? 0 }

    private func unmap() {
        if let mapped { munmap(mapped, mappedLength) }
        mapped = nil
    }

    /// A buffer indexed by stream offset that holds `offset..<offset + minCount` (clipped to the
    /// end of the stream), or an empty buffer when that cannot be mapped.
    package func map(at offset: Int, minCount: Int) -> UnsafeRawBufferPointer {
        let total = owner.count
        if let copied { return UnsafeRawBufferPointer(start: copied, count: total) }
        unmap()
        if let prefetcher, let cell = prefetcher.cell(holding: offset, minCount: minCount) {
            // SAFETY: as below; the prefetcher keeps the cell's mapping until the reader asks
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
        // SAFETY: the returned buffer starts `start` bytes before the mapping so that it is
        // indexed by stream offset; callers read only indices in start..<start + length, which
        // lie inside the mapping (the address arithmetic does not wrap: mappings lie far above
        // any stream offset a file can have on a 64-bit host).
        let virtualBase = UnsafeRawPointer(bitPattern: UInt(bitPattern: p) &- UInt(start))
        return UnsafeRawBufferPointer(start: virtualBase, count: start + length)
    }
}

/// Maps a large stream file for a sequential reader in fixed cells of 8 MiB (each mapped 64 KiB
/// longer, so that a record that starts in a cell is read whole from it), with a second thread
/// that maps and populates the cell ahead of the reader and unmaps the cells it has left.
///
/// Why: reading a RAM page header costs little; entering the file page that holds it in the page
/// tables (about 0.25 µs a page when the page cache holds the file in small folios, as after
/// QEMU's small writes) and removing it again cost most of an analysis (see docs/PERFORMANCE.md,
/// "The analyzer"). The second thread takes that work off the reader where the host runs both
/// threads at once. It only touches one byte of each 4 KiB page of a cell (the kernel maps the
/// page and its neighbours), and stops a cell as soon as the reader enters it. Whatever the
/// thread's pace, at most the reader's cell, the one before it, the ``lookahead`` cells after it
/// and one the thread is still populating are mapped (the reader unmaps older cells itself): at
/// most 32.3 MiB of the file resident. (Larger cells mean fewer `munmap` calls, each of which
/// interrupts the other thread to flush its TLB: 8 MiB cells were faster than 4 MiB ones, as fast
/// as 12 MiB ones.)
package final class WindowPrefetcher: @unchecked Sendable {
    /// Files smaller than this are read without a second thread (starting it costs more).
    package static let minimumCount = 64 << 20
    /// The cell size.
    package static let cellSize = 8 << 20
    /// How much longer than a cell each cell's mapping is.
    package static let overlap = 64 << 10
    /// How many cells after the reader's are mapped ahead.
    package static let lookahead = 1

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
    /// A mapped cell, or a free slot (`index` -1).
    private struct Slot {
        var index = -1
        var base: UnsafeMutableRawPointer? = nil
        var length = 0
    }
    /// How many slots there are: the bound (``lookahead`` + 3), with room to spare; when none
    /// is free the thread maps nothing and the reader maps its own window.
    private static let slotCount = 2 * (lookahead + 3)
    // Under `mutex`:
    /// The mapped cells, in a table allocated once, with the prefetcher: the thread never calls
    /// malloc or free. (glibc gives a thread that does an arena of its own, 64 MiB of address
    /// space reserved, 128 MiB while it is made, which `ulimit -v` counts: more than the cells.)
    private let cells = UnsafeMutablePointer<Slot>.allocate(capacity: WindowPrefetcher.slotCount)
    /// The next cell the thread maps.
    private var nextCell = 0
    /// The cell the thread is populating (outside the mutex), which only it may unmap.
    private var populating = -1
    /// Whether the thread is done: it has unmapped its cells and uses this object no more once
    /// it unlocks the mutex.
    private var finished = false
    /// (A sum of the bytes touched, stored so that the loads are not optimized away.)
    private var touched: UInt8 = 0

    private init(fd: Int32, count: Int) {
        self.fd = fd
        self.count = count
        cellCount = (count + WindowPrefetcher.cellSize - 1) / WindowPrefetcher.cellSize
        cells.initialize(repeating: Slot(), count: WindowPrefetcher.slotCount)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    deinit {
        for i in 0..<WindowPrefetcher.slotCount where cells[i].index >= 0 { munmap(cells[i].base, cells[i].length) }
        cells.deallocate()
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        wake.deallocate()
        mutex.deallocate()
    }

    /// A prefetcher with its thread running, or nil when the thread cannot be started (the
    /// reader then maps its own windows).
    static func start(fd: Int32, count: Int) -> WindowPrefetcher? {
        let prefetcher = WindowPrefetcher(fd: fd, count: count)
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

    /// Stops the thread: it maps no cell after this returns, unmaps every cell and returns
    /// (without this thread waiting for it, so that the unmapping overlaps the caller's next
    /// work; ``waitUntilFinished()`` waits). The reader calls it once, when it is done with
    /// every buffer it was given. (The thread is detached: nothing joins it, and it frees its
    /// stack itself when it exits, as a process that ends with it still unmapping wants.)
    func stop() {
        pthread_mutex_lock(mutex)
        stopping.store(true, ordering: .relaxed)
        pthread_cond_signal(wake)
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

    /// How many cells are mapped now.
    var mappedCellCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        var n = 0
        for i in 0..<WindowPrefetcher.slotCount where cells[i].index >= 0 { n += 1 }
        return n
    }

    /// The first slot whose cell index (-1 when free) passes `test`, or nil. Under `mutex`.
    /// (A plain loop: generic code such as `Range.first(where:)` can make the Swift runtime
    /// instantiate metadata, which allocates, when the thread runs it in an unoptimized build.)
    private func firstSlot(where test: (Int) -> Bool) -> Int? {
        var i = 0
        while i < WindowPrefetcher.slotCount {
            if test(cells[i].index) { return i }
            i += 1
        }
        return nil
    }

    /// The slot holding cell `k` (`k` -1: a free slot), or nil. Under `mutex`.
    private func slot(_ k: Int) -> Int? { firstSlot { $0 == k } }

    private func cellLength(_ k: Int) -> Int {
        min(count - k * WindowPrefetcher.cellSize, WindowPrefetcher.cellSize + WindowPrefetcher.overlap)
    }

    /// The cell that holds `offset..<offset + minCount` (clipped to the end of the file): its
    /// mapping, its first offset and its length; nil when no cell holds it all (the reader maps
    /// such a read itself) or the cell cannot be mapped. From this call on the reader reads only
    /// this cell: the thread unmaps the cells before it.
    func cell(holding offset: Int, minCount: Int) -> (base: UnsafeRawPointer, start: Int, length: Int)? {
        let k = offset / WindowPrefetcher.cellSize
        let start = k * WindowPrefetcher.cellSize
        let length = cellLength(k)
        guard k < cellCount, min(offset + minCount, count) <= start + length else { return nil }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if k < readerCell.load(ordering: .relaxed) { nextCell = k + 1 }  // (a jump back)
        readerCell.store(k, ordering: .relaxed)
        pthread_cond_signal(wake)
        // The thread unmaps the cells the reader has left; the reader unmaps those the thread
        // has not got to yet, and those mapped ahead of where it was before a jump back, so
        // that what stays mapped is bounded even when the thread is not run.
        for i in 0..<WindowPrefetcher.slotCount {
            let j = cells[i].index
            if j >= 0 && (j < k - 1 || j > k + WindowPrefetcher.lookahead) && j != populating {
                munmap(cells[i].base, cells[i].length)
                cells[i] = Slot()
            }
        }
        if let i = slot(k), let base = cells[i].base { return (UnsafeRawPointer(base), start, length) }
        guard let free = slot(-1) else { return nil }
        let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, off_t(start))
        guard let p, p != MAP_FAILED else { return nil }
        cells[free] = Slot(index: k, base: p, length: length)
        return (UnsafeRawPointer(p), start, length)
    }

    /// The thread: maps and populates the cells after the reader's, unmaps those before it,
    /// sleeps when there is nothing to do.
    private func run() {
        pthread_mutex_lock(mutex)
        while !stopping.load(ordering: .relaxed) {
            let reader = readerCell.load(ordering: .relaxed)
            // (One at a time, the slot freed under the mutex, unmapped outside it.)
            if let i = firstSlot(where: { $0 >= 0 && $0 < reader }) {
                let left = cells[i]
                cells[i] = Slot()
                pthread_mutex_unlock(mutex)
                munmap(left.base, left.length)
                pthread_mutex_lock(mutex)
                continue
            }
            nextCell = max(nextCell, reader + 1)
            // (Before the reader's first cell, while it reads the vmdesc at the end of the file,
            // the cells a reader in cell 0 would have ahead, and cell 0.)
            if nextCell < cellCount && nextCell <= max(reader, 0) + WindowPrefetcher.lookahead {
                let k = nextCell
                nextCell += 1
                if slot(k) != nil { continue }
                guard let free = slot(-1) else { continue }
                let length = cellLength(k)
                let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, off_t(k * WindowPrefetcher.cellSize))
                guard let p, p != MAP_FAILED else { continue }
                cells[free] = Slot(index: k, base: p, length: length)
                populating = k
                pthread_mutex_unlock(mutex)
                populate(k, UnsafeRawPointer(p), length)
                pthread_mutex_lock(mutex)
                populating = -1
                continue
            }
            pthread_cond_wait(wake, mutex)
        }
        while let i = firstSlot(where: { $0 >= 0 }) {
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

    /// Touches one byte of each 4 KiB page of cell `k` (mapped at `base`, `length` bytes), in
    /// order, until the reader reaches the cell or the prefetcher stops.
    private func populate(_ k: Int, _ base: UnsafeRawPointer, _ length: Int) {
        var sum: UInt8 = 0
        var offset = 0
        while offset < length {
            if offset & 0xFFFF == 0
                && (readerCell.load(ordering: .relaxed) >= k || stopping.load(ordering: .relaxed))
            {
                break
            }
            // SAFETY: offset < length, inside the cell's mapping, which nobody unmaps while it
            // is `populating`.
            sum &+= base.load(fromByteOffset: offset, as: UInt8.self)
            offset += 4096
        }
        touched &+= sum
    }
}

/// A stream file that cannot be opened or read.
public struct StreamFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// "open", "stat", "read" or "map".
    public var operation: String
    /// The system's explanation (strerror).
    public var reason: String

    /// The error of `operation` on `path`.
    public init(path: String, operation: String, reason: String) {
        self.path = path
        self.operation = operation
        self.reason = reason
    }

    /// `cannot OPERATION PATH: REASON`.
    public var description: String { "cannot \(operation) \(path): \(reason)" }
}
