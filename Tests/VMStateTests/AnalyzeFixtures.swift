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
    static func streamError(_ data: [UInt8], options: StreamAnalysis.Options = .init()) -> StreamAnalysisError? {
        do {
            _ = try StreamAnalysis(bytes: StreamBytes(data), options: options)
            return nil
        } catch let e as StreamAnalysisError {
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

#if canImport(Glibc)
import Glibc
#endif

/// Runs the `vmstate` executable built next to the test bundle.
enum Tool {
    /// The `vmstate` binary in the test bundle's build directory, when it was built.
    static let path: String? = {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        let exe = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var dir = exe.split(separator: "/", omittingEmptySubsequences: false)
        // .../debug/swift-vmstatePackageTests.xctest (or .../debug/X.xctest/Contents/MacOS/X)
        while let last = dir.last, !last.hasSuffix(".xctest") { dir.removeLast() }
        guard !dir.isEmpty else { return nil }
        dir.removeLast()
        let candidate = dir.joined(separator: "/") + "/vmstate"
        return access(candidate, X_OK) == 0 ? candidate : nil
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `vmstate ARGS` with stdout and stderr captured in temporary files.
    static func run(_ args: [String]) throws -> Result {
        let tool = try #require(path)
        var template = Array("/tmp/vmstate-test-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw StreamFileError(path: "/tmp", operation: "mkdtemp", reason: "failed") }
        let dir = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer {
            unlink(dir + "/out")
            unlink(dir + "/err")
            rmdir(dir)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, dir + "/out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, dir + "/err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([tool] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, tool, &actions, nil, argv, environ)
        guard rc == 0 else { throw StreamFileError(path: tool, operation: "spawn", reason: String(cString: strerror(rc))) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7F) == 0
        return Result(
            status: exited ? (status >> 8) & 0xFF : -1,
            stdout: try Fixtures.text(dir + "/out"),
            stderr: try Fixtures.text(dir + "/err"))
    }
}
