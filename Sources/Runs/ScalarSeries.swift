/// A run's scalars by tag, in the order they were written. A step that goes back (a run resumed
/// from an earlier checkpoint) drops the points at and after it, as TensorBoard does, so a
/// resumed run draws one line rather than a loop.
public struct ScalarSeries: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var step: Double
        public var value: Double
        public init(step: Double, value: Double) {
            self.step = step
            self.value = value
        }
    }

    public private(set) var points: [String: [Point]] = [:]
    /// Tags in the order they first appeared.
    public private(set) var tags: [String] = []
    /// Points kept per tag; beyond it every other point is dropped (the chart cannot show more).
    public static let maxPointsPerTag = 100_000

    public init() {}

    /// Adds a point; a non-finite step or value (a diverged loss) is not a point.
    public mutating func append(tag: String, step: Double, value: Double) {
        guard step.isFinite, value.isFinite else { return }
        if points[tag] == nil { tags.append(tag) }
        var series = points[tag, default: []]
        points[tag] = nil  // keep the array uniquely referenced while it changes
        if let last = series.last, step < last.step { series.removeSubrange(Self.firstIndex(atOrAfter: step, in: series)...) }
        series.append(Point(step: step, value: value))
        if series.count > Self.maxPointsPerTag {
            series = series.enumerated().compactMap { $0.offset % 2 == 0 || $0.offset == series.count - 1 ? $0.element : nil }
        }
        points[tag] = series
    }

    public mutating func removeAll() {
        points = [:]
        tags = []
    }

    /// A step as text: a whole number when it is one (steps from files can be anything).
    public static func stepText(_ step: Double) -> String {
        step == step.rounded() && abs(step) < 1e15 ? String(Int64(step)) : String(step)
    }

    /// The index of the first point at or after `step` (points.count if none), by bisection:
    /// steps never decrease within a series.
    public static func firstIndex(atOrAfter step: Double, in points: [Point]) -> Int {
        var low = 0, high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle].step < step { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The newest value of a tag.
    public func latest(_ tag: String) -> Point? { points[tag]?.last }
}
