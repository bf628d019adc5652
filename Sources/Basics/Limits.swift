/// Caps on what a file may make the program allocate. Every size read from a file is checked
/// against these before any allocation, so a lying header gives an error instead of an abort.
///
/// `maxBytes` bounds one decoded file (a dataset after decompression, a checkpoint, a vector file);
/// the commands take it from `--max-memory`.
public struct ReadLimits: Sendable, Equatable {
    public var maxBytes: Int

    public init(maxBytes: Int = ReadLimits.defaultMaxBytes) {
        self.maxBytes = maxBytes
    }

    /// 8 GiB: four times the largest dataset csn has been used with (UT-Zappos50K in colour at 112 px).
    public static let defaultMaxBytes = 8 << 30
    public static let standard = ReadLimits()

    /// "8 GiB", "512 MiB".
    public static func describe(bytes: Int) -> String {
        bytes >= 1 << 30 && bytes % (1 << 30) == 0 ? "\(bytes >> 30) GiB"
            : bytes >= 1 << 20 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }
}

/// Checked arithmetic on sizes read from files: nil on overflow or a negative factor.
public enum CheckedSize {
    /// The product of `factors`, or nil if one is negative or the product overflows.
    public static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (value, overflow) = result.multipliedReportingOverflow(by: factor)
            guard !overflow else { return nil }
            result = value
        }
        return result
    }

    public static func product(_ factors: Int...) -> Int? { product(factors) }
}
