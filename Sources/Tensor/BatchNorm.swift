/// Batch normalisation over CNHW activations: each channel's `spatial` = N*H*W values are
/// contiguous. Training uses the batch's mean and (biased) variance; inference the running ones.

/// Training forward: out = gamma * xhat + beta with xhat = (x - mean) * rstd. Caches xhat and rstd
/// [C] for backward and updates the running mean and (unbiased) variance with `momentum`.
public func batchNormForward(_ out: FloatPointer, _ xhat: FloatPointer, _ rstd: FloatPointer,
                             _ runningMean: FloatPointer, _ runningVariance: FloatPointer,
                             _ input: ConstFloatPointer, _ gamma: ConstFloatPointer, _ beta: ConstFloatPointer,
                             channels: Int, spatial: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
    for c in 0..<channels {
        let x = input + c * spatial, xh = xhat + c * spatial, y = out + c * spatial
        var sum: Float = 0
        for i in 0..<spatial { sum += x[i] }
        let mean = sum / Float(spatial)
        var squares: Float = 0
        for i in 0..<spatial { let d = x[i] - mean; squares += d * d }
        let variance = squares / Float(spatial)
        let r = 1 / (variance + epsilon).squareRoot()
        rstd[c] = r
        let g = gamma[c], b = beta[c]
        for i in 0..<spatial {
            let v = (x[i] - mean) * r
            xh[i] = v
            y[i] = g * v + b
        }
        runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean
        let unbiased = spatial > 1 ? variance * Float(spatial) / Float(spatial - 1) : variance
        runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * unbiased
    }
}

/// Inference forward with the running statistics.
public func batchNormInference(_ out: FloatPointer, _ input: ConstFloatPointer, _ gamma: ConstFloatPointer,
                               _ beta: ConstFloatPointer, _ runningMean: ConstFloatPointer,
                               _ runningVariance: ConstFloatPointer, channels: Int, spatial: Int, epsilon: Float = 1e-5) {
    for c in 0..<channels {
        let scale = gamma[c] / (runningVariance[c] + epsilon).squareRoot()
        let shift = beta[c] - runningMean[c] * scale
        let x = input + c * spatial, y = out + c * spatial
        for i in 0..<spatial { y[i] = x[i] * scale + shift }
    }
}

/// Accumulates dGamma, dBeta and dInput. With m = spatial:
/// dx = rstd / m * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)), dxhat = dy * gamma.
public func batchNormBackward(_ dInput: FloatPointer, _ dGamma: FloatPointer, _ dBeta: FloatPointer,
                              _ dOut: ConstFloatPointer, _ xhat: ConstFloatPointer, _ rstd: ConstFloatPointer,
                              _ gamma: ConstFloatPointer, channels: Int, spatial: Int) {
    for c in 0..<channels {
        let dy = dOut + c * spatial, xh = xhat + c * spatial, dx = dInput + c * spatial
        var sumDy: Float = 0, sumDyXhat: Float = 0
        for i in 0..<spatial {
            sumDy += dy[i]
            sumDyXhat += dy[i] * xh[i]
        }
        dBeta[c] += sumDy
        dGamma[c] += sumDyXhat
        let g = gamma[c], m = Float(spatial)
        let scale = g * rstd[c] / m
        for i in 0..<spatial {
            dx[i] += scale * (m * dy[i] - sumDy - xh[i] * sumDyXhat)
        }
    }
}
