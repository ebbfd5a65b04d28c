import CGLib
import CVMState

/// A set of devices and RAM blocks that reads and writes whole QEMU migration streams: QEMU 7.2's
/// and QEMU 10.0's (``streamVersion``).
///
/// A device is a C `VMStateDescription` and the state it describes, saved as the section
/// `idstr` with an instance id; a RAM block is memory saved as QEMU's `ram` section. The
/// registry keeps the pointers it is given: they must stay valid, at the same address, while it
/// is used. It is the object behind the C `VMStateRegistry *` (`migration/vmstate-registry.h`).
/// It is not `Sendable`: one thread (or task) at a time uses it, as the C registry.
///
/// After a load, the registry remembers the stream's layout (section order and ids, and the
/// sections it kept under `.keepUnknown`, its QEMU version, configuration, footers and commands)
/// so that the next save writes the same sections back, in the same order and with the same
/// ids, when nothing changed: byte for byte when no RAM is registered (kept as it came); with
/// RAM, all its pages go in one RAM END, where QEMU's stream may have spread them over PARTs.
///
/// The Swift API reads and writes streams in memory (`[UInt8]`, so at most 4 GiB); GIO streams
/// of any size, sockets and live migration are the C API's (`migration/vmstate-registry.h`).
///
/// ```swift
/// let registry = Registry()
/// try registry.add(idstr: "my-uart", instanceID: 0, vmsd: my_uart_vmsd(), opaque: uart)
/// try registry.addRAM(idstr: "pc.ram", host: ram, length: 1 << 20)
/// let stream = try registry.save(machineType: "my-machine-1.0")
/// try registry.load(stream)
/// ```
public final class Registry {
    /// How ``load(_:options:)`` treats sections no device was registered for (by default they
    /// fail the load). The raw values are the C `VMSTATE_LOAD_*` flags.
    public struct LoadOptions: OptionSet, Sendable {
        /// The C flags value.
        public let rawValue: UInt32
        /// Options from the C flags value.
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Sections with no registered entry are skipped.
        public static let skipUnknown = LoadOptions(rawValue: 0x1)
        /// ... and kept, and written back by the next save in their place.
        public static let keepUnknown = LoadOptions(rawValue: 0x2)
        /// A failed load leaves every device added with a size as it was (RAM is not restored).
        public static let transactional = LoadOptions(rawValue: 0x4)
    }

    struct Device {
        let idstr: String
        let instanceID: UInt32
        // SAFETY (vmsd, opaque): the C caller's table and device struct; the registry API requires both to
        // stay valid while registered (the engine's contract on `opaque`, see Engine).
        let vmsd: UnsafePointer<VMStateDescription>
        let opaque: UnsafeMutableRawPointer
        /// The struct's size when known: loads are then bounded to it.
        let size: Int?
        /// The QEMU whose `VMStateDescription` layout the table has (QEMU 10.0's for files built
        /// with `VMSTATE_QEMU_API` 1000, registered through the `_v1000` symbols).
        let layout: QEMUDialect
        /// How messages name the device's section.
        var sectionLabel: String { VMStateError.sectionLabel(idstr, instanceID) }

        /// The table's `unmigratable` and `early_setup` (always false for a 7.2 table), read as
        /// its own layout has them.
        // SAFETY: a registered `vmsd`, valid while registered.
        var flags: (unmigratable: Bool, earlySetup: Bool) { layout.flags(of: vmsd) }
    }

    struct RAMBlock {
        let idstr: String
        // SAFETY: the caller's guest RAM, `length` bytes (a positive multiple of 4096, checked in addRAM),
        // valid while registered (the registry API's contract).
        let host: UnsafeMutableRawPointer
        let length: Int
    }

    /// One section of a loaded stream, in stream order.
    enum LayoutEntry {
        case device(index: Int, sectionID: UInt32)
        /// The registered RAM, written at the place of the stream's first "ram" section.
        case ram(sectionID: UInt32)
        /// Bytes of a section nobody registered, from its type byte through its footer, and
        /// its vmdesc device object (FULL sections only).
        case kept(bytes: [UInt8], vmdesc: [UInt8]?)
        /// A kept FULL section of the setup phase (before the RAM END or the SWITCHOVER_START:
        /// QEMU 10.0's early-setup devices), written back before the command.
        case keptEarly(bytes: [UInt8], vmdesc: [UInt8]?)
    }

    /// The start of a stream as ``beginStream(machineType:_:ramIfMissing:)`` wrote it.
    struct StreamPlan {
        /// The machine type the stream names, as its bytes (a loaded one's may not be UTF-8).
        let machine: [UInt8]
        let rules: QEMUStreamRules
        /// Sections in stream order with their section ids.
        let sections: [LayoutEntry]
        /// The vmdesc with its `"devices"` array open.
        let vmdesc: VMDescWriter
        /// Guest addresses to write after each RAM block's length (x-ignore-shared), or nil.
        let ramAddresses: [String: UInt64]?
        /// With the kept x-ignore-shared: the RAM blocks whose pages are not sent (those the
        /// loaded stream sent none of: QEMU's source skips RAM on a shared file, and its
        /// destination refuses a page of such a block, "block %s should not be migrated !").
        let ramUnsent: Set<String>
        /// The configuration has mapped-ram: RAM pages at file offsets (docs/FORMAT.md §9).
        let mappedRAM: Bool
    }

