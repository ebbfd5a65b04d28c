import VMState

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
// Field-level differences between two migration streams.
//
// Sections are matched by idstr and instance id (not by section id, which depends on
// registration order and differs between QEMU versions); sections that share both pair up in
// stream order. The configuration section's machine type, capabilities and VM UUID come first,
// as the section "configuration". Within a section, members are matched by name, array elements by
// index. Values compare as they are in the stream (bytes and type). RAM is compared page by
// page per block; a page a stream does not send counts as zero-filled, which is what the
// destination's fresh RAM holds.

/// One difference between stream A and stream B.
public struct StreamDifference: Sendable, Equatable {
    /// What differs (the `kind` of `--json`).
    public enum Kind: String, Sendable {
        /// Both streams have the field; the values differ.
        case changed
        /// Only stream A has the section or field.
        case onlyInA = "only-in-a"
        /// Only stream B has the section or field.
        case onlyInB = "only-in-b"
        /// The section, or a subsection, exists in both, with different versions (in its
        /// header in the stream).
        case version
    }

    /// The section's idstr, e.g. `cpu`, `0000:00:01.1/ide`.
    public var section: String
    /// The section's instance id.
    public var instance: UInt32
    /// Path of the field inside the section (`env.segs[1]/base`); empty for the section itself.
    public var field: String
    /// What differs.
    public var kind: Kind
    /// The values as analyze-migration.py spells them; nil where the stream has none.
    public var a: String?
    /// The value in stream B, spelled as for `a`.
    public var b: String?

    /// Which of the stream's sections of this idstr and instance id it is, from 0 (QEMU sends
    /// some devices' sections several times with one instance id: isapc's isa-ide, QEMU 7.2's
    /// slirp of each `-netdev user`); they pair up in stream order.
    public var occurrence: Int

    /// A difference with every part given.
    public init(
        section: String, instance: UInt32, field: String, kind: Kind, a: String?, b: String?, occurrence: Int = 0
    ) {
        self.section = section
        self.instance = instance
        self.field = field
        self.kind = kind
        self.a = a
        self.b = b
        self.occurrence = occurrence
    }

    /// `cpu`, or `dma (instance 1)` for instances other than 0; `slirp (instance 0, 2nd
    /// section)` for the second section of one idstr and instance.
    public var sectionLabel: String {
        guard occurrence > 0 else { return instance == 0 ? section : "\(section) (instance \(instance))" }
        return "\(section) (instance \(instance), \(ordinal(occurrence + 1)) section)"
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, ..., `11th`, `12th`, `13th`, ..., `21st`.
func ordinal(_ n: Int) -> String {
    let suffix = n % 100 / 10 == 1 ? "th" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : n % 10 == 1 ? "st" : "th"
    return "\(n)\(suffix)"
}

extension StreamDifference {
    /// `{"section", "instance", "field", "kind", "a", "b"}`, and `"occurrence"` when above 0.
    var json: JSONValue {
        var o: JSONObject = [
            "section": .string(section),
            "instance": .number(JSONNumber(Int64(instance))),
            "field": .string(field),
            "kind": .string(kind.rawValue),
            "a": a.map { .string($0) } ?? .null,
            "b": b.map { .string($0) } ?? .null,
        ]
        if occurrence > 0 { o["occurrence"] = .number(JSONNumber(Int64(occurrence))) }
        return .object(o)
    }
}

/// How one RAM block differs.
public struct RAMBlockDifference: Sendable, Equatable {
    /// The RAM block's idstr (`pc.ram`).
    public var block: String
    /// Used lengths announced by each stream (nil when the stream does not have the block).
    public var lengthA: UInt64?
    /// The used length stream B announces (nil when B does not have the block).
    public var lengthB: UInt64?
    /// Offsets (within the block) of the first byte of differing pages, as inclusive ranges of
    /// page start addresses: `0x2000...0x4000` means the pages at 0x2000, 0x3000 and 0x4000.
    public var pageRanges: [ClosedRange<UInt64>]
    /// Number of differing pages.
    public var pageCount: Int
    /// Number of ranges of differing pages: `pageRanges.count`, or more when the diff kept only
    /// the first ranges (``StreamDiff/Options/keptRanges``).
    public var rangeCount: Int
    /// Where all the ranges are in the diff's ``StreamDiff/rangeSpill`` (with
    /// `Options.rangesOnDisk`).
    package var spilledRanges: Range<Int>?

    /// A block difference with every part given (`rangeCount`: `pageRanges.count` when nil).
    public init(
        block: String, lengthA: UInt64?, lengthB: UInt64?, pageRanges: [ClosedRange<UInt64>], rangeCount: Int? = nil,
        pageCount: Int
    ) {
        self.block = block
        self.lengthA = lengthA
        self.lengthB = lengthB
        self.pageRanges = pageRanges
        self.rangeCount = rangeCount ?? pageRanges.count
        self.pageCount = pageCount
    }
}

/// A stream of a diff that is bad input where only the comparison reads it (a RAM page QEMU
/// refuses: ``AnnouncedRAMBlocks``): which stream, and where and why.
public struct StreamDiffInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which stream: "A" (the first given) or "B".
    public var stream: String
    /// What is wrong with it, where.
    public var error: StreamAnalysisError

    /// `stream A: ` and the error.
    public var description: String { "stream \(stream): \(error)" }
}

/// All differences between two streams.
public struct StreamDiff: Sendable, Equatable {
    /// Differences of sections and fields, in stream order (none held for a diff made with
    /// `Options.differencesOnDisk`: they are in ``differenceSpill``).
    public var differences: [StreamDifference] = []
    /// Differences of RAM, per block.
    public var ram: [RAMBlockDifference] = []
    /// The target page size of the streams (bytes): A's (when B's differs, a `configuration`
    /// "page size" difference says so and RAM is not compared).
    public var pageSize: Int = 4096

    /// True when the streams hold the same state.
    public var isEqual: Bool { differenceCount == 0 && ram.isEmpty }

    /// Number of differences of sections and fields, held or on disk.
    package var differenceCount: Int { differences.count + (differenceSpill?.count ?? 0) }

    /// What was compared, for the last line of `text`: "streams" or "descriptions".
    public var subject = "streams"
    /// Remarks printed before the differences ("note: ..."): what was left out of the
    /// comparison.
    public var notes: [String] = []
    /// All page ranges, with `Options.rangesOnDisk`.
    package var rangeSpill: PageRangeSpill?
    /// All differences of sections and fields, with `Options.differencesOnDisk`.
    package var differenceSpill: DifferenceSpill?

    /// What to compare.
    public struct Options: Sendable {
        /// Compare RAM contents (page by page, read again from the streams: `recordPages` is not
        /// needed). Without, the RAM blocks announced and their lengths are still compared.
        public var compareRAM: Bool
        /// Report at most this many runs of differing bytes per buffer field.
        public var maxByteRuns: Int
        /// Keep at most this many page ranges per RAM block in `pageRanges` (they are all
        /// counted in `rangeCount`); nil keeps them all. `text(maxRanges:)` shows no more than
        /// its `maxRanges`: with the same number here, memory does not grow with the number of
        /// differing ranges.
        public var keptRanges: Int?
        /// Also write every page range to a temporary file (`StreamDiff.rangeSpill`), for
        /// ``StreamDiff/writeJSON(to:)`` to list them all while memory holds only `keptRanges`.
        package var rangesOnDisk = false
        /// Write the differences of sections and fields to a temporary file
        /// (`StreamDiff.differenceSpill`) as they are found, rather than hold them in
        /// `differences`: memory does not grow with their number (the tool's, whose
        /// ``StreamDiff/writeText(maxRanges:to:)`` and ``StreamDiff/writeJSON(to:)`` read them
        /// back).
        package var differencesOnDisk = false

