import ArgumentParser
import VMState
import VMStateAnalysis

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show field-level differences between two migration streams, or two sets of device descriptions.",
        discussion: """
            A and B are both migration streams: their state is compared. Sections are matched \
            by idstr and instance id, not by section id, so streams of different QEMU versions \
            compare (RAM is section 2 in QEMU 7.2's pc streams and 1 in QEMU 10.0's, and the \
            devices come in another order); fields by name and array index. The machine type, \
            capabilities, VM UUID and section footers of the configuration section are \
            compared first (section "configuration"). Each difference names \
            the section, the field path and both values (as `vmstate analyze` prints them). \
            Long buffers are compared byte by byte and reported as runs of differing bytes \
            (runs fewer than 4 equal bytes apart are reported as one; buffers of two lengths: "FIELD (length)", then the runs in the bytes both have); \
            each buffer's first 8 runs are listed, then one "FIELD (N more runs)" counts the \
            bytes that differ in the rest, in the text and in --json alike. \
            RAM is compared page by page and summarized per block as ranges of page \
            addresses; a page that a stream does not send counts as zero-filled, except in a \
            block an x-ignore-shared stream sent no page of (RAM on a shared file): that block \
            is not compared, and a note says so. A page of a block the stream did not announce, \
            or past its block's length, is bad input (exit status 2), as QEMU refuses it; \
            --no-ram reads no page but still compares the RAM blocks and their lengths. Each stream's \
            pages are first sorted into an index in a temporary file (in $TMPDIR, default /tmp: \
            24 bytes per page record), then compared, their bytes read from the files one page \
            at a time: memory stays bounded whatever the streams' sizes, and a stream is never \
            mapped whole. The differences of sections and fields are written to another \
            temporary file as they are found (past their first 64 KiB) and printed from it: \
            their number does not grow memory either. An XBZRLE page (capability xbzrle) compares as it decodes over the \
            page's earlier records (its pages decoded into a temporary file first). Sections sent several times with one idstr and instance id (isapc's \
            isa-ide, QEMU 7.2's slirp of each -netdev user) pair up in stream order; the \
            second is labeled "NAME (instance N, 2nd section)" ("occurrence": 1 in --json). \
            A file named - is standard input (read once; a pipe is copied to a \
            temporary file first). With a terminal on stderr and large streams, a progress bar \
            shows there.

            Each difference is a line "SECTION: FIELD" followed by its "A:" and "B:" values \
            (with --json an entry of "sections": "section", "instance", "field", "kind" \
            (changed, only-in-a, only-in-b, version), "a", "b"; each RAM block that differs \
            an entry of "ram": "block", "length_a", "length_b" (hex strings, null where a \
            stream lacks the block), "pages" (how many differ) and "ranges" (a list of \
            ["0xFIRST", "0xLAST"] byte addresses); the notes, when any, a list "notes"). A \
            value whose vmdesc type differs is \
            a difference even when its bytes are equal (QEMU 7.2 and 10.0 describe AHCI's \
            ports as signed and unsigned): when both values print alike, the kind each is read \
            as (signed integer, unsigned integer, bytes, ...) is named after it. What one \
            side lacks is one entry, its value on the other side summarized: a section \
            ("section id N, version V, M members", field ""), a struct or subsection \
            ('struct "DESCRIPTION" (N members)'), an array ("array of N"). A section or \
            subsection both have at other versions (in its header in the stream: QEMU refuses \
            one newer than its own) is a difference of kind version, "version N" on each side, \
            for a section with field "", for a subsection its path ("cpu/slb"). A run of differing \
            bytes is "FIELD byte 0xN" or "FIELD bytes 0xS-0xE"; its bytes, and a buffer one \
            side lacks, are shown up to 32 bytes, then "... (N bytes)"; "FIELD (N more runs)" \
            has the same count text as both values. Equal inputs print "streams are equal" (or "descriptions are equal"), and \
            with --json empty lists.

            A or B is a JSON file (a vmdesc, or a `-dump-vmstate` file): the device \
            descriptions are compared, a stream standing for the vmdesc it ends with (two \
            -dump-vmstate files: first the machine types they were dumped for, \
            "vmschkmachine: Name"). Per \
            section: the description's name, version_id and minimum_version_id, each field's \
            type, size, array length (a vmdesc's, or the "num" of -dump-vmstate when both \
            files have one), version and nested description, the fields' order, and \
            the subsections. A vmdesc against a -dump-vmstate file is compared by description \
            name, for the descriptions both have, as a save at the vmdesc's versions writes \
            them (notes say what was left out; none in common is bad input).

            Exit status: 0 equal, 1 different, 2 bad input (or output that could not be \
            written), 64 usage error.
            """
    )

    @Argument(help: "Stream A, or a vmdesc or -dump-vmstate JSON file (- for standard input).", completion: .file())
    var a: String

    @Argument(help: "Stream B, or a vmdesc or -dump-vmstate JSON file (- for standard input).", completion: .file())
    var b: String

    @Flag(help: "Print the differences as JSON.")
    var json = false

    @Flag(
        name: .customLong("no-ram"),
        help: "Do not compare RAM contents (the RAM blocks and their lengths are still compared).")
    var noRAM = false

    // (`.unconditional`: `--max-ranges -1` is a negative number, refused as such, not a missing value.)
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Show at most this many page ranges per RAM block (0: only how many; --json lists all).", valueName: "n"))
    var maxRanges = 16

    func validate() throws {
        if maxRanges < 0 { throw ValidationError("--max-ranges must be 0 (only how many) or more") }
    }

    @Option(
        help: ArgumentHelp(
            "Read both streams with this device description (a vmdesc JSON file or a stream carrying one).",
            valueName: "file"), completion: .file())
    var vmdesc: String?

    func run() throws {
        let result = try withBadInputHandling("diff") { () throws -> StreamDiff in
            if try !isStreamFile(a) || !isStreamFile(b) {
                // A stream compared with descriptions stands for its own vmdesc: there is no
                // stream to read with another.
                if vmdesc != nil {
                    throw InputFileError(
                        description:
                            "--vmdesc reads two streams with another description, but \(try isStreamFile(a) ? b : a) is a JSON description: leave --vmdesc out to compare the descriptions (a stream stands for the vmdesc it ends with)"
                    )
                }
                let da = try loadDescriptionSet(a, label: "A", elementSizes: true)
                let db = try loadDescriptionSet(b, label: "B", elementSizes: true)
                let (ca, cb, notes) = DescriptionSet.comparable(da, db)
                try requireDescriptionsInCommon(da, db, compared: ca, labels: ("A", "B"), paths: (a, b))
                return StreamDiff(descriptions: ca, cb, notes: notes, differencesOnDisk: true)
            }
            let desc = try vmdesc.map(loadVMDescOption)
            let bytesA = try openInput(a)
            let bytesB = try openInput(b)
            // Reading both streams, then (RAM compared) the pages scanned and compared: twice
            // their size again (`StreamDiff`'s progress). The bar counts the streams' size once.
            let streams = bytesA.count + bytesB.count
            let passes = noRAM ? 1 : 3
            let bar = ProgressBar(total: streams, label: "comparing")
            func read(_ bytes: StreamBytes, base: Int) throws -> StreamAnalysis {
                // (Device sections are read again, a pair at a time, as they are compared.)
                var options = StreamAnalysis.Options(recordPages: false, vmdesc: desc, keepDeviceFields: false)
                if bar.enabled { options.progress = { bar.update((base + $0) / passes) } }
                return try StreamAnalysis(bytes: bytes, options: options)
            }
            defer { bar.finish() }
            let sa: StreamAnalysis
            do {
                sa = try read(bytesA, base: 0)
            } catch let e as StreamAnalysisError {
                throw InputFileError(description: "\(a): \(e)")
            }
            let sb: StreamAnalysis
            do {
                sb = try read(bytesB, base: bytesA.count)
            } catch let e as StreamAnalysisError {
                throw InputFileError(description: "\(b): \(e)")
            }
            // Text shows at most --max-ranges ranges per block: only those are kept, up to 64
            // (more are read back from a temporary file as they are printed). --json lists them
            // all, from the file.
            let inMemory = !json && maxRanges <= 64
            var options = StreamDiff.Options(compareRAM: !noRAM, keptRanges: inMemory ? maxRanges : 0)
            options.rangesOnDisk = !inMemory
            // The differences go to a temporary file as they are found, and are printed from it.
            options.differencesOnDisk = true
            do {
                return try StreamDiff(
                    sa, sb, options: options, progress: bar.enabled ? { bar.update((streams + $0) / passes) } : nil)
            } catch let e as StreamDiffInputError {
                throw InputFileError(description: "\(e.stream == "A" ? a : b): \(e.error)")
            }
        }
        if json {
            var writer = JSONTextWriter(format: .python) { Stdout.write($0) }
            try withBadInputHandling("diff") { try result.writeJSON(to: &writer) }
            writer.flush()
            Stdout.write("\n")
        } else {
            try withBadInputHandling("diff") {
                try result.writeText(maxRanges: maxRanges) {
                    Stdout.write(escapingControlCharacters($0, keepingNewlines: true))
                }
            }
        }
        if !result.isEqual { throw ExitCode(1) }
    }
}
