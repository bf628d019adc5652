/// One conditional triplet {anchor, positive, negative | condition}: under `condition`, the
/// anchor is more like the positive than like the negative. Fields are image indices.
public struct Triplet: Sendable, Equatable, Hashable {
    public var condition: Int32
    public var anchor: Int32
    public var positive: Int32
    public var negative: Int32

    public init(condition: Int32, anchor: Int32, positive: Int32, negative: Int32) {
        self.condition = condition
        self.anchor = anchor
        self.positive = positive
        self.negative = negative
    }
}

/// A fixed list of triplets, stored flat as [count, 4] Int32 (condition, anchor, positive, negative).
public struct TripletList: Sendable, Equatable {
    public private(set) var storage: [Int32]

    public init() { storage = [] }

    public init(flat: [Int32]) {
        precondition(flat.count % 4 == 0, "a flat triplet list has 4 values per triplet")
        storage = flat
    }

    public init(_ triplets: [Triplet]) {
        storage = []
        storage.reserveCapacity(triplets.count * 4)
        for triplet in triplets { append(triplet) }
    }

    public var count: Int { storage.count / 4 }

    public subscript(index: Int) -> Triplet {
        Triplet(condition: storage[4 * index], anchor: storage[4 * index + 1],
                positive: storage[4 * index + 2], negative: storage[4 * index + 3])
    }

    public mutating func append(_ triplet: Triplet) {
        storage.append(contentsOf: [triplet.condition, triplet.anchor, triplet.positive, triplet.negative])
    }

    /// The triplets of one condition, in order.
    public func filtered(condition: Int) -> TripletList {
        var result = TripletList()
        for index in 0..<count where storage[4 * index] == Int32(condition) { result.append(self[index]) }
        return result
    }
}
