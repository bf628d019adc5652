import CSNApp
import Runs
import TUI
import Testing

@Suite struct WatchViewTests {
    static func runs() -> [RunWatcher.Run] {
        (0..<2).map { r in
            var series = ScalarSeries()
            for step in stride(from: 0.0, through: 900, by: 100) {
                series.append(tag: "loss", step: step, value: Double(r + 1) / (step + 10))
                series.append(tag: "val/character", step: step, value: 0.5 + step / 2000)
                if r == 1 { series.append(tag: "learning_rate", step: step, value: 1e-3) }
            }
            return RunWatcher.Run(name: "seed\(r + 1)", series: series, corruptRecords: r)
        }
    }

    func render(_ state: WatchState, runs: [RunWatcher.Run] = WatchViewTests.runs(), width: Int = 100, height: Int = 30, message: String? = nil) -> [String] {
        var buffer = CellBuffer(width: width, height: height)
        let snapshot = RunWatcher.Snapshot(runs: runs, changedAt: 1, message: message, lines: ChartLines(runs, request: state.chartRequest))
        WatchView.render(WatchView.Input(state: state, snapshot: snapshot, age: 0.4, roots: ["runs"], ascii: false), into: &buffer)
        return buffer.lines
    }

    @Test func chartsPerTagWithOneColourPerRunAndTheHealthInTheHeader() {
        let lines = render(WatchState())
        #expect(lines[0].hasPrefix("csn watch · 2 runs · 3 tags · updated 0.4 s ago · 1 corrupt record skipped"))
        #expect(lines[1].hasPrefix("● seed1  ● seed2"))
        // 100 x 30: two charts a row, three rows; the tags in name order.
        #expect(lines[2].hasPrefix("learning_rate") && lines[2].contains("loss"))
        #expect(lines.contains { $0.hasPrefix("val/character") })
        #expect(lines[29].contains("page 1/1") && lines[29].contains("EMA 0.60"))
    }

    @Test func theFilterNarrowsTheChartsAsItIsTypedAndEscBringsThemBack() {
        var state = WatchState()
        state.apply(WatchAction.decode(.character("/")))
        for c in "val" { state.edit(.character(c)) }
        var lines = render(state)
        #expect(lines[0].contains("1 tag matching 'val'"))
        #expect(lines[29].hasPrefix("filter: val"))
        state.edit(.enter)
        #expect(state.filter == "val" && state.filterText == nil)
        state.apply(WatchAction.decode(.escape))
        lines = render(state)
        #expect(lines[0].contains("3 tags ·"))
        let before = "\(state)"
        state.apply(WatchAction.decode(.character("x")))
        #expect("\(state)" == before, "a key with no meaning changes nothing")
        #expect(WatchAction.decode(.character("q")) == .quit)
    }

    @Test func anEmptyFolderWaitsWithAMessageAndATinyTerminalIsTold() {
        let waiting = render(WatchState(), runs: [], message: "waiting for runs: no metrics.jsonl or events.out.tfevents.* under runs")
        #expect(waiting.contains { $0.contains("waiting for runs: no metrics.jsonl") })
        #expect(render(WatchState(), width: 30, height: 8)[0].hasPrefix("csn watch needs at least 40x12"))
    }

    @Test func smoothingZoomAndPagesChangeWhatIsDrawn() {
        var state = WatchState()
        let plain = render(state)
        state.apply(.smoothMore)
        state.apply(.zoomIn)
        state.apply(.toggleLogScale)
        let changed = render(state)
        #expect(changed[29].contains("EMA 0.70") && changed[29].contains("log") && changed[29].contains("last 1/2"))
        #expect(plain != changed)
        // On a small screen the three charts take three pages; paging past the end stays on the last.
        var small = WatchState()
        for _ in 0..<5 { small.apply(.nextPage, pages: 3) }
        #expect(small.page == 2, "the page stops at the last one, so one Up goes back a page")
        let last = render(small, width: 45, height: 14)
        #expect(last[13].contains("page 3/3"))
        #expect(last[2].hasPrefix("val/character"))
    }

    /// The charts draw the watcher's lines: lines made for another request (the watcher has not
    /// caught up with a key yet) are drawn as they are, and a tag without lines shows its title.
    @Test func chartsDrawTheLinesTheWatcherMade() {
        let runs = Self.runs(), state = WatchState()
        var buffer = CellBuffer(width: 100, height: 30)
        let stale = ChartLines(runs, request: ChartLines.Request(smoothing: 0.9, zoom: 1))
        WatchView.render(WatchView.Input(state: state, snapshot: RunWatcher.Snapshot(runs: runs, changedAt: 1, lines: stale), age: 0.4,
                                         roots: ["runs"], ascii: false), into: &buffer)
        #expect(buffer.lines != render(state) && buffer.lines[29].contains("EMA 0.60"))
        buffer = CellBuffer(width: 100, height: 30)
        WatchView.render(WatchView.Input(state: state, snapshot: RunWatcher.Snapshot(runs: runs, changedAt: 1), age: 0.4,
                                         roots: ["runs"], ascii: false), into: &buffer)
        #expect(buffer.lines[2].hasPrefix("learning_rate") && !buffer.lines.joined().contains { ("\u{2801}"..."\u{28FF}").contains($0) },
                "titles, no dots")
    }
}
