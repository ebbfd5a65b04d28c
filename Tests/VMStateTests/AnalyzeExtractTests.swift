import CGLib
import Foundation
import Testing
import VMState
import VMStateAnalysis

// `vmstate analyze --extract` and `StreamAnalysis.extractRAM`: the files QEMU's own
// analyze-migration.py -x writes, and the block names it must not turn into paths.

/// SHA-256 (hex) of a file's bytes, by GLib.
func sha256(_ path: String) throws -> String {
    sha256(of: try TestPaths.readBytes(path))
}

/// SHA-256 (hex) of `bytes`, by GLib.
func sha256(of bytes: [UInt8]) -> String {
    let sum = g_checksum_new(G_CHECKSUM_SHA256)!
    defer { g_checksum_free(sum) }
    bytes.withUnsafeBytes {
        g_checksum_update(sum, $0.baseAddress?.assumingMemoryBound(to: guchar.self), gssize($0.count))
    }
    return String(cString: g_checksum_get_string(sum))
}

/// A new empty directory under /tmp, removed (with what is in it) by `body`'s end.
private func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-extract-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

/// Every regular file under `dir`, relative, sorted.
private func files(under dir: String) -> [String] {
    let e = FileManager.default.enumerator(atPath: dir)
    var out: [String] = []
    while let p = e?.nextObject() as? String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir + "/" + p, isDirectory: &isDir), !isDir.boolValue {
            out.append(p)
        }
    }
    return out.sorted()
}

/// A stream of RAM blocks only: header, RAM START (section 2) announcing `blocks` (name,
/// length), a RAM PART holding `records` (raw page records), RAM END, EOF, a vmdesc with no
/// devices. A record names its block in full when `name` is given, else with CONTINUE.
private func ramStream(
    blocks: [(String, UInt64)], records: [(address: UInt64, name: String?, page: [UInt8]?, fill: UInt8)]
)
    -> [UInt8]
{
    func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
    func be64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
    var s = Array("QEVM".utf8) + be32(3)
    s += [0x01] + be32(2) + [3] + Array("ram".utf8) + be32(0) + be32(4)
    s += be64(blocks.reduce(0) { $0 + $1.1 } | 0x04)
    for (name, length) in blocks { s += [UInt8(name.utf8.count)] + Array(name.utf8) + be64(length) }
    s += be64(0x10)
    s += [0x02] + be32(2)
    for r in records {
        let flags: UInt64 = (r.page != nil ? 0x08 : 0x02) | (r.name == nil ? 0x20 : 0)
        s += be64(r.address | flags)
        if let name = r.name { s += [UInt8(name.utf8.count)] + Array(name.utf8) }
        s += r.page ?? [r.fill]
    }
    s += be64(0x10)
    s += [0x03] + be32(2) + be64(0x10)
    let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
    s += [0x00, 0x06] + be32(UInt32(json.count)) + json
    return s
}

@Suite struct AnalyzeExtractTests {
    @Test func extractionPathsFollowTheScriptAndStayInside() {
        #expect(StreamAnalysis.extractionPath(forRAMBlock: "pc.ram") == "pc.ram")
        #expect(StreamAnalysis.extractionPath(forRAMBlock: "/rom@etc/acpi/tables") == "rom@etc/acpi/tables")
        #expect(StreamAnalysis.extractionPath(forRAMBlock: "0000:00:02.0/vga.vram") == "0000:00:02.0/vga.vram")
        #expect(StreamAnalysis.extractionPath(forRAMBlock: "a//b/./c") == "a/b/c")
        #expect(StreamAnalysis.extractionPath(forRAMBlock: "../x") == nil)
        #expect(StreamAnalysis.extractionPath(forRAMBlock: "/a/../../b") == nil)
        #expect(StreamAnalysis.extractionPath(forRAMBlock: "") == nil)
        #expect(StreamAnalysis.extractionPath(forRAMBlock: "/") == nil)
        #expect(StreamAnalysis.extractionPath(forRAMBlock: "./.") == nil)
        #expect(StreamAnalysis.extractionPath(forRAMBlock: "a\u{0}b") == nil)
    }

