import Basics

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

    /// Range checks, with sentences that name the option.
    public func validate() throws {
        guard batchSize >= 1 else { throw CSNError("--batch must be at least 1, not \(batchSize)") }
        guard steps >= 1 else { throw CSNError("--steps must be at least 1, not \(steps)") }
        guard learningRate > 0, learningRate.isFinite else { throw CSNError("--lr must be a positive number, not \(learningRate)") }
        guard loss.margin >= 0, loss.margin.isFinite else { throw CSNError("--margin must be zero or positive, not \(loss.margin)") }
        guard embeddingDimension >= 1 else { throw CSNError("--dim must be at least 1, not \(embeddingDimension)") }
        guard threads >= 1 else { throw CSNError("--threads must be at least 1, not \(threads)") }
        if let trainTriplets, trainTriplets < batchSize {
            throw CSNError("--train-triplets (\(trainTriplets)) must be at least the batch size (\(batchSize))")
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
