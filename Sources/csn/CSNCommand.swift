import ArgumentParser
import Basics
import Tensor

@main
struct CSNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csn",
        abstract: "Train and explore Conditional Similarity Networks in the terminal.",
        discussion: "With no subcommand, csn trains the default model on the embedded fonts data in the terminal UI.",
        subcommands: [UICommand.self, ExploreCommand.self, WatchCommand.self, TrainCommand.self, EvalCommand.self, CompareCommand.self, TSNECommand.self, NeighboursCommand.self, MasksCommand.self, ProbeCommand.self, ExportCommand.self, DataCommand.self, BenchCommand.self],
        defaultSubcommand: UICommand.self
    )

    /// Parses and runs as ArgumentParser does, but prints errors with control characters escaped:
    /// they quote names and values from files, which must not reach the terminal as escape codes.
    static func main() {
        BlasThreads.set(1)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as CSNError {
            let lines = error.description.split(separator: "\n", omittingEmptySubsequences: false)
            let hint = error.kind == .memoryLimit ? " (raise the limit with --max-memory GiB)" : ""
            exit(withError: CSNError(lines.map(\.terminalSafe).joined(separator: "\n") + hint))
        } catch {
            exit(withError: error)
        }
    }
}
