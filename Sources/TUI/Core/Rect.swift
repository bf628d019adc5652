/// A rectangle of terminal cells. Layout is arithmetic on rectangles: nothing here draws.
public struct Rect: Equatable, Sendable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public static let zero = Rect(x: 0, y: 0, width: 0, height: 0)
    public var isEmpty: Bool { width == 0 || height == 0 }
    public var right: Int { x + width }
    public var bottom: Int { y + height }
    public var area: Int { width * height }
    public var description: String { "Rect(\(x), \(y), \(width)x\(height))" }

    /// The rectangle shrunk by `margin` cells on every side (never negative).
    public func inset(by margin: Int) -> Rect {
        Rect(x: x + margin, y: y + margin, width: width - 2 * margin, height: height - 2 * margin)
    }

    public func intersection(_ other: Rect) -> Rect {
        let left = max(x, other.x), top = max(y, other.y)
        return Rect(x: left, y: top, width: min(right, other.right) - left, height: min(bottom, other.bottom) - top)
    }
}

/// How much of a split a part takes.
public enum Constraint: Equatable, Sendable {
    /// Exactly n cells (less if there is no room).
    case length(Int)
    /// A share of the whole, in percent.
    case percentage(Int)
    /// An equal share of what the others leave.
    case fill
}

public enum Direction: Sendable { case horizontal, vertical }

extension Rect {
    /// Splits the rectangle along `direction`: lengths and percentages first, fills share the rest.
    /// Parts that do not fit get zero size; the parts always tile the rectangle without overlap.
    public func split(_ direction: Direction, _ constraints: [Constraint]) -> [Rect] {
        let total = direction == .horizontal ? width : height
        var sizes = constraints.map { constraint -> Int in
            switch constraint {
            case .length(let n): max(0, n)
            case .percentage(let p): max(0, total * p / 100)
            case .fill: 0
            }
        }
        let fills = constraints.indices.filter { constraints[$0] == .fill }
        let fixed = sizes.reduce(0, +)
        if !fills.isEmpty {
            let rest = max(0, total - fixed)
            for (k, i) in fills.enumerated() { sizes[i] = rest / fills.count + (k < rest % fills.count ? 1 : 0) }
        }
        var offset = 0
        return sizes.map { size in
            let taken = min(size, max(0, total - offset))
            defer { offset += taken }
            return direction == .horizontal
                ? Rect(x: x + offset, y: y, width: taken, height: height)
                : Rect(x: x, y: y + offset, width: width, height: taken)
        }
    }
}
