import Basics

/// Where the trainer leaves its newest weights for whoever analyses them (the UI's analysis
/// worker). Writers never wait for readers: `publish` replaces the newest copy and tells each
/// subscriber, which then takes `newest` when it is ready. Older copies are simply dropped.
public final class WeightsMailbox: Sendable {
    private struct Contents {
        var newest: ModelWeights?
        var subscribers: [(id: Int, notify: @Sendable () -> Void)] = []
        var nextID = 0
    }
    private let contents: Locked<Contents>

    /// A mailbox holding `initial` (a saved run's weights, for exploring), or empty.
    public init(_ initial: ModelWeights? = nil) {
        contents = Locked(Contents(newest: initial))
    }

    public var newest: ModelWeights? { contents.withLock { $0.newest } }

    public func publish(_ weights: ModelWeights) {
        let subscribers = contents.withLock { contents in
            contents.newest = weights
            return contents.subscribers
        }
        // Outside the lock: a subscriber may read `newest` from its callback.
        for subscriber in subscribers { subscriber.notify() }
    }

    /// `notify` runs on the publishing thread after each publish until `unsubscribe` with the
    /// returned id; it should only wake its owner.
    public func subscribe(_ notify: @escaping @Sendable () -> Void) -> Int {
        contents.withLock { contents in
            defer { contents.nextID += 1 }
            contents.subscribers.append((contents.nextID, notify))
            return contents.nextID
        }
    }

    /// Stops the notices of subscription `id` (a publish already under way may still deliver one).
    public func unsubscribe(_ id: Int) {
        contents.withLock { $0.subscribers.removeAll { $0.id == id } }
    }

    /// How many subscribers are told of each publish.
    public var subscriberCount: Int { contents.withLock { $0.subscribers.count } }
}
