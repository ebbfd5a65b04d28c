import CGLib
import CVMState

#if canImport(Glibc)
    import Glibc
#endif

/// The regular file behind a `GOutputStream` or `GInputStream`, opened a second time with
/// `O_DIRECT`, so that a ``FileWriter`` writes (a ``StreamSource`` reads) whole 4 KiB blocks of
/// a large stream past the page cache.
///
/// Why: writing a stream through the page cache costs the kernel a new page of cache for every
/// 4 KiB written (allocated, zeroed, charged, later written back); measured in
/// docs/PERFORMANCE.md, that, not the engine, was the time of a save to a file on a machine whose
/// page cache is slow to fill. QEMU 9.0 added `O_DIRECT` for the same reason (its `direct-io`
/// migration parameter for file migration).
///
/// Which streams: GLib's own descriptor streams (`GUnixOutputStream`, the `GFileOutputStream`
/// of a local file; not a subclass, ``isGLibDescriptorStream(_:)``) whose descriptor is a
/// regular file, open for writing, not `O_APPEND`, and seekable (``regularFile(of:)``), on a
/// file system that accepts `O_DIRECT` (the second descriptor is opened through
/// `/proc/self/fd`; when that fails the stream is written as any other), and not on tmpfs. The stream's own descriptor keeps its flags. A file system that
/// refuses the first direct write or read (`EINVAL`) turns the direct path off.
final class DirectFile {
    /// The alignment of a direct write's file offset, length and memory: 4096 bytes (the page
    /// size; larger than any block device's logical block).
    static let block = 4096

    /// The stream's descriptor (not owned) and the second, direct one (owned).
    private let fd: Int32
    private let directFD: Int32
    /// Whether a direct write or read has succeeded (after one, `EINVAL` is an error, not a refusal).
    private var succeeded = false
    /// False once the file system refused a direct write or read.
    private(set) var usable = true

    /// The descriptor of `stream` when it writes to a local regular file at an offset of its
    /// own: one of GLib's own descriptor streams, a regular file, open for writing, not
    /// `O_APPEND`, seekable.
    /// Nil for anything else (sockets, pipes, memory and filter streams).
    static func regularFile(of stream: UnsafeMutablePointer<GOutputStream>) -> Int32? {
        regularFile(UnsafeMutableRawPointer(stream), writing: true)
    }

    /// The direct file behind an input `stream` (a `GUnixInputStream`, the `GFileInputStream` of
    /// a local file), for ``StreamSource``'s direct reads; nil when the stream is not a
    /// seekable regular file open for reading that takes direct reads.
    convenience init?(input stream: UnsafeMutablePointer<GInputStream>) {
        guard let fd = Self.regularFile(UnsafeMutableRawPointer(stream), writing: false) else { return nil }
        self.init(fd: fd, writing: false)
    }

    /// The descriptor of a GLib descriptor stream over a seekable regular file open for
    /// writing and not `O_APPEND` (`writing`), or open for reading; else nil.
    private static func regularFile(_ stream: UnsafeMutableRawPointer, writing: Bool) -> Int32? {
        guard isGLibDescriptorStream(stream), let fd = descriptor(of: stream) else { return nil }
        var st = stat()
        let flags = fcntl(fd, F_GETFL)
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, flags >= 0, lseek(fd, 0, SEEK_CUR) >= 0 else {
            return nil
        }
        let usable =
            writing ? flags & O_APPEND == 0 && flags & O_ACCMODE != O_RDONLY : flags & O_ACCMODE != O_WRONLY
        return usable ? fd : nil
    }

    /// A second descriptor of the regular file open as `fd`, with `O_DIRECT` (for writing or
    /// reading); nil where `O_DIRECT` is unknown or refused at `open`, and on tmpfs.
    init?(fd: Int32, writing: Bool) {
        guard let oDirect = Self.oDirect else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        // tmpfs keeps its files in the page cache whatever the flags: nothing to skip there, and
        // its direct reads are slower than its plain ones.
        guard !Self.onTmpfs(fd) else { return nil }
        let directFD = open("/proc/self/fd/\(fd)", (writing ? O_WRONLY : O_RDONLY) | oDirect | O_CLOEXEC)
        guard directFD >= 0 else { return nil }
        var same = stat()
        guard fstat(directFD, &same) == 0, same.st_dev == st.st_dev, same.st_ino == st.st_ino else {
            close(directFD)
            return nil
        }
        self.fd = fd
        self.directFD = directFD
    }

    deinit { close(directFD) }

    /// The offset of the stream's descriptor (where its next byte goes), or 0 when unknown.
    var position: Int { max(0, Int(lseek(fd, 0, SEEK_CUR))) }

