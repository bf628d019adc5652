/// Where finished frames go and keys come from: the ncurses terminal, or a test screen.
public protocol Screen: AnyObject {
    /// Columns and rows available now.
    var size: (width: Int, height: Int) { get }
    /// Shows a finished frame (only what changed since the last one is sent).
    func draw(_ buffer: CellBuffer)
    /// The next key, waiting at most `milliseconds` (the frame clock); nil if none came.
    func readKey(timeoutMilliseconds: Int) -> Key?
}

/// A screen in memory for tests: frames are kept, keys come from a queue.
public final class TestScreen: Screen {
    public var size: (width: Int, height: Int)
    public private(set) var frames: [CellBuffer] = []
    public var keys: [Key] = []

    public init(width: Int, height: Int, keys: [Key] = []) {
        size = (width, height)
        self.keys = keys
    }

    public func draw(_ buffer: CellBuffer) { frames.append(buffer) }

    public func readKey(timeoutMilliseconds: Int) -> Key? { keys.isEmpty ? nil : keys.removeFirst() }

    public var lastFrame: [String] { frames.last?.lines ?? [] }
}
