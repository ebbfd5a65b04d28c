import VMState
// Reads a whole QEMU migration stream (format version 3; QEMU 7.2 to 10.0) with the device
// description (vmdesc) it carries, the way QEMU 10.0's scripts/analyze-migration.py does, but from
// a memory map, without per-byte work on RAM pages, and with errors that say where and what was
// expected. What differs between QEMU versions is in `StreamRules`.

/// A migration stream read section by section.
public struct StreamAnalysis: Sendable {
    /// How to read a stream.
    public struct Options {
        /// Keep every RAM page record in `RAMSection.pages` (`--memory` output and RAM diffs do
        /// not need them: they read the pages again, in bounded memory).
        public var recordPages: Bool
        /// Use this device description instead of the one at the end of the stream (for
        /// streams that were cut short or written without one).
        package var vmdesc: JSONValue?
        /// Called now and then with the offset reached, while reading large streams.
        public var progress: ((Int) -> Void)?
        /// Keep every device section's fields in its `.device` record. Without, each device
        /// section is read whole (to check it and find where it ends), then only where its data
        /// starts is kept (``StreamAnalysis/unkeptDeviceSections``, its record left without
        /// members) and ``StreamAnalysis/writeState(to:memory:progress:memorySortChunk:)`` reads
        /// it again as it prints it: the memory taken by device state is then one section's,
        /// whatever the number of sections (a QEMU machine saves a CPU section of 5 to 10 KB per
        /// vCPU, held as about 40 KB of values).
        package var keepDeviceFields: Bool
        /// Read a device section of a QEMU 7.2 stream that does not read as its vmdesc says
        /// again, taking the NULL marker 0x30 where an element of an array of structs that the
        /// vmdesc describes by its first entry (`"array_len"`) starts as a NULL entry of an
        /// array of pointers (`VMS_ARRAY_OF_POINTER`: QEMU 7.2 writes that byte for a NULL
        /// pointer, and describes such an array by its first entry alone, s390's `css`). Taken
        /// only when that reading ends at the section's footer; the entries so read are in
        /// ``qemu72NullEntries``, marked when the section reads to its footer another way too
        /// (`QEMU72NullEntries.readings`).
        package var readsQEMU72NullEntries = false

        package init(
            recordPages: Bool = true, vmdesc: JSONValue? = nil, progress: ((Int) -> Void)? = nil,
            keepDeviceFields: Bool = true
        ) {
            self.recordPages = recordPages
            self.vmdesc = vmdesc
            self.progress = progress
            self.keepDeviceFields = keepDeviceFields
        }
    }

    /// The stream's first four bytes, big-endian: "QEVM" (docs/FORMAT.md §5).
    public static let magic: UInt32 = StreamFormat.magic
    /// The format version this reader understands (QEMU 7.2 writes 3).
    public static let formatVersion: UInt32 = StreamFormat.version

    /// The stream's bytes (kept so page contents can be read later).
    public let bytes: StreamBytes
    /// The device description as written (duplicate keys kept).
    package let vmdesc: JSONValue
    /// Where the vmdesc sits in the stream; nil when it was supplied through `Options.vmdesc`.
    public let vmdescLocation: VMDescLocation?
    /// Target page size from the vmdesc.
    public let pageSize: Int
    /// Machine type from the configuration section, when present (the last one read, as
    /// QEMU's analyze-migration.py takes it).
    public var machineType: String?
    /// The byte offsets of the configuration sections read: QEMU writes one, right after the
    /// header (byte 8), and its loader refuses one anywhere else ("Unknown savevm section type
    /// 7"), which the script reads as the first.
    public var configurationOffsets: [Int] = []
    /// Whether the stream has a configuration section (byte 0x07 after the header), also when
    /// its machine type could not be read (a stream cut short or corrupt there).
    public var hasConfiguration = false
    /// Capabilities listed in the configuration section (usually none; QEMU sends only the
    /// ones it validates: `x-ignore-shared`, and since QEMU 9.0 `mapped-ram`).
    public var capabilities: [String] = []
    /// The VM UUID (16 bytes) of the configuration's `configuration/uuid` subsection, which QEMU
    /// sends with the capability `validate-uuid` (a destination started with another `-uuid`
    /// refuses the stream); nil when the stream has none.
    public var uuid: [UInt8]?
    /// The target page size's bits of the configuration's `configuration/target-page-bits`
    /// subsection, which QEMU sends when its target's page size is above the target's minimum
    /// (ARM: 4 KiB pages, minimum 1 KiB); nil when the stream has none. A destination whose
    /// page size is above its minimum refuses a stream without it ("Received TARGET_PAGE_BITS
    /// is 10 but local is 12").
    public var targetPageBits: Int?
    /// ``uuid`` as QEMU prints a UUID (`6ba7b810-9dad-11d1-80b4-00c04fd430c8`).
    public var uuidString: String? {
        guard let uuid, uuid.count == 16 else { return nil }
        let hex = uuid.map { analysisHex(UInt64($0), width: 2) }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }
    /// How many section footers (0x7E and the section id) the stream has. QEMU writes one after
    /// every section unless the machine type is 2.3 or older (no configuration section either)
    /// or it runs with `-global migration.send-section-footer=off`; a destination that expects
    /// footers refuses a stream without them ("Missing section footer for ram"), and one that
    /// does not reads a footer's 0x7E as a section type ("Unknown savevm section type 126").
    public var sectionFooters = 0
    /// Whether the stream has sections and no section footers.
    public var lacksFooters: Bool { sectionFooters == 0 && !sections.isEmpty }
    /// Whether the stream leaves out the section footers although it has a configuration
    /// section: it was saved with `-global migration.send-section-footer=off`.
    public var footersTurnedOff: Bool { machineType != nil && lacksFooters }
    /// The QEMU versions whose rules the stream was read by (from its vmdesc).
    package var rules: StreamRules = .qemu72
    /// Whether the vmdesc describes the configuration section (a `"configuration"` object:
    /// QEMU 8.2 and later; QEMU 7.2 to 8.1 write none).
    public var vmdescDescribesConfiguration: Bool { rules.configurationFromVMDesc }
    /// Whether the stream has the command record MIG_CMD_SWITCHOVER_START (0x0b), which QEMU
    /// 10.0 sends for machine types 10.0 and later and unversioned ones (`send-switchover-start`)
    /// and QEMU before 10.0 refuses ("MIG_CMD 0xb unknown (len 0x0)").
    public var hasSwitchoverStart = false
    /// Sections in order of first appearance.
    public var sections: [AnalyzedSection] = []
    /// The device sections whose fields were not kept (`Options.keepDeviceFields` false), by
    /// their index in ``sections``: ``deviceRecord(at:reader:)`` reads them again.
    package var unkeptDeviceSections: [Int: UnkeptDeviceSection] = [:]
    /// Offset of the EOF byte (0x00) that ends the sections.
    public var endOffset: Int = 0

    /// The NULL entries of one array of pointers of a QEMU 7.2 stream, read with
    /// `Options.readsQEMU72NullEntries`.
    package struct QEMU72NullEntries: Sendable, Equatable {
        /// The section's idstr and instance id.
        package var section: String
        package var instance: UInt32
        /// The field, as a path through structs and subsections from the section's
        /// description (`css`; `a[1]/b` inside an array of structs).
        package var field: String
        /// The array's length as the vmdesc gives it (`"array_len"`) and the indices of its
        /// NULL entries, ascending.
        package var length: Int
        package var indices: [Int]
        /// Whether the section reads to its footer with these NULL entries only: `.several`
        /// when it reads so another way too (an element that is not NULL may start with 0x30),
        /// `.uncounted` when the search for another way stopped at its bound
        /// (`QEMU72NullReadings`). Then the stream does not tell its NULL entries: QEMU loads
        /// either way, by its own pointers.
        package var readings: Readings = .one
        package typealias Readings = QEMU72NullReadings.Count

        package init(
            section: String, instance: UInt32, field: String, length: Int, indices: [Int], readings: Readings = .one
        ) {
            (self.section, self.instance, self.field, self.length, self.indices, self.readings) = (
                section, instance, field, length, indices, readings
            )
        }
    }
    /// The NULL entries of arrays of pointers read with `Options.readsQEMU72NullEntries`, in
    /// stream order; empty when every section read as its vmdesc says.
    package var qemu72NullEntries: [QEMU72NullEntries] = []

    /// Reads the stream in `path`. Throws `StreamFileError` when the file cannot be read, else
    /// `StreamAnalysisError` (both ``AnalysisInputError``s).
    package init(path: String, options: Options = Options()) throws {
        try self.init(bytes: StreamBytes(contentsOfFile: path), options: options)
    }

    /// Reads a stream. Throws `StreamAnalysisError` when it is not a readable QEMU stream.
    package init(bytes: StreamBytes, options: Options = Options()) throws(StreamAnalysisError) {
        var failure: StreamAnalysisError?
        try self.init(readingAsFarAsPossible: bytes, options: options, failure: &failure)
        if let failure { throw failure }
    }

    /// Reads a stream as far as it goes, for a view of a stream that fails part way (a stream
    /// cut short, read with `options.vmdesc`): the sections read whole before the failure, the
    /// RAM read so far, and the failure in `failure` (nil when the whole stream was read; then
    /// this is ``init(bytes:options:)``). Throws, as that does, when the header or the vmdesc
    /// cannot be read: there is nothing to show then.
    package init(
        readingAsFarAsPossible bytes: StreamBytes, options: Options = Options(), failure: inout StreamAnalysisError?
    ) throws(StreamAnalysisError) {
        self.bytes = bytes
        do throws(StreamAnalysisError) {
            try StreamAnalysis.checkHeader(bytes)
        } catch {
            throw error.noting(changeOf: bytes)
        }
        // Made before the vmdesc is read, so that a large file's first windows are mapped
        // (by the prefetcher's thread) while this thread parses the vmdesc.
        let window = bytes.makeWindow(prefetching: true)
        let json: JSONValue
        if let given = options.vmdesc {
            json = given
            vmdescLocation = nil
        } else {
            do throws(StreamAnalysisError) {
                (json, vmdescLocation) = try StreamAnalysis.readVMDesc(bytes)
            } catch {
                throw error.noting(changeOf: bytes)
            }
        }
        vmdesc = json
        let catalog = try ParsedVMDescCatalog(json: json, jsonOffset: vmdescLocation?.jsonOffset ?? 0)
        pageSize = catalog.pageSize
        rules = catalog.rules
        var reader = SectionReader(
            bytes: bytes, window: window, catalog: catalog, options: options,
            vmdescMarkerOffset: vmdescLocation?.markerOffset)
        do {
            try withExtendedLifetime(bytes) { () throws(StreamAnalysisError) in try reader.run(into: &self) }
            failure = nil
        } catch {
            failure = error.noting(changeOf: bytes)
            if options.vmdesc != nil { failure = failure?.notingGivenVMDesc() }
            failure?.unreadNullEntries = reader.unreadNullEntries
        }
    }

    /// Reads the stream again from the start, calling `visit` for every RAM page record as it
    /// is read, in stream order (the analysis keeps no page records for this: memory stays
    /// bounded whatever the stream's size). `visit` gets the page's bytes for a data page of a
    /// sequential stream and the delta's bytes for an XBZRLE page, valid only during the call
    /// (nil for fill pages and mapped-ram pages: read those at their offset). `progress`
    /// receives the offset reached now and then.
    /// Throws `StreamAnalysisError` when the stream no longer reads as it did.
    package func scanPages(
        progress: ((Int) -> Void)? = nil, _ visit: (RAMPageRecord, UnsafeRawBufferPointer?) -> Void
    ) throws(StreamAnalysisError) {
        let catalog = try ParsedVMDescCatalog(json: vmdesc, jsonOffset: vmdescLocation?.jsonOffset ?? 0)
        var scratch = StreamAnalysis(scanning: self)
        try withoutActuallyEscaping(visit) { (visit) throws(StreamAnalysisError) in
            var reader = SectionReader(
                bytes: bytes, window: bytes.makeWindow(prefetching: true), catalog: catalog,
                options: Options(recordPages: false, progress: progress, keepDeviceFields: false),
                vmdescMarkerOffset: vmdescLocation?.markerOffset)
            reader.pageVisitor = visit
            do throws(StreamAnalysisError) {
                try withExtendedLifetime(bytes) { () throws(StreamAnalysisError) in try reader.run(into: &scratch) }
            } catch {
                throw error.noting(changeOf: bytes)
            }
        }
    }

