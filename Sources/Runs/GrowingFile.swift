import Basics
import Foundation

/// A file another process is still writing: each `poll` reads what was appended since the last.
/// The bytes not yet consumed (a record or line still being written) stay in `pending` until the
/// rest arrives. A file that shrinks or is replaced (another inode) is read again from the start,
/// and the caller is told, so it can drop what it had read.
public struct GrowingFile {
    public let path: String
    /// Bytes read from the file and not yet consumed by the caller.
    public private(set) var pending: ArraySlice<UInt8> = []
    /// Bytes of the file read so far.
    public private(set) var offset = 0
    private var identity: (device: UInt64, inode: UInt64)? = nil
    /// At most this much is read per poll, so one huge file does not stall the others.
    public static let chunkBytes = 16 << 20

    public init(path: String) { self.path = path }

    public enum PollResult: Equatable {
        case unchanged, appended
        /// The file was replaced or truncated: everything read before is void.
        case restarted
    }

    /// Reads newly appended bytes into `pending`. A missing file is `unchanged` (it may appear);
    /// a file that is not a regular file is an error naming it.
    public mutating func poll() throws -> PollResult {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            if errno == ENOENT { return .unchanged }
            throw CSNError.file(path, "cannot read: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw CSNError.file(path, "cannot read the file") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw CSNError.file(path, "is not a regular file") }
        let size = Int(info.st_size)
        let now = (UInt64(info.st_dev), UInt64(info.st_ino))
        var result = PollResult.unchanged
        if let identity, identity != now || size < offset {
            pending = []
            offset = 0
            result = .restarted
        }
        identity = now
        let wanted = min(size - offset, Self.chunkBytes)
        guard wanted > 0 else { return result }
        var bytes = [UInt8](repeating: 0, count: wanted)
        let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, wanted, off_t(offset)) }
        guard got >= 0 else { throw CSNError.file(path, "cannot read: \(String(cString: strerror(errno)))") }
        offset += got
        if pending.isEmpty { pending = bytes[0..<got] } else { pending = ArraySlice(Array(pending) + bytes[0..<got]) }
        return result == .restarted ? .restarted : (got > 0 ? .appended : .unchanged)
    }

    /// Marks the first `count` pending bytes as used.
    public mutating func consume(_ count: Int) {
        pending = pending.dropFirst(count)
    }

    /// Whether more of the file is waiting beyond what was read (a chunk-limited poll).
    public var hasUnreadBytes: Bool {
        var info = stat()
        return stat(path, &info) == 0 && Int(info.st_size) > offset
    }
}
