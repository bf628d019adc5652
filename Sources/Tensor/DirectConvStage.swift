/// The first stage (one or three input channels) as one fused layer: convolution, batch norm,
/// ReLU and max-pool, whose convolution output is never stored.
///
/// Batch norm's statistics come from the input's patches (PatchMoments.swift); the forward pass
/// then makes the output a few images at a time into scratch that stays in cache and pools it at
/// once. The weight gradient needs no dense gradient of the output either. Batch norm's input
/// gradient is dx = gamma rstd (dy - sumDy / M - xhat sumDyXhat / M), and the weight gradient is
/// the sum of dx times each position's patch P, so
///
///     dW[c] = gamma rstd (sum dy P - (sumDy / M) S - (sumDyXhat / M) rstd (G w[c] - mean S))
///
/// with S and G the patches' sums and Gram matrix from the forward pass; dy is nonzero only at
/// each window's maximum (and only where the pooled output is positive), so the first sum visits
/// the pooled windows alone. This replaced a stored output of the network's largest size, a pass
/// for its statistics, a dense gradient written and read back, and a GEMM over all positions.
/// Where DirectStageRows applies (an AVX-512 build, rows of whole groups of sixteen windows), the
/// network uses its kernels for the forward pass and the window sums instead of the two below.

/// The forward pass of the stage on a shard, once the statistics are known: for `chunk` images at
/// a time, im2col into `columns` [K, chunk * side^2] and the convolution into `output`
/// [Cout, chunk, side, side], then batchNormReluPool from there into `pooled`, `argmax` and
/// `windowInput` (pointers at the shard's first pooled value of channel 0, as there).
public func directConvBatchNormReluPool(_ pooled: FloatPointer, _ argmax: UnsafeMutablePointer<Int32>, windowInput: FloatPointer,
                                        columns: FloatPointer, output: FloatPointer, _ input: ConstFloatPointer,
                                        weight: ConstFloatPointer, center: ConstFloatPointer, rstd: ConstFloatPointer,
                                        gamma: ConstFloatPointer, beta: ConstFloatPointer, inChannels: Int, outChannels: Int,
                                        images: Int, side: Int, batchStride: Int, chunk: Int) {
    let plane = side * side, pooledPlane = plane / 4, step = max(1, chunk)
    for start in stride(from: 0, to: images, by: step) {
        let count = min(step, images - start)
        conv2dForward(output, columns, input + start * plane, weight, inChannels: inChannels, outChannels: outChannels,
                      batch: count, height: side, width: side, batchStride: batchStride, outputBatchStride: count)
        let at = start * pooledPlane
        batchNormReluPool(pooled + at, argmax + at, windowInput: windowInput + at, output, center: center, rstd: rstd,
                          gamma: gamma, beta: beta, channels: outChannels, images: count, height: side, width: side,
                          batchStride: batchStride, inputBatchStride: count)
    }
}

/// sums[c, K] += over the shard's pooled windows of channel c, dPooled (gated) times the input
/// patch at the window's maximum (K = 9 * inChannels, in the weights' order). Pointers as in
/// directConvBatchNormReluPool; `padded` is scratch of PaddedImage.count.
public func accumulateWindowPatchSums(_ sums: FloatPointer, padded: FloatPointer, dPooled: ConstFloatPointer,
                                      argmax: UnsafePointer<Int32>, _ input: ConstFloatPointer, inChannels: Int,
                                      outChannels: Int, images: Int, side: Int, batchStride: Int) {
    let paddedSide = PaddedImage.side(side), paddedPlane = paddedSide * paddedSide
    let outSide = side / 2, pooledPlane = outSide * outSide, k = inChannels * 9
    padded.update(repeating: 0, count: PaddedImage.count(channels: inChannels, side: side))
    for n in 0..<images {
        padImage(padded, input, image: n, channels: inChannels, side: side, batchStride: batchStride)
        for c in 0..<outChannels {
            let first = (c * batchStride + n) * pooledPlane
            let gradients = dPooled + first, maxima = argmax + first
            for ci in 0..<inChannels {
                let channel = UnsafePointer(padded + ci * paddedPlane)
                // A patch's three rows as four lanes each; the fourth lane (the next value) is dropped.
                var row0 = SIMD4<Float>(), row1 = SIMD4<Float>(), row2 = SIMD4<Float>()
                for oy in 0..<outSide {
                    for ox in 0..<outSide {
                        let o = oy * outSide + ox, g = gradients[o]
                        // The maximum's place in its window, from its index in the plane: delta is
                        // 0, 1, side or side + 1, and a padded row is two longer (no branch: half the
                        // windows' maxima are in the lower row, at random).
                        let delta = Int(maxima[o]) &- (2 * oy * side + 2 * ox)
                        let below = Int(bitPattern: UInt(bitPattern: side &- 1 &- delta) >> (UInt.bitWidth - 1))
                        let patch = channel + 2 * oy * paddedSide + 2 * ox + delta + 2 * below
                        row0 += g * UnsafeRawPointer(patch).loadUnaligned(as: SIMD4<Float>.self)
                        row1 += g * UnsafeRawPointer(patch + paddedSide).loadUnaligned(as: SIMD4<Float>.self)
                        row2 += g * UnsafeRawPointer(patch + 2 * paddedSide).loadUnaligned(as: SIMD4<Float>.self)
                    }
                }
                let target = sums + c * k + ci * 9
                for x in 0..<3 {
                    target[x] += row0[x]
                    target[3 + x] += row1[x]
                    target[6 + x] += row2[x]
                }
            }
        }
    }
}

/// dWeight[c] += the weight gradient of the whole batch (see the top of this file), from the
/// workers' added window sums [Cout, K], the patches' `gram` and `sums` over the batch's `total`
/// positions, the weights, batch norm's mean, rstd and gamma, and its backward sums.
public func directConvWeightGradient(_ dWeight: FloatPointer, windowPatchSums: ConstFloatPointer, gram: UnsafePointer<Double>,
                                     sums: UnsafePointer<Double>, weight: ConstFloatPointer, mean: ConstFloatPointer,
                                     rstd: ConstFloatPointer, gamma: ConstFloatPointer, sumDy: ConstFloatPointer,
                                     sumDyXhat: ConstFloatPointer, outChannels: Int, patchSize k: Int, total: Int) {
    let m = Double(total)
    for c in 0..<outChannels {
        let w = weight + c * k, r = Double(rstd[c]), mu = Double(mean[c])
        let scale = Double(gamma[c]) * r, dyShare = Double(sumDy[c]) / m, xhatShare = Double(sumDyXhat[c]) / m * r
        for a in 0..<k {
            var gramRow = 0.0
            for b in 0..<k { gramRow += gram[a * k + b] * Double(w[b]) }
            let centred = gramRow - mu * sums[a]  // sum over positions of (x - mean) P[a]
            let value = Double(windowPatchSums[c * k + a]) - dyShare * sums[a] - xhatShare * centred
            dWeight[c * k + a] += Float(scale * value)
        }
    }
}
