import CGLib
import CVMState

/// One pass over a whole stream into a registry's devices and RAM (docs/FORMAT.md §5).
final class StreamLoader {
    let registry: Registry
    let file: MigrationFile
    let options: Registry.LoadOptions
    let loadGuard: LoadGuard?
    private(set) var machineType: String?
    private(set) var machineTypeBytes: [UInt8]?
    private(set) var configurationExtra: [UInt8] = []
    private(set) var layout: [Registry.LayoutEntry] = []
    /// The registry's devices whose section ``layout`` has (a checked load refuses one twice).
    private var loadedDevices = Set<Int>()
    /// Whether the stream had a configuration section, section footers (nil until the first
    /// section's end shows it), a SWITCHOVER_START command (docs/FORMAT.md §9).
    private(set) var hadConfiguration = false
    private(set) var footers: Bool?
    private(set) var hadSwitchoverStart = false
    /// The capabilities the configuration section listed, each once, in the order of their
    /// first entry (a stream may list one many times, as QEMU accepts).
    private(set) var capabilities: [String] = []
    /// How many entries the list had (``capabilities`` with its repeats).
    private(set) var capabilityCount = 0
    /// The same names, as a set.
    private var capabilitySet: Set<String> = []
    /// The configuration subsections, by name, in stream order.
    private(set) var configurationSubsections: [String] = []
    /// The guest address of each RAM block (x-ignore-shared streams).
    var ramAddresses: [String: UInt64] { ramState.addresses }
    /// The RAM blocks an x-ignore-shared stream sent no page of (``RAMCodec/LoadState/unsentBlocks``).
    var ramUnsentBlocks: Set<String> { ramState.unsentBlocks }
    /// The blocks of the RAM kept unloaded (KEEP_UNKNOWN, no RAM registered), as its start
    /// listed them (``RAMCodec/LoadState/unloadedBlocks``).
    var keptRAMBlocks: [(name: String, length: UInt64)] { ramState.unloadedBlocks }
    /// Whether the setup and iterate phases are over (a command, a RAM END, or a FULL section
    /// after a RAM PART was read): FULL sections before that are early-setup ones (QEMU 10.0).
    private var completePhase = false
    private var sawIterative = false
    /// Whether a RAM PART was read: the iterate phase began, and the setup phase is over.
    private var iterating = false
    /// Section ids of the iterative RAM section ("ram"): whether it goes to registered RAM, and
    /// how messages name it (``VMStateError/sectionLabel(_:_:)``).
    private var ramSections: [UInt32: (registered: Bool, label: String)] = [:]
    /// Section ids of the other iterative sections read past or kept (``OtherIterativeSection``:
    /// pseries' hash table, s390x's storage attributes), with their idstr and label.
    private var otherIterative: [UInt32: (kind: OtherIterativeSection, idstr: String, label: String)] = [:]
    private var ramState = RAMCodec.LoadState()
    /// The registered device whose section is being loaded, its footer included (nil between
    /// sections).
    private(set) var loadingDevice: Int?
    /// What looking for the stream's vmdesc found.
    private enum VMDescSearch {
        /// The vmdesc, and the stream offset of its 0x06 marker (the stream's sections end
        /// before the EOF byte ahead of it).
        case found(VMDescIndex, marker: Int)
        /// The stream ended without one.
        case none
        /// It ends the stream but does not parse as a vmdesc: with why, when the parser refused
        /// it for its size or depth.
        case unreadable(String?)
        /// More than ``heldLimit`` bytes came before it.
        case overLimit
        /// A read of the stream failed first.
        case failed
    }

    /// The stream's vmdesc, found at the end of the input. Over a stream source the rest of the
    /// stream is read into the file's window first (from the marked section on: device sections
    /// after the RAM, the EOF marker and the vmdesc), at most ``heldLimit`` bytes, and reading
    /// stops as soon as what was read ends with the EOF byte and a whole vmdesc that parses (a
    /// source may keep the connection open after it, waiting for the destination). A vmdesc
    /// followed by other bytes, or one that does not parse, is found once the input ends.
    private lazy var streamVMDesc: VMDescSearch = {
        var lastMarker = -1
        var scanned = file.position
        var index: VMDescIndex?
        var marker = 0
        var refusal: String?
        let outcome = file.readAhead(limit: Self.heldLimit) { bytes, start in
            guard
                let record = VMDescRecord.endingRead(bytes, start: start, lastMarker: &lastMarker, scanned: &scanned)
            else { return false }
            // (Section data can end the bytes read so far with what looks like a vmdesc record:
            // only one that parses stops the reading.)
            index = VMDescIndex.parse(
                UnsafeRawBufferPointer(rebasing: bytes[record.jsonOffset...]), refusal: &refusal, texts: keepsText)
            marker = start + record.markerOffset
            return index != nil
        }
        switch outcome {
        case .found: return index.map { .found($0, marker: marker) } ?? .unreadable(refusal)
        case .ended:
            if let found = VMDescIndex.find(in: file, refusal: &refusal, texts: keepsText)
                ?? VMDescIndex.findBeforeTrailingBytes(in: file, texts: keepsText)
            {
                return .found(found.index, marker: found.marker)
            }
            let ends = file.withAllBytes { VMDescRecord.locateAtEnd($0) != nil }
            return ends ? .unreadable(refusal) : .none
        case .overLimit: return .overLimit
        case .failed: return .failed
        }
    }()

    /// Whether the vmdesc entry of a section keeps its JSON text: only a section that is kept
    /// (KEEP_UNKNOWN, not registered) is written back with it.
    private func keepsText(_ name: String, _ instanceID: UInt32) -> Bool {
        keeping && registry.device(name, instanceID) == nil
    }

    /// The most bytes a stream load holds to find the vmdesc that gives an unknown section its
    /// extent: 64 MiB.
    static let heldLimit = 64 << 20

    init(registry: Registry, file: MigrationFile, options: Registry.LoadOptions, guard loadGuard: LoadGuard?) {
        self.registry = registry
        self.loadGuard = loadGuard
        self.file = file
        self.options = options
        ramState.blockIndices = registry.ramBlockIndices
    }

    private var skipping: Bool { !options.isDisjoint(with: [.skipUnknown, .keepUnknown]) }
    private var keeping: Bool { options.contains(.keepUnknown) }

