/// Colours and text attributes of a cell. Colours are indices of the 256-colour palette (0-15 the
/// terminal's own, 16-231 a 6x6x6 cube, 232-255 greys); the screen layer maps them down for
/// 8-colour and monochrome terminals.
public enum Colour: Equatable, Hashable, Sendable {
    case `default`
    case index(UInt8)

    /// Grey level 0...1 on the 24-step ramp 232-255.
    public static func grey(_ level: Double) -> Colour {
        .index(UInt8(232 + Int((max(0, min(1, level)) * 23).rounded())))
    }

    public static let red = Colour.index(196), green = Colour.index(46), blue = Colour.index(33)
    public static let yellow = Colour.index(226), magenta = Colour.index(201), cyan = Colour.index(51)
    public static let white = Colour.index(255), dimGrey = Colour.index(244)

    /// The nearest of the 8 basic colours to a 256-palette index (for 8-colour terminals): the
    /// terminal's own 16 fold onto 8, greys become black or white, the cube takes each channel's
    /// upper half as on.
    public static func basic(_ index: UInt8) -> UInt8 {
        switch index {
        case 0..<16: return index % 8
        case 232...255: return Int(index) - 232 < 12 ? 0 : 7
        default:
            let cube = Int(index) - 16
            let bit = { (v: Int) in v >= 3 ? 1 : 0 }
            return UInt8(bit(cube / 36) | bit(cube / 6 % 6) << 1 | bit(cube % 6) << 2)
        }
    }

    /// The palette colour nearest to an RGB pixel: the grey ramp for near-greys, else the 6x6x6 cube.
    public static func nearest(red: UInt8, green: UInt8, blue: UInt8) -> Colour {
        let r = Int(red), g = Int(green), b = Int(blue)
        if max(r, g, b) - min(r, g, b) < 16 { return grey(Double(r + g + b) / 765) }
        let level = { (v: Int) in v < 48 ? 0 : min(5, (v - 35) / 40) }
        return .index(UInt8(16 + 36 * level(r) + 6 * level(g) + level(b)))
    }

    /// Ramps for ordinal values: `ramp(t)` for t in 0...1 runs blue, cyan, green, yellow, red.
    public static func ramp(_ t: Double) -> Colour {
        let stops: [UInt8] = [21, 33, 45, 51, 49, 46, 118, 226, 214, 208, 202, 196]
        let position = max(0, min(1, t.isFinite ? t : 0)) * Double(stops.count - 1)
        return .index(stops[Int(position.rounded())])
    }

    /// Distinct colours for labels and series, in order.
    public static let categorical: [Colour] = [196, 46, 33, 226, 201, 51, 208, 129, 118, 27, 214, 165, 39, 160, 190, 93].map { .index($0) }
}

public struct Style: Equatable, Hashable, Sendable {
    public var foreground: Colour = .default
    public var background: Colour = .default
    public var bold = false
    public var reverse = false
    public var dim = false

    public init(foreground: Colour = .default, background: Colour = .default, bold: Bool = false, reverse: Bool = false, dim: Bool = false) {
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.reverse = reverse
        self.dim = dim
    }

    public static let plain = Style()
}
