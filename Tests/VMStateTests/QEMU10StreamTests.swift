import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState
import VMStateAnalysis

/// Registry loads and saves of QEMU 10.0 streams (Tests/Fixtures/qemu-10.0) and of QEMU 7.2's
/// footer-less pc-i440fx-2.3 stream, mirroring the 7.2 tests of StreamRoundTripTests and
/// RealStreamTests (docs/FORMAT.md §9).
@Suite struct QEMU10StreamTests {
    /// Every QEMU 10.0 stream the registry loads (mapped-ram is refused), with its machine type.
    static let streams: [(name: String, machine: String)] = [
        ("pc-reset", "pc-i440fx-10.0"), ("pc-bios", "pc-i440fx-10.0"), ("pc-live", "pc-i440fx-10.0"),
        ("pc-9.2", "pc-i440fx-9.2"), ("x-ignore-shared", "pc-i440fx-10.0"), ("q35-bios", "pc-q35-10.0"),
        ("q35-devices", "pc-q35-10.0"),
    ]
    /// The pc (i440fx) ones: our pc device descriptions are configured as an i440fx machine's.
    static let pcStreams = ["pc-reset", "pc-bios", "pc-live", "pc-9.2", "x-ignore-shared"]
    static let switchoverStart: [UInt8] = [0x08, 0x00, 0x0B, 0x00, 0x00]

    static func stream(_ name: String) throws -> [UInt8] {
        try TestPaths.readBytes(TestPaths.qemu10Fixtures + "/\(name)/stream.bin")
    }

