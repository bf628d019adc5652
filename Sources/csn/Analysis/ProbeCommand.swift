import Analysis
import ArgumentParser
import Basics
import CSN
import Datasets
import Foundation

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "How well a softmax-regression probe reads attributes off the frozen embedding.",
        discussion: "Trains on the unmasked embeddings of training-split images and reports accuracy on the test split (for fonts data: fonts never seen in training), beside the majority-class share it must beat."
    )

    @OptionGroup var source: CheckpointOptions

    @Option(name: .customLong("attribute"), help: "Attribute (condition) to predict; repeatable. Default: every condition with attributes (on fonts data: weight and slant, which no model is trained on alone).")
    var attributes: [String] = []

    @Option(name: .customLong("max-train"), help: "Training images to sample (seeded).")
    var maxTrain = 20_000

    @Option(help: "Seed for the training sample.")
    var seed: UInt64 = 1

    func validate() throws {
        guard (10...10_000_000).contains(maxTrain) else { throw ValidationError("--max-train must be between 10 and 10000000, not \(maxTrain)") }
    }

    func run() throws {
        let saved = try source.open()
        let dataset = saved.dataset, model = saved.model
        // Fonts: the attributes no condition was trained on directly; other data: every attribute.
        let names = !attributes.isEmpty ? attributes
            : !dataset.fonts.isEmpty ? ["weight", "slant"].filter { n in dataset.conditions.contains { $0.name == n } }
            : dataset.conditions.filter { !$0.isListed }.map(\.name)
        let indices = try names.map { try dataset.conditionIndex(named: $0) }
        guard !indices.isEmpty else { throw CSNError("this dataset has no attribute to probe (its conditions are known from triplet lists only)") }
        let train = dataset.sample(maxTrain, from: .train, seed: seed)
        let test = dataset.imageIndices(in: .test)
        let d = model.shape.embeddingDimension
        print("\(saved.weightsPath): \(saved.config.model.rawValue); unmasked \(d)-d embedding of \(train.count) train and \(test.count) test images")
        var features: [Int: ([Float], [Float])] = [:]
        print("attribute   classes   probe   majority")
        for c in indices {
            guard !dataset.conditions[c].isListed else {
                print(dataset.conditions[c].name.padding(toLength: 10, withPad: " ", startingAt: 0) + "  (no attribute values: known from triplet lists only)")
                continue
            }
            let network = model.networkIndex(condition: c)
            if features[network] == nil {
                features[network] = (Evaluator.embed(train, model: model, network: network, dataset: dataset),
                                     Evaluator.embed(test, model: model, network: network, dataset: dataset))
            }
            let labels = dataset.conditions[c].labels
            let trainLabels = train.map { labels[Int($0)] }, testLabels = test.map { labels[Int($0)] }
            // A condition whose test values never occur in training (fonts are split by font, so
            // `font` itself) cannot be probed: say so instead of printing 0%.
            guard !Set(trainLabels).isDisjoint(with: testLabels) else {
                print(dataset.conditions[c].name.padding(toLength: 10, withPad: " ", startingAt: 0)
                      + "  (not probed: no test value occurs in training, as the split keeps them apart)")
                continue
            }
            let probe = try SoftmaxProbe(features: features[network]!.0, featureCount: d, labels: trainLabels,
                                         classCount: dataset.conditions[c].valueNames.count)
            let accuracy = probe.accuracy(features: features[network]!.1, labels: testLabels)
            print(dataset.conditions[c].name.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + String(format: "%9d %6.1f%% %9.1f%%", dataset.conditions[c].valueNames.count, 100 * accuracy,
                           100 * SoftmaxProbe.majorityShare(testLabels)))
        }
    }
}
