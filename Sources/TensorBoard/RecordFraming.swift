/// TensorBoard's record framing (TFRecord), read from bytes that may still be growing:
/// `length: u64 LE, masked CRC-32C of length: u32 LE, data[length], masked CRC-32C of data: u32 LE`.
///
/// `next` returns a whole record, says that more bytes are needed (a record still being written
/// is waited for, never an error), or reports a corrupt record and how far to skip past it: a bad
/// data CRC skips that record (its length was checked); a bad length CRC means the length cannot
/// be trusted, so the reader moves one byte on and looks for the next valid header.
public enum RecordFraming {
    public static let headerSize = 12, footerSize = 4
    /// Records above this are skipped as corrupt: scalars are tiny, and a length this large in a
    /// checked header is far more likely a hostile file than a real summary.
    public static let maxRecordBytes = 256 << 20

    public enum Step: Equatable {
        /// A record's data, and the bytes the whole record takes.
        case record(ArraySlice<UInt8>, consumed: Int)
        /// Not enough bytes yet for the record that starts here.
        case needMore
        /// A damaged record: skip `skip` bytes and read on.
        case corrupt(skip: Int, reason: String)
    }

    public static func next(in bytes: ArraySlice<UInt8>) -> Step {
        guard bytes.count >= headerSize else { return .needMore }
        let start = bytes.startIndex
        let lengthBytes = bytes[start..<(start + 8)]
        guard CRC32C.masked(lengthBytes) == readUInt32(bytes, at: start + 8) else {
            return .corrupt(skip: 1, reason: "bad length checksum")
        }
        let length = readUInt64(bytes, at: start)
        guard length <= UInt64(maxRecordBytes) else {
            return .corrupt(skip: 1, reason: "record of \(length) bytes is over the \(maxRecordBytes >> 20) MiB limit")
        }
        let total = headerSize + Int(length) + footerSize
        guard bytes.count >= total else { return .needMore }
        let data = bytes[(start + headerSize)..<(start + headerSize + Int(length))]
        guard CRC32C.masked(data) == readUInt32(bytes, at: start + headerSize + Int(length)) else {
            return .corrupt(skip: total, reason: "bad data checksum")
        }
        return .record(data, consumed: total)
    }

    /// One framed record, as TensorBoard's writers write it (for tests and fixtures).
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init)
        let lengthCRC = withUnsafeBytes(of: CRC32C.masked(length).littleEndian, Array.init)
        let dataCRC = withUnsafeBytes(of: CRC32C.masked(data).littleEndian, Array.init)
        return length + lengthCRC + data + dataCRC
    }

    static func readUInt32(_ bytes: ArraySlice<UInt8>, at index: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[index + $1]) << (8 * UInt32($1)) }
    }

    static func readUInt64(_ bytes: ArraySlice<UInt8>, at index: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(bytes[index + $1]) << (8 * UInt64($1)) }
    }
}
