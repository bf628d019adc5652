@testable import CSN
import Basics
import Datasets
import Foundation
import Testing
import TestSupport

/// Seeded fuzzing of what a run folder holds: config.json and the checkpoint's tensors.
@Suite struct CSNFuzzTests {
    @Test func configFiles() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var withWidths = TestSupport.tinyConfig()
        withWidths.trainTriplets = 100
        let inputs = [Array(try encoder.encode(TestSupport.tinyConfig())), Array(try encoder.encode(withWidths))]
        let folder = TestSupport.temporaryDirectory()
        let outcome = Fuzz.run("config.json", inputs: inputs, seed: 31) { bytes in
            try AtomicFile.write(bytes, to: folder + "/" + Checkpoint.configFile)
            let config = try Checkpoint.loadConfig(from: folder)
            // A config that loads is safe to build a network shape from and to schedule with.
            let shape = NetworkShape(imageSize: 32, inputChannels: 1, widths: config.widths, embeddingDimension: config.embeddingDimension)
            if (try? shape.validate()) != nil {
                _ = config.estimatedTrainingBytes(shape: shape, conditionCount: 4)
            }
            _ = config.learningRate(atStep: config.steps / 2)
            #expect(config.validateEvery >= 1 && config.checkpointEvery >= 1)
        }
        #expect(outcome.rejected > Fuzz.cases / 4 && outcome.accepted > 0, "\(outcome)")
    }

    @Test func checkpointTensors() throws {
        let session = try TrainingSession(config: TestSupport.tinyConfig(), dataset: TestSupport.dejavuDataset)
        let folder = TestSupport.temporaryDirectory()
        try Checkpoint.save(session, to: folder)
        let good = try AtomicFile.read(folder + "/" + Checkpoint.modelFile)
        let outcome = Fuzz.run("model.safetensors", inputs: [good], seed: 32, cases: Fuzz.cases / 3) { bytes in
            try AtomicFile.write(bytes, to: folder + "/probe.safetensors")
            try Checkpoint.restore(session, from: folder + "/probe.safetensors")
            #expect(session.step >= 0)
            #expect(session.generator.state != (0, 0, 0, 0) as (UInt64, UInt64, UInt64, UInt64))
        }
        #expect(outcome.rejected > 0, "\(outcome)")
    }

    @Test func hostileCheckpointValuesAreRefused() throws {
        let session = try TrainingSession(config: TestSupport.tinyConfig(), dataset: TestSupport.dejavuDataset)
        let folder = TestSupport.temporaryDirectory()
        try Checkpoint.save(session, to: folder)
        let path = folder + "/" + Checkpoint.modelFile
        func rewrite(_ change: (inout SafeTensorsArchive) -> Void) throws {
            var archive = try SafeTensorsArchive(decoding: try AtomicFile.read(path), source: path)
            change(&archive)
            try AtomicFile.write(archive.encoded(), to: folder + "/bad.safetensors")
        }
        try rewrite { $0.tensors["rng"] = SafeTensor([0, 0, 0, 0] as [Int64], shape: [4]) }
        #expect(throws: CSNError("\(folder)/bad.safetensors: tensor 'rng' is all zeros, which is not a generator state")) {
            try Checkpoint.restore(session, from: folder + "/bad.safetensors")
        }
        try rewrite { $0.tensors["step"] = SafeTensor([-5] as [Int64], shape: [1]) }
        #expect(throws: CSNError("\(folder)/bad.safetensors: tensor 'step' holds -5, expected 0 to 1000000000")) {
            try Checkpoint.restore(session, from: folder + "/bad.safetensors")
        }
    }

    @Test func hostileConfigValuesAreNamed() throws {
        let folder = TestSupport.temporaryDirectory()
        let encoder = JSONEncoder()
        for (field, value, message) in [("validateEvery", "0", "validation must run every 1 or more steps, not every 0"),
                                        ("checkpointEvery", "0", "checkpoints must be written every 1 or more steps, not every 0"),
                                        ("widths", "[]", "stage widths [] must be 1 to 6 numbers between 1 and 4096"),
                                        ("batchSize", "1099511627776", "the batch size must be between 1 and 65536 triplets, not 1099511627776")] {
            var object = try JSONSerialization.jsonObject(with: try encoder.encode(TestSupport.tinyConfig())) as! [String: Any]
            object[field] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
            try AtomicFile.write(Array(try JSONSerialization.data(withJSONObject: object)), to: folder + "/config.json")
            #expect(throws: CSNError("\(folder)/config.json: \(message)")) { try Checkpoint.loadConfig(from: folder) }
        }
    }

    @Test func nonFiniteWeightsAreNeverSaved() throws {
        let session = try TrainingSession(config: TestSupport.tinyConfig(), dataset: TestSupport.dejavuDataset)
        let folder = TestSupport.temporaryDirectory()
        try Checkpoint.save(session, to: folder)
        let before = try AtomicFile.read(folder + "/" + Checkpoint.modelFile)
        // Finite weights so large that the forward pass overflows.
        session.model.store.values.pointer.update(repeating: 1e30, count: session.model.store.count)
        #expect(!session.weightsAreUsable())
        #expect(throws: CSNError.self) { try Checkpoint.save(session, to: folder, isBest: true) }
        #expect(try AtomicFile.read(folder + "/" + Checkpoint.modelFile) == before)
        #expect(!FileManager.default.fileExists(atPath: folder + "/" + Checkpoint.bestFile))
    }

    @Test func aRunFolderHasOneWriterAndLosesItsStaleTemporaries() throws {
        let folder = TestSupport.temporaryDirectory()
        try AtomicFile.write("x", to: folder + "/model.safetensors.tmp-999999")
        try AtomicFile.write("x", to: folder + "/config.json.tmp-\(getpid())")
        try AtomicFile.write("x", to: folder + "/data.safetensors.gz.tmp-999999")
        let first = try RunFolder(folder)
        #expect(!FileManager.default.fileExists(atPath: folder + "/model.safetensors.tmp-999999"), "a dead writer's temporary goes")
        #expect(FileManager.default.fileExists(atPath: folder + "/config.json.tmp-\(getpid())"), "a live writer's stays")
        #expect(FileManager.default.fileExists(atPath: folder + "/data.safetensors.gz.tmp-999999"), "other files' temporaries stay")
        #expect(throws: CSNError("\(folder): another csn process is writing this run folder (it holds the folder's lock); wait for it to end or choose another folder")) {
            try RunFolder(folder)
        }
        withExtendedLifetime(first) {}
    }
}
