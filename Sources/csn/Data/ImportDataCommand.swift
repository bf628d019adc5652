import ArgumentParser
import Basics
import Datasets

struct ImportDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Make a dataset from a folder of JPEG/PNG images and a CSV of their attributes.",
        discussion: """
        Each CSV row names one image by its path relative to --images (the first column unless \
        --path-column says otherwise). Each column named in --conditions becomes a notion of \
        similarity: images with equal values are alike; with --ordinal NAME:T the column holds numbers \
        and images within T of each other are alike. Images are shrunk to fit the square (area \
        averaging, aspect kept, padded with the border colour). The split is by image, or by the \
        values of --split-column (e.g. a product id), seeded.
        """
    )

    @Option(help: "Folder the image paths are relative to.")
    var images: String

    @Option(help: "CSV file with a header row and one row per image.")
    var attributes: String

    @Option(help: "Comma-separated columns that become conditions, e.g. type,gender,heel.")
    var conditions: String

    @Option(help: "An ordinal condition and its threshold, e.g. heel:1 (repeatable).")
    var ordinal: [String] = []

    @Option(name: .customLong("path-column"), help: "Column with the image paths (default: the first).")
    var pathColumn: String?

    @Option(name: .customLong("split-column"), help: "Column whose values keep images together in one split.")
    var splitColumn: String?

    @OptionGroup var sampling: AttributeImportOptions
    @OptionGroup var common: ImageImportOptions

    var conditionNames: [String] { conditions.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }

    func validate() throws {
        for name in try parsedOrdinals().keys where !conditionNames.contains(name) {
            throw ValidationError("--ordinal names '\(name)', which is not one of --conditions (\(conditionNames.joined(separator: ",")))")
        }
    }

    func parsedOrdinals() throws -> [String: Float] {
        var thresholds: [String: Float] = [:]
        for entry in ordinal {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let threshold = Float.parse(parts[1]), threshold.isFinite, threshold >= 0 else {
                throw ValidationError("--ordinal '\(entry)' must be NAME:THRESHOLD with a threshold of at least 0, e.g. heel:1")
            }
            thresholds[String(parts[0])] = threshold
        }
        return thresholds
    }

    func run() throws {
        try common.checkOutIsNotAnInput([attributes])
        let table = try AttributeTable(csv: try AtomicFile.read(attributes), source: attributes)
        var options = sampling.folderOptions(images: images, conditions: conditionNames, common: common)
        options.ordinalThresholds = try parsedOrdinals()
        options.pathColumn = pathColumn
        options.splitColumn = splitColumn
        let progress = common.progress()
        defer { progress.finish() }  // on an error too: the bar's line is ended before the message
        let (dataset, report) = try FolderDatasetBuilder.build(table: table, options: options, progress: progress.callback)
        progress.finish()
        try common.save(dataset, report: report)
    }
}
