import Basics
import Tensor

/// The ConvNet f(x): images in, embeddings [N, D] out, with a forward pass that caches what the
/// backward pass needs and a backward pass that accumulates into the parameter store's gradients.
///
/// Activations are CNHW (see the Tensor module). Per stage the cache holds the convolution output
/// (except the direct first stage's), batch norm's statistics, and the pooled output with its
/// argmax and each window's input: batch norm, ReLU and max-pool run as one sweep, so neither the
/// normalised nor the post-ReLU activations are stored (the backward pass recomputes the
/// normalised values it needs, see pooledBatchNormBackward). Statistics come from one sweep of
/// shifted moments (shift: the running mean), or for the direct stage from the input's patches.
///
/// Convolutions: stages with at least `winogradMinimumChannels` input channels run Winograd's
/// F(4x4, 3x3) where the side is a multiple of 4 and F(2x2, 3x3) where it is only even (4x and
/// 2.25x fewer GEMM FLOPs). The backward pass transforms a chunk's input again rather than keep
/// the forward pass's (2.25-4 times the input's size, a large share of a step's memory traffic): in
/// alternating runs the step took 3-8% less CPU time (task-clock, 5 pairs) and 21 MB less. The first
/// stage, with one or three channels, is a direct stage (DirectConvStage.swift): its batch-norm
/// statistics and weight gradient come from the input's patches, and its convolution output,
/// made in registers sixteen pooling windows at a time (DirectStageRows.swift; elsewhere a few
/// images at a time by im2col + sgemm), is pooled at once and never stored. A later
/// stage with few input channels (a narrow network) runs im2col + sgemm, whose column buffer is
/// recomputed in the backward pass rather than cached.
///
/// Threads: the batch is split into `workers` shards of images, and each worker takes its shard
/// through every layer with single-threaded OpenBLAS (a conv's sgemm works on a block of columns).
/// Batch norm adds the workers' partial sums in worker order, and each worker accumulates its own
/// weight gradients that are then added in worker order, so a run repeats exactly for a given
/// worker count. The workers meet once per stage in each direction (where batch norm needs the
/// whole batch's sums), once more at the end of the forward pass and once at the start of the
/// backward pass (the linear layer, split by samples, and for its weight gradient by outputs).
/// On 2 cores this beats a multi-threaded BLAS whose threads spin while the elementwise layers run
/// on one core.
public final class EmbeddingNetwork {
    public let shape: NetworkShape
    public let maxBatch: Int
    public let workers: Int
    let store: ParameterStore
    let prefix: String
    /// Batch norm running means and variances, [C] each per stage (not trained).
    let runningMeans: [FloatBuffer]
    let runningVariances: [FloatBuffer]

    /// Fewer input channels than this make the Winograd GEMMs too thin to pay for the transforms.
    public static let winogradMinimumChannels = 8
    /// Images per Winograd call, at most: a shard goes through in chunks, so the scratch for the
    /// products is a chunk's, not a shard's, and a chunk's transformed inputs and products stay
    /// nearer the core for the GEMMs that read them. With F(4x4) on the default model, chunks of 16
    /// images trained 10% faster than 32; once the kernels were compiled for the building CPU,
    /// chunks of 8 trained faster than 16 in 16 of 22 alternating `csn bench` pairs (median ratio
    /// 1.04 and 1.07 in two sets), at 230 MiB instead of 234. At most a shard.
    public static let defaultWinogradChunk = 8
    /// A stage's chunk is also small enough for its products M to fit in this many bytes, about
    /// half of a core's L2 here: the output transform then reads them from L2. With the products
    /// on SmallGemm, the second stage's chunk of 8 images made 1.2 MB of products, and chunks of 4
    /// (590 KB, as the third stage's 8) took 10% less CPU time a step (task-clock over 60 steps,
    /// 3 alternating pairs).
    static let winogradProductsBudget = 640 * 1024

