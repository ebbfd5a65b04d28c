#if canImport(Glibc)
import Glibc
#endif

/// Writes JSON text exactly as QEMU 7.2's `JSONWriter` does: the object behind a C
/// `JSONWriter *`, used for the vmdesc of a save.
///
/// Compact form: members separated by ", ", names followed by ": ". Pretty form: a newline and
/// four spaces per level before each member and before each closing bracket.
public final class VMDescWriter {
    /// Whether members go on their own lines, indented by four spaces per level.
    public let pretty: Bool
    private(set) var text: [UInt8] = []
    private var needComma = false
    /// One entry per open container: true for an array, false for an object.
    private var containers: [Bool] = []
    /// NUL-terminated copy handed to C by `json_writer_get`.
    private var cString: UnsafeMutablePointer<CChar>?

    /// An empty writer, compact unless `pretty`.
    public init(pretty: Bool = false) { self.pretty = pretty }

    deinit { cString?.deallocate() }

    /// The text written so far.
    public var string: String { String(decoding: text, as: UTF8.self) }

    /// True when every container opened has been closed.
    public var isComplete: Bool { containers.isEmpty }

    /// Opens an object; `name` is its member name inside an object, ignored inside an array.
    public func startObject(_ name: String? = nil) {
        member(name)
        text.append(UInt8(ascii: "{"))
        enter(array: false)
    }

    /// Closes the innermost object.
    public func endObject() {
        leave()
        text.append(UInt8(ascii: "}"))
    }

    /// Opens an array; `name` is its member name inside an object, ignored inside an array.
    public func startArray(_ name: String? = nil) {
        member(name)
        text.append(UInt8(ascii: "["))
        enter(array: true)
    }

    /// Closes the innermost array.
    public func endArray() {
        leave()
        text.append(UInt8(ascii: "]"))
    }

    /// Writes a string, escaped as QEMU does (`\uXXXX` for control and non-ASCII characters).
    public func string(_ name: String?, _ value: String) {
        member(name)
        quote(value)
    }

    /// Writes a signed integer.
    public func int(_ name: String?, _ value: Int64) {
        member(name)
        text.append(contentsOf: String(value).utf8)
    }

    /// Writes an unsigned integer.
    public func uint(_ name: String?, _ value: UInt64) {
        member(name)
        text.append(contentsOf: String(value).utf8)
    }

    /// Writes `true` or `false`.
    public func bool(_ name: String?, _ value: Bool) {
        member(name)
        text.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Writes `null`.
    public func null(_ name: String?) {
        member(name)
        text.append(contentsOf: "null".utf8)
    }

    /// Writes a number with C's `%.17g`, as QEMU does.
    public func double(_ name: String?, _ value: Double) {
        member(name)
        text.append(contentsOf: formatDouble17g(value).utf8)
    }

    /// Appends raw, already formatted JSON as one member (used to re-emit kept vmdesc entries).
    public func raw(_ name: String?, _ json: [UInt8]) {
        member(name)
        text.append(contentsOf: json)
    }

    /// The text as a NUL-terminated C string owned by the writer (valid until the next call).
    func cText() -> UnsafePointer<CChar> {
        cString?.deallocate()
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: text.count + 1)
        text.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
        }
        buffer[text.count] = 0
        cString = buffer
        return UnsafePointer(buffer)
    }

    // MARK: private

    private var depth: Int { containers.count }
    private var inObject: Bool { containers.last == false }

    private func enter(array: Bool) {
        containers.append(array)
        needComma = false
    }

    private func leave() {
        precondition(!containers.isEmpty, "JSONWriter: end without a matching start")
        containers.removeLast()
        needComma = true
        newline()
    }

    private func newline() {
        guard pretty else { return }
        text.append(UInt8(ascii: "\n"))
        text.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 4))
    }

    private func member(_ name: String?) {
        if needComma {
            text.append(UInt8(ascii: ","))
            if pretty { newline() } else { text.append(UInt8(ascii: " ")) }
        } else {
            if !text.isEmpty { newline() }
            needComma = true
        }
        if inObject {
            quote(name ?? "")
            text.append(contentsOf: ": ".utf8)
        }
    }

    /// `value` as a JSON string, escaped as `string(_:_:)` writes it.
    static func quoted(_ value: String) -> [UInt8] {
        let w = VMDescWriter()
        w.quote(value)
        return w.text
    }

    private func quote(_ value: String) {
        text.append(UInt8(ascii: "\""))
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text.append(contentsOf: "\\\"".utf8)
            case "\\": text.append(contentsOf: "\\\\".utf8)
            case "\u{08}": text.append(contentsOf: "\\b".utf8)
            case "\u{0C}": text.append(contentsOf: "\\f".utf8)
            case "\n": text.append(contentsOf: "\\n".utf8)
            case "\r": text.append(contentsOf: "\\r".utf8)
            case "\t": text.append(contentsOf: "\\t".utf8)
            default:
                let v = scalar.value
                if v > 0xFFFF {
                    let high = 0xD800 + ((v - 0x10000) >> 10)
                    let low = 0xDC00 + ((v - 0x10000) & 0x3FF)
                    text.append(contentsOf: "\\u\(hex4(high))\\u\(hex4(low))".utf8)
                } else if v < 0x20 || v >= 0x7F {
                    text.append(contentsOf: "\\u\(hex4(v))".utf8)
                } else {
                    text.append(UInt8(v))
                }
            }
        }
        text.append(UInt8(ascii: "\""))
    }

    private func hex4(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }
}

