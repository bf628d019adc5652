import ArgumentParser
import Basics
import Datasets

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Build, inspect and export datasets.",
        subcommands: [FontsDataCommand.self, ImportDataCommand.self, ZapposDataCommand.self, ImportTripletsCommand.self,
                      ShowDataCommand.self, StatsDataCommand.self, ExportTripletsCommand.self]
    )
}

/// `--data FILE`, defaulting to the embedded fonts dataset, and the memory limit for reading it.
struct DataFileOption: ParsableArguments {
    @Option(name: .customLong("data"), help: "Dataset file (.safetensors.gz); default: the embedded fonts data.")
    var path: String?

    @OptionGroup var memory: MemoryLimitOption

    var resolvedPath: String { path ?? DefaultDataset.path }

    func load() throws -> ImageDataset {
        try ImageDataset.load(from: resolvedPath, limits: memory.limits)
    }
}
