/// An error a person can act on: one sentence that names the file, line, option or value at fault.
///
/// Commands print `description` on one line and exit non-zero; nothing in the project traps on bad input.
public struct CSNError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }

    /// An error about a file: "`path`: `message`".
    public static func file(_ path: String, _ message: String) -> CSNError {
        CSNError("\(path): \(message)")
    }
}
