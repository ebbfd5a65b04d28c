import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

/// One hx_ fixture device (Tests/CFixtures/hostile): a struct of exactly the fixture's size,
/// set up by its init and torn down (with whatever a load allocated) when this goes away.
final class HxDevice {
    let fixture: UnsafePointer<HxFixture>
    let opaque: UnsafeMutableRawPointer

    init(_ name: String, sample: Bool = false) {
        fixture = hx_fixture(name)!
        opaque = hx_create(fixture, sample)
    }

    deinit { hx_destroy(fixture, opaque) }

    var vmsd: UnsafePointer<VMStateDescription> { fixture.pointee.vmsd }
    var size: Int { fixture.pointee.size }
    /// A hash of the struct and everything reachable from it (lists, trees, allocated buffers).
    var digest: UInt64 { fixture.pointee.digest(opaque) }

    func state<T>(_: T.Type) -> UnsafeMutablePointer<T> { opaque.assumingMemoryBound(to: T.self) }

    func save() throws -> [UInt8] { try VMStateEngine.save(vmsd, opaque: opaque) }

    func load(_ bytes: [UInt8], version: Int32? = nil, transactional: Bool = false) throws(VMStateError) {
        try VMStateEngine.loadChecked(
            vmsd, opaque: opaque, size: size, version: version, from: bytes,
            options: transactional ? .transactional : [])
    }

    /// The error a checked load of `bytes` fails with (recording an issue if it succeeds).
    func loadError(
        _ bytes: [UInt8], version: Int32? = nil, transactional: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> VMStateError {
        do {
            try load(bytes, version: version, transactional: transactional)
        } catch {
            return error
        }
        Issue.record("the load unexpectedly succeeded", sourceLocation: sourceLocation)
        return VMStateError(.failed, reason: "no error")
    }
}

/// Builds wire bytes (big-endian, as the stream has them); calls chain.
final class HxWire {
    var bytes: [UInt8] = []

    @discardableResult func u8(_ v: UInt8) -> HxWire { bytes.append(v); return self }
    @discardableResult func be16(_ v: UInt16) -> HxWire { put(v.bigEndian); return self }
    @discardableResult func be32(_ v: UInt32) -> HxWire { put(v.bigEndian); return self }
    @discardableResult func i32(_ v: Int32) -> HxWire { be32(UInt32(bitPattern: v)) }
    @discardableResult func be64(_ v: UInt64) -> HxWire { put(v.bigEndian); return self }
    @discardableResult func raw(_ v: [UInt8]) -> HxWire { bytes += v; return self }
    @discardableResult func fill(_ count: Int, _ byte: UInt8 = 0x5A) -> HxWire {
        bytes += [UInt8](repeating: byte, count: max(0, count))
        return self
    }
    @discardableResult func text(_ s: String) -> HxWire { bytes += Array(s.utf8); return self }
    /// A subsection header: 0x05, name length, name, be32 version.
    @discardableResult func subsection(_ name: String, version: UInt32 = 1) -> HxWire {
        u8(5).u8(UInt8(name.utf8.count)).text(name).be32(version)
    }

    private func put<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v) { bytes += $0 }
    }
}

/// hx-varray on the wire: the seven counters, then each array with the number of elements its
/// counter says (negative counts give none), then `tail`.
struct HxVarrayWire {
    var n8: UInt8 = 0, n16: UInt16 = 0, n32: Int32 = 0, nu32: UInt32 = 0, ni32: Int32 = 0
    var nmul: UInt32 = 0, nunused: UInt32 = 0
    /// Caps the data written per array (the counters themselves stay as set).
    var dataLimit = 4096

    var bytes: [UInt8] {
        let w = HxWire()
        w.u8(n8).be16(n16).i32(n32).be32(nu32).i32(ni32).be32(nmul).be32(nunused)
        func count(_ n: Int) -> Int { max(0, min(n, dataLimit)) }
        w.fill(count(Int(n8)) * 6).fill(count(Int(n32)) * 6).fill(count(Int(nu32)) * 6)
        w.fill(count(Int(n16)) * 2).fill(count(Int(ni32)) * 4).fill(count(Int(nmul) * 3)).fill(
            count(Int(nunused)) * 2, 0)
        w.be32(0x7A17)
        return w.bytes
    }
}

