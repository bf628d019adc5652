import ArgumentParser

@main
struct CSNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csn",
        abstract: "Train and explore Conditional Similarity Networks in the terminal.",
        subcommands: [DataCommand.self]
    )
}
