import CGLib
import CVMState

/// A live (pre-copy) migration of a registry to a GIO stream, in the record order QEMU writes
/// while it migrates a running guest (`migration/ram.c`, `migration/savevm.c`), for the
/// registry's ``Registry/streamVersion`` (the rules ``Registry/save(machineType:)`` uses):
///
/// 1. ``start``: header, configuration, the RAM section START (MEM_SIZE + block list, EOS,
///    footer), kept early-setup sections. Every page counts as dirty.
/// 2. ``iterate``: one QEMU_VM_SECTION_PART per pass with the dirty pages (PAGE / ZERO records,
///    EOS, footer), then the dirty log is synced.
/// 3. ``complete`` (guest stopped): MIG_CMD_SWITCHOVER_START when the rules send it (QEMU 10.0
///    with a 10.0 machine type; QEMU 7.2 refuses it, `MIG_CMD 0xb unknown`), the RAM section
///    END with the last dirty pages, every device as a FULL section (the order
///    ``Registry/save(machineType:)`` uses), QEMU_VM_EOF, vmdesc.
///
/// The RAM section's record layout is ``RAMCodec``'s.
final class Migration {
    let registry: Registry
    let file: MigrationFile
    private let machine: [UInt8]
    private let rules: QEMUStreamRules
    private let vmdesc: VMDescWriter
    private let ramSectionID: UInt32
    /// Devices and kept sections in stream order (the RAM is not among them).
    private let entries: [Registry.LayoutEntry]
    /// Per RAM block, one bit per page that must still be sent (64 pages a word).
    private var dirty: [[UInt64]]
    /// Per RAM block (as ``dirty``): whether its pages are sent (not a block the kept
    /// x-ignore-shared skips: ``Registry/StreamPlan/ramUnsent``).
    private let sendsPages: [Bool]
    private var pendingPages = 0
    private(set) var failure: VMStateError? {
        didSet { release() }
    }
    private(set) var completed = false {
        didSet { release() }
    }
    /// Whether this migration counts in its registry's ``Registry/migrationsInProgress`` (from
    /// the start's first call of the emulator (its dirty log) until it completes, fails or is
    /// freed; a start that fails ends it).
    private var inProgress = false
    /// The C call of this migration that runs (a pass, the completion), which the device hooks
    /// and the dirty log it calls must not call again: its records would land inside the
    /// section being written (QEMU's migration thread runs one step at a time).
    private var running: String?

    /// Bytes per second, 0 for no limit (QEMU's `max-bandwidth`).
    var maxBandwidth: UInt64 = 0
    private(set) var windowStart = 0
    /// The rate limit's clock and sleep, in microseconds (tests replace them to check the
    /// limit's windows without waiting).
    var clock: () -> Int = { g_get_monotonic_time() }
    var sleep: (Int) -> Void = { g_usleep(gulong($0)) }
    private var windowBytes = 0
    /// ``complete()`` began: the guest is stopped and the limit is lifted.
    private var completing = false

    struct Stats {
        var passes: UInt64 = 0
        var pagesSent: UInt64 = 0
        var zeroPages: UInt64 = 0
        var lastPassPages: UInt64 = 0
        var lastPassBytes: UInt64 = 0
        var lastPassMicroseconds: UInt64 = 0
        var bandwidth: UInt64 = 0
        var downtimeMicroseconds: UInt64 = 0
        var endTime: Int?
    }
    private(set) var stats = Stats()
    private let startTime = g_get_monotonic_time()

    /// The dirty RAM not yet sent, bytes.
    var pendingBytes: UInt64 { UInt64(pendingPages) * UInt64(StreamFormat.pageSize) }
    var bytesSent: UInt64 { UInt64(file.written) }
    var totalMicroseconds: UInt64 { UInt64((stats.endTime ?? g_get_monotonic_time()) - startTime) }

