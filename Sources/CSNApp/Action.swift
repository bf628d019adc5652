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

    /// One row of the key table: the keys and what each does, how the help names them, and
    /// whether they act only while training. Decoding and the help both read this table, so the
    /// help cannot list a key that does nothing, or miss one that does something.
    public struct Binding: Sendable {
        public let label: String
        /// What the keys do, worded for the mode and the data (the search example).
        public let meaning: @Sendable (_ isTraining: Bool, _ searchExample: String) -> String
        public let trainingOnly: Bool
        public let keys: [(key: Key, action: Action)]

        init(label: String, meaning: String, trainingOnly: Bool = false, keys: [(key: Key, action: Action)]) {
            self.init(label: label, meaning: { _, _ in meaning }, trainingOnly: trainingOnly, keys: keys)
        }

        init(label: String, meaning: @escaping @Sendable (Bool, String) -> String, trainingOnly: Bool = false,
             keys: [(key: Key, action: Action)]) {
            self.label = label
            self.meaning = meaning
            self.trainingOnly = trainingOnly
            self.keys = keys
        }
    }

    public static let bindings: [Binding] = [
        Binding(label: "1 2 3 4, Tab", meaning: "monitor, masks, subspaces, neighbours (Shift-Tab back)",
                keys: [(.character("1"), .showView(.monitor)), (.character("2"), .showView(.masks)), (.character("3"), .showView(.subspaces)),
                       (.character("4"), .showView(.neighbours)), (.tab, .nextView), (.backTab, .previousView)]),
        Binding(label: "space", meaning: "pause or resume training", trainingOnly: true, keys: [(.character(" "), .togglePause)]),
        Binding(label: "s", meaning: "save a checkpoint", trainingOnly: true, keys: [(.character("s"), .save)]),
        Binding(label: "c / C", meaning: "next / previous condition",
                keys: [(.character("c"), .nextCondition), (.character("C"), .previousCondition)]),
        Binding(label: "arrows, h j k l", meaning: "move the cursor",
                keys: [(.up, .move(dx: 0, dy: -1)), (.character("k"), .move(dx: 0, dy: -1)), (.down, .move(dx: 0, dy: 1)),
                       (.character("j"), .move(dx: 0, dy: 1)), (.left, .move(dx: -1, dy: 0)), (.character("h"), .move(dx: -1, dy: 0)),
                       (.right, .move(dx: 1, dy: 0)), (.character("l"), .move(dx: 1, dy: 0))]),
        Binding(label: "+ / -", meaning: "zoom the curves to recent / all steps",
                keys: [(.character("+"), .zoomIn), (.character("="), .zoomIn), (.character("-"), .zoomOut)]),
        Binding(label: "[ / ]", meaning: "less / more smoothing (EMA)",
                keys: [(.character("["), .smoothLess), (.character("]"), .smoothMore)]),
        Binding(label: "L", meaning: "log scale for the loss", keys: [(.character("L"), .toggleLogScale)]),
        Binding(label: "o", meaning: "masks: sort dimensions by the condition using them most",
                keys: [(.character("o"), .toggleSort)]),
        Binding(label: "r", meaning: "subspaces: map again from scratch", keys: [(.character("r"), .recomputeMap)]),
        Binding(label: "n", meaning: "neighbours: a random query", keys: [(.character("n"), .randomQuery)]),
        Binding(label: "/", meaning: { _, example in "search a query: \(example), #123" }, keys: [(.character("/"), .startSearch)]),
        Binding(label: "Enter", meaning: "subspaces: the point under the cursor is the query", keys: [(.enter, .pick)]),
        Binding(label: "Esc", meaning: "leave the search results", keys: [(.escape, .clear)]),
        Binding(label: "?", meaning: "this help", keys: [(.character("?"), .toggleHelp)]),
        Binding(label: "q, Ctrl-C", meaning: { isTraining, _ in isTraining ? "quit (saves a checkpoint)" : "quit" },
                keys: [(.character("q"), .quit), (.character("Q"), .quit)]),
    ]

    /// The action of `key`, from the key table; keys that act only while training do nothing
    /// when exploring.
    public static func decode(_ key: Key, isTraining: Bool = true) -> Action {
        for binding in bindings where isTraining || !binding.trainingOnly {
            if let match = binding.keys.first(where: { $0.key == key }) { return match.action }
        }
        return .none
    }

    /// The help overlay's rows: the key table filtered by mode, with the search example written
    /// in the data's own conditions.
    public static func help(isTraining: Bool, searchExample: String) -> [(keys: String, meaning: String)] {
        bindings.filter { isTraining || !$0.trainingOnly }.map { ($0.label, $0.meaning(isTraining, searchExample)) }
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
