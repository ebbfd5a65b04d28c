import VMState
// The stream's device description (vmdesc), turned into readers for the device sections.
//
// Interpretation follows QEMU 10.0's scripts/analyze-migration.py (which reads 7.2 streams as
// 7.2's script does), what people compare our output with: the field's `type` picks the reader
// (see `ParsedVMDescField.Reader`), `size` is the number of bytes of one element, compressed
// arrays (`array_len`) are unfolded into `array_len` elements, repeated names become lists by
// the stream's `StreamRules.repeatedNames`, and a description's `subsections` are expected in the
// stream in the order listed.

final class ParsedVMDescStruct: Sendable {
    let vmsdName: String?
    let version: Int?
    let fields: [ParsedVMDescField]
    /// nil when the description has no "subsections" key.
    let subsections: [ParsedVMDescStruct]?

    init(vmsdName: String?, version: Int?, fields: [ParsedVMDescField], subsections: [ParsedVMDescStruct]?) {
        self.vmsdName = vmsdName
        self.version = version
        self.fields = fields
        self.subsections = subsections
    }
}

struct ParsedVMDescField: Sendable {
    enum Reader: Sendable {
        case bool
        case signed
        case unsigned
        case generic
        /// `nullptr` (QEMU 10.0): `size` bytes, each the NULL marker 0x30.
        case nullPointer
        /// `capability` (configuration section): u8 length, then the name.
        case capability
        case structure(ParsedVMDescStruct)
    }

    let name: String
    let type: String
    let size: Int
    let reader: Reader
    /// The index of the first element when this entry describes array elements.
    let firstIndex: Int?
    /// How many consecutive elements this entry stands for (`array_len`), at least 1.
    let count: Int
}

/// Reader chosen for a vmdesc type name by the table of the analyze-migration.py of `rules`
/// (QEMU 10.0's: 7.2's plus `nullptr` and `capability`, ``StreamRules/laterFieldTypes``).
func parsedVMDescReaderKind(forType type: String?, rules: StreamRules) -> ParsedVMDescField.Reader? {
    switch type {
    case "bool":
        return .bool
    case "int8", "int16", "int32", "int64", "int32 equal", "int32 le", "int64 equal",
        "uint8 equal", "uint16 equal":
        return .signed
    case "uint8", "uint16", "uint32", "uint64", "uint32 equal":
        return .unsigned
    case "nullptr" where rules.laterFieldTypes.contains("nullptr"):
        return .nullPointer
    case "capability" where rules.laterFieldTypes.contains("capability"):
        return .capability
    case "struct":
        return nil  // needs the nested description
    default:
        return .generic
    }
}

/// The parsed vmdesc of one stream, with device descriptions compiled on first use.
final class ParsedVMDescCatalog {
    /// The vmdesc as written. Lookups take the last member with a key, which is how
    /// Python's json module resolves duplicates.
    let json: JSONValue
    let pageSize: Int
    let jsonOffset: Int
    /// The reading rules for the QEMU version that wrote the vmdesc.
    let rules: StreamRules
    /// The description of the configuration section (vmdesc `"configuration"`, QEMU 8.2+).
    private(set) var configuration: ParsedVMDescStruct? = nil
    /// The `"devices"` entries of each name and instance id, in order (see ``device(name:instance:occurrence:)``).
    private var devices: [String: [UInt32: [Int]]] = [:]
    private var deviceObjects: [JSONObject] = []
    private var compiled: [Int: ParsedVMDescStruct] = [:]
    /// Compiled `"fields"` and `"subsections"` lists by the address of their JSON array's
    /// storage: the parser gives lists with the same text one shared storage (the vmdesc of a
    /// machine of many CPUs lists the same fields for each), so each is compiled once. (The
    /// addresses stay valid: `json` holds the arrays.)
    private var compiledFields: [UnsafeRawPointer: [ParsedVMDescField]] = [:]
    private var compiledSubsections: [UnsafeRawPointer: [ParsedVMDescStruct]] = [:]

    /// "invalid vmdesc", with where its JSON starts in the stream when it came with one.
    private let invalidLabel: String

