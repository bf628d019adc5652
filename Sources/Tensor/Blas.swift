import CBLAS

/// Row-major single-precision matrix product through OpenBLAS:
/// C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C, where op transposes when asked.
/// Leading dimensions default to packed matrices; pass them to work on a block of a wider matrix.
@inline(__always)
public func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                  alpha: Float = 1, a: ConstFloatPointer, lda: Int? = nil, b: ConstFloatPointer, ldb: Int? = nil,
                  beta: Float, c: FloatPointer, ldc: Int? = nil) {
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                blasint(m), blasint(n), blasint(k), alpha,
                a, blasint(lda ?? (transposeA ? m : k)), b, blasint(ldb ?? (transposeB ? k : n)), beta, c, blasint(ldc ?? n))
}

/// OpenBLAS threads; results repeat exactly only for the same count. csn runs OpenBLAS single-
/// threaded and parallelises by sharding its own work (`forEachShard`): the count is set once, on
/// the main thread before any other thread starts (the command's entry, a training session's
/// setup), and never changed while another thread may be inside sgemm.
public enum BlasThreads {
    public static func set(_ count: Int) { openblas_set_num_threads(Int32(count)) }
    public static var count: Int { Int(openblas_get_num_threads()) }
}
