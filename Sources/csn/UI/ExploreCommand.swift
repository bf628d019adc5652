import ArgumentParser
import Basics
import CSN
import CSNApp
import Datasets
import Foundation
import Runs

/// `csn explore RUN` or `csn explore --embeddings FILE`: the UI without training, on a saved
/// checkpoint (csn runs the network) or on vectors any model wrote.
struct ExploreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Open the terminal UI on a saved run, or on embeddings from any model, without training.",
        discussion: """
        csn explore RUN opens a run folder (csn's or the PyTorch trainer's) and runs its network.
        csn explore --embeddings FILE opens vectors from any model: a csn embeddings file (.safetensors, \
        N x D with masks K x D, or N x K x D), a .npy array, a TensorBoard Projector tensors.tsv, or a \
        Projector folder (as csn export --projector writes). Labels come from the csn dataset the file \
        names, from --data, or from a Projector metadata.tsv (--labels: a header row, one column per condition). \
        See docs/run-formats.md.

        Views: 1 monitor, 2 masks, 3 subspaces (t-SNE), 4 neighbours. Keys:
        """ + KeyHelp.text(isTraining: false)
    )

    @OptionGroup var source: VectorsOptions

    @Option(name: .customLong("map-points"), help: "Points in each map (a seeded sample of the rows; t-SNE takes at most 20000).")
    var mapPoints = 1500

    @OptionGroup var output: AsciiOption

    func validate() throws {
        guard (10...20_000).contains(mapPoints) else { throw ValidationError("--map-points must be between 10 and 20000, not \(mapPoints)") }
    }

    func run() throws {
        try TerminalUI.requireTerminal()
        switch try source.open() {
        case .file(let opened):
            let worker = AnalysisWorker(source: FixedVectors(table: opened.rows.table, conditionCount: opened.rows.dataset.conditions.count),
                                        dataset: opened.rows.dataset, weights: WeightsMailbox(ModelWeights(step: opened.step)),
                                        mapSampleCount: mapPoints)
            try TerminalUI.run(trainer: nil, fixedSnapshot: opened.snapshot, worker: worker, dataName: opened.dataName,
                               ascii: output.ascii, title: opened.title)
        case .run(let saved):
            let worker = try AnalysisWorker(config: saved.config, dataset: saved.dataset,
                                            weights: WeightsMailbox(ModelWeights(of: saved.model, step: saved.step)), mapSampleCount: mapPoints)
            try TerminalUI.run(trainer: nil, fixedSnapshot: ExploreSnapshot.make(saved), worker: worker,
                               dataName: (saved.config.dataPath as NSString).lastPathComponent, ascii: output.ascii)
        }
    }
}

/// A fixed TrainingSnapshot of a saved run: its metrics history, masks and weights.
enum ExploreSnapshot {
    static func make(_ saved: SavedRun) -> TrainingSnapshot {
        let config = saved.config
        var snapshot = TrainingSnapshot(
            state: .stopped, model: config.model, conditionNames: saved.dataset.conditions.map(\.name), step: saved.step,
            totalSteps: config.steps, stepsPerEpoch: Double(saved.epochTriplets) / Double(config.batchSize),
            trainAccuracy: [], masks: saved.model.effectiveMasks(), embeddingDimension: saved.model.shape.embeddingDimension)
        (snapshot.lossHistory, snapshot.validationHistory) = Checkpoint.readMetrics(from: saved.directory, conditionCount: saved.dataset.conditions.count)
        snapshot.lastCheckpoint = "exploring \(saved.directory) at step \(saved.step)"
        return snapshot
    }
}

/// An embeddings file opened for the explorer: its rows with labels and pictures, the fixed
/// snapshot the views read (masks; the metrics of the run folder it sits in, if any) and a title.
struct EmbeddingsSource {
    var rows: ExploreRows
    var snapshot: TrainingSnapshot
    var title: String
    var dataName: String
    var step: Int

