/// The mean of paired ratios (in %) with its standard error and one-sided 95% lower bound
/// (Student's t with n - 1 degrees of freedom): how far a bench can claim a ratio is at least
/// some figure when single rounds are noisy.
public struct PairedRatios: Sendable {
    public let mean, standardError, lowerBound: Double

    /// One-sided 95% quantiles of Student's t for 1...20 degrees of freedom; beyond, 1.725 (the
    /// value at 20, slightly wider than the true one).
    private static let t95: [Double] = [6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812,
                                        1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725]

    public init(_ ratios: [Double]) {
        let n = ratios.count, average = n > 0 ? ratios.reduce(0, +) / Double(n) : .nan
        mean = average
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
}