    /// Reads device sections again (those of ``unkeptDeviceSections``), one at a time; made
    /// once for all of them (``deviceRecord(at:reader:)``).
    package struct DeviceSectionRereader {
        fileprivate let catalog: ParsedVMDescCatalog
        fileprivate let window: StreamWindow
    }

    /// What reads ``unkeptDeviceSections`` again; nil when every section kept its fields.
    package func makeDeviceSectionRereader() throws(StreamAnalysisError) -> DeviceSectionRereader? {
        guard !unkeptDeviceSections.isEmpty else { return nil }
        return DeviceSectionRereader(
            catalog: try ParsedVMDescCatalog(json: vmdesc, jsonOffset: vmdescLocation?.jsonOffset ?? 0),
            window: bytes.makeWindow())
    }

    /// The fields of the device section at `index` of ``sections``: the record it holds, or,
    /// for a section read without keeping them, the record read again from the stream by
    /// `reader` (``makeDeviceSectionRereader()``; nil only when there is no such section); nil
    /// for a section that is not a device's. Throws `StreamAnalysisError` when the stream no
    /// longer reads as it did the first time (another program rewrote the file meanwhile).
    package func deviceRecord(at index: Int, reader: DeviceSectionRereader?) throws(StreamAnalysisError)
        -> FieldRecord?
    {
        let section = sections[index]
        guard case .device(let record) = section.content else { return nil }
        guard let unkept = unkeptDeviceSections[index], let reader else { return record }
        var sectionReader = SectionReader(
            bytes: bytes, window: reader.window, catalog: reader.catalog, options: Options(recordPages: false),
            vmdescMarkerOffset: vmdescLocation?.markerOffset)
        sectionReader.pos = unkept.dataOffset
        sectionReader.readsNullMarkers = unkept.readsNullMarkers
        sectionReader.sectionLabel = SectionReader.label(section.name, section.sectionID, section.instanceID)
        do throws(StreamAnalysisError) {
            let again = try withExtendedLifetime(bytes) { () throws(StreamAnalysisError) in
                try sectionReader.readStruct(unkept.description, version: unkept.description.version)
            }
            guard sectionReader.pos == section.endOffset else {
                throw sectionReader.error(
                    "read again, the section's data ends at offset \(sectionReader.pos), not at offset \(section.endOffset) as the first time: the stream changed while it was read"
                )
            }
            return again
        } catch {
            throw error.noting(changeOf: bytes)
        }
    }

    /// An empty analysis of the same stream, to run a second pass into.
    private init(scanning other: StreamAnalysis) {
        bytes = other.bytes
        vmdesc = other.vmdesc
        vmdescLocation = other.vmdescLocation
        pageSize = other.pageSize
        rules = other.rules
    }

    /// The machine type a stream was saved with: the name in its configuration section, right
    /// after the header (byte 0x07, be32 length, the name; QEMU `send-configuration`), or nil
    /// when the stream has none (machine types up to 2.3, and Xen). A QEMU destination refuses
    /// a stream whose name is not a prefix of its own machine type (`strncmp` over the
    /// received length: "Machine type received is ..."), and one without a configuration
    /// section when its own machine type sends one ("Configuration section missing").
    public static func configurationMachineType(_ bytes: StreamBytes) throws(StreamAnalysisError) -> String? {
        try checkHeader(bytes)
        let window = bytes.makeWindow()
        return try withExtendedLifetime(window) { () throws(StreamAnalysisError) -> String? in
            let buf = window.map(at: 8, minCount: 5)
            guard bytes.count > 8, buf.count > 8 else {
                throw StreamAnalysisError(
                    offset: 8, message: "expected a section type byte after the header, but the stream ends there")
            }
            guard buf[8] == configurationMarker else { return nil }
            guard buf.count >= 13 else {
                throw StreamAnalysisError(
                    offset: 9, section: "configuration",
                    message:
                        "expected the length of the machine type name (4 bytes), but the stream ends after \(bytes.count - 9) more byte\(bytes.count - 9 == 1 ? "" : "s")"
                )
            }
            let length = Int(analysisLoadBE32(buf, 9))
            guard bytes.count - 13 >= length else {
                throw StreamAnalysisError(
                    offset: 13, section: "configuration",
                    message:
                        "expected the machine type name (\(length) bytes), but the stream ends after \(bytes.count - 13) more byte\(bytes.count - 13 == 1 ? "" : "s")"
                )
            }
            guard length <= 4096 else {
                throw StreamAnalysisError(
                    offset: 9, section: "configuration",
                    message: "a machine type name of \(length) bytes (QEMU's are a few dozen): the stream is corrupt")
            }
            let name = window.map(at: 13, minCount: length)
            guard name.count >= 13 + length else {
                throw StreamAnalysisError(
                    offset: 13, message: bytes.mapFailure("cannot map the start of \(bytes.origin) into memory"))
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: name[13..<(13 + length)]), as: UTF8.self)
        }
    }

    /// The end of the errors for a stream without a (whole) vmdesc: what `analyze` and `diff`
    /// can be given instead.
    package static let vmdescHint = "(pass a description with --vmdesc)"

    /// Checks the magic and version at the start of a stream.
    public static func checkHeader(_ bytes: StreamBytes) throws(StreamAnalysisError) {
        let window = bytes.makeWindow()
        let buf = window.map(at: 0, minCount: 8)
        try typedThrows(StreamAnalysisError.self) {
            try withExtendedLifetime(window) {
                guard bytes.count >= 8 else {
                    throw StreamAnalysisError(
                        offset: bytes.count,
                        message:
                            "expected the 8-byte stream header (magic \"QEVM\", version 3), but the file has only \(bytes.count) bytes"
                    )
                }
                guard buf.count >= 8 else {
                    throw StreamAnalysisError(
                        offset: 0, message: bytes.mapFailure("cannot map the start of \(bytes.origin) into memory"))
                }
                guard
                    case .record(let header, _) = StreamHeader.Decoder().decode(
                        UnsafeRawBufferPointer(rebasing: buf[0..<8]))
                else { preconditionFailure("8 bytes hold a stream header") }
                let magic = header.magic
                guard let version = header.version else {
                    throw StreamAnalysisError(
                        offset: 0,
                        message:
                            "expected the stream magic 0x5145564d (\"QEVM\"), found 0x\(analysisHex(UInt64(magic), width: 8)): not a QEMU migration stream"
                    )
                }
                guard header.isSupportedVersion else {
                    throw StreamAnalysisError(offset: 4, message: "expected stream format version 3, found \(version)")
                }
            }
        }
    }

    /// Checks that `json`, a vmdesc given apart from its stream (`--vmdesc FILE`), has a vmdesc's
    /// shape where a stream's reading starts (its `page_size`, each device's name, instance id and
    /// version), with the messages a stream's own vmdesc gets but for its offset in the stream.
    package static func checkVMDesc(_ json: JSONValue) throws(StreamAnalysisError) {
        _ = try ParsedVMDescCatalog(json: json, jsonOffset: nil)
    }

    /// Finds and parses the vmdesc at the end of a stream (after the header check).
    package static func readVMDesc(_ bytes: StreamBytes) throws(StreamAnalysisError) -> (JSONValue, VMDescLocation) {
        try checkHeader(bytes)
        let location = try locateVMDesc(bytes)
        let window = bytes.makeWindow()
        let buf = window.map(at: location.markerOffset, minCount: location.jsonLength + 5)
        guard buf.count >= location.jsonOffset + location.jsonLength else {
            throw StreamAnalysisError(
                offset: location.jsonOffset,
                message:
                    bytes.mapFailure(
                        "cannot map the vmdesc (\(location.jsonLength) bytes at offset \(location.jsonOffset)) of \(bytes.origin) into memory"
                    )
            )
        }
        let json = try typedThrows(StreamAnalysisError.self) {
            try withExtendedLifetime(window) {
                let slice = UnsafeRawBufferPointer(
                    rebasing: buf[location.jsonOffset..<(location.jsonOffset + location.jsonLength)])
                do {
                    // (The text's pages are given back as the parse passes them: a vmdesc of
                    // thousands of CPUs is tens of MB.)
                    return try JSONValue(parsing: slice, baseOffset: location.jsonOffset) { passed in
                        window.release(0..<(location.jsonOffset + passed))
                    }
                } catch let e as JSONParseError {
                    throw StreamAnalysisError(
                        offset: e.offset,
                        message:
                            "the vmdesc (device description JSON at offset \(location.jsonOffset), \(location.jsonLength) bytes) is \(e.tooLarge ? "too large" : "corrupt"): \(e.message) (line \(e.line), column \(e.column) of the JSON)"
                    )
                }
            }
        }
        return (json, location)
    }

    /// Finds the vmdesc: byte 0x06, be32 length, then that many bytes of JSON ending the file.
    public static func locateVMDesc(_ bytes: StreamBytes) throws(StreamAnalysisError) -> VMDescLocation {
        let n = bytes.count
        // The vmdesc is searched for in the last 64 MiB: the most JSON the tool reads from one
        // input (QEMU's vmdesc takes about 7.5 KB per x86 CPU: 30 MB for 4,096 CPUs).
        let searched = StreamBytes.jsonTextLimit
        let lowest = max(8, n - searched - 5)
        let window = bytes.makeWindow()
        // (Mapped from 5 bytes before: the marker and length before a '{' found at `lowest`.)
        let buf = window.map(at: lowest - 5, minCount: n - lowest + 5)
        return try typedThrows(StreamAnalysisError.self) {
            try withExtendedLifetime(window) {
                guard n - lowest <= 0 || buf.count == n else {
                    throw StreamAnalysisError(
                        offset: lowest,
                        message: bytes.mapFailure(
                            "cannot map the last \(n - lowest) bytes of \(bytes.origin) into memory"))
                }
                // JSON text never contains the byte 0x06, so walking back from the end, the first
                // 0x06 whose length field reaches exactly to the end of the file is the marker.
                // (Walked in 4 MiB pieces, each given back once passed: the walk reads the whole
                // vmdesc, tens of MB for a machine of thousands of CPUs.)
                var highest = n - 5
                while highest >= lowest {
                    let piece = max(lowest, highest - (4 << 20) + 1)
                    if let found = VMDescRecord.locateAtEnd(buf, lowest: piece, highest: highest) {
                        return VMDescLocation(
                            markerOffset: found.markerOffset, jsonOffset: found.jsonOffset,
                            jsonLength: found.jsonLength)
                    }
                    window.release((piece + 5)..<n)
                    highest = piece - 1
                }
                // Not at the very end. The scans below may walk all that was searched again: each
                // gives back what it has passed every 4 MiB too (pages read again after that are
                // read from the file again).
                let step = 4 << 20
                // Look where QEMU's script looks: the first '{' after the last NUL byte, which
                // should follow the marker and the length.
                var nul = n - 1
                while nul >= lowest && buf[nul] != 0 {
                    nul -= 1
                    if (n - nul) % step == 0 { window.release((nul + 1)..<n) }
                }
                var brace = nul + 1
                while brace < n && buf[brace] != UInt8(ascii: "{") {
                    brace += 1
                    if (brace - nul) % step == 0 { window.release(lowest..<(brace - 5)) }
                }
                // (`brace - 5` is at least `lowest - 5`, mapped; 8 is past the header.)
                if brace < n && brace - 5 >= 8 && buf[brace - 5] == 0x06 {
                    let declared = Int(analysisLoadBE32(buf, brace - 4))
                    let available = n - brace
                    if declared > searched {
                        throw StreamAnalysisError(
                            offset: brace - 5,
                            message:
                                "the vmdesc at offset \(brace - 5) declares \(declared) bytes of JSON, more than the \(searched >> 20) MiB the tool reads (QEMU's take about 7.5 KB per x86 vCPU: 30 MB for 4,096) \(StreamAnalysis.vmdescHint)"
                        )
                    }
                    if declared > available {
                        throw StreamAnalysisError(
                            offset: n,
                            message:
                                "the vmdesc at offset \(brace - 5) declares \(declared) bytes of JSON, but the file ends after \(available): the stream is truncated \(StreamAnalysis.vmdescHint)"
                        )
                    }
                    return VMDescLocation(markerOffset: brace - 5, jsonOffset: brace, jsonLength: declared)
                }
                // A whole stream with bytes after its vmdesc (a file appended to).
                highest = n
                while highest >= lowest {
                    let piece = max(lowest, highest - step + 1)
                    // (A marker at `piece` is read with the byte before it: that byte is in the
                    // piece below, or, at the lowest piece, not searched.)
                    if let found = VMDescRecord.locateBeforeEnd(buf, lowest: max(lowest, piece - 1), highest: highest) {
                        let end = found.jsonOffset + found.jsonLength
                        throw StreamAnalysisError(
                            offset: end,
                            message:
                                "expected the end of the file after the device description (vmdesc at offset \(found.markerOffset), \(found.jsonLength) bytes of JSON), but \(n - end) more \(n - end == 1 ? "byte follows" : "bytes follow") it: something was appended to the stream (as `cat >> FILE` onto an old file does), or the file is corrupt; QEMU's scripts read the vmdesc only where it ends the file (cut the file at byte \(end) to read it)"
                        )
                    }
                    window.release(piece..<n)
                    highest = piece - 1
                }
                // No NUL in all that was searched (a stream's sections have them every few bytes):
                // text, such as a vmdesc larger than the tool reads.
                if nul < lowest && lowest > 8 {
                    throw StreamAnalysisError(
                        offset: lowest,
                        message:
                            "expected a device description (vmdesc: byte 0x06, a be32 length and JSON) at the end of the stream, but none begins in its last \(searched + 5) bytes, all that are searched, and they hold no NUL byte: text, as a vmdesc larger than the \(searched >> 20) MiB of JSON the tool reads would be (QEMU's take about 7.5 KB per x86 vCPU: 30 MB for 4,096), or not a stream \(StreamAnalysis.vmdescHint)"
                    )
                }
                // A file that ends in zero bytes: the preallocated tail of a save that died, or a
                // stream cut inside zero-filled data. Only the bytes searched are looked at: when
                // they are all zero, the run is at least that long.
                var zeros = 0
                while n - 1 - zeros >= lowest && buf[n - 1 - zeros] == 0 {
                    zeros += 1
                    if zeros % step == 0 { window.release((n - zeros)..<n) }
                }
                let atLeast = n - zeros == lowest && lowest > 8
                let tail =
                    zeros >= 4096
                    ? " (its last \(zeros) bytes\(atLeast ? ", all that were searched," : ", from offset \(n - zeros),") are zero: a save that did not finish leaves its preallocated file so, and a stream cut inside zero-filled data ends so too)"
                    : ""
                throw StreamAnalysisError(
                    offset: n,
                    message:
                        "expected a device description (vmdesc: byte 0x06, a be32 length and JSON) at the end of the stream, but there is none: the stream is truncated, or was written without one\(tail) \(StreamAnalysis.vmdescHint)"
                )
            }
        }
    }
}

