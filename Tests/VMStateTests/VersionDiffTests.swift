import Testing
import VMState
import VMStateAnalysis

#if canImport(Glibc)
    import Glibc
#endif

/// `vmstate diff` of two streams across QEMU versions: sections are matched by idstr and
/// instance id, not by section id (RAM is section 2 in QEMU 7.2's pc streams and 1 in 10.0's,
/// and the devices come in another order). The expected outputs are in Tests/Fixtures/diff.
@Suite struct VersionDiffTests {
    static let bios72 = TestPaths.qemuFixtures + "/pc-bios/stream.bin"
    static let bios10 = TestPaths.qemu10Fixtures + "/pc-bios/stream.bin"
    static let live10 = TestPaths.qemu10Fixtures + "/pc-live/stream.bin"
    static let expected = TestPaths.packageRoot + "/Tests/Fixtures/diff"

    static func read(_ path: String) throws -> StreamAnalysis {
        try StreamAnalysis(path: path, options: .init(recordPages: true))
    }

    /// A diff made with its differences on disk (`differencesOnDisk`, the tool's) holds none,
    /// and prints the same text and JSON as one that holds them, read back from the file.
    @Test func differencesOnDiskPrintAsHeld() throws {
        let a = try Self.read(Self.bios72), b = try Self.read(Self.bios10)
        let held = try StreamDiff(a, b)
        var options = StreamDiff.Options()
        options.differencesOnDisk = true
        let spilled = try StreamDiff(a, b, options: options)
        #expect(held.differences.count == 24)
        #expect(spilled.differences.isEmpty)
        #expect(spilled.differenceCount == 24)
        #expect(!spilled.isEqual)
        let text = try TestPaths.readText(Self.expected + "/qemu-7.2-pc-bios--qemu-10.0-pc-bios.txt")
        #expect(spilled.text() == text)
        var pieces: [String] = []
        try spilled.writeText { pieces.append($0) }
        #expect(pieces == [text])
        var heldJSON = JSONTextWriter(format: .python)
        try held.writeJSON(to: &heldJSON)
        var spilledJSON = JSONTextWriter(format: .python)
        try spilled.writeJSON(to: &spilledJSON)
        #expect(spilledJSON.text == heldJSON.text)
        #expect(spilledJSON.text == held.json.formatted(.python))
        // Equal streams: none held, none on disk.
        let same = try StreamDiff(a, a, options: options)
        #expect(same.isEqual && same.differenceCount == 0)
        #expect(same.text() == "streams are equal\n")
    }

    /// The differences on disk come back as they went in: values one side lacks, occurrences,
    /// text that is not ASCII, empty and long strings (records longer than the 64 KiB the
    /// file is read by, and records across its reads).
    @Test func differenceSpillKeepsEveryPart() throws {
        let spill = DifferenceSpill()
        var expected: [StreamDifference] = [
            StreamDifference(section: "cpu", instance: 3, field: "env.eip", kind: .changed, a: "0x01", b: "0x02"),
            StreamDifference(section: "", instance: 0, field: "", kind: .onlyInA, a: "", b: nil),
            StreamDifference(
                section: "slirp", instance: UInt32.max, field: "f", kind: .onlyInB, a: nil, b: "x", occurrence: 2),
            StreamDifference(section: "dev/é\u{1F600}", instance: 1, field: "s", kind: .version, a: nil, b: nil),
            StreamDifference(
                section: "big", instance: 7, field: String(repeating: "p", count: 200_000), kind: .changed,
                a: String(repeating: "a", count: 70_000), b: "b", occurrence: Int(Int32.max) + 5),
        ]
        for i in 0..<5000 {
            expected.append(
                StreamDifference(
                    section: "dev", instance: UInt32(i), field: "arr[\(i)]", kind: .changed, a: "0x11",
                    b: String(repeating: "b", count: i % 97)))
        }
        for d in expected { spill.append(d) }
        #expect(spill.count == expected.count)
        var read: [StreamDifference] = []
        try spill.forEach { read.append($0) }
        #expect(read == expected)
        // Read again: the same.
        var again = 0
        try spill.forEach { d in
            if d == expected[again] { again += 1 }
        }
        #expect(again == expected.count)
    }