    /// Images per Winograd chunk of a stage: at most `cap`, within winogradProductsBudget, at least 1.
    public static func winogradChunkImages(cap: Int, outChannels: Int, side: Int, tile: WinogradTile) -> Int {
        let bytesPerImage = tile.positions * outChannels * WinogradSizes.tiles(batch: 1, side: side, tile: tile) * MemoryLayout<Float>.size
        return max(1, min(cap, winogradProductsBudget / max(1, bytesPerImage)))
    }
    let winogradChunkCap: Int
    /// The direct stage's chunk here: at most a shard.
    let directChunk: Int
    /// Images per convolution of the direct stage: a chunk's output (128 KiB per image on the
    /// default network) stays in cache until it is pooled.
    public static let directChunk = 2
    let batchNormEpsilon: Float = 1e-5

    private struct Stage {
        let inChannels, outChannels, side: Int
        /// The direct stage (the first, with few channels): `convOutput` is empty.
        let isDirect: Bool
        let convOutput, pooled, rstd, mean: FloatBuffer
        /// The convolution output at each window's maximum (see batchNormReluPool).
        let windowInput: FloatBuffer
        /// 1 / sqrt(running variance + epsilon), for inference.
        let runningRstd: FloatBuffer
        /// The Winograd tile and the transformed convolution weights [P, Cout, Cin], or nil for the
        /// direct stage and im2col stages.
        let tile: WinogradTile?
        let transformedWeights: FloatBuffer?
        /// Images per Winograd chunk (winogradChunkImages); the workers' scratch is sized for it.
        let winogradChunk: Int
        let argmax: UnsafeMutablePointer<Int32>
        let convWeight, bnWeight, bnBias: Int  // offsets in the store
        var plane: Int { side * side }
        var pooledPlane: Int { plane / 4 }
    }

    /// What each worker owns: its im2col columns and their gradient (im2col stages); scratch for a
    /// Winograd chunk's transformed input (made again by the backward pass), its products and the
    /// gradients of transformed inputs and weights; its weight-gradient accumulator (the
    /// direct stage's window sums) and its batch-norm partial sums (the forward pass's moments in
    /// Double, [2C]).
    private struct WorkerBuffers {
        let col, dCol, dWeight, sums: FloatBuffer
        let moments: UnsafeMutablePointer<Double>
        /// The direct stage's scratch: a padded image, a chunk's columns and output, and the
        /// shard's patch moments [K * K Gram | K sums].
        let padded, directColumns, directOutput: FloatBuffer
        /// The direct stage's window phases of one image, where DirectStageRows applies (else empty).
        let phases: FloatBuffer
        let patchMoments: UnsafeMutablePointer<Double>
        let transformedInputs, products, dTransformedInputs, dTransformedWeights: FloatBuffer
    }

    private var stages: [Stage] = []
    private var workerBuffers: [WorkerBuffers] = []
    private let input: FloatBuffer
    private let rows: FloatBuffer
    /// The gradient of a stage's convolution output, one stage at a time.
    private let scratch: FloatBuffer
    private let dRows: FloatBuffer
    /// Whole-batch batch-norm sums in the backward pass, [2C].
    private let scratchSums: FloatBuffer
    /// Whole-batch shifted moments in the forward pass, [2C].
    private let scratchMoments: UnsafeMutablePointer<Double>
    /// The direct stage's whole-batch patch moments [K * K Gram | K sums], from the forward pass
    /// for the backward one, and K (0 without a direct stage).
    private let patchMoments: UnsafeMutablePointer<Double>
    private let patchSize: Int
    private let dPooled: [FloatBuffer]
    public let embeddings: FloatBuffer
    private let fcWeight: Int, fcBias: Int
    /// The linear layer's weight transposed, [features, D], for its forward product on SmallGemm:
    /// made by the workers in the last stage's sweep, a block of 16 outputs at a time; nil where
    /// the build or the sizes leave the product to OpenBLAS.
    private let fcTransposed: FloatBuffer?
    private var batch = 0

