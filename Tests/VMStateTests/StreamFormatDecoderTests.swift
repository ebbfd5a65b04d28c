import CGLib
import Testing

@testable import VMState

/// The stream-format layer's record decoders (Sources/VMState/Stream/Format, docs/FORMAT.md
/// §10): each record type decoded, "need more data" at every truncation point naming the cut
/// field, and what differs between QEMU 7.2 and 10.0.
@Suite struct StreamFormatDecoderTests {
    /// The shortfall expected when `bytes` is cut after `k` bytes, from a table of the record's
    /// fields in order: (field, size, context and instance id after it).
    static func expectedShortfall(
        _ k: Int, _ fields: [(FormatField, Int)], context: (FormatField) -> String? = { _ in nil },
        instanceID: (FormatField) -> UInt32? = { _ in nil }
    ) -> FormatShortfall {
        var offset = 0
        for (field, size) in fields {
            if k < offset + size {
                return FormatShortfall(
                    field: field, offset: offset, size: size, context: context(field), instanceID: instanceID(field))
            }
            offset += size
        }
        preconditionFailure("cut past the record")
    }

    /// Decodes every proper prefix of `bytes` and checks each is "need more data" as `fields`
    /// say; then the whole record, which must take all of `bytes`.
    static func checkTruncations<D: StreamRecordDecoder>(
        _ decoder: D, _ bytes: [UInt8], _ fields: [(FormatField, Int)],
        context: (FormatField) -> String? = { _ in nil }, instanceID: (FormatField) -> UInt32? = { _ in nil }
    ) -> D.Record? {
        for k in 0..<bytes.count {
            guard case .needMoreData(let cut) = decoder.decode(Array(bytes[..<k])) else {
                Issue.record("a record from \(k) of \(bytes.count) bytes")
                return nil
            }
            #expect(
                cut == expectedShortfall(k, fields, context: context, instanceID: instanceID), "cut after \(k) bytes")
            #expect(cut.required > k)
        }
        guard case .record(let record, let length) = decoder.decode(bytes + [0xAA, 0xBB]) else {
            Issue.record("no record from the whole \(bytes.count) bytes")
            return nil
        }
        #expect(length == bytes.count)
        return record
    }

    @Test func header() {
        let bytes: [UInt8] = [0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3]
        let header = Self.checkTruncations(StreamHeader.Decoder(), bytes, [(.magic, 4), (.formatVersion, 4)])
        #expect(header == StreamHeader(magic: 0x5145_564d, version: 3))
        #expect(header?.isQEMU == true && header?.isSupportedVersion == true)
        // Version 2: decoded, not supported.
        guard case .record(let v2, 8) = StreamHeader.Decoder().decode([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 2]) else {
            Issue.record("no version 2 header")
            return
        }
        #expect(v2.version == 2 && !v2.isSupportedVersion)
        // Another magic: the decoder stops after it (4 bytes of anything else are no cut header).
        guard case .record(let other, 4) = StreamHeader.Decoder().decode(Array("%PDF".utf8)) else {
            Issue.record("no record for another magic")
            return
        }
        #expect(other == StreamHeader(magic: 0x2550_4446, version: nil))
    }

    @Test func sectionHeader() {
        let bytes: [UInt8] = [0, 0, 0, 2, 3] + Array("ram".utf8) + [0, 0, 0, 1, 0, 0, 0, 4]
        let header = Self.checkTruncations(
            SectionHeader.Decoder(), bytes,
            [(.sectionID, 4), (.idstrLength, 1), (.idstr, 3), (.instanceID, 4), (.versionID, 4)],
            context: { $0 == .instanceID || $0 == .versionID ? "ram" : nil },
            instanceID: { $0 == .versionID ? 1 : nil })
        #expect(header == SectionHeader(sectionID: 2, idstr: Array("ram".utf8), instanceID: 1, versionID: 4))
        #expect(header?.name == "ram")
        // An empty idstr.
        guard case .record(let empty, 13) = SectionHeader.Decoder().decode([0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        else {
            Issue.record("no record with an empty idstr")
            return
        }
        #expect(empty.name == "" && empty.sectionID == 9 && empty.versionID == 1)
    }

    @Test func sectionPartHeader() {
        let part = Self.checkTruncations(SectionPartHeader.Decoder(), [0, 0, 1, 0], [(.sectionID, 4)])
        #expect(part == SectionPartHeader(sectionID: 256))
    }

    @Test func footer() {
        let footer = Self.checkTruncations(
            SectionFooter.Decoder(), [0x7e, 0, 0, 0, 5], [(.footerMarker, 1), (.footerSectionID, 4)])
        #expect(footer == SectionFooter(marker: 0x7e, sectionID: 5))
        #expect(footer?.closes(5) == true && footer?.closes(4) == false)
        // Another marker byte: decoded, not a footer.
        guard case .record(let other, 5) = SectionFooter.Decoder().decode([0x01, 0, 0, 0, 5]) else {
            Issue.record("no record")
            return
        }
        #expect(!other.isFooter && !other.closes(5))
        // After the marker (the analyzer reads 0x7e as a record type).
        let bare = Self.checkTruncations(
            SectionFooter.Decoder(includesMarker: false), [0, 0, 0, 7], [(.footerSectionID, 4)])
        #expect(bare == SectionFooter(marker: 0x7e, sectionID: 7))
    }

    @Test func command() {
        let record = Self.checkTruncations(
            CommandRecord.Decoder(), [0x00, 0x0b, 0x00, 0x00], [(.commandNumber, 2), (.commandLength, 2)])
        #expect(record == CommandRecord(command: 11, length: 0))
        guard case .record(let other, 4) = CommandRecord.Decoder().decode([0x00, 0x02, 0x01, 0x00]) else {
            Issue.record("no record")
            return
        }
        #expect(other == CommandRecord(command: 2, length: 256))
    }

    /// The command table per version: QEMU 7.2 writes and accepts none; QEMU 10.0 writes
    /// SWITCHOVER_START (11) for 10.0 machine types; the analyzer's rules use the same table.
    @Test func commandTablePerVersion() {
        #expect(QEMUStreamRules.commands(.qemu7_2).isEmpty)
        #expect(QEMUStreamRules.commands(.qemu10_0) == [11: "SWITCHOVER_START"])
        #expect(StreamRules.qemu72.commands == QEMUStreamRules.commands(.qemu7_2))
        #expect(StreamRules.qemu100.commands == QEMUStreamRules.commands(.qemu10_0))
        #expect(QEMUStreamRules.loadableCommands == [11: "SWITCHOVER_START"])
        #expect(QEMUStreamRules.forMachine("pc-i440fx-10.0", version: .qemu10_0).switchoverStart)
        #expect(!QEMUStreamRules.forMachine("pc-i440fx-9.2", version: .qemu10_0).switchoverStart)
        #expect(!QEMUStreamRules.forMachine("pc-i440fx-10.0", version: .qemu7_2).switchoverStart)
    }

    @Test func configuration() {
        let bytes: [UInt8] = [0, 0, 0, 6] + Array("pc-q35".utf8)
        let header = Self.checkTruncations(
            ConfigurationHeader.Decoder(), bytes, [(.machineTypeLength, 4), (.machineType, 6)])
        #expect(header.map { String(decoding: $0.machineType, as: UTF8.self) } == "pc-q35")
        let length = Self.checkTruncations(
            ConfigurationHeader.LengthDecoder(), [0, 0, 1, 0], [(.machineTypeLength, 4)])
        #expect(length == 256)
    }

    @Test func configurationSubsections() {
        let name = "configuration/capabilities"
        let bytes: [UInt8] = [0x05, UInt8(name.utf8.count)] + Array(name.utf8) + [0, 0, 0, 1]
        let header = Self.checkTruncations(
            ConfigurationSubsectionHeader.Decoder(), bytes,
            [
                (.subsectionMarker, 1), (.subsectionNameLength, 1), (.subsectionName, name.utf8.count),
                (.subsectionVersion, 4),
            ],
            context: { $0 == .subsectionVersion ? name : nil })
        #expect(header == ConfigurationSubsectionHeader(marker: 0x05, name: name, version: 1))
        // Without the version (the registry's peek).
        guard
            case .record(let peeked, let n) = ConfigurationSubsectionHeader.Decoder(withVersion: false).decode(bytes)
        else {
            Issue.record("no record")
            return
        }
        #expect(n == 2 + name.utf8.count && peeked.version == nil && peeked.name == name)
        // Not a subsection: one byte, nothing more read.
        guard case .record(let other, 1) = ConfigurationSubsectionHeader.Decoder().decode([0x04]) else {
            Issue.record("no record")
            return
        }
        #expect(!other.isSubsection)
        // The subsections QEMU 7.2 to 10.0 write, with their data layouts.
        #expect(ConfigurationSubsection(name: "configuration/target-page-bits") == .targetPageBits)
        #expect(ConfigurationSubsection(name: "configuration/uuid")?.fixedSize == 16)
        #expect(ConfigurationSubsection(name: "configuration/target-page-bits")?.fixedSize == 4)
        #expect(ConfigurationSubsection(name: name) == .capabilities)
        #expect(ConfigurationSubsection(name: name)?.fixedSize == nil)
        #expect(ConfigurationSubsection(name: "configuration/other") == nil)
        let count = Self.checkTruncations(
            ConfigurationSubsection.CountDecoder(), [0, 0, 0, 2], [(.capabilityCount, 4)])
        #expect(count == 2)
        let capability = Self.checkTruncations(
            ConfigurationSubsection.CapabilityDecoder(), [15] + Array("x-ignore-shared".utf8),
            [(.capabilityNameLength, 1), (.capabilityName, 15)])
        #expect(capability == "x-ignore-shared")
    }

    /// The capabilities a configuration section may list: QEMU 7.2 validates x-ignore-shared,
    /// 10.0 also mapped-ram (9.0+), in QAPI order.
    @Test func capabilitiesPerVersion() {
        #expect(QEMUStreamRules.validatedCapabilities(.qemu7_2) == ["x-ignore-shared"])
        #expect(QEMUStreamRules.validatedCapabilities(.qemu10_0) == ["x-ignore-shared", "mapped-ram"])
    }

    @Test func xbzrleHeader() {
        let header = Self.checkTruncations(
            XBZRLEHeader.Decoder(), [0x01, 0x10, 0x00], [(.xbzrleEncoding, 1), (.xbzrleLength, 2)])
        #expect(header == XBZRLEHeader(encoding: 1, length: 4096))
    }

    /// QEMU's `xbzrle_decode_buffer` rules: runs of (unchanged count, changed count, changed
    /// bytes), counts of one or two ULEB128 bytes, two bytes left before each count, no empty
    /// run but a first unchanged one, nothing past the page or the delta.
    @Test func xbzrleDeltas() {
        func applied(_ delta: [UInt8], pageSize: Int = 8) -> [UInt8]? {
            var page = [UInt8](repeating: 0xEE, count: pageSize)
            let ok = delta.withUnsafeBytes { d in page.withUnsafeMutableBytes { XBZRLEDelta.apply(d, to: $0) } }
            let valid = delta.withUnsafeBytes { XBZRLEDelta.isValid($0, pageSize: pageSize) }
            #expect(ok == valid)
            if !ok { #expect(page == [UInt8](repeating: 0xEE, count: pageSize)) }  // untouched
            return ok ? page : nil
        }
        let e: UInt8 = 0xEE
        #expect(applied([]) == [e, e, e, e, e, e, e, e])
        #expect(applied([0x00, 0x02, 1, 2]) == [1, 2, e, e, e, e, e, e])
        #expect(applied([0x06, 0x02, 1, 2]) == [e, e, e, e, e, e, 1, 2])
        #expect(applied([0x01, 0x01, 1, 0x02, 0x01, 2]) == [e, 1, e, e, 2, e, e, e])
        // A two-byte count: 0x81 0x01 is 129.
        #expect(applied([0x81, 0x01, 0x01, 7], pageSize: 200)?[129] == 7)
        #expect(applied([0x00]) == nil)  // a count with fewer than two bytes left
        #expect(applied([0x00, 0x01]) == nil)  // the changed count with one byte left
        #expect(applied([0x00, 0x00, 1]) == nil)  // an empty changed run
        #expect(applied([0x00, 0x01, 1, 0x00, 0x01, 2]) == nil)  // an empty unchanged run after the first
        #expect(applied([0x80, 0x80, 0x01, 1]) == nil)  // a count of three bytes
        #expect(applied([0x09, 0x01, 1]) == nil)  // past the page
        #expect(applied([0x07, 0x02, 1, 2]) == nil)  // the changed run past the page
        #expect(applied([0x00, 0x03, 1, 2]) == nil)  // the changed run past the delta
    }

    @Test func ramWord() {
        let word = Self.checkTruncations(
            RAMRecordWord.Decoder(), [0, 0, 0, 0, 0, 0, 0x10, 0x28], [(.ramWord, 8)])
        #expect(word?.address == 0x1000 && word?.flags == 0x28 && word?.word == 0x1028)
        #expect(word?.namesBlock == false)  // CONTINUE
        #expect(RAMRecordWord(word: 0x2008).namesBlock)  // PAGE without CONTINUE
        #expect(RAMRecordWord(word: 0x2002).namesBlock)  // ZERO without CONTINUE
        #expect(RAMRecordWord(word: 0x2040).namesBlock)  // XBZRLE without CONTINUE
        #expect(!RAMRecordWord(word: 0x2060).namesBlock)  // XBZRLE with CONTINUE
        #expect(!RAMRecordWord(word: 0x10).namesBlock)  // EOS
        // MEM_SIZE: the address is the total size.
        let memSize = RAMRecordWord(word: 0x0100_0004)
        #expect(memSize.address == 0x0100_0000 && memSize.flags == StreamFormat.RAMFlag.memSize)
        // Another page size splits at its own bits.
        #expect(RAMRecordWord(word: 0x1_0208, pageSize: 65536).flags == 0x208)
        let name = Self.checkTruncations(
            RAMRecordWord.BlockNameDecoder(), [6] + Array("pc.ram".utf8), [(.blockNameLength, 1), (.blockName, 6)])
        #expect(name?.name == "pc.ram" && name?.isUTF8 == true)
    }

    /// Flags the registry loads (XBZRLE and compressed pages among them), and those it refuses (MULTIFD_FLUSH,
    /// which QEMU 8.1.0–8.1.2 write bare, is refused by the registry and skipped by the
    /// analyzer).
    @Test func ramFlagRules() {
        #expect(RAMFlagRules.unloadable(0x7e) == 0)
        #expect(RAMFlagRules.unloadable(0x200 | 0x10) == 0x200)
        #expect(RAMFlagRules.unloadable(0x40 | 0x80 | 0x100) == 0x80)
        #expect(RAMFlagRules.isOneKind(0x40) && RAMFlagRules.isOneKind(0x60))
        #expect(RAMFlagRules.isOneKind(0x100) && RAMFlagRules.isOneKind(0x120))
        #expect(!RAMFlagRules.isOneKind(0x48) && !RAMFlagRules.isOneKind(0x108))
    }

    static let blockEntry: [UInt8] = [6] + Array("pc.ram".utf8) + [0, 0, 0, 0, 0, 0x10, 0, 0]

    @Test func ramBlockEntry() {
        let entry = Self.checkTruncations(
            RAMBlockEntry.Decoder(ignoreShared: false), Self.blockEntry,
            [(.blockNameLength, 1), (.blockName, 6), (.blockLength, 8)],
            context: { $0 == .blockLength ? "pc.ram" : nil })
        #expect(entry == RAMBlockEntry(name: "pc.ram", length: 0x10_0000))
    }

    /// With x-ignore-shared (QEMU 7.2 and 10.0 alike) each block's length is followed by its
    /// be64 guest address: the one layout both readers use.
    @Test func ramBlockEntryWithIgnoreShared() {
        let bytes = Self.blockEntry + [0, 0, 0, 1, 0, 0, 0, 0]
        let entry = Self.checkTruncations(
            RAMBlockEntry.Decoder(capabilities: ["x-ignore-shared"]), bytes,
            [(.blockNameLength, 1), (.blockName, 6), (.blockLength, 8), (.blockAddress, 8)],
            context: { $0 == .blockLength || $0 == .blockAddress ? "pc.ram" : nil })
        #expect(entry == RAMBlockEntry(name: "pc.ram", length: 0x10_0000, address: 0x1_0000_0000))
    }

    /// With mapped-ram (QEMU 9.0+, 10.0's capability list) each block carries the mapped-ram
    /// header: be32 version, be64 page size, be64 bitmap offset, be64 pages offset.
    @Test func ramBlockEntryWithMappedRAM() {
        let header: [UInt8] =
            [0, 0, 0, 1] + [0, 0, 0, 0, 0, 0, 0x10, 0] + [0, 0, 0, 0, 0, 0, 0x20, 0]
            + [0, 0, 0, 0, 0, 0x10, 0, 0]
        let bytes = Self.blockEntry + header
        let entry = Self.checkTruncations(
            RAMBlockEntry.Decoder(capabilities: ["mapped-ram"]), bytes,
            [
                (.blockNameLength, 1), (.blockName, 6), (.blockLength, 8), (.mappedRAMVersion, 4),
                (.mappedRAMPageSize, 8), (.mappedRAMBitmapOffset, 8), (.mappedRAMPagesOffset, 8),
            ], context: { [.blockNameLength, .blockName].contains($0) ? nil : "pc.ram" })
        let expected = MappedRAMHeader(version: 1, pageSize: 4096, bitmapOffset: 0x2000, pagesOffset: 0x10_0000)
        #expect(entry == RAMBlockEntry(name: "pc.ram", length: 0x10_0000, mappedRAM: expected))
        let alone = Self.checkTruncations(
            MappedRAMHeader.Decoder(), header,
            [(.mappedRAMVersion, 4), (.mappedRAMPageSize, 8), (.mappedRAMBitmapOffset, 8), (.mappedRAMPagesOffset, 8)])
        #expect(alone == expected && header.count == MappedRAMHeader.size)
    }

    @Test func vmdescLocation() {
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        let stream: [UInt8] = [0x00, 0x06, 0, 0, 0, UInt8(json.count)] + json
        let found = stream.withUnsafeBytes { VMDescRecord.locateAtEnd($0) }
        #expect(found == VMDescRecord(markerOffset: 1, jsonLength: json.count))
        #expect(found?.jsonOffset == 6)
        // A length that does not reach the end: none.
        let cut = Array(stream.dropLast())
        #expect(cut.withUnsafeBytes { VMDescRecord.locateAtEnd($0) } == nil)
        // Below `lowest` is not searched.
        #expect(stream.withUnsafeBytes { VMDescRecord.locateAtEnd($0, lowest: 2) } == nil)
    }

    /// A vmdesc cut short: its marker and length, also when the length holds 0x00 0x06 (a vmdesc
    /// of 0x693 bytes, as a real stream's), which read as a marker gives a length of JSON text.
    @Test func cutVMDescLocation() {
        let stream: [UInt8] = [0x7E, 0, 0, 0, 1, 0x00, 0x06, 0, 0, 0x06, 0x93] + Array(#"{"page_size""#.utf8)
        for end in 11...stream.count {
            let found = Array(stream.prefix(end)).withUnsafeBytes { VMDescRecord.locateCut($0) }
            #expect(found?.markerOffset == 6 && found?.jsonLength == 0x693, "cut at \(end)")
        }
        let inLength = Array(stream.prefix(9)).withUnsafeBytes { VMDescRecord.locateCut($0) }
        #expect(inLength?.markerOffset == 6 && inLength?.jsonLength == nil)
    }

    /// The registry's driver (MigrationFile.decode): a record is consumed; a cut one moves the
    /// cursor to the end with -EIO, as a failed read of the cut field does.
    @Test func migrationFileDriver() {
        let bytes: [UInt8] = [0, 0, 0, 2, 3] + Array("ram".utf8) + [0, 0, 0, 0, 0, 0, 0, 4, 0x7e]
        let input = gbytes(bytes)
        defer { g_bytes_unref(input) }
        let file = MigrationFile(input: input)
        guard case .success(let header) = file.decode(SectionHeader.Decoder()) else {
            Issue.record("no section header")
            return
        }
        #expect(header.name == "ram" && header.versionID == 4)
        #expect(file.position == 16 && file.errorCode == 0)
        guard case .failure(let cut) = file.decode(SectionFooter.Decoder()) else {
            Issue.record("a footer from one byte")
            return
        }
        #expect(cut == FormatShortfall(field: .footerSectionID, offset: 1, size: 4))
        #expect(file.position == bytes.count && file.errorCode == -5)
    }
}
