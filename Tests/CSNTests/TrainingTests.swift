@testable import CSN
import Basics
import Datasets
import Foundation
import Tensor
import Testing
import TestSupport

@Suite struct TrainingTests {
    let dataset = TestSupport.dejavuDataset

    @Test(arguments: ModelKind.allCases)
    func everyModelTrainsAndItsMasksBehave(kind: ModelKind) throws {
        let session = try TrainingSession(config: TestSupport.tinyConfig(kind, steps: 3), dataset: dataset)
        let before = session.model.effectiveMasks()
        for _ in 0..<3 {
            let terms = try session.trainStep()
            #expect(terms.total.isFinite && terms.triplet >= 0)
            #expect(terms.seen == [2, 2, 2, 2], "batches mix the four conditions evenly")
            #expect((terms.mask > 0) == (kind == .csnLearned))
        }
        let after = session.model.effectiveMasks()
        #expect(session.model.networks.count == (kind == .taskSpecific ? 4 : 1))
        switch kind {
        case .standard, .taskSpecific: #expect(after.allSatisfy { $0 == 1 })
        case .csnFixed:
            #expect(after == before && after == CSNModel.disjointMasks(conditions: 4, dimension: 8))
        case .csnLearned: #expect(after != before, "learned masks move")
        }
    }

    /// Each publish tells every current subscriber once, and an ended subscription is told nothing.
    @Test func theMailboxTellsItsSubscribersUntilTheyLeave() throws {
        let session = try TrainingSession(config: TestSupport.tinyConfig(.csnLearned, steps: 1), dataset: dataset)
        let mailbox = WeightsMailbox(), told = Locked([0, 0])
        let first = mailbox.subscribe { told.withLock { $0[0] += 1 } }
        let second = mailbox.subscribe { told.withLock { $0[1] += 1 } }
        #expect(first != second && mailbox.subscriberCount == 2)
        mailbox.publish(ModelWeights(of: session.model, step: 1))
        mailbox.unsubscribe(first)
        mailbox.publish(ModelWeights(of: session.model, step: 2))
        #expect(told.withLock { $0 } == [1, 2])
        #expect(mailbox.subscriberCount == 1 && mailbox.newest?.step == 2)
        mailbox.unsubscribe(second)
        mailbox.unsubscribe(second)  // twice is harmless
        #expect(mailbox.subscriberCount == 0)
    }

    @Test func aSeededRunRepeatsExactly() throws {
        var weights: [[Float]] = []
        for _ in 0..<2 {
            let session = try TrainingSession(config: TestSupport.tinyConfig(steps: 4), dataset: dataset)
            for _ in 0..<4 { try session.trainStep() }
            weights.append(session.model.store.values.array)
        }
        #expect(weights[0] == weights[1])
        let other = try TrainingSession(config: TestSupport.tinyConfig(steps: 4, seed: 4), dataset: dataset)
        try other.trainStep()
        #expect(other.model.store.values.array != weights[0])
    }

    @Test func aResumedRunEqualsAnUninterruptedOne() throws {
        let config = TestSupport.tinyConfig(steps: 6)
        let straight = try TrainingSession(config: config, dataset: dataset)
        for _ in 0..<6 { try straight.trainStep() }

        let folder = TestSupport.temporaryDirectory()
        let first = try TrainingSession(config: config, dataset: dataset)
        for _ in 0..<3 { try first.trainStep() }
        try Checkpoint.save(first, to: folder)
        let resumed = try TrainingSession(config: try Checkpoint.loadConfig(from: folder), dataset: dataset)
        try Checkpoint.restore(resumed, from: folder + "/" + Checkpoint.modelFile)
        #expect(resumed.step == 3)
        for _ in 0..<3 { try resumed.trainStep() }
        #expect(resumed.model.store.values.array == straight.model.store.values.array)
        #expect(resumed.model.store.secondMoments.array == straight.model.store.secondMoments.array)
        let running = { (s: TrainingSession) in s.model.runningStatistics.flatMap { $0.buffer.array } }
        #expect(running(resumed) == running(straight))
    }

