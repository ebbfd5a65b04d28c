// An order-preserving JSON document model.
//
// QEMU's device descriptions (the "vmdesc" at the end of a migration stream) are written by a
// streaming writer that can emit the same key twice in one object, and the order of keys is
// meaningful to the people reading them. `JSONObject` therefore keeps every member, in order,
// including duplicates. Lookups follow the convention of Python's `dict` (which QEMU's own
// scripts use): the last member with a key wins.

/// A JSON value. Objects keep their members in document order, duplicates included.
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON number: an integer that fits `Int64`, a larger integer kept as its decimal digits,
/// or a floating-point value.
package struct JSONNumber: Sendable, CustomStringConvertible {
    package enum Storage: Sendable, Equatable {
        case integer(Int64)
        /// An integer outside `Int64`'s range, as canonical decimal digits (with a leading `-`
        /// when negative).
        case bigInteger(String)
        case double(Double)
    }

    package var storage: Storage

    package init(_ value: Int64) { storage = .integer(value) }
    package init(_ value: Int) { storage = .integer(Int64(value)) }
    package init(_ value: UInt64) {
        if value <= UInt64(Int64.max) {
            storage = .integer(Int64(value))
        } else {
            storage = .bigInteger(String(value))
        }
    }
    package init(_ value: Double) { storage = .double(value) }
    package init(storage: Storage) { self.storage = storage }

    /// The value as `Int64` when it is an integer in range, or a floating-point value with an
    /// exact `Int64` equivalent.
    package var int64Value: Int64? {
        switch storage {
        case .integer(let v): return v
        case .bigInteger: return nil
        case .double(let d): return Int64(exactly: d)
        }
    }

    package var intValue: Int? { int64Value.flatMap { Int(exactly: $0) } }

    package var doubleValue: Double {
        switch storage {
        case .integer(let v): return Double(v)
        case .bigInteger(let s): return Double(s) ?? .nan
        case .double(let d): return d
        }
    }

    package var isInteger: Bool {
        switch storage {
        case .integer, .bigInteger: return true
        case .double: return false
        }
    }

    /// The number as Python's `json.dumps` writes it.
    package var description: String {
        switch storage {
        case .integer(let v): return String(v)
        case .bigInteger(let s): return s
        case .double(let d): return pythonFloatRepr(d)
        }
    }
}

extension JSONNumber: Equatable {
    /// Numeric equality, as in Python: `4 == 4.0`.
    package static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        switch (lhs.storage, rhs.storage) {
        case (.integer(let a), .integer(let b)): return a == b
        case (.bigInteger(let a), .bigInteger(let b)): return a == b
        case (.integer, .bigInteger), (.bigInteger, .integer): return false
        default: return lhs.doubleValue == rhs.doubleValue
        }
    }
}

/// A JSON object whose members keep document order; the same key may occur more than once.
package struct JSONObject: Sendable, Equatable {
    package struct Member: Sendable, Equatable {
        package var key: String
        package var value: JSONValue
        package init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// Every member, in order, duplicates included.
    package var members: [Member]

    package init() { members = [] }
    package init(_ members: [Member]) { self.members = members }
    package init(_ pairs: [(String, JSONValue)]) {
        members = pairs.map { Member(key: $0.0, value: $0.1) }
    }

    package var count: Int { members.count }
    package var isEmpty: Bool { members.isEmpty }
    /// Keys in order, duplicates included.
    package var keys: [String] { members.map(\.key) }

    /// The value of the last member named `key` (Python `dict` semantics). Setting replaces the
    /// value of the last member with that key in place, or appends a member; setting `nil`
    /// removes every member with that key.
    package subscript(key: String) -> JSONValue? {
        get {
            for member in members.reversed() where member.key == key { return member.value }
            return nil
        }
        set {
            if let newValue {
                if let i = members.lastIndex(where: { $0.key == key }) {
                    members[i].value = newValue
                } else {
                    members.append(Member(key: key, value: newValue))
                }
            } else {
                members.removeAll { $0.key == key }
            }
        }
    }

    package func contains(key: String) -> Bool { members.contains { $0.key == key } }

    /// Every value stored under `key`, in order.
    package func values(forKey key: String) -> [JSONValue] {
        members.filter { $0.key == key }.map(\.value)
    }

    /// Appends a member, even when the key is already present.
    package mutating func append(_ key: String, _ value: JSONValue) {
        members.append(Member(key: key, value: value))
    }

    /// One member per key, as Python builds a `dict` from the pairs: each key stays where it
    /// first occurred and takes the value of its last occurrence. Not recursive.
    package func deduplicated() -> JSONObject {
        var position: [String: Int] = [:]
        var result: [Member] = []
        result.reserveCapacity(members.count)
        for member in members {
            if let i = position[member.key] {
                result[i].value = member.value
            } else {
                position[member.key] = result.count
                result.append(member)
            }
        }
        return JSONObject(result)
    }
}

extension JSONObject: Sequence {
    package func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}

extension JSONValue {
    package subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    package subscript(index: Int) -> JSONValue? {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return nil
    }

    package var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }
    package var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
    package var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    package var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
    package var numberValue: JSONNumber? {
        if case .number(let n) = self { return n }
        return nil
    }
    package var int64Value: Int64? { numberValue?.int64Value }
    package var intValue: Int? { numberValue?.intValue }
    package var isNull: Bool { self == .null }

    /// A short name for the kind of value, for error messages.
    package var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Where a non-empty array's elements are stored, nil for an empty one: the parser gives
    /// arrays with the same text one storage (see `JSONValue(parsing:)`), so a caller can
    /// remember what it made of one by this address while the document holds the array.
    package static func storageAddress<Element>(of array: [Element]) -> UnsafeRawPointer? {
        array.isEmpty ? nil : array.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
    }

    /// The same document with every object reduced to one member per key, the way Python's
    /// `json.loads` (with an ordered dict) sees it: first position, last value. Arrays and
    /// objects without a repeated key anywhere inside stay shared with `self`, not copied (a
    /// parsed vmdesc shares the descriptions its devices repeat: see `JSONValue(parsing:)`), and
    /// containers that share their storage in `self` share it in the result too, when they
    /// have to change (so a crafted vmdesc that repeats a container with a repeated key
    /// thousands of times costs one copy of it, not thousands).
    package func deduplicatingKeys() -> JSONValue {
        var rewritten: [UnsafeRawPointer: JSONValue] = [:]
        return withKeysDeduplicated(&rewritten) ?? self
    }

    /// ``deduplicatingKeys()``, or nil when no object inside repeats a key. `rewritten` holds
    /// the containers changed so far by the address of their storage in `self` (stable while
    /// `self` is alive, which it is through the call).
    private func withKeysDeduplicated(_ rewritten: inout [UnsafeRawPointer: JSONValue]) -> JSONValue? {
        switch self {
        case .array(let a):
            let address = Self.storageAddress(of: a)
            if let address, let done = rewritten[address] { return done }
            var changed: [JSONValue]? = nil
            for i in a.indices {
                guard let d = a[i].withKeysDeduplicated(&rewritten) else { continue }
                if changed == nil { changed = a }
                changed![i] = d
            }
            guard let changed else { return nil }
            if let address { rewritten[address] = .array(changed) }
            return .array(changed)
        case .object(let o):
            let address = Self.storageAddress(of: o.members)
            if let address, let done = rewritten[address] { return done }
            var changed: [JSONObject.Member]? = nil
            for i in o.members.indices {
                guard let d = o.members[i].value.withKeysDeduplicated(&rewritten) else { continue }
                if changed == nil { changed = o.members }
                changed![i].value = d
            }
            let object = changed.map { JSONObject($0) } ?? o
            let result: JSONValue
            if object.hasDuplicateKeys {
                result = .object(object.deduplicated())
            } else if changed != nil {
                result = .object(object)
            } else {
                return nil
            }
            if let address { rewritten[address] = result }
            return result
        default:
            return nil
        }
    }
}

