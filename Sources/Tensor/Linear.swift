/// Fully connected layer on sample-major rows: out[N, Fout] = input[N, Fin] x weight[Fout, Fin]^T + bias.

public func linearForward(_ out: FloatPointer, _ input: ConstFloatPointer, _ weight: ConstFloatPointer,
                          _ bias: ConstFloatPointer, batch: Int, inFeatures: Int, outFeatures: Int) {
    for n in 0..<batch { (out + n * outFeatures).update(from: bias, count: outFeatures) }
    sgemm(transposeB: true, m: batch, n: outFeatures, k: inFeatures, a: input, b: weight, beta: 1, c: out)
}

/// Accumulates dWeight += dOut^T x input, dBias += column sums of dOut, dInput += dOut x weight.
public func linearBackward(_ dInput: FloatPointer?, _ dWeight: FloatPointer, _ dBias: FloatPointer,
                           _ dOut: ConstFloatPointer, _ input: ConstFloatPointer, _ weight: ConstFloatPointer,
                           batch: Int, inFeatures: Int, outFeatures: Int) {
    sgemm(transposeA: true, m: outFeatures, n: inFeatures, k: batch, a: dOut, b: input, beta: 1, c: dWeight)
    for n in 0..<batch {
        let row = dOut + n * outFeatures
        for o in 0..<outFeatures { dBias[o] += row[o] }
    }
    if let dInput {
        sgemm(m: batch, n: inFeatures, k: outFeatures, a: dOut, b: weight, beta: 1, c: dInput)
    }
}

/// [C, N, S] (channel-major) to [N, C*S] rows, so that sample n's features are contiguous.
public func channelMajorToRows(_ out: FloatPointer, _ input: ConstFloatPointer, channels: Int, batch: Int, spatial: Int) {
    for c in 0..<channels {
        for n in 0..<batch {
            (out + n * channels * spatial + c * spatial).update(from: input + (c * batch + n) * spatial, count: spatial)
        }
    }
}

/// The adjoint: dInput[C, N, S] += dOut[N, C*S].
public func rowsToChannelMajorAccumulate(_ dInput: FloatPointer, _ dOut: ConstFloatPointer, channels: Int, batch: Int, spatial: Int) {
    for c in 0..<channels {
        for n in 0..<batch {
            let target = dInput + (c * batch + n) * spatial, source = dOut + n * channels * spatial + c * spatial
            for i in 0..<spatial { target[i] += source[i] }
        }
    }
}
