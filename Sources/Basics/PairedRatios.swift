import Foundation

/// Paired ratios (in %) summarised two ways, for how far a bench can claim a ratio is at least
/// some figure when single rounds are noisy:
/// - the mean with its standard error and one-sided 95% lower bound (Student's t with n - 1
///   degrees of freedom), which one disturbed round can drag down;
/// - the median with its one-sided, distribution-free 95% lower bound (the sign test: the k-th
///   smallest ratio, k the largest with P(Binomial(n, 1/2) <= k - 1) <= 0.05), which a few
///   outlying rounds do not move.
public struct PairedRatios: Sendable {
    public let mean, standardError, lowerBound: Double
    public let median, medianLowerBound: Double

    /// One-sided 95% quantiles of Student's t for 1...20 degrees of freedom; beyond, 1.725 (the
    /// value at 20, slightly wider than the true one).
    private static let t95: [Double] = [6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812,
                                        1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725]

    public init(_ ratios: [Double]) {
        let n = ratios.count, average = n > 0 ? ratios.reduce(0, +) / Double(n) : .nan
        mean = average
        let sorted = ratios.sorted()
        median = n == 0 ? .nan : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        let rank = Self.signTestRank(count: n)
        medianLowerBound = rank > 0 ? sorted[rank - 1] : .nan
        guard n > 1 else {
            standardError = .nan
            lowerBound = .nan
            return
        }
        let variance = ratios.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(n - 1)
        let error = (variance / Double(n)).squareRoot()
        standardError = error
        lowerBound = average - Self.t95[min(n - 1, Self.t95.count) - 1] * error
    }

    /// The rank k (1-based) of the median's one-sided 95% lower bound among `n` sorted values:
    /// the largest k with P(Binomial(n, 1/2) <= k - 1) <= 0.05, or 0 when even the smallest value
    /// is not a bound at that level (fewer than 5 values).
    static func signTestRank(count n: Int) -> Int {
        guard n > 0 else { return 0 }
        // P(B = i) = C(n, i) / 2^n in logarithms: 2^n is beyond a Double from n = 1,024.
        var logProbability = -Double(n) * log(2.0), cumulative = 0.0, rank = 0
        for i in 0..<n {
            if i > 0 { logProbability += log(Double(n - i + 1)) - log(Double(i)) }
            cumulative += exp(logProbability)
            guard cumulative <= 0.05 else { break }
            rank = i + 1
        }
        return rank
    }
}
