/// Exact k nearest neighbours under a condition's masked metric ||(a - b) * m||, or the unmasked
/// embedding when no mask is given. Ties are broken by the smaller index, so results repeat.
public struct NearestNeighbours: Sendable {
    public struct Neighbour: Sendable, Equatable {
        public let index: Int
        public let distance: Float

        public init(index: Int, distance: Float) {
            self.index = index
            self.distance = distance
        }
    }

    public let count: Int
    public let dimension: Int
    /// The embeddings with the mask applied, [N, D] row-major.
    private let masked: [Float]
    private let mask: [Float]?

    /// `embeddings` [N, D] row-major; `mask` [D] or nil for the plain embedding.
    public init(embeddings: [Float], dimension d: Int, mask: [Float]? = nil) {
        precondition(d > 0 && embeddings.count % d == 0, "embeddings are not rows of \(d)")
        precondition(mask == nil || mask!.count == d, "the mask has \(mask?.count ?? 0) values, not \(d)")
        dimension = d
        count = embeddings.count / d
        self.mask = mask
        if let mask {
            var values = embeddings
            for i in values.indices { values[i] *= mask[i % d] }
            masked = values
        } else {
            masked = embeddings
        }
    }

    /// The k nearest rows to row `query` (itself left out).
    public func neighbours(of query: Int, k: Int) -> [Neighbour] {
        precondition(query >= 0 && query < count, "query \(query) is outside 0..<\(count)")
        return masked.withUnsafeBufferPointer { rows in search(rows.baseAddress! + query * dimension, skipping: query, k: k) }
    }

    /// The k nearest rows to an embedding from outside the set (the mask is applied to it here).
    public func neighbours(ofEmbedding embedding: [Float], k: Int) -> [Neighbour] {
        precondition(embedding.count == dimension, "the query has \(embedding.count) values, not \(dimension)")
        var query = embedding
        if let mask { for j in query.indices { query[j] *= mask[j] } }
        return query.withUnsafeBufferPointer { search($0.baseAddress!, skipping: -1, k: k) }
    }

    private func search(_ q: UnsafePointer<Float>, skipping skipped: Int, k: Int) -> [Neighbour] {
        let d = dimension
        var best: [Neighbour] = []
        best.reserveCapacity(k + 1)
        masked.withUnsafeBufferPointer { rows in
            for i in 0..<count where i != skipped {
                let r = rows.baseAddress! + i * d
                var squared: Float = 0
                for j in 0..<d { let diff = q[j] - r[j]; squared += diff * diff }
                // Keep the k smallest (distance, index) pairs, sorted, with an insertion step.
                if best.count == k, let worst = best.last, !(squared < worst.distance || (squared == worst.distance && i < worst.index)) {
                    continue
                }
                var position = best.count
                while position > 0, squared < best[position - 1].distance
                        || (squared == best[position - 1].distance && i < best[position - 1].index) {
                    position -= 1
                }
                best.insert(Neighbour(index: i, distance: squared), at: position)
                if best.count > k { best.removeLast() }
            }
        }
        return best.map { Neighbour(index: $0.index, distance: $0.distance.squareRoot()) }
    }
}
