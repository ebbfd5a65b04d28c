// Unusable tables fail when the description is planned (vmstate_registry_add, the first save or
// load), with the rule and the field named, not at the first save that reaches the field.
// docs/FORMAT.md §7 lists the rules; `vmstate lint` reports the same ones.

import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

/// A table built in the test: descriptions and fields in memory that stays put (never freed, see
/// the end of the class).
private final class ScratchTables {
    func string(_ s: String) -> UnsafePointer<CChar> {
        UnsafePointer(strdup(s)!)
    }

    /// A description with `fields` (an end-of-list entry is added) and `subsections`.
    func description(
        _ name: String?, fields: [VMStateField], subsections: [UnsafePointer<VMStateDescription>]? = nil
    ) -> UnsafePointer<VMStateDescription> {
        let list = UnsafeMutablePointer<VMStateField>.allocate(capacity: fields.count + 1)
        list.initialize(from: fields + [VMStateField()], count: fields.count + 1)
        var d = VMStateDescription()
        d.name = name.map { string($0) }
        d.version_id = 1
        d.minimum_version_id = 1
        d.fields = UnsafePointer(list)
        if let subsections {
            let subs = UnsafeMutablePointer<UnsafePointer<VMStateDescription>?>.allocate(
                capacity: subsections.count + 1)
            subs.initialize(from: subsections.map { Optional($0) } + [nil], count: subsections.count + 1)
            d.subsections = subs
        }
        let p = UnsafeMutablePointer<VMStateDescription>.allocate(capacity: 1)
        p.initialize(to: d)
        return UnsafePointer(p)
    }

    /// A 4-byte field at offset 0.
    func field(_ name: String, flags: UInt32, info: UnsafePointer<VMStateInfo>? = nil, num: Int32 = 0) -> VMStateField {
        var f = VMStateField()
        f.name = string(name)
        f.size = 4
        f.num = num
        f.info = info
        f.flags = VMStateFlags(rawValue: flags)
        return f
    }

    // Never freed: the engine keeps a description's plan keyed by its address for the life of
    // the process (tables are static in C), so a freed table whose address another test's table
    // reuses would find the other table's plan. The few bytes stay allocated on purpose.
}

/// The planted table named `name` in Tests/CFixtures/pc/lint_broken.c.
private func brokenTable(_ name: String) throws -> UnsafePointer<VMStateDescription> {
    try #require(lintBrokenTables().first { String(cString: $0.pointee.name) == name })
}

/// The message `Registry.add` refuses `vmsd` with (nil when it is accepted).
private func addError(_ vmsd: UnsafePointer<VMStateDescription>) -> VMStateError? {
    let opaque = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 16)
    defer { opaque.deallocate() }
    do {
        try Registry().add(idstr: "dev", instanceID: 0, vmsd: vmsd, opaque: opaque)
        return nil
    } catch {
        return error
    }
}

