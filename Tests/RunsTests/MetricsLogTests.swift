import Basics
import Foundation
import Runs
import Testing
import TestSupport

@Suite struct MetricsLogTests {
    @Test func linesAreReadAsTheyArriveAndValidationIsNamedByTheConfig() throws {
        let folder = TestSupport.temporaryDirectory()
        try AtomicFile.write(#"{"conditionNames": ["character", "font"], "steps": 10}"#, to: folder + "/config.json")
        let path = folder + "/metrics.jsonl"
        try AtomicFile.write(#"{"step": 1, "loss": 0.5, "triplet": 0.4}"# + "\n" + #"{"step": 2, "loss": 0.3"#, to: path)
        let runs = RunWatcher.readOnce([folder])
        try #require(runs.count == 1)
        #expect(runs[0].series.points["loss"]?.map(\.step) == [1], "the unfinished second line is waited for")
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data((", \"triplet\": 0.2}\nnot json\n" + #"{"step": 3, "validation": [0.8, 0.7], "validation_mean": 0.75, "note": "text"}"# + "\n").utf8))
        handle.closeFile()
        let again = try #require(RunWatcher.readOnce([folder]).first)
        #expect(again.series.points["loss"]?.map(\.value) == [0.5, 0.3])
        #expect(again.series.latest("validation/font")?.value == 0.7)
        #expect(again.series.latest("validation/character")?.step == 3)
        #expect(again.skippedLines == 1)
        #expect(again.series.points["note"] == nil)
    }

    @Test func foldersOfRunsAreFoundWithoutFollowingLinks() throws {
        let root = TestSupport.temporaryDirectory()
        for name in ["a", "b/seed1", "b/seed2", "empty"] {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
        }
        try AtomicFile.write(#"{"step": 1, "loss": 1}"# + "\n", to: root + "/a/metrics.jsonl")
        try AtomicFile.write(EventFileTests.eventBytes(steps: [1]), to: root + "/b/seed1/events.out.tfevents.1.x")
        try AtomicFile.write(EventFileTests.eventBytes(steps: [2]), to: root + "/b/seed2/events.out.tfevents.1.x")
        // A link to a folder of runs elsewhere is not followed.
        let outside = TestSupport.temporaryDirectory()
        try AtomicFile.write(#"{"step": 1, "loss": 1}"# + "\n", to: outside + "/metrics.jsonl")
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: outside)
        #expect(RunWatcher.readOnce([root]).map(\.name) == ["a", "b/seed1", "b/seed2"])
        #expect(RunWatcher.readOnce([root + "/empty"]).isEmpty)
    }

    @Test func anEmptyFolderIsWaitedOnWithAMessage() throws {
        let root = TestSupport.temporaryDirectory()
        let watcher = RunWatcher(roots: [root], interval: 0.02)
        watcher.start()
        defer { watcher.stop() }
        let deadline = Date().addingTimeInterval(20)
        while watcher.snapshot.polls < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(watcher.snapshot.message?.hasPrefix("waiting for runs") == true)
        // A run that appears later is picked up (the folder search runs every 2 s).
        try AtomicFile.write(#"{"step": 7, "loss": 0.25}"# + "\n", to: root + "/metrics.jsonl")
        while watcher.snapshot.runs.isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(watcher.snapshot.runs.first?.series.latest("loss")?.step == 7)
        #expect(watcher.snapshot.message == nil)
    }

    @Test func metricsLinesFuzz() throws {
        let folder = TestSupport.temporaryDirectory()
        let valid = Array((#"{"step": 1, "loss": 0.5, "validation": [0.9, 0.8]}"# + "\n" + #"{"step": 2, "loss": 1e300, "mask": null}"# + "\n").utf8)
        let outcome = Fuzz.run("metrics lines", inputs: [valid], seed: 12) { bytes in
            try AtomicFile.write(bytes, to: folder + "/metrics.jsonl")
            var log = MetricsLog(path: folder + "/metrics.jsonl")
            var series = ScalarSeries()
            _ = try log.poll(into: &series)
            for points in series.points.values { #expect(points.allSatisfy { $0.step.isFinite && $0.value.isFinite }) }
        }
        #expect(outcome.rejected == 0, "\(outcome)")
    }
}
