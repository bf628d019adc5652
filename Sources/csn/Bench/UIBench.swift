import CSN
import CSNApp
import Datasets
import Foundation
import TUI

/// The UI's costs, for `csn bench`: the time to draw a full 200x60 frame of each view (with a map
/// and neighbours in place), and training throughput with the UI drawing at 20 Hz and the analysis
/// worker running, against the same run without them, in alternating rounds.
enum UIBench {
    static func run(dataset: ImageDataset, config: TrainingConfig, steps: Int) throws {
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

        // Throughput with and without the UI's work beside training.
        var mappedSteps: [[Int]] = []
        func throughput(withUI: Bool) throws -> Double {
            var timed = config
            timed.steps = steps + 5
            timed.validateEvery = 1_000_000
            let trainer = Trainer(session: try TrainingSession(config: timed, dataset: dataset), checkpointDirectory: nil)
            let worker = try AnalysisWorker(config: timed, dataset: dataset, weights: trainer.weights)
            let app = App(screen: MemoryScreen(width: 200, height: 60), trainer: trainer, worker: worker, dataName: "fonts", ascii: false)
            if withUI { worker.start() }
            trainer.start()
            var start: Date? = nil, startStep = 0
            var view = 0
            var mapped: [Int] = []
            while !trainer.snapshot.state.isOver {
                let step = trainer.snapshot.step
                if start == nil, step >= 5 { start = Date(); startStep = step }
                if withUI {
                    if step % 10 == 0 { view = (view + 1) % 4; _ = app.handle(.character(Character(String(view + 1)))) }
                    _ = app.frame()
                    let analysis = worker.snapshot
                    if let map = analysis.map, map.complete, mapped.last != map.weightsStep { mapped.append(map.weightsStep) }
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            let final = trainer.wait()
            let seconds = Date().timeIntervalSince(start ?? Date())
            worker.stop()
            if withUI {
                worker.waitUntilStopped()
                mappedSteps.append(mapped)
            }
            return Double((final.step - startStep) * timed.batchSize) / seconds
        }
        // Alternate the two, so that a noisy neighbour on the machine hits both alike.
        var headless: [Double] = [], withUI: [Double] = []
        for _ in 0..<2 {
            headless.append(try throughput(withUI: false))
            withUI.append(try throughput(withUI: true))
        }
        let ratios = zip(withUI, headless).map { 100 * $0 / $1 }
        print("training with the UI open (20 Hz frames, weights for the analysis worker every \(Trainer.defaultWeightsEvery) steps, "
              + "taken as its \(Int(AnalysisWorker.defaultRefreshShare * 100))% share of a core allows), "
              + "2 alternating rounds of \(steps) steps: \(withUI.map { String(Int($0)) }.joined(separator: ", ")) triplets/s "
              + "vs \(headless.map { String(Int($0)) }.joined(separator: ", ")) headless "
              + "(\(ratios.map { String(format: "%.0f%%", $0) }.joined(separator: ", "))); "
              + "maps made of the weights of steps \(mappedSteps.map { $0.map(String.init).joined(separator: ", ") }.joined(separator: " and "))")
    }
}
