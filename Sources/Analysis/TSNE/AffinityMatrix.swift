import Basics
import Foundation
import Tensor

/// The input similarities of t-SNE: k nearest neighbours (exact, or approximate for large inputs),
/// a Gaussian per point whose width gives the target perplexity (binary search on its precision),
/// then P = (P_j|i + P_i|j) / 2N, kept sparse (CSR, symmetric).
public struct AffinityMatrix: Sendable {
    public let count: Int
    /// Row i holds columns[rowStart[i]..<rowStart[i + 1]] with values[...]; sum of all values is 1.
    public let rowStart: [Int]
    public let columns: [Int32]
    public let values: [Float]

    /// Exact kNN (squared Euclidean distances from blocked sgemm), ties by index.
    /// Returns neighbour indices and squared distances, [N, k] each.
    static func nearestNeighbours(_ points: [Float], dimension d: Int, k: Int, threads: Int,
                                  progress: (Int, Int) -> Void = { _, _ in }) -> (indices: [Int32], distances: [Float]) {
        let n = points.count / d
        var norms = [Float](repeating: 0, count: n)
        for i in 0..<n { for j in 0..<d { norms[i] += points[i * d + j] * points[i * d + j] } }
        var indices = [Int32](repeating: 0, count: n * k)
        var distances = [Float](repeating: 0, count: n * k)
        // Each worker holds block x N products: at most 16M floats (64 MB) whatever N is.
        let block = max(8, min(256, (1 << 24) / max(n, 1)))
        let blocks = (n + block - 1) / block
        // OpenBLAS's thread count is process-wide: it is set once at start (single-threaded, see
        // BlasThreads), never here, since another thread may be inside sgemm meanwhile.
        let finished = Locked(0)
        points.withUnsafeBufferPointer { x in
            norms.withUnsafeBufferPointer { norms in
                indices.withUnsafeMutableBufferPointer { outIndex in
                    distances.withUnsafeMutableBufferPointer { outDistance in
                        nonisolated(unsafe) let outIndex = outIndex.baseAddress!, outDistance = outDistance.baseAddress!
                        let norms = norms.baseAddress!
                        forEachShard(count: blocks, workers: threads) { _, range in
                            let products = FloatBuffer(count: block * n), row = FloatBuffer(count: n)
                            for b in range {
                                let first = b * block, rows = min(block, n - first)
                                // products[r, j] = x_(first + r) . x_j
                                sgemm(transposeB: true, m: rows, n: n, k: d, a: x.baseAddress! + first * d, b: x.baseAddress!, beta: 0, c: products.pointer)
                                for r in 0..<rows {
                                    let i = first + r
                                    Self.selectNearest(i: i, normI: norms[i], norms: norms, products: products.pointer + r * n, count: n, k: k,
                                                       scratch: row.pointer, indices: outIndex + i * k, distances: outDistance + i * k)
                                }
                                finished.withLock { done in
                                    done += 1
                                    progress(done, blocks)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (indices, distances)
    }

    /// Point i's k nearest from its row of products: all distances first (a loop the compiler
    /// vectorises), then one pass keeping the k best in order; only a candidate below the k-th
    /// best costs more than a comparison. Ties keep the lower index.
    @inline(__always)
    private static func selectNearest(i: Int, normI: Float, norms: UnsafePointer<Float>, products: UnsafePointer<Float>, count n: Int, k: Int,
                                      scratch: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>,
                                      distances: UnsafeMutablePointer<Float>) {
        for j in 0..<n { scratch[j] = max(0, normI + norms[j] - 2 * products[j]) }
        scratch[i] = .infinity
        var found = 0
        var threshold = Float.infinity
        for j in 0..<n {
            let squared = scratch[j]
            guard squared < threshold || (found < k && j != i) else { continue }
            var position = found < k ? found : k - 1
            while position > 0 && squared < distances[position - 1] {
                if position < k {
                    distances[position] = distances[position - 1]
                    indices[position] = indices[position - 1]
                }
                position -= 1
            }
            distances[position] = squared
            indices[position] = Int32(j)
            if found < k { found += 1 }
            if found == k { threshold = distances[k - 1] }
        }
    }

    /// Conditional probabilities P_j|i over each point's k neighbours, with the Gaussian precision
    /// found by bisection so that the entropy is log(perplexity). Returns [N, k].
    static func conditionalProbabilities(squaredDistances: [Float], count n: Int, k: Int, perplexity: Double,
                                         threads: Int = 1) -> [Float] {
        let target = log(perplexity)
        var probabilities = [Float](repeating: 0, count: n * k)
        probabilities.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            squaredDistances.withUnsafeBufferPointer { squared in
                forEachShard(count: n, workers: threads) { _, range in
                    var row = [Double](repeating: 0, count: k), distances = [Double](repeating: 0, count: k)
                    for i in range {
                        // Distances relative to the nearest keep exp() in range for any scale.
                        var nearest = Double.infinity
                        for t in 0..<k { nearest = min(nearest, Double(squared[i * k + t])) }
                        for t in 0..<k { distances[t] = Double(squared[i * k + t]) - nearest }
                        var beta = 1.0, low = 0.0, high = Double.infinity
                        for _ in 0..<200 {
                            var sum = 0.0, weighted = 0.0
                            for t in 0..<k {
                                row[t] = exp(-beta * distances[t])
                                sum += row[t]
                                weighted += row[t] * distances[t]
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
                        var sum = 0.0
                        for t in 0..<k { sum += row[t] }
                        for t in 0..<k { out[i * k + t] = Float(row[t] / sum) }
                    }
                }
            }
        }
        return probabilities
    }

    /// Stages of building P, reported as (stage, done, total).
    public enum Stage: String, Sendable {
        case neighbours = "nearest neighbours"
        case affinities
    }

    /// Builds P from points [N, d]; k = min(N - 1, 3 * perplexity).
    public init(points: [Float], dimension d: Int, config: TSNEConfig, progress: (Stage, Int, Int) -> Void = { _, _, _ in }) throws {
        let n = points.count / d
        try config.validate(pointCount: n)
        if let bad = points.firstIndex(where: { !$0.isFinite }) {
            throw CSNError("t-SNE input holds \(points[bad]) (point \(bad / d), coordinate \(bad % d)): every value must be finite")
        }
        let k = config.neighbourCount(pointCount: n)
        let neighbours: [Int32], distances: [Float]
        if config.usesApproximateNeighbours(pointCount: n) {
            (neighbours, distances) = points.withUnsafeBufferPointer { x in
                ApproximateNeighbours.search(x.baseAddress!, count: n, dimension: d, k: k, threads: config.threads, seed: config.seed,
                                             progress: { progress(.neighbours, $0, $1) })
            }
        } else {
            (neighbours, distances) = Self.nearestNeighbours(points, dimension: d, k: k, threads: config.threads,
                                                             progress: { progress(.neighbours, $0, $1) })
        }
        progress(.affinities, 0, 2)
        let conditional = Self.conditionalProbabilities(squaredDistances: distances, count: n, k: k, perplexity: config.perplexity,
                                                        threads: config.threads)
        progress(.affinities, 1, 2)
        (rowStart, columns, values) = Self.symmetrise(neighbours: neighbours, conditional: conditional, count: n, k: k, threads: config.threads)
        progress(.affinities, 2, 2)
        count = n
    }

    /// p_ij = (p_j|i + p_i|j) / 2N as CSR: each kNN pair is written to both rows, each row sorted
    /// by column, and a pair found from both sides merged (a + b in both rows: exactly symmetric).
    /// Entries are packed as column << 32 | value bits so that rows sort in place.
    static func symmetrise(neighbours: [Int32], conditional: [Float], count n: Int, k: Int, threads: Int)
        -> (rowStart: [Int], columns: [Int32], values: [Float]) {
        var start = [Int](repeating: 0, count: n + 1)
        for i in 0..<n {
            for t in 0..<k {
                start[i + 1] += 1
                start[Int(neighbours[i * k + t]) + 1] += 1
            }
        }
        for i in 0..<n { start[i + 1] += start[i] }
        var packed = [UInt64](repeating: 0, count: start[n])
        var next = Array(start.prefix(n))
        let scale = 1 / Float(2 * n)
        for i in 0..<n {
            for t in 0..<k {
                let j = Int(neighbours[i * k + t]), p = (conditional[i * k + t] * scale).bitPattern
                packed[next[i]] = UInt64(UInt32(j)) << 32 | UInt64(p)
                next[i] += 1
                packed[next[j]] = UInt64(UInt32(i)) << 32 | UInt64(p)
                next[j] += 1
            }
        }
        // Sort each row and merge equal columns in place; kept[i] counts row i's merged entries.
        var kept = [Int](repeating: 0, count: n)
        packed.withUnsafeMutableBufferPointer { packed in
            kept.withUnsafeMutableBufferPointer { kept in
                nonisolated(unsafe) let packed = packed, kept = kept
                forEachShard(count: n, workers: threads) { _, range in
                    for i in range {
                        var row = UnsafeMutableBufferPointer(rebasing: packed[start[i]..<start[i + 1]])
                        row.sort()
                        var write = 0
                        for entry in row {
                            let value = Float(bitPattern: UInt32(truncatingIfNeeded: entry))
                            if write > 0 && row[write - 1] >> 32 == entry >> 32 {
                                let merged = Float(bitPattern: UInt32(truncatingIfNeeded: row[write - 1])) + value
                                row[write - 1] = (entry >> 32) << 32 | UInt64(merged.bitPattern)
                            } else {
                                row[write] = entry
                                write += 1
                            }
                        }
                        kept[i] = write
                    }
                }
            }
        }
        var rowStart = [Int](repeating: 0, count: n + 1)
        for i in 0..<n { rowStart[i + 1] = rowStart[i] + kept[i] }
        var columns = [Int32](repeating: 0, count: rowStart[n]), values = [Float](repeating: 0, count: rowStart[n])
        for i in 0..<n {
            for e in 0..<kept[i] {
                let entry = packed[start[i] + e]
                columns[rowStart[i] + e] = Int32(truncatingIfNeeded: entry >> 32)
                values[rowStart[i] + e] = Float(bitPattern: UInt32(truncatingIfNeeded: entry))
            }
        }
        return (rowStart, columns, values)
    }

    /// The entropy (nats) of each point's conditional distribution, for tests of the calibration.
    static func entropies(_ probabilities: [Float], count n: Int, k: Int) -> [Double] {
        (0..<n).map { i in
            -probabilities[(i * k)..<((i + 1) * k)].reduce(0.0) { $0 + ($1 > 0 ? Double($1) * log(Double($1)) : 0) }
        }
    }
}
