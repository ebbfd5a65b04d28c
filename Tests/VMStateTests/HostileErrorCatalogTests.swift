import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

/// One real failing load per error code, through the C API (the GError a C caller gets), and
/// the check that docs/errors.md shows each code with exactly that message.
///
/// After changing a message: `scripts/error-examples` regenerates the examples in the doc.
@Suite struct HostileErrorCatalogTests {
    struct Example {
        let kind: VMStateError.Kind
        let code: Int32
        let message: String
    }

    /// GError from a checked load of `bytes` into a blank (or sample) hx_ device.
    static func checkedLoad(
        _ name: String, _ bytes: [UInt8], sample: Bool = false, version: Int32? = nil, flags: UInt32 = 0,
        prepare: (UnsafeMutableRawPointer) -> Void = { _ in }
    ) -> (Int32, String) {
        let device = HxDevice(name, sample: sample)
        prepare(device.opaque)
        let gbytes = bytes.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
        defer { g_bytes_unref(gbytes) }
        var error: UnsafeMutablePointer<GError>? = nil
        let ok = vmstate_load_checked(
            device.vmsd, device.opaque, device.size, version ?? device.vmsd.pointee.version_id,
            gbytes, flags, &error)
        return take(ok, error)
    }

    /// GError from a registry load of a whole stream into the hx_ machine.
    static func streamLoad(_ bytes: [UInt8], flags: UInt32 = 0, expectMachine: String? = nil) -> (Int32, String) {
        let devices = ["hx-scalars", "hx-varray", "hx-ptr"].map { HxDevice($0) }
        let ram = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { ram.deallocate() }
        let reg = vmstate_registry_new()
        defer { vmstate_registry_free(reg) }
        for d in devices {
            _ = vmstate_registry_add_sized(
                reg, String(cString: d.fixture.pointee.name), 0, d.vmsd, d.opaque, d.size, nil)
        }
        _ = vmstate_registry_add_ram(reg, "pc.ram", ram, 4096, nil)
        if let expectMachine {
            let scratch = g_byte_array_new()
            _ = vmstate_registry_save(reg, expectMachine, scratch, nil)
            g_byte_array_unref(scratch)
        }
        let gbytes = bytes.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
        defer { g_bytes_unref(gbytes) }
        var error: UnsafeMutablePointer<GError>? = nil
        let ok = vmstate_registry_load(reg, gbytes, flags, &error)
        return take(ok, error)
    }

    static func take(_ ok: Bool, _ error: UnsafeMutablePointer<GError>?) -> (Int32, String) {
        guard !ok, let error else { return (0, "(no error)") }
        defer { g_error_free(error) }
        #expect(error.pointee.domain == vmstate_error_quark())
        return (error.pointee.code, String(cString: error.pointee.message))
    }

    static func ram(_ records: HxWire) -> [UInt8] {
        HxWire().u8(1).be32(0).u8(3).text("ram").be32(0).be32(4).raw(records.bytes).u8(0x7E).be32(0).bytes
    }

    /// The examples, in code order (some codes have more than one).
    static func examples() throws -> [Example] {
        var list: [Example] = []
        func add(_ kind: VMStateError.Kind, _ result: (Int32, String)) {
            list.append(Example(kind: kind, code: result.0, message: result.1))
        }
        let scalars = try HxDevice("hx-scalars", sample: true).save()

        add(.failed, checkedLoad("hx-scalars", scalars + [0, 0]))
        add(.shortInput, checkedLoad("hx-scalars", Array(scalars.prefix(100))))
        add(.versionTooNew, checkedLoad("hx-scalars", scalars, version: 3))
        add(.versionTooOld, checkedLoad("hx-scalars", scalars, version: 0))
        var eq = scalars
        eq[47] = 0x5B
        add(.mismatch, checkedLoad("hx-scalars", eq))
        var le = scalars
        le.replaceSubrange(66..<70, with: [0, 0, 0, 101])
        add(.mismatch, checkedLoad("hx-scalars", le))
        var tree = HxCollWire()
        tree.tree = [(7, 1, 1)]
        tree.treeCount = 3
        add(.mismatch, checkedLoad("hx-coll", tree.bytes))
        add(.badMarker, checkedLoad("hx-ptr", HxPtrWire(nullMarker: 0x00).bytes))
        var sub = HxNestWire()
        sub.tail = HxWire().subsection("hx-nest/zzz").be32(1).bytes
        add(.unknownSubsection, checkedLoad("hx-nest", sub.bytes))
        var unlucky = scalars
        unlucky.replaceSubrange(66..<70, with: [0, 0, 0, 13])
        add(.mustExist, checkedLoad("hx-scalars", unlucky))
        var dead = scalars
        dead.replaceSubrange(19..<23, with: [0xDE, 0xAD, 0xBE, 0xEF])
        add(.hookFailed, checkedLoad("hx-scalars", dead, flags: 0x4))
        add(.fieldFailed, checkedLoad("hx-custom", HxWire().be32(1).u8(2).text("hi").be16(0xFFFF).bytes))
        add(.boundExceeded, checkedLoad("hx-varray", HxVarrayWire(n8: 255).bytes))
        add(.boundExceeded, checkedLoad("hx-ptr", HxPtrWire(vlen: 4096).bytes))
        var alloc = HxPtrWire(nu32: 0x0FFF_FFFF)
        alloc.dataLimit = 16
        add(.boundExceeded, checkedLoad("hx-ptr", alloc.bytes))
        let deep = HxWire().be32(1)
        for i in 0..<70 { deep.u8(1).be32(UInt32(i)) }
        add(.boundExceeded, checkedLoad("hx-deep", deep.bytes))
        add(
            .invalidTable,
            checkedLoad("hx-ptr", HxPtrWire(vlen: 4).bytes) { opaque in
                opaque.assumingMemoryBound(to: HxPtr.self).pointee.vbuf = nil
            })

        let header = HxWire().be32(0x5145_564D).be32(3).u8(7).be32(4).text("tiny")
        add(.badStream, streamLoad(HxWire().be32(0x5145_564E).be32(3).bytes))
        add(
            .badStream,
            streamLoad(
                HxWire().raw(header.bytes).raw(HostileStreamTests.section(1, "hx-varray", HxVarrayWire().bytes + [0]))
                    .u8(0).bytes))
        add(
            .unknownSection,
            streamLoad(HxWire().raw(header.bytes).raw(HostileStreamTests.section(1, "serial", [1])).u8(0).bytes))
        add(.machineMismatch, streamLoad(HxWire().raw(header.bytes).u8(0).bytes, expectMachine: "pc-q35-7.2"))
        let page = HxWire().be64(4096 | 0x04).u8(6).text("pc.ram").be64(4096)
            .be64(0x1000 | 0x08).u8(6).text("pc.ram").fill(4096).be64(0x10)
        add(.ram, streamLoad(HxWire().raw(header.bytes).raw(ram(page)).u8(0).bytes))
        add(
            .boundExceeded,
            streamLoad(
                HxWire().raw(header.bytes).raw(
                    HostileStreamTests.section(1, "hx-varray", HxVarrayWire(n16: 9999).bytes)
                ).u8(0).bytes, flags: 0x4))
        return list
    }

