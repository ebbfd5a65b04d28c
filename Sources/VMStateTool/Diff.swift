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
            devices come in another order); fields by name and array index. The machine type \
            and capabilities of the configuration section are compared first (section \
            "configuration"). Each difference names \
            the section, the field path and both values (as `vmstate analyze` prints them). \
            Long buffers are compared byte by byte and reported as runs of differing bytes. \
            RAM is compared page by page and summarized per block as ranges of page \
            addresses; a page that a stream does not send counts as zero-filled. Pages are read \
            from the files one at a time: a stream is never mapped whole.

            A or B is a JSON file (a vmdesc, or a `-dump-vmstate` file): the device \
            descriptions are compared, a stream standing for the vmdesc it ends with. Per \
            section: the description's name, version_id and minimum_version_id, each field's \
            type, size, array length (a vmdesc's, or the "num" of -dump-vmstate when both \
            files have one), version and nested description, the fields' order, and \
            the subsections. A vmdesc against a -dump-vmstate file is compared by description \
            name, for the descriptions both have, as a save at the vmdesc's versions writes \
            them (notes say what was left out).

            Exit status: 0 equal, 1 different, 2 bad input, 64 usage error.
            """
    )

    @Argument(help: "Stream A, or a vmdesc or -dump-vmstate JSON file.")
    var a: String

    @Argument(help: "Stream B, or a vmdesc or -dump-vmstate JSON file.")
    var b: String

    @Flag(help: "Print the differences as JSON.")
    var json = false

    @Flag(name: .customLong("no-ram"), help: "Do not compare RAM contents.")
    var noRAM = false

    @Option(help: ArgumentHelp("Show at most this many page ranges per RAM block.", valueName: "n"))
    var maxRanges = 16

    @Option(
        help: ArgumentHelp(
            "Read both streams with this device description (a vmdesc JSON file or a stream carrying one).",
            valueName: "file"))
    var vmdesc: String?

    func run() throws {
        let result = try withBadInputHandling("diff") { () throws -> StreamDiff in
            if try !isStreamFile(a) || !isStreamFile(b) {
                let da = try loadDescriptionSet(a, label: "A", elementSizes: true)
                let db = try loadDescriptionSet(b, label: "B", elementSizes: true)
                let (ca, cb, notes) = DescriptionSet.comparable(da, db)
                return StreamDiff(descriptions: ca, cb, notes: notes)
            }
            let desc = try vmdesc.map(loadVMDescOption)
            let bytesA = try StreamBytes(contentsOfFile: a)
            let bytesB = try StreamBytes(contentsOfFile: b)
            let bar = ProgressBar(total: bytesA.count + bytesB.count, label: "reading")
            func read(_ bytes: StreamBytes, base: Int) throws -> StreamAnalysis {
                var options = StreamAnalysis.Options(recordPages: !noRAM, vmdesc: desc)
                if bar.enabled { options.progress = { bar.update(base + $0) } }
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
            return StreamDiff(sa, sb, options: StreamDiff.Options(compareRAM: !noRAM))
        }
        if json {
            Stdout.write(result.json.formatted(.python) + "\n")
        } else {
            Stdout.write(escapingControlCharacters(result.text(maxRanges: maxRanges), keepingNewlines: true))
        }
        if !result.isEqual { throw ExitCode(1) }
    }
}