        /// Options; by default RAM is compared, 8 byte runs are reported per buffer and every
        /// page range is kept.
        public init(compareRAM: Bool = true, maxByteRuns: Int = 8, keptRanges: Int? = nil) {
            self.compareRAM = compareRAM
            self.maxByteRuns = maxByteRuns
            self.keptRanges = keptRanges
        }
    }

    /// Compares two streams (read with or without `recordPages`: RAM pages are read again from
    /// the streams, whatever their sizes, in bounded memory). `progress` receives now and then
    /// the work done, in units of which there are 2 × (size of A + size of B) in all when RAM is
    /// compared (none otherwise): the streams' pages are scanned (their offsets), then compared.
    /// Throws `StreamFileError` when the temporary files of the page index cannot be written or
    /// read (in `$TMPDIR`, default /tmp: 24 bytes per page record), ``StreamDiffInputError``
    /// naming the stream for a RAM page QEMU refuses (of a block the stream did not announce, or
    /// past its block's length) or a stream whose pages no longer read as they did,
    /// `StreamAnalysisError` when a stream's device sections no longer read as they did.
    public init(
        _ a: StreamAnalysis, _ b: StreamAnalysis, options: Options = Options(), progress: ((Int) -> Void)? = nil
    ) throws {
        pageSize = a.pageSize
        var builder = DiffBuilder(options: options, spill: options.differencesOnDisk ? DifferenceSpill() : nil)
        // The configuration section: QEMU refuses a stream of another machine type, or with
        // other validated capabilities.
        if a.machineType != b.machineType {
            builder.append(
                StreamDifference(
                    section: "configuration", instance: 0, field: "machine type", kind: .changed,
                    a: a.machineType ?? "(no configuration section)", b: b.machineType ?? "(no configuration section)"))
        }
        if a.capabilities != b.capabilities {
            func list(_ c: [String]) -> String { c.isEmpty ? "(none)" : c.joined(separator: ", ") }
            builder.append(
                StreamDifference(
                    section: "configuration", instance: 0, field: "capabilities", kind: .changed,
                    a: list(a.capabilities), b: list(b.capabilities)))
        }
        // The VM UUID (sent with the capability validate-uuid): a destination started with
        // another -uuid refuses the stream.
        if a.uuid != b.uuid {
            builder.append(
                StreamDifference(
                    section: "configuration", instance: 0, field: "uuid", kind: .changed,
                    a: a.uuidString ?? "(not sent)", b: b.uuidString ?? "(not sent)"))
        }
        // The target page size (configuration/target-page-bits, or the vmdesc's page_size):
        // QEMU refuses a stream of another one, and pages of two sizes are not compared.
        let samePageSize = a.pageSize == b.pageSize
        if !samePageSize {
            builder.append(
                StreamDifference(
                    section: "configuration", instance: 0, field: "page size", kind: .changed,
                    a: "\(a.pageSize) bytes", b: "\(b.pageSize) bytes"))
            if options.compareRAM {
                notes.append(
                    "RAM not compared: the streams' target pages differ in size (A \(a.pageSize) bytes, B \(b.pageSize))"
                )
            }
        }
        // configuration/target-page-bits, sent where the target's page size is above its
        // minimum (ARM): a destination that sends it refuses a stream without it, which it
        // takes as of the minimum ("Received TARGET_PAGE_BITS is 10 but local is 12").
        if a.targetPageBits != b.targetPageBits && a.machineType != nil && b.machineType != nil {
            builder.append(
                StreamDifference(
                    section: "configuration", instance: 0, field: "target page bits", kind: .changed,
                    a: a.targetPageBits.map(String.init) ?? "(not sent)",
                    b: b.targetPageBits.map(String.init) ?? "(not sent)"))
        }
        // Section footers (-global migration.send-section-footer=off leaves them out): a
        // destination that expects them refuses a stream without them, and the other way.
        if a.footersTurnedOff != b.footersTurnedOff && a.machineType != nil && b.machineType != nil {
            func footers(_ s: StreamAnalysis) -> String {
                s.footersTurnedOff ? "none (send-section-footer=off)" : "sent"
            }
            builder.append(
                StreamDifference(
                    section: "configuration", instance: 0, field: "section footers", kind: .changed,
                    a: footers(a), b: footers(b)))
        }
        // QEMU can send several sections with the same idstr and instance id (isapc's isa-ide
        // devices all register instance 0): those pair up in stream order, the nth with the nth.
        struct Key: Hashable { var name: String; var instance: UInt32; var occurrence: Int }
        // (Each section with its index in its stream's sections.)
        func keyed(_ sections: [AnalyzedSection]) -> [(Key, Int)] {
            var counts: [String: [UInt32: Int]] = [:]
            return sections.indices.map { i in
                let s = sections[i]
                let n = counts[s.name, default: [:]][s.instanceID, default: 0]
                counts[s.name, default: [:]][s.instanceID] = n + 1
                return (Key(name: s.name, instance: s.instanceID, occurrence: n), i)
            }
        }
        // Device sections read without keeping their fields are read again here, a pair at a
        // time (``StreamAnalysis/deviceRecord(at:reader:)``).
        let rereaderA = try a.makeDeviceSectionRereader()
        let rereaderB = try b.makeDeviceSectionRereader()
        func summary(_ s: StreamAnalysis, _ i: Int, _ reader: StreamAnalysis.DeviceSectionRereader?) throws -> String {
            sectionSummary(s.sections[i], record: try s.deviceRecord(at: i, reader: reader))
        }
        let bKeyed = keyed(b.sections)
        var bSections: [Key: Int] = [:]
        for (key, i) in bKeyed { bSections[key] = i }
        var seen = Set<Key>()
        typealias RAMSide = (StreamAnalysis, AnalyzedSection, RAMSection)
        var ramPairs: [(RAMSide?, RAMSide?)] = []
        for (key, ia) in keyed(a.sections) {
            let sa = a.sections[ia]
            seen.insert(key)
            builder.occurrence = key.occurrence
            guard let ib = bSections[key] else {
                builder.add(sa, "", .onlyInA, a: try summary(a, ia, rereaderA), b: nil)
                if case .ram(let r) = sa.content { ramPairs.append(((a, sa, r), nil)) }
                continue
            }
            let sb = b.sections[ib]
            if sa.version != sb.version {
                builder.add(sa, "", .version, a: "version \(sa.version)", b: "version \(sb.version)")
            }
            switch (sa.content, sb.content) {
            case (.device, .device):
                if let ra = try a.deviceRecord(at: ia, reader: rereaderA),
                    let rb = try b.deviceRecord(at: ib, reader: rereaderB)
                {
                    builder.compareRecords(ra, rb, section: sa, path: "")
                }
            case (.ram(let ra), .ram(let rb)):
                ramPairs.append(((a, sa, ra), (b, sb, rb)))
            case (.htab, .htab), (.storageAttributes, .storageAttributes):
                break
            default:
                builder.add(
                    sa, "", .changed, a: try summary(a, ia, rereaderA), b: try summary(b, ib, rereaderB))
            }
        }
        for (key, ib) in bKeyed where !seen.contains(key) {
            let sb = b.sections[ib]
            builder.occurrence = key.occurrence
            builder.add(sb, "", .onlyInB, a: nil, b: try summary(b, ib, rereaderB))
            if case .ram(let r) = sb.content { ramPairs.append((nil, (b, sb, r))) }
        }
        differences = builder.differences
        differenceSpill = builder.spill
        try differenceSpill?.finish()
        if options.compareRAM && samePageSize {
            let span = 2 * (a.bytes.count + b.bytes.count)
            if options.rangesOnDisk { rangeSpill = try PageRangeSpill() }
            // Each stream's pages of every RAM section compared, in one index per stream (one pass
            // each, however many RAM sections it has); pair i's block names are numbered from
            // its `base`, so the indexes hold the pairs one after another.
            var pairs: [RAMPairNames] = []
            var base: UInt32 = 0
            for (ra, rb) in ramPairs {
                let names = RAMPairNames(ra, rb, base: base)
                base += UInt32(names.names.count)
                pairs.append(names)
            }
            let half = span / 2
            let spanA =
                a.bytes.count + b.bytes.count == 0
                ? 0 : Int(Double(half) * Double(a.bytes.count) / Double(a.bytes.count + b.bytes.count))
            let indexA: SortedPageIndex?, indexB: SortedPageIndex?
            do {
                indexA = try pagesOfRAMSections(
                    a, ramPairs.map { $0.0 }, pairs, progress: progress, progressBase: 0, progressSpan: spanA)
            } catch let e as StreamAnalysisError where e.isInStream {
                throw StreamDiffInputError(stream: "A", error: e)
            }
            do {
                indexB = try pagesOfRAMSections(
                    b, ramPairs.map { $0.1 }, pairs, progress: progress, progressBase: spanA, progressSpan: half - spanA
                )
            } catch let e as StreamAnalysisError where e.isInStream {
                throw StreamDiffInputError(stream: "B", error: e)
            }
            let cursorA = try PageCursor(indexA), cursorB = try PageCursor(indexB)
            let entries = max(1, (indexA?.entryCount ?? 0) + (indexB?.entryCount ?? 0))
            for (i, (ra, rb)) in ramPairs.enumerated() {
                ram += try compareRAM(
                    ra, rb, pairs[i], cursorA, cursorB, pageSize: a.pageSize, keepRanges: options.keptRanges,
                    spill: rangeSpill, progress: progress, progressBase: half, progressSpan: span - half,
                    entries: entries, notes: &notes)
            }
            try rangeSpill?.flush()
        } else {
            // RAM contents not compared: the blocks each stream announces and their lengths
            // still are (QEMU refuses a stream whose blocks differ: "Size mismatch").
            for (ra, rb) in ramPairs {
                let la = blockLengths(ra), lb = blockLengths(rb)
                for name in RAMPairNames(ra, rb, base: 0).names where la[name] != lb[name] {
                    ram.append(
                        RAMBlockDifference(
                            block: name, lengthA: la[name], lengthB: lb[name], pageRanges: [], pageCount: 0))
                }
            }
        }
    }
}

/// `record`: the device section's fields (``StreamAnalysis/deviceRecord(at:reader:)``).
private func sectionSummary(_ s: AnalyzedSection, record: FieldRecord?) -> String {
    switch s.content {
    case .device(let kept):
        return "section id \(s.sectionID), version \(s.version), \((record ?? kept).members.count) members"
    case .ram(let r): return "RAM, \(r.blocks.count) blocks"
    case .htab: return "hash page table"
    case .storageAttributes: return "s390 storage attributes"
    }
}

private struct DiffBuilder {
    let options: StreamDiff.Options
    /// The differences found, unless they go to `spill`.
    var differences: [StreamDifference] = []
    let spill: DifferenceSpill?

