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

    /// Every real stream of the fixtures (QEMU 7.2 and 10.0; machine types from pc-i440fx-2.3 to
    /// 10.0, q35, devices, a live migration, x-ignore-shared, mapped-ram) read into an empty
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
