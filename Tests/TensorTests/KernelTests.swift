import Testing
import Tensor
import TestSupport

/// Every kernel's backward pass against central differences, and the fast convolution against
/// its definition. Losses are random projections L = sum(r * out), so dOut = r.
@Suite struct KernelTests {
    let tolerance = 1e-2

    @Test func im2colConvolutionMatchesTheNaiveOne() {
        let (cin, cout, n, h, w) = (3, 5, 2, 6, 7)
        let input = FloatBuffer(GradientCheck.random(cin * n * h * w, seed: 1))
        let weight = FloatBuffer(GradientCheck.random(cout * cin * 9, seed: 2))
        let fast = FloatBuffer(count: cout * n * h * w), naive = FloatBuffer(count: cout * n * h * w)
        let col = FloatBuffer(count: cin * 9 * n * h * w)
        conv2dForward(fast.pointer, col.pointer, input.pointer, weight.pointer, inChannels: cin, outChannels: cout, batch: n, height: h, width: w)
        conv2dNaiveForward(naive.pointer, input.pointer, weight.pointer, inChannels: cin, outChannels: cout, batch: n, height: h, width: w)
        let worst = (0..<fast.count).map { abs(fast[$0] - naive[$0]) }.max()!
        #expect(worst < 1e-5, "max |im2col - naive| = \(worst)")
    }

    @Test func convolutionBackward() {
        let (cin, cout, n, h, w) = (2, 3, 2, 4, 5)
        let input = FloatBuffer(GradientCheck.random(cin * n * h * w, seed: 3))
        let weight = FloatBuffer(GradientCheck.random(cout * cin * 9, seed: 4))
        let r = GradientCheck.random(cout * n * h * w, seed: 5)
        let out = FloatBuffer(count: r.count), col = FloatBuffer(count: cin * 9 * n * h * w), dCol = FloatBuffer(count: col.count)
        func loss() -> Double {
            conv2dForward(out.pointer, col.pointer, input.pointer, weight.pointer, inChannels: cin, outChannels: cout, batch: n, height: h, width: w)
            return GradientCheck.projection(out.pointer, r)
        }
        _ = loss()
        let dInput = FloatBuffer(count: input.count), dWeight = FloatBuffer(count: weight.count), dOut = FloatBuffer(r)
        withExtendedLifetime(dOut) {
            conv2dBackward(dInput.pointer, dWeight.pointer, dCol.pointer, dOut.pointer, col.pointer, weight.pointer,
                           inChannels: cin, outChannels: cout, batch: n, height: h, width: w)
        }
        let byWeight = GradientCheck.worst(values: weight.pointer, count: weight.count, analytic: dWeight.array, loss: loss)
        let byInput = GradientCheck.worst(values: input.pointer, count: input.count, analytic: dInput.array, loss: loss)
        #expect(byWeight.relativeError < tolerance, "weight: \(byWeight)")
        #expect(byInput.relativeError < tolerance, "input: \(byInput)")
    }

    /// Runs the Winograd convolution of `input` by `weight` into `out` (weights transformed first).
    private func winogradForward(_ out: FloatPointer, _ v: FloatBuffer, _ u: FloatBuffer, _ input: ConstFloatPointer,
                                 _ weight: FloatBuffer, cin: Int, cout: Int, n: Int, side: Int, batchStride: Int? = nil, tile: WinogradTile) {
        let m = FloatBuffer(count: WinogradSizes.inputs(channels: cout, batch: n, side: side, tile: tile))
        winogradTransformWeights(u.pointer, weight.pointer, inChannels: cin, outChannels: cout, tile: tile)
        winogradConvForward(out, transformedInput: v.pointer, products: m.pointer, input, transformedWeights: u.pointer,
                            inChannels: cin, outChannels: cout, batch: n, side: side, batchStride: batchStride, tile: tile)
    }

    /// Sides with border and interior tiles: 6 for F(2x2) (3x3 tiles), 12 for F(4x4) (3x3 tiles),
    /// and 16 for F(4x4)'s output blocks moved four tiles at a time (rows of a multiple of 4 tiles).
    /// F(4x4)'s sides move a group of 16 tiles one value at a time (12: three tiles a row), in rows
    /// of two tiles (8, 24) or of four (16); the batches below hold whole groups of 16 tiles, and at
    /// sides 8, 12 and 24 a partial one too.
    static let tilesAndSides: [(WinogradTile, Int)] = [(.two, 6), (.four, 12), (.four, 16), (.four, 8), (.four, 24)]
    /// Images per batch: at side 8 (four tiles an image), enough for a whole group of 16 tiles.
    static func images(_ n: Int, side: Int) -> Int { side == 8 ? 5 : n }

