import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

/// QEMU 10.0 through `scripts/qemu/qemu10` (a Debian 13 chroot with QEMU 10.0.13, made by
/// `scripts/qemu/qemu10 setup`, which scripts/test runs as root when it is missing).
enum QEMU10 {
    static let script = TestPaths.packageRoot + "/scripts/qemu/qemu10"

    /// Whether the chroot is set up and usable (`qemu10 run` needs root: chroot, bind mounts).
    static let available: Bool = {
        guard geteuid() == 0 else { return false }
        return (try? run(["version"], in: FileManager.default.temporaryDirectory).status) == 0
    }()

    /// Runs `qemu10 ARGS` with `directory` as the current directory (`/work` inside the chroot):
    /// (exit status, standard output).
    static func run(_ arguments: [String], in directory: URL) throws -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        process.currentDirectoryURL = directory
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// A fresh directory holding scripts/qemu-incoming.py and scripts/qemu/qemu-live-source.py,
    /// to be `/work` inside the chroot.
    static func workDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-qemu10-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for script in ["scripts/qemu-incoming.py", "scripts/qemu/qemu-live-source.py"] {
            let source = URL(fileURLWithPath: TestPaths.packageRoot + "/" + script)
            try FileManager.default.copyItem(at: source, to: dir.appendingPathComponent(source.lastPathComponent))
        }
        return dir
    }
}

/// QEMU 10.0 itself as the client: a real QEMU 10.0 stream, loaded with RAM and the pc devices
/// of the tests, changed, saved for QEMU 10.0 and loaded by `qemu-system-x86_64 -incoming
/// defer` + `migrate-incoming` of QEMU 10.0; and live migrations with QEMU 10.0 at either end.
/// The QEMU 7.2 versions are QEMUClientTests and LiveMigrationQEMUTests.
@Suite(
    .serialized,
    .enabled(
        if: QEMU10.available,
        "QEMU 10.0 is not set up: run scripts/qemu/qemu10 setup as root (scripts/test does; it needs Debian's mirror)")
)
struct QEMU10ClientTests {
    /// Runs qemu-incoming.py inside the chroot on `stream` with HMP `commands` (`-M pc -m 16`,
    /// QEMU 10.0's pc-i440fx-10.0).
    static func migrateIntoQEMU10(_ stream: [UInt8], commands: [String]) throws -> QEMUClientTests.Outcome {
        let dir = try QEMU10.workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(stream).write(to: dir.appendingPathComponent("stream.bin"))
        let (_, output) = try QEMU10.run(
            ["run", "python3", "/work/qemu-incoming.py", "/work/stream.bin"] + commands + [
                "--", "-M", "pc", "-m", "16",
            ],
            in: dir)
        return try JSONDecoder().decode(QEMUClientTests.Outcome.self, from: output)
    }

    @Test func qemu10LoadsOurStreamWithAChangedCMOSByteAndRAM() throws {
        let original = try TestPaths.readBytes(TestPaths.qemu10Fixtures + "/pc-bios/stream.bin")
        let machine = try StreamIOTests.FixtureMachine("pc-bios", stream: original)
        try machine.registry.load(original, options: .keepUnknown)
        #expect(machine.registry.streamVersion == .qemu10_0)
        #expect(machine.registry.loadedMachineType == "pc-i440fx-10.0")
        let bios = try #require(machine.blocks.first { $0.0 == "pc.bios" })
        #expect(bios.1.load(fromByteOffset: bios.2 - 16, as: UInt8.self) == 0xEA)

        // Change CMOS byte 0x50 and a word of guest RAM, then save for QEMU 10.0.
        let rtc = try #require(machine.pc.states.first { $0.idstr == "mc146818rtc" }).state.assumingMemoryBound(
            to: PcRTCState.self)
        #expect(withUnsafeBytes(of: &rtc.pointee.cmos_data) { $0[0x50] } != 0xA7)
        withUnsafeMutableBytes(of: &rtc.pointee.cmos_data) { $0[0x50] = 0xA7 }
        let ram = try #require(machine.blocks.first { $0.0 == "pc.ram" }).1
        (ram + 0x7000).storeBytes(of: 0x1234_5678 as UInt32, as: UInt32.self)
        let changed = try machine.registry.save()
        #expect(QEMU10StreamTests.offsets(of: QEMU10StreamTests.switchoverStart, in: changed).count == 1)

        let outcome = try Self.migrateIntoQEMU10(changed, commands: ["o /b 0x70 0x50", "i /b 0x71", "xp /1wx 0x7000"])
        #expect(outcome.status == "completed", "QEMU 10.0 said: \(outcome.error ?? "nothing")")
        try #require(outcome.outputs.count == 3)
        #expect(outcome.outputs[1].contains("= 0xa7"), "inb 0x71 after selecting CMOS 0x50: \(outcome.outputs[1])")
        #expect(outcome.outputs[2].contains("0x12345678"), "guest RAM at 0x7000: \(outcome.outputs[2])")
    }

    /// QEMU 10.0 refuses the commands the registry refuses (QEMU's messages on its stderr).
    @Test func qemu10RefusesWhatTheRegistryRefuses() throws {
        for (command, message) in [
            ([0x08, 0x00, 0x20, 0x00, 0x00] as [UInt8], "MIG_CMD 0x20 unknown (len 0x0)"),
            ([0x08, 0x00, 0x0B, 0x00, 0x04], "SWITCHOVER_START received with bad length - expecting 0, got 4"),
        ] {
            let stream = try QEMU10StreamTests.withCommand(command)
            #expect(throws: VMStateError.self) { try Registry().load(stream, options: .keepUnknown) }
            let outcome = try Self.migrateIntoQEMU10(stream, commands: [])
            #expect(outcome.status == "failed")
            #expect(outcome.error?.contains(message) == true, "\(outcome.error ?? "")")
        }
    }
}
