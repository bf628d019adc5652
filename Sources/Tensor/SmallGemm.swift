import CBLAS

/// C[m, n] = op(A) B, or C += op(A) B when `accumulate`, with A [m, k] (or [k, m] when
/// `transposeA`; rows `lda` apart, by default packed) and B and C row-major: on SmallGemm where it
/// covers the shape, else on OpenBLAS.
public func matrixMultiply(transposeA: Bool = false, m: Int, n: Int, k: Int, a: ConstFloatPointer, lda: Int? = nil,
                           b: ConstFloatPointer, ldb: Int? = nil, c: FloatPointer, ldc: Int? = nil, accumulate: Bool) {
    guard SmallGemm.covers(m: m, n: n, k: k) else {
        return sgemm(transposeA: transposeA, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: accumulate ? 1 : 0, c: c, ldc: ldc)
    }
    let rowStride = lda ?? (transposeA ? m : k)
    SmallGemm.multiply(m: m, n: n, k: k, a: a, aRowStride: transposeA ? 1 : rowStride, aColumnStride: transposeA ? rowStride : 1,
                       b: b, ldb: ldb ?? n, c: c, ldc: ldc ?? n, accumulate: accumulate)
}

/// Small matrix multiplies on 512-bit vectors (the Winograd products, the direct stage's short
/// convolutions): C[m, n] = A B, or C += A B, with m and k up to a few hundred and n a multiple
/// of 32.
///
/// OpenBLAS picks its kernels by CPU model when it loads, and where its own choice is overridden
/// (OPENBLAS_CORETYPE) or predates the CPU, its 256-bit kernels run at half of what a core with
/// full-width AVX-512 can do. This kernel is compiled for the building CPU (`-march=native`) and
/// runs only where that build has AVX-512; elsewhere, and for shapes it does not cover, the
/// products go to OpenBLAS (`sgemm`).
///
/// Each 8 x 32 block of C is held in 16 vector registers while k runs, and each step adds an
/// 8-row column of A (broadcast) times a 32-wide row of B: 16 fused multiply-adds for 2 loads of
/// B and 8 broadcasts. Columns of 32 go outermost, so a k x 32 panel of B stays in L1 (for k up to
/// a few hundred) while the row blocks pass over it. Every output is summed over k in order, so
/// results repeat exactly.
public enum SmallGemm {
    /// Whether this build runs the kernel: its code uses 512-bit vectors only when compiled with
    /// AVX-512 (with fewer registers the 16 accumulators would spill).
    public static let isAvailable = csn_built_with_avx512() != 0

    static let rowBlock = 8, columnBlock = 32
    /// The widest product the kernel takes. It goes through C's columns outermost: right for a
    /// Winograd chunk or the direct stage's few images, but over a whole shard its writes spread
    /// over every row of a large C (the first stage's 96 images as one convolution: 1.55 against
    /// OpenBLAS's 1.14 ms in `csn bench --kernels`).
    static let columnLimit = 8192

    /// Whether an m x n product takes this kernel.
    public static func covers(m: Int, n: Int, k: Int) -> Bool {
        isAvailable && m > 0 && n > 0 && k > 0 && m % rowBlock == 0 && n % columnBlock == 0 && n <= columnLimit
    }

    /// C[m, n] = A B, or C += A B when `accumulate`. A[i, p] is a[i * aRowStride + p * aColumnStride]
    /// (so either layout of A), B is row-major with `ldb`, C with `ldc`. Needs `covers(m:n:k:)`.
    public static func multiply(m: Int, n: Int, k: Int, a: ConstFloatPointer, aRowStride: Int, aColumnStride: Int,
                                b: ConstFloatPointer, ldb: Int, c: FloatPointer, ldc: Int, accumulate: Bool) {
        precondition(covers(m: m, n: n, k: k), "SmallGemm does not cover \(m) x \(n) x \(k)")
        for column in stride(from: 0, to: n, by: columnBlock) {
            for row in stride(from: 0, to: m, by: rowBlock) {
                block(k: k, a: a + row * aRowStride, aRowStride: aRowStride, aColumnStride: aColumnStride,
                      b: b + column, ldb: ldb, c: c + row * ldc + column, ldc: ldc, accumulate: accumulate)
            }
        }
    }