    /// Workers share the weight transform by output channels: each part (11 outputs with 5
    /// inputs, so parts start and end inside F(4x4)'s groups of 16 filters) writes exactly its
    /// own filters' values, and they are the whole transform's.
    @Test(arguments: WinogradTile.allCases) func winogradWeightTransformInParts(tile: WinogradTile) {
        let (cin, cout) = (5, 11)
        let weight = FloatBuffer(GradientCheck.random(cout * cin * 9, seed: 21))
        let whole = FloatBuffer(count: WinogradSizes.weights(inChannels: cin, outChannels: cout, tile: tile))
        winogradTransformWeights(whole.pointer, weight.pointer, inChannels: cin, outChannels: cout, tile: tile)
        for outputs in [0..<3, 3..<7, 7..<11] {
            let part = FloatBuffer(count: whole.count, repeating: .nan)
            winogradTransformWeights(part.pointer, weight.pointer, inChannels: cin, outChannels: cout, tile: tile, outputs: outputs)
            // U is [P, Cout, Cin]: index i belongs to output channel (i % (Cout * Cin)) / Cin.
            let mismatches = (0..<whole.count).filter { i in
                outputs.contains(i % (cout * cin) / cin) ? part[i] != whole[i] : !part[i].isNaN
            }
            #expect(mismatches.isEmpty, "outputs \(outputs): \(mismatches.count) values wrong or written outside the part")
        }
    }

    /// Against the definition, on inputs and weights of unit scale. F(4x4)'s larger transform
    /// constants round more than F(2x2)'s, so its limit is wider (at side 24, the largest of 8,640
    /// differences reached 2.4e-5, with outputs of about 5).
    @Test(arguments: tilesAndSides) func winogradConvolutionMatchesTheNaiveOne(tile: WinogradTile, side: Int) {
        let (cin, cout, n) = (3, 5, Self.images(3, side: side))
        let limit: Float = tile == .two ? 1e-5 : 3e-5
        let input = FloatBuffer(GradientCheck.random(cin * n * side * side, seed: 11))
        let weight = FloatBuffer(GradientCheck.random(cout * cin * 9, seed: 12))
        let fast = FloatBuffer(count: cout * n * side * side), naive = FloatBuffer(count: fast.count)
        let v = FloatBuffer(count: WinogradSizes.inputs(channels: cin, batch: n, side: side, tile: tile))
        let u = FloatBuffer(count: WinogradSizes.weights(inChannels: cin, outChannels: cout, tile: tile))
        winogradForward(fast.pointer, v, u, input.pointer, weight, cin: cin, cout: cout, n: n, side: side, tile: tile)
        conv2dNaiveForward(naive.pointer, input.pointer, weight.pointer, inChannels: cin, outChannels: cout, batch: n, height: side, width: side)
        let worst = (0..<fast.count).map { abs(fast[$0] - naive[$0]) }.max()!
        #expect(worst < limit, "max |winograd - naive| = \(worst)")
        #expect((0..<fast.count).contains { naive[$0] != 0 } && worst > 0, "a real comparison")

        // A shard (images 1..<n of the batch) lands in the same places as in the whole-batch result.
        let shard = FloatBuffer(count: fast.count)
        let shardV = FloatBuffer(count: WinogradSizes.inputs(channels: cin, batch: n - 1, side: side, tile: tile))
        winogradForward(shard.pointer + side * side, shardV, u, input.pointer + side * side, weight, cin: cin, cout: cout, n: n - 1, side: side,
                        batchStride: n, tile: tile)
        let plane = side * side
        let shardWorst = (0..<cout).flatMap { c in (plane..<(n * plane)).map { abs(shard[c * n * plane + $0] - naive[c * n * plane + $0]) } }.max()!
        #expect(shardWorst < limit, "max |winograd shard - naive| = \(shardWorst)")
        #expect((0..<plane).allSatisfy { shard[$0] == 0 }, "a shard writes only its own images")
    }

