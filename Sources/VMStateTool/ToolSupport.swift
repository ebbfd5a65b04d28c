// Shared helpers of the subcommands: stdout/stderr output, bad-input exits, progress bar.
import ArgumentParser
import VMState
import VMStateAnalysis

#if canImport(Glibc)
    // (@preconcurrency: C's `stdout`, a global variable, is read at exit; see
    // checkBufferedStdoutAtExit.)
    @preconcurrency import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Exit status for input the tool cannot read (bad stream, bad JSON, missing file).
let badInputExit = ExitCode(2)

/// Writes to a file descriptor, all of it (callers buffer; the JSON writer hands over 64 KiB
/// chunks). A failed write to stdout (a full disk, `/dev/full`, stdout closed) ends the tool
/// with a message and exit status 2 (``stdoutFailed(_:exitNow:)``): the output is not whole; or, while
/// ``Stdout/deferringFailure(_:)`` runs, is remembered, and nothing more goes to stdout.
private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
    if fd == 1 && Stdout.deferredFailure != nil { return }
    guard var p = bytes.baseAddress else { return }
    var left = bytes.count
    while left > 0 {
        let n = write(fd, p, left)
        if n < 0 {
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                // A non-blocking descriptor that is full: wait until it takes more.
                var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&ready, 1, -1)
                continue
            }
            let code = errno
            if fd == 1 && Stdout.deferring {
                Stdout.deferredFailure = code
                return
            }
            if fd == 1 { stdoutFailed(code) }
            if code == EPIPE && !sigpipeIgnoredByCaller { readerWentAway(fd) }  // e.g. `| head`
            return
        }
        p += n
        left -= n
    }
}

/// The tool's name and subcommand in messages ("vmstate analyze"), set at start-up.
nonisolated(unsafe) var commandLabel = "vmstate"

/// A write to stdout failed with `code`: the tool ends on SIGPIPE when stdout's reader went
/// away (``readerWentAway(_:)``: `| head`) and the caller left SIGPIPE's default action, else
/// says so on stderr and exits with status 2, as for an output file `-x` cannot write (a
/// caller that ignores SIGPIPE gets "Broken pipe" and 2, as from a program that never changed
/// it). `exitNow` exits (`_exit` from an exit handler).
private func stdoutFailed(_ code: Int32, exitNow: (Int32) -> Never = { exit($0) }) -> Never {
    if code == EPIPE && !sigpipeIgnoredByCaller { readerWentAway(1) }
    ProgressBar.active?.finish()
    Stderr.write("\(commandLabel): error: cannot write to standard output: \(String(cString: strerror(code)))\n")
    exitNow(2)
}

/// What goes to stdout through C's stdio (swift-argument-parser prints `--help` with `print`)
/// is checked when the tool exits: a failed flush then ends it as a failed write to stdout
/// does elsewhere (``stdoutFailed(_:exitNow:)``), where it would have exited 0 with the output
/// lost. Called at start-up.
func checkBufferedStdoutAtExit() {
    atexit {
        // (The exit handlers run on the one thread left. A write that failed before, when the
        // buffer filled, left its error on the stream; its errno is gone.)
        let flushed = fflush(stdout) == 0
        guard !flushed || ferror(stdout) != 0 else { return }
        // (_exit: exit may not be called again from an exit handler.)
        stdoutFailed(flushed || errno == 0 ? EIO : errno) { _exit($0) }
    }
}

/// The reader of stdout or stderr went away (SIGPIPE is ignored, so a write fails with EPIPE):
/// the progress bar's line is finished on stderr (when stderr is still there), then the tool
/// ends on SIGPIPE, as it would have without the bar.
private func readerWentAway(_ fd: Int32) -> Never {
    if fd != 2 { ProgressBar.active?.finish() }
    signal(SIGPIPE, SIG_DFL)
    raise(SIGPIPE)
    exit(0)
}

/// Whether the process started with SIGPIPE ignored (its caller's choice, inherited): a closed
/// pipe is then a failed write (EPIPE: exit status 2), not the signal.
nonisolated(unsafe) private var sigpipeIgnoredByCaller = false

