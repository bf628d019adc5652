import Basics
import Foundation
import Tensor

/// t-SNE (van der Maaten and Hinton, 2008) in two dimensions, with the repulsion summed exactly on
/// small maps, approximated by Barnes-Hut (van der Maaten, 2014) on mid-sized ones and by FFT
/// interpolation (FIt-SNE, Linderman et al. 2019) on large ones (TSNEConfig.repulsion(pointCount:)).
///
/// Schedule and defaults follow scikit-learn, bhtsne and openTSNE (see TSNEConfig): early
/// exaggeration 12 for 250 iterations with momentum 0.5, then momentum 0.8; per-coordinate gains
/// (+0.2 when the gradient changes sign, x0.8 otherwise, floor 0.01); PCA initialisation.
/// `optimize(iterations:)` can be called again and again on one state, and a new embedding of the
/// same points can start from a previous layout (`warmStart:`), skipping early exaggeration, so a
/// map follows a training model smoothly. Deviation from the references: none in the update rule;
/// the exact kNN uses blocked sgemm distances.
public final class TSNE {
    public let config: TSNEConfig
    public let affinities: AffinityMatrix
    public var count: Int { affinities.count }
    /// The map, [N, 2] row-major.
    public private(set) var layout: [Float]
    public private(set) var iteration = 0
    /// The iteration at which early exaggeration ends (0 for a warm start).
    public let exaggerationEnd: Int

    private var update: [Float]
    private var gains: [Float]
    private var gradient: [Float]
    private var repulsion: [Float]
    private var tree = QuadTree()
    /// The layout's coordinates apart, for the vectorised exact repulsion.
    private var xs: [Float], ys: [Float]
    private let fftRepulsion: FFTRepulsion
    /// One depth-first stack and one partial Z per worker, allocated once.
    private let stacks: [UnsafeMutablePointer<Int32>]
    private let partialZ: UnsafeMutableBufferPointer<Double>

    public enum Progress: Sendable {
        /// Reported every 50 iterations: the KL divergence of the unexaggerated P.
        case klDivergence(iteration: Int, value: Double)
    }

    /// Prepares t-SNE of `points` [N, d]; `warmStart` [N, 2] reuses a previous map (no PCA, no
    /// early exaggeration).
    public init(points: [Float], dimension d: Int, config: TSNEConfig = TSNEConfig(), warmStart: [Float]? = nil,
                progress: (AffinityMatrix.Stage, Int, Int) -> Void = { _, _, _ in }) throws {
        guard d >= 1, points.count % d == 0 else { throw CSNError("t-SNE input of \(points.count) values is not rows of \(d)") }
        // Squared distances are summed in Float: values so large that they overflow would turn
        // every affinity into NaN, so they are refused with the largest one named.
        let largest = points.reduce(Float(0)) { max($0, abs($1)) }
        guard largest.isFinite, Double(largest) * Double(largest) * 4 * Double(d) < Double(Float.greatestFiniteMagnitude) else {
            throw CSNError("t-SNE input values reach \(largest), so large that squared distances overflow; scale the vectors down")
        }
        self.config = config
        fftRepulsion = FFTRepulsion(minimumBoxes: config.fftMinimumBoxes)
        affinities = try AffinityMatrix(points: points, dimension: d, config: config, progress: progress)
        let n = points.count / d
        if let warmStart {
            guard warmStart.count == 2 * n else {
                throw CSNError("the previous map has \(warmStart.count / 2) points, but there are \(n)")
            }
            layout = warmStart
            exaggerationEnd = 0
        } else {
            layout = Self.pcaInitialisation(points, dimension: d, scale: config.initialScale, seed: config.seed)
            exaggerationEnd = config.exaggerationIterations
        }
        update = [Float](repeating: 0, count: 2 * n)
        gains = [Float](repeating: 1, count: 2 * n)
        gradient = [Float](repeating: 0, count: 2 * n)
        repulsion = [Float](repeating: 0, count: 2 * n)
        xs = [Float](repeating: 0, count: n)
        ys = [Float](repeating: 0, count: n)
        stacks = (0..<max(1, config.threads)).map { _ in .allocate(capacity: TSNEGradient.stackCapacity) }
        partialZ = .allocate(capacity: stacks.count)
        partialZ.initialize(repeating: 0)
    }

    deinit {
        stacks.forEach { $0.deallocate() }
        partialZ.deallocate()
    }

