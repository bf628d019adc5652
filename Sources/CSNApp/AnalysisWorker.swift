import Analysis
import Basics
import CSN
import Datasets
import Foundation

/// What the analysis worker last produced, for the views to draw.
public struct AnalysisSnapshot: Sendable {
    public var condition = 0
    /// Training step of the weights analysed (-1 before any).
    public var weightsStep = -1
    /// The t-SNE map of the probe images under `condition`'s mask, [P, 2]; empty until the first.
    public var layout: [Float] = []
    public var iteration = 0
    public var klDivergence = Double.nan
    /// The query (an index into the probe sample) and its neighbours under each condition.
    public var query = -1
    public var neighbours: [[NearestNeighbours.Neighbour]] = []
    public var status = "waiting for weights"
}

/// Computes what the Subspaces and Neighbours views show, on its own thread and its own copy of
/// the model, from the weight copies the trainer publishes: embeddings of a fixed probe sample,
/// a t-SNE map of the selected condition's subspace (warm-started from the previous map when only
/// the weights changed, so the map moves smoothly) and the query's neighbours under every
/// condition. It never blocks the UI: requests and results go through a small locked mailbox.
public final class AnalysisWorker: @unchecked Sendable {
    public let dataset: ImageDataset
    /// The probe sample: image indices of the test split, seeded.
    public let probe: [Int32]
    private let model: CSNModel
    private let lock = NSCondition()
    private var request = Request()
    private var latest = AnalysisSnapshot()
    private var running = true
    private var done = false

    private struct Request: Equatable {
        var weights: ModelWeights? = nil
        var weightsStep = -1
        var condition = 0
        var query = 0
        var recompute = 0

        static func == (a: Request, b: Request) -> Bool {
            a.weightsStep == b.weightsStep && a.condition == b.condition && a.query == b.query && a.recompute == b.recompute
        }
    }

    public init(config: TrainingConfig, dataset: ImageDataset, probeCount: Int = 1500, seed: UInt64 = 1) {
        self.dataset = dataset
        probe = dataset.sample(probeCount, from: .test, seed: seed)
        let shape = NetworkShape(imageSize: dataset.imageSize, inputChannels: dataset.channels,
                                 widths: config.widths, embeddingDimension: config.embeddingDimension)
        model = CSNModel(kind: config.model, shape: shape, conditionCount: dataset.conditions.count, maxBatchImages: 256, workers: 1)
    }

    public var snapshot: AnalysisSnapshot { lock.withLock { latest } }

    /// Asks for analysis of these weights, condition and query; cheap, call it every frame.
    public func update(weights: ModelWeights?, condition: Int, query: Int, recompute: Int) {
        lock.withLock {
            var next = request
            if let weights, weights.step != request.weightsStep { next.weights = weights; next.weightsStep = weights.step }
            next.condition = condition
            next.query = query
            next.recompute = recompute
            if next != request {
                request = next
                lock.broadcast()
            }
        }
    }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "csn-analysis"
        thread.start()
    }

    /// Asks the worker to stop and returns at once: quitting never waits for an analysis (a
    /// map being computed is cancelled at its next iteration; the thread then ends by itself).
    public func stop() {
        lock.withLock {
            running = false
            lock.broadcast()
        }
    }

    /// Waits until the worker's thread has ended (for tests).
    public func waitUntilStopped() {
        lock.withLock { while !done { lock.wait() } }
    }

    private func publish(_ update: (inout AnalysisSnapshot) -> Void) { lock.withLock { update(&latest) } }

    private func run() {
        var handled = Request()
        var embeddings: [Int: [Float]] = [:]
        var map: (condition: Int, layout: [Float])? = nil
        while true {
            let job: Request? = lock.withLock {
                while running && (request == handled || request.weights == nil) { lock.wait() }
                return running ? request : nil
            }
            guard let job, let weights = job.weights else { break }
            let d = model.shape.embeddingDimension
            if job.weightsStep != handled.weightsStep {
                weights.load(into: model)
                embeddings = [:]
                for network in model.networks.indices {
                    embeddings[network] = Evaluator.embed(probe, model: model, network: network, dataset: dataset)
                }
            }
            let masks = model.effectiveMasks()
            func masked(_ c: Int) -> [Float] {
                var values = embeddings[model.networkIndex(condition: c)]!
                for i in values.indices { values[i] *= masks[c * d + i % d] }
                return values
            }
            // Neighbours of the query under every condition (within the probe sample).
            let query = min(max(0, job.query), probe.count - 1)
            let neighbours = dataset.conditions.indices.map { c in
                NearestNeighbours(embeddings: masked(c), dimension: d).neighbours(of: query, k: 8)
            }
            publish {
                $0.query = query
                $0.neighbours = neighbours
                $0.weightsStep = job.weightsStep
            }
            // The map: warm-started when only the weights moved on.
            let fresh = map == nil || map!.condition != job.condition || job.recompute != handled.recompute
            var config = TSNEConfig()
            config.threads = 1
            config.perplexity = min(30, Double(probe.count - 1) / 3)
            guard let tsne = try? TSNE(points: masked(job.condition), dimension: d, config: config,
                                       warmStart: fresh ? nil : map!.layout) else { handled = job; continue }
            publish { $0.status = fresh ? "mapping \(dataset.conditions[job.condition].name)" : "updating the map"; $0.condition = job.condition }
            let iterations = fresh ? 750 : 150
            tsne.optimize(iterations: iterations, isCancelled: { [self] in
                lock.withLock { !running || request.condition != job.condition || request.recompute != job.recompute }
            }, progress: { [self] event in
                if case .klDivergence(let iteration, let kl) = event {
                    let layout = tsne.layout
                    publish { $0.layout = layout; $0.iteration = iteration; $0.klDivergence = kl; $0.condition = job.condition }
                }
            })
            map = (job.condition, tsne.layout)
            let layout = tsne.layout, iteration = tsne.iteration
            publish {
                $0.layout = layout
                $0.iteration = iteration
                $0.condition = job.condition
                $0.status = "map of step \(job.weightsStep)"
            }
            handled = job
        }
        lock.withLock {
            done = true
            lock.broadcast()
        }
    }
}
