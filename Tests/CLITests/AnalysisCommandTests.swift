import Basics
import CSN
import Datasets
import Foundation
import Testing
import TestSupport

/// `csn masks` and `csn neighbours` on a checkpoint trained for a few steps on the DejaVu data.
@Suite struct AnalysisCommandTests {
    static let checkpoint: String = {
        let folder = TestSupport.temporaryDirectory("csn-analysis") + "/run"
        let session = try! TrainingSession(config: TestSupport.tinyConfig(steps: 3), dataset: TestSupport.dejavuDataset)
        for _ in 0..<3 { try! session.trainStep() }
        try! Checkpoint.save(session, to: folder)
        return folder
    }()

    @Test func masksPrintsStatisticsAndAHeatmap() throws {
        let result = try TestSupport.runCSN(["masks", Self.checkpoint])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0] == "\(Self.checkpoint)/model.safetensors: csn-learned, 4 conditions x 8 dimensions")
        #expect(lines[1].hasPrefix("condition        L1  active  strongest dimensions"))
        // The heatmap: one line per condition, label then one ramp character per dimension.
        let start = lines.firstIndex { $0.hasPrefix("heatmap: ") }!
        let heat = Array(lines[(start + 1)...].prefix { !$0.hasPrefix("no sparsity history") })
        #expect(lines.last == "no sparsity history in metrics.jsonl (written for learned masks at each validation)")
        #expect(heat.count == 4 && heat[0].hasPrefix("character ") && heat[3].hasPrefix("slant "), "\(heat)")
        #expect(heat.allSatisfy { $0.count <= 10 + 8 && $0.unicodeScalars.allSatisfy(\.isASCII) }, "\(heat)")
    }

    @Test func neighboursUnderTheFontMaskListAndDraw() throws {
        let dataset = TestSupport.dejavuDataset
        let testFont = dataset.fonts.indices.first { dataset.splits[$0 * 62] == .test }!
        let result = try TestSupport.runCSN(["neighbours", Self.checkpoint, "--font", dataset.fonts[testFont].name,
                                             "--char", "g", "--condition", "font", "-k", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0] == "query \(testFont * 62 + 42): \(dataset.fonts[testFont].name)/g [test split, \(dataset.imageIndices(in: .test).count) images searched]")
        #expect(lines[1] == "under font:")
        #expect(lines[2].hasPrefix("  1  ") && lines[4].hasPrefix("  3  ") && !lines[5].hasPrefix("  4  "))
        #expect(result.stdout.contains("query            1                2                3"))

        // The same query by search.
        let searched = try TestSupport.runCSN(["neighbours", Self.checkpoint, "--query", "font:\(dataset.fonts[testFont].name) char:g",
                                               "--condition", "font", "-k", "3"])
        #expect(searched.status == 0 && searched.stdout == result.stdout, "\(searched.stderr)")
    }

    /// Runs side by side with an untrained network as the floor, on the embedding and on a
    /// convolution stage's features; fixed-pitch (no condition trains on it) by default on fonts.
    @Test func probeComparesRunsAndAnUntrainedFloor() throws {
        let result = try TestSupport.runCSN(["probe", Self.checkpoint, Self.checkpoint, "--random-init", "--attribute", "weight"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("unmasked embedding of ") && lines[1].hasSuffix("weight"), "\(lines)")
        #expect(lines[2].hasPrefix("run (csn-learned) ") && lines[2] == lines[3], "the same run twice gives the same row")
        #expect(lines[4].hasPrefix("untrained (csn-learned, seed 1) ") && lines[5].hasPrefix("majority share "))
        let conv = try TestSupport.runCSN(["probe", Self.checkpoint, "--features", "conv2"])
        #expect(conv.status == 0 && conv.stdout.hasPrefix("conv2 features (each channel averaged) of "), "\(conv.stdout)\(conv.stderr)")
        #expect(conv.stdout.split(separator: "\n")[1].hasSuffix("fixed-pitch      weight       slant"), "\(conv.stdout)")
        let missing = try TestSupport.runCSN(["probe", Self.checkpoint, "--features", "conv4"])
        #expect(missing.status != 0 && missing.stderr.contains("has 3 convolution stages, so there is no conv4"), "\(missing.stderr)")
    }

    /// family: a held-out attribute that leaves out the images of families seen in one split only.
    /// DejaVu's two test faces share no family with training, so the data is renamed: the test
    /// faces name families A and B, training faces alternate between them except one, of a family
    /// D that only training has. A dataset without two shared families gets a clear error, and a
    /// condition called family is probed as that condition.
    @Test func probeRecognisesFamiliesFromUnseenFaces() throws {
        let plain = try TestSupport.runCSN(["probe", Self.checkpoint, "--attribute", "family"])
        #expect(plain.status != 0 && plain.stderr.contains("family needs at least 2 font families with faces in both the training and the test split"), "\(plain.stderr)")

        var dataset = TestSupport.dejavuDataset
        let fontSplit = dataset.fonts.indices.map { f in dataset.splits[dataset.groups.firstIndex(of: Int32(f))!] }
        let testFonts = fontSplit.indices.filter { fontSplit[$0] == .test }
        let trainFonts = fontSplit.indices.filter { fontSplit[$0] == .train }
        #expect(testFonts.count == 2 && trainFonts.count >= 3)
        for f in dataset.fonts.indices {
            switch fontSplit[f] {
            case .test: dataset.fonts[f].family = f == testFonts[0] ? "A" : "B"
            case .train: dataset.fonts[f].family = f == trainFonts[0] ? "D" : (f % 2 == 0 ? "A" : "B")
            case .val: dataset.fonts[f].family = "C"
            }
        }
        let folder = TestSupport.temporaryDirectory()
        try dataset.save(to: folder + "/families.safetensors.gz")
        let images = 62, familyTrain = (trainFonts.count - 1) * images, allTrain = trainFonts.count * images
        let result = try TestSupport.runCSN(["probe", Self.checkpoint, "--data", folder + "/families.safetensors.gz",
                                             "--attribute", "family", "--attribute", "weight", "--balanced"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0].contains("(family \(familyTrain)/\(2 * images), weight \(allTrain)/\(2 * images))"), "\(lines[0])")
        #expect(lines[1].hasSuffix("family      weight"))
        let cells = lines[2].split(separator: " ")
        #expect(cells.count >= 2 && Double(cells[cells.count - 2]).map { (0...100).contains($0) } == true, "family is probed: \(lines[2])")
        let chance = lines[3].split(separator: " ")
        #expect(lines[3].hasPrefix("chance (1 / classes present)") && chance.dropLast().last == "50.0", "two families: \(lines[3])")
        let capped = try TestSupport.runCSN(["probe", Self.checkpoint, "--data", folder + "/families.safetensors.gz",
                                             "--attribute", "family", "--attribute", "weight", "--max-train", "100"])
        #expect(capped.stdout.contains("(family 100/\(2 * images), weight 100/\(2 * images))"), "\(capped.stdout)\(capped.stderr)")

        // A condition of the data named family is that condition (here weight's values, three of them).
        var named = TestSupport.dejavuDataset
        let weight = try named.conditionIndex(named: "weight")
        named.conditions[weight] = Condition(name: "family", valueNames: named.conditions[weight].valueNames, labels: named.conditions[weight].labels)
        try named.save(to: folder + "/named.safetensors.gz")
        let condition = try TestSupport.runCSN(["probe", Self.checkpoint, "--data", folder + "/named.safetensors.gz", "--attribute", "family"])
        #expect(condition.status == 0 && condition.stdout.contains("(family \(allTrain)/\(2 * images))"), "\(condition.stdout)\(condition.stderr)")
    }

    @Test func exportWritesProjectorFiles() throws {
        let folder = TestSupport.temporaryDirectory() + "/projector"
        let result = try TestSupport.runCSN(["export", Self.checkpoint, "--projector", folder, "--points", "50"])
        #expect(result.status == 0, "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(files == ["metadata.tsv", "projector_config.pbtxt", "vectors-character.tsv", "vectors-font.tsv",
                          "vectors-slant.tsv", "vectors-weight.tsv", "vectors.tsv"])
        let vectors = try String(contentsOfFile: folder + "/vectors-font.tsv", encoding: .utf8).split(separator: "\n")
        let metadata = try String(contentsOfFile: folder + "/metadata.tsv", encoding: .utf8).split(separator: "\n")
        #expect(vectors.count == 50 && metadata.count == 51 && vectors.allSatisfy { $0.split(separator: "\t").count == 8 })
        #expect(metadata[0] == "image\tcharacter\tfont\tweight\tslant")
    }

    /// `--projector` and `--embeddings` from one export hold the same vectors: each condition's
    /// Projector tensor is the embeddings file's vector times that condition's mask.
    @Test func projectorAndEmbeddingsExportsAgree() throws {
        let folder = TestSupport.temporaryDirectory()
        let result = try TestSupport.runCSN(["export", Self.checkpoint, "--projector", folder + "/projector", "--embeddings", folder + "/e.safetensors", "--points", "40"])
        #expect(result.status == 0, "\(result.stderr)")
        let archive = try SafeTensorsArchive(decoding: try AtomicFile.read(folder + "/e.safetensors"), source: "e")
        #expect(archive.metadata["format"] == "csn-embeddings/1")
        #expect(archive.metadata["conditions"] == #"["character","font","weight","slant"]"#)
        let embeddings = try archive.floats("embeddings", shape: [40, 8], source: "e")
        let masks = try archive.floats("masks", shape: [4, 8], source: "e")
        let index = try archive.int32s("image_index", shape: [40], source: "e")
        let metadata = try String(contentsOfFile: folder + "/projector/metadata.tsv", encoding: .utf8).split(separator: "\n")
        #expect(index.enumerated().allSatisfy { metadata[$0.offset + 1].hasPrefix(TestSupport.dejavuDataset.imageNames[Int($0.element)] + "\t") })
        for (c, name) in ["character", "font", "weight", "slant"].enumerated() {
            let path = folder + "/projector/vectors-\(name).tsv"
            let (values, dimension) = try VectorFile.read(try AtomicFile.read(path), source: path, numpy: false)
            #expect(dimension == 8 && values.count == 320)
            let worst = values.indices.map { abs(values[$0] - embeddings[$0] * masks[c * 8 + $0 % 8]) }.max() ?? 1
            #expect(worst < 1e-5, "\(name): \(worst)")
        }
        let config = try String(contentsOfFile: folder + "/projector/projector_config.pbtxt", encoding: .utf8)
        #expect(config.contains("tensor_name: \"font\"\n  tensor_path: \"vectors-font.tsv\"\n  metadata_path: \"metadata.tsv\""))
    }

    /// Vectors from another model, labelled by a Projector metadata.tsv whose image column names
    /// picture files: neighbours are listed with their values and drawn; a name leaving the
    /// folder is refused.
    @Test func neighboursOfEmbeddingsWithPicturesFromAFolder() throws {
        let folder = TestSupport.temporaryDirectory()
        try ImageFixtures.imageFolder(at: folder, count: 12)
        let names = (0..<12).map { i in i % 3 == 2 ? "images/\(ImageFixtures.shapes[i % 3])/img \(i).png" : "images/\(ImageFixtures.shapes[i % 3])/img\(i).jpg" }
        var archive = SafeTensorsArchive()
        archive.tensors["embeddings"] = SafeTensor((0..<48).map { Float(($0 / 4) % 3) + Float($0 % 4) / 100 }, shape: [12, 4])
        try AtomicFile.write(archive.encoded(), to: folder + "/e.safetensors")
        try AtomicFile.write("image\tshape\n" + names.enumerated().map { "\($1)\t\(ImageFixtures.shapes[$0 % 3])" }.joined(separator: "\n") + "\n",
                             to: folder + "/metadata.tsv")
        let result = try TestSupport.runCSN(["neighbours", "--embeddings", folder + "/e.safetensors", "--labels", folder + "/metadata.tsv",
                                             "--images", folder, "--index", "0", "-k", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let listed = result.stdout.split(separator: "\n").filter { $0.hasPrefix("  ") && $0.contains("[shape ") }
        #expect(listed.count == 3 && listed.allSatisfy { $0.contains("[shape disc]") }, "\(result.stdout)")
        #expect(result.stdout.contains("query"), "the pictures are drawn")
        try AtomicFile.write("image\tshape\n../outside.png\tcircle\n" + names.dropFirst().map { "\($0)\tcircle" }.joined(separator: "\n") + "\n",
                             to: folder + "/escape.tsv")
        let escape = try TestSupport.runCSN(["neighbours", "--embeddings", folder + "/e.safetensors", "--labels", folder + "/escape.tsv",
                                             "--images", folder, "--index", "0"])
        #expect(escape.status != 0 && escape.stderr.contains("is outside") && escape.stderr.contains("row 1 of"), "\(escape.stderr)")
    }

    /// An export never writes over the files it reads, and condition names never become paths.
    @Test func exportRefusesItsOwnInputs() throws {
        for target in ["model.safetensors", "config.json"] {
            let result = try TestSupport.runCSN(["export", Self.checkpoint, "--embeddings", Self.checkpoint + "/" + target.replacingOccurrences(of: "config.json", with: "x.safetensors")])
            if target == "model.safetensors" {
                #expect(result.status != 0 && result.stderr.contains("is one of the files this export reads"), "\(result.stderr)")
            } else {
                #expect(result.status == 0, "a new file in the run folder is fine: \(result.stderr)")
            }
        }
        let loaded = try TestSupport.runCSN(["eval", Self.checkpoint, "--last"])
        #expect(loaded.status == 0, "the run still opens: \(loaded.stderr)")
        let file = TestSupport.temporaryDirectory() + "/a-file"
        try AtomicFile.write("x", to: file)
        let blocked = try TestSupport.runCSN(["export", Self.checkpoint, "--projector", file + "/sub"])
        #expect(blocked.status != 0 && blocked.stderr.hasPrefix("Error: \(file)/sub: cannot be made a folder") && !blocked.stderr.contains("NSCocoaErrorDomain"), "\(blocked.stderr)")
    }

    @Test func watchOnceTakesStepsNoIntegerHolds() throws {
        let folder = TestSupport.temporaryDirectory()
        try AtomicFile.write(#"{"step": 1e300, "loss": 1}"# + "\n", to: folder + "/metrics.jsonl")
        let result = try TestSupport.runCSN(["watch", "--once", folder])
        #expect(result.status == 0 && result.stdout.contains("step 1e+300"), "\(result.stdout)\(result.stderr)")
    }

    /// A run the PyTorch trainer wrote (Tests/Fixtures/torch/run): csn's evaluation gives what
    /// PyTorch's own evaluation printed, and its embeddings file opens with no other argument.
    @Test func aRunWrittenByPyTorchEvaluatesAsPyTorchSaid() throws {
        let run = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/torch/run").path
        let result = try TestSupport.runCSN(["eval", run])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("csn-learned      66.00     61.50     65.00     49.50     60.50"), "\(result.stdout)")
        let neighbours = try TestSupport.runCSN(["neighbours", "--embeddings", run + "/embeddings.safetensors", "--index", "0", "-k", "2", "--condition", "font"])
        #expect(neighbours.status == 0 && neighbours.stdout.contains("[test split, 80 images searched]"), "\(neighbours.stdout)\(neighbours.stderr)")
    }

    /// Learned masks' sparsity is logged at each validation and printed as a history.
    @Test func masksPrintTheSparsityOverTraining() throws {
        let run = TestSupport.temporaryDirectory() + "/run"
        let trained = try TestSupport.runCSN(["train", "--headless", "--data", TestSupport.dejavuDatasetFile, "--widths", "4,8,8", "--dim", "8",
                                              "--batch", "8", "--steps", "4", "--validate-every", "2", "--out", run])
        #expect(trained.status == 0, "\(trained.stderr)")
        let result = try TestSupport.runCSN(["masks", run, "--ascii"])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let start = try #require(lines.firstIndex(of: "active dimensions (of 8) over training:"), "\(result.stdout)")
        #expect(lines[start + 1].hasPrefix("step ") && lines[start + 1].hasSuffix("slant"))
        #expect(lines[start + 2].hasPrefix("2 ") && lines[start + 3].hasPrefix("4 "), "\(lines.suffix(4))")
    }

    @Test func badQueriesAreNamed() throws {
        let cases: [([String], String)] = [
            (["neighbours", Self.checkpoint, "--index", "0", "--condition", "colour"], "Error: unknown condition 'colour'; this dataset has: character, font, weight, slant"),
            (["neighbours", Self.checkpoint], "Error: give the query as --index I, as --font F --char X, or as --query TEXT"),
            (["neighbours", Self.checkpoint, "--index", "0", "--query", "char:g"], "Error: give the query one way: --index, --font with --char, or --query"),
            (["neighbours", Self.checkpoint, "--query", "char:ß"], "Error: no character value matches 'ß'"),
            (["neighbours", Self.checkpoint, "--index", "99999"], "Error: --index 99999 is out of range"),
            (["neighbours", Self.checkpoint, "--font", "DejaVu Sans Mono Bold Oblique", "--char", "?"], "Error: --char '?' is not one of 0-9, A-Z, a-z"),
            (["masks", "/nonexistent-run"], "Error: /nonexistent-run: no such checkpoint folder"),
        ]
        for (arguments, expected) in cases {
            let result = try TestSupport.runCSN(arguments)
            #expect(result.status != 0, "\(arguments) exited 0")
            #expect(result.stderr.hasPrefix(expected), "\(arguments): \(result.stderr)")
        }
    }
}