    private(set) var devices: [Device] = []
    /// Where each device is in ``devices``, by section (devices are only ever appended).
    private var deviceIndices: [SectionKey: Int] = [:]
    /// The highest instance id registered for each idstr (for ``anyInstanceID``).
    private var highestInstanceIDs: [String: UInt32] = [:]
    private(set) var ramBlocks: [RAMBlock] = []
    /// The index in ``ramBlocks`` of each block, by idstr.
    private(set) var ramBlockIndices: [String: Int] = [:]
    /// The machine type the stream must have on load (set by a save or explicitly), if any: a
    /// stream of another is refused (``VMStateError/Kind/machineMismatch``), and so is one
    /// without a configuration section unless this is pc-i440fx-2.3, pseries-2.3 or older, as QEMU refuses
    /// it ("Configuration section missing"). The stream's bytes are compared with this name's
    /// UTF-8 bytes, as QEMU compares them (`configuration_post_load` in migration/savevm.c);
    /// after a save of a loaded stream whose machine type is not UTF-8, with those bytes (read
    /// here with U+FFFD in place of each byte that is not UTF-8).
    public var expectedMachineType: String? {
        get { expectedMachineTypeBytes.map { String(decoding: $0, as: UTF8.self) } }
        set { expectedMachineTypeBytes = newValue.map { Array($0.utf8) } }
    }
    /// ``expectedMachineType`` as the bytes a loaded stream's machine type must equal.
    private(set) var expectedMachineTypeBytes: [UInt8]?
    /// The machine type of the last loaded stream (U+FFFD in place of each byte that is not
    /// UTF-8; a save with no machine type writes the stream's own bytes back).
    public private(set) var loadedMachineType: String?
    private(set) var loadedMachineTypeBytes: [UInt8]?
    private(set) var configurationExtra: [UInt8] = []
    /// The loaded configuration's subsection names and capabilities (for the 10.0 vmdesc).
    private(set) var configurationSubsections: [String] = []
    private(set) var capabilities: [String] = []
    /// How many entries the loaded configuration's capability list had (names repeat).
    private(set) var capabilityCount = 0
    /// The loaded stream's RAM block guest addresses (x-ignore-shared).
    private(set) var ramAddresses: [String: UInt64] = [:]
    /// The RAM blocks the loaded x-ignore-shared stream sent no page of.
    private(set) var ramUnsentBlocks: Set<String> = []
    /// The RAM blocks of the loaded stream's RAM when the load kept it unloaded (KEEP_UNKNOWN
    /// with no RAM registered): name and length in bytes. RAM registered since takes the kept
    /// RAM's place in a save, so it must have every one of them (``checkKeptRAMRegistered()``).
    private(set) var keptRAMBlocks: [(name: String, length: UInt64)] = []
    /// The loaded stream's rules (version, configuration, footers, command), for its re-save.
    private(set) var loadedRules: QEMUStreamRules?
    /// The QEMU version saves and live migrations write streams for: set here, and by every
    /// successful load to the loaded stream's version (a stream with MIG_CMD_SWITCHOVER_START
    /// or a vmdesc that starts with `"configuration"` is QEMU 10.0's, else QEMU 7.2's). QEMU 7.2
    /// when neither happened.
    public var streamVersion: QEMUDialect = .qemu7_2
    /// The smallest target page size of the emulated target, in bits: QEMU's
    /// `qemu_target_page_bits_min()`, 10 for ARM (`TARGET_PAGE_BITS_MIN` of a target with
    /// `TARGET_PAGE_BITS_VARY`); 12, the default, where the page size is fixed at 4 KiB (x86).
    /// Pages here are 4 KiB (12 bits): when this is smaller, a save or live migration sends the
    /// configuration subsection `configuration/target-page-bits` (12), as QEMU's source does
    /// (`vmstate_target_page_bits_needed`); without it an ARM destination takes the minimum
    /// and refuses the stream ("Received TARGET_PAGE_BITS is 10 but local is 12"); loads refuse
    /// such a stream the same way. A loaded stream saved back for its own machine type keeps its
    /// configuration as it came (the subsection put first when it lacked it). 1...12; set with
    /// ``setTargetPageBitsMinimum(_:)``.
    public private(set) var targetPageBitsMinimum = StreamFormat.pageSize.trailingZeroBitCount

    /// Sets ``targetPageBitsMinimum``; throws `.failed` for a value outside 1...12 (QEMU's
    /// minimum is never above its page size's bits, 12 here).
    public func setTargetPageBitsMinimum(_ bits: Int) throws(VMStateError) {
        let pageBits = StreamFormat.pageSize.trailingZeroBitCount
        guard (1...pageBits).contains(bits) else {
            throw VMStateError(
                .failed, reason: "the target page bits minimum must be 1 to \(pageBits) (pages here are 4 KiB)",
                actual: "\(bits)")
        }
        targetPageBitsMinimum = bits
    }
    /// The emulator's dirty log for live migrations (`vmstate_registry_set_dirty_log`).
    var dirtyLog: (fn: VMStateDirtyLogFn, opaque: UnsafeMutableRawPointer?)?
    /// How saves to GIO streams on local regular files write them, and whether loads read them
    /// with `O_DIRECT` (``FileIO/direct``, `vmstate_registry_set_direct_io`); through the page
    /// cache by default. Only the C API's GIO stream saves and loads read it.
    public var fileIO: FileIO = .pageCache
    private var machineTypeC: UnsafeMutablePointer<CChar>?
    private(set) var layout: [LayoutEntry]?

    /// An empty registry.
    public init() {}

    deinit { g_free(machineTypeC) }

    /// The loaded machine type as a C string owned by the registry.
    func machineTypeCString() -> UnsafePointer<CChar>? {
        // SAFETY: `machineTypeC` is owned (g_strndup'ed here, freed here or in deinit); the header
        // gives C the pointer only until the next call of vmstate_registry_machine_type or the free.
        // The stream's own bytes (they may not be UTF-8), cut at a NUL byte as C reads them.
        g_free(machineTypeC)
        machineTypeC = loadedMachineTypeBytes.map { bytes in
            // (g_strndup copies the array's bytes while `withUnsafeBytes` keeps them valid.)
            bytes.isEmpty
                ? g_strdup("")
                : bytes.withUnsafeBytes { g_strndup($0.bindMemory(to: CChar.self).baseAddress, gsize($0.count)) }
        }
        return UnsafePointer(machineTypeC)
    }

    /// The instance id that asks ``add(idstr:instanceID:vmsd:opaque:size:layout:)`` for the next
    /// free one of the idstr: one more than the highest registered with it, or 0 (QEMU's
    /// `VMSTATE_INSTANCE_ID_ANY`, -1 as a `uint32_t`, as `vmstate_register` treats it). No device
    /// is registered with this id itself.
    public static let anyInstanceID: UInt32 = .max

    /// Live migrations of this registry started and not yet completed, failed or freed: while
    /// one is, no device or RAM block can be added (its stream was planned with the registry's
    /// devices and blocks at its start, as QEMU's set of handlers and RAM blocks is fixed while
    /// it migrates).
    var migrationsInProgress = 0

    private func refuseWhileMigrating(_ what: String, _ idstr: String) throws(VMStateError) {
        guard migrationsInProgress == 0 else {
            throw VMStateError(
                .failed, path: idstr,
                reason: "a \(what) cannot be added while a live migration of the registry is in progress "
                    + "(until it completes, fails or is freed)")
        }
    }

