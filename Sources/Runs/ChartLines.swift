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
        self.init(request: request, lines: lines, sources: [:])
    }

    init(request: Request, lines: [String: [[ScalarSeries.Point]?]], sources: [String: [Source?]]) {
        self.request = request
        self.lines = lines
        self.sources = sources
    }

    /// The lines of `runs`; a line of `previous` is kept when neither its run (its name and
    /// generation), nor where the zoom cuts it, nor the request changed.
    public init(_ runs: [RunWatcher.Run], request: Request, previous: ChartLines? = nil) {
        var lines: [String: [[ScalarSeries.Point]?]] = [:], sources: [String: [Source?]] = [:]
        let reusable = previous?.request == request ? previous : nil
        for tag in Set(runs.flatMap(\.series.tags)) {
            let series = runs.map { $0.series.points[tag] }
            let last = series.compactMap { $0?.last?.step }.max() ?? 0
            let first = series.compactMap { $0?.first?.step }.min() ?? 0
            let from = last - (last - first) / Double(1 << request.zoom)
            let old = reusable?.sources[tag], oldLines = reusable?.lines[tag]
            var tagLines: [[ScalarSeries.Point]?] = [], tagSources: [Source?] = []
            for (r, points) in series.enumerated() {
                let source = points.map { _ in Source(name: runs[r].name, generation: runs[r].generation, from: from) }
                if let source, let old, let oldLines, r < min(old.count, oldLines.count), old[r] == source {
                    tagLines.append(oldLines[r])
                } else {
                    tagLines.append(points.map { Self.line($0, from: from, smoothing: request.smoothing) })
                }
                tagSources.append(source)
            }
            lines[tag] = tagLines
            sources[tag] = tagSources
        }
        self.init(request: request, lines: lines, sources: sources)
    }

    /// What a line was made from: its run as it was (any change to the run's points, growth or a
    /// resumed run's cut, makes a new generation), and the zoom's cut.
    struct Source: Equatable, Sendable {
        var name: String, generation: Int, from: Double
    }
    let sources: [String: [Source?]]

    /// The points at or after step `from`, smoothed from the first of them on, then thinned.
    static func line(_ points: [ScalarSeries.Point], from: Double, smoothing: Double) -> [ScalarSeries.Point] {
        var smoothed = Array(points[ScalarSeries.firstIndex(atOrAfter: from, in: points)...])
        var average: Double? = nil
        for i in smoothed.indices {
            let value = average.map { smoothing * $0 + (1 - smoothing) * smoothed[i].value } ?? smoothed[i].value
            smoothed[i].value = value
            average = value
        }
        return thinned(smoothed, to: maxPoints)
    }

    /// At most `limit` points (at least 4): the first and the last, and between them the lowest
    /// and highest of each of (limit - 2) / 2 runs of neighbouring points, in step order, so that
    /// a spike stays visible and the line still ends at the newest point.
    static func thinned(_ points: [ScalarSeries.Point], to limit: Int) -> [ScalarSeries.Point] {
        let buckets = max(1, (limit - 2) / 2)
        guard points.count > 2 * buckets + 2, let first = points.first, let last = points.last else { return points }
        let inner = points.count - 2
        var kept = [first]
        kept.reserveCapacity(2 * buckets + 2)
        for bucket in 0..<buckets {
            let range = (1 + bucket * inner / buckets)..<(1 + (bucket + 1) * inner / buckets)
            var lowest = range.lowerBound, highest = range.lowerBound
            for i in range {
                if points[i].value < points[lowest].value { lowest = i }
                if points[i].value > points[highest].value { highest = i }
            }
            kept.append(points[min(lowest, highest)])
            if lowest != highest { kept.append(points[max(lowest, highest)]) }
        }
        kept.append(last)
        return kept
    }
}
