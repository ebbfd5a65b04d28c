import CGLib
import CVMState

#if canImport(Glibc)
    import Glibc
#endif

/// How a save writes a stream that goes to a local regular file (`vmstate_registry_set_direct_io`).
public enum FileIO: Sendable {
    /// Through the page cache (plain `pwrite`), as QEMU writes a file migration by default.
    case pageCache
    /// Whole 4 KiB blocks with `O_DIRECT`, past the page cache, as QEMU's `direct-io` migration
    /// parameter (QEMU 9.0+); the few bytes around them through the page cache.
    case direct
}

/// Writes a save's buffers to a regular file from a thread of its own, so that the engine fills
/// the next buffer while the last one is written (QEMU's migration thread likewise runs beside
/// the vCPUs; here the writing runs beside the engine).
///
/// The ``StreamSink`` of a save to a regular file (GLib's own `GUnixOutputStream` or the
/// `GFileOutputStream` of a local file, ``DirectFile/isGLibDescriptorStream(_:)``) takes its
/// buffers from here (``buffers(for:)``: four of 2 MiB through the page cache, three of 8 MiB with `O_DIRECT`):
/// ``submit(_:start:end:offset:)`` hands a filled one over, with the file offset of its first byte, and
/// gives back an empty one (waiting while all of them are being written); ``drain()`` waits for
/// every buffer handed over. Each buffer is written with `pwrite` at its own offset on the
/// writer's own duplicate of the stream's descriptor (through the page cache) or, for its whole
/// 4 KiB blocks, on a second descriptor of the file opened with `O_DIRECT` (``DirectFile``), as
/// ``FileIO`` says. When the stream writes at the end of the file (a new or truncated file, the
/// usual case), the file's blocks are allocated 64 MiB ahead of the writes with `fallocate`:
/// measured in docs/PERFORMANCE.md, ext4 then takes page-cache writes 25-35% faster (no delayed
/// allocation to reserve per page). ``finish(at:)`` cuts the file back to the stream's end and
/// moves the stream's offset there.
///
/// Threads: the engine's thread calls ``submit(_:start:end:offset:)`` and ``drain()``; the
/// writer thread (its state in a ``Worker`` of its own, which the thread holds a reference to)
/// only reads the buffers and jobs it was handed and writes its results before handing a buffer
/// back. Both hand-overs go through a `GAsyncQueue`, whose lock orders every access of one
/// thread before the other's. Releasing the writer stops and joins its thread. Where no thread
/// can be made (`g_thread_try_new` fails), there is no writer and the stream is written on the
/// caller's thread.
final class FileWriter {
    let bufferSize: Int
    /// The writer's own duplicate of the stream's descriptor (`F_DUPFD_CLOEXEC`: the same open
    /// file, whose offset it shares; closed when the writer goes) and the file's offset when the
    /// writer was made. Its own, so that it always names the stream's file: a caller may close
    /// the stream before the last writes are waited for, and the stream's number may then be
    /// another file's.
    let descriptor: Int32
    /// The descriptor the writes go through: ``descriptor``, or where the caller opened the
    /// stream's with `O_DIRECT` (which takes only whole aligned blocks), a second one of the file
    /// without it (owned; through `/proc/self/fd`), whose whole blocks still go direct when
    /// ``FileIO`` says so.
    private let writeDescriptor: Int32
    let base: Int
    private let worker: Worker
    private let thread: UnsafeMutablePointer<GThread>
    /// Buffers neither filled by the sink nor with the writer (engine's thread only).
    private var idle: [Int]
    private var inFlight = 0
    /// Bytes handed over and not yet handed back (engine's thread only).
    private(set) var pendingBytes = 0
    /// The first failure among the buffers handed back (engine's thread only).
    private var failure: WriteFailure?

