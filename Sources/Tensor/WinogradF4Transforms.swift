/// The transforms of Winograd's F(4x4, 3x3) and their adjoints (interpolation points 0, ±1, ±2
/// and infinity), with the layouts of WinogradSizes for `.four`:
///   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
///   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
///   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
/// A tile's output is A^T [(G g G^T) .* (B^T d B)] A. Each 2-D transform is a 1-D one applied to
/// the columns of a 6x6 (or 4x4) patch and then to its rows; the 1-D ones below work in place on
/// six values `s` floats apart.

/// The transforms of inputs and outputs work on 16 tiles at once, consecutive in V and M: each
/// tile's values are gathered into one lane of 36 (or 16) SIMD16 vectors, transformed lane-wise,
/// and the vectors stored whole, one cache line per position. (One tile at a time, the
/// arithmetic was scalar and F(4x4)'s transforms took twice F(2x2)'s time.)
typealias Lanes = SIMD16<Float>
private let laneCount = Lanes.scalarCount

/// B^T x.
@inline(__always) private func inputTransform(_ p: UnsafeMutablePointer<Lanes>, _ s: Int) {
    let d0 = p[0], d1 = p[s], d2 = p[2 * s], d3 = p[3 * s], d4 = p[4 * s], d5 = p[5 * s]
    p[0] = 4 * d0 - 5 * d2 + d4
    p[s] = (d3 + d4) - 4 * (d1 + d2)
    p[2 * s] = (d4 - d3) + 4 * (d1 - d2)
    p[3 * s] = (d4 - d2) + 2 * (d3 - d1)
    p[4 * s] = (d4 - d2) - 2 * (d3 - d1)
    p[5 * s] = 4 * d1 - 5 * d3 + d5
}

/// B x, the adjoint of inputTransform.
@inline(__always) private func inputTransformAdjoint(_ p: UnsafeMutablePointer<Lanes>, _ s: Int) {
    let z0 = p[0], z1 = p[s], z2 = p[2 * s], z3 = p[3 * s], z4 = p[4 * s], z5 = p[5 * s]
    p[0] = 4 * z0
    p[s] = 4 * (z2 - z1) + 2 * (z4 - z3) + 4 * z5
    p[2 * s] = -5 * z0 - 4 * (z1 + z2) - (z3 + z4)
    p[3 * s] = (z1 - z2) + 2 * (z3 - z4) - 5 * z5
    p[4 * s] = z0 + z1 + z2 + z3 + z4
    p[5 * s] = z5
}

/// A^T x: six products (`s` apart) to four outputs (`w` apart).
@inline(__always) private func outputTransform(_ p: UnsafePointer<Lanes>, _ s: Int, _ out: UnsafeMutablePointer<Lanes>, _ w: Int) {
    let m0 = p[0], m1 = p[s], m2 = p[2 * s], m3 = p[3 * s], m4 = p[4 * s], m5 = p[5 * s]
    let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
    out[0] = m0 + a + c; out[w] = b + 2 * d; out[2 * w] = a + 4 * c; out[3 * w] = b + 8 * d + m5
}

/// A y, the adjoint of outputTransform: four output gradients (`s` apart) to six (`w` apart).
@inline(__always) private func outputTransformAdjoint(_ p: UnsafePointer<Lanes>, _ s: Int, _ out: UnsafeMutablePointer<Lanes>, _ w: Int) {
    let y0 = p[0], y1 = p[s], y2 = p[2 * s], y3 = p[3 * s]
    let even = y0 + y2, odd = y1 + y3, even4 = y0 + 4 * y2, odd2 = 2 * y1 + 8 * y3
    out[0] = y0; out[w] = even + odd; out[2 * w] = even - odd; out[3 * w] = even4 + odd2; out[4 * w] = even4 - odd2; out[5 * w] = y3
}

/// Walks consecutive tiles of a batch: each tile's image and the top-left pixel of its 4x4 output,
/// found by counting from the first (dividing for every tile cost a fifth of the transforms' time).
private struct TileCursor {
    let side: Int
    private(set) var image: Int, y: Int, x: Int

