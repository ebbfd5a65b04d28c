import CFixtures
import CVMState
import Testing

/// Every VMSTATE_* macro against QEMU 7.2's VMSTATE_* macro list: the fixture tables in Tests/CFixtures
/// use each macro, and Tests/CFixtures/macro_expectations.c pairs one use of each with the field
/// written out by hand. These tests compare the two member by member.
@Suite struct MacroTableTests {
    /// The 145 rows of QEMU 7.2's VMSTATE_* macro list (VMSTATE_END_OF_LIST included) and the eight
    /// kernel-typed forms VMSTATE_U8..U64 / _V.
    static let allMacroNames: [String] = [
        "VMSTATE_SINGLE_TEST", "VMSTATE_SINGLE_FULL", "VMSTATE_VALIDATE", "VMSTATE_POINTER",
        "VMSTATE_POINTER_TEST", "VMSTATE_ARRAY", "VMSTATE_2DARRAY", "VMSTATE_VARRAY_MULTIPLY",
        "VMSTATE_ARRAY_TEST", "VMSTATE_SUB_ARRAY", "VMSTATE_ARRAY_INT32_UNSAFE",
        "VMSTATE_VARRAY_INT32", "VMSTATE_VARRAY_UINT32", "VMSTATE_VARRAY_UINT32_ALLOC",
        "VMSTATE_VARRAY_UINT16_ALLOC", "VMSTATE_VARRAY_UINT16_UNSAFE", "VMSTATE_VSTRUCT_TEST",
        "VMSTATE_STRUCT_TEST", "VMSTATE_STRUCT_POINTER_V", "VMSTATE_STRUCT_POINTER_TEST_V",
        "VMSTATE_ARRAY_OF_POINTER", "VMSTATE_ARRAY_OF_POINTER_TO_STRUCT",
        "VMSTATE_STRUCT_SUB_ARRAY", "VMSTATE_STRUCT_ARRAY_TEST", "VMSTATE_STRUCT_2DARRAY_TEST",
        "VMSTATE_STRUCT_VARRAY_UINT8", "VMSTATE_STRUCT_VARRAY_POINTER_KNOWN",
        "VMSTATE_STRUCT_VARRAY_POINTER_INT32", "VMSTATE_STRUCT_VARRAY_POINTER_UINT32",
        "VMSTATE_STRUCT_VARRAY_POINTER_UINT16", "VMSTATE_STRUCT_VARRAY_INT32",
        "VMSTATE_STRUCT_VARRAY_UINT32", "VMSTATE_STRUCT_VARRAY_ALLOC", "VMSTATE_STATIC_BUFFER",
        "VMSTATE_VBUFFER_MULTIPLY", "VMSTATE_VBUFFER", "VMSTATE_VBUFFER_UINT32",
        "VMSTATE_VBUFFER_ALLOC_UINT32", "VMSTATE_BUFFER_UNSAFE_INFO_TEST",
        "VMSTATE_BUFFER_POINTER_UNSAFE", "VMSTATE_WITH_TMP", "VMSTATE_UNUSED_BUFFER",
        "VMSTATE_UNUSED_VARRAY_UINT32", "VMSTATE_BITMAP", "VMSTATE_QTAILQ_V", "VMSTATE_GTREE_V",
        "VMSTATE_GTREE_DIRECT_KEY_V", "VMSTATE_QLIST_V", "VMSTATE_SINGLE", "VMSTATE_VSTRUCT",
        "VMSTATE_VSTRUCT_V", "VMSTATE_STRUCT", "VMSTATE_STRUCT_POINTER",
        "VMSTATE_STRUCT_POINTER_TEST", "VMSTATE_STRUCT_ARRAY", "VMSTATE_STRUCT_2DARRAY",
        "VMSTATE_BUFFER_UNSAFE_INFO", "VMSTATE_BOOL_V", "VMSTATE_INT8_V", "VMSTATE_INT16_V",
        "VMSTATE_INT32_V", "VMSTATE_INT64_V", "VMSTATE_UINT8_V", "VMSTATE_UINT16_V",
        "VMSTATE_UINT32_V", "VMSTATE_UINT64_V", "VMSTATE_BOOL", "VMSTATE_INT8", "VMSTATE_INT16",
        "VMSTATE_INT32", "VMSTATE_INT64", "VMSTATE_UINT8", "VMSTATE_UINT16", "VMSTATE_UINT32",
        "VMSTATE_UINT64", "VMSTATE_UINT8_EQUAL", "VMSTATE_UINT16_EQUAL", "VMSTATE_UINT16_EQUAL_V",
        "VMSTATE_INT32_EQUAL", "VMSTATE_UINT32_EQUAL_V", "VMSTATE_UINT32_EQUAL",
        "VMSTATE_UINT64_EQUAL_V", "VMSTATE_UINT64_EQUAL", "VMSTATE_INT32_POSITIVE_LE",
        "VMSTATE_BOOL_TEST", "VMSTATE_INT8_TEST", "VMSTATE_INT16_TEST", "VMSTATE_INT32_TEST",
        "VMSTATE_INT64_TEST", "VMSTATE_UINT8_TEST", "VMSTATE_UINT16_TEST", "VMSTATE_UINT32_TEST",
        "VMSTATE_UINT64_TEST", "VMSTATE_TIMER_PTR_TEST", "VMSTATE_TIMER_PTR_V",
        "VMSTATE_TIMER_PTR", "VMSTATE_TIMER_PTR_ARRAY", "VMSTATE_TIMER_TEST", "VMSTATE_TIMER_V",
        "VMSTATE_TIMER", "VMSTATE_TIMER_ARRAY", "VMSTATE_BOOL_ARRAY_V", "VMSTATE_BOOL_ARRAY",
        "VMSTATE_BOOL_SUB_ARRAY", "VMSTATE_UINT16_ARRAY_V", "VMSTATE_UINT16_2DARRAY_V",
        "VMSTATE_UINT16_ARRAY", "VMSTATE_UINT16_SUB_ARRAY", "VMSTATE_UINT16_2DARRAY",
        "VMSTATE_UINT8_2DARRAY_V", "VMSTATE_UINT8_ARRAY_V", "VMSTATE_UINT8_ARRAY",
        "VMSTATE_UINT8_SUB_ARRAY", "VMSTATE_UINT8_2DARRAY", "VMSTATE_UINT32_ARRAY_V",
        "VMSTATE_UINT32_2DARRAY_V", "VMSTATE_UINT32_ARRAY", "VMSTATE_UINT32_SUB_ARRAY",
        "VMSTATE_UINT32_2DARRAY", "VMSTATE_UINT64_ARRAY_V", "VMSTATE_UINT64_ARRAY",
        "VMSTATE_UINT64_SUB_ARRAY", "VMSTATE_UINT64_2DARRAY", "VMSTATE_UINT64_2DARRAY_V",
        "VMSTATE_INT16_ARRAY_V", "VMSTATE_INT16_ARRAY", "VMSTATE_INT32_ARRAY_V",
        "VMSTATE_INT32_ARRAY", "VMSTATE_INT64_ARRAY_V", "VMSTATE_INT64_ARRAY",
        "VMSTATE_CPUDOUBLE_ARRAY_V", "VMSTATE_CPUDOUBLE_ARRAY", "VMSTATE_BUFFER_V",
        "VMSTATE_BUFFER", "VMSTATE_PARTIAL_BUFFER", "VMSTATE_BUFFER_START_MIDDLE_V",
        "VMSTATE_BUFFER_START_MIDDLE", "VMSTATE_PARTIAL_VBUFFER", "VMSTATE_PARTIAL_VBUFFER_UINT32",
        "VMSTATE_BUFFER_TEST", "VMSTATE_BUFFER_UNSAFE", "VMSTATE_UNUSED_V", "VMSTATE_UNUSED",
        "VMSTATE_UNUSED_TEST", "VMSTATE_END_OF_LIST", "VMSTATE_U8", "VMSTATE_U16", "VMSTATE_U32",
        "VMSTATE_U64", "VMSTATE_U8_V", "VMSTATE_U16_V", "VMSTATE_U32_V", "VMSTATE_U64_V",
    ]