// MARK: - The section reader

private let sectionEOF = StreamFormat.eof
private let sectionStart = StreamFormat.sectionStart
private let sectionPart = StreamFormat.sectionPart
private let sectionEnd = StreamFormat.sectionEnd
private let sectionFull = StreamFormat.sectionFull
private let subsectionMarker = StreamFormat.subsection
private let vmdescMarker = StreamFormat.vmdesc
private let configurationMarker = StreamFormat.configuration
private let commandMarker = StreamFormat.command
private let footerMarker = StreamFormat.footer

private let ramFlagZero = StreamFormat.RAMFlag.zero
private let ramFlagMemSize = StreamFormat.RAMFlag.memSize
private let ramFlagPage = StreamFormat.RAMFlag.page
private let ramFlagEOS = StreamFormat.RAMFlag.eos
private let ramFlagContinue = StreamFormat.RAMFlag.continuePage
private let ramFlagXBZRLE = StreamFormat.RAMFlag.xbzrle
private let ramFlagHook = StreamFormat.RAMFlag.hook
private let ramFlagMultifdFlush = StreamFormat.RAMFlag.multifdFlush
private let ramFlagCompressPage = StreamFormat.RAMFlag.compressPage
/// The NULL-pointer marker byte of `nullptr` fields ('0').
private let nullPointerMarker: UInt8 = 0x30

