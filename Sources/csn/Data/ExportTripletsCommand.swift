import ArgumentParser
import Datasets

struct ExportTripletsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-triplets",
        abstract: "Write the val and test triplet lists in the original CSN text format.",
        discussion: "Writes filenames.json (one image name per line) and {condition}_tripletlist_{val,test}.txt, whose lines 'a b c' mean that a is closer to c than to b."
    )

    @OptionGroup var data: DataFileOption

    @Option(help: "Folder to write into (created if missing).")
    var out: String

    func run() throws {
        let dataset = try data.load()
        try TripletTextFormat.export(dataset, to: out)
        print("wrote \(dataset.count) image names and \(dataset.valTriplets.count) val + \(dataset.testTriplets.count) test triplets to \(out)")
    }
}
