import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

/// Streams over a real loopback socket, and a stream that passes 4 GiB.
@Suite(.serialized) struct StreamSocketTests {
    /// A listener on 127.0.0.1 (a port the system picks).
    final class Listener {
        let listener = g_socket_listener_new()!
        let port: UInt16

        init() throws {
            let address = g_inet_socket_address_new_from_string("127.0.0.1", 0)!
            defer { g_object_unref(address) }
            var effective: UnsafeMutablePointer<GSocketAddress>?
            var error: UnsafeMutablePointer<GError>?
            let added = g_socket_listener_add_address(
                listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                nil, &effective, &error)
            if let error {
                defer { g_error_free(error) }; Issue.record("listen: \(String(cString: error.pointee.message))")
            }
            try #require(added != 0)
            port = g_inet_socket_address_get_port(
                OpaquePointer(effective!).map { UnsafeMutablePointer<GInetSocketAddress>($0) }!)
            g_object_unref(effective)
        }

        deinit {
            g_socket_listener_close(listener)
            g_object_unref(listener)
        }

        /// Accepts one connection and loads `registry` from it.
        func acceptAndLoad(_ registry: Registry, flags: UInt32) -> (ok: Bool, code: Int32, message: String) {
            var error: UnsafeMutablePointer<GError>?
            guard let connection = g_socket_listener_accept(listener, nil, nil, &error) else {
                defer { g_error_free(error) }
                return (false, -1, String(cString: error!.pointee.message))
            }
            defer { g_object_unref(connection) }
            let input = g_io_stream_get_input_stream(
                UnsafeMutableRawPointer(connection).assumingMemoryBound(to: GIOStream.self))
            let ok = vmstate_registry_load_from_stream(StreamIOTests.handle(registry), input, flags, &error)
            defer { if let error { g_error_free(error) } }
            return (ok, error?.pointee.code ?? 0, error.map { String(cString: $0.pointee.message) } ?? "")
        }
    }

    @Test func machineGoesOverALoopbackSocket() throws {
        let listener = try Listener()
        let source = try RegistryTests.Machine(fill: true)
        let client = test_socket_client_start(listener.port, StreamIOTests.handle(source.registry), "tiny", nil)
        let target = try RegistryTests.Machine(fill: false)
        let result = listener.acceptAndLoad(target.registry, flags: 0)
        var message: UnsafeMutablePointer<CChar>?
        #expect(test_socket_client_join(client, &message) != 0)
        g_free(message)
        #expect(result.ok, "\(result.message)")
        #expect(target.counter.counter == 0x0102_0304 && target.blob.len == 5)
        #expect(target.ram.load(fromByteOffset: 4096, as: UInt32.self) == 0xDEAD_BEEF)
        #expect(memcmp(target.ram, source.ram, 4 * 4096) == 0 && memcmp(target.rom, source.rom, 4096) == 0)
    }

