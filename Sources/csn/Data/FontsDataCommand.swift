import ArgumentParser
import Basics
import CSN
import Datasets
import Foundation

struct FontsDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fonts",
        abstract: "Render a fonts dataset from font files with FreeType.",
        discussion: """
        Renders 0-9, A-Z, a-z of every usable face, reads weight and slant from the font, splits by \
        font (80/10/10) and samples fixed val and test triplets for the conditions character, font, \
        weight and slant. Prints what it skipped and why.
        """
    )

    @Option(name: .customLong("fonts-dir"), help: "Folder (searched recursively) or file of fonts; repeatable.")
    var fontsDirectories: [String] = ["/usr/share/fonts"]

    @Option(help: "Image size in pixels: 32 or 64.")
    var size = 32

    @Option(help: "Seed for the split, the font cap and the triplets.")
    var seed: UInt64 = 1

    @Option(name: .customLong("triplets"), help: "Fixed val and test triplets per condition.")
    var tripletsPerCondition = 10_000

    @Option(name: .customLong("max-fonts"), help: "Keep at most this many fonts (a seeded choice).")
    var maxFonts: Int?

    @Option(help: "Where to write the dataset (.safetensors.gz).")
    var out: String

    func validate() throws {
        guard size == 32 || size == 64 else { throw ValidationError("--size must be 32 or 64, not \(size)") }
        guard (1...TrainingConfig.maxValidationTriplets).contains(tripletsPerCondition) else {
            throw ValidationError("--triplets must be between 1 and \(TrainingConfig.maxValidationTriplets), not \(tripletsPerCondition)")
        }
        if let maxFonts, maxFonts < 3 { throw ValidationError("--max-fonts must be at least 3, not \(maxFonts)") }
    }

    func run() throws {
        var options = FontsDatasetOptions()
        options.fontsDirectories = fontsDirectories
        options.size = size
        options.seed = seed
        options.tripletsPerCondition = tripletsPerCondition
        options.maxFonts = maxFonts
        let progress = Progress("rendering fonts", unit: "font files")
        defer { progress.finish() }
        let (dataset, report) = try FontsDatasetBuilder.build(options, progress: progress.callback)
        progress.finish()
        var withCommand = dataset
        withCommand.provenance["command"] = (["csn"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        try withCommand.save(to: out)
        print(report.summary)
        let splitCounts = Split.allCases.map { split in "\(split) \(dataset.fonts.indices.filter { dataset.splits[$0 * FontCharacters.count] == split }.count)" }
        print("wrote \(out): \(dataset.fonts.count) fonts (\(splitCounts.joined(separator: ", "))), \(dataset.count) images of \(size)x\(size)")
    }
}
