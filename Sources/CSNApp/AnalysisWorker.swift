import Analysis
import Basics
import CSN
import Datasets
import Foundation

/// Computes what the Subspaces and Neighbours views show, on its own thread and its own copy of
/// the model. It subscribes to the trainer's weights (a WeightsMailbox) and takes newer ones only
/// as often as keeps its average share of a core at `refreshShare`, so a costly map refreshes less
/// often rather than slowing training. The UI thread only sends requests (condition, query) and
/// reads the newest AnalysisSnapshot; drawing never moves work between threads.
///
/// For the selected condition it maps a fixed sample of test images with t-SNE (warm-started from
/// the previous map when only the weights changed, so the map moves rather than jumps; a map that
/// a request interrupted is finished before newer weights are taken); while the Neighbours view is
/// open, it finds the query's neighbours among every test image under every condition.
///
/// `@unchecked Sendable`: `request`, `latest`, `running` and `done` are guarded by `lock`; `source`
/// and the caches are used by the worker's thread alone; everything else is immutable.
public final class AnalysisWorker: @unchecked Sendable {
    public let dataset: ImageDataset
    /// The images the map shows: a seeded sample of the test split, plus every test image of a
    /// few values of each condition with too many values to colour them all (fonts), so that
    /// those values show up as whole clusters in their own colours.
    public let mapSample: [Int32]
    /// Per condition, the values the map colours (nil: the most frequent ones).
    public let highlighted: [[Int]?]
    /// Where neighbours are searched: the whole test split.
    public let searchSet: [Int32]
    let searchRow: [Int32: Int]
    /// Each map-sample image's row in `searchSet` (nil if one is not a test image).
    let mapSampleRows: [Int]?
    /// The most of one core the worker takes on average before it moves on to newer weights.
    let refreshShare: Double
    public static let defaultRefreshShare = 0.1
    let weights: WeightsMailbox
    let source: VectorSource
    /// Iterations of a map from scratch, and of a warm-started update.
    static let freshIterations = 750, warmIterations = 150

    private let lock = NSCondition()
    private var request = AnalysisRequest()
    private var latest = AnalysisSnapshot()
    private var running = true
    private var done = false

    /// A worker that runs the model of `config` on the dataset's images, with the mailbox's weights.
    public convenience init(config: TrainingConfig, dataset: ImageDataset, weights: WeightsMailbox, mapSampleCount: Int = 1500,
                            seed: UInt64 = 1, refreshShare: Double = AnalysisWorker.defaultRefreshShare) throws {
        let model = CSNModel(kind: config.model, shape: try NetworkShape(config: config, dataset: dataset),
                             conditionCount: dataset.conditions.count, maxBatchImages: 256, workers: 1)
        self.init(source: ModelVectors(model: model), dataset: dataset, weights: weights, mapSampleCount: mapSampleCount,
                  seed: seed, refreshShare: refreshShare)
    }

    /// A worker on any vectors: `weights` only says when (and at which step) they change.
    public init(source: VectorSource, dataset: ImageDataset, weights: WeightsMailbox, mapSampleCount: Int = 1500,
                seed: UInt64 = 1, refreshShare: Double = AnalysisWorker.defaultRefreshShare) {
        self.dataset = dataset
        self.source = source
        self.weights = weights
        self.refreshShare = refreshShare
        let test = dataset.imageIndices(in: .test)
        searchSet = test
        searchRow = Dictionary(uniqueKeysWithValues: test.enumerated().map { ($1, $0) })
        (mapSample, highlighted) = Self.makeMapSample(dataset, count: mapSampleCount, seed: seed)
        let rows = mapSample.compactMap { [searchRow] in searchRow[$0] }
        mapSampleRows = rows.count == mapSample.count ? rows : nil
        weights.subscribe { [weak self] in self?.wake() }
    }

    public var snapshot: AnalysisSnapshot { lock.withLock { latest } }

