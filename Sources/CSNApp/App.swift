import Basics
import CSN
import Datasets
import Foundation
import Synchronization
import TUI

/// The UI thread's loop: read the newest snapshots, draw a frame, wait up to 50 ms for a key
/// (the frame clock, ~20 frames a second), apply it. Training and analysis run on their own
/// threads and are only read here; a frame is a pure function of the state and the snapshots.
/// Keys change the state, and a change the analysis worker must know of becomes a request to it.
/// A stop request (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT) is a flag checked every frame.
public final class App {
    let screen: Screen
    let trainer: Trainer?
    let fixedSnapshot: TrainingSnapshot?
    let worker: AnalysisWorker
    let dataName: String
    let ascii: Bool
    let title: String?
    public let stopRequested = StopFlag()
    public private(set) var state = AppState()
    private var recompute = 0
    private var generator = SeededGenerator(seed: 7)

    /// With a trainer the app trains and shows it live; without, it explores `fixedSnapshot`.
    public init(screen: Screen, trainer: Trainer?, fixedSnapshot: TrainingSnapshot? = nil, worker: AnalysisWorker,
                dataName: String, ascii: Bool, title: String? = nil) {
        self.screen = screen
        self.title = title
        self.trainer = trainer
        self.fixedSnapshot = fixedSnapshot
        self.worker = worker
        self.dataName = dataName
        self.ascii = ascii
        state.queryList = worker.searchSet
        worker.request(analysisRequest)
    }

    var training: TrainingSnapshot { trainer?.snapshot ?? fixedSnapshot! }

    /// What the worker should compute for the current state.
    var analysisRequest: AnalysisRequest {
        AnalysisRequest(condition: state.condition, query: state.query, wantsNeighbours: state.view == .neighbours, recompute: recompute)
    }

    /// One frame from the current snapshots; no side effects.
    public func frame() -> CellBuffer {
        let size = screen.size
        var buffer = CellBuffer(width: size.width, height: size.height)
        FrameView.render(FrameInput(state: state, training: training, analysis: worker.snapshot, dataset: worker.dataset,
                                    mapSample: worker.mapSample, highlighted: worker.highlighted, dataName: dataName,
                                    ascii: ascii, isTraining: trainer != nil, colourDepth: screen.colourDepth, title: title), into: &buffer)
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
        // The worker stops at its next check (a map iteration, an embedding batch) while the
        // trainer saves; the process must not exit while its thread is inside OpenBLAS, whose
        // buffers go away at exit.
        worker.stop()
        trainer?.stop()
        let final = trainer?.wait() ?? training
        worker.waitUntilStopped()
        return final
    }

    /// Applies one key and tells the worker what the new state asks of it; false to quit.
    public func handle(_ key: Key) -> Bool {
        defer { worker.request(analysisRequest) }
        return apply(key)
    }

    private func apply(_ key: Key) -> Bool {
        if state.searchText != nil {
            editSearch(key)
            return true
        }
        let action = Action.decode(key, isTraining: trainer != nil)
        state.message = nil
        switch action {
            case .quit: return false
            case .togglePause:
                trainer?.togglePause()
            case .save:
                trainer?.requestSave()
                state.message = "saving at the next step"
            case .recomputeMap: recompute += 1
            case .randomQuery:
                useTestSplit()
                state.queryPosition = generator.index(below: max(1, state.queryList.count))
            case .startSearch:
                state.view = .neighbours
                state.searchText = ""
            case .pick where state.view == .subspaces && !worker.mapSample.isEmpty:
                let image = worker.mapSample[min(state.mapCursor, worker.mapSample.count - 1)]
                useTestSplit()
                state.queryPosition = state.queryList.firstIndex(of: image) ?? 0
                state.view = .neighbours
            case .clear where state.activeSearch != nil:
                let current = Int32(state.query)
                useTestSplit()
                state.queryPosition = state.queryList.firstIndex(of: current) ?? 0
            default:
                state.apply(action, conditionCount: worker.dataset.conditions.count,
                            dimension: training.embeddingDimension, mapSampleCount: worker.mapSample.count)
        }
        return true
    }

    /// Keys while typing after `/`: text, Backspace, Enter to search, Esc to give up.
    private func editSearch(_ key: Key) {
        switch key {
        case .character(let c): state.searchText! += String(c)
        case .backspace: if !state.searchText!.isEmpty { state.searchText!.removeLast() }
        case .escape: state.searchText = nil
        case .enter:
            let text = state.searchText!
            state.searchText = nil
            do {
                let matches = try ImageQuery.search(text, in: worker.dataset)
                guard !matches.isEmpty else {
                    state.message = "no image matches '\(text)'"
                    return
                }
                state.queryList = matches
                state.queryPosition = 0
                state.activeSearch = text
                state.message = "\(matches.count) image(s) match '\(text)'; arrows step through them, Esc leaves the search"
            } catch {
                state.message = "\(error)"
            }
        default: break
        }
    }

    private func useTestSplit() {
        state.queryList = worker.searchSet
        state.activeSearch = nil
    }
}

/// A flag that signal handlers (dispatch sources) set and the UI loop reads.
public final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    public init() {}
    public func set() { value.store(true, ordering: .releasing) }
    public var isSet: Bool { value.load(ordering: .acquiring) }
}