    init(options: StreamDiff.Options, spill: DifferenceSpill?) {
        self.options = options
        self.spill = spill
    }

    mutating func append(_ d: StreamDifference) {
        if let spill { spill.append(d) } else { differences.append(d) }
    }

    /// The ``StreamDifference/occurrence`` of the section being compared.
    var occurrence = 0

    mutating func add(_ s: AnalyzedSection, _ path: String, _ kind: StreamDifference.Kind, a: String?, b: String?) {
        append(
            StreamDifference(
                section: s.name, instance: s.instanceID, field: path, kind: kind, a: a, b: b, occurrence: occurrence))
    }

    func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : path + "/" + name }

    mutating func compareRecords(_ a: FieldRecord, _ b: FieldRecord, section: AnalyzedSection, path: String) {
        var bIndex: [String: Int] = [:]
        for (i, m) in b.members.enumerated() { bIndex[m.name] = i }
        var matched = Set<String>()
        for ma in a.members {
            let p = join(path, ma.name)
            guard let i = bIndex[ma.name] else {
                add(section, p, .onlyInA, a: summary(ma.value), b: nil)
                continue
            }
            matched.insert(ma.name)
            let mb = b.members[i]
            // A subsection's version is in its header in the stream, as a section's is (QEMU
            // refuses one newer than its own: "cpu/slb: incoming version_id 2 is too new").
            if ma.type == "subsection", mb.type == "subsection", case .record(let ra) = ma.value,
                case .record(let rb) = mb.value, let va = ra.version, let vb = rb.version, va != vb
            {
                add(section, p, .version, a: "version \(va)", b: "version \(vb)")
            }
            compareValues(ma.value, mb.value, section: section, path: p)
        }
        for mb in b.members where !matched.contains(mb.name) {
            add(section, join(path, mb.name), .onlyInB, a: nil, b: summary(mb.value))
        }
    }

    mutating func compareValues(_ a: FieldValue, _ b: FieldValue, section: AnalyzedSection, path: String) {
        if a == b { return }
        switch (a, b) {
        case (.record(let ra), .record(let rb)):
            compareRecords(ra, rb, section: section, path: path)
        case (.list(let la), .list(let lb)):
            for i in 0..<min(la.count, lb.count) {
                compareValues(la[i], lb[i], section: section, path: "\(path)[\(i)]")
            }
            if la.count > lb.count {
                for i in lb.count..<la.count { add(section, "\(path)[\(i)]", .onlyInA, a: summary(la[i]), b: nil) }
            } else if lb.count > la.count {
                for i in la.count..<lb.count { add(section, "\(path)[\(i)]", .onlyInB, a: nil, b: summary(lb[i])) }
            }
        case (.bytes(let ba), .bytes(let bb)) where ba.count == bb.count && ba.count > 16:
            compareBuffers(ba, bb, section: section, path: path)
        case (.bytes(let ba), .bytes(let bb)) where max(ba.count, bb.count) > 16:
            // Buffers of two lengths (a PCI device's config space, a virtio-blk of another
            // queue count): the lengths, then where the bytes both have differ.
            add(section, "\(path) (length)", .changed, a: "\(ba.count) bytes", b: "\(bb.count) bytes")
            let n = min(ba.count, bb.count)
            compareBuffers(Array(ba.prefix(n)), Array(bb.prefix(n)), section: section, path: path, common: true)
        default:
            var (sa, sb) = (summary(a), summary(b))
            if sa == sb {
                // The same bytes read as another kind of value (ahci `ports`: `int32 equal` in
                // QEMU 7.2, `uint32 equal` in 10.0): the kinds say what changed.
                sa += " (\(kindName(a)))"
                sb += " (\(kindName(b)))"
            }
            add(section, path, .changed, a: sa, b: sb)
        }
    }