    @Test func qemu72StreamAgainstQEMU10Stream() throws {
        let a = try Self.read(Self.bios72), b = try Self.read(Self.bios10)
        // Section ids and order differ ...
        #expect(a.sections.first { $0.name == "ram" }?.sectionID == 2)
        #expect(b.sections.first { $0.name == "ram" }?.sectionID == 1)
        #expect(a.sections.map(\.name) != b.sections.map(\.name))
        #expect(Set(a.sections.map(\.name)) == Set(b.sections.map(\.name)))
        // ... and every section is matched: no section is reported as one side's only.
        let diff = try StreamDiff(a, b)
        #expect(diff.differences.allSatisfy { !$0.field.isEmpty })
        #expect(
            diff.text() == (try TestPaths.readText(Self.expected + "/qemu-7.2-pc-bios--qemu-10.0-pc-bios.txt")))
        #expect(diff.text().hasSuffix("24 differences in 7 sections, 5 RAM blocks differ\n"))
        // globalstate's runstate buffer: 100 bytes in QEMU 7.2, 32 in 10.0, the 32 both have
        // equal ("paused" and zeros): its lengths, and no differing byte.
        #expect(
            diff.differences.filter { $0.section == "globalstate" && $0.field.hasPrefix("runstate") } == [
                StreamDifference(
                    section: "globalstate", instance: 0, field: "runstate (length)", kind: .changed, a: "100 bytes",
                    b: "32 bytes")
            ])
        // The machine types of the configuration sections come first.
        #expect(
            diff.differences.first
                == StreamDifference(
                    section: "configuration", instance: 0, field: "machine type", kind: .changed, a: "pc-i440fx-7.2",
                    b: "pc-i440fx-10.0"))
        // What QEMU 10.0 changed in these devices' state.
        #expect(
            diff.differences.filter { $0.kind != .changed } == [
                StreamDifference(
                    section: "hpet", instance: 0, field: "num_timers", kind: .onlyInA, a: "0x03", b: nil),
                StreamDifference(
                    section: "hpet", instance: 0, field: "num_timers_save", kind: .onlyInB, a: nil, b: "0x03"),
                StreamDifference(
                    section: "globalstate", instance: 0, field: "has_vm_was_suspended", kind: .onlyInB, a: nil,
                    b: "0x01"),
                StreamDifference(
                    section: "globalstate", instance: 0, field: "vm_was_suspended", kind: .onlyInB, a: nil,
                    b: "0x00"),
                StreamDifference(
                    section: "globalstate", instance: 0, field: "unused", kind: .onlyInB, a: nil,
                    b:
                        "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 ... (66 bytes)"
                ),
            ])
        // Both orders give the same differences, A and B swapped.
        let back = try StreamDiff(b, a)
        #expect(back.differences.count == 24 && back.ram.count == 5)
    }

    @Test func twoQEMU10Streams() throws {
        // The same machine stopped after its firmware ran, and migrated live.
        let diff = try StreamDiff(try Self.read(Self.bios10), try Self.read(Self.live10))
        #expect(
            diff.text() == (try TestPaths.readText(Self.expected + "/qemu-10.0-pc-bios--qemu-10.0-pc-live.txt")))
        #expect(
            diff.ram == [
                RAMBlockDifference(
                    block: "pc.ram", lengthA: 0x100_0000, lengthB: 0x100_0000,
                    pageRanges: [0...0, 0x6000...0x6000, 0xE8000...0xE8000, 0xFA6000...0xFA7000, 0xFBF000...0xFBF000],
                    pageCount: 6)
            ])
    }

    /// Buffers of two lengths past the run limit: the runs left over are counted within the bytes
    /// both have. QEMU 7.2's globalstate `runstate` (100 bytes) against QEMU 10.0's (32 bytes),
    /// two bytes of the 32 both have changed in A, one run listed (and the one
    /// left said in the singular).
    @Test func buffersOfTwoLengthsCountTheRunsLeftWithinTheBytesBothHave() throws {
        let a = try Self.read(Self.bios72)
        guard let global = a.sections.first(where: { $0.name == "globalstate" }),
            case .device(let record) = global.content,
            let runstate = record.members.first(where: { $0.name == "runstate" })
        else {
            Issue.record("no globalstate runstate")
            return
        }
        var data = try TestPaths.readBytes(Self.bios72)
        for i in [8, 16] { data[runstate.offset + i] ^= 0xFF }
        let changed = try StreamAnalysis(bytes: StreamBytes(data), options: .init(recordPages: true))
        let diff = try StreamDiff(changed, try Self.read(Self.bios10), options: .init(maxByteRuns: 1))
        #expect(
            diff.differences.filter { $0.section == "globalstate" && $0.field.hasPrefix("runstate") } == [
                StreamDifference(
                    section: "globalstate", instance: 0, field: "runstate (length)", kind: .changed, a: "100 bytes",
                    b: "32 bytes"),
                StreamDifference(
                    section: "globalstate", instance: 0, field: "runstate byte 0x8", kind: .changed, a: "ff", b: "00"),
                StreamDifference(
                    section: "globalstate", instance: 0, field: "runstate (1 more run)", kind: .changed,
                    a: "1 more differing byte of the 32 both have", b: "1 more differing byte of the 32 both have"),
            ])
    }
}

