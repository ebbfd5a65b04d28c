import ArgumentParser
import VMState

struct Diff: ParsableCommand {
    func run() throws {}
}