    /// Registers a device's state `opaque`, described by `vmsd`, as section `idstr`/`instanceID`.
    ///
    /// - Parameters:
    ///   - idstr: The section name, 1 to 255 bytes (QEMU's, to exchange streams with QEMU).
    ///   - instanceID: Tells apart devices of one kind (0, 1, ...); ``anyInstanceID`` takes the
    ///     next free one of `idstr`.
    ///   - vmsd: The description; it is planned here, so an unusable table fails now.
    ///   - opaque: The device state; it must stay valid while the registry is used.
    ///   - size: The size of the struct at `opaque`, when known (positive): loads of this device
    ///     then never write outside it (or outside memory the engine allocated), and a
    ///     transactional load can restore it (it copies the struct first: a size no allocation
    ///     can hold fails that load, `.failed`).
    /// - Throws: ``VMStateError`` when the pair is registered already, `size` is 0 or less, the
    ///   table is unusable, or a live migration of the registry is in progress.
    public func add(
        idstr: String, instanceID: UInt32, vmsd: UnsafePointer<VMStateDescription>, opaque: UnsafeMutableRawPointer,
        size: Int? = nil, layout: QEMUDialect = .qemu7_2
    ) throws(VMStateError) {
        try refuseWhileMigrating("device", idstr)
        guard !idstr.isEmpty, idstr.utf8.count <= 255 else {
            throw VMStateError(.failed, path: idstr, reason: "a section idstr must have 1 to 255 bytes")
        }
        if let size, size <= 0 {
            // (A struct of no bytes would leave every write outside any known region, unchecked.)
            throw VMStateError(
                .failed, path: idstr, reason: "the struct's size must be positive (it bounds the loads' writes)",
                actual: "\(size)")
        }
        var instanceID = instanceID
        if instanceID == Self.anyInstanceID {
            // QEMU's calculate_new_instance_id: one past the highest of the idstr, or 0.
            let highest = highestInstanceIDs[idstr]
            if let highest, highest >= Self.anyInstanceID - 1 {
                throw VMStateError(
                    .failed, path: idstr, reason: "section \(idstr) has no free instance id after \(highest)")
            }
            instanceID = highest.map { $0 + 1 } ?? 0
        }
        let key = SectionKey(idstr: idstr, instanceID: instanceID)
        if deviceIndices[key] != nil {
            throw VMStateError(
                .failed, path: idstr, reason: "\(VMStateError.sectionLabel(idstr, instanceID)) is registered already")
        }
        try Planner.holding { () throws(VMStateError) in
            let plan = try Planner.plan(vmsd)
            if let size { try plan.checkFits(size: size, path: idstr) }
        }
        deviceIndices[key] = devices.count
        highestInstanceIDs[idstr] = max(highestInstanceIDs[idstr] ?? 0, instanceID)
        devices.append(
            Device(idstr: idstr, instanceID: instanceID, vmsd: vmsd, opaque: opaque, size: size, layout: layout))
    }

    /// Registers `length` bytes at `host` as the RAM block `idstr` (QEMU's RAMBlock idstr, such
    /// as `pc.ram`).
    ///
    /// - Throws: ``VMStateError`` when `length` is not a positive multiple of 4096, the block is
    ///   registered already, or a live migration of the registry is in progress.
    public func addRAM(idstr: String, host: UnsafeMutableRawPointer, length: Int) throws(VMStateError) {
        try refuseWhileMigrating("RAM block", idstr)
        guard !idstr.isEmpty, idstr.utf8.count <= 255 else {
            throw VMStateError(.failed, path: idstr, reason: "a RAM block idstr must have 1 to 255 bytes")
        }
        guard length > 0, length % StreamFormat.pageSize == 0 else {
            throw VMStateError(
                .failed, path: idstr, reason: "RAM block length must be a multiple of 4096 from 4096 to 2^63 - 4096",
                actual: "\(UInt(bitPattern: length))")  // (a C size_t: 2^63 and above arrive negative)
        }
        // A block that would wrap past the end of the address space (e.g. MAP_FAILED as `host`).
        guard !UInt(bitPattern: host).addingReportingOverflow(UInt(length)).overflow else {
            throw VMStateError(
                .failed, path: idstr, reason: "RAM block passes the end of the address space",
                actual: "\(length) bytes at \(host)")
        }
        if ramBlockIndices[idstr] != nil {
            throw VMStateError(.failed, path: idstr, reason: "RAM block \(idstr) is registered already")
        }
        ramBlockIndices[idstr] = ramBlocks.count
        ramBlocks.append(RAMBlock(idstr: idstr, host: host, length: length))
    }

    // MARK: - save

    /// Writes a whole stream; `machineType` nil means the last loaded stream's.
    ///
    /// The stream holds the header, the configuration with the machine type, the RAM, one
    /// section per device, the end marker and the vmdesc JSON. Devices are saved as QEMU 7.2
    /// orders its handlers: higher `MigrationPriority` first, registration order within one
    /// priority. After a load, the loaded stream's sections keep its order and section ids, and
    /// devices it did not have follow in that priority order. After a save, loads must be for the same machine
    /// type.
    ///
    /// - Returns: The stream's bytes.
    /// - Throws: ``VMStateError`` with the section and field path when a device fails to save,
    ///   or when there is no machine type; also when the stream would pass 4 GiB, the most one
    ///   `GByteArray` holds (`vmstate_registry_save_to_stream` writes any size).
    public func save(machineType: String? = nil) throws(VMStateError) -> [UInt8] {
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        try save(machineType: machineType, into: out)
        // SAFETY: `out` is owned here (unref'd by the defer); `data[0..<len]` is what the save wrote.
        return Array(UnsafeBufferPointer(start: out.pointee.data, count: Int(out.pointee.len)))
    }

    func save(machineType: String?, into out: UnsafeMutablePointer<GByteArray>) throws(VMStateError) {
        try save(machineType: machineType, to: MigrationFile(output: out))
    }

    /// Writes a whole stream to `file` (a `GByteArray` or a `GOutputStream` sink), and flushes
    /// it. RAM pages go from guest memory to the file's buffer one at a time.
    ///
    /// - Throws: ``VMStateError`` as ``save(machineType:)``; also when the sink fails (a stream
    ///   write error, with the section and byte offset; the file keeps the stream's GError) or
    ///   cannot hold the stream (a `GByteArray` past 4 GiB).
    func save(machineType: String?, to file: MigrationFile) throws(VMStateError) {
        let plan = try beginStream(machineType: machineType, file, ramIfMissing: !ramBlocks.isEmpty)
        let rules = plan.rules
        let vmdesc = plan.vmdesc
        let hasRAM = !ramBlocks.isEmpty && plan.sections.contains { if case .ram = $0 { true } else { false } }
        if hasRAM { try RAMCodec.checkSaveFits(ramBlocks, unsent: plan.ramUnsent, mappedRAM: plan.mappedRAM, file) }

        // QEMU's phases: setup (RAM START, early-setup devices), iterate (RAM PARTs), then
        // SWITCHOVER_START when the rules send it, and the complete phase (RAM END, devices).
        var ramEnd: UInt32?
        var commandPending = rules.switchoverStart
        func enterCompletePhase() {
            if commandPending {
                file.context = nil
                Self.putSwitchoverStart(file)
                commandPending = false
            }
            if let id = ramEnd {
                file.context = ramLabel
                RAMCodec.saveEnd(
                    ramBlocks, unsent: plan.ramUnsent, sectionID: id,
                    footer: rules.sectionFooters, mappedRAM: plan.mappedRAM, file)
                ramEnd = nil
            }
        }
        var keptLabels = KeptSectionLabels()
        for entry in plan.sections {
            switch entry {
            case .device(let index, let id):
                // QEMU 10.0 saves early-setup devices in the setup phase, as FULL sections.
                if !isEarlySetup(index, rules) { enterCompletePhase() }
                file.context = devices[index].sectionLabel
                try saveDevice(
                    devices[index], sectionID: id, footer: rules.sectionFooters, file, vmdesc, dialect: rules.version)
            case .ram(let id):
                guard hasRAM else { break }
                file.context = ramLabel
                RAMCodec.saveStart(
                    ramBlocks, sectionID: id, addresses: plan.ramAddresses, footer: rules.sectionFooters,
                    mappedRAM: plan.mappedRAM, file)
                ramEnd = id
            case .kept(let bytes, let json):
                if bytes.first != StreamFormat.sectionStart && bytes.first != StreamFormat.sectionPart {
                    enterCompletePhase()
                }
                file.context = keptLabels.label(of: bytes)
                file.putBytes(bytes)
                if let json { vmdesc.raw(nil, json) }
            case .keptEarly(let bytes, let json):
                file.context = keptLabels.label(of: bytes)
                file.putBytes(bytes)
                if let json { vmdesc.raw(nil, json) }
            }
            try Self.checkOutput(file)
        }
        enterCompletePhase()
        try Self.finishStream(file, vmdesc)
        noteWritten(machine: plan.machine)
    }

