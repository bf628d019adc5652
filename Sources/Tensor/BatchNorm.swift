/// Batch normalisation over CNHW activations. Training uses the batch's mean and (biased)
/// variance; inference the running ones.
///
/// The training pass is built from parts that also work on shards of the batch, so that several
/// threads can each take a slice: per-channel partial sums that the caller adds up in a fixed
/// order, then per-shard applications. A shard is `count` values per channel, channel c starting at
/// c * channelStride. The network uses `channelShiftedMoments` with the statistics from them, and
/// pooledBatchNormBackward for the backward pass; `batchNormForward` and `batchNormBackward` run
/// the two-pass parts on the whole batch in one call: the plain reference that tests check the
/// network's kernels against.

/// sums[c] += the shard's values of channel c.
public func channelSums(_ sums: FloatPointer, _ input: ConstFloatPointer, channels: Int, count: Int, channelStride: Int) {
    for c in 0..<channels { sums[c] += sum(input + c * channelStride, count: count) }
}

/// squares[c] += sum over the shard of (x - mean[c])^2 (two passes keep the variance accurate).
public func channelCenteredSquares(_ squares: FloatPointer, _ input: ConstFloatPointer, _ mean: ConstFloatPointer,
                                   channels: Int, count: Int, channelStride: Int) {
    for c in 0..<channels {
        squares[c] += sumOfSquaredDeviations(input + c * channelStride, center: mean[c], count: count)
    }
}

/// sums[c] += sum over the shard of (x - shift[c]), squares[c] += sum of (x - shift[c])^2: batch
/// norm's statistics in one sweep (the network's forward pass). With the shift near the mean (the
/// running mean), the variance taken from them keeps its accuracy; see batchNormStatistics(shift:).
public func channelShiftedMoments(_ sums: UnsafeMutablePointer<Double>, _ squares: UnsafeMutablePointer<Double>,
                                  _ input: ConstFloatPointer, shift: ConstFloatPointer, channels: Int, count: Int, channelStride: Int) {
    for c in 0..<channels {
        let (first, second) = shiftedMoments(input + c * channelStride, shift: shiftOrZero(shift[c]), count: count)
        sums[c] += first
        squares[c] += second
    }
}

/// xhat = (x - mean) * rstd; out = gamma * xhat + beta, or max(0, ...) with `relu` (one sweep for
/// both layers). `input` and `xhat` may be the same buffer.
public func batchNormApply(_ out: FloatPointer, _ xhat: FloatPointer, _ input: ConstFloatPointer,
                           _ mean: ConstFloatPointer, _ rstd: ConstFloatPointer, _ gamma: ConstFloatPointer,
                           _ beta: ConstFloatPointer, channels: Int, count: Int, channelStride: Int, relu: Bool) {
    let floor: Float = relu ? 0 : -.infinity
    for c in 0..<channels {
        let x = input + c * channelStride, xh = xhat + c * channelStride, y = out + c * channelStride
        let m = mean[c], r = rstd[c], g = gamma[c], b = beta[c]
        for i in 0..<count {
            let v = (x[i] - m) * r
            xh[i] = v
            y[i] = max(g * v + b, floor)
        }
    }
}

/// From whole-batch sums over `total` values per channel: the mean, rstd, and the running
/// statistics' update (unbiased variance, `momentum`). Overwrites mean and rstd.
public func batchNormStatistics(_ mean: FloatPointer, _ rstd: FloatPointer, _ runningMean: FloatPointer,
                                _ runningVariance: FloatPointer, sums: ConstFloatPointer, centeredSquares: ConstFloatPointer,
                                channels: Int, total: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
    for c in 0..<channels {
        let variance = centeredSquares[c] / Float(total)
        rstd[c] = 1 / (variance + epsilon).squareRoot()
        runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean[c]
        let unbiased = total > 1 ? variance * Float(total) / Float(total - 1) : variance
        runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * unbiased
    }
}

/// A shift that is not finite (a damaged running mean) would poison every statistic: 0 instead.
@inline(__always) func shiftOrZero(_ shift: Float) -> Float { shift.isFinite ? shift : 0 }

/// The same from the whole batch's shifted moments (channelShiftedMoments): `shift` is the running
/// mean before this update, which it may alias. Overwrites mean and rstd.
public func batchNormStatistics(_ mean: FloatPointer, _ rstd: FloatPointer, _ runningMean: FloatPointer,
                                _ runningVariance: FloatPointer, shiftedSums: UnsafePointer<Double>,
                                shiftedSquares: UnsafePointer<Double>, shift: ConstFloatPointer, channels: Int, total: Int,
                                epsilon: Float = 1e-5, momentum: Float = 0.1) {
    for c in 0..<channels {
        let offset = shiftedSums[c] / Double(total)
        mean[c] = shiftOrZero(shift[c]) + Float(offset)
        let variance = Float(max(0, shiftedSquares[c] / Double(total) - offset * offset))
        rstd[c] = 1 / (variance + epsilon).squareRoot()
        runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean[c]
        let unbiased = total > 1 ? variance * Float(total) / Float(total - 1) : variance
        runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * unbiased
    }
}