    @Test func fixtureGoesOverALoopbackSocketWithUnknownSectionsKept() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        let listener = try Listener()
        let raw = gbytes(stream)
        defer { g_bytes_unref(raw) }
        let client = test_socket_client_start(listener.port, nil, nil, raw)
        let machine = try StreamIOTests.FixtureMachine("pc-bios", stream: stream)
        let result = listener.acceptAndLoad(machine.registry, flags: Registry.LoadOptions.keepUnknown.rawValue)
        #expect(test_socket_client_join(client, nil) != 0)
        #expect(result.ok, "\(result.message)")
        let reference = try StreamIOTests.FixtureMachine("pc-bios", stream: stream)
        try reference.registry.load(stream, options: .keepUnknown)
        #expect(machine.sameRAM(as: reference))
        let same = try machine.registry.save() == reference.registry.save()
        #expect(same)
    }

    @Test func connectionClosedMidPageIsAShortInputNamingTheSection() throws {
        let source = try RegistryTests.Machine(fill: true)
        let stream = try source.registry.save(machineType: "tiny")
        let listener = try Listener()
        // Cut 100 bytes into the data of the first non-zero page of pc.ram.
        // Header and configuration 17, ram START 68, END header 5, zero page 0 (16), page 1 header 8.
        let pageData = 17 + 68 + 5 + 16 + 8
        let raw = gbytes(Array(stream[..<(pageData + 100)]))
        defer { g_bytes_unref(raw) }
        let client = test_socket_client_start(listener.port, nil, nil, raw)
        let target = try RegistryTests.Machine(fill: false)
        let result = listener.acceptAndLoad(target.registry, flags: 0)
        #expect(test_socket_client_join(client, nil) != 0)
        #expect(!result.ok)
        #expect(result.code == VMStateError.Kind.shortInput.rawValue)
        #expect(result.message == "section \"ram\" instance 0: stream ended inside a RAM page (at byte \(pageData))")
    }

    /// 4.25 GiB of guest RAM, every page non-zero, backed by 64 MiB (each 64 MiB of the address
    /// space maps the same memory): the stream is over 4 GiB. It goes through a loopback
    /// socket into a second machine whose RAM is aliased the same way, and the GByteArray
    /// function refuses it up front.
    @Test(.tags(.slow)) func streamPastFourGiBSavesAndLoads() throws {
        let length = 17 << 28  // 4.25 GiB
        let period = 64 << 20
        var sourceView: UnsafeMutableRawPointer?
        let sourceRAM = try #require(test_aliased_ram_new(gsize(length), gsize(period), &sourceView))
        defer { test_aliased_ram_free(sourceRAM, gsize(length), sourceView, gsize(period)) }
        // Every page distinct within the period, none zero.
        for page in 0..<(period / 4096) {
            (sourceView! + page * 4096).storeBytes(of: UInt64(page) &* 0x9E37_79B9_7F4A_7C15 | 1, as: UInt64.self)
            (sourceView! + page * 4096 + 4088).storeBytes(of: UInt64(page), as: UInt64.self)
        }
        let source = Registry()
        try source.addRAM(idstr: "pc.ram", host: sourceRAM, length: length)

        // The GByteArray function refuses it before writing any RAM.
        let array = g_byte_array_new()!
        defer { g_byte_array_unref(array) }
        var error: UnsafeMutablePointer<GError>?
        #expect(!vmstate_registry_save(StreamIOTests.handle(source), "big", array, &error))
        #expect(array.pointee.len == 0)
        #expect(error?.pointee.code == VMStateError.Kind.boundExceeded.rawValue)
        let message = error.map { String(cString: $0.pointee.message) } ?? ""
        #expect(
            message.hasPrefix(
                "the stream does not fit in a GByteArray, which holds at most 4 GiB: save to a GOutputStream"),
            "\(message)")
        if let error { g_error_free(error) }

        // Counted: the stream's size.
        let counter = test_chunked_output_stream_new(1 << 20, 0, -1, 0)!
        defer { g_object_unref(counter) }
        #expect(vmstate_registry_save_to_stream(StreamIOTests.handle(source), "big", counter, nil))
        let pages = length / 4096
        let expectedSize =
            8 + 5 + 3 + (1 + 4 + 1 + 3 + 8 + 8 + 1 + 6 + 8 + 8 + 5) + (1 + 4 + 8 + 7 + pages * (8 + 4096) + 8 + 5) + 1
        let size = Int(test_chunked_output_stream_count(counter))
        #expect(size > Int(UInt32.max))
        #expect(size > expectedSize && size < expectedSize + 200)

        // Over a socket into a second machine.
        var targetView: UnsafeMutableRawPointer?
        let targetRAM = try #require(test_aliased_ram_new(gsize(length), gsize(period), &targetView))
        defer { test_aliased_ram_free(targetRAM, gsize(length), targetView, gsize(period)) }
        let target = Registry()
        try target.addRAM(idstr: "pc.ram", host: targetRAM, length: length)
        let listener = try Listener()
        let client = test_socket_client_start(listener.port, StreamIOTests.handle(source), "big", nil)
        let result = listener.acceptAndLoad(target, flags: 0)
        var clientMessage: UnsafeMutablePointer<CChar>?
        #expect(test_socket_client_join(client, &clientMessage) != 0)
        g_free(clientMessage)
        #expect(result.ok, "\(result.message)")
        #expect(memcmp(targetView!, sourceView!, period) == 0)
        #expect(target.loadedMachineType == "big")
    }
}

extension Tag {
    /// Tests that take seconds (scripts/test runs them).
    @Tag static var slow: Self
}
