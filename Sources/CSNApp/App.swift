import Basics
import CSN
import Datasets
import Foundation
import TUI

/// The UI thread's loop: read the newest snapshots, draw a frame, wait up to 50 ms for a key
/// (the frame clock, ~20 frames a second), apply it. Training and analysis run on their own
/// threads and are only read here. A stop request (Ctrl-C, SIGTERM) is a flag checked every frame.
public final class App {
    let screen: Screen
    let trainer: Trainer?
    let fixedSnapshot: TrainingSnapshot?
    let worker: AnalysisWorker
    let dataName: String
    let ascii: Bool
    public let stopRequested = StopFlag()
    public private(set) var state = AppState()
    private var recompute = 0
    private var generator = SeededGenerator(seed: 7)

    /// With a trainer the app trains and shows it live; without, it explores `fixedSnapshot`.
    public init(screen: Screen, trainer: Trainer?, fixedSnapshot: TrainingSnapshot? = nil, worker: AnalysisWorker,
                dataName: String, ascii: Bool) {
        self.screen = screen
        self.trainer = trainer
        self.fixedSnapshot = fixedSnapshot
        self.worker = worker
        self.dataName = dataName
        self.ascii = ascii
    }

    var training: TrainingSnapshot { trainer?.snapshot ?? fixedSnapshot! }

    /// One frame from the current snapshots.
    public func frame() -> CellBuffer {
        let size = screen.size
        var buffer = CellBuffer(width: size.width, height: size.height)
        let snapshot = training
        worker.update(weights: snapshot.weights, condition: state.condition, query: state.query, recompute: recompute)
        FrameView.render(FrameInput(state: state, training: snapshot, analysis: worker.snapshot, dataset: worker.dataset,
                                    probe: worker.probe, dataName: dataName, ascii: ascii), into: &buffer)
        return buffer
    }

    /// Runs until the user quits; stops (and so saves) the training run before returning.
    @discardableResult
    public func run(maxFrames: Int? = nil) -> TrainingSnapshot {
        worker.start()
        trainer?.start()
        var frames = 0
        loop: while !stopRequested.isSet {
            screen.draw(frame())
            frames += 1
            if let maxFrames, frames >= maxFrames { break }
            guard let key = screen.readKey(timeoutMilliseconds: 50) else { continue }
            if !handle(key) { break loop }
        }
        trainer?.stop()
        let final = trainer?.wait() ?? training
        worker.stop()
        return final
    }

    /// Applies one key; false when it asks to quit.
    public func handle(_ key: Key) -> Bool {
        let action = Action.decode(key)
        state.message = nil
        switch action {
            case .quit: return false
            case .togglePause:
                trainer?.togglePause()
                state.message = trainer == nil ? "exploring a checkpoint: nothing to pause" : nil
            case .save:
                trainer?.requestSave()
                state.message = trainer == nil ? "exploring a checkpoint: nothing to save" : "saving at the next step"
            case .recomputeMap: recompute += 1
            case .randomQuery: state.query = generator.index(below: max(1, worker.probe.count))
            default:
                state.apply(action, conditionCount: worker.dataset.conditions.count,
                            dimension: training.embeddingDimension, probeCount: worker.probe.count)
        }
        return true
    }
}

/// A flag that signal handlers (dispatch sources) set and the UI loop reads.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public func set() { lock.withLock { value = true } }
    public var isSet: Bool { lock.withLock { value } }
}
