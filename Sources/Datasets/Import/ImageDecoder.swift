import Basics
import CJPEG
import CPNG

/// An image as decoded: interleaved 8-bit pixels, row by row (grey, or R G B).
public struct DecodedImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}

/// Reads JPEG (libjpeg-turbo) and PNG (libpng) files, told apart by their first bytes.
public enum ImageDecoder {
    /// The most pixels a decoded image may have: 32 megapixels (about 5,800 x 5,800) is 96 MiB in
    /// RGB, so the importer's two parallel reads stay small whatever a header claims.
    public static let maxPixels = 1 << 25

    /// Decodes to `channels` (1 grey, 3 RGB). JPEGs may come out shrunk by a power of two as long
    /// as the longer side stays at least `minimumSide`, which makes large photos cheap to read.
    /// PNG transparency is composed onto `background` (white by default; white-on-transparent
    /// icons need a dark one). Errors name `source`.
    public static func decode(_ bytes: [UInt8], channels: Int, minimumSide: Int = .max, background: Background = .white,
                              source: String) throws -> DecodedImage {
        precondition(channels == 1 || channels == 3)
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try decodeJPEG(bytes, channels: channels, minimumSide: minimumSide, source: source) }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return try decodePNG(bytes, channels: channels, background: background, source: source) }
        if bytes.isEmpty { throw CSNError.file(source, "the file is empty") }
        throw CSNError.file(source, "not a JPEG or PNG image")
    }

    private static func decodeJPEG(_ bytes: [UInt8], channels: Int, minimumSide: Int, source: String) throws -> DecodedImage {
        var width: Int32 = 0, height: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let side = Int32(clamping: minimumSide)
        let decoded = bytes.withUnsafeBufferPointer { data in
            csn_jpeg_decode(data.baseAddress, UInt(data.count), Int32(channels), side, maxPixels, &width, &height, &message, Int32(message.count))
        }
        guard let decoded else {
            let reason = String(decoding: message.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw CSNError.file(source, "cannot decode the JPEG: \(reason.isEmpty ? "unknown error" : reason)")
        }
        defer { free(decoded) }
        let count = Int(width) * Int(height) * channels
        return DecodedImage(width: Int(width), height: Int(height), channels: channels,
                            pixels: Array(UnsafeBufferPointer(start: decoded, count: count)))
    }

    private static func decodePNG(_ bytes: [UInt8], channels: Int, background: Background, source: String) throws -> DecodedImage {
        var image = csn_png_image()
        defer { png_image_free(&image) }
        func failure() -> CSNError {
            let reason = withUnsafeBytes(of: image.message) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            return CSNError.file(source, "cannot decode the PNG: \(reason)")
        }
        let began = bytes.withUnsafeBufferPointer { data in
            png_image_begin_read_from_memory(&image, data.baseAddress, data.count)
        }
        guard began != 0 else { throw failure() }
        image.format = channels == 1 ? csn_png_format_gray() : csn_png_format_rgb()
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width * height <= maxPixels else {
            throw CSNError.file(source, "a PNG of \(width)x\(height) pixels is larger than the \(maxPixels)-pixel limit")
        }
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        var colour = png_color(red: background.red, green: background.green, blue: background.blue)
        let finished = pixels.withUnsafeMutableBytes { raw in
            png_image_finish_read(&image, &colour, raw.baseAddress, 0, nil)
        }
        guard finished != 0, csn_png_failed(&image) == 0 else { throw failure() }
        return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
    }
}

/// The colour transparent pixels are composed onto.
public struct Background: Sendable, Equatable {
    public var red: UInt8, green: UInt8, blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public static let white = Background(red: 255, green: 255, blue: 255)
    public static let black = Background(red: 0, green: 0, blue: 0)

    /// "white", "black", "grey", or "#RRGGBB".
    public init?(_ text: String) {
        switch text.lowercased() {
        case "white": self = .white
        case "black": self = .black
        case "grey", "gray": self.init(red: 128, green: 128, blue: 128)
        default:
            guard text.hasPrefix("#"), text.count == 7, let value = UInt32(text.dropFirst(), radix: 16) else { return nil }
            self.init(red: UInt8(value >> 16 & 0xFF), green: UInt8(value >> 8 & 0xFF), blue: UInt8(value & 0xFF))
        }
    }
}
