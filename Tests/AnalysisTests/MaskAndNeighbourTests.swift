import Analysis
import Basics
import Testing
import TestSupport

@Suite struct MaskStatisticsTests {
    @Test func aHandMadeMatrix() {
        // Condition 0 uses dims 0, 1; condition 1 uses dims 1, 2 (and a tiny 0.05 on dim 3, below 10%);
        // condition 2 is all zero. Dim 3 and 4 are unused.
        let masks: [Float] = [
            2, 1, 0, 0, 0,
            0, 1, 1, 0.05, 0,
            0, 0, 0, 0, 0,
        ]
        let stats = MaskStatistics(masks: masks, conditionCount: 3, dimension: 5)
        #expect(stats.rows.map(\.active) == [[0, 1], [1, 2], []])
        #expect(stats.rows.map(\.l1) == [3, 2.05, 0])
        #expect(stats.rows[0].ranked == [0, 1, 2, 3, 4])
        #expect(stats.rows[1].ranked.prefix(3) == [1, 2, 3], "ties by index")
        #expect(stats.jaccard == [1, 1.0 / 3, 0, 1.0 / 3, 1, 0, 0, 0, 0])
        let expectedCosine = 1 / (5.0.squareRoot() * 2.0025.squareRoot())
        #expect(abs(stats.cosine[1] - expectedCosine) < 1e-6 && stats.cosine[2] == 0 && abs(stats.cosine[0] - 1) < 1e-12)
        #expect(stats.unused == [3, 4])
    }
}

@Suite struct NearestNeighbourTests {
    @Test func matchesBruteForceUnderAMaskWithTiesByIndex() {
        let (n, d) = (300, 6)
        var generator = SeededGenerator(seed: 9)
        // Values on a coarse grid so that many distances tie.
        let embeddings = (0..<(n * d)).map { _ in Float(generator.index(below: 4)) }
        let mask: [Float] = [1, 0, 2, 0.5, 0, 1]
        let search = NearestNeighbours(embeddings: embeddings, dimension: d, mask: mask)
        for query in [0, 17, 299] {
            var brute: [(index: Int, distance: Float)] = []
            for i in 0..<n where i != query {
                var s: Float = 0
                for j in 0..<d {
                    let x = (embeddings[query * d + j] - embeddings[i * d + j]) * mask[j]
                    s += x * x
                }
                brute.append((i, s.squareRoot()))
            }
            brute.sort { $0.distance != $1.distance ? $0.distance < $1.distance : $0.index < $1.index }
            let found = search.neighbours(of: query, k: 10)
            let expectedIndices: [Int] = brute.prefix(10).map { $0.index }
            let expectedDistances: [Float] = brute.prefix(10).map { $0.distance }
            #expect(found.map { $0.index } == expectedIndices, "query \(query)")
            #expect(zip(found.map { $0.distance }, expectedDistances).allSatisfy { abs($0 - $1) < 1e-5 })
        }
        #expect(search.neighbours(of: 5, k: 1000).count == n - 1)
    }
}

@Suite struct SoftmaxProbeTests {
    @Test func separatesATwoBlobToySetAndBeatsTheMajority() throws {
        var generator = SeededGenerator(seed: 12)
        var features: [Float] = [], labels: [Int32] = []
        for i in 0..<600 {
            let label = Int32(i % 3 == 0 ? 1 : 0)  // unbalanced: majority share 2/3
            features += [Float(label) * 4 + generator.normal(), generator.normal() * 3, 100 + generator.normal()]
            labels.append(label)
        }
        let train = 400 * 3
        let probe = try SoftmaxProbe(features: Array(features.prefix(train)), featureCount: 3, labels: Array(labels.prefix(400)), classCount: 2)
        let accuracy = probe.accuracy(features: Array(features.dropFirst(train)), labels: Array(labels.dropFirst(400)))
        #expect(accuracy > 0.95, "held-out accuracy \(accuracy)")
        #expect(abs(SoftmaxProbe.majorityShare(labels) - 2.0 / 3) < 0.01)
        #expect(throws: CSNError("probe labels must lie in 0..<2, with at least 2 classes")) {
            try SoftmaxProbe(features: [1, 2], featureCount: 1, labels: [0, 5], classCount: 2)
        }
    }

    /// A rare class that overlaps the common one: a plain probe mostly says "common" and its
    /// balanced accuracy stays low; weighing the classes equally finds the rare one far more often.
    @Test func balancedTrainingFindsARareClass() throws {
        var generator = SeededGenerator(seed: 13)
        var features: [Float] = [], labels: [Int32] = []
        for i in 0..<2000 {
            let label = Int32(i % 20 == 0 ? 1 : 0)  // 5% rare
            features += [Float(label) * 1.5 + generator.normal(), generator.normal()]
            labels.append(label)
        }
        let (trainFeatures, trainLabels) = (Array(features.prefix(2400)), Array(labels.prefix(1200)))
        let (testFeatures, testLabels) = (Array(features.dropFirst(2400)), Array(labels.dropFirst(1200)))
        var config = SoftmaxProbe.Config()
        let plain = try SoftmaxProbe(features: trainFeatures, featureCount: 2, labels: trainLabels, classCount: 2, config: config)
        config.balanced = true
        let balanced = try SoftmaxProbe(features: trainFeatures, featureCount: 2, labels: trainLabels, classCount: 2, config: config)
        let plainScore = plain.balancedAccuracy(features: testFeatures, labels: testLabels)
        let balancedScore = balanced.balancedAccuracy(features: testFeatures, labels: testLabels)
        #expect(plainScore < 0.6 && balancedScore > 0.7, "balanced accuracy: plain \(plainScore), balanced \(balancedScore)")
        // Always the same answer scores one half, whatever the shares.
        #expect(plain.balancedAccuracy(features: [Float](repeating: -50, count: 2 * testLabels.count), labels: testLabels) == 0.5)
    }
}
