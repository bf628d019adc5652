import CSN
import Foundation
import Tensor

/// `csn bench --kernels`: one worker's share of each stage of the default network (96 images, one
/// thread): the convolution by im2col + sgemm against Winograd F(2x2, 3x3), phase by phase, and
/// the fused batch norm + ReLU + max-pool. Medians of 9 runs.
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
            let products = WinogradProducts(inChannels: cin, outChannels: cout, batch: images, side: side)
            let u = FloatBuffer(count: WinogradSizes.weights(inChannels: cin, outChannels: cout)), du = FloatBuffer(count: u.count)
            let v = FloatBuffer(count: WinogradSizes.inputs(channels: cin, batch: images, side: side)), dv = FloatBuffer(count: v.count)
            let m = FloatBuffer(count: WinogradSizes.inputs(channels: cout, batch: images, side: side))
            winogradTransformWeights(u.pointer, weight.pointer, inChannels: cin, outChannels: cout)
            let pooled = FloatBuffer(count: out.count / 4), argmax = UnsafeMutablePointer<Int32>.allocate(capacity: out.count / 4)
            defer { argmax.deallocate() }
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
                    batchNormReluPool(pooled.pointer, argmax, out.pointer, center: center.pointer, rstd: scale.pointer,
                                      gamma: scale.pointer, beta: center.pointer, channels: cout, images: images,
                                      height: side, width: side, batchStride: images, storeNormalised: false) }),
            ]
            if cin >= EmbeddingNetwork.winogradMinimumChannels { phases += [
                ("winograd input transform", { winogradTransformInput(v.pointer, input.pointer, channels: cin, batch: images, side: side) }),
                ("winograd forward GEMMs", { products.forward(m.pointer, u.pointer, v.pointer) }),
                ("winograd output transform", { winogradTransformOutput(out.pointer, m.pointer, channels: cout, batch: images, side: side) }),
                ("winograd output adjoint", { winogradTransformOutputAdjoint(m.pointer, dOut.pointer, channels: cout, batch: images, side: side) }),
                ("winograd dU GEMMs", { products.weightGradient(du.pointer, m.pointer, v.pointer) }),
                ("winograd dV GEMMs", { products.inputGradient(dv.pointer, u.pointer, m.pointer) }),
                ("winograd input adjoint", {
                    winogradTransformInputAdjointAccumulate(dInput.pointer, dv.pointer, channels: cin, batch: images, side: side) }),
            ] }
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
}
