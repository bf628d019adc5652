import Foundation

/// A complex discrete Fourier transform of length L = 2^a 3^b along the first axis of a grid
/// [L, stride] held as two Float arrays (real and imaginary parts).
///
/// Each element of the transform is a run of contiguous values (a row's columns), so every
/// butterfly is a loop over contiguous memory that the compiler vectorises; a 2-D transform is
/// this pass, a transpose and this pass again. Stockham's autosort form (no bit reversal): the
/// stages alternate between the data and a scratch grid of the same shape. The inverse is the
/// forward transform with the real and imaginary arrays swapped, divided by L.
struct FourierPlan: Sendable {
    let length: Int
    private let radices: [Int]
    /// Stage s's twiddles w^u = exp(-2 pi i p u / n), u = 1..<r, at twiddleStart[s] + p * (r - 1) + u - 1.
    private let twiddleStart: [Int]
    private let twiddleRe: [Float], twiddleIm: [Float]

    /// The smallest length >= n that is 2^a 3^b.
    static func goodLength(atLeast n: Int) -> Int {
        var best = Int.max, power3 = 1
        while power3 < 2 * max(n, 1) {
            var value = power3
            while value < n { value *= 2 }
            best = min(best, value)
            power3 *= 3
        }
        return best
    }

    init?(length: Int) {
        guard length >= 1 else { return nil }
        var rest = length, radices: [Int] = []
        while rest % 4 == 0 { radices.append(4); rest /= 4 }
        while rest % 2 == 0 { radices.append(2); rest /= 2 }
        while rest % 3 == 0 { radices.append(3); rest /= 3 }
        guard rest == 1 else { return nil }
        var start: [Int] = [], re: [Float] = [], im: [Float] = []
        var n = length
        for r in radices {
            start.append(re.count)
            let m = n / r
            for p in 0..<m {
                for u in 1..<r {
                    let angle = -2 * Double.pi * Double(p * u) / Double(n)
                    re.append(Float(cos(angle)))
                    im.append(Float(sin(angle)))
                }
            }
            n = m
        }
        self.length = length
        self.radices = radices
        twiddleStart = start
        twiddleRe = re
        twiddleIm = im
    }

    /// Transforms the columns `columns` of the grid [length, stride] in place; `scratch` has the
    /// grid's shape. Different column ranges may run on different threads at once.
    func forward(re: UnsafeMutablePointer<Float>, im: UnsafeMutablePointer<Float>,
                 scratchRe: UnsafeMutablePointer<Float>, scratchIm: UnsafeMutablePointer<Float>,
                 stride: Int, columns: Range<Int>) {
        guard length > 1, !columns.isEmpty else { return }
        var (xr, xi, yr, yi) = (re, im, scratchRe, scratchIm)
        var n = length, s = 1
        let width = columns.count, first = columns.lowerBound
        // With every column, the runs of all q for one p are contiguous: one call covers them.
        let fused = width == stride
        twiddleRe.withUnsafeBufferPointer { twRe in
            twiddleIm.withUnsafeBufferPointer { twIm in
                for (stage, r) in radices.enumerated() {
                    let m = n / r
                    let inStep = s * m * stride, outStep = s * stride
                    for p in 0..<m {
                        let t = twiddleStart[stage] + p * (r - 1)
                        let w = Twiddles(re: twRe.baseAddress! + t, im: twIm.baseAddress! + t)
                        for q in 0..<(fused ? 1 : s) {
                            let input = (q + s * p) * stride + first, output = (q + s * r * p) * stride + first
                            let count = fused ? s * stride : width
                            let run = Run(xr: xr + input, xi: xi + input, yr: yr + output, yi: yi + output,
                                          inStep: inStep, outStep: outStep, count: count)
                            switch r {
                            case 4: Self.radix4(run, w)
                            case 2: Self.radix2(run, w)
                            default: Self.radix3(run, w)
                            }
                        }
                    }
                    n = m
                    s *= r
                    swap(&xr, &yr)
                    swap(&xi, &yi)
                }
            }
        }
        if xr != re {  // an odd number of stages left the result in the scratch grid
            for row in 0..<length {
                let offset = row * stride + first
                (re + offset).update(from: xr + offset, count: width)
                (im + offset).update(from: xi + offset, count: width)
            }
        }
    }

