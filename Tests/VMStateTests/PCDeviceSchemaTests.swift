// The pc-machine device tables (Tests/CFixtures/pc) against what QEMU 7.2 says about the same
// devices: its -dump-vmstate output (fixtures/qemu-7.2/dump-vmstate-pc.json) and the vmdesc of
// real streams (fixtures/qemu-7.2/{pc-bios,pc-reset}/vmdesc.json).

import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// Our top-level descriptions (by vmsd name) and the QEMU device classes whose -dump-vmstate
/// entry has that description. QEMU keys the dump by class name, so the mapping is explicit.
/// Descriptions registered without a device class ("timer", "globalstate", "cpu_common",
/// "cpu", "apic", "PCIBUS", "ide", "i2c_bus", "acpi_build") have no dump entry; the vmdesc
/// tests cover them.
let pcDumpClasses: [(vmsd: String, classes: [String])] = [
    ("timer", []),
    ("cpu_common", []),
    ("cpu", []),
    ("kvm-tpr-opt", ["kvmvapic"]),
    ("apic", []),
    ("fw_cfg", ["fw_cfg_io", "fw_cfg_mem", "fw_cfg"]),
    ("PCIHost", ["i440FX-pcihost", "pci-host-bridge", "q35-pcihost"]),
    ("PCIBUS", []),
    ("I440FX", ["i440FX"]),
    ("dma", ["i8257"]),
    ("PIIX3", ["PIIX3", "pci-piix3"]),
    ("i8259", ["isa-i8259", "pic-common", "kvm-i8259"]),
    ("ioapic", ["ioapic"]),
    ("hpet", ["hpet"]),
    ("mc146818rtc", ["mc146818rtc"]),
    ("i8254", ["isa-pit", "pit-common", "kvm-pit"]),
    ("pcspk", ["isa-pcspk"]),
    ("fdc", ["isa-fdc"]),
    ("ps2kbd", ["ps2-kbd"]),
    ("ps2mouse", ["ps2-mouse"]),
    ("pckbd", ["i8042"]),
    ("vmmouse", ["vmmouse"]),
    ("port92", ["port92"]),
    ("ide", []),
    ("i2c_bus", []),
    ("piix4_pm", ["PIIX4_PM"]),
    ("acpi_build", []),
    ("globalstate", []),
]

/// (class, vmsd) pairs to compare with the dump.
let pcDumpPairs: [String] = pcDumpClasses.flatMap { entry in entry.classes.map { "\($0)=\(entry.vmsd)" } }

func pcDevices() -> [UnsafePointer<VMStateDescription>] {
    VMStateSchema.descriptions(nullTerminated: pc_device_vmsd_list())
}

func pcDevice(_ name: String) -> UnsafePointer<VMStateDescription>? {
    pc_device_vmsd_named(name)
}

enum PCDumpFixture {
    static let path = TestPaths.qemuFixtures + "/dump-vmstate-pc.json"
    static let text: String = (try? TestPaths.readText(path)) ?? ""
    static let json: JSONValue? = try? JSONValue(parsing: text)

    /// The exact text of one top-level entry (from its key to its closing brace).
    static func entryText(_ key: String, in text: String) -> String? {
        let bytes = Array(text.utf8)
        guard let start = find(Array("\n  \"\(key)\": {\n".utf8), in: bytes) else {
            return nil
        }
        guard let end = find(Array("\n  }".utf8), in: bytes, from: start + 1) else {
            return nil
        }
        return String(decoding: bytes[(start + 1)..<(end + 4)], as: UTF8.self)
    }

    /// The first index of `needle` in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int = 0) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0] && haystack[i..<i + needle.count].elementsEqual(needle) {
                return i
            }
            i += 1
        }
        return nil
    }
}

@Suite("PCDeviceSchema")
struct PCDeviceSchemaTests {
    @Test("every description in the pc list has a mapping, and the names match")
    func listIsComplete() throws {
        let names = pcDevices().map { String(cString: $0.pointee.name) }
        #expect(names == pcDumpClasses.map(\.vmsd))
        for name in names {
            #expect(pcDevice(name) != nil)
            #expect(pc_device_state_size(pcDevice(name)) > 0, "no state struct for \(name)")
        }
        #expect(pcDeviceCountMatches())
    }

