/// When a mask dimension counts as used: its weight exceeds a share of the row's maximum. One
/// rule for the statistics, the sparsity logged during training and its history.
public enum MaskActivity {
    public static let activeShareOfMaximum: Float = 0.1

    /// The active dimensions of one mask row, in index order.
    public static func active<Row: Collection<Float>>(_ row: Row) -> [Int] {
        let maximum = row.max() ?? 0
        guard maximum > 0 else { return [] }
        let threshold = maximum * activeShareOfMaximum
        return row.enumerated().compactMap { $0.element > threshold ? $0.offset : nil }
    }

    /// Active dimensions per condition of [K, D] masks.
    public static func activeCounts(_ masks: [Float], conditions k: Int, dimension d: Int) -> [Int] {
        (0..<k).map { c in active(masks[(c * d)..<((c + 1) * d)]).count }
    }
}