/// sumDy[c] += sum dy; sumDyXhat[c] += sum dy * xhat, over the shard.
public func batchNormBackwardSums(_ sumDy: FloatPointer, _ sumDyXhat: FloatPointer, _ dOut: ConstFloatPointer,
                                  _ xhat: ConstFloatPointer, channels: Int, count: Int, channelStride: Int) {
    for c in 0..<channels {
        let (a, b) = sumAndDot(dOut + c * channelStride, xhat + c * channelStride, count: count)
        sumDy[c] += a
        sumDyXhat[c] += b
    }
}

/// dx += rstd * gamma / m * (m * dy - sum(dy) - xhat * sum(dy * xhat)), m = `total` values per
/// channel, with the whole-batch sums.
public func batchNormBackwardApply(_ dInput: FloatPointer, _ dOut: ConstFloatPointer, _ xhat: ConstFloatPointer,
                                   _ rstd: ConstFloatPointer, _ gamma: ConstFloatPointer, _ sumDy: ConstFloatPointer,
                                   _ sumDyXhat: ConstFloatPointer, channels: Int, count: Int, channelStride: Int, total: Int) {
    let m = Float(total)
    for c in 0..<channels {
        let dy = dOut + c * channelStride, xh = xhat + c * channelStride, dx = dInput + c * channelStride
        let scale = gamma[c] * rstd[c] / m, a = sumDy[c], b = sumDyXhat[c]
        for i in 0..<count { dx[i] += scale * (m * dy[i] - a - xh[i] * b) }
    }
}

/// Training forward on a whole batch (`spatial` = N*H*W values per channel). Caches xhat and
/// rstd [C]; `mean` [C] is scratch. `input` and `xhat` may be the same buffer.
public func batchNormForward(_ out: FloatPointer, _ xhat: FloatPointer, _ rstd: FloatPointer, _ mean: FloatPointer,
                             _ runningMean: FloatPointer, _ runningVariance: FloatPointer,
                             _ input: ConstFloatPointer, _ gamma: ConstFloatPointer, _ beta: ConstFloatPointer,
                             channels: Int, spatial: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, relu: Bool = false) {
    mean.update(repeating: 0, count: channels)
    channelSums(mean, input, channels: channels, count: spatial, channelStride: spatial)
    for c in 0..<channels { mean[c] /= Float(spatial) }
    let squares = rstd  // rstd holds the centred squares until batchNormStatistics replaces them
    squares.update(repeating: 0, count: channels)
    channelCenteredSquares(squares, input, mean, channels: channels, count: spatial, channelStride: spatial)
    batchNormStatistics(mean, rstd, runningMean, runningVariance, sums: mean, centeredSquares: squares,
                        channels: channels, total: spatial, epsilon: epsilon, momentum: momentum)
    batchNormApply(out, xhat, input, mean, rstd, gamma, beta, channels: channels, count: spatial, channelStride: spatial, relu: relu)
}

/// Inference forward with the running statistics (and the same optional ReLU).
public func batchNormInference(_ out: FloatPointer, _ input: ConstFloatPointer, _ gamma: ConstFloatPointer,
                               _ beta: ConstFloatPointer, _ runningMean: ConstFloatPointer,
                               _ runningVariance: ConstFloatPointer, channels: Int, spatial: Int, epsilon: Float = 1e-5,
                               relu: Bool = false, channelStride: Int? = nil) {
    let floor: Float = relu ? 0 : -.infinity
    for c in 0..<channels {
        let scale = gamma[c] / (runningVariance[c] + epsilon).squareRoot()
        let shift = beta[c] - runningMean[c] * scale
        let x = input + c * (channelStride ?? spatial), y = out + c * (channelStride ?? spatial)
        for i in 0..<spatial { y[i] = max(x[i] * scale + shift, floor) }
    }
}

/// Accumulates dGamma, dBeta and dInput for a whole batch; `sums` is scratch of 2C.
public func batchNormBackward(_ dInput: FloatPointer, _ dGamma: FloatPointer, _ dBeta: FloatPointer, _ sums: FloatPointer,
                              _ dOut: ConstFloatPointer, _ xhat: ConstFloatPointer, _ rstd: ConstFloatPointer,
                              _ gamma: ConstFloatPointer, channels: Int, spatial: Int) {
    sums.update(repeating: 0, count: 2 * channels)
    batchNormBackwardSums(sums, sums + channels, dOut, xhat, channels: channels, count: spatial, channelStride: spatial)
    for c in 0..<channels {
        dBeta[c] += sums[c]
        dGamma[c] += sums[channels + c]
    }
    batchNormBackwardApply(dInput, dOut, xhat, rstd, gamma, sums, sums + channels,
                           channels: channels, count: spatial, channelStride: spatial, total: spatial)
}
