// Helpers for the pc device schema tests: the fixture folder, reading files, a small JSON
// parser that keeps object member order, and structural comparison with readable differences.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum PCFixtures {
    /// The package root, from this file's path (Tests/VMStateTests/<file>).
    static func packageRoot(_ file: String = #filePath) -> String {
        var parts = file.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }

    /// The shared folder (SPEC and fixtures), next to the package root.
    static var shared: String { packageRoot() + "/../shared" }
    static var qemu72: String { shared + "/fixtures/qemu-7.2" }

    static func readBytes(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw PCJSON.ParseError(message: "cannot open \(path)")
        }
        defer { fclose(f) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, f) }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    static func readText(_ path: String) throws -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    /// The first index of `needle` in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int = 0) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0] && haystack[i..<i + needle.count].elementsEqual(needle) {
                return i
            }
            i += 1
        }
        return nil
    }
}

/// A JSON value; objects keep their members in document order.
indirect enum PCJSON: Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([PCJSON])
    case object([Member])

    struct Member: Equatable, Sendable {
        var key: String
        var value: PCJSON
    }

    struct ParseError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    subscript(key: String) -> PCJSON? {
        if case .object(let members) = self {
            return members.first { $0.key == key }?.value
        }
        return nil
    }

    var keys: [String] {
        if case .object(let members) = self { return members.map(\.key) }
        return []
    }

    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var intValue: Int64? {
        if case .int(let v) = self { return v }
        return nil
    }

    var arrayValue: [PCJSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let v): return String(v)
        case .double(let v): return String(v)
        case .string(let s): return "\"\(s)\""
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .object(let m):
            return "{" + m.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
        }
    }

    static func parse(_ text: String) throws -> PCJSON {
        var parser = Parser(bytes: Array(text.utf8))
        parser.skipSpace()
        let value = try parser.value()
        parser.skipSpace()
        guard parser.pos == parser.bytes.count else {
            throw ParseError(message: "trailing data at byte \(parser.pos)")
        }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var pos = 0

        mutating func skipSpace() {
            while pos < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[pos]) { pos += 1 }
        }

        func fail(_ what: String) -> ParseError {
            ParseError(message: "\(what) at byte \(pos)")
        }

        mutating func expect(_ literal: String) throws {
            let l = Array(literal.utf8)
            guard pos + l.count <= bytes.count, Array(bytes[pos..<pos + l.count]) == l else {
                throw fail("expected \(literal)")
            }
            pos += l.count
        }

        mutating func value() throws -> PCJSON {
            guard pos < bytes.count else { throw fail("unexpected end") }
            switch bytes[pos] {
            case UInt8(ascii: "{"):
                pos += 1
                var members: [Member] = []
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
                    pos += 1
                    return .object(members)
                }
                while true {
                    skipSpace()
                    let key = try string()
                    skipSpace()
                    try expect(":")
                    skipSpace()
                    members.append(Member(key: key, value: try value()))
                    skipSpace()
                    guard pos < bytes.count else { throw fail("unterminated object") }
                    if bytes[pos] == UInt8(ascii: ",") {
                        pos += 1
                        continue
                    }
                    try expect("}")
                    return .object(members)
                }
            case UInt8(ascii: "["):
                pos += 1
                var items: [PCJSON] = []
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
                    pos += 1
                    return .array(items)
                }
                while true {
                    skipSpace()
                    items.append(try value())
                    skipSpace()
                    guard pos < bytes.count else { throw fail("unterminated array") }
                    if bytes[pos] == UInt8(ascii: ",") {
                        pos += 1
                        continue
                    }
                    try expect("]")
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"):
                try expect("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try expect("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try expect("null")
                return .null
            default:
                return try number()
            }
        }

        mutating func number() throws -> PCJSON {
            let start = pos
            while pos < bytes.count, "+-0123456789.eE".utf8.contains(bytes[pos]) { pos += 1 }
            let text = String(decoding: bytes[start..<pos], as: UTF8.self)
            if let v = Int64(text) { return .int(v) }
            if let d = Double(text) { return .double(d) }
            throw fail("bad number \(text)")
        }

        mutating func string() throws -> String {
            try expect("\"")
            var out: [UInt8] = []
            while true {
                guard pos < bytes.count else { throw fail("unterminated string") }
                let b = bytes[pos]
                pos += 1
                if b == UInt8(ascii: "\"") { break }
                if b != UInt8(ascii: "\\") {
                    out.append(b)
                    continue
                }
                guard pos < bytes.count else { throw fail("bad escape") }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "u"):
                    guard pos + 4 <= bytes.count,
                        let code = UInt32(String(decoding: bytes[pos..<pos + 4], as: UTF8.self), radix: 16),
                        let scalar = Unicode.Scalar(code)
                    else { throw fail("bad \\u escape") }
                    pos += 4
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: out.append(e)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Where `self` and `other` differ, as "path: this vs that" lines (empty when equal).
    func differences(from other: PCJSON, at path: String = "$") -> [String] {
        switch (self, other) {
        case (.object(let a), .object(let b)):
            var out: [String] = []
            if a.map(\.key) != b.map(\.key) {
                out.append("\(path): keys \(a.map(\.key)) vs \(b.map(\.key))")
            }
            for m in a {
                if let v = other[m.key] {
                    out += m.value.differences(from: v, at: "\(path).\(m.key)")
                }
            }
            return out
        case (.array(let a), .array(let b)):
            var out: [String] = []
            if a.count != b.count {
                out.append("\(path): \(a.count) items vs \(b.count)")
            }
            for i in 0..<min(a.count, b.count) {
                out += a[i].differences(from: b[i], at: "\(path)[\(i)]")
            }
            return out
        default:
            return self == other ? [] : ["\(path): \(self) vs \(other)"]
        }
    }
}
