@testable import CSN
import Basics
import Datasets
import Tensor
import Testing
import TestSupport

/// The loss and the whole network against central differences.
@Suite struct GradientTests {
    @Test(arguments: [true, false])
    func tripletLossGradients(includeMaskTerm: Bool) {
        let (b, d, k) = (6, 5, 3)
        let embeddings = FloatBuffer(GradientCheck.random(3 * b * d, seed: 21))
        let masks = FloatBuffer(GradientCheck.random(k * d, seed: 22).map { abs($0) + 0.1 })
        // Triplet t uses rows t, b + t, 2b + t; conditions cycle.
        let rows = TripletRows(rows: (0..<b).flatMap { [Int32($0), Int32(b + $0), Int32(2 * b + $0)] },
                               conditions: (0..<b).map { Int32($0 % k) })
        let weights = LossWeights(margin: 0.5, embedding: 0.05, mask: 0.02)
        let dE = FloatBuffer(count: embeddings.count), dM = FloatBuffer(count: masks.count)
        func loss() -> Double {
            let scratchE = FloatBuffer(count: embeddings.count), scratchM = FloatBuffer(count: masks.count)
            return Double(tripletLoss(scratchE.pointer, scratchM.pointer, embeddings.pointer, masks.pointer, rows, dimension: d,
                                      conditionCount: k, weights: weights, includeMaskTerm: includeMaskTerm).total)
        }
        let terms = tripletLoss(dE.pointer, dM.pointer, embeddings.pointer, masks.pointer, rows, dimension: d,
                                conditionCount: k, weights: weights, includeMaskTerm: includeMaskTerm)
        #expect(terms.triplet > 0 && terms.embedding > 0 && (terms.mask > 0) == includeMaskTerm)
        #expect(terms.seen == [2, 2, 2])
        let byEmbedding = GradientCheck.worst(values: embeddings.pointer, count: embeddings.count, analytic: dE.array, step: 1e-3, loss: loss)
        let byMask = GradientCheck.worst(values: masks.pointer, count: masks.count, analytic: dM.array, step: 1e-3, loss: loss)
        #expect(byEmbedding.relativeError < 1e-2, "embeddings: \(byEmbedding)")
        #expect(byMask.relativeError < 1e-2, "masks: \(byMask)")
    }

    @Test func hingeIsZeroWhenTheMarginIsMet() {
        // Anchor = positive, negative far away: no triplet loss, no triplet gradient, counted correct.
        let d = 2
        let embeddings = FloatBuffer([0, 0, 0, 0, 5, 5])
        let rows = TripletRows(rows: [0, 1, 2], conditions: [0])
        let dE = FloatBuffer(count: 6), dM = FloatBuffer(count: 2), masks = FloatBuffer([1, 1])
        let terms = tripletLoss(dE.pointer, dM.pointer, embeddings.pointer, masks.pointer, rows, dimension: d,
                                conditionCount: 1, weights: LossWeights(margin: 0.2, embedding: 0, mask: 0), includeMaskTerm: false)
        #expect(terms.triplet == 0 && terms.correct == [1])
        #expect(dE.array.allSatisfy { $0 == 0 })
    }

    /// Every parameter block of the ConvNet (conv, batch norm in training mode, ReLU, max-pool,
    /// linear), checked along the analytic gradient. The first stage is the direct one (its
    /// statistics and weight gradient from the input's patches); the second (8 input channels,
    /// side 8) runs Winograd F(4x4) or F(2x2), whole or in chunks of 2 images, or with 4 input
    /// channels im2col. The step is small
    /// because batch norm makes the loss curve fast along the first layer's weights (at 3e-3 the
    /// difference is 2% off; at 1e-3 it converges on the analytic value).
    /// A network of the direct stage alone checks it as the last stage too. On 32x32 images with
    /// 32 channels in the second stage (side 16), a chunk of 2 images (32 tiles) takes all three
    /// Winograd products through SmallGemm where the build has it, and the last chunk's single
    /// image (16 tiles) its forward and input-gradient products through OpenBLAS.
    @Test(arguments: [(1, 8, WinogradTile.four, [8, 3], 16), (2, 8, .four, [8, 3], 16), (1, 2, .four, [8, 3], 16),
                      (2, 2, .two, [8, 3], 16), (2, 2, .four, [4, 3], 16), (2, 2, .four, [4], 16), (1, 2, .four, [8, 32], 32)])
    func embeddingNetworkBackward(workers: Int, winogradChunk: Int, tile: WinogradTile, widths: [Int], imageSize: Int) {
        checkNetworkGradients(workers: workers, winogradChunk: winogradChunk, tile: tile, widths: widths, imageSize: imageSize)
    }

    /// The linear layer on SmallGemm where the build has it: 32 embedding dimensions, 256 features
    /// and 8 images take its forward product (with the weight transposed) and both gradients there.
    /// A smaller step: with 4,096 pooling windows, a step of 1e-3 along the random direction moved
    /// some window's maximum, and the first stage's weights came out 1.2% off (on OpenBLAS's
    /// products as on SmallGemm's).
    @Test func embeddingNetworkBackwardWithTheLinearLayerOnSmallGemm() {
        checkNetworkGradients(workers: 1, winogradChunk: 8, tile: .four, widths: [8, 16], imageSize: 16, batch: 8, dimension: 32, step: 3e-4)
    }

