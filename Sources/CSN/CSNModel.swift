import Basics
import Tensor

/// A model of any of the four kinds: its embedding network(s), its masks and one parameter store.
///
/// Parameters are named "net{i}.conv0.weight", ..., and "masks" ([K, D], the pre-ReLU beta) for
/// learned masks. Fixed masks are constants, not parameters; the standard and task-specific
/// models use all-one masks.
public final class CSNModel {
    public let kind: ModelKind
    public let shape: NetworkShape
    public let conditionCount: Int
    public let store: ParameterStore
    public let networks: [EmbeddingNetwork]
    /// Offset of beta [K, D] in the store, for learned masks.
    let maskOffset: Int?
    /// The masks in use when they are not learned.
    private let constantMasks: FloatBuffer

    public init(kind: ModelKind, shape: NetworkShape, conditionCount: Int, maxBatchImages: Int, workers: Int = 1) {
        self.kind = kind
        self.shape = shape
        self.conditionCount = conditionCount
        let networkCount = kind == .taskSpecific ? conditionCount : 1
        var shapes = (0..<networkCount).flatMap { shape.parameterShapes(prefix: "net\($0).") }
        if kind == .csnLearned { shapes.append(("masks", [conditionCount, shape.embeddingDimension])) }
        let store = ParameterStore(shapes: shapes)
        self.store = store
        networks = (0..<networkCount).map {
            EmbeddingNetwork(shape: shape, store: store, prefix: "net\($0).", maxBatch: maxBatchImages, workers: workers)
        }
        maskOffset = kind == .csnLearned ? store.entry("masks").offset : nil
        let d = shape.embeddingDimension
        constantMasks = kind == .csnFixed
            ? FloatBuffer(Self.disjointMasks(conditions: conditionCount, dimension: d))
            : FloatBuffer(count: conditionCount * d, repeating: 1)
    }

    /// Block c holds dimensions [c*D/K, (c+1)*D/K); the last block takes the remainder.
    public static func disjointMasks(conditions: Int, dimension: Int) -> [Float] {
        var masks = [Float](repeating: 0, count: conditions * dimension)
        let block = dimension / conditions
        for c in 0..<conditions {
            let end = c == conditions - 1 ? dimension : (c + 1) * block
            for d in (c * block)..<end { masks[c * dimension + d] = 1 }
        }
        return masks
    }

    /// Draws every parameter: networks as PyTorch's defaults, learned masks from
    /// N(mean, std), the disjoint blocks or U(0, 1).
    public func initialize(seed: UInt64, maskInitialization: MaskInitialization = .normal,
                           maskMean: Float = 0.9, maskStd: Float = 0.7) {
        var generator = SeededGenerator(seed: seed)
        for network in networks { network.initialize(using: &generator) }
        if let maskOffset {
            let beta = store.values.pointer + maskOffset
            let count = conditionCount * shape.embeddingDimension
            switch maskInitialization {
            case .normal: for i in 0..<count { beta[i] = maskMean + maskStd * generator.normal() }
            case .disjoint:
                let blocks = Self.disjointMasks(conditions: conditionCount, dimension: shape.embeddingDimension)
                for i in 0..<count { beta[i] = blocks[i] }
            case .uniform: for i in 0..<count { beta[i] = generator.unitFloat() }
            }
        }
        store.firstMoments.zero()
        store.secondMoments.zero()
    }

    /// The network that embeds images for condition c.
    public func networkIndex(condition: Int) -> Int { kind == .taskSpecific ? condition : 0 }

    public var learnsMasks: Bool { maskOffset != nil }

    /// m = ReLU(beta) for learned masks, else the constant masks; [K, D].
    public func effectiveMasks(into masks: FloatBuffer) {
        let count = conditionCount * shape.embeddingDimension
        if let maskOffset {
            let beta = store.values.pointer + maskOffset
            for i in 0..<count { masks[i] = max(beta[i], 0) }
        } else {
            masks.pointer.update(from: constantMasks.pointer, count: count)
        }
    }

    public func effectiveMasks() -> [Float] {
        let buffer = FloatBuffer(count: conditionCount * shape.embeddingDimension)
        effectiveMasks(into: buffer)
        return buffer.array
    }

    /// Chains dLoss/dm [K, D] through the ReLU into beta's gradient.
    func accumulateMaskGradient(_ dMasks: FloatBuffer) {
        guard let maskOffset else { return }
        let beta = store.values.pointer + maskOffset, g = store.gradients.pointer + maskOffset
        for i in 0..<(conditionCount * shape.embeddingDimension) where beta[i] > 0 { g[i] += dMasks[i] }
    }

    /// Batch norm running statistics of every network, in a fixed order, for checkpoints.
    public var runningStatistics: [(name: String, buffer: FloatBuffer)] {
        networks.enumerated().flatMap { i, network in
            network.runningMeans.indices.flatMap { s in
                [("net\(i).bn\(s).running_mean", network.runningMeans[s]), ("net\(i).bn\(s).running_var", network.runningVariances[s])]
            }
        }
    }
}
