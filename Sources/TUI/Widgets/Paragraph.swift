/// Lines of text, each with a style, clipped to the area (no wrapping).
public struct Paragraph: Widget {
    public var lines: [(text: String, style: Style)]

    public init(_ lines: [(text: String, style: Style)]) { self.lines = lines }
    public init(_ text: String, style: Style = .plain) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { (String($0), style) }
    }

    public func render(in area: Rect, into buffer: inout CellBuffer) {
        for (row, line) in lines.prefix(area.height).enumerated() {
            buffer.write(line.text, x: area.x, y: area.y + row, style: line.style, clip: area)
        }
    }
}

/// A one-line progress bar with a label centred on it: "████████▌     42%".
public struct Gauge: Widget {
    public var ratio: Double
    public var label: String
    public var style: Style
    /// "#" cells instead of eighth blocks.
    public var ascii = false

    public init(ratio: Double, label: String? = nil, style: Style = Style(foreground: .green), ascii: Bool = false) {
        self.ratio = max(0, min(1, ratio.isFinite ? ratio : 0))
        self.label = label ?? "\(Int((self.ratio * 100).rounded()))%"
        self.style = style
        self.ascii = ascii
    }

    static let eighths: [Character] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"]

    public func render(in area: Rect, into buffer: inout CellBuffer) {
        guard !area.isEmpty else { return }
        let filled = ratio * Double(area.width)
        let y = area.y + area.height / 2
        for column in 0..<area.width {
            let share = max(0, min(1, filled - Double(column)))
            let eighth = Int((share * 8).rounded(.down))
            buffer.set(area.x + column, y, ascii ? (eighth == 8 ? "#" : " ") : Self.eighths[eighth], style)
        }
        let start = area.x + max(0, (area.width - label.count) / 2)
        buffer.write(label, x: start, y: y, style: Style(bold: true), clip: area)
    }
}

/// Tab titles in a row; the selected one reversed: " 1 Monitor │ 2 Masks │ ...".
public struct Tabs: Widget {
    public var titles: [String]
    public var selected: Int
    public var ascii = false

    public init(titles: [String], selected: Int, ascii: Bool = false) {
        self.titles = titles
        self.selected = selected
        self.ascii = ascii
    }

    public func render(in area: Rect, into buffer: inout CellBuffer) {
        guard !area.isEmpty else { return }
        var x = area.x
        for (i, title) in titles.enumerated() {
            if i > 0 { x = buffer.write(ascii ? "|" : "│", x: x, y: area.y, style: Style(foreground: .dimGrey), clip: area) }
            x = buffer.write(" \(title) ", x: x, y: area.y, style: i == selected ? Style(bold: true, reverse: true) : .plain, clip: area)
        }
    }
}
