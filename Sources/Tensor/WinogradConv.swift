/// The 3x3 convolution of Conv2d by Winograd's F(2x2, 3x3): the same result with 16 multiplies
/// per 2x2 output tile and channel pair where im2col takes 36, so 2.25x fewer GEMM FLOPs in the
/// forward pass and both backward products. Each of the 16 transformed positions k is one sgemm
/// over the channels (see WinogradTransforms for the layouts). Worth it when the GEMMs have
/// enough input channels; the first layer (one or three channels) stays on im2col.
///
/// The backward pass is the exact adjoint of the forward one, so its gradients are those of the
/// computed function: dM = A dY A^T; dU[k] += dM[k] V[k]^T; dV[k] = U[k]^T dM[k]; dInput += B dV B^T.

/// out = conv(input, weight) with `u` = winogradTransformWeights(weight). `v` receives the
/// transformed input (the backward pass needs it); `m` is scratch [16, Cout, T].
public func winogradConvForward(_ out: FloatPointer, transformedInput v: FloatPointer, products m: FloatPointer,
                                _ input: ConstFloatPointer, transformedWeights u: ConstFloatPointer,
                                inChannels: Int, outChannels: Int, batch: Int, side: Int, batchStride: Int? = nil) {
    let tiles = WinogradSizes.tiles(batch: batch, side: side)
    let vStride = WinogradSizes.positionStride(channels: inChannels, batch: batch, side: side)
    let mStride = WinogradSizes.positionStride(channels: outChannels, batch: batch, side: side)
    winogradTransformInput(v, input, channels: inChannels, batch: batch, side: side, batchStride: batchStride)
    for k in 0..<16 {
        sgemm(m: outChannels, n: tiles, k: inChannels, a: u + k * outChannels * inChannels,
              b: v + k * vStride, beta: 0, c: m + k * mStride)
    }
    winogradTransformOutput(out, m, channels: outChannels, batch: batch, side: side, batchStride: batchStride)
}

/// Accumulates dU += the transformed weight gradient (turn it into dWeight with
/// winogradTransformWeightsAdjointAccumulate) and, when `dInput` is given, dInput += the input
/// gradient. `v` must hold the forward pass's transformed input; `dm` [16, Cout, T] and `dv`
/// [16, Cin, T] are scratch.
public func winogradConvBackward(_ dInput: FloatPointer?, dTransformedWeights du: FloatPointer,
                                 productsGradient dm: FloatPointer, inputsGradient dv: FloatPointer,
                                 _ dOut: ConstFloatPointer, transformedInput v: ConstFloatPointer, transformedWeights u: ConstFloatPointer,
                                 inChannels: Int, outChannels: Int, batch: Int, side: Int, batchStride: Int? = nil) {
    let tiles = WinogradSizes.tiles(batch: batch, side: side)
    let vStride = WinogradSizes.positionStride(channels: inChannels, batch: batch, side: side)
    let mStride = WinogradSizes.positionStride(channels: outChannels, batch: batch, side: side)
    let weightBlock = outChannels * inChannels
    winogradTransformOutputAdjoint(dm, dOut, channels: outChannels, batch: batch, side: side, batchStride: batchStride)
    for k in 0..<16 {
        sgemm(transposeB: true, m: outChannels, n: inChannels, k: tiles, a: dm + k * mStride,
              b: v + k * vStride, beta: 1, c: du + k * weightBlock)
    }
    guard let dInput else { return }
    for k in 0..<16 {
        sgemm(transposeA: true, m: inChannels, n: tiles, k: outChannels, a: u + k * weightBlock,
              b: dm + k * mStride, beta: 0, c: dv + k * vStride)
    }
    winogradTransformInputAdjointAccumulate(dInput, dv, channels: inChannels, batch: batch, side: side, batchStride: batchStride)
}