    @Test(arguments: tilesAndSides) func winogradConvolutionBackward(tile: WinogradTile, side: Int) {
        let (cin, cout, n) = (2, 3, Self.images(2, side: side))
        let input = FloatBuffer(GradientCheck.random(cin * n * side * side, seed: 13))
        let weight = FloatBuffer(GradientCheck.random(cout * cin * 9, seed: 14))
        let r = GradientCheck.random(cout * n * side * side, seed: 15)
        let out = FloatBuffer(count: r.count)
        let v = FloatBuffer(count: WinogradSizes.inputs(channels: cin, batch: n, side: side, tile: tile))
        let u = FloatBuffer(count: WinogradSizes.weights(inChannels: cin, outChannels: cout, tile: tile))
        func loss() -> Double {
            winogradForward(out.pointer, v, u, input.pointer, weight, cin: cin, cout: cout, n: n, side: side, tile: tile)
            return GradientCheck.projection(out.pointer, r)
        }
        _ = loss()
        let dInput = FloatBuffer(count: input.count), dWeight = FloatBuffer(count: weight.count), dOut = FloatBuffer(r)
        let du = FloatBuffer(count: u.count), dm = FloatBuffer(count: WinogradSizes.inputs(channels: cout, batch: n, side: side, tile: tile))
        let dv = FloatBuffer(count: v.count)
        winogradConvBackward(dInput.pointer, dTransformedWeights: du.pointer, productsGradient: dm.pointer, inputsGradient: dv.pointer,
                             dOut.pointer, transformedInput: v.pointer, transformedWeights: u.pointer,
                             inChannels: cin, outChannels: cout, batch: n, side: side, tile: tile)
        winogradTransformWeightsAdjointAccumulate(dWeight.pointer, du.pointer, inChannels: cin, outChannels: cout, tile: tile)
        // The loss is linear in the input and in the weights, so a central difference is exact at
        // any step; a larger one keeps the Float rounding of F(4x4)'s forward pass (its constants
        // reach 8) from swamping the difference (at 1e-2 it was 1.4% off, at 1e-1 it agrees).
        let byWeight = GradientCheck.worst(values: weight.pointer, count: weight.count, analytic: dWeight.array, step: 0.1, loss: loss)
        let byInput = GradientCheck.worst(values: input.pointer, count: input.count, analytic: dInput.array, step: 0.1, loss: loss)
        #expect(byWeight.relativeError < tolerance, "weight: \(byWeight)")
        #expect(byInput.relativeError < tolerance, "input: \(byInput)")

        // The same gradients as the im2col convolution's backward pass.
        let col = FloatBuffer(count: cin * 9 * n * side * side), dCol = FloatBuffer(count: col.count)
        let dInput2 = FloatBuffer(count: input.count), dWeight2 = FloatBuffer(count: weight.count)
        conv2dForward(out.pointer, col.pointer, input.pointer, weight.pointer, inChannels: cin, outChannels: cout, batch: n, height: side, width: side)
        conv2dBackward(dInput2.pointer, dWeight2.pointer, dCol.pointer, dOut.pointer, col.pointer, weight.pointer,
                       inChannels: cin, outChannels: cout, batch: n, height: side, width: side)
        let weightGap = (0..<weight.count).map { abs(dWeight[$0] - dWeight2[$0]) }.max()!
        let inputGap = (0..<input.count).map { abs(dInput[$0] - dInput2[$0]) }.max()!
        #expect(weightGap < 1e-4 && inputGap < 1e-4, "winograd vs im2col gradients: weight \(weightGap), input \(inputGap)")
    }

    /// The transformed weights' gradient through OpenBLAS (12 output channels, which the
    /// kernel of SmallGemm does not take), in its layout [P, Cin, Cout]: the definition's sums.
    @Test func winogradWeightGradientThroughOpenBLAS() {
        let (cin, cout, n, side) = (128, 12, 8, 8)
        let products = WinogradProducts(inChannels: cin, outChannels: cout, batch: n, side: side, tile: .two)
        let tiles = WinogradSizes.tiles(batch: n, side: side, tile: .two), positions = WinogradTile.two.positions
        #expect(!SmallGemm.covers(m: cin, n: cout, k: tiles), "a shape for OpenBLAS")
        let v = FloatBuffer(GradientCheck.random(WinogradSizes.inputs(channels: cin, batch: n, side: side, tile: .two), seed: 16))
        let dm = FloatBuffer(GradientCheck.random(WinogradSizes.inputs(channels: cout, batch: n, side: side, tile: .two), seed: 17))
        let du = FloatBuffer(count: WinogradSizes.weights(inChannels: cin, outChannels: cout, tile: .two), repeating: 0.5)
        products.weightGradient(du.pointer, dm.pointer, v.pointer)
        let vStride = v.count / positions, mStride = dm.count / positions
        var worst: Float = 0
        for k in 0..<positions {
            for co in 0..<cout {
                for ci in 0..<cin {
                    var sum: Float = 0.5
                    for t in 0..<tiles { sum += dm[k * mStride + co * tiles + t] * v[k * vStride + ci * tiles + t] }
                    worst = max(worst, abs(du[(k * cin + ci) * cout + co] - sum))
                }
            }
        }
        #expect(worst < 1e-4, "max |OpenBLAS - definition| = \(worst)")
    }