    /// After a save or a live migration for `machine` (the bytes the stream names; none for a
    /// stream without a configuration section): a stream of that machine type is what a later
    /// load expects. A stream without a configuration section names none; it drops an expected
    /// type whose streams have one, so that the registry loads what it wrote.
    func noteWritten(machine: [UInt8]) {
        if !machine.isEmpty {
            expectedMachineTypeBytes = machine
        } else if let expected = expectedMachineType,
            QEMUStreamRules.forMachine(expected, version: streamVersion).configuration
        {
            expectedMachineType = nil
        }
    }

    /// The loaded layout with the sections the load kept (nobody had registered them) taken by
    /// what was registered since: a device of a kept FULL section's idstr and instance takes its
    /// place and section id, and registered RAM takes the place and id of a kept "ram" START,
    /// whose kept PARTs and END are dropped. Else the save would write the kept bytes, stale
    /// state, and the device's own section as well (a section twice, which QEMU loads twice and
    /// a checked load refuses) or the kept RAM instead of the registered one.
    func replacingKeptSectionsRegisteredSince(_ entries: [LayoutEntry]) -> [LayoutEntry] {
        var keptRAM: UInt32?
        var out: [LayoutEntry] = []
        for entry in entries {
            switch entry {
            case .kept(let bytes, _), .keptEarly(let bytes, _):
                let type = bytes.first
                if let h = KeptSectionLabels.header(of: bytes), Array(h.name.utf8) == h.idstr {
                    if type == StreamFormat.sectionStart, h.name == "ram", h.instanceID == 0, !ramBlocks.isEmpty {
                        keptRAM = h.sectionID
                        out.append(.ram(sectionID: h.sectionID))
                        continue
                    }
                    if type == StreamFormat.sectionFull, let index = device(h.name, h.instanceID) {
                        out.append(.device(index: index, sectionID: h.sectionID))
                        continue
                    }
                } else if let keptRAM, type == StreamFormat.sectionPart || type == StreamFormat.sectionEnd,
                    KeptSectionLabels.sectionID(of: bytes) == keptRAM
                {
                    continue
                }
                out.append(entry)
            default:
                out.append(entry)
            }
        }
        return out
    }

    /// Refuses to save when RAM was registered after a load that kept the stream's RAM
    /// (KEEP_UNKNOWN) and a block of that RAM is not among the registered ones: the registered
    /// RAM takes the kept RAM's place (``replacingKeptSectionsRegisteredSince(_:)``), so that
    /// block's pages would be lost. With no RAM registered the kept RAM is written back whole.
    func checkKeptRAMRegistered() throws(VMStateError) {
        guard !ramBlocks.isEmpty, !keptRAMBlocks.isEmpty else { return }
        let registered = Set(ramBlocks.map(\.idstr))
        let missing = keptRAMBlocks.filter { !registered.contains($0.name) }
        guard let first = missing.first else { return }
        let list = abbreviatedList(
            missing.map { "\(RAMCodec.quotedName($0.name)) (\($0.length) bytes)" }, first: RAMCodec.shownMissingBlocks,
            total: missing.count)
        throw VMStateError(
            .ram, path: first.name,
            reason: "the loaded stream's RAM, kept unloaded by VMSTATE_LOAD_KEEP_UNKNOWN, has "
                + (missing.count == 1
                    ? "a RAM block that is not registered: \(list)"
                    : "\(missing.count) RAM blocks that are not registered: \(list)")
                + "; the registered RAM takes the kept RAM's place in a save, so its pages would be lost: register "
                + "every RAM block of the loaded stream, or none (then the kept RAM is saved as it came)")
    }

    /// Whether device `index` is saved in the setup phase: a QEMU 10.0 table with `early_setup`,
    /// in a stream written for QEMU 10.0 (QEMU 7.2 has no early setup).
    func isEarlySetup(_ index: Int, _ rules: QEMUStreamRules) -> Bool {
        rules.version == .qemu10_0 && devices[index].flags.earlySetup
    }

    /// MIG_CMD_SWITCHOVER_START: 0x08, be16 command 11, be16 length 0 (QEMU 10.0
    /// `qemu_savevm_command_send`).
    static func putSwitchoverStart(_ file: MigrationFile) {
        file.putByte(StreamFormat.command)
        file.putBE16(QEMUStreamRules.switchoverStartCommand)
        file.putBE16(0)
    }

