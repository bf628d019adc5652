import Basics
import Foundation

/// Runs a TrainingSession on its own thread. It can be paused, resumed, stopped and asked to save;
/// it publishes a TrainingSnapshot every `publishEvery` steps that readers (the UI at 20 Hz, the
/// headless progress line) take without waiting for the training thread, and a copy of the
/// weights every `weightsEvery` steps into `weights`, to which the analysis worker subscribes.
///
/// `@unchecked Sendable`: `session` is used by the training thread alone once `start()` has been
/// called (readers use snapshots); every other mutable field is guarded by `stateLock`.
public final class Trainer: @unchecked Sendable {
    public let session: TrainingSession
    public let checkpointDirectory: String?
    public let publishEvery: Int
    /// Steps between weight copies for the analysis worker; a copy is also made when
    /// `weightsSeconds` have passed since the last, so that a slow run's maps stay recent. A
    /// copy (under a megabyte for the default model) takes a fraction of a millisecond; its age
    /// when the analysis worker takes it adds to the map's (at 4 s the map reached 29 s old).
    public let weightsEvery: Int
    public static let defaultWeightsEvery = 200
    public static let weightsSeconds = 2.0
    /// The newest copy of the weights, for analysis on other threads.
    public let weights = WeightsMailbox()

    private let stateLock = NSCondition()  // guards the fields below
    private var paused = false
    private var stopRequested = false
    private var saveRequested = false
    private var latest: TrainingSnapshot
    private var done = false

    public init(session: TrainingSession, checkpointDirectory: String?, publishEvery: Int = 5,
                weightsEvery: Int = Trainer.defaultWeightsEvery) {
        self.session = session
        self.weightsEvery = max(1, weightsEvery)
        self.checkpointDirectory = checkpointDirectory
        self.publishEvery = max(1, publishEvery)
        let config = session.config
        latest = TrainingSnapshot(
            model: config.model, conditionNames: session.dataset.conditions.map(\.name), step: session.step,
            totalSteps: config.steps, stepsPerEpoch: Double(session.epochTriplets) / Double(config.batchSize),
            trainAccuracy: Array(repeating: .nan, count: session.model.conditionCount),
            masks: session.model.effectiveMasks(), embeddingDimension: session.model.shape.embeddingDimension)
    }

    // MARK: Controls (any thread)

    public var snapshot: TrainingSnapshot { stateLock.withLock { latest } }

    public func pause() { stateLock.withLock { paused = true } }

    public func resume() {
        stateLock.withLock {
            paused = false
            stateLock.broadcast()
        }
    }

    public func togglePause() { stateLock.withLock { paused.toggle(); stateLock.broadcast() } }

    /// Asks the run to stop after the current step; it saves a checkpoint first.
    public func stop() {
        stateLock.withLock {
            stopRequested = true
            stateLock.broadcast()
        }
    }

    public func requestSave() { stateLock.withLock { saveRequested = true } }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "csn-trainer"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Blocks until the run ends and returns its last snapshot.
    @discardableResult
    public func wait() -> TrainingSnapshot {
        stateLock.withLock {
            while !done { stateLock.wait() }
            return latest
        }
    }

    // MARK: The training thread

    private func publish(_ update: (inout TrainingSnapshot) -> Void) {
        stateLock.withLock { update(&latest) }
    }

