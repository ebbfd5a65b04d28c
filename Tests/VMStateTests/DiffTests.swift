import Foundation
import Testing
import VMState
import VMStateAnalysis

/// `vmstate diff` on real streams: the machine stopped at reset vs after 1 s of firmware.
@Suite struct DiffTests {
    static func read(_ path: String) throws -> StreamAnalysis {
        try StreamAnalysis(path: path, options: .init(recordPages: true))
    }

    /// Where the RTC's 128-byte `cmos_data` starts in the stream `a` was read from.
    static func cmosDataOffset(_ a: StreamAnalysis) throws -> Int {
        guard let rtc = a.sections.first(where: { $0.name == "mc146818rtc" }), case .device(let record) = rtc.content,
            let cmos = record.members.first(where: { $0.name == "cmos_data" })
        else { throw StreamAnalysisError(offset: 0, message: "no mc146818rtc cmos_data") }
        return cmos.offset
    }

    static let reset = TestPaths.qemuFixtures + "/pc-reset/stream.bin"
    static let bios = TestPaths.qemuFixtures + "/pc-bios/stream.bin"

    @Test func streamEqualsItself() throws {
        let a = try Self.read(Self.bios)
        let b = try Self.read(Self.bios)
        let diff = try StreamDiff(a, b)
        #expect(diff.isEqual)
        #expect(diff.differences.isEmpty)
        #expect(diff.ram.isEmpty)
        #expect(diff.text() == "streams are equal\n")
    }

