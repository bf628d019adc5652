/// A scatter plot in braille characters: each cell holds 2 x 4 dots, so a W x H area shows
/// 2W x 4H points. A cell takes the colour of the label most of its points carry.
enum BrailleScatter {
    /// Dot bit of braille pattern U+2800 for the dot at (column 0-1, row 0-3).
    static let dotBits: [[UInt32]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]

    /// The 256-colour palette used for labels (distinct hues first).
    static let palette = [196, 46, 33, 226, 201, 51, 208, 129, 118, 27, 214, 165, 39, 160, 190, 93]

    static func lines(x: [Float], y: [Float], labels: [Int], width: Int, height: Int, colour: Bool) -> [String] {
        guard width > 0, height > 0, !x.isEmpty else { return [] }
        let minX = x.min()!, maxX = x.max()!, minY = y.min()!, maxY = y.max()!
        let spanX = max(maxX - minX, 1e-12), spanY = max(maxY - minY, 1e-12)
        var bits = [UInt32](repeating: 0, count: width * height)
        var votes = [[Int: Int]](repeating: [:], count: width * height)
        for i in x.indices {
            let dotX = min(2 * width - 1, Int((x[i] - minX) / spanX * Float(2 * width - 1) + 0.5))
            let dotY = min(4 * height - 1, Int((maxY - y[i]) / spanY * Float(4 * height - 1) + 0.5))
            let cell = (dotY / 4) * width + dotX / 2
            bits[cell] |= dotBits[dotY % 4][dotX % 2]
            votes[cell][labels[i], default: 0] += 1
        }
        return (0..<height).map { row in
            var line = ""
            for column in 0..<width {
                let cell = row * width + column
                guard bits[cell] != 0 else { line += " "; continue }
                let glyph = String(UnicodeScalar(0x2800 + bits[cell])!)
                if colour, let label = votes[cell].max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key })?.key {
                    line += "\u{1B}[38;5;\(palette[label % palette.count])m" + glyph + "\u{1B}[0m"
                } else {
                    line += glyph
                }
            }
            return line
        }
    }
}