    @Test("the dump's class entries exist for every mapped class")
    func fixtureHasClasses() throws {
        let dump = try #require(PCDumpFixture.json)
        for pair in pcDumpPairs {
            let cls = String(pair.split(separator: "=")[0])
            #expect(dump[cls] != nil, "no \(cls) in dump-vmstate-pc.json")
        }
    }

    @Test("schema JSON equals QEMU's -dump-vmstate entry (structurally)", arguments: pcDumpPairs)
    func structurallyEqual(_ pair: String) throws {
        let parts = pair.split(separator: "=").map(String.init)
        let (cls, vmsdName) = (parts[0], parts[1])
        let vmsd = try #require(pcDevice(vmsdName))
        let dump = try #require(PCDumpFixture.json)
        let expected = try #require(dump[cls])

        let ours = try VMStateSchema.dumpJSON(
            entries: [VMStateSchema.Entry(name: cls, description: vmsd)], machine: "pc-i440fx-7.2")
        let parsed = try JSONValue(parsing: ours)
        #expect(parsed.objectValue?.keys == ["vmschkmachine", cls])
        #expect(parsed["vmschkmachine"] == dump["vmschkmachine"])
        let actual = try #require(parsed[cls])
        let diffs = actual.differences(from: expected, at: cls)
        #expect(diffs.isEmpty, "\(diffs.joined(separator: "\n"))")
    }

    @Test("schema text is byte-identical to QEMU's entry", arguments: pcDumpPairs)
    func byteIdentical(_ pair: String) throws {
        let parts = pair.split(separator: "=").map(String.init)
        let (cls, vmsdName) = (parts[0], parts[1])
        let vmsd = try #require(pcDevice(vmsdName))
        let ours = try VMStateSchema.dumpJSON(
            entries: [VMStateSchema.Entry(name: cls, description: vmsd)], machine: "pc-i440fx-7.2")
        let expected = try #require(PCDumpFixture.entryText(cls, in: PCDumpFixture.text))
        let actual = try #require(PCDumpFixture.entryText(cls, in: ours))
        #expect(actual == expected)
    }

