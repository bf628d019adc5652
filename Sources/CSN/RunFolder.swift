import Basics
import Foundation

/// A run folder opened for writing: an exclusive lock on the folder itself for as long as this
/// value lives, so two trainers can never mix one run's config with another's weights. The lock is
/// the kernel's (flock on the folder's descriptor): it is released when the process ends, however
/// it ends, so a killed run never leaves a stale lock, and no lock file is left behind. With the
/// lock held, temporary files a killed writer left are removed.
public final class RunFolder: Sendable {
    public let path: String
    private let descriptor: Int32

    /// Creates the folder if needed and takes its lock, or fails naming the folder.
    public init(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        catch { throw CSNError.file(path, "cannot create the run folder: \(error.localizedDescription)") }
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CSNError.file(path, "cannot open the run folder: \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw CSNError.file(path, "another csn process is writing this run folder (it holds the folder's lock); wait for it to end or choose another folder")
        }
        self.path = path
        self.descriptor = descriptor
        AtomicFile.removeStaleTemporaries(of: [Checkpoint.configFile, Checkpoint.modelFile, Checkpoint.bestFile, Checkpoint.metricsFile], in: path)
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
