import Basics
import Foundation
@testable import Runs
import Testing
import TestSupport

/// The lines `csn watch` draws, made on the watcher's thread.
@Suite struct ChartLinesTests {
    static func run(_ name: String, _ values: [(step: Double, value: Double)], tag: String = "loss") -> RunWatcher.Run {
        var series = ScalarSeries()
        for (step, value) in values { series.append(tag: tag, step: step, value: value) }
        return RunWatcher.Run(name: name, series: series)
    }

    /// The zoom cuts every run at the same step (the last 1/2^zoom of the tag's steps across the
    /// runs), and the smoothing starts at the first point kept, as an exponential moving average.
    @Test func zoomThenSmoothing() {
        let a = Self.run("a", (0...10).map { (Double($0), Double($0 % 3)) }), b = Self.run("b", [(4, 1), (20, 5)])
        let lines = ChartLines([a, b], request: ChartLines.Request(smoothing: 0.5, zoom: 1))
        // Steps 0...20: the last half starts at 10.
        #expect(lines.lines["loss"]?[0]?.map(\.step) == [10] && lines.lines["loss"]?[0]?.first?.value == 1)
        #expect(lines.lines["loss"]?[1]?.map(\.step) == [20])
        let whole = ChartLines([a], request: ChartLines.Request(smoothing: 0.5, zoom: 0)).lines["loss"]?[0]?.map(\.value) ?? []
        var average = 0.0, expected: [Double] = []
        for step in 0...10 {
            let value = Double(step % 3)
            average = step == 0 ? value : 0.5 * average + 0.5 * value
            expected.append(average)
        }
        #expect(whole == expected)
    }

    /// A run without the tag has no line for it; the requests are clamped to what the keys allow.
    @Test func aRunWithoutTheTagHasNoLine() {
        let lines = ChartLines([Self.run("a", [(1, 1)]), Self.run("b", [(1, 2)], tag: "accuracy")], request: ChartLines.Request(smoothing: 0, zoom: 0))
        #expect(lines.lines["loss"]?.map { $0 == nil } == [false, true])
        #expect(lines.lines["accuracy"]?.map { $0 == nil } == [true, false])
        #expect(ChartLines.Request(smoothing: .nan, zoom: -3) == ChartLines.Request(smoothing: 0, zoom: 0))
        #expect(ChartLines.Request(smoothing: 5, zoom: 99) == ChartLines.Request(smoothing: 0.99, zoom: 30))
    }

    /// A long series is thinned to at most maxPoints, in step order, keeping each stretch's lowest
    /// and highest value: a one-point spike survives.
    @Test func longSeriesAreThinnedKeepingTheirExtremes() {
        let count = 100_000
        var values: [(step: Double, value: Double)] = (0..<count).map { i in (Double(i), sin(Double(i) / 1000)) }
        values[54_321].value = 100
        values[7].value = -50
        let line = ChartLines([Self.run("a", values)], request: ChartLines.Request(smoothing: 0, zoom: 0)).lines["loss"]?[0] ?? []
        #expect(line.count <= ChartLines.maxPoints && line.count > ChartLines.maxPoints / 2)
        #expect(zip(line, line.dropFirst()).allSatisfy { $0.step < $1.step })
        #expect(line.contains { $0.step == 54_321 && $0.value == 100 } && line.contains { $0.step == 7 && $0.value == -50 })
        // Short series are left whole.
        #expect(ChartLines.thinned(Array(repeating: ScalarSeries.Point(step: 0, value: 1), count: 10), to: 10).count == 10)
    }

    /// Thinning keeps the first and the newest point wherever they fall in their stretch, at any
    /// limit, and leaves empty and one-point series alone.
    @Test(arguments: [4, 7, 10, 2048]) func thinningKeepsBothEnds(limit: Int) {
        for count in [0, 1, limit - 1, limit, limit + 1, 3 * limit + 5, 100_000] {
            // Values alternate, so the last point is never the only extreme of its stretch.
            let points = (0..<count).map { ScalarSeries.Point(step: Double($0), value: $0 % 2 == 0 ? 1 : -1) }
            let kept = ChartLines.thinned(points, to: limit)
            #expect(kept.count <= limit, "\(count) points to \(limit): \(kept.count)")
            #expect(kept.first == points.first && kept.last == points.last, "\(count) points to \(limit)")
            #expect(zip(kept, kept.dropFirst()).allSatisfy { $0.step < $1.step })
        }
    }