    /// The start of every stream this registry writes (a save or a live migration): resolves
    /// the machine type (`machineType`, else the loaded stream's, else the last save's) and the
    /// rules (the loaded stream's when it is saved back for its own machine type and QEMU
    /// version, else ``QEMUStreamRules/forMachine(_:version:)`` for ``streamVersion``), refuses
    /// a device marked unmigratable, writes the header and the configuration section, opens the
    /// vmdesc, and returns all that with the sections in stream order and their section ids: the
    /// loaded stream's layout (its order and ids), then the devices it did not have, higher
    /// `MigrationPriority` first and registration order within one priority (as QEMU 7.2 orders
    /// its handlers). Without a loaded layout, RAM (when registered) comes first as section 1
    /// (never 0: QEMU would take a RAM PART or END of id 0 for its first handler's), the devices
    /// from 2 on; `ramIfMissing` adds a RAM section first when none is placed (a live migration
    /// always sends one; a save does when RAM is registered).
    func beginStream(machineType: String?, _ file: MigrationFile, ramIfMissing: Bool) throws(VMStateError)
        -> StreamPlan
    {
        // A loaded stream without a configuration section (QEMU 7.2, pc-i440fx-2.3 and older)
        // is saved back without one: it needs no machine type.
        // (That outranks the machine type of a save since the load: "" names none.)
        let noConfiguration = machineType == nil && loadedRules?.configuration == false
        guard let machine = machineType ?? loadedMachineType ?? (noConfiguration ? "" : expectedMachineType)
        else {
            throw VMStateError(.failed, reason: "no machine type: pass one, or load a stream first")
        }
        let sameStream = machineType == nil || machineType == loadedMachineType
        let rules: QEMUStreamRules
        if sameStream, let loaded = loadedRules, loaded.version == streamVersion {
            rules = loaded
        } else {
            rules = QEMUStreamRules.forMachine(machine, version: streamVersion)
        }
        // A stream of the other version needs a machine type to name in its configuration section
        // (QEMU 10.0 has no machine type without one). (A loaded configuration naming an empty
        // machine type is saved back as it came.)
        if noConfiguration && rules.configuration {
            throw VMStateError(
                .failed,
                reason: "no machine type: the loaded stream had no configuration section (a QEMU 7.2 machine type "
                    + "2.3 or older) and a stream for \(streamVersion) names one: "
                    + "pass one")
        }
        // Saving a loaded stream back writes its machine type's own bytes (they may not be UTF-8).
        let machineBytes = machineType == nil ? loadedMachineTypeBytes ?? Array(machine.utf8) : Array(machine.utf8)
        guard machineBytes.count <= 255 else {
            throw VMStateError(
                .failed, reason: "the machine type is longer than 255 bytes", actual: "\(machineBytes.count) bytes")
        }
        // (QEMU writes a C string, as the C API passes one: a load refuses a NUL byte in it.)
        guard !machineBytes.contains(0) else {
            throw VMStateError(.failed, reason: "the machine type holds a NUL byte")
        }
        if let blocked = devices.first(where: { $0.flags.unmigratable }) {
            throw VMStateError(
                .failed, path: blocked.idstr,
                reason: "device \(blocked.idstr) instance \(blocked.instanceID) is marked unmigratable")
        }

        // The loaded configuration's subsections are written back for its own machine type.
        // (Only a loaded one: a registry saved before, and never loaded, has none to keep.)
        let keepExtra = loadedMachineType != nil && sameStream && rules.configuration
        // QEMU's own rule: target-page-bits when the page size's bits exceed the minimum (a kept
        // configuration has it already, unless the minimum was set after the load).
        let pageBitsName = ConfigurationSubsection.targetPageBits.name
        let sendsPageBits =
            targetPageBitsMinimum < StreamFormat.pageSize.trailingZeroBitCount
            && !(keepExtra && configurationSubsections.contains(pageBitsName))
        let caps = keepExtra ? capabilities : []
        var addresses: [String: UInt64]?
        var unsent: Set<String> = []
        if caps.contains("x-ignore-shared") {
            if let missing = ramBlocks.first(where: { ramAddresses[$0.idstr] == nil }) {
                throw VMStateError(
                    .ram, path: missing.idstr,
                    reason:
                        "the configuration has x-ignore-shared, which gives each RAM block's guest address, and the "
                        + "loaded stream gave none for RAM block \(missing.idstr)")
            }
            addresses = ramAddresses
            unsent = ramUnsentBlocks
        }

        file.putBE32(StreamFormat.magic)
        file.putBE32(StreamFormat.version)
        if rules.configuration {
            file.putByte(StreamFormat.configuration)
            file.putBE32(UInt32(machineBytes.count))
            file.putBytes(machineBytes)
            // (QEMU's order: target-page-bits, capabilities, uuid.)
            if sendsPageBits {
                file.putByte(StreamFormat.subsection)
                file.putByte(UInt8(pageBitsName.utf8.count))
                file.putBytes(Array(pageBitsName.utf8))
                file.putBE32(1)
                file.putBE32(UInt32(StreamFormat.pageSize.trailingZeroBitCount))
            }
            if keepExtra { file.putBytes(configurationExtra) }
        }
        let vmdesc = VMDescWriter()
        vmdesc.startObject()
        if rules.vmdescConfiguration {
            Self.describeConfiguration(
                vmdesc, machineLength: machineBytes.count,
                subsections: (sendsPageBits ? [pageBitsName] : []) + (keepExtra ? configurationSubsections : []),
                capabilities: caps, capabilityCount: keepExtra ? capabilityCount : 0)
        }
        vmdesc.int("page_size", Int64(StreamFormat.pageSize))
        vmdesc.startArray("devices")

        try checkKeptRAMRegistered()
        var entries = layout.map(replacingKeptSectionsRegisteredSince) ?? []
        var usedIDs = Set<UInt32>()
        var placed = Set<Int>()
        var hasRAM = false
        for entry in entries {
            switch entry {
            case .device(let index, let id):
                usedIDs.insert(id)
                placed.insert(index)
            case .ram(let id):
                usedIDs.insert(id)
                hasRAM = true
            case .kept(let bytes, _), .keptEarly(let bytes, _):
                // A kept section keeps its id: a device added after the load must not take it.
                if let id = KeptSectionLabels.sectionID(of: bytes) { usedIDs.insert(id) }
            }
        }
        // New sections take ids after the loaded and kept ones, skipping any in use: a stream may
        // use any be32 id, up to 0xffffffff (adding one to it trapped).
        var nextID: UInt32 = usedIDs.max().map { $0 &+ 1 } ?? 0
        func takeID() -> UInt32 {
            while usedIDs.contains(nextID) { nextID &+= 1 }
            usedIDs.insert(nextID)
            defer { nextID &+= 1 }
            return nextID
        }
        func takeRAMID() -> UInt32 {
            usedIDs.insert(0)
            return takeID()
        }
        // RAM not placed by a loaded layout (none, or one without a RAM section, such as another
        // registry's save of devices only) goes first, where QEMU writes its RAM START. QEMU's
        // destination finds a PART or END section's handler as the first whose load id equals
        // the section id, and a handler no START or FULL section named keeps 0 (savevm.c
        // `qemu_loadvm_section_part_end`): RAM with id 0 goes to `timer`, and the load fails. So
        // RAM never has id 0 (QEMU's own RAM is never its first handler): 1 in a new layout.
        if ramIfMissing && !hasRAM {
            entries.insert(.ram(sectionID: takeRAMID()), at: 0)
        }
        // A loaded stream's RAM with id 0 (one this library wrote before it kept RAM off 0) gets
        // another id, for QEMU's destination.
        if let zero = entries.firstIndex(where: { if case .ram(0) = $0 { true } else { false } }) {
            entries[zero] = .ram(sectionID: takeRAMID())
        }
        let unplaced = devices.indices.filter { !placed.contains($0) }
        let ordered = unplaced.enumerated().sorted { a, b in
            // SAFETY: registered tables, as above.
            let pa = devices[a.element].vmsd.pointee.priority.rawValue
            let pb = devices[b.element].vmsd.pointee.priority.rawValue
            return pa != pb ? pa > pb : a.offset < b.offset
        }
        // QEMU 10.0's early-setup devices are saved in the setup phase (`qemu_savevm_state_setup`,
        // each handler in turn: RAM's, the default priority and registered first, writes its
        // START), before the other devices not placed yet: in a new layout right after the RAM
        // START, where QEMU writes virtio-mem-device-early (`Tests/Fixtures/qemu-10.0/virtio-mem`)
        // and where a live migration writes them too. (QEMU would put one of a priority above
        // the default before the RAM START; no QEMU 10.0 device has one. After it, a destination
        // without the device skips its section up to its footer, never holding the RAM.)
        var earlyEntries: [LayoutEntry] = []
        for (_, index) in ordered where isEarlySetup(index, rules) {
            earlyEntries.append(.device(index: index, sectionID: takeID()))
        }
        if layout == nil, let ram = entries.firstIndex(where: { if case .ram = $0 { true } else { false } }) {
            entries.insert(contentsOf: earlyEntries, at: ram + 1)
        } else {
            entries.insert(contentsOf: earlyEntries, at: layout == nil ? 0 : entries.count)
        }
        for (_, index) in ordered where !isEarlySetup(index, rules) {
            entries.append(.device(index: index, sectionID: takeID()))
        }
        // Kept sections of a stream of another version: their vmdesc entries as that version
        // writes them.
        if let source = loadedRules?.version, source != rules.version {
            entries = entries.map { entry in
                switch entry {
                case .kept(let bytes, let json?):
                    return .kept(
                        bytes: bytes, vmdesc: QEMUStreamRules.keptVMDesc(json, from: source, to: rules.version))
                case .keptEarly(let bytes, let json?):
                    return .keptEarly(
                        bytes: bytes, vmdesc: QEMUStreamRules.keptVMDesc(json, from: source, to: rules.version))
                default: return entry
                }
            }
        }
        // Kept sections of a stream whose footers the rules differ from (another machine type:
        // pc-i440fx-2.3 and older send none): each gains or drops its footer, as the sections
        // written around it (a stream mixing both fails QEMU's load, "Missing section footer").
        if let loaded = loadedRules?.sectionFooters, loaded != rules.sectionFooters {
            entries = entries.map { entry in
                switch entry {
                case .kept(let bytes, let json):
                    return .kept(bytes: Self.withFooter(rules.sectionFooters, bytes), vmdesc: json)
                case .keptEarly(let bytes, let json):
                    return .keptEarly(bytes: Self.withFooter(rules.sectionFooters, bytes), vmdesc: json)
                default: return entry
                }
            }
        }
        return StreamPlan(
            machine: machineBytes, rules: rules, sections: entries, vmdesc: vmdesc, ramAddresses: addresses,
            ramUnsent: unsent, mappedRAM: caps.contains("mapped-ram"))
    }