    @Test func aNonFiniteLossStopsBeforeTheUpdate() throws {
        let session = try TrainingSession(config: TestSupport.tinyConfig(steps: 5), dataset: dataset)
        try session.trainStep()
        session.model.store.values[session.model.store.entry("net0.fc.weight").offset] = .nan
        let before = session.model.store.values.array
        let error = #expect(throws: CSNError.self) { try session.trainStep() }
        #expect(error?.description.hasPrefix("training diverged at step 2: the loss is nan") == true)
        #expect(session.step == 1)
        #expect(zip(session.model.store.values.array, before).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }

    @Test func aDatasetsOwnTrainingListIsAllItTrainsOn() throws {
        var listed = dataset
        var generator = SeededGenerator(seed: 4)
        let sampler = try TripletSampler(dataset: dataset, split: .train, requireAll: false)
        listed.trainTriplets = sampler.sampleFixed(perCondition: 5, using: &generator)
        listed.conditions = dataset.conditions.map { .listed(name: $0.name, imageCount: dataset.count) }
        try listed.validate(source: "listed")
        let session = try TrainingSession(config: TestSupport.tinyConfig(), dataset: listed)
        let allowed = Set((0..<listed.trainTriplets.count).map { listed.trainTriplets[$0] })
        for _ in 0..<3 {
            let batch = session.nextBatch()
            #expect((0..<batch.count).allSatisfy { allowed.contains(batch[$0]) })
            // Conditions still alternate within a batch.
            #expect(Set((0..<batch.count).map { batch[$0].condition }).count == min(batch.count, listed.conditions.count))
            try session.trainStep()
        }
    }

    @Test func tiesCountAsWrong() throws {
        // All masks zero: every distance is 0, so no triplet is ordered right.
        let session = try TrainingSession(config: TestSupport.tinyConfig(), dataset: dataset)
        let masks = session.model.store.entry("masks")
        (session.model.store.values.pointer + masks.offset).update(repeating: -1, count: masks.count)
        let accuracies = Evaluator.accuracy(model: session.model, dataset: dataset, triplets: dataset.testTriplets)
        #expect(accuracies.filter { !$0.isNaN }.allSatisfy { $0 == 0 })
        #expect(accuracies.filter { !$0.isNaN }.count >= 3)
    }

    /// The triplet loss itself stays near the margin (the embedding-norm term shrinks the scale
    /// as the ordering improves), so progress is judged by held-out ordering, as the paper does.
    @Test func trainingRaisesValidationAccuracy() throws {
        var config = TestSupport.tinyConfig(steps: 80)
        config.learningRate = 3e-3
        let session = try TrainingSession(config: config, dataset: dataset)
        let triplets = Evaluator.subset(dataset.valTriplets, perCondition: 300, conditionCount: 4)
        let before = Evaluator.accuracy(model: session.model, dataset: dataset, triplets: triplets)
        for _ in 0..<80 { try session.trainStep() }
        let after = Evaluator.accuracy(model: session.model, dataset: dataset, triplets: triplets)
        #expect(Evaluator.mean(after) > Evaluator.mean(before) + 0.03, "validation \(before) -> \(after)")
    }
}

@Suite struct CheckpointTests {
    let dataset = TestSupport.dejavuDataset

    func savedRun() throws -> (TrainingSession, String) {
        let folder = TestSupport.temporaryDirectory()
        let session = try TrainingSession(config: TestSupport.tinyConfig(), dataset: dataset)
        try session.trainStep()
        try Checkpoint.save(session, to: folder)
        return (session, folder)
    }

    @Test func theFolderHoldsNamedTensorsAndTheConfig() throws {
        let (session, folder) = try savedRun()
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(files == ["config.json", "model.safetensors"])
        let archive = try SafeTensorsArchive(decoding: try AtomicFile.read(folder + "/model.safetensors"), source: "m")
        #expect(try archive.floats("net0.conv0.weight", shape: [4, 1, 3, 3], source: "m").count == 36)
        #expect(try archive.int64s("step", source: "m") == [1])
        #expect(try archive.floats("effective_masks", shape: [4, 8], source: "m") == session.model.effectiveMasks())
        #expect(try Checkpoint.loadConfig(from: folder) == session.config)
    }