    /// `jsonOffset`: where the JSON starts in the stream; nil for a vmdesc given apart from a
    /// stream (its errors then say no offset).
    init(json: JSONValue, jsonOffset: Int?) throws(StreamAnalysisError) {
        self.json = json
        self.jsonOffset = jsonOffset ?? 0
        let invalidLabel = "invalid vmdesc" + (jsonOffset.map { " (the JSON at offset \($0))" } ?? "")
        self.invalidLabel = invalidLabel
        func invalid(_ message: String) -> StreamAnalysisError {
            StreamAnalysisError(offset: jsonOffset ?? 0, message: "\(invalidLabel): \(message)")
        }
        guard let root = json.objectValue else {
            throw invalid("expected a JSON object, found \(json.kindName)")
        }
        guard let ps = root["page_size"] else { throw invalid("no \"page_size\"") }
        guard let p = ps.intValue, p > 0, p & (p - 1) == 0, p <= 1 << 30 else {
            throw invalid("\"page_size\" must be a power of two, found \(ps.formatted(.pythonCompact))")
        }
        pageSize = p
        rules = StreamRules.forVMDesc(root)
        guard let list = root["devices"] else { throw invalid("no \"devices\" list") }
        guard let devs = list.arrayValue else {
            throw invalid("\"devices\" must be a list, found \(list.kindName)")
        }
        for (i, dev) in devs.enumerated() {
            guard let obj = dev.objectValue else {
                throw invalid("devices[\(i)] must be an object, found \(dev.kindName)")
            }
            guard let name = obj["name"]?.stringValue else {
                throw invalid("devices[\(i)] has no string \"name\"")
            }
            guard let inst = obj["instance_id"]?.int64Value, let instance = UInt32(exactly: inst) else {
                throw invalid("devices[\(i)] (\"\(name)\") has no valid \"instance_id\"")
            }
            deviceObjects.append(obj)
            devices[name, default: [:]][instance, default: []].append(i)
        }
        if rules.configurationFromVMDesc, let c = root["configuration"] {
            guard let co = c.objectValue else {
                throw invalid("\"configuration\" must be an object, found \(c.kindName)")
            }
            configuration = try compile(co, path: "configuration")
        }
    }

    /// The compiled description of a device section, the stream's `occurrence`-th (from 0) of
    /// its name and instance, or nil when the vmdesc has none. QEMU writes one entry per section
    /// as it saves it, and some devices as several sections of one name and instance (QEMU 7.2's
    /// isapc saves both `isa-ide` channels as instance 0), each described as it is (a channel
    /// with a drive has subsections the other lacks): the entry of the same rank, or the last
    /// one when there are fewer. (QEMU's `analyze-migration.py` keeps the last of each in a
    /// dict, so it misreads the first channel of such a stream and stops.)
    func device(name: String, instance: UInt32, occurrence: Int) throws(StreamAnalysisError) -> ParsedVMDescStruct? {
        guard let list = devices[name]?[instance] else { return nil }
        let i = list[min(occurrence, list.count - 1)]
        if let c = compiled[i] { return c }
        let c = try compile(deviceObjects[i], path: "devices[\(i)] (\"\(name)\")")
        compiled[i] = c
        return c
    }

    private func invalid(_ path: String, _ message: String) -> StreamAnalysisError {
        StreamAnalysisError(offset: jsonOffset, message: "\(invalidLabel), \(path): \(message)")
    }

