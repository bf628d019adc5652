import ArgumentParser
import Basics
import Datasets

struct ShowDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a font's glyphs and attributes in the terminal.",
        discussion: "Glyphs are drawn with half blocks on a grey ramp on a terminal, and with an ASCII ramp otherwise."
    )

    @OptionGroup var data: DataFileOption

    @Option(help: "Font name (exact, or a unique part of it, any case).")
    var font: String?

    @Option(help: "Font index (0-based, as listed by `csn data stats --fonts`).")
    var index: Int?

    @Option(help: "Only these characters, e.g. \"AaGg\".")
    var chars: String?

    @Flag(help: "Draw at full resolution instead of half.")
    var full = false

    @Flag(help: "Use the ASCII ramp even on a terminal.")
    var plain = false

    func validate() throws {
        if font != nil && index != nil { throw ValidationError("give either --font or --index, not both") }
    }

    func run() throws {
        let dataset = try data.load()
        guard !dataset.fonts.isEmpty else { throw CSNError("\(data.resolvedPath) is not a fonts dataset") }
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
        let size = dataset.imageSize
        let factor = full ? 1 : 2
        let images = characters.map { c in
            (caption: String(FontCharacters.all[c]), pixels: GlyphArt.pixels(dataset, fontIndex * FontCharacters.count + c, factor: factor))
        }
        print(GlyphArt.grid(images, size: size / factor, width: Terminal.width, colour: Terminal.isInteractive && !plain), terminator: "")
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
