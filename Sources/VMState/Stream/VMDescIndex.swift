/// The device entries of a stream's own vmdesc (the JSON after EOF), with each entry's exact
/// JSON text and the number of section bytes it describes, so that a section nobody registered
/// can be skipped (or kept) without understanding it.
struct VMDescIndex {
    struct Entry {
        let name: String
        let instanceID: UInt32
        /// Bytes of section data (between the section header and the footer).
        let size: Int
        /// The device object's JSON text, byte for byte as in the stream.
        let json: [UInt8]
    }

    let pageSize: Int
    let entries: [Entry]

    func device(_ name: String, _ instanceID: UInt32) -> Entry? {
        entries.first { $0.name == name && $0.instanceID == instanceID }
    }

    /// Finds the vmdesc at the end of the stream: 0x06, be32 length, then that much JSON to
    /// the end of the input. Nil when the stream has none (or it does not parse).
    static func find(in file: MigrationFile) -> VMDescIndex? {
        file.withAllBytes { all -> VMDescIndex? in
            let marker = Array("{\"page_size\"".utf8)
            var start = all.count - marker.count
            while start >= 5 {
                if all[start] == marker[0] && all[start - 5] == StreamFormat.vmdesc
                    && marker.indices.allSatisfy({ all[start + $0] == marker[$0] })
                {
                    let length = Int(all[start - 4]) << 24 | Int(all[start - 3]) << 16 | Int(all[start - 2]) << 8 | Int(all[start - 1])
                    if length == all.count - start {
                        return parse(Array(all[start...]))
                    }
                }
                start -= 1
            }
            return nil
        }
    }

    static func parse(_ text: [UInt8]) -> VMDescIndex? {
        var parser = TinyJSON(text)
        guard let root = try? parser.value(), case .object(let members) = root.value else { return nil }
        var pageSize = 4096
        var entries: [Entry] = []
        for (key, value) in members {
            if key == "page_size", case .number(let n) = value.value {
                guard let v = exactInt(n), v > 0 else { return nil }
                pageSize = v
            }
            if key == "devices", case .array(let devices) = value.value {
                for device in devices {
                    guard case .object(let fields) = device.value else { return nil }
                    var name = ""
                    var instance: UInt32 = 0
                    for (k, v) in fields {
                        if k == "name", case .string(let s) = v.value { name = s }
                        if k == "instance_id", case .number(let n) = v.value {
                            guard let id = exactInt(n), let exact = UInt32(exactly: id) else { return nil }
                            instance = exact
                        }
                    }
                    guard let size = dataSize(device) else { return nil }
                    entries.append(Entry(name: name, instanceID: instance, size: size, json: Array(text[device.range])))
                }
            }
        }
        return VMDescIndex(pageSize: pageSize, entries: entries)
    }

    /// `n` as an Int when it is a whole number in a sane range (JSON numbers are doubles, and
    /// converting an infinite or huge one traps).
    static func exactInt(_ n: Double) -> Int? {
        guard n.isFinite, n == n.rounded(), abs(n) <= 1e15 else { return nil }
        return Int(n)
    }

    /// Larger than any section (sizes come from the stream and must not overflow).
    static let maximumDataSize = Int(Int32.max) << 16

    /// Section bytes a description object stands for: its fields' sizes (times array_len for
    /// compressed arrays) and, per subsection, its header (0x05, length, name, be32 version).
    /// Nil when it does not add up to a plausible size.
    static func dataSize(_ node: TinyJSON.Node) -> Int? {
        guard case .object(let members) = node.value else { return nil }
        var total = 0
        for (key, value) in members {
            if key == "fields", case .array(let fields) = value.value {
                for field in fields {
                    guard case .object(let f) = field.value else { return nil }
                    var size = 0
                    var count = 1
                    for (k, v) in f {
                        if k == "size", case .number(let n) = v.value { guard let v = exactInt(n) else { return nil }; size = v }
                        if k == "array_len", case .number(let n) = v.value { guard let v = exactInt(n) else { return nil }; count = v }
                    }
                    // Numbers come from the stream: refuse what no real section has.
                    guard size >= 0, count >= 0, size <= Int(Int32.max), count <= Int(Int32.max) else { return nil }
                    total += size * count
                    guard total <= maximumDataSize else { return nil }
                }
            }
            if key == "subsections", case .array(let subs) = value.value {
                for sub in subs {
                    guard case .object(let s) = sub.value, let inner = dataSize(sub) else { return nil }
                    var nameLength = 0
                    for (k, v) in s where k == "vmsd_name" { if case .string(let n) = v.value { nameLength = n.utf8.count } }
                    total += 2 + nameLength + 4 + inner
                    guard total <= maximumDataSize else { return nil }
                }
            }
        }
        return total
    }
}