    /// The same bytes typed otherwise by the vmdesc (ahci `ports`: `int32 equal` in QEMU 7.2,
    /// `uint32 equal` in 10.0) differ, and the values then say their kinds: they printed alike.
    @Test func theSameBytesOfAnotherKindSayTheirKinds() throws {
        func stream(_ type: String) throws -> StreamAnalysis {
            let be32 = { (v: UInt32) in withUnsafeBytes(of: v.bigEndian) { Array($0) } }
            let json = Array(
                #"{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, "fields": [{"name": "ports", "type": "\#(type)", "size": 4}]}]}"#
                    .utf8)
            let bytes =
                Array("QEVM".utf8) + be32(3) + [0x04] + be32(1) + [3] + Array("dev".utf8) + be32(0) + be32(1) + be32(6)
                + [0x00, 0x06] + be32(UInt32(json.count)) + json
            return try StreamAnalysis(bytes: StreamBytes(bytes), options: .init(recordPages: true))
        }
        let diff = try StreamDiff(try stream("int32 equal"), try stream("uint32 equal"))
        #expect(
            diff.differences == [
                StreamDifference(
                    section: "dev", instance: 0, field: "ports", kind: .changed, a: "0x00000006 (signed integer)",
                    b: "0x00000006 (unsigned integer)")
            ])
        #expect(try StreamDiff(try stream("int32 equal"), try stream("int32")).isEqual)
    }

    /// A subsection sent at another version (ppc64's `cpu/slb` 1 in QEMU 7.2, 2 in 10.0, which
    /// QEMU 7.2 refuses: "cpu/slb: incoming version_id 2 is too new") is a `version` difference,
    /// as a section's is, named by its path, before its fields' differences.
    @Test func aSubsectionOfAnotherVersionIsADifference() throws {
        func stream(sectionVersion: UInt32, subsectionVersion: UInt32, x: UInt8) throws -> StreamAnalysis {
            let be32 = { (v: UInt32) in withUnsafeBytes(of: v.bigEndian) { Array($0) } }
            let json = Array(
                #"{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": \#(sectionVersion), "fields": [{"name": "a", "type": "uint8", "size": 1}], "subsections": [{"vmsd_name": "dev/sub", "version": \#(subsectionVersion), "fields": [{"name": "x", "type": "uint8", "size": 1}]}]}]}"#
                    .utf8)
            let bytes =
                Array("QEVM".utf8) + be32(3) + [0x04] + be32(1) + [3] + Array("dev".utf8) + be32(0)
                + be32(sectionVersion) + [0x11, 0x05, 7] + Array("dev/sub".utf8) + be32(subsectionVersion) + [x]
                + [0x00, 0x06] + be32(UInt32(json.count)) + json
            return try StreamAnalysis(bytes: StreamBytes(bytes), options: .init(recordPages: true))
        }
        // Section version, subsection version and x of A, then of B.
        func compared(_ a: (UInt32, UInt32, UInt8), _ b: (UInt32, UInt32, UInt8)) throws -> StreamDiff {
            try StreamDiff(
                try stream(sectionVersion: a.0, subsectionVersion: a.1, x: a.2),
                try stream(sectionVersion: b.0, subsectionVersion: b.1, x: b.2))
        }
        let subsection = StreamDifference(
            section: "dev", instance: 0, field: "dev/sub", kind: .version, a: "version 1", b: "version 2")
        let diff = try compared((1, 1, 3), (1, 2, 4))
        #expect(
            diff.differences == [
                subsection,
                StreamDifference(section: "dev", instance: 0, field: "dev/sub/x", kind: .changed, a: "0x03", b: "0x04"),
            ])
        #expect(
            diff.text()
                == "dev: dev/sub\n    A: version 1\n    B: version 2\ndev: dev/sub/x\n    A: 0x03\n    B: 0x04\n"
                + "2 differences in 1 section\n")
        #expect(
            diff.json["sections"]?[0]
                == [
                    "section": "dev", "instance": 0, "field": "dev/sub", "kind": "version", "a": "version 1",
                    "b": "version 2",
                ])
        // The section's version and the subsection's differ, nothing else: two differences, the
        // section's first; equal versions are no difference.
        #expect(
            try compared((1, 1, 3), (2, 2, 3)).differences == [
                StreamDifference(
                    section: "dev", instance: 0, field: "", kind: .version, a: "version 1", b: "version 2"),
                subsection,
            ])
        #expect(try compared((1, 2, 3), (1, 2, 3)).isEqual)
    }

    /// Two streams of different target page sizes (an ARM versatilepb's 1 KiB against a `virt`
    /// machine's 4 KiB): the page size is a configuration difference and RAM is not compared
    /// (comparing one stream's pages at the other's size gave wrong counts and ranges), a note
    /// says so; streams of one page size other than 4 KiB compare their pages at that size.
    @Test func streamsOfDifferentPageSizesCompareNoRAM() throws {
        func stream(pageSize: Int, fill: UInt8) throws -> StreamAnalysis {
            let be32 = { (v: UInt32) in withUnsafeBytes(of: v.bigEndian) { Array($0) } }
            let be64 = { (v: UInt64) in withUnsafeBytes(of: v.bigEndian) { Array($0) } }
            let name: [UInt8] = [6] + Array("pc.ram".utf8)
            var s = Array("QEVM".utf8) + be32(3)
            s += [0x01] + be32(2) + [3] + Array("ram".utf8) + be32(0) + be32(4)
            s += be64(0x4000 | 0x04) + name + be64(0x4000)
            s += be64(UInt64(pageSize) | 0x08) + name + [UInt8](repeating: fill, count: pageSize) + be64(0x10)
            let json = Array(#"{"page_size": \#(pageSize), "devices": []}"#.utf8)
            s += [0x00, 0x06] + be32(UInt32(json.count)) + json
            return try StreamAnalysis(bytes: StreamBytes(s), options: .init(recordPages: true))
        }
        let diff = try StreamDiff(try stream(pageSize: 1024, fill: 1), try stream(pageSize: 4096, fill: 1))
        #expect(
            diff.differences == [
                StreamDifference(
                    section: "configuration", instance: 0, field: "page size", kind: .changed, a: "1024 bytes",
                    b: "4096 bytes")
            ])
        #expect(diff.ram.isEmpty)
        #expect(diff.notes == ["RAM not compared: the streams' target pages differ in size (A 1024 bytes, B 4096)"])
        let small = try StreamDiff(try stream(pageSize: 1024, fill: 1), try stream(pageSize: 1024, fill: 2))
        #expect(small.differences.isEmpty)
        #expect(small.notes.isEmpty)
        #expect(small.ram.map(\.pageCount) == [1])
        #expect(small.text().contains("0x0000000000000400-0x00000000000007ff"), "\(small.text())")
    }

    /// The VM UUID QEMU sends with the capability validate-uuid (a destination started with
    /// another `-uuid` refuses the stream) is read by both readers (QEMU 7.2's raw subsection,
    /// QEMU 10.0's described one), shown by `--tree` and compared by `diff`.
    @Test func theVMUUIDIsReadShownAndCompared() throws {
        let uuid = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
        let path72 = TestPaths.streams + "/validate-uuid/stream.bin"
        let path10 = TestPaths.qemu10Fixtures + "/validate-uuid/stream.bin"
        let s72 = try Self.read(path72), s10 = try Self.read(path10)
        #expect(s72.uuidString == uuid)
        #expect(s10.uuidString == uuid)
        #expect(try Self.read(Self.bios).uuid == nil)
        // Another UUID in the same stream (its 16 bytes follow the subsection's header).
        var bytes = try TestPaths.readBytes(path72)
        let header: [UInt8] = [0x05, 18] + Array("configuration/uuid".utf8) + [0, 0, 0, 1]
        let at = try #require((0..<200).first { bytes[$0..<$0 + header.count].elementsEqual(header) }) + header.count
        #expect(bytes[at..<at + 4] == [0x6b, 0xa7, 0xb8, 0x10])
        bytes[at] = 0x7b
        let other = try StreamAnalysis(bytes: StreamBytes(bytes), options: .init(recordPages: true))
        let diff = try StreamDiff(s72, other)
        #expect(
            diff.differences == [
                StreamDifference(
                    section: "configuration", instance: 0, field: "uuid", kind: .changed, a: uuid,
                    b: "7ba7b810-9dad-11d1-80b4-00c04fd430c8")
            ])
        #expect(try StreamDiff(s72, try Self.read(path72)).isEqual)
        let tree = try TreeView().text(s72)
        #expect(tree.contains("\nmachine type: pc-i440fx-7.2\nVM UUID: \(uuid) (capability validate-uuid)\n"))
    }

    @Test func resetVersusBios() throws {
        let diff = try StreamDiff(try Self.read(Self.reset), try Self.read(Self.bios))
        #expect(!diff.isEqual)
        func find(_ section: String, _ field: String) -> StreamDifference? {
            diff.differences.first { $0.section == section && $0.field == field }
        }
        // The CPU left the reset vector and is running the BIOS.
        #expect(
            find("cpu", "env.eip")
                == StreamDifference(
                    section: "cpu", instance: 0, field: "env.eip", kind: .changed,
                    a: "0x000000000000fff0", b: "0x000000000000b7b9"))
        #expect(find("cpu", "env.segs[1]/base")?.a == "0x00000000ffff0000")
        #expect(find("cpu", "env.segs[1]/base")?.b == "0x00000000000f0000")
        #expect(find("cpu_common", "halted")?.b == "0x00000001")
        #expect(find("timer", "cpu_ticks_offset")?.a == "0x0000000000000000")
        #expect(find("timer", "cpu_ticks_offset")?.b == "0x000000009ae27228")
        // A 100-byte buffer is compared byte by byte.
        #expect(
            find("globalstate", "runstate bytes 0x1-0x8")
                == StreamDifference(
                    section: "globalstate", instance: 0, field: "runstate bytes 0x1-0x8", kind: .changed,
                    a: "72 65 6c 61 75 6e 63 68", b: "61 75 73 65 64 00 00 00"))
        // Unchanged fields are not reported.
        #expect(find("cpu", "env.regs[0]") == nil)
        #expect(diff.differences.count == 112)
        #expect(Set(diff.differences.map(\.sectionLabel)).count == 21)
        #expect(diff.differences.contains { $0.sectionLabel == "dma (instance 1)" })

        // RAM, per block, as page ranges.
        let ram = try #require(diff.ram.first { $0.block == "pc.ram" })
        #expect(ram.pageCount == 61)
        #expect(ram.lengthA == 0x100_0000 && ram.lengthB == 0x100_0000)
        #expect(ram.pageRanges.first == 0...0)
        #expect(ram.pageRanges.contains(0xE8000...0xFF000))  // the BIOS shadow copy
        #expect(
            diff.ram.map(\.block) == ["pc.ram", "/rom@etc/acpi/tables", "/rom@etc/table-loader", "/rom@etc/acpi/rsdp"])
        #expect(diff.ram.first { $0.block == "/rom@etc/acpi/tables" }?.pageCount == 2)

        let text = diff.text()
        #expect(text.contains("cpu: env.eip\n    A: 0x000000000000fff0\n    B: 0x000000000000b7b9\n"))
        #expect(text.contains("ram: pc.ram: 61 pages differ: 0x0000000000000000-0x0000000000000fff, "))
        #expect(text.hasSuffix("112 differences in 21 sections, 4 RAM blocks differ\n"))
        let ranges = try #require(diff.ram.first).rangeCount
        #expect(diff.text(maxRanges: 0).contains("\nram: pc.ram: 61 pages differ in \(ranges) ranges\n"))
        #expect(
            diff.text(maxRanges: 1).contains(
                "\nram: pc.ram: 61 pages differ: 0x0000000000000000-0x0000000000000fff, ... (\(ranges - 1) more ranges)\n"
            ))

        let json = diff.json
        #expect(json["sections"]?.arrayValue?.count == 112)
        #expect(json["ram"]?[0]?["block"] == "pc.ram")
        #expect(json["ram"]?[0]?["ranges"]?[0] == ["0x0000000000000000", "0x0000000000000fff"])
    }

    @Test func differentMachines() throws {
        // pc vs q35: sections present on one side only.
        let diff = try StreamDiff(
            try Self.read(Self.reset), try Self.read(TestPaths.streams + "/q35/stream.bin"),
            options: .init(compareRAM: false))
        #expect(diff.ram.isEmpty)
        #expect(
            diff.differences.contains {
                $0.section == "0000:00:01.0/PIIX3" && $0.field.isEmpty && $0.kind == .onlyInA && $0.b == nil
            })
        #expect(
            diff.differences.contains {
                $0.section == "0000:00:1f.0/ICH9LPC" && $0.kind == .onlyInB && $0.a == nil
            })
        // Sections with other instance ids are told apart.
        #expect(diff.differences.allSatisfy { $0.section != "dma" || $0.instance <= 1 })
    }

    @Test func singleChangedField() throws {
        // Flip one byte of cmos_data[0x10] in a copy and expect exactly that difference.
        let a = try Self.read(Self.bios)
        let cmos = try Self.cmosDataOffset(a)
        var data = try TestPaths.readBytes(Self.bios)
        let old = data[cmos + 0x10]
        data[cmos + 0x10] ^= 0xFF
        let b = try StreamAnalysis(bytes: StreamBytes(data), options: .init(recordPages: true))
        let diff = try StreamDiff(a, b)
        // cmos_data is a 128-byte buffer: reported as a run of differing bytes.
        #expect(
            diff.differences == [
                StreamDifference(
                    section: "mc146818rtc", instance: 0, field: "cmos_data byte 0x10", kind: .changed,
                    a: hex(old, digits: 2), b: hex(old ^ 0xFF, digits: 2))
            ])
        #expect(diff.ram.isEmpty)
    }

    /// A buffer with more runs of differing bytes than are listed (8): the first 8, then one
    /// entry that counts the bytes that differ in the rest, not the equal ones inside a run
    /// (runs fewer than 4 equal bytes apart are one).
    @Test func byteRunsPastTheListedOnesAreCounted() throws {
        let a = try Self.read(Self.bios)
        let cmos = try Self.cmosDataOffset(a)
        let original = try TestPaths.readBytes(Self.bios)
        var data = original
        // Runs at 0x00, 0x08, ..., 0x48 (one byte each), then 0x50 and 0x52: one run of three
        // bytes, two of them differing.
        let flipped = Array(stride(from: 0, through: 0x48, by: 8)) + [0x50, 0x52]
        for i in flipped { data[cmos + i] ^= 0xFF }
        let b = try StreamAnalysis(bytes: StreamBytes(data), options: .init(recordPages: true))
        let diff = try StreamDiff(a, b)
        func byte(_ i: Int, _ bytes: [UInt8]) -> String { hex(bytes[cmos + i], digits: 2) }
        let listed = (0..<8).map { n in
            StreamDifference(
                section: "mc146818rtc", instance: 0, field: "cmos_data byte 0x\(String(n * 8, radix: 16))",
                kind: .changed, a: byte(n * 8, original), b: byte(n * 8, data))
        }
        #expect(
            diff.differences == listed + [
                StreamDifference(
                    section: "mc146818rtc", instance: 0, field: "cmos_data (3 more runs)", kind: .changed,
                    a: "4 more differing bytes of 128", b: "4 more differing bytes of 128")
            ])
    }

    /// A long run of differing bytes (as two virtio devices' whole buffers make) shows its first
    /// 32 bytes of each side and its length, not every byte.
    @Test func aLongRunShowsItsFirst32Bytes() throws {
        let a = try Self.read(Self.bios)
        let cmos = try Self.cmosDataOffset(a)
        let original = try TestPaths.readBytes(Self.bios)
        var data = original
        for i in 0x10..<0x50 { data[cmos + i] ^= 0xFF }
        let b = try StreamAnalysis(bytes: StreamBytes(data), options: .init(recordPages: true))
        func shown(_ bytes: [UInt8]) -> String {
            bytes[(cmos + 0x10)..<(cmos + 0x30)].map { hex($0, digits: 2) }.joined(separator: " ") + " ... (64 bytes)"
        }
        #expect(
            try StreamDiff(a, b).differences == [
                StreamDifference(
                    section: "mc146818rtc", instance: 0, field: "cmos_data bytes 0x10-0x4f", kind: .changed,
                    a: shown(original), b: shown(data))
            ])
    }

    /// QEMU 7.2's isapc stream with three `isa-ide` devices, all sent as instance 0 (sections
    /// 21, 22 and 26): a byte changed in the first is reported there, and only there. Paired by
    /// idstr and instance alone, each of A's three was compared with B's last, which hid it.
    @Test func sectionsSharingIdstrAndInstancePairInStreamOrder() throws {
        let path = TestPaths.streams + "/isapc-vmdesc-brace/stream.bin"
        let a = try Self.read(path)
        let ide = a.sections.filter { $0.name == "isa-ide" }
        #expect(ide.map(\.instanceID) == [0, 0, 0])
        guard let first = ide.first, case .device(let record) = first.content,
            let bus = record.members.first(where: { $0.name == "bus" }), case .record(let busRecord) = bus.value,
            let unit = busRecord.members.first(where: { $0.name == "unit" })
        else {
            Issue.record("no isa-ide bus/unit")
            return
        }
        #expect(try StreamDiff(a, try Self.read(path)).isEqual)
        var data = try TestPaths.readBytes(path)
        let old = data[unit.offset]
        data[unit.offset] ^= 1
        let b = try StreamAnalysis(bytes: StreamBytes(data), options: .init(recordPages: true))
        let diff = try StreamDiff(a, b)
        #expect(
            diff.differences == [
                StreamDifference(
                    section: "isa-ide", instance: 0, field: "bus/unit", kind: .changed, a: "0x" + hex(old, digits: 2),
                    b: "0x" + hex(old ^ 1, digits: 2))
            ])
        // The second of them, changed the same way, is labeled as the second.
        let second = try #require(ide.dropFirst().first)
        guard case .device(let record2) = second.content,
            let bus2 = record2.members.first(where: { $0.name == "bus" }), case .record(let busRecord2) = bus2.value,
            let unit2 = busRecord2.members.first(where: { $0.name == "unit" })
        else {
            Issue.record("no second isa-ide bus/unit")
            return
        }
        var data2 = try TestPaths.readBytes(path)
        data2[unit2.offset] ^= 1
        let diff2 = try StreamDiff(a, try StreamAnalysis(bytes: StreamBytes(data2), options: .init(recordPages: true)))
        #expect(diff2.differences.map(\.sectionLabel) == ["isa-ide (instance 0, 2nd section)"])
        #expect(diff2.differences.first?.occurrence == 1)
        #expect(diff2.text().hasPrefix("isa-ide (instance 0, 2nd section): bus/unit\n"))
    }

    /// QEMU 10.0 numbers two `-netdev user` slirp sections 0 and 1, QEMU 7.2 both 0: the
    /// second of B's is its own, not A's instance 0.
    @Test func aSecondSectionOfOneInstanceIsLabeled() throws {
        let a = try Self.read(TestPaths.qemu10Fixtures + "/user-net-2/stream.bin")
        let b = try Self.read(TestPaths.qemuFixtures + "/user-net-2/stream.bin")
        let slirp = try StreamDiff(a, b, options: .init(compareRAM: false)).differences.filter { $0.section == "slirp" }
        #expect(slirp.map(\.sectionLabel) == ["slirp (instance 1)", "slirp (instance 0, 2nd section)"])
        #expect(slirp.map(\.kind) == [.onlyInA, .onlyInB])
    }

    @Test func singleChangedPage() throws {
        let a = try Self.read(Self.bios)
        guard let ram = a.sections.first(where: { $0.name == "ram" }), case .ram(let r) = ram.content,
            let page = r.pages.first(where: {
                if case .data = $0.content { return r.pageBlockNames[Int($0.block)] == "pc.bios" } else { return false }
            }),
            case .data(let offset) = page.content
        else {
            Issue.record("no pc.bios data page")
            return
        }
        var data = try TestPaths.readBytes(Self.bios)
        data[offset + 100] ^= 1
        let diff = try StreamDiff(a, try StreamAnalysis(bytes: StreamBytes(data), options: .init(recordPages: true)))
        #expect(diff.differences.isEmpty)
        #expect(
            diff.ram == [
                RAMBlockDifference(
                    block: "pc.bios", lengthA: 0x40000, lengthB: 0x40000,
                    pageRanges: [page.address...page.address], pageCount: 1)
            ])
        #expect(diff.text().contains("ram: pc.bios: 1 page differs: 0x\(hex(page.address, digits: 16))-"))
    }

    /// A page at the last page address of the 64-bit space (its range's end once overflowed, a
    /// trap): past its block's length, refused at its record, as QEMU refuses it ("Illegal RAM
    /// offset") and `analyze -x` does.
    @Test func aPageAtTheTopOfTheAddressSpace() throws {
        let a = try Self.read(Self.bios)
        guard let ram = a.sections.first(where: { $0.name == "ram" }), case .ram(let r) = ram.content,
            let page = r.pages.last(where: {
                if case .data = $0.content { return r.pageBlockNames[Int($0.block)] == "pc.ram" } else { return false }
            }),
            case .data(let offset) = page.content
        else {
            Issue.record("no pc.ram data page")
            return
        }
        var data = try TestPaths.readBytes(Self.bios)
        // The record's be64 (address | flags) ends where its page bytes start; CONTINUE (0x20):
        // the last pc.ram page names no block.
        #expect(data[offset - 1] == 0x28)
        for i in 0..<6 { data[offset - 8 + i] = 0xff }
        data[offset - 2] = 0xf0  // (the low 12 bits are the flags)
        let b = try StreamAnalysis(bytes: StreamBytes(data), options: .init(recordPages: true))
        let e = #expect(throws: StreamDiffInputError.self) { try StreamDiff(a, b) }
        #expect(e?.stream == "B")
        #expect(
            e?.error.description
                == "at byte offset \(offset - 8) (0x\(String(offset - 8, radix: 16))), section \"ram\" (section id 2, instance 0): the RAM page at 0xfffffffffffff000 lies past the length 0x0000000001000000 of RAM block \"pc.ram\""
        )
    }
}

