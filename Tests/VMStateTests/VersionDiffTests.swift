import Testing
import VMState
import VMStateAnalysis

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
