import ArgumentParser
import Basics
import Datasets

struct ImportTripletsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-triplets",
        abstract: "Make a dataset from the original CSN triplet files, to train on exactly those triplets.",
        discussion: """
        Reads the names file (one image path per line, relative to --images) and, in --triplets, \
        {condition}_tripletlist_{train,val,test}.txt for every condition found there; a line 'a b c' \
        says that a is closer to c than to b. Training then draws from the train lists and \
        evaluation uses the val and test lists as they are.
        """
    )

    @Option(help: "The names file (filenames.json in the original code).")
    var filenames: String

    @Option(help: "Folder with the {condition}_tripletlist_{split}.txt files.")
    var triplets: String

    @Option(help: "Folder the image paths are relative to.")
    var images: String

    @OptionGroup var common: ImageImportOptions

    func run() throws {
        try common.checkOutIsNotAnInput([filenames])
        var options = TripletListImportOptions(filenamesPath: filenames, tripletsDirectory: triplets, imagesDirectory: images)
        options.imageSize = common.size
        options.color = common.color
        options.skipBad = common.skipBad
        options.allowOutside = common.allowOutside
        options.background = common.backgroundColour
        let progress = common.progress()
        defer { progress.finish() }  // on an error too: the bar's line is ended before the message
        let (dataset, report) = try TripletListImport.build(options, progress: progress.callback)
        progress.finish()
        try common.save(dataset, report: report)
        print("triplets: \(dataset.trainTriplets.count) train, \(dataset.valTriplets.count) val, \(dataset.testTriplets.count) test")
    }
}
