/// A cell buffer as printable text, for commands that draw with widgets outside the full-screen UI.
extension CellBuffer {
    /// One line per row, trailing blanks trimmed. With `colour`, styles become ANSI SGR sequences
    /// (256-colour foreground and background, bold, reverse), reset at the end of every line.
    public func text(colour: Bool) -> String {
        var out = ""
        for y in 0..<height {
            var row = (0..<width).map { self[$0, y] }
            while let last = row.last, last.character == " ", last.style.background == .default, !last.style.reverse { row.removeLast() }
            var current = Style.plain
            for cell in row {
                if colour && cell.style != current {
                    out += Self.sgr(cell.style)
                    current = cell.style
                }
                out.append(cell.character)
            }
            if colour && current != .plain { out += "\u{1B}[0m" }
            out += "\n"
        }
        return out
    }

    static func sgr(_ style: Style) -> String {
        var codes = ["0"]
        if style.bold { codes.append("1") }
        if style.dim { codes.append("2") }
        if style.reverse { codes.append("7") }
        if case .index(let i) = style.foreground { codes.append("38;5;\(i)") }
        if case .index(let i) = style.background { codes.append("48;5;\(i)") }
        return "\u{1B}[" + codes.joined(separator: ";") + "m"
    }
}
