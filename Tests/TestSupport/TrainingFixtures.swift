import CSN
import Datasets

extension TestSupport {
    /// A config small enough for debug-build tests: a narrow network on the DejaVu dataset.
    public static func tinyConfig(_ model: ModelKind = .csnLearned, steps: Int = 6, seed: UInt64 = 3) -> TrainingConfig {
        var config = TrainingConfig()
        config.model = model
        config.widths = [4, 8, 8]
        config.embeddingDimension = 8
        config.batchSize = 8
        config.steps = steps
        config.seed = seed
        config.threads = 2
        config.validateEvery = 1000
        config.validationTripletsPerCondition = 50
        config.checkpointEvery = 1000
        config.dataPath = dejavuDatasetFile
        return config
    }
}