    @Test("whole file: header, separators and trailer are QEMU's")
    func wholeFileShape() throws {
        // All mapped classes, in the fixture's order, dumped as one file: the result must be
        // the fixture's text with the other classes' entries removed.
        let dump = try #require(PCDumpFixture.json)
        let wanted = Dictionary(
            uniqueKeysWithValues: pcDumpPairs.map { pair -> (String, String) in
                let p = pair.split(separator: "=").map(String.init)
                return (p[0], p[1])
            })
        let order = (dump.objectValue?.keys ?? []).filter { wanted[$0] != nil }
        let entries = try order.map { cls in
            VMStateSchema.Entry(name: cls, description: try #require(pcDevice(wanted[cls]!)))
        }
        let ours = try VMStateSchema.dumpJSON(entries: entries, machine: "pc-i440fx-7.2")
        var expected = "{\n  \"vmschkmachine\": {\n    \"Name\": \"pc-i440fx-7.2\"\n  },\n"
        expected += try order.map { try #require(PCDumpFixture.entryText($0, in: PCDumpFixture.text)) }
            .joined(separator: ",\n")
        expected += "\n}\n"
        #expect(ours == expected)
        #expect(PCDumpFixture.text.hasPrefix("{\n  \"vmschkmachine\": {\n    \"Name\": \"pc-i440fx-7.2\"\n  },\n"))
        #expect(PCDumpFixture.text.hasSuffix("\n  }\n}\n"))
    }

    @Test("the C entry points give the Swift text and report bad tables")
    func cEntryPoints() throws {
        let list = pc_device_vmsd_list()!
        var error: UnsafeMutablePointer<GError>? = nil
        let text = try #require(vmstate_dump_schema("pc-i440fx-7.2", list, &error))
        defer { g_free(text) }
        #expect(error == nil)
        #expect(String(cString: text) == (try VMStateSchema.dumpJSON(nullTerminated: list, machine: "pc-i440fx-7.2")))
        #expect(String(cString: text).contains("\n  \"mc146818rtc\": {\n    \"Name\": \"mc146818rtc\",\n"))

        // Keys from `names`; NULL machine is "none".
        let rtc = try #require(pcDevice("mc146818rtc"))
        let pit = try #require(pcDevice("i8254"))
        let vmsds: [UnsafePointer<VMStateDescription>?] = [rtc, pit, nil]
        let named: String = try vmsds.withUnsafeBufferPointer { vp in
            try pcWithCStrings(["rtc-class", nil]) { names in
                let t = try #require(vmstate_dump_schema_named(nil, names, vp.baseAddress, &error))
                defer { g_free(t) }
                return String(cString: t)
            }
        }
        let parsed = try JSONValue(parsing: named)
        #expect(parsed.objectValue?.keys == ["vmschkmachine", "rtc-class", "i8254"])
        #expect(parsed["vmschkmachine"]?["Name"] == .string("none"))
        #expect(parsed["rtc-class"]?["Name"] == .string("rtc-class"))
        #expect(parsed["rtc-class"]?["Description"]?["name"] == .string("mc146818rtc"))

        // The same description twice under one key is an error.
        let twice: [UnsafePointer<VMStateDescription>?] = [rtc, rtc, nil]
        let none = twice.withUnsafeBufferPointer { vmstate_dump_schema(nil, $0.baseAddress, &error) }
        #expect(none == nil)
        let err = try #require(error)
        #expect(
            String(cString: err.pointee.message)
                == "entry 1: the key \"mc146818rtc\" is used twice (the description's name; QEMU keys -dump-vmstate by device class, and so tells apart classes that share a description or a name: from C, give each entry its own key with vmstate_dump_schema_named) (at byte 0)"
        )
        if let e = error { g_error_free(e) }
    }

    @Test("names that are not UTF-8 are an error, not JSON that no reader takes")
    func namesNotUTF8() throws {
        let rtc = try #require(pcDevice("mc146818rtc"))
        let vmsds: [UnsafePointer<VMStateDescription>?] = [rtc, nil]
        var error: UnsafeMutablePointer<GError>?
        func message() -> String? {
            defer { g_clear_error(&error) }
            return error.map { String(cString: $0.pointee.message) }
        }
        let latin1: [CChar] = [0x72, CChar(bitPattern: 0xE9), 0]  // "r\xe9"
        latin1.withUnsafeBufferPointer { bad in
            vmsds.withUnsafeBufferPointer { list in
                #expect(vmstate_dump_schema(bad.baseAddress, list.baseAddress, &error) == nil)
                #expect(
                    message()
                        == "vmstate_dump_schema: the machine name is not valid UTF-8 (QEMU's names are ASCII) (at byte 0)"
                )
                let names: [UnsafePointer<CChar>?] = [bad.baseAddress, nil]
                names.withUnsafeBufferPointer { n in
                    #expect(vmstate_dump_schema_named(nil, n.baseAddress, list.baseAddress, &error) == nil)
                }
                #expect(
                    message()
                        == "vmstate_dump_schema_named: names[0] is not valid UTF-8 (QEMU's names are ASCII) (at byte 0)"
                )
            }
        }
        // A description's own name: the dump fails, naming it with its bytes.
        var copy = rtc.pointee
        copy.name = latin1.withUnsafeBufferPointer { UnsafePointer(strdup($0.baseAddress!)!) }
        defer { free(UnsafeMutablePointer(mutating: copy.name)) }
        let e = try #require(throws: VMStateSchema.DumpError.self) {
            try withUnsafePointer(to: &copy) { try VMStateSchema.dumpJSON([$0]) }
        }
        #expect(e.message == "the name \"r\\xe9\" is not valid UTF-8, which JSON needs (QEMU's names are ASCII)")
    }

    @Test("an empty list is valid JSON with only the machine")
    func emptyList() throws {
        let text = try VMStateSchema.dumpJSON([], machine: "pc")
        #expect(text == "{\n  \"vmschkmachine\": {\n    \"Name\": \"pc\"\n  }\n}\n")
        #expect(try JSONValue(parsing: text).objectValue?.keys == ["vmschkmachine"])
    }

    @Test("a description that contains itself is an error, not endless recursion")
    func recursion() throws {
        let broken = lintBrokenTables()
        let recursive = try #require(broken.first { String(cString: $0.pointee.name) == "broken_recursive" })
        #expect(throws: VMStateSchema.DumpError.self) {
            try VMStateSchema.dumpJSON([recursive])
        }
    }
}