    private struct Twiddles {
        let re: UnsafePointer<Float>, im: UnsafePointer<Float>
    }

    /// Inputs a_t at x + t * inStep, outputs b_u at y + u * outStep, each `count` contiguous values.
    private struct Run {
        let xr: UnsafeMutablePointer<Float>, xi: UnsafeMutablePointer<Float>
        let yr: UnsafeMutablePointer<Float>, yi: UnsafeMutablePointer<Float>
        let inStep: Int, outStep: Int, count: Int
    }

    @inline(__always)
    private static func radix2(_ run: Run, _ w: Twiddles) {
        let (w1r, w1i) = (w.re[0], w.im[0])
        let a0r = run.xr, a0i = run.xi, a1r = run.xr + run.inStep, a1i = run.xi + run.inStep
        let b0r = run.yr, b0i = run.yi, b1r = run.yr + run.outStep, b1i = run.yi + run.outStep
        for c in 0..<run.count {
            let dr = a0r[c] - a1r[c], di = a0i[c] - a1i[c]
            b0r[c] = a0r[c] + a1r[c]
            b0i[c] = a0i[c] + a1i[c]
            b1r[c] = dr * w1r - di * w1i
            b1i[c] = dr * w1i + di * w1r
        }
    }

    @inline(__always)
    private static func radix3(_ run: Run, _ w: Twiddles) {
        let (w1r, w1i, w2r, w2i) = (w.re[0], w.im[0], w.re[1], w.im[1])
        let half = Float(0.5), sine = Float(3.0.squareRoot() / 2)
        let s = run.inStep, o = run.outStep
        let xr = run.xr, xi = run.xi, yr = run.yr, yi = run.yi
        for c in 0..<run.count {
            let a0r = xr[c], a0i = xi[c], a1r = xr[c + s], a1i = xi[c + s], a2r = xr[c + 2 * s], a2i = xi[c + 2 * s]
            let sumR = a1r + a2r, sumI = a1i + a2i
            let midR = a0r - half * sumR, midI = a0i - half * sumI
            // -i sin(60°) (a1 - a2)
            let rotR = sine * (a1i - a2i), rotI = -sine * (a1r - a2r)
            let b1r = midR + rotR, b1i = midI + rotI, b2r = midR - rotR, b2i = midI - rotI
            yr[c] = a0r + sumR
            yi[c] = a0i + sumI
            yr[c + o] = b1r * w1r - b1i * w1i
            yi[c + o] = b1r * w1i + b1i * w1r
            yr[c + 2 * o] = b2r * w2r - b2i * w2i
            yi[c + 2 * o] = b2r * w2i + b2i * w2r
        }
    }

    @inline(__always)
    private static func radix4(_ run: Run, _ w: Twiddles) {
        let (w1r, w1i, w2r, w2i, w3r, w3i) = (w.re[0], w.im[0], w.re[1], w.im[1], w.re[2], w.im[2])
        let s = run.inStep, o = run.outStep
        let xr = run.xr, xi = run.xi, yr = run.yr, yi = run.yi
        for c in 0..<run.count {
            let a0r = xr[c], a0i = xi[c], a1r = xr[c + s], a1i = xi[c + s]
            let a2r = xr[c + 2 * s], a2i = xi[c + 2 * s], a3r = xr[c + 3 * s], a3i = xi[c + 3 * s]
            let t0r = a0r + a2r, t0i = a0i + a2i, t1r = a0r - a2r, t1i = a0i - a2i
            let t2r = a1r + a3r, t2i = a1i + a3i
            let t3r = a1i - a3i, t3i = a3r - a1r  // -i (a1 - a3)
            let b1r = t1r + t3r, b1i = t1i + t3i, b2r = t0r - t2r, b2i = t0i - t2i, b3r = t1r - t3r, b3i = t1i - t3i
            yr[c] = t0r + t2r
            yi[c] = t0i + t2i
            yr[c + o] = b1r * w1r - b1i * w1i
            yi[c + o] = b1r * w1i + b1i * w1r
            yr[c + 2 * o] = b2r * w2r - b2i * w2i
            yi[c + 2 * o] = b2r * w2i + b2i * w2r
            yr[c + 3 * o] = b3r * w3r - b3i * w3i
            yi[c + 3 * o] = b3r * w3i + b3i * w3r
        }
    }
}
