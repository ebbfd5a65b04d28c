// A strict JSON (RFC 8259) parser producing order-preserving `JSONValue`s.
#if canImport(Glibc)
    import Glibc
#endif

/// A syntax error in JSON text, with the byte offset where it was found.
package struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset of the problem, counted from `baseOffset` given to the parser (0 = the start
    /// of the JSON text unless the caller said otherwise).
    package var offset: Int
    /// 1-based line and column (in bytes) within the JSON text.
    package var line: Int
    package var column: Int
    package var message: String
    /// The JSON was refused for the memory its parsed value would take
    /// (``JSONValue/parsedMemoryLimit``), not for its syntax.
    package var tooLarge = false
    /// The JSON was refused for nesting deeper than the parser's `maximumDepth`.
    package var tooDeep = false

    package var description: String {
        "\(tooLarge ? "JSON refused" : "invalid JSON") at byte offset \(offset) (line \(line), column \(column)): \(message)"
    }
}

/// Runs `body`, whose only error is an `E`, through library calls that rethrow untyped errors
/// (`withUnsafeBytes`, `withUTF8`), and gives the error back typed.
package func typedThrows<R, E: Error>(_ type: E.Type, _ body: () throws -> R) throws(E) -> R {
    do {
        return try body()
    } catch let error as E {
        throw error
    } catch {
        preconditionFailure("typedThrows: \(E.self) expected, got \(error)")
    }
}

extension JSONValue {
    /// Parses JSON text. Throws `JSONParseError`.
    package init(parsing text: String) throws(JSONParseError) {
        var text = text
        self = try typedThrows(JSONParseError.self) {
            try text.withUTF8 { try JSONValue(parsing: UnsafeRawBufferPointer($0)) }
        }
    }

    /// Parses JSON bytes (UTF-8). Throws `JSONParseError`.
    package init(parsing bytes: [UInt8]) throws(JSONParseError) {
        self = try typedThrows(JSONParseError.self) { try bytes.withUnsafeBytes { try JSONValue(parsing: $0) } }
    }

    /// Parses JSON bytes (UTF-8). Offsets in errors are `baseOffset` plus the position in
    /// `bytes`, so a caller parsing a slice of a file can report file offsets.
    /// Throws `JSONParseError`, also when the parsed value would take more than
    /// ``parsedMemoryLimit`` bytes of memory, or its arrays and objects nest deeper than
    /// `maximumDepth` (the parser recurses once per level, a few hundred bytes of stack each).
    /// `passed`, when given, is called now and then (every 4 MiB) with the offset (in `bytes`)
    /// before which the parser has read everything: a caller parsing a mapped file can give
    /// those pages back (the parser reads them again only to compare texts of repeated
    /// containers and to place an error).
    package init(
        parsing bytes: UnsafeRawBufferPointer, baseOffset: Int = 0, maximumDepth: Int = JSONValue.maximumDepth,
        passed: ((Int) -> Void)? = nil
    ) throws(JSONParseError) {
        var parser = JSONParserState(bytes: bytes, baseOffset: baseOffset, maximumDepth: maximumDepth)
        parser.passed = passed
        if passed == nil { parser.nextPassed = .max }
        self = try parser.parseDocument()
    }

    /// The deepest nesting of arrays and objects parsed by default: 512 levels.
    package static let maximumDepth = 512

    /// The longest string (a key or a value) parsed, in bytes of JSON text: 1 MiB. The names in
    /// QEMU's vmdescs and `-dump-vmstate` files are a few dozen bytes; a longer string is
    /// refused, not copied into every path and message that names it (a 60 MiB field name took
    /// `vmstate diff` past 256 MiB of memory).
    package static let maximumStringBytes = 1 << 20

    /// The most memory one parsed document may take, in bytes (64 MiB), as the parser counts
    /// it as it goes, before taking it (an upper bound: each array element and object member as
    /// two of its kind, for the storage an array grows into; each array, object and string kept
    /// outside its value as 48 bytes more than its contents; a string with escapes twice, for
    /// the bytes it is decoded into; a number's text past 15 bytes, twice for an integer past
    /// Int64): JSON text takes 5 to 25 times its size in memory, depending on its shape. The
    /// JSON this parser is given comes from streams and files that may be hostile: a vmdesc,
    /// which QEMU writes as about 100 KB for a whole pc machine and 7.5 KB more per x86 vCPU,
    /// or a `-dump-vmstate` file (under 1 MB). An array or object whose text repeats an earlier
    /// one's is held and counted once (``JSONParserState/intern(_:start:budgetBefore:)``), so a
    /// vmdesc takes about 6.5 times the size of what it does not repeat: every vCPU's
    /// descriptions after the first cost only its own entries (about 2 KB), and a vmdesc of
    /// 4,096 x86 vCPUs (QEMU 10.0's most; 30 MB of text) takes about 10 MB.
    package static let parsedMemoryLimit = 64 << 20
}

