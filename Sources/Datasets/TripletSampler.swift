import Basics

/// Draws conditional triplets from one split of a dataset, as the paper did: for condition c, the
/// anchor and the positive share c's value and the negative does not.
///
/// Per condition the split's images are kept sorted by value (a compressed index: `order` and
/// `valueStart`), so a positive is a draw inside the anchor's value range and a negative a draw
/// outside it: O(1) per triplet, no rejection loop, no allocation.
public struct TripletSampler: Sendable {
    public let split: Split
    public let conditionCount: Int
    private let index: [ValueIndex?]
    /// Why a condition cannot give triplets in this split (only when not every condition is required).
    public let unavailable: [Int: String]

    private struct ValueIndex: Sendable {
        /// Images of the split sorted by value.
        var order: [Int32]
        /// order[valueStart[v]..<valueStart[v + 1]] holds the images with value v.
        var valueStart: [Int]
        /// Images whose value is shared by at least one other image: the possible anchors.
        var anchors: [Int32]
        var labels: [Int32]
    }

    /// Fails with a sentence naming the condition and split if a condition cannot give triplets
    /// (with `requireAll`, any condition; otherwise only when none can).
    public init(dataset: ImageDataset, split: Split, requireAll: Bool = true) throws {
        self.split = split
        conditionCount = dataset.conditions.count
        let members = dataset.imageIndices(in: split)
        guard !members.isEmpty else { throw CSNError("the \(split) split of the dataset is empty") }
        var index: [ValueIndex?] = []
        var unavailable: [Int: String] = [:]
        for (c, condition) in dataset.conditions.enumerated() {
            let valueCount = condition.valueNames.count
            var counts = [Int](repeating: 0, count: valueCount + 1)
            for image in members { counts[Int(condition.labels[Int(image)]) + 1] += 1 }
            for v in 0..<valueCount { counts[v + 1] += counts[v] }
            var cursor = counts
            var order = [Int32](repeating: 0, count: members.count)
            for image in members {
                let v = Int(condition.labels[Int(image)])
                order[cursor[v]] = image
                cursor[v] += 1
            }
            let anchors = members.filter { image in
                let v = Int(condition.labels[Int(image)])
                return counts[v + 1] - counts[v] >= 2
            }
            let presentValues = (0..<valueCount).filter { counts[$0 + 1] > counts[$0] }.count
            guard !anchors.isEmpty, presentValues >= 2 else {
                let reason = "condition '\(condition.name)' cannot give triplets in the \(split) split: it needs two images with one value and an image with another (values present: \(presentValues))"
                if requireAll { throw CSNError(reason) }
                unavailable[c] = reason
                index.append(nil)
                continue
            }
            index.append(ValueIndex(order: order, valueStart: counts, anchors: anchors, labels: condition.labels))
        }
        if index.allSatisfy({ $0 == nil }) {
            throw CSNError("no condition can give triplets in the \(split) split")
        }
        self.index = index
        self.unavailable = unavailable
    }

    public func canSample(condition: Int) -> Bool { index[condition] != nil }

    /// One triplet of `condition`.
    public func sample(condition: Int, using generator: inout SeededGenerator) -> Triplet {
        guard let entry = index[condition] else { preconditionFailure(unavailable[condition] ?? "no such condition") }
        let anchor = entry.anchors[generator.index(below: entry.anchors.count)]
        let value = Int(entry.labels[Int(anchor)])
        let start = entry.valueStart[value], end = entry.valueStart[value + 1]
        // A positive: any other image of the anchor's value.
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
