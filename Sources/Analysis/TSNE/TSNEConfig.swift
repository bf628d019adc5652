import Basics
import Tensor

/// t-SNE settings, with the defaults of scikit-learn, bhtsne and openTSNE.
///
/// Units: the gradient here is dC/dy / 4 (openTSNE's convention), so the learning rate
/// max(N / 12, 50) equals scikit-learn's "auto" rate (N / 12 / 4 with the factor 4 kept).
/// theta compares a quadtree cell's side (not its half side) with the distance to its centre of
/// mass, as bhtsne and scikit-learn's `angle` do.
public struct TSNEConfig: Sendable, Equatable {
    public var perplexity: Double = 30
    /// Neighbours per point: this many times the perplexity (3, as the references use).
    public var neighboursPerPerplexity: Double = 3
    public var earlyExaggeration: Float = 12
    public var exaggerationIterations = 250
    public var initialMomentum: Float = 0.5
    public var finalMomentum: Float = 0.8
    /// Nil chooses max(N / 12, 50).
    public var learningRate: Float? = nil
    public var theta: Float = 0.5
    public var minimumGain: Float = 0.01
    /// PCA initialisation is scaled so that the first coordinate has this standard deviation.
    public var initialScale: Float = 1e-4
    public var seed: UInt64 = 1
    /// Worker threads for the kNN and the gradient.
    public var threads = 2
    /// How the repulsion is approximated.
    public var repulsion = Repulsion.automatic
    /// How each point's nearest neighbours are found.
    public var neighbours = NeighbourSearch.automatic
    /// The FFT grid's smallest number of boxes a side (smaller only in tests, for speed).
    var fftMinimumBoxes = 50

    public enum Repulsion: String, Sendable, CaseIterable {
        /// Exact below `exactBelowPoints`, Barnes-Hut below `fftFromPoints`, FFT interpolation from there on.
        case automatic = "auto"
        case exact
        case barnesHut = "bh"
        case fft
    }

    public enum NeighbourSearch: String, Sendable, CaseIterable {
        /// Exact below `approximateFromPoints`, approximate from there on.
        case automatic = "auto"
        case exact
        case approximate
    }

    /// From this many points the FFT repulsion is faster than Barnes-Hut (make bench measured
    /// Barnes-Hut ahead at 10,000 points and FFT twice as fast at 20,000) and the exact one (FFT
    /// 1.3x as fast at 20,000).
    public static let fftFromPoints = 15_000
    /// From this many points the approximate neighbour search is faster than the exact one.
    public static let approximateFromPoints = 50_000

    /// Neighbours per point: 3 x perplexity, at least 1 and at most N - 1 (perplexity is checked
    /// finite and below N first).
    func neighbourCount(pointCount n: Int) -> Int {
        max(1, min(n - 1, Int(min(Double(n), neighboursPerPerplexity * perplexity))))
    }

    /// Below this many points the exact repulsion, sixteen pairs at a time, is faster than
    /// Barnes-Hut. Built for AVX-512 it led at every size up to 12,000 points (2.2x at 1,500, 2.3x at
    /// 12,000, 1,000 iterations on 2 threads) and was level with FFT there; a portable build's
    /// 128-bit lanes fall behind Barnes-Hut at about 3,000.
    public static var exactBelowPoints: Int { SmallGemm.isAvailable ? 12_000 : 2_500 }

    /// The repulsion used for `n` points: `repulsion`, with `.automatic` resolved.
    func repulsion(pointCount n: Int) -> Repulsion {
        guard repulsion == .automatic else { return repulsion }
        return n < Self.exactBelowPoints ? .exact : n < Self.fftFromPoints ? .barnesHut : .fft
    }

    func usesApproximateNeighbours(pointCount n: Int) -> Bool {
        neighbours == .approximate || (neighbours == .automatic && n >= Self.approximateFromPoints)
    }

    public init() {}

    public func learningRate(pointCount n: Int) -> Float {
        learningRate ?? max(Float(n) / 12, 50)
    }

    public static let maximumPoints = 1_000_000
    public static let maximumNeighbourEntries = 200_000_000

    func validate(pointCount n: Int) throws {
        guard n >= 2 else { throw CSNError("t-SNE needs at least 2 points, not \(n)") }
        guard n <= Self.maximumPoints else { throw CSNError("t-SNE takes at most \(Self.maximumPoints) points, not \(n)") }
        guard perplexity > 0, perplexity.isFinite else { throw CSNError("the perplexity must be positive, not \(perplexity)") }
        guard perplexity < Double(n) else {
            throw CSNError("perplexity \(perplexity) is too large for \(n) points: it must be below the number of points (try \(max(1, (n - 1) / 3)))")
        }
        guard theta >= 0, theta.isFinite else { throw CSNError("theta must be zero or positive, not \(theta)") }
        // The neighbour lists and P hold about N x k entries each: capped so that a large
        // perplexity on many points is an error, not an allocation that fails.
        let k = neighbourCount(pointCount: n)
        let (entries, overflow) = n.multipliedReportingOverflow(by: k)
        guard !overflow, entries <= Self.maximumNeighbourEntries else {
            throw CSNError("perplexity \(perplexity) on \(n) points needs \(n) x \(k) neighbour entries, more than the \(Self.maximumNeighbourEntries) t-SNE allows (about 4 GB); lower the perplexity (at most \(Self.maximumNeighbourEntries / n / 3) here) or map fewer points")
        }
    }
}
