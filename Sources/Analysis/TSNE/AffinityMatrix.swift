import Basics
import Foundation
import Tensor

/// The input similarities of t-SNE: exact k nearest neighbours, a Gaussian per point whose width
/// gives the target perplexity (binary search on its precision), then P = (P_j|i + P_i|j) / 2N,
/// kept sparse (CSR, symmetric).
public struct AffinityMatrix: Sendable {
    public let count: Int
    /// Row i holds columns[rowStart[i]..<rowStart[i + 1]] with values[...]; sum of all values is 1.
    public let rowStart: [Int]
    public let columns: [Int32]
    public let values: [Float]

    /// Exact kNN (squared Euclidean distances from blocked sgemm), ties by index.
    /// Returns neighbour indices and squared distances, [N, k] each.
    static func nearestNeighbours(_ points: [Float], dimension d: Int, k: Int, threads: Int) -> (indices: [Int32], distances: [Float]) {
        let n = points.count / d
        var norms = [Float](repeating: 0, count: n)
        for i in 0..<n { for j in 0..<d { norms[i] += points[i * d + j] * points[i * d + j] } }
        var indices = [Int32](repeating: 0, count: n * k)
        var distances = [Float](repeating: 0, count: n * k)
        let block = 256
        let blocks = (n + block - 1) / block
        // OpenBLAS's thread count is process-wide: it is set once at start (single-threaded, see
        // BlasThreads), never here, since another thread may be inside sgemm meanwhile.
        points.withUnsafeBufferPointer { x in
            indices.withUnsafeMutableBufferPointer { outIndex in
                distances.withUnsafeMutableBufferPointer { outDistance in
                    nonisolated(unsafe) let outIndex = outIndex, outDistance = outDistance
                    forEachShard(count: blocks, workers: threads) { _, range in
                        let products = FloatBuffer(count: block * n)
                        var bestDistance = [Float](repeating: 0, count: k), bestIndex = [Int32](repeating: 0, count: k)
                        for b in range {
                            let first = b * block, rows = min(block, n - first)
                            // products[r, j] = x_(first + r) . x_j
                            sgemm(transposeB: true, m: rows, n: n, k: d, a: x.baseAddress! + first * d, b: x.baseAddress!, beta: 0, c: products.pointer)
                            for r in 0..<rows {
                                let i = first + r
                                var found = 0
                                for j in 0..<n where j != i {
                                    let squared = max(0, norms[i] + norms[j] - 2 * products[r * n + j])
                                    if found == k && squared >= bestDistance[k - 1] { continue }
                                    var position = found < k ? found : k - 1
                                    while position > 0 && squared < bestDistance[position - 1] {
                                        if position < k { bestDistance[position] = bestDistance[position - 1]; bestIndex[position] = bestIndex[position - 1] }
                                        position -= 1
                                    }
                                    bestDistance[position] = squared
                                    bestIndex[position] = Int32(j)
                                    if found < k { found += 1 }
                                }
                                for t in 0..<k {
                                    outIndex[i * k + t] = bestIndex[t]
                                    outDistance[i * k + t] = bestDistance[t]
                                }
                            }
                        }
                    }
                }
            }
        }
        return (indices, distances)
    }

    /// Conditional probabilities P_j|i over each point's k neighbours, with the Gaussian precision
    /// found by bisection so that the entropy is log(perplexity). Returns [N, k].
    static func conditionalProbabilities(squaredDistances: [Float], count n: Int, k: Int, perplexity: Double) -> [Float] {
        let target = log(perplexity)
        var probabilities = [Float](repeating: 0, count: n * k)
        var row = [Double](repeating: 0, count: k)
        for i in 0..<n {
            let distances = squaredDistances[(i * k)..<((i + 1) * k)].map(Double.init)
            // Distances relative to the nearest keep exp() in range for any scale.
            let nearest = distances.min() ?? 0
            var beta = 1.0, low = 0.0, high = Double.infinity
            for _ in 0..<200 {
                var sum = 0.0, weighted = 0.0
                for t in 0..<k {
                    row[t] = exp(-beta * (distances[t] - nearest))
                    sum += row[t]
                    weighted += row[t] * (distances[t] - nearest)
                }
                let entropy = log(sum) + beta * weighted / sum
                if abs(entropy - target) < 1e-5 { break }
                if entropy > target {
                    low = beta
                    beta = high.isInfinite ? beta * 2 : (beta + high) / 2
                } else {
                    high = beta
                    beta = (beta + low) / 2
                }
            }
            let sum = row.prefix(k).reduce(0, +)
            for t in 0..<k { probabilities[i * k + t] = Float(row[t] / sum) }
        }
        return probabilities
    }

    /// Builds P from points [N, d]; k = min(N - 1, 3 * perplexity).
    public init(points: [Float], dimension d: Int, config: TSNEConfig) throws {
        let n = points.count / d
        try config.validate(pointCount: n)
        if let bad = points.firstIndex(where: { !$0.isFinite }) {
            throw CSNError("t-SNE input holds \(points[bad]) (point \(bad / d), coordinate \(bad % d)): every value must be finite")
        }
        let k = max(1, min(n - 1, Int(config.neighboursPerPerplexity * config.perplexity)))
        let (neighbours, distances) = Self.nearestNeighbours(points, dimension: d, k: k, threads: config.threads)
        let conditional = Self.conditionalProbabilities(squaredDistances: distances, count: n, k: k, perplexity: config.perplexity)
        // Symmetrise: p_ij = (p_j|i + p_i|j) / 2N, through a map per row (built once).
        var rows = [[Int32: Float]](repeating: [:], count: n)
        for i in 0..<n {
            for t in 0..<k {
                let j = Int(neighbours[i * k + t]), p = conditional[i * k + t] / Float(2 * n)
                rows[i][Int32(j), default: 0] += p
                rows[j][Int32(i), default: 0] += p
            }
        }
        var rowStart = [0], columns: [Int32] = [], values: [Float] = []
        for i in 0..<n {
            for (j, p) in rows[i].sorted(by: { $0.key < $1.key }) {
                columns.append(j)
                values.append(p)
            }
            rowStart.append(columns.count)
        }
        count = n
        self.rowStart = rowStart
        self.columns = columns
        self.values = values
    }

    /// The entropy (nats) of each point's conditional distribution, for tests of the calibration.
    static func entropies(_ probabilities: [Float], count n: Int, k: Int) -> [Double] {
        (0..<n).map { i in
            -probabilities[(i * k)..<((i + 1) * k)].reduce(0.0) { $0 + ($1 > 0 ? Double($1) * log(Double($1)) : 0) }
        }
    }
}
