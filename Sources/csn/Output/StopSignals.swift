import Basics
import Dispatch
import Foundation

/// Ctrl-C, SIGTERM, SIGHUP (the SSH session closed) and SIGQUIT (Ctrl-\) turned into a call of
/// `stop` on a dispatch queue (handlers only set flags or ask a thread to stop), for as long as the
/// returned token lives; `restore()` puts the default handlers back. Taking SIGQUIT here also keeps
/// the Swift runtime's crash reporter, which listens for it, from drawing over the UI.
final class StopSignals {
    private let sources: [DispatchSourceSignal]
    static let numbers = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    init(_ stop: @escaping @Sendable () -> Void) {
        for number in Self.numbers { signal(number, SIG_IGN) }
        sources = Self.numbers.map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: stop)
            source.resume()
            return source
        }
    }

    func restore() {
        sources.forEach { $0.cancel() }
        for number in Self.numbers { signal(number, SIG_DFL) }
    }
}

/// Where a stop request goes when what it should stop may not exist yet: a signal that arrives
/// while a run is being set up is kept, and stops the run as soon as it is handed over.
final class StopTarget: Sendable {
    private let state = Locked<(requested: Bool, action: (@Sendable () -> Void)?)>((false, nil))

    /// The first signal asks for a clean stop; a second one, from a user who will not wait
    /// (a long load, the final evaluation), ends the process at once: what was saved stays.
    func fire() {
        let (action, again) = state.withLock { state in
            let again = state.requested
            state.requested = true
            return (state.action, again)
        }
        if again {
            FileHandle.standardError.write(Data("\nstopped at once (a second signal); the last checkpoint saved stays\n".utf8))
            _exit(130)
        }
        action?()
    }

    /// What a stop does from now on; run at once if a stop was already asked for.
    func set(_ action: @escaping @Sendable () -> Void) {
        let requested = state.withLock { state in
            state.action = action
            return state.requested
        }
        if requested { action() }
    }
}
