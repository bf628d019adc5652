/// What `csn watch`'s charts draw, made on the watcher's thread rather than the UI's: for each
/// tag, each run's points from where the zoom starts, smoothed, and thinned to at most
/// `maxPoints`. (Drawn from the whole series on the UI thread, a frame of four runs of 100,000
/// steps and four tags took 0.4 s, once a second even when nothing changed.)
public struct ChartLines: Sendable {
    /// What the user asked for: TensorBoard's smoothing (an exponential moving average, 0 none
    /// ... 0.99) and the zoom (the last 1/2^zoom of the tag's steps across the runs).
    public struct Request: Sendable, Equatable {
        public var smoothing: Double
        public var zoom: Int

        public init(smoothing: Double, zoom: Int) {
            self.smoothing = min(max(smoothing.isFinite ? smoothing : 0, 0), 0.99)
            self.zoom = min(max(zoom, 0), 30)
        }
    }

    public let request: Request
    /// Per tag, one line per run in the runs' order (nil where a run lacks the tag).
    public let lines: [String: [[ScalarSeries.Point]?]]
    /// More points than any terminal chart has braille columns (two per cell).
    public static let maxPoints = 2048

    public init(request: Request, lines: [String: [[ScalarSeries.Point]?]]) {
        self.request = request
        self.lines = lines
    }

    public init(_ runs: [RunWatcher.Run], request: Request) {
        var lines: [String: [[ScalarSeries.Point]?]] = [:]
        for tag in Set(runs.flatMap(\.series.tags)) {
            let series = runs.map { $0.series.points[tag] }
            let last = series.compactMap { $0?.last?.step }.max() ?? 0
            let first = series.compactMap { $0?.first?.step }.min() ?? 0
            let from = last - (last - first) / Double(1 << request.zoom)
            lines[tag] = series.map { points in points.map { Self.line($0, from: from, smoothing: request.smoothing) } }
        }
        self.init(request: request, lines: lines)
    }

    /// The points at or after step `from` (steps never decrease within a series), smoothed from
    /// the first of them on, then thinned.
    static func line(_ points: [ScalarSeries.Point], from: Double, smoothing: Double) -> [ScalarSeries.Point] {
        var low = 0, high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle].step < from { low = middle + 1 } else { high = middle }
        }
        var smoothed = Array(points[low...])
        var average: Double? = nil
        for i in smoothed.indices {
            let value = average.map { smoothing * $0 + (1 - smoothing) * smoothed[i].value } ?? smoothed[i].value
            smoothed[i].value = value
            average = value
        }
        return thinned(smoothed, to: maxPoints)
    }

    /// At most `limit` points (at least 2): the lowest and highest of each of `limit / 2` runs of
    /// neighbouring points, in step order, so that a spike stays visible.
    static func thinned(_ points: [ScalarSeries.Point], to limit: Int) -> [ScalarSeries.Point] {
        let buckets = max(1, limit / 2)
        guard points.count > 2 * buckets else { return points }
        var kept: [ScalarSeries.Point] = []
        kept.reserveCapacity(2 * buckets)
        for bucket in 0..<buckets {
            let range = (bucket * points.count / buckets)..<((bucket + 1) * points.count / buckets)
            var lowest = range.lowerBound, highest = range.lowerBound
            for i in range {
                if points[i].value < points[lowest].value { lowest = i }
                if points[i].value > points[highest].value { highest = i }
            }
            kept.append(points[min(lowest, highest)])
            if lowest != highest { kept.append(points[max(lowest, highest)]) }
        }
        return kept
    }
}
