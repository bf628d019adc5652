import Basics
import Datasets

extension TestSupport {
    /// A small dataset of 18 8x8 images with a categorical and an ordinal condition (decimal
    /// values 0.8 to 0.875 alike within 0.05, the boundary case of real data), split six ways
    /// each: the valid input the dataset fuzzers start from.
    public static func smallDataset() throws -> ImageDataset {
        let n = 18
        var generator = SeededGenerator(seed: 11)
        let pixels = (0..<(n * 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let shape = Condition(name: "shape", valueNames: ["disc", "square", "bar"], labels: (0..<n).map { Int32($0 % 3) })
        let size = Condition.ordinal(name: "size", values: (0..<n).map { 0.8 + 0.025 * Float($0 % 4) }, threshold: 0.05)
        var dataset = ImageDataset(imageSize: 8, channels: 1, pixels: pixels, imageNames: (0..<n).map { "img\($0).png" },
                                   conditions: [shape, size], groups: (0..<n).map(Int32.init), groupNames: (0..<n).map { "g\($0)" },
                                   splits: (0..<n).map { [Split.train, .val, .test][$0 / 6] })
        try dataset.sampleEvaluationTriplets(perCondition: 6, seed: 3)
        try dataset.validate(source: "small")
        return dataset
    }
}
