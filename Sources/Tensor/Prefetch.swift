import CBLAS

/// Asks for `count` values from `start` on, a cache line at a time, without waiting for them
/// (for writing: lines about to be written). For sweeps that jump to a new channel's or image's
/// few KiB, most of them not in cache: the hardware's prefetchers stop at page boundaries and
/// need a few misses to start again, and the first lines waited for memory.
@inline(__always) func prefetch<T>(_ start: UnsafePointer<T>, count: Int, forWriting: Bool = false) {
    let raw = UnsafeRawPointer(start), bytes = count * MemoryLayout<T>.stride
    for offset in stride(from: 0, to: bytes, by: 64) {
        if forWriting { csn_prefetch_for_writing(raw + offset) } else { csn_prefetch(raw + offset) }
    }
}
