import CSN
import CSNApp
import Foundation
import Testing
import TestSupport
import TUI

/// The whole app against a test screen: a saved run explored, keys pressed, frames read as text.
@Suite struct AppTests {
    static let explored: (snapshot: TrainingSnapshot, config: TrainingConfig, weights: ModelWeights) = {
        let session = try! TrainingSession(config: TestSupport.tinyConfig(steps: 4), dataset: TestSupport.dejavuDataset)
        for _ in 0..<4 { try! session.trainStep() }
        var snapshot = TrainingSnapshot(state: .stopped, model: .csnLearned, conditionNames: ["character", "font", "weight", "slant"],
                                        step: 4, totalSteps: 4, stepsPerEpoch: 10, trainAccuracy: [], masks: session.model.effectiveMasks(),
                                        embeddingDimension: 8)
        snapshot.lossHistory = (1...4).map { .init(step: $0, triplet: 0.3 - Float($0) * 0.02, embedding: 0.01, mask: 0.005) }
        snapshot.validationHistory = [.init(step: 4, accuracies: [0.8, 0.6, 0.55, .nan])]
        return (snapshot, session.config, ModelWeights(of: session.model, step: 4))
    }()

    func app(width: Int, height: Int, keys: [Key]) -> (App, MemoryScreen, AnalysisWorker) {
        let screen = MemoryScreen(width: width, height: height, keys: keys)
        let worker = try! AnalysisWorker(config: Self.explored.config, dataset: TestSupport.dejavuDataset,
                                         weights: WeightsMailbox(Self.explored.weights), mapSampleCount: 60)
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

    /// Draws frames until `done` or two minutes pass.
    func wait(_ app: App, until done: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(120)
        while !done() {
            _ = app.frame()
            guard Date() < deadline else { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return true
    }

    @Test func theMapAndNeighboursArriveFromTheWorker() throws {
        let (app, _, worker) = app(width: 100, height: 40, keys: [])
        _ = app.handle(.character("3"))
        worker.start()
        defer { worker.stop(); worker.waitUntilStopped() }
        #expect(wait(app) { worker.snapshot.map?.layout.count == 2 * worker.mapSample.count }, "no map within 2 minutes")
        // The letters of the character map are on screen.
        var lines = app.frame().lines
        #expect(lines[2].hasPrefix("character subspace: "))
        #expect(lines[3..<37].joined().contains { $0.isLetter || $0.isNumber })
        // Fonts are too many to colour: a few chosen ones get colours; characters are drawn as letters.
        #expect(worker.highlighted[0] == nil && worker.highlighted[1]?.isEmpty == false)

        // Enter takes the point under the cursor as the neighbours query, searched in the whole test split.
        _ = app.handle(.enter)
        #expect(app.state.view == .neighbours && app.state.query == Int(worker.mapSample[0]))
        #expect(wait(app) { worker.snapshot.neighbours(of: app.state.query)?.lists.count == 4 }, "no neighbours within 2 minutes")
        let found = try #require(worker.snapshot.neighbours(of: app.state.query))
        #expect(found.lists.allSatisfy { $0.count == 8 } && found.weightsStep == 4)
        let test = Set(worker.searchSet)
        #expect(found.lists.joined().allSatisfy { test.contains(Int32($0.index)) && $0.index != app.state.query })
        lines = app.frame().lines
        #expect(lines[2].hasPrefix("query \(TestSupport.dejavuDataset.imageNames[app.state.query]) [test], test image "), "\(lines[2])")
    }

    /// Weights that arrive while the Neighbours view is open embed the whole test split once; the
    /// map's probe images (test images) take their rows from it.
    @Test func theMapFollowsNeighboursFromTheSameEmbeddings() throws {
        let (app, _, worker) = app(width: 100, height: 40, keys: [])
        _ = app.handle(.character("4"))
        worker.start()
        defer { worker.stop(); worker.waitUntilStopped() }
        #expect(wait(app) { worker.snapshot.neighbours?.lists.count == 4 }, "no neighbours within 2 minutes")
        _ = app.handle(.character("3"))
        #expect(wait(app) { worker.snapshot.map?.complete == true }, "no map within 2 minutes")
        let layout = worker.snapshot.map?.layout ?? []
        #expect(layout.count == 2 * worker.mapSample.count && layout.allSatisfy(\.isFinite) && Set(layout).count > worker.mapSample.count)
    }

    /// A started worker on an empty mailbox (its share of a core a whole core, to keep tests
    /// short), and a session whose weights the test publishes.
    func startedWorker() throws -> (AnalysisWorker, WeightsMailbox, TrainingSession) {
        let mailbox = WeightsMailbox()
        let worker = try AnalysisWorker(config: Self.explored.config, dataset: TestSupport.dejavuDataset, weights: mailbox,
                                        mapSampleCount: 60, refreshShare: 1)
        worker.start()
        return (worker, mailbox, try TrainingSession(config: Self.explored.config, dataset: TestSupport.dejavuDataset))
    }

    /// Newer weights are taken after the worker has rested (its share of a core is capped; a whole
    /// core here, to keep the test short), but they are taken: the map moves on to them without
    /// anything else changing.
    @Test func newerWeightsReachTheMap() throws {
        let (worker, mailbox, session) = try startedWorker()
        defer { worker.stop(); worker.waitUntilStopped() }
        func waitForMap(ofStep step: Int) -> Bool {
            let deadline = Date().addingTimeInterval(120)
            while !(worker.snapshot.map.map { $0.complete && $0.weightsStep == step } ?? false) {
                guard Date() < deadline else { return false }
                Thread.sleep(forTimeInterval: 0.02)
            }
            return true
        }
        #expect(worker.snapshot.status == "waiting for weights")
        mailbox.publish(ModelWeights(of: session.model, step: 1))
        #expect(waitForMap(ofStep: 1), "\(worker.snapshot.status)")
        try session.trainStep()
        // Nobody asks the worker anything: the published weights alone wake it.
        mailbox.publish(ModelWeights(of: session.model, step: 2))
        #expect(waitForMap(ofStep: 2), "the worker never took the newer weights: \(worker.snapshot.status)")
        // A stopped worker leaves the mailbox (a trainer outlives the UI's workers).
        #expect(mailbox.subscriberCount == 1)
        worker.stop()
        #expect(mailbox.subscriberCount == 0)
    }

    /// The test split is embedded with the first weights, before anyone asks: opening the
    /// Neighbours view is then only a search. With newer weights the view's query is answered at
    /// once from the embeddings at hand, then again from the newer ones.
    @Test func neighboursComeFromTheTestSplitAlreadyEmbedded() throws {
        let (worker, mailbox, session) = try startedWorker()
        defer { worker.stop(); worker.waitUntilStopped() }
        func wait(seconds: Double, until done: () -> Bool) -> Double? {
            let start = Date()
            while !done() {
                guard Date().timeIntervalSince(start) < seconds else { return nil }
                Thread.sleep(forTimeInterval: 0.005)
            }
            return Date().timeIntervalSince(start)
        }
        mailbox.publish(ModelWeights(of: session.model, step: 1))
        #expect(wait(seconds: 120) { worker.snapshot.map?.complete == true } != nil, "no map")
        let queries = worker.searchSet.prefix(2).map(Int.init)
        worker.request(AnalysisRequest(query: queries[0], wantsNeighbours: true))
        let first = wait(seconds: 120) { worker.snapshot.neighbours(of: queries[0])?.weightsStep == 1 }
        // A search over embeddings at hand, even in a debug build, takes far less than embedding them.
        #expect(first.map { $0 < 2 } == true, "neighbours after \(first ?? -1) s")
        try session.trainStep()
        mailbox.publish(ModelWeights(of: session.model, step: 2))
        worker.request(AnalysisRequest(query: queries[1], wantsNeighbours: true))
        #expect(wait(seconds: 120) { worker.snapshot.neighbours(of: queries[1]) != nil } != nil, "no neighbours for the new query")
        #expect(wait(seconds: 120) { worker.snapshot.neighbours(of: queries[1])?.weightsStep == 2 } != nil,
                "the neighbours never moved to the newer weights")
    }

    /// A map interrupted by a neighbours query is finished afterwards (its whole schedule), and a
    /// map whose condition is no longer on screen is never drawn in that condition's colours.
    @Test func anInterruptedMapFinishesAndResultsMatchTheirRequest() throws {
        // The whole test split in the map, so that a map takes seconds and can be interrupted.
        let worker = try AnalysisWorker(config: Self.explored.config, dataset: TestSupport.dejavuDataset,
                                        weights: WeightsMailbox(Self.explored.weights), mapSampleCount: 1500)
        let app = App(screen: MemoryScreen(width: 100, height: 40), trainer: nil, fixedSnapshot: Self.explored.snapshot,
                      worker: worker, dataName: "dejavu", ascii: true)
        _ = app.handle(.character("3"))
        worker.start()
        defer { worker.stop(); worker.waitUntilStopped() }
        #expect(wait(app) { (worker.snapshot.map?.iteration ?? 0) >= 50 }, "the map never started")
        // Interrupt: the Neighbours view asks for a query's neighbours; they come before the map ends.
        _ = app.handle(.character("4"))
        #expect(wait(app) { worker.snapshot.neighbours(of: app.state.query) != nil }, "no neighbours")
        let atInterruption = try #require(worker.snapshot.map)
        #expect(!atInterruption.complete && atInterruption.iteration < 750,
                "the map was interrupted at iteration \(atInterruption.iteration) of 750")
        _ = app.handle(.character("3"))
        #expect(wait(app) { worker.snapshot.map?.complete == true }, "the interrupted map never finished")
        let map = try #require(worker.snapshot.map)
        #expect(map.iteration == 750, "a first map runs its whole schedule, not a short warm start: \(map.iteration)")
        // Another condition: until its own map arrives, the view says it is computing.
        _ = app.handle(.character("c"))
        if worker.snapshot.map(for: 1) == nil {
            #expect(app.frame().lines[3...].joined().contains("computing the map of font"))
        }
        #expect(wait(app) { worker.snapshot.map(for: 1)?.complete == true })
        #expect(worker.snapshot.map(for: 0) == nil, "the old condition's map is not drawn as the new one's")
    }

    @Test func searchPicksTheQueryByItsAttributes() throws {
        let (app, _, worker) = app(width: 100, height: 40, keys: [])
        worker.start()
        defer { worker.stop(); worker.waitUntilStopped() }
        let dataset = TestSupport.dejavuDataset
        for key in "/font:DejaVu Sans Mono char:g" { _ = app.handle(key == "/" && app.state.searchText == nil ? .character("/") : .character(key)) }
        #expect(app.frame().lines.last!.hasPrefix("search: font:DejaVu Sans Mono char:g_"))
        _ = app.handle(.enter)
        // Every DejaVu Sans Mono face's g, test split first.
        let font = try dataset.conditionIndex(named: "font"), character = try dataset.conditionIndex(named: "character")
        let matches = app.state.queryList.map(Int.init)
        #expect(!matches.isEmpty && matches.allSatisfy {
            dataset.conditions[font].valueNames[Int(dataset.conditions[font].labels[$0])].hasPrefix("DejaVu Sans Mono")
                && dataset.conditions[character].valueNames[Int(dataset.conditions[character].labels[$0])] == "g"
        })
        #expect(app.state.message == "\(matches.count) image(s) match 'font:DejaVu Sans Mono char:g'; arrows step through them, Esc leaves the search")
        #expect(wait(app) { worker.snapshot.neighbours(of: app.state.query)?.lists.count == 4 }, "no neighbours within 2 minutes")
        #expect(app.frame().lines[2].contains("match 1 of \(matches.count) for 'font:DejaVu Sans Mono char:g'"))
        // A query from outside the test split still gets neighbours from it.
        #expect(worker.snapshot.neighbours?.lists.joined().allSatisfy { dataset.splits[$0.index] == .test } == true)

        // Esc leaves the results; a bad search says why in the status line.
        _ = app.handle(.escape)
        #expect(app.state.activeSearch == nil && app.state.queryList == worker.searchSet)
        for key in "/colour:red" { _ = app.handle(.character(key)) }
        _ = app.handle(.enter)
        #expect(app.state.message == "no condition 'colour'; this dataset has: character, font, weight, slant")
        #expect(app.frame().lines.last!.hasPrefix("? help  q quit  no condition 'colour'"))
    }
}