/// Makes a write to a closed pipe fail with EPIPE instead of killing the tool at once, so the
/// progress bar's line can be finished first (``readerWentAway(_:)``). Called at start-up.
func ignoreSIGPIPE() {
    let previous = signal(SIGPIPE, SIG_IGN)
    sigpipeIgnoredByCaller = unsafeBitCast(previous, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
}

enum Stdout {
    static func write(_ bytes: UnsafeRawBufferPointer) {
        clearBar()
        writeAll(1, bytes)
        if isTerminal, let last = bytes.last { atLineStart = last == UInt8(ascii: "\n") }
    }

    static func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    /// Whether stdout is a terminal (then most likely stderr's, where the progress bar is).
    static let isTerminal = isatty(1) != 0
    /// Whether what went to a terminal stdout ends with a newline (or nothing went there): the
    /// progress bar is drawn only then, on a line of its own, not over a line being printed.
    nonisolated(unsafe) fileprivate(set) static var atLineStart = true

    /// Clears the progress bar before output to a terminal (`--memory`, `-x`'s names), which
    /// it would otherwise be drawn into; its next update draws it again, below.
    private static func clearBar() {
        if isTerminal, let bar = ProgressBar.active { bar.finish() }
    }

    static func flush() {}

    /// Whether a failed write is being remembered (``deferredFailure``) rather than ending the
    /// tool at once.
    fileprivate(set) nonisolated(unsafe) static var deferring = false
    /// The errno of the first failed write while ``deferring``.
    fileprivate(set) nonisolated(unsafe) static var deferredFailure: Int32?

    /// Runs `body`, where stdout is a listing beside the real output (`-x` writes files and
    /// lists their names): a failed write to stdout does not stop `body`; once it has run, the
    /// tool ends as the write would have ended it (``stdoutFailed(_:exitNow:)``).
    static func deferringFailure<T>(_ body: () throws -> T) rethrows -> T {
        deferring = true
        defer { deferring = false }
        let result = try body()
        if let code = deferredFailure { stdoutFailed(code) }
        return result
    }
}

enum Stderr {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { writeAll(2, UnsafeRawBufferPointer($0)) }
    }

    static var isTerminal: Bool { isatty(2) != 0 }
}

/// Reports bad input on stderr and exits with status 2.
func failBadInput(_ command: String, _ error: any Error) -> ExitCode {
    Stdout.flush()
    // One line, whatever names the input carried (escapingControlCharacters).
    Stderr.write("vmstate \(command): error: \(escapingControlCharacters("\(error)"))\n")
    return badInputExit
}

/// Runs `body`, turning the analyzer's input errors into exit status 2 with a message.
func withBadInputHandling<T>(_ command: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as any AnalysisInputError {
        throw failBadInput(command, e)
    }
}

/// `e` with the hint at the end of a missing or cut vmdesc's message (pass --vmdesc) replaced
/// by `hint`, where --vmdesc is not the way out.
func replacingVMDescHint(_ e: StreamAnalysisError, with hint: String) -> StreamAnalysisError {
    var e = e
    if e.message.hasSuffix(StreamAnalysis.vmdescHint) {
        e.message = e.message.dropLast(StreamAnalysis.vmdescHint.count) + hint
    }
    return e
}

/// A file the tool cannot use, with the file named in the message.
struct InputFileError: AnalysisInputError {
    var description: String
}

/// Sections every QEMU machine saves from state its core registers with `vmstate_register`,
/// not from a device class, so that no `-dump-vmstate` file lists them: `timer` (the CPU
/// clocks) and `globalstate` (the run state). A save of nothing else (`-M none`) has no
/// device to compare.
let machineCoreSections: Set<String> = ["timer", "globalstate"]

/// A `-dump-vmstate` file and a vmdesc (or a stream's) compared by description name that share
/// no name: nothing would be compared, and "descriptions are equal" or "compatible" would pass
/// for a check that never happened (a dump of another machine or build, or an empty one). Bad
/// input; but for `emptySaveLoads` (compat, `a` the side that saves) a vmdesc `a` of no devices
/// (none, or only ``machineCoreSections``), a save of no device, which loads anywhere the rest
/// of the checks allow. `compared` is either side as
/// ``DescriptionSet/comparable(_:_:labels:sameField:)`` returned it.
func requireDescriptionsInCommon(
    _ a: DescriptionSet, _ b: DescriptionSet, compared: DescriptionSet, labels: (String, String),
    paths: (String, String), emptySaveLoads: Bool = false
) throws {
    guard a.format != b.format, compared.entries.isEmpty, !(a.entries.isEmpty && b.entries.isEmpty),
        !(emptySaveLoads && a.format == .vmdesc && a.entries.allSatisfy { machineCoreSections.contains($0.section) })
    else { return }
    let (dump, saved) = a.format == .dumpVMState ? (labels.0, labels.1) : (labels.1, labels.0)
    throw InputFileError(
        description:
            "\(labels.0) (\(paths.0)) and \(labels.1) (\(paths.1)) have no description name in common (\(dump) is a -dump-vmstate file, \(saved) a vmdesc or a stream's): nothing can be compared (a -dump-vmstate file of another machine type or build?)"
    )
}

