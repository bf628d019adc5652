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