    /// `largestTile` caps the Winograd tile (tests and benches compare the two).
    public init(shape: NetworkShape, store: ParameterStore, prefix: String, maxBatch: Int, workers: Int = 1,
                winogradChunk: Int = EmbeddingNetwork.defaultWinogradChunk, largestTile: WinogradTile = .four) {
        self.shape = shape
        self.store = store
        self.prefix = prefix
        self.maxBatch = maxBatch
        self.workers = max(1, workers)
        let n = maxBatch
        let shard = (n + self.workers - 1) / self.workers
        winogradChunkCap = max(1, min(winogradChunk, shard))
        directChunk = max(1, min(Self.directChunk, shard))
        var largestStage = 0, largestCol = 0, largestWeight = 0, widest = 0
        var largestProducts = 0, largestTransformedInput = 0, largestTransformedWeights = 0
        var patchSize = 0, paddedSize = 0, directColumns = 0, directOutput = 0, phases = 0
        var dPooled: [FloatBuffer] = []
        for s in shape.widths.indices {
            let cin = shape.inputChannels(atStage: s), cout = shape.widths[s], side = shape.side(atStage: s)
            let isDirect = shape.isDirectStage(s)
            let size = isDirect ? 0 : cout * n * side * side
            let tile = cin >= Self.winogradMinimumChannels ? WinogradTile.largest(forSide: side).map { min(largestTile, $0) } : nil
            let cap = winogradChunkCap
            let chunk = tile.map { Self.winogradChunkImages(cap: cap, outChannels: cout, side: side, tile: $0) } ?? 0
            largestStage = max(largestStage, size)
            if isDirect {
                patchSize = cin * 9
                paddedSize = PaddedImage.count(channels: cin, side: side)
                if DirectStageRows.applies(side: side) {
                    phases = DirectStageRows.phaseCount(channels: cin, side: side)
                } else {
                    directColumns = cin * 9 * directChunk * side * side
                    directOutput = cout * directChunk * side * side
                }
            } else if let tile {
                let inputs = WinogradSizes.inputs(channels: cin, batch: chunk, side: side, tile: tile)
                largestTransformedInput = max(largestTransformedInput, inputs)
                largestProducts = max(largestProducts, WinogradSizes.inputs(channels: cout, batch: chunk, side: side, tile: tile))
                largestTransformedWeights = max(largestTransformedWeights, WinogradSizes.weights(inChannels: cin, outChannels: cout, tile: tile))
            } else {
                largestCol = max(largestCol, cin * 9 * shard * side * side)
            }
            largestWeight = max(largestWeight, cout * cin * 9)
            widest = max(widest, cout)
            let pooledSize = cout * n * (side / 2) * (side / 2)
            stages.append(Stage(
                inChannels: cin, outChannels: cout, side: side, isDirect: isDirect,
                convOutput: FloatBuffer(count: size),
                pooled: FloatBuffer(count: pooledSize), rstd: FloatBuffer(count: cout), mean: FloatBuffer(count: cout),
                windowInput: FloatBuffer(count: pooledSize),
                runningRstd: FloatBuffer(count: cout),
                tile: tile,
                transformedWeights: tile.map { FloatBuffer(count: WinogradSizes.weights(inChannels: cin, outChannels: cout, tile: $0)) },
                winogradChunk: chunk,
                argmax: .allocate(capacity: pooledSize),
                convWeight: store.entry("\(prefix)conv\(s).weight").offset,
                bnWeight: store.entry("\(prefix)bn\(s).weight").offset,
                bnBias: store.entry("\(prefix)bn\(s).bias").offset))
            dPooled.append(FloatBuffer(count: pooledSize))
        }
        workerBuffers = (0..<self.workers).map { _ in
            WorkerBuffers(col: FloatBuffer(count: largestCol), dCol: FloatBuffer(count: largestCol),
                          dWeight: FloatBuffer(count: largestWeight), sums: FloatBuffer(count: 2 * widest),
                          moments: Self.zeroedDoubles(2 * widest),
                          padded: FloatBuffer(count: paddedSize), directColumns: FloatBuffer(count: directColumns),
                          directOutput: FloatBuffer(count: directOutput), phases: FloatBuffer(count: phases),
                          patchMoments: Self.zeroedDoubles(patchSize * patchSize + patchSize),
                          transformedInputs: FloatBuffer(count: largestTransformedInput),
                          products: FloatBuffer(count: largestProducts),
                          dTransformedInputs: FloatBuffer(count: largestTransformedInput),
                          dTransformedWeights: FloatBuffer(count: largestTransformedWeights))
        }
        self.dPooled = dPooled
        runningMeans = shape.widths.map { FloatBuffer(count: $0) }
        runningVariances = shape.widths.map { FloatBuffer(count: $0, repeating: 1) }
        input = FloatBuffer(count: shape.inputChannels * n * shape.imageSize * shape.imageSize)
        rows = FloatBuffer(count: n * shape.flattenedFeatures)
        dRows = FloatBuffer(count: n * shape.flattenedFeatures)
        scratch = FloatBuffer(count: largestStage)
        scratchSums = FloatBuffer(count: 2 * widest)
        scratchMoments = Self.zeroedDoubles(2 * widest)
        patchMoments = Self.zeroedDoubles(patchSize * patchSize + patchSize)
        self.patchSize = patchSize
        embeddings = FloatBuffer(count: n * shape.embeddingDimension)
        let features = shape.flattenedFeatures, d = shape.embeddingDimension
        fcTransposed = SmallGemm.isAvailable && d % 32 == 0 && features % 16 == 0 ? FloatBuffer(count: features * d) : nil
        fcWeight = store.entry("\(prefix)fc.weight").offset
        fcBias = store.entry("\(prefix)fc.bias").offset
    }

