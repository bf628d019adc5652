import CSN
import Foundation

/// Tables of triplet accuracy (or the paper's error) per condition.
enum AccuracyTable {
    static func percent(_ value: Double) -> String {
        value.isNaN ? "     -" : String(format: "%6.2f", 100 * value)
    }

    /// One row per model: accuracy per condition and the mean.
    static func render(conditions: [String], rows: [(label: String, accuracies: [Double])], error: Bool = false) -> String {
        let labelWidth = max(12, rows.map(\.label.count).max() ?? 0)
        let columns = conditions + ["mean"]
        let width = max(9, (columns.map(\.count).max() ?? 0) + 1)
        var lines = ["\(error ? "error" : "accuracy") (%)".padding(toLength: labelWidth, withPad: " ", startingAt: 0)
                     + columns.map { String(repeating: " ", count: max(0, width - $0.count)) + $0 }.joined()]
        for row in rows {
            let values = row.accuracies + [Evaluator.mean(row.accuracies)]
            let cells = values.map { value -> String in
                let text = percent(error && !value.isNaN ? 1 - value : value)
                return String(repeating: " ", count: max(0, width - text.count)) + text
            }
            lines.append(row.label.padding(toLength: labelWidth, withPad: " ", startingAt: 0) + cells.joined())
        }
        return lines.joined(separator: "\n")
    }
}