@Suite(.enabled(if: Tool.path != nil, "the vmstate executable is not built next to the tests"))
struct VersionDiffCLITests {
    @Test func diffAcrossVersions() throws {
        let r = try Tool.run(["diff", VersionDiffTests.bios72, VersionDiffTests.bios10])
        #expect(r.status == 1)
        #expect(
            r.stdout
                == (try TestPaths.readText(VersionDiffTests.expected + "/qemu-7.2-pc-bios--qemu-10.0-pc-bios.txt")))
        let same = try Tool.run(["diff", VersionDiffTests.bios10, VersionDiffTests.live10])
        #expect(same.status == 1)
        #expect(
            same.stdout
                == (try TestPaths.readText(VersionDiffTests.expected + "/qemu-10.0-pc-bios--qemu-10.0-pc-live.txt")))
    }
}

/// `vmstate diff` of two 512 MiB streams in a child process whose address space is limited to
/// 256 MiB (`ulimit -v`, as AnalyzeLargeStreamTests): RAM pages are read one at a time, so
/// nothing maps a whole stream (which a 256 MiB address space cannot hold).
@Suite(.enabled(if: Tool.path != nil, "the vmstate executable is not built next to the tests"))
struct DiffLargeStreamTests {
    /// 0x2000_0000 bytes of RAM in one block "pc.ram": 0x20000 PAGE records of 4 KiB, each page
    /// filled with 0xa5 except the page at `changedPage`, filled with 0x5a.
    static func writeStream(_ path: String, changedPage: Int?) throws -> Int {
        let blockLength: UInt64 = 0x2000_0000
        let pageCount = Int(blockLength / 4096)
        let out = try GeneratedStreamWriter(path: path, blockLength: blockLength)
        // The pages, 256 at a time (the first names the block).
        let perChunk = 256
        var page = 0
        while page < pageCount {
            var chunk = [UInt8]()
            chunk.reserveCapacity(perChunk * 4111)
            for p in page..<min(page + perChunk, pageCount) {
                let fill: UInt8 = p == changedPage ? 0x5a : 0xa5
                if p == 0 {
                    chunk += GeneratedStreamWriter.be64(0x08) + out.blockName
                } else {
                    chunk += GeneratedStreamWriter.be64(UInt64(p) * 4096 | 0x28)  // PAGE | CONTINUE
                }
                chunk += [UInt8](repeating: fill, count: 4096)
            }
            try out.put(chunk)
            page += perChunk
        }
        return try out.finish()
    }