/// Calls `body` with a C array of C strings (entries may be NULL).
func pcWithCStrings<R>(
    _ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) throws -> R
) rethrows -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0)! } }
    defer { copies.forEach { free($0) } }
    let consts = copies.map { UnsafePointer($0) }
    return try consts.withUnsafeBufferPointer { try body($0.baseAddress!) }
}

func pcDeviceCountMatches() -> Bool {
    pcDevices().count == pcDumpClasses.count
}

// MARK: - vmdesc: our tables against the streams' own descriptions

/// Checks a stream's vmdesc description object against one of our tables (names, array
/// lengths or indexes, types, sizes; nested structs and the subsections present in the stream)
/// and returns the number of bytes the description accounts for.
struct PCVMDescChecker {
    var problems: [String] = []

    mutating func check(
        _ desc: JSONValue, _ vmsd: UnsafePointer<VMStateDescription>, opaque: UnsafeMutableRawPointer,
        path: String
    ) -> Int64 {
        let name = String(cString: vmsd.pointee.name)
        if desc["vmsd_name"]?.stringValue != name {
            problems.append("\(path): vmsd_name \(desc["vmsd_name"]?.formatted(.pythonCompact) ?? "-") vs ours \(name)")
        }
        let version = vmsd.pointee.version_id
        if desc["version"]?.int64Value != Int64(version) {
            problems.append("\(path): version \(desc["version"]?.formatted(.pythonCompact) ?? "-") vs ours \(version)")
        }

        // What our table writes at its version, in vmdesc form.
        struct Expected {
            var name: String
            var arrayLen: Int?
            var index: Int?
            var field: UnsafePointer<VMStateField>
            var element: UnsafeMutableRawPointer?
        }
        var expected: [Expected] = []
        var nameCounts: [String: Int] = [:]
        var f = vmsd.pointee.fields!
        while let cname = f.pointee.name {
            nameCounts[String(cString: cname), default: 0] += 1
            f += 1
        }
        var seen: [String: Int] = [:]
        f = vmsd.pointee.fields!
        while let cname = f.pointee.name {
            defer { f += 1 }
            let fname = String(cString: cname)
            let k = seen[fname, default: 0]
            seen[fname] = k + 1
            let field = f.pointee
            let exists: Bool
            if let test = field.field_exists {
                exists = test(opaque, version)
            } else {
                exists = field.version_id <= version
            }
            if !exists { continue }
            let n = PCVMDescChecker.elementCount(field, opaque)
            if n == 0 { continue }
            let shownName = nameCounts[fname]! > 1 ? "\(fname)[\(k)]" : fname
            var base: UnsafeMutableRawPointer? = opaque + field.offset
            if field.flags.rawValue & VMS_POINTER.rawValue != 0 {
                base = base!.load(as: UnsafeMutableRawPointer?.self)
            }
            let size = PCVMDescChecker.elementSize(field, opaque)
            func element(_ i: Int) -> UnsafeMutableRawPointer? {
                guard var e = base.map({ $0 + i * size }) else { return nil }
                if field.flags.rawValue & VMS_ARRAY_OF_POINTER.rawValue != 0 {
                    guard let p = e.load(as: UnsafeMutableRawPointer?.self) else { return nil }
                    e = p
                }
                return e
            }
            if n > 1 && PCVMDescChecker.canCompress(f) {
                expected.append(Expected(name: shownName, arrayLen: n, field: f, element: element(0)))
            } else {
                for i in 0..<n {
                    expected.append(Expected(name: shownName, index: n > 1 ? i : nil, field: f, element: element(i)))
                }
            }
        }

        let fields = desc["fields"]?.arrayValue ?? []
        if fields.count != expected.count {
            problems.append(
                "\(path): \(fields.count) fields in the stream, ours \(expected.count): "
                    + "\(fields.map { $0["name"]?.stringValue ?? "?" }) vs \(expected.map(\.name))")
        }
        var total: Int64 = 0
        for (got, want) in zip(fields, expected) {
            let fpath = "\(path)/\(want.name)"
            if got["name"]?.stringValue != want.name {
                problems.append("\(fpath): name \(got["name"]?.formatted(.pythonCompact) ?? "-")")
            }
            if got["array_len"]?.int64Value.map(Int.init) != want.arrayLen {
                problems.append(
                    "\(fpath): array_len \(got["array_len"]?.formatted(.pythonCompact) ?? "-") vs ours \(want.arrayLen.map(String.init) ?? "-")"
                )
            }
            if got["index"]?.int64Value.map(Int.init) != want.index {
                problems.append(
                    "\(fpath): index \(got["index"]?.formatted(.pythonCompact) ?? "-") vs ours \(want.index.map(String.init) ?? "-")"
                )
            }
            let field = want.field.pointee
            let type: String
            if field.flags.rawValue & VMS_STRUCT.rawValue != 0 {
                type = "struct"
            } else if field.flags.rawValue & VMS_VSTRUCT.rawValue != 0 {
                type = "vstruct"
            } else {
                type = field.info.map { String(cString: $0.pointee.name) } ?? "unknown"
            }
            if got["type"]?.stringValue != type {
                problems.append("\(fpath): type \(got["type"]?.formatted(.pythonCompact) ?? "-") vs ours \(type)")
            }
            let size: Int64
            if field.flags.rawValue & VMS_STRUCT.rawValue != 0, let nested = got["struct"], let element = want.element {
                size = check(nested, field.vmsd!, opaque: element, path: fpath)
            } else if field.info == vmstate_std_info(Int32(VMSTATE_STD_TMP.rawValue)), let nested = field.vmsd,
                let element = want.element
            {
                // VMSTATE_WITH_TMP: the scratch struct's description is written into the field's
                // own object. The scratch starts with a pointer to the parent.
                let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(field.size, 8), alignment: 16)
                defer { scratch.deallocate() }
                scratch.initializeMemory(as: UInt8.self, repeating: 0, count: max(field.size, 8))
                scratch.storeBytes(of: element, as: UnsafeMutableRawPointer.self)
                size = check(got, nested, opaque: scratch, path: fpath)
            } else {
                size = Int64(PCVMDescChecker.elementSize(field, opaque))
            }
            if got["size"]?.int64Value != size {
                problems.append("\(fpath): size \(got["size"]?.formatted(.pythonCompact) ?? "-") vs ours \(size)")
            }
            total += size * Int64(want.arrayLen ?? 1)
        }

