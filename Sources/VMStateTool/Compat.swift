import ArgumentParser
import VMState

struct Compat: ParsableCommand {
    func run() throws {}
}
struct CompatInputError: Error {}
