import CGLib

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
    // Exempt from dynamic exclusivity checks, which cost more than the appends themselves (a
    // writer is used by one thread at a time, and no access to these overlaps another).
    @exclusivity(unchecked) private var buffer = GrowableBytes()
    @exclusivity(unchecked) private var needComma = false
    /// One entry per open container: true for an array, false for an object.
    @exclusivity(unchecked) private var containers: [Bool] = []
    /// The member name of the next value or container, as the C caller's bytes (set only
    /// during ``withCName(_:_:)``), quoted in place of the `String` name.
    private var cName: UnsafePointer<CChar>?
    /// NUL-terminated copy handed to C by `json_writer_get`.
    /// SAFETY: owned by the writer; freed on the next `cText()` and in `deinit` only.
    private var cString: UnsafeMutablePointer<CChar>?

    /// An empty writer, compact unless `pretty`.
    public init(pretty: Bool = false) { self.pretty = pretty }

    deinit {
        cString?.deallocate()
        buffer.free()
    }

    /// The text written so far.
    public var string: String { String(decoding: buffer.bytes, as: UTF8.self) }

    /// The text written so far, as bytes.
    var text: [UInt8] { Array(buffer.bytes) }

    /// Calls `body` with the text written so far, in place (no copy: a stream's vmdesc may be
    /// hundreds of MB); the bytes are valid only during the call.
    func withText<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R { body(buffer.bytes) }

    /// How many bytes of text were written.
    var byteCount: Int { buffer.count }

    /// True when every container opened has been closed.
    public var isComplete: Bool { containers.isEmpty }

    /// Whether the innermost open container is an array (true) or an object (false); nil when
    /// none is open.
    public var innermostIsArray: Bool? { containers.last }

    /// Opens an object; `name` is its member name inside an object, ignored inside an array.
    public func startObject(_ name: String? = nil) {
        member(name)
        buffer.append(UInt8(ascii: "{"))
        enter(array: false)
    }

    /// Closes the innermost object (one must be open: else it traps, as QEMU's json-writer asserts;
    /// the C functions check first).
    public func endObject() {
        leave(array: false)
        buffer.append(UInt8(ascii: "}"))
    }

    /// Opens an array; `name` is its member name inside an object, ignored inside an array.
    public func startArray(_ name: String? = nil) {
        member(name)
        buffer.append(UInt8(ascii: "["))
        enter(array: true)
    }

    /// Closes the innermost array (one must be open: else it traps, as QEMU's json-writer asserts;
    /// the C functions check first).
    public func endArray() {
        leave(array: true)
        buffer.append(UInt8(ascii: "]"))
    }

    /// Writes a string, escaped as QEMU does (`\uXXXX` for control and non-ASCII characters).
    public func string(_ name: String?, _ value: String) {
        member(name)
        quote(value)
    }

    /// Writes a signed integer.
    public func int(_ name: String?, _ value: Int64) {
        member(name)
        buffer.append(contentsOf: String(value).utf8)
    }

    /// Writes an unsigned integer.
    public func uint(_ name: String?, _ value: UInt64) {
        member(name)
        buffer.append(contentsOf: String(value).utf8)
    }

    /// Writes `true` or `false`.
    public func bool(_ name: String?, _ value: Bool) {
        member(name)
        buffer.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Writes `null`.
    public func null(_ name: String?) {
        member(name)
        buffer.append(contentsOf: "null".utf8)
    }

    /// Writes a number with C's `%.17g`, as QEMU does.
    public func double(_ name: String?, _ value: Double) {
        member(name)
        buffer.append(contentsOf: formatDouble17g(value).utf8)
    }

    /// Writes a C string value from its bytes as QEMU's `quoted_str` does, ill-formed UTF-8
    /// included (see `quote(utf8:)`); `value` is NUL-terminated and only read during the call.
    func string(_ name: String?, cString value: UnsafePointer<CChar>) {
        member(name)
        quote(cString: value)
    }

    /// Calls `body`, whose first write (a value or an opened container) takes the member name
    /// `name` as the C caller's bytes (ill-formed UTF-8 quoted as QEMU does) when not NULL;
    /// `name` is only read during the call.
    func withCName(_ name: UnsafePointer<CChar>?, _ body: (VMDescWriter) -> Void) {
        cName = name
        body(self)
        cName = nil
    }

    /// Appends raw, already formatted JSON as one member (used to re-emit kept vmdesc entries).
    public func raw(_ name: String?, _ json: [UInt8]) {
        member(name)
        buffer.append(contentsOf: json)
    }

    /// The text as a NUL-terminated C string owned by the writer (valid until the next call).
    func cText() -> UnsafePointer<CChar> {
        cString?.deallocate()
        // SAFETY: `copy` holds count + 1 bytes: the text and its NUL. The C caller is told
        // (json_writer_get) that it stays valid until the writer's next call or its end.
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: buffer.count + 1)
        if let base = buffer.bytes.baseAddress {
            UnsafeMutableRawPointer(copy).copyMemory(from: base, byteCount: buffer.count)
        }
        copy[buffer.count] = 0
        cString = copy
        return UnsafePointer(copy)
    }

    // MARK: private

    private var depth: Int { containers.count }
    private var inObject: Bool { containers.last == false }

    private func enter(array: Bool) {
        containers.append(array)
        needComma = false
    }

    private func leave(array: Bool) {
        // (fatalError, not precondition: its message stays in release builds.)
        if containers.last != array {
            fatalError(
                containers.isEmpty
                    ? "JSONWriter: end without a matching start"
                    : "JSONWriter: \(array ? "endArray" : "endObject") closes an open \(array ? "object" : "array")")
        }
        containers.removeLast()
        needComma = true
        newline()
    }

    private func newline() {
        guard pretty else { return }
        buffer.append(UInt8(ascii: "\n"))
        buffer.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 4))
    }

    private func member(_ name: String?) {
        if needComma {
            buffer.append(UInt8(ascii: ","))
            if pretty { newline() } else { buffer.append(UInt8(ascii: " ")) }
        } else {
            if buffer.count != 0 { newline() }
            needComma = true
        }
        if inObject {
            // (`cName` is the NUL-terminated name of `withCName`'s caller, live during its body.)
            if let c = cName { quote(cString: c) } else { quote(name ?? "") }
            buffer.append(contentsOf: ": ".utf8)
        }
        cName = nil
    }

    /// `value` as a JSON string, escaped as `string(_:_:)` writes it.
    static func quoted(_ value: String) -> [UInt8] {
        let w = VMDescWriter()
        w.quote(value)
        return w.text
    }

    private func quote(_ value: String) {
        var value = value
        value.withUTF8 { quote(utf8: $0) }
    }

    /// The NUL-terminated C string `value` quoted from its bytes (``quote(utf8:)``).
    private func quote(cString value: UnsafePointer<CChar>) {
        let length = strlen(value)
        // SAFETY: `value` is NUL-terminated (the C contract): its `length` bytes are readable.
        value.withMemoryRebound(to: UInt8.self, capacity: length) {
            quote(utf8: UnsafeBufferPointer(start: $0, count: length))
        }
    }

    /// `bytes` as a JSON string, as QEMU's `quoted_str` writes it: each character decoded by
    /// `mod_utf8_codepoint` (modified UTF-8: `C0 80` is U+0000; an invalid sequence, which
    /// ends before the first byte that does not continue it, an overlong form, a surrogate, a
    /// noncharacter such as U+FFFE or U+FDD0, or a code point past U+10FFFF is U+FFFD), then
    /// `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, printable ASCII as itself, and everything
    /// else as uppercase `\uXXXX` (a surrogate pair past U+FFFF).
    private func quote(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        buffer.append(UInt8(ascii: "\""))
        var i = 0
        while i < bytes.count {
            let lead = bytes[i]
            i += 1
            var cp: Int32
            if lead < 0x80 {
                cp = Int32(lead)
            } else if lead >= 0xFE || lead & 0x40 == 0 {
                cp = -1  // 0xFE, 0xFF, or a continuation byte where a character starts
            } else {
                var length = 0
                var mask: UInt8 = 0x80
                while lead & mask != 0 {
                    length += 1
                    mask >>= 1
                }
                cp = Int32(lead & (mask &- 1))
                var complete = true
                for _ in 1..<length {
                    guard i < bytes.count, bytes[i] & 0xC0 == 0x80 else {
                        complete = false
                        break
                    }
                    cp = cp << 6 | Int32(bytes[i] & 0x3F)
                    i += 1
                }
                let shortest: [Int32] = [0x80, 0x800, 0x10000, 0x20_0000, 0x400_0000]
                if !complete || !Self.isValidCodePoint(cp) || (cp < shortest[length - 2] && !(cp == 0 && length == 2)) {
                    cp = -1
                }
            }
            switch cp {
            case 0x22: buffer.append(contentsOf: "\\\"".utf8)
            case 0x5C: buffer.append(contentsOf: "\\\\".utf8)
            case 0x08: buffer.append(contentsOf: "\\b".utf8)
            case 0x0C: buffer.append(contentsOf: "\\f".utf8)
            case 0x0A: buffer.append(contentsOf: "\\n".utf8)
            case 0x0D: buffer.append(contentsOf: "\\r".utf8)
            case 0x09: buffer.append(contentsOf: "\\t".utf8)
            default:
                let v = UInt32(cp < 0 ? 0xFFFD : cp)
                if v > 0xFFFF {
                    let high = 0xD800 + ((v - 0x10000) >> 10)
                    let low = 0xDC00 + ((v - 0x10000) & 0x3FF)
                    buffer.append(contentsOf: "\\u\(hex4(high))\\u\(hex4(low))".utf8)
                } else if v < 0x20 || v >= 0x7F {
                    buffer.append(contentsOf: "\\u\(hex4(v))".utf8)
                } else {
                    buffer.append(UInt8(v))
                }
            }
        }
        buffer.append(UInt8(ascii: "\""))
    }

    /// QEMU's `is_valid_codepoint`: at most U+10FFFF, not a surrogate, not a noncharacter
    /// (U+FDD0 to U+FDEF, and the last two of every plane).
    private static func isValidCodePoint(_ cp: Int32) -> Bool {
        cp <= 0x10FFFF && !(0xFDD0...0xFDEF).contains(cp) && cp & 0xFFFE != 0xFFFE && !(0xD800...0xDFFF).contains(cp)
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

    /// Appends complete members or elements (several, comma-separated, in `text`; none when it is
    /// empty), with the separator before them that the next member needs.
    @inline(__always)
    func appendItems(_ text: UnsafeBufferPointer<UInt8>) {
        // No items (fields that describe nothing: a 0-element array) leave no separator, as
        // QEMU writes nothing for them.
        guard !text.isEmpty else { return }
        if needComma { appendSeparator() }
        needComma = true
        buffer.append(text)
    }

    /// Appends the start of a member or element that opens a container (`text` ends with `{`
    /// or `[`); its members follow.
    @inline(__always)
    func appendOpening(_ text: UnsafeBufferPointer<UInt8>, array: Bool) {
        if needComma { appendSeparator() }
        buffer.append(text)
        containers.append(array)
        needComma = false
    }

    /// The same, for text given as a literal.
    @inline(__always)
    func appendOpening(_ text: StaticString, array: Bool) {
        // SAFETY: a StaticString's bytes are static (UTF-8 of a literal: the callers pass only
        // literals, which have a pointer representation).
        appendOpening(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount), array: array)
    }

    /// Closes the innermost container (`}` or `]`).
    @inline(__always)
    func appendClosing(_ byte: UInt8) {
        containers.removeLast()
        needComma = true
        buffer.append(byte)
    }

    /// Appends text inside the current member (no separator, no state change).
    @inline(__always)
    func appendRaw(_ text: UnsafeBufferPointer<UInt8>) { buffer.append(text) }

    @inline(__always)
    func appendRaw(_ text: StaticString) {
        // SAFETY: as `appendOpening(_: StaticString, ...)`.
        appendRaw(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Marks the current member as written (its name and value were appended raw).
    @inline(__always)
    func memberWritten() { needComma = true }

    /// Appends `value` in decimal, as `int(_:_:)` writes it.
    @inline(__always)
    func appendDecimal(_ value: Int) {
        // An Int has at most 19 digits and a sign.
        // SAFETY: `i` stays within the 24 digits (at most 20 written from the end); the
        // temporary buffer is copied into `buffer` before the closure returns.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
            var v = value.magnitude
            var i = digits.count
            repeat {
                i -= 1
                digits[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            } while v != 0
            if value < 0 {
                i -= 1
                digits[i] = UInt8(ascii: "-")
            }
            buffer.append(UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }

    private func appendSeparator() {
        buffer.append(UInt8(ascii: ","))
        buffer.append(UInt8(ascii: " "))
    }
}

/// The vmdesc text of fields whose description does not depend on the state, built when a plan
/// is compiled with the calls the per-field path makes for them (`Engine.describeStart`,
/// `describeEnd`, a nested description's keys), so it is the same text.
enum VMDescText {
    /// The most text kept for one step: an array described element by element (a tested
    /// array, whose objects each carry an `index`) could otherwise keep megabytes per plan; a
    /// longer text is written by the per-field path while saving, as before.
    static let limit = 64 << 10

    /// The field objects of `plan.fields[range]`, comma-separated, as a save at a version
    /// where they all exist writes them; nil when one of them is not a standard scalar or a
    /// flat struct with a fixed count, or when the text would be longer than `limit`.
    static func fields(_ plan: DescriptionPlan, _ range: Range<Int>) -> [UInt8]? {
        let w = VMDescWriter()
        w.startArray()
        for field in plan.fields[range] {
            guard describe(field, w, depth: 0), w.byteCount <= limit else { return nil }
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
                    if w.byteCount > limit { return false }
                }
            }
        case .structure(let nested):
            guard let program = nested.program, program.flat, program.flatMaxVersion <= nested.versionID else {
                return false
            }
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
                if w.byteCount > limit { return false }
            }
        default:
            return false
        }
        return true
    }
}

