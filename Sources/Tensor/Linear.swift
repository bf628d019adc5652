/// Fully connected layer on sample-major rows: out[N, Fout] = input[N, Fin] x weight[Fout, Fin]^T + bias.
/// Its products run on SmallGemm where it covers them (as the network's: OpenBLAS's 256-bit
/// kernels here are half its speed), else on OpenBLAS.

/// `transposedWeight` [Fin, Fout], when given, is weight^T (linearTransposeWeight), which the
/// forward product needs on SmallGemm; without it the product goes to OpenBLAS (B transposed).
public func linearForward(_ out: FloatPointer, _ input: ConstFloatPointer, _ weight: ConstFloatPointer,
                          _ bias: ConstFloatPointer, batch: Int, inFeatures: Int, outFeatures: Int,
                          transposedWeight: ConstFloatPointer? = nil) {
    for n in 0..<batch { (out + n * outFeatures).update(from: bias, count: outFeatures) }
    if let transposedWeight {
        return matrixMultiply(m: batch, n: outFeatures, k: inFeatures, a: input, b: transposedWeight, c: out, accumulate: true)
    }
    sgemm(transposeB: true, m: batch, n: outFeatures, k: inFeatures, a: input, b: weight, beta: 1, c: out)
}

/// transposed[Fin, Fout] = weight^T for the output features `outputs` (whose bounds are
/// multiples of 16, as is Fin): threads that take disjoint ranges write disjoint memory.
public func linearTransposeWeight(_ transposed: FloatPointer, _ weight: ConstFloatPointer, inFeatures: Int, outFeatures: Int,
                                  outputs: Range<Int>) {
    guard !outputs.isEmpty else { return }
    precondition(inFeatures % 16 == 0 && outputs.lowerBound % 16 == 0 && outputs.count % 16 == 0,
                 "the weight is transposed in blocks of 16 x 16")
    SmallGemm.transpose(weight + outputs.lowerBound * inFeatures, rows: outputs.count, columns: inFeatures,
                        into: transposed + outputs.lowerBound, outStride: outFeatures)
}

/// Accumulates dWeight += dOut^T x input, dBias += column sums of dOut, dInput += dOut x weight.
public func linearBackward(_ dInput: FloatPointer?, _ dWeight: FloatPointer, _ dBias: FloatPointer,
                           _ dOut: ConstFloatPointer, _ input: ConstFloatPointer, _ weight: ConstFloatPointer,
                           batch: Int, inFeatures: Int, outFeatures: Int) {
    linearWeightGradient(dWeight, dBias, dOut, input, batch: batch, inFeatures: inFeatures, outFeatures: outFeatures,
                         outputs: 0..<outFeatures)
    if let dInput {
        linearInputGradient(dInput, dOut, weight, rows: 0..<batch, inFeatures: inFeatures, outFeatures: outFeatures)
    }
}

/// The part of linearBackward's weight and bias gradients for the output features `outputs`:
/// threads that take disjoint ranges write disjoint memory.
public func linearWeightGradient(_ dWeight: FloatPointer, _ dBias: FloatPointer, _ dOut: ConstFloatPointer, _ input: ConstFloatPointer,
                                 batch: Int, inFeatures: Int, outFeatures: Int, outputs: Range<Int>) {
    guard !outputs.isEmpty else { return }
    matrixMultiply(transposeA: true, m: outputs.count, n: inFeatures, k: batch, a: dOut + outputs.lowerBound, lda: outFeatures,
                   b: input, c: dWeight + outputs.lowerBound * inFeatures, accumulate: true)
    for n in 0..<batch {
        let row = dOut + n * outFeatures
        for o in outputs { dBias[o] += row[o] }
    }
}

/// The part of linearBackward's input gradient for the samples `rows`.
public func linearInputGradient(_ dInput: FloatPointer, _ dOut: ConstFloatPointer, _ weight: ConstFloatPointer,
                                rows: Range<Int>, inFeatures: Int, outFeatures: Int) {
    guard !rows.isEmpty else { return }
    matrixMultiply(m: rows.count, n: inFeatures, k: outFeatures, a: dOut + rows.lowerBound * outFeatures, b: weight,
                   c: dInput + rows.lowerBound * inFeatures, accumulate: true)
}

/// [C, N, S] (channel-major) to [N, C*S] rows, so that sample n's features are contiguous; only the
/// samples `images` when given.
public func channelMajorToRows(_ out: FloatPointer, _ input: ConstFloatPointer, channels: Int, batch: Int, spatial: Int,
                               images: Range<Int>? = nil) {
    for c in 0..<channels {
        for n in images ?? 0..<batch {
            (out + n * channels * spatial + c * spatial).update(from: input + (c * batch + n) * spatial, count: spatial)
        }
    }
}

/// The adjoint: dInput[C, N, S] += dOut[N, C*S] (the samples `images` when given).
public func rowsToChannelMajorAccumulate(_ dInput: FloatPointer, _ dOut: ConstFloatPointer, channels: Int, batch: Int, spatial: Int,
                                         images: Range<Int>? = nil) {
    for c in 0..<channels {
        for n in images ?? 0..<batch {
            let target = dInput + (c * batch + n) * spatial, source = dOut + n * channels * spatial + c * spatial
            for i in 0..<spatial { target[i] += source[i] }
        }
    }
}
