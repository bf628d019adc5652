import Foundation
import Runs
import TUI

/// `csn watch`'s loop on the UI thread: draw the newest snapshot of the watcher (which reads the
/// files on its own thread), wait up to 100 ms for a key, apply it.
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

    public func run(maxFrames: Int? = nil) {
        watcher.start()
        defer { watcher.stop() }
        var frames = 0
        while !stopRequested.isSet {
            screen.draw(frame())
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
        state.apply(action)
        return true
    }
}
