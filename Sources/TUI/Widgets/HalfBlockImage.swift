/// A greyscale image drawn with upper half blocks: each cell shows two pixel rows, the top as the
/// foreground colour and the bottom as the background, on the 24-step grey ramp. With `ascii`
/// (terminals without UTF-8 or colour) each cell averages its two pixels onto " .:-=+*#%@".
public struct HalfBlockImage: Widget {
    public let pixels: [UInt8]
    public let width: Int
    public let height: Int
    public var ascii: Bool

    public init(pixels: [UInt8], width: Int, height: Int, ascii: Bool = false) {
        precondition(pixels.count == width * height, "an image of \(width)x\(height) needs \(width * height) pixels")
        self.pixels = pixels
        self.width = width
        self.height = height
        self.ascii = ascii
    }

    static let ramp: [Character] = Array(" .:-=+*#%@")

    /// A size x size image averaged over factor x factor blocks into (size / factor)^2 pixels.
    public static func downsample(_ pixels: ArraySlice<UInt8>, size: Int, factor: Int) -> [UInt8] {
        let base = pixels.startIndex, small = size / factor
        var out = [UInt8](repeating: 0, count: small * small)
        for y in 0..<small {
            for x in 0..<small {
                var sum = 0
                for dy in 0..<factor { for dx in 0..<factor { sum += Int(pixels[base + (y * factor + dy) * size + x * factor + dx]) } }
                out[y * small + x] = UInt8(sum / (factor * factor))
            }
        }
        return out
    }

    public func render(in area: Rect, into buffer: inout CellBuffer) {
        let rows = min(area.height, (height + 1) / 2), columns = min(area.width, width)
        for row in 0..<rows {
            for column in 0..<columns {
                let top = Int(pixels[2 * row * width + column])
                let bottom = 2 * row + 1 < height ? Int(pixels[(2 * row + 1) * width + column]) : 0
                if ascii {
                    buffer.set(area.x + column, area.y + row, Self.ramp[min(9, (top + bottom) * 10 / 512)])
                } else {
                    buffer.set(area.x + column, area.y + row, "▀",
                               Style(foreground: .grey(Double(top) / 255), background: .grey(Double(bottom) / 255)))
                }
            }
        }
    }
}

/// A matrix with labelled rows, one cell per value, shaded by value / maximum on the grey ramp
/// (or the ASCII ramp). `highlight` marks one cell (a cursor) in reverse video.
public struct HeatmapView: Widget {
    public var values: [Float]
    public var rows: Int
    public var columns: Int
    public var rowLabels: [String]
    public var highlight: (row: Int, column: Int)?
    public var ascii: Bool

    public init(values: [Float], rows: Int, columns: Int, rowLabels: [String], highlight: (row: Int, column: Int)? = nil, ascii: Bool = false) {
        self.values = values
        self.rows = rows
        self.columns = columns
        self.rowLabels = rowLabels
        self.highlight = highlight
        self.ascii = ascii
    }

    public func render(in area: Rect, into buffer: inout CellBuffer) {
        guard !area.isEmpty else { return }
        let labelWidth = min(rowLabels.map(\.count).max() ?? 0, max(0, area.width - 2))
        let maximum = max(values.max() ?? 0, 1e-12)
        for r in 0..<min(rows, area.height) {
            let label = String(rowLabels[r].prefix(labelWidth)).padding(toLength: labelWidth, withPad: " ", startingAt: 0)
            let x = buffer.write(label + " ", x: area.x, y: area.y + r, clip: area)
            for c in 0..<min(columns, area.right - x) {
                let level = Double(max(0, min(1, values[r * columns + c] / maximum)))
                let isCursor = highlight.map { $0.row == r && $0.column == c } ?? false
                if ascii {
                    buffer.set(x + c, area.y + r, HalfBlockImage.ramp[Int(level * 9)], Style(reverse: isCursor))
                } else {
                    buffer.set(x + c, area.y + r, isCursor ? "◆" : " ",
                               Style(foreground: isCursor ? .red : .default, background: .grey(level)))
                }
            }
        }
    }
}
