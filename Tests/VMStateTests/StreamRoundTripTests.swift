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

    @Test func unknownSectionWithoutSkipIsAnError() throws {
        let original = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-reset/stream.bin")
        let registry = Registry()
        #expect {
            try registry.load(original)
        } throws: { error in
            let e = error as! VMStateError
            return e.kind == .unknownSection && e.reason.contains("\"ram\"") && e.offset == 26
        }
    }
}