    @inline(never)
    private static func block(k: Int, a: ConstFloatPointer, aRowStride: Int, aColumnStride: Int,
                              b: ConstFloatPointer, ldb: Int, c: FloatPointer, ldc: Int, accumulate: Bool) {
        var c00 = Lanes(), c01 = Lanes(), c10 = Lanes(), c11 = Lanes(), c20 = Lanes(), c21 = Lanes()
        var c30 = Lanes(), c31 = Lanes(), c40 = Lanes(), c41 = Lanes(), c50 = Lanes(), c51 = Lanes()
        var c60 = Lanes(), c61 = Lanes(), c70 = Lanes(), c71 = Lanes()
        let r = aRowStride
        var aColumn = a, bRow = b
        for _ in 0..<k {
            let b0 = load(bRow), b1 = load(bRow + 16)
            var s = Lanes(repeating: aColumn[0])
            c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
            s = Lanes(repeating: aColumn[r])
            c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
            s = Lanes(repeating: aColumn[2 * r])
            c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
            s = Lanes(repeating: aColumn[3 * r])
            c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
            s = Lanes(repeating: aColumn[4 * r])
            c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
            s = Lanes(repeating: aColumn[5 * r])
            c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
            s = Lanes(repeating: aColumn[6 * r])
            c60 = c60.addingProduct(s, b0); c61 = c61.addingProduct(s, b1)
            s = Lanes(repeating: aColumn[7 * r])
            c70 = c70.addingProduct(s, b0); c71 = c71.addingProduct(s, b1)
            aColumn += aColumnStride
            bRow += ldb
        }
        store(c00, c01, c, accumulate); store(c10, c11, c + ldc, accumulate)
        store(c20, c21, c + 2 * ldc, accumulate); store(c30, c31, c + 3 * ldc, accumulate)
        store(c40, c41, c + 4 * ldc, accumulate); store(c50, c51, c + 5 * ldc, accumulate)
        store(c60, c61, c + 6 * ldc, accumulate); store(c70, c71, c + 7 * ldc, accumulate)
    }

    /// out[c, r] = input[r, c] for a rows x columns matrix, both sides multiples of 16: each 16 x 16
    /// block goes through registers, so every load and store is a whole 64-byte line. Rows of out
    /// are `outStride` apart (default `rows`: a packed transpose), so that rows of a wider matrix's
    /// transpose can be written a block of rows at a time.
    public static func transpose(_ input: ConstFloatPointer, rows: Int, columns: Int, into out: FloatPointer, outStride: Int? = nil) {
        precondition(rows % 16 == 0 && columns % 16 == 0, "SmallGemm.transpose needs sides in multiples of 16")
        let stride = outStride ?? rows
        for r in Swift.stride(from: 0, to: rows, by: 16) {
            for c in Swift.stride(from: 0, to: columns, by: 16) {
                transposeBlock(input + r * columns + c, columns, out + c * stride + r, stride)
            }
        }
    }

    /// Four rounds of splitting each pair of rows into its even and odd elements (rows 2i and
    /// 2i+1 into rows i and i+8) transpose a 16 x 16 block. The rows stay in registers.
    @inline(never)
    private static func transposeBlock(_ input: ConstFloatPointer, _ inputStride: Int, _ out: FloatPointer, _ outStride: Int) {
        var r0 = load(input), r1 = load(input + inputStride), r2 = load(input + 2 * inputStride), r3 = load(input + 3 * inputStride)
        var r4 = load(input + 4 * inputStride), r5 = load(input + 5 * inputStride), r6 = load(input + 6 * inputStride)
        var r7 = load(input + 7 * inputStride), r8 = load(input + 8 * inputStride), r9 = load(input + 9 * inputStride)
        var r10 = load(input + 10 * inputStride), r11 = load(input + 11 * inputStride), r12 = load(input + 12 * inputStride)
        var r13 = load(input + 13 * inputStride), r14 = load(input + 14 * inputStride), r15 = load(input + 15 * inputStride)
        for _ in 0..<4 {
            let (n0, n8) = split(r0, r1), (n1, n9) = split(r2, r3), (n2, n10) = split(r4, r5), (n3, n11) = split(r6, r7)
            let (n4, n12) = split(r8, r9), (n5, n13) = split(r10, r11), (n6, n14) = split(r12, r13), (n7, n15) = split(r14, r15)
            (r0, r1, r2, r3, r4, r5, r6, r7) = (n0, n1, n2, n3, n4, n5, n6, n7)
            (r8, r9, r10, r11, r12, r13, r14, r15) = (n8, n9, n10, n11, n12, n13, n14, n15)
        }
        func store(_ row: Lanes, _ i: Int) { UnsafeMutableRawPointer(out + i * outStride).storeBytes(of: row, as: Lanes.self) }
        store(r0, 0); store(r1, 1); store(r2, 2); store(r3, 3); store(r4, 4); store(r5, 5); store(r6, 6); store(r7, 7)
        store(r8, 8); store(r9, 9); store(r10, 10); store(r11, 11); store(r12, 12); store(r13, 13); store(r14, 14); store(r15, 15)
    }

    /// A pair of rows' even elements and odd elements.
    @inline(__always) private static func split(_ a: Lanes, _ b: Lanes) -> (Lanes, Lanes) {
        let pair = SIMD32(lowHalf: a, highHalf: b)
        return (pair.evenHalf, pair.oddHalf)
    }

    @inline(__always) private static func load(_ p: ConstFloatPointer) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }

    @inline(__always) private static func store(_ low: Lanes, _ high: Lanes, _ row: FloatPointer, _ accumulate: Bool) {
        let raw = UnsafeMutableRawPointer(row)
        if accumulate {
            raw.storeBytes(of: low + load(row), as: Lanes.self)
            raw.storeBytes(of: high + load(row + 16), toByteOffset: 64, as: Lanes.self)
        } else {
            raw.storeBytes(of: low, as: Lanes.self)
            raw.storeBytes(of: high, toByteOffset: 64, as: Lanes.self)
        }
    }
}