/// A small order-keeping JSON reader that remembers each value's byte range.
struct TinyJSON {
    indirect enum Value {
        case object([(String, Node)])
        case array([Node])
        case string(String)
        case number(Double)
        case bool(Bool)
        case null
    }

    struct Node {
        let value: Value
        let range: Range<Int>
    }

    struct Failure: Error { let offset: Int }

    private let text: [UInt8]
    private var i = 0
    /// Nesting so far; a stream's JSON deeper than `maximumDepth` is refused (the parser recurses).
    private var depth = 0
    static let maximumDepth = 64

    init(_ text: [UInt8]) { self.text = text }

    mutating func value() throws(Failure) -> Node {
        depth += 1
        defer { depth -= 1 }
        guard depth <= TinyJSON.maximumDepth else { throw Failure(offset: i) }
        skipSpace()
        let start = i
        guard i < text.count else { throw Failure(offset: i) }
        let v: Value
        switch text[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [(String, Node)] = []
            skipSpace()
            if peek(UInt8(ascii: "}")) { i += 1 } else {
                while true {
                    skipSpace()
                    guard case .string(let key) = try value().value else { throw Failure(offset: i) }
                    skipSpace()
                    try expect(UInt8(ascii: ":"))
                    members.append((key, try value()))
                    skipSpace()
                    if peek(UInt8(ascii: ",")) { i += 1; continue }
                    try expect(UInt8(ascii: "}"))
                    break
                }
            }
            v = .object(members)
        case UInt8(ascii: "["):
            i += 1
            var items: [Node] = []
            skipSpace()
            if peek(UInt8(ascii: "]")) { i += 1 } else {
                while true {
                    items.append(try value())
                    skipSpace()
                    if peek(UInt8(ascii: ",")) { i += 1; continue }
                    try expect(UInt8(ascii: "]"))
                    break
                }
            }
            v = .array(items)
        case UInt8(ascii: "\""):
            v = .string(try string())
        case UInt8(ascii: "t"): try literal("true"); v = .bool(true)
        case UInt8(ascii: "f"): try literal("false"); v = .bool(false)
        case UInt8(ascii: "n"): try literal("null"); v = .null
        default:
            let s = i
            while i < text.count, "+-0123456789.eE".utf8.contains(text[i]) { i += 1 }
            guard let n = Double(String(decoding: text[s..<i], as: UTF8.self)) else { throw Failure(offset: s) }
            v = .number(n)
        }
        return Node(value: v, range: start..<i)
    }

    private mutating func string() throws(Failure) -> String {
        i += 1
        var bytes: [UInt8] = []
        while i < text.count {
            let c = text[i]
            i += 1
            if c == UInt8(ascii: "\"") { return String(decoding: bytes, as: UTF8.self) }
            if c != UInt8(ascii: "\\") { bytes.append(c); continue }
            guard i < text.count else { break }
            let e = text[i]
            i += 1
            switch e {
            case UInt8(ascii: "n"): bytes.append(10)
            case UInt8(ascii: "t"): bytes.append(9)
            case UInt8(ascii: "r"): bytes.append(13)
            case UInt8(ascii: "b"): bytes.append(8)
            case UInt8(ascii: "f"): bytes.append(12)
            case UInt8(ascii: "u"):
                guard i + 4 <= text.count, let code = UInt32(String(decoding: text[i..<i + 4], as: UTF8.self), radix: 16) else {
                    throw Failure(offset: i)
                }
                i += 4
                bytes.append(contentsOf: String(Unicode.Scalar(code) ?? "\u{FFFD}").utf8)
            default: bytes.append(e)
            }
        }
        throw Failure(offset: i)
    }

    private mutating func literal(_ word: String) throws(Failure) {
        let w = Array(word.utf8)
        guard i + w.count <= text.count, Array(text[i..<i + w.count]) == w else { throw Failure(offset: i) }
        i += w.count
    }

    private mutating func expect(_ c: UInt8) throws(Failure) {
        guard peek(c) else { throw Failure(offset: i) }
        i += 1
    }

    private func peek(_ c: UInt8) -> Bool { i < text.count && text[i] == c }

    private mutating func skipSpace() {
        while i < text.count, text[i] == 0x20 || text[i] == 0x0A || text[i] == 0x0D || text[i] == 0x09 { i += 1 }
    }
}
