import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState
import VMStateAnalysis

/// Whole streams over GIO streams (vmstate_registry_save_to_stream / _load_from_stream): the
/// same results as the buffer functions whatever the read and write sizes, over a real socket,
/// and clean errors for streams that end early, fail, or fill the disk.
@Suite struct StreamIOTests {
    static let allFixtures = ["pc-reset", "pc-bios"] + TestPaths.streamNames

    static func handle(_ registry: Registry) -> OpaquePointer {
        OpaquePointer(Unmanaged.passUnretained(registry).toOpaque())
    }

    /// A fixture stream's machine: our pc devices and the stream's RAM blocks (0xCC-filled).
    final class FixtureMachine {
        let pc: RealStreamTests.PCMachine
        var blocks: [(String, UnsafeMutableRawPointer, Int)] = []
        var registry: Registry { pc.registry }

        init(_ name: String, stream: [UInt8]) throws {
            pc = try RealStreamTests.PCMachine(stream: stream)
            // The stream's RAM blocks in its order (the ram START section's block list).
            let marker: [UInt8] = [0x03, 0x72, 0x61, 0x6D, 0, 0, 0, 0, 0, 0, 0, 4]
            var at = try #require(
                (0..<stream.count - marker.count).first { Array(stream[$0..<$0 + marker.count]) == marker })
            at += marker.count
            func be64(_ i: Int) -> Int { stream[i..<i + 8].reduce(0) { $0 << 8 | Int($1) } }
            let total = be64(at) & ~0xFFF
            at += 8
            var seen = 0
            while seen < total {
                let len = Int(stream[at])
                let name = String(decoding: stream[at + 1..<at + 1 + len], as: UTF8.self)
                let length = be64(at + 1 + len)
                at += 1 + len + 8
                seen += length
                let host = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 4096)
                host.initializeMemory(as: UInt8.self, repeating: 0xCC, count: length)
                blocks.append((name, host, length))
                try pc.registry.addRAM(idstr: name, host: host, length: length)
            }
        }

        deinit { for b in blocks { b.1.deallocate() } }

        /// Whether every RAM block holds the same bytes as `other`'s.
        func sameRAM(as other: FixtureMachine) -> Bool {
            blocks.count == other.blocks.count
                && zip(blocks, other.blocks).allSatisfy { $0.2 == $1.2 && memcmp($0.1, $1.1, $0.2) == 0 }
        }
    }

    /// Loads `bytes` with `.keepUnknown`: from the buffer when `chunk` is 0, else through a GIO
    /// stream that gives at most `chunk` bytes a read (an issue recorded when that fails).
    static func loadKeepingUnknown(_ registry: Registry, _ bytes: [UInt8], chunk: Int) throws {
        if chunk == 0 {
            try registry.load(bytes, options: .keepUnknown)
        } else {
            let r = loadFromStream(registry, bytes, chunk: chunk, flags: Registry.LoadOptions.keepUnknown.rawValue)
            #expect(r.ok, "\(r.message)")
        }
    }

    /// Loads `bytes` through a chunked input stream with the C function (its skips GIO's
    /// default one when `defaultSkip`); the error as (domain, code, message) when it fails.
    static func loadFromStream(
        _ registry: Registry, _ bytes: [UInt8], chunk: Int, flags: UInt32, cut: Int64 = -1, failCode: Int32 = 0,
        overclaim: Int = 0, defaultSkip: Bool = false
    ) -> (ok: Bool, domain: UInt32, code: Int32, message: String, reads: UInt64) {
        let gbytes = gbytes(bytes)
        defer { g_bytes_unref(gbytes) }
        let input = test_chunked_input_stream_new(gbytes, gsize(chunk), Int(cut), failCode)!
        defer { g_object_unref(input) }
        test_chunked_input_stream_set_overclaim(input, gsize(overclaim))
        test_chunked_input_stream_set_default_skip(input, defaultSkip ? 1 : 0)
        var error: UnsafeMutablePointer<GError>?
        let ok = vmstate_registry_load_from_stream(handle(registry), input, flags, &error)
        defer { if let error { g_error_free(error) } }
        return (
            ok, error?.pointee.domain ?? 0, error?.pointee.code ?? 0,
            error.map { String(cString: $0.pointee.message) } ?? "", UInt64(test_chunked_input_stream_reads(input))
        )
    }

    /// Saves through a chunked output stream with the C function.
    static func saveToStream(
        _ registry: Registry, machineType: String?, chunk: Int, failAt: Int64 = -1, failCode: Int32 = 0
    ) -> (ok: Bool, bytes: [UInt8], domain: UInt32, code: Int32, message: String) {
        let out = test_chunked_output_stream_new(gsize(chunk), 1, Int(failAt), failCode)!
        defer { g_object_unref(out) }
        var error: UnsafeMutablePointer<GError>?
        let ok = vmstate_registry_save_to_stream(handle(registry), machineType, out, &error)
        defer { if let error { g_error_free(error) } }
        let array = test_chunked_output_stream_bytes(out)!
        return (
            ok, Array(UnsafeBufferPointer(start: array.pointee.data, count: Int(array.pointee.len))),
            error?.pointee.domain ?? 0, error?.pointee.code ?? 0,
            error.map { String(cString: $0.pointee.message) } ?? ""
        )
    }

    /// QEMU 7.2's isapc with a drive, after its BIOS ran: both `isa-ide` sections are instance
    /// 0 and the vmdesc describes each as it is (570 and 58 bytes of data: the drive's channel
    /// has more). Each is read with the entry of its rank: the analyzer reads the stream (QEMU's
    /// script, which keeps the last entry, fails on the first channel), and the registry keeps
    /// both unknown sections and writes the stream back as it came, from a buffer and over a
    /// chunked stream (newcomer52b: both took the second entry for both and refused the stream).
    @Test(arguments: [0, 1, 7, 4096])
    func sectionsOfOneInstanceAreReadWithTheirOwnVMDescEntries(chunk: Int) throws {
        let bytes = try TestPaths.readBytes(
            TestPaths.packageRoot + "/Tests/Fixtures/compat/isapc-ide/qemu-7.2-bios.bin")
        let analysis = try StreamAnalysis(bytes: StreamBytes(bytes), options: .init(recordPages: false))
        let ide = analysis.sections.filter { $0.name == "isa-ide" }
        #expect(ide.map(\.sectionID) == [20, 21] && ide.map(\.instanceID) == [0, 0])
        // (Header and data, as `analyze --tree` gives them: "@0x3b2b0 +591".)
        #expect(ide.map { $0.endOffset - $0.offset } == [591, 79])
        let registry = Registry()
        try Self.loadKeepingUnknown(registry, bytes, chunk: chunk)
        #expect(try registry.save(machineType: nil) == bytes)
    }

    @Test(arguments: allFixtures, [1, 7, 4096])
    func fixtureLoadsThroughAChunkedStreamLikeTheBuffer(_ name: String, _ chunk: Int) throws {
        let stream = try TestPaths.readBytes(RealStreamTests.streamDirectory(name) + "/stream.bin")
        for options: Registry.LoadOptions in [.keepUnknown, .skipUnknown] {
            let viaBuffer = try FixtureMachine(name, stream: stream)
            let viaStream = try FixtureMachine(name, stream: stream)
            var bufferError: VMStateError?
            do { try viaBuffer.registry.load(stream, options: options) } catch { bufferError = error }
            // A read past the stream's end fails, where a source that waits with the connection
            // open would block: the load must stop once the vmdesc is in, though it reads on
            // past the unknown sections to find it.
            let result = Self.loadFromStream(
                viaStream.registry, stream, chunk: chunk, flags: options.rawValue, cut: Int64(stream.count),
                failCode: Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue))
            if let bufferError {
                #expect(!result.ok)
                #expect(result.code == bufferError.kind.rawValue && result.domain == vmstate_error_quark())
                #expect(result.message == bufferError.description, "\(name)")
                continue
            }
            #expect(result.ok, "\(name) chunk \(chunk): \(result.message)")
            #expect(viaStream.sameRAM(as: viaBuffer), "\(name) chunk \(chunk)")
            #expect(viaStream.registry.loadedMachineType == viaBuffer.registry.loadedMachineType)
            let saved = try viaStream.registry.save()
            let same = saved == (try viaBuffer.registry.save())
            #expect(same, "\(name) chunk \(chunk): the saves differ")
            // Reads are at most `chunk` bytes: a 1-byte stream took one read per byte (up to EOF).
            if chunk == 1 {
                // Every byte up to the vmdesc (0x06, be32 length, {"page_size"...) was one read.
                let marker = Array("{\"page_size\"".utf8)
                let vmdesc = try #require(
                    (0..<stream.count - marker.count).last { Array(stream[$0..<$0 + marker.count]) == marker })
                #expect(result.reads >= UInt64(vmdesc - 5))
            }
        }
    }

    @Test func q35FailsTheSameWayThroughAStream() throws {
        let stream = try TestPaths.readBytes(RealStreamTests.streamDirectory("q35") + "/stream.bin")
        let machine = try FixtureMachine("q35", stream: stream)
        let result = Self.loadFromStream(
            machine.registry, stream, chunk: 7, flags: Registry.LoadOptions.keepUnknown.rawValue)
        #expect(!result.ok)
        #expect(result.code == VMStateError.Kind.mismatch.rawValue)
        #expect(result.message.hasPrefix("PCIBUS/nirq: section \"PCIBUS\" instance 0: "))
    }

    @Test(arguments: [1, 3, 7, 4096])
    func saveThroughFewBytesPerWriteIsTheSameBytes(_ chunk: Int) throws {
        let machine = try RegistryTests.Machine(fill: true)
        let expected = try machine.registry.save(machineType: "tiny")
        let saved = Self.saveToStream(machine.registry, machineType: "tiny", chunk: chunk)
        #expect(saved.ok, "\(saved.message)")
        #expect(saved.bytes == expected)

        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        let pc = try FixtureMachine("pc-bios", stream: stream)
        try pc.registry.load(stream, options: .keepUnknown)
        let again = Self.saveToStream(pc.registry, machineType: nil, chunk: chunk)
        let viaBuffer = try pc.registry.save()
        #expect(again.ok && again.bytes == viaBuffer)
    }

    @Test func roundTripThroughStreamsRestoresDevicesAndRAM() throws {
        let source = try RegistryTests.Machine(fill: true)
        let saved = Self.saveToStream(source.registry, machineType: "tiny", chunk: 5)
        let target = try RegistryTests.Machine(fill: false)
        let result = Self.loadFromStream(target.registry, saved.bytes, chunk: 3, flags: 0)
        #expect(result.ok, "\(result.message)")
        #expect(target.counter.counter == 0x0102_0304 && target.counter.irq)
        #expect(target.blob.len == 5 && target.blob.base == 0xFEED_0000_1000)
        #expect(target.ram.load(fromByteOffset: 4096, as: UInt32.self) == 0xDEAD_BEEF)
        #expect(target.rom.load(fromByteOffset: 100, as: UInt8.self) == 0xFF)
        #expect(target.registry.loadedMachineType == "tiny")
    }

    // MARK: early ends and failures

    @Test func streamCutAtEverySectionBoundaryAndMidPageFailsLikeTheBuffer() throws {
        let source = try RegistryTests.Machine(fill: true)
        let stream = try source.registry.save(machineType: "tiny")
        // Record starts, found by walking the layout of our own stream: header, configuration,
        // ram START, ram END (pages), counter, blob, EOF.
        var cuts: [Int] = [0, 3, 8]
        let config = 8 + 1 + 4 + 4
        cuts.append(config)
        let ramStart = config
        let ramStartLength = 1 + 4 + 1 + 3 + 4 + 4 + 8 + (1 + 6 + 8) * 2 + 8 + 5
        let ramEnd = ramStart + ramStartLength
        cuts += [ramEnd, ramEnd + 5]
        // Inside the page of pc.ram at 0x1000 (the first non-zero one): its header and its data.
        let firstPageRecord = ramEnd + 5 + 8 + 1 + 6 + 1
        let dataPage = firstPageRecord + 8
        cuts += [firstPageRecord, firstPageRecord + 4, dataPage, dataPage + 1, dataPage + 2048, dataPage + 4095]
        // Every offset that starts a section, from the bytes: a 0x01-0x04 after a footer.
        var offset = ramEnd
        var starts: [Int] = []
        while offset < stream.count {
            let type = stream[offset]
            if type == 0 { starts.append(offset); break }
            starts.append(offset)
            // Find this section's footer: 0x7e + its section id, searching forward.
            let id = Array(stream[offset + 1..<offset + 5])
            var f = offset + 5
            while !(stream[f] == 0x7E && Array(stream[f + 1..<f + 5]) == id
                && (f + 5 == stream.count || [0, 1, 2, 3, 4].contains(stream[f + 5])))
            { f += 1 }
            offset = f + 5
        }
        cuts += starts + starts.map { $0 + 7 } + [stream.count - 3]
        for cut in Set(cuts).sorted() where cut < stream.count {
            let truncated = Array(stream[..<cut])
            let target = try RegistryTests.Machine(fill: false)
            var bufferError: VMStateError?
            do { try target.registry.load(truncated) } catch { bufferError = error }
            let other = try RegistryTests.Machine(fill: false)
            let result = Self.loadFromStream(other.registry, stream, chunk: 7, flags: 0, cut: Int64(cut))
            if bufferError == nil {
                // Cut inside the vmdesc, after the EOF marker: the load is complete.
                #expect(result.ok)
                continue
            }
            let expected = try #require(bufferError, "cut at \(cut)")
            #expect(!result.ok)
            #expect(result.domain == vmstate_error_quark() && result.code == expected.kind.rawValue, "cut at \(cut)")
            #expect(result.code == VMStateError.Kind.shortInput.rawValue, "cut at \(cut): \(result.message)")
            // The same message from the buffer and from the stream.
            #expect(result.message == expected.description, "cut at \(cut)")
            #expect(result.message.contains("(at byte \(expected.offset))"))
            if cut > ramEnd && cut < starts[1] {
                #expect(result.message.contains("section \"ram\" instance 0: "), "\(result.message)")
            }
        }

        // Exact messages, the offset where the cut value starts: the configuration's length
        // (its byte 0x07 at 8, the length at 9), a RAM page's data, and a section header cut in
        // its instance id (type, id, idstr "counter", then the instance id at +13) and in its
        // version id (at +17).
        func message(cut: Int) throws -> String {
            let target = try RegistryTests.Machine(fill: false)
            let error = try #require(thrownError(VMStateError.self) { try target.registry.load(Array(stream[..<cut])) })
            return error.description
        }
        #expect(try message(cut: 10) == "stream ended inside the configuration length (at byte 9)")
        #expect(try message(cut: 15) == "stream ended inside the 4-byte machine type (at byte 13)")
        #expect(
            try message(cut: dataPage + 100)
                == "section \"ram\" instance 0: stream ended inside a RAM page (at byte \(dataPage))")
        let counter = try #require(starts.first { Array(stream[$0 + 5..<$0 + 13]) == [7] + Array("counter".utf8) })
        #expect(
            try message(cut: counter + 15)
                == "section \"counter\": stream ended inside the instance id (at byte \(counter + 13))")
        // Cut inside the version id, after the instance id (0): the section is named with it.
        #expect(Array(stream[counter + 13..<counter + 17]) == [0, 0, 0, 0])
        #expect(
            try message(cut: counter + 19)
                == "section \"counter\" instance 0: stream ended inside the version id (at byte \(counter + 17))")
    }

    @Test func resetConnectionIsTheStreamsErrorWithSectionAndOffset() throws {
        let source = try RegistryTests.Machine(fill: true)
        let stream = try source.registry.save(machineType: "tiny")
        let target = try RegistryTests.Machine(fill: false)
        let cut = 17 + 70 + 5000
        let result = Self.loadFromStream(
            target.registry, stream, chunk: 4096, flags: 0, cut: Int64(cut),
            failCode: Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue))
        #expect(!result.ok)
        #expect(result.domain == test_io_error_quark() && result.code == Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue))
        #expect(
            result.message.hasPrefix("section \"ram\" instance 0: reading the stream failed: connection reset by test"),
            "\(result.message)")
        #expect(result.message.contains("(at byte \(cut))"), "\(result.message)")
    }

    /// A transactional load's note that it rolled back ends the reason of a failed read, after
    /// where the stream failed and what the read cut (it was spliced into "it cut a RAM page ...
    /// that starts at byte N": capimisuse F1).
    @Test func theRollbackNoteEndsAFailedReadsReason() throws {
        let source = try RegistryTests.Machine(fill: true)
        let stream = try source.registry.save(machineType: "tiny")
        let cut = 17 + 70 + 5000
        var messages: [String] = []
        for flags in [0, Registry.LoadOptions.transactional.rawValue] {
            let target = try RegistryTests.Machine(fill: false)
            let result = Self.loadFromStream(
                target.registry, stream, chunk: 4096, flags: flags, cut: Int64(cut),
                failCode: Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue))
            #expect(!result.ok)
            messages.append(result.message)
        }
        let plain = "section \"ram\" instance 0: reading the stream failed: connection reset by test; it cut a RAM page"
        let end = " (at byte \(cut))"
        #expect(messages[0].hasPrefix(plain) && messages[0].hasSuffix(end), "\(messages[0])")
        #expect(
            messages[1] == messages[0].dropLast(end.count) + " (load rolled back: the devices added with a size are as "
                + "they were before the call; not restored (added without a size, or RAM): the RAM)" + end)
    }

    /// A GInputStream whose read claims more bytes than it was asked for (a broken subclass)
    /// is a read failure at the byte the read started, not bytes taken from past the buffer.
    @Test func aReadClaimingMoreThanAskedIsAFailure() throws {
        let source = try RegistryTests.Machine(fill: true)
        let stream = try source.registry.save(machineType: "tiny")
        let target = try RegistryTests.Machine(fill: false)
        // (Bytes after the stream's end fill the first read, which asks for its whole buffer.)
        let result = Self.loadFromStream(
            target.registry, stream + [UInt8](repeating: 0, count: 1 << 20), chunk: 1 << 30, flags: 0, overclaim: 4096)
        #expect(!result.ok)
        #expect(result.domain == g_io_error_quark() && result.code == Int32(G_IO_ERROR_FAILED.rawValue))
        #expect(result.message.hasPrefix("reading the stream failed: the GInputStream returned "), "\(result.message)")
        #expect(result.message.contains(" (a broken stream implementation); "), "\(result.message)")
        #expect(result.message.hasSuffix("(at byte 0)"), "\(result.message)")
    }

    /// A GInputStream whose read returns -1 without setting its GError (a broken subclass) is a
    /// failed read (G_IO_ERROR_FAILED, saying so) at the byte where it failed, not the end of the
    /// stream; the same through a QEMUFile, whose stream error is that GError.
    @Test func aReadFailingWithoutAnErrorIsAFailure() throws {
        let source = try RegistryTests.Machine(fill: true)
        let stream = try source.registry.save(machineType: "tiny")
        let target = try RegistryTests.Machine(fill: false)
        let result = Self.loadFromStream(
            target.registry, stream, chunk: 7, flags: 0, cut: 300, failCode: Int32(TEST_READ_FAILS_WITHOUT_ERROR))
        #expect(!result.ok)
        #expect(result.domain == g_io_error_quark() && result.code == Int32(G_IO_ERROR_FAILED.rawValue))
        #expect(
            result.message.hasPrefix(
                "section \"ram\" instance 0: reading the stream failed: the GInputStream's read failed without an error; "
            ),
            "\(result.message)")
        #expect(result.message.hasSuffix("(at byte 300)"), "\(result.message)")

        let gbytes = gbytes(Array(repeating: 0x5A, count: 2000))
        defer { g_bytes_unref(gbytes) }
        let input = test_chunked_input_stream_new(gbytes, 64, 1000, Int32(TEST_READ_FAILS_WITHOUT_ERROR))!
        defer { g_object_unref(input) }
        let file = vmstate_file_new_input_stream(input)
        defer { qemu_fclose(file) }
        var buffer = [UInt8](repeating: 0, count: 2000)
        #expect(qemu_get_buffer(file, &buffer, 2000) == 1000)
        #expect(qemu_file_get_error(file) == -5)
        let error = try #require(vmstate_file_get_stream_error(file))
        defer { g_error_free(error) }
        #expect(error.pointee.code == Int32(G_IO_ERROR_FAILED.rawValue))
        #expect(String(cString: error.pointee.message) == "the GInputStream's read failed without an error")
    }

    /// A read that fails inside a device section: the stream's error, the section and the byte
    /// where the read failed; never a field the engine reached after the failure (it noticed
    /// the file's error only after a later value, as QEMU checks it).
    @Test func aFailedReadInADeviceSectionNamesNoLaterField() throws {
        let source = try RegistryTests.Machine(fill: true)
        let stream = try source.registry.save(machineType: "tiny")
        let counter = try #require(
            (0..<stream.count - 13).first { Array(stream[$0..<$0 + 13]) == [4, 0, 0, 0, 2, 7] + Array("counter".utf8) })
        // From the section's header to its footer's last byte.
        for cut in counter..<counter + 20 + 15 + 5 {
            let target = try RegistryTests.Machine(fill: false)
            let result = Self.loadFromStream(
                target.registry, stream, chunk: 1000, flags: 0, cut: Int64(cut),
                failCode: Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue))
            #expect(!result.ok && result.code == Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue))
            #expect(
                result.message.contains("reading the stream failed: connection reset by test")
                    && result.message.hasSuffix("(at byte \(cut))") && !result.message.contains("looking for"),
                "cut at \(cut): \(result.message)")
        }
    }

    @Test func diskFullIsTheStreamsErrorWithSectionAndOffset() throws {
        let machine = try RegistryTests.Machine(fill: true)
        let full = Self.saveToStream(
            machine.registry, machineType: "tiny", chunk: 1000, failAt: 10000,
            failCode: Int32(G_IO_ERROR_NO_SPACE.rawValue))
        #expect(!full.ok)
        #expect(full.domain == test_io_error_quark() && full.code == Int32(G_IO_ERROR_NO_SPACE.rawValue))
        #expect(
            full.message
                == "section \"ram\" instance 0: writing the stream failed: no space left on test device (at byte 10000)"
        )
        #expect(full.bytes.count == 10000)
        #expect(full.bytes == Array(try machine.registry.save(machineType: "tiny")[..<10000]))

        // In a device section, and in the vmdesc after the sections (named by nothing but the offset).
        let stream = try machine.registry.save(machineType: "tiny")
        let counterAt = try #require(
            (0..<stream.count - 8).first { Array(stream[$0..<$0 + 8]) == [4, 0, 0, 0, 2, 7] + Array("co".utf8) })
        let late = Self.saveToStream(
            machine.registry, machineType: "tiny", chunk: 1000, failAt: Int64(counterAt + 20),
            failCode: Int32(G_IO_ERROR_NO_SPACE.rawValue))
        #expect(!late.ok && late.code == Int32(G_IO_ERROR_NO_SPACE.rawValue))
        #expect(
            late.message
                == "section \"counter\" instance 0: writing the stream failed: no space left on test device (at byte \(counterAt + 20))"
        )
        let last = Self.saveToStream(
            machine.registry, machineType: "tiny", chunk: 1000, failAt: Int64(stream.count - 10),
            failCode: Int32(G_IO_ERROR_NO_SPACE.rawValue))
        #expect(!last.ok && last.code == Int32(G_IO_ERROR_NO_SPACE.rawValue))
        #expect(
            last.message == "writing the stream failed: no space left on test device (at byte \(stream.count - 10))")
    }

    /// A caller's GError set before the call stays as it was when the stream's own error comes
    /// back, as GLib's g_propagate_error keeps the first error (with its warning) and frees the
    /// other: it was overwritten, and leaked.
    @Test func aStreamErrorKeepsTheCallersEarlierError() throws {
        let machine = try RegistryTests.Machine(fill: true)
        let out = test_chunked_output_stream_new(1000, 1, 10000, Int32(G_IO_ERROR_NO_SPACE.rawValue))!
        defer { g_object_unref(out) }
        var error: UnsafeMutablePointer<GError>? = g_error_new_literal(vmstate_error_quark(), 1, "earlier")
        let earlier = error
        defer { g_clear_error(&error) }
        #expect(!vmstate_registry_save_to_stream(Self.handle(machine.registry), "tiny", out, &error))
        #expect(error == earlier && String(cString: error!.pointee.message) == "earlier")
    }

    /// A GOutputStream that breaks GIO's contract for write (returns 0, or more than it was
    /// asked to write) fails the save with a G_IO_ERROR_FAILED saying so, at the offset it
    /// had reached (GLib's `g_output_stream_write_all` gives a critical, no error and no count).
    @Test func anOutputStreamThatWritesNothingOrOverclaimsFailsTheSave() throws {
        let machine = try RegistryTests.Machine(fill: true)
        let stream = try machine.registry.save(machineType: "tiny")
        let zero = Self.saveToStream(
            machine.registry, machineType: "tiny", chunk: 1000, failAt: 10000, failCode: Int32(TEST_WRITE_RETURNS_ZERO))
        // The write asked for what the sink had buffered past byte 10000 (the test stream takes
        // 1000 bytes a write): its count is in the message.
        let head =
            "section \"ram\" instance 0: writing the stream failed: the GOutputStream wrote nothing (its write returned 0 for "
        let tail = " bytes) (at byte 10000)"
        #expect(zero.message.hasPrefix(head) && zero.message.hasSuffix(tail), "\(zero.message)")
        let asked = try #require(Int(zero.message.dropFirst(head.count).dropLast(tail.count)))
        #expect(asked > 0)
        let over = Self.saveToStream(
            machine.registry, machineType: "tiny", chunk: 1000, failAt: 10000, failCode: Int32(TEST_WRITE_OVERCLAIMS))
        #expect(
            over.message
                == "section \"ram\" instance 0: writing the stream failed: the GOutputStream returned \(asked + 1) bytes for a write of \(asked) (a broken stream implementation) (at byte 10000)"
        )
        for r in [zero, over] {
            #expect(!r.ok)
            #expect(r.domain == g_io_error_quark() && r.code == Int32(G_IO_ERROR_FAILED.rawValue))
            #expect(r.bytes == Array(stream[..<10000]))
        }
    }

    /// A write that fails in a section kept by a KEEP_UNKNOWN load names that section, as it
    /// names a registered one: a FULL section by its header, the RAM section's END by its START.
    @Test func diskFullInAKeptSectionNamesIt() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        let registry = Registry()
        try registry.load(stream, options: .keepUnknown)
        func failing(at offset: Int) -> String {
            Self.saveToStream(
                registry, machineType: nil, chunk: 1000, failAt: Int64(offset),
                failCode: Int32(G_IO_ERROR_NO_SPACE.rawValue)
            ).message
        }
        // "timer" (instance 0), a FULL section: type, section id 0, idstr length, "timer".
        let timer = try #require(
            (0..<stream.count - 11).first { Array(stream[$0..<$0 + 11]) == [4, 0, 0, 0, 0, 5] + Array("timer".utf8) })
        #expect(
            failing(at: timer + 20)
                == "section \"timer\" instance 0: writing the stream failed: no space left on test device (at byte \(timer + 20))"
        )
        // The RAM section's END (type 3, its START's section id 2) right before the first device.
        let end = try #require((0..<timer).last { Array(stream[$0..<$0 + 5]) == [3, 0, 0, 0, 2] })
        #expect(
            failing(at: end + 3)
                == "section \"ram\" instance 0: writing the stream failed: no space left on test device (at byte \(end + 3))"
        )
    }

    @Test func transactionalStreamLoadRestoresSizedDevices() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        let machine = try FixtureMachine("pc-bios", stream: stream)
        let before = machine.pc.states.map {
            Array(UnsafeRawBufferPointer(start: $0.state, count: pc_device_state_size($0.vmsd)))
        }
        // Cut 20 bytes before the EOF marker: inside the last device section, after all others loaded.
        let marker = Array("{\"page_size\"".utf8)
        let vmdesc = try #require(
            (0..<stream.count - marker.count).last { Array(stream[$0..<$0 + marker.count]) == marker })
        let cut = vmdesc - 5 - 1 - 20
        let result = Self.loadFromStream(
            machine.registry, stream, chunk: 4096,
            flags: (Registry.LoadOptions.keepUnknown.rawValue | Registry.LoadOptions.transactional.rawValue),
            cut: Int64(cut))
        #expect(!result.ok)
        #expect(result.code == VMStateError.Kind.shortInput.rawValue)
        // Every device is sized (restored); the RAM, which the stream reached, is not.
        #expect(
            result.message.contains(
                "(load rolled back: the devices added with a size are as they were before the call; not restored (added without a size, or RAM): the RAM)"
            ), "\(result.message)")
        let after = machine.pc.states.map {
            Array(UnsafeRawBufferPointer(start: $0.state, count: pc_device_state_size($0.vmsd)))
        }
        #expect(after == before)
        // Without TRANSACTIONAL the same cut leaves the earlier sections loaded.
        let other = try FixtureMachine("pc-bios", stream: stream)
        _ = Self.loadFromStream(
            other.registry, stream, chunk: 4096, flags: Registry.LoadOptions.keepUnknown.rawValue, cut: Int64(cut))
        let changed = other.pc.states.map {
            Array(UnsafeRawBufferPointer(start: $0.state, count: pc_device_state_size($0.vmsd)))
        }
        #expect(changed != before)
    }

    // MARK: QEMUFile over streams

    /// A GByteArray file refuses to pass 4 GiB: -EFBIG, and the detail through
    /// vmstate_file_get_stream_error. (The array is given a length just under the limit
    /// without touching its memory.)
    @Test func aGByteArrayFileRefusesToPass4GiB() throws {
        let array = g_byte_array_new()!
        defer { g_byte_array_unref(array) }
        let have = Int(UInt32.max) - 100
        g_byte_array_set_size(array, guint(have))
        let f = try #require(vmstate_file_new_output(array))
        let data = [UInt8](repeating: 0xA5, count: 200)
        data.withUnsafeBufferPointer { qemu_put_buffer(f, $0.baseAddress, 200) }
        #expect(qemu_file_get_error(f) == -27)
        #expect(array.pointee.len == guint(have))
        let error = try #require(vmstate_file_get_stream_error(f))
        defer { g_error_free(error) }
        #expect(error.pointee.domain == vmstate_error_quark())
        #expect(error.pointee.code == VMStateError.Kind.boundExceeded.rawValue)
        #expect(
            String(cString: error.pointee.message)
                == "the stream does not fit in a GByteArray, which holds at most 4 GiB: save to a GOutputStream (vmstate_file_new_output_stream, vmstate_registry_save_to_stream); expected at most 4294967295 bytes, got \(have) bytes and 200 more (at byte \(have))"
        )
        #expect(qemu_fclose(f) == -27)
        // A one-call save (vmstate_save_to_bytes) that reaches the limit fails with that error,
        // under the description's name: not as a custom put's failure (FIELD_FAILED).
        let file = MigrationFile(output: array)
        file.putBytes(data)
        do throws(VMStateError) {
            try VMStateEngine.expectNoFileError(file, after: eng_vmsd_validate())
            Issue.record("no error past 4 GiB")
        } catch {
            #expect(error.kind == .boundExceeded && error.errno == -27)
            #expect(error.path == "eng-validate")
            #expect(error.reason.hasPrefix("the stream does not fit in a GByteArray"))
        }
    }

    /// A read over a stream grows the window as the bytes arrive: a count from a hostile
    /// stream that asks for 16 GiB with a few bytes behind it allocated 16 GiB at once (and
    /// aborted the process where that failed). Through the QEMU API, a peek goes at most one
    /// buffer past the cursor (a peek 2 GiB past it asked for a 2 GiB window).
    @Test func aHugeCountOverAStreamAllocatesForTheBytesThatCame() throws {
        let state: [UInt8] = [0x7F, 0xFF, 0xFF, 0xFF] + [0, 0, 0, 0, 0, 0, 0, 1]
        let bytes = gbytes(state)
        defer { g_bytes_unref(bytes) }
        let memory = g_memory_input_stream_new_from_bytes(bytes)!
        defer { g_object_unref(memory) }
        let input = UnsafeMutableRawPointer(memory).assumingMemoryBound(to: GInputStream.self)
        let source = StreamSource(input)
        let file = MigrationFile(source: source)
        #expect(!file.ensure(16 << 30))
        #expect(file.inputEnded && file.count == state.count)
        #expect(source.capacity == StreamSource.bufferSize)
        // A stream that has the bytes grows the window for them, by doubling.
        let big = gbytes([UInt8](repeating: 7, count: 3 << 20))
        defer { g_bytes_unref(big) }
        let bigMemory = g_memory_input_stream_new_from_bytes(big)!
        defer { g_object_unref(bigMemory) }
        let bigSource = StreamSource(UnsafeMutableRawPointer(bigMemory).assumingMemoryBound(to: GInputStream.self))
        let bigFile = MigrationFile(source: bigSource)
        #expect(bigFile.ensure(3 << 20) && !bigFile.ensure((3 << 20) + 1))
        #expect(bigSource.capacity == 4 << 20)

        let again = g_memory_input_stream_new_from_bytes(bytes)!
        defer { g_object_unref(again) }
        let f = try #require(
            vmstate_file_new_input_stream(UnsafeMutableRawPointer(again).assumingMemoryBound(to: GInputStream.self)))
        #expect(qemu_peek_byte(f, 0x7FFF_FFFF) == 0)  // past a buffer: not read at all
        #expect(qemu_peek_byte(f, Int32(StreamSource.bufferSize - 1)) == 0)  // read: past the end
        #expect(qemu_fclose(f) == -5)
    }

    /// An input that ends inside a VMSTATE_UNUSED run fails the load with -EIO over a stream as
    /// over a GBytes file (the stream's short skip went unnoticed: the load returned 0).
    @Test func inputEndingInsideUnusedBytesFailsOverAStream() throws {
        // "eng-buffers": buf[4], 3 unused bytes, ...: 4 bytes of buf, then 2 of the 3.
        let bytes = gbytes([1, 2, 3, 4, 0xAB, 0xAB])
        defer { g_bytes_unref(bytes) }
        let value = UnsafeMutablePointer<EngBuffers>.allocate(capacity: 1)
        defer { value.deallocate() }
        for chunk in [0, 1, 4] {
            value.initialize(to: EngBuffers())
            let input = chunk == 0 ? nil : test_chunked_input_stream_new(bytes, gsize(chunk), -1, 0)
            defer { if let input { g_object_unref(input) } }
            let f = try #require(input.map { vmstate_file_new_input_stream($0) } ?? vmstate_file_new_input(bytes))
            #expect(vmstate_load_state(f, eng_vmsd_buffers(), value, 1) == -5, "chunk \(chunk)")
            #expect(qemu_fclose(f) == -5)
        }
    }

    @Test func qemuFileOverStreamsBuffersAndKeepsTheError() throws {
        let out = test_chunked_output_stream_new(3, 1, -1, 0)!
        defer { g_object_unref(out) }
        let f = try #require(vmstate_file_new_output_stream(out))
        qemu_put_be32(f, 0x0102_0304)
        qemu_put_byte(f, 0x05)
        // Buffered: nothing reached the stream yet.
        #expect(test_chunked_output_stream_count(out) == 0)
        qemu_fflush(f)
        #expect(test_chunked_output_stream_count(out) == 5)
        qemu_put_be16(f, 0x0607)
        #expect(qemu_file_total_transferred(f) == 7)
        #expect(qemu_fclose(f) == 0)
        let kept = test_chunked_output_stream_bytes(out)!
        #expect(
            Array(UnsafeBufferPointer(start: kept.pointee.data, count: Int(kept.pointee.len))) == [1, 2, 3, 4, 5, 6, 7])
        // qemu_fclose did not close the stream.
        #expect(g_output_stream_is_closed(out) == 0)

        let bytes = gbytes([0xAA, 0xBB, 0xCC, 0xDD, 0xEE])
        defer { g_bytes_unref(bytes) }
        let input = test_chunked_input_stream_new(bytes, 1, -1, 0)!
        defer { g_object_unref(input) }
        let g = try #require(vmstate_file_new_input_stream(input))
        #expect(qemu_peek_byte(g, 2) == 0xCC)
        #expect(qemu_get_be16(g) == 0xAABB)
        #expect(qemu_get_be32(g) == 0xCCDD_EE00)  // 3 bytes left: short, read as QEMU does (zeros past the end)
        #expect(qemu_file_get_error(g) == -5)
        #expect(vmstate_file_get_stream_error(g) == nil)  // an end, not a failure
        #expect(qemu_fclose(g) == -5)
        #expect(g_input_stream_is_closed(input) == 0)

        let failing = test_chunked_input_stream_new(bytes, 2, 3, Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue))!
        defer { g_object_unref(failing) }
        let h = try #require(vmstate_file_new_input_stream(failing))
        var buffer = [UInt8](repeating: 0, count: 5)
        #expect(qemu_get_buffer(h, &buffer, 5) == 3)
        #expect(buffer == [0xAA, 0xBB, 0xCC, 0, 0])
        #expect(qemu_file_get_error(h) == -5)
        let error = try #require(vmstate_file_get_stream_error(h))
        #expect(error.pointee.code == Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue))
        #expect(String(cString: error.pointee.message) == "connection reset by test")
        g_error_free(error)
        #expect(qemu_fclose(h) == -5)
    }
}
