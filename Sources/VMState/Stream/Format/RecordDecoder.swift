// The stream-format layer's decoding model (docs/FORMAT.md §10), shaped like swift-nio's
// ByteToMessageDecoder: a decoder looks at the bytes available at a record's start and returns
// either the record and how many bytes it took, or "need more data" naming the field that was
// cut. It never consumes or keeps the bytes, so the same decoder serves a whole buffer, a file
// window (the analyzer's memory maps) or a socket (the registry's MigrationFile), each reader
// driving it its own way and wording its own errors.

/// What a decoder made of the bytes at a record's start.
package enum FormatDecoded<Record> {
    /// The whole record was there: it and its length in bytes (to consume).
    case record(Record, length: Int)
    /// The bytes end inside the record: which field was cut, and how many bytes from the
    /// record's start are needed to go on.
    case needMoreData(FormatShortfall)
}

/// A field of a stream record, named for the reader's error message when the bytes end inside
/// it (docs/FORMAT.md §5, §10).
package enum FormatField: Sendable, Equatable {
    case magic, formatVersion
    case sectionID, idstrLength, idstr, instanceID, versionID
    case footerMarker, footerSectionID
    case commandNumber, commandLength
    case machineTypeLength, machineType
    case subsectionMarker, subsectionNameLength, subsectionName, subsectionVersion
    case capabilityCount, capabilityNameLength, capabilityName, targetPageBits
    case ramWord, blockNameLength, blockName, blockLength, blockAddress
    case mappedRAMVersion, mappedRAMPageSize, mappedRAMBitmapOffset, mappedRAMPagesOffset
    case xbzrleEncoding, xbzrleLength
    case compressedPageLength
    case htabHeader, htabChunkIndex, htabValidCount, htabInvalidCount
    case storageAttributesWord, storageAttributesCount
}

/// Where the bytes ended inside a record.
package struct FormatShortfall: Error, Sendable, Equatable {
    /// The field that was cut.
    package var field: FormatField
    /// The field's offset from the record's start, in bytes.
    package var offset: Int
    /// The field's size in bytes.
    package var size: Int
    /// The name read before the cut, for messages (a section's idstr, a RAM block's name).
    package var context: String?
    /// A section's instance id, when the cut came after it (in the version id), for messages.
    package var instanceID: UInt32?

    package init(field: FormatField, offset: Int, size: Int, context: String? = nil, instanceID: UInt32? = nil) {
        self.field = field
        self.offset = offset
        self.size = size
        self.context = context
        self.instanceID = instanceID
    }

    /// Bytes from the record's start that must be available to go on.
    package var required: Int { offset + size }
}

/// A decoder of one kind of stream record (a `ByteToMessageDecoder` without the channel): pure,
/// stateless apart from its configuration, reads only `bytes[0..<n]` for the `n` it returns or
/// asks for.
package protocol StreamRecordDecoder {
    associatedtype Record
    /// The record at the start of `bytes`, or which field the bytes end in.
    func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<Record>
}

/// A cursor over the bytes a decoder is given: big-endian reads that throw a
/// ``FormatShortfall`` when the bytes end inside the field.
package struct FormatCursor {
    package let bytes: UnsafeRawBufferPointer
    /// Bytes consumed from the record's start.
    package private(set) var offset = 0
    /// The name decoded so far, carried into a shortfall.
    package var context: String?
    /// The section instance id decoded so far, carried into a shortfall.
    package var instanceID: UInt32?

    package init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    @inline(__always)
    mutating func need(_ n: Int, _ field: FormatField) throws(FormatShortfall) {
        if n > bytes.count - offset {
            throw FormatShortfall(field: field, offset: offset, size: n, context: context, instanceID: instanceID)
        }
    }

    @inline(__always)
    package mutating func u8(_ field: FormatField) throws(FormatShortfall) -> UInt8 {
        try need(1, field)
        defer { offset += 1 }
        return bytes[offset]
    }

    @inline(__always)
    package mutating func be16(_ field: FormatField) throws(FormatShortfall) -> UInt16 {
        try need(2, field)
        defer { offset += 2 }
        // SAFETY: `need(2)` checked bytes offset..<offset + 2 are inside `bytes`.
        return UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    package mutating func be32(_ field: FormatField) throws(FormatShortfall) -> UInt32 {
        try need(4, field)
        defer { offset += 4 }
        // SAFETY: `need(4)` checked bytes offset..<offset + 4 are inside `bytes`.
        return UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    package mutating func be64(_ field: FormatField) throws(FormatShortfall) -> UInt64 {
        try need(8, field)
        defer { offset += 8 }
        // SAFETY: `need(8)` checked bytes offset..<offset + 8 are inside `bytes`.
        return UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// `n` bytes, copied.
    package mutating func array(_ n: Int, _ field: FormatField) throws(FormatShortfall) -> [UInt8] {
        try need(n, field)
        defer { offset += n }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
    }

    /// A byte length, then that many bytes (idstrs, RAM block names, capability names).
    package mutating func shortString(length: FormatField, _ field: FormatField) throws(FormatShortfall) -> [UInt8] {
        let n = Int(try u8(length))
        return try array(n, field)
    }

    /// Runs `body` over `bytes`: the record it returns with the bytes it read, or the shortfall.
    @inline(__always)
    package static func decode<R>(
        _ bytes: UnsafeRawBufferPointer, _ body: (inout FormatCursor) throws(FormatShortfall) -> R
    ) -> FormatDecoded<R> {
        var cursor = FormatCursor(bytes)
        do throws(FormatShortfall) {
            let record = try body(&cursor)
            return .record(record, length: cursor.offset)
        } catch {
            return .needMoreData(error)
        }
    }
}

extension StreamRecordDecoder {
    /// Decodes from an array (tests, small buffers).
    package func decode(_ bytes: [UInt8]) -> FormatDecoded<Record> {
        bytes.withUnsafeBytes { decode($0) }
    }
}
