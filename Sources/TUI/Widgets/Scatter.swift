/// Points in a rectangle: braille dots coloured by label (a cell takes the colour most of its
/// points carry), or one character per point (`glyphs`, e.g. the letters themselves). `cursor`
/// marks one point with a reverse-video cell.
public struct Scatter: Widget {
    public var x: [Float], y: [Float]
    public var colours: [Colour]
    public var glyphs: [Character]?
    public var cursor: Int?
    public var ascii = false

    public init(x: [Float], y: [Float], colours: [Colour], glyphs: [Character]? = nil, cursor: Int? = nil, ascii: Bool = false) {
        self.ascii = ascii
        self.x = x
        self.y = y
        self.colours = colours
        self.glyphs = glyphs
        self.cursor = cursor
    }

    /// The cell of point i in `area`, with `scale` sub-cells across and down (2 x 4 for braille).
    func position(_ i: Int, in area: Rect, across: Int, down: Int) -> (Int, Int) {
        let minX = x.min()!, maxX = x.max()!, minY = y.min()!, maxY = y.max()!
        let dx = Int((x[i] - minX) / max(maxX - minX, 1e-12) * Float(area.width * across - 1) + 0.5)
        let dy = Int((maxY - y[i]) / max(maxY - minY, 1e-12) * Float(area.height * down - 1) + 0.5)
        return (dx, dy)
    }

    public func render(in area: Rect, into buffer: inout CellBuffer) {
        guard !area.isEmpty, !x.isEmpty else { return }
        if let glyphs {
            for i in x.indices {
                let (cx, cy) = position(i, in: area, across: 1, down: 1)
                buffer.set(area.x + cx, area.y + cy, glyphs[i], Style(foreground: colours[i]))
            }
        } else {
            var bits = [UInt32](repeating: 0, count: area.area)
            var votes = [[Colour: Int]](repeating: [:], count: area.area)
            for i in x.indices {
                let (dx, dy) = position(i, in: area, across: 2, down: 4)
                let cell = (dy / 4) * area.width + dx / 2
                bits[cell] |= [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]][dy % 4][dx % 2]
                votes[cell][colours[i], default: 0] += 1
            }
            for cell in 0..<area.area where bits[cell] != 0 {
                let colour = votes[cell].max { $0.value < $1.value }!.key
                buffer.set(area.x + cell % area.width, area.y + cell / area.width, LineChart.dotCharacter(bits[cell], ascii: ascii),
                           Style(foreground: colour))
            }
        }
        if let cursor, cursor >= 0, cursor < x.count {
            let (cx, cy) = position(cursor, in: area, across: 1, down: 1)
            let existing = buffer[min(area.x + cx, buffer.width - 1), min(area.y + cy, buffer.height - 1)]
            buffer.set(area.x + cx, area.y + cy, existing.character == " " ? "+" : existing.character, Style(bold: true, reverse: true))
        }
    }
}