    /// QEMU 10.0's analyze-migration.py -x on this stream (a live migration: three passes)
    /// wrote these files; their SHA-256 sums were taken from its output.
    @Test func ramFilesAreWhatTheScriptWrites() throws {
        let bytes = try StreamBytes(contentsOfFile: TestPaths.qemu10Fixtures + "/pc-live/stream.bin")
        let analysis = try StreamAnalysis(bytes: bytes, options: .init(recordPages: false))
        try withTemporaryDirectory { dir in
            var announced: [String] = []
            try analysis.extractRAM(into: dir, announce: { announced.append($0) })
            #expect(
                announced == [
                    "pc.ram", "/rom@etc/acpi/tables", "pc.bios", "pc.rom", "/rom@etc/table-loader",
                    "/rom@etc/acpi/rsdp",
                ])
            #expect(
                files(under: dir) == [
                    "pc.bios", "pc.ram", "pc.rom", "rom@etc/acpi/rsdp", "rom@etc/acpi/tables", "rom@etc/table-loader",
                ])
            let expected = [
                "pc.ram": "c8d599ad4409350c4223e51f6976de46b2d6e1571f9b1166e92967ea730e981c",
                "rom@etc/acpi/tables": "ad720f8eae339281dbd959eb01accc75379d5049cdcd8dcd1477ec70bee36a21",
                "pc.bios": "fc6d2ea888862e6b26d53fb877ab712324726eb8f44eb6baf076c64a31f1c3fb",
                "pc.rom": "fa43239bcee7b97ca62f007cc68487560a39e19f74f3dde7486db3f98df8e471",
                "rom@etc/table-loader": "6815346bd74c044e297023e75a208bd8c28765b614230cafd6b00eb1104a711b",
                "rom@etc/acpi/rsdp": "7cdf1abc4c94912236590439631bd5d19f484ceb5fe34270da61def8c59901db",
            ]
            for (path, sum) in expected {
                #expect(try sha256(dir + "/" + path) == sum, "\(path)")
            }
            #expect(try TestPaths.readBytes(dir + "/pc.ram").count == 16 << 20)
        }
    }

    /// A page sent as data, then as a zero page in a later pass: the file holds zeros there
    /// (QEMU's script skips zero pages and would keep the data); a fill byte other than 0 fills.
    @Test func laterRecordsWinAlsoZeroPages() throws {
        let stream = ramStream(
            blocks: [("pc.ram", 0x3000)],
            records: [
                (0x0000, "pc.ram", [UInt8](repeating: 0xAB, count: 4096), 0),
                (0x1000, nil, [UInt8](repeating: 0xCD, count: 4096), 0),
                (0x2000, nil, nil, 0x5A),
                (0x0000, nil, nil, 0x00),
            ])
        let analysis = try StreamAnalysis(bytes: StreamBytes(stream), options: .init(recordPages: false))
        try withTemporaryDirectory { dir in
            try analysis.extractRAM(into: dir)
            let ram = try TestPaths.readBytes(dir + "/pc.ram")
            #expect(
                ram
                    == [UInt8](repeating: 0, count: 4096) + [UInt8](repeating: 0xCD, count: 4096)
                    + [UInt8](repeating: 0x5A, count: 4096))
        }
    }

    /// A stream that sends pages twice (as a live migration does) leaves its zero pages
    /// unwritten, sparse, but where a page held other bytes before: 256 pages, one of them data
    /// at the end, take a few KiB of disk, not 1 MiB.
    @Test func zeroPagesOfARepeatingStreamStaySparse() throws {
        var records: [(UInt64, String?, [UInt8]?, UInt8)] = [
            (0x0000, "pc.ram", [UInt8](repeating: 0xAB, count: 4096), 0)
        ]
        for page in 1..<256 { records.append((UInt64(page) << 12, nil, nil, 0)) }
        records += [(0x0000, nil, nil, 0), (0x1000, nil, [UInt8](repeating: 0xCD, count: 4096), 0)]
        let stream = ramStream(blocks: [("pc.ram", 0x10_0000)], records: records)
        let analysis = try StreamAnalysis(bytes: StreamBytes(stream), options: .init(recordPages: false))
        guard case .ram(let ram)? = analysis.sections.first?.content else {
            Issue.record("no RAM section")
            return
        }
        #expect(ram.mayRepeatPages)
        try withTemporaryDirectory { dir in
            try analysis.extractRAM(into: dir)
            let path = dir + "/pc.ram"
            #expect(
                try TestPaths.readBytes(path)
                    == [UInt8](repeating: 0, count: 4096) + [UInt8](repeating: 0xCD, count: 4096)
                    + [UInt8](repeating: 0, count: 254 * 4096))
            var st = stat()
            #expect(stat(path, &st) == 0)
            #expect(Int(st.st_blocks) * 512 <= 64 << 10, "\(st.st_blocks) blocks of 512 bytes allocated")
        }
    }

    @Test func unsafeOrCollidingBlockNamesWriteNothing() throws {
        let cases: [([(String, UInt64)], String)] = [
            (
                [("pc.ram", 0x1000), ("../evil", 0x1000)],
                #"at byte offset 48 (0x30): RAM block "../evil" cannot be extracted: its name is not a safe relative file name"#
            ),
            (
                [("/a", 0x1000), ("a", 0x1000)],
                #"at byte offset 44 (0x2c): RAM block "a" cannot be extracted: its file a is also that of RAM block "/a""#
            ),
            (
                [("state.json", 0x1000)],
                #"at byte offset 33 (0x21): RAM block "state.json" cannot be extracted: its file state.json is also the state file"#
            ),
            (
                [("a", 0x1000), ("a/b", 0x1000)],
                #"at byte offset 43 (0x2b): RAM block "a/b" cannot be extracted: a would be a directory and a file"#
            ),
            (
                [("x\u{1b}", 0x1000), ("/x\u{1b}", 0x1000)],
                #"at byte offset 44 (0x2c): RAM block "/x\x1b" cannot be extracted: its file x\x1b is also that of RAM block "x\x1b""#
            ),
        ]
        for (blocks, message) in cases {
            let analysis = try StreamAnalysis(
                bytes: StreamBytes(ramStream(blocks: blocks, records: [])), options: .init(recordPages: false))
            try withTemporaryDirectory { dir in
                let e = #expect(throws: RAMExtractionError.self) { try analysis.extractRAM(into: dir + "/out") }
                #expect(e?.description == message)
                #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
            }
        }
    }

    @Test func aPagePastItsBlockIsAnError() throws {
        let stream = ramStream(
            blocks: [("pc.ram", 0x1000)], records: [(0x1000, "pc.ram", [UInt8](repeating: 1, count: 4096), 0)])
        let analysis = try StreamAnalysis(bytes: StreamBytes(stream), options: .init(recordPages: false))
        try withTemporaryDirectory { dir in
            let e = #expect(throws: StreamAnalysisError.self) { try analysis.extractRAM(into: dir) }
            #expect(
                e?.description
                    == #"at byte offset 61 (0x3d), section "ram" (section id 2, instance 0): the RAM page at 0x0000000000001000 lies past the length 0x0000000000001000 of RAM block "pc.ram""#
            )
            // Refused before anything is written: the directory is not even created.
            #expect(!FileManager.default.fileExists(atPath: dir))
        }
        // diff refuses it the same way (it compared the page as any other), naming the stream.
        let d = #expect(throws: StreamDiffInputError.self) { try StreamDiff(analysis, analysis) }
        #expect(
            d?.description
                == #"stream A: at byte offset 61 (0x3d), section "ram" (section id 2, instance 0): the RAM page at 0x0000000000001000 lies past the length 0x0000000000001000 of RAM block "pc.ram""#
        )
    }

    /// A page naming a block the RAM section did not announce (QEMU refuses it: "Unknown
    /// ramblock"; its script's -x fails with a KeyError) is an error at the record, not a page
    /// written nowhere; plain analysis prints the stream as the script does.
    @Test func aPageOfABlockNotAnnouncedIsAnErrorAtItsRecord() throws {
        let stream = ramStream(
            blocks: [("pc.ram", 0x2000)],
            records: [
                (0, "pc.ram", [UInt8](repeating: 1, count: 4096), 0), (0x1000, "pc.r\u{1}m", nil, 0),
            ])
        let analysis = try StreamAnalysis(bytes: StreamBytes(stream), options: .init(recordPages: false))
        try withTemporaryDirectory { dir in
            let e = #expect(throws: StreamAnalysisError.self) { try analysis.extract(into: dir) }
            #expect(
                e?.description
                    == #"at byte offset 4172 (0x104c), section "ram" (section id 2, instance 0): the RAM page at 0x0000000000001000 names RAM block "pc.r\x01m", which the stream did not announce (announced: "pc.ram")"#
            )
            // Refused before anything is written (desc.json included), though the page before
            // it is fine.
            #expect(!FileManager.default.fileExists(atPath: dir))
        }
        let d = #expect(throws: StreamDiffInputError.self) { try StreamDiff(analysis, analysis) }
        #expect(
            d?.description
                == #"stream A: at byte offset 4172 (0x104c), section "ram" (section id 2, instance 0): the RAM page at 0x0000000000001000 names RAM block "pc.r\x01m", which the stream did not announce (announced: "pc.ram")"#
        )
    }

    /// A RAM START record again, after pages (QEMU never writes one; a mutant of a real
    /// stream): the new section replaces the old, as in plain analysis and --memory, and its
    /// pages alone are written, as QEMU's script truncates its files when the blocks are
    /// announced again (its -x gave the same files on such a mutant of a QEMU 10.0 stream).
    /// Once this was an error naming block "?" after the files had been created.
    @Test func aRAMSectionStartedAgainReplacesTheFirst() throws {
        func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        func be64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        let name = Array("pc.ram".utf8)
        func start() -> [UInt8] {
            [0x01] + be32(2) + [3] + Array("ram".utf8) + be32(0) + be32(4) + be64(0x3000 | 0x04) + [6] + name
                + be64(0x3000) + be64(0x10)
        }
        func part(_ address: UInt64, _ byte: UInt8) -> [UInt8] {
            [0x02] + be32(2) + be64(address | 0x08) + [6] + name + [UInt8](repeating: byte, count: 4096) + be64(0x10)
        }
        var s = Array("QEVM".utf8) + be32(3)
        s += start() + part(0, 0x11) + part(0x1000, 0x12)
        s += start() + part(0x1000, 0x22)
        s += [0x03] + be32(2) + be64(0x10)
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        s += [0x00, 0x06] + be32(UInt32(json.count)) + json
        let analysis = try StreamAnalysis(bytes: StreamBytes(s), options: .init(recordPages: false))
        var memory = JSONTextWriter(format: .python)
        try analysis.writeState(to: &memory, memory: true)
        #expect(
            memory.text == """
                {
                    "ram (2)": {
                        "section sizes": {
                            "pc.ram": "0x0000000000003000"
                        },
                        "memory": {
                            "pc.ram (0x0000000000001000)": "\([String](repeating: "22", count: 4096).joined(separator: " "))"
                        }
                    }
                }
                """)
        try withTemporaryDirectory { dir in
            var announced: [String] = []
            try analysis.extract(into: dir, announce: { announced.append($0) })
            #expect(announced == ["desc.json", "pc.ram", "state.json"])
            #expect(
                try TestPaths.readBytes(dir + "/pc.ram")
                    == [UInt8](repeating: 0, count: 4096) + [UInt8](repeating: 0x22, count: 4096)
                    + [UInt8](repeating: 0, count: 4096))
        }
    }
}