    /// The buffers in rotation (one filled by the engine, the others with the writer) and their
    /// size: through the page cache four of 2 MiB, with `O_DIRECT` three of 8 MiB. Measured in
    /// docs/PERFORMANCE.md (1 GiB saves, four runs each): through the page cache 2 MiB x 4 took
    /// 0.23-0.26 s, 8 MiB x 3 0.26-0.30 s (smaller pieces stay in the processor's caches between
    /// the engine and the writer); with `O_DIRECT` 8 MiB x 3 was the faster (larger direct writes).
    static func buffers(for mode: FileIO) -> (count: Int, size: Int) {
        mode == .direct ? (3, 8 << 20) : (4, 2 << 20)
    }
    /// The fewest whole blocks worth a direct write: 64 KiB.
    static let minimumDirect = 64 << 10
    fileprivate static let stop = Int.max

    /// A writer for `stream` when it writes to a local regular file (``DirectFile/regularFile(of:)``),
    /// else nil. `bufferSize` replaces ``buffers(for:)``'s size in tests, `allocate`
    /// ``DirectFile/allocate(_:_:_:)`` (`fallocate`: descriptor, offset, length; true when done).
    init?(
        _ stream: UnsafeMutablePointer<GOutputStream>, mode: FileIO, bufferSize: Int? = nil,
        allocate: @escaping @Sendable (Int32, Int, Int) -> Bool = DirectFile.allocate
    ) {
        let (count, defaultSize) = Self.buffers(for: mode)
        let bufferSize = bufferSize ?? defaultSize
        guard let streamFD = DirectFile.regularFile(of: stream) else { return nil }
        let fd = fcntl(streamFD, F_DUPFD_CLOEXEC, 0)
        guard fd >= 0 else { return nil }
        var writeFD = fd
        if DirectFile.hasODirect(fd) {
            writeFD = open("/proc/self/fd/\(fd)", O_WRONLY | O_CLOEXEC)
            guard writeFD >= 0 else {
                close(fd)
                return nil
            }
        }
        descriptor = fd
        writeDescriptor = writeFD
        base = Int(lseek(fd, 0, SEEK_CUR))
        self.bufferSize = bufferSize
        worker = Worker(
            descriptor: writeFD, direct: mode == .direct ? DirectFile(fd: writeFD, writing: true) : nil, count: count,
            bufferSize: bufferSize, base: base, allocate: allocate)
        idle = Array(1..<count)
        // SAFETY: the thread owns one reference to the worker (released when it returns); when no
        // thread could be made, that reference is dropped here and the stream is written without.
        let reference = Unmanaged.passRetained(worker)
        guard
            let thread = g_thread_try_new(
                "vmstate-writer",
                { data in
                    Unmanaged<Worker>.fromOpaque(data!).takeRetainedValue().run()
                    return nil
                }, reference.toOpaque(), nil)
        else {
            reference.release()
            if writeFD != fd { close(writeFD) }
            close(fd)
            return nil
        }
        self.thread = thread
    }

    deinit {
        g_async_queue_push(worker.toWriter, UnsafeMutableRawPointer(bitPattern: Self.stop))
        g_thread_join(thread)
        if writeDescriptor != descriptor { close(writeDescriptor) }
        close(descriptor)
    }

    /// The buffer the sink fills first.
    var first: UnsafeMutablePointer<GByteArray> { worker.buffers[0] }

    /// Bytes written through the page cache and with `O_DIRECT` (read after ``drain()``).
    var pageCacheBytes: Int { worker.pageCacheBytes }
    var directBytes: Int { worker.directBytes }

    /// Hands `buffer` (one of the writer's) over to be written: its bytes `start..<end`, which go
    /// to the file at `offset` (from the start of the file). Returns an empty buffer to fill
    /// next, or the failure of an earlier write (its errno and file offset), after which
    /// nothing more is written.
    func submit(_ buffer: UnsafeMutablePointer<GByteArray>, start: Int, end: Int, offset: Int)
        -> Result<UnsafeMutablePointer<GByteArray>, WriteFailure>
    {
        let index = worker.buffers.firstIndex(of: buffer)!
        worker.jobs[index] = (start, end, offset)
        g_async_queue_push(worker.toWriter, UnsafeMutableRawPointer(bitPattern: index + 1))
        inFlight += 1
        pendingBytes += end - start
        if idle.isEmpty { takeBack() }
        if let failure { return .failure(failure) }
        return .success(worker.buffers[idle.removeLast()])
    }

    /// Waits until every buffer handed over is written; the first failure, if any.
    func drain() -> WriteFailure? {
        while inFlight > 0 { takeBack() }
        return failure
    }

