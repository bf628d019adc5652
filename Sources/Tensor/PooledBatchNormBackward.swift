/// The backward pass of `batchNormReluPool` in training, from the gradient of the pooled output.
///
/// Below the pool the gradient is nonzero only at each window's maximum, and only where the pooled
/// output is positive (ReLU), so it is never written out: the sums visit the pooled windows alone,
/// and the input gradient is written dense in one sweep (batch norm's part is affine in x) before
/// the windows add their share. This replaced a zeroed buffer of the convolution's size, a
/// scatter into it, and two dense sweeps over it.
///
/// `x` is the convolution output (batch norm's input), xhat = (x - mean) * rstd; dy is batch
/// norm's output gradient: dPooled at the maximum of each window with a positive pooled value, 0
/// elsewhere. Pointers are at the shard's first value of channel 0 (as in batchNormReluPool), and
/// a channel's shard starts at c * batchStride images.

/// Gates `dPooled` in place (0 where the pooled output is not positive), which the apply step
/// needs, and adds sumDy[c] += sum of dy, sumDyXhat[c] += sum of dy * xhat over the shard's
/// windows, from the windows' inputs (batchNormReluPool's `windowInput`): contiguous, without a
/// gather or a branch. `plane` is an even side squared.
public func gateAndSumPooledGradient(_ sumDy: FloatPointer, _ sumDyXhat: FloatPointer, dPooled: FloatPointer,
                                        pooled: ConstFloatPointer, windowInput: ConstFloatPointer,
                                        mean: ConstFloatPointer, rstd: ConstFloatPointer,
                                        channels: Int, images: Int, plane: Int, batchStride: Int) {
    precondition(plane % 4 == 0, "pooling needs even sides")
    let pooledPlane = plane / 4, count = images * pooledPlane
    for c in 0..<channels {
        let at = c * batchStride * pooledPlane
        let (dySum, dyCenteredSum) = gateAndSum(dPooled + at, gate: pooled + at, windowInput + at, center: mean[c], count: count)
        sumDy[c] += Float(dySum)
        sumDyXhat[c] += Float(dyCenteredSum) * rstd[c]
    }
}

/// dx = rstd * gamma / m * (m * dy - sumDy - xhat * sumDyXhat) over the shard, written (not
/// accumulated), with the whole batch's sums; m = `total` values per channel. `dPooled` is gated
/// (by gateAndSumPooledGradient).
public func pooledBatchNormBackwardApply(_ dx: FloatPointer, dPooled: ConstFloatPointer, argmax: UnsafePointer<Int32>, x: ConstFloatPointer, mean: ConstFloatPointer,
                                         rstd: ConstFloatPointer, gamma: ConstFloatPointer, sumDy: ConstFloatPointer,
                                         sumDyXhat: ConstFloatPointer, channels: Int, images: Int, plane: Int,
                                         batchStride: Int, total: Int) {
    precondition(plane % 4 == 0, "pooling needs even sides")
    let pooledPlane = plane / 4, count = images * plane
    for c in 0..<channels {
        let r = rstd[c], scale = gamma[c] * r / Float(total), b = sumDyXhat[c]
        // scale * (-sumDy - (x - mean) * r * b) = offset + slope * x
        let slope = -scale * r * b, offset = scale * (r * b * mean[c] - sumDy[c])
        let input = x + c * batchStride * plane, out = dx + c * batchStride * plane
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(input + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: offset + slope * v, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { out[i] = offset + slope * input[i]; i += 1 }
        // Every window adds its share (zero where gated): no branch for the processor to
        // mispredict on half the windows.
        let windowScale = gamma[c] * r
        for n in 0..<images {
            let o = (c * batchStride + n) * pooledPlane, image = out + n * plane
            for k in 0..<pooledPlane { image[Int(argmax[o + k])] += windowScale * dPooled[o + k] }
        }
    }
}

/// Sets g to 0 where the gate is not positive, and returns (sum of g, sum of g * (x - center)).
@inline(__always)
private func gateAndSum(_ g: FloatPointer, gate: ConstFloatPointer, _ x: ConstFloatPointer, center: Float, count: Int) -> (Double, Double) {
    let c = SIMD8<Float>(repeating: center)
    return sumsInDoubleBlocks(count: count) { range in
        var acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>()
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let open = lanes(gate, i) .> 0
            let v = lanes(g, i).replacing(with: 0, where: .!open)
            UnsafeMutableRawPointer(g + i).storeBytes(of: v, as: SIMD8<Float>.self)
            acc1 += v
            acc2 += v * (lanes(x, i) - c)
            i += 8
        }
        var block1 = acc1.sum(), block2 = acc2.sum()
        while i < range.upperBound {
            let v = gate[i] > 0 ? g[i] : 0
            g[i] = v
            block1 += v
            block2 += v * (x[i] - center)
            i += 1
        }
        return (block1, block2)
    }
}
