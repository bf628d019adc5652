import Analysis
import TUI

/// The K x D mask matrix as a heatmap with a cursor, the cursor's value, per-condition sparsity
/// and the overlap between conditions. `o` orders dimensions by the condition that uses them most.
enum MasksView {
    static func render(_ input: FrameInput, in area: Rect, into buffer: inout CellBuffer) {
        let s = input.training, names = s.conditionNames
        let (k, d) = (names.count, s.embeddingDimension)
        guard s.masks.count == k * d, k > 0 else { return }
        let stats = MaskStatistics(masks: s.masks, conditionCount: k, dimension: d)
        // Column order: natural, or grouped by the condition with the largest weight.
        var order = Array(0..<d)
        if input.state.sortMasks {
            let owner = (0..<d).map { j in (0..<k).max { s.masks[$0 * d + j] < s.masks[$1 * d + j] }! }
            order.sort { owner[$0] != owner[$1] ? owner[$0] < owner[$1] : s.masks[owner[$0] * d + $0] > s.masks[owner[$1] * d + $1] }
        }
        let values = (0..<k).flatMap { c in order.map { s.masks[c * d + $0] } }
        let cursor = input.state.maskCursor
        var y = area.y
        buffer.write("masks m = ReLU(beta), \(k) x \(d)\(input.state.sortMasks ? ", dimensions ordered by owner" : ""); brightest \(String(format: "%.2f", s.masks.max() ?? 0))",
                     x: area.x, y: y, style: Style(foreground: .dimGrey), clip: area)
        y += 1
        let labelWidth = names.map(\.count).max()! + 1
        let columns = min(d, area.width - labelWidth)
        let first = max(0, min(cursor.column - columns / 2, d - columns))
        let shown = (0..<k).flatMap { c in (first..<(first + columns)).map { values[c * d + $0] } }
        HeatmapView(values: shown, rows: k, columns: columns, rowLabels: names,
                    highlight: (cursor.row, cursor.column - first), ascii: input.ascii)
            .render(in: Rect(x: area.x, y: y, width: area.width, height: k), into: &buffer)
        y += k
        let dimension = order[min(cursor.column, d - 1)]
        buffer.write("\(names[cursor.row]) dimension \(dimension): \(String(format: "%.4f", s.masks[cursor.row * d + dimension]))",
                     x: area.x, y: y, style: Style(bold: true), clip: area)
        y += 2
        let width = max(10, labelWidth)
        func pad(_ t: String, _ n: Int) -> String { t.padding(toLength: n, withPad: " ", startingAt: 0) }
        buffer.write(pad("condition", width) + "      L1  active  strongest", x: area.x, y: y, style: Style(foreground: .dimGrey), clip: area)
        y += 1
        for c in 0..<k where y < area.bottom {
            let row = stats.rows[c]
            let text = pad(names[c], width) + String(repeating: " ", count: max(0, 8 - String(format: "%.2f", row.l1).count)) + String(format: "%.2f", row.l1)
                + "  \(row.active.count)/\(d)".padding(toLength: 8, withPad: " ", startingAt: 0) + row.ranked.prefix(8).map(String.init).joined(separator: " ")
            buffer.write(text, x: area.x, y: y, clip: area)
            y += 1
        }
        y += 1
        if y < area.bottom {
            buffer.write(pad("Jaccard", width) + names.map { pad(String($0.prefix(9)), 10) }.joined(), x: area.x, y: y, style: Style(foreground: .dimGrey), clip: area)
            y += 1
        }
        for a in 0..<k where y < area.bottom {
            buffer.write(pad(names[a], width) + (0..<k).map { pad(String(format: "%.2f", stats.jaccard[a * k + $0]), 10) }.joined(), x: area.x, y: y, clip: area)
            y += 1
        }
        if y < area.bottom {
            buffer.write("dimensions no condition uses: \(stats.unused.count)", x: area.x, y: y, clip: area)
            y += 2
        }
        // Sparsity over training, from each validation (learned masks).
        let history = s.validationHistory.compactMap { point in point.maskActive.map { (point.step, $0) } }
        if history.count >= 2, area.bottom - y >= 6 {
            buffer.write("active dimensions over training", x: area.x, y: y, style: Style(foreground: .dimGrey), clip: area)
            let series = names.indices.map { c in
                LineChart.Series(name: names[c], colour: Colour.categorical[c % Colour.categorical.count],
                                 points: history.compactMap { c < $0.1.count ? (Double($0.0), Double($0.1[c])) : nil })
            }
            LineChart(series: series, yRange: 0...Double(d), ascii: input.ascii)
                .render(in: Rect(x: area.x, y: y + 1, width: area.width, height: min(12, area.bottom - y - 1)), into: &buffer)
        }
    }
}
