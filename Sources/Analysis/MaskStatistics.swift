import Basics

/// What the paper's mask figure shows, as numbers: per condition the L1 norm, the active
/// dimensions and their ranking; between conditions the overlap of active dimensions (Jaccard)
/// and the cosine similarity of the mask rows; for the matrix, the dimensions no condition uses.
public struct MaskStatistics: Sendable, Equatable {
    /// A dimension is active for a condition when its weight exceeds this share of the row's maximum.
    public static let activeShareOfMaximum = MaskActivity.activeShareOfMaximum

    public struct Row: Sendable, Equatable {
        public let l1: Float
        public let maximum: Float
        /// Dimensions above the threshold, in index order.
        public let active: [Int]
        /// All dimensions by weight, largest first (ties by index).
        public let ranked: [Int]
    }

    public let conditionCount: Int
    public let dimension: Int
    public let rows: [Row]
    /// [K, K] row-major: |A_a ∩ A_b| / |A_a ∪ A_b| of the active sets (1 on the diagonal; 0 when both are empty).
    public let jaccard: [Double]
    /// [K, K] row-major: cosine similarity of the mask rows (0 for an all-zero row).
    public let cosine: [Double]
    /// Dimensions active for no condition.
    public let unused: [Int]

    /// `masks` is [K, D] row-major, the masks in use (m = ReLU(beta) for learned ones).
    public init(masks: [Float], conditionCount k: Int, dimension d: Int) {
        precondition(masks.count == k * d, "masks hold \(masks.count) values, not \(k) x \(d)")
        conditionCount = k
        dimension = d
        var rows: [Row] = []
        var activeSets: [Set<Int>] = []
        for c in 0..<k {
            let row = Array(masks[(c * d)..<((c + 1) * d)])
            let maximum = row.max() ?? 0
            let active = MaskActivity.active(row)
            let ranked = (0..<d).sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
            rows.append(Row(l1: row.reduce(0) { $0 + abs($1) }, maximum: maximum, active: active, ranked: ranked))
            activeSets.append(Set(active))
        }
        self.rows = rows
        var jaccard = [Double](repeating: 0, count: k * k), cosine = [Double](repeating: 0, count: k * k)
        for a in 0..<k {
            for b in 0..<k {
                let union = activeSets[a].union(activeSets[b]).count
                jaccard[a * k + b] = union == 0 ? 0 : Double(activeSets[a].intersection(activeSets[b]).count) / Double(union)
                var dot = 0.0, na = 0.0, nb = 0.0
                for j in 0..<d {
                    let x = Double(masks[a * d + j]), y = Double(masks[b * d + j])
                    dot += x * y
                    na += x * x
                    nb += y * y
                }
                cosine[a * k + b] = na > 0 && nb > 0 ? dot / (na.squareRoot() * nb.squareRoot()) : 0
            }
        }
        self.jaccard = jaccard
        self.cosine = cosine
        let used = activeSets.reduce(into: Set<Int>()) { $0.formUnion($1) }
        unused = (0..<d).filter { !used.contains($0) }
    }
}
