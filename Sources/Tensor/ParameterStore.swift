/// All trainable parameters of a model in one flat buffer, with gradients and Adam's two moments in
/// the same layout: a layer holds offsets, the optimizer is one loop, a checkpoint is one write.
public final class ParameterStore {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let offset: Int
        public let shape: [Int]
        public var count: Int { shape.reduce(1, *) }
    }

    public let entries: [Entry]
    public let values: FloatBuffer
    public let gradients: FloatBuffer
    public let firstMoments: FloatBuffer
    public let secondMoments: FloatBuffer

    /// Lays out the named shapes one after another.
    public init(shapes: [(name: String, shape: [Int])]) {
        var entries: [Entry] = []
        var offset = 0
        for (name, shape) in shapes {
            entries.append(Entry(name: name, offset: offset, shape: shape))
            offset += shape.reduce(1, *)
        }
        self.entries = entries
        values = FloatBuffer(count: offset)
        gradients = FloatBuffer(count: offset)
        firstMoments = FloatBuffer(count: offset)
        secondMoments = FloatBuffer(count: offset)
    }

    public var count: Int { values.count }

    public func entry(_ name: String) -> Entry {
        guard let entry = entries.first(where: { $0.name == name }) else { preconditionFailure("no parameter named \(name)") }
        return entry
    }

    public func value(_ name: String) -> FloatPointer { values.pointer + entry(name).offset }
    public func gradient(_ name: String) -> FloatPointer { gradients.pointer + entry(name).offset }
}

/// Adam (Kingma and Ba, 2015) with bias correction, over a whole parameter store.
public struct Adam: Sendable {
    public var learningRate: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8

    public init(learningRate: Float) { self.learningRate = learningRate }

    /// One update of every parameter; `step` counts from 1. The parameters in `scaled.range`
    /// (learned masks) take `scaled.factor` times the learning rate. `workers` threads share the
    /// parameters (one core does not saturate the memory the sweep streams through); each
    /// parameter's update is the same whatever their number.
    public func update(_ store: ParameterStore, step: Int, learningRate: Float? = nil, scaled: (range: Range<Int>, factor: Float)? = nil,
                       workers: Int = 1) {
        let lr = learningRate ?? self.learningRate
        let correction1 = 1 - powf(beta1, Float(step)), correction2 = 1 - powf(beta2, Float(step))
        let p = store.values.pointer, g = store.gradients.pointer
        let m = store.firstMoments.pointer, v = store.secondMoments.pointer
        func sweep(_ indices: Range<Int>, _ rate: Float) {
            for i in indices {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                p[i] -= rate * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + epsilon)
            }
        }
        let range = scaled?.range.clamped(to: 0..<store.count) ?? 0..<0, factor = scaled?.factor ?? 1
        forEachShard(count: store.count, workers: workers) { _, shard in
            sweep(shard.clamped(to: 0..<range.lowerBound), lr)
            sweep(shard.clamped(to: range), lr * factor)
            sweep(shard.clamped(to: range.upperBound..<store.count), lr)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
