import ArgumentParser
import VMState
import VMStateAnalysis

#if canImport(Glibc)
    import Glibc
#endif

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the device state in a QEMU migration stream.",
        discussion: """
            Reads a QEMU migration stream (QEMU 7.2 to 10.1) that ends with its device \
            description (vmdesc) and prints what QEMU 10.0's scripts/analyze-migration.py \
            prints for it (on QEMU 7.2 streams, the same as 7.2's script): one JSON member \
            per section, keyed "idstr (section_id)"; fields by vmdesc name, integers as \
            zero-padded hex, buffers as hex bytes; "section sizes" for the RAM blocks.

            --memory adds a "memory" object to the RAM section: one member per page keyed \
            "BLOCK (0x<offset, 16 hex digits>)", valued "Filled with 0xNN" for a fill (zero) \
            page or the page's bytes as space-separated hex. A page sent twice keeps its \
            first position and last contents; an XBZRLE page (capability xbzrle; the script \
            cannot read those) prints as it decodes over the page's earlier records, and -x \
            writes it so; a compressed page (capability compress, QEMU 7.2 to 9.0: a page \
            deflated by zlib, which the script cannot read either) prints and is written as \
            the page it inflates to. (QEMU's script means to print this with -m but fails under \
            Python 3.)

            Mapped-ram files (capability mapped-ram), which the script cannot read, print the \
            same JSON; with --memory, one entry per page present in the file (zero pages are \
            not stored, so there are no "Filled with" entries).

            --extract (-x) writes what analyze-migration.py -x writes, into the current \
            directory or --directory: desc.json (as --desc prints it), one file per RAM block \
            holding the guest memory the stream carries (named after the block, a leading "/" \
            dropped: pc.ram, rom@etc/acpi/tables; each as long as the block, later page \
            records over earlier ones: a page sent as data, then as a zero page (a live \
            migration), is zero here, where the script keeps the data) and state.json (as plain analyze prints it, without the \
            final newline, as the script writes it), and prints \
            each name when its file is made (desc.json and state.json once whole, a block's \
            file once created at its length, before its pages are written) (when the names \
            cannot be printed, the files are still \
            written, then exit status 2, or SIGPIPE for a pipe whose reader went away). It \
            cannot be combined with --desc, --memory or --tree. A stream that cannot be read \
            whole (cut short, corrupt), a block name that would leave the directory or \
            collide, and a page of a block the stream did not announce or past its block's \
            length are refused before anything is written; \
            a file that cannot be written stops it with exit status 2, leaving the directory \
            with what was written until then (a block file may be there at its length \
            without its pages; block files are written in place, through \
            symbolic links already there, while desc.json and state.json replace what is \
            there only once whole, renamed from a hidden .NAME.PID.N.partial file, which a \
            killed run leaves behind: extract into a new directory; only exit status 0 says \
            the extraction is whole). The directory is resolved once, as the kernel resolves \
            it (symbolic links, then ".."), and every file goes under it; a current directory \
            that was removed is refused before anything is written.

            Exit status 2 when the stream cannot be read (or, with --extract, a file cannot be \
            written); the message gives the byte offset, the section and field being read, and \
            what was expected (or, when a temporary file in $TMPDIR cannot be written, which). \
            Exit status 2 too when the output cannot be written (a full disk). Exit status 64 on \
            a usage error.
            """
    )

    @Argument(
        help:
            "The migration stream file (- for standard input: a pipe is copied first to an unlinked file in $TMPDIR, as large as the stream; one that does not start with the stream magic is not copied further).",
        completion: .file()
    )
    var file: String

    @Flag(name: .customLong("desc"), help: "Print the stream's device description (as analyze-migration.py -d desc).")
    var desc = false

    @Flag(name: [.short, .customLong("memory")], help: "Also print every RAM page (large).")
    var memory = false

    @Flag(help: "Print an indented, human-readable view instead of JSON.")
    var tree = false

    // (`.unconditional`: `--max-bytes -1` is a negative number, refused as such, not a missing value.)
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "In --tree output, show at most this many bytes of each buffer (default 64; 0: all).", valueName: "n"))
    var maxBytes: Int?

    @Option(
        help: ArgumentHelp(
            "Read the stream with this device description: a vmdesc JSON file, or another stream carrying one (for streams cut short).",
            valueName: "file"), completion: .file())
    var vmdesc: String?

    @Flag(
        name: [.customShort("x"), .customLong("extract")],
        help: "Write desc.json, state.json and each RAM block's memory to files (as analyze-migration.py -x).")
    var extract = false

    @Option(
        help: ArgumentHelp(
            "With --extract, write the files into this directory (created when missing) instead of the current one.",
            valueName: "dir"), completion: .directory)
    var directory: String?

    func validate() throws {
        if desc && (memory || tree) {
            throw ValidationError("--desc cannot be combined with --memory or --tree")
        }
        if memory && tree {
            // (--tree shows each RAM block's page count, not the pages.)
            throw ValidationError("--memory cannot be combined with --tree (the pages are printed as JSON only)")
        }
        if extract && (desc || memory || tree) {
            throw ValidationError("--extract cannot be combined with --desc, --memory or --tree")
        }
        if let maxBytes {
            if !tree { throw ValidationError("--max-bytes is for --tree") }
            if maxBytes < 0 { throw ValidationError("--max-bytes must be 0 (all) or more") }
        }
        if directory != nil && !extract {
            throw ValidationError("--directory is for --extract")
        }
        if directory?.isEmpty == true {
            throw ValidationError("--directory needs a directory name")
        }
    }

    func run() throws {
        if extract {
            try Analyze.extract(file: file, into: directory ?? ".", vmdesc: vmdesc)
            return
        }
        try Analyze.analyze(
            file: file, desc: desc, memory: memory, tree: tree, maxBytes: maxBytes ?? 64, vmdesc: vmdesc)
    }

    /// `--extract`: the stream is analyzed first (a stream that cannot be read writes
    /// nothing), then desc.json, the RAM block files and state.json are written in that order,
    /// each name printed when its file is made (a JSON file once whole, a block's file once
    /// created, before its pages).
    static func extract(file: String, into directory: String, vmdesc: String?) throws {
        // A file size limit (ulimit -f) is then a write error (EFBIG), exit status 2, instead of
        // the SIGXFSZ that would kill the tool.
        signal(SIGXFSZ, SIG_IGN)
        try withBadInputHandling("analyze") {
            let bytes = try openInput(file, acceptingJSON: false)
            // (state.json is written a section at a time, each device section read again.)
            var options = StreamAnalysis.Options(recordPages: false, keepDeviceFields: false)
            if let vmdesc { options.vmdesc = try loadVMDescOption(vmdesc) }
            let analysis: StreamAnalysis
            do {
                analysis = try StreamAnalysis(bytes: bytes, options: options)
            } catch let e as StreamAnalysisError {
                // --vmdesc helps a whole stream written without a vmdesc, not a cut one.
                throw replacingVMDescHint(
                    e,
                    with:
                        "(a stream written without one: pass a description with --vmdesc; a stream cut short cannot be extracted)"
                )
            }
            let bar = ProgressBar(total: bytes.count, label: "extracting")
            defer { bar.finish() }
            // The files are the output, the names on stdout a listing of them: a stdout that
            // takes no more (closed, a full disk) does not stop the extraction, only its status.
            try Stdout.deferringFailure {
                try analysis.extract(into: directory, progress: bar.enabled ? { bar.update($0) } : nil) {
                    Stdout.write(escapingControlCharacters($0) + "\n")
                }
            }
        }
    }

    /// `vmstate analyze FILE` with no options, the common case, run without the argument
    /// parser: building the parser's command tree costs about 3 ms of dynamic casts and
    /// metadata lookups at start-up, as much as analyzing a 200 MiB stream. Returns false
    /// (nothing done) for any other arguments.
    static func runPlain(_ arguments: [String]) -> Bool {
        guard arguments.count == 2, arguments[0] == "analyze", let file = arguments.last,
            !file.hasPrefix("-"), file != "help"
        else { return false }
        do {
            try analyze(file: file, desc: false, memory: false, tree: false, maxBytes: 64, vmdesc: nil)
        } catch {
            VMStateCommand.exit(withError: error)
        }
        return true
    }

    static func analyze(file: String, desc: Bool, memory: Bool, tree: Bool, maxBytes: Int, vmdesc: String?) throws {
        try withBadInputHandling("analyze") {
            let bytes = try openInput(file, acceptingJSON: false)
            if desc {
                let json: JSONValue
                if let vmdesc {
                    try StreamAnalysis.checkHeader(bytes)
                    json = try loadVMDescOption(vmdesc).deduplicatingKeys()
                } else {
                    json = try StreamAnalysis.readVMDesc(bytes).0.deduplicatingKeys()
                }
                // (Written as it is made: the text of a vmdesc of thousands of CPUs, which
                // share their descriptions in memory, is hundreds of MB.)
                var writer = JSONTextWriter(format: .python) { Stdout.write($0) }
                writer.value(json)
                writer.flush()
                Stdout.write("\n")
                Stdout.flush()
                return
            }
            let bar = ProgressBar(total: bytes.count, label: "analyzing")
            // (The JSON or the tree is printed a section at a time, each device section read
            // again then: what is held does not grow with the number of sections.)
            var options = StreamAnalysis.Options(recordPages: false, keepDeviceFields: false)
            if bar.enabled { options.progress = { bar.update($0) } }
            if let vmdesc { options.vmdesc = try loadVMDescOption(vmdesc) }
            let analysis: StreamAnalysis
            // --tree shows the sections read before a failure (a stream cut short), then fails.
            var failure: StreamAnalysisError?
            do {
                if tree {
                    analysis = try StreamAnalysis(readingAsFarAsPossible: bytes, options: options, failure: &failure)
                } else {
                    analysis = try StreamAnalysis(bytes: bytes, options: options)
                }
            } catch {
                bar.finish()
                throw error
            }
            bar.finish()
            if tree {
                let view = TreeView(maxBytes: maxBytes)
                // (Names and strings from the stream and its vmdesc can hold control characters.)
                try view.render(analysis, stoppedBy: failure) {
                    Stdout.write(escapingControlCharacters($0, keepingNewlines: true))
                }
                Stdout.flush()
                if let failure { throw failure }
                return
            }
            // With --memory, the stream is read a second time, each page printed as it is read.
            let writeBar = ProgressBar(total: memory ? bytes.count : 0, label: "writing")
            var writer = JSONTextWriter(format: .python) { Stdout.write($0) }
            do {
                try analysis.writeState(
                    to: &writer, memory: memory, progress: writeBar.enabled ? { writeBar.update($0) } : nil)
            } catch {
                writer.flush()
                writeBar.finish()
                throw error
            }
            writer.flush()
            writeBar.finish()
            Stdout.write("\n")
            Stdout.flush()
        }
    }
}
