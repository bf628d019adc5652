import CFreeType

/// The 62 characters of the fonts dataset in class order: 0-9, A-Z, a-z (as in the paper).
public enum FontCharacters {
    public static let all: [Character] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    public static var count: Int { all.count }
}

/// Why a face did not make it into the dataset.
public enum FontSkipReason: Error, Hashable, Sendable {
    case unreadable, notScalable, noUnicodeMap, symbolFont
    case missingGlyph(Character), emptyGlyph(Character), repeatedGlyphs(Int)
    case duplicate, nearDuplicate

    /// A short label under which the report counts the face.
    public var category: String {
        switch self {
        case .unreadable: "FreeType cannot open it"
        case .notScalable: "bitmap-only (no outlines)"
        case .noUnicodeMap: "no Unicode character map"
        case .symbolFont: "symbol or icon font"
        case .missingGlyph: "lacks one of the 62 characters"
        case .emptyGlyph: "an empty glyph among the 62"
        case .repeatedGlyphs: "glyphs repeated (placeholder boxes, all caps)"
        case .duplicate: "exact duplicate of a kept font"
        case .nearDuplicate: "near duplicate of a kept font (same 8x8 thumbnails)"
        }
    }
}

/// Renders the 62 characters of a face into S x S greyscale images: antialiased, unhinted, each
/// centred on its bounding box, all at one scale chosen so the largest glyph fits inside a margin,
/// so that case and proportions survive.
enum GlyphRenderer {
    /// More glyph images equal to another glyph of the same font than this marks a placeholder or
    /// all-caps font (a few, like l/I or O/0, are legitimately identical in some designs).
    static let maxRepeatedGlyphs = 4

    static func margin(size: Int) -> Int { max(1, size / 32) }

    /// 62 x size x size bytes, or the reason the face cannot be used.
    static func render(_ font: FontFace, size: Int) -> Result<[UInt8], FontSkipReason> {
        guard font.isScalable else { return .failure(.notScalable) }
        guard font.selectUnicode() else { return .failure(.noUnicodeMap) }
        var glyphs: [UInt32] = []
        var largestExtent: Int = 0
        for character in FontCharacters.all {
            let glyph = font.glyphIndex(of: character.unicodeScalars.first!)
            guard glyph != 0 else { return .failure(.missingGlyph(character)) }
            guard let outline = font.loadOutline(glyph: glyph, unscaled: true) else { return .failure(.emptyGlyph(character)) }
            var box = FT_BBox()
            FT_Outline_Get_BBox(outline, &box)
            largestExtent = max(largestExtent, Int(box.xMax - box.xMin), Int(box.yMax - box.yMin))
            glyphs.append(glyph)
        }
        guard largestExtent > 0 else { return .failure(.emptyGlyph(FontCharacters.all[0])) }
        let pixelsPerUnit = Double(size - 2 * margin(size: size)) / Double(largestExtent)
        guard font.setPixelsPerEM(pixelsPerUnit * Double(font.unitsPerEM)) else { return .failure(.notScalable) }

        let area = size * size
        var pixels = [UInt8](repeating: 0, count: FontCharacters.count * area)
        let centre = FT_Pos(size * 32)  // half the image, in 26.6 fixed point
        for (c, glyph) in glyphs.enumerated() {
            guard let outline = font.loadOutline(glyph: glyph, unscaled: false) else {
                return .failure(.emptyGlyph(FontCharacters.all[c]))
            }
            var box = FT_BBox()
            FT_Outline_Get_BBox(outline, &box)
            FT_Outline_Translate(outline, centre - (box.xMin + box.xMax) / 2, centre - (box.yMin + box.yMax) / 2)
            let rendered = pixels.withUnsafeMutableBufferPointer { font.render(outline, into: $0.baseAddress! + c * area, size: size) }
            let ink = pixels[(c * area)..<((c + 1) * area)].max() ?? 0
            guard rendered, ink >= 32 else { return .failure(.emptyGlyph(FontCharacters.all[c])) }
        }
        let repeated = repeatedGlyphCount(pixels, area: area)
        guard repeated <= maxRepeatedGlyphs else { return .failure(.repeatedGlyphs(repeated)) }
        return .success(pixels)
    }

    /// How many of the 62 images equal another image of the same font.
    static func repeatedGlyphCount(_ pixels: [UInt8], area: Int) -> Int {
        var seen: [UInt64: Int] = [:]
        for c in 0..<FontCharacters.count {
            seen[StableHash.fnv1a(pixels[(c * area)..<((c + 1) * area)]), default: 0] += 1
        }
        return seen.values.filter { $0 > 1 }.reduce(0, +)
    }
}

/// FNV-1a: a hash that is the same in every run (Swift's Hasher is seeded per process).
enum StableHash {
    static func fnv1a<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    /// A coarse fingerprint of a font's renderings: each glyph averaged to 8 x 8 and quantised to
    /// four levels. Equal fingerprints mean renderings that differ only at the edges.
    static func thumbnailFingerprint(_ pixels: [UInt8], size: Int) -> UInt64 {
        let cell = size / 8
        var levels = [UInt8](repeating: 0, count: FontCharacters.count * 64)
        for c in 0..<FontCharacters.count {
            for ty in 0..<8 {
                for tx in 0..<8 {
                    var sum = 0
                    for y in (ty * cell)..<((ty + 1) * cell) {
                        let row = c * size * size + y * size
                        for x in (tx * cell)..<((tx + 1) * cell) { sum += Int(pixels[row + x]) }
                    }
                    levels[c * 64 + ty * 8 + tx] = UInt8(sum / (cell * cell) / 64)
                }
            }
        }
        return fnv1a(levels)
    }
}
