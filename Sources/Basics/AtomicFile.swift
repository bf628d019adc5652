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

    /// Reads a whole file, with an error that names it.
    public static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) {
                throw CSNError.file(path, "cannot read the file")
            }
            throw CSNError.file(path, "no such file")
        }
        return [UInt8](data)
    }
}