        for sub in desc["subsections"]?.arrayValue ?? [] {
            let subName = sub["vmsd_name"]?.stringValue ?? "?"
            guard let ours = PCVMDescChecker.subsection(vmsd, named: subName) else {
                problems.append("\(path): the stream has subsection \(subName), we do not")
                continue
            }
            let subSize = check(sub, ours, opaque: opaque, path: "\(path)/\(subName)")
            total += 1 + 1 + Int64(subName.utf8.count) + 4 + subSize
        }
        return total
    }

    static func subsection(_ vmsd: UnsafePointer<VMStateDescription>, named name: String)
        -> UnsafePointer<VMStateDescription>?
    {
        guard var s = vmsd.pointee.subsections else { return nil }
        while let sub = s.pointee {
            if String(cString: sub.pointee.name) == name { return sub }
            s += 1
        }
        return nil
    }

    static func elementCount(_ field: VMStateField, _ opaque: UnsafeMutableRawPointer) -> Int {
        let flags = field.flags.rawValue
        var n = 1
        if flags & VMS_ARRAY.rawValue != 0 {
            n = Int(field.num)
        } else if flags & VMS_VARRAY_INT32.rawValue != 0 {
            n = Int(opaque.load(fromByteOffset: field.num_offset, as: Int32.self))
        } else if flags & VMS_VARRAY_UINT32.rawValue != 0 {
            n = Int(opaque.load(fromByteOffset: field.num_offset, as: UInt32.self))
        } else if flags & VMS_VARRAY_UINT16.rawValue != 0 {
            n = Int(opaque.load(fromByteOffset: field.num_offset, as: UInt16.self))
        } else if flags & VMS_VARRAY_UINT8.rawValue != 0 {
            n = Int(opaque.load(fromByteOffset: field.num_offset, as: UInt8.self))
        }
        if flags & VMS_MULTIPLY_ELEMENTS.rawValue != 0 {
            n *= Int(field.num)
        }
        return n
    }

    static func elementSize(_ field: VMStateField, _ opaque: UnsafeMutableRawPointer) -> Int {
        var size = field.size
        if field.flags.rawValue & VMS_VBUFFER.rawValue != 0 {
            size = Int(opaque.load(fromByteOffset: field.size_offset, as: Int32.self))
            if field.flags.rawValue & VMS_MULTIPLY.rawValue != 0 {
                size *= field.size
            }
        }
        return size
    }

    /// QEMU's vmsd_can_compress.
    static func canCompress(_ f: UnsafePointer<VMStateField>) -> Bool {
        if f.pointee.field_exists != nil { return false }
        if f.pointee.flags.rawValue & VMS_STRUCT.rawValue != 0, let nested = f.pointee.vmsd {
            var s = nested.pointee.fields!
            while s.pointee.name != nil {
                if !canCompress(s) { return false }
                s += 1
            }
            if nested.pointee.subsections != nil { return false }
        }
        return true
    }
}

