/// Rectified linear unit, elementwise; backward reads the forward output. The network runs ReLU
/// fused into batch norm and max-pool; these are the plain reference the fused paths are tested against.

public func reluForward(_ out: FloatPointer, _ input: ConstFloatPointer, count: Int) {
    for i in 0..<count { out[i] = max(input[i], 0) }
}

/// dInput += dOut where the output was positive.
public func reluBackward(_ dInput: FloatPointer, _ dOut: ConstFloatPointer, _ output: ConstFloatPointer, count: Int) {
    for i in 0..<count where output[i] > 0 { dInput[i] += dOut[i] }
}