    private func checkNetworkGradients(workers: Int, winogradChunk: Int, tile: WinogradTile, widths: [Int], imageSize: Int,
                                       batch: Int = 3, dimension: Int = 4, step: Double = 1e-3) {
        let shape = NetworkShape(imageSize: imageSize, inputChannels: 1, widths: widths, embeddingDimension: dimension)
        if widths == [8, 32] {
            #expect(EmbeddingNetwork.winogradChunkImages(cap: winogradChunk, outChannels: 32, side: 16, tile: tile) == 2)
            #expect(SmallGemm.covers(m: 32, n: 32, k: 8) == SmallGemm.isAvailable && !SmallGemm.covers(m: 32, n: 16, k: 8))
        }
        #expect(EmbeddingNetwork.winogradMinimumChannels <= 8 && EmbeddingNetwork.winogradMinimumChannels > 4)
        let store = ParameterStore(shapes: shape.parameterShapes(prefix: "n."))
        let network = EmbeddingNetwork(shape: shape, store: store, prefix: "n.", maxBatch: batch, workers: workers, winogradChunk: winogradChunk,
                                       largestTile: tile)
        var generator = SeededGenerator(seed: 31)
        network.initialize(using: &generator)
        let pixels = imageSize * imageSize
        var images = [UInt8](repeating: 0, count: batch * pixels)
        for i in images.indices { images[i] = UInt8(truncatingIfNeeded: generator.next()) }
        let r = GradientCheck.random(batch * dimension, seed: 32)
        func loss() -> Double {
            images.withUnsafeBufferPointer { bytes in
                network.loadImages(count: batch, bytesPerImage: pixels) { bytes.baseAddress! + $0 * pixels }
            }
            network.forward(training: true)
            return GradientCheck.projection(network.embeddings.pointer, r)
        }
        _ = loss()
        store.gradients.zero()
        let dOut = FloatBuffer(r)
        withExtendedLifetime(dOut) { network.backward(dOut.pointer) }
        for entry in store.entries {
            let analytic = Array(UnsafeBufferPointer(start: store.gradients.pointer + entry.offset, count: entry.count))
            let check = GradientCheck.directional(values: store.values.pointer + entry.offset, count: entry.count,
                                                  analytic: analytic, step: step, loss: loss)
            #expect(check.relativeError < 1e-2, "\(entry.name): numeric \(check.numeric), analytic \(check.analytic)")
            #expect(check.analytic > 0, "\(entry.name) gets a gradient")
        }
    }
}

/// Sharding the batch over workers, and the Winograd convolution's chunks, change only the order
/// of additions (in both convolutions: the direct first stage, Winograd in the second).
@Suite struct ShardingTests {
    /// Embeddings (training and inference), gradients and running means of one seeded network
    /// after a warm-up step on `warmUp` images (0: none), then a step on `count` images.
    private func step(workers: Int, winogradChunk: Int, warmUp: Int = 0, count: Int, imageSize: Int = 16, widths: [Int] = [8, 6],
                      dimension: Int = 8) -> [(String, [Float])] {
        let shape = NetworkShape(imageSize: imageSize, inputChannels: 1, widths: widths, embeddingDimension: dimension)
        let pixels = imageSize * imageSize, largest = max(7, count)
        var images = [UInt8](repeating: 0, count: largest * pixels)
        var generator = SeededGenerator(seed: 50)
        for i in images.indices { images[i] = UInt8(truncatingIfNeeded: generator.next()) }
        let store = ParameterStore(shapes: shape.parameterShapes(prefix: "n."))
        let network = EmbeddingNetwork(shape: shape, store: store, prefix: "n.", maxBatch: largest, workers: workers, winogradChunk: winogradChunk)
        var parameters = SeededGenerator(seed: 51)
        network.initialize(using: &parameters)
        for n in [warmUp, count] where n > 0 {
            images.withUnsafeBufferPointer { bytes in network.loadImages(count: n, bytesPerImage: pixels) { bytes.baseAddress! + $0 * pixels } }
            network.forward(training: true)
            let dOut = FloatBuffer(GradientCheck.random(n * dimension, seed: 52))
            store.gradients.zero()
            withExtendedLifetime(dOut) { network.backward(dOut.pointer) }
        }
        let trained = network.embeddings.array
        network.forward(training: false)
        return [("embeddings", trained + network.embeddings.array), ("gradients", store.gradients.array),
                ("running means", network.runningMeans[1].array)]
    }

    /// |a - b| / |a| over each whole vector: sums in another order differ by rounding only.
    private func expectClose(_ first: [(String, [Float])], _ second: [(String, [Float])]) {
        for ((name, a), (_, b)) in zip(first, second) {
            let difference = zip(a, b).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
            let size = a.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
            #expect(difference / size < 1e-5, "\(name): relative difference \(difference / size)")
        }
    }

    /// The first stage by rows of windows (32x32 images) and the linear layer on SmallGemm where the
    /// build has it (32 dimensions): one worker and two take every product there; three (shards of
    /// 5, 5 and 6) leave the linear layer's to OpenBLAS, and one of them transposes no block of the
    /// weight.
    @Test func workersAgreeWithTheFastPaths() {
        func run(_ workers: Int) -> [(String, [Float])] {
            step(workers: workers, winogradChunk: 8, count: 16, imageSize: 32, widths: [8, 16], dimension: 32)
        }
        let one = run(1)
        expectClose(one, run(2))
        expectClose(one, run(3))
    }

    @Test func twoWorkersGiveTheSameEmbeddingsAndGradientsAsOne() {
        expectClose(step(workers: 1, winogradChunk: 8, count: 7), step(workers: 2, winogradChunk: 2, count: 7))
    }

    /// A batch with fewer images than workers leaves some idle; what they kept from a larger batch
    /// must not be added in.
    @Test func idleWorkersAddNothing() {
        expectClose(step(workers: 1, winogradChunk: 8, warmUp: 7, count: 3), step(workers: 5, winogradChunk: 2, warmUp: 7, count: 3))
    }
}
