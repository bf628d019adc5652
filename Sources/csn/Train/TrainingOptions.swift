import ArgumentParser
import CSN
import Datasets

extension ModelKind: ExpressibleByArgument {}
extension MaskInitialization: ExpressibleByArgument {}
extension TrainingConfig.LearningRateSchedule: ExpressibleByArgument {}

/// The options of `csn train` (and of `csn` itself, which trains in the UI).
struct TrainingOptions: ParsableArguments {
    @Option(help: "Model: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelKind = .csnLearned

    @OptionGroup var data: DataFileOption

    @Option(help: "Training steps (batches). Default 2000.")
    var steps: Int?

    @Option(help: "Train for this many epochs instead (an epoch: as many triplets as training images, or the --train-triplets pool).")
    var epochs: Double?

    @Option(help: "Triplets per batch; their 3B images go through the network in one pass.")
    var batch = 64

    @Option(help: "Embedding dimension D.")
    var dim = 64

    @Option(help: "Channels of the conv stages, comma-separated (default 32,64,128; a fourth stage for 64x64 images).")
    var widths: String?

    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-3

    @Option(help: "Learning-rate schedule: \(TrainingConfig.LearningRateSchedule.allCases.map(\.rawValue).joined(separator: ", ")).")
    var schedule: TrainingConfig.LearningRateSchedule = .cosine

    @Option(help: "Triplet margin h.")
    var margin: Float = 0.2

    @Option(name: .customLong("embed-weight"), help: "Weight of the embedding-norm term.")
    var embedWeight: Float = 5e-3

    @Option(name: .customLong("mask-weight"), help: "Weight of the mask L1 term (learned masks).")
    var maskWeight: Float = 5e-4

    @Option(name: .customLong("mask-init"), help: "Learned masks start from: normal (N(0.9, 0.7)), disjoint (the fixed blocks) or uniform (U(0, 1)).")
    var maskInit: MaskInitialization = .normal

    @Option(name: .customLong("mask-mean"), help: "Mean of learned masks' normal start (--mask-init normal).")
    var maskMean: Float = 0.9

    @Option(name: .customLong("mask-std"), help: "Standard deviation of learned masks' normal start (--mask-init normal).")
    var maskStd: Float = 0.7

    @Option(name: .customLong("mask-lr-scale"), help: "Learned masks' learning rate as a multiple of the network's.")
    var maskLearningRateScale: Float = 1

    @Option(name: .customLong("train-triplets"), help: "Train on a fixed pool of this many triplets instead of fresh ones.")
    var trainTriplets: Int?

    @Option(help: "Seed for initialisation and sampling.")
    var seed: UInt64 = 1

    @Option(help: "Worker threads, each taking a share of every batch (a seeded run repeats exactly for the same count).")
    var threads = 2

    @Option(name: .customLong("validate-every"), help: "Validate every N steps.")
    var validateEvery = 250

    @Option(name: .customLong("checkpoint-every"), help: "Save a checkpoint every N steps.")
    var checkpointEvery = 500

    /// The flag that sets each config setting, for range errors worded by the library.
    static func flag(_ setting: TrainingConfig.Setting) -> String {
        switch setting {
        case .batchSize: "--batch"
        case .steps: "--steps"
        case .learningRate: "--lr"
        case .margin: "--margin"
        case .embeddingWeight: "--embed-weight"
        case .maskWeight: "--mask-weight"
        case .maskStart: "--mask-mean/--mask-std"
        case .embeddingDimension: "--dim"
        case .threads: "--threads"
        case .validateEvery: "--validate-every"
        case .checkpointEvery: "--checkpoint-every"
        case .validationTripletsPerCondition: "config validationTripletsPerCondition"
        case .widths: "--widths"
        case .trainTriplets: "--train-triplets"
        }
    }

    /// Option-level checks; the ranges are the config's own (TrainingConfig.validate), named here by flag.
    func validate() throws {
        if steps != nil && epochs != nil { throw ValidationError("give either --steps or --epochs, not both") }
        if let epochs, !(epochs > 0 && epochs <= 1e6) { throw ValidationError("--epochs must be a positive number up to 1000000, not \(epochs)") }
        if let widths, parsedWidths == nil {
            throw ValidationError("--widths must be 1 to \(NetworkShape.maxStages) integers between 1 and \(NetworkShape.maxWidth) separated by commas, not '\(widths)'")
        }
        do { try draftConfig(steps: steps ?? 2000).validate() }
        catch let error as TrainingConfig.RangeError { throw ValidationError("\(Self.flag(error.setting)): \(error.description)") }
    }

    var parsedWidths: [Int]? {
        guard let widths else { return nil }
        let values = widths.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...NetworkShape.maxStages).contains(values.count),
              values.allSatisfy({ (1...NetworkShape.maxWidth).contains($0 ?? 0) }) else { return nil }
        return values.map { $0! }
    }

    /// The config these options give, with `steps` (the data decides the steps of --epochs).
    func draftConfig(steps: Int) -> TrainingConfig {
        var config = TrainingConfig()
        config.model = model
        config.maskInitialization = maskInit
        config.maskMean = maskMean
        config.maskStd = maskStd
        config.maskLearningRateScale = maskLearningRateScale == 1 ? nil : maskLearningRateScale
        config.embeddingDimension = dim
        config.widths = parsedWidths
        config.batchSize = batch
        config.learningRate = lr
        config.schedule = schedule
        config.loss = LossWeights(margin: margin, embedding: embedWeight, mask: maskWeight)
        config.seed = seed
        config.trainTriplets = trainTriplets
        config.threads = threads
        config.validateEvery = validateEvery
        config.checkpointEvery = checkpointEvery
        config.dataPath = TrainingConfig.absolutePath(data.resolvedPath)
        config.steps = steps
        return config
    }

    /// The config for a fresh run on `dataset`.
    func config(for dataset: ImageDataset) throws -> TrainingConfig {
        var config = draftConfig(steps: steps ?? 2000)
        if let epochs {
            let steps = (epochs * Double(config.epochTriplets(dataset)) / Double(batch)).rounded(.up)
            guard steps <= Double(TrainingConfig.maxSteps) else {
                throw ValidationError("--epochs \(epochs) is \(steps) steps, more than \(TrainingConfig.maxSteps)")
            }
            config.steps = max(1, Int(steps))
        }
        return config
    }
}
