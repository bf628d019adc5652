import Basics
import Foundation
import Runs
import Testing
import TestSupport

/// The defects the hostile-input harness found in reading runs and vectors, kept fixed.
@Suite struct HostileRunInputTests {
    @Test func pathsOfOneCharacterHaveAFolder() {
        #expect(PathText.folder(of: "e") == "." && PathText.name(of: "e") == "e")
        #expect(PathText.folder(of: "P/") == "." && PathText.name(of: "P/") == "P")
        #expect(PathText.folder(of: "/e") == "/" && PathText.folder(of: "a/b/c") == "a/b")
        #expect(PathText.name(of: "/") == "/")
    }

    @Test func stepsBeyondAnyIntegerAreShownNotTrapped() {
        #expect(ScalarSeries.stepText(1e300) == "1e+300")
        #expect(ScalarSeries.stepText(-3) == "-3")
        #expect(ScalarSeries.stepText(9.3e18) == "9.3e+18")
        #expect(ScalarSeries.stepText(Double(Int64.max)) == "9.223372036854776e+18")
    }

    @Test func aFinishedRunIsReadPastChunksWithoutScalarsAndItsLastLineWithoutANewline() throws {
        let folder = TestSupport.temporaryDirectory()
        let garbage = String(repeating: "x", count: 1023) + "\n"
        var text = String(repeating: garbage, count: GrowingFile.chunkBytes / 1024 + 4)
        text += #"{"step": 3, "loss": 0.5}"# + "\n" + #"{"step": 4, "loss": 0.25}"#
        try AtomicFile.write(text, to: folder + "/metrics.jsonl")
        let run = try #require(RunWatcher.readOnce([folder]).first)
        #expect(run.series.points["loss"]?.map(\.step) == [3, 4])
        #expect(run.skippedLines == GrowingFile.chunkBytes / 1024 + 4)
        // The same folder named twice is one run.
        #expect(RunWatcher.readOnce([folder, folder + "/"]).count == 1)
    }

    @Test func aFileThatShrinksOrIsReplacedIsReadAgainFromTheStart() throws {
        let path = TestSupport.temporaryDirectory() + "/metrics.jsonl"
        try AtomicFile.write(#"{"step": 1, "loss": 1}"# + "\n" + #"{"step": 2, "loss": 2}"# + "\n", to: path)
        var log = MetricsLog(path: path)
        var series = ScalarSeries()
        _ = try log.poll(into: &series)
        #expect(series.points["loss"]?.count == 2)
        // Replaced by a new file (another inode) holding other values: the old points go.
        try AtomicFile.write(#"{"step": 5, "acc": 0.5}"# + "\n", to: path)
        #expect(try log.poll(into: &series))
        #expect(series.points["loss"] == nil && series.latest("acc")?.step == 5)
    }

    @Test func aLineTooLongIsSkippedOnceWithItsTail() throws {
        let folder = TestSupport.temporaryDirectory()
        let long = #"{"step": 1, "pad": ""# + String(repeating: "x", count: MetricsLog.maxLineBytes + 10) + #"", "step": 99, "bogus": 7}"#
        try AtomicFile.write(long + "\n" + #"{"step": 2, "loss": 0.5}"# + "\n", to: folder + "/metrics.jsonl")
        let run = try #require(RunWatcher.readOnce([folder]).first)
        #expect(run.series.points["bogus"] == nil && run.series.latest("loss")?.step == 2)
        #expect(run.skippedLines == 1)
    }

    @Test func aSearchThatStopsSaysWhy() throws {
        let root = TestSupport.temporaryDirectory()
        var path = root
        for level in 0..<8 { path += "/d\(level)" }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try AtomicFile.write(#"{"step": 1, "loss": 1}"# + "\n", to: path + "/metrics.jsonl")
        #expect(RunWatcher.readOnce([root]).isEmpty)
        #expect(RunWatcher.searchLimits([root])?.contains("more than 6 levels down were not searched") == true)
        // A link named as the path is followed: to a run's file, it is that run.
        let link = TestSupport.temporaryDirectory() + "/link.jsonl"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path + "/metrics.jsonl")
        try FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: PathText.folder(of: link) + "/metrics.jsonl", withDestinationPath: path + "/metrics.jsonl")
        #expect(RunWatcher.readOnce([PathText.folder(of: link) + "/metrics.jsonl"]).first?.series.latest("loss")?.step == 1)
    }

    @Test func projectorNamesAreSafeFilesAndTheImageColumnIsNeverShadowed() throws {
        #expect(ProjectorNames.files(for: ["a/b", "../../evil", "a_b", ""]) == ["vectors-a_b.tsv", "vectors-______evil.tsv", "vectors-a_b-2.tsv", "vectors-_.tsv"])
        #expect(ProjectorNames.nameColumn(avoiding: ["image", "tone"]) == "name")
        #expect(ProjectorNames.quoted("say \"hi\"\\") == #""say \"hi\"\\""#)
        // A one-line config, with an escaped quote in a name and a block csn does not read.
        let folder = TestSupport.temporaryDirectory()
        try AtomicFile.write("1\t2\n3\t4\n", to: folder + "/v.tsv")
        try AtomicFile.write(#"embeddings { tensor_name: "a \"b\"" tensor_path: "v.tsv" sprite { image_path: "s.png" } }"#, to: folder + "/projector_config.pbtxt")
        let table = try EmbeddingTable.read(folder)
        #expect(table.rows == 2 && table.dimension == 2)
    }

    @Test func hugeValuesRepeatedNamesAndCompressedFilesAreRefused() throws {
        let folder = TestSupport.temporaryDirectory()
        func error(_ bytes: [UInt8], name: String) -> String {
            do {
                try AtomicFile.write(bytes, to: folder + "/" + name)
                _ = try EmbeddingTable.read(folder + "/" + name)
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(error(Array("1\t3e38\n".utf8), name: "v.tsv").contains("too large for distances"))
        var archive = SafeTensorsArchive()
        archive.tensors["embeddings"] = SafeTensor([Float](repeating: 1, count: 8), shape: [2, 4])
        archive.tensors["masks"] = SafeTensor([Float](repeating: 1, count: 8), shape: [2, 4])
        archive.metadata = ["conditions": #"["shape","shape"]"#]
        #expect(error(archive.encoded(), name: "twice.st").contains("names a condition twice"), "read as safetensors whatever its name")
        #expect(error(Gzip.compress(archive.encoded()), name: "e.safetensors.gz").contains("gzip-compressed"))
    }
}