    private func run() {
        let config = session.config
        var work = snapshot
        work.state = .running
        var runningAccuracy = [Double](repeating: .nan, count: session.model.conditionCount)
        var clockStart = Date(), stepsSinceClock = 0
        weights.publish(ModelWeights(of: session.model, step: session.step))
        publish { $0 = work }

        func save(best: Bool = false) throws {
            guard let checkpointDirectory else { return }
            try Checkpoint.save(session, to: checkpointDirectory, isBest: best)
            work.lastCheckpoint = "saved step \(session.step) to \(checkpointDirectory)\(best ? " (best)" : "")"
        }

        func validate() throws {
            let (accuracies, improved) = session.validate()
            let model = session.model
            let active = model.learnsMasks
                ? MaskActivity.activeCounts(model.effectiveMasks(), conditions: model.conditionCount, dimension: model.shape.embeddingDimension) : nil
            work.validationHistory.append(.init(step: session.step, accuracies: accuracies, maskActive: active))
            work.bestValidation = session.bestValidation
            if improved { try save(best: true) }
            if let checkpointDirectory {
                // JSON has no NaN: a condition without validation triplets is null.
                let values: [Any] = accuracies.map { $0.isNaN ? NSNull() as Any : $0 as Any }
                var row: [String: Any] = ["step": session.step, "validation": values, "validation_mean": Evaluator.mean(accuracies)]
                if let active { row["mask_active"] = active }
                try Checkpoint.appendMetrics(row, to: checkpointDirectory)
            }
        }

        do {
            while session.step < config.steps {
                var mustSave = false, mustStop = false
                stateLock.withLock {
                    if paused && !stopRequested {
                        latest.state = .paused
                        while paused && !stopRequested { stateLock.wait() }
                        latest.state = .running
                        clockStart = Date()
                        stepsSinceClock = 0
                    }
                    mustStop = stopRequested
                    mustSave = saveRequested
                    saveRequested = false
                }
                if mustStop { break }
                if mustSave { try save() }

                let terms: LossTerms
                do { terms = try session.trainStep() } catch {
                    work.state = .diverged("\(error)")
                    publish { $0 = work }
                    finish()
                    return
                }
                stepsSinceClock += 1
                for c in terms.seen.indices where terms.seen[c] > 0 {
                    let share = Double(terms.correct[c]) / Double(terms.seen[c])
                    runningAccuracy[c] = runningAccuracy[c].isNaN ? share : 0.95 * runningAccuracy[c] + 0.05 * share
                }
                let step = session.step
                if step % config.validateEvery == 0 || step == config.steps { try validate() }
                if step % config.checkpointEvery == 0 { try save() }
                if step % publishEvery == 0 || step == config.steps {
                    let elapsed = Date().timeIntervalSince(clockStart)
                    work.step = step
                    work.learningRate = config.learningRate(atStep: step)
                    work.lastLoss = terms
                    work.lossHistory.append(.init(step: step, triplet: terms.triplet, embedding: terms.embedding, mask: terms.mask))
                    work.trainAccuracy = runningAccuracy
                    work.masks = session.model.effectiveMasks()
                    let weightsDue = ProcessInfo.processInfo.systemUptime - (weights.newest?.madeAt ?? -.infinity) >= Self.weightsSeconds
                    if step % weightsEvery < publishEvery || weightsDue { weights.publish(ModelWeights(of: session.model, step: step)) }
                    if elapsed > 0.5 {
                        work.tripletsPerSecond = Double(stepsSinceClock * config.batchSize) / elapsed
                        work.secondsRemaining = Double(config.steps - step) * Double(config.batchSize) / work.tripletsPerSecond
                    }
                    if let checkpointDirectory, step % (publishEvery * 10) == 0 {
                        try Checkpoint.appendMetrics(["step": step, "loss": Double(terms.total), "triplet": Double(terms.triplet),
                                                      "embedding": Double(terms.embedding), "mask": Double(terms.mask),
                                                      "learning_rate": Double(work.learningRate)], to: checkpointDirectory)
                    }
                    publish { $0 = work }
                }
            }
            let stopped = stateLock.withLock { stopRequested } && session.step < config.steps
            work.step = session.step
            weights.publish(ModelWeights(of: session.model, step: session.step))
            try save()
            work.state = stopped ? .stopped : .finished
        } catch {
            work.state = .failed("\(error)")
        }
        publish { $0 = work }
        finish()
    }

    private func finish() {
        stateLock.withLock {
            done = true
            stateLock.broadcast()
        }
    }
}
