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
    package static func locateAtEnd(_ bytes: UnsafeRawBufferPointer, lowest: Int = 0) -> VMDescRecord? {
        let n = bytes.count
        var i = n - 5
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
}
