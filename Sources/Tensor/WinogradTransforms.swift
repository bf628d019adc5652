/// The transforms of Winograd's minimal filtering F(2x2, 3x3) and their adjoints.
///
/// A 3x3 convolution (stride 1, zero padding 1) of an image with an even side is cut into 2x2
/// output tiles; each reads a 4x4 input tile that overlaps its neighbours by two pixels. With
///   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
///   A^T = [1 1 1 0; 0 1 -1 -1],
/// a tile's output is A^T [(G g G^T) .* (B^T d B)] A: 16 products where the direct form takes 36.
/// Summed over input channels, the 16 products become 16 matrix products (see WinogradConv).
///
/// Layouts: see WinogradSizes. Activations are CNHW; `batchStride` is the number of images per
/// channel of the full buffer when the kernels work on a shard of its batch (as in Conv2d).
/// Each function takes the tile; F(4x4, 3x3)'s own code is in WinogradF4Transforms.

/// U[k, co, ci] = (G g G^T)[k] for each 3x3 filter g = weight[co, ci], for the output channels
/// `outputs` (all by default), so that workers can share the transform.
public func winogradTransformWeights(_ u: FloatPointer, _ weight: ConstFloatPointer, inChannels: Int, outChannels: Int, tile: WinogradTile = .two,
                                     outputs: Range<Int>? = nil) {
    let outputs = outputs ?? 0..<outChannels
    if tile == .four { return winogradF4TransformWeights(u, weight, inChannels: inChannels, outChannels: outChannels, outputs: outputs) }
    let pairs = outChannels * inChannels
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 12) { half in
        let t = half.baseAddress!
        for pair in (outputs.lowerBound * inChannels)..<(outputs.upperBound * inChannels) {
            let g = weight + pair * 9
            // G g (4x3), column by column.
            for c in 0..<3 {
                let a = g[c], b = g[3 + c], d = g[6 + c]
                t[c] = a; t[3 + c] = (a + b + d) * 0.5; t[6 + c] = (a - b + d) * 0.5; t[9 + c] = d
            }
            // (G g) G^T (4x4), row by row.
            for r in 0..<4 {
                let a = t[3 * r], b = t[3 * r + 1], d = t[3 * r + 2]
                let row = u + (4 * r) * pairs + pair
                row[0] = a; row[pairs] = (a + b + d) * 0.5; row[2 * pairs] = (a - b + d) * 0.5; row[3 * pairs] = d
            }
        }
    }
}

/// The adjoint of winogradTransformWeights: dWeight[co, ci] += G^T dU[., ci, co] G.
public func winogradTransformWeightsAdjointAccumulate(_ dWeight: FloatPointer, _ du: ConstFloatPointer, inChannels: Int, outChannels: Int, tile: WinogradTile = .two) {
    if tile == .four { return winogradF4TransformWeightsAdjointAccumulate(dWeight, du, inChannels: inChannels, outChannels: outChannels) }
    let pairs = outChannels * inChannels
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 12) { half in
        let t = half.baseAddress!
        for pair in 0..<pairs {
            // dU's pair index runs over (ci, co), the weights' over (co, ci).
            let (ci, co) = pair.quotientAndRemainder(dividingBy: outChannels)
            // G^T dU (3x4), column by column.
            for c in 0..<4 {
                let z0 = du[c * pairs + pair], z1 = du[(4 + c) * pairs + pair]
                let z2 = du[(8 + c) * pairs + pair], z3 = du[(12 + c) * pairs + pair]
                t[c] = z0 + (z1 + z2) * 0.5; t[4 + c] = (z1 - z2) * 0.5; t[8 + c] = (z1 + z2) * 0.5 + z3
            }
            // (G^T dU) G (3x3), row by row.
            let g = dWeight + (co * inChannels + ci) * 9
            for r in 0..<3 {
                let z0 = t[4 * r], z1 = t[4 * r + 1], z2 = t[4 * r + 2], z3 = t[4 * r + 3]
                g[3 * r] += z0 + (z1 + z2) * 0.5; g[3 * r + 1] += (z1 - z2) * 0.5; g[3 * r + 2] += (z1 + z2) * 0.5 + z3
            }
        }
    }
}

