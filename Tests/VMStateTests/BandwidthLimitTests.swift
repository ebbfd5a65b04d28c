import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// The live migration's bandwidth limit (vmstate_migration_set_max_bandwidth), without waiting:
/// the migration's clock and sleep are replaced, and the windows are checked exactly. QEMU's
/// rule (migration-rate-limit, 7.2): at most max-bandwidth / 10 bytes per 100 ms window; a full
/// window is flushed, then the sender sleeps until the window's end.
@Suite struct BandwidthLimitTests {
    static let pages = 256
    static let name = "pc.ram"

    /// A machine of one RAM block: every fifth page zero, the others a pattern.
    final class Machine {
        let registry = Registry()
        let ram: UnsafeMutableRawPointer

        init() throws {
            ram = UnsafeMutableRawPointer.allocate(byteCount: BandwidthLimitTests.pages * 4096, alignment: 4096)
            for page in 0..<BandwidthLimitTests.pages {
                let words = ram.advanced(by: page * 4096).assumingMemoryBound(to: UInt64.self)
                for i in 0..<512 { words[i] = page % 5 == 4 ? 0 : UInt64(page + 1) &* 0x1_0000_0001 &+ UInt64(i) }
            }
            try registry.addRAM(idstr: BandwidthLimitTests.name, host: ram, length: BandwidthLimitTests.pages * 4096)
        }

        deinit { ram.deallocate() }
    }

    /// The bytes of each page record of one pass over every page: 8 (offset | flags), the block
    /// name on the first (length byte + name), then 1 (zero page) or 4096.
    static var recordSizes: [Int] {
        (0..<pages).map { 8 + ($0 == 0 ? 1 + name.utf8.count : 0) + ($0 % 5 == 4 ? 1 : 4096) }
    }

    /// Output offsets at which a limit of `bandwidth` bytes/s sleeps, for one pass starting at
    /// output offset `start` (after the part's 5-byte header): a window ends at the record that
    /// brings it to bandwidth / 10 bytes or more.
    static func expectedSleepOffsets(bandwidth: Int, start: Int) -> [Int] {
        var offsets: [Int] = []
        var at = start + 5
        var window = 0
        for size in recordSizes {
            at += size
            window += size
            if window >= bandwidth / 10 {
                offsets.append(at)
                window = 0
            }
        }
        return offsets
    }

