import Basics
import Foundation
import Tensor

/// A run's checkpoint folder:
/// - `config.json`: the TrainingConfig (everything needed to rebuild model and data pipeline);
/// - `model.safetensors`: parameters by name, batch-norm running statistics, Adam's moments
///   (`optimizer.m`, `optimizer.v`, flat in the parameter layout), `step`, the sampler's `rng`
///   state and `best_validation`; readable with `safetensors.numpy.load_file`;
/// - `best.safetensors`: the same at the best validation accuracy so far;
/// - `metrics.jsonl`: one JSON object per logged step, appended.
/// Every file is written to a temporary name and renamed, so a crash leaves the previous one.
public enum Checkpoint {
    public static let configFile = "config.json"
    public static let modelFile = "model.safetensors"
    public static let bestFile = "best.safetensors"
    public static let metricsFile = "metrics.jsonl"

    static func archive(_ session: TrainingSession) -> SafeTensorsArchive {
        let store = session.model.store
        var archive = SafeTensorsArchive()
        for entry in store.entries {
            let values = Array(UnsafeBufferPointer(start: store.values.pointer + entry.offset, count: entry.count))
            archive.tensors[entry.name] = SafeTensor(values, shape: entry.shape)
        }
        for (name, buffer) in session.model.runningStatistics {
            archive.tensors[name] = SafeTensor(buffer.array, shape: [buffer.count])
        }
        archive.tensors["optimizer.m"] = SafeTensor(store.firstMoments.array, shape: [store.count])
        archive.tensors["optimizer.v"] = SafeTensor(store.secondMoments.array, shape: [store.count])
        archive.tensors["effective_masks"] = SafeTensor(session.model.effectiveMasks(),
                                                        shape: [session.model.conditionCount, session.model.shape.embeddingDimension])
        archive.tensors["step"] = SafeTensor([Int64(session.step)], shape: [1])
        let state = session.generator.state
        archive.tensors["rng"] = SafeTensor([state.0, state.1, state.2, state.3].map { Int64(bitPattern: $0) }, shape: [4])
        archive.tensors["best_validation"] = SafeTensor([Float(session.bestValidation)], shape: [1])
        archive.metadata = ["format": "csn-checkpoint/1", "model": session.config.model.rawValue]
        return archive
    }

    /// Writes config, model (and best, when `isBest`) into `directory`, creating it if needed.
    public static func save(_ session: TrainingSession, to directory: String, isBest: Bool = false) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(session.config)), to: directory + "/" + configFile)
        let bytes = archive(session).encoded()
        try AtomicFile.write(bytes, to: directory + "/" + modelFile)
        if isBest { try AtomicFile.write(bytes, to: directory + "/" + bestFile) }
    }

    public static func loadConfig(from directory: String) throws -> TrainingConfig {
        let path = directory + "/" + configFile
        let bytes = try AtomicFile.read(path)
        do { return try JSONDecoder().decode(TrainingConfig.self, from: Data(bytes)) }
        catch { throw CSNError.file(path, "not a valid training config (\(error))") }
    }

    /// Loads weights, statistics, optimizer state, step and RNG state into a session built from
    /// the same config; every mismatch is an error that names the file.
    public static func restore(_ session: TrainingSession, from path: String, optimizerState: Bool = true) throws {
        let archive = try SafeTensorsArchive(decoding: try AtomicFile.read(path), source: path)
        guard archive.metadata["format"] == "csn-checkpoint/1" else { throw CSNError.file(path, "not a csn checkpoint") }
        guard archive.metadata["model"] == session.config.model.rawValue else {
            throw CSNError.file(path, "holds a \(archive.metadata["model"] ?? "?") model, but the config says \(session.config.model.rawValue)")
        }
        let store = session.model.store
        for entry in store.entries {
            let values = try archive.floats(entry.name, shape: entry.shape, source: path)
            try requireFinite(values, name: entry.name, path: path)
            (store.values.pointer + entry.offset).update(from: values, count: entry.count)
        }
        for (name, buffer) in session.model.runningStatistics {
            let values = try archive.floats(name, shape: [buffer.count], source: path)
            try requireFinite(values, name: name, path: path)
            buffer.pointer.update(from: values, count: buffer.count)
        }
        guard optimizerState else { return }
        store.firstMoments.pointer.update(from: try archive.floats("optimizer.m", shape: [store.count], source: path), count: store.count)
        store.secondMoments.pointer.update(from: try archive.floats("optimizer.v", shape: [store.count], source: path), count: store.count)
        session.step = Int(try archive.int64s("step", shape: [1], source: path)[0])
        let state = try archive.int64s("rng", shape: [4], source: path).map { UInt64(bitPattern: $0) }
        session.generator = SeededGenerator(state: (state[0], state[1], state[2], state[3]))
        session.bestValidation = Double(try archive.floats("best_validation", shape: [1], source: path)[0])
    }

    private static func requireFinite(_ values: [Float], name: String, path: String) throws {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw CSNError.file(path, "tensor '\(name)' holds \(values[bad]) at index \(bad)")
        }
    }

    /// The loss and validation history logged in `directory`'s metrics.jsonl (empty when there is
    /// none; a line cut short by a crash is skipped).
    public static func readMetrics(from directory: String) -> (loss: [TrainingSnapshot.LossPoint], validation: [TrainingSnapshot.ValidationPoint]) {
        var loss: [TrainingSnapshot.LossPoint] = [], validation: [TrainingSnapshot.ValidationPoint] = []
        let text = (try? String(contentsOfFile: directory + "/" + metricsFile, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = object["step"] as? Int else { continue }
            if let triplet = object["triplet"] as? Double {
                loss.append(.init(step: step, triplet: Float(triplet), embedding: Float(object["embedding"] as? Double ?? 0),
                                  mask: Float(object["mask"] as? Double ?? 0)))
            }
            if let values = object["validation"] as? [Any] {
                validation.append(.init(step: step, accuracies: values.map { ($0 as? Double) ?? .nan }))
            }
        }
        return (loss, validation)
    }

    /// Appends one JSON line to metrics.jsonl (a line is written whole or, after a crash, ignored).
    public static func appendMetrics(_ object: [String: Any], to directory: String) throws {
        var line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        line.append(0x0A)
        let path = directory + "/" + metricsFile
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw CSNError.file(path, "cannot append metrics") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }
}
