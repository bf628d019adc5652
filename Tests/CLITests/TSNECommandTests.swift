import Basics
import Foundation
import Testing
import TestSupport

/// `csn tsne` on vectors from a file and on a checkpoint.
@Suite struct TSNECommandTests {
    /// Two well-separated groups of 40 points in 5-D, as TSV.
    func vectors() -> String {
        var generator = SeededGenerator(seed: 4)
        return (0..<80).map { i in
            (0..<5).map { j in String((j == 0 && i >= 40 ? 20 : 0) + generator.normal()) }.joined(separator: "\t")
        }.joined(separator: "\n") + "\n"
    }

    @Test func inputFileToCSVKeepsTheGroupsApart() throws {
        let folder = TestSupport.temporaryDirectory()
        try AtomicFile.write(vectors(), to: folder + "/v.tsv")
        let result = try TestSupport.runCSN(["tsne", "--input", folder + "/v.tsv", "--perplexity", "10", "--iterations", "300",
                                             "--out", folder + "/map.csv"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("wrote \(folder)/map.csv: 80 points, KL divergence "))
        let rows = try String(contentsOfFile: folder + "/map.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 81 && rows[0] == "x,y")
        let points = rows.dropFirst().map { $0.split(separator: ",").map { Float($0)! } }
        let centre = { (range: Range<Int>) in (0..<2).map { c in range.map { points[$0][c] }.reduce(0, +) / Float(range.count) } }
        let (a, b) = (centre(0..<40), centre(40..<80))
        let gap = ((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1])).squareRoot()
        let spread = (0..<40).map { i in ((points[i][0] - a[0]) * (points[i][0] - a[0]) + (points[i][1] - a[1]) * (points[i][1] - a[1])).squareRoot() }.max()!
        #expect(gap > 2 * spread, "groups \(gap) apart, spread \(spread)")
    }

    @Test func checkpointMapIsDrawnWithALegend() throws {
        let result = try TestSupport.runCSN(["tsne", AnalysisCommandTests.checkpoint, "--condition", "weight",
                                             "--points", "200", "--iterations", "100", "--perplexity", "10"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("124 points (the whole test split; 200 asked for), KL divergence "))
        #expect(lines.dropFirst().dropLast().contains { $0.unicodeScalars.contains { $0.value >= 0x2801 && $0.value <= 0x28FF } })
        #expect(lines.last!.hasPrefix("colour by weight: 0: "))
    }

    @Test func badInputIsNamed() throws {
        let folder = TestSupport.temporaryDirectory()
        try AtomicFile.write("1 2 3\n4 5\n", to: folder + "/ragged.tsv")
        try AtomicFile.write("1 2\n3 x\n", to: folder + "/word.tsv")
        try AtomicFile.write((0..<10).map { "\($0) 1" }.joined(separator: "\n"), to: folder + "/few.tsv")
        let cases: [([String], String)] = [
            (["tsne", "--input", folder + "/ragged.tsv"], "Error: \(folder)/ragged.tsv:2: has 2 values, but the first vector has 3"),
            (["tsne", "--input", folder + "/word.tsv"], "Error: \(folder)/word.tsv:2: 'x' is not a finite number"),
            (["tsne", "--input", folder + "/few.tsv"], "Error: perplexity 30.0 is too large for 10 points"),
            (["tsne", "--input", folder + "/absent.tsv"], "Error: \(folder)/absent.tsv: no such file"),
            (["tsne"], "Error: give a checkpoint folder or --input FILE, not both or neither"),
            (["tsne", AnalysisCommandTests.checkpoint], "Error: --condition is needed with a checkpoint (or 'none')"),
        ]
        for (arguments, expected) in cases {
            let result = try TestSupport.runCSN(arguments)
            #expect(result.status != 0, "\(arguments) exited 0")
            #expect(result.stderr.hasPrefix(expected), "\(arguments): \(result.stderr)")
        }
    }
}
