// The RAM pages of a stream as a sorted index on disk, for `vmstate diff`: the last record of
// every page, ordered by block and address, read back in order through small buffers. Memory
// stays bounded whatever the stream's size: page records are sorted in chunks of
// `PageIndexBuilder.chunkCapacity`, written to an unlinked temporary file (in `$TMPDIR`,
// default /tmp) as sorted runs, and merged.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One page record of the index: 24 bytes.
struct PageIndexEntry: BitwiseCopyable {
    /// The block's number in the comparison's list of block names.
    var block: UInt32
    /// The record's position in its chunk (orders records of the same page: the later wins).
    var order: UInt32
    /// Offset of the page within its block.
    var address: UInt64
    /// What the page holds in 64 bits (``encode(_:)``).
    var content: UInt64

    /// The tag bits of `content` (its top three): a data page's offset has none.
    static let fill: UInt64 = 1 << 63
    static let xbzrle: UInt64 = 1 << 62
    static let decoded: UInt64 = fill | xbzrle
    static let compressed: UInt64 = 1 << 61
    static let tags: UInt64 = fill | xbzrle | compressed

    init(block: UInt32, order: UInt32, address: UInt64, content: RAMPage.Content) {
        self.block = block
        self.order = order
        self.address = address
        self.content = Self.encode(content)
    }

    /// What the page holds.
    var state: RAMPage.Content { Self.decode(content) }

    /// A page's contents in 64 bits: a data page's offset, `fill` | the fill byte, `xbzrle` |
    /// the XBZRLE header's offset, `compressed` | the compressed page's header offset,
    /// `decoded` | the decoded page's slot (offsets and slots are below 2^61).
    static func encode(_ content: RAMPage.Content) -> UInt64 {
        switch content {
        case .fill(let b): fill | UInt64(b)
        case .data(let offset): UInt64(offset)
        case .xbzrle(let offset): xbzrle | UInt64(offset)
        case .compressed(let offset): compressed | UInt64(offset)
        case .decoded(let slot): decoded | UInt64(slot)
        }
    }

    static func decode(_ content: UInt64) -> RAMPage.Content {
        let value = content & ~tags
        return switch content & tags {
        case fill: .fill(UInt8(truncatingIfNeeded: value))
        case xbzrle: .xbzrle(offset: Int(value))
        case compressed: .compressed(offset: Int(value))
        case decoded: .decoded(slot: Int(value))
        default: .data(offset: Int(value))
        }
    }

    /// Whether this page comes before `other` (block, then address).
    @inline(__always) func precedes(_ other: PageIndexEntry) -> Bool {
        block != other.block ? block < other.block : address < other.address
    }

    @inline(__always) func samePage(_ other: PageIndexEntry) -> Bool {
        block == other.block && address == other.address
    }
}

/// An unlinked temporary file of fixed-size records (page index entries, page ranges).
final class TemporaryRecordFile<Element: BitwiseCopyable> {
    private let fd: Int32
    private let dir: String
    /// Number of records written.
    private(set) var count = 0
    /// Bytes per record in the file (its in-memory layout: the file lives only as long as
    /// this process).
    static var entrySize: Int { MemoryLayout<Element>.stride }
    /// What the file holds, for errors ("RAM page index").
    private let what: String

    init(_ what: String) throws(StreamFileError) {
        self.what = what
        let (fd, dir, code) = makeUnlinkedTemporaryFile("vmstate-diff")
        self.dir = dir
        guard fd >= 0 else {
            throw StreamFileError(
                path: dir, operation: "write",
                reason: "cannot make a temporary file for the \(what): " + String(cString: strerror(code)))
        }
        self.fd = fd
    }

    deinit { close(fd) }

    private func failure(_ operation: String, _ code: Int32) -> StreamFileError {
        StreamFileError(
            path: dir, operation: operation,
            reason: "the temporary file of the \(what): " + String(cString: strerror(code)))
    }

    /// Appends entries at the end.
    func append(_ entries: UnsafeBufferPointer<Element>) throws(StreamFileError) {
        try write(entries, at: count)
    }

    /// Writes entries from record `index` on (past the end: the records between are zero
    /// until written); `count` becomes at least `index + entries.count`.
    func write(_ entries: UnsafeBufferPointer<Element>, at index: Int) throws(StreamFileError) {
        // SAFETY: `raw` views the caller's records (bitwise copyable) for the duration of the call.
        let raw = UnsafeRawBufferPointer(entries)
        var done = 0
        while done < raw.count {
            let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(index * Self.entrySize + done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw failure("write", errno) }
            if n == 0 { throw failure("write", ENOSPC) }
            done += n
        }
        count = max(count, index + entries.count)
    }

