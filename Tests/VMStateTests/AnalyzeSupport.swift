// Helpers for the analyze, diff and compat tests: reading a stream for its error, the
// analyze-migration.py text, and running the `vmstate` executable.
import Testing
import VMState
import VMStateAnalysis

/// Reads a stream and returns the error it throws, if any.
func streamError(_ data: [UInt8], options: StreamAnalysis.Options = .init()) -> StreamAnalysisError? {
    thrownError(StreamAnalysisError.self) {
        _ = try StreamAnalysis(bytes: StreamBytes(data), options: options)
    }
}

extension StreamAnalysis {
    /// The analyze-migration.py text: JSON with 4-space indent and a final newline.
    var pythonText: String {
        var w = JSONTextWriter(format: .python)
        do {
            try writeState(to: &w, memory: false)
        } catch {
            return "error: \(error)"
        }
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
        return try spawn(tool, [tool] + args)
    }

    /// Runs `executable` with `argv` (its argv[0] included), stdout and stderr captured in
    /// temporary files.
    static func spawn(_ executable: String, _ argv: [String]) throws -> Result {
        var template = Array("/tmp/vmstate-test-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else {
            throw StreamFileError(path: "/tmp", operation: "mkdtemp", reason: "failed")
        }
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
        let cArgv = argv.map { strdup($0) } + [nil]
        defer { cArgv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, cArgv, environ)
        guard rc == 0 else {
            throw StreamFileError(path: executable, operation: "spawn", reason: String(cString: strerror(rc)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7F) == 0
        return Result(
            status: exited ? (status >> 8) & 0xFF : -1,
            stdout: try TestPaths.readText(dir + "/out"),
            stderr: try TestPaths.readText(dir + "/err"))
    }
}