    /// Writes the header, the configuration and the RAM START section to `file`, and reads
    /// (and clears) the dirty log once.
    ///
    /// - Throws: ``VMStateError`` when no RAM is registered, there is no machine type, a device
    ///   is unmigratable, the dirty log fails, or the stream fails (the file keeps its GError).
    init(registry: Registry, machineType: String?, file: MigrationFile) throws(VMStateError) {
        self.registry = registry
        self.file = file
        // One at a time, as QEMU refuses a second `migrate` while one is active: two would
        // share the registry's dirty log (and, with one output, interleave their records).
        guard registry.migrationsInProgress == 0 else {
            throw VMStateError(
                .failed,
                reason: "a live migration of this registry is in progress already (until it completes, fails or is "
                    + "freed); QEMU migrates a machine once at a time")
        }
        guard !registry.ramBlocks.isEmpty else {
            throw VMStateError(.failed, reason: "a live migration needs at least one RAM block")
        }
        let keepsConfiguration = machineType == nil || machineType == registry.loadedMachineType
        guard !(keepsConfiguration && registry.capabilities.contains("mapped-ram")) else {
            throw VMStateError(
                .failed,
                reason: "the loaded stream has the capability mapped-ram (a file migration's layout): a live "
                    + "migration of it needs another machine type, which drops its configuration")
        }
        let plan = try registry.beginStream(machineType: machineType, file, ramIfMissing: true)
        machine = plan.machine
        rules = plan.rules
        vmdesc = plan.vmdesc
        // RAM goes first (START, PARTs, END); the other sections follow in the save's order.
        ramSectionID = plan.sections.lazy.compactMap { if case .ram(let id) = $0 { id } else { nil } }.first!
        entries = plan.sections.filter { if case .ram = $0 { false } else { true } }
        dirty = registry.ramBlocks.map { [UInt64](repeating: 0, count: ($0.length / StreamFormat.pageSize + 63) / 64) }
        sendsPages = registry.ramBlocks.map { !plan.ramUnsent.contains($0.idstr) }
        // In progress from here: the dirty log and the early-setup devices' hooks are the
        // emulator's code, which may try to add a device or RAM block (its stream is planned
        // with those of now) or start another migration; refused from here on.
        registry.migrationsInProgress += 1
        inProgress = true
        do throws(VMStateError) {
            try setUp(plan)
        } catch {
            release()
            throw error
        }
    }

    /// The start's writes after the plan: the dirty log read, the RAM START, the early-setup
    /// sections.
    private func setUp(_ plan: Registry.StreamPlan) throws(VMStateError) {
        try syncDirtyLog()
        markAllDirty()

        file.context = ramLabel
        RAMCodec.saveStart(
            registry.ramBlocks, sectionID: ramSectionID, addresses: plan.ramAddresses, footer: rules.sectionFooters,
            file)
        // Early-setup sections belong to the setup phase: kept ones and QEMU 10.0 early-setup
        // devices.
        file.context = nil
        for entry in entries {
            switch entry {
            case .keptEarly(let bytes, let json):
                file.context = nil
                file.putBytes(bytes)
                if let json { vmdesc.raw(nil, json) }
            case .device(let index, let id) where registry.isEarlySetup(index, rules):
                file.context = registry.devices[index].sectionLabel
                try registry.saveDevice(
                    registry.devices[index], sectionID: id, footer: rules.sectionFooters, file, vmdesc,
                    dialect: rules.version)
            default: break
            }
        }
        file.flush()
        file.context = nil
        try Registry.checkOutput(file)
        windowStart = g_get_monotonic_time()
    }

    deinit { release() }

    /// Ends this migration's hold on the registry's set of devices and RAM blocks (once).
    private func release() {
        guard inProgress else { return }
        inProgress = false
        registry.migrationsInProgress -= 1
    }

    // MARK: dirty log

    private func markAllDirty() {
        pendingPages = 0
        for (b, block) in registry.ramBlocks.enumerated() where sendsPages[b] {
            let pages = block.length / StreamFormat.pageSize
            for w in dirty[b].indices {
                let bits = min(64, pages - w * 64)
                dirty[b][w] = bits == 64 ? ~0 : (1 << UInt64(bits)) - 1
            }
            pendingPages += pages
        }
    }

