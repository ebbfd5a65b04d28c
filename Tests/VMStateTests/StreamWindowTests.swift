import CGLib
import Testing
import VMStateAnalysis

#if canImport(Glibc)
    import Glibc
#endif

/// The windows through which the analyzer reads a stream file, with and without the
/// `WindowPrefetcher` thread that maps or copies the cells of a large file ahead of the reader.
@Suite struct StreamWindowTests {
    /// The byte at `offset` of a pattern file: the 8 bytes at each multiple of 8 hold that
    /// offset, little-endian.
    static func patternByte(_ offset: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: (offset & ~7) >> (8 * (offset & 7)))
    }

    /// Writes a pattern file of `size` bytes (a multiple of 8) under /tmp, named for this call
    /// alone (the cases of a parameterized test run at once: two writing one file leave holes
    /// of zeros in it while the other reads); returns its path.
    static func writePatternFile(size: Int) throws -> String {
        var template = Array("/tmp/vmstate-window-\(size)-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        try #require(fd >= 0)
        defer { close(fd) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let chunk = 1 << 20
        var words = [UInt64](repeating: 0, count: chunk / 8)
        var offset = 0
        while offset < size {
            for i in words.indices { words[i] = UInt64(offset + 8 * i).littleEndian }
            let n = min(chunk, size - offset)
            let written = words.withUnsafeBytes { write(fd, $0.baseAddress!, n) }
            try #require(written == n)
            offset += n
        }
        return path
    }

    /// Offsets in `range` whose byte in `buffer` (indexed by file offset) is not the pattern's
    /// (all of them when the buffer ends before the range does: an empty buffer is a failure,
    /// not a crash of the test process).
    static func mismatches(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) -> [Int] {
        guard range.upperBound <= buffer.count else { return Array(range) }
        return range.filter { buffer[$0] != patternByte($0) }
    }

    /// Both ways of reading cells (mapped, copied), whichever the probe would choose here.
    @Test(arguments: [WindowPrefetcher.Mode.map, .copy])
    func aLargeFileIsReadThroughPrefetchedCellsAsItIs(mode: WindowPrefetcher.Mode) throws {
        let size = WindowPrefetcher.minimumCount + (24 << 20) + 4104 * 8
        let path = try Self.writePatternFile(size: size)
        defer { unlink(path) }
        let bytes = try StreamBytes(contentsOfFile: path)
        let window = bytes.makeWindow(prefetching: true, mode: mode)
        let twoProcessors = WindowPrefetcher.allowedProcessorCount() >= 2
        #expect(window.isPrefetching == twoProcessors)
        #expect(window.prefetchMode == (twoProcessors ? mode : nil))
        let geometry = window.cellGeometry
        if twoProcessors {
            let expected = mode == .map ? (8 << 20, 64 << 10, 1, 4) : (1 << 20, 16 << 10, 4, 7)
            #expect(
                geometry.map { [$0.cellSize, $0.overlap, $0.lookahead, $0.bound] } == [
                    expected.0, expected.1, expected.2, expected.3,
                ])
        }
        let (cell, overlap, bound) = geometry.map { ($0.cellSize, $0.overlap, $0.bound) } ?? (8 << 20, 64 << 10, 4)

        // As the analysis reads RAM page headers: 8 bytes every 4,104, the window moved only
        // when the next 8 are not in it.
        var buffer = window.map(at: 8, minCount: 8)
        var pos = 8
        var headers = 0
        var wrong: [Int] = []
        var mostHeld = 0
        while pos + 8 <= size {
            if pos + 8 > buffer.count {
                buffer = window.map(at: pos, minCount: 8)
                mostHeld = max(mostHeld, window.mappedCellCount)
            }
            wrong += Self.mismatches(buffer, pos..<pos + 8)
            headers += 1
            pos += 4104
        }
        #expect(wrong.isEmpty, "bytes not as written at \(wrong.prefix(8))")
        #expect(headers == (size - 8 - 8) / 4104 + 1)
        if twoProcessors {
            #expect(mostHeld >= 1 && mostHeld <= bound, "\(mostHeld) cells held at once")
        }

        // A record that starts 4 bytes before a cell's end is read from that cell's overlap (the
        // buffer ends where the overlap does: not a window of the reader's own).
        buffer = window.map(at: 5 * cell - 4, minCount: 16)
        #expect(buffer.count >= 5 * cell + 12)
        if twoProcessors { #expect(buffer.count == 5 * cell + overlap) }
        #expect(Self.mismatches(buffer, 5 * cell - 4..<5 * cell + 12).isEmpty)
        // A whole cell and its overlap, read at once from it.
        buffer = window.map(at: 3 * cell, minCount: cell + overlap)
        if twoProcessors { #expect(buffer.count == 4 * cell + overlap) }
        #expect(Self.mismatches(buffer, 3 * cell..<4 * cell + overlap).isEmpty)
        // A read longer than the overlap gets a mapping of its own.
        let long = overlap + 8192
        buffer = window.map(at: 6 * cell - 100, minCount: long)
        #expect(buffer.count >= 6 * cell - 100 + long)
        #expect(Self.mismatches(buffer, 6 * cell - 100..<6 * cell - 100 + long).isEmpty)
        // Back to the start, then the last bytes of the file.
        buffer = window.map(at: 0, minCount: 64)
        #expect(Self.mismatches(buffer, 0..<64).isEmpty)
        #expect(window.mappedCellCount <= bound)
        buffer = window.map(at: size - 24, minCount: 24)
        #expect(buffer.count == size)
        #expect(Self.mismatches(buffer, size - 24..<size).isEmpty)
        #expect(window.mappedCellCount <= bound)
    }

    /// A file cut short while its cells are copied: the cells past its new end come back empty
    /// (a map of them would raise SIGBUS when read), those before it as they were.
    @Test(.enabled(if: WindowPrefetcher.allowedProcessorCount() >= 2, "the prefetcher needs a second processor"))
    func aCopiedCellPastTheEndOfAFileCutShortComesBackEmpty() throws {
        let size = WindowPrefetcher.minimumCount + (16 << 20)
        let path = try Self.writePatternFile(size: size)
        defer { unlink(path) }
        let bytes = try StreamBytes(contentsOfFile: path)
        let window = bytes.makeWindow(prefetching: true, mode: .copy)
        #expect(window.prefetchMode == .copy)
        #expect(Self.mismatches(window.map(at: 8, minCount: 8), 8..<16).isEmpty)
        try #require(truncate(path, off_t(48 << 20)) == 0)
        let past = window.map(at: (60 << 20) + 8, minCount: 8)
        #expect(past.count == 0)
        let before = window.map(at: (40 << 20) + 8, minCount: 4096)
        #expect(before.count >= (40 << 20) + 8 + 4096)
        #expect(Self.mismatches(before, (40 << 20) + 8..<(40 << 20) + 8 + 4096).isEmpty)
    }

    /// A copied cell's buffer, indexed by stream offset, starts at the address of the cell's
    /// copy less the cell's offset: were that copy at an address equal to the offset, the start
    /// would be address 0, nil, and the buffer empty. Under valgrind, whose maps lie low, the
    /// buffers were at 88 MiB and `analyze` of a 201 MiB stream failed at cell 88 ("cannot map
    /// 8 bytes"). No copy lies at a multiple of the cell size, so at no cell's offset, wherever
    /// the buffers are.
    @Test(.enabled(if: WindowPrefetcher.allowedProcessorCount() >= 2, "the prefetcher needs a second processor"))
    func noCopiedCellLiesAtAnAddressEqualToItsOffset() throws {
        let size = WindowPrefetcher.minimumCount + (8 << 20)
        let path = try Self.writePatternFile(size: size)
        defer { unlink(path) }
        let bytes = try StreamBytes(contentsOfFile: path)
        let window = bytes.makeWindow(prefetching: true, mode: .copy)
        let cell = try #require(window.cellGeometry).cellSize
        var copies = Set<UInt>()
        var atCellBoundaries: [UInt] = []
        for k in 0..<size / cell {
            let buffer = window.map(at: k * cell + 8, minCount: 8)
            #expect(Self.mismatches(buffer, k * cell + 8..<k * cell + 16).isEmpty)
            let copy = UInt(bitPattern: buffer.baseAddress) &+ UInt(k * cell)
            copies.insert(copy)
            if copy % UInt(cell) == 0 { atCellBoundaries.append(copy) }
        }
        #expect(atCellBoundaries.isEmpty, "copies at \(Set(atCellBoundaries).map { String($0, radix: 16) })")
        // Every buffer, including those the walk did not happen to use (a reader whose thread
        // is not run copies every cell into one).
        let buffers = window.copyBufferAddresses
        #expect(buffers.count == 7)
        #expect(copies.isSubset(of: buffers))
        #expect(buffers.allSatisfy { $0 % UInt(cell) != 0 }, "buffers at \(buffers.map { String($0, radix: 16) })")
    }

    /// The probe maps 2 MiB from the middle of a file: a file too short for that is copied.
    /// (Shorter than 2 MiB: a file of 2 MiB or more has 2 MiB from a 2 MiB boundary at or
    /// before its middle, which the probe times, finding `map` where the page cache holds the
    /// file in 2 MiB folios, as for a file just written on ext4 with Linux 6.16+.)
    @Test func theProbeCopiesAFileTooShortToProbe() throws {
        let size = 1 << 20
        let path = try Self.writePatternFile(size: size)
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(WindowPrefetcher.probeMode(fd: fd, count: size) == .copy)
    }

    /// `sched_getaffinity` or `sched_setaffinity` (GNU functions that Swift's Glibc module
    /// does not import), looked up in the C library.
    static func affinityCall(_ name: String) throws -> @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32 {
        let symbol = dlsym(dlopen(nil, RTLD_NOW), name)
        try #require(symbol != nil)
        return unsafeBitCast(symbol, to: (@convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32).self)
    }

    /// Under `taskset -c 0` a second thread could only take turns with the reader: the window
    /// is read without one. (GLib 2.74's `g_get_num_processors` counts the online processors,
    /// not the affinity mask: 2 here under `taskset -c 0`.)
    @Test func aThreadAllowedOneProcessorReadsWithoutAThread() throws {
        let get = try Self.affinityCall("sched_getaffinity")
        let set = try Self.affinityCall("sched_setaffinity")
        let size = MemoryLayout<cpu_set_t>.size
        var allowed = cpu_set_t()
        try #require(get(0, size, &allowed) == 0)
        let allowedBytes = withUnsafeBytes(of: &allowed) { Array($0) }
        let allowedCount = allowedBytes.reduce(0) { $0 + $1.nonzeroBitCount }
        let first = try #require(allowedBytes.indices.first { allowedBytes[$0] != 0 })
        var one = cpu_set_t()
        withUnsafeMutableBytes(of: &one) { $0[first] = allowedBytes[first] & (0 &- allowedBytes[first]) }
        let path = try Self.writePatternFile(size: WindowPrefetcher.minimumCount)
        defer { unlink(path) }
        let bytes = try StreamBytes(contentsOfFile: path)

        // (This test function has no suspension point: it stays on this thread throughout.)
        try #require(set(0, size, &one) == 0)
        let single = bytes.makeWindow(prefetching: true)
        try #require(set(0, size, &allowed) == 0)
        #expect(!single.isPrefetching)
        #expect(Self.mismatches(single.map(at: 8 << 20, minCount: 64), (8 << 20)..<(8 << 20) + 64).isEmpty)
        #expect(bytes.makeWindow(prefetching: true).isPrefetching == (allowedCount >= 2))
    }

    @Test func smallFilesAndBytesInMemoryAreReadWithoutAThread() throws {
        let size = WindowPrefetcher.minimumCount - 8
        let path = try Self.writePatternFile(size: size)
        defer { unlink(path) }
        let small = try StreamBytes(contentsOfFile: path).makeWindow(prefetching: true)
        #expect(!small.isPrefetching)
        let buffer = small.map(at: size - 4096, minCount: 4096)
        #expect(Self.mismatches(buffer, size - 4096..<size).isEmpty)

        let held = StreamBytes((0..<64).map { Self.patternByte($0) }).makeWindow(prefetching: true)
        #expect(!held.isPrefetching)
        #expect(Self.mismatches(held.map(at: 9, minCount: 8), 0..<64).isEmpty)
    }
}
