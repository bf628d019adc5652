import CSNApp
import Datasets
import TUI

/// Dataset images for the terminal, drawn as the UI draws them (ImageTile): half blocks in colour
/// or on the grey ramp on a terminal, the ASCII ramp " .:-=+*#%@" otherwise (pipes, logs, README
/// captures).
enum GlyphArt {
    /// Images side by side in rows that fit `width` columns, each with a caption underneath.
    static func grid(_ images: [(caption: String, image: HalfBlockImage)], width: Int, colour: Bool) -> String {
        let size = images.first?.image.width ?? 0
        let cellWidth = size + 1, glyphRows = (size + 1) / 2
        let perRow = max(1, (width + 1) / cellWidth)
        let rows = (images.count + perRow - 1) / perRow
        var buffer = CellBuffer(width: min(width, perRow * cellWidth), height: rows * (glyphRows + 1))
        for (i, image) in images.enumerated() {
            let x = (i % perRow) * cellWidth, y = (i / perRow) * (glyphRows + 1)
            image.image.render(in: Rect(x: x, y: y, width: size, height: glyphRows), into: &buffer)
            buffer.write(String(image.caption.prefix(size)), x: x, y: y + glyphRows)
        }
        return buffer.text(colour: colour)
    }

    /// Image `index` of a dataset, averaged down by `factor`.
    static func tile(_ dataset: ImageDataset, _ index: Int, factor: Int, colour: Bool) -> HalfBlockImage {
        ImageTile.make(dataset, index, factor: factor, depth: .full256, ascii: !colour)
    }
}
