import CZlib

/// gzip compression through zlib, for datasets stored as `.safetensors.gz`.
public enum Gzip {
    public static func compress(_ input: [UInt8], level: Int32 = 9) -> [UInt8] {
        var stream = z_stream()
        precondition(csn_deflate_init_gzip(&stream, level) == Z_OK, "zlib deflateInit2 failed")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        let produced: Int = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "zlib deflate did not finish: \(status)")
                return Int(stream.total_out)
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    /// Decompresses a whole gzip stream; `source` names the file in errors.
    public static func decompress(_ input: [UInt8], source: String) throws -> [UInt8] {
        guard input.count >= 18, input[0] == 0x1f, input[1] == 0x8b else {
            throw CSNError.file(source, "not a gzip file")
        }
        // The trailer's last four bytes hold the uncompressed size modulo 2^32: a good first guess.
        let n = input.count
        let sizeHint = Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
        var output = [UInt8](repeating: 0, count: max(sizeHint, 1024))
        var stream = z_stream()
        guard csn_inflate_init_gzip(&stream) == Z_OK else { throw CSNError.file(source, "zlib could not start") }
        defer { inflateEnd(&stream) }
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { sourceBytes in
            stream.next_in = UnsafeMutablePointer(mutating: sourceBytes.baseAddress)
            stream.avail_in = uInt(sourceBytes.count)
            while true {
                let done = Int(stream.total_out)
                if done == output.count { output.append(contentsOf: repeatElement(0, count: output.count)) }
                status = output.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress! + done
                    stream.avail_out = uInt(target.count - done)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                if status == Z_STREAM_END { break }
                if status == Z_BUF_ERROR && stream.avail_in == 0 {
                    throw CSNError.file(source, "truncated gzip data (the file ends early)")
                }
                if status != Z_OK && status != Z_BUF_ERROR {
                    throw CSNError.file(source, "corrupt gzip data (zlib error \(status))")
                }
            }
        }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }
}
