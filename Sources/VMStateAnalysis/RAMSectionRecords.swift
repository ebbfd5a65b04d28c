/// The page records of every RAM section of a stream, each section's records contiguous, in
/// stream order, in an unlinked temporary file (in `$TMPDIR`, default /tmp; 24 bytes a record),
/// filled by one pass over the stream: what `analyze --memory` reads a section's pages from when
/// the stream has more than one RAM section with page records. QEMU writes one "ram" section per
/// stream (its RAM is one iterative section, `ram_save_setup` .. `ram_save_complete`), which is
/// printed from a pass of its own; a stream of many (each SECTION_START of "ram" a section of
/// the script's output) would otherwise cost a pass over the whole stream per section, a time
/// that grows with the square of the stream's size.
final class RAMSectionRecords {
    /// A RAM section: its section id and its generation (``RAMSection/generation``).
    private struct Key: Hashable {
        var id: UInt32
        var generation: Int
    }

    private let file: PageIndexFile
    /// Each section's records in `file`.
    private let ranges: [Key: Range<Int>]
    /// Records read back at a time.
    private static let bufferEntries = 4096

    /// Reads every page record of `analysis`'s stream once and sorts them by section, in
    /// bounded memory (a write buffer of 4096 records and one counter per section). `progress`
    /// receives the stream offset reached now and then. Throws `StreamAnalysisError` when the
    /// stream no longer reads as it did (its sections' page counts differ from the analysis's)
    /// or the temporary file cannot be written.
    init(_ analysis: StreamAnalysis, progress: ((Int) -> Void)?) throws(StreamAnalysisError) {
        // Each section's slot range, from the page counts of the analysis, and its next slot.
        var ranges: [Key: Range<Int>] = [:]
        var total = 0
        for section in analysis.sections {
            guard case .ram(let ram) = section.content, ram.pageCount > 0 else { continue }
            ranges[Key(id: section.sectionID, generation: ram.generation)] = total..<(total + ram.pageCount)
            total += ram.pageCount
        }
        self.ranges = ranges
        var next = ranges.mapValues { (next: $0.lowerBound, end: $0.upperBound) }
        file = try StreamAnalysisError.onTemporaryFile { () throws(StreamFileError) in
            try PageIndexFile("RAM page records of --memory")
        }
        // Records whose slots follow each other are written together.
        let capacity = Self.bufferEntries
        let pending = UnsafeMutableBufferPointer<PageIndexEntry>.allocate(capacity: capacity)
        defer { pending.deallocate() }
        var pendingStart = 0
        var pendingCount = 0
        var failure: StreamAnalysisError?
        let file = self.file
        func flush() {
            guard pendingCount > 0, failure == nil else { return }
            do throws(StreamAnalysisError) {
                try StreamAnalysisError.onTemporaryFile { () throws(StreamFileError) in
                    try file.write(UnsafeBufferPointer(rebasing: pending[0..<pendingCount]), at: pendingStart)
                }
            } catch { failure = error }
            pendingCount = 0
        }
        var changed: RAMPageRecord?
        try analysis.scanPages(progress: progress) { record, _ in
            guard failure == nil, changed == nil else { return }
            let key = Key(id: record.sectionID, generation: record.generation)
            guard let (slot, end) = next[key] else { return }
            guard slot < end else {
                changed = record
                return
            }
            next[key]!.next = slot + 1
            if pendingCount == capacity || (pendingCount > 0 && slot != pendingStart + pendingCount) { flush() }
            if pendingCount == 0 { pendingStart = slot }
            pending[pendingCount] = PageIndexEntry(
                block: UInt32(bitPattern: record.page.block), order: 0, address: record.page.address,
                content: record.page.content)
            pendingCount += 1
        }
        flush()
        if let failure { throw failure }
        if let changed {
            throw StreamAnalysisError(
                offset: changed.offset,
                message: "the stream no longer reads as it did: RAM section \(changed.sectionID) has more page records "
                    + "than when it was analyzed"
            ).noting(changeOf: analysis.bytes)
        }
        for (key, slots) in next where slots.next != slots.end {
            throw StreamAnalysisError(
                offset: 0,
                message: "the stream no longer reads as it did: RAM section \(key.id) has fewer page records than "
                    + "when it was analyzed"
            ).noting(changeOf: analysis.bytes)
        }
    }

    /// Calls `visit` with each page record of the RAM section `id` (of `generation`), in stream
    /// order. Throws `StreamAnalysisError` when the temporary file cannot be read.
    func forEachPage(of id: UInt32, generation: Int, _ visit: (RAMPage) -> Void) throws(StreamAnalysisError) {
        guard let range = ranges[Key(id: id, generation: generation)] else { return }
        try StreamAnalysisError.onTemporaryFile { () throws(StreamFileError) in
            let cursor = try PageRunCursor(file, range, bufferEntries: Self.bufferEntries)
            while let e = cursor.current {
                visit(RAMPage(block: Int32(bitPattern: e.block), address: e.address, content: e.state))
                try cursor.advance()
            }
        }
    }
}
