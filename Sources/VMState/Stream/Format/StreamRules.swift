// What differs between the QEMU versions whose streams the analyzer reads, kept in one place so
// that the next version is one more value here (docs/FORMAT.md, "QEMU 10.0 streams"). The
// registry's rules for the streams it reads and writes are beside it (QEMUStreamRules.swift),
// and the command table is theirs.
//
// A stream says which rules apply through its vmdesc: QEMU 8.2 and later describe the
// configuration section in the vmdesc (a "configuration" object before "page_size"); QEMU 7.2
// through 8.1 do not. Everything else the reader does (section records, footers when present,
// RAM records, value formatting) is common to both.

/// The reading rules of one family of QEMU versions.
package struct StreamRules: Sendable, Equatable {
    /// How a struct's entries that share a field name become the printed value.
    package enum RepeatedNames: Sendable, Equatable {
        /// QEMU 7.2's analyze-migration.py: entries with an `"index"` (or unfolded from
        /// `"array_len"`) are collected into a list and must come in order 0, 1, 2, ...; an
        /// entry without an index replaces an earlier value of that name.
        case indexedList
        /// QEMU 10.0's analyze-migration.py: the first entry of a name is kept as is, the
        /// second turns it into `[first, second]`, later ones are appended; `"index"` is not
        /// looked at. Needed because QEMU 10.0 writes no `"index"` on the last element of an
        /// array, and splits arrays of pointers into NULL and non-NULL segments of one name.
        case mergeIntoList
    }

    /// Which QEMU versions write streams read by these rules.
    package let versions: String
    /// How repeated field names are turned into values.
    package let repeatedNames: RepeatedNames
    /// Whether the configuration section (0x07) is read with the vmdesc's `"configuration"`
    /// description (QEMU 8.2+), rather than as the fixed layout QEMU 7.2 writes (be32 length,
    /// machine type, then the known `configuration/...` subsections).
    package let configurationFromVMDesc: Bool
    /// Command records (0x08) these versions write into streams to files (without the return
    /// path, postcopy and COLO capabilities), by command number; each has an empty payload
    /// (be16 length 0).
    package let commands: [UInt16: String]
    /// The vmdesc field types these versions' analyze-migration.py reads with a reader of
    /// their own beyond QEMU 7.2's table (`bool`, the integer types, `struct`): QEMU 10.0's
    /// adds `nullptr` (NULL pointer entries: `size` bytes of the marker 0x30) and `capability`
    /// (the configuration section's capability names). 7.2's script reads a field of these
    /// types as any other unknown type: `size` bytes printed in hex.
    package let laterFieldTypes: Set<String>

    /// QEMU 7.2 through 8.1: the vmdesc has no `"configuration"`.
    package static let qemu72 = StreamRules(
        versions: "QEMU 7.2 to 8.1 (a vmdesc without \"configuration\")",
        repeatedNames: .indexedList,
        configurationFromVMDesc: false,
        commands: QEMUStreamRules.commands(.qemu7_2),
        laterFieldTypes: [])

    /// QEMU 8.2 through 10.0: the vmdesc starts with `"configuration"`; QEMU 10.0 machine
    /// types send MIG_CMD_SWITCHOVER_START (`08 00 0b 00 00`) before the last RAM section part.
    package static let qemu100 = StreamRules(
        versions: "QEMU 8.2 to 10.0 (a vmdesc with \"configuration\")",
        repeatedNames: .mergeIntoList,
        configurationFromVMDesc: true,
        commands: QEMUStreamRules.commands(.qemu10_0),
        laterFieldTypes: ["nullptr", "capability"])

    /// The rules for a stream with this vmdesc (its top-level object).
    package static func forVMDesc(_ root: JSONObject) -> StreamRules {
        root["configuration"] != nil ? .qemu100 : .qemu72
    }
}