    /// After ``drain()``: ends the file at `end` when blocks were allocated past it (cutting them
    /// back), and moves the stream's offset to `end`, as if every byte had gone through it.
    func finish(at end: Int) {
        precondition(inFlight == 0)
        // SAFETY: the writer thread is idle (nothing in flight) and saw its last job before handing it back.
        if worker.allocatedEnd > end {
            _ = ftruncate(descriptor, off_t(end))
            worker.allocatedEnd = end
        }
        _ = lseek(descriptor, off_t(end), SEEK_SET)
    }

    struct WriteFailure: Error {
        let code: Int32
        let offset: Int
        /// The failure as a GIO error (owned by the caller), as GLib reports a failed write.
        var gerror: UnsafeMutablePointer<GError> { DirectFile.gioError(code) }
    }

    private func takeBack() {
        let index = Int(bitPattern: g_async_queue_pop(worker.fromWriter)) - 1
        idle.append(index)
        inFlight -= 1
        // SAFETY: the writer is done with this job and its result (it handed the buffer back).
        pendingBytes -= worker.jobs[index].end - worker.jobs[index].start
        if failure == nil, let result = worker.results[index] {
            failure = WriteFailure(code: result.code, offset: result.offset)
        }
    }
}

/// The writer thread's side of a ``FileWriter``: the buffers, the jobs, and what the writes
/// found.
private final class Worker {
    /// The buffers, each `bufferSize` plus two blocks (for the alignment of its first byte).
    let buffers: [UnsafeMutablePointer<GByteArray>]
    /// What each buffer holds for the writer: bytes `start..<end` for file offset `offset`; and
    /// what writing it found: nil, or the errno and the file offset of the first byte not
    /// written. Both belong to the thread that holds the buffer.
    let jobs: UnsafeMutablePointer<(start: Int, end: Int, offset: Int)>
    let results: UnsafeMutablePointer<(code: Int32, offset: Int)?>
    let toWriter: OpaquePointer
    let fromWriter: OpaquePointer
    let descriptor: Int32
    /// The `O_DIRECT` descriptor under ``FileIO/direct``.
    let direct: DirectFile?

    /// The most bytes one `pwrite` puts in the page cache: 1 MiB. Measured in
    /// docs/PERFORMANCE.md on ext4 in a VM: writes of 8 MiB were now and then 2-10x slower than
    /// any of 256 KiB to 2 MiB (0.25-2.8 s for 928 MB against 0.23-0.29 s), and in the save
    /// 1 MiB writes took 0.20-0.23 s where 256 KiB ones took 0.26-0.29 s.
    static let pageCacheWrite = 1 << 20

    /// The first failed write (the writer thread's own: after one, nothing more is written).
    private var failure: (code: Int32, offset: Int)?
    /// Bytes written through the page cache and with `O_DIRECT`.
    var pageCacheBytes = 0
    var directBytes = 0

    /// Whether the file's blocks are allocated ahead of the writes (``preallocation`` at a time),
    /// and up to where: the file then may be longer than what was written until
    /// ``FileWriter/finish(at:)`` cuts it back.
    var preallocate: Bool
    var allocatedEnd: Int
    /// Blocks allocated ahead at a time: 64 MiB.
    static let preallocation = 64 << 20

