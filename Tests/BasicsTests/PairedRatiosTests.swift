import Basics
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
    }
}
