import CGLib
import CVMState

/// The Swift face of the engine: save and load a C `VMStateDescription` with throwing calls.
///
/// The description is a C table built with the `VMSTATE_*` macros (keep it `static const` in a C
/// target and hand Swift its address from a C function); `opaque` points at the device state it
/// describes. The bytes are QEMU 7.2's wire format, the same that `vmstate_save_state` writes.
/// Descriptions are planned on first use and the plan is kept, keyed by the description's
/// address.
///
/// ```swift
/// // my_device_vmsd(): a C function returning `&my_device_vmsd` (a `static const` table)
/// let bytes = try VMStateEngine.save(my_device_vmsd(), opaque: &device)
/// try VMStateEngine.load(my_device_vmsd(), opaque: &copy, from: bytes)
/// ```
public enum VMStateEngine {
    /// Saves `vmsd` from `opaque` at its `version_id`; optionally describes it into `vmdesc`
    /// (the keys of one description object: `vmsd_name`, `version`, `fields`, ...).
    ///
    /// Runs `pre_save`, the fields, the subsections whose `needed` returns true (or is NULL),
    /// and `post_save`, as QEMU does.
    ///
    /// - Parameters:
    ///   - vmsd: The description.
    ///   - opaque: The device state it describes.
    ///   - vmdesc: A writer with an object open, to receive the description's keys, or `nil`.
    ///   - dialect: Whose vmdesc rules to follow (QEMU 7.2's by default; ``QEMUDialect``). The
    ///     bytes are the same in both.
    /// - Returns: The saved bytes.
    /// - Throws: ``VMStateError`` with the field path and the byte offset in the output, when a
    ///   hook or a custom `put` fails or the table is unusable.
    public static func save(
        _ vmsd: UnsafePointer<VMStateDescription>, opaque: UnsafeMutableRawPointer,
        vmdesc: VMDescWriter? = nil, dialect: QEMUDialect = .qemu7_2
    ) throws(VMStateError) -> [UInt8] {
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        let file = MigrationFile(output: out)
        // SAFETY: `vmsd` and `opaque` are the caller's valid table and device struct (this API's contract,
        // as the Engine's); `out` is owned here (unref'd by the defer).
        try save(file, vmsd, opaque, version: vmsd.pointee.version_id, vmdesc: vmdesc, dialect: dialect)
        try expectNoFileError(file, after: vmsd)
        // SAFETY: `data[0..<len]` is what the save wrote into the owned `out`.
        return Array(UnsafeBufferPointer(start: out.pointee.data, count: Int(out.pointee.len)))
    }