/// desc.json and state.json replace what the directory holds under their names only once
/// whole (a new file renamed into place, written as it is made): a symbolic link there is
/// replaced, not written through, and no temporary file is left.
@Test func theJSONFilesReplaceALinkAndLeaveNoTemporaryFile() throws {
    let analysis = try StreamAnalysis(
        bytes: StreamBytes(AnalyzeXBZRLETests.stream([.data(0x1000, [UInt8](repeating: 7, count: 4096))])))
    try withTemporaryDirectory { dir in
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("kept".utf8).write(to: URL(fileURLWithPath: dir + "/target"))
        #expect(symlink(dir + "/target", dir + "/state.json") == 0 && symlink(dir + "/target", dir + "/desc.json") == 0)
        try analysis.extract(into: dir)
        #expect(try TestPaths.readText(dir + "/target") == "kept")
        var st = stat()
        #expect(lstat(dir + "/state.json", &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG)
        var w = JSONTextWriter(format: .python)
        try analysis.writeState(to: &w, memory: false)
        #expect(try TestPaths.readText(dir + "/state.json") == w.text)
        #expect(try TestPaths.readText(dir + "/desc.json") == analysis.descriptionJSON.formatted(.python))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == ["desc.json", "pc.ram", "state.json", "target"])
    }
}

