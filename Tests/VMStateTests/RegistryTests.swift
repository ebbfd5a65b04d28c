import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState
import VMStateAnalysis

/// Whole streams of our own devices and RAM: exact layout, round trip, and one test per load
/// error.
@Suite struct RegistryTests {
    /// A registry with a counter, a blob and two RAM blocks, plus the memory behind them.
    final class Machine {
        let counterPointer = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        let blobPointer = UnsafeMutablePointer<StrBlob>.allocate(capacity: 1)
        var counter: StrCounter {
            get { counterPointer.pointee }
            set { counterPointer.pointee = newValue }
        }
        var blob: StrBlob {
            get { blobPointer.pointee }
            set { blobPointer.pointee = newValue }
        }
        let ram = UnsafeMutableRawPointer.allocate(byteCount: 4 * 4096, alignment: 4096)
        let rom = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        let registry = Registry()

        init(fill: Bool) throws {
            counterPointer.initialize(to: StrCounter())
            blobPointer.initialize(to: StrBlob())
            ram.initializeMemory(as: UInt8.self, repeating: 0, count: 4 * 4096)
            rom.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
            if fill {
                counter.counter = 0x0102_0304
                counter.mode = 7
                withUnsafeMutableBytes(of: &counterPointer.pointee.regs) { for i in 0..<8 { $0[i] = UInt8(0xA0 + i) } }
                counter.irq = true
                blob.base = 0xFEED_0000_1000
                blob.len = 5
                let data = g_malloc(5)!.assumingMemoryBound(to: UInt8.self)
                for i in 0..<5 { data[i] = UInt8(i + 1) }
                blob.data = data
                (ram + 4096).storeBytes(of: 0xDEAD_BEEF as UInt32, as: UInt32.self)
                (ram + 3 * 4096 + 4095).storeBytes(of: 0x5A as UInt8, as: UInt8.self)
                rom.initializeMemory(as: UInt8.self, repeating: 0xFF, count: 4096)
            }
            try registry.add(idstr: "counter", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counterPointer)
            try registry.add(idstr: "blob", instanceID: 3, vmsd: StreamFixtures.blob, opaque: blobPointer)
            try registry.addRAM(idstr: "pc.ram", host: ram, length: 4 * 4096)
            try registry.addRAM(idstr: "pc.rom", host: rom, length: 4096)
        }

        deinit {
            g_free(blob.data)
            counterPointer.deallocate()
            blobPointer.deallocate()
            ram.deallocate()
            rom.deallocate()
        }
    }

