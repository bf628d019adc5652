/// A notion of similarity: a name, the names of its values, one value per image, and the rule that
/// says which images are alike under it.
///
/// - categorical: alike when their values are equal (character, font, shoe type);
/// - ordinal: each image has a number, alike when the numbers differ by at most `threshold`
///   (heel height); `labels` then index the distinct numbers, for colouring and tables;
/// - listed: no attributes, only the triplet lists that came with the data say what is alike;
///   every label is 0.
public struct Condition: Sendable, Equatable {
    public enum Rule: Sendable, Equatable {
        case categorical
        case ordinal(values: [Float], threshold: Float)
        case listed
    }

    public let name: String
    public let valueNames: [String]
    /// One value index per image, in 0..<valueNames.count.
    public let labels: [Int32]
    public let rule: Rule

    public init(name: String, valueNames: [String], labels: [Int32], rule: Rule = .categorical) {
        self.name = name
        self.valueNames = valueNames
        self.labels = labels
        self.rule = rule
    }

    /// An ordinal condition: labels index the distinct values in increasing order.
    public static func ordinal(name: String, values: [Float], threshold: Float) -> Condition {
        let distinct = Array(Set(values)).sorted()
        let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, Int32($0)) })
        return Condition(name: name, valueNames: distinct.map(formatNumber), labels: values.map { index[$0]! },
                         rule: .ordinal(values: values, threshold: threshold))
    }

    /// A condition known only through triplet lists.
    public static func listed(name: String, imageCount: Int) -> Condition {
        Condition(name: name, valueNames: ["(from triplet lists)"], labels: [Int32](repeating: 0, count: imageCount), rule: .listed)
    }

    /// Whether images `a` and `b` count as alike (meaningless for `.listed`).
    public func alike(_ a: Int, _ b: Int) -> Bool {
        switch rule {
        case .categorical, .listed: labels[a] == labels[b]
        case .ordinal(let values, let threshold): Self.within(values[a], values[b], threshold: threshold)
        }
    }

    /// The one ordinal rule, used by the sampler and by every check: alike when the numbers differ
    /// by at most `threshold`, computed as the distance in Float. The sampler's ranges are taken
    /// with this same test, so a pair at the boundary is alike in both or in neither.
    public static func within(_ a: Float, _ b: Float, threshold: Float) -> Bool {
        abs(a - b) <= threshold
    }

    public var isListed: Bool { rule == .listed }

    public var isOrdinal: Bool {
        if case .ordinal = rule { return true }
        return false
    }

    /// Whether every value is one character (the fonts' `character`): such values can be drawn
    /// as themselves, in a map or a search.
    public var valuesAreGlyphs: Bool { !valueNames.isEmpty && valueNames.allSatisfy { $0.count == 1 } }

    public var ruleName: String {
        switch rule {
        case .categorical: "categorical"
        case .ordinal(_, let threshold): "ordinal, alike within \(Condition.formatNumber(threshold))"
        case .listed: "from triplet lists"
        }
    }

    static func formatNumber(_ value: Float) -> String {
        value == value.rounded() && abs(value) < 1e7 ? String(Int(value)) : String(value)
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
