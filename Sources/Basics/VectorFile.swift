/// Vectors from files other tools write: NumPy `.npy` (2-D float32 or float64) and text with one
/// vector a line (tab, comma or space separated, as the TensorBoard Projector's `tensors.tsv`).
/// Every size is checked against `maxBytes` before anything is allocated; errors name the file
/// and, for text, the line.
public enum VectorFile {
    /// Row-major values and the row width.
    public static func read(_ bytes: [UInt8], source: String, numpy: Bool, maxBytes: Int = ReadLimits.defaultMaxBytes) throws -> (values: [Float], dimension: Int) {
        numpy ? try NumpyArray.floats(bytes, source: source, maxBytes: maxBytes) : try text(bytes, source: source, maxBytes: maxBytes)
    }

    static func text(_ bytes: [UInt8], source: String, maxBytes: Int) throws -> (values: [Float], dimension: Int) {
        var values: [Float] = []
        var dimension = 0
        for (number, line) in TextLines.split(bytes) {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == "," || $0 == " " })
            if fields.isEmpty { continue }
            if dimension == 0 { dimension = fields.count }
            guard fields.count == dimension else {
                throw CSNError.file("\(source):\(number)", "has \(fields.count) values, but the first vector has \(dimension)")
            }
            guard (values.count + dimension) * 4 <= maxBytes else {
                throw CSNError.file("\(source):\(number)", "the vectors need more than the memory limit of \(ReadLimits.describe(bytes: maxBytes))", kind: .memoryLimit)
            }
            for field in fields {
                guard let value = Float.parse(field), value.isFinite else {
                    throw CSNError.file("\(source):\(number)", "'\(String(field.prefix(40)).terminalSafe)' is not a finite number")
                }
                values.append(value)
            }
        }
        guard dimension > 0 else { throw CSNError.file(source, "holds no vectors") }
        return (values, dimension)
    }
}

/// The NumPy `.npy` format (versions 1 to 3): a magic string, a header dictionary
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }` and the raw data.
/// Reads 2-D (or, where asked, 3-D) float32 or float64 in either byte order and either memory order.
public enum NumpyArray {
    public static func floats(_ bytes: [UInt8], source: String, maxBytes: Int = ReadLimits.defaultMaxBytes) throws -> (values: [Float], dimension: Int) {
        let (values, shape) = try array(bytes, source: source, ranks: [2], maxBytes: maxBytes)
        return (values, shape[1])
    }

    /// The values in C order and the shape, whose rank must be one of `ranks`.
    public static func array(_ bytes: [UInt8], source: String, ranks: Set<Int>, maxBytes: Int = ReadLimits.defaultMaxBytes) throws -> (values: [Float], shape: [Int]) {
        func fail(_ message: String) -> CSNError { CSNError.file(source, message) }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw fail("not a .npy file")
        }
        let major = bytes[6]
        guard (1...3).contains(major) else { throw fail(".npy format version \(major) is not supported") }
        let start = major == 1 ? 10 : 12
        guard bytes.count >= start else { throw fail("truncated .npy header") }
        let headerLength = major == 1 ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard headerLength <= bytes.count - start else { throw fail("truncated .npy header") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        let descr = try value(of: "descr", in: header, source: source)
        let fortran = try value(of: "fortran_order", in: header, source: source)
        let shapeText = try value(of: "shape", in: header, source: source)

        let width: Int, bigEndian: Bool
        switch descr {
        case "'<f4'", "'=f4'": (width, bigEndian) = (4, false)
        case "'>f4'": (width, bigEndian) = (4, true)
        case "'<f8'", "'=f8'": (width, bigEndian) = (8, false)
        case "'>f8'": (width, bigEndian) = (8, true)
        default: throw fail("dtype \(descr.prefix(20).terminalSafe) is not supported; expected float32 or float64")
        }
        guard fortran == "True" || fortran == "False" else { throw fail("fortran_order is \(fortran.prefix(20).terminalSafe), expected True or False") }
        guard shapeText.hasPrefix("("), shapeText.hasSuffix(")") else { throw fail("the shape \(shapeText.prefix(40).terminalSafe) is not a tuple") }
        let parsed = shapeText.dropFirst().dropLast().split(separator: ",").map(\.trimmingSpaces).filter { !$0.isEmpty }.map { Int($0) }
        let shape = parsed.compactMap { $0 }
        let describedShape = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        guard shape.count == parsed.count, ranks.contains(shape.count), shape.allSatisfy({ $0 > 0 }) else {
            let wanted = ranks.sorted().map { "\($0)-D" }.joined(separator: " or ")
            throw fail("expected a \(wanted) array with no empty axis, found shape \(shapeText.prefix(60).terminalSafe)")
        }
        guard let count = CheckedSize.product(shape), let dataBytes = CheckedSize.product(count, width),
              count * 4 <= maxBytes else {
            throw CSNError.file(source, "shape \(describedShape) is larger than the memory limit of \(ReadLimits.describe(bytes: maxBytes))", kind: .memoryLimit)
        }
        let data = bytes[(start + headerLength)...]
        guard data.count >= dataBytes else { throw fail("truncated: \(data.count) data bytes for shape \(describedShape)") }
        // C-order strides, to place Fortran-order elements (first axis fastest) where they belong.
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        var values = [Float](repeating: 0, count: count)
        data.withUnsafeBytes { raw in
            for i in 0..<count {
                var target = i
                if fortran == "True" {
                    target = 0
                    var rest = i
                    for axis in shape.indices {
                        target += (rest % shape[axis]) * strides[axis]
                        rest /= shape[axis]
                    }
                }
                if width == 8 {
                    let bits = raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
                    values[target] = Float(Double(bitPattern: bigEndian ? bits.byteSwapped : bits))
                } else {
                    let bits = raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
                    values[target] = Float(bitPattern: bigEndian ? bits.byteSwapped : bits)
                }
            }
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            let row = bad / strides[0]
            throw fail("holds \(values[bad]) in row \(row)")
        }
        return (values, shape)
    }

    /// The text of one entry of the header dictionary, up to the next top-level comma.
    private static func value(of key: String, in header: String, source: String) throws -> String {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else {
            throw CSNError.file(source, "the .npy header has no '\(key)'")
        }
        var rest = header[keyRange.upperBound...].drop(while: { $0 == " " })
        guard rest.first == ":" else { throw CSNError.file(source, "the .npy header's '\(key)' has no value") }
        rest = rest.dropFirst().drop(while: { $0 == " " })
        var depth = 0
        var end = rest.startIndex
        while end < rest.endIndex {
            let c = rest[end]
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1; if depth == 0 { end = rest.index(after: end); break } }
            if (c == "," || c == "}") && depth == 0 { break }
            end = rest.index(after: end)
        }
        return rest[rest.startIndex..<end].trimmingSpaces
    }
}