    @Test func diffTwo512MiBStreamsIn256MiBOfAddressSpace() throws {
        let a = scratchStreamPath("vmstate-diff-large-a"), b = scratchStreamPath("vmstate-diff-large-b")
        defer {
            unlink(a)
            unlink(b)
        }
        // 8 + 17 + 31 + 5 + (4111 + 0x1ffff × 4104) + 8 + 13 + 6 + 34 bytes.
        #expect(try Self.writeStream(a, changedPage: nil) == 537_919_617)
        #expect(try Self.writeStream(b, changedPage: 0x1234) == 537_919_617)
        let same = try AnalyzeLargeStreamTests.runLimited(kib: 256 << 10, ["diff", a, a])
        #expect(same.status == 0)
        #expect(same.stderr.isEmpty)
        #expect(same.stdout == "streams are equal\n")
        let different = try AnalyzeLargeStreamTests.runLimited(kib: 256 << 10, ["diff", a, b])
        #expect(different.status == 1)
        #expect(different.stderr.isEmpty)
        #expect(
            different.stdout == """
                ram: pc.ram: 1 page differs: 0x0000000001234000-0x0000000001234fff
                0 differences in 0 sections, 1 RAM block differs

                """)
    }
}

extension DiffLargeStreamTests {
    /// A mapped-ram stream (QEMU 9.0+, capability mapped-ram, docs/FORMAT.md §9) of one RAM
    /// block "pc.ram" of 0x1_4000_0000 bytes (5 GiB) whose bitmap marks every one of its
    /// 0x140000 pages present: a guest whose memory is all data pages. The page region is left
    /// a hole (read as zeros), except the pages numbered in `changed`, filled with 0x5a: the
    /// file is 5,368,877,117 bytes long and takes a few hundred KiB of disk. Layout: header;
    /// configuration (machine type "pc-i440fx-7.2", subsection configuration/capabilities
    /// listing mapped-ram); RAM START (section id 2) with MEM_SIZE, the block and its mapped-ram
    /// header (version 1, page size 4096, bitmap at 0x5a + 51 = 0x8d, pages at 0x29000, the
    /// bitmap's 0x28000 bytes rounded up to a page); after the pages, EOS; RAM END; EOF; a vmdesc
    /// with no devices.
    static func writeSparseMappedRAMStream(_ path: String, changed: [Int]) throws -> Int {
        let length: UInt64 = 0x1_4000_0000
        let pages = Int(length / 4096)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StreamFileError(path: path, operation: "open", reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        func put(_ bytes: [UInt8], at offset: Int) throws {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, off_t(offset)) }
            guard n == bytes.count else {
                throw StreamFileError(path: path, operation: "write", reason: String(cString: strerror(errno)))
            }
        }
        typealias W = GeneratedStreamWriter
        let machine = Array("pc-i440fx-7.2".utf8), caps = Array("configuration/capabilities".utf8)
        var head = Array("QEVM".utf8) + W.be32(3)
        head += [0x07] + W.be32(UInt32(machine.count)) + machine
        head += [0x05, UInt8(caps.count)] + caps + W.be32(1) + W.be32(1) + [10] + Array("mapped-ram".utf8)
        head += [0x01] + W.be32(2) + [3] + Array("ram".utf8) + W.be32(0) + W.be32(4)
        #expect(head.count == 0x5a)
        let bitmapOffset = head.count + 8 + 7 + 8 + 28
        let bitmapLength = (pages + 63) / 64 * 8
        let pagesOffset = (bitmapOffset + bitmapLength + 4095) / 4096 * 4096
        head += W.be64(length | 0x04) + [6] + Array("pc.ram".utf8) + W.be64(length)
        head += W.be32(1) + W.be64(4096) + W.be64(UInt64(bitmapOffset)) + W.be64(UInt64(pagesOffset))
        head += [UInt8](repeating: 0xff, count: bitmapLength)
        try put(head, at: 0)
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        let tail = W.be64(0x10) + [0x03] + W.be32(2) + W.be64(0x10) + [0x00, 0x06] + W.be32(UInt32(json.count)) + json
        let end = pagesOffset + Int(length)
        try put(tail, at: end)
        for p in changed { try put([UInt8](repeating: 0x5a, count: 4096), at: pagesOffset + p * 4096) }
        return end + tail.count
    }

    /// Runs `vmstate ARGS` under `ulimit -v` 256 MiB (`runStreaming`), stdout collected.
    static func runMeasured(_ args: [String]) throws -> (AnalyzeLargeStreamTests.StreamingResult, String) {
        var out: [UInt8] = []
        let r = try AnalyzeLargeStreamTests.runStreaming(kib: 256 << 10, args) { chunk in
            out += chunk
            return true
        }
        return (r, String(decoding: out, as: UTF8.self))
    }

    /// Two 5 GiB guests' streams (past 4 GiB: 32-bit offsets and counts would wrap) of
    /// 1,310,720 data pages each, compared in 64 MiB of resident memory under a 256 MiB
    /// address space: each stream's pages go to a sorted index in a temporary file, not to
    /// memory (the tool once held every page record and a dictionary of them: 246 MB, and
    /// under the limit a crash, "failed to allocate"). Output as for small streams.
    @Test func diffTwoStreamsPast4GiBInBoundedMemory() throws {
        let a = scratchStreamPath("vmstate-diff-sparse-a"), b = scratchStreamPath("vmstate-diff-sparse-b")
        defer {
            unlink(a)
            unlink(b)
        }
        #expect(try Self.writeSparseMappedRAMStream(a, changed: []) == 5_368_877_117)
        #expect(
            try Self.writeSparseMappedRAMStream(b, changed: [0x10, 0x11, 0x12, 0x10_0000, 0x13_ffff]) == 5_368_877_117)

        let (same, sameText) = try Self.runMeasured(["diff", a, a])
        #expect(same.status == 0)
        #expect(same.stderr.isEmpty)
        #expect(sameText == "streams are equal\n")
        #expect(same.samples > 0 && same.maxRSSKiB < 64 << 10, "\(same.maxRSSKiB) KiB")

        let (different, text) = try Self.runMeasured(["diff", a, b])
        #expect(different.status == 1)
        #expect(different.stderr.isEmpty)
        #expect(
            text == """
                ram: pc.ram: 5 pages differ: 0x0000000000010000-0x0000000000012fff, 0x0000000100000000-0x0000000100000fff, 0x000000013ffff000-0x000000013fffffff
                0 differences in 0 sections, 1 RAM block differs

                """)
        #expect(different.samples > 0 && different.maxRSSKiB < 64 << 10, "\(different.maxRSSKiB) KiB")

        let (json, jsonText) = try Self.runMeasured(["diff", "--json", "--max-ranges", "1", b, a])
        #expect(json.status == 1)
        #expect(json.stderr.isEmpty)
        #expect(
            jsonText == """
                {
                    "sections": [],
                    "ram": [
                        {
                            "block": "pc.ram",
                            "length_a": "0x0000000140000000",
                            "length_b": "0x0000000140000000",
                            "pages": 5,
                            "ranges": [
                                [
                                    "0x0000000000010000",
                                    "0x0000000000012fff"
                                ],
                                [
                                    "0x0000000100000000",
                                    "0x0000000100000fff"
                                ],
                                [
                                    "0x000000013ffff000",
                                    "0x000000013fffffff"
                                ]
                            ]
                        }
                    ]
                }

                """)
        #expect(json.samples > 0 && json.maxRSSKiB < 64 << 10, "\(json.maxRSSKiB) KiB")
    }
}

