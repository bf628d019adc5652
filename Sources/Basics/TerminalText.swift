/// Text from files (condition, value and image names) made safe to print on a terminal: control
/// characters, which could move the cursor or change colours, are shown as escapes instead.
extension StringProtocol {
    public var terminalSafe: String {
        guard unicodeScalars.contains(where: isTerminalControl) else { return String(self) }
        var out = ""
        for scalar in unicodeScalars {
            if isTerminalControl(scalar) {
                out += scalar.value < 0x100 ? "\\x" + hexDigits(scalar.value, 2) : "\\u{" + hexDigits(scalar.value, 4) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// C0 and C1 controls, DEL, and the bidirectional overrides that reorder what follows.
public func isTerminalControl(_ scalar: Unicode.Scalar) -> Bool {
    let v = scalar.value
    return v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
}

private func hexDigits(_ value: UInt32, _ digits: Int) -> String {
    let text = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: Swift.max(0, digits - text.count)) + text
}
