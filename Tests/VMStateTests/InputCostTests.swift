import Testing

@testable import VMState
import VMStateAnalysis

/// Inputs whose cost once grew faster than their size (quadratic lookups, copies, rebuilt
/// indexes): what they read must stay exactly what it was. The reproducers of the costly
/// sizes are in the cost audit (fuzz/regressions/stream/ for the loader's).
@Suite struct InputCostTests {
    /// Header, a QEMU 7.2 configuration section ("pc"), `body`, EOF, a vmdesc with no devices.
    static func stream(_ body: [UInt8]) -> [UInt8] {
        var s = Array("QEVM".utf8) + be32(3) + [0x07] + be32(2) + Array("pc".utf8) + body + [0x00]
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        s += [0x06] + be32(UInt32(json.count)) + json
        return s
    }

    /// A RAM record naming `name` (zero page, fill 0) at `address`.
    static func zeroPage(_ address: UInt64, _ name: String) -> [UInt8] {
        be64(address | 0x02) + [UInt8(name.utf8.count)] + Array(name.utf8) + [0]
    }

    /// A zero page of the block named last (CONTINUE).
    static func zeroPage(_ address: UInt64) -> [UInt8] { be64(address | 0x22) + [0] }

    /// RAM section id 1: START with `start`, then a PART or END per element of `parts`, each
    /// with EOS and a footer.
    static func ramStream(start: [UInt8], parts: [[UInt8]]) -> [UInt8] {
        var body = [0x01] + be32(1) + [3] + Array("ram".utf8) + be32(0) + be32(4) + start + be64(0x10)
        body += [0x7E] + be32(1)
        for (i, part) in parts.enumerated() {
            body += [i == parts.count - 1 ? 0x03 : 0x02] + be32(1) + part + be64(0x10) + [0x7E] + be32(1)
        }
        return stream(body)
    }

    /// The page blocks named in the RAM section's first part are known in its later parts (the
    /// names are indexed once per section, not again for each part) and new ones are added
    /// after them; the page records keep their block numbers.
    @Test func pageBlockNamesCarryAcrossRAMParts() throws {
        let bytes = Self.ramStream(
            start: Self.zeroPage(0, "a") + Self.zeroPage(0, "b") + Self.zeroPage(0x1000, "c"),
            parts: [
                [], [],
                Self.zeroPage(0x2000) + Self.zeroPage(0x1000, "b") + Self.zeroPage(0, "d"),
                Self.zeroPage(0x3000, "a") + Self.zeroPage(0x1000),
            ])
        let a = try StreamAnalysis(bytes: StreamBytes(bytes))
        guard case .ram(let ram) = a.sections.first?.content else {
            Issue.record("no RAM section")
            return
        }
        #expect(ram.pageBlockNames == ["a", "b", "c", "d"])
        #expect(ram.pages.map(\.block) == [0, 1, 2, 2, 1, 3, 0, 0])
        #expect(ram.pages.map(\.address) == [0, 0, 0x1000, 0x2000, 0x1000, 0, 0x3000, 0x1000])
        #expect(ram.pageCount == 8)
    }

