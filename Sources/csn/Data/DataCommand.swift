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

    @Option(name: .customLong("max-memory"), help: "Memory limit in GiB for one file read and for a training run's buffers.")
    var maxMemory: Double = Double(ReadLimits.defaultMaxBytes >> 30)

    var resolvedPath: String { path ?? DefaultDataset.path }

    /// The limit in bytes (validated to be a whole number of bytes below 2^50).
    var maxMemoryBytes: Int { Int(maxMemory * Double(1 << 30)) }

    func validate() throws {
        guard maxMemory.isFinite, maxMemory >= 0.001, maxMemory <= Double(1 << 20) else {
            throw ValidationError("--max-memory must be between 0.001 and 1048576 GiB, not \(maxMemory)")
        }
    }

    func load(limits: ReadLimits? = nil) throws -> ImageDataset {
        try ImageDataset.load(from: resolvedPath, limits: limits ?? ReadLimits(maxBytes: maxMemoryBytes))
    }
}
