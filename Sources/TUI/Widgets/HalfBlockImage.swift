/// An image drawn with upper half blocks: each cell shows two pixel rows, the top as the
/// foreground colour and the bottom as the background: grey pixels on the 24-step grey ramp, RGB
/// pixels (`channels` 3, interleaved) on the nearest palette colours. With `ascii` (terminals
/// without UTF-8 or colour) each cell averages its two pixels' brightness onto " .:-=+*#%@".
public struct HalfBlockImage: Widget {
    public let pixels: [UInt8]
    public let width: Int
    public let height: Int
    public let channels: Int
    public var ascii: Bool

    /// `pixels` holds width x height x channels bytes; an image of another size draws nothing.
    public init(pixels: [UInt8], width: Int, height: Int, channels: Int = 1, ascii: Bool = false) {
        self.pixels = pixels
        self.width = width
        self.height = height
        self.channels = channels
        self.ascii = ascii
    }

    static let ramp: [Character] = Array(" .:-=+*#%@")

    /// A size x size image (interleaved `channels`) averaged over factor x factor blocks.
    public static func downsample(_ pixels: ArraySlice<UInt8>, size: Int, factor: Int, channels: Int = 1) -> [UInt8] {
        let base = pixels.startIndex, small = size / factor
        var out = [UInt8](repeating: 0, count: small * small * channels)
        for y in 0..<small {
            for x in 0..<small {
                for c in 0..<channels {
                    var sum = 0
                    for dy in 0..<factor {
                        for dx in 0..<factor { sum += Int(pixels[base + ((y * factor + dy) * size + x * factor + dx) * channels + c]) }
                    }
                    out[(y * small + x) * channels + c] = UInt8(sum / (factor * factor))
                }
            }
        }
        return out
    }

    func colour(_ pixel: Int) -> Colour {
        let p = pixel * channels
        if channels == 3 { return Colour.nearest(red: pixels[p], green: pixels[p + 1], blue: pixels[p + 2]) }
        return .grey(Double(pixels[p]) / 255)
    }

    func brightness(_ pixel: Int) -> Int {
        let p = pixel * channels
        return channels == 3 ? (299 * Int(pixels[p]) + 587 * Int(pixels[p + 1]) + 114 * Int(pixels[p + 2])) / 1000 : Int(pixels[p])
    }

    public func render(in area: Rect, into buffer: inout CellBuffer) {
        guard channels == 1 || channels == 3, width >= 0, height >= 0, pixels.count == width * height * channels else { return }
        let rows = min(area.height, (height + 1) / 2), columns = min(area.width, width)
        for row in 0..<max(0, rows) {
            for column in 0..<max(0, columns) {
                let top = 2 * row * width + column
                let bottom = 2 * row + 1 < height ? (2 * row + 1) * width + column : nil
                if ascii {
                    let level = brightness(top) + (bottom.map(brightness) ?? 0)
                    buffer.set(area.x + column, area.y + row, Self.ramp[min(9, level * 10 / 512)])
                } else {
                    buffer.set(area.x + column, area.y + row, "▀",
                               Style(foreground: colour(top), background: bottom.map(colour) ?? .grey(0)))
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
