/// The direct first stage's two sweeps over pooling windows, sixteen windows of a row at a time
/// in a build for AVX-512 where a row holds a multiple of sixteen windows (the default network's
/// 32x32 input: sixteen). They compute what directConvBatchNormReluPool and
/// accumulateWindowPatchSums compute, in another order of additions.
///
/// Both read an image through its window phases: for each input channel and padded row R, phase
/// p (0...3) holds padded[R][2 ox + p] for every window ox. The convolution outputs of window
/// (oy, ox) at (2 oy + dy, 2 ox + dx) read padded rows 2 oy + dy + ky and phases dx + kx, so the 3x3
/// patches of sixteen windows are sixteen lanes of these vectors, without a gather. Made once per
/// image, the phases serve every output channel.
///
/// With one input channel the convolution is nine multiply-adds per output. On im2col and a
/// matrix multiply (K = 9) it was bound by writing its output and reading it back for the pool;
/// here the four outputs of each window stay in registers until the pool. The window sums visited
/// one window at a time, with its patch gathered from the window's maximum; here each row's
/// gradients are split by where their maximum lies and multiplied by the phases.
public enum DirectStageRows {
    /// Whether a build and a side take these kernels: fused multiply-adds on whole 512-bit vectors
    /// (elsewhere, SIMD16 arithmetic is split into pieces or library calls, see TSNEGradient), and
    /// rows of whole groups of sixteen windows.
    public static func applies(side: Int) -> Bool { SmallGemm.isAvailable && side > 0 && side % 32 == 0 }

    /// Floats of scratch for one image's phases.
    public static func phaseCount(channels: Int, side: Int) -> Int { channels * (side + 2) * 4 * (side / 2) }
}


/// Fills `phases` [channels, side + 2, 4, side / 2] from a padded image (PaddedImage's layout).
private func fillWindowPhases(_ phases: FloatPointer, padded: ConstFloatPointer, channels: Int, side: Int) {
    let paddedSide = PaddedImage.side(side), outSide = side / 2
    for ci in 0..<channels {
        for row in 0..<paddedSide {
            let source = UnsafeRawPointer(padded + (ci * paddedSide + row) * paddedSide)
            let target = phases + (ci * paddedSide + row) * 4 * outSide
            for ox in stride(from: 0, to: outSide, by: 16) {
                // 32 values from the window's left column, and 32 from two further right: the last
                // group ends at the row's end.
                let left = source.loadUnaligned(fromByteOffset: 8 * ox, as: SIMD32<Float>.self)
                let right = source.loadUnaligned(fromByteOffset: 8 * ox + 8, as: SIMD32<Float>.self)
                func store(_ value: Lanes, phase: Int) {
                    UnsafeMutableRawPointer(target + phase * outSide + ox).storeBytes(of: value, as: Lanes.self)
                }
                store(left.evenHalf, phase: 0); store(left.oddHalf, phase: 1)
                store(right.evenHalf, phase: 2); store(right.oddHalf, phase: 3)
            }
        }
    }
}

/// A patch row's three sums (kx = 0, 1, 2) from one padded row's four phases: gradients whose
/// maximum is in the window's left column (`left`) meet phase kx, the others phase kx + 1.
@inline(__always) private func addPatchRow(_ a: inout Lanes, _ b: inout Lanes, _ c: inout Lanes, _ left: Lanes, _ right: Lanes,
                                           _ p0: Lanes, _ p1: Lanes, _ p2: Lanes, _ p3: Lanes) {
    a = a.addingProduct(left, p0).addingProduct(right, p1)
    b = b.addingProduct(left, p1).addingProduct(right, p2)
    c = c.addingProduct(left, p2).addingProduct(right, p3)
}

