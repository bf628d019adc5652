/// The folder and the last component of a path, from its text alone. (Foundation's NSString
/// path methods trap on some one-character paths on Linux.)
public enum PathText {
    /// The folder holding `path`: "." when it has none, "/" for a file at the root.
    public static func folder(of path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        let folder = String(trimmed[..<slash])
        return folder.isEmpty ? "/" : trimmingTrailingSlashes(folder)
    }

    /// The last component of `path` ("run" for "a/run/"), or the path itself when it is "/".
    public static func name(of path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        let name = String(trimmed[trimmed.index(after: slash)...])
        return name.isEmpty ? trimmed : name
    }

    public static func trimmingTrailingSlashes(_ path: String) -> String {
        var text = Substring(path)
        while text.count > 1 && text.hasSuffix("/") { text = text.dropLast() }
        return String(text)
    }
}