    @Test func everyCodeHasItsOwnKindAndARealExample() throws {
        // The C enum and the Swift kinds are the same numbers.
        #expect(VMStateError.Kind.failed.rawValue == Int32(VMSTATE_ERROR_FAILED.rawValue))
        #expect(VMStateError.Kind.ram.rawValue == Int32(VMSTATE_ERROR_RAM.rawValue))
        #expect(VMStateError.Kind.allCases.count == Int(VMSTATE_ERROR_RAM.rawValue))
        let examples = try Self.examples()
        for example in examples {
            #expect(example.code == example.kind.rawValue, "\(example.kind): \(example.message)")
        }
        for kind in VMStateError.Kind.allCases {
            #expect(examples.contains { $0.kind == kind }, "no example for \(kind)")
        }
    }

    @Test func documentationShowsTheRealMessages() throws {
        let examples = try Self.examples()
        if ProcessInfo.processInfo.environment["VMSTATE_PRINT_ERROR_EXAMPLES"] != nil {
            for e in examples { print("EXAMPLE \(e.kind)\t\(e.message)") }
        }
        let doc = try TestPaths.readText(TestPaths.packageRoot + "/docs/errors.md")
        for e in examples {
            #expect(
                doc.contains(e.message),
                "docs/errors.md lacks the \(e.kind) example (run scripts/error-examples): \(e.message)")
        }
    }

    /// docs/C-API.md's table of `VMStateErrorCode`s, walked row by row: each row names one
    /// code, in the header's order, and each is produced by a real failing call (the catalog
    /// above) whose GError carries exactly that code.
    @Test func cAPICodeTableRowsAreRealCodes() throws {
        let doc = try TestPaths.readText(TestPaths.packageRoot + "/docs/C-API.md")
        guard let table = doc.range(of: "**`VMStateErrorCode`**") else {
            Issue.record("docs/C-API.md has no VMStateErrorCode table")
            return
        }
        let rows = doc[table.upperBound...].split(separator: "\n").drop { !$0.hasPrefix("|") }
            .prefix { $0.hasPrefix("|") }.dropFirst(2)
        let documented = rows.compactMap { row -> String? in
            guard let start = row.range(of: "`VMSTATE_ERROR_"), let end = row[start.upperBound...].firstIndex(of: "`")
            else { return nil }
            return "VMSTATE_ERROR_" + row[start.upperBound..<end]
        }
        #expect(documented.count == rows.count, "a row without a code")
        func cName(_ kind: VMStateError.Kind) -> String {
            "VMSTATE_ERROR_"
                + String(describing: kind).reduce(into: "") { out, c in
                    if c.isUppercase { out += "_" }
                    out += c.uppercased()
                }
        }
        let kinds = VMStateError.Kind.allCases
        #expect(documented == kinds.map(cName))
        let examples = try Self.examples()
        for kind in kinds {
            let example = examples.first { $0.kind == kind }
            #expect(example?.code == kind.rawValue, "\(cName(kind)): no real failure gives this code")
        }
    }
}
