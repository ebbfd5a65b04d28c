import CGLib
import CVMState

/// Schema dumps in the format of QEMU's `-dump-vmstate FILE` (what
/// `scripts/vmstate-static-checker.py` reads), produced from C `VMStateDescription` tables: QEMU
/// 7.2's by default, or QEMU 10.0's (``QEMUDialect/qemu10_0``), which also gives each VMS_ARRAY
/// field's element count as `"num"` before its `"size"` (QEMU 8.1 and later do).
///
/// QEMU walks its device classes and keys each top-level entry by the class name (`"isa-pit"`),
/// with the class's description (`"i8254"`) nested under `"Description"`. Here the input is a
/// list of descriptions: each top-level entry is keyed (and its `"Name"` set) by the
/// description's own name, unless an ``Entry`` gives another key. The text is otherwise
/// byte-for-byte QEMU's: the `"vmschkmachine"` entry first, two-space indentation, per field
/// `"field"`, `"version_id"`, `"field_exists"`, (QEMU 10.0, VMS_ARRAY fields) `"num"`, `"size"`
/// (the table's `size`, so `sizeof` the nested struct for struct fields: the port's own struct,
/// which may differ from QEMU's) and a nested `"Description"` when the field has a `vmsd`;
/// `VMSTATE_VALIDATE` entries are left out of `"Fields"`; `"Subsections"` follow in table order.
///
/// Where QEMU's output would be broken the dumper differs: names are JSON-escaped (QEMU prints
/// them raw), an empty list still gives valid JSON, and a description without a name, a
/// description that contains itself or two entries with the same key throw ``DumpError``
/// (QEMU prints `(null)`, recurses forever, or writes a duplicate key).
public enum VMStateSchema {
    /// The `"vmschkmachine"` name used when none is given (QEMU's machine without devices).
    public static let defaultMachine = "none"

    /// One top-level entry: a description and the key it is listed under.
    public struct Entry {
        /// The key and `"Name"` of the entry (QEMU: the device class name); `nil` uses the
        /// description's name.
        public var name: String?
        /// The top-level description (must stay valid during the dump).
        public var description: UnsafePointer<VMStateDescription>

        /// An entry for `description`, keyed by `name` or, when nil, by the description's own name.
        public init(name: String? = nil, description: UnsafePointer<VMStateDescription>) {
            self.name = name
            self.description = description
        }
    }

    /// Why a list of tables could not be dumped.
    public struct DumpError: Error, Equatable, CustomStringConvertible {
        /// Which entry and what is wrong (`entry 2: the description has no name`).
        public let message: String
        /// The message.
        public var description: String { message }
    }

    /// The -dump-vmstate JSON for `descriptions`, each keyed by its own name, in the format of
    /// `qemu`'s dump.
    public static func dumpJSON(
        _ descriptions: [UnsafePointer<VMStateDescription>], machine: String = defaultMachine,
        qemu: QEMUDialect = .qemu7_2
    ) throws -> String {
        try dumpJSON(entries: descriptions.map { Entry(description: $0) }, machine: machine, qemu: qemu)
    }

    /// The -dump-vmstate JSON for `entries`, in the format of `qemu`'s dump.
    public static func dumpJSON(
        entries: [Entry], machine: String = defaultMachine, qemu: QEMUDialect = .qemu7_2
    ) throws -> String {
        String(decoding: try dumpBytes(entries: entries, machine: machine, qemu: qemu), as: UTF8.self)
    }

    /// The -dump-vmstate JSON for a NULL-terminated C array of descriptions, in the format of
    /// `qemu`'s dump.
    public static func dumpJSON(
        nullTerminated list: UnsafePointer<UnsafePointer<VMStateDescription>?>,
        machine: String = defaultMachine, qemu: QEMUDialect = .qemu7_2
    ) throws -> String {
        try dumpJSON(descriptions(nullTerminated: list), machine: machine, qemu: qemu)
    }

    /// Which QEMU's `migration/vmstate.h` built `descriptions`, told by how their field lists
    /// end (QEMU 10.0's `VMSTATE_END_OF_LIST()` sets VMS_END, 7.2's does not; with
    /// `VMSTATE_QEMU_API` 1000 the headers here do the same); nested descriptions and
    /// subsections count.
    public enum TablesOrigin: Equatable, Sendable {
        /// Every field list ends as `qemu`'s do.
        case one(QEMUDialect)
        /// Some end as QEMU 7.2's and some as 10.0's: one description of each.
        case mixed(qemu7_2: String, qemu10_0: String)
        /// No description has fields.
        case unknown
    }

