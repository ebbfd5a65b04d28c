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

    /// QEMU 7.2's stream into an empty registry: its RAM (section header at byte 26, block list
    /// at 43, "pc.ram" first) is a RAM error, with or without SKIP_UNKNOWN.
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
                    == "pc.ram: section \"ram\" instance 0: the stream has a RAM block that is not registered (at byte 43)"
        }
    }
}
