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
    /// What ends a line of text cut at the edge of its area: "…", or "~" for ASCII frames.
    public var ellipsis: Character = "…"

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

    /// Writes `text` from (x, y) rightwards, clipped to `clip` (default: the whole buffer). Text
    /// that does not fit ends in `ellipsis` in the last column, so a cut never passes for a word.
    /// Returns the column after the last character written.
    @discardableResult
    public mutating func write(_ text: String, x: Int, y: Int, style: Style = .plain, clip: Rect? = nil) -> Int {
        let area = (clip ?? bounds).intersection(bounds)
        guard y >= area.y, y < area.bottom else { return x }
        var column = x
        var characters = text.makeIterator()
        while let character = characters.next() {
            if column >= area.right { break }
            // The last column of the area, with more to come (other than trailing spaces): an ellipsis.
            let cut = column == area.right - 1 && column > area.x && !Self.onlySpaces(characters)
            if column >= area.x { self[column, y] = Cell(cut ? ellipsis : character, style: style) }
            if cut { return column + 1 }
            column += 1
        }
        return column
    }

    private static func onlySpaces(_ rest: String.Iterator) -> Bool {
        var rest = rest
        while let character = rest.next() { if character != " " { return false } }
        return true
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
