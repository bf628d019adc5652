import Basics
import Foundation

/// How to make a dataset from a folder of images and a table of their attributes (`csn data import`).
public struct FolderImportOptions: Sendable {
    public var imagesDirectory: String
    /// Columns of the table that become conditions, in this order.
    public var conditions: [String]
    /// Conditions compared by number: images within the threshold are alike (heel height).
    public var ordinalThresholds: [String: Float] = [:]
    /// The column with each image's path relative to `imagesDirectory`; nil means the first.
    public var pathColumn: String?
    /// Images sharing this column's value go to the same split (a product id); nil splits by image.
    public var splitColumn: String?
    public var imageSize = 32
    public var color = false
    /// Skip and count bad rows and images instead of stopping at the first.
    public var skipBad = false
    /// Let image paths leave `imagesDirectory` (absolute, `..`, links out).
    public var allowOutside = false
    /// What transparent pixels are composed onto.
    public var background = Background.white
    public var seed: UInt64 = 1
    public var valFraction = 0.1
    public var testFraction = 0.1
    public var tripletsPerCondition = 10_000
    /// Keep one image of each group of exact duplicates (the same pixels after fitting).
    public var dedup = false

    public init(imagesDirectory: String, conditions: [String]) {
        self.imagesDirectory = imagesDirectory
        self.conditions = conditions
    }
}