    static func open(_ path: String, labels labelsPath: String?, data: String?, images: String? = nil, imageSize: Int = 32,
                     limits: ReadLimits) throws -> EmbeddingsSource {
        let table = try EmbeddingTable.read(path, maxBytes: limits.maxBytes)
        let labels = try (labelsPath ?? table.labelsPath).map { try LabelTable.read($0, maxBytes: limits.maxBytes) }
        let pictures = try images.map { try readPictures(in: $0, labels: labels, size: imageSize, limits: limits) }
        var dataset: ImageDataset? = nil
        if let datasetPath = data ?? table.datasetPath {
            if FileManager.default.fileExists(atPath: datasetPath) || data != nil {
                do {
                    dataset = try ImageDataset.load(from: datasetPath, limits: limits)
                } catch let error as CSNError where data == nil {
                    throw CSNError("\(path) names its dataset, which cannot be read: \(error.description)", kind: error.kind)
                }
            } else if labels == nil {
                throw CSNError.file(path, "names the dataset \(datasetPath.terminalSafe), which does not exist; give --data DATASET or --labels metadata.tsv")
            }
        }
        let rows = try ExploreRows.make(table: table, labels: labels, dataset: pictures == nil ? dataset : nil, pictures: pictures, source: path)
        let conditions = rows.dataset.conditions
        let k = conditions.count, d = table.dimension
        let model: ModelKind = table.info["model"].flatMap(ModelKind.init(rawValue:))
            ?? (table.conditionsAxis != nil ? .taskSpecific : (table.masks != nil ? .csnLearned : .standard))
        let step = table.info["step"].flatMap(Int.init) ?? 0
        var snapshot = TrainingSnapshot(state: .stopped, model: model, conditionNames: conditions.map(\.name), step: step, totalSteps: step,
                                        stepsPerEpoch: 1, trainAccuracy: [], masks: FixedVectors(table: table, conditionCount: k).masks(),
                                        embeddingDimension: d)
        (snapshot.lossHistory, snapshot.validationHistory) = Checkpoint.readMetrics(from: PathText.folder(of: path), conditionCount: k)
        let shape = table.conditionsAxis.map { "\(table.rows) x \($0) x \(d)" } ?? "\(table.rows) x \(d)" + (table.masks == nil ? "" : ", masks \(k) x \(d)")
        let described = ["model", "backbone"].compactMap { table.info[$0] }.joined(separator: " ")
        snapshot.lastCheckpoint = "exploring \(path) (\(shape)); labels from \(rows.labelSource)\(rows.hasImages ? "" : ", no pictures")"
        let title = [PathText.name(of: path), shape, described, step > 0 ? "step \(step)" : ""].filter { !$0.isEmpty }.joined(separator: " ")
        return EmbeddingsSource(rows: rows, snapshot: snapshot, title: title, dataName: rows.labelSource, step: step)
    }

    /// `--images DIR`: each row's picture, named by the labels' image (or path, name, file) column
    /// and read from inside DIR, fitted to `size` x `size` in colour.
    static func readPictures(in folder: String, labels: LabelTable?, size: Int, limits: ReadLimits) throws -> ExploreRows.Pictures {
        guard let labels, let names = labels.rowNames() else {
            throw CSNError("--images needs --labels with an image, path, name or file column naming each row's picture")
        }
        guard let bytes = CheckedSize.product(names.count, 3, size, size), bytes <= limits.maxBytes else {
            throw CSNError("\(names.count) pictures of \(size)x\(size) are over the memory limit", kind: .memoryLimit)
        }
        let confined = try ConfinedFolder(folder)
        var pixels: [UInt8] = []
        pixels.reserveCapacity(bytes)
        for (row, result) in ImageLoader.load(names: names, in: confined, size: size, channels: 3).enumerated() {
            switch result {
            case .success(let fitted): pixels.append(contentsOf: fitted)
            case .failure(let error): throw CSNError("\(error.description) (row \(row + 1) of \(labels.source))")
            }
        }
        return ExploreRows.Pictures(pixels: pixels, size: size, channels: 3)
    }
}
