import Testing
import VMState
import VMStateAnalysis

/// `analyze --memory`: pages printed as their records are read (a second pass over the stream,
/// no state per page), with Python dict semantics for a page sent twice (first position, last
/// contents), also when those are sorted out in many small runs.
@Suite struct AnalyzeMemoryTests {
    static func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
    static func be64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

    /// A QEMU 7.2-style stream with one RAM block "pc.ram" of 0x4000 bytes and seven page
    /// records in two passes (section START, PART, END), no devices:
    ///
    ///     pass 1: 0x1000 data 0x11 (names the block), 0x0000 zero, 0x2000 data 0x22
    ///     pass 2: 0x1000 data 0x33, 0x2000 zero, 0x3000 data 0x44, 0x0000 data 0x55
    static func twoPassStream() -> [UInt8] {
        let name: [UInt8] = [6] + Array("pc.ram".utf8)
        func data(_ address: UInt64, _ fill: UInt8, continued: Bool = true) -> [UInt8] {
            be64(address | 0x08 | (continued ? 0x20 : 0)) + (continued ? [] : name)
                + [UInt8](repeating: fill, count: 4096)
        }
        func zero(_ address: UInt64) -> [UInt8] { be64(address | 0x02 | 0x20) + [0] }
        var s = Array("QEVM".utf8) + be32(3)
        s += [0x01] + be32(2) + [3] + Array("ram".utf8) + be32(0) + be32(4)
        s += be64(0x4000 | 0x04) + name + be64(0x4000) + be64(0x10)
        s += [0x02] + be32(2) + data(0x1000, 0x11, continued: false) + zero(0) + data(0x2000, 0x22) + be64(0x10)
        s += [0x03] + be32(2) + data(0x1000, 0x33) + zero(0x2000) + data(0x3000, 0x44) + data(0, 0x55) + be64(0x10)
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        s += [0x00, 0x06] + be32(UInt32(json.count)) + json
        return s
    }

    static func hexPage(_ b: UInt8) -> String {
        let two = (b < 16 ? "0" : "") + String(b, radix: 16)
        return Array(repeating: two, count: 4096).joined(separator: " ")
    }

    static func memoryText(_ a: StreamAnalysis, chunk: Int? = nil) throws -> String {
        var w = JSONTextWriter(format: .python)
        if let chunk {
            try a.writeState(to: &w, memory: true, memorySortChunk: chunk)
        } else {
            try a.writeState(to: &w, memory: true)
        }
        return w.text
    }