    /// Loads all of `bytes` into `opaque` as `vmsd` at `version` (default: the description's
    /// own version_id). Bytes left over after the state are an error.
    ///
    /// A load that fails part way leaves the fields before the failing one loaded.
    ///
    /// - Parameters:
    ///   - vmsd: The description.
    ///   - opaque: The device state to load into.
    ///   - version: The version the bytes were saved at; it must lie between the description's
    ///     `minimum_version_id` and `version_id`.
    ///   - bytes: The saved state, and nothing else.
    /// - Throws: ``VMStateError`` with the field path, the byte offset in `bytes`, and what was
    ///   expected and found.
    public static func load(
        _ vmsd: UnsafePointer<VMStateDescription>, opaque: UnsafeMutableRawPointer, version: Int32? = nil,
        from bytes: [UInt8]
    ) throws(VMStateError) {
        // SAFETY: g_bytes_new copies the array's bytes while `withUnsafeBytes` keeps them valid.
        let gbytes = bytes.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }!
        defer { g_bytes_unref(gbytes) }
        let file = MigrationFile(input: gbytes)
        // SAFETY: the caller's valid table and struct (this API's contract); writes stay in the fields
        // the table describes.
        try load(file, vmsd, opaque, version: version ?? vmsd.pointee.version_id)
        try expectEnd(file, after: vmsd)
    }

    /// Options of a checked load.
    public struct LoadOptions: OptionSet, Sendable {
        /// The bits, as the C `VMSTATE_LOAD_*` flags.
        public let rawValue: UInt32
        /// Options from the C flag bits.
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// A failed load leaves the struct as it was and frees what the engine allocated.
        public static let transactional = LoadOptions(rawValue: 0x4)
    }

    /// Loads all of `bytes` into the `opaqueSize`-byte struct at `opaque`, refusing any write
    /// that would leave the struct (or memory the engine allocated), hostile counts and sizes,
    /// and nesting deeper than 64 levels. With `.transactional`, a failure restores the struct
    /// (copied first: an `opaqueSize` no allocation can hold is `.failed`, before any read).
    /// An `opaqueSize` of 0 or less is refused (`.failed`): it would bound nothing; so are
    /// options other than ``LoadOptions/transactional`` (as the C `vmstate_load_checked` refuses
    /// unknown flags).
    public static func loadChecked(
        _ vmsd: UnsafePointer<VMStateDescription>, opaque: UnsafeMutableRawPointer, size opaqueSize: Int,
        version: Int32? = nil, from bytes: [UInt8], options: LoadOptions = []
    ) throws(VMStateError) {
        // SAFETY: as in `load`: the bytes are copied; the table is the caller's valid one.
        let gbytes = bytes.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }!
        defer { g_bytes_unref(gbytes) }
        try loadChecked(
            MigrationFile(input: gbytes), vmsd, opaque, size: opaqueSize,
            version: version ?? vmsd.pointee.version_id, options: options)
    }

    static func loadChecked(
        _ file: MigrationFile, _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
        size: Int, version: Int32, options: LoadOptions
    ) throws(VMStateError) {
        // Options this library does not know are refused, as the registry's loads refuse them.
        let unknown = options.rawValue & ~LoadOptions.transactional.rawValue
        guard unknown == 0 else {
            throw VMStateError(
                .failed,
                reason: "unknown load flags \(hex(UInt64(unknown), width: 1)): vmstate_load_checked takes 0 or "
                    + "VMSTATE_LOAD_TRANSACTIONAL (0x4)")
        }
        guard size > 0 else {
            // (A struct of no bytes would leave every write outside any known region, unchecked.)
            throw VMStateError(
                .failed, path: vmsd.map { $0.pointee.name.map { String(cString: $0) } ?? "(unnamed)" } ?? "",
                reason: "the struct's size must be positive (it bounds the load's writes)",
                actual: size < 0 ? "\(size) (\(UInt(bitPattern: size)) as a C size_t)" : "\(size)")
        }
        if let vmsd, opaque != nil {
            try Planner.holding { () throws(VMStateError) in
                let plan = try Planner.plan(vmsd)
                try plan.checkFits(size: size, path: plan.name)
            }
        }
        let loadGuard = LoadGuard(transactional: options.contains(.transactional))
        if let opaque {
            let name = vmsd.map { $0.pointee.name.map { String(cString: $0) } ?? "(unnamed)" } ?? ""
            try loadGuard.addStruct(opaque, size: size, label: name)
            loadGuard.loading(opaque, size: size)
        }
        try loadGuard.run { () throws(VMStateError) in
            try load(file, vmsd, opaque, version: version, guard: loadGuard)
            try expectEnd(file, after: vmsd)
        }
    }

    // MARK: shared with the C entry points

    // SAFETY (nonisolated(unsafe)): allocated and initialized once, never written or freed after, so
    // every thread only reads it.
    nonisolated(unsafe) static let emptyField: UnsafePointer<VMStateField> = {
        let p = UnsafeMutablePointer<VMStateField>.allocate(capacity: 1)
        p.initialize(to: VMStateField())
        return UnsafePointer(p)
    }()

    static func save(
        _ file: MigrationFile, _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
        version: Int32, vmdesc: VMDescWriter?, compiled: Bool = true, dialect: QEMUDialect = .qemu7_2
    ) throws(VMStateError) {
        guard let vmsd else { throw VMStateError(.invalidTable, reason: "NULL VMStateDescription") }
        try Planner.holding { () throws(VMStateError) in
            let plan = try Planner.plan(vmsd)
            guard let opaque else { throw VMStateError(.invalidTable, path: plan.name, reason: "NULL opaque") }
            // Make room once for what the save is expected to write.
            file.reserve(plan.program?.estimatedBytes ?? 0)
            do throws(VMStateError) {
                // SAFETY: `opaque` is non-NULL (checked) and the caller's struct of the table's layout.
                try Engine(file: file, compiled: compiled, dialect: dialect).save(
                    plan, opaque, version: version, vmdesc: vmdesc)
            } catch {
                throw error.under(plan.name)
            }
        }
    }

    static func load(
        _ file: MigrationFile, _ vmsd: UnsafePointer<VMStateDescription>?, _ opaque: UnsafeMutableRawPointer?,
        version: Int32, guard loadGuard: LoadGuard? = nil, compiled: Bool = true, dialect: QEMUDialect = .qemu7_2
    ) throws(VMStateError) {
        guard let vmsd else { throw VMStateError(.invalidTable, reason: "NULL VMStateDescription") }
        try Planner.holding { () throws(VMStateError) in
            let plan = try Planner.plan(vmsd)
            guard let opaque else { throw VMStateError(.invalidTable, path: plan.name, reason: "NULL opaque") }
            do throws(VMStateError) {
                // SAFETY: as in `save`; with a guard, writes outside the guarded struct are refused.
                try Engine(file: file, loadGuard: loadGuard, compiled: compiled, dialect: dialect).load(
                    plan, opaque, version: version)
            } catch {
                throw error.under(plan.name)
            }
        }
    }

    /// Fails when a save left an error on the file without failing (a custom `put` that called
    /// `qemu_file_set_error` and returned 0): QEMU then wrote nothing after it, so the bytes
    /// are incomplete. A `GByteArray` that reached its 4 GiB is that error
    /// (`VMSTATE_ERROR_BOUND_EXCEEDED`, -EFBIG).
    static func expectNoFileError(_ file: MigrationFile, after vmsd: UnsafePointer<VMStateDescription>? = nil)
        throws(VMStateError)
    {
        if file.errorCode != 0 {
            // SAFETY: a non-NULL `vmsd` is the caller's valid table; its `name` is a C string or NULL.
            let name = vmsd?.pointee.name.map { String(cString: $0) } ?? ""
            // A GByteArray's 4 GiB limit is the file's own error, said as such.
            if let full = file.capacityFailure { throw full.under(name) }
            throw VMStateError(
                .fieldFailed, path: name, offset: file.position,
                reason: "the save recorded error \(file.errorCode) on the file; nothing was written after it",
                errno: file.errorCode)
        }
    }

    /// Fails when input is left after the state of `vmsd` (named in the error's path).
    static func expectEnd(_ file: MigrationFile, after vmsd: UnsafePointer<VMStateDescription>? = nil)
        throws(VMStateError)
    {
        if file.remaining > 0 {
            // SAFETY: as above.
            let name = vmsd?.pointee.name.map { String(cString: $0) } ?? ""
            // A subsection marker there: QEMU's loader (vmstate_subsection_load) leaves a
            // subsection header cut short, or one not of this description, to its caller.
            var reason = "bytes left after the state"
            if let next = file.peek(1), next[0] == StreamFormat.subsection {
                reason += ": a subsection header (0x05) cut short, or not of a subsection of \"\(name)\""
            }
            throw VMStateError(
                .failed, path: name, offset: file.position, reason: reason,
                expected: "end of input", actual: "\(file.remaining) more byte\(file.remaining == 1 ? "" : "s")")
        }
    }
}
