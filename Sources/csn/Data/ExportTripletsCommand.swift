import ArgumentParser
import Basics
import Datasets
import Foundation

struct ExportTripletsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-triplets",
        abstract: "Write the triplet lists in the original CSN text format.",
        discussion: """
        Writes filenames.json (one image name per line) and {condition}_tripletlist_{train,val,test}.txt, \
        whose lines 'a b c' mean that a is closer to c than to b. Train lists are the dataset's own or, \
        for data with attributes, --train-per-condition triplets drawn with --seed. With --with-images \
        the images are written as PNG files under OUT/images and filenames.json names them, so that \
        'csn data import-triplets' reads the folder back.
        """
    )

    @OptionGroup var data: DataFileOption

    @Option(help: "Folder to write into (created if missing).")
    var out: String

    @Option(name: .customLong("train-per-condition"), help: "Training triplets to draw per condition (0: write no train lists).")
    var trainPerCondition = 10_000

    @Option(help: "Seed for the drawn training triplets.")
    var seed: UInt64 = 1

    @Flag(name: .customLong("with-images"), help: "Also write every image as a PNG under OUT/images.")
    var withImages = false

    func validate() throws {
        guard (0...10_000_000).contains(trainPerCondition) else { throw ValidationError("--train-per-condition must be between 0 and 10000000, not \(trainPerCondition)") }
    }

    func run() throws {
        let dataset = try data.load()
        var names: [String]?
        if withImages {
            try FileManager.default.createDirectory(atPath: out + "/images", withIntermediateDirectories: true)
            names = try (0..<dataset.count).map { i in
                let name = String(format: "images/%06d.png", i)
                try AtomicFile.write(try ImageEncoder.png(dataset.interleavedImage(i)), to: out + "/" + name)
                return name
            }
        }
        try TripletTextFormat.export(dataset, to: out, names: names, trainPerCondition: trainPerCondition, seed: seed)
        let train = dataset.trainTriplets.count > 0 ? dataset.trainTriplets.count : trainPerCondition * dataset.conditions.count
        print("wrote \(dataset.count) image names\(withImages ? " and PNG files" : "") and \(train) train + \(dataset.valTriplets.count) val + \(dataset.testTriplets.count) test triplets to \(out)")
    }
}
