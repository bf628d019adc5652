import Tensor

/// The t-SNE gradient in openTSNE's units (dC/dy / 4):
///   g_i = exaggeration * sum_j p_ij w_ij (y_i - y_j)  -  sum_j w_ij^2 (y_i - y_j) / Z,
/// with w_ij = 1 / (1 + |y_i - y_j|^2) and Z = sum_{k != l} w_kl. The attractive part runs over
/// the sparse P; the repulsive part is exact (O(N^2)), Barnes-Hut or FFT-interpolated (FFTRepulsion).
enum TSNEGradient {
    /// Attractive forces: gradient[i] += exaggeration * sum_j p_ij w_ij (y_i - y_j), rows `range`.
    static func attractive(_ gradient: UnsafeMutablePointer<Float>, _ layout: UnsafePointer<Float>, _ p: AffinityMatrix,
                           exaggeration: Float, rows range: Range<Int>) {
        p.rowStart.withUnsafeBufferPointer { rowStart in
            p.columns.withUnsafeBufferPointer { columns in
                p.values.withUnsafeBufferPointer { values in
                    for i in range {
                        let xi = layout[2 * i], yi = layout[2 * i + 1]
                        // Eight edges at a time: the divisions and sums run in SIMD lanes.
                        var sumX = SIMD8<Float>(), sumY = SIMD8<Float>()
                        var e = rowStart[i]
                        let end = rowStart[i + 1]
                        while e + 8 <= end {
                            var xj = SIMD8<Float>(), yj = SIMD8<Float>(), p = SIMD8<Float>()
                            for lane in 0..<8 {
                                let j = Int(columns[e + lane])
                                xj[lane] = layout[2 * j]
                                yj[lane] = layout[2 * j + 1]
                                p[lane] = values[e + lane]
                            }
                            let dx = xi - xj, dy = yi - yj
                            let w = p / (1 + dx * dx + dy * dy)
                            sumX += w * dx
                            sumY += w * dy
                            e += 8
                        }
                        var fx = sumX.sum(), fy = sumY.sum()
                        while e < end {
                            let j = Int(columns[e])
                            let dx = xi - layout[2 * j], dy = yi - layout[2 * j + 1]
                            let w = values[e] / (1 + dx * dx + dy * dy)
                            fx += w * dx
                            fy += w * dy
                            e += 1
                        }
                        gradient[2 * i] += exaggeration * fx
                        gradient[2 * i + 1] += exaggeration * fy
                    }
                }
            }
        }
    }

    /// Exact repulsion, the plain loop: writes the unnormalised forces sum_j w_ij^2 (y_i - y_j) to
    /// `repulsion` and returns Z. The reference for tests; maps use the vectorised one below.
    static func plainExactRepulsion(_ repulsion: UnsafeMutablePointer<Float>, _ layout: UnsafePointer<Float>, count n: Int) -> Double {
        var z = 0.0
        for i in 0..<n {
            var fx: Float = 0, fy: Float = 0
            for j in 0..<n where j != i {
                let dx = layout[2 * i] - layout[2 * j], dy = layout[2 * i + 1] - layout[2 * j + 1]
                let w = 1 / (1 + dx * dx + dy * dy)
                z += Double(w)
                fx += w * w * dx
                fy += w * w * dy
            }
            repulsion[2 * i] = fx
            repulsion[2 * i + 1] = fy
        }
        return z
    }

    /// Exact repulsion for rows `range`, sixteen points j at a time, with the coordinates apart in
    /// `xs` and `ys`: the same sums as `plainExactRepulsion`, and faster than Barnes-Hut's walk on small
    /// maps (TSNEConfig.exactBelowPoints). Returns the rows' part of Z. A row's own term (w = 1, no
    /// force) is summed with the rest and taken out of Z after.
    static func exactRepulsion(_ repulsion: UnsafeMutablePointer<Float>, xs: UnsafePointer<Float>, ys: UnsafePointer<Float>,
                               count n: Int, rows range: Range<Int>) -> Double {
        // Built for AVX-512 (and so FMA), fused multiply-adds keep the lanes whole; plain ones
        // there were split into pieces, and fused ones without FMA (baseline x86-64) are a
        // library call per lane. Other targets (AVX2, arm64) take the plain path, unmeasured.
        SmallGemm.isAvailable
            ? exactRepulsion(repulsion, xs: xs, ys: ys, count: n, rows: range, fused: true)
            : exactRepulsion(repulsion, xs: xs, ys: ys, count: n, rows: range, fused: false)
    }