    /// Reads entries from `index` on into `buffer`; returns how many were read.
    func read(at index: Int, into buffer: UnsafeMutableBufferPointer<Element>) throws(StreamFileError) -> Int {
        // SAFETY: the bytes read are whole records this process wrote (bitwise copyable), into
        // the caller's buffer, never past its end (`want` is at most its size in bytes).
        let raw = UnsafeMutableRawBufferPointer(buffer)
        let want = min(raw.count, (count - index) * Self.entrySize)
        var done = 0
        while done < want {
            let n = pread(fd, raw.baseAddress! + done, want - done, off_t(index * Self.entrySize + done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw failure("read", errno) }
            if n == 0 { throw failure("read", EIO) }
            done += n
        }
        return want / Self.entrySize
    }
}

/// The file of a page index.
typealias PageIndexFile = TemporaryRecordFile<PageIndexEntry>

/// Reads one run of a ``PageIndexFile`` in order, a buffer at a time.
typealias PageRunCursor = RecordRunCursor<PageIndexEntry>

/// Reads one run (a range of records) of a ``TemporaryRecordFile`` in order, a buffer at a time.
final class RecordRunCursor<Element: BitwiseCopyable> {
    private let file: TemporaryRecordFile<Element>
    private var next: Int
    private let end: Int
    private let buffer: UnsafeMutableBufferPointer<Element>
    private var filled = 0
    private var position = 0
    /// The entry at the cursor; nil at the end of the run.
    private(set) var current: Element?

    init(_ file: TemporaryRecordFile<Element>, _ run: Range<Int>, bufferEntries: Int) throws(StreamFileError) {
        self.file = file
        next = run.lowerBound
        end = run.upperBound
        // SAFETY: entries are read into the buffer before they are read from it (`filled`).
        buffer = .allocate(capacity: max(1, min(bufferEntries, run.count)))
        try advance()
    }

    deinit { buffer.deallocate() }

    /// Moves to the next entry.
    func advance() throws(StreamFileError) {
        if position == filled {
            guard next < end else {
                current = nil
                return
            }
            let n = try file.read(
                at: next, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<min(buffer.count, end - next)]))
            next += n
            filled = n
            position = 0
        }
        current = buffer[position]
        position += 1
    }
}

/// Merges sorted runs (each holding a page once) into one sequence in order, each page once:
/// of records of the same page in several runs, the one of the latest run wins.
final class PageRunMerger {
    private var cursors: [PageRunCursor]

    init(_ file: PageIndexFile, runs: [Range<Int>], bufferEntries: Int) throws(StreamFileError) {
        cursors = []
        for r in runs where !r.isEmpty { cursors.append(try PageRunCursor(file, r, bufferEntries: bufferEntries)) }
    }

    /// The next page, or nil at the end. (A linear search over the runs: at most the fan-in.)
    func next() throws(StreamFileError) -> PageIndexEntry? {
        var best: PageIndexEntry? = nil
        for c in cursors {
            guard let e = c.current else { continue }
            // (Later runs win ties: `<=` keeps the later of equal pages.)
            if let b = best, b.precedes(e) { continue }
            best = e
        }
        guard let best else { return nil }
        for c in cursors {
            if let e = c.current, e.samePage(best) { try c.advance() }
        }
        return best
    }
}

/// Collects page records and sorts them into a ``SortedPageIndex``, in bounded memory.
final class PageIndexBuilder {
    /// Records sorted in memory at a time (24 bytes each: 12 MiB, and the sort's scratch).
    static let chunkCapacity = 1 << 19
    /// Runs merged at once, each through a buffer of `bufferEntries` (6 MiB for all).
    static let fanIn = 64
    static let bufferEntries = 4096

    private let fanIn: Int
    private let bufferEntries: Int
    private let chunk: UnsafeMutableBufferPointer<PageIndexEntry>
    private var n = 0
    /// Whether the chunk is in strictly ascending page order so far (no sort needed).
    private var ascending = true
    private var file: PageIndexFile
    private var runs: [Range<Int>] = []
    /// The last page of the last run.
    private var lastPage: PageIndexEntry?
    /// The first error (records come from a callback that cannot throw).
    private var failure: StreamFileError?

    /// A builder with the default sizes (tests give small ones to exercise many runs).
    init(
        chunkCapacity: Int = PageIndexBuilder.chunkCapacity, fanIn: Int = PageIndexBuilder.fanIn,
        bufferEntries: Int = PageIndexBuilder.bufferEntries
    ) throws(StreamFileError) {
        file = try PageIndexFile("RAM page index")
        // SAFETY: only the first `n` entries, written by `add`, are read.
        chunk = .allocate(capacity: max(1, chunkCapacity))
        self.fanIn = max(2, fanIn)
        self.bufferEntries = max(1, bufferEntries)
    }

