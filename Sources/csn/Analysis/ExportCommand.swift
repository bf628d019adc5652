import ArgumentParser
import Basics
import CSN
import Datasets
import Foundation
import Runs

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run's embeddings for the TensorBoard Embedding Projector or for csn explore --embeddings.",
        discussion: """
        --projector DIR writes vectors.tsv (unmasked), vectors-CONDITION.tsv (masked by each condition), metadata.tsv (image name and values, with a header row) and projector_config.pbtxt, as TensorBoard's projector reads them. --embeddings FILE writes one csn embeddings file (docs/run-formats.md). csn explore --embeddings reads both.
        """
    )

    @OptionGroup var source: CheckpointOptions

    @Option(help: "Projector folder to write into (created if missing).")
    var projector: String?

    @Option(help: "csn embeddings file (.safetensors) to write.")
    var embeddings: String?

    @Option(name: .customLong("split"), help: "Split to export (default: test)")
    var splitOption: Split?
    var split: Split { splitOption ?? .test }

    @Option(help: "At most this many images (a seeded sample).")
    var points = 5000

    @Option(help: "Seed for the sample.")
    var seed: UInt64 = 1

    func validate() throws {
        guard (1...10_000_000).contains(points) else { throw ValidationError("--points must be between 1 and 10000000, not \(points)") }
        guard projector != nil || embeddings != nil else { throw ValidationError("give --projector DIR, --embeddings FILE or both") }
        if let embeddings, !embeddings.hasSuffix(".safetensors") { throw ValidationError("--embeddings names a .safetensors file, not \(embeddings)") }
    }

    func run() throws {
        let saved = try source.open()
        try refuseInputs(saved)
        let sample = saved.dataset.sample(points, from: split, seed: seed)
        if let embeddings { try writeEmbeddings(saved, sample, to: embeddings) }
        if let projector { try writeProjector(saved, sample, to: projector) }
    }

    /// Never writes over what it reads: the run's files and its dataset.
    func refuseInputs(_ saved: SavedRun) throws {
        func real(_ path: String) -> String? {
            guard let resolved = realpath(path, nil) else { return nil }
            defer { free(resolved) }
            return String(cString: resolved)
        }
        let inputs = Set(([Checkpoint.configFile, Checkpoint.modelFile, Checkpoint.bestFile, Checkpoint.metricsFile].map { saved.directory + "/" + $0 }
            + [saved.config.resolvedDataPath(runDirectory: saved.directory), saved.weightsPath] + [source.weights.data].compactMap { $0 }).compactMap(real))
        let outputs = [embeddings].compactMap { $0 } + (projector.map { folder in ["metadata.tsv", "projector_config.pbtxt", "vectors.tsv"].map { folder + "/" + $0 } } ?? [])
        // The file a write replaces: the output's own name in its real folder (a link named as the
        // output is replaced, not what it points to).
        for output in outputs where real(PathText.folder(of: output)).map({ inputs.contains($0 + "/" + PathText.name(of: output)) }) == true {
            throw CSNError.file(output.terminalSafe, "is one of the files this export reads (the run's or its dataset's); choose another path")
        }
    }

    /// One embeddings file: [N, D] with the masks, or [N, K, D] for task-specific networks.
    func writeEmbeddings(_ saved: SavedRun, _ sample: [Int32], to path: String) throws {
        let model = saved.model, d = model.shape.embeddingDimension
        let conditions = saved.dataset.conditions
        var archive = SafeTensorsArchive()
        if model.networks.count == 1 {
            archive.tensors["embeddings"] = SafeTensor(Evaluator.embed(sample, model: model, network: 0, dataset: saved.dataset), shape: [sample.count, d])
            archive.tensors["masks"] = SafeTensor(model.effectiveMasks(), shape: [conditions.count, d])
        } else {
            let perNetwork = model.networks.indices.map { Evaluator.embed(sample, model: model, network: $0, dataset: saved.dataset) }
            var vectors: [Float] = []
            vectors.reserveCapacity(sample.count * perNetwork.count * d)
            for row in sample.indices {
                for network in perNetwork { vectors.append(contentsOf: network[(row * d)..<((row + 1) * d)]) }
            }
            archive.tensors["embeddings"] = SafeTensor(vectors, shape: [sample.count, perNetwork.count, d])
        }
        archive.tensors["image_index"] = SafeTensor(sample, shape: [sample.count])
        archive.tensors["split"] = SafeTensor(sample.map { saved.dataset.splits[Int($0)].rawValue }, shape: [sample.count])
        let names = String(decoding: try JSONSerialization.data(withJSONObject: conditions.map(\.name)), as: UTF8.self)
        archive.metadata = ["format": EmbeddingTable.formatName, "conditions": names, "dataset": TrainingConfig.absolutePath(saved.config.resolvedDataPath(runDirectory: saved.directory)),
                            "model": saved.config.model.rawValue, "backbone": "csn-convnet", "step": String(saved.step)]
        try AtomicFile.write(archive.encoded(), to: path)
        print("wrote \(sample.count) embeddings of \(saved.config.model.rawValue) to \(path)")
    }

    func writeProjector(_ saved: SavedRun, _ sample: [Int32], to projector: String) throws {
        let dataset = saved.dataset, model = saved.model
        do {
            try FileManager.default.createDirectory(atPath: projector, withIntermediateDirectories: true)
        } catch {
            throw CSNError.file(projector.terminalSafe, "cannot be made a folder (\(String(describing: (error as NSError).localizedFailureReason ?? "a file is in the way").terminalSafe))")
        }
        let d = model.shape.embeddingDimension, masks = model.effectiveMasks()
        let fileNames = ProjectorNames.files(for: dataset.conditions.map(\.name))
        // The unmasked tensor's name, unless a condition is called that (it would read back as the condition).
        let unmaskedName = dataset.conditions.contains { $0.name == "unmasked" } ? "unmasked embedding" : "unmasked"
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
            let file = c.map { fileNames[$0] } ?? "vectors.tsv"
            try AtomicFile.write(tsv(embeddings[network]!, mask: c.map { masks[($0 * d)..<(($0 + 1) * d)] }), to: projector + "/" + file)
            tensors.append((c.map { dataset.conditions[$0].name } ?? unmaskedName, file))
        }
        guard let nameColumn = ProjectorNames.nameColumn(avoiding: dataset.conditions.map(\.name)) else {
            throw CSNError("the conditions take every name the image column could have (\(LabelTable.nameColumns.sorted().joined(separator: ", ")))")
        }
        func field(_ text: String) -> String { text.map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? " " : String($0) }.joined() }
        let header = ([nameColumn] + dataset.conditions.map(\.name)).map(field).joined(separator: "\t")
        let rows = sample.map { image in
            ([dataset.imageNames[Int(image)]] + dataset.conditions.map { $0.valueNames[Int($0.labels[Int(image)])] })
                .map(field).joined(separator: "\t")
        }
        try AtomicFile.write(([header] + rows).joined(separator: "\n") + "\n", to: projector + "/metadata.tsv")
        let config = tensors.map { "embeddings {\n  tensor_name: \(ProjectorNames.quoted($0.name))\n  tensor_path: \(ProjectorNames.quoted($0.file))\n  metadata_path: \"metadata.tsv\"\n}\n" }.joined()
        try AtomicFile.write(config, to: projector + "/projector_config.pbtxt")
        print("wrote \(sample.count) images x \(tensors.count) embeddings (\(tensors.map(\.name).joined(separator: ", "))) to \(projector)")
    }
}