    @inline(__always)
    static func exactRepulsion(_ repulsion: UnsafeMutablePointer<Float>, xs: UnsafePointer<Float>, ys: UnsafePointer<Float>,
                                       count n: Int, rows range: Range<Int>, fused: Bool) -> Double {
        typealias Lanes = SIMD16<Float>
        @inline(__always) func multiplyAdd(_ a: Lanes, _ b: Lanes, _ c: Lanes) -> Lanes { fused ? c.addingProduct(a, b) : c + a * b }
        let whole = n - n % Lanes.scalarCount
        var z = 0.0
        for i in range {
            let xi = xs[i], yi = ys[i]
            // Whole-vector operations only: a scalar operand made the compiler split the lanes.
            let xv = Lanes(repeating: xi), yv = Lanes(repeating: yi), one = Lanes(repeating: 1)
            var zi = Lanes(), fx = Lanes(), fy = Lanes()
            var j = 0
            while j < whole {
                let dx = xv - UnsafeRawPointer(xs + j).loadUnaligned(as: Lanes.self)
                let dy = yv - UnsafeRawPointer(ys + j).loadUnaligned(as: Lanes.self)
                let w = one / multiplyAdd(dy, dy, multiplyAdd(dx, dx, one))
                zi += w
                let w2 = w * w
                fx = multiplyAdd(w2, dx, fx)
                fy = multiplyAdd(w2, dy, fy)
                j += Lanes.scalarCount
            }
            var rowZ = zi.sum(), rowX = fx.sum(), rowY = fy.sum()
            while j < n {
                let dx = xi - xs[j], dy = yi - ys[j]
                let w = 1 / (1 + dx * dx + dy * dy)
                rowZ += w
                rowX += w * w * dx
                rowY += w * w * dy
                j += 1
            }
            z += Double(rowZ) - 1
            repulsion[2 * i] = rowX
            repulsion[2 * i + 1] = rowY
        }
        return z
    }

    /// Barnes-Hut repulsion for rows `range`: a cell whose side over the distance to its centre
    /// of mass is below theta acts as one body. Returns this range's part of Z. `stack` is scratch
    /// of `stackCapacity` entries (a depth-first walk holds at most 3 per level plus one).
    static let stackCapacity = 3 * (QuadTree.maximumDepth + 2) + 4

    static func barnesHutRepulsion(_ repulsion: UnsafeMutablePointer<Float>, _ layout: UnsafePointer<Float>, tree: QuadTree,
                                   theta: Float, rows range: Range<Int>, stack: UnsafeMutablePointer<Int32>) -> Double {
        var z = 0.0
        let thetaSquared = theta * theta
        for i in range {
            let xi = layout[2 * i], yi = layout[2 * i + 1]
            var fx: Float = 0, fy: Float = 0, zi: Float = 0
            var top = 0
            stack[0] = 0
            top = 1
            while top > 0 {
                top -= 1
                let node = Int(stack[top])
                let n = tree.count[node]
                if n == 0 { continue }
                let isLeaf = tree.firstChild[node] < 0
                if isLeaf && tree.point[node] == Int32(i) { continue }
                let cx = tree.sumX[node] / Float(n), cy = tree.sumY[node] / Float(n)
                let dx = xi - cx, dy = yi - cy
                let squared = dx * dx + dy * dy
                let side = 2 * tree.halfSide[node]
                if isLeaf || side * side < thetaSquared * squared {
                    let w = 1 / (1 + squared)
                    // A leaf of duplicates that holds point i counts itself once at distance 0.
                    let bodies = Float(n) - (isLeaf && squared == 0 ? 1 : 0)
                    zi += bodies * w
                    fx += bodies * w * w * dx
                    fy += bodies * w * w * dy
                } else {
                    let first = tree.firstChild[node]
                    for c in 0..<4 { stack[top] = first + Int32(c); top += 1 }
                }
            }
            repulsion[2 * i] = fx
            repulsion[2 * i + 1] = fy
            z += Double(zi)
        }
        return z
    }
}