    @Test func streamLayoutIsQEMUs() throws {
        let machine = try Machine(fill: true)
        let bytes = try machine.registry.save(machineType: "pc-i440fx-7.2")
        var expected: [UInt8] = [0x51, 0x45, 0x56, 0x4D, 0, 0, 0, 3]
        expected += [0x07, 0, 0, 0, 13] + Array("pc-i440fx-7.2".utf8)
        // RAM START (section 1, never 0: QEMU would take it for its first handler's, `timer`):
        // MEM_SIZE total 5 pages, both blocks, EOS, footer.
        expected += [0x01, 0, 0, 0, 1, 3] + Array("ram".utf8) + [0, 0, 0, 0, 0, 0, 0, 4]
        expected += be64(5 * 4096 | 0x04)
        expected += [6] + Array("pc.ram".utf8) + be64(4 * 4096)
        expected += [6] + Array("pc.rom".utf8) + be64(4096)
        expected += be64(0x10) + [0x7E, 0, 0, 0, 1]
        // RAM END: pc.ram page 0 zero, page 1 data, page 2 zero, page 3 data; pc.rom page 0 data.
        expected += [0x03, 0, 0, 0, 1]
        expected += be64(0x0000 | 0x02) + [6] + Array("pc.ram".utf8) + [0]
        var page1 = [UInt8](repeating: 0, count: 4096)
        page1[0...3] = [0xEF, 0xBE, 0xAD, 0xDE]
        expected += be64(0x1000 | 0x08 | 0x20) + page1
        expected += be64(0x2000 | 0x02 | 0x20) + [0]
        var page3 = [UInt8](repeating: 0, count: 4096)
        page3[4095] = 0x5A
        expected += be64(0x3000 | 0x08 | 0x20) + page3
        expected += be64(0x0000 | 0x08) + [6] + Array("pc.rom".utf8) + [UInt8](repeating: 0xFF, count: 4096)
        expected += be64(0x10) + [0x7E, 0, 0, 0, 1]
        // Devices: FULL sections 2 and 3.
        expected += [0x04, 0, 0, 0, 2, 7] + Array("counter".utf8) + [0, 0, 0, 0, 0, 0, 0, 2]
        expected += [1, 2, 3, 4, 0, 7, 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 1]
        expected += [0x7E, 0, 0, 0, 2]
        expected += [0x04, 0, 0, 0, 3, 4] + Array("blob".utf8) + [0, 0, 0, 3, 0, 0, 0, 1]
        expected += [0, 0, 0xFE, 0xED, 0, 0, 0x10, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5]
        expected += [0x7E, 0, 0, 0, 3]
        expected += [0x00]
        let json =
            #"{"page_size": 4096, "devices": [{"name": "counter", "instance_id": 0, "vmsd_name": "str-counter", "version": 2, "fields": [{"name": "counter", "type": "uint32", "size": 4}, {"name": "mode", "type": "uint16", "size": 2}, {"name": "regs", "array_len": 8, "type": "uint8", "size": 1}, {"name": "irq", "type": "bool", "size": 1}]}, {"name": "blob", "instance_id": 3, "vmsd_name": "str-blob", "version": 1, "fields": [{"name": "base", "type": "uint64", "size": 8}, {"name": "len", "type": "uint32", "size": 4}, {"name": "data", "type": "buffer", "size": 5}]}]}"#
        expected += [0x06] + be32(UInt32(json.utf8.count)) + Array(json.utf8)
        #expect(bytes.count == expected.count)
        #expect(
            bytes == expected,
            "first difference at \((0..<min(bytes.count, expected.count)).first { bytes[$0] != expected[$0] } ?? -1)")
    }

    /// An emulator of a target whose page size may vary (ARM: QEMU's TARGET_PAGE_BITS_MIN 10)
    /// sends `configuration/target-page-bits` (12) after the machine type, as QEMU's aarch64
    /// `virt` streams do (without it QEMU takes 10 and refuses the stream); the QEMU 10.0 vmdesc
    /// describes it as QEMU 10.0's aarch64 vmdesc does. A loaded stream keeps it on its re-save.
    @Test func targetPageBitsSubsectionWhenTheMinimumIsSmaller() throws {
        let machine = try Machine(fill: true)
        let plain = try machine.registry.save(machineType: "virt-7.2")
        let header: [UInt8] = [0x51, 0x45, 0x56, 0x4D, 0, 0, 0, 3, 0x07, 0, 0, 0, 8] + Array("virt-7.2".utf8)
        let subsection: [UInt8] =
            [0x05, 30] + Array("configuration/target-page-bits".utf8) + [0, 0, 0, 1] + [0, 0, 0, 12]
        #expect(Array(plain.prefix(header.count + 1)) == header + [0x01])

        try machine.registry.setTargetPageBitsMinimum(10)
        #expect(machine.registry.targetPageBitsMinimum == 10)
        let arm = try machine.registry.save(machineType: "virt-7.2")
        #expect(Array(arm.prefix(header.count + subsection.count)) == header + subsection)
        #expect(Array(arm.dropFirst(header.count + subsection.count)) == Array(plain.dropFirst(header.count)))

        let target = try Machine(fill: false)
        try target.registry.load(arm)
        #expect(try target.registry.save() == arm)

        // A later save with no machine type (the last save's), never loaded: the same, and so
        // is a live migration's start.
        #expect(try machine.registry.save() == arm)
        var error: UnsafeMutablePointer<GError>?
        let out = LiveMigrationTests.memoryStream()
        defer { g_object_unref(out) }
        let mig = try #require(vmstate_migration_start(StreamIOTests.handle(machine.registry), nil, out, &error))
        vmstate_migration_free(mig)
        #expect(Array(LiveMigrationTests.bytes(of: out).prefix(header.count + subsection.count)) == header + subsection)

        // A stream without it, by QEMU's rule a source whose pages are the target's smallest, is
        // refused as QEMU's ARM destination refuses it.
        let arm10Target = try Machine(fill: false)
        try arm10Target.registry.setTargetPageBitsMinimum(10)
        let refused = try #require(throws: VMStateError.self) { try arm10Target.registry.load(plain) }
        #expect(refused.kind == .badStream && refused.offset == header.count)
        #expect(refused.reason.hasPrefix("Received TARGET_PAGE_BITS is 10 but local is 12 ("), "\(refused)")
        // Loaded before the minimum was set (as an x86 registry), saved back after: sent first.
        let late = try Machine(fill: false)
        try late.registry.load(plain)
        try late.registry.setTargetPageBitsMinimum(10)
        #expect(try late.registry.save() == arm)

        machine.registry.streamVersion = .qemu10_0
        let arm10 = try machine.registry.save(machineType: "virt-10.0")
        let vmdesc = try StreamAnalysis.readVMDesc(StreamBytes(arm10)).0
        #expect(
            vmdesc["configuration"]?.formatted(.pythonCompact)
                == #"{"vmsd_name": "configuration", "version": 1, "fields": [{"name": "len", "type": "uint32", "size": 4}, {"name": "name", "type": "buffer", "size": 9}], "subsections": [{"vmsd_name": "configuration/target-page-bits", "version": 1, "fields": [{"name": "target_page_bits", "type": "uint32", "size": 4}]}]}"#
        )

        // The tool sees the subsection: --tree, diff and compat (QEMU's ARM destination
        // refuses `plain`, the stream of an emulator that forgot the minimum).
        if Tool.path != nil {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-tpb-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let (plainPath, armPath, arm10Path) = (
                dir.path + "/plain.bin", dir.path + "/arm.bin", dir.path + "/arm10.bin"
            )
            try Data(plain).write(to: URL(fileURLWithPath: plainPath))
            try Data(arm).write(to: URL(fileURLWithPath: armPath))
            try Data(arm10).write(to: URL(fileURLWithPath: arm10Path))
            for path in [armPath, arm10Path] {
                let tree = try Tool.run(["analyze", "--tree", path])
                #expect(tree.stdout.contains("\npage size: 4096 (configuration/target-page-bits 12), vmdesc at offset"))
            }
            #expect(try !Tool.run(["analyze", "--tree", plainPath]).stdout.contains("target-page-bits"))
            let diff = try Tool.run(["diff", "--no-ram", plainPath, armPath])
            #expect(diff.status == 1)
            #expect(
                diff.stdout
                    == "configuration: target page bits\n    A: (not sent)\n    B: 12\n1 difference in 1 section\n")
            let into = try Tool.run(["compat", plainPath, armPath])
            #expect(into.status == 1)
            #expect(
                into.stdout
                    == "section \"configuration\": OLD has no configuration/target-page-bits and NEW's stream has 12 (its target's pages, 4096 bytes, are above the target's minimum): QEMU takes a stream without it as of the minimum page size and refuses it (\"Received TARGET_PAGE_BITS is N but local is 12\", N the minimum: 10 on ARM); an emulator writing OLD sets vmstate_registry_set_target_page_bits_min [configuration]\nNOT compatible: 1 problem (state saved by OLD does not load into NEW: QEMU refuses it or loads wrong values)\n"
            )
            let back = try Tool.run(["compat", armPath, plainPath])
            #expect(back.status == 1)
            #expect(
                back.stdout.hasPrefix(
                    "section \"configuration\": OLD has configuration/target-page-bits 12 and NEW's stream has none"))
            #expect(try Tool.run(["compat", armPath, armPath]).status == 0)
        }

        for bad in [0, 13] {
            #expect(throws: VMStateError.self) { try machine.registry.setTargetPageBitsMinimum(bad) }
        }
        #expect(machine.registry.targetPageBitsMinimum == 10)
        #expect(!vmstate_registry_set_target_page_bits_min(StreamIOTests.handle(machine.registry), 13, &error))
        #expect(
            error.map { String(cString: $0.pointee.message) }
                == "the target page bits minimum must be 1 to 12 (pages here are 4 KiB), got 13 (at byte 0)")
        g_clear_error(&error)
        #expect(vmstate_registry_set_target_page_bits_min(StreamIOTests.handle(machine.registry), 12, &error))
        #expect(Array(try machine.registry.save(machineType: "virt-7.2").prefix(header.count + 1)) == header + [0x01])
    }

    /// A vmdesc with two entries for one section (QEMU writes two for two sections of one idstr
    /// and instance, as QEMU 7.2's isapc `isa-ide`): a skipped section takes its size from the
    /// entry of its rank among the stream's sections of that idstr and instance, here the first,
    /// as `vmstate analyze` does (QEMU's script takes the last).
    @Test func aSkippedSectionTakesTheVMDescEntryOfItsRank() throws {
        let machine = try Machine(fill: true)
        let bytes = try machine.registry.save(machineType: "tiny")
        let real =
            #"{"name": "counter", "instance_id": 0, "vmsd_name": "str-counter", "version": 2, "fields": [{"name": "counter", "type": "uint32", "size": 4}, {"name": "mode", "type": "uint16", "size": 2}, {"name": "regs", "array_len": 8, "type": "uint8", "size": 1}, {"name": "irq", "type": "bool", "size": 1}]}"#
        let bigger = real.replacingOccurrences(
            of: #"{"name": "irq", "type": "bool", "size": 1}"#,
            with: #"{"name": "irq", "type": "bool", "size": 1}, {"name": "x", "type": "uint8", "size": 1}"#)
        // The vmdesc: 0x06, be32 length, then the JSON to the end.
        let opening = Array(#"{"page_size""#.utf8)
        let jsonStart = try #require(
            (0...bytes.count - opening.count).last { Array(bytes[$0..<$0 + opening.count]) == opening })
        #expect(bytes[jsonStart - 5] == 0x06)
        let json = try #require(String(bytes: bytes[jsonStart...], encoding: .utf8))
        #expect(json.contains(real))
        func stream(_ entries: String) -> [UInt8] {
            let changed = json.replacingOccurrences(of: real, with: entries)
            return Array(bytes[..<(jsonStart - 4)]) + be32(UInt32(changed.utf8.count)) + Array(changed.utf8)
        }
        try Registry().load(stream(real + ", " + bigger), options: .keepUnknown)
        let e = try #require(throws: VMStateError.self) {
            try Registry().load(stream(bigger + ", " + real), options: .keepUnknown)
        }
        #expect(
            e.kind == .unknownSection
                && e.description.hasPrefix(
                    "cannot skip section \"counter\" instance 0: the stream's vmdesc does not describe it (its footer "
                        + "is not where the vmdesc's 16 bytes end)"),
            "\(e)")
    }

    /// A stream of a target whose pages are not 4 KiB (AVR's arduino-uno: 256 B, QEMU 10.0),
    /// loaded from a buffer, is refused as such at its RAM section, before a page is read: its
    /// vmdesc's page_size is named, not the RAM record its pages, read at 4 KiB, misread into;
    /// from a GIO stream (the vmdesc comes last) that record fails with a hint at smaller pages.
    @Test func streamsOfOtherTargetsAreRefusedByWhatTheyLack() throws {
        let avr = try TestPaths.readBytes(TestPaths.qemu10Fixtures + "/avr-uno/stream.bin")
        let e = try #require(throws: VMStateError.self) { try Registry().load(avr, options: .keepUnknown) }
        #expect(e.kind == .badStream)
        #expect(
            e.description
                == "section \"ram\" instance 0: the stream's RAM pages are 256 bytes (its vmdesc's page_size: a target whose pages are not 4 KiB), which the registry's 4 KiB pages do not load; expected 4096, got 256 (at byte 24)"
        )
        // From a GIO stream the vmdesc comes last: the RAM records misread first (documented).
        let viaStream = StreamIOTests.loadFromStream(
            Registry(), avr, chunk: 4096, flags: Registry.LoadOptions.keepUnknown.rawValue)
        #expect(!viaStream.ok)
        #expect(
            viaStream.message
                == "section \"ram\" instance 0: Unknown combination of migration flags: 0x122 (a zero or page record with the bits 0x100: if the source's target has smaller pages, such as ARM boards' 1 KiB or AVR's 256 bytes, as its vmdesc's page_size would say, they are a page's address below 4 KiB, which the registry's 4 KiB pages do not load); expected one of 0x02 zero, 0x04 size, 0x08 page, 0x10 end, 0x40 XBZRLE, 0x100 compressed page (0x20 continue may be added) (at byte 109)"
        )
    }

    /// The iterative sections other than RAM whose records give their end, ppc64 pseries'
    /// hash page table (`spapr/htab`) and s390x's storage attributes, are read past with
    /// SKIP_UNKNOWN and kept with KEEP_UNKNOWN (written back as they came, so the saved stream
    /// equals QEMU's), from a buffer and from a GIO stream; without either flag the load refuses
    /// them by name, as an unknown section.
    @Test func pseriesAndS390xIterativeSectionsAreSkippedOrKept() throws {
        let s390x = try TestPaths.readBytes(TestPaths.qemu10Fixtures + "/s390x/stream.bin")
        let pseries = try TestPaths.readBytes(TestPaths.packageRoot + "/Tests/Fixtures/compat/ppc-pvr/qemu-7.2.bin")
        for (stream, idstr, block, length, machine) in [
            (s390x, "s390-storage_attributes", "s390.ram", 16 << 20, "s390-ccw-virtio-10.0"),
            (pseries, "spapr/htab", "ppc_spapr.ram", 256 << 20, "pseries-7.2"),
        ] {
            let ram = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
            defer { ram.deallocate() }
            let plain = Registry()
            try plain.addRAM(idstr: block, host: ram, length: length)
            let e = try #require(throws: VMStateError.self) { try plain.load(stream) }
            #expect(e.kind == .unknownSection)
            #expect(
                e.description
                    == "iterative section \"\(idstr)\" is not loaded (only \"ram\" is): VMSTATE_LOAD_SKIP_UNKNOWN reads past it, VMSTATE_LOAD_KEEP_UNKNOWN keeps it for the next save (at byte \(e.offset))"
            )
            // Kept whole (RAM and devices too, nobody registered them): saved as it came.
            let kept = Registry()
            try kept.load(stream, options: .keepUnknown)
            #expect(kept.loadedMachineType == machine)
            #expect(try kept.save() == stream)
            // RAM registered, the rest read past: the guest memory is the stream's (its last page
            // of each address), from a buffer and from a GIO stream 7 bytes at a time.
            let skipping = Registry()
            try skipping.addRAM(idstr: block, host: ram, length: length)
            ram.initializeMemory(as: UInt8.self, repeating: 0xEE, count: length)
            try skipping.load(stream, options: .skipUnknown)
            let expected = try Self.lastPages(of: stream, block: block, length: length)
            #expect(memcmp(ram, expected, length) == 0)
            ram.initializeMemory(as: UInt8.self, repeating: 0xEE, count: length)
            let viaStream = StreamIOTests.loadFromStream(
                skipping, stream, chunk: 7, flags: Registry.LoadOptions.skipUnknown.rawValue)
            #expect(viaStream.ok, "\(viaStream.message)")
            #expect(memcmp(ram, expected, length) == 0)
            // Cut inside the iterative section's first part: the stream ended there, named.
            let at = try #require(Self.firstSection(idstr, in: stream))
            let cut = Array(stream[..<(at + 30)])
            let short = try #require(throws: VMStateError.self) { try Registry().load(cut, options: .keepUnknown) }
            #expect(short.kind == .shortInput, "\(short)")
        }
    }

    /// A hash table chunk past the table a START gave (2^21 bytes: 131,072 entries) is refused
    /// as QEMU's `htab_load` refuses it, by the registry (SKIP and KEEP alike: a kept chunk was
    /// written back, and one whose index wrapped QEMU's 32-bit sum crashed QEMU 10.0; hostile54
    /// D1) and by `vmstate analyze`; one that ends at the table's end loads. A START of a size
    /// QEMU never sends, past 2^46 bytes, is refused too (QEMU would try to allocate it). The
    /// QEMU 7.2 pseries fixture's one PART, at byte 606,353, has no chunk: one is put after its
    /// header.
    @Test func hashTableChunksPastTheTableAreRefused() throws {
        let stream = try TestPaths.readBytes(TestPaths.packageRoot + "/Tests/Fixtures/compat/ppc-pvr/qemu-7.2.bin")
        let part = 606_353
        #expect(stream[part] == 0x02 && stream[(part + 1)..<(part + 9)].elementsEqual([0, 0, 2, 0x33, 0, 0, 0, 0]))
        func withChunk(index: UInt32, valid: UInt16, invalid: UInt16) -> [UInt8] {
            var chunk =
                withUnsafeBytes(of: index.bigEndian, Array.init) + withUnsafeBytes(of: valid.bigEndian, Array.init)
            chunk +=
                withUnsafeBytes(of: invalid.bigEndian, Array.init) + [UInt8](repeating: 0xAB, count: 16 * Int(valid))
            return Array(stream[..<(part + 9)]) + chunk + stream[(part + 9)...]
        }
        let ram = UnsafeMutableRawPointer.allocate(byteCount: 256 << 20, alignment: 4096)
        defer { ram.deallocate() }
        let last = withChunk(index: 131_071, valid: 1, invalid: 0)
        let kept = Registry()
        try kept.load(last, options: .keepUnknown)
        #expect(try kept.save() == last)
        // Refused by the registry (SKIP and KEEP) and by `vmstate analyze`, at byte `at`.
        func expectRefused(_ bad: [UInt8], _ reason: String, at: Int, name: String) throws {
            for options in [Registry.LoadOptions.skipUnknown, .keepUnknown] {
                let registry = Registry()
                // (Reading past needs the RAM registered: RAM is never an unknown section.)
                if options == .skipUnknown { try registry.addRAM(idstr: "ppc_spapr.ram", host: ram, length: 256 << 20) }
                let e = try #require(throws: VMStateError.self) { try registry.load(bad, options: options) }
                #expect(e.kind == .badStream)
                #expect(e.description == "section \"spapr/htab\" instance 0: \(reason) (at byte \(at))")
            }
            let path = NSTemporaryDirectory() + "/vmstate-htab-\(getpid())-\(name).bin"
            try Data(bad).write(to: URL(fileURLWithPath: path))
            defer { unlink(path) }
            let tool = try Tool.run(["analyze", path])
            #expect(tool.status == 2)
            #expect(
                tool.stderr
                    == "vmstate analyze: error: at byte offset \(at) (0x\(String(at, radix: 16))), section \"spapr/htab\" (section id 563, instance 0): \(reason)\n"
            )
        }
        for (index, valid, invalid, qemu) in [
            (UInt32(131_072), UInt16(1), UInt16(0), "131072 (1+0 entries)"),
            (131_000, 50, 23, "131000 (50+23 entries)"),
            (0xFFFF_FFFE, 1, 2, "-2 (1+2 entries)"),
        ] {
            let end = UInt64(index) + UInt64(valid) + UInt64(invalid) - 1
            try expectRefused(
                withChunk(index: index, valid: valid, invalid: invalid),
                "an HTAB chunk of entries \(index) to \(end), past the hash table of 131072 entries (QEMU: \"htab_load() bad index \(qemu) in htab stream (htab_shift=21)\")",
                at: part + 9, name: "\(index)")
        }
        // A START of -1 (no table) and then the PART of chunks, even with none: QEMU 7.2 and 10.0
        // under TCG stop on htab_load's assert(kvm_enabled()) (review55 D2: it was kept and
        // written on). Its header is at byte part + 5.
        var freed = stream
        freed.replaceSubrange((84 + 24)..<(84 + 28), with: [0xFF, 0xFF, 0xFF, 0xFF])
        try expectRefused(
            freed,
            "a hash table part (header 0) after the source sent -1 (no hash table): QEMU's destination has no table to load it into (under TCG it stops on htab_load's assert(kvm_enabled()); under KVM it refuses any chunk in it as past a table of size 0)",
            at: part + 5, name: "freed")

        var huge = stream
        huge[84 + 27] = 47  // the low byte of the START's be32 size log2, 21
        let e = try #require(throws: VMStateError.self) { try Registry().load(huge, options: .keepUnknown) }
        #expect(
            e.description
                == "section \"spapr/htab\" instance 0: a hash table of 2^47 bytes, past the 2^46 a QEMU source sends at most (spapr's largest architected size): QEMU's destination would try to allocate it (at byte 108)"
        )
    }

    /// QEMU 7.2's isapc saves both `isa-ide` channels as instance 0, and QEMU (7.2 and 10.0,
    /// `find_se`) loads both sections into its first channel, which ends with the second's
    /// state (checked: compat's `sectionsSavedTwiceWithOneInstance`). A registered `isa-ide`
    /// (QEMU's own tables, which write only over the struct) loads the same way; it was refused
    /// as a section that appears twice (hostile53 D2). QEMU 10.0's stream (instances 0 and 1)
    /// loads each into its own.
    @Test func aSectionTwiceLoadsTwiceIntoItsDeviceAsQEMUDoes() throws {
        let dir = TestPaths.packageRoot + "/Tests/Fixtures/compat/isapc-ide/"
        for transactional in [false, true] {
            let ide = UnsafeMutablePointer<PcISAIDEState>.allocate(capacity: 1)
            defer { ide.deallocate() }
            pc_isa_ide_init(ide)
            let registry = Registry()
            try withUnsafePointer(to: pc_vmstate_ide_isa) {
                try registry.add(
                    idstr: "isa-ide", instanceID: 0, vmsd: $0, opaque: UnsafeMutableRawPointer(ide),
                    size: MemoryLayout<PcISAIDEState>.size)
            }
            let options: Registry.LoadOptions = transactional ? [.keepUnknown, .transactional] : .keepUnknown
            try registry.load(try TestPaths.readBytes(dir + "qemu-7.2.bin"), options: options)
            // The first section's channel 0 had lcyl 0x00 (its drive), the second's 0xff.
            #expect(ide.pointee.bus.ifs.0.lcyl == 0xFF && ide.pointee.bus.ifs.1.lcyl == 0xFF)
        }
        let channels = UnsafeMutablePointer<PcISAIDEState>.allocate(capacity: 2)
        defer { channels.deallocate() }
        let registry = Registry()
        for i in 0..<2 {
            pc_isa_ide_init(channels + i)
            try withUnsafePointer(to: pc_vmstate_ide_isa) {
                try registry.add(
                    idstr: "isa-ide", instanceID: UInt32(i), vmsd: $0, opaque: UnsafeMutableRawPointer(channels + i),
                    size: MemoryLayout<PcISAIDEState>.size)
            }
        }
        try registry.load(try TestPaths.readBytes(dir + "qemu-10.0.bin"), options: .keepUnknown)
        #expect(channels[0].bus.ifs.0.lcyl == 0x00 && channels[1].bus.ifs.0.lcyl == 0xFF)
    }

    /// The offset of the first START or FULL section of `idstr` in `stream` (its type byte).
    static func firstSection(_ idstr: String, in stream: [UInt8]) -> Int? {
        let name = Array(idstr.utf8)
        guard stream.count > name.count + 6 else { return nil }
        for i in 0..<(stream.count - name.count - 6)
        where (stream[i] == 1 || stream[i] == 4) && stream[i + 5] == UInt8(name.count)
            && Array(stream[(i + 6)..<(i + 6 + name.count)]) == name
        {
            return i
        }
        return nil
    }

    /// The memory of RAM block `block` (`length` bytes) as the analyzer extracts it from
    /// `stream` (`vmstate analyze -x`: later page records over earlier ones).
    static func lastPages(of stream: [UInt8], block: String, length: Int) throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-pages-\(getpid())-\(block)")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("stream.bin")
        try Data(stream).write(to: file)
        let r = try Tool.run(["analyze", "-x", "--directory", dir.path, file.path])
        #expect(r.status == 0, "\(r.stderr)")
        let pages = try Data(contentsOf: dir.appendingPathComponent(block))
        #expect(pages.count == length)
        return Array(pages)
    }

    @Test func roundTripRestoresDevicesAndRAM() throws {
        let source = try Machine(fill: true)
        let bytes = try source.registry.save(machineType: "tiny")
        let target = try Machine(fill: false)
        try target.registry.load(bytes)
        #expect(target.counter.counter == 0x0102_0304)
        #expect(target.counter.mode == 7)
        #expect(rawBytes(target.counter.regs) == (0..<8).map { UInt8(0xA0 + $0) })
        #expect(target.counter.irq)
        #expect(target.blob.base == 0xFEED_0000_1000 && target.blob.len == 5)
        #expect(Array(UnsafeBufferPointer(start: target.blob.data, count: 5)) == [1, 2, 3, 4, 5])
        #expect(memcmp(target.ram, source.ram, 4 * 4096) == 0)
        #expect(memcmp(target.rom, source.rom, 4096) == 0)
        #expect(target.registry.loadedMachineType == "tiny")
        // Saved again with the loaded machine type and layout: the same bytes.
        #expect(try target.registry.save() == bytes)
        // An emulator's own name that starts like QEMU's pc family keeps its configuration
        // section (QEMU's pc-i440fx-2.3 and older send none).
        let xt = try source.registry.save(machineType: "pc-xt-1.0")
        #expect(xt[8] == 0x07)
        let other = try Machine(fill: false)
        try other.registry.load(xt)
        #expect(other.registry.loadedMachineType == "pc-xt-1.0")
    }

    /// Load flags the library does not know are refused before anything loads, from a buffer
    /// and from a GIO stream alike.
    @Test func unknownLoadFlagsAreRefused() throws {
        let source = try Machine(fill: true)
        let bytes = try source.registry.save(machineType: "tiny")
        let target = try Machine(fill: false)
        let expected =
            "unknown load flags 0x18: the flags are VMSTATE_LOAD_SKIP_UNKNOWN (0x1), VMSTATE_LOAD_KEEP_UNKNOWN (0x2) "
            + "and VMSTATE_LOAD_TRANSACTIONAL (0x4) (at byte 0)"
        let e = try #require(
            thrownError(VMStateError.self) {
                try target.registry.load(bytes, options: Registry.LoadOptions(rawValue: 0x19))
            })
        #expect(e.kind == .failed)
        #expect(e.description == expected)
        #expect(target.counter.counter == 0)
        let r = StreamIOTests.loadFromStream(target.registry, bytes, chunk: 4096, flags: 0x18)
        #expect(!r.ok && r.code == VMStateError.Kind.failed.rawValue)
        #expect(r.message == expected)
        #expect(target.counter.counter == 0)
        // From a listener: refused before a connection is accepted (nobody connects here, so an
        // accept first would wait for ever), the listener left to take the source's connection.
        let listener = try StreamSocketTests.Listener()
        var error: UnsafeMutablePointer<GError>?
        #expect(
            !vmstate_registry_load_from_listener(StreamIOTests.handle(target.registry), listener.listener, 0x18, &error)
        )
        #expect(error.map { String(cString: $0.pointee.message) } == expected)
        #expect(error?.pointee.code == VMStateError.Kind.failed.rawValue)
        g_clear_error(&error)
        try target.registry.load(bytes, options: [.skipUnknown, .transactional])
        #expect(target.counter.counter == 0x0102_0304)
    }

    /// A RAM length that is no multiple of 4096 from 4096 to 2^63 - 4096 is refused; a C size_t
    /// of 2^63 or more is printed as the caller passed it, not as a negative number.
    @Test func aRAMLengthThatIsNoPageMultipleIsRefused() throws {
        let reg = Registry()
        let host = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { host.deallocate() }
        for (length, shown) in [(4095, "4095"), (0, "0"), (-4096, "18446744073709547520")] {
            let e = try #require(
                thrownError(VMStateError.self) { try reg.addRAM(idstr: "pc.ram", host: host, length: length) })
            #expect(
                e.description
                    == "pc.ram: RAM block length must be a multiple of 4096 from 4096 to 2^63 - 4096, got \(shown) (at byte 0)"
            )
        }
    }

    /// Names from C that are not UTF-8 (an idstr, a RAM block name, a machine type) are refused:
    /// decoded, their bytes would become U+FFFD, so the stream would carry other bytes and
    /// "a\\xfe" and "a\\xff" would be one name.
    @Test func namesThatAreNotUTF8AreRefused() throws {
        let reg = Registry()
        let handle = StreamIOTests.handle(reg)
        let bad: [CChar] = [0x61, CChar(bitPattern: 0xFF), 0]
        let state = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        state.initialize(to: StrCounter())
        defer { state.deallocate() }
        let host = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { host.deallocate() }
        var error: UnsafeMutablePointer<GError>?
        func message() -> String {
            defer { g_clear_error(&error) }
            return error.map { String(cString: $0.pointee.message) } ?? ""
        }
        #expect(!vmstate_registry_add(handle, bad, 0, StreamFixtures.counter, state, &error))
        #expect(message() == "the idstr is not valid UTF-8 (QEMU's names are ASCII) (at byte 0)")
        #expect(!vmstate_registry_add_ram(handle, bad, host, 4096, &error))
        #expect(message() == "the RAM block name is not valid UTF-8 (QEMU's names are ASCII) (at byte 0)")
        #expect(vmstate_registry_add(handle, "dev", 0, StreamFixtures.counter, state, &error))
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        #expect(!vmstate_registry_save(handle, bad, out, &error))
        #expect(message() == "the machine type is not valid UTF-8 (QEMU's names are ASCII) (at byte 0)")
        #expect(out.pointee.len == 0)
        #expect(vmstate_registry_save(handle, "tiny", out, &error))
    }

    @Test func higherPrioritySectionsAreSavedFirst() throws {
        let registry = Registry()
        let counters = UnsafeMutablePointer<StrCounter>.allocate(capacity: 2)
        counters.initialize(repeating: StrCounter(), count: 2)
        defer { counters.deallocate() }
        counters[1].counter = 0xAABB_CCDD
        try registry.add(idstr: "plain", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counters)
        try registry.add(idstr: "iommu", instanceID: 0, vmsd: str_iommu_vmsd_ptr(), opaque: counters + 1)
        let bytes = try registry.save(machineType: "m")
        // Right after the header and configuration: the MIG_PRI_IOMMU device as section 0.
        let header = 8 + 1 + 4 + 1
        #expect(Array(bytes[header..<header + 11]) == [0x04, 0, 0, 0, 0, 5] + Array("iommu".utf8))
        #expect(Array(bytes[header + 19..<header + 23]) == [0xAA, 0xBB, 0xCC, 0xDD])
        #expect(Array(bytes[header + 28..<header + 39]) == [0x04, 0, 0, 0, 1, 5] + Array("plain".utf8))
    }

    /// QEMU 7.2's order (savevm_state_handler_insert): higher MigrationPriority first, then
    /// registration order within a priority; section ids follow the saved order.
    @Test func sectionsAreSavedByPriorityThenRegistrationOrder() throws {
        // str-iommu's description at MIG_PRI_PCI_BUS. It lives for the process, as tables must
        // (plans are kept by address).
        let pciBus = UnsafeMutablePointer<VMStateDescription>.allocate(capacity: 1)
        pciBus.initialize(to: str_iommu_vmsd_ptr().pointee)
        pciBus.pointee.priority = MIG_PRI_PCI_BUS
        let registry = Registry()
        let counters = UnsafeMutablePointer<StrCounter>.allocate(capacity: 4)
        counters.initialize(repeating: StrCounter(), count: 4)
        defer { counters.deallocate() }
        try registry.add(idstr: "first-default", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counters)
        try registry.add(idstr: "iommu", instanceID: 0, vmsd: str_iommu_vmsd_ptr(), opaque: counters + 1)
        try registry.add(idstr: "second-default", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counters + 2)
        try registry.add(idstr: "pci-bus", instanceID: 0, vmsd: pciBus, opaque: counters + 3)
        let bytes = try registry.save(machineType: "m")
        let analysis = try StreamAnalysis(bytes: StreamBytes(bytes), options: .init(recordPages: false))
        #expect(
            analysis.sections.map { "\($0.name) \($0.sectionID)" }
                == ["pci-bus 0", "iommu 1", "first-default 2", "second-default 3"])
    }

    /// A device whose description's own `needed` returns false is left out of the stream, its
    /// section and its vmdesc entry, as QEMU skips it (savevm.c; pcspk with `migrate=off`): here
    /// fx-rtc's irq_reinject description registered as a device, needed when its count is not 0.
    @Test func aSectionNotNeededIsNotSaved() throws {
        let registry = Registry()
        let counter = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        counter.initialize(to: StrCounter())
        let rtc = UnsafeMutablePointer<FxRTCState>.allocate(capacity: 1)
        rtc.initialize(to: FxRTCState())
        defer {
            counter.deallocate()
            rtc.deallocate()
        }
        try registry.add(idstr: "counter", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counter)
        // The description lives for the process, as tables must (plans are kept by address).
        let reinject = UnsafeMutablePointer<VMStateDescription>.allocate(capacity: 1)
        reinject.initialize(to: fx_rtc_irq_reinject_vmsd)
        try registry.add(idstr: "reinject", instanceID: 0, vmsd: reinject, opaque: rtc)
        let without = try registry.save(machineType: "m")
        let a = try StreamAnalysis(bytes: StreamBytes(without), options: .init(recordPages: false))
        #expect(a.sections.map { "\($0.name) \($0.sectionID)" } == ["counter 0"])
        #expect(!String(decoding: without, as: UTF8.self).contains("reinject"))
        // Needed: saved with its own section id, and loads back.
        rtc.pointee.irq_reinject_on_ack_count = 7
        let with = try registry.save(machineType: "m")
        let b = try StreamAnalysis(bytes: StreamBytes(with), options: .init(recordPages: false))
        #expect(b.sections.map { "\($0.name) \($0.sectionID)" } == ["counter 0", "reinject 1"])
        rtc.pointee.irq_reinject_on_ack_count = 0
        try registry.load(with)
        #expect(rtc.pointee.irq_reinject_on_ack_count == 7)
    }

    /// QEMU's VMSTATE_INSTANCE_ID_ANY (calculate_new_instance_id): one past the highest instance
    /// id of the idstr, or 0; the ids reach the stream's section headers.
    @Test func anyInstanceIDTakesTheNextFreeOneOfTheIdstr() throws {
        let registry = Registry()
        let counters = UnsafeMutablePointer<StrCounter>.allocate(capacity: 7)
        counters.initialize(repeating: StrCounter(), count: 7)
        defer { counters.deallocate() }
        let any = UInt32(bitPattern: VMSTATE_INSTANCE_ID_ANY)
        #expect(any == Registry.anyInstanceID)
        try registry.add(idstr: "uart", instanceID: any, vmsd: StreamFixtures.counter, opaque: counters)
        try registry.add(idstr: "uart", instanceID: any, vmsd: StreamFixtures.counter, opaque: counters + 1)
        try registry.add(idstr: "timer", instanceID: 5, vmsd: StreamFixtures.counter, opaque: counters + 2)
        try registry.add(idstr: "timer", instanceID: any, vmsd: StreamFixtures.counter, opaque: counters + 3)
        try registry.add(idstr: "disk", instanceID: any, vmsd: StreamFixtures.counter, opaque: counters + 4)
        // A lower id after them: ANY is still one past the highest, not the last.
        try registry.add(idstr: "timer", instanceID: 2, vmsd: StreamFixtures.counter, opaque: counters + 5)
        try registry.add(idstr: "timer", instanceID: any, vmsd: StreamFixtures.counter, opaque: counters + 6)
        let bytes = try registry.save(machineType: "m")
        let analysis = try StreamAnalysis(bytes: StreamBytes(bytes), options: .init(recordPages: false))
        #expect(
            analysis.sections.map { "\($0.name) \($0.instanceID)" }
                == ["uart 0", "uart 1", "timer 5", "timer 6", "disk 0", "timer 2", "timer 7"])
        // An explicit id that ANY already took is a duplicate.
        let e = engineError {
            try registry.add(idstr: "uart", instanceID: 1, vmsd: StreamFixtures.counter, opaque: counters)
        }
        #expect(e?.reason == "section \"uart\" instance 1 is registered already")
    }

    /// Forty RAM blocks (past the eight a load looks through by name): a load puts each page
    /// back into its own block; a registry without the last block refuses the stream naming it,
    /// and one with a block of another length names that block.
    @Test func manyRAMBlocksLoadEachPageIntoItsOwnBlock() throws {
        let count = 40
        let pages = 2
        let memory = UnsafeMutableRawPointer.allocate(byteCount: count * pages * 4096, alignment: 4096)
        defer { memory.deallocate() }
        func fill() {
            for b in 0..<count {
                for p in 0..<pages {
                    memset(memory + (b * pages + p) * 4096, Int32(b * pages + p + 1), 4096)
                }
            }
        }
        func machine(_ blocks: Range<Int>, lastLength: Int = pages * 4096) throws -> Registry {
            let registry = Registry()
            for b in blocks {
                try registry.addRAM(
                    idstr: "block-\(b)", host: memory + b * pages * 4096,
                    length: b == count - 1 ? lastLength : pages * 4096)
            }
            return registry
        }
        fill()
        let registry = try machine(0..<count)
        let stream = try registry.save(machineType: "m")
        memset(memory, 0, count * pages * 4096)
        try registry.load(stream)
        let bytes = UnsafeRawBufferPointer(start: memory, count: count * pages * 4096)
        let wrong = (0..<count * pages).filter { (page: Int) -> Bool in
            let value = UInt8(page + 1)
            return bytes[page * 4096] != value || bytes[page * 4096 + 4095] != value
        }
        #expect(wrong == [])

        let missing = engineError { try machine(0..<count - 1).load(stream) }
        #expect(missing?.kind == .ram && missing?.path == "block-\(count - 1)")
        let notRegistered = "the stream has a RAM block that is not registered (8192 bytes)"
        #expect(missing?.reason == "section \"ram\" instance 0: " + notRegistered)
        let shorter = engineError { try machine(0..<count, lastLength: 4096).load(stream) }
        #expect(shorter?.kind == .ram && shorter?.path == "block-\(count - 1)")
        #expect(shorter?.reason == "section \"ram\" instance 0: RAM block length differs")
        let twice = engineError { try registry.addRAM(idstr: "block-7", host: memory, length: 4096) }
        #expect(twice?.reason == "RAM block block-7 is registered already")
    }

    @Test func anyInstanceIDAfterTheLastIDFails() throws {
        let registry = Registry()
        let counter = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        counter.initialize(to: StrCounter())
        defer { counter.deallocate() }
        try registry.add(idstr: "uart", instanceID: 0xffff_fffe, vmsd: StreamFixtures.counter, opaque: counter)
        let e = engineError {
            try registry.add(
                idstr: "uart", instanceID: Registry.anyInstanceID, vmsd: StreamFixtures.counter, opaque: counter)
        }
        #expect(e?.kind == .failed)
        #expect(e?.reason == "section uart has no free instance id after 4294967294")
    }

    /// A stream may give a section the id 0xffffffff; a save that adds a section after it takes
    /// the next free id (it trapped on the overflow; found by the stream fuzz target).
    @Test func sectionIDsAfterTheLastOneWrapToAFreeOne() throws {
        let counters = UnsafeMutablePointer<StrCounter>.allocate(capacity: 2)
        counters.initialize(repeating: StrCounter(), count: 2)
        defer { counters.deallocate() }
        let first = Registry()
        try first.add(idstr: "uart", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counters)
        var stream = try first.save(machineType: "m")
        // The FULL section's header: 0x04, be32 section id 0, "uart".
        let header: [UInt8] = [0x04, 0, 0, 0, 0, 4] + Array("uart".utf8)
        let at = try #require(
            (0..<stream.count - header.count).first { stream[$0..<$0 + header.count].elementsEqual(header) })
        stream.replaceSubrange(at + 1..<at + 5, with: [0xFF, 0xFF, 0xFF, 0xFF])
        // Its footer: 0x7e, be32 id.
        let footer = try #require(
            (at..<stream.count - 5).first { stream[$0..<$0 + 5].elementsEqual([0x7E, 0, 0, 0, 0]) })
        stream.replaceSubrange(footer + 1..<footer + 5, with: [0xFF, 0xFF, 0xFF, 0xFF])
        let second = Registry()
        try second.add(idstr: "uart", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counters)
        try second.load(stream)
        try second.add(idstr: "uart", instanceID: 1, vmsd: StreamFixtures.counter, opaque: counters + 1)
        let saved = try second.save()
        let analysis = try StreamAnalysis(bytes: StreamBytes(saved), options: .init(recordPages: false))
        #expect(
            analysis.sections.map { "\($0.name) \($0.instanceID) id \($0.sectionID)" } == [
                "uart 0 id 4294967295", "uart 1 id 0",
            ])
    }

    /// A registered device the loaded stream does not have (QEMU 7.2's pc-bios stream, all
    /// kept, and one more device) is saved after the stream's sections with an id none of them
    /// has, kept ones included: it took the id after the highest loaded one (here 0, the
    /// timer's, as nothing loaded), and `vmstate analyze`, which keys sections by id as QEMU's
    /// script does, then lost the section it shared it with (a port of hpet registered for a
    /// machine without one took pcspk's).
    @Test func aDeviceTheStreamLacksTakesAnIDNoKeptSectionHas() throws {
        let original = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        let before = try StreamAnalysis(bytes: StreamBytes(original), options: .init(recordPages: false))
        let ids = before.sections.map(\.sectionID)
        #expect(before.sections.first { $0.name == "timer" }?.sectionID == 0)
        let counter = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        counter.initialize(to: StrCounter())
        defer { counter.deallocate() }
        let registry = Registry()
        try registry.add(idstr: "uart", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counter)
        try registry.load(original, options: .keepUnknown)
        let saved = try registry.save()
        let after = try StreamAnalysis(bytes: StreamBytes(saved), options: .init(recordPages: false))
        #expect(after.sections.count == before.sections.count + 1)
        #expect(Set(after.sections.map(\.sectionID)).count == after.sections.count)
        let added = try #require(after.sections.last)
        #expect(added.name == "uart" && added.sectionID == ids.max()! + 1)
        #expect(after.sections.dropLast().map(\.name) == before.sections.map(\.name))
    }

    @Test func cRegistryAddTakesVMSTATE_INSTANCE_ID_ANY() throws {
        let reg = vmstate_registry_new()
        defer { vmstate_registry_free(reg) }
        let counters = UnsafeMutablePointer<StrCounter>.allocate(capacity: 2)
        counters.initialize(repeating: StrCounter(), count: 2)
        defer { counters.deallocate() }
        var error: UnsafeMutablePointer<GError>? = nil
        let any = UInt32(bitPattern: VMSTATE_INSTANCE_ID_ANY)
        #expect(vmstate_registry_add(reg, "uart", 3, StreamFixtures.counter, counters, &error))
        #expect(vmstate_registry_add(reg, "uart", any, StreamFixtures.counter, counters + 1, &error))
        #expect(error == nil)
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        #expect(vmstate_registry_save(reg, "m", out, &error))
        let bytes = Array(UnsafeBufferPointer(start: out.pointee.data, count: Int(out.pointee.len)))
        let analysis = try StreamAnalysis(bytes: StreamBytes(bytes), options: .init(recordPages: false))
        #expect(analysis.sections.map { "\($0.name) \($0.instanceID)" } == ["uart 3", "uart 4"])
    }

    /// A struct size of 0 would bound nothing (no write lies in a region of no bytes), so it is
    /// refused; a NULL description or state is an unusable table, as for the one-call
    /// functions (docs/errors.md, code 12).
    @Test func cSizeZeroAndNullTablesAreRefused() throws {
        let reg = vmstate_registry_new()
        defer { vmstate_registry_free(reg) }
        let counter = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        counter.initialize(to: StrCounter())
        defer { counter.deallocate() }
        func refused(_ call: (UnsafeMutablePointer<UnsafeMutablePointer<GError>?>) -> Bool) -> (Int32, String)? {
            var error: UnsafeMutablePointer<GError>? = nil
            guard !call(&error), let error else { return nil }
            defer { g_error_free(error) }
            return (error.pointee.code, String(cString: error.pointee.message))
        }
        let sized = refused { vmstate_registry_add_sized(reg, "uart", 0, StreamFixtures.counter, counter, 0, $0) }
        #expect(sized?.0 == Int32(VMSTATE_ERROR_FAILED.rawValue))
        #expect(sized?.1 == "uart: the struct's size must be positive (it bounds the loads' writes), got 0 (at byte 0)")
        // A size no allocation holds is taken, and a transactional load, which copies the struct
        // first, refuses it before loading anything (not one that is not transactional).
        let huge = vmstate_registry_new()
        defer { vmstate_registry_free(huge) }
        let hugeAdded = refused {
            vmstate_registry_add_sized(huge, "uart", 0, StreamFixtures.counter, counter, 1 << 62, $0)
        }
        #expect(hugeAdded == nil)
        let saved = g_byte_array_new()!
        defer { g_byte_array_unref(saved) }
        #expect(refused { vmstate_registry_save(huge, "tiny", saved, $0) } == nil)
        let hugeStream = g_bytes_new(saved.pointee.data, gsize(saved.pointee.len))!
        defer { g_bytes_unref(hugeStream) }
        let transactional = refused { vmstate_registry_load(huge, hugeStream, 0x4, $0) }
        #expect(transactional?.0 == Int32(VMSTATE_ERROR_FAILED.rawValue))
        #expect(
            transactional?.1
                == "section \"uart\" instance 0: a transactional load keeps a copy of the struct to restore on failure, and its size cannot be "
                + "allocated (is the struct's size right?), got 4611686018427387904 bytes (at byte 0)")
        #expect(refused { vmstate_registry_load(huge, hugeStream, 0, $0) } == nil)
        let input = g_bytes_new(nil, 0)!
        defer { g_bytes_unref(input) }
        let checked = refused { vmstate_load_checked(StreamFixtures.counter, counter, 0, 1, input, 0, $0) }
        #expect(checked?.0 == Int32(VMSTATE_ERROR_FAILED.rawValue))
        #expect(
            checked?.1
                == "str-counter: the struct's size must be positive (it bounds the load's writes), got 0 (at byte 0)")
        let noTable = refused { vmstate_registry_add(reg, "uart", 0, nil, counter, $0) }
        #expect(noTable?.0 == Int32(VMSTATE_ERROR_INVALID_TABLE.rawValue))
        #expect(noTable?.1 == "vmstate_registry_add: NULL VMStateDescription (at byte 0)")
        let noState = refused { vmstate_registry_add_sized(reg, "uart", 0, StreamFixtures.counter, nil, 8, $0) }
        #expect(noState?.0 == Int32(VMSTATE_ERROR_INVALID_TABLE.rawValue))
        #expect(noState?.1 == "vmstate_registry_add_sized: NULL opaque (at byte 0)")
        // With a positive size the device registers, with or without an error pointer.
        var error: UnsafeMutablePointer<GError>? = nil
        let added = vmstate_registry_add_sized(reg, "uart", 0, StreamFixtures.counter, counter, 16, &error)
        #expect(added && error == nil)
        let addedWithoutErrorPointer = vmstate_registry_add_sized(
            reg, "uart", 1, StreamFixtures.counter, counter, 16, nil)
        #expect(addedWithoutErrorPointer)
        // A size its fields do not fit in (StrCounter's bool `irq` is byte 14) is refused when
        // registered, and by vmstate_load_checked before anything loads; 15 bytes hold them.
        let small = refused { vmstate_registry_add_sized(reg, "uart", 2, StreamFixtures.counter, counter, 14, $0) }
        #expect(small?.0 == Int32(VMSTATE_ERROR_FAILED.rawValue))
        #expect(
            small?.1
                == "uart: the struct's size is smaller than its description's fields need: field \"str-counter/irq\" ends at byte 15; expected at least 15 bytes, got 14 (at byte 0)"
        )
        counter.pointee.counter = 7
        let state: [UInt8] = [0, 0, 0, 9, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8, 1]
        let bytes = g_bytes_new(state, gsize(state.count))!
        defer { g_bytes_unref(bytes) }
        let checkedSmall = refused { vmstate_load_checked(StreamFixtures.counter, counter, 14, 2, bytes, 0, $0) }
        #expect(
            checkedSmall?.1
                == "str-counter: the struct's size is smaller than its description's fields need: field \"str-counter/irq\" ends at byte 15; expected at least 15 bytes, got 14 (at byte 0)"
        )
        #expect(counter.pointee.counter == 7)
        var e15: UnsafeMutablePointer<GError>? = nil
        let ok15 = vmstate_registry_add_sized(reg, "uart", 2, StreamFixtures.counter, counter, 15, &e15)
        #expect(ok15 && e15 == nil, "\(e15.map { String(cString: $0.pointee.message) } ?? "no error")")
        #expect(vmstate_load_checked(StreamFixtures.counter, counter, 15, 2, bytes, 0, nil))
        #expect(counter.pointee.counter == 9 && counter.pointee.irq)
    }

    @Test func unmigratableDeviceBlocksTheSave() throws {
        let registry = Registry()
        let counter = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        counter.initialize(to: StrCounter())
        defer { counter.deallocate() }
        try registry.add(idstr: "blocked", instanceID: 2, vmsd: str_blocked_vmsd_ptr(), opaque: counter)
        #expect {
            _ = try registry.save(machineType: "m")
        } throws: { error in
            let e = error as! VMStateError
            return e.kind == .failed && e.path == "blocked" && e.reason.contains("instance 2 is marked unmigratable")
        }
    }

    /// A registered device marked unmigratable refuses every load, from a buffer, a GIO stream
    /// and a listener (before a connection is accepted), whatever the stream's sections, as
    /// QEMU's destination refuses every stream (`qemu_loadvm_state`: "State blocked by
    /// non-migratable device"; devices54b D1: QEMU's nvme): nothing loads.
    @Test func unmigratableDeviceBlocksEveryLoad() throws {
        let source = try Machine(fill: true)
        let bytes = try source.registry.save(machineType: "tiny")
        let target = try Machine(fill: false)
        let blocked = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        blocked.initialize(to: StrCounter())
        defer { blocked.deallocate() }
        try target.registry.add(idstr: "blocked", instanceID: 2, vmsd: str_blocked_vmsd_ptr(), opaque: blocked)
        let expected =
            "blocked: device blocked instance 2 is marked unmigratable: QEMU refuses every stream while such a device "
            + "is registered (\"State blocked by non-migratable device 'blocked'\") (at byte 0)"
        for options in [Registry.LoadOptions(), .skipUnknown, [.keepUnknown, .transactional]] {
            let e = try #require(thrownError(VMStateError.self) { try target.registry.load(bytes, options: options) })
            #expect(e.kind == .failed && e.path == "blocked")
            #expect(e.description == expected)
        }
        let r = StreamIOTests.loadFromStream(target.registry, bytes, chunk: 4096, flags: 0)
        #expect(!r.ok && r.code == VMStateError.Kind.failed.rawValue)
        #expect(r.message == expected)
        let listener = try StreamSocketTests.Listener()
        var error: UnsafeMutablePointer<GError>?
        #expect(
            !vmstate_registry_load_from_listener(StreamIOTests.handle(target.registry), listener.listener, 0, &error))
        #expect(error.map { String(cString: $0.pointee.message) } == expected)
        g_clear_error(&error)
        #expect(target.counter.counter == 0 && target.registry.loadedMachineType == nil)
        #expect(memcmp(target.ram, source.ram, 4 * 4096) != 0)
    }

    // MARK: one test per load error

    private func loadError(_ bytes: [UInt8], into machine: Machine? = nil, options: Registry.LoadOptions = []) throws
        -> VMStateError
    {
        let target = try machine ?? Machine(fill: false)
        do {
            try target.registry.load(bytes, options: options)
        } catch {
            return error
        }
        Issue.record("load unexpectedly succeeded")
        return VMStateError(.failed, reason: "none")
    }

    private func sample() throws -> [UInt8] {
        let machine = try Machine(fill: true)
        return try withExtendedLifetime(machine) { try machine.registry.save(machineType: "tiny") }
    }

    @Test func badMagic() throws {
        var bytes = try sample()
        bytes[0] = 0x51 ^ 0xFF
        let e = try loadError(bytes)
        #expect(e.kind == .badStream && e.offset == 0 && e.actual == "0xae45564d")
    }

    @Test func versionTwoStream() throws {
        var bytes = try sample()
        bytes[7] = 2
        let e = try loadError(bytes)
        #expect(e.kind == .badStream && e.offset == 4 && e.reason.contains("version 2"))
    }

    @Test func machineMismatchNamesBoth() throws {
        let target = try Machine(fill: false)
        target.registry.expectedMachineType = "pc-q35-7.2"
        let e = try loadError(try sample(), into: target)
        #expect(e.kind == .machineMismatch && e.expected == "\"pc-q35-7.2\"" && e.actual == "\"tiny\"")
    }

    /// Machine types that are not UTF-8 are compared as bytes, as QEMU compares them
    /// (`configuration_post_load`): two that differ only in such bytes (both would decode to
    /// U+FFFD) are two machine types; the C accessor gives the stream's bytes back (capimisuse).
    @Test func machineTypesNotUTF8AreComparedAsBytes() throws {
        let tiny = try sample()
        #expect(Array(tiny[8..<17]) == [0x07, 0, 0, 0, 4] + Array("tiny".utf8))
        var ff = tiny, fe = tiny
        ff[14] = 0xFF
        fe[14] = 0xFE
        let target = try Machine(fill: false)
        try target.registry.load(ff)
        let handle = OpaquePointer(Unmanaged.passUnretained(target.registry).toOpaque())
        let shown = try #require(vmstate_registry_machine_type(handle))
        #expect(Array(UnsafeRawBufferPointer(start: shown, count: strlen(shown))) == [0x74, 0xFF, 0x6E, 0x79])
        #expect(target.registry.loadedMachineType == "t\u{FFFD}ny")
        // A save with no machine type writes the stream's bytes back, and expects them.
        #expect(try target.registry.save() == ff)
        let e = try loadError(fe, into: target)
        #expect(e.kind == .machineMismatch && e.offset == 13)
        #expect(e.expected == "\"t\\xffny\"" && e.actual == "\"t\\xfeny\"", "\(e.description)")
        try target.registry.load(ff)
        // The Swift name of those bytes (U+FFFD) is UTF-8's: it expects the bytes EF BF BD.
        target.registry.expectedMachineType = target.registry.expectedMachineType
        #expect(try loadError(ff, into: target).kind == .machineMismatch)
    }

    /// A stream without a configuration section (QEMU 7.2's pc-i440fx-2.3) is refused where the
    /// expected machine type sends one, as QEMU refuses it ("Configuration section missing"),
    /// and loads where it is pc-i440fx-2.3 or nothing is expected.
    @Test func aStreamWithoutConfigurationIsNotOfTheExpectedMachineType() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-2.3/stream.bin")
        let registry = Registry()
        registry.expectedMachineType = "my-machine"
        let e = try #require(throws: VMStateError.self) { try registry.load(stream, options: .keepUnknown) }
        #expect(e.kind == .machineMismatch)
        #expect(
            e.description
                == "Configuration section missing (QEMU writes none only for pc-i440fx-2.3, pseries-2.3 and older machine types, and the registry expects machine type \"my-machine\"); expected the configuration section (0x07), got 0x01 (at byte 8)"
        )
        #expect(registry.loadedMachineType == nil && registry.layout == nil)
        registry.expectedMachineType = "pc-i440fx-2.3"
        try registry.load(stream, options: .keepUnknown)
        #expect(try registry.save() == stream)
    }

    /// QEMU reads a configuration section only right after the header, and a stream without
    /// one never has SWITCHOVER_START (QEMU 7.2 does not know it; QEMU 10.0 sends both): a
    /// second configuration section, one after another record, and the command in a stream
    /// without one are refused, as each QEMU refuses them, where the last configuration won.
    @Test func aConfigurationSectionOnlyAfterTheHeader() throws {
        let bios = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        // (The configuration section of pc-i440fx-7.2: 0x07, be32 13, the name; then 0x01.)
        #expect(Array(bios[8..<13]) == [0x07, 0, 0, 0, 13] && bios[26] == 0x01)
        let q35: [UInt8] = [0x07, 0, 0, 0, 10] + Array("pc-q35-7.2".utf8)
        func refusal(_ bytes: [UInt8]) throws -> String {
            let e = try #require(throws: VMStateError.self) { try Registry().load(bytes, options: .keepUnknown) }
            #expect(e.kind == .badStream, "\(e)")
            return e.description
        }
        let twice = Array(bios[0..<26]) + q35 + Array(bios[26...])
        #expect(
            try refusal(twice)
                == "a configuration section after another one: QEMU reads it only right after the stream's header "
                + "(\"Unknown savevm section type 7\"); expected a section type other than 0x07 here, got 0x07 "
                + "(at byte 26)")
        // A damaged length that takes in the RAM's START: its section id's NUL bytes (a fresh
        // registry has no machine type to compare; the rest was read on as sections, and a
        // zero byte in a page taken for the EOF marker: "loaded", nothing loaded).
        var long = bios
        long[12] = 255
        #expect(
            try refusal(long)
                == "bad machine type in the configuration section: a NUL byte in its name, which QEMU writes as a C "
                + "string (the length before it, 255, is damaged); expected a name without NUL bytes, got a NUL byte "
                + "after 14 bytes (at byte 27)")
        let registry = Registry()
        let e = #expect(throws: VMStateError.self) { try registry.save(machineType: "pc\u{0}x") }
        #expect(e?.description == "the machine type holds a NUL byte (at byte 0)")
        let old = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-2.3/stream.bin")
        #expect(old[8] == 0x01)
        let analysis = try StreamAnalysis(bytes: StreamBytes(old), options: .init(recordPages: false))
        let second = analysis.sections[1].offset
        let late = Array(old[0..<second]) + q35 + Array(old[second...])
        #expect(
            try refusal(late)
                == "a configuration section after other records: QEMU reads it only right after the stream's header "
                + "(\"Unknown savevm section type 7\"); expected a section type other than 0x07 here, got 0x07 "
                + "(at byte \(second))")
        let command = Array(old[0..<8]) + [0x08, 0x00, 0x0b, 0x00, 0x00] + Array(old[8...])
        #expect(
            try refusal(command)
                == "SWITCHOVER_START in a stream without a configuration section: QEMU 10.0, which sends the "
                + "command, sends the configuration for every machine type (its migrations with "
                + "send-configuration=off fail), and QEMU 7.2 refuses the command (\"MIG_CMD 0xb unknown (len "
                + "0x0)\") (at byte 8)")
    }

    /// A stream without a configuration section saved for another machine type, then saved
    /// with no machine type: the second save is the loaded stream's own (its bytes), and the
    /// registry loads it back (it expected the other type's configuration section, and refused
    /// its own save, as QEMU of that type does: "Configuration section missing").
    @Test func aSaveWithoutMachineTypeAfterALoadWithoutConfigurationLoadsBack() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-2.3/stream.bin")
        let registry = Registry()
        try registry.load(stream, options: .keepUnknown)
        let newer = try registry.save(machineType: "pc-i440fx-7.2")
        #expect(Array(newer[8..<13]) == [0x07, 0, 0, 0, 13])
        #expect(registry.expectedMachineType == "pc-i440fx-7.2")
        let again = try registry.save()
        #expect(again == stream)
        #expect(registry.expectedMachineType == nil)
        try registry.load(again, options: .keepUnknown)
        #expect(try registry.save() == stream)
        // An expected type without a configuration section stays expected.
        registry.expectedMachineType = "pseries-2.3"
        #expect(try registry.save() == stream)
        #expect(registry.expectedMachineType == "pseries-2.3")
        // For QEMU 10.0 (no machine type without a configuration section) a machine type is
        // needed: an empty one is not written.
        registry.streamVersion = .qemu10_0
        let e = try #require(throws: VMStateError.self) { try registry.save() }
        #expect(
            e.description
                == "no machine type: the loaded stream had no configuration section (a QEMU 7.2 machine type 2.3 or older) and a stream for QEMU 10.0 names one: pass one (at byte 0)"
        )
        #expect(try registry.save(machineType: "pc-i440fx-2.4")[8] == 0x07)

        // A configuration section naming an empty machine type is not a missing one: saved back
        // as it came, for either version (found by the stream fuzzer).
        for version in [QEMUDialect.qemu7_2, .qemu10_0] {
            let unnamed = Registry()
            unnamed.streamVersion = version
            let bytes = try unnamed.save(machineType: "")
            #expect(Array(bytes[8..<13]) == [0x07, 0, 0, 0, 0])
            let reloaded = Registry()
            try reloaded.load(bytes, options: .keepUnknown)
            #expect(reloaded.loadedMachineType == "")
            #expect(try reloaded.save() == bytes)
        }
    }

    /// RAM registered before loading a stream that has no RAM section (another registry's save
    /// of devices only) is saved: first, as section 1, ahead of the loaded stream's sections.
    @Test func ramRegisteredIsSavedAfterLoadingAStreamWithoutRAM() throws {
        let counter = UnsafeMutablePointer<StrCounter>.allocate(capacity: 3)
        counter.initialize(repeating: StrCounter(), count: 3)
        defer { counter.deallocate() }
        let devicesOnly = Registry()
        counter[0].counter = 0x0A0B_0C0D
        try devicesOnly.add(idstr: "counter", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counter)
        let stream = try devicesOnly.save(machineType: "tiny")

        let ram = UnsafeMutableRawPointer.allocate(byteCount: 4 * 4096, alignment: 4096)
        defer { ram.deallocate() }
        ram.initializeMemory(as: UInt8.self, repeating: 0x55, count: 2 * 4096)
        (ram + 2 * 4096).initializeMemory(as: UInt8.self, repeating: 0, count: 2 * 4096)
        let source = Registry()
        try source.add(idstr: "counter", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counter + 1)
        try source.addRAM(idstr: "pc.ram", host: ram, length: 2 * 4096)
        try source.load(stream)
        #expect(counter[1].counter == 0x0A0B_0C0D)
        let saved = try source.save()
        // The configuration ("tiny", 13 bytes from byte 8), then the RAM START as section 1.
        #expect(Array(saved[17..<22]) == [0x01, 0, 0, 0, 1])

        let target = Registry()
        try target.add(idstr: "counter", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counter + 2)
        try target.addRAM(idstr: "pc.ram", host: ram + 2 * 4096, length: 2 * 4096)
        try target.load(saved)
        #expect(counter[2].counter == 0x0A0B_0C0D)
        #expect(Array(UnsafeRawBufferPointer(start: ram + 2 * 4096, count: 2 * 4096)).allSatisfy { $0 == 0x55 })
    }

    /// A RAM block that would wrap past the end of the address space (a C emulator passing
    /// mmap's MAP_FAILED, `(void *)-1`, as `host`) is refused when registered, through the C API
    /// too, instead of trapping at the next load.
    @Test func ramBlockPastTheEndOfTheAddressSpaceIsRefused() throws {
        let registry = Registry()
        let failed = try #require(UnsafeMutableRawPointer(bitPattern: UInt.max))
        let e = engineError { try registry.addRAM(idstr: "pc.ram", host: failed, length: 4096) }
        #expect(e?.kind == .failed)
        #expect(
            e?.description
                == "pc.ram: RAM block passes the end of the address space, got 4096 bytes at 0xffffffffffffffff (at byte 0)"
        )
        let handle = vmstate_registry_new()
        defer { vmstate_registry_free(handle) }
        var error: UnsafeMutablePointer<GError>?
        #expect(!vmstate_registry_add_ram(handle, "pc.ram", failed, 4096, &error))
        #expect(error.map { String(cString: $0.pointee.message) } == e?.description)
        g_clear_error(&error)
    }

    @Test func unknownSectionIsNamed() throws {
        let registry = Registry()
        let counter = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        counter.initialize(to: StrCounter())
        defer { counter.deallocate() }
        try registry.add(idstr: "counter", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counter)
        let ram = UnsafeMutableRawPointer.allocate(byteCount: 5 * 4096, alignment: 4096)
        defer { ram.deallocate() }
        try registry.addRAM(idstr: "pc.ram", host: ram, length: 4 * 4096)
        try registry.addRAM(idstr: "pc.rom", host: ram + 4 * 4096, length: 4096)
        let bytes = try sample()
        #expect {
            try registry.load(bytes, options: [])
        } throws: { error in
            let e = error as! VMStateError
            return e.kind == .unknownSection && e.path == ""
                && e.description
                    == "section \"blob\" instance 3 has no registered device (load with VMSTATE_LOAD_SKIP_UNKNOWN, in Swift .skipUnknown, to skip it) (at byte \(Self.blobSectionOffset))"
        }
        // "blob" skipped: the counter still loads.
        try registry.load(bytes, options: .skipUnknown)
        #expect(counter.pointee.counter == 0x0102_0304)
    }

    /// Where the sample's "blob" section starts: after the header and configuration (17 bytes
    /// for machine type "tiny"), the RAM and the counter section.
    static let blobSectionOffset = 12488

    /// A stream's RAM into a registry with no RAM registered is a RAM error, with flags 0 and with
    /// SKIP_UNKNOWN alike (QEMU always has a "ram" handler; RAM is never skipped unseen): it
    /// names the stream's first block and the offset of its entry (the RAM section's header is
    /// bytes 17...33, the block list's record word 34...41).
    @Test(arguments: [Registry.LoadOptions(), .skipUnknown])
    func ramIntoARegistryWithoutRAMIsARAMError(_ options: Registry.LoadOptions) throws {
        let registry = Registry()
        let counter = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        counter.initialize(to: StrCounter())
        defer { counter.deallocate() }
        try registry.add(idstr: "counter", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counter)
        #expect {
            try registry.load(try sample(), options: options)
        } throws: { error in
            let e = error as! VMStateError
            return e.kind == .ram && e.path == "pc.ram" && e.offset == 42
                && e.description
                    == "pc.ram: section \"ram\" instance 0: the stream has a RAM block that is not registered (at byte 42)"
        }
        #expect(counter.pointee.counter == 0)
    }

    /// KEEP_UNKNOWN reads past unregistered RAM, keeps it and writes it back: the save is the
    /// stream again.
    @Test func keepUnknownKeepsUnregisteredRAM() throws {
        let registry = Registry()
        let counter = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        let blob = UnsafeMutablePointer<StrBlob>.allocate(capacity: 1)
        counter.initialize(to: StrCounter())
        blob.initialize(to: StrBlob())
        defer { g_free(blob.pointee.data); counter.deallocate(); blob.deallocate() }
        try registry.add(idstr: "counter", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counter)
        try registry.add(idstr: "blob", instanceID: 3, vmsd: StreamFixtures.blob, opaque: blob)
        let bytes = try sample()
        try registry.load(bytes, options: .keepUnknown)
        #expect(counter.pointee.counter == 0x0102_0304)
        #expect(try registry.save() == bytes)
    }

    @Test func badFooter() throws {
        var bytes = try sample()
        let counterFooter = footerOffset(bytes, sectionID: 1)
        bytes[counterFooter] = 0x7D
        let e = try loadError(bytes)
        #expect(e.kind == .badStream && e.offset == counterFooter && e.reason.contains("\"counter\""))
    }

    @Test func ramPageOutOfRange() throws {
        var bytes = try sample()
        // The pc.rom page record (address 0) is the first word with "pc.rom" after it in END.
        let rom = Array("pc.rom".utf8)
        var at = 0
        var found = 0
        for i in 0..<(bytes.count - 7) where Array(bytes[i..<i + 6]) == rom && bytes[i - 1] == 6 {
            found += 1
            if found == 2 { at = i - 9 }
        }
        bytes[at + 6] = 0x10  // address 0x1000 in a one-page block
        let e = try loadError(bytes)
        #expect(e.kind == .ram && e.path == "pc.rom" && e.offset == at && e.actual == "0x0000000000001000")
    }

    @Test func truncatedStream() throws {
        let bytes = try sample()
        let footer = footerOffset(bytes, sectionID: 1)
        // Cut 3 bytes before the footer: regs[6], regs[7] and irq are missing.
        let e = try loadError(Array(bytes.prefix(footer - 3)))
        #expect(e.kind == .shortInput && e.path == "str-counter/regs[6]" && e.offset == footer - 3)
        #expect(e.description.contains("section \"counter\" instance 0"))
    }

    /// A section version above the registered description's: the error is at the version's
    /// be32 in the section header (the 4 bytes before the section's data).
    @Test func versionTooNewForDescription() throws {
        let registry = Registry()
        let counter = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        counter.initialize(to: StrCounter())
        defer { counter.deallocate() }
        try registry.add(idstr: "counter", instanceID: 0, vmsd: StreamFixtures.counterV1, opaque: counter)
        let bytes = try sample()
        let dataStart = footerOffset(bytes, sectionID: 1) - 15
        #expect(Array(bytes[(dataStart - 4)..<dataStart]) == [0, 0, 0, 2])
        #expect {
            try registry.load(bytes, options: .keepUnknown)
        } throws: { error in
            let e = error as! VMStateError
            return e.kind == .versionTooNew && e.actual == "2" && e.expected == "at most 1" && e.offset == dataStart - 4
        }
    }

    private func footerOffset(_ bytes: [UInt8], sectionID: UInt8) -> Int {
        let name = sectionID == 1 ? Array("counter".utf8) : Array("blob".utf8)
        for i in 0..<(bytes.count - name.count) where Array(bytes[i..<i + name.count]) == name && bytes[i - 6] == 0x04 {
            let dataStart = i + name.count + 8
            return dataStart + (sectionID == 1 ? 15 : 17)
        }
        return -1
    }
}

/// The C fixture descriptions by address (taken in C: Swift may copy imported globals).
enum StreamFixtures {
    static var counter: UnsafePointer<VMStateDescription> { str_counter_vmsd_ptr() }
    static var counterV1: UnsafePointer<VMStateDescription> { str_counter_v1_only_vmsd_ptr() }
    static var blob: UnsafePointer<VMStateDescription> { str_blob_vmsd_ptr() }
}
