import Analysis
import ArgumentParser
import Basics
import CSN
import Datasets
import Foundation

/// `csn probe RUN...`: how well a linear (softmax) probe reads attributes off a network's frozen
/// features, for several runs side by side and for an untrained network as the floor.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "How well a softmax-regression probe reads attributes off frozen features, for runs side by side.",
        discussion: """
        Trains on the features of training-split images and reports accuracy on the test split (for fonts data: \
        fonts never seen in training), beside the floor it must beat: the majority-class share, or chance with \
        --balanced. --features embedding probes \
        the unmasked embedding; convN the N-th convolution stage's output, each channel averaged over its positions \
        (the paper's off-the-shelf features). On fonts data the default attributes are two that no condition trains \
        on: fixed-pitch (monospaced or not, from each font file's own header) and family (a font's family, recognised \
        from faces never seen in training, among the families with faces in both splits; left out when fewer than \
        two families have), with weight and slant beside them. A condition of the data named fixed-pitch or family \
        is probed as that condition. --random-init adds the first run's network with fresh, untrained weights as the floor.
        """
    )

    @Argument(help: "Run folders (for example the models of one csn compare).")
    var runs: [String]

    @OptionGroup var weights: WeightsOptions

    @Option(name: .customLong("attribute"), help: "Attribute to predict: a condition, or fixed-pitch or family on fonts data; repeatable.")
    var attributes: [String] = []

    @Option(help: "Features to probe: embedding, or conv1, conv2, ... (a convolution stage's output, averaged per channel).")
    var features = "embedding"

    @Flag(name: .customLong("random-init"), help: "Also probe the first run's network with untrained weights (seeded), the floor.")
    var randomInit = false

    @Option(name: .customLong("max-train"), help: "Training images to sample per attribute (seeded), from the training images the attribute has a label for.")
    var maxTrain = 20_000

    @Flag(help: "Weigh classes equally in training and report balanced accuracy (the mean of per-class accuracies; chance is 100 / classes), for attributes with a rare class such as fixed-pitch.")
    var balanced = false

    @Option(help: "Seed for the training sample and the untrained network.")
    var seed: UInt64 = 1

    func validate() throws {
        guard (10...10_000_000).contains(maxTrain) else { throw ValidationError("--max-train must be between 10 and 10000000, not \(maxTrain)") }
        guard (1...16).contains(runs.count) else { throw ValidationError("give 1 to 16 run folders, not \(runs.count)") }
        guard features == "embedding" || (features.hasPrefix("conv") && Int(features.dropFirst(4)).map { (1...NetworkShape.maxStages).contains($0) } == true) else {
            throw ValidationError("--features must be embedding or conv1 to conv\(NetworkShape.maxStages), not '\(features)'")
        }
    }

    /// What a probe predicts: one label per image of the dataset.
    struct Target {
        var name: String
        /// -1 for an image the attribute leaves out (family: one of a family seen in one split only).
        var labels: [Int32]
        var classCount: Int
        /// The condition it is, when it is one (task-specific networks then use its network).
        var condition: Int?
    }

    func targets(_ dataset: ImageDataset) throws -> [Target] {
        // The font attributes, unless the data has conditions of those names (an import may).
        let fixedPitch = "fixed-pitch", family = "family"
        let isCondition = { (name: String) in dataset.conditions.contains { $0.name == name } }
        let fontsKnown = !dataset.fonts.isEmpty && dataset.fonts.count == dataset.groupNames.count
        let shared = fontsKnown ? dataset.sharedFamilyLabels() : (labels: [], families: [])
        let names = !attributes.isEmpty ? attributes
            : fontsKnown ? [fixedPitch] + (shared.families.count >= 2 ? [family] : []) + ["weight", "slant"].filter(isCondition)
            : dataset.conditions.filter { !$0.isListed }.map(\.name)
        return try names.map { name in
            if (name == fixedPitch || name == family) && !isCondition(name) {
                guard fontsKnown else { throw CSNError("\(name) needs a fonts dataset that lists its fonts (this one does not)") }
                if name == fixedPitch {
                    return Target(name: name, labels: dataset.groups.map { dataset.fonts[Int($0)].fixedPitch ? 1 : 0 }, classCount: 2, condition: nil)
                }
                guard shared.families.count >= 2 else {
                    throw CSNError("family needs at least 2 font families with faces in both the training and the test split; this dataset has \(shared.families.count)")
                }
                return Target(name: name, labels: shared.labels, classCount: shared.families.count, condition: nil)
            }
            let c = try dataset.conditionIndex(named: name)
            guard !dataset.conditions[c].isListed else { throw CSNError("'\(name)' has no attribute values: it is known from triplet lists only") }
            return Target(name: name, labels: dataset.conditions[c].labels, classCount: dataset.conditions[c].valueNames.count, condition: c)
        }
    }

    func run() throws {
        let opened = try runs.map { try weights.open($0) }
        let dataset = opened[0].dataset
        // Every network runs on the first run's images: the runs must share their data's shape.
        for run in opened.dropFirst() {
            let other = run.dataset
            guard other.count == dataset.count, other.imageSize == dataset.imageSize, other.channels == dataset.channels,
                  other.conditions.map(\.name) == dataset.conditions.map(\.name) else {
                throw CSNError.file(run.directory, "was trained on other data than \(opened[0].directory) (images, their size or the conditions differ); probe runs of one dataset together")
            }
        }
        let targets = try self.targets(dataset)
        // Each attribute's images: a seeded sample of the training images it labels, and every test image it labels.
        let trainImages = targets.map { target in dataset.sample(maxTrain, from: .train, seed: seed) { target.labels[$0] >= 0 } }
        let testImages = targets.map { target in dataset.imageIndices(in: .test).filter { target.labels[Int($0)] >= 0 } }
        let stage: Int?
        if features == "embedding" { stage = nil } else {
            guard let number = Int(features.dropFirst(4)) else { throw ValidationError("--features must be embedding or convN, not '\(features)'") }
            stage = number - 1
        }
        var models: [(label: String, model: CSNModel)] = opened.map { ("\(PathText.name(of: $0.directory)) (\($0.config.model.rawValue))", $0.model) }
        if randomInit {
            let first = opened[0]
            let fresh = CSNModel(kind: first.config.model, shape: first.model.shape, conditionCount: dataset.conditions.count, maxBatchImages: 256)
            fresh.initialize(seed: seed, maskInitialization: first.config.maskInitialization)
            models.append(("untrained (\(first.config.model.rawValue), seed \(seed))", fresh))
        }
        if let stage, let bad = models.first(where: { stage >= $0.model.networks[0].stageCount }) {
            throw CSNError("\(bad.label) has \(bad.model.networks[0].stageCount) convolution stages, so there is no \(features)")
        }
        let counts = zip(targets, zip(trainImages, testImages)).map { "\($0.name) \($1.0.count)/\($1.1.count)" }
        print("\(features == "embedding" ? "unmasked embedding" : "\(features) features (each channel averaged)") of train/test images (\(counts.joined(separator: ", "))); test \(balanced ? "balanced accuracy" : "accuracy") (%) of a softmax probe")
        // The floor each probe must beat: chance for balanced accuracy, else the majority share.
        let floor = balanced ? "chance (1 / classes present)" : "majority share"
        let labelWidth = max(floor.count, models.map(\.label.count).max() ?? 0) + 2
        let columns = targets.map { max(12, $0.name.count + 2) }
        print("".padding(toLength: labelWidth, withPad: " ", startingAt: 0) + zip(targets, columns).map { pad($0.name, $1) }.joined())
        for (label, model) in models {
            var cells: [String] = []
            // Each network embeds once the images of every attribute it serves; an attribute takes its rows.
            let network = targets.map { $0.condition.map(model.networkIndex(condition:)) ?? 0 }
            var cache: [Int: FeatureRows] = [:]
            for (t, target) in targets.enumerated() {
                let rows = cache[network[t]] ?? extract(model, network: network[t], stage: stage, dataset: dataset,
                                                        images: Set(targets.indices.filter { network[$0] == network[t] }
                                                            .flatMap { trainImages[$0] + testImages[$0] }).sorted())
                cache[network[t]] = rows
                let train = trainImages[t], test = testImages[t]
                let trainLabels = train.map { target.labels[Int($0)] }, testLabels = test.map { target.labels[Int($0)] }
                guard !Set(trainLabels).isDisjoint(with: testLabels) else { cells.append(pad("no overlap", columns[t])); continue }
                var config = SoftmaxProbe.Config()
                config.balanced = balanced
                let probe = try SoftmaxProbe(features: try rows.gather(train), featureCount: rows.width, labels: trainLabels,
                                             classCount: target.classCount, config: config)
                let testFeatures = try rows.gather(test)
                let score = balanced ? probe.balancedAccuracy(features: testFeatures, labels: testLabels)
                    : probe.accuracy(features: testFeatures, labels: testLabels)
                cells.append(pad(String(format: "%.1f", 100 * score), columns[t]))
            }
            print(label.padding(toLength: labelWidth, withPad: " ", startingAt: 0) + cells.joined())
        }
        print(floor.padding(toLength: labelWidth, withPad: " ", startingAt: 0) + targets.indices.map { t in
            let labels = testImages[t].map { targets[t].labels[Int($0)] }
            let share = balanced ? 1 / Double(max(1, Set(labels).count)) : SoftmaxProbe.majorityShare(labels)
            return pad(String(format: "%.1f", 100 * share), columns[t])
        }.joined())
    }

    /// One network's features of a list of images, a row each.
    struct FeatureRows {
        var values: [Float]
        var width: Int
        /// An image's row.
        var row: [Int32: Int]

        /// The rows of `images`; an image that was not extracted is an error (skipping it would shift every row after it).
        func gather(_ images: [Int32]) throws -> [Float] {
            var out = [Float]()
            out.reserveCapacity(images.count * width)
            for image in images {
                guard let r = row[image] else { throw CSNError("probe: the features of image \(image) were not extracted") }
                out.append(contentsOf: values[(r * width)..<((r + 1) * width)])
            }
            return out
        }
    }

    func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(1, width - text.count)) + text }

    func extract(_ model: CSNModel, network: Int, stage: Int?, dataset: ImageDataset, images: [Int32]) -> FeatureRows {
        let row = Dictionary(uniqueKeysWithValues: images.enumerated().map { ($1, $0) })
        guard let stage else {
            return FeatureRows(values: Evaluator.embed(images, model: model, network: network, dataset: dataset),
                               width: model.shape.embeddingDimension, row: row)
        }
        return FeatureRows(values: Evaluator.stageFeatures(images, model: model, network: network, stage: stage, dataset: dataset),
                           width: model.networks[network].stageChannels(stage), row: row)
    }
}