extension DiffTests {
    /// Without RAM contents (`--no-ram`), the RAM blocks and their lengths are still compared:
    /// QEMU refuses a stream of other blocks ("Unknown ramblock", "Size mismatch").
    @Test func withoutRAMContentsTheBlocksAreStillCompared() throws {
        let none = try StreamAnalysis(
            path: TestPaths.qemuFixtures + "/none/stream.bin", options: .init(recordPages: false))
        let bios = try StreamAnalysis(
            path: TestPaths.qemuFixtures + "/pc-bios/stream.bin", options: .init(recordPages: false))
        let diff = try StreamDiff(none, bios, options: .init(compareRAM: false))
        #expect(
            diff.ram.map {
                "\($0.block) \($0.lengthA.map(String.init) ?? "-") \($0.lengthB.map(String.init) ?? "-") \($0.pageCount)"
            }
                == [
                    "ram 33554432 - 0", "pc.ram - 16777216 0", "/rom@etc/acpi/tables - 131072 0", "pc.bios - 262144 0",
                    "pc.rom - 131072 0", "/rom@etc/table-loader - 4096 0", "/rom@etc/acpi/rsdp - 4096 0",
                ])
        #expect(diff.text().contains("\nram: ram: length A 0x0000000002000000, B absent\n"))
        let reset = try StreamAnalysis(
            path: TestPaths.qemuFixtures + "/pc-reset/stream.bin", options: .init(recordPages: false))
        #expect(try StreamDiff(reset, bios, options: .init(compareRAM: false)).ram.isEmpty)
    }

    /// x-ignore-shared with the guest RAM on a shared file: the block `r0` the stream sent no
    /// page of is not compared (its pages are not zero: they are not in the stream), and a note
    /// says so; against a stream that sent its pages too.
    @Test func blocksAnXIgnoreSharedStreamSentNoPageOfAreNotCompared() throws {
        let shared = try StreamAnalysis(
            path: TestPaths.qemuFixtures + "/x-ignore-shared-file/stream.bin", options: .init(recordPages: false))
        let diff = try StreamDiff(shared, shared)
        #expect(diff.isEqual)
        let note =
            #"RAM block "r0" not compared: streams A and B have x-ignore-shared and sent no page of it (RAM on a shared file is not in the stream; nor is unplugged virtio-mem memory)"#
        #expect(diff.notes == [note])
        #expect(diff.text().hasPrefix("note: \(note)\n"))

        // The registry's save of it with r0's pages sent (another machine type: no
        // x-ignore-shared), r0 holding 0xCC: A's note only, and no page difference.
        let registry = Registry()
        let ram = try QEMU10StreamTests.SharedFileRAM(registering: registry)
        defer { withExtendedLifetime(ram) {} }
        let bytes = try TestPaths.readBytes(TestPaths.qemuFixtures + "/x-ignore-shared-file/stream.bin")
        try registry.load(bytes, options: .keepUnknown)
        let other = try StreamAnalysis(
            bytes: StreamBytes(try registry.save(machineType: "pc-i440fx-7.1")), options: .init(recordPages: false))
        let against = try StreamDiff(shared, other)
        #expect(against.ram.isEmpty)
        #expect(
            against.notes == [
                #"RAM block "r0" not compared: stream A has x-ignore-shared and sent no page of it (RAM on a shared file is not in the stream; nor is unplugged virtio-mem memory)"#
            ])
    }
}

