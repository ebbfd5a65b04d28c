/// The device entries of a stream's own vmdesc (the JSON after EOF), with the number of section
/// bytes each describes, so that a section nobody registered can be skipped without
/// understanding it, and the exact JSON text of the entries it is asked for, so that such a
/// section can be kept (`KEEP_UNKNOWN`) and written back with its description.
struct VMDescIndex {
    struct Entry {
        let name: String
        let instanceID: UInt32
        /// Bytes of section data (between the section header and the footer).
        let size: Int
        /// The device object's JSON text, byte for byte as in the stream; nil unless the parse
        /// was asked for it (`texts`): the entries of a vmdesc for 4,096 x86 vCPUs hold 30 MB.
        let json: [UInt8]?
    }

    let pageSize: Int
    let entries: [Entry]
    /// The positions in ``entries`` of the entries of each name and instance id, in order: QEMU
    /// writes one entry per section as it saves it, and saves some devices as several sections
    /// of one name and instance (QEMU 7.2's isapc, both `isa-ide` channels as instance 0), each
    /// described as it is (a channel with a drive has subsections the other lacks). A stream
    /// looks one up per section it skips, and may have as many sections as entries.
    let positions: [SectionKey: [Int]]

    init(pageSize: Int, entries: [Entry]) {
        self.pageSize = pageSize
        self.entries = entries
        var positions: [SectionKey: [Int]] = [:]
        for (i, entry) in entries.enumerated() {
            positions[SectionKey(idstr: entry.name, instanceID: entry.instanceID), default: []].append(i)
        }
        self.positions = positions
    }

    /// The entry of the section of `name` and `instanceID` that is the stream's `occurrence`-th
    /// (from 0) of that name and instance: the entry of the same rank; nil when there are fewer
    /// (QEMU writes one entry per section it saves: a stream whose sections share an entry is
    /// crafted, and a load that kept each of them by one entry held without bound).
    func device(_ name: String, _ instanceID: UInt32, occurrence: Int) -> Entry? {
        guard let list = positions[SectionKey(idstr: name, instanceID: instanceID)], occurrence < list.count else {
            return nil
        }
        return entries[list[occurrence]]
    }

    /// How many entries the vmdesc has of `name` and `instanceID`.
    func count(_ name: String, _ instanceID: UInt32) -> Int {
        positions[SectionKey(idstr: name, instanceID: instanceID)]?.count ?? 0
    }

    /// A vmdesc followed by other bytes (``VMDescRecord/locateBeforeTrailingBytes(_:accept:)``):
    /// the last one in the file's window that parses, and the stream offset of its 0x06 marker;
    /// `texts` as for ``parse(_:refusal:texts:)``.
    static func findBeforeTrailingBytes(in file: MigrationFile, texts: (String, UInt32) -> Bool) -> (
        index: VMDescIndex, marker: Int
    )? {
        file.withAllBytes { all -> (index: VMDescIndex, marker: Int)? in
            var index: VMDescIndex?
            let record = VMDescRecord.locateBeforeTrailingBytes(all) { json in
                var refusal: String?
                index = parse(json, refusal: &refusal, texts: texts)
                return index != nil
            }
            guard let record, let index else { return nil }
            return (index, file.windowStartOffset + record.markerOffset)
        }
    }

    /// The vmdesc at the end of the file's window: 0x06, be32 length, then that much JSON (an
    /// object: `{"page_size"...` from QEMU 7.2, `{"configuration"...` from QEMU 8.2+) to the end
    /// of the input; and the stream offset of its 0x06 marker. Nil when the window ends without
    /// one (or it does not parse).
    /// `refusal` says why the parser refused the vmdesc at the end, when it did for its size or
    /// depth (``parse(_:refusal:texts:)``, which `texts` is passed to).
    static func find(in file: MigrationFile, refusal: inout String?, texts: (String, UInt32) -> Bool) -> (
        index: VMDescIndex, marker: Int
    )? {
        file.withAllBytes { all -> (index: VMDescIndex, marker: Int)? in
            guard let record = VMDescRecord.locateAtEnd(all),
                let index = parse(
                    UnsafeRawBufferPointer(rebasing: all[record.jsonOffset...]), refusal: &refusal, texts: texts)
            else { return nil }
            return (index, file.windowStartOffset + record.markerOffset)
        }
    }

