import ArgumentParser
import Datasets

struct StatsDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print image counts per condition value and split, and the triplet lists."
    )

    @OptionGroup var data: DataFileOption

    @Flag(help: "List every value, even of conditions with many values (such as font).")
    var all = false

    @Flag(help: "List the fonts, tab-separated: index, split, weight class, slant, name, file.")
    var fonts = false

    func run() throws {
        let dataset = try data.load()
        print(DatasetStats.report(dataset, source: data.resolvedPath, allValues: all))
        if fonts {
            for (f, info) in dataset.fonts.enumerated() {
                let split = dataset.splits[f * FontCharacters.count]
                print("\(f)\t\(split)\t\(info.weightClass)\t\(info.italic ? "italic" : "upright")\t\(info.name)\t\(info.file)")
            }
        }
    }
}

/// The text of `csn data stats`.
enum DatasetStats {
    /// Conditions with more values than this are summarised unless every value is asked for.
    static let listedValues = 62

    static func report(_ dataset: ImageDataset, source: String, allValues: Bool) -> String {
        var lines: [String] = []
        let perSplit = Split.allCases.map { split in dataset.splits.filter { $0 == split }.count }
        lines.append("\(source)")
        lines.append("  \(dataset.count) images of \(dataset.imageSize)x\(dataset.imageSize), \(dataset.channels) channel(s); "
                     + "\(dataset.groupNames.count) \(dataset.fonts.isEmpty ? "groups" : "fonts")")
        lines.append("  images per split: " + zip(Split.allCases, perSplit).map { "\($0) \($1)" }.joined(separator: ", "))
        if !dataset.fonts.isEmpty {
            // A font's split is its images' (its group's); a file may list fonts with any image count.
            var firstImage: [Int32: Int] = [:]
            for (i, group) in dataset.groups.enumerated() where firstImage[group] == nil { firstImage[group] = i }
            let fontSplits = dataset.fonts.indices.compactMap { firstImage[Int32($0)].map { dataset.splits[$0] } }
            lines.append("  fonts per split: " + Split.allCases.map { s in "\(s) \(fontSplits.filter { $0 == s }.count)" }.joined(separator: ", ")
                         + "; fixed pitch \(dataset.fonts.filter(\.fixedPitch).count)")
        }
        for (c, condition) in dataset.conditions.enumerated() {
            let valueCount = condition.valueNames.count
            var counts = [[Int]](repeating: [0, 0, 0], count: valueCount)
            for i in 0..<dataset.count { counts[Int(condition.labels[i])][Int(dataset.splits[i].rawValue)] += 1 }
            let triplets = Split.allCases.filter { dataset.triplets(for: $0).count > 0 }
                .map { "\($0) \(dataset.triplets(for: $0).filtered(condition: c).count)" }
            lines.append("")
            let kind = condition.isListed ? condition.ruleName : "\(valueCount) values\(condition.rule == .categorical ? "" : ", " + condition.ruleName)"
            lines.append("condition \(condition.name): \(kind); triplets: \(triplets.joined(separator: ", "))")
            if condition.isListed { continue }
            if valueCount <= listedValues || allValues {
                let nameWidth = min(32, max(6, condition.valueNames.map(\.count).max() ?? 0))
                lines.append("  " + "value".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "    train      val     test")
                for v in 0..<valueCount {
                    let name = String(condition.valueNames[v].prefix(nameWidth)).padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                    lines.append("  \(name) " + counts[v].map { pad($0, 8) }.joined(separator: " "))
                }
            } else {
                for split in Split.allCases {
                    let present = counts.map { $0[Int(split.rawValue)] }.filter { $0 > 0 }.sorted()
                    guard !present.isEmpty else { continue }
                    lines.append("  \(split): \(present.count) values, images per value min \(present.first!), "
                                 + "median \(present[present.count / 2]), max \(present.last!)")
                }
                lines.append("  (--all lists every value)")
            }
        }
        if let skips = dataset.provenance["skip_report"] {
            lines.append("")
            lines.append("how it was built: \(dataset.provenance["command"] ?? "unknown command")")
            lines.append(skips)
        }
        return lines.joined(separator: "\n")
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
