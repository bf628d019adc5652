import Basics
import Foundation

/// One run being watched: a folder's `metrics.jsonl` and event files, read as they grow.
public struct WatchedRun {
    /// The run's name on screen: its folder relative to the watched path.
    public let name: String
    public let directory: String
    public private(set) var series = ScalarSeries()
    private var metrics: MetricsLog?
    private var metricsSeries = ScalarSeries()
    private var events: [String: (log: EventLog, series: ScalarSeries)] = [:]
    /// A file that could not be read (permissions, not a regular file), shown on screen.
    public private(set) var problem: String? = nil
    /// Counts the changes to `series` (what was drawn from it can be kept while it is the same).
    public private(set) var generation = 0

    public init(name: String, directory: String) {
        self.name = name
        self.directory = directory
    }

    public var corruptRecords: Int { events.values.reduce(0) { $0 + $1.log.corruptRecords } }
    public var skippedLines: Int { metrics?.skippedLines ?? 0 }
    public var partialRecords: Int { events.values.filter(\.log.hasPartialRecord).count }
    public var fileCount: Int { events.count + (metrics == nil ? 0 : 1) }
    public var lastProblem: String? { problem ?? events.values.compactMap(\.log.lastProblem).first }

    /// Starts following the files named (metrics.jsonl or event files) that are not followed yet.
    public mutating func follow(files: [String]) {
        for name in files {
            let path = directory + "/" + name
            if name == "metrics.jsonl", metrics == nil {
                metrics = MetricsLog(path: path, conditionNames: Self.conditionNames(in: directory))
            } else if EventLog.isEventFile(name), events[path] == nil {
                events[path] = (EventLog(path: path), ScalarSeries())
            }
        }
    }

    /// What the screen shows of the run.
    public var summary: RunWatcher.Run {
        RunWatcher.Run(name: name, series: series, corruptRecords: corruptRecords, skippedLines: skippedLines,
                       partialRecords: partialRecords, problem: lastProblem, generation: generation)
    }

    /// Whether a file holds bytes beyond what was read (a poll reads at most a chunk per file).
    public var hasUnreadBytes: Bool {
        (metrics?.file.hasUnreadBytes ?? false) || events.values.contains { $0.log.file.hasUnreadBytes }
    }

    /// For a run that is finished: reads a last metrics line that has no newline.
    public mutating func finish() {
        guard var log = metrics else { return }
        if log.finish(into: &metricsSeries) {
            series = merged()
            generation += 1
        }
        metrics = log
    }

    /// Reads what the files gained; true when the run's scalars changed.
    public mutating func poll() -> Bool {
        var changed = false
        problem = nil
        do {
            if var log = metrics {
                changed = try log.poll(into: &metricsSeries) || changed
                metrics = log
            }
        } catch {
            problem = "\(error)"
        }
        for path in events.keys.sorted() {
            guard var entry = events[path] else { continue }
            do {
                changed = try entry.log.poll(into: &entry.series) || changed
            } catch {
                problem = "\(error)"
            }
            events[path] = entry
        }
        if changed {
            series = merged()
            generation += 1
        }
        return changed
    }

    /// The run's tags: metrics first, then event files in name order (a run resumed by
    /// TensorBoard writes a new event file, whose points follow the older file's). A trainer that
    /// logs a tag to both keeps the metrics.jsonl series: the same values, shown once.
    private func merged() -> ScalarSeries {
        var all = metricsSeries
        for path in events.keys.sorted() {
            guard let eventSeries = events[path]?.series else { continue }
            for tag in eventSeries.tags where metricsSeries.points[tag] == nil {
                for point in eventSeries.points[tag] ?? [] { all.append(tag: tag, step: point.step, value: point.value) }
            }
        }
        return all
    }

    /// Condition names from the run's config.json (`conditionNames`), when it has them.
    static func conditionNames(in directory: String) -> [String] {
        guard let bytes = try? AtomicFile.read(directory + "/config.json", maxBytes: 1 << 20),
              let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let names = object["conditionNames"] as? [String] else { return [] }
        return names
    }
}
