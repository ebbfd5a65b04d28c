import Testing
import VMState
import VMStateAnalysis

#if canImport(Glibc)
    import Glibc
#endif

/// `vmstate analyze` on a stream larger than 4 GiB, run in a child process whose address space
/// is limited (`ulimit -v`, i.e. RLIMIT_AS) to 256 MiB, and whose peak resident memory must stay
/// under 64 MiB (its `VmHWM`), with and without `--memory`.
///
/// Why 256 MiB: the tool itself (the Swift runtime, GLib, the executable's mappings and thread
/// stacks) runs in under 64 MiB of address space on a small stream (measured: `ulimit -v 65536`
/// suffices), and the analyzer maps at most one 16 MiB window of the stream at a time (plus the
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

    /// Writes the stream to `path` in 1 MiB pieces; returns its length. With `cycle`, the
    /// records go round the first 256 pages of the block instead (page record n is for
    /// address (n % 256) × 4096: every page is sent 4352 times), and the last 256 records are
    /// filled with 0x5a instead of 0xa5 (the same length).
    static func writeStream(_ path: String, cycle: Bool = false) throws -> Int {
        let out = try GeneratedStreamWriter(path: path, blockLength: blockLength)
        let pattern = [UInt8](repeating: 0xa5, count: 4096)
        try out.put(GeneratedStreamWriter.be64(0x08) + out.blockName + pattern)
        let perChunk = 256
        var chunk = [UInt8]()
        chunk.reserveCapacity(perChunk * 4104)
        for _ in 0..<perChunk { chunk += GeneratedStreamWriter.be64(0) + pattern }
        var page = 1
        while page < pageCount {
            let n = min(perChunk, pageCount - page)
            for k in 0..<n {
                let number = cycle ? (page + k) % 256 : page + k
                let header = UInt64(number) * 4096 | 0x28  // PAGE | CONTINUE
                withUnsafeBytes(of: header.bigEndian) { h in
                    for i in 0..<8 { chunk[k * 4104 + i] = h[i] }
                }
                if cycle && page + k >= pageCount - 256 {
                    for i in 8..<4104 { chunk[k * 4104 + i] = 0x5a }
                }
            }
            try out.put(n == perChunk ? chunk : Array(chunk[0..<(n * 4104)]))
            page += n
        }
        return try out.finish()
    }

    /// `vmstate diff PATH PATH` under a 256 MiB address-space limit: "streams are equal", in
    /// under 64 MiB of resident memory.
    static func expectEqualToItselfInBoundedMemory(_ path: String) throws {
        var diffOut: [UInt8] = []
        let diff = try Self.runStreaming(kib: 256 << 10, ["diff", path, path]) { chunk in
            diffOut += chunk
            return true
        }
        #expect(diff.status == 0)
        #expect(diff.stderr.isEmpty)
        #expect(String(decoding: diffOut, as: UTF8.self) == "streams are equal\n")
        #expect(diff.samples > 0 && diff.maxRSSKiB < 64 << 10, "diff: \(diff.maxRSSKiB) KiB")
    }

    /// Runs `vmstate ARGS` under `ulimit -v KIB` (through /bin/sh), output captured; with
    /// `stdinFrom`, the tool's standard input is a pipe fed by `cat FILE`.
    static func runLimited(kib: Int, _ args: [String], stdinFrom: String? = nil) throws -> Tool.Result {
        let tool = try #require(Tool.path)
        let script =
            stdinFrom == nil ? "ulimit -v \(kib) && exec \"$@\"" : "cat \"$0\" | (ulimit -v \(kib) && exec \"$@\")"
        return try Tool.spawn("/bin/sh", ["/bin/sh", "-c", script, stdinFrom ?? "sh", tool] + args)
    }

    /// What `runStreaming` saw.
    struct StreamingResult {
        /// Exit status; -1 when killed by a signal.
        var status: Int32
        /// The signal that ended the tool, or 0.
        var signal: Int32
        var stderr: [UInt8]
        /// Bytes written to stdout.
        var stdoutCount: Int
        /// Peak resident memory of the tool, KiB: the highest `VmHWM` of /proc/PID/status read
        /// while it ran (sampled whenever output arrives and every 5 ms; the high-water mark of
        /// the tool's own address space, which exec made new). Not `ru_maxrss` from `wait4`:
        /// the child of `posix_spawn` shares this test process's memory until it execs, and
        /// the kernel counts that memory's high-water mark into the child's `ru_maxrss`.
        var maxRSSKiB: Int
        /// How many samples were taken after the exec (at least one, or the peak is unknown).
        var samples: Int
    }

    /// Runs `vmstate ARGS` under `ulimit -v KIB` with stdout and stderr on pipes (so stderr is
    /// not a terminal), handing stdout to `consume` chunk by chunk as it arrives; when
    /// `consume` returns false, stdout is closed and the rest of the output is not read.
    static func runStreaming(kib: Int, _ args: [String], consume: (UnsafeRawBufferPointer) -> Bool) throws
        -> StreamingResult
    {
        let tool = try #require(Tool.path)
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard pipe(&out) == 0, pipe(&err) == 0 else {
            throw StreamFileError(path: "pipe", operation: "open", reason: String(cString: strerror(errno)))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        for fd in out + err { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = ["/bin/sh", "-c", "ulimit -v \(kib) && exec \"$@\"", "sh", tool] + args
        let cArgv = argv.map { strdup($0) } + [nil]
        defer { cArgv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = Tool.withPipelineSignals { posix_spawn(&pid, "/bin/sh", &actions, $0, cArgv, environ) }
        close(out[1])
        close(err[1])
        var outOpen = true
        defer {
            if outOpen { close(out[0]) }
            close(err[0])
        }
        guard rc == 0 else {
            throw StreamFileError(path: "/bin/sh", operation: "spawn", reason: String(cString: strerror(rc)))
        }
        let size = 1 << 20
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { chunk.deallocate() }
        var count = 0
        var peak = 0
        var samples = 0
        func sample() {
            guard let status = fopen("/proc/\(pid)/status", "r") else { return }
            defer { fclose(status) }
            var line = [CChar](repeating: 0, count: 256)
            var isTool = false
            while fgets(&line, Int32(line.count), status) != nil {
                let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if text.hasPrefix("Name:") { isTool = text.contains("vmstate") }
                let fields = text.split(separator: " ", omittingEmptySubsequences: true)
                if isTool && text.hasPrefix("VmHWM:"), fields.count >= 2, let kib = Int(fields[1]) {
                    peak = max(peak, kib)
                    samples += 1
                }
            }
        }
        while true {
            var fds = pollfd(fd: out[0], events: Int16(POLLIN), revents: 0)
            sample()
            // (No wait until the tool is sampled once: a short run, `--desc` on a loaded
            // machine, ended between two samples 5 ms apart (freshmachine F3). The kernel's
            // ru_maxrss cannot stand in: posix_spawn's vfork hands the child this process's
            // peak at its exec.)
            if poll(&fds, 1, samples == 0 ? 0 : 5) == 0 { continue }
            let n = read(out[0], chunk, size)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            count += n
            if !consume(UnsafeRawBufferPointer(start: chunk, count: n)) {
                close(out[0])
                outOpen = false
                break
            }
        }
        // (A progress bar or an error is a few KiB: it fits the pipe while stdout is read.)
        var stderr: [UInt8] = []
        while true {
            let n = read(err[0], chunk, size)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            stderr += UnsafeRawBufferPointer(start: chunk, count: n)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7F) == 0
        return StreamingResult(
            status: exited ? (status >> 8) & 0xFF : -1, signal: exited ? 0 : status & 0x7F, stderr: stderr,
            stdoutCount: count, maxRSSKiB: peak, samples: samples)
    }

    @Test func analyzeAStreamPast4GiBIn256MiBOfAddressSpace() throws {
        let path = scratchStreamPath("vmstate-large-stream")
        defer { unlink(path) }
        let length = try Self.writeStream(path)
        #expect(length == 4_572_315_777)

        // --memory prints each page as it reads it: the first pages arrive (in 64 MiB of
        // resident memory) before the tool has looked at the rest of the stream; reading stops
        // after them, and the tool ends on the closed pipe. (All 13.7 GB of text would take
        // minutes in a debug build; the cycling stream below is printed whole.)
        let hexPage = Array(repeating: "a5", count: 4096).joined(separator: " ")
        let head =
            """
            {
                "ram (2)": {
                    "section sizes": {
                        "pc.ram": "0x0000000110000000"
                    },
                    "memory": {
                        "pc.ram (0x0000000000000000)": "\(hexPage)",
                        "pc.ram (0x0000000000001000)": "\(hexPage)",
                        "pc.ram (0x0000000000002000)": "\(hexPage)",
            """
        var received: [UInt8] = []
        let memory = try Self.runStreaming(kib: 256 << 10, ["analyze", "--memory", path]) { chunk in
            received += chunk.prefix(head.utf8.count - received.count)
            return received.count < head.utf8.count
        }
        #expect(memory.status == 0 || memory.signal == SIGPIPE)
        #expect(memory.stderr.isEmpty)
        #expect(String(decoding: received, as: UTF8.self) == head)
        #expect(memory.samples > 0 && memory.maxRSSKiB < 64 << 10, "--memory: \(memory.maxRSSKiB) KiB")

        for args in [["analyze", path], ["analyze", "--tree", path], ["analyze", "--desc", path]] {
            let r = try Self.runStreaming(kib: 256 << 10, args) { _ in true }
            #expect(r.status == 0)
            #expect(r.stderr.isEmpty)
            #expect(r.samples > 0 && r.maxRSSKiB < 64 << 10, "\(args): \(r.maxRSSKiB) KiB")
        }

        // diff of the stream with itself: its 1,114,112 page records, in ascending order, make
        // one sorted run of the page index on disk (DiffLargeStreamTests).
        try Self.expectEqualToItselfInBoundedMemory(path)

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
                machine type: not sent (no configuration section: a machine type up to 2.3, or -global migration.send-configuration=off)
                page size: 4096, vmdesc at offset 0x11088005a (34 bytes of JSON)
                1 sections, end of stream at 0x110880059

                ram (section 2, instance 0, version 4)  @0x8
                    blocks (total 0x0000000110000000, 4352 MiB):
                        pc.ram  0x0000000110000000  4352 MiB
                    pages: 1114112 records, 1114112 with data, 0 filled

                """)
    }

    /// --memory of a stream past 4 GiB that sends each of 256 pages 4352 times, printed whole:
    /// 256 pages in order of first record, each with its last contents (0x5a), in 64 MiB of
    /// resident memory. (Collecting the 1,114,112 page records first, as the tool once did,
    /// takes more than that.)
    @Test func memoryOfAStreamPast4GiBThatSendsPagesAgain() throws {
        let path = scratchStreamPath("vmstate-large-cycle")
        defer { unlink(path) }
        #expect(try Self.writeStream(path, cycle: true) == 4_572_315_777)
        var text: [UInt8] = []
        let r = try Self.runStreaming(kib: 256 << 10, ["analyze", "--memory", path]) { chunk in
            text += chunk
            return true
        }
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty)
        #expect(r.samples > 0 && r.maxRSSKiB < 64 << 10, "\(r.maxRSSKiB) KiB")
        let hexPage = Array(repeating: "5a", count: 4096).joined(separator: " ")
        let pages = (0..<256).map { i -> String in
            let address = String(i * 4096, radix: 16)
            return
                "            \"pc.ram (0x\(String(repeating: "0", count: 16 - address.count) + address))\": \"\(hexPage)\""
        }
        let expected =
            """
            {
                "ram (2)": {
                    "section sizes": {
                        "pc.ram": "0x0000000110000000"
                    },
                    "memory": {

            """ + pages.joined(separator: ",\n") + "\n        }\n    }\n}\n"
        #expect(text.count == expected.utf8.count)
        #expect(String(decoding: text, as: UTF8.self) == expected)

        // diff of the stream with itself: the records, out of order, are sorted chunk by chunk
        // into runs of 256 pages each (each page's last record) and merged.
        try Self.expectEqualToItselfInBoundedMemory(path)
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

    /// A stream file truncated by another program while the tool reads it (a 16 MiB stream:
    /// mapped, not copied) is bad input named as such, exit status 2, not a SIGBUS: the tool
    /// has written the first of its `--memory` output (so it has mapped the stream) when the
    /// file is cut to 0 bytes; the pages it then reads lie past the file's new end.
    @Test func aStreamFileCutWhileReadIsAnError() throws {
        let path = temporaryDirectoryPath() + "/vmstate-cut-\(getpid()).bin"
        defer { unlink(path) }
        let out = try GeneratedStreamWriter(path: path, blockLength: 16 << 20)
        let pattern = [UInt8](repeating: 0xa5, count: 4096)
        try out.put(GeneratedStreamWriter.be64(0x08) + out.blockName + pattern)
        for page in 1..<4096 { try out.put(GeneratedStreamWriter.be64(UInt64(page) * 4096 | 0x28) + pattern) }
        let size = try out.finish()
        var cut = false
        let r = try Self.runStreaming(kib: 1 << 20, ["analyze", "--memory", path]) { _ in
            if !cut { cut = truncate(path, 0) == 0 }
            return true
        }
        #expect(cut)
        #expect(r.signal == 0 && r.status == 2, "signal \(r.signal), status \(r.status)")
        #expect(
            String(decoding: r.stderr, as: UTF8.self)
                == "vmstate analyze: error: \(path): the file became shorter while it was read (\(size) bytes when "
                + "opened, 0 now): another program truncated or rewrote it\n")
    }

    /// `diff` reads again the pages it compares (`pread`, after both streams' analyses and
    /// page indexes): a stream cut in between is an error that names it, never its missing pages
    /// reported as differences (they were, as 1023 "pages differ", with exit status 1).
    @Test func aStreamCutBeforeItsPagesAreComparedIsAnError() throws {
        let base = temporaryDirectoryPath() + "/vmstate-diffcut-\(getpid())"
        let pathA = base + "-a.bin", pathB = base + "-b.bin"
        defer {
            unlink(pathA)
            unlink(pathB)
        }
        var size = 0
        for path in [pathA, pathB] {
            let out = try GeneratedStreamWriter(path: path, blockLength: 4 << 20)
            let pattern = [UInt8](repeating: 0x5a, count: 4096)
            try out.put(GeneratedStreamWriter.be64(0x08) + out.blockName + pattern)
            for page in 1..<1024 { try out.put(GeneratedStreamWriter.be64(UInt64(page) * 4096 | 0x28) + pattern) }
            size = try out.finish()
        }
        let a = try StreamAnalysis(path: pathA), b = try StreamAnalysis(path: pathB)
        #expect(try StreamDiff(a, b).isEqual)
        // Progress runs to 2 × (size of A + size of B): the page scans fill the first half, the
        // comparison the second. B is cut once the comparison has begun.
        var cut = false
        let error = #expect(throws: StreamAnalysisError.self) {
            _ = try StreamDiff(a, b) { done in
                if !cut && done > 2 * size { cut = truncate(pathB, 4096) == 0 }
            }
        }
        #expect(cut)
        // At the bytes of B's first page (its record at byte 61, its bytes past the name).
        #expect(
            error?.description
                == "at byte offset 76 (0x4c): \(pathB): the file became shorter while it was read (\(size) bytes "
                + "when opened, 4096 now): another program truncated or rewrote it")
    }

    /// An error about a file that became shorter is not followed by the same reason again (a
    /// short copy of the prefetching reader's copy mode gave "PATH: the file became shorter
    /// ...; but PATH: the file became shorter ..., so its bytes may be part old, part new");
    /// any other error of such a file is.
    @Test func aCutIsNamedOnce() throws {
        let path = temporaryDirectoryPath() + "/vmstate-cutonce-\(getpid()).bin"
        defer { unlink(path) }
        let out = try GeneratedStreamWriter(path: path, blockLength: 1 << 20)
        let size = try out.finish()
        let bytes = try StreamBytes(contentsOfFile: path)
        #expect(truncate(path, 10) == 0)
        let reason =
            "\(path): the file became shorter while it was read (\(size) bytes when opened, 10 now): another program "
            + "truncated or rewrote it"
        let cut = StreamAnalysisError(offset: 20, message: bytes.mapFailure("unused")).noting(changeOf: bytes)
        #expect(cut.message == reason)
        let other = StreamAnalysisError(offset: 20, message: "expected a section").noting(changeOf: bytes)
        #expect(other.message == "expected a section; but \(reason), so its bytes may be part old, part new")
    }

    /// A file rewritten after it was opened (a save to the same path) reads as bytes of two
    /// streams: the error it gives says so, by size or, at the same size, by modification time.
    @Test func aStreamRewrittenWhileItIsReadSaysSo() throws {
        let path = temporaryDirectoryPath() + "/vmstate-rewritten-\(getpid()).bin"
        defer { unlink(path) }
        let reset = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-reset/stream.bin")
        let bios = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        func write(_ bytes: [UInt8]) throws {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            try #require(fd >= 0)
            #expect(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count)
            close(fd)
        }
        // An old modification time, so that the rewrite's is another even on a coarse clock.
        func age() {
            var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        }
        try write(reset)
        age()
        let opened = try StreamBytes(contentsOfFile: path)
        try write(bios)
        let e = #expect(throws: StreamAnalysisError.self) { _ = try StreamAnalysis(bytes: opened) }
        #expect(
            e?.message.hasSuffix(
                "; but \(path): the file changed size while it was read (\(reset.count) bytes when opened, \(bios.count) now): another program rewrote it, so its bytes may be part old, part new"
            ) == true)
        // The same size, other bytes: the magic of the header is gone.
        try write(reset)
        age()
        let again = try StreamBytes(contentsOfFile: path)
        var damaged = reset
        damaged[0] = 0
        try write(damaged)
        let same = #expect(throws: StreamAnalysisError.self) { _ = try StreamAnalysis(bytes: again) }
        #expect(
            same?.message.hasSuffix(
                "; but \(path): the file was modified while it was read: another program rewrote it, so its bytes may be part old, part new"
            ) == true)
        // Unchanged: the error as it was.
        let plain = #expect(throws: StreamAnalysisError.self) {
            _ = try StreamAnalysis(bytes: try StreamBytes(contentsOfFile: path))
        }
        #expect(plain?.message.contains("rewrote") == false)
    }

    /// A JSON input (`--vmdesc`, `diff` and `compat` of descriptions) is read whole; one past
    /// the 64 MiB the tool reads (which before that limit could not be mapped under the
    /// `ulimit -v`) is bad input with the reason, never a crash.
    @Test func aJSONFileTooLargeIsAnError() throws {
        let path = "\(temporaryDirectoryPath())/vmstate-huge-\(getpid()).json"
        let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0o600)
        try #require(fd >= 0)
        defer { unlink(path) }
        #expect(ftruncate(fd, 320 << 20) == 0)  // sparse: 320 MiB that take no disk
        close(fd)
        let reason =
            "\(path): 335544320 bytes of JSON, more than the 64 MiB the tool reads (QEMU's vmdescs and -dump-vmstate files take a few MiB at most)\n"
        let stream = TestPaths.qemuFixtures + "/pc-reset/stream.bin"
        let analyze = try Self.runLimited(kib: 256 << 10, ["analyze", "--vmdesc", path, stream])
        #expect(analyze.status == 2)
        #expect(analyze.stdout.isEmpty)
        #expect(analyze.stderr == "vmstate analyze: error: --vmdesc " + reason)
        let diff = try Self.runLimited(kib: 256 << 10, ["diff", path, stream])
        #expect(diff.status == 2)
        #expect(diff.stderr == "vmstate diff: error: " + reason)
        let compat = try Self.runLimited(kib: 256 << 10, ["compat", stream, path])
        #expect(compat.status == 2)
        #expect(compat.stderr == "vmstate compat: error: " + reason)
    }
}

extension AnalyzeLargeStreamTests {
    /// Writes a sparse stream whose one device section "dev" holds a buffer of `size` zero
    /// bytes (described in its vmdesc), or (`configuration`) whose configuration section names
    /// a machine type of `size` bytes; returns its length.
    static func writeBigValueStream(_ path: String, size: Int, configuration: Bool) throws -> Int {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        typealias W = GeneratedStreamWriter
        var head = Array("QEVM".utf8) + W.be32(3)
        head +=
            configuration
            ? [0x07] + W.be32(UInt32(size)) : [0x04] + W.be32(1) + [3] + Array("dev".utf8) + W.be32(0) + W.be32(1)
        let devices =
            configuration
            ? "[]"
            : #"[{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, "fields": [{"name": "buf", "type": "buffer", "size": \#(size)}]}]"#
        let json = Array(#"{"page_size": 4096, "devices": \#(devices)}"#.utf8)
        let tail = [0x00, 0x06] + W.be32(UInt32(json.count)) + json
        for (bytes, offset) in [(head, 0), (tail, head.count + size)] {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, off_t(offset)) }
            try #require(n == bytes.count)
        }
        return head.count + size + tail.count
    }

    /// Each value read is counted with what it weighs in memory beyond its bytes (an integer 48
    /// bytes, held in its list's entry; a buffer 112; a struct's record 256 and 64 per field),
    /// not only its bytes: an array of 4 Mi one-byte elements (a 4 MiB stream) held 465 MB and
    /// aborted under `ulimit -v 262144` (complexity F1); now it is bad input at the element that
    /// passes 32 MiB, for `analyze` and `diff`, and an array of 512 Ki elements is read (the
    /// Raspberry Pi's USB controller, QEMU's `dwc2`, saves `usb_buf` as 524,288 `uint8`
    /// elements: at 112 bytes each, it was refused).
    @Test func manyArrayElementsAreCountedWithTheirEntries() throws {
        let path = "\(temporaryDirectoryPath())/vmstate-many-elements-\(getpid()).bin"
        defer { unlink(path) }
        typealias W = GeneratedStreamWriter
        func writeStream(_ count: Int) throws {
            let head =
                Array("QEVM".utf8) + W.be32(3) + [0x04] + W.be32(1) + [3] + Array("dev".utf8) + W.be32(0)
                + W.be32(1)
            let json = Array(
                (#"{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, "#
                    + #""fields": [{"name": "arr", "array_len": \#(count), "type": "uint8", "size": 1}]}]}"#).utf8)
            let stream =
                head + [UInt8](repeating: 0x5A, count: count) + [0x00, 0x06] + W.be32(UInt32(json.count)) + json
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            try #require(fd >= 0)
            defer { close(fd) }
            try #require(stream.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) } == stream.count)
        }
        try writeStream(4 << 20)
        // Held before element k: the section's entry (512 and "dev"), the record (256 + 64),
        // and 48 per element.
        let before = 515 + 320
        let k = ((32 << 20) - before - 48) / 48 + 1
        let reason =
            "at byte offset \(25 + k) (0x\(String(25 + k, radix: 16))), section \"dev\" (section id 1, instance 0), "
            + "field arr[\(k)]: the entry of a uint8 value of 48 bytes would make the device state read more than "
            + "32 MiB, more than the analyzer holds in memory (\(before + k * 48) bytes so far)\n"
        let analyze = try Self.runLimited(kib: 256 << 10, ["analyze", path])
        #expect(analyze.status == 2)
        #expect(analyze.stderr == "vmstate analyze: error: " + reason)
        let diff = try Self.runLimited(kib: 256 << 10, ["diff", path, path])
        #expect(diff.status == 2)
        #expect(diff.stderr == "vmstate diff: error: \(path): " + reason)
        try writeStream(512 << 10)
        let fits = try Self.runLimited(kib: 256 << 10, ["analyze", path])
        #expect(fits.status == 0 && fits.stderr.isEmpty)
        #expect(fits.stdout.hasSuffix("            \"0x5a\",\n            \"0x5a\"\n        ]\n    }\n}\n"))
        #expect(fits.stdout.split(separator: "\n").filter { $0 == "            \"0x5a\"," }.count == (512 << 10) - 1)
        let same = try Self.runLimited(kib: 256 << 10, ["diff", path, path])
        #expect(same.status == 0 && same.stdout == "streams are equal\n" && same.stderr.isEmpty)
    }

    /// What a stream makes the analyzer copy into memory is bounded (32 MiB of field values,
    /// a machine type name of 4096 bytes): a 144 MiB buffer or name is bad input with the
    /// reason, not a failed allocation (as under `ulimit -v 262144` before), for `analyze`
    /// and `diff` alike; a 16 MiB buffer is read (and printed) under the limit.
    @Test func deviceStateTooLargeToHoldIsAnError() throws {
        let path = "\(temporaryDirectoryPath())/vmstate-big-value-\(getpid()).bin"
        defer { unlink(path) }
        let size = 0x900_0000
        #expect(try Self.writeBigValueStream(path, size: size, configuration: false) == size + 25 + 173)
        let where_ = "at byte offset 25 (0x19), section \"dev\" (section id 1, instance 0), field buf"
        let reason =
            "the buffer data of 150994944 bytes would make the device state read more than 32 MiB, more than the analyzer holds in memory (947 bytes so far)\n"
        let analyze = try Self.runLimited(kib: 256 << 10, ["analyze", "--tree", path])
        #expect(analyze.status == 2)
        #expect(analyze.stderr == "vmstate analyze: error: \(where_): " + reason)
        let diff = try Self.runLimited(kib: 256 << 10, ["diff", path, path])
        #expect(diff.status == 2)
        #expect(diff.stdout.isEmpty)
        #expect(diff.stderr == "vmstate diff: error: \(path): \(where_): " + reason)

        #expect(try Self.writeBigValueStream(path, size: size, configuration: true) == size + 13 + 40)
        let name =
            "at byte offset 9 (0x9), section configuration: a machine type name of 150994944 bytes (QEMU's are a few dozen): the stream is corrupt\n"
        let config = try Self.runLimited(kib: 256 << 10, ["diff", path, path])
        #expect(config.status == 2)
        #expect(config.stderr == "vmstate diff: error: \(path): " + name)
        #expect(try Self.runLimited(kib: 256 << 10, ["analyze", path]).stderr == "vmstate analyze: error: " + name)

        #expect(try Self.writeBigValueStream(path, size: 16 << 20, configuration: false) == (16 << 20) + 25 + 172)
        let fits = try Self.runLimited(kib: 256 << 10, ["diff", path, path])
        #expect(fits.status == 0)
        #expect(fits.stdout == "streams are equal\n")
        let printed = try Self.runStreaming(kib: 256 << 10, ["analyze", path]) { _ in true }
        #expect(printed.status == 0)
        #expect(printed.stderr.isEmpty)
        // `{`, `"dev (1)": {`, `"buf": "` + 16 Mi hex pairs with spaces between + `"`, `}`, `}`,
        // indented and with newlines: 45 + 3 × 16 Mi − 1 bytes.
        #expect(printed.stdoutCount == 45 + 3 * (16 << 20) - 1)
        // `--tree --max-bytes 0` dumps it whole, 1 Mi lines of 16 bytes, written as they are
        // made (the lines held at once took more than the limit: a failed allocation before).
        // It prints what `--max-bytes 16` prints, with the other 1 Mi - 1 lines of 64 bytes
        // (`        fffff0: 00 00 ... 00`) in place of the line saying how many bytes are left.
        let first = try Self.runLimited(kib: 256 << 10, ["analyze", "--tree", "--max-bytes", "16", path])
        let more = "        ... \((16 << 20) - 16) more bytes (\(16 << 20) in all)\n"
        #expect(first.status == 0 && first.stdout.hasSuffix(more))
        var tail: [UInt8] = []
        let tree = try Self.runStreaming(kib: 256 << 10, ["analyze", "--tree", "--max-bytes", "0", path]) { chunk in
            tail = Array((tail + chunk).suffix(80))
            return true
        }
        #expect(tree.status == 0 && tree.signal == 0)
        #expect(tree.stderr.isEmpty)
        #expect(tree.stdoutCount == first.stdout.utf8.count - more.utf8.count + 64 * ((1 << 20) - 1))
        let last = "        fffff0: " + Array(repeating: "00", count: 16).joined(separator: " ") + "\n"
        #expect(String(decoding: tail, as: UTF8.self).hasSuffix("\n" + last))
    }
}

extension AnalyzeLargeStreamTests {
    /// The prefetching thread of a stream of 64 MiB or more takes no address space beyond its
    /// cells and its stack: a thread that calls malloc or free gets a glibc arena, 64 MiB of
    /// address space reserved (128 MiB while it is made), which `ulimit -v` counts. Here
    /// `analyze -x` of a 68 MiB stream (40 MiB of RAM, then a device whose 28 MiB buffer makes
    /// an 84 MiB state.json) fits in 256 MiB of address space, as it does without the thread
    /// (`taskset -c 0`); with the arena it failed to allocate state.json's text every time. (Since
    /// 2026-12-03 state.json is written as it is made, 64 KiB at a time; its whole text was held
    /// before, which left this limit a few MiB to spare: a debug build 108 KiB larger failed it.)
    @Test func extractOfALargeBufferIn256MiBWithThePrefetcher() throws {
        let dir = "\(temporaryDirectoryPath())/vmstate-prefetch-as-\(getpid())"
        let path = dir + ".bin"
        defer {
            for name in ["desc.json", "pc.ram", "state.json"] { unlink(dir + "/" + name) }
            rmdir(dir)
            unlink(path)
        }
        typealias W = GeneratedStreamWriter
        let pages = 10240
        let buffer = 28 << 20
        let out = try W(path: path, blockLength: UInt64(pages * 4096))
        let page = [UInt8](repeating: 0xa5, count: 4096)
        try out.put(W.be64(0x08) + out.blockName + page)
        for first in stride(from: 1, to: pages, by: 256) {
            var chunk = [UInt8]()
            for n in first..<min(first + 256, pages) { chunk += W.be64(UInt64(n * 4096) | 0x28) + page }
            try out.put(chunk)
        }
        try out.put(W.be64(0x10) + [0x03] + W.be32(2) + W.be64(0x10))
        try out.put([0x04] + W.be32(1) + [3] + Array("dev".utf8) + W.be32(0) + W.be32(1))
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        for _ in 0..<(buffer >> 20) { try out.put(zeros) }
        let json = Array(
            #"{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, "fields": [{"name": "buf", "type": "buffer", "size": \#(buffer)}]}]}"#
                .utf8)
        try out.put([0x00, 0x06] + W.be32(UInt32(json.count)) + json)
        #expect(out.written == 8 + 17 + 31 + 5 + 4111 + (pages - 1) * 4104 + 8 + 13 + 17 + buffer + 6 + json.count)
        #expect(out.written >= WindowPrefetcher.minimumCount)

        let extract = try Self.runLimited(kib: 256 << 10, ["analyze", "-x", "--directory", dir, path])
        #expect(extract.status == 0)
        #expect(extract.stderr.isEmpty, "\(extract.stderr.prefix(300))")
        #expect(extract.stdout == "desc.json\npc.ram\nstate.json\n")
        var st = stat()
        #expect(stat(dir + "/pc.ram", &st) == 0 && st.st_size == pages * 4096)
        // `{`, the RAM section (116 bytes), `"dev (1)": {`, `"buf": "` + 32 Mi hex pairs with
        // spaces between + `"`, `}`, `}`, indented and with newlines.
        #expect(stat(dir + "/state.json", &st) == 0 && st.st_size == 148 + 3 * buffer - 1)
    }
}

/// `$TMPDIR`, or /tmp.
func temporaryDirectoryPath() -> String {
    getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
}

extension AnalyzeLargeStreamTests {
    /// Writes a stream of `sections` device sections "dev" (instance ids 0 up), each an array
    /// "arr" of 256 one-byte elements all `fill`, with its vmdesc.
    static func writeManySectionStream(_ path: String, sections: Int, fill: UInt8) throws {
        typealias W = GeneratedStreamWriter
        var stream = Array("QEVM".utf8) + W.be32(3)
        var devices: [String] = []
        for i in 0..<sections {
            stream += [0x04] + W.be32(UInt32(i + 1)) + [3] + Array("dev".utf8) + W.be32(UInt32(i)) + W.be32(1)
            stream += [UInt8](repeating: fill, count: 256)
            devices.append(
                #"{"name": "dev", "instance_id": \#(i), "vmsd_name": "dev", "version": 1, "fields": [{"name": "arr", "array_len": 256, "type": "uint8", "size": 1}]}"#
            )
        }
        let json = Array(#"{"page_size": 4096, "devices": [\#(devices.joined(separator: ", "))]}"#.utf8)
        stream += [0x00, 0x06] + W.be32(UInt32(json.count)) + json
        try ManyCPUStreamTests.writeFile(path, stream)
    }

    /// `diff` writes the differences of sections and fields to a temporary file as it finds
    /// them, and prints them from there a piece at a time: it held every difference (about
    /// 330 bytes each), then the whole text; two streams of 4,096 sections whose 256 array
    /// elements all differ (a million differences) took 382 MB and aborted under the
    /// documented `ulimit -v 262144` (verify18 B). Here two streams of 1,024 such sections
    /// (262,144 differences, 14 MB of text) print in full, text and `--json`, under `ulimit -v
    /// 65536`, where holding them aborted ("failed to allocate"); the tool itself needs about 48
    /// MiB of address space there.
    @Test func manyFieldDifferencesPrintInBoundedMemory() throws {
        let a = "\(temporaryDirectoryPath())/vmstate-many-differences-a-\(getpid()).bin"
        let b = "\(temporaryDirectoryPath())/vmstate-many-differences-b-\(getpid()).bin"
        defer {
            unlink(a)
            unlink(b)
        }
        let sections = 1024
        let count = sections * 256
        try Self.writeManySectionStream(a, sections: sections, fill: 0x11)
        try Self.writeManySectionStream(b, sections: sections, fill: 0x22)
        let text = try Self.runLimited(kib: 64 << 10, ["diff", a, b])
        #expect(text.status == 1)
        #expect(text.stderr.isEmpty)
        let lines = text.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 * count + 2)
        #expect(
            lines.prefix(6) == [
                "dev: arr[0]", "    A: 0x11", "    B: 0x22", "dev: arr[1]", "    A: 0x11", "    B: 0x22",
            ])
        #expect(lines[3 * 256] == "dev (instance 1): arr[0]")
        #expect(lines[3 * count - 3] == "dev (instance 1023): arr[255]")
        #expect(lines.suffix(2) == ["262144 differences in 1024 sections", ""])
        #expect(lines.count { $0 == "    B: 0x22" } == count)

        let json = try Self.runLimited(kib: 64 << 10, ["diff", "--json", a, b])
        #expect(json.status == 1)
        #expect(json.stderr.isEmpty)
        #expect(
            json.stdout.hasPrefix(
                """
                {
                    "sections": [
                        {
                            "section": "dev",
                            "instance": 0,
                            "field": "arr[0]",
                            "kind": "changed",
                            "a": "0x11",
                            "b": "0x22"
                        },
                """))
        #expect(
            json.stdout.hasSuffix(
                """
                            "instance": 1023,
                            "field": "arr[255]",
                            "kind": "changed",
                            "a": "0x11",
                            "b": "0x22"
                        }
                    ],
                    "ram": []
                }

                """))
        #expect(json.stdout.components(separatedBy: "\"kind\": \"changed\"").count - 1 == count)

        // Past their first 64 KiB the differences need a temporary file, also with --no-ram:
        // without one the diff is bad input with the reason, before anything is printed.
        let tool = try #require(Tool.path)
        let noTemporary = try Tool.spawn(
            "/usr/bin/env", ["/usr/bin/env", "TMPDIR=/nonexistent-vmstate-dir", tool, "diff", "--no-ram", a, b])
        #expect(noTemporary.status == 2)
        #expect(noTemporary.stdout.isEmpty)
        #expect(
            noTemporary.stderr
                == "vmstate diff: error: cannot write /nonexistent-vmstate-dir: cannot make a temporary file for the field differences: No such file or directory\n"
        )
    }
}

extension AnalyzeLargeStreamTests {
    /// Writes a stream whose RAM block "pc.ram" has `pages` pages, each a fill record of
    /// `fill(page)`.
    static func writeFillPageStream(_ path: String, pages: Int, fill: (Int) -> UInt8) throws {
        let out = try GeneratedStreamWriter(path: path, blockLength: UInt64(pages) * 4096)
        var records: [UInt8] = []
        records.reserveCapacity(pages * 9 + out.blockName.count)
        for page in 0..<pages {
            // ZERO (a fill byte), with CONTINUE after the first.
            records += GeneratedStreamWriter.be64(UInt64(page) * 4096 | 2 | (page == 0 ? 0 : 0x20))
            if page == 0 { records += out.blockName }
            records.append(fill(page))
        }
        try out.put(records)
        _ = try out.finish()
    }

    /// `diff --max-ranges N` with N past 64 reads the ranges it prints back from the temporary
    /// file `--json` lists them from, and writes the block's line in pieces: with a large N it
    /// held every range shown (about 230 bytes each) and then the line whole (outputs F5: two
    /// million ranges took 488 MB and aborted under `ulimit -v 262144`). Here 524,288 ranges
    /// (21 MB of text) print under `ulimit -v 65536`, where they aborted, and so do 100 of them.
    @Test func manyPageRangesPrintInBoundedMemory() throws {
        let a = "\(temporaryDirectoryPath())/vmstate-many-ranges-a-\(getpid()).bin"
        let b = "\(temporaryDirectoryPath())/vmstate-many-ranges-b-\(getpid()).bin"
        defer {
            unlink(a)
            unlink(b)
        }
        let pages = 1 << 20
        try Self.writeFillPageStream(a, pages: pages) { _ in 0 }
        try Self.writeFillPageStream(b, pages: pages) { UInt8($0 & 1) }
        func range(_ i: Int) -> String {
            let first = UInt64(2 * i + 1) * 4096
            return "0x" + hex(first, digits: 16) + "-0x" + hex(first + 4095, digits: 16)
        }
        let all = try Self.runLimited(kib: 64 << 10, ["diff", "--max-ranges", "1000000000", a, b])
        #expect(all.status == 1)
        #expect(all.stderr.isEmpty)
        let expected =
            "ram: pc.ram: 524288 pages differ: " + (0..<(pages / 2)).map(range).joined(separator: ", ")
            + "\n0 differences in 0 sections, 1 RAM block differs\n"
        #expect(all.stdout == expected)
        let some = try Self.runLimited(kib: 64 << 10, ["diff", "--max-ranges", "100", a, b])
        #expect(some.status == 1)
        #expect(
            some.stdout
                == "ram: pc.ram: 524288 pages differ: " + (0..<100).map(range).joined(separator: ", ")
                + ", ... (524188 more ranges)\n0 differences in 0 sections, 1 RAM block differs\n")
    }
}

extension AnalyzeLargeStreamTests {
    /// A vmdesc of one device "dev" whose structs nest `depth` deep, each struct field named
    /// with `nameLength` bytes, each level with a field "v" of `type`.
    static func writeDeepDescription(_ path: String, depth: Int, nameLength: Int, type: String, size: Int) throws {
        var fields = #"[{"name": "v", "type": "\#(type)", "size": \#(size)}]"#
        for level in stride(from: depth - 1, through: 0, by: -1) {
            let name = "s\(level)_" + String(repeating: "n", count: nameLength - 3)
            fields =
                #"[{"name": "v", "type": "\#(type)", "size": \#(size)}, {"name": "\#(name)", "type": "struct", "#
                + #""struct": {"vmsd_name": "st\#(level)", "version": 1, "fields": \#(fields)}, "size": 4}]"#
        }
        let json =
            #"{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, "#
            + #""fields": \#(fields)}]}"#
        try ManyCPUStreamTests.writeFile(path, Array(json.utf8))
    }

    /// `compat` and `diff` of descriptions name each nested description by its path of field
    /// names, joined only for a message: joined at every level, the paths of descriptions
    /// nested deep under long names took memory quadratic in the depth (outputs F4: 63 levels
    /// of 50,000-byte names, 3.2 MB of vmdesc, took 320 MB in `compat`). Here 23 levels of
    /// 110,000-byte names (2.5 MB each; `compat` compares descriptions 24 deep at most) compare
    /// under `ulimit -v 65536`, where they aborted.
    @Test func deepLongNamedDescriptionsCompareInBoundedMemory() throws {
        let a = "\(temporaryDirectoryPath())/vmstate-deep-a-\(getpid()).json"
        let b = "\(temporaryDirectoryPath())/vmstate-deep-b-\(getpid()).json"
        defer {
            unlink(a)
            unlink(b)
        }
        let depth = 23, nameLength = 110_000
        try Self.writeDeepDescription(a, depth: depth, nameLength: nameLength, type: "uint32", size: 4)
        try Self.writeDeepDescription(b, depth: depth, nameLength: nameLength, type: "uint64", size: 8)
        let same = try Self.runLimited(kib: 64 << 10, ["compat", a, a])
        #expect(same.status == 0)
        #expect(same.stdout.hasSuffix("compatible: state saved by OLD loads into NEW\n"))
        let equal = try Self.runLimited(kib: 64 << 10, ["diff", a, a])
        #expect(equal.status == 0 && equal.stdout == "descriptions are equal\n")
        let diff = try Self.runLimited(kib: 64 << 10, ["diff", a, b])
        #expect(diff.status == 1)
        #expect(diff.stderr.isEmpty)
        let lines = diff.stdout.split(separator: "\n")
        #expect(lines.count == (depth + 1) * 3 + 1)
        #expect(lines.prefix(3) == ["dev: v", "    A: uint32, 4 bytes", "    B: uint64, 8 bytes"])
        // The deepest "v": every level's name, joined with "/".
        let deepest = (0..<depth).map { "s\($0)_" + String(repeating: "n", count: nameLength - 3) }.joined(
            separator: "/")
        #expect(lines[depth * 3] == "dev: " + deepest + "/v")
        #expect(lines.last == "\(depth + 1) differences in 1 section")
    }
}