    /// Runs `iterations` more iterations (fewer if `isCancelled` turns true, checked every
    /// iteration). `exact` uses the plain O(N^2) loop (the tests' reference), whatever the config says.
    public func optimize(iterations: Int, exact: Bool = false, isCancelled: () -> Bool = { false },
                         progress: (Progress) -> Void = { _ in }) {
        let n = count
        let learningRate = config.learningRate(pointCount: n)
        for _ in 0..<iterations {
            if isCancelled() { return }
            let exaggerating = iteration < exaggerationEnd
            let z = computeGradient(exaggeration: exaggerating ? config.earlyExaggeration : 1, exact: exact)
            let momentum = exaggerating ? config.initialMomentum : config.finalMomentum
            step(momentum: momentum, learningRate: learningRate, count: 2 * n)
            iteration += 1
            if iteration % 50 == 0 { progress(.klDivergence(iteration: iteration, value: klDivergence(z: z))) }
        }
    }

    /// One step of gradient descent with momentum and per-coordinate gains.
    private func step(momentum: Float, learningRate: Float, count: Int) {
        let minimumGain = config.minimumGain
        gradient.withUnsafeBufferPointer { gradient in
            gains.withUnsafeMutableBufferPointer { gains in
                update.withUnsafeMutableBufferPointer { update in
                    layout.withUnsafeMutableBufferPointer { layout in
                        for i in 0..<count {
                            let g = gradient[i]
                            let gain = max((g > 0) != (update[i] > 0) ? gains[i] + 0.2 : gains[i] * 0.8, minimumGain)
                            gains[i] = gain
                            update[i] = momentum * update[i] - learningRate * gain * g
                            layout[i] += update[i]
                        }
                    }
                }
            }
        }
    }

    /// Fills `gradient`; returns Z.
    @discardableResult
    func computeGradient(exaggeration: Float, exact: Bool) -> Double {
        let n = count
        var z = 0.0
        layout.withUnsafeBufferPointer { y in
            gradient.withUnsafeMutableBufferPointer { g in
                repulsion.withUnsafeMutableBufferPointer { r in
                    g.update(repeating: 0)
                    nonisolated(unsafe) let g = g, r = r
                    let method = config.repulsion(pointCount: n)
                    if exact {
                        z = TSNEGradient.plainExactRepulsion(r.baseAddress!, y.baseAddress!, count: n)
                    } else if method == .fft {
                        z = fftRepulsion.repulsion(r.baseAddress!, y.baseAddress!, count: n, threads: stacks.count)
                    } else if method == .exact {
                        z = vectorisedExactRepulsion(r, y)
                    } else {
                        tree.build(y.baseAddress!, count: n)
                        let tree = self.tree, stacks = self.stacks, theta = config.theta
                        z = sumOverShards { w, range in
                            TSNEGradient.barnesHutRepulsion(r.baseAddress!, y.baseAddress!, tree: tree, theta: theta, rows: range, stack: stacks[w])
                        }
                    }
                    forEachShard(count: n, workers: stacks.count) { _, range in
                        TSNEGradient.attractive(g.baseAddress!, y.baseAddress!, affinities, exaggeration: exaggeration, rows: range)
                    }
                    let inverseZ = Float(1 / z)
                    for i in 0..<(2 * n) { g[i] -= r[i] * inverseZ }
                }
            }
        }
        return z
    }

    /// Runs `shard` over the rows on the workers and adds up what the shards that ran return, in
    /// worker order, so that the sum repeats exactly.
    private func sumOverShards(_ shard: (Int, Range<Int>) -> Double) -> Double {
        let partial = partialZ, n = count
        forEachShard(count: n, workers: stacks.count) { w, range in partial[w] = shard(w, range) }
        return partial.prefix(min(n, partial.count)).reduce(0, +)
    }