/// An array or object kept for ``JSONParserState/intern(_:start:budgetBefore:)``: where its
/// text is in the input, and its value.
private struct InternedContainer {
    var start: Int
    var count: Int
    var value: JSONValue
}

/// The shortest text of an array or object that the parser looks for an earlier twin of: 256
/// bytes (a vmdesc field's description, about 50 bytes, is not worth an entry; the list of a
/// device's fields is).
private let internMinimumLength = 256
/// The longest: 1 MiB (what repeats in a vmdesc is a device's description, a few KB; the whole
/// document or its `devices` list, which never repeat, would be hashed over all their text
/// again, reading back the pages the parse has given up).
private let internMaximumLength = 1 << 20
/// How many bytes of text the parser may fingerprint and compare to find twins, per byte of
/// its input, and besides: each container's text is hashed when it closes, so a byte is hashed
/// once per container around it (QEMU's vmdescs: 2 to 8 times, nested 13 to 16 deep, hashed
/// and compared at most 16 times); a crafted text nested hundreds deep would make the parse
/// take seconds. Past this the parser stops looking for twins (the rest parses as it would
/// without them, its memory counted in full).
private let fingerprintBytesPerByte = 16
private let fingerprintBytesBesides = 16 << 20
/// What the parser counts for a container it keeps to find twins of (the table's entry, twice
/// for the capacity it grows into): given back with the table when the parse ends.
private let internEntryCost = 2 * (MemoryLayout<UInt64>.stride + MemoryLayout<InternedContainer>.stride) + 8

/// A 64-bit fingerprint of `count` bytes at `p` (8 bytes at a time, each word mixed in by a
/// multiplication): only to find texts that may be equal, which are then compared.
private func textFingerprint(_ p: UnsafeRawPointer, _ count: Int) -> UInt64 {
    var h = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: count)
    var i = 0
    while i + 8 <= count {
        h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 29
        i += 8
    }
    while i < count {
        h = (h ^ UInt64(p.load(fromByteOffset: i, as: UInt8.self))) &* 0xC4CE_B9FE_1A85_EC53
        i += 1
    }
    return h ^ (h >> 32)
}

/// What the parser counts for an array, an object or a string stored apart from its value
/// (a heap block: its header and the allocator's rounding).
private let blockCost = 48
/// What it counts for an element or a member (twice the element, for the capacity an array
/// grows into).
private let elementCost = 2 * MemoryLayout<JSONValue>.stride
private let memberCost = 2 * MemoryLayout<JSONObject.Member>.stride

/// SAFETY: `bytes` is borrowed for one parse (inside `withUTF8` / `withUnsafeBytes`, or the
/// caller's buffer, valid for the call), and no parsed value keeps a pointer into it (strings
/// and numbers are copied out). Every subscript of `bytes` follows a check against
/// `bytes.count` (`pos < bytes.count`, `pos + 4 <= bytes.count`, ...): an
/// `UnsafeRawBufferPointer` checks its bounds in debug builds only.
private struct JSONParserState {
    let bytes: UnsafeRawBufferPointer
    let baseOffset: Int
    var pos = 0
    var depth = 0
    let maximumDepth: Int
    /// Where the calling thread's stack ends (checked once per level), with a smaller reserve
    /// than the engine's: a level takes about 1.5 KiB and the refusal little more, and a load
    /// on a 64 KiB thread (the least C-API.md allows) has used about 20 KiB when it parses a
    /// vmdesc, whose 13 or 14 levels (QEMU's) must still fit.
    let stack = StackLimit(reserve: JSONParserState.stackReserve)
    #if DEBUG
        static let stackReserve = StackLimit.reserve
    #else
        static let stackReserve = 8 << 10
    #endif
    /// Bytes of memory the parsed value may still take (``JSONValue/parsedMemoryLimit``).
    var budget = JSONValue.parsedMemoryLimit
    /// Arrays and objects of at least ``internMinimumLength`` bytes of text parsed so far, by
    /// ``textFingerprint(_:_:)`` of their text (see ``intern(_:start:budgetBefore:)``).
    var interned: [UInt64: InternedContainer] = [:]
    /// Bytes of text the parser may still fingerprint and compare (``fingerprintBytesPerByte``).
    var fingerprintBudget: Int
    /// Told every `passedStep` bytes how far the parser has read (see `JSONValue(parsing:...)`).
    var passed: ((Int) -> Void)? = nil
    var nextPassed = passedStep
    static let passedStep = 4 << 20