    /// How the field lists of `descriptions` and of the descriptions they nest (fields'
    /// `vmsd`, subsections; each visited once) end (``TablesOrigin``).
    public static func origin(of descriptions: [UnsafePointer<VMStateDescription>]) -> TablesOrigin {
        var (old, new): (String?, String?) = (nil, nil)
        var seen = Set<UnsafePointer<VMStateDescription>>()
        var pending = descriptions
        while let vmsd = pending.popLast(), old == nil || new == nil {
            guard seen.insert(vmsd).inserted else { continue }
            let d = DecodedDescription(vmsd)
            pending += (d.fields ?? []).compactMap(\.vmsd) + (d.subsections ?? [])
            guard let flags = d.endFlags else { continue }
            if flags & QEMUDialect.vmsEnd != 0 {
                new = new ?? d.name ?? "(no name)"
            } else {
                old = old ?? d.name ?? "(no name)"
            }
        }
        switch (old, new) {
        case (let old?, let new?): return .mixed(qemu7_2: old, qemu10_0: new)
        case (_?, nil): return .one(.qemu7_2)
        case (nil, _?): return .one(.qemu10_0)
        case (nil, nil): return .unknown
        }
    }

    /// The descriptions of a NULL-terminated C array.
    public static func descriptions(
        nullTerminated list: UnsafePointer<UnsafePointer<VMStateDescription>?>
    ) -> [UnsafePointer<VMStateDescription>] {
        var result: [UnsafePointer<VMStateDescription>] = []
        var p = list
        // SAFETY: the caller's array ends with NULL (as this function's contract says); the
        // descriptions are C tables, valid for the life of the process.
        while let vmsd = p.pointee {
            result.append(vmsd)
            p += 1
        }
        return result
    }

    /// The JSON text as UTF-8 bytes exactly as written (names are copied byte for byte), in the
    /// format of `qemu`'s dump.
    public static func dumpBytes(
        entries: [Entry], machine: String = defaultMachine, qemu: QEMUDialect = .qemu7_2
    ) throws -> [UInt8] {
        try dump(entries: entries, machine: machine, qemu: qemu, sink: nil)
    }

    /// Writes the -dump-vmstate JSON for a NULL-terminated C array of descriptions to `sink`
    /// (the tool's `schema`): held until it passes 16 MiB, then handed over in pieces of about
    /// 64 KiB as it is made (QEMU's `-dump-vmstate` writes to its file as it walks), so that
    /// memory does not grow with a dump that expands a shared nested description at each of
    /// its uses. An error (``DumpError``) found past the first 16 MiB comes after part of the
    /// dump was handed over. The buffer passed to `sink` is valid only during the call.
    package static func dump(
        nullTerminated list: UnsafePointer<UnsafePointer<VMStateDescription>?>, machine: String = defaultMachine,
        qemu: QEMUDialect = .qemu7_2, to sink: (UnsafeRawBufferPointer) -> Void
    ) throws {
        try withoutActuallyEscaping(sink) { sink in
            let rest = try dump(
                entries: descriptions(nullTerminated: list).map { Entry(description: $0) }, machine: machine,
                qemu: qemu, sink: sink)
            rest.withUnsafeBytes { sink($0) }
        }
    }

