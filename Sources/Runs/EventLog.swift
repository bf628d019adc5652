import Basics
import TensorBoard

/// A TensorBoard event file being appended to (`events.out.tfevents.*`). Complete records are
/// decoded into scalars; a record still being written is waited for; a damaged record is skipped
/// and counted, and reading goes on after it.
public struct EventLog {
    public private(set) var file: GrowingFile
    public private(set) var corruptRecords = 0
    /// The reason the last damaged record was skipped, for the screen.
    public private(set) var lastProblem: String? = nil
    /// Whether the reader is inside a run of bad bytes looking for the next header; kept across
    /// polls so that junk longer than one read counts once.
    private var inCorruptRun = false
    /// Whether the last bytes seen start a record that has not been completed yet.
    public var hasPartialRecord: Bool { !file.pending.isEmpty }

    public init(path: String) { file = GrowingFile(path: path) }

    public static func isEventFile(_ name: String) -> Bool { name.hasPrefix("events.out.tfevents.") }

    /// Reads new records into `series`; true when something changed.
    public mutating func poll(into series: inout ScalarSeries) throws -> Bool {
        let result = try file.poll()
        if result == .restarted {
            series.removeAll()
            corruptRecords = 0
        }
        var changed = result == .restarted
        if result == .restarted { inCorruptRun = false }
        loop: while true {
            switch RecordFraming.next(in: file.pending) {
            case .needMore:
                break loop
            case .corrupt(let skip, let reason):
                // A run of bad bytes while looking for the next header counts once.
                if !inCorruptRun { corruptRecords += 1 }
                inCorruptRun = skip == 1
                lastProblem = reason
                file.consume(skip)
            case .record(let data, let consumed):
                inCorruptRun = false
                file.consume(consumed)
                do {
                    for scalar in try ScalarEvents.decode(data) {
                        series.append(tag: scalar.tag.terminalSafe, step: Double(scalar.step), value: scalar.value)
                        changed = true
                    }
                } catch {
                    corruptRecords += 1
                    lastProblem = "\(error)"
                }
            }
        }
        return changed
    }
}
