import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Threads that run forEachShard's shards beside its caller and stay awake for a moment between
/// calls. A training step meets its threads about nine times (once per stage each way, Adam), with
/// only microseconds of serial work between: handing each sweep to Dispatch cost 55-85 us of wake-up
/// and join per call here, against 1-6 us with threads that were still spinning.
///
/// A caller posts a job by bumping `generation`; every pool thread takes every job, runs its shard
/// if the job has one for it, and counts down `remaining`. Whoever waits (a pool thread for a job,
/// the caller for the shards) spins for `spinNanoseconds` and then sleeps on a condition variable,
/// so that idle threads leave the cores to others (the UI's analysis worker runs on what training
/// leaves idle). One caller at a time: another caller, or a shard that itself splits work, finds
/// the pool busy and uses Dispatch. The threads live as long as the process.
///
/// `@unchecked Sendable`: the atomics order everything else. `job` and `jobHelpers` are written by
/// the caller holding `busy` before it bumps `generation` and cleared after `remaining` reaches 0;
/// pool threads read them in between. `threads` is used only by the caller holding `busy`.
public final class ShardPool: @unchecked Sendable {
    public static let shared = ShardPool()
    /// How long a waiting thread spins before it sleeps: longer than the serial work between two
    /// sweeps of a step, far shorter than the time between steps of an idle trainer.
    static let spinNanoseconds: UInt64 = 50_000
    /// At most this many pool threads (with the caller, one per core).
    public let capacity: Int

    /// Held by the caller whose job runs.
    private let busy = Atomic<Bool>(false)
    /// Bumped once per job; a pool thread takes each value it has not seen.
    private let generation = Atomic<Int>(0)
    /// Pool threads yet to finish the current job.
    private let remaining = Atomic<Int>(0)
    /// Pool threads asleep (or about to be) waiting for a job, and whether the caller sleeps.
    private let sleepingThreads = Atomic<Int>(0)
    private let callerSleeps = Atomic<Bool>(false)
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let jobPosted = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let jobDone = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// Between jobs, a job that does nothing (a late thread can only ever call that).
    nonisolated(unsafe) private var job: (Int) -> Void = ShardPool.noJob
    private static let noJob: @Sendable (Int) -> Void = { _ in }
    /// The current job's shards on pool threads: threads 1...jobHelpers run one each.
    nonisolated(unsafe) private var jobHelpers = 0
    nonisolated(unsafe) private var threads = 0

    /// A pool of up to `capacity` threads, started when first needed. (Tests make small pools of
    /// their own; like the shared one, their threads sleep until the process ends.)
    public init(capacity: Int = max(0, sysconf(Int32(_SC_NPROCESSORS_ONLN)) - 1)) {
        self.capacity = capacity
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(jobPosted, nil)
        pthread_cond_init(jobDone, nil)
    }

    /// Runs `shard(0)` on the calling thread and `shard(1)`...`shard(count - 1)` on pool threads,
    /// and returns when all are done; false (nothing run) when the pool is busy, when the job needs
    /// more threads than `capacity` or than the system lets it start, or when the caller's
    /// priority is lowered (the UI's analysis worker runs at idle priority: its shards must not run
    /// at normal priority on pool threads, and threads it started would keep its priority).
    public func run(count: Int, _ shard: (Int) -> Void) -> Bool {
        let helpers = count - 1
        guard helpers >= 1, helpers <= capacity, Self.callerHasNormalPriority(),
              busy.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        if helpers > threads { startThreads(upTo: helpers) }
        guard helpers <= threads else { return false }
        withoutActuallyEscaping(shard) { shard in
            job = shard
            jobHelpers = helpers
            remaining.store(threads, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepingThreads.load(ordering: .sequentiallyConsistent) > 0 { broadcast(jobPosted) }
            shard(0)
            waitForShards()
            job = Self.noJob
        }
        return true
    }

    private static func callerHasNormalPriority() -> Bool {
        sched_getscheduler(0) == SCHED_OTHER && getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) <= 0
    }

    /// Starts threads `threads + 1`...`count`, fewer if the system refuses one (no job is under way:
    /// the caller holds `busy`).
    private func startThreads(upTo count: Int) {
        let seen = generation.load(ordering: .relaxed)
        for index in (threads + 1)...count {
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
            let start = Unmanaged.passRetained(ThreadStart(pool: self, index: index, seen: seen)).toOpaque()
            var thread = pthread_t()
            let created = pthread_create(&thread, &attributes, { context in
                guard let context else { return nil }
                let start = Unmanaged<ShardPool.ThreadStart>.fromOpaque(context).takeRetainedValue()
                start.pool.serve(index: start.index, seen: start.seen)
                return nil
            }, start)
            pthread_attr_destroy(&attributes)
            guard created == 0 else {
                Unmanaged<ThreadStart>.fromOpaque(start).release()
                return
            }
            threads = index
        }
    }

    private final class ThreadStart {
        let pool: ShardPool, index: Int, seen: Int
        init(pool: ShardPool, index: Int, seen: Int) { (self.pool, self.index, self.seen) = (pool, index, seen) }
    }

    /// A pool thread: takes each new job, runs its shard if the job has one for it.
    private func serve(index: Int, seen: Int) {
        var seen = seen
        while true {
            seen = waitForJob(after: seen)
            if index <= jobHelpers { runShard(index) }
            if remaining.subtract(1, ordering: .sequentiallyConsistent).newValue == 0 && callerSleeps.load(ordering: .sequentiallyConsistent) {
                broadcast(jobDone)
            }
        }
    }

    /// Calls the job in a frame of its own, so that the thread's reference to it is gone before
    /// `remaining` counts the shard done (the caller then ends the closure's lifetime).
    @inline(never) private func runShard(_ index: Int) {
        job(index)
    }

    /// Waits until `generation` differs from `seen` and returns it.
    private func waitForJob(after seen: Int) -> Int {
        var current = seen
        if spin(until: { current = generation.load(ordering: .acquiring); return current != seen }) { return current }
        pthread_mutex_lock(mutex)
        sleepingThreads.add(1, ordering: .sequentiallyConsistent)
        while true {
            current = generation.load(ordering: .sequentiallyConsistent)
            if current != seen { break }
            pthread_cond_wait(jobPosted, mutex)
        }
        sleepingThreads.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(mutex)
        return current
    }

    /// Waits until every pool thread has finished the current job.
    private func waitForShards() {
        if spin(until: { remaining.load(ordering: .acquiring) == 0 }) { return }
        pthread_mutex_lock(mutex)
        callerSleeps.store(true, ordering: .sequentiallyConsistent)
        while remaining.load(ordering: .sequentiallyConsistent) != 0 { pthread_cond_wait(jobDone, mutex) }
        callerSleeps.store(false, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(mutex)
    }

    /// Wakes the threads waiting on `condition` (taking the mutex, so that none is between its
    /// last look and its wait).
    private func broadcast(_ condition: UnsafeMutablePointer<pthread_cond_t>) {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Spins until `done()` or for `spinNanoseconds`; whether `done()` turned true. (The clock is
    /// read every 64 looks.)
    private func spin(until done: () -> Bool) -> Bool {
        let start = Self.now()
        while true {
            for _ in 0..<64 {
                if done() { return true }
            }
            if Self.now() &- start > Self.spinNanoseconds { return done() }
        }
    }

    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}
