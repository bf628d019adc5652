import Basics
import Datasets
import Foundation

/// The rows of an embeddings file made ready for the explorer: one "image" per row in a dataset
/// of their own (pictures from the csn dataset the rows came from, or none), conditions from that
/// dataset or from a labels table, and the vectors in the same order. Rows keep the file's splits
/// (the explorer searches the test rows); a file without splits is all test.
public struct ExploreRows: Sendable {
    public var dataset: ImageDataset
    public var table: EmbeddingTable
    public var hasImages: Bool
    /// Where the labels came from, for the header ("metadata.tsv", "fonts32.safetensors.gz").
    public var labelSource: String

    /// Pictures read from files (`--images`): square, planar, one per row.
    public struct Pictures: Sendable {
        public var pixels: [UInt8]
        public var size: Int
        public var channels: Int
        public init(pixels: [UInt8], size: Int, channels: Int) {
            self.pixels = pixels
            self.size = size
            self.channels = channels
        }
    }

    public static func make(table: EmbeddingTable, labels: LabelTable?, dataset: ImageDataset?, pictures: Pictures? = nil,
                            source: String) throws -> ExploreRows {
        let n = table.rows
        var conditions: [Condition]
        var names: [String] = (0..<n).map { "row \($0)" }
        var pixels: [UInt8] = []
        var imageSize = 1, channels = 1
        var labelSource = "no labels"
        if let labels {
            guard labels.rows == n else {
                throw CSNError.file(labels.source, "has \(labels.rows) rows, but \(source) has \(n) vectors")
            }
            conditions = labels.conditionColumns.map(labels.condition(column:))
            names = labels.rowNames() ?? names
            labelSource = PathText.name(of: labels.source)
        } else if let dataset {
            guard table.imageIndex != nil else {
                throw CSNError.file(source, "has no image_index tensor, so its rows cannot be matched to the dataset's images")
            }
            conditions = dataset.conditions
            labelSource = "the dataset"
        } else {
            let k = table.conditionCount ?? max(1, table.conditionNames.count)
            let conditionNames = table.conditionNames.count == k ? table.conditionNames : (k == 1 ? ["all"] : (1...k).map { "condition \($0)" })
            conditions = conditionNames.map { Condition(name: $0, valueNames: ["(no labels)"], labels: [Int32](repeating: 0, count: n)) }
        }
        if let dataset, let index = table.imageIndex {
            if let bad = index.firstIndex(where: { Int($0) >= dataset.count }) {
                throw CSNError.file(source, "row \(bad) has image_index \(index[bad]), but the dataset has \(dataset.count) images")
            }
            guard let bytes = CheckedSize.product(n, dataset.bytesPerImage), bytes <= ReadLimits.defaultMaxBytes else {
                throw CSNError.file(source, "\(n) rows of \(dataset.bytesPerImage)-byte images are over the memory limit", kind: .memoryLimit)
            }
            imageSize = dataset.imageSize
            channels = dataset.channels
            pixels.reserveCapacity(bytes)
            for image in index { pixels.append(contentsOf: dataset.image(Int(image))) }
            names = index.map { dataset.imageNames[Int($0)] }
            if labels == nil { conditions = conditions.map { $0.gathered(index) } }
        } else if let pictures {
            guard pictures.pixels.count == n * pictures.channels * pictures.size * pictures.size else {
                throw CSNError.file(source, "has \(n) rows, but \(pictures.pixels.count / max(1, pictures.channels * pictures.size * pictures.size)) pictures were read")
            }
            (pixels, imageSize, channels) = (pictures.pixels, pictures.size, pictures.channels)
        } else {
            pixels = [UInt8](repeating: 0, count: n)
        }
        if labels == nil && dataset == nil {
            // Nothing to label the rows: one unlabelled condition per name the file gives.
        } else {
            conditions = try ordered(conditions, by: table.conditionNames, labelSource: labelSource, source: source)
        }
        if let k = table.conditionCount, k != conditions.count {
            throw CSNError.file(source, "carries \(k) conditions, but \(labelSource) gives \(conditions.count) (\(conditions.map(\.name).joined(separator: ", ")))")
        }
        let rows = ImageDataset(imageSize: imageSize, channels: channels, pixels: pixels, imageNames: names, conditions: conditions,
                                groups: [Int32](repeating: 0, count: n), groupNames: ["rows"],
                                splits: table.splits?.compactMap(Split.init(rawValue:)) ?? [Split](repeating: .test, count: n))
        return ExploreRows(dataset: rows, table: table, hasImages: (dataset != nil && table.imageIndex != nil) || pictures != nil, labelSource: labelSource)
    }

    /// The conditions in the order the vectors name them (when they do).
    static func ordered(_ conditions: [Condition], by names: [String], labelSource: String, source: String) throws -> [Condition] {
        guard !names.isEmpty else { return conditions }
        return try names.map { name in
            guard let match = conditions.first(where: { $0.name == name }) else {
                throw CSNError.file(source, "names the condition '\(name.terminalSafe)', which \(labelSource) does not have (it has \(conditions.map(\.name).joined(separator: ", ")))")
            }
            return match
        }
    }
}

extension Condition {
    /// The condition restricted to the given images, in their order.
    func gathered(_ images: [Int32]) -> Condition {
        let labels = images.map { self.labels[Int($0)] }
        switch rule {
        case .ordinal(let values, let threshold):
            return Condition(name: name, valueNames: valueNames, labels: labels, rule: .ordinal(values: images.map { values[Int($0)] }, threshold: threshold))
        case .categorical, .listed:
            return Condition(name: name, valueNames: valueNames, labels: labels, rule: rule)
        }
    }
}