    /// The deepest nesting of a vmdesc's JSON the registry parses: 64 levels. QEMU's nest 13 or
    /// 14 (pc and q35 machines: about three levels per nested description); the parser recurses
    /// once per level, and a load may run on a thread with a small stack.
    static let maximumDepth = 64

    /// The index of a vmdesc's JSON text (parsed in place, not copied), or nil when it is none
    /// of QEMU's shape; `refusal` is set when the parser refused it for the memory its value
    /// would take (`JSONValue.parsedMemoryLimit`) or its depth (``maximumDepth``). `texts` says,
    /// by name and instance id, which entries keep their JSON text (``Entry/json``).
    static func parse(
        _ text: UnsafeRawBufferPointer, refusal: inout String?, texts: (String, UInt32) -> Bool
    ) -> VMDescIndex? {
        let root: JSONValue
        do {
            root = try JSONValue(parsing: text, maximumDepth: maximumDepth)
        } catch {
            if error.tooLarge || error.tooDeep {
                refusal = "\(error.message) (at byte \(error.offset) of its JSON)"
            }
            return nil
        }
        guard let devices = root["devices"]?.arrayValue else { return nil }
        let ranges = deviceRanges(text)
        guard ranges.count == devices.count else { return nil }
        var pageSize = StreamFormat.pageSize
        if let value = root["page_size"] {
            guard let v = value.intValue, v > 0 else { return nil }
            pageSize = v
        }
        var entries: [Entry] = []
        for (device, range) in zip(devices, ranges) {
            guard let size = dataSize(device) else { return nil }
            var instance: UInt32 = 0
            if let value = device["instance_id"] {
                // Numbers come from the stream: an instance id that is not a uint32 is no match.
                guard let id = value.int64Value.flatMap({ UInt32(exactly: $0) }) else { return nil }
                instance = id
            }
            let name = device["name"]?.stringValue ?? ""
            let json = texts(name, instance) ? Array(text[range]) : nil
            entries.append(Entry(name: name, instanceID: instance, size: size, json: json))
        }
        return VMDescIndex(pageSize: pageSize, entries: entries)
    }

    /// Larger than any section (sizes come from the stream and must not overflow).
    static let maximumDataSize = Int(Int32.max) << 16

    /// Section bytes a description object stands for: its fields' sizes (times array_len for
    /// compressed arrays) and, per subsection, its header (0x05, length, name, be32 version).
    /// Nil when it does not add up to a plausible size.
    static func dataSize(_ description: JSONValue) -> Int? {
        guard description.objectValue != nil else { return nil }
        var total = 0
        for field in description["fields"]?.arrayValue ?? [] {
            guard let size = field["size"]?.intValue else { return nil }
            let count = field["array_len"].map { $0.intValue ?? -1 } ?? 1
            // Numbers come from the stream: refuse what no real section has.
            guard size >= 0, count >= 0, size <= Int(Int32.max), count <= Int(Int32.max) else { return nil }
            total += size * count
            guard total <= maximumDataSize else { return nil }
        }
        for sub in description["subsections"]?.arrayValue ?? [] {
            guard let inner = dataSize(sub) else { return nil }
            total += 2 + (sub["vmsd_name"]?.stringValue?.utf8.count ?? 0) + 4 + inner
            guard total <= maximumDataSize else { return nil }
        }
        return total
    }

    /// The byte ranges of the elements of the top-level "devices" array: the objects at depth 2
    /// (the root object is depth 1), found by counting brackets outside strings.
    static func deviceRanges(_ text: UnsafeRawBufferPointer) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var depth = 0
        var start = 0
        var inString = false
        var escaped = false
        for (i, c) in text.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if c == UInt8(ascii: "\\") {
                    escaped = true
                } else if c == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch c {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth == 3 && c == UInt8(ascii: "{") { start = i }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 3 && c == UInt8(ascii: "}") { ranges.append(start..<i + 1) }
                depth -= 1
            default: break
            }
        }
        return ranges
    }
}
