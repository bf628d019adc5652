// zlib (zlib1g-dev). deflateInit2/inflateInit2 are macros: wrap them so Swift can call them.
#include <zlib.h>

static inline int csn_deflate_init_gzip(z_streamp stream, int level) {
    // windowBits 15 + 16 asks zlib for a gzip header and trailer.
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
static inline int csn_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 16);
}