    func run() throws(VMStateError) {
        let header = try read(StreamHeader.Decoder()) { $0.field == .magic ? "stream magic" : "stream version" }
        guard let version = header.version else {
            if header.magic == StreamFormat.multifdMagic {
                throw bad(
                    0,
                    "a QEMU multifd channel, not the migration stream: the source has capability multifd on, which "
                        + "sends the RAM pages on channels of their own; the registry loads one channel (turn multifd off)",
                    expected: "magic 0x5145564d (\"QEVM\")", actual: "0x11223344 (MULTIFD_MAGIC)")
            }
            throw bad(
                0, "not a QEMU migration stream", expected: "magic 0x5145564d (\"QEVM\")",
                actual: hex(UInt64(header.magic), width: 4))
        }
        guard header.isSupportedVersion else {
            throw bad(
                4, version == 2 ? "version 2 streams are not supported" : "unsupported stream version",
                expected: "3", actual: "\(version)")
        }
        // The machine type the registry expects sends the configuration section (all but
        // pc-i440fx-2.3, pseries-2.3 and older): a stream without one is refused, as QEMU's destination of
        // that machine type refuses it.
        if let expected = registry.expectedMachineType,
            QEMUStreamRules.forMachine(expected, version: registry.streamVersion).configuration,
            let first = file.peek(1)?.first, first != StreamFormat.configuration
        {
            throw VMStateError(
                .machineMismatch, offset: file.position,
                reason: "Configuration section missing (QEMU writes none only for pc-i440fx-2.3, pseries-2.3 and "
                    + "older machine types, and the registry expects machine type \"\(expected)\")",
                expected: "the configuration section (0x07)", actual: hexByte(first))
        }
        let headerEnd = file.position
        while true {
            let at = file.position
            // A section's bytes stay in the file's window until it is known whether they are kept.
            file.mark = at
            file.context = nil
            guard let type = file.getByte() else {
                throw VMStateError(.shortInput, offset: at, reason: "stream ended before its EOF marker")
            }
            switch type {
            case StreamFormat.configuration:
                // QEMU reads the configuration section right after the header or not at all: in its
                // loop of sections the type is unknown (QEMU 7.2 and 10.0).
                guard at == headerEnd else {
                    throw bad(
                        at,
                        "a configuration section after " + (hadConfiguration ? "another one" : "other records")
                            + ": QEMU reads it only right after the stream's header (\"Unknown savevm section type 7\")",
                        expected: "a section type other than 0x07 here", actual: hexByte(type))
                }
                try configuration()
            case StreamFormat.sectionStart, StreamFormat.sectionFull:
                // Early-setup sections come before the first PART. A FULL section after one is of
                // the complete phase also without a RAM END: a background snapshot (capability
                // background-snapshot, QEMU 7.2 and 10.0) writes its device sections straight
                // after its last PART and never ends the RAM section.
                if type == StreamFormat.sectionFull && iterating { completePhase = true }
                try sectionWithHeader(type: type, start: at)
            case StreamFormat.sectionPart, StreamFormat.sectionEnd:
                if type == StreamFormat.sectionEnd { completePhase = true } else { iterating = true }
                try sectionPart(start: at)
            case StreamFormat.command: try command(at)
            case StreamFormat.eof:
                // QEMU writes the vmdesc (0x06) or nothing after EOF. A zero byte there makes
                // this "EOF" one of the zero bytes a save that died leaves in its preallocated
                // file (docs/C-API.md, vmstate_registry_set_direct_io).
                if file.peek(1)?.first == 0 {
                    throw VMStateError(
                        .shortInput, offset: at,
                        reason:
                            "the stream ends in zero bytes here (0x00 where a section or the EOF marker is read, "
                            + "then 0x00 instead of the vmdesc's 0x06): it was cut short, as the preallocated file "
                            + "of a save that did not finish is")
                }
                try checkSkippedEarly()
                try checkPageSizeAfterRAM(vmdescAt: at + 1)
                return
            case StreamFormat.footer where footers == false:
                throw bad(
                    at,
                    "a section footer in a stream whose first section ended without one (written with "
                        + "-global migration.send-section-footer=off, every section lacks it); the section before has "
                        + "a different length, or the stream mixes both",
                    expected: "a section type (0x00-0x08)", actual: hexByte(type))
            default:
                throw bad(at, "unexpected section type", expected: "a section type (0x00-0x08)", actual: hexByte(type))
            }
        }
    }

    // MARK: configuration

    private func configuration() throws(VMStateError) {
        hadConfiguration = true
        let len = Int(try read(ConfigurationHeader.LengthDecoder()) { _ in "configuration length" })
        let at = file.position
        guard len <= 255 else {
            throw bad(
                at, "bad machine type in the configuration section", expected: "a name of at most 255 bytes",
                actual: "\(len) bytes")
        }
        // SAFETY: `take(len)` hands `len` window bytes, copied at once.
        guard let name = file.take(len, { Array(UnsafeRawBufferPointer(start: $0, count: len)) }) else {
            throw shortStream("\(len)-byte machine type", at: at)
        }
        // QEMU writes its machine type's name as a C string: a NUL byte in it is a length that
        // took in what follows (the RAM's START), which would otherwise be read on as sections.
        if let nul = name.firstIndex(of: 0) {
            throw bad(
                at + nul,
                "bad machine type in the configuration section: a NUL byte in its name, which QEMU writes "
                    + "as a C string (the length before it, \(len), is damaged)", expected: "a name without NUL bytes",
                actual: "a NUL byte after \(nul) bytes")
        }
        let machine = String(decoding: name, as: UTF8.self)
        // Compared as bytes, as QEMU compares them (`configuration_post_load`, migration/savevm.c):
        // two names that are not UTF-8 may decode alike.
        if let expected = registry.expectedMachineTypeBytes, expected != name {
            throw VMStateError(
                .machineMismatch, offset: at, reason: "the stream is for another machine type",
                expected: "\"\(showingBytesNotUTF8(expected))\"", actual: "\"\(showingBytesNotUTF8(name))\"")
        }
        machineType = machine
        machineTypeBytes = name
        // Configuration subsections (QEMU 7.2: target-page-bits, capabilities, uuid): kept as bytes.
        let extraStart = file.position
        file.mark = extraStart
        // Held (its bytes are written back by the next save) within the limit of any held part.
        file.markLimit = Self.heldLimit
        defer { file.markLimit = nil }
        while true {
            guard
                let (header, headerLength) = file.peekDecode(ConfigurationSubsectionHeader.Decoder(withVersion: false))
            else {
                // The input ends inside a subsection's header (its 0x05 is there): a cut, read
                // to say where, not a 0x05 taken for the next section's type.
                if file.peek(1)?.first == StreamFormat.subsection {
                    _ = try read(ConfigurationSubsectionHeader.Decoder()) { _ in "configuration subsection header" }
                }
                break
            }
            guard header.isSubsection else { break }
            let sub = header.name
            guard sub.hasPrefix("configuration") else { break }
            let subStart = file.position
            let versionAt = subStart + headerLength
            let full = try read(ConfigurationSubsectionHeader.Decoder()) { _ in "configuration subsection header" }
            let kind = ConfigurationSubsection(name: sub)
            if kind != nil { try checkConfigurationVersion(sub, full.version ?? 0, at: versionAt) }
            switch kind {
            case .targetPageBits?:
                let bitsAt = file.position
                let bits = try read(ConfigurationSubsection.PageBitsDecoder()) { _ in "target page bits" }
                // QEMU's post_load of the subsection: the source's page size must be the local one.
                guard bits == UInt32(StreamFormat.pageSize.trailingZeroBitCount) else {
                    throw bad(
                        bitsAt,
                        "Received TARGET_PAGE_BITS is \(bits) but local is \(StreamFormat.pageSize.trailingZeroBitCount)",
                        expected: "\(StreamFormat.pageSize.trailingZeroBitCount) (4 KiB pages)", actual: "\(bits)")
                }
            case .uuid?: file.skip(ConfigurationSubsection.uuid.fixedSize ?? 0)
            case .capabilities?:
                let count = try read(ConfigurationSubsection.CountDecoder()) { _ in "capability count" }
                for _ in 0..<count {
                    let nameAt = file.position
                    let capability: String
                    do throws(VMStateError) {
                        capability = try read(ConfigurationSubsection.CapabilityDecoder()) { _ in "capability name" }
                    } catch {
                        guard file.markLimitReached else { throw error }
                        throw bad(
                            extraStart,
                            "the configuration section's subsections take more than \(Self.heldLimit) bytes "
                                + "(\(capabilityCount) capability entries so far)",
                            expected: "a few capabilities (QEMU validates fewer than ten)")
                    }
                    try checkCapability(capability, at: nameAt)
                    capabilityCount += 1
                    if capabilitySet.insert(capability).inserted { capabilities.append(capability) }
                }
            case nil:
                throw bad(subStart, "unknown configuration subsection \"\(sub)\"")
            }
            configurationSubsections.append(sub)
            if file.errorCode != 0 { throw shortStream("configuration subsection") }
        }
        // QEMU's configuration_pre_load: without the subsection, the source's page bits are the
        // target's minimum, which its post_load then compares with the local page bits.
        let pageBits = StreamFormat.pageSize.trailingZeroBitCount
        if registry.targetPageBitsMinimum < pageBits,
            !configurationSubsections.contains(ConfigurationSubsection.targetPageBits.name)
        {
            throw bad(
                file.position,
                "Received TARGET_PAGE_BITS is \(registry.targetPageBitsMinimum) but local is \(pageBits) (the "
                    + "configuration has no target-page-bits subsection, so the source's pages are the target's "
                    + "smallest, vmstate_registry_set_target_page_bits_min)",
                expected: "configuration/target-page-bits")
        }
        configurationExtra = file.bytes(from: extraStart, to: file.position)
        file.mark = nil
        ramState.ignoreShared = capabilitySet.contains("x-ignore-shared")
        ramState.mappedRAM = capabilitySet.contains("mapped-ram")
        // 4 KiB pages for sure: a target-page-bits subsection (checked above to be 12), or an
        // x86 machine type (QEMU's x86 pages are 4 KiB, never sent).
        if configurationSubsections.contains(ConfigurationSubsection.targetPageBits.name)
            || Self.isX86MachineType(machineType ?? "")
        {
            ramState.pageSizeConfirmed = true
        }
    }

