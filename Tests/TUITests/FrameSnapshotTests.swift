import Analysis
import CSN
@testable import CSNApp
import Datasets
import Foundation
import Testing
import TestSupport
import TUI

/// Every view drawn into a cell buffer at 80x24 (ASCII) and 200x60 (Unicode), compared line by
/// line with the text kept in Snapshots/. The inputs are fixed (no worker, no timing), so a change
/// in any view shows up as a diff. CSN_UPDATE_SNAPSHOTS=1 rewrites the files after a deliberate
/// change; review them with git diff.
@Suite struct FrameSnapshotTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots").path

    static func input(view: AppView, help: Bool = false, ascii: Bool) throws -> FrameInput {
        let dataset = try TestSupport.smallDataset()
        var training = TrainingSnapshot(state: .running, model: .csnLearned, conditionNames: dataset.conditions.map(\.name), step: 120,
                                        totalSteps: 400, stepsPerEpoch: 10, trainAccuracy: [0.8, 0.7],
                                        masks: (0..<16).map { Float(($0 * 7) % 5) / 4 }, embeddingDimension: 8)
        training.lossHistory = (1...24).map { .init(step: 5 * $0, triplet: 0.3 / Float($0).squareRoot(), embedding: 0.01, mask: 0.004) }
        training.validationHistory = (1...4).map { .init(step: 30 * $0, accuracies: [0.6 + 0.05 * Double($0), 0.55 + 0.03 * Double($0)]) }
        training.tripletsPerSecond = 512
        training.secondsRemaining = 75
        training.learningRate = 8e-4
        let sample = dataset.imageIndices(in: .test)
        var analysis = AnalysisSnapshot()
        analysis.loadedStep = 100
        analysis.status = "map of step 100"
        analysis.map = MapResult(condition: 0, recompute: 0, weightsStep: 100, weightsMadeAt: 1000,
                                 layout: sample.indices.flatMap { [Float(cos(Double($0))), Float(sin(Double($0) * 1.7))] },
                                 iteration: 750, klDivergence: 0.4321, complete: true)
        let query = Int(sample[0])
        analysis.neighbours = NeighbourResult(query: query, weightsStep: 100, lists: dataset.conditions.indices.map { c in
            sample.dropFirst().prefix(4).enumerated().map { NearestNeighbours.Neighbour(index: Int($1), distance: Float(c + 1) * 0.1 * Float($0 + 1)) }
        })
        var state = AppState()
        state.view = view
        state.showHelp = help
        state.queryList = sample
        return FrameInput(state: state, training: training, analysis: analysis, dataset: dataset, mapSample: sample,
                          highlighted: dataset.conditions.map { _ in nil }, dataName: "small", ascii: ascii, isTraining: true, now: 1012)
    }

    static let cases: [(name: String, view: AppView, help: Bool)] = [
        ("monitor", .monitor, false), ("masks", .masks, false), ("subspaces", .subspaces, false),
        ("neighbours", .neighbours, false), ("help", .monitor, true),
    ]

    @Test(arguments: [(80, 24, true), (100, 30, false), (140, 45, false), (200, 60, false)])
    func everyViewMatchesItsSnapshot(size: (width: Int, height: Int, ascii: Bool)) throws {
        for entry in Self.cases {
            var buffer = CellBuffer(width: size.width, height: size.height)
            FrameView.render(try Self.input(view: entry.view, help: entry.help, ascii: size.ascii), into: &buffer)
            let text = buffer.lines.joined(separator: "\n") + "\n"
            let path = Self.directory + "/\(entry.name)-\(size.width)x\(size.height).txt"
            if ProcessInfo.processInfo.environment["CSN_UPDATE_SNAPSHOTS"] == "1" {
                try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try #require(try? String(contentsOfFile: path, encoding: .utf8), "no snapshot at \(path); run with CSN_UPDATE_SNAPSHOTS=1")
            let seen = text.split(separator: "\n", omittingEmptySubsequences: false), wanted = expected.split(separator: "\n", omittingEmptySubsequences: false)
            if let first = zip(seen, wanted).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset ?? (seen.count != wanted.count ? min(seen.count, wanted.count) : nil) {
                Issue.record("\(entry.name) at \(size.width)x\(size.height) differs from line \(first + 1):\nseen:     \(first < seen.count ? seen[first] : "")\nexpected: \(first < wanted.count ? wanted[first] : "")")
            }
            let allASCII = text.unicodeScalars.allSatisfy { $0.isASCII }
            if size.ascii { #expect(allASCII, "\(entry.name): --ascii draws ASCII only") }
            // No text is cut mid-word without a sign: a line that reaches the last column ends in a
            // space, a frame or chart character, or the ellipsis.
            for (row, line) in buffer.lines.enumerated() {
                guard let last = line.last, last.isLetter, line.count == size.width else { continue }
                let previous = line.dropLast().last ?? " "
                #expect(!previous.isLetter, "\(entry.name) at \(size.width)x\(size.height), row \(row) is cut mid-word: \(line)")
            }
        }
    }

    /// A map made for another condition is not drawn in this one's colours; the view says it is
    /// computing. Neighbours of another query are not shown for this one.
    @Test func resultsAreDrawnOnlyForWhatTheyWereMadeFor() throws {
        var input = try Self.input(view: .subspaces, ascii: true)
        input.state.condition = 1
        var buffer = CellBuffer(width: 80, height: 24)
        FrameView.render(input, into: &buffer)
        #expect(buffer.lines.joined().contains("computing the map of size..."), "\(buffer.lines.joined(separator: "\n"))")
        input.analysis.error = "the map of size cannot be made: perplexity 30.0 is too large for 6 points"
        buffer = CellBuffer(width: 80, height: 24)
        FrameView.render(input, into: &buffer)
        #expect(buffer.lines.joined().contains("the map of size cannot be made"), "errors reach the screen")

        input = try Self.input(view: .neighbours, ascii: true)
        input.state.queryPosition = 1
        buffer = CellBuffer(width: 80, height: 24)
        FrameView.render(input, into: &buffer)
        #expect(buffer.lines.joined().contains("finding the neighbours of img"), "\(buffer.lines.joined(separator: "\n"))")
    }

    /// The help lists only keys that act: no pause or save while exploring; its search example is
    /// written in the data's own conditions.
    @Test func helpFollowsTheModeAndTheData() throws {
        let dataset = try TestSupport.smallDataset()
        let exploring = Action.help(isTraining: false, searchExample: ImageQuery.example(for: dataset))
        #expect(!exploring.contains { $0.keys == "space" || $0.keys == "s" })
        #expect(exploring.contains { $0.keys == "/" && $0.meaning == "search a query: shape:square size:0.8..0.85, #123" }, "\(exploring)")
        #expect(Action.help(isTraining: true, searchExample: "x").contains { $0.keys == "space" })
    }
}

/// The key reducer: every action's effect on the state, at the edges too.
@Suite struct AppStateTests {
    @Test func conditionsAndViewsWrapAround() {
        var state = AppState()
        state.apply(.previousCondition, conditionCount: 3, dimension: 8, mapSampleCount: 10)
        #expect(state.condition == 2)
        state.apply(.nextCondition, conditionCount: 3, dimension: 8, mapSampleCount: 10)
        #expect(state.condition == 0)
        state.apply(.previousView, conditionCount: 3, dimension: 8, mapSampleCount: 10)
        #expect(state.view == .neighbours)
        state.apply(.nextView, conditionCount: 3, dimension: 8, mapSampleCount: 10)
        #expect(state.view == .monitor)
        state.apply(.showView(.masks), conditionCount: 3, dimension: 8, mapSampleCount: 10)
        #expect(state.view == .masks)
    }

    @Test func cursorsStayInsideTheirGrids() {
        var state = AppState()
        state.view = .masks
        state.apply(.move(dx: -1, dy: -1), conditionCount: 3, dimension: 8, mapSampleCount: 10)
        #expect(state.maskCursor == (0, 0))
        for _ in 0..<20 { state.apply(.move(dx: 1, dy: 1), conditionCount: 3, dimension: 8, mapSampleCount: 10) }
        #expect(state.maskCursor == (2, 7))
        state.view = .subspaces
        state.apply(.move(dx: -1, dy: 0), conditionCount: 3, dimension: 8, mapSampleCount: 10)
        #expect(state.mapCursor == 9, "the map cursor wraps")
        state.apply(.move(dx: 0, dy: 1), conditionCount: 3, dimension: 8, mapSampleCount: 10)
        #expect(state.mapCursor == 9, "ten forward from 9 in 10 is 9 again")
        state.view = .neighbours
        state.queryList = [5, 6, 7]
        state.apply(.move(dx: -1, dy: 0), conditionCount: 3, dimension: 8, mapSampleCount: 10)
        #expect(state.query == 7)
        // Empty grids do not trap.
        state.queryList = []
        state.apply(.move(dx: 1, dy: 1), conditionCount: 0, dimension: 0, mapSampleCount: 0)
        state.view = .subspaces
        state.apply(.move(dx: 1, dy: 1), conditionCount: 0, dimension: 0, mapSampleCount: 0)
        state.apply(.nextCondition, conditionCount: 0, dimension: 0, mapSampleCount: 0)
        #expect(state.query == 0 && state.condition == 0)
    }

    @Test func zoomAndSmoothingStopAtTheirLimits() {
        var state = AppState()
        for _ in 0..<10 { state.apply(.zoomIn, conditionCount: 1, dimension: 1, mapSampleCount: 1) }
        #expect(state.zoom == 6)
        for _ in 0..<10 { state.apply(.zoomOut, conditionCount: 1, dimension: 1, mapSampleCount: 1) }
        #expect(state.zoom == 0)
        for _ in 0..<50 { state.apply(.smoothMore, conditionCount: 1, dimension: 1, mapSampleCount: 1) }
        #expect(state.smoothing == 0.99)
        for _ in 0..<50 { state.apply(.smoothLess, conditionCount: 1, dimension: 1, mapSampleCount: 1) }
        #expect(state.smoothing == 0)
        state.apply(.toggleLogScale, conditionCount: 1, dimension: 1, mapSampleCount: 1)
        state.apply(.toggleHelp, conditionCount: 1, dimension: 1, mapSampleCount: 1)
        #expect(state.logScale && state.showHelp)
    }
}

/// The screen layer's pure parts: which cells to send, and colours on 8-colour terminals.
@Suite struct ScreenLayerTests {
    @Test func onlyChangedCellsAreSent() {
        var a = CellBuffer(width: 4, height: 2)
        #expect(CellDiff.changes(from: nil, to: a).full && CellDiff.changes(from: nil, to: a).cells.count == 8)
        #expect(CellDiff.changes(from: a, to: a).cells.isEmpty)
        var b = a
        b.set(3, 1, "x")
        let changes = CellDiff.changes(from: a, to: b)
        #expect(!changes.full && changes.cells.map { "\($0.x),\($0.y)" } == ["3,1"])
        a.set(0, 0, " ", Style(bold: true))
        #expect(CellDiff.changes(from: b, to: a).cells.count == 2, "a style change is a change")
        #expect(CellDiff.changes(from: a, to: CellBuffer(width: 5, height: 2)).full, "a new size redraws everything")
    }

    @Test func eightColourFallback() {
        #expect(Colour.basic(196) == 1 && Colour.basic(46) == 2 && Colour.basic(33) == 4 && Colour.basic(226) == 3)
        #expect(Colour.basic(232) == 0 && Colour.basic(255) == 7 && Colour.basic(9) == 1 && Colour.basic(15) == 7)
        #expect(Colour.nearest(red: 250, green: 10, blue: 10) == .index(196))
        #expect(Colour.nearest(red: 128, green: 128, blue: 130) == .grey(386.0 / 765))
        #expect(Colour.ramp(0) == .index(21) && Colour.ramp(1) == .index(196) && Colour.ramp(.nan) == .index(21))
    }

    @Test func colourImagesUseTheirColours() {
        var buffer = CellBuffer(width: 2, height: 1)
        HalfBlockImage(pixels: [255, 0, 0, 0, 0, 255, 0, 255, 0, 255, 255, 255], width: 2, height: 2, channels: 3)
            .render(in: buffer.bounds, into: &buffer)
        #expect(buffer[0, 0].style == Style(foreground: .index(196), background: .index(46)))
        #expect(buffer[1, 0].style.foreground == .index(21))
        // A wrong pixel count draws nothing rather than trapping.
        var empty = CellBuffer(width: 2, height: 1)
        HalfBlockImage(pixels: [1, 2, 3], width: 2, height: 2, channels: 3).render(in: empty.bounds, into: &empty)
        #expect(empty == CellBuffer(width: 2, height: 1))
    }
}