/// The files opened so far, by the path given: a path named twice (a stream that is first
/// checked for the stream magic, then read; `diff - -`) is opened once, so standard input is
/// read once.
nonisolated(unsafe) private var openedInputs: [String: StreamBytes] = [:]

/// Opens an input file; `-` is standard input (`/dev/stdin`: a pipe is copied to a temporary
/// file first, see `StreamBytes`; with `acceptingJSON` false, where only a stream will do, one
/// that does not start with the stream magic is not copied further). Each path is opened once
/// per run of the tool.
func openInput(_ path: String, acceptingJSON: Bool = true) throws -> StreamBytes {
    // (Standard input under any of its names is read once: a pipe has nothing left to read.)
    let key = ["-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"].contains(path) ? "-" : path
    if let bytes = openedInputs[key] { return bytes }
    let bytes = try StreamBytes(contentsOfFile: key == "-" ? "/dev/stdin" : path, acceptingJSON: acceptingJSON)
    openedInputs[key] = bytes
    return bytes
}

/// Refuses JSON text larger than `StreamBytes.jsonTextLimit` (64 MiB), before it is parsed.
func checkJSONSize(_ bytes: StreamBytes, _ label: String) throws {
    let limit = StreamBytes.jsonTextLimit
    guard bytes.count <= limit else {
        throw InputFileError(
            description:
                "\(label): \(bytes.count) bytes of JSON, more than the \(limit >> 20) MiB the tool reads (QEMU's "
                + "vmdescs and -dump-vmstate files take a few MiB at most)")
    }
}

/// Parses a JSON file; errors name the file and the offset.
func readJSONFile(_ path: String) throws -> JSONValue {
    let bytes = try openInput(path)
    try checkJSONSize(bytes, path)
    return try bytes.withUnsafeBytes { data in
        do {
            return try JSONValue(parsing: data)
        } catch {
            // Not even the start of a JSON object or list: say what the file was taken for.
            let first = data.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
            if first != UInt8(ascii: "{") && first != UInt8(ascii: "[") {
                throw InputFileError(
                    description:
                        "\(path): neither a migration stream (it does not start with \"QEVM\") nor a JSON description "
                        + "(a vmdesc or -dump-vmstate file): \(error)")
            }
            throw InputFileError(description: "\(path): \(error)")
        }
    }
}

/// A device description given with --vmdesc: a JSON file, or a stream that carries one.
func loadVMDescOption(_ path: String) throws -> JSONValue {
    let bytes: StreamBytes
    do {
        bytes = try openInput(path)
    } catch let e as StreamFileError {
        throw InputFileError(description: "--vmdesc: \(e)")
    }
    if startsWithStreamMagic(bytes) {
        let json: JSONValue
        do {
            json = try StreamAnalysis.readVMDesc(bytes).0
        } catch {
            throw InputFileError(
                description:
                    "--vmdesc \(path): \(replacingVMDescHint(error, with: "(the description must come from a complete stream, or a vmdesc JSON file)"))"
            )
        }
        try checkVMDescShape(json, path)
        return json
    }
    try checkJSONSize(bytes, "--vmdesc \(path)")
    let json = try bytes.withUnsafeBytes { buf in
        do {
            return try JSONValue(parsing: buf)
        } catch let e as JSONParseError {
            throw InputFileError(description: "--vmdesc \(path): \(e)")
        }
    }
    // A vmdesc has "page_size" and "devices"; a -dump-vmstate file has device classes and
    // "vmschkmachine", and no sizes of what one save wrote.
    if let top = json.objectValue, top["page_size"] == nil, top["vmschkmachine"] != nil || top["devices"] == nil {
        throw InputFileError(
            description:
                "--vmdesc \(path): not a vmdesc (no \"page_size\" and \"devices\")\(top["vmschkmachine"] != nil ? ", but a -dump-vmstate file, which lists device classes rather than what one save wrote" : ""): give the vmdesc JSON of a stream of the same build, or that stream"
        )
    }
    try checkVMDescShape(json, path)
    return json
}

/// The `--vmdesc` file's vmdesc in the shape a stream's reading checks, its errors naming the
/// file rather than the stream read with it.
private func checkVMDescShape(_ json: JSONValue, _ path: String) throws {
    do {
        try StreamAnalysis.checkVMDesc(json)
    } catch {
        throw InputFileError(description: "--vmdesc \(path): \(error.message)")
    }
}

