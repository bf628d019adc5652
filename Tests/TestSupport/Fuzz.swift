import Basics
import Foundation
import Testing

/// Seeded mutation fuzzing for the parsers: each case takes one of the valid inputs, applies one
/// to three mutations (bit flips, boundary bytes, cuts, repeats, and numbers swapped for hostile
/// ones such as 2^63 or 1e309), and hands the result to the parser. The parser must return or
/// throw a CSNError; a trap ends the test process, so `make test` fails loudly.
///
/// `make test` runs `Fuzz.defaultCases` per parser (seconds); `make fuzz` sets CSN_FUZZ_CASES.
public struct Fuzz {
    public static let defaultCases = 300

    /// Cases per parser: CSN_FUZZ_CASES when set, else the default.
    public static var cases: Int {
        ProcessInfo.processInfo.environment["CSN_FUZZ_CASES"].flatMap(Int.init) ?? defaultCases
    }

    static let hostileNumbers = ["0", "-1", "1", "255", "256", "65536", "2147483648", "4294967296", "-2147483649",
                                 "9223372036854775807", "9223372036854775808", "18446744073709551616", "-9223372036854775808",
                                 "1e309", "-1e309", "1e300", "NaN", "nan", "inf", "-0", "0.5", "1e-45", "00000000000000000001"]
    static let boundaryBytes: [UInt8] = [0x00, 0xFF, 0x7F, 0x80, 0x22, 0x2D, 0x39, 0x0A, 0x0D, 0x2C, 0x1B, 0x5B, 0x7B, 0x3A, 0xEF, 0xBB]

    var generator: SeededGenerator

    public init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    /// One mutated copy of `input`.
    public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0...generator.index(below: 3) {
            let n = bytes.count
            switch generator.index(below: 8) {
            case 0 where n > 0:
                bytes[generator.index(below: n)] ^= UInt8(1) << UInt8(generator.index(below: 8))
            case 1 where n > 0:
                bytes[generator.index(below: n)] = Self.boundaryBytes[generator.index(below: Self.boundaryBytes.count)]
            case 2 where n > 0:
                bytes.removeSubrange(generator.index(below: n)...)
            case 3 where n > 0:
                let start = generator.index(below: n)
                bytes.removeSubrange(start..<min(n, start + 1 + generator.index(below: 16)))
            case 4 where n > 0:
                let start = generator.index(below: n)
                let piece = bytes[start..<min(n, start + 1 + generator.index(below: 64))]
                bytes.insert(contentsOf: piece, at: generator.index(below: n))
            case 5:
                let count = 1 + generator.index(below: 8)
                let random = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                bytes.insert(contentsOf: random, at: generator.index(below: n + 1))
            default:
                bytes = replaceNumber(bytes)
            }
        }
        return bytes
    }

    /// Swaps one run of ASCII digits for a hostile number (where the structure carries sizes).
    mutating func replaceNumber(_ bytes: [UInt8]) -> [UInt8] {
        let isDigit = { (b: UInt8) in b >= 0x30 && b <= 0x39 }
        let starts = bytes.indices.filter { isDigit(bytes[$0]) && ($0 == 0 || !isDigit(bytes[$0 - 1])) }
        guard !starts.isEmpty else { return bytes }
        let start = starts[generator.index(below: starts.count)]
        var end = start
        while end < bytes.count && isDigit(bytes[end]) { end += 1 }
        var out = bytes
        out.replaceSubrange(start..<end, with: Array(Self.hostileNumbers[generator.index(below: Self.hostileNumbers.count)].utf8))
        return out
    }

    public struct Outcome: CustomStringConvertible {
        public var accepted = 0
        public var rejected = 0
        public var description: String { "\(accepted) accepted, \(rejected) rejected with a CSNError" }
    }

    /// Runs `cases` mutations of `inputs` (the valid inputs are tried too) through `parse`.
    /// Errors other than CSNError are recorded as test issues with the case number.
    @discardableResult
    public static func run(_ name: String, inputs: [[UInt8]], seed: UInt64, cases: Int = Fuzz.cases,
                           sourceLocation: SourceLocation = #_sourceLocation, _ parse: ([UInt8]) throws -> Void) -> Outcome {
        var fuzz = Fuzz(seed: seed)
        var outcome = Outcome()
        for k in 0..<(cases + inputs.count) {
            let input = k < inputs.count ? inputs[k] : fuzz.mutate(inputs[fuzz.generator.index(below: inputs.count)])
            do {
                try parse(input)
                outcome.accepted += 1
            } catch is CSNError {
                outcome.rejected += 1
            } catch {
                Issue.record("\(name) case \(k) (seed \(seed)) threw \(type(of: error)) instead of a CSNError: \(error)", sourceLocation: sourceLocation)
            }
        }
        return outcome
    }
}