/// hx-ptr on the wire: the thirteen counters, then every pointer field in table order.
struct HxPtrWire {
    var n16: UInt16 = 0, nu32: UInt32 = 0, nstruct: Int32 = 0, blen: UInt32 = 0, vlen: Int32 = 0
    var vulen: UInt32 = 0, mlen: UInt32 = 0, ni32: Int32 = 0, nvu32: UInt32 = 0, bits: Int32 = 0
    var nsp32: Int32 = 0, nspu32: UInt32 = 0, nsp16: UInt16 = 0
    /// The marker written for the NULL entries of `nulls` (0x30 is right).
    var nullMarker: UInt8 = 0x30
    var dataLimit = 1 << 16

    var bytes: [UInt8] {
        let w = HxWire()
        w.be16(n16).be32(nu32).i32(nstruct).be32(blen).i32(vlen).be32(vulen).be32(mlen).i32(ni32)
        w.be32(nvu32).i32(bits).i32(nsp32).be32(nspu32).be16(nsp16)
        func count(_ n: Int) -> Int { max(0, min(n, dataLimit)) }
        w.fill(count(Int(n16)) * 2).fill(count(Int(nu32)) * 4).fill(count(Int(nstruct)) * 6)
        w.fill(count(Int(blen))).fill(count(Int(vlen))).fill(count(Int(vulen))).fill(count(Int(mlen) * 4))
        w.fill(count(Int(ni32)) * 4).fill(count(Int(nvu32)) * 4).fill(count((Int(bits) + 63) / 64) * 8)
        w.be64(0x7661_6C75_6521)  // pval
        w.fill(6)  // sp
        w.fill(count(Int(nsp32)) * 6).fill(count(Int(nspu32)) * 6).fill(count(Int(nsp16)) * 6)
        w.fill(12)  // known
        w.fill(4)  // raw
        w.fill(6).u8(0x30).fill(6)  // pa: two structs around a NULL
        w.be64(UInt64(bitPattern: -1)).u8(0x30)  // tp: a stopped timer, then NULL
        w.u8(0x30).u8(nullMarker)  // nulls
        return w.bytes
    }
}

/// hx-coll on the wire.
struct HxCollWire {
    var elements: [(id: UInt32, data: [UInt8])] = []
    /// The `len` each element claims (default: its data's length).
    var claimedLengths: [UInt32?] = []
    var links: [UInt16] = []
    var treeCount: Int32? = nil
    var tree: [(key: UInt64, a: UInt32, b: UInt32)] = []
    var dtreeCount: Int32? = nil
    var dtree: [(key: UInt64, a: UInt32, b: UInt32)] = []
    var after: UInt32 = 0xAF7E

    var bytes: [UInt8] {
        let w = HxWire()
        w.be32(0xBEF0)
        for (i, e) in elements.enumerated() {
            let claimed = i < claimedLengths.count ? claimedLengths[i] : nil
            w.u8(1).be32(e.id).be32(claimed ?? UInt32(e.data.count)).raw(e.data)
        }
        w.u8(0)
        for v in links { w.u8(1).be16(v) }
        w.u8(0)
        w.i32(treeCount ?? Int32(tree.count))
        for n in tree { w.u8(1).be64(n.key).be32(n.a).be32(n.b) }
        w.u8(0)
        w.i32(dtreeCount ?? Int32(dtree.count))
        for n in dtree { w.u8(1).be64(n.key).be32(n.a).be32(n.b) }
        w.u8(0)
        w.be32(after)
        return w.bytes
    }
}

/// hx-nest on the wire at version 3: the structs (hx-inner at version 2: x, y[2]), the
/// VSTRUCT at version 1 (x only), has_tested, tested, the tmp (n, then n values), then `tail`
/// (subsections).
struct HxNestWire {
    var hasTested: Bool = false
    var tmpCount: UInt16 = 0
    var tmpValues: Int? = nil
    var tail: [UInt8] = []

    var bytes: [UInt8] {
        let w = HxWire()
        for i in 0..<(1 + 3 + 4 + 2) { w.be32(UInt32(0x100 + i)).u8(1).u8(2) }
        w.be32(0x500)  // v, struct version 1
        w.u8(hasTested ? 1 : 0)
        if hasTested { w.be32(0x600).u8(6).u8(6) }
        w.be16(tmpCount)
        for i in 0..<(tmpValues ?? Int(tmpCount)) { w.be16(UInt16(0x7000 + i)) }
        w.raw(tail)
        return w.bytes
    }
}

/// The repository's fuzz inputs (fuzz/regressions/<target>, fuzz/corpus/<target>).
enum HxFuzzInputs {
    static func files(_ target: String, _ kind: String) -> [URL] {
        let dir = URL(fileURLWithPath: TestPaths.packageRoot + "/fuzz/\(kind)/\(target)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir.appendingPathComponent($0) }
    }
}