    /// The dump; with `sink`, what passed the writer's threshold was handed to it, and the
    /// rest is returned.
    private static func dump(
        entries: [Entry], machine: String, qemu: QEMUDialect, sink: ((UnsafeRawBufferPointer) -> Void)?
    ) throws -> [UInt8] {
        var w = SchemaWriter(dialect: qemu)
        w.sink = sink
        w.text("{\n")
        w.text("  \"vmschkmachine\": {\n")
        w.text("    \"Name\": ")
        w.quoted(Array(machine.utf8))
        w.text("\n  }")
        if !entries.isEmpty {
            w.text(",\n")
        }
        var keys = Set<[UInt8]>()
        for (index, entry) in entries.enumerated() {
            let vmsd = entry.description
            let key: [UInt8]
            if let name = entry.name {
                key = Array(name.utf8)
            } else if let name = DecodedDescription(vmsd).nameBytes {
                key = name
            } else {
                throw DumpError(message: "entry \(index): the description has no name")
            }
            if !keys.insert(key).inserted {
                // QEMU keys its dump by device class: two classes may share a description.
                throw DumpError(
                    message: "entry \(index): the key \"\(String(decoding: key, as: UTF8.self))\" is used twice"
                        + (entry.name == nil
                            ? " (the description's name; QEMU keys -dump-vmstate by device class, and so tells apart "
                                + "classes that share a description or a name: from C, give each entry its own key with "
                                + "vmstate_dump_schema_named)"
                            : ""))
            }
            if index > 0 {
                w.text(",\n")
            }
            // QEMU: dump_vmstate_json_to_file, one device class.
            w.spaces(2)
            w.quoted(key)
            w.text(": {\n")
            w.spaces(4)
            w.text("\"Name\": ")
            w.quoted(key)
            w.text(",\n")
            w.spaces(4)
            let decoded = DecodedDescription(vmsd)
            w.text("\"version_id\": \(decoded.version),\n")
            w.spaces(4)
            w.text("\"minimum_version_id\": \(decoded.minimumVersion),\n")
            var stack: [UnsafePointer<VMStateDescription>] = []
            try w.description(vmsd, indent: 4, isSubsection: false, stack: &stack, path: key)
            w.text("\n  }")
        }
        w.text("\n}\n")
        if let name = w.notUTF8 { throw notUTF8Error(name) }
        return w.bytes
    }

    /// The error of a dump with a name that is not UTF-8 (JSON text is: QEMU's checker, and
    /// `vmstate compat`, could not read it).
    fileprivate static func notUTF8Error(_ name: [UInt8]) -> DumpError {
        let shown = name.map { b in
            (0x20..<0x7F).contains(b)
                ? String(UnicodeScalar(b)) : "\\x" + (b < 0x10 ? "0" : "") + String(b, radix: 16)
        }.joined()
        return DumpError(message: "the name \"\(shown)\" is not valid UTF-8, which JSON needs (QEMU's names are ASCII)")
    }
}

