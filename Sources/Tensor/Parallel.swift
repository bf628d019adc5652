import Dispatch

/// Splits `count` items into `workers` contiguous shards and runs `body(worker, range)` for each,
/// on as many threads. With one worker it runs inline. Shards are fixed by (count, workers), so
/// results combined in worker order repeat exactly. `body` must only write what its shard owns.
/// The shards run on ShardPool's threads, or on Dispatch's when the pool is taken.
public func forEachShard(count: Int, workers: Int, _ body: (Int, Range<Int>) -> Void) {
    let shards = max(1, min(workers, count))
    if shards == 1 {
        body(0, 0..<count)
        return
    }
    func shard(_ w: Int) { body(w, (w * count / shards)..<((w + 1) * count / shards)) }
    if ShardPool.shared.run(count: shards, shard) { return }
    withoutActuallyEscaping(shard) { escapable in
        // Shards write disjoint memory; the closure itself is only called, never stored.
        nonisolated(unsafe) let run = escapable
        DispatchQueue.concurrentPerform(iterations: shards) { w in run(w) }
    }
}
