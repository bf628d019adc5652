import ArgumentParser
import Basics
import CSNApp
import Foundation
import Runs
import TerminalScreen

/// `csn watch PATH...`: the curves of runs another process writes (csn, the PyTorch trainer, any
/// SummaryWriter), live, overlaid one colour per run.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch runs written by any trainer: metrics.jsonl and TensorBoard event files, live.",
        discussion: """
        Each folder under PATH that holds metrics.jsonl or events.out.tfevents.* files is a run; runs that \
        appear later are picked up. One chart per tag, every run overlaid in its own colour. A record still \
        being written is waited for; a corrupt record is skipped and counted in the header. Keys:
        """ + WatchAction.help.map { "  " + $0.keys.padding(toLength: 16, withPad: " ", startingAt: 0) + $0.meaning }.joined(separator: "\n")
    )

    @Argument(help: "Run folders, folders of runs, or single metrics.jsonl / event files (default: the current folder).")
    var paths: [String] = []

    @Flag(help: "Print each run's latest value of every tag and exit (no terminal needed).")
    var once = false

    @Option(help: "Seconds between reads of the files.")
    var interval = 0.25

    @OptionGroup var output: AsciiOption

    func validate() throws {
        guard interval.isFinite, (0.02...60).contains(interval) else { throw ValidationError("--interval must be between 0.02 and 60 seconds, not \(interval)") }
        guard paths.count <= 256 else { throw ValidationError("at most 256 paths, not \(paths.count)") }
    }

    func run() throws {
        let roots = paths.isEmpty ? ["."] : paths
        for root in roots where !FileManager.default.fileExists(atPath: root) {
            throw CSNError.file(root, "does not exist")
        }
        if once {
            try printLatest(RunWatcher.readOnce(roots), roots: roots)
            return
        }
        try TerminalUI.requireTerminal()
        let screen = CursesScreen()
        defer { screen.close() }
        let app = WatchApp(screen: screen, watcher: RunWatcher(roots: roots, interval: interval), ascii: output.ascii)
        let stopFlag = app.stopRequested
        let signals = StopSignals { stopFlag.set() }
        defer { signals.restore() }
        app.run()
    }

    func printLatest(_ runs: [RunWatcher.Run], roots: [String]) throws {
        guard !runs.isEmpty else {
            throw CSNError("no runs under \(roots.joined(separator: ", ")): no metrics.jsonl or events.out.tfevents.* files"
                           + (RunWatcher.searchLimits(roots).map { " (\($0))" } ?? ""))
        }
        for run in runs {
            var notes: [String] = []
            if run.corruptRecords > 0 { notes.append("\(run.corruptRecords) corrupt record(s) skipped") }
            if run.skippedLines > 0 { notes.append("\(run.skippedLines) unreadable line(s) skipped") }
            if run.partialRecords > 0 { notes.append("\(run.partialRecords) file(s) end in a partial record") }
            if let problem = run.problem { notes.append(problem) }
            print(run.name.terminalSafe + (notes.isEmpty ? "" : "  (" + notes.joined(separator: "; ") + ")"))
            let width = run.series.tags.map(\.count).max() ?? 0
            for tag in run.series.tags.sorted() {
                guard let latest = run.series.latest(tag), let points = run.series.points[tag] else { continue }
                print("  " + tag.padding(toLength: width, withPad: " ", startingAt: 0) + "  step \(ScalarSeries.stepText(latest.step))  \(latest.value)  (\(points.count) points)")
            }
        }
    }
}
