import Basics
import Tensor

/// Finite-difference checks of backward passes.
public enum GradientCheck {
    public struct Mismatch: CustomStringConvertible {
        public let index: Int
        public let analytic: Double
        public let numeric: Double
        public let relativeError: Double
        public var description: String {
            "worst index \(index): analytic \(analytic), numeric \(numeric), relative error \(relativeError)"
        }
    }

    /// Compares `analytic` with central differences of `loss` over the `count` values at `values`
    /// (each nudged by +-`step` and restored). Relative error: |a - n| / max(|a| + |n|, floor).
    public static func worst(values: FloatPointer, count: Int, analytic: [Float], step: Float = 1e-2,
                             floor: Double = 1e-2, loss: () -> Double) -> Mismatch {
        precondition(analytic.count == count)
        var worst = Mismatch(index: -1, analytic: 0, numeric: 0, relativeError: 0)
        for i in 0..<count {
            let saved = values[i]
            values[i] = saved + step
            let plus = loss()
            values[i] = saved - step
            let minus = loss()
            values[i] = saved
            let numeric = (plus - minus) / (2 * Double(step))
            let a = Double(analytic[i])
            let error = abs(a - numeric) / max(abs(a) + abs(numeric), floor)
            if error > worst.relativeError { worst = Mismatch(index: i, analytic: a, numeric: numeric, relativeError: error) }
        }
        return worst
    }

    /// Checks the gradient along its own direction: with g the analytic gradient and u = g/|g|,
    /// (L(x + h u) - L(x - h u)) / 2h should equal |g|. One evaluation pair covers every value,
    /// so the signal stands well above Float rounding where per-value differences drown in it.
    /// Returns (numeric, analytic |g|, relative error).
    public static func directional(values: FloatPointer, count: Int, analytic: [Float], step: Double = 1e-2,
                                   loss: () -> Double) -> (numeric: Double, analytic: Double, relativeError: Double) {
        let norm = analytic.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        guard norm > 0 else { return (0, 0, 0) }
        let saved = Array(UnsafeBufferPointer(start: values, count: count))
        func shifted(_ sign: Double) -> Double {
            for i in 0..<count { values[i] = Float(Double(saved[i]) + sign * step * Double(analytic[i]) / norm) }
            return loss()
        }
        let numeric = (shifted(1) - shifted(-1)) / (2 * step)
        for i in 0..<count { values[i] = saved[i] }
        return (numeric, norm, abs(numeric - norm) / norm)
    }

    /// Random values from a seeded generator, uniform in [-scale, scale).
    public static func random(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in (generator.unitFloat() * 2 - 1) * scale }
    }

    /// sum(weights * values) in Double: a scalar loss whose gradient with respect to `values` is `weights`.
    public static func projection(_ values: ConstFloatPointer, _ weights: [Float]) -> Double {
        var sum = 0.0
        for i in 0..<weights.count { sum += Double(values[i]) * Double(weights[i]) }
        return sum
    }
}
