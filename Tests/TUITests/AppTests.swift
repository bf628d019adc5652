import CSN
import CSNApp
import Foundation
import Testing
import TestSupport
import TUI

/// The whole app against a test screen: a saved run explored, keys pressed, frames read as text.
@Suite struct AppTests {
    static let explored: (snapshot: TrainingSnapshot, config: TrainingConfig) = {
        let session = try! TrainingSession(config: TestSupport.tinyConfig(steps: 4), dataset: TestSupport.dejavuDataset)
        for _ in 0..<4 { try! session.trainStep() }
        var snapshot = TrainingSnapshot(state: .stopped, model: .csnLearned, conditionNames: ["character", "font", "weight", "slant"],
                                        step: 4, totalSteps: 4, stepsPerEpoch: 10, trainAccuracy: [], masks: session.model.effectiveMasks(),
                                        embeddingDimension: 8)
        snapshot.weights = ModelWeights(of: session.model, step: 4)
        snapshot.lossHistory = (1...4).map { .init(step: $0, triplet: 0.3 - Float($0) * 0.02, embedding: 0.01, mask: 0.005) }
        snapshot.validationHistory = [.init(step: 4, accuracies: [0.8, 0.6, 0.55, .nan])]
        return (snapshot, session.config)
    }()

    func app(width: Int, height: Int, keys: [Key]) -> (App, TestScreen, AnalysisWorker) {
        let screen = TestScreen(width: width, height: height, keys: keys)
        let worker = AnalysisWorker(config: Self.explored.config, dataset: TestSupport.dejavuDataset, probeCount: 60)
        return (App(screen: screen, trainer: nil, fixedSnapshot: Self.explored.snapshot, worker: worker, dataName: "dejavu", ascii: true), screen, worker)
    }

    @Test func everyViewDrawsAt80x24() {
        let keys: [Key] = [.character("2"), .right, .down, .character("3"), .character("4"), .character("?"), .character("q")]
        let (app, screen, worker) = app(width: 80, height: 24, keys: keys)
        app.run()
        worker.waitUntilStopped()
        let frames = screen.frames.map(\.lines)
        #expect(frames.count == keys.count, "one frame per key until q")
        #expect(frames[0][0].hasPrefix("csn [stopped] csn-learned - step 4/4"))
        #expect(frames[0][1].hasPrefix(" 1 Monitor | 2 Masks | 3 Subspaces | 4 Neighbours"))
        // --ascii: nothing but ASCII on screen (no braille, no half blocks, no bullets).
        for (i, frame) in frames.enumerated() {
            #expect(frame.joined().unicodeScalars.allSatisfy { $0.isASCII }, "frame \(i): \(frame.joined(separator: "\n"))")
        }
        #expect(frames[0].contains { $0.hasPrefix("loss (EMA 0.90)") } && frames[0].contains { $0.hasPrefix("validation triplet accuracy latest mean 65.0%") })
        #expect(frames[1].contains { $0.hasPrefix("masks m = ReLU(beta), 4 x 8") })
        #expect(frames[3].contains { $0.hasPrefix("font dimension 1: ") }, "the cursor moved right and down")
        #expect(frames[4][2].hasPrefix("character subspace: "))
        #expect(frames[6].contains { $0.contains(" keys ") } && frames[6].contains { $0.contains("q, Ctrl-C") })
        #expect(frames.allSatisfy { $0.count == 24 && $0.allSatisfy { $0.count == 80 } })
    }

    @Test func tooSmallATerminalSaysWhatItNeeds() {
        let (app, screen, worker) = app(width: 40, height: 10, keys: [.character("q")])
        app.run()
        worker.waitUntilStopped()
        #expect(screen.lastFrame.contains { $0.hasPrefix("csn needs at least 60x20; this terminal") })
        #expect(screen.lastFrame[5] == "csn needs at least 60x20; this terminal ")
    }

    @Test func theMapAndNeighboursArriveFromTheWorker() throws {
        let (app, _, worker) = app(width: 100, height: 40, keys: [])
        _ = app.handle(.character("3"))
        worker.start()
        let deadline = Date().addingTimeInterval(120)
        while worker.snapshot.layout.count != 2 * worker.probe.count || worker.snapshot.neighbours.isEmpty {
            _ = app.frame()
            guard Date() < deadline else { Issue.record("no map within 2 minutes"); return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(worker.snapshot.neighbours.count == 4 && worker.snapshot.neighbours[0].count == 8)
        // The letters of the character map are on screen.
        let lines = app.frame().lines
        #expect(lines[2].hasPrefix("character subspace: "))
        #expect(lines[3..<37].joined().contains { $0.isLetter || $0.isNumber })
        worker.stop()
        worker.waitUntilStopped()
    }
}