    /// The kind of a value as the stream's vmdesc types it, for two values that print alike.
    func kindName(_ v: FieldValue) -> String {
        switch v {
        case .integer(_, let signed): return signed ? "signed integer" : "unsigned integer"
        case .bool: return "bool"
        case .bytes: return "bytes"
        case .record: return "struct"
        case .list: return "array"
        case .nullPointer: return "nullptr"
        case .text: return "string"
        }
    }

    /// Long buffers of one length (`common`: the bytes two buffers of two lengths both have):
    /// one difference per run of differing bytes, `field bytes 0x10-0x13` (its bytes, cut after 32
    /// as ``summary(_:)`` cuts a buffer), at most
    /// `options.maxByteRuns` of them, then one that counts the bytes that differ in the rest
    /// (not the equal bytes inside their runs).
    mutating func compareBuffers(
        _ a: [UInt8], _ b: [UInt8], section: AnalyzedSection, path: String, common: Bool = false
    ) {
        var runs: [Range<Int>] = []
        var i = 0
        while i < a.count {
            if a[i] == b[i] { i += 1; continue }
            var j = i + 1
            // Merge runs separated by fewer than 4 equal bytes.
            while j < a.count {
                if a[j] != b[j] { j += 1; continue }
                var k = j
                while k < a.count && k < j + 4 && a[k] == b[k] { k += 1 }
                if k < a.count && k < j + 4 { j = k } else { break }
            }
            runs.append(i..<j)
            i = j
        }
        let limit = options.maxByteRuns > 0 ? options.maxByteRuns : runs.count
        for r in runs.prefix(limit) {
            let where_ =
                r.count == 1
                ? "byte 0x\(String(r.lowerBound, radix: 16))"
                : "bytes 0x\(String(r.lowerBound, radix: 16))-0x\(String(r.upperBound - 1, radix: 16))"
            // (A long run, as of a virtio device's whole buffer, shows its first 32 bytes.)
            add(
                section, "\(path) \(where_)", .changed, a: summary(.bytes(Array(a[r]))),
                b: summary(.bytes(Array(b[r]))))
        }
        if runs.count > limit {
            let rest = runs.dropFirst(limit)
            let n = rest.reduce(0) { total, r in total + r.count { a[$0] != b[$0] } }
            let of = common ? "of the \(a.count) both have" : "of \(a.count)"
            let bytes = "\(n) more differing \(n == 1 ? "byte" : "bytes") \(of)"
            add(
                section, "\(path) (\(rest.count) more \(rest.count == 1 ? "run" : "runs"))", .changed, a: bytes,
                b: bytes)
        }
    }

    func summary(_ v: FieldValue) -> String {
        switch v {
        case .record(let r):
            return r.vmsdName.map { "struct \"\($0)\" (\(r.members.count) members)" }
                ?? "struct (\(r.members.count) members)"
        case .list(let l):
            return "array of \(l.count)"
        case .bytes(let b) where b.count > 32:
            return FieldValue.bytes(Array(b.prefix(32))).displayString + " ... (\(b.count) bytes)"
        default:
            return v.displayString
        }
    }
}

// MARK: - RAM

/// Compares the RAM of two sections (nil: the stream has no such section). Each stream's pages
/// are first sorted into an index on disk (``PageIndexBuilder``: the last record of every page,
/// by block and address), then both indexes are walked together and the pages compared, their
/// bytes read one page at a time (pread, `StreamBytes.copyBytes`): memory stays bounded whatever
/// the streams' sizes, and nothing maps a whole file.
/// The block names of a pair of RAM sections (either side may be missing), numbered from
/// `base` in the order: A's MEM_SIZE blocks, B's, A's page blocks, B's.
private struct RAMPairNames {
    var names: [String] = []
    var number: [String: UInt32] = [:]
    let base: UInt32

    init(
        _ a: (StreamAnalysis, AnalyzedSection, RAMSection)?, _ b: (StreamAnalysis, AnalyzedSection, RAMSection)?,
        base: UInt32
    ) {
        self.base = base
        for n in (a?.2.blocks.map(\.name) ?? []) + (b?.2.blocks.map(\.name) ?? []) + (a?.2.pageBlockNames ?? [])
            + (b?.2.pageBlockNames ?? [])
        where number[n] == nil {
            number[n] = base + UInt32(names.count)
            names.append(n)
        }
    }
}

/// The pages of `sides` (RAM sections of `analysis`, one per pair; nil where a pair has none
/// on this side) sorted into one index on disk (``PageIndexBuilder``: the last record of every
/// page, by block and address), each page's block numbered as its pair numbers it: one pass over
/// the stream, none when no section has a page record. A stream with XBZRLE pages has its
/// records sorted by page and stream order first (``ExternalSort``, 32 bytes a record) and each
/// page's records folded (``PageFold``): the index then names the decoded pages
/// (`SortedPageIndex.decoded`). Progress by stream offset. A page of a block the stream did not
/// announce, or past its block's length, is refused (``AnnouncedRAMBlocks``), as QEMU's
/// destination and `analyze -x` refuse it.
private func pagesOfRAMSections(
    _ analysis: StreamAnalysis, _ sides: [(StreamAnalysis, AnalyzedSection, RAMSection)?], _ pairs: [RAMPairNames],
    progress: ((Int) -> Void)?, progressBase: Int, progressSpan: Int
) throws -> SortedPageIndex? {
    // By section id: the section's generation, its page blocks' names and numbers, and the
    // lengths announced for them (nil: not announced).
    struct Section {
        var generation: Int
        var names: [String]
        var blocks: [UInt32]
        var lengths: [UInt64?]
    }
    var sections: [UInt32: Section] = [:]
    let announced = AnnouncedRAMBlocks(analysis)
    for (i, side) in sides.enumerated() {
        guard let (_, section, ram) = side, ram.pageCount > 0 else { continue }
        sections[section.sectionID] = Section(
            generation: ram.generation, names: ram.pageBlockNames,
            blocks: ram.pageBlockNames.map { pairs[i].number[$0]! },
            lengths: ram.pageBlockNames.map { announced.lengths[$0] })
    }
    let builder = try PageIndexBuilder()
    if sections.isEmpty { return try builder.finish() }
    // A page of a block not announced, or past its length, is refused with AnnouncedRAMBlocks's
    // message (the lengths looked up once per section, not once per page).
    var refused: StreamAnalysisError?
    func accepts(_ record: RAMPageRecord, _ s: Section) -> Bool {
        let block = Int(record.page.block)
        if announced.fits(record.page.address, s.lengths[block]) { return true }
        do throws(StreamAnalysisError) { try announced.check(record, block: s.names[block]) } catch { refused = error }
        return refused == nil
    }
    let total = max(analysis.bytes.count, 1)
    let report = progress.map { p in
        { (offset: Int) in p(progressBase + Int(Double(offset) / Double(total) * Double(progressSpan))) }
    }
    let xbzrle = sides.contains { ($0?.2.xbzrlePageCount ?? 0) > 0 }
    guard xbzrle else {
        try analysis.scanPages(progress: report) { record, _ in
            guard refused == nil, let s = sections[record.sectionID], record.generation == s.generation,
                accepts(record, s)
            else { return }
            builder.add(
                block: s.blocks[Int(record.page.block)], address: record.page.address, content: record.page.content)
        }
        if let refused { throw refused }
        return try builder.finish()
    }
    // XBZRLE pages: the records sorted by page, then stream order, and each page's records
    // folded into what it holds at the end (``PageFold``), which the index takes in order.
    let what = "RAM pages of diff"
    let byPage = try ExternalSort<MemoryPageRecord>(what, chunkCapacity: 1 << 17, by: MemoryPageRecord.byPage)
    var number: UInt64 = 0
    var failure: StreamFileError?
    try analysis.scanPages(progress: report) { record, _ in
        guard failure == nil, refused == nil, let s = sections[record.sectionID], record.generation == s.generation,
            accepts(record, s)
        else { return }
        var page = record.page
        page.block = Int32(bitPattern: s.blocks[Int(page.block)])
        do throws(StreamFileError) { try byPage.append(MemoryPageRecord(page, number: number)) } catch {
            failure = error
        }
        number += 1
    }
    if let refused { throw refused }
    if let failure { throw failure }
    let fold = PageFold(bytes: analysis.bytes, pageSize: analysis.pageSize, decoded: nil)
    try fold.foldEach(try byPage.sorted()) { f in
        builder.add(block: f.block, address: f.address, content: f.page.content)
    }
    var index = try builder.finish()
    index.decoded = fold.pages.decoded
    return index
}