// MARK: - compiled text

// The compiled steps (FastPath.swift) write precomputed text straight into a compact writer,
// keeping its state (`needComma`, the open containers) as the calls that text stands for would,
// so that the per-field path, a custom info's put and the caller can go on writing after them.
extension VMDescWriter {
    /// Whether compiled text may be written here: compact, with an object open (where a
    /// description's keys go).
    var takesCompiledText: Bool { !pretty && containers.last == false }

    /// Appends complete members or elements (several, comma-separated, in `text`), with the
    /// separator before them that the next member needs.
    @inline(__always)
    func appendItems(_ text: UnsafeBufferPointer<UInt8>) {
        if needComma { appendSeparator() }
        needComma = true
        self.text.append(contentsOf: text)
    }

    /// Appends the start of a member or element that opens a container (`text` ends with `{`
    /// or `[`); its members follow.
    @inline(__always)
    func appendOpening(_ text: UnsafeBufferPointer<UInt8>, array: Bool) {
        if needComma { appendSeparator() }
        self.text.append(contentsOf: text)
        containers.append(array)
        needComma = false
    }

    /// The same, for text given as a literal.
    @inline(__always)
    func appendOpening(_ text: StaticString, array: Bool) {
        appendOpening(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount), array: array)
    }

    /// Closes the innermost container (`}` or `]`).
    @inline(__always)
    func appendClosing(_ byte: UInt8) {
        containers.removeLast()
        needComma = true
        text.append(byte)
    }

    /// Appends text inside the current member (no separator, no state change).
    @inline(__always)
    func appendRaw(_ text: UnsafeBufferPointer<UInt8>) { self.text.append(contentsOf: text) }

    @inline(__always)
    func appendRaw(_ text: StaticString) {
        appendRaw(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Marks the current member as written (its name and value were appended raw).
    @inline(__always)
    func memberWritten() { needComma = true }

    /// Appends `value` in decimal, as `int(_:_:)` writes it.
    @inline(__always)
    func appendDecimal(_ value: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: an Int has at most 20 digits and a sign
        withUnsafeMutableBytes(of: &digits) { buffer in
            var v = value.magnitude
            var i = buffer.count
            repeat {
                i -= 1
                buffer[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            } while v != 0
            if value < 0 {
                i -= 1
                buffer[i] = UInt8(ascii: "-")
            }
            text.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[i...]))
        }
    }

    private func appendSeparator() {
        text.append(UInt8(ascii: ","))
        text.append(UInt8(ascii: " "))
    }
}

/// The vmdesc text of fields whose description does not depend on the state, built when a plan
/// is compiled with the calls the per-field path makes for them (`Engine.describeStart`,
/// `describeEnd`, a nested description's keys), so it is the same text.
enum VMDescText {
    /// The field objects of `plan.fields[range]`, comma-separated, as a save at a version
    /// where they all exist writes them; nil when one of them is not a standard scalar or a
    /// flat struct with a fixed count.
    static func fields(_ plan: DescriptionPlan, _ range: Range<Int>) -> [UInt8]? {
        let w = VMDescWriter()
        w.startArray()
        for field in plan.fields[range] {
            guard describe(field, w, depth: 0) else { return nil }
        }
        return Array(w.text.dropFirst())
    }

    private static func describe(_ field: FieldPlan, _ w: VMDescWriter, depth: Int) -> Bool {
        guard depth < 16, !field.isPointer, !field.arrayOfPointer, field.sizeOffset == nil,
            let n = Program.fixedCount(field)
        else { return false }
        switch field.op {
        case .scalar(let width, _):
            guard n > 0 else { return true }
            if field.compressible || n == 1 {
                Engine.describeStart(w, field, index: 0, count: n)
                Engine.describeEnd(w, field, size: width)
            } else {
                for i in 0..<n {
                    Engine.describeStart(w, field, index: i, count: n)
                    Engine.describeEnd(w, field, size: width)
                }
            }
        case .structure(let nested):
            guard let program = nested.program, program.flat, program.flatMaxVersion <= nested.versionID else { return false }
            for i in 0..<n {
                Engine.describeStart(w, field, index: i, count: n)
                w.string("vmsd_name", nested.name)
                w.int("version", Int64(nested.versionID))
                w.startArray("fields")
                for f in nested.fields {
                    guard describe(f, w, depth: depth + 1) else { return false }
                }
                w.endArray()
                Engine.describeEnd(w, field, size: program.fixedBytes)
                if field.compressible { break }
            }
        default:
            return false
        }
        return true
    }
}

/// C's "%.17g" for a double.
func formatDouble17g(_ value: Double) -> String {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
        _ = withVaList([value]) { vsnprintf(buffer.baseAddress!, 64, "%.17g", $0) }
        return String(cString: buffer.baseAddress!)
    }
}
