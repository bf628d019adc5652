import Datasets
import TUI

/// A query image and its nearest test images under every condition side by side, with distances
/// (for fonts: under `character` the same letter in other fonts, under `font` other letters of the
/// same font). Neighbours found for another query are never shown for this one.
enum NeighboursView {
    static func render(_ input: FrameInput, in area: Rect, into buffer: inout CellBuffer) {
        let a = input.analysis, dataset = input.dataset, state = input.state
        guard let found = a.neighbours(of: state.query), found.lists.count == dataset.conditions.count else {
            buffer.write("finding the neighbours of \(dataset.imageNames[state.query])... (\(a.status))", x: area.x + 2, y: area.y + 1, clip: area)
            return
        }
        let query = found.query
        let place = state.activeSearch.map { "match \(state.queryPosition + 1) of \(state.queryList.count) for '\($0)'" }
            ?? "test image \(state.queryPosition + 1) of \(state.queryList.count)"
        buffer.write("query \(dataset.imageNames[query]) [\(dataset.splits[query])], \(place); neighbours among the test split  (arrows, n: random, /: search)",
                     x: area.x, y: area.y, style: Style(foreground: .dimGrey), clip: area)
        guard dataset.imageSize >= 8 else {
            textLists(found, dataset, in: Rect(x: area.x, y: area.y + 1, width: area.width, height: area.height - 1), into: &buffer)
            return
        }
        let size = dataset.imageSize
        // Image scale: as large as the rows allow (16 or 8 pixels square per glyph).
        let rowsPerCondition = (area.height - 1) / max(1, dataset.conditions.count)
        let factor = rowsPerCondition >= 9 ? 2 : 4
        let glyph = size / factor, glyphRows = (glyph + 1) / 2
        let labelWidth = (dataset.conditions.map(\.name).max { $0.count < $1.count }?.count ?? 0) + 1
        for (c, condition) in dataset.conditions.enumerated() {
            let y = area.y + 1 + c * rowsPerCondition
            guard y + glyphRows < area.bottom else { break }
            buffer.write(condition.name, x: area.x, y: y, style: Style(bold: true), clip: area)
            var x = area.x + labelWidth
            let images = [(query, Float.nan)] + found.lists[c].map { ($0.index, $0.distance) }
            for (i, (image, distance)) in images.enumerated() {
                guard x + glyph <= area.right else { break }
                ImageTile.make(dataset, image, factor: factor, depth: input.colourDepth, ascii: input.ascii)
                    .render(in: Rect(x: x, y: y, width: glyph, height: glyphRows), into: &buffer)
                let caption = i == 0 ? "query" : String(format: "%.2f", distance)
                buffer.write(caption, x: x, y: y + glyphRows, style: Style(foreground: i == 0 ? .yellow : .dimGrey),
                             clip: Rect(x: x, y: y + glyphRows, width: glyph, height: 1))
                x += glyph + 1
            }
        }
    }

    /// Vectors without pictures: each condition's neighbours as names with their value under
    /// that condition and their distance, in columns side by side.
    static func textLists(_ found: NeighbourResult, _ dataset: ImageDataset, in area: Rect, into buffer: inout CellBuffer) {
        let conditions = dataset.conditions
        let columns = max(1, min(conditions.count, area.width / 24))
        let width = area.width / columns
        let rowsPerBlock = found.lists.map(\.count).max().map { $0 + 2 } ?? 2
        for (c, condition) in conditions.enumerated() {
            let x = area.x + (c % columns) * width, y = area.y + (c / columns) * (rowsPerBlock + 1)
            let box = Rect(x: x, y: y, width: max(1, width - 1), height: rowsPerBlock)
            guard y + 1 < area.bottom else { break }
            func value(_ image: Int) -> String { condition.valueNames[Int(condition.labels[image])] }
            buffer.write("\(condition.name): query is \(value(found.query))", x: x, y: y, style: Style(bold: true), clip: box)
            for (i, neighbour) in found.lists[c].enumerated() {
                let line = String(format: "%.2f ", neighbour.distance) + value(neighbour.index) + "  " + dataset.imageNames[neighbour.index]
                buffer.write(line, x: x, y: y + 1 + i, style: Style(foreground: value(neighbour.index) == value(found.query) ? .green : .default), clip: box)
            }
        }
    }
}
