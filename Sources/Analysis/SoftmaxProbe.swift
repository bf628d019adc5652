import Basics
import Foundation
import Tensor

/// Softmax regression on frozen features: how much an attribute can be read off an embedding (the
/// paper's "off-the-shelf features" experiment). Features are standardised with the training
/// set's mean and deviation; full-batch Adam on cross-entropy with a small L2 penalty.
public struct SoftmaxProbe: Sendable {
    public struct Config: Sendable {
        public var epochs = 300
        public var learningRate: Float = 0.05
        public var l2: Float = 1e-4
        /// Weigh each class by the inverse of its share, so that a rare class counts as much as a
        /// common one (for attributes where predicting the majority would score high).
        public var balanced = false
        public init() {}
    }

    public let classCount: Int
    public let featureCount: Int
    let mean: [Float], scale: [Float]
    /// [C, F] weights and [C] biases.
    let weights: [Float], biases: [Float]

    /// Trains on `features` [N, F] with `labels` in 0..<classCount.
    public init(features: [Float], featureCount f: Int, labels: [Int32], classCount c: Int, config: Config = Config()) throws {
        let n = labels.count
        guard n > 0, features.count == n * f else { throw CSNError("the probe needs one feature row per label (\(features.count / max(f, 1)) rows, \(n) labels)") }
        guard c >= 2, labels.allSatisfy({ $0 >= 0 && Int($0) < c }) else { throw CSNError("probe labels must lie in 0..<\(c), with at least 2 classes") }
        classCount = c
        featureCount = f
        var mean = [Float](repeating: 0, count: f), variance = [Float](repeating: 0, count: f)
        for i in 0..<n { for j in 0..<f { mean[j] += features[i * f + j] } }
        for j in 0..<f { mean[j] /= Float(n) }
        for i in 0..<n { for j in 0..<f { let d = features[i * f + j] - mean[j]; variance[j] += d * d } }
        let scale = variance.map { 1 / max(($0 / Float(n)).squareRoot(), 1e-6) }
        self.mean = mean
        self.scale = scale
        let x = FloatBuffer(Self.standardise(features, mean: mean, scale: scale, featureCount: f))
        let store = ParameterStore(shapes: [("w", [c, f]), ("b", [c])])
        let logits = FloatBuffer(count: n * c)
        let adam = Adam(learningRate: config.learningRate)
        // Per-example loss weights summing to 1: 1/n each, or 1/(c * count of its class) when balanced.
        var classCounts = [Int](repeating: 0, count: c)
        for label in labels { classCounts[Int(label)] += 1 }
        let exampleWeight: [Float] = (0..<c).map { k in
            config.balanced ? 1 / Float(c * max(classCounts[k], 1)) : 1 / Float(n)
        }
        let w = store.value("w"), b = store.value("b"), gw = store.gradient("w"), gb = store.gradient("b")
        for epoch in 1...config.epochs {
            linearForward(logits.pointer, x.pointer, w, b, batch: n, inFeatures: f, outFeatures: c)
            // dLoss/dlogits = (softmax - onehot) * the example's weight, written over the logits.
            for i in 0..<n {
                let row = logits.pointer + i * c, weight = exampleWeight[Int(labels[i])]
                var top = row[0]
                for k in 1..<c { top = max(top, row[k]) }
                var sum: Float = 0
                for k in 0..<c { row[k] = exp(row[k] - top); sum += row[k] }
                for k in 0..<c { row[k] = row[k] / sum * weight }
                row[Int(labels[i])] -= weight
            }
            store.gradients.zero()
            linearBackward(nil, gw, gb, logits.pointer, x.pointer, w, batch: n, inFeatures: f, outFeatures: c)
            for k in 0..<(c * f) { gw[k] += config.l2 * w[k] }
            adam.update(store, step: epoch)
        }
        weights = Array(UnsafeBufferPointer(start: w, count: c * f))
        biases = Array(UnsafeBufferPointer(start: b, count: c))
    }

    static func standardise(_ features: [Float], mean: [Float], scale: [Float], featureCount f: Int) -> [Float] {
        var x = features
        for i in x.indices { x[i] = (x[i] - mean[i % f]) * scale[i % f] }
        return x
    }

    /// The most likely class of each row of `features` [N, F].
    public func predict(_ features: [Float]) -> [Int32] {
        let f = featureCount, n = features.count / f
        let x = Self.standardise(features, mean: mean, scale: scale, featureCount: f)
        return (0..<n).map { i in
            var best = 0, bestScore = -Float.infinity
            for k in 0..<classCount {
                var score = biases[k]
                for j in 0..<f { score += weights[k * f + j] * x[i * f + j] }
                if score > bestScore { bestScore = score; best = k }
            }
            return Int32(best)
        }
    }

    public func accuracy(features: [Float], labels: [Int32]) -> Double {
        let predicted = predict(features)
        return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(max(labels.count, 1))
    }

    /// The mean over classes of the share of that class's rows predicted right (classes absent
    /// from `labels` left out): 1 / classes for a probe that always says the same.
    public func balancedAccuracy(features: [Float], labels: [Int32]) -> Double {
        let predicted = predict(features)
        var right = [Int](repeating: 0, count: classCount), total = right
        for (p, l) in zip(predicted, labels) {
            total[Int(l)] += 1
            if p == l { right[Int(l)] += 1 }
        }
        let present = (0..<classCount).filter { total[$0] > 0 }
        return present.reduce(0.0) { $0 + Double(right[$1]) / Double(total[$1]) } / Double(max(present.count, 1))
    }

    /// The share of the most common label: what a probe must beat.
    public static func majorityShare(_ labels: [Int32]) -> Double {
        let counts = Dictionary(grouping: labels, by: { $0 }).mapValues(\.count)
        return Double(counts.values.max() ?? 0) / Double(max(labels.count, 1))
    }
}
