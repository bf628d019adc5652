/// Kernels for training a small ConvNet on the CPU, as free functions on contiguous Float buffers.
///
/// Layout: activations are channel-major, CNHW ([channels, batch, height, width]), not NCHW, so that
/// a convolution over the whole batch is a single sgemm ([Cout, Cin*9] x [Cin*9, N*H*W]) and batch
/// norm reads each channel contiguously. The linear layer takes sample-major rows [N, features];
/// `channelMajorToRows` converts between the two.
///
/// Conventions (as in llm.c): outputs first, then inputs, then weights, then shape integers;
/// forward caches what backward needs; backward *accumulates* (+=) into every gradient it writes,
/// so callers zero gradients explicitly; no kernel allocates.
public typealias FloatPointer = UnsafeMutablePointer<Float>
public typealias ConstFloatPointer = UnsafePointer<Float>
