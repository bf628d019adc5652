import Testing
import TUI

/// Widgets against text snapshots in small buffers, tiny areas included.
@Suite struct LayoutTests {
    @Test func splitsTileTheRectangle() {
        let area = Rect(x: 2, y: 1, width: 20, height: 10)
        let parts = area.split(.vertical, [.length(1), .fill, .percentage(30)])
        #expect(parts == [Rect(x: 2, y: 1, width: 20, height: 1), Rect(x: 2, y: 2, width: 20, height: 6), Rect(x: 2, y: 8, width: 20, height: 3)])
        let columns = area.split(.horizontal, [.fill, .fill, .fill])
        #expect(columns.map(\.width) == [7, 7, 6] && columns[2].right == area.right)
        // No room: later parts get nothing, nothing overlaps.
        let tight = Rect(x: 0, y: 0, width: 5, height: 1).split(.horizontal, [.length(4), .length(4), .fill])
        #expect(tight.map(\.width) == [4, 1, 0])
        #expect(Rect(x: 0, y: 0, width: 3, height: 3).inset(by: 2) == Rect(x: 2, y: 2, width: 0, height: 0))
    }
}

@Suite struct WidgetTests {
    func render(_ widget: Widget, width: Int, height: Int) -> [String] {
        var buffer = CellBuffer(width: width, height: height)
        widget.render(in: buffer.bounds, into: &buffer)
        return buffer.lines
    }

    @Test func paragraphClips() {
        #expect(render(Paragraph("hello world\nsecond\nthird"), width: 8, height: 2) == ["hello w…", "second  "], "a cut line ends in an ellipsis")
        #expect(render(Paragraph("hello   \nsecond"), width: 6, height: 1) == ["hello "], "trailing spaces are no cut")
        #expect(render(Paragraph("hello world"), width: 6, height: 1) == ["hello…"], "a cut at a space is still a cut")
        #expect(render(Paragraph("x"), width: 0, height: 0) == [])
        #expect(render(Paragraph("xyz"), width: 1, height: 1) == ["x"])
    }

    @Test func gaugeFillsByEighthsWithACentredLabel() {
        #expect(render(Gauge(ratio: 0.5, label: "50%"), width: 10, height: 1) == ["███50%    "])
        #expect(render(Gauge(ratio: 0.55, label: ""), width: 10, height: 1) == ["█████▌    "])
        #expect(render(Gauge(ratio: 2), width: 1, height: 1) == ["1"])
        #expect(render(Gauge(ratio: .nan), width: 0, height: 0) == [])
    }

    @Test func tabsMarkTheSelectedOne() {
        var buffer = CellBuffer(width: 24, height: 1)
        Tabs(titles: ["1 Monitor", "2 Masks"], selected: 1).render(in: buffer.bounds, into: &buffer)
        #expect(buffer.lines == [" 1 Monitor │ 2 Masks    "])
        #expect(buffer[14, 0].style.reverse && !buffer[2, 0].style.reverse)
        #expect(render(Tabs(titles: ["a"], selected: 0), width: 1, height: 1) == [" "])
    }

    @Test func halfBlockImageTwoPixelRowsPerCell() {
        // 2x4 image: rows 0,1 -> first line; rows 2,3 -> second line.
        let pixels: [UInt8] = [255, 0, 0, 255, 255, 255, 0, 0]
        var buffer = CellBuffer(width: 3, height: 3)
        HalfBlockImage(pixels: pixels, width: 2, height: 4).render(in: buffer.bounds, into: &buffer)
        #expect(buffer.lines == ["▀▀ ", "▀▀ ", "   "])
        #expect(buffer[0, 0].style.foreground == .index(255) && buffer[0, 0].style.background == .index(232))
        #expect(buffer[1, 1].style.foreground == .index(255) && buffer[1, 1].style.background == .index(232))
        #expect(render(HalfBlockImage(pixels: pixels, width: 2, height: 4, ascii: true), width: 2, height: 2) == ["==", "=="])
        #expect(render(HalfBlockImage(pixels: pixels, width: 2, height: 4), width: 0, height: 0) == [])
    }

    @Test func heatmapShadesAndMarksTheCursor() {
        let map = HeatmapView(values: [0, 1, 2, 4], rows: 2, columns: 2, rowLabels: ["ab", "c"], highlight: (1, 0), ascii: true)
        #expect(render(map, width: 6, height: 2) == ["ab  : ", "c  =@ "])
        var cursor = CellBuffer(width: 6, height: 2)
        map.render(in: cursor.bounds, into: &cursor)
        #expect(cursor[3, 1].style.reverse && !cursor[4, 1].style.reverse)
        var buffer = CellBuffer(width: 5, height: 2)
        HeatmapView(values: [0, 1, 2, 4], rows: 2, columns: 2, rowLabels: ["ab", "c"]).render(in: buffer.bounds, into: &buffer)
        #expect(buffer[4, 1].style.background == .index(255) && buffer[3, 0].style.background == .index(232))
        #expect(render(map, width: 1, height: 1) == [" "], "no room for a label")
    }

    @Test func lineChartDrawsAxesLegendAndCurve() {
        let chart = LineChart(series: [.init(name: "loss", colour: .red, points: [(0, 1), (10, 0)])])
        let lines = render(chart, width: 16, height: 6)
        #expect(lines[0].hasPrefix("● loss"))
        #expect(lines[1].hasPrefix("1.000│") && lines[4].hasPrefix("    0│") && lines[5] == "      0     10.0" && lines[3].hasPrefix("0.500│"))
        // A falling line: its first dot is in the top-left plot cell, its last in the bottom-right.
        let plotted = lines[1...4].map { Array($0).dropFirst(6) }
        #expect(plotted.first!.first! != " " && plotted.last!.last! != " ")
        #expect(render(chart, width: 11, height: 6).allSatisfy { $0.allSatisfy { $0 == " " } }, "too narrow: nothing")
        #expect(render(LineChart(series: []), width: 20, height: 5).allSatisfy { $0.allSatisfy { $0 == " " } })
    }
}

@Suite struct AsciiTests {
    @Test func asciiChartsUseNoBraille() {
        var buffer = CellBuffer(width: 16, height: 6)
        LineChart(series: [.init(name: "loss", colour: .red, points: [(0, 1), (10, 0)])], ascii: true).render(in: buffer.bounds, into: &buffer)
        let text = buffer.lines.joined()
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII }, "\(buffer.lines)")
        #expect(buffer.lines[0].hasPrefix("* loss") && buffer.lines[1].hasPrefix("1.000|"))
        #expect(LineChart.dotCharacter(0b1, ascii: true) == "." && LineChart.dotCharacter(0b111, ascii: true) == ":" && LineChart.dotCharacter(0xFF, ascii: true) == "*")
    }
}

@Suite struct BufferTextTests {
    @Test func plainAndColouredText() {
        var buffer = CellBuffer(width: 6, height: 2)
        buffer.write("ab", x: 0, y: 0, style: Style(foreground: .red, bold: true))
        buffer.write("c", x: 3, y: 0)
        buffer.set(1, 1, "x", Style(background: .grey(1)))
        #expect(buffer.text(colour: false) == "ab c\n x\n", "trailing blanks trimmed")
        #expect(buffer.text(colour: true) == "\u{1B}[0;1;38;5;196mab\u{1B}[0m c\n \u{1B}[0;48;5;255mx\u{1B}[0m\n")
        #expect(CellBuffer(width: 0, height: 0).text(colour: true) == "")
    }
}
