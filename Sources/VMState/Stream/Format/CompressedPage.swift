// Compressed pages (capability compress; QEMU 7.2 to 9.0, removed in 9.1: migration/ram.c
// `do_compress_ram_page`, migration/qemu-file.c `qemu_put_compression_data`, and the
// destination's `ram_load_precopy` and `qemu_uncompress_data`): a RAM record with flag 0x100
// (RAM_SAVE_FLAG_COMPRESS_PAGE, and its block's name unless CONTINUE) is followed by a be32
// length, then that many bytes: the page compressed by zlib's `deflate` into a zlib stream (its
// two-byte header and Adler-32 trailer included), at the source's `compress-level`. QEMU's
// destination refuses a length above zlib's `compressBound` of a page ("Invalid compressed data
// length: %d") and inflates the bytes into the page, failing the load when they are not one
// whole zlib stream ("decompress data failed"). A source sends a page that is all zeros as a
// zero page instead, and the first page of each block it starts as a whole page.

import CGLib

/// The header after a compressed page's word (and block name).
package struct CompressedPageHeader: Sendable, Equatable {
    /// The size of the header in bytes.
    package static let size = 4

    /// The length of the compressed page in bytes.
    package var length: Int

    package init(length: Int) { self.length = length }

    /// zlib's `compressBound(sourceLength)`: the most `deflate` writes for that many bytes
    /// (4,110 for a page of 4,096), and the most QEMU's destination accepts.
    package static func compressBound(_ sourceLength: Int) -> Int {
        sourceLength + (sourceLength >> 12) + (sourceLength >> 14) + (sourceLength >> 25) + 13
    }

    /// What QEMU's destination refuses in this header before it reads the bytes, for a page of
    /// `pageSize` bytes; nil when it goes on.
    package func fault(pageSize: Int) -> CompressedPageFault? {
        length > Self.compressBound(pageSize) ? .length : nil
    }

    /// The header alone (4 bytes).
    package struct Decoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<CompressedPageHeader> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                CompressedPageHeader(length: Int(try c.be32(.compressedPageLength)))
            }
        }
    }
}

/// Why QEMU's destination refuses a compressed page (``data`` only with its
/// `decompress-error-check` property on, as for machine types 3.0 and later).
package enum CompressedPageFault: Sendable, Equatable {
    /// The length is above `compressBound` of a page.
    case length
    /// The bytes are not one zlib stream that inflates into a page
    /// (``PageInflater/inflate(_:into:)``).
    case data

    /// What QEMU says (`error_report` in `ram_load_precopy` and `do_data_decompress`), with the
    /// length for ``length`` as QEMU prints it: read into an `int` (0x80000000 and up are
    /// negative, which QEMU refuses as well).
    package func qemuMessage(length: Int) -> String {
        switch self {
        case .length: "Invalid compressed data length: \(Int32(truncatingIfNeeded: length))"
        case .data: "decompress data failed"
        }
    }
}

/// Inflates compressed pages, one at a time, through GIO's zlib decompressor
/// (`GZlibDecompressor`, format `G_ZLIB_COMPRESSOR_FORMAT_ZLIB`: zlib's own stream format, as
/// QEMU's `deflateInit` writes it). Not thread-safe: one per reader.
package final class PageInflater {
    private let converter: OpaquePointer
    /// The byte a stream that inflates past the page would write (see `inflate`).
    private let spill = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

    package init() {
        // SAFETY: g_zlib_decompressor_new returns a new reference (never NULL), released in
        // deinit; a GZlibDecompressor is a GConverter, so the cast names the same object.
        converter = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_ZLIB)
    }

    deinit {
        g_object_unref(UnsafeMutableRawPointer(converter))
        spill.deallocate()
    }

    /// What ``inflate(_:into:)`` found.
    package enum Inflated: Sendable, Equatable {
        /// `source` begins with one whole zlib stream of exactly a page (bytes after the
        /// stream's end are ignored, as QEMU's destination ignores them).
        case page
        /// `source` begins with one whole zlib stream of fewer bytes than a page (this many):
        /// QEMU's destination accepts it, leaving the rest of the page as it was; the registry
        /// and the analyzer refuse it (a source never writes one).
        case short(Int)
        /// `source` does not begin with a whole zlib stream, or it inflates past the page:
        /// QEMU's "decompress data failed".
        case fault
    }

    /// Inflates `source` (a compressed page's bytes) into `page`; `page` holds what was
    /// inflated (on a fault, what was inflated before it).
    package func inflate(_ source: UnsafeRawBufferPointer, into page: UnsafeMutableRawBufferPointer) -> Inflated {
        g_converter_reset(converter)
        guard let output = page.baseAddress, !page.isEmpty else { return .fault }
        var read = 0
        var written = 0
        while true {
            var stepRead: gsize = 0
            var stepWritten: gsize = 0
            var error: UnsafeMutablePointer<GError>? = nil
            // Past the page: a one-byte buffer, so that a stream that ends right at the page's end
            // reports its end, and one that goes on is caught writing its extra byte.
            let full = written == page.count
            let result = g_converter_convert(
                converter, source.baseAddress.map { $0 + read }, gsize(source.count - read),
                full ? spill : output + written, full ? 1 : gsize(page.count - written),
                G_CONVERTER_INPUT_AT_END, &stepRead, &stepWritten, &error)
            if let error { g_error_free(error) }
            read += Int(stepRead)
            if full && stepWritten > 0 { return .fault }
            written += Int(stepWritten)
            switch result {
            case G_CONVERTER_FINISHED: return written == page.count ? .page : .short(written)
            case G_CONVERTER_CONVERTED where stepRead > 0 || stepWritten > 0: continue
            default: return .fault
            }
        }
    }
}
