// JSON text output that matches Python's `json.dumps` byte for byte.
//
// With `indent: n` the output is what `json.dumps(obj, indent=n)` prints: members on their own
// lines, `,` at line ends, `": "` after keys, `[]` / `{}` for empty containers. With
// `indent: nil` it is `json.dumps(obj)`: one line, `", "` and `": "` separators. Strings are
// escaped like Python's default `ensure_ascii=True` (everything outside printable ASCII as a
// lowercase `\uXXXX`, surrogate pairs above U+FFFF) unless `asciiOnly` is false.

/// Formatting options for JSON text.
public struct JSONFormat: Sendable, Equatable {
    /// Spaces per nesting level (0 to 1024), or nil for single-line output.
    public var indent: Int?
    /// Escape every non-ASCII character (Python's `ensure_ascii=True`).
    public var asciiOnly: Bool

    /// Options with `indent` spaces per level (nil: one line) and, with `asciiOnly`, `\uXXXX` escapes for non-ASCII.
    /// An `indent` outside 0...1024 is a programmer error (it traps).
    public init(indent: Int? = 4, asciiOnly: Bool = true) {
        // (fatalError, not precondition: its message stays in release builds.)
        if let indent, !(0...1024).contains(indent) { fatalError("JSONFormat: indent \(indent) is not in 0...1024") }
        self.indent = indent
        self.asciiOnly = asciiOnly
    }

    /// `json.dumps(obj, indent=4)`, the format of QEMU's analyze-migration.py.
    public static let python = JSONFormat(indent: 4, asciiOnly: true)
    /// `json.dumps(obj)`.
    public static let pythonCompact = JSONFormat(indent: nil, asciiOnly: true)
}

/// A streaming JSON writer. Call the container and value methods in document order; output
/// accumulates in `buffer`, or goes to `sink` in chunks when one is given. Closing a container
/// that is not open, or one of the other kind, is a programmer error: it traps (QEMU's
/// json-writer asserts). Other calls out of order (a key outside an object, a value in an
/// object without its key) are not checked, and the text is then not JSON.
public struct JSONTextWriter {
    /// How the text is laid out.
    public let format: JSONFormat
    /// Text not yet handed to the sink (everything, when there is no sink).
    public private(set) var buffer: [UInt8] = []
    private let sink: ((UnsafeRawBufferPointer) -> Void)?
    private let flushThreshold = 1 << 16
    // One entry per open container: number of members written so far.
    private var counts: [Int] = []
    // One entry per open container: whether it is an object.
    private var objects: [Bool] = []
    private var afterKey = false

    /// A writer in `format`; with `sink`, text is handed over in chunks of about 64 KiB (and on
    /// ``flush()``) instead of accumulating in ``buffer``. The buffer passed to `sink` is valid
    /// only during the call.
    public init(format: JSONFormat = .python, sink: ((UnsafeRawBufferPointer) -> Void)? = nil) {
        self.format = format
        self.sink = sink
        buffer.reserveCapacity(sink == nil ? 4096 : flushThreshold + 16384)
    }

    /// The text written so far, when there is no sink.
    public var text: String { String(decoding: buffer, as: UTF8.self) }

    /// Hands buffered text to the sink.
    public mutating func flush() {
        guard let sink, !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { sink($0) }  // (valid only during the call, as documented)
        buffer.removeAll(keepingCapacity: true)
    }

    @inline(__always) private mutating func maybeFlush() {
        if sink != nil && buffer.count >= flushThreshold { flush() }
    }

    private mutating func newline(depth: Int) {
        guard let indent = format.indent else { return }
        buffer.append(0x0A)
        let n = indent * depth
        if n > 0 { buffer.append(contentsOf: repeatElement(0x20, count: n)) }
    }

    /// Separator and indentation before an array element or an object key.
    private mutating func beforeItem() {
        if afterKey {
            afterKey = false
            return
        }
        guard !counts.isEmpty else { return }
        let c = counts[counts.count - 1]
        if c > 0 {
            buffer.append(UInt8(ascii: ","))
            if format.indent == nil { buffer.append(0x20) }
        }
        counts[counts.count - 1] = c + 1
        newline(depth: counts.count)
    }

    /// Opens an object (as a value, or after ``key(_:)``).
    public mutating func beginObject() {
        beforeItem()
        buffer.append(UInt8(ascii: "{"))
        counts.append(0)
        objects.append(true)
    }

    /// Closes the innermost object.
    public mutating func endObject() {
        if objects.popLast() != true {
            fatalError("JSONTextWriter.endObject(): the innermost open container is no object")
        }
        let c = counts.removeLast()
        if c > 0 { newline(depth: counts.count) }
        buffer.append(UInt8(ascii: "}"))
        maybeFlush()
    }

    /// Opens an array (as a value, or after ``key(_:)``).
    public mutating func beginArray() {
        beforeItem()
        buffer.append(UInt8(ascii: "["))
        counts.append(0)
        objects.append(false)
    }

