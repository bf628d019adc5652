import Basics
import CSN
import Datasets
import Foundation

/// Starts or resumes a run from the training options: shared by `csn train` and `csn` (the UI).
/// The returned RunFolder holds the folder's lock; keep it for as long as the run writes there.
enum RunSetup {
    static func makeSession(options: TrainingOptions, out: String?, resume: String?) throws -> (TrainingSession, RunFolder) {
        let limit = options.data.memory.limits.maxBytes
        if let resume {
            let folder = try RunFolder(resume)
            var config = try Checkpoint.loadConfig(from: resume)
            if let steps = options.steps { config.steps = steps }
            let dataset = try ImageDataset.load(from: options.data.path ?? config.resolvedDataPath(runDirectory: resume), limits: options.data.memory.limits)
            let session = try TrainingSession(config: config, dataset: dataset, memoryLimit: limit)
            try Checkpoint.restore(session, from: resume + "/" + Checkpoint.modelFile)
            guard session.step < config.steps else {
                throw CSNError("\(resume) already finished its \(config.steps) steps; give a larger --steps to extend it")
            }
            print("resuming \(config.model.rawValue) from step \(session.step) of \(config.steps)")
            return (session, folder)
        }
        let dataset = try options.data.load()
        let config = try options.config(for: dataset)
        let directory = out ?? "runs/\(config.model.rawValue)-\(TrainCommand.timestamp())"
        // The lock first: the check that the folder is free and the first save are then one step.
        let folder = try RunFolder(directory)
        if FileManager.default.fileExists(atPath: directory + "/" + Checkpoint.modelFile) {
            throw CSNError("--out \(directory) already holds a checkpoint; use --resume \(directory) to continue it, or another --out")
        }
        let session = try TrainingSession(config: config, dataset: dataset, memoryLimit: limit)
        try Checkpoint.save(session, to: directory)
        return (session, folder)
    }
}
