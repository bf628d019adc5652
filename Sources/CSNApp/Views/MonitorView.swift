import CSN
import TUI

/// Loss curves (EMA-smoothed, zoomable, optional log scale) above per-condition validation
/// accuracy, with the epoch's progress at the bottom.
enum MonitorView {
    static func render(_ input: FrameInput, in area: Rect, into buffer: inout CellBuffer) {
        let s = input.training, state = input.state
        let parts = area.split(.vertical, [.percentage(50), .fill, .length(1)])
        let history = s.lossHistory
        let keep = max(2, history.count >> state.zoom)
        let recent = history.suffix(keep)
        func smoothed(_ value: (TrainingSnapshot.LossPoint) -> Float) -> [(x: Double, y: Double)] {
            var ema: Double? = nil
            return recent.map { point in
                let v = Double(value(point))
                ema = ema.map { state.smoothing * $0 + (1 - state.smoothing) * v } ?? v
                return (Double(point.step), ema!)
            }
        }
        var series = [LineChart.Series(name: "triplet", colour: .red, points: smoothed(\.triplet)),
                      LineChart.Series(name: "embedding", colour: .cyan, points: smoothed(\.embedding))]
        if s.model == .csnLearned { series.append(.init(name: "mask", colour: .yellow, points: smoothed(\.mask))) }
        buffer.write("loss (EMA \(String(format: "%.2f", state.smoothing))\(state.logScale ? ", log" : "")\(state.zoom > 0 ? ", last 1/\(1 << state.zoom)" : ""))",
                     x: parts[0].x, y: parts[0].y, style: Style(foreground: .dimGrey), clip: parts[0])
        let lossArea = Rect(x: parts[0].x, y: parts[0].y + 1, width: parts[0].width, height: parts[0].height - 1)
        if history.isEmpty {
            buffer.write("waiting for the first steps...", x: lossArea.x + 2, y: lossArea.y + 1, clip: lossArea)
        } else {
            LineChart(series: series, logScale: state.logScale, ascii: input.ascii).render(in: lossArea, into: &buffer)
        }
        let validation = s.validationHistory
        var accuracy: [LineChart.Series] = s.conditionNames.indices.map { c in
            .init(name: s.conditionNames[c], colour: Colour.categorical[c % Colour.categorical.count],
                  points: validation.compactMap { c < $0.accuracies.count && !$0.accuracies[c].isNaN ? (Double($0.step), $0.accuracies[c]) : nil })
        }
        accuracy.append(.init(name: "mean", colour: .white, points: validation.map { (Double($0.step), Evaluator.mean($0.accuracies)) }))
        let latest = s.latestValidation.map { String(format: " latest mean %.1f%%", 100 * Evaluator.mean($0)) } ?? ""
        buffer.write("validation triplet accuracy\(latest)", x: parts[1].x, y: parts[1].y, style: Style(foreground: .dimGrey), clip: parts[1])
        let accuracyArea = Rect(x: parts[1].x, y: parts[1].y + 1, width: parts[1].width, height: parts[1].height - 1)
        if validation.isEmpty {
            buffer.write("no validation yet", x: accuracyArea.x + 2, y: accuracyArea.y + 1, clip: accuracyArea)
        } else {
            LineChart(series: accuracy, yRange: 0.5...1, ascii: input.ascii).render(in: accuracyArea, into: &buffer)
        }
        let epochProgress = s.epoch - s.epoch.rounded(.down)
        let gaugeParts = parts[2].split(.horizontal, [.length(12), .fill])
        buffer.write("epoch \(Int(s.epoch) + 1)", x: gaugeParts[0].x, y: gaugeParts[0].y, clip: gaugeParts[0])
        Gauge(ratio: epochProgress, ascii: input.ascii).render(in: gaugeParts[1], into: &buffer)
    }
}
