import Analysis
import ArgumentParser
import CSN
import TUI
import Foundation

struct MasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "masks",
        abstract: "Print a checkpoint's mask statistics and heatmap.",
        discussion: "Active dimensions are those above 10% of their condition's largest weight. The sparsity over training (active dimensions per condition at each validation) is read from the run's metrics.jsonl, where csn's trainer writes it for learned masks."
    )

    @OptionGroup var source: CheckpointOptions
    @OptionGroup var output: AsciiOption

    func run() throws {
        let saved = try source.open()
        let model = saved.model
        let names = saved.dataset.conditions.map(\.name)
        let (k, d) = (model.conditionCount, model.shape.embeddingDimension)
        let masks = model.effectiveMasks()
        let stats = MaskStatistics(masks: masks, conditionCount: k, dimension: d)
        print("\(saved.weightsPath): \(saved.config.model.rawValue), \(k) conditions x \(d) dimensions")
        let width = max(9, names.map(\.count).max() ?? 0)
        func pad(_ s: String, _ n: Int = width) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
        print(pad("condition") + "        L1  active  strongest dimensions")
        for (c, row) in stats.rows.enumerated() {
            let top = row.ranked.prefix(8).map(String.init).joined(separator: " ")
            print(pad(names[c]) + String(format: "%10.2f", row.l1) + String(format: "%5d/%-3d", row.active.count, d) + " " + top)
        }
        print("")
        print(pad("Jaccard") + names.map { String(repeating: " ", count: max(1, width - $0.count + 1)) + $0 }.joined()
              + "   | cosine")
        for a in 0..<k {
            let jaccard = (0..<k).map { String(format: "%\(width + 1).2f", stats.jaccard[a * k + $0]) }.joined()
            let cosine = (0..<k).map { String(format: "%6.2f", stats.cosine[a * k + $0]) }.joined()
            print(pad(names[a]) + jaccard + "   |" + cosine)
        }
        print("")
        print("dimensions no condition uses: \(stats.unused.count)\(stats.unused.isEmpty ? "" : " (" + stats.unused.map(String.init).joined(separator: " ") + ")")")
        print("")
        print("heatmap: rows conditions, columns dimensions 0-\(d - 1), darkest = 0, brightest = \(String(format: "%.2f", masks.max() ?? 0))")
        let colour = Terminal.isInteractive && !output.ascii
        var buffer = CellBuffer(width: width + 1 + d, height: k)
        HeatmapView(values: masks, rows: k, columns: d, rowLabels: names, ascii: !colour).render(in: buffer.bounds, into: &buffer)
        print(buffer.text(colour: colour), terminator: "")
        printHistory(Checkpoint.readMetrics(from: saved.directory, conditionCount: k).validation, names: names, dimension: d)
    }

    /// Active dimensions per condition at each validation, as training went.
    func printHistory(_ validation: [TrainingSnapshot.ValidationPoint], names: [String], dimension d: Int) {
        let rows = validation.compactMap { point in point.maskActive.map { (point.step, $0) } }
        guard !rows.isEmpty else {
            print("")
            print("no sparsity history in metrics.jsonl (written for learned masks at each validation)")
            return
        }
        print("")
        print("active dimensions (of \(d)) over training:")
        let width = max(7, names.map(\.count).max() ?? 0) + 2
        print("step".padding(toLength: 10, withPad: " ", startingAt: 0) + names.map { String(repeating: " ", count: max(0, width - $0.count)) + $0 }.joined())
        for (step, active) in rows {
            print(String(step).padding(toLength: 10, withPad: " ", startingAt: 0) + active.map { String(repeating: " ", count: max(0, width - String($0).count)) + String($0) }.joined())
        }
    }
}
