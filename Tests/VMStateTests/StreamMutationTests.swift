import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState

/// Mutants of the real fixture streams loaded both ways, into our pc devices and the stream's
/// RAM blocks: `Registry.load` of the whole buffer and `vmstate_registry_load_from_stream` over
/// a stream giving 7 bytes per read must agree on every mutant, the way they agree on the
/// streams themselves (StreamIOTests): the same error code and message, or the same RAM and
/// the same bytes saved. The mutants are fixed (a seeded generator); VMSTATE_STREAM_MUTANTS
/// sets how many per fixture and load option (default 4).
@Suite struct StreamMutationTests {
    /// SplitMix64: a small deterministic generator, so that a failing mutant is the same at
    /// every run.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// One mutant of `stream` and what was done. Device sections and the vmdesc are in the
    /// last bytes (after the RAM); the first 4 KiB hold the header, the configuration and the
    /// RAM block list.
    static func mutate(_ stream: [UInt8], _ rng: inout SplitMix) -> ([UInt8], String) {
        var b = stream
        let tail = { (rng: inout SplitMix) in b.count - 1 - Int.random(in: 0..<min(b.count, 200_000), using: &rng) }
        switch Int.random(in: 0..<6, using: &rng) {
        case 0:
            let at = tail(&rng)
            return (Array(b[..<at]), "cut at \(at)")
        case 1:
            var what: [String] = []
            for _ in 0..<Int.random(in: 1...16, using: &rng) {
                let at = Int.random(in: 0..<b.count, using: &rng)
                let bit = Int.random(in: 0..<8, using: &rng)
                b[at] ^= UInt8(1 << bit)
                what.append("\(at).\(bit)")
            }
            return (b, "bits flipped at \(what.joined(separator: ","))")
        case 2:
            var what: [String] = []
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let at = Bool.random(using: &rng) ? Int.random(in: 0..<min(b.count, 4096), using: &rng) : tail(&rng)
                b[at] = UInt8.random(in: 0...255, using: &rng)
                what.append("\(at)")
            }
            return (b, "bytes set at \(what.joined(separator: ","))")
        case 3:
            let at = tail(&rng)
            let n = Int.random(in: 1...64, using: &rng)
            if Bool.random(using: &rng) {
                b.removeSubrange(at..<min(b.count, at + n))
                return (b, "\(n) bytes removed at \(at)")
            }
            b.insert(contentsOf: (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
            return (b, "\(n) bytes inserted at \(at)")
        case 4:
            let values: [[UInt8]] = [
                [0xFF, 0xFF, 0xFF, 0xFF], [0, 0, 0, 0], [0x7F, 0xFF, 0xFF, 0xFF], [0, 0, 1, 0],
            ]
            let v = values[Int.random(in: 0..<values.count, using: &rng)]
            let at = min(tail(&rng), b.count - v.count)
            b.replaceSubrange(at..<at + v.count, with: v)
            return (b, "\(v) at \(at)")
        default:
            // A chunk of device sections copied elsewhere among them.
            let from = tail(&rng)
            let chunk = Array(b[from..<min(b.count, from + Int.random(in: 1...300, using: &rng))])
            let to = tail(&rng)
            b.insert(contentsOf: chunk, at: to)
            return (b, "\(chunk.count) bytes from \(from) copied to \(to)")
        }
    }

    static var count: Int { ProcessInfo.processInfo.environment["VMSTATE_STREAM_MUTANTS"].flatMap(Int.init) ?? 4 }

    @Test(arguments: StreamIOTests.allFixtures)
    func mutantsLoadAlikeFromTheBufferAndFromAStream(_ name: String) throws {
        let stream = try TestPaths.readBytes(RealStreamTests.streamDirectory(name) + "/stream.bin")
        var rng = SplitMix(state: UInt64(name.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
        for options: Registry.LoadOptions in [.keepUnknown, .skipUnknown, [.keepUnknown, .transactional]] {
            for _ in 0..<Self.count {
                let (mutant, what) = Self.mutate(stream, &rng)
                let label = "\(name), \(what), options \(options.rawValue)"
                let viaBuffer = try StreamIOTests.FixtureMachine(name, stream: stream)
                let viaStream = try StreamIOTests.FixtureMachine(name, stream: stream)
                var bufferError: VMStateError?
                do { try viaBuffer.registry.load(mutant, options: options) } catch { bufferError = error }
                let result = StreamIOTests.loadFromStream(viaStream.registry, mutant, chunk: 7, flags: options.rawValue)
                if let bufferError {
                    #expect(!result.ok, "\(label): the stream load succeeded, the buffer's failed")
                    #expect(result.domain == vmstate_error_quark(), "\(label)")
                    #expect(result.code == bufferError.kind.rawValue, "\(label): \(result.message)")
                    // A stream's vmdesc comes after its RAM: what follows a page's data may be a
                    // larger page's rest there, which the buffer's checked page size rules out.
                    // And a bad footer's misplaced footer is looked for in the bytes at hand only.
                    let unsure = RAMCodec.largerPageHint
                    func sure(_ message: String) -> String {
                        message.replacingOccurrences(of: unsure, with: "").replacing(
                            #/: the description read \d+ bytes? (?:more|fewer) than the stream holds for it; its footer is at byte \d+/#,
                            with: "")
                    }
                    #expect(sure(result.message) == sure(bufferError.description), "\(label)")
                    continue
                }
                #expect(result.ok, "\(label): the buffer load succeeded, the stream's failed: \(result.message)")
                guard result.ok else { continue }
                #expect(viaStream.sameRAM(as: viaBuffer), "\(label)")
                let saved = try viaStream.registry.save()
                #expect(saved == (try viaBuffer.registry.save()), "\(label): the saves differ")
            }
        }
    }

    @Test func controlCharactersAreWrittenOut() {
        #expect(escapingControlCharacters("pc.ram") == "pc.ram")
        #expect(
            escapingControlCharacters("a\u{0}b\u{1B}[31m\n\u{7F}\u{9B}\u{A0}é")
                == "a\\x00b\\x1b[31m\\x0a\\x7f\\u009b\u{A0}é")
        #expect(escapingControlCharacters("one\ntwo\t", keepingNewlines: true) == "one\ntwo\\x09")
    }

    /// A section name with ESC and NUL in it: the Swift error and the GError of both C loaders
    /// carry it as \x1b and \x00, the same message.
    @Test func controlCharactersInASectionNameAreEscapedInEveryMessage() throws {
        let source = try RegistryTests.Machine(fill: true)
        var stream = try source.registry.save(machineType: "tiny")
        let idstr = [7] + Array("counter".utf8)
        let at = try #require(PCDumpFixture.find(idstr, in: stream)) + 1
        stream.replaceSubrange(at..<at + 2, with: [0x1B, 0x00])
        let expected =
            "section \"\\x1b\\x00unter\" instance 0 has no registered device (load with VMSTATE_LOAD_SKIP_UNKNOWN, in Swift .skipUnknown, to skip it) (at byte \(at - 1 - 5))"
        let target = try RegistryTests.Machine(fill: false)
        let error = try #require(thrownError(VMStateError.self) { try target.registry.load(stream) })
        #expect(error.description == expected)
        let streamTarget = try RegistryTests.Machine(fill: false)
        let viaStream = StreamIOTests.loadFromStream(streamTarget.registry, stream, chunk: 7, flags: 0)
        #expect(!viaStream.ok)
        #expect(viaStream.message == expected)
        let other = try RegistryTests.Machine(fill: false)
        let gbytes = stream.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
        defer { g_bytes_unref(gbytes) }
        var gerror: UnsafeMutablePointer<GError>?
        #expect(!vmstate_registry_load(StreamIOTests.handle(other.registry), gbytes, 0, &gerror))
        #expect(gerror.map { String(cString: $0.pointee.message) } == expected)
        if let gerror { g_error_free(gerror) }
    }
}
