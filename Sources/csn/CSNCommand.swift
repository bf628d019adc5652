import ArgumentParser

@main
struct CSNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csn",
        abstract: "Train and explore Conditional Similarity Networks in the terminal.",
        subcommands: [TrainCommand.self, EvalCommand.self, CompareCommand.self, TSNECommand.self, NeighboursCommand.self, MasksCommand.self, ProbeCommand.self, ExportCommand.self, DataCommand.self, BenchCommand.self]
    )
}
