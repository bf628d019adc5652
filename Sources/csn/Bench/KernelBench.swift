import CSN
import Foundation
import Tensor

/// `csn bench --kernels`: one worker's share of each stage of the default network (96 images, one
/// thread): the convolution by im2col + sgemm against Winograd F(2x2, 3x3) and F(4x4, 3x3) (or, for
/// the first stage, the direct stage that replaces it), phase by phase, and batch norm + ReLU +
/// max-pool with its moments and backward pass. Winograd goes through the share in the
/// network's chunks of images (each phase's time is the sum over the chunks). Medians of 9 runs.
enum KernelBench {
    static func run(images: Int = 96) {
        BlasThreads.set(1)
        for (cin, cout, side) in [(1, 32, 32), (32, 64, 16), (64, 128, 8)] {
            let plane = side * side
            let input = FloatBuffer(count: cin * images * plane, repeating: 0.5)
            let weight = FloatBuffer(count: cout * cin * 9, repeating: 0.01)
            let out = FloatBuffer(count: cout * images * plane), dOut = FloatBuffer(count: out.count, repeating: 0.1)
            let dInput = FloatBuffer(count: input.count), dWeight = FloatBuffer(count: weight.count)
            let col = FloatBuffer(count: cin * 9 * images * plane), dCol = FloatBuffer(count: col.count)
            let pooled = FloatBuffer(count: out.count / 4), windowInput = FloatBuffer(count: out.count / 4), argmax = UnsafeMutablePointer<Int32>.allocate(capacity: out.count / 4)
            let moments = UnsafeMutablePointer<Double>.allocate(capacity: 2 * cout)
            defer { argmax.deallocate(); moments.deallocate() }
            let sums = FloatBuffer(count: 2 * cout), dPooled = FloatBuffer(count: out.count / 4, repeating: 0.1)
            let center = FloatBuffer(count: cout, repeating: 0.1), scale = FloatBuffer(count: cout, repeating: 1)
            print("stage \(cin) -> \(cout) channels, \(side)x\(side), \(images) images:")
            var phases: [(String, () -> Void)] = [
                ("im2col", { im2col(col.pointer, input.pointer, channels: cin, batch: images, height: side, width: side) }),
                ("im2col forward (incl. im2col)", {
                    conv2dForward(out.pointer, col.pointer, input.pointer, weight.pointer, inChannels: cin, outChannels: cout,
                                  batch: images, height: side, width: side) }),
                ("im2col backward (excl. im2col)", {
                    conv2dBackward(dInput.pointer, dWeight.pointer, dCol.pointer, dOut.pointer, col.pointer, weight.pointer,
                                   inChannels: cin, outChannels: cout, batch: images, height: side, width: side) }),
                ("batch norm + ReLU + max-pool", {
                    batchNormReluPool(pooled.pointer, argmax, windowInput: windowInput.pointer, out.pointer, center: center.pointer, rstd: scale.pointer,
                                      gamma: scale.pointer, beta: center.pointer, channels: cout, images: images,
                                      height: side, width: side, batchStride: images) }),
                ("batch norm moments", {
                    moments.update(repeating: 0, count: 2 * cout)
                    channelShiftedMoments(moments, moments + cout, out.pointer, shift: center.pointer, channels: cout,
                                          count: images * plane, channelStride: images * plane) }),
                ("batch norm + ReLU + max-pool backward", {
                    sums.zero()
                    gateAndSumPooledGradient(sums.pointer, sums.pointer + cout, dPooled: dPooled.pointer, pooled: pooled.pointer,
                                             windowInput: windowInput.pointer, mean: center.pointer, rstd: scale.pointer, channels: cout,
                                             images: images, plane: plane, batchStride: images)
                    pooledBatchNormBackwardApply(dOut.pointer, dPooled: dPooled.pointer, argmax: argmax, x: out.pointer, mean: center.pointer,
                                                 rstd: scale.pointer, gamma: scale.pointer, sumDy: sums.pointer, sumDyXhat: sums.pointer + cout,
                                                 channels: cout, images: images, plane: plane, batchStride: images, total: images * plane) }),
                ("im2col weight gradient alone (excl. im2col)", {
                    conv2dBackward(nil, dWeight.pointer, dCol.pointer, dOut.pointer, col.pointer, weight.pointer,
                                   inChannels: cin, outChannels: cout, batch: images, height: side, width: side) }),
            ]
            if cin < EmbeddingNetwork.winogradMinimumChannels {
                phases += directPhases(cin: cin, cout: cout, side: side, images: images, input: input, weight: weight, pooled: pooled,
                                       argmax: argmax, windowInput: windowInput, dPooled: dPooled, dWeight: dWeight, scale: scale, center: center)
            }
            if cin >= EmbeddingNetwork.winogradMinimumChannels {
                for tile in WinogradTile.allCases where side % tile.rawValue == 0 {
                    phases += winogradPhases(tile: tile, cin: cin, cout: cout, side: side, images: images, input: input, weight: weight,
                                             out: out, dOut: dOut, dInput: dInput)
                }
            }
            for (name, body) in phases {
                var times: [Double] = []
                for _ in 0..<9 {
                    let start = Date()
                    body()
                    times.append(Date().timeIntervalSince(start))
                }
                print("  \(name): \(String(format: "%.2f", times.sorted()[4] * 1000)) ms")
            }
        }
    }

