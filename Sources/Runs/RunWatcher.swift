import Basics
import Foundation

/// Watches paths for runs, on its own thread: a folder holding `metrics.jsonl` or event files is
/// a run; folders are searched (not through links) for runs, and runs that appear later are
/// picked up. Every `interval` it reads what the files gained and publishes a new snapshot, with
/// the chart lines of the newest request (`ask`, which wakes it); the UI only reads the newest.
public final class RunWatcher: Sendable {
    public struct Run: Sendable {
        public var name: String
        public var series: ScalarSeries
        public var corruptRecords: Int
        public var skippedLines: Int
        public var partialRecords: Int
        public var problem: String?
        /// Counts the changes to `series` (see WatchedRun).
        public var generation: Int

        public init(name: String, series: ScalarSeries, corruptRecords: Int = 0, skippedLines: Int = 0, partialRecords: Int = 0, problem: String? = nil,
                    generation: Int = 0) {
            self.name = name
            self.series = series
            self.corruptRecords = corruptRecords
            self.skippedLines = skippedLines
            self.partialRecords = partialRecords
            self.problem = problem
            self.generation = generation
        }
    }

    public struct Snapshot: Sendable {
        public var runs: [Run] = []
        /// Monotonic seconds (system uptime) of the last change.
        public var changedAt = 0.0
        /// How many polls have run (tests wait on it).
        public var polls = 0
        public var message: String? = nil
        /// The charts' lines for `runs`, made for the newest request when they were made.
        public var lines: ChartLines? = nil
        /// Counts the lines published (a new request changes them without new points).
        public var linesVersion = 0

        public init(runs: [Run] = [], changedAt: Double = 0, polls: Int = 0, message: String? = nil, lines: ChartLines? = nil) {
            self.runs = runs
            self.changedAt = changedAt
            self.polls = polls
            self.message = message
            self.lines = lines
        }
    }

    public let roots: [String]
    let interval: Double
    private let latest = Locked(Snapshot())
    private let running = Locked(true)
    private let request = Locked(ChartLines.Request(smoothing: 0, zoom: 0))
    /// Wakes the loop early when a request changes (a semaphore's timed wait runs on the
    /// monotonic clock; a signal too many only costs a poll).
    private let wakeUp = DispatchSemaphore(value: 0)
    /// Folders searched below each root, and entries looked at, at most.
    static let maxDepth = 6, maxEntries = 20_000

    public init(roots: [String], interval: Double = 0.25) {
        self.roots = roots
        self.interval = interval
    }

    public var snapshot: Snapshot { latest.withLock { $0 } }

