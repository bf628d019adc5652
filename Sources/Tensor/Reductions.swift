/// Sums over contiguous Floats with eight-lane SIMD accumulators. The compiler keeps a scalar
/// `sum += x[i]` in order (floating-point addition is not associative), so without explicit lanes
/// these loops run one element at a time; with them, the order is still fixed, so results repeat.

@inline(__always)
func lanes(_ x: ConstFloatPointer, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
}

/// sum of x[0..<count].
@inline(__always)
public func sum(_ x: ConstFloatPointer, count: Int) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= count { acc += lanes(x, i); i += 8 }
    var total = acc.sum()
    while i < count { total += x[i]; i += 1 }
    return total
}

/// sum of (x - center)^2.
@inline(__always)
public func sumOfSquaredDeviations(_ x: ConstFloatPointer, center: Float, count: Int) -> Float {
    var acc = SIMD8<Float>()
    let c = SIMD8<Float>(repeating: center)
    var i = 0
    while i + 8 <= count { let d = lanes(x, i) - c; acc += d * d; i += 8 }
    var total = acc.sum()
    while i < count { let d = x[i] - center; total += d * d; i += 1 }
    return total
}

/// (sum of a, sum of a * b).
@inline(__always)
public func sumAndDot(_ a: ConstFloatPointer, _ b: ConstFloatPointer, count: Int) -> (Float, Float) {
    var accA = SIMD8<Float>(), accAB = SIMD8<Float>()
    var i = 0
    while i + 8 <= count {
        let va = lanes(a, i)
        accA += va
        accAB += va * lanes(b, i)
        i += 8
    }
    var totalA = accA.sum(), totalAB = accAB.sum()
    while i < count { totalA += a[i]; totalAB += a[i] * b[i]; i += 1 }
    return (totalA, totalAB)
}

/// Sums over `count` values in blocks of 4,096: `block(range)` sums its block in Float lanes, and the
/// blocks are added in Double, so long channels keep their accuracy.
@inline(__always)
func sumsInDoubleBlocks(count: Int, _ block: (Range<Int>) -> (Float, Float)) -> (Double, Double) {
    var first = 0.0, second = 0.0
    var start = 0
    while start < count {
        let end = min(start + 4096, count)
        let (a, b) = block(start..<end)
        first += Double(a)
        second += Double(b)
        start = end
    }
    return (first, second)
}

/// (sum of (x - shift), sum of (x - shift)^2) in one sweep.
@inline(__always)
public func shiftedMoments(_ x: ConstFloatPointer, shift: Float, count: Int) -> (Double, Double) {
    let s = SIMD8<Float>(repeating: shift)
    return sumsInDoubleBlocks(count: count) { range in
        var acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>()
        var i = range.lowerBound
        while i + 8 <= range.upperBound { let d = lanes(x, i) - s; acc1 += d; acc2 += d * d; i += 8 }
        var block1 = acc1.sum(), block2 = acc2.sum()
        while i < range.upperBound { let d = x[i] - shift; block1 += d; block2 += d * d; i += 1 }
        return (block1, block2)
    }
}
