extension ImageDataset {
    /// Each image's font family as a class, for the families that have faces in both the
    /// training and the test split; -1 for images of other families (nothing to learn or test).
    /// A probe then recognises a family from a face it never saw, as the paper's probe names a
    /// shoe's brand: no condition trains on families, but the font condition bears on them.
    /// Fonts without a family name are left out. Empty when the dataset does not list its fonts.
    public func sharedFamilyLabels() -> (labels: [Int32], families: [String]) {
        guard !fonts.isEmpty, fonts.count == groupNames.count, groups.count == count, splits.count == count,
              groups.allSatisfy({ $0 >= 0 && Int($0) < fonts.count }) else { return ([], []) }
        var inTrain = Set<String>(), inTest = Set<String>()
        for (group, split) in zip(groups, splits) {
            let family = fonts[Int(group)].family
            if family.isEmpty { continue }
            if split == .train { inTrain.insert(family) } else if split == .test { inTest.insert(family) }
        }
        let families = inTrain.intersection(inTest).sorted()
        let index = Dictionary(uniqueKeysWithValues: families.enumerated().map { ($1, Int32($0)) })
        return (groups.map { index[fonts[Int($0)].family] ?? -1 }, families)
    }
}