    /// The kept section `bytes` (type byte through its footer: a load keeps a section as its
    /// stream has it, with a footer exactly when the stream has them) given its footer
    /// (``SectionFooter/bytes(closing:)``) when `footer`, or stripped of it.
    static func withFooter(_ footer: Bool, _ bytes: [UInt8]) -> [UInt8] {
        guard footer else { return bytes.count > 5 ? Array(bytes.dropLast(5)) : bytes }
        guard let id = KeptSectionLabels.sectionID(of: bytes) else { return bytes }
        return bytes + SectionFooter.bytes(closing: id)
    }

    /// The vmdesc's `"configuration"` member as QEMU 10.0 writes it (`vmstate_configuration`
    /// described by `vmstate_save_state`): fields `len` (uint32) and `name` (buffer of the
    /// machine type's length), then the subsections sent: `configuration/target-page-bits`
    /// (uint32), `configuration/capabilities` (`caps_count` uint32, `capabilities`: one
    /// "capability" of 1 + its length bytes, `array_len` n with n > 1, as a compressible VARRAY
    /// is described), `configuration/uuid` (16 uint8). `capabilities`: the names listed, each
    /// once (the first sizes an entry); `capabilityCount`: the list's entries.
    static func describeConfiguration(
        _ vmdesc: VMDescWriter, machineLength: Int, subsections: [String], capabilities: [String],
        capabilityCount: Int
    ) {
        func field(_ name: String, _ type: String, _ size: Int, arrayLength: Int? = nil) {
            vmdesc.startObject()
            vmdesc.string("name", name)
            if let arrayLength { vmdesc.int("array_len", Int64(arrayLength)) }
            vmdesc.string("type", type)
            vmdesc.int("size", Int64(size))
            vmdesc.endObject()
        }
        vmdesc.startObject("configuration")
        vmdesc.string("vmsd_name", "configuration")
        vmdesc.int("version", 1)
        vmdesc.startArray("fields")
        field("len", "uint32", 4)
        field("name", "buffer", machineLength)
        vmdesc.endArray()
        if !subsections.isEmpty {
            vmdesc.startArray("subsections")
            for sub in subsections {
                vmdesc.startObject()
                vmdesc.string("vmsd_name", sub)
                vmdesc.int("version", 1)
                vmdesc.startArray("fields")
                switch sub {
                case "configuration/target-page-bits": field("target_page_bits", "uint32", 4)
                case "configuration/capabilities":
                    field("caps_count", "uint32", 4)
                    if let first = capabilities.first {
                        field(
                            "capabilities", "capability", 1 + first.utf8.count,
                            arrayLength: capabilityCount > 1 ? capabilityCount : nil)
                    }
                default: field("uuid.data", "uint8", 1, arrayLength: 16)
                }
                vmdesc.endArray()
                vmdesc.endObject()
            }
            vmdesc.endArray()
        }
        vmdesc.endObject()
    }

    /// The end of a stream after its last section: EOF, then the vmdesc (`vmdesc`'s device list
    /// closed), flushed; throws the output's failure.
    static func finishStream(_ file: MigrationFile, _ vmdesc: VMDescWriter) throws(VMStateError) {
        file.context = nil
        vmdesc.endArray()
        vmdesc.endObject()
        // QEMU writes the vmdesc's length as a be32 (savevm.c,
        // qemu_savevm_state_complete_precopy_non_iterable), and truncates a longer one's.
        guard vmdesc.byteCount <= Int(UInt32.max) else {
            throw VMStateError(
                .failed, offset: file.position,
                reason:
                    "the vmdesc is \(vmdesc.byteCount) bytes, more than its be32 length can give (4 GiB): too many devices for one stream"
            )
        }
        file.putByte(StreamFormat.eof)
        file.putByte(StreamFormat.vmdesc)
        file.putBE32(UInt32(vmdesc.byteCount))
        // Written from the writer's own buffer: a copy would hold the vmdesc twice.
        vmdesc.withText { file.putBytes($0.baseAddress, $0.count) }
        file.flush()
        try checkOutput(file)
    }

    /// Throws the output's failure: the stream's write error, or the sink's own (a full array).
    static func checkOutput(_ file: MigrationFile) throws(VMStateError) {
        guard file.errorCode != 0 else { return }
        if let failure = file.streamFailure(writing: true) { throw failure }
        throw file.failure
            ?? VMStateError(
                .failed, offset: file.position, reason: "the output failed",
                actual: "errno \(file.errorCode)", errno: file.errorCode)
    }

