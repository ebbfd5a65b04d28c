import Foundation
import Testing
import VMState
import VMStateAnalysis

/// `vmstate analyze` against what QEMU 7.2's scripts/analyze-migration.py printed for real
/// streams.
@Suite struct AnalyzeTests {
    static let sharedStreams = ["pc-reset", "pc-bios"]

    func checkAgainstScript(stream: String, expected: String, parsed: Bool) throws {
        let analysis = try StreamAnalysis(path: stream, options: .init(recordPages: false))
        let expectedText = try TestPaths.readText(expected)
        if parsed {
            // Compared as parsed JSON (order of members included) ...
            let expectedJSON = try JSONValue(parsing: expectedText)
            #expect(analysis.stateJSON == expectedJSON)
        }
        // ... and as text, byte for byte (which implies the former).
        let text = analysis.pythonText
        if text != expectedText {
            // Point at the first difference rather than printing megabytes.
            let a = Array(text.utf8), b = Array(expectedText.utf8)
            let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
            Issue.record(
                "first difference at byte \(i): ours \(String(decoding: a[i..<min(i + 80, a.count)], as: UTF8.self)) / script \(String(decoding: b[i..<min(i + 80, b.count)], as: UTF8.self))"
            )
        }
    }

    @Test(arguments: sharedStreams)
    func sharedFixtureMatchesScript(_ name: String) throws {
        let dir = TestPaths.qemuFixtures + "/" + name
        try checkAgainstScript(stream: dir + "/stream.bin", expected: dir + "/analyze.json", parsed: true)
    }

    @Test(arguments: TestPaths.streamNames)
    func committedStreamMatchesScript(_ name: String) throws {
        let dir = TestPaths.streams + "/" + name
        try checkAgainstScript(stream: dir + "/stream.bin", expected: dir + "/analyze.json", parsed: false)
    }

