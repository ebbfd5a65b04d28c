import VMState
// The JSON that QEMU 10.0's scripts/analyze-migration.py prints (7.2's prints the same for 7.2
// streams), written from a StreamAnalysis.
//
// `-f FILE` (state): an object with one member per section, keyed "idstr (section_id)":
// device sections hold their fields by vmdesc name (integers as zero-padded hex strings sized
// by the field, negative signed values followed by " (decimal)", bools as JSON booleans, other
// types as space-separated hex bytes, NULL pointer entries as "nullptr", arrays and repeated
// names as lists, structs and subsections as objects); the
// RAM section holds "section sizes" (block name -> "0x%016x" length).
//
// `-m` (memory), which QEMU 7.2's script cannot actually print under Python 3, is defined here
// as the script intends: the RAM section gains a "memory" object after "section sizes", with
// one member per page, keyed "BLOCK (0x%016x)" by the page's offset in its block, in stream
// order; a page sent more than once keeps its first position and its last contents. The value
// is "Filled with 0xNN" for a fill (zero) page and the page's bytes as space-separated hex for
// a data page.

extension FieldValue {
    /// The value as analyze-migration.py prints it.
    package var pythonJSON: JSONValue {
        switch self {
        case .integer, .bytes, .nullPointer, .text:
            return .string(displayString)
        case .bool(let b):
            return .bool(b)
        case .record(let r):
            return .object(r.pythonJSON)
        case .list(let items):
            return .array(items.map(\.pythonJSON))
        }
    }

    /// Leaf values as analyze-migration.py spells them (`0x0000d980`, `0xff (-1)`,
    /// `00 01 02`, `true`/`false` for bools); containers as a short summary.
    public var displayString: String {
        switch self {
        case .integer(let bytes, let signed):
            return analysisFormatInteger(bytes: bytes, signed: signed)
        case .bytes(let bytes):
            var w = JSONTextWriter()
            bytes.withUnsafeBytes { w.appendHexBytes($0, separator: 0x20) }
            return w.text
        case .bool(let b):
            return b ? "true" : "false"
        case .record(let r):
            return "{\(r.members.count) member\(r.members.count == 1 ? "" : "s")}"
        case .list(let items):
            return "[\(items.count) element\(items.count == 1 ? "" : "s")]"
        case .nullPointer:
            return "nullptr"
        case .text(let s):
            return s
        }
    }

