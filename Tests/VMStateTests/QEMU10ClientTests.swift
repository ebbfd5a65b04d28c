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
    /// with the QMP client they import (scripts/qemu/qmp.py), to be `/work` inside the chroot.
    static func workDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-qemu10-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for script in ["scripts/qemu-incoming.py", "scripts/qemu/qemu-live-source.py", "scripts/qemu/qmp.py"] {
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

    /// A registry that never loaded a QEMU stream, saved for QEMU 10.0 (as QEMUClientTests'
    /// fresh-registry test: RAM must not have section id 0).
    @Test func qemu10LoadsAStreamOfAFreshRegistry() throws {
        let stream = try QEMUClientTests.freshRegistryStream(version: .qemu10_0, machineType: "pc-i440fx-10.0")
        QEMUClientTests.expectWordAt0x7000(try Self.migrateIntoQEMU10(stream, commands: ["xp /1wx 0x7000"]))
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

    /// QEMU 10.0 as the destination: our live migration of a loaded QEMU 10.0 stream, RAM
    /// changed between passes through the dirty log, a CMOS byte and a RAM word set before
    /// completing, into `qemu-system-x86_64 -M pc -m 16 -incoming tcp:127.0.0.1:PORT` of QEMU
    /// 10.0 (LiveMigrationQEMUTests does the same with QEMU 7.2).
    @Test func qemu10IsTheDestinationOfOurLiveMigration() throws {
        let original = try TestPaths.readBytes(TestPaths.qemu10Fixtures + "/pc-bios/stream.bin")
        let machine = try StreamIOTests.FixtureMachine("pc-bios", stream: original)
        try machine.registry.load(original, options: .keepUnknown)
        let block = try #require(machine.blocks.first { $0.0 == "pc.ram" })
        let ram = (block.0, block.1)
        let log = LiveMigrationTests.DirtyLog()
        log.attach(machine.registry)

        let dir = try QEMU10.workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try LiveMigrationQEMUTests.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [
            QEMU10.script, "run", "python3", "/work/qemu-incoming.py", "tcp:127.0.0.1:\(port)",
            "o /b 0x70 0x50", "i /b 0x71", "xp /1wx 0x7000", "xp /1wx 0x9000", "--", "-M", "pc", "-m", "16",
        ]
        process.currentDirectoryURL = dir
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        try LiveMigrationQEMUTests.migrateLive(
            machine, ram: ram, log: log, port: port, into: process, output: pipe, qemu: "QEMU 10.0")
    }

    /// QEMU 10.0 as the source: `-M pc -m 16` runs its firmware and migrates live (a small
    /// max-bandwidth, several passes, SWITCHOVER_START) into our registry listening on
    /// 127.0.0.1; the result equals the stopped source's RAM (pmemsave) and CMOS bytes.
    @Test func qemu10IsTheSourceOfALiveMigrationIntoOurRegistry() throws {
        let shape = try TestPaths.readBytes(TestPaths.qemu10Fixtures + "/pc-bios/stream.bin")
        let machine = try StreamIOTests.FixtureMachine("pc-bios", stream: shape)
        let destination = try LiveMigrationTests.Destination(
            machine.registry, flags: Registry.LoadOptions.keepUnknown.rawValue)
        let dir = try QEMU10.workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }

        let cmos = Array(0x0E..<0x40)
        var commands = ["pmemsave 0 0x1000000 \"/work/guest.ram\""]
        for index in cmos { commands += ["o /b 0x70 \(index)", "i /b 0x71"] }
        let (_, output) = try QEMU10.run(
            [
                "run", "python3", "/work/qemu-live-source.py", "tcp:127.0.0.1:\(destination.listener.port)", "1",
                "2000000",
            ] + commands + ["--", "-M", "pc", "-m", "16"], in: dir)
        let outcome = try JSONDecoder().decode(LiveMigrationQEMUTests.SourceOutcome.self, from: output)
        let result = destination.wait()
        #expect(result.ok, "\(result.message)")
        #expect(outcome.status == "completed", "\(outcome)")
        try #require(outcome.outputs.count == 1 + 2 * cmos.count)
        #expect(machine.registry.streamVersion == .qemu10_0)
        #expect(machine.registry.loadedRules?.switchoverStart == true)

        try LiveMigrationQEMUTests.expectSameState(
            machine, guestRAM: dir.appendingPathComponent("guest.ram").path, cmos: cmos, outputs: outcome.outputs)
    }
}
