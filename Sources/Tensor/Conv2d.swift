/// 3x3 convolution, stride 1, zero padding 1 (the output has the input's height and width), no bias
/// (batch norm follows every convolution). Activations CNHW; weights [Cout, Cin, 3, 3].
///
/// Every kernel can work on a shard of the batch: `batch` images starting where the pointer
/// points, inside activations that hold `batchStride` images per channel (so channel c of the
/// shard starts at c * batchStride * H * W). Columns are always packed: [Cin*9, batch*H*W].

/// Unfolds the input into columns: col[(ci*9 + ky*3 + kx), (n*H*W + y*W + x)] = in[ci, n, y+ky-1, x+kx-1].
/// col: [Cin*9, N*H*W]; input: [Cin, N, H, W].
public func im2col(_ col: FloatPointer, _ input: ConstFloatPointer, channels: Int, batch: Int, height: Int, width: Int,
                   batchStride: Int? = nil) {
    let plane = height * width, columns = batch * plane, stride = batchStride ?? batch
    for ci in 0..<channels {
        for ky in 0..<3 {
            for kx in 0..<3 {
                let row = col + ((ci * 9 + ky * 3 + kx) * columns)
                for n in 0..<batch {
                    let source = input + ((ci * stride + n) * plane)
                    let target = row + n * plane
                    for y in 0..<height {
                        let sy = y + ky - 1
                        let targetRow = target + y * width
                        guard sy >= 0 && sy < height else {
                            targetRow.update(repeating: 0, count: width)
                            continue
                        }
                        let sourceRow = source + sy * width
                        // x + kx - 1 stays inside [0, width) for x in lo..<hi.
                        let lo = kx == 0 ? 1 : 0, hi = kx == 2 ? width - 1 : width
                        if lo > 0 { targetRow[0] = 0 }
                        if hi < width { targetRow[width - 1] = 0 }
                        (targetRow + lo).update(from: sourceRow + (lo + kx - 1), count: hi - lo)
                    }
                }
            }
        }
    }
}

/// The adjoint of im2col: adds each column entry back onto the input position it came from.
/// dInput: [Cin, N, H, W] (accumulated); dCol: [Cin*9, N*H*W].
public func col2imAccumulate(_ dInput: FloatPointer, _ dCol: ConstFloatPointer, channels: Int, batch: Int, height: Int, width: Int,
                             batchStride: Int? = nil) {
    let plane = height * width, columns = batch * plane, stride = batchStride ?? batch
    for ci in 0..<channels {
        for ky in 0..<3 {
            for kx in 0..<3 {
                let row = dCol + ((ci * 9 + ky * 3 + kx) * columns)
                for n in 0..<batch {
                    let target = dInput + ((ci * stride + n) * plane)
                    let source = row + n * plane
                    for y in 0..<height {
                        let sy = y + ky - 1
                        guard sy >= 0 && sy < height else { continue }
                        let lo = kx == 0 ? 1 : 0, hi = kx == 2 ? width - 1 : width
                        let targetRow = target + sy * width + (kx - 1), sourceRow = source + y * width
                        for x in lo..<hi { targetRow[x] += sourceRow[x] }
                    }
                }
            }
        }
    }
}

/// out[Cout, N*H*W] = weight[Cout, Cin*9] x col[Cin*9, N*H*W]; `col` is filled here and can be
/// reused by the backward pass if nothing overwrote it. `out` holds `outputBatchStride` images per
/// channel (default: `batchStride`, the input's).
public func conv2dForward(_ out: FloatPointer, _ col: FloatPointer, _ input: ConstFloatPointer, _ weight: ConstFloatPointer,
                          inChannels: Int, outChannels: Int, batch: Int, height: Int, width: Int, batchStride: Int? = nil,
                          outputBatchStride: Int? = nil) {
    let plane = height * width
    im2col(col, input, channels: inChannels, batch: batch, height: height, width: width, batchStride: batchStride)
    matrixMultiply(m: outChannels, n: batch * plane, k: inChannels * 9, a: weight, b: col, c: out,
                   ldc: (outputBatchStride ?? batchStride ?? batch) * plane, accumulate: false)
}

/// Accumulates dWeight += dOut x col^T and, when `dInput` is given, dInput += col2im(weight^T x dOut).
/// `col` must hold im2col(input) (as conv2dForward left it); `dCol` is scratch of the same size.
public func conv2dBackward(_ dInput: FloatPointer?, _ dWeight: FloatPointer, _ dCol: FloatPointer,
                           _ dOut: ConstFloatPointer, _ col: ConstFloatPointer, _ weight: ConstFloatPointer,
                           inChannels: Int, outChannels: Int, batch: Int, height: Int, width: Int, batchStride: Int? = nil) {
    let columns = batch * height * width, k = inChannels * 9
    let rowStride = (batchStride ?? batch) * height * width
    sgemm(transposeB: true, m: outChannels, n: k, k: columns, a: dOut, lda: rowStride, b: col, beta: 1, c: dWeight)
    guard let dInput else { return }
    sgemm(transposeA: true, m: k, n: columns, k: outChannels, a: weight, b: dOut, ldb: rowStride, beta: 0, c: dCol)
    col2imAccumulate(dInput, dCol, channels: inChannels, batch: batch, height: height, width: width, batchStride: batchStride)
}

/// The plain reference: the convolution written as its definition, for tests.
public func conv2dNaiveForward(_ out: FloatPointer, _ input: ConstFloatPointer, _ weight: ConstFloatPointer,
                               inChannels: Int, outChannels: Int, batch: Int, height: Int, width: Int) {
    for co in 0..<outChannels {
        for n in 0..<batch {
            for y in 0..<height {
                for x in 0..<width {
                    var sum: Float = 0
                    for ci in 0..<inChannels {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let sy = y + ky - 1, sx = x + kx - 1
                                guard sy >= 0, sy < height, sx >= 0, sx < width else { continue }
                                sum += weight[((co * inChannels + ci) * 3 + ky) * 3 + kx]
                                    * input[((ci * batch + n) * height + sy) * width + sx]
                            }
                        }
                    }
                    out[((co * batch + n) * height + y) * width + x] = sum
                }
            }
        }
    }
}
