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
