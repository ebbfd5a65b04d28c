// Locating test fixtures: the package's Tests/Fixtures and the shared fixtures beside the
// package (../shared, as in CI).
import Testing
import VMState

enum Fixtures {
    /// The package root, from this file's path (Tests/VMStateTests/AnalyzeFixtures.swift).
    static let packageRoot: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    static let shared = packageRoot + "/../shared"
    static let qemu72 = shared + "/fixtures/qemu-7.2"
    static let streams = packageRoot + "/Tests/Fixtures/streams"

    /// Streams made with shared/tools/qemu-stream.py, committed under Tests/Fixtures/streams.
    static let streamNames = ["q35", "q35-bios", "virtio-net", "virtio-blk", "e1000", "usb-xhci", "audio-hda"]

    static func bytes(_ path: String) throws -> StreamBytes {
        try StreamBytes(contentsOfFile: path)
    }

    static func text(_ path: String) throws -> String {
        let b = try bytes(path)
        return b.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    static func array(_ path: String) throws -> [UInt8] {
        try bytes(path).withUnsafeBytes { Array($0) }
    }

    static func json(_ path: String) throws -> JSONValue {
        try JSONValue(parsing: array(path))
    }

    /// Reads a stream and returns the error it throws, if any.
    static func streamError(_ data: [UInt8], options: StreamAnalysis.Options = .init()) -> StreamError? {
        do {
            _ = try StreamAnalysis(bytes: StreamBytes(data), options: options)
            return nil
        } catch let e as StreamError {
            return e
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }
}

extension StreamAnalysis {
    /// The analyze-migration.py text: JSON with 4-space indent and a final newline.
    var pythonText: String {
        var w = JSONTextWriter(format: .python)
        writeState(to: &w, memory: false)
        return w.text + "\n"
    }
}