    /// MEM_SIZE lists: each block once, in order of first announcement, with its last length
    /// (blocks looked up by name, not by a walk of the list for each); "section sizes" lists
    /// them in that order.
    @Test func announcedRAMBlocksByName() throws {
        func entry(_ name: String, _ length: UInt64) -> [UInt8] {
            [UInt8(name.utf8.count)] + Array(name.utf8) + be64(length)
        }
        let bytes = Self.ramStream(
            start: be64(0x3000 | 0x04) + entry("x", 0x1000) + entry("y", 0x1000) + entry("z", 0x1000),
            parts: [be64(0x3000 | 0x04) + entry("y", 0x2000) + entry("w", 0x1000)])
        let a = try StreamAnalysis(bytes: StreamBytes(bytes))
        guard case .ram(let ram) = a.sections.first?.content else {
            Issue.record("no RAM section")
            return
        }
        #expect(ram.blocks.map(\.name) == ["x", "y", "z", "w"])
        #expect(ram.blocks.map(\.length) == [0x1000, 0x2000, 0x1000, 0x1000])
        #expect(a.announcedRAMBlocks.map(\.name) == ["x", "y", "z", "w"])
        #expect(a.announcedRAMBlocks.map(\.length) == [0x1000, 0x2000, 0x1000, 0x1000])
        #expect(
            ram.sectionSizesJSON
                == JSONObject([
                    ("x", "0x0000000000001000"), ("y", "0x0000000000002000"), ("z", "0x0000000000001000"),
                    ("w", "0x0000000000001000"),
                ]))
    }

    /// A vmdesc followed by other bytes is searched for candidate by candidate: one whose JSON
    /// would hold a control byte (another candidate's EOF and 0x06) is never parsed, so
    /// thousands of look-alikes reaching the same `}` cost one pass, not one copy each.
    @Test func vmdescLookAlikesBeforeTrailingBytesAreNotParsed() throws {
        var bytes: [UInt8] = Array("QEVM".utf8) + be32(3)
        let count = 1000
        let brace = bytes.count + 7 * count
        for _ in 0..<count {
            let marker = bytes.count + 1
            bytes += [0x00, 0x06] + be32(UInt32(brace - (marker + 4))) + [UInt8(ascii: "{")]
        }
        bytes += Array("}x".utf8)
        // Only the last, whose text is `{}`, holds no control byte: it alone is handed over.
        var calls = 0
        var texts: [[UInt8]] = []
        let found = bytes.withUnsafeBytes { buf in
            VMDescRecord.locateBeforeTrailingBytes(buf) { text in
                calls += 1
                texts.append(Array(text))
                return false
            }
        }
        #expect(found == nil)
        #expect(calls == 1)
        #expect(texts.first == Array("{}".utf8))

        // A real one after them, then trailing bytes: found, parsed once.
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        let at = bytes.count
        bytes += [0x00, 0x06] + be32(UInt32(json.count)) + json + [0x00, 0x00]
        calls = 0
        var seen: [UInt8] = []
        let real = bytes.withUnsafeBytes { buf in
            VMDescRecord.locateBeforeTrailingBytes(buf) { text in
                calls += 1
                seen = Array(text)
                return true
            }
        }
        #expect(real == VMDescRecord(markerOffset: at + 1, jsonLength: json.count))
        #expect(calls == 1)
        #expect(seen == json)
    }

    /// The loader finds a skipped section's vmdesc entry by name, instance id and rank among the
    /// stream's sections of both (none past those the vmdesc has), through an index
    /// built once per vmdesc; only the entries it is asked for keep their JSON text.
    @Test func vmdescEntriesByNameAndInstance() throws {
        let json = Array(
            #"{"page_size": 4096, "devices": [{"name": "a", "instance_id": 0, "fields": [{"name": "x", "size": 4}]}, {"name": "a", "instance_id": 1, "fields": []}, {"name": "a", "instance_id": 0, "fields": [{"name": "y", "size": 2}]}, {"name": "b", "fields": [{"name": "z", "size": 8, "array_len": 3}]}]}"#
                .utf8)
        var refusal: String?
        let index = try #require(
            json.withUnsafeBytes { VMDescIndex.parse($0, refusal: &refusal) { name, _ in name == "a" } })
        #expect(refusal == nil)
        #expect(index.entries.count == 4)
        #expect(index.positions.count == 3)
        // Two entries of "a" instance 0: the stream's first section of it takes the first, its
        // second the second, a third (more than the vmdesc has) none.
        #expect(index.device("a", 0, occurrence: 0)?.size == 4)
        #expect(index.device("a", 0, occurrence: 1)?.size == 2)
        #expect(index.device("a", 0, occurrence: 2) == nil && index.count("a", 0) == 2)
        #expect(index.device("a", 1, occurrence: 0)?.size == 0)
        #expect(index.device("b", 0, occurrence: 0)?.size == 24)
        #expect(index.device("b", 1, occurrence: 0) == nil)
        #expect(index.device("c", 0, occurrence: 0) == nil)
        #expect(
            index.device("a", 0, occurrence: 1)?.json.map { String(decoding: $0, as: UTF8.self) }
                == #"{"name": "a", "instance_id": 0, "fields": [{"name": "y", "size": 2}]}"#)
        #expect(
            index.device("a", 1, occurrence: 0)?.json.map { String(decoding: $0, as: UTF8.self) }
                == #"{"name": "a", "instance_id": 1, "fields": []}"#)
        #expect(index.device("b", 0, occurrence: 0)?.json == nil)
    }

    /// Many skipped sections, each found in the vmdesc: all skipped, in order.
    @Test func manySkippedSectionsLoad() throws {
        var body: [UInt8] = []
        var devices: [String] = []
        for i in 0..<300 {
            let name = "dev\(i)"
            body +=
                [0x04] + be32(UInt32(i + 1)) + [UInt8(name.utf8.count)] + Array(name.utf8) + be32(0) + be32(1)
                + be32(UInt32(i)) + [0x7E] + be32(UInt32(i + 1))
            devices.append(#"{"name": "\#(name)", "instance_id": 0, "fields": [{"name": "v", "size": 4}]}"#)
        }
        var s = Array("QEVM".utf8) + be32(3) + [0x07] + be32(2) + Array("pc".utf8) + body + [0x00]
        let json = Array(#"{"page_size": 4096, "devices": [\#(devices.joined(separator: ", "))]}"#.utf8)
        s += [0x06] + be32(UInt32(json.count)) + json
        let registry = Registry()
        try registry.load(s, options: .keepUnknown)
        // Saved back: the kept sections in their order, with their data.
        let saved = try registry.save()
        let again = Registry()
        try again.load(saved, options: .keepUnknown)
        #expect(try again.save() == saved)
        let d150 = Array("dev150".utf8)
        let at = try #require(
            (0..<saved.count - d150.count).first { Array(saved[$0..<$0 + d150.count]) == d150 })
        #expect(Array(saved[at + d150.count + 8..<at + d150.count + 12]) == be32(150))
    }

    /// compat finds each of OLD's sections in NEW by name through an index built once (NEW's
    /// last member of a name, as before): a missing one, and one NEW has twice, the later with a
    /// lower version.
    @Test func compatLooksUpSectionsByName() throws {
        func sections(_ list: [(String, Int64)]) -> JSONValue {
            .object(
                JSONObject(
                    list.flatMap { name, version in
                        CompatRuleTests.section(name, version: version, fields: [CompatRuleTests.field("x", 4)])
                            .objectValue!.members
                    }))
        }
        let old = sections([("s0", 3), ("s1", 3), ("s2", 3), ("s3", 3), ("s4", 3)])
        let new = sections([("s3", 3), ("s2", 3), ("s1", 3), ("s0", 3), ("s2", 2)])
        let report = CompatRuleTests.check(old, new)
        #expect(
            report.text() == """
                section "s2", description "s2": version 3 in OLD, but only 2 in NEW: NEW cannot load the newer state [version]
                section "s4": section "s4" does not exist in NEW [section-missing]
                NOT compatible: 2 problems (state saved by OLD does not load into NEW: QEMU refuses it or loads wrong values)

                """)
    }

    /// A `-dump-vmstate` document with section "dev" whose description has subsections
    /// `subs` (name, version), each with one 4-byte field "x".
    static func dumpWithSubsections(_ subs: [(String, Int64)]) -> JSONValue {
        let subsections: [JSONValue] = subs.map { name, version in
            [
                "name": .string(name), "version_id": .number(JSONNumber(version)), "minimum_version_id": 1,
                "Fields": [CompatRuleTests.field("x", 4)], "Subsections": [],
            ]
        }
        return [
            "vmschkmachine": ["Name": "pc-i440fx-7.2"],
            "dev": [
                "Name": "dev", "version_id": 1, "minimum_version_id": 1,
                "Description": [
                    "name": "dev", "version_id": 1, "minimum_version_id": 1,
                    "Fields": [CompatRuleTests.field("y", 4)], "Subsections": .array(subsections),
                ],
            ],
        ]
    }

    /// compat matches subsections by name through an index built once per description (each
    /// of NEW's of that name, in order): one missing, one of NEW's twice, one of another version.
    @Test func compatMatchesSubsectionsByName() throws {
        let old = Self.dumpWithSubsections([("dev/a", 1), ("dev/b", 1), ("dev/c", 1), ("dev/d", 2)])
        let new = Self.dumpWithSubsections([("dev/d", 1), ("dev/b", 1), ("dev/a", 1), ("dev/b", 1)])
        #expect(
            CompatRuleTests.check(old, new).text() == """
                section "dev", description "dev": subsection "dev/c" does not exist in NEW [subsection-missing]
                section "dev", description "dev/d": version 2 in OLD, but only 1 in NEW: NEW cannot load the newer state [version]
                NOT compatible: 2 problems (state saved by OLD does not load into NEW: QEMU refuses it or loads wrong values)

                """)
    }

    /// diff matches subsections by name through an index built once per side (the first of B's
    /// of a name), also when their order differs; those of one side only are listed.
    @Test func diffMatchesSubsectionsByName() throws {
        let a = Self.dumpWithSubsections([("dev/a", 1), ("dev/b", 1), ("dev/c", 1), ("dev/d", 2)])
        let b = Self.dumpWithSubsections([("dev/e", 1), ("dev/d", 1), ("dev/b", 1), ("dev/a", 1), ("dev/b", 3)])
        let (ca, cb, notes) = DescriptionSet.comparable(
            try DescriptionSet(a, label: "A", elementSizes: true), try DescriptionSet(b, label: "B", elementSizes: true)
        )
        let diff = StreamDiff(descriptions: ca, cb, notes: notes)
        #expect(
            diff.text() == """
                dev: c  (only in A)
                    A: subsection description "dev/c", version 1 (minimum 1), 1 field
                dev: d
                    A: version 2
                    B: version 1
                dev: e  (only in B)
                    B: subsection description "dev/e", version 1 (minimum 1), 1 field
                3 differences in 1 section

                """)
    }

    /// The text of a diff escapes the controls of names and values, a newline too: a field
    /// named "x\nstreams are equal" printed a line "streams are equal" of its own.
    @Test func diffTextEscapesNewlinesInNames() throws {
        func dump(_ size: Int64) -> JSONValue {
            [
                "vmschkmachine": ["Name": "pc-i440fx-7.2"],
                "dev": [
                    "Name": "dev", "version_id": 1, "minimum_version_id": 1,
                    "Description": [
                        "name": "dev", "version_id": 1, "minimum_version_id": 1,
                        "Fields": [CompatRuleTests.field("x\nstreams are equal", size)], "Subsections": [],
                    ],
                ],
            ]
        }
        let (ca, cb, notes) = DescriptionSet.comparable(
            try DescriptionSet(dump(4), label: "A", elementSizes: true),
            try DescriptionSet(dump(8), label: "B", elementSizes: true))
        let diff = StreamDiff(descriptions: ca, cb, notes: notes)
        #expect(
            diff.text() == """
                dev: x\\x0astreams are equal
                    A: 4 bytes
                    B: 8 bytes
                1 difference in 1 section

                """)
    }

    /// A configuration section listing `capabilities`, then EOF and an empty vmdesc.
    static func streamWithCapabilities(_ capabilities: [String]) -> [UInt8] {
        let sub = Array("configuration/capabilities".utf8)
        var s = Array("QEVM".utf8) + be32(3) + [0x07] + be32(2) + Array("pc".utf8)
        s += [0x05, UInt8(sub.count)] + sub + be32(1) + be32(UInt32(capabilities.count))
        for c in capabilities { s += [UInt8(c.utf8.count)] + Array(c.utf8) }
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        return s + [0x00, 0x06] + be32(UInt32(json.count)) + json
    }

    /// A capability listed many times is checked against a set of those before it (a list
    /// walk each was quadratic) and kept once (with the count, for the vmdesc of a save, which
    /// writes the list back as it was); x-ignore-shared with mapped-ram is refused where the
    /// second is listed, whichever comes first.
    @Test func repeatedCapabilities() throws {
        let registry = Registry()
        let stream = Self.streamWithCapabilities(Array(repeating: "x-ignore-shared", count: 3))
        try registry.load(stream)
        #expect(registry.capabilities == ["x-ignore-shared"])
        #expect(registry.capabilityCount == 3)
        #expect(try registry.save() == stream)
        // QEMU 10.0's vmdesc describes the configuration: the list's entries, all three.
        registry.streamVersion = .qemu10_0
        let saved = try registry.save()
        #expect(Array(saved[..<83]) == Array(stream[..<83]))  // header, configuration, the three names
        #expect(
            String(decoding: saved[84...], as: UTF8.self).contains(
                #"{"name": "capabilities", "array_len": 3, "type": "capability", "size": 16}"#),
            "\(String(decoding: saved[84...], as: UTF8.self))")
        for (list, at) in [
            (["x-ignore-shared", "x-ignore-shared", "mapped-ram"], 83),
            (["mapped-ram", "mapped-ram", "x-ignore-shared"], 73),
        ] {
            let e = thrownError(VMStateError.self) { try Registry().load(Self.streamWithCapabilities(list)) }
            #expect(e?.kind == .badStream)
            #expect(e?.offset == at)
            #expect(e?.reason == "the capabilities x-ignore-shared and mapped-ram together are not supported")
        }
    }

    /// The configuration section is held whole (a save writes its subsections back), within the
    /// 64 MiB any held part of a stream load has: a capability list longer than that is
    /// refused where it passes it (10 million entries were held, as 471 MiB).
    @Test func aCapabilityListPast64MiBIsRefused() throws {
        let entry = [UInt8(15)] + Array("x-ignore-shared".utf8)
        let count = 4_200_000
        var list = [UInt8](repeating: 0, count: count * 16)
        list.withUnsafeMutableBytes { p in
            entry.withUnsafeBytes { p.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 16) }
            var filled = 16
            while filled < p.count {
                let n = min(filled, p.count - filled)
                (p.baseAddress! + filled).copyMemory(from: p.baseAddress!, byteCount: n)
                filled += n
            }
        }
        let sub = Array("configuration/capabilities".utf8)
        let stream =
            Array("QEVM".utf8) + be32(3) + [0x07] + be32(2) + Array("pc".utf8) + [0x05, UInt8(sub.count)] + sub
            + be32(1) + be32(UInt32(count)) + list + [0x00]
        let r = StreamIOTests.loadFromStream(Registry(), stream, chunk: 1 << 20, flags: 0)
        #expect(!r.ok)
        #expect(
            r.message
                == "the configuration section's subsections take more than 67108864 bytes (4194301 capability entries so far); expected a few capabilities (QEMU validates fewer than ten) (at byte 15)"
        )
    }

    /// Each new section id costs the analysis an entry, counted against what it holds (32 MiB):
    /// a stream of RAM START records (30 bytes each, a new id each) is refused at the first that
    /// passes it, instead of growing the analysis without bound (32 MB of them took 514 MB).
    @Test func manySectionIDsAreBounded() throws {
        let cost = 512 + 3  // the entry, and the name "ram"
        let fit = (32 << 20) / cost
        var body: [UInt8] = []
        body.reserveCapacity((fit + 1) * 30)
        for i in 0...fit {
            let id = UInt32(i + 1)
            body += [0x01] + be32(id) + [3] + Array("ram".utf8) + be32(0) + be32(4) + be64(0x10) + [0x7E] + be32(id)
        }
        let e = try #require(streamError(Self.stream(body)))
        #expect(e.offset == 8 + 7 + fit * 30 + 17)
        #expect(
            e.message
                == "the entry of section id \(fit + 1) in the analysis of \(cost) bytes would make the device state read more than 32 MiB, more than the analyzer holds in memory (\(fit * cost) bytes so far)"
        )
    }

    /// Each new RAM block name too: a MEM_SIZE list naming more blocks than fit is refused at
    /// the first that does not (32 MB of one-page blocks took 310 MB).
    @Test func manyRAMBlocksAreBounded() throws {
        var held = 512 + 3  // the RAM section's entry
        var entries: [UInt8] = []
        var count = 0
        var failing = ""
        while true {
            let name = "b\(String(count, radix: 16))"
            let cost = 160 + name.utf8.count
            if cost > (32 << 20) - held {
                failing = name
                break
            }
            held += cost
            entries += [UInt8(name.utf8.count)] + Array(name.utf8) + be64(0x1000)
            count += 1
        }
        entries += [UInt8(failing.utf8.count)] + Array(failing.utf8) + be64(0x1000)
        let start = be64(UInt64(count + 1) * 0x1000 | 0x04) + entries
        let e = try #require(streamError(Self.ramStream(start: start, parts: [[]])))
        #expect(e.offset == 8 + 7 + 17 + 8 + entries.count)
        #expect(
            e.message
                == "the entry of RAM block \"\(failing)\" in the analysis of \(160 + failing.utf8.count) bytes would make the device state read more than 32 MiB, more than the analyzer holds in memory (\(held) bytes so far)"
        )
    }

    /// diff reads a stream again for each RAM section's pages, but not for one without page
    /// records (its index is empty): a stream of thousands of page-less RAM sections read again
    /// for each was quadratic. The sections with pages are compared as before.
    @Test func diffOfRAMSectionsWithoutPages() throws {
        func stream(fill: UInt8) -> [UInt8] {
            var body: [UInt8] = []
            for id in UInt32(1)...3 {
                // (Section 2 announces its block: diff refuses a page of a block not announced.)
                let page =
                    id == 2
                    ? be64(0x1000 | 0x04) + [6] + Array("pc.ram".utf8) + be64(0x1000) + be64(0x02) + [6]
                        + Array("pc.ram".utf8) + [fill] : []
                body += [0x01] + be32(id) + [3] + Array("ram".utf8) + be32(0) + be32(4) + page + be64(0x10)
                body += [0x7E] + be32(id)
            }
            return Self.stream(body)
        }
        let a = try StreamAnalysis(bytes: StreamBytes(stream(fill: 0)))
        let b = try StreamAnalysis(bytes: StreamBytes(stream(fill: 7)))
        let diff = try StreamDiff(a, b)
        #expect(
            diff.text() == """
                ram: pc.ram: 1 page differs: 0x0000000000000000-0x0000000000000fff
                0 differences in 0 sections, 1 RAM block differs

                """)
        #expect(try StreamDiff(a, a).isEqual)
    }

    /// `analyze --memory` reads the stream again for each RAM section's pages, but not for one
    /// without page records: its "memory" is empty.
    @Test func memoryOfRAMSectionsWithoutPages() throws {
        var body: [UInt8] = []
        for id in UInt32(1)...3 {
            let page = id == 2 ? be64(0x1000 | 0x02) + [6] + Array("pc.ram".utf8) + [9] : []
            body += [0x01] + be32(id) + [3] + Array("ram".utf8) + be32(0) + be32(4) + page + be64(0x10)
            body += [0x7E] + be32(id)
        }
        let a = try StreamAnalysis(bytes: StreamBytes(Self.stream(body)), options: .init(recordPages: false))
        var w = JSONTextWriter(format: .python)
        try a.writeState(to: &w, memory: true)
        #expect(
            w.text == """
                {
                    "ram (1)": {
                        "section sizes": {},
                        "memory": {}
                    },
                    "ram (2)": {
                        "section sizes": {},
                        "memory": {
                            "pc.ram (0x0000000000001000)": "Filled with 0x09"
                        }
                    },
                    "ram (3)": {
                        "section sizes": {},
                        "memory": {}
                    }
                }
                """)
    }

    /// diff sorts the pages of all of a stream's RAM sections into one index, in one pass: each
    /// section's pages are still compared with those of its own pair only.
    @Test func diffOfManyRAMSectionsWithPages() throws {
        func stream(_ fills: [UInt8]) -> [UInt8] {
            var body: [UInt8] = []
            for (i, fill) in fills.enumerated() {
                let id = UInt32(i + 1)
                let length = UInt64(fills.count) << 12
                let page =
                    be64(length | 0x04) + [1] + Array("a".utf8) + be64(length) + be64(UInt64(i) << 12 | 0x02) + [1]
                    + Array("a".utf8) + [fill]
                body += [0x01] + be32(id) + [3] + Array("ram".utf8) + be32(0) + be32(4) + page + be64(0x10)
                body += [0x7E] + be32(id)
            }
            return Self.stream(body)
        }
        let a = try StreamAnalysis(bytes: StreamBytes(stream([0, 1, 2, 3])))
        let b = try StreamAnalysis(bytes: StreamBytes(stream([0, 5, 2, 7])))
        let text = try StreamDiff(a, b).text()
        #expect(
            text == """
                ram: a: 1 page differs: 0x0000000000001000-0x0000000000001fff
                ram: a: 1 page differs: 0x0000000000003000-0x0000000000003fff
                0 differences in 0 sections, 2 RAM blocks differ

                """)
        #expect(try StreamDiff(a, a).isEqual)
    }
}
