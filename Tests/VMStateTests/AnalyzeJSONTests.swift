import Testing
import VMState
import VMStateAnalysis

/// The order-preserving JSON model, parser and Python-compatible writer.
@Suite struct AnalyzeJSONTests {
    /// The writers trap on a container closed that is not open or of the other kind (as QEMU's
    /// json-writer asserts), where they wrote `{]` or took an empty stack apart; the text of
    /// balanced calls is unchanged.
    @Test func unbalancedContainersTrap() async {
        await #expect(processExitsWith: .failure) {
            var w = JSONTextWriter()
            w.endObject()
        }
        await #expect(processExitsWith: .failure) {
            var w = JSONTextWriter()
            w.beginObject()
            w.endArray()
        }
        await #expect(processExitsWith: .failure) {
            let w = VMDescWriter()
            w.startObject()
            w.endArray()
        }
        await #expect(processExitsWith: .failure) { _ = JSONFormat(indent: Int.max / 2) }
        var w = JSONTextWriter(format: .pythonCompact)
        w.beginObject()
        w.key("a")
        w.beginArray()
        w.endArray()
        w.endObject()
        #expect(w.text == #"{"a": []}"#)
    }

    @Test func keepsOrderAndDuplicates() throws {
        let v = try JSONValue(parsing: #"{"b": 1, "a": [true, null], "b": "two"}"#)
        guard case .object(let o) = v else {
            Issue.record("not an object")
            return
        }
        #expect(o.keys == ["b", "a", "b"])
        #expect(o["b"] == "two")  // last wins, as in Python
        #expect(o.values(forKey: "b") == [1, "two"])
        // Python's dict: first position, last value.
        #expect(o.deduplicated().keys == ["b", "a"])
        #expect(v.deduplicatingKeys().formatted(.pythonCompact) == #"{"b": "two", "a": [true, null]}"#)
        #expect(v.formatted(.pythonCompact) == #"{"b": 1, "a": [true, null], "b": "two"}"#)
    }

    @Test func pythonIndentFormat() throws {
        let v: JSONValue = ["a": [], "b": [:], "c": [1, ["x": nil]], "d": "é\u{01}\u{7F}😀\"\\\n"]
        let expected = """
            {
                "a": [],
                "b": {},
                "c": [
                    1,
                    {
                        "x": null
                    }
                ],
                "d": "\\u00e9\\u0001\\u007f\\ud83d\\ude00\\"\\\\\\n"
            }
            """
        #expect(v.formatted(.python) == expected)
        #expect(
            v.formatted(JSONFormat(indent: nil, asciiOnly: false))
                == #"{"a": [], "b": {}, "c": [1, {"x": null}], "d": "é\u0001"# + "\u{7F}😀" + #"\"\\\n"}"#)
    }

    @Test func pythonFloatRepr() {
        let cases: [(Double, String)] = [
            (1.5e20, "1.5e+20"), (1e-5, "1e-05"), (123456789012345678.0, "1.2345678901234568e+17"),
            (0.1, "0.1"), (1e16, "1e+16"), (1e15, "1000000000000000.0"), (-0.0, "-0.0"),
            (2.5e-300, "2.5e-300"), (0.0001, "0.0001"), (1.0, "1.0"), (-12.75, "-12.75"),
        ]
        for (d, s) in cases {
            #expect(JSONNumber(d).description == s)
        }
    }

    @Test func numbersAndEscapes() throws {
        let v = try JSONValue(parsing: #"[0, -7, 123456789012345678901234567890, 1.5, 2E3, "\u00e9\ud83d\ude00\t\/"]"#)
        #expect(v[0]?.int64Value == 0)
        #expect(v[1]?.int64Value == -7)
        #expect(v[2]?.numberValue?.storage == .bigInteger("123456789012345678901234567890"))
        #expect(v[3]?.numberValue?.doubleValue == 1.5)
        #expect(v[4]?.formatted() == "2000.0")
        #expect(v[5]?.stringValue == "é😀\t/")
        #expect(
            v.formatted(.pythonCompact)
                == #"[0, -7, 123456789012345678901234567890, 1.5, 2000.0, "\u00e9\ud83d\ude00\t/"]"#)
        #expect(JSONNumber(4) == JSONNumber(4.0))
    }

    @Test func errorsCarryOffsets() {
        func error(_ text: String, base: Int = 0) -> JSONParseError? {
            var text = text
            do {
                _ = try text.withUTF8 { try JSONValue(parsing: UnsafeRawBufferPointer($0), baseOffset: base) }
                return nil
            } catch let e as JSONParseError {
                return e
            } catch {
                return nil
            }
        }
        #expect(error(#"{"a" 1}"#)?.offset == 5)
        #expect(error(#"{"a" 1}"#)?.message == "expected ':' after object key, found '1'")
        #expect(error("[1, 2", base: 100)?.offset == 105)
        #expect(error("[1,\n 02]")?.line == 2)
        #expect(error("[1,\n 02]")?.message == "leading zeros are not allowed in numbers")
        #expect(error(#""abc"#)?.message == "unterminated string")
        #expect(error("[1] x")?.offset == 4)
        #expect(error("\"a\u{01}\"")?.offset == 2)
        #expect(error(#"["\x"]"#)?.message == #"invalid escape '\x' in string"#)
        #expect(error("")?.message == "expected a value, found end of input")
        #expect(error(String(repeating: "[", count: 600))?.message.contains("nesting") == true)
        #expect(error("tru")?.message == "invalid literal, expected 'true'")
        let e = error("{\n  \"k\": ,}")
        #expect(e?.description == "invalid JSON at byte offset 9 (line 2, column 8): expected a value, found ','")
    }

    /// The parser counts the memory its value takes and refuses JSON whose value would take more
    /// than `JSONValue.parsedMemoryLimit` (64 MiB), before taking it: 20 MB of small objects
    /// (about 18 times their size in memory) is refused early on; a vmdesc of QEMU's shape as
    /// large as analyze-migration.py looks for (10 MiB: 1,600 of QEMU 10.0's x86 CPU entries)
    /// parses.
    @Test func parsedMemoryIsBounded() throws {
        let dense = Array(("[" + String(repeating: #"{"a":[1]},"#, count: 2_000_000) + "0]").utf8)
        let e = try #require(throws: JSONParseError.self) { try JSONValue(parsing: dense) }
        #expect(e.tooLarge)
        #expect(
            e.message
                == "the parsed JSON would take more than 64 MiB of memory, more than any device description (a vmdesc or -dump-vmstate file) takes"
        )
        // Where the count passed the limit: some 250,000 of the objects in.
        #expect(e.offset > 1_000_000 && e.offset < 4_000_000, "\(e.offset)")
        #expect(e.description.hasPrefix("JSON refused at byte offset \(e.offset) (line 1, column \(e.offset + 1)): "))

        // A long number is counted before it is made: refused where it starts (10 bytes into
        // `{"x": [0, `); counted twice for an integer past Int64 (the text and the digits kept),
        // else once. A string of more than 1 MiB of text, escaped or not, is refused there too,
        // whatever the memory left.
        let long = 40 << 20, longer = 65 << 20
        for (value, at) in [
            (String(repeating: #"\n"#, count: long / 2).quoted, 10), (String(repeating: "a", count: longer).quoted, 10),
            (String(repeating: "a", count: (1 << 20) + 1).quoted, 10),
            (String(repeating: #"\n"#, count: (1 << 19) + 1).quoted, 10),
            (String(repeating: "7", count: long), 10), ("1." + String(repeating: "5", count: longer), 10),
        ] {
            let text = Array((#"{"x": [0, "# + value + "]}").utf8)
            let refused = try #require(throws: JSONParseError.self) { try JSONValue(parsing: text) }
            #expect(refused.tooLarge)
            #expect(refused.offset == at, "\(value.prefix(4)): \(refused)")
            if value.hasPrefix("\"") {
                #expect(
                    refused.message
                        == "a string of \(value.utf8.count - 2) bytes of JSON text, more than the 1048576 a string may take (the names in QEMU's vmdescs and -dump-vmstate files are a few dozen bytes)"
                )
            }
        }
        // Half the number, and strings of 1 MiB: each parses.
        for value in [
            String(repeating: #"\n"#, count: 1 << 19).quoted, String(repeating: "a", count: 1 << 20).quoted,
            String(repeating: "7", count: long / 4),
        ] {
            #expect(throws: Never.self) { try JSONValue(parsing: Array(value.utf8)) }
        }
        // A lower depth limit, as the registry gives a stream's vmdesc.
        let deep = Array((String(repeating: "[", count: 65) + String(repeating: "]", count: 65)).utf8)
        let tooDeep = try #require(throws: JSONParseError.self) {
            try deep.withUnsafeBytes { try JSONValue(parsing: $0, maximumDepth: 64) }
        }
        #expect(tooDeep.message == "nesting deeper than 64 levels" && tooDeep.offset == 64)
        #expect(tooDeep.tooDeep && !tooDeep.tooLarge)
        #expect(throws: Never.self) { try JSONValue(parsing: deep) }

        let stream = try StreamBytes(contentsOfFile: TestPaths.qemu10Fixtures + "/pc-bios/stream.bin")
        let vmdesc = try StreamAnalysis.readVMDesc(stream).0
        let cpu = try #require(vmdesc["devices"]?.arrayValue?.first { $0["name"] == "cpu" })
        let entry = cpu.formatted(.pythonCompact)
        #expect(entry.utf8.count == 6215)
        let cpus =
            #"{"page_size": 4096, "devices": ["# + Array(repeating: entry, count: 1600).joined(separator: ", ") + "]}"
        #expect(cpus.utf8.count == 9_947_232)
        let parsed = try JSONValue(parsing: cpus)
        #expect(parsed["devices"]?.arrayValue?.count == 1600)
        #expect(parsed["devices"]?[1599] == cpu)
    }

    /// An array or object whose text repeats an earlier one's (256 bytes or more) is parsed
    /// into the earlier one's storage, and counted once: a vmdesc of 4,096 x86 CPUs (QEMU
    /// 10.0's maximum), 25 MB of text that would take about 160 MB parsed apart, parses within
    /// the 64 MiB limit, each CPU's `fields` list shared with the first's; key deduplication
    /// keeps the sharing; containers whose texts differ keep their own values.
    @Test func repeatedContainersShareTheirStorage() throws {
        let stream = try StreamBytes(contentsOfFile: TestPaths.qemu10Fixtures + "/pc-bios/stream.bin")
        let vmdesc = try StreamAnalysis.readVMDesc(stream).0
        let cpu = try #require(vmdesc["devices"]?.arrayValue?.first { $0["name"] == "cpu" }?.objectValue)
        var entries: [String] = []
        for instance in 0..<4096 {
            var entry = cpu
            entry["instance_id"] = .number(JSONNumber(Int64(instance)))
            entries.append(JSONValue.object(entry).formatted(.pythonCompact))
        }
        let text = #"{"page_size": 4096, "devices": ["# + entries.joined(separator: ", ") + "]}"
        #expect(text.utf8.count > 25_000_000)
        let parsed = try JSONValue(parsing: text)
        let devices = try #require(parsed["devices"]?.arrayValue)
        #expect(devices.count == 4096)
        #expect(devices[4095]["instance_id"] == 4095)
        #expect(devices[4095]["fields"] == cpu["fields"])
        func storage(_ v: JSONValue?) -> UnsafeRawPointer? {
            v?.arrayValue?.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
        }
        #expect(storage(devices[0]["fields"]) != nil)
        #expect(storage(devices[0]["fields"]) == storage(devices[4095]["fields"]))
        let deduplicated = parsed.deduplicatingKeys()
        #expect(storage(deduplicated["devices"]?[4095]?["fields"]) == storage(devices[0]["fields"]))

        // The same text apart from one byte: two values. The same text with a repeated key in
        // it: each deduplicated.
        let long = String(repeating: "7, ", count: 100)
        let twins = try JSONValue(
            parsing: "[[\(long)1], [\(long)2], {\"k\": [\(long)3], \"k\": 4}, {\"k\": [\(long)3], \"k\": 4}]")
        #expect(twins[0]?.arrayValue?.last == 1 && twins[1]?.arrayValue?.last == 2)
        #expect(twins.deduplicatingKeys()[2] == ["k": 4] && twins.deduplicatingKeys()[3] == ["k": 4])
        #expect(twins[3]?.objectValue?.count == 2)

        // A container with a repeated key, repeated (a crafted vmdesc; QEMU repeats no key):
        // deduplicated once, its copies sharing the result's storage as they shared the
        // parsed one's (20,000 copies cost one, not 20,000).
        let repeatedArray = "[\(long){\"a\": 0, \"a\": 1}]"
        let repeatedObject = "{\"a\": [\(long)0], \"b\": 2, \"a\": 1}"
        let crafted = try JSONValue(
            parsing: "["
                + Array(repeating: "[\(repeatedArray), \(repeatedObject)]", count: 20_000).joined(separator: ", ")
                + "]")
        let once = crafted.deduplicatingKeys()
        #expect(once[0]?[0]?.arrayValue?.last == ["a": 1])
        #expect(once[0]?[1] == ["a": 1, "b": 2])
        #expect(once[19_999] == once[0])
        #expect(storage(once[19_999]) == storage(once[0]))
        #expect(storage(once[19_999]?[0]) == storage(once[0]?[0]))
        func members(_ v: JSONValue?) -> UnsafeRawPointer? {
            v?.objectValue.flatMap { JSONValue.storageAddress(of: $0.members) }
        }
        #expect(members(once[0]?[1]) != nil && members(once[19_999]?[1]) == members(once[0]?[1]))
    }

    /// Twins are looked for within 16 bytes fingerprinted and compared per byte of text, and
    /// 16 MiB: a container's text is hashed when it closes, once per container around each byte,
    /// so a crafted text nested hundreds deep would take seconds. Past that, twins parse as
    /// values of their own (equal, not shared); QEMU's vmdescs stay far below it (2 to 8).
    @Test func twinsAreLookedForWithinBoundedHashing() throws {
        func nested(_ depth: Int) -> String {
            String(repeating: "[", count: depth) + "[" + String(repeating: " ", count: 600_000) + "]"
                + String(repeating: "]", count: depth)
        }
        func storage(_ v: JSONValue?) -> UnsafeRawPointer? {
            v?.arrayValue.flatMap { JSONValue.storageAddress(of: $0) }
        }
        let shallow = try JSONValue(parsing: "[\(nested(4)), \(nested(4))]")
        #expect(storage(shallow[0]) != nil && storage(shallow[0]) == storage(shallow[1]))
        // 100 levels of 600 KB: 60 MB to hash for the first, past 16 x 1.2 MB + 16 MiB.
        let deep = try JSONValue(parsing: "[\(nested(100)), \(nested(100))]")
        #expect(deep[0] == deep[1])
        #expect(storage(deep[0]) != nil && storage(deep[0]) != storage(deep[1]))
    }

    /// The parser tells how far it has read every 4 MiB, inside a long run of blanks too, and
    /// as an error counts the lines before it (the analyzer gives back a mapped vmdesc's pages
    /// behind that point).
    @Test func passedIsToldInLongBlankRunsAndErrors() throws {
        let text = Array("[1".utf8) + Array(repeating: UInt8(ascii: " "), count: 10 << 20) + Array("]  ".utf8)
        var told: [Int] = []
        let value = try text.withUnsafeBytes { try JSONValue(parsing: $0, passed: { told.append($0) }) }
        #expect(value == [1])
        #expect(told == [4 << 20, 8 << 20])

        // An error counts the lines before it, reading all that text again, and tells how far
        // it has counted too (the blanks told as parsed, then again as counted).
        let long = Array(#"["#.utf8) + Array(repeating: UInt8(ascii: " "), count: 10 << 20) + Array(#"1, x]"#.utf8)
        told = []
        #expect(throws: JSONParseError.self) {
            try long.withUnsafeBytes { try JSONValue(parsing: $0, passed: { told.append($0) }) }
        }
        #expect(told == [4 << 20, 8 << 20, 4 << 20, 8 << 20])
    }

    @Test func invalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xFF, 0x22]) }
    }

    @Test func streamingWriterMatchesValueWriter() {
        var w = JSONTextWriter(format: .python)
        w.beginObject()
        w.key("x")
        w.beginArray()
        w.int(1)
        ([0xAB, 0x01] as [UInt8]).withUnsafeBytes { w.hexBytesString($0) }
        w.endArray()
        w.key("y")
        w.bool(false)
        w.endObject()
        let v: JSONValue = ["x": [1, "ab 01"], "y": false]
        #expect(w.text == v.formatted(.python))
    }
}

extension String {
    /// The string between double quotes (its characters as they are: no escaping).
    fileprivate var quoted: String { "\"" + self + "\"" }
}
