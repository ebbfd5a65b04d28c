import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

enum QEMUBinary {
    static let path: String? = ["/usr/bin/qemu-system-x86_64", "/usr/local/bin/qemu-system-x86_64"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// QEMU 7.2 itself as the client: a real stream, loaded with RAM and pc devices registered,
/// changed, saved, and migrated into a fresh qemu-system-x86_64.
@Suite(.enabled(if: QEMUBinary.path != nil, "qemu-system-x86_64 is not installed (scripts/test installs it)"))
struct QEMUClientTests {
    struct Outcome: Decodable {
        let status: String?
        let error: String?
        let outputs: [String]
    }

    /// Runs scripts/qemu-incoming.py on `stream` with HMP `commands`, QEMU options `qemuArgs`
    /// and migration `capabilities` on.
    static func migrateIntoQEMU(
        _ stream: [UInt8], commands: [String], qemuArgs: [String] = ["-M", "pc", "-m", "16"],
        capabilities: [String] = []
    ) throws -> Outcome {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vmstate-qemu-\(UUID().uuidString).bin")
        try Data(stream).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "python3", TestPaths.packageRoot + "/scripts/qemu-incoming.py",
                file.path,
            ] + commands + ["--"] + qemuArgs
        var environment = ProcessInfo.processInfo.environment
        environment["CAPS"] = capabilities.joined(separator: ",")
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONDecoder().decode(Outcome.self, from: output)
    }

    @Test func qemuLoadsOurStreamWithAChangedCMOSByteAndRAM() throws {
        let original = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        let machine = try RealStreamTests.PCMachine(stream: original)

        // RAM blocks as the stream lists them (analyze.json's "section sizes").
        let analyze = try RealStreamTests.analyze("pc-bios")
        let ramKey = try #require(analyze.keys.first { $0.hasPrefix("ram (") })
        let sizes = try #require((analyze[ramKey] as? [String: Any])?["section sizes"] as? [String: String])
        var blocks: [String: UnsafeMutableRawPointer] = [:]
        defer { for p in blocks.values { p.deallocate() } }
        for (name, size) in sizes {
            let length = try #require(Int(size.dropFirst(2), radix: 16))
            let host = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
            host.initializeMemory(as: UInt8.self, repeating: 0xCC, count: length)
            blocks[name] = host
            try machine.registry.addRAM(idstr: name, host: host, length: length)
        }
        try machine.registry.load(original, options: .keepUnknown)

        // The firmware's RAM came through (the BIOS ends with its reset vector jump, 0xEA).
        let bios = try #require(blocks["pc.bios"])
        #expect(bios.load(fromByteOffset: 0x40000 - 16, as: UInt8.self) == 0xEA)

        // Change CMOS byte 0x50 and a word of guest RAM, then save.
        let rtcState = try #require(machine.states.first { $0.idstr == "mc146818rtc" }).state
        let rtc = rtcState.assumingMemoryBound(to: PcRTCState.self)
        withUnsafeMutableBytes(of: &rtc.pointee.cmos_data) { $0[0x50] = 0xA7 }
        let ram = try #require(blocks["pc.ram"])
        (ram + 0x7000).storeBytes(of: 0x1234_5678 as UInt32, as: UInt32.self)
        let changed = try machine.registry.save()

        let outcome = try Self.migrateIntoQEMU(changed, commands: ["o /b 0x70 0x50", "i /b 0x71", "xp /1wx 0x7000"])
        #expect(outcome.status == "completed", "QEMU said: \(outcome.error ?? "nothing")")
        #expect(outcome.outputs.count == 3)
        if outcome.outputs.count == 3 {
            #expect(outcome.outputs[1].contains("= 0xa7"), "inb 0x71 after selecting CMOS 0x50: \(outcome.outputs[1])")
            #expect(outcome.outputs[2].contains("0x12345678"), "guest RAM at 0x7000: \(outcome.outputs[2])")
        }
    }

    /// x-ignore-shared with the guest RAM on a shared file (`qemu-7.2/x-ignore-shared-file`):
    /// loaded with every RAM block registered and saved again, QEMU 7.2 loads the stream (a page
    /// of `r0` would fail it: "block r0 should not be migrated !"), and its RAM is the file's.
    @Test func qemuLoadsAnXIgnoreSharedStreamOfRAMOnASharedFile() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/x-ignore-shared-file/stream.bin")
        let machine = try RealStreamTests.PCMachine(stream: stream)
        let ram = try QEMU10StreamTests.SharedFileRAM(registering: machine.registry)
        defer { withExtendedLifetime(ram) {} }
        try machine.registry.load(stream, options: .keepUnknown)
        let saved = try machine.registry.save()

        // The destination's shared file: 16 MiB holding 0x12345678 at 0x7000.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-shared-\(UUID().uuidString)")
        var contents = [UInt8](repeating: 0, count: 16 << 20)
        contents.withUnsafeMutableBytes {
            $0.storeBytes(of: 0x1234_5678 as UInt32, toByteOffset: 0x7000, as: UInt32.self)
        }
        try Data(contents).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let outcome = try Self.migrateIntoQEMU(
            saved, commands: ["xp /1wx 0x7000"],
            qemuArgs: [
                "-M", "pc", "-m", "16", "-object",
                "memory-backend-file,id=r0,size=16M,share=on,mem-path=\(file.path)", "-numa", "node,memdev=r0",
            ],
            capabilities: ["x-ignore-shared"])
        Self.expectWordAt0x7000(outcome)
    }

