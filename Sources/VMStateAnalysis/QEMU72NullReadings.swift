// Whether a QEMU 7.2 device section read with its NULL entries recognised (the byte 0x30 where
// an element of an array of structs that the vmdesc describes by its first entry starts,
// `StreamAnalysis.Options.readsQEMU72NullEntries`) reads to its footer one way only.
//
// QEMU 7.2 writes a NULL entry of an array of pointers as the one byte 0x30 (VMS_NULLPTR_MARKER)
// and loads it as NULL only where the destination's own pointer is NULL (migration/vmstate.c,
// `vmstate_load_state`, `get_nullptr`): the stream alone does not say whether an element that
// starts with 0x30 is a NULL entry or an element whose first byte is 0x30. The first reading
// takes every such byte as NULL; another reading takes some as elements. Both are valid when both
// end where the section's footer is, and then the stream does not tell its NULL entries.

/// Counts the readings of one device section's data that end at its footer, a 0x30 where an
/// element of an array of structs may be NULL taken either way: one (the first reading's), or
/// more, or not counted (the search took more than ``stepsPerByte`` steps per byte of the
/// section). Depth first, NULL first (so the first reading is the first found), stopped at the
/// second; an entry is not searched when the bytes left cannot hold what remains to be read: a
/// NULL entry takes one byte, which must be a 0x30, and an element at least its description's
/// fewest bytes (``Bounds``); and a state (place in the descriptions, position) reached again is
/// not searched again: it led to a reading (then this is another) or did not.
package struct QEMU72NullReadings {
    package enum Count: Sendable, Equatable {
        /// The section reads to its footer one way only.
        case one
        /// Another way too (stopped at the second).
        case several
        /// The search stopped before it knew (``stepsPerByte``).
        case uncounted
    }

    /// The search's bound: steps (an element or value read, a state taken up again) per byte
    /// of the section, plus what is left of ``extraSteps`` for the whole stream (a real
    /// s390x `css` of five channel subsystems takes some 10^5); beyond that the count is
    /// ``Count/uncounted``. Each step's work is bounded by the descriptions' depth
    /// (``Bounds/kept``), so the time is linear in the section.
    package static let stepsPerByte = 4
    package static let extraSteps = 1 << 20
    static let marker: UInt8 = 0x30

    /// Counts the readings of the section `desc` describes in `buf` (indexed by stream offset,
    /// holding `start..<end`), `start` where its data starts and `end` where the first reading
    /// ended (its footer); `streamLength` the stream's, for the element count check the reader
    /// makes (an array of more elements than the bytes left).
    /// `extra`: the steps beyond ``stepsPerByte`` left for the stream (``extraSteps`` at its
    /// start), less those this search takes beyond them.
    static func count(
        _ desc: ParsedVMDescStruct, in buf: UnsafeRawBufferPointer, from start: Int, to end: Int, streamLength: Int,
        extra: inout Int
    ) -> Count {
        var search = QEMU72NullReadings(buf: buf, start: start, end: end, streamLength: streamLength)
        let own = product(end - start, Self.stepsPerByte)
        let (count, steps) = search.run(desc, limit: sum(own, extra))
        extra = max(0, extra - max(0, steps - own))
        return count
    }

    private struct Frame {
        let s: ParsedVMDescStruct
        /// Inside an element or subsection: every element of an array of structs may be NULL
        /// (at a section's own fields, all but the first, by which QEMU 7.2 describes it).
        let nested: Bool
        var field = 0
        var k = 0
        var sub = 0
    }

    /// A lower bound of the bytes what remains takes: `bytes` with every entry that may be NULL
    /// an element, less the largest `savings` (an element's fewest bytes less one) of as many
    /// entries as there are bytes 0x30 left, each NULL entry taking one. At most
    /// ``Bounds/kept`` savings are kept: the entries of smaller ones count as saving the smallest
    /// kept, which makes the bound lower (it prunes less), never wrong, and keeps the work of a
    /// description of thousands of distinct element sizes linear in it (hostile10 F1: cubic).
    package struct Bounds {
        package static let kept = 32
        package var bytes = 0
        /// (saving, entries), by saving, largest first.
        package private(set) var savings: [(saving: Int, count: Int)] = []

        package init() {}
        private init(bytes: Int, savings: [(saving: Int, count: Int)]) { (self.bytes, self.savings) = (bytes, savings) }

        package mutating func add(_ other: Bounds) {
            bytes = sum(bytes, other.bytes)
            guard !other.savings.isEmpty else { return }
            guard !savings.isEmpty else {
                savings = other.savings
                return
            }
            // Two lists by saving, largest first, merged.
            var merged: [(saving: Int, count: Int)] = []
            merged.reserveCapacity(min(savings.count + other.savings.count, Self.kept + 1))
            var i = 0
            var j = 0
            while i < savings.count || j < other.savings.count {
                let next: (saving: Int, count: Int)
                if j == other.savings.count || (i < savings.count && savings[i].saving > other.savings[j].saving) {
                    next = savings[i]
                    i += 1
                } else if i == savings.count || other.savings[j].saving > savings[i].saving {
                    next = other.savings[j]
                    j += 1
                } else {
                    next = (savings[i].saving, sum(savings[i].count, other.savings[j].count))
                    i += 1
                    j += 1
                }
                merged.append(next)
                if merged.count > Self.kept {
                    let last = merged.removeLast()
                    merged[Self.kept - 1].count = sum(merged[Self.kept - 1].count, last.count)
                }
            }
            savings = merged
        }

        package mutating func add(saving: Int, count: Int) {
            guard saving > 0, count > 0 else { return }
            add(Bounds(bytes: 0, savings: [(saving, count)]))
        }

        /// The fewest bytes with at most `nulls` NULL entries.
        package func least(nulls: Int) -> Int {
            var left = nulls
            var total = bytes
            for s in savings where left > 0 {
                let n = min(left, s.count)
                total -= product(n, s.saving)
                left -= n
            }
            return total
        }
    }

    private let buf: UnsafeRawBufferPointer
    private let start: Int
    private let end: Int
    private let streamLength: Int
    /// The bytes 0x30 from each 64-byte block of the section (from `start`) to its end.
    private var blockNulls: [Int32] = []
    /// An element's fewest bytes, by description.
    private var fewest: [ObjectIdentifier: Int] = [:]
    /// What the fields from index f on (and the subsections) take at least, and the subsections
    /// from index j on, by description and whether nested.
    private var suffix: [SuffixKey: (fields: [Bounds], subs: [Bounds])] = [:]
    private struct SuffixKey: Hashable {
        let id: ObjectIdentifier
        let nested: Bool
    }

    private init(buf: UnsafeRawBufferPointer, start: Int, end: Int, streamLength: Int) {
        (self.buf, self.start, self.end, self.streamLength) = (buf, start, end, streamLength)
        let blocks = (end - start + 63) / 64
        blockNulls = Array(repeating: 0, count: blocks + 1)
        var b = blocks - 1
        while b >= 0 {
            var n: Int32 = 0
            for i in (start + b * 64)..<min(end, start + b * 64 + 64) where buf[i] == Self.marker { n += 1 }
            blockNulls[b] = blockNulls[b + 1] + n
            b -= 1
        }
    }

    /// The bytes 0x30 in `at..<end`.
    private func nulls(from at: Int) -> Int {
        guard at < end else { return 0 }
        let b = (at - start + 63) / 64
        var n = Int(blockNulls[b])
        for i in at..<min(end, start + b * 64) where buf[i] == Self.marker { n += 1 }
        return n
    }

    /// The count, and the steps taken.
    private mutating func run(_ desc: ParsedVMDescStruct, limit: Int) -> (Count, Int) {
        var steps = 0
        var readings = 0
        var pos = start
        var frames = [Frame(s: desc, nested: false)]
        var putAside: [(pos: Int, frames: [Frame])] = []
        // The states put aside searched from (whether they led to a reading), and those being
        // searched from: index in `putAside` whence taken, readings before.
        var explored: [StateKey: Bool] = [:]
        var open: [(key: StateKey, index: Int, readings: Int)] = []
        while true {
            steps += 1
            if steps > limit { return (.uncounted, steps) }
            var failed = false
            if let top = frames.last {
                let s = top.s
                let at = frames.count - 1
                if top.field < s.fields.count {
                    let field = s.fields[top.field]
                    if top.k == 0, field.count > 1, field.count > streamLength - pos + 1 {
                        failed = true
                    } else if top.k >= field.count {
                        frames[at].field += 1
                        frames[at].k = 0
                    } else {
                        frames[at].k += 1
                        if case .structure(let nested) = field.reader {
                            let element = Frame(s: nested, nested: true)
                            if field.count > 1, top.k > 0 || top.nested, pos < end, buf[pos] == Self.marker {
                                // Either an element that starts with 0x30 (put aside) or NULL.
                                let z = nulls(from: pos)
                                let rest = remaining(frames)
                                steps = sum(steps, frames.count)  // (its work)
                                // (An element of a byte or more takes the 0x30 at `pos`: what
                                // follows it starts later.)
                                let least = elementFewest(nested)
                                var asElement = rest
                                asElement.bytes = sum(asElement.bytes, least)
                                if asElement.least(nulls: least > 0 ? z - 1 : z) <= end - pos {
                                    putAside.append((pos, frames + [element]))
                                }
                                // (Both ways put aside, NULL taken first: each state is searched
                                // once, `explored`.)
                                if rest.least(nulls: z - 1) <= end - pos - 1 { putAside.append((pos + 1, frames)) }
                                failed = true
                            } else {
                                frames.append(element)
                            }
                        } else {
                            failed = !read(field, at: &pos)
                        }
                    }
                } else if let subs = s.subsections, top.sub < subs.count {
                    frames[at].sub += 1
                    let sub = subs[top.sub]
                    if readSubsectionHeader(sub, at: &pos) {
                        frames.append(Frame(s: sub, nested: true))
                    } else {
                        failed = true
                    }
                } else {
                    frames.removeLast()
                    if frames.isEmpty {
                        if pos == end { readings += 1 }
                        if readings > 1 { return (.several, steps) }
                        failed = true
                    }
                }
            } else {
                failed = true
            }
            guard failed || pos > end else { continue }
            // The next state put aside that was not searched from; one that was, which led to a
            // reading, leads to another from here.
            while true {
                guard let next = putAside.popLast() else { return (readings == 1 ? .one : .uncounted, steps) }
                let j = putAside.count
                while let o = open.last, o.index > j {
                    explored[o.key] = readings > o.readings
                    open.removeLast()
                }
                let key = StateKey(pos: next.pos, frames: next.frames)
                if let led = explored[key] {
                    if led { readings += 1 }
                    if readings > 1 { return (.several, steps) }
                    continue
                }
                steps += 1
                open.append((key, j, readings))
                (pos, frames) = next
                break
            }
        }
    }

    /// Where a search from a state put aside stands: the frames' places and the position.
    private struct StateKey: Hashable {
        struct Place: Hashable {
            let id: ObjectIdentifier
            let nested: Bool
            let field: Int
            let k: Int
            let sub: Int
        }
        let pos: Int
        let places: [Place]

        init(pos: Int, frames: [Frame]) {
            self.pos = pos
            places = frames.map {
                Place(id: ObjectIdentifier($0.s), nested: $0.nested, field: $0.field, k: $0.k, sub: $0.sub)
            }
        }
    }

    /// A value of `field` (not a struct) at `pos`; false when it does not fit before `end`.
    private func read(_ field: ParsedVMDescField, at pos: inout Int) -> Bool {
        switch field.reader {
        case .structure:
            return false
        case .bool:
            guard field.size > 0 else { return false }
            pos += field.size
        case .signed, .unsigned, .generic:
            pos += field.size
        case .nullPointer:
            guard field.size <= end - pos else { return false }
            for i in pos..<(pos + field.size) where buf[i] != Self.marker { return false }
            pos += field.size
        case .capability:
            guard pos < end else { return false }
            pos += 1 + Int(buf[pos])
        }
        return pos <= end
    }

    /// A subsection's marker (0x05), name and version as the reader checks them.
    private func readSubsectionHeader(_ sub: ParsedVMDescStruct, at pos: inout Int) -> Bool {
        guard end - pos >= 2, buf[pos] == 0x05 else { return false }
        let n = Int(buf[pos + 1])
        guard end - pos >= 6 + n else { return false }
        if let described = sub.vmsdName {
            let name = String(
                decoding: UnsafeRawBufferPointer(rebasing: buf[(pos + 2)..<(pos + 2 + n)]), as: UTF8.self)
            guard name == described else { return false }
        }
        let v = buf[(pos + 2 + n)..<(pos + 6 + n)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        if let described = sub.version, described != Int(v) { return false }
        pos += 6 + n
        return true
    }

    /// What the frames leave to read after the entry just taken, at least.
    private mutating func remaining(_ frames: [Frame]) -> Bounds {
        var b = Bounds()
        for f in frames {
            if f.field < f.s.fields.count {
                b.add(entries(f.s.fields[f.field], from: f.k, nested: f.nested))
                b.add(suffixes(f.s, nested: f.nested).fields[f.field + 1])
            } else {
                b.add(suffixes(f.s, nested: f.nested).subs[f.sub])
            }
        }
        return b
    }

    /// The entries `from..<count` of `field`.
    private mutating func entries(_ field: ParsedVMDescField, from: Int, nested: Bool) -> Bounds {
        var b = Bounds()
        let n = field.count - from
        guard n > 0 else { return b }
        switch field.reader {
        case .structure(let s):
            let least = elementFewest(s)
            b.bytes = product(n, least)
            if field.count > 1 {
                let maybeNull = nested || from > 0 ? n : n - 1
                b.add(saving: least - 1, count: maybeNull)
            }
        case .capability:
            b.bytes = n
        default:
            b.bytes = product(n, field.size)
        }
        return b
    }

    /// The fewest bytes of an element of `s` (every entry inside that may be NULL, NULL).
    private mutating func elementFewest(_ s: ParsedVMDescStruct) -> Int {
        let id = ObjectIdentifier(s)
        if let known = fewest[id] { return known }
        let b = suffixes(s, nested: true).fields[0]
        let least = b.least(nulls: Int.max)
        fewest[id] = least
        return least
    }

    private mutating func suffixes(_ s: ParsedVMDescStruct, nested: Bool) -> (fields: [Bounds], subs: [Bounds]) {
        let key = SuffixKey(id: ObjectIdentifier(s), nested: nested)
        if let known = suffix[key] { return known }
        let subsList = s.subsections ?? []
        var subs = Array(repeating: Bounds(), count: subsList.count + 1)
        for j in stride(from: subsList.count - 1, through: 0, by: -1) {
            subs[j] = subs[j + 1]
            subs[j].bytes = sum(subs[j].bytes, 6 + elementFewest(subsList[j]))
        }
        var fields = Array(repeating: Bounds(), count: s.fields.count + 1)
        fields[s.fields.count] = subs[0]
        for f in stride(from: s.fields.count - 1, through: 0, by: -1) {
            fields[f] = fields[f + 1]
            fields[f].add(entries(s.fields[f], from: 0, nested: nested))
        }
        suffix[key] = (fields, subs)
        return (fields, subs)
    }
}

/// `a + b`, at most `Int.max / 4` (sizes from a vmdesc are not bounded).
private func sum(_ a: Int, _ b: Int) -> Int {
    let (s, o) = a.addingReportingOverflow(b)
    return o || s > Int.max / 4 ? Int.max / 4 : s
}

private func product(_ a: Int, _ b: Int) -> Int {
    let (p, o) = a.multipliedReportingOverflow(by: b)
    return o || p > Int.max / 4 ? Int.max / 4 : p
}
