import Foundation

/// Fixed slots that worker threads fill at distinct indices, behind a lock.
final class ResultSlots<Value>: @unchecked Sendable {
    private var slots: [Value?]
    private var done = 0
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    subscript(index: Int) -> Value? {
        get { lock.withLock { slots[index] } }
        set { lock.withLock { slots[index] = newValue } }
    }

    func markDone() -> Int { lock.withLock { done += 1; return done } }
    var values: [Value?] { lock.withLock { slots } }
}