    /// The process's file size limit (RLIMIT_FSIZE, soft), bytes; nil when there is none.
    static func fileSizeLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max
        else { return nil }
        return Int(clamping: limit.rlim_cur)
    }

    /// Allocates the file's blocks ahead (``DirectFile/allocate(_:_:_:)``; tests give another).
    let allocate: (Int32, Int, Int) -> Bool

    init(
        descriptor: Int32, direct: DirectFile?, count: Int, bufferSize: Int, base: Int,
        allocate: @escaping (Int32, Int, Int) -> Bool
    ) {
        self.descriptor = descriptor
        self.allocate = allocate
        self.direct = direct
        // Only where the stream writes at the end of the file (a new or truncated file): blocks
        // allocated past the end are cut back to the end of the stream, which then ends the file.
        // Not on tmpfs, whose allocation is the page cache itself.
        var st = stat()
        preallocate = fstat(descriptor, &st) == 0 && Int(st.st_size) == base && !DirectFile.onTmpfs(descriptor)
        allocatedEnd = base
        buffers = (0..<count).map { _ in
            g_byte_array_sized_new(guint(bufferSize + 2 * DirectFile.block))
        }
        jobs = .allocate(capacity: count)
        jobs.initialize(repeating: (0, 0, 0), count: count)
        results = .allocate(capacity: count)
        results.initialize(repeating: nil, count: count)
        toWriter = g_async_queue_new()
        fromWriter = g_async_queue_new()
    }

    deinit {
        g_async_queue_unref(toWriter)
        g_async_queue_unref(fromWriter)
        jobs.deallocate()
        results.deallocate()
        buffers.forEach { g_byte_array_unref($0) }
    }

    func run() {
        while true {
            let item = Int(bitPattern: g_async_queue_pop(toWriter))
            if item == FileWriter.stop { return }
            if failure == nil { write(item - 1) }
            results[item - 1] = failure
            g_async_queue_push(fromWriter, UnsafeMutableRawPointer(bitPattern: item))
        }
    }

    /// Writes the job of buffer `index`: with ``direct``, up to the first block boundary of the
    /// file through the page cache, then whole blocks with `O_DIRECT` (when their address is
    /// aligned too, and at least 64 KiB of them), the rest through the page cache; else all
    /// through the page cache. A failure is recorded in ``failure``.
    private func write(_ index: Int) {
        let job = jobs[index]
        // SAFETY: the sink handed this buffer over with `start <= end <= len` and does not touch it until
        // it comes back; its data stay allocated (the buffers live as long as this object).
        let bytes = UnsafeRawPointer(buffers[index].pointee.data!) + job.start
        let count = job.end - job.start
        let offset = job.offset
        if preallocate && offset + count > allocatedEnd {
            // Never past the process's file size limit (RLIMIT_FSIZE): fallocate there fails
            // with EFBIG and raises SIGXFSZ, which kills a process that does not ignore it,
            // though the stream itself may fit under the limit.
            let needed = offset + count - allocatedEnd
            let length = min(max(Self.preallocation, needed), Self.fileSizeLimit().map { $0 - allocatedEnd } ?? .max)
            if length >= needed && allocate(descriptor, allocatedEnd, length) {
                allocatedEnd += length
            } else {
                // Not supported, no room, or past the limit: the writes find out for themselves.
                preallocate = false
                // A failed fallocate may keep what it got, the file's size extended with it (ext4
                // out of room does): past the stream's end, it is cut back like the rest.
                var st = stat()
                if fstat(descriptor, &st) == 0 { allocatedEnd = max(allocatedEnd, Int(st.st_size)) }
            }
        }
        var done = 0
        if let direct {
            let block = DirectFile.block
            let head = min(count, (block - offset % block) % block)
            let body = (count - head) / block * block
            if body >= FileWriter.minimumDirect && Int(bitPattern: bytes + head) % block == 0 {
                guard pwriteAll(bytes, head, at: offset) else { return }
                switch direct.writeBlocks(bytes + head, body, at: offset + head) {
                case .written(let n):
                    directBytes += n
                    done = head + n
                case .refused:
                    done = head  // the rest through the page cache
                case .failed(let code, let at):
                    failure = (code, at)
                    return
                }
            }
        }
        _ = pwriteAll(bytes + done, count - done, at: offset + done)
    }

    /// `pwrite`s all of `bytes[0..<count]` at `offset` on the writer's descriptor, at most
    /// ``pageCacheWrite`` bytes per call.
    private func pwriteAll(_ bytes: UnsafeRawPointer, _ count: Int, at offset: Int) -> Bool {
        var done = 0
        while done < count {
            // SAFETY: `bytes[done..<count]` lie in the job's bytes (see `write(_:)`).
            let n = pwrite(descriptor, bytes + done, min(count - done, Self.pageCacheWrite), off_t(offset + done))
            if n > 0 {
                done += n
                pageCacheBytes += n
                continue
            }
            let code = n == 0 ? EIO : errno
            if code == EINTR { continue }
            failure = (code, offset + done)
            return false
        }
        return true
    }
}
