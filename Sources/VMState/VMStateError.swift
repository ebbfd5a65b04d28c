import CVMState

/// A failure to save or load state, with where it happened.
///
/// `path` names the description and field (`mc146818rtc/cmos_data[3]`, nested through structs
/// and subsections), `offset` is the byte offset in the input (load) or output (save) where the
/// failing value starts, and `expected`/`actual` say what was wanted and what was found.
///
/// At the C edge the same error becomes a `GError` (domain `VMSTATE_ERROR`, code
/// `Kind` raw value, message ``description``) or, through QEMU's `int` functions,
/// the negative ``errno``.
public struct VMStateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The failure kinds; each has its own `GError` code at the C edge (`VMStateErrorCode`).
    public enum Kind: Int32, Sendable, CaseIterable {
        /// Anything not listed below (bad arguments, bytes left over, a registry conflict).
        case failed = 1
        /// The input ended inside a value.
        case shortInput
        /// The incoming version is above the description's `version_id`.
        case versionTooNew
        /// The incoming version is below the description's `minimum_version_id`.
        case versionTooOld
        /// An `_EQUAL` or `_LE` check failed, or a GTree's node count disagrees.
        case mismatch
        /// The 0x30 marker of a NULL pointer was another byte (list and tree markers are not
        /// checked: as in QEMU, any byte other than 0 starts an element).
        case badMarker
        /// The stream has a subsection the description does not have.
        case unknownSubsection
        /// A `VMSTATE_VALIDATE` test (or another `VMS_MUST_EXIST` field) failed.
        case mustExist
        /// `pre_load`, `post_load`, `pre_save` or `post_save` returned non-zero.
        case hookFailed
        /// A custom `VMStateInfo` `get` returned a negative value, or its `put` a non-zero one (as
        /// in QEMU, a positive `get` result is success).
        case fieldFailed
        /// An element count or buffer size is negative or too large, or its allocation overflows.
        case boundExceeded
        /// The description itself is unusable (no `info` and no `vmsd`, a NULL pointer field).
        case invalidTable
        /// A whole stream is malformed (magic, version, section type, footer).
        case badStream
        /// A stream section with no registered device.
        case unknownSection
        /// The stream is for another machine type.
        case machineMismatch
        /// A RAM record is malformed, or names a block that is not registered or has another size.
        case ram

        /// The negative errno QEMU's C API returns for this kind.
        var errno: Int32 {
            switch self {
            case .shortInput: return -5  // EIO
            case .unknownSubsection, .unknownSection: return -2  // ENOENT
            case .mustExist: return -1
            default: return -22  // EINVAL
            }
        }
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// Description path of the field being saved or loaded (empty at stream level).
    public var path: String
    /// Byte offset in the input or output.
    public var offset: Int
    /// What a short sentence says went wrong.
    public var reason: String
    /// What the engine wanted to find, when that is known (`"at most 3"`, `"0x10"`).
    public var expected: String?
    /// What it found instead (`"4"`, `"0x08"`, `"1 left"`).
    public var actual: String?
    /// The negative errno reported through QEMU's int-returning API.
    public var errno: Int32
    /// The message of the `Error` QEMU 10.0 sets for this failure of a save (`pre-save failed:
    /// dev`, `Save of field dev/x failed: put failed`); set by saves with the QEMU 10.0 dialect
    /// only, nil otherwise (the C API then uses ``description``).
    var qemuMessage: String? = nil

    /// Equal when every public property is (`kind`, `path`, `offset`, `reason`, `expected`,
    /// `actual`, `errno`).
    public static func == (a: VMStateError, b: VMStateError) -> Bool {
        a.kind == b.kind && a.path == b.path && a.offset == b.offset && a.reason == b.reason
            && a.expected == b.expected && a.actual == b.actual && a.errno == b.errno
    }

    /// An error of `kind` at `path` and byte `offset`; `errno` defaults to the kind's errno.
    public init(
        _ kind: Kind, path: String = "", offset: Int = 0, reason: String,
        expected: String? = nil, actual: String? = nil, errno: Int32? = nil
    ) {
        self.kind = kind
        self.path = path
        self.offset = offset
        self.reason = reason
        self.expected = expected
        self.actual = actual
        self.errno = errno ?? kind.errno
    }

    /// The message: `PATH: REASON[; expected EXPECTED][, got ACTUAL] (at byte OFFSET)`, the same
    /// text a `GError` carries at the C edge. Names taken from a stream can hold any byte: control
    /// characters in it are written as `\xNN` (``escapingControlCharacters(_:keepingNewlines:)``),
    /// so that the message is one line, a whole C string, and safe to print to a terminal.
    public var description: String {
        var text = path.isEmpty ? "" : "\(shownPath): "
        text += reason
        if let expected { text += "; expected \(expected)" }
        if let actual { text += ", got \(actual)" }
        text += " (at byte \(offset))"
        return escapingControlCharacters(text)
    }
}