    /// The C entries, in file order.
    static func entries() -> [UnsafePointer<FxMacroExpectation>] {
        (0..<fx_macro_expectation_count()).compactMap { fx_macro_expectation_at($0) }
    }

    static func entry(named macro: String) -> UnsafePointer<FxMacroExpectation>? {
        entries().first { String(cString: $0.pointee.macro) == macro }
    }

    /// Every fixture description (devices, nested structs, subsections, tmp).
    static func tables() -> [FxTable] {
        (0..<fx_table_count()).compactMap { fx_table_at($0)?.pointee }
    }

    @Test func theNameListHas153DistinctMacros() {
        #expect(Self.allMacroNames.count == 153)
        #expect(Set(Self.allMacroNames).count == 153)
    }

    @Test func theExpectationsCoverExactlyTheSpecMacros() {
        let names = Self.entries().map { String(cString: $0.pointee.macro) }
        #expect(names.count == 153, "one entry per macro")
        var seen = Set<String>()
        for name in names where !seen.insert(name).inserted {
            Issue.record("\(name) has more than one entry")
        }
        let expected = Set(Self.allMacroNames)
        for missing in expected.subtracting(seen).sorted() {
            Issue.record("\(missing) has no entry in macro_expectations.c")
        }
        for extra in seen.subtracting(expected).sorted() {
            Issue.record("\(extra) is not a macro of the spec")
        }
    }

