import Basics
import CSN
import Foundation

/// Progress of work that may take more than a couple of seconds, on standard error, the same way
/// in every command: on a terminal a bar with the rate and the time left, redrawn at most ten
/// times a second; when piped, a start line at once and then a line every `logEvery` seconds, so
/// that a log shows the work is alive. Safe to advance from worker threads.
final class Progress: Sendable {
    let label: String
    let unit: String
    let interactive: Bool
    static let logEvery = 5.0

    private struct State {
        var total: Int?
        var done = 0
        var lastDrawn = Date.distantPast
        var finished = false
    }
    private let started = Date()
    private let state = Locked(State())

    /// Starts the progress of `total` `unit` (e.g. "images"); a piped run prints its start line
    /// as soon as the total is known (here, or at the first `advance`).
    init(_ label: String, unit: String, total: Int? = nil, interactive: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.unit = unit
        self.interactive = interactive
        if let total { start(total) }
    }

    private func start(_ total: Int) {
        let first = state.withLock { state -> Bool in
            guard state.total == nil else { return false }
            state.total = max(0, total)
            return true
        }
        if first && !interactive { Self.write("\(label): \(total) \(unit)\n") }
    }

    /// A closure for the libraries' `progress(done, total)` callbacks.
    var callback: @Sendable (Int, Int) -> Void { { [self] done, total in advance(to: done, of: total) } }

    /// `done` of `total` are finished.
    func advance(to done: Int, of total: Int) {
        start(total)
        let now = Date()
        let line: String? = state.withLock { state in
            guard !state.finished, let total = state.total else { return nil }
            state.done = max(state.done, done)
            let due = interactive ? now.timeIntervalSince(state.lastDrawn) >= 0.1 : now.timeIntervalSince(state.lastDrawn) >= Self.logEvery
            guard due || (interactive && state.done == total) else { return nil }
            if !interactive && state.lastDrawn == .distantPast {
                state.lastDrawn = now  // the start line was the first
                return nil
            }
            state.lastDrawn = now
            return interactive ? "\r" + bar(state.done, total, now: now) : logLine(state.done, total, now: now) + "\n"
        }
        if let line { Self.write(line) }
    }

    /// Ends the progress with a summary line (on a terminal, below the finished bar); nothing if
    /// it never started. Safe to call twice (from a `defer` and on success).
    func finish(_ summary: String? = nil) {
        let now = Date()
        let progress = state.withLock { state -> (Int, Int)? in
            guard !state.finished else { return nil }
            state.finished = true
            // Work that never started (an error before it) leaves no line.
            return state.total.map { (state.done, $0) }
        }
        guard let (done, total) = progress else { return }
        let seconds = String(format: "%.1f", now.timeIntervalSince(started))
        let text = summary ?? "\(done) \(unit) in \(seconds) s"
        Self.write(interactive ? "\r" + bar(done, total, now: now) + "\n\(label): \(text)\n" : "\(label): \(text)\n")
    }

    func rate(_ done: Int, now: Date) -> Double {
        let elapsed = now.timeIntervalSince(started)
        return elapsed > 0 ? Double(done) / elapsed : 0
    }

    func eta(_ done: Int, _ total: Int, now: Date) -> String {
        let perSecond = rate(done, now: now)
        return perSecond > 0 ? TrainingSnapshot.duration(Double(total - done) / perSecond) : "-"
    }

    /// "label [#########.........] 1200/5000 images  340/s  ETA 11s"
    func bar(_ done: Int, _ total: Int, now: Date) -> String {
        let width = 24
        let filled = total > 0 ? min(width, done * width / total) : 0
        return "\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + "\(done)/\(total) \(unit)  \(Int(rate(done, now: now)))/s  ETA \(eta(done, total, now: now))  "
    }

    /// "label: 1200/5000 images (24%), 340/s, ETA 11s"
    func logLine(_ done: Int, _ total: Int, now: Date) -> String {
        let percent = total > 0 ? 100 * done / total : 0
        return "\(label): \(done)/\(total) \(unit) (\(percent)%), \(Int(rate(done, now: now)))/s, ETA \(eta(done, total, now: now))"
    }

    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
