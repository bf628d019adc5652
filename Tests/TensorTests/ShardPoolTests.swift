import Dispatch
import Foundation
import Testing
import Tensor

/// forEachShard and its pool: every item once, whatever the timing (spinning or sleeping threads),
/// nested splits and callers on several threads at once.
@Suite struct ShardPoolTests {
    /// Sums of each shard's items, written by the shards into slots of their own.
    private func shardSums(count: Int, workers: Int) -> [Int] {
        var sums = [Int](repeating: -1, count: max(1, workers))
        sums.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            forEachShard(count: count, workers: workers) { w, range in slots[w] = range.reduce(0, +) }
        }
        return sums
    }

    @Test func everyItemOnceForManyShapes() {
        for count in [0, 1, 2, 3, 7, 64, 1001] {
            for workers in 1...4 {
                let sums = shardSums(count: count, workers: workers)
                let shards = max(1, min(workers, count))
                #expect(sums.prefix(shards).reduce(0, +) == (0..<count).reduce(0, +), "count \(count), workers \(workers): \(sums)")
                #expect(sums.dropFirst(shards).allSatisfy { $0 == -1 }, "count \(count), workers \(workers): \(sums)")
            }
        }
    }

    /// A pool of three threads beside the caller, whatever the machine's cores: jobs back to back
    /// (the threads still spinning) and after pauses longer than the spin (the threads asleep).
    @Test func ownPoolRunsEveryShardAwakeOrAsleep() {
        let pool = ShardPool(capacity: 3)
        var ran = [Int](repeating: 0, count: 4)
        for round in 0..<300 {
            ran.withUnsafeMutableBufferPointer { slots in
                nonisolated(unsafe) let slots = slots
                #expect(pool.run(count: 4) { slots[$0] += 1 })
            }
            if round % 50 == 0 { Thread.sleep(forTimeInterval: 0.002) }
        }
        #expect(ran == [300, 300, 300, 300])
        // A job of another size is refused (every thread takes every job), and so is one helper too many.
        #expect(!pool.run(count: 2) { _ in })
        #expect(!ShardPool(capacity: 1).run(count: 3) { _ in })
        // One shard needs no pool.
        #expect(!pool.run(count: 1) { _ in })
    }

    /// A shard that itself splits work finds the pool busy and goes to Dispatch.
    @Test func nestedSplitsComplete() {
        var totals = [Int](repeating: 0, count: 2)
        totals.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            forEachShard(count: 2, workers: 2) { w, _ in
                var inner = [Int](repeating: 0, count: 2)
                inner.withUnsafeMutableBufferPointer { innerSlots in
                    nonisolated(unsafe) let innerSlots = innerSlots
                    forEachShard(count: 10, workers: 2) { v, range in innerSlots[v] = range.count }
                }
                slots[w] = inner.reduce(0, +)
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
                for _ in 0..<200 { total += shardSums(count: 100, workers: 2).reduce(0, +) }
                out[caller] = total
            }
        }
        #expect(results == [Int](repeating: 200 * 4950, count: callers))
    }
}
