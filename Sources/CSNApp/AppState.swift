/// What the user has chosen and where the cursors are; changed only by actions on the UI thread.
public struct AppState: Sendable {
    public var view: AppView = .monitor
    public var showHelp = false
    public var condition = 0
    /// Exponential smoothing of the loss curves, 0 (none) ... 0.99.
    public var smoothing = 0.9
    public var logScale = false
    /// Show only the most recent 1/2^zoom of the steps.
    public var zoom = 0
    public var maskCursor = (row: 0, column: 0)
    public var sortMasks = false
    /// Index into the analysis worker's map sample.
    public var mapCursor = 0
    /// The images the arrows step through in the Neighbours view (the last search's matches, or
    /// the test split) and the position of the query among them.
    public var queryList: [Int32] = []
    public var queryPosition = 0
    /// What the last search asked for, while its matches are the query list.
    public var activeSearch: String? = nil
    /// The search being typed after `/`; nil when not typing.
    public var searchText: String? = nil
    public var message: String? = nil

    /// The neighbours query, an image index of the dataset.
    public var query: Int { queryList.isEmpty ? 0 : Int(queryList[min(queryPosition, queryList.count - 1)]) }

    public init() {}

    public mutating func apply(_ action: Action, conditionCount: Int, dimension: Int, mapSampleCount: Int) {
        switch action {
        case .toggleHelp: showHelp.toggle()
        case .showView(let v): view = v
        case .nextView: view = AppView(rawValue: (view.rawValue + 1) % AppView.allCases.count)!
        case .previousView: view = AppView(rawValue: (view.rawValue + AppView.allCases.count - 1) % AppView.allCases.count)!
        case .nextCondition: condition = (condition + 1) % max(1, conditionCount)
        case .previousCondition: condition = (condition + max(1, conditionCount) - 1) % max(1, conditionCount)
        case .move(let dx, let dy):
            switch view {
            case .masks:
                maskCursor.row = min(max(0, maskCursor.row + dy), max(0, conditionCount - 1))
                maskCursor.column = min(max(0, maskCursor.column + dx), max(0, dimension - 1))
            case .subspaces, .neighbours:
                let step = dx + 10 * dy
                if view == .subspaces { mapCursor = ((mapCursor + step) % max(1, mapSampleCount) + mapSampleCount) % max(1, mapSampleCount) }
                else if !queryList.isEmpty { queryPosition = ((queryPosition + step) % queryList.count + queryList.count) % queryList.count }
            case .monitor: break
            }
        case .zoomIn: zoom = min(zoom + 1, 6)
        case .zoomOut: zoom = max(zoom - 1, 0)
        case .toggleLogScale: logScale.toggle()
        case .smoothMore: smoothing = min(0.99, smoothing + (smoothing >= 0.9 ? 0.03 : 0.1))
        case .smoothLess: smoothing = max(0, smoothing - (smoothing > 0.9 ? 0.03 : 0.1))
        case .toggleSort: sortMasks.toggle()
        case .quit, .togglePause, .save, .recomputeMap, .randomQuery, .startSearch, .pick, .clear, .none: break
        }
    }
}