/// 0, 2, ..., 30: the left columns of sixteen windows, as offsets in their rows. (A function, not
/// a global constant: a global is initialised lazily, behind a check in every loop that reads it.)
@inline(__always) private func leftColumns() -> SIMD16<Int32> {
    SIMD16<Int32>(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
}

/// Sixteen lanes of phase `phase` of a padded row, from window `ox` on (`row` from phaseRow).
@inline(__always) private func phase(_ row: ConstFloatPointer, _ phase: Int, outSide: Int, ox: Int) -> Lanes {
    UnsafeRawPointer(row + phase * outSide + ox).loadUnaligned(as: Lanes.self)
}

/// Where padded row `row` of channel `ci` starts among the phases.
@inline(__always) private func phaseRow(_ phases: ConstFloatPointer, channel ci: Int, row: Int, side: Int) -> ConstFloatPointer {
    phases + (ci * PaddedImage.side(side) + row) * 4 * (side / 2)
}

extension DirectStageRows {
    /// directConvBatchNormReluPool for a shard, without the convolution's output: each window's four
    /// outputs are made in registers, pooled as batchNormReluPool pools them (the first maximum of
    /// sign * x, in the order top left, top right, bottom left, bottom right), and normalised.
    /// `padded` is scratch of PaddedImage.count and `phases` of phaseCount. Needs applies(side:).
    public static func convolveNormalisePool(_ pooled: FloatPointer, _ argmax: UnsafeMutablePointer<Int32>, windowInput: FloatPointer,
                                             padded: FloatPointer, phases: FloatPointer, _ input: ConstFloatPointer,
                                             weight: ConstFloatPointer, center: ConstFloatPointer, rstd: ConstFloatPointer,
                                             gamma: ConstFloatPointer, beta: ConstFloatPointer, inChannels: Int, outChannels: Int,
                                             images: Int, side: Int, batchStride: Int) {
        let k = inChannels * 9
        forEachPlane(padded: padded, phases: phases, input, inChannels: inChannels, outChannels: outChannels, images: images,
                     side: side, batchStride: batchStride) { c, first in
            convolveNormalisePoolChannel(pooled + first, argmax + first, windowInput: windowInput + first, phases: phases,
                                         weight: weight + c * k, center: center[c], rstd: rstd[c], gamma: gamma[c], beta: beta[c],
                                         inChannels: inChannels, side: side)
        }
    }

    /// accumulateWindowPatchSums for a shard: each row's sixteen gradients are split into four by
    /// where their window's maximum lies (dy, dx), and the split gradients times the phases give
    /// the nine sums of each channel's patch entries. Scratch and pointers as convolveNormalisePool.
    public static func accumulateWindowPatchSums(_ sums: FloatPointer, padded: FloatPointer, phases: FloatPointer, dPooled: ConstFloatPointer,
                                                 argmax: UnsafePointer<Int32>, _ input: ConstFloatPointer, inChannels: Int,
                                                 outChannels: Int, images: Int, side: Int, batchStride: Int) {
        let k = inChannels * 9
        forEachPlane(padded: padded, phases: phases, input, inChannels: inChannels, outChannels: outChannels, images: images,
                     side: side, batchStride: batchStride) { c, first in
            for ci in 0..<inChannels {
                addWindowPatchSums(sums + c * k + ci * 9, phases: phaseRow(phases, channel: ci, row: 0, side: side),
                                   gradients: dPooled + first, maxima: argmax + first, side: side)
            }
        }
    }

    /// For each image of a shard: pads it, fills its phases, then calls `body(c, first)` for each
    /// output channel c with `first`, the index of the image's first pooled value of channel c.
    private static func forEachPlane(padded: FloatPointer, phases: FloatPointer, _ input: ConstFloatPointer, inChannels: Int,
                                     outChannels: Int, images: Int, side: Int, batchStride: Int, _ body: (Int, Int) -> Void) {
        precondition(applies(side: side), "the row kernels do not take side \(side) in this build")
        let pooledPlane = (side / 2) * (side / 2)
        padded.update(repeating: 0, count: PaddedImage.count(channels: inChannels, side: side))
        for n in 0..<images {
            padImage(padded, input, image: n, channels: inChannels, side: side, batchStride: batchStride)
            fillWindowPhases(phases, padded: padded, channels: inChannels, side: side)
            for c in 0..<outChannels { body(c, (c * batchStride + n) * pooledPlane) }
        }
    }
}

/// target[0..<9] += one input channel's patch sums over an image's pooled windows of one output
/// channel (`phases` at the channel's first padded row; `gradients` and `maxima` at the image's
/// plane). A function of its own, so that its sixteen-lane arithmetic stays whole (inlined into
/// the loops above, the compiler split it into 128- and 256-bit pieces).
@inline(never)
private func addWindowPatchSums(_ target: FloatPointer, phases: ConstFloatPointer, gradients: ConstFloatPointer,
                                maxima: UnsafePointer<Int32>, side: Int) {
    let outSide = side / 2, rowLength = 4 * outSide
    let zero = Lanes(), one = SIMD16<Int32>(repeating: 1), belowEdge = SIMD16<Int32>(repeating: Int32(side - 1))
    let evenLanes = leftColumns()
    // Entry (ky, kx) of the patch sums, in sixteen lanes.
    var s0 = zero, s1 = zero, s2 = zero, s3 = zero, s4 = zero, s5 = zero, s6 = zero, s7 = zero, s8 = zero
    for oy in 0..<outSide {
        for ox in stride(from: 0, to: outSide, by: 16) {
            let o = oy * outSide + ox
            let gradient = UnsafeRawPointer(gradients + o).loadUnaligned(as: Lanes.self)
            let corner = evenLanes &+ Int32(2 * oy * side + 2 * ox)
            // The maximum's offset in its window, side * dy + dx (the side is even), as masks of
            // all ones where dy = 1 (side - 1 - offset < 0) and where dx = 1.
            let delta = UnsafeRawPointer(maxima + o).loadUnaligned(as: SIMD16<Int32>.self) &- corner
            let lower = (belowEdge &- delta) &>> 31, right = SIMD16<Int32>() &- (delta & one)
            // Gradients by (dy, dx): exactly g or 0 in each lane, by their bits.
            let bits = unsafeBitCast(gradient, to: SIMD16<Int32>.self), upperBits = bits & ~lower, lowerBits = bits & lower
            func float(_ value: SIMD16<Int32>) -> Lanes { unsafeBitCast(value, to: Lanes.self) }
            let g00 = float(upperBits & ~right), g01 = float(upperBits & right)
            let g10 = float(lowerBits & ~right), g11 = float(lowerBits & right)
            // Padded row 2 oy + j meets entry (ky, kx) as dy + ky = j, through phase dx + kx.
            func rowPhases(_ j: Int) -> (Lanes, Lanes, Lanes, Lanes) {
                let row = phases + (2 * oy + j) * rowLength + ox
                return (phase(row, 0, outSide: outSide, ox: 0), phase(row, 1, outSide: outSide, ox: 0),
                        phase(row, 2, outSide: outSide, ox: 0), phase(row, 3, outSide: outSide, ox: 0))
            }
            var (p0, p1, p2, p3) = rowPhases(0)
            addPatchRow(&s0, &s1, &s2, g00, g01, p0, p1, p2, p3)
            (p0, p1, p2, p3) = rowPhases(1)
            addPatchRow(&s3, &s4, &s5, g00, g01, p0, p1, p2, p3)
            addPatchRow(&s0, &s1, &s2, g10, g11, p0, p1, p2, p3)
            (p0, p1, p2, p3) = rowPhases(2)
            addPatchRow(&s6, &s7, &s8, g00, g01, p0, p1, p2, p3)
            addPatchRow(&s3, &s4, &s5, g10, g11, p0, p1, p2, p3)
            (p0, p1, p2, p3) = rowPhases(3)
            addPatchRow(&s6, &s7, &s8, g10, g11, p0, p1, p2, p3)
        }
    }
    target[0] += s0.sum(); target[1] += s1.sum(); target[2] += s2.sum()
    target[3] += s3.sum(); target[4] += s4.sum(); target[5] += s5.sum()
    target[6] += s6.sum(); target[7] += s7.sum(); target[8] += s8.sum()
}

/// One output channel of one image for convolveNormalisePool: `pooled`, `argmax` and
/// `windowInput` at the image's plane, `weight` at the channel's filters. A function of its own
/// for the reason given at addWindowPatchSums.
@inline(never)
private func convolveNormalisePoolChannel(_ pooled: FloatPointer, _ argmax: UnsafeMutablePointer<Int32>, windowInput: FloatPointer,
                                          phases: ConstFloatPointer, weight w: ConstFloatPointer, center m: Float, rstd r: Float,
                                          gamma g: Float, beta b: Float, inChannels: Int, side: Int) {
    let outSide = side / 2
    let sign: Float = g * r < 0 ? -1 : 1
    let evenLanes = leftColumns()
    for oy in 0..<outSide {
        for ox in stride(from: 0, to: outSide, by: 16) {
            var topLeft = Lanes(), topRight = Lanes(), bottomLeft = Lanes(), bottomRight = Lanes()
            for ci in 0..<inChannels {
                for ky in 0..<3 {
                    let top = phaseRow(phases, channel: ci, row: 2 * oy + ky, side: side)
                    let bottom = phaseRow(phases, channel: ci, row: 2 * oy + 1 + ky, side: side)
                    for kx in 0..<3 {
                        let weight = Lanes(repeating: w[ci * 9 + ky * 3 + kx])
                        topLeft = topLeft.addingProduct(weight, phase(top, kx, outSide: outSide, ox: ox))
                        topRight = topRight.addingProduct(weight, phase(top, kx + 1, outSide: outSide, ox: ox))
                        bottomLeft = bottomLeft.addingProduct(weight, phase(bottom, kx, outSide: outSide, ox: ox))
                        bottomRight = bottomRight.addingProduct(weight, phase(bottom, kx + 1, outSide: outSide, ox: ox))
                    }
                }
            }
            // The window's maximum of sign * x and its index in the plane, as batchNormReluPool.
            let corner = evenLanes &+ Int32(2 * oy * side + 2 * ox)
            var best = sign * topLeft, at = corner
            var better = sign * topRight .> best
            best.replace(with: sign * topRight, where: better); at.replace(with: corner &+ 1, where: better)
            better = sign * bottomLeft .> best
            best.replace(with: sign * bottomLeft, where: better); at.replace(with: corner &+ Int32(side), where: better)
            better = sign * bottomRight .> best
            best.replace(with: sign * bottomRight, where: better); at.replace(with: corner &+ Int32(side + 1), where: better)
            let bestX = sign * best
            var y = g * ((bestX - m) * r) + b
            y.replace(with: 0, where: y .< 0)
            let o = oy * outSide + ox
            UnsafeMutableRawPointer(pooled + o).storeBytes(of: y, as: Lanes.self)
            UnsafeMutableRawPointer(argmax + o).storeBytes(of: at, as: SIMD16<Int32>.self)
            UnsafeMutableRawPointer(windowInput + o).storeBytes(of: bestX, as: Lanes.self)
        }
    }
}
