import Testing
import Tensor
import TestSupport

/// The Winograd products' own matrix multiply against sums in Double, and the products and the
/// convolution through it against their definitions. Shapes are small: debug builds run SIMD code
/// slowly.
@Suite struct SmallGemmTests {
    /// The kernel runs where the build has AVX-512 (csn is compiled for the building CPU); elsewhere
    /// the products go to OpenBLAS, the kernel's own tests are skipped, and the rest check that path.
    @Test func coversOnlyWholeBlocks() {
        #expect(SmallGemm.covers(m: 8, n: 32, k: 1) == SmallGemm.isAvailable)
        #expect(SmallGemm.covers(m: 64, n: 128, k: 300) == SmallGemm.isAvailable)
        #expect(!SmallGemm.covers(m: 12, n: 32, k: 5), "rows not a multiple of 8")
        #expect(!SmallGemm.covers(m: 8, n: 48, k: 5), "columns not a multiple of 32")
        #expect(!SmallGemm.covers(m: 8, n: 32, k: 0) && !SmallGemm.covers(m: 0, n: 32, k: 3))
    }

    /// (rows, columns, depth, A transposed, accumulate), with B and C rows wider than the product.
    static let shapes: [(Int, Int, Int, Bool, Bool)] = [
        (8, 32, 1, false, false), (16, 64, 9, false, true), (24, 32, 37, true, false), (8, 96, 16, true, true),
    ]

