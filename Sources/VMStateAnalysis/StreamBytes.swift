import VMState
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a migration stream: a read-only memory map of a file, or a copy of an array.
/// Large streams are never copied; pages the analysis does not touch are never read.
public final class StreamBytes: @unchecked Sendable {
    private let base: UnsafeRawPointer?
    /// Number of bytes.
    public let count: Int
    private let mapped: Bool
    /// Where the bytes came from (a path, or "<memory>").
    public let origin: String

    /// Maps a file. Throws `StreamFileError` when it cannot be opened or read.
    public init(contentsOfFile path: String) throws(StreamFileError) {
        origin = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StreamFileError(path: path, operation: "open", reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw StreamFileError(path: path, operation: "stat", reason: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFREG {
            let size = Int(st.st_size)
            if size == 0 {
                count = 0
                base = nil
                mapped = false
                return
            }
            let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
            if let p, p != MAP_FAILED {
                count = size
                base = UnsafeRawPointer(p)
                mapped = true
                return
            }
        }
        // Not a regular file (a pipe, /dev/stdin) or not mappable: read it all.
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StreamFileError(path: path, operation: "read", reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        count = data.count
        mapped = false
        base = StreamBytes.copy(data)
    }

    /// Copies bytes held in memory.
    public init(_ bytes: [UInt8], origin: String = "<memory>") {
        self.origin = origin
        count = bytes.count
        mapped = false
        base = StreamBytes.copy(bytes)
    }

    private static func copy(_ bytes: [UInt8]) -> UnsafeRawPointer? {
        guard !bytes.isEmpty else { return nil }
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 16)
        bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return UnsafeRawPointer(p)
    }

    deinit {
        guard let base else { return }
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    /// Offset up to which mapped pages were given back (``release(upTo:)``).
    private var released = 0

    /// Gives back the memory of the mapped file's pages before `offset` (page-aligned down):
    /// they leave the process's resident set and are read from the file again if touched, so
    /// a pass over a large stream stays in bounded memory. Nothing for copied bytes.
    public func release(upTo offset: Int) {
        guard mapped, let base else { return }
        let end = min(offset, count) & ~4095
        guard end > released else { return }
        // SAFETY: [released, end) lies inside the read-only private file mapping of `count`
        // bytes at `base` (page-aligned: mmap returns page-aligned addresses); MADV_DONTNEED on
        // it only drops clean pages, which later reads fault in from the file again.
        _ = madvise(UnsafeMutableRawPointer(mutating: base) + released, end - released, MADV_DONTNEED)
        released = end
    }

    /// All the bytes. Valid while this object is alive.
    public var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Calls `body` with all the bytes; the buffer is valid only during the call.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(buffer) }
    }

    /// A copy of some bytes.
    public subscript(range: Range<Int>) -> [UInt8] {
        withUnsafeBytes { Array($0[range]) }
    }
}

/// A stream file that cannot be opened or read.
public struct StreamFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// "open", "stat" or "read".
    public var operation: String
    /// The system's explanation (strerror).
    public var reason: String

    /// The error of `operation` on `path`.
    public init(path: String, operation: String, reason: String) {
        self.path = path
        self.operation = operation
        self.reason = reason
    }

    /// `cannot OPERATION PATH: REASON`.
    public var description: String { "cannot \(operation) \(path): \(reason)" }
}
