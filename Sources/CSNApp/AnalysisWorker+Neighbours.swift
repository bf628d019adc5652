import Analysis
import CSN
import Datasets

extension AnalysisWorker {
    /// The query's 8 nearest test images under each condition, in `search` (the test split's
    /// embeddings and masks of one set of weights); a query from another split is embedded alone.
    func neighbours(of query: Int, in search: SearchSet) -> [[NearestNeighbours.Neighbour]] {
        let d = source.dimension
        return dataset.conditions.indices.map { c in
            let network = source.networkIndex(condition: c)
            let mask = Array(search.masks[(c * d)..<((c + 1) * d)])
            let index = NearestNeighbours(embeddings: search.embeddings[network] ?? [], dimension: d, mask: mask)
            let found: [NearestNeighbours.Neighbour]
            if let row = searchRow[Int32(query)] {
                found = index.neighbours(of: row, k: 8)
            } else {
                found = index.neighbours(ofEmbedding: source.embed([Int32(query)], network: network, dataset: dataset, isCancelled: { false }), k: 8)
            }
            return found.map { NearestNeighbours.Neighbour(index: Int(searchSet[$0.index]), distance: $0.distance) }
        }
    }

    /// The given rows of a row-major [N, dimension] matrix.
    static func gather(_ rows: [Int], from matrix: [Float], dimension: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows.count * dimension)
        for (i, row) in rows.enumerated() {
            for j in 0..<dimension { out[i * dimension + j] = matrix[row * dimension + j] }
        }
        return out
    }
}
