import Basics
import CSN
import Datasets
import Foundation

/// Starts or resumes a run from the training options: shared by `csn train` and `csn` (the UI).
enum RunSetup {
    static func makeSession(options: TrainingOptions, out: String?, resume: String?) throws -> (TrainingSession, String) {
        if let resume {
            var config = try Checkpoint.loadConfig(from: resume)
            if let steps = options.steps { config.steps = steps }
            let dataset = try ImageDataset.load(from: options.data.path ?? config.dataPath)
            let session = try TrainingSession(config: config, dataset: dataset)
            try Checkpoint.restore(session, from: resume + "/" + Checkpoint.modelFile)
            guard session.step < config.steps else {
                throw CSNError("\(resume) already finished its \(config.steps) steps; give a larger --steps to extend it")
            }
            print("resuming \(config.model.rawValue) from step \(session.step) of \(config.steps)")
            return (session, resume)
        }
        let dataset = try options.data.load()
        let config = options.config(for: dataset)
        let directory = out ?? "runs/\(config.model.rawValue)-\(TrainCommand.timestamp())"
        if FileManager.default.fileExists(atPath: directory + "/" + Checkpoint.modelFile) {
            throw CSNError("--out \(directory) already holds a checkpoint; use --resume \(directory) to continue it, or another --out")
        }
        let session = try TrainingSession(config: config, dataset: dataset)
        try Checkpoint.save(session, to: directory)
        return (session, directory)
    }
}