    init(tile t: Int, side: Int) {
        let tilesPerRow = side / 4, perImage = tilesPerRow * tilesPerRow, within = t % perImage
        self.side = side
        image = t / perImage
        y = 4 * (within / tilesPerRow)
        x = 4 * (within % tilesPerRow)
    }

    /// The tile's top-left output pixel among the batch's consecutive planes.
    var offset: Int { (image &* side &+ y) &* side &+ x }

    @inline(__always) mutating func advance() {
        x += 4
        guard x == side else { return }
        x = 0
        y += 4
        guard y == side else { return }
        y = 0
        image += 1
    }
}

/// A channel's images of a chunk in frames with a border of one zero pixel, so that every tile's
/// 6x6 input lies inside its frame and the tile loops need no bounds. (Most tiles touch the
/// border: at side 8 all of them do. Bounds checked per pixel, the gather and scatter took most of
/// the input transforms' time.)
private struct PaddedFrames {
    let base: FloatPointer, side: Int, batch: Int
    var padded: Int { side &+ 2 }
    var frame: Int { padded &* padded }

    /// Runs `body` with zeroed frames for `batch` images of side `side`: scratch of the call, on
    /// the heap at any real size (one allocation per transform of a chunk).
    static func with(batch: Int, side: Int, _ body: (PaddedFrames) -> Void) {
        let count = batch * (side + 2) * (side + 2)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { scratch in
            guard let base = scratch.baseAddress else { return }
            base.initialize(repeating: 0, count: count)
            body(PaddedFrames(base: base, side: side, batch: batch))
        }
    }

    /// Calls `body(pixel, value)` for each of the 36 inputs of tiles first..<first + count, one
    /// tile at a time: `pixel` in the frames, `value` among the lanes (position k at k * 16).
    @inline(__always) func forEachTileInput(first: Int, count: Int, _ body: (FloatPointer, Int) -> Void) {
        var tile = TileCursor(tile: first, side: side)
        for lane in 0..<count {
            // The frame's pixel (y, x) is the image's (y - 1, x - 1): the output corner is the
            // top-left of the tile's input.
            let corner = base + (tile.image &* frame &+ tile.y &* padded &+ tile.x)
            for r in 0..<6 {
                for q in 0..<6 { body(corner + (r &* padded &+ q), (6 &* r &+ q) &* laneCount &+ lane) }
            }
            tile.advance()
        }
    }

    /// Calls `body(row, value)` for each of the 6 input rows of each `width` neighbouring tiles of
    /// a whole group (`width` divides the tiles of a row): `row` where the tiles' row r starts in
    /// the frames, `value` where value (r, 0) of the first of them is among the lanes (value (r, q)
    /// is q * 16 further).
    @inline(__always) func forEachInputRow(ofTiles width: Int, first: Int, _ body: (FloatPointer, Int) -> Void) {
        var tile = TileCursor(tile: first, side: side)
        for lane in stride(from: 0, to: laneCount, by: width) {
            let corner = base + (tile.image &* frame &+ tile.y &* padded &+ tile.x)
            for r in 0..<6 { body(corner + r &* padded, 6 &* r &* laneCount &+ lane) }
            for _ in 0..<width { tile.advance() }
        }
    }

    /// What forEachTileInput gathers into `d` (value (r, q) of lane t at (6r + q) * 16 + t), for
    /// a whole group in rows of four neighbouring tiles (GroupMoves.rowsOfFourTiles): each row of four
    /// tiles' inputs (18 pixels, the tiles four apart) is loaded once and split into its six
    /// columns, instead of 24 loads and stores of one float.
    @inline(__always) func gatherRowsOfFourTiles(first: Int, into d: FloatPointer) {
        forEachInputRow(ofTiles: 4, first: first) { row, value in
            let target = d + value
            let head = UnsafeRawPointer(row).loadUnaligned(as: SIMD16<Float>.self)
            let even = head.evenHalf, odd = head.oddHalf
            let q0 = even.evenHalf, q1 = odd.evenHalf, q2 = even.oddHalf, q3 = odd.oddHalf
            let q4 = SIMD4(q0[1], q0[2], q0[3], row[16]), q5 = SIMD4(q1[1], q1[2], q1[3], row[17])
            func store(_ column: SIMD4<Float>, _ q: Int) {
                UnsafeMutableRawPointer(target + q &* laneCount).storeBytes(of: column, as: SIMD4<Float>.self)
            }
            store(q0, 0); store(q1, 1); store(q2, 2); store(q3, 3); store(q4, 4); store(q5, 5)
        }
    }

