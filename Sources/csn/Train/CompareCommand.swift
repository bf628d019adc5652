import ArgumentParser
import Basics
import CSN
import Datasets
import Foundation

/// `csn compare`: the paper's models trained with one budget, over seeds and, where asked, over
/// training-pool sizes, embedding sizes and learned-mask settings; a table of mean and spread per
/// setting, a chart of error against pool size, and every run in a CSV.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train the paper's four models with one budget and print its table, over seeds and settings.",
        discussion: """
        Prints the error (100 - triplet accuracy) per condition and the mean on the test split, as the paper's \
        table does: with several --seeds, the mean and the standard deviation over seeds. --train-triplets trains \
        every model from a fixed pool of that many triplets (drawn once per seed, the same for every model) and \
        draws the error against the pool size. --mask-init, --mask-lr-scale and --mask-weight take lists: each \
        combination is one csn-learned row. --csv writes every run.
        """
    )

    @OptionGroup var data: DataFileOption

    @Option(name: .customLong("budget"), help: "Training triplets per model (steps = budget / batch).")
    var budget = 150_000

    @Option(help: "Triplets per batch.")
    var batch = 64

    @Option(help: "Seed shared by all runs (the same as --seeds N).")
    var seed: UInt64?

    @Option(help: "Seeds, comma-separated: every model is trained once per seed.")
    var seeds: String?

    @Option(name: .customLong("train-triplets"), help: "Training-pool sizes, comma-separated (default: fresh triplets every step).")
    var trainTriplets: String?

    @Option(help: "Embedding sizes D, comma-separated.")
    var dims = "64"

    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-3

    @Option(help: "OpenBLAS threads.")
    var threads = 2

    @Option(help: "Folder for the checkpoint folders; default runs/compare-DATE-TIME.")
    var out: String?

    @Option(name: .customLong("mask-init"), help: "csn-learned's mask starts, comma-separated: normal (N(0.9, 0.7)), disjoint (the fixed blocks), uniform (U(0, 1)).")
    var maskInit = "normal"

    @Option(name: .customLong("mask-lr-scale"), help: "csn-learned's mask learning rate as multiples of the network's, comma-separated.")
    var maskLearningRateScale = "1"

    @Option(name: .customLong("mask-weight"), help: "csn-learned's mask L1 weights, comma-separated.")
    var maskWeight = "5e-4"

    @Option(help: "Models to train, comma-separated (default: all four).")
    var models: String = ModelKind.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "Write every run's errors to this CSV file.")
    var csv: String?

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
        if Set(names).count != names.count { throw ValidationError("--models names a model twice: '\(models)'") }
        guard seed == nil || seeds == nil else { throw ValidationError("give --seed or --seeds, not both") }
        let grid = try self.grid()
        guard grid.runs <= 10_000 else { throw ValidationError("\(grid.runs) runs is more than 10000; give shorter lists") }
    }

    /// The settings to sweep, parsed and range-checked.
    struct Grid {
        var seeds: [UInt64]
        var pools: [Int?]
        var dims: [Int]
        var variants: [CompareReport.MaskVariant]
        var models: [ModelKind]
        var runs: Int {
            seeds.count * pools.count * dims.count * models.reduce(0) { $0 + ($1 == .csnLearned ? variants.count : 1) }
        }
    }

    func grid() throws -> Grid {
        func list<T>(_ text: String, _ option: String, _ parse: (String) -> T?, valid: (T) -> Bool, range: String) throws -> [T] {
            let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !items.isEmpty, items.count <= 64 else { throw ValidationError("\(option) takes 1 to 64 values separated by commas, not '\(text)'") }
            let values = try items.map { item in
                guard let value = parse(item), valid(value) else { throw ValidationError("\(option): '\(item)' is not \(range)") }
                return value
            }
            // A value given twice would train the same run twice, into one folder.
            for (i, value) in values.enumerated() where values[..<i].contains(where: { "\($0)" == "\(value)" }) {
                throw ValidationError("\(option) gives '\(items[i])' twice")
            }
            return values
        }
        let seedList = try seeds.map { try list($0, "--seeds", { UInt64($0) }, valid: { _ in true }, range: "a seed (a whole number from 0)") }
            ?? [seed ?? 1]
        let pools: [Int?] = try trainTriplets.map {
            try list($0, "--train-triplets", { Int($0) }, valid: { (batch...TrainingConfig.maxTrainTriplets).contains($0) },
                     range: "a pool size between --batch (\(batch)) and \(TrainingConfig.maxTrainTriplets)")
        } ?? [nil]
        let dimList = try list(dims, "--dims", { Int($0) }, valid: { (1...NetworkShape.maxEmbeddingDimension).contains($0) },
                               range: "an embedding size between 1 and \(NetworkShape.maxEmbeddingDimension)")
        let starts = try list(maskInit, "--mask-init", { MaskInitialization(rawValue: $0) }, valid: { _ in true }, range: "normal, disjoint or uniform")
        let scales = try list(maskLearningRateScale, "--mask-lr-scale", { Float($0) }, valid: { $0 > 0 && $0 <= 10_000 && $0.isFinite },
                              range: "a factor above 0 and at most 10000")
        let weights = try list(maskWeight, "--mask-weight", { Float($0) }, valid: { $0 >= 0 && $0.isFinite }, range: "a weight of 0 or more")
        let variants = starts.flatMap { start in scales.flatMap { scale in weights.map { CompareReport.MaskVariant(start: start, learningRateScale: scale, weight: $0) } } }
        return Grid(seeds: seedList, pools: pools, dims: dimList, variants: variants, models: models.split(separator: ",").compactMap { ModelKind(rawValue: String($0)) })
    }

    func run() throws {
        let dataset = try data.load()
        let grid = try self.grid()
        let directory = out ?? "runs/compare-\(TrainCommand.timestamp())"
        var report = CompareReport(conditions: dataset.conditions.map(\.name), grid: grid)
        let total = grid.runs
        for seed in grid.seeds {
            for pool in grid.pools {
                for dim in grid.dims {
                    for model in grid.models {
                        for variant in model == .csnLearned ? grid.variants : [CompareReport.MaskVariant.standard] {
                            let setting = CompareReport.Setting(pool: pool, dim: dim)
                            let label = variant.label(for: model, showDefault: grid.variants.count > 1)
                            var config = TrainingConfig()
                            config.model = model
                            config.batchSize = batch
                            config.steps = max(1, budget / batch)
                            config.seed = seed
                            config.learningRate = lr
                            config.threads = threads
                            config.embeddingDimension = dim
                            config.trainTriplets = pool
                            config.maskInitialization = variant.start
                            config.maskLearningRateScale = variant.learningRateScale == 1 ? nil : variant.learningRateScale
                            config.loss.mask = variant.weight
                            config.dataPath = TrainingConfig.absolutePath(data.resolvedPath)
                            config.validateEvery = max(1, config.steps / 10)
                            config.checkpointEvery = config.steps
                            let runName = [grid.seeds.count > 1 || seeds != nil ? "seed\(seed)" : nil, pool.map { "pool\($0)" }, grid.dims.count > 1 ? "dim\(dim)" : nil,
                                           variant.folderName(for: model)].compactMap { $0 }.joined(separator: "/")
                            let runDirectory = directory + "/" + runName
                            let accuracies = try train(config, dataset: dataset, in: runDirectory,
                                                       label: "[\(report.runs.count + 1)/\(total)] \(runName) ", report: report)
                            report.add(CompareReport.Run(setting: setting, label: label, seed: seed, accuracies: accuracies, folder: runDirectory))
                        }
                    }
                }
            }
        }
        print("")
        print(report.text(budget: budget, batch: batch))
        if let csv {
            try AtomicFile.write(report.csv(), to: csv)
            print("every run: \(csv)")
        }
        print("checkpoints: \(directory)")
    }

    /// One run, trained headless; the test accuracies of its best validation weights.
    func train(_ config: TrainingConfig, dataset: ImageDataset, in runDirectory: String, label: String, report: CompareReport) throws -> [Double] {
        let session = try TrainingSession(config: config, dataset: dataset)
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        let folder = try RunFolder(runDirectory)
        defer { withExtendedLifetime(folder) {} }
        try Checkpoint.save(session, to: runDirectory)
        let final = HeadlessRun.run(Trainer(session: session, checkpointDirectory: runDirectory), label: label)
        if case .stopped = final.state { throw CSNError("stopped; finished runs so far:\n" + report.text(budget: budget, batch: batch)) }
        if case .diverged(let message) = final.state { print("\(config.model.rawValue): \(message)") }
        if case .failed(let message) = final.state { throw CSNError(message) }
        try Checkpoint.restore(session, from: runDirectory + "/" + Checkpoint.bestFile, optimizerState: false)
        return Evaluator.accuracy(model: session.model, dataset: dataset, triplets: dataset.testTriplets)
    }
}