/// Writes QEMU's dump text (migration/savevm.c, dump_vmstate_vmsd / dump_vmstate_vmsf).
fileprivate struct SchemaWriter {
    /// Whose dump format: QEMU 10.0's adds `"num"` (``QEMUDialect/dumpsArrayLength``).
    let dialect: QEMUDialect
    var bytes: [UInt8] = []
    /// Where `bytes` go once they pass 16 MiB, then 64 KiB at a time (nil: all are held).
    var sink: ((UnsafeRawBufferPointer) -> Void)?
    /// Whether some bytes went to `sink`.
    var handedOver = false

    /// Hands `bytes` to `sink` when they pass its threshold; throws the error of a name that
    /// is not UTF-8 instead, once one was written (the part of the dump before its piece was
    /// handed over; a dump held whole throws it at its end).
    mutating func handOverIfLarge() throws {
        guard let sink, bytes.count >= (handedOver ? 1 << 16 : 16 << 20) else { return }
        if let notUTF8 { throw VMStateSchema.notUTF8Error(notUTF8) }
        bytes.withUnsafeBytes { sink($0) }
        bytes.removeAll(keepingCapacity: true)
        handedOver = true
    }

    /// A description may contain itself only through a bug; also a bound on nesting.
    static let maxDepth = 64

    mutating func text(_ s: String) {
        bytes.append(contentsOf: s.utf8)
    }

    mutating func spaces(_ n: Int) {
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: n))
    }

    /// The first name written that is not UTF-8 (the dump then fails).
    var notUTF8: [UInt8]?

    /// A JSON string; bytes other than `"`, `\` and controls are copied as they are.
    mutating func quoted(_ s: [UInt8]) {
        if notUTF8 == nil, String(validating: s, as: UTF8.self) == nil { notUTF8 = s }
        bytes.append(UInt8(ascii: "\""))
        for b in s {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(b)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(b >> 4)])
                bytes.append(hex[Int(b & 0xf)])
            default:
                bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func description(
        _ vmsd: UnsafePointer<VMStateDescription>, indent: Int, isSubsection: Bool,
        stack: inout [UnsafePointer<VMStateDescription>], path: [UInt8]
    ) throws {
        let where_ = String(decoding: path, as: UTF8.self)
        let decoded = DecodedDescription(vmsd)
        guard let name = decoded.nameBytes else {
            throw VMStateSchema.DumpError(message: "\(where_): a description has no name")
        }
        if stack.contains(vmsd) {
            throw VMStateSchema.DumpError(
                message: "\(where_): the description \"\(decoded.name ?? "")\" contains itself")
        }
        if stack.count >= Self.maxDepth {
            // (Worded, and the path shortened, as the engine's and lint's.)
            throw VMStateSchema.DumpError(
                message: "\(VMStateError.shortened(where_)): descriptions nested deeper than \(Self.maxDepth) levels")
        }
        stack.append(vmsd)
        defer { stack.removeLast() }

        spaces(indent)
        if isSubsection {
            text("{\n")
        } else {
            text("\"Description\": {\n")
        }
        let inner = indent + 2
        spaces(inner)
        text("\"name\": ")
        quoted(name)
        text(",\n")
        spaces(inner)
        text("\"version_id\": \(decoded.version),\n")
        spaces(inner)
        text("\"minimum_version_id\": \(decoded.minimumVersion)")
        if let fields = decoded.fields {
            text(",\n")
            spaces(inner)
            text("\"Fields\": [\n")
            var first = true
            for f in fields where !f.mustExist {  // VMSTATE_VALIDATE: nothing is migrated
                if !first {
                    text(",\n")
                }
                first = false
                let fname = f.nameBytes
                try field(f, name: fname, indent: inner + 2, stack: &stack, path: path + Array("/".utf8) + fname)
            }
            text("\n")
            spaces(inner)
            text("]")
        }
        if let subsections = decoded.subsections {
            text(",\n")
            spaces(inner)
            text("\"Subsections\": [\n")
            var first = true
            for sub in subsections {
                if !first {
                    text(",\n")
                }
                first = false
                // The path names a subsection by its name less the parent's "name/", as the
                // engine's paths do (its full name repeats every parent's).
                var subName = DecodedDescription(sub).nameBytes ?? Array("?".utf8)
                if subName.starts(with: name + [UInt8(ascii: "/")]) { subName.removeFirst(name.count + 1) }
                try description(
                    sub, indent: inner + 2, isSubsection: true, stack: &stack,
                    path: path + Array("/".utf8) + subName)
            }
            text("\n")
            spaces(inner)
            text("]")
        }
        text("\n")
        spaces(indent)
        text("}")
    }

    mutating func field(
        _ f: DecodedField, name: [UInt8], indent: Int,
        stack: inout [UnsafePointer<VMStateDescription>], path: [UInt8]
    ) throws {
        try handOverIfLarge()
        spaces(indent)
        text("{\n")
        let inner = indent + 2
        spaces(inner)
        text("\"field\": ")
        quoted(name)
        text(",\n")
        spaces(inner)
        text("\"version_id\": \(f.version),\n")
        spaces(inner)
        text("\"field_exists\": \(f.fieldExists != nil ? "true" : "false"),\n")
        if dialect.dumpsArrayLength && f.has(VMS_ARRAY) {
            spaces(inner)
            text("\"num\": \(f.num),\n")
        }
        spaces(inner)
        text("\"size\": \(UInt(bitPattern: f.size))")
        if let nested = f.vmsd {
            text(",\n")
            try description(nested, indent: inner, isSubsection: false, stack: &stack, path: path)
        }
        text("\n")
        spaces(indent)
        text("}")
    }
}

// MARK: - C entry points (include/migration/vmstate-schema.h)

/// The GError domain of these functions: the library's VMSTATE_ERROR.
private func schemaErrorQuark() -> GQuark { vmstate_error_quark() }

/// VMSTATE_ERROR_INVALID_TABLE in migration/vmstate.h.
private let schemaErrorInvalidTable = Int32(VMSTATE_ERROR_INVALID_TABLE.rawValue)

/// Sets `error` to `message` in the shape of every message of the library (docs/C-API.md, "The
/// error message"): no byte of input is involved, so `(at byte 0)`.
private func setSchemaError(_ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?, _ message: String) {
    setGError(error, domain: schemaErrorQuark(), code: schemaErrorInvalidTable, message: message + " (at byte 0)")
}