    /// Starts a migration through the C API into a recording stream, with the limit set through
    /// the C API, and a clock that moves only by `tick` per reading and by the sleeps.
    static func start(_ machine: Machine, bandwidth: UInt64, tick: Int) throws -> (
        handle: OpaquePointer, out: UnsafeMutablePointer<GOutputStream>, sleeps: Sleeps
    ) {
        let out = test_chunked_output_stream_new(1 << 20, 1, -1, 0)!
        var error: UnsafeMutablePointer<GError>?
        let handle = try #require(
            vmstate_migration_start(StreamIOTests.handle(machine.registry), "tiny", out, &error))
        vmstate_migration_set_max_bandwidth(handle, bandwidth)
        let migration = try #require(Migration.borrow(handle))
        #expect(migration.maxBandwidth == bandwidth)
        let sleeps = Sleeps(now: migration.windowStart)
        migration.clock = {
            sleeps.now += tick
            return sleeps.now
        }
        migration.sleep = {
            sleeps.sleeps.append($0)
            // Everything before a sleep has been flushed to the stream.
            sleeps.outputAt.append(Int(test_chunked_output_stream_count(out)))
            sleeps.now += $0
        }
        return (handle, out, sleeps)
    }

    final class Sleeps {
        var now: Int
        var sleeps: [Int] = []
        var outputAt: [Int] = []
        init(now: Int) { self.now = now }
    }

    @Test(arguments: [1_000_000, 300_000, 4_000_000])
    func aFullWindowFlushesAndSleepsUntilTheWindowEnds(_ bandwidth: Int) throws {
        let machine = try Machine()
        let (handle, out, sleeps) = try Self.start(machine, bandwidth: UInt64(bandwidth), tick: 0)
        defer {
            vmstate_migration_free(handle)
            g_object_unref(out)
        }
        let start = Int(test_chunked_output_stream_count(out))
        var pending: UInt64 = 1
        var error: UnsafeMutablePointer<GError>?
        #expect(vmstate_migration_iterate(handle, &pending, &error))
        // A frozen clock: each window sleeps its whole 100 ms, after exactly the records that
        // filled it.
        let expected = Self.expectedSleepOffsets(bandwidth: bandwidth, start: start)
        #expect(expected.count >= 2)
        #expect(sleeps.outputAt == expected)
        #expect(sleeps.sleeps == [Int](repeating: 100_000, count: expected.count))
        // A window holds at most bandwidth / 10 bytes plus the one record that crossed it.
        for (a, b) in zip([start + 5] + expected, expected) {
            #expect(b - a >= bandwidth / 10 && b - a < bandwidth / 10 + 4096 + 8 + 7)
        }
        // The stream still loads.
        #expect(vmstate_migration_complete(handle, &error))
        let target = try Machine()
        memset(target.ram, 0xCC, Self.pages * 4096)
        let array = test_chunked_output_stream_bytes(out)!
        let stream = Array(UnsafeBufferPointer(start: array.pointee.data, count: Int(array.pointee.len)))
        let bytes = StreamIOTests.loadFromStream(target.registry, stream, chunk: 4096, flags: 0)
        #expect(bytes.ok, "\(bytes.message)")
        #expect(memcmp(target.ram, machine.ram, Self.pages * 4096) == 0)
    }

    @Test func aSlowWriterThatPassedTheWindowsEndDoesNotSleep() throws {
        let machine = try Machine()
        // Each clock reading is 150 ms later: every window has already ended when it fills.
        let (handle, out, sleeps) = try Self.start(machine, bandwidth: 1_000_000, tick: 150_000)
        defer {
            vmstate_migration_free(handle)
            g_object_unref(out)
        }
        var error: UnsafeMutablePointer<GError>?
        #expect(vmstate_migration_iterate(handle, nil, &error))
        #expect(sleeps.sleeps.isEmpty)
    }

    @Test func noLimitNeverReadsTheClock() throws {
        let machine = try Machine()
        let (handle, out, sleeps) = try Self.start(machine, bandwidth: 0, tick: 0)
        defer {
            vmstate_migration_free(handle)
            g_object_unref(out)
        }
        let migration = try #require(Migration.borrow(handle))
        var read = 0
        migration.clock = {
            read += 1
            return 0
        }
        var error: UnsafeMutablePointer<GError>?
        #expect(vmstate_migration_iterate(handle, nil, &error))
        #expect(read == 0 && sleeps.sleeps.isEmpty)
    }

    /// QEMU lifts the limit once the guest is stopped (7.2 `migration_completion`:
    /// `qemu_file_set_rate_limit(f, INT64_MAX)`; 10.0 RATE_LIMIT_DISABLED): the pages
    /// `vmstate_migration_complete` sends (here every page: no pass before it) never sleep. And
    /// below 10 bytes/s the limit per window is 0, which QEMU takes for none.
    @Test func theLimitIsLiftedForCompletionAndBelow10BytesPerSecond() throws {
        let machine = try Machine()
        let (handle, out, sleeps) = try Self.start(machine, bandwidth: 1_000_000, tick: 0)
        defer {
            vmstate_migration_free(handle)
            g_object_unref(out)
        }
        var error: UnsafeMutablePointer<GError>?
        #expect(vmstate_migration_complete(handle, &error))
        #expect(sleeps.sleeps.isEmpty)

        /// The sleeps of one pass over every page at `bandwidth`.
        func sleepsOfOnePass(_ bandwidth: UInt64) throws -> Int {
            // (The machine's RAM must outlive the migration: sanitize F2, a temporary was freed
            // before its pages were read.)
            let machine = try Machine()
            let (handle, out, sleeps) = try Self.start(machine, bandwidth: bandwidth, tick: 0)
            defer {
                vmstate_migration_free(handle)
                g_object_unref(out)
                withExtendedLifetime(machine) {}
            }
            #expect(vmstate_migration_iterate(handle, nil, &error))
            return sleeps.sleeps.count
        }
        #expect(try sleepsOfOnePass(9) == 0)
        // 10 bytes/s: one byte per window, so each page record fills one.
        #expect(try sleepsOfOnePass(10) == Self.pages)
    }
}
