import Foundation
import Testing
import VMState
import VMStateAnalysis

/// XBZRLE pages (capability xbzrle) where page contents are printed or compared: `--memory`,
/// `-x` and `diff` give what the page holds once its deltas are applied in stream order, as
/// QEMU's destination applies them (QEMU's script cannot read such a stream at all).
@Suite struct AnalyzeXBZRLETests {
    static func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
    static func be64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

    enum Record {
        case data(UInt64, [UInt8])
        case zero(UInt64)
        case xbzrle(UInt64, [UInt8])
        /// A compressed page (capability compress): its zlib bytes.
        case compressed(UInt64, [UInt8])
    }

    /// A stream with one RAM block "pc.ram" of 0x4000 bytes and `records` in one RAM section
    /// (the first names the block, the others CONTINUE), no devices.
    static func stream(_ records: [Record]) -> [UInt8] {
        let name: [UInt8] = [6] + Array("pc.ram".utf8)
        var s = Array("QEVM".utf8) + be32(3)
        s += [0x01] + be32(2) + [3] + Array("ram".utf8) + be32(0) + be32(4)
        s += be64(0x4000 | 0x04) + name + be64(0x4000)
        for (i, record) in records.enumerated() {
            let named = i == 0 ? name : []
            let cont: UInt64 = i == 0 ? 0 : 0x20
            switch record {
            case .data(let address, let page): s += be64(address | 0x08 | cont) + named + page
            case .zero(let address): s += be64(address | 0x02 | cont) + named + [0]
            case .xbzrle(let address, let delta):
                s +=
                    be64(address | 0x40 | cont) + named + [0x01] + [UInt8(delta.count >> 8), UInt8(delta.count & 0xFF)]
                    + delta
            case .compressed(let address, let zlib):
                s += be64(address | 0x100 | cont) + named + be32(UInt32(zlib.count)) + zlib
            }
        }
        s += be64(0x10)
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        s += [0x00, 0x06] + be32(UInt32(json.count)) + json
        return s
    }

    static func page(_ byte: UInt8, _ changes: [Int: UInt8] = [:]) -> [UInt8] {
        var p = [UInt8](repeating: byte, count: 4096)
        for (i, b) in changes { p[i] = b }
        return p
    }

    /// Pages sent whole, then as XBZRLE deltas (two in a row on one page, one over a zero
    /// page, one on a page never sent before, which applies to zeros), a zero page after a
    /// delta, and a page first sent last, then changed by a delta at once (which `-x` applies
    /// to the page it has not written out yet).
    static func records(lastChange: UInt8 = 0x09) -> [Record] {
        [
            .data(0x1000, page(0xAA)),
            .zero(0x2000),
            .xbzrle(0x1000, [0x04, 0x02, 0x01, 0x02]),  // bytes 4 and 5 := 01 02
            .xbzrle(0x2000, [0x00, 0x01, 0x7F]),  // byte 0 := 7F
            .xbzrle(0x1000, [0x05, 0x01, lastChange]),  // byte 5 := lastChange
            .xbzrle(0x3000, [0x01, 0x01, 0x33]),  // byte 1 := 33
            .zero(0x2000),
            .data(0x0000, page(0x55)),
            .xbzrle(0x0000, [0x00, 0x01, 0x66]),  // byte 0 := 66, right after the page
        ]
    }

