// The contents of XBZRLE pages (capability xbzrle) for the readings that print or compare page
// contents (`analyze --memory`, `diff`): an XBZRLE record is a delta against what its page held
// before it, so what the page holds is its records folded in stream order, the way QEMU's
// destination applies them (`load_xbzrle`: the delta written over the page in place). `-x`
// applies them to its files as it writes them (RAMExtraction.swift).
import VMState

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Pages decoded from XBZRLE records, one after another in an unlinked temporary file (in
/// `$TMPDIR`, default /tmp; a page's size each), so that memory stays bounded whatever their
/// number. `RAMPage.Content.decoded(slot:)` names one.
final class DecodedPages {
    let pageSize: Int
    private let file: TemporaryRecordFile<UInt8>

    /// What the file holds, for errors.
    static let what = "the temporary file of the pages decoded from XBZRLE records"

    /// Throws `StreamFileError` when the temporary file cannot be made.
    init(pageSize: Int) throws(StreamFileError) {
        self.pageSize = pageSize
        file = try TemporaryRecordFile("pages decoded from XBZRLE records")
    }

    /// Appends `page` (`pageSize` bytes) and returns its slot.
    func append(_ page: UnsafeRawBufferPointer) throws(StreamFileError) -> Int {
        let slot = file.count / pageSize
        try file.write(page.assumingMemoryBound(to: UInt8.self), at: slot * pageSize)
        return slot
    }

    /// Reads the page at `slot` into `page` (`pageSize` bytes).
    func read(_ slot: Int, into page: UnsafeMutableRawBufferPointer) throws(StreamFileError) {
        let got = try file.read(at: slot * pageSize, into: page.assumingMemoryBound(to: UInt8.self))
        guard got == pageSize else {
            throw StreamFileError(path: Self.what, operation: "read", reason: "page \(slot) is not there")
        }
    }
}

/// Where the bytes of one stream's pages are: the stream file, and the pages decoded from its
/// XBZRLE records when a reading decoded some; its compressed pages inflated through
/// `compressed`.
struct PageSource {
    let bytes: StreamBytes
    let decoded: DecodedPages?
    let compressed: CompressedPages

    /// Writes what `content` holds into `page` (a page's size; a compressed page inflated).
    /// Throws `StreamAnalysisError` at the page's offset when the stream file no longer holds it
    /// (it changed since it was read), when the decoded pages cannot be read, and for an XBZRLE
    /// record, which holds no page by itself (``PageFold`` resolves those).
    func load(_ content: RAMPage.Content, into page: UnsafeMutableRawBufferPointer) throws(StreamAnalysisError) {
        switch content {
        case .fill(let byte):
            page.initializeMemory(as: UInt8.self, repeating: byte)
        case .data(let offset):
            do throws(StreamFileError) {
                try bytes.readExactly(at: offset, into: page)
            } catch {
                throw StreamAnalysisError(offset: offset, message: error.description)
            }
        case .compressed(let offset):
            try compressed.load(at: offset, of: bytes, into: page)
        case .decoded(let slot):
            guard let decoded else {
                throw StreamAnalysisError(
                    temporaryFile: StreamFileError(
                        path: DecodedPages.what, operation: "read",
                        reason: "page \(slot) is named, but there is no such file"))
            }
            try StreamAnalysisError.onTemporaryFile { () throws(StreamFileError) in try decoded.read(slot, into: page) }
        case .xbzrle(let offset):
            throw StreamAnalysisError(
                offset: offset,
                message: "an XBZRLE page read without the page's earlier contents (its records were not folded)")
        }
    }
}

/// Folds the records of one page, in stream order, into what the page holds after the last:
/// the last record's contents, or, when XBZRLE records follow the last whole page, that page
/// (a zero page when none came before them, as the RAM of a destination that has not been
/// written) with their deltas applied in order, written to ``DecodedPages`` and named by
/// `.decoded(slot:)`. Memory: two pages.
final class PageFold {
    private let bytes: StreamBytes
    private let pageSize: Int
    /// Where decoded pages go: made at the first page to decode when not given.
    private var decoded: DecodedPages?
    /// The page's contents so far, unless `page` holds them (`inPage`).
    private var content: RAMPage.Content = .fill(0)
    private var inPage = false
    private let page: UnsafeMutableRawBufferPointer
    private let delta: UnsafeMutableRawBufferPointer
    /// Inflates compressed pages (a page's earlier contents, or its last record).
    private let compressed: CompressedPages

    /// A fold over the pages of `bytes`; the decoded pages go to `decoded` (made at the first
    /// page to decode when nil: give one made beforehand where a temporary file that cannot be
    /// made must fail before any output). Read them back through ``pages``.
    init(bytes: StreamBytes, pageSize: Int, decoded: DecodedPages?) {
        self.bytes = bytes
        self.pageSize = pageSize
        self.decoded = decoded
        compressed = CompressedPages(pageSize: pageSize)
        // SAFETY: both buffers are initialized (zeros) before they are read, and freed in deinit.
        page = .allocate(byteCount: pageSize, alignment: 16)
        page.initializeMemory(as: UInt8.self, repeating: 0)
        delta = .allocate(byteCount: pageSize, alignment: 16)
        delta.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit {
        page.deallocate()
        delta.deallocate()
    }

    /// Where the contents ``finish()`` gives are read: the stream and the decoded pages.
    var pages: PageSource { PageSource(bytes: bytes, decoded: decoded, compressed: compressed) }

    /// Starts a page with its first record.
    func start(_ first: RAMPage.Content) throws(StreamAnalysisError) {
        content = .fill(0)
        inPage = false
        try add(first)
    }

    /// The page's next record.
    func add(_ record: RAMPage.Content) throws(StreamAnalysisError) {
        guard case .xbzrle(let offset) = record else {
            content = record
            inPage = false
            return
        }
        if !inPage {
            try pages.load(content, into: page)
            inPage = true
        }
        // The header (checked by the analysis) and the delta, read again from the stream.
        let pageSize = self.pageSize
        let d = try rereadRecord(
            XBZRLEHeader.Decoder(), size: XBZRLEHeader.size, at: offset, of: bytes, into: delta
        ) { header in header.fault(pageSize: pageSize) == nil ? header.length : nil }
        guard let d, XBZRLEDelta.apply(UnsafeRawBufferPointer(d), to: page) else {
            throw StreamAnalysisError.xbzrlePageChanged(at: offset, of: bytes)
        }
    }

    /// What the page holds after its last record: that record's contents, or the page decoded
    /// from XBZRLE records (`.decoded(slot:)`). Throws `StreamAnalysisError` when the decoded
    /// page cannot be written.
    func finish() throws(StreamAnalysisError) -> RAMPage.Content {
        guard inPage else { return content }
        let pageSize = self.pageSize, page = UnsafeRawBufferPointer(self.page), existing = decoded
        let (decoded, slot) = try StreamAnalysisError.onTemporaryFile {
            () throws(StreamFileError) -> (DecodedPages, Int) in
            let decoded: DecodedPages
            if let existing { decoded = existing } else { decoded = try DecodedPages(pageSize: pageSize) }
            return (decoded, try decoded.append(page))
        }
        self.decoded = decoded
        return .decoded(slot: slot)
    }
}

/// Reads again a page record the analysis read and checked: its header of `size` bytes at
/// `offset` of `bytes` (`decoder`) and the `payloadLength(header)` bytes after it, into the
/// start of `buffer`, which it returns; nil when the header no longer decodes or
/// `payloadLength` refuses it (nil), as when the file changed since. Throws
/// `StreamAnalysisError` at the payload when it cannot be read.
func rereadRecord<D: StreamRecordDecoder>(
    _ decoder: D, size: Int, at offset: Int, of bytes: StreamBytes, into buffer: UnsafeMutableRawBufferPointer,
    payloadLength: (D.Record) -> Int?
) throws(StreamAnalysisError) -> UnsafeMutableRawBufferPointer? {
    let decoded = bytes.copyBytes(at: offset, count: size).withUnsafeBytes { decoder.decode($0) }
    guard case .record(let header, _) = decoded, let length = payloadLength(header), length <= buffer.count else {
        return nil
    }
    let payload = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
    do throws(StreamFileError) {
        try bytes.readExactly(at: offset + size, into: payload)
    } catch {
        throw StreamAnalysisError(offset: offset + size, message: error.description).noting(changeOf: bytes)
    }
    return payload
}

extension StreamAnalysisError {
    /// The XBZRLE page whose header is at `offset` of `bytes` no longer decodes as the analysis
    /// found it did: the file changed since.
    static func xbzrlePageChanged(at offset: Int, of bytes: StreamBytes) -> StreamAnalysisError {
        pageRecordChanged("the XBZRLE page here no longer decodes into its page", at: offset, of: bytes)
    }

    /// A page record at `offset` of `bytes` that the analysis checked no longer reads so
    /// (`what`): the file changed since.
    static func pageRecordChanged(_ what: String, at offset: Int, of bytes: StreamBytes) -> StreamAnalysisError {
        StreamAnalysisError(offset: offset, message: "the stream no longer reads as it did: " + what)
            .noting(changeOf: bytes)
    }
}

extension PageFold {
    /// Reads `records` (sorted by block, address, then stream order: ``MemoryPageRecord``) and
    /// calls `visit` with each page's first record, its `content` what the page holds after
    /// all its records (``finish()``). Throws `StreamAnalysisError` as ``add(_:)`` and
    /// ``finish()`` do, or when the sorted records cannot be read back.
    func foldEach(
        _ records: ExternalSortedRecords<MemoryPageRecord>,
        _ visit: (MemoryPageRecord) throws(StreamAnalysisError) -> Void
    ) throws(StreamAnalysisError) {
        var first: MemoryPageRecord? = nil
        func end() throws(StreamAnalysisError) {
            guard var f = first else { return }
            f.content = PageIndexEntry.encode(try finish())
            try visit(f)
        }
        while let r = try StreamAnalysisError.onTemporaryFile({ () throws(StreamFileError) in try records.next() }) {
            if let f = first, f.block == r.block, f.address == r.address {
                try add(r.page.content)
            } else {
                try end()
                first = r
                try start(r.page.content)
            }
        }
        try end()
    }
}