    /// Closes the innermost array.
    public mutating func endArray() {
        if objects.popLast() != false {
            fatalError("JSONTextWriter.endArray(): the innermost open container is no array")
        }
        let c = counts.removeLast()
        if c > 0 { newline(depth: counts.count) }
        buffer.append(UInt8(ascii: "]"))
        maybeFlush()
    }

    /// Writes an object key; the next call writes its value.
    public mutating func key(_ key: String) {
        beforeItem()
        appendQuoted(key)
        buffer.append(UInt8(ascii: ":"))
        buffer.append(0x20)
        afterKey = true
    }

    /// Writes a string value, escaped per ``format``.
    public mutating func string(_ value: String) {
        beforeItem()
        appendQuoted(value)
        maybeFlush()
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        beforeItem()
        appendASCII(value ? "true" : "false")
    }

    /// Writes `null`.
    public mutating func null() {
        beforeItem()
        appendASCII("null")
    }

    package mutating func number(_ value: JSONNumber) {
        beforeItem()
        appendASCII(value.description)
    }

    /// Writes an integer value in decimal.
    public mutating func int(_ value: Int64) {
        beforeItem()
        appendASCII(String(value))
    }

    /// Writes a string value spelled as space-separated lowercase hex bytes ("0a ff 00"),
    /// without building the string first.
    public mutating func hexBytesString(_ bytes: UnsafeRawBufferPointer) {
        beforeItem()
        buffer.append(UInt8(ascii: "\""))
        appendHexBytes(bytes, separator: 0x20)
        buffer.append(UInt8(ascii: "\""))
        maybeFlush()
    }

    /// Writes any value.
    package mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let a):
            beginArray()
            for v in a { self.value(v) }
            endArray()
        case .object(let o):
            beginObject()
            for m in o.members {
                key(m.key)
                self.value(m.value)
            }
            endObject()
        }
    }

    // MARK: low level

    private mutating func appendASCII(_ s: String) {
        buffer.append(contentsOf: s.utf8)
    }

    package mutating func appendHexBytes(_ bytes: UnsafeRawBufferPointer, separator: UInt8?) {
        guard !bytes.isEmpty else { return }
        let per = separator == nil ? 2 : 3
        let start = buffer.count
        let total = bytes.count * per - (separator == nil ? 0 : 1)
        buffer.append(contentsOf: repeatElement(0, count: total))
        // SAFETY: `total` bytes were appended from `start` above, which is exactly what the loop
        // writes (2 per byte, plus a separator between bytes); the buffer pointer's subscripts
        // are bounds-checked in debug builds.
        buffer.withUnsafeMutableBufferPointer { out in
            var o = start
            for (i, b) in bytes.enumerated() {
                if i > 0, let separator {
                    out[o] = separator
                    o += 1
                }
                out[o] = lowerHexDigits[Int(b >> 4)]
                out[o + 1] = lowerHexDigits[Int(b & 15)]
                o += 2
            }
        }
    }

    private mutating func appendQuoted(_ s: String) {
        buffer.append(UInt8(ascii: "\""))
        var needsSlowPath = false
        for b in s.utf8 {
            if b < 0x20 || b >= 0x7F || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                needsSlowPath = true
                break
            }
        }
        if !needsSlowPath {
            buffer.append(contentsOf: s.utf8)
        } else {
            for scalar in s.unicodeScalars {
                let v = scalar.value
                switch v {
                case 0x22: appendASCII("\\\"")
                case 0x5C: appendASCII("\\\\")
                case 0x0A: appendASCII("\\n")
                case 0x0D: appendASCII("\\r")
                case 0x09: appendASCII("\\t")
                case 0x08: appendASCII("\\b")
                case 0x0C: appendASCII("\\f")
                case 0..<0x20: appendUnicodeEscape(v)
                case 0x20..<0x7F: buffer.append(UInt8(v))
                default:
                    if !format.asciiOnly {
                        buffer.append(contentsOf: String(Character(scalar)).utf8)
                    } else if v >= 0x10000 {
                        let u = v - 0x10000
                        appendUnicodeEscape(0xD800 + (u >> 10))
                        appendUnicodeEscape(0xDC00 + (u & 0x3FF))
                    } else {
                        appendUnicodeEscape(v)
                    }
                }
            }
        }
        buffer.append(UInt8(ascii: "\""))
    }

    private mutating func appendUnicodeEscape(_ v: UInt32) {
        buffer.append(UInt8(ascii: "\\"))
        buffer.append(UInt8(ascii: "u"))
        buffer.append(lowerHexDigits[Int((v >> 12) & 15)])
        buffer.append(lowerHexDigits[Int((v >> 8) & 15)])
        buffer.append(lowerHexDigits[Int((v >> 4) & 15)])
        buffer.append(lowerHexDigits[Int(v & 15)])
    }
}

private let lowerHexDigits: [UInt8] = Array("0123456789abcdef".utf8)

extension JSONValue {
    /// The value as JSON text; `.python` (the default) is `json.dumps(value, indent=4)`.
    /// No trailing newline.
    package func formatted(_ format: JSONFormat = .python) -> String {
        var writer = JSONTextWriter(format: format)
        writer.value(self)
        return writer.text
    }
}
