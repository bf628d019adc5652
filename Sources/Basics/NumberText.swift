/// Numbers typed in files and on the command line. Swift's `Float(String)` hands the text to C's
/// strtof, which stops at a NUL byte: "1\u{0}2" would read as 1. Text with control characters or
/// spaces inside is refused here before it is parsed.
extension Float {
    public static func parse(_ text: some StringProtocol) -> Float? {
        guard !text.isEmpty, text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else { return nil }
        return Float(String(text))
    }
}
