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

    @Test func qemu72StreamAgainstQEMU10Stream() throws {
        let a = try Self.read(Self.bios72), b = try Self.read(Self.bios10)
        // Section ids and order differ ...
        #expect(a.sections.first { $0.name == "ram" }?.sectionID == 2)
        #expect(b.sections.first { $0.name == "ram" }?.sectionID == 1)
        #expect(a.sections.map(\.name) != b.sections.map(\.name))
        #expect(Set(a.sections.map(\.name)) == Set(b.sections.map(\.name)))
        // ... and every section is matched: no section is reported as one side's only.
        let diff = StreamDiff(a, b)
        #expect(diff.differences.allSatisfy { !$0.field.isEmpty })
        #expect(
            diff.text() == (try TestPaths.readText(Self.expected + "/qemu-7.2-pc-bios--qemu-10.0-pc-bios.txt")))
        #expect(diff.text().hasSuffix("24 differences in 7 sections, 5 RAM blocks differ\n"))
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
        let back = StreamDiff(b, a)
        #expect(back.differences.count == 24 && back.ram.count == 5)
    }

    @Test func twoQEMU10Streams() throws {
        // The same machine stopped after its firmware ran, and migrated live.
        let diff = StreamDiff(try Self.read(Self.bios10), try Self.read(Self.live10))
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
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StreamFileError(path: path, operation: "open", reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var written = 0
        func put(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { b in
                var done = 0
                while done < b.count {
                    let n = write(fd, b.baseAddress! + done, b.count - done)
                    guard n > 0 else {
                        throw StreamFileError(path: path, operation: "write", reason: String(cString: strerror(errno)))
                    }
                    done += n
                }
            }
            written += bytes.count
        }
        func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        func be64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        let name: [UInt8] = [6] + Array("pc.ram".utf8)
        // Header; section start: id 2, "ram", instance 0, version 4; MEM_SIZE; EOS.
        try put(Array("QEVM".utf8) + be32(3))
        try put([0x01] + be32(2) + [3] + Array("ram".utf8) + be32(0) + be32(4))
        try put(be64(blockLength | 0x04) + name + be64(blockLength) + be64(0x10))
        // Section part: the pages, 256 at a time (the first names the block).
        try put([0x02] + be32(2))
        let perChunk = 256
        var page = 0
        while page < pageCount {
            var chunk = [UInt8]()
            chunk.reserveCapacity(perChunk * 4111)
            for p in page..<min(page + perChunk, pageCount) {
                let fill: UInt8 = p == changedPage ? 0x5a : 0xa5
                if p == 0 {
                    chunk += be64(0x08) + name
                } else {
                    chunk += be64(UInt64(p) * 4096 | 0x28)  // PAGE | CONTINUE
                }
                chunk += [UInt8](repeating: fill, count: 4096)
            }
            try put(chunk)
            page += perChunk
        }
        try put(be64(0x10))
        // Section end, end of stream, vmdesc.
        try put([0x03] + be32(2) + be64(0x10))
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        try put([0x00, 0x06] + be32(UInt32(json.count)) + json)
        return written
    }

    @Test func diffTwo512MiBStreamsIn256MiBOfAddressSpace() throws {
        let a = "/tmp/vmstate-diff-large-a-\(getpid()).bin", b = "/tmp/vmstate-diff-large-b-\(getpid()).bin"
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
