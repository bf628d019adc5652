import Datasets
import Basics
import TUI

extension AnalysisWorker {
    /// Values drawn in their own colour in the map; conditions with more get a seeded few.
    public static let colouredValues = 8

    /// The images the map shows (the map sample): a seeded sample of the test split, plus every test image (up to
    /// 80 each) of a few seeded values of each condition with too many values to colour them all
    /// (fonts), so those values show up as whole clusters. Returns the sample in index order and,
    /// per condition, the chosen values (nil where every value can be coloured, for conditions whose
    /// values are single characters, which are drawn as themselves, for ordinal conditions, which
    /// are coloured on a ramp, and for conditions known only from triplet lists).
    static func makeMapSample(_ dataset: ImageDataset, count: Int, seed: UInt64) -> (sample: [Int32], highlighted: [[Int]?]) {
        let test = dataset.imageIndices(in: .test)
        var sample = Set(dataset.sample(count, from: .test, seed: seed))
        var highlighted: [[Int]?] = []
        var generator = SeededGenerator(seed: seed ^ 0x4849_4748)
        for condition in dataset.conditions {
            guard condition.valueNames.count > Colour.categorical.count, !condition.valuesAreGlyphs, !condition.isOrdinal,
                  !condition.isListed else {
                highlighted.append(nil)
                continue
            }
            let present = Array(Set(test.map { Int(condition.labels[Int($0)]) })).sorted()
            let chosen = Array(present.shuffled(using: &generator).prefix(colouredValues)).sorted()
            highlighted.append(chosen)
            let members = test.filter { chosen.contains(Int(condition.labels[Int($0)])) }
            sample.formUnion(members.prefix(colouredValues * 80))
        }
        return (sample.sorted(), highlighted)
    }
}
