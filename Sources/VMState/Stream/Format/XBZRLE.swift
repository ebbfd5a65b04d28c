// XBZRLE pages (capability xbzrle; QEMU 7.2 and 10.0 migration/ram.c `save_xbzrle_page` and
// `load_xbzrle`, migration/xbzrle.c): a RAM record with flag 0x40 (and its block's name unless
// CONTINUE) is followed by a header, u8 encoding (0x01, ENCODING_FLAG_XBZRLE, the only one) and
// be16 length (at most the page size), then that many bytes that encode the page as a delta
// against its previous contents: runs of (the count of unchanged bytes, the count of changed
// bytes, the changed bytes), each count a ULEB128 number below 2^14 (one or two bytes). Every
// count of changed bytes is non-zero, and so is every count of unchanged bytes but the first;
// the bytes after the last run keep their value.

/// The header after an XBZRLE record's word (and block name).
package struct XBZRLEHeader: Sendable, Equatable {
    /// QEMU's ENCODING_FLAG_XBZRLE: the only encoding QEMU writes and reads.
    package static let xbzrleEncoding: UInt8 = 0x01
    /// The size of the header in bytes.
    package static let size = 3

    /// The encoding byte (QEMU refuses any other than ``xbzrleEncoding``).
    package var encoding: UInt8
    /// The length of the encoded delta in bytes (QEMU refuses more than a page).
    package var length: Int

    /// What QEMU's `load_xbzrle` refuses in this header before it reads the delta, for a page
    /// of `pageSize` bytes (``XBZRLEFault/encoding`` or ``XBZRLEFault/length``); nil when it
    /// goes on.
    package func fault(pageSize: Int) -> XBZRLEFault? {
        if encoding != Self.xbzrleEncoding { return .encoding }
        if length > pageSize { return .length }
        return nil
    }

    /// The header alone (3 bytes).
    package struct Decoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<XBZRLEHeader> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                XBZRLEHeader(encoding: try c.u8(.xbzrleEncoding), length: Int(try c.be16(.xbzrleLength)))
            }
        }
    }
}

/// Why QEMU's destination refuses an XBZRLE page (`load_xbzrle`, which fails the load).
package enum XBZRLEFault: Sendable, Equatable {
    /// The encoding byte is not ``XBZRLEHeader/xbzrleEncoding``.
    case encoding
    /// The delta is longer than a page.
    case length
    /// The delta does not decode into a page (``XBZRLEDelta/isValid(_:pageSize:)``).
    case delta

    /// QEMU's message for it (`error_report` in `load_xbzrle`).
    package var qemuMessage: String {
        switch self {
        case .encoding: "Failed to load XBZRLE page - wrong compression!"
        case .length: "Failed to load XBZRLE page - len overflow!"
        case .delta: "Failed to load XBZRLE page - decode error!"
        }
    }
}

/// The XBZRLE delta encoding of a page (see the top of this file).
package enum XBZRLEDelta {
    /// Whether `delta` is a delta QEMU's destination decodes into a page of `pageSize` bytes
    /// (QEMU `xbzrle_decode_buffer` returns -1 otherwise: "Failed to load XBZRLE page - decode
    /// error!"): runs that stay inside the delta and the page, counts of one or two bytes,
    /// no empty run where QEMU refuses one.
    package static func isValid(_ delta: UnsafeRawBufferPointer, pageSize: Int) -> Bool {
        walk(delta, pageSize: pageSize) { _, _, _ in }
    }

    /// Writes the changed bytes `delta` encodes into `page` (the page's previous contents),
    /// after checking the whole delta (``isValid(_:pageSize:)``): false, `page` untouched,
    /// when it is not valid.
    package static func apply(_ delta: UnsafeRawBufferPointer, to page: UnsafeMutableRawBufferPointer) -> Bool {
        guard isValid(delta, pageSize: page.count), let source = delta.baseAddress, let target = page.baseAddress
        else { return delta.isEmpty }
        // SAFETY: `isValid` checked every run: `from + count <= delta.count` and
        // `to + count <= page.count`.
        return walk(delta, pageSize: page.count) { from, to, count in
            (target + to).copyMemory(from: source + from, byteCount: count)
        }
    }

    /// Walks the runs of `delta`, calling `copy(from, to, count)` for each run of changed
    /// bytes (`count` bytes at `from` in the delta belong at `to` in the page); false at the
    /// first fault, as QEMU's decoder.
    private static func walk(
        _ delta: UnsafeRawBufferPointer, pageSize: Int, _ copy: (Int, Int, Int) -> Void
    ) -> Bool {
        var i = 0
        var d = 0
        while i < delta.count {
            // (QEMU asks for two bytes before each count: a count and at least one more byte.)
            guard delta.count - i >= 2, let unchanged = count(delta, at: i), i == 0 || unchanged.value != 0 else {
                return false
            }
            i += unchanged.size
            d += unchanged.value
            guard d <= pageSize, delta.count - i >= 2, let changed = count(delta, at: i), changed.value != 0 else {
                return false
            }
            i += changed.size
            guard d + changed.value <= pageSize, i + changed.value <= delta.count else { return false }
            copy(i, d, changed.value)
            d += changed.value
            i += changed.value
        }
        return true
    }

    /// The ULEB128 count at `at` (QEMU `uleb128_decode_small`): one byte below 0x80, else
    /// its low 7 bits and a second byte below 0x80 as bits 7-13; nil for a longer number.
    /// The caller has checked that two bytes are there.
    private static func count(_ delta: UnsafeRawBufferPointer, at: Int) -> (value: Int, size: Int)? {
        let first = delta[at]
        if first & 0x80 == 0 { return (Int(first), 1) }
        let second = delta[at + 1]
        if second & 0x80 != 0 { return nil }
        return (Int(first & 0x7F) | Int(second) << 7, 2)
    }
}
