// libjpeg-turbo (libjpeg62-turbo-dev). libjpeg reports errors by calling error_exit, which by
// default ends the process; these wrappers turn that into a return code and a message with
// setjmp/longjmp, which Swift cannot do itself.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

struct csn_jpeg_error {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void csn_jpeg_error_exit(j_common_ptr info) {
    struct csn_jpeg_error *error = (struct csn_jpeg_error *)info->err;
    (*info->err->format_message)(info, error->message);
    longjmp(error->jump, 1);
}

// Warnings (level -1) mean damaged data, such as a truncated file that libjpeg would pad with grey:
// treat them as errors, except for stray bytes between markers, which do not change the image.
static void csn_jpeg_warning(j_common_ptr info, int level) {
    if (level == -1 && info->err->msg_code != JWRN_EXTRANEOUS_DATA) csn_jpeg_error_exit(info);
}

/// Decodes a JPEG held in memory to 8-bit grey (channels 1) or RGB (channels 3), shrunk by libjpeg's
/// DCT scaling to the smallest size whose longer side is still at least `minimum_side` pixels.
/// Returns malloc'd pixels (caller frees) and fills width and height, or NULL with `message` set.
static inline unsigned char *csn_jpeg_decode(const unsigned char *data, unsigned long size, int channels,
                                             int minimum_side, long max_pixels, int *width, int *height,
                                             char *message, int message_size) {
    struct jpeg_decompress_struct info;
    struct csn_jpeg_error error;
    unsigned char *volatile pixels = NULL;
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = csn_jpeg_error_exit;
    error.manager.emit_message = csn_jpeg_warning;
    error.message[0] = 0;
    if (setjmp(error.jump)) {
        snprintf(message, message_size, "%s", error.message);
        jpeg_destroy_decompress(&info);
        free(pixels);
        return NULL;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, size);
    jpeg_read_header(&info, TRUE);
    if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) {
        snprintf(message, message_size, "CMYK JPEGs are not supported");
        jpeg_destroy_decompress(&info);
        return NULL;
    }
    info.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    int longer = info.image_width > info.image_height ? (int)info.image_width : (int)info.image_height;
    int denominator = 8;
    while (denominator > 1 && longer / denominator < minimum_side) denominator /= 2;
    info.scale_num = 1;
    info.scale_denom = (unsigned int)denominator;
    jpeg_calc_output_dimensions(&info);
    if ((double)info.output_width * (double)info.output_height > (double)max_pixels) {
        snprintf(message, message_size, "a JPEG of %ux%u pixels is larger than the %ld-pixel limit",
                 info.image_width, info.image_height, max_pixels);
        jpeg_destroy_decompress(&info);
        return NULL;
    }
    jpeg_start_decompress(&info);
    size_t row = (size_t)info.output_width * (size_t)channels;
    pixels = (unsigned char *)malloc(row * info.output_height);
    if (!pixels) {
        snprintf(message, message_size, "out of memory");
        jpeg_destroy_decompress(&info);
        return NULL;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW line = pixels + row * info.output_scanline;
        jpeg_read_scanlines(&info, &line, 1);
    }
    jpeg_finish_decompress(&info);
    *width = (int)info.output_width;
    *height = (int)info.output_height;
    jpeg_destroy_decompress(&info);
    return pixels;
}

/// Encodes 8-bit grey or RGB pixels as a JPEG in memory (malloc'd, caller frees); NULL on error.
static inline unsigned char *csn_jpeg_encode(const unsigned char *pixels, int width, int height, int channels,
                                             int quality, unsigned long *size) {
    struct jpeg_compress_struct info;
    struct csn_jpeg_error error;
    unsigned char *volatile output = NULL;
    unsigned long output_size = 0;
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = csn_jpeg_error_exit;
    if (setjmp(error.jump)) {
        jpeg_destroy_compress(&info);
        free(output);
        return NULL;
    }
    jpeg_create_compress(&info);
    unsigned char *buffer = NULL;
    jpeg_mem_dest(&info, &buffer, &output_size);
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = channels;
    info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW line = (JSAMPROW)(pixels + (size_t)info.next_scanline * width * channels);
        jpeg_write_scanlines(&info, &line, 1);
    }
    jpeg_finish_compress(&info);
    output = buffer;
    *size = output_size;
    jpeg_destroy_compress(&info);
    return output;
}
