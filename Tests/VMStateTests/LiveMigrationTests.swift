import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

/// Live (pre-copy) migration: the record order QEMU 7.2 writes, our source into our destination
/// over a loopback socket with RAM changing between passes, and the error paths.
@Suite(.serialized) struct LiveMigrationTests {
    /// The emulator's dirty log in a test: pages written through ``write(_:_:_:)`` are dirty
    /// until the next sync; `failOn` makes the callback fail for that block.
    final class DirtyLog: @unchecked Sendable {
        var dirty: [String: Set<Int>] = [:]
        var failOn: String?
        var calls = 0
        /// Runs inside the next call of the log (then cleared): the emulator's code calling the
        /// library back from its dirty log.
        var during: (() -> Void)?
        /// The blocks the migration asked about.
        var asked: Set<String> = []

        func write(_ block: (String, UnsafeMutableRawPointer), _ offset: Int, _ value: UInt32) {
            (block.1 + offset).storeBytes(of: value, as: UInt32.self)
            dirty[block.0, default: []].insert(offset / 4096)
        }

        func attach(_ registry: Registry) {
            vmstate_registry_set_dirty_log(
                StreamIOTests.handle(registry), LiveMigrationTests.logCallback,
                Unmanaged.passUnretained(self).toOpaque())
        }
    }

    static let logCallback: VMStateDirtyLogFn = { name, bitmap, npages, opaque in
        let log = Unmanaged<DirtyLog>.fromOpaque(opaque!).takeUnretainedValue()
        let block = String(cString: name!)
        log.calls += 1
        log.asked.insert(block)
        if let during = log.during {
            log.during = nil
            during()
        }
        if log.failOn == block { return false }
        for page in log.dirty[block] ?? [] where page < npages {
            bitmap![page / UInt.bitWidth] |= 1 << UInt(page % UInt.bitWidth)
        }
        log.dirty[block] = []
        return true
    }

    /// One record of a RAM section part: (offset | flags, block name when given, page kind).
    struct PageRecord: Equatable {
        let word: UInt64
        let block: String?
    }