    enum BlockWrite {
        /// This many of the bytes were written: all of them, or fewer when the kernel wrote a
        /// part that is not whole blocks (the rest is then the caller's to write another way).
        case written(Int)
        /// Nothing was written: the file system takes no direct writes (``usable`` is then false),
        /// or this write was refused (`EINVAL`) after others succeeded.
        case refused
        /// The write failed with this errno at this file offset.
        case failed(Int32, at: Int)
    }

    /// Writes `bytes[0..<count]` with `O_DIRECT` at file offset `offset`; `bytes`, `count` and
    /// `offset` must be multiples of ``block``.
    func writeBlocks(_ bytes: UnsafeRawPointer, _ count: Int, at offset: Int) -> BlockWrite {
        guard usable else { return .refused }
        var done = 0
        while done < count {
            // SAFETY: `bytes[done..<count]` are the caller's bytes; address, length and offset are
            // multiples of the block (the caller's contract, and `done` advances by whole blocks below).
            let n = pwrite(directFD, bytes + done, count - done, off_t(offset + done))
            if n > 0 {
                done += n
                succeeded = true
                if n % Self.block != 0 { break }  // a short write off the block grid: the rest another way
                continue
            }
            let code = n == 0 ? EIO : errno
            if code == EINTR { continue }
            if code == EINVAL {
                // Refused: for good when no direct write has succeeded (the file system takes
                // none), else this once (a write the kernel cut short, at a file size limit, to
                // a length off the block grid). Either way the rest goes through the page cache,
                // where a real failure shows with its own errno.
                if !succeeded { usable = false }
                return done > 0 ? .written(done) : .refused
            }
            return .failed(code, at: offset + done)
        }
        return .written(done)
    }

    /// Reads whole blocks at the stream's offset, which must be on a block boundary, into
    /// `dest` (aligned, `count` a multiple of the block), and moves the stream's offset past
    /// them. Returns the bytes read (fewer at the end of the file, 0 there), nil when the file
    /// system refused (the direct path is then off), or the failure (owned by the caller).
    func read(into dest: UnsafeMutableRawPointer, _ count: Int) -> ReadResult? {
        let at = Int(lseek(fd, 0, SEEK_CUR))
        guard usable, at >= 0, at % Self.block == 0, count % Self.block == 0,
            Int(bitPattern: dest) % Self.block == 0
        else { return nil }
        while true {
            // SAFETY: `dest[0..<count]` is the caller's writable, aligned space.
            let n = pread(directFD, dest, count, off_t(at))
            if n >= 0 {
                bytesRead += n
                succeeded = true
                _ = lseek(fd, off_t(at + n), SEEK_SET)
                return .read(n)
            }
            let code = errno
            if code == EINTR { continue }
            if code == EINVAL && !succeeded {
                usable = false
                return nil
            }
            return .failed(Self.gioError(code))
        }
    }

    /// Skips `n` bytes of a regular file by moving the stream's offset (at most to the end of
    /// the file); returns how many.
    func skip(_ n: Int) -> Int {
        var st = stat()
        let at = Int(lseek(fd, 0, SEEK_CUR))
        guard at >= 0, fstat(fd, &st) == 0 else { return 0 }
        let k = max(0, min(n, Int(st.st_size) - at))
        _ = lseek(fd, off_t(at + k), SEEK_SET)
        return k
    }

    /// Bytes read with `O_DIRECT` so far.
    private(set) var bytesRead = 0

    enum ReadResult {
        /// Bytes read (0 at the end of the file).
        case read(Int)
        /// The read failed (the GError is the caller's).
        case failed(UnsafeMutablePointer<GError>)
    }

    /// A GIO error for errno `code` (owned by the caller), as GLib reports a failed read or write.
    static func gioError(_ code: Int32) -> UnsafeMutablePointer<GError> {
        g_error_new_literal(
            g_io_error_quark(), Int32(g_io_error_from_errno(code).rawValue), String(cString: g_strerror(code)))
    }

    /// Whether `fd` is on tmpfs: `fstatfs`'s `f_type` is Linux's `TMPFS_MAGIC`. `fstatfs` is
    /// not imported into Swift: found by name in the C library; `f_type` is the first field of
    /// `struct statfs` (a `long` on 64-bit Linux; elsewhere this answers false).
    static func onTmpfs(_ fd: Int32) -> Bool {
        #if os(Linux) && (arch(x86_64) || arch(arm64) || arch(riscv64))
            typealias FStatFS = @convention(c) (Int32, UnsafeMutableRawPointer?) -> Int32
            guard let symbol = dlsym(nil, "fstatfs") else { return false }
            // SAFETY: `fstatfs` has the C type `int (int, struct statfs *)`; 512 bytes hold a `struct statfs`
            // (120 bytes on these architectures), and its first field is the `long` f_type.
            let fstatfs = unsafeBitCast(symbol, to: FStatFS.self)
            return withUnsafeTemporaryAllocation(byteCount: 512, alignment: 8) { buffer in
                fstatfs(fd, buffer.baseAddress) == 0 && buffer.load(as: Int.self) == 0x0102_1994
            }
        #else
            return false
        #endif
    }

