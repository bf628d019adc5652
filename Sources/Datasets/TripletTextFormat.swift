import Basics
import Foundation

/// The triplet files of the original CSN code: a file of image names, one per line, and for each
/// condition and split a file `{condition}_tripletlist_{split}.txt` whose lines `a b c` are
/// indices into the names, meaning that under the condition a is closer to c than to b.
public enum TripletTextFormat {
    public static let filenamesFile = "filenames.json"

    public static func listFile(condition: String, split: Split) -> String {
        "\(condition)_tripletlist_\(split).txt"
    }

    /// The text of one triplet list: `anchor negative positive` per line.
    public static func encode(_ triplets: TripletList) -> String {
        var text = ""
        for t in 0..<triplets.count {
            let triplet = triplets[t]
            text += "\(triplet.anchor) \(triplet.negative) \(triplet.positive)\n"
        }
        return text
    }

    /// Parses one triplet list for `condition`; indices must be below `imageCount`.
    /// Errors name the file and line.
    public static func decode(_ text: String, condition: Int, imageCount: Int, source: String) throws -> TripletList {
        var list = TripletList()
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 3 else {
                throw CSNError.file("\(source):\(lineNumber)", "expected three indices 'a b c', found \(fields.count) field(s)")
            }
            var values: [Int32] = []
            for field in fields {
                guard let value = Int32(field) else {
                    throw CSNError.file("\(source):\(lineNumber)", "'\(field)' is not an image index")
                }
                guard value >= 0, Int(value) < imageCount else {
                    throw CSNError.file("\(source):\(lineNumber)", "image index \(value) is out of range (there are \(imageCount) images)")
                }
                values.append(value)
            }
            list.append(Triplet(condition: Int32(condition), anchor: values[0], positive: values[2], negative: values[1]))
        }
        return list
    }

    /// Writes the names file and every condition's train, val and test lists into `directory`.
    /// The train lists are the dataset's own, or `trainPerCondition` triplets per condition drawn
    /// (seeded) from the attributes. `names` replaces the image names (e.g. exported image files).
    public static func export(_ dataset: ImageDataset, to directory: String, names: [String]? = nil,
                              trainPerCondition: Int = 0, seed: UInt64 = 1) throws {
        var train = dataset.trainTriplets
        if train.count == 0 && trainPerCondition > 0 {
            var generator = SeededGenerator(seed: seed ^ 0x4558_504F_5254)
            train = try TripletSampler(dataset: dataset, split: .train, requireAll: false)
                .sampleFixed(perCondition: trainPerCondition, using: &generator)
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFile.write((names ?? dataset.imageNames).joined(separator: "\n") + "\n", to: directory + "/" + filenamesFile)
        for (split, list) in [(Split.train, train), (.val, dataset.valTriplets), (.test, dataset.testTriplets)] where list.count > 0 {
            for (c, condition) in dataset.conditions.enumerated() {
                let path = directory + "/" + listFile(condition: condition.name, split: split)
                try AtomicFile.write(encode(list.filtered(condition: c)), to: path)
            }
        }
    }
}
