import Datasets
import TUI

/// The t-SNE map of the selected condition's subspace, computed in the background and
/// warm-started as the model trains; points coloured by the condition's value (values that are
/// single characters are drawn as themselves), a legend, and the image under the cursor.
/// A map made for another condition is never drawn in this one's colours.
enum SubspacesView {
    static func render(_ input: FrameInput, in area: Rect, into buffer: inout CellBuffer) {
        let a = input.analysis, dataset = input.dataset, probe = input.mapSample
        let condition = dataset.conditions[input.state.condition]
        let parts = area.split(.horizontal, [.fill, .length(20)])
        let map = a.map(for: input.state.condition)
        // The map's own tags, not the worker's activity (which may be about the neighbours).
        let state = map.map { map in
            // The weights' age tells how far behind training the map is (a file's vectors do not age).
            let age = input.isTraining ? " (\(Int(max(0, input.now - map.weightsMadeAt).rounded())) s old)" : ""
            return "map of step \(map.weightsStep)\(age)\(map.complete ? "" : " (optimising)"), iteration \(map.iteration), KL \(String(format: "%.3f", map.klDivergence))"
        } ?? a.status
        let header = "\(condition.name) subspace: \(state)  (c: next condition, r: recompute)"
        buffer.write(header, x: area.x, y: area.y, style: Style(foreground: .dimGrey), clip: area)
        let plot = Rect(x: parts[0].x, y: parts[0].y + 1, width: parts[0].width, height: parts[0].height - 2)
        guard let map, map.layout.count == 2 * probe.count else {
            let text = a.error ?? "computing the map of \(condition.name)..."
            buffer.write(text, x: plot.x + 2, y: plot.y + plot.height / 2, style: Style(foreground: a.error == nil ? .default : .red), clip: plot)
            return
        }
        let labels = probe.map { Int(condition.labels[Int($0)]) }
        // Colours: a few chosen values when there are too many to colour (fonts), else the most
        // frequent values; the rest a dim grey.
        // Ordinal values on a ramp from the smallest to the largest; labels index the sorted values.
        let ordinal = condition.isOrdinal
        let frequent: [Int] = ordinal ? rampLegend(condition.valueNames.count)
            : input.highlighted[input.state.condition] ?? mostFrequent(labels, count: Colour.categorical.count)
        let rampColour = { (label: Int) in Colour.ramp(Double(label) / Double(max(1, condition.valueNames.count - 1))) }
        let colourOf = ordinal ? Dictionary(uniqueKeysWithValues: frequent.map { ($0, rampColour($0)) })
            : Dictionary(uniqueKeysWithValues: frequent.enumerated().map { ($1, Colour.categorical[$0]) })
        let colours = labels.map { ordinal ? rampColour($0) : colourOf[$0] ?? .dimGrey }
        let glyphs: [Character]? = condition.valuesAreGlyphs ? labels.map { Character(condition.valueNames[$0]) } : nil
        let cursor = min(input.state.mapCursor, probe.count - 1)
        Scatter(x: (0..<probe.count).map { map.layout[2 * $0] }, y: (0..<probe.count).map { map.layout[2 * $0 + 1] },
                colours: colours, glyphs: glyphs, cursor: cursor, ascii: input.ascii).render(in: plot, into: &buffer)
        // Legend under the map.
        var x = plot.x
        for value in frequent.prefix(8) {
            x = buffer.write(input.ascii ? "* " : "● ", x: x, y: area.bottom - 1, style: Style(foreground: colourOf[value]!), clip: area)
            let name = condition.valueNames[value]
            x = buffer.write((name.count > 14 ? String(name.prefix(13)) + String(buffer.ellipsis) : name) + "  ", x: x, y: area.bottom - 1, clip: parts[0])
        }
        // The point under the cursor.
        let side = parts[1], image = Int(probe[cursor])
        buffer.write("cursor (arrows, Enter)", x: side.x + 1, y: side.y + 1, style: Style(foreground: .dimGrey), clip: side)
        let size = dataset.imageSize
        ImageTile.make(dataset, image, factor: 2, depth: input.colourDepth, ascii: input.ascii)
            .render(in: Rect(x: side.x + 1, y: side.y + 2, width: side.width - 1, height: size / 4), into: &buffer)
        var y = side.y + 3 + size / 4
        for c in dataset.conditions where y < side.bottom {
            buffer.write("\(c.name): \(c.valueNames[Int(c.labels[image])])", x: side.x + 1, y: y, clip: side)
            y += 1
        }
    }

    /// Up to 6 values spread evenly from the smallest to the largest, for an ordinal legend.
    static func rampLegend(_ count: Int) -> [Int] {
        guard count > 6 else { return Array(0..<count) }
        return (0..<6).map { $0 * (count - 1) / 5 }
    }

    static func mostFrequent(_ labels: [Int], count: Int) -> [Int] {
        var counts: [Int: Int] = [:]
        for label in labels { counts[label, default: 0] += 1 }
        let ranked = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        return ranked.prefix(count).map(\.key)
    }
}
