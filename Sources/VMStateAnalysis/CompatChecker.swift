import VMState
// Static migration compatibility between two `-dump-vmstate` files.
//
// The question: can state saved by the OLD binary be loaded by the NEW one? The rules are those
// of QEMU's scripts/vmstate-static-checker.py:
//
// * every OLD section must exist in NEW;
// * NEW's version_id must not be lower than OLD's (sections, descriptions, and each field's
//   version_id, the version a field appeared in);
// * NEW's minimum_version_id must not be higher than OLD's version_id;
// * fields are compared in order: same names (or a known rename), same sizes. OLD's "unused"
//   space may be taken by NEW fields of the same total size, and NEW's "unused" space may
//   cover OLD fields of the same total size. Fields that NEW moved into a nested struct (or
//   that OLD had in one and NEW flattened) still match when the struct's first field does;
// * a field with a nested description needs one in NEW, with the same name, itself compatible;
// * every OLD subsection must exist in NEW (by name), compatible;
// * every entry of an OLD section or description must be present in NEW.
//
// Departures from the script, where it misbehaves: minimum_version_id is also checked at section
// level; the section-level version check is skipped when the section's numbers are those of
// its own description (the description check reports it, so it is not reported twice); NEW's
// unused space smaller than the OLD field it would cover is reported at once. The script's
// built-in list of historical renames is not included; pass renames with `Options.renames`.

/// One reason why OLD state does not load into NEW.
public struct CompatFinding: Sendable, Equatable {
    /// What kind of rule was broken. Raw values are the `kind` strings of `--json` output.
    public enum Kind: String, Sendable, CaseIterable {
        /// An OLD section does not exist in NEW.
        case sectionMissing = "section-missing"
        /// NEW's version_id is lower than OLD's (a section or description).
        case version = "version"
        /// NEW's minimum_version_id is higher than OLD's version_id.
        case minimumVersion = "minimum-version"
        /// A field's version_id (the version that added it) is higher in NEW than in OLD.
        case fieldVersion = "field-version"
        /// A field's size changed.
        case size = "size"
        /// NEW has no field where OLD has one (NEW's field list ends early, or has none).
        case fieldMissing = "field-missing"
        /// NEW has a different field where OLD has one: renamed, reordered, inserted or removed.
        case fieldMismatch = "field-mismatch"
        /// "unused" space on one side does not add up to the fields on the other side.
        case unusedSize = "unused-size"
        /// An OLD subsection does not exist in NEW.
        case subsectionMissing = "subsection-missing"
        /// An OLD field or section has a nested description and NEW's has none.
        case descriptionMissing = "description-missing"
        /// A nested description has a different name in NEW.
        case descriptionRenamed = "description-renamed"
        /// Another entry of an OLD section or description (e.g. minimum_version_id) is absent
        /// in NEW.
        case entryMissing = "entry-missing"
    }

    /// The section (the top-level key of the dump), as named in OLD.
    public var section: String
    /// The description the problem is in, when there is one.
    public var descriptionName: String?
    /// The field, when the problem is about one.
    public var field: String?
    /// What kind of problem (the `kind` of `--json`).
    public var kind: Kind
    /// A sentence explaining the problem.
    public var message: String

    /// A finding with every part given.
    public init(section: String, descriptionName: String?, field: String?, kind: Kind, message: String) {
        self.section = section
        self.descriptionName = descriptionName
        self.field = field
        self.kind = kind
        self.message = message
    }

    /// `section "s", description "d", field "f": message`
    public var text: String {
        var s = "section \"\(section)\""
        if let descriptionName { s += ", description \"\(descriptionName)\"" }
        if let field { s += ", field \"\(field)\"" }
        return s + ": " + message + " [\(kind.rawValue)]"
    }

    /// `{"section", "description" (null when none), "field" (only when there is one), "kind",
    /// "message"}`
    package var json: JSONValue {
        var o: JSONObject = ["section": .string(section), "description": descriptionName.map { .string($0) } ?? .null]
        if let field { o["field"] = .string(field) }
        o["kind"] = .string(kind.rawValue)
        o["message"] = .string(message)
        return .object(o)
    }
}

/// The outcome of a compatibility check.
public struct CompatReport: Sendable, Equatable {
    /// The problems that make state saved by OLD fail to load into NEW; empty when compatible.
    public var findings: [CompatFinding] = []
    /// Notes that do not make the pair incompatible (e.g. different machine types).
    public var warnings: [String] = []