/// A RAM section's block lengths by name (the first block of a name, as the lists have each
/// once); empty for a side without the section.
private func blockLengths(_ side: (StreamAnalysis, AnalyzedSection, RAMSection)?) -> [String: UInt64] {
    Dictionary((side?.2.blocks ?? []).map { ($0.name, $0.length) }, uniquingKeysWith: { first, _ in first })
}

/// A walk of one stream's page index, shared by the pairs compared one after another.
private final class PageCursor {
    let iterator: PageRunMerger?
    var entry: PageIndexEntry?
    /// The pages the index's `.decoded` entries name.
    let decoded: DecodedPages?

    init(_ index: SortedPageIndex?) throws {
        decoded = index?.decoded
        iterator = try index?.makeIterator()
        entry = try iterator?.next()
    }

    func advance() throws { entry = try iterator?.next() }
}

/// Compares the RAM of two sections (nil: the stream has no such section), pair `names` of the
/// indexes `ca` and `cb` walk (``pagesOfRAMSections``): both walked together and the pages
/// compared, their bytes read one page at a time (pread, `StreamBytes.copyBytes`): memory stays
/// bounded whatever the streams' sizes, and nothing maps a whole file.
private func compareRAM(
    _ a: (StreamAnalysis, AnalyzedSection, RAMSection)?, _ b: (StreamAnalysis, AnalyzedSection, RAMSection)?,
    _ pair: RAMPairNames, _ ca: PageCursor, _ cb: PageCursor, pageSize: Int, keepRanges: Int?,
    spill: PageRangeSpill?, progress: ((Int) -> Void)?, progressBase: Int, progressSpan: Int, entries: Int,
    notes: inout [String]
) throws -> [RAMBlockDifference] {
    let aBytes = a?.0.bytes, bBytes = b?.0.bytes
    // Two page buffers, and a page of the fill byte last compared with.
    let pageA = UnsafeMutableRawBufferPointer.allocate(byteCount: pageSize, alignment: 16)
    let pageB = UnsafeMutableRawBufferPointer.allocate(byteCount: pageSize, alignment: 16)
    let filled = UnsafeMutableRawBufferPointer.allocate(byteCount: pageSize, alignment: 16)
    defer {
        pageA.deallocate()
        pageB.deallocate()
        filled.deallocate()
    }
    var fillByte: UInt8? = nil
    let sourceA = aBytes.map {
        PageSource(bytes: $0, decoded: ca.decoded, compressed: CompressedPages(pageSize: pageSize))
    }
    let sourceB = bBytes.map {
        PageSource(bytes: $0, decoded: cb.decoded, compressed: CompressedPages(pageSize: pageSize))
    }
    func isFilled(_ source: PageSource?, _ content: RAMPage.Content, _ v: UInt8) throws -> Bool {
        guard let source else { return false }
        // (The analysis read this page record whole; a short read now means the file changed.)
        try source.load(content, into: pageA)
        if fillByte != v {
            filled.initializeMemory(as: UInt8.self, repeating: v)
            fillByte = v
        }
        // SAFETY: both buffers hold pageSize initialized bytes.
        return memcmp(pageA.baseAddress!, filled.baseAddress!, pageSize) == 0
    }
    func same(_ x: RAMPage.Content, _ y: RAMPage.Content) throws -> Bool {
        switch (x, y) {
        case (.fill(let u), .fill(let v)): return u == v
        case (.fill(let u), _): return try isFilled(sourceB, y, u)
        case (_, .fill(let v)): return try isFilled(sourceA, x, v)
        default:
            guard let sourceA, let sourceB else { return false }
            try sourceA.load(x, into: pageA)
            try sourceB.load(y, into: pageB)
            // SAFETY: both buffers hold pageSize bytes just read.
            return memcmp(pageA.baseAddress!, pageB.baseAddress!, pageSize) == 0
        }
    }
    // Both indexes together, page by page; progress by entries read.
    var consumed = 0
    var nextReport = 0
    let reportEvery = max(1, entries / 200)
    var result: [RAMBlockDifference] = []
    let lengthsA = blockLengths(a), lengthsB = blockLengths(b)
    // With x-ignore-shared, the blocks a stream announced and sent no page of: QEMU skips RAM
    // on a shared file (it sends every page of the others), so their contents are not in the
    // stream, and are not compared.
    func unsent(_ side: (StreamAnalysis, AnalyzedSection, RAMSection)?) -> Set<String> {
        guard let side, side.0.capabilities.contains("x-ignore-shared") else { return [] }
        return Set(side.2.blocks.filter { $0.length > 0 }.map(\.name)).subtracting(side.2.pageBlockNames)
    }
    let unsentA = unsent(a), unsentB = unsent(b)
    for (g, name) in pair.names.enumerated() {
        let g = pair.base + UInt32(g)
        let la = lengthsA[name]
        let lb = lengthsB[name]
        let skipped = [unsentA.contains(name) ? "A" : nil, unsentB.contains(name) ? "B" : nil].compactMap { $0 }
        if !skipped.isEmpty {
            // Past the other stream's pages of the block, unread.
            while let x = ca.entry, x.block == g {
                try ca.advance()
                consumed += 1
            }
            while let y = cb.entry, y.block == g {
                try cb.advance()
                consumed += 1
            }
            notes.append(
                "RAM block \"\(escapingControlCharacters(name))\" not compared: stream\(skipped.count == 2 ? "s A and B have" : " \(skipped[0]) has") "
                    + "x-ignore-shared and sent no page of it (RAM on a shared file is not in the stream; nor is "
                    + "unplugged virtio-mem memory)")
            if la != lb {
                result.append(RAMBlockDifference(block: name, lengthA: la, lengthB: lb, pageRanges: [], pageCount: 0))
            }
            continue
        }
        var pageCount = 0
        var kept: [ClosedRange<UInt64>] = []
        var rangeCount = 0
        var open: ClosedRange<UInt64>? = nil
        let spillStart = spill?.count
        func close() throws {
            guard let r = open else { return }
            if keepRanges.map({ kept.count < $0 }) ?? true { kept.append(r) }
            try spill?.append(r)
            rangeCount += 1
            open = nil
        }
        while true {
            let x = ca.entry.flatMap { $0.block == g ? $0 : nil }, y = cb.entry.flatMap { $0.block == g ? $0 : nil }
            let address: UInt64
            var sa: RAMPage.Content = .fill(0), sb: RAMPage.Content = .fill(0)
            if let x, y == nil || x.address <= y!.address {
                address = x.address
                sa = x.state
                try ca.advance()
                consumed += 1
            } else if let y {
                address = y.address
            } else {
                break
            }
            if let y, y.address == address {
                sb = y.state
                try cb.advance()
                consumed += 1
            }
            if let progress, consumed >= nextReport {
                progress(progressBase + Int(Double(consumed) / Double(entries) * Double(progressSpan)))
                nextReport = consumed + reportEvery
            }
            if try same(sa, sb) { continue }
            pageCount += 1
            if let r = open, address > r.upperBound, address - r.upperBound == UInt64(pageSize) {
                open = r.lowerBound...address
            } else {
                try close()
                open = address...address
            }
        }
        try close()
        if pageCount == 0 && la == lb { continue }
        var difference = RAMBlockDifference(
            block: name, lengthA: la, lengthB: lb, pageRanges: kept, rangeCount: rangeCount, pageCount: pageCount)
        if let spillStart, let spill { difference.spilledRanges = spillStart..<spill.count }
        result.append(difference)
    }
    return result
}