    /// Writes `device` as a FULL section (with its footer when `footer`), describing it in
    /// `vmdesc` with `dialect`'s rules (the QEMU the stream is written for); nothing when its
    /// description's `needed` returns false, as QEMU 7.2 and 10.0 skip such a section and its
    /// vmdesc entry (savevm.c, `vmstate_save_needed` before each device section).
    func saveDevice(
        _ device: Device, sectionID: UInt32, footer: Bool = true, _ file: MigrationFile, _ vmdesc: VMDescWriter,
        dialect: QEMUDialect = .qemu7_2
    ) throws(VMStateError) {
        // SAFETY: a registered `vmsd`, valid while registered; `needed` takes the registered opaque.
        if let needed = device.vmsd.pointee.needed, !needed(device.opaque) { return }
        let name = Array(device.idstr.utf8)
        // SAFETY: a registered `vmsd`, valid while registered (see Device).
        let version = device.vmsd.pointee.version_id
        file.putByte(StreamFormat.sectionFull)
        file.putBE32(sectionID)
        file.putByte(UInt8(name.count))
        file.putBytes(name)
        file.putBE32(device.instanceID)
        file.putBE32(UInt32(bitPattern: version))
        vmdesc.startObject()
        vmdesc.string("name", device.idstr)
        vmdesc.int("instance_id", Int64(device.instanceID))
        do throws(VMStateError) {
            try VMStateEngine.save(file, device.vmsd, device.opaque, version: version, vmdesc: vmdesc, dialect: dialect)
        } catch {
            throw error.inSection(device.idstr, device.instanceID)
        }
        vmdesc.endObject()
        if footer {
            file.putByte(StreamFormat.footer)
            file.putBE32(sectionID)
        }
    }

    // MARK: - load

    /// Loads a whole stream into the registered devices and RAM.
    ///
    /// Sections load in stream order, each device at the version in its section header; a
    /// failure leaves the sections before it loaded.
    ///
    /// - Parameters:
    ///   - bytes: A whole stream, as QEMU 7.2, QEMU 8.x-10.0 (docs/FORMAT.md §9) or ``save(machineType:)`` writes it.
    ///   - options: What to do with sections no device was registered for.
    /// - Throws: ``VMStateError`` with the section, the field path and the byte offset.
    public func load(_ bytes: [UInt8], options: LoadOptions = []) throws(VMStateError) {
        // SAFETY: g_bytes_new copies the array's bytes while `withUnsafeBytes` keeps them valid.
        let gbytes = bytes.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }!
        defer { g_bytes_unref(gbytes) }
        try loadStream(MigrationFile(input: gbytes), options: options)
    }

    /// Loads a whole stream read from `file` (a `GBytes` or a `GInputStream` source).
    ///
    /// Over a stream, RAM pages go from the file's bounded buffer into guest memory; the load
    /// stops at the EOF marker (the vmdesc after it is not read, unless an unknown section must
    /// be skipped: then the rest of the stream, at most 64 MiB, is held to read the vmdesc that
    /// gives the section's size). A failed read or an early end throws with the section and
    /// the byte offset; the file keeps the stream's GError.
    func loadStream(_ file: MigrationFile, options: LoadOptions) throws(VMStateError) {
        do throws(VMStateError) {
            try load(file, options: options)
            drainVMDesc(file)
        } catch {
            if let failure = file.streamFailure(writing: false) {
                // The stream's failure (where the read failed), then what the load was in, then
                // a transactional load's note that it rolled back.
                let (error, rollbackNote) = LoadGuard.splittingRollbackNote(error)
                var e = failure
                // (The stream failed: it did not end. Its "stream ended" reasons say where.)
                let cut = "stream ended inside ", ended = "stream ended "
                let path = error.path.isEmpty ? "" : error.path + ": "
                if error.reason.hasPrefix(cut) {
                    // (A cut section header is named by the section the file is in, as below,
                    // unless the failure names it already.)
                    let named = e.path.contains("section \"") || e.reason.contains("section \"")
                    let within = error.path.isEmpty && !named ? file.context.map { $0 + ": " } ?? "" : path
                    e.reason +=
                        "; \(within)it cut \(error.reason.dropFirst(cut.count)) that starts at byte \(error.offset)"
                } else if error.reason.hasPrefix(ended) {
                    e.reason +=
                        "; \(path)the load stopped at byte \(error.offset), \(error.reason.dropFirst(ended.count))"
                } else if error.reason.hasSuffix(Engine.fileErrorAfterValue) {
                    // The engine noticed the failed read only after a later value (QEMU's check of
                    // the file's error): its field is not where the read failed, so none is named.
                } else {
                    // (The engine's reason may start with the section the failure names already.)
                    var reason = Substring(error.reason)
                    if let label = file.context, reason.hasPrefix(label + ": "), e.reason.hasPrefix(label + ": ") {
                        reason = reason.dropFirst(label.count + 2)
                    }
                    if reason == "input ended" {
                        // A field's read came up short: the stream failed inside it.
                        let what = error.path.isEmpty ? "the section's data" : "field \(error.path)"
                        e.reason += "; it cut \(what) that starts at byte \(error.offset)"
                    } else {
                        e.reason += "; the load stopped at byte \(error.offset): \(path)\(reason)"
                    }
                }
                e.reason += rollbackNote
                throw e
            }
            if let section = file.context, !error.reason.contains("section \"") {
                var e = error
                e.reason = section + ": " + e.reason
                throw e
            }
            throw error
        }
    }

    /// Reads past the vmdesc that follows the EOF marker, as QEMU's destination does
    /// (`qemu_loadvm_state` in migration/savevm.c): a source still sending it would otherwise
    /// find the connection closed under it and fail the migration. Nothing happens when the
    /// stream ends at EOF or goes on with something else; the vmdesc is not checked.
    private func drainVMDesc(_ file: MigrationFile) {
        file.mark = nil
        guard let marker = file.peek(1)?.first, marker == StreamFormat.vmdesc, file.skip(1),
            let length = file.getBE32()
        else { return }
        _ = file.skip(Int(length))
    }

    /// Refuses a load before anything is read (and, for a listener, before its connection is
    /// accepted): flags this library does not know, rather than ignoring them (a caller's newer
    /// flag must not load as if it were absent), a load while a live migration of the
    /// registry is in progress (the RAM it writes is in no dirty log: the destination would
    /// not get it, and the migration's sections were placed when it started), and any load
    /// while a device marked unmigratable is registered, as QEMU's `qemu_loadvm_state` refuses
    /// every stream then (`qemu_savevm_state_blocked`, 7.2 and 10.0), whatever its sections.
    func checkLoad(_ options: LoadOptions) throws(VMStateError) {
        let unknownFlags = options.subtracting([.skipUnknown, .keepUnknown, .transactional])
        guard unknownFlags.isEmpty else {
            throw VMStateError(
                .failed, offset: 0,
                reason: "unknown load flags \(hex(UInt64(unknownFlags.rawValue), width: 1)): the flags are "
                    + "VMSTATE_LOAD_SKIP_UNKNOWN (0x1), VMSTATE_LOAD_KEEP_UNKNOWN (0x2) and VMSTATE_LOAD_TRANSACTIONAL (0x4)"
            )
        }
        guard migrationsInProgress == 0 else {
            throw VMStateError(
                .failed, offset: 0,
                reason: "a load cannot run while a live migration of the registry is in progress (until it "
                    + "completes, fails or is freed): the RAM it writes would not reach the destination")
        }
        if let blocked = devices.first(where: { $0.flags.unmigratable }) {
            throw VMStateError(
                .failed, path: blocked.idstr, offset: 0,
                reason: "device \(blocked.idstr) instance \(blocked.instanceID) is marked unmigratable: QEMU refuses "
                    + "every stream while such a device is registered (\"State blocked by non-migratable device "
                    + "'\(blocked.idstr)'\")")
        }
    }

    private func load(_ file: MigrationFile, options: LoadOptions) throws(VMStateError) {
        try checkLoad(options)
        // A stream is input from elsewhere: every load is checked. Devices added without a size
        // are not bounded to their struct, but still get the allocation, depth and repetition
        // limits (a stream could otherwise recurse through a self-nesting description until the
        // stack overflows).
        let loadGuard = LoadGuard(transactional: options.contains(.transactional))
        for device in devices {
            if let size = device.size { try loadGuard.addStruct(device.opaque, size: size, label: device.sectionLabel) }
        }
        // Device pointers into guest RAM are bounded by the block (RAM is not restored).
        for block in ramBlocks { loadGuard.addRegion(block.host, size: block.length) }
        let loader = StreamLoader(registry: self, file: file, options: options, guard: loadGuard)
        try loadGuard.run(restored: { rolledBack(by: loader) }) { () throws(VMStateError) in try loader.run() }
        let version: QEMUDialect =
            loader.hadSwitchoverStart || Self.vmdescHasConfiguration(file) ? .qemu10_0 : .qemu7_2
        loadedMachineType = loader.machineType
        loadedMachineTypeBytes = loader.machineTypeBytes
        configurationExtra = loader.configurationExtra
        configurationSubsections = loader.configurationSubsections
        capabilities = loader.capabilities
        capabilityCount = loader.capabilityCount
        ramAddresses = loader.ramAddresses
        ramUnsentBlocks = loader.ramUnsentBlocks
        keptRAMBlocks = loader.keptRAMBlocks
        layout = loader.layout
        loadedRules = QEMUStreamRules(
            version: version, configuration: loader.hadConfiguration, sectionFooters: loader.footers ?? true,
            switchoverStart: loader.hadSwitchoverStart)
        streamVersion = version
    }

    /// What a transactional load that failed put back, for its message: the devices added with a
    /// size; a device added without one whose section the load reached keeps what was loaded,
    /// and so does the RAM once the stream's RAM section started.
    private func rolledBack(by loader: StreamLoader) -> String {
        var changed: [String] = []
        for entry in loader.layout {
            if case .device(let index, _) = entry, devices[index].size == nil {
                changed.append(devices[index].sectionLabel)
            }
        }
        if let index = loader.loadingDevice, devices[index].size == nil { changed.append(devices[index].sectionLabel) }
        let ram = loader.layout.contains { if case .ram = $0 { return true } else { return false } }
        guard !changed.isEmpty || ram else { return "the state is as it was before the call" }
        var names = changed.count > 3 ? Array(changed.prefix(3)) + ["\(changed.count - 3) more"] : changed
        if ram { names.append("the RAM") }
        let list = names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " and " + names.last!
        return
            "the devices added with a size are as they were before the call; not restored (added without a size, or "
            + "RAM): \(list)"
    }

    /// Whether the vmdesc right after the EOF marker starts with `{"configuration"` (QEMU
    /// 8.2+). Peeks only: the vmdesc stays for ``drainVMDesc(_:)``.
    private static func vmdescHasConfiguration(_ file: MigrationFile) -> Bool {
        file.mark = nil
        let prefix = Array("{\"configuration\"".utf8)
        guard let head = file.peek(5 + prefix.count), head[0] == StreamFormat.vmdesc else { return false }
        return Array(head[5..<head.count]) == prefix
    }

    /// The index in ``devices`` of the device registered as section `idstr` `instanceID`.
    func device(_ idstr: String, _ instanceID: UInt32) -> Int? {
        deviceIndices[SectionKey(idstr: idstr, instanceID: instanceID)]
    }
}

