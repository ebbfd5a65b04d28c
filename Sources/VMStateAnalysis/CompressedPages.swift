// The contents of compressed pages (capability compress, QEMU 7.2 to 9.0; CompressedPage.swift in
// the VMState module) for the readings that print, extract or compare page contents: each record
// is a whole page deflated by zlib, inflated here as QEMU's destination inflates it.
import VMState

/// Inflates compressed pages for one reader: a ``PageInflater`` and a buffer for the compressed
/// bytes read back from a stream file. Memory: about 45 KiB (zlib's state and window, a buffer
/// of `compressBound` of a page). Not thread-safe.
final class CompressedPages {
    let pageSize: Int
    private let inflater = PageInflater()
    /// The compressed bytes of the page being read back (at most `compressBound(pageSize)`).
    private let input: UnsafeMutableRawBufferPointer
    /// The page ``inflate(_:)`` inflated last.
    private let page: UnsafeMutableRawBufferPointer

    init(pageSize: Int) {
        self.pageSize = pageSize
        // SAFETY: allocated once, each written before it is read (`readExactly`, `inflate`),
        // freed in deinit.
        input = .allocate(byteCount: CompressedPageHeader.compressBound(pageSize), alignment: 16)
        page = .allocate(byteCount: pageSize, alignment: 16)
        page.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit {
        input.deallocate()
        page.deallocate()
    }

    /// Inflates `source` (a compressed page's bytes) into `page` (`pageSize` bytes)
    /// (``PageInflater/inflate(_:into:)``).
    func inflate(_ source: UnsafeRawBufferPointer, into page: UnsafeMutableRawBufferPointer) -> PageInflater.Inflated {
        inflater.inflate(source, into: page)
    }

    /// Inflates `source` into a page of its own, valid until the next call, and what was found.
    func inflate(_ source: UnsafeRawBufferPointer) -> (UnsafeRawBufferPointer, PageInflater.Inflated) {
        (UnsafeRawBufferPointer(page), inflater.inflate(source, into: page))
    }

    /// Reads the compressed page whose header starts at `offset` of `bytes` and inflates it into
    /// `page`. The analysis checked the record when it read it; throws `StreamAnalysisError` at
    /// `offset` when the file no longer holds it so (it changed since it was read).
    func load(at offset: Int, of bytes: StreamBytes, into page: UnsafeMutableRawBufferPointer)
        throws(StreamAnalysisError)
    {
        let pageSize = self.pageSize
        let source = try rereadRecord(
            CompressedPageHeader.Decoder(), size: CompressedPageHeader.size, at: offset, of: bytes, into: input
        ) { header in header.fault(pageSize: pageSize) == nil ? header.length : nil }
        guard let source, inflate(UnsafeRawBufferPointer(source), into: page) == .page else {
            throw StreamAnalysisError.compressedPageChanged(at: offset, of: bytes)
        }
    }
}

extension StreamAnalysisError {
    /// The compressed page whose header is at `offset` of `bytes` no longer inflates as the
    /// analysis found it did: the file changed since.
    static func compressedPageChanged(at offset: Int, of bytes: StreamBytes) -> StreamAnalysisError {
        pageRecordChanged("the compressed page here no longer inflates into a page", at: offset, of: bytes)
    }
}