// MARK: - Output

extension StreamDiff {
    /// The differences as JSON: `{"sections": [{"section", "instance", "field", "kind", "a",
    /// "b"}...], "ram": [{"block", "length_a", "length_b", "pages", "ranges": [[start, end]...]}]}`
    /// (values that a stream lacks are null; addresses are "0x%016x" strings), and `"notes"`
    /// (a list of strings) when there are any.
    package var json: JSONValue {
        var blocks: [JSONValue] = []
        for r in ram {
            var o = blockJSONHead(r)
            o["ranges"] = .array(r.pageRanges.map(rangeJSON))
            blocks.append(.object(o))
        }
        var o: JSONObject = ["sections": .array(differences.map(\.json)), "ram": .array(blocks)]
        if !notes.isEmpty { o["notes"] = .array(notes.map { .string($0) }) }
        return .object(o)
    }

    /// Writes ``json`` to `writer` (the same text), the page ranges of a diff made with
    /// `Options.rangesOnDisk` read back from their file a buffer at a time: memory does not
    /// grow with their number. Throws `StreamFileError` when that file cannot be read.
    package func writeJSON(to writer: inout JSONTextWriter) throws(StreamFileError) {
        writer.beginObject()
        writer.key("sections")
        writer.beginArray()
        for d in differences { writer.value(d.json) }
        try differenceSpill?.forEach { writer.value($0.json) }
        writer.endArray()
        writer.key("ram")
        writer.beginArray()
        for r in ram {
            writer.beginObject()
            for m in blockJSONHead(r).members {
                writer.key(m.key)
                writer.value(m.value)
            }
            writer.key("ranges")
            writer.beginArray()
            if let spilled = r.spilledRanges, let rangeSpill {
                try rangeSpill.forEach(spilled) { writer.value(rangeJSON($0)) }
            } else {
                for range in r.pageRanges { writer.value(rangeJSON(range)) }
            }
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
        if !notes.isEmpty {
            writer.key("notes")
            writer.value(.array(notes.map { .string($0) }))
        }
        writer.endObject()
    }

    /// A RAM block's members before "ranges".
    private func blockJSONHead(_ r: RAMBlockDifference) -> JSONObject {
        [
            "block": .string(r.block),
            "length_a": r.lengthA.map { .string("0x" + analysisHex($0, width: 16)) } ?? .null,
            "length_b": r.lengthB.map { .string("0x" + analysisHex($0, width: 16)) } ?? .null,
            "pages": .number(JSONNumber(r.pageCount)),
        ]
    }

    /// `["0x<first byte>", "0x<last byte>"]` of a range of pages.
    private func rangeJSON(_ r: ClosedRange<UInt64>) -> JSONValue {
        .array([
            .string("0x" + analysisHex(r.lowerBound, width: 16)),
            .string("0x" + analysisHex(r.upperBound + (UInt64(pageSize) - 1), width: 16)),
        ])
    }

    /// Human-readable report, one difference per entry:
    ///
    ///     cpu: env.eip
    ///         A: 0x000000000000fff0
    ///         B: 0x000000000000b7b9
    ///     ram: pc.ram: 12 pages differ: 0x0000000000000000-0x0000000000002fff, ...
    ///
    /// At most `maxRanges` page ranges per block; with 0 (or none kept), only their number:
    /// `ram: pc.ram: 12 pages differ in 3 ranges`. (The whole text in one string: the tool
    /// writes it a piece at a time, ``writeText(maxRanges:to:)``.)
    public func text(maxRanges: Int = 16) -> String {
        var text = ""
        do {
            try writeText(maxRanges: maxRanges) { text += $0 }
        } catch {
            // (Only a diff made with `Options.differencesOnDisk` reads a file here.)
            text += "error: \(error)\n"
        }
        return text
    }

    /// Writes ``text(maxRanges:)`` to `write` in pieces of about 64 KiB (each whole
    /// characters), the differences of a diff made with `Options.differencesOnDisk` and the
    /// page ranges of one made with `Options.rangesOnDisk` read back from their files a buffer
    /// at a time: memory does not grow with their number. Throws `StreamFileError` when those
    /// files cannot be read.
    package func writeText(maxRanges: Int = 16, to write: (String) -> Void) throws(StreamFileError) {
        var chunk = ""
        func line(_ l: String) {
            chunk += l
            chunk += "\n"
            if chunk.utf8.count >= 1 << 16 {
                write(chunk)
                chunk = ""
            }
        }
        for note in notes { line("note: \(note)") }
        func difference(_ d: StreamDifference) {
            // (A name or value from a stream may hold a newline: escaped, as other controls
            // are, it cannot make a line of its own, such as "streams are equal".)
            let head = escapingControlCharacters(d.field.isEmpty ? d.sectionLabel : "\(d.sectionLabel): \(d.field)")
            let a = d.a.map { escapingControlCharacters($0) }, b = d.b.map { escapingControlCharacters($0) }
            switch d.kind {
            case .onlyInA:
                line("\(head)  (only in A)")
                line("    A: \(a ?? "")")
            case .onlyInB:
                line("\(head)  (only in B)")
                line("    B: \(b ?? "")")
            case .changed, .version:
                line(head)
                line("    A: \(a ?? "-")")
                line("    B: \(b ?? "-")")
            }
        }
        for d in differences { difference(d) }
        try differenceSpill?.forEach { difference($0) }
        for r in ram {
            var text = "ram: \(escapingControlCharacters(r.block)):"
            if r.lengthA != r.lengthB {
                let la = r.lengthA.map { "0x" + analysisHex($0, width: 16) } ?? "absent"
                let lb = r.lengthB.map { "0x" + analysisHex($0, width: 16) } ?? "absent"
                text += " length A \(la), B \(lb)"
                if r.pageCount > 0 { text += ";" }
            }
            guard r.pageCount > 0 else {
                line(text)
                continue
            }
            text += r.pageCount == 1 ? " 1 page differs" : " \(r.pageCount) pages differ"
            // The ranges kept, or (on disk) all of them, read back a buffer at a time: a line
            // of a million ranges is written in pieces, never held whole.
            let spilled = rangeSpill != nil ? r.spilledRanges : nil
            let shown = min(max(0, maxRanges), spilled?.count ?? r.pageRanges.count)
            guard shown > 0 else {
                line(text + (r.rangeCount == 1 ? " in 1 range" : " in \(r.rangeCount) ranges"))
                continue
            }
            chunk += text + ": "
            var first = true
            func range(_ x: ClosedRange<UInt64>) {
                if !first { chunk += ", " }
                first = false
                let last = x.upperBound + (UInt64(pageSize) - 1)
                chunk += "0x\(analysisHex(x.lowerBound, width: 16))-0x\(analysisHex(last, width: 16))"
                if chunk.utf8.count >= 1 << 16 {
                    write(chunk)
                    chunk = ""
                }
            }
            if let spilled, let rangeSpill {
                try rangeSpill.forEach(spilled.prefix(shown)) { range($0) }
            } else {
                for x in r.pageRanges.prefix(shown) { range(x) }
            }
            line(r.rangeCount > shown ? ", ... (\(r.rangeCount - shown) more ranges)" : "")
        }
        if isEqual {
            line("\(subject) are equal")
        } else {
            let sections = Set(differences.map(\.sectionLabel)).union(differenceSpill?.sectionLabels ?? []).count
            let count = differenceCount
            var summary =
                "\(count) difference\(count == 1 ? "" : "s") in \(sections) section\(sections == 1 ? "" : "s")"
            if !ram.isEmpty {
                summary += ", \(ram.count) RAM block\(ram.count == 1 ? "" : "s") differ\(ram.count == 1 ? "s" : "")"
            }
            line(summary)
        }
        if !chunk.isEmpty { write(chunk) }
    }
}

// MARK: - Descriptions

extension StreamDiff {
    /// Compares two sets of device descriptions (from `-dump-vmstate` files or vmdescs, made
    /// comparable with `DescriptionSet.comparable` when their formats differ), field by field.
    ///
    /// Sections are matched by key (`-dump-vmstate`: class name; vmdesc: idstr and instance id;
    /// mixed: description name), the n-th of a key with the n-th (QEMU saves some devices as
    /// sections of one idstr and instance: isapc's three `isa-ide`; the second labeled "NAME
    /// (instance 0, 2nd section)", as a stream diff labels it). Per description: its name,
    /// `version_id`, `minimum_version_id` (when both have one), its fields matched by name (the n-th field of a
    /// name with the n-th of that name: type, size, array length, the version the field
    /// appeared in, whether it is conditional, its nested description) and their order, and its
    /// subsections matched by name. Difference kinds: `.version` for version numbers, `.changed`
    /// for a field or description that differs, `.onlyInA`/`.onlyInB` for a section, field or
    /// subsection one side lacks. Field paths are like the library's error paths:
    /// `parent_obj/config`, `irq_reinject/reinject_count` (a subsection by the part of its name
    /// after its parent's "/").
    public init(descriptions a: DescriptionSet, _ b: DescriptionSet, notes: [String] = []) {
        self.init(descriptions: a, b, notes: notes, differencesOnDisk: false)
    }