    /// A line is made again only when its run (its generation), the zoom's cut or the request changed;
    /// otherwise the previous one is kept (shown here with a doctored previous line).
    @Test func unchangedLinesAreKept() {
        let still = Self.run("still", (0..<10).map { (Double($0), Double($0)) })
        var growing = Self.run("growing", (0..<10).map { (Double($0), 1) })
        let request = ChartLines.Request(smoothing: 0.5, zoom: 0)
        let first = ChartLines([still, growing], request: request)
        let marker = [ScalarSeries.Point(step: -1, value: -1)]
        var doctored = first.lines
        doctored["loss"] = [marker, marker]
        let previous = ChartLines(request: request, lines: doctored, sources: first.sources)
        growing.series.append(tag: "loss", step: 10, value: 1)
        growing.generation += 1
        let next = ChartLines([still, growing], request: request, previous: previous)
        #expect(next.lines["loss"]?[0] == marker, "the still run's line is kept")
        // The same number of points up to the same step, other values (a run resumed and written
        // again): a new generation, so a new line.
        var rewritten = Self.run("still", (0..<10).map { (Double($0), -Double($0)) })
        rewritten.generation = 1
        #expect(ChartLines([rewritten, growing], request: request, previous: previous).lines["loss"]?[0]?.last?.value ?? 0 < 0)
        #expect(next.lines["loss"]?[1] == ChartLines([still, growing], request: request).lines["loss"]?[1], "the grown one is made again")
        // A new request, or a zoom whose cut moved as a run grew, makes every line again.
        let smoother = ChartLines([still, growing], request: ChartLines.Request(smoothing: 0.9, zoom: 0), previous: previous)
        #expect(smoother.lines["loss"]?[0] != marker)
        let zoomed = ChartLines.Request(smoothing: 0.5, zoom: 1)
        let zoomedFirst = ChartLines([still, growing], request: zoomed)
        var zoomedDoctored = zoomedFirst.lines
        zoomedDoctored["loss"] = [marker, marker]
        growing.series.append(tag: "loss", step: 20, value: 1)
        growing.generation += 1
        let moved = ChartLines([still, growing], request: zoomed,
                               previous: ChartLines(request: zoomed, lines: zoomedDoctored, sources: zoomedFirst.sources))
        #expect(moved.lines["loss"]?[0] == ChartLines([still, growing], request: zoomed).lines["loss"]?[0])
    }

    /// The watcher makes lines for the newest request at once (it does not wait out its interval),
    /// and counts each new set.
    @Test func theWatcherMakesLinesForTheNewestRequest() throws {
        let root = TestSupport.temporaryDirectory()
        try AtomicFile.write((0..<50).map { #"{"step": \#($0), "loss": \#($0 % 7)}"# }.joined(separator: "\n") + "\n", to: root + "/metrics.jsonl")
        let watcher = RunWatcher(roots: [root], interval: 30)
        watcher.ask(ChartLines.Request(smoothing: 0, zoom: 0))
        watcher.start()
        defer { watcher.stop() }
        func waitFor(_ done: (RunWatcher.Snapshot) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(20)
            while !done(watcher.snapshot) { guard Date() < deadline else { return false }; Thread.sleep(forTimeInterval: 0.01) }
            return true
        }
        #expect(waitFor { $0.lines?.lines["loss"]?.first??.count == 50 })
        let version = watcher.snapshot.linesVersion
        let asked = Date()
        watcher.ask(ChartLines.Request(smoothing: 0, zoom: 1))
        #expect(waitFor { $0.lines?.request.zoom == 1 })
        #expect(Date().timeIntervalSince(asked) < 10, "the request woke the watcher (its interval is 30 s)")
        #expect(watcher.snapshot.linesVersion > version)
        #expect(watcher.snapshot.lines?.lines["loss"]?.first??.map(\.step) == (25..<50).map(Double.init))
    }
}
