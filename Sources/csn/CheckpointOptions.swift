import ArgumentParser
import Basics
import CSN

/// Which weights of a run to open and on what data: the same `--last`, `--data` and
/// `--max-memory` for every command that reads a run.
struct WeightsOptions: ParsableArguments {
    @Flag(help: "Use the last weights instead of the best validation checkpoint.")
    var last = false

    @Option(name: .customLong("data"), help: "Dataset file; default: the one the run was trained on.")
    var data: String?

    @OptionGroup var memory: MemoryLimitOption

    func open(_ directory: String) throws -> SavedRun {
        try SavedRun(directory, dataPath: data, preferBest: !last, limits: memory.limits)
    }
}

/// `--max-memory GiB`: the one memory limit of every command that reads data or a run.
struct MemoryLimitOption: ParsableArguments {
    @Option(name: .customLong("max-memory"), help: "Memory limit in GiB for one file read and for a training run's buffers.")
    var maxMemory: Double = Double(ReadLimits.defaultMaxBytes >> 30)

    func validate() throws {
        guard maxMemory.isFinite, maxMemory >= 0.001, maxMemory <= Double(1 << 20) else {
            throw ValidationError("--max-memory must be between 0.001 and 1048576 GiB, not \(maxMemory)")
        }
    }

    /// The limit in bytes (validated to lie between 1 MiB and 2^50).
    var limits: ReadLimits { ReadLimits(maxBytes: Int(maxMemory * Double(1 << 30))) }
}

/// A run folder argument with its weights options, for the commands that read one run.
struct CheckpointOptions: ParsableArguments {
    @Argument(help: "Run folder (written by csn train, csn compare or the UI).")
    var checkpoint: String

    @OptionGroup var weights: WeightsOptions

    func open() throws -> SavedRun { try weights.open(checkpoint) }
}

/// `--ascii`: plain characters only (no braille, half blocks, colour ramps or colour), for
/// terminals without UTF-8 and for text that is kept; one word and one meaning in every command.
struct AsciiOption: ParsableArguments {
    @Flag(help: "Plain ASCII: no braille, half blocks or colour (terminals without UTF-8, text to keep).")
    var ascii = false
}