    private static func zeroedDoubles(_ count: Int) -> UnsafeMutablePointer<Double> {
        let pointer = UnsafeMutablePointer<Double>.allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
        return pointer
    }

    deinit {
        for stage in stages { stage.argmax.deallocate() }
        for buffers in workerBuffers {
            buffers.moments.deallocate()
            buffers.patchMoments.deallocate()
        }
        scratchMoments.deallocate()
        patchMoments.deallocate()
    }

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

    /// Zeroes each channel's segment of a shard (images `range` of a CNHW buffer of `batch` images).
    private func zeroShard(_ buffer: FloatPointer, channels: Int, plane: Int, range: Range<Int>) {
        for c in 0..<channels { (buffer + (c * batch + range.lowerBound) * plane).update(repeating: 0, count: range.count * plane) }
    }

    /// Sets `target` to the sum of the active workers' `count` values at `part(worker)`, added in
    /// worker order (so that a run repeats exactly for a given worker count).
    private func sumOverWorkers<T: FloatingPoint>(into target: UnsafeMutablePointer<T>, count: Int,
                                                  _ part: (WorkerBuffers) -> UnsafePointer<T>) {
        target.update(repeating: 0, count: count)
        for buffers in activeWorkers {
            let values = part(buffers)
            for i in 0..<count { target[i] += values[i] }
        }
    }

    /// The buffers of the workers that ran: forEachShard runs no more shards than images, and a
    /// smaller batch must not add in what an idle worker kept from a larger one.
    private var activeWorkers: ArraySlice<WorkerBuffers> { workerBuffers.prefix(max(1, min(workers, batch))) }

    /// Runs the loaded batch through the network; the result is `embeddings` [batch, D].
    /// `training` uses batch statistics (and updates the running ones) and caches for backward.
    public var stageCount: Int { stages.count }
    public func stageChannels(_ s: Int) -> Int { stages[s].outChannels }

    /// After `forward`: stage `s`'s output (batch norm, ReLU and pooling done) averaged over its
    /// positions, [batch, C] row-major: the network's convolutional features, for a probe.
    public func stageFeatures(_ s: Int, into out: UnsafeMutablePointer<Float>) {
        let stage = stages[s], n = batch, plane = stage.pooledPlane, channels = stage.outChannels
        let pooled = stage.pooled.pointer
        for c in 0..<channels {
            for i in 0..<n {
                let start = pooled + (c * n + i) * plane
                var sum: Float = 0
                for k in 0..<plane { sum += start[k] }
                out[i * channels + c] = sum / Float(plane)
            }
        }
    }