@inline(__always) func analysisLoadBE32(_ buf: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
    UInt32(bigEndian: buf.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
}

@inline(__always) func analysisLoadBE64(_ buf: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
    UInt64(bigEndian: buf.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
}

/// Lowercase hex, zero-padded to `width` digits.
func analysisHex(_ v: UInt64, width: Int) -> String {
    let s = String(v, radix: 16)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

private enum PathComponent {
    case field(String, Int?)
    case subsection(String)
}

/// How errors name a section: `"IDSTR" (section id N, instance M)`.
func analysisSectionLabel(_ name: String, _ id: UInt32, _ instance: UInt32) -> String {
    "\"\(name)\" (section id \(id), instance \(instance))"
}

/// A device section read without keeping its fields (`Options.keepDeviceFields` false): where
/// its data starts (just past its header) and the description it was read with.
package struct UnkeptDeviceSection: Sendable {
    let dataOffset: Int
    let description: ParsedVMDescStruct
    /// Read with QEMU 7.2's NULL entries recognised (`Options.readsQEMU72NullEntries`).
    var readsNullMarkers = false
}

private struct SectionReader {
    let bytes: StreamBytes
    let catalog: ParsedVMDescCatalog
    let options: Options
    typealias Options = StreamAnalysis.Options

    /// The bytes around `pos`, indexed by stream offset (see ``StreamWindow``); moved along by
    /// ``need(_:_:)``, the only way to make bytes readable.
    var buf = UnsafeRawBufferPointer(start: nil, count: 0)
    let window: StreamWindow
    /// The stream's length.
    let total: Int
    var pos = 8
    var sectionLabel: String? = nil
    /// How errors name a section: `"IDSTR" (section id N, instance M)`.
    static func label(_ name: String, _ id: UInt32, _ instance: UInt32) -> String {
        analysisSectionLabel(name, id, instance)
    }
    var path: [PathComponent] = []
    var nextProgress = 0
    /// Bytes of field values copied out of the stream so far (buffers, integers, names): at
    /// most ``heldBytesLimit``, so that what the analysis holds does not grow with the input
    /// (RAM pages are never copied).
    var heldBytes = 0
    /// 32 MiB: far more device state than a QEMU machine saves (the largest sections of a pc
    /// machine are a few KiB), and little enough that two streams' worth (`vmstate diff`), the
    /// window and `analyze`'s hex text of the largest field fit in 256 MiB of address space.
    static let heldBytesLimit = 32 << 20
    /// What the analysis's entry for a new section id weighs in memory (its section record,
    /// a RAM section's state, the indexes by id), counted with ``hold(_:_:)`` so that a stream
    /// of many section ids (a RAM START record is 30 bytes) is read in bounded memory too.
    static let sectionEntryCost = 512
    /// The same for a new RAM block name (a MEM_SIZE list's block, a page record's block):
    /// the name's bytes, plus this.
    static let nameEntryCost = 160
    /// What one value read weighs in memory beyond its bytes (the array that holds its bytes,
    /// its place in a list), counted with ``hold(_:_:)``: an array of a million buffers of one
    /// byte holds about 110 MB, not 1 MB (complexity F1).
    static let valueEntryCost = 112
    /// The same for a value held inline: an integer of up to 8 bytes, a bool, a NULL entry
    /// (its place in a list, 24 bytes, twice as the list grows). The Raspberry Pi's USB
    /// controller (`dwc2`) saves 524,288 `uint8` elements, 24 MiB by this count.
    static let inlineValueCost = 48
    /// The same for a struct's record beyond its values (its members, the index of their names).
    static let recordEntryCost = 256
    /// Elements read so far that took no byte of the stream (an empty struct, a field of size
    /// 0), which the bytes left do not bound; at most ``emptyElementsLimit``.
    var emptyElements = 0
    /// Whether a NULL marker 0x30 where an element of an array of structs described by its
    /// first entry starts is read as a NULL entry (`Options.readsQEMU72NullEntries`), and the
    /// entries so read: field path, the array's length, the NULL indices.
    var readsNullMarkers = false
    var nullMarkers: [(field: String, length: Int, indices: [Int])] = []
    /// The steps left for the stream's searches for another reading beyond their sections'
    /// own (`QEMU72NullReadings.count`).
    var nullSearchSteps = QEMU72NullReadings.extraSteps
    /// The first such array of the section being read when it did not read to its footer
    /// that way either (`StreamAnalysisError.unreadNullEntries` of the error it ends with).
    var unreadNullEntries: StreamAnalysis.QEMU72NullEntries? = nil
    /// 65,536: far more than QEMU writes (an array of structs whose fields are all in
    /// subsections not sent, a few hundred), and a bounded analysis of a vmdesc that nests
    /// arrays of empty elements (20,000 x 20,000 would be 4e8 values).
    static let emptyElementsLimit = 1 << 16
    let progressStep = 8 << 20
    /// With the x-ignore-shared capability, each RAM block announcement carries its address.
    var ignoreShared = false
    /// With the mapped-ram capability, each RAM block announcement carries a header giving
    /// where the block's pages and their bitmap are in the file (docs/FORMAT.md §9).
    var mappedRAM = false
    /// The hash table's size as `spapr/htab`'s parts read so far give it.
    var htab = HTABLoadState()
    var rules: StreamRules { catalog.rules }
    /// Called for every RAM page record as it is read (``StreamAnalysis/scanPages``), with
    /// the page's bytes for a data page of a sequential stream, the page inflated for a
    /// compressed page, the delta's bytes for an XBZRLE page (nil for fill pages and mapped-ram
    /// pages, whose bytes are elsewhere in the file).
    var pageVisitor: ((RAMPageRecord, UnsafeRawBufferPointer?) -> Void)? = nil
    /// Inflates compressed pages (capability compress), made at the first one.
    var compressedPages: CompressedPages? = nil
    /// The section id and generation (number of START records of that id) of the RAM section
    /// being read, for ``pageVisitor``.
    var ramSectionID: UInt32 = 0
    var ramGeneration: [UInt32: Int] = [:]
    /// Where the stream's own vmdesc (byte 0x06) starts; nil when the vmdesc was supplied
    /// separately (--vmdesc).
    let vmdescMarkerOffset: Int?
    /// The end of a mismatch's message when the vmdesc was given with --vmdesc (QEMU writes
    /// the same facts in a stream and its own vmdesc: they differ only when the vmdesc is
    /// another's); empty for the stream's own.
    var givenVMDescMismatch: String {
        vmdescMarkerOffset == nil
            ? ": the description given with --vmdesc is not this stream's (another QEMU build or machine type)" : ""
    }

    init(
        bytes: StreamBytes, window: StreamWindow, catalog: ParsedVMDescCatalog, options: Options,
        vmdescMarkerOffset: Int?
    ) {
        self.bytes = bytes
        self.window = window
        self.catalog = catalog
        self.options = options
        self.vmdescMarkerOffset = vmdescMarkerOffset
        total = bytes.count
    }

    // MARK: errors and primitive reads

    /// The path read (`env.segs[1]/base`); `indexingLast` false leaves the last component's
    /// index out (`a[1]/css`: the array, not its element).
    func fieldPath(indexingLast: Bool = true) -> String? {
        guard !path.isEmpty else { return nil }
        var s = ""
        for (i, c) in path.enumerated() {
            if i > 0 { s += "/" }
            switch c {
            case .field(let name, let index):
                s += name
                if let index, indexingLast || i < path.count - 1 { s += "[\(index)]" }
            case .subsection(let name):
                s += name
            }
        }
        return s
    }

    /// A RAM block name that is not UTF-8, at `offset` (its length byte): QEMU names blocks
    /// after device ids and paths, and its scripts stop there too (`UnicodeDecodeError`); read
    /// with its bytes repaired (U+FFFD), two blocks could read as one (hostile10 F3).
    func blockNameNotUTF8(_ repaired: String, at offset: Int) -> StreamAnalysisError {
        error(
            "the RAM block name \"\(repaired)\" is not UTF-8 (shown with U+FFFD for the bytes that are not): QEMU names RAM blocks after device ids and paths, and its analyze-migration.py stops here too (UnicodeDecodeError)",
            at: offset)
    }

    func error(_ message: String, at offset: Int? = nil) -> StreamAnalysisError {
        StreamAnalysisError(offset: offset ?? pos, section: sectionLabel, field: fieldPath(), message: message)
    }

    /// The end of a message about a subsection the description given with --vmdesc lacks.
    static let givenVMDescSubsections =
        " (the description given with --vmdesc lists only the subsections its own save wrote: when this stream's save wrote one more there, it takes a description saved with the devices in the same state)"

    /// The name after a subsection marker just read (a length byte, then that many bytes, as
    /// QEMU writes a subsection's name) when the stream holds one of printable ASCII there; nil
    /// otherwise. The position stays.
    mutating func subsectionNameAhead() -> String? {
        guard (try? need(1, "")) != nil else { return nil }
        let n = Int(buf[pos])
        guard n > 0, (try? need(1 + n, "")) != nil else { return nil }
        let name = UnsafeRawBufferPointer(rebasing: buf[(pos + 1)..<(pos + 1 + n)])
        guard name.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
        return String(decoding: name, as: UTF8.self)
    }

    /// Whether the next byte is the NULL marker 0x30 (the position stays).
    mutating func nullMarkerAhead() throws(StreamAnalysisError) -> Bool {
        guard total - pos >= 1 else { return false }
        try need(1, "a byte")
        return buf[pos] == nullPointerMarker
    }

    /// Whether the footer of section `id` (0x7e, be32 id) comes next (the position stays).
    mutating func footerAhead(_ id: UInt32) -> Bool {
        guard total - pos >= 5, (try? need(5, "a section footer")) != nil else { return false }
        return buf[pos] == footerMarker && analysisLoadBE32(buf, pos + 1) == id
    }

    /// Fails unless `n` more bytes are there; makes them readable in `buf`.
    @inline(__always) mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws(StreamAnalysisError) {
        if n > total - pos {
            var e = error(
                "expected \(what()) (\(n) byte\(n == 1 ? "" : "s")), but the stream ends after \(total - pos) more byte\(total - pos == 1 ? "" : "s")"
            )
            e.isEndOfStream = true
            throw e
        }
        if n > buf.count - pos { try moveWindow(n) }
    }

    @inline(never) mutating func moveWindow(_ n: Int) throws(StreamAnalysisError) {
        buf = window.map(at: pos, minCount: n)
        if n > buf.count - pos {
            throw error(bytes.mapFailure("cannot map \(n) bytes of \(bytes.origin) at offset \(pos) into memory"))
        }
    }

    @inline(__always) mutating func u8(_ what: @autoclosure () -> String) throws(StreamAnalysisError) -> UInt8 {
        try need(1, what())
        let v = buf[pos]
        pos += 1
        return v
    }

    @inline(__always) mutating func be16(_ what: @autoclosure () -> String) throws(StreamAnalysisError) -> UInt16 {
        try need(2, what())
        let v = UInt16(buf[pos]) << 8 | UInt16(buf[pos + 1])
        pos += 2
        return v
    }

    @inline(__always) mutating func be32(_ what: @autoclosure () -> String) throws(StreamAnalysisError) -> UInt32 {
        try need(4, what())
        let v = analysisLoadBE32(buf, pos)
        pos += 4
        return v
    }

    @inline(__always) mutating func be64(_ what: @autoclosure () -> String) throws(StreamAnalysisError) -> UInt64 {
        try need(8, what())
        let v = analysisLoadBE64(buf, pos)
        pos += 8
        return v
    }

    /// Counts `n` more bytes copied out of the stream for `what`; fails past ``heldBytesLimit``
    /// (before anything is mapped or copied).
    mutating func hold(_ n: Int, _ what: @autoclosure () -> String) throws(StreamAnalysisError) {
        if n > Self.heldBytesLimit - heldBytes {
            throw error(
                "\(what()) of \(n) bytes would make the device state read more than \(Self.heldBytesLimit >> 20) MiB, more than the analyzer holds in memory (\(heldBytes) bytes so far)"
            )
        }
        heldBytes += n
    }

    mutating func bytesArray(_ n: Int, _ what: @autoclosure () -> String) throws(StreamAnalysisError) -> [UInt8] {
        try hold(n, what())
        try need(n, what())
        let a = Array(UnsafeRawBufferPointer(rebasing: buf[pos..<(pos + n)]))
        pos += n
        return a
    }

    /// A string of `n` bytes (names in the stream are ASCII in practice).
    /// (`held`: false for a name that is only looked up, not kept: a page record's RAM block.)
    mutating func text(_ n: Int, _ what: @autoclosure () -> String, held: Bool = true) throws(StreamAnalysisError)
        -> String
    {
        if held { try hold(n, what()) }
        try need(n, what())
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: buf[pos..<(pos + n)]), as: UTF8.self)
        pos += n
        return s
    }

    /// A byte length followed by that many bytes of name.
    mutating func shortString(_ what: @autoclosure () -> String, held: Bool = true) throws(StreamAnalysisError)
        -> String
    {
        let n = try u8("the length of \(what())")
        return try text(Int(n), what(), held: held)
    }

    /// One record through the stream-format layer (Sources/VMState/Stream/Format); `what` words
    /// the field the stream ends in.
    mutating func decode<D: StreamRecordDecoder>(_ decoder: D, _ what: (FormatShortfall) -> String)
        throws(StreamAnalysisError) -> D.Record
    {
        while true {
            let view =
                buf.count > pos
                ? UnsafeRawBufferPointer(rebasing: buf[pos...]) : UnsafeRawBufferPointer(start: nil, count: 0)
            switch decoder.decode(view) {
            case .record(let record, let length):
                pos += length
                return record
            case .needMoreData(let shortfall):
                if shortfall.required > total - pos {
                    pos += shortfall.offset
                    try need(shortfall.size, what(shortfall))
                }
                try moveWindow(shortfall.required)
            }
        }
    }

    mutating func reportProgress() {
        if let progress = options.progress, pos >= nextProgress {
            progress(pos)
            nextProgress = pos + progressStep
        }
    }

    // MARK: the section loop

    mutating func run(into analysis: inout StreamAnalysis) throws(StreamAnalysisError) {
        pos = 8
        var index: [UInt32: Int] = [:]
        var lastSectionID: UInt32? = nil
        // How many device sections of each name and instance came so far (their vmdesc entries
        // pair with them in order: ParsedVMDescCatalog.device).
        var deviceCopies: [String: [UInt32: Int]] = [:]
        var ram: [UInt32: RAMSection] = [:]
        var ramBlock: [UInt32: Int32] = [:]  // the block a CONTINUE page refers to
        // Per RAM section id, its block names by position (kept across its parts, not rebuilt
        // for each: a stream can name many blocks, then send many parts).
        var ramNames: [UInt32: RAMNameIndex] = [:]
        // Fold the iterative RAM state into its section entries: at the end of the stream, and
        // when reading stops at an error (what was read, for ``init(readingAsFarAsPossible:options:failure:)``).
        defer {
            for (id, r) in ram {
                // (Unless a later section took the id over: its entry is that section's now.)
                if let i = index[id], case .ram = analysis.sections[i].content {
                    analysis.sections[i].content = .ram(r)
                }
            }
        }
        // The section whose footer comes next, once the stream has shown it has footers.
        var footerDue: UInt32? = nil
        // The first section that ended without a footer, and where its footer was due: the
        // stream has none, or it is damaged there (QEMU expects a footer after every section
        // or after none).
        var footerMissing: (id: UInt32, at: Int)? = nil
        while true {
            sectionLabel = nil
            path = []
            let typeOffset = pos
            let type = try u8("a section type byte (or 0x00 for the end of the stream)")
            if let id = footerDue, type != footerMarker, analysis.sectionFooters > 0, let i = index[id] {
                // QEMU writes a footer after every section or after none: the description read
                // this section's data shorter than it is (or the stream is damaged there).
                let s = analysis.sections[i]
                sectionLabel = Self.label(s.name, id, s.instanceID)
                // A subsection's name after the 0x05: the save wrote a subsection the
                // description does not list.
                if type == subsectionMarker, let name = subsectionNameAhead() {
                    throw error(
                        "expected the section's footer (0x7e and its section id) after its data, found the subsection \"\(name)\" (0x05 and its name), which the description does not list\(vmdescMarkerOffset == nil ? Self.givenVMDescSubsections : " (the stream is damaged there, or its vmdesc does not describe it)")",
                        at: typeOffset)
                }
                throw error(
                    "expected the section's footer (0x7e and its section id) after its data, found 0x\(analysisHex(UInt64(type), width: 2)): the data does not end where its description says\(vmdescMarkerOffset == nil ? " (the description given with --vmdesc may be of another machine or QEMU build: give the one saved with this stream)" : " (the stream is damaged there, or its vmdesc does not describe it)")",
                    at: typeOffset)
            }
            let isSection = type == sectionStart || type == sectionFull || type == sectionPart || type == sectionEnd
            if let id = footerDue, type != footerMarker, footerMissing == nil { footerMissing = (id, typeOffset) }
            switch type {
            case sectionEOF:
                try checkAfterEOF(typeOffset)
                analysis.endOffset = typeOffset
                options.progress?(total)
                return
            case configurationMarker:
                analysis.configurationOffsets.append(typeOffset)
                try readConfiguration(into: &analysis)
            case sectionStart, sectionFull:
                let header = try decode(SectionHeader.Decoder()) { cut in
                    switch cut.field {
                    case .sectionID: "the section id"
                    case .idstrLength: "the length of the section name (idstr)"
                    case .idstr: "the section name (idstr)"
                    case .instanceID: "the instance id of section \"\(cut.context ?? "")\""
                    default: "the version of section \"\(cut.context ?? "")\""
                    }
                }
                let (id, name, instance, version) = (header.sectionID, header.name, header.instanceID, header.versionID)
                lastSectionID = id
                sectionLabel = Self.label(name, id, instance)
                if index[id] == nil {
                    try hold(Self.sectionEntryCost + name.utf8.count, "the entry of section id \(id) in the analysis")
                }
                let dataStart = pos
                var unkept: UnkeptDeviceSection? = nil
                var section = AnalyzedSection(
                    sectionID: id, name: name, instanceID: instance, version: version,
                    offset: typeOffset, endOffset: dataStart, content: .htab)
                if name == "ram" && instance == 0 {
                    guard version == 4 else {
                        throw error("expected RAM section version 4, found \(version)", at: dataStart - 4)
                    }
                    var r = RAMSection(version: Int(version))
                    let generation = (ramGeneration[id] ?? 0) + 1
                    ramGeneration[id] = generation
                    r.generation = generation
                    ramSectionID = id
                    var current: Int32 = -1
                    var names = RAMNameIndex()
                    try readRAMPart(&r, current: &current, names: &names)
                    ram[id] = r
                    ramBlock[id] = current
                    ramNames[id] = names
                    section.content = .ram(RAMSection(version: Int(version)))
                } else if name == "spapr/htab" && instance == 0 {
                    guard version == 1 else {
                        throw error("expected HTAB section version 1, found \(version)", at: dataStart - 4)
                    }
                    try readHTABPart()
                } else if name == "s390-storage_attributes" && instance == 0 {
                    guard version == 0 else {
                        throw error(
                            "expected s390 storage attributes section version 0, found \(version)", at: dataStart - 4)
                    }
                    section.content = .storageAttributes
                    try readStorageAttributesPart()
                } else {
                    let occurrence = deviceCopies[name]?[instance] ?? 0
                    deviceCopies[name, default: [:]][instance] = occurrence + 1
                    guard let desc = try catalog.device(name: name, instance: instance, occurrence: occurrence) else {
                        if let what = Self.undescribedSection(name) {
                            throw error(
                                "section \"\(name)\" instance \(instance) is \(what), which no vmdesc describes and the analyzer does not read",
                                at: typeOffset)
                        }
                        throw error(
                            "section \"\(name)\" instance \(instance) is not described in the vmdesc, so its length is unknown",
                            at: typeOffset)
                    }
                    if let described = desc.version, described != Int(version) {
                        // (QEMU writes the same version_id in both: they differ only when the
                        // vmdesc is not this stream's.)
                        throw error(
                            "the section has version \(version), but the vmdesc describes version \(described)\(givenVMDescMismatch)",
                            at: dataStart - 4)
                    }
                    let heldBefore = heldBytes
                    let emptyBefore = emptyElements
                    unreadNullEntries = nil
                    var record: FieldRecord? = nil
                    var failure: StreamAnalysisError? = nil
                    do { record = try readStruct(desc, version: desc.version) } catch { failure = error }
                    var markers = false
                    if options.readsQEMU72NullEntries, !rules.laterFieldTypes.contains("nullptr"),
                        failure != nil || !footerAhead(id)
                    {
                        // Read again from the start, a 0x30 where an element of an array of
                        // structs described by its first entry starts a NULL entry: taken when
                        // it ends at the section's footer, else the first reading stands.
                        let (end, held, empty) = (pos, heldBytes, emptyElements)
                        (pos, buf, path, heldBytes, emptyElements) = (
                            dataStart, UnsafeRawBufferPointer(start: nil, count: 0), [], heldBefore, emptyBefore
                        )
                        readsNullMarkers = true
                        nullMarkers = []
                        if let again = try? readStruct(desc, version: desc.version), !nullMarkers.isEmpty,
                            footerAhead(id)
                        {
                            (record, failure, markers) = (again, nil, true)
                            // Whether it reads to the footer another way too (H1: an element
                            // that starts with 0x30 taken as NULL).
                            let sectionEnd = pos
                            // (Back to the section's start: the window, which covers what was
                            // read last, may start after it, and `need` checks only its end:
                            // verify17 N1, a read below the mapping.)
                            (pos, buf) = (dataStart, UnsafeRawBufferPointer(start: nil, count: 0))
                            let readings: QEMU72NullReadings.Count
                            if (try? need(sectionEnd - dataStart, "the section's data")) != nil {
                                readings = QEMU72NullReadings.count(
                                    desc, in: buf, from: dataStart, to: sectionEnd, streamLength: total,
                                    extra: &nullSearchSteps)
                            } else {
                                readings = .uncounted
                            }
                            pos = sectionEnd
                            for m in nullMarkers {
                                analysis.qemu72NullEntries.append(
                                    .init(
                                        section: name, instance: instance, field: m.field, length: m.length,
                                        indices: m.indices, readings: readings))
                            }
                        } else {
                            unreadNullEntries = nullMarkers.first.map {
                                .init(
                                    section: name, instance: instance, field: $0.field, length: $0.length,
                                    indices: $0.indices)
                            }
                            (pos, buf, path, heldBytes, emptyElements) = (
                                end, UnsafeRawBufferPointer(start: nil, count: 0), [], held, empty
                            )
                        }
                        readsNullMarkers = false
                    }
                    if let failure { throw failure }
                    guard let record else { throw error("no record read") }
                    if options.keepDeviceFields {
                        section.content = .device(record)
                    } else {
                        // (Read again when printed: what it held is given back.)
                        heldBytes = heldBefore
                        section.content = .device(FieldRecord(vmsdName: record.vmsdName, version: record.version))
                        unkept = UnkeptDeviceSection(
                            dataOffset: dataStart, description: desc, readsNullMarkers: markers)
                    }
                }
                section.endOffset = pos
                let i: Int
                if let existing = index[id] {
                    i = existing
                    analysis.sections[i] = section
                } else {
                    i = analysis.sections.count
                    index[id] = i
                    analysis.sections.append(section)
                }
                analysis.unkeptDeviceSections[i] = unkept
            case sectionPart, sectionEnd:
                let id = try decode(SectionPartHeader.Decoder()) { _ in "the section id" }.sectionID
                lastSectionID = id
                guard let i = index[id] else {
                    throw error(
                        "a \(type == sectionPart ? "PART" : "END") record for section id \(id), which was never started",
                        at: typeOffset)
                }
                let s = analysis.sections[i]
                sectionLabel = Self.label(s.name, id, s.instanceID)
                if var r = ram[id] {
                    ram[id] = nil  // (r held once: no copy of its arrays while pages are added)
                    var current = ramBlock[id] ?? -1
                    var names = ramNames[id] ?? RAMNameIndex()
                    ramNames[id] = nil  // (held once, as r)
                    ramSectionID = id
                    // Put back also when the part fails: a view of what was read shows it.
                    defer {
                        ram[id] = r
                        ramBlock[id] = current
                        ramNames[id] = names
                    }
                    try readRAMPart(&r, current: &current, names: &names)
                } else if case .htab = s.content {
                    try readHTABPart()
                } else if case .storageAttributes = s.content {
                    try readStorageAttributesPart()
                } else {
                    throw error(
                        "a \(type == sectionPart ? "PART" : "END") record for section \"\(s.name)\", which is not iterative",
                        at: typeOffset)
                }
                analysis.sections[i].endOffset = pos
            case footerMarker:
                // A footer belongs to the section before it: errors name that section.
                if let last = lastSectionID, let i = index[last] {
                    let s = analysis.sections[i]
                    sectionLabel = Self.label(s.name, last, s.instanceID)
                }
                let id = try decode(SectionFooter.Decoder(includesMarker: false)) { _ in
                    "the section id in a section footer"
                }.sectionID
                guard let last = lastSectionID else {
                    throw error("a section footer before any section", at: typeOffset)
                }
                // QEMU reads a footer only right after a section's data: anywhere else its 0x7e
                // is an unknown section type.
                guard footerDue != nil else {
                    throw error(
                        "a section footer (of section id \(id)) that does not follow a section's data, as after "
                            + "another footer: QEMU refuses it (\"Unknown savevm section type 126\")", at: typeOffset)
                }
                if id != last {
                    throw error(
                        "expected the footer of section id \(last), found the footer of section id \(id)", at: pos - 4)
                }
                if let missing = footerMissing, let i = index[missing.id] {
                    let s = analysis.sections[i]
                    sectionLabel = Self.label(s.name, missing.id, s.instanceID)
                    throw error(
                        "the section has no footer (0x7e and its section id) where later sections have one: QEMU "
                            + "refuses it (\"Missing section footer for \(s.name)\")", at: missing.at)
                }
                analysis.sectionFooters += 1
            case subsectionMarker:
                // After the RAM (its records, not a description, give its length) 0x05 is just
                // not a section type.
                if let last = lastSectionID, let i = index[last], case .ram = analysis.sections[i].content {
                    throw error(
                        "expected a section type after RAM section \(last), found 0x05 (a subsection marker, which "
                            + "only a device's description can be followed by)", at: typeOffset)
                }
                throw error(
                    "a subsection marker (0x05) where a section was expected; the previous section's data is longer than its description says\(vmdescMarkerOffset == nil ? Self.givenVMDescSubsections : "")",
                    at: typeOffset)
            case vmdescMarker:
                throw error("the vmdesc marker (0x06) before the end-of-stream byte (0x00)", at: typeOffset)
            case commandMarker:
                try readCommand(at: typeOffset, into: &analysis)
            default:
                throw error(
                    "expected a section type (0x00 end, 0x01 start, 0x02 part, 0x03 end, 0x04 full, 0x07 configuration, 0x08 command, 0x7e footer), found 0x\(analysisHex(UInt64(type), width: 2))",
                    at: typeOffset)
            }
            footerDue = isSection ? lastSectionID : nil
        }
    }

    /// A command record: be16 command, be16 payload length. The analyzer reads only the
    /// commands of `rules.commands` (all with an empty payload); any other is an error that
    /// names QEMU's command and what writes it (`QEMUStreamRules.commandNames`).
    mutating func readCommand(at typeOffset: Int, into analysis: inout StreamAnalysis) throws(StreamAnalysisError) {
        sectionLabel = "command"
        let record = try decode(CommandRecord.Decoder()) { cut in
            cut.field == .commandNumber
                ? "the command number of a command record" : "the payload length of a command record"
        }
        let (command, length) = (record.command, record.length)
        guard let name = rules.commands[command] else {
            let known = rules.commands.sorted { $0.key < $1.key }.map {
                "0x\(analysisHex(UInt64($0.key), width: 2)) \($0.value)"
            }
            let read = known.isEmpty ? "no command records" : known.joined(separator: ", ") + " only"
            let what =
                QEMUStreamRules.commandNames[command].map {
                    " \($0.name) (\($0.writer)), which the analyzer does not read"
                }
                ?? ", which QEMU does not define"
            throw error(
                "a command record with command 0x\(analysisHex(UInt64(command), width: 2))\(what); streams of \(rules.versions) are read with \(read)"
                    + givenVMDescMismatch,
                at: typeOffset)
        }
        guard length == 0 else {
            throw error("expected an empty payload (length 0) for command \(name), found length \(length)", at: pos - 2)
        }
        if command == QEMUStreamRules.switchoverStartCommand { analysis.hasSwitchoverStart = true }
    }

    /// What a section that QEMU writes with handlers of its own, not a description (so never in
    /// a vmdesc), carries, by its idstr: QEMU 7.2's block migration (migration/block.c, removed
    /// in 9.1), block dirty bitmaps (migration/block-dirty-bitmap.c) and a VFIO device's state
    /// (idstr `<device path>/vfio`, or `vfio`). Nil for any other name.
    static func undescribedSection(_ name: String) -> String? {
        switch name {
        case "block": "QEMU's block migration (the disks' contents: `migrate -b`, capability block)"
        case "dirty-bitmap": "QEMU's migration of block dirty bitmaps (capability dirty-bitmaps)"
        case _ where name == "vfio" || name.hasSuffix("/vfio"):
            "a VFIO device's state, written by the device's own handlers"
        default: nil
        }
    }

    /// What follows the end-of-stream byte (0x00) at `eofOffset`: the stream's own vmdesc
    /// (0x06, be32 length, JSON), right after it; with a vmdesc supplied separately, a vmdesc
    /// (whole or cut) or the end of the file. Anything else means the sections were not read
    /// as they were written (a corrupt stream, or a vmdesc that is not this stream's), and a
    /// byte 0x00 inside them was taken for the end.
    mutating func checkAfterEOF(_ eofOffset: Int) throws(StreamAnalysisError) {
        let next = eofOffset + 1
        if let marker = vmdescMarkerOffset {
            guard marker == next else {
                throw error(
                    "the end-of-stream byte (0x00) at offset \(eofOffset) is not followed by the vmdesc, which starts at offset \(marker): QEMU writes nothing between them, so \(marker - next == 1 ? "the byte there was" : "the \(marker - next) bytes there were") added to the stream, or the sections before were not read as written (a byte 0x00 inside them taken for the end)",
                    at: eofOffset)
            }
            return
        }
        guard next < total else { return }
        try need(1, "the vmdesc marker or the end of the file")
        guard buf[next] == vmdescMarker else {
            throw error(
                "expected the end of the file or a vmdesc (byte 0x06) after the end-of-stream byte (0x00) at offset \(eofOffset), found 0x\(analysisHex(UInt64(buf[next]), width: 2)) and \(total - next - 1) more byte\(total - next - 1 == 1 ? "" : "s"): the description given with --vmdesc is not this stream's (another QEMU build or machine type), or the stream is corrupt",
                at: next)
        }
    }

    mutating func readConfiguration(into analysis: inout StreamAnalysis) throws(StreamAnalysisError) {
        sectionLabel = "configuration"
        analysis.hasConfiguration = true
        // The name's be32 length, checked before the name is read (as `configurationMachineType`),
        // whether or not the vmdesc describes the section (QEMU 8.2 and later).
        if total - pos >= 4 {
            try need(4, "the length of the machine type name")
            let length = Int(analysisLoadBE32(buf, pos))
            if length > 4096 {
                throw error("a machine type name of \(length) bytes (QEMU's are a few dozen): the stream is corrupt")
            }
        }
        if let desc = catalog.configuration {
            try readDescribedConfiguration(desc, into: &analysis)
            return
        }
        let header = try decode(ConfigurationHeader.Decoder()) { cut in
            cut.field == .machineTypeLength ? "the length of the machine type name" : "the machine type name"
        }
        analysis.machineType = String(decoding: header.machineType, as: UTF8.self)
        // Subsections of "configuration" (QEMU 7.2 writes them only with special settings).
        while pos < total {
            try need(1, "a configuration subsection")
            guard buf[pos] == subsectionMarker else { break }
            let start = pos
            let name = try decode(ConfigurationSubsectionHeader.Decoder()) { cut in
                switch cut.field {
                case .subsectionNameLength: "the length of a configuration subsection name"
                case .subsectionName: "a configuration subsection name"
                default: "the version of subsection \"\(cut.context ?? "")\""
                }
            }.name
            path = [.subsection(name)]
            switch ConfigurationSubsection(name: name) {
            case .targetPageBits?:
                let bitsAt = pos
                let bits = try be32("target_page_bits")
                // QEMU's destination refuses another page size than its own; here the pages
                // are read by the vmdesc's page_size, which the source wrote with them.
                guard bits < 32, 1 << Int(bits) == catalog.pageSize else {
                    throw error(
                        "target_page_bits \(bits) contradicts the vmdesc's page_size \(catalog.pageSize) (QEMU: \"Received TARGET_PAGE_BITS is \(bits) but local is ...\")",
                        at: bitsAt)
                }
                analysis.targetPageBits = Int(bits)
            case .capabilities?:
                let count = try decode(ConfigurationSubsection.CountDecoder()) { _ in "caps_count" }
                for _ in 0..<count {
                    analysis.capabilities.append(
                        try decode(ConfigurationSubsection.CapabilityDecoder()) { cut in
                            cut.field == .capabilityNameLength ? "the length of a capability name" : "a capability name"
                        })
                }
                ignoreShared = analysis.capabilities.contains("x-ignore-shared")
                mappedRAM = analysis.capabilities.contains("mapped-ram")
            case .uuid?:
                analysis.uuid = try bytesArray(16, "the 16-byte VM UUID")
            case nil:
                throw error("unknown configuration subsection \"\(name)\"", at: start)
            }
            path = []
        }
    }

    /// The configuration section read with the vmdesc's description of it (QEMU 8.2+):
    /// `len`, `name`, and the subsections it lists (capabilities, target page bits, uuid).
    mutating func readDescribedConfiguration(_ desc: ParsedVMDescStruct, into analysis: inout StreamAnalysis)
        throws(StreamAnalysisError)
    {
        let start = pos
        // The machine type is `len` bytes (VMSTATE_VBUFFER_ALLOC_UINT32); the vmdesc records
        // the length of its own stream's name, which another stream's need not have.
        // (A description of other types than QEMU's buffer covers its elements' bytes.)
        if let field = desc.fields.first(where: { $0.name == "name" }), field.size >= 0 {
            let described = field.size * field.count
            try need(4, "the length of the machine type name")
            let length = Int(analysisLoadBE32(buf, pos))
            if length != described {
                throw error(
                    "the machine type name is \(length) bytes long, but the vmdesc describes a name of \(described) bytes\(givenVMDescMismatch)",
                    at: pos)
            }
        }
        let record = try readStruct(desc, version: desc.version)
        // (QEMU's configuration is `len` then `name` whatever names a vmdesc gives them: the
        // machine type is the second field's bytes.)
        let machine = record["name"] ?? (record.members.count > 1 ? record.members[1].value : nil)
        switch machine {
        case .bytes(let name)?: analysis.machineType = String(decoding: name, as: UTF8.self)
        case .list(let elements)?:
            // (Described as bytes one by one, uint8 elements: their bytes are the name.)
            let name = elements.compactMap { e -> UInt8? in
                if case .integer(let b, _) = e, b.count == 1 { b[0] } else { nil }
            }
            if name.count == elements.count { analysis.machineType = String(decoding: name, as: UTF8.self) }
        default: break
        }
        if case .record(let caps)? = record["configuration/capabilities"] {
            var names: [String] = []
            switch caps["capabilities"] {
            case .text(let one)?: names = [one]
            case .list(let items)?:
                for case .text(let n) in items { names.append(n) }
            default: break
            }
            let count = caps["caps_count"]?.unsignedValue
            guard count == UInt64(names.count) else {
                throw error(
                    "the configuration lists \(names.count) capabilit\(names.count == 1 ? "y" : "ies"), but its caps_count is \(count.map(String.init) ?? "missing")",
                    at: start)
            }
            analysis.capabilities = names
        }
        if case .record(let sub)? = record["configuration/target-page-bits"],
            let bits = sub["target_page_bits"]?.unsignedValue, bits < 64
        {
            analysis.targetPageBits = Int(bits)
        }
        if case .record(let sub)? = record["configuration/uuid"] {
            // VMSTATE_UINT8_ARRAY_V(uuid.data, ..., 16): a list of one-byte integers.
            switch sub["uuid.data"] {
            case .bytes(let b)?: analysis.uuid = b
            case .list(let items)?:
                analysis.uuid = items.compactMap { if case .integer(let b, _) = $0, b.count == 1 { b[0] } else { nil } }
            default: break
            }
        }
        ignoreShared = analysis.capabilities.contains("x-ignore-shared")
        mappedRAM = analysis.capabilities.contains("mapped-ram")
    }

    /// The error for a record of `section` QEMU's destination refuses, `refusal` its reason
    /// (``StreamAnalysisError/refusedSection``).
    func refused(_ refusal: String, at offset: Int, in section: String) -> StreamAnalysisError {
        var e = error(refusal, at: offset)
        e.refusedSection = section
        return e
    }

    /// One part of pseries' hash page table (``HTABPartHeader``, ``HTABChunkHeader``: the
    /// stream-format layer's records, which the registry reads past too).
    /// A chunk past the table (``HTABLoadState``), which QEMU's destination refuses, is refused.
    mutating func readHTABPart() throws(StreamAnalysisError) {
        let at = pos
        let header = try decode(HTABPartHeader.Decoder()) { _ in "the HTAB header" }
        if let refusal = htab.take(header) { throw refused(refusal, at: at, in: "spapr/htab") }
        guard header.hasChunks else { return }
        while true {
            let at = pos
            let chunk = try decode(HTABChunkHeader.Decoder()) { cut in
                switch cut.field {
                case .htabChunkIndex: "an HTAB chunk index"
                case .htabValidCount: "HTAB n_valid"
                default: "HTAB n_invalid"
                }
            }
            if chunk.endsPart { return }
            if let refusal = htab.refusal(chunk) { throw refused(refusal, at: at, in: "spapr/htab") }
            try need(chunk.dataLength, "\(chunk.valid) hash table entries")
            pos += chunk.dataLength
        }
    }

    /// One part of the s390 storage attributes section (`s390-storage_attributes`, QEMU's
    /// hw/s390x/s390-stattrib.c, the same in 7.2 and 10.0): be64 records of a guest address
    /// with flags in its low 12 bits (s390's 4 KiB target page): MORE (0x02) then a be64 count
    /// and that many attribute bytes, DONE (0x08, the last part's, before its EOS), EOS (0x01)
    /// ending the part; ERROR (0x04, "Storage attributes data is incomplete") and any other
    /// flags are refused, as QEMU's destination refuses them. The bytes are skipped, as QEMU's
    /// analyze-migration.py skips the section.
    mutating func readStorageAttributesPart() throws(StreamAnalysisError) {
        while true {
            let at = pos
            let record = try decode(StorageAttributesRecord.Decoder()) { cut in
                cut.field == .storageAttributesCount
                    ? "the count of an s390 storage attributes record"
                    : "an s390 storage attributes record (be64 address and flags)"
            }
            if let refusal = record.refusal { throw refused(refusal, at: at, in: "s390-storage_attributes") }
            switch record.flags {
            case StorageAttributesRecord.endOfPart: return
            case StorageAttributesRecord.more:
                let count = record.count ?? 0
                guard let n = Int(exactly: count), n <= total - pos else {
                    throw error(
                        "an s390 storage attributes record of \(count) bytes, but the stream has \(total - pos) left",
                        at: pos - 8)
                }
                pos += n
            default: continue  // DONE
            }
        }
    }

    // MARK: RAM

    /// A RAM section's names by position: `RAMSection.pageBlockNames` (page records) and
    /// `RAMSection.blocks` (MEM_SIZE), so that each name is looked up in constant time.
    struct RAMNameIndex {
        var pageBlocks: [String: Int32] = [:]
        var blocks: [String: Int] = [:]
    }

    mutating func readRAMPart(_ ram: inout RAMSection, current: inout Int32, names: inout RAMNameIndex)
        throws(StreamAnalysisError)
    {
        let pageSize = catalog.pageSize
        let mask = UInt64(pageSize - 1)
        let record = options.recordPages
        // The flags as local constants: the globals, initialized from another module, cost a
        // `swift_once` call at every use, that is several per page record.
        let flagZero = ramFlagZero, flagMemSize = ramFlagMemSize, flagPage = ramFlagPage
        let flagEOS = ramFlagEOS, flagContinue = ramFlagContinue, flagXBZRLE = ramFlagXBZRLE
        let flagHook = ramFlagHook, flagMultifdFlush = ramFlagMultifdFlush, flagCompress = ramFlagCompressPage
        // The highest page of the block in hand, kept here and stored in `ram` when the block
        // changes and on return (an array update per page costs more than the rest).
        var noteBlock = -1
        var noteNext: UInt64 = 0
        defer { if noteBlock >= 0 { ram.nextPageAddress[noteBlock] = noteNext } }
        // (A local copy while the part is read, the fastest to look up; handed back at the end.)
        var blockIndex = names.pageBlocks
        names.pageBlocks = [:]
        defer { names.pageBlocks = blockIndex }
        while true {
            if options.progress != nil { reportProgress() }
            let wordOffset = pos
            // Page bytes are skipped, not read: the window moves only for headers, so RAM
            // that is not printed is never touched (--memory reads it back afterwards).
            try need(8, "a RAM page header (be64 address | flags)")
            let word = analysisLoadBE64(buf, pos)
            pos += 8
            var flags = word & mask
            let address = word & ~mask
            if flags & ~flagContinue == 0 {
                // QEMU's destination refuses a record of no kind ("Unknown combination of
                // migration flags"); the script reads past it. Zero bytes where the stream goes
                // on are a cut, as in the file of a save that died before trimming it.
                throw error(
                    "a RAM record with no kind (flags 0x\(String(flags, radix: 16)), header 0x\(analysisHex(word, width: 16))), which QEMU refuses (\"Unknown combination of migration flags\")\(word == 0 ? "; the stream may end in zero bytes here, as the preallocated file of a save that did not finish does" : "")",
                    at: wordOffset)
            }
            // QEMU's destination reads one kind a record (`flags & ~CONTINUE` is one flag, but
            // for RDMA's hook); the script reads each flag of several in turn.
            let kind = flags & ~flagContinue
            if kind & (kind &- 1) != 0 && kind & flagHook == 0 {
                throw error(
                    "a RAM record of more than one kind (flags 0x\(String(flags, radix: 16)), header 0x\(analysisHex(word, width: 16))), which QEMU refuses (\"Unknown combination of migration flags\")",
                    at: wordOffset)
            }
            if flags & flagMemSize != 0 {
                ram.totalSize = address
                var remaining = address
                var listed = Set<String>()
                path = [.field("RAM blocks", nil)]
                while remaining > 0 {
                    let entryOffset = pos
                    let entry = try decode(RAMBlockEntry.Decoder(ignoreShared: ignoreShared)) { cut in
                        switch cut.field {
                        case .blockNameLength: "the length of a RAM block name"
                        case .blockName: "a RAM block name"
                        case .blockLength: "the used length of RAM block \"\(cut.context ?? "")\""
                        default: "the address of RAM block \"\(cut.context ?? "")\""
                        }
                    }
                    let (name, length) = (entry.name, entry.length)
                    guard entry.nameIsUTF8 else { throw blockNameNotUTF8(name, at: entryOffset) }
                    if mappedRAM {
                        if noteBlock >= 0 { ram.nextPageAddress[noteBlock] = noteNext }
                        noteBlock = -1  // (the block's pages are noted by readMappedRAMBlock)
                        try readMappedRAMBlock(name: name, length: length, into: &ram, blockIndex: &blockIndex)
                    }
                    if let i = names.blocks[name] {
                        // (QEMU names each block once: listed again with another length, the
                        // pages would be checked against the wrong one.)
                        if listed.contains(name), ram.blocks[i].length != length {
                            throw error(
                                "RAM block \"\(name)\" is listed twice at the RAM section's start, with lengths 0x\(analysisHex(ram.blocks[i].length, width: 16)) and 0x\(analysisHex(length, width: 16)): QEMU names each block once, so the list is damaged",
                                at: entryOffset)
                        }
                        ram.blocks[i].length = length
                        ram.blocks[i].offset = entryOffset
                    } else {
                        try hold(
                            Self.nameEntryCost + name.utf8.count, "the entry of RAM block \"\(name)\" in the analysis")
                        names.blocks[name] = ram.blocks.count
                        ram.blocks.append(RAMBlock(name: name, length: length, offset: entryOffset))
                    }
                    listed.insert(name)
                    if length > remaining {
                        throw error(
                            "the RAM block lengths add up to more than the total of 0x\(analysisHex(address, width: 16)) bytes announced at offset \(wordOffset)"
                        )
                    }
                    remaining -= length
                }
                path = []
                flags &= ~flagMemSize
            }
            if mappedRAM && flags & (flagZero | flagPage | flagXBZRLE | flagCompress | flagHook | flagMultifdFlush) != 0
            {
                throw error(
                    "unexpected RAM flags 0x\(String(flags, radix: 16)) in a mapped-ram file, whose pages are at fixed offsets rather than in records",
                    at: wordOffset)
            }
            if flags & (flagZero | flagPage | flagXBZRLE | flagCompress) != 0 {
                if flags & flagContinue != 0 {
                    flags &= ~flagContinue
                    if current < 0 {
                        throw error(
                            "a RAM page with the CONTINUE flag, but no RAM block was named before it", at: wordOffset)
                    }
                } else {
                    let nameOffset = pos
                    let blockName = try decode(RAMRecordWord.BlockNameDecoder()) { cut in
                        cut.field == .blockNameLength
                            ? "the length of the RAM block name of a page" : "the RAM block name of a page"
                    }
                    guard blockName.isUTF8 else { throw blockNameNotUTF8(blockName.name, at: nameOffset) }
                    let name = blockName.name
                    if let i = blockIndex[name] {
                        current = i
                    } else {
                        try hold(
                            Self.nameEntryCost + name.utf8.count, "the entry of RAM block \"\(name)\" in the analysis")
                        current = Int32(ram.pageBlockNames.count)
                        blockIndex[name] = current
                        ram.pageBlockNames.append(name)
                    }
                }
                let content: RAMPage.Content
                var data: UnsafeRawBufferPointer? = nil
                if flags & (flagZero | flagPage | flagXBZRLE) == 0 {
                    (content, data) = try readCompressedPage(&ram, block: current, address: address)
                    flags &= ~flagCompress
                } else if flags & (flagZero | flagPage) == 0 {
                    (content, data) = try readXBZRLEPage(&ram, block: current, address: address)
                    flags &= ~flagXBZRLE
                } else if flags & flagZero == 0 {
                    if total - pos < pageSize {
                        path = [
                            .field("\(ram.pageBlockNames[Int(current)]) page 0x\(analysisHex(address, width: 16))", nil)
                        ]
                        try need(pageSize, "the page's data")
                    }
                    content = .data(offset: pos)
                    if pageVisitor != nil {
                        // Printing pages: make the page's bytes readable in the window.
                        try need(pageSize, "the page's data")
                        data = UnsafeRawBufferPointer(rebasing: buf[pos..<(pos + pageSize)])
                    }
                    pos += pageSize
                    ram.dataPageCount += 1
                    flags &= ~flagPage
                } else {
                    let fill = try u8("the fill byte of a zero page")
                    content = .fill(fill)
                    flags &= ~flagZero
                }
                ram.pageCount += 1
                let b = Int(current)
                if b != noteBlock {
                    if noteBlock >= 0 { ram.nextPageAddress[noteBlock] = noteNext }
                    while ram.nextPageAddress.count <= b { ram.nextPageAddress.append(0) }
                    noteBlock = b
                    noteNext = ram.nextPageAddress[b]
                }
                if address < noteNext { ram.mayRepeatPages = true }
                noteNext = address &+ 1
                if record {
                    ram.pages.append(RAMPage(block: current, address: address, content: content))
                }
                if let pageVisitor {
                    pageVisitor(
                        RAMPageRecord(
                            sectionID: ramSectionID, generation: ram.generation,
                            page: RAMPage(block: current, address: address, content: content), offset: wordOffset),
                        data)
                }
            } else if flags & flagHook != 0 {
                throw error("a RAM hook record (flag 0x80), which only RDMA migration writes", at: wordOffset)
            }
            // A bare MULTIFD_FLUSH record (QEMU 8.1.0-8.1.2 write them even without multifd;
            // later versions only with multifd): no payload, nothing to show.
            flags &= ~flagMultifdFlush
            if flags & flagEOS != 0 { break }
            if flags != 0 {
                throw error(
                    "expected RAM page flags (0x02 zero, 0x04 size, 0x08 page, 0x10 end, 0x20 continue, 0x40 XBZRLE, 0x100 compressed page, 0x200 multifd flush), found unknown flags 0x\(String(flags, radix: 16)) in header 0x\(analysisHex(word, width: 16))",
                    at: wordOffset)
            }
        }
    }

    /// The rest of an XBZRLE page record (capability xbzrle; XBZRLE.swift in the VMState
    /// module) after its word and block name, at `at`: the header and the delta, checked as
    /// QEMU's destination checks them: its contents (`.xbzrle`, the header's offset) and the
    /// delta's bytes (valid until the window moves). A delta over the page's earlier contents
    /// (QEMU sends a page as XBZRLE only after sending it whole): the section may repeat pages,
    /// and readings of page contents fold each page's records.
    mutating func readXBZRLEPage(
        _ ram: inout RAMSection, block: Int32, address: UInt64
    ) throws(StreamAnalysisError) -> (RAMPage.Content, UnsafeRawBufferPointer) {
        let what =
            "the XBZRLE page of RAM block \"\(escapingControlCharacters(ram.pageBlockNames[Int(block)]))\" at 0x\(analysisHex(address, width: 16))"
        let headerOffset = pos
        let header = try decode(XBZRLEHeader.Decoder()) { cut in
            cut.field == .xbzrleEncoding ? "the encoding byte of \(what)" : "the length of \(what)"
        }
        if let fault = header.fault(pageSize: catalog.pageSize) {
            throw fault == .encoding
                ? error(
                    "expected the XBZRLE encoding 0x01 of \(what), found 0x\(analysisHex(UInt64(header.encoding), width: 2)) (QEMU: \"\(fault.qemuMessage)\")",
                    at: headerOffset)
                : error(
                    "\(what) is \(header.length) bytes long, more than a page of \(catalog.pageSize) (QEMU: \"\(fault.qemuMessage)\")",
                    at: headerOffset + 1)
        }
        try need(header.length, "the bytes of \(what)")
        let delta = UnsafeRawBufferPointer(rebasing: buf[pos..<(pos + header.length)])
        guard XBZRLEDelta.isValid(delta, pageSize: catalog.pageSize) else {
            throw error("\(what) does not decode into a page (QEMU: \"\(XBZRLEFault.delta.qemuMessage)\")", at: pos)
        }
        pos += header.length
        ram.xbzrlePageCount += 1
        ram.mayRepeatPages = true
        return (.xbzrle(offset: headerOffset), delta)
    }

    /// The rest of a compressed page record (capability compress, QEMU 7.2 to 9.0;
    /// CompressedPage.swift in the VMState module) after its word and block name, at `pos`: the
    /// be32 length and the zlib stream, checked as QEMU's destination checks them (a length up to
    /// zlib's `compressBound` of a page, bytes that inflate into a whole page): its contents
    /// (`.compressed`, the header's offset) and the page inflated (valid until the next
    /// compressed page is read).
    mutating func readCompressedPage(
        _ ram: inout RAMSection, block: Int32, address: UInt64
    ) throws(StreamAnalysisError) -> (RAMPage.Content, UnsafeRawBufferPointer) {
        let what =
            "the compressed page of RAM block \"\(escapingControlCharacters(ram.pageBlockNames[Int(block)]))\" at 0x\(analysisHex(address, width: 16))"
        let pageSize = catalog.pageSize
        let headerOffset = pos
        let header = try decode(CompressedPageHeader.Decoder()) { _ in "the length of \(what)" }
        if let fault = header.fault(pageSize: pageSize) {
            throw error(
                "\(what) is \(header.length) bytes long, more than zlib's compressBound of a page (\(CompressedPageHeader.compressBound(pageSize))) (QEMU: \"\(fault.qemuMessage(length: header.length))\")",
                at: headerOffset)
        }
        try need(header.length, "the bytes of \(what)")
        let source = UnsafeRawBufferPointer(rebasing: buf[pos..<(pos + header.length)])
        let pages = compressedPages ?? CompressedPages(pageSize: pageSize)
        compressedPages = pages
        let (page, inflated) = pages.inflate(source)
        switch inflated {
        case .page: break
        case .short(let count):
            // (QEMU's destination takes it, the rest of the page left as it was; no source
            // writes one, and what the page holds would depend on its earlier records.)
            throw error(
                "\(what) inflates to \(count) bytes, not a page of \(pageSize) (QEMU would keep the page's other bytes as they were; no QEMU source writes such a page)",
                at: pos)
        case .fault:
            throw error(
                "\(what) does not inflate into a page of \(pageSize) bytes (its \(header.length) bytes do not begin with one whole zlib stream, or it is longer than a page; QEMU: \"\(CompressedPageFault.data.qemuMessage(length: header.length))\")",
                at: pos)
        }
        pos += header.length
        ram.compressedPageCount += 1
        ram.dataPageCount += 1
        return (.compressed(offset: headerOffset), page)
    }

    /// The mapped-ram header after a block's used length (QEMU 9.0+, capability mapped-ram;
    /// all big-endian): be32 version (1), be64 page size, be64 bitmap offset, be64 pages
    /// offset. Page i is at pages offset + i × page size iff bit i of the bitmap is set (the
    /// bitmap is host-endian `unsigned long` words; x86-64: little-endian, so bit i is bit
    /// i % 8 of byte i / 8). The stream goes on right after the block's page region.
    mutating func readMappedRAMBlock(
        name: String, length: UInt64, into ram: inout RAMSection, blockIndex: inout [String: Int32]
    ) throws(StreamAnalysisError) {
        let headerOffset = pos
        let header = try decode(MappedRAMHeader.Decoder()) { cut in
            switch cut.field {
            case .mappedRAMVersion: "the mapped-ram header version of RAM block \"\(name)\""
            case .mappedRAMPageSize: "the mapped-ram page size of RAM block \"\(name)\""
            case .mappedRAMBitmapOffset: "the mapped-ram bitmap offset of RAM block \"\(name)\""
            default: "the mapped-ram pages offset of RAM block \"\(name)\""
            }
        }
        // (QEMU 10.0 writes version 1 and reads any up to it: parse_ramblock_mapped_ram.)
        let version = header.version
        guard version <= 1 else {
            throw error(
                "expected mapped-ram header version 1 or lower for RAM block \"\(name)\", found \(version) (QEMU: "
                    + "\"Migration mapped-ram capability version not supported\")", at: headerOffset)
        }
        let (pageSize, bitmapOffset, pagesOffset) = (header.pageSize, header.bitmapOffset, header.pagesOffset)
        guard pageSize == UInt64(catalog.pageSize) else {
            throw error(
                "the mapped-ram header of RAM block \"\(name)\" gives page size \(pageSize), the vmdesc \(catalog.pageSize)",
                at: headerOffset + 4)
        }
        guard pagesOffset >= UInt64(pos) else {
            throw error(
                "the mapped-ram pages of RAM block \"\(name)\" start at 0x\(String(pagesOffset, radix: 16)), before the end of its header (0x\(String(pos, radix: 16)))",
                at: headerOffset + 20)
        }
        guard pagesOffset % pageSize == 0 else {
            throw error(
                "the mapped-ram pages of RAM block \"\(name)\" start at 0x\(String(pagesOffset, radix: 16)), which is not page aligned",
                at: headerOffset + 20)
        }
        let pages = length / pageSize
        let bitmapSize = (pages + 63) / 64 * 8
        let fileSize = UInt64(total)
        guard bitmapOffset <= fileSize, bitmapSize <= fileSize - bitmapOffset else {
            throw error(
                "the mapped-ram bitmap of RAM block \"\(name)\" (\(bitmapSize) bytes at 0x\(String(bitmapOffset, radix: 16))) lies beyond the end of the file (\(total) bytes)",
                at: headerOffset + 12)
        }
        guard pagesOffset <= fileSize, length <= fileSize - pagesOffset else {
            throw error(
                "the mapped-ram pages of RAM block \"\(name)\" (0x\(String(length, radix: 16)) bytes at 0x\(String(pagesOffset, radix: 16))) lie beyond the end of the file (\(total) bytes)",
                at: headerOffset + 20)
        }
        let block: Int32
        if let i = blockIndex[name] {
            block = i
        } else {
            try hold(Self.nameEntryCost + name.utf8.count, "the entry of RAM block \"\(name)\" in the analysis")
            block = Int32(ram.pageBlockNames.count)
            blockIndex[name] = block
            ram.pageBlockNames.append(name)
        }
        let bitmap = bytes.copyBytes(at: Int(bitmapOffset), count: Int(bitmapSize))
        for i in 0..<Int(pages) where bitmap[i / 8] & (1 << UInt8(i % 8)) != 0 {
            let address = UInt64(i) * pageSize
            let page = RAMPage(block: block, address: address, content: .data(offset: Int(pagesOffset + address)))
            ram.dataPageCount += 1
            ram.notePage(block: block, address: address)
            if options.recordPages { ram.pages.append(page) }
            if let pageVisitor {
                pageVisitor(
                    RAMPageRecord(
                        sectionID: ramSectionID, generation: ram.generation, page: page,
                        offset: Int(pagesOffset + address)),
                    nil)
            }
        }
        pos = Int(pagesOffset + length)
    }

    // MARK: device state

    mutating func readStruct(_ desc: ParsedVMDescStruct, version: Int?) throws(StreamAnalysisError) -> FieldRecord {
        try hold(Self.recordEntryCost + 64 * desc.fields.count, "the record of description \"\(desc.vmsdName ?? "?")\"")
        var builder = RecordBuilder()
        for field in desc.fields {
            // Every element takes at least a byte in any real stream; a larger count can only
            // come from a corrupt vmdesc (and would otherwise spin on empty elements).
            if field.count > 1 && field.count > total - pos + 1 {
                path.append(.field(field.name, nil))
                throw error(
                    "the vmdesc gives \"\(field.name)\" \(field.count) elements, more than the \(total - pos) bytes left in the stream"
                )
            }
            // The array's path for its NULL entries, made at the first one (the same for all).
            var nullField: String? = nil
            for k in 0..<field.count {
                let start = pos
                let index = field.firstIndex.map { $0 + k }
                path.append(.field(field.name, index))
                let value: FieldValue
                // (A first entry is not NULL: QEMU 7.2 describes the array by it. One nested
                // in another element may be.)
                if readsNullMarkers, case .structure = field.reader, field.count > 1, k > 0 || path.count > 1,
                    try nullMarkerAhead()
                {
                    pos += 1
                    value = .nullPointer
                    let at = nullField ?? fieldPath(indexingLast: false) ?? field.name
                    nullField = at
                    // (No copy of the last entry is held across the append: its indices would be
                    // copied at each one, as a debug build does.)
                    let extendsLast = nullMarkers.last.map { $0.field == at && $0.indices.last.map { $0 < k } == true }
                    if extendsLast == true {
                        nullMarkers[nullMarkers.count - 1].indices.append(k)
                    } else {
                        nullMarkers.append((at, field.count, [k]))
                    }
                } else {
                    value = try readValue(field)
                }
                if pos == start {
                    // A count is bounded by the bytes left, per field and level: elements that
                    // take none (`"size": 0`, empty structs) multiply across nested arrays.
                    emptyElements += 1
                    if emptyElements > Self.emptyElementsLimit {
                        throw error(
                            "the vmdesc describes more than \(Self.emptyElementsLimit) elements that take no bytes of the stream (\"\(field.name)\" has \(field.count)): it does not describe this stream",
                            at: start)
                    }
                }
                if rules.repeatedNames == .mergeIntoList {
                    builder.merge(field.name, value: value, type: field.type, offset: start, end: pos)
                } else if let index {
                    if let problem = builder.appendElement(
                        field.name, index: index, value: value, type: field.type, offset: start, end: pos)
                    {
                        throw error(problem, at: start)
                    }
                } else {
                    builder.set(field.name, value: value, type: field.type, offset: start, end: pos)
                }
                path.removeLast()
            }
        }
        if let subsections = desc.subsections {
            for sub in subsections {
                let start = pos
                let expected = sub.vmsdName.map { "subsection \"\($0)\"" } ?? "a subsection"
                let marker = try u8("\(expected) (byte 0x05)")
                guard marker == subsectionMarker else {
                    throw error(
                        "expected \(expected) (byte 0x05), found byte 0x\(analysisHex(UInt64(marker), width: 2))",
                        at: start)
                }
                let nameOffset = pos
                let name = try shortString("the name of \(expected)")
                // (QEMU writes a subsection's name and version_id in the stream and its vmdesc
                // alike: they differ only when one was damaged or the vmdesc is another's.)
                if let described = sub.vmsdName, described != name {
                    throw error(
                        "found subsection \"\(name)\" where the vmdesc describes subsection \"\(described)\"\(givenVMDescMismatch)",
                        at: nameOffset)
                }
                let version = try be32("the version of subsection \"\(name)\"")
                if let described = sub.version, described != Int(version) {
                    throw error(
                        "subsection \"\(name)\" has version \(version), but the vmdesc describes version \(described)\(givenVMDescMismatch)",
                        at: pos - 4)
                }
                path.append(.subsection(name))
                let record = try readStruct(sub, version: Int(version))
                path.removeLast()
                builder.set(name, value: .record(record), type: "subsection", offset: start, end: pos)
            }
        }
        return FieldRecord(members: builder.finish(), vmsdName: desc.vmsdName, version: version)
    }

    mutating func readValue(_ field: ParsedVMDescField) throws(StreamAnalysisError) -> FieldValue {
        let inline: Bool
        switch field.reader {
        case .signed, .unsigned: inline = field.size <= 8
        case .bool, .nullPointer: inline = true
        case .structure, .generic, .capability: inline = false
        }
        try hold(inline ? Self.inlineValueCost : Self.valueEntryCost, "the entry of a \(field.type) value")
        switch field.reader {
        case .structure(let nested):
            return .record(try readStruct(nested, version: nested.version))
        case .bool:
            try need(field.size, "a bool (\(field.size) bytes)")
            guard field.size > 0 else { throw error("a bool field with size 0 in the vmdesc") }
            let v = buf[pos] != 0
            pos += field.size
            return .bool(v)
        case .signed, .unsigned:
            let bytes: IntegerBytes
            if inline {
                try need(field.size, "a \(field.type) value")
                bytes = IntegerBytes(UnsafeRawBufferPointer(rebasing: buf[pos..<(pos + field.size)]))
                pos += field.size
            } else {
                bytes = IntegerBytes(try bytesArray(field.size, "a \(field.type) value"))
            }
            if case .signed = field.reader { return .integer(bytes: bytes, signed: true) }
            return .integer(bytes: bytes, signed: false)
        case .generic:
            return .bytes(try bytesArray(field.size, "the \(field.type) data"))
        case .nullPointer:
            let start = pos
            let bytes = try bytesArray(field.size, "a NULL pointer marker (byte 0x30)")
            if let bad = bytes.first(where: { $0 != nullPointerMarker }) {
                throw error(
                    "expected the NULL pointer marker 0x30 of a nullptr entry, found 0x\(analysisHex(UInt64(bad), width: 2))",
                    at: start)
            }
            return .nullPointer
        case .capability:
            return .text(try shortString("a capability name"))
        }
    }
}

/// Collects a record's members with dictionary semantics: a name stays where it first
/// appeared; array elements accumulate in a list.
private struct RecordBuilder {
    var members: [FieldRecord.Member] = []
    var position: [String: Int] = [:]
    var lists: [Int: [FieldValue]] = [:]

    mutating func set(_ name: String, value: FieldValue, type: String, offset: Int, end: Int) {
        let member = FieldRecord.Member(name: name, value: value, type: type, offset: offset, length: end - offset)
        if let i = position[name] {
            members[i] = member
            lists[i] = nil
        } else {
            position[name] = members.count
            members.append(member)
        }
    }

    /// Appends element `index` of array `name`; returns a problem description on mismatch.
    mutating func appendElement(_ name: String, index: Int, value: FieldValue, type: String, offset: Int, end: Int)
        -> String?
    {
        if let i = position[name] {
            guard var list = lists[i] else {
                return "the vmdesc describes \"\(name)\" both as an array element and as a single field"
            }
            guard list.count == index else {
                return "the vmdesc lists element \(index) of \"\(name)\" where element \(list.count) was expected"
            }
            lists[i] = nil  // keep the array uniquely referenced while appending
            list.append(value)
            lists[i] = list
            members[i].length = end - members[i].offset
        } else {
            guard index == 0 else {
                return "the vmdesc lists element \(index) of \"\(name)\" where element 0 was expected"
            }
            position[name] = members.count
            lists[members.count] = [value]
            members.append(
                FieldRecord.Member(name: name, value: .list([]), type: type, offset: offset, length: end - offset))
        }
        return nil
    }

    /// QEMU 10.0's rule for a name seen again: the first value stays as is, the second makes
    /// the member a list of both, later ones are appended.
    mutating func merge(_ name: String, value: FieldValue, type: String, offset: Int, end: Int) {
        guard let i = position[name] else {
            set(name, value: value, type: type, offset: offset, end: end)
            return
        }
        var list = lists[i] ?? [members[i].value]
        lists[i] = nil  // keep the array uniquely referenced while appending
        list.append(value)
        lists[i] = list
        members[i].length = end - members[i].offset
    }

    mutating func finish() -> [FieldRecord.Member] {
        for (i, list) in lists { members[i].value = .list(list) }
        return members
    }
}
