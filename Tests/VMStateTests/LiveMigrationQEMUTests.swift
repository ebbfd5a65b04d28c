import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

/// Live migration with QEMU 7.2 at either end, over TCP on 127.0.0.1, and QEMU 7.2's own live
/// stream (Tests/Fixtures/qemu-7.2/pc-live) read by our destination.
@Suite(.serialized) struct LiveMigrationQEMUTests {
    /// A TCP port on 127.0.0.1 that was free a moment ago (QEMU binds it next).
    static func freePort() throws -> UInt16 {
        let listener = try StreamSocketTests.Listener()
        return listener.port
    }

    /// Reads one line from `handle` (the helper scripts print `listening` first).
    /// Our live migration of `machine` into the QEMU `process` (scripts/qemu-incoming.py,
    /// listening on `port`, printing JSON on `output` after the HMP commands `o /b 0x70 0x50`,
    /// `i /b 0x71`, `xp /1wx 0x7000`, `xp /1wx 0x9000`): a pass, a RAM write through the dirty
    /// log, a pass, a CMOS byte and a RAM word set, complete; QEMU (`qemu` in messages) must
    /// report `completed` and hold all three values.
    static func migrateLive(
        _ machine: StreamIOTests.FixtureMachine, ram: (String, UnsafeMutableRawPointer),
        log: LiveMigrationTests.DirtyLog,
        port: UInt16, into process: Process, output pipe: Pipe, qemu: String
    ) throws {
        #expect(Self.readLine(pipe.fileHandleForReading) == "listening")

        let connection = try LiveMigrationTests.connect(port)
        defer { g_object_unref(connection) }
        var error: UnsafeMutablePointer<GError>?
        let mig = try #require(
            vmstate_migration_start(
                StreamIOTests.handle(machine.registry), nil,
                LiveMigrationTests.output(connection), &error), "\(LiveMigrationTests.message(error))")
        defer { vmstate_migration_free(mig) }
        var pending: UInt64 = 0
        #expect(vmstate_migration_iterate(mig, &pending, &error), "\(LiveMigrationTests.message(error))")
        log.write(ram, 0x9000, 0xCAFE_D00D)
        #expect(vmstate_migration_iterate(mig, &pending, &error), "\(LiveMigrationTests.message(error))")
        // Before completing: a CMOS byte and a RAM word.
        let rtc = try #require(machine.pc.states.first { $0.idstr == "mc146818rtc" }).state.assumingMemoryBound(
            to: PcRTCState.self)
        withUnsafeMutableBytes(of: &rtc.pointee.cmos_data) { $0[0x50] = 0xA7 }
        log.write(ram, 0x7000, 0x1234_5678)
        #expect(vmstate_migration_complete(mig, &error), "\(LiveMigrationTests.message(error))")
        var stats = VMStateMigrationStats()
        vmstate_migration_get_stats(mig, &stats)
        let pages = machine.blocks.reduce(0) { $0 + $1.2 / 4096 }
        #expect(stats.passes == 2 && stats.pages_sent == UInt64(pages + 1 + 1))
        g_io_stream_close(UnsafeMutableRawPointer(connection).assumingMemoryBound(to: GIOStream.self), nil, nil)

        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let outcome = try JSONDecoder().decode(QEMUClientTests.Outcome.self, from: output)
        #expect(outcome.status == "completed", "\(qemu) said: \(outcome.error ?? "nothing")")
        try #require(outcome.outputs.count == 4)
        #expect(outcome.outputs[1].contains("= 0xa7"), "inb 0x71 after selecting CMOS 0x50: \(outcome.outputs[1])")
        #expect(outcome.outputs[2].contains("0x12345678"), "guest RAM at 0x7000: \(outcome.outputs[2])")
        #expect(outcome.outputs[3].contains("0xcafed00d"), "guest RAM at 0x9000: \(outcome.outputs[3])")
    }

    /// The destination's state equals the stopped QEMU source's: guest RAM below 16 MiB (the
    /// pmemsave dump at `guestRAM`) equals pc.ram except the legacy window 0xa0000-0xfffff (no
    /// VGA; ROM shadowing decides what QEMU reads there), and the CMOS bytes `cmos` as QEMU read
    /// them (`outputs[2 + 2n]`, after `o /b 0x70 INDEX`) equal our mc146818rtc's.
    static func expectSameState(
        _ machine: StreamIOTests.FixtureMachine, guestRAM: String, cmos: [Int], outputs: [String]
    ) throws {
        let dumped = try TestPaths.readBytes(guestRAM)
        let ram = try #require(machine.blocks.first { $0.0 == "pc.ram" })
        try #require(dumped.count == ram.2)
        var differing = 0
        dumped.withUnsafeBytes { d in
            for page in stride(from: 0, to: ram.2, by: 4096) where !(0xA0000..<0x100000).contains(page) {
                if memcmp(d.baseAddress! + page, ram.1 + page, 4096) != 0 { differing += 1 }
            }
        }
        #expect(differing == 0)
        #expect(dumped.contains { $0 != 0 })

        let rtc = try #require(machine.pc.states.first { $0.idstr == "mc146818rtc" }).state.assumingMemoryBound(
            to: PcRTCState.self)
        let ours = withUnsafeBytes(of: &rtc.pointee.cmos_data) { Array($0) }
        for (n, index) in cmos.enumerated() {
            let line = outputs[2 + 2 * n]
            // mc146818rtc reads 0x37 (IBM PS/2 century byte) as 0x32 (the century).
            let value = ours[index == 0x37 ? 0x32 : index]
            #expect(line.contains(String(format: "= 0x%02x", value)), "CMOS \(index): QEMU \(line), ours \(value)")
        }
    }

    static func readLine(_ handle: FileHandle) -> String {
        var line = Data()
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty || byte == Data([0x0A]) { break }
            line += byte
        }
        return String(decoding: line, as: UTF8.self)
    }

    @Test func qemuLiveStreamLoadsThroughOurDestination() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-live/stream.bin")
        // QEMU 7.2's live record order: RAM START, four PARTs, END (EOS only), then the devices.
        let (sections, end) = try LiveMigrationTests.walk(stream)
        #expect(sections.map(\.0) == [0x01, 0x02, 0x02, 0x02, 0x02, 0x03])
        #expect(sections.allSatisfy { $0.1 == 2 } && end == 0x7C5BC)
        #expect(sections.map { $0.2.count } == [0, 40 + 3973, 49 + 110, 22 + 32, 4, 0])
        // A PART may begin with CONTINUE: the block of the previous part's last page.
        #expect(sections[2].2.first == LiveMigrationTests.PageRecord(word: 0xFAD000 | 0x28, block: nil))
        #expect(stream[end] == 0x04)

        // Over a loopback socket, as it arrives, with the unknown devices kept.
        let machine = try StreamIOTests.FixtureMachine("pc-live", stream: stream)
        let destination = try LiveMigrationTests.Destination(
            machine.registry, flags: Registry.LoadOptions.keepUnknown.rawValue)
        let raw = gbytes(stream)
        defer { g_bytes_unref(raw) }
        let client = test_socket_client_start(destination.listener.port, nil, nil, raw)
        let result = destination.wait()
        #expect(test_socket_client_join(client, nil) != 0)
        #expect(result.ok, "\(result.message)")
        let reference = try StreamIOTests.FixtureMachine("pc-live", stream: stream)
        try reference.registry.load(stream, options: .keepUnknown)
        #expect(machine.sameRAM(as: reference))
        let bios = try #require(machine.blocks.first { $0.0 == "pc.bios" })
        #expect(bios.1.load(fromByteOffset: bios.2 - 16, as: UInt8.self) == 0xEA)
        #expect(try machine.registry.save() == reference.registry.save())
    }

    @Test(.enabled(if: QEMUBinary.path != nil, "qemu-system-x86_64 is not installed"))
    func qemuIsTheDestinationOfOurLiveMigration() throws {
        let original = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        let machine = try StreamIOTests.FixtureMachine("pc-bios", stream: original)
        try machine.registry.load(original, options: .keepUnknown)
        let block = try #require(machine.blocks.first { $0.0 == "pc.ram" })
        let ram = (block.0, block.1)
        let log = LiveMigrationTests.DirtyLog()
        log.attach(machine.registry)

        let port = try Self.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", TestPaths.packageRoot + "/scripts/qemu-incoming.py", "tcp:127.0.0.1:\(port)",
            "o /b 0x70 0x50", "i /b 0x71", "xp /1wx 0x7000", "xp /1wx 0x9000", "--", "-M", "pc", "-m", "16",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        try Self.migrateLive(machine, ram: ram, log: log, port: port, into: process, output: pipe, qemu: "QEMU")
    }

    struct SourceOutcome: Decodable {
        let status: String?
        let error: String?
        let outputs: [String]
        /// query-migrate's "ram" when the migration ended (null when it failed to start).
        let ram: RAMStats?
        /// query-migrate's "xbzrle-cache" (capability xbzrle), when QEMU gave one.
        let xbzrle: XBZRLEStats?

        enum CodingKeys: String, CodingKey {
            case status, error, outputs, ram
            case xbzrle = "xbzrle-cache"
        }

        struct XBZRLEStats: Decodable {
            /// Pages found in the XBZRLE cache: sent as deltas, or not sent (unchanged), or
            /// sent whole (the delta overflowed).
            let pages: Int?
            /// The deltas' bytes without their 8-byte page headers, plus a page (4096) per
            /// overflow (QEMU 10.0's `save_xbzrle_page`).
            let bytes: Int?
            let overflow: Int?

            /// Whether an XBZRLE record was sent: its bytes are counted only then.
            var sentDeltas: Bool { (bytes ?? 0) > (overflow ?? 0) * 4096 }
        }

        struct RAMStats: Decodable {
            /// Dirty-bitmap syncs: 2 for one pass plus the completion, one more per later pass.
            let dirtySyncCount: Int?
            enum CodingKeys: String, CodingKey { case dirtySyncCount = "dirty-sync-count" }
        }
    }

    @Test(.enabled(if: QEMUBinary.path != nil, "qemu-system-x86_64 is not installed"))
    func qemuIsTheSourceOfALiveMigrationIntoOurRegistry() throws {
        // The pc devices of our tests and every RAM block of `-M pc -m 16` (as pc-bios lists them).
        let shape = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        let machine = try StreamIOTests.FixtureMachine("pc-bios", stream: shape)
        let destination = try LiveMigrationTests.Destination(
            machine.registry, flags: Registry.LoadOptions.keepUnknown.rawValue)
        let memory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vmstate-live-\(UUID().uuidString).ram")
        defer { try? FileManager.default.removeItem(at: memory) }

        // QEMU's final state, read from the stopped source: guest RAM (pmemsave) and CMOS bytes.
        let cmos = Array(0x0E..<0x40)
        var commands = ["pmemsave 0 0x1000000 \"\(memory.path)\""]
        for index in cmos { commands += ["o /b 0x70 \(index)", "i /b 0x71"] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "python3", TestPaths.packageRoot + "/scripts/qemu/qemu-live-source.py",
                "tcp:127.0.0.1:\(destination.listener.port)", "1", "2000000",
            ] + commands + ["--", "-M", "pc", "-m", "16"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let outcome = try JSONDecoder().decode(SourceOutcome.self, from: output)
        let result = destination.wait()
        #expect(result.ok, "\(result.message)")
        #expect(outcome.status == "completed", "\(outcome)")
        try #require(outcome.outputs.count == 1 + 2 * cmos.count)

        try Self.expectSameState(machine, guestRAM: memory.path, cmos: cmos, outputs: outcome.outputs)
    }
}