    deinit { chunk.deallocate() }

    func add(block: UInt32, address: UInt64, content: RAMPage.Content) {
        if n == chunk.count { flush() }
        let e = PageIndexEntry(block: block, order: UInt32(n), address: address, content: content)
        if n > 0 && !chunk[n - 1].precedes(e) { ascending = false }
        chunk[n] = e
        n += 1
    }

    /// Sorts the chunk (unless it is in order), keeps each page's last record, and writes it
    /// as a run, or as the continuation of the last run when it follows that in order.
    private func flush() {
        defer {
            n = 0
            ascending = true
        }
        guard n > 0, failure == nil else { return }
        var live = UnsafeMutableBufferPointer(rebasing: chunk[0..<n])
        if !ascending {
            live.sort { x, y in x.precedes(y) || (x.samePage(y) && x.order < y.order) }
            // Keep the last record of each page.
            var out = 0
            for i in 0..<n where i + 1 == n || !live[i].samePage(live[i + 1]) {
                live[out] = live[i]
                out += 1
            }
            live = UnsafeMutableBufferPointer(rebasing: chunk[0..<out])
        }
        let start = file.count
        do {
            try file.append(UnsafeBufferPointer(live))
        } catch {
            failure = error
            return
        }
        if let last = lastPage, last.precedes(live[0]), let r = runs.last, r.upperBound == start {
            runs[runs.count - 1] = r.lowerBound..<file.count
        } else {
            runs.append(start..<file.count)
        }
        lastPage = live[live.count - 1]
    }

    /// The sorted index: the runs merged down to at most `fanIn`.
    func finish() throws(StreamFileError) -> SortedPageIndex {
        flush()
        if let failure { throw failure }
        (file, runs) = try mergeRounds(
            file, runs, what: "RAM page index", fanIn: fanIn, bufferEntries: bufferEntries
        ) { (file, members) throws(StreamFileError) in
            try PageRunMerger(file, runs: members, bufferEntries: bufferEntries).next
        }
        return SortedPageIndex(file: file, runs: runs, bufferEntries: bufferEntries, decoded: nil)
    }
}

/// Every page of a stream's RAM section once (its last record), in block and address order.
struct SortedPageIndex {
    let file: PageIndexFile
    /// The sorted runs (at most the builder's fan-in); later runs hold later records.
    let runs: [Range<Int>]
    let bufferEntries: Int
    /// The pages its `.decoded` entries name (a stream with XBZRLE pages).
    var decoded: DecodedPages?

    /// Number of entries on disk (an upper bound of the number of pages).
    var entryCount: Int { runs.reduce(0) { $0 + $1.count } }

    func makeIterator() throws(StreamFileError) -> PageRunMerger {
        try PageRunMerger(file, runs: runs, bufferEntries: bufferEntries)
    }
}

/// Page ranges of `vmstate diff --json` kept on disk rather than in memory (16 bytes each):
/// the ranges of every block, one after another.
package final class PageRangeSpill: @unchecked Sendable, Equatable {
    // (Sendable: appended to only while the diff is built, then only read.)
    struct Record: BitwiseCopyable {
        var lower: UInt64
        var upper: UInt64
    }

    private let file: TemporaryRecordFile<Record>
    private var pending: [Record] = []

    init() throws(StreamFileError) {
        file = try TemporaryRecordFile("page ranges")
        pending.reserveCapacity(4096)
    }

    package static func == (x: PageRangeSpill, y: PageRangeSpill) -> Bool { x === y }

    /// Number of ranges appended.
    var count: Int { file.count + pending.count }

    func append(_ r: ClosedRange<UInt64>) throws(StreamFileError) {
        pending.append(Record(lower: r.lowerBound, upper: r.upperBound))
        if pending.count == 4096 { try flush() }
    }

    func flush() throws(StreamFileError) {
        guard !pending.isEmpty else { return }
        try pending.withUnsafeBufferPointer { (p) throws(StreamFileError) in try file.append(p) }
        pending.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with the ranges `indices`, in order, a buffer at a time.
    func forEach(_ indices: Range<Int>, _ body: (ClosedRange<UInt64>) -> Void) throws(StreamFileError) {
        try flush()
        let buffer = UnsafeMutableBufferPointer<Record>.allocate(capacity: 4096)
        defer { buffer.deallocate() }
        var i = indices.lowerBound
        while i < indices.upperBound {
            let n = try file.read(
                at: i, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<min(buffer.count, indices.upperBound - i)])
            )
            guard n > 0 else { break }
            for k in 0..<n { body(buffer[k].lower...buffer[k].upper) }
            i += n
        }
    }
}
