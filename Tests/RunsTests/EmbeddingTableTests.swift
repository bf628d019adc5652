import Basics
import Foundation
import Runs
import Testing
import TestSupport

@Suite struct EmbeddingTableTests {
    /// A csn embeddings file of `rows` x `d` with `k` masks.
    static func embeddingsFile(rows: Int = 6, d: Int = 4, k: Int = 2, masksWidth: Int? = nil, badValueAt: Int? = nil) -> [UInt8] {
        var vectors = (0..<(rows * d)).map { Float($0 % 7) / 7 }
        if let badValueAt { vectors[badValueAt] = .nan }
        var archive = SafeTensorsArchive()
        archive.tensors["embeddings"] = SafeTensor(vectors, shape: [rows, d])
        archive.tensors["masks"] = SafeTensor([Float](repeating: 0.5, count: k * (masksWidth ?? d)), shape: [k, masksWidth ?? d])
        archive.tensors["split"] = SafeTensor([UInt8](repeating: 2, count: rows), shape: [rows])
        archive.metadata = ["format": EmbeddingTable.formatName, "conditions": #"["shape","size"]"#, "model": "csn-learned", "step": "40"]
        return archive.encoded()
    }

    static let labels = "image\tshape\tsize\n" + (0..<6).map { "img\($0).png\t\(["round", "square"][$0 % 2])\t\($0)" }.joined(separator: "\n") + "\n"

    @Test func aCSNFileWithLabelsBecomesRowsWithConditionsInTheFilesOrder() throws {
        let folder = TestSupport.temporaryDirectory()
        try AtomicFile.write(Self.embeddingsFile(), to: folder + "/e.safetensors")
        // The columns in another order than the file's conditions: matched by name.
        try AtomicFile.write("size\timage\tshape\n" + (0..<6).map { "\($0)\timg\($0).png\t\(["round", "square"][$0 % 2])" }.joined(separator: "\n") + "\n",
                             to: folder + "/metadata.tsv")
        let table = try EmbeddingTable.read(folder + "/e.safetensors")
        #expect(table.rows == 6 && table.dimension == 4 && table.conditionCount == 2 && table.info["step"] == "40")
        let rows = try ExploreRows.make(table: table, labels: try LabelTable.read(folder + "/metadata.tsv"), dataset: nil, source: "e")
        #expect(rows.dataset.conditions.map(\.name) == ["shape", "size"])
        #expect(rows.dataset.conditions[0].valueNames == ["round", "square"])
        #expect(rows.dataset.imageNames[3] == "img3.png")
        #expect(!rows.hasImages)
    }

    @Test func mismatchesAreClearErrorsNamingTheFileAndRow() throws {
        let folder = TestSupport.temporaryDirectory()
        func error(_ body: () throws -> Void) -> String {
            do { try body(); return "accepted" } catch { return "\(error)" }
        }
        try AtomicFile.write(Self.embeddingsFile(masksWidth: 5), to: folder + "/wide.safetensors")
        #expect(error { _ = try EmbeddingTable.read(folder + "/wide.safetensors") }.contains("'masks' has shape [2, 5], expected [K, 4]"))
        try AtomicFile.write(Self.embeddingsFile(badValueAt: 9), to: folder + "/nan.safetensors")
        #expect(error { _ = try EmbeddingTable.read(folder + "/nan.safetensors") }.contains("row 2 holds nan"))
        try AtomicFile.write("a\tb\n1\t2\n3\n", to: folder + "/ragged.tsv")
        #expect(error { _ = try LabelTable.read(folder + "/ragged.tsv") }.contains("ragged.tsv:3: has 1 fields, but the header has 2"))
        try AtomicFile.write(Self.embeddingsFile(), to: folder + "/e.safetensors")
        try AtomicFile.write(Self.labels + "img6.png\tround\t6\n", to: folder + "/long.tsv")
        let table = try EmbeddingTable.read(folder + "/e.safetensors")
        #expect(error { _ = try ExploreRows.make(table: table, labels: try LabelTable.read(folder + "/long.tsv"), dataset: nil, source: "e") }
            .contains("long.tsv: has 7 rows, but e has 6 vectors"))
        try AtomicFile.write("image\tcolour\n" + (0..<6).map { "i\($0)\tred" }.joined(separator: "\n"), to: folder + "/other.tsv")
        #expect(error { _ = try ExploreRows.make(table: table, labels: try LabelTable.read(folder + "/other.tsv"), dataset: nil, source: "e") }
            .contains("names the condition 'shape', which other.tsv does not have"))
        try AtomicFile.write(Array("not vectors at all\n".utf8), to: folder + "/events.out.tfevents.1.x")
        #expect(error { _ = try EmbeddingTable.read(folder + "/events.out.tfevents.1.x") }.contains("is not a finite number"))
    }

    @Test func numpyArraysOfOneEmbeddingPerConditionAndNumberColumnsOnARamp() throws {
        let folder = TestSupport.temporaryDirectory()
        // [3, 2, 2] float32 in C order, written as numpy does.
        let values: [Float] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2, 2), }"
        header += String(repeating: " ", count: 63 - (10 + header.count) % 64) + "\n"
        let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + values.withUnsafeBytes(Array.init)
        try AtomicFile.write(bytes, to: folder + "/v.npy")
        let table = try EmbeddingTable.read(folder + "/v.npy")
        #expect(table.conditionsAxis == 2 && table.dimension == 2 && table.rows == 3)
        #expect(Array(table.vector(row: 2, condition: 1)) == [10, 11])
        let many = LabelTable(columnNames: ["height"], fields: (0..<20).map { String(Double($0) / 2) }, rows: 20, source: "m")
        #expect(many.condition(column: 0).isOrdinal)
    }

    @Test func projectorFoldersStayInsideTheirFolder() throws {
        let folder = TestSupport.temporaryDirectory()
        try AtomicFile.write("embeddings {\n  tensor_name: \"x\"\n  tensor_path: \"../outside.tsv\"\n}\n", to: folder + "/projector_config.pbtxt")
        do {
            _ = try EmbeddingTable.read(folder)
            Issue.record("a tensor_path with .. was read")
        } catch {
            #expect("\(error)".contains("is outside"))
        }
    }

    @Test func embeddingsAndLabelsFuzz() throws {
        let folder = TestSupport.temporaryDirectory()
        let outcome = Fuzz.run("embeddings file", inputs: [Self.embeddingsFile()], seed: 13) { bytes in
            try AtomicFile.write(bytes, to: folder + "/e.safetensors")
            let table = try EmbeddingTable.read(folder + "/e.safetensors")
            #expect(table.vectors.count == table.rows * table.dimension * (table.conditionsAxis ?? 1))
            _ = try ExploreRows.make(table: table, labels: nil, dataset: nil, source: "e")
        }
        #expect(outcome.rejected > Fuzz.cases / 4, "\(outcome)")
        try AtomicFile.write(Self.embeddingsFile(), to: folder + "/good.safetensors")
        let table = try EmbeddingTable.read(folder + "/good.safetensors")
        let labelOutcome = Fuzz.run("metadata.tsv", inputs: [Array(Self.labels.utf8)], seed: 14) { bytes in
            try AtomicFile.write(bytes, to: folder + "/metadata.tsv")
            let rows = try ExploreRows.make(table: table, labels: try LabelTable.read(folder + "/metadata.tsv"), dataset: nil, source: "e")
            for condition in rows.dataset.conditions { #expect(condition.labels.allSatisfy { Int($0) < condition.valueNames.count }) }
        }
        #expect(labelOutcome.rejected > 0, "\(labelOutcome)")
        let config = "embeddings {\n  tensor_name: \"shape\"\n  tensor_path: \"v.tsv\"\n  metadata_path: \"metadata.tsv\"\n}\n"
        try AtomicFile.write(Self.labels, to: folder + "/metadata.tsv")
        try AtomicFile.write((0..<6).map { "\($0)\t1\t2" }.joined(separator: "\n"), to: folder + "/v.tsv")
        let configOutcome = Fuzz.run("projector_config.pbtxt", inputs: [Array(config.utf8)], seed: 15) { bytes in
            try AtomicFile.write(bytes, to: folder + "/projector_config.pbtxt")
            let table = try EmbeddingTable.read(folder)
            #expect(table.rows == 6)
        }
        #expect(configOutcome.accepted > 0 && configOutcome.rejected > 0, "\(configOutcome)")
    }
}