    @Test func batchNormBackwardAndRunningStatistics() {
        let (c, spatial) = (3, 10)
        let input = FloatBuffer(GradientCheck.random(c * spatial, seed: 6, scale: 2))
        let gamma = FloatBuffer([1.5, -0.5, 0.8]), beta = FloatBuffer([0.1, 0.2, -0.3])
        let r = GradientCheck.random(c * spatial, seed: 7)
        let out = FloatBuffer(count: r.count), xhat = FloatBuffer(count: r.count), rstd = FloatBuffer(count: c)
        let runningMean = FloatBuffer(count: c), runningVariance = FloatBuffer(count: c, repeating: 1)
        let mean = FloatBuffer(count: c), sums = FloatBuffer(count: 2 * c)
        func loss() -> Double {
            batchNormForward(out.pointer, xhat.pointer, rstd.pointer, mean.pointer, runningMean.pointer, runningVariance.pointer,
                             input.pointer, gamma.pointer, beta.pointer, channels: c, spatial: spatial)
            return GradientCheck.projection(out.pointer, r)
        }
        _ = loss()
        // Each channel of the output has mean beta and standard deviation |gamma| (up to epsilon).
        for channel in 0..<c {
            let values = (0..<spatial).map { Double(out[channel * spatial + $0]) }
            let mean = values.reduce(0, +) / Double(spatial)
            let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(spatial)).squareRoot()
            #expect(abs(mean - Double(beta[channel])) < 1e-5 && abs(sd - Double(abs(gamma[channel]))) < 1e-3)
        }
        let dInput = FloatBuffer(count: input.count), dGamma = FloatBuffer(count: c), dBeta = FloatBuffer(count: c)
        let dOut = FloatBuffer(r)
        withExtendedLifetime(dOut) {
            batchNormBackward(dInput.pointer, dGamma.pointer, dBeta.pointer, sums.pointer, dOut.pointer, xhat.pointer, rstd.pointer,
                              gamma.pointer, channels: c, spatial: spatial)
        }
        for (name, buffer, analytic) in [("input", input, dInput), ("gamma", gamma, dGamma), ("beta", beta, dBeta)] {
            let worst = GradientCheck.worst(values: buffer.pointer, count: buffer.count, analytic: analytic.array, step: 1e-3, loss: loss)
            #expect(worst.relativeError < tolerance, "\(name): \(worst)")
        }
        // Inference with running statistics equal to the batch's reproduces the training output.
        let batchMean = FloatBuffer(count: c), batchVariance = FloatBuffer(count: c)
        for channel in 0..<c {
            let values = (0..<spatial).map { input[channel * spatial + $0] }
            let mean = values.reduce(0, +) / Float(spatial)
            batchMean[channel] = mean
            batchVariance[channel] = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(spatial)
        }
        let inferred = FloatBuffer(count: r.count)
        _ = loss()
        batchNormInference(inferred.pointer, input.pointer, gamma.pointer, beta.pointer, batchMean.pointer, batchVariance.pointer, channels: c, spatial: spatial)
        let worst = (0..<r.count).map { abs(inferred[$0] - out[$0]) }.max()!
        #expect(worst < 1e-4, "inference vs training output: \(worst)")
    }

    @Test func reluAndMaxPoolBackward() {
        // Values kept away from ReLU's kink and from ties in the pooling windows.
        var values = GradientCheck.random(2 * 4 * 6, seed: 8)
        for i in values.indices { values[i] = (values[i] < 0 ? -0.2 : 0.2) + values[i] + Float(i) * 1e-3 }
        let input = FloatBuffer(values)
        let r = GradientCheck.random(2 * 2 * 3, seed: 9)
        let activated = FloatBuffer(count: input.count), pooled = FloatBuffer(count: r.count)
        let argmax = UnsafeMutablePointer<Int32>.allocate(capacity: r.count)
        defer { argmax.deallocate() }
        func loss() -> Double {
            reluForward(activated.pointer, input.pointer, count: input.count)
            maxPoolForward(pooled.pointer, argmax, activated.pointer, planes: 2, height: 4, width: 6)
            return GradientCheck.projection(pooled.pointer, r)
        }
        _ = loss()
        let dActivated = FloatBuffer(count: input.count), dInput = FloatBuffer(count: input.count)
        let dOut = FloatBuffer(r)
        withExtendedLifetime(dOut) { maxPoolBackward(dActivated.pointer, dOut.pointer, argmax, planes: 2, height: 4, width: 6) }
        reluBackward(dInput.pointer, dActivated.pointer, activated.pointer, count: input.count)
        let worst = GradientCheck.worst(values: input.pointer, count: input.count, analytic: dInput.array, step: 1e-3, loss: loss)
        #expect(worst.relativeError < tolerance, "\(worst)")
        #expect(dInput.array.filter { $0 != 0 }.count <= r.count, "one input per window gets the gradient")
    }

    /// The fused paths the network uses against the separate kernels they replace.
    @Test func fusedBatchNormReluAndPoolReluBackwardMatchTheSeparateKernels() {
        let (c, n, h, w) = (2, 2, 4, 26)  // 13 windows per row: eight and four as SIMD lanes, one alone
        let spatial = n * h * w
        let input = FloatBuffer(GradientCheck.random(c * spatial, seed: 40, scale: 2))
        let gamma = FloatBuffer([1.2, -0.7]), beta = FloatBuffer([-0.1, 0.3])
        let fused = FloatBuffer(count: input.count), plain = FloatBuffer(count: input.count), relu = FloatBuffer(count: input.count)
        let xhat = FloatBuffer(count: input.count), rstd = FloatBuffer(count: c)
        let mean = FloatBuffer(count: c), variance = FloatBuffer(count: c, repeating: 1), batchMean = FloatBuffer(count: c)
        batchNormForward(fused.pointer, xhat.pointer, rstd.pointer, batchMean.pointer, mean.pointer, variance.pointer, input.pointer,
                         gamma.pointer, beta.pointer, channels: c, spatial: spatial, relu: true)
        batchNormForward(plain.pointer, xhat.pointer, rstd.pointer, batchMean.pointer, mean.pointer, variance.pointer, input.pointer,
                         gamma.pointer, beta.pointer, channels: c, spatial: spatial)
        reluForward(relu.pointer, plain.pointer, count: input.count)
        #expect(fused.array == relu.array)
        #expect(fused.array.contains(0) && fused.array.contains { $0 > 0 })

        // The separate layers: batch norm + ReLU, pool, pool backward, ReLU backward.
        let outCount = c * n * (h / 2) * (w / 2)
        let pooled = FloatBuffer(count: outCount), argmax = UnsafeMutablePointer<Int32>.allocate(capacity: outCount)
        defer { argmax.deallocate() }
        maxPoolForward(pooled.pointer, argmax, fused.pointer, planes: c * n, height: h, width: w)
        let dOut = FloatBuffer(GradientCheck.random(outCount, seed: 41))
        let routed = FloatBuffer(count: input.count), gated = FloatBuffer(count: input.count)
        maxPoolBackward(routed.pointer, dOut.pointer, argmax, planes: c * n, height: h, width: w)
        reluBackward(gated.pointer, routed.pointer, fused.pointer, count: input.count)

        // One sweep, run as two shards of one image each: the same pooled values.
        let onePass = FloatBuffer(count: outCount)
        let onePassArgmax = UnsafeMutablePointer<Int32>.allocate(capacity: outCount)
        defer { onePassArgmax.deallocate() }
        let windowInput = FloatBuffer(count: outCount)
        let pooledPlane = (h / 2) * (w / 2)
        for image in 0..<n {
            batchNormReluPool(onePass.pointer + image * pooledPlane, onePassArgmax + image * pooledPlane,
                              windowInput: windowInput.pointer + image * pooledPlane, input.pointer + image * h * w, center: batchMean.pointer, rstd: rstd.pointer,
                              gamma: gamma.pointer, beta: beta.pointer, channels: c, images: 1, height: h, width: w, batchStride: n)
        }
        #expect(onePass.array == pooled.array)
        #expect(onePass.array.contains(0) && onePass.array.contains { $0 > 0 }, "some windows are gated, some not")
        #expect((0..<outCount).allSatisfy { windowInput[$0] == input[($0 / pooledPlane) * h * w + Int(onePassArgmax[$0])] })

        // The separate backward passes: pool, ReLU, batch norm.
        let expected = FloatBuffer(count: input.count), dGamma = FloatBuffer(count: c), dBeta = FloatBuffer(count: c)
        let sums = FloatBuffer(count: 2 * c)
        batchNormBackward(expected.pointer, dGamma.pointer, dBeta.pointer, sums.pointer, gated.pointer, xhat.pointer, rstd.pointer,
                          gamma.pointer, channels: c, spatial: spatial)
        // The fused one, in the same two shards: sums over the pooled windows, then dx written.
        let sumDy = FloatBuffer(count: c), sumDyXhat = FloatBuffer(count: c)
        for image in 0..<n {
            gateAndSumPooledGradient(sumDy.pointer, sumDyXhat.pointer, dPooled: dOut.pointer + image * pooledPlane,
                                        pooled: onePass.pointer + image * pooledPlane, windowInput: windowInput.pointer + image * pooledPlane,
                                        mean: batchMean.pointer, rstd: rstd.pointer, channels: c, images: 1, plane: h * w, batchStride: n)
        }
        #expect((0..<outCount).allSatisfy { onePass[$0] > 0 || dOut[$0] == 0 }, "the sums gate the pooled gradient in place")
        for channel in 0..<c {
            #expect(abs(sumDy[channel] - dBeta[channel]) < 1e-5 && abs(sumDyXhat[channel] - dGamma[channel]) < 1e-5)
        }
        let fusedGradient = FloatBuffer(count: input.count, repeating: .nan)  // written, not accumulated
        for image in 0..<n {
            pooledBatchNormBackwardApply(fusedGradient.pointer + image * h * w, dPooled: dOut.pointer + image * pooledPlane, argmax: onePassArgmax + image * pooledPlane,
                                         x: input.pointer + image * h * w, mean: batchMean.pointer, rstd: rstd.pointer,
                                         gamma: gamma.pointer, sumDy: sumDy.pointer, sumDyXhat: sumDyXhat.pointer,
                                         channels: c, images: 1, plane: h * w, batchStride: n, total: spatial)
        }
        let gap = (0..<input.count).map { abs(fusedGradient[$0] - expected[$0]) }.max()!
        #expect(gap < 1e-5, "fused against separate backward passes: \(gap)")

    }

    /// Batch norm's statistics from one sweep of shifted moments, in shards, against the two-pass
    /// mean and variance, for shifts at, near and far from the mean; the running statistics too.
    @Test(arguments: [0, 0.3, -4] as [Float])
    func shiftedMomentsGiveTheTwoPassStatistics(shiftFromMean: Float) {
        let (c, n, plane) = (3, 4, 1100)  // a channel's shard spans more than one 4,096-value block
        let spatial = n * plane
        var values = GradientCheck.random(c * spatial, seed: 42, scale: 0.5)
        for i in values.indices { values[i] += Float(i / spatial) + 2 }  // channel means 2, 3, 4
        let input = FloatBuffer(values)
        let out = FloatBuffer(count: input.count), xhat = FloatBuffer(count: input.count)
        let twoPassRstd = FloatBuffer(count: c), twoPassMean = FloatBuffer(count: c)
        let twoPassRunningMean = FloatBuffer(count: c), twoPassRunningVariance = FloatBuffer(count: c, repeating: 1)
        let gamma = FloatBuffer(count: c, repeating: 1), beta = FloatBuffer(count: c)
        batchNormForward(out.pointer, xhat.pointer, twoPassRstd.pointer, twoPassMean.pointer, twoPassRunningMean.pointer,
                         twoPassRunningVariance.pointer, input.pointer, gamma.pointer, beta.pointer, channels: c, spatial: spatial)

        let runningMean = FloatBuffer((0..<c).map { twoPassMean[$0] + shiftFromMean })
        let runningVariance = FloatBuffer(count: c, repeating: 1)
        let startMean = runningMean.array
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * c)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0, count: 2 * c)
        for shard in [0..<3, 3..<4] {
            channelShiftedMoments(sums, sums + c, input.pointer + shard.lowerBound * plane, shift: runningMean.pointer,
                                  channels: c, count: shard.count * plane, channelStride: spatial)
        }
        let mean = FloatBuffer(count: c), rstd = FloatBuffer(count: c)
        batchNormStatistics(mean.pointer, rstd.pointer, runningMean.pointer, runningVariance.pointer, shiftedSums: sums,
                            shiftedSquares: sums + c, shift: runningMean.pointer, channels: c, total: spatial)
        for channel in 0..<c {
            #expect(abs(mean[channel] - twoPassMean[channel]) < 1e-5, "mean \(mean[channel]) vs \(twoPassMean[channel])")
            #expect(abs(rstd[channel] / twoPassRstd[channel] - 1) < 1e-4, "rstd \(rstd[channel]) vs \(twoPassRstd[channel])")
            // The running mean moves a tenth of the way from where it was (the shift) to the batch's.
            let expectedRunning = 0.9 * startMean[channel] + 0.1 * mean[channel]
            #expect(abs(runningMean[channel] - expectedRunning) < 1e-5)
            #expect(abs(runningVariance[channel] - twoPassRunningVariance[channel]) < 1e-4)
        }
    }

    @Test func linearLayerBackward() {
        let (n, fin, fout) = (3, 5, 4)
        let input = FloatBuffer(GradientCheck.random(n * fin, seed: 10))
        let weight = FloatBuffer(GradientCheck.random(fout * fin, seed: 11)), bias = FloatBuffer(GradientCheck.random(fout, seed: 12))
        let r = GradientCheck.random(n * fout, seed: 13)
        let out = FloatBuffer(count: r.count)
        func loss() -> Double {
            linearForward(out.pointer, input.pointer, weight.pointer, bias.pointer, batch: n, inFeatures: fin, outFeatures: fout)
            return GradientCheck.projection(out.pointer, r)
        }
        _ = loss()
        let dInput = FloatBuffer(count: input.count), dWeight = FloatBuffer(count: weight.count), dBias = FloatBuffer(count: fout)
        let dOut = FloatBuffer(r)
        withExtendedLifetime(dOut) {
            Tensor.linearBackward(dInput.pointer, dWeight.pointer, dBias.pointer, dOut.pointer, input.pointer, weight.pointer,
                                  batch: n, inFeatures: fin, outFeatures: fout)
        }
        for (name, buffer, analytic) in [("input", input, dInput), ("weight", weight, dWeight), ("bias", bias, dBias)] {
            let worst = GradientCheck.worst(values: buffer.pointer, count: buffer.count, analytic: analytic.array, loss: loss)
            #expect(worst.relativeError < tolerance, "\(name): \(worst)")
        }
    }

    /// Sizes that SmallGemm takes: the forward product with the weight transposed in two parts of
    /// 16 outputs (as two workers make it), the weight gradient in two parts of outputs, and the
    /// input gradient, against their definitions.
    @Test(.enabled(if: SmallGemm.isAvailable, "this build leaves every product to OpenBLAS")) func linearLayerOnSmallGemm() {
        let (n, fin, fout) = (16, 64, 32)
        let input = GradientCheck.random(n * fin, seed: 16), weight = GradientCheck.random(fout * fin, seed: 17)
        let bias = GradientCheck.random(fout, seed: 18), dOut = GradientCheck.random(n * fout, seed: 19)
        let transposed = FloatBuffer(count: fin * fout, repeating: .nan), out = FloatBuffer(count: n * fout)
        let dWeight = FloatBuffer(count: fout * fin, repeating: 0.5), dInput = FloatBuffer(count: n * fin, repeating: 0.25)
        let dBias = FloatBuffer(count: fout)
        input.withUnsafeBufferPointer { x in weight.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { b in
            dOut.withUnsafeBufferPointer { g in
                for part in [0..<16, 16..<32] {
                    linearTransposeWeight(transposed.pointer, w.baseAddress!, inFeatures: fin, outFeatures: fout, outputs: part)
                    linearWeightGradient(dWeight.pointer, dBias.pointer, g.baseAddress!, x.baseAddress!, batch: n, inFeatures: fin,
                                         outFeatures: fout, outputs: part)
                }
                linearForward(out.pointer, x.baseAddress!, w.baseAddress!, b.baseAddress!, batch: n, inFeatures: fin, outFeatures: fout,
                              transposedWeight: UnsafePointer(transposed.pointer))
                linearInputGradient(dInput.pointer, g.baseAddress!, w.baseAddress!, rows: 0..<n, inFeatures: fin, outFeatures: fout)
            }
        } } }
        func expectClose(_ name: String, _ got: FloatBuffer, _ expected: (Int) -> Double) {
            // Every value checked: max() would pass over a NaN (an entry never written).
            let gaps = (0..<got.count).map { abs(Double(got[$0]) - expected($0)) }
            #expect(gaps.allSatisfy { $0 < 1e-5 }, "\(name): largest difference \(gaps.max()!), \(gaps.filter(\.isNaN).count) NaN")
        }
        expectClose("output", out) { i in
            let (row, o) = i.quotientAndRemainder(dividingBy: fout)
            return Double(bias[o]) + (0..<fin).reduce(0.0) { $0 + Double(input[row * fin + $1]) * Double(weight[o * fin + $1]) }
        }
        expectClose("weight gradient", dWeight) { i in
            let (o, f) = i.quotientAndRemainder(dividingBy: fin)
            return 0.5 + (0..<n).reduce(0.0) { $0 + Double(dOut[$1 * fout + o]) * Double(input[$1 * fin + f]) }
        }
        expectClose("bias gradient", dBias) { o in (0..<n).reduce(0.0) { $0 + Double(dOut[$1 * fout + o]) } }
        expectClose("input gradient", dInput) { i in
            let (row, f) = i.quotientAndRemainder(dividingBy: fin)
            return 0.25 + (0..<fout).reduce(0.0) { $0 + Double(dOut[row * fout + $1]) * Double(weight[$1 * fin + f]) }
        }
    }

    @Test func layoutConversionIsItsOwnAdjoint() {
        let (c, n, s) = (3, 4, 5)
        let x = FloatBuffer(GradientCheck.random(c * n * s, seed: 14)), y = FloatBuffer(GradientCheck.random(c * n * s, seed: 15))
        let rows = FloatBuffer(count: x.count), back = FloatBuffer(count: x.count)
        channelMajorToRows(rows.pointer, x.pointer, channels: c, batch: n, spatial: s)
        rowsToChannelMajorAccumulate(back.pointer, y.pointer, channels: c, batch: n, spatial: s)
        // <A x, y> == <x, A^T y>
        let left = GradientCheck.projection(rows.pointer, y.array), right = GradientCheck.projection(x.pointer, back.array)
        #expect(abs(left - right) < 1e-4)
        #expect(rows[1 * c * s + 2 * s + 3] == x[(2 * n + 1) * s + 3], "sample 1, channel 2, position 3")
    }

    @Test func adamStepMatchesTheFormula() {
        let store = ParameterStore(shapes: [("a", [2]), ("b", [1])])
        store.values.pointer.update(from: [1, -2, 0.5], count: 3)
        store.gradients.pointer.update(from: [0.1, -0.3, 0], count: 3)
        Adam(learningRate: 0.01).update(store, step: 1)
        // At step 1 the bias-corrected update is lr * g / (|g| + eps): a step of lr against the sign.
        #expect(abs(store.values[0] - 0.99) < 1e-6 && abs(store.values[1] - -1.99) < 1e-6 && store.values[2] == 0.5)
        #expect(store.entry("b").offset == 2 && store.count == 3)
    }

    /// Workers share the parameters: shards that cut the scaled range or lie inside it, a range
    /// that runs past the end, and no range give the same update as one worker, to the bit.
    @Test(arguments: [(2, 10..<21), (3, 10..<21), (7, 10..<21), (3, 30..<50), (2, nil)] as [(Int, Range<Int>?)])
    func adamUpdateIsTheSameWithWorkers(workers: Int, scaledRange: Range<Int>?) {
        let count = 37, shapes = [("w", [count])]
        let one = ParameterStore(shapes: shapes), shared = ParameterStore(shapes: shapes)
        let start = GradientCheck.random(count, seed: 31)
        one.values.pointer.update(from: start, count: count)
        shared.values.pointer.update(from: start, count: count)
        let adam = Adam(learningRate: 0.01)
        for step in 1...3 {
            let g = GradientCheck.random(count, seed: UInt64(40 + step))
            one.gradients.pointer.update(from: g, count: count)
            shared.gradients.pointer.update(from: g, count: count)
            let scaled = scaledRange.map { (range: $0, factor: Float(3)) }
            adam.update(one, step: step, scaled: scaled)
            adam.update(shared, step: step, scaled: scaled, workers: workers)
        }
        #expect(shared.values.array == one.values.array)
        #expect(shared.firstMoments.array == one.firstMoments.array && shared.secondMoments.array == one.secondMoments.array)
    }

    @Test func adamScalesTheLearningRateOfARange() {
        let store = ParameterStore(shapes: [("net", [2]), ("masks", [2])])
        store.values.pointer.update(from: [1, 1, 1, 1], count: 4)
        store.gradients.pointer.update(from: [0.5, 0.5, 0.5, 0.5], count: 4)
        Adam(learningRate: 0.01).update(store, step: 1, scaled: (range: 2..<4, factor: 10))
        #expect(abs(store.values[0] - 0.99) < 1e-6 && abs(store.values[1] - 0.99) < 1e-6)
        #expect(abs(store.values[2] - 0.9) < 1e-5 && abs(store.values[3] - 0.9) < 1e-5)
    }
}
