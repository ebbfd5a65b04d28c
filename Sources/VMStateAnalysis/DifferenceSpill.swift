// The field differences of `vmstate diff` kept in a temporary file rather than in memory: two
// streams of many sections whose every value differs have millions of differences (about 330
// bytes each held as `StreamDifference`s: a million took 380 MB). Written while the diff is
// built, read back in order, a buffer at a time, for the text and the JSON.

/// Differences on disk (``StreamDiff/Options`` `differencesOnDisk`), in the order they were
/// found; the file is made when the first 64 KiB of them are written (fewer need none). Each
/// is one record: its kind (1 byte), instance id (4 bytes), occurrence (8 bytes), then section,
/// field, A's and B's values, each a 4-byte length (`0xffffffff`: none) and its UTF-8 bytes, in
/// this machine's byte order (the file lives only as long as the process).
package final class DifferenceSpill: @unchecked Sendable, Equatable {
    // (Sendable: appended to only while the diff is built, then only read.)

    /// Made at the first write (a diff of few differences needs no temporary file: `diff
    /// --no-ram` of streams that differ little works where `$TMPDIR` cannot hold one).
    private var file: TemporaryRecordFile<UInt8>?
    private var pending: [UInt8] = []
    /// The first failure to write, thrown by ``finish()`` (``append(_:)`` does not throw: it is
    /// called deep in the comparison of two records).
    private var failure: StreamFileError?
    /// Number of differences appended.
    package private(set) var count = 0
    /// The ``StreamDifference/sectionLabel``s of the differences appended (as many as the
    /// streams have sections, at most).
    private(set) var sectionLabels = Set<String>()

    private static let kinds: [StreamDifference.Kind] = [.changed, .onlyInA, .onlyInB, .version]
    private static let flushSize = 1 << 16
    private static let none = UInt32.max

    /// An empty spill; its file is made in `$TMPDIR` (default /tmp), unlinked at once, when
    /// it is first written.
    package init() {
        pending.reserveCapacity(Self.flushSize + 4096)
    }

    package static func == (x: DifferenceSpill, y: DifferenceSpill) -> Bool { x === y }

    /// Appends `d` (a failure to write is thrown by ``finish()`` and ``forEach(_:)``).
    package func append(_ d: StreamDifference) {
        count += 1
        sectionLabels.insert(d.sectionLabel)
        pending.append(UInt8(Self.kinds.firstIndex(of: d.kind)!))
        withUnsafeBytes(of: d.instance) { pending.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(d.occurrence)) { pending.append(contentsOf: $0) }
        for s in [d.section, d.field, d.a, d.b] {
            guard let s else {
                withUnsafeBytes(of: Self.none) { pending.append(contentsOf: $0) }
                continue
            }
            withUnsafeBytes(of: UInt32(s.utf8.count)) { pending.append(contentsOf: $0) }
            pending.append(contentsOf: s.utf8)
        }
        if pending.count >= Self.flushSize { flush() }
    }

    /// Writes the pending records (after a failure, drops them: the diff fails).
    private func flush() {
        defer { pending.removeAll(keepingCapacity: true) }
        guard !pending.isEmpty, failure == nil else { return }
        do throws(StreamFileError) {
            if self.file == nil { self.file = try TemporaryRecordFile("field differences") }
            guard let file else { return }
            try pending.withUnsafeBufferPointer { (p) throws(StreamFileError) in try file.append(p) }
        } catch {
            failure = error
        }
    }

    /// Writes what is still in memory once a file was made (what never filled 64 KiB stays in
    /// memory); throws the first failure to make or write the file (`StreamFileError`).
    package func finish() throws(StreamFileError) {
        if file != nil { flush() }
        if let failure { throw failure }
    }

    /// Calls `body` with every difference, in order, read back a buffer at a time. Throws
    /// `StreamFileError` when the file cannot be written or read.
    package func forEach(_ body: (StreamDifference) throws(StreamFileError) -> Void) throws(StreamFileError) {
        try finish()
        var reader = Reader(file: file, held: file == nil ? pending : [])
        for _ in 0..<count {
            try reader.need(13)
            let kind = Self.kinds[Int(reader.byte())]
            let instance: UInt32 = reader.value()
            let occurrence: UInt64 = reader.value()
            var strings: [String?] = []
            for _ in 0..<4 {
                try reader.need(4)
                let n: UInt32 = reader.value()
                guard n != Self.none else {
                    strings.append(nil)
                    continue
                }
                try reader.need(Int(n))
                strings.append(reader.string(Int(n)))
            }
            try body(
                StreamDifference(
                    section: strings[0] ?? "", instance: instance, field: strings[1] ?? "", kind: kind, a: strings[2],
                    b: strings[3], occurrence: Int(occurrence)))
        }
    }

    /// Reads the file in order through a buffer that grows to the longest record, or
    /// (no file) the records held.
    private struct Reader {
        let file: TemporaryRecordFile<UInt8>?
        var buffer: [UInt8]
        /// The bytes read and not yet used: `buffer[start..<end]`.
        var start = 0
        var end = 0
        /// The file offset of the next read.
        var offset = 0

        init(file: TemporaryRecordFile<UInt8>?, held: [UInt8]) {
            self.file = file
            buffer = file == nil ? held : [UInt8](repeating: 0, count: DifferenceSpill.flushSize)
            end = file == nil ? held.count : 0
        }

        /// Makes `n` bytes available from `start`.
        mutating func need(_ n: Int) throws(StreamFileError) {
            guard end - start < n else { return }
            // (Every record was written whole: a record cut short is a bug, not bad input.)
            guard let file else { preconditionFailure("a held record of the field differences is cut short") }
            // The unused bytes moved to the front, the buffer made room for `n` at least.
            buffer.removeSubrange(0..<start)
            end -= start
            start = 0
            let size = max(n, DifferenceSpill.flushSize)
            if buffer.count < size { buffer.append(contentsOf: repeatElement(0, count: size - buffer.count)) }
            while end < n {
                let read = try buffer.withUnsafeMutableBufferPointer { (b) throws(StreamFileError) in
                    try file.read(at: offset, into: UnsafeMutableBufferPointer(rebasing: b[end...]))
                }
                precondition(read > 0, "the temporary file of the field differences ended inside a record")
                end += read
                offset += read
            }
        }

        mutating func byte() -> UInt8 {
            start += 1
            return buffer[start - 1]
        }

        mutating func value<T: FixedWidthInteger>() -> T {
            var v = T.zero
            // SAFETY: copies `MemoryLayout<T>.size` bytes from `start`, which `need` made
            // available, into `v`'s own bytes (an integer: any bytes are a value).
            withUnsafeMutableBytes(of: &v) { out in
                buffer.withUnsafeBytes {
                    out.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<start + out.count]))
                }
            }
            start += MemoryLayout<T>.size
            return v
        }

        mutating func string(_ n: Int) -> String {
            defer { start += n }
            return String(decoding: buffer[start..<start + n], as: UTF8.self)
        }
    }
}
