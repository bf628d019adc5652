import Basics
import Tensor

/// The ConvNet f(x): images in, embeddings [N, D] out, with a forward pass that caches what the
/// backward pass needs and a backward pass that accumulates into the parameter store's gradients.
///
/// Activations are CNHW (see the Tensor module). Per stage the cache holds the normalised
/// convolution output `xhat` (the convolution writes there and batch norm normalises in place),
/// the post-ReLU activation and the pooled output with its argmax. The im2col buffer is shared by
/// all stages and recomputed in the backward pass rather than cached: it is the largest buffer.
public final class EmbeddingNetwork: @unchecked Sendable {
    public let shape: NetworkShape
    public let maxBatch: Int
    let store: ParameterStore
    let prefix: String
    /// Batch norm running means and variances, [C] each per stage (not trained).
    let runningMeans: [FloatBuffer]
    let runningVariances: [FloatBuffer]

    private struct Stage {
        let inChannels, outChannels, side: Int
        let xhat, activated, pooled, rstd: FloatBuffer
        let argmax: UnsafeMutablePointer<Int32>
        let convWeight, bnWeight, bnBias: Int  // offsets in the store
    }

    private var stages: [Stage] = []
    private let input: FloatBuffer
    private let rows: FloatBuffer
    private let col: FloatBuffer
    private let dCol: FloatBuffer
    private let scratchA: FloatBuffer, scratchB: FloatBuffer
    private let dRows: FloatBuffer
    private let dPooled: [FloatBuffer]
    public let embeddings: FloatBuffer
    private let fcWeight: Int, fcBias: Int
    private var batch = 0

    public init(shape: NetworkShape, store: ParameterStore, prefix: String, maxBatch: Int) {
        self.shape = shape
        self.store = store
        self.prefix = prefix
        self.maxBatch = maxBatch
        let n = maxBatch
        var largestStage = 0, largestCol = 0
        var dPooled: [FloatBuffer] = []
        for s in shape.widths.indices {
            let cin = shape.inputChannels(atStage: s), cout = shape.widths[s], side = shape.side(atStage: s)
            let size = cout * n * side * side
            largestStage = max(largestStage, size)
            largestCol = max(largestCol, cin * 9 * n * side * side)
            let pooledSize = cout * n * (side / 2) * (side / 2)
            stages.append(Stage(
                inChannels: cin, outChannels: cout, side: side,
                xhat: FloatBuffer(count: size), activated: FloatBuffer(count: size),
                pooled: FloatBuffer(count: pooledSize), rstd: FloatBuffer(count: cout),
                argmax: .allocate(capacity: pooledSize),
                convWeight: store.entry("\(prefix)conv\(s).weight").offset,
                bnWeight: store.entry("\(prefix)bn\(s).weight").offset,
                bnBias: store.entry("\(prefix)bn\(s).bias").offset))
            dPooled.append(FloatBuffer(count: pooledSize))
        }
        self.dPooled = dPooled
        runningMeans = shape.widths.map { FloatBuffer(count: $0) }
        runningVariances = shape.widths.map { FloatBuffer(count: $0, repeating: 1) }
        input = FloatBuffer(count: shape.inputChannels * n * shape.imageSize * shape.imageSize)
        rows = FloatBuffer(count: n * shape.flattenedFeatures)
        dRows = FloatBuffer(count: n * shape.flattenedFeatures)
        col = FloatBuffer(count: largestCol)
        dCol = FloatBuffer(count: largestCol)
        scratchA = FloatBuffer(count: largestStage)
        scratchB = FloatBuffer(count: largestStage)
        embeddings = FloatBuffer(count: n * shape.embeddingDimension)
        fcWeight = store.entry("\(prefix)fc.weight").offset
        fcBias = store.entry("\(prefix)fc.bias").offset
    }

    deinit { for stage in stages { stage.argmax.deallocate() } }

    /// Initialises this network's parameters as PyTorch does by default: convolution and linear
    /// weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt(5)), the same for
    /// the linear bias; batch norm scale 1 and shift 0.
    public func initialize(using generator: inout SeededGenerator) {
        for entry in store.entries where entry.name.hasPrefix(prefix) {
            let values = store.values.pointer + entry.offset
            if entry.name.contains(".bn") {
                values.update(repeating: entry.name.hasSuffix(".weight") ? 1 : 0, count: entry.count)
                continue
            }
            let fanIn = entry.name.hasSuffix("fc.bias") ? shape.flattenedFeatures : entry.count / entry.shape[0]
            let bound = 1 / Float(fanIn).squareRoot()
            for i in 0..<entry.count { values[i] = (generator.unitFloat() * 2 - 1) * bound }
        }
        for s in stages.indices {
            runningMeans[s].zero()
            runningVariances[s].pointer.update(repeating: 1, count: runningVariances[s].count)
        }
    }