    public func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "csn-watch"
        thread.start()
    }

    public func stop() {
        running.withLock { $0 = false }
        wakeUp.signal()
    }

    /// Asks for the charts' lines with this smoothing and zoom; cheap, and wakes the watcher only
    /// when the request changes.
    public func ask(_ next: ChartLines.Request) {
        let changed = request.withLock { current in
            defer { current = next }
            return current != next
        }
        if changed { wakeUp.signal() }
    }

    private func loop() {
        var runs: [String: WatchedRun] = [:]
        var lastSearch = -Double.infinity
        var searchNote: String? = nil
        var lines: ChartLines? = nil
        while running.withLock({ $0 }) {
            let now = ProcessInfo.processInfo.systemUptime
            var changed = false
            if now - lastSearch >= 2 {
                lastSearch = now
                let search = Self.search(roots)
                searchNote = search.stopped
                for found in search.runs {
                    if runs[found.directory] == nil {
                        runs[found.directory] = WatchedRun(name: found.name, directory: found.directory)
                        changed = true
                    }
                    runs[found.directory]?.follow(files: found.files)
                }
            }
            for key in runs.keys.sorted() {
                changed = runs[key]!.poll() || changed
            }
            let list = runs.values.sorted { $0.name < $1.name }.map(\.summary)
            let asked = request.withLock { $0 }
            let newLines = changed || lines?.request != asked
            if newLines { lines = ChartLines(list, request: asked, previous: lines) }
            latest.withLock { snapshot in
                snapshot.polls += 1
                snapshot.message = list.isEmpty ? "waiting for runs: no metrics.jsonl or events.out.tfevents.* under \(roots.joined(separator: ", "))"
                    + (searchNote.map { " (\($0))" } ?? "") : searchNote
                if newLines {
                    snapshot.lines = lines
                    snapshot.linesVersion += 1
                }
                if changed {
                    snapshot.runs = list
                    snapshot.changedAt = ProcessInfo.processInfo.systemUptime
                } else {
                    // Counters (corrupt records, problems) may change without new points.
                    for (i, run) in list.enumerated() where i < snapshot.runs.count {
                        snapshot.runs[i].corruptRecords = run.corruptRecords
                        snapshot.runs[i].skippedLines = run.skippedLines
                        snapshot.runs[i].partialRecords = run.partialRecords
                        snapshot.runs[i].problem = run.problem
                    }
                }
            }
            _ = wakeUp.wait(timeout: .now() + interval)
        }
    }

    /// Reads every run once (for `csn watch --once` and tests).
    public static func readOnce(_ roots: [String]) -> [Run] {
        findRuns(roots).map { found in
            var run = WatchedRun(name: found.name, directory: found.directory)
            run.follow(files: found.files)
            // Large files arrive in chunks: read until every byte is read. A finished run's last
            // line may lack its newline; it is read too.
            var rounds = 0
            while (run.poll() || run.hasUnreadBytes) && rounds < 100_000 { rounds += 1 }
            run.finish()
            return run.summary
        }
    }

    struct Found {
        var name: String
        var directory: String
        var files: [String]
    }

    /// The runs under the roots: folders holding metrics or event files, found without following
    /// links (a link could lead out of the folder, or in a loop). A root that is a file is the
    /// run of its folder, with that file alone.
    static func findRuns(_ roots: [String]) -> [Found] { search(roots).runs }

    /// The runs found, and why the search stopped early (too many entries, folders too deep), if it did.
    public static func searchLimits(_ roots: [String]) -> String? { search(roots).stopped }

    static func search(_ roots: [String]) -> (runs: [Found], stopped: String?) {
        var found: [String: Found] = [:]
        var entries = 0, tooDeep = 0
        // The same folder named twice ("runs" and "runs/") is one run.
        func key(_ path: String) -> String {
            guard let real = realpath(path, nil) else { return path }
            defer { free(real) }
            return String(cString: real)
        }
        for root in roots.map(PathText.trimmingTrailingSlashes) {
            // The paths named are followed even when they are links; below them, links are not.
            var info = stat()
            guard stat(root, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFREG {
                let folder = PathText.folder(of: root)
                let name = PathText.name(of: root)
                guard name == "metrics.jsonl" || EventLog.isEventFile(name) else { continue }
                found[key(folder), default: Found(name: PathText.name(of: folder), directory: folder, files: [])].files.append(name)
                continue
            }
            var queue: [(path: String, depth: Int)] = [(root, 0)]
            while entries <= maxEntries, let (path, depth) = queue.popLast() {
                guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
                var files: [String] = []
                for name in names.sorted() {
                    entries += 1
                    if entries > maxEntries { break }
                    var entry = stat()
                    guard lstat(path + "/" + name, &entry) == 0 else { continue }
                    switch entry.st_mode & S_IFMT {
                    case S_IFDIR where !name.hasPrefix("."):
                        if depth < maxDepth { queue.append((path + "/" + name, depth + 1)) } else { tooDeep += 1 }
                    case S_IFREG where name == "metrics.jsonl" || EventLog.isEventFile(name): files.append(name)
                    default: break
                    }
                }
                guard !files.isEmpty else { continue }
                var name = path == root ? PathText.name(of: root) : String(path.dropFirst(root.count + 1))
                if roots.count > 1 && path != root { name = PathText.name(of: root) + "/" + name }
                found[key(path)] = Found(name: name, directory: path, files: files)
            }
        }
        var stopped: [String] = []
        if entries > maxEntries { stopped.append("the search stopped after \(maxEntries) entries") }
        if tooDeep > 0 { stopped.append("\(tooDeep) folder(s) more than \(maxDepth) levels down were not searched") }
        return (found.values.sorted { $0.name < $1.name }, stopped.isEmpty ? nil : stopped.joined(separator: "; "))
    }
}
