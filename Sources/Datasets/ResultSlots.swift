import Basics

/// Fixed slots that worker threads fill at distinct indices, behind a lock.
final class ResultSlots<Value: Sendable>: Sendable {
    private struct Slots {
        var values: [Value?]
        var done = 0
    }
    private let slots: Locked<Slots>

    init(count: Int) { slots = Locked(Slots(values: Array(repeating: nil, count: count))) }

    subscript(index: Int) -> Value? {
        get { slots.withLock { $0.values[index] } }
        set { slots.withLock { $0.values[index] = newValue } }
    }

    func markDone() -> Int { slots.withLock { $0.done += 1; return $0.done } }
    var values: [Value?] { slots.withLock { $0.values } }
}