    public func forward(training: Bool) {
        let n = batch, p = store.values.pointer
        var current = UnsafePointer(input.pointer)
        for (s, stage) in stages.enumerated() {
            let stageInput = current
            let (cout, plane, stride) = (stage.outChannels, stage.plane, n * stage.plane)
            // Transformed weights are made one sweep ahead, each worker a share of the output
            // channels; only a first stage (never Winograd with 1 or 3 channels) would wait here.
            if s == 0 { transformWeights(of: stage, share: 0, of: 1) }
            let next = stages.indices.contains(s + 1) ? stages[s + 1] : nil, shards = activeWorkers.count
            if !training {
                for c in 0..<cout { stage.runningRstd[c] = 1 / (runningVariances[s][c] + batchNormEpsilon).squareRoot() }
            }
            // One sweep of the shards per stage: in training, the previous stage's batch norm
            // (whose statistics are now known) makes this shard's input, then the convolution and
            // its statistics; in inference, the convolution and its batch norm.
            forEachShard(count: n, workers: workers) { w, r in
                let buffers = workerBuffers[w], at = r.lowerBound * plane
                if let next { transformWeights(of: next, share: w, of: shards) } else { transposeLinearWeight(share: w, of: shards) }
                if training && s > 0 {
                    normaliseAndPool(stages[s - 1], worker: w, r, center: stages[s - 1].mean.pointer, rstd: stages[s - 1].rstd.pointer)
                }
                if stage.isDirect {
                    // The statistics come from the input's patches; the convolution waits for them.
                    if training {
                        let k = patchSize, moments = buffers.patchMoments
                        moments.update(repeating: 0, count: k * k + k)
                        accumulatePatchMoments(moments, moments + k * k, padded: buffers.padded.pointer, stageInput + at,
                                               channels: stage.inChannels, images: r.count, side: stage.side, batchStride: n)
                    } else {
                        normaliseAndPool(stage, worker: w, r, center: runningMeans[s].pointer, rstd: stage.runningRstd.pointer)
                    }
                } else if let u = stage.transformedWeights, let tile = stage.tile {
                    let v = buffers.transformedInputs
                    forEachWinogradChunk(of: r, stage: stage) { images in
                        let from = images.lowerBound * plane
                        winogradConvForward(stage.convOutput.pointer + from, transformedInput: v.pointer, products: buffers.products.pointer,
                                            stageInput + from, transformedWeights: u.pointer, inChannels: stage.inChannels,
                                            outChannels: cout, batch: images.count, side: stage.side, batchStride: n, tile: tile)
                    }
                } else {
                    conv2dForward(stage.convOutput.pointer + at, buffers.col.pointer, stageInput + at, p + stage.convWeight,
                                  inChannels: stage.inChannels, outChannels: cout, batch: r.count,
                                  height: stage.side, width: stage.side, batchStride: n)
                }
                if stage.isDirect { return }
                if training {
                    buffers.moments.update(repeating: 0, count: 2 * cout)
                    channelShiftedMoments(buffers.moments, buffers.moments + cout, stage.convOutput.pointer + at, shift: runningMeans[s].pointer,
                                          channels: cout, count: r.count * plane, channelStride: stride)
                } else {
                    normaliseAndPool(stage, worker: w, r, center: runningMeans[s].pointer, rstd: stage.runningRstd.pointer)
                }
            }
            if training {
                let moments = stage.isDirect ? directStageMoments(stage) : workerMoments(count: 2 * cout)
                batchNormStatistics(stage.mean.pointer, stage.rstd.pointer, runningMeans[s].pointer, runningVariances[s].pointer,
                                    shiftedSums: moments, shiftedSquares: moments + cout, shift: runningMeans[s].pointer,
                                    channels: cout, total: stride, epsilon: batchNormEpsilon)
            }
            current = UnsafePointer(stage.pooled.pointer)
        }
        let last = stages[stages.count - 1], pooled = current
        let finalSpatial = shape.finalSide * shape.finalSide, features = shape.flattenedFeatures, d = shape.embeddingDimension
        // The last stage's batch norm (in training) and the linear layer, each worker on its samples.
        forEachShard(count: n, workers: workers) { w, r in
            if training { normaliseAndPool(last, worker: w, r, center: last.mean.pointer, rstd: last.rstd.pointer) }
            channelMajorToRows(rows.pointer, pooled, channels: last.outChannels, batch: n, spatial: finalSpatial, images: r)
            linearForward(embeddings.pointer + r.lowerBound * d, rows.pointer + r.lowerBound * features, p + fcWeight, p + fcBias,
                          batch: r.count, inFeatures: features, outFeatures: d, transposedWeight: fcTransposed.map { UnsafePointer($0.pointer) })
        }
    }

