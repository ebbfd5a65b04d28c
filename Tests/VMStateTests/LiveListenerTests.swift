import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

/// `vmstate_registry_load_from_listener`: the destination that accepts the source's connection
/// itself and closes every further one, so that a QEMU source with capability multifd (whose RAM
/// pages go on connections of their own) fails instead of completing with the pages missing;
/// and the migration capabilities of a real QEMU source, each loaded or refused with an error
/// that names it while QEMU reports `failed`.
@Suite(.serialized) struct LiveListenerTests {
    /// `vmstate_registry_load_from_listener` on `registry`, on a thread of its own.
    static func listening(_ registry: Registry, flags: UInt32 = 0) throws -> LiveMigrationTests.Destination {
        try LiveMigrationTests.Destination(registry, flags: flags, fromListener: true)
    }

    static func write(_ connection: UnsafeMutablePointer<GSocketConnection>, _ bytes: [UInt8]) {
        var written: gsize = 0
        #expect(
            g_output_stream_write_all(
                LiveMigrationTests.output(connection), bytes, gsize(bytes.count), &written, nil, nil) != 0
                && written == gsize(bytes.count))
    }

    /// Reads `connection` until the peer closes it (or it fails): how the destination's own
    /// thread is seen to have handled a second connection.
    static func readUntilClosed(_ connection: UnsafeMutablePointer<GSocketConnection>) {
        let input = g_io_stream_get_input_stream(
            UnsafeMutableRawPointer(connection).assumingMemoryBound(to: GIOStream.self))
        var buffer = [UInt8](repeating: 0, count: 64)
        while g_input_stream_read(input, &buffer, gsize(buffer.count), nil, nil) > 0 {}
    }

    /// QEMU's multifd initial packet begins (be32 MULTIFD_MAGIC, be32 version 1).
    static let multifdPacket: [UInt8] = [0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1]

    /// The channel thread shuts down the main stream's reading for a multifd channel only while
    /// the loading thread has not closed that stream (``ExtraChannels/closeMain(_:)``): after
    /// the close, the socket's number may be another file's, and the stream's end was not the
    /// thread's doing (the error must not say its reading was stopped). Before the close, the
    /// shutdown happens and is recorded.
    @Test(arguments: [false, true])
    func theChannelThreadLeavesAClosedMainStreamAlone(_ closedFirst: Bool) throws {
        let listener = try StreamSocketTests.Listener()
        let client = try LiveMigrationTests.connect(listener.port)
        defer { g_object_unref(client) }
        let main = try #require(g_socket_listener_accept(listener.listener, nil, nil, nil))
        defer { g_object_unref(main) }
        let mainStream = UnsafeMutableRawPointer(main).assumingMemoryBound(to: GIOStream.self)
        let extra = ExtraChannels(listener.listener, main: g_socket_connection_get_socket(main))
        if closedFirst { extra.closeMain { g_io_stream_close(mainStream, nil, nil) } }
        // Until stop(), only the thread accepts: it has read this channel's magic once it closes it.
        let channel = try LiveMigrationTests.connect(listener.port)
        defer { g_object_unref(channel) }
        Self.write(channel, Self.multifdPacket)
        Self.readUntilClosed(channel)
        let seen = extra.stop()
        #expect(seen.multifd == 1 && seen.others == 0)
        #expect(extra.shutStream == !closedFirst)
        if !closedFirst {
            // Its reading shut down: a read returns the end at once, though the client sent nothing.
            var byte: UInt8 = 0
            #expect(g_input_stream_read(g_io_stream_get_input_stream(mainStream), &byte, 1, nil, nil) == 0)
            extra.closeMain { g_io_stream_close(mainStream, nil, nil) }
        }
    }

    /// The first 100 bytes of a filled machine's stream arrive on the first connection; then a
    /// second connection sends `second` and waits until the destination closes it; then, with
    /// `rest`, the rest of the stream arrives (else the first connection stays open, idle). The
    /// load's result, or nil when it has not ended within 20 s.
    static func loadBesideASecondConnection(sending second: [UInt8], rest: Bool) throws -> (
        result: (ok: Bool, code: Int32, message: String)?, source: RegistryTests.Machine,
        target: RegistryTests.Machine
    ) {
        let source = try RegistryTests.Machine(fill: true)
        let stream = try source.registry.save(machineType: "tiny")
        let target = try RegistryTests.Machine(fill: false)
        let destination = try Self.listening(target.registry)
        let main = try LiveMigrationTests.connect(destination.listener.port)
        defer { g_object_unref(main) }
        Self.write(main, Array(stream[..<100]))
        let other = try LiveMigrationTests.connect(destination.listener.port)
        defer { g_object_unref(other) }
        Self.write(other, second)
        Self.readUntilClosed(other)
        if rest { Self.write(main, Array(stream[100...])) }
        return (destination.wait(seconds: 20), source, target)
    }

    /// A second connection that sends the start of a multifd channel is closed by the
    /// destination, and the reading of the stream stops: the load fails naming multifd (the RAM
    /// pages would be on that channel), at once, though the source keeps its stream's connection
    /// open (QEMU fails its migration and may stay alive for long).
    @Test func aMultifdChannelEndsALoadWhoseStreamWaits() throws {
        let (ended, _, _) = try Self.loadBesideASecondConnection(sending: Self.multifdPacket, rest: false)
        let result = try #require(ended, "the load still waits on the open stream")
        #expect(!result.ok && result.code == VMStateError.Kind.badStream.rawValue)
        #expect(
            result.message
                == "the source opened a second connection beside the migration stream, QEMU multifd channels "
                + "(magic 0x11223344): capability multifd is on, and the RAM pages it sends on those channels are "
                + "not loaded; turn multifd off on the source (the stream: section \"ram\" instance 0: its reading was "
                + "stopped for that channel inside a RAM block name) (at byte 99)")
    }

    /// A second connection that is not a multifd channel is closed and changes nothing.
    @Test func anotherConnectionIsClosedAndTheStreamLoads() throws {
        let (ended, source, target) = try Self.loadBesideASecondConnection(
            sending: Array("GET / HTTP/1.0\r\n\r\n".utf8), rest: true)
        let result = try #require(ended)
        #expect(result.ok, "\(result.message)")
        #expect(memcmp(target.ram, source.ram, 4 * 4096) == 0 && target.counter.counter == 0x0102_0304)
    }

    /// Connections queued on the listener when the load ends, which the thread has not
    /// accepted (not run yet, as under load), are accepted then: QEMU's multifd channels are
    /// connected and have written their magic before its main stream passes the RAM setup, and
    /// a load that fails or succeeds first must still name multifd. Those that send nothing are
    /// waited for a second at most.
    @Test func connectionsQueuedWhenTheLoadEndsAreSeen() throws {
        let listener = try StreamSocketTests.Listener()
        var clients: [UnsafeMutablePointer<GSocketConnection>] = []
        defer { clients.forEach { g_object_unref($0) } }
        for bytes in [Self.multifdPacket, Array("GET / HTTP/1.0\r\n\r\n".utf8), Self.multifdPacket, []] {
            let client = try LiveMigrationTests.connect(listener.port)
            if !bytes.isEmpty { Self.write(client, bytes) }
            clients.append(client)
        }
        let extra = ExtraChannels(listener.listener, main: nil, onThread: false)
        let start = Date()
        let seen = extra.stop()
        try #require(seen.multifd == 2 && seen.others == 2, "\(seen)")
        #expect(Date().timeIntervalSince(start) < Double(ExtraChannels.drainSeconds) + 1)
        // Each was closed: its peer reads its end.
        for client in clients { Self.readUntilClosed(client) }
        // Nothing queued: stop() returns without accepting.
        #expect(ExtraChannels(listener.listener, main: nil, onThread: false).stop() == (0, 0))
    }

    /// A multifd channel accepted first (QEMU 10.0 connects its multifd channels before the main
    /// one) is refused at its magic, by every load.
    @Test func aMultifdChannelIsNotAStream() throws {
        let channel = Self.multifdPacket + [UInt8](repeating: 0, count: 24)
        let e = engineError { try Registry().load(channel, options: .keepUnknown) }
        let expected =
            "a QEMU multifd channel, not the migration stream: the source has capability multifd on, which sends "
            + "the RAM pages on channels of their own; the registry loads one channel (turn multifd off); expected "
            + "magic 0x5145564d (\"QEVM\"), got 0x11223344 (MULTIFD_MAGIC) (at byte 0)"
        #expect(e?.kind == .badStream && e?.description == expected)

        let target = try RegistryTests.Machine(fill: false)
        let destination = try Self.listening(target.registry)
        let connection = try LiveMigrationTests.connect(destination.listener.port)
        defer { g_object_unref(connection) }
        Self.write(connection, channel)
        g_io_stream_close(UnsafeMutableRawPointer(connection).assumingMemoryBound(to: GIOStream.self), nil, nil)
        let result = destination.wait()
        #expect(!result.ok && result.code == VMStateError.Kind.badStream.rawValue && result.message == expected)
    }

    /// What the listener load says when the source opened multifd channels (`count`: "a second
    /// connection" or "N more connections"), with the stream's own failure inside, if any, at byte 0.
    static func multifdRefusal(_ count: String, stream: String?) -> String {
        "the source opened \(count) beside the migration stream, QEMU multifd channels "
            + "(magic 0x11223344): capability multifd is on, and the RAM pages it sends on those channels are "
            + "not loaded; turn multifd off on the source" + (stream.map { " (the stream: \($0))" } ?? "")
            + " (at byte 0)"
    }

    /// The listener load's words for a stream whose reading its thread stopped (one channel) before
    /// the load had read its magic.
    static let stoppedForTheChannel = "its reading was stopped for that channel inside the stream magic"

    /// Two connections to a listening load, connected before either writes: the first (the
    /// one the load takes as its stream) sends `first`, then the second a multifd channel's
    /// start. The load's result, which must be a bad-stream error.
    static func loadWithAMultifdChannelSecond(first bytes: [UInt8]) throws -> (ok: Bool, code: Int32, message: String) {
        let target = try RegistryTests.Machine(fill: false)
        let destination = try Self.listening(target.registry)
        let first = try LiveMigrationTests.connect(destination.listener.port)
        defer { g_object_unref(first) }
        let second = try LiveMigrationTests.connect(destination.listener.port)
        defer { g_object_unref(second) }
        if !bytes.isEmpty { Self.write(first, bytes) }
        Self.write(second, Self.multifdPacket)
        let result = try #require(destination.wait(seconds: 20), "the load did not end")
        #expect(!result.ok && result.code == VMStateError.Kind.badStream.rawValue)
        return result
    }

    /// QEMU 10.0's order: multifd channels connected first, one of them accepted as the
    /// stream. The load fails at its magic, and the source's other channel, queued or taken by
    /// the thread, makes the error the one that names the channels, with the magic's inside
    /// unless the thread shut the stream down before the load read it (both orders are QEMU's).
    @Test func aMultifdChannelFirstAndAnotherAreNamedTogether() throws {
        let result = try Self.loadWithAMultifdChannelSecond(
            first: Self.multifdPacket + [UInt8](repeating: 0, count: 24))
        let magic =
            "a QEMU multifd channel, not the migration stream: the source has capability multifd on, which sends "
            + "the RAM pages on channels of their own; the registry loads one channel (turn multifd off)"
        #expect(
            [magic, Self.stoppedForTheChannel].map { Self.multifdRefusal("a second connection", stream: $0) }
                .contains(result.message), "\(result.message)")
    }

    /// A stream that sends nothing while a multifd channel arrives: the thread shuts the
    /// stream's reading down, the load ends at byte 0, and that end, made here, is said as such
    /// (not as a stream that ended inside its magic).
    @Test func aStreamShutDownForAMultifdChannelIsNotCalledShort() throws {
        let result = try Self.loadWithAMultifdChannelSecond(first: [])
        #expect(result.message == Self.multifdRefusal("a second connection", stream: Self.stoppedForTheChannel))
    }

    /// Runs scripts/qemu/qemu-live-source.py (`-M pc -m 16`, firmware running, 2 MB/s so that RAM
    /// goes in several passes, unless QEMU finds nothing dirty at a sync first) into `destination` with `capabilities` on, reading the stopped
    /// source's RAM and CMOS when it completed; QEMU 10.0's inside its chroot.
    static func qemuSource(
        into destination: LiveMigrationTests.Destination, capabilities: String, qemu10: Bool, directory: URL,
        memory: String,
        machine: [String] = ["-M", "pc", "-m", "16"], ramSize: Int = 0x100_0000, after: [String] = [],
        seconds: Int = 1
    ) throws -> (LiveMigrationQEMUTests.SourceOutcome, [Int]) {
        let cmos = Array(0x0E..<0x40)
        var commands = ["pmemsave 0 \(ramSize) \"\(memory)\""]
        for index in cmos { commands += ["o /b 0x70 \(index)", "i /b 0x71"] }
        let arguments =
            ["tcp:127.0.0.1:\(destination.listener.port)", "\(seconds)", "2000000"] + commands + after + ["--"]
            + machine
        let process = Process()
        var environment = ProcessInfo.processInfo.environment
        environment["QEMU_LIVE_CAPABILITIES"] = capabilities
        process.environment = environment
        if qemu10 {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [QEMU10.script, "run", "python3", "/work/qemu-live-source.py"] + arguments
            process.currentDirectoryURL = directory
            process.standardError = FileHandle.nullDevice
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", TestPaths.packageRoot + "/scripts/qemu/qemu-live-source.py"] + arguments
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (try JSONDecoder().decode(LiveMigrationQEMUTests.SourceOutcome.self, from: output), cmos)
    }

    /// What the load says of a source with a return path (capability return-path or
    /// postcopy-ram, and switchover-ack, which needs one).
    static let openReturnPath =
        "unsupported command 1 (0x1) OPEN_RETURN_PATH (written when capability postcopy-ram or return-path is on)"

    /// What the load says of a source with capability dirty-bitmaps.
    static let postcopyAdvise =
        "unsupported command 3 (0x3) POSTCOPY_ADVISE (written when capability postcopy-ram or dirty-bitmaps is on)"

    /// QEMU 7.2 as the source with the capabilities a user may have on: those that change
    /// nothing on the wire load (the result equals the stopped source); the others fail on both
    /// sides, QEMU's status `failed` (no hang) and our error naming the capability.
    @Test(.enabled(if: QEMUBinary.path != nil, "qemu-system-x86_64 is not installed"))
    func qemuSourceCapabilities() throws {
        try Self.capabilities(
            qemu10: false, fixtures: TestPaths.qemuFixtures,
            refused: [
                ("return-path", Self.openReturnPath),
                ("postcopy-ram", Self.openReturnPath),
                ("dirty-bitmaps", Self.postcopyAdvise),
                ("multifd", "capability multifd is on"),
            ], loaded: "events,auto-converge,zero-blocks,x-ignore-shared,validate-uuid,late-block-activate,compress")
    }

    /// QEMU 10.0 (through scripts/qemu/qemu10) as the source, as ``qemuSourceCapabilities()``.
    @Test(.enabled(if: QEMU10.available, "QEMU 10.0 is not set up: run scripts/qemu/qemu10 setup as root"))
    func qemu10SourceCapabilities() throws {
        try Self.capabilities(
            qemu10: true, fixtures: TestPaths.qemu10Fixtures,
            refused: [
                ("return-path", Self.openReturnPath),
                ("return-path,switchover-ack", Self.openReturnPath),
                ("dirty-bitmaps", Self.postcopyAdvise),
                ("multifd", "capability multifd is on"),
            ], loaded: "events,auto-converge,x-ignore-shared,validate-uuid,late-block-activate")
    }

    static func capabilities(
        qemu10: Bool, fixtures: String, refused: [(String, String)], loaded: String
    ) throws {
        let shape = try TestPaths.readBytes(fixtures + "/pc-bios/stream.bin")
        let dir = qemu10 ? try QEMU10.workDirectory() : FileManager.default.temporaryDirectory
        defer { if qemu10 { try? FileManager.default.removeItem(at: dir) } }
        let memory = dir.appendingPathComponent("vmstate-listener-\(UUID().uuidString).ram")
        defer { try? FileManager.default.removeItem(at: memory) }
        let path = qemu10 ? "/work/" + memory.lastPathComponent : memory.path

        for (capabilities, message) in refused {
            let machine = try StreamIOTests.FixtureMachine("pc-bios", stream: shape)
            let destination = try Self.listening(machine.registry, flags: Registry.LoadOptions.keepUnknown.rawValue)
            let (outcome, _) = try Self.qemuSource(
                into: destination, capabilities: capabilities, qemu10: qemu10, directory: dir, memory: path)
            let result = destination.wait()
            #expect(outcome.status == "failed", "\(capabilities): \(outcome)")
            #expect(!result.ok && result.message.contains(message), "\(capabilities): \(result.message)")
        }

        let machine = try StreamIOTests.FixtureMachine("pc-bios", stream: shape)
        let destination = try Self.listening(machine.registry, flags: Registry.LoadOptions.keepUnknown.rawValue)
        let (outcome, cmos) = try Self.qemuSource(
            into: destination, capabilities: loaded, qemu10: qemu10, directory: dir, memory: path)
        let result = destination.wait()
        #expect(result.ok, "\(result.message)")
        #expect(outcome.status == "completed", "\(outcome)")
        try #require(outcome.outputs.count == 1 + 2 * cmos.count)
        try LiveMigrationQEMUTests.expectSameState(
            machine, guestRAM: memory.path, cmos: cmos, outputs: outcome.outputs)
    }

    /// A relay: a running QEMU (two vCPUs; the devices the registry does not know are kept with
    /// KEEP_UNKNOWN) migrates live into the registry, which saves it to a file that the same QEMU
    /// version loads (`-S`, stopped): guest RAM and CMOS equal the stopped source's, and so does
    /// every vCPU's `info registers -a`.
    static func relay(qemu10: Bool, fixture: String, machine: [String], ramSize: Int) throws {
        let shape = try TestPaths.readBytes(fixture + "/stream.bin")
        let dir = qemu10 ? try QEMU10.workDirectory() : FileManager.default.temporaryDirectory
        defer { if qemu10 { try? FileManager.default.removeItem(at: dir) } }
        let memory = dir.appendingPathComponent("vmstate-relay-\(UUID().uuidString).ram")
        defer { try? FileManager.default.removeItem(at: memory) }
        let path = qemu10 ? "/work/" + memory.lastPathComponent : memory.path

        let machineState = try StreamIOTests.FixtureMachine("relay", stream: shape)
        let destination = try Self.listening(machineState.registry, flags: Registry.LoadOptions.keepUnknown.rawValue)
        let (outcome, cmos) = try Self.qemuSource(
            into: destination, capabilities: "", qemu10: qemu10, directory: dir, memory: path, machine: machine,
            ramSize: ramSize, after: ["info registers -a"])
        let result = destination.wait()
        #expect(result.ok, "\(result.message)")
        #expect(outcome.status == "completed", "\(outcome)")
        try #require(outcome.outputs.count == 2 + 2 * cmos.count)
        try LiveMigrationQEMUTests.expectSameState(
            machineState, guestRAM: memory.path, cmos: cmos, outputs: outcome.outputs)
        let registers = outcome.outputs[1 + 2 * cmos.count]
        #expect(registers.components(separatedBy: "CPU#").count == 3, "two vCPUs: \(registers)")

        // The registry's stream, from a file, into the same QEMU version, stopped.
        let relayed = try machineState.registry.save()
        var commands: [String] = []
        for index in cmos { commands += ["o /b 0x70 \(index)", "i /b 0x71"] }
        commands.append("info registers -a")
        let loaded: QEMUClientTests.Outcome
        if qemu10 {
            try Data(relayed).write(to: dir.appendingPathComponent("relay.bin"))
            let (_, output) = try QEMU10.run(
                ["run", "python3", "/work/qemu-incoming.py", "/work/relay.bin"] + commands + ["--"] + machine + ["-S"],
                in: dir)
            loaded = try JSONDecoder().decode(QEMUClientTests.Outcome.self, from: output)
        } else {
            let file = dir.appendingPathComponent("vmstate-relay-\(UUID().uuidString).bin")
            defer { try? FileManager.default.removeItem(at: file) }
            try Data(relayed).write(to: file)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments =
                ["python3", TestPaths.packageRoot + "/scripts/qemu-incoming.py", file.path] + commands + ["--"]
                + machine + ["-S"]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            loaded = try JSONDecoder().decode(QEMUClientTests.Outcome.self, from: output)
        }
        #expect(loaded.status == "completed", "\(loaded.error ?? "")")
        try #require(loaded.outputs.count == commands.count)
        #expect(Array(loaded.outputs.dropLast()) == Array(outcome.outputs[1..<1 + 2 * cmos.count]))
        #expect(loaded.outputs.last == registers)
    }

    /// QEMU 7.2, `-M pc -m 16 -smp 2` (the RAM blocks of pc-bios).
    @Test(.enabled(if: QEMUBinary.path != nil, "qemu-system-x86_64 is not installed"))
    func qemuRelaysThroughOurRegistry() throws {
        try Self.relay(
            qemu10: false, fixture: TestPaths.qemuFixtures + "/pc-bios",
            machine: ["-M", "pc", "-m", "16", "-smp", "2"],
            ramSize: 0x100_0000)
    }

    /// QEMU 10.0, `-M pc -m 16 -smp 2` with xhci and a USB tablet (unknown sections, kept).
    @Test(.enabled(if: QEMU10.available, "QEMU 10.0 is not set up: run scripts/qemu/qemu10 setup as root"))
    func qemu10RelaysThroughOurRegistry() throws {
        try Self.relay(
            qemu10: true, fixture: TestPaths.qemu10Fixtures + "/pc-bios",
            machine: ["-M", "pc", "-m", "16", "-smp", "2", "-device", "qemu-xhci", "-device", "usb-tablet"],
            ramSize: 0x100_0000)
    }

    /// A 1.44 MB floppy whose boot sector (loaded at 0x7c00 by the firmware, real mode) loops for
    /// ever: a counter written into the first word of page from 0x10000 to 0x8ffff and at
    /// 0x6000, so the guest dirties 129 pages all the time and every pass resends them.
    static func writingGuest(_ url: URL) throws {
        var image = [UInt8](repeating: 0, count: 1_474_560)
        let code: [UInt8] = [
            0xFA, 0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xD0, 0xBC, 0x00, 0x70,  // cli; ds = ss = 0; sp = 0x7000
            0x66, 0x31, 0xC9,  // xor ecx, ecx
            0x66, 0x41, 0xBB, 0x00, 0x10,  // outer: inc ecx; bx = 0x1000
            0x8E, 0xC3, 0x31, 0xFF,  // segment: es = bx; di = 0
            0x26, 0x66, 0x89, 0x0D, 0x81, 0xC7, 0x00, 0x10, 0x75, 0xF6,  // page: [es:di] = ecx; di += 4096; loop
            0x81, 0xC3, 0x00, 0x10, 0x81, 0xFB, 0x00, 0x90, 0x72, 0xE8,  // bx += 0x1000; while bx < 0x9000
            0x66, 0x89, 0x0E, 0x00, 0x60, 0xEB, 0xDC,  // [0x6000] = ecx; jmp outer
        ]
        image.replaceSubrange(0..<code.count, with: code)
        image[510] = 0x55
        image[511] = 0xAA
        try Data(image).write(to: url)
    }

    /// QEMU 10.0 (TCG) runs a guest that writes its RAM all the time: the live migration into
    /// the registry takes several passes that send the same pages again (PARTs with CONTINUE
    /// records, pages overwritten), and the result equals the stopped source's RAM and CMOS;
    /// with capability xbzrle the pages sent a third time come as XBZRLE deltas, decoded into
    /// the pages, with the same result. (QEMU 7.2's TCG misses these writes in its dirty log:
    /// neither its own destination nor ours gets the last values, so 7.2 is not used here.)
    @Test(.enabled(if: QEMU10.available, "QEMU 10.0 is not set up: run scripts/qemu/qemu10 setup as root"))
    func qemu10ResendsThePagesOfAWritingGuest() throws {
        let shape = try TestPaths.readBytes(TestPaths.qemu10Fixtures + "/pc-bios/stream.bin")
        let dir = try QEMU10.workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.writingGuest(dir.appendingPathComponent("guest.img"))
        let machine = ["-M", "pc", "-m", "16", "-drive", "file=guest.img,format=raw,if=floppy"]

        for capabilities in ["", "xbzrle"] {
            // QEMU ends a migration at the first dirty-bitmap sync that finds nothing dirty,
            // whatever the downtime limit: on a busy machine the guest's vCPU may write nothing
            // between two syncs, and the migration ends before the passes this test needs
            // (deltas come from the third pass on). Each run is checked in full; one that ended
            // that early is run again, up to 3 times.
            var enoughPasses = false
            for attempt in 1...3 where !enoughPasses {
                let state = try StreamIOTests.FixtureMachine("pc-bios", stream: shape)
                let destination = try Self.listening(
                    state.registry, flags: Registry.LoadOptions.keepUnknown.rawValue)
                let (outcome, cmos) = try Self.qemuSource(
                    into: destination, capabilities: capabilities, qemu10: true, directory: dir,
                    memory: "/work/guest.ram", machine: machine, seconds: 2)
                let result = destination.wait()
                #expect(result.ok, "\(capabilities): \(result.message)")
                #expect(outcome.status == "completed", "\(outcome)")
                try #require(outcome.outputs.count == 1 + 2 * cmos.count)
                try LiveMigrationQEMUTests.expectSameState(
                    state, guestRAM: dir.appendingPathComponent("guest.ram").path, cmos: cmos,
                    outputs: outcome.outputs)
                let ram = try #require(state.blocks.first { $0.0 == "pc.ram" }).1
                let counter = ram.load(fromByteOffset: 0x6000, as: UInt32.self)
                #expect(counter > 1 && ram.load(fromByteOffset: 0x8F000, as: UInt32.self) >= counter)
                enoughPasses =
                    (outcome.ram?.dirtySyncCount ?? 0) > 3
                    && (capabilities != "xbzrle" || outcome.xbzrle?.sentDeltas == true)
                if !enoughPasses {
                    print(
                        "qemu10ResendsThePagesOfAWritingGuest: \(capabilities) run \(attempt) ended early: "
                            + "\(String(describing: outcome.ram)), \(String(describing: outcome.xbzrle))")
                }
            }
            #expect(enoughPasses, "\(capabilities): every run ended before the guest's pages were sent again")
        }
    }
}
