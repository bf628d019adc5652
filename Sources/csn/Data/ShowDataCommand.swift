import ArgumentParser
import Basics
import Datasets

struct ShowDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the images a search finds (or, on fonts data, a font's characters) with their attributes.",
        discussion: """
        Images are drawn with half blocks (in colour for colour data) on a terminal, and with an \
        ASCII ramp otherwise. --query takes the UI's search terms (e.g. "font:Lato char:g", "shape:disc", \
        "#12"); it is the way to look at datasets other than fonts.
        """
    )

    @OptionGroup var data: DataFileOption

    @Option(help: "Font name (exact, or a unique part of it, any case).")
    var font: String?

    @Option(help: "Font index (0-based, as listed by `csn data stats --fonts`).")
    var index: Int?

    @Option(help: "Only these characters, e.g. \"AaGg\".")
    var chars: String?

    @Option(help: "Show the images this search finds, e.g. \"shape:disc tone:dark\" (any dataset).")
    var query: String?

    @Option(help: "At most this many images for --query.")
    var count = 24

    @Flag(help: "Draw at full resolution instead of half.")
    var full = false

    @OptionGroup var output: AsciiOption

    /// Colour (and half blocks) on a terminal unless --ascii.
    var colour: Bool { Terminal.isInteractive && !output.ascii }

    func validate() throws {
        if font != nil && index != nil { throw ValidationError("give either --font or --index, not both") }
        if query != nil && (font != nil || index != nil || chars != nil) {
            throw ValidationError("--query replaces --font, --index and --chars; give one or the other")
        }
        guard (1...100_000).contains(count) else { throw ValidationError("--count must be between 1 and 100000, not \(count)") }
    }

    func run() throws {
        let dataset = try data.load()
        if query != nil || dataset.fonts.isEmpty {
            try showMatches(in: dataset)
            return
        }
        let fontIndex = try resolveFont(in: dataset)
        let info = dataset.fonts[fontIndex]
        let split = dataset.splits[fontIndex * FontCharacters.count]
        print("font \(fontIndex): \(info.name)  [\(split) split]")
        print("  family \(info.family), style \(info.style)")
        print("  weight class \(info.weightClass) -> \(FontInfo.weightClassNames[Int(info.weightBucket)]), "
              + "\(FontInfo.slantNames[Int(info.slantBucket)]), \(info.fixedPitch ? "fixed pitch" : "proportional")")
        print("  file \(info.file)\(info.faceIndex > 0 ? " (face \(info.faceIndex))" : "")")
        let characters = try chars.map { text in
            try text.map { ch in
                guard let c = FontCharacters.all.firstIndex(of: ch) else {
                    throw CSNError("--chars: '\(ch)' is not one of 0-9, A-Z, a-z")
                }
                return c
            }
        } ?? Array(0..<FontCharacters.count)
        let factor = full ? 1 : 2
        let images = characters.map { c in
            (caption: String(FontCharacters.all[c]), image: GlyphArt.tile(dataset, fontIndex * FontCharacters.count + c, factor: factor, colour: colour))
        }
        print(GlyphArt.grid(images, width: Terminal.width, colour: colour), terminator: "")
    }

    /// The first `count` images the query finds (all images without one), each with its attributes.
    private func showMatches(in dataset: ImageDataset) throws {
        let matches = try query.map { try ImageQuery.search($0, in: dataset) } ?? (0..<dataset.count).map { Int32($0) }
        guard !matches.isEmpty else { throw CSNError("no image matches '\(query ?? "")'") }
        let shown = matches.prefix(count).map(Int.init)
        print("\(matches.count) image(s)\(query.map { " match '\($0)'" } ?? ""); showing \(shown.count)")
        for image in shown {
            let values = dataset.conditions.filter { !$0.isListed }.map { "\($0.name)=\($0.valueNames[Int($0.labels[image])])" }
            print("  #\(image) \(dataset.imageNames[image]) [\(dataset.splits[image])] \(values.joined(separator: " "))")
        }
        let factor = full ? 1 : 2
        let images = shown.map { (caption: "#\($0)", image: GlyphArt.tile(dataset, $0, factor: factor, colour: colour)) }
        print(GlyphArt.grid(images, width: Terminal.width, colour: colour), terminator: "")
    }

    private func resolveFont(in dataset: ImageDataset) throws -> Int {
        if let index {
            guard dataset.fonts.indices.contains(index) else {
                throw CSNError("--index \(index) is out of range: the dataset has \(dataset.fonts.count) fonts (0...\(dataset.fonts.count - 1))")
            }
            return index
        }
        guard let font else { return 0 }
        return try FontLookup.font(named: font, in: dataset)
    }
}
