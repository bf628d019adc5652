import CSN
import Foundation
import TUI

/// What `csn compare` found: every run, and its summaries: per setting (pool size, embedding
/// size) a table of test error with the mean and standard deviation over seeds, a chart of the
/// mean error against the pool size, and a CSV of every run.
struct CompareReport {
    /// A learned-mask setting: its start, learning-rate factor and L1 weight.
    struct MaskVariant: Equatable {
        var start: MaskInitialization
        var learningRateScale: Float
        var weight: Float
        static let standard = MaskVariant(start: .normal, learningRateScale: 1, weight: LossWeights().mask)

        private var parts: [String] {
            var parts: [String] = []
            if start != .normal { parts.append("\(start.rawValue) init") }
            if learningRateScale != 1 { parts.append("mask lr x\(CompareReport.number(learningRateScale))") }
            if weight != MaskVariant.standard.weight { parts.append("L1 \(CompareReport.number(weight))") }
            return parts
        }

        /// The table's label: the model, and for csn-learned what differs from the paper's setting.
        func label(for model: ModelKind, showDefault: Bool) -> String {
            guard model == .csnLearned else { return model.rawValue }
            let parts = self.parts
            if parts.isEmpty { return showDefault ? "csn-learned (paper's start)" : "csn-learned" }
            return "csn-learned (\(parts.joined(separator: ", ")))"
        }

        func folderName(for model: ModelKind) -> String {
            guard model == .csnLearned, !parts.isEmpty else { return model.rawValue }
            return model.rawValue + "-" + parts.joined(separator: "-").replacingOccurrences(of: " ", with: "")
        }
    }

    struct Setting: Hashable {
        var pool: Int?
        var dim: Int
    }

    struct Run {
        var setting: Setting
        var label: String
        var seed: UInt64
        var accuracies: [Double]
        var folder: String
    }

    let conditions: [String]
    let grid: CompareCommand.Grid
    private(set) var runs: [Run] = []

    init(conditions: [String], grid: CompareCommand.Grid) {
        self.conditions = conditions
        self.grid = grid
    }

    mutating func add(_ run: Run) { runs.append(run) }

    static func number(_ value: Float) -> String {
        value == value.rounded() && abs(value) < 1e6 ? String(Int(value)) : String(format: "%g", value)
    }

    /// Test error in percent per condition and the mean over conditions (a condition without test
    /// triplets, NaN, is left out of the mean, as in csn eval).
    static func errors(_ accuracies: [Double]) -> [Double] {
        accuracies.map { 100 * (1 - $0) } + [meanError(accuracies)]
    }

    /// Test error in percent averaged over the conditions.
    static func meanError(_ accuracies: [Double]) -> Double { 100 * (1 - Evaluator.mean(accuracies)) }

    /// Mean and sample standard deviation (0 for one value); NaN for none.
    static func spread(_ values: [Double]) -> (mean: Double, deviation: Double) {
        let values = values.filter(\.isFinite)
        guard !values.isEmpty else { return (.nan, .nan) }
        let mean = values.reduce(0, +) / Double(max(1, values.count))
        guard values.count > 1 else { return (mean, 0) }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return (mean, variance.squareRoot())
    }

    /// Labels in the order they were first trained.
    var labels: [String] {
        var seen: [String] = []
        for run in runs where !seen.contains(run.label) { seen.append(run.label) }
        return seen
    }

    func settingName(_ setting: Setting) -> String {
        (setting.pool.map { "pool of \($0) training triplets" } ?? "fresh triplets every step") + ", D = \(setting.dim)"
    }

    func text(budget: Int, batch: Int) -> String {
        let seeds = Set(runs.map(\.seed)).sorted()
        var out = ["budget \(budget) training triplets per model (batch \(batch), \(max(1, budget / batch)) steps); test error (%)"
                   + (seeds.count > 1 ? ", mean ± standard deviation over seeds \(seeds.map(String.init).joined(separator: ", "))" : ", seed \(seeds.first.map(String.init) ?? "-")")]
        let settings = grid.pools.flatMap { pool in grid.dims.map { Setting(pool: pool, dim: $0) } }
        for setting in settings where runs.contains(where: { $0.setting == setting }) {
            out.append("")
            out.append(settingName(setting) + ":")
            out.append(table(for: setting))
        }
        if grid.pools.count > 1 { out.append(""); out.append(poolChart()) }
        if grid.dims.count > 1 { out.append(""); out.append(dimSummary()) }
        return out.joined(separator: "\n")
    }

