/// What a font file says about one of its faces.
public struct FontInfo: Sendable, Codable, Equatable {
    /// Unique display name ("DejaVu Sans Bold"); the value of the `font` condition.
    public var name: String
    public var family: String
    public var style: String
    /// The file it was read from and the face's index in it (collections hold several).
    public var file: String
    public var faceIndex: Int
    /// OS/2 usWeightClass (100 thin ... 900 black), or the value inferred when the table is absent.
    public var weightClass: Int
    public var italic: Bool
    public var fixedPitch: Bool

    public init(name: String, family: String, style: String, file: String, faceIndex: Int,
                weightClass: Int, italic: Bool, fixedPitch: Bool) {
        self.name = name
        self.family = family
        self.style = style
        self.file = file
        self.faceIndex = faceIndex
        self.weightClass = weightClass
        self.italic = italic
        self.fixedPitch = fixedPitch
    }

    /// The `weight` condition's ordered classes.
    public static let weightClassNames = ["light", "regular", "bold"]
    public var weightBucket: Int32 { weightClass < 400 ? 0 : (weightClass < 600 ? 1 : 2) }

    public static let slantNames = ["upright", "italic"]
    public var slantBucket: Int32 { italic ? 1 : 0 }
}
