/// The 3x3 convolution of Conv2d by Winograd's minimal filtering (see WinogradTile): the same
/// result with 16 multiplies per 2x2 output tile and channel pair where im2col takes 36 (F(2x2)),
/// or 36 per 4x4 tile where it takes 144 (F(4x4)), in the forward pass and both backward
/// products. Each transformed position k is one sgemm over the channels (see WinogradSizes for
/// the layouts). Worth it when the GEMMs have enough input channels; the first layer (one or
/// three channels) is the network's direct stage (DirectConvStage.swift).
///
/// The backward pass is the exact adjoint of the forward one, so its gradients are those of the
/// computed function: dM = A dY A^T; dU[k] += dM[k] V[k]^T; dV[k] = U[k]^T dM[k]; dInput += B dV B^T.

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
        if SmallGemm.covers(m: outChannels, n: tiles, k: inChannels) {
            for k in 0..<positions {
                SmallGemm.multiply(m: outChannels, n: tiles, k: inChannels, a: u + k * outChannels * inChannels,
                                   aRowStride: inChannels, aColumnStride: 1, b: v + k * vStride, ldb: tiles,
                                   c: m + k * mStride, ldc: tiles, accumulate: false)
            }
            return
        }
        for k in 0..<positions {
            sgemm(m: outChannels, n: tiles, k: inChannels, a: u + k * outChannels * inChannels,
                  b: v + k * vStride, beta: 0, c: m + k * mStride)
        }
    }

    /// dU[k] += dM[k] V[k]^T, in blocks of output rows where the products are long. OpenBLAS
    /// takes its small-matrix kernel for this shape of product only when the block has at most
    /// 1,200 values; over many tiles that kernel beat the packed one (the default network's second
    /// stage, 256 tiles a chunk: 2.4 against 3.0-3.4 ms in `csn bench --kernels`, 4 alternating
    /// runs), over few it lost (the third, 64 tiles: 3.3 against 2.7-3.2 ms).
    public func weightGradient(_ du: FloatPointer, _ dm: ConstFloatPointer, _ v: ConstFloatPointer) {
        if tiles % 16 == 0, inChannels % 16 == 0, SmallGemm.covers(m: outChannels, n: inChannels, k: tiles) {
            // The product runs over the tiles, along which both operands lie: V[k] is turned
            // into [T, Cin] first, so that its rows are the 32-wide rows the kernel reads.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: tiles * inChannels) { scratch in
                let vt = scratch.baseAddress!
                for k in 0..<positions {
                    SmallGemm.transpose(v + k * vStride, rows: inChannels, columns: tiles, into: vt)
                    SmallGemm.multiply(m: outChannels, n: inChannels, k: tiles, a: dm + k * mStride,
                                       aRowStride: tiles, aColumnStride: 1, b: vt, ldb: inChannels,
                                       c: du + k * outChannels * inChannels, ldc: inChannels, accumulate: true)
                }
            }
            return
        }
        let rows = tiles >= 128 ? max(1, 1024 / max(1, inChannels)) : outChannels
        for k in 0..<positions {
            for first in stride(from: 0, to: outChannels, by: rows) {
                let count = min(rows, outChannels - first)
                sgemm(transposeB: true, m: count, n: inChannels, k: tiles, a: dm + k * mStride + first * tiles,
                      b: v + k * vStride, beta: 1, c: du + k * outChannels * inChannels + first * inChannels)
            }
        }
    }

    /// dV[k] = U[k]^T dM[k].
    public func inputGradient(_ dv: FloatPointer, _ u: ConstFloatPointer, _ dm: ConstFloatPointer) {
        if SmallGemm.covers(m: inChannels, n: tiles, k: outChannels) {
            for k in 0..<positions {
                SmallGemm.multiply(m: inChannels, n: tiles, k: outChannels, a: u + k * outChannels * inChannels,
                                   aRowStride: 1, aColumnStride: inChannels, b: dm + k * mStride, ldb: tiles,
                                   c: dv + k * vStride, ldc: tiles, accumulate: false)
            }
            return
        }
        for k in 0..<positions {
            sgemm(transposeA: true, m: inChannels, n: tiles, k: outChannels, a: u + k * outChannels * inChannels,
                  b: dm + k * mStride, beta: 0, c: dv + k * vStride)
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
/// gradient. `v` must hold the forward pass's transformed input; `dm` [P, Cout, T] and `dv`
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
