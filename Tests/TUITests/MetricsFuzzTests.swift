import Basics
import CSN
import Foundation
import Testing
import TestSupport
import TUI

/// metrics.jsonl as another process or a hand edit may leave it, read and drawn as the Monitor
/// view draws it: every mutation gives curves or nothing, never a trap.
@Suite struct MetricsFuzzTests {
    static let valid = """
        {"embedding":0.01,"learning_rate":0.001,"loss":0.3,"mask":0.02,"step":50,"triplet":0.27}
        {"step":100,"validation":[0.8,0.7],"validation_mean":0.75}
        {"embedding":0.02,"learning_rate":0.0009,"loss":0.2,"mask":0.01,"step":100,"triplet":0.17}
        {"step":200,"validation":[0.9,null],"validation_mean":0.9}

        """

    func draw(_ directory: String, conditions: Int) -> CellBuffer {
        let (loss, validation) = Checkpoint.readMetrics(from: directory, conditionCount: conditions)
        var buffer = CellBuffer(width: 80, height: 24)
        let curves = [LineChart.Series(name: "triplet", colour: .red, points: loss.map { (Double($0.step), Double($0.triplet)) })]
        let accuracy = (0..<conditions).map { c in
            LineChart.Series(name: "c\(c)", colour: .green, points: validation.map { (Double($0.step), $0.accuracies[c]) })
        }
        for logScale in [false, true] {
            LineChart(series: curves, logScale: logScale).render(in: Rect(x: 0, y: 0, width: 80, height: 12), into: &buffer)
        }
        LineChart(series: accuracy, yRange: 0.5...1).render(in: Rect(x: 0, y: 12, width: 80, height: 12), into: &buffer)
        LineChart(series: curves).render(in: Rect(x: 0, y: 0, width: 1, height: 1), into: &buffer)
        return buffer
    }

    @Test func mutatedMetricsAreReadAndDrawn() throws {
        let folder = TestSupport.temporaryDirectory()
        let outcome = Fuzz.run("metrics.jsonl", inputs: [Array(Self.valid.utf8), Array(Self.valid.replacingOccurrences(of: "\n", with: "\r\n").utf8)],
                               seed: 21) { bytes in
            try AtomicFile.write(bytes, to: folder + "/" + Checkpoint.metricsFile)
            _ = draw(folder, conditions: 2)
        }
        #expect(outcome.accepted == Fuzz.cases + 2, "\(outcome)")
    }

    @Test func extremeValuesAndShortRowsAreDrawnWithoutATrap() throws {
        let folder = TestSupport.temporaryDirectory()
        let text = """
            {"step":10,"triplet":1e300,"embedding":-1e300,"mask":1e-320}
            {"step":20,"triplet":0.5,"embedding":1e38,"mask":0}
            {"step":30,"triplet":-3e38,"embedding":"x","mask":null}
            {"step":40,"validation":[0.9]}
            {"step":50,"validation":[1e300, -5, 0.8, 0.7, 0.6]}
            """
        try AtomicFile.write(text, to: folder + "/" + Checkpoint.metricsFile)
        let (loss, validation) = Checkpoint.readMetrics(from: folder, conditionCount: 3)
        #expect(loss.map(\.step) == [20, 30], "1e300 is beyond Float: that point is dropped")
        #expect(validation.map(\.accuracies.count) == [3, 3])
        #expect(validation[1].accuracies[2] == 0.8 && validation[1].accuracies[0].isNaN && validation[0].accuracies[1].isNaN)
        let buffer = draw(folder, conditions: 3)
        #expect(buffer.lines.joined().contains("triplet"))
    }

    @Test func aMissingFinalNewlineIsRepairedBeforeTheNextRecord() throws {
        let folder = TestSupport.temporaryDirectory()
        try AtomicFile.write("{\"step\":1,\"triplet\":0.5}", to: folder + "/" + Checkpoint.metricsFile)
        try Checkpoint.appendMetrics(["step": 2, "triplet": 0.4, "validation_mean": Double.nan], to: folder)
        let lines = try String(contentsOfFile: folder + "/" + Checkpoint.metricsFile, encoding: .utf8).split(separator: "\n")
        #expect(lines == ["{\"step\":1,\"triplet\":0.5}", "{\"step\":2,\"triplet\":0.4,\"validation_mean\":null}"])
    }
}
