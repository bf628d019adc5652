import Foundation

/// Paths named inside files (a CSV's image column, a list of file names) resolved against the
/// folder the user pointed to, and kept inside it: no absolute paths, no `..`, and no symbolic
/// link that leads out. A path refused for leaving the folder is refused before the file system
/// is asked about it, so the error cannot tell whether something exists out there.
public struct ConfinedFolder: Sendable {
    /// The folder as given, for messages.
    public let path: String
    /// Its real path (links resolved), against which every file is checked.
    let realRoot: String
    /// `--allow-outside`: the user lets the names point anywhere.
    public let allowOutside: Bool

    public init(_ path: String, allowOutside: Bool = false) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
              let real = realpath(path, nil) else {
            throw CSNError.file(path, "no such folder")
        }
        defer { free(real) }
        self.path = path
        realRoot = String(cString: real)
        self.allowOutside = allowOutside
    }

    /// The full path of `name`, or an error naming it when it would leave the folder.
    public func resolve(_ name: String) throws -> String {
        if allowOutside { return name.hasPrefix("/") ? name : path + "/" + name }
        let components = name.split(separator: "/", omittingEmptySubsequences: true)
        guard !name.hasPrefix("/"), !components.contains(".."), !components.isEmpty else {
            throw CSNError.file(name.terminalSafe, "is outside \(path.terminalSafe) (absolute or with '..'); give --allow-outside to read it")
        }
        let full = path + "/" + name
        guard let real = realpath(full, nil) else {
            throw CSNError.file(full.terminalSafe, errno == ENOENT ? "no such file" : "cannot be read: \(String(cString: strerror(errno)))")
        }
        defer { free(real) }
        let resolved = String(cString: real)
        // Bytes, not Characters: String comparison treats canonically equivalent names as equal.
        guard resolved.utf8.starts(with: (realRoot == "/" ? "/" : realRoot + "/").utf8) else {
            throw CSNError.file(full.terminalSafe, "is a link that leads outside \(path.terminalSafe); give --allow-outside to read it")
        }
        return resolved
    }
}
