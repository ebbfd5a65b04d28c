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

    /// Runs `body` with spawn attributes that give the child SIGPIPE's default action, as a
    /// shell gives the commands of a pipeline: the test process may ignore SIGPIPE (a test's
    /// GIO pipe does), which a child inherits, and the tool then reports a closed pipe as a
    /// failed write (exit status 2) instead of ending on the signal.
    static func withPipelineSignals<T>(_ body: (UnsafePointer<posix_spawnattr_t>) throws -> T) rethrows -> T {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        return try body(&attributes)
    }

    /// Runs `executable` with `argv` (its argv[0] included), stdout and stderr captured in
    /// temporary files; SIGPIPE has its default action in the child (``withPipelineSignals(_:)``).
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
        let rc = withPipelineSignals { posix_spawn(&pid, executable, &actions, $0, cArgv, environ) }
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

/// A scratch file for one test process: `/tmp/STEM-PID.bin`. The large-stream tests write
/// streams of up to 4.3 GB there and remove them when done; a run that was killed left them
/// behind, so files of this stem whose process no longer exists are removed first.
func scratchStreamPath(_ stem: String) -> String {
    if let dir = opendir("/tmp") {
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(stem + "-"), name.hasSuffix(".bin"),
                let pid = pid_t(name.dropFirst(stem.count + 1).dropLast(4)), pid != getpid(),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            unlink("/tmp/" + name)
        }
    }
    return "/tmp/\(stem)-\(getpid()).bin"
}
