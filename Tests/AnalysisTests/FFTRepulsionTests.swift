@testable import Analysis
import Basics
import Foundation
import Testing

@Suite struct FFTRepulsionTests {
    @Test func goodLengthsAreTwosAndThrees() {
        #expect(FourierPlan.goodLength(atLeast: 1) == 1)
        #expect(FourierPlan.goodLength(atLeast: 5) == 6)
        #expect(FourierPlan.goodLength(atLeast: 299) == 324)
        #expect(FourierPlan.goodLength(atLeast: 1025) == 1152)
        #expect(FourierPlan(length: 10) == nil)
        #expect(FourierPlan(length: 0) == nil)
    }

    /// Every radix and their mixes, on columns split as two workers split them, against the
    /// direct sum in Double.
    @Test func transformMatchesTheDirectSum() throws {
        var generator = SeededGenerator(seed: 3)
        for length in [1, 2, 3, 4, 6, 8, 9, 12, 16, 18, 27, 48, 54, 96] {
            let plan = try #require(FourierPlan(length: length))
            let width = 5
            var re = (0..<(length * width)).map { _ in generator.normal() }
            var im = (0..<(length * width)).map { _ in generator.normal() }
            let (inRe, inIm) = (re, im)
            var scratchRe = [Float](repeating: 0, count: re.count), scratchIm = scratchRe
            re.withUnsafeMutableBufferPointer { r in
                im.withUnsafeMutableBufferPointer { i in
                    scratchRe.withUnsafeMutableBufferPointer { sr in
                        scratchIm.withUnsafeMutableBufferPointer { si in
                            for columns in [0..<2, 2..<width] {
                                plan.forward(re: r.baseAddress!, im: i.baseAddress!, scratchRe: sr.baseAddress!, scratchIm: si.baseAddress!,
                                             stride: width, columns: columns)
                            }
                        }
                    }
                }
            }
            var worst = 0.0
            for c in 0..<width {
                for k in 0..<length {
                    var sumRe = 0.0, sumIm = 0.0
                    for t in 0..<length {
                        let angle = -2 * Double.pi * Double(k * t) / Double(length)
                        let (a, b) = (Double(inRe[t * width + c]), Double(inIm[t * width + c]))
                        sumRe += a * cos(angle) - b * sin(angle)
                        sumIm += a * sin(angle) + b * cos(angle)
                    }
                    worst = max(worst, abs(sumRe - Double(re[k * width + c])), abs(sumIm - Double(im[k * width + c])))
                }
            }
            #expect(worst < 1e-4 * Double(length), "length \(length): off by \(worst)")
        }
    }

    /// The grid's three fields against direct sums over node pairs.
    @Test func gridFieldsMatchTheDirectSums() {
        let n = 7, spacing: Float = 0.6
        let convolution = GridConvolution(nodes: n)
        var generator = SeededGenerator(seed: 4)
        let charges = (0..<(n * n)).map { _ in generator.unitFloat() }
        var forceX = [Float](repeating: 0, count: n * n), forceY = forceX, z = forceX
        forceX.withUnsafeMutableBufferPointer { fx in
            forceY.withUnsafeMutableBufferPointer { fy in
                z.withUnsafeMutableBufferPointer { zz in
                    convolution.fields(charges: charges, spacing: spacing, forceX: fx.baseAddress!, forceY: fy.baseAddress!,
                                       z: zz.baseAddress!, threads: 2)
                }
            }
        }
        var worst: Float = 0
        for row in 0..<n {
            for column in 0..<n {
                var sx: Float = 0, sy: Float = 0, sz: Float = 0
                for r in 0..<n {
                    for c in 0..<n {
                        let dx = Float(column - c) * spacing, dy = Float(row - r) * spacing
                        let w = 1 / (1 + dx * dx + dy * dy), q = charges[r * n + c]
                        sx += w * w * dx * q
                        sy += w * w * dy * q
                        sz += w * q
                    }
                }
                let g = row * n + column
                worst = max(worst, abs(sx - forceX[g]), abs(sy - forceY[g]), abs(sz - z[g]))
            }
        }
        #expect(worst < 1e-4, "off by \(worst)")
    }