@Suite(.enabled(if: Tool.path != nil, "the vmstate executable is not built next to the tests"))
struct AnalyzeExtractCLITests {
    @Test func extractWritesAndNamesWhatTheScriptDoes() throws {
        let fixture = TestPaths.streams + "/audio-hda"
        try withTemporaryDirectory { dir in
            let r = try Tool.run(["analyze", "-x", "--directory", dir + "/x", fixture + "/stream.bin"])
            #expect(r.status == 0)
            #expect(r.stderr.isEmpty)
            #expect(
                r.stdout == """
                    desc.json
                    pc.ram
                    /rom@etc/acpi/tables
                    pc.bios
                    pc.rom
                    /rom@etc/table-loader
                    /rom@etc/acpi/rsdp
                    state.json

                    """)
            // The script writes the JSON without the newline it prints after it.
            #expect(
                try TestPaths.readText(dir + "/x/state.json") + "\n"
                    == (try TestPaths.readText(fixture + "/analyze.json")))
            #expect(
                try TestPaths.readText(dir + "/x/desc.json") + "\n" == (try TestPaths.readText(fixture + "/desc.json")))
            #expect(
                files(under: dir + "/x") == [
                    "desc.json", "pc.bios", "pc.ram", "pc.rom", "rom@etc/acpi/rsdp", "rom@etc/acpi/tables",
                    "rom@etc/table-loader", "state.json",
                ])
        }
    }

    @Test func aRefusedBlockNameWritesNothing() throws {
        let stream = ramStream(blocks: [("pc.ram", 0x1000), ("/../../etc/x", 0x1000)], records: [])
        try withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: dir + "/hostile.bin", contents: Data(stream)))
            let r = try Tool.run(["analyze", "-x", "--directory", dir + "/x", dir + "/hostile.bin"])
            #expect(r.status == 2)
            #expect(r.stdout.isEmpty)
            #expect(
                r.stderr
                    == "vmstate analyze: error: at byte offset 48 (0x30): RAM block \"/../../etc/x\" cannot be extracted: its name is not a safe relative file name\n"
            )
            #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
        }
    }

    @Test func extractUsageErrors() throws {
        let stream = TestPaths.streams + "/audio-hda/stream.bin"
        let both = try Tool.run(["analyze", "-x", "--desc", stream])
        #expect(both.status == 64)
        #expect(both.stderr.contains("--extract cannot be combined with --desc, --memory or --tree"))
        let lone = try Tool.run(["analyze", "--directory", "/tmp", stream])
        #expect(lone.status == 64)
        #expect(lone.stderr.contains("--directory is for --extract"))
        let empty = try Tool.run(["analyze", "-x", "--directory", "", stream])
        #expect(empty.status == 64)
        #expect(empty.stderr.contains("--directory needs a directory name"))
    }

    /// A stream cut short writes nothing (the directory is not even created); the message
    /// says --vmdesc is for a stream written without a vmdesc, not for one cut short, which -x
    /// refuses with it too.
    @Test func aStreamCutShortWritesNothing() throws {
        let whole = try TestPaths.readBytes(TestPaths.streams + "/audio-hda/stream.bin")
        try withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let half = whole.count / 2
            #expect(FileManager.default.createFile(atPath: dir + "/cut.bin", contents: Data(whole[..<half])))
            let r = try Tool.run(["analyze", "-x", "--directory", dir + "/x", dir + "/cut.bin"])
            #expect(r.status == 2)
            #expect(r.stdout.isEmpty)
            #expect(
                r.stderr
                    == "vmstate analyze: error: at byte offset \(half) (0x\(String(half, radix: 16))): expected a device description (vmdesc: byte 0x06, a be32 length and JSON) at the end of the stream, but there is none: the stream is truncated, or was written without one (a stream written without one: pass a description with --vmdesc; a stream cut short cannot be extracted)\n"
            )
            #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
            let withVMDesc = try Tool.run([
                "analyze", "-x", "--vmdesc", TestPaths.streams + "/audio-hda/stream.bin", "--directory", dir + "/x",
                dir + "/cut.bin",
            ])
            #expect(withVMDesc.status == 2)
            #expect(withVMDesc.stderr.hasPrefix("vmstate analyze: error: at byte offset "))
            #expect(withVMDesc.stderr.contains("but the stream ends after"), "\(withVMDesc.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
        }
    }

    @Test func anUnwritableDirectoryExitsWith2() throws {
        try withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: dir + "/file", contents: Data()))
            let r = try Tool.run([
                "analyze", "-x", "--directory", dir + "/file/sub", TestPaths.streams + "/audio-hda/stream.bin",
            ])
            #expect(r.status == 2)
            #expect(r.stdout.isEmpty)
            #expect(r.stderr == "vmstate analyze: error: cannot create directory \(dir)/file/sub: Not a directory\n")
        }
    }
    /// A directory whose path is longer than PATH_MAX is refused before any of its missing
    /// parents is made (mkdir makes them one at a time, each of them shorter: 17 were left
    /// behind, docs54 N1), relative to the current directory as well.
    @Test func aDirectoryPastPathMaxIsRefusedBeforeAnyIsMade() throws {
        let tool = try #require(Tool.path)
        let stream = TestPaths.streams + "/audio-hda/stream.bin"
        try withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let part = String(repeating: "d", count: 250)
            let relative = Array(repeating: part, count: 20).joined(separator: "/")
            let absolute = dir + "/" + relative
            let r = try Tool.run(["analyze", "-x", "--directory", absolute, stream])
            #expect(r.status == 2)
            #expect(r.stdout.isEmpty)
            #expect(
                r.stderr
                    == "vmstate analyze: error: cannot create directory \(absolute): File name too long (its absolute path is longer than PATH_MAX, 4096 bytes: extract into a directory with a shorter one, --directory)\n"
            )
            // 16 parts are 4,015 bytes: under PATH_MAX alone, past it from a current directory 100 bytes deeper.
            let shorter = Array(repeating: part, count: 16).joined(separator: "/")
            let here = dir + "/" + String(repeating: "e", count: 100)
            try FileManager.default.createDirectory(atPath: here, withIntermediateDirectories: true)
            let fromHere = try Tool.spawn(
                "/bin/sh",
                ["sh", "-c", "cd \"$0\" && exec \"$@\"", here, tool, "analyze", "-x", "--directory", shorter, stream])
            #expect(fromHere.status == 2)
            #expect(
                fromHere.stderr
                    == "vmstate analyze: error: cannot create directory \(shorter): File name too long (its absolute path is longer than PATH_MAX, 4096 bytes: extract into a directory with a shorter one, --directory)\n"
            )
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [String(repeating: "e", count: 100)])
            #expect(try FileManager.default.contentsOfDirectory(atPath: here) == [])

            // Under PATH_MAX, but with no room for the files written in it (review55 D6: 21
            // directories were made, then desc.json's temporary name was too long): refused
            // first. Its longest file as written is desc.json's .desc.json.PID.99.partial or
            // rom@etc/table-loader (written in place, or through .goutputstream-XXXXXX): which
            // one depends on the tool's PID.
            func expectNoRoom(_ stderr: String, _ what: String, _ length: Int) {
                #expect(
                    stderr.hasPrefix(
                        "vmstate analyze: error: cannot create directory \(full): \(what), \(length) bytes, leaves no room within PATH_MAX, 4096 bytes, for the files written in it (the longest, "
                    ) && stderr.hasSuffix(" bytes): extract into a directory with a shorter one, --directory\n"),
                    "\(stderr)")
            }
            let parts = (4086 - dir.utf8.count - 1) / 251
            var full = dir + "/" + Array(repeating: part, count: parts).joined(separator: "/")
            full += "/" + String(repeating: "g", count: 4086 - full.utf8.count - 1)
            #expect(full.utf8.count == 4086)
            let noRoom = try Tool.run(["analyze", "-x", "--directory", full, stream])
            #expect(noRoom.status == 2)
            expectNoRoom(noRoom.stderr, "its absolute path", 4086)
            // Through a symbolic link the path it resolves to counts (recheck55 D3): a real
            // directory of 4075 bytes behind a short link.
            let real = String(full.prefix(4075))
            try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: true)
            let link = dir + "/link"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
            let linked = try Tool.run(["analyze", "-x", "--directory", link, stream])
            #expect(linked.status == 2)
            #expect(
                linked.stderr.hasPrefix(
                    "vmstate analyze: error: cannot create directory \(link): the path it resolves to (\(real)), 4075 bytes, leaves no room within PATH_MAX"
                ), "\(linked.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: real) == [])
            // A new directory under the link: refused before it is made (recheck55b E3).
            let under = try Tool.run(["analyze", "-x", "--directory", link + "/new/deeper", stream])
            #expect(
                under.status == 2
                    && under.stderr.hasPrefix(
                        "vmstate analyze: error: cannot create directory \(link)/new/deeper: the path it resolves to (\(real)/new/deeper), 4086 bytes, leaves no room within PATH_MAX"
                    ), "\(under.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: real) == [])
            // With room for them (a path 4050 bytes long), the extraction is whole.
            let fits = String(full.prefix(4050))
            let whole = try Tool.run(["analyze", "-x", "--directory", fits, stream])
            #expect(whole.status == 0, "\(whole.stderr)")
            #expect(FileManager.default.fileExists(atPath: fits + "/state.json"))
            try FileManager.default.removeItem(atPath: link)
            try FileManager.default.removeItem(atPath: dir + "/" + part)
            // A name longer than NAME_MAX (255 bytes) is named as such.
            let long = dir + "/" + String(repeating: "a", count: 256)
            let named = try Tool.run(["analyze", "-x", "--directory", long, stream])
            #expect(
                named.stderr
                    == "vmstate analyze: error: cannot create directory \(long): File name too long (a name in it is 256 bytes, longer than NAME_MAX, 255 bytes: extract into a directory with shorter names, --directory)\n"
            )
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [String(repeating: "e", count: 100)])
        }
    }

    /// The files go where the kernel resolves the directory: not to `/` from a current
    /// directory that was removed (GIO names a relative path from the current directory's
    /// name, `/` then: desc.json and pc.ram were written to `/`, exit 0 for isapc; cliio F7),
    /// and not beside a symbolic link followed by `..`, which GIO dropped by its text.
    @Test func filesGoWhereTheDirectoryResolves() throws {
        let tool = try #require(Tool.path)
        let stream = TestPaths.streams + "/audio-hda/stream.bin"
        try withTemporaryDirectory { dir in
            let fm = FileManager.default
            for args in [["-x"], ["-x", "--directory", "out"]] {
                try fm.createDirectory(atPath: dir + "/gone", withIntermediateDirectories: true)
                let r = try Tool.spawn(
                    "/bin/sh",
                    ["sh", "-c", "cd \"$0\" && rmdir \"$0\" && exec \"$@\"", dir + "/gone", tool, "analyze", stream]
                        + args)
                let name = args.count == 1 ? "." : "out"
                #expect(r.status == 2)
                #expect(r.stdout.isEmpty)
                #expect(
                    r.stderr
                        == "vmstate analyze: error: cannot write into \(name): the current directory cannot be found (No such file or directory): it was removed\n"
                )
                #expect(!fm.fileExists(atPath: "/desc.json") && !fm.fileExists(atPath: "/out"))
            }
            // dir/link is dir/a/b: dir/link/../out is dir/a/out.
            try fm.createDirectory(atPath: dir + "/a/b", withIntermediateDirectories: true)
            try fm.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/a/b")
            let r = try Tool.run(["analyze", "-x", "--directory", dir + "/link/../out", stream])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(
                try fm.contentsOfDirectory(atPath: dir + "/a/out").sorted() == [
                    "desc.json", "pc.bios", "pc.ram", "pc.rom", "rom@etc", "state.json",
                ])
            #expect(!fm.fileExists(atPath: dir + "/out"))
        }
    }

    /// A JSON file whose write fails (here at the file size limit, `ulimit -f`: 51,200 bytes,
    /// below desc.json's 0.3 MB) leaves nothing under its name, in a new directory as well as
    /// over an older file: the text goes to a hidden file, deleted on failure, renamed when whole.
    @Test func aFailedJSONWriteLeavesNoPartialFile() throws {
        let tool = try #require(Tool.path)
        let stream = TestPaths.streams + "/audio-hda/stream.bin"
        try withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir + "/old", withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: dir + "/old/desc.json", contents: Data("kept".utf8)))
            for (sub, left) in [("new", [String]()), ("old", ["desc.json"])] {
                let r = try Tool.spawn(
                    "/bin/sh",
                    [
                        "sh", "-c", "ulimit -f 100 && exec \"$@\"", "sh", tool, "analyze", "-x", "--directory",
                        dir + "/" + sub, stream,
                    ])
                #expect(r.status == 2, "\(sub)")
                #expect(r.stdout.isEmpty)
                #expect(
                    r.stderr
                        == "vmstate analyze: error: cannot write \(dir)/\(sub)/desc.json: Error writing to file: File too large\n"
                )
                #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/" + sub).sorted() == left, "\(sub)")
            }
            #expect(try TestPaths.readText(dir + "/old/desc.json") == "kept")
        }
    }
}