/// `vmstate diff` of two `-dump-vmstate` files with QEMU 8.1+'s "num".
@Suite struct DescriptionNumDiffTests {
    static func set(_ name: String) throws -> DescriptionSet {
        try DescriptionSet(
            TestPaths.readJSON(TestPaths.packageRoot + "/Tests/Fixtures/compat/\(name).json"), label: name)
    }

    @Test func arrayLengthIsCompared() throws {
        let diff = StreamDiff(descriptions: try Self.set("tiny-num4"), try Self.set("tiny-num8"))
        #expect(
            diff.text() == """
                tiny-rtc: regs
                    A: x 4, 4 bytes
                    B: x 8, 4 bytes
                1 difference in 1 section

                """)
        // A dump without "num" (QEMU 7.2's) against one with: the element sizes alone.
        var noNum = try TestPaths.readJSON(TestPaths.packageRoot + "/Tests/Fixtures/compat/tiny-num8.json")
        CompatTests.edit(&noNum, [.key("tiny-rtc"), .key("Description"), .key("Fields"), .index(2)]) { v in
            if case .object(var o) = v { o["num"] = nil; v = .object(o) }
        }
        let mixed = StreamDiff(descriptions: try Self.set("tiny-num4"), try DescriptionSet(noNum, label: "B"))
        #expect(mixed.text() == "descriptions are equal\n")
    }
}
