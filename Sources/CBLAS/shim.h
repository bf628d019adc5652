// OpenBLAS's CBLAS interface (libopenblas-dev).
#include <cblas.h>