    func table(for setting: Setting) -> String {
        let columns = conditions + ["mean"]
        let rows = labels.compactMap { label -> (String, [String])? in
            let chosen = runs.filter { $0.setting == setting && $0.label == label }
            guard !chosen.isEmpty else { return nil }
            let errors = chosen.map { Self.errors($0.accuracies) }
            let cells = columns.indices.map { c -> String in
                let (mean, deviation) = Self.spread(errors.map { $0[c] })
                return chosen.count > 1 ? String(format: "%.2f ± %.2f", mean, deviation) : String(format: "%.2f", mean)
            }
            return (label + (chosen.count > 1 ? " (\(chosen.count))" : ""), cells)
        }
        let labelWidth = max(12, rows.map(\.0.count).max() ?? 0) + 1
        let width = max(columns.map(\.count).max() ?? 0, rows.flatMap(\.1).map(\.count).max() ?? 0) + 2
        func pad(_ text: String) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        var lines = ["error (%)".padding(toLength: labelWidth, withPad: " ", startingAt: 0) + columns.map(pad).joined()]
        for (label, cells) in rows { lines.append(label.padding(toLength: labelWidth, withPad: " ", startingAt: 0) + cells.map(pad).joined()) }
        return lines.joined(separator: "\n")
    }

    /// Mean error against the pool size (log scale), one curve per model, for the first D.
    func poolChart() -> String {
        let dim = grid.dims[0]
        let pools = grid.pools.compactMap { $0 }.sorted()
        var lines = ["mean test error (%) against the training-pool size, D = \(dim) (x: log10 of the pool):"]
        var series: [LineChart.Series] = []
        let rows = summaryRows(header: "pool", width: 12, settings: pools.map { (String($0), Setting(pool: $0, dim: dim)) })
        for (i, label) in labels.enumerated() {
            let points = pools.compactMap { pool -> (x: Double, y: Double)? in
                let chosen = runs.filter { $0.setting == Setting(pool: pool, dim: dim) && $0.label == label }.map { Self.meanError($0.accuracies) }
                let mean = Self.spread(chosen).mean
                return mean.isFinite ? (log10(Double(pool)), mean) : nil
            }
            series.append(LineChart.Series(name: "\(i + 1) \(label)", colour: .default, points: points))
        }
        var buffer = CellBuffer(width: 78, height: 16)
        LineChart(series: series, ascii: true).render(in: buffer.bounds, into: &buffer)
        // Each curve drawn alone in its own digit, so the curves can be told apart without colour.
        for (i, one) in series.enumerated() {
            var single = CellBuffer(width: 78, height: 16)
            LineChart(series: [one], yRange: Self.yRange(series), ascii: true).render(in: single.bounds, into: &single)
            for y in 1..<15 {
                let row = Array(single.lines[y])
                // Only the plot, right of the axis: the y labels hold dots too.
                guard let axis = row.firstIndex(of: "|") else { continue }
                for x in (axis + 1)..<max(axis + 1, min(78, row.count)) where [".", ":", "*"].contains(row[x]) {
                    buffer.set(x, y, Character(String((i + 1) % 10)), Style())
                }
            }
        }
        lines += rows
        lines.append("")
        lines += buffer.lines.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
        return lines.joined(separator: "\n")
    }

    static func yRange(_ series: [LineChart.Series]) -> ClosedRange<Double>? {
        let ys = series.flatMap(\.points).map(\.y).filter(\.isFinite)
        guard let low = ys.min(), let high = ys.max() else { return nil }
        return low...(high > low ? high : low + 1)
    }

    /// Mean error against the embedding size, per model, for the first pool setting.
    func dimSummary() -> String {
        let pool = grid.pools[0]
        let title = "mean test error (%) against the embedding size D" + (pool.map { ", pool \($0)" } ?? "") + ":"
        return ([title] + summaryRows(header: "D", width: 6, settings: grid.dims.map { (String($0), Setting(pool: pool, dim: $0)) }))
            .joined(separator: "\n")
    }

    /// A table of the mean error over conditions, one row per setting and one column per model:
    /// "mean ± deviation" over seeds, the value for one seed, "-" for none.
    func summaryRows(header: String, width: Int, settings: [(name: String, setting: Setting)]) -> [String] {
        func column(_ text: String, _ label: String) -> String { text.padding(toLength: max(14, label.count + 2), withPad: " ", startingAt: 0) }
        var rows = [header.padding(toLength: width, withPad: " ", startingAt: 0) + labels.map { column($0, $0) }.joined()]
        for (name, setting) in settings {
            let cells = labels.map { label -> String in
                let chosen = runs.filter { $0.setting == setting && $0.label == label }.map { Self.meanError($0.accuracies) }
                let (mean, deviation) = Self.spread(chosen)
                return column(chosen.isEmpty ? "-" : (chosen.count > 1 ? String(format: "%.2f ± %.2f", mean, deviation) : String(format: "%.2f", mean)), label)
            }
            rows.append(name.padding(toLength: width, withPad: " ", startingAt: 0) + cells.joined())
        }
        return rows
    }

    /// One line per run: the model and setting, the seed, the error per condition and the mean.
    func csv() -> String {
        func field(_ text: String) -> String { text.contains(",") || text.contains("\"") ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text }
        var lines = [(["model", "seed", "train_triplets", "dim"] + conditions.map { "error_" + $0 } + ["error_mean", "folder"]).map(field).joined(separator: ",")]
        for run in runs {
            let cells = [run.label, String(run.seed), run.setting.pool.map(String.init) ?? "", String(run.setting.dim)]
                + Self.errors(run.accuracies).map { String(format: "%.4f", $0) } + [run.folder]
            lines.append(cells.map(field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
