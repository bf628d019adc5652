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
        var entries: [Entry] = []
        var current: [String: String] = [:]
        func finish() {
            if let path = current["tensor_path"] {
                entries.append(Entry(name: current["tensor_name"] ?? path, tensorPath: path, metadataPath: current["metadata_path"]))
            }
            current = [:]
        }
        for (_, line) in TextLines.split(Array(text.utf8)) {
            let trimmed = line.trimmingSpaces
            if trimmed.hasPrefix("embeddings") { finish(); continue }
            guard let colon = trimmed.firstIndex(of: ":") else { continue }
            let key = String(trimmed[..<colon]).trimmingSpaces
            var value = String(trimmed[trimmed.index(after: colon)...]).trimmingSpaces
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            current[key] = value
        }
        finish()
        guard !entries.isEmpty else { throw CSNError.file(config, "names no tensor_path") }
        return entries
    }
}
