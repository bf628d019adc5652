/// The 3x3 convolution of Conv2d by Winograd's minimal filtering (see WinogradTile): the same
/// result with 16 multiplies per 2x2 output tile and channel pair where im2col takes 36 (F(2x2)),
/// or 36 per 4x4 tile where it takes 144 (F(4x4)), in the forward pass and both backward
/// products. Each transformed position k is one matrix multiply over the channels (SmallGemm, or
/// OpenBLAS's sgemm for the shapes it does not take; see WinogradSizes for the layouts). Worth it when the GEMMs have enough input channels; the first layer (one or
/// three channels) is the network's direct stage (DirectConvStage.swift).
///
/// The backward pass is the exact adjoint of the forward one, so its gradients are those of the
/// computed function: dM = A dY A^T; dU[k] += V[k] dM[k]^T (dU laid out [P, Cin, Cout]);
/// dV[k] = U[k]^T dM[k]; dInput += B dV B^T.

/// The GEMMs of each pass for `batch` images of side `side`: one per transformed position k (16
/// or 36), over the channels.
public struct WinogradProducts {
    let inChannels, outChannels, tiles, vStride, mStride, positions: Int

    public init(inChannels: Int, outChannels: Int, batch: Int, side: Int, tile: WinogradTile = .two) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        positions = tile.positions
        tiles = WinogradSizes.tiles(batch: batch, side: side, tile: tile)
        vStride = WinogradSizes.positionStride(channels: inChannels, batch: batch, side: side, tile: tile)
        mStride = WinogradSizes.positionStride(channels: outChannels, batch: batch, side: side, tile: tile)
    }

    /// M[k] = U[k] V[k].
    public func forward(_ m: FloatPointer, _ u: ConstFloatPointer, _ v: ConstFloatPointer) {
        for k in 0..<positions {
            matrixMultiply(m: outChannels, n: tiles, k: inChannels, a: u + k * outChannels * inChannels,
                           b: v + k * vStride, c: m + k * mStride, accumulate: false)
        }
    }

    /// dU[k] += (dM[k] V[k]^T)^T = V[k] dM[k]^T, kept as [P, Cin, Cout] (see WinogradSizes). The
    /// product runs over the tiles, along which both operands lie, so one of them is turned
    /// around first: dM[k], just made by the output adjoint and still in cache, into [T, Cout],
    /// whose rows are the wide rows the kernel reads. (Turning V[k] around instead, with dU as
    /// [P, Cout, Cin], read V from far memory in 16 rows at once: 7% of a step's samples.)
    public func weightGradient(_ du: FloatPointer, _ dm: ConstFloatPointer, _ v: ConstFloatPointer) {
        // The transpose takes whole 16 x 16 blocks; `covers` asks for outChannels in 32s.
        if tiles % 16 == 0, SmallGemm.covers(m: inChannels, n: outChannels, k: tiles) {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: tiles * outChannels) { scratch in
                guard let dmt = scratch.baseAddress else { return }
                for k in 0..<positions {
                    SmallGemm.transpose(dm + k * mStride, rows: outChannels, columns: tiles, into: dmt)
                    SmallGemm.multiply(m: inChannels, n: outChannels, k: tiles, a: v + k * vStride,
                                       aRowStride: tiles, aColumnStride: 1, b: dmt, ldb: outChannels,
                                       c: du + k * outChannels * inChannels, ldc: outChannels, accumulate: true)
                }
            }
            return
        }
        for k in 0..<positions {
            sgemm(transposeB: true, m: inChannels, n: outChannels, k: tiles, a: v + k * vStride, b: dm + k * mStride,
                  beta: 1, c: du + k * outChannels * inChannels)
        }
    }

    /// dV[k] = U[k]^T dM[k].
    public func inputGradient(_ dv: FloatPointer, _ u: ConstFloatPointer, _ dm: ConstFloatPointer) {
        for k in 0..<positions {
            matrixMultiply(transposeA: true, m: inChannels, n: tiles, k: outChannels, a: u + k * outChannels * inChannels,
                           b: dm + k * mStride, c: dv + k * vStride, accumulate: false)
        }
    }
}

/// out = conv(input, weight) with `u` = winogradTransformWeights(weight). `v` receives the
/// transformed input (the backward pass needs it); `m` is scratch [P, Cout, T].
public func winogradConvForward(_ out: FloatPointer, transformedInput v: FloatPointer, products m: FloatPointer,
                                _ input: ConstFloatPointer, transformedWeights u: ConstFloatPointer,
                                inChannels: Int, outChannels: Int, batch: Int, side: Int, batchStride: Int? = nil,
                                tile: WinogradTile = .two) {
    winogradTransformInput(v, input, channels: inChannels, batch: batch, side: side, batchStride: batchStride, tile: tile)
    WinogradProducts(inChannels: inChannels, outChannels: outChannels, batch: batch, side: side, tile: tile).forward(m, u, v)
    winogradTransformOutput(out, m, channels: outChannels, batch: batch, side: side, batchStride: batchStride, tile: tile)
}

/// Accumulates dU += the transformed weight gradient (turn it into dWeight with
/// winogradTransformWeightsAdjointAccumulate) and, when `dInput` is given, dInput += the input
/// gradient. `v` must hold the chunk's transformed input (as winogradConvForward made it); `dm` [P, Cout, T] and `dv`
/// [P, Cin, T] are scratch.
public func winogradConvBackward(_ dInput: FloatPointer?, dTransformedWeights du: FloatPointer,
                                 productsGradient dm: FloatPointer, inputsGradient dv: FloatPointer,
                                 _ dOut: ConstFloatPointer, transformedInput v: ConstFloatPointer, transformedWeights u: ConstFloatPointer,
                                 inChannels: Int, outChannels: Int, batch: Int, side: Int, batchStride: Int? = nil,
                                 tile: WinogradTile = .two) {
    let products = WinogradProducts(inChannels: inChannels, outChannels: outChannels, batch: batch, side: side, tile: tile)
    winogradTransformOutputAdjoint(dm, dOut, channels: outChannels, batch: batch, side: side, batchStride: batchStride, tile: tile)
    products.weightGradient(du, dm, v)
    guard let dInput else { return }
    products.inputGradient(dv, u, dm)
    winogradTransformInputAdjointAccumulate(dInput, dv, channels: inChannels, batch: batch, side: side, batchStride: batchStride, tile: tile)
}
