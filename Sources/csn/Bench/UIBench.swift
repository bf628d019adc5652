import Basics
import CSN
import CSNApp
import Datasets
import Foundation
import TUI

/// The UI's costs, for `csn bench --ui`: the time to draw a full 200x60 frame of each view (with a
/// map and neighbours in place); training throughput with a scripted user at the UI against the
/// same run headless, in alternating rounds; and what that user waited for (the first map, the
/// Neighbours view's result, a new query's, and the age of the map on screen).
enum UIBench {
    static func run(dataset: ImageDataset, config: TrainingConfig, steps: Int, rounds: Int) throws {
        // Frames: a few trained steps, then the analysis worker's results, then timed draws.
        let session = try TrainingSession(config: config, dataset: dataset)
        for _ in 0..<3 { try session.trainStep() }
        var snapshot = TrainingSnapshot(state: .stopped, model: config.model, conditionNames: dataset.conditions.map(\.name),
                                        step: 3, totalSteps: 3, stepsPerEpoch: 100, trainAccuracy: [],
                                        masks: session.model.effectiveMasks(), embeddingDimension: config.embeddingDimension)
        snapshot.lossHistory = (1...2000).map { .init(step: $0, triplet: 0.3 / Float($0), embedding: 0.01, mask: 0.004) }
        snapshot.validationHistory = (1...8).map { .init(step: 250 * $0, accuracies: [0.8, 0.7, 0.6, 0.75]) }
        let worker = try AnalysisWorker(config: config, dataset: dataset, weights: WeightsMailbox(ModelWeights(of: session.model, step: 3)))
        let app = App(screen: MemoryScreen(width: 200, height: 60), trainer: nil, fixedSnapshot: snapshot, worker: worker,
                      dataName: "fonts", ascii: false)
        worker.start()
        // The map is made on the Subspaces view, the neighbours only while their view is open.
        let deadline = Date().addingTimeInterval(180)
        for (view, ready) in [("3", { worker.snapshot.map?.complete == true }), ("4", { worker.snapshot.neighbours != nil })] {
            _ = app.handle(.character(Character(view)))
            while !ready(), Date() < deadline {
                _ = app.frame()
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        worker.stop()
        worker.waitUntilStopped()
        for (key, view) in [("1", "monitor"), ("2", "masks"), ("3", "subspaces"), ("4", "neighbours")] {
            _ = app.handle(.character(Character(key)))
            var times: [Double] = []
            for _ in 0..<31 {
                let start = Date()
                _ = app.frame()
                times.append(Date().timeIntervalSince(start))
            }
            times.sort()
            print("frame 200x60, \(view): median \(String(format: "%.2f", times[15] * 1000)) ms")
        }

        // Throughput with and without the UI beside training, and how soon the UI answers. One
        // trainer runs throughout, so that rounds differ only in the UI: a new trainer per round
        // added its own start-up and placement to the noise.
        var timed = config
        timed.steps = 100_000_000
        timed.validateEvery = 100_000_000
        let trainer = Trainer(session: try TrainingSession(config: timed, dataset: dataset), checkpointDirectory: nil)
        trainer.start()
        defer {
            trainer.stop()
            _ = trainer.wait()
        }
        // The clock starts after the first steps (the first batches warm the caches).
        while trainer.snapshot.step < 5 && !trainer.snapshot.state.isOver { Thread.sleep(forTimeInterval: 0.01) }
        var latencies = Latencies()
        /// Triplets/s over the next `seconds`.
        func steadyThroughput(seconds: Double, during: (Date) throws -> Void) throws -> Double {
            let start = Date(), startStep = trainer.snapshot.step
            let end = start.addingTimeInterval(seconds)
            try during(end)
            while Date() < end { Thread.sleep(forTimeInterval: 0.05) }
            let endStep = trainer.snapshot.step, elapsed = Date().timeIntervalSince(start)
            guard elapsed > 0, endStep > startStep else { throw CSNError("training made no progress in \(Int(seconds)) s") }
            return Double((endStep - startStep) * timed.batchSize) / elapsed
        }
        /// With the UI: a new analysis worker and app on the running trainer, its first map waited
        /// for (the throughput while it was made is returned too), then the scripted user.
        func withUI(seconds: Double) throws -> (steady: Double, firstMap: Double) {
            let worker = try AnalysisWorker(config: timed, dataset: dataset, weights: trainer.weights)
            let app = App(screen: MemoryScreen(width: 200, height: 60), trainer: trainer, worker: worker, dataName: "fonts", ascii: false)
            worker.start()
            defer {
                worker.stop()
                worker.waitUntilStopped()
            }
            let opened = Date(), openedStep = trainer.snapshot.step
            _ = app.handle(.character("3"))
            let deadline = opened.addingTimeInterval(120)
            while worker.snapshot.map(for: app.state.condition)?.complete != true {
                guard Date() < deadline else { throw CSNError("no map within 120 s") }
                _ = app.frame()
                Thread.sleep(forTimeInterval: 0.05)
            }
            let waited = Date().timeIntervalSince(opened)
            latencies.firstMap.append(waited)
            let firstMap = Double((trainer.snapshot.step - openedStep) * timed.batchSize) / waited
            let steady = try steadyThroughput(seconds: seconds) { end in
                try userSession(app: app, worker: worker, until: end, latencies: &latencies)
            }
            return (steady, firstMap)
        }
        // Each round pairs a block with the UI with a headless block beside it, in alternating
        // order (A B, B A, ...), so that a drift of the machine's speed hits both alike (the UI
        // block's first map, untimed, lies between the two when the headless block goes first,
        // and before both when it goes second). The mean ratio is reported with its one-sided 95%
        // lower bound, and the median with its sign-test bound: on a shared machine, 40 s blocks
        // differed by 10-15% and now and then one fell by a third, so one pair says little.
        var headless: [Double] = [], withUIRates: [Double] = [], whileMapping: [Double] = []
        let seconds = Double(max(20, steps / 10))
        for round in 0..<rounds {
            if round % 2 == 0 { headless.append(try steadyThroughput(seconds: seconds) { _ in }) }
            let ui = try withUI(seconds: seconds)
            withUIRates.append(ui.steady)
            whileMapping.append(ui.firstMap)
            if round % 2 == 1 { headless.append(try steadyThroughput(seconds: seconds) { _ in }) }
        }
        func percentages(_ values: [Double]) -> String {
            let ratios = zip(values, headless).map { 100 * $0 / $1 }
            let bound = PairedRatios(ratios)
            return ratios.map { String(format: "%.0f%%", $0) }.joined(separator: ", ")
                + String(format: "; median %.1f%%, its 95%% lower bound (sign test) ", bound.median)
                + (bound.medianLowerBound.isNaN ? "none (fewer than 5 rounds)" : String(format: "%.1f%%", bound.medianLowerBound))
                + String(format: "; mean %.1f%% ± %.1f (standard error), its 95%% lower bound %.1f%%", bound.mean, bound.standardError, bound.lowerBound)
        }
        print("training with the UI open (20 Hz frames; the Subspaces view, the Neighbours view opened every 8 s with 3 new queries), "
              + "\(rounds) rounds of \(Int(seconds)) s (after the first map) beside \(Int(seconds)) s headless, one training run: \(withUIRates.map { String(Int($0)) }.joined(separator: ", ")) "
              + "triplets/s vs \(headless.map { String(Int($0)) }.joined(separator: ", ")) headless (\(percentages(withUIRates)))")
        print("training while the first map is made (its 1,500 images embedded, 750 t-SNE iterations): "
              + "\(whileMapping.map { String(Int($0)) }.joined(separator: ", ")) triplets/s (\(percentages(whileMapping)))")
        print(latencies.report())
    }

    /// What the UI's user waited for, in seconds.
    struct Latencies {
        var firstMap: [Double] = [], openNeighbours: [Double] = [], newQuery: [Double] = [], mapAge: [Double] = []

        func report() -> String {
            func summary(_ values: [Double], scale: Double = 1000, unit: String = "ms") -> String {
                guard !values.isEmpty else { return "none measured" }
                let sorted = values.sorted()
                return String(format: "median %.0f %@, max %.0f %@ (%d)", sorted[sorted.count / 2] * scale, unit, sorted[sorted.count - 1] * scale, unit, values.count)
            }
            return "UI latencies while training: first map \(summary(firstMap, scale: 1, unit: "s")); "
                + "Neighbours view opened to a full result \(summary(openNeighbours)); a new query to its result \(summary(newQuery)); "
                + "age of the weights of the map on screen after the first map \(summary(mapAge, scale: 1, unit: "s"))"
        }
    }

    /// A user at the UI while training runs, once the first map is drawn: every 8 s the
    /// Neighbours view (its result waited for), three new queries (each waited for) and back to the
    /// map, frames at 20 Hz throughout; the map's age is read at every frame on the map view.
    static func userSession(app: App, worker: AnalysisWorker, until end: Date, latencies: inout Latencies) throws {
        func waitFor(_ done: () -> Bool) -> Double? {
            let start = Date()
            var lastFrame = Date.distantPast
            while !done() {
                guard Date() < end else { return nil }
                if Date().timeIntervalSince(lastFrame) >= 0.05 { _ = app.frame(); lastFrame = Date() }
                Thread.sleep(forTimeInterval: 0.002)
            }
            return Date().timeIntervalSince(start)
        }
        var nextQuestion = Date().addingTimeInterval(8)
        while Date() < end {
            if Date() >= nextQuestion {
                _ = app.handle(.character("4"))
                if let t = waitFor({ (worker.snapshot.neighbours(of: app.state.query)?.lists.count ?? 0) == worker.dataset.conditions.count }) {
                    latencies.openNeighbours.append(t)
                }
                for _ in 0..<3 {
                    _ = app.handle(.character("n"))
                    if let t = waitFor({ (worker.snapshot.neighbours(of: app.state.query)?.lists.count ?? 0) == worker.dataset.conditions.count }) {
                        latencies.newQuery.append(t)
                    }
                }
                _ = app.handle(.character("3"))
                nextQuestion = Date().addingTimeInterval(8)
            }
            _ = app.frame()
            if let map = worker.snapshot.map(for: app.state.condition) {
                latencies.mapAge.append(ProcessInfo.processInfo.systemUptime - map.weightsMadeAt)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}