    /// The adjoint of gatherRowsOfFourTiles: adds each tile's 36 values in `d` (the lanes' layout
    /// there) onto its pixels of the frames, a row of four tiles at a time. Columns 0...3 of the
    /// four tiles interleave into the row's first 16 pixels; columns 4 and 5 fall on the next
    /// tile's columns 0 and 1 (the tiles overlap by two), the last tile's on pixels 16 and 17.
    @inline(__always) func scatterRowsOfFourTiles(first: Int, from d: ConstFloatPointer) {
        forEachInputRow(ofTiles: 4, first: first) { row, value in
            let source = d + value
            func column(_ q: Int) -> SIMD4<Float> { UnsafeRawPointer(source + q &* laneCount).loadUnaligned(as: SIMD4<Float>.self) }
            let q4 = column(4), q5 = column(5)
            let left = column(0) + SIMD4(0, q4[0], q4[1], q4[2]), second = column(1) + SIMD4(0, q5[0], q5[1], q5[2])
            let values = interleave(interleave(left, column(2)), interleave(second, column(3)))
            let head = UnsafeMutableRawPointer(row)
            head.storeBytes(of: head.loadUnaligned(as: SIMD16<Float>.self) + values, as: SIMD16<Float>.self)
            row[16] += q4[3]
            row[17] += q5[3]
        }
    }

    /// gatherRowsOfFourTiles for rows of two tiles (GroupMoves.rowsOfTwoTiles): a row of two tiles'
    /// inputs is 10 pixels, column q of the pair is pixels q and q + 4.
    @inline(__always) func gatherRowsOfTwoTiles(first: Int, into d: FloatPointer) {
        forEachInputRow(ofTiles: 2, first: first) { row, value in
            let target = d + value
            let head = UnsafeRawPointer(row).loadUnaligned(as: SIMD8<Float>.self)
            storePairColumns(head, to: target)
            func store(_ column: SIMD2<Float>, _ q: Int) {
                UnsafeMutableRawPointer(target + q &* laneCount).storeBytes(of: column, as: SIMD2<Float>.self)
            }
            store(SIMD2(head[4], row[8]), 4); store(SIMD2(head[5], row[9]), 5)
        }
    }

    /// The adjoint of gatherRowsOfTwoTiles: columns 0...3 of the pair fill pixels 0...7, and
    /// columns 4 and 5 add onto the second tile's columns 0 and 1 and onto pixels 8 and 9.
    @inline(__always) func scatterRowsOfTwoTiles(first: Int, from d: ConstFloatPointer) {
        forEachInputRow(ofTiles: 2, first: first) { row, value in
            let source = d + value
            func column(_ q: Int) -> SIMD2<Float> { UnsafeRawPointer(source + q &* laneCount).loadUnaligned(as: SIMD2<Float>.self) }
            let q0 = column(0), q1 = column(1), q2 = column(2), q3 = column(3), q4 = column(4), q5 = column(5)
            let values = SIMD8(q0[0], q1[0], q2[0], q3[0], q0[1] + q4[0], q1[1] + q5[0], q2[1], q3[1])
            let head = UnsafeMutableRawPointer(row)
            head.storeBytes(of: head.loadUnaligned(as: SIMD8<Float>.self) + values, as: SIMD8<Float>.self)
            row[8] += q4[1]
            row[9] += q5[1]
        }
    }

