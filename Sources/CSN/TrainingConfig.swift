import Basics
import Datasets
import Foundation

/// Everything that defines a training run; saved as config.json in its checkpoint folder, so a
/// run can be rebuilt and resumed exactly.
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var model: ModelKind = .csnLearned
    public var maskInitialization: MaskInitialization = .normal
    public var maskMean: Float = 0.9
    public var maskStd: Float = 0.7
    public var embeddingDimension = 64
    /// Channels of each stage; nil picks 32/64/128 (and a fourth 128 for 64x64 input).
    public var widths: [Int]? = nil
    /// Triplets per batch; their 3B images go through the network in one pass.
    public var batchSize = 64
    public var steps = 2000
    public var learningRate: Float = 1e-3
    public var schedule: LearningRateSchedule = .cosine
    public var loss = LossWeights()
    public var seed: UInt64 = 1
    /// A fixed pool of this many training triplets (the paper's "how many triplets" experiment);
    /// nil draws fresh triplets every step.
    public var trainTriplets: Int? = nil
    /// Validation every this many steps, on this many val triplets per condition.
    public var validateEvery = 250
    public var validationTripletsPerCondition = 1000
    /// A checkpoint every this many steps (and on stop).
    public var checkpointEvery = 500
    /// Worker threads (each takes a shard of every batch); a seeded run repeats exactly for the same count.
    public var threads = 2
    /// The dataset file the run trains on.
    public var dataPath = ""
    /// Learned masks' learning rate as a multiple of the network's (nil: the same rate).
    public var maskLearningRateScale: Float? = nil

    public init() {}

    public enum LearningRateSchedule: String, Codable, Sendable, CaseIterable {
        /// The same rate throughout.
        case constant
        /// Half a cosine from the rate down to 0 at the last step.
        case cosine
    }

    public func learningRate(atStep step: Int) -> Float {
        switch schedule {
        case .constant: return learningRate
        case .cosine:
            let progress = Double(step) / Double(max(steps, 1))
            return learningRate * Float(0.5 * (1 + cos(Double.pi * min(progress, 1))))
        }
    }

    /// Triplets in an epoch: the fixed pool's size (the dataset's own training list, or the
    /// config's `trainTriplets`), else as many as there are training images.
    public func epochTriplets(_ dataset: ImageDataset) -> Int {
        if dataset.trainTriplets.count > 0 { return dataset.trainTriplets.count }
        return trainTriplets ?? dataset.imageIndices(in: .train).count
    }

    /// The dataset file of a run saved in `runDirectory`. New runs store an absolute path; a
    /// relative one (older runs, or a folder moved with its data) is looked for beside the run
    /// folder first, then from the current directory, so a run opens from anywhere.
    public func resolvedDataPath(runDirectory: String) -> String {
        guard !dataPath.hasPrefix("/") else { return dataPath }
        let besideRun = runDirectory + "/" + dataPath
        return FileManager.default.fileExists(atPath: besideRun) ? besideRun : dataPath
    }

    /// `path` as an absolute path (against the current directory), for storing in a config.
    public static func absolutePath(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// Caps on sizes, far above what a CPU run uses, that keep every derived size from overflowing.
    public static let maxBatchSize = 65_536, maxSteps = 1_000_000_000, maxThreads = 256
    public static let maxTrainTriplets = 100_000_000, maxValidationTriplets = 10_000_000

    /// A setting of the config, named in its range errors so that a command can say which of its
    /// options sets it (config.json names it by this field name).
    public enum Setting: String, Sendable, CaseIterable {
        case batchSize, steps, learningRate, margin, embeddingWeight, maskWeight, maskStart, embeddingDimension, threads
        case validateEvery, checkpointEvery, validationTripletsPerCondition, widths, trainTriplets
    }

    /// A value out of range: which setting, and a sentence that names the value.
    public struct RangeError: Error, CustomStringConvertible, Equatable {
        public let setting: Setting
        public let description: String
    }

    /// Range checks; the first value out of range throws a RangeError.
    public func validate() throws {
        func check(_ ok: Bool, _ setting: Setting, _ message: @autoclosure () -> String) throws {
            if !ok { throw RangeError(setting: setting, description: message()) }
        }
        try check((1...Self.maxBatchSize).contains(batchSize), .batchSize, "the batch size must be between 1 and \(Self.maxBatchSize) triplets, not \(batchSize)")
        try check((1...Self.maxSteps).contains(steps), .steps, "the number of steps must be between 1 and \(Self.maxSteps), not \(steps)")
        try check(learningRate > 0 && learningRate.isFinite, .learningRate, "the learning rate must be a positive number, not \(learningRate)")
        try check(loss.margin >= 0 && loss.margin.isFinite, .margin, "the margin must be zero or a positive number, not \(loss.margin)")
        try check(loss.embedding >= 0 && loss.embedding.isFinite, .embeddingWeight, "the embedding-norm weight must be zero or a positive number, not \(loss.embedding)")
        try check(loss.mask >= 0 && loss.mask.isFinite, .maskWeight, "the mask L1 weight must be zero or a positive number, not \(loss.mask)")
        try check(abs(maskMean) <= 100 && (0...100).contains(maskStd), .maskStart,
                  "the mask start N(\(maskMean), \(maskStd)) needs a mean between -100 and 100 and a standard deviation between 0 and 100")
        try check((1...NetworkShape.maxEmbeddingDimension).contains(embeddingDimension), .embeddingDimension,
                  "the embedding dimension must be between 1 and \(NetworkShape.maxEmbeddingDimension), not \(embeddingDimension)")
        try check((1...Self.maxThreads).contains(threads), .threads, "the number of threads must be between 1 and \(Self.maxThreads), not \(threads)")
        try check(validateEvery >= 1, .validateEvery, "validation must run every 1 or more steps, not every \(validateEvery)")
        try check(checkpointEvery >= 1, .checkpointEvery, "checkpoints must be written every 1 or more steps, not every \(checkpointEvery)")
        try check((0...Self.maxValidationTriplets).contains(validationTripletsPerCondition), .validationTripletsPerCondition,
                  "validation triplets per condition must be between 0 and \(Self.maxValidationTriplets), not \(validationTripletsPerCondition)")
        if let widths {
            try check((1...NetworkShape.maxStages).contains(widths.count) && widths.allSatisfy { (1...NetworkShape.maxWidth).contains($0) }, .widths,
                      "stage widths \(widths) must be 1 to \(NetworkShape.maxStages) numbers between 1 and \(NetworkShape.maxWidth)")
        }
        if let scale = maskLearningRateScale {
            try check(scale > 0 && scale.isFinite && scale <= 10_000, .learningRate, "the mask learning-rate factor must be above 0 and at most 10000, not \(scale)")
        }
        if let trainTriplets {
            try check((batchSize...Self.maxTrainTriplets).contains(trainTriplets), .trainTriplets,
                      "the training pool must hold between the batch size (\(batchSize)) and \(Self.maxTrainTriplets) triplets, not \(trainTriplets)")
        }
    }

    /// Bytes a training step will hold for `shape` and `conditionCount` conditions, roughly: the
    /// parameters with their gradients and Adam moments, and every image's activations. Checked
    /// against the memory limit before anything is allocated.
    public func estimatedTrainingBytes(shape: NetworkShape, conditionCount: Int) -> Int? {
        let networks = model == .taskSpecific ? conditionCount : 1
        let images = 3 * batchSize
        return CheckedSize.product(4, shape.activationFloatsPerImage, images)
            .flatMap { activations in CheckedSize.product(16, shape.parameterCount, networks).map { activations + $0 } }
    }
}

#if canImport(Glibc)
import Glibc
#endif
