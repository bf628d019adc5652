/// The lines of a text file, as every reader in the project splits them: a UTF-8 byte-order mark
/// is dropped, and a line ends at "\n", "\r\n" or a lone "\r".
///
/// Swift treats "\r\n" as one Character, so `split(separator: "\n")` never splits a CRLF file;
/// splitting on bytes avoids that. Invalid UTF-8 becomes U+FFFD rather than an error, so a reader
/// reports the line that holds it instead of the whole file.
public enum TextLines {
    /// Each line with its 1-based number; a final line ending does not start an empty line.
    public static func split(_ bytes: [UInt8]) -> [(number: Int, text: Substring)] {
        let text = decode(bytes)
        var lines: [(number: Int, text: Substring)] = []
        var start = text.startIndex
        var number = 1
        var index = start
        while index < text.endIndex {
            let character = text[index]
            if character == "\n" || character == "\r\n" || character == "\r" {
                lines.append((number, text[start..<index]))
                number += 1
                index = text.index(after: index)
                start = index
            } else {
                index = text.index(after: index)
            }
        }
        if start < text.endIndex { lines.append((number, text[start..<text.endIndex])) }
        return lines
    }

    /// The bytes as text without a leading byte-order mark.
    public static func decode(_ bytes: [UInt8]) -> String {
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes[3...] : bytes[...]
        return String(decoding: body, as: UTF8.self)
    }
}
