import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

/// Streams to and from real files and pipes: a registry save to a local file is written from a
/// ``FileWriter``'s thread, through the page cache or with whole 4 KiB blocks with O_DIRECT
/// (``DirectFile``), and the file holds the same bytes as the buffer save either way, wherever
/// the stream's offset starts; with O_DIRECT it loads
/// back reading whole blocks with O_DIRECT; a load from a pipe (not seekable) with SKIP_UNKNOWN /
/// KEEP_UNKNOWN gives the buffer load's result and holds at most what follows the RAM.
@Suite struct StreamFileTests {
    /// A registry holding only RAM: `pages` pages, every fifth zero, the others a pattern
    /// different on each page.
    final class RAMMachine {
        let registry = Registry()
        let ram: UnsafeMutableRawPointer
        let length: Int

        init(pages: Int) throws {
            length = pages * 4096
            ram = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
            for page in 0..<pages {
                let words = ram.advanced(by: page * 4096).assumingMemoryBound(to: UInt64.self)
                for i in 0..<512 { words[i] = page % 5 == 4 ? 0 : UInt64(page) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(i) }
            }
            try registry.addRAM(idstr: "pc.ram", host: ram, length: length)
        }

        deinit { ram.deallocate() }
    }

    /// A new file in a new directory under $TMPDIR (removed by `remove`).
    static func newPath(_ name: String) -> String {
        let dir = String(cString: g_dir_make_tmp("vmstate-stream-file-XXXXXX", nil)!)
        return dir + "/" + name
    }

    static func remove(_ path: String) {
        unlink(path)
        rmdir((path as NSString).deletingLastPathComponent)
    }

