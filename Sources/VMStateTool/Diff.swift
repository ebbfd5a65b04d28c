import ArgumentParser
import VMState
import VMStateAnalysis

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show field-level differences between two migration streams.",
        discussion: """
            Sections are matched by idstr and instance id; fields by name and array index. \
            Each difference names the section, the field path and both values (as \
            `vmstate analyze` prints them). Long buffers are compared byte by byte and \
            reported as runs of differing bytes. RAM is compared page by page and summarized \
            per block as ranges of page addresses; a page that a stream does not send counts \
            as zero-filled.

            Exit status: 0 equal, 1 different, 2 bad input.
            """
    )

    @Argument(help: "Stream A.")
    var a: String

    @Argument(help: "Stream B.")
    var b: String

    @Flag(help: "Print the differences as JSON.")
    var json = false

    @Flag(name: .customLong("no-ram"), help: "Do not compare RAM contents.")
    var noRAM = false

    @Option(help: ArgumentHelp("Show at most this many page ranges per RAM block.", valueName: "n"))
    var maxRanges = 16

    @Option(help: ArgumentHelp("Read both streams with this device description (a vmdesc JSON file or a stream carrying one).", valueName: "file"))
    var vmdesc: String?

    func run() throws {
        let result = try withBadInputHandling("diff") { () throws -> StreamDiff in
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
            Stdout.write(result.text(maxRanges: maxRanges))
        }
        if !result.isEqual { throw ExitCode(1) }
    }
}
