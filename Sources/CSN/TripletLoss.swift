import Tensor

/// Weights of the objective (defaults from the paper's official code).
public struct LossWeights: Codable, Sendable, Equatable {
    /// h in max(0, D_c(i, j) - D_c(i, l) + h).
    public var margin: Float = 0.2
    /// Weight of the embedding-norm term.
    public var embedding: Float = 5e-3
    /// Weight of the mask L1 term (learned masks only).
    public var mask: Float = 5e-4

    public init(margin: Float = 0.2, embedding: Float = 5e-3, mask: Float = 5e-4) {
        self.margin = margin
        self.embedding = embedding
        self.mask = mask
    }
}

/// The objective's terms for one batch (already weighted), and how many triplets it ordered right.
public struct LossTerms: Sendable, Equatable, Codable {
    public var triplet: Float = 0
    public var embedding: Float = 0
    public var mask: Float = 0
    public var total: Float { triplet + embedding + mask }
    /// Per condition: triplets with D_c(i,j) < D_c(i,l), and triplets seen.
    public var correct: [Int] = []
    public var seen: [Int] = []

    public init() {}
}

/// Where a batch's triplets are in the embedding matrix: rows[3t], rows[3t+1], rows[3t+2] are
/// the anchor, positive and negative of triplet t; conditions[t] is its condition.
public struct TripletRows: Sendable {
    public var rows: [Int32]
    public var conditions: [Int32]
    public var count: Int { conditions.count }

    public init(rows: [Int32], conditions: [Int32]) {
        self.rows = rows
        self.conditions = conditions
    }
}

/// The conditional triplet loss of the paper with its two regularisers, forward and backward.
///
/// With masked differences u = (f(i) - f(j)) * m_c and v = (f(i) - f(l)) * m_c, distances are
/// D = sqrt(|u|^2 + eps) (eps keeps the gradient finite at zero distance) and the loss is
///   mean_t max(0, D_ij - D_il + h)
///   + w_e * (|F_i| + |F_j| + |F_l|) / (3 sqrt(B))    (Frobenius norms of the batch's anchors,
///                                                      positives and negatives, unmasked)
///   + w_m * mean_t |m_{c_t}|_1                       (learned masks only)
/// as in the official code (embed_norm / sqrt(batch), mask_norm / batch).
/// Gradients are accumulated into dEmbeddings [R, D] and dMasks [K, D] (with respect to m).
public func tripletLoss(_ dEmbeddings: FloatPointer, _ dMasks: FloatPointer,
                        _ embeddings: ConstFloatPointer, _ masks: ConstFloatPointer, _ batch: TripletRows,
                        dimension d: Int, conditionCount: Int, weights: LossWeights, includeMaskTerm: Bool) -> LossTerms {
    let b = batch.count
    var terms = LossTerms()
    terms.correct = Array(repeating: 0, count: conditionCount)
    terms.seen = Array(repeating: 0, count: conditionCount)
    guard b > 0 else { return terms }
    let epsilon: Float = 1e-12
    let scale = 1 / Float(b)
    var hingeSum: Float = 0
    for t in 0..<b {
        let c = Int(batch.conditions[t])
        let m = masks + c * d
        let a = embeddings + Int(batch.rows[3 * t]) * d
        let p = embeddings + Int(batch.rows[3 * t + 1]) * d
        let n = embeddings + Int(batch.rows[3 * t + 2]) * d
        var squaredPositive: Float = 0, squaredNegative: Float = 0
        for k in 0..<d {
            let u = (a[k] - p[k]) * m[k], v = (a[k] - n[k]) * m[k]
            squaredPositive += u * u
            squaredNegative += v * v
        }
        let distancePositive = (squaredPositive + epsilon).squareRoot()
        let distanceNegative = (squaredNegative + epsilon).squareRoot()
        terms.seen[c] += 1
        if distancePositive < distanceNegative { terms.correct[c] += 1 }
        let hinge = distancePositive - distanceNegative + weights.margin
        guard hinge > 0 else { continue }
        hingeSum += hinge
        let cp = scale / distancePositive, cn = -scale / distanceNegative
        let da = dEmbeddings + Int(batch.rows[3 * t]) * d
        let dp = dEmbeddings + Int(batch.rows[3 * t + 1]) * d
        let dn = dEmbeddings + Int(batch.rows[3 * t + 2]) * d
        let dm = dMasks + c * d
        for k in 0..<d {
            let differencePositive = a[k] - p[k], differenceNegative = a[k] - n[k]
            let gp = cp * differencePositive * m[k] * m[k], gn = cn * differenceNegative * m[k] * m[k]
            da[k] += gp + gn
            dp[k] -= gp
            dn[k] -= gn
            dm[k] += cp * differencePositive * differencePositive * m[k] + cn * differenceNegative * differenceNegative * m[k]
        }
    }
    terms.triplet = hingeSum * scale

    // Embedding norms of the anchors, positives and negatives, each over the whole batch.
    let embeddingScale = weights.embedding / (3 * Float(b).squareRoot())
    for role in 0..<3 {
        var squares: Float = 0
        for t in 0..<b {
            let e = embeddings + Int(batch.rows[3 * t + role]) * d
            for k in 0..<d { squares += e[k] * e[k] }
        }
        let norm = squares.squareRoot()
        terms.embedding += embeddingScale * norm
        guard norm > 0 else { continue }
        for t in 0..<b {
            let row = Int(batch.rows[3 * t + role]) * d
            for k in 0..<d { dEmbeddings[row + k] += embeddingScale * embeddings[row + k] / norm }
        }
    }

    if includeMaskTerm {
        // mean_t |m_{c_t}|_1 with m >= 0; its gradient per mask entry is (uses of c) / B.
        for t in 0..<b {
            let c = Int(batch.conditions[t])
            for k in 0..<d {
                terms.mask += weights.mask * scale * abs(masks[c * d + k])
                dMasks[c * d + k] += weights.mask * scale * (masks[c * d + k] >= 0 ? 1 : -1)
            }
        }
    }
    return terms
}
