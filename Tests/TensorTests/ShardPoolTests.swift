import Dispatch
import Foundation
import Testing
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// forEachShard and its pool: every shard once and done when the call returns, whatever the timing
/// (threads spinning or asleep, either side late), jobs of several sizes, nested splits, callers on
/// several threads at once, and callers of lowered priority.
@Suite(.timeLimit(.minutes(1))) struct ShardPoolTests {
    @Test func everyItemOnceForManyShapes() {
        for count in [0, 1, 2, 3, 7, 64, 1001] {
            for workers in 1...4 {
                var items = [Int](repeating: 0, count: max(1, count)), calls = [Int](repeating: 0, count: workers)
                items.withUnsafeMutableBufferPointer { items in
                    calls.withUnsafeMutableBufferPointer { calls in
                        nonisolated(unsafe) let (items, calls) = (items, calls)
                        forEachShard(count: count, workers: workers) { w, range in
                            calls[w] += 1
                            for i in range { items[i] += 1 }
                        }
                    }
                }
                let shards = max(1, min(workers, count))
                #expect(items.prefix(count).allSatisfy { $0 == 1 }, "count \(count), workers \(workers): items \(items.prefix(20))")
                #expect(calls == [Int](repeating: 1, count: shards) + [Int](repeating: 0, count: workers - shards),
                        "count \(count), workers \(workers): calls per shard \(calls)")
            }
        }
    }

    /// A pool of three threads beside the caller, whatever the machine's cores. Each round writes its
    /// number into every shard's slot, and the slots are read as soon as `run` returns: a shard left
    /// unfinished shows. The slow side sleeps 1 ms, longer than the spin, so that the other one sleeps
    /// too: the pool threads (shard 0 slow) or the caller (another shard slow).
    @Test func everyShardDoneWhenRunReturns() {
        let pool = ShardPool(capacity: 3)
        var slots = [Int](repeating: -1, count: 4)
        for round in 0..<60 {
            let count = [4, 2, 3][round % 3], slow = round % 4
            let ran = slots.withUnsafeMutableBufferPointer { slots in
                nonisolated(unsafe) let slots = slots
                return pool.run(count: count) { w in
                    if w == slow { usleep(1000) }
                    slots[w] = round
                }
            }
            #expect(ran)
            #expect(slots.prefix(count).allSatisfy { $0 == round }, "round \(round), \(count) shards: \(slots)")
            // Back to back, without sleeping: the threads are still spinning.
            for quick in 0..<20 {
                let ran = slots.withUnsafeMutableBufferPointer { slots in
                    nonisolated(unsafe) let slots = slots
                    return pool.run(count: 4) { w in slots[w] = 1000 + quick }
                }
                #expect(ran && slots == [Int](repeating: 1000 + quick, count: 4), "round \(round): \(slots)")
            }
        }
        // One helper too many, and one shard (no helper), are refused.
        #expect(!pool.run(count: 5) { _ in })
        #expect(!pool.run(count: 1) { _ in })
    }

    /// A caller at a lowered priority is refused (it runs its shards on Dispatch instead).
    @Test func lowPriorityCallerIsRefused() {
        let pool = ShardPool(capacity: 1)
        let outcome = Outcome(), done = DispatchSemaphore(value: 0)
        Thread {
            // Linux's nice is per thread: only this one is lowered.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            outcome.ran = pool.run(count: 2) { _ in }
            done.signal()
        }.start()
        done.wait()
        #expect(!outcome.ran)
        #expect(pool.run(count: 2) { _ in })
    }

    /// What a thread found, read after the semaphore it signals.
    private final class Outcome: @unchecked Sendable { var ran = true }

    /// A shard that itself splits work finds the pool busy and goes to Dispatch.
    @Test func nestedSplitsComplete() {
        var totals = [Int](repeating: 0, count: 2)
        totals.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            forEachShard(count: 2, workers: 2) { w, _ in
                var inner = [Int](repeating: 0, count: 2)
                inner.withUnsafeMutableBufferPointer { innerSlots in
                    nonisolated(unsafe) let innerSlots = innerSlots
                    forEachShard(count: 10, workers: 2) { v, range in innerSlots[v] += range.count }
                }
                slots[w] += inner.reduce(0, +)
            }
        }
        #expect(totals == [10, 10])
    }

    /// Callers on several threads at once: one gets the pool, the others Dispatch, all complete.
    @Test func concurrentCallersComplete() {
        let callers = 4
        var results = [Int](repeating: 0, count: callers)
        results.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            DispatchQueue.concurrentPerform(iterations: callers) { caller in
                var total = 0
                for _ in 0..<200 {
                    var sums = [0, 0]
                    sums.withUnsafeMutableBufferPointer { slots in
                        nonisolated(unsafe) let slots = slots
                        forEachShard(count: 100, workers: 2) { w, range in slots[w] += range.reduce(0, +) }
                    }
                    total += sums[0] + sums[1]
                }
                out[caller] = total
            }
        }
        #expect(results == [Int](repeating: 200 * 4950, count: callers))
    }
}
