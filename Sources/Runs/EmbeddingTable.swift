import Basics
import Foundation

/// Vectors from any model, as `csn explore --embeddings` reads them: one embedding per row
/// ([N, D], with optional masks [K, D], a CSN or a standard triplet network) or one embedding per
/// row and condition ([N, K, D], task-specific networks or attribute-specific embeddings).
public struct EmbeddingTable: Sendable {
    public var rows: Int
    public var dimension: Int
    /// Row-major: [N, D], or [N, K, D] when `conditionsAxis` is K.
    public var vectors: [Float]
    public var conditionsAxis: Int?
    /// [K, D], as applied (nil: all ones).
    public var masks: [Float]?
    public var conditionNames: [String] = []
    /// Each row's image in `datasetPath`, and its split.
    public var imageIndex: [Int32]? = nil
    public var splits: [UInt8]? = nil
    public var datasetPath: String? = nil
    /// What the writer said of the model (model, backbone, step).
    public var info: [String: String] = [:]
    /// A Projector folder's metadata.tsv, when the folder names one.
    public var labelsPath: String? = nil

    public static let formatName = "csn-embeddings/1"

    /// The number of conditions the vectors carry, if they say (masks rows or the middle axis).
    public var conditionCount: Int? { conditionsAxis ?? masks.map { $0.count / max(1, dimension) } }

    /// Row `row`'s vector for `condition` (the one embedding when there is no conditions axis).
    public func vector(row: Int, condition: Int) -> ArraySlice<Float> {
        let start = conditionsAxis.map { (row * $0 + condition) * dimension } ?? row * dimension
        return vectors[start..<(start + dimension)]
    }