    /// Tells `passed` how far the parse is, once per `passedStep` bytes.
    @inline(__always) mutating func notePassed() {
        if pos >= nextPassed, let passed {
            passed(pos)
            nextPassed = pos + Self.passedStep
        }
    }

    init(bytes: UnsafeRawBufferPointer, baseOffset: Int, maximumDepth: Int) {
        self.bytes = bytes
        self.baseOffset = baseOffset
        self.maximumDepth = maximumDepth
        let (perByte, overflow) = bytes.count.multipliedReportingOverflow(by: fingerprintBytesPerByte)
        fingerprintBudget = overflow ? .max : perByte + fingerprintBytesBesides
    }

    func error(_ message: String, at position: Int? = nil) -> JSONParseError {
        let p = min(position ?? pos, bytes.count)
        var line = 1
        var lineStart = 0
        // (Lines counted in steps of `passedStep`, each given back to `passed` once counted:
        // the pages the parse gave up are read again here.)
        var counted = 0
        while counted < p {
            let end = min(p, counted + Self.passedStep)
            for i in counted..<end where bytes[i] == 0x0A {
                line += 1
                lineStart = i + 1
            }
            if end == counted + Self.passedStep, let passed { passed(end) }
            counted = end
        }
        return JSONParseError(
            offset: baseOffset + p, line: line, column: p - lineStart + 1, message: message)
    }

    func describeByte(at p: Int) -> String {
        guard p < bytes.count else { return "end of input" }
        let b = bytes[p]
        if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x" + hex2(b)
    }

    mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D:
                pos += 1
                // (A long blank run is given back as it is passed, as values are.)
                if pos >= nextPassed { notePassed() }
            default: return
            }
        }
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        // A UTF-8 byte order mark is tolerated at the very start.
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            pos = 3
        }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if pos != bytes.count {
            throw error("unexpected \(describeByte(at: pos)) after the end of the JSON value")
        }
        return value
    }

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard pos < bytes.count else { throw error("expected a value, found end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let start = pos
            let budgetBefore = budget
            let value = bytes[pos] == UInt8(ascii: "{") ? try parseObject() : try parseArray()
            return try intern(value, start: start, budgetBefore: budgetBefore)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("expected a value, found \(describeByte(at: pos))")
        }
    }

    /// `value`, just parsed from `bytes[start..<pos]`, or the value of an earlier array or
    /// object with the same text: that one shares its storage (Swift's arrays are
    /// copy-on-write), the new copy is dropped and its memory given back to the budget. A
    /// vmdesc repeats most of its text (each x86 CPU's description, about 6 KB, differs from
    /// the others only in its `instance_id`), so a machine's description takes memory for what
    /// differs, not for every CPU. Only containers of ``internMinimumLength`` to
    /// ``internMaximumLength`` bytes of text are kept for this, each by a fingerprint of its text; the texts of two containers
    /// with the same fingerprint are compared before one stands for the other, and a
    /// fingerprint's first container is the only one kept for it. No more twins are looked for
    /// once ``fingerprintBudget`` is spent.
    mutating func intern(_ value: JSONValue, start: Int, budgetBefore: Int) throws(JSONParseError) -> JSONValue {
        let count = pos - start
        guard count >= internMinimumLength, count <= internMaximumLength, count <= fingerprintBudget,
            let base = bytes.baseAddress
        else {
            return value
        }
        fingerprintBudget -= count
        // SAFETY: 0 <= start < pos <= bytes.count (the container was just read from there),
        // and an earlier container's range was checked the same way when it was read.
        let key = textFingerprint(base + start, count)
        if let earlier = interned[key] {
            fingerprintBudget -= count
            if earlier.count == count && memcmp(base + earlier.start, base + start, count) == 0 {
                // (Every container inside this one had an earlier twin too: nothing new was
                // kept while it was parsed.)
                budget = budgetBefore
                return earlier.value
            }
            return value
        }
        try charge(internEntryCost, at: start)
        interned[key] = InternedContainer(start: start, count: count, value: value)
        return value
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let start = pos
        let n = word.utf8CodeUnitCount
        let w = word.utf8Start
        for i in 0..<n {
            if pos + i >= bytes.count || bytes[pos + i] != w[i] {
                throw error("invalid literal, expected '\(word)'", at: start)
            }
        }
        pos += n
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > maximumDepth {
            var e = error("nesting deeper than \(maximumDepth) levels")
            e.tooDeep = true
            throw e
        }
        // Each level recurses (about 1.5 KiB of stack): a vmdesc parsed on a thread with a
        // small stack (64 KiB, as C-API.md allows) stops here, as the engine's levels do,
        // instead of overflowing it.
        if stack.isNearlyUsedUp {
            var e = error(
                "nested too deep for the thread's stack (less than \(Self.stackReserve >> 10) KiB of it left at \(depth) levels)"
            )
            e.tooDeep = true
            throw e
        }
        try charge(blockCost)
    }

    /// Counts `n` more bytes of memory for the parsed value; throws past the limit, before the
    /// memory is taken, naming `position` (default: the current one), where the value starts.
    mutating func charge(_ n: Int, at position: Int? = nil) throws(JSONParseError) {
        budget -= n
        if budget < 0 {
            var e = error(
                "the parsed JSON would take more than \(JSONValue.parsedMemoryLimit >> 20) MiB of memory, more than any "
                    + "device description (a vmdesc or -dump-vmstate file) takes", at: position)
            e.tooLarge = true
            throw e
        }
    }

    /// Counts `copies` heap copies of a text of `n` UTF-8 bytes (a string, or a number's text),
    /// before they are made: Swift keeps a string of up to 15 bytes in the value itself.
    mutating func chargeText(_ n: Int, copies: Int = 1, at position: Int) throws(JSONParseError) {
        if n > 15 { try charge(copies * (blockCost + n), at: position) }
    }

    mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        pos += 1  // {
        var object = JSONObject()
        skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                throw error("expected a string key in object, found \(describeByte(at: pos))")
            }
            try charge(memberCost)
            let key = try parseString()
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else {
                throw error("expected ':' after object key, found \(describeByte(at: pos))")
            }
            pos += 1
            skipWhitespace()
            let value = try parseValue()
            object.members.append(JSONObject.Member(key: key, value: value))
            notePassed()
            skipWhitespace()
            guard pos < bytes.count else { throw error("unterminated object, expected ',' or '}'") }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                return .object(object)
            }
            throw error("expected ',' or '}' in object, found \(describeByte(at: pos))")
        }
    }

    mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        pos += 1  // [
        var array: [JSONValue] = []
        skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            return .array(array)
        }
        while true {
            skipWhitespace()
            try charge(elementCost)
            array.append(try parseValue())
            notePassed()
            skipWhitespace()
            guard pos < bytes.count else { throw error("unterminated array, expected ',' or ']'") }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return .array(array)
            }
            throw error("expected ',' or ']' in array, found \(describeByte(at: pos))")
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = pos
        var isInteger = true
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        func isDigit(_ p: Int) -> Bool {
            p < bytes.count && bytes[p] >= UInt8(ascii: "0") && bytes[p] <= UInt8(ascii: "9")
        }
        guard isDigit(pos) else { throw error("expected a digit in number", at: pos) }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if isDigit(pos) { throw error("leading zeros are not allowed in numbers", at: start) }
        } else {
            while isDigit(pos) { pos += 1 }
        }
        if pos < bytes.count && bytes[pos] == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            guard isDigit(pos) else { throw error("expected a digit after '.' in number") }
            while isDigit(pos) { pos += 1 }
        }
        if pos < bytes.count && (bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E")) {
            isInteger = false
            pos += 1
            if pos < bytes.count && (bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-")) {
                pos += 1
            }
            guard isDigit(pos) else { throw error("expected a digit in the exponent of a number") }
            while isDigit(pos) { pos += 1 }
        }
        if isInteger && pos - start <= 18 {
            // Up to 18 digits always fit Int64.
            var p = start
            let negative = bytes[p] == UInt8(ascii: "-")
            if negative { p += 1 }
            var v: Int64 = 0
            while p < pos {
                v = v &* 10 &+ Int64(bytes[p] &- UInt8(ascii: "0"))
                p += 1
            }
            return JSONNumber(negative ? -v : v)
        }
        // The number's text, and for an integer past Int64 the digits kept.
        try chargeText(pos - start, copies: isInteger ? 2 : 1, at: start)
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        if isInteger {
            if let v = Int64(text) { return JSONNumber(v) }
            var digits = Substring(text)
            let negative = digits.hasPrefix("-")
            if negative { digits = digits.dropFirst() }
            return JSONNumber(storage: .bigInteger((negative ? "-" : "") + digits))
        }
        guard let d = Double(text) else { throw error("number out of range", at: start) }
        return JSONNumber(d)
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for i in 0..<4 {
            let c = bytes[pos + i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape", at: pos + i)
            }
            v = v << 4 | d
        }
        pos += 4
        return v
    }

    /// Refuses a string of more than ``JSONValue/maximumStringBytes`` bytes of text.
    func checkStringLength(_ length: Int, at start: Int) throws(JSONParseError) {
        guard length > JSONValue.maximumStringBytes else { return }
        var e = error(
            "a string of \(length) bytes of JSON text, more than the \(JSONValue.maximumStringBytes) a string may take "
                + "(the names in QEMU's vmdescs and -dump-vmstate files are a few dozen bytes)", at: start)
        e.tooLarge = true
        throw e
    }

    /// A string, counted (``chargeText(_:copies:at:)``) before it is made.
    mutating func parseString() throws(JSONParseError) -> String {
        let start = pos
        pos += 1  // opening quote
        // Fast path: no escapes, plain ASCII or valid UTF-8.
        var scan = pos
        var hasEscape = false
        var high: UInt8 = 0
        while scan < bytes.count {
            let b = bytes[scan]
            if b == UInt8(ascii: "\"") { break }
            if b == UInt8(ascii: "\\") { hasEscape = true; break }
            if b < 0x20 { throw error("control character \(describeByte(at: scan)) in string", at: scan) }
            high |= b
            scan += 1
        }
        if scan >= bytes.count { throw error("unterminated string", at: start) }
        if !hasEscape {
            try checkStringLength(scan - pos, at: start)
            try chargeText(scan - pos, at: start)
            let slice = UnsafeRawBufferPointer(rebasing: bytes[pos..<scan])
            if high < 0x80 {
                // ASCII (all of a vmdesc): valid UTF-8 as it is; skips the generic validation.
                pos = scan + 1
                return String(decoding: slice, as: UTF8.self)
            }
            guard let s = String(validating: slice, as: UTF8.self) else {
                throw error("invalid UTF-8 in string", at: start)
            }
            pos = scan + 1
            return s
        }
        // Where the string ends (its escapes make it no longer than that): the bytes decoded
        // into, and the string made of them, are counted first.
        var end = scan
        while end < bytes.count && bytes[end] != UInt8(ascii: "\"") {
            end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
        }
        try checkStringLength(min(end, bytes.count) - pos, at: start)
        try chargeText(end - pos, copies: 2, at: start)
        var out: [UInt8] = []
        out.reserveCapacity(min(end, bytes.count) - pos)
        while true {
            guard pos < bytes.count else { throw error("unterminated string", at: start) }
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                break
            }
            if b < 0x20 { throw error("control character \(describeByte(at: pos)) in string") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                pos += 1
                continue
            }
            pos += 1
            guard pos < bytes.count else { throw error("unterminated string", at: start) }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // A high surrogate must be followed by an escaped low surrogate.
                    if pos + 6 <= bytes.count && bytes[pos] == UInt8(ascii: "\\") && bytes[pos + 1] == UInt8(ascii: "u")
                    {
                        let save = pos
                        pos += 2
                        let low = try parseHex4()
                        if low >= 0xDC00 && low < 0xE000 {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            pos = save
                            scalar = 0xFFFD
                        }
                    } else {
                        scalar = 0xFFFD
                    }
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    scalar = 0xFFFD  // lone low surrogate: not representable in a Swift String
                }
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))' in string", at: pos - 2)
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw error("invalid UTF-8 in string", at: start)
        }
        return s
    }
}

private func hex2(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: [digits[Int(b >> 4)], digits[Int(b & 15)]], as: UTF8.self)
}
