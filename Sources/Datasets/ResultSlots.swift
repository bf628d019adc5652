import Synchronization

/// Fixed slots that worker threads fill at distinct indices, behind a mutex.
final class ResultSlots<Value: Sendable>: Sendable {
    private struct Slots {
        var values: [Value?]
        var done = 0
    }
    private let slots: Mutex<Slots>

    init(count: Int) { slots = Mutex(Slots(values: Array(repeating: nil, count: count))) }

    subscript(index: Int) -> Value? {
        get { slots.withLock { $0.values[index] } }
        set { slots.withLock { $0.values[index] = newValue } }
    }

    func markDone() -> Int { slots.withLock { $0.done += 1; return $0.done } }
    var values: [Value?] { slots.withLock { $0.values } }
}