    /// Forces and Z from the grid against the exact O(N^2) sums, on a spread-out map of clusters
    /// (as maps are after early exaggeration) and on a tight one (the minimum grid). With one box
    /// per map unit (FIt-SNE's and openTSNE's default) the forces are within a few percent, as
    /// Barnes-Hut's at theta 0.5; halving the boxes' width cuts the error about eightfold.
    @Test func repulsionMatchesTheExactSums() {
        var generator = SeededGenerator(seed: 5)
        for (scale, boxesPerUnit, tolerance): (Float, Float, Double) in [(30, 1, 0.05), (30, 2, 0.008), (2, 1, 0.002)] {
            let n = 1500
            var layout = [Float](repeating: 0, count: 2 * n)
            for i in 0..<n {
                let cluster = Float(i % 5)
                layout[2 * i] = scale * (cos(cluster) + 0.15 * generator.normal())
                layout[2 * i + 1] = scale * (sin(cluster) + 0.15 * generator.normal())
            }
            var exact = [Float](repeating: 0, count: 2 * n), grid = exact
            let exactZ = exact.withUnsafeMutableBufferPointer { e in
                TSNEGradient.plainExactRepulsion(e.baseAddress!, layout, count: n)
            }
            let fft = FFTRepulsion(boxesPerUnit: boxesPerUnit)
            let gridZ = grid.withUnsafeMutableBufferPointer { g in
                fft.repulsion(g.baseAddress!, layout, count: n, threads: 2)
            }
            let difference = zip(exact, grid).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
            let size = exact.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
            #expect(difference / size < tolerance, "scale \(scale), \(boxesPerUnit) boxes a unit: relative force error \(difference / size)")
            #expect(abs(gridZ / exactZ - 1) < 2e-3, "scale \(scale): Z \(gridZ) against \(exactZ)")
        }
    }

    /// Gaussian clusters in `d` dimensions, centres 6 apart along the axes.
    func clusters(_ n: Int, d: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<(n * d)).map { e in Float((e / d) % 7 == e % d ? 6 : 0) + generator.normal() }
    }

    /// The forest and its refinement find most true neighbours; every list is sorted, without
    /// the point itself and without repeats; the same seed gives the same lists.
    @Test func approximateNeighboursFindMostTrueOnes() {
        let (n, d, k) = (3000, 12, 30)
        let points = clusters(n, d: d, seed: 6)
        let exact = AffinityMatrix.nearestNeighbours(points, dimension: d, k: k, threads: 2)
        let search = {
            points.withUnsafeBufferPointer {
                ApproximateNeighbours.search($0.baseAddress!, count: n, dimension: d, k: k, threads: 2, seed: 1)
            }
        }
        let approximate = search()
        var found = 0
        for i in 0..<n {
            let truth = Set(exact.indices[(i * k)..<((i + 1) * k)])
            let row = Array(approximate.indices[(i * k)..<((i + 1) * k)])
            found += row.filter { truth.contains($0) }.count
            #expect(!row.contains(Int32(i)) && Set(row).count == k, "point \(i): \(row)")
            let distances = approximate.distances[(i * k)..<((i + 1) * k)]
            #expect(zip(distances, distances.dropFirst()).allSatisfy { $0 <= $1 }, "point \(i) unsorted")
        }
        let recall = Double(found) / Double(n * k)
        #expect(recall > 0.9, "recall \(recall)")
        #expect(search().indices == approximate.indices)
    }

    /// Points that all coincide (the trees cannot split them) still get full lists.
    @Test func approximateNeighboursOfDuplicates() {
        let (n, k) = (700, 20)
        let points = [Float](repeating: 1, count: n * 3)
        let lists = points.withUnsafeBufferPointer { ApproximateNeighbours.search($0.baseAddress!, count: n, dimension: 3, k: k, threads: 2, seed: 1) }
        for i in 0..<n {
            let row = lists.indices[(i * k)..<((i + 1) * k)]
            #expect(!row.contains(Int32(i)) && Set(row).count == k)
        }
        #expect(lists.distances.allSatisfy { $0 == 0 })
    }

    /// A whole map with the FFT repulsion and approximate neighbours: P stays symmetric and sums
    /// to one, and the map's KL divergence is within a few percent of Barnes-Hut with exact
    /// neighbours on the same input.
    @Test func fftMapMatchesBarnesHut() throws {
        let (n, d) = (1000, 10)
        let points = clusters(n, d: d, seed: 7)
        var kl: [Double] = []
        for (repulsion, neighbours) in [(TSNEConfig.Repulsion.barnesHut, TSNEConfig.NeighbourSearch.exact), (.fft, .approximate)] {
            var config = TSNEConfig()
            config.repulsion = repulsion
            config.neighbours = neighbours
            config.fftMinimumBoxes = 16  // a small grid keeps the debug build quick
            let tsne = try TSNE(points: points, dimension: d, config: config)
            let p = tsne.affinities
            #expect(abs(p.values.reduce(0, +) - 1) < 1e-4)
            tsne.optimize(iterations: 350)
            kl.append(tsne.currentKLDivergence())
        }
        #expect(abs(kl[1] / kl[0] - 1) < 0.05, "KL: Barnes-Hut \(kl[0]), FFT \(kl[1])")
    }
}
