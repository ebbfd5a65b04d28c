import CGLib
import CVMState

/// The byte values of QEMU 7.2's stream format (SPEC section 8).
enum StreamFormat {
    static let magic: UInt32 = 0x5145_564d  // "QEVM"
    static let version: UInt32 = 3
    static let eof: UInt8 = 0x00
    static let sectionStart: UInt8 = 0x01
    static let sectionPart: UInt8 = 0x02
    static let sectionEnd: UInt8 = 0x03
    static let sectionFull: UInt8 = 0x04
    static let subsection: UInt8 = 0x05
    static let vmdesc: UInt8 = 0x06
    static let configuration: UInt8 = 0x07
    static let command: UInt8 = 0x08
    static let footer: UInt8 = 0x7e
    static let pageSize = 4096
}

/// A set of devices and RAM blocks that reads and writes whole QEMU 7.2 migration streams.
///
/// After a load, the registry remembers the stream's layout (section order and ids, and the
/// sections it kept under `.keepUnknown`) so that the next save writes the same file back when
/// nothing changed.
public final class Registry {
    public struct LoadOptions: OptionSet, Sendable {
        public let rawValue: UInt32
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
        let vmsd: UnsafePointer<VMStateDescription>
        let opaque: UnsafeMutableRawPointer
        /// The struct's size when known: loads are then bounded to it.
        let size: Int?
    }

    struct RAMBlock {
        let idstr: String
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
    }

    private(set) var devices: [Device] = []
    private(set) var ramBlocks: [RAMBlock] = []
    /// The machine type the stream must have on load (set by a save or explicitly), if any.
    public var expectedMachineType: String?
    /// The machine type of the last loaded stream.
    public private(set) var loadedMachineType: String?
    private var loadedMachineTypeBytes: [UInt8]?
    private var configurationExtra: [UInt8] = []
    private var machineTypeC: UnsafeMutablePointer<CChar>?
    private var layout: [LayoutEntry]?

    public init() {}

    deinit { g_free(machineTypeC) }

    /// The loaded machine type as a C string owned by the registry.
    func machineTypeCString() -> UnsafePointer<CChar>? {
        g_free(machineTypeC)
        machineTypeC = loadedMachineType.map { g_strdup($0) }
        return UnsafePointer(machineTypeC)
    }

    /// Registers a device's state `opaque`, described by `vmsd`, as section `idstr`/`instanceID`.
    /// With `size`, loads of this device never write outside those `size` bytes at `opaque`
    /// (or memory the engine allocated), and a transactional load can restore it.
    public func add(
        idstr: String, instanceID: UInt32, vmsd: UnsafePointer<VMStateDescription>, opaque: UnsafeMutableRawPointer,
        size: Int? = nil
    ) throws(VMStateError) {
        guard !idstr.isEmpty, idstr.utf8.count <= 255 else {
            throw VMStateError(.failed, path: idstr, reason: "a section idstr must have 1 to 255 bytes")
        }
        if devices.contains(where: { $0.idstr == idstr && $0.instanceID == instanceID }) {
            throw VMStateError(.failed, path: idstr, reason: "section \(idstr) instance \(instanceID) is registered already")
        }
        _ = try Planner.plan(vmsd)
        devices.append(Device(idstr: idstr, instanceID: instanceID, vmsd: vmsd, opaque: opaque, size: size))
    }

    /// Registers `length` bytes at `host` as the RAM block `idstr`.
    public func addRAM(idstr: String, host: UnsafeMutableRawPointer, length: Int) throws(VMStateError) {
        guard !idstr.isEmpty, idstr.utf8.count <= 255 else {
            throw VMStateError(.failed, path: idstr, reason: "a RAM block idstr must have 1 to 255 bytes")
        }
        guard length > 0, length % StreamFormat.pageSize == 0 else {
            throw VMStateError(.failed, path: idstr, reason: "RAM block length must be a positive multiple of 4096",
                actual: "\(length)")
        }
        if ramBlocks.contains(where: { $0.idstr == idstr }) {
            throw VMStateError(.failed, path: idstr, reason: "RAM block \(idstr) is registered already")
        }
        ramBlocks.append(RAMBlock(idstr: idstr, host: host, length: length))
    }

    // MARK: - save

    /// Writes a whole stream; `machineType` nil means the last loaded stream's.
    public func save(machineType: String? = nil) throws(VMStateError) -> [UInt8] {
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        try save(machineType: machineType, into: out)
        return Array(UnsafeBufferPointer(start: out.pointee.data, count: Int(out.pointee.len)))
    }

