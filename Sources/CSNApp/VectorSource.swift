import CSN
import Datasets
import Runs

/// Where the analysis worker's vectors come from: a model it runs on the images (a run being
/// trained or a saved checkpoint), or vectors another program computed (an embeddings file).
public protocol VectorSource: AnyObject {
    var dimension: Int { get }
    /// How many embeddings each image has: 1, or one per condition (task-specific networks).
    var networkCount: Int { get }
    func networkIndex(condition: Int) -> Int
    /// The masks as applied, [K, D].
    func masks() -> [Float]
    /// Takes newer weights (a fixed source has none to take).
    func load(_ weights: ModelWeights)
    /// [images, D]: the images' embeddings from network `network`.
    func embed(_ images: [Int32], network: Int, dataset: ImageDataset, isCancelled: () -> Bool) -> [Float]
}

/// A CSN model, run on the dataset's images.
public final class ModelVectors: VectorSource {
    let model: CSNModel
    public init(model: CSNModel) { self.model = model }

    public var dimension: Int { model.shape.embeddingDimension }
    public var networkCount: Int { model.networks.count }
    public func networkIndex(condition: Int) -> Int { model.networkIndex(condition: condition) }
    public func masks() -> [Float] { model.effectiveMasks() }
    public func load(_ weights: ModelWeights) { weights.load(into: model) }
    public func embed(_ images: [Int32], network: Int, dataset: ImageDataset, isCancelled: () -> Bool) -> [Float] {
        Evaluator.embed(images, model: model, network: network, dataset: dataset, isCancelled: isCancelled)
    }
}

/// Vectors read from a file: image `i` of the explorer's dataset is row `i` of the table.
public final class FixedVectors: VectorSource {
    let table: EmbeddingTable
    let conditionCount: Int
    private let allMasks: [Float]

    public init(table: EmbeddingTable, conditionCount: Int) {
        self.table = table
        self.conditionCount = conditionCount
        allMasks = table.masks ?? [Float](repeating: 1, count: conditionCount * table.dimension)
    }

    public var dimension: Int { table.dimension }
    public var networkCount: Int { table.conditionsAxis ?? 1 }
    public func networkIndex(condition: Int) -> Int { table.conditionsAxis == nil ? 0 : condition }
    public func masks() -> [Float] { allMasks }
    public func load(_ weights: ModelWeights) {}
    public func embed(_ images: [Int32], network: Int, dataset: ImageDataset, isCancelled: () -> Bool) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(images.count * dimension)
        for image in images { out.append(contentsOf: table.vector(row: Int(image), condition: network)) }
        return out
    }
}
