import ArgumentParser
import Basics
import CSN
import Datasets
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write embeddings for the TensorBoard Embedding Projector.",
        discussion: "Writes vectors.tsv (unmasked), vectors-CONDITION.tsv (masked by each condition), metadata.tsv (image name and values) and projector_config.pbtxt into --projector DIR."
    )

    @OptionGroup var source: CheckpointOptions

    @Option(help: "Folder to write into (created if missing).")
    var projector: String

    @Option(help: "Split to export.")
    var split: Split = .test

    @Option(help: "At most this many images (a seeded sample).")
    var points = 5000

    @Option(help: "Seed for the sample.")
    var seed: UInt64 = 1

    func validate() throws {
        guard (1...10_000_000).contains(points) else { throw ValidationError("--points must be between 1 and 10000000, not \(points)") }
    }

    func run() throws {
        let saved = try source.open()
        let dataset = saved.dataset, model = saved.model
        let sample = dataset.sample(points, from: split, seed: seed)
        try FileManager.default.createDirectory(atPath: projector, withIntermediateDirectories: true)
        let d = model.shape.embeddingDimension, masks = model.effectiveMasks()
        func tsv(_ vectors: [Float], mask: ArraySlice<Float>?) -> String {
            var text = ""
            for i in 0..<sample.count {
                text += (0..<d).map { j in String(vectors[i * d + j] * (mask.map { $0[$0.startIndex + j] } ?? 1)) }.joined(separator: "\t") + "\n"
            }
            return text
        }
        var tensors: [(name: String, file: String)] = []
        var embeddings: [Int: [Float]] = [:]
        for c in [nil] + dataset.conditions.indices.map({ Optional($0) }) {
            let network = model.networkIndex(condition: c ?? 0)
            if embeddings[network] == nil { embeddings[network] = Evaluator.embed(sample, model: model, network: network, dataset: dataset) }
            let file = c.map { "vectors-\(dataset.conditions[$0].name).tsv" } ?? "vectors.tsv"
            try AtomicFile.write(tsv(embeddings[network]!, mask: c.map { masks[($0 * d)..<(($0 + 1) * d)] }), to: projector + "/" + file)
            tensors.append((c.map { dataset.conditions[$0].name } ?? "unmasked", file))
        }
        let header = (["image"] + dataset.conditions.map(\.name)).joined(separator: "\t")
        let rows = sample.map { image in
            ([dataset.imageNames[Int(image)]] + dataset.conditions.map { $0.valueNames[Int($0.labels[Int(image)])] })
                .map { $0.replacingOccurrences(of: "\t", with: " ") }.joined(separator: "\t")
        }
        try AtomicFile.write(([header] + rows).joined(separator: "\n") + "\n", to: projector + "/metadata.tsv")
        let config = tensors.map { "embeddings {\n  tensor_name: \"\($0.name)\"\n  tensor_path: \"\($0.file)\"\n  metadata_path: \"metadata.tsv\"\n}\n" }.joined()
        try AtomicFile.write(config, to: projector + "/projector_config.pbtxt")
        print("wrote \(sample.count) images x \(tensors.count) embeddings (\(tensors.map(\.name).joined(separator: ", "))) to \(projector)")
    }
}