    /// Whether `name` is one of QEMU's x86 machine types (pc, pc-i440fx-*, pc-q35-*, q35,
    /// isapc, microvm, xenfv, xenpv).
    static func isX86MachineType(_ name: String) -> Bool {
        name.hasPrefix("pc-") || ["pc", "q35", "isapc", "microvm", "xenfv", "xenpv"].contains(name)
    }

    /// A configuration subsection's version, as QEMU's `vmstate_subsection_load` takes it (the
    /// be32's low byte): each of them is version 1, minimum 1, in QEMU 7.2 to 10.0.
    private func checkConfigurationVersion(_ name: String, _ version: UInt32, at: Int) throws(VMStateError) {
        let low = version & 0xFF
        if low > 1 {
            throw VMStateError(
                .versionTooNew, offset: at, reason: "incoming version \(low) is too new for \(name)",
                expected: "at most 1", actual: "\(low)")
        }
        if low < 1 {
            throw VMStateError(
                .versionTooOld, offset: at, reason: "incoming version \(low) is too old for \(name)",
                expected: "at least 1", actual: "\(low)")
        }
    }

    /// A capability of the configuration section: those QEMU 7.2 and 10.0 validate
    /// (`x-ignore-shared`, `mapped-ram`), not both at once.
    private func checkCapability(_ name: String, at: Int) throws(VMStateError) {
        guard QEMUStreamRules.validatedCapabilities(.qemu10_0).contains(name) else {
            throw bad(
                at, "unknown capability \"\(name)\" in the configuration section",
                expected: "x-ignore-shared or mapped-ram")
        }
        if name == "mapped-ram" && capabilitySet.contains("x-ignore-shared")
            || name == "x-ignore-shared" && capabilitySet.contains("mapped-ram")
        {
            throw bad(at, "the capabilities x-ignore-shared and mapped-ram together are not supported")
        }
    }

    // MARK: commands

    /// A command record (0x08): be16 command, be16 payload length, payload. Only
    /// MIG_CMD_SWITCHOVER_START with length 0 is accepted, as QEMU 10.0 does in a precopy stream.
    private func command(_ at: Int) throws(VMStateError) {
        let record = try read(CommandRecord.Decoder()) { _ in "command record" }
        let (command, length) = (record.command, record.length)
        guard let name = QEMUStreamRules.loadableCommands[command] else {
            let what = QEMUStreamRules.commandNames[command].map { " \($0.name) (\($0.writer))" } ?? ""
            throw bad(
                at, "unsupported command \(command) (0x\(String(command, radix: 16)))\(what) in the stream",
                expected: "MIG_CMD_SWITCHOVER_START (11), the only command loaded",
                actual: "command \(command), payload length \(length)")
        }
        guard length == 0 else {
            throw bad(
                at, "\(name) received with bad length - expecting 0, got \(length)", expected: "0",
                actual: "\(length)")
        }
        // QEMU 10.0 sends the command and a configuration section for every machine type, unless
        // told not to (`-global migration.send-configuration=off`: its own migrations then fail,
        // the source stopping on an assertion as it writes the vmdesc); QEMU 7.2, whose machine
        // types 2.3 and older send none, does not know the command.
        guard hadConfiguration else {
            throw bad(
                at,
                "\(name) in a stream without a configuration section: QEMU 10.0, which sends the command, sends "
                    + "the configuration for every machine type (its migrations with send-configuration=off fail), "
                    + "and QEMU 7.2 refuses the command (\"MIG_CMD 0xb unknown (len 0x0)\")")
        }
        hadSwitchoverStart = true
        completePhase = true
        file.mark = nil
    }

    // MARK: sections