    static func analyze(_ name: String, dir: String = TestPaths.qemu10Fixtures) throws -> [String: Any] {
        let data = Data(try TestPaths.readBytes(dir + "/\(name)/analyze.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Where `needle` occurs in `bytes`.
    static func offsets(of needle: [UInt8], in bytes: [UInt8]) -> [Int] {
        guard bytes.count >= needle.count else { return [] }
        return (0...(bytes.count - needle.count)).filter { i in
            bytes[i] == needle[0] && needle.indices.allSatisfy { bytes[i + $0] == needle[$0] }
        }
    }

    /// The vmdesc JSON text at the end of a stream (0x06, be32 length, the JSON).
    static func vmdescText(_ stream: [UInt8]) throws -> String {
        let index = try RealStreamTests.vmdesc(stream)
        _ = index
        for start in stride(from: stream.count - 2, through: 5, by: -1)
        where stream[start] == UInt8(ascii: "{") && stream[start - 5] == 0x06 {
            let length = stream[start - 4..<start].reduce(0) { $0 << 8 | Int($1) }
            if length == stream.count - start { return String(decoding: stream[start...], as: UTF8.self) }
        }
        throw VMStateError(.badStream, reason: "no vmdesc")
    }

    /// A pc machine's devices (by the stream's vmdesc) and RAM blocks (by analyze.json's
    /// "section sizes"), RAM filled with 0xCC.
    final class Machine {
        let pc: RealStreamTests.PCMachine
        var blocks: [String: (host: UnsafeMutableRawPointer, length: Int)] = [:]
        var registry: Registry { pc.registry }

        /// `blockOrder`: the order RAM blocks are registered in (else by name).
        init(
            stream: [UInt8], analyze: [String: Any], ram: Bool = true, skip: Set<String> = [],
            blockOrder: [String]? = nil
        ) throws {
            pc = try RealStreamTests.PCMachine(stream: stream, skip: skip)
            guard ram else { return }
            let ramKey = try #require(analyze.keys.first { $0.hasPrefix("ram (") })
            let sizes = try #require((analyze[ramKey] as? [String: Any])?["section sizes"] as? [String: String])
            let names = blockOrder ?? sizes.keys.sorted()
            #expect(Set(names) == Set(sizes.keys))
            for name in names {
                let size = try #require(sizes[name])
                let length = try #require(Int(size.dropFirst(2), radix: 16))
                let host = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
                host.initializeMemory(as: UInt8.self, repeating: 0xCC, count: length)
                blocks[name] = (host, length)
                try pc.registry.addRAM(idstr: name, host: host, length: length)
            }
        }

        deinit { for b in blocks.values { b.host.deallocate() } }

        func rtc() throws -> UnsafeMutablePointer<PcRTCState> {
            try #require(pc.states.first { $0.idstr == "mc146818rtc" }).state.assumingMemoryBound(to: PcRTCState.self)
        }
    }

    /// The final content of every page the stream's RAM sections send, by block and page
    /// offset (a later record of a page replaces an earlier one), read from the section bytes a
    /// KEEP_UNKNOWN load kept: an independent decoder of QEMU's RAM records.
    static func ramImage(_ stream: [UInt8], ignoreShared: Bool = false) throws -> [String: [Int: [UInt8]]] {
        let registry = Registry()
        try registry.load(stream, options: .keepUnknown)
        var image: [String: [Int: [UInt8]]] = [:]
        var block = ""
        for entry in registry.layout ?? [] {
            guard case .kept(let s, _) = entry else { continue }
            var at: Int
            switch s[0] {
            case 0x01:
                guard String(decoding: s[6..<6 + Int(s[5])], as: UTF8.self) == "ram" else { continue }
                at = 6 + Int(s[5]) + 8
            case 0x02, 0x03: at = 5
            default: continue
            }
            func be64() -> UInt64 {
                defer { at += 8 }
                return s[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) }
            }
            func name() -> String {
                let len = Int(s[at])
                defer { at += 1 + len }
                return String(decoding: s[at + 1..<at + 1 + len], as: UTF8.self)
            }
            while true {
                let word = be64()
                let flags = word & 0xFFF
                let address = Int(word & ~0xFFF)
                if flags & 0x04 != 0 {
                    var seen = 0
                    while seen < address {
                        _ = name()
                        seen += Int(be64())
                        if ignoreShared { _ = be64() }
                    }
                }
                if flags & (0x02 | 0x08) != 0 {
                    if flags & 0x20 == 0 { block = name() }
                    if flags & 0x02 != 0 {
                        image[block, default: [:]][address] = [UInt8](repeating: s[at], count: 4096)
                        at += 1
                    } else {
                        image[block, default: [:]][address] = Array(s[at..<at + 4096])
                        at += 4096
                    }
                }
                if flags & 0x10 != 0 { break }
            }
        }
        return image
    }

    /// A registry with only the RAM blocks of a fixture (by analyze.json's "section sizes"),
    /// filled with 0xCC: every device section is unknown.
    final class RAMOnly {
        let registry = Registry()
        var blocks: [String: (host: UnsafeMutableRawPointer, length: Int)] = [:]

        init(_ analyze: [String: Any]) throws {
            let ramKey = try #require(analyze.keys.first { $0.hasPrefix("ram (") })
            let sizes = try #require((analyze[ramKey] as? [String: Any])?["section sizes"] as? [String: String])
            for (name, size) in sizes.sorted(by: { $0.key < $1.key }) {
                let length = try #require(Int(size.dropFirst(2), radix: 16))
                let host = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
                host.initializeMemory(as: UInt8.self, repeating: 0xCC, count: length)
                blocks[name] = (host, length)
                try registry.addRAM(idstr: name, host: host, length: length)
            }
        }

        deinit { for b in blocks.values { b.host.deallocate() } }

        /// Loads `stream` through a chunked stream (``StreamIOTests/loadFromStream``) while the
        /// blocks are alive (the registry holds only their addresses).
        func loadThroughChunks(_ stream: [UInt8], chunk: Int, flags: UInt32, cut: Int64 = -1) -> (
            ok: Bool, domain: UInt32, code: Int32, message: String, reads: UInt64
        ) {
            withExtendedLifetime(self) {
                StreamIOTests.loadFromStream(registry, stream, chunk: chunk, flags: flags, cut: cut)
            }
        }

        func sameRAM(as other: RAMOnly) -> Bool {
            blocks.allSatisfy { name, b in other.blocks[name].map { memcmp($0.host, b.host, b.length) == 0 } ?? false }
        }
    }

    /// Loads `stream` with `options` through a `StreamSource` over a `GMemoryInputStream` (read a
    /// buffer at a time, as from a socket or a pipe): the source, and the load's error.
    static func loadThroughASource(_ registry: Registry, _ stream: [UInt8], options: Registry.LoadOptions) -> (
        StreamSource, VMStateError?
    ) {
        let bytes = gbytes(stream)
        defer { g_bytes_unref(bytes) }
        let input = g_memory_input_stream_new_from_bytes(bytes)!
        defer { g_object_unref(input) }
        let source = StreamSource(input)
        do {
            try registry.loadStream(MigrationFile(source: source), options: options)
            return (source, nil)
        } catch { return (source, error) }
    }

    /// Cuts in pc-bios's device sections whose last bytes look like the start of a vmdesc after
    /// an EOF byte (`00 06 00 00 00 00`, an empty one; `00 06 06 06 06 06`, one of 101 MB): no
    /// footer comes before that 0x00, and QEMU's vmdesc is a JSON object: an early end before the
    /// vmdesc, not an unreadable one (UNKNOWN_SECTION) nor one cut inside.
    @Test func cutsThatLookLikeAVMDescAreEarlyEnds() throws {
        let stream = try Self.stream("pc-bios")
        let analyze = try Self.analyze("pc-bios")
        for (cut, tail) in [(507606, [0, 6, 0, 0, 0, 0]), (506218, [0, 6, 6, 6, 6, 6])] as [(Int, [UInt8])] {
            #expect(Array(stream[(cut - 6)..<cut]) == tail)
            let expected =
                "the stream ended (cut short) before the vmdesc that gives the size of section \"timer\" instance 0 "
                + "(at byte 505186), which cannot be skipped without it (at byte \(cut))"
            for options: Registry.LoadOptions in [.skipUnknown, .keepUnknown] {
                let r = try RAMOnly(analyze).loadThroughChunks(
                    stream, chunk: 4096, flags: options.rawValue, cut: Int64(cut))
                #expect(
                    r.code == VMStateError.Kind.shortInput.rawValue && r.message == expected, "\(cut): \(r.message)")
                #expect(try Self.bufferLoadError(Array(stream.prefix(cut)), analyze, options) == expected)
            }
        }
    }

    /// QEMU 10.0 writes virtio-mem's early-setup section ("virtio-mem-device-early", a vmsd with
    /// early_setup) after the RAM section's START, before its pages. Over a stream source,
    /// SKIP_UNKNOWN and KEEP_UNKNOWN skip it at its footer (in a stream without footers, `-global
    /// migration.send-section-footer=off`, at the RAM PART's header that follows it) and load the
    /// RAM as it arrives, where reading on to the vmdesc that gives its size would hold all of
    /// the RAM (over 64 MiB of it: the load failed): the window never holds more than its
    /// buffer; the RAM, and with KEEP_UNKNOWN the next save (the section with its vmdesc entry),
    /// are the buffer load's.
    @Test(arguments: [("virtio-mem", 0xdd, true), ("virtio-mem-no-footer", 0xd8, false)])
    func anEarlySetupSectionAheadOfTheRAMPagesIsSkippedAtItsEnd(fixture: String, at: Int, footers: Bool) throws {
        let stream = try Self.stream(fixture)
        let analyze = try Self.analyze(fixture)
        // The section (FULL, id 37) right after the RAM's START (its footer, or its EOS without
        // one), before 560 KiB of RAM records; its 52 bytes of data, then its footer or the RAM's
        // first PART (the RAM is section 1), whose first page names its block.
        let early = Array("0000:00:01.0/virtio-mem-device-early".utf8)
        #expect(
            Array(stream[at - 9..<at])
                == (footers ? [0, 0, 0, 0x10, 0x7E, 0, 0, 0, 1] : [0, 0, 0, 0, 0, 0, 0, 0, 0x10]))
        #expect(Array(stream[at..<at + 6 + early.count]) == [0x04, 0, 0, 0, 37, UInt8(early.count)] + early)
        let end = at + 6 + early.count + 8 + 52
        #expect(Array(stream[end..<end + 5]) == (footers ? [0x7E, 0, 0, 0, 37] : [0x02, 0, 0, 0, 1]))
        #expect(stream.count - at > StreamSource.bufferSize + (256 << 10))
        for options: Registry.LoadOptions in [.skipUnknown, .keepUnknown] {
            let viaBuffer = try RAMOnly(analyze)
            try viaBuffer.registry.load(stream, options: options)
            let viaStream = try RAMOnly(analyze)
            let (source, error) = Self.loadThroughASource(viaStream.registry, stream, options: options)
            #expect(error == nil, "\(options): \(error?.description ?? "")")
            #expect(source.peakWindow <= StreamSource.bufferSize, "\(options): held \(source.peakWindow) bytes")
            #expect(viaStream.sameRAM(as: viaBuffer))
            // Every page of pc.ram was loaded (none is still all 0xCC).
            let ram = try #require(viaBuffer.blocks["pc.ram"])
            let untouched = stride(from: 0, to: ram.length, by: 4096).filter { page in
                (0..<4096).allSatisfy { ram.host.load(fromByteOffset: page + $0, as: UInt8.self) == 0xCC }
            }
            #expect(untouched.isEmpty, "\(untouched.count) pages")
            if options == .keepUnknown {
                #expect(try viaStream.registry.save() == (try viaBuffer.registry.save()))
            }
            // Read 1 and 7 bytes at a time, the same; cut inside the section or its footer, an
            // early end where the stream ends, as from a buffer.
            for chunk in [1, 7] {
                let chunked = try RAMOnly(analyze)
                let r = chunked.loadThroughChunks(stream, chunk: chunk, flags: options.rawValue)
                #expect(r.ok && chunked.sameRAM(as: viaBuffer), "\(chunk): \(r.message)")
            }
            // (Without footers, a stream cut right after a 0x00 byte reads as one that ends at its
            // EOF marker: only a footer before that marker tells.)
            for cut in [at + 60, at + 102 - 3] {
                let r = try RAMOnly(analyze).loadThroughChunks(
                    stream, chunk: 4096, flags: options.rawValue, cut: Int64(cut))
                let section = "section \"0000:00:01.0/virtio-mem-device-early\" instance 0"
                #expect(stream[cut - 1] == 0)
                #expect(
                    r.code == (footers ? VMStateError.Kind.shortInput : VMStateError.Kind.unknownSection).rawValue)
                #expect(
                    r.message
                        == (footers
                            ? "the stream ended (cut short) before the vmdesc that gives the size of \(section) (at "
                                + "byte \(at)), which cannot be skipped without it (at byte \(cut))"
                            : "cannot skip \(section): the stream ends at its EOF marker without the vmdesc that gives "
                                + "its size (written without one, as with QEMU's suppress-vmdesc, or cut short right "
                                + "after that marker) (at byte \(at))"))
                #expect(r.message == (try Self.bufferLoadError(Array(stream.prefix(cut)), analyze, options)))
            }
        }
    }

    /// The error of a buffer load of `stream` into the RAM of `analyze`, as the C API gives its
    /// message; nil when it loads.
    static func bufferLoadError(_ stream: [UInt8], _ analyze: [String: Any], _ options: Registry.LoadOptions) throws
        -> String?
    {
        do {
            // (Kept alive through the load: the registry holds only its blocks' addresses.)
            let machine = try RAMOnly(analyze)
            try withExtendedLifetime(machine) { try machine.registry.load(stream, options: options) }
            return nil
        } catch let error as VMStateError {
            return error.description
        }
    }

    /// Where the input ends before the early section's footer shows (a footer whose section id
    /// is damaged, a stream without its vmdesc), all of the rest is at hand, and the section is
    /// read by the vmdesc as a buffer load reads it: the same error, where a stream load once
    /// read on through all of the stream and said it ended inside the section ("before its
    /// footer"), or, without a vmdesc, skipped the section unchecked (and kept, saved it again
    /// with no vmdesc entry: a stream that neither load nor `vmstate analyze` reads).
    @Test func anEarlySectionReadsAsFromABufferWhenTheInputEndsFirst() throws {
        let stream = try Self.stream("virtio-mem")
        let analyze = try Self.analyze("virtio-mem")
        let footer = 0xdd + 6 + 36 + 8 + 52
        #expect(Array(stream[footer..<footer + 5]) == [0x7E, 0, 0, 0, 37])
        var badID = stream
        badID[footer + 1] = 0x12
        // The vmdesc: 0x06, its be32 length, and that much JSON, which ends the stream.
        let marker = try #require(
            (0..<stream.count - 5).last { m in
                stream[m] == 0x06 && stream[(m + 1)..<(m + 5)].reduce(0) { $0 << 8 | Int($1) } == stream.count - m - 5
            })
        #expect(stream[marker - 1] == 0x00 && stream[marker + 5] == UInt8(ascii: "{"))
        let noVMDesc = Array(stream.prefix(marker))
        // The RAM section's END (its footer: 0x7e, be32 1) and nothing after it but the EOF
        // marker: no device section needs the vmdesc, the early one does.
        let afterRAM = 570_846
        #expect(Array(stream[(afterRAM - 5)..<(afterRAM + 6)]) == [0x7E, 0, 0, 0, 1, 0x04, 0, 0, 0, 0, 5])
        let onlyRAM = Array(stream.prefix(afterRAM)) + [0x00]
        let cases: [(String, [UInt8], VMStateError.Kind, String)] = [
            (
                "a footer with another id", badID, .badStream,
                "bad footer after section \"0000:00:01.0/virtio-mem-device-early\" (a footer with another section's id); "
                    + "expected 0x7e and section id 37, got 0x7e and 301989925 (at byte \(footer))"
            ),
            (
                "no vmdesc", noVMDesc, .unknownSection,
                "cannot skip section \"0000:00:01.0/virtio-mem-device-early\" instance 0: the stream ends at its EOF "
                    + "marker without the vmdesc that gives its size (written without one, as with QEMU's "
                    + "suppress-vmdesc, or cut short right after that marker) (at byte 221)"
            ),
            (
                "the RAM, then no vmdesc", onlyRAM, .unknownSection,
                "cannot skip section \"0000:00:01.0/virtio-mem-device-early\" instance 0: the stream ends at its EOF "
                    + "marker without the vmdesc that gives its size (written without one, as with QEMU's "
                    + "suppress-vmdesc, or cut short right after that marker) (at byte 221)"
            ),
        ]
        for (what, bytes, kind, message) in cases {
            for options: Registry.LoadOptions in [.skipUnknown, .keepUnknown] {
                #expect(try Self.bufferLoadError(bytes, analyze, options) == message, "\(what)")
                for chunk in [7, 4096] {
                    let r = try RAMOnly(analyze).loadThroughChunks(bytes, chunk: chunk, flags: options.rawValue)
                    #expect(!r.ok && r.code == kind.rawValue, "\(what) \(options) \(chunk)")
                    #expect(r.message == message, "\(what) \(options) \(chunk)")
                }
            }
        }
    }

    /// A background snapshot (capability background-snapshot; QEMU 7.2 and 10.0 alike) never
    /// ends its RAM section: the device sections follow its last PART. Through a stream,
    /// SKIP_UNKNOWN and KEEP_UNKNOWN read them as the complete phase's, not as early-setup
    /// sections skipped at their footers (the last one, before the EOF marker, then failed as
    /// "the stream ended inside section "globalstate"" at the stream's end): the same devices and
    /// RAM as the buffer load, and kept into an empty registry, the stream's own bytes.
    @Test(
        arguments: [TestPaths.streams + "/bg-snapshot", TestPaths.qemu10Fixtures + "/bg-snapshot"], [1, 7, 4096])
    func aBackgroundSnapshotLoadsThroughAStream(_ dir: String, _ chunk: Int) throws {
        let stream = try TestPaths.readBytes(dir + "/stream.bin")
        let analyze = try Self.analyze("bg-snapshot", dir: (dir as NSString).deletingLastPathComponent)
        // Left unregistered: the first device after the RAM, one between, the last before EOF.
        let skip: Set<String> = ["timer", "apic", "globalstate"]
        for options: Registry.LoadOptions in [.skipUnknown, .keepUnknown] {
            let viaBuffer = try Machine(stream: stream, analyze: analyze, skip: skip)
            try viaBuffer.registry.load(stream, options: options)
            let viaStream = try Machine(stream: stream, analyze: analyze, skip: skip)
            #expect(viaStream.pc.states.count >= 20)
            let r = StreamIOTests.loadFromStream(viaStream.registry, stream, chunk: chunk, flags: options.rawValue)
            #expect(r.ok, "\(options) chunk \(chunk): \(r.message)")
            for (name, block) in viaBuffer.blocks {
                let other = try #require(viaStream.blocks[name])
                #expect(memcmp(block.host, other.host, block.length) == 0, "\(name)")
            }
            let same = try viaStream.registry.save() == (try viaBuffer.registry.save())
            #expect(same, "\(options) chunk \(chunk)")
        }
        let kept = Registry()
        let r = StreamIOTests.loadFromStream(
            kept, stream, chunk: chunk, flags: Registry.LoadOptions.keepUnknown.rawValue)
        #expect(r.ok, "\(r.message)")
        let keptSame = try kept.save() == stream
        #expect(keptSame)
    }

    /// Section data that holds the early section's footer bytes (0x7e, be32 37; here in its
    /// bitmap, which the guest sets) followed by what cannot start a section is not taken for
    /// the footer; a stream cut right after the footer, inside the next section's header, fails
    /// as from a buffer (the vmdesc that gives the early section's size never came).
    @Test func anEarlySectionsFooterIsFollowedByASectionHeader() throws {
        var stream = try Self.stream("virtio-mem")
        let analyze = try Self.analyze("virtio-mem")
        let dataStart = 0xdd + 6 + 36 + 8  // type, id, idstr, instance and version ids
        let footer = dataStart + 52  // tmp 28, size 8, bitmap 16
        #expect(Array(stream[footer..<footer + 5]) == [0x7E, 0, 0, 0, 37])
        stream.replaceSubrange((dataStart + 38)..<(dataStart + 43), with: [0x7E, 0, 0, 0, 37])
        for options: Registry.LoadOptions in [.skipUnknown, .keepUnknown] {
            let viaBuffer = try RAMOnly(analyze)
            try viaBuffer.registry.load(stream, options: options)
            let viaStream = try RAMOnly(analyze)
            let (_, error) = Self.loadThroughASource(viaStream.registry, stream, options: options)
            #expect(error == nil, "\(options): \(error?.description ?? "")")
            #expect(viaStream.sameRAM(as: viaBuffer))
        }
        for cut in [footer + 5, footer + 7] {
            let r = try RAMOnly(analyze).loadThroughChunks(
                stream, chunk: 4096, flags: Registry.LoadOptions.skipUnknown.rawValue, cut: Int64(cut))
            #expect(r.code == VMStateError.Kind.shortInput.rawValue)
            #expect(r.message == (try Self.bufferLoadError(Array(stream.prefix(cut)), analyze, .skipUnknown)))
        }
    }

    /// A stream cut in its device sections after the RAM, whose last byte is a 0x00 (as most
    /// bytes of device state are, and the EOF marker is), is an early end at the cut, not a
    /// stream written without a vmdesc.
    @Test func aStreamCutOnAZeroByteBeforeItsVMDescIsAnEarlyEnd() throws {
        let stream = try Self.stream("virtio-mem")
        let analyze = try Self.analyze("virtio-mem")
        // A zero byte in the device sections (the RAM ends at 0x8b5de).
        let cut = try #require((0x8b600..<stream.count).first { stream[$0 - 1] == 0 && stream[$0 - 6] != 0x7E })
        let r = try RAMOnly(analyze).loadThroughChunks(
            stream, chunk: 4096, flags: Registry.LoadOptions.skipUnknown.rawValue, cut: Int64(cut))
        #expect(r.code == VMStateError.Kind.shortInput.rawValue)
        #expect(r.message.hasPrefix("the stream ended (cut short) before the vmdesc that gives the size of section"))
        #expect(r.message.hasSuffix("(at byte \(cut))"), "\(r.message)")
    }

    /// The footer found (without footers, the next section's header) is checked against the
    /// stream's vmdesc: one that gives the early section another length (its bitmap 17 bytes,
    /// not 16) fails the load at the EOF marker, naming the section, where it starts and both
    /// lengths.
    @Test(arguments: [("virtio-mem", 0xdd, "its footer"), ("virtio-mem-no-footer", 0xd8, "the next section's header")])
    func anEarlySectionSkippedToItsEndIsCheckedAgainstTheVMDesc(fixture: String, section: Int, end: String) throws {
        var stream = try Self.stream(fixture)
        let field = Array(#"{"name": "bitmap", "type": "bitmap", "size": 16}"#.utf8)
        let at = try #require(Self.offsets(of: field, in: stream).first)
        stream[at + field.count - 2] = UInt8(ascii: "7")
        let machine = try RAMOnly(try Self.analyze(fixture))
        let (_, error) = withExtendedLifetime(machine) {
            Self.loadThroughASource(machine.registry, stream, options: .skipUnknown)
        }
        #expect(error?.kind == .badStream)
        #expect(
            error?.description
                == "section \"0000:00:01.0/virtio-mem-device-early\" instance 0, skipped up to the first bytes that "
                + "read as \(end), has another length in the stream's vmdesc (its data holds those bytes, or the "
                + "vmdesc is not this stream's); expected 53 bytes, got 52 (at byte \(section + 50))")
    }

    // MARK: - loads and byte-for-byte re-saves

    @Test(arguments: streams)
    func keptStreamSavesByteForByte(_ fixture: (name: String, machine: String)) throws {
        let original = try Self.stream(fixture.name)
        let registry = Registry()
        try registry.load(original, options: .keepUnknown)
        #expect(registry.loadedMachineType == fixture.machine)
        #expect(registry.streamVersion == .qemu10_0)
        #expect(
            registry.loadedRules
                == QEMUStreamRules(
                    version: .qemu10_0, configuration: true, sectionFooters: true,
                    switchoverStart: fixture.name != "pc-9.2"))
        let saved = try registry.save()
        #expect(saved.count == original.count)
        #expect(saved == original)
        // The vmdesc (configuration object included) is the fixture's, byte for byte.
        #expect(try Self.vmdescText(saved) == Self.vmdescText(original))
    }

    /// SWITCHOVER_START where QEMU 10.0 put it (docs/notes: pc-bios at 0x7b54b), once; none in
    /// the 9.2 machine type's stream.
    @Test func switchoverStartIsWrittenBackInItsPlace() throws {
        for (name, expected) in [("pc-bios", [0x7b54b]), ("pc-live", [0x7e58e]), ("q35-devices", [0x122732])] {
            let original = try Self.stream(name)
            let registry = Registry()
            try registry.load(original, options: .keepUnknown)
            let saved = try registry.save()
            #expect(Self.offsets(of: Self.switchoverStart, in: saved) == expected, "\(name)")
        }
        let registry = Registry()
        try registry.load(try Self.stream("pc-9.2"), options: .keepUnknown)
        #expect(Self.offsets(of: Self.switchoverStart, in: try registry.save()).isEmpty)
    }

    /// The vmdesc's device objects by "name instance".
    static func vmdescDevices(_ stream: [UInt8]) throws -> [String: JSONValue] {
        let root = try JSONValue(parsing: Array(try vmdescText(stream).utf8))
        var out: [String: JSONValue] = [:]
        for device in root["devices"]?.arrayValue ?? [] {
            out["\(device["name"]?.stringValue ?? "") \(device["instance_id"]?.intValue ?? 0)"] = device
        }
        return out
    }

    /// Our pc devices (QEMU 7.2 tables) load QEMU 10.0's sections and save the same bytes:
    /// every section byte for byte; the vmdesc, written with QEMU 10.0's rules (no `"index"` on
    /// the last element of fdc drives, ide bmdma, piix4_pm's acpi_pcihp_pci_status), differs
    /// only in the objects of devices whose QEMU 10.0 description differs from our 7.2 table:
    /// renamed fields (hpet `num_timers_save`, globalstate's runstate split).
    @Test(arguments: pcStreams)
    func wholeStreamLoadsIntoPCDevicesAndSavesByteForByte(_ name: String) throws {
        let stream = try Self.stream(name)
        let machine = try RealStreamTests.PCMachine(stream: stream)
        #expect(machine.states.count >= 20)
        try machine.registry.load(stream, options: .keepUnknown)
        let loaded = (machine.registry.layout ?? []).filter { if case .device = $0 { true } else { false } }.count
        #expect(loaded == machine.states.count)
        let saved = try machine.registry.save()
        let sections = stream.count - 5 - (try Self.vmdescText(stream)).utf8.count
        #expect(saved.count - 5 - (try Self.vmdescText(saved)).utf8.count == sections)
        #expect(Array(saved.prefix(sections)) == Array(stream.prefix(sections)))
        let ours = try Self.vmdescDevices(saved)
        let qemu = try Self.vmdescDevices(stream)
        #expect(Set(ours.keys) == Set(qemu.keys))
        let differing = Set(qemu.keys.filter { ours[$0] != qemu[$0] })
        #expect(differing == Self.tenDescriptionsDiffer, "\(differing.sorted())")
    }

    static let tenDescriptionsDiffer: Set<String> = ["hpet 0", "globalstate 0"]

    /// Our devices' values after the load, saved by us and read back by the analyzer, equal
    /// what QEMU 10.0's analyze-migration.py printed; the CMOS bytes directly too.
    @Test(arguments: pcStreams)
    func loadedValuesEqualAnalyzeJSON(_ name: String) throws {
        let stream = try Self.stream(name)
        let machine = try RealStreamTests.PCMachine(stream: stream)
        try machine.registry.load(stream, options: .keepUnknown)
        let ours = try StreamAnalysis(
            bytes: StreamBytes(try machine.registry.save()), options: .init(recordPages: false))
        let expectedText = try TestPaths.readText(TestPaths.qemu10Fixtures + "/\(name)/analyze.json")
        let expected = try #require(try JSONValue(parsing: expectedText).objectValue)
        let ourIdstrs = Set(machine.states.map(\.idstr))
        let actual = try #require(ours.stateJSON.objectValue).members.filter { member in
            ourIdstrs.contains(String(member.key[..<(member.key.lastIndex(of: " ") ?? member.key.endIndex)]))
        }
        #expect(actual.count == machine.states.count)
        for member in actual {
            let qemu = try #require(expected[member.key], "QEMU's analyze.json has no section \(member.key)")
            // QEMU 10.0 renamed hpet's num_timers (num_timers_save) and split globalstate's
            // runstate buffer (same bytes on the wire): our 7.2 tables print 7.2's names.
            if member.key.hasPrefix("hpet ") || member.key.hasPrefix("globalstate ") { continue }
            #expect(member.value == qemu, "section \(member.key)")
        }

        let rtc = try #require(machine.states.first { $0.idstr == "mc146818rtc" }).state
            .assumingMemoryBound(to: PcRTCState.self)
        let qemuRTC = try RealStreamTests.section(try Self.analyze(name), "mc146818rtc")
        #expect(rawBytes(rtc.pointee.cmos_data) == RealStreamTests.hexBytes(qemuRTC["cmos_data"]))
        #expect(UInt64(rtc.pointee.cmos_index) == RealStreamTests.number(qemuRTC["cmos_index"]))
    }

    /// With RAM registered: every page the stream sends lands in the block (the 0xCC fill shows
    /// pages the stream never sent); x-ignore-shared's block addresses are read and kept.
    @Test(arguments: ["pc-bios", "pc-live", "x-ignore-shared"])
    func ramPagesLoadAndTheStreamSavesForQEMU10(_ name: String) throws {
        let stream = try Self.stream(name)
        let machine = try Machine(stream: stream, analyze: try Self.analyze(name))
        try machine.registry.load(stream, options: .keepUnknown)
        #expect(machine.registry.streamVersion == .qemu10_0)

        let image = try Self.ramImage(stream, ignoreShared: name == "x-ignore-shared")
        #expect(Set(image.keys) == Set(machine.blocks.keys))
        var pages = 0
        for (block, sent) in image {
            let host = try #require(machine.blocks[block]).host
            for (offset, content) in sent {
                #expect(
                    Array(UnsafeRawBufferPointer(start: host + offset, count: 4096)) == content, "\(block) \(offset)")
                pages += 1
            }
        }
        #expect(pages == 4096 + 32 + 64 + 32 + 1 + 1)  // every page of every block
        let bios = try #require(machine.blocks["pc.bios"])
        #expect(bios.host.load(fromByteOffset: 0x40000 - 16, as: UInt8.self) == 0xEA)
        if name == "x-ignore-shared" {
            #expect(
                machine.registry.ramAddresses == [
                    "pc.ram": 0, "/rom@etc/acpi/tables": 0, "pc.bios": 0xfffc_0000, "pc.rom": 0xc_0000,
                    "/rom@etc/table-loader": 0, "/rom@etc/acpi/rsdp": 0,
                ])
        }

        // Saved back: one RAM START (with the addresses for x-ignore-shared), SWITCHOVER_START,
        // the RAM END with every page, the devices; it loads into a second machine with the same
        // RAM and device values, and the analyzer reads it as QEMU 10.0's.
        let saved = try machine.registry.save()
        let commands = Self.offsets(of: Self.switchoverStart, in: saved)
        #expect(commands.count == 1)
        let ramEnd = try #require(commands.first) + 5
        #expect(Array(saved[ramEnd..<ramEnd + 5]) == [0x03, 0, 0, 0, 1])
        #expect(try Self.vmdescText(saved).hasPrefix(String(try Self.vmdescText(stream).prefix(400))))
        let second = try Machine(stream: stream, analyze: try Self.analyze(name))
        try second.registry.load(saved, options: .keepUnknown)
        for (block, b) in machine.blocks {
            let other = try #require(second.blocks[block])
            #expect(memcmp(b.host, other.host, b.length) == 0, "\(block)")
        }
        #expect(try second.registry.save() == saved)
        let analysis = try StreamAnalysis(bytes: StreamBytes(saved), options: .init(recordPages: false))
        #expect(analysis.rules == .qemu100)
    }

    /// QEMU 7.2's x-ignore-shared stream (which neither QEMU script reads): its capability and
    /// block addresses load, and it saves back byte for byte, kept or with RAM registered.
    @Test func qemu72XIgnoreSharedLoadsAndSavesByteForByte() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/x-ignore-shared/stream.bin")
        let kept = Registry()
        try kept.load(stream, options: .keepUnknown)
        #expect(kept.streamVersion == .qemu7_2 && kept.capabilities == ["x-ignore-shared"])
        #expect(try kept.save() == stream)

        let ramKey = "ram (2)"
        let expected = try Self.analyze("pc-bios", dir: TestPaths.qemuFixtures)
        #expect(expected[ramKey] != nil)
        let machine = try Machine(stream: stream, analyze: expected)
        try machine.registry.load(stream, options: .keepUnknown)
        #expect(machine.registry.ramAddresses["pc.bios"] == 0xfffc_0000)
        #expect(machine.registry.ramAddresses["pc.rom"] == 0xc_0000)
        let image = try Self.ramImage(stream, ignoreShared: true)
        for (block, sent) in image {
            let host = try #require(machine.blocks[block]).host
            for (offset, content) in sent {
                #expect(
                    Array(UnsafeRawBufferPointer(start: host + offset, count: 4096)) == content, "\(block) \(offset)")
            }
        }
        let saved = try machine.registry.save()
        #expect(Self.offsets(of: Self.switchoverStart, in: saved).isEmpty)
        let again = try Machine(stream: stream, analyze: expected)
        try again.registry.load(saved, options: .keepUnknown)
        #expect(again.registry.ramAddresses == machine.registry.ramAddresses)
        #expect(try again.registry.save() == saved)
    }

    /// x-ignore-shared without an address for a registered block (a block the loaded stream
    /// did not have) cannot be saved back for that configuration.
    @Test func xIgnoreSharedNeedsEveryBlocksAddress() throws {
        let stream = try Self.stream("x-ignore-shared")
        let machine = try Machine(stream: stream, analyze: try Self.analyze("x-ignore-shared"))
        try machine.registry.load(stream, options: .keepUnknown)
        let extra = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { extra.deallocate() }
        try machine.registry.addRAM(idstr: "extra", host: extra, length: 4096)
        let error = try #require(thrownError(VMStateError.self) { _ = try machine.registry.save() })
        #expect(error.kind == .ram)
        #expect(
            error.description
                == "extra: the configuration has x-ignore-shared, which gives each RAM block's guest address, and the loaded stream gave none for RAM block extra (at byte 0)"
        )
    }

    /// The RAM blocks of `qemu-7.2/x-ignore-shared-file` (`-M pc -m 16`, the guest RAM `r0` on a
    /// shared file), in the stream's order, with their used lengths.
    static let sharedFileBlocks: [(String, Int)] = [
        ("r0", 16 << 20), ("/rom@etc/acpi/tables", 0x20000), ("pc.bios", 0x40000), ("pc.rom", 0x20000),
        ("/rom@etc/table-loader", 0x1000), ("/rom@etc/acpi/rsdp", 0x1000),
    ]

    /// The RAM blocks of ``sharedFileBlocks``, each filled with 0xCC and registered into a
    /// registry; freed with this object, which must outlive the registry's loads and saves.
    final class SharedFileRAM {
        private(set) var hosts: [String: UnsafeMutableRawPointer] = [:]

        init(registering registry: Registry) throws {
            for (name, length) in QEMU10StreamTests.sharedFileBlocks {
                let host = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
                host.initializeMemory(as: UInt8.self, repeating: 0xCC, count: length)
                hosts[name] = host
                try registry.addRAM(idstr: name, host: host, length: length)
            }
        }

        deinit { for p in hosts.values { p.deallocate() } }
    }

    /// x-ignore-shared with the guest RAM on a shared file: QEMU 7.2 sent no page of `r0` (only
    /// its address). Loaded with every block registered, the registry's save and live migration
    /// send no page of it either (QEMU's destination refuses one: "block r0 should not be
    /// migrated !"), nor ask the dirty log about it, and every other block's pages as loaded.
    @Test func xIgnoreSharedSendsNoPageOfABlockTheStreamSentNoneOf() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/x-ignore-shared-file/stream.bin")
        let image = try Self.ramImage(stream, ignoreShared: true)
        let others = Set(Self.sharedFileBlocks.map(\.0).dropFirst())
        #expect(Set(image.keys) == others)

        let machine = try RealStreamTests.PCMachine(stream: stream)
        let ram = try SharedFileRAM(registering: machine.registry)
        let hosts = ram.hosts
        defer { withExtendedLifetime(ram) {} }
        try machine.registry.load(stream, options: .keepUnknown)
        #expect(machine.registry.capabilities == ["x-ignore-shared"])
        #expect(machine.registry.ramUnsentBlocks == ["r0"])

        let saved = try machine.registry.save()
        #expect(try Self.ramImage(saved, ignoreShared: true) == image)
        // Loaded again, the same blocks go unsent.
        let again = Registry()
        try again.load(saved, options: .keepUnknown)
        #expect(again.ramUnsentBlocks == ["r0"] && again.ramAddresses == machine.registry.ramAddresses)

        let log = LiveMigrationTests.DirtyLog()
        log.attach(machine.registry)
        let out = LiveMigrationTests.memoryStream()
        defer { g_object_unref(out) }
        var error: UnsafeMutablePointer<GError>?
        let mig = try #require(vmstate_migration_start(StreamIOTests.handle(machine.registry), nil, out, &error))
        defer { vmstate_migration_free(mig) }
        log.write(("r0", try #require(hosts["r0"])), 0x7000, 0x1234_5678)
        log.write(("pc.rom", try #require(hosts["pc.rom"])), 0x100, 0x8765_4321)
        var pending: UInt64 = 0
        #expect(vmstate_migration_iterate(mig, &pending, &error))
        #expect(vmstate_migration_complete(mig, &error))
        #expect(log.asked == others)
        let migrated = try Self.ramImage(LiveMigrationTests.bytes(of: out), ignoreShared: true)
        #expect(Set(migrated.keys) == others)
        var changed = image
        changed["pc.rom"]?[0] = Array(UnsafeRawBufferPointer(start: hosts["pc.rom"], count: 4096))
        #expect(migrated == changed)
    }

    // MARK: - errors

    /// pc-bios with its SWITCHOVER_START (at 0x7b54b) replaced.
    static func withCommand(_ bytes: [UInt8]) throws -> [UInt8] {
        var stream = try Self.stream("pc-bios")
        stream.replaceSubrange(0x7b54b..<0x7b54b + 5, with: bytes)
        return stream
    }

    @Test func otherCommandsAndLengthsAreRefused() throws {
        let registry = Registry()
        let postcopy = try #require(
            thrownError(VMStateError.self) {
                try registry.load(try Self.withCommand([0x08, 0x00, 0x03, 0x00, 0x00]), options: .keepUnknown)
            })
        #expect(postcopy.kind == .badStream)
        #expect(
            postcopy.description
                == "unsupported command 3 (0x3) POSTCOPY_ADVISE (written when capability postcopy-ram or dirty-bitmaps is on) in the stream; expected MIG_CMD_SWITCHOVER_START (11), the only command loaded, got command 3, payload length 0 (at byte 505163)"
        )
        let long = try #require(
            thrownError(VMStateError.self) {
                try registry.load(try Self.withCommand([0x08, 0x00, 0x0B, 0x00, 0x04]), options: .keepUnknown)
            })
        #expect(
            long.description
                == "SWITCHOVER_START received with bad length - expecting 0, got 4; expected 0, got 4 (at byte 505163)")
    }

    /// mapped-ram with multifd (QEMU 10.0's channels write the pages at their file offsets):
    /// nothing in the file names multifd, and it loads like any mapped-ram file. The registry's
    /// load (a buffer, GIO streams of 7 and 4096 bytes a read) and the analyzer's `-x` give the
    /// RAM a QEMU 10.0 destination loaded from it; kept, it saves back byte for byte.
    @Test func multifdMappedRAMLoads() throws {
        let dir = TestPaths.qemu10Fixtures + "/multifd-mapped-ram"
        let stream = try Self.stream("multifd-mapped-ram")
        let expected = String(try TestPaths.readText(dir + "/guest-ram.sha256").prefix(64))
        let kept = Registry()
        try kept.load(stream, options: .keepUnknown)
        #expect(kept.capabilities == ["mapped-ram"] && kept.streamVersion == .qemu10_0)
        let keptSame = try kept.save() == stream
        #expect(keptSame)

        let order = [
            "pc.ram", "/rom@etc/acpi/tables", "pc.bios", "pc.rom", "/rom@etc/table-loader", "/rom@etc/acpi/rsdp",
        ]
        for chunk in [0, 7, 4096] {
            let machine = try Machine(stream: stream, analyze: try Self.analyze("x-ignore-shared"), blockOrder: order)
            try StreamIOTests.loadKeepingUnknown(machine.registry, stream, chunk: chunk)
            let ram = try #require(machine.blocks["pc.ram"])
            #expect(sha256(of: Array(UnsafeRawBufferPointer(start: ram.host, count: ram.length))) == expected)
        }

        let a = try StreamAnalysis(
            bytes: try StreamBytes(contentsOfFile: dir + "/stream.bin"), options: .init(recordPages: false))
        guard case .ram(let ram)? = a.sections.first(where: { $0.name == "ram" })?.content else {
            Issue.record("no RAM section")
            return
        }
        #expect(ram.blocks.first?.name == "pc.ram")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("vmstate-multifd-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try a.extractRAM(into: out.path)
        #expect(try sha256(out.appendingPathComponent("pc.ram").path) == expected)
    }

    /// A mapped-ram stream that fails or ends in its first block (header at 0x72, bitmap at
    /// 0x8e, padding from 0x28e, pages at 0x100000) says where it failed and what it was in,
    /// from the start of that part: read through a stream that fails (1-byte and 4 KiB reads, and
    /// GIO's default skip, which loses the bytes a failed skip had read: a failure in the padding,
    /// which is skipped, is where the read failed, however the reads are cut) and cut short in a
    /// buffer.
    @Test func aMappedRAMStreamCutInItsFirstBlockSaysWhere() throws {
        let stream = try Self.stream("mapped-ram")
        let order = [
            "pc.ram", "/rom@etc/acpi/tables", "pc.bios", "pc.rom", "/rom@etc/table-loader", "/rom@etc/acpi/rsdp",
        ]
        let parts = [
            (0x80, "mapped-ram header", 0x72), (0x8e + 100, "mapped-ram bitmap", 0x8e),
            (0x8_0000, "mapped-ram block's padding before its pages", 0x28e),
            (0x10_0000 + 100, "mapped-ram page", 0x10_0000),
        ]
        let analyze = try Self.analyze("x-ignore-shared")
        for (cut, part, start) in parts {
            for chunk in [1, 4096] {
                let machine = try Machine(stream: stream, analyze: analyze, blockOrder: order)
                let result = StreamIOTests.loadFromStream(
                    machine.registry, stream, chunk: chunk, flags: Registry.LoadOptions.keepUnknown.rawValue,
                    cut: Int64(cut), failCode: Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue), defaultSkip: true)
                #expect(!result.ok && result.domain == g_io_error_quark())
                #expect(
                    result.message
                        == "section \"ram\" instance 0: reading the stream failed: connection reset by test; it cut a \(part) that starts at byte \(start) (at byte \(cut))"
                )
            }
            let machine = try Machine(stream: stream, analyze: analyze, blockOrder: order)
            let error = try #require(throws: VMStateError.self) {
                try machine.registry.load(Array(stream[..<cut]), options: .keepUnknown)
            }
            #expect(error.kind == .shortInput)
            #expect(error.description == "section \"ram\" instance 0: stream ended inside a \(part) (at byte \(start))")
        }
    }

    /// mapped-ram (QEMU 10.0 `file:` migration, pages at file offsets): kept, it saves back byte
    /// for byte; with RAM registered, exactly the pages whose bitmap bit is set hold the file's
    /// bytes and the others are zero, and our save writes the same RAM START (headers, bitmaps,
    /// page regions at the same offsets), then an END with only EOS.
    @Test func mappedRAMLoadsAndSaves() throws {
        let stream = try Self.stream("mapped-ram")
        let kept = Registry()
        try kept.load(stream, options: .keepUnknown)
        #expect(kept.capabilities == ["mapped-ram"] && kept.streamVersion == .qemu10_0)
        let keptSave = try kept.save()
        let keptSame = keptSave == stream
        #expect(keptSave.count == stream.count && keptSame)

        // The RAM blocks of x-ignore-shared's analyze.json (same machine and memory), registered
        // in the stream's order.
        let order = [
            "pc.ram", "/rom@etc/acpi/tables", "pc.bios", "pc.rom", "/rom@etc/table-loader", "/rom@etc/acpi/rsdp",
        ]
        let machine = try Machine(stream: stream, analyze: try Self.analyze("x-ignore-shared"), blockOrder: order)
        // RAM not zero before the load: the pages the bitmap leaves out are zeroed.
        let before = try #require(machine.blocks["pc.ram"])
        before.host.initializeMemory(as: UInt8.self, repeating: 0xAA, count: before.length)
        try machine.registry.load(stream, options: .keepUnknown)
        func word(_ i: Int) -> Int { stream[i..<i + 8].reduce(0) { $0 << 8 | Int($1) } }
        // pc.ram: its header at 0x72 (bitmap at 0x8e, pages at 0x100000).
        #expect(word(0x72 + 4 + 8) == 0x8e && word(0x72 + 4 + 16) == 0x10_0000)
        let ram = try #require(machine.blocks["pc.ram"])
        var set = 0
        for i in 0..<(ram.length / 4096) {
            let page = Array(UnsafeRawBufferPointer(start: ram.host + i * 4096, count: 4096))
            if stream[0x8e + i / 8] & (1 << UInt8(i % 8)) != 0 {
                set += 1
                #expect(page == Array(stream[0x10_0000 + i * 4096..<0x10_0000 + (i + 1) * 4096]), "page \(i)")
            } else {
                #expect(page.allSatisfy { $0 == 0 }, "page \(i)")
            }
        }
        #expect(set == 62)
        let bios = try #require(machine.blocks["pc.bios"])
        #expect(bios.host.load(fromByteOffset: 0x40000 - 16, as: UInt8.self) == 0xEA)

        let saved = try machine.registry.save()
        // Header, configuration, RAM START through its footer at 0x1601008: the file's bytes.
        let startEnd = 0x160_1008 + 5
        // (Compared as a first differing offset: a failed #expect on 23 MB arrays computes a diff.)
        let firstDifference = (0..<startEnd).first { saved[$0] != stream[$0] }
        #expect(firstDifference == nil)
        #expect(Array(saved[startEnd..<startEnd + 5]) == Self.switchoverStart)
        let emptyEnd: [UInt8] = [0x03, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x7E, 0, 0, 0, 1]
        #expect(Array(saved[startEnd + 5..<startEnd + 23]) == emptyEnd)
        let again = try Machine(stream: stream, analyze: try Self.analyze("x-ignore-shared"), blockOrder: order)
        try again.registry.load(saved, options: .keepUnknown)
        for (name, block) in machine.blocks {
            #expect(memcmp(block.host, try #require(again.blocks[name]).host, block.length) == 0, "\(name)")
        }
        let savedAgain = try again.registry.save() == saved
        #expect(savedAgain)

        // A live migration sends pages as records: not with this configuration.
        let out = LiveMigrationTests.memoryStream()
        defer { g_object_unref(out) }
        var error: UnsafeMutablePointer<GError>?
        #expect(vmstate_migration_start(StreamIOTests.handle(machine.registry), nil, out, &error) == nil)
        #expect(
            LiveMigrationTests.message(error)
                == "the loaded stream has the capability mapped-ram (a file migration's layout): a live migration of it needs another machine type, which drops its configuration (at byte 0)"
        )
        g_clear_error(&error)
    }

    @Test func mappedRAMHeaderErrors() throws {
        var stream = try Self.stream("mapped-ram")
        stream[0x72 + 3] = 2  // header version 2
        let error = try #require(thrownError(VMStateError.self) { try Registry().load(stream, options: .keepUnknown) })
        #expect(
            error.description
                == "pc.ram: section \"ram\" instance 0: Migration mapped-ram capability version not supported (expected <= 1, got 2) (at byte 114)"
        )
        stream[0x72 + 3] = 1
        stream[0x72 + 4 + 8 + 7] = 0x8f  // a bitmap that does not follow the header
        let moved = try #require(thrownError(VMStateError.self) { try Registry().load(stream, options: .keepUnknown) })
        #expect(moved.kind == .ram)
        #expect(moved.actual == "bitmap at 143, pages at 1048576")
        #expect(moved.offset == 0x72 + 12)  // at the bitmap offset
        stream[0x72 + 4 + 8 + 7] = 0x8e
        stream[0x72 + 4 + 6] = 0x20  // page size 4096 -> 8192
        let size = try #require(thrownError(VMStateError.self) { try Registry().load(stream, options: .keepUnknown) })
        #expect(
            size.description
                == "pc.ram: section \"ram\" instance 0: mapped-ram page size; expected 4096, got 8192 (at byte 118)")
    }

    // MARK: - footer-less QEMU 7.2 streams

    @Test func footerlessPC23StreamLoadsAndSavesByteForByte() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-2.3/stream.bin")
        #expect(Self.offsets(of: [0x07, 0, 0, 0], in: Array(stream[8..<13])).isEmpty)  // no configuration
        let registry = Registry()
        try registry.load(stream, options: .keepUnknown)
        #expect(registry.loadedMachineType == nil)
        #expect(registry.streamVersion == .qemu7_2)
        #expect(
            registry.loadedRules
                == QEMUStreamRules(
                    version: .qemu7_2, configuration: false, sectionFooters: false, switchoverStart: false))
        #expect(try registry.save() == stream)

        // Into pc devices and RAM: values as QEMU 7.2's analyze.json, saved back without
        // configuration and footers, byte for byte after a reload. pckbd and piix4_pm send
        // other fields for pc-i440fx-2.3 (compat properties; our tables are configured as
        // pc-i440fx-7.2's): kept, not loaded.
        let pc23 = Set(["pckbd", "0000:00:01.3/piix4_pm"])
        let machine = try Machine(
            stream: stream, analyze: try Self.analyze("pc-2.3", dir: TestPaths.qemuFixtures), skip: pc23)
        #expect(machine.pc.states.count >= 15)
        try machine.registry.load(stream, options: .keepUnknown)
        let rtc = try machine.rtc()
        let qemuRTC = try RealStreamTests.section(
            try Self.analyze("pc-2.3", dir: TestPaths.qemuFixtures), "mc146818rtc")
        #expect(rawBytes(rtc.pointee.cmos_data) == RealStreamTests.hexBytes(qemuRTC["cmos_data"]))
        let image = try Self.ramImage(stream)
        for (block, sent) in image {
            let host = try #require(machine.blocks[block]).host
            for (offset, content) in sent {
                #expect(
                    Array(UnsafeRawBufferPointer(start: host + offset, count: 4096)) == content, "\(block) \(offset)")
            }
        }
        let saved = try machine.registry.save()
        #expect(Array(saved[8..<13]) == [0x01, 0, 0, 0, 2])  // RAM START right after the header
        #expect(Self.offsets(of: [0x7E, 0, 0, 0, 2], in: saved).isEmpty)  // no RAM footer
        let again = try Machine(
            stream: stream, analyze: try Self.analyze("pc-2.3", dir: TestPaths.qemuFixtures), skip: pc23)
        try again.registry.load(saved, options: .keepUnknown)
        #expect(try again.registry.save() == saved)
    }

    /// Kept sections follow the footer rule of the machine type a stream is saved for: the
    /// footer-less pc-i440fx-2.3 stream saved for pc-i440fx-7.2 gains a footer on every kept
    /// section (it loads back, every section checked), and saved again for pc-i440fx-2.3
    /// loses them: the original bytes. A footered stream saved for pc-i440fx-2.3 loads too.
    @Test func keptSectionsFollowTheFooterRuleOfTheMachineTypeSavedFor() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-2.3/stream.bin")
        let registry = Registry()
        try registry.load(stream, options: .keepUnknown)
        let footered = try registry.save(machineType: "pc-i440fx-7.2")
        let kept = try #require(registry.layout).count
        let reloaded = Registry()
        try reloaded.load(footered, options: .keepUnknown)
        #expect(reloaded.loadedRules?.sectionFooters == true && reloaded.layout?.count == kept)
        let analysis = try StreamAnalysis(bytes: StreamBytes(footered), options: .init(recordPages: false))
        #expect(analysis.machineType == "pc-i440fx-7.2")
        #expect(try reloaded.save(machineType: "pc-i440fx-2.3") == stream)

        let bios = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        let withFooters = Registry()
        try withFooters.load(bios, options: .keepUnknown)
        let old = try withFooters.save(machineType: "pc-i440fx-2.3")
        #expect(Array(old[8..<13]) == [0x01, 0, 0, 0, 2])  // RAM START right after the header
        let back = Registry()
        try back.load(old, options: .keepUnknown)
        #expect(back.loadedRules?.sectionFooters == false)
        #expect(try back.save(machineType: "pc-i440fx-7.2") == bios)
    }

    // MARK: - writing for a chosen QEMU version

    /// One device and one RAM block, saved for each version and machine type.
    @Test func savesFollowTheChosenVersionAndMachineType() throws {
        let registry = Registry()
        let counter = UnsafeMutablePointer<StrCounter>.allocate(capacity: 1)
        counter.initialize(to: StrCounter())
        defer { counter.deallocate() }
        counter.pointee.counter = 0x1122_3344
        try registry.add(idstr: "counter", instanceID: 0, vmsd: StreamFixtures.counter, opaque: counter)
        let ram = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { ram.deallocate() }
        ram.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
        try registry.addRAM(idstr: "pc.ram", host: ram, length: 4096)

        #expect(registry.streamVersion == .qemu7_2)
        let old = try registry.save(machineType: "pc-i440fx-10.0")
        #expect(Self.offsets(of: Self.switchoverStart, in: old).isEmpty)
        #expect(try Self.vmdescText(old).hasPrefix(#"{"page_size": 4096, "devices": ["#))

        registry.streamVersion = .qemu10_0
        let ten = try registry.save(machineType: "pc-i440fx-10.0")
        let configuration =
            #"{"configuration": {"vmsd_name": "configuration", "version": 1, "fields": [{"name": "len", "type": "uint32", "size": 4}, {"name": "name", "type": "buffer", "size": 14}]}, "page_size": 4096, "devices": ["#
        #expect(try Self.vmdescText(ten).hasPrefix(configuration))
        // header, configuration (5 + 14), RAM START (5 + 1 + 3 + 8, total, block, EOS, footer),
        // then the command and the RAM END.
        let start = 8 + 5 + 14
        let startLength = 5 + 4 + 8 + 8 + (1 + 6 + 8) + 8 + 5
        #expect(Array(ten[start..<start + 5]) == [0x01, 0, 0, 0, 1])
        #expect(Self.offsets(of: Self.switchoverStart, in: ten) == [start + startLength])
        #expect(Array(ten[start + startLength + 5..<start + startLength + 10]) == [0x03, 0, 0, 0, 1])

        let nine = try registry.save(machineType: "pc-q35-9.2")
        #expect(Self.offsets(of: Self.switchoverStart, in: nine).isEmpty)
        #expect(try Self.vmdescText(nine).hasPrefix(#"{"configuration": {"vmsd_name": "configuration""#))
        #expect(try Self.vmdescText(nine).contains(#""size": 10}]}, "page_size""#))
        #expect(Self.offsets(of: Self.switchoverStart, in: try registry.save(machineType: "tiny-emu")).count == 1)

        // pc-i440fx-2.3: QEMU 10.0 has no such machine type, and sends the configuration section
        // (and footers) for any name; for QEMU 7.2 (hw_compat_2_3) no configuration, no footers,
        // and reloaded, it saves back the same.
        let named = try registry.save(machineType: "pc-i440fx-2.3")
        #expect(Array(named[8..<13]) == [0x07, 0, 0, 0, 13])
        registry.streamVersion = .qemu7_2
        let tiny = try registry.save(machineType: "pc-i440fx-2.3")
        #expect(Array(tiny[8..<13]) == [0x01, 0, 0, 0, 1])
        #expect(Self.offsets(of: [0x7E], in: Array(tiny[8..<tiny.count - 200])).isEmpty)
        let reloaded = Registry()
        try reloaded.load(tiny, options: .keepUnknown)
        #expect(reloaded.loadedRules?.sectionFooters == false)
        #expect(try reloaded.save() == tiny)
    }

    /// The version a load detects is kept; set explicitly after the load, the other one's
    /// rules apply to the loaded stream's machine type (QEMU 7.2 refuses SWITCHOVER_START).
    @Test func loadedVersionIsKeptAndCanBeChanged() throws {
        let ten = Registry()
        try ten.load(try Self.stream("pc-bios"), options: .keepUnknown)
        #expect(ten.streamVersion == .qemu10_0)
        ten.streamVersion = .qemu7_2
        let seven = try ten.save()
        #expect(Self.offsets(of: Self.switchoverStart, in: seven).isEmpty)
        #expect(try Self.vmdescText(seven).hasPrefix(#"{"page_size": 4096, "devices": [{"name": "timer""#))
        // The same device state without the command; the vmdesc without its configuration
        // member, and the last of each array's per-element entries with its index, as QEMU 7.2
        // writes it (10.0 leaves it off; 7.2's rules took such an entry for the whole array).
        let original = try Self.stream("pc-bios")
        let command = try #require(Self.offsets(of: Self.switchoverStart, in: original).first)
        let tenEnd = try StreamAnalysis.locateVMDesc(StreamBytes(original)).markerOffset
        let sevenEnd = try StreamAnalysis.locateVMDesc(StreamBytes(seven)).markerOffset
        #expect(Array(seven[..<sevenEnd]) == Array(original[..<command] + original[(command + 5)..<tenEnd]))
        let sevenText = try Self.vmdescText(seven)
        #expect(sevenText.contains(#"{"name": "bmdma", "index": 1, "type": "struct""#))
        #expect(sevenText.contains(#"{"name": "drives", "index": 1, "type": "struct""#))
        let read = { (bytes: [UInt8]) in
            try StreamAnalysis(bytes: StreamBytes(bytes), options: .init(recordPages: true))
        }
        #expect(try StreamDiff(read(original), read(seven)).isEqual)
        // Saved back for 10.0, nothing is rewritten.
        let again = Registry()
        try again.load(original, options: .keepUnknown)
        #expect(try again.save() == original)

        let old = Registry()
        try old.load(try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin"), options: .keepUnknown)
        #expect(old.streamVersion == .qemu7_2)
        old.streamVersion = .qemu10_0
        let saved = try old.save()
        // pc-i440fx-7.2 in QEMU 10.0: the 10.0 vmdesc, but no command for a 7.2 machine type.
        #expect(Self.offsets(of: Self.switchoverStart, in: saved).isEmpty)
        #expect(try Self.vmdescText(saved).hasPrefix(#"{"configuration": {"vmsd_name": "configuration""#))
        let back = Registry()
        try back.load(saved, options: .keepUnknown)
        #expect(back.streamVersion == .qemu10_0)
        #expect(try back.save() == saved)
    }

    /// A live migration of a loaded QEMU 10.0 stream writes for QEMU 10.0 (as its save does):
    /// the 10.0 vmdesc, and SWITCHOVER_START right before the RAM END, after the passes; one of
    /// a QEMU 7.2 stream writes no command.
    @Test func liveMigrationWritesForTheRegistrysVersion() throws {
        for (dir, version) in [
            (TestPaths.qemu10Fixtures, QEMUDialect.qemu10_0), (TestPaths.qemuFixtures, .qemu7_2),
        ] {
            let stream = try TestPaths.readBytes(dir + "/pc-bios/stream.bin")
            let machine = try StreamIOTests.FixtureMachine("pc-bios", stream: stream)
            try machine.registry.load(stream, options: .keepUnknown)
            #expect(machine.registry.streamVersion == version)
            let out = LiveMigrationTests.memoryStream()
            defer { g_object_unref(out) }
            var error: UnsafeMutablePointer<GError>?
            let mig = try #require(
                vmstate_migration_start(StreamIOTests.handle(machine.registry), nil, out, &error),
                "\(LiveMigrationTests.message(error))")
            defer { vmstate_migration_free(mig) }
            #expect(vmstate_migration_iterate(mig, nil, &error))
            #expect(vmstate_migration_iterate(mig, nil, &error))
            #expect(vmstate_migration_complete(mig, &error), "\(LiveMigrationTests.message(error))")
            let bytes = LiveMigrationTests.bytes(of: out)
            let ramID: UInt32 = version == .qemu10_0 ? 1 : 2
            let commands = Self.offsets(of: Self.switchoverStart, in: bytes)
            if version == .qemu10_0 {
                // After the START and the two PARTs, right before the RAM END.
                let c = try #require(commands.first)
                #expect(commands.count == 1)
                #expect(Array(bytes[c + 5..<c + 10]) == [0x03] + be32(ramID))
                #expect(Self.offsets(of: [0x02] + be32(ramID), in: Array(bytes[..<c])).count >= 2)
                #expect(try Self.vmdescText(bytes).hasPrefix(#"{"configuration": {"vmsd_name": "configuration""#))
            } else {
                #expect(commands.isEmpty)
                #expect(try Self.vmdescText(bytes).hasPrefix(#"{"page_size": 4096, "devices": ["#))
            }
            let back = try StreamIOTests.FixtureMachine("pc-bios", stream: stream)
            try back.registry.load(bytes, options: .keepUnknown)
            #expect(back.sameRAM(as: machine))
            #expect(back.registry.streamVersion == version)
        }
    }

    @Test func cAPISetsAndReadsTheVersion() throws {
        let reg = try #require(vmstate_registry_new())
        defer { vmstate_registry_free(reg) }
        #expect(vmstate_registry_stream_version(reg) == UInt32(VMSTATE_STREAM_QEMU_7_2))
        #expect(vmstate_registry_set_stream_version(reg, UInt32(VMSTATE_STREAM_QEMU_10_0), nil))
        #expect(vmstate_registry_stream_version(reg) == 1000)
        var error: UnsafeMutablePointer<GError>?
        #expect(!vmstate_registry_set_stream_version(reg, 900, &error))
        #expect(
            String(cString: error!.pointee.message)
                == "unknown stream version; expected VMSTATE_STREAM_QEMU_7_2 (702) or VMSTATE_STREAM_QEMU_10_0 (1000), got 900 (at byte 0)"
        )
        g_error_free(error)
        #expect(vmstate_registry_stream_version(reg) == 1000)
        #expect(vmstate_registry_stream_version(nil) == 0)
    }

    @Test func machineTypeRules() {
        #expect(QEMUStreamRules.compat23MachineVersion("pc-i440fx-10.0")! == (10, 0))
        #expect(QEMUStreamRules.compat23MachineVersion("pc-q35-9.2")! == (9, 2))
        #expect(QEMUStreamRules.compat23MachineVersion("pc-1.3")! == (1, 3))
        #expect(QEMUStreamRules.compat23MachineVersion("pc") == nil)
        #expect(QEMUStreamRules.compat23MachineVersion("tiny-emu-1.0") == nil)
        // An emulator's own names that only start like QEMU's families.
        for own in ["pc-xt-1.0", "pc-at-2.0", "pseries-like-1.0", "pc-q35-x-1.0", "pc-i440fx-2.3-mine"] {
            #expect(QEMUStreamRules.compat23MachineVersion(own) == nil, "\(own)")
            #expect(QEMUStreamRules.forMachine(own, version: .qemu7_2).configuration, "\(own)")
        }
        #expect(QEMUStreamRules.compat23MachineVersion("pseries-2.3")! == (2, 3))
        let old = QEMUStreamRules.forMachine("pc-i440fx-2.3", version: .qemu7_2)
        #expect(
            old
                == QEMUStreamRules(
                    version: .qemu7_2, configuration: false, sectionFooters: false, switchoverStart: false))
        #expect(QEMUStreamRules.forMachine("pc-i440fx-2.4", version: .qemu7_2).configuration)
        #expect(QEMUStreamRules.forMachine("pc-q35-10.1", version: .qemu10_0).switchoverStart)
        #expect(!QEMUStreamRules.forMachine("pc-q35-10.0", version: .qemu7_2).switchoverStart)
        // hw_compat_9_2 is every target's: QEMU 10.0's virt-9.2 (arm), pseries-9.2 and
        // s390-ccw-virtio-9.2 send no SWITCHOVER_START; their 10.0 types and unversioned
        // names do. hw_compat_2_3's footers and configuration stay pc-only. QEMU 10.0 has no
        // machine type 2.3 or older (its oldest: pc-i440fx-2.4, pseries-3.0): a save for it
        // sends the configuration section and footers whatever the name.
        for machine in [
            "virt-9.2", "pseries-9.2", "s390-ccw-virtio-9.2", "virt-2.6", "pc-i440fx-2.3", "pseries-2.1", "pc-1.3",
        ] {
            #expect(
                QEMUStreamRules.forMachine(machine, version: .qemu10_0)
                    == QEMUStreamRules(
                        version: .qemu10_0, configuration: true, sectionFooters: true, switchoverStart: false),
                "\(machine)")
        }
        for machine in ["virt-10.0", "s390-ccw-virtio-10.1", "virt", "microvm", "none", "tiny-emu"] {
            #expect(QEMUStreamRules.forMachine(machine, version: .qemu10_0).switchoverStart, "\(machine)")
        }
        // QEMU 7.2's pseries-2.1 to 2.3 apply hw_compat_2_3 as pc-i440fx-2.3 does (their streams
        // start 51 45 56 4d 00 00 00 03 01: no configuration; no footers); pseries-2.4 does not.
        for machine in ["pseries-2.1", "pseries-2.3"] {
            #expect(
                QEMUStreamRules.forMachine(machine, version: .qemu7_2)
                    == QEMUStreamRules(
                        version: .qemu7_2, configuration: false, sectionFooters: false, switchoverStart: false),
                "\(machine)")
        }
        #expect(QEMUStreamRules.forMachine("pseries-2.4", version: .qemu7_2).sectionFooters)
        #expect(QEMUStreamRules.forMachine("board-1.0", version: .qemu7_2).configuration)
    }

    /// QEMU 10.0's live migration with capability xbzrle (Tests/Fixtures/qemu-10.0/xbzrle-live:
    /// 63,173 XBZRLE pages): loaded from a buffer and through a stream that returns 4096 bytes
    /// a read, the registry's pc.ram is the stopped source's RAM (its `pmemsave`), byte for byte.
    @Test func anXBZRLELiveMigrationLoadsIntoTheSourcesRAM() throws {
        let dir = TestPaths.qemu10Fixtures + "/xbzrle-live"
        let stream = try TestPaths.readBytes(dir + "/stream.bin")
        let expected = String(try String(contentsOfFile: dir + "/guest-ram.sha256", encoding: .utf8).prefix(64))
        let shape = try TestPaths.readBytes(TestPaths.qemu10Fixtures + "/pc-bios/stream.bin")
        for throughStream in [false, true] {
            let machine = try StreamIOTests.FixtureMachine("pc-bios", stream: shape)
            if throughStream {
                let r = StreamIOTests.loadFromStream(
                    machine.registry, stream, chunk: 4096, flags: Registry.LoadOptions.keepUnknown.rawValue)
                #expect(r.ok, "\(r.message)")
            } else {
                try machine.registry.load(stream, options: .keepUnknown)
            }
            let ram = try #require(machine.blocks.first { $0.0 == "pc.ram" })
            #expect(sha256(of: Array(UnsafeRawBufferPointer(start: ram.1, count: ram.2))) == expected)
        }
    }
}
