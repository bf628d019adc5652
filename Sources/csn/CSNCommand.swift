import ArgumentParser

@main
struct CSNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csn",
        abstract: "Train and explore Conditional Similarity Networks in the terminal.",
        discussion: "With no subcommand, csn trains the default model on the embedded fonts data in the terminal UI.",
        subcommands: [UICommand.self, ExploreCommand.self, TrainCommand.self, EvalCommand.self, CompareCommand.self, TSNECommand.self, NeighboursCommand.self, MasksCommand.self, ProbeCommand.self, ExportCommand.self, DataCommand.self, BenchCommand.self],
        defaultSubcommand: UICommand.self
    )
}