extension JSONObject {
    /// Whether some key occurs more than once.
    package var hasDuplicateKeys: Bool {
        let n = members.count
        if n < 2 { return false }
        if n <= 12 {
            for i in 1..<n {
                let k = members[i].key
                for j in 0..<i where members[j].key == k { return true }
            }
            return false
        }
        var seen = Set<String>(minimumCapacity: n)
        for m in members where !seen.insert(m.key).inserted { return true }
        return false
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    package init(nilLiteral: ()) { self = .null }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    package init(integerLiteral value: Int64) { self = .number(JSONNumber(value)) }
    package init(floatLiteral value: Double) { self = .number(JSONNumber(value)) }
    package init(stringLiteral value: String) { self = .string(value) }
    package init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
}

// MARK: - Python's float repr

/// Formats a double as Python's `repr(float)` does: the shortest digits that round-trip,
/// positional notation for decimal exponents -4 ..< 16 (always with a fractional part),
/// scientific notation otherwise (`1e-05`, `1.5e+20`). Non-finite values use the spellings
/// Python's `json` module writes (`NaN`, `Infinity`, `-Infinity`).
func pythonFloatRepr(_ d: Double) -> String {
    if d.isNaN { return "NaN" }
    if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
    if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description also yields the shortest round-trip digits; take them apart.
    let text = Swift.abs(d).description
    var digits: [UInt8] = []
    var pointPosition: Int? = nil  // number of digits before the decimal point
    var exponent = 0
    var utf8 = Array(text.utf8)
    if let e = utf8.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
        exponent = Int(String(decoding: utf8[(e + 1)...], as: UTF8.self)) ?? 0
        utf8 = Array(utf8[..<e])
    }
    for c in utf8 {
        if c == UInt8(ascii: ".") {
            pointPosition = digits.count
        } else {
            digits.append(c)
        }
    }
    var intDigits = pointPosition ?? digits.count
    // Strip leading zeros (e.g. "0.001" -> "1" with the point moved).
    while digits.count > 1 && digits.first == UInt8(ascii: "0") {
        digits.removeFirst()
        intDigits -= 1
    }
    while digits.count > 1 && digits.last == UInt8(ascii: "0") {
        digits.removeLast()
    }
    // Value = 0.d1d2d3... * 10^(intDigits + exponent); scientific exponent is one less.
    let sciExp = intDigits + exponent - 1
    var out = d < 0 ? "-" : ""
    let ds = String(decoding: digits, as: UTF8.self)
    if sciExp >= -4 && sciExp < 16 {
        if sciExp < 0 {
            out += "0." + String(repeating: "0", count: -sciExp - 1) + ds
        } else if digits.count <= sciExp + 1 {
            out += ds + String(repeating: "0", count: sciExp + 1 - digits.count) + ".0"
        } else {
            let split = ds.index(ds.startIndex, offsetBy: sciExp + 1)
            out += ds[..<split] + "." + ds[split...]
        }
    } else {
        out += String(ds.prefix(1))
        if digits.count > 1 { out += "." + ds.dropFirst() }
        out += sciExp < 0 ? "e-" : "e+"
        let mag = Swift.abs(sciExp)
        out += mag < 10 ? "0\(mag)" : "\(mag)"
    }
    return out
}
