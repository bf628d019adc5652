import Analysis
import Basics
import CSN
import Datasets
import Foundation
import TUI

/// What the analysis worker last produced, for the views to draw.
public struct AnalysisSnapshot: Sendable {
    public var condition = 0
    /// Training step of the weights analysed (-1 before any).
    public var weightsStep = -1
    /// The t-SNE map of the probe images under `condition`'s mask, [P, 2]; empty until the first.
    public var layout: [Float] = []
    public var iteration = 0
    public var klDivergence = Double.nan
    /// The query (an image index of the dataset) and its neighbours among the test split under
    /// each condition; neighbour indices are image indices too.
    public var query = -1
    public var neighbours: [[NearestNeighbours.Neighbour]] = []
    public var status = "waiting for weights"
}

/// Computes what the Subspaces and Neighbours views show, on its own thread and its own copy of
/// the model, from the weight copies the trainer publishes (newer ones only as often as keeps its
/// average share of a core at `refreshShare`: a costly map refreshes less often rather than slowing
/// training), computing embeddings of a fixed probe sample,
/// a t-SNE map of the selected condition's subspace (warm-started from the previous map when only
/// the weights changed, so the map moves smoothly) and, while the Neighbours view is open, the
/// query's neighbours among every test image under every condition. It never blocks the UI:
/// requests and results go through a small locked mailbox.
public final class AnalysisWorker: @unchecked Sendable {
    public let dataset: ImageDataset
    /// The images mapped by t-SNE: a seeded sample of the test split, plus every test image of a
    /// few values of each condition with too many values to colour them all (fonts), so that
    /// those values show up as whole clusters in their own colours.
    public let probe: [Int32]
    /// Per condition, the values the map colours (nil: the most frequent ones).
    public let highlighted: [[Int]?]
    /// Where neighbours are searched: the whole test split.
    public let searchSet: [Int32]
    let searchRow: [Int32: Int]
    /// Each probe image's row in `searchSet` (nil if one is not a test image).
    let probeRows: [Int]?
    /// The most of one core the worker takes on average before it moves on to newer weights.
    let refreshShare: Double
    public static let defaultRefreshShare = 0.1
    let model: CSNModel
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
        var wantsNeighbours = false
        var recompute = 0

