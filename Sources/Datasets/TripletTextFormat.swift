import Basics
import Foundation

/// The triplet files of the original CSN code: a file of image names, one per line, and for each
/// condition and split a file `{condition}_tripletlist_{split}.txt` whose lines `a b c` are
/// indices into the names, meaning that under the condition a is closer to c than to b.
public enum TripletTextFormat {
    public static let filenamesFile = "filenames.json"

    /// The list's file name. Condition names come from other people's files, so anything but
    /// letters, digits, '-', '_' and '.' becomes '_', and a leading '.' is escaped: the name is
    /// always one plain file inside the folder it is written to.
    public static func listFile(condition: String, split: Split) -> String {
        "\(fileComponent(condition))_tripletlist_\(split).txt"
    }

    static func fileComponent(_ name: String) -> String {
        var safe = String(name.unicodeScalars.map { scalar -> Character in
            let allowed = scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_" || scalar == "."
            return allowed ? Character(scalar) : "_"
        }.prefix(100))
        if safe.isEmpty || safe.hasPrefix(".") { safe = "_" + safe }
        return safe
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
    public static func decode(_ bytes: [UInt8], condition: Int, imageCount: Int, source: String) throws -> TripletList {
        var list = TripletList()
        for (lineNumber, line) in TextLines.split(bytes) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty { continue }
            guard fields.count == 3 else {
                throw CSNError.file("\(source):\(lineNumber)", "expected three indices 'a b c', found \(fields.count) field(s)")
            }
            var values: [Int32] = []
            for field in fields {
                guard let value = Int32(field) else {
                    throw CSNError.file("\(source):\(lineNumber)", "'\(String(field.prefix(40)).terminalSafe)' is not an image index")
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
        let fileNames = dataset.conditions.map { fileComponent($0.name) }
        if let clash = fileNames.indices.first(where: { fileNames.firstIndex(of: fileNames[$0]) != $0 }) {
            throw CSNError("conditions '\(dataset.conditions[fileNames.firstIndex(of: fileNames[clash])!].name)' and '\(dataset.conditions[clash].name)' would be written to the same file name '\(fileNames[clash])'")
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
