import CGLib
import CVMState

#if canImport(Glibc)
    import Glibc
#endif

/// The regular file behind a `GOutputStream` or `GInputStream`, opened a second time with
/// `O_DIRECT`, so that a ``StreamSink`` writes (a ``StreamSource`` reads) whole 4 KiB blocks of
/// a large stream past the page cache.
///
/// Why: writing a stream through the page cache costs the kernel a new page of cache for every
/// 4 KiB written (allocated, zeroed, charged, later written back); measured in
/// docs/PERFORMANCE.md, that, not the engine, was the time of a save to a file. QEMU 9.0 added
/// `O_DIRECT` for the same reason (its `direct-io` migration parameter for file migration).
///
/// Which streams: a `GFileDescriptorBased` stream (`GUnixOutputStream`, the `GFileOutputStream`
/// of a local file) whose descriptor is a regular file, open for writing, not `O_APPEND`, and
/// seekable, on a file system that accepts `O_DIRECT` (the second descriptor is opened through
/// `/proc/self/fd`; when that fails the stream is written as any other), and not on tmpfs. The stream's own
/// descriptor keeps its flags; after each write its offset is set to the end of what was
/// written, as if the bytes had gone through it. A file system that refuses the first direct
/// write (`EINVAL`) turns the direct path off; the bytes then go through the stream.
final class DirectFile {
    /// The alignment of a direct write's file offset, length and memory: 4096 bytes (the page
    /// size; larger than any block device's logical block).
    static let block = 4096
    /// The fewest bytes worth one direct write: 64 KiB.
    static let minimumWrite = 64 << 10

    /// The stream's descriptor (not owned) and the second, direct one (owned).
    private let fd: Int32
    private let directFD: Int32
    /// Whether a direct write has succeeded (after one, `EINVAL` is an error, not a refusal).
    private var wroteDirect = false
    /// Bytes written with `O_DIRECT` so far.
    private(set) var bytesWritten = 0
    /// False once the file system refused a direct write.
    private(set) var usable = true

    /// The direct file behind `stream`, or nil when the stream is not a regular file that
    /// takes direct writes.
    convenience init?(_ stream: UnsafeMutablePointer<GOutputStream>) {
        guard let fd = Self.descriptor(of: UnsafeMutableRawPointer(stream)) else { return nil }
        self.init(fd: fd, writing: true)
    }

    /// The direct file behind an input `stream` (a `GUnixInputStream`, the `GFileInputStream` of
    /// a local file), for ``StreamSource``'s direct reads; nil as for output.
    convenience init?(input stream: UnsafeMutablePointer<GInputStream>) {
        guard let fd = Self.descriptor(of: UnsafeMutableRawPointer(stream)) else { return nil }
        self.init(fd: fd, writing: false)
    }

    private init?(fd: Int32, writing: Bool) {
        guard let oDirect = Self.oDirect else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, lseek(fd, 0, SEEK_CUR) >= 0 else { return nil }
        // tmpfs keeps its files in the page cache whatever the flags: nothing to skip there, and
        // its direct reads are slower than its plain ones.
        guard !Self.onTmpfs(fd) else { return nil }
        if writing {
            guard flags & O_APPEND == 0, flags & O_ACCMODE != O_RDONLY else { return nil }
        } else {
            guard flags & O_ACCMODE != O_WRONLY else { return nil }
        }
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

    /// Writes the longest prefix of `bytes[0..<count]` that ends on a block boundary of the
    /// file: the bytes up to the first boundary through `stream`, then whole blocks with
    /// `O_DIRECT`. `bytes` continue the stream at the descriptor's offset, and the first
    /// boundary must fall on an aligned address (the sink lays its buffer out so). Returns the
    /// bytes written (0 when too few to be worth it, or when the file system refused) and the
    /// failure, if any (owned by the caller).
    func write(_ bytes: UnsafeRawPointer, _ count: Int, through stream: UnsafeMutablePointer<GOutputStream>)
        -> (written: Int, error: UnsafeMutablePointer<GError>?)
    {
        let block = Self.block
        let at = Int(lseek(fd, 0, SEEK_CUR))
        guard usable, at >= 0 else { return (0, nil) }
        let head = (block - at % block) % block
        guard count >= head + Self.minimumWrite, Int(bitPattern: bytes + head) % block == 0 else { return (0, nil) }
        let body = (count - head) / block * block
        if head > 0 {
            var n: gsize = 0
            var error: UnsafeMutablePointer<GError>?
            // SAFETY: `bytes[0..<head]`, head < count, are the caller's bytes.
            guard g_output_stream_write_all(stream, bytes, gsize(head), &n, nil, &error) != 0 else {
                return (Int(n), error ?? Self.error(EIO))
            }
        }
        var done = 0
        while done < body {
            // SAFETY: `bytes[head + done..<head + body]` lie in the caller's `count` bytes; the address, the
            // length and the offset are multiples of `block` (checked above, `done` advances by what the
            // kernel wrote, and a partial write that breaks the alignment ends the loop below).
            let n = pwrite(directFD, bytes + head + done, body - done, off_t(at + head + done))
            if n > 0 {
                done += n
                bytesWritten += n
                wroteDirect = true
                if done % block != 0 { break }  // the rest through the stream
                continue
            }
            let code = n == 0 ? EIO : errno
            if code == EINTR { continue }
            if code == EINVAL && !wroteDirect {
                usable = false  // this file system takes no direct writes
                break
            }
            _ = lseek(fd, off_t(at + head + done), SEEK_SET)
            return (head + done, Self.error(code))
        }
        _ = lseek(fd, off_t(at + head + done), SEEK_SET)
        return (head + done, nil)
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
                wroteDirect = true
                _ = lseek(fd, off_t(at + n), SEEK_SET)
                return .read(n)
            }
            let code = errno
            if code == EINTR { continue }
            if code == EINVAL && !wroteDirect {
                usable = false
                return nil
            }
            return .failed(Self.error(code))
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

    private static func error(_ code: Int32) -> UnsafeMutablePointer<GError> {
        g_error_new_literal(
            g_io_error_quark(), Int32(g_io_error_from_errno(code).rawValue), String(cString: g_strerror(code)))
    }

    /// Whether `fd` is on tmpfs: `fstatfs`'s `f_type` is Linux's `TMPFS_MAGIC`. `fstatfs` is
    /// not imported into Swift: found by name in the C library; `f_type` is the first field of
    /// `struct statfs` (a `long` on 64-bit Linux; elsewhere this answers false).
    private static func onTmpfs(_ fd: Int32) -> Bool {
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

    /// `O_DIRECT` (not imported into Swift): Linux's value for this architecture, nil elsewhere.
    private static var oDirect: Int32? {
        #if os(Linux) && (arch(x86_64) || arch(i386) || arch(riscv64) || arch(s390x))
            return 0o40000
        #elseif os(Linux) && (arch(arm64) || arch(arm))
            return 0o200000
        #else
            return nil
        #endif
    }

    /// The descriptor of a `GFileDescriptorBased` stream, or nil. GLib declares that interface in
    /// gio-unix-2.0, which the CGLib module does not include: its type and getter are found by
    /// name (both are exported by libgio-2.0).
    private static func descriptor(of stream: UnsafeMutableRawPointer) -> Int32? {
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