    /// The direct stage's phases (the network's first stage): what replaces the im2col rows above,
    /// batch norm's moments and its backward pass.
    private static func directPhases(cin: Int, cout: Int, side: Int, images: Int, input: FloatBuffer, weight: FloatBuffer,
                                     pooled: FloatBuffer, argmax: UnsafeMutablePointer<Int32>, windowInput: FloatBuffer,
                                     dPooled: FloatBuffer, dWeight: FloatBuffer, scale: FloatBuffer, center: FloatBuffer) -> [(String, () -> Void)] {
        let k = cin * 9, chunk = EmbeddingNetwork.directChunk, plane = side * side
        let padded = FloatBuffer(count: PaddedImage.count(channels: cin, side: side))
        let columns = FloatBuffer(count: k * chunk * plane), output = FloatBuffer(count: cout * chunk * plane)
        var moments = [Double](repeating: 0, count: k * k + k)
        let phases = FloatBuffer(count: DirectStageRows.phaseCount(channels: cin, side: side))
        let rows: [(String, () -> Void)] = !DirectStageRows.applies(side: side) ? [] : [
            ("direct, rows of 16 windows: convolution + batch norm + ReLU + max-pool", {
                DirectStageRows.convolveNormalisePool(pooled.pointer, argmax, windowInput: windowInput.pointer, padded: padded.pointer,
                                                      phases: phases.pointer, input.pointer, weight: weight.pointer, center: center.pointer,
                                                      rstd: scale.pointer, gamma: scale.pointer, beta: center.pointer, inChannels: cin,
                                                      outChannels: cout, images: images, side: side, batchStride: images) }),
            ("direct, rows of 16 windows: window patch sums (backward)", {
                DirectStageRows.accumulateWindowPatchSums(dWeight.pointer, padded: padded.pointer, phases: phases.pointer,
                                                          dPooled: dPooled.pointer, argmax: argmax, input.pointer, inChannels: cin,
                                                          outChannels: cout, images: images, side: side, batchStride: images) }),
        ]
        return rows + [
            ("direct: patch moments", {
                moments.withUnsafeMutableBufferPointer { buffer in
                    guard let gram = buffer.baseAddress else { return }
                    accumulatePatchMoments(gram, gram + k * k, padded: padded.pointer, input.pointer, channels: cin, images: images,
                                           side: side, batchStride: images)
                } }),
            ("direct: convolution + batch norm + ReLU + max-pool, \(chunk)-image chunks", {
                directConvBatchNormReluPool(pooled.pointer, argmax, windowInput: windowInput.pointer, columns: columns.pointer,
                                            output: output.pointer, input.pointer, weight: weight.pointer, center: center.pointer,
                                            rstd: scale.pointer, gamma: scale.pointer, beta: center.pointer, inChannels: cin,
                                            outChannels: cout, images: images, side: side, batchStride: images, chunk: chunk) }),
            ("direct: window patch sums (backward)", {
                accumulateWindowPatchSums(dWeight.pointer, padded: padded.pointer, dPooled: dPooled.pointer, argmax: argmax,
                                          input.pointer, inChannels: cin, outChannels: cout, images: images, side: side, batchStride: images) }),
        ]
    }

    /// One Winograd tile's phases, each on its own buffers, over the images in chunks as the network does.
    private static func winogradPhases(tile: WinogradTile, cin: Int, cout: Int, side: Int, images: Int, input: FloatBuffer, weight: FloatBuffer,
                                       out: FloatBuffer, dOut: FloatBuffer, dInput: FloatBuffer) -> [(String, () -> Void)] {
        let chunk = min(images, EmbeddingNetwork.winogradChunkImages(cap: EmbeddingNetwork.defaultWinogradChunk, outChannels: cout, side: side, tile: tile))
        let plane = side * side
        let products = WinogradProducts(inChannels: cin, outChannels: cout, batch: chunk, side: side, tile: tile)
        let u = FloatBuffer(count: WinogradSizes.weights(inChannels: cin, outChannels: cout, tile: tile)), du = FloatBuffer(count: u.count)
        let v = FloatBuffer(count: WinogradSizes.inputs(channels: cin, batch: chunk, side: side, tile: tile)), dv = FloatBuffer(count: v.count)
        let m = FloatBuffer(count: WinogradSizes.inputs(channels: cout, batch: chunk, side: side, tile: tile))
        winogradTransformWeights(u.pointer, weight.pointer, inChannels: cin, outChannels: cout, tile: tile)
        /// Runs `body` with each chunk's first image (a remainder smaller than a chunk is left out).
        func chunks(_ body: @escaping (Int) -> Void) -> () -> Void {
            { for first in stride(from: 0, through: images - chunk, by: chunk) { body(first * plane) } }
        }
        let name = "winograd \(tile.name), \(chunk)-image chunks"
        return [
            ("\(name): input transform", chunks { at in
                winogradTransformInput(v.pointer, input.pointer + at, channels: cin, batch: chunk, side: side, batchStride: images, tile: tile) }),
            ("\(name): forward GEMMs", chunks { _ in products.forward(m.pointer, u.pointer, v.pointer) }),
            ("\(name): output transform", chunks { at in
                winogradTransformOutput(out.pointer + at, m.pointer, channels: cout, batch: chunk, side: side, batchStride: images, tile: tile) }),
            ("\(name): output adjoint", chunks { at in
                winogradTransformOutputAdjoint(m.pointer, dOut.pointer + at, channels: cout, batch: chunk, side: side, batchStride: images, tile: tile) }),
            ("\(name): dU GEMMs", chunks { _ in products.weightGradient(du.pointer, m.pointer, v.pointer) }),
            ("\(name): dV GEMMs", chunks { _ in products.inputGradient(dv.pointer, u.pointer, m.pointer) }),
            ("\(name): input adjoint", chunks { at in
                winogradTransformInputAdjointAccumulate(dInput.pointer + at, dv.pointer, channels: cin, batch: chunk, side: side,
                                                        batchStride: images, tile: tile) }),
        ]
    }
}
