import Foundation

/// Writes files so that a reader sees either the old file or the complete new one, never half:
/// the bytes go to a temporary name in the same folder, are flushed to disk, then renamed over.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw CSNError.file(path, "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Foundation.write(descriptor, raw.baseAddress! + written, bytes.count - written)
            }
            if n < 0 {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                unlink(temporary)
                throw CSNError.file(path, "write failed: \(reason)")
            }
            written += n
        }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CSNError.file(path, "cannot finish writing: \(reason)")
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// Reads a whole regular file of at most `maxBytes`, with an error that names it. Devices,
    /// pipes and folders are refused, so a path such as /dev/zero cannot make a read run forever.
    public static func read(_ path: String, maxBytes: Int = ReadLimits.defaultMaxBytes) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw CSNError.file(path, errno == ENOENT ? "no such file" : "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw CSNError.file(path, "cannot read the file") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw CSNError.file(path, (info.st_mode & S_IFMT) == S_IFDIR ? "is a folder, not a file" : "is not a regular file")
        }
        let size = Int(info.st_size)
        guard size <= maxBytes else {
            throw CSNError.file(path, "holds \(size) bytes, more than the memory limit of \(ReadLimits.describe(bytes: maxBytes))", kind: .memoryLimit)
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { raw in Foundation.read(descriptor, raw.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw CSNError.file(path, n == 0 ? "the file shrank while it was read" : "read failed: \(String(cString: strerror(errno)))")
            }
            done += n
        }
        return bytes
    }

    /// Temporary files that a killed writer left for the files `names` in `directory`
    /// (`NAME.tmp-PID` of a process that no longer runs).
    public static func removeStaleTemporaries(of names: [String], in directory: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries {
            guard let range = entry.range(of: ".tmp-", options: .backwards), names.contains(String(entry[..<range.lowerBound])),
                  let pid = Int32(entry[range.upperBound...]), pid > 0 else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }  // its writer is still running
            unlink(directory + "/" + entry)
        }
    }
}