private func dumpFromC(
    _ machine: UnsafePointer<CChar>?, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
    _ vmsds: UnsafePointer<UnsafePointer<VMStateDescription>?>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?, dialect: QEMUDialect
) -> UnsafeMutablePointer<CChar>? {
    guard let vmsds else {
        setSchemaError(error, "vmstate_dump_schema: the list of descriptions is NULL")
        return nil
    }
    var entries: [VMStateSchema.Entry] = []
    for (i, vmsd) in VMStateSchema.descriptions(nullTerminated: vmsds).enumerated() {
        var key: String? = nil
        // SAFETY: `names`, when given, has an entry (possibly NULL) for each description
        // (migration/vmstate-schema.h: "names[i]"); the strings are NUL-terminated.
        if let names, let name = names[i] {
            guard let valid = String(validatingCString: name) else {
                setSchemaError(
                    error, "vmstate_dump_schema_named: names[\(i)] is not valid UTF-8 (QEMU's names are ASCII)")
                return nil
            }
            key = valid
        }
        entries.append(VMStateSchema.Entry(name: key, description: vmsd))
    }
    var machineName: String?
    if let machine {
        guard let valid = String(validatingCString: machine) else {
            setSchemaError(error, "vmstate_dump_schema: the machine name is not valid UTF-8 (QEMU's names are ASCII)")
            return nil
        }
        machineName = valid
    }
    do {
        let bytes = try VMStateSchema.dumpBytes(
            entries: entries, machine: machineName ?? VMStateSchema.defaultMachine, qemu: dialect)
        // SAFETY: `bytes.count + 1` bytes: the text and its NUL; the caller frees it with g_free.
        guard let raw = g_malloc(gsize(bytes.count + 1)) else { return nil }
        let out = raw.assumingMemoryBound(to: CChar.self)
        bytes.withUnsafeBytes { src in
            if let base = src.baseAddress {
                memcpy(out, base, bytes.count)
            }
        }
        out[bytes.count] = 0
        return out
    } catch let e as VMStateSchema.DumpError {
        setSchemaError(error, e.message)
        return nil
    } catch let other {
        setSchemaError(error, "\(other)")
        return nil
    }
}

@c @implementation
/// C's `vmstate_dump_schema`, declared and documented in `migration/vmstate-schema.h`.
public func vmstate_dump_schema(
    _ machine: UnsafePointer<CChar>?, _ vmsds: UnsafePointer<UnsafePointer<VMStateDescription>?>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> UnsafeMutablePointer<CChar>? {
    dumpFromC(machine, nil, vmsds, error, dialect: .qemu7_2)
}

@c @implementation
/// C's `vmstate_dump_schema_named`, declared and documented in `migration/vmstate-schema.h`.
public func vmstate_dump_schema_named(
    _ machine: UnsafePointer<CChar>?, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
    _ vmsds: UnsafePointer<UnsafePointer<VMStateDescription>?>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> UnsafeMutablePointer<CChar>? {
    dumpFromC(machine, names, vmsds, error, dialect: .qemu7_2)
}

@c @implementation
/// C's `vmstate_dump_schema` in a file built with `VMSTATE_QEMU_API` 1000 (QEMU 10.0's dump
/// format), declared in `vmstate-internal.h` and documented in `migration/vmstate-schema.h`.
public func vmstate_dump_schema_v1000(
    _ machine: UnsafePointer<CChar>?, _ vmsds: UnsafePointer<UnsafePointer<VMStateDescription>?>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> UnsafeMutablePointer<CChar>? {
    dumpFromC(machine, nil, vmsds, error, dialect: .qemu10_0)
}

@c @implementation
/// C's `vmstate_dump_schema_named` in a file built with `VMSTATE_QEMU_API` 1000 (QEMU 10.0's
/// dump format), declared in `vmstate-internal.h` and documented in `migration/vmstate-schema.h`.
public func vmstate_dump_schema_named_v1000(
    _ machine: UnsafePointer<CChar>?, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
    _ vmsds: UnsafePointer<UnsafePointer<VMStateDescription>?>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<GError>?>?
) -> UnsafeMutablePointer<CChar>? {
    dumpFromC(machine, names, vmsds, error, dialect: .qemu10_0)
}
