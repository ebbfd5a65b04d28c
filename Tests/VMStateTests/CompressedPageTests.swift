import CGLib
import Foundation
import Testing
import VMState
import VMStateAnalysis

/// Compressed pages (capability compress, QEMU 7.2 to 9.0: flag 0x100, be32 length, a zlib
/// stream of one page): inflated by the analyzer (`--memory`, `-x`, `diff`, checked in every
/// reading) and by the registry's load, as QEMU's destination inflates them. QEMU's script
/// cannot read such a stream ("Unknown RAM flags: 120").
@Suite struct CompressedPageTests {
    typealias Streams = AnalyzeXBZRLETests

    /// What zlib's `compress` (level 6, as Python's zlib.compress and QEMU's default
    /// compress-level) makes of a page of 0xAB bytes: 28 bytes.
    static let pageAB: [UInt8] = [
        0x78, 0x9C, 0xED, 0xC1, 0x01, 0x0D, 0x00, 0x00, 0x00, 0xC2, 0xA0, 0xFE, 0x59, 0x5E, 0xD2, 0x1E, 0x0E, 0x28,
        0x00, 0x00, 0x00, 0xE0, 0xDD, 0x00, 0x6B, 0x16, 0xB0, 0x97,
    ]
    /// The same for 4,095 and 4,097 bytes of 0xAB: a page short, a byte too long.
    static let shortAB: [UInt8] = [
        0x78, 0x9C, 0xED, 0xC1, 0x01, 0x0D, 0x00, 0x00, 0x00, 0xC2, 0xA0, 0xFE, 0x59, 0x5E, 0xD2, 0x1E, 0x0E, 0x28,
        0x00, 0x00, 0x00, 0xE0, 0xDC, 0x00, 0xBA, 0x70, 0xAF, 0xEC,
    ]
    static let longAB: [UInt8] = [
        0x78, 0x9C, 0xED, 0xC1, 0x01, 0x0D, 0x00, 0x00, 0x00, 0xC2, 0xA0, 0xFE, 0x59, 0x5E, 0xD2, 0x1E, 0x0E, 0x28,
        0x00, 0x00, 0x00, 0xE0, 0xDE, 0x00, 0x1C, 0x67, 0xB1, 0x42,
    ]
    static let ab = [UInt8](repeating: 0xAB, count: 4096)
    /// A page of bytes 0, 1, ..., 255, 0, 1, ...
    static let counting = (0..<4096).map { UInt8(truncatingIfNeeded: $0) }