    /// Linux's `fallocate(fd, 0, offset, length)`: allocates the file's blocks for
    /// `offset..<offset + length` (reading as zeros) and extends its size to cover them; false
    /// when the call is missing or failed (the file system may not support it, or lacks room). Not imported into
    /// Swift (a GNU extension): found by name in the C library. Unlike `posix_fallocate`, it
    /// never falls back to writing zeros.
    static func allocate(_ fd: Int32, _ offset: Int, _ length: Int) -> Bool {
        #if os(Linux) && (arch(x86_64) || arch(arm64) || arch(riscv64))
            typealias FAllocate = @convention(c) (Int32, Int32, Int64, Int64) -> Int32
            guard let symbol = fallocateSymbol else { return false }
            // SAFETY: `fallocate` has the C type `int (int, int, off_t, off_t)`, off_t 64-bit here.
            return unsafeBitCast(symbol, to: FAllocate.self)(fd, 0, Int64(offset), Int64(length)) == 0
        #else
            return false
        #endif
    }
    nonisolated(unsafe) private static let fallocateSymbol = dlsym(nil, "fallocate")

    /// Whether `fd` was opened with `O_DIRECT` (by the caller: its reads and writes then take
    /// only whole aligned blocks, which GIO's own reads and writes are not).
    static func hasODirect(_ fd: Int32) -> Bool {
        guard let oDirect else { return false }
        let flags = fcntl(fd, F_GETFL)
        return flags >= 0 && flags & oDirect != 0
    }

    /// Whether `stream` reads a regular file its descriptor has `O_DIRECT` for (``hasODirect(_:)``):
    /// such a stream is read with direct reads whatever the registry's setting.
    static func inputHasODirect(_ stream: UnsafeMutablePointer<GInputStream>) -> Bool {
        regularFile(UnsafeMutableRawPointer(stream), writing: false).map(hasODirect) ?? false
    }

    /// `O_DIRECT` (not imported into Swift): Linux's value for this architecture, nil elsewhere.
    static var oDirect: Int32? {
        #if os(Linux) && (arch(x86_64) || arch(i386) || arch(riscv64) || arch(s390x))
            return 0o40000
        #elseif os(Linux) && (arch(arm64) || arch(arm))
            return 0o200000
        #else
            return nil
        #endif
    }

    /// Whether `stream` is an instance of one of GLib's own descriptor streams itself:
    /// `GUnixOutputStream`, `GUnixInputStream`, or the `GLocalFileOutputStream` /
    /// `GLocalFileInputStream` of a local `GFile`. A subclass of one (or any other class that
    /// implements `GFileDescriptorBased`) may give its own `write_fn` / `read_fn` (a filter, a
    /// counter), which writing or reading its descriptor directly would skip: such a stream is
    /// written and read through GIO.
    static func isGLibDescriptorStream(_ stream: UnsafeMutableRawPointer) -> Bool {
        // SAFETY: a GInputStream or GOutputStream is a GTypeInstance, whose class GLib set.
        guard let type = stream.assumingMemoryBound(to: GTypeInstance.self).pointee.g_class?.pointee.g_type else {
            return false
        }
        return glibDescriptorStreams.contains { g_type_from_name($0) == type }
    }
    private static let glibDescriptorStreams = [
        "GUnixOutputStream", "GUnixInputStream", "GLocalFileOutputStream", "GLocalFileInputStream",
    ]

    /// The descriptor of a `GFileDescriptorBased` stream, or nil. GLib declares that interface in
    /// gio-unix-2.0, which the CGLib module does not include: its type and getter are found by
    /// name (both are exported by libgio-2.0).
    static func descriptor(of stream: UnsafeMutableRawPointer) -> Int32? {
        let type = g_type_from_name("GFileDescriptorBased")
        // SAFETY: a GOutputStream is a GTypeInstance (GObject's first member).
        guard type != 0,
            g_type_check_instance_is_a(
                UnsafeMutableRawPointer(stream).assumingMemoryBound(to: GTypeInstance.self), type)
                != 0,
            let getter = getFD
        else { return nil }
        let fd = getter(stream)
        return fd >= 0 ? fd : nil
    }

    private typealias GetFD = @convention(c) (UnsafeMutableRawPointer?) -> Int32
    private static let getFD: GetFD? = {
        // SAFETY: `g_file_descriptor_based_get_fd` has the C type `int (GFileDescriptorBased *)`.
        guard let symbol = dlsym(nil, "g_file_descriptor_based_get_fd") else { return nil }
        return unsafeBitCast(symbol, to: GetFD.self)
    }()
}
