import Basics
import Tensor

/// Approximate k nearest neighbours for large t-SNE inputs: a forest of random-projection trees
/// (each split by the hyperplane halfway between two random points of the node) whose leaves are
/// searched exactly with sgemm, then rounds of "a neighbour's neighbour is likely a neighbour"
/// (the local join of NN-descent) over each point's closest neighbours. Seeded: the same input,
/// seed and thread count give the same lists.
enum ApproximateNeighbours {
    static let trees = 6
    /// Leaves hold at most this many points (three times k if that is more).
    static let smallestLeaf = 256
    static let refinementRounds = 2
    /// Neighbours whose own lists are joined in a refinement round (all of them for small k).
    static let joined = 12

    /// Indices and squared distances [N, k], nearest first (ties by index).
    static func search(_ points: UnsafePointer<Float>, count n: Int, dimension d: Int, k: Int, threads: Int, seed: UInt64,
                       progress: (Int, Int) -> Void = { _, _ in }) -> (indices: [Int32], distances: [Float]) {
        var lists = NeighbourLists(count: n, k: k)
        var norms = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var s: Float = 0
            for j in 0..<d { s += points[i * d + j] * points[i * d + j] }
            norms[i] = s
        }
        let steps = trees + refinementRounds
        let leafSize = max(smallestLeaf, 3 * k)
        var generator = SeededGenerator(seed: seed)
        for tree in 0..<trees {
            let leaves = randomProjectionLeaves(points, count: n, dimension: d, leafSize: leafSize, generator: &generator)
            searchLeaves(leaves, points, norms: norms, dimension: d, leafSize: leafSize, lists: &lists, threads: threads)
            progress(tree + 1, steps)
        }
        fillShortLists(points, dimension: d, lists: &lists)
        for round in 0..<refinementRounds {
            refine(points, dimension: d, lists: &lists, threads: threads)
            progress(trees + round + 1, steps)
        }
        return lists.sorted()
    }

    /// One tree's leaves: a permutation of 0..<n cut into runs of at most leafSize.
    static func randomProjectionLeaves(_ points: UnsafePointer<Float>, count n: Int, dimension d: Int, leafSize: Int,
                                       generator: inout SeededGenerator) -> (order: [Int32], starts: [Int]) {
        var order = (0..<n).map { Int32($0) }
        var starts: [Int] = []
        var pending = [(0, n)]
        var side = [Float](repeating: 0, count: n)
        var normal = [Float](repeating: 0, count: d)
        while let (low, high) = pending.popLast() {
            let size = high - low
            if size <= leafSize {
                starts.append(low)
                continue
            }
            let a = Int(order[low + generator.index(below: size)]), b = Int(order[low + generator.index(below: size)])
            var offset: Float = 0
            for j in 0..<d {
                normal[j] = points[a * d + j] - points[b * d + j]
                offset += normal[j] * (points[a * d + j] + points[b * d + j]) / 2
            }
            var lessCount = 0
            for position in low..<high {
                let i = Int(order[position])
                var s: Float = 0
                for j in 0..<d { s += normal[j] * points[i * d + j] }
                side[position] = s - offset
                if side[position] < 0 { lessCount += 1 }
            }
            // Duplicates (or a and b equal) can put everything on one side: split in the middle.
            var cut = low + lessCount
            if lessCount == 0 || lessCount == size {
                cut = low + size / 2
            } else {
                var write = low
                var rest: [Int32] = []
                rest.reserveCapacity(size - lessCount)
                for position in low..<high {
                    if side[position] < 0 { order[write] = order[position]; write += 1 } else { rest.append(order[position]) }
                }
                for (t, i) in rest.enumerated() { order[write + t] = i }
            }
            pending.append((cut, high))
            pending.append((low, cut))
        }
        starts.sort()
        return (order, starts)
    }

    /// Every pair within each leaf, distances from one sgemm per leaf.
    private static func searchLeaves(_ leaves: (order: [Int32], starts: [Int]), _ points: UnsafePointer<Float>, norms: [Float],
                                     dimension d: Int, leafSize: Int, lists: inout NeighbourLists, threads: Int) {
        let (order, starts) = leaves
        let n = order.count
        // A tree's leaves are disjoint, so workers taking different leaves update different points.
        lists.withUnsafe { lists in
            forEachShard(count: starts.count, workers: threads) { _, range in
                let block = FloatBuffer(count: leafSize * d), products = FloatBuffer(count: leafSize * leafSize)
                for leaf in range {
                    let low = starts[leaf], high = leaf + 1 < starts.count ? starts[leaf + 1] : n
                    let m = high - low
                    for r in 0..<m {
                        (block.pointer + r * d).update(from: points + Int(order[low + r]) * d, count: d)
                    }
                    sgemm(transposeB: true, m: m, n: m, k: d, a: block.pointer, b: block.pointer, beta: 0, c: products.pointer)
                    for r in 0..<m {
                        let i = Int(order[low + r])
                        for c in 0..<m where c != r {
                            let j = Int(order[low + c])
                            let squared = max(0, norms[i] + norms[j] - 2 * products[r * m + c])
                            lists.insert(Int32(j), distance: squared, into: i)
                        }
                    }
                }
            }
        }
    }

    /// A point left in small leaves by every tree may hold fewer than k candidates: it is
    /// offered the points that follow it until its list is full (k < N, so it fills).
    private static func fillShortLists(_ points: UnsafePointer<Float>, dimension d: Int, lists: inout NeighbourLists) {
        let n = lists.count, k = lists.k
        lists.withUnsafe { lists in
            for i in 0..<n where Int(lists.filled[i]) < k {
                var offset = 1
                while Int(lists.filled[i]) < k && offset < n {
                    let j = (i + offset) % n
                    var squared: Float = 0
                    for e in 0..<d {
                        let difference = points[i * d + e] - points[j * d + e]
                        squared += difference * difference
                    }
                    lists.insert(Int32(j), distance: squared, into: i)
                    offset += 1
                }
            }
        }
    }

    /// One round of the local join: each point tries the neighbours of its `joined` nearest
    /// neighbours, read from a copy of the lists taken before the round.
    private static func refine(_ points: UnsafePointer<Float>, dimension d: Int, lists: inout NeighbourLists, threads: Int) {
        let before = lists.sorted()
        let n = lists.count, k = lists.k, width = min(joined, k)
        lists.withUnsafe { lists in
            forEachShard(count: n, workers: threads) { _, range in
                var seen = [Int32](repeating: -1, count: n)  // the point whose candidates marked it
                for i in range {
                    let mark = Int32(i)
                    seen[i] = mark
                    for t in 0..<k { seen[Int(before.indices[i * k + t])] = mark }
                    for t in 0..<width {
                        let j = Int(before.indices[i * k + t])
                        for u in 0..<width {
                            let candidate = Int(before.indices[j * k + u])
                            if seen[candidate] == mark { continue }
                            seen[candidate] = mark
                            var squared: Float = 0
                            for e in 0..<d {
                                let difference = points[i * d + e] - points[candidate * d + e]
                                squared += difference * difference
                            }
                            lists.insert(Int32(candidate), distance: squared, into: i)
                        }
                    }
                }
            }
        }
    }
}

