import ArgumentParser
import Basics
import CSN
import CSNApp
import Datasets
import Foundation
import Runs

/// What the explorer and `csn neighbours` look at: a run folder whose network csn runs, or vectors
/// any model wrote (`--embeddings`). A run folder whose network csn cannot run (the PyTorch
/// trainer's ResNet-18) is opened through the `embeddings.safetensors` it holds.
struct VectorsOptions: ParsableArguments {
    @Argument(help: "Run folder (written by csn train, csn compare, the UI or the PyTorch trainer).")
    var checkpoint: String?

    @OptionGroup var weights: WeightsOptions

    @Option(help: "Vectors instead of a run: a csn embeddings .safetensors, a .npy array, a Projector tensors.tsv or folder.")
    var embeddings: String?

    @Option(help: "Labels for --embeddings: a Projector metadata.tsv with a header row.")
    var labels: String?

    @Option(help: "Pictures for --embeddings: a folder holding the files that --labels' image column names.")
    var images: String?

    @Option(name: .customLong("image-size"), help: "Side in pixels the --images pictures are fitted to.")
    var imageSize = 32

    func validate() throws {
        guard (8...256).contains(imageSize) else { throw ValidationError("--image-size must be between 8 and 256, not \(imageSize)") }
        guard images == nil || embeddings != nil else { throw ValidationError("--images goes with --embeddings") }
        guard (checkpoint == nil) != (embeddings == nil) else {
            throw ValidationError("give a run folder or --embeddings FILE (one of the two)")
        }
        guard embeddings != nil || labels == nil else { throw ValidationError("--labels goes with --embeddings") }
    }

    /// The opened vectors: either a saved run or an embeddings file.
    enum Opened {
        case run(SavedRun)
        case file(EmbeddingsSource)

        var dataset: ImageDataset {
            switch self {
            case .run(let saved): saved.dataset
            case .file(let file): file.rows.dataset
            }
        }

        func vectors() -> VectorSource {
            switch self {
            case .run(let saved): ModelVectors(model: saved.model)
            case .file(let file): FixedVectors(table: file.rows.table, conditionCount: file.rows.dataset.conditions.count)
            }
        }
    }

    func open() throws -> Opened {
        if let embeddings {
            return .file(try EmbeddingsSource.open(embeddings, labels: labels, data: weights.data, images: images, imageSize: imageSize,
                                                   limits: weights.memory.limits))
        }
        let folder = checkpoint ?? "."
        let embeddingsFile = folder + "/embeddings.safetensors"
        if Self.isForeignRun(folder), FileManager.default.fileExists(atPath: embeddingsFile) {
            return .file(try EmbeddingsSource.open(embeddingsFile, labels: nil, data: weights.data, limits: weights.memory.limits))
        }
        return .run(try weights.open(folder))
    }

    /// A run whose config names a backbone csn does not run (the PyTorch trainer's `backbone` key).
    static func isForeignRun(_ folder: String) -> Bool {
        guard let bytes = try? AtomicFile.read(folder + "/config.json", maxBytes: 1 << 20),
              let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let backbone = object["backbone"] as? String else { return false }
        return backbone != "csn-convnet" && backbone != "convnet" && backbone != "small"
    }
}
