import Basics

/// Draws conditional triplets from one split of a dataset, as the paper did: for condition c, the
/// anchor and the positive are alike under c and the negative is not. Categorical conditions take
/// alike as "same value"; ordinal ones (heel height) as "within the threshold".
///
/// Per condition the split's images are kept sorted by value, so the images alike to an anchor are
/// one contiguous range of that order: a positive is a draw inside the range and a negative a draw
/// outside it. O(1) per triplet, no rejection loop, no allocation.
public struct TripletSampler: Sendable {
    public let split: Split
    public let conditionCount: Int
    private let index: [AlikeIndex?]
    /// Why a condition cannot give triplets in this split (only when not every condition is required).
    public let unavailable: [Int: String]

    private struct AlikeIndex: Sendable {
        /// Images of the split sorted by value.
        var order: [Int32]
        /// Images alike to at least one other image and unlike at least one: the possible anchors.
        var anchors: [Int32]
        /// order[rangeStart[a]..<rangeEnd[a]] holds the images alike to anchors[a] (itself included).
        var rangeStart: [Int32]
        var rangeEnd: [Int32]
    }

    /// Fails with a sentence naming the condition and split if a condition cannot give triplets
    /// (with `requireAll`, any condition; otherwise only when none can).
    public init(dataset: ImageDataset, split: Split, requireAll: Bool = true) throws {
        self.split = split
        conditionCount = dataset.conditions.count
        let members = dataset.imageIndices(in: split)
        guard !members.isEmpty else { throw CSNError("the \(split) split of the dataset is empty") }
        var index: [AlikeIndex?] = []
        var unavailable: [Int: String] = [:]
        for (c, condition) in dataset.conditions.enumerated() {
            let entry: AlikeIndex?
            switch condition.rule {
            case .categorical: entry = Self.categoricalIndex(condition.labels, valueCount: condition.valueNames.count, members: members)
            case .ordinal(let values, let threshold): entry = Self.ordinalIndex(values, threshold: threshold, members: members)
            case .listed: entry = nil
            }
            guard let entry, !entry.anchors.isEmpty else {
                let reason = condition.isListed
                    ? "condition '\(condition.name)' has no attributes, only triplet lists, so triplets cannot be drawn for it"
                    : "condition '\(condition.name)' cannot give triplets in the \(split) split: no image there has both an alike and an unlike image"
                if requireAll { throw CSNError(reason) }
                unavailable[c] = reason
                index.append(nil)
                continue
            }
            index.append(entry)
        }
        if index.allSatisfy({ $0 == nil }) {
            throw CSNError("no condition can give triplets in the \(split) split")
        }
        self.index = index
        self.unavailable = unavailable
    }

    /// Images grouped by value with a counting sort; an anchor's range is its value's block.
    private static func categoricalIndex(_ labels: [Int32], valueCount: Int, members: [Int32]) -> AlikeIndex {
        var counts = [Int](repeating: 0, count: valueCount + 1)
        for image in members { counts[Int(labels[Int(image)]) + 1] += 1 }
        for v in 0..<valueCount { counts[v + 1] += counts[v] }
        var cursor = counts
        var order = [Int32](repeating: 0, count: members.count)
        for image in members {
            let v = Int(labels[Int(image)])
            order[cursor[v]] = image
            cursor[v] += 1
        }
        var result = AlikeIndex(order: order, anchors: [], rangeStart: [], rangeEnd: [])
        for image in members {
            let v = Int(labels[Int(image)])
            let size = counts[v + 1] - counts[v]
            guard size >= 2, size < members.count else { continue }
            result.anchors.append(image)
            result.rangeStart.append(Int32(counts[v]))
            result.rangeEnd.append(Int32(counts[v + 1]))
        }
        return result
    }

    /// Images sorted by number; an anchor's range is every image within the threshold of it.
    private static func ordinalIndex(_ values: [Float], threshold: Float, members: [Int32]) -> AlikeIndex {
        let order = members.sorted { (values[Int($0)], $0) < (values[Int($1)], $1) }
        let sorted = order.map { values[Int($0)] }
        var result = AlikeIndex(order: order, anchors: [], rangeStart: [], rangeEnd: [])
        var low = 0, high = 0
        for position in order.indices {
            let value = sorted[position]
            // Float subtraction is monotonic, so the alike images of a sorted order are contiguous.
            while !Condition.within(sorted[low], value, threshold: threshold) { low += 1 }
            while high < sorted.count && Condition.within(sorted[high], value, threshold: threshold) { high += 1 }
            guard high - low >= 2, high - low < order.count else { continue }
            result.anchors.append(order[position])
            result.rangeStart.append(Int32(low))
            result.rangeEnd.append(Int32(high))
        }
        // Anchors in image order, as for categorical conditions.
        let byImage = result.anchors.indices.sorted { result.anchors[$0] < result.anchors[$1] }
        return AlikeIndex(order: order, anchors: byImage.map { result.anchors[$0] },
                          rangeStart: byImage.map { result.rangeStart[$0] }, rangeEnd: byImage.map { result.rangeEnd[$0] })
    }

    public func canSample(condition: Int) -> Bool { index[condition] != nil }

    /// One triplet of `condition`.
    public func sample(condition: Int, using generator: inout SeededGenerator) -> Triplet {
        guard let entry = index[condition] else { preconditionFailure(unavailable[condition] ?? "no such condition") }
        let a = generator.index(below: entry.anchors.count)
        let anchor = entry.anchors[a]
        let start = Int(entry.rangeStart[a]), end = Int(entry.rangeEnd[a])
        // A positive: any other image alike to the anchor.
        var positive = anchor
        while positive == anchor { positive = entry.order[start + generator.index(below: end - start)] }
        // A negative: position r among the images outside [start, end).
        let outside = entry.order.count - (end - start)
        let r = generator.index(below: outside)
        let negative = entry.order[r < start ? r : r + (end - start)]
        return Triplet(condition: Int32(condition), anchor: anchor, positive: positive, negative: negative)
    }

    /// `count` triplets whose conditions cycle 0, 1, ..., K-1 from `firstCondition`, so that a
    /// batch mixes all conditions evenly.
    public func sampleMixed(count: Int, firstCondition: Int = 0, using generator: inout SeededGenerator) -> TripletList {
        var list = TripletList()
        for t in 0..<count {
            list.append(sample(condition: (firstCondition + t) % conditionCount, using: &generator))
        }
        return list
    }

    /// A fixed list of `perCondition` triplets for each condition that can give them, condition by condition.
    public func sampleFixed(perCondition: Int, using generator: inout SeededGenerator) -> TripletList {
        var list = TripletList()
        for condition in 0..<conditionCount where canSample(condition: condition) {
            for _ in 0..<perCondition { list.append(sample(condition: condition, using: &generator)) }
        }
        return list
    }
}