/// Each point's k best candidates so far, as a max-heap on the distance (ties: larger index on top).
struct NeighbourLists {
    let count: Int, k: Int
    private var indices: [Int32], distances: [Float], filled: [Int32]

    init(count: Int, k: Int) {
        self.count = count
        self.k = k
        indices = [Int32](repeating: 0, count: count * k)
        distances = [Float](repeating: 0, count: count * k)
        filled = [Int32](repeating: 0, count: count)
    }

    /// Unsafe access for workers that each update their own points.
    mutating func withUnsafe(_ body: (Access) -> Void) {
        let k = self.k
        indices.withUnsafeMutableBufferPointer { i in
            distances.withUnsafeMutableBufferPointer { d in
                filled.withUnsafeMutableBufferPointer { f in
                    // Empty lists (no points) have no storage and nothing to update.
                    guard let i = i.baseAddress, let d = d.baseAddress, let f = f.baseAddress else { return }
                    body(Access(indices: i, distances: d, filled: f, k: k))
                }
            }
        }
    }

    struct Access: @unchecked Sendable {
        let indices: UnsafeMutablePointer<Int32>, distances: UnsafeMutablePointer<Float>, filled: UnsafeMutablePointer<Int32>
        let k: Int

        @inline(__always)
        private func above(_ a: Int, _ b: Int) -> Bool {
            distances[a] > distances[b] || (distances[a] == distances[b] && indices[a] > indices[b])
        }

        /// Offers j at `distance` to point i's list; ignored if no better than the worst or present.
        @inline(__always)
        func insert(_ j: Int32, distance: Float, into i: Int) {
            let base = i * k, size = Int(filled[i])
            if size == k && (distance > distances[base] || (distance == distances[base] && j >= indices[base])) { return }
            for t in 0..<size where indices[base + t] == j { return }
            var position: Int
            if size < k {
                position = size
                filled[i] += 1
                indices[base + position] = j
                distances[base + position] = distance
                while position > 0 {  // sift up
                    let parent = (position - 1) / 2
                    guard above(base + position, base + parent) else { break }
                    swapAt(base + position, base + parent)
                    position = parent
                }
            } else {
                indices[base] = j
                distances[base] = distance
                position = 0
                while true {  // sift down
                    let left = 2 * position + 1, right = left + 1
                    var largest = position
                    if left < k && above(base + left, base + largest) { largest = left }
                    if right < k && above(base + right, base + largest) { largest = right }
                    if largest == position { break }
                    swapAt(base + position, base + largest)
                    position = largest
                }
            }
        }

        @inline(__always)
        private func swapAt(_ a: Int, _ b: Int) {
            let (ia, da) = (indices[a], distances[a])
            indices[a] = indices[b]; distances[a] = distances[b]
            indices[b] = ia; distances[b] = da
        }
    }

    /// The lists nearest first (ties by index); a list short of k (only while it is being
    /// built) repeats its last entry.
    func sorted() -> (indices: [Int32], distances: [Float]) {
        var outIndices = [Int32](repeating: 0, count: count * k), outDistances = [Float](repeating: 0, count: count * k)
        var row: [(Float, Int32)] = []
        row.reserveCapacity(k)
        for i in 0..<count {
            row.removeAll(keepingCapacity: true)
            for t in 0..<Int(filled[i]) { row.append((distances[i * k + t], indices[i * k + t])) }
            row.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            for t in 0..<k {
                let (distance, index) = row.isEmpty ? (Float.infinity, Int32(i)) : row[min(t, row.count - 1)]
                outIndices[i * k + t] = index
                outDistances[i * k + t] = distance
            }
        }
        return (outIndices, outDistances)
    }
}
