import Foundation
import Testing
import VMState

/// The `vmstate` command line: output and exit status (skipped when the executable was not
/// built next to the tests).
@Suite(.enabled(if: Tool.path != nil, "the vmstate executable is not built next to the tests"))
struct AnalyzeCLITests {
    @Test func analyzePrintsWhatTheScriptPrints() throws {
        let dir = TestPaths.qemuFixtures + "/pc-reset"
        let r = try Tool.run(["analyze", dir + "/stream.bin"])
        #expect(r.status == 0)
        #expect(r.stdout == (try TestPaths.readText(dir + "/analyze.json")))
        #expect(r.stderr.isEmpty)
    }

    @Test func analyzeDesc() throws {
        let dir = TestPaths.streams + "/audio-hda"
        let r = try Tool.run(["analyze", "--desc", dir + "/stream.bin"])
        #expect(r.status == 0)
        #expect(r.stdout == (try TestPaths.readText(dir + "/desc.json")))
    }

    @Test func analyzeQEMU10Stream() throws {
        let dir = TestPaths.qemu10Fixtures + "/q35-devices"
        let r = try Tool.run(["analyze", dir + "/stream.bin"])
        #expect(r.status == 0)
        #expect(r.stdout == (try TestPaths.readText(dir + "/analyze.json")))
        #expect(r.stderr.isEmpty)
        let d = try Tool.run(["analyze", "--desc", dir + "/stream.bin"])
        #expect(d.status == 0)
        #expect(d.stdout == (try TestPaths.readText(dir + "/desc.json")))
        let t = try Tool.run(["analyze", "--tree", TestPaths.qemu10Fixtures + "/mapped-ram/stream.bin"])
        #expect(t.status == 0)
        #expect(t.stdout.contains("machine type: pc-i440fx-10.0\ncapabilities: mapped-ram\n"))
    }

