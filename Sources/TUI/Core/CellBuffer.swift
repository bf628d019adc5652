/// One terminal cell: a character and its style.
public struct Cell: Equatable, Sendable {
    public var character: Character
    public var style: Style

    public init(_ character: Character = " ", style: Style = .plain) {
        self.character = character
        self.style = style
    }
}

/// An in-memory screen: widgets draw into it, the screen layer diffs it into the terminal, and
/// tests compare its text with expected lines. Writes outside the buffer are ignored.
public struct CellBuffer: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Cell(), count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            cells[y * width + x] = newValue
        }
    }

    public mutating func set(_ x: Int, _ y: Int, _ character: Character, _ style: Style = .plain) {
        self[x, y] = Cell(character, style: style)
    }

    /// Writes `text` from (x, y) rightwards, clipped to `clip` (default: the whole buffer).
    /// Returns the column after the last character written.
    @discardableResult
    public mutating func write(_ text: String, x: Int, y: Int, style: Style = .plain, clip: Rect? = nil) -> Int {
        let area = (clip ?? bounds).intersection(bounds)
        guard y >= area.y, y < area.bottom else { return x }
        var column = x
        for character in text {
            if column >= area.right { break }
            if column >= area.x { self[column, y] = Cell(character, style: style) }
            column += 1
        }
        return column
    }

    public mutating func fill(_ rect: Rect, _ character: Character = " ", style: Style = .plain) {
        let area = rect.intersection(bounds)
        for y in area.y..<area.bottom { for x in area.x..<area.right { self[x, y] = Cell(character, style: style) } }
    }

    /// The characters, one string per row: what tests compare.
    public var lines: [String] {
        (0..<height).map { y in String((0..<width).map { cells[y * width + $0].character }) }
    }
}

/// Something that draws itself into a rectangle of a cell buffer and nothing else: it never
/// touches the terminal, and with too little room it draws less, never out of its rectangle.
public protocol Widget {
    func render(in area: Rect, into buffer: inout CellBuffer)
}