@Suite(.enabled(if: Tool.path != nil, "the vmstate executable is not built next to the tests"))
struct DiffCLITests {
    @Test func exitStatus() throws {
        let reset = TestPaths.qemuFixtures + "/pc-reset/stream.bin",
            bios = TestPaths.qemuFixtures + "/pc-bios/stream.bin"
        let same = try Tool.run(["diff", bios, bios])
        #expect(same.status == 0)
        #expect(same.stdout == "streams are equal\n")
        let different = try Tool.run(["diff", reset, bios])
        #expect(different.status == 1)
        #expect(different.stdout.contains("cpu: env.eip\n    A: 0x000000000000fff0\n    B: 0x000000000000b7b9\n"))
        let json = try Tool.run(["diff", "--json", "--no-ram", reset, bios])
        #expect(json.status == 1)
        let parsed = try JSONValue(parsing: json.stdout)
        #expect(parsed["ram"] == .array([]))
        #expect(parsed["sections"]?.arrayValue?.count == 112)
        // A stream and a JSON file: their descriptions are compared (DescriptionDiffTests).
        let mixed = try Tool.run(["diff", bios, TestPaths.qemuFixtures + "/dump-vmstate-pc.json"])
        #expect(mixed.status == 1)
        #expect(mixed.stdout.hasSuffix("1 difference in 1 section\n"))
        let cmdline = TestPaths.qemuFixtures + "/pc-bios/cmdline.txt"
        let bad = try Tool.run(["diff", bios, cmdline])
        #expect(bad.status == 2)
        #expect(
            bad.stderr
                == "vmstate diff: error: \(cmdline): neither a migration stream (it does not start with \"QEVM\") nor a "
                + "JSON description (a vmdesc or -dump-vmstate file): invalid JSON at byte offset 1 (line 1, column 2): "
                + "expected a digit in number\n")
    }

    /// A RAM page QEMU refuses (of a block the stream did not announce), found only as diff
    /// reads the pages: the message names the stream's file, whichever side it is.
    @Test func aRefusedPageNamesItsStream() throws {
        let bios = TestPaths.qemuFixtures + "/pc-bios/stream.bin"
        var data = try TestPaths.readBytes(bios)
        let name = [6] + Array("pc.rom".utf8)
        let places = (0...(data.count - name.count)).filter { i in name.indices.allSatisfy { data[i + $0] == name[$0] }
        }
        // The RAM START lists the block first; its first page record names it next.
        try #require(places.count >= 2)
        data[places[1] + 6] = UInt8(ascii: "x")
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-badpage-\(UUID().uuidString)")
        try Data(data).write(to: bad)
        defer { try? FileManager.default.removeItem(at: bad) }
        for args in [[bios, bad.path], [bad.path, bios]] {
            let r = try Tool.run(["diff"] + args)
            #expect(r.status == 2)
            #expect(r.stdout.isEmpty)
            #expect(
                r.stderr.hasPrefix(
                    "vmstate diff: error: \(bad.path): at byte offset \(places[1] - 8) (0x\(String(places[1] - 8, radix: 16))), "
                        + "section \"ram\" (section id 2, instance 0): the RAM page at 0x0000000000000000 names RAM block "
                        + "\"pc.rox\", which the stream did not announce (announced: \"pc.ram\""), "\(r.stderr)")
        }
        #expect(try Tool.run(["diff", "--no-ram", bios, bad.path]).status == 0)
    }
}

