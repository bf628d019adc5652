/// An error a person can act on: one sentence that names the file, line, option or value at fault.
///
/// Commands print `description` on one line and exit non-zero; nothing in the project traps on bad input.
public struct CSNError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public let kind: Kind

    /// What the user can change to get past the error, for the commands to name their option.
    public enum Kind: Sendable, Equatable {
        case general
        /// Something needs more memory than the limit allows.
        case memoryLimit
    }

    public init(_ description: String, kind: Kind = .general) {
        self.description = description
        self.kind = kind
    }

    /// An error about a file: "`path`: `message`".
    public static func file(_ path: String, _ message: String, kind: Kind = .general) -> CSNError {
        CSNError("\(path): \(message)", kind: kind)
    }

    public static func == (a: CSNError, b: CSNError) -> Bool { a.description == b.description }
}