    /// Adds the pages the emulator's log reports to the dirty set (every page without a log).
    /// On a failed callback every page counts as dirty and the error is thrown.
    private func syncDirtyLog() throws(VMStateError) {
        guard let log = registry.dirtyLog else {
            markAllDirty()
            return
        }
        // (A block whose pages are not sent is not asked: QEMU keeps no dirty log of it either.)
        for (b, block) in registry.ramBlocks.enumerated() where sendsPages[b] {
            let pages = block.length / StreamFormat.pageSize
            let words = (pages + Int.bitWidth - 1) / Int.bitWidth
            // SAFETY: an owned buffer of `words` unsigned longs, zeroed, freed by the defer; the log callback
            // gets `pages` bits (`words * bitWidth >= pages`) and must not keep the pointer past the call.
            let bitmap = UnsafeMutablePointer<UInt>.allocate(capacity: words)
            defer { bitmap.deallocate() }
            bitmap.initialize(repeating: 0, count: words)
            let ok = block.idstr.withCString { log.fn($0, bitmap, pages, log.opaque) }
            guard ok else {
                markAllDirty()
                throw VMStateError(
                    .failed, path: block.idstr,
                    reason: "the dirty log failed for RAM block \(block.idstr): every page counts as dirty")
            }
            // SAFETY: `bitmap` holds `words` unsigned longs; bit i of the array is page i.
            for p in 0..<pages where bitmap[p / UInt.bitWidth] >> UInt(p % UInt.bitWidth) & 1 != 0 {
                let bit: UInt64 = 1 << UInt64(p % 64)
                if dirty[b][p / 64] & bit == 0 {
                    dirty[b][p / 64] |= bit
                    pendingPages += 1
                }
            }
        }
    }

    // MARK: passes

    private func checkUsable() throws(VMStateError) {
        if let failure {
            // The failure's own words and byte offset (it happened at that offset, not at 0).
            let earlier = failure.path.isEmpty ? failure.reason : "\(failure.path): \(failure.reason)"
            throw VMStateError(
                .failed, offset: failure.offset, reason: "the migration failed earlier: \(earlier)",
                expected: failure.expected, actual: failure.actual)
        }
        if completed { throw VMStateError(.failed, reason: "the migration is complete") }
    }

    /// Runs `body` as the C call `call` of this migration: refused while another of its calls
    /// runs (called from a device hook or the dirty log of that call), and after a failure or
    /// completion (``checkUsable()``).
    private func run<T>(_ call: String, _ body: () throws(VMStateError) -> T) throws(VMStateError) -> T {
        if let running {
            throw VMStateError(
                .failed,
                reason: "\(call) called while \(running) of this migration runs (from a device hook or the dirty log "
                    + "that call runs): a migration's calls do not nest, its records would land inside the section "
                    + "being written")
        }
        try checkUsable()
        running = call
        defer { running = nil }
        return try body()
    }

    /// One pass: a dirty log sync, every dirty page as a RAM PART, a flush, then a dirty log sync
    /// again (the pages written during the pass: the pending bytes).
    ///
    /// - Returns: The dirty bytes after the pass.
    /// - Throws: A dirty-log failure (the migration stays usable) or a write failure (the
    ///   migration is failed).
    @discardableResult
    func iterate() throws(VMStateError) -> UInt64 {
        try run("vmstate_migration_iterate") { () throws(VMStateError) in try pass() }
    }

    /// ``iterate()``'s pass, its call checked.
    private func pass() throws(VMStateError) -> UInt64 {
        try syncDirtyLog()
        let t0 = g_get_monotonic_time()
        let bytes0 = file.written
        let pages = try sendDirtyPages(section: StreamFormat.sectionPart)
        let dt = UInt64(max(1, g_get_monotonic_time() - t0))
        stats.passes += 1
        stats.lastPassPages = pages
        stats.lastPassBytes = UInt64(file.written - bytes0)
        stats.lastPassMicroseconds = dt
        stats.bandwidth = stats.lastPassBytes * 1_000_000 / dt
        try syncDirtyLog()
        return pendingBytes
    }

    /// Iterates until `pendingBytes / bandwidth` is at most `maxDowntime` microseconds, or
    /// `maxPasses` passes were made.
    ///
    /// - Returns: Whether the expected downtime got below the limit.
    func iterate(untilDowntime maxDowntime: UInt64, maxPasses: Int) throws(VMStateError) -> Bool {
        try run("vmstate_migration_iterate_until") { () throws(VMStateError) in
            for _ in 0..<maxPasses {
                _ = try pass()
                // (A pass that failed the migration throws; one whose dirty log failed too.)
                if expectedDowntime <= maxDowntime { return true }
            }
            return expectedDowntime <= maxDowntime
        }
    }