    /// Copies `count` images (u8, NCHW, 0...255) into the input buffer as Floats in [0, 1], CNHW.
    public func loadImages(count: Int, bytesPerImage: Int, image: (Int) -> UnsafePointer<UInt8>) {
        precondition(count <= maxBatch, "batch \(count) exceeds the network's capacity \(maxBatch)")
        batch = count
        let plane = shape.imageSize * shape.imageSize
        for n in 0..<count {
            let source = image(n)
            for c in 0..<shape.inputChannels {
                let target = input.pointer + (c * count + n) * plane
                for i in 0..<plane { target[i] = Float(source[c * plane + i]) * (1 / 255) }
            }
        }
    }

    /// Runs the loaded batch through the network; the result is `embeddings` [batch, D].
    /// `training` uses batch statistics (and updates the running ones) and caches for backward.
    public func forward(training: Bool) {
        let n = batch, p = store.values.pointer
        var current = UnsafePointer(input.pointer)
        for (s, stage) in stages.enumerated() {
            let spatial = n * stage.side * stage.side
            conv2dForward(stage.xhat.pointer, col.pointer, current, p + stage.convWeight,
                          inChannels: stage.inChannels, outChannels: stage.outChannels, batch: n, height: stage.side, width: stage.side)
            if training {
                batchNormForward(stage.activated.pointer, stage.xhat.pointer, stage.rstd.pointer,
                                 runningMeans[s].pointer, runningVariances[s].pointer, stage.xhat.pointer,
                                 p + stage.bnWeight, p + stage.bnBias, channels: stage.outChannels, spatial: spatial)
            } else {
                batchNormInference(stage.activated.pointer, stage.xhat.pointer, p + stage.bnWeight, p + stage.bnBias,
                                   runningMeans[s].pointer, runningVariances[s].pointer, channels: stage.outChannels, spatial: spatial)
            }
            reluForward(stage.activated.pointer, stage.activated.pointer, count: stage.outChannels * spatial)
            maxPoolForward(stage.pooled.pointer, stage.argmax, stage.activated.pointer,
                           planes: stage.outChannels * n, height: stage.side, width: stage.side)
            current = UnsafePointer(stage.pooled.pointer)
        }
        let last = stages[stages.count - 1]
        let finalSpatial = shape.finalSide * shape.finalSide
        channelMajorToRows(rows.pointer, current, channels: last.outChannels, batch: n, spatial: finalSpatial)
        linearForward(embeddings.pointer, rows.pointer, p + fcWeight, p + fcBias,
                      batch: n, inFeatures: shape.flattenedFeatures, outFeatures: shape.embeddingDimension)
    }

    /// Accumulates parameter gradients for dLoss/dEmbeddings [batch, D] after a training forward.
    public func backward(_ dEmbeddings: ConstFloatPointer) {
        let n = batch, p = store.values.pointer, g = store.gradients.pointer
        let features = shape.flattenedFeatures
        dRows.pointer.update(repeating: 0, count: n * features)
        linearBackward(dRows.pointer, g + fcWeight, g + fcBias, dEmbeddings, rows.pointer, p + fcWeight,
                       batch: n, inFeatures: features, outFeatures: shape.embeddingDimension)
        let last = stages.count - 1
        let finalSpatial = shape.finalSide * shape.finalSide
        dPooled[last].pointer.update(repeating: 0, count: stages[last].outChannels * n * finalSpatial)
        rowsToChannelMajorAccumulate(dPooled[last].pointer, dRows.pointer, channels: stages[last].outChannels, batch: n, spatial: finalSpatial)
        for s in stride(from: last, through: 0, by: -1) {
            let stage = stages[s]
            let spatial = n * stage.side * stage.side, size = stage.outChannels * spatial
            let dActivated = scratchA.pointer, dNormalised = scratchB.pointer
            dActivated.update(repeating: 0, count: size)
            maxPoolBackward(dActivated, dPooled[s].pointer, stage.argmax, planes: stage.outChannels * n, height: stage.side, width: stage.side)
            dNormalised.update(repeating: 0, count: size)
            reluBackward(dNormalised, dActivated, stage.activated.pointer, count: size)
            let dConv = scratchA.pointer
            dConv.update(repeating: 0, count: size)
            batchNormBackward(dConv, g + stage.bnWeight, g + stage.bnBias, dNormalised, stage.xhat.pointer, stage.rstd.pointer,
                              p + stage.bnWeight, channels: stage.outChannels, spatial: spatial)
            let stageInput = s == 0 ? UnsafePointer(input.pointer) : UnsafePointer(stages[s - 1].pooled.pointer)
            im2col(col.pointer, stageInput, channels: stage.inChannels, batch: n, height: stage.side, width: stage.side)
            var dInput: FloatPointer? = nil
            if s > 0 {
                dInput = dPooled[s - 1].pointer
                dInput!.update(repeating: 0, count: stage.inChannels * spatial)
            }
            conv2dBackward(dInput, g + stage.convWeight, dCol.pointer, dConv, col.pointer, p + stage.convWeight,
                           inChannels: stage.inChannels, outChannels: stage.outChannels, batch: n, height: stage.side, width: stage.side)
        }
    }

    /// The input buffer, for gradient checks that perturb the input.
    var inputBuffer: FloatBuffer { input }
}
