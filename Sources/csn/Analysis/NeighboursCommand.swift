import Analysis
import ArgumentParser
import Basics
import CSN
import CSNApp
import Datasets
import Foundation

struct NeighboursCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbours",
        abstract: "Print and draw an image's nearest neighbours under each condition.",
        discussion: "Exact neighbours among the images of a split, under a condition's masked metric (or the plain embedding with --condition none); ties go to the smaller index. With --embeddings (or a run folder holding only an embeddings file, as the PyTorch trainer writes for ResNet-18), the vectors are read, not computed; --index is then a row of the file."
    )

    @OptionGroup var source: VectorsOptions

    @Option(help: "Condition whose masked metric to use, or 'none' for the unmasked embedding; default: every condition.")
    var condition: String?

    @Option(help: "Query image index in the dataset.")
    var index: Int?

    @Option(help: "Query font (exact, or a unique part of its name).")
    var font: String?

    @Option(help: "Query character (with --font).")
    var char: String?

    @Option(help: "Query by search, as in the UI: the first image of --split that matches, in CONDITION:VALUE terms (e.g. \"font:Lato char:g\" on the fonts data, \"heel:2..3\" for an ordinal condition).")
    var query: String?

    @Option(name: .short, help: "Neighbours to list.")
    var k = 10

    @Option(name: .customLong("split"), help: "Split to search: train, val or test (the query must be in it) (default: test)")
    var splitOption: Split?
    var split: Split { splitOption ?? .test }

    @OptionGroup var output: AsciiOption

    func validate() throws {
        guard (1...1_000_000).contains(k) else { throw ValidationError("-k must be between 1 and 1000000, not \(k)") }
        let ways = [index != nil, font != nil || char != nil, query != nil].filter { $0 }.count
        if ways > 1 { throw ValidationError("give the query one way: --index, --font with --char, or --query") }
        if index == nil && query == nil && (font == nil || char == nil) {
            throw ValidationError("give the query as --index I, as --font F --char X, or as --query TEXT")
        }
    }

    func run() throws {
        let opened = try source.open()
        let dataset = opened.dataset, vectors = opened.vectors()
        let query: Int
        if let text = self.query {
            let matches = try ImageQuery.search(text, in: dataset)
            guard let first = matches.first(where: { dataset.splits[Int($0)] == split }) else {
                throw CSNError("no image of the \(split) split matches '\(text)' (\(matches.count) in other splits)")
            }
            query = Int(first)
        } else if let index {
            guard index >= 0 && index < dataset.count else {
                throw CSNError("--index \(index) is out of range: the dataset has \(dataset.count) images")
            }
            query = index
        } else {
            query = try FontLookup.image(font: try FontLookup.font(named: font!, in: dataset), character: char!)
        }
        guard dataset.splits[query] == split else {
            throw CSNError("image \(query) (\(dataset.imageNames[query])) is in the \(dataset.splits[query]) split, not \(split); pass --split \(dataset.splits[query])")
        }
        let conditions: [Int?] = try condition.map { name in name == "none" ? [nil] : [try dataset.conditionIndex(named: name)] }
            ?? dataset.conditions.indices.map { $0 }
        let members = dataset.imageIndices(in: split)
        let queryRow = members.firstIndex(of: Int32(query))!
        let d = vectors.dimension
        let masks = vectors.masks()
        var embeddingsByNetwork: [Int: [Float]] = [:]
        let colour = Terminal.isInteractive && !output.ascii
        print("query \(query): \(dataset.imageNames[query]) [\(split) split, \(members.count) images searched]")
        for c in conditions {
            let network = vectors.networkIndex(condition: c ?? 0)
            if embeddingsByNetwork[network] == nil {
                embeddingsByNetwork[network] = vectors.embed(members, network: network, dataset: dataset, isCancelled: { false })
            }
            let mask = c.map { Array(masks[($0 * d)..<(($0 + 1) * d)]) }
            let search = NearestNeighbours(embeddings: embeddingsByNetwork[network]!, dimension: d, mask: mask)
            let found = search.neighbours(of: queryRow, k: k)
            print("")
            print("under \(c.map { dataset.conditions[$0].name } ?? "the unmasked embedding"):")
            for (rank, neighbour) in found.enumerated() {
                let image = Int(members[neighbour.index])
                let values = dataset.conditions.map { $0.valueNames[Int($0.labels[image])] }
                print(String(format: "%3d  %8.4f  ", rank + 1, neighbour.distance) + dataset.imageNames[image]
                      + "  [" + zip(dataset.conditions, values)
                        .map { "\($0.0.name) \($0.1)" }.joined(separator: ", ") + "]")
            }
            guard dataset.imageSize >= 8 else { continue }  // vectors without pictures: the list alone
            let images = [(caption: "query", image: GlyphArt.tile(dataset, query, factor: 2, colour: colour))]
                + found.enumerated().map { rank, n in (caption: "\(rank + 1)", image: GlyphArt.tile(dataset, Int(members[n.index]), factor: 2, colour: colour)) }
            print(GlyphArt.grid(images, width: Terminal.width, colour: colour), terminator: "")
        }
    }
}
