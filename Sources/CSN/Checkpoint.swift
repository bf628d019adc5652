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
    /// Weights that are not finite, or give non-finite embeddings, are refused: the previous
    /// checkpoint stays the last good one.
    public static func save(_ session: TrainingSession, to directory: String, isBest: Bool = false) throws {
        guard session.weightsAreUsable() else {
            throw CSNError("the weights at step \(session.step) are not finite or give non-finite embeddings, so they were not saved; the previous checkpoint in \(directory) is kept")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFile.write(try configJSON(session), to: directory + "/" + configFile)
        let bytes = archive(session).encoded()
        try AtomicFile.write(bytes, to: directory + "/" + modelFile)
        if isBest { try AtomicFile.write(bytes, to: directory + "/" + bestFile) }
    }

    /// The config, plus the dataset's condition names under `conditionNames` (read by `csn watch`
    /// to name the validation curves; the config itself does not read them back).
    static func configJSON(_ session: TrainingSession) throws -> [UInt8] {
        let config = try JSONEncoder().encode(session.config)
        guard var object = try JSONSerialization.jsonObject(with: config) as? [String: Any] else { return Array(config) }
        object["conditionNames"] = session.dataset.conditions.map(\.name)
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]))
    }

    public static func loadConfig(from directory: String) throws -> TrainingConfig {
        let path = directory + "/" + configFile
        let bytes = try AtomicFile.read(path, maxBytes: 1 << 20)
        let config: TrainingConfig
        do { config = try JSONDecoder().decode(TrainingConfig.self, from: Data(bytes)) }
        catch let DecodingError.keyNotFound(key, _) { throw CSNError.file(path, "not a valid training config: '\(key.stringValue)' is missing") }
        catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw CSNError.file(path, "not a valid training config: \(field.isEmpty ? "" : "'\(field)': ")\(context.debugDescription)")
        }
        catch { throw CSNError.file(path, "not a valid training config (\(error))") }
        do { try config.validate() } catch let error as TrainingConfig.RangeError { throw CSNError.file(path, error.description) }
        return config
    }

    /// Loads the weights and batch-norm statistics of `path` into `model` (built from the same
    /// config) and returns the step they were saved at. Every mismatch is an error naming the file.
    @discardableResult
    public static func restoreWeights(_ model: CSNModel, from path: String, limits: ReadLimits = .standard) throws -> Int {
        try restoreWeights(model, from: try openArchive(path, model: model, limits: limits), path: path)
    }

    static func openArchive(_ path: String, model: CSNModel, limits: ReadLimits) throws -> SafeTensorsArchive {
        let archive = try SafeTensorsArchive(decoding: try AtomicFile.read(path, maxBytes: limits.maxBytes), source: path)
        guard archive.metadata["format"] == "csn-checkpoint/1" else { throw CSNError.file(path, "not a csn checkpoint") }
        guard archive.metadata["model"] == model.kind.rawValue else {
            throw CSNError.file(path, "holds a \(archive.metadata["model"] ?? "?") model, but the config says \(model.kind.rawValue)")
        }
        return archive
    }

    static func restoreWeights(_ model: CSNModel, from archive: SafeTensorsArchive, path: String) throws -> Int {
        let store = model.store
        for entry in store.entries {
            let values = try archive.floats(entry.name, shape: entry.shape, source: path)
            try requireFinite(values, name: entry.name, path: path)
            (store.values.pointer + entry.offset).update(from: values, count: entry.count)
        }
        for (name, buffer) in model.runningStatistics {
            let values = try archive.floats(name, shape: [buffer.count], source: path)
            try requireFinite(values, name: name, path: path)
            buffer.pointer.update(from: values, count: buffer.count)
        }
        let step = try archive.int64s("step", shape: [1], source: path)[0]
        guard step >= 0, step <= Int64(TrainingConfig.maxSteps) else {
            throw CSNError.file(path, "tensor 'step' holds \(step), expected 0 to \(TrainingConfig.maxSteps)")
        }
        return Int(step)
    }

    /// Loads weights, statistics and step and, with `optimizerState`, Adam's moments, the
    /// sampler's RNG state and the best validation accuracy into a session built from the same
    /// config; every mismatch is an error that names the file.
    public static func restore(_ session: TrainingSession, from path: String, optimizerState: Bool = true) throws {
        let archive = try openArchive(path, model: session.model, limits: ReadLimits(maxBytes: session.memoryLimit))
        let step = try restoreWeights(session.model, from: archive, path: path)
        guard optimizerState else { return }
        let store = session.model.store
        let first = try archive.floats("optimizer.m", shape: [store.count], source: path)
        let second = try archive.floats("optimizer.v", shape: [store.count], source: path)
        try requireFinite(first, name: "optimizer.m", path: path)
        try requireFinite(second, name: "optimizer.v", path: path)
        if let bad = second.firstIndex(where: { $0 < 0 }) {
            throw CSNError.file(path, "tensor 'optimizer.v' holds the negative second moment \(second[bad]) at index \(bad)")
        }
        let state = try archive.int64s("rng", shape: [4], source: path).map { UInt64(bitPattern: $0) }
        // xoshiro's all-zero state is a fixed point: it would draw 0 forever and the sampler would spin.
        guard state.contains(where: { $0 != 0 }) else { throw CSNError.file(path, "tensor 'rng' is all zeros, which is not a generator state") }
        let best = try archive.floats("best_validation", shape: [1], source: path)[0]
        guard best.isNaN || best == -.infinity || (0...1).contains(best) else {
            throw CSNError.file(path, "tensor 'best_validation' holds \(best), expected an accuracy between 0 and 1")
        }
        store.firstMoments.pointer.update(from: first, count: store.count)
        store.secondMoments.pointer.update(from: second, count: store.count)
        session.step = step
        session.generator = SeededGenerator(state: (state[0], state[1], state[2], state[3]))
        session.bestValidation = best.isNaN ? -.infinity : Double(best)
    }

    private static func requireFinite(_ values: [Float], name: String, path: String) throws {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw CSNError.file(path, "tensor '\(name)' holds \(values[bad]) at index \(bad)")
        }
    }

    /// The loss and validation history logged in `directory`'s metrics.jsonl (empty when there is
    /// none). A line cut short by a crash, or one that is not a metrics record, is skipped; values
    /// beyond Float's range are dropped rather than drawn as infinities; a validation row is made
    /// `conditionCount` long (missing values are NaN), since a folder reused by another run can
    /// hold rows of another length.
    public static func readMetrics(from directory: String, conditionCount: Int? = nil) -> (loss: [TrainingSnapshot.LossPoint], validation: [TrainingSnapshot.ValidationPoint]) {
        var loss: [TrainingSnapshot.LossPoint] = [], validation: [TrainingSnapshot.ValidationPoint] = []
        let bytes = (try? AtomicFile.read(directory + "/" + metricsFile, maxBytes: 1 << 30)) ?? []
        func finite(_ value: Any?) -> Float? {
            guard let number = value as? Double else { return nil }
            let single = Float(number)
            return single.isFinite ? single : nil
        }
        for (_, line) in TextLines.split(bytes) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = object["step"] as? Int, step >= 0 else { continue }
            if let triplet = finite(object["triplet"]) {
                loss.append(.init(step: step, triplet: triplet, embedding: finite(object["embedding"]) ?? 0,
                                  mask: finite(object["mask"]) ?? 0))
            }
            if let values = object["validation"] as? [Any] {
                var accuracies = values.map { value -> Double in
                    guard let accuracy = value as? Double, (0...1).contains(accuracy) else { return .nan }
                    return accuracy
                }
                if let conditionCount {
                    accuracies = Array(accuracies.prefix(conditionCount))
                    accuracies += Array(repeating: .nan, count: conditionCount - accuracies.count)
                }
                let active = (object["mask_active"] as? [Any])?.compactMap { ($0 as? Int).flatMap { (0...1_000_000).contains($0) ? $0 : nil } }
                validation.append(.init(step: step, accuracies: accuracies,
                                        maskActive: active.flatMap { conditionCount == nil || $0.count == conditionCount ? $0 : nil }))
            }
        }
        return (loss, validation)
    }

    /// Appends one JSON line to metrics.jsonl (a line is written whole or, after a crash, ignored).
    /// A file whose last line lacks its newline (cut short, or edited by hand) gets one first, so
    /// the new record never joins the old line. NaN, which JSON cannot hold, is written as null.
    public static func appendMetrics(_ object: [String: Any], to directory: String) throws {
        let cleaned = object.mapValues { value -> Any in
            if let number = value as? Double, !number.isFinite { return NSNull() }
            return value
        }
        var line = try JSONSerialization.data(withJSONObject: cleaned, options: [.sortedKeys])
        line.append(0x0A)
        let path = directory + "/" + metricsFile
        let descriptor = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CSNError.file(path, "cannot append metrics: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var last: UInt8 = 0x0A
        let size = lseek(descriptor, 0, SEEK_END)
        if size > 0 { _ = pread(descriptor, &last, 1, size - 1) }
        if last != 0x0A { line.insert(0x0A, at: 0) }
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else {
            throw CSNError.file(path, "cannot append metrics: \(written < 0 ? String(cString: strerror(errno)) : "short write")")
        }
    }
}