    private func sectionWithHeader(type: UInt8, start: Int) throws(VMStateError) {
        let header = try read(SectionHeader.Decoder()) { shortfall in
            // Cut after the idstr: the section is named (with its instance id once that was read,
            // a cut in the version id).
            if let name = shortfall.context {
                file.context = VMStateError.sectionLabel(name, shortfall.instanceID)
            }
            switch shortfall.field {
            case .sectionID: return "section id"
            case .instanceID: return "instance id"
            case .versionID: return "version id"
            default: return "section idstr"
            }
        }
        let (sectionID, idstr, instanceID) = (header.sectionID, header.name, header.instanceID)
        let label = VMStateError.sectionLabel(idstr, instanceID)
        file.context = label
        let version = Int32(bitPattern: header.versionID)

        if idstr == "ram" {
            let registered = !registry.ramBlocks.isEmpty
            // QEMU registers its RAM section as instance 0 and finds sections by idstr and instance.
            guard instanceID == 0 else {
                throw bad(
                    file.position - 8, "Unknown savevm section or instance 'ram' \(instanceID)",
                    expected: "instance 0 (QEMU's RAM section)", actual: "instance \(instanceID)")
            }
            guard version == 4 else {
                throw bad(file.position - 4, "unsupported ram section version", expected: "4", actual: "\(version)")
            }
            try checkVMDescPageSize(at: start)
            ramSections[sectionID] = (registered, label)
            sawIterative = true
            // RAM is never held: only an unregistered RAM section that is kept stays marked.
            if !(keeping && !registered) { file.mark = nil }
            if registered && !layout.contains(where: { if case .ram = $0 { return true } else { return false } }) {
                layout.append(.ram(sectionID: sectionID))
            }
            try ramPart(registered: registered, start: start)
            try footer(sectionID, idstr: idstr)
            if !registered && keeping { try keepIterativePart(from: start, orFail: keptRAMTooLarge(start)) }
            return
        }
        if type == StreamFormat.sectionStart, let kind = OtherIterativeSection(idstr: idstr, instanceID: instanceID) {
            guard skipping else {
                throw VMStateError(
                    .unknownSection, offset: start,
                    reason:
                        "iterative section \"\(idstr)\" is not loaded (only \"ram\" is): VMSTATE_LOAD_SKIP_UNKNOWN reads "
                        + "past it, VMSTATE_LOAD_KEEP_UNKNOWN keeps it for the next save")
            }
            guard UInt32(bitPattern: version) == kind.version else {
                throw bad(
                    file.position - 4, "unsupported \(idstr) section version", expected: "\(kind.version)",
                    actual: "\(version)")
            }
            otherIterative[sectionID] = (kind, idstr, label)
            sawIterative = true
            try otherIterativePart(kind, sectionID: sectionID, idstr: idstr, start: start)
            return
        }
        guard type == StreamFormat.sectionFull else {
            throw bad(start, "iterative section \"\(idstr)\" is not supported (only \"ram\" is)")
        }
        // (Which of the stream's sections of this idstr and instance it is, from 0: the vmdesc
        // describes each apart, VMDescIndex.device.)
        let key = SectionKey(idstr: idstr, instanceID: instanceID)
        let occurrence = sectionCopies[key, default: 0]
        sectionCopies[key] = occurrence + 1
        if let index = registry.device(idstr, instanceID) {
            file.mark = nil
            let device = registry.devices[index]
            // A device section twice loads the device twice, as QEMU does (find_se: QEMU 7.2's
            // isapc saves both isa-ide channels as instance 0), where its description writes
            // only over its struct; one that allocates or fills lists would leak its first
            // allocations or append to its lists twice: a checked load refuses it.
            if loadGuard != nil, loadedDevices.contains(index) {
                let inPlace =
                    (try? Planner.holding { () throws(VMStateError) in
                        try Planner.plan(device.vmsd).reloadsInPlace
                    }) ?? false
                guard inPlace else {
                    throw bad(
                        start,
                        "section \"\(idstr)\" instance \(instanceID) appears twice, and its description allocates, "
                            + "fills lists or trees, or has a custom get: a second load would leak or add to what the "
                            + "first made")
                }
            }
            loadingDevice = index
            loadGuard?.loading(device.opaque, size: device.size)
            defer { loadGuard?.loading(nil, size: nil) }
            let dataStart = file.position
            do throws(VMStateError) {
                // SAFETY: the registered table and struct (Registry.Device's contract); the guard bounds writes
                // to the struct's size when it is known.
                try VMStateEngine.load(file, device.vmsd, device.opaque, version: version, guard: loadGuard)
            } catch {
                var e = error
                // The section's version refused before any data: at its be32 in the header.
                if e.kind == .versionTooNew || e.kind == .versionTooOld, e.offset == dataStart {
                    e.offset = dataStart - 4
                }
                throw e.inSection(idstr, instanceID)
            }
            // (Still the device being loaded at its footer: a bad footer fails the load after the
            // device's fields were all loaded.)
            try footer(sectionID, idstr: idstr, dataStart: dataStart)
            loadingDevice = nil
            layout.append(.device(index: index, sectionID: sectionID))
            loadedDevices.insert(index)
            return
        }
        guard skipping else { throw unknown(idstr, instanceID, start) }
        // QEMU 10.0 writes early-setup sections (a vmsd with early_setup, as virtio-mem's
        // "virtio-mem-device-early") after the RAM section's START and before its pages: reading
        // on to the vmdesc from here would hold the RAM. Over a stream source the section ends at
        // its footer instead (without footers, at the next section's header), and the vmdesc
        // checks its length when it arrives. When the input
        // ends first, all of it is at hand: the section is read as from a buffer, by the vmdesc.
        if sawIterative && !completePhase && footers != nil && !file.inputEnded,
            try skipToItsEnd(
                sectionID: sectionID, idstr: idstr, instanceID: instanceID, occurrence: occurrence, start: start)
        {
            return
        }
        let index: VMDescIndex
        let vmdescMarker: Int
        switch streamVMDesc {
        case .found(let found, let marker): (index, vmdescMarker) = (found, marker)
        case .overLimit:
            throw VMStateError(
                .unknownSection, offset: start,
                reason:
                    "cannot skip section \"\(idstr)\" instance \(instanceID): more than \(Self.heldLimit >> 20) MiB of "
                    + "stream follow it before the vmdesc that gives its size")
        case .none, .unreadable:
            throw noVMDesc(idstr: idstr, instanceID: instanceID, start: start)
        case .failed:
            throw VMStateError(
                .shortInput, offset: file.position,
                reason: "the stream failed while reading on to the vmdesc that gives the size of section \"\(idstr)\"")
        }
        guard let entry = index.device(idstr, instanceID, occurrence: occurrence) else {
            throw notInVMDesc(idstr, instanceID, occurrence: occurrence, index: index, at: start)
        }
        let bodyStart = file.position
        // The section ends before the EOF byte ahead of the vmdesc (read on into the window or
        // not: a stream source may not have ended).
        let left = min(file.remaining, max(0, vmdescMarker - 1 - bodyStart))
        // The stream holds the section whole (its EOF marker and vmdesc came): a size that does
        // not reach its footer is the vmdesc's fault, one that does not describe the section.
        let undescribed =
            "cannot skip section \"\(idstr)\" instance \(instanceID): the stream's vmdesc does not describe it "
        let why =
            " (QEMU 7.2 and 10.0 give an array of pointers with NULL entries a wrong size: VMS_ARRAY_OF_POINTER), "
            + "or the section is damaged"
        guard entry.size <= left else {
            throw VMStateError(
                .unknownSection, offset: bodyStart,
                reason: undescribed + "(it gives more bytes than come before the EOF marker)" + why,
                expected: "\(entry.size) bytes", actual: "\(left) left before the EOF marker")
        }
        file.skip(entry.size)
        let end = file.position
        do throws(VMStateError) {
            try footer(sectionID, idstr: idstr)
        } catch  where error.kind == .badStream && file.bytes(from: end, to: end + 1) != [StreamFormat.footer] {
            // (A footer marker there with another section's id: the stream's bytes were changed.)
            var e = error
            e.kind = .unknownSection
            e.reason = undescribed + "(its footer is not where the vmdesc's \(entry.size) bytes end)" + why
            throw e
        }
        if keeping { keep(from: start, vmdesc: entry.json, early: sawIterative && !completePhase) }
        file.mark = nil
    }

