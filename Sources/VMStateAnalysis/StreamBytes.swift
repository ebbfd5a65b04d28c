import VMState
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of a migration stream: a file read through bounded memory maps (``StreamWindow``),
/// or a copy of an array. A stream read from a pipe is first copied to an unlinked temporary
/// file (in `$TMPDIR`, default /tmp), so memory stays bounded whatever the stream's size; pages
/// the analysis does not touch are never read from a regular file.
public final class StreamBytes: @unchecked Sendable {
    /// The file (regular, or the temporary copy of a pipe); -1 for bytes held in memory.
    private let fd: Int32
    /// Bytes held in memory (``init(_:origin:)``).
    private let copied: UnsafeRawPointer?
    /// Number of bytes.
    public let count: Int
    /// Where the bytes came from (a path, or "<memory>").
    public let origin: String
    /// The whole file mapped at once, made on first use of ``withUnsafeBytes(_:)`` (for JSON
    /// files; the analysis of a stream maps only bounded windows).
    private var whole: UnsafeRawPointer?
    private let lock = NSLockLike()

    /// Opens a file. Throws `StreamFileError` when it cannot be opened or read.
    public init(contentsOfFile path: String) throws(StreamFileError) {
        origin = path
        copied = nil
        var fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StreamFileError(path: path, operation: "open", reason: String(cString: strerror(errno)))
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw StreamFileError(path: path, operation: "stat", reason: reason)
        }
        if (st.st_mode & S_IFMT) != S_IFREG {
            // A pipe or a device: copy it to an unlinked temporary file, in 1 MiB pieces.
            let spool: Int32
            do { spool = try StreamBytes.spool(fd, path: path) } catch {
                close(fd)
                throw error
            }
            close(fd)
            fd = spool
            guard fstat(fd, &st) == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw StreamFileError(path: path, operation: "stat", reason: reason)
            }
        }
        self.fd = fd
        count = Int(st.st_size)
    }

    /// Copies everything `fd` delivers into a new unlinked temporary file; returns its fd.
    private static func spool(_ fd: Int32, path: String) throws(StreamFileError) -> Int32 {
        let (out, dir, code) = makeUnlinkedTemporaryFile("vmstate-stream")
        guard out >= 0 else {
            throw StreamFileError(
                path: path, operation: "read",
                reason: "cannot make a temporary file in \(dir): " + String(cString: strerror(code)))
        }
        let size = 1 << 20
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = read(fd, chunk, size)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(out)
                throw StreamFileError(path: path, operation: "read", reason: reason)
            }
            if n == 0 { break }
            var done = 0
            while done < n {
                let w = write(out, chunk + done, n - done)
                if w < 0 {
                    if errno == EINTR { continue }
                    let reason = String(cString: strerror(errno))
                    close(out)
                    throw StreamFileError(
                        path: path, operation: "read", reason: "cannot copy to a temporary file in \(dir): " + reason)
                }
                done += w
            }
        }
        return out
    }

    /// Copies bytes held in memory.
    public init(_ bytes: [UInt8], origin: String = "<memory>") {
        self.origin = origin
        count = bytes.count
        fd = -1
        if bytes.isEmpty {
            copied = nil
        } else {
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 16)
            bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            copied = UnsafeRawPointer(p)
        }
    }

    deinit {
        if let whole { munmap(UnsafeMutableRawPointer(mutating: whole), count) }
        if let copied { UnsafeMutableRawPointer(mutating: copied).deallocate() }
        if fd >= 0 { close(fd) }
    }

    /// A bounded window onto these bytes, for one sequential reader.
    package func makeWindow() -> StreamWindow { StreamWindow(self, fd: fd, copied: copied) }

    /// `n` bytes at `offset` (clipped to the end), read without mapping.
    package func copyBytes(at offset: Int, count n: Int) -> [UInt8] {
        let n = max(0, min(n, count - offset))
        guard n > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: n) { out, done in
            done = readBytes(at: offset, into: UnsafeMutableRawBufferPointer(out))
        }
    }

    /// Reads up to `buffer.count` bytes at `offset` into `buffer` (clipped to the end), without
    /// mapping or allocating; returns how many were read (fewer only at the end, or when the
    /// file cannot be read).
    package func readBytes(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = max(0, min(buffer.count, count - offset))
        guard n > 0, let out = buffer.baseAddress else { return 0 }
        if let copied {
            // SAFETY: offset..<offset + n lies inside the copied bytes (n is clipped to them).
            out.copyMemory(from: copied + offset, byteCount: n)
            return n
        }
        var done = 0
        while done < n {
            let got = pread(fd, out + done, n - done, off_t(offset + done))
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            done += got
        }
        return done
    }

    /// All the bytes, the file mapped whole on first use; valid while this object is alive.
    /// Throws `StreamFileError` (operation "map") when the file cannot be mapped whole (as
    /// under a `ulimit -v` smaller than the file: the analysis uses ``makeWindow()`` instead).
    private func mapWhole() throws(StreamFileError) -> UnsafeRawBufferPointer {
        if let copied { return UnsafeRawBufferPointer(start: copied, count: count) }
        guard count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let failure: Int32? = lock.withLock {
            guard whole == nil else { return nil }
            let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
            guard let p, p != MAP_FAILED else { return errno }
            whole = UnsafeRawPointer(p)
            return nil
        }
        if let failure {
            throw StreamFileError(
                path: origin, operation: "map",
                reason: "\(String(cString: strerror(failure))) (the whole file, \(count) bytes, is needed here)")
        }
        return UnsafeRawBufferPointer(start: whole, count: count)
    }

    /// Calls `body` with all the bytes (the file mapped whole); the buffer is valid only during
    /// the call. Throws `StreamFileError` when the file cannot be mapped, or what `body` throws.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let all = try mapWhole()
        return try withExtendedLifetime(self) { try body(all) }
    }

    /// A copy of some bytes.
    public subscript(range: Range<Int>) -> [UInt8] {
        copyBytes(at: range.lowerBound, count: range.count)
    }
}

