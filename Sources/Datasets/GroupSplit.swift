import Basics

/// Assigns whole groups (fonts, products) to train / val / test with a seeded shuffle, so that no
/// group is in two splits.
public enum GroupSplit {
    /// Fractions for val and test; train takes the rest. Each split gets at least one group.
    /// With `strata` (one key per group, such as weight and slant), each stratum is spread over
    /// the splits in proportion, so rare kinds (light italics) reach val and test too.
    public static func assign(groupCount: Int, strata: [Int]? = nil, valFraction: Double = 0.1,
                              testFraction: Double = 0.1, seed: UInt64) throws -> [Split] {
        guard groupCount >= 3 else {
            throw CSNError("cannot split \(groupCount) group(s) into train, val and test: need at least 3 (an empty split)")
        }
        guard valFraction > 0, testFraction > 0, valFraction + testFraction < 1 else {
            throw CSNError("val (\(valFraction)) and test (\(testFraction)) fractions must be positive and leave room for train")
        }
        var order = Array(0..<groupCount)
        var generator = SeededGenerator(seed: seed)
        order.shuffle(using: &generator)
        if let strata {
            let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
            order.sort { (strata[$0], position[$0]!) < (strata[$1], position[$1]!) }
        }
        // Walk the order and keep each split's running count at its share, like error diffusion.
        var splits = [Split](repeating: .train, count: groupCount)
        var valCount = 0, testCount = 0
        for (k, group) in order.enumerated() {
            if Double(valCount) < (Double(k + 1) * valFraction).rounded() {
                splits[group] = .val
                valCount += 1
            } else if Double(testCount) < (Double(k + 1) * testFraction).rounded() {
                splits[group] = .test
                testCount += 1
            }
        }
        // Tiny sets: make sure val and test hold a group each.
        for split in [Split.val, .test] where !splits.contains(split) {
            if let spare = order.last(where: { splits[$0] == .train }) { splits[spare] = split }
        }
        return splits
    }
}