/// A section as a stream and a vmdesc name it: its idstr and instance id.
struct SectionKey: Hashable {
    let idstr: String
    let instanceID: UInt32
}

/// The RAM section as messages name it (saved, as QEMU does, with instance id 0).
let ramLabel = VMStateError.sectionLabel("ram", 0)

extension VMStateError {
    /// The error as seen from a stream: the section named in front of the path.
    func inSection(_ idstr: String, _ instanceID: UInt32) -> VMStateError {
        var copy = self
        copy.reason = Self.sectionLabel(idstr, instanceID) + ": " + reason
        return copy
    }

    /// How messages name a section: `section "IDSTR" instance N`, or `section "IDSTR"` when the
    /// stream ended before its instance id (docs/C-API.md, "The error message").
    static func sectionLabel(_ idstr: String, _ instanceID: UInt32?) -> String {
        instanceID.map { "section \"\(idstr)\" instance \($0)" } ?? "section \"\(idstr)\""
    }
}

/// The labels of kept sections (``VMStateError/sectionLabel(_:_:)``) as a save writes them
/// back, for the errors of a failed write: a START or FULL section's from its header, a PART or
/// END section's from its START's (by section id).
struct KeptSectionLabels {
    private var started: [UInt32: String] = [:]

    /// The section id of the kept section `bytes`: every section header has it first, after the
    /// type byte (read as a PART's header, which is only that). Nil when it does not read (never
    /// for bytes a load kept).
    static func sectionID(of bytes: [UInt8]) -> UInt32? {
        guard !bytes.isEmpty else { return nil }
        return bytes.withUnsafeBytes { raw -> UInt32? in
            guard
                case .record(let h, _) = SectionPartHeader.Decoder().decode(UnsafeRawBufferPointer(rebasing: raw[1...]))
            else { return nil }
            return h.sectionID
        }
    }

    /// The header of the kept START or FULL section `bytes` (its idstr and instance); nil for a
    /// PART or END, or when it does not read (never for bytes a load kept).
    static func header(of bytes: [UInt8]) -> SectionHeader? {
        guard bytes.first == StreamFormat.sectionStart || bytes.first == StreamFormat.sectionFull else { return nil }
        return bytes.withUnsafeBytes { raw in
            guard case .record(let h, _) = SectionHeader.Decoder().decode(UnsafeRawBufferPointer(rebasing: raw[1...]))
            else { return nil }
            return h
        }
    }

    /// The label of the kept section `bytes` (type byte through footer); nil when its header
    /// does not read (never for bytes a load kept).
    mutating func label(of bytes: [UInt8]) -> String? {
        switch bytes.first {
        case StreamFormat.sectionStart, StreamFormat.sectionFull:
            guard let h = Self.header(of: bytes) else { return nil }
            let label = VMStateError.sectionLabel(h.name, h.instanceID)
            if bytes.first == StreamFormat.sectionStart { started[h.sectionID] = label }
            return label
        case StreamFormat.sectionPart, StreamFormat.sectionEnd:
            guard let id = Self.sectionID(of: bytes) else { return nil }
            return started[id] ?? "section \(id)"
        default:
            return nil
        }
    }
}