    @Test(arguments: [nil, 1, 2, 3, 4, 5] as [Int?])
    func aPageSentTwiceKeepsItsFirstPlaceAndLastContents(chunk: Int?) throws {
        let a = try StreamAnalysis(bytes: StreamBytes(Self.twoPassStream()), options: .init(recordPages: false))
        guard case .ram(let ram) = a.sections.first?.content else {
            Issue.record("no RAM section")
            return
        }
        #expect(ram.pageCount == 7)
        #expect(ram.mayRepeatPages)
        #expect(
            try Self.memoryText(a, chunk: chunk) == """
                {
                    "ram (2)": {
                        "section sizes": {
                            "pc.ram": "0x0000000000004000"
                        },
                        "memory": {
                            "pc.ram (0x0000000000001000)": "\(Self.hexPage(0x33))",
                            "pc.ram (0x0000000000000000)": "\(Self.hexPage(0x55))",
                            "pc.ram (0x0000000000002000)": "Filled with 0x00",
                            "pc.ram (0x0000000000003000)": "\(Self.hexPage(0x44))"
                        }
                    }
                }
                """)
    }

    /// A stream with two RAM sections (ids 2 and 5, each a "ram" SECTION_START of its own, as
    /// QEMU never writes but the script prints) whose parts alternate:
    ///
    ///     START 2 (pc.ram, 0x2000): 0x0000 data 0x11
    ///     START 5 (vga, 0x2000):    0x1000 data 0x22
    ///     PART 2:                   0x1000 zero, 0x0000 data 0x33
    ///     PART 5:                   0x0000 data 0x44
    ///     END 2, END 5
    static func twoSectionStream() -> [UInt8] {
        func named(_ block: String) -> [UInt8] { [UInt8(block.utf8.count)] + Array(block.utf8) }
        func data(_ address: UInt64, _ fill: UInt8, _ block: String? = nil) -> [UInt8] {
            be64(address | 0x08 | (block == nil ? 0x20 : 0)) + (block.map(named) ?? [])
                + [UInt8](repeating: fill, count: 4096)
        }
        func start(_ id: UInt32, _ block: String) -> [UInt8] {
            [0x01] + be32(id) + [3] + Array("ram".utf8) + be32(0) + be32(4) + be64(0x2000 | 0x04) + named(block)
                + be64(0x2000)
        }
        let eos = be64(0x10)
        var s = Array("QEVM".utf8) + be32(3)
        s += start(2, "pc.ram") + data(0, 0x11, "pc.ram") + eos
        s += start(5, "vga") + data(0x1000, 0x22, "vga") + eos
        s += [0x02] + be32(2) + be64(0x1000 | 0x02) + named("pc.ram") + [0] + data(0, 0x33) + eos
        s += [0x02] + be32(5) + data(0, 0x44, "vga") + eos
        s += [0x03] + be32(2) + eos + [0x03] + be32(5) + eos
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        s += [0x00, 0x06] + be32(UInt32(json.count)) + json
        return s
    }

    /// Several RAM sections: their pages sorted out by section in one pass over the stream, each
    /// section printing its own, with the dict semantics of each, whatever the sort's chunk.
    @Test(arguments: [nil, 1, 2] as [Int?])
    func eachOfSeveralRAMSectionsPrintsItsOwnPages(chunk: Int?) throws {
        let a = try StreamAnalysis(bytes: StreamBytes(Self.twoSectionStream()), options: .init(recordPages: false))
        #expect(a.sections.map(\.key) == ["ram (2)", "ram (5)"])
        #expect(
            try Self.memoryText(a, chunk: chunk) == """
                {
                    "ram (2)": {
                        "section sizes": {
                            "pc.ram": "0x0000000000002000"
                        },
                        "memory": {
                            "pc.ram (0x0000000000000000)": "\(Self.hexPage(0x33))",
                            "pc.ram (0x0000000000001000)": "Filled with 0x00"
                        }
                    },
                    "ram (5)": {
                        "section sizes": {
                            "vga": "0x0000000000002000"
                        },
                        "memory": {
                            "vga (0x0000000000001000)": "\(Self.hexPage(0x22))",
                            "vga (0x0000000000000000)": "\(Self.hexPage(0x44))"
                        }
                    }
                }
                """)
    }

    /// What the memory object must hold, computed the simple way from the recorded pages (a
    /// dictionary in memory, as analyze-migration.py builds it).
    static func expectedMemory(_ a: StreamAnalysis) throws -> JSONObject {
        guard case .ram(let ram)? = a.sections.first(where: { $0.name == "ram" })?.content else { return JSONObject() }
        var o = JSONObject()
        for p in ram.pages {
            let key =
                "\(ram.pageBlockNames[Int(p.block)]) (0x\(String(repeating: "0", count: 16 - String(p.address, radix: 16).count) + String(p.address, radix: 16)))"
            switch p.content {
            case .fill(let b):
                o[key] = .string("Filled with 0x" + (b < 16 ? "0" : "") + String(b, radix: 16))
            case .data(let offset):
                var w = JSONTextWriter()
                a.bytes.copyBytes(at: offset, count: a.pageSize).withUnsafeBytes { w.hexBytesString($0) }
                o[key] = try JSONValue(parsing: w.text)
            case .xbzrle, .compressed, .decoded:
                // (The fixture streams have no XBZRLE or compressed pages: AnalyzeXBZRLETests
                // and CompressedPageTests have them.)
                Issue.record("a page this oracle cannot print: \(p.content)")
            }
        }
        return o
    }

    static let fixtureStreams: [String] =
        ["pc-reset", "pc-bios", "pc-live", "pc-2.3", "x-ignore-shared"].map {
            TestPaths.qemuFixtures + "/\($0)/stream.bin"
        }
        + ["pc-live", "mapped-ram", "q35-bios"].map { TestPaths.qemu10Fixtures + "/\($0)/stream.bin" }

    /// Every fixture (the live-migration ones send a few pages twice): the memory object
    /// printed while reading equals the dictionary built from every recorded page.
    @Test(arguments: fixtureStreams)
    func memoryMatchesTheDictionaryOfAllPages(path: String) throws {
        let a = try StreamAnalysis(path: path, options: .init(recordPages: true))
        let json = try JSONValue(parsing: try Self.memoryText(a))
        let ramKey = try #require(a.sections.first { $0.name == "ram" }?.key)
        let memory = try #require(json[ramKey]?["memory"]?.objectValue)
        let expected = try Self.expectedMemory(a)
        #expect(memory.keys == expected.keys)
        #expect(memory == expected)
        guard case .ram(let ram)? = a.sections.first(where: { $0.name == "ram" })?.content else { return }
        // Only the live migrations send a page twice.
        #expect(ram.mayRepeatPages == (ram.pages.count != expected.count))
        #expect(ram.mayRepeatPages == path.contains("pc-live"))
    }

    /// The live migration sorted in chunks of 3, 1000 and 4225 records (many runs; of 3, merged
    /// in several rounds) prints what it prints sorted in chunks of the default size.
    @Test(arguments: [3, 1000, 4225])
    func smallSortChunksPrintWhatOneChunkPrints(chunk: Int) throws {
        let a = try StreamAnalysis(
            path: TestPaths.qemuFixtures + "/pc-live/stream.bin", options: .init(recordPages: false))
        #expect(try Self.memoryText(a, chunk: chunk) == (try Self.memoryText(a)))
    }
}
