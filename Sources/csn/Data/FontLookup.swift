import ArgumentParser
import Basics
import Datasets

/// Finds fonts and glyph images by what a person types.
enum FontLookup {
    /// The font whose name is `name` exactly, or the only one whose name contains it (any case).
    static func font(named name: String, in dataset: ImageDataset) throws -> Int {
        if let exact = dataset.fonts.firstIndex(where: { $0.name == name }) { return exact }
        let matches = dataset.fonts.indices.filter { dataset.fonts[$0].name.lowercased().contains(name.lowercased()) }
        guard !matches.isEmpty else { throw CSNError("--font '\(name)': no font of the dataset has that name") }
        guard matches.count == 1 else {
            let names = matches.prefix(8).map { dataset.fonts[$0].name }.joined(separator: "; ")
            throw CSNError("--font '\(name)' matches \(matches.count) fonts: \(names)\(matches.count > 8 ? "; ..." : "")")
        }
        return matches[0]
    }

    /// The image of character `text` (one of 0-9, A-Z, a-z) in font `font`.
    static func image(font: Int, character text: String) throws -> Int {
        guard text.count == 1, let c = FontCharacters.all.firstIndex(of: text.first!) else {
            throw CSNError("--char '\(text)' is not one of 0-9, A-Z, a-z")
        }
        return font * FontCharacters.count + c
    }
}