    /// The members of `actual` that differ from `expected`, each with both values.
    static func mismatches(_ actual: VMStateField, _ expected: VMStateField) -> [(
        member: String, detail: String
    )] {
        func string(_ p: UnsafePointer<CChar>?) -> String { p.map { "\"\(String(cString: $0))\"" } ?? "NULL" }
        func same(_ x: UnsafePointer<CChar>?, _ y: UnsafePointer<CChar>?) -> Bool {
            switch (x, y) {
            case (nil, nil): return true
            case let (x?, y?): return String(cString: x) == String(cString: y)
            default: return false
            }
        }
        func address(_ f: (@convention(c) (UnsafeMutableRawPointer?, Int32) -> Bool)?)
            -> UnsafeRawPointer?
        {
            unsafeBitCast(f, to: UnsafeRawPointer?.self)
        }
        func describe(_ p: UnsafeRawPointer?) -> String { p.map { "\($0)" } ?? "NULL" }
        func infoName(_ p: UnsafePointer<VMStateInfo>?) -> String {
            p.map { string($0.pointee.name) } ?? "NULL"
        }
        func vmsdName(_ p: UnsafePointer<VMStateDescription>?) -> String {
            p.map { string($0.pointee.name) } ?? "NULL"
        }
        let a = actual
        let e = expected
        var out: [(String, String)] = []
        func check(
            _ member: String, _ equal: Bool, _ got: @autoclosure () -> String,
            _ want: @autoclosure () -> String
        ) {
            if !equal { out.append((member, "is \(got()), expected \(want())")) }
        }
        check("name", same(a.name, e.name), string(a.name), string(e.name))
        check("err_hint", same(a.err_hint, e.err_hint), string(a.err_hint), string(e.err_hint))
        check("offset", a.offset == e.offset, "\(a.offset)", "\(e.offset)")
        check("size", a.size == e.size, "\(a.size)", "\(e.size)")
        check("start", a.start == e.start, "\(a.start)", "\(e.start)")
        check("num", a.num == e.num, "\(a.num)", "\(e.num)")
        check("num_offset", a.num_offset == e.num_offset, "\(a.num_offset)", "\(e.num_offset)")
        check("size_offset", a.size_offset == e.size_offset, "\(a.size_offset)", "\(e.size_offset)")
        check("info", a.info == e.info, infoName(a.info), infoName(e.info))
        check(
            "flags", a.flags.rawValue == e.flags.rawValue,
            "0x" + String(a.flags.rawValue, radix: 16), "0x" + String(e.flags.rawValue, radix: 16))
        check("vmsd", a.vmsd == e.vmsd, vmsdName(a.vmsd), vmsdName(e.vmsd))
        check("version_id", a.version_id == e.version_id, "\(a.version_id)", "\(e.version_id)")
        check(
            "struct_version_id", a.struct_version_id == e.struct_version_id,
            "\(a.struct_version_id)", "\(e.struct_version_id)")
        check(
            "field_exists", address(a.field_exists) == address(e.field_exists),
            describe(address(a.field_exists)), describe(address(e.field_exists)))
        return out.map { (member: $0.0, detail: $0.1) }
    }

    @Test(arguments: MacroTableTests.allMacroNames)
    func macroProducesTheSpecField(_ macro: String) throws {
        let entry = try #require(Self.entry(named: macro), "\(macro) has no entry")
        let actual = try #require(entry.pointee.actual, "\(macro): no actual field")
        for m in Self.mismatches(actual.pointee, entry.pointee.expected) {
            Issue.record("\(macro): member \(m.member) \(m.detail)")
        }
    }

    /// The comparison is only worth something if it can fail: changing any one member of a
    /// field must be reported as a mismatch of exactly that member.
    @Test func theComparisonNoticesEachMember() throws {
        let base = try #require(Self.entry(named: "VMSTATE_VBUFFER_UINT32")?.pointee.expected)
        #expect(Self.mismatches(base, base).isEmpty)
        let other = try #require(Self.entry(named: "VMSTATE_STRUCT_TEST")?.pointee.expected)
        let changes: [(String, (inout VMStateField) -> Void)] = [
            ("name", { $0.name = other.name }),
            ("err_hint", { $0.err_hint = other.name }),
            ("offset", { $0.offset += 1 }),
            ("size", { $0.size += 1 }),
            ("start", { $0.start += 1 }),
            ("num", { $0.num += 1 }),
            ("num_offset", { $0.num_offset += 1 }),
            ("size_offset", { $0.size_offset += 1 }),
            ("info", { $0.info = nil }),
            ("flags", { $0.flags = VMStateFlags(rawValue: $0.flags.rawValue ^ VMS_ALLOC.rawValue) }),
            ("vmsd", { $0.vmsd = other.vmsd }),
            ("version_id", { $0.version_id += 1 }),
            ("struct_version_id", { $0.struct_version_id += 1 }),
            ("field_exists", { $0.field_exists = other.field_exists }),
        ]
        #expect(changes.count == 14, "every member of VMStateField")
        for (member, change) in changes {
            var changed = base
            change(&changed)
            #expect(Self.mismatches(changed, base).map(\.member) == [member], "changing \(member)")
        }
    }

