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
            was found (diff, compat) or a description has errors (lint), 2 bad input (unreadable, truncated or corrupt stream \
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
        rejectUsageErrorsBesideHelp(arguments)
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

    /// `--help` or `-h` beside an unknown option or an extra argument (`vmstate analyze --frob
    /// --help`, `vmstate analyze A B -h`) is a usage error (exit 64), as either is without them:
    /// swift-argument-parser prints the help and succeeds whatever else the line holds. The line
    /// is checked against the command's shape as swift-argument-parser describes it
    /// (`--experimental-dump-help`): its options (single-letter flags may run together, `-mx`;
    /// an option's value follows it or `=`), then at most as many arguments as it takes.
    static func rejectUsageErrorsBesideHelp(_ arguments: [String]) {
        let terminator = arguments.firstIndex(of: "--") ?? arguments.endIndex
        guard arguments[..<terminator].contains(where: { $0 == "--help" || $0 == "-h" }),
            // (swift-argument-parser prints a completion script whatever else the line holds,
            // and so takes `-h` there too: verify17 N3.)
            !arguments[..<terminator].contains(where: { $0.hasPrefix("--generate-completion-script") })
        else { return }
        // The subcommand is the first word that is not an option (`vmstate -h analyze` too).
        let nameIndex = arguments[..<terminator].firstIndex { !$0.hasPrefix("-") }
        let name = nameIndex.map { arguments[$0] }
        if name == "help" { return }  // (checked above)
        let subcommand = configuration.subcommands.first { $0._commandName == name }
        guard let shape = CommandShape(of: subcommand?._commandName) else { return }
        func usageError(_ message: String) -> Never {
            // Worded as swift-argument-parser words its own.
            let usage = subcommand.map { usageString(for: $0) } ?? usageString()
            let label = "vmstate" + (subcommand.map { " " + $0._commandName } ?? "")
            Stderr.write(
                "Error: \(escapingControlCharacters(message))\nUsage: \(usage)\n"
                    + "  See '\(label) --help' for more information.\n")
            exit(withError: ExitCode.validationFailure)
        }
        var positionals = 0
        var index = 0
        while index < arguments.count {
            let token = arguments[index]
            index += 1
            if subcommand != nil && index - 1 == nameIndex { continue }
            if index - 1 == terminator { continue }  // `--`: arguments only after it
            if index - 1 < terminator, token.hasPrefix("-"), token != "-" {
                let name = String(token.prefix { $0 != "=" })
                if shape.options.contains(name) {
                    if name == token { index += 1 }  // its value
                } else if !shape.flags.contains(name)
                    && (name.hasPrefix("--") || name.count < 3
                        || !name.dropFirst().allSatisfy { shape.flags.contains("-\($0)") })
                {
                    usageError("Unknown option '\(name)'")
                }
                continue
            }
            positionals += 1
            if positionals > shape.positionals { usageError("Unexpected argument '\(token)'") }
        }
    }

    /// What a command takes, as swift-argument-parser describes it (`_dumpHelp()`): its flags
    /// (`--tree`, `-m`, and swift-argument-parser's own `--help`, `--version`, ...), its options
    /// that take a value (`--max-bytes`), and how many arguments.
    struct CommandShape {
        var flags: Set = ["--help", "-h", "--version", "--experimental-dump-help"]
        var options: Set<String> = []
        var positionals = 0

        /// The root command's (nil) or one subcommand's; nil if its description cannot be read.
        init?(of subcommand: String?) {
            guard case .object(let root)? = try? JSONValue(parsing: VMStateCommand._dumpHelp()),
                case .object(var command)? = root["command"]
            else { return nil }
            if let subcommand {
                guard case .array(let subcommands)? = command["subcommands"],
                    case .object(let match)? = subcommands.first(where: {
                        if case .object(let o) = $0, o["commandName"] == .string(subcommand) { return true }
                        return false
                    })
                else { return nil }
                command = match
            } else {
                options.insert("--generate-completion-script")
            }
            guard case .array(let arguments)? = command["arguments"] else { return }
            for case .object(let argument) in arguments {
                guard case .string(let kind)? = argument["kind"] else { continue }
                if kind == "positional" { positionals += 1 }
                guard case .array(let names)? = argument["names"] else { continue }
                for case .object(let n) in names {
                    guard case .string(let nameKind)? = n["kind"], case .string(let name)? = n["name"] else { continue }
                    let spelled = (nameKind == "long" ? "--" : "-") + name
                    if kind == "option" { options.insert(spelled) } else { flags.insert(spelled) }
                }
            }
        }
    }

    /// No subcommand: a usage error (exit 64, the usage on stderr), as the help text says;
    /// `vmstate --help` prints the help.
    func run() throws {
        throw ValidationError("missing a subcommand (analyze, diff, compat, schema or lint)")
    }
}