@Suite("PCDeviceSchema vmdesc")
struct PCDeviceVMDescTests {
    static let streams = ["pc-bios", "pc-reset"]

    @Test("each device section of the stream matches our table", arguments: streams)
    func devicesMatchStream(_ stream: String) throws {
        let vmdesc = try TestPaths.readJSON(TestPaths.qemuFixtures + "/\(stream)/vmdesc.json")
        let devices = try #require(vmdesc["devices"]?.arrayValue)
        var covered = Set<String>()
        var notOurs = Set<String>()
        for device in devices {
            let vmsdName = try #require(device["vmsd_name"]?.stringValue)
            guard let vmsd = pcDevice(vmsdName) else {
                notOurs.insert(vmsdName)
                continue
            }
            let state = try #require(pc_device_state_new(vmsd))
            defer { g_free(state) }
            var checker = PCVMDescChecker()
            let idstr = device["name"]?.stringValue ?? vmsdName
            _ = checker.check(device, vmsd, opaque: state, path: "\(stream):\(idstr)")
            #expect(checker.problems.isEmpty, "\(checker.problems.joined(separator: "\n"))")
            covered.insert(vmsdName)
        }
        // Every description in our list is in these streams (they are the pc machine's).
        #expect(covered == Set(pcDevices().map { String(cString: $0.pointee.name) }))
        // Every device section of the streams is described here.
        #expect(notOurs.isEmpty, "not covered: \(notOurs.sorted())")
    }
}

@Suite("SchemaNesting")
struct SchemaNestingTests {
    /// A chain of `depth` descriptions, each the only subsection of the one before, named as
    /// QEMU names subsections: `s`, `s/x`, `s/x/x`, ... (never freed: plans are cached by address).
    static func subsectionChain(_ depth: Int) -> UnsafePointer<VMStateDescription> {
        var next: UnsafePointer<VMStateDescription>?
        for level in stride(from: depth - 1, through: 0, by: -1) {
            let fields = UnsafeMutablePointer<VMStateField>.allocate(capacity: 1)
            fields.initialize(to: VMStateField())
            let vmsd = processLifetimeDescription("s" + String(repeating: "/x", count: level), fields: fields)
            if let next {
                let subs = UnsafeMutablePointer<UnsafePointer<VMStateDescription>?>.allocate(capacity: 2)
                subs.initialize(repeating: nil, count: 2)
                subs[0] = next
                vmsd.pointee.subsections = subs
            }
            next = UnsafePointer(vmsd)
        }
        return next!
    }

    /// A schema dump of descriptions nested past 64 levels fails as the engine's planning
    /// does: the same wording, the path naming each subsection by its last component (a full
    /// subsection name repeats its parents', which made the path grow with the square of the
    /// depth).
    @Test func tooDeepASubsectionChainIsRefusedWithTheEnginesWording() throws {
        let root = Self.subsectionChain(66)
        let e = try #require(thrownError(VMStateSchema.DumpError.self) { _ = try VMStateSchema.dumpJSON([root]) })
        let path = "s" + String(repeating: "/x", count: 64)
        #expect(e.message == "\(path): descriptions nested deeper than 64 levels")
        // 64 levels dump.
        #expect((try? VMStateSchema.dumpJSON([Self.subsectionChain(64)])) != nil)
    }
}

