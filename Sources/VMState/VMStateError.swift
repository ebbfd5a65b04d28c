import CVMState

/// A failure to save or load state, with where it happened.
///
/// `path` names the description and field (`mc146818rtc/cmos_data[3]`, nested through structs
/// and subsections), `offset` is the byte offset in the input (load) or output (save) where the
/// failing value starts, and `expected`/`actual` say what was wanted and what was found.
public struct VMStateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The failure kinds; each has its own `GError` code at the C edge (`VMStateErrorCode`).
    public enum Kind: Int32, Sendable, CaseIterable {
        case failed = 1
        case shortInput
        case versionTooNew
        case versionTooOld
        case mismatch
        case badMarker
        case unknownSubsection
        case mustExist
        case hookFailed
        case fieldFailed
        case boundExceeded
        case invalidTable
        case badStream
        case unknownSection
        case machineMismatch
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

    public var kind: Kind
    /// Description path of the field being saved or loaded (empty at stream level).
    public var path: String
    /// Byte offset in the input or output.
    public var offset: Int
    /// What a short sentence says went wrong.
    public var reason: String
    public var expected: String?
    public var actual: String?
    /// The negative errno reported through QEMU's int-returning API.
    public var errno: Int32

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

    public var description: String {
        var text = path.isEmpty ? "" : "\(path): "
        text += reason
        if let expected { text += "; expected \(expected)" }
        if let actual { text += ", got \(actual)" }
        text += " (at byte \(offset))"
        return text
    }
}
