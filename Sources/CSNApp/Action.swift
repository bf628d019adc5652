import TUI

/// What a key asks the app to do. Keys are decoded here, in one place.
public enum Action: Equatable, Sendable {
    case quit, toggleHelp, togglePause, save
    case showView(AppView), nextView, previousView
    case nextCondition, previousCondition
    case move(dx: Int, dy: Int)
    case zoomIn, zoomOut, toggleLogScale, smoothMore, smoothLess
    case recomputeMap, randomQuery, toggleSort
    /// `/`: type a search; Enter: the map's cursor point becomes the query; Esc: drop the search.
    case startSearch, pick, clear
    case none

    public static func decode(_ key: Key) -> Action {
        switch key {
        case .character("q"), .character("Q"): .quit
        case .character("?"): .toggleHelp
        case .character(" "): .togglePause
        case .character("s"): .save
        case .character("1"): .showView(.monitor)
        case .character("2"): .showView(.masks)
        case .character("3"): .showView(.subspaces)
        case .character("4"): .showView(.neighbours)
        case .tab: .nextView
        case .backTab: .previousView
        case .character("c"): .nextCondition
        case .character("C"): .previousCondition
        case .up, .character("k"): .move(dx: 0, dy: -1)
        case .down, .character("j"): .move(dx: 0, dy: 1)
        case .left, .character("h"): .move(dx: -1, dy: 0)
        case .right, .character("l"): .move(dx: 1, dy: 0)
        case .character("+"), .character("="): .zoomIn
        case .character("-"): .zoomOut
        case .character("L"): .toggleLogScale
        case .character("]"): .smoothMore
        case .character("["): .smoothLess
        case .character("r"): .recomputeMap
        case .character("n"): .randomQuery
        case .character("o"): .toggleSort
        case .character("/"): .startSearch
        case .enter: .pick
        case .escape: .clear
        default: .none
        }
    }

    /// The key table of the help overlay: keys that act on training only while training, and the
    /// search example written in the data's own conditions.
    public static func help(isTraining: Bool, searchExample: String) -> [(keys: String, meaning: String)] {
        var table: [(keys: String, meaning: String)] = [("1 2 3 4, Tab", "monitor, masks, subspaces, neighbours")]
        if isTraining { table += [("space", "pause or resume training"), ("s", "save a checkpoint")] }
        table += [
            ("c / C", "next / previous condition"),
            ("arrows, h j k l", "move the cursor"),
            ("+ / -", "zoom the curves to recent / all steps"),
            ("[ / ]", "less / more smoothing (EMA)"),
            ("L", "log scale for the loss"),
            ("o", "masks: sort dimensions by the condition using them most"),
            ("r", "subspaces: recompute the t-SNE from scratch"),
            ("n", "neighbours: a random query"),
            ("/", "search a query: \(searchExample), #123"),
            ("Enter", "subspaces: the point under the cursor becomes the query"),
            ("Esc", "leave the search results"),
            ("?", "this help"),
            ("q, Ctrl-C", isTraining ? "quit (saves a checkpoint)" : "quit"),
        ]
        return table
    }
}

public enum AppView: Int, CaseIterable, Sendable {
    case monitor, masks, subspaces, neighbours

    public var title: String {
        switch self {
        case .monitor: "1 Monitor"
        case .masks: "2 Masks"
        case .subspaces: "3 Subspaces"
        case .neighbours: "4 Neighbours"
        }
    }
}