    /// Copies `batch` consecutive planes into the frames' interiors, a row at a time in vectors
    /// where the side allows (as a call to memmove per row of 8 or 16 floats, memmove was 6.8% of
    /// a one-thread step's samples, against 1.3% after).
    func copy(from planes: ConstFloatPointer) {
        for n in 0..<batch {
            for y in 0..<side {
                let target = base + (n &* frame &+ (y &+ 1) &* padded &+ 1), source = planes + (n &* side &+ y) &* side
                if side % 16 == 0 {
                    for x in stride(from: 0, to: side, by: 16) {
                        UnsafeMutableRawPointer(target + x).storeBytes(of: UnsafeRawPointer(source + x).loadUnaligned(as: Lanes.self), as: Lanes.self)
                    }
                } else if side == 8 {
                    UnsafeMutableRawPointer(target).storeBytes(of: UnsafeRawPointer(source).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                } else {
                    target.update(from: source, count: side)
                }
            }
        }
    }

    /// Adds the frames' interiors onto `batch` consecutive planes and zeroes the frames.
    func addAndClear(into planes: FloatPointer) {
        for n in 0..<batch {
            for y in 0..<side {
                let row = base + (n &* frame &+ (y &+ 1) &* padded &+ 1), target = planes + (n &* side &+ y) &* side
                for x in 0..<side { target[x] += row[x] }
            }
        }
        base.update(repeating: 0, count: batch &* frame)
    }
}

/// Runs `body` with `vectors` zeroed vectors of scratch. Made once per transform, not once per
/// channel: at a few KiB it is on the heap, and per channel its malloc and free were 3% of a step.
@inline(__always) private func withLaneScratch(vectors: Int, _ body: (UnsafeMutablePointer<Lanes>) -> Void) {
    withUnsafeTemporaryAllocation(of: Lanes.self, capacity: vectors) { scratch in
        guard let patch = scratch.baseAddress else { return }
        patch.initialize(repeating: Lanes(), count: vectors)
        body(patch)
    }
}

/// Runs `body` on each group of up to 16 consecutive tiles (or filters), as (first, count).
@inline(__always) private func forEachTileGroup(tiles: Int, _ body: (Int, Int) -> Void) {
    for first in stride(from: 0, to: tiles, by: laneCount) { body(first, min(laneCount, tiles - first)) }
}

/// Stores `count` vectors `k * positions` apart at `target`: whole when 16 tiles, else lane by lane.
@inline(__always) private func storeLanes(_ patch: UnsafePointer<Lanes>, vectors: Int, to target: FloatPointer, positions: Int, lanes: Int) {
    for k in 0..<vectors {
        if lanes == laneCount {
            UnsafeMutableRawPointer(target + k * positions).storeBytes(of: patch[k], as: Lanes.self)
        } else {
            for lane in 0..<lanes { target[k * positions + lane] = patch[k][lane] }
        }
    }
}

/// Loads `vectors` vectors `k * positions` apart from `source` (the lanes past `lanes` are zero).
@inline(__always) private func loadLanes(_ patch: UnsafeMutablePointer<Lanes>, vectors: Int, from source: UnsafePointer<Float>, positions: Int, lanes: Int) {
    for k in 0..<vectors {
        if lanes == laneCount {
            patch[k] = UnsafeRawPointer(source + k * positions).loadUnaligned(as: Lanes.self)
        } else {
            var value = Lanes()
            for lane in 0..<lanes { value[lane] = source[k * positions + lane] }
            patch[k] = value
        }
    }
}

/// G x for three values `s` apart, written as six values `w` apart.
@inline(__always) private func weightTransform(_ x: UnsafePointer<Lanes>, _ s: Int, _ out: UnsafeMutablePointer<Lanes>, _ w: Int) {
    let x0 = x[0], x1 = x[s], x2 = x[2 * s], outer = x0 + x2
    out[0] = x0 / 4; out[w] = -(outer + x1) / 6; out[2 * w] = -(outer - x1) / 6
    out[3 * w] = x0 / 24 + x1 / 12 + x2 / 6; out[4 * w] = x0 / 24 - x1 / 12 + x2 / 6; out[5 * w] = x2
}

/// G^T z for six values `s` apart, written as three values `w` apart.
@inline(__always) private func weightTransformAdjoint(_ z: UnsafePointer<Lanes>, _ s: Int, _ out: UnsafeMutablePointer<Lanes>, _ w: Int) {
    let z1 = z[s], z2 = z[2 * s], z3 = z[3 * s], z4 = z[4 * s]
    out[0] = z[0] / 4 - (z1 + z2) / 6 + (z3 + z4) / 24
    out[w] = (z2 - z1) / 6 + (z3 - z4) / 12
    out[2 * w] = (z3 + z4 - z1 - z2) / 6 + z[5 * s]
}

/// U[k, co, ci] = (G g G^T)[k] for each 3x3 filter g = weight[co, ci], 16 filters at a time, one
/// per lane, so that each of the 36 positions is stored as one vector. (One filter at a time, the
/// stores went 36 ways at a stride of the filter count, and the transform was 2.5% of a step on
/// one thread while the other waited.) Only the filters of the output channels `outputs`.
func winogradF4TransformWeights(_ u: FloatPointer, _ weight: ConstFloatPointer, inChannels: Int, outChannels: Int, outputs: Range<Int>) {
    let pairs = outChannels * inChannels, firstPair = outputs.lowerBound * inChannels
    // Vectors 0..<9: the filters; 9..<27: G g (6x3); 27..<63: (G g) G^T (6x6).
    withLaneScratch(vectors: 63) { patch in forEachTileGroup(tiles: outputs.count * inChannels) { first, count in
        let g = UnsafeMutableRawPointer(patch).assumingMemoryBound(to: Float.self)
        for lane in 0..<count {
            let filter = weight + (firstPair + first + lane) * 9
            for k in 0..<9 { g[k &* laneCount &+ lane] = filter[k] }
        }
        let half = patch + 9, result = patch + 27
        for c in 0..<3 { weightTransform(patch + c, 3, half + c, 3) }
        for r in 0..<6 { weightTransform(half + 3 * r, 1, result + 6 * r, 1) }
        storeLanes(result, vectors: 36, to: u + firstPair + first, positions: pairs, lanes: count)
    } }
}

/// dWeight[co, ci] += G^T dU[., ci, co] G, 16 filters at a time as winogradF4TransformWeights.
func winogradF4TransformWeightsAdjointAccumulate(_ dWeight: FloatPointer, _ du: ConstFloatPointer, inChannels: Int, outChannels: Int) {
    let pairs = outChannels * inChannels
    // Vectors 0..<36: dU; 36..<54: dU G (6x3); 54..<63: G^T dU G (3x3).
    withLaneScratch(vectors: 63) { patch in forEachTileGroup(tiles: pairs) { first, count in
        loadLanes(patch, vectors: 36, from: du + first, positions: pairs, lanes: count)
        let half = patch + 36, result = patch + 54
        for r in 0..<6 { weightTransformAdjoint(patch + 6 * r, 1, half + 3 * r, 1) }
        for c in 0..<3 { weightTransformAdjoint(half + c, 3, result + c, 3) }
        let g = UnsafeMutableRawPointer(result).assumingMemoryBound(to: Float.self)
        for lane in 0..<count {
            // dU's pair index runs over (ci, co), the weights' over (co, ci).
            let (ci, co) = (first + lane).quotientAndRemainder(dividingBy: outChannels)
            let filter = dWeight + (co * inChannels + ci) * 9
            for k in 0..<9 { filter[k] += g[k &* laneCount &+ lane] }
        }
    } }
}

/// V[k, c, t] = (B^T d B)[k] for each channel's 6x6 input tile d (zero outside the image).
func winogradF4TransformInput(_ v: FloatPointer, _ input: ConstFloatPointer, channels: Int, batch: Int, side: Int, batchStride: Int) {
    let tilesPerRow = side / 4, tiles = batch * tilesPerRow * tilesPerRow, plane = side * side
    let positions = WinogradSizes.positionStride(channels: channels, batch: batch, side: side, tile: .four)
    PaddedFrames.with(batch: batch, side: side) { frames in withLaneScratch(vectors: 36) { patch in
        for c in 0..<channels {
            if c + 1 < channels { prefetch(input + (c + 1) * batchStride * plane, count: batch * plane) }
            frames.copy(from: input + c * batchStride * plane)
            forEachTileGroup(tiles: tiles) { first, count in
                let d = UnsafeMutableRawPointer(patch).assumingMemoryBound(to: Float.self)
                switch GroupMoves(count: count, side: side) {
                case .rowsOfFourTiles: frames.gatherRowsOfFourTiles(first: first, into: d)
                case .rowsOfTwoTiles: frames.gatherRowsOfTwoTiles(first: first, into: d)
                case .oneByOne: frames.forEachTileInput(first: first, count: count) { pixel, value in d[value] = pixel.pointee }
                }
                for q in 0..<6 { inputTransform(patch + q, 6) }   // B^T d
                for r in 0..<6 { inputTransform(patch + 6 * r, 1) }  // (B^T d) B
                storeLanes(patch, vectors: 36, to: v + c * tiles + first, positions: positions, lanes: count)
            }
        }
    } }
}

/// The adjoint of winogradF4TransformInput: each tile's B dV B^T is added back onto the input
/// pixels it came from (tiles overlap by two pixels).
func winogradF4TransformInputAdjointAccumulate(_ dInput: FloatPointer, _ dv: ConstFloatPointer, channels: Int, batch: Int, side: Int,
                                               batchStride: Int) {
    let tilesPerRow = side / 4, tiles = batch * tilesPerRow * tilesPerRow, plane = side * side
    let positions = WinogradSizes.positionStride(channels: channels, batch: batch, side: side, tile: .four)
    PaddedFrames.with(batch: batch, side: side) { frames in withLaneScratch(vectors: 36) { patch in
        for c in 0..<channels {
            if c + 1 < channels { prefetch(dInput + (c + 1) * batchStride * plane, count: batch * plane, forWriting: true) }
            forEachTileGroup(tiles: tiles) { first, count in
                loadLanes(patch, vectors: 36, from: dv + c * tiles + first, positions: positions, lanes: count)
                for r in 0..<6 { inputTransformAdjoint(patch + 6 * r, 1) }
                for q in 0..<6 { inputTransformAdjoint(patch + q, 6) }
                let d = UnsafeMutableRawPointer(patch).assumingMemoryBound(to: Float.self)
                switch GroupMoves(count: count, side: side) {
                case .rowsOfFourTiles: frames.scatterRowsOfFourTiles(first: first, from: d)
                case .rowsOfTwoTiles: frames.scatterRowsOfTwoTiles(first: first, from: d)
                case .oneByOne: frames.forEachTileInput(first: first, count: count) { pixel, value in pixel.pointee += d[value] }
                }
            }
            frames.addAndClear(into: dInput + c * batchStride * plane)
        }
    } }
}

/// out[c, n, tile] = A^T m A for each channel's 6x6 products m = M[., c, t].
func winogradF4TransformOutput(_ out: FloatPointer, _ m: ConstFloatPointer, channels: Int, batch: Int, side: Int, batchStride: Int) {
    let tilesPerRow = side / 4, tiles = batch * tilesPerRow * tilesPerRow, plane = side * side
    let positions = WinogradSizes.positionStride(channels: channels, batch: batch, side: side, tile: .four)
    withLaneScratch(vectors: 76) { patch in for c in 0..<channels {
        if c + 1 < channels { prefetch(out + (c + 1) * batchStride * plane, count: batch * plane, forWriting: true) }
        // Vectors 0..<36: the products; 36..<60: A^T m (4x6); 60..<76: the 4x4 outputs.
        forEachTileGroup(tiles: tiles) { first, count in
            loadLanes(patch, vectors: 36, from: m + c * tiles + first, positions: positions, lanes: count)
            let half = patch + 36, result = patch + 60
            for q in 0..<6 { outputTransform(patch + q, 6, half + q, 6) }
            for r in 0..<4 { outputTransform(half + 6 * r, 1, result + 4 * r, 1) }
            lanesToBlocks(out + c * batchStride * plane, UnsafeRawPointer(result).assumingMemoryBound(to: Float.self),
                          first: first, count: count, side: side)
        }
    } }
}

/// The adjoint of winogradF4TransformOutput: dM[., c, t] = A dy A^T for each 4x4 output gradient dy.
func winogradF4TransformOutputAdjoint(_ dm: FloatPointer, _ dOut: ConstFloatPointer, channels: Int, batch: Int, side: Int, batchStride: Int) {
    let tilesPerRow = side / 4, tiles = batch * tilesPerRow * tilesPerRow, plane = side * side
    let positions = WinogradSizes.positionStride(channels: channels, batch: batch, side: side, tile: .four)
    withLaneScratch(vectors: 76) { patch in for c in 0..<channels {
        if c + 1 < channels { prefetch(dOut + (c + 1) * batchStride * plane, count: batch * plane) }
        // Vectors 0..<36: the result; 36..<52: the 4x4 gradients; 52..<76: dy A^T (4x6).
        forEachTileGroup(tiles: tiles) { first, count in
            let gradients = patch + 36, half = patch + 52
            blocksToLanes(UnsafeMutableRawPointer(gradients).assumingMemoryBound(to: Float.self), dOut + c * batchStride * plane,
                          first: first, count: count, side: side)
            for r in 0..<4 { outputTransformAdjoint(gradients + 4 * r, 1, half + 6 * r, 1) }
            for q in 0..<6 { outputTransformAdjoint(half + q, 6, patch + q, 6) }
            storeLanes(patch, vectors: 36, to: dm + c * tiles + first, positions: positions, lanes: count)
        }
    } }
}

/// Moving 4x4 output blocks between one channel's images and the lanes (value (r, q) of the
/// group's tile `lane` at y[(4r + q) * 16 + lane]). Where a row holds a multiple of four tiles, four
/// neighbouring tiles' row r is one 16-float load or store, split into (or joined from) its
/// columns q by deinterleaving; where it holds an even number, two tiles' row r is one 8-float
/// load or store. One float at a time, these moves took most of the output transforms' time.

/// How a group of tiles moves: four tiles' rows as one 16-float row (the row holds a multiple of
/// four tiles), two tiles' rows as one 8-float row (a multiple of two: the third stage's side of
/// 8), or one value at a time (a partial group, or an odd number of tiles in a row).
private enum GroupMoves {
    case rowsOfFourTiles, rowsOfTwoTiles, oneByOne

