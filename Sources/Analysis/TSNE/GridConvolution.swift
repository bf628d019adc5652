import Tensor

/// The fields of t-SNE's kernels over an n x n grid of charges, through zero-padded 2-D FFTs of
/// side L >= 2n - 1 (so the circular convolution equals the linear one on the n x n outputs):
///   forceX(g) = sum_h w(g - h)^2 (x_g - x_h) q_h,   forceY likewise,   z(g) = sum_h w(g - h) q_h,
/// with w(d) = 1 / (1 + |d|^2). Convolving with these kernels (rather than spreading the charges
/// x, y and x^2 + y^2 and subtracting, which cancels large terms) keeps the interpolation error
/// relative to the forces themselves.
///
/// Four transforms per call: the kernels w (even: a real spectrum) and w^2 dx (odd: an imaginary
/// one) travel as one complex grid and are told apart by their symmetry; w^2 dy's spectrum is
/// w^2 dx's transposed; the charges take one forward transform; forceX and forceY come back as
/// the real and imaginary parts of one inverse, z from another. A 2-D transform is a pass along
/// the first axis, an in-place transpose and a second pass, so spectra are held transposed.
final class GridConvolution {
    let nodes: Int
    let side: Int
    private let plan: FourierPlan
    private let evenSpectrum: UnsafeMutablePointer<Float>, oddSpectrum: UnsafeMutablePointer<Float>
    private let re: [UnsafeMutablePointer<Float>], im: [UnsafeMutablePointer<Float>]
    private let scratchRe: UnsafeMutablePointer<Float>, scratchIm: UnsafeMutablePointer<Float>
    private let size: Int

    init(nodes: Int) {
        self.nodes = nodes
        side = FourierPlan.goodLength(atLeast: 2 * nodes - 1)
        plan = FourierPlan(length: side)!  // goodLength returns 2^a 3^b, which every plan accepts
        let size = side * side
        self.size = size
        func buffer() -> UnsafeMutablePointer<Float> {
            let b = UnsafeMutablePointer<Float>.allocate(capacity: size)
            b.initialize(repeating: 0, count: size)
            return b
        }
        evenSpectrum = buffer(); oddSpectrum = buffer()
        re = [buffer(), buffer(), buffer()]; im = [buffer(), buffer(), buffer()]
        scratchRe = buffer(); scratchIm = buffer()
    }

    deinit {
        ([evenSpectrum, oddSpectrum, scratchRe, scratchIm] + re + im).forEach { $0.deallocate() }
    }

    /// Computes the fields of `charges` (n x n, row-major, rows along y) for nodes `spacing` map
    /// units apart, into `forceX`, `forceY` and `z` (n x n each).
    func fields(charges: UnsafePointer<Float>, spacing: Float, forceX: UnsafeMutablePointer<Float>,
                forceY: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>, threads: Int) {
        let l = side, n = nodes
        setKernels(spacing: spacing, threads: threads)
        // The charges' spectrum Q.
        let (qRe, qIm) = (re[0], im[0])
        qRe.update(repeating: 0, count: size)
        qIm.update(repeating: 0, count: size)
        for row in 0..<n { (qRe + row * l).update(from: charges + row * n, count: n) }
        forward(qRe, qIm, nonzeroColumns: n, threads: threads)
        // Forces: Q i beta + i (Q i beta^T); z: Q W. Scaled by 1 / L^2, the inverse's factor.
        let (fRe, fIm, zRe, zIm) = (re[1], im[1], re[2], im[2])
        let scale = 1 / Float(size)
        for a in 0..<l {
            for b in 0..<l {
                let k = a * l + b, kt = b * l + a
                let betaX = oddSpectrum[k] * scale, betaY = oddSpectrum[kt] * scale, even = evenSpectrum[k] * scale
                let (x, y) = (qRe[k], qIm[k])
                // Q i betaX = (-y betaX) + i (x betaX); i (Q i betaY) = -(x betaY) - i (y betaY)
                fRe[k] = -y * betaX - x * betaY
                fIm[k] = x * betaX - y * betaY
                zRe[k] = x * even
                zIm[k] = y * even
            }
        }
        inverse(fRe, fIm, threads: threads)
        inverse(zRe, zIm, threads: threads)
        for row in 0..<n {
            (forceX + row * n).update(from: fRe + row * l, count: n)
            (forceY + row * n).update(from: fIm + row * l, count: n)
            (z + row * n).update(from: zRe + row * l, count: n)
        }
    }

