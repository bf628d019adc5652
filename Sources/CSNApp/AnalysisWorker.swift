import Analysis
import Basics
import CSN
import Datasets
import Foundation

/// Computes what the Subspaces and Neighbours views show, on two threads of its own and its own
/// copy of the model. The UI thread only sends requests (condition, query) and reads the newest
/// AnalysisSnapshot; drawing never moves work between threads.
///
/// - The refresh thread runs under SCHED_IDLE (nice 19 where that is refused), so that it takes
///   the cycles training leaves idle: with two lock-step shards, a core taken from one stalls
///   both. It subscribes to the trainer's weights (a WeightsMailbox) and takes newer ones as
///   often as keeps its average share of a core at `refreshShare`, but at least every
///   `maximumRefreshSeconds`. For the selected condition it maps a fixed sample of test images
///   with t-SNE (warm-started from the previous map when only the weights changed, so the map
///   moves rather than jumps; a map that a request interrupted is finished before newer weights
///   are taken). It keeps the whole test split's embeddings, made right after the first map
///   (which does not wait for them) and refreshed at every load while the Neighbours view is
///   open, else every `searchRefreshSeconds`.
/// - The question thread runs at normal priority and only searches those embeddings, so that
///   opening the Neighbours view or asking for another test image is answered at once, whatever
///   the refresh thread is doing. A query outside the test split needs the model, so the refresh
///   thread answers it, pausing its map.
///
/// `@unchecked Sendable`: `request`, `latest`, `search`, `answered`, `running`, `liveThreads` and
/// `subscription` are guarded by `lock`; `source` and the caches are used by the refresh thread alone;
/// everything else is immutable.
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
    /// A refresh (the map sample embedded, 150 iterations of Barnes-Hut t-SNE on it) took about
    /// 0.6 s of a core, so at a tenth of a core the map was redrawn every 6 s or so and training
    /// with the UI open kept a mean 96.9% of headless over 20 rounds (a 95% lower bound of 92.9%,
    /// under the goal's 93%). At 0.03 a refresh comes about every 20 s, the map on screen stays
    /// under 30 s old (median 14 s), and 10 rounds gave a mean of 98.2% (bound 93.5%). With the
    /// map's t-SNE summed exactly, sixteen pairs at a time, its 150 iterations take about 0.06 s
    /// instead of 0.26 (0.37 against 1.7 ms an iteration on 1,500 points; a refresh about 0.33 s of
    /// a core in a sampled window), and at 0.015 the map stayed at most 27 s old (median 13 s)
    /// while 20 rounds kept a mean 97.5% ± 2.2 of headless (bound 93.7%).
    let refreshShare: Double
    public static let defaultRefreshShare = 0.015
    /// Newer weights are taken at least this often (the share is exceeded if it must be). With
    /// the map's own time and the trainer's 2 s between copies, the map on screen stays under 30 s
    /// old; every refresh costs the trainer (a refresh with the test split embedded took about a
    /// fifth of a core at 16 s, and training with the UI open kept about 90% of headless).
    static let maximumRefreshSeconds = 24.0
    /// The test split's embeddings are refreshed this often while the Neighbours view is closed.
    static let searchRefreshSeconds = 90.0
    /// Images embedded between two looks for a question waiting.
    static let embeddingChunk = 64
    let weights: WeightsMailbox
    let source: VectorSource
    /// Iterations of a map from scratch, and of a warm-started update.
    static let freshIterations = 750, warmIterations = 150

    private let lock = NSCondition()
    private var request = AnalysisRequest()
    private var latest = AnalysisSnapshot()
    /// The last complete set of the test split's embeddings (Neighbours view).
    private var search = SearchSet()
    /// The query and the search set's step of the neighbours last published.
    private var answered: (query: Int, step: Int)? = nil
    private var running = true
    private var liveThreads = 0
    /// The worker's subscription to `weights`, ended by `stop`.
    private var subscription: Int? = nil

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
        subscription = weights.subscribe { [weak self] in self?.wake() }
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
        lock.withLock { liveThreads = 2 }
        let refresh = Thread { [self] in
            lowerThisThreadsPriority()
            run()
            threadEnded()
        }
        refresh.name = "csn-analysis"
        refresh.start()
        let questions = Thread { [self] in
            answerTestQueries()
            threadEnded()
        }
        questions.name = "csn-questions"
        questions.start()
    }

    /// Linux's SCHED_IDLE policy for the calling thread alone: it then runs only on a core that
    /// nothing else wants, and any waking thread of normal policy takes the core back at once.
    /// (Glibc's header names it only with _GNU_SOURCE; the value is Linux's ABI.) Where that is
    /// refused, nice 19.
    private func lowerThisThreadsPriority() {
        #if os(Linux)
        let schedIdle: Int32 = 5
        var parameters = sched_param()
        if pthread_setschedparam(pthread_self(), schedIdle, &parameters) != 0 {
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        }
        #endif
    }

    private func threadEnded() {
        lock.withLock {
            liveThreads -= 1
            lock.broadcast()
        }
    }

    /// Asks the worker to stop and returns at once: quitting never waits for an analysis (a
    /// map being computed is cancelled at its next iteration; the thread then ends by itself).
    public func stop() {
        let ended = lock.withLock {
            running = false
            lock.broadcast()
            let ended = subscription
            subscription = nil
            return ended
        }
        if let ended { weights.unsubscribe(ended) }
    }

    /// Waits until the worker's threads have ended (for tests and the bench).
    public func waitUntilStopped() {
        lock.withLock { while liveThreads > 0 { lock.wait() } }
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
        /// When the loaded weights were made (monotonic seconds), for the map's age.
        var loadedMadeAt = 0.0
        /// Monotonic seconds (system uptime) and this thread's CPU seconds when the weights were loaded.
        var loadedAt = -Double.infinity, cpuAtLoad = 0.0
        /// The map sample's embeddings, per network, for the loaded weights.
        var embeddings: [Int: [Float]] = [:]
        var map: MapJob? = nil
    }

    /// The test split's embeddings, per network, with the masks and the step of the weights they
    /// were made with.
    struct SearchSet {
        var embeddings: [Int: [Float]] = [:]
        var masks: [Float] = []
        var step = -1
        var madeAt = -Double.infinity
        var isEmpty: Bool { embeddings.isEmpty }
    }

    /// The map being made: for which condition, recompute count and weights; its optimiser, kept
    /// while unfinished so that an interrupted map resumes where it stopped.
    private struct MapJob {
        var condition: Int
        var recompute: Int
        var step: Int
        var weightsMadeAt: Double
        var tsne: TSNE?
        var iterations: Int
        var layout: [Float]
        var failed: Bool
        var complete: Bool { failed || (tsne.map { $0.iteration >= iterations } ?? false) }

        func matches(_ request: AnalysisRequest, step: Int) -> Bool {
            condition == request.condition && recompute == request.recompute && self.step == step
        }
    }

    /// The refresh thread.
    private func run() {
        var work = Work()
        while let (job, newest, takeWeights) = nextJob(&work) {
            if takeWeights { load(newest, wantsNeighbours: job.wantsNeighbours, into: &work) }
            answerQuestion(&work)
            if isStopping { break }
            makeMap(job, &work)
        }
    }

    /// The question thread: the neighbours of each test image asked for, from the newest search set.
    private func answerTestQueries() {
        while let (query, search) = nextTestQuery() {
            publishNeighbours(of: query, in: search)
        }
    }

    /// Waits for a test image whose neighbours are asked for and not yet published for the newest
    /// search set; nil when the worker stops.
    private func nextTestQuery() -> (Int, SearchSet)? {
        lock.withLock {
            while running {
                if request.wantsNeighbours && !search.isEmpty && searchRow[Int32(request.query)] != nil && !isAnswered(request.query) {
                    return (request.query, search)
                }
                lock.wait()
            }
            return nil
        }
    }

    /// Whether `query`'s neighbours are published for the newest search set (call with the lock held).
    private func isAnswered(_ query: Int) -> Bool {
        !search.isEmpty && answered?.query == query && answered?.step == search.step
    }

    /// Whether the refresh thread must answer the request's question (call with the lock held):
    /// asked, not answered, and either not a test image or no search set yet.
    private var refreshThreadOwesAnswer: Bool {
        request.wantsNeighbours && !isAnswered(request.query) && (search.isEmpty || searchRow[Int32(request.query)] == nil)
    }

    private func publishNeighbours(of query: Int, in search: SearchSet) {
        let result = NeighbourResult(query: query, weightsStep: search.step, lists: neighbours(of: query, in: search))
        lock.withLock {
            answered = (query, search.step)
            latest.neighbours = result
        }
    }

    /// Whether stop() was called: long embeddings ask between batches, so quitting is prompt.
    private var isStopping: Bool { lock.withLock { !running } }

    /// When newer weights may be taken (monotonic seconds): this thread's time on the loaded ones
    /// is then at most `refreshShare` of the time since they were loaded.
    private func refreshTime(_ work: Work) -> Double {
        work.loadedAt + min((Self.threadSeconds() - work.cpuAtLoad) / refreshShare, Self.maximumRefreshSeconds)
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
                let questionsDone = !refreshThreadOwesAnswer && !(search.isEmpty && mapDone)
                let newerWeights = newest.step != work.loadedStep
                let take = newerWeights && mapFinished && (work.loadedStep < 0 || now >= refreshAt)
                if take || !mapDone || !questionsDone { return (job, newest, take) }
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
        work.loadedMadeAt = newest.madeAt
        // The map sample's images are test images: with the split refreshed, their rows come from
        // it. The first set is made by answerQuestion once the first map is drawn (or here when
        // asked for), so that the first map does not wait for the whole split.
        let (searchEmpty, searchMadeAt) = lock.withLock { (search.isEmpty, search.madeAt) }
        let refreshSearch = mapSampleRows != nil
            && (wantsNeighbours || (!searchEmpty && work.loadedAt - searchMadeAt >= Self.searchRefreshSeconds))
        if refreshSearch && searchEmpty { publish { $0.status = "embedding \(self.searchSet.count) test images" } }
        var fresh = SearchSet(masks: source.masks(), step: newest.step, madeAt: work.loadedAt)
        for network in 0..<source.networkCount {
            if refreshSearch, let rows = mapSampleRows {
                guard let all = embedInChunks(searchSet, network: network) else { return }
                fresh.embeddings[network] = all
                work.embeddings[network] = Self.gather(rows, from: all, dimension: source.dimension)
            } else {
                guard let sample = embedInChunks(mapSample, network: network) else { return }
                work.embeddings[network] = sample
            }
        }
        if refreshSearch { replaceSearch(with: fresh) }
        publish { $0.loadedStep = newest.step }
    }

    /// Makes `fresh` the search set and wakes the question thread for it.
    private func replaceSearch(with fresh: SearchSet) {
        lock.withLock {
            search = fresh
            lock.broadcast()
        }
    }

    /// `images`' embeddings by chunks, so that stopping is prompt. Nil when the worker is stopping.
    private func embedInChunks(_ images: [Int32], network: Int) -> [Float]? {
        var out: [Float] = []
        out.reserveCapacity(images.count * source.dimension)
        var start = 0
        while start < images.count {
            if isStopping { return nil }
            let end = min(images.count, start + Self.embeddingChunk)
            out += source.embed(Array(images[start..<end]), network: network, dataset: dataset, isCancelled: { isStopping })
            start = end
        }
        return isStopping ? nil : out
    }

    /// The refresh thread's share of the questions: the first search set (once the first map is
    /// drawn, or at once when neighbours are asked for), and the neighbours of a query outside
    /// the test split.
    private func answerQuestion(_ work: inout Work) {
        let (job, owed, current) = lock.withLock { (request, refreshThreadOwesAnswer, self.search) }
        let firstSetDue = current.isEmpty && work.map?.complete == true
        guard owed || firstSetDue, !isStopping else { return }
        var made = current
        if made.isEmpty {
            publish { $0.status = "embedding \(self.searchSet.count) test images" }
            made = SearchSet(masks: source.masks(), step: work.loadedStep, madeAt: work.loadedAt)
            for network in 0..<source.networkCount {
                guard let all = embedInChunks(searchSet, network: network) else { return }
                made.embeddings[network] = all
            }
            replaceSearch(with: made)
            // A test image is now the question thread's.
            if !owed || searchRow[Int32(job.query)] != nil { return }
        }
        publishNeighbours(of: job.query, in: made)
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
                work.map = MapJob(condition: job.condition, recompute: job.recompute, step: work.loadedStep,
                                  weightsMadeAt: work.loadedMadeAt, tsne: tsne,
                                  iterations: warm == nil ? Self.freshIterations : Self.warmIterations, layout: tsne.layout, failed: false)
                publish { $0.status = warm == nil ? "mapping \(name)" : "updating the map"; $0.error = nil }
            } catch {
                work.map = MapJob(condition: job.condition, recompute: job.recompute, step: work.loadedStep,
                                  weightsMadeAt: work.loadedMadeAt, tsne: nil,
                                  iterations: 0, layout: [], failed: true)
                publish { $0.status = "no map"; $0.error = "the map of \(name) cannot be made: \(error)" }
                return
            }
        }
        guard var map = work.map, let tsne = map.tsne else { return }
        let step = work.loadedStep
        var lastKL = Double.nan
        // A question only this thread can answer comes first: the map pauses for it and resumes
        // afterwards.
        tsne.optimize(iterations: map.iterations - tsne.iteration, isCancelled: { [self] in
            lock.withLock {
                !running || request.condition != job.condition || request.recompute != job.recompute || refreshThreadOwesAnswer
            }
        }, progress: { [self] event in
            if case .klDivergence(let iteration, let kl) = event {
                lastKL = kl
                let partial = MapResult(condition: job.condition, recompute: job.recompute, weightsStep: step, weightsMadeAt: map.weightsMadeAt,
                                        layout: tsne.layout, iteration: iteration, klDivergence: kl, complete: false)
                publish { $0.map = partial }
            }
        })
        map.layout = tsne.layout
        work.map = map
        let final = MapResult(condition: job.condition, recompute: job.recompute, weightsStep: step,
                              weightsMadeAt: map.weightsMadeAt, layout: tsne.layout,
                              iteration: tsne.iteration, klDivergence: lastKL, complete: map.complete)
        publish {
            $0.map = final
            $0.status = final.complete ? "map of step \(step)" : "map paused for the neighbours"
        }
    }
}