/// A growable byte array for the writer's text: appends are a capacity check and a copy
/// (`[UInt8].append(contentsOf:)` costs several calls each). Freed by its owner (`free`).
struct GrowableBytes {
    private var base: UnsafeMutablePointer<UInt8>? = nil
    private(set) var count = 0
    private var capacity = 0

    /// The bytes written so far (valid until the next append, which may move them).
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(count + 1) }
        // SAFETY: count < capacity after grow; base holds capacity bytes.
        base![count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ text: UnsafeBufferPointer<UInt8>) {
        guard let source = text.baseAddress, text.count > 0 else { return }
        if count + text.count > capacity { grow(count + text.count) }
        // SAFETY: count + text.count <= capacity after grow. `text` must not point into this
        // buffer (grow would free it first): no caller appends the writer's own `bytes`; the
        // texts appended come from a program's storage, literals, or the caller's arrays.
        (base! + count).update(from: source, count: text.count)
        count += text.count
    }

    mutating func append<S: Sequence>(contentsOf sequence: S) where S.Element == UInt8 {
        for byte in sequence { append(byte) }
    }

    mutating func append(contentsOf array: [UInt8]) {
        array.withUnsafeBufferPointer { append($0) }
    }

    // SAFETY: the only owner of `base`: g_realloc keeps its `count` written bytes in the new
    // block and frees the old one; the last is freed in `free()`, which the owning writer calls
    // once from its deinit. g_realloc aborts when memory runs out (as `allocate` does), so the
    // result is never NULL for a positive size. A large block is grown by remapping its pages,
    // neither copied nor held twice: a vmdesc of 237 MB (16,384 devices) was copied at each
    // doubling and held twice (the old block and the copy) while it grew.
    private mutating func grow(_ needed: Int) {
        let newCapacity = max(needed, capacity * 2, 1024)
        base = g_realloc(base, gsize(newCapacity)).assumingMemoryBound(to: UInt8.self)
        capacity = newCapacity
    }

    func free() { g_free(base) }
}

/// C's "%.17g" for a double.
func formatDouble17g(_ value: Double) -> String {
    // SAFETY: vsnprintf writes at most 64 bytes including the NUL (%.17g needs at most 25).
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
        _ = withVaList([value]) { vsnprintf(buffer.baseAddress!, 64, "%.17g", $0) }
        return String(cString: buffer.baseAddress!)
    }
}
