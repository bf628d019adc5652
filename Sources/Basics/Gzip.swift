import CZlib

/// gzip compression through zlib, for datasets stored as `.safetensors.gz`.
///
/// Both directions stream in chunks of at most `chunk` bytes, because zlib counts in 32-bit
/// `uInt`: a dataset over 4 GiB passes through in pieces rather than overflowing the count.
public enum Gzip {
    static let chunk = 1 << 30

    public static func compress(_ input: [UInt8], level: Int32 = 9) -> [UInt8] {
        var stream = z_stream()
        precondition(csn_deflate_init_gzip(&stream, level) == Z_OK, "zlib deflateInit2 failed")  // only fails without memory
        defer { deflateEnd(&stream) }
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 2 + 1024)
        var piece = [UInt8](repeating: 0, count: 1 << 20)
        input.withUnsafeBufferPointer { source in
            var consumed = 0
            var status: Int32 = Z_OK
            repeat {
                if stream.avail_in == 0 && consumed < source.count {
                    let take = min(chunk, source.count - consumed)
                    stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress! + consumed)
                    stream.avail_in = uInt(take)
                    consumed += take
                }
                let flush = consumed == source.count ? Z_FINISH : Z_NO_FLUSH
                let produced: Int = piece.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    status = deflate(&stream, flush)
                    return target.count - Int(stream.avail_out)
                }
                output.append(contentsOf: piece[0..<produced])
            } while status != Z_STREAM_END
        }
        return output
    }

    /// How much output to reserve before inflating: the trailer's ISIZE (the size modulo 2^32,
    /// and free to lie), capped by deflate's largest ratio (about 1032:1) and by the limit.
    static func initialReservation(_ input: [UInt8], maxBytes: Int) -> Int {
        let n = input.count
        guard n >= 4 else { return 1024 }
        let sizeHint = Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
        let plausible = n > Int.max / 1032 ? Int.max : 1032 * n
        return max(1024, min(sizeHint, plausible, maxBytes))
    }

    /// Decompresses a gzip stream (one member or several, concatenated); `source` names the file in errors. The output is bounded by
    /// `maxBytes`: a file that would decompress to more is refused as it streams, without the
    /// memory ever being taken. The trailer's size field is only a hint (it may lie).
    public static func decompress(_ input: [UInt8], source: String, maxBytes: Int = ReadLimits.defaultMaxBytes) throws -> [UInt8] {
        guard input.count >= 18, input[0] == 0x1f, input[1] == 0x8b else {
            throw CSNError.file(source, "not a gzip file")
        }
        var output: [UInt8] = []
        output.reserveCapacity(initialReservation(input, maxBytes: maxBytes))
        var stream = z_stream()
        guard csn_inflate_init_gzip(&stream) == Z_OK else { throw CSNError.file(source, "zlib could not start") }
        defer { inflateEnd(&stream) }
        var piece = [UInt8](repeating: 0, count: 1 << 20)
        try input.withUnsafeBufferPointer { sourceBytes in
            var consumed = 0
            while true {
                if stream.avail_in == 0 && consumed < sourceBytes.count {
                    let take = min(chunk, sourceBytes.count - consumed)
                    stream.next_in = UnsafeMutablePointer(mutating: sourceBytes.baseAddress! + consumed)
                    stream.avail_in = uInt(take)
                    consumed += take
                }
                var status: Int32 = Z_OK
                let produced: Int = piece.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return target.count - Int(stream.avail_out)
                }
                guard output.count <= maxBytes - produced else {
                    throw CSNError.file(source, "decompresses to more than \(ReadLimits.describe(bytes: maxBytes)), the memory limit", kind: .memoryLimit)
                }
                output.append(contentsOf: piece[0..<produced])
                switch status {
                case Z_STREAM_END:
                    // Concatenated members (RFC 1952 allows them; bgzip writes them) go on; zero
                    // padding is ignored; anything else after the stream is refused.
                    let next = consumed - Int(stream.avail_in)
                    if next >= sourceBytes.count || sourceBytes[next...].allSatisfy({ $0 == 0 }) { return }
                    guard sourceBytes.count - next >= 2, sourceBytes[next] == 0x1f, sourceBytes[next + 1] == 0x8b,
                          inflateReset(&stream) == Z_OK else {
                        throw CSNError.file(source, "holds \(sourceBytes.count - next) bytes of other data after the gzip stream")
                    }
                    continue
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0 && consumed == sourceBytes.count:
                    throw CSNError.file(source, "truncated gzip data (the file ends early)")
                case Z_BUF_ERROR where produced > 0 || stream.avail_in == 0:
                    continue
                default:
                    throw CSNError.file(source, "corrupt gzip data (zlib error \(status))")
                }
            }
        }
        return output
    }
}