extension DiffCLITests {
    /// The page index needs a temporary file: where `$TMPDIR` cannot hold one, comparing RAM is
    /// bad input with the reason (exit status 2), and `--no-ram` needs none.
    @Test func pageIndexWithoutATemporaryDirectory() throws {
        let tool = try #require(Tool.path)
        let bios = TestPaths.qemuFixtures + "/pc-bios/stream.bin"
        let env = ["/usr/bin/env", "TMPDIR=/nonexistent-vmstate-dir", tool, "diff"]
        let r = try Tool.spawn("/usr/bin/env", env + [bios, bios])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(
            r.stderr
                == "vmstate diff: error: cannot write /nonexistent-vmstate-dir: cannot make a temporary file for the RAM page index: No such file or directory\n"
        )
        let noRAM = try Tool.spawn("/usr/bin/env", env + ["--no-ram", bios, bios])
        #expect(noRAM.status == 0)
        #expect(noRAM.stdout == "streams are equal\n")
    }

    /// `analyze --memory` of a stream that resends pages sorts them through temporary files:
    /// without a place for them it fails before printing anything; a stream that sends each
    /// page once needs none.
    @Test func memoryOfALiveStreamWithoutATemporaryDirectory() throws {
        let tool = try #require(Tool.path)
        let env = ["/usr/bin/env", "TMPDIR=/nonexistent-vmstate-dir", tool, "analyze", "--memory"]
        let live = try Tool.spawn("/usr/bin/env", env + [TestPaths.qemuFixtures + "/pc-live/stream.bin"])
        #expect(live.status == 2)
        #expect(live.stdout.isEmpty)
        #expect(
            live.stderr
                == "vmstate analyze: error: cannot write /nonexistent-vmstate-dir: cannot make a "
                + "temporary file for the RAM pages of --memory: No such file or directory\n")
        let once = try Tool.spawn("/usr/bin/env", env + [TestPaths.qemuFixtures + "/pc-reset/stream.bin"])
        #expect(once.status == 0)
        #expect(once.stdout.contains("\"memory\": {"))
    }
}