    /// What the pages hold at the end.
    static let page1000 = page(0xAA, [4: 0x01, 5: 0x09])
    static let page3000 = page(0x00, [1: 0x33])
    static let page0000 = page(0x55, [0: 0x66])

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
    }

    /// What `--memory` prints for a stream of ``stream(_:)`` whose pages print as `entries`
    /// (the page's offset, four hex digits; its value), in that order.
    static func memoryJSON(_ entries: [(String, String)]) -> String {
        let lines = entries.map { "            \"pc.ram (0x000000000000\($0.0))\": \"\($0.1)\"" }
        return """
            {
                "ram (2)": {
                    "section sizes": {
                        "pc.ram": "0x0000000000004000"
                    },
                    "memory": {
            \(lines.joined(separator: ",\n"))
                    }
                }
            }
            """
    }

    static func analysis(_ bytes: [UInt8]) throws -> StreamAnalysis {
        try StreamAnalysis(bytes: StreamBytes(bytes), options: .init(recordPages: false))
    }

    @Test func recordsNameTheirHeader() throws {
        let bytes = Self.stream(Self.records())
        let a = try StreamAnalysis(bytes: StreamBytes(bytes))
        guard case .ram(let ram)? = a.sections.first?.content else {
            Issue.record("no RAM section")
            return
        }
        #expect(ram.pageCount == 9 && ram.dataPageCount == 2 && ram.xbzrlePageCount == 5 && ram.mayRepeatPages)
        // The first XBZRLE record: after the header (8), the section start (17), MEM_SIZE (8 + 7
        // + 8), the data page (8 + 7 + 4096) and the zero page (9), its word (8).
        let first = 8 + 17 + 23 + 4111 + 9 + 8
        let third = ram.pages[2]
        #expect(third.block == 0 && third.address == 0x1000 && third.content == .xbzrle(offset: first))
        #expect(Array(bytes[first..<first + 3]) == [0x01, 0x00, 0x04])
    }

    @Test(arguments: [nil, 1, 3] as [Int?])
    func memoryPrintsThePagesAsTheyDecode(chunk: Int?) throws {
        let a = try Self.analysis(Self.stream(Self.records()))
        #expect(
            try AnalyzeMemoryTests.memoryText(a, chunk: chunk)
                == Self.memoryJSON([
                    ("1000", Self.hex(Self.page1000)), ("2000", "Filled with 0x00"), ("3000", Self.hex(Self.page3000)),
                    ("0000", Self.hex(Self.page0000)),
                ]))
    }

    /// Two RAM sections (QEMU writes one; the script prints each), whose records `--memory`
    /// sorts out by section first: each section's XBZRLE pages decode over that section's pages.
    @Test func severalRAMSections() throws {
        func named(_ b: String) -> [UInt8] { [UInt8(b.utf8.count)] + Array(b.utf8) }
        func start(_ id: UInt32, _ block: String) -> [UInt8] {
            [0x01] + Self.be32(id) + [3] + Array("ram".utf8) + Self.be32(0) + Self.be32(4)
                + Self.be64(0x2000 | 0x04) + named(block) + Self.be64(0x2000)
        }
        func xbzrle(_ delta: [UInt8]) -> [UInt8] { [0x01, 0x00, UInt8(delta.count)] + delta }
        let eos = Self.be64(0x10)
        var s = Array("QEVM".utf8) + Self.be32(3)
        s += start(2, "pc.ram") + Self.be64(0x08) + named("pc.ram") + Self.page(0x11) + eos
        s += start(5, "vga") + Self.be64(0x1000 | 0x08) + named("vga") + Self.page(0x22) + eos
        s += [0x02] + Self.be32(2) + Self.be64(0x40) + named("pc.ram") + xbzrle([3, 1, 0x99]) + eos
        s += [0x02] + Self.be32(5) + Self.be64(0x1000 | 0x40) + named("vga") + xbzrle([0, 1, 0x77])
        s += Self.be64(0x40 | 0x20) + xbzrle([1, 1, 0x55]) + eos
        s += [0x03] + Self.be32(2) + eos + [0x03] + Self.be32(5) + eos
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        s += [0x00, 0x06] + Self.be32(UInt32(json.count)) + json
        #expect(
            try AnalyzeMemoryTests.memoryText(Self.analysis(s)) == """
                {
                    "ram (2)": {
                        "section sizes": {
                            "pc.ram": "0x0000000000002000"
                        },
                        "memory": {
                            "pc.ram (0x0000000000000000)": "\(Self.hex(Self.page(0x11, [3: 0x99])))"
                        }
                    },
                    "ram (5)": {
                        "section sizes": {
                            "vga": "0x0000000000002000"
                        },
                        "memory": {
                            "vga (0x0000000000001000)": "\(Self.hex(Self.page(0x22, [0: 0x77])))",
                            "vga (0x0000000000000000)": "\(Self.hex(Self.page(0x00, [1: 0x55])))"
                        }
                    }
                }
                """)
    }

    @Test func extractWritesThePagesAsTheyDecode() throws {
        let a = try Self.analysis(Self.stream(Self.records()))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-xbzrle-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try a.extractRAM(into: dir.path)
        let ram = try [UInt8](Data(contentsOf: dir.appendingPathComponent("pc.ram")))
        #expect(ram == Self.page0000 + Self.page1000 + Self.page(0) + Self.page3000)
    }

    /// Against a stream that sends the final pages whole: the same; against one whose last
    /// delta differs by a byte: that page only, whichever side has the deltas.
    @Test func diffComparesThePagesAsTheyDecode() throws {
        let xbzrle = try Self.analysis(Self.stream(Self.records()))
        let whole = try Self.analysis(
            Self.stream([
                .data(0, Self.page0000), .data(0x1000, Self.page1000), .zero(0x2000), .data(0x3000, Self.page3000),
            ]))
        let other = try Self.analysis(Self.stream(Self.records(lastChange: 0x0A)))
        #expect(try StreamDiff(xbzrle, whole).isEqual)
        #expect(try StreamDiff(whole, xbzrle).isEqual)
        #expect(try StreamDiff(xbzrle, xbzrle).isEqual)
        for (a, b) in [(xbzrle, other), (other, whole)] {
            let diff = try StreamDiff(a, b)
            #expect(diff.differences.isEmpty)
            #expect(
                diff.ram == [
                    RAMBlockDifference(
                        block: "pc.ram", lengthA: 0x4000, lengthB: 0x4000, pageRanges: [0x1000...0x1000], rangeCount: 1,
                        pageCount: 1)
                ])
        }
    }

    /// QEMU 10.0 migrating a guest that writes its RAM all the time, with capability xbzrle
    /// (63,173 XBZRLE pages; Tests/Fixtures/README.md): the RAM `-x` writes and the pages
    /// `--memory` prints are the stopped source's RAM (its `pmemsave`), byte for byte.
    @Test func aLiveMigrationByQEMU10() throws {
        let (a, ram, expected) = try Self.liveFixture(TestPaths.qemu10Fixtures + "/xbzrle-live")
        #expect(ram.xbzrlePageCount == 63_173)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-xbzrle-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try a.extractRAM(into: out.path)
        #expect(try sha256(out.appendingPathComponent("pc.ram").path) == expected)
        let (image, pages) = try Self.memoryImage(a, block: "pc.ram", size: 16 << 20)
        #expect(pages == 4096)
        #expect(sha256(of: image) == expected)
    }

    /// A live-migration fixture folder's stream analyzed (pages not recorded), its RAM section,
    /// and the SHA-256 of the guest RAM in its `guest-ram.sha256`.
    static func liveFixture(_ dir: String) throws -> (StreamAnalysis, RAMSection, String) {
        let expected = String(try String(contentsOfFile: dir + "/guest-ram.sha256", encoding: .utf8).prefix(64))
        let a = try StreamAnalysis(
            bytes: try StreamBytes(contentsOfFile: dir + "/stream.bin"), options: .init(recordPages: false))
        guard case .ram(let ram)? = a.sections.first(where: { $0.name == "ram" })?.content else {
            throw StreamAnalysisError(offset: 0, message: "no RAM section in \(dir)")
        }
        return (a, ram, expected)
    }

    /// A block's RAM put together from the pages `--memory` prints (`writeState(memory:)`), and
    /// how many it printed; pages it does not print hold 0xEE.
    static func memoryImage(_ a: StreamAnalysis, block: String, size: Int) throws -> ([UInt8], Int) {
        var image = [UInt8](repeating: 0xEE, count: size)
        var pages = 0
        let prefix = "\"\(block) (0x"
        for line in try AnalyzeMemoryTests.memoryText(a).split(separator: "\n") {
            let l = line.drop { $0 == " " }
            guard l.hasPrefix(prefix), let address = Int(l.dropFirst(prefix.count).prefix(16), radix: 16) else {
                continue
            }
            let value = l.drop { $0 != ":" }.dropFirst(3).prefix { $0 != "\"" }
            let bytes: [UInt8] =
                value.hasPrefix("Filled with 0x")
                ? [UInt8](repeating: UInt8(value.suffix(2), radix: 16)!, count: 4096)
                : value.split(separator: " ").map { UInt8($0, radix: 16)! }
            try #require(bytes.count == 4096 && address + 4096 <= image.count)
            image.replaceSubrange(address..<address + 4096, with: bytes)
            pages += 1
        }
        return (image, pages)
    }

    /// The tool: `analyze --memory`, `-x` and `diff` read such a stream (exit 0).
    @Test(.enabled(if: Tool.path != nil)) func theToolReadsIt() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-xbzrle-\(UUID().uuidString)")
        let other = file.appendingPathExtension("other")
        defer {
            try? FileManager.default.removeItem(at: file)
            try? FileManager.default.removeItem(at: other)
        }
        try Data(Self.stream(Self.records())).write(to: file)
        try Data(Self.stream(Self.records(lastChange: 0x0A))).write(to: other)
        let memory = try Tool.run(["analyze", "--memory", file.path])
        #expect(memory.status == 0 && memory.stderr.isEmpty, "\(memory.stderr)")
        #expect(memory.stdout.contains("\"pc.ram (0x0000000000003000)\": \"\(Self.hex(Self.page3000))\""))
        let same = try Tool.run(["diff", file.path, file.path])
        #expect(same.status == 0, "\(same.stderr)")
        let differ = try Tool.run(["diff", file.path, other.path])
        #expect(differ.status == 1, "\(differ.stderr)")
        #expect(differ.stdout.contains("pc.ram"))
    }
}
