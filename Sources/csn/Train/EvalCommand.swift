import ArgumentParser
import Basics
import CSN
import Datasets
import Foundation

extension Split: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.description) }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Print a checkpoint's triplet accuracy per condition."
    )

    @OptionGroup var source: CheckpointOptions

    @Option(name: .customLong("split"), help: "Split whose fixed triplets to judge: val or test (default: test)")
    var splitOption: Split?
    var split: Split { splitOption ?? .test }

    func validate() throws {
        if split == .train { throw ValidationError("--split must be val or test: the train split has no fixed triplets") }
    }

    func run() throws {
        let saved = try source.open()
        let triplets = saved.dataset.triplets(for: split)
        let accuracies = Evaluator.accuracy(model: saved.model, dataset: saved.dataset, triplets: triplets)
        print("\(saved.weightsPath): \(saved.config.model.rawValue), step \(saved.step), \(split) split, \(triplets.count) triplets")
        print(AccuracyTable.render(conditions: saved.dataset.conditions.map(\.name), rows: [(saved.config.model.rawValue, accuracies)]))
    }
}