/// Builds a dataset from an attribute table: checks every row, reads and fits the images, makes
/// one condition per chosen column, splits (by image or by a group column), and samples the fixed
/// evaluation triplets. Nothing is written here, so a failed import leaves no file behind.
public enum FolderDatasetBuilder {
    public static func build(table: AttributeTable, options: FolderImportOptions,
                             progress: @Sendable (Int, Int) -> Void = { _, _ in }) throws -> (ImageDataset, ImportReport) {
        guard options.imageSize == 32 || options.imageSize == 64 else {
            throw CSNError("the image size must be 32 or 64, not \(options.imageSize)")
        }
        guard !options.conditions.isEmpty else { throw CSNError("no column was chosen as a condition") }
        for name in options.ordinalThresholds.keys where !options.conditions.contains(name) {
            throw CSNError("the ordinal condition '\(name)' is not one of the conditions (\(options.conditions.joined(separator: ",")))")
        }
        let folder = try ConfinedFolder(options.imagesDirectory, allowOutside: options.allowOutside)
        let pathColumn = try options.pathColumn.map(table.column) ?? 0
        let conditionColumns = try options.conditions.map(table.column)
        let splitColumn = try options.splitColumn.map(table.column)
        var report = ImportReport()

        // Rows first: every fault a row can have, before any image is read.
        var accepted: [AttributeTable.Row] = []
        var seenPaths: [String: Int] = [:]
        rows: for row in table.rows {
            let place = "\(table.source):\(row.line)"
            guard row.fields.count == table.header.count else {
                try report.reject(CSNError.file(place, "the row has \(row.fields.count) field(s) but the header has \(table.header.count)"),
                                  reason: "ragged rows", skipBad: options.skipBad)
                continue
            }
            let path = row.fields[pathColumn].trimmingSpaces
            guard !path.isEmpty else {
                try report.reject(CSNError.file(place, "column '\(table.header[pathColumn])' names no image"), reason: "rows without an image path", skipBad: options.skipBad)
                continue
            }
            for (name, column) in zip(options.conditions, conditionColumns) {
                let value = row.fields[column].trimmingSpaces
                if value.isEmpty {
                    try report.reject(CSNError.file(place, "no value for '\(name)'"), reason: "rows with an empty value", skipBad: options.skipBad)
                    continue rows
                }
                if options.ordinalThresholds[name] != nil, Float.parse(value)?.isFinite != true {
                    try report.reject(CSNError.file(place, "'\(value)' in column '\(name)' is not a number (the condition is ordinal)"),
                                      reason: "rows with a non-numeric ordinal value", skipBad: options.skipBad)
                    continue rows
                }
            }
            if let first = seenPaths[path] {
                try report.reject(CSNError.file(place, "'\(path)' is named again (first on line \(first))"), reason: "repeated images", skipBad: options.skipBad)
                continue
            }
            seenPaths[path] = row.line
            accepted.append(row)
        }

        // Then the images, in parallel; errors are reported in row order.
        let channels = options.color ? 3 : 1
        let names = accepted.map { $0.fields[pathColumn].trimmingSpaces }
        let images = ImageLoader.load(names: names, in: folder, size: options.imageSize, channels: channels, background: options.background, progress: progress)
        let gathered = try ImageLoader.gather(images, origin: { "named on \(table.source):\(accepted[$0].line)" },
                                              skipBad: options.skipBad, report: &report)
        var kept = gathered.kept.map { accepted[$0] }
        var pixels = gathered.pixels
        guard !kept.isEmpty else { throw CSNError.file(table.source, "no row gave a usable image") }
        let bytesPerImage = channels * options.imageSize * options.imageSize
        let duplicates = DuplicateImages.groups(pixels: pixels, bytesPerImage: bytesPerImage, count: kept.count)
        if options.dedup, !duplicates.isEmpty {
            let dropped = Set(duplicates.flatMap { $0.dropFirst() })
            let keep = kept.indices.filter { !dropped.contains($0) }
            report.notes.append("--dedup: \(dropped.count) exact duplicate image(s) left out, one of each of \(duplicates.count) group(s) kept (e.g. \(kept[duplicates[0][1]].fields[pathColumn].trimmingSpaces) = \(kept[duplicates[0][0]].fields[pathColumn].trimmingSpaces))")
            pixels = keep.flatMap { pixels[($0 * bytesPerImage)..<(($0 + 1) * bytesPerImage)] }
            kept = keep.map { kept[$0] }
        }

        var conditions: [Condition] = []
        for (name, column) in zip(options.conditions, conditionColumns) {
            let values = kept.map { $0.fields[column].trimmingSpaces }
            let distinct = Array(Set(values)).sorted()
            guard distinct.count >= 2 else {
                throw CSNError.file(table.source, "condition '\(name)' has the single value '\(distinct[0])', so it cannot tell images apart")
            }
            if let threshold = options.ordinalThresholds[name] {
                conditions.append(.ordinal(name: name, values: values.map { Float.parse($0)! }, threshold: threshold))
            } else {
                let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, Int32($0)) })
                conditions.append(Condition(name: name, valueNames: distinct, labels: values.map { index[$0]! }))
            }
        }

        let groupKeys = splitColumn.map { column in kept.map { $0.fields[column].trimmingSpaces } }
            ?? kept.map { $0.fields[pathColumn].trimmingSpaces }
        let groupNames = Array(Set(groupKeys)).sorted()
        let groupIndex = Dictionary(uniqueKeysWithValues: groupNames.enumerated().map { ($1, Int32($0)) })
        let groups = groupKeys.map { groupIndex[$0]! }
        let groupSplits = try GroupSplit.assign(groupCount: groupNames.count, valFraction: options.valFraction,
                                                testFraction: options.testFraction, seed: options.seed)

        // Files no row names at all (a skipped row still names its image).
        let named = Set(table.rows.compactMap { $0.fields.indices.contains(pathColumn) ? $0.fields[pathColumn].trimmingSpaces : nil })
        let unnamed = ImageLoader.imageFiles(under: options.imagesDirectory).filter { !named.contains($0) }
        if let example = unnamed.first {
            report.notes.append("\(unnamed.count) image file(s) in \(options.imagesDirectory) are not named by \(table.source) and were left out (e.g. \(example))")
        }

        var provenance = ["kind": "folder", "seed": String(options.seed), "attributes": table.source,
                          "images": options.imagesDirectory, "skipped": String(report.skippedTotal)]
        if let column = options.splitColumn { provenance["split_column"] = column }
        var dataset = ImageDataset(imageSize: options.imageSize, channels: channels, pixels: pixels,
                                   imageNames: kept.map { $0.fields[pathColumn].trimmingSpaces }, conditions: conditions,
                                   groups: groups, groupNames: groupNames, splits: groups.map { groupSplits[Int($0)] },
                                   provenance: provenance)
        if !options.dedup {
            let leaks = DuplicateImages.acrossSplits(duplicates, splits: dataset.splits)
            if let example = leaks.first {
                let images = leaks.reduce(0) { $0 + $1.count }
                report.warnings.append("\(images) images in \(leaks.count) group(s) of exact duplicates lie in more than one split, so the same picture is in training and evaluation (e.g. \(dataset.imageNames[example[0]]) = \(dataset.imageNames[example[1]])); --dedup keeps one of each")
            }
        }
        report.warnings += try dataset.sampleEvaluationTriplets(perCondition: options.tripletsPerCondition, seed: options.seed)
        try dataset.validate(source: table.source)
        return (dataset, report)
    }
}
