import Basics
import Datasets
import Foundation

/// A saved run opened for reading: its config, its data and its model with the saved weights, and
/// nothing a read-only command does not need (no optimiser moments, no sampler, no change to
/// OpenBLAS's thread count). What `eval`, `explore`, `masks`, `neighbours`, `tsne`, `export` and
/// `probe` open.
public final class SavedRun {
    public let directory: String
    public let config: TrainingConfig
    public let dataset: ImageDataset
    public let model: CSNModel
    /// The training step the weights were saved at.
    public let step: Int
    /// The weights file read: best.safetensors, or model.safetensors.
    public let weightsPath: String

    /// Opens `directory`; `dataPath` replaces the config's data file, `preferBest` takes the best
    /// validation weights when there are any.
    public init(_ directory: String, dataPath: String? = nil, preferBest: Bool = true, limits: ReadLimits = .standard) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CSNError.file(directory, "no such checkpoint folder")
        }
        self.directory = directory
        config = try Checkpoint.loadConfig(from: directory)
        dataset = try ImageDataset.load(from: dataPath ?? config.resolvedDataPath(runDirectory: directory), limits: limits)
        let shape = try NetworkShape(config: config, dataset: dataset)
        model = CSNModel(kind: config.model, shape: shape, conditionCount: dataset.conditions.count, maxBatchImages: 256)
        let best = directory + "/" + Checkpoint.bestFile
        weightsPath = preferBest && FileManager.default.fileExists(atPath: best) ? best : directory + "/" + Checkpoint.modelFile
        step = try Checkpoint.restoreWeights(model, from: weightsPath, limits: limits)
    }

    /// Triplets in an epoch of this run (see `TrainingConfig.epochTriplets`).
    public var epochTriplets: Int { config.epochTriplets(dataset) }
}