/// `-` names standard input, for every input of `analyze`, `diff` and `compat`: a pipe is read
/// once (copied to a temporary file) even where the tool looks at an input twice (is it a
/// stream? then read it) or is given `-` twice.
@Suite(.enabled(if: Tool.path != nil, "the vmstate executable is not built next to the tests"))
struct StandardInputTests {
    static let reset = TestPaths.qemuFixtures + "/pc-reset/stream.bin"
    static let bios = TestPaths.qemuFixtures + "/pc-bios/stream.bin"

    /// `vmstate ARGS` with standard input a pipe fed from `file`.
    static func run(_ args: [String], stdinFrom file: String) throws -> Tool.Result {
        try AnalyzeLargeStreamTests.runLimited(kib: 256 << 10, args, stdinFrom: file)
    }

    @Test func diffReadsStandardInput() throws {
        let fromFiles = try Tool.run(["diff", Self.bios, Self.reset])
        #expect(fromFiles.status == 1)
        let piped = try Self.run(["diff", "-", Self.reset], stdinFrom: Self.bios)
        #expect(piped.status == 1)
        #expect(piped.stderr.isEmpty)
        #expect(piped.stdout == fromFiles.stdout)
        let json = try Self.run(["diff", "--json", Self.bios, "-"], stdinFrom: Self.reset)
        #expect(json.status == 1)
        #expect(json.stdout == (try Tool.run(["diff", "--json", Self.bios, Self.reset])).stdout)
        let twice = try Self.run(["diff", "-", "-"], stdinFrom: Self.bios)
        #expect(twice.status == 0)
        #expect(twice.stderr.isEmpty)
        #expect(twice.stdout == "streams are equal\n")
    }