    /// The RAM sections of a stream up to its RAM END: (type, section id, page records), and the
    /// offset after the END section's footer (where the device sections begin).
    static func walk(_ s: [UInt8]) throws -> (sections: [(UInt8, UInt32, [PageRecord])], end: Int) {
        func be32(_ i: Int) -> UInt32 { s[i..<i + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        func be64(_ i: Int) -> UInt64 { s[i..<i + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        var at = 8
        var out: [(UInt8, UInt32, [PageRecord])] = []
        var ramID: UInt32?
        while true {
            let type = s[at]
            if type == 0x07 {
                at += 5 + Int(be32(at + 1))
                continue
            }
            let id = be32(at + 1)
            at += 5
            if type == 0x01 || type == 0x04 {
                let len = Int(s[at])
                if String(decoding: s[at + 1..<at + 1 + len], as: UTF8.self) == "ram" { ramID = id }
                at += 1 + len + 8
            }
            var records: [PageRecord] = []
            if id == ramID {
                while true {
                    let word = be64(at)
                    at += 8
                    if word & 0x04 != 0 {
                        var seen: UInt64 = 0
                        while seen < word & ~0xFFF {
                            let len = Int(s[at])
                            seen += be64(at + 1 + len)
                            at += 1 + len + 8
                        }
                    }
                    if word & 0x0A != 0 {
                        var name: String?
                        if word & 0x20 == 0 {
                            let len = Int(s[at])
                            name = String(decoding: s[at + 1..<at + 1 + len], as: UTF8.self)
                            at += 1 + len
                        }
                        at += word & 0x02 != 0 ? 1 : 4096
                        records.append(PageRecord(word: word, block: name))
                    }
                    if word & 0x10 != 0 { break }
                }
            } else {
                throw VMStateError(.badStream, offset: at, reason: "a device section before the RAM END")
            }
            try #require(s[at] == 0x7E && be32(at + 1) == id, "footer of section \(id) at \(at)")
            at += 5
            out.append((type, id, records))
            if type == 0x03 { return (out, at) }
        }
    }

    static func memoryStream() -> UnsafeMutablePointer<GOutputStream> {
        UnsafeMutableRawPointer(g_memory_output_stream_new_resizable()!).assumingMemoryBound(to: GOutputStream.self)
    }

    static func bytes(of stream: UnsafeMutablePointer<GOutputStream>) -> [UInt8] {
        let memory = UnsafeMutableRawPointer(stream).assumingMemoryBound(to: GMemoryOutputStream.self)
        let size = Int(g_memory_output_stream_get_data_size(memory))
        guard size > 0, let data = g_memory_output_stream_get_data(memory) else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: size))
    }

    static func message(_ error: UnsafeMutablePointer<GError>?) -> String {
        error.map { String(cString: $0.pointee.message) } ?? ""
    }

    @Test func streamHasQEMU72LiveRecordsInOrderAndLoads() throws {
        let source = try RegistryTests.Machine(fill: true)
        let log = DirtyLog()
        log.attach(source.registry)
        let out = Self.memoryStream()
        defer { g_object_unref(out) }
        var error: UnsafeMutablePointer<GError>?
        let mig = try #require(vmstate_migration_start(StreamIOTests.handle(source.registry), "tiny", out, &error))
        defer { vmstate_migration_free(mig) }
        #expect(log.calls == 2)  // once per block, to clear the emulator's log

        // Header, configuration, RAM START exactly.
        let head = Self.bytes(of: out)
        var expected: [UInt8] = [0x51, 0x45, 0x56, 0x4D, 0, 0, 0, 3, 0x07, 0, 0, 0, 4] + Array("tiny".utf8)
        expected += [0x01, 0, 0, 0, 1, 3] + Array("ram".utf8) + [0, 0, 0, 0, 0, 0, 0, 4]
        expected += [0, 0, 0, 0, 0, 0, 0x50, 0x04, 6] + Array("pc.ram".utf8) + [0, 0, 0, 0, 0, 0, 0x40, 0]
        expected +=
            [6] + Array("pc.rom".utf8) + [0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x7E, 0, 0, 0, 1]
        #expect(head == expected)

        var pending: UInt64 = 0
        log.write(("pc.ram", source.ram), 2 * 4096 + 8, 0x1111_2222)  // dirty, but every page goes anyway
        #expect(vmstate_migration_iterate(mig, &pending, &error), "\(Self.message(error))")
        #expect(pending == 0)
        log.write(("pc.ram", source.ram), 0, 0xAAAA_0001)
        log.write(("pc.rom", source.rom), 16, 0xBBBB_0002)
        #expect(vmstate_migration_iterate(mig, &pending, &error), "\(Self.message(error))")
        #expect(pending == 0)
        log.write(("pc.ram", source.ram), 3 * 4096, 0xCCCC_0003)
        source.counter.counter = 0x0A0B_0C0D
        var stats = VMStateMigrationStats()
        vmstate_migration_get_stats(mig, &stats)
        #expect(stats.passes == 2 && stats.pages_sent == 7 && stats.zero_pages == 1 && stats.last_pass_pages == 2)
        #expect(vmstate_migration_complete(mig, &error), "\(Self.message(error))")
        vmstate_migration_get_stats(mig, &stats)
        #expect(stats.pages_sent == 8 && stats.pending_bytes == 0)
        let stream = Self.bytes(of: out)
        #expect(stats.bytes_sent == UInt64(stream.count))

        // RAM START, two PARTs, END; then the device sections, EOF and vmdesc exactly as a whole
        // save writes them after its RAM END.
        let whole = try source.registry.save()
        let (wholeSections, wholeEnd) = try Self.walk(whole)
        #expect(wholeSections.map(\.0) == [0x01, 0x03])
        let (sections, end) = try Self.walk(stream)
        #expect(sections.map(\.0) == [0x01, 0x02, 0x02, 0x03])
        #expect(sections.map(\.1) == [1, 1, 1, 1])
        #expect(Array(stream[end...]) == Array(whole[wholeEnd...]))
        #expect(stream[end] == 0x04 && stream[end + 1..<end + 5] == [0, 0, 0, 2])
        let ram = sections.map(\.2)
        #expect(
            ram[1] == [
                PageRecord(word: 0x0000 | 0x02, block: "pc.ram"), PageRecord(word: 0x1000 | 0x28, block: nil),
                PageRecord(word: 0x2000 | 0x28, block: nil), PageRecord(word: 0x3000 | 0x28, block: nil),
                PageRecord(word: 0x0000 | 0x08, block: "pc.rom"),
            ])
        #expect(ram[2] == [PageRecord(word: 0x08, block: "pc.ram"), PageRecord(word: 0x08, block: "pc.rom")])
        #expect(ram[3] == [PageRecord(word: 0x3000 | 0x08, block: "pc.ram")])

        // Our loader takes it (parts applied as they come) and gets the final state.
        let target = try RegistryTests.Machine(fill: false)
        try target.registry.load(stream)
        #expect(memcmp(target.ram, source.ram, 4 * 4096) == 0 && memcmp(target.rom, source.rom, 4096) == 0)
        #expect(target.counter.counter == 0x0A0B_0C0D && target.blob.len == 5)
    }

    /// While a migration of a registry is in progress (started, not completed, failed or
    /// freed) its devices and RAM blocks are fixed: its stream was planned with them (adding a
    /// block trapped in the next pass, a device was left out of the stream).
    @Test func nothingIsAddedWhileTheRegistryMigrates() throws {
        let source = try RegistryTests.Machine(fill: true)
        let reg = StreamIOTests.handle(source.registry)
        let extra = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { extra.deallocate() }
        let late = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        late.initialize(to: StrCounter())
        defer { late.deallocate() }
        var error: UnsafeMutablePointer<GError>?
        for ending in ["complete", "free"] {
            let out = Self.memoryStream()
            defer { g_object_unref(out) }
            var mig = try #require(vmstate_migration_start(reg, "tiny", out, &error))
            #expect(!vmstate_registry_add_ram(reg, "extra.ram", extra, 4096, &error))
            #expect(error?.pointee.code == gint(VMSTATE_ERROR_FAILED.rawValue))
            #expect(
                Self.message(error)
                    == "extra.ram: a RAM block cannot be added while a live migration of the registry is in progress (until it completes, fails or is freed) (at byte 0)"
            )
            g_clear_error(&error)
            #expect(!vmstate_registry_add(reg, "late", 0, StreamFixtures.counter, late, &error))
            #expect(
                Self.message(error)
                    == "late: a device cannot be added while a live migration of the registry is in progress (until it completes, fails or is freed) (at byte 0)"
            )
            g_clear_error(&error)
            // One migration at a time, as QEMU: a second start fails, and the first goes on.
            let second = Self.memoryStream()
            defer { g_object_unref(second) }
            #expect(vmstate_migration_start(reg, "tiny", second, &error) == nil)
            #expect(error?.pointee.code == gint(VMSTATE_ERROR_FAILED.rawValue))
            #expect(
                Self.message(error)
                    == "a live migration of this registry is in progress already (until it completes, fails or is freed); QEMU migrates a machine once at a time (at byte 0)"
            )
            g_clear_error(&error)
            #expect(Self.bytes(of: second).isEmpty)
            #expect(vmstate_migration_iterate(mig, nil, &error), "\(Self.message(error))")
            if ending == "complete" {
                #expect(vmstate_migration_complete(mig, &error), "\(Self.message(error))")
                // Done: the registry may grow again (the migration is not freed yet).
                #expect(vmstate_registry_add_ram(reg, "extra.ram", extra, 4096, &error), "\(Self.message(error))")
                vmstate_migration_free(mig)
            } else {
                vmstate_migration_free(mig)
                #expect(vmstate_registry_add(reg, "late", 0, StreamFixtures.counter, late, &error))
                // And a new migration sends what was added.
                let again = Self.memoryStream()
                defer { g_object_unref(again) }
                mig = try #require(vmstate_migration_start(reg, "tiny", again, &error))
                #expect(vmstate_migration_complete(mig, &error), "\(Self.message(error))")
                vmstate_migration_free(mig)
                let stream = Self.bytes(of: again)
                #expect(stream.count > 0)
                let target = try RegistryTests.Machine(fill: false)
                let target2 = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
                target2.initialize(to: StrCounter())
                defer { target2.deallocate() }
                let extra2 = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
                defer { extra2.deallocate() }
                try target.registry.addRAM(idstr: "extra.ram", host: extra2, length: 4096)
                try target.registry.add(idstr: "late", instanceID: 0, vmsd: StreamFixtures.counter, opaque: target2)
                try target.registry.load(stream)
            }
        }
    }

    /// The emulator's dirty log (as its device hooks) runs inside a migration's start, pass and
    /// completion: from there a device or RAM block cannot be added (the stream was planned
    /// without it: the RAM one ran past the dirty bitmaps, the device was left out), nor a
    /// second migration started, nor this migration's calls nested (a pass inside the
    /// completion wrote RAM records inside a device's section; a completion inside itself
    /// aborted the process). Each is refused with an error and the migration goes on to a
    /// stream that loads.
    @Test func theEmulatorsCodeCannotReenterTheMigrationItRuns() throws {
        let source = try RegistryTests.Machine(fill: true)
        let reg = StreamIOTests.handle(source.registry)
        let log = DirtyLog()
        log.attach(source.registry)
        let extra = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { extra.deallocate() }
        let late = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        late.initialize(to: StrCounter())
        defer { late.deallocate() }
        var refusals: [String] = []
        func refused(_ ok: Bool, _ error: inout UnsafeMutablePointer<GError>?) {
            refusals.append(ok ? "accepted" : Self.message(error))
            g_clear_error(&error)
        }
        let out = Self.memoryStream()
        defer { g_object_unref(out) }
        let second = Self.memoryStream()
        defer { g_object_unref(second) }
        log.during = {
            var e: UnsafeMutablePointer<GError>?
            refused(vmstate_registry_add_ram(reg, "extra.ram", extra, 4096, &e), &e)
            refused(vmstate_registry_add(reg, "late", 0, StreamFixtures.counter, late, &e), &e)
            let other = vmstate_migration_start(reg, "tiny", second, &e)
            refused(other != nil, &e)
            vmstate_migration_free(other)
        }
        var error: UnsafeMutablePointer<GError>?
        let mig = try #require(vmstate_migration_start(reg, "tiny", out, &error), "\(Self.message(error))")
        defer { vmstate_migration_free(mig) }
        let nested = { (call: String) in
            "\(call) called while vmstate_migration_iterate of this migration runs (from a device hook or the dirty "
                + "log that call runs): a migration's calls do not nest, its records would land inside the section "
                + "being written (at byte 0)"
        }
        #expect(
            refusals == [
                "extra.ram: a RAM block cannot be added while a live migration of the registry is in progress (until it completes, fails or is freed) (at byte 0)",
                "late: a device cannot be added while a live migration of the registry is in progress (until it completes, fails or is freed) (at byte 0)",
                "a live migration of this registry is in progress already (until it completes, fails or is freed); QEMU migrates a machine once at a time (at byte 0)",
            ])
        #expect(Self.bytes(of: second).isEmpty)
        refusals = []
        log.during = {
            var e: UnsafeMutablePointer<GError>?
            refused(vmstate_migration_complete(mig, &e), &e)
            refused(vmstate_migration_iterate(mig, nil, &e), &e)
            refused(vmstate_migration_iterate_until(mig, 0, 1, nil, &e), &e)
        }
        #expect(vmstate_migration_iterate(mig, nil, &error), "\(Self.message(error))")
        #expect(
            refusals == [
                nested("vmstate_migration_complete"), nested("vmstate_migration_iterate"),
                nested("vmstate_migration_iterate_until"),
            ])
        refusals = []
        log.during = {
            var e: UnsafeMutablePointer<GError>?
            refused(vmstate_migration_iterate(mig, nil, &e), &e)
            refused(vmstate_migration_complete(mig, &e), &e)
        }
        #expect(vmstate_migration_complete(mig, &error), "\(Self.message(error))")
        let completing = { (call: String) in
            nested(call).replacingOccurrences(
                of: "while vmstate_migration_iterate", with: "while vmstate_migration_complete")
        }
        #expect(refusals == [completing("vmstate_migration_iterate"), completing("vmstate_migration_complete")])
        // The stream is whole: it loads, and it ends with its vmdesc (nothing after it).
        let stream = Self.bytes(of: out)
        let target = try RegistryTests.Machine(fill: false)
        try target.registry.load(stream)
        #expect(memcmp(target.ram, source.ram, 4 * 4096) == 0)
        #expect(stream.last == UInt8(ascii: "}"))
    }

    /// `vmstate_migration_iterate_until` with `converged` NULL (the header: "may be NULL")
    /// makes its passes: it made none (the call returned true having sent nothing).
    @Test func iterateUntilWithoutConvergedMakesItsPasses() throws {
        let source = try RegistryTests.Machine(fill: true)
        let out = Self.memoryStream()
        defer { g_object_unref(out) }
        var error: UnsafeMutablePointer<GError>?
        let mig = try #require(vmstate_migration_start(StreamIOTests.handle(source.registry), "tiny", out, &error))
        defer { vmstate_migration_free(mig) }
        let started = Self.bytes(of: out).count
        #expect(vmstate_migration_iterate_until(mig, 0, 3, nil, &error), "\(Self.message(error))")
        var stats = VMStateMigrationStats()
        vmstate_migration_get_stats(mig, &stats)
        // (Every page was dirty at the start: the first pass sent all 5 and the log of this
        // registry, none, leaves every page dirty, so three passes were made.)
        #expect(stats.passes == 3 && stats.pages_sent == 15)
        #expect(Self.bytes(of: out).count > started)
    }

    // MARK: - over a loopback socket

    /// A TCP connection to 127.0.0.1:`port` (release with g_object_unref).
    static func connect(_ port: UInt16) throws -> UnsafeMutablePointer<GSocketConnection> {
        let client = g_socket_client_new()!
        defer { g_object_unref(client) }
        var error: UnsafeMutablePointer<GError>?
        let connection = g_socket_client_connect_to_host(client, "127.0.0.1", port, nil, &error)
        if let error { defer { g_error_free(error) }; Issue.record("connect: \(message(error))") }
        return try #require(connection)
    }

    static func output(_ c: UnsafeMutablePointer<GSocketConnection>) -> UnsafeMutablePointer<GOutputStream> {
        g_io_stream_get_output_stream(UnsafeMutableRawPointer(c).assumingMemoryBound(to: GIOStream.self))
    }

    /// The receiving side on its own thread: `vmstate_registry_load_from_stream` on the accepted
    /// connection, or with `fromListener` `vmstate_registry_load_from_listener` on the listener.
    final class Destination: @unchecked Sendable {
        let listener: StreamSocketTests.Listener
        let registry: Registry
        let flags: UInt32
        var result: (ok: Bool, code: Int32, message: String)?
        private let done = DispatchSemaphore(value: 0)

        init(_ registry: Registry, flags: UInt32 = 0, fromListener: Bool = false) throws {
            listener = try StreamSocketTests.Listener()
            self.registry = registry
            self.flags = flags
            Thread.detachNewThread { [self] in
                if fromListener {
                    var error: UnsafeMutablePointer<GError>?
                    let ok = vmstate_registry_load_from_listener(
                        StreamIOTests.handle(self.registry), listener.listener, self.flags, &error)
                    result = (ok, error?.pointee.code ?? 0, LiveMigrationTests.message(error))
                    if let error { g_error_free(error) }
                } else {
                    result = listener.acceptAndLoad(self.registry, flags: self.flags)
                }
                done.signal()
            }
        }

        /// The result, or a failure when the load has not ended within 120 s (a source that
        /// never connected or stopped sending: the test fails instead of hanging; the loading
        /// thread is left blocked).
        func wait() -> (ok: Bool, code: Int32, message: String) {
            wait(seconds: 120) ?? (false, -1, "the load did not end within 120 s")
        }

        /// The result, or nil when the load has not ended within `seconds`.
        func wait(seconds: Double) -> (ok: Bool, code: Int32, message: String)? {
            guard done.wait(timeout: .now() + seconds) == .success else { return nil }
            return result!
        }
    }

    @Test func ourSourceMigratesIntoOurDestinationOverALoopbackSocketWhileRAMChanges() throws {
        let source = try RegistryTests.Machine(fill: true)
        let target = try RegistryTests.Machine(fill: false)
        let destination = try Destination(target.registry)
        let log = DirtyLog()
        log.attach(source.registry)
        let connection = try Self.connect(destination.listener.port)
        defer { g_object_unref(connection) }
        var error: UnsafeMutablePointer<GError>?
        let mig = try #require(
            vmstate_migration_start(StreamIOTests.handle(source.registry), "tiny", Self.output(connection), &error))
        defer { vmstate_migration_free(mig) }
        vmstate_migration_set_max_bandwidth(mig, 1 << 30)
        var pending: UInt64 = 1
        #expect(vmstate_migration_iterate(mig, &pending, &error) && pending == 0, "\(Self.message(error))")
        log.write(("pc.ram", source.ram), 4096 + 4, 0x0BAD_F00D)
        log.write(("pc.rom", source.rom), 0, 0x1234_5678)
        var converged = false
        #expect(vmstate_migration_iterate_until(mig, 1_000_000, 5, &converged, &error), "\(Self.message(error))")
        #expect(converged)
        log.write(("pc.ram", source.ram), 2 * 4096 + 100, 0x7777_7777)
        source.counter.counter = 0x5566_7788
        #expect(vmstate_migration_complete(mig, &error), "\(Self.message(error))")
        var stats = VMStateMigrationStats()
        vmstate_migration_get_stats(mig, &stats)
        #expect(stats.passes == 2 && stats.pages_sent == 5 + 2 + 1 && stats.pending_bytes == 0)

        let result = destination.wait()
        #expect(result.ok, "\(result.message)")
        #expect(memcmp(target.ram, source.ram, 4 * 4096) == 0 && memcmp(target.rom, source.rom, 4096) == 0)
        #expect(target.ram.load(fromByteOffset: 2 * 4096 + 100, as: UInt32.self) == 0x7777_7777)
        #expect(target.counter.counter == 0x5566_7788 && target.counter.mode == 7 && target.blob.len == 5)
        #expect(target.blob.data.map { Array(UnsafeBufferPointer(start: $0, count: 5)) } == [1, 2, 3, 4, 5])
    }

    @Test func aFailingDirtyLogIsACleanErrorAndTheMigrationGoesOn() throws {
        let source = try RegistryTests.Machine(fill: true)
        let target = try RegistryTests.Machine(fill: false)
        let destination = try Destination(target.registry)
        let log = DirtyLog()
        log.attach(source.registry)
        let connection = try Self.connect(destination.listener.port)
        defer { g_object_unref(connection) }
        var error: UnsafeMutablePointer<GError>?
        let mig = try #require(
            vmstate_migration_start(StreamIOTests.handle(source.registry), "tiny", Self.output(connection), &error))
        defer { vmstate_migration_free(mig) }
        var pending: UInt64 = 0
        #expect(vmstate_migration_iterate(mig, &pending, &error))
        log.write(("pc.ram", source.ram), 8, 0x4242_4242)
        log.failOn = "pc.rom"
        #expect(!vmstate_migration_iterate(mig, &pending, &error))
        #expect(
            error?.pointee.domain == vmstate_error_quark()
                && error?.pointee.code == Int32(VMSTATE_ERROR_FAILED.rawValue))
        #expect(
            Self.message(error).contains("the dirty log failed for RAM block pc.rom: every page counts as dirty"),
            "\(Self.message(error))")
        #expect(pending == 5 * 4096)
        g_clear_error(&error)
        #expect(!vmstate_migration_complete(mig, &error))
        g_clear_error(&error)
        log.failOn = nil
        #expect(vmstate_migration_iterate(mig, &pending, &error) && pending == 0, "\(Self.message(error))")
        #expect(vmstate_migration_complete(mig, &error), "\(Self.message(error))")
        let result = destination.wait()
        #expect(result.ok, "\(result.message)")
        #expect(memcmp(target.ram, source.ram, 4 * 4096) == 0 && memcmp(target.rom, source.rom, 4096) == 0)
        #expect(target.ram.load(fromByteOffset: 8, as: UInt32.self) == 0x4242_4242)
    }

    @Test func aPeerThatDisconnectsMidStreamFailsTheSourceCleanlyAndLeavesTheGuestAsItWas() throws {
        let listener = try StreamSocketTests.Listener()
        let length = 8 << 20
        let ram = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
        defer { ram.deallocate() }
        for i in 0..<(length / 4) {
            ram.storeBytes(of: UInt32(truncatingIfNeeded: i &* 2_654_435_761), toByteOffset: i * 4, as: UInt32.self)
        }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
        defer { copy.deallocate() }
        copy.copyMemory(from: ram, byteCount: length)
        let registry = Registry()
        try registry.addRAM(idstr: "pc.ram", host: ram, length: length)
        // The peer reads 100 bytes and closes its end.
        let closed = DispatchSemaphore(value: 0)
        final class Peer: @unchecked Sendable {
            var received = 0
            let listener: StreamSocketTests.Listener
            init(_ listener: StreamSocketTests.Listener) { self.listener = listener }
        }
        let peer = Peer(listener)
        Thread.detachNewThread {
            if let connection = g_socket_listener_accept(peer.listener.listener, nil, nil, nil) {
                let stream = UnsafeMutableRawPointer(connection).assumingMemoryBound(to: GIOStream.self)
                var buffer = [UInt8](repeating: 0, count: 100)
                var got: gsize = 0
                g_input_stream_read_all(g_io_stream_get_input_stream(stream), &buffer, 100, &got, nil, nil)
                peer.received = Int(got)
                g_io_stream_close(stream, nil, nil)
                g_object_unref(connection)
            }
            closed.signal()
        }
        let connection = try Self.connect(listener.port)
        defer { g_object_unref(connection) }
        var error: UnsafeMutablePointer<GError>?
        let mig = try #require(
            vmstate_migration_start(StreamIOTests.handle(registry), "tiny", Self.output(connection), &error))
        defer { vmstate_migration_free(mig) }
        var pending: UInt64 = 0
        #expect(!vmstate_migration_iterate(mig, &pending, &error))
        closed.wait()
        #expect(peer.received == 100)
        #expect(error?.pointee.domain == g_io_error_quark())
        let code = error?.pointee.code ?? 0
        #expect(
            code == Int32(G_IO_ERROR_BROKEN_PIPE.rawValue) || code == Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue),
            "code \(code): \(Self.message(error))")
        #expect(Self.message(error).contains("section \"ram\""), "\(Self.message(error))")
        let first = Self.message(error)
        g_clear_error(&error)
        // Later calls give the same failure, at its byte offset (they said "at byte 0").
        #expect(!vmstate_migration_iterate(mig, &pending, &error))
        #expect(Self.message(error) == "the migration failed earlier: " + first)
        g_clear_error(&error)
        #expect(!vmstate_migration_complete(mig, &error))
        g_clear_error(&error)
        // The guest's RAM is as it was: it can go on running.
        #expect(memcmp(ram, copy, length) == 0)
    }

    @Test func aLiveStreamCutAtAnyPointFailsTheDestinationCleanly() throws {
        let source = try RegistryTests.Machine(fill: true)
        let log = DirtyLog()
        log.attach(source.registry)
        let out = Self.memoryStream()
        defer { g_object_unref(out) }
        var error: UnsafeMutablePointer<GError>?
        let mig = try #require(vmstate_migration_start(StreamIOTests.handle(source.registry), "tiny", out, &error))
        defer { vmstate_migration_free(mig) }
        #expect(vmstate_migration_iterate(mig, nil, &error))
        log.write(("pc.ram", source.ram), 4096, 0x0101_0101)
        #expect(vmstate_migration_iterate(mig, nil, &error))
        #expect(vmstate_migration_complete(mig, &error))
        let stream = Self.bytes(of: out)
        let (_, end) = try Self.walk(stream)
        // Every cut before the EOF marker fails (the vmdesc after it is not read).
        let eof = try #require(stream.lastIndex(of: 0x06).map { $0 - 1 })
        #expect(stream[eof] == 0x00 && eof > end)
        var kinds: [VMStateError.Kind: Int] = [:]
        for length in 0...eof {
            let target = try RegistryTests.Machine(fill: false)
            do {
                try target.registry.load(Array(stream[..<length]))
                Issue.record("a stream cut at \(length) of \(stream.count) loaded")
            } catch {
                kinds[error.kind, default: 0] += 1
            }
        }
        // Cuts inside the blob's 5 data bytes are refused before allocating; every other cut
        // (the machine type's included) is SHORT_INPUT.
        #expect(kinds == [.shortInput: eof + 1 - 5, .boundExceeded: 5])
    }
}