    /// True when there are no findings (warnings do not count).
    public var isCompatible: Bool { findings.isEmpty }

    package var json: JSONValue { .array(findings.map(\.json)) }
}

/// A `-dump-vmstate` file that does not have the expected shape.
public struct CompatInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which input ("OLD" or "NEW", or a file name) and where in it.
    public var location: String
    /// What is wrong there.
    public var message: String

    /// An input error at `location`.
    public init(location: String, message: String) {
        self.location = location
        self.message = message
    }

    /// `location: message`.
    public var description: String { "\(location): \(message)" }
}

/// Compares two `-dump-vmstate` files with the rules of QEMU's
/// `scripts/vmstate-static-checker.py`: can state saved by OLD load into NEW?
public struct CompatChecker: Sendable {
    /// What the checker treats as equal.
    public struct Options: Sendable {
        /// Names that count as the same: scope -> groups of interchangeable names. For field
        /// names the scope is the description name; for nested description names it is the
        /// section name; the scope "" applies everywhere. Section names use the scope
        /// "(section)".
        public var renames: [String: [Set<String>]]

        /// Options with the given interchangeable names (none by default).
        public init(renames: [String: [Set<String>]] = [:]) {
            self.renames = renames
        }

        /// Adds `a` and `b` as interchangeable names in `scope`.
        public mutating func addRename(scope: String, _ a: String, _ b: String) {
            renames[scope, default: []].append([a, b])
        }
    }

    /// The options of the check.
    public var options: Options
    /// Names used for the inputs in error messages.
    public var oldLabel = "OLD"
    /// The name used for the loading side in error messages.
    public var newLabel = "NEW"

    /// A checker with `options`.
    public init(options: Options = Options()) {
        self.options = options
    }

    /// Checks whether state saved by a binary described by `old` loads into one described by
    /// `new`. Throws `CompatInputError` when an input is not a `-dump-vmstate` document.
    package func check(old: JSONValue, new: JSONValue) throws(CompatInputError) -> CompatReport {
        var run = CompatRun(checker: self)
        try run.checkAll(old: old, new: new)
        return run.report
    }

    func namesMatch(scope: String, _ a: String, _ b: String) -> Bool {
        if a == b { return true }
        for s in [scope, ""] {
            for group in options.renames[s] ?? [] where group.contains(a) && group.contains(b) {
                return true
            }
        }
        return false
    }
}

// MARK: - The walk

private struct CompatRun {
    let checker: CompatChecker
    var report = CompatReport()

    init(checker: CompatChecker) { self.checker = checker }

    mutating func add(_ section: String, _ desc: String?, _ field: String?, _ kind: CompatFinding.Kind, _ message: String) {
        report.findings.append(CompatFinding(section: section, descriptionName: desc, field: field, kind: kind, message: message))
    }

    // Typed access with input errors that say where.

    func object(_ v: JSONValue, _ side: String, _ path: String) throws(CompatInputError) -> JSONObject {
        guard let o = v.objectValue else {
            throw CompatInputError(location: "\(side) \(path)", message: "expected an object, found \(v.kindName)")
        }
        return o
    }

    func int(_ o: JSONObject, _ key: String, _ side: String, _ path: String) throws(CompatInputError) -> Int64 {
        guard let v = o[key] else {
            throw CompatInputError(location: "\(side) \(path)", message: "no \"\(key)\"")
        }
        guard let n = v.int64Value else {
            throw CompatInputError(location: "\(side) \(path)", message: "\"\(key)\" must be an integer, found \(v.formatted(.pythonCompact))")
        }
        return n
    }

    func string(_ o: JSONObject, _ key: String, _ side: String, _ path: String) throws(CompatInputError) -> String {
        guard let v = o[key] else {
            throw CompatInputError(location: "\(side) \(path)", message: "no \"\(key)\"")
        }
        guard let s = v.stringValue else {
            throw CompatInputError(location: "\(side) \(path)", message: "\"\(key)\" must be a string, found \(v.kindName)")
        }
        return s
    }

    func list(_ o: JSONObject, _ key: String, _ side: String, _ path: String) throws(CompatInputError) -> [JSONObject] {
        guard let v = o[key] else { return [] }
        guard let a = v.arrayValue else {
            throw CompatInputError(location: "\(side) \(path)", message: "\"\(key)\" must be a list, found \(v.kindName)")
        }
        return try a.enumerated().map { (entry) throws(CompatInputError) in
            try object(entry.element, side, "\(path).\(key)[\(entry.offset)]")
        }
    }