    /// Worker `share`'s part (of `shares`) of the linear layer's transposed weight, in blocks of 16
    /// output features.
    private func transposeLinearWeight(share: Int, of shares: Int) {
        guard let transposed = fcTransposed else { return }
        let blocks = shape.embeddingDimension / 16
        linearTransposeWeight(transposed.pointer, store.values.pointer + fcWeight, inFeatures: shape.flattenedFeatures,
                              outFeatures: shape.embeddingDimension,
                              outputs: (16 * (share * blocks / shares))..<(16 * ((share + 1) * blocks / shares)))
    }

    /// Worker `share`'s part (of `shares`) of a Winograd stage's transformed weights.
    private func transformWeights(of stage: Stage, share: Int, of shares: Int) {
        guard let u = stage.transformedWeights, let tile = stage.tile else { return }
        let cout = stage.outChannels
        winogradTransformWeights(u.pointer, store.values.pointer + stage.convWeight, inChannels: stage.inChannels, outChannels: cout,
                                 tile: tile, outputs: (share * cout / shares)..<((share + 1) * cout / shares))
    }

    /// The workers' first `count` moments added in worker order, in `scratchMoments`.
    private func workerMoments(count: Int) -> UnsafePointer<Double> {
        sumOverWorkers(into: scratchMoments, count: count) { UnsafePointer($0.moments) }
        return UnsafePointer(scratchMoments)
    }

    /// The direct stage's shifted moments (in `scratchMoments`, as workerMoments gives them) from
    /// the workers' patch moments, added in worker order into `patchMoments` for the backward pass.
    private func directStageMoments(_ stage: Stage) -> UnsafePointer<Double> {
        let k = patchSize
        sumOverWorkers(into: patchMoments, count: k * k + k) { UnsafePointer($0.patchMoments) }
        patchConvolutionMoments(scratchMoments, scratchMoments + stage.outChannels, gram: patchMoments, sums: patchMoments + k * k,
                                weight: store.values.pointer + stage.convWeight, shift: runningMeans[0].pointer,
                                outChannels: stage.outChannels, patchSize: k, total: batch * stage.plane)
        return UnsafePointer(scratchMoments)
    }

    /// Calls `body` with each chunk of the stage's images of a shard.
    private func forEachWinogradChunk(of shard: Range<Int>, stage: Stage, _ body: (Range<Int>) -> Void) {
        for start in stride(from: shard.lowerBound, to: shard.upperBound, by: stage.winogradChunk) {
            body(start..<min(start + stage.winogradChunk, shard.upperBound))
        }
    }

    /// Batch norm, ReLU and max-pool on a shard of a stage's convolution output (which the direct
    /// stage makes here, with worker `w`'s scratch).
    private func normaliseAndPool(_ stage: Stage, worker w: Int, _ r: Range<Int>, center: ConstFloatPointer, rstd: ConstFloatPointer) {
        let p = store.values.pointer
        let at = r.lowerBound * stage.pooledPlane
        if stage.isDirect {
            let buffers = workerBuffers[w]
            if DirectStageRows.applies(side: stage.side) {
                DirectStageRows.convolveNormalisePool(stage.pooled.pointer + at, stage.argmax + at, windowInput: stage.windowInput.pointer + at,
                                                      padded: buffers.padded.pointer, phases: buffers.phases.pointer,
                                                      input.pointer + r.lowerBound * stage.plane, weight: p + stage.convWeight, center: center,
                                                      rstd: rstd, gamma: p + stage.bnWeight, beta: p + stage.bnBias, inChannels: stage.inChannels,
                                                      outChannels: stage.outChannels, images: r.count, side: stage.side, batchStride: batch)
                return
            }
            directConvBatchNormReluPool(stage.pooled.pointer + at, stage.argmax + at, windowInput: stage.windowInput.pointer + at,
                                        columns: buffers.directColumns.pointer, output: buffers.directOutput.pointer,
                                        input.pointer + r.lowerBound * stage.plane, weight: p + stage.convWeight, center: center, rstd: rstd,
                                        gamma: p + stage.bnWeight, beta: p + stage.bnBias, inChannels: stage.inChannels,
                                        outChannels: stage.outChannels, images: r.count, side: stage.side, batchStride: batch,
                                        chunk: directChunk)
            return
        }
        batchNormReluPool(stage.pooled.pointer + at, stage.argmax + at, windowInput: stage.windowInput.pointer + at,
                          stage.convOutput.pointer + r.lowerBound * stage.plane, center: center, rstd: rstd,
                          gamma: p + stage.bnWeight, beta: p + stage.bnBias, channels: stage.outChannels, images: r.count,
                          height: stage.side, width: stage.side, batchStride: batch)
    }