    /// The error of a stream whose vmdesc is missing or unreadable (``streamVMDesc`` is `.none`
    /// or `.unreadable`), for the first section that needed it to be skipped: the first one
    /// skipped to its end (``skippedEarly``), which a buffer load fails at, else the
    /// section `idstr` at `start`. `atEOFMarker`: the EOF marker was just read, after a whole
    /// section, and nothing follows it (the window of a stream source may no longer hold the
    /// section's footer before it, which tells that from a stream cut on a 0x00).
    private func noVMDesc(idstr: String, instanceID: UInt32, start: Int, atEOFMarker: Bool = false) -> VMStateError {
        let (idstr, instanceID, start) =
            skippedEarly.first.map { ($0.idstr, $0.instanceID, $0.start) } ?? (idstr, instanceID, start)
        // A stream cut inside its vmdesc is an early end, even where a 0x06 and a length that
        // reaches the end turned up by chance in the bytes before (device data, a RAM page) and
        // were taken for an unreadable vmdesc: one QEMU wrote follows the EOF marker and starts
        // with `{`.
        // (With footers, the EOF marker, at `eof`, follows the last section's footer: 0x7E and a
        // be32 section id. A vmdesc's JSON is an object, of at most 64 MiB.)
        func followsFooter(_ bytes: UnsafeRawBufferPointer, eof: Int) -> Bool {
            footers != true || (eof >= 5 && bytes[eof - 5] == StreamFormat.footer)
        }
        let cutVMDesc = file.withAllBytes { bytes in
            VMDescRecord.locateCut(bytes).flatMap { cut in
                followsFooter(bytes, eof: cut.markerOffset - 1) && (cut.jsonLength ?? 0) <= Self.heldLimit ? cut : nil
            }
        }
        // A vmdesc that is whole but does not parse: one that ends the input and starts as an
        // object, or JSON text of any shape (an array, a number, a length a few bytes short of
        // its text) from a marker on to the end.
        let plausible = file.withAllBytes { bytes -> Bool in
            if let record = VMDescRecord.locateAtEnd(bytes), record.markerOffset >= 1,
                bytes[record.markerOffset - 1] == StreamFormat.eof, record.jsonLength >= 2,
                bytes[record.jsonOffset] == UInt8(ascii: "{"), followsFooter(bytes, eof: record.markerOffset - 1)
            {
                return true
            }
            guard let record = VMDescRecord.locateWholeText(bytes) else { return false }
            return followsFooter(bytes, eof: record.markerOffset - 1)
        }
        var refusal: String?
        if case .unreadable(let why) = streamVMDesc { refusal = why }
        if cutVMDesc == nil, plausible {
            return VMStateError(
                .unknownSection, offset: start,
                reason:
                    "cannot skip section \"\(idstr)\" instance \(instanceID): the stream's vmdesc, which gives its size, "
                    + (refusal.map { "was refused: \($0)" }
                        ?? "cannot be read (it is not a device description as QEMU writes one)"))
        }
        // Cut short is an early end; ending at EOF without a vmdesc (QEMU's suppress-vmdesc)
        // leaves the section without a size. The EOF marker is a 0x00, as most bytes of a cut
        // device state are: with footers, a stream that ends at EOF ends with the last
        // section's footer and that 0x00.
        let endsAtEOF =
            atEOFMarker
            || file.withAllBytes { bytes in bytes.last == StreamFormat.eof && followsFooter(bytes, eof: bytes.count - 1)
            }
        if let cut = cutVMDesc {
            let whole = cut.jsonLength.map { ", \($0) bytes of JSON" } ?? ""
            let marker = file.windowStartOffset + cut.markerOffset
            return VMStateError(
                .shortInput, offset: file.count,
                reason:
                    "the stream ended (cut short) inside its vmdesc (at byte \(marker)\(whole)), which "
                    + "gives the size of section \"\(idstr)\" instance \(instanceID) (at byte \(start)): it cannot be "
                    + "skipped without it")
        }
        if !endsAtEOF {
            return VMStateError(
                .shortInput, offset: file.count,
                reason:
                    "the stream ended (cut short) before the vmdesc that gives the size of section \"\(idstr)\" "
                    + "instance \(instanceID) (at byte \(start)), which cannot be skipped without it")
        }
        return VMStateError(
            .unknownSection, offset: start,
            reason:
                "cannot skip section \"\(idstr)\" instance \(instanceID): the stream ends at its EOF marker without "
                + "the vmdesc that gives its size (written without one, as with QEMU's suppress-vmdesc, or cut "
                + "short right after that marker)")
    }

    /// An early-setup section skipped to its end (``skipToItsEnd(sectionID:idstr:instanceID:start:)``),
    /// checked against the vmdesc at the end of the stream (``checkSkippedEarly()``).
    private struct SkippedEarly {
        let idstr: String
        let instanceID: UInt32
        /// Which of the stream's sections of that idstr and instance it is (from 0).
        let occurrence: Int
        /// Where its section header and its data start.
        let start: Int
        let dataStart: Int
        /// Bytes of data, as the footer showed.
        let size: Int
        /// Its entry in ``layout`` when kept (its vmdesc entry is added there once known).
        let layoutIndex: Int?
    }
    private var skippedEarly: [SkippedEarly] = []
    /// How many device sections of each idstr and instance the stream has had so far.
    private var sectionCopies: [SectionKey: Int] = [:]