    private func compile(_ obj: JSONObject, path: String) throws(StreamAnalysisError) -> ParsedVMDescStruct {
        guard let fieldsValue = obj["fields"] else { throw invalid(path, "no \"fields\" list") }
        guard let fields = fieldsValue.arrayValue else {
            throw invalid(path, "\"fields\" must be a list, found \(fieldsValue.kindName)")
        }
        let compiledFields: [ParsedVMDescField]
        let fieldsKey = JSONValue.storageAddress(of: fields)
        if let fieldsKey, let done = self.compiledFields[fieldsKey] {
            compiledFields = done
        } else {
            compiledFields = try compileFields(fields, path: path)
            if let fieldsKey { self.compiledFields[fieldsKey] = compiledFields }
        }
        var subsections: [ParsedVMDescStruct]? = nil
        if let sv = obj["subsections"] {
            guard let subs = sv.arrayValue else { throw invalid(path, "\"subsections\" must be a list") }
            let subsectionsKey = JSONValue.storageAddress(of: subs)
            if let subsectionsKey, let done = compiledSubsections[subsectionsKey] {
                subsections = done
            } else {
                var compiled: [ParsedVMDescStruct] = []
                for (i, s) in subs.enumerated() {
                    guard let so = s.objectValue else {
                        throw invalid("\(path).subsections[\(i)]", "expected an object")
                    }
                    compiled.append(try compile(so, path: "\(path).subsections[\(i)]"))
                }
                if let subsectionsKey { compiledSubsections[subsectionsKey] = compiled }
                subsections = compiled
            }
        }
        // A version that is there is an integer: a section's or subsection's version is checked
        // against it, which a 2.5 or a 1e400 would silently skip.
        var version: Int? = nil
        if let v = obj["version"] {
            guard let n = v.intValue else {
                throw invalid(
                    path, "\"version\" must be an integer of at most 64 bits, found \(v.formatted(.pythonCompact))")
            }
            version = n
        }
        return ParsedVMDescStruct(
            vmsdName: obj["vmsd_name"]?.stringValue, version: version, fields: compiledFields,
            subsections: subsections)
    }

    /// The readers of a description's `"fields"` list; `path` names the description in errors.
    private func compileFields(_ fields: [JSONValue], path: String) throws(StreamAnalysisError) -> [ParsedVMDescField] {
        var compiled: [ParsedVMDescField] = []
        compiled.reserveCapacity(fields.count)
        for (i, f) in fields.enumerated() {
            // (The paths are spelled only when there is an error to report.)
            func fpath() -> String { "\(path).fields[\(i)]" }
            guard let fo = f.objectValue else { throw invalid(fpath(), "expected an object, found \(f.kindName)") }
            guard let name = fo["name"]?.stringValue else { throw invalid(fpath(), "no string \"name\"") }
            func fpathNamed() -> String { "\(fpath()) (\"\(name)\")" }
            let typeValue = fo["type"]
            let type = typeValue?.stringValue
            let reader: ParsedVMDescField.Reader
            var size = 0
            if type == "struct" {
                guard let sv = fo["struct"] else {
                    throw invalid(fpathNamed(), "type \"struct\" without a \"struct\" description")
                }
                guard let so = sv.objectValue else { throw invalid(fpathNamed(), "\"struct\" must be an object") }
                // QEMU 7.2 describes an array by its first element, and a NULL first element of
                // an array of struct pointers by an empty "struct" (s390's `css`): the elements
                // that are not NULL have no description there.
                if so.isEmpty && fo["array_len"] != nil {
                    throw invalid(
                        fpathNamed(),
                        "an empty \"struct\": QEMU 7.2 described this array of pointers by its first element, which was NULL, so the elements that are not have no description and the section cannot be read from this vmdesc (QEMU 8.2 and later describe NULL and other elements apart)"
                    )
                }
                reader = .structure(try compile(so, path: fpathNamed() + ".struct"))
            } else {
                reader = parsedVMDescReaderKind(forType: type, rules: rules) ?? .generic
                guard let sv = fo["size"] else { throw invalid(fpathNamed(), "no \"size\"") }
                guard let s = sv.intValue else {
                    throw invalid(fpathNamed(), "\"size\" must be an integer, found \(sv.formatted(.pythonCompact))")
                }
                guard s >= 0 else { throw invalid(fpathNamed(), "negative \"size\" \(s)") }
                size = s
            }
            var firstIndex: Int? = nil
            var count = 1
            if let al = fo["array_len"] {
                // Compressed array: the entry describes elements 0 ..< array_len.
                guard let n = al.intValue else { throw invalid(fpathNamed(), "\"array_len\" must be an integer") }
                firstIndex = 0
                count = max(n, 1)
            } else if let iv = fo["index"] {
                guard let idx = iv.intValue, idx >= 0 else {
                    throw invalid(fpathNamed(), "\"index\" must be a non-negative integer")
                }
                firstIndex = idx
            }
            compiled.append(
                ParsedVMDescField(
                    name: name, type: type ?? (typeValue.map { $0.formatted(.pythonCompact) } ?? "unknown"),
                    size: size, reader: reader, firstIndex: firstIndex, count: count))
        }
        return compiled
    }
}
