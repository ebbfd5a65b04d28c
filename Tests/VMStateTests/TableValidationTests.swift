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

    /// A chain of `levels` descriptions named PREFIX0, PREFIX1, ...: each has a uint32 `v` at
    /// offset 0 and (but the last) a struct `next` at offset 4 holding the following one, so
    /// the chain lays out as `levels` consecutive uint32s. `subsection` gives the last one a
    /// subsection named LAST/`subsection` with one uint32 `w`.
    func chain(_ prefix: String, levels: Int, subsection: String? = nil) -> [UnsafePointer<VMStateDescription>] {
        var result: [UnsafePointer<VMStateDescription>] = []
        for level in (0..<levels).reversed() {
            let name = "\(prefix)\(level)"
            var fields = [field("v", flags: VMS_SINGLE.rawValue, info: VMSTATE_STD_UINT32.info)]
            if let next = result.first {
                var f = field("next", flags: VMS_STRUCT.rawValue)
                f.offset = 4
                f.size = 4 * (levels - level - 1)
                f.vmsd = next
                fields.append(f)
            }
            let subsections = subsection.flatMap { sub in
                result.isEmpty
                    ? [
                        description(
                            "\(name)/\(sub)",
                            fields: [field("w", flags: VMS_SINGLE.rawValue, info: VMSTATE_STD_UINT32.info)])
                    ]
                    : nil
            }
            result.insert(description(name, fields: fields, subsections: subsections), at: 0)
        }
        return result
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

    /// Two VSTRUCT entries of one name through one description: the same bytes at one
    /// struct_version_id, other fields at another (verify17 N4: a duplicate-field warning where
    /// QEMU saves other fields).
    @Test("lint: a VSTRUCT saved twice at one struct version, not at two")
    func vstructTwiceByStructVersion() throws {
        let t = ScratchTables()
        let inner = t.description(
            "inner", fields: [t.field("v", flags: VMS_SINGLE.rawValue, info: VMSTATE_STD_UINT32.info)])
        func dev(_ versions: (Int32, Int32)) -> UnsafePointer<VMStateDescription> {
            let entries = [versions.0, versions.1].map { version in
                var f = t.field("s", flags: VMS_VSTRUCT.rawValue)
                f.vmsd = inner
                f.struct_version_id = version
                return f
            }
            return t.description("dev", fields: entries)
        }
        #expect(VMStateLint.check(dev((1, 2))).isEmpty)
        #expect(
            VMStateLint.check(dev((2, 2))).map(\.description) == [
                "warning: dev/s: 2 fields are named \"s\" and two are the same entry (the field is saved twice); vmdesc calls them s[0]..s[1] [duplicate-field]"
            ])
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

    /// "ROOT/next/.../next" with `nexts` steps.
    static func chainPath(_ root: String, nexts: Int) -> String {
        ([root] + Array(repeating: "next", count: nexts)).joined(separator: "/")
    }

    /// The planner's message for a chain past 64 levels, at `path`.
    static func tooDeep(_ path: String) -> String {
        "\(path): descriptions nested deeper than 64 levels (at byte 0)"
    }

    @Test("a chain of 64 descriptions saves and loads; 65 and 5,000 are refused when planned, not by the stack")
    func nestingLimit() throws {
        let t = ScratchTables()
        let fits = t.chain("fits", levels: 64)
        var values = (0..<64).map { UInt32($0) * 3 + 1 }
        let bytes = try values.withUnsafeMutableBytes { try save(fits[0], $0.baseAddress!) }
        #expect(bytes == values.flatMap { withUnsafeBytes(of: $0.bigEndian, Array.init) })
        var loaded = [UInt32](repeating: 0, count: 64)
        try loaded.withUnsafeMutableBytes {
            try VMStateEngine.loadChecked(fits[0], opaque: $0.baseAddress!, size: $0.count, from: bytes)
        }
        #expect(loaded == values)

        let message = Self.tooDeep(Self.chainPath("deep0", nexts: 64))
        let deep = t.chain("deep", levels: 65)
        let error = try #require(addError(deep[0]))
        #expect(error.kind == .invalidTable && error.description == message)
        // Every level from the second on is itself at most 64 deep.
        #expect(addError(deep[1]) == nil)
        values.append(0)
        #expect(throws: error) { try values.withUnsafeMutableBytes { try save(deep[0], $0.baseAddress!) } }

        let huge = t.chain("huge", levels: 5000)
        #expect(addError(huge[0])?.description == Self.tooDeep(Self.chainPath("huge0", nexts: 64)))
    }

    @Test("the limit holds whichever description of a chain is planned first")
    func nestingLimitIsOrderFree() throws {
        let t = ScratchTables()
        // Planned from its middle first: o40 (60 levels) is fine and cached, and o0 reaches it.
        let o = t.chain("o", levels: 100)
        #expect(addError(o[40]) == nil)
        #expect(addError(o[0])?.description == Self.tooDeep(Self.chainPath("o0", nexts: 64)))
        // The same chain planned from its root first.
        let p = t.chain("p", levels: 100)
        #expect(addError(p[0])?.description == Self.tooDeep(Self.chainPath("p0", nexts: 64)))
        #expect(addError(p[40]) == nil)
        #expect(addError(p[35])?.description.hasPrefix("p35/next/") == true)
    }

    @Test("a subsection counts as a level, as in a checked load")
    func subsectionsAreLevels() throws {
        let t = ScratchTables()
        #expect(addError(t.chain("s", levels: 63, subsection: "extra")[0]) == nil)
        let deep = t.chain("t", levels: 64, subsection: "extra")
        #expect(addError(deep[0])?.description == Self.tooDeep(Self.chainPath("t0", nexts: 63) + "/extra"))
    }

    @Test("compressibility follows QEMU's recursive rule, remembered per description, and ends on a cycle")
    func compressibility() throws {
        let t = ScratchTables()
        let x = t.field("x", flags: VMS_SINGLE.rawValue, info: VMSTATE_STD_UINT32.info)
        func holding(_ vmsd: UnsafePointer<VMStateDescription>) -> VMStateField {
            var f = t.field("s", flags: VMS_STRUCT.rawValue)
            f.vmsd = vmsd
            return f
        }
        var known: [UnsafePointer<VMStateDescription>: Bool] = [:]
        func compressible(_ vmsd: UnsafePointer<VMStateDescription>) -> Bool {
            withUnsafePointer(to: holding(vmsd)) { Planner.canCompress(DecodedField($0), &known) }
        }
        // r holds a; a holds b (which has a subsection) and c (plain).
        let b = t.description("b", fields: [x], subsections: [t.description("b/sub", fields: [x])])
        let c = t.description("c", fields: [x])
        let a = t.description("a", fields: [holding(c), holding(b)])
        let r = t.description("r", fields: [x, holding(a)])
        #expect(!compressible(r))
        #expect(known == [r: false])  // c, visited on the way, is not concluded from r's answer
        #expect(compressible(c) && !compressible(a) && !compressible(b))
        #expect(known == [r: false, c: true, a: false, b: false])
        var exists = x
        exists.field_exists = { _, _ in true }
        #expect(withUnsafePointer(to: exists) { !Planner.canCompress(DecodedField($0), &known) })

        // A cycle through VMS_STRUCT (QEMU's rule would not end): compressible when every
        // description in it is, whichever is asked first.
        let p = t.description("p", fields: [x, x])
        let q = t.description("q", fields: [x, holding(p)])
        UnsafeMutablePointer(mutating: p.pointee.fields + 1).pointee = holding(q)
        known = [:]
        #expect(compressible(q) && compressible(p))
        known = [:]
        #expect(compressible(p) && known == [p: true, q: true])
        let u = t.description("u", fields: [x, exists])
        let v = t.description("v", fields: [x, holding(u)])
        UnsafeMutablePointer(mutating: u.pointee.fields).pointee = holding(v)
        known = [:]
        #expect(!compressible(u) && !compressible(v))
    }

    /// `struct Node { uint32_t v; uint32_t n; Node *kids; }`, kids a VARRAY_UINT32 of n
    /// Nodes through VMS_STRUCT | VMS_POINTER: a description that contains itself.
    fileprivate static func nodeTable(_ t: ScratchTables) -> UnsafePointer<VMStateDescription> {
        let node = t.description("node", fields: [])
        var kids = t.field("kids", flags: VMS_STRUCT.rawValue | VMS_POINTER.rawValue | VMS_VARRAY_UINT32.rawValue)
        kids.offset = 8
        kids.size = 16
        kids.num_offset = 4
        kids.vmsd = node
        var n = t.field("n", flags: VMS_SINGLE.rawValue, info: VMSTATE_STD_UINT32.info)
        n.offset = 4
        let fields = [t.field("v", flags: VMS_SINGLE.rawValue, info: VMSTATE_STD_UINT32.info), n, kids, VMStateField()]
        let list = UnsafeMutablePointer<VMStateField>.allocate(capacity: fields.count)
        list.initialize(from: fields, count: fields.count)
        UnsafeMutablePointer(mutating: node).pointee.fields = UnsafePointer(list)
        return node
    }

    @Test("a tree of nodes holding an array of their children through VMS_STRUCT saves, describes and loads")
    func treeThroughItself() throws {
        let node = Self.nodeTable(ScratchTables())
        // A root of value 1 with children 2 (no children) and 3 (one child, 4).
        let nodes = UnsafeMutableRawPointer.allocate(byteCount: 4 * 16, alignment: 8)
        defer { nodes.deallocate() }
        func set(_ i: Int, v: UInt32, n: UInt32, kids: Int?) {
            let p = nodes + 16 * i
            p.storeBytes(of: v, as: UInt32.self)
            p.storeBytes(of: n, toByteOffset: 4, as: UInt32.self)
            p.storeBytes(of: kids.map { nodes + 16 * $0 }, toByteOffset: 8, as: UnsafeMutableRawPointer?.self)
        }
        set(0, v: 1, n: 2, kids: 1)
        set(1, v: 2, n: 0, kids: nil)
        set(2, v: 3, n: 1, kids: 3)
        set(3, v: 4, n: 0, kids: nil)
        let (bytes, json) = try vmdescJSON(node, nodes)
        #expect(
            bytes == [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 0])
        // Described by the first child alone (QEMU's rule, as for any array of structs without
        // subsections or field_exists); a node without children has no "kids" entry.
        let element =
            #"{"vmsd_name": "node", "version": 1, "fields": [{"name": "v", "type": "uint32", "size": 4}, {"name": "n", "type": "uint32", "size": 4}]}"#
        #expect(
            json
                == #"{"vmsd_name": "node", "version": 1, "fields": [{"name": "v", "type": "uint32", "size": 4}, {"name": "n", "type": "uint32", "size": 4}, {"name": "kids", "array_len": 2, "type": "struct", "struct": "#
                + element + #", "size": 8}]}"#)

        for i in 0..<4 { (nodes + 16 * i).storeBytes(of: 0, as: UInt32.self) }
        try VMStateEngine.load(node, opaque: nodes, from: bytes)
        #expect((0..<4).map { (nodes + 16 * $0).load(as: UInt32.self) } == [1, 2, 3, 4])
    }

    @Test("lint agrees with the planner on nesting: a chain past 64 levels is an error, a tree is not")
    func lintOnNesting() throws {
        let t = ScratchTables()
        let recursive = { (findings: [VMStateLint.Finding]) in findings.filter { $0.rule == .recursiveStruct } }
        #expect(
            VMStateLint.check(t.chain("ld", levels: 65)[0]).map(\.description) == [
                "error: \(Self.chainPath("ld0", nexts: 64)): descriptions nested deeper than 64 levels [recursive-struct]"
            ])
        #expect(VMStateLint.check(t.chain("lf", levels: 64)[0]).isEmpty)
        // Trees: through a VARRAY of pointers, and hx-deep's list of children.
        #expect(recursive(VMStateLint.check(Self.nodeTable(t))).isEmpty)
        #expect(recursive(VMStateLint.check(try #require(hx_fixture("hx-deep")).pointee.vmsd)).isEmpty)
        // Through a single pointer: every node has a child, so no save ends.
        let x = t.field("x", flags: VMS_SINGLE.rawValue, info: VMSTATE_STD_UINT32.info)
        let selfish = t.description("selfish", fields: [x, x])
        var next = t.field("next", flags: VMS_STRUCT.rawValue | VMS_POINTER.rawValue)
        next.vmsd = selfish
        UnsafeMutablePointer(mutating: selfish.pointee.fields + 1).pointee = next
        #expect(
            recursive(VMStateLint.check(selfish)).map(\.description) == [
                "error: selfish/next: the description \"selfish\" contains itself [recursive-struct]"
            ])
    }

    @Test("a table that reaches itself and then breaks a rule is refused (its plans are freed)")
    func brokenAfterACycle() throws {
        let t = ScratchTables()
        let node = Self.nodeTable(t)
        let broken = t.description("node/extra", fields: [t.field("y", flags: VMS_SINGLE.rawValue)])
        let subsections = UnsafeMutablePointer<UnsafePointer<VMStateDescription>?>.allocate(capacity: 2)
        subsections.initialize(from: [broken, nil], count: 2)
        UnsafeMutablePointer(mutating: node).pointee.subsections = subsections
        #expect(addError(node)?.description == "node/extra/y: the field has neither info nor vmsd (at byte 0)")
    }

    @Test("a save or load nested deeper than the thread's stack holds fails instead of overflowing it")
    func nestingPastTheStack() throws {
        let node = Self.nodeTable(ScratchTables())
        let levels = 200_000
        let nodes = UnsafeMutableRawPointer.allocate(byteCount: levels * 16, alignment: 8)
        defer { nodes.deallocate() }
        /// A chain: node i holds node i + 1 as its only child (the last, none; `cycle`: itself).
        func link(cycle: Bool = false) {
            for i in 0..<levels {
                let p = nodes + 16 * i
                let last = i == levels - 1
                p.storeBytes(of: UInt32(i), as: UInt32.self)
                p.storeBytes(of: last && !cycle ? 0 : 1, toByteOffset: 4, as: UInt32.self)
                let kid = last ? (cycle ? p : nil) : p + 16
                p.storeBytes(of: kid, toByteOffset: 8, as: UnsafeMutableRawPointer?.self)
            }
        }
        let reason =
            "less than \(StackLimit.reserve >> 10) KiB of the thread's stack left (descriptions nested too deep for the stack, or a pointer cycle in the state)"
        func expectStackError(_ error: VMStateError?) {
            #expect(error?.kind == .boundExceeded && error?.reason == reason)
            #expect(error?.path.hasPrefix("node/kids/kids/kids/") == true)
            // The message shows the first and last 32 components of a path past 100 of them.
            guard let error else { return }
            let levels = error.path.split(separator: "/").count
            let shown =
                (["node"] + Array(repeating: "kids", count: 31) + ["(\(levels - 64) more)"]
                + Array(repeating: "kids", count: 32)).joined(separator: "/")
            #expect(levels <= 100 || error.description.hasPrefix(shown + ": " + reason + " (at byte "))
        }
        link()
        expectStackError(#expect(throws: VMStateError.self) { try VMStateEngine.save(node, opaque: nodes) })
        // A pointer cycle in the state, which no save could finish.
        link(cycle: true)
        expectStackError(#expect(throws: VMStateError.self) { try VMStateEngine.save(node, opaque: nodes) })

        // An unchecked load (no 64-level limit) of a stream as deep as the chain.
        link()
        var bytes: [UInt8] = []
        for i in 0..<levels {
            bytes += withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)
            bytes += [0, 0, 0, i == levels - 1 ? 0 : 1]
        }
        expectStackError(
            #expect(throws: VMStateError.self) { try VMStateEngine.load(node, opaque: nodes, from: bytes) })

        // On a thread of its own with a small stack (1 MiB): the same error, sooner.
        link(cycle: true)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var threadError: VMStateError? = nil
        // SAFETY: the thread is the only one using the table and the nodes until it signals.
        nonisolated(unsafe) let (table, state) = (node, nodes)
        let thread = Thread {
            do throws(VMStateError) { _ = try VMStateEngine.save(table, opaque: state) } catch { threadError = error }
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
        done.wait()
        expectStackError(threadError)
        #expect((threadError?.path.split(separator: "/").count ?? .max) < 200)
    }

    @Test("JSON nested deeper than the thread's stack holds (a vmdesc from the source) is refused, not a crash")
    func jsonNestingPastTheStack() {
        // 200,000 levels, allowed by the depth limit given: only the stack check stops it, on a
        // thread of 1 MiB (a registry load parses a stream's vmdesc on the caller's thread).
        let levels = 200_000
        let text =
            [UInt8](repeating: UInt8(ascii: "["), count: levels) + [UInt8](repeating: UInt8(ascii: "]"), count: levels)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var parseError: JSONParseError? = nil
        nonisolated(unsafe) var parsed = false
        let thread = Thread {
            do {
                try Self.parseDeep(text, maximumDepth: levels + 1)
                parsed = true
            } catch {
                parseError = error as? JSONParseError
            }
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
        done.wait()
        #expect(!parsed)
        #expect(parseError?.tooDeep == true)
        let message = parseError?.message ?? ""
        #expect(
            message.hasPrefix("nested too deep for the thread's stack (less than 256 KiB of it left at "), "\(message)")
        #expect((parseError?.offset ?? 0) > 0 && (parseError?.offset ?? .max) < levels)
    }

    static func parseDeep(_ text: [UInt8], maximumDepth: Int) throws {
        let value: Result<JSONValue, JSONParseError> = text.withUnsafeBytes { bytes in
            Result { () throws(JSONParseError) -> JSONValue in try JSONValue(parsing: bytes, maximumDepth: maximumDepth)
            }
        }
        _ = try value.get()
    }

    @Test("a save and a load on a stack of their own (a coroutine's) are not taken for the thread's")
    func coroutineStack() throws {
        // QEMU's incoming migration loads in a coroutine; its stack lies outside the thread's.
        final class Run: @unchecked Sendable {
            let node: UnsafePointer<VMStateDescription>
            let nodes = UnsafeMutableRawPointer.allocate(byteCount: 10 * 16, alignment: 8)
            var bytes: [UInt8] = []
            var error: VMStateError? = nil
            init(_ node: UnsafePointer<VMStateDescription>) { self.node = node }
            deinit { nodes.deallocate() }
        }
        let run = Run(Self.nodeTable(ScratchTables()))
        for i in 0..<10 {
            let p = run.nodes + 16 * i
            p.storeBytes(of: UInt32(i), as: UInt32.self)
            p.storeBytes(of: i < 9 ? 1 : 0, toByteOffset: 4, as: UInt32.self)
            p.storeBytes(of: i < 9 ? p + 16 : nil, toByteOffset: 8, as: UnsafeMutableRawPointer?.self)
        }
        let ran = stk_run_on_own_stack(
            1 << 20,
            { arg in
                let run = Unmanaged<Run>.fromOpaque(arg!).takeUnretainedValue()
                do throws(VMStateError) {
                    run.bytes = try VMStateEngine.save(run.node, opaque: run.nodes)
                    for i in 0..<10 { (run.nodes + 16 * i).storeBytes(of: 0, as: UInt32.self) }
                    try VMStateEngine.load(run.node, opaque: run.nodes, from: run.bytes)
                } catch {
                    run.error = error
                }
            }, Unmanaged.passUnretained(run).toOpaque())
        #expect(ran)
        #expect(run.error == nil)
        #expect(run.bytes == (0..<10).flatMap { [0, 0, 0, UInt8($0), 0, 0, 0, $0 < 9 ? 1 : 0] })
        #expect((0..<10).map { (run.nodes + 16 * $0).load(as: UInt32.self) } == Array(0..<10))
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
