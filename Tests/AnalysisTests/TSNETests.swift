@testable import Analysis
import Basics
import Foundation
import Testing
import TestSupport

@Suite struct TSNETests {
    /// `clusters` Gaussian blobs of `perCluster` points in `d` dimensions, centres 10 apart.
    func blobs(clusters: Int = 3, perCluster: Int = 60, d: Int = 8, seed: UInt64 = 1) -> (points: [Float], labels: [Int]) {
        var generator = SeededGenerator(seed: seed)
        var points: [Float] = [], labels: [Int] = []
        for c in 0..<clusters {
            for _ in 0..<perCluster {
                for j in 0..<d { points.append((j == c ? 10 : 0) + generator.normal()) }
                labels.append(c)
            }
        }
        return (points, labels)
    }

    @Test func perplexityCalibrationHitsTheTargetEntropy() {
        var generator = SeededGenerator(seed: 2)
        let (n, k) = (50, 30)
        let distances = (0..<(n * k)).map { _ in generator.unitFloat() * 100 }
        for perplexity in [5.0, 10, 25] {
            let p = AffinityMatrix.conditionalProbabilities(squaredDistances: distances, count: n, k: k, perplexity: perplexity)
            let worst = AffinityMatrix.entropies(p, count: n, k: k).map { abs($0 - log(perplexity)) }.max()!
            #expect(worst < 1e-3, "perplexity \(perplexity): entropy off by \(worst)")
        }
    }

    @Test func affinitiesAreSymmetricAndSumToOne() throws {
        let (points, _) = blobs()
        let p = try AffinityMatrix(points: points, dimension: 8, config: TSNEConfig())
        #expect(abs(p.values.reduce(0, +) - 1) < 1e-4)
        var entries: [String: Float] = [:]
        for i in 0..<p.count { for e in p.rowStart[i]..<p.rowStart[i + 1] { entries["\(i),\(p.columns[e])"] = p.values[e] } }
        for (key, value) in entries {
            let parts = key.split(separator: ",")
            #expect(entries["\(parts[1]),\(parts[0])"] == value, "p[\(key)] has no equal mirror")
        }
    }

    /// Barnes-Hut's gradient, and the vectorised exact one on three workers (the coordinates
    /// copied apart, rows in shards, Z summed from the shards), against the plain exact loop.
    @Test func gradientsMatchThePlainExactOne() throws {
        let (points, _) = blobs(perCluster: 100)
        for (repulsion, theta, threads, tolerance) in [(TSNEConfig.Repulsion.barnesHut, Float(0), 2, 1e-4), (.barnesHut, 0.5, 2, 0.03),
                                                       (.exact, 0.5, 3, 1e-5)] {
            var config = TSNEConfig()
            config.theta = theta
            config.repulsion = repulsion
            config.threads = threads
            let tsne = try TSNE(points: points, dimension: 8, config: config)
            tsne.optimize(iterations: 60, exact: true)  // move away from the tiny PCA start
            let exact = tsne.gradientForTesting(exact: true), approximate = tsne.gradientForTesting(exact: false)
            let difference = zip(exact, approximate).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
            let size = exact.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
            #expect(difference / size < tolerance, "\(repulsion), theta \(theta): relative gradient error \(difference / size)")
        }
    }

    /// The vectorised exact repulsion against the plain loop, with fused multiply-adds and without
    /// (a build takes one): sizes with and without a tail of fewer than sixteen points, rows split
    /// unevenly, points on top of each other.
    @Test(arguments: [true, false]) func vectorisedExactRepulsionMatchesThePlainLoop(fused: Bool) {
        var generator = SeededGenerator(seed: 11)
        for n in [3, 15, 16, 17, 300, 1001] {
            var layout = (0..<(2 * n)).map { _ in 20 * generator.normal() }
            layout[2 * (n - 1)] = layout[0]  // a duplicate point: w = 1 at distance 0
            layout[2 * (n - 1) + 1] = layout[1]
            let xs = (0..<n).map { layout[2 * $0] }, ys = (0..<n).map { layout[2 * $0 + 1] }
            var plain = [Float](repeating: 0, count: 2 * n), vectorised = [Float](repeating: .nan, count: 2 * n)
            let plainZ = plain.withUnsafeMutableBufferPointer { TSNEGradient.plainExactRepulsion($0.baseAddress!, layout, count: n) }
            let split = n / 3
            let vectorisedZ = vectorised.withUnsafeMutableBufferPointer { r in
                [0..<split, split..<n].reduce(0.0) { z, rows in
                    z + TSNEGradient.exactRepulsion(r.baseAddress!, xs: xs, ys: ys, count: n, rows: rows, fused: fused)
                }
            }
            #expect(abs(vectorisedZ / plainZ - 1) < 1e-5, "\(n) points: Z \(vectorisedZ) against \(plainZ)")
            let scale = plain.reduce(Float(0)) { max($0, abs($1)) }
            let worst = zip(plain, vectorised).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(worst <= 1e-5 * scale, "\(n) points: a force off by \(worst) of \(scale)")
        }
    }