    /// A registry that never loaded a QEMU stream (its own section ids): QEMU finds a PART or
    /// END section's handler by id, and a handler no START named has id 0, so RAM with id 0
    /// went to `timer` and QEMU refused the stream ("error while loading state section id
    /// 0(timer)"). Only guest RAM here: QEMU's devices keep their own state.
    @Test func qemuLoadsAStreamOfAFreshRegistry() throws {
        let stream = try Self.freshRegistryStream(version: .qemu7_2, machineType: "pc-i440fx-7.2")
        Self.expectWordAt0x7000(try Self.migrateIntoQEMU(stream, commands: ["xp /1wx 0x7000"]))
    }

    /// What a registry that never loaded a stream saves of 16 MiB of `pc.ram` (`-m 16`), the
    /// word 0x12345678 at 0x7000.
    static func freshRegistryStream(version: QEMUDialect, machineType: String) throws -> [UInt8] {
        let registry = Registry()
        registry.streamVersion = version
        let length = 16 << 20
        let ram = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
        defer { ram.deallocate() }
        ram.initializeMemory(as: UInt8.self, repeating: 0, count: length)
        (ram + 0x7000).storeBytes(of: 0x1234_5678 as UInt32, as: UInt32.self)
        try registry.addRAM(idstr: "pc.ram", host: ram, length: length)
        return try registry.save(machineType: machineType)
    }

    /// The migration completed and `xp /1wx 0x7000` showed 0x12345678.
    static func expectWordAt0x7000(_ outcome: Outcome) {
        #expect(outcome.status == "completed", "QEMU said: \(outcome.error ?? "nothing")")
        #expect(outcome.outputs.first?.contains("0x12345678") == true, "\(outcome.outputs)")
    }

    @Test func qemuRejectsAStreamWithABadFooter() throws {
        var stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-reset/stream.bin")
        // Corrupt the first device section's footer byte: QEMU must refuse it too.
        let registry = Registry()
        try registry.load(stream, options: .keepUnknown)
        var offset = 0
        for entry in registry.layout ?? [] {
            guard case .kept(let bytes, _) = entry else { continue }
            offset += bytes.count
            if bytes[0] == 0x04 { stream[8 + 5 + 13 + offset - 5] = 0x7D; break }
        }
        let outcome = try Self.migrateIntoQEMU(stream, commands: [])
        #expect(outcome.status == "failed")
        #expect(outcome.error?.contains("Missing section footer for timer") == true, "\(outcome.error ?? "")")
    }
}