    /// Sets the worker's `sums` to a shard's batch-norm backward sums of stage `s`, [sum dy | sum
    /// dy * xhat], and gates the shard's pooled-output gradient (see gateAndSumPooledGradient).
    private func setBackwardSums(stage s: Int, worker w: Int, shard r: Range<Int>) {
        let stage = stages[s], sums = workerBuffers[w].sums.pointer, at = r.lowerBound * stage.pooledPlane
        sums.update(repeating: 0, count: 2 * stage.outChannels)
        gateAndSumPooledGradient(sums, sums + stage.outChannels, dPooled: dPooled[s].pointer + at, pooled: stage.pooled.pointer + at,
                                    windowInput: stage.windowInput.pointer + at, mean: stage.mean.pointer, rstd: stage.rstd.pointer, channels: stage.outChannels,
                                    images: r.count, plane: stage.plane, batchStride: batch)
    }

    /// Accumulates parameter gradients for dLoss/dEmbeddings [batch, D] after a training forward.
    public func backward(_ dEmbeddings: ConstFloatPointer) {
        let n = batch, p = store.values.pointer, g = store.gradients.pointer
        let features = shape.flattenedFeatures, d = shape.embeddingDimension
        let last = stages.count - 1, lastChannels = stages[last].outChannels
        let finalSpatial = shape.finalSide * shape.finalSide
        // The linear layer's backward pass and the last stage's sums: each worker takes its samples
        // for the input gradient, and its share of the output features for the weight gradient.
        let shards = activeWorkers.count
        forEachShard(count: n, workers: workers) { w, r in
            linearWeightGradient(g + fcWeight, g + fcBias, dEmbeddings, rows.pointer, batch: n, inFeatures: features, outFeatures: d,
                                 outputs: (w * d / shards)..<((w + 1) * d / shards))
            (dRows.pointer + r.lowerBound * features).update(repeating: 0, count: r.count * features)
            linearInputGradient(dRows.pointer, dEmbeddings, p + fcWeight, rows: r, inFeatures: features, outFeatures: d)
            zeroShard(dPooled[last].pointer, channels: lastChannels, plane: finalSpatial, range: r)
            rowsToChannelMajorAccumulate(dPooled[last].pointer, dRows.pointer, channels: lastChannels, batch: n, spatial: finalSpatial, images: r)
            setBackwardSums(stage: last, worker: w, shard: r)
        }
        for s in stride(from: last, through: 0, by: -1) {
            let stage = stages[s]
            let (cout, plane, stride) = (stage.outChannels, stage.plane, n * stage.plane)
            let dConv = scratch.pointer
            let stageInput = s == 0 ? UnsafePointer(input.pointer) : UnsafePointer(stages[s - 1].pooled.pointer)
            // Whole-batch sums: dBeta and dGamma, and the inputs of every shard's dx.
            let sumDy = scratchSums.pointer, sumDyXhat = scratchSums.pointer + cout
            sumOverWorkers(into: sumDy, count: cout) { UnsafePointer($0.sums.pointer) }
            sumOverWorkers(into: sumDyXhat, count: cout) { UnsafePointer($0.sums.pointer + cout) }
            for c in 0..<cout {
                g[stage.bnBias + c] += sumDy[c]
                g[stage.bnWeight + c] += sumDyXhat[c]
            }
            // One sweep of the shards per stage: batch norm, ReLU and pool backward, the
            // convolution's backward pass, and the previous stage's sums from the gradient just made.
            forEachShard(count: n, workers: workers) { w, r in
                let buffers = workerBuffers[w], at = r.lowerBound * plane, pooledAt = r.lowerBound * stage.pooledPlane
                if stage.isDirect {
                    // The window sums of the weight gradient; the rest is added below for the batch.
                    buffers.dWeight.pointer.update(repeating: 0, count: cout * patchSize)
                    if DirectStageRows.applies(side: stage.side) {
                        DirectStageRows.accumulateWindowPatchSums(buffers.dWeight.pointer, padded: buffers.padded.pointer, phases: buffers.phases.pointer,
                                                                  dPooled: dPooled[s].pointer + pooledAt, argmax: stage.argmax + pooledAt,
                                                                  stageInput + at, inChannels: stage.inChannels, outChannels: cout,
                                                                  images: r.count, side: stage.side, batchStride: n)
                        return
                    }
                    accumulateWindowPatchSums(buffers.dWeight.pointer, padded: buffers.padded.pointer, dPooled: dPooled[s].pointer + pooledAt,
                                              argmax: stage.argmax + pooledAt, stageInput + at, inChannels: stage.inChannels,
                                              outChannels: cout, images: r.count, side: stage.side, batchStride: n)
                    return
                }
                pooledBatchNormBackwardApply(dConv + at, dPooled: dPooled[s].pointer + pooledAt, argmax: stage.argmax + pooledAt, x: stage.convOutput.pointer + at, mean: stage.mean.pointer,
                                             rstd: stage.rstd.pointer, gamma: p + stage.bnWeight, sumDy: sumDy, sumDyXhat: sumDyXhat,
                                             channels: cout, images: r.count, plane: plane, batchStride: n, total: stride)
                buffers.dWeight.pointer.update(repeating: 0, count: cout * stage.inChannels * 9)
                // The previous stage's pooled-output gradient (the first stage has none to pass on).
                let dInput: FloatPointer? = s > 0 ? dPooled[s - 1].pointer : nil
                if let dInput { zeroShard(dInput, channels: stage.inChannels, plane: plane, range: r) }
                if let u = stage.transformedWeights, let tile = stage.tile {
                    let v = buffers.transformedInputs
                    let du = buffers.dTransformedWeights.pointer
                    du.update(repeating: 0, count: WinogradSizes.weights(inChannels: stage.inChannels, outChannels: cout, tile: tile))
                    forEachWinogradChunk(of: r, stage: stage) { images in
                        let from = images.lowerBound * plane
                        winogradTransformInput(v.pointer, stageInput + from, channels: stage.inChannels, batch: images.count,
                                               side: stage.side, batchStride: n, tile: tile)
                        winogradConvBackward(dInput.map { $0 + from }, dTransformedWeights: du, productsGradient: buffers.products.pointer,
                                             inputsGradient: buffers.dTransformedInputs.pointer, dConv + from,
                                             transformedInput: v.pointer, transformedWeights: u.pointer, inChannels: stage.inChannels,
                                             outChannels: cout, batch: images.count, side: stage.side, batchStride: n, tile: tile)
                    }
                    winogradTransformWeightsAdjointAccumulate(buffers.dWeight.pointer, du, inChannels: stage.inChannels, outChannels: cout, tile: tile)
                } else {
                    im2col(buffers.col.pointer, stageInput + at, channels: stage.inChannels, batch: r.count,
                           height: stage.side, width: stage.side, batchStride: n)
                    conv2dBackward(dInput.map { $0 + at }, buffers.dWeight.pointer, buffers.dCol.pointer, dConv + at, buffers.col.pointer,
                                   p + stage.convWeight, inChannels: stage.inChannels, outChannels: cout, batch: r.count,
                                   height: stage.side, width: stage.side, batchStride: n)
                }
                if s > 0 { setBackwardSums(stage: s - 1, worker: w, shard: r) }
            }
            let weightCount = cout * stage.inChannels * 9
            if stage.isDirect {
                let windowSums = workerBuffers[0].dWeight.pointer
                for buffers in activeWorkers.dropFirst() {
                    for i in 0..<weightCount { windowSums[i] += buffers.dWeight[i] }
                }
                let k = patchSize
                directConvWeightGradient(g + stage.convWeight, windowPatchSums: windowSums, gram: patchMoments, sums: patchMoments + k * k,
                                         weight: p + stage.convWeight, mean: stage.mean.pointer, rstd: stage.rstd.pointer,
                                         gamma: p + stage.bnWeight, sumDy: sumDy, sumDyXhat: sumDyXhat, outChannels: cout,
                                         patchSize: k, total: stride)
                continue
            }
            for buffers in activeWorkers {
                for i in 0..<weightCount { g[stage.convWeight + i] += buffers.dWeight[i] }
            }
        }
    }

}
