/// A notion of similarity: a name, the names of its values, and one value per image.
///
/// Two images are similar under a condition when their values are equal; triplets for it take
/// an anchor and a positive with one value and a negative with another.
public struct Condition: Sendable, Equatable {
    public let name: String
    public let valueNames: [String]
    /// One value index per image, in 0..<valueNames.count.
    public let labels: [Int32]

    public init(name: String, valueNames: [String], labels: [Int32]) {
        self.name = name
        self.valueNames = valueNames
        self.labels = labels
    }
}

/// The part of a dataset an image belongs to. Fonts are split by font, so that every test
/// triplet is made of fonts never seen in training.
public enum Split: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case train = 0, val = 1, test = 2

    public var description: String {
        switch self {
        case .train: "train"
        case .val: "val"
        case .test: "test"
        }
    }

    public init?(name: String) {
        guard let split = Split.allCases.first(where: { $0.description == name }) else { return nil }
        self = split
    }
}
