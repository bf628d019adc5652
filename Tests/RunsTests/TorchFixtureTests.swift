import Basics
import CSN
import Datasets
import Foundation
import Runs
import Testing
import TestSupport

/// Files the PyTorch trainer and torch's SummaryWriter wrote (Tests/Fixtures/torch, with how they
/// were made and the values below in its README), read by csn without torch.
@Suite struct TorchFixtureTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/torch").path

    @Test func summaryWriterScalarsOldAndNewStyle() throws {
        let runs = RunWatcher.readOnce([Self.folder + "/tensorboard"])
        #expect(runs.map(\.name) == ["new-style", "simple"])
        for run in runs {
            #expect(run.corruptRecords == 0 && run.partialRecords == 0 && run.skippedLines == 0)
            #expect(run.series.points["loss"] == [.init(step: 10, value: 0.5), .init(step: 20, value: 0.25), .init(step: 30, value: 0.125)])
        }
        #expect(runs[0].series.points["loss/precise"] == [.init(step: 10, value: 0.1)], "a double tensor keeps its precision")
        #expect(runs[1].series.points["val/character"] == [.init(step: 20, value: 0.75), .init(step: 30, value: 0.875)])
    }

    @Test func aTorchRunsMetricsReadAsCsnsOwn() throws {
        let run = try #require(RunWatcher.readOnce([Self.folder + "/run"]).first)
        #expect(run.series.points["validation/0"]?.map(\.step) == [20, 40, 60])
        #expect(run.series.latest("learning_rate")?.step == 50)
        #expect(run.skippedLines == 0)
    }

    /// Every row of the PyTorch trainer's embeddings file equals csn's own forward pass of the
    /// run's weights on that image, and its masks are the checkpoint's.
    @Test func embeddingsRowsAreCsnsForwardPassOfTheSameWeights() throws {
        let table = try EmbeddingTable.read(Self.folder + "/run/embeddings.safetensors")
        #expect(table.rows == 160 && table.dimension == 16 && table.conditionNames == ["character", "font", "weight", "slant"])
        #expect(table.info["model"] == "csn-learned" && table.info["step"] == "60")
        let first = Array(table.vector(row: 0, condition: 0).prefix(4))
        #expect(zip(first, [0.398951, 0.172246, 0.338586, -0.211903] as [Float]).allSatisfy { abs($0 - $1) < 1e-5 }, "\(first)")
        let saved = try SavedRun(Self.folder + "/run")
        let index = try #require(table.imageIndex)
        let ours = Evaluator.embed(index, model: saved.model, network: 0, dataset: saved.dataset)
        let worst = zip(ours, table.vectors).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-4, "largest difference \(worst)")
        let masks = saved.model.effectiveMasks()
        let fileMasks = try #require(table.masks)
        #expect(masks.count == 64 && fileMasks.count == masks.count && zip(masks, fileMasks).allSatisfy { abs($0 - $1) < 1e-6 })
        let rows = try ExploreRows.make(table: table, labels: nil, dataset: saved.dataset, source: "embeddings.safetensors")
        #expect(rows.hasImages && rows.dataset.count == 160 && rows.dataset.imageSize == 32)
        #expect(rows.dataset.imageIndices(in: .test).count == 80 && rows.dataset.imageIndices(in: .val).count == 80)
    }

    @Test func oneEmbeddingPerConditionFromTaskSpecificNetworks() throws {
        let table = try EmbeddingTable.read(Self.folder + "/task-specific-embeddings.safetensors")
        #expect(table.conditionsAxis == 4 && table.rows == 160 && table.dimension == 16 && table.masks == nil)
        let dataset = try ImageDataset.load(from: try #require(table.datasetPath))
        let rows = try ExploreRows.make(table: table, labels: nil, dataset: dataset, source: "task-specific")
        #expect(rows.dataset.conditions.map(\.name) == ["character", "font", "weight", "slant"])
    }
}
