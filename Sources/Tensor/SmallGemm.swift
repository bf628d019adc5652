import CBLAS

/// The Winograd products' matrix multiplies on 512-bit vectors: C[m, n] = A B, or C += A B, for
/// the small matrices of a chunk of tiles (m and k up to a few hundred, n a multiple of 32).
///
/// OpenBLAS picks its kernels by CPU model when it loads, and where its own choice is overridden
/// (OPENBLAS_CORETYPE) or predates the CPU, its 256-bit kernels run at half of what a core with
/// full-width AVX-512 can do. This kernel is compiled for the building CPU (`-march=native`) and
/// runs only where that build has AVX-512; elsewhere, and for shapes it does not cover, the
/// products go to OpenBLAS (`sgemm`).
///
/// Each 8 x 32 block of C is held in 16 vector registers while k runs, and each step adds an
/// 8-row column of A (broadcast) times a 32-wide row of B: 16 fused multiply-adds for 2 loads of
/// B and 8 broadcasts. Columns of 32 go outermost, so a k x 32 panel of B stays in L1 while the
/// row blocks pass over it. Every output is summed over k in order, so results repeat exactly.
public enum SmallGemm {
    /// Whether this build runs the kernel: its code uses 512-bit vectors only when compiled with
    /// AVX-512 (with fewer registers the 16 accumulators would spill).
    public static let isAvailable = csn_built_with_avx512() != 0

    static let rowBlock = 8, columnBlock = 32

    /// Whether an m x n product takes this kernel.
    public static func covers(m: Int, n: Int, k: Int) -> Bool {
        isAvailable && m > 0 && n > 0 && k > 0 && m % rowBlock == 0 && n % columnBlock == 0
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
    /// block goes through registers, so every load and store is a whole 64-byte line.
    public static func transpose(_ input: ConstFloatPointer, rows: Int, columns: Int, into out: FloatPointer) {
        precondition(rows % 16 == 0 && columns % 16 == 0, "SmallGemm.transpose needs sides in multiples of 16")
        for r in stride(from: 0, to: rows, by: 16) {
            for c in stride(from: 0, to: columns, by: 16) {
                transposeBlock(input + r * columns + c, columns, out + c * rows + r, rows)
            }
        }
    }

    /// Four rounds of splitting each pair of rows into its even and odd elements (rows 2i and
    /// 2i+1 into rows i and i+8) transpose a 16 x 16 block.
    @inline(never)
    private static func transposeBlock(_ input: ConstFloatPointer, _ inputStride: Int, _ out: FloatPointer, _ outStride: Int) {
        var rows = (Lanes(), Lanes(), Lanes(), Lanes(), Lanes(), Lanes(), Lanes(), Lanes(),
                    Lanes(), Lanes(), Lanes(), Lanes(), Lanes(), Lanes(), Lanes(), Lanes())
        withUnsafeMutableBytes(of: &rows) { raw in
            let v = raw.baseAddress!.assumingMemoryBound(to: Lanes.self)
            for i in 0..<16 { v[i] = load(input + i * inputStride) }
            for _ in 0..<4 {
                let pairs = (SIMD32(lowHalf: v[0], highHalf: v[1]), SIMD32(lowHalf: v[2], highHalf: v[3]),
                             SIMD32(lowHalf: v[4], highHalf: v[5]), SIMD32(lowHalf: v[6], highHalf: v[7]),
                             SIMD32(lowHalf: v[8], highHalf: v[9]), SIMD32(lowHalf: v[10], highHalf: v[11]),
                             SIMD32(lowHalf: v[12], highHalf: v[13]), SIMD32(lowHalf: v[14], highHalf: v[15]))
                v[0] = pairs.0.evenHalf; v[8] = pairs.0.oddHalf
                v[1] = pairs.1.evenHalf; v[9] = pairs.1.oddHalf
                v[2] = pairs.2.evenHalf; v[10] = pairs.2.oddHalf
                v[3] = pairs.3.evenHalf; v[11] = pairs.3.oddHalf
                v[4] = pairs.4.evenHalf; v[12] = pairs.4.oddHalf
                v[5] = pairs.5.evenHalf; v[13] = pairs.5.oddHalf
                v[6] = pairs.6.evenHalf; v[14] = pairs.6.oddHalf
                v[7] = pairs.7.evenHalf; v[15] = pairs.7.oddHalf
            }
            for i in 0..<16 { UnsafeMutableRawPointer(out + i * outStride).storeBytes(of: v[i], as: Lanes.self) }
        }
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