    var oldSide: String { checker.oldLabel }
    var newSide: String { checker.newLabel }

    mutating func checkAll(old: JSONValue, new: JSONValue) throws(CompatInputError) {
        let o = try object(old, oldSide, "(top level)").deduplicated()
        let n = try object(new, newSide, "(top level)")
        for member in o.members {
            let sec = member.key
            var target = sec
            if !n.contains(key: target) {
                let alternatives = (checker.options.renames["(section)"] ?? []).filter { $0.contains(sec) }.flatMap { $0 }
                guard let alt = alternatives.first(where: { $0 != sec && n.contains(key: $0) }) else {
                    add(sec, nil, nil, .sectionMissing, "section \"\(sec)\" does not exist in \(newSide)")
                    continue
                }
                target = alt
            }
            let s = try object(member.value, oldSide, "section \"\(sec)\"")
            let d = try object(n[target]!, newSide, "section \"\(target)\"")
            if sec == "vmschkmachine" {
                let a = s["Name"]?.stringValue ?? "?", b = d["Name"]?.stringValue ?? "?"
                if a != b {
                    report.warnings.append("comparing different machine types: \"\(a)\" (\(oldSide)) and \"\(b)\" (\(newSide))")
                }
                continue
            }
            // Section-level numbers; skipped when they are the description's own.
            var sameAsDescription = false
            if let sd = s["Description"]?.objectValue, let dd = d["Description"]?.objectValue {
                sameAsDescription = s["version_id"] == sd["version_id"] && s["minimum_version_id"] == sd["minimum_version_id"]
                    && d["version_id"] == dd["version_id"] && d["minimum_version_id"] == dd["minimum_version_id"]
            }
            if !sameAsDescription {
                try checkVersions(s, d, sec: sec, desc: nil, field: nil, path: "section \"\(sec)\"")
            }
            var seen = Set<String>()
            for entry in s.keys where seen.insert(entry).inserted {
                if !d.contains(key: entry) {
                    if entry == "Description" {
                        let name = s["Description"]?.objectValue?["name"]?.stringValue
                        add(sec, name, nil, .descriptionMissing, "\(newSide) has no description for the section")
                    } else {
                        add(sec, nil, nil, .entryMissing, "entry \"\(entry)\" is missing in \(newSide)")
                    }
                    continue
                }
                if entry == "Description" {
                    let sd = try object(s[entry]!, oldSide, "section \"\(sec)\".Description")
                    let dd = try object(d[entry]!, newSide, "section \"\(target)\".Description")
                    try checkDescriptions(sd, dd, sec: sec, path: "section \"\(sec)\".Description")
                }
            }
        }
    }

    /// version_id and minimum_version_id rules for a section, description or field.
    mutating func checkVersions(_ s: JSONObject, _ d: JSONObject, sec: String, desc: String?, field: String?, path: String) throws(CompatInputError) {
        let sv = try int(s, "version_id", oldSide, path)
        let dv = try int(d, "version_id", newSide, path)
        if sv > dv {
            if field != nil {
                add(sec, desc, field, .fieldVersion, "the field exists from version \(sv) in \(oldSide) but only from version \(dv) in \(newSide), so \(newSide) misreads \(oldSide)'s versions \(dv)..<\(sv)")
            } else {
                add(sec, desc, nil, .version, "version \(sv) in \(oldSide), but only \(dv) in \(newSide): \(newSide) cannot load the newer state")
            }
        }
        if d.contains(key: "minimum_version_id") {
            let dm = try int(d, "minimum_version_id", newSide, path)
            if sv < dm {
                add(sec, desc, field, .minimumVersion, "\(oldSide) saves version \(sv), but \(newSide) accepts only versions \(dm) and later")
            }
        }
    }