    /// A configuration's `target-page-bits` (QEMU sends it when the machine's page size is not
    /// the target's smallest) must give the vmdesc's page size: 12 reads, 13 is refused (QEMU's
    /// destination refuses another page size than its own).
    @Test func targetPageBitsMustGiveTheVMDescPageSize() throws {
        let data = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        // After the header (8), the configuration's 0x07, be32 length and "pc-i440fx-7.2" (13).
        let at = 8 + 5 + 13
        func with(_ bits: UInt8) -> [UInt8] {
            var b = Array(data[..<at]) + [0x05, 30] + Array("configuration/target-page-bits".utf8)
            b += [0, 0, 0, 1, 0, 0, 0, bits]
            return b + Array(data[at...])
        }
        let fine = try StreamAnalysis(bytes: StreamBytes(with(12)), options: .init(recordPages: false))
        #expect(fine.sections.count > 20)
        let e = try #require(
            thrownError(StreamAnalysisError.self) {
                _ = try StreamAnalysis(bytes: StreamBytes(with(13)), options: .init(recordPages: false))
            })
        #expect(
            "\(e)".contains(
                "target_page_bits 13 contradicts the vmdesc's page_size 4096 (QEMU: \"Received TARGET_PAGE_BITS is 13 but local is ...\")"
            ), "\(e)")
    }

    /// A stream with section footers read with a description that reads a section's data
    /// short (here `timer` without its last field, as a description of another machine or
    /// build may): the error is at that section's end, where its footer should be.
    @Test func aDescriptionThatEndsASectionEarlyIsCaughtAtTheFooter() throws {
        let path = TestPaths.qemuFixtures + "/pc-bios/stream.bin"
        let data = try TestPaths.readBytes(path)
        let full = try StreamAnalysis(bytes: StreamBytes(data), options: .init(recordPages: false))
        let timer = try #require(full.sections.first { $0.name == "timer" })
        guard case .device(let record) = timer.content,
            let last = record.members.first(where: { $0.name == "cpu_clock_offset" })
        else {
            Issue.record("no timer/cpu_clock_offset")
            return
        }
        var vmdesc = try #require(full.vmdesc.objectValue)
        var devices = try #require(vmdesc["devices"]?.arrayValue)
        var entry = try #require(devices[0].objectValue)
        #expect(entry["name"] == "timer")
        var fields = try #require(entry["fields"]?.arrayValue)
        fields.removeLast()
        entry["fields"] = .array(fields)
        devices[0] = .object(entry)
        vmdesc["devices"] = .array(devices)
        let e = try #require(streamError(data, options: .init(recordPages: false, vmdesc: .object(vmdesc))))
        #expect(e.offset == last.offset)
        #expect(e.section == "\"timer\" (section id \(timer.sectionID), instance 0)")
        #expect(e.field == nil)
        #expect(
            e.message
                == "expected the section's footer (0x7e and its section id) after its data, found 0x\(data[last.offset] < 16 ? "0" : "")\(String(data[last.offset], radix: 16)): the data does not end where its description says (the description given with --vmdesc may be of another machine or QEMU build: give the one saved with this stream)"
        )
        // With its own vmdesc, a footer byte damaged: the stream is named first.
        var damaged = data
        #expect(damaged[last.offset + 8] == 0x7e)
        damaged[last.offset + 8] = 0
        let d = try #require(streamError(damaged))
        #expect(d.offset == last.offset + 8)
        #expect(
            d.message
                == "expected the section's footer (0x7e and its section id) after its data, found 0x00: the data does not end where its description says (the stream is damaged there, or its vmdesc does not describe it)"
        )
    }

    @Test func pcBiosValues() throws {
        let a = try StreamAnalysis(path: TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        #expect(a.machineType == "pc-i440fx-7.2")
        #expect(a.pageSize == 4096)
        let state = a.stateJSON
        #expect(state["ram (2)"]?["section sizes"]?["pc.ram"] == "0x0000000001000000")
        #expect(state["ram (2)"]?["section sizes"]?["pc.bios"] == "0x0000000000040000")
        #expect(state["timer (0)"]?["cpu_ticks_offset"] == "0x000000009ae27228")
        #expect(state["timer (0)"]?["unused"] == "00 00 00 00 00 00 00 00")
        #expect(state["cpu (5)"]?["env.eip"] == "0x000000000000b7b9")
        #expect(state["cpu (5)"]?["env.regs"]?[1] == "0x000000000000b79d")
        #expect(state["cpu (5)"]?["env.segs"]?[0]?["selector"] == "0x0000d980")
        #expect(state["cpu (5)"]?["env.fpregs"]?[7]?["tmp"] == "00 00 00 00 00 00 00 00 00 00")
        // A signed 32-bit -1 prints with its decimal value.
        #expect(state["cpu (5)"]?["env.exception_nr"] == "0xffffffff (-1)")

        // The typed model behind it.
        guard let cpu = a.sections.first(where: { $0.name == "cpu" }), case .device(let record) = cpu.content else {
            Issue.record("no cpu section")
            return
        }
        #expect(cpu.sectionID == 5)
        #expect(cpu.version == 12)
        #expect(record.vmsdName == "cpu")
        #expect(record["env.eip"] == .integer(bytes: [0, 0, 0, 0, 0, 0, 0xB7, 0xB9], signed: false))
        #expect(record["env.eip"]?.unsignedValue == 0xB7B9)
        #expect(record["env.exception_nr"]?.decimalString == "-1")

        guard let ram = a.sections.first(where: { $0.name == "ram" }), case .ram(let r) = ram.content else {
            Issue.record("no ram section")
            return
        }
        #expect(
            r.blocks.map(\.name) == [
                "pc.ram", "/rom@etc/acpi/tables", "pc.bios", "pc.rom", "/rom@etc/table-loader", "/rom@etc/acpi/rsdp",
            ])
        #expect(r.totalSize == 0x0108_2000)
        #expect(r.pageCount == 4226)
        #expect(r.dataPageCount == 111)
        #expect(r.pages.count == 4226)
    }

    @Test func descriptionMatchesScript() throws {
        let dir = TestPaths.streams + "/audio-hda"
        let (json, location) = try StreamAnalysis.readVMDesc(StreamBytes(contentsOfFile: dir + "/stream.bin"))
        let expected = try TestPaths.readText(dir + "/desc.json")
        #expect(json.deduplicatingKeys().formatted(.python) + "\n" == expected)
        #expect(json.deduplicatingKeys() == (try JSONValue(parsing: expected)))
        #expect(location.jsonOffset == location.markerOffset + 5)
    }

    @Test func descriptionOfSharedFixtureMatchesItsVMDesc() throws {
        for name in Self.sharedStreams {
            let dir = TestPaths.qemuFixtures + "/" + name
            let a = try StreamAnalysis(path: dir + "/stream.bin", options: .init(recordPages: false))
            #expect(a.descriptionJSON == (try TestPaths.readJSON(dir + "/vmdesc.json")))
        }
    }

    @Test func memoryDump() throws {
        let a = try StreamAnalysis(path: TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        var w = JSONTextWriter(format: .python)
        try a.writeState(to: &w, memory: true)
        let json = try JSONValue(parsing: w.text)
        guard let memory = json["ram (2)"]?["memory"]?.objectValue else {
            Issue.record("no memory object")
            return
        }
        // Every page of this stream is sent once.
        #expect(memory.count == 4226)
        #expect(memory.keys.first == "pc.ram (0x0000000000000000)")
        #expect(memory["pc.ram (0x0000000000001000)"] == "Filled with 0x00")
        // Data pages: 4096 bytes as "xx xx ...".
        let dataPages = memory.members.filter { $0.value.stringValue?.hasPrefix("Filled") == false }
        #expect(dataPages.count == 111)
        #expect(dataPages.allSatisfy { $0.value.stringValue?.utf8.count == 4096 * 3 - 1 })
        // The BIOS ends with the reset vector jump (ea 5b e0 00 f0) 16 bytes before 4 GiB,
        // i.e. at offset 0x3fff0 of pc.bios.
        let last = memory["pc.bios (0x000000000003f000)"]?.stringValue ?? ""
        let bytes = last.split(separator: " ")
        #expect(bytes.count == 4096)
        #expect(bytes[0xFF0..<0xFF5].joined(separator: " ") == "ea 5b e0 00 f0")
        // "section sizes" stays first.
        #expect(json["ram (2)"]?.objectValue?.keys == ["section sizes", "memory"])
    }

    @Test func treeView() throws {
        let a = try StreamAnalysis(
            path: TestPaths.qemuFixtures + "/pc-bios/stream.bin", options: .init(recordPages: false))
        let text = try TreeView(maxBytes: 32).text(a)
        #expect(text.contains("machine type: pc-i440fx-7.2"))
        #expect(text.contains("cpu (section 5, instance 0, version 12)  vmsd \"cpu\" v12"))
        #expect(text.contains("env.eip                    uint64      0x000000000000b7b9 = 47033"))
        #expect(text.contains("        pc.ram                 0x0000000001000000  16 MiB"))
        #expect(text.contains("pages: 4226 records, 111 with data, 4115 filled"))
        #expect(text.contains("0xffffffff (-1)"))
    }

    /// A hand-made stream whose vmdesc repeats keys inside one field object, as QEMU's writer
    /// does for qtailq/gtree fields with several elements. Expected output produced with
    /// analyze-migration.py (-f and -d desc) from the same bytes.
    @Test func duplicateKeysAndSignedTypes() throws {
        let desc =
            #"{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, "fields": [{"name": "a", "type": "uint16", "size": 2}, {"name": "q", "type": "qtailq", "vmsd_name": "elem", "version": 1, "fields": [{"name": "v", "type": "uint8", "size": 1}], "vmsd_name": "elem", "version": 1, "fields": [{"name": "v", "type": "uint8", "size": 1}], "size": 5}, {"name": "s", "type": "int8", "size": 1}, {"name": "e", "type": "uint8 equal", "size": 1}], "subsections": [{"vmsd_name": "dev/sub", "version": 1, "fields": [{"name": "x", "type": "uint32", "size": 4}]}]}]}"#
        var b: [UInt8] = Array("QEVM".utf8) + be32(3)
        b += [0x07] + be32(13) + Array("pc-i440fx-7.2".utf8)
        b += [0x04] + be32(0) + [3] + Array("dev".utf8) + be32(0) + be32(1)
        b += [0x12, 0x34, 0x01, 0xAA, 0x01, 0xBB, 0x00, 0xFF, 0x80]
        b += [0x05, 7] + Array("dev/sub".utf8) + be32(1) + be32(7)
        b += [0x7E] + be32(0) + [0x00]
        b += [0x06] + be32(UInt32(desc.utf8.count)) + Array(desc.utf8)
        let a = try StreamAnalysis(bytes: StreamBytes(b))
        #expect(
            a.pythonText == """
                {
                    "dev (0)": {
                        "a": "0x1234",
                        "q": "01 aa 01 bb 00",
                        "s": "0xff (-1)",
                        "e": "0x80 (-128)",
                        "dev/sub": {
                            "x": "0x00000007"
                        }
                    }
                }

                """)
        // The raw vmdesc keeps all nine members of "q"; -d desc shows Python's view.
        let q = a.vmdesc["devices"]?[0]?["fields"]?[1]?.objectValue
        #expect(
            q?.keys == ["name", "type", "vmsd_name", "version", "fields", "vmsd_name", "version", "fields", "size"])
        let shown = a.descriptionJSON["devices"]?[0]?["fields"]?[1]?.objectValue
        #expect(shown?.keys == ["name", "type", "vmsd_name", "version", "fields", "size"])
        #expect(a.machineType == "pc-i440fx-7.2")
        #expect(a.endOffset == b.count - 5 - desc.utf8.count - 1)
    }

    /// QEMU 7.2's script has no reader for the types "nullptr" and "capability" (10.0's has):
    /// in a vmdesc of 7.2's rules they are unknown types, their `size` bytes printed in hex,
    /// whatever the bytes. Expected output: what 7.2's analyze-migration.py printed for these
    /// bytes (10.0's stops at "q", whose bytes are not the NULL marker).
    @Test func laterFieldTypesUnderQEMU72Rules() throws {
        let desc =
            #"{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, "fields": [{"name": "p", "type": "nullptr", "size": 1}, {"name": "c", "type": "capability", "size": 3}, {"name": "q", "type": "nullptr", "size": 2}, {"name": "u", "type": "uint8", "size": 1}]}]}"#
        var b: [UInt8] = Array("QEVM".utf8) + be32(3)
        b += [0x07] + be32(11) + Array("pc-i440fx-7".utf8)
        b += [0x04] + be32(2) + [3] + Array("dev".utf8) + be32(0) + be32(1)
        b += [0x30, 0x02, 0x6F, 0x6B, 0x31, 0x30, 0x7F]
        b += [0x7E] + be32(2) + [0x00]
        b += [0x06] + be32(UInt32(desc.utf8.count)) + Array(desc.utf8)
        let a = try StreamAnalysis(bytes: StreamBytes(b))
        #expect(a.rules == .qemu72)
        #expect(
            a.pythonText == """
                {
                    "dev (2)": {
                        "p": "30",
                        "c": "02 6f 6b",
                        "q": "31 30",
                        "u": "0x7f"
                    }
                }

                """)
    }

    // MARK: errors

    func pcBiosBytes() throws -> [UInt8] {
        try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
    }

    @Test func badMagic() throws {
        var data = try pcBiosBytes()
        data[0] = 0x00  // "\0EVM"
        let eFound = streamError(data)
        let e = try #require(eFound)
        #expect(e.offset == 0)
        #expect(e.message.contains("expected the stream magic 0x5145564d"))
        #expect(e.description.contains("at byte offset 0 (0x0)"))
    }

    @Test func badVersionAndTinyFiles() throws {
        var data = try pcBiosBytes()
        data[7] = 2
        let eFound = streamError(data)
        let e = try #require(eFound)
        #expect(e.offset == 4)
        #expect(e.message.contains("expected stream format version 3, found 2"))

        let emptyFound = streamError([])
        let empty = try #require(emptyFound)
        #expect(empty.offset == 0)
        #expect(empty.message.contains("8-byte stream header"))
    }

    @Test func truncatedStream() throws {
        let data = try pcBiosBytes()
        let a = try StreamAnalysis(bytes: StreamBytes(data), options: .init(recordPages: false))
        guard let cpu = a.sections.first(where: { $0.name == "cpu" }), case .device(let record) = cpu.content,
            let eip = record.members.first(where: { $0.name == "env.eip" })
        else {
            Issue.record("no cpu/env.eip")
            return
        }
        // Cut in the middle of env.eip: the stream no longer carries its vmdesc.
        let cut = Array(data[0..<(eip.offset + 3)])
        let eFound = streamError(cut)
        let e = try #require(eFound)
        #expect(e.offset == cut.count)
        #expect(e.message.contains("truncated"))
        #expect(e.description.contains("at byte offset \(cut.count)"))

        // With the description supplied separately, the error says where the data ran out.
        let e2Found = streamError(cut, options: .init(vmdesc: a.vmdesc))
        let e2 = try #require(e2Found)
        #expect(e2.offset == eip.offset)
        #expect(e2.section == "\"cpu\" (section id 5, instance 0)")
        #expect(e2.field == "env.eip")
        #expect(e2.message == "expected a uint64 value (8 bytes), but the stream ends after 3 more bytes")

        // Cut inside the footer after the last section: the footer's section is named.
        let last = try #require(a.sections.last)
        let footerCut = Array(data[0..<(a.endOffset - 3)])
        let footerError = try #require(streamError(footerCut, options: .init(vmdesc: a.vmdesc)))
        #expect(footerError.offset == a.endOffset - 4)
        #expect(footerError.section == "\"\(last.name)\" (section id \(last.sectionID), instance \(last.instanceID))")
        #expect(
            footerError.message
                == "expected the section id in a section footer (4 bytes), but the stream ends after 1 more byte"
        )

        // Deeper: a struct element inside an array.
        guard case .list(let segs)? = record["env.segs"], case .record = segs[1],
            let segsMember = record.members.first(where: { $0.name == "env.segs" })
        else {
            Issue.record("no env.segs")
            return
        }
        // Each segment is 4 + 8 + 4 + 4 = 20 bytes; cut inside segs[1].base.
        let cut2 = Array(data[0..<(segsMember.offset + 20 + 4 + 2)])
        let e3Found = streamError(cut2, options: .init(vmdesc: a.vmdesc))
        let e3 = try #require(e3Found)
        #expect(e3.field == "env.segs[1]/base")
        #expect(e3.offset == segsMember.offset + 24)
    }

    @Test func truncatedVMDesc() throws {
        let data = try pcBiosBytes()
        let cut = Array(data.dropLast(100))
        let eFound = streamError(cut)
        let e = try #require(eFound)
        #expect(e.offset == cut.count)
        #expect(e.message.contains("declares"))
        #expect(e.message.contains("truncated"))
    }

    /// What follows the end-of-stream byte is checked: a stream misread (here bytes slipped in,
    /// or a description that is not the stream's) does not end silently at some byte 0x00.
    @Test func afterTheEndOfStreamByte() throws {
        let data = try pcBiosBytes()
        let a = try StreamAnalysis(bytes: StreamBytes(data), options: .init(recordPages: false))
        let eof = a.endOffset
        #expect(data[eof] == 0 && data[eof + 1] == 0x06)
        // Three bytes between EOF and the vmdesc.
        let slipped = Array(data[...eof]) + [0, 0, 0] + Array(data[(eof + 1)...])
        let e1 = try #require(streamError(slipped))
        #expect(e1.offset == eof)
        #expect(
            e1.message
                == "the end-of-stream byte (0x00) at offset \(eof) is not followed by the vmdesc, which starts at offset \(eof + 4): QEMU writes nothing between them, so the 3 bytes there were added to the stream, or the sections before were not read as written (a byte 0x00 inside them taken for the end)"
        )
        // With --vmdesc: the end of the file, or a vmdesc, may follow; nothing else.
        #expect(streamError(Array(data[...eof]), options: .init(vmdesc: a.vmdesc)) == nil)
        #expect(streamError(Array(data[...(eof + 100)]), options: .init(vmdesc: a.vmdesc)) == nil)
        let trailing = Array(data[...eof]) + [0x55, 0x66]
        let e2 = try #require(streamError(trailing, options: .init(vmdesc: a.vmdesc)))
        #expect(e2.offset == eof + 1)
        #expect(
            e2.message
                == "expected the end of the file or a vmdesc (byte 0x06) after the end-of-stream byte (0x00) at offset \(eof), found 0x55 and 1 more byte: the description given with --vmdesc is not this stream's (another QEMU build or machine type), or the stream is corrupt"
        )
        // One byte between EOF and the vmdesc.
        let one = Array(data[...eof]) + [0] + Array(data[(eof + 1)...])
        let e3 = try #require(streamError(one))
        #expect(
            e3.message
                == "the end-of-stream byte (0x00) at offset \(eof) is not followed by the vmdesc, which starts at offset \(eof + 2): QEMU writes nothing between them, so the byte there was added to the stream, or the sections before were not read as written (a byte 0x00 inside them taken for the end)"
        )
    }

    /// A machine type name over 4096 bytes is bad input in a stream whose vmdesc describes the
    /// configuration (QEMU 8.2 and later) as in one whose vmdesc does not; 4096 bytes are read.
    @Test func aLongMachineTypeNameInADescribedConfiguration() throws {
        func stream(nameBytes: Int) -> [UInt8] {
            typealias W = GeneratedStreamWriter
            let json = Array(
                (#"{"page_size": 4096, "configuration": {"vmsd_name": "configuration", "version": 1, "fields": ["#
                    + #"{"name": "len", "type": "uint32", "size": 4}, {"name": "name", "type": "buffer", "size": \#(nameBytes)}]}, "devices": []}"#)
                    .utf8)
            return Array("QEVM".utf8) + W.be32(3) + [0x07] + W.be32(UInt32(nameBytes))
                + [UInt8](repeating: 0x61, count: nameBytes) + [0x00, 0x06] + W.be32(UInt32(json.count)) + json
        }
        let read = try StreamAnalysis(bytes: StreamBytes(stream(nameBytes: 4096)), options: .init(recordPages: false))
        #expect(read.machineType == String(repeating: "a", count: 4096))
        let e = try #require(streamError(stream(nameBytes: 4097)))
        #expect(e.offset == 9 && e.section == "configuration")
        #expect(e.message == "a machine type name of 4097 bytes (QEMU's are a few dozen): the stream is corrupt")
    }

    /// A configuration description whose machine type name is described element by element
    /// (`uint8` with `"array_len"`, which QEMU does not write and its script reads) covers as
    /// many bytes as its elements: the stream is read, its machine type those bytes.
    @Test func aMachineTypeNameDescribedAsAnArrayOfBytes() throws {
        typealias W = GeneratedStreamWriter
        func stream(described: Int) -> [UInt8] {
            let json = Array(
                (#"{"page_size": 4096, "configuration": {"vmsd_name": "configuration", "version": 1, "fields": ["#
                    + #"{"name": "len", "type": "uint32", "size": 4}, {"name": "name", "type": "uint8", "size": 1, "#
                    + #""array_len": \#(described)}]}, "devices": []}"#)
                    .utf8)
            return Array("QEVM".utf8) + W.be32(3) + [0x07] + W.be32(4) + Array("none".utf8) + [0x00, 0x06]
                + W.be32(UInt32(json.count)) + json
        }
        let read = try StreamAnalysis(bytes: StreamBytes(stream(described: 4)), options: .init(recordPages: false))
        #expect(read.machineType == "none")
        let e = try #require(streamError(stream(described: 5)))
        #expect(e.offset == 9 && e.section == "configuration")
        #expect(e.message == "the machine type name is 4 bytes long, but the vmdesc describes a name of 5 bytes")
    }

    /// A vmdesc whose description gives a version that is not an integer is invalid: the
    /// section's version would otherwise go unchecked.
    @Test func aVMDescVersionThatIsNotAnInteger() throws {
        let data = try pcBiosBytes()
        let json = Array(#"{"page_size""#.utf8)
        let at = try #require((0...data.count - json.count).first { Array(data[$0..<$0 + json.count]) == json })
        let length = Int(data[at - 4]) << 24 | Int(data[at - 3]) << 16 | Int(data[at - 2]) << 8 | Int(data[at - 1])
        let vmdesc = String(decoding: data[at..<at + length], as: UTF8.self)
        for (version, shown) in [
            ("2.5", "2.5"), ("1e400", "Infinity"), ("\"2\"", "\"2\""), ("18446744073709551618", "18446744073709551618"),
        ] {
            let changed = Array(
                vmdesc.replacingOccurrences(of: #""version": 2,"#, with: #""version": \#(version),"#).utf8)
            let stream =
                Array(data[..<(at - 4)]) + GeneratedStreamWriter.be32(UInt32(changed.count)) + changed
                + Array(data[(at + length)...])
            let e = try #require(streamError(stream))
            #expect(e.offset == at)
            #expect(
                e.message
                    == "invalid vmdesc (the JSON at offset \(at)), devices[0] (\"timer\"): \"version\" must be an integer of at most 64 bits, found \(shown)"
            )
        }
    }

    /// A description from another stream (--vmdesc): a machine type name of another length, or
    /// a device section of another version, is said as such.
    @Test func aVMDescThatIsNotTheStreams() throws {
        let dir = TestPaths.qemu10Fixtures
        let own = try TestPaths.readBytes(dir + "/pc-bios/stream.bin")  // pc-i440fx-10.0
        let other = try TestPaths.readBytes(dir + "/pc-9.2/stream.bin")  // pc-i440fx-9.2
        let vmdesc = try StreamAnalysis.readVMDesc(StreamBytes(own)).0
        let e = try #require(streamError(other, options: .init(vmdesc: vmdesc)))
        #expect(e.offset == 9 && e.section == "configuration")
        #expect(
            e.message
                == "the machine type name is 13 bytes long, but the vmdesc describes a name of 14 bytes: the description given with --vmdesc is not this stream's (another QEMU build or machine type)"
        )
        // QEMU 7.2's vmdesc on a QEMU 10.0 stream: its SWITCHOVER_START, which 7.2's streams lack.
        let vmdesc72 = try StreamAnalysis.readVMDesc(StreamBytes(try pcBiosBytes())).0
        let c = try #require(streamError(own, options: .init(vmdesc: vmdesc72)))
        #expect(c.section == "command")
        #expect(
            c.message
                == "a command record with command 0x0b SWITCHOVER_START (written by QEMU 10.0 on machine types 10.0 and later), which the analyzer does not read; streams of QEMU 7.2 to 8.1 (a vmdesc without \"configuration\") are read with no command records: the description given with --vmdesc is not this stream's (another QEMU build or machine type)"
        )
        // A device whose version differs: the 7.2 stream's "timer" section read with a vmdesc
        // that says version 3.
        let stream72 = try pcBiosBytes()
        var doc = try StreamAnalysis.readVMDesc(StreamBytes(stream72)).0
        guard case .object(var top) = doc, case .array(var devices)? = top["devices"],
            let i = devices.firstIndex(where: { $0.objectValue?["name"] == "timer" }),
            case .object(var timer) = devices[i]
        else {
            Issue.record("no timer in the vmdesc")
            return
        }
        #expect(timer["version"] == 2)
        timer["version"] = 3
        devices[i] = .object(timer)
        top["devices"] = .array(devices)
        doc = .object(top)
        let v = try #require(streamError(stream72, options: .init(vmdesc: doc)))
        #expect(v.section == "\"timer\" (section id 0, instance 0)")
        #expect(
            v.message
                == "the section has version 2, but the vmdesc describes version 3: the description given with --vmdesc is not this stream's (another QEMU build or machine type)"
        )
        // A save at reset (pc-reset) wrote no cpu/msr_smi_count subsection, one after the
        // firmware ran (pc-bios) did: the message names the subsection its description lacks.
        let atReset = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-reset/stream.bin")
        let resetVMDesc = try StreamAnalysis.readVMDesc(StreamBytes(atReset)).0
        let sub = try #require(streamError(stream72, options: .init(vmdesc: resetVMDesc)))
        #expect(sub.offset == 0x78d00 && sub.section == "\"cpu\" (section id 5, instance 0)")
        #expect(stream72[0x78d00] == 0x05 && stream72[0x78d01] == 17)
        #expect(
            sub.message
                == "expected the section's footer (0x7e and its section id) after its data, found the subsection \"cpu/msr_smi_count\" (0x05 and its name), which the description does not list (the description given with --vmdesc lists only the subsections its own save wrote: when this stream's save wrote one more there, it takes a description saved with the devices in the same state)"
        )
    }

    /// Any other error past the header of a stream read with another's description says the
    /// description may be why (machines probe: only some did); a stream that ends early does not
    /// (reading a stream cut short is what --vmdesc is for: `truncatedStream`).
    @Test func everyErrorByAGivenVMDescNamesIt() throws {
        let fixtures = TestPaths.qemuFixtures
        let pc23 = try TestPaths.readBytes(fixtures + "/pc-2.3/stream.bin")  // pc-i440fx-2.3
        let biosVMDesc = try StreamAnalysis.readVMDesc(StreamBytes(try pcBiosBytes())).0  // pc-i440fx-7.2
        let e = try #require(streamError(pc23, options: .init(recordPages: false, vmdesc: biosVMDesc)))
        #expect(e.offset == 0x77cd6 && e.section == "\"cpu\" (section id 5, instance 0)")
        #expect(
            e.message
                == "expected subsection \"cpu/msr_smi_count\" (byte 0x05), found byte 0x04 (read by the description given with --vmdesc: if that is of another QEMU build or machine type, the stream may differ from it here or before)"
        )
        // Its own vmdesc reads it; cut after the next section's type byte, it fails where it
        // ends, said as without --vmdesc.
        let own = try StreamAnalysis.readVMDesc(StreamBytes(pc23)).0
        #expect(streamError(pc23, options: .init(recordPages: false, vmdesc: own)) == nil)
        let cut = try #require(streamError(Array(pc23[..<0x77cd8]), options: .init(recordPages: false, vmdesc: own)))
        #expect(cut.isEndOfStream && cut.offset == 0x77cd7)
        #expect(cut.message == "expected the section id (4 bytes), but the stream ends after 1 more byte")
    }

    /// A subsection's name or version_id that differs from what the stream's own vmdesc says
    /// (QEMU writes both alike: one byte was changed) is refused where it is, as a section's
    /// version is, not read with the vmdesc's description under the stream's name.
    @Test func aSubsectionThatDiffersFromItsVMDescIsRefused() throws {
        let original = try TestPaths.readBytes(TestPaths.qemu10Fixtures + "/pc-reset/stream.bin")
        let name = Array("piix4_pm/memhp".utf8)
        let marker = [0x05, UInt8(name.count)] + name + [0, 0, 0, 1]
        let at = try #require(
            (0..<original.count - marker.count).first { original[$0..<$0 + marker.count].elementsEqual(marker) })
        var version = original
        version[at + 2 + name.count + 3] = 0
        let v = try #require(streamError(version))
        #expect(v.offset == at + 2 + name.count)
        #expect(v.message == "subsection \"piix4_pm/memhp\" has version 0, but the vmdesc describes version 1")
        var renamed = original
        renamed[at + 2 + name.count - 1] = UInt8(ascii: "q")
        let n = try #require(streamError(renamed))
        #expect(n.offset == at + 1)
        #expect(
            n.message == "found subsection \"piix4_pm/memhq\" where the vmdesc describes subsection \"piix4_pm/memhp\"")
        #expect(v.section == "\"0000:00:01.3/piix4_pm\" (section id 16, instance 0)")
        #expect(n.section == v.section)
    }

    @Test func corruptVMDesc() throws {
        var data = try pcBiosBytes()
        let location = try StreamAnalysis.locateVMDesc(StreamBytes(data))
        // Replace the ':' after the first key with '#'.
        var i = location.jsonOffset
        while data[i] != UInt8(ascii: ":") { i += 1 }
        data[i] = UInt8(ascii: "#")
        let eFound = streamError(data)
        let e = try #require(eFound)
        #expect(e.offset == i)
        #expect(e.message.contains("vmdesc"))
        #expect(e.message.contains("expected ':' after object key"))
        #expect(e.description.contains("at byte offset \(i)"))

        // Valid JSON, wrong shape.
        let bad: JSONValue = ["page_size": 4096, "devices": [["name": "cpu"]]]
        let e2Found = streamError(try pcBiosBytes(), options: .init(vmdesc: bad))
        let e2 = try #require(e2Found)
        #expect(e2.message.contains("instance_id"))
    }

    @Test func corruptSectionData() throws {
        var data = try pcBiosBytes()
        let a = try StreamAnalysis(bytes: StreamBytes(data), options: .init(recordPages: false))
        let section = try #require(a.sections.first { $0.name == "cpu_common" })
        data[section.offset] = 0x09
        let eFound = streamError(data)
        let e = try #require(eFound)
        #expect(e.offset == section.offset)
        #expect(e.message.contains("found 0x09"))

        // A footer naming the wrong section.
        var data2 = try pcBiosBytes()
        let footer = section.endOffset
        #expect(data2[footer] == 0x7E)
        data2[footer + 4] ^= 0x01
        let e2Found = streamError(data2)
        let e2 = try #require(e2Found)
        #expect(e2.offset == footer + 1)
        #expect(e2.message.contains("expected the footer of section id \(section.sectionID)"))
    }

    /// QEMU reads a footer only right after a section's data, and in a stream with footers
    /// after every section: a footer written twice ("Unknown savevm section type 126") and a
    /// section without one where later sections have theirs ("Missing section footer for
    /// ram") are bad input, as for QEMU, where QEMU's script reads on (hostile49 D1).
    @Test func aFooterTwiceOrMissingIsRefused() throws {
        let data = try pcBiosBytes()
        let a = try StreamAnalysis(bytes: StreamBytes(data), options: .init(recordPages: false))
        let cpu = try #require(a.sections.first { $0.name == "cpu_common" })
        let footer = cpu.endOffset
        #expect(Array(data[footer..<footer + 5]) == [0x7E] + be32(cpu.sectionID))
        let twice = Array(data[..<(footer + 5)]) + Array(data[footer...])
        let e = try #require(streamError(twice))
        #expect(e.offset == footer + 5)
        #expect(
            e.description
                == "at byte offset \(footer + 5) (0x\(String(footer + 5, radix: 16))), section \"cpu_common\" (section id "
                + "\(cpu.sectionID), instance 0): a section footer (of section id \(cpu.sectionID)) that does not follow a "
                + "section's data, as after another footer: QEMU refuses it (\"Unknown savevm section type 126\")")

        // The RAM's START, the first section, without its footer (the first footer of the
        // stream).
        let ram = try #require(a.sections.first)
        #expect(ram.name == "ram")
        let footerBytes = [0x7E] + be32(ram.sectionID)
        let start = try #require(
            (ram.offset..<data.count - 6).first {
                Array(data[$0..<$0 + 5]) == footerBytes && (1...4).contains(data[$0 + 5])
            })
        let missing = Array(data[..<start]) + Array(data[(start + 5)...])
        let m = try #require(streamError(missing))
        #expect(
            m.description
                == "at byte offset \(start) (0x\(String(start, radix: 16))), section \"ram\" (section id "
                + "\(ram.sectionID), instance 0): the section has no footer (0x7e and its section id) where later "
                + "sections have one: QEMU refuses it (\"Missing section footer for ram\")")
    }

    /// QEMU's destination reads one kind a RAM record (`flags & ~CONTINUE` one flag): a data
    /// page's record with the multifd flush's or the zero page's flag added is bad input, where
    /// the script reads each flag in turn (hostile49 D2).
    @Test func aRAMRecordOfTwoKindsIsRefused() throws {
        let data = try pcBiosBytes()
        let a = try StreamAnalysis(bytes: StreamBytes(data), options: .init(recordPages: true))
        guard case .ram(let ram)? = a.sections.first(where: { $0.name == "ram" })?.content else {
            Issue.record("no RAM section")
            return
        }
        let header = try #require(
            ram.pages.lazy.compactMap { page -> Int? in
                guard case .data(let offset) = page.content, data[offset - 1] == 0x28 else { return nil }
                return offset - 8
            }.first)
        for added: UInt8 in [0x02, 0x00] {
            var changed = data
            changed[header + 7] |= added
            if added == 0 { changed[header + 6] |= 0x02 }  // 0x200, the multifd flush
            let flags = added == 0 ? "228" : "2a"
            let word = changed[header..<header + 8].map { String(format: "%02x", $0) }.joined()
            let e = try #require(streamError(changed))
            #expect(
                e.description
                    == "at byte offset \(header) (0x\(String(header, radix: 16))), section \"ram\" (section id 2, "
                    + "instance 0): a RAM record of more than one kind (flags 0x\(flags), header 0x\(word)), which QEMU "
                    + "refuses (\"Unknown combination of migration flags\")")
        }
    }

    /// Sections QEMU writes with handlers of their own, which no vmdesc describes, are named
    /// for what they are (QEMU 7.2's block migration writes "block" right after the header);
    /// any other section the vmdesc lacks is said to be undescribed.
    @Test func sectionsNoVMDescDescribes() throws {
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        func stream(_ name: String) -> [UInt8] {
            var b: [UInt8] = Array("QEVM".utf8) + be32(3)
            b += [0x01] + be32(1) + [UInt8(name.utf8.count)] + Array(name.utf8) + be32(0) + be32(1)
            b += [0, 0, 0, 0, 0, 0, 0, 2]  // (block migration's first flags word: EOS)
            b += [0x00, 0x06] + be32(UInt32(json.count)) + json
            return b
        }
        let expected = [
            "block":
                "section \"block\" instance 0 is QEMU's block migration (the disks' contents: `migrate -b`, capability block), which no vmdesc describes and the analyzer does not read",
            "dirty-bitmap":
                "section \"dirty-bitmap\" instance 0 is QEMU's migration of block dirty bitmaps (capability dirty-bitmaps), which no vmdesc describes and the analyzer does not read",
            "0000:00:03.0/vfio":
                "section \"0000:00:03.0/vfio\" instance 0 is a VFIO device's state, written by the device's own handlers, which no vmdesc describes and the analyzer does not read",
            "blockish":
                "section \"blockish\" instance 0 is not described in the vmdesc, so its length is unknown",
        ]
        for (name, message) in expected {
            let e = try #require(streamError(stream(name)))
            #expect(e.offset == 8)
            #expect(e.message == message)
        }
    }

    /// The offset of the header of the first data page `data` sends with the CONTINUE flag (the
    /// 8 bytes before its data).
    func firstContinuePageHeader(_ data: [UInt8]) throws -> Int {
        let a = try StreamAnalysis(bytes: StreamBytes(data))
        let ram = try #require(a.sections.first { $0.name == "ram" })
        guard case .ram(let r) = ram.content else { throw VMStateError(.failed, reason: "no ram section") }
        let offsets = r.pages.compactMap { p -> Int? in
            if case .data(let o) = p.content { return o } else { return nil }
        }
        return try #require(offsets.first { data[$0 - 1] == 0x28 }) - 8
    }

    @Test func ramHeaderErrors() throws {
        var data = try pcBiosBytes()
        let header = try firstContinuePageHeader(data)
        data[header + 7] |= 0x40
        data[header + 7] &= ~0x08
        let eFound = streamError(data)
        let e = try #require(eFound)
        // (Read as an XBZRLE page: the page's first byte is its encoding byte.)
        #expect(e.offset == header + 8)
        #expect(e.message.hasPrefix("expected the XBZRLE encoding 0x01 of the XBZRLE page of RAM block"))
        #expect(e.section == "\"ram\" (section id 2, instance 0)")
    }

    /// XBZRLE pages (capability xbzrle): read past, checked as QEMU's destination checks them,
    /// when no page is printed (plain analyze, --desc, --tree), which the script cannot do (it
    /// stops at the flag). (Their contents in --memory, -x and diff: AnalyzeXBZRLETests.)
    @Test func xbzrlePages() throws {
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        func stream(_ xbzrle: [UInt8]) -> [UInt8] {
            var b: [UInt8] = Array("QEVM".utf8) + be32(3)
            b += [0x01] + be32(2) + [3] + Array("ram".utf8) + be32(0) + be32(4)
            b += be64(0x4000 | 0x04) + [6] + Array("pc.ram".utf8) + be64(0x4000)
            b += be64(0x1000 | 0x08) + [6] + Array("pc.ram".utf8) + [UInt8](repeating: 0xAA, count: 4096)
            b += be64(0x1000 | 0x40 | 0x20) + xbzrle + be64(0x10)
            b += [0x03] + be32(2) + be64(0x10)
            b += [0x00, 0x06] + be32(UInt32(json.count)) + json
            return b
        }
        let record = 8 + 17 + 8 + 15 + 8 + 7 + 4096  // where the XBZRLE record starts
        let good = stream([0x01, 0x00, 0x04, 0x05, 0x02, 1, 2])
        let a = try StreamAnalysis(bytes: StreamBytes(good), options: .init(recordPages: false))
        #expect(
            a.pythonText == """
                {
                    "ram (2)": {
                        "section sizes": {
                            "pc.ram": "0x0000000000004000"
                        }
                    }
                }

                """)
        guard case .ram(let ram)? = a.sections.first?.content else {
            Issue.record("no RAM section")
            return
        }
        #expect(ram.pageCount == 2 && ram.dataPageCount == 1 && ram.xbzrlePageCount == 1 && ram.mayRepeatPages)
        #expect(try TreeView(maxBytes: 16).text(a).contains("pages: 2 records, 1 with data, 1 XBZRLE, 0 filled"))
        let what = #"the XBZRLE page of RAM block "pc.ram" at 0x0000000000001000"#
        for (bytes, offset, message) in [
            (
                [0x02, 0x00, 0x00], record + 8,
                "expected the XBZRLE encoding 0x01 of \(what), found 0x02 (QEMU: \"Failed to load XBZRLE page - wrong compression!\")"
            ),
            (
                [0x01, 0x10, 0x01], record + 9,
                "\(what) is 4097 bytes long, more than a page of 4096 (QEMU: \"Failed to load XBZRLE page - len overflow!\")"
            ),
            (
                [0x01, 0x00, 0x03, 0x00, 0x00, 0x01], record + 11,
                "\(what) does not decode into a page (QEMU: \"Failed to load XBZRLE page - decode error!\")"
            ),
        ] as [([UInt8], Int, String)] {
            let e = try #require(streamError(stream(bytes), options: .init(recordPages: false)))
            #expect(e.offset == offset && e.message == message, "\(e)")
        }
    }

    /// A subsection marker where the section after the RAM starts (a flipped type byte): not
    /// blamed on a description, the RAM having none.
    @Test func aSubsectionMarkerAfterTheRAMIsNotASectionType() throws {
        var bytes = try pcBiosBytes()
        let timer = 0x7855F  // pc-bios: the FULL section of "timer", the first after the RAM
        #expect(bytes[timer] == 0x04 && Array(bytes[(timer + 6)..<(timer + 11)]) == Array("timer".utf8))
        bytes[timer] = 0x05
        let e = try #require(streamError(bytes))
        #expect(e.offset == timer)
        #expect(
            e.message
                == "expected a section type after RAM section 2, found 0x05 (a subsection marker, which only a "
                + "device's description can be followed by)")
    }

    /// A RAM record of no kind (flags 0 or CONTINUE alone), which QEMU's destination refuses
    /// and the script reads past: refused, with the zero-bytes hint when the header is all zero.
    @Test func ramRecordOfNoKind() throws {
        let original = try pcBiosBytes()
        let header = try firstContinuePageHeader(original)
        var zeroed = original
        for i in header..<(header + 8) { zeroed[i] = 0 }
        let e = try #require(streamError(zeroed))
        #expect(e.offset == header)
        #expect(
            e.message
                == "a RAM record with no kind (flags 0x0, header 0x0000000000000000), which QEMU refuses (\"Unknown combination of migration flags\"); the stream may end in zero bytes here, as the preallocated file of a save that did not finish does"
        )
        var continueOnly = original
        continueOnly[header + 7] = 0x20
        let c = try #require(streamError(continueOnly))
        #expect(c.offset == header)
        #expect(c.message.hasPrefix("a RAM record with no kind (flags 0x20, header 0x"))
        #expect(c.message.hasSuffix("which QEMU refuses (\"Unknown combination of migration flags\")"))
    }

    /// A file that ends in zero bytes (a dead save's preallocated tail) says so where the
    /// vmdesc is missing.
    @Test func streamEndingInZeroBytes() throws {
        let data = try pcBiosBytes()
        let half = try #require((data.count / 2..<data.count).first { data[$0 - 1] != 0 })
        let e = try #require(streamError(Array(data[..<half]) + [UInt8](repeating: 0, count: 8192)))
        #expect(e.offset == half + 8192)
        let start =
            "expected a device description (vmdesc: byte 0x06, a be32 length and JSON) at the end of the stream, but there is none: the stream is truncated, or was written without one"
        let cause =
            "are zero: a save that did not finish leaves its preallocated file so, and a stream cut inside zero-filled data ends so too) (pass a description with --vmdesc)"
        #expect(e.message == "\(start) (its last 8192 bytes, from offset \(half), \(cause)")
        // Zeros past the 64 MiB searched for the vmdesc: no more is claimed than was seen.
        let long = try #require(streamError(Array(data[..<half]) + [UInt8](repeating: 0, count: 66 << 20)))
        #expect(long.message == "\(start) (its last \((64 << 20) + 5) bytes, all that were searched, \(cause)")
    }

    /// A vmdesc past the 64 MiB of JSON the tool reads says so: one a few bytes over (its
    /// marker just before the 64 MiB + 5 bytes searched, found as QEMU's script finds it, from
    /// the '{' after the last NUL), and one well over (no NUL in all that was searched).
    @Test func aVMDescLargerThanTheToolReads() throws {
        let data = try pcBiosBytes()
        let location = try StreamAnalysis.locateVMDesc(StreamBytes(data))
        let stream = Array(data[0..<location.markerOffset])
        // (The stream's own vmdesc, padded with blanks to `length` bytes.)
        func withVMDesc(_ length: Int) -> [UInt8] {
            let text = data[location.jsonOffset...]
            return stream + [0x06] + withUnsafeBytes(of: UInt32(length).bigEndian) { Array($0) } + text
                + [UInt8](repeating: UInt8(ascii: " "), count: length - text.count)
        }
        let hint = "(pass a description with --vmdesc)"
        let over = try #require(streamError(withVMDesc((64 << 20) + 1)))
        #expect(over.offset == location.markerOffset)
        #expect(
            over.message
                == "the vmdesc at offset \(location.markerOffset) declares 67108865 bytes of JSON, more than the 64 MiB the tool reads (QEMU's take about 7.5 KB per x86 vCPU: 30 MB for 4,096) \(hint)"
        )
        let far = try #require(streamError(withVMDesc((64 << 20) + 100)))
        #expect(far.offset == location.markerOffset + 100)  // (the file's size less 64 MiB + 5)
        #expect(
            far.message
                == "expected a device description (vmdesc: byte 0x06, a be32 length and JSON) at the end of the stream, but none begins in its last 67108869 bytes, all that are searched, and they hold no NUL byte: text, as a vmdesc larger than the 64 MiB of JSON the tool reads would be (QEMU's take about 7.5 KB per x86 vCPU: 30 MB for 4,096), or not a stream \(hint)"
        )
        // 64 MiB exactly: read.
        let most = try StreamAnalysis(bytes: StreamBytes(withVMDesc(64 << 20)))
        #expect(most.vmdescLocation?.jsonLength == 64 << 20)
    }

    /// Elements that take no byte of the stream (`"size": 0`) are not bounded by the bytes left:
    /// a vmdesc that nests two arrays of 20,000 of them (4e8 values) is refused at the 65,537th,
    /// at once and in bounded memory (the stream's 20,000 bytes would have bounded each array,
    /// not their product); a few (three arrays of 100) are read.
    @Test func aVMDescOfNestedEmptyElementsIsRefused() throws {
        func stream(_ outer: Int, _ inner: Int, bytes: Int) -> [UInt8] {
            let json =
                #"{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, "fields": [{"name": "z", "array_len": \#(outer), "type": "struct", "size": 0, "struct": {"vmsd_name": "z", "version": 1, "fields": [{"name": "y", "array_len": \#(inner), "type": "uint8", "size": 0}]}}]}]}"#
            return HxWire().text("QEVM").be32(3).u8(4).be32(1).u8(3).text("dev").be32(0).be32(1).fill(bytes, 0)
                .u8(0).u8(6).be32(UInt32(json.utf8.count)).text(json).bytes
        }
        let e = try #require(streamError(stream(20_000, 20_000, bytes: 20_000)))
        #expect(
            e.description
                == #"at byte offset 25 (0x19), section "dev" (section id 1, instance 0), field z[3]/y[5533]: the vmdesc describes more than 65536 elements that take no bytes of the stream ("y" has 20000): it does not describe this stream"#
        )
        let three = try StreamAnalysis(bytes: StreamBytes(stream(3, 100, bytes: 0)))
        #expect(three.sections.count == 1)
    }

    /// Where an error is, without an empty field path (`field : ...` before).
    @Test func errorWithoutAFieldPath() {
        #expect(
            StreamAnalysisError(offset: 23, section: "configuration", field: "", message: "m").description
                == "at byte offset 23 (0x17), section configuration: m")
        #expect(
            StreamAnalysisError(offset: 23, section: "configuration", field: "f", message: "m").description
                == "at byte offset 23 (0x17), section configuration, field f: m")
    }

    @Test func streamWithoutVMDesc() throws {
        let data = try pcBiosBytes()
        let location = try StreamAnalysis.locateVMDesc(StreamBytes(data))
        let bare = Array(data[0..<location.markerOffset])
        let eFound = streamError(bare)
        let e = try #require(eFound)
        #expect(e.message.contains("--vmdesc"))
        // The same stream reads with the description given separately.
        let (vmdesc, _) = try StreamAnalysis.readVMDesc(StreamBytes(data))
        let a = try StreamAnalysis(bytes: StreamBytes(bare), options: .init(vmdesc: vmdesc))
        #expect(a.pythonText == (try TestPaths.readText(TestPaths.qemuFixtures + "/pc-bios/analyze.json")))
        #expect(a.vmdescLocation == nil)
    }

    /// A whole stream with bytes after its vmdesc (a file appended to): the error says so, at
    /// the vmdesc's end, rather than that the stream has no vmdesc.
    @Test func bytesAfterTheVMDesc() throws {
        let data = try pcBiosBytes()
        let location = try StreamAnalysis.locateVMDesc(StreamBytes(data))
        // (Bytes with no NUL in them are read past, as QEMU's script reads past them: it takes
        // the vmdesc's length before the first "{" after the last NUL.)
        for (tail, what) in [([0x00, 0x01], "2 more bytes follow"), ([0x00], "1 more byte follows")]
            as [([UInt8], String)]
        {
            let found = streamError(data + tail)
            let e = try #require(found)
            #expect(e.offset == data.count)
            #expect(
                e.message
                    == "expected the end of the file after the device description (vmdesc at offset \(location.markerOffset), \(location.jsonLength) bytes of JSON), but \(what) it: something was appended to the stream (as `cat >> FILE` onto an old file does), or the file is corrupt; QEMU's scripts read the vmdesc only where it ends the file (cut the file at byte \(data.count) to read it)"
            )
        }
        // Another whole stream appended: the second one's vmdesc ends the file (and its header
        // is where the first stream's sections should have ended).
        let twice = streamError(data + data)
        #expect(twice != nil)
        #expect(streamError(data + [0x01, 0x06]) == nil)
    }
}
