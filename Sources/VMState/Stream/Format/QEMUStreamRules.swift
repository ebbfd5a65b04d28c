// What differs between the QEMU versions (and machine types) whose whole streams the registry
// reads and writes, in one place (docs/FORMAT.md §9): the next version is one more case here.
// The analyzer's reading rules are beside it (StreamRules.swift); the records themselves are
// decoded by the rest of this directory (docs/FORMAT.md §10), common to all versions.

// The QEMU version itself is ``QEMUDialect`` (Engine/Dialect.swift), shared with the engine.

/// The record-level rules of one stream: its QEMU version and the migration properties QEMU
/// derives from the machine type (`send-configuration`, `send-section-footer`,
/// `send-switchover-start`, set off by `hw_compat_*` for old machine types).
package struct QEMUStreamRules: Sendable, Equatable {
    /// The QEMU version.
    package var version: QEMUDialect
    /// The configuration section (0x07) follows the header (`send-configuration`; off for
    /// `pc-i440fx-2.3`, `pseries-2.3` and older, `hw_compat_2_3`).
    package var configuration: Bool
    /// Every section ends with the footer 0x7e + be32 section id (`send-section-footer`; off
    /// for `pc-i440fx-2.3`, `pseries-2.3` and older).
    package var sectionFooters: Bool
    /// MIG_CMD_SWITCHOVER_START (`08 00 0b 00 00`) is sent after the last RAM part, before the
    /// RAM END and the devices (`send-switchover-start`: QEMU 10.0, on for 10.0 machine types,
    /// off for 9.2 and older by `hw_compat_9_2`; QEMU 7.2 refuses the command).
    package var switchoverStart: Bool

    /// The vmdesc starts with `"configuration"`, the configuration section's description,
    /// before `"page_size"` (QEMU 8.2+ writes one JSON writer across the whole save).
    package var vmdescConfiguration: Bool { version == .qemu10_0 && configuration }

    /// The command number of MIG_CMD_SWITCHOVER_START.
    package static let switchoverStartCommand: UInt16 = 11

    /// Command records a loaded stream may hold, by number: QEMU 10.0 accepts
    /// SWITCHOVER_START (payload length 0) from a stream of any machine type; the others
    /// (return path, postcopy, COLO, ...) are refused. (QEMU writes OPEN_RETURN_PATH, PING and
    /// POSTCOPY_ADVISE even into a precopy stream to a file when capability postcopy-ram,
    /// return-path or dirty-bitmaps is on.)
    package static let loadableCommands: [UInt16: String] = [switchoverStartCommand: "SWITCHOVER_START"]

    /// QEMU's migration commands (`enum qemu_vm_cmd` in migration/savevm.c, the same numbers in 7.2
    /// and 10.0; SWITCHOVER_START is 10.0's), with what makes QEMU write each, for the error on a
    /// command the loader or the analyzer does not read. Real streams written to files with capability
    /// postcopy-ram start with OPEN_RETURN_PATH, PING (payload: be32 1) and POSTCOPY_ADVISE (16
    /// bytes); with return-path, OPEN_RETURN_PATH and PING; with dirty-bitmaps, POSTCOPY_ADVISE
    /// (empty): `migration.c:migration_thread` sends them whether or not postcopy ever starts.
    package static let commandNames: [UInt16: (name: String, writer: String)] = [
        0x01: ("OPEN_RETURN_PATH", "written when capability postcopy-ram or return-path is on"),
        0x02: ("PING", "written after OPEN_RETURN_PATH"),
        0x03: ("POSTCOPY_ADVISE", "written when capability postcopy-ram or dirty-bitmaps is on"),
        0x04: ("POSTCOPY_LISTEN", "postcopy"),
        0x05: ("POSTCOPY_RUN", "postcopy"),
        0x06: ("POSTCOPY_RAM_DISCARD", "postcopy"),
        0x07: ("PACKAGED", "postcopy"),
        0x08: ("ENABLE_COLO", "capability x-colo"),
        0x09: ("POSTCOPY_RESUME", "postcopy recovery"),
        0x0a: ("RECV_BITMAP", "postcopy recovery"),
        0x0b: ("SWITCHOVER_START", "written by QEMU 10.0 on machine types 10.0 and later"),
    ]

    /// The command records QEMU `version` writes into streams to files without the return
    /// path, postcopy and COLO capabilities, by number (each with payload length 0): none for
    /// 7.2 (which refuses SWITCHOVER_START), SWITCHOVER_START for 10.0 (QEMU 8.2 to 9.2 write
    /// none, and refuse it: the command is 10.0's).
    package static func commands(_ version: QEMUDialect) -> [UInt16: String] {
        version == .qemu7_2 ? [:] : loadableCommands
    }

    /// The capabilities the configuration section lists (those QEMU validates on both ends):
    /// QEMU 7.2 `x-ignore-shared`; QEMU 9.0+ also `mapped-ram`. In QAPI enum order.
    package static func validatedCapabilities(_ version: QEMUDialect) -> [String] {
        version == .qemu7_2 ? ["x-ignore-shared"] : ["x-ignore-shared", "mapped-ram"]
    }

    /// The rules QEMU `version` applies to `machineType`. Versioned pc and pseries machine types
    /// 2.3 and older (`pc-i440fx-2.3`, `pc-1.3`, `pseries-2.1`: QEMU 7.2's only machine types
    /// that apply `hw_compat_2_3`) send no configuration and no footers for QEMU 7.2 (QEMU 10.0
    /// has none of them, and sends both for any name); a versioned machine type
    /// of any target 9.2 and older (`pc-q35-9.2`, `virt-9.2`, `pseries-9.2`,
    /// `s390-ccw-virtio-9.2`: `hw_compat_9_2`, which all of them apply) sends no
    /// SWITCHOVER_START; any other name gets the version's defaults (all on).
    package static func forMachine(_ machineType: String, version: QEMUDialect) -> QEMUStreamRules {
        // (QEMU 10.0 has no such machine type: its oldest are pc-i440fx-2.4 and pseries-3.0, and
        // its streams all send a configuration section.)
        let old = version == .qemu7_2 && (compat23MachineVersion(machineType).map { $0 <= (2, 3) } ?? false)
        return QEMUStreamRules(
            version: version, configuration: !old, sectionFooters: !old,
            switchoverStart: version == .qemu10_0 && (machineVersion(machineType).map { $0 >= (10, 0) } ?? true))
    }

    /// The (major, minor) of a versioned machine type of a family that has types as old as 2.3
    /// (`pc-i440fx-X.Y`, `pc-q35-X.Y`, `pc-X.Y`, `pseries-X.Y`), nil for other names (`pc`,
    /// `q35`, `virt-2.6`, an emulator's own `board-1.0` or `pc-xt-1.0`).
    package static func compat23MachineVersion(_ machineType: String) -> (Int, Int)? {
        // (Only the family's own names: an emulator's `pc-xt-1.0` or `pseries-like-1.0` is none.)
        for family in ["pc-i440fx-", "pc-q35-", "pc-", "pseries-"] where machineType.hasPrefix(family) {
            if !machineType.dropFirst(family.count).contains("-") { return machineVersion(machineType) }
        }
        return nil
    }

    /// The (major, minor) of a versioned machine type of any target (`pc-i440fx-10.0`,
    /// `virt-7.2`: digits, a dot and digits after the last '-'; a QEMU release has the machine
    /// types of its own version and older), nil for an unversioned one (`pc`, `isapc`, `none`).
    package static func machineVersion(_ machineType: String) -> (Int, Int)? {
        guard let dash = machineType.lastIndex(of: "-") else { return nil }
        let parts = machineType[machineType.index(after: dash)...].split(
            separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { ("0"..."9").contains($0) } }),
            let major = Int(parts[0]), let minor = Int(parts[1])
        else { return nil }
        return (major, minor)
    }

    /// A kept section's vmdesc entry (its JSON as the loaded stream had it) for a stream written
    /// for `target`. QEMU 8.2 to 10.0 leave `"index"` off the last of an array's per-element
    /// entries (`ide` `bmdma`, `fdc` `drives`: docs/FORMAT.md §9); QEMU 7.2 gives every one its
    /// index, and 7.2's readers (its analyze-migration.py, this analyzer's 7.2 rules) take an
    /// entry without one for a value that replaces the array, losing its other elements. So for
    /// 7.2, such a last entry gets its index (one more than the entry before it), written after
    /// `"name"` as QEMU 7.2 writes it, and the entry is written again compactly as QEMU writes
    /// JSON. The rest is left as it is: 7.2 entries read the same by 10.0's rules, and 10.0's
    /// `nullptr` entries (NULL elements of arrays of pointers) have no 7.2 form that reads right
    /// (7.2 describes them wrongly itself). The bytes come back unchanged when nothing needs it.
    package static func keptVMDesc(_ json: [UInt8], from source: QEMUDialect, to target: QEMUDialect) -> [UInt8] {
        guard source == .qemu10_0, target == .qemu7_2, let entry = try? JSONValue(parsing: json) else { return json }
        var changed = false
        func indexed(_ value: JSONValue) -> JSONValue {
            switch value {
            case .array(let items): return .array(items.map(indexed))
            case .object(var object):
                for i in object.members.indices {
                    object.members[i].value = indexed(object.members[i].value)
                    guard object.members[i].key == "fields", case .array(var fields) = object.members[i].value
                    else { continue }
                    for k in fields.indices.dropFirst() {
                        guard case .object(var last) = fields[k], last["index"] == nil, last["array_len"] == nil,
                            let name = last["name"], fields[k - 1]["name"] == name,
                            let previous = fields[k - 1]["index"]?.int64Value,
                            let at = last.members.firstIndex(where: { $0.key == "name" })
                        else { continue }
                        last.members.insert(
                            JSONObject.Member(key: "index", value: .number(JSONNumber(previous + 1))), at: at + 1)
                        fields[k] = .object(last)
                        changed = true
                    }
                    object.members[i].value = .array(fields)
                }
                return .object(object)
            default: return value
            }
        }
        let fixed = indexed(entry)
        guard changed else { return json }
        var writer = JSONTextWriter(format: .pythonCompact)
        writer.value(fixed)
        return Array(writer.text.utf8)
    }
}