    @inline(__always) init(count: Int, side: Int) {
        if count != laneCount || side % 8 != 0 { self = .oneByOne } else { self = side % 16 == 0 ? .rowsOfFourTiles : .rowsOfTwoTiles }
    }
}

/// Calls `body(pixel, value)` for each value of the 4x4 blocks of tiles first..<first + count, one
/// at a time: `pixel` among the channel's images, `value` among the lanes.
@inline(__always) private func forEachBlockValue(first: Int, count: Int, side: Int, _ body: (Int, Int) -> Void) {
    var tile = TileCursor(tile: first, side: side)
    for lane in 0..<count {
        for r in 0..<4 {
            for q in 0..<4 { body(tile.offset &+ r &* side &+ q, (4 &* r &+ q) &* laneCount &+ lane) }
        }
        tile.advance()
    }
}

/// Calls `body(pixel, value)` for each row r of each `width` neighbouring tiles of a whole group
/// (`width` divides the tiles of a row): `pixel` where the tiles' row r starts among the channel's
/// images, `value` where value (r, 0) of the first of them is among the lanes (value (r, q) is
/// q * 16 further).
@inline(__always) private func forEachBlockRow(ofTiles width: Int, first: Int, side: Int, _ body: (Int, Int) -> Void) {
    var tile = TileCursor(tile: first, side: side)
    for lane in stride(from: 0, to: laneCount, by: width) {
        for r in 0..<4 { body(tile.offset &+ r &* side, 4 &* r &* laneCount &+ lane) }
        for _ in 0..<width { tile.advance() }
    }
}

/// Copies the 4x4 blocks of tiles first..<first + count from `images` into the lanes `y`.
@inline(__always) private func blocksToLanes(_ y: FloatPointer, _ images: ConstFloatPointer, first: Int, count: Int, side: Int) {
    switch GroupMoves(count: count, side: side) {
    case .oneByOne:
        return forEachBlockValue(first: first, count: count, side: side) { pixel, value in y[value] = images[pixel] }
    case .rowsOfTwoTiles:
        // Two tiles' row r is 8 pixels; column q of the pair is pixels q and q + 4.
        return forEachBlockRow(ofTiles: 2, first: first, side: side) { pixel, value in
            storePairColumns(UnsafeRawPointer(images + pixel).loadUnaligned(as: SIMD8<Float>.self), to: y + value)
        }
    case .rowsOfFourTiles: break
    }
    forEachBlockRow(ofTiles: 4, first: first, side: side) { pixel, value in
        let row = UnsafeRawPointer(images + pixel).loadUnaligned(as: SIMD16<Float>.self)
        let even = row.evenHalf, odd = row.oddHalf
        func store(_ column: SIMD4<Float>, _ q: Int) {
            UnsafeMutableRawPointer(y + (value &+ q &* laneCount)).storeBytes(of: column, as: SIMD4<Float>.self)
        }
        store(even.evenHalf, 0); store(odd.evenHalf, 1); store(even.oddHalf, 2); store(odd.oddHalf, 3)
    }
}

/// Copies the lanes `y` of tiles first..<first + count into their 4x4 blocks of `images`.
@inline(__always) private func lanesToBlocks(_ images: FloatPointer, _ y: ConstFloatPointer, first: Int, count: Int, side: Int) {
    switch GroupMoves(count: count, side: side) {
    case .oneByOne:
        return forEachBlockValue(first: first, count: count, side: side) { pixel, value in images[pixel] = y[value] }
    case .rowsOfTwoTiles:
        return forEachBlockRow(ofTiles: 2, first: first, side: side) { pixel, value in
            func column(_ q: Int) -> SIMD2<Float> { UnsafeRawPointer(y + (value &+ q &* laneCount)).loadUnaligned(as: SIMD2<Float>.self) }
            let q0 = column(0), q1 = column(1), q2 = column(2), q3 = column(3)
            let row = SIMD8(q0[0], q1[0], q2[0], q3[0], q0[1], q1[1], q2[1], q3[1])
            UnsafeMutableRawPointer(images + pixel).storeBytes(of: row, as: SIMD8<Float>.self)
        }
    case .rowsOfFourTiles: break
    }
    forEachBlockRow(ofTiles: 4, first: first, side: side) { pixel, value in
        func column(_ q: Int) -> SIMD4<Float> { UnsafeRawPointer(y + (value &+ q &* laneCount)).loadUnaligned(as: SIMD4<Float>.self) }
        let row = interleave(interleave(column(0), column(2)), interleave(column(1), column(3)))
        UnsafeMutableRawPointer(images + pixel).storeBytes(of: row, as: SIMD16<Float>.self)
    }
}

/// Splits two tiles' row of 8 values into its columns 0...3 (pixels q and q + 4) and stores each
/// as two lanes, column q at `target` + q * 16.
@inline(__always) private func storePairColumns(_ row: SIMD8<Float>, to target: FloatPointer) {
    let columns = interleave(row.lowHalf, row.highHalf)  // (p0, p4, p1, p5, p2, p6, p3, p7)
    func store(_ column: SIMD2<Float>, _ q: Int) {
        UnsafeMutableRawPointer(target + q &* laneCount).storeBytes(of: column, as: SIMD2<Float>.self)
    }
    store(columns.lowHalf.lowHalf, 0); store(columns.lowHalf.highHalf, 1)
    store(columns.highHalf.lowHalf, 2); store(columns.highHalf.highHalf, 3)
}

/// (a0, b0, a1, b1, ...): the inverse of evenHalf and oddHalf.
@inline(__always) private func interleave(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD8<Float> {
    SIMD8(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3])
}

@inline(__always) private func interleave(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD16<Float> {
    SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
}
