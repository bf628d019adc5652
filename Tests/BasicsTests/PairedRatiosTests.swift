@testable import Basics
import Testing

/// The bound `csn bench --ui` reports on the ratio of throughputs.
@Suite struct PairedRatiosTests {
    @Test func meanStandardErrorAndLowerBound() {
        let three = PairedRatios([90, 100, 110])
        #expect(three.mean == 100)
        #expect(abs(three.standardError - 10 / 3.0.squareRoot()) < 1e-9)
        #expect(abs(three.lowerBound - (100 - 2.920 * 10 / 3.0.squareRoot())) < 1e-9, "t with 2 degrees of freedom")
        // Beyond 20 degrees of freedom the quantile stays at 1.725.
        let many = PairedRatios((0..<40).map { $0 % 2 == 0 ? 95 : 97 })
        #expect(abs(many.lowerBound - (96 - 1.725 * many.standardError)) < 1e-9)
        #expect(many.lowerBound > 95.5 && many.lowerBound < 96)
    }

    @Test func tooFewRatiosGiveNoBound() {
        #expect(PairedRatios([93]).lowerBound.isNaN)
        #expect(PairedRatios([]).mean.isNaN)
        #expect(PairedRatios([90, 95, 100, 105]).medianLowerBound.isNaN, "4 values: P(all above the median) = 1/16 > 0.05")
    }

    /// The sign test's ranks against binomial tables (n = 5: 1/32; 10: P(B <= 1) = 0.011, P(B <= 2)
    /// = 0.055; 20: P(B <= 5) = 0.021, P(B <= 6) = 0.058), and the median and its bound on
    /// ratios with one outlying round, which drags the mean's bound far more.
    @Test func medianAndItsSignTestBound() {
        #expect(PairedRatios.signTestRank(count: 4) == 0)
        #expect(PairedRatios.signTestRank(count: 5) == 1)
        #expect(PairedRatios.signTestRank(count: 10) == 2)
        #expect(PairedRatios.signTestRank(count: 20) == 6)
        #expect(PairedRatios.signTestRank(count: 100) == 42)
        #expect(PairedRatios.signTestRank(count: 2000) == 963, "past 2^1024")
        let rounds: [Double] = [66, 97, 99, 95, 101, 98, 96, 100, 94, 102]
        let summary = PairedRatios(rounds)
        #expect(summary.median == 97.5)
        #expect(summary.medianLowerBound == 94, "the second smallest of ten")
        #expect(summary.lowerBound < 90, "the mean's bound is pulled under 90 by the one round at 66%")
        #expect(PairedRatios([3, 1, 2]).median == 2)
    }
}
