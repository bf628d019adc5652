import CFreeType

/// Reads weight, slant and pitch from a face: the OS/2 table where there is one, otherwise the
/// Type 1 font info, otherwise FreeType's style flags and the style name.
extension FontFace {
    func attributes(name: String) -> FontInfo {
        var weight: Int?
        var italic = (face.pointee.style_flags & FT_Long(FT_STYLE_FLAG_ITALIC)) != 0
        if let raw = FT_Get_Sfnt_Table(face, FT_SFNT_OS2) {
            let os2 = raw.assumingMemoryBound(to: TT_OS2.self).pointee
            if os2.version != 0xFFFF {
                // Some old fonts use a 1...9 scale instead of 100...900.
                let value = Int(os2.usWeightClass)
                if value > 0 { weight = value < 10 ? value * 100 : value }
                // fsSelection bit 0: italic; bit 9: oblique.
                if os2.fsSelection & 0x0001 != 0 || os2.fsSelection & 0x0200 != 0 { italic = true }
            }
        }
        if weight == nil {
            var info = PS_FontInfoRec()
            if FT_Get_PS_Font_Info(face, &info) == 0, let text = info.weight {
                weight = Self.weight(fromName: String(cString: text))
            }
        }
        if weight == nil { weight = Self.weight(fromName: styleName) }
        let lowerStyle = styleName.lowercased()
        if ["italic", "oblique", "slanted", "inclined", "kursiv"].contains(where: { lowerStyle.contains($0) }) {
            italic = true
        }
        return FontInfo(name: name, family: familyName, style: styleName, file: path, faceIndex: faceIndex,
                        weightClass: weight ?? 400, italic: italic, fixedPitch: csn_ft_is_fixed_width(face) != 0)
    }

    /// Maps a weight word ("Light", "Semibold", "Heavy") to the OS/2 scale; nil if none is found.
    static func weight(fromName name: String) -> Int? {
        let words = name.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: " ", with: "")
        // Longest names first, so that "extrabold" is not read as "bold".
        let table: [(String, Int)] = [
            ("extralight", 200), ("ultralight", 200), ("semibold", 600), ("demibold", 600),
            ("extrabold", 800), ("ultrabold", 800), ("hairline", 100), ("thin", 100), ("light", 300),
            ("book", 400), ("regular", 400), ("normal", 400), ("roman", 400), ("medium", 500),
            ("demi", 600), ("bold", 700), ("heavy", 800), ("black", 900),
        ]
        return table.first(where: { words.contains($0.0) })?.1
    }
}
