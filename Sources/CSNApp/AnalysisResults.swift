import Analysis

/// What the views ask the analysis worker for; sent from the UI thread when the user changes it.
public struct AnalysisRequest: Sendable, Equatable {
    /// The condition whose subspace to map.
    public var condition = 0
    /// The neighbours query, an image index of the dataset.
    public var query = 0
    /// Whether the Neighbours view is open: its query is then answered, and the test split's
    /// embeddings are refreshed with every newer weights instead of every 90 s.
    public var wantsNeighbours = false
    /// Bumped by `r`: map the condition again from scratch.
    public var recompute = 0

    public init(condition: Int = 0, query: Int = 0, wantsNeighbours: Bool = false, recompute: Int = 0) {
        self.condition = condition
        self.query = query
        self.wantsNeighbours = wantsNeighbours
        self.recompute = recompute
    }
}

/// A t-SNE map of the map sample under one condition's mask, tagged with what it was computed
/// for: a view draws it only when its condition is the one on screen.
public struct MapResult: Sendable {
    public var condition: Int
    public var recompute: Int
    /// Training step of the weights mapped, and when they were copied (monotonic seconds).
    public var weightsStep: Int
    public var weightsMadeAt: Double
    /// [P, 2] for the worker's map sample.
    public var layout: [Float]
    public var iteration: Int
    public var klDivergence: Double
    /// Whether the optimisation ran its whole schedule (an interrupted map is finished later).
    public var complete: Bool
}

/// The neighbours of one query among the test split under every condition, tagged with the query
/// and the weights: the Neighbours view draws them only for the query on screen.
public struct NeighbourResult: Sendable {
    public var query: Int
    public var weightsStep: Int
    /// Per condition, the nearest test images (image indices of the dataset) and distances.
    public var lists: [[NearestNeighbours.Neighbour]]
}

/// What the analysis worker last produced. Each result is published whole, with its tags.
public struct AnalysisSnapshot: Sendable {
    public var map: MapResult? = nil
    public var neighbours: NeighbourResult? = nil
    /// Training step of the weights loaded (-1 before any).
    public var loadedStep = -1
    /// What the worker is doing, for the views' headers.
    public var status = "waiting for weights"
    /// The last failure (a map that cannot be made), shown instead of "computing" forever.
    public var error: String? = nil

    public init() {}

    /// The map, if it was made for `condition`.
    public func map(for condition: Int) -> MapResult? {
        map.flatMap { $0.condition == condition ? $0 : nil }
    }

    /// The neighbours, if they were found for `query`.
    public func neighbours(of query: Int) -> NeighbourResult? {
        neighbours.flatMap { $0.query == query ? $0 : nil }
    }
}
