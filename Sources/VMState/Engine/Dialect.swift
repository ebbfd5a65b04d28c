import CVMState

/// Which QEMU's rules a save or load follows where QEMU 7.2 and QEMU 10.0 differ: the vmdesc
/// JSON a save writes, and the results of the C API (docs/C-API.md, "The QEMU 10.0 API").
/// Wire bytes are the same in both.
///
/// Everything that differs between the versions is decided here, one property per rule, so
/// that the engine asks the dialect and the next version is one more case:
/// - ``nullptrTypeName``: the vmdesc `type` of `vmstate_info_nullptr`.
/// - ``describesNullEntries``: a NULL entry of an array of pointers is its own vmdesc entry
///   (`"nullptr"`, size 1), and such arrays are split into segments where NULL and non-NULL
///   alternate (QEMU 10.0's `vmstate_save_state_v`, with its over-count quirks: the first
///   segment of an array that starts non-NULL gets the whole array's `array_len`, and a
///   non-compressible field describes every NULL of a run).
/// - ``indexOnLastElement``: whether the last element of an `"index"` array carries its index
///   (QEMU 10.0 describes element i with `max = n - i`, so the last one has neither `index` nor
///   `array_len`).
/// - ``subsectionFailureSetsFileError``: a failed subsection load is also the file's error.
/// - ``dumpsArrayLength``: `-dump-vmstate` (the schema dump) gives a fixed-size array's length.
///
/// The C API picks the dialect by entry point (`vmstate_*_v1000` symbols for files built with
/// `VMSTATE_QEMU_API` 1000); the registry passes the one of the QEMU it writes for.
///
/// It is also the QEMU version a registry writes streams for (``Registry/streamVersion``,
/// ``QEMUStreamRules``): the raw values are the C API's `VMSTATE_STREAM_QEMU_7_2` (702) and
/// `VMSTATE_STREAM_QEMU_10_0` (1000), the values of `VMSTATE_QEMU_API`.
public enum QEMUDialect: UInt32, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// QEMU 7.2 (the default everywhere): no command records, a vmdesc of `page_size` and
    /// `devices`.
    case qemu7_2 = 702
    /// QEMU 10.0: MIG_CMD_SWITCHOVER_START for 10.0 machine types, a vmdesc that starts with
    /// the `"configuration"` object.
    case qemu10_0 = 1000

    public var description: String { self == .qemu7_2 ? "QEMU 7.2" : "QEMU 10.0" }

    var nullptrTypeName: String { self == .qemu7_2 ? "uint64" : "nullptr" }
    var describesNullEntries: Bool { self == .qemu10_0 }
    var indexOnLastElement: Bool { self == .qemu7_2 }
    var subsectionFailureSetsFileError: Bool { self == .qemu10_0 }
    /// Whether `-dump-vmstate` writes `"num"` (the element count) before `"size"` for a field
    /// with VMS_ARRAY: QEMU 8.1 and later's `dump_vmstate_vmsf` (migration/savevm.c) does, 7.2's
    /// does not.
    var dumpsArrayLength: Bool { self == .qemu10_0 }
    /// Whether the compiled vmdesc text (Program.swift, written with 7.2's rules) may be used.
    var usesCompiledVMDesc: Bool { self == .qemu7_2 }

    /// QEMU 10.0's VMS_END flag (0x10000), set by its VMSTATE_END_OF_LIST() on the terminating
    /// entry (the 7.2 view of the header, which Swift imports, does not declare it).
    static let vmsEnd: UInt32 = 0x10000

    /// The `unmigratable` and `early_setup` members of `vmsd` as a table of this dialect lays
    /// them out: QEMU 7.2 `int unmigratable` at offset 8 (no early_setup); QEMU 10.0 `bool
    /// unmigratable` at 8, `bool early_setup` at 9 (CShim/layout_checks_v1000.c). The other
    /// members are at the same offsets in both.
    ///
    /// A table defined in a QEMU 10.0 file may be registered from a 7.2 file (QEMU's machine
    /// files register device tables defined elsewhere), so the 7.2 view reads as both: on a
    /// little-endian host the 7.2 `int`'s first byte is 10.0's `unmigratable` and its second
    /// 10.0's `early_setup`, and a 7.2 table sets the `int` to 0 or 1 (QEMU's `true`), whose
    /// second byte is 0. (Reading the `int` whole took a 10.0 early-setup table for an
    /// unmigratable one.) A value with other bytes set counts as unmigratable.
    public func flags(of vmsd: UnsafePointer<VMStateDescription>) -> (unmigratable: Bool, earlySetup: Bool) {
        // SAFETY: a VMStateDescription is 88 bytes; bytes 8 to 11 are the 7.2 `int unmigratable`
        // and, in a QEMU 10.0 table, bytes 8 and 9 its two bools (offsets checked at compile time
        // in layout_checks.c and layout_checks_v1000.c).
        let raw = UnsafeRawPointer(vmsd)
        let byte = { (offset: Int) in raw.load(fromByteOffset: offset, as: UInt8.self) }
        switch self {
        case .qemu7_2:
            #if _endian(little)
                // The first byte alone (a 7.2 `int` of 1, 10.0's `unmigratable`) or any byte but
                // the second: unmigratable. The second alone: 10.0's `early_setup`.
                if byte(8) == 0 && byte(10) == 0 && byte(11) == 0 { return (false, byte(9) != 0) }
                return (true, false)
            #else
                return (vmsd.pointee.unmigratable != 0, false)
            #endif
        case .qemu10_0:
            return (byte(8) != 0, byte(9) != 0)
        }
    }
}
