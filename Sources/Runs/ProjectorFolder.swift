import Basics
import Foundation

/// A TensorBoard Embedding Projector folder: `projector_config.pbtxt` naming tensors
/// (`tensor_name`, `tensor_path`, `metadata_path`), or a lone `tensors.tsv` / `vectors.tsv` with
/// `metadata.tsv`. Tensors named after conditions (what `csn export --projector` writes) become one
/// embedding per condition; otherwise the first tensor is the embedding. Every path stays inside
/// the folder.
enum ProjectorFolder {
    struct Entry {
        var name: String
        var tensorPath: String
        var metadataPath: String?
    }

    static func read(_ folder: String, maxBytes: Int) throws -> EmbeddingTable {
        let confined = try ConfinedFolder(folder)
        let entries = try self.entries(in: folder, confined: confined, maxBytes: maxBytes)
        guard let first = entries.first else {
            throw CSNError.file(folder, "holds no projector_config.pbtxt, tensors.tsv or vectors.tsv")
        }
        let labelsPath = try (first.metadataPath ?? (FileManager.default.fileExists(atPath: folder + "/metadata.tsv") ? "metadata.tsv" : nil))
            .map { try confined.resolve($0) }
        let columns = try labelsPath.map { try LabelTable.read($0, maxBytes: maxBytes).columnNames } ?? []
        let perCondition = columns.compactMap { column in entries.first { $0.name == column } }
        let chosen = perCondition.isEmpty ? [first] : perCondition
        var tables: [(values: [Float], dimension: Int)] = []
        for entry in chosen {
            let path = try confined.resolve(entry.tensorPath)
            tables.append(try VectorFile.read(try AtomicFile.read(path, maxBytes: maxBytes), source: path, numpy: false, maxBytes: maxBytes))
        }
        let dimension = tables[0].dimension, rows = tables[0].values.count / dimension
        for (entry, table) in zip(chosen, tables) where table.dimension != dimension || table.values.count != rows * dimension {
            throw CSNError.file(folder + "/" + entry.tensorPath, "has \(table.values.count / table.dimension) rows of \(table.dimension), but \(chosen[0].tensorPath) has \(rows) of \(dimension)")
        }
        var table: EmbeddingTable
        if perCondition.isEmpty {
            table = EmbeddingTable(rows: rows, dimension: dimension, vectors: tables[0].values, conditionsAxis: nil, masks: nil)
        } else {
            // Interleave into [N, K, D].
            let k = tables.count
            var vectors = [Float](repeating: 0, count: rows * k * dimension)
            for (c, t) in tables.enumerated() {
                for row in 0..<rows {
                    let target = (row * k + c) * dimension
                    vectors.replaceSubrange(target..<(target + dimension), with: t.values[(row * dimension)..<((row + 1) * dimension)])
                }
            }
            table = EmbeddingTable(rows: rows, dimension: dimension, vectors: vectors, conditionsAxis: k, masks: nil)
            table.conditionNames = perCondition.map(\.name)
        }
        table.labelsPath = labelsPath
        return table
    }

    static func entries(in folder: String, confined: ConfinedFolder, maxBytes: Int) throws -> [Entry] {
        let config = folder + "/projector_config.pbtxt"
        guard FileManager.default.fileExists(atPath: config) else {
            return ["tensors.tsv", "vectors.tsv"].filter { FileManager.default.fileExists(atPath: folder + "/" + $0) }
                .prefix(1).map { Entry(name: "embedding", tensorPath: $0, metadataPath: nil) }
        }
        let text = String(decoding: try AtomicFile.read(config, maxBytes: min(maxBytes, 16 << 20)), as: UTF8.self)
        // Protobuf text format, one line or many: `embeddings { tensor_name: "x" tensor_path: "y" }`.
        // Only the top-level embeddings blocks' string fields are read; other blocks are skipped.
        var entries: [Entry] = []
        var depth = 0, inEmbeddings = false
        var fields: [String: String] = [:]
        var tokens = TextFormatTokens(text)
        var previous: TextFormatTokens.Token? = nil
        while let token = tokens.next() {
            switch token {
            case .open:
                depth += 1
                if depth == 1, case .word("embeddings") = previous { inEmbeddings = true; fields = [:] }
            case .close:
                if depth == 1 && inEmbeddings, let path = fields["tensor_path"] {
                    entries.append(Entry(name: fields["tensor_name"] ?? path, tensorPath: path, metadataPath: fields["metadata_path"]))
                }
                if depth == 1 { inEmbeddings = false }
                depth = max(0, depth - 1)
            case .string(let value):
                if depth == 1, inEmbeddings, case .word(let key) = previous { fields[key] = value }
            case .word, .colon:
                break
            }
            if token != .colon { previous = token }
        }
        guard !entries.isEmpty else {
            throw CSNError.file(config, text.contains("tensor_path") ? "names no quoted tensor_path (text format quotes strings: tensor_path: \"vectors.tsv\")" : "names no tensor_path")
        }
        return entries
    }
}

/// The tokens of protobuf text format that a projector config uses: names, `:`, braces and
/// quoted strings (with their escapes); anything else is skipped.
struct TextFormatTokens {
    enum Token: Equatable {
        case word(String), colon, open, close, string(String)
    }

    private let scalars: [Unicode.Scalar]
    private var index = 0

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    mutating func next() -> Token? {
        while index < scalars.count {
            let c = scalars[index]
            index += 1
            switch c {
            case ":": return .colon
            case "{": return .open
            case "}": return .close
            case "#": while index < scalars.count && scalars[index] != "\n" { index += 1 }
            case "\"", "'": return .string(quoted(until: c))
            default:
                guard c.properties.isAlphabetic || c == "_" else { continue }
                var word = String(c)
                while index < scalars.count, scalars[index].properties.isAlphabetic || scalars[index] == "_" || ("0"..."9").contains(scalars[index]) {
                    word.unicodeScalars.append(scalars[index])
                    index += 1
                }
                return .word(word)
            }
        }
        return nil
    }

    private mutating func quoted(until end: Unicode.Scalar) -> String {
        var out = ""
        while index < scalars.count, scalars[index] != end {
            var c = scalars[index]
            if c == "\\", index + 1 < scalars.count {
                index += 1
                switch scalars[index] {
                case "n": c = "\n"
                case "t": c = "\t"
                default: c = scalars[index]
                }
            }
            out.unicodeScalars.append(c)
            index += 1
        }
        index += 1
        return out
    }
}

/// Names in a Projector folder that csn writes: file names safe on any file system whatever the
/// condition is called, an image column that no condition shadows, and text-format strings.
public enum ProjectorNames {
    /// `vectors-NAME.tsv` per condition, with every character outside [A-Za-z0-9._-] replaced and
    /// a number added where two names would collide.
    public static func files(for conditions: [String]) -> [String] {
        var used: Set<String> = ["vectors.tsv", "metadata.tsv"]
        return conditions.map { name in
            var safe = String(name.unicodeScalars.map { scalar -> Character in
                let c = Character(scalar)
                return c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_") ? c : "_"
            }.prefix(100))
            if safe.isEmpty { safe = "_" }
            var file = "vectors-\(safe).tsv", k = 2
            while used.contains(file) { file = "vectors-\(safe)-\(k).tsv"; k += 1 }
            used.insert(file)
            return file
        }
    }

    /// The metadata column naming the images: the first of the names csn reads as one that no
    /// condition is called.
    public static func nameColumn(avoiding conditions: [String]) -> String? {
        ["image", "name", "path", "file", "filename"].first { candidate in !conditions.contains { $0.lowercased() == candidate } }
    }

    /// A protobuf text-format string.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