    /// A file whose last 64 MiB + 5 bytes (all that is searched for the vmdesc) start on a page
    /// boundary with '{' and hold no NUL: looking for QEMU's script's marker before the first
    /// '{' after the last NUL reads nothing outside what was mapped (it read 5 bytes before its
    /// mapping of the file, and the tool crashed).
    @Test func aBraceWhereTheVMDescSearchBegins() throws {
        let path = temporaryDirectoryPath() + "/vmstate-brace-\(getpid()).bin"
        defer { unlink(path) }
        let lowest = 8192
        let n = (64 << 20) + 5 + lowest
        let bytes =
            Array("QEVM".utf8) + [0, 0, 0, 3] + [UInt8](repeating: 0x01, count: lowest - 8) + [UInt8(ascii: "{")]
            + [UInt8](repeating: UInt8(ascii: "a"), count: n - lowest - 1)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let r = try Tool.run(["analyze", path])
        #expect(r.status == 2)
        #expect(
            r.stderr
                == "vmstate analyze: error: at byte offset \(lowest) (0x\(String(lowest, radix: 16))): expected a device description (vmdesc: byte 0x06, a be32 length and JSON) at the end of the stream, but none begins in its last 67108869 bytes, all that are searched, and they hold no NUL byte: text, as a vmdesc larger than the 64 MiB of JSON the tool reads would be (QEMU's take about 7.5 KB per x86 vCPU: 30 MB for 4,096), or not a stream (pass a description with --vmdesc)\n"
        )
    }

    @Test func analyzeBadInputExitsWith2() throws {
        let r = try Tool.run(["analyze", TestPaths.qemuFixtures + "/dump-vmstate-pc.json"])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("vmstate analyze: error: at byte offset 0 (0x0): expected the stream magic"))
        let missing = try Tool.run(["analyze", "/nonexistent/stream.bin"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot open /nonexistent/stream.bin"))
    }

    /// A stream whose section "0000:00:01.0/PIIX3" is named "0000:00:01.0/ESC[IX3" in its
    /// bytes and, with `describedToo`, in its vmdesc (JSON "\u001b"; the be32 length fixed).
    static func streamWithEscapeInAName(describedToo: Bool) throws -> [UInt8] {
        var stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        let marker = Array("{\"page_size\"".utf8)
        let jsonStart = try #require(
            (0..<stream.count - marker.count).last { stream[$0..<$0 + marker.count].elementsEqual(marker) })
        let idstr = [18] + Array("0000:00:01.0/PIIX3".utf8)
        let at = try #require(PCDumpFixture.find(idstr, in: Array(stream[..<jsonStart]))) + 1 + 13
        stream.replaceSubrange(at..<at + 2, with: [0x1B, UInt8(ascii: "[")])
        guard describedToo else { return stream }
        var json = Array(stream[jsonStart...])
        let name = Array("\"name\": \"0000:00:01.0/PIIX3\"".utf8)
        let n = try #require(PCDumpFixture.find(name, in: json)) + 9 + 13
        json.replaceSubrange(n..<n + 2, with: Array("\\u001b[".utf8))
        let length = UInt32(json.count)
        return Array(stream[..<(jsonStart - 4)]) + withUnsafeBytes(of: length.bigEndian) { Array($0) } + json
    }

    /// Control characters a stream carries in its names reach neither the terminal nor the
    /// error line as they are: they are written as \xNN (JSON output: "\u001b", as the script).
    @Test func controlCharactersInNamesAreEscaped() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-escape-\(UUID().uuidString)")
        let undescribed = base.path + "-undescribed.bin"
        let described = base.path + "-described.bin"
        defer {
            try? FileManager.default.removeItem(atPath: undescribed)
            try? FileManager.default.removeItem(atPath: described)
        }
        try Data(Self.streamWithEscapeInAName(describedToo: false)).write(to: URL(fileURLWithPath: undescribed))
        let r = try Tool.run(["analyze", undescribed])
        #expect(r.status == 2)
        #expect(
            r.stderr
                == "vmstate analyze: error: at byte offset 495945 (0x79149), section \"0000:00:01.0/\\x1b[IX3\" (section id 14, instance 0): section \"0000:00:01.0/\\x1b[IX3\" instance 0 is not described in the vmdesc, so its length is unknown\n"
        )

        try Data(Self.streamWithEscapeInAName(describedToo: true)).write(to: URL(fileURLWithPath: described))
        let tree = try Tool.run(["analyze", "--tree", described])
        #expect(tree.status == 0)
        #expect(tree.stdout.contains("0000:00:01.0/\\x1b[IX3"))
        #expect(!tree.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        let json = try Tool.run(["analyze", described])
        #expect(json.status == 0)
        #expect(json.stdout.contains("\"0000:00:01.0/\\u001b[IX3 (14)\": {"))
    }

    /// Where --vmdesc is not the way out, the message says what is.
    @Test func hintsForStreamsWithoutTheirDescription() throws {
        let stream = TestPaths.qemuFixtures + "/pc-bios/stream.bin"
        let bytes = try TestPaths.readBytes(stream)
        let cut = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-cut-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: cut) }
        try Data(bytes[..<100_000]).write(to: cut)
        let expectedEnd =
            "at byte offset 100000 (0x186a0): expected a device description (vmdesc: byte 0x06, a be32 length and JSON) at the end of the stream, but there is none: the stream is truncated, or was written without one"
        let analyze = try Tool.run(["analyze", cut.path])
        #expect(analyze.stderr == "vmstate analyze: error: \(expectedEnd) (pass a description with --vmdesc)\n")
        let compat = try Tool.run(["compat", stream, cut.path])
        #expect(compat.status == 2)
        #expect(
            compat.stderr
                == "vmstate compat: error: NEW (\(cut.path)): \(expectedEnd) (give its description in its place: a vmdesc JSON file, or a complete stream of the same build)\n"
        )
        let asVMDesc = try Tool.run(["analyze", "--vmdesc", cut.path, stream])
        #expect(
            asVMDesc.stderr
                == "vmstate analyze: error: --vmdesc \(cut.path): \(expectedEnd) (the description must come from a complete stream, or a vmdesc JSON file)\n"
        )
        let dump = TestPaths.qemuFixtures + "/dump-vmstate-pc.json"
        let dumpAsVMDesc = try Tool.run(["analyze", "--vmdesc", dump, cut.path])
        #expect(dumpAsVMDesc.status == 2)
        #expect(
            dumpAsVMDesc.stderr
                == "vmstate analyze: error: --vmdesc \(dump): not a vmdesc (no \"page_size\" and \"devices\"), but a -dump-vmstate file, which lists device classes rather than what one save wrote: give the vmdesc JSON of a stream of the same build, or that stream\n"
        )
        // Well-formed JSON of another shape: the --vmdesc file is named, not the stream's offset.
        let shaped = cut.path + ".shape.json"
        try Data(#"{"page_size": "4096", "devices": []}"#.utf8).write(to: URL(fileURLWithPath: shaped))
        defer { try? FileManager.default.removeItem(atPath: shaped) }
        let badShape = try Tool.run(["analyze", "--vmdesc", shaped, stream])
        #expect(badShape.status == 2)
        #expect(
            badShape.stderr
                == "vmstate analyze: error: --vmdesc \(shaped): invalid vmdesc: \"page_size\" must be a power of two, found \"4096\"\n"
        )
        // A stream given as --vmdesc whose vmdesc has that shape: named the same way.
        let avr = try TestPaths.readBytes(TestPaths.qemu10Fixtures + "/avr-uno/stream.bin")
        let badStream = cut.path + ".shape.bin"
        let pattern = Array(#""page_size": 256"#.utf8)
        let at = try #require((0...avr.count - pattern.count).first { Array(avr[$0..<$0 + pattern.count]) == pattern })
        var broken = avr
        broken.replaceSubrange(at..<at + pattern.count, with: Array(#""page_size":"25""#.utf8))  // (as long)
        try Data(broken).write(to: URL(fileURLWithPath: badStream))
        defer { try? FileManager.default.removeItem(atPath: badStream) }
        let badStreamVMDesc = try Tool.run(["analyze", "--vmdesc", badStream, stream])
        #expect(badStreamVMDesc.status == 2)
        #expect(
            badStreamVMDesc.stderr
                == "vmstate analyze: error: --vmdesc \(badStream): invalid vmdesc: \"page_size\" must be a power of two, found \"25\"\n"
        )
        // A --vmdesc file that cannot be opened: the message says it is the --vmdesc one.
        let missing = cut.path + ".missing"
        let noVMDesc = try Tool.run(["analyze", "--vmdesc", missing, stream])
        #expect(noVMDesc.status == 2)
        #expect(
            noVMDesc.stderr == "vmstate analyze: error: --vmdesc: cannot open \(missing): No such file or directory\n")
        // No subcommand at all is a usage error.
        let bare = try Tool.run([])
        #expect(bare.status == 64)
        #expect(bare.stderr.hasPrefix("Error: missing a subcommand (analyze, diff, compat, schema or lint)\n"))
        // `help` of a subcommand there is not, too; of one there is, its help.
        let helpBogus = try Tool.run(["help", "bogus"])
        #expect(helpBogus.status == 64 && helpBogus.stdout.isEmpty)
        #expect(
            helpBogus.stderr.hasPrefix("Error: unknown subcommand 'bogus' (analyze, diff, compat, schema or lint)\n"))
        let helpAnalyze = try Tool.run(["help", "analyze"])
        #expect(helpAnalyze.status == 0)
        #expect(helpAnalyze.stdout.hasPrefix("OVERVIEW: Print the device state in a QEMU migration stream."))
        // Extra arguments after `--version` or `help NAME` too (cliio F6: they were ignored).
        let version = try Tool.run(["--version", "extra"])
        #expect(version.status == 64 && version.stdout.isEmpty)
        #expect(version.stderr.hasPrefix("Error: --version takes no arguments, got 'extra'\n"))
        let helpExtra = try Tool.run(["help", "analyze", "extra"])
        #expect(helpExtra.status == 64 && helpExtra.stdout.isEmpty)
        #expect(helpExtra.stderr.hasPrefix("Error: help takes one subcommand name, got 'extra' too\n"))
        // `--help` or `-h` beside an unknown option, before or after it: a usage error as
        // without them (swift-argument-parser printed the help and exited 0).
        let analyzeUsage =
            "Usage: vmstate analyze <file> [--desc] [--memory] [--tree] [--max-bytes <n>] [--vmdesc <file>] [--extract] [--directory <dir>]\n"
        for (args, unknown, usage, label) in [
            (["analyze", "--frob", "--help"], "--frob", analyzeUsage, "vmstate analyze"),
            (["analyze", "-h", "-z"], "-z", analyzeUsage, "vmstate analyze"),
            (["analyze", "-mq", "-h"], "-mq", analyzeUsage, "vmstate analyze"),
            (
                ["compat", "--frob=3", "-h"], "--frob",
                "Usage: vmstate compat <old> <new> [--json] [--reverse] [--strict] [--no-qemu-renames] [--rename <scope:a=b> ...]\n",
                "vmstate compat"
            ),
            (["--frob", "--help"], "--frob", "Usage: vmstate <subcommand>\n", "vmstate"),
        ] {
            let r = try Tool.run(args)
            #expect(r.status == 64 && r.stdout.isEmpty, "\(args)")
            #expect(
                r.stderr
                    == "Error: Unknown option '\(unknown)'\n\(usage)  See '\(label) --help' for more information.\n",
                "\(args)")
        }
        // ... or an extra argument (after `--` too), or a word that is no subcommand.
        for (args, extra, usage, label) in [
            (["analyze", "a", "b", "--help"], "b", analyzeUsage, "vmstate analyze"),
            (["analyze", "-h", "--", "a", "b"], "b", analyzeUsage, "vmstate analyze"),
            (["frob", "-h"], "frob", "Usage: vmstate <subcommand>\n", "vmstate"),
        ] {
            let r = try Tool.run(args)
            #expect(r.status == 64 && r.stdout.isEmpty, "\(args)")
            #expect(
                r.stderr
                    == "Error: Unexpected argument '\(extra)'\n\(usage)  See '\(label) --help' for more information.\n",
                "\(args)")
        }
        // A completion script is printed whatever else the line holds, `-h` too (verify17 N3).
        for args in [
            ["--generate-completion-script", "bash", "extra", "-h"],
            ["analyze", "--generate-completion-script=zsh", "-h"],
        ] {
            let r = try Tool.run(args)
            #expect(r.status == 0 && r.stdout.hasPrefix("#") && r.stderr.isEmpty, "\(args)")
        }
        // Its own options and arguments, flags run together, and what follows `--` (as many
        // arguments as it takes) leave the help as it is.
        for args in [
            ["analyze", "-mx", "--max-bytes=3", "--vmdesc", "v", "-h"],
            ["compat", "--rename=a:b=c", "--json", "--help"],
            ["analyze", "-h", "--", "--frob"], ["diff", "--no-ram", "--max-ranges", "2", "--help", "--version"],
            ["diff", "a", "-h", "--", "b"], ["analyze", "--vmdesc", "v", "a", "-h"],
        ] {
            let r = try Tool.run(args)
            #expect(r.status == 0 && r.stdout.hasPrefix("OVERVIEW: ") && r.stderr.isEmpty, "\(args)")
        }
    }

    /// `--max-bytes` limits the bytes `--tree` shows of each buffer, and is refused elsewhere.
    @Test func maxBytesIsForTheTree() throws {
        let stream = TestPaths.streams + "/audio-hda/stream.bin"
        let four = try Tool.run(["analyze", "--tree", "--max-bytes", "4", stream])
        #expect(four.status == 0)
        #expect(four.stdout.contains("\n            ... 252 more bytes (256 in all)\n"))
        let standard = try Tool.run(["analyze", "--tree", stream])
        #expect(standard.stdout.contains("\n            ... 192 more bytes (256 in all)\n"))
        let all = try Tool.run(["analyze", "--tree", "--max-bytes", "0", stream])
        #expect(all.status == 0)
        #expect(!all.stdout.contains(" more bytes ("))
        let alone = try Tool.run(["analyze", "--max-bytes", "4", stream])
        #expect(alone.status == 64)
        #expect(alone.stdout.isEmpty)
        #expect(alone.stderr.hasPrefix("Error: --max-bytes is for --tree\n"))
        let negative = try Tool.run(["analyze", "--tree", "--max-bytes=-1", stream])
        #expect(negative.status == 64)
        #expect(negative.stderr.hasPrefix("Error: --max-bytes must be 0 (all) or more\n"))
        // --memory prints pages as JSON only (it was ignored with --tree).
        let memory = try Tool.run(["analyze", "--tree", "--memory", stream])
        #expect(memory.status == 64)
        #expect(memory.stdout.isEmpty)
        #expect(
            memory.stderr.hasPrefix(
                "Error: --memory cannot be combined with --tree (the pages are printed as JSON only)\n"))
        let ranges = try Tool.run(["diff", "--max-ranges=-1", stream, stream])
        #expect(ranges.status == 64)
        #expect(ranges.stderr.hasPrefix("Error: --max-ranges must be 0 (only how many) or more\n"))
        // A negative number as a separate argument is that number, not a missing value.
        let apart = try Tool.run(["diff", "--max-ranges", "-1", stream, stream])
        #expect(apart.status == 64)
        #expect(apart.stderr.hasPrefix("Error: --max-ranges must be 0 (only how many) or more\n"))
        let bytesApart = try Tool.run(["analyze", "--tree", "--max-bytes", "-5", stream])
        #expect(bytesApart.status == 64)
        #expect(bytesApart.stderr.hasPrefix("Error: --max-bytes must be 0 (all) or more\n"))
    }

    /// An empty file, or one that holds only the start of the stream magic, is a stream cut
    /// short for `diff` and `compat` as for `analyze` (they called it invalid JSON).
    @Test func emptyAndTinyFilesAreStreamsCutShort() throws {
        let stream = TestPaths.qemuFixtures + "/pc-bios/stream.bin"
        let dir = FileManager.default.temporaryDirectory.path + "/vmstate-tiny-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, bytes) in [("empty.bin", [UInt8]()), ("three.bin", Array("QEV".utf8))] {
            let path = dir + "/" + name
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            let why =
                "at byte offset \(bytes.count) (0x\(bytes.count)): expected the 8-byte stream header (magic \"QEVM\", version 3), but the file has only \(bytes.count) bytes"
            let analyze = try Tool.run(["analyze", path])
            #expect(analyze.status == 2)
            #expect(analyze.stderr == "vmstate analyze: error: \(why)\n")
            let diff = try Tool.run(["diff", stream, path])
            #expect(diff.status == 2)
            #expect(diff.stderr == "vmstate diff: error: \(path): \(why)\n")
            let compat = try Tool.run(["compat", path, stream])
            #expect(compat.status == 2)
            #expect(compat.stderr.hasPrefix("vmstate compat: error: "), "\(compat.stderr)")
            #expect(compat.stderr.contains(why), "\(compat.stderr)")
        }
    }

    /// `--tree --vmdesc` of a stream cut short shows the sections read before the cut, then
    /// fails with where and why it stopped.
    @Test func treeOfACutStreamShowsTheSectionsBeforeTheCut() throws {
        let stream = TestPaths.qemuFixtures + "/pc-bios/stream.bin"
        let bytes = try TestPaths.readBytes(stream)
        let cut = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-cut-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: cut) }
        try Data(bytes[..<504_000]).write(to: cut)
        let r = try Tool.run(["analyze", "--tree", "--vmdesc", stream, cut.path])
        #expect(r.status == 2)
        #expect(
            r.stdout.hasPrefix(
                """
                QEMU migration stream \(cut.path): format version 3, 504000 bytes
                machine type: pc-i440fx-7.2
                page size: 4096, vmdesc supplied separately
                28 sections read, then reading stopped at 0x7b0be (the error follows on stderr)

                ram (section 2, instance 0, version 4)  @0x1a

                """))
        #expect(
            r.stdout.hasSuffix(
                """

                i2c_bus (section 29, instance 0, version 1)  vmsd "i2c_bus" v1  @0x7ad50 +22
                    saved_address  uint8  0xff = 255

                """))
        // Cut inside the RAM: the block list and the pages read before the cut.
        try Data(bytes[..<200_000]).write(to: cut)
        let ram = try Tool.run(["analyze", "--tree", "--vmdesc", stream, cut.path])
        #expect(ram.status == 2)
        #expect(
            ram.stdout.hasSuffix(
                """
                1 section read, then reading stopped at 0x2fdbd (the error follows on stderr)

                ram (section 2, instance 0, version 4)  @0x1a
                    blocks (total 0x0000000001082000, 16904 KiB):
                        pc.ram                 0x0000000001000000  16 MiB
                        /rom@etc/acpi/tables   0x0000000000020000  128 KiB
                        pc.bios                0x0000000000040000  256 KiB
                        pc.rom                 0x0000000000020000  128 KiB
                        /rom@etc/table-loader  0x0000000000001000  4 KiB
                        /rom@etc/acpi/rsdp     0x0000000000001000  4 KiB
                    pages: 4012 records, 39 with data, 3973 filled

                """))
        #expect(
            ram.stderr
                == "vmstate analyze: error: at byte offset 196029 (0x2fdbd), section \"ram\" (section id 2, instance 0), field pc.ram page 0x0000000000fac000: expected the page's data (4096 bytes), but the stream ends after 3971 more bytes\n"
        )
        #expect(
            r.stderr
                == "vmstate analyze: error: at byte offset 503998 (0x7b0be), section \"0000:00:01.3/piix4_pm\" (section id 30, instance 0), field acpi_pci_hotplug.acpi_pcihp_pci_status[57]/down: expected a uint32 value (4 bytes), but the stream ends after 2 more bytes\n"
        )
        // Cut inside the configuration section's machine type: not "not sent".
        try Data(bytes[..<15]).write(to: cut)
        let config = try Tool.run(["analyze", "--tree", "--vmdesc", stream, cut.path])
        #expect(config.status == 2)
        #expect(
            config.stdout == """
                QEMU migration stream \(cut.path): format version 3, 15 bytes
                machine type: unread (the configuration section is cut short or corrupt: the error follows)
                page size: 4096, vmdesc supplied separately
                0 sections read, then reading stopped at 0xd (the error follows on stderr)

                """)
        #expect(
            config.stderr
                == "vmstate analyze: error: at byte offset 13 (0xd), section configuration: expected the machine type name (13 bytes), but the stream ends after 2 more bytes\n"
        )
    }

    /// Every subcommand's help fits 80 columns: swift-argument-parser wraps a line of 80 or more
    /// to column 0, so an indented row of a table (compat's kinds) that is too long leaves its
    /// last words alone at column 0 under it.
    @Test func helpTableRowsFitEightyColumns() throws {
        for command in ["analyze", "diff", "compat", "schema", "lint"] {
            let r = try Tool.run([command, "--help"])
            #expect(r.status == 0)
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            let wrapped = zip(lines, lines.dropFirst()).filter { row, next in
                row.hasPrefix("  ") && !next.isEmpty && !next.hasPrefix(" ")
            }
            #expect(wrapped.isEmpty, "\(command): \(wrapped.map { "\($0.0) / \($0.1)" })")
        }
    }

    /// `vmstate --version` prints the version scripts/install writes into vmstate.pc.
    @Test func versionIsPrinted() throws {
        let r = try Tool.run(["--version"])
        #expect(r.status == 0)
        #expect(r.stdout == "0.1.0\n")
        #expect(r.stderr.isEmpty)
    }

    /// An argument that is not UTF-8 (a Latin-1 file name) is refused, exit status 64: Swift's
    /// arguments would replace its bytes with U+FFFD and open, or extract into, another path.
    @Test func anArgumentThatIsNotUTF8IsRefused() throws {
        let tool = try #require(Tool.path)
        for args in [["analyze"], ["analyze", "-x", "--directory", "/tmp/vmstate-test-no-dir"]] {
            let r = try Tool.spawn(
                "/bin/sh", ["sh", "-c", "exec \"$@\" \"$(printf 'f\\377.bin')\"", "sh", tool] + args)
            #expect(r.status == 64, "\(args)")
            #expect(r.stdout.isEmpty)
            #expect(
                r.stderr.hasPrefix(
                    "Error: argument \(args.count + 1) is not valid UTF-8 (a file name in another encoding?); vmstate takes names as UTF-8: rename the file, or give a stream on standard input (-)\n"
                ), "\(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/vmstate-test-no-dir"))
    }

    /// A failed write to stdout (a full disk: `/dev/full`; stdout closed) is an error, exit
    /// status 2 and a message, in every subcommand: the output is not whole.
    @Test func aFailedWriteToStdoutIsAnError() throws {
        let tool = try #require(Tool.path)
        let live = TestPaths.qemuFixtures + "/pc-live/stream.bin", bios = TestPaths.qemuFixtures + "/pc-bios/stream.bin"
        for (args, command) in [
            (["analyze", live], "analyze"), (["analyze", "--memory", live], "analyze"),
            (["diff", live, bios], "diff"), (["compat", "--json", live, live], "compat"),
        ] {
            for (redirect, reason) in [("> /dev/full", "No space left on device"), (">&-", "Bad file descriptor")] {
                let r = try Tool.spawn("/bin/sh", ["sh", "-c", "exec \"$@\" \(redirect)", "sh", tool] + args)
                #expect(r.status == 2, "\(args) \(redirect)")
                #expect(r.stderr == "vmstate \(command): error: cannot write to standard output: \(reason)\n")
            }
        }
    }

    /// Runs `argv` with stdout a pipe whose read end is closed before it starts (by Python's
    /// subprocess, which also gives the child SIGPIPE's default action back); stdout holds the
    /// child's return code (-13: ended by SIGPIPE).
    static func runWithStdoutReaderGone(_ argv: [String]) throws -> Tool.Result {
        let script = """
            import os, subprocess, sys
            r, w = os.pipe()
            os.close(r)
            print(subprocess.run(sys.argv[1:], stdout=w).returncode)
            """
        return try Tool.spawn("/usr/bin/python3", ["python3", "-c", script] + argv)
    }

    /// A caller that ignores SIGPIPE (inherited by the tool) gets a failed write instead of the
    /// signal: "Broken pipe", exit status 2 (cliio F4: it was killed by SIGPIPE all the same).
    @Test func aCallerIgnoringSIGPIPEGetsExitStatus2() throws {
        let tool = try #require(Tool.path)
        let live = TestPaths.qemuFixtures + "/pc-live/stream.bin"
        let script = """
            import os, signal, subprocess, sys
            r, w = os.pipe()
            os.close(r)
            print(subprocess.run(sys.argv[1:], stdout=w, restore_signals=False).returncode)
            """
        for args in [["analyze", live], ["diff", live, TestPaths.qemuFixtures + "/pc-bios/stream.bin"]] {
            let r = try Tool.spawn(
                "/usr/bin/python3",
                ["python3", "-c", "import signal; signal.signal(signal.SIGPIPE, signal.SIG_IGN)\n" + script, tool]
                    + args)
            #expect(r.stdout == "2\n", "\(args)")
            #expect(r.stderr == "vmstate \(args[0]): error: cannot write to standard output: Broken pipe\n", "\(args)")
        }
    }

    /// The shell completion scripts complete file names for the inputs and --vmdesc, and
    /// directories for --directory (cliio F3: they completed none, and bash's own was off).
    @Test func completionScriptsCompleteFileNames() throws {
        let bash = try Tool.run(["--generate-completion-script", "bash"])
        #expect(bash.status == 0)
        let analyze = try #require(bash.stdout.range(of: "_vmstate_analyze() {"))
        let end = bash.stdout.range(of: "\n}\n", range: analyze.upperBound..<bash.stdout.endIndex)
        let body = String(bash.stdout[analyze.upperBound..<(end?.lowerBound ?? bash.stdout.endIndex)])
        #expect(body.contains("'--vmdesc')\n        __vmstate_add_completions -f\n"), "\(body)")
        #expect(body.contains("'--directory')\n        __vmstate_add_completions -d\n"), "\(body)")
        #expect(body.contains("    1)\n        __vmstate_add_completions -f\n"), "\(body)")
        for shell in ["zsh", "fish"] {
            let r = try Tool.run(["--generate-completion-script", shell])
            let directory = shell == "zsh" ? ":dir:_files -/'" : "-rfa '(__vmstate_complete_directories)'"
            #expect(r.status == 0 && r.stdout.contains(directory), "\(shell)")
        }
    }

    /// Standard input named twice, as `-` and as `/dev/stdin` or `/dev/fd/0`, is read once
    /// (cliio F2: the second name read the exhausted pipe, "the file has only 0 bytes").
    @Test func standardInputUnderTwoNamesIsReadOnce() throws {
        let tool = try #require(Tool.path)
        let live = TestPaths.qemuFixtures + "/pc-live/stream.bin"
        for names in [["-", "/dev/stdin"], ["/dev/fd/0", "-"], ["/dev/stdin", "/dev/fd/0"]] {
            let r = try Tool.spawn(
                "/bin/sh", ["sh", "-c", "cat \"$0\" | \"$@\"", live, tool, "diff"] + names)
            #expect(r.status == 0 && r.stdout == "streams are equal\n", "\(names): \(r.stderr)")
        }
    }

    /// Help, which swift-argument-parser prints through C's stdio, is checked as the tool
    /// exits: to a full disk or a closed stdout exit status 2 and the reason, to a pipe without
    /// a reader SIGPIPE; whole on a working stdout, exit 0.
    @Test func helpThatCannotBeWrittenIsAnError() throws {
        let tool = try #require(Tool.path)
        for (args, label) in [(["--help"], "vmstate"), (["analyze", "--help"], "vmstate analyze")] {
            let ok = try Tool.run(args)
            #expect(ok.status == 0 && ok.stdout.hasPrefix("OVERVIEW: ") && ok.stderr == "")
            for (redirect, reason) in [("> /dev/full", "No space left on device"), (">&-", "Bad file descriptor")] {
                let r = try Tool.spawn("/bin/sh", ["sh", "-c", "exec \"$@\" \(redirect)", "sh", tool] + args)
                #expect(r.status == 2, "\(args) \(redirect)")
                #expect(r.stderr == "\(label): error: cannot write to standard output: \(reason)\n")
            }
            let r = try Self.runWithStdoutReaderGone([tool] + args)
            #expect(r.stdout == "-\(SIGPIPE)\n" && r.stderr == "", "\(args)")
        }
    }

    /// `-x` with a standard output that takes nothing: the names cannot be listed, but the
    /// files (the output) are all written, the same as with stdout on a pipe, then exit 2 (a
    /// closed stdout, a full disk) or the end on SIGPIPE (a pipe without a reader).
    @Test func extractWritesItsFilesWhenTheListingCannotBeWritten() throws {
        let tool = try #require(Tool.path)
        let live = TestPaths.qemuFixtures + "/pc-live/stream.bin"
        let base = temporaryDirectoryPath() + "/vmstate-x-stdout-\(getpid())"
        defer { _ = try? Tool.spawn("/bin/rm", ["rm", "-rf", base]) }
        let listed = try Tool.run(["analyze", "-x", "--directory", base + "/listed", live])
        #expect(listed.status == 0)
        let names = listed.stdout.split(separator: "\n").map(String.init)
        #expect(names.first == "desc.json" && names.last == "state.json" && names.contains("pc.ram"))
        for (redirect, reason) in [("> /dev/full", "No space left on device"), (">&-", "Bad file descriptor")] {
            let dir = base + "/" + (redirect == ">&-" ? "closed" : "full")
            let r = try Tool.spawn(
                "/bin/sh",
                ["sh", "-c", "exec \"$@\" \(redirect)", "sh", tool, "analyze", "-x", "--directory", dir, live])
            #expect(r.status == 2, "\(redirect)")
            #expect(r.stderr == "vmstate analyze: error: cannot write to standard output: \(reason)\n")
            for name in names {
                let same = try Tool.spawn("/usr/bin/cmp", ["cmp", base + "/listed/" + name, dir + "/" + name])
                #expect(same.status == 0, "\(redirect) \(name): \(same.stdout)\(same.stderr)")
            }
        }
        // Stdout a pipe whose reader has gone: the files, then the end on SIGPIPE (as without -x).
        let gone = base + "/gone"
        let r = try Self.runWithStdoutReaderGone([tool, "analyze", "-x", "--directory", gone, live])
        #expect(r.stdout == "-\(SIGPIPE)\n" && r.stderr == "")
        for name in names {
            let same = try Tool.spawn("/usr/bin/cmp", ["cmp", base + "/listed/" + name, gone + "/" + name])
            #expect(same.status == 0, "pipe \(name): \(same.stdout)\(same.stderr)")
        }
    }
}