    /// Microseconds the pending pages take at the last pass's bandwidth (unknown bandwidth: max).
    var expectedDowntime: UInt64 {
        if pendingPages == 0 { return 0 }
        guard stats.bandwidth > 0 else { return .max }
        return pendingBytes.multipliedReportingOverflow(by: 1_000_000).partialValue / stats.bandwidth
    }

    /// The guest is stopped: last dirty pages (RAM END), every device, EOF, vmdesc.
    func complete() throws(VMStateError) {
        try run("vmstate_migration_complete") { () throws(VMStateError) in try finish() }
    }

    /// ``complete()``'s writes, its call checked.
    private func finish() throws(VMStateError) {
        let t0 = g_get_monotonic_time()
        try syncDirtyLog()
        // The guest is stopped: no bandwidth limit for the rest, as QEMU lifts it for its
        // completion (7.2 `qemu_file_set_rate_limit(f, INT64_MAX)`, 10.0 RATE_LIMIT_DISABLED).
        completing = true
        do throws(VMStateError) {
            if rules.switchoverStart { Registry.putSwitchoverStart(file) }
            try sendDirtyPages(section: StreamFormat.sectionEnd)
            for entry in entries {
                switch entry {
                case .device(let index, let id):
                    if registry.isEarlySetup(index, rules) { break }  // sent in the setup phase
                    file.context = registry.devices[index].sectionLabel
                    try registry.saveDevice(
                        registry.devices[index], sectionID: id, footer: rules.sectionFooters, file, vmdesc,
                        dialect: rules.version)
                case .kept(let bytes, let json):
                    file.context = nil
                    file.putBytes(bytes)
                    if let json { vmdesc.raw(nil, json) }
                case .ram, .keptEarly: break
                }
                try Registry.checkOutput(file)
            }
            try Registry.finishStream(file, vmdesc)
        } catch {
            failure = error
            throw error
        }
        completed = true
        let now = g_get_monotonic_time()
        stats.downtimeMicroseconds = UInt64(now - t0)
        stats.endTime = now
        registry.noteWritten(machine: machine)
    }

    /// Writes one section (PART or END) with every dirty page, clearing their bits, within the
    /// bandwidth limit; flushes. A write failure fails the migration.
    @discardableResult
    private func sendDirtyPages(section: UInt8) throws(VMStateError) -> UInt64 {
        let pageSize = StreamFormat.pageSize
        file.context = ramLabel
        defer { file.context = nil }
        file.putByte(section)
        file.putBE32(ramSectionID)
        var sent: UInt64 = 0
        for (b, block) in registry.ramBlocks.enumerated() {
            let name = Array(block.idstr.utf8)
            var first = true
            for w in dirty[b].indices where dirty[b][w] != 0 {
                var word = dirty[b][w]
                while word != 0 {
                    let bit = word.trailingZeroBitCount
                    word &= word - 1
                    let offset = (w * 64 + bit) * pageSize
                    // SAFETY: offset < block.length (bits past the block are never set).
                    let page = UnsafeRawBufferPointer(start: block.host + offset, count: pageSize)
                    let isZero = RAMCodec.isZeroPage(page)
                    let before = file.written
                    RAMCodec.putPage(page, offset: offset, name: first ? name : nil, zero: isZero, file)
                    first = false
                    sent += 1
                    stats.pagesSent += 1
                    if isZero { stats.zeroPages += 1 }
                    pendingPages -= 1
                    throttle(file.written - before)
                    if file.errorCode != 0 { break }
                }
                dirty[b][w] = word
                if file.errorCode != 0 { break }
            }
            if file.errorCode != 0 { break }
        }
        file.putBE64(RAMCodec.eos)
        if rules.sectionFooters {
            file.putByte(StreamFormat.footer)
            file.putBE32(ramSectionID)
        }
        file.flush()
        do throws(VMStateError) {
            try Registry.checkOutput(file)
        } catch {
            failure = error
            throw error
        }
        return sent
    }

    /// QEMU's rate limit: at most `maxBandwidth / 10` bytes per 100 ms window (none when that
    /// is 0, below 10 bytes/s, as QEMU's `qemu_file_rate_limit`), and none once ``complete()``
    /// began; a full window flushes and sleeps until the next one.
    private func throttle(_ bytes: Int) {
        let budget = Int(min(maxBandwidth / 10, UInt64(Int.max)))
        guard budget > 0, !completing else { return }
        windowBytes += bytes
        guard windowBytes >= budget else { return }
        file.flush()
        let now = clock()
        let windowEnd = windowStart + 100_000
        if now < windowEnd { sleep(windowEnd - now) }
        windowStart = max(now, windowEnd)
        windowBytes = 0
    }
}

