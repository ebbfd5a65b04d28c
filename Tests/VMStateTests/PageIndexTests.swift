import Testing

@testable import VMStateAnalysis

/// The sorted page index of `vmstate diff` (`PageIndexBuilder`), with chunks, fan-in and
/// buffers a few entries long, so that a few hundred records make many runs and merges of
/// merges: every page once, in block and address order, with its last record's contents.
@Suite struct PageIndexTests {
    struct Key: Hashable, Comparable {
        var block: UInt32
        var address: UInt64
        static func < (x: Key, y: Key) -> Bool { (x.block, x.address) < (y.block, y.address) }
    }

    /// Builds the index of `records` and reads it back.
    static func index(_ records: [(Key, RAMPage.Content)], chunk: Int, fanIn: Int, buffer: Int) throws
        -> (pages: [(Key, RAMPage.Content)], runs: Int)
    {
        let builder = try PageIndexBuilder(chunkCapacity: chunk, fanIn: fanIn, bufferEntries: buffer)
        for (k, c) in records { builder.add(block: k.block, address: k.address, content: c) }
        let index = try builder.finish()
        let it = try index.makeIterator()
        var out: [(Key, RAMPage.Content)] = []
        while let e = try it.next() { out.append((Key(block: e.block, address: e.address), e.state)) }
        return (out, index.runs.count)
    }

    /// What the index must hold: the last record of each page, sorted.
    static func expected(_ records: [(Key, RAMPage.Content)]) -> [(Key, RAMPage.Content)] {
        var last: [Key: RAMPage.Content] = [:]
        for (k, c) in records { last[k] = c }
        return last.keys.sorted().map { ($0, last[$0]!) }
    }

    @Test func repeatedPagesInAnyOrderKeepTheirLastRecord() throws {
        // A fixed pseudo-random sequence (a linear congruential generator): 3 blocks of 40
        // pages, 1000 records, data at increasing offsets and now and then a fill page.
        var seed: UInt64 = 12345
        func next() -> UInt64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return seed >> 33
        }
        var records: [(Key, RAMPage.Content)] = []
        for i in 0..<1000 {
            let key = Key(block: UInt32(next() % 3), address: (next() % 40) * 4096)
            records.append((key, next() % 5 == 0 ? .fill(UInt8(next() % 256)) : .data(offset: 100 + i * 4104)))
        }
        let want = Self.expected(records)
        #expect(want.count == 120)
        for (chunk, fanIn, buffer) in [(7, 3, 2), (1, 2, 1), (64, 4, 5), (1 << 19, 64, 4096)] {
            let got = try Self.index(records, chunk: chunk, fanIn: fanIn, buffer: buffer)
            #expect(got.pages.map(\.0) == want.map(\.0), "chunk \(chunk), fan-in \(fanIn)")
            #expect(got.pages.map(\.1) == want.map(\.1), "chunk \(chunk), fan-in \(fanIn)")
            #expect(got.runs <= fanIn)
        }
    }

    /// Records already in order (a stream written in one pass) make one run however many
    /// chunks they fill: nothing is sorted or merged.
    @Test func recordsInOrderMakeOneRun() throws {
        var records: [(Key, RAMPage.Content)] = []
        for b in 0..<2 {
            for p in 0..<50 {
                records.append((Key(block: UInt32(b), address: UInt64(p) * 4096), .data(offset: records.count * 4104)))
            }
        }
        let got = try Self.index(records, chunk: 8, fanIn: 2, buffer: 3)
        #expect(got.runs == 1)
        #expect(got.pages.map(\.0) == records.map(\.0))
        #expect(got.pages.map(\.1) == records.map(\.1))
    }

    @Test func noRecords() throws {
        let got = try Self.index([], chunk: 4, fanIn: 2, buffer: 2)
        #expect(got.pages.isEmpty)
        #expect(got.runs == 0)
    }
}

/// `ExternalSort` (`analyze --memory` of a stream that sends a page twice) with chunks, fan-in
/// and buffers a few records long: many runs, merged in several rounds, give the records in
/// order, each once.
@Suite struct ExternalSortTests {
    @Test(arguments: [(1, 2, 1), (7, 3, 5), (64, 4, 16), (5000, 64, 4096)])
    func recordsComeOutSorted(chunk: Int, fanIn: Int, buffer: Int) throws {
        // 1000 pseudo-random keys (a linear congruential generator), each made unique by its
        // position in the low bits.
        var seed: UInt64 = 777
        var records: [UInt64] = []
        for i in 0..<1000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            records.append((seed >> 40) << 10 | UInt64(i))
        }
        let sort = try ExternalSort<UInt64>(
            "test records", chunkCapacity: chunk, fanIn: fanIn, bufferEntries: buffer, by: <)
        for r in records { try sort.append(r) }
        let sorted = try sort.sorted()
        var out: [UInt64] = []
        while let r = try sorted.next() { out.append(r) }
        #expect(out == records.sorted())
        #expect(try sorted.next() == nil)
    }

    @Test func noRecordsGiveAnEmptySequence() throws {
        let sort = try ExternalSort<UInt64>("test records", chunkCapacity: 4, by: <)
        #expect(try sort.sorted().next() == nil)
    }
}
