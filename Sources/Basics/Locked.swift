import Foundation

/// A value shared between threads, reached only through `withLock`.
///
/// `@unchecked Sendable`: every access goes through `lock`. It is an NSLock (a pthread mutex)
/// rather than Synchronization's Mutex because the thread sanitizer understands pthread mutexes;
/// Mutex's futex calls are invisible to it, so every guarded access would be reported as a race.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
