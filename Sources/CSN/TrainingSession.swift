import Basics
import Datasets
import Tensor

/// One training run's state and its step: sample a batch, embed its 3B images, take the loss and
/// its gradients, update with Adam. Owned by one thread at a time (the Trainer's).
public final class TrainingSession {
    public let config: TrainingConfig
    public let dataset: ImageDataset
    public let model: CSNModel
    /// Draws training triplets from the attributes; nil when the data brought its own training list.
    let sampler: TripletSampler?
    /// The fixed training pool per condition: the data's own list, or one drawn once when the
    /// config's `trainTriplets` is set.
    let pool: [TripletList]?
    var generator: SeededGenerator
    let adam: Adam
    public internal(set) var step = 0
    public internal(set) var bestValidation: Double = -.infinity
    public let validationTriplets: TripletList
    /// The memory limit the session was built under; checkpoints read later are held to it too.
    public let memoryLimit: Int

    private let embeddings: FloatBuffer
    private let dEmbeddings: FloatBuffer
    private let masks: FloatBuffer
    private let dMasks: FloatBuffer

    /// Triplets in an epoch: the pool's size, or as many as there are training images.
    public var epochTriplets: Int { config.epochTriplets(dataset) }

    /// A fresh run: model initialised from the seed.
    public init(config: TrainingConfig, dataset: ImageDataset, memoryLimit: Int = ReadLimits.defaultMaxBytes) throws {
        try config.validate()
        self.config = config
        self.memoryLimit = memoryLimit
        self.dataset = dataset
        let shape = try NetworkShape(config: config, dataset: dataset)
        let k = dataset.conditions.count
        guard let bytes = config.estimatedTrainingBytes(shape: shape, conditionCount: k), bytes <= memoryLimit else {
            throw CSNError("this model and batch size would need more than the memory limit of \(ReadLimits.describe(bytes: memoryLimit)) (use a smaller batch or network, or a higher limit)", kind: .memoryLimit)
        }
        let perNetworkTriplets = config.model == .taskSpecific ? (config.batchSize + k - 1) / k : config.batchSize
        model = CSNModel(kind: config.model, shape: shape, conditionCount: k, maxBatchImages: 3 * perNetworkTriplets,
                         workers: config.threads)
        model.initialize(seed: config.seed, maskInitialization: config.maskInitialization,
                         maskMean: config.maskMean, maskStd: config.maskStd)
        generator = SeededGenerator(seed: config.seed ^ 0x5452_4149_4E00)
        if dataset.trainTriplets.count > 0 {
            sampler = nil
            pool = try (0..<k).map { c in
                let list = dataset.trainTriplets.filtered(condition: c)
                guard list.count > 0 else { throw CSNError("the dataset's training list has no triplets for condition '\(dataset.conditions[c].name)'") }
                return list
            }
        } else if let size = config.trainTriplets {
            let sampler = try TripletSampler(dataset: dataset, split: .train)
            self.sampler = sampler
            var poolGenerator = SeededGenerator(seed: config.seed ^ 0x504F_4F4C)
            let perCondition = max(1, size / k)
            pool = (0..<k).map { c in
                TripletList((0..<perCondition).map { _ in sampler.sample(condition: c, using: &poolGenerator) })
            }
        } else {
            sampler = try TripletSampler(dataset: dataset, split: .train)
            pool = nil
        }
        adam = Adam(learningRate: config.learningRate)
        validationTriplets = Evaluator.subset(dataset.valTriplets, perCondition: config.validationTripletsPerCondition, conditionCount: k)
        let d = shape.embeddingDimension
        embeddings = FloatBuffer(count: 3 * config.batchSize * d)
        dEmbeddings = FloatBuffer(count: 3 * config.batchSize * d)
        masks = FloatBuffer(count: k * d)
        dMasks = FloatBuffer(count: k * d)
        // The networks split each batch over `threads` workers, each calling OpenBLAS single-threaded.
        BlasThreads.set(1)
    }

