/// Where finished frames go and keys come from: the ncurses terminal (the TerminalScreen
/// module), or a screen in memory for tests and the UI bench.
public protocol Screen: AnyObject {
    /// Columns and rows available now.
    var size: (width: Int, height: Int) { get }
    /// How many colours the screen shows, for the views to choose colour or ASCII images.
    var colourDepth: ColourDepth { get }
    /// Shows a finished frame (only what changed since the last one is sent).
    func draw(_ buffer: CellBuffer)
    /// The next key, waiting at most `milliseconds` (the frame clock); nil if none came.
    func readKey(timeoutMilliseconds: Int) -> Key?
}

/// A screen in memory: frames are kept, keys come from a queue. What the tests and the UI bench
/// draw into.
public final class MemoryScreen: Screen {
    public var size: (width: Int, height: Int)
    public var colourDepth: ColourDepth = .full256
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

/// The colours a terminal can show; the screen layer maps the 256-colour palette down to it.
public enum ColourDepth: Sendable, Equatable {
    case none, basic8, full256
}