/// V[k, c, t] = (B^T d B)[k] for each channel's 4x4 input tile d (zero outside the image).
public func winogradTransformInput(_ v: FloatPointer, _ input: ConstFloatPointer, channels: Int, batch: Int, side: Int,
                                   batchStride: Int? = nil, tile: WinogradTile = .two) {
    precondition(side % tile.rawValue == 0, "\(tile.name) tiles need a side divisible by \(tile.rawValue), not \(side)")
    if tile == .four { return winogradF4TransformInput(v, input, channels: channels, batch: batch, side: side, batchStride: batchStride ?? batch) }
    let tilesPerRow = side / 2, tiles = batch * tilesPerRow * tilesPerRow, plane = side * side
    let stride = batchStride ?? batch, positions = WinogradSizes.positionStride(channels: channels, batch: batch, side: side)
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { patch in
        let d = patch.baseAddress!
        for c in 0..<channels {
            for n in 0..<batch {
                let source = input + (c * stride + n) * plane
                for ty in 0..<tilesPerRow {
                    for tx in 0..<tilesPerRow {
                        let y0 = 2 * ty - 1, x0 = 2 * tx - 1
                        if ty > 0 && ty < tilesPerRow - 1 && tx > 0 && tx < tilesPerRow - 1 {
                            for r in 0..<4 {
                                let row = source + (y0 + r) * side + x0
                                d[4 * r] = row[0]; d[4 * r + 1] = row[1]; d[4 * r + 2] = row[2]; d[4 * r + 3] = row[3]
                            }
                        } else {
                            for r in 0..<4 {
                                let y = y0 + r
                                for q in 0..<4 {
                                    let x = x0 + q
                                    d[4 * r + q] = y >= 0 && y < side && x >= 0 && x < side ? source[y * side + x] : 0
                                }
                            }
                        }
                        // B^T d: combine rows, in place (row 2 is read before it is written).
                        for q in 0..<4 {
                            let r0 = d[q], r1 = d[4 + q], r2 = d[8 + q], r3 = d[12 + q]
                            d[q] = r0 - r2; d[4 + q] = r1 + r2; d[8 + q] = r2 - r1; d[12 + q] = r1 - r3
                        }
                        // (B^T d) B: combine columns, and scatter the 16 values to their planes.
                        let target = v + c * tiles + (n * tilesPerRow + ty) * tilesPerRow + tx
                        for r in 0..<4 {
                            let a = d[4 * r], b = d[4 * r + 1], e = d[4 * r + 2], f = d[4 * r + 3]
                            let row = target + 4 * r * positions
                            row[0] = a - e; row[positions] = b + e; row[2 * positions] = e - b; row[3 * positions] = b - f
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of winogradTransformInput: each tile's B dV B^T is added back onto the input
/// pixels it came from (tiles overlap, so pixels gather from up to four tiles).
/// Its loops mirror winogradTransformInput's on purpose: one tile loop shared through a closure
/// made both transforms 25% slower (`csn bench --kernels`).
public func winogradTransformInputAdjointAccumulate(_ dInput: FloatPointer, _ dv: ConstFloatPointer, channels: Int, batch: Int, side: Int,
                                                    batchStride: Int? = nil, tile: WinogradTile = .two) {
    precondition(side % tile.rawValue == 0, "\(tile.name) tiles need a side divisible by \(tile.rawValue), not \(side)")
    if tile == .four { return winogradF4TransformInputAdjointAccumulate(dInput, dv, channels: channels, batch: batch, side: side, batchStride: batchStride ?? batch) }
    let tilesPerRow = side / 2, tiles = batch * tilesPerRow * tilesPerRow, plane = side * side
    let stride = batchStride ?? batch, positions = WinogradSizes.positionStride(channels: channels, batch: batch, side: side)
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { patch in
        let d = patch.baseAddress!
        for c in 0..<channels {
            for n in 0..<batch {
                let target = dInput + (c * stride + n) * plane
                for ty in 0..<tilesPerRow {
                    for tx in 0..<tilesPerRow {
                        // dV B^T: gather the 16 values and combine columns (B x = [x0, x1-x2+x3, x1+x2-x0, -x3]).
                        let source = dv + c * tiles + (n * tilesPerRow + ty) * tilesPerRow + tx
                        for r in 0..<4 {
                            let row = source + 4 * r * positions
                            let a = row[0], b = row[positions], e = row[2 * positions], f = row[3 * positions]
                            d[4 * r] = a; d[4 * r + 1] = b - e + f; d[4 * r + 2] = b + e - a; d[4 * r + 3] = -f
                        }
                        // B (dV B^T): combine rows.
                        for q in 0..<4 {
                            let r0 = d[q], r1 = d[4 + q], r2 = d[8 + q], r3 = d[12 + q]
                            d[q] = r0; d[4 + q] = r1 - r2 + r3; d[8 + q] = r1 + r2 - r0; d[12 + q] = -r3
                        }
                        let y0 = 2 * ty - 1, x0 = 2 * tx - 1
                        if ty > 0 && ty < tilesPerRow - 1 && tx > 0 && tx < tilesPerRow - 1 {
                            for r in 0..<4 {
                                let row = target + (y0 + r) * side + x0
                                row[0] += d[4 * r]; row[1] += d[4 * r + 1]; row[2] += d[4 * r + 2]; row[3] += d[4 * r + 3]
                            }
                        } else {
                            for r in 0..<4 {
                                let y = y0 + r
                                guard y >= 0 && y < side else { continue }
                                for q in 0..<4 {
                                    let x = x0 + q
                                    if x >= 0 && x < side { target[y * side + x] += d[4 * r + q] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// out[c, n, tile] = A^T m A for each channel's 4x4 products m = M[., c, t].
public func winogradTransformOutput(_ out: FloatPointer, _ m: ConstFloatPointer, channels: Int, batch: Int, side: Int,
                                    batchStride: Int? = nil, tile: WinogradTile = .two) {
    precondition(side % tile.rawValue == 0, "\(tile.name) tiles need a side divisible by \(tile.rawValue), not \(side)")
    if tile == .four { return winogradF4TransformOutput(out, m, channels: channels, batch: batch, side: side, batchStride: batchStride ?? batch) }
    let tilesPerRow = side / 2, tiles = batch * tilesPerRow * tilesPerRow, plane = side * side
    let stride = batchStride ?? batch, positions = WinogradSizes.positionStride(channels: channels, batch: batch, side: side)
    for c in 0..<channels {
        for n in 0..<batch {
            let target = out + (c * stride + n) * plane
            let source = m + c * tiles + n * tilesPerRow * tilesPerRow
            for tile in 0..<tilesPerRow * tilesPerRow {
                let row = source + tile
                // A^T m: combine rows (A^T z = [z0+z1+z2, z1-z2-z3]) for each of the 4 columns.
                func column(_ q: Int) -> (top: Float, bottom: Float) {
                    let z0 = row[q * positions], z1 = row[(4 + q) * positions]
                    let z2 = row[(8 + q) * positions], z3 = row[(12 + q) * positions]
                    return (z0 + z1 + z2, z1 - z2 - z3)
                }
                let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3)
                // (A^T m) A: combine columns.
                let y = 2 * (tile / tilesPerRow), x = 2 * (tile % tilesPerRow)
                let upper = target + y * side + x, lower = upper + side
                upper[0] = c0.top + c1.top + c2.top; upper[1] = c1.top - c2.top - c3.top
                lower[0] = c0.bottom + c1.bottom + c2.bottom; lower[1] = c1.bottom - c2.bottom - c3.bottom
            }
        }
    }
}

/// The adjoint of winogradTransformOutput: dM[., c, t] = A dy A^T for each 2x2 output gradient dy.
public func winogradTransformOutputAdjoint(_ dm: FloatPointer, _ dOut: ConstFloatPointer, channels: Int, batch: Int, side: Int,
                                           batchStride: Int? = nil, tile: WinogradTile = .two) {
    precondition(side % tile.rawValue == 0, "\(tile.name) tiles need a side divisible by \(tile.rawValue), not \(side)")
    if tile == .four { return winogradF4TransformOutputAdjoint(dm, dOut, channels: channels, batch: batch, side: side, batchStride: batchStride ?? batch) }
    let tilesPerRow = side / 2, tiles = batch * tilesPerRow * tilesPerRow, plane = side * side
    let stride = batchStride ?? batch, positions = WinogradSizes.positionStride(channels: channels, batch: batch, side: side)
    for c in 0..<channels {
        for n in 0..<batch {
            let source = dOut + (c * stride + n) * plane
            let target = dm + c * tiles + n * tilesPerRow * tilesPerRow
            for tile in 0..<tilesPerRow * tilesPerRow {
                let y = 2 * (tile / tilesPerRow), x = 2 * (tile % tilesPerRow)
                let upper = source + y * side + x, lower = upper + side
                // A z = [z0, z0+z1, z0-z1, -z1], first along columns, then along rows.
                let e00 = upper[0], e01 = upper[1], e10 = lower[0], e11 = lower[1]
                let row = target + tile
                func write(_ r: Int, _ a: Float, _ b: Float) {
                    let base = row + 4 * r * positions
                    base[0] = a; base[positions] = a + b; base[2 * positions] = a - b; base[3 * positions] = -b
                }
                write(0, e00, e01)
                write(1, e00 + e10, e01 + e11)
                write(2, e00 - e10, e01 - e11)
                write(3, -e10, -e11)
            }
        }
    }
}
