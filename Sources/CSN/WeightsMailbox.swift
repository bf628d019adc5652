import Basics

/// Where the trainer leaves its newest weights for whoever analyses them (the UI's analysis
/// worker). Writers never wait for readers: `publish` replaces the newest copy and tells each
/// subscriber, which then takes `newest` when it is ready. Older copies are simply dropped.
public final class WeightsMailbox: Sendable {
    private struct Contents {
        var newest: ModelWeights?
        var subscribers: [@Sendable () -> Void] = []
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
        for notify in subscribers { notify() }
    }

    /// `notify` runs on the publishing thread after each publish; it should only wake its owner.
    public func subscribe(_ notify: @escaping @Sendable () -> Void) {
        contents.withLock { $0.subscribers.append(notify) }
    }
}
