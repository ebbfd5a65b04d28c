import Testing
import VMState
import VMStateAnalysis

#if canImport(Glibc)
    import Glibc
#endif

/// `vmstate analyze` on a stream larger than 4 GiB, run in a child process whose address space
/// is limited (`ulimit -v`, i.e. RLIMIT_AS) to 256 MiB.
///
/// Why 256 MiB: the tool itself (the Swift runtime, GLib, the executable's mappings and thread
/// stacks) runs in under 64 MiB of address space on a small stream (measured: `ulimit -v 65536`
/// suffices), and the analyzer maps at most one 32 MiB window of the stream at a time (plus the
/// tail where the vmdesc sits). 256 MiB leaves room for that and for allocator slack, while a
/// reader that mapped or read the whole 4.3 GiB stream (as the analyzer did before) fails at once.
/// The limit bounds address space, which bounds memory too.
@Suite(.enabled(if: Tool.path != nil, "the vmstate executable is not built next to the tests"))
struct AnalyzeLargeStreamTests {
    /// 0x110000000 bytes (4.25 GiB) of RAM in one block: 0x110000 PAGE records of 4 KiB (the
    /// first names the block, the rest CONTINUE it), each page filled with 0xa5. The stream is
    /// 8 (header) + 17 (section start) + 31 (sizes) + 5 (part) + 4111 (first page) + 0x10ffff ×
    /// 4104 (the others) + 8 (EOS) + 13 (section end) + 6 (EOF, vmdesc marker and length) + 34
    /// (JSON) = 4,572,315,777 bytes.
    static let blockLength: UInt64 = 0x1_1000_0000
    static let pageCount = Int(blockLength / 4096)

    /// Writes the stream to `path` in 1 MiB pieces; returns its length.
    static func writeStream(_ path: String) throws -> Int {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StreamFileError(path: path, operation: "open", reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var written = 0
        func put(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { b in
                var done = 0
                while done < b.count {
                    let n = write(fd, b.baseAddress! + done, b.count - done)
                    guard n > 0 else {
                        throw StreamFileError(path: path, operation: "write", reason: String(cString: strerror(errno)))
                    }
                    done += n
                }
            }
            written += bytes.count
        }
        func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        func be64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        let name: [UInt8] = [6] + Array("pc.ram".utf8)
        let pattern = [UInt8](repeating: 0xa5, count: 4096)
        // Header; section start: id 2, "ram", instance 0, version 4; MEM_SIZE; EOS.
        try put(Array("QEVM".utf8) + be32(3))
        try put([0x01] + be32(2) + [3] + Array("ram".utf8) + be32(0) + be32(4))
        try put(be64(blockLength | 0x04) + name + be64(blockLength) + be64(0x10))
        // Section part: the pages.
        try put([0x02] + be32(2))
        try put(be64(0x08) + name + pattern)
        let perChunk = 256
        var chunk = [UInt8]()
        chunk.reserveCapacity(perChunk * 4104)
        for _ in 0..<perChunk { chunk += be64(0) + pattern }
        var page = 1
        while page < pageCount {
            let n = min(perChunk, pageCount - page)
            for k in 0..<n {
                let header = UInt64(page + k) * 4096 | 0x28  // PAGE | CONTINUE
                withUnsafeBytes(of: header.bigEndian) { h in
                    for i in 0..<8 { chunk[k * 4104 + i] = h[i] }
                }
            }
            try put(n == perChunk ? chunk : Array(chunk[0..<(n * 4104)]))
            page += n
        }
        try put(be64(0x10))
        // Section end, end of stream, vmdesc.
        try put([0x03] + be32(2) + be64(0x10))
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        try put([0x00, 0x06] + be32(UInt32(json.count)) + json)
        return written
    }

    /// Runs `vmstate ARGS` under `ulimit -v KIB` (through /bin/sh), output captured; with
    /// `stdinFrom`, the tool's standard input is a pipe fed by `cat FILE`.
    static func runLimited(kib: Int, _ args: [String], stdinFrom: String? = nil) throws -> Tool.Result {
        let tool = try #require(Tool.path)
        let script =
            stdinFrom == nil ? "ulimit -v \(kib) && exec \"$@\"" : "cat \"$0\" | (ulimit -v \(kib) && exec \"$@\")"
        return try Tool.spawn("/bin/sh", ["/bin/sh", "-c", script, stdinFrom ?? "sh", tool] + args)
    }

    @Test func analyzeAStreamPast4GiBIn256MiBOfAddressSpace() throws {
        let path = "/tmp/vmstate-large-stream-\(getpid()).bin"
        defer { unlink(path) }
        let length = try Self.writeStream(path)
        #expect(length == 4_572_315_777)

        let json = try Self.runLimited(kib: 256 << 10, ["analyze", path])
        #expect(json.status == 0)
        #expect(json.stderr.isEmpty)
        #expect(
            json.stdout == """
                {
                    "ram (2)": {
                        "section sizes": {
                            "pc.ram": "0x0000000110000000"
                        }
                    }
                }

                """)

        let tree = try Self.runLimited(kib: 256 << 10, ["analyze", "--tree", path])
        #expect(tree.status == 0)
        #expect(tree.stderr.isEmpty)
        #expect(
            tree.stdout == """
                QEMU migration stream \(path): format version 3, 4572315777 bytes
                page size: 4096, vmdesc at offset 0x11088005a (34 bytes of JSON)
                1 sections, end of stream at 0x110880059

                ram (section 2, instance 0, version 4)  @0x8
                    blocks (total 0x0000000110000000, 4352 MiB):
                        pc.ram  0x0000000110000000  4352 MiB
                    pages: 1114112 records, 1114112 with data, 0 filled

                """)
    }

    /// A stream from a pipe (copied to an unlinked temporary file first) prints what the same
    /// stream from a file prints.
    @Test func analyzeReadsAPipe() throws {
        let dir = TestPaths.qemuFixtures + "/pc-reset"
        let r = try Self.runLimited(kib: 256 << 10, ["analyze", "/dev/stdin"], stdinFrom: dir + "/stream.bin")
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty)
        #expect(r.stdout == (try TestPaths.readText(dir + "/analyze.json")))
        let m = try Self.runLimited(
            kib: 256 << 10, ["analyze", "--memory", "/dev/stdin"], stdinFrom: dir + "/stream.bin")
        let f = try Tool.run(["analyze", "--memory", dir + "/stream.bin"])
        #expect(m.status == 0)
        #expect(f.status == 0)
        #expect(m.stdout == f.stdout)
    }
}
