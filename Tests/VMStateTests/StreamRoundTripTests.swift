import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

@Suite struct StreamRoundTripTests {
    @Test(arguments: ["pc-reset", "pc-bios"])
    func keptStreamSavesByteForByte(_ name: String) throws {
        let original = try TestPaths.readBytes(TestPaths.qemuFixtures + "/\(name)/stream.bin")
        let registry = Registry()
        try registry.load(original, options: .keepUnknown)
        #expect(registry.loadedMachineType == "pc-i440fx-7.2")
        let saved = try registry.save()
        #expect(saved.count == original.count)
        #expect(saved == original)
    }

    /// Every real stream of the fixtures (QEMU 7.2 and 10.0, and 8.2, 9.2 and 10.1's `pc`; machine
    /// types from pc-i440fx-2.3 to 10.1, q35, devices, a live migration, x-ignore-shared, mapped-ram) read into an empty
    /// registry with KEEP_UNKNOWN saves back byte for byte. (The dirty-bitmaps stream is
    /// refused for its command record, `QEMU10StreamTests`.)
    @Test(
        arguments: ["pc-2.3", "pc-bios", "pc-live", "pc-reset", "x-ignore-shared", "user-net-2"].map {
            TestPaths.qemuFixtures + "/" + $0
        }
            + [
                "mapped-ram", "pc-9.2", "pc-bios", "pc-live", "pc-reset", "q35-bios", "q35-devices", "x-ignore-shared",
                "no-footer", "validate-uuid", "user-net-2", "bg-snapshot",
            ]
            .map { TestPaths.qemu10Fixtures + "/" + $0 }
            + TestPaths.otherQEMUStreams.map { TestPaths.otherQEMUFixtures + "/" + $0 }
            + (TestPaths.streamNames + ["no-footer", "validate-uuid"]).map { TestPaths.streams + "/" + $0 })
    func everyFixtureStreamKeptSavesByteForByte(_ directory: String) throws {
        let original = try TestPaths.readBytes(directory + "/stream.bin")
        let registry = Registry()
        try registry.load(original, options: .keepUnknown)
        let saved = try registry.save()
        #expect(saved.count == original.count)
        #expect(saved == original)
    }

