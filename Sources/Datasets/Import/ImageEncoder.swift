import Basics
import CJPEG
import CPNG

/// Writes 8-bit grey or RGB images (interleaved, row by row) as PNG or JPEG bytes: for exporting a
/// dataset's images next to its triplet lists, and for making test fixtures.
public enum ImageEncoder {
    public static func png(_ image: DecodedImage) throws -> [UInt8] {
        var info = csn_png_image()
        info.width = UInt32(image.width)
        info.height = UInt32(image.height)
        info.format = image.channels == 1 ? csn_png_format_gray() : csn_png_format_rgb()
        var size = 0
        // The first call measures, the second writes.
        guard png_image_write_to_memory(&info, nil, &size, 0, image.pixels, 0, nil) != 0 else {
            throw CSNError("cannot encode a \(image.width)x\(image.height) PNG")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let written = bytes.withUnsafeMutableBytes { raw in
            png_image_write_to_memory(&info, raw.baseAddress, &size, 0, image.pixels, 0, nil)
        }
        guard written != 0 else { throw CSNError("cannot encode a \(image.width)x\(image.height) PNG") }
        return Array(bytes.prefix(size))
    }

    public static func jpeg(_ image: DecodedImage, quality: Int = 90) throws -> [UInt8] {
        var size: UInt = 0
        let encoded = image.pixels.withUnsafeBufferPointer { pixels in
            csn_jpeg_encode(pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels), Int32(quality), &size)
        }
        guard let encoded else { throw CSNError("cannot encode a \(image.width)x\(image.height) JPEG") }
        defer { free(encoded) }
        return Array(UnsafeBufferPointer(start: encoded, count: Int(size)))
    }
}
