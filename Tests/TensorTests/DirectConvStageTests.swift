import Testing
import Tensor
import TestSupport

/// The direct first stage (statistics and weight gradient from the input's patches, the output
/// pooled as it is made) against the kernels it replaced: the convolution by its definition, the
/// two-pass batch norm, the fused pool and the dense backward pass with im2col's weight gradient.
/// Run in two shards (three images, then two) as two workers would, in chunks of two images (the
/// last chunk of the first shard partial), one or three input channels, and sides whose rows end
/// in a partial block of eight values (6, 10) or none (8, 16), or hold whole groups of sixteen
/// windows (32, 64), where a build for AVX-512 also checks DirectStageRows' kernels.
@Suite struct DirectConvStageTests {
    static let shapes: [(Int, Int)] = [(1, 8), (1, 10), (3, 6), (3, 16), (1, 32), (3, 32), (1, 64)]

    @Test(arguments: shapes) func directStageMatchesTheSeparateKernels(inChannels cin: Int, side: Int) {
        let (cout, n) = (5, 5)
        let plane = side * side, pooledPlane = plane / 4, k = cin * 9, spatial = n * plane, shards = [0..<3, 3..<5]
        let input = FloatBuffer(GradientCheck.random(cin * spatial, seed: 60).map { ($0 + 1) / 2 })  // pixels in [0, 1]
        let weight = FloatBuffer(GradientCheck.random(cout * k, seed: 61, scale: 0.5))
        // Scales of both signs: a negative one pools each window's minimum of x.
        let gamma = FloatBuffer(GradientCheck.random(cout, seed: 62).map { $0 + ($0 < 0 ? -0.5 : 0.5) })
        let beta = FloatBuffer(GradientCheck.random(cout, seed: 63))
        #expect(gamma.array.contains { $0 < 0 } && gamma.array.contains { $0 > 0 })

        // The reference: the output by definition, its two-pass statistics, then the fused pool.
        let x = FloatBuffer(count: cout * spatial)
        conv2dNaiveForward(x.pointer, input.pointer, weight.pointer, inChannels: cin, outChannels: cout, batch: n, height: side, width: side)
        let normalised = FloatBuffer(count: x.count), xhat = FloatBuffer(count: x.count)
        let rstd = FloatBuffer(count: cout), mean = FloatBuffer(count: cout)
        let runningMean = FloatBuffer(count: cout), runningVariance = FloatBuffer(count: cout, repeating: 1)
        batchNormForward(normalised.pointer, xhat.pointer, rstd.pointer, mean.pointer, runningMean.pointer, runningVariance.pointer,
                         x.pointer, gamma.pointer, beta.pointer, channels: cout, spatial: spatial)
        let pooled = FloatBuffer(count: cout * n * pooledPlane), windowInput = FloatBuffer(count: pooled.count)
        let argmax = UnsafeMutablePointer<Int32>.allocate(capacity: pooled.count)
        defer { argmax.deallocate() }
        batchNormReluPool(pooled.pointer, argmax, windowInput: windowInput.pointer, x.pointer, center: mean.pointer, rstd: rstd.pointer,
                          gamma: gamma.pointer, beta: beta.pointer, channels: cout, images: n, height: side, width: side, batchStride: n)

        // Statistics from the patches, shard by shard; the shift is where the running mean starts.
        let moments = UnsafeMutablePointer<Double>.allocate(capacity: k * k + k + 2 * cout)
        defer { moments.deallocate() }
        moments.initialize(repeating: 0, count: k * k + k + 2 * cout)
        let padded = FloatBuffer(count: PaddedImage.count(channels: cin, side: side))
        for shard in shards {
            accumulatePatchMoments(moments, moments + k * k, padded: padded.pointer, input.pointer + shard.lowerBound * plane,
                                   channels: cin, images: shard.count, side: side, batchStride: n)
        }
        let shift = FloatBuffer(GradientCheck.random(cout, seed: 64))
        let shifted = moments + k * k + k
        patchConvolutionMoments(shifted, shifted + cout, gram: moments, sums: moments + k * k, weight: weight.pointer,
                                shift: shift.pointer, outChannels: cout, patchSize: k, total: spatial)
        let directMean = FloatBuffer(count: cout), directRstd = FloatBuffer(count: cout)
        let directRunningVariance = FloatBuffer(count: cout, repeating: 1)
        batchNormStatistics(directMean.pointer, directRstd.pointer, shift.pointer, directRunningVariance.pointer,
                            shiftedSums: shifted, shiftedSquares: shifted + cout, shift: shift.pointer, channels: cout, total: spatial)
        for c in 0..<cout {
            #expect(abs(directMean[c] - mean[c]) < 1e-5, "mean \(directMean[c]) vs \(mean[c])")
            #expect(abs(directRstd[c] / rstd[c] - 1) < 1e-4, "rstd \(directRstd[c]) vs \(rstd[c])")
        }

        // The forward pass in chunks of two images within each shard, and by rows of windows.
        let columns = FloatBuffer(count: k * 2 * plane), output = FloatBuffer(count: cout * 2 * plane)
        let phases = FloatBuffer(count: DirectStageRows.phaseCount(channels: cin, side: side))
        let rows = DirectStageRows.applies(side: side)
        #expect(rows == (SmallGemm.isAvailable && side % 32 == 0), "the row kernels run where the build and side allow")
        for byRows in rows ? [false, true] : [false] {
            let directPooled = FloatBuffer(count: pooled.count), directWindowInput = FloatBuffer(count: pooled.count)
            let directArgmax = UnsafeMutablePointer<Int32>.allocate(capacity: pooled.count)
            defer { directArgmax.deallocate() }
            for shard in shards {
                let at = shard.lowerBound * pooledPlane, shardInput = input.pointer + shard.lowerBound * plane
                if byRows {
                    DirectStageRows.convolveNormalisePool(directPooled.pointer + at, directArgmax + at, windowInput: directWindowInput.pointer + at,
                                                          padded: padded.pointer, phases: phases.pointer, shardInput, weight: weight.pointer,
                                                          center: mean.pointer, rstd: rstd.pointer, gamma: gamma.pointer, beta: beta.pointer,
                                                          inChannels: cin, outChannels: cout, images: shard.count, side: side, batchStride: n)
                } else {
                    directConvBatchNormReluPool(directPooled.pointer + at, directArgmax + at, windowInput: directWindowInput.pointer + at,
                                                columns: columns.pointer, output: output.pointer, shardInput,
                                                weight: weight.pointer, center: mean.pointer, rstd: rstd.pointer, gamma: gamma.pointer,
                                                beta: beta.pointer, inChannels: cin, outChannels: cout, images: shard.count, side: side,
                                                batchStride: n, chunk: 2)
                }
            }
            let pooledGap = (0..<pooled.count).map { abs(directPooled[$0] - pooled[$0]) }.max()!
            let inputGap = (0..<pooled.count).map { abs(directWindowInput[$0] - windowInput[$0]) }.max()!
            #expect(pooledGap < 1e-5, "pooled (by rows: \(byRows)): max difference \(pooledGap)")
            #expect(inputGap < 1e-5, "window inputs (by rows: \(byRows)): max difference \(inputGap)")
            #expect((0..<pooled.count).allSatisfy { directArgmax[$0] == argmax[$0] }, "the same window maxima (by rows: \(byRows))")
        }
        #expect(pooled.array.contains(0) && pooled.array.contains { $0 > 0 }, "some windows are gated, some not")

        // Backward: the dense gradient through batch norm, then im2col's weight gradient...
        let dPooled = FloatBuffer(GradientCheck.random(pooled.count, seed: 65))
        let sums = FloatBuffer(count: 2 * cout)
        gateAndSumPooledGradient(sums.pointer, sums.pointer + cout, dPooled: dPooled.pointer, pooled: pooled.pointer,
                                 windowInput: windowInput.pointer, mean: mean.pointer, rstd: rstd.pointer, channels: cout,
                                 images: n, plane: plane, batchStride: n)
        let dx = FloatBuffer(count: x.count)
        pooledBatchNormBackwardApply(dx.pointer, dPooled: dPooled.pointer, argmax: argmax, x: x.pointer, mean: mean.pointer,
                                     rstd: rstd.pointer, gamma: gamma.pointer, sumDy: sums.pointer, sumDyXhat: sums.pointer + cout,
                                     channels: cout, images: n, plane: plane, batchStride: n, total: spatial)
        let col = FloatBuffer(count: k * spatial), dCol = FloatBuffer(count: col.count)
        im2col(col.pointer, input.pointer, channels: cin, batch: n, height: side, width: side)
        let expected = FloatBuffer(count: weight.count)
        conv2dBackward(nil, expected.pointer, dCol.pointer, dx.pointer, col.pointer, weight.pointer,
                       inChannels: cin, outChannels: cout, batch: n, height: side, width: side)
        // ... against the window sums of each shard and the batch's patch terms.
        let size = expected.array.map { Double($0 * $0) }.reduce(0, +).squareRoot()
        #expect(size > 0.1, "the weights get a gradient")
        for byRows in rows ? [false, true] : [false] {
            let windowSums = FloatBuffer(count: weight.count), direct = FloatBuffer(count: weight.count, repeating: 0.25)
            for shard in shards {
                let at = shard.lowerBound * pooledPlane, shardInput = input.pointer + shard.lowerBound * plane
                if byRows {
                    DirectStageRows.accumulateWindowPatchSums(windowSums.pointer, padded: padded.pointer, phases: phases.pointer,
                                                              dPooled: dPooled.pointer + at, argmax: argmax + at, shardInput, inChannels: cin,
                                                              outChannels: cout, images: shard.count, side: side, batchStride: n)
                } else {
                    accumulateWindowPatchSums(windowSums.pointer, padded: padded.pointer, dPooled: dPooled.pointer + at, argmax: argmax + at,
                                              shardInput, inChannels: cin, outChannels: cout, images: shard.count, side: side, batchStride: n)
                }
            }
            directConvWeightGradient(direct.pointer, windowPatchSums: windowSums.pointer, gram: moments, sums: moments + k * k,
                                     weight: weight.pointer, mean: mean.pointer, rstd: rstd.pointer, gamma: gamma.pointer,
                                     sumDy: sums.pointer, sumDyXhat: sums.pointer + cout, outChannels: cout, patchSize: k, total: spatial)
            let gap = (0..<weight.count).map { Double(direct[$0] - 0.25 - expected[$0]) }.map { $0 * $0 }.reduce(0, +).squareRoot()
            #expect(gap / size < 1e-4, "weight gradient accumulated (by rows: \(byRows)): relative difference \(gap / size)")
        }
    }
}