    static func contents(_ path: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Saves `registry` through a `StreamSink` over `out` written as `mode` says (by a writer
    /// with buffers of `bufferSize` when given); the bytes the writer wrote through the page cache and with
    /// O_DIRECT (nil when the sink had no writer).
    @discardableResult
    static func save(
        _ registry: Registry, to out: UnsafeMutablePointer<GOutputStream>, mode: FileIO = .direct,
        bufferSize: Int? = nil
    ) throws -> (pageCache: Int, direct: Int)? {
        let sink = StreamSink(out, writer: FileWriter(out, mode: mode, bufferSize: bufferSize))
        let file = MigrationFile(sink: sink)
        try registry.save(machineType: "file", to: file)
        #expect(file.flush())
        return sink.writer.map { ($0.pageCacheBytes, $0.directBytes) }
    }

    /// A process running `argv` whose stdout is a pipe (`g_subprocess_get_stdout_pipe`); the
    /// caller unrefs it.
    static func spawn(_ argv: [String]) throws -> OpaquePointer {
        let args: [UnsafeMutablePointer<CChar>?] = argv.map { g_strdup($0) } + [nil]
        defer { args.forEach { g_free($0) } }
        return try #require(
            args.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                    g_subprocess_newv($0, G_SUBPROCESS_FLAGS_STDOUT_PIPE, nil)
                }
            })
    }

    static func output(_ stream: UnsafeMutablePointer<GFileOutputStream>) -> UnsafeMutablePointer<GOutputStream> {
        UnsafeMutableRawPointer(stream).assumingMemoryBound(to: GOutputStream.self)
    }

    @Test(arguments: [0, 100, 4096 + 7])
    func saveToAFileWritesWholeBlocksDirectlyAndTheSameBytes(_ prefix: Int) throws {
        let machine = try RAMMachine(pages: 5000)  // 20,000 KiB: more than two 8 MiB buffers
        let expected = try machine.registry.save(machineType: "file")
        let path = Self.newPath("save.bin")
        defer { Self.remove(path) }
        let gfile = g_file_new_for_path(path)!
        defer { g_object_unref(UnsafeMutableRawPointer(gfile)) }
        let stream = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
        let out = Self.output(stream)
        let head = [UInt8](repeating: 0xA5, count: prefix)
        if prefix > 0 { #expect(g_output_stream_write_all(out, head, gsize(prefix), nil, nil, nil) != 0) }
        let written = try #require(try Self.save(machine.registry, to: out))
        // Whole blocks, from the first block boundary after the prefix; through the page cache
        // the bytes before it, the block each 8 MiB buffer shares with the next (its last bytes
        // and the next one's first), and the last buffer when it has under 64 KiB of whole blocks.
        let blocks = (prefix + expected.count) / 4096 * 4096 - (prefix + 4095) / 4096 * 4096
        let direct = written.direct
        #expect(
            direct % 4096 == 0 && direct <= blocks && direct > blocks - 3 * 4096 - (64 << 10), "\(direct) of \(blocks)")
        #expect(written.pageCache + direct == expected.count)
        // The stream's offset is the end of what was written, as if all went through it.
        #expect(g_seekable_tell(OpaquePointer(stream)) == Int64(prefix + expected.count))
        #expect(g_output_stream_close(out, nil, nil) != 0)
        g_object_unref(stream)
        let bytes = try Self.contents(path)
        #expect(bytes.count == prefix + expected.count)
        #expect(Array(bytes.prefix(prefix)) == head)
        #expect(Array(bytes.dropFirst(prefix)) == expected)

        // And back, from the prefix on: whole blocks read with O_DIRECT, the same RAM.
        let target = try RAMMachine(pages: 5000)
        memset(target.ram, 0xCC, target.length)
        let input = try #require(g_file_read(gfile, nil, nil))
        defer { g_object_unref(input) }
        #expect(g_seekable_seek(OpaquePointer(input), goffset(prefix), G_SEEK_SET, nil, nil) != 0)
        let source = StreamSource(
            UnsafeMutableRawPointer(input).assumingMemoryBound(to: GInputStream.self), directIO: true)
        try target.registry.loadStream(MigrationFile(source: source), options: [])
        #expect(memcmp(target.ram, machine.ram, target.length) == 0)
        #expect(source.directBytes > 8 << 20, "\(source.directBytes)")  // (the last read, at the end, is short)
    }

    /// Direct I/O is opt-in: by default a regular file is written (from the writer's thread) and
    /// read through the page cache; through the C API, `vmstate_registry_set_direct_io` turns
    /// O_DIRECT on and off, and the file holds the same bytes either way.
    @Test func directIOIsOffByDefaultAndTheBytesAreTheSame() throws {
        let machine = try RAMMachine(pages: 3000)
        let expected = try machine.registry.save(machineType: "file")
        let path = Self.newPath("plain.bin")
        defer { Self.remove(path) }
        let gfile = g_file_new_for_path(path)!
        defer { g_object_unref(UnsafeMutableRawPointer(gfile)) }
        let stream = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
        #expect(machine.registry.fileIO == .pageCache)
        let sink = StreamSink(Self.output(stream), fileIO: machine.registry.fileIO)
        let file = MigrationFile(sink: sink)
        try machine.registry.save(machineType: "file", to: file)
        #expect(file.flush())
        #expect(sink.writer?.directBytes == 0 && sink.writer?.pageCacheBytes == expected.count)
        #expect(g_output_stream_close(Self.output(stream), nil, nil) != 0)
        g_object_unref(stream)
        #expect(try Self.contents(path) == expected)
        let input = try #require(g_file_read(gfile, nil, nil))
        let source = StreamSource(UnsafeMutableRawPointer(input).assumingMemoryBound(to: GInputStream.self))
        let target = try RAMMachine(pages: 3000)
        try target.registry.loadStream(MigrationFile(source: source), options: [])
        #expect(source.directBytes == 0 && memcmp(target.ram, machine.ram, target.length) == 0)
        g_object_unref(input)

        let reg = machine.registry.handle
        for direct in [true, false] {
            vmstate_registry_set_direct_io(reg, direct)
            #expect(machine.registry.fileIO == (direct ? .direct : .pageCache))
            let out = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
            var error: UnsafeMutablePointer<GError>? = nil
            #expect(vmstate_registry_save_to_stream(reg, "file", Self.output(out), &error))
            #expect(g_output_stream_close(Self.output(out), nil, nil) != 0)
            g_object_unref(out)
            #expect(try Self.contents(path) == expected)
        }
    }

    /// Only GLib's own descriptor streams are written and read through their descriptor: a
    /// subclass of `GUnixOutputStream` / `GUnixInputStream` whose `write_fn` / `read_fn` change
    /// the bytes (here XOR 0xA5) gets every byte through them, direct I/O on or off, so the
    /// file holds the masked stream and loads back through the matching input subclass.
    @Test func aSubclassOfAGLibDescriptorStreamIsWrittenAndReadThroughItsOwnFunctions() throws {
        let machine = try RAMMachine(pages: 1500)
        let expected = try machine.registry.save(machineType: "file")
        let path = Self.newPath("xor.bin")
        defer { Self.remove(path) }
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        for direct in [false, true] {
            #expect(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0)
            vmstate_registry_set_direct_io(machine.registry.handle, direct)
            let out = try #require(test_xor_unix_output_stream_new(fd, 0xA5))
            defer { g_object_unref(out) }
            #expect(!DirectFile.isGLibDescriptorStream(UnsafeMutableRawPointer(out)))
            var error: UnsafeMutablePointer<GError>? = nil
            #expect(vmstate_registry_save_to_stream(machine.registry.handle, "file", out, &error))
            #expect(test_xor_stream_bytes(out) == UInt64(expected.count))
            #expect(try Self.contents(path) == expected.map { $0 ^ 0xA5 })

            #expect(lseek(fd, 0, SEEK_SET) == 0)
            let target = try RAMMachine(pages: 1500)
            memset(target.ram, 0xCC, target.length)
            vmstate_registry_set_direct_io(target.registry.handle, direct)
            let input = try #require(test_xor_unix_input_stream_new(fd, 0xA5))
            defer { g_object_unref(input) }
            #expect(vmstate_registry_load_from_stream(target.registry.handle, input, 0, &error), "\(direct)")
            #expect(error == nil)
            #expect(test_xor_stream_bytes(input) == UInt64(expected.count))
            #expect(memcmp(target.ram, machine.ram, target.length) == 0)
        }
    }

    /// A stream with an operation pending (another thread's, or an asynchronous one) or
    /// already closed is refused before a byte is read or written, with GIO's own error, though
    /// a local file's stream is written and read through its descriptor, past GIO's checks.
    @Test func aPendingOrClosedStreamIsRefusedFirst() throws {
        let machine = try RAMMachine(pages: 16)
        let path = Self.newPath("pending.bin")
        defer { Self.remove(path) }
        let gfile = g_file_new_for_path(path)!
        defer { g_object_unref(UnsafeMutableRawPointer(gfile)) }
        let reg = machine.registry.handle
        for direct in [false, true] {
            vmstate_registry_set_direct_io(reg, direct)
            unlink(path)  // (g_file_replace of a file there writes a temporary file until closed)
            let out = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
            defer { g_object_unref(out) }
            var error: UnsafeMutablePointer<GError>? = nil
            #expect(g_output_stream_set_pending(Self.output(out), &error) != 0)
            #expect(!vmstate_registry_save_to_stream(reg, "file", Self.output(out), &error))
            #expect(error?.pointee.domain == g_io_error_quark())
            #expect(error?.pointee.code == Int32(G_IO_ERROR_PENDING.rawValue))
            #expect(error.map { String(cString: $0.pointee.message) } == "Stream has outstanding operation")
            g_clear_error(&error)
            #expect(vmstate_migration_start(reg, "file", Self.output(out), &error) == nil)
            #expect(error?.pointee.code == Int32(G_IO_ERROR_PENDING.rawValue))
            g_clear_error(&error)
            #expect(try Self.contents(path).isEmpty)
            g_output_stream_clear_pending(Self.output(out))
            #expect(vmstate_registry_save_to_stream(reg, "file", Self.output(out), &error))
            #expect(g_output_stream_close(Self.output(out), nil, nil) != 0)
            #expect(!vmstate_registry_save_to_stream(reg, "file", Self.output(out), &error))
            #expect(error?.pointee.code == Int32(G_IO_ERROR_CLOSED.rawValue))
            #expect(error.map { String(cString: $0.pointee.message) } == "Stream is already closed")
            g_clear_error(&error)

            let input = try #require(g_file_read(gfile, nil, nil))
            defer { g_object_unref(input) }
            let stream = UnsafeMutableRawPointer(input).assumingMemoryBound(to: GInputStream.self)
            #expect(g_input_stream_set_pending(stream, &error) != 0)
            #expect(!vmstate_registry_load_from_stream(reg, stream, 0, &error))
            #expect(error?.pointee.code == Int32(G_IO_ERROR_PENDING.rawValue))
            g_clear_error(&error)
            g_input_stream_clear_pending(stream)
            #expect(vmstate_registry_load_from_stream(reg, stream, 0, &error))
        }
    }

    /// A stream over a descriptor the caller opened with O_DIRECT (which takes only whole
    /// aligned blocks): the save writes through a second descriptor of the file without it, and
    /// the load reads whole blocks, with direct I/O on or off; the same bytes and RAM. A live
    /// migration to one is refused. (On tmpfs, which may take no O_DIRECT, nothing to check.)
    @Test func aDescriptorWithODirectSavesAndLoads() throws {
        let oDirect = try #require(DirectFile.oDirect)
        let machine = try RAMMachine(pages: 3000)
        let expected = try machine.registry.save(machineType: "file")
        let path = Self.newPath("odirect.bin")
        defer { Self.remove(path) }
        let gfile = g_file_new_for_path(path)!
        defer { g_object_unref(UnsafeMutableRawPointer(gfile)) }
        func withODirect(_ stream: UnsafeMutableRawPointer) throws -> Bool {
            let fd = try #require(DirectFile.descriptor(of: stream))
            guard !DirectFile.onTmpfs(fd) else { return false }  // (tmpfs may take no O_DIRECT)
            #expect(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | oDirect) == 0)
            return DirectFile.hasODirect(fd)
        }
        let reg = machine.registry.handle
        for direct in [false, true] {
            vmstate_registry_set_direct_io(reg, direct)
            let out = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
            guard try withODirect(UnsafeMutableRawPointer(out)) else {
                g_object_unref(out)
                return
            }
            var error: UnsafeMutablePointer<GError>? = nil
            #expect(vmstate_registry_save_to_stream(reg, "file", Self.output(out), &error))
            #expect(error == nil, "\(String(cString: error!.pointee.message))")
            g_clear_error(&error)
            #expect(g_output_stream_close(Self.output(out), nil, nil) != 0)
            g_object_unref(out)
            #expect(try Self.contents(path) == expected)

            let target = try RAMMachine(pages: 3000)
            vmstate_registry_set_direct_io(target.registry.handle, direct)
            let input = try #require(g_file_read(gfile, nil, nil))
            defer { g_object_unref(input) }
            #expect(try withODirect(UnsafeMutableRawPointer(input)))
            #expect(
                vmstate_registry_load_from_stream(
                    target.registry.handle, UnsafeMutableRawPointer(input).assumingMemoryBound(to: GInputStream.self),
                    0, &error))
            #expect(error == nil, "\(String(cString: error!.pointee.message))")
            g_clear_error(&error)
            #expect(memcmp(target.ram, machine.ram, target.length) == 0)
        }
        // A live migration writes through GIO: refused up front.
        let out = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
        defer { g_object_unref(out) }
        #expect(try withODirect(UnsafeMutableRawPointer(out)))
        var error: UnsafeMutablePointer<GError>? = nil
        #expect(vmstate_migration_start(reg, "file", Self.output(out), &error) == nil)
        #expect(error?.pointee.code == Int32(G_IO_ERROR_INVALID_ARGUMENT.rawValue))
        #expect(
            error.map { String(cString: $0.pointee.message) }
                == "vmstate_migration_start: the stream's descriptor has O_DIRECT, which takes only whole aligned blocks: open it without O_DIRECT"
        )
        g_clear_error(&error)
    }

    /// A file system out of room fails `fallocate` after extending the file with what it got
    /// (ext4 does: its size is past the stream's end): the save, whose writes found room, cuts
    /// the file back to the stream's end, in both modes.
    @Test(arguments: [FileIO.pageCache, .direct])
    func aFailedPreallocationThatExtendedTheFileIsCutBack(_ mode: FileIO) throws {
        let machine = try RAMMachine(pages: 3000)
        let expected = try machine.registry.save(machineType: "file")
        let path = Self.newPath("full.bin")
        defer { Self.remove(path) }
        let gfile = g_file_new_for_path(path)!
        defer { g_object_unref(UnsafeMutableRawPointer(gfile)) }
        let stream = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
        let out = Self.output(stream)
        let calls = Calls()
        let writer = try #require(
            FileWriter(out, mode: mode) { fd, offset, length in
                calls.count += 1
                // Half of what was asked, then ENOSPC.
                return ftruncate(fd, off_t(offset + length / 2)) != 0
            })
        let onTmpfs = DirectFile.onTmpfs(writer.descriptor)
        let sink = StreamSink(out, writer: writer)
        let file = MigrationFile(sink: sink)
        try machine.registry.save(machineType: "file", to: file)
        #expect(file.flush())
        #expect(g_output_stream_close(out, nil, nil) != 0)
        g_object_unref(stream)
        // (tmpfs allocates nothing ahead: there is nothing to cut.)
        #expect(calls.count == (onTmpfs ? 0 : 1))
        #expect(try Self.contents(path) == expected)
    }

    final class Calls: @unchecked Sendable {
        var count = 0
    }

    /// Many small buffers (64 KiB and 256 KiB) through the writer's rotation (four buffers
    /// through the page cache, three with O_DIRECT), in both modes: the file holds the buffer save's bytes at three start offsets, the stream's
    /// offset ends at its end, and with O_DIRECT (where $TMPDIR takes it) most bytes went direct.
    @Test(arguments: [0, 100, 4096 + 7])
    func smallBuffersRotateThroughTheWriter(_ prefix: Int) throws {
        let machine = try RAMMachine(pages: 2000)  // about 6.5 MiB
        let expected = try machine.registry.save(machineType: "file")
        for (mode, bufferSize) in [(FileIO.pageCache, 64 << 10), (.direct, 256 << 10)] {
            let path = Self.newPath("small.bin")
            defer { Self.remove(path) }
            let gfile = g_file_new_for_path(path)!
            defer { g_object_unref(UnsafeMutableRawPointer(gfile)) }
            let stream = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
            let out = Self.output(stream)
            let head = [UInt8](repeating: 0x5A, count: prefix)
            if prefix > 0 { #expect(g_output_stream_write_all(out, head, gsize(prefix), nil, nil, nil) != 0) }
            let fd = try #require(DirectFile.regularFile(of: out))
            let directWorks = mode == .direct && DirectFile(fd: fd, writing: true) != nil
            let written = try #require(try Self.save(machine.registry, to: out, mode: mode, bufferSize: bufferSize))
            #expect(written.pageCache + written.direct == expected.count)
            if directWorks {
                // Each 256 KiB buffer: all but its first and last partial blocks.
                #expect(written.direct % 4096 == 0 && written.direct > expected.count * 9 / 10, "\(written)")
            } else {
                #expect(written.direct == 0)
            }
            #expect(g_seekable_tell(OpaquePointer(stream)) == Int64(prefix + expected.count))
            #expect(g_output_stream_close(out, nil, nil) != 0)
            g_object_unref(stream)
            let bytes = try Self.contents(path)
            #expect(Array(bytes.prefix(prefix)) == head)
            #expect(Array(bytes.dropFirst(prefix)) == expected)
        }
    }

    /// tmpfs keeps files in the page cache anyway: no direct writes or reads there (the test
    /// passes trivially where /dev/shm is missing).
    @Test func tmpfsFilesTakeThePlainPath() throws {
        var template = Array("/dev/shm/vmstate-stream-file-XXXXXX".utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { return }
        let path = String(cString: dir) + "/shm.bin"
        defer { Self.remove(path) }
        let machine = try RAMMachine(pages: 3000)
        let expected = try machine.registry.save(machineType: "file")
        let gfile = g_file_new_for_path(path)!
        defer { g_object_unref(UnsafeMutableRawPointer(gfile)) }
        let stream = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
        #expect(try Self.save(machine.registry, to: Self.output(stream))?.direct == 0)
        #expect(g_output_stream_close(Self.output(stream), nil, nil) != 0)
        g_object_unref(stream)
        #expect(try Self.contents(path) == expected)
        let input = try #require(g_file_read(gfile, nil, nil))
        defer { g_object_unref(input) }
        let source = StreamSource(
            UnsafeMutableRawPointer(input).assumingMemoryBound(to: GInputStream.self), directIO: true)
        let target = try RAMMachine(pages: 3000)
        memset(target.ram, 0xCC, target.length)
        try target.registry.loadStream(MigrationFile(source: source), options: [])
        #expect(source.directBytes == 0 && memcmp(target.ram, machine.ram, target.length) == 0)
    }

    @Test func appendStreamGoesThroughTheStreamWithTheSameBytes() throws {
        let machine = try RAMMachine(pages: 3000)
        let expected = try machine.registry.save(machineType: "file")
        let path = Self.newPath("append.bin")
        defer { Self.remove(path) }
        let gfile = g_file_new_for_path(path)!
        defer { g_object_unref(UnsafeMutableRawPointer(gfile)) }
        // O_APPEND: every write goes to the end, whatever the offset: no writer, through the
        // stream on the caller's thread.
        let stream = try #require(g_file_append_to(gfile, G_FILE_CREATE_NONE, nil, nil))
        let out = Self.output(stream)
        #expect(try Self.save(machine.registry, to: out) == nil)
        #expect(g_output_stream_close(out, nil, nil) != 0)
        g_object_unref(stream)
        #expect(try Self.contents(path) == expected)
    }

    /// A QEMUFile over a file stream: large puts (direct), a flush, the caller's own write to the
    /// stream in between, more puts: the file has everything in order.
    @Test func qemuFileOverAFileKeepsTheStreamsOffset() throws {
        let path = Self.newPath("qemufile.bin")
        defer { Self.remove(path) }
        let gfile = g_file_new_for_path(path)!
        defer { g_object_unref(UnsafeMutableRawPointer(gfile)) }
        let stream = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
        let out = Self.output(stream)
        let first = (0..<(10 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 12) }
        let second = (0..<(9 << 20) + 123).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        let f = vmstate_file_new_output_stream(out)
        qemu_put_be32(f, 0x5145_564D)
        qemu_put_buffer(f, first, first.count)
        qemu_fflush(f)
        #expect(g_output_stream_write_all(out, "XYZ", 3, nil, nil, nil) != 0)
        qemu_put_buffer(f, second, second.count)
        qemu_put_byte(f, 0xEE)
        #expect(qemu_file_get_error(f) == 0)
        #expect(qemu_fclose(f) == 0)
        #expect(g_seekable_tell(OpaquePointer(stream)) == Int64(4 + first.count + 3 + second.count + 1))
        #expect(g_output_stream_close(out, nil, nil) != 0)
        g_object_unref(stream)
        let bytes = try Self.contents(path)
        #expect(bytes == [0x51, 0x45, 0x56, 0x4D] + first + Array("XYZ".utf8) + second + [0xEE])
    }

    /// A writer writes through its own duplicate of the stream's descriptor: when the stream's
    /// number becomes another file's while buffers are still handed over (here atomically, with
    /// `dup2`; a caller that closes the stream early, and a file opened meanwhile, does the
    /// same), releasing the sink writes the handed-over bytes to the stream's file, cuts it to
    /// their end, and leaves the other file's offset and length alone.
    @Test func theWriterWritesTheStreamsFileAfterItsNumberChangedHands() throws {
        let path = Self.newPath("moved.bin")
        defer { Self.remove(path) }
        let otherPath = Self.newPath("other.bin")
        defer { Self.remove(otherPath) }
        let gfile = g_file_new_for_path(path)!
        defer { g_object_unref(UnsafeMutableRawPointer(gfile)) }
        let stream = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
        let out = Self.output(stream)
        let number = try #require(DirectFile.regularFile(of: out))
        let other = open(otherPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        try #require(other >= 0)
        defer { close(other) }
        let bytes = (0..<(200 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 11 &+ $0 >> 9) }
        do {
            let writer = try #require(FileWriter(out, mode: .pageCache, bufferSize: 64 << 10))
            #expect(writer.descriptor != number)
            let file = MigrationFile(sink: StreamSink(out, writer: writer))
            // Three 64 KiB buffers handed over, 8 KiB still buffered (dropped: never flushed).
            file.putBytes(bytes)
            try #require(dup2(other, number) == number)
            withExtendedLifetime(file) {}
        }
        #expect(lseek(number, 0, SEEK_CUR) == 0)
        var st = stat()
        #expect(fstat(number, &st) == 0 && st.st_size == 0)
        // (The stream closes `number`, now the other file's.)
        #expect(g_output_stream_close(out, nil, nil) != 0)
        g_object_unref(stream)
        #expect(try Self.contents(path) == Array(bytes.prefix(192 << 10)))
    }

    /// A flush moves the stream's offset to the end of the writer's bytes; what the caller then
    /// writes to the stream itself stays where it went when the sink is released after it.
    @Test func releasingAFlushedSinkKeepsTheCallersLaterWrites() throws {
        let path = Self.newPath("later.bin")
        defer { Self.remove(path) }
        let gfile = g_file_new_for_path(path)!
        defer { g_object_unref(UnsafeMutableRawPointer(gfile)) }
        let stream = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
        let out = Self.output(stream)
        let bytes = (0..<(200 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 5 &+ 3) }
        do {
            let writer = try #require(FileWriter(out, mode: .pageCache, bufferSize: 64 << 10))
            let file = MigrationFile(sink: StreamSink(out, writer: writer))
            file.putBytes(bytes)
            #expect(file.flush())
            #expect(g_seekable_tell(OpaquePointer(stream)) == Int64(bytes.count))
            #expect(g_output_stream_write_all(out, "XYZ", 3, nil, nil, nil) != 0)
            withExtendedLifetime(file) {}
        }
        #expect(g_seekable_tell(OpaquePointer(stream)) == Int64(bytes.count + 3))
        #expect(g_output_stream_write_all(out, "!", 1, nil, nil, nil) != 0)
        #expect(g_output_stream_close(out, nil, nil) != 0)
        g_object_unref(stream)
        #expect(try Self.contents(path) == bytes + Array("XYZ!".utf8))
    }

    /// Every fixture, read from a pipe (`cat`'s stdout: a GInputStream that cannot seek), with
    /// SKIP_UNKNOWN and KEEP_UNKNOWN: the buffer load's result, and the input window never
    /// held more than its 256 KiB read-ahead or the bytes after the RAM (the device sections,
    /// EOF and vmdesc, held until the vmdesc gives an unknown section its size): no RAM was held.
    /// GLib's own stream on a non-blocking descriptor (a pipe with O_NONBLOCK whose writer pauses
    /// mid-stream) waits for the data itself: the load is the buffer load's; a stream whose read
    /// returns G_IO_ERROR_WOULD_BLOCK fails the load with it, where it happened (not retried).
    @Test func aNonBlockingPipeLoadsAndWouldBlockFails() throws {
        let path = RealStreamTests.streamDirectory("pc-bios") + "/stream.bin"
        let stream = try TestPaths.readBytes(path)
        let viaBuffer = try StreamIOTests.FixtureMachine("pc-bios", stream: stream)
        try viaBuffer.registry.load(stream, options: .keepUnknown)
        let script = "head -c 300000 \"$0\"; sleep 0.3; tail -c +300001 \"$0\""
        let writer = try Self.spawn(["sh", "-c", script, path])
        defer { g_object_unref(UnsafeMutableRawPointer(writer)) }
        let pipe = try #require(g_subprocess_get_stdout_pipe(writer))
        let fd = try #require(DirectFile.descriptor(of: UnsafeMutableRawPointer(pipe)))
        #expect(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0)
        let viaPipe = try StreamIOTests.FixtureMachine("pc-bios", stream: stream)
        var error: UnsafeMutablePointer<GError>?
        #expect(
            vmstate_registry_load_from_stream(
                StreamIOTests.handle(viaPipe.registry), pipe, Registry.LoadOptions.keepUnknown.rawValue, &error))
        #expect(error == nil)
        _ = g_input_stream_skip(pipe, 1 << 30, nil, nil)
        #expect(g_subprocess_wait(writer, nil, nil) != 0)
        #expect(viaPipe.sameRAM(as: viaBuffer))
        #expect(try viaPipe.registry.save() == (try viaBuffer.registry.save()))

        let blocked = try StreamIOTests.FixtureMachine("pc-bios", stream: stream)
        let result = StreamIOTests.loadFromStream(
            blocked.registry, stream, chunk: 4096, flags: Registry.LoadOptions.keepUnknown.rawValue, cut: 300_000,
            failCode: Int32(G_IO_ERROR_WOULD_BLOCK.rawValue))
        #expect(!result.ok && result.domain == g_io_error_quark())
        #expect(result.code == Int32(G_IO_ERROR_WOULD_BLOCK.rawValue))
        #expect(result.message.hasSuffix("(at byte 300000)"), "\(result.message)")
    }

    @Test(arguments: StreamIOTests.allFixtures)
    func fixtureLoadsFromAPipeLikeTheBufferWithoutHoldingRAM(_ name: String) throws {
        let path = RealStreamTests.streamDirectory(name) + "/stream.bin"
        let stream = try TestPaths.readBytes(path)
        // The end of the RAM: the last EOS record followed by the section footer (0x7e, id).
        let eos: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0x10, 0x7E]
        let ramEnd =
            try #require((0..<stream.count - eos.count).last { Array(stream[$0..<$0 + eos.count]) == eos }) + 13
        for options: Registry.LoadOptions in [.keepUnknown, .skipUnknown] {
            let viaBuffer = try StreamIOTests.FixtureMachine(name, stream: stream)
            let viaPipe = try StreamIOTests.FixtureMachine(name, stream: stream)
            var bufferError: VMStateError?
            do { try viaBuffer.registry.load(stream, options: options) } catch { bufferError = error }

            let cat = try Self.spawn(["cat", path])
            defer { g_object_unref(UnsafeMutableRawPointer(cat)) }
            let pipe = try #require(g_subprocess_get_stdout_pipe(cat))
            #expect(
                g_type_check_instance_is_a(
                    UnsafeMutableRawPointer(pipe).assumingMemoryBound(to: GTypeInstance.self), g_seekable_get_type())
                    == 0
                    || g_seekable_can_seek(OpaquePointer(pipe)) == 0)
            let source = StreamSource(pipe)
            var pipeError: VMStateError?
            do { try viaPipe.registry.loadStream(MigrationFile(source: source), options: options) } catch {
                pipeError = error
            }
            // Drain what is left (the vmdesc when the load stopped early) and reap `cat`.
            _ = g_input_stream_skip(pipe, 1 << 30, nil, nil)
            #expect(g_subprocess_wait(cat, nil, nil) != 0)

            #expect(pipeError?.description == bufferError?.description, "\(name) \(options)")
            #expect(
                source.peakWindow <= max(StreamSource.bufferSize, stream.count - ramEnd),
                "\(name): the window held \(source.peakWindow) bytes")
            if bufferError != nil { continue }
            #expect(viaPipe.sameRAM(as: viaBuffer), "\(name)")
            #expect(try viaPipe.registry.save() == (try viaBuffer.registry.save()), "\(name) \(options)")
        }
    }
}