    /// The spectra of w (real, even) and of w^2 dx (i beta, beta real and odd), from one transform
    /// of w + i w^2 dx, whose real part is W - beta: W = even part, beta = minus the odd part.
    private func setKernels(spacing: Float, threads: Int) {
        let l = side, n = nodes
        let (kRe, kIm) = (re[0], im[0])
        kRe.update(repeating: 0, count: size)
        kIm.update(repeating: 0, count: size)
        for row in 0..<l {
            let dy = row < n ? row : row - l
            guard abs(dy) < n else { continue }
            for column in 0..<l {
                let dx = column < n ? column : column - l
                guard abs(dx) < n else { continue }
                let ex = Float(dx) * spacing, ey = Float(dy) * spacing
                let w = 1 / (1 + ex * ex + ey * ey)
                kRe[row * l + column] = w
                kIm[row * l + column] = w * w * ex
            }
        }
        forward(kRe, kIm, nonzeroColumns: l, threads: threads)
        for a in 0..<l {
            let na = (l - a) % l
            for b in 0..<l {
                let k = a * l + b, mirror = na * l + (l - b) % l
                evenSpectrum[k] = (kRe[k] + kRe[mirror]) / 2
                oddSpectrum[k] = (kRe[mirror] - kRe[k]) / 2
            }
        }
    }

    /// 2-D forward transform; only the first `nonzeroColumns` columns hold anything before it.
    private func forward(_ re: UnsafeMutablePointer<Float>, _ im: UnsafeMutablePointer<Float>, nonzeroColumns: Int, threads: Int) {
        pass(re, im, columns: nonzeroColumns, threads: threads)
        transpose(re, threads: threads)
        transpose(im, threads: threads)
        pass(re, im, columns: side, threads: threads)
    }

    /// 2-D inverse (without the 1 / L^2) of a transposed spectrum: the forward passes with real
    /// and imaginary parts swapped; only the first n columns of the last pass are needed.
    private func inverse(_ re: UnsafeMutablePointer<Float>, _ im: UnsafeMutablePointer<Float>, threads: Int) {
        pass(im, re, columns: side, threads: threads)
        transpose(re, threads: threads)
        transpose(im, threads: threads)
        pass(im, re, columns: nodes, threads: threads)
    }

    /// The 1-D transform along the first axis of columns 0..<columns, split between workers.
    private func pass(_ re: UnsafeMutablePointer<Float>, _ im: UnsafeMutablePointer<Float>, columns: Int, threads: Int) {
        let plan = self.plan, l = side
        nonisolated(unsafe) let (re, im, sr, si) = (re, im, scratchRe, scratchIm)
        forEachShard(count: columns, workers: columns >= 64 ? threads : 1) { _, range in
            plan.forward(re: re, im: im, scratchRe: sr, scratchIm: si, stride: l, columns: range)
        }
    }

    /// In-place transpose of the side x side grid, by 32 x 32 blocks.
    private func transpose(_ a: UnsafeMutablePointer<Float>, threads: Int) {
        let l = side, block = 32
        let blocks = (l + block - 1) / block
        nonisolated(unsafe) let a = a
        forEachShard(count: blocks, workers: threads) { _, range in
            for bi in range {
                for bj in bi..<blocks {
                    for i in (bi * block)..<min(l, (bi + 1) * block) {
                        for j in max(i + 1, bj * block)..<min(l, (bj + 1) * block) {
                            let t = a[i * l + j]
                            a[i * l + j] = a[j * l + i]
                            a[j * l + i] = t
                        }
                    }
                }
            }
        }
    }
}
