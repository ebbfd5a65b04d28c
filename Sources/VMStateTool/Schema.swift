import ArgumentParser
import CVMState
import VMState

struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a library's device descriptions in QEMU's -dump-vmstate JSON format.",
        discussion: """
            LIB.so is a shared library with the tables (built against libswiftvmstate), SYMBOL \
            a NULL-terminated array of `const VMStateDescription *` in it. Each description is \
            one top-level entry keyed by its name (QEMU keys its entries by device type: \
            "isa-serial" where the table is "serial"; from C, vmstate_dump_schema_named() \
            takes other keys, as two descriptions of one name need: the array may not hold \
            them). A struct field's "size" is sizeof your struct, which \
            need not be QEMU's (struct sizes are not compared by `compat` or QEMU's checker). \
            The output feeds `vmstate compat` (and QEMU's scripts/vmstate-static-checker.py). C \
            programs can produce the same text with vmstate_dump_schema() \
            (migration/vmstate-schema.h).

            The format is QEMU 7.2's or QEMU 10.0's (--qemu): 10.0's, as QEMU 8.1 and later, \
            gives each fixed-size array's element count ("num"). By default it is that of the \
            QEMU whose VMSTATE_END_OF_LIST() ended the tables' field lists: 10.0 for tables \
            built with VMSTATE_QEMU_API 1000, 7.2 otherwise; tables that mix both need --qemu.

            Exit status: 0 success, 2 bad input (no such library or symbol, unusable table) or \
            output that could not be written, 64 usage error.
            """
    )

    @Argument(help: "The shared library holding the tables.", completion: .file())
    var library: String

    @Argument(help: "The symbol of the NULL-terminated array of description pointers.")
    var symbol: String

    @Option(
        help: """
            The machine name written in the "vmschkmachine" entry. Give the machine type your \
            streams carry: `compat` compares a stream's with it as QEMU does (the default, none, \
            is QEMU's -M none, which no stream of a machine loads into).
            """)
    var machine = "none"

    @Option(
        help: ArgumentHelp(
            "Whose -dump-vmstate format to print: 7.2 or 10.0 (default: the tables' own QEMU, from how their field lists end).",
            valueName: "version"))
    var qemu: SchemaFormat?

    /// The values of `--qemu`.
    enum SchemaFormat: String, ExpressibleByArgument, CaseIterable {
        case qemu7_2 = "7.2"
        case qemu10_0 = "10.0"

        var dialect: QEMUDialect { self == .qemu7_2 ? .qemu7_2 : .qemu10_0 }
    }

    func run() throws {
        do {
            let tables = try TableLibrary.open(library, symbol: symbol)
            let dialect = try qemu?.dialect ?? Self.dialect(of: tables)
            // (Written as it is made, past its first 16 MiB.)
            try VMStateSchema.dump(nullTerminated: tables.descriptions, machine: machine, qemu: dialect) {
                Stdout.write($0)
            }
        } catch {
            throw failBadInput("schema", error)
        }
    }

    /// The QEMU whose tables these are (``VMStateSchema/origin(of:)``); 7.2 when no table has fields.
    static func dialect(of tables: TableLibrary) throws -> QEMUDialect {
        switch VMStateSchema.origin(of: VMStateSchema.descriptions(nullTerminated: tables.descriptions)) {
        case .one(let dialect): return dialect
        case .unknown: return .qemu7_2
        case .mixed(let old, let new):
            throw ToolInputError(
                "\(tables.symbol) in \(tables.path) mixes QEMU 7.2's tables (\"\(old)\") and QEMU 10.0's (\"\(new)\", built with VMSTATE_QEMU_API 1000): pass --qemu 7.2 or --qemu 10.0 (or, if \"\(old)\" was built with VMSTATE_QEMU_API 1000 too, end its field list with VMSTATE_END_OF_LIST(), not {}: QEMU 10.0 aborts on it; `vmstate lint` names each such list)"
            )
        }
    }
}

struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a library's description tables against the VMState flag rules.",
        discussion: """
            Prints one line per finding: `error|warning: PATH: message [rule]`, where PATH \
            runs through nested structs and subsections (`dev/field/inner`). Errors: ARRAY and \
            VARRAY_* together, two VARRAY_* flags, MULTIPLY without VBUFFER, ALLOC without \
            POINTER, MULTIPLY_ELEMENTS without a count, STRUCT/VSTRUCT without vmsd, other \
            fields without info, a subsection not named after its parent, descriptions nested \
            deeper than 64 levels or containing themselves through fields that are never empty \
            ("recursive-struct"), and more. Warnings: \
            a field listed twice, VARRAY counts with no guard (VMSTATE_VALIDATE or the \
            field's own test), fields behind raw pointers a checked load cannot bound \
            ("unguarded"), QEMU 10.0 VMSTATE_FD fields, which cannot travel in a byte stream \
            ("file-descriptor"), a field list ended with {} beside QEMU 10.0 tables, which \
            QEMU 10.0 aborts on ("missing-end").

            Exit status: 0 no errors (warnings allowed), 1 errors found, 2 bad input (or output \
            that could not be written), 64 usage error.
            """
    )

    @Argument(help: "The shared library holding the tables.", completion: .file())
    var library: String

    @Argument(help: "The symbol of the NULL-terminated array of description pointers.")
    var symbol: String

    @Flag(help: "Print errors only.")
    var errorsOnly = false

    func run() throws {
        let tables: TableLibrary
        do {
            tables = try TableLibrary.open(library, symbol: symbol)
        } catch {
            throw failBadInput("lint", error)
        }
        // (Each finding printed as it is found: a description nested at many places has its
        // findings at each.)
        var errors = 0, warnings = 0
        VMStateLint.check(nullTerminated: tables.descriptions) { finding in
            if finding.severity == .error { errors += 1 } else { warnings += 1 }
            if !errorsOnly || finding.severity == .error {
                Stdout.write(escapingControlCharacters(finding.description) + "\n")
            }
        }
        Stderr.write("vmstate lint: \(errors) error(s), \(warnings) warning(s)\n")
        if errors > 0 { throw ExitCode(1) }
    }
}
