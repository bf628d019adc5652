import Foundation

/// What the trainer publishes every few steps: an immutable value the UI and the headless
/// progress line read without touching the training thread's state.
public struct TrainingSnapshot: Sendable {
    public enum State: Sendable, Equatable {
        case starting, running, paused, stopped, finished
        /// The loss became NaN or infinite; the last good checkpoint is kept.
        case diverged(String)
        /// An error such as a failed checkpoint write.
        case failed(String)

        public var isOver: Bool {
            switch self {
            case .stopped, .finished, .diverged, .failed: true
            default: false
            }
        }
    }

    /// One logged point of the loss curves.
    public struct LossPoint: Sendable, Equatable {
        public let step: Int
        public let triplet: Float
        public let embedding: Float
        public let mask: Float

        public init(step: Int, triplet: Float, embedding: Float, mask: Float) {
            self.step = step
            self.triplet = triplet
            self.embedding = embedding
            self.mask = mask
        }
    }

    /// Validation accuracy per condition at a step.
    public struct ValidationPoint: Sendable, Equatable {
        public let step: Int
        public let accuracies: [Double]
        /// Active mask dimensions per condition at this step (learned masks only).
        public let maskActive: [Int]?

        public init(step: Int, accuracies: [Double], maskActive: [Int]? = nil) {
            self.step = step
            self.accuracies = accuracies
            self.maskActive = maskActive
        }
    }

    public var state: State = .starting
    public var model: ModelKind
    public var conditionNames: [String]
    public var step = 0
    public var totalSteps: Int
    /// Steps per epoch (an epoch is `TrainingSession.epochTriplets` triplets).
    public var stepsPerEpoch: Double
    public var learningRate: Float = 0
    public var lastLoss = LossTerms()
    public var lossHistory: [LossPoint] = []
    /// Running (exponential moving average) share of training triplets ordered right, per condition.
    public var trainAccuracy: [Double]
    public var validationHistory: [ValidationPoint] = []
    public var bestValidation: Double = .nan
    /// The masks in use, [K, D] row-major.
    public var masks: [Float]
    public var embeddingDimension: Int
    public var tripletsPerSecond: Double = 0
    public var secondsRemaining: Double = .nan
    /// The last checkpoint written, and any message worth showing.
    public var lastCheckpoint: String? = nil

    public init(state: State = .starting, model: ModelKind, conditionNames: [String], step: Int = 0, totalSteps: Int,
                stepsPerEpoch: Double, trainAccuracy: [Double], masks: [Float], embeddingDimension: Int) {
        self.state = state
        self.model = model
        self.conditionNames = conditionNames
        self.step = step
        self.totalSteps = totalSteps
        self.stepsPerEpoch = stepsPerEpoch
        self.trainAccuracy = trainAccuracy
        self.masks = masks
        self.embeddingDimension = embeddingDimension
    }

    public var epoch: Double { Double(step) / max(stepsPerEpoch, 1) }

    /// "45s", "3m12s", "1h05m" for the ETA.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return "-" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : (s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s")
    }
    public var latestValidation: [Double]? { validationHistory.last?.accuracies }
}

/// A consistent copy of a model's parameters and batch-norm running statistics.
public struct ModelWeights: Sendable {
    public let step: Int
    public let values: [Float]
    public let runningStatistics: [[Float]]
    /// When the copy was made (monotonic seconds, the system's uptime): how old a map of it is.
    public let madeAt: Double

    /// A marker for vectors that do not come from a model (an embeddings file): no values.
    public init(step: Int) {
        self.step = step
        values = []
        runningStatistics = []
        madeAt = ProcessInfo.processInfo.systemUptime
    }

    public init(of model: CSNModel, step: Int) {
        self.step = step
        values = model.store.values.array
        runningStatistics = model.runningStatistics.map(\.buffer.array)
        madeAt = ProcessInfo.processInfo.systemUptime
    }

    /// Loads the copy into a model of the same shape.
    public func load(into model: CSNModel) {
        precondition(values.count == model.store.count, "weights of another model shape")
        model.store.values.pointer.update(from: values, count: values.count)
        for (statistics, entry) in zip(runningStatistics, model.runningStatistics) {
            entry.buffer.pointer.update(from: statistics, count: statistics.count)
        }
    }
}