/// A new file in `$TMPDIR` (default /tmp) named `prefix.XXXXXX`, unlinked at once, so that it
/// lives only as long as its descriptor: the descriptor (-1 on failure), the directory, and the
/// errno of a failure.
func makeUnlinkedTemporaryFile(_ prefix: String) -> (fd: Int32, directory: String, errno: Int32) {
    let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array((dir + "/" + prefix + ".XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { return (-1, dir, errno) }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    return (fd, dir, 0)
}

/// A tiny mutex over pthread (Foundation is not imported here).
private final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

/// A bounded read-only memory map of part of a stream file (16 MiB, more only while one read
/// needs more), moved along by a sequential reader. ``map(at:minCount:)`` hands back a buffer
/// indexed by absolute stream offsets: valid for indices from the window's start (at most 4 KiB
/// before the offset asked for) to its `count`; only those may be read. Bytes held in memory are
/// handed back whole.
package final class StreamWindow {
    private let owner: StreamBytes
    private let fd: Int32
    private let copied: UnsafeRawPointer?
    private var mapped: UnsafeMutableRawPointer?
    private var mappedLength = 0
    /// The size of a window.
    package static let size = 16 << 20

    fileprivate init(_ owner: StreamBytes, fd: Int32, copied: UnsafeRawPointer?) {
        self.owner = owner
        self.fd = fd
        self.copied = copied
    }

    deinit { unmap() }

    private func unmap() {
        if let mapped { munmap(mapped, mappedLength) }
        mapped = nil
    }

    /// A buffer indexed by stream offset that holds `offset..<offset + minCount` (clipped to the
    /// end of the stream), or an empty buffer when that cannot be mapped.
    package func map(at offset: Int, minCount: Int) -> UnsafeRawBufferPointer {
        let total = owner.count
        if let copied { return UnsafeRawBufferPointer(start: copied, count: total) }
        unmap()
        let start = offset & ~4095
        let length = min(total - start, max(StreamWindow.size, offset - start + minCount + 4096))
        guard length > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, off_t(start))
        guard let p, p != MAP_FAILED else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        mapped = p
        mappedLength = length
        // SAFETY: the returned buffer starts `start` bytes before the mapping so that it is
        // indexed by stream offset; callers read only indices in start..<start + length, which
        // lie inside the mapping (the address arithmetic does not wrap: mappings lie far above
        // any stream offset a file can have on a 64-bit host).
        let virtualBase = UnsafeRawPointer(bitPattern: UInt(bitPattern: p) &- UInt(start))
        return UnsafeRawBufferPointer(start: virtualBase, count: start + length)
    }
}

/// A stream file that cannot be opened or read.
public struct StreamFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// "open", "stat", "read" or "map".
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