    /// The next batch: conditions cycle so that every batch mixes them evenly.
    func nextBatch() -> TripletList {
        let k = model.conditionCount
        let first = (step * config.batchSize) % k
        guard let pool else { return sampler!.sampleMixed(count: config.batchSize, firstCondition: first, using: &generator) }
        var list = TripletList()
        for t in 0..<config.batchSize {
            let c = (first + t) % k
            list.append(pool[c][generator.index(below: pool[c].count)])
        }
        return list
    }

    /// One optimisation step. Throws, leaving the parameters untouched, if the loss is not finite.
    @discardableResult
    public func trainStep() throws -> LossTerms {
        let batch = nextBatch()
        let plan = BatchPlan(triplets: batch, model: model)
        let d = model.shape.embeddingDimension
        let rowsUsed = 3 * batch.count
        dataset.pixels.withUnsafeBufferPointer { pixels in
            for block in plan.blocks {
                let network = model.networks[block.network]
                network.loadImages(count: block.images.count, bytesPerImage: dataset.bytesPerImage) { n in
                    pixels.baseAddress! + Int(block.images[n]) * dataset.bytesPerImage
                }
                network.forward(training: true)
                (embeddings.pointer + block.firstRow * d).update(from: network.embeddings.pointer, count: block.images.count * d)
            }
        }
        model.effectiveMasks(into: masks)
        dEmbeddings.pointer.update(repeating: 0, count: rowsUsed * d)
        dMasks.zero()
        let terms = tripletLoss(dEmbeddings.pointer, dMasks.pointer, embeddings.pointer, masks.pointer, plan.rows,
                                dimension: d, conditionCount: model.conditionCount, weights: config.loss,
                                includeMaskTerm: model.learnsMasks)
        guard terms.total.isFinite else {
            throw CSNError("training diverged at step \(step + 1): the loss is \(terms.total) (triplet \(terms.triplet), embedding \(terms.embedding), mask \(terms.mask)); try a lower learning rate")
        }
        model.store.gradients.zero()
        for block in plan.blocks {
            model.networks[block.network].backward(dEmbeddings.pointer + block.firstRow * d)
        }
        model.accumulateMaskGradient(dMasks)
        step += 1
        adam.update(model.store, step: step, learningRate: config.learningRate(atStep: step - 1), scaled: maskRate, workers: config.threads)
        return terms
    }

    /// The masks' share of the store and their learning-rate factor, when it is not 1.
    var maskRate: (range: Range<Int>, factor: Float)? {
        guard let offset = model.maskOffset, let factor = config.maskLearningRateScale, factor != 1 else { return nil }
        return (offset..<(offset + model.conditionCount * model.shape.embeddingDimension), factor)
    }

    /// Whether the weights are worth saving: every parameter and statistic finite, and a few
    /// validation images (or training images, without validation triplets) embed to finite vectors.
    /// Weights that pass their own checks can still overflow in the forward pass after a wild step.
    public func weightsAreUsable() -> Bool {
        let store = model.store
        guard UnsafeBufferPointer(start: store.values.pointer, count: store.count).allSatisfy(\.isFinite),
              model.runningStatistics.allSatisfy({ UnsafeBufferPointer(start: $0.buffer.pointer, count: $0.buffer.count).allSatisfy(\.isFinite) })
        else { return false }
        let probe = validationTriplets.count > 0 ? (0..<min(4, validationTriplets.count)).map { validationTriplets[$0].anchor }
            : Array(dataset.imageIndices(in: .train).prefix(4))
        return model.networks.indices.allSatisfy { network in
            Evaluator.embed(probe, model: model, network: network, dataset: dataset).allSatisfy(\.isFinite)
        }
    }

    /// Accuracy per condition on the run's validation subset; remembers the best mean.
    public func validate() -> (accuracies: [Double], improved: Bool) {
        let accuracies = Evaluator.accuracy(model: model, dataset: dataset, triplets: validationTriplets)
        let mean = Evaluator.mean(accuracies)
        let improved = mean > bestValidation
        if improved { bestValidation = mean }
        return (accuracies, improved)
    }
}
