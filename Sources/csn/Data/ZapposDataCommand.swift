import ArgumentParser
import Basics
import Datasets

struct ZapposDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zappos",
        abstract: "Make a dataset from UT-Zappos50K as it unpacks, with the paper's four conditions.",
        discussion: """
        Reads ROOT/ut-zap50k-images (or -square) and ROOT/ut-zap50k-data/meta-data.csv, matches rows \
        to images by CID, and keeps Category, Gender, HeelHeight and Closure. Heel height is read in \
        inches (a range gives its middle) and is ordinal: heels within 1 inch are alike. Rows with a \
        blank attribute or no image are left out and counted. Split by image, seeded.
        """
    )

    @Option(help: "The folder holding ut-zap50k-images and ut-zap50k-data.")
    var root: String

    @OptionGroup var sampling: AttributeImportOptions
    @OptionGroup var common: ImageImportOptions

    func run() throws {
        let located = try ZapposLayout.locate(root: root)
        var options = sampling.folderOptions(images: located.imagesDirectory, conditions: ZapposLayout.conditions, common: common)
        options.ordinalThresholds = ["HeelHeight": ZapposLayout.heelThreshold]
        let progress = common.progress()
        defer { progress.finish() }  // on an error too: the bar's line is ended before the message
        let (dataset, report) = try FolderDatasetBuilder.build(table: located.table, options: options, progress: progress.callback)
        progress.finish()
        for (reason, count) in located.leftOut.sorted(by: { $0.key < $1.key }) {
            print("left out \(count) meta-data row(s): \(reason)")
        }
        try common.save(dataset, report: report)
    }
}
