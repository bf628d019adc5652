import Basics
import Foundation

/// A `metrics.jsonl` being appended to (csn's trainers, or any trainer writing one JSON object
/// per line). Every finite number of a line becomes a point of the tag of its key, at the line's
/// `step`; a list of numbers under `validation` becomes one tag per condition. A last line
/// without its newline is still being written and is waited for; a line that is not a JSON
/// object with a numeric step is skipped and counted.
public struct MetricsLog {
    public private(set) var file: GrowingFile
    public private(set) var skippedLines = 0
    /// Inside a line too long to keep: its bytes are dropped up to its newline.
    private var discardingLine = false
    /// Names for the entries of `validation` lists, in order (from the run's config).
    public var conditionNames: [String]
    /// Lines longer than this are skipped: no metrics row is anywhere near it.
    public static let maxLineBytes = 1 << 20

    public init(path: String, conditionNames: [String] = []) {
        file = GrowingFile(path: path)
        self.conditionNames = conditionNames
    }

    /// Reads new lines into `series`; true when something changed.
    public mutating func poll(into series: inout ScalarSeries) throws -> Bool {
        let result = try file.poll()
        if result == .restarted {
            series.removeAll()
            skippedLines = 0
        }
        var changed = result == .restarted
        if result == .restarted { discardingLine = false }
        while let newline = file.pending.firstIndex(of: 0x0A) {
            let line = file.pending[file.pending.startIndex..<newline]
            file.consume(line.count + 1)
            if discardingLine {
                discardingLine = false  // the end of a line already counted
                continue
            }
            if line.count > Self.maxLineBytes || !read(line, into: &series) {
                if !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { skippedLines += 1 }
            } else {
                changed = true
            }
        }
        if file.pending.count > Self.maxLineBytes {
            // A "line" this long with no end in sight: drop it rather than hold it, and drop the
            // rest of it as it arrives.
            file.consume(file.pending.count)
            if !discardingLine { skippedLines += 1 }
            discardingLine = true
        }
        return changed
    }

    /// Reads a last line without its newline (a finished file); true when it held a row.
    public mutating func finish(into series: inout ScalarSeries) -> Bool {
        let line = file.pending
        guard !line.isEmpty, line.count <= Self.maxLineBytes, !discardingLine else { return false }
        file.consume(line.count)
        if read(line, into: &series) { return true }
        skippedLines += 1
        return false
    }

    private func read(_ line: ArraySlice<UInt8>, into series: inout ScalarSeries) -> Bool {
        // Only an object can be a row: other lines are skipped without asking the JSON parser.
        guard line.first(where: { $0 != 0x20 && $0 != 0x09 }) == UInt8(ascii: "{") else { return false }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
              let step = Self.number(object["step"]), step.isFinite else { return false }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) where key != "step" {
            if let number = Self.number(value) {
                series.append(tag: key.terminalSafe, step: step, value: number)
            } else if let list = value as? [Any] {
                for (index, entry) in list.enumerated() {
                    guard let number = Self.number(entry) else { continue }
                    let name = index < conditionNames.count ? conditionNames[index] : String(index)
                    series.append(tag: "\(key.terminalSafe)/\(name.terminalSafe)", step: step, value: number)
                }
            }
        }
        return true
    }

    /// A finite JSON number (`true` and `false` also arrive as NSNumber and read as 1 and 0).
    static func number(_ value: Any?) -> Double? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        return double.isFinite ? double : nil
    }
}