@Suite struct TableValidationTests {
    @Test("vmstate_registry_add refuses a field with neither info nor vmsd (VMS_SINGLE, size 4)")
    func registryAddRefusesFieldWithoutInfo() throws {
        let vmsd = try brokenTable("broken_info")
        var opaque = [UInt8](repeating: 0, count: 64)
        let reg = vmstate_registry_new()
        defer { vmstate_registry_free(reg) }
        var error: UnsafeMutablePointer<GError>? = nil
        let ok = vmstate_registry_add(reg, "dev", 0, vmsd, &opaque, &error)
        #expect(!ok)
        let err = try #require(error)
        defer { g_error_free(err) }
        #expect(err.pointee.domain == vmstate_error_quark())
        #expect(err.pointee.code == Int32(VMSTATE_ERROR_INVALID_TABLE.rawValue))
        #expect(
            String(cString: err.pointee.message) == "broken_info/x: the field has neither info nor vmsd (at byte 0)")
    }

    @Test("the same table fails vmstate_save_state with -EINVAL before writing a byte")
    func saveRefusesBeforeWriting() throws {
        let vmsd = try brokenTable("broken_info")
        var opaque = [UInt8](repeating: 0, count: 64)
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        let f = vmstate_file_new_output(out)
        #expect(vmstate_save_state(f, vmsd, &opaque, nil) == -22)
        _ = qemu_fclose(f)
        #expect(out.pointee.len == 0)
    }

    /// Each planted field-rule mistake: the table, then the exact error.
    static let plantedFieldRules: [(table: String, message: String)] = [
        ("broken_array_varray", "broken_array_varray/items: VMS_ARRAY and VMS_VARRAY_* are exclusive (at byte 0)"),
        ("broken_varray_flags", "broken_varray_flags/items: more than one VMS_VARRAY_* flag (at byte 0)"),
        ("broken_multiply", "broken_multiply/items: VMS_MULTIPLY without VMS_VBUFFER (at byte 0)"),
        ("broken_alloc", "broken_alloc/items: VMS_ALLOC without VMS_POINTER (at byte 0)"),
        (
            "broken_multiply_elements",
            "broken_multiply_elements/x: VMS_MULTIPLY_ELEMENTS without an element count (VMS_ARRAY or VMS_VARRAY_*) (at byte 0)"
        ),
        ("broken_struct", "broken_inner/missing: a struct field without vmsd (at byte 0)"),
        ("broken_info", "broken_info/x: the field has neither info nor vmsd (at byte 0)"),
        (
            "broken_subsection",
            "broken_subsection/elsewhere/sub: the name \"elsewhere/sub\" is not the parent's name \"broken_subsection\" followed by more; the loader hands such a subsection back to the caller, so it never loads (at byte 0)"
        ),
    ]

    @Test(
        "each planted mistake of a rule the engine relies on is refused when planned",
        arguments: plantedFieldRules.map(\.table))
    func plantedRuleRefused(_ table: String) throws {
        let want = try #require(Self.plantedFieldRules.first { $0.table == table }).message
        let error = try #require(addError(try brokenTable(table)))
        #expect(error.kind == .invalidTable)
        #expect(error.description == want)
    }

    @Test("warnings are not refused: a duplicate field name, a subsection without the parent/ separator")
    func warningsAccepted() throws {
        #expect(addError(try brokenTable("broken_duplicate")) == nil)
        let t = ScratchTables()
        let sub = t.description(
            "devextra", fields: [t.field("y", flags: VMS_SINGLE.rawValue, info: VMSTATE_STD_UINT32.info)])
        let dev = t.description(
            "dev", fields: [t.field("x", flags: VMS_SINGLE.rawValue, info: VMSTATE_STD_UINT32.info)],
            subsections: [sub])
        #expect(addError(dev) == nil)
    }

    @Test("VMS_MULTIPLY_ELEMENTS with num 0")
    func multiplyElementsZero() throws {
        let t = ScratchTables()
        let dev = t.description(
            "dev",
            fields: [
                t.field(
                    "x", flags: VMS_ARRAY.rawValue | VMS_MULTIPLY_ELEMENTS.rawValue, info: VMSTATE_STD_UINT32.info,
                    num: 0)
            ])
        #expect(addError(dev)?.description == "dev/x: VMS_MULTIPLY_ELEMENTS with num 0 (at byte 0)")
    }

    @Test("tmp, qtailq, qlist and gtree need a vmsd")
    func listInfosNeedVMSD() throws {
        let t = ScratchTables()
        for (info, name) in [
            (VMSTATE_STD_TMP, "tmp"), (VMSTATE_STD_QTAILQ, "qtailq"), (VMSTATE_STD_QLIST, "qlist"),
            (VMSTATE_STD_GTREE, "gtree"),
        ] {
            let dev = t.description("dev", fields: [t.field("l", flags: VMS_SINGLE.rawValue, info: info.info)])
            #expect(addError(dev)?.description == "dev/l: info \"\(name)\" without vmsd (at byte 0)")
        }
    }

    @Test("a field with neither info nor vmsd is refused also with VMS_MUST_EXIST when it has elements")
    func mustExistWithElements() throws {
        let t = ScratchTables()
        let dev = t.description("dev", fields: [t.field("v", flags: VMS_MUST_EXIST.rawValue | VMS_SINGLE.rawValue)])
        #expect(addError(dev)?.description == "dev/v: the field has neither info nor vmsd (at byte 0)")
        // VMSTATE_VALIDATE itself (VMS_ARRAY | VMS_MUST_EXIST, num 0) is fine.
        let ok = t.description("ok", fields: [t.field("v", flags: VMS_MUST_EXIST.rawValue | VMS_ARRAY.rawValue)])
        #expect(addError(ok) == nil)
    }

    @Test("subsections: a name, unique, at most 255 bytes")
    func subsectionNames() throws {
        let t = ScratchTables()
        let x = t.field("x", flags: VMS_SINGLE.rawValue, info: VMSTATE_STD_UINT32.info)

        let unnamed = t.description(nil, fields: [x])
        let a = t.description("a", fields: [x], subsections: [unnamed])
        #expect(addError(a)?.description == "a/?: a subsection has no name (at byte 0)")

        let twice = t.description("b/s", fields: [x])
        let b = t.description("b", fields: [x], subsections: [twice, twice])
        #expect(addError(b)?.description == "b/s: two subsections of \"b\" are named \"b/s\" (at byte 0)")

        let longName = "c/" + String(repeating: "n", count: 254)
        let long = t.description(longName, fields: [x])
        let c = t.description("c", fields: [x], subsections: [long])
        #expect(
            addError(c)?.description
                == "c/\(String(repeating: "n", count: 254)): the name is 256 bytes; the stream allows 255 (at byte 0)")
    }

    @Test("a broken subsection fails the parent even when it is never needed")
    func brokenSubsectionFailsParent() throws {
        let t = ScratchTables()
        let sub = t.description("p/s", fields: [t.field("y", flags: VMS_SINGLE.rawValue)])
        let p = t.description(
            "p", fields: [t.field("x", flags: VMS_SINGLE.rawValue, info: VMSTATE_STD_UINT32.info)],
            subsections: [sub])
        #expect(addError(p)?.description == "p/s/y: the field has neither info nor vmsd (at byte 0)")
    }

    @Test("the pc-machine tables and the engine fixtures all plan")
    func realTablesPlan() throws {
        for vmsd in VMStateSchema.descriptions(nullTerminated: pc_device_vmsd_list()) {
            #expect(addError(vmsd) == nil, "\(String(cString: vmsd.pointee.name))")
        }
    }

    @Test("the standard infos come from one list: numbering, addresses and names agree")
    func standardInfoList() {
        let names = VMStateStdKind.all.map { String(cString: $0.info.pointee.name) }
        #expect(
            names == [
                "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                "int32 equal", "int32 le", "uint8 equal", "uint16 equal", "uint32 equal", "int64 equal",
                "uint64", "CPU_Double_U", "buffer", "unused_buffer", "timer", "tmp", "bitmap", "qtailq",
                "gtree", "qlist",
            ])
        #expect(StandardKind.of(VMSTATE_STD_QLIST.info) == VMSTATE_STD_QLIST)
        #expect(vmstate_std_info(Int32(VMSTATE_STD_COUNT.rawValue)) == nil)
    }
}