    @Test(.enabled(if: SmallGemm.isAvailable, "this build leaves every product to OpenBLAS"), arguments: shapes)
    func multiplyMatchesTheDefinition(m: Int, n: Int, k: Int, transposed: Bool, accumulate: Bool) {
        let ldb = n + 16, ldc = n + 32
        let a = GradientCheck.random(m * k, seed: 31), b = GradientCheck.random(k * ldb, seed: 32)
        let start = GradientCheck.random(m * ldc, seed: 33)
        let c = FloatBuffer(start)
        let (aRowStride, aColumnStride) = transposed ? (1, m) : (k, 1)
        a.withUnsafeBufferPointer { aPointer in
            b.withUnsafeBufferPointer { bPointer in
                SmallGemm.multiply(m: m, n: n, k: k, a: aPointer.baseAddress!, aRowStride: aRowStride, aColumnStride: aColumnStride,
                                   b: bPointer.baseAddress!, ldb: ldb, c: c.pointer, ldc: ldc, accumulate: accumulate)
            }
        }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<ldc {
                var expected = j < n ? (0..<k).reduce(0.0) { $0 + Double(a[i * aRowStride + $1 * aColumnStride]) * Double(b[$1 * ldb + j]) } : 0
                if accumulate || j >= n { expected += Double(start[i * ldc + j]) }
                worst = max(worst, abs(Double(c[i * ldc + j]) - expected))
            }
        }
        #expect(worst < 1e-4, "max |kernel - definition| = \(worst), columns past n left as they were")
    }

    @Test(.enabled(if: SmallGemm.isAvailable, "this build leaves every product to OpenBLAS"), arguments: [(16, 16), (32, 48), (48, 32)])
    func transposeSwapsRowsAndColumns(rows: Int, columns: Int) {
        let input = FloatBuffer((0..<(rows * columns)).map(Float.init))
        let out = FloatBuffer(count: rows * columns, repeating: .nan)
        SmallGemm.transpose(input.pointer, rows: rows, columns: columns, into: out.pointer)
        let wrong = (0..<rows).flatMap { r in (0..<columns).filter { c in out[c * rows + r] != input[r * columns + c] } }
        #expect(wrong.isEmpty, "\(wrong.count) values misplaced")
    }

    /// The three products of a Winograd chunk against their definitions, in shapes the kernel
    /// takes (32 tiles, channels in whole blocks; the weight gradient needs 32 output channels) and
    /// in one it leaves to OpenBLAS (12 tiles).
    @Test(arguments: [(32, 8, 2, 16), (8, 32, 2, 16), (32, 8, 3, 8)]) func winogradProductsMatchTheirDefinitions(cin: Int, cout: Int, n: Int, side: Int) {
        let tile = WinogradTile.four, positions = tile.positions
        let tiles = WinogradSizes.tiles(batch: n, side: side, tile: tile)
        let products = WinogradProducts(inChannels: cin, outChannels: cout, batch: n, side: side, tile: tile)
        let v = FloatBuffer(GradientCheck.random(WinogradSizes.inputs(channels: cin, batch: n, side: side, tile: tile), seed: 34))
        let dm = FloatBuffer(GradientCheck.random(WinogradSizes.inputs(channels: cout, batch: n, side: side, tile: tile), seed: 35))
        let u = FloatBuffer(GradientCheck.random(WinogradSizes.weights(inChannels: cin, outChannels: cout, tile: tile), seed: 36))
        let m = FloatBuffer(count: dm.count), dv = FloatBuffer(count: v.count)
        let du = FloatBuffer(count: u.count, repeating: 0.5)
        products.forward(m.pointer, u.pointer, v.pointer)
        products.weightGradient(du.pointer, dm.pointer, v.pointer)
        products.inputGradient(dv.pointer, u.pointer, dm.pointer)
        let vStride = v.count / positions, mStride = dm.count / positions
        var forwardGap = 0.0, weightGap = 0.0, inputGap = 0.0
        for k in 0..<positions {
            for co in 0..<cout {
                for t in 0..<tiles {
                    let sum = (0..<cin).reduce(0.0) { $0 + Double(u[(k * cout + co) * cin + $1]) * Double(v[k * vStride + $1 * tiles + t]) }
                    forwardGap = max(forwardGap, abs(Double(m[k * mStride + co * tiles + t]) - sum))
                }
                for ci in 0..<cin {
                    let sum = (0..<tiles).reduce(0.5) { $0 + Double(dm[k * mStride + co * tiles + $1]) * Double(v[k * vStride + ci * tiles + $1]) }
                    weightGap = max(weightGap, abs(Double(du[(k * cin + ci) * cout + co]) - sum))
                }
            }
            for ci in 0..<cin {
                for t in 0..<tiles {
                    let sum = (0..<cout).reduce(0.0) { $0 + Double(u[(k * cout + $1) * cin + ci]) * Double(dm[k * mStride + $1 * tiles + t]) }
                    inputGap = max(inputGap, abs(Double(dv[k * vStride + ci * tiles + t]) - sum))
                }
            }
        }
        #expect(forwardGap < 1e-4 && weightGap < 1e-4 && inputGap < 1e-4,
                "max gaps: forward \(forwardGap), weight gradient \(weightGap), input gradient \(inputGap)")
    }

    /// A convolution whose product the kernel takes (8 outputs, 2 images of 4x4: 32 columns), on a
    /// shard (images 1 and 2 of 3), so that C's rows are wider than the product: the shard's
    /// outputs match the definition, and image 0's are left alone.
    @Test func convolutionThroughTheKernelMatchesTheNaiveOne() {
        let (cin, cout, batch, h, w) = (3, 8, 3, 4, 4)
        let plane = h * w, shard = 2
        #expect(SmallGemm.covers(m: cout, n: shard * plane, k: cin * 9) == SmallGemm.isAvailable)
        let input = FloatBuffer(GradientCheck.random(cin * batch * plane, seed: 37))
        let weight = FloatBuffer(GradientCheck.random(cout * cin * 9, seed: 38))
        let fast = FloatBuffer(count: cout * batch * plane), naive = FloatBuffer(count: fast.count)
        let col = FloatBuffer(count: cin * 9 * shard * plane)
        conv2dForward(fast.pointer + plane, col.pointer, input.pointer + plane, weight.pointer, inChannels: cin, outChannels: cout,
                      batch: shard, height: h, width: w, batchStride: batch)
        conv2dNaiveForward(naive.pointer, input.pointer, weight.pointer, inChannels: cin, outChannels: cout, batch: batch, height: h, width: w)
        let shardValues = (0..<cout).flatMap { c in (plane..<(batch * plane)).map { c * batch * plane + $0 } }
        let worst = shardValues.map { abs(fast[$0] - naive[$0]) }.max()!
        #expect(worst < 1e-5, "max |kernel convolution - naive| = \(worst)")
        #expect((0..<cout).allSatisfy { c in (0..<plane).allSatisfy { fast[c * batch * plane + $0] == 0 } }, "image 0 untouched")
    }
}