/// A progress bar on stderr, shown only when stderr is a terminal, the input is large, and
/// the work takes long enough to be worth watching: ``delay`` seconds, a quarter of a second
/// unless the environment's `VMSTATE_PROGRESS_DELAY` gives another (a decimal number of
/// seconds, 0 or more; the tests' terminal runs give 0, so that the bar shows however fast the
/// machine).
final class ProgressBar {
    let total: Int
    let label: String
    let enabled: Bool
    private let start = ProgressBar.now()
    private var lastPercent = -1
    private var drawn = false
    /// The bar drawn now (at most one at a time), finished when stdout's reader goes away.
    nonisolated(unsafe) static var active: ProgressBar?

    static let threshold = 64 << 20

    /// Seconds of work before the bar is first drawn.
    static let delay: Double = {
        guard let text = getenv("VMSTATE_PROGRESS_DELAY").map({ String(cString: $0) }), let seconds = Double(text),
            seconds >= 0, seconds.isFinite
        else { return 0.25 }
        return seconds
    }()

    init(total: Int, label: String) {
        self.total = max(total, 1)
        self.label = label
        enabled = total >= ProgressBar.threshold && Stderr.isTerminal
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func update(_ done: Int) {
        // (Not over a line a terminal stdout is printing: Stdout.atLineStart.)
        guard enabled, !Stdout.isTerminal || Stdout.atLineStart else { return }
        let percent = min(100, done * 100 / total)
        guard percent != lastPercent else { return }
        if !drawn && ProgressBar.now() - start < ProgressBar.delay { return }
        lastPercent = percent
        let mib = done >> 20, totalMiB = total >> 20
        let counts = "\(percent)% \(mib)/\(totalMiB) MiB"
        // One line narrower than the terminal (a wrapped line is redrawn below itself): the bar
        // shrinks to fit, down to none, then the label goes.
        let room = ProgressBar.columns() - 1
        let width = min(30, room - label.count - counts.count - 4)
        var line = "\(label) \(counts)"
        if width >= 5 {
            let filled = percent * width / 100
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            line = "\(label) [\(bar)] \(counts)"
        } else if line.count > room {
            line = String(counts.prefix(max(room, 0)))
        }
        drawn = true
        ProgressBar.active = self
        Stderr.write("\r\(line)\u{1B}[K")
    }

    /// The terminal's width in columns (stderr's), 80 when it cannot be told.
    private static func columns() -> Int {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    func finish() {
        guard drawn else { return }
        drawn = false
        if ProgressBar.active === self { ProgressBar.active = nil }
        Stderr.write("\r\u{1B}[K")
    }
}

/// Whether the file starts with a migration stream's magic ("QEVM").
func isStreamFile(_ path: String) throws -> Bool {
    startsWithStreamMagic(try openInput(path))
}

/// Whether `bytes` start with a migration stream's magic; reads only those 4 bytes (a stream
/// larger than the address space allows must not be mapped whole). A file shorter than the
/// magic that holds its first bytes, or nothing, counts as a stream (cut short), so that the
/// stream reader says what is missing (the 8-byte header) rather than the JSON parser.
func startsWithStreamMagic(_ bytes: StreamBytes) -> Bool {
    let head = bytes.copyBytes(at: 0, count: 4)
    let magic = StreamBytes.streamMagic
    return head.count == 4 ? head == magic : head == Array(magic.prefix(head.count))
}

/// Device descriptions from a `-dump-vmstate` file, a vmdesc JSON file, or a stream (the vmdesc
/// it ends with). `label` ("OLD", "A", ...) names the input in errors, with the file.
/// `nullEntries`: the NULL entries of arrays of pointers a QEMU 7.2 stream at `path` showed
/// (`DescriptionSet.markingQEMU72NullEntries`). `parsed`: the stream's vmdesc as a
/// ``StreamAnalysis`` of it read it already (its `vmdesc`), shared rather than parsed again
/// (two streams' vmdescs parsed twice each made compat hold four; complexity F4).
func loadDescriptionSet(
    _ path: String, label: String, elementSizes: Bool, nullEntries: [StreamAnalysis.QEMU72NullEntries] = [],
    parsed: JSONValue? = nil
) throws -> DescriptionSet {
    let json: JSONValue
    if try isStreamFile(path) {
        do {
            json =
                DescriptionSet.markingQEMU72NullEntries(
                    try parsed ?? StreamAnalysis.readVMDesc(openInput(path)).0, nullEntries
                ).vmdesc
        } catch let e as StreamAnalysisError {
            // Here a stream stands for its vmdesc: without one, another file must stand in.
            let e = replacingVMDescHint(
                e,
                with: "(give its description in its place: a vmdesc JSON file, or a complete stream of the same build)")
            throw InputFileError(description: "\(label) (\(path)): \(e)")
        }
    } else {
        json = try readJSONFile(path)
    }
    return try DescriptionSet(json, label: "\(label) (\(path))", elementSizes: elementSizes)
}