    mutating func checkDescriptions(_ s: JSONObject, _ d: JSONObject, sec: String, path: String) throws(CompatInputError) {
        let sName = try string(s, "name", oldSide, path)
        let dName = try string(d, "name", newSide, path)
        try checkVersions(s, d, sec: sec, desc: sName, field: nil, path: path)
        if !checker.namesMatch(scope: sec, sName, dName) {
            add(sec, sName, nil, .descriptionRenamed, "description \"\(sName)\" is \"\(dName)\" in \(newSide); its fields were not compared")
            return
        }
        var seen = Set<String>()
        for entry in s.keys where seen.insert(entry).inserted {
            if !d.contains(key: entry) {
                switch entry {
                case "Fields":
                    let first = try list(s, "Fields", oldSide, path).first.flatMap { $0["field"]?.stringValue }
                    add(sec, sName, first, .fieldMissing, "\(newSide) has no fields; \(oldSide) has \(first.map { "\"\($0)\" first" } ?? "some")")
                case "Subsections":
                    for sub in try list(s, "Subsections", oldSide, path) {
                        let n = sub["name"]?.stringValue ?? "?"
                        add(sec, sName, nil, .subsectionMissing, "subsection \"\(n)\" does not exist in \(newSide) (\(newSide) has no subsections)")
                    }
                default:
                    add(sec, sName, nil, .entryMissing, "entry \"\(entry)\" is missing in \(newSide)")
                }
                continue
            }
            if entry == "Fields" {
                try checkFields(list(s, "Fields", oldSide, path), list(d, "Fields", newSide, path), desc: sName, sec: sec, path: path + ".Fields")
            } else if entry == "Subsections" {
                try checkSubsections(list(s, "Subsections", oldSide, path), list(d, "Subsections", newSide, path), desc: sName, sec: sec, path: path + ".Subsections")
            }
        }
    }

    mutating func checkSubsections(_ src: [JSONObject], _ dst: [JSONObject], desc: String, sec: String, path: String) throws(CompatInputError) {
        for (i, s) in src.enumerated() {
            let name = try string(s, "name", oldSide, "\(path)[\(i)]")
            var found = false
            for (j, d) in dst.enumerated() where d["name"]?.stringValue == name {
                found = true
                try checkDescriptions(s, d, sec: sec, path: "\(path)[\(j)]")
            }
            if !found {
                add(sec, desc, nil, .subsectionMissing, "subsection \"\(name)\" does not exist in \(newSide)")
            }
        }
    }

    /// A field's nested fields when its description's first field matches `name`: the field
    /// is a struct that took over (or gave up) fields without changing the wire format.
    func nestedFieldsStarting(with name: String, in item: JSONObject) -> [JSONObject]? {
        guard let desc = item["Description"]?.objectValue,
              let fields = desc["Fields"]?.arrayValue?.compactMap(\.objectValue), let first = fields.first,
              let firstName = first["field"]?.stringValue
        else { return nil }
        let scope = desc["name"]?.stringValue ?? ""
        return checker.namesMatch(scope: scope, firstName, name) ? fields : nil
    }

    /// Walks OLD's and NEW's field lists side by side.
    mutating func checkFields(_ src: [JSONObject], _ dst: [JSONObject], desc: String, sec: String, path: String) throws(CompatInputError) {
        // Each side: the list being walked, the position in it, and the lists it was entered from.
        var sList = src, sPos = 0, sOuter: [([JSONObject], Int)] = []
        var dList = dst, dPos = 0, dOuter: [([JSONObject], Int)] = []
        var fetchOld = true, fetchNew = true
        // Bytes of "unused" space still to be matched by fields of the other side.
        var unused: Int64 = 0
        var s = JSONObject(), d = JSONObject()

        func name(_ o: JSONObject, _ side: String) throws(CompatInputError) -> String {
            try string(o, "field", side, "\(path) (a field of \"\(desc)\")")
        }
        func size(_ o: JSONObject, _ side: String) throws(CompatInputError) -> Int64 {
            try int(o, "size", side, "\(path) (field \"\(o["field"]?.stringValue ?? "?")\")")
        }

        while true {
            if fetchOld {
                if sPos < sList.count {
                    s = sList[sPos]
                    sPos += 1
                } else if let outer = sOuter.popLast() {
                    (sList, sPos) = outer
                    continue
                } else {
                    break  // OLD has no more fields: everything it saves is accounted for.
                }
            } else if unused == 0 {
                fetchOld = true  // skip one fetch (entering or leaving a nested list)
            }
            if fetchNew {
                if dPos < dList.count {
                    d = dList[dPos]
                    dPos += 1
                } else if let outer = dOuter.popLast() {
                    (dList, dPos) = outer
                    fetchOld = false
                    continue
                } else {
                    let sn = try name(s, oldSide)
                    add(sec, desc, sn, .fieldMissing, "\(oldSide) saves field \"\(sn)\" here, but \(newSide) has no further fields")
                    return
                }
            } else if unused == 0 {
                fetchNew = true
            }

            if unused != 0 {
                if !fetchNew {
                    // NEW's unused space is being covered by OLD's fields.
                    unused -= try size(s, oldSide)
                    if unused == 0 { fetchNew = true; continue }
                    if unused < 0 {
                        let sn = try name(s, oldSide)
                        add(sec, desc, sn, .unusedSize, "\(oldSide)'s fields up to \"\(sn)\" do not fit the unused space \(newSide) has in their place (\(byteCount(-unused)) too many)")
                        return
                    }
                    continue
                }
                if !fetchOld {
                    // OLD's unused space is being taken by NEW's fields.
                    unused -= try size(d, newSide)
                    if unused == 0 { fetchOld = true; continue }
                    if unused < 0 {
                        let dn = try name(d, newSide)
                        add(sec, desc, dn, .unusedSize, "\(newSide)'s fields up to \"\(dn)\" are \(byteCount(-unused)) larger than the unused space \(oldSide) has in their place")
                        return
                    }
                    continue
                }
            }

            let sn = try name(s, oldSide), dn = try name(d, newSide)
            if !checker.namesMatch(scope: desc, sn, dn) {
                if let nested = nestedFieldsStarting(with: sn, in: d) {
                    dOuter.append((dList, dPos))
                    (dList, dPos) = (nested, 0)
                    fetchOld = false
                    continue
                }
                if let nested = nestedFieldsStarting(with: dn, in: s) {
                    sOuter.append((sList, sPos))
                    (sList, sPos) = (nested, 0)
                    fetchNew = false
                    continue
                }
                if sn == "unused" || dn == "unused" {
                    let ss = try size(s, oldSide), ds = try size(d, newSide)
                    if ss == ds { continue }
                    if dn == "unused" {
                        fetchNew = false
                        unused = ds - ss
                        if unused < 0 {
                            add(sec, desc, sn, .unusedSize, "\(oldSide)'s field \"\(sn)\" (\(byteCount(ss))) is larger than the unused space (\(byteCount(ds))) \(newSide) has in its place")
                            return
                        }
                        continue
                    }
                    fetchOld = false
                    unused = ss - ds
                    if unused < 0 {
                        add(sec, desc, dn, .unusedSize, "\(newSide)'s field \"\(dn)\" (\(byteCount(ds))) is larger than the unused space (\(byteCount(ss))) \(oldSide) has in its place")
                        return
                    }
                    continue
                }
                add(sec, desc, sn, .fieldMismatch, "expected field \"\(sn)\", but \(newSide) has \"\(dn)\" in its place; the rest of the fields were not compared")
                return
            }

            try checkVersions(s, d, sec: sec, desc: desc, field: sn, path: "\(path) (field \"\(sn)\")")
            if !s.contains(key: "Description") {
                let ss = try size(s, oldSide), ds = try size(d, newSide)
                if ss != ds {
                    add(sec, desc, sn, .size, "size changed from \(byteCount(ss)) in \(oldSide) to \(byteCount(ds)) in \(newSide)")
                }
            }
            if let sd = s["Description"] {
                guard let dd = d["Description"] else {
                    let n = sd.objectValue?["name"]?.stringValue
                    add(sec, desc, sn, .descriptionMissing, "the field has description \"\(n ?? "?")\" in \(oldSide), none in \(newSide)")
                    continue
                }
                try checkDescriptions(
                    object(sd, oldSide, "\(path) (field \"\(sn)\").Description"),
                    object(dd, newSide, "\(path) (field \"\(dn)\").Description"),
                    sec: sec, path: "\(path) (field \"\(sn)\").Description")
            }
        }
    }
}

private func byteCount(_ n: Int64) -> String { n == 1 ? "1 byte" : "\(n) bytes" }

extension CompatReport {
    /// Human-readable report.
    public func text(oldLabel: String = "OLD", newLabel: String = "NEW") -> String {
        var lines = warnings.map { "warning: \($0)" }
        lines += findings.map(\.text)
        if isCompatible {
            lines.append("compatible: state saved by \(oldLabel) loads into \(newLabel)")
        } else {
            lines.append("NOT compatible: \(findings.count) problem\(findings.count == 1 ? "" : "s") (state saved by \(oldLabel) does not load into \(newLabel))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