    /// The comparison of ``init(descriptions:_:notes:)``; with `differencesOnDisk` (the tool's)
    /// the differences go to ``differenceSpill`` as they are found, none held in `differences`
    /// (a failure to write it is thrown by ``writeText(maxRanges:to:)`` and ``writeJSON(to:)``).
    package init(descriptions a: DescriptionSet, _ b: DescriptionSet, notes: [String] = [], differencesOnDisk: Bool) {
        subject = "descriptions"
        self.notes = notes
        let sameFormat = a.format == b.format
        var out: [StreamDifference] = []
        let spill = differencesOnDisk ? DifferenceSpill() : nil
        differenceSpill = spill
        func append(_ d: StreamDifference) {
            if let spill { spill.append(d) } else { out.append(d) }
        }
        // Two -dump-vmstate files: the machine type each was dumped for (its "vmschkmachine"
        // entry; QEMU refuses a stream of another machine type).
        // (One without "vmschkmachine", which QEMU always writes, differs from one with it.)
        if a.format == .dumpVMState, b.format == .dumpVMState, a.machine != b.machine {
            append(
                StreamDifference(
                    section: "vmschkmachine", instance: 0, field: "Name", kind: .changed, a: a.machine ?? "(none)",
                    b: b.machine ?? "(none)", occurrence: 0))
        }
        struct Key: Hashable { var section: String; var instance: UInt32 }
        var bByKey: [Key: [DescriptionSet.Entry]] = [:]
        for e in b.entries { bByKey[Key(section: e.section, instance: e.instance), default: []].append(e) }
        // How many entries of each key A has (B's after those are only in B).
        var aCount: [Key: Int] = [:]
        for ea in a.entries {
            let key = Key(section: ea.section, instance: ea.instance)
            let n = aCount[key, default: 0]
            aCount[key] = n + 1
            func add(_ field: String, _ kind: StreamDifference.Kind, _ va: String?, _ vb: String?) {
                append(
                    StreamDifference(
                        section: ea.section, instance: ea.instance, field: field, kind: kind, a: va, b: vb,
                        occurrence: n))
            }
            guard let entries = bByKey[key], n < entries.count else {
                add("", .onlyInA, descriptionSummary(ea.value["Description"]?.objectValue), nil)
                continue
            }
            let eb = entries[n]
            let da = ea.value["Description"]?.objectValue ?? JSONObject()
            let db = eb.value["Description"]?.objectValue ?? JSONObject()
            compareDescriptions(da, db, path: [], sameFormat: sameFormat, add: add)
        }
        var bCount: [Key: Int] = [:]
        for eb in b.entries {
            let key = Key(section: eb.section, instance: eb.instance)
            let n = bCount[key, default: 0]
            bCount[key] = n + 1
            guard n >= aCount[key, default: 0] else { continue }
            append(
                StreamDifference(
                    section: eb.section, instance: eb.instance, field: "", kind: .onlyInB,
                    a: nil, b: descriptionSummary(eb.value["Description"]?.objectValue), occurrence: n))
        }
        differences = out
    }
}

/// `description "i8254", version 3 (minimum 2), 5 fields`
private func descriptionSummary(_ d: JSONObject?) -> String {
    guard let d else { return "no description" }
    var s = "description \"\(d["name"]?.stringValue ?? "?")\""
    if let v = d["version_id"]?.int64Value { s += ", version \(v)" }
    if let m = d["minimum_version_id"]?.int64Value { s += " (minimum \(m))" }
    let n = d["Fields"]?.arrayValue?.count ?? 0
    s += ", \(n) field\(n == 1 ? "" : "s")"
    if let subs = d["Subsections"]?.arrayValue, !subs.isEmpty {
        s += ", \(subs.count) subsection\(subs.count == 1 ? "" : "s")"
    }
    return s
}

/// `uint16, 2 bytes`, `uint8 x 32, 32 bytes`, `struct "PCIDevice", 2608 bytes, from version 2,
/// conditional`
private func fieldSummary(_ f: JSONObject) -> String {
    var parts: [String] = []
    var head = f["type"]?.stringValue
    if let n = f["array_len"]?.int64Value ?? f["num"]?.int64Value { head = (head.map { $0 + " " } ?? "") + "x \(n)" }
    if let head { parts.append(head) }
    if let d = f["Description"]?.objectValue { parts.append("description \"\(d["name"]?.stringValue ?? "?")\"") }
    if let size = f["size"]?.int64Value { parts.append(size == 1 ? "1 byte" : "\(size) bytes") }
    if let v = f["version_id"]?.int64Value, v > 0 { parts.append("from version \(v)") }
    if f["field_exists"]?.boolValue == true { parts.append("conditional") }
    if let nulls = f["null_entries"]?.stringValue { parts.append("NULL entries \(nulls)") }
    if f["entries_differ"] != nil { parts.append("entries described in more than one way") }
    return parts.joined(separator: ", ")
}

/// `path`: the names from the section down to `a` and `b` (joined with "/" only for a
/// difference: held joined at every level, the paths of descriptions nested deep under long
/// names took memory quadratic in the depth).
private func compareDescriptions(
    _ a: JSONObject, _ b: JSONObject, path: [String], sameFormat: Bool,
    add report: (String, StreamDifference.Kind, String?, String?) -> Void
) {
    func add(_ path: [String], _ kind: StreamDifference.Kind, _ va: String?, _ vb: String?) {
        // (As `join` from "" on: names before the first that is not empty are dropped.)
        let first = path.firstIndex { !$0.isEmpty } ?? path.endIndex
        report(path[first...].joined(separator: "/"), kind, va, vb)
    }
    let nameA = a["name"]?.stringValue ?? "?", nameB = b["name"]?.stringValue ?? "?"
    if nameA != nameB {
        add(path, .changed, descriptionSummary(a), descriptionSummary(b))
        return
    }
    let va = a["version_id"]?.int64Value, vb = b["version_id"]?.int64Value
    if va != vb {
        add(path, .version, va.map { "version \($0)" } ?? "no version", vb.map { "version \($0)" } ?? "no version")
    }
    if let ma = a["minimum_version_id"]?.int64Value, let mb = b["minimum_version_id"]?.int64Value, ma != mb {
        add(path, .version, "minimum version \(ma)", "minimum version \(mb)")
    }
    // Fields: the n-th field of a name matches the n-th of that name on the other side (an
    // array of structs one side describes per element compared per element).
    let (fieldsA, fieldsB) = DescriptionSet.matchingElementEntries(
        (a["Fields"]?.arrayValue ?? []).compactMap(\.objectValue),
        (b["Fields"]?.arrayValue ?? []).compactMap(\.objectValue),
        wholeArraySizes: false)
    func keyed(_ fields: [JSONObject]) -> [(key: String, name: String, field: JSONObject)] {
        var count: [String: Int] = [:]
        return fields.map { f in
            let name = f["field"]?.stringValue ?? "?"
            let n = count[name, default: 0]
            count[name] = n + 1
            return (n == 0 ? name : "\(name)#\(n + 1)", name, f)
        }
    }
    let fa = keyed(fieldsA), fb = keyed(fieldsB)
    var bIndex: [String: Int] = [:]
    for (i, f) in fb.enumerated() { bIndex[f.key] = i }
    let aKeys = Set(fa.map(\.key))
    for f in fa {
        let p = path + [f.key]
        guard let j = bIndex[f.key] else {
            add(p, .onlyInA, fieldSummary(f.field), nil)
            continue
        }
        let g = fb[j].field
        var x = f.field, y = g
        if !sameFormat {
            // What only one format has: a vmdesc's type and array length, -dump-vmstate's field
            // versions and conditions. A vmdesc's struct size is what the fields wrote,
            // -dump-vmstate's the C struct's.
            for attr in ["type", "array_len", "version_id", "field_exists"] {
                x[attr] = nil
                y[attr] = nil
            }
            // -dump-vmstate's size 0: a field whose VMStateInfo decides how many bytes it writes
            // (msix state, ...), which only the vmdesc's size says.
            if x["Description"] != nil || y["Description"] != nil || x["size"] == 0 || y["size"] == 0 {
                x["size"] = nil
                y["size"] = nil
            }
        }
        // "num" (-dump-vmstate of QEMU 8.1 and later, fixed-size arrays) only when both have it:
        // QEMU 7.2's dumps have none.
        if x["num"] == nil || y["num"] == nil {
            x["num"] = nil
            y["num"] = nil
        }
        var differs = false
        // ("null_entries", "entries_differ": an array of pointers with NULL entries,
        // `DescriptionSet.mergingNullRuns`.)
        for attr in [
            "type", "array_len", "num", "size", "version_id", "field_exists", "null_entries", "entries_differ",
        ] {
            if x[attr] != y[attr] { differs = true }
        }
        let da = x["Description"]?.objectValue, db = y["Description"]?.objectValue
        if (da == nil) != (db == nil) { differs = true }
        if differs {
            add(p, .changed, fieldSummary(x), fieldSummary(y))
        }
        if let da, let db {
            compareDescriptions(da, db, path: p, sameFormat: sameFormat, add: report)
        }
    }
    for f in fb where !aKeys.contains(f.key) {
        add(path + [f.key], .onlyInB, nil, fieldSummary(f.field))
    }
    let common = Set(fb.map(\.key)).intersection(aKeys)
    let orderA = fa.map(\.key).filter(common.contains), orderB = fb.map(\.key).filter(common.contains)
    if orderA != orderB {
        add(path + ["(field order)"], .changed, orderA.joined(separator: ", "), orderB.joined(separator: ", "))
    }
    // Subsections by name; shown by the part of the name after the parent's "/".
    let sa = (a["Subsections"]?.arrayValue ?? []).compactMap(\.objectValue)
    let sb = (b["Subsections"]?.arrayValue ?? []).compactMap(\.objectValue)
    func label(_ s: JSONObject) -> String {
        let n = s["name"]?.stringValue ?? "?"
        return n.hasPrefix(nameA + "/") ? String(n.dropFirst(nameA.count + 1)) : n
    }
    // Matched by "name" (the first of B's with an equal one): string names through an index
    // built once per side (a description may have many subsections); any other (a number,
    // null, none) only among the others, which never equal a string.
    func firstByName(_ list: [JSONObject]) -> [String: Int] {
        var first: [String: Int] = [:]
        for (i, o) in list.enumerated() {
            if let n = o["name"]?.stringValue, first[n] == nil { first[n] = i }
        }
        return first
    }
    let firstA = firstByName(sa), firstB = firstByName(sb)
    let otherA = sa.filter { $0["name"]?.stringValue == nil }, otherB = sb.filter { $0["name"]?.stringValue == nil }
    func match(_ s: JSONObject, _ first: [String: Int], _ list: [JSONObject], _ other: [JSONObject]) -> JSONObject? {
        if let n = s["name"]?.stringValue { return first[n].map { list[$0] } }
        return other.first { $0["name"] == s["name"] }
    }
    for s in sa {
        guard let t = match(s, firstB, sb, otherB) else {
            add(path + [label(s)], .onlyInA, "subsection " + descriptionSummary(s), nil)
            continue
        }
        compareDescriptions(s, t, path: path + [label(s)], sameFormat: sameFormat, add: report)
    }
    for t in sb where match(t, firstA, sa, otherA) == nil {
        add(path + [label(t)], .onlyInB, nil, "subsection " + descriptionSummary(t))
    }
}
