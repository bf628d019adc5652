import Datasets
import TUI

/// Greyscale glyphs for the terminal, drawn with the UI's HalfBlockImage widget: half blocks on the
/// grey ramp on a terminal, the ASCII ramp " .:-=+*#%@" otherwise (pipes, logs, README captures).
enum GlyphArt {
    /// Images side by side in rows that fit `width` columns, each with a caption underneath.
    /// `pixels` are `size` x `size`.
    static func grid(_ images: [(caption: String, pixels: [UInt8])], size: Int, width: Int, colour: Bool) -> String {
        let cellWidth = size + 1, glyphRows = (size + 1) / 2
        let perRow = max(1, (width + 1) / cellWidth)
        let rows = (images.count + perRow - 1) / perRow
        var buffer = CellBuffer(width: min(width, perRow * cellWidth), height: rows * (glyphRows + 1))
        for (i, image) in images.enumerated() {
            let x = (i % perRow) * cellWidth, y = (i / perRow) * (glyphRows + 1)
            HalfBlockImage(pixels: image.pixels, width: size, height: size, ascii: !colour)
                .render(in: Rect(x: x, y: y, width: size, height: glyphRows), into: &buffer)
            buffer.write(String(image.caption.prefix(size)), x: x, y: y + glyphRows)
        }
        return buffer.text(colour: colour)
    }

    /// Image `index` of a dataset, averaged down by `factor`.
    static func pixels(_ dataset: ImageDataset, _ index: Int, factor: Int) -> [UInt8] {
        HalfBlockImage.downsample(dataset.greyImage(index), size: dataset.imageSize, factor: factor)
    }
}
