import Foundation
import Runs
import TUI

/// `csn watch`'s loop on the UI thread: draw the newest snapshot of the watcher (which reads the
/// files and makes the charts' lines on its own thread), wait up to 100 ms for a key, apply it.
public final class WatchApp {
    let screen: Screen
    let watcher: RunWatcher
    let ascii: Bool
    public let stopRequested = StopFlag()
    public private(set) var state = WatchState()

    public init(screen: Screen, watcher: RunWatcher, ascii: Bool) {
        self.screen = screen
        self.watcher = watcher
        self.ascii = ascii
    }

    public func frame() -> CellBuffer {
        let size = screen.size
        var buffer = CellBuffer(width: size.width, height: size.height)
        let snapshot = watcher.snapshot
        let age = snapshot.changedAt > 0 ? ProcessInfo.processInfo.systemUptime - snapshot.changedAt : 0
        WatchView.render(WatchView.Input(state: state, snapshot: snapshot, age: age, roots: watcher.roots, ascii: ascii), into: &buffer)
        return buffer
    }

    /// What a frame is drawn from, apart from the clock: a frame is drawn only when it changes
    /// (new points, a key, a resize) or once a second for the "updated ... ago" text.
    private struct FrameKey: Equatable {
        var changedAt: Double, linesVersion: Int, polls: Int, state: String, width: Int, height: Int, second: Int
    }

    public func run(maxFrames: Int? = nil) {
        watcher.ask(state.chartRequest)
        watcher.start()
        defer { watcher.stop() }
        var frames = 0
        var last: FrameKey? = nil
        while !stopRequested.isSet {
            let snapshot = watcher.snapshot, size = screen.size
            // The poll count matters only while there is nothing to show (the waiting message).
            let key = FrameKey(changedAt: snapshot.changedAt, linesVersion: snapshot.linesVersion, polls: snapshot.runs.isEmpty ? snapshot.polls : 0, state: "\(state)",
                               width: size.width, height: size.height, second: Int(ProcessInfo.processInfo.systemUptime))
            if key != last {
                screen.draw(frame())
                last = key
            }
            frames += 1
            if let maxFrames, frames >= maxFrames { return }
            guard let key = screen.readKey(timeoutMilliseconds: 100) else { continue }
            if !handle(key) { return }
        }
    }

    /// Applies one key; false to quit.
    public func handle(_ key: Key) -> Bool {
        if state.filterText != nil {
            state.edit(key)
            return true
        }
        let action = WatchAction.decode(key)
        if action == .quit { return false }
        let size = screen.size
        state.apply(action, pages: WatchView.pageCount(watcher.snapshot.runs, filter: state.filter, width: size.width, height: size.height))
        watcher.ask(state.chartRequest)
        return true
    }
}
