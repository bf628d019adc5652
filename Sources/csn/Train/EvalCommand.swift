import ArgumentParser
import Basics
import CSN
import Datasets
import Foundation

extension Split: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Print a checkpoint's triplet accuracy per condition."
    )

    @Argument(help: "Checkpoint folder (written by csn train).")
    var checkpoint: String

    @Option(help: "Split whose fixed triplets to judge: val or test.")
    var split: Split = .test

    @Flag(help: "Use the last weights instead of the best validation checkpoint.")
    var last = false

    @Option(help: "Dataset file; default: the one the checkpoint was trained on.")
    var data: String?

    func validate() throws {
        if split == .train { throw ValidationError("--split must be val or test: the train split has no fixed triplets") }
    }

    func run() throws {
        let loaded = try LoadedCheckpoint(directory: checkpoint, dataPath: data, preferBest: !last)
        let triplets = loaded.session.dataset.triplets(for: split)
        let accuracies = Evaluator.accuracy(model: loaded.session.model, dataset: loaded.session.dataset, triplets: triplets)
        print("\(loaded.weightsPath): \(loaded.session.config.model.rawValue), step \(loaded.session.step), \(split) split, \(triplets.count) triplets")
        print(AccuracyTable.render(conditions: loaded.session.dataset.conditions.map(\.name),
                                   rows: [(loaded.session.config.model.rawValue, accuracies)]))
    }
}

/// A checkpoint folder opened for use: config, dataset, and weights restored into a session.
struct LoadedCheckpoint {
    let session: TrainingSession
    let weightsPath: String

    init(directory: String, dataPath: String?, preferBest: Bool) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CSNError.file(directory, "no such checkpoint folder")
        }
        let config = try Checkpoint.loadConfig(from: directory)
        let dataset = try ImageDataset.load(from: dataPath ?? config.dataPath)
        session = try TrainingSession(config: config, dataset: dataset)
        let best = directory + "/" + Checkpoint.bestFile
        weightsPath = preferBest && FileManager.default.fileExists(atPath: best) ? best : directory + "/" + Checkpoint.modelFile
        try Checkpoint.restore(session, from: weightsPath)
    }
}