    /// The exact repulsion on the workers, each over its rows; returns Z.
    private func vectorisedExactRepulsion(_ r: UnsafeMutableBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Double {
        let n = count
        return xs.withUnsafeMutableBufferPointer { xs in
            ys.withUnsafeMutableBufferPointer { ys in
                for i in 0..<n {
                    xs[i] = y[2 * i]
                    ys[i] = y[2 * i + 1]
                }
                nonisolated(unsafe) let r = r, xs = UnsafeBufferPointer(xs), ys = UnsafeBufferPointer(ys)
                return sumOverShards { _, range in
                    TSNEGradient.exactRepulsion(r.baseAddress!, xs: xs.baseAddress!, ys: ys.baseAddress!, count: n, rows: range)
                }
            }
        }
    }

    /// KL(P || Q) with Q from the layout and normaliser `z` (exact or approximated).
    func klDivergence(z: Double) -> Double {
        let p = affinities
        return layout.withUnsafeBufferPointer { y in
            sumOverShards { _, range in
                var kl = 0.0
                for i in range {
                    for e in p.rowStart[i]..<p.rowStart[i + 1] {
                        let j = Int(p.columns[e]), pij = Double(p.values[e])
                        guard pij > 0 else { continue }
                        let dx = Double(y[2 * i] - y[2 * j]), dy = Double(y[2 * i + 1] - y[2 * j + 1])
                        let q = 1 / (1 + dx * dx + dy * dy) / z
                        kl += pij * log(pij / max(q, 1e-300))
                    }
                }
                return kl
            }
        }
    }

    /// The KL divergence of the current map (Z as the gradient approximates it).
    public func currentKLDivergence() -> Double {
        klDivergence(z: computeGradient(exaggeration: 1, exact: false))
    }

    /// The gradient at the current layout (for tests): from the plain exact loop, or by the
    /// config's method.
    func gradientForTesting(exact: Bool, exaggeration: Float = 1) -> [Float] {
        computeGradient(exaggeration: exaggeration, exact: exact)
        return gradient
    }

    /// Above this dimension the covariance is never formed: d x d doubles would cost O(d^2)
    /// memory (20,000 dimensions: 3.2 GB) and each power step is taken as Xc^T (Xc v) instead.
    static let explicitCovarianceLimit = 256

    /// Top two principal components (power iteration with deflation on the covariance, formed
    /// when d is small, applied implicitly otherwise), scaled so the first coordinate has standard
    /// deviation `scale`.
    static func pcaInitialisation(_ points: [Float], dimension d: Int, scale: Float, seed: UInt64) -> [Float] {
        let n = points.count / d
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(points[i * d + j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        var covariance: [Double] = []
        if d <= explicitCovarianceLimit {
            covariance = [Double](repeating: 0, count: d * d)
            var row = [Double](repeating: 0, count: d)
            for i in 0..<n {
                for j in 0..<d { row[j] = Double(points[i * d + j]) - mean[j] }
                for a in 0..<d where row[a] != 0 { for b in 0..<d { covariance[a * d + b] += row[a] * row[b] } }
            }
        }
        /// Covariance (times n) applied to v.
        func apply(_ v: [Double]) -> [Double] {
            var next = [Double](repeating: 0, count: d)
            if !covariance.isEmpty {
                for a in 0..<d { for b in 0..<d { next[a] += covariance[a * d + b] * v[b] } }
                return next
            }
            for i in 0..<n {
                var s = 0.0
                for j in 0..<d { s += (Double(points[i * d + j]) - mean[j]) * v[j] }
                for j in 0..<d { next[j] += s * (Double(points[i * d + j]) - mean[j]) }
            }
            return next
        }
        var generator = SeededGenerator(seed: seed)
        var components: [[Double]] = []
        for _ in 0..<2 {
            var v = (0..<d).map { _ in Double(generator.normal()) }
            for _ in 0..<300 {
                var next = apply(v)
                for c in components {  // deflation: stay orthogonal to the components found
                    let dot = zip(next, c).reduce(0) { $0 + $1.0 * $1.1 }
                    for a in 0..<d { next[a] -= dot * c[a] }
                }
                let norm = next.reduce(0) { $0 + $1 * $1 }.squareRoot()
                if norm < 1e-300 { break }
                let updated = next.map { $0 / norm }
                // Converged (to far below Float's precision): further steps change nothing.
                let change = zip(updated, v).reduce(0.0) { $0 + abs($1.0 - $1.1) }
                v = updated
                if change < 1e-13 * Double(d) { break }
            }
            components.append(v)
        }
        var layout = [Float](repeating: 0, count: 2 * n)
        for i in 0..<n {
            for (c, component) in components.enumerated() {
                var s = 0.0
                for j in 0..<d { s += (Double(points[i * d + j]) - mean[j]) * component[j] }
                layout[2 * i + c] = Float(s)
            }
        }
        let firstStd = (layout.enumerated().filter { $0.offset % 2 == 0 }.reduce(0.0) { $0 + Double($1.element * $1.element) } / Double(n)).squareRoot()
        let factor = firstStd > 0 ? scale / Float(firstStd) : scale
        if firstStd == 0 {
            // All points equal along every direction: start from a tiny seeded jitter instead.
            for i in layout.indices { layout[i] = generator.normal() }
        }
        return layout.map { $0 * factor }
    }
}