    @Test func everyActualFieldIsInsideAFixtureTable() {
        let tables = Self.tables()
        for entry in Self.entries() {
            let macro = String(cString: entry.pointee.macro)
            guard let actual = entry.pointee.actual else {
                Issue.record("\(macro): no actual field")
                continue
            }
            let inside = tables.contains { t in
                guard let fields = t.fields else { return false }
                return actual >= fields && actual < fields + t.field_count
            }
            #expect(inside, "\(macro): the actual field is not in any fixture table")
        }
    }

    @Test func everyFieldTableEndsWithAnAllZeroEntry() throws {
        let tables = Self.tables()
        #expect(tables.count == 20)
        for t in tables {
            let vmsd = try #require(t.vmsd).pointee
            let name = String(cString: vmsd.name)
            let fields = try #require(t.fields, "\(name): no fields")
            #expect(vmsd.fields == UnsafePointer(fields), "\(name): vmsd.fields is not the listed table")
            #expect(t.field_count >= 1, "\(name): empty table")
            guard t.field_count >= 1 else { continue }
            for i in 0..<(t.field_count - 1) {
                #expect(fields[i].name != nil, "\(name): entry \(i) ends the walk early")
            }
            let z = fields[t.field_count - 1]
            let allZero =
                z.name == nil && z.err_hint == nil && z.offset == 0 && z.size == 0 && z.start == 0
                && z.num == 0 && z.num_offset == 0 && z.size_offset == 0 && z.info == nil
                && z.flags.rawValue == 0 && z.vmsd == nil && z.version_id == 0
                && z.struct_version_id == 0 && z.field_exists == nil
            #expect(allZero, "\(name): the last entry is not all zero")
        }
    }

    @Test func subsectionListsAreNullTerminatedAndPrefixedByTheParent() throws {
        var withSubsections = 0
        for t in Self.tables() {
            let vmsd = try #require(t.vmsd).pointee
            let name = String(cString: vmsd.name)
            #expect(vmsd.subsections == t.subsections, "\(name): vmsd.subsections is not the listed list")
            guard let subs = t.subsections else {
                #expect(t.subsection_count == 0, "\(name)")
                continue
            }
            withSubsections += 1
            #expect(t.subsection_count >= 2, "\(name): a list needs an entry and the NULL")
            #expect(subs[t.subsection_count - 1] == nil, "\(name): subsections not NULL-terminated")
            for i in 0..<(t.subsection_count - 1) {
                let sub = try #require(subs[i], "\(name): subsection \(i) is NULL before the end")
                let subName = String(cString: sub.pointee.name)
                #expect(subName.hasPrefix(name + "/"), "\(subName) does not start with \(name)/")
                #expect(sub.pointee.needed != nil, "\(subName): no needed callback")
            }
        }
        #expect(withSubsections == 2)
    }

    @Test func everyDeviceInitsAndCleansUp() throws {
        #expect(fx_device_count() == 6)
        for i in 0..<fx_device_count() {
            let device = try #require(fx_device_at(i)).pointee
            #expect(device.vmsd != nil)
            for seed: UInt32 in [0, 1, 7] {
                let state = UnsafeMutableRawPointer.allocate(
                    byteCount: device.state_size, alignment: 16)
                state.initializeMemory(as: UInt8.self, repeating: 0, count: device.state_size)
                device.`init`(state, seed)
                // the fixture's own VALIDATE entries accept what init produced
                var field = device.vmsd.pointee.fields
                while let f = field, f.pointee.name != nil {
                    if f.pointee.flags.rawValue & VMS_MUST_EXIST.rawValue != 0,
                        let test = f.pointee.field_exists
                    {
                        #expect(
                            test(state, device.vmsd.pointee.version_id),
                            "\(String(cString: device.name)) seed \(seed): \(String(cString: f.pointee.name))")
                    }
                    field = f + 1
                }
                device.cleanup(state)
                state.deallocate()
            }
        }
    }
}
