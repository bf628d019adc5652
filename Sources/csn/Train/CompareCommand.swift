import ArgumentParser
import Basics
import CSN
import Datasets
import Foundation

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train the paper's four models with one budget and print its table.",
        discussion: "Prints the error (100 - triplet accuracy) per condition and the mean on the test split, as the paper's table does."
    )

    @OptionGroup var data: DataFileOption

    @Option(name: .customLong("budget"), help: "Training triplets per model (steps = budget / batch).")
    var budget = 150_000

    @Option(help: "Triplets per batch.")
    var batch = 64

    @Option(help: "Seed shared by all four runs.")
    var seed: UInt64 = 1

    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-3

    @Option(help: "OpenBLAS threads.")
    var threads = 2

    @Option(help: "Folder for the four checkpoint folders; default runs/compare-DATE-TIME.")
    var out: String?

    @Option(name: .customLong("mask-init"), help: "csn-learned's masks start from: normal (N(0.9, 0.7)) or disjoint (the fixed blocks).")
    var maskInit: MaskInitialization = .normal

    @Option(help: "Models to train, comma-separated (default: all four).")
    var models: String = ModelKind.allCases.map(\.rawValue).joined(separator: ",")

    func validate() throws {
        guard (1...TrainingConfig.maxThreads).contains(threads) else { throw ValidationError("--threads must be between 1 and \(TrainingConfig.maxThreads), not \(threads)") }
        guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be a positive number, not \(lr)") }
        guard budget <= 1_000_000_000_000 else { throw ValidationError("--budget must be at most 1000000000000, not \(budget)") }
        guard budget >= batch, batch >= 1 else { throw ValidationError("--budget (\(budget)) must be at least --batch (\(batch)), and --batch at least 1") }
        let names = models.split(separator: ",", omittingEmptySubsequences: false)
        if names.isEmpty || names.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw ValidationError("--models must name one or more models separated by commas, not '\(models)'")
        }
        for name in names where ModelKind(rawValue: String(name)) == nil {
            throw ValidationError("--models: unknown model '\(name)'; choose from \(ModelKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let dataset = try data.load()
        let directory = out ?? "runs/compare-\(TrainCommand.timestamp())"
        var rows: [(label: String, accuracies: [Double])] = []
        for name in models.split(separator: ",") {
            var config = TrainingConfig()
            config.model = ModelKind(rawValue: String(name))!
            config.batchSize = batch
            config.steps = max(1, budget / batch)
            config.seed = seed
            config.learningRate = lr
            config.threads = threads
            config.maskInitialization = maskInit
            config.dataPath = TrainingConfig.absolutePath(data.resolvedPath)
            config.validateEvery = max(1, config.steps / 10)
            config.checkpointEvery = config.steps
            let session = try TrainingSession(config: config, dataset: dataset)
            let runDirectory = directory + "/" + config.model.rawValue
            let folder = try RunFolder(runDirectory)
            defer { withExtendedLifetime(folder) {} }
            try Checkpoint.save(session, to: runDirectory)
            let final = HeadlessRun.run(Trainer(session: session, checkpointDirectory: runDirectory), label: "\(config.model.rawValue) ")
            if case .stopped = final.state { throw CSNError("stopped; finished rows so far:\n" + table(dataset, rows)) }
            if case .diverged(let message) = final.state { print("\(config.model.rawValue): \(message)") }
            if case .failed(let message) = final.state { throw CSNError(message) }
            try Checkpoint.restore(session, from: runDirectory + "/" + Checkpoint.bestFile, optimizerState: false)
            let label = config.model == .csnLearned && maskInit == .disjoint ? "csn-learned (disjoint init)" : config.model.rawValue
            rows.append((label, Evaluator.accuracy(model: session.model, dataset: dataset, triplets: dataset.testTriplets)))
        }
        print("")
        print("budget \(budget) training triplets per model (batch \(batch), \(max(1, budget / batch)) steps), seed \(seed), test split:")
        print(table(dataset, rows))
        print("checkpoints: \(directory)")
    }

    private func table(_ dataset: ImageDataset, _ rows: [(label: String, accuracies: [Double])]) -> String {
        AccuracyTable.render(conditions: dataset.conditions.map(\.name), rows: rows, error: true)
    }
}