/// The tool's `schema` writes the dump as it is made once it passes 16 MiB: a library whose
/// descriptions nest a shared one at two places per level dumps it at each use, as QEMU's
/// `-dump-vmstate` does (2^13 copies here, 24 MB); held whole, with its String copy, such a
/// dump took twice its size (outputs F1: 274 MB of dump took 549 MB and aborted under `ulimit
/// -v 262144`).
@Suite struct SchemaStreamingTests {
    /// `d0` ... `dN`: each `dK` has fields `a` and `b`, structs of `dK+1`; `dN` one uint32 `v`.
    static func fanOut(depth: Int) -> UnsafePointer<VMStateDescription> {
        var next: UnsafePointer<VMStateDescription>?
        for level in stride(from: depth, through: 0, by: -1) {
            let names = next == nil ? ["v"] : ["a", "b"]
            let fields = UnsafeMutablePointer<VMStateField>.allocate(capacity: names.count + 1)
            fields.initialize(repeating: VMStateField(), count: names.count + 1)
            for (i, name) in names.enumerated() {
                fields[i].name = UnsafePointer(g_strdup(name))
                if let next {
                    fields[i].size = 8
                    fields[i].offset = 8 * i
                    fields[i].vmsd = next
                    fields[i].flags = VMS_STRUCT
                } else {
                    fields[i].size = 4
                    fields[i].info = vmstate_std_info(Int32(VMSTATE_STD_UINT32.rawValue))
                    fields[i].flags = VMS_SINGLE
                }
            }
            let vmsd = processLifetimeDescription("d\(level)", fields: fields)
            next = UnsafePointer(vmsd)
        }
        return next!
    }

    @Test func aLargeDumpIsHandedOverAsItIsMade() throws {
        let list = UnsafeMutablePointer<UnsafePointer<VMStateDescription>?>.allocate(capacity: 2)
        defer { list.deallocate() }
        list[0] = Self.fanOut(depth: 13)
        list[1] = nil
        let whole = try VMStateSchema.dumpBytes(entries: [VMStateSchema.Entry(description: list[0]!)])
        #expect(whole.count == 23_747_565)
        var pieces: [Int] = []
        var streamed: [UInt8] = []
        streamed.reserveCapacity(whole.count)
        try VMStateSchema.dump(nullTerminated: list) { piece in
            pieces.append(piece.count)
            streamed.append(contentsOf: piece)
        }
        #expect(streamed == whole)
        // Held until 16 MiB, then about 64 KiB at a time (a piece ends where a field starts).
        #expect(pieces.count > 100)
        #expect(pieces[0] >= 16 << 20 && pieces[0] < (16 << 20) + 4096)
        #expect(pieces.dropFirst().dropLast().allSatisfy { $0 >= 1 << 16 && $0 < (1 << 16) + 4096 })
        // A small dump is handed over once, whole.
        list[0] = Self.fanOut(depth: 2)
        var small: [[UInt8]] = []
        try VMStateSchema.dump(nullTerminated: list) { small.append(Array($0)) }
        #expect(small == [try VMStateSchema.dumpBytes(entries: [VMStateSchema.Entry(description: list[0]!)])])
        #expect(String(decoding: small[0], as: UTF8.self).hasPrefix("{\n  \"vmschkmachine\": {\n"))
    }

    /// A name that is not UTF-8 fails the dump before the piece that holds it is handed over:
    /// in the first bytes of a 24 MB dump, nothing is (it failed only at the end, after all but
    /// the last piece: verify20 1); in a small dump, at its end, nothing handed over either.
    @Test func aNameNotUTF8StopsTheDumpBeforeItsPiece() throws {
        let list = UnsafeMutablePointer<UnsafePointer<VMStateDescription>?>.allocate(capacity: 2)
        defer { list.deallocate() }
        for depth in [13, 2] {
            let top = Self.fanOut(depth: depth)
            let bad: [CChar] = [CChar(bitPattern: 0x64), CChar(bitPattern: 0xff), 0]
            UnsafeMutablePointer(mutating: top).pointee.name = UnsafePointer(g_strdup(bad))
            list[0] = top
            list[1] = nil
            var handed = 0
            let error = #expect(throws: VMStateSchema.DumpError.self) {
                try VMStateSchema.dump(nullTerminated: list) { handed += $0.count }
            }
            #expect(handed == 0, "depth \(depth)")
            #expect(
                error?.message == "the name \"d\\xff\" is not valid UTF-8, which JSON needs (QEMU's names are ASCII)")
        }
    }
}
