import Basics
import CFreeType

/// One face of a font file, opened with FreeType. Not thread-safe: use one per thread.
final class FontFace {
    private var library: FT_Library?
    let face: FT_Face
    let path: String
    let faceIndex: Int

    /// Opens face `faceIndex` of `path`; an error names the file when FreeType cannot read it.
    init(path: String, faceIndex: Int = 0) throws {
        var library: FT_Library?
        guard FT_Init_FreeType(&library) == 0 else { throw CSNError("FreeType could not start") }
        var face: FT_Face?
        let status = FT_New_Face(library, path, FT_Long(faceIndex), &face)
        guard status == 0, let face else {
            FT_Done_FreeType(library)
            throw CSNError.file(path, "FreeType cannot open this font file (error \(status))")
        }
        self.library = library
        self.face = face
        self.path = path
        self.faceIndex = faceIndex
    }

    deinit {
        FT_Done_Face(face)
        FT_Done_FreeType(library)
    }

    var faceCount: Int { Int(face.pointee.num_faces) }
    var isScalable: Bool { csn_ft_is_scalable(face) != 0 }
    var unitsPerEM: Int { Int(face.pointee.units_per_EM) }
    var familyName: String { face.pointee.family_name.map { String(cString: $0) } ?? "" }
    var styleName: String { face.pointee.style_name.map { String(cString: $0) } ?? "" }

    /// Selects the Unicode character map; false for fonts that have none (symbol fonts).
    func selectUnicode() -> Bool {
        FT_Select_Charmap(face, FT_ENCODING_UNICODE) == 0
    }

    func glyphIndex(of scalar: Unicode.Scalar) -> UInt32 {
        UInt32(FT_Get_Char_Index(face, FT_ULong(scalar.value)))
    }

    /// Loads a glyph's outline, unscaled (font units) or at the current size, without hinting so that
    /// every glyph keeps its designed shape. Nil when the glyph has no outline.
    func loadOutline(glyph: UInt32, unscaled: Bool) -> UnsafeMutablePointer<FT_Outline>? {
        var flags = Int32(FT_LOAD_NO_BITMAP) | Int32(FT_LOAD_NO_HINTING)
        if unscaled { flags |= Int32(FT_LOAD_NO_SCALE) }
        guard FT_Load_Glyph(face, glyph, flags) == 0, let slot = face.pointee.glyph,
              slot.pointee.format == FT_GLYPH_FORMAT_OUTLINE, slot.pointee.outline.n_points > 0 else { return nil }
        return withUnsafeMutablePointer(to: &slot.pointee.outline) { $0 }
    }

    /// Sets a fractional size in pixels per em (1/64 precision).
    func setPixelsPerEM(_ ppem: Double) -> Bool {
        FT_Set_Char_Size(face, 0, FT_F26Dot6((ppem * 64).rounded()), 72, 72) == 0
    }

    /// Renders an outline antialiased into a `size` x `size` greyscale buffer (row 0 at the top).
    func render(_ outline: UnsafeMutablePointer<FT_Outline>, into pixels: UnsafeMutablePointer<UInt8>, size: Int) -> Bool {
        var bitmap = FT_Bitmap()
        bitmap.rows = UInt32(size)
        bitmap.width = UInt32(size)
        bitmap.pitch = Int32(size)
        bitmap.buffer = pixels
        bitmap.num_grays = 256
        bitmap.pixel_mode = UInt8(FT_PIXEL_MODE_GRAY.rawValue)
        return FT_Outline_Get_Bitmap(library, outline, &bitmap) == 0
    }
}