    /// Skips (or keeps) the unknown section whose data starts at the cursor, up to its footer:
    /// the first 0x7e and be32 `sectionID` followed by another section's header (a PART or END
    /// of a section that started, or a START or FULL with an idstr of printable ASCII) or by
    /// QEMU 10.0's SWITCHOVER_START command (`08 00 0b 00 00`), within
    /// ``heldLimit`` bytes. In a stream without footers (`-global
    /// migration.send-section-footer=off`) the section ends where such a header starts, with
    /// more to show it: a RAM PART or END is followed by a RAM record QEMU writes first in it (an
    /// EOS, or a page record that names a block of the stream's RAM), a START or FULL has an
    /// instance and a version below 65,536. Section data that holds such bytes would be cut
    /// there: the vmdesc's size for the section, when it arrives, tells. False, with nothing
    /// read past the cursor, when the input ends before such an end (a footer, the longest
    /// header, and a RAM record's word and block name: 5 + 270 + 264 bytes): all the rest is at
    /// hand then, and the caller reads the section by the vmdesc as a buffer load does (a footer
    /// with a damaged id, a stream cut short, no vmdesc).
    private func skipToItsEnd(
        sectionID: UInt32, idstr: String, instanceID: UInt32, occurrence: Int, start: Int
    ) throws(VMStateError) -> Bool {
        let dataStart = file.position
        let hasFooters = footers == true
        let blockNames = Set(registry.ramBlocks.map(\.idstr) + keptRAMBlocks.map(\.name))
        // A RAM record QEMU writes first in a PART or END after the setup phase: EOS, or a page
        // record naming its block (QEMU's last sent block is reset at setup).
        func firstRAMRecord(_ bytes: UnsafeRawBufferPointer) -> Bool? {
            guard case .record(let word, let length) = RAMRecordWord.Decoder().decode(bytes) else { return nil }
            if word.word == StreamFormat.RAMFlag.eos { return true }
            guard RAMFlagRules.isOneKind(word.flags), word.namesBlock else { return false }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[length...])
            guard case .record(let block, _) = RAMRecordWord.BlockNameDecoder().decode(rest) else { return nil }
            return block.isUTF8 && blockNames.contains(block.name)
        }
        // This section's end at `i` of `view`: its footer (in a stream with footers) and then
        // another section's header or SWITCHOVER_START (between the RAM's START and its END no
        // EOF or other command comes): true or false, nil when `view` ends first (never with 539
        // bytes from `i`).
        func endsAt(_ view: UnsafeRawBufferPointer, _ i: Int) -> Bool? {
            var rest = UnsafeRawBufferPointer(rebasing: view[i...])
            if hasFooters {
                guard view[i] == StreamFormat.footer else { return false }
                guard case .record(let footer, let length) = SectionFooter.Decoder().decode(rest) else { return nil }
                guard footer.closes(sectionID) else { return false }
                rest = UnsafeRawBufferPointer(rebasing: rest[length...])
            }
            guard let type = rest.first else { return nil }
            let header = UnsafeRawBufferPointer(rebasing: rest[1...])
            switch type {
            case StreamFormat.sectionPart, StreamFormat.sectionEnd:
                guard case .record(let part, let length) = SectionPartHeader.Decoder().decode(header) else {
                    return nil
                }
                if otherIterative[part.sectionID] != nil { return true }
                guard ramSections[part.sectionID] != nil else { return false }
                return hasFooters ? true : firstRAMRecord(UnsafeRawBufferPointer(rebasing: header[length...]))
            case StreamFormat.sectionStart, StreamFormat.sectionFull:
                guard case .record(let next, _) = SectionHeader.Decoder().decode(header) else { return nil }
                let small = hasFooters || (next.instanceID <= 0xFFFF && next.versionID <= 0xFFFF)
                return small && !next.idstr.isEmpty && next.idstr.allSatisfy { (0x21...0x7E).contains($0) }
            case StreamFormat.command:
                // QEMU 10.0's SWITCHOVER_START (be16 command 11, be16 length 0), where the
                // setup phase is followed by no RAM PART (this library's saves send none).
                guard case .record(let next, _) = CommandRecord.Decoder().decode(header) else { return nil }
                return next.command == QEMUStreamRules.switchoverStartCommand && next.length == 0
            default:
                return false
            }
        }
        // A footer, the longest header after it, and a RAM record's word and longest block name.
        let lookahead = 5 + 270 + 8 + 256
        let end = hasFooters ? "footer" : "end (the next section's header)"
        var size: Int?
        var from = 0  // data offsets before this have been ruled out
        while size == nil {
            // Every byte at hand, and at least `lookahead` past `from`, read as they come: a
            // source may send no more until these are read.
            let have = max(file.buffered, from + lookahead)
            guard have <= Self.heldLimit else {
                throw VMStateError(
                    .unknownSection, offset: start,
                    reason:
                        "cannot skip section \"\(idstr)\" instance \(instanceID): no \(end) of it within "
                        + "\(Self.heldLimit >> 20) MiB, where the RAM's pages follow (the vmdesc that gives its size "
                        + "comes after them)")
            }
            guard let view = file.peek(have) else {
                if file.inputEnded { return false }
                throw VMStateError(
                    .shortInput, offset: file.position + file.buffered,
                    reason: "the stream ended inside section \"\(idstr)\" instance \(instanceID), before its \(end)")
            }
            var i = from
            while size == nil && i + lookahead <= view.count {
                if endsAt(view, i) ?? false { size = i }
                i += 1
            }
            from = i
        }
        file.skip(size!)
        try footer(sectionID, idstr: idstr)
        var layoutIndex: Int?
        if keeping {
            layoutIndex = layout.count
            keep(from: start, vmdesc: nil, early: true)
        }
        file.mark = nil
        skippedEarly.append(
            SkippedEarly(
                idstr: idstr, instanceID: instanceID, occurrence: occurrence, start: start, dataStart: dataStart,
                size: size!, layoutIndex: layoutIndex))
        return true
    }

    /// At the EOF marker: each section skipped to its end has the size the stream's vmdesc
    /// gives it (kept ones get their vmdesc entry, for the next save). A stream without a vmdesc
    /// (QEMU's `suppress-vmdesc`, or cut right after the EOF marker) is refused as a buffer load
    /// refuses it, at the first such section: nothing tells its size (and a kept one would be
    /// saved again with no vmdesc entry).
    private func checkSkippedEarly() throws(VMStateError) {
        guard !skippedEarly.isEmpty else { return }
        guard case .found(let index, _) = streamVMDesc else {
            if case .failed = streamVMDesc {
                throw VMStateError(
                    .shortInput, offset: file.position, reason: "the stream failed while reading its vmdesc")
            }
            let first = skippedEarly[0]
            throw noVMDesc(
                idstr: first.idstr, instanceID: first.instanceID, start: first.start,
                atEOFMarker: file.remaining == 0 && file.inputEnded)
        }
        for skipped in skippedEarly {
            let label = VMStateError.sectionLabel(skipped.idstr, skipped.instanceID)
            guard let entry = index.device(skipped.idstr, skipped.instanceID, occurrence: skipped.occurrence) else {
                throw notInVMDesc(
                    skipped.idstr, skipped.instanceID, occurrence: skipped.occurrence, index: index, at: skipped.start)
            }
            guard entry.size == skipped.size else {
                throw VMStateError(
                    .badStream, offset: skipped.dataStart,
                    reason:
                        "\(label), skipped up to the first bytes that read as "
                        + (footers == true ? "its footer" : "the next section's header")
                        + ", has another length in the "
                        + "stream's vmdesc (its data holds those bytes, or the vmdesc is not this stream's)",
                    expected: "\(entry.size) bytes", actual: "\(skipped.size)")
            }
            if let i = skipped.layoutIndex, case .keptEarly(let bytes, _) = layout[i] {
                layout[i] = .keptEarly(bytes: bytes, vmdesc: entry.json)
            }
        }
    }

    private func sectionPart(start: Int) throws(VMStateError) {
        let sectionID = try read(SectionPartHeader.Decoder()) { _ in "section id" }.sectionID
        if let other = otherIterative[sectionID] {
            file.context = other.label
            try otherIterativePart(other.kind, sectionID: sectionID, idstr: other.idstr, start: start)
            return
        }
        guard let (registered, label) = ramSections[sectionID] else {
            throw bad(start, "part of section \(sectionID), which never started")
        }
        file.context = label
        if !(keeping && !registered) { file.mark = nil }
        try ramPart(registered: registered, start: start)
        try footer(sectionID, idstr: "ram")
        if !registered && keeping { try keepIterativePart(from: start, orFail: keptRAMTooLarge(start)) }
    }

    /// QEMU always has a "ram" handler, so a stream's RAM never counts as an unknown section:
    /// with no RAM registered its first block fails as not registered (`VMStateError.ram`),
    /// also under SKIP_UNKNOWN. Only KEEP_UNKNOWN reads past it unloaded, kept and written back
    /// by the next save.
    ///
    /// The RAM kept so is held in memory: at most ``heldLimit`` bytes of stream in all, else the
    /// load fails (``keptRAMTooLarge(_:)``) before holding more.
    private func ramPart(registered: Bool, start: Int) throws(VMStateError) {
        let blocks: [Registry.RAMBlock]? = registered ? registry.ramBlocks : (keeping ? nil : [])
        if blocks == nil { file.markLimit = Self.heldLimit - keptIterative }
        defer { file.markLimit = nil }
        do throws(VMStateError) {
            try RAMCodec.loadPart(file, blocks: blocks, state: &ramState)
        } catch {
            throw file.markLimitReached ? keptRAMTooLarge(start) : error
        }
    }

    /// Refuses, before its RAM is read, a stream whose input is all in memory (a load from a
    /// buffer) and whose vmdesc gives a target page size other than 4 KiB: its RAM records
    /// would misread at 4 KiB (a 1 KiB page of an ARM board read as 4 KiB swallows the records
    /// after it; sparc64's 8 KiB page leaves half a page to read as a record). QEMU sends the
    /// page size only where it is above the target's minimum (target-page-bits); a stream read
    /// from a GIO stream has its vmdesc last, unread here. The vmdesc is looked for in the last
    /// 64 MiB of the input only (the most a load parses).
    private func checkVMDescPageSize(at start: Int) throws(VMStateError) {
        guard file.inputEnded, !checkedPageSize else { return }
        checkedPageSize = true
        let pageSize = file.withAllBytes { all -> Int? in
            guard let record = VMDescRecord.locateAtEnd(all, lowest: max(0, all.count - Self.heldLimit - 5)) else {
                return nil
            }
            var refusal: String?
            let json = UnsafeRawBufferPointer(rebasing: all[record.jsonOffset...])
            // A vmdesc the parser refuses (its depth, on a thread with little stack left) still
            // gives its page_size, which QEMU writes before the devices.
            return VMDescIndex.parse(json, refusal: &refusal, texts: { _, _ in false })?.pageSize
                ?? Self.pageSize(inVMDescHead: Array(json.prefix(Self.pageSizeLookahead)))
        }
        ramState.pageSizeConfirmed = pageSize == StreamFormat.pageSize
        guard let pageSize, pageSize != StreamFormat.pageSize else { return }
        throw otherPageSize(pageSize, at: start)
    }
    private var checkedPageSize = false

    /// The refusal of a stream whose vmdesc gives `pageSize` (not 4 KiB), at `at`; `afterRAM`:
    /// found only after its RAM was loaded.
    private func otherPageSize(_ pageSize: Int, at: Int, afterRAM: Bool = false) -> VMStateError {
        bad(
            at,
            "the stream's RAM pages are \(pageSize) bytes (its vmdesc's page_size: a target whose pages are not "
                + "4 KiB), which the registry's 4 KiB pages do not load"
                + (afterRAM
                    ? "; read from a GIO stream, its vmdesc comes after the RAM, which was loaded as 4 KiB pages and "
                        + "is not as the source had it" : ""),
            expected: "\(StreamFormat.pageSize)", actual: "\(pageSize)")
    }

    /// The same refusal at the end of a stream whose RAM was loaded before its vmdesc could be
    /// read (from a GIO stream, whose vmdesc arrives last), before the load completes (so a
    /// transactional load still rolls back): its ZERO records cleared 4 KiB of each larger page
    /// and left the rest as it was. Only the vmdesc's first ``pageSizeLookahead`` bytes are
    /// peeked for `"page_size"`, which QEMU writes before the devices; the vmdesc stays unread.
    private func checkPageSizeAfterRAM(vmdescAt: Int) throws(VMStateError) {
        guard !checkedPageSize, layout.contains(where: { if case .ram = $0 { true } else { false } }) else { return }
        checkedPageSize = true
        guard let head = file.peek(5), head[0] == StreamFormat.vmdesc else { return }
        // SAFETY: `head` holds 5 bytes: the marker, then the be32 length.
        let length = Int(UInt32(bigEndian: head.loadUnaligned(fromByteOffset: 1, as: UInt32.self)))
        guard let text = file.peek(5 + min(length, Self.pageSizeLookahead)).map({ Array($0.dropFirst(5)) }),
            let pageSize = Self.pageSize(inVMDescHead: text), pageSize != StreamFormat.pageSize
        else { return }
        throw otherPageSize(pageSize, at: vmdescAt, afterRAM: true)
    }

    /// How much of a vmdesc ``checkPageSizeAfterRAM(vmdescAt:)`` looks at.
    static let pageSizeLookahead = 4096

    /// The number after the first `"page_size":` of a vmdesc's start, if it is one (QEMU:
    /// `{"page_size": 4096, "devices": ...}`, after `"configuration"` in QEMU 8.2 and later).
    static func pageSize(inVMDescHead text: [UInt8]) -> Int? {
        let key = Array("\"page_size\"".utf8)
        guard text.count >= key.count,
            var i = (0...(text.count - key.count)).first(where: { text[$0..<$0 + key.count].elementsEqual(key) })
        else { return nil }
        i += key.count
        while i < text.count, text[i] == UInt8(ascii: " ") || text[i] == UInt8(ascii: ":") { i += 1 }
        var value = 0
        var digits = 0
        while i < text.count, text[i] >= UInt8(ascii: "0"), text[i] <= UInt8(ascii: "9"), digits < 10 {
            value = value * 10 + Int(text[i] - UInt8(ascii: "0"))
            digits += 1
            i += 1
        }
        return digits > 0 ? value : nil
    }

    /// Stream bytes of RAM kept so far (KEEP_UNKNOWN with no RAM registered), and of the other
    /// iterative sections kept.
    private var keptIterative = 0
    /// The hash table's size as `spapr/htab`'s parts read so far give it.
    private var htab = HTABLoadState()

    /// One part (START, PART or END, its header read) of an iterative section other than RAM:
    /// read past to its footer, and kept (KEEP_UNKNOWN) within ``heldLimit`` with the kept RAM.
    /// QEMU's destination refuses what is refused here (a storage attributes record with the
    /// flag ERROR or unknown flags; a hash table chunk past the table, ``HTABLoadState``).
    private func otherIterativePart(_ kind: OtherIterativeSection, sectionID: UInt32, idstr: String, start: Int)
        throws(VMStateError)
    {
        if keeping {
            file.markLimit = Self.heldLimit - keptIterative
        } else {
            file.mark = nil
        }
        defer { file.markLimit = nil }
        do throws(VMStateError) {
            try otherIterativeData(kind, idstr: idstr)
        } catch {
            throw file.markLimitReached ? keptIterativeTooLarge(idstr, start) : error
        }
        try footer(sectionID, idstr: idstr)
        if keeping { try keepIterativePart(from: start, orFail: keptIterativeTooLarge(idstr, start)) }
    }

    /// The data of one part of `kind`, read past.
    private func otherIterativeData(_ kind: OtherIterativeSection, idstr: String) throws(VMStateError) {
        func skip(_ n: Int, _ what: String) throws(VMStateError) {
            let at = file.position
            guard file.skip(n) else { throw shortStream(what, at: at) }
        }
        switch kind {
        case .htab:
            let at = file.position
            let header = try read(HTABPartHeader.Decoder()) { _ in "HTAB header of section \"\(idstr)\"" }
            if let refusal = htab.take(header) { throw bad(at, refusal) }
            if header.hasChunks {
                while true {
                    let at = file.position
                    let chunk = try read(HTABChunkHeader.Decoder()) { _ in "HTAB chunk header" }
                    if chunk.endsPart { break }
                    if let refusal = htab.refusal(chunk) { throw bad(at, refusal) }
                    try skip(chunk.dataLength, "\(chunk.valid) hash table entries of an HTAB chunk")
                }
            }
        case .storageAttributes:
            readRecords: while true {
                let at = file.position
                let record = try read(StorageAttributesRecord.Decoder()) { _ in "s390 storage attributes record" }
                if let refusal = record.refusal { throw bad(at, refusal) }
                switch record.flags {
                case StorageAttributesRecord.endOfPart: break readRecords
                case StorageAttributesRecord.more:
                    guard let count = record.count, let n = Int(exactly: count) else {
                        throw bad(at + 8, "an s390 storage attributes record of more bytes than a stream holds")
                    }
                    try skip(n, "\(n) s390 storage attribute bytes")
                default: continue  // DONE
                }
            }
        }
    }

    private func keptIterativeTooLarge(_ idstr: String, _ start: Int) -> VMStateError {
        VMStateError(
            .unknownSection, offset: start,
            reason:
                "cannot keep iterative section \"\(idstr)\": VMSTATE_LOAD_KEEP_UNKNOWN holds at most "
                + "\(Self.heldLimit >> 20) MiB of iterative sections in memory (VMSTATE_LOAD_SKIP_UNKNOWN reads past it)"
        )
    }

    /// Keeps the part of an iterative section (RAM or another) that started at `start`,
    /// within ``heldLimit`` in all, else fails with `tooLarge`.
    private func keepIterativePart(from start: Int, orFail tooLarge: @autoclosure () -> VMStateError)
        throws(VMStateError)
    {
        keptIterative += file.position - start
        guard keptIterative <= Self.heldLimit else { throw tooLarge() }
        keep(from: start, vmdesc: nil)
    }

    private func keptRAMTooLarge(_ start: Int) -> VMStateError {
        VMStateError(
            .ram, offset: start,
            reason:
                "cannot keep the stream's RAM, which no registered RAM block takes: VMSTATE_LOAD_KEEP_UNKNOWN holds at "
                + "most \(Self.heldLimit >> 20) MiB of it in memory (register its RAM blocks to load it instead)")
    }

    /// The footer after a section's data. A stream without a configuration section (QEMU 7.2
    /// `pc-i440fx-2.3` and older machine types send neither) has footers when its first section
    /// ends with one. A stream with one has them, unless QEMU was told not to write them
    /// (`-global migration.send-section-footer=off`, which QEMU's destination reads only when set
    /// the same way): that shows where the RAM section's start (whose records, not a table,
    /// give its length) ends, first in QEMU's streams, with the next section's type instead of
    /// the footer. Then no section may have one.
    ///
    /// For a device's section loaded by its description (`dataStart`: where its data began), a
    /// footer found elsewhere near the end of the data is named in the error: how many bytes
    /// more or fewer than the stream holds the description read.
    private func footer(_ sectionID: UInt32, idstr: String, dataStart: Int? = nil) throws(VMStateError) {
        let at = file.position
        if footers == nil {
            let next = file.peek(1)?.first
            if hadConfiguration {
                // Not EOF: QEMU always sends the RAM's END after its START, so a 0x00 there is
                // a damaged footer, not a stream of no more sections.
                footers = !(idstr == "ram" && next.map { StreamFormat.sectionTypes.contains($0) } == true)
            } else {
                footers = next == StreamFormat.footer
            }
        }
        guard footers == true else { return }
        // A subsection's marker where the footer is due, whose header the input does not hold
        // whole: the stream was cut inside that header (the section's loader could not read it),
        // not given a section of another length.
        if file.peek(1)?.first == StreamFormat.subsection,
            file.peek(2).map({ file.peek(2 + Int($0[1]) + 4) == nil }) ?? true
        {
            throw VMStateError(
                .shortInput, offset: at,
                reason:
                    "stream ended inside a subsection header at the end of section \"\(idstr)\" (0x05, the name's length, "
                    + "the name and a be32 version)")
        }
        let footer = try read(SectionFooter.Decoder()) { _ in "section footer" }
        let (marker, id) = (footer.marker, footer.sectionID)
        guard footer.closes(sectionID) else {
            // A footer marker where the data ends but another section's id (QEMU: "Mismatched
            // section id in footer"): the stream's bytes were changed, not the data's length.
            var why = footer.isFooter ? "a footer with another section's id" : "its data has a different length"
            if !footer.isFooter, let dataStart, let hint = misplacedFooter(sectionID, dataStart: dataStart, at: at) {
                why += ": " + hint
            }
            throw VMStateError(
                .badStream, offset: at, reason: "bad footer after section \"\(idstr)\" (\(why))",
                expected: "0x7e and section id \(sectionID)", actual: "\(hexByte(marker)) and \(id)")
        }
    }

    /// Where section `sectionID`'s footer (0x7e, be32 id, then the next section's type or EOF)
    /// is, when the description's load ended at `at` instead: the nearest one in the last 64 KiB
    /// of the section's data read (the description read more than the source saved), else in
    /// the next 64 KiB the input holds already (it read less), said as the difference and the
    /// footer's offset; nil when none is there.
    private func misplacedFooter(_ sectionID: UInt32, dataStart: Int, at: Int) -> String? {
        func footerStart(_ bytes: [UInt8], _ i: Int) -> Bool {
            guard i + 6 <= bytes.count, bytes[i] == StreamFormat.footer,
                bytes[i + 5] == StreamFormat.eof || StreamFormat.sectionTypes.contains(bytes[i + 5])
            else { return false }
            return bytes.withUnsafeBytes { raw in
                guard
                    case .record(let footer, _) = SectionFooter.Decoder().decode(
                        UnsafeRawBufferPointer(rebasing: raw[i...]))
                else { return false }
                return footer.closes(sectionID)
            }
        }
        func count(_ n: Int) -> String { n == 1 ? "1 byte" : "\(n) bytes" }
        // The last 64 KiB of the section's bytes read (those still in the window; the footer's
        // 5 included) and up to 64 KiB the input holds already past them (no read: a live
        // source may still be sending): a bounded copy, whatever the section's size.
        let window = 65536
        let read = file.bytes(from: max(dataStart, at - window), to: file.position)
        let all = read + (file.peek(min(window, file.buffered)).map { Array($0) } ?? [])
        let base = file.position - read.count
        let due = at - base
        guard due >= 0 else { return nil }
        if let i = stride(from: due - 1, through: 0, by: -1).first(where: { footerStart(all, $0) }) {
            return "the description read \(count(due - i)) more than the stream holds for it; "
                + "its footer is at byte \(base + i)"
        }
        if let i = (due + 1..<max(due + 1, all.count)).first(where: { footerStart(all, $0) }) {
            return "the description read \(count(i - due)) fewer than the stream holds for it; "
                + "its footer is at byte \(base + i)"
        }
        return nil
    }

    private func keep(from start: Int, vmdesc: [UInt8]?, early: Bool = false) {
        let bytes = file.bytes(from: start, to: file.position)
        layout.append(early ? .keptEarly(bytes: bytes, vmdesc: vmdesc) : .kept(bytes: bytes, vmdesc: vmdesc))
    }

    // MARK: helpers

    /// One record through the stream-format layer; `what` names the cut field for the error.
    private func read<D: StreamRecordDecoder>(_ decoder: D, _ what: (FormatShortfall) -> String) throws(VMStateError)
        -> D.Record
    {
        let start = file.position
        switch file.decode(decoder) {
        case .success(let record): return record
        case .failure(let shortfall): throw shortStream(what(shortfall), at: start + shortfall.offset)
        }
    }

    /// The stream ended inside `what`, which starts at byte `at` (the cursor by default).
    private func shortStream(_ what: String, at: Int? = nil) -> VMStateError {
        VMStateError(.shortInput, offset: at ?? file.position, reason: "stream ended inside the \(what)")
    }

    private func bad(_ at: Int, _ reason: String, expected: String? = nil, actual: String? = nil) -> VMStateError {
        VMStateError(.badStream, offset: at, reason: reason, expected: expected, actual: actual)
    }

    /// A section to skip that has no vmdesc entry of its own: none of its idstr and instance, or
    /// fewer than the stream has sections of them (QEMU writes one entry per section).
    private func notInVMDesc(_ idstr: String, _ instanceID: UInt32, occurrence: Int, index: VMDescIndex, at: Int)
        -> VMStateError
    {
        let count = index.count(idstr, instanceID)
        return VMStateError(
            .unknownSection, offset: at,
            reason: count == 0
                ? "cannot skip section \"\(idstr)\" instance \(instanceID): it is not in the stream's vmdesc"
                : "cannot skip section \"\(idstr)\" instance \(instanceID), the stream's section \(occurrence + 1) of that "
                    + "idstr and instance: the stream's vmdesc describes \(count) (QEMU writes an entry for each section "
                    + "it saves)")
    }

    private func unknown(_ idstr: String, _ instanceID: UInt32, _ at: Int) -> VMStateError {
        VMStateError(
            .unknownSection, offset: at,
            reason:
                "section \"\(idstr)\" instance \(instanceID) has no registered device (load with VMSTATE_LOAD_SKIP_UNKNOWN, in Swift .skipUnknown, to skip it)"
        )
    }
}