        static func == (a: Request, b: Request) -> Bool {
            a.weightsStep == b.weightsStep && a.condition == b.condition && a.query == b.query
                && a.wantsNeighbours == b.wantsNeighbours && a.recompute == b.recompute
        }
    }

    public init(config: TrainingConfig, dataset: ImageDataset, probeCount: Int = 1500, seed: UInt64 = 1,
                refreshShare: Double = AnalysisWorker.defaultRefreshShare) {
        self.dataset = dataset
        self.refreshShare = refreshShare
        let test = dataset.imageIndices(in: .test)
        searchSet = test
        searchRow = Dictionary(uniqueKeysWithValues: test.enumerated().map { ($1, $0) })
        (probe, highlighted) = Self.mapSample(dataset, count: probeCount, seed: seed)
        let rows = probe.compactMap { [searchRow] in searchRow[$0] }
        probeRows = rows.count == probe.count ? rows : nil
        let shape = NetworkShape(imageSize: dataset.imageSize, inputChannels: dataset.channels,
                                 widths: config.widths, embeddingDimension: config.embeddingDimension)
        model = CSNModel(kind: config.model, shape: shape, conditionCount: dataset.conditions.count, maxBatchImages: 256, workers: 1)
    }

    public var snapshot: AnalysisSnapshot { lock.withLock { latest } }

    /// Asks for analysis of these weights, condition and query (an image index); neighbours only
    /// when `wantsNeighbours`, as embedding the whole test split is the costly part. Cheap: call
    /// it every frame.
    public func update(weights: ModelWeights?, condition: Int, query: Int, wantsNeighbours: Bool, recompute: Int) {
        lock.withLock {
            var next = request
            if let weights, weights.step != request.weightsStep { next.weights = weights; next.weightsStep = weights.step }
            next.condition = condition
            next.query = min(max(0, query), dataset.count - 1)
            next.wantsNeighbours = wantsNeighbours
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

    /// CPU time this thread has used, in seconds.
    static func threadSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    /// The map last computed: for which condition, recompute count and weights, and whether its
    /// optimisation ran to the end (a new query interrupts it; it then resumes, warm).
    private struct MapState {
        var condition: Int
        var recompute: Int
        var step: Int
        var layout: [Float]
        var complete: Bool
    }

    private func run() {
        // Training comes first: on Linux the nice value is per thread, so this lowers only the
        // analysis thread, which then takes the cycles training leaves (the map just updates later).
        // (SCHED_IDLE instead measured the same.)
        #if os(Linux)
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        #endif
        var handled = Request()
        var loadedStep = -1
        var loadedAt = Date.distantPast, cpuAtLoad = 0.0
        var embeddings: [Int: [Float]] = [:]
        var searchEmbeddings: [Int: [Float]] = [:]
        var neighboursFor: (query: Int, step: Int)? = nil
        var map: MapState? = nil
        while true {
            let unfinished = map.map { !$0.complete } ?? false
            // Newer weights wait until this thread's time on the loaded ones is at most
            // `refreshShare` of the time since they were loaded: training then keeps the machine
            // however fast its steps are. The user's requests (condition, query) are served at once.
            let refreshAt = loadedAt.addingTimeInterval((Self.threadSeconds() - cpuAtLoad) / refreshShare)
            let job: Request? = lock.withLock {
                while running {
                    guard request.weights != nil else { lock.wait(); continue }
                    var sameWeights = request
                    sameWeights.weightsStep = handled.weightsStep
                    let newWeights = request.weightsStep != handled.weightsStep
                    if sameWeights != handled || unfinished || (newWeights && Date() >= refreshAt) { break }
                    if newWeights { _ = lock.wait(until: refreshAt) } else { lock.wait() }
                }
                return running ? request : nil
            }
            guard let job, let weights = job.weights else { break }
            let takeWeights = job.weightsStep != loadedStep && Date() >= refreshAt
            handled = job
            if !takeWeights { handled.weightsStep = loadedStep }
            let d = model.shape.embeddingDimension
            if takeWeights {
                loadedAt = Date()
                cpuAtLoad = Self.threadSeconds()
                weights.load(into: model)
                loadedStep = job.weightsStep
                searchEmbeddings = [:]
                if job.wantsNeighbours { publish { $0.status = "embedding \(self.searchSet.count) test images" } }
                for network in model.networks.indices {
                    if job.wantsNeighbours, let rows = probeRows {
                        // The probe images are test images: take their rows from the split's embeddings.
                        let all = Evaluator.embed(searchSet, model: model, network: network, dataset: dataset)
                        searchEmbeddings[network] = all
                        embeddings[network] = Self.gather(rows, from: all, dimension: model.shape.embeddingDimension)
                    } else {
                        embeddings[network] = Evaluator.embed(probe, model: model, network: network, dataset: dataset)
                    }
                }
            }
            let masks = model.effectiveMasks()
            if job.wantsNeighbours && (neighboursFor?.query != job.query || neighboursFor?.step != loadedStep) {
                if searchEmbeddings.isEmpty { publish { $0.status = "embedding \(self.searchSet.count) test images" } }
                let neighbours = findNeighbours(of: job.query, masks: masks, cache: &searchEmbeddings)
                neighboursFor = (job.query, loadedStep)
                publish {
                    $0.query = job.query
                    $0.neighbours = neighbours
                    $0.weightsStep = loadedStep
                }
            }
            // The map: warm-started unless the condition changed or a recompute was asked for.
            if let current = map, current.condition == job.condition, current.recompute == job.recompute,
               current.step == loadedStep, current.complete { continue }
            let fresh = map == nil || map!.condition != job.condition || map!.recompute != job.recompute
            var masked = embeddings[model.networkIndex(condition: job.condition)]!
            for i in masked.indices { masked[i] *= masks[job.condition * d + i % d] }
            var config = TSNEConfig()
            config.threads = 1
            config.perplexity = min(30, Double(probe.count - 1) / 3)
            guard let tsne = try? TSNE(points: masked, dimension: d, config: config, warmStart: fresh ? nil : map!.layout) else {
                map = nil
                continue
            }
            publish { $0.status = fresh ? "mapping \(self.dataset.conditions[job.condition].name)" : "updating the map"; $0.condition = job.condition }
            let iterations = fresh ? 750 : 150
            tsne.optimize(iterations: iterations, isCancelled: { [self] in
                lock.withLock {
                    !running || request.condition != job.condition || request.recompute != job.recompute
                        || (request.wantsNeighbours && request.query != job.query)
                }
            }, progress: { [self] event in
                if case .klDivergence(let iteration, let kl) = event {
                    let layout = tsne.layout
                    publish { $0.layout = layout; $0.iteration = iteration; $0.klDivergence = kl; $0.condition = job.condition }
                }
            })
            let complete = tsne.iteration >= iterations
            map = MapState(condition: job.condition, recompute: job.recompute, step: loadedStep, layout: tsne.layout, complete: complete)
            let layout = tsne.layout, iteration = tsne.iteration
            publish {
                $0.layout = layout
                $0.iteration = iteration
                $0.condition = job.condition
                $0.status = complete ? "map of step \(loadedStep)" : "map paused for the neighbours"
                $0.weightsStep = loadedStep
            }
        }
        lock.withLock {
            done = true
            lock.broadcast()
        }
    }
}
