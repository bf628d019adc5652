import Basics
import Datasets

/// The embedding ConvNet's shape: stages of conv 3x3 -> batch norm -> ReLU -> max-pool 2, then a
/// linear layer to the embedding. Three stages for 32x32 input (32 -> 4), four for 64x64.
public struct NetworkShape: Codable, Sendable, Equatable {
    public var imageSize: Int
    public var inputChannels: Int
    /// Output channels of each stage.
    public var widths: [Int]
    public var embeddingDimension: Int

    public init(imageSize: Int = 32, inputChannels: Int = 1, widths: [Int]? = nil, embeddingDimension: Int = 64) {
        self.imageSize = imageSize
        self.inputChannels = inputChannels
        self.widths = widths ?? (imageSize >= 64 ? [32, 64, 128, 128] : [32, 64, 128])
        self.embeddingDimension = embeddingDimension
    }

    /// The shape a run's config gives on `dataset`: its image size and channels, the config's
    /// widths and embedding dimension. Validated.
    public init(config: TrainingConfig, dataset: ImageDataset) throws {
        self.init(imageSize: dataset.imageSize, inputChannels: dataset.channels, widths: config.widths,
                  embeddingDimension: config.embeddingDimension)
        try validate()
    }

    /// Side of the feature map that stage s reads.
    public func side(atStage s: Int) -> Int { imageSize >> s }
    public func inputChannels(atStage s: Int) -> Int { s == 0 ? inputChannels : widths[s - 1] }
    public var finalSide: Int { imageSize >> widths.count }
    public var flattenedFeatures: Int { widths.last! * finalSide * finalSide }

    /// Multiply-adds x 2 of one image's forward pass (convolutions and the linear layer).
    public var forwardFlops: Double {
        var flops = 0.0
        for s in widths.indices {
            let side = Double(self.side(atStage: s))
            flops += 2 * Double(widths[s] * inputChannels(atStage: s) * 9) * side * side
        }
        return flops + 2 * Double(flattenedFeatures * embeddingDimension)
    }

    /// Parameter names and shapes, prefixed (e.g. "net0.").
    public func parameterShapes(prefix: String) -> [(name: String, shape: [Int])] {
        var shapes: [(String, [Int])] = []
        for s in widths.indices {
            shapes.append(("\(prefix)conv\(s).weight", [widths[s], inputChannels(atStage: s), 3, 3]))
            shapes.append(("\(prefix)bn\(s).weight", [widths[s]]))
            shapes.append(("\(prefix)bn\(s).bias", [widths[s]]))
        }
        shapes.append(("\(prefix)fc.weight", [embeddingDimension, flattenedFeatures]))
        shapes.append(("\(prefix)fc.bias", [embeddingDimension]))
        return shapes
    }

    /// Limits that keep every size computed from a shape far from overflow; a config.json or a
    /// command line asking for more gets an error, not an allocation failure.
    public static let maxStages = 6, maxWidth = 4096, maxEmbeddingDimension = 65_536

    public func validate() throws -> Void {
        guard (1...Self.maxStages).contains(widths.count) else {
            throw CSNError("the network needs 1 to \(Self.maxStages) stage widths, not \(widths.count)")
        }
        guard widths.allSatisfy({ (1...Self.maxWidth).contains($0) }) else {
            throw CSNError("stage widths \(widths) must each be between 1 and \(Self.maxWidth)")
        }
        guard (1...Self.maxEmbeddingDimension).contains(embeddingDimension) else {
            throw CSNError("the embedding dimension must be between 1 and \(Self.maxEmbeddingDimension), not \(embeddingDimension)")
        }
        guard imageSize > 0, imageSize % (1 << widths.count) == 0 else {
            throw CSNError("image size \(imageSize) cannot be halved \(widths.count) times")
        }
    }

    /// Whether stage `s` is the network's direct stage (see EmbeddingNetwork): the first, when it
    /// has too few input channels for Winograd.
    public func isDirectStage(_ s: Int) -> Bool { s == 0 && inputChannels < EmbeddingNetwork.winogradMinimumChannels }

    /// Floats one image needs during a training step, generously: each stage's input unfolded for
    /// the convolution (9 x) and four maps of its output (convolution, gradients, scratch); the
    /// direct first stage (few input channels, see EmbeddingNetwork) keeps four pooled maps alone.
    public var activationFloatsPerImage: Int {
        widths.indices.reduce(embeddingDimension * 4) { total, s in
            let plane = side(atStage: s) * side(atStage: s)
            return total + (isDirectStage(s) ? plane * widths[s] : plane * (9 * inputChannels(atStage: s) + 4 * widths[s]))
        }
    }

    /// Parameters of one network.
    public var parameterCount: Int {
        parameterShapes(prefix: "").reduce(0) { $0 + $1.shape.reduce(1, *) }
    }
}