    /// Asks for another condition, query or view; cheap, and only wakes the worker on a change.
    public func request(_ next: AnalysisRequest) {
        lock.withLock {
            var next = next
            next.query = min(max(0, next.query), max(0, dataset.count - 1))
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

    /// Waits until the worker's thread has ended (for tests and the bench).
    public func waitUntilStopped() {
        lock.withLock { while !done { lock.wait() } }
    }

    private func wake() { lock.withLock { lock.broadcast() } }

    private func publish(_ update: (inout AnalysisSnapshot) -> Void) { lock.withLock { update(&latest) } }

    /// CPU time this thread has used, in seconds.
    static func threadSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    /// The worker thread's own state between jobs.
    private struct Work {
        var loadedStep = -1
        /// Monotonic seconds (system uptime) and this thread's CPU seconds when the weights were loaded.
        var loadedAt = -Double.infinity, cpuAtLoad = 0.0
        /// The map sample's embeddings, per network, for the loaded weights.
        var embeddings: [Int: [Float]] = [:]
        /// The test split's embeddings, per network, for the loaded weights (Neighbours view).
        var searchEmbeddings: [Int: [Float]] = [:]
        var neighboursFor: (query: Int, step: Int)? = nil
        var map: MapJob? = nil
    }

    /// The map being made: for which condition, recompute count and weights; its optimiser, kept
    /// while unfinished so that an interrupted map resumes where it stopped.
    private struct MapJob {
        var condition: Int
        var recompute: Int
        var step: Int
        var tsne: TSNE?
        var iterations: Int
        var layout: [Float]
        var failed: Bool
        var complete: Bool { failed || (tsne.map { $0.iteration >= iterations } ?? false) }

        func matches(_ request: AnalysisRequest, step: Int) -> Bool {
            condition == request.condition && recompute == request.recompute && self.step == step
        }
    }

    private func run() {
        // Training comes first: on Linux the nice value is per thread, so this lowers only the
        // analysis thread, which then takes the cycles training leaves (the map just updates later).
        #if os(Linux)
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        #endif
        var work = Work()
        while let (job, newest, takeWeights) = nextJob(&work) {
            if takeWeights { load(newest, wantsNeighbours: job.wantsNeighbours, into: &work) }
            if job.wantsNeighbours && !isStopping && (work.neighboursFor?.query != job.query || work.neighboursFor?.step != work.loadedStep) {
                findNeighbours(job, &work)
            }
            if isStopping { break }
            makeMap(job, &work)
        }
        lock.withLock {
            done = true
            lock.broadcast()
        }
    }

    /// Whether stop() was called: long embeddings ask between batches, so quitting is prompt.
    private var isStopping: Bool { lock.withLock { !running } }

    /// When newer weights may be taken (monotonic seconds): this thread's time on the loaded ones
    /// is then at most `refreshShare` of the time since they were loaded.
    private func refreshTime(_ work: Work) -> Double {
        work.loadedAt + (Self.threadSeconds() - work.cpuAtLoad) / refreshShare
    }

    /// Waits until there is something to do (or the worker stops) and returns the request, the
    /// newest weights, and whether to load them now. Newer weights are taken only when the
    /// refresh time has come and the map being made is finished; the decision is made once, here.
    private func nextJob(_ work: inout Work) -> (AnalysisRequest, ModelWeights, Bool)? {
        let refreshAt = refreshTime(work)
        return lock.withLock {
            while running {
                guard let newest = weights.newest else { lock.wait(); continue }
                let job = request
                let now = ProcessInfo.processInfo.systemUptime
                let mapDone = work.map.map { $0.matches(job, step: work.loadedStep) && $0.complete } ?? false
                let mapFinished = work.map.map { $0.complete || !$0.matches(job, step: work.loadedStep) } ?? true
                let neighboursDone = !job.wantsNeighbours || (work.neighboursFor?.query == job.query && work.neighboursFor?.step == work.loadedStep)
                let newerWeights = newest.step != work.loadedStep
                let take = newerWeights && mapFinished && (work.loadedStep < 0 || now >= refreshAt)
                if take || !mapDone || !neighboursDone { return (job, newest, take) }
                if newerWeights { _ = lock.wait(until: Date().addingTimeInterval(max(0.01, refreshAt - now))) } else { lock.wait() }
            }
            return nil
        }
    }

    private func load(_ newest: ModelWeights, wantsNeighbours: Bool, into work: inout Work) {
        work.loadedAt = ProcessInfo.processInfo.systemUptime
        work.cpuAtLoad = Self.threadSeconds()
        source.load(newest)
        work.loadedStep = newest.step
        work.searchEmbeddings = [:]
        if wantsNeighbours { publish { $0.status = "embedding \(self.searchSet.count) test images" } }
        for network in 0..<source.networkCount {
            if wantsNeighbours, let rows = mapSampleRows {
                // The map sample's images are test images: take their rows from the split's embeddings.
                let all = source.embed(searchSet, network: network, dataset: dataset, isCancelled: { isStopping })
                work.searchEmbeddings[network] = all
                work.embeddings[network] = Self.gather(rows, from: all, dimension: source.dimension)
            } else {
                work.embeddings[network] = source.embed(mapSample, network: network, dataset: dataset, isCancelled: { isStopping })
            }
        }
        publish { $0.loadedStep = newest.step }
    }

    private func findNeighbours(_ job: AnalysisRequest, _ work: inout Work) {
        if work.searchEmbeddings.isEmpty { publish { $0.status = "embedding \(self.searchSet.count) test images" } }
        let lists = neighbours(of: job.query, masks: source.masks(), cache: &work.searchEmbeddings, isCancelled: { isStopping })
        guard !isStopping else { return }
        work.neighboursFor = (job.query, work.loadedStep)
        let result = NeighbourResult(query: job.query, weightsStep: work.loadedStep, lists: lists)
        publish { $0.neighbours = result }
    }

    /// Makes, updates or resumes the map for `job` on the loaded weights.
    private func makeMap(_ job: AnalysisRequest, _ work: inout Work) {
        if let map = work.map, map.matches(job, step: work.loadedStep), map.complete { return }
        let sameRequest = work.map.map { $0.condition == job.condition && $0.recompute == job.recompute } ?? false
        if !(work.map?.matches(job, step: work.loadedStep) ?? false) {
            // A new map: warm from the previous layout when only the weights changed.
            // Warm only from a map that was made (a failed one has no layout).
            let warm = sameRequest && work.map?.failed == false ? work.map?.layout : nil
            var masked = work.embeddings[source.networkIndex(condition: job.condition)] ?? []
            let d = source.dimension
            Evaluator.applyMask(&masked, masks: source.masks(), condition: job.condition, dimension: d)
            var config = TSNEConfig()
            config.threads = 1
            config.perplexity = min(30, Double(mapSample.count - 1) / 3)
            let name = dataset.conditions[job.condition].name
            do {
                let tsne = try TSNE(points: masked, dimension: d, config: config, warmStart: warm)
                work.map = MapJob(condition: job.condition, recompute: job.recompute, step: work.loadedStep, tsne: tsne,
                                  iterations: warm == nil ? Self.freshIterations : Self.warmIterations, layout: tsne.layout, failed: false)
                publish { $0.status = warm == nil ? "mapping \(name)" : "updating the map"; $0.error = nil }
            } catch {
                work.map = MapJob(condition: job.condition, recompute: job.recompute, step: work.loadedStep, tsne: nil,
                                  iterations: 0, layout: [], failed: true)
                publish { $0.status = "no map"; $0.error = "the map of \(name) cannot be made: \(error)" }
                return
            }
        }
        guard var map = work.map, let tsne = map.tsne else { return }
        let step = work.loadedStep
        var lastKL = Double.nan
        // Neighbours asked for and not yet found (the view opened, another query) come first:
        // the map pauses for them and resumes afterwards.
        let found = work.neighboursFor.flatMap { $0.step == step ? $0.query : nil }
        tsne.optimize(iterations: map.iterations - tsne.iteration, isCancelled: { [self] in
            lock.withLock {
                !running || request.condition != job.condition || request.recompute != job.recompute
                    || (request.wantsNeighbours && request.query != found)
            }
        }, progress: { [self] event in
            if case .klDivergence(let iteration, let kl) = event {
                lastKL = kl
                let partial = MapResult(condition: job.condition, recompute: job.recompute, weightsStep: step, layout: tsne.layout,
                                        iteration: iteration, klDivergence: kl, complete: false)
                publish { $0.map = partial }
            }
        })
        map.layout = tsne.layout
        work.map = map
        let final = MapResult(condition: job.condition, recompute: job.recompute, weightsStep: step, layout: tsne.layout,
                              iteration: tsne.iteration, klDivergence: lastKL, complete: map.complete)
        publish {
            $0.map = final
            $0.status = final.complete ? "map of step \(step)" : "map paused for the neighbours"
        }
    }
}
