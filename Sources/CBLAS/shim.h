// OpenBLAS's CBLAS interface (libopenblas-dev).
#include <cblas.h>

// Whether the module including this header is compiled for a CPU with AVX-512 (csn's kernels are
// built with -march=native; a portable build is not). Swift has no test of target features.
static inline int csn_built_with_avx512(void) {
#if defined(__AVX512F__)
    return 1;
#else
    return 0;
#endif
}

// Asks the CPU to bring the cache line holding `address` into its caches, without waiting for it
// (Swift has no prefetch). For reads that start a new 4 KiB page, where the hardware's own
// prefetchers stop.
static inline void csn_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

// The same for a line about to be written.
static inline void csn_prefetch_for_writing(const void *address) {
    __builtin_prefetch(address, 1, 3);
}
