/// Where `value` lies between `from` and `to`, as a fraction clamped to 0...1 (0 for an empty
/// span); nil for a value that is not finite. Computed from halves, so that a span of +-1e308
/// (or +-3e38 in Float) cannot overflow to infinity: charts and maps draw any value they get.
public func spanFraction<Value: BinaryFloatingPoint>(_ value: Value, from: Value, to: Value) -> Value? {
    guard value.isFinite else { return nil }
    let span = to / 2 - from / 2
    guard span > 0 else { return 0 }
    let fraction = (value / 2 - from / 2) / span
    return fraction.isFinite ? min(1, max(0, fraction)) : 0
}
