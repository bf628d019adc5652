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

    /// The data's bounding box, taken once per frame.
    struct Bounds {
        let minX: Float, maxX: Float, minY: Float, maxY: Float
    }

    /// The bounding box of the finite points (nil when there are none: a diverged map draws nothing).
    var bounds: Bounds? {
        let finite = x.indices.filter { x[$0].isFinite && y[$0].isFinite }
        guard let minX = finite.map({ x[$0] }).min(), let maxX = finite.map({ x[$0] }).max(),
              let minY = finite.map({ y[$0] }).min(), let maxY = finite.map({ y[$0] }).max() else { return nil }
        return Bounds(minX: minX, maxX: maxX, minY: minY, maxY: maxY)
    }

    /// The cell of point i in `area`, with `across` x `down` sub-cells per cell (2 x 4 for braille);
    /// nil for a point that is not finite.
    func position(_ i: Int, in area: Rect, bounds b: Bounds, across: Int, down: Int) -> (Int, Int)? {
        guard let fx = spanFraction(x[i], from: b.minX, to: b.maxX), let fy = spanFraction(y[i], from: b.minY, to: b.maxY) else { return nil }
        return (Int(fx * Float(area.width * across - 1) + 0.5), Int((1 - fy) * Float(area.height * down - 1) + 0.5))
    }

    /// Braille dot bits by sub-cell row (0...3) and column (0...1).
    private static let dotBits: [UInt32] = [0x01, 0x08, 0x02, 0x10, 0x04, 0x20, 0x40, 0x80]

    public func render(in area: Rect, into buffer: inout CellBuffer) {
        guard !area.isEmpty, !x.isEmpty, x.count == y.count, x.count == colours.count, let b = bounds else { return }
        if let glyphs {
            for i in x.indices {
                guard i < glyphs.count, let (cx, cy) = position(i, in: area, bounds: b, across: 1, down: 1) else { continue }
                buffer.set(area.x + cx, area.y + cy, glyphs[i], Style(foreground: colours[i]))
            }
        } else {
            // Each cell takes the colour most of its points carry: count per cell and colour.
            var palette: [Colour] = []
            var paletteIndex: [Colour: Int] = [:]
            let colourIndex = colours.map { colour in
                if let known = paletteIndex[colour] { return known }
                paletteIndex[colour] = palette.count
                palette.append(colour)
                return palette.count - 1
            }
            var bits = [UInt32](repeating: 0, count: area.area)
            var votes = [Int32](repeating: 0, count: area.area * palette.count)
            for i in x.indices {
                guard let (dx, dy) = position(i, in: area, bounds: b, across: 2, down: 4) else { continue }
                let cell = (dy / 4) * area.width + dx / 2
                bits[cell] |= Self.dotBits[(dy % 4) * 2 + dx % 2]
                votes[cell * palette.count + colourIndex[i]] += 1
            }
            for cell in 0..<area.area where bits[cell] != 0 {
                var best = 0
                for c in 1..<palette.count where votes[cell * palette.count + c] > votes[cell * palette.count + best] { best = c }
                buffer.set(area.x + cell % area.width, area.y + cell / area.width, LineChart.dotCharacter(bits[cell], ascii: ascii),
                           Style(foreground: palette[best]))
            }
        }
        if let cursor, cursor >= 0, cursor < x.count, let (cx, cy) = position(cursor, in: area, bounds: b, across: 1, down: 1) {
            let existing = buffer[min(area.x + cx, buffer.width - 1), min(area.y + cy, buffer.height - 1)]
            buffer.set(area.x + cx, area.y + cy, existing.character == " " ? "+" : existing.character, Style(bold: true, reverse: true))
        }
    }
}
