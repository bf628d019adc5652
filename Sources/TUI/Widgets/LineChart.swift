import Foundation

/// Curves drawn with braille dots (2 x 4 per cell) between y-axis labels on the left and x-axis
/// labels below, with a legend on the top row. Points are joined by straight dot lines. With
/// `logScale` the y axis is log10 (non-positive values are skipped). With too little room
/// (under 12 x 4 cells) it draws nothing.
public struct LineChart: Widget {
    public struct Series: Sendable {
        public var name: String
        public var colour: Colour
        public var points: [(x: Double, y: Double)]
        public init(name: String, colour: Colour, points: [(x: Double, y: Double)]) {
            self.name = name
            self.colour = colour
            self.points = points
        }
    }

    public var series: [Series]
    public var logScale = false
    /// Fixed y range (e.g. 0...1 for accuracies); nil fits the data.
    public var yRange: ClosedRange<Double>?
    /// Without braille: a cell shows ".", ":" or "*" by how many of its dots are set.
    public var ascii = false
    /// Drawn on the top row instead of the legend (charts whose legend is shown once elsewhere).
    public var title: String? = nil

    public init(series: [Series], logScale: Bool = false, yRange: ClosedRange<Double>? = nil, ascii: Bool = false) {
        self.series = series
        self.logScale = logScale
        self.yRange = yRange
        self.ascii = ascii
    }

    /// The character of a cell whose braille dots are `bits` (U+2800 + bits, or an ASCII stand-in).
    public static func dotCharacter(_ bits: UInt32, ascii: Bool) -> Character {
        guard ascii else { return Character(UnicodeScalar(0x2800 + bits)!) }
        let count = bits.nonzeroBitCount
        return count <= 1 ? "." : (count <= 3 ? ":" : "*")
    }

    public static func format(_ value: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 10000 || magnitude < 0.001 { return String(format: "%.1e", value) }
        if magnitude >= 100 { return String(format: "%.0f", value) }
        return String(format: magnitude >= 10 ? "%.1f" : "%.3f", value)
    }

    public func render(in area: Rect, into buffer: inout CellBuffer) {
        guard area.width >= 12, area.height >= 4 else { return }
        // Non-finite values (a diverged loss, a hand-edited metrics file) are gaps, not points.
        let transform: (Double) -> Double? = logScale ? { $0 > 0 && $0.isFinite ? log10($0) : nil } : { $0.isFinite ? $0 : nil }
        let all = series.flatMap(\.points).filter { $0.x.isFinite }
        guard let minX = all.map(\.x).min(), let maxX = all.map(\.x).max() else { return }
        let ys = all.compactMap { transform($0.y) }
        guard var low = ys.min(), var high = ys.max() else { return }
        if let yRange, let a = transform(yRange.lowerBound), let b = transform(yRange.upperBound) { low = a; high = b }
        if !(high / 2 - low / 2 >= 1e-12) { high = low + 1 }
        let untransform: (Double) -> Double = logScale ? { pow(10, $0) } : { $0 }

        // Legend on the first row, y labels on the left, x labels on the last row.
        var x = area.x
        if let title {
            buffer.write(title, x: x, y: area.y, style: Style(bold: true), clip: area)
        } else {
            for s in series {
                x = buffer.write(ascii ? "* " : "● ", x: x, y: area.y, style: Style(foreground: s.colour), clip: area)
                x = buffer.write(s.name + "  ", x: x, y: area.y, clip: area)
            }
        }
        let labels = [untransform(high), untransform((high + low) / 2), untransform(low)].map(Self.format)
        let labelWidth = labels.map(\.count).max()!
        let plot = Rect(x: area.x + labelWidth + 1, y: area.y + 1, width: area.width - labelWidth - 1, height: area.height - 2)
        let axis = Style(foreground: .dimGrey)
        for (i, label) in labels.enumerated() {
            let row = plot.y + (i == 0 ? 0 : (i == 1 ? plot.height / 2 : plot.height - 1))
            buffer.write(String(repeating: " ", count: labelWidth - label.count) + label, x: area.x, y: row, style: axis, clip: area)
        }
        for row in plot.y..<plot.bottom { buffer.set(plot.x - 1, row, ascii ? "|" : "│", axis) }
        let bottom = area.bottom - 1
        buffer.write(Self.format(minX), x: plot.x, y: bottom, style: axis, clip: area)
        let maxLabel = Self.format(maxX)
        buffer.write(maxLabel, x: plot.right - maxLabel.count, y: bottom, style: axis, clip: area)

        // Dots: columns 2 per cell, rows 4 per cell, y upwards.
        let dotsWide = 2 * plot.width, dotsHigh = 4 * plot.height
        var bits = [UInt32](repeating: 0, count: plot.area)
        var colours = [Colour](repeating: .default, count: plot.area)
        func dot(_ dx: Int, _ dy: Int, _ colour: Colour) {
            guard dx >= 0, dx < dotsWide, dy >= 0, dy < dotsHigh else { return }
            let cell = (dy / 4) * plot.width + dx / 2, row = dy % 4, column = dx % 2
            // Braille's dot bits: rows 0-2 are bits 0-2 (left column) and 3-5 (right), row 3 bits
            // 6 and 7. (A table literal here was rebuilt for every dot: half a frame's time.)
            bits[cell] |= row == 3 ? UInt32(0x40) << UInt32(column) : UInt32(1) << UInt32(row + 3 * column)
            colours[cell] = colour
        }
        for s in series {
            var previous: (Int, Int)? = nil
            for point in s.points {
                guard let ty = transform(point.y), let fx = spanFraction(point.x, from: minX, to: maxX),
                      let fy = spanFraction(ty, from: low, to: high) else { previous = nil; continue }
                let dx = Int((fx * Double(dotsWide - 1)).rounded())
                let dy = Int(((1 - fy) * Double(dotsHigh - 1)).rounded())
                if let (px, py) = previous {
                    // A straight line of dots from the previous point.
                    let steps = max(abs(dx - px), abs(dy - py), 1)
                    for t in 0...steps { dot(px + (dx - px) * t / steps, py + (dy - py) * t / steps, s.colour) }
                } else {
                    dot(dx, dy, s.colour)
                }
                previous = (dx, dy)
            }
        }
        for cell in 0..<plot.area where bits[cell] != 0 {
            buffer.set(plot.x + cell % plot.width, plot.y + cell / plot.width,
                       Self.dotCharacter(bits[cell], ascii: ascii), Style(foreground: colours[cell]))
        }
    }
}
