import ArgumentParser
import Basics
import CSN
import Datasets
import Foundation

/// Options every image importer shares, and how an import ends: saved with its command line, a
/// summary of what was taken and skipped.
struct ImageImportOptions: ParsableArguments {
    @Option(help: "Image size in pixels: 32 or 64 (64 adds a fourth network stage).")
    var size = 32

    @Flag(help: "Keep colour (RGB, 3 input channels); greyscale by default.")
    var color = false

    @Flag(name: .customLong("skip-bad"), help: "Skip and count bad rows and unreadable images instead of stopping at the first.")
    var skipBad = false

    @Option(help: "What transparent PNG pixels are drawn onto: white, black, grey or #RRGGBB (white-on-transparent icons need black).")
    var background = "white"

    @Flag(help: "Keep one image of each group of exact duplicates (the same pixels after fitting); without it they are counted in a warning when they fall in different splits.")
    var dedup = false

    @Flag(help: "Leave out the notes (such as image files the table does not name); warnings and errors stay.")
    var quiet = false

    @Flag(name: .customLong("allow-outside"), help: "Let image paths leave --images (absolute paths, '..', links that lead out).")
    var allowOutside = false

    @Option(help: "Where to write the dataset (.safetensors.gz).")
    var out: String

    func validate() throws {
        guard size == 32 || size == 64 else { throw ValidationError("--size must be 32 or 64, not \(size)") }
        guard Background(background) != nil else { throw ValidationError("--background must be white, black, grey or #RRGGBB, not '\(background)'") }
    }

    var backgroundColour: Background { Background(background) ?? .white }

    /// Refuses an --out that is one of the input files, or an existing file that looks like no
    /// dataset (an image, a CSV): the write would replace it. An earlier dataset (named like one,
    /// or gzip) or an empty file may be replaced.
    func checkOutIsNotAnInput(_ inputs: [String]) throws {
        guard let outReal = realpath(out, nil) else { return }  // a new file: not an input
        defer { free(outReal) }
        var info = stat()
        if stat(out, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            throw ValidationError("--out \(out) exists and is not a regular file; choose a file name")
        }
        let namedLikeADataset = out.hasSuffix(".safetensors.gz") || out.hasSuffix(".safetensors")
        if !namedLikeADataset, let handle = FileHandle(forReadingAtPath: out) {
            let magic = (try? handle.read(upToCount: 2)) ?? Data()
            try? handle.close()
            if !magic.isEmpty && Array(magic) != [0x1f, 0x8b] {
                throw ValidationError("--out \(out) exists and is not a gzip dataset; it would be replaced, so choose another name")
            }
        }
        for input in inputs {
            guard let inputReal = realpath(input, nil) else { continue }
            defer { free(inputReal) }
            if strcmp(outReal, inputReal) == 0 { throw ValidationError("--out \(out) is the input file \(input); choose another name") }
        }
    }

    /// A progress bar (a log line every few seconds when piped) while images are read.
    func progress() -> Progress { Progress("reading images", unit: "images") }

    func save(_ dataset: ImageDataset, report: ImportReport) throws {
        var withCommand = dataset
        withCommand.provenance["command"] = (["csn"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        try withCommand.save(to: out)
        report.summary(quiet: quiet).forEach { print($0) }
        let splitCounts = Split.allCases.map { split in "\(split) \(dataset.splits.filter { $0 == split }.count)" }
        let conditions = dataset.conditions.map { "\($0.name) (\($0.isListed ? $0.ruleName : "\($0.valueNames.count) values\($0.rule == .categorical ? "" : ", " + $0.ruleName)"))" }
        print("wrote \(out): \(dataset.count) images of \(size)x\(size) \(color ? "RGB" : "grey") (\(splitCounts.joined(separator: ", ")))")
        print("conditions: \(conditions.joined(separator: ", "))")
    }
}

/// Options of the importers that read attributes (`import`, `zappos`): the seed of the split and
/// of the fixed evaluation triplets, and how many of those per condition.
struct AttributeImportOptions: ParsableArguments {
    @Option(help: "Seed for the split and the evaluation triplets.")
    var seed: UInt64 = 1

    @Option(name: .customLong("triplets"), help: "Fixed val and test triplets per condition.")
    var tripletsPerCondition = 10_000

    func validate() throws {
        guard (1...TrainingConfig.maxValidationTriplets).contains(tripletsPerCondition) else {
            throw ValidationError("--triplets must be between 1 and \(TrainingConfig.maxValidationTriplets), not \(tripletsPerCondition)")
        }
    }

    /// Import options for these conditions with the shared settings filled in.
    func folderOptions(images: String, conditions: [String], common: ImageImportOptions) -> FolderImportOptions {
        var options = FolderImportOptions(imagesDirectory: images, conditions: conditions)
        options.imageSize = common.size
        options.color = common.color
        options.skipBad = common.skipBad
        options.dedup = common.dedup
        options.allowOutside = common.allowOutside
        options.background = common.backgroundColour
        options.seed = seed
        options.tripletsPerCondition = tripletsPerCondition
        return options
    }
}