extension VMStateError {
    /// Paths of more components than this are shortened in ``description``.
    static let shownPathComponents = 100

    /// ``path`` as the message shows it: whole up to 100 components (the 64 levels of nesting a
    /// checked load allows fit), else its first and last 32 with the number left out between
    /// them, `node/kids/.../kids/(1234 more)/kids/...`: a failure a thousand levels down a tree
    /// (or a pointer cycle) would otherwise make a message of hundreds of KB.
    var shownPath: String { Self.shortened(path) }

    /// `path` shortened as ``shownPath`` is.
    static func shortened(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count > Self.shownPathComponents else { return path }
        let kept = 32
        return (parts.prefix(kept) + ["(\(parts.count - 2 * kept) more)"] + parts.suffix(kept)).joined(separator: "/")
    }
}

/// The first `limit` of `items` joined with ", ", then " and N more" for the rest: a list in a
/// message that a hostile stream could make as long as it likes. `total`: how many there are,
/// when `items` holds only the first ones (default: `items.count`).
package func abbreviatedList(_ items: [String], first limit: Int, total: Int? = nil) -> String {
    let total = total ?? items.count
    return items.prefix(limit).joined(separator: ", ") + (total > limit ? " and \(total - limit) more" : "")
}

/// `bytes` as text for a message: UTF-8 sequences as they are, and each byte that is not part
/// of one as `\xNN` (two hex digits), so that two names that differ only in such bytes read
/// differently (decoding would make each U+FFFD).
package func showingBytesNotUTF8(_ bytes: [UInt8]) -> String {
    if let text = String(validating: bytes, as: UTF8.self) { return text }
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
        let lead = bytes[i]
        let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0
        if length > 0, i + length <= bytes.count, String(validating: bytes[i..<i + length], as: UTF8.self) != nil {
            out += bytes[i..<i + length]
            i += length
        } else {
            out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), digits[Int(lead >> 4)], digits[Int(lead & 0xF)]]
            i += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// `text` with its control characters written out, for messages and text output that carry
/// names taken from a stream or a description file (which can hold any byte): C0 controls
/// (U+0000-U+001F) and DEL as `\xNN` (two hex digits), C1 controls (U+0080-U+009F, which some
/// terminals obey as escape sequences) as `\u00NN`, and the bidirectional embedding, override
/// and isolate controls (U+202A-U+202E, U+2066-U+2069, which reorder how the rest of a line
/// shows) as `\uNNNN`. A NUL would cut a C string short, a newline would break a one-line
/// message, ESC or CSI sequences would drive the terminal the text is printed to, and an
/// override would show a name as another. `keepingNewlines` keeps U+000A as it is (multi-line
/// text output). Text with none of them is returned unchanged, without a copy.
package func escapingControlCharacters(_ text: String, keepingNewlines: Bool = false) -> String {
    // C0 and DEL are single bytes in UTF-8; C1 are 0xC2 0x80-0x9F; the bidi controls 0xE2 0x80/0x81 ...
    let suspect = text.utf8.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 }
    guard suspect else { return text }
    // Built as UTF-8 bytes: appending to a `String.UnicodeScalarView` element by element copies
    // the whole string each time (quadratic; a hostile stream's 64 KB of names took seconds).
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count + 16)
    for scalar in text.unicodeScalars {
        let v = scalar.value
        if keepingNewlines && v == 0x0A {
            out.append(0x0A)
        } else if v < 0x20 || v == 0x7F {
            out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "x"), digits[Int(v >> 4)], digits[Int(v & 0xF)]])
        } else if (0x80...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) {
            out.append(contentsOf: [
                UInt8(ascii: "\\"), UInt8(ascii: "u"), digits[Int(v >> 12)], digits[Int((v >> 8) & 0xF)],
                digits[Int((v >> 4) & 0xF)], digits[Int(v & 0xF)],
            ])
        } else {
            UTF8.encode(scalar) { out.append($0) }
        }
    }
    return String(decoding: out, as: UTF8.self)
}