    @Test func truncatedCorruptAndMismatchedCheckpointsAreNamed() throws {
        let (_, folder) = try savedRun()
        let path = folder + "/model.safetensors"
        let bytes = try AtomicFile.read(path)
        let fresh = { try TrainingSession(config: TestSupport.tinyConfig(), dataset: self.dataset) }

        try AtomicFile.write(Array(bytes.prefix(bytes.count - 100)), to: folder + "/cut.safetensors")
        let cut = #expect(throws: CSNError.self) { try Checkpoint.restore(try fresh(), from: folder + "/cut.safetensors") }
        #expect(cut?.description.contains("cut.safetensors: tensor") == true && cut?.description.contains("truncated") == true)

        let other = try TrainingSession(config: TestSupport.tinyConfig(.csnFixed), dataset: dataset)
        #expect(throws: CSNError("\(path): holds a csn-learned model, but the config says csn-fixed")) {
            try Checkpoint.restore(other, from: path)
        }

        var wider = TestSupport.tinyConfig()
        wider.widths = [4, 8, 16]
        let mismatch = #expect(throws: CSNError.self) { try Checkpoint.restore(try TrainingSession(config: wider, dataset: self.dataset), from: path) }
        #expect(mismatch?.description == "\(path): tensor 'net0.conv2.weight' has shape [8, 8, 3, 3], expected [16, 8, 3, 3]")

        var archive = try SafeTensorsArchive(decoding: bytes, source: "m")
        var weights = try archive.floats("net0.fc.bias", source: "m")
        weights[2] = .infinity
        archive.tensors["net0.fc.bias"] = SafeTensor(weights, shape: [8])
        try AtomicFile.write(archive.encoded(), to: folder + "/inf.safetensors")
        #expect(throws: CSNError("\(folder)/inf.safetensors: tensor 'net0.fc.bias' holds inf at index 2")) {
            try Checkpoint.restore(try fresh(), from: folder + "/inf.safetensors")
        }
        try AtomicFile.write(Array("{not json".utf8), to: folder + "/config.json")
        #expect(throws: CSNError.self) { try Checkpoint.loadConfig(from: folder) }
    }
}

@Suite struct TrainerTests {
    let dataset = TestSupport.dejavuDataset

    @Test func pauseResumeAndStopSaveTheRun() throws {
        let folder = TestSupport.temporaryDirectory()
        var config = TestSupport.tinyConfig(steps: 100_000)
        config.validateEvery = 20
        let trainer = Trainer(session: try TrainingSession(config: config, dataset: dataset), checkpointDirectory: folder, publishEvery: 1)
        trainer.start()
        try waitFor { trainer.snapshot.step >= 3 }
        trainer.pause()
        try waitFor { trainer.snapshot.state == .paused }
        let pausedAt = trainer.snapshot.step
        Thread.sleep(forTimeInterval: 0.2)
        #expect(trainer.session.step <= pausedAt + 1, "no training while paused")
        trainer.resume()
        try waitFor { trainer.snapshot.step > pausedAt + 2 }
        trainer.stop()
        let final = trainer.wait()
        #expect(final.state == .stopped)
        #expect(final.lossHistory.count == final.step && final.masks.count == 32)
        let restored = try TrainingSession(config: try Checkpoint.loadConfig(from: folder), dataset: dataset)
        try Checkpoint.restore(restored, from: folder + "/" + Checkpoint.modelFile)
        #expect(restored.step == trainer.session.step)
        #expect(restored.model.store.values.array == trainer.session.model.store.values.array)
    }

    @Test func divergenceKeepsTheLastGoodCheckpoint() throws {
        let folder = TestSupport.temporaryDirectory()
        let session = try TrainingSession(config: TestSupport.tinyConfig(steps: 50), dataset: dataset)
        try session.trainStep()
        try Checkpoint.save(session, to: folder)
        let good = try AtomicFile.read(folder + "/" + Checkpoint.modelFile)
        session.model.store.values[session.model.store.entry("net0.fc.bias").offset] = .nan
        let trainer = Trainer(session: session, checkpointDirectory: folder)
        trainer.start()
        let final = trainer.wait()
        guard case .diverged(let message) = final.state else {
            Issue.record("expected divergence, got \(final.state)")
            return
        }
        #expect(message.contains("training diverged at step 2"))
        #expect(try AtomicFile.read(folder + "/" + Checkpoint.modelFile) == good)
    }

    func waitFor(_ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(60)
        while !condition() {
            guard Date() < deadline else { throw CSNError("timed out") }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }
}
