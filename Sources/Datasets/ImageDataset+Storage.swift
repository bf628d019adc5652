import Basics
import Foundation

/// Datasets on disk: gzip-compressed safetensors (`.safetensors.gz`).
///
/// Tensors: `images` u8 [N, S, S] (or [N, C, S, S] in colour), `condition.NAME` i32 [N] for each
/// condition (and `ordinal.NAME` f32 [N] for ordinal ones), `group` i32 [N], `split` u8 [N]
/// (0 train, 1 val, 2 test), `triplets.val`, `triplets.test` and, for data that came with its own
/// training list, `triplets.train`, each i32 [M, 4] (condition, anchor, positive, negative). Names
/// of conditions (with their rule), values,
/// groups and images, the font attributes and the provenance are JSON strings in `__metadata__`.
/// From Python: `safetensors.numpy.load(gzip.open(path).read())`.
extension ImageDataset {
    public static let formatName = "csn-dataset/1"

    public func encoded() -> [UInt8] {
        var archive = SafeTensorsArchive()
        let n = count
        let imageShape = channels == 1 ? [n, imageSize, imageSize] : [n, channels, imageSize, imageSize]
        archive.tensors["images"] = SafeTensor(pixels, shape: imageShape)
        for condition in conditions {
            archive.tensors["condition.\(condition.name)"] = SafeTensor(condition.labels, shape: [n])
            if case .ordinal(let values, _) = condition.rule {
                archive.tensors["ordinal.\(condition.name)"] = SafeTensor(values, shape: [n])
            }
        }
        if trainTriplets.count > 0 {
            archive.tensors["triplets.train"] = SafeTensor(trainTriplets.storage, shape: [trainTriplets.count, 4])
        }
        archive.tensors["group"] = SafeTensor(groups, shape: [n])
        archive.tensors["split"] = SafeTensor(splits.map(\.rawValue), shape: [n])
        archive.tensors["triplets.val"] = SafeTensor(valTriplets.storage, shape: [valTriplets.count, 4])
        archive.tensors["triplets.test"] = SafeTensor(testTriplets.storage, shape: [testTriplets.count, 4])
        let conditionHeader = conditions.map { condition -> [String: Any] in
            var entry: [String: Any] = ["name": condition.name, "values": condition.valueNames]
            switch condition.rule {
            case .categorical: entry["rule"] = "categorical"
            case .ordinal(_, let threshold): entry["rule"] = "ordinal"; entry["threshold"] = Double(threshold)
            case .listed: entry["rule"] = "listed"
            }
            return entry
        }
        archive.metadata = [
            "format": Self.formatName,
            "image_size": String(imageSize),
            "channels": String(channels),
            "conditions": Self.json(conditionHeader),
            "groups": Self.json(groupNames),
            "image_names": Self.json(imageNames),
            "provenance": Self.json(provenance),
        ]
        if !fonts.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            archive.metadata["fonts"] = String(decoding: try! encoder.encode(fonts), as: UTF8.self)
        }
        return archive.encoded()
    }

    /// Writes the dataset gzip-compressed, atomically (temporary name, then rename).
    public func save(to path: String) throws {
        try AtomicFile.write(Gzip.compress(encoded(), level: 9), to: path)
    }

    /// Loads and validates a dataset; every error names `path`.
    public static func load(from path: String, limits: ReadLimits = .standard) throws -> ImageDataset {
        let compressed = try AtomicFile.read(path, maxBytes: limits.maxBytes)
        let bytes = path.hasSuffix(".gz") || compressed.starts(with: [0x1f, 0x8b])
            ? try Gzip.decompress(compressed, source: path, maxBytes: limits.maxBytes) : compressed
        return try ImageDataset(decoding: bytes, source: path)
    }

    public init(decoding bytes: [UInt8], source: String) throws {
        let archive = try SafeTensorsArchive(decoding: bytes, source: source)
        let meta = archive.metadata
        func fail(_ message: String) -> CSNError { CSNError.file(source, message) }
        guard meta["format"] == Self.formatName else {
            throw fail("not a csn dataset (format '\(meta["format"] ?? "none")', expected '\(Self.formatName)')")
        }
        guard let imageSize = meta["image_size"].flatMap(Int.init), let channels = meta["channels"].flatMap(Int.init) else {
            throw fail("the header lacks image_size or channels")
        }
        guard (1...Self.maxImageSize).contains(imageSize), channels == 1 || channels == 3 else {
            throw fail("image_size \(imageSize.description.terminalSafe) with \(channels) channel(s) is not supported (sizes 1 to \(Self.maxImageSize), 1 or 3 channels)")
        }
        guard let conditionHeader = Self.parse(meta["conditions"]) as? [[String: Any]] else {
            throw fail("the header's conditions are not a JSON list")
        }
        guard let groupNames = Self.parse(meta["groups"]) as? [String],
              let imageNames = Self.parse(meta["image_names"]) as? [String] else {
            throw fail("the header's group or image names are not JSON lists of strings")
        }
        let n = imageNames.count
        let imageShape = channels == 1 ? [n, imageSize, imageSize] : [n, channels, imageSize, imageSize]
        let pixels = try archive.uint8s("images", shape: imageShape, source: source)
        var conditions: [Condition] = []
        for entry in conditionHeader {
            guard let name = entry["name"] as? String, let values = entry["values"] as? [String] else {
                throw fail("a condition in the header lacks a name or values")
            }
            let labels = try archive.int32s("condition.\(name)", shape: [n], source: source)
            let rule: Condition.Rule
            switch entry["rule"] as? String ?? "categorical" {
            case "categorical": rule = .categorical
            case "listed": rule = .listed
            case "ordinal":
                guard let threshold = entry["threshold"] as? Double else { throw fail("ordinal condition '\(name)' lacks a threshold") }
                rule = .ordinal(values: try archive.floats("ordinal.\(name)", shape: [n], source: source), threshold: Float(threshold))
            case let other: throw fail("condition '\(name)' has an unknown rule '\(other)'")
            }
            conditions.append(Condition(name: name, valueNames: values, labels: labels, rule: rule))
        }
        let groups = try archive.int32s("group", shape: [n], source: source)
        let rawSplits = try archive.uint8s("split", shape: [n], source: source)
        var splits: [Split] = []
        splits.reserveCapacity(n)
        for (i, raw) in rawSplits.enumerated() {
            guard let split = Split(rawValue: raw) else { throw fail("image \(i) has split code \(raw), expected 0, 1 or 2") }
            splits.append(split)
        }
        func triplets(_ name: String) throws -> TripletList {
            let tensor = try archive.tensor(name, .i32, source: source)
            guard tensor.shape.count == 2, tensor.shape[1] == 4 else {
                throw fail("tensor '\(name)' has shape \(tensor.shape), expected [count, 4]")
            }
            return TripletList(flat: try archive.int32s(name, source: source))
        }
        var fonts: [FontInfo] = []
        if let fontsJSON = meta["fonts"] {
            do { fonts = try JSONDecoder().decode([FontInfo].self, from: Data(fontsJSON.utf8)) }
            catch { throw fail("the header's font list is malformed") }
        }
        self.init(imageSize: imageSize, channels: channels, pixels: pixels, imageNames: imageNames,
                  conditions: conditions, groups: groups, groupNames: groupNames, splits: splits,
                  trainTriplets: archive.tensors["triplets.train"] == nil ? TripletList() : try triplets("triplets.train"),
                  valTriplets: try triplets("triplets.val"), testTriplets: try triplets("triplets.test"),
                  fonts: fonts, provenance: (Self.parse(meta["provenance"]) as? [String: String]) ?? [:])
        if !fonts.isEmpty && fonts.count != groupNames.count {
            throw fail("the header lists \(fonts.count) fonts but \(groupNames.count) groups")
        }
        try validate(source: source)
    }

    private static func json(_ value: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    private static func parse(_ text: String?) -> Any? {
        guard let text else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(text.utf8))
    }
}
