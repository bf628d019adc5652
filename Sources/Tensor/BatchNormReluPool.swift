/// Batch norm's normalisation, scale and shift, ReLU and 2x2 max-pool (stride 2) in one sweep over
/// CNHW activations: the network's forward pass between a convolution and the next stage.
///
/// ReLU and max commute (both are monotone), so the window's maximum is taken before the ReLU and
/// the ReLU applied to the pooled value. The post-ReLU activations are then never written, which
/// saves the largest buffers of the network and two passes over them; the backward pass gates on
/// the pooled output instead (see pooledBatchNormBackward).

/// For each channel c and value x: y = gamma[c] * (x - center[c]) * rstd[c] + beta[c]. `x` is left as it is: training's backward pass recomputes the normalised
/// values from it (pooledBatchNormBackward), which saves writing the network's largest buffers
/// back in the forward pass.
/// pooled = max(0, the window's maximum of y); argmax = the index in its plane of the window's
/// first maximum of y; windowInput = x at argmax (the backward pass's sums read it contiguously
/// instead of gathering it). Works on a shard of `images` images inside a buffer of `batchStride`
/// images per channel; `pooled`, `argmax` and `windowInput` point at the shard's first pooled value
/// of channel 0. `x` holds `inputBatchStride` images per channel (default: `batchStride`).
///
/// y is monotone in x, so the window's maximum of y is its maximum of x where gamma * rstd is
/// positive and its minimum where it is negative: windows compare sign * x (argmax: the first
/// maximum of sign * x), and only the maximum is normalised. (With gamma zero every y ties and
/// the maximum of x is taken.)
public func batchNormReluPool(_ pooled: FloatPointer, _ argmax: UnsafeMutablePointer<Int32>, windowInput: FloatPointer, _ x: ConstFloatPointer,
                              center: ConstFloatPointer, rstd: ConstFloatPointer, gamma: ConstFloatPointer, beta: ConstFloatPointer,
                              channels: Int, images: Int, height: Int, width: Int, batchStride: Int, inputBatchStride: Int? = nil) {
    let plane = height * width, outWidth = width / 2, outPlane = (height / 2) * outWidth
    let inputStride = inputBatchStride ?? batchStride
    for c in 0..<channels {
        let m = center[c], r = rstd[c], g = gamma[c], b = beta[c]
        let sign: Float = g * r < 0 ? -1 : 1
        for n in 0..<images {
            let input = x + (c * inputStride + n) * plane
            let first = (c * batchStride + n) * outPlane
            let out = pooled + first, arg = argmax + first, inputs = windowInput + first
            for oy in 0..<height / 2 {
                let top = input + 2 * oy * width, bottom = top + width
                let outRow = out + oy * outWidth, argRow = arg + oy * outWidth, inputRow = inputs + oy * outWidth
                var ox = 0
                // Eight windows at a time where the row is long enough: two rows of sixteen
                // values, the windows' left and right columns as the even and odd lanes. (Four at
                // a time, the sweep was 7% of a step's samples; most of it is the first stage's.)
                while ox + 8 <= outWidth {
                    let i = 2 * ox
                    let upper = sign * UnsafeRawPointer(top + i).loadUnaligned(as: SIMD16<Float>.self)
                    let lower = sign * UnsafeRawPointer(bottom + i).loadUnaligned(as: SIMD16<Float>.self)
                    let topLeft = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14) &+ Int32(2 * oy * width + i)
                    var best = upper.evenHalf, at = topLeft
                    var better = upper.oddHalf .> best
                    best.replace(with: upper.oddHalf, where: better); at.replace(with: topLeft &+ 1, where: better)
                    better = lower.evenHalf .> best
                    best.replace(with: lower.evenHalf, where: better); at.replace(with: topLeft &+ Int32(width), where: better)
                    better = lower.oddHalf .> best
                    best.replace(with: lower.oddHalf, where: better); at.replace(with: topLeft &+ Int32(width + 1), where: better)
                    let bestX = sign * best
                    var y = g * ((bestX - m) * r) + b
                    y.replace(with: 0, where: y .< 0)
                    UnsafeMutableRawPointer(outRow + ox).storeBytes(of: y, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(argRow + ox).storeBytes(of: at, as: SIMD8<Int32>.self)
                    UnsafeMutableRawPointer(inputRow + ox).storeBytes(of: bestX, as: SIMD8<Float>.self)
                    ox += 8
                }
                // Four at a time, then one.
                while ox + 4 <= outWidth {
                    let i = 2 * ox
                    let upper = sign * UnsafeRawPointer(top + i).loadUnaligned(as: SIMD8<Float>.self)
                    let lower = sign * UnsafeRawPointer(bottom + i).loadUnaligned(as: SIMD8<Float>.self)
                    let topLeft = SIMD4<Int32>(0, 2, 4, 6) &+ Int32(2 * oy * width + i)
                    var best = upper.evenHalf, at = topLeft
                    var better = upper.oddHalf .> best
                    best.replace(with: upper.oddHalf, where: better); at.replace(with: topLeft &+ 1, where: better)
                    better = lower.evenHalf .> best
                    best.replace(with: lower.evenHalf, where: better); at.replace(with: topLeft &+ Int32(width), where: better)
                    better = lower.oddHalf .> best
                    best.replace(with: lower.oddHalf, where: better); at.replace(with: topLeft &+ Int32(width + 1), where: better)
                    let bestX = sign * best
                    var y = g * ((bestX - m) * r) + b
                    y.replace(with: 0, where: y .< 0)
                    UnsafeMutableRawPointer(outRow + ox).storeBytes(of: y, as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(argRow + ox).storeBytes(of: at, as: SIMD4<Int32>.self)
                    UnsafeMutableRawPointer(inputRow + ox).storeBytes(of: bestX, as: SIMD4<Float>.self)
                    ox += 4
                }
                while ox < outWidth {
                    let topLeft = 2 * oy * width + 2 * ox
                    var at = topLeft
                    if sign * input[topLeft + 1] > sign * input[at] { at = topLeft + 1 }
                    if sign * input[topLeft + width] > sign * input[at] { at = topLeft + width }
                    if sign * input[topLeft + width + 1] > sign * input[at] { at = topLeft + width + 1 }
                    outRow[ox] = max(g * ((input[at] - m) * r) + b, 0)
                    argRow[ox] = Int32(at)
                    inputRow[ox] = input[at]
                    ox += 1
                }
            }
        }
    }
}
