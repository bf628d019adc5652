/// A matrix as terminal text, one character cell per value: on a terminal a grey-ramp background,
/// otherwise the ASCII ramp of GlyphArt. Values are scaled by the matrix maximum.
enum Heatmap {
    static func lines(_ values: [Float], rows: Int, columns: Int, labels: [String], style: GlyphArt.Style) -> [String] {
        let maximum = max(values.max() ?? 0, 1e-12)
        let labelWidth = labels.map(\.count).max() ?? 0
        return (0..<rows).map { r in
            var line = labels[r].padding(toLength: labelWidth, withPad: " ", startingAt: 0) + " |"
            for c in 0..<columns {
                let level = max(0, min(1, values[r * columns + c] / maximum))
                switch style {
                case .plain: line.append(GlyphArt.plainRamp[Int(level * 9)])
                case .color: line += "\u{1B}[48;5;\(232 + Int(level * 23))m \u{1B}[0m"
                }
            }
            return line + "|"
        }
    }
}
