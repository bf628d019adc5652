import Analysis
import ArgumentParser
import CSN
import Datasets
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training speed and memory (used by make bench).",
        discussion: "Times training steps of the default model on the embedded data and reports the median step's triplets/s and GFLOP/s, and the peak resident memory of the process."
    )

    @OptionGroup var data: DataFileOption

    @Option(help: "Model to time.")
    var model: ModelKind = .csnLearned

    @Option(help: "Triplets per batch.")
    var batch = 64

    @Option(help: "Timed steps (after 3 warm-up steps).")
    var steps = 30

    @Option(help: "OpenBLAS threads.")
    var threads = 2

    @Flag(help: "Also measure the UI: frame drawing time and training throughput with the UI open.")
    var ui = false

    @Option(help: "Rounds for --ui, each a block with the UI beside a headless block (in turn after and before it); an even number, more rounds narrow the bound on the ratio.")
    var uiRounds = 6

    @Flag(help: "Time the convolution kernels phase by phase instead (im2col against Winograd and the direct first stage).")
    var kernels = false

    func validate() throws {
        guard (1...TrainingConfig.maxBatchSize).contains(batch) else { throw ValidationError("--batch must be between 1 and \(TrainingConfig.maxBatchSize), not \(batch)") }
        guard (1...100_000).contains(steps) else { throw ValidationError("--steps must be between 1 and 100000, not \(steps)") }
        guard (1...TrainingConfig.maxThreads).contains(threads) else { throw ValidationError("--threads must be between 1 and \(TrainingConfig.maxThreads), not \(threads)") }
        guard (2...100).contains(uiRounds), uiRounds % 2 == 0 else { throw ValidationError("--ui-rounds must be an even number between 2 and 100, not \(uiRounds)") }
    }

    func run() throws {
        if kernels { return KernelBench.run() }
        let loadStart = Date()
        let dataset = try data.load()
        let loadSeconds = Date().timeIntervalSince(loadStart)
        var config = TrainingConfig()
        config.model = model
        config.batchSize = batch
        config.threads = threads
        config.steps = steps + 3
        let session = try TrainingSession(config: config, dataset: dataset)
        for _ in 0..<3 { try session.trainStep() }
        var times: [Double] = []
        for _ in 0..<steps {
            let start = Date()
            try session.trainStep()
            times.append(Date().timeIntervalSince(start))
        }
        times.sort()
        let median = times[times.count / 2]
        // Forward F per image; backward about 2F (weights and inputs); 3B images per step.
        let flops = 3 * Double(batch) * 3 * session.model.shape.forwardFlops
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("dataset load: \(String(format: "%.3f", loadSeconds)) s (\(dataset.count) images)")
        print("model \(model.rawValue), batch \(batch), \(threads) thread(s), \(steps) timed steps")
        print("median step: \(String(format: "%.1f", median * 1000)) ms (min \(String(format: "%.1f", times[0] * 1000)), max \(String(format: "%.1f", times.last! * 1000)))")
        print("training triplets/s: \(String(format: "%.0f", Double(batch) / median))")
        print("GFLOP/s: \(String(format: "%.1f", flops / median / 1e9)) (FLOPs of the direct convolution; Winograd does fewer)")
        print("peak resident memory: \(usage.ru_maxrss / 1024) MiB")

        // A neighbour query under a condition's mask over the whole test split (embeddings computed once).
        let test = dataset.imageIndices(in: .test)
        let embedStart = Date()
        let embeddings = Evaluator.embed(test, model: session.model, network: 0, dataset: dataset)
        let embedSeconds = Date().timeIntervalSince(embedStart)
        let d = session.model.shape.embeddingDimension
        let mask = Array(session.model.effectiveMasks().prefix(d))
        var queryTimes: [Double] = []
        for q in 0..<21 {
            let start = Date()
            let search = NearestNeighbours(embeddings: embeddings, dimension: d, mask: mask)
            _ = search.neighbours(of: (q * 379) % test.count, k: 10)
            queryTimes.append(Date().timeIntervalSince(start))
        }
        queryTimes.sort()
        print("neighbour query (mask applied, k = 10) over \(test.count) test images: median \(String(format: "%.2f", queryTimes[10] * 1000)) ms; embedding them once: \(String(format: "%.2f", embedSeconds)) s")
        if ui { try UIBench.run(dataset: dataset, config: config, steps: max(steps, 400), rounds: uiRounds) }
    }
}
