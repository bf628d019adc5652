import Foundation
import Runs
import TUI

/// The `csn watch` screen: a header with the runs' health, a legend with one colour per run, a
/// page of charts (one per tag, every run overlaid), and a status line. Pure: drawn from the
/// watcher's newest snapshot and the state.
public enum WatchView {
    public struct Input {
        public var state: WatchState
        public var snapshot: RunWatcher.Snapshot
        /// Seconds since the snapshot last changed.
        public var age: Double
        public var roots: [String]
        public var ascii: Bool

        public init(state: WatchState, snapshot: RunWatcher.Snapshot, age: Double, roots: [String], ascii: Bool) {
            self.state = state
            self.snapshot = snapshot
            self.age = age
            self.roots = roots
            self.ascii = ascii
        }
    }

    /// Chart cells at least this large; more charts per page when the terminal is larger.
    static let chartSize = (width: 40, height: 9)

    /// Tags shown for the filter: every run's tags, in name order.
    public static func tags(_ runs: [RunWatcher.Run], filter: String) -> [String] {
        let all = Set(runs.flatMap(\.series.tags))
        return all.filter { filter.isEmpty || $0.localizedCaseInsensitiveContains(filter) }.sorted()
    }

    /// Pages of charts for these runs and this filter on a screen of this size.
    public static func pageCount(_ runs: [RunWatcher.Run], filter: String, width: Int, height: Int) -> Int {
        let (columns, rows) = grid(Rect(x: 0, y: 0, width: width, height: max(1, height - 3)))
        return max(1, (tags(runs, filter: filter).count + columns * rows - 1) / (columns * rows))
    }

    /// How many charts fit: columns and rows of the grid.
    static func grid(_ area: Rect) -> (columns: Int, rows: Int) {
        (max(1, area.width / chartSize.width), max(1, area.height / chartSize.height))
    }

    public static func render(_ input: Input, into buffer: inout CellBuffer) {
        let area = buffer.bounds
        buffer.ellipsis = input.ascii ? "~" : "…"
        guard area.width >= 40, area.height >= 12 else {
            buffer.write("csn watch needs at least 40x12", x: 0, y: 0, style: Style(bold: true))
            return
        }
        let runs = input.snapshot.runs, state = input.state
        let filter = state.filterText ?? state.filter
        let tags = tags(runs, filter: filter)
        let parts = area.split(.vertical, [.length(1), .length(1), .fill, .length(1)])
        let separator = input.ascii ? " - " : " · "
        let corrupt = runs.reduce(0) { $0 + $1.corruptRecords }, skipped = runs.reduce(0) { $0 + $1.skippedLines }
        var header = ["csn watch", "\(runs.count) run\(runs.count == 1 ? "" : "s")", "\(tags.count) tag\(tags.count == 1 ? "" : "s")" + (filter.isEmpty ? "" : " matching '\(filter)'"),
                      "updated \(age(input.age)) ago"]
        if corrupt > 0 { header.append("\(corrupt) corrupt record\(corrupt == 1 ? "" : "s") skipped") }
        if skipped > 0 { header.append("\(skipped) unreadable line\(skipped == 1 ? "" : "s") skipped") }
        buffer.write(header.joined(separator: separator), x: 0, y: 0, style: Style(bold: true), clip: parts[0])
        var x = 0
        for (i, run) in runs.enumerated() {
            x = buffer.write(input.ascii ? "* " : "● ", x: x, y: parts[1].y, style: Style(foreground: colour(i)), clip: parts[1])
            x = buffer.write(run.name + "  ", x: x, y: parts[1].y, clip: parts[1])
        }
        let body = parts[2]
        if let message = input.snapshot.message, runs.isEmpty {
            buffer.write(message, x: 2, y: body.y + 1, clip: body)
        } else if tags.isEmpty {
            buffer.write(filter.isEmpty ? "no scalars yet" : "no tag matches '\(filter)' (Esc shows every tag)", x: 2, y: body.y + 1, clip: body)
        } else {
            charts(tags, input.snapshot, state, input.ascii, in: body, into: &buffer)
        }
        let status: String
        if let typing = state.filterText {
            status = "filter: " + typing + (input.ascii ? "_" : "▏") + "   (Enter to keep, Esc to cancel)"
        } else if let problem = runs.compactMap({ run in run.problem.map { "\(run.name): \($0)" } }).first {
            status = "? help  q quit  " + problem
        } else {
            let (columns, rows) = grid(body)
            let pages = max(1, (tags.count + columns * rows - 1) / (columns * rows))
            status = "? help  q quit  / filter  page \(min(state.page, pages - 1) + 1)/\(pages)  EMA \(String(format: "%.2f", state.smoothing))"
                + (state.logScale ? "  log" : "") + (state.zoom > 0 ? "  last 1/\(1 << state.zoom)" : "")
        }
        buffer.write(status, x: 0, y: parts[3].y, style: Style(foreground: .dimGrey), clip: parts[3])
        if state.showHelp { FrameView.help(WatchAction.help, in: body, into: &buffer) }
    }

    /// The page's charts, from the lines the watcher made with the runs (smoothed, zoomed and
    /// thinned on its thread: see ChartLines); a snapshot without lines draws the charts' titles.
    static func charts(_ tags: [String], _ snapshot: RunWatcher.Snapshot, _ state: WatchState, _ ascii: Bool, in body: Rect,
                       into buffer: inout CellBuffer) {
        let runs = snapshot.runs
        let (columns, rows) = grid(body)
        let perPage = columns * rows
        let page = min(state.page, (tags.count - 1) / perPage)
        let width = body.width / columns, height = body.height / rows
        for (slot, tag) in tags.dropFirst(page * perPage).prefix(perPage).enumerated() {
            let cell = Rect(x: body.x + (slot % columns) * width, y: body.y + (slot / columns) * height, width: width - 1, height: height)
            let lines = snapshot.lines?.lines[tag] ?? []
            assert(lines.isEmpty || lines.count == runs.count, "lines are made with the runs they are published with")
            let series = zip(runs.indices, lines).compactMap { i, line -> LineChart.Series? in
                line.map { LineChart.Series(name: runs[i].name, colour: colour(i), points: $0.map { ($0.step, $0.value) }) }
            }
            let latest = runs.count == 1 ? runs[0].series.latest(tag).map { "  \(LineChart.format($0.value)) at \(ScalarSeries.stepText($0.step))" } ?? "" : ""
            guard !series.isEmpty else {
                buffer.write(tag + latest, x: cell.x, y: cell.y, style: Style(bold: true), clip: cell)
                continue
            }
            var chart = LineChart(series: series, logScale: state.logScale, ascii: ascii)
            chart.title = tag + latest
            chart.render(in: cell, into: &buffer)
        }
    }

    static func colour(_ run: Int) -> Colour { Colour.categorical[run % Colour.categorical.count] }

    static func age(_ seconds: Double) -> String {
        seconds < 10 ? String(format: "%.1f s", max(0, seconds)) : (seconds < 120 ? "\(Int(seconds)) s" : "\(Int(seconds / 60)) min")
    }
}
