import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

/// Streams to and from real files and pipes: with direct I/O on (off by default), a save to a
/// local file writes its whole 4 KiB blocks with O_DIRECT (``DirectFile``) and the file holds
/// the same bytes as the buffer save,
/// wherever the stream's offset starts, and loads back reading whole blocks with O_DIRECT; a load from a pipe (not seekable) with SKIP_UNKNOWN /
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

    /// Saves `registry` through a `StreamSink` over `out`; the sink's bytes written with O_DIRECT.
    static func save(_ registry: Registry, to out: UnsafeMutablePointer<GOutputStream>) throws -> Int {
        let sink = StreamSink(out, directIO: true)
        let file = MigrationFile(sink: sink)
        try registry.save(machineType: "file", to: file)
        #expect(file.flush())
        return sink.directBytes
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
        let direct = try Self.save(machine.registry, to: out)
        // Whole blocks, from the first block boundary after the prefix; the bytes before it, and
        // the last write-out when it is under 64 KiB (DirectFile.minimumWrite), through the stream.
        let blocks = (prefix + expected.count) / 4096 * 4096 - (prefix + 4095) / 4096 * 4096
        #expect(direct % 4096 == 0 && direct <= blocks && direct > blocks - (64 << 10), "\(direct) of \(blocks)")
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

    /// Direct I/O is opt-in: by default a regular file is written and read through the stream
    /// (the page cache); through the C API, `vmstate_registry_set_direct_io` turns it on and the
    /// file holds the same bytes either way.
    @Test func directIOIsOffByDefaultAndTheBytesAreTheSame() throws {
        let machine = try RAMMachine(pages: 3000)
        let expected = try machine.registry.save(machineType: "file")
        let path = Self.newPath("plain.bin")
        defer { Self.remove(path) }
        let gfile = g_file_new_for_path(path)!
        defer { g_object_unref(UnsafeMutableRawPointer(gfile)) }
        let stream = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
        let sink = StreamSink(Self.output(stream))
        try machine.registry.save(machineType: "file", to: MigrationFile(sink: sink))
        #expect(sink.directBytes == 0)
        #expect(g_output_stream_close(Self.output(stream), nil, nil) != 0)
        g_object_unref(stream)
        #expect(try Self.contents(path) == expected)
        let input = try #require(g_file_read(gfile, nil, nil))
        let source = StreamSource(UnsafeMutableRawPointer(input).assumingMemoryBound(to: GInputStream.self))
        let target = try RAMMachine(pages: 3000)
        try target.registry.loadStream(MigrationFile(source: source), options: [])
        #expect(source.directBytes == 0 && memcmp(target.ram, machine.ram, target.length) == 0)
        g_object_unref(input)

        for direct in [false, true] {
            let reg = machine.registry.handle
            vmstate_registry_set_direct_io(reg, direct)
            #expect(machine.registry.directIO == direct)
            let out = try #require(g_file_replace(gfile, nil, 0, G_FILE_CREATE_NONE, nil, nil))
            var error: UnsafeMutablePointer<GError>? = nil
            #expect(vmstate_registry_save_to_stream(reg, "file", Self.output(out), &error))
            #expect(g_output_stream_close(Self.output(out), nil, nil) != 0)
            g_object_unref(out)
            #expect(try Self.contents(path) == expected)
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
        #expect(try Self.save(machine.registry, to: Self.output(stream)) == 0)
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
        // O_APPEND: every write goes to the end, whatever the offset; no direct writes.
        let stream = try #require(g_file_append_to(gfile, G_FILE_CREATE_NONE, nil, nil))
        let out = Self.output(stream)
        #expect(try Self.save(machine.registry, to: out) == 0)
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

    /// Every fixture, read from a pipe (`cat`'s stdout: a GInputStream that cannot seek), with
    /// SKIP_UNKNOWN and KEEP_UNKNOWN: the buffer load's result, and the input window never
    /// held more than its 256 KiB read-ahead or the bytes after the RAM (the device sections,
    /// EOF and vmdesc, held until the vmdesc gives an unknown section its size): no RAM was held.
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

            let argv: [UnsafeMutablePointer<CChar>?] = [g_strdup("cat"), g_strdup(path), nil]
            defer { argv.forEach { g_free($0) } }
            let cat = try #require(
                argv.withUnsafeBufferPointer { args in
                    args.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: args.count) {
                        g_subprocess_newv($0, G_SUBPROCESS_FLAGS_STDOUT_PIPE, nil)
                    }
                })
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
