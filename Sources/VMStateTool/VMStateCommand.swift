import ArgumentParser
import VMState
import VMStateAnalysis

@main
struct VMStateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vmstate",
        abstract: "Inspect QEMU migration streams and compare device state descriptions.",
        discussion: """
            Exit status: 0 success (equal, compatible), 1 a difference or incompatibility \
            was found (diff, compat), 2 bad input (unreadable, truncated or corrupt stream \
            or JSON) or output that could not be written (a pipe whose reader went away \
            ends the tool on SIGPIPE, unless SIGPIPE was ignored), 64 a usage error (a missing or \
            extra argument, an unknown option or subcommand, a bad option value; the message \
            and the usage go to stderr).
            """,
        version: version,
        subcommands: [Analyze.self, Diff.self, Compat.self, Schema.self, Lint.self]
    )

    /// swift-vmstate's version, which `vmstate --version` prints (scripts/install reads it
    /// from here for the pkg-config file).
    static let version = "0.1.0"

    /// The subcommands' names.
    static let subcommandNames = ["analyze", "diff", "compat", "schema", "lint"]

    static func main() {
        ignoreSIGPIPE()
        let arguments = Array(CommandLine.arguments.dropFirst())
        // `vmstate help NAME` of no subcommand is a usage error, as `vmstate NAME` is
        // (swift-argument-parser would print the main help and succeed).
        if arguments.count > 1, arguments[0] == "help", !arguments[1].hasPrefix("-"),
            !subcommandNames.contains(arguments[1])
        {
            exit(
                withError: ValidationError(
                    "unknown subcommand '\(arguments[1])' (analyze, diff, compat, schema or lint)"))
        }
        // Extra arguments after `--version` or `help NAME` are a usage error, as elsewhere
        // (swift-argument-parser would ignore them).
        if arguments.count > 1, arguments[0] == "--version" {
            exit(withError: ValidationError("--version takes no arguments, got '\(arguments[1])'"))
        }
        if arguments.count > 2, arguments[0] == "help" {
            exit(withError: ValidationError("help takes one subcommand name, got '\(arguments[2])' too"))
        }
        rejectUnknownOptionsBesideHelp(arguments)
        let subcommand = arguments.first.flatMap { subcommandNames.contains($0) ? " " + $0 : nil }
        commandLabel = "vmstate" + (subcommand ?? "")
        // Swift's arguments replace bytes that are not UTF-8 (a Latin-1 file name) with U+FFFD:
        // such a name would open another file, or extract into another directory. Refused.
        for i in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[i], String(validatingCString: raw) == nil else { continue }
            exit(
                withError: ValidationError(
                    "argument \(i) is not valid UTF-8 (a file name in another encoding?); vmstate takes names as UTF-8: rename the file, or give a stream on standard input (-)"
                ))
        }
        ShrunkFileReport.install(command: commandLabel)
        checkBufferedStdoutAtExit()
        if Analyze.runPlain(arguments) { return }
        main(nil)
    }

    /// `--help` or `-h` beside an unknown option (`vmstate analyze --frob --help`) is a usage
    /// error (exit 64), as the unknown option is without them: swift-argument-parser prints the
    /// help and succeeds whatever else the line holds. Each option before a `--` must be one of
    /// the command's own (as swift-argument-parser describes them, `--experimental-dump-help`),
    /// or single-letter flags run together (`-mx`).
    static func rejectUnknownOptionsBesideHelp(_ arguments: [String]) {
        let terminator = arguments.firstIndex(of: "--") ?? arguments.endIndex
        let options = arguments[..<terminator]
        guard options.contains(where: { $0 == "--help" || $0 == "-h" }) else { return }
        let subcommand = options.first.flatMap { name in
            configuration.subcommands.first { $0._commandName == name }
        }
        guard let known = optionNames(of: subcommand?._commandName) else { return }
        for token in options where token.hasPrefix("-") && token != "-" {
            let name = String(token.prefix { $0 != "=" })
            if known.contains(name) { continue }
            if !name.hasPrefix("--"), name.count > 2, name.dropFirst().allSatisfy({ known.contains("-\($0)") }) {
                continue
            }
            // As swift-argument-parser words its own unknown-option error.
            let usage = subcommand.map { usageString(for: $0) } ?? usageString()
            let label = "vmstate" + (subcommand.map { " " + $0._commandName } ?? "")
            Stderr.write(
                "Error: Unknown option '\(escapingControlCharacters(name))'\nUsage: \(usage)\n"
                    + "  See '\(label) --help' for more information.\n")
            exit(withError: ExitCode.validationFailure)
        }
    }

    /// The option names (`--max-bytes`, `-m`) of the root command (nil) or of one subcommand,
    /// with swift-argument-parser's own (`--help`, `--version`, `--experimental-dump-help`,
    /// `--generate-completion-script`); nil if its description cannot be read.
    static func optionNames(of subcommand: String?) -> Set<String>? {
        guard case .object(let root)? = try? JSONValue(parsing: _dumpHelp()),
            case .object(var command)? = root["command"]
        else { return nil }
        if let subcommand {
            guard case .array(let subcommands)? = command["subcommands"],
                let match = subcommands.first(where: {
                    if case .object(let o) = $0, o["commandName"] == .string(subcommand) { return true }
                    return false
                }),
                case .object(let o) = match
            else { return nil }
            command = o
        }
        var names: Set = ["--help", "-h", "--version", "--experimental-dump-help"]
        if subcommand == nil { names.insert("--generate-completion-script") }
        guard case .array(let arguments)? = command["arguments"] else { return names }
        for case .object(let argument) in arguments {
            guard case .array(let argumentNames)? = argument["names"] else { continue }
            for case .object(let n) in argumentNames {
                guard case .string(let kind)? = n["kind"], case .string(let name)? = n["name"] else { continue }
                names.insert((kind == "long" ? "--" : "-") + name)
            }
        }
        return names
    }

    /// No subcommand: a usage error (exit 64, the usage on stderr), as the help text says;
    /// `vmstate --help` prints the help.
    func run() throws {
        throw ValidationError("missing a subcommand (analyze, diff, compat, schema or lint)")
    }
}
