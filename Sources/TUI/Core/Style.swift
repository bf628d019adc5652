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
