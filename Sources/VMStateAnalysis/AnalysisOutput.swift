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
        guard case .integer(let bytes, let signed) = self else { return nil }
        guard bytes.count <= 64 else { return nil }
        if signed, let first = bytes.first, first & 0x80 != 0 {
            return "-" + decimalMagnitude(twosComplementNegated(bytes))
        }
        return decimalMagnitude(bytes)
    }
}

/// `0x` and the big-endian bytes in hex (2 digits per byte), plus ` (-N)` for negative signed
/// values: Python's `'0x%0{2*size}x' % unsigned` and `' (%d)' % signed`.
func analysisFormatInteger(bytes: [UInt8], signed: Bool) -> String {
    var w = JSONTextWriter()
    bytes.withUnsafeBytes { w.appendHexBytes($0, separator: nil) }
    var s = "0x" + w.text
    if bytes.isEmpty { s += "0" }
    if signed, let first = bytes.first, first & 0x80 != 0 {
        // Decimal conversion is quadratic in the length; real fields are at most 8 bytes.
        s += bytes.count <= 64 ? " (-" + decimalMagnitude(twosComplementNegated(bytes)) + ")" : " (negative)"
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
    /// use `writeState` for that).
    package var stateJSON: JSONValue {
        var root = JSONObject()
        for section in sections {
            switch section.content {
            case .device(let record):
                root[section.key] = .object(record.pythonJSON)
            case .ram(let ram):
                root[section.key] = .object(["section sizes": .object(ram.sectionSizesJSON)])
            case .htab:
                root[section.key] = .string("")
            }
        }
        return .object(root)
    }

    /// What `analyze-migration.py -d desc -f FILE` prints: the vmdesc, with duplicate keys
    /// resolved as Python's json module resolves them.
    package var descriptionJSON: JSONValue { vmdesc.deduplicatingKeys() }

    /// Writes the state JSON (and, with `memory`, every RAM page) to `writer`, without
    /// building the whole document in memory. `progress` receives the stream offset of the
    /// page being written.
    public func writeState(to writer: inout JSONTextWriter, memory: Bool, progress: ((Int) -> Void)? = nil) {
        writer.beginObject()
        for section in sections {
            writer.key(section.key)
            switch section.content {
            case .device(let record):
                writer.value(.object(record.pythonJSON))
            case .ram(let ram):
                writer.beginObject()
                writer.key("section sizes")
                writer.value(.object(ram.sectionSizesJSON))
                if memory {
                    writer.key("memory")
                    writeMemory(ram, to: &writer, progress: progress)
                }
                writer.endObject()
            case .htab:
                writer.string("")
            }
        }
        writer.endObject()
    }

    private func writeMemory(_ ram: RAMSection, to writer: inout JSONTextWriter, progress: ((Int) -> Void)?) {
        // Python dict semantics: a page's key keeps its first position, its value is the last.
        struct Key: Hashable { var block: Int32; var address: UInt64 }
        var last: [Key: Int] = [:]
        last.reserveCapacity(ram.pages.count)
        for (i, p) in ram.pages.enumerated() { last[Key(block: p.block, address: p.address)] = i }
        var done = Set<Key>()
        let pageSize = self.pageSize
        var nextReport = 0
        writer.beginObject()
        // Pages are read through a bounded window moved along the stream (pages come in
        // stream order, so it moves forward).
        let window = bytes.makeWindow()
        var buf = UnsafeRawBufferPointer(start: nil, count: 0)
        var windowStart = Int.max
        withExtendedLifetime(window) {
            for p in ram.pages {
                let k = Key(block: p.block, address: p.address)
                if last.count != ram.pages.count {
                    if done.contains(k) { continue }
                    done.insert(k)
                }
                let page = ram.pages[last[k]!]
                writer.key("\(ram.pageBlockNames[Int(p.block)]) (0x\(analysisHex(p.address, width: 16)))")
                switch page.content {
                case .fill(let b):
                    writer.string("Filled with 0x\(analysisHex(UInt64(b), width: 2))")
                case .data(let offset):
                    if offset < windowStart || offset + pageSize > buf.count {
                        buf = window.map(at: offset, minCount: pageSize)
                        windowStart = offset & ~4095
                    }
                    if offset + pageSize <= buf.count {
                        writer.hexBytesString(UnsafeRawBufferPointer(rebasing: buf[offset..<(offset + pageSize)]))
                    } else {
                        // The file shrank or cannot be mapped: print what can be read.
                        let copy = bytes.copyBytes(at: offset, count: pageSize)
                        copy.withUnsafeBytes { writer.hexBytesString($0) }
                    }
                    if let progress, offset >= nextReport {
                        progress(offset)
                        nextReport = offset + (4 << 20)
                    }
                }
            }
        }
        writer.endObject()
    }
}

extension RAMSection {
    /// "section sizes" as the script prints it: block name -> "0x%016x".
    package var sectionSizesJSON: JSONObject {
        var o = JSONObject()
        for b in blocks { o[b.name] = .string("0x" + analysisHex(b.length, width: 16)) }
        return o
    }
}