extension RAMCodec {
    /// The RAM section START: section header (`ram`, instance 0, version 4), be64 total size |
    /// MEM_SIZE, per block u8 len + idstr + be64 length [+ be64 guest address, from
    /// `addresses`, when given: x-ignore-shared], be64 EOS, the footer when `footer` (QEMU
    /// `ram_save_setup`).
    static func saveStart(
        _ blocks: [Registry.RAMBlock], sectionID: UInt32, addresses: [String: UInt64]? = nil, footer: Bool = true,
        mappedRAM: Bool = false, _ file: MigrationFile
    ) {
        file.putByte(StreamFormat.sectionStart)
        file.putBE32(sectionID)
        file.putByte(3)
        file.putBytes(Array("ram".utf8))
        file.putBE32(0)
        file.putBE32(4)
        let total = blocks.reduce(0) { $0 + $1.length }
        file.putBE64(UInt64(total) | memSize)
        for block in blocks {
            let name = Array(block.idstr.utf8)
            file.putByte(UInt8(name.count))
            file.putBytes(name)
            file.putBE64(UInt64(block.length))
            if let addresses { file.putBE64(addresses[block.idstr] ?? 0) }
            if mappedRAM { putMappedRAMBlock(block, file) }
        }
        file.putBE64(eos)
        if footer {
            file.putByte(StreamFormat.footer)
            file.putBE32(sectionID)
        }
    }

    /// A block's mapped-ram header, bitmap, padding and page region, at the file offsets QEMU
    /// 10.0 gives them (`mapped_ram_setup_ramblock`): the bitmap right after the 28-byte header,
    /// the pages at the next 1 MiB boundary, one page per page of the block (a zero page is
    /// zeros: a hole in QEMU's file), the bit of each non-zero page set.
    static func putMappedRAMBlock(_ block: Registry.RAMBlock, _ file: MigrationFile) {
        let pageSize = StreamFormat.pageSize
        let pages = block.length / pageSize
        let bitmapSize = (pages + 63) / 64 * 8
        let bitmapOffset = file.written + mappedRAMHeaderSize
        let pagesOffset = (bitmapOffset + bitmapSize + mappedRAMAlignment - 1) / mappedRAMAlignment * mappedRAMAlignment
        file.putBE32(1)
        file.putBE64(UInt64(pageSize))
        file.putBE64(UInt64(bitmapOffset))
        file.putBE64(UInt64(pagesOffset))
        var bitmap = [UInt8](repeating: 0, count: bitmapSize)
        for i in 0..<pages {
            // SAFETY: page i of the registered block (i < length / pageSize).
            if !isZeroPage(UnsafeRawBufferPointer(start: block.host + i * pageSize, count: pageSize)) {
                bitmap[i / 8] |= 1 << UInt8(i % 8)
            }
        }
        file.putBytes(bitmap)
        file.putZeros(pagesOffset - bitmapOffset - bitmapSize)
        for i in 0..<pages {
            if i & 0xFF == 0 && file.errorCode != 0 { return }
            // SAFETY: as above; putBytes copies the page.
            if bitmap[i / 8] & (1 << UInt8(i % 8)) != 0 {
                file.putBytes(block.host + i * pageSize, pageSize)
            } else {
                file.putZeros(pageSize)
            }
        }
    }

    /// One page record: be64 offset | ZERO or PAGE (| CONTINUE when `name` is nil), the block
    /// name when given, then the fill byte 0 or the page.
    @inline(__always)
    static func putPage(
        _ page: UnsafeRawBufferPointer, offset: Int, name: [UInt8]?, zero isZero: Bool, _ file: MigrationFile
    ) {
        file.putBE64(UInt64(offset) | (isZero ? zero : RAMCodec.page) | (name == nil ? continueFlag : 0))
        if let name {
            file.putByte(UInt8(name.count))
            file.putBytes(name)
        }
        // SAFETY: `page` is a whole page of a registered RAM block (see the callers); `putBytes` copies it.
        if isZero { file.putByte(0) } else { file.putBytes(page.baseAddress, page.count) }
    }
}