    /// A stream's vmdesc is parsed in bounded memory and depth: one whose value would take more
    /// than 64 MiB, or that nests deeper than 64 levels (QEMU's nest 13 or 14; the parser
    /// recurses on the loading thread), is refused, and the error says why (it said the vmdesc
    /// was not one of QEMU's shape).
    @Test func aVMDescRefusedForItsSizeOrDepthSaysWhy() throws {
        let original = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-reset/stream.bin")
        // The vmdesc: 0x06, be32 length, the JSON to the end (the fixture's is 98,649 bytes).
        let marker = original.count - 98_649 - 5
        try #require(original[marker] == 0x06 && original[marker + 5] == UInt8(ascii: "{"))
        let dense =
            #"{"page_size": 4096, "devices": [], "x": ["# + String(repeating: #"{"a":[1]},"#, count: 400_000) + "0]}"
        let deep =
            #"{"page_size": 4096, "devices": [], "x": "# + String(repeating: "[", count: 70)
            + String(repeating: "]", count: 70) + "}"
        for (json, why) in [
            (
                dense,
                "the parsed JSON would take more than 64 MiB of memory, more than any device description (a vmdesc or -dump-vmstate file) takes"
            ),
            (deep, "nesting deeper than 64 levels"),
        ] {
            let text = Array(json.utf8)
            let length = withUnsafeBytes(of: UInt32(text.count).bigEndian) { Array($0) }
            let stream = Array(original[..<marker]) + [0x06] + length + text
            let error = try #require(
                thrownError(VMStateError.self) { try Registry().load(stream, options: .keepUnknown) })
            #expect(error.kind == .unknownSection)
            #expect(
                error.reason.hasPrefix("cannot skip section \"")
                    && error.reason.contains("the stream's vmdesc, which gives its size, was refused: \(why) (at byte "),
                "\(error)")
        }
    }

    /// A section footer whose marker is right but whose section id is another's (QEMU:
    /// "Mismatched section id in footer") says so; a wrong marker says the data's length differs.
    @Test func aFooterOfAnotherSectionIsNamedApartFromADataLengthMismatch() throws {
        let original = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-reset/stream.bin")
        // The RAM START section (id 2) ends with EOS (be64 0x10) and its footer (0x7e, be32 2).
        let eos: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0x10, 0x7E, 0, 0, 0, 2]
        let at =
            try #require((0..<original.count - eos.count).first { Array(original[$0..<$0 + eos.count]) == eos }) + 8
        for (index, byte, why, actual) in [
            (4, UInt8(3), "a footer with another section's id", "0x7e and 3"),
            (0, UInt8(0x7F), "its data has a different length", "0x7f and 2"),
        ] {
            var stream = original
            stream[at + index] = byte
            let error = try #require(
                thrownError(VMStateError.self) { try Registry().load(stream, options: .keepUnknown) })
            #expect(error.kind == .badStream)
            #expect(error.offset == at)
            #expect(error.reason == "bad footer after section \"ram\" (\(why))")
            #expect(error.expected == "0x7e and section id 2")
            #expect(error.actual == actual)
        }
    }

    /// A device section whose data is longer or shorter than its description reads (a field
    /// added or removed without a new version): the footer's error says by how many bytes and
    /// where the footer is, found in the section's bytes or in those that follow it.
    @Test func aMisplacedFooterIsFoundAndMeasured() throws {
        let source = try RegistryTests.Machine(fill: true)
        let original = try source.registry.save(machineType: "tiny")
        // The counter's full section: 0x04, be32 id, the idstr, be32 instance 0, be32 version 2;
        // then its 15 bytes (be32, be16, 8 bytes, a bool) and its footer (0x7e, be32 id).
        let header: [UInt8] = [7] + Array("counter".utf8) + [0, 0, 0, 0, 0, 0, 0, 2]
        let name = try #require(
            (0..<original.count - header.count).first { original[$0..<$0 + header.count].elementsEqual(header) })
        let sectionID = Array(original[name - 4..<name])
        let footer = name + header.count + 15
        #expect(Array(original[footer..<footer + 5]) == [0x7E] + sectionID)
        let target = try RegistryTests.Machine(fill: false)
        for (change, at, hint) in [
            // 4 bytes more in the stream: the description ends 4 bytes before the footer.
            (
                { (s: inout [UInt8]) in s.insert(contentsOf: [0xAA, 0xBB, 0xCC, 0xDD], at: footer) }, footer,
                "the description read 4 bytes fewer than the stream holds for it; its footer is at byte \(footer + 4)"
            ),
            // 4 bytes fewer: the description reads the footer's first 4 bytes as its last field's.
            (
                { (s: inout [UInt8]) in s.removeSubrange(footer - 4..<footer) }, footer,
                "the description read 4 bytes more than the stream holds for it; its footer is at byte \(footer - 4)"
            ),
        ] {
            var stream = original
            change(&stream)
            for chunk in [nil, 1, 4096] as [Int?] {
                let e: VMStateError
                if let chunk {
                    let r = StreamIOTests.loadFromStream(target.registry, stream, chunk: chunk, flags: 0)
                    #expect(!r.ok && r.code == VMStateError.Kind.badStream.rawValue)
                    // The footer is looked for only in the bytes the input holds already: a
                    // stream read a byte at a time keeps none around the section's end.
                    let why =
                        chunk == 1 ? "its data has a different length" : "its data has a different length: \(hint)"
                    #expect(
                        r.message.hasPrefix(
                            "bad footer after section \"counter\" (\(why)); expected 0x7e and section id"),
                        "chunk \(chunk): \(r.message)")
                    #expect(r.message.hasSuffix("(at byte \(at))"), "\(r.message)")
                    continue
                }
                e = try #require(thrownError(VMStateError.self) { try target.registry.load(stream) })
                #expect(e.kind == .badStream && e.offset == at)
                #expect(e.reason == "bad footer after section \"counter\" (its data has a different length: \(hint))")
            }
        }
        // The search is bounded (64 KiB each way, whatever the section's size): a footer 70,000
        // bytes on is not looked for.
        var far = original
        far.insert(contentsOf: [UInt8](repeating: 0xAA, count: 70000), at: footer)
        let e = try #require(thrownError(VMStateError.self) { try target.registry.load(far) })
        #expect(e.kind == .badStream && e.offset == footer)
        #expect(e.reason == "bad footer after section \"counter\" (its data has a different length)")
    }

    /// Sections a load kept (nobody had registered them) are taken by the device or RAM
    /// registered since: each written once, with the registered state, in the kept one's place
    /// and with its id (the kept bytes were written instead of the new RAM, and beside the new
    /// device's own section, a section twice). QEMU 7.2's `-M none` stream: RAM "ram" (section
    /// 2), "timer" (0), "globalstate" (4).
    @Test func keptSectionsAreTakenByWhatIsRegisteredSince() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/none/stream.bin")
        let length = 32 << 20
        let ram = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
        defer { ram.deallocate() }
        memset(ram, 0, length)
        let timers = UnsafeMutablePointer<PcTimersState>.allocate(capacity: 1)
        defer { timers.deallocate() }
        timers.initialize(to: PcTimersState())
        let timer = try #require(pc_device_vmsd_named("timer"))
        let registry = Registry()
        try registry.load(stream, options: .keepUnknown)
        try registry.addRAM(idstr: "ram", host: ram, length: length)
        try registry.add(idstr: "timer", instanceID: 0, vmsd: timer, opaque: timers)
        ram.storeBytes(of: 0x11, as: UInt8.self)
        timers.pointee.cpu_ticks_offset = 0x1234
        let saved = try registry.save()
        func count(_ header: [UInt8]) -> Int {
            (0...saved.count - header.count).count { saved[$0..<$0 + header.count].elementsEqual(header) }
        }
        #expect(count([0x04, 0, 0, 0, 0, 5] + Array("timer".utf8)) == 1)
        #expect(count([0x01, 0, 0, 0, 2, 3] + Array("ram".utf8)) == 1)
        #expect(count([0x04, 0, 0, 0, 4, 11] + Array("globalstate".utf8)) == 1)
        let into = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
        defer { into.deallocate() }
        memset(into, 0, length)
        let loaded = UnsafeMutablePointer<PcTimersState>.allocate(capacity: 1)
        defer { loaded.deallocate() }
        loaded.initialize(to: PcTimersState())
        let target = Registry()
        try target.addRAM(idstr: "ram", host: into, length: length)
        try target.add(idstr: "timer", instanceID: 0, vmsd: timer, opaque: loaded)
        try target.load(saved, options: .keepUnknown)
        #expect(memcmp(ram, into, length) == 0 && into.load(as: UInt8.self) == 0x11)
        #expect(loaded.pointee.cpu_ticks_offset == 0x1234)
        // No load while a live migration of the registry runs: its RAM would not reach the destination.
        let out = g_memory_output_stream_new_resizable()!
        defer { g_object_unref(out) }
        var error: UnsafeMutablePointer<GError>?
        let migration = vmstate_migration_start(
            StreamIOTests.handle(target), nil, UnsafeMutableRawPointer(out).assumingMemoryBound(to: GOutputStream.self),
            &error)
        #expect(migration != nil && error == nil)
        defer { vmstate_migration_free(migration) }
        let e = try #require(thrownError(VMStateError.self) { try target.load(saved, options: .keepUnknown) })
        #expect(
            e.description
                == "a load cannot run while a live migration of the registry is in progress (until it completes, fails or is freed): the RAM it writes would not reach the destination (at byte 0)"
        )
    }

    /// RAM registered after a load that kept the stream's RAM takes the kept RAM's place: with a
    /// block of the kept RAM not registered, that block's pages would be lost, so the save (and a
    /// live migration) fails and names the blocks; with every block registered it saves. QEMU
    /// 7.2's `pc` stream: six RAM blocks.
    @Test func ramRegisteredAfterKeepingRAMMustHaveEveryKeptBlock() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-reset/stream.bin")
        let blocks: [(String, Int)] = [
            ("pc.ram", 0x100_0000), ("/rom@etc/acpi/tables", 0x2_0000), ("pc.bios", 0x4_0000), ("pc.rom", 0x2_0000),
            ("/rom@etc/table-loader", 0x1000), ("/rom@etc/acpi/rsdp", 0x1000),
        ]
        var memory: [UnsafeMutableRawPointer] = []
        defer { for m in memory { m.deallocate() } }
        func add(_ registry: Registry, _ block: (String, Int)) throws {
            let host = UnsafeMutableRawPointer.allocate(byteCount: block.1, alignment: 4096)
            memset(host, 0, block.1)
            memory.append(host)
            try registry.addRAM(idstr: block.0, host: host, length: block.1)
        }
        let registry = Registry()
        try registry.load(stream, options: .keepUnknown)
        try add(registry, blocks[0])
        let expected =
            "/rom@etc/acpi/tables: the loaded stream's RAM, kept unloaded by VMSTATE_LOAD_KEEP_UNKNOWN, has 5 RAM blocks that are "
            + "not registered: \"/rom@etc/acpi/tables\" (131072 bytes), \"pc.bios\" (262144 bytes), \"pc.rom\" "
            + "(131072 bytes), \"/rom@etc/table-loader\" (4096 bytes), \"/rom@etc/acpi/rsdp\" (4096 bytes); the "
            + "registered RAM takes the kept RAM's place in a save, so its pages would be lost: register every RAM "
            + "block of the loaded stream, or none (then the kept RAM is saved as it came) (at byte 0)"
        let e = try #require(thrownError(VMStateError.self) { try registry.save() })
        #expect(e.kind == .ram && e.path == "/rom@etc/acpi/tables")
        #expect(e.description == expected)
        for block in blocks.dropFirst() { try add(registry, block) }
        let saved = try registry.save()
        // The registered (zero) RAM was saved in the kept RAM's place: it loads into all six blocks.
        let target = Registry()
        for block in blocks { try add(target, block) }
        try target.load(saved, options: .keepUnknown)
    }

    /// A MEM_SIZE record may come again in a RAM PART (QEMU reads one in any part): a block the
    /// kept RAM lists twice is named once, with its last length, when registered RAM lacks it.
    @Test func keptRAMBlockListedTwiceIsNamedOnce() throws {
        func entry(_ name: String, _ length: UInt64) -> [UInt8] {
            [UInt8(name.utf8.count)] + Array(name.utf8) + be64(length)
        }
        let stream = InputCostTests.ramStream(
            start: be64(0x1000 | 0x04) + entry("a", 0x1000),
            parts: [be64(0x3000 | 0x04) + entry("a", 0x2000) + entry("b", 0x1000)])
        let registry = Registry()
        try registry.load(stream, options: .keepUnknown)
        let host = UnsafeMutableRawPointer.allocate(byteCount: 0x1000, alignment: 4096)
        defer { host.deallocate() }
        try registry.addRAM(idstr: "b", host: host, length: 0x1000)
        let e = try #require(thrownError(VMStateError.self) { try registry.save() })
        #expect(
            e.description
                == "a: the loaded stream's RAM, kept unloaded by VMSTATE_LOAD_KEEP_UNKNOWN, has a RAM block that is "
                + "not registered: \"a\" (8192 bytes); the registered RAM takes the kept RAM's place in a save, so "
                + "its pages would be lost: register every RAM block of the loaded stream, or none (then the kept RAM "
                + "is saved as it came) (at byte 0)")
    }

    /// A RAM START whose footer's marker became 0x00 is a bad footer, not a stream without
    /// footers that ends there (QEMU always sends the RAM's END after its START; QEMU 7.2:
    /// "Missing section footer for ram"), whatever the next byte: the load must not succeed
    /// having read none of the sections after it.
    @Test func anEOFByteWhereTheRAMStartsFooterIsDueIsABadFooter() throws {
        let original = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-reset/stream.bin")
        let eos: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0x10, 0x7E, 0, 0, 0, 2]
        let at =
            try #require((0..<original.count - eos.count).first { Array(original[$0..<$0 + eos.count]) == eos }) + 8
        for next in [0x41, 0x00, 0x06] as [UInt8] {
            var stream = original
            stream[at] = 0
            stream[at + 1] = next
            let error = try #require(
                thrownError(VMStateError.self) { try Registry().load(stream, options: .keepUnknown) })
            #expect(error.kind == .badStream && error.offset == at, "\(error)")
            #expect(error.reason == "bad footer after section \"ram\" (its data has a different length)")
            #expect(error.expected == "0x7e and section id 2")
            #expect(error.actual == "0x00 and \(UInt32(next) << 24 | 2)")
        }
    }

    /// A stream whose RAM start ends without its footer (as with `-global
    /// migration.send-section-footer=off`) but whose next section has one (here QEMU 7.2's
    /// pc-reset stream with the footer after its first section taken out): read as a stream
    /// without footers, the footer where the next section's type is expected is named. (Real
    /// streams written so are `no-footer`, loaded and saved byte for byte above.)
    @Test func aFooterInAStreamWithoutFootersIsNamed() throws {
        var stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-reset/stream.bin")
        // The RAM START section ends with EOS (be64 0x10) and its footer (0x7e, be32 id).
        let eos: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0x10, 0x7E]
        let at = try #require((0..<stream.count - eos.count).first { Array(stream[$0..<$0 + eos.count]) == eos }) + 8
        stream.removeSubrange(at..<at + 5)
        let error = try #require(thrownError(VMStateError.self) { try Registry().load(stream, options: .keepUnknown) })
        #expect(error.kind == .badStream)
        // The footer of the RAM section's next part (section id 2), where a section type is read.
        #expect(error.offset > at && stream[error.offset..<error.offset + 5] == [0x7E, 0, 0, 0, 2], "\(error)")
        #expect(
            error.reason
                == "a section footer in a stream whose first section ended without one (written with -global migration.send-section-footer=off, every section lacks it); the section before has a different length, or the stream mixes both"
        )
    }

    /// QEMU 7.2's stream into an empty registry: its RAM (section header at byte 26, block list
    /// record at 43, "pc.ram" first, its entry at 51) is a RAM error, with or without SKIP_UNKNOWN,
    /// at the block's entry.
    @Test(arguments: [Registry.LoadOptions(), .skipUnknown])
    func unregisteredRAMIsARAMError(_ options: Registry.LoadOptions) throws {
        let original = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-reset/stream.bin")
        let registry = Registry()
        #expect {
            try registry.load(original, options: options)
        } throws: { error in
            let e = error as! VMStateError
            return e.kind == .ram
                && e.description
                    == "pc.ram: section \"ram\" instance 0: the stream has a RAM block that is not registered (at byte 51)"
        }
    }
}