    @Test func analyzeAndCompatReadStandardInput() throws {
        let dir = TestPaths.qemuFixtures + "/pc-reset"
        let analyze = try Self.run(["analyze", "-"], stdinFrom: dir + "/stream.bin")
        #expect(analyze.status == 0)
        #expect(analyze.stderr.isEmpty)
        #expect(analyze.stdout == (try TestPaths.readText(dir + "/analyze.json")))
        let vmdesc = try Self.run(["analyze", "--vmdesc", "-", dir + "/stream.bin"], stdinFrom: dir + "/vmdesc.json")
        #expect(vmdesc.status == 0)
        #expect(vmdesc.stdout == analyze.stdout)
        let compat = try Self.run(["compat", "-", Self.bios], stdinFrom: Self.reset)
        #expect(compat.status == 0)
        #expect(compat.stderr.isEmpty)
        #expect(compat.stdout == (try Tool.run(["compat", Self.reset, Self.bios])).stdout)
        let empty = try Self.run(["analyze", "-"], stdinFrom: "/dev/null")
        #expect(empty.status == 2)
        #expect(
            empty.stderr
                == "vmstate analyze: error: at byte offset 0 (0x0): expected the 8-byte stream header (magic \"QEVM\", version 3), but the file has only 0 bytes\n"
        )
    }

    /// An endless input that is neither a stream nor JSON (`/dev/zero`, `yes |`) is refused
    /// from its first bytes, not copied to `$TMPDIR` until its disk is full: run under `ulimit
    /// -f` (32 MiB), a copy past that would end the tool with SIGXFSZ. A long input that is
    /// copied whole is refused with the same message. (The feeders' complaints about the pipe
    /// the tool stopped reading go to /dev/null: the tests run with SIGPIPE ignored.)
    @Test func anEndlessInputOfNeitherKindIsRefusedAtOnce() throws {
        let tool = try #require(Tool.path)
        let limited = "ulimit -f 65536 && exec \"$@\""
        let dump = TestPaths.qemuFixtures + "/dump-vmstate-pc.json"
        let notJSON =
            "neither a migration stream (it does not start with \"QEVM\") nor a JSON description (a vmdesc or -dump-vmstate file): invalid JSON at byte offset 0 (line 1, column 1): expected a value"
        for (args, expected) in [
            (["compat", "/dev/zero", dump], "vmstate compat: error: /dev/zero: \(notJSON), found byte 0x00\n"),
            (["diff", dump, "/dev/zero"], "vmstate diff: error: /dev/zero: \(notJSON), found byte 0x00\n"),
            (
                ["analyze", "/dev/zero"],
                "vmstate analyze: error: at byte offset 0 (0x0): expected the stream magic 0x5145564d (\"QEVM\"), found 0x00000000: not a QEMU migration stream\n"
            ),
            (
                ["analyze", "--vmdesc", "/dev/zero", Self.bios],
                "vmstate analyze: error: --vmdesc /dev/zero: invalid JSON at byte offset 0 (line 1, column 1): expected a value, found byte 0x00\n"
            ),
        ] {
            let r = try Tool.spawn("/bin/sh", ["sh", "-c", limited, "sh", tool] + args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty)
            #expect(r.stderr == expected)
        }
        let yes = try Tool.spawn(
            "/bin/sh", ["sh", "-c", "yes 2>/dev/null | (\(limited))", "sh", tool, "compat", "-", dump])
        #expect(yes.status == 2, "\(yes.stderr)")
        #expect(yes.stderr == "vmstate compat: error: -: \(notJSON), found 'y'\n")
        // `analyze` reads only streams: an endless JSON-looking input is refused from its
        // first bytes there (`compat` and `--vmdesc` take JSON too).
        let brace = try Tool.spawn(
            "/bin/sh", ["sh", "-c", "yes '{' 2>/dev/null | (\(limited))", "sh", tool, "analyze", "-"])
        #expect(brace.status == 2)
        #expect(
            brace.stderr
                == "vmstate analyze: error: at byte offset 0 (0x0): expected the stream magic 0x5145564d (\"QEVM\"), found 0x7b0a7b0a: not a QEMU migration stream\n"
        )
        // Blanks alone: refused past 1 MiB, saying so.
        let blanks = try Tool.spawn(
            "/bin/sh", ["sh", "-c", "yes ' ' 2>/dev/null | (\(limited))", "sh", tool, "compat", "-", dump])
        #expect(blanks.status == 2)
        #expect(
            blanks.stderr.hasPrefix("vmstate compat: error: ")
                && blanks.stderr.contains("bytes are only blanks: neither a migration stream nor JSON\n"),
            "\(blanks.stderr)")
        // 40 MiB of zeros that end: the same message, from the same first bytes.
        let ended = try Tool.spawn(
            "/bin/sh", ["sh", "-c", "head -c 41943040 /dev/zero 2>/dev/null | \"$@\"", "sh", tool, "compat", "-", dump])
        #expect(ended.status == 2)
        #expect(ended.stderr == "vmstate compat: error: -: \(notJSON), found byte 0x00\n")
    }

    /// `diff --vmdesc` reads two streams with another description: with a JSON description as
    /// A or B it is refused (it was silently unused).
    @Test func vmdescWithADescriptionIsRefused() throws {
        let dump = TestPaths.qemuFixtures + "/dump-vmstate-pc.json"
        for args in [[dump, Self.bios], [Self.bios, dump]] {
            let r = try Tool.run(["diff", "--vmdesc", Self.bios] + args)
            #expect(r.status == 2 && r.stdout.isEmpty)
            #expect(
                r.stderr
                    == "vmstate diff: error: --vmdesc reads two streams with another description, but \(dump) is a JSON description: leave --vmdesc out to compare the descriptions (a stream stands for the vmdesc it ends with)\n"
            )
        }
    }

    /// JSON inputs are bounded: an endless JSON-looking pipe is refused past 64 MiB (run under
    /// `ulimit -f` of 80 MiB: copying on would end the tool with SIGXFSZ), a file of more than
    /// 64 MiB is refused before it is read, and JSON whose parsed value would take more than 64
    /// MiB is refused as it is parsed, under the `ulimit -v 262144` the tool's streams run in
    /// (20 MB of small objects took 383 MB and crashed there, "failed to allocate").
    @Test func jsonInputsAreRefusedPastTheirLimits() throws {
        let tool = try #require(Tool.path)
        let dump = TestPaths.qemuFixtures + "/dump-vmstate-pc.json"
        let endless = try Tool.spawn(
            "/bin/sh",
            [
                "sh", "-c", "(echo '{'; yes '\"a\": 1,') 2>/dev/null | (ulimit -f 163840 && exec \"$@\")", "sh", tool,
                "compat", "-", dump,
            ])
        #expect(endless.status == 2)
        #expect(endless.stdout.isEmpty)
        #expect(
            endless.stderr
                == "vmstate compat: error: cannot read /dev/stdin: more than 64 MiB of JSON, more than the tool reads (QEMU's vmdescs and -dump-vmstate files take a few MiB at most)\n"
        )

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-json-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A sparse file: only its size is looked at.
        let big = dir + "/big.json"
        #expect(FileManager.default.createFile(atPath: big, contents: Data("{".utf8)))
        #expect(truncate(big, (64 << 20) + 1) == 0)
        let tooLong =
            "\(big): 67108865 bytes of JSON, more than the 64 MiB the tool reads (QEMU's vmdescs and -dump-vmstate files take a few MiB at most)\n"
        for (args, expected) in [
            (["compat", big, dump], "vmstate compat: error: \(tooLong)"),
            (["diff", dump, big], "vmstate diff: error: \(tooLong)"),
            (["analyze", "--vmdesc", big, Self.bios], "vmstate analyze: error: --vmdesc \(tooLong)"),
        ] {
            let r = try Tool.run(args)
            #expect(r.status == 2 && r.stdout.isEmpty)
            #expect(r.stderr == expected)
        }

        let dense = dir + "/dense.json"
        let text = "[" + String(repeating: #"{"a":[1]},"#, count: 2_000_000) + "0]"
        #expect(FileManager.default.createFile(atPath: dense, contents: Data(text.utf8)))
        // A stream whose vmdesc is that JSON (20 MB: past the 10 MiB where a vmdesc is looked
        // for, so the same objects cut to 6 MB, with a device list).
        let original = try TestPaths.readBytes(Self.bios)
        let marker = try StreamAnalysis.locateVMDesc(StreamBytes(original)).markerOffset
        let json = Array((#"{"devices": ["# + String(repeating: #"{"a":[1]},"#, count: 600_000) + "0]}").utf8)
        let withDense = dir + "/dense-vmdesc.bin"
        let length = withUnsafeBytes(of: UInt32(json.count).bigEndian) { Array($0) }
        #expect(
            FileManager.default.createFile(
                atPath: withDense, contents: Data(original[..<marker] + [0x06] + length + json)))
        let stream = try AnalyzeLargeStreamTests.runLimited(kib: 262_144, ["analyze", withDense])
        #expect(stream.status == 2 && stream.stdout.isEmpty)
        #expect(stream.stderr.hasPrefix("vmstate analyze: error: at byte offset "), "\(stream.stderr)")
        #expect(
            stream.stderr.contains(
                "the vmdesc (device description JSON at offset \(marker + 5), \(json.count) bytes) is too large: the parsed JSON would take more than 64 MiB of memory, more than any device description (a vmdesc or -dump-vmstate file) takes (line 1, column "
            ), "\(stream.stderr)")
        for (args, label) in [
            (["compat", dense, dump], "vmstate compat: error: \(dense)"),
            (["diff", dense, dense], "vmstate diff: error: \(dense)"),
            (["analyze", "--vmdesc", dense, Self.bios], "vmstate analyze: error: --vmdesc \(dense)"),
        ] {
            let r = try AnalyzeLargeStreamTests.runLimited(kib: 262_144, args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty)
            #expect(r.stderr.hasPrefix("\(label): JSON refused at byte offset "), "\(r.stderr)")
            #expect(
                r.stderr.hasSuffix(
                    ": the parsed JSON would take more than 64 MiB of memory, more than any device description (a vmdesc or -dump-vmstate file) takes\n"
                ), "\(r.stderr)")
        }
    }
}
