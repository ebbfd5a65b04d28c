// Sorting more records than memory should hold: `analyze --memory` of a stream that sends pages
// more than once (a live migration's later passes) orders its pages by key and then by first
// record, whatever the number of pages.

/// Sorts fixed-size records in bounded memory: records are gathered in a chunk of
/// `chunkCapacity`, each full chunk sorted and written as a run to an unlinked temporary file
/// (in `$TMPDIR`, default /tmp), and the runs merged `fanIn` at a time, through buffers of
/// `bufferEntries` records each, until at most `fanIn` are left, which ``sorted()`` merges as
/// they are read. Memory: the chunk, and `fanIn` buffers while merging. Records that compare
/// equal come out in no particular order: give every record a key of its own.
final class ExternalSort<Element: BitwiseCopyable> {
    private let areInIncreasingOrder: (Element, Element) -> Bool
    private let what: String
    private let fanIn: Int
    private let bufferEntries: Int
    private let chunk: UnsafeMutableBufferPointer<Element>
    private var n = 0
    private var file: TemporaryRecordFile<Element>
    private var runs: [Range<Int>] = []

    /// A sorter of the records `what` names (for errors: "RAM pages of --memory"), ordered by
    /// `areInIncreasingOrder`. Throws `StreamFileError` when the temporary file cannot be made.
    init(
        _ what: String, chunkCapacity: Int, fanIn: Int = 64, bufferEntries: Int = 4096,
        by areInIncreasingOrder: @escaping (Element, Element) -> Bool
    ) throws(StreamFileError) {
        self.what = what
        self.areInIncreasingOrder = areInIncreasingOrder
        self.fanIn = max(2, fanIn)
        self.bufferEntries = max(1, bufferEntries)
        file = try TemporaryRecordFile(what)
        // SAFETY: only the first `n` entries, written by `append`, are read.
        chunk = .allocate(capacity: max(1, chunkCapacity))
    }

    deinit { chunk.deallocate() }

    /// Adds a record. Throws `StreamFileError` when a full chunk cannot be written.
    func append(_ e: Element) throws(StreamFileError) {
        if n == chunk.count { try flush() }
        chunk[n] = e
        n += 1
    }

    /// Sorts the chunk and writes it as a run.
    private func flush() throws(StreamFileError) {
        guard n > 0 else { return }
        var live = UnsafeMutableBufferPointer(rebasing: chunk[0..<n])
        live.sort(by: areInIncreasingOrder)
        n = 0
        let start = file.count
        try file.append(UnsafeBufferPointer(live))
        runs.append(start..<file.count)
    }

    /// The records in order, once every record is appended (no more may be). Throws
    /// `StreamFileError` when the temporary files cannot be written or read.
    func sorted() throws(StreamFileError) -> ExternalSortedRecords<Element> {
        try flush()
        let order = areInIncreasingOrder
        let bufferEntries = bufferEntries
        (file, runs) = try mergeRounds(
            file, runs, what: what, fanIn: fanIn, bufferEntries: bufferEntries
        ) { (file, members) throws(StreamFileError) in
            try ExternalSortedRecords(file, runs: members, bufferEntries: bufferEntries, by: order).next
        }
        return try ExternalSortedRecords(file, runs: runs, bufferEntries: bufferEntries, by: areInIncreasingOrder)
    }
}

/// Sorted runs of a temporary file merged into one sequence in order.
final class ExternalSortedRecords<Element: BitwiseCopyable> {
    private let cursors: [RecordRunCursor<Element>]
    /// Each cursor's current record (nil at the end of its run): compared without touching
    /// the cursors.
    private var heads: [Element?]
    private let areInIncreasingOrder: (Element, Element) -> Bool

    init(
        _ file: TemporaryRecordFile<Element>, runs: [Range<Int>], bufferEntries: Int,
        by areInIncreasingOrder: @escaping (Element, Element) -> Bool
    ) throws(StreamFileError) {
        var cursors: [RecordRunCursor<Element>] = []
        for r in runs where !r.isEmpty { cursors.append(try RecordRunCursor(file, r, bufferEntries: bufferEntries)) }
        self.cursors = cursors
        heads = cursors.map(\.current)
        self.areInIncreasingOrder = areInIncreasingOrder
    }

    /// The next record, or nil at the end. (A linear search over the runs: at most the fan-in.)
    func next() throws(StreamFileError) -> Element? {
        var best = -1
        for i in heads.indices {
            guard let e = heads[i] else { continue }
            if best >= 0, !areInIncreasingOrder(e, heads[best]!) { continue }
            best = i
        }
        guard best >= 0 else { return nil }
        let e = heads[best]
        try cursors[best].advance()
        heads[best] = cursors[best].current
        return e
    }
}

/// Merges the sorted `runs` of `file`, `fanIn` at a time, into runs of a new temporary file
/// (the records of one group in the order `merger` gives them), round after round, until at
/// most `fanIn` runs are left; returns the file and its runs (`file` and `runs` themselves when
/// there are no more than `fanIn`). `merger` gives the next record of the runs it is given, nil
/// at their end. Throws `StreamFileError` when a temporary file cannot be made, written or read.
func mergeRounds<Element: BitwiseCopyable>(
    _ file: TemporaryRecordFile<Element>, _ runs: [Range<Int>], what: String, fanIn: Int, bufferEntries: Int,
    merger: (TemporaryRecordFile<Element>, [Range<Int>]) throws(StreamFileError) -> () throws(StreamFileError) ->
        Element?
) throws(StreamFileError) -> (TemporaryRecordFile<Element>, [Range<Int>]) {
    var file = file
    var runs = runs
    let fanIn = max(2, fanIn)
    while runs.count > fanIn {
        let merged = try TemporaryRecordFile<Element>(what)
        var newRuns: [Range<Int>] = []
        let out = UnsafeMutableBufferPointer<Element>.allocate(capacity: max(1, bufferEntries))
        defer { out.deallocate() }
        var group = 0
        while group < runs.count {
            let next = try merger(file, Array(runs[group..<min(group + fanIn, runs.count)]))
            let start = merged.count
            var k = 0
            while let e = try next() {
                out[k] = e
                k += 1
                if k == out.count {
                    try merged.append(UnsafeBufferPointer(out))
                    k = 0
                }
            }
            if k > 0 { try merged.append(UnsafeBufferPointer(rebasing: out[0..<k])) }
            newRuns.append(start..<merged.count)
            group += fanIn
        }
        file = merged
        runs = newRuns
    }
    return (file, runs)
}
