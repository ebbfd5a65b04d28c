import Testing
import VMStateAnalysis

#if canImport(Glibc)
    import Glibc
#endif

/// The progress bar on a terminal: `vmstate` with stderr on a pseudo-terminal and stdout on a
/// pipe, on a 512 MiB stream (`DiffLargeStreamTests.writeStream`; the bar shows for inputs of
/// 64 MiB and more that take a quarter of a second, here at once: `VMSTATE_PROGRESS_DELAY=0`,
/// since a fast machine reads the stream from the page cache in less).
@Suite(.enabled(if: Tool.path != nil, "the vmstate executable is not built next to the tests"))
struct ProgressBarTests {
    struct Run {
        /// Exit status, -1 when killed by a signal.
        var status: Int32
        /// The signal that ended the tool, or 0.
        var signal: Int32
        var stdout: [UInt8]
        /// What the tool wrote to the terminal (its stderr).
        var terminal: String
    }

    /// Runs `vmstate ARGS` (with `VMSTATE_PROGRESS_DELAY=0`) with stderr on a new
    /// pseudo-terminal; stdout (a pipe) is read until `closeStdout` returns true for the
    /// terminal's text and stdout's bytes so far, then closed (its first 64 KiB
    /// are returned).
    static func runOnTerminal(
        _ args: [String], columns: UInt16 = 0, stdoutOnTerminal: Bool = false,
        closeStdout: (_ terminal: String, _ stdout: [UInt8]) -> Bool = { _, _ in false }
    ) throws -> Run {
        let tool = try #require(Tool.path)
        // (posix_openpt and its kin are not in Swift's Glibc module: /dev/ptmx, unlocked and
        // numbered with ioctls, is what they do on Linux.)
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        try #require(master >= 0)
        defer { close(master) }
        var unlock: Int32 = 0
        var number: UInt32 = 0
        // TIOCSPTLCK = _IOW('T', 0x31, int), TIOCGPTN = _IOR('T', 0x30, unsigned int) (Linux
        // asm-generic ioctl numbering; Swift does not import these function-like macros).
        let setLock: UInt = 0x4004_5431, getNumber: UInt = 0x8004_5430
        try #require(ioctl(master, setLock, &unlock) == 0 && ioctl(master, getNumber, &number) == 0)
        if columns > 0 {
            var size = winsize(ws_row: 24, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
            try #require(ioctl(master, UInt(TIOCSWINSZ), &size) == 0)
        }
        let slave = "/dev/pts/\(number)"
        var out: [Int32] = [0, 0]
        try #require(pipe(&out) == 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 2, slave, O_RDWR | O_NOCTTY, 0)
        // (Stdout on the terminal too: the pipe then has no writer and reads its end at once.)
        posix_spawn_file_actions_adddup2(&actions, stdoutOnTerminal ? 2 : out[1], 1)
        posix_spawn_file_actions_addclose(&actions, out[0])
        posix_spawn_file_actions_addclose(&actions, out[1])
        let argv = [tool] + args
        let cArgv = argv.map { strdup($0) } + [nil]
        defer { cArgv.forEach { free($0) } }
        var environment: [UnsafeMutablePointer<CChar>?] = [strdup("VMSTATE_PROGRESS_DELAY=0")]
        var inherited = environ
        while let entry = inherited.pointee {
            if !String(cString: entry).hasPrefix("VMSTATE_PROGRESS_DELAY=") { environment.append(strdup(entry)) }
            inherited += 1
        }
        environment.append(nil)
        defer { environment.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = Tool.withPipelineSignals { posix_spawn(&pid, tool, &actions, $0, cArgv, environment) }
        close(out[1])
        var outFD: Int32? = out[0]
        defer { if let outFD { close(outFD) } }
        try #require(rc == 0)
        var stdout: [UInt8] = []
        var terminal: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var terminalOpen = true
        while terminalOpen || outFD != nil {
            var fds = [pollfd(fd: master, events: Int16(POLLIN), revents: 0)]
            if let outFD { fds.append(pollfd(fd: outFD, events: Int16(POLLIN), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), 100) < 0 { continue }
            if terminalOpen && fds[0].revents != 0 {
                let n = read(master, &chunk, chunk.count)
                if n > 0 {
                    terminal += chunk[0..<n]
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    terminalOpen = false
                }
            }
            if let fd = outFD, fds.count > 1, fds[1].revents != 0 {
                let n = read(fd, &chunk, chunk.count)
                // (Only the first 64 KiB are kept: --memory prints gigabytes.)
                if n > 0 {
                    stdout += chunk[0..<min(n, max(0, (1 << 16) - stdout.count))]
                } else if !(n < 0 && errno == EINTR) {
                    close(fd)
                    outFD = nil
                }
            }
            if let fd = outFD, closeStdout(String(decoding: terminal, as: UTF8.self), stdout) {
                close(fd)
                outFD = nil
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7F) == 0
        return Run(
            status: exited ? (status >> 8) & 0xFF : -1, signal: exited ? 0 : status & 0x7F, stdout: stdout,
            terminal: String(decoding: terminal, as: UTF8.self))
    }

    /// The bar's states: `LABEL [###---] P% DONE/TOTAL MiB`, each after a carriage return and
    /// followed by ESC `[K` (the rest of the line cleared), the bar 30 characters wide with
    /// P × 30 / 100 of them `#` (narrower where the line would not fit in `columns` - 1
    /// characters), then the line cleared (`\r`, ESC `[K`). Returns the percentages, or nil when
    /// the text is not that.
    static func percentages(_ terminal: String, label: String, totalMiB: Int, columns: Int = 80) -> [Int]? {
        guard terminal.hasSuffix("\r\u{1B}[K") else { return nil }
        let draws = terminal.dropLast(4).split(separator: "\r", omittingEmptySubsequences: false)
        guard draws.first == "", draws.count > 1 else { return nil }
        var out: [Int] = []
        for d in draws.dropFirst() {
            guard d.hasSuffix("\u{1B}[K"), d.count - 3 <= columns - 1 else { return nil }
            let words = d.dropLast(3).split(separator: " ", omittingEmptySubsequences: false)
            guard words.count == 5, words[0] == label, words[4] == "MiB", words[2].hasSuffix("%"),
                let p = Int(words[2].dropLast()), (0...100).contains(p)
            else { return nil }
            let width = min(30, columns - 1 - label.count - (words[2].count + words[3].count + 5) - 4)
            guard
                words[1]
                    == "[" + String(repeating: "#", count: p * width / 100)
                    + String(repeating: "-", count: width - p * width / 100) + "]"
            else { return nil }
            let counts = words[3].split(separator: "/")
            guard counts.count == 2, let done = Int(counts[0]), Int(counts[1]) == totalMiB, done <= totalMiB else {
                return nil
            }
            out.append(p)
        }
        return out
    }

    /// `diff` of a 512 MiB stream with itself: a bar labelled "comparing" over the streams'
    /// size (1026 MiB: the reading and the RAM comparison together), its percentage never
    /// going back, and the line cleared at the end; stdout has the result.
    @Test func diffShowsABarOnATerminal() throws {
        let a = "/tmp/vmstate-bar-\(getpid()).bin"
        defer { unlink(a) }
        #expect(try DiffLargeStreamTests.writeStream(a, changedPage: nil) == 537_919_617)
        let r = try Self.runOnTerminal(["diff", a, a])
        #expect(r.status == 0)
        #expect(String(decoding: r.stdout, as: UTF8.self) == "streams are equal\n")
        let p = try #require(
            Self.percentages(r.terminal, label: "comparing", totalMiB: 1026), "\(r.terminal.debugDescription)")
        #expect(!p.isEmpty)
        #expect(p == p.sorted())
    }

    /// With stdout on the same terminal, the bar is cleared before each output (cliio F5: `-x`
    /// left "... 99% ...MiB" with "state.json" after it on one line).
    @Test func theBarIsClearedBeforeOutputToTheTerminal() throws {
        let a = "/tmp/vmstate-bar-tty-\(getpid()).bin"
        let dir = "/tmp/vmstate-bar-tty-\(getpid())"
        defer {
            unlink(a)
            _ = try? Tool.spawn("/bin/rm", ["rm", "-rf", dir])
        }
        #expect(try DiffLargeStreamTests.writeStream(a, changedPage: nil) == 537_919_617)
        let r = try Self.runOnTerminal(["analyze", "-x", "--directory", dir, a], stdoutOnTerminal: true)
        #expect(r.status == 0)
        #expect(r.terminal.contains("\rextracting ["), "\(r.terminal.debugDescription)")
        // Each drawn bar ("... MiB", ESC [K) is followed by another carriage return, never text.
        var drawn = r.terminal.range(of: "MiB\u{1B}[K")
        while let d = drawn {
            #expect(r.terminal[d.upperBound...].first == "\r", "\(r.terminal.debugDescription)")
            drawn = r.terminal.range(of: "MiB\u{1B}[K", range: d.upperBound..<r.terminal.endIndex)
        }
        #expect(r.terminal.hasSuffix("state.json\r\n"), "\(r.terminal.debugDescription)")
    }

    /// `analyze --memory big | head`: when stdout's reader goes away while the "writing" bar
    /// is shown, the bar's line is cleared before the tool ends on SIGPIPE.
    @Test func theBarIsClearedWhenStdoutsReaderGoesAway() throws {
        let a = "/tmp/vmstate-bar-pipe-\(getpid()).bin"
        defer { unlink(a) }
        #expect(try DiffLargeStreamTests.writeStream(a, changedPage: nil) == 537_919_617)
        // (On a terminal of 40 columns: the bar shrinks so that the line never wraps.)
        let r = try Self.runOnTerminal(["analyze", "--memory", a], columns: 40) { terminal, stdout in
            terminal.contains("\rwriting [") && stdout.count >= 19
        }
        #expect(r.status == -1)
        #expect(r.signal == SIGPIPE)
        #expect(r.stdout.starts(with: Array("{\n    \"ram (2)\": {\n".utf8)))
        // The analysis's own bar (if it showed), then the writing bar, then the clearing.
        let writing = try #require(r.terminal.range(of: "\rwriting ["))
        let tail = String(r.terminal[writing.lowerBound...])
        let p = try #require(
            Self.percentages(tail, label: "writing", totalMiB: 513, columns: 40), "\(tail.debugDescription)")
        #expect(p.count >= 1 && p.last! < 100)
    }
}