    /// Automatic repulsion: exact on small maps, FFT on large ones; on a small map its KL divergence
    /// is no worse than Barnes-Hut's.
    @Test func automaticRepulsionIsExactOnSmallMaps() throws {
        let config = TSNEConfig()
        #expect(config.repulsion(pointCount: 500) == .exact)
        #expect(config.repulsion(pointCount: TSNEConfig.exactBelowPoints) == .barnesHut || TSNEConfig.exactBelowPoints >= TSNEConfig.fftFromPoints)
        #expect(config.repulsion(pointCount: TSNEConfig.fftFromPoints) == .fft)
        let (points, _) = blobs()
        var kl: [Double] = []
        for repulsion in [TSNEConfig.Repulsion.automatic, .barnesHut] {
            var chosen = config
            chosen.repulsion = repulsion
            let tsne = try TSNE(points: points, dimension: 8, config: chosen)
            tsne.optimize(iterations: 400)
            kl.append(tsne.currentKLDivergence())
        }
        // The exact sums are the better map (here 0.333 against 0.349): no worse than Barnes-Hut's.
        #expect(kl[0] <= kl[1] * 1.02, "KL \(kl[0]) exact against \(kl[1]) Barnes-Hut")
    }

    @Test func separatedClustersStayApartAndTheRunRepeats() throws {
        let (points, labels) = blobs()
        var maps: [[Float]] = []
        var reported: [Int] = []
        for _ in 0..<2 {
            let tsne = try TSNE(points: points, dimension: 8)
            tsne.optimize(iterations: 500, progress: { event in
                if case .klDivergence(let iteration, let kl) = event {
                    reported.append(iteration)
                    #expect(kl.isFinite && kl >= 0)
                }
            })
            maps.append(tsne.layout)
        }
        #expect(maps[0] == maps[1], "a seeded run repeats")
        #expect(reported.count == 20 && reported.prefix(2) == [50, 100])
        let trust = Trustworthiness.score(input: points, inputDimension: 8, map: maps[0], mapDimension: 2, k: 10)
        #expect(trust > 0.9, "trustworthiness \(trust)")
        // Every point's nearest map neighbour is from its own cluster.
        let map = maps[0]
        var wrong = 0
        for i in labels.indices {
            var best = -1, bestDistance = Float.infinity
            for j in labels.indices where j != i {
                let d = pow(map[2 * i] - map[2 * j], 2) + pow(map[2 * i + 1] - map[2 * j + 1], 2)
                if d < bestDistance { bestDistance = d; best = j }
            }
            if labels[best] != labels[i] { wrong += 1 }
        }
        #expect(wrong == 0, "\(wrong) points sit next to another cluster")
    }

    @Test func warmStartAndCancellation() throws {
        let (points, _) = blobs()
        let first = try TSNE(points: points, dimension: 8)
        first.optimize(iterations: 300)
        let warm = try TSNE(points: points, dimension: 8, warmStart: first.layout)
        #expect(warm.exaggerationEnd == 0 && warm.layout == first.layout)
        var calls = 0
        warm.optimize(iterations: 100, isCancelled: { calls += 1; return calls > 10 })
        #expect(warm.iteration == 10)
        // A warm start moves the map a little, not from scratch.
        let shift = zip(warm.layout, first.layout).map { abs($0 - $1) }.max()!
        let extent = first.layout.map(abs).max()!
        #expect(shift < 0.2 * extent, "shift \(shift) of extent \(extent)")
    }

    @Test func valuesThatOverflowDistancesAreRefused() {
        var points = (0..<40).map { Float($0 % 7) }
        points[5] = -5.5e37
        #expect(throws: CSNError("t-SNE input values reach 5.5e+37, so large that squared distances overflow; scale the vectors down")) {
            try TSNE(points: points, dimension: 2)
        }
    }

    @Test func guardsNameTheProblem() throws {
        #expect(throws: CSNError("perplexity 30.0 is too large for 20 points: it must be below the number of points (try 6)")) {
            try TSNE(points: [Float](repeating: 1, count: 40), dimension: 2)
        }
        var bad = blobs().points
        bad[17] = .nan
        #expect(throws: CSNError("t-SNE input holds nan (point 2, coordinate 1): every value must be finite")) {
            try TSNE(points: bad, dimension: 8)
        }
        #expect(throws: CSNError("t-SNE needs at least 2 points, not 1")) { try TSNE(points: [1, 2], dimension: 2) }
        var wide = TSNEConfig()
        wide.perplexity = 10_000
        #expect(throws: CSNError("perplexity 10000.0 on 1000000 points needs 1000000 x 30000 neighbour entries, more than the 200000000 t-SNE allows (about 4 GB); lower the perplexity (at most 66 here) or map fewer points")) {
            try wide.validate(pointCount: 1_000_000)
        }
        #expect(throws: CSNError("t-SNE takes at most 1000000 points, not 1000001")) { try TSNEConfig().validate(pointCount: 1_000_001) }
        // Two points, and many identical points, give finite maps.
        var config = TSNEConfig()
        config.perplexity = 1
        let two = try TSNE(points: [0, 0, 1, 1], dimension: 2, config: config)
        two.optimize(iterations: 100)
        #expect(two.layout.allSatisfy { $0.isFinite })
        config.perplexity = 5
        let same = try TSNE(points: [Float](repeating: 3, count: 100 * 4), dimension: 4, config: config)
        same.optimize(iterations: 100)
        #expect(same.layout.allSatisfy { $0.isFinite })
    }
}