    /// `bytes` deflated by GIO's zlib compressor (zlib format, default level).
    static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        let compressor = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_ZLIB, -1)
        defer { g_object_unref(UnsafeMutableRawPointer(compressor)) }
        var out = [UInt8](repeating: 0, count: 2 * bytes.count + 64)
        var read: gsize = 0
        var written: gsize = 0
        let result = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                g_converter_convert(
                    compressor, input.baseAddress, gsize(input.count), output.baseAddress, gsize(output.count),
                    G_CONVERTER_INPUT_AT_END, &read, &written, nil)
            }
        }
        precondition(result == G_CONVERTER_FINISHED && Int(read) == bytes.count)
        return Array(out[0..<Int(written)])
    }

    @Test func theInflaterTakesOneWholePage() {
        let inflater = PageInflater()
        var page = [UInt8](repeating: 0, count: 4096)
        func inflate(_ source: [UInt8]) -> PageInflater.Inflated {
            source.withUnsafeBytes { s in page.withUnsafeMutableBytes { inflater.inflate(s, into: $0) } }
        }
        #expect(inflate(Self.pageAB) == .page && page == Self.ab)
        // Bytes after the stream's end are ignored, as QEMU's destination ignores them.
        page = [UInt8](repeating: 0, count: 4096)
        #expect(inflate(Self.pageAB + [0xFF, 0x00, 0x13]) == .page && page == Self.ab)
        #expect(inflate(Self.shortAB) == .short(4095))
        // Two streams of half a page: the first one counts.
        let half = Self.deflate(Array(Self.counting.prefix(2048)))
        #expect(inflate(half + half) == .short(2048))
        #expect(inflate(Self.longAB) == .fault)
        #expect(inflate(Array(Self.pageAB.prefix(20))) == .fault)
        #expect(inflate([]) == .fault)
        #expect(inflate([0x78, 0x9C, 0xFF, 0xFF, 0x00]) == .fault)
        #expect(inflate(Self.deflate(Self.counting + Self.counting)) == .fault)
        // A failure leaves nothing behind for the next page.
        #expect(inflate(Self.deflate(Self.counting)) == .page && page == Self.counting)
    }

    @Test func theHeaderIsALengthUpToCompressBound() {
        #expect(CompressedPageHeader.compressBound(4096) == 4110)
        #expect(CompressedPageHeader(length: 4110).fault(pageSize: 4096) == nil)
        #expect(CompressedPageHeader(length: 4111).fault(pageSize: 4096) == .length)
        #expect(CompressedPageFault.length.qemuMessage(length: 4111) == "Invalid compressed data length: 4111")
        // QEMU reads the length into an int.
        #expect(CompressedPageFault.length.qemuMessage(length: 0xFFFF_FFFF) == "Invalid compressed data length: -1")
        let decoded = ([0x00, 0x00, 0x10, 0x0E, 0x78] as [UInt8]).withUnsafeBytes {
            CompressedPageHeader.Decoder().decode($0)
        }
        guard case .record(let header, let size) = decoded else {
            Issue.record("\(decoded)")
            return
        }
        #expect(header.length == 4110 && size == 4)
    }

    /// Pages sent once, in order: `--memory` prints each as its record is read, inflated.
    static let inOrder: [Streams.Record] = [
        .compressed(0x0000, deflate(counting)), .data(0x1000, Streams.page(0x11)), .zero(0x2000),
        .compressed(0x3000, pageAB),
    ]
    /// Pages sent again: a compressed page changed by an XBZRLE delta, a whole page then sent
    /// compressed, a zero page then sent compressed.
    static let resent: [Streams.Record] = [
        .compressed(0x1000, pageAB),
        .xbzrle(0x1000, [0x00, 0x01, 0x7F]),  // byte 0 := 7F
        .data(0x0000, Streams.page(0x55)),
        .compressed(0x0000, deflate(counting)),
        .zero(0x2000),
        .compressed(0x2000, pageAB),
    ]

    @Test func recordsNameTheirHeader() throws {
        let bytes = Streams.stream(Self.inOrder)
        let a = try StreamAnalysis(bytes: StreamBytes(bytes))
        guard case .ram(let ram)? = a.sections.first?.content else {
            Issue.record("no RAM section")
            return
        }
        #expect(ram.pageCount == 4 && ram.dataPageCount == 3 && ram.compressedPageCount == 2 && !ram.mayRepeatPages)
        // After the header (8), the section start (17), MEM_SIZE (8 + 7 + 8) and the word (8).
        let first = 8 + 17 + 23 + 8 + 7
        #expect(ram.pages[0].content == .compressed(offset: first))
        #expect(Array(bytes[first..<first + 6]) == [0x00, 0x00, 0x01, 0x3B, 0x78, 0x9C])
        let tree = try TreeView().text(a)
        #expect(tree.contains("pages: 4 records, 3 with data (2 compressed), 1 filled"), "\(tree)")
    }

    @Test(arguments: [nil, 1, 2] as [Int?])
    func memoryPrintsThePagesInflated(chunk: Int?) throws {
        let hex = Streams.hex
        for (records, expected) in [
            (
                Self.inOrder,
                [
                    ("0000", hex(Self.counting)), ("1000", hex(Streams.page(0x11))), ("2000", "Filled with 0x00"),
                    ("3000", hex(Self.ab)),
                ]
            ),
            (
                Self.resent,
                [
                    ("1000", hex(Streams.page(0xAB, [0: 0x7F]))), ("0000", hex(Self.counting)),
                    ("2000", hex(Self.ab)),
                ]
            ),
        ] {
            let a = try Streams.analysis(Streams.stream(records))
            #expect(try AnalyzeMemoryTests.memoryText(a, chunk: chunk) == Streams.memoryJSON(expected))
        }
    }

    @Test func extractWritesThePagesInflated() throws {
        for (records, expected) in [
            (Self.inOrder, Self.counting + Streams.page(0x11) + Streams.page(0) + Self.ab),
            (Self.resent, Self.counting + Streams.page(0xAB, [0: 0x7F]) + Self.ab + Streams.page(0)),
        ] {
            let a = try Streams.analysis(Streams.stream(records))
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
                "vmstate-compress-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            try a.extractRAM(into: dir.path)
            #expect(try [UInt8](Data(contentsOf: dir.appendingPathComponent("pc.ram"))) == expected)
        }
    }

    /// Against the same pages sent whole: equal; a page that inflates to other bytes: that page.
    @Test func diffComparesThePagesInflated() throws {
        let compressed = try Streams.analysis(Streams.stream(Self.resent))
        let whole = try Streams.analysis(
            Streams.stream([
                .data(0, Self.counting), .data(0x1000, Streams.page(0xAB, [0: 0x7F])), .data(0x2000, Self.ab),
            ]))
        var changed = Self.counting
        changed[4095] = 0
        let other = try Streams.analysis(
            Streams.stream([
                .compressed(0x1000, Self.pageAB), .xbzrle(0x1000, [0x00, 0x01, 0x7F]),
                .compressed(0x0000, Self.deflate(changed)), .compressed(0x2000, Self.pageAB),
            ]))
        #expect(try StreamDiff(compressed, whole).isEqual)
        #expect(try StreamDiff(whole, compressed).isEqual)
        for (a, b) in [(compressed, other), (other, whole)] {
            let diff = try StreamDiff(a, b)
            #expect(
                diff.ram == [
                    RAMBlockDifference(
                        block: "pc.ram", lengthA: 0x4000, lengthB: 0x4000, pageRanges: [0x0000...0x0000],
                        rangeCount: 1, pageCount: 1)
                ])
        }
    }

    /// What QEMU's destination refuses, the analysis refuses in every reading, at the record's
    /// length (a length above compressBound) or its bytes (not a zlib stream of one page).
    @Test func recordsQEMURefusesAreRefused() throws {
        let at = 8 + 17 + 23 + 8 + 7
        let what = "the compressed page of RAM block \"pc.ram\" at 0x0000000000001000"
        for (zlib, offset, message) in [
            (
                [UInt8](repeating: 0, count: 4111), at,
                "\(what) is 4111 bytes long, more than zlib's compressBound of a page (4110) (QEMU: \"Invalid compressed data length: 4111\")"
            ),
            (
                Self.shortAB, at + 4,
                "\(what) inflates to 4095 bytes, not a page of 4096 (QEMU would keep the page's other bytes as they were; no QEMU source writes such a page)"
            ),
            (
                [0x78, 0x9C, 0x01], at + 4,
                "\(what) does not inflate into a page of 4096 bytes (its 3 bytes do not begin with one whole zlib stream, or it is longer than a page; QEMU: \"decompress data failed\")"
            ),
            (
                Self.longAB, at + 4,
                "\(what) does not inflate into a page of 4096 bytes (its 28 bytes do not begin with one whole zlib stream, or it is longer than a page; QEMU: \"decompress data failed\")"
            ),
        ] as [([UInt8], Int, String)] {
            let bytes = Streams.stream([.compressed(0x1000, zlib)])
            #expect(throws: StreamAnalysisError.self) { try StreamAnalysis(bytes: StreamBytes(bytes)) }
            do {
                _ = try StreamAnalysis(bytes: StreamBytes(bytes))
            } catch {
                #expect(
                    error.description
                        == "at byte offset \(offset) (0x\(String(offset, radix: 16))), section \"ram\" (section id 2, instance 0): \(message)"
                )
            }
        }
    }

    /// QEMU 7.2 live-migrating a guest that writes its RAM all the time, with capability
    /// compress (Tests/Fixtures/README.md): `-x`'s pc.ram and the pages `--memory` prints are the
    /// RAM a QEMU 7.2 destination loaded from the stream, byte for byte; so is the registry's RAM
    /// after loading it from a buffer and through streams of 7 and 4096 bytes a read.
    @Test func aLiveMigrationByQEMU72() throws {
        let dir = TestPaths.qemuFixtures + "/compress-live"
        let (a, ram, expected) = try Streams.liveFixture(dir)
        #expect(ram.pageCount == 4355 && ram.dataPageCount == 349 && ram.compressedPageCount == 344)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-compress-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try a.extractRAM(into: out.path)
        #expect(try sha256(out.appendingPathComponent("pc.ram").path) == expected)
        let (image, pages) = try Streams.memoryImage(a, block: "pc.ram", size: 16 << 20)
        #expect(pages == 4096 && sha256(of: image) == expected)

        let stream = try TestPaths.readBytes(dir + "/stream.bin")
        let shape = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        for chunk in [0, 7, 4096] {
            let machine = try StreamIOTests.FixtureMachine("pc-bios", stream: shape)
            try StreamIOTests.loadKeepingUnknown(machine.registry, stream, chunk: chunk)
            let pcRAM = try #require(machine.blocks.first { $0.0 == "pc.ram" })
            #expect(sha256(of: Array(UnsafeRawBufferPointer(start: pcRAM.1, count: pcRAM.2))) == expected)
        }
    }

    /// The tool: `--tree` counts the compressed pages; `--memory` and `diff` read them (exit 0).
    @Test(.enabled(if: Tool.path != nil)) func theToolReadsIt() throws {
        let file = TestPaths.qemuFixtures + "/compress-live/stream.bin"
        let tree = try Tool.run(["analyze", "--tree", file])
        #expect(
            tree.status == 0 && tree.stdout.contains("pages: 4355 records, 349 with data (344 compressed), 4006 filled")
        )
        let memory = try Tool.run(["analyze", "--memory", file])
        #expect(memory.status == 0 && memory.stderr.isEmpty, "\(memory.stderr)")
        let same = try Tool.run(["diff", file, file])
        #expect(same.status == 0, "\(same.stderr)")
    }
}
