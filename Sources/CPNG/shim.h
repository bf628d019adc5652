// libpng (libpng-dev), through its simplified png_image API, which reports errors in the image
// struct instead of longjmp. PNG_IMAGE_SIZE and friends are macros: wrap what Swift needs.
#include <string.h>
#include <png.h>

static inline png_image csn_png_image(void) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    return image;
}
static inline unsigned int csn_png_format_gray(void) { return PNG_FORMAT_GRAY; }
static inline unsigned int csn_png_format_rgb(void) { return PNG_FORMAT_RGB; }
static inline int csn_png_failed(const png_image *image) { return PNG_IMAGE_FAILED(*image); }
