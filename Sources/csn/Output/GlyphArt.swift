import TUI

/// Greyscale images as terminal text, two pixel rows per character cell.
///
/// `.color` draws the upper half block with the top pixel as foreground and the bottom pixel as
/// background on the 24-step grey ramp of 256-colour terminals; `.plain` averages the two pixels
/// onto a ten-step ASCII ramp, for pipes, logs and README captures.
enum GlyphArt {
    enum Style { case color, plain }

    static let plainRamp: [Character] = Array(" .:-=+*#%@")

    /// Downsamples an S x S image by `factor` (area average).
    static func shrink(_ pixels: ArraySlice<UInt8>, size: Int, factor: Int) -> [UInt8] {
        HalfBlockImage.downsample(pixels, size: size, factor: factor)
    }

    /// The lines of one image (size x size pixels -> size columns x size/2 lines).
    static func lines(_ pixels: [UInt8], size: Int, style: Style) -> [String] {
        var lines: [String] = []
        for row in stride(from: 0, to: size, by: 2) {
            var line = ""
            for x in 0..<size {
                let top = Int(pixels[row * size + x])
                let bottom = row + 1 < size ? Int(pixels[(row + 1) * size + x]) : 0
                switch style {
                case .plain:
                    line.append(plainRamp[min(9, (top + bottom) * 10 / 512)])
                case .color:
                    line += "\u{1B}[38;5;\(232 + top * 23 / 255);48;5;\(232 + bottom * 23 / 255)m\u{2580}"
                }
            }
            if style == .color { line += "\u{1B}[0m" }
            lines.append(line)
        }
        return lines
    }

    /// Images side by side in rows that fit `width` columns, each with a caption underneath.
    static func grid(_ images: [(caption: String, pixels: [UInt8])], size: Int, width: Int, style: Style) -> String {
        let cellWidth = size + 1
        let perRow = max(1, (width + 1) / cellWidth)
        var out = ""
        for start in stride(from: 0, to: images.count, by: perRow) {
            let row = images[start..<min(images.count, start + perRow)]
            let rendered = row.map { lines($0.pixels, size: size, style: style) }
            for line in 0..<rendered[0].count {
                out += rendered.map { $0[line] }.joined(separator: " ") + "\n"
            }
            out += row.map { String($0.caption.prefix(size)).padding(toLength: size, withPad: " ", startingAt: 0) }
                .joined(separator: " ") + "\n"
        }
        return out
    }
}