    func save(machineType: String?, into out: UnsafeMutablePointer<GByteArray>) throws(VMStateError) {
        guard let machine = machineType ?? loadedMachineType ?? expectedMachineType else {
            throw VMStateError(.failed, reason: "no machine type: pass one, or load a stream first")
        }
        // Saving a loaded stream back writes its machine type's own bytes (they may not be UTF-8).
        let machineBytes = machineType == nil ? loadedMachineTypeBytes ?? Array(machine.utf8) : Array(machine.utf8)
        guard machineBytes.count <= 255 else {
            throw VMStateError(.failed, reason: "the machine type is longer than 255 bytes", actual: "\(machineBytes.count) bytes")
        }
        let file = MigrationFile(output: out)
        let vmdesc = VMDescWriter()
        vmdesc.startObject()
        vmdesc.int("page_size", Int64(StreamFormat.pageSize))
        vmdesc.startArray("devices")

        file.putBE32(StreamFormat.magic)
        file.putBE32(StreamFormat.version)
        file.putByte(StreamFormat.configuration)
        file.putBE32(UInt32(machineBytes.count))
        file.putBytes(machineBytes)
        if machineType == nil || machineType == loadedMachineType { file.putBytes(configurationExtra) }

        var entries = layout ?? []
        if layout == nil && !ramBlocks.isEmpty { entries.append(.ram(sectionID: 0)) }
        var usedIDs = Set<UInt32>()
        var placed = Set<Int>()
        for entry in entries {
            switch entry {
            case .device(let index, let id):
                usedIDs.insert(id)
                placed.insert(index)
            case .ram(let id): usedIDs.insert(id)
            case .kept: break
            }
        }
        var nextID: UInt32 = (usedIDs.max().map { $0 + 1 }) ?? 0
        for index in devices.indices where !placed.contains(index) {
            entries.append(.device(index: index, sectionID: nextID))
            nextID += 1
        }

        for entry in entries {
            switch entry {
            case .device(let index, let id):
                try saveDevice(devices[index], sectionID: id, file, vmdesc)
            case .ram(let id):
                if !ramBlocks.isEmpty { RAMCodec.save(ramBlocks, sectionID: id, file) }
            case .kept(let bytes, let json):
                file.putBytes(bytes)
                if let json { vmdesc.raw(nil, json) }
            }
        }
        file.putByte(StreamFormat.eof)
        vmdesc.endArray()
        vmdesc.endObject()
        file.putByte(StreamFormat.vmdesc)
        file.putBE32(UInt32(vmdesc.text.count))
        file.putBytes(vmdesc.text)
        expectedMachineType = machine
    }

    private func saveDevice(_ device: Device, sectionID: UInt32, _ file: MigrationFile, _ vmdesc: VMDescWriter) throws(VMStateError) {
        let name = Array(device.idstr.utf8)
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
            try VMStateEngine.save(file, device.vmsd, device.opaque, version: version, vmdesc: vmdesc)
        } catch {
            throw error.inSection(device.idstr, device.instanceID)
        }
        vmdesc.endObject()
        file.putByte(StreamFormat.footer)
        file.putBE32(sectionID)
    }

    // MARK: - load

    /// Loads a whole stream into the registered devices and RAM.
    public func load(_ bytes: [UInt8], options: LoadOptions = []) throws(VMStateError) {
        let gbytes = bytes.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }!
        defer { g_bytes_unref(gbytes) }
        try load(MigrationFile(input: gbytes), options: options)
    }

    func load(_ file: MigrationFile, options: LoadOptions) throws(VMStateError) {
        // A stream is input from elsewhere: every load is checked. Devices added without a size
        // are not bounded to their struct, but still get the allocation, depth and repetition
        // limits (a stream could otherwise recurse through a self-nesting description until the
        // stack overflows).
        let loadGuard: LoadGuard? = LoadGuard(transactional: options.contains(.transactional))
        for device in devices { if let size = device.size { loadGuard?.addStruct(device.opaque, size: size) } }
        // Device pointers into guest RAM are bounded by the block (RAM is not restored).
        for block in ramBlocks { loadGuard?.addRegion(block.host, size: block.length) }
        let loader = StreamLoader(registry: self, file: file, options: options, guard: loadGuard)
        do throws(VMStateError) {
            try loader.run()
            loadGuard?.commit()
        } catch {
            throw loadGuard?.rollBackAfter(error) ?? error
        }
        loadedMachineType = loader.machineType
        loadedMachineTypeBytes = loader.machineTypeBytes
        configurationExtra = loader.configurationExtra
        layout = loader.layout
    }

    func device(_ idstr: String, _ instanceID: UInt32) -> Int? {
        devices.firstIndex { $0.idstr == idstr && $0.instanceID == instanceID }
    }
}

extension VMStateError {
    /// The error as seen from a stream: the section named in front of the path.
    func inSection(_ idstr: String, _ instanceID: UInt32) -> VMStateError {
        var copy = self
        copy.reason = "section \"\(idstr)\" instance \(instanceID): " + reason
        return copy
    }
}
