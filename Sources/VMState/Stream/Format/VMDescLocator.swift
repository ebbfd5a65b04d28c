// Where a stream's vmdesc is (docs/FORMAT.md §7, §10): after the EOF byte, byte 0x06, be32
// length, then that much JSON, ending the input (QEMU 7.2 to 10.0 write it so; the JSON starts
// `{"page_size"` before 8.2, `{"configuration"` from 8.2).

/// The vmdesc record at the end of a stream.
package struct VMDescRecord: Sendable, Equatable {
    /// Offset of the 0x06 marker.
    package var markerOffset: Int
    /// Offset of the JSON text (marker + 5).
    package var jsonOffset: Int { markerOffset + 5 }
    /// Length of the JSON text.
    package var jsonLength: Int

    /// The vmdesc that ends `bytes` (indexed by stream offset; only `lowest..<bytes.count` is
    /// read): walking back from the end, the first 0x06 whose be32 length reaches exactly to the
    /// end. JSON text never holds the byte 0x06, so that is the marker. Nil when there is none.
    /// With `highest`, the walk starts there instead (a marker at offsets `lowest...highest`;
    /// a caller walks a long tail in pieces).
    package static func locateAtEnd(_ bytes: UnsafeRawBufferPointer, lowest: Int = 0, highest: Int = .max)
        -> VMDescRecord?
    {
        let n = bytes.count
        var i = min(n - 5, highest)
        while i >= max(0, lowest) {
            if bytes[i] == StreamFormat.vmdesc {
                // SAFETY: i + 5 <= n: the 4 length bytes are inside `bytes`.
                let length = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: i + 1, as: UInt32.self)))
                if length == n - i - 5 { return VMDescRecord(markerOffset: i, jsonLength: length) }
            }
            i -= 1
        }
        return nil
    }

    /// A vmdesc record that ends before the end of `bytes` (indexed by stream offset; only
    /// `lowest..<bytes.count` is read), for the error of a stream followed by other bytes (a
    /// file appended to): the last 0x06 at `lowest + 1...highest` after an end-of-stream byte
    /// (0x00) whose be32 length spans text from `{` to `}` that ends before the last byte. Nil
    /// when there is none.
    package static func locateBeforeEnd(
        _ bytes: UnsafeRawBufferPointer, lowest: Int = 0, highest: Int = .max
    ) -> VMDescRecord? {
        let n = bytes.count
        var i = min(n - 7, highest)
        while i >= max(1, lowest + 1) {  // (bytes[i - 1] is read too)
            if bytes[i] == StreamFormat.vmdesc && bytes[i - 1] == StreamFormat.eof {
                // SAFETY: i + 5 < n: the 4 length bytes and the first JSON byte are inside `bytes`.
                let length = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: i + 1, as: UInt32.self)))
                let end = i + 5 + length
                if length >= 2 && end < n && bytes[i + 5] == UInt8(ascii: "{") && bytes[end - 1] == UInt8(ascii: "}") {
                    return VMDescRecord(markerOffset: i, jsonLength: length)
                }
            }
            i -= 1
        }
        return nil
    }

    /// The vmdesc record that ends `bytes` after the EOF byte, found from the last 0x06 in them:
    /// JSON text never holds 0x06, so when a vmdesc ends the bytes, that 0x06 is its marker or
    /// one of its four length bytes. `lastMarker` carries the stream offset of the last 0x06
    /// seen and `scanned` the offset up to which bytes were looked at, between calls over bytes
    /// that grow at the end (`bytes` start at stream offset `start`), so each byte is scanned
    /// once. Nil when the bytes do not end with a vmdesc.
    package static func endingRead(
        _ bytes: UnsafeRawBufferPointer, start: Int, lastMarker: inout Int, scanned: inout Int
    ) -> VMDescRecord? {
        let endOffset = start + bytes.count
        var j = endOffset - 1
        while j >= max(scanned, start) {
            if bytes[j - start] == StreamFormat.vmdesc {
                lastMarker = j
                break
            }
            j -= 1
        }
        scanned = endOffset
        var i = lastMarker
        while i >= max(lastMarker - 4, start + 1) {
            if i + 5 <= endOffset && bytes[i - start] == StreamFormat.vmdesc && bytes[i - start - 1] == StreamFormat.eof
            {
                // SAFETY: i + 5 <= endOffset: the 4 length bytes are inside `bytes`.
                let length = Int(
                    UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: i - start + 1, as: UInt32.self)))
                if length == endOffset - i - 5 { return VMDescRecord(markerOffset: i - start, jsonLength: length) }
            }
            i -= 1
        }
        return nil
    }

    /// A vmdesc cut short by the end of `bytes`: an EOF byte, 0x06 and a be32 length (or the
    /// first bytes of one) whose JSON text would reach past the end, with nothing but JSON text
    /// (`{` first, no control byte but tab, LF and CR) from there to the end. Found from the
    /// last 0x06 of the bytes: JSON text has none, so when a cut vmdesc ends them, that 0x06 is
    /// its marker or one of its length bytes (tried from the earliest). Returns the marker's
    /// offset and the JSON length (nil when the bytes end inside the length); nil when the bytes
    /// do not end so.
    package static func locateCut(_ bytes: UnsafeRawBufferPointer) -> (markerOffset: Int, jsonLength: Int?)? {
        let n = bytes.count
        for i in markerCandidates(bytes) {
            if i + 5 > n { return (i, nil) }
            let length = jsonLength(bytes, marker: i)
            guard length > n - i - 5, i + 5 == n || bytes[i + 5] == UInt8(ascii: "{") else { continue }
            if (i + 5..<n).allSatisfy({ isJSONText(bytes[$0]) }) { return (i, length) }
        }
        return nil
    }

    /// A vmdesc record whose declared JSON text lies whole inside `bytes`, with nothing but JSON
    /// text (no control byte but tab, LF and CR) from there to the end: the JSON of its length and
    /// any bytes after it. For telling a vmdesc that is whole but does not parse (not an object,
    /// a length a few bytes short) from a stream cut short. Found from the last 0x06 of the
    /// bytes, as ``locateCut(_:)`` does (JSON text has none; tried from the earliest byte of a
    /// length that could hold one). Nil when the bytes do not end so.
    package static func locateWholeText(_ bytes: UnsafeRawBufferPointer) -> VMDescRecord? {
        let n = bytes.count
        for i in markerCandidates(bytes) where i + 5 <= n {
            let length = jsonLength(bytes, marker: i)
            guard length >= 1, length <= n - i - 5 else { continue }
            if (i + 5..<n).allSatisfy({ isJSONText(bytes[$0]) }) {
                return VMDescRecord(markerOffset: i, jsonLength: length)
            }
        }
        return nil
    }

    /// Where the marker of a vmdesc whose JSON text ends `bytes` can be, earliest first: the last
    /// 0x06 of the bytes (JSON text has none), which is the marker or one of its length's
    /// bytes, and the 4 before it (a length's bytes may hold 0x00 0x06, a vmdesc of 0x693
    /// bytes, which read as a marker would give a length made of JSON text); only those with
    /// the EOF byte before them.
    private static func markerCandidates(_ bytes: UnsafeRawBufferPointer) -> [Int] {
        var last = bytes.count - 1
        while last >= 1 && bytes[last] != StreamFormat.vmdesc { last -= 1 }
        guard last >= 1 else { return [] }
        return (max(1, last - 4)...last).filter {
            bytes[$0] == StreamFormat.vmdesc && bytes[$0 - 1] == StreamFormat.eof
        }
    }

    /// The be32 JSON length after the marker at `marker` (its 4 bytes inside `bytes`).
    private static func jsonLength(_ bytes: UnsafeRawBufferPointer, marker: Int) -> Int {
        // SAFETY: the caller checked marker + 5 <= bytes.count: the 4 length bytes are inside.
        Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: marker + 1, as: UInt32.self)))
    }

    /// JSON text holds no control byte but tab, LF and CR.
    private static func isJSONText(_ c: UInt8) -> Bool { c >= 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }

    /// A vmdesc followed by other bytes: walking back from the end of `bytes`, the first EOF
    /// byte, 0x06 and be32 length whose JSON text starts with `{`, ends with `}` inside `bytes`,
    /// holds no control byte (JSON text has none but tab, LF and CR) and satisfies `accept`
    /// (which parses it). For a stream with bytes after its vmdesc, as QEMU's destination
    /// (which stops reading at EOF) accepts. Nil when there is none.
    ///
    /// The texts handed to `accept` never overlap (each candidate's marker is a control byte),
    /// so however many candidates the bytes hold, `accept` sees each byte at most once.
    package static func locateBeforeTrailingBytes(
        _ bytes: UnsafeRawBufferPointer, accept: (UnsafeRawBufferPointer) -> Bool
    ) -> VMDescRecord? {
        var i = bytes.count - 7
        // The first control byte at or after `scanned` (bytes below `scanned` not looked at yet).
        var scanned = bytes.count
        var nextControl = bytes.count
        while i >= 1 {
            while scanned > i + 5 {
                scanned -= 1
                let c = bytes[scanned]
                if !isJSONText(c) { nextControl = scanned }
            }
            if bytes[i] == StreamFormat.vmdesc && bytes[i - 1] == StreamFormat.eof && bytes[i + 5] == UInt8(ascii: "{")
            {
                // SAFETY: i + 7 <= count: the 4 length bytes and the first JSON byte are inside `bytes`.
                let length = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: i + 1, as: UInt32.self)))
                if length >= 2 && i + 5 + length <= nextControl && bytes[i + 4 + length] == UInt8(ascii: "}")
                    && accept(UnsafeRawBufferPointer(rebasing: bytes[(i + 5)..<(i + 5 + length)]))
                {
                    return VMDescRecord(markerOffset: i, jsonLength: length)
                }
            }
            i -= 1
        }
        return nil
    }
}
