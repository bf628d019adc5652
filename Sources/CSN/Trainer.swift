import Basics
import Foundation

/// Runs a TrainingSession on its own thread. It can be paused, resumed, stopped and asked to save;
/// it publishes a TrainingSnapshot every `publishEvery` steps into a mailbox that readers (the UI at
/// 30 Hz, the headless progress line) take without waiting for the training thread.
public final class Trainer: @unchecked Sendable {
    public let session: TrainingSession
    public let checkpointDirectory: String?
    public let publishEvery: Int
    /// Steps between weight copies in the snapshot (for the analysis worker).
    public var weightsEvery = Trainer.defaultWeightsEvery
    public static let defaultWeightsEvery = 200

    private let condition = NSCondition()  // guards the fields below
    private var paused = false
    private var stopRequested = false
    private var saveRequested = false
    private var latest: TrainingSnapshot
    private var done = false

    public init(session: TrainingSession, checkpointDirectory: String?, publishEvery: Int = 5) {
        self.session = session
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

    public var snapshot: TrainingSnapshot { condition.withLock { latest } }

    public func pause() { condition.withLock { paused = true } }

    public func resume() {
        condition.withLock {
            paused = false
            condition.broadcast()
        }
    }

    public func togglePause() { condition.withLock { paused.toggle(); condition.broadcast() } }

    /// Asks the run to stop after the current step; it saves a checkpoint first.
    public func stop() {
        condition.withLock {
            stopRequested = true
            condition.broadcast()
        }
    }

    public func requestSave() { condition.withLock { saveRequested = true } }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "csn-trainer"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Blocks until the run ends and returns its last snapshot.
    @discardableResult
    public func wait() -> TrainingSnapshot {
        condition.withLock {
            while !done { condition.wait() }
            return latest
        }
    }

    // MARK: The training thread

    private func publish(_ update: (inout TrainingSnapshot) -> Void) {
        condition.withLock { update(&latest) }
    }

    private func run() {
        let config = session.config
        var work = snapshot
        work.state = .running
        var runningAccuracy = [Double](repeating: .nan, count: session.model.conditionCount)
        var clockStart = Date(), stepsSinceClock = 0
        work.weights = ModelWeights(of: session.model, step: session.step)
        publish { $0 = work }

        func save(best: Bool = false) throws {
            guard let checkpointDirectory else { return }
            try Checkpoint.save(session, to: checkpointDirectory, isBest: best)
            work.lastCheckpoint = "saved step \(session.step) to \(checkpointDirectory)\(best ? " (best)" : "")"
        }

        func validate() throws {
            let (accuracies, improved) = session.validate()
            work.validationHistory.append(.init(step: session.step, accuracies: accuracies))
            work.bestValidation = session.bestValidation
            if improved { try save(best: true) }
            if let checkpointDirectory {
                // JSON has no NaN: a condition without validation triplets is null.
                let values: [Any] = accuracies.map { $0.isNaN ? NSNull() as Any : $0 as Any }
                try Checkpoint.appendMetrics(["step": session.step, "validation": values,
                                              "validation_mean": Evaluator.mean(accuracies)], to: checkpointDirectory)
            }
        }

        do {
            while session.step < config.steps {
                var mustSave = false, mustStop = false
                condition.withLock {
                    if paused && !stopRequested {
                        latest.state = .paused
                        while paused && !stopRequested { condition.wait() }
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
                    if step % weightsEvery < publishEvery { work.weights = ModelWeights(of: session.model, step: step) }
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
            let stopped = condition.withLock { stopRequested } && session.step < config.steps
            work.step = session.step
            work.weights = ModelWeights(of: session.model, step: session.step)
            try save()
            work.state = stopped ? .stopped : .finished
        } catch {
            work.state = .failed("\(error)")
        }
        publish { $0 = work }
        finish()
    }

    private func finish() {
        condition.withLock {
            done = true
            condition.broadcast()
        }
    }
}
