import Dispatch
import Foundation

/// Ctrl-C and SIGTERM turned into a call of `stop` on a dispatch queue (handlers only set flags or
/// ask a thread to stop), for as long as the returned token lives; `restore()` puts the default
/// handlers back.
final class StopSignals {
    private let sources: [DispatchSourceSignal]

    init(_ stop: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: stop)
            source.resume()
            return source
        }
    }

    func restore() {
        sources.forEach { $0.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
