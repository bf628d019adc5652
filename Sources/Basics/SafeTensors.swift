import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header that maps each
/// tensor name to its dtype, shape and byte range, then the raw little-endian data.
/// String metadata lives under `__metadata__`. Readable from Python with `safetensors.numpy.load`.
public enum SafeTensorsDType: String, Sendable {
    case u8 = "U8", i32 = "I32", i64 = "I64", f32 = "F32"

    public var byteCount: Int {
        switch self {
        case .u8: 1
        case .i32, .f32: 4
        case .i64: 8
        }
    }
}

/// One tensor's description and bytes.
public struct SafeTensor: Sendable {
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    public let bytes: [UInt8]

    public init(dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public init(_ values: [UInt8], shape: [Int]) { self.init(dtype: .u8, shape: shape, bytes: values) }
    public init(_ values: [Int32], shape: [Int]) { self.init(dtype: .i32, shape: shape, bytes: Self.rawBytes(values)) }
    public init(_ values: [Int64], shape: [Int]) { self.init(dtype: .i64, shape: shape, bytes: Self.rawBytes(values)) }
    public init(_ values: [Float], shape: [Int]) { self.init(dtype: .f32, shape: shape, bytes: Self.rawBytes(values)) }

    public var elementCount: Int { shape.reduce(1, *) }

    private static func rawBytes<T>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }
}

/// A set of named tensors and string metadata, encoded to and decoded from safetensors bytes.
public struct SafeTensorsArchive: Sendable {
    public var tensors: [String: SafeTensor]
    public var metadata: [String: String]

    public init(tensors: [String: SafeTensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    // MARK: Encoding

    /// The file's bytes: tensors laid out in name order, header keys sorted, so equal content gives equal bytes.
    public func encoded() -> [UInt8] {
        var header: [String: Any] = [:]
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let tensor = tensors[name]!
            header[name] = [
                "dtype": tensor.dtype.rawValue, "shape": tensor.shape,
                "data_offsets": [offset, offset + tensor.bytes.count],
            ] as [String: Any]
            offset += tensor.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        // Pad with spaces so that the data starts 8-byte aligned, as the reference writer does.
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        for name in names { out.append(contentsOf: tensors[name]!.bytes) }
        return out
    }

    // MARK: Decoding

    /// Parses and checks safetensors bytes; `source` names the file in every error.
    public init(decoding bytes: [UInt8], source: String) throws {
        guard bytes.count >= 8 else { throw CSNError.file(source, "too short for a safetensors file (\(bytes.count) bytes)") }
        let headerLength = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        // The reference implementation caps the header at 100 MB; so do we, before any allocation.
        guard headerLength > 1, headerLength <= 100_000_000, Int(headerLength) <= bytes.count - 8 else {
            throw CSNError.file(source, "safetensors header length \(headerLength) does not fit in a file of \(bytes.count) bytes (truncated or not safetensors)")
        }
        let dataStart = 8 + Int(headerLength)
        let headerObject = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart]))
        guard let header = headerObject as? [String: Any] else {
            throw CSNError.file(source, "the safetensors header is not a JSON object")
        }
        let dataLength = bytes.count - dataStart
        var tensors: [String: SafeTensor] = [:]
        var metadata: [String: String] = [:]
        // In name order, so that a file with several bad tensors always names the same one.
        for (name, value) in header.sorted(by: { $0.key < $1.key }) {
            if name == "__metadata__" {
                guard let entries = value as? [String: String] else {
                    throw CSNError.file(source, "__metadata__ must map strings to strings")
                }
                metadata = entries
                continue
            }
            guard let entry = value as? [String: Any],
                  let dtypeName = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int],
                  let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw CSNError.file(source, "tensor '\(name)' has a malformed header entry") }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw CSNError.file(source, "tensor '\(name)' has unsupported dtype \(dtypeName)")
            }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw CSNError.file(source, "tensor '\(name)' has a negative shape or offsets")
            }
            guard offsets[1] <= dataLength else {
                throw CSNError.file(source, "tensor '\(name)' ends at byte \(offsets[1]) but the data has \(dataLength) bytes (truncated file)")
            }
            guard shape.count <= 8, let expected = CheckedSize.product(shape + [dtype.byteCount]) else {
                throw CSNError.file(source, "tensor '\(name)' has shape \(shape), whose size overflows")
            }
            guard offsets[1] - offsets[0] == expected else {
                throw CSNError.file(source, "tensor '\(name)' has \(offsets[1] - offsets[0]) bytes but shape \(shape) of \(dtypeName) needs \(expected)")
            }
            let slice = bytes[(dataStart + offsets[0])..<(dataStart + offsets[1])]
            tensors[name] = SafeTensor(dtype: dtype, shape: shape, bytes: Array(slice))
        }
        self.init(tensors: tensors, metadata: metadata)
    }

    // MARK: Typed access

    /// The tensor called `name`, checked for dtype and (if given) shape.
    public func tensor(_ name: String, _ dtype: SafeTensorsDType, shape: [Int]? = nil, source: String) throws -> SafeTensor {
        guard let tensor = tensors[name] else { throw CSNError.file(source, "missing tensor '\(name)'") }
        guard tensor.dtype == dtype else {
            throw CSNError.file(source, "tensor '\(name)' is \(tensor.dtype.rawValue), expected \(dtype.rawValue)")
        }
        if let shape, tensor.shape != shape {
            throw CSNError.file(source, "tensor '\(name)' has shape \(tensor.shape), expected \(shape)")
        }
        return tensor
    }

    public func uint8s(_ name: String, shape: [Int]? = nil, source: String) throws -> [UInt8] {
        try tensor(name, .u8, shape: shape, source: source).bytes
    }

    public func int32s(_ name: String, shape: [Int]? = nil, source: String) throws -> [Int32] {
        Self.values(try tensor(name, .i32, shape: shape, source: source).bytes)
    }

    public func int64s(_ name: String, shape: [Int]? = nil, source: String) throws -> [Int64] {
        Self.values(try tensor(name, .i64, shape: shape, source: source).bytes)
    }

    public func floats(_ name: String, shape: [Int]? = nil, source: String) throws -> [Float] {
        Self.values(try tensor(name, .f32, shape: shape, source: source).bytes)
    }

    private static func values<T>(_ bytes: [UInt8]) -> [T] {
        let count = bytes.count / MemoryLayout<T>.stride
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
            }
            initialized = count
        }
    }
}
