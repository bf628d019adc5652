/// The first stage's batch-norm statistics without its convolution's output.
///
/// Each output of a 3x3 convolution is x = w . P, the channel's weights [K] (K = 9 * input
/// channels) against the input patch P around that position (zeros beyond the border). Over all
/// positions, sum x = w . S and sum x^2 = w^T G w, with S = sum P and G = sum P P^T: a K-vector and
/// a K x K matrix that no output channel changes. With one or three input channels they are far
/// smaller than the output (32 channels x 32 x 32 per image on the default network), so the first
/// stage needs no pass over its output for batch norm's statistics, and none for its weight
/// gradient either (see directConvWeightGradient).

/// A padded image's side and the Floats it needs: one image's channels with a zero
/// border of one, plus four so that a four-lane load at the last patch stays inside.
public enum PaddedImage {
    public static func side(_ side: Int) -> Int { side + 2 }
    public static func count(channels: Int, side: Int) -> Int { channels * (side + 2) * (side + 2) + 4 }
}

/// Copies image `n` of a shard into `padded` [channels, side + 2, side + 2], whose border must be
/// zero (it is never written here). `input` is at the shard's first image of channel 0, a
/// channel's shard starting `batchStride` images later.
@inline(__always)
func padImage(_ padded: FloatPointer, _ input: ConstFloatPointer, image n: Int, channels: Int, side: Int, batchStride: Int) {
    let paddedSide = PaddedImage.side(side), plane = side * side
    for ci in 0..<channels {
        let source = input + (ci * batchStride + n) * plane
        let target = padded + ci * paddedSide * paddedSide + paddedSide + 1
        for y in 0..<side { (target + y * paddedSide).update(from: source + y * side, count: side) }
    }
}

/// gram[K, K] += sum over the shard's positions of P P^T, sums[K] += sum of P, in Double.
/// `padded` is scratch of PaddedImage.count. An image's products are added in Float lanes and
/// its totals in Double, so long batches keep their accuracy.
public func accumulatePatchMoments(_ gram: UnsafeMutablePointer<Double>, _ sums: UnsafeMutablePointer<Double>, padded: FloatPointer,
                                   _ input: ConstFloatPointer, channels: Int, images: Int, side: Int, batchStride: Int) {
    let paddedSide = PaddedImage.side(side), paddedPlane = paddedSide * paddedSide, k = channels * 9
    padded.update(repeating: 0, count: PaddedImage.count(channels: channels, side: side))
    // Where patch entry j = (channel, dy, dx) of the position (0, 0) lies in the padded image.
    func offset(_ j: Int) -> Int { (j / 9) * paddedPlane + (j % 9 / 3) * paddedSide + j % 3 }
    for n in 0..<images {
        padImage(padded, input, image: n, channels: channels, side: side, batchStride: batchStride)
        for a in 0..<k {
            let first = UnsafePointer(padded + offset(a))
            sums[a] += Double(rowSums(first, first, rowStride: paddedSide, rows: side, width: side, product: false))
            for b in a..<k {
                let total = Double(rowSums(first, UnsafePointer(padded + offset(b)), rowStride: paddedSide, rows: side, width: side, product: true))
                gram[a * k + b] += total
                if b != a { gram[b * k + a] += total }
            }
        }
    }
}

/// Sum over `rows` rows of `width` values of first * second (or of first alone), rows
/// `rowStride` apart.
@inline(__always)
private func rowSums(_ first: ConstFloatPointer, _ second: ConstFloatPointer, rowStride: Int, rows: Int, width: Int, product: Bool) -> Float {
    var acc = SIMD8<Float>(), tail: Float = 0
    for y in 0..<rows {
        let a = first + y * rowStride, b = second + y * rowStride
        var x = 0
        while x + 8 <= width {
            acc += product ? lanes(a, x) * lanes(b, x) : lanes(a, x)
            x += 8
        }
        while x < width { tail += product ? a[x] * b[x] : a[x]; x += 1 }
    }
    return acc.sum() + tail
}

/// Each output channel's shifted moments over `total` positions, as channelShiftedMoments would
/// give them from the convolution's output: sum (x - shift) and sum (x - shift)^2, from the
/// patches' `gram` and `sums` (accumulatePatchMoments) and the weights [Cout, K].
public func patchConvolutionMoments(_ shiftedSums: UnsafeMutablePointer<Double>, _ shiftedSquares: UnsafeMutablePointer<Double>,
                                    gram: UnsafePointer<Double>, sums: UnsafePointer<Double>, weight: ConstFloatPointer,
                                    shift: ConstFloatPointer, outChannels: Int, patchSize k: Int, total: Int) {
    for c in 0..<outChannels {
        let w = weight + c * k
        var first = 0.0, second = 0.0
        for a in 0..<k {
            first += Double(w[a]) * sums[a]
            var row = 0.0
            for b in 0..<k { row += gram[a * k + b] * Double(w[b]) }
            second += Double(w[a]) * row
        }
        let s = Double(shiftOrZero(shift[c])), m = Double(total)
        shiftedSums[c] = first - m * s
        shiftedSquares[c] = second - 2 * s * first + m * s * s
    }
}