    /// For integers: the unsigned value, when it fits 64 bits.
    public var unsignedValue: UInt64? {
        guard case .integer(let bytes, _) = self, bytes.count <= 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// For integers (up to 64 bytes): the value read the way the field's type reads (signed or
    /// not), in decimal.
    public var decimalString: String? {
        guard case .integer(let integer, let signed) = self else { return nil }
        guard integer.count <= 64 else { return nil }
        let bytes = integer.array
        if signed, let first = bytes.first, first & 0x80 != 0 {
            return "-" + decimalMagnitude(twosComplementNegated(bytes))
        }
        return decimalMagnitude(bytes)
    }
}

extension FieldValue {
    /// Writes the value as analyze-migration.py prints it (what ``pythonJSON`` holds), straight
    /// to `writer`, without building JSON values.
    func writePython(to writer: inout JSONTextWriter) {
        switch self {
        case .integer(let bytes, let signed):
            writer.string(analysisFormatInteger(bytes: bytes, signed: signed))
        case .bytes(let bytes):
            bytes.withUnsafeBytes { writer.hexBytesString($0) }
        case .bool(let b):
            writer.bool(b)
        case .record(let r):
            r.writePython(to: &writer)
        case .list(let items):
            writer.beginArray()
            for item in items { item.writePython(to: &writer) }
            writer.endArray()
        case .nullPointer:
            writer.string("nullptr")
        case .text(let s):
            writer.string(s)
        }
    }
}

extension FieldRecord {
    /// Writes the record as analyze-migration.py prints it (what ``pythonJSON`` holds).
    func writePython(to writer: inout JSONTextWriter) {
        writer.beginObject()
        for m in members {
            writer.key(m.name)
            m.value.writePython(to: &writer)
        }
        writer.endObject()
    }
}

private let lowerHexDigits: StaticString = "0123456789abcdef"

/// `0x` and the big-endian bytes in hex (2 digits per byte), plus ` (-N)` for negative signed
/// values: Python's `'0x%0{2*size}x' % unsigned` and `' (%d)' % signed`.
func analysisFormatInteger(bytes: IntegerBytes, signed: Bool) -> String {
    if !bytes.isEmpty && bytes.count <= 16 && !(signed && bytes[0] & 0x80 != 0) {
        // The common case (a non-negative value of a real field), built in one allocation.
        return String(unsafeUninitializedCapacity: 2 + 2 * bytes.count) { out in
            let digits = lowerHexDigits.utf8Start
            out[0] = UInt8(ascii: "0")
            out[1] = UInt8(ascii: "x")
            for (i, b) in bytes.enumerated() {
                out[2 + 2 * i] = digits[Int(b >> 4)]
                out[3 + 2 * i] = digits[Int(b & 15)]
            }
            return 2 + 2 * bytes.count
        }
    }
    let array = bytes.array
    var w = JSONTextWriter()
    array.withUnsafeBytes { w.appendHexBytes($0, separator: nil) }
    var s = "0x" + w.text
    if array.isEmpty { s += "0" }
    if signed, let first = array.first, first & 0x80 != 0 {
        // Decimal conversion is quadratic in the length; real fields are at most 8 bytes.
        s += array.count <= 64 ? " (-" + decimalMagnitude(twosComplementNegated(array)) + ")" : " (negative)"
    }
    return s
}

private func twosComplementNegated(_ bytes: [UInt8]) -> [UInt8] {
    var out = bytes.map { ~$0 }
    var i = out.count - 1
    while i >= 0 {
        let (v, overflow) = out[i].addingReportingOverflow(1)
        out[i] = v
        if !overflow { break }
        i -= 1
    }
    return out
}

/// Decimal digits of an unsigned big-endian number of any length.
private func decimalMagnitude(_ bytes: [UInt8]) -> String {
    if bytes.count <= 8 {
        return String(bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }
    var n = bytes.map { UInt32($0) }
    var digits: [UInt8] = []
    while n.contains(where: { $0 != 0 }) {
        var rem: UInt32 = 0
        for i in n.indices {
            let cur = rem << 8 | n[i]
            n[i] = cur / 10
            rem = cur % 10
        }
        digits.append(UInt8(ascii: "0") + UInt8(rem))
    }
    if digits.isEmpty { return "0" }
    return String(decoding: digits.reversed(), as: UTF8.self)
}

extension FieldRecord {
    /// The record as analyze-migration.py prints it.
    package var pythonJSON: JSONObject {
        JSONObject(members.map { JSONObject.Member(key: $0.name, value: $0.value.pythonJSON) })
    }
}

extension StreamAnalysis {
    /// What `analyze-migration.py -f FILE` prints, as a JSON value (without the memory dump;
    /// use `writeState` for that), of an analysis that kept its device sections' fields
    /// (`Options.keepDeviceFields`).
    package var stateJSON: JSONValue {
        var root = JSONObject()
        for section in sections {
            switch section.content {
            case .device(let record):
                root[section.key] = .object(record.pythonJSON)
            case .ram(let ram):
                root[section.key] = .object(["section sizes": .object(ram.sectionSizesJSON)])
            case .htab, .storageAttributes:
                root[section.key] = .string("")
            }
        }
        return .object(root)
    }

    /// What `analyze-migration.py -d desc -f FILE` prints: the vmdesc, with duplicate keys
    /// resolved as Python's json module resolves them.
    package var descriptionJSON: JSONValue { vmdesc.deduplicatingKeys() }

    /// Writes the state JSON (and, with `memory`, every RAM page) to `writer`, without
    /// building the whole document in memory. `progress` receives the stream offset reached
    /// while the pages are written. With `memory`, the stream is read a second time and each
    /// page is printed as its record is read; throws `StreamAnalysisError` when the stream no
    /// longer reads as it did the first time, or a temporary file cannot be written. An XBZRLE
    /// page (capability xbzrle) is printed as what it decodes into (``PageFold``).
    /// `memorySortChunk` bounds the page records sorted in memory at once when a page may have
    /// been sent twice (see the private `writeMemory`; smaller chunks make more runs to merge,
    /// and a merge of fewer than 64 runs at a time when under 64).
    public func writeState(
        to writer: inout JSONTextWriter, memory: Bool, progress: ((Int) -> Void)? = nil,
        memorySortChunk: Int = 1 << 17
    ) throws(StreamAnalysisError) {
        // Several RAM sections with pages (never from QEMU): their records sorted out in one pass.
        var records: RAMSectionRecords?
        let ramSectionsWithPages = sections.lazy.filter {
            if case .ram(let ram) = $0.content { ram.pageCount > 0 } else { false }
        }.count
        if memory && ramSectionsWithPages > 1 { records = try RAMSectionRecords(self, progress: progress) }
        // A section that may resend a page is sorted through temporary files: where `$TMPDIR`
        // cannot hold one, that fails here, before any output.
        if memory,
            sections.contains(where: {
                if case .ram(let ram) = $0.content { ram.pageCount > 0 && ram.mayRepeatPages } else { false }
            })
        {
            _ = try StreamAnalysisError.onTemporaryFile { () throws(StreamFileError) in
                try TemporaryRecordFile<MemoryPageRecord>(Self.memorySortFiles)
            }
        }
        let rereader = try makeDeviceSectionRereader()
        writer.beginObject()
        for (i, section) in sections.enumerated() {
            writer.key(section.key)
            switch section.content {
            case .device(let record):
                let record = try deviceRecord(at: i, reader: rereader) ?? record
                record.writePython(to: &writer)
            case .ram(let ram):
                writer.beginObject()
                writer.key("section sizes")
                writer.value(.object(ram.sectionSizesJSON))
                if memory {
                    writer.key("memory")
                    try writeMemory(
                        section.sectionID, ram, to: &writer, progress: progress, sortChunk: memorySortChunk,
                        records: records)
                }
                writer.endObject()
            case .htab, .storageAttributes:
                writer.string("")
            }
        }
        writer.endObject()
    }

    /// What the temporary files of `--memory`'s sort hold, for their errors.
    private static let memorySortFiles = "RAM pages of --memory"

    /// The "memory" object of one RAM section, with Python dict semantics: a page's key keeps
    /// the position of its first record, its value is that of its last record.
    ///
    /// When no page of a block comes at or below an earlier page's address
    /// (`RAMSection.mayRepeatPages` is false, as in any stream QEMU writes in one pass), no key
    /// repeats, and each page is printed as its record is read: one pass, no state per page.
    /// Otherwise one pass over the page records numbers them in stream order and sorts them by
    /// key, then number (``ExternalSort``: chunks of `sortChunk` records of 32 bytes sorted in
    /// memory, written as runs to an unlinked temporary file in `$TMPDIR`, merged 64 at a
    /// time); each key's first number and last contents are sorted again by that number, and
    /// the pages printed in that order, each page's bytes read at its last record's offset.
    /// Memory stays bounded by the chunk (4 MiB at the default 131,072 records) and the merge
    /// buffers (2 MiB) whatever the stream's size; the temporary files hold 64 bytes per record.
    ///
    /// XBZRLE records (which make `mayRepeatPages` true) are folded into their page's earlier
    /// contents in the sorted pass (``PageFold``): a page whose last records are XBZRLE is
    /// printed as they decode it, its bytes kept in a temporary file (a page each) until printed.
    ///
    /// The pass reads the page records of the section from the stream, or from `records` when
    /// given (a stream with several RAM sections, whose pages were sorted out by section at once).
    private func writeMemory(
        _ id: UInt32, _ ram: RAMSection, to writer: inout JSONTextWriter, progress: ((Int) -> Void)?,
        sortChunk: Int, records: RAMSectionRecords?
    ) throws(StreamAnalysisError) {
        let names = ram.pageBlockNames
        let pageSize = self.pageSize
        let generation = ram.generation
        func key(_ p: RAMPage) -> String { "\(names[Int(p.block)]) (0x\(analysisHex(p.address, width: 16)))" }
        // XBZRLE pages are decoded into a temporary file made here, before any output.
        let fold = PageFold(
            bytes: bytes, pageSize: pageSize,
            decoded: ram.xbzrlePageCount > 0
                ? try StreamAnalysisError.onTemporaryFile { () throws(StreamFileError) in
                    try DecodedPages(pageSize: pageSize)
                } : nil)
        let page = UnsafeMutableRawBufferPointer.allocate(byteCount: pageSize, alignment: 16)
        defer { page.deallocate() }
        func value(_ content: RAMPage.Content, _ data: UnsafeRawBufferPointer?, _ writer: inout JSONTextWriter)
            throws(StreamAnalysisError)
        {
            if case .fill(let b) = content {
                writer.string("Filled with 0x\(analysisHex(UInt64(b), width: 2))")
            } else if let data {
                writer.hexBytesString(data)
            } else {
                // (The analysis read this page record whole; a failed read now means the
                // file changed since.)
                do throws(StreamAnalysisError) { try fold.pages.load(content, into: page) } catch {
                    throw error.noting(changeOf: bytes)
                }
                writer.hexBytesString(UnsafeRawBufferPointer(page))
            }
        }
        writer.beginObject()
        // A section with no page records: no pass over the stream for it (a stream may have
        // thousands of RAM sections, each pass reading the whole stream).
        if ram.pageCount == 0 {
            writer.endObject()
            return
        }
        // The section's page records in stream order, with a data page's bytes when the stream's
        // reader has them at hand.
        func forEachPage(
            progress: ((Int) -> Void)?, _ visit: (RAMPage, UnsafeRawBufferPointer?) -> Void
        ) throws(StreamAnalysisError) {
            if let records {
                try records.forEachPage(of: id, generation: generation) { visit($0, nil) }
                return
            }
            try scanPages(progress: progress) { record, data in
                guard record.sectionID == id && record.generation == generation else { return }
                visit(record.page, data)
            }
        }
        if !ram.mayRepeatPages {
            var failure: StreamAnalysisError? = nil
            try forEachPage(progress: progress) { page, data in
                guard failure == nil else { return }
                writer.key(key(page))
                do throws(StreamAnalysisError) { try value(page.content, data, &writer) } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
            writer.endObject()
            return
        }
        // A page may come more than once: its key keeps the place of its first record and the
        // contents of its last. The records, numbered in stream order, are sorted by key (then
        // number); each key's first number and last contents are sorted again by that number
        // and printed in that order.
        let chunk = max(1, sortChunk)
        let fanIn = min(64, max(2, chunk))
        let what = Self.memorySortFiles
        let byKey = try StreamAnalysisError.onTemporaryFile { () throws(StreamFileError) in
            try ExternalSort<MemoryPageRecord>(
                what, chunkCapacity: chunk, fanIn: fanIn, bufferEntries: 1024, by: MemoryPageRecord.byPage)
        }
        var number: UInt64 = 0
        var failure: StreamAnalysisError?
        try forEachPage(progress: progress) { page, _ in
            guard failure == nil else { return }
            do throws(StreamAnalysisError) {
                try StreamAnalysisError.onTemporaryFile { () throws(StreamFileError) in
                    try byKey.append(MemoryPageRecord(page, number: number))
                }
            } catch { failure = error }
            number += 1
        }
        if let failure { throw failure }
        let byFirst = try StreamAnalysisError.onTemporaryFile { () throws(StreamFileError) in
            try ExternalSort<MemoryPageRecord>(what, chunkCapacity: chunk, fanIn: fanIn, bufferEntries: 1024) {
                $0.number < $1.number
            }
        }
        // Each key's first record, its contents those of all its records folded.
        let keys = try StreamAnalysisError.onTemporaryFile { () throws(StreamFileError) in try byKey.sorted() }
        try fold.foldEach(keys) { (f) throws(StreamAnalysisError) in
            try StreamAnalysisError.onTemporaryFile { () throws(StreamFileError) in try byFirst.append(f) }
        }
        let ordered = try StreamAnalysisError.onTemporaryFile { () throws(StreamFileError) in try byFirst.sorted() }
        while let r = try StreamAnalysisError.onTemporaryFile({ () throws(StreamFileError) in try ordered.next() }) {
            let page = r.page
            writer.key(key(page))
            try value(page.content, nil, &writer)
        }
        writer.endObject()
    }
}

/// A page record of `analyze --memory` for a section that may send a page twice (32 bytes).
struct MemoryPageRecord: BitwiseCopyable {
    var block: UInt32
    /// Zero: the four bytes after `block` that would otherwise be padding, written to the
    /// temporary file uninitialized (valgrind's "pwrite64(buf) points to uninitialised byte(s)").
    var reserved: UInt32 = 0
    /// The page's offset within its block.
    var address: UInt64
    /// The record's number among its section's page records, in stream order.
    var number: UInt64
    /// What the page holds, as ``PageIndexEntry/encode(_:)`` gives it.
    var content: UInt64

    init(_ page: RAMPage, number: UInt64) {
        block = UInt32(bitPattern: page.block)
        address = page.address
        self.number = number
        content = PageIndexEntry.encode(page.content)
    }

    var page: RAMPage {
        RAMPage(block: Int32(bitPattern: block), address: address, content: PageIndexEntry.decode(content))
    }

    /// The order of records by page (block, then address), then stream order: each page's
    /// records together, as ``PageFold/foldEach(_:_:)`` reads them.
    static func byPage(_ x: MemoryPageRecord, _ y: MemoryPageRecord) -> Bool {
        (x.block, x.address, x.number) < (y.block, y.address, y.number)
    }
}

extension RAMSection {
    /// "section sizes" as the script prints it: block name -> "0x%016x".
    package var sectionSizesJSON: JSONObject {
        // (`blocks` has each name once: appended, not looked up, which costs O(blocks) each.)
        JSONObject(
            blocks.map { JSONObject.Member(key: $0.name, value: .string("0x" + analysisHex($0.length, width: 16))) })
    }
}
