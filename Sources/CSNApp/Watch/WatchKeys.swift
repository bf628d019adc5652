import Runs
import TUI

/// What a key asks `csn watch` to do, from one table that both decodes keys and writes the help.
public enum WatchAction: Equatable, Sendable {
    case quit, toggleHelp, startFilter, clearFilter
    case nextPage, previousPage
    case zoomIn, zoomOut, toggleLogScale, smoothMore, smoothLess
    case none

    public static let bindings: [(label: String, meaning: String, keys: [(key: Key, action: WatchAction)])] = [
        ("/", "filter the charts by tag (a part of the name)", [(.character("/"), .startFilter)]),
        ("Esc", "show every tag again", [(.escape, .clearFilter)]),
        ("arrows, j k", "next / previous page of charts",
         [(.down, .nextPage), (.character("j"), .nextPage), (.right, .nextPage), (.up, .previousPage), (.character("k"), .previousPage), (.left, .previousPage)]),
        ("+ / -", "zoom to recent / all steps", [(.character("+"), .zoomIn), (.character("="), .zoomIn), (.character("-"), .zoomOut)]),
        ("[ / ]", "less / more smoothing (EMA)", [(.character("["), .smoothLess), (.character("]"), .smoothMore)]),
        ("L", "log scale", [(.character("L"), .toggleLogScale)]),
        ("?", "this help", [(.character("?"), .toggleHelp)]),
        ("q, Ctrl-C", "quit", [(.character("q"), .quit), (.character("Q"), .quit)]),
    ]

    public static func decode(_ key: Key) -> WatchAction {
        for binding in bindings {
            if let match = binding.keys.first(where: { $0.key == key }) { return match.action }
        }
        return .none
    }

    public static var help: [(keys: String, meaning: String)] { bindings.map { ($0.label, $0.meaning) } }
}

/// What the user has chosen in `csn watch`.
public struct WatchState: Sendable {
    public var filter = ""
    /// The filter being typed after `/`; nil when not typing.
    public var filterText: String? = nil
    /// Exponential smoothing, 0 (none) ... 0.99; TensorBoard's default.
    public var smoothing = 0.6
    public var logScale = false
    /// Show only the most recent 1/2^zoom of the steps.
    public var zoom = 0
    public var page = 0
    public var showHelp = false

    public init() {}

    /// What the charts' lines are made for (see RunWatcher.ask).
    public var chartRequest: ChartLines.Request { ChartLines.Request(smoothing: smoothing, zoom: zoom) }

    /// Applies a key's action; `pages` is how many pages of charts there are now.
    public mutating func apply(_ action: WatchAction, pages: Int = .max) {
        defer { page = min(page, max(0, pages - 1)) }
        switch action {
        case .toggleHelp: showHelp.toggle()
        case .startFilter: filterText = filter
        case .clearFilter: filter = ""; page = 0
        case .nextPage: page += 1
        case .previousPage: page = max(0, page - 1)
        case .zoomIn: zoom = min(zoom + 1, 8)
        case .zoomOut: zoom = max(zoom - 1, 0)
        case .toggleLogScale: logScale.toggle()
        case .smoothMore: smoothing = min(0.99, smoothing + (smoothing >= 0.9 ? 0.03 : 0.1))
        case .smoothLess: smoothing = max(0, smoothing - (smoothing > 0.9 ? 0.03 : 0.1))
        case .quit, .none: break
        }
    }

    /// Keys while typing a filter: text, Backspace, Enter to apply, Esc to give up.
    public mutating func edit(_ key: Key) {
        guard var text = filterText else { return }
        switch key {
        case .character(let c): text.append(c); filterText = text
        case .backspace: if !text.isEmpty { text.removeLast() }; filterText = text
        case .escape: filterText = nil
        case .enter: filter = text; filterText = nil; page = 0
        default: break
        }
    }
}
