import Tensor

/// t-SNE's repulsion by interpolation on a grid and FFT convolution (the method of FIt-SNE,
/// Linderman et al. 2019, which openTSNE calls negative_gradient_method="fft").
///
/// The square around the map is cut into boxes, each holding 3 x 3 equispaced interpolation
/// nodes. Every point spreads a unit charge to its box's nodes with Lagrange weights; the nodes'
/// fields (GridConvolution: sum_j w_ij^2 (y_i - y_j) and sum_j w_ij) come from FFT convolutions;
/// each point reads its fields back with the same weights, and its own term (w_ii = 1) leaves Z.
/// O(N + G log G) per iteration for G grid nodes.
final class FFTRepulsion {
    static let nodesPerBox = 3
    /// Boxes a side: at least `minimumBoxes` (50 in FIt-SNE and openTSNE), and no wider than
    /// 1 / boxesPerUnit up to the cap, where they widen instead (at most 1,200 nodes a side keeps
    /// the buffers under 300 MB).
    static let maximumBoxes = 400

    /// Boxes per map unit: 1, as FIt-SNE and openTSNE use (the error falls as its cube).
    let boxesPerUnit: Float
    let minimumBoxes: Int

    init(boxesPerUnit: Float = 1, minimumBoxes: Int = 50) {
        self.boxesPerUnit = boxesPerUnit
        self.minimumBoxes = min(minimumBoxes, Self.maximumBoxes)
    }

    private var convolution: GridConvolution?
    /// One charge grid per worker, summed into the first; the three fields.
    private var charges: [Float] = []
    private var fields: [Float] = []
    private var partialZ: [Double] = []

    /// Writes the unnormalised repulsion sum_j w_ij^2 (y_i - y_j) of every point to `out` [N, 2]
    /// and returns Z = sum over i != j of w_ij.
    func repulsion(_ out: UnsafeMutablePointer<Float>, _ layout: UnsafePointer<Float>, count n: Int, threads: Int) -> Double {
        var low = Float.infinity, high = -Float.infinity
        for i in 0..<(2 * n) {
            low = min(low, layout[i])
            high = max(high, layout[i])
        }
        // A map gone non-finite is reported by its caller; here it must only not trap.
        let span = (high - low).isFinite ? max(high - low, 1e-3) : 1
        let wanted = min(max(minimumBoxes, Int((span * boxesPerUnit).rounded(.up))), Self.maximumBoxes)
        let side = FourierPlan.goodLength(atLeast: 2 * Self.nodesPerBox * wanted - 1)
        // The transform's side is fixed by now: boxes up to what it holds cost nothing more.
        let boxes = max(wanted, min(Self.maximumBoxes, (side + 1) / (2 * Self.nodesPerBox)))
        let nodes = Self.nodesPerBox * boxes
        if convolution?.nodes != nodes { convolution = GridConvolution(nodes: nodes) }
        guard let convolution else { return 0 }
        let spacing = span / Float(nodes)
        let workers = max(1, min(threads, n))
        let gridSize = nodes * nodes
        if charges.count != workers * gridSize { charges = [Float](repeating: 0, count: workers * gridSize) }
        if fields.count != 3 * gridSize { fields = [Float](repeating: 0, count: 3 * gridSize) }
        if partialZ.count != workers { partialZ = [Double](repeating: 0, count: workers) }
        let place = Placement(origin: low, spacing: spacing, boxes: boxes, nodes: nodes)

        charges.withUnsafeMutableBufferPointer { charges in
            nonisolated(unsafe) let charges = charges
            forEachShard(count: n, workers: workers) { w, range in
                let grid = charges.baseAddress! + w * gridSize
                grid.update(repeating: 0, count: gridSize)
                for i in range {
                    let (node, wx, wy) = place.weights(layout[2 * i], layout[2 * i + 1])
                    for b in 0..<3 {
                        for a in 0..<3 { grid[node + b * nodes + a] += wx[a] * wy[b] }
                    }
                }
            }
            for w in 1..<workers {  // in worker order: repeatable
                for e in 0..<gridSize { charges[e] += charges[w * gridSize + e] }
            }
            fields.withUnsafeMutableBufferPointer { fields in
                let f = fields.baseAddress!
                convolution.fields(charges: charges.baseAddress!, spacing: spacing, forceX: f, forceY: f + gridSize,
                                   z: f + 2 * gridSize, threads: threads)
            }
        }

        fields.withUnsafeBufferPointer { field in
            partialZ.withUnsafeMutableBufferPointer { partial in
                nonisolated(unsafe) let partial = partial, out = out
                forEachShard(count: n, workers: workers) { w, range in
                    var z = 0.0
                    for i in range {
                        let (node, wx, wy) = place.weights(layout[2 * i], layout[2 * i + 1])
                        var fx: Float = 0, fy: Float = 0, zi: Float = 0
                        for b in 0..<3 {
                            for a in 0..<3 {
                                let weight = wx[a] * wy[b], at = node + b * nodes + a
                                fx += weight * field[at]
                                fy += weight * field[gridSize + at]
                                zi += weight * field[2 * gridSize + at]
                            }
                        }
                        out[2 * i] = fx
                        out[2 * i + 1] = fy
                        z += Double(zi) - 1
                    }
                    partial[w] = z
                }
            }
        }
        return partialZ.reduce(0, +)
    }

    /// Where a point falls on the grid: its box's first node and the Lagrange weights of the box's
    /// three nodes in x and in y (nodes at 0.5, 1.5 and 2.5 spacings into the box).
    private struct Placement {
        let origin: Float, spacing: Float, boxes: Int, nodes: Int

        @inline(__always)
        func weights(_ x: Float, _ y: Float) -> (node: Int, wx: SIMD3<Float>, wy: SIMD3<Float>) {
            let (bx, tx) = box(x), (by, ty) = box(y)
            return ((3 * by) * nodes + 3 * bx, lagrange(tx), lagrange(ty))
        }

        @inline(__always)
        private func box(_ value: Float) -> (Int, Float) {
            var u = (value - origin) / spacing
            if !(u >= 0) { u = 0 }  // also NaN
            if u > Float(3 * boxes) { u = Float(3 * boxes) }
            let b = min(Int(u / 3), boxes - 1)
            return (b, u - Float(3 * b))
        }

        @inline(__always)
        private func lagrange(_ t: Float) -> SIMD3<Float> {
            let a = t - 0.5, b = t - 1.5, c = t - 2.5
            return SIMD3(b * c / 2, -a * c, a * b / 2)
        }
    }
}