    /// Reads a `.safetensors` embeddings file, a `.npy` array, a vectors text file (`tensors.tsv`)
    /// or a TensorBoard Projector folder.
    public static func read(_ path: String, maxBytes: Int = ReadLimits.defaultMaxBytes) throws -> EmbeddingTable {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw CSNError.file(path, "does not exist") }
        if isFolder.boolValue { return try checked(ProjectorFolder.read(path, maxBytes: maxBytes), source: path) }
        let bytes = try AtomicFile.read(path, maxBytes: maxBytes)
        if bytes.starts(with: [0x1F, 0x8B]) { throw CSNError.file(path, "is gzip-compressed; decompress it first (gunzip)") }
        if path.hasSuffix(".safetensors") || looksLikeSafetensors(bytes) { return try safetensors(bytes, path: path, maxBytes: maxBytes) }
        if path.hasSuffix(".npy") || bytes.starts(with: [0x93] + Array("NUMPY".utf8)) {
            let (values, shape) = try NumpyArray.array(bytes, source: path, ranks: [2, 3], maxBytes: maxBytes)
            return try checked(try shaped(values, shape: shape, source: path), source: path)
        }
        let (values, dimension) = try VectorFile.read(bytes, source: path, numpy: false, maxBytes: maxBytes)
        return try checked(EmbeddingTable(rows: values.count / dimension, dimension: dimension, vectors: values, conditionsAxis: nil, masks: nil), source: path)
    }

    /// A table from row-major values of shape [N, D] or [N, K, D].
    static func shaped(_ values: [Float], shape: [Int], source: String) throws -> EmbeddingTable {
        guard shape.count == 2 || shape.count == 3 else {
            throw CSNError.file(source, "vectors must be [N, D] or [N, K, D], not \(shape)")
        }
        return EmbeddingTable(rows: shape[0], dimension: shape[shape.count - 1], vectors: values,
                              conditionsAxis: shape.count == 3 ? shape[1] : nil, masks: nil)
    }

    /// An 8-byte header length that fits the file, then a JSON object: safetensors, whatever the name.
    static func looksLikeSafetensors(_ bytes: [UInt8]) -> Bool {
        guard bytes.count > 9 else { return false }
        let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        return bytes[8] == UInt8(ascii: "{") && length <= UInt64(bytes.count - 8)
    }

    /// Values beyond this make squared distances overflow Float: refused rather than giving inf.
    static let maxMagnitude: Float = 1e15

    static func safetensors(_ bytes: [UInt8], path: String, maxBytes: Int) throws -> EmbeddingTable {
        let archive = try SafeTensorsArchive(decoding: bytes, source: path)
        if let format = archive.metadata["format"], format != formatName {
            throw CSNError.file(path, "is a \(format.prefix(40).terminalSafe) file, not embeddings (format \(formatName))")
        }
        guard let tensor = archive.tensors["embeddings"] else {
            let names = archive.tensors.keys.sorted().prefix(8).joined(separator: ", ")
            throw CSNError.file(path, "has no 'embeddings' tensor (it holds: \(names.terminalSafe))")
        }
        guard tensor.dtype == .f32, tensor.shape.count == 2 || tensor.shape.count == 3, tensor.shape.allSatisfy({ $0 > 0 }) else {
            throw CSNError.file(path, "'embeddings' must be F32 [N, D] or [N, K, D] with no empty axis, not \(tensor.dtype.rawValue) \(tensor.shape)")
        }
        var table = try shaped(try archive.floats("embeddings", source: path), shape: tensor.shape, source: path)
        if archive.tensors["masks"] != nil {
            guard table.conditionsAxis == nil else { throw CSNError.file(path, "has masks, but its embeddings are already one per condition [N, K, D]") }
            let masks = try archive.tensor("masks", .f32, source: path)
            guard masks.shape.count == 2, masks.shape[1] == table.dimension, masks.shape[0] > 0 else {
                throw CSNError.file(path, "'masks' has shape \(masks.shape), expected [K, \(table.dimension)] (the embeddings' width)")
            }
            table.masks = try archive.floats("masks", source: path)
        }
        if archive.tensors["image_index"] != nil {
            table.imageIndex = try archive.int32s("image_index", shape: [table.rows], source: path)
        }
        if archive.tensors["split"] != nil {
            table.splits = try archive.uint8s("split", shape: [table.rows], source: path)
        }
        if let names = archive.metadata["conditions"] {
            guard let list = try? JSONSerialization.jsonObject(with: Data(names.utf8)) as? [String] else {
                throw CSNError.file(path, "the metadata's conditions are not a JSON list of names")
            }
            table.conditionNames = list
        }
        if let dataset = archive.metadata["dataset"], !dataset.isEmpty {
            table.datasetPath = dataset.hasPrefix("/") ? dataset : (PathText.folder(of: path) + "/" + dataset)
        }
        for key in ["model", "backbone", "step"] { table.info[key] = archive.metadata[key]?.terminalSafe }
        return try checked(table, source: path)
    }

    /// Every count agrees and every value is finite; errors name the row.
    static func checked(_ table: EmbeddingTable, source: String) throws -> EmbeddingTable {
        if let k = table.conditionCount, !table.conditionNames.isEmpty, table.conditionNames.count != k {
            throw CSNError.file(source, "names \(table.conditionNames.count) conditions but its vectors carry \(k)")
        }
        let width = table.dimension * (table.conditionsAxis ?? 1)
        if let bad = table.vectors.firstIndex(where: { !$0.isFinite || abs($0) > maxMagnitude }) {
            throw CSNError.file(source, "row \(bad / width) holds \(table.vectors[bad])" + (table.vectors[bad].isFinite ? ", too large for distances (at most 1e15)" : ""))
        }
        if Set(table.conditionNames).count != table.conditionNames.count {
            throw CSNError.file(source, "names a condition twice (\(table.conditionNames.joined(separator: ", ").terminalSafe))")
        }
        if let masks = table.masks, let bad = masks.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            throw CSNError.file(source, "mask \(bad / table.dimension) holds \(masks[bad]); masks are finite and not negative (ReLU taken)")
        }
        if let splits = table.splits, let bad = splits.firstIndex(where: { $0 > 2 }) {
            throw CSNError.file(source, "row \(bad) has split \(splits[bad]); splits are 0 train, 1 val, 2 test")
        }
        if let index = table.imageIndex, let bad = index.firstIndex(where: { $0 < 0 }) {
            throw CSNError.file(source, "row \(bad) has image_index \(index[bad])")
        }
        return table
    }
}
