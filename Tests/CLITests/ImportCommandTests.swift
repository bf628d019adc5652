import Basics
import Foundation
import Testing
import TestSupport

/// `csn data import`, `zappos`, `import-triplets` and `export-triplets`, then training on the result.
@Suite struct ImportCommandTests {
    let tiny = ["--widths", "4,8,8", "--dim", "8", "--batch", "8", "--steps", "4", "--validate-every", "2"]

    @Test func importThenTrainAndEvaluate() throws {
        let directory = TestSupport.temporaryDirectory()
        let csv = try ImageFixtures.imageFolder(at: directory, count: 60)
        let out = directory + "/shapes.safetensors.gz"
        let imported = try TestSupport.runCSN(["data", "import", "--images", directory, "--attributes", csv,
                                               "--conditions", "shape,tone,height", "--ordinal", "height:1",
                                               "--split-column", "product", "--triplets", "100", "--out", out])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("imported 60 images"))
        // Piped: the progress starts with a line and ends with one, on standard error.
        #expect(imported.stderr.hasPrefix("reading images: 60 images\n") && imported.stderr.contains("reading images: 60 images in "), "\(imported.stderr)")
        #expect(imported.stdout.contains("wrote \(out): 60 images of 32x32 grey"))
        #expect(imported.stdout.contains("conditions: shape (3 values), tone (2 values), height (4 values, ordinal, alike within 1)"))

        let run = directory + "/run"
        let trained = try TestSupport.runCSN(["train", "--headless", "--data", out, "--out", run] + tiny)
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("accuracy (%)    shape     tone   height     mean"), "\(trained.stdout)")
        let evaluated = try TestSupport.runCSN(["eval", run])
        #expect(evaluated.status == 0 && evaluated.stdout.contains("csn-learned "), "\(evaluated.stderr)")
        let stats = try TestSupport.runCSN(["data", "stats", "--data", out])
        #expect(stats.status == 0 && stats.stdout.contains("condition height: 4 values, ordinal, alike within 1"), "\(stats.stdout)")
        let shown = try TestSupport.runCSN(["data", "show", "--data", out, "--query", "shape:disc tone:dark", "--count", "2", "--ascii"])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.hasPrefix("10 image(s) match 'shape:disc tone:dark'; showing 2\n"), "\(shown.stdout)")
        #expect(shown.stdout.contains("shape=disc tone=dark height="))
    }

    /// The same picture under other names (as icon themes alias icons with links): counted when
    /// the copies fall in different splits, and kept once with --dedup.
    @Test func exactDuplicatesAcrossSplitsAreFoundAndDropped() throws {
        let directory = TestSupport.temporaryDirectory()
        let csv = try ImageFixtures.imageFolder(at: directory, count: 60)
        var rows = try String(contentsOfFile: csv, encoding: .utf8)
        // Twenty aliases of the first images, each its own product (so its own split group).
        for i in 0..<20 {
            let source = "images/\(ImageFixtures.shapes[i % 3])/" + (i % 3 == 2 ? "img \(i).png" : "img\(i).jpg")
            let alias = "images/alias\(i)" + (i % 3 == 2 ? ".png" : ".jpg")
            try FileManager.default.createSymbolicLink(atPath: directory + "/" + alias, withDestinationPath: directory + "/" + source)
            rows += "\(alias),\(ImageFixtures.shapes[i % 3]),\(ImageFixtures.tones[(i / 3) % 2]),\(1 + (i / 6) % 4),alias\(i)\n"
        }
        try AtomicFile.write(rows, to: csv)
        let base = ["data", "import", "--images", directory, "--attributes", csv, "--conditions", "shape,tone", "--split-column", "product", "--triplets", "50"]
        let warned = try TestSupport.runCSN(base + ["--out", directory + "/a.safetensors.gz"])
        #expect(warned.status == 0, "\(warned.stderr)")
        #expect((warned.stdout + warned.stderr).contains("group(s) of exact duplicates lie in more than one split"), "\(warned.stdout)\(warned.stderr)")
        let deduped = try TestSupport.runCSN(base + ["--dedup", "--out", directory + "/b.safetensors.gz"])
        #expect(deduped.status == 0, "\(deduped.stderr)")
        #expect((deduped.stdout + deduped.stderr).contains("--dedup: 20 exact duplicate image(s) left out, one of each of 20 group(s) kept"), "\(deduped.stdout)\(deduped.stderr)")
        #expect(deduped.stdout.contains("wrote \(directory)/b.safetensors.gz: 60 images"), "\(deduped.stdout)")
    }

    @Test func zapposInColourAtSixtyFourPixels() throws {
        let root = TestSupport.temporaryDirectory()
        try ImageFixtures.zapposTree(at: root, count: 60)
        let out = root + "/zappos.safetensors.gz"
        let imported = try TestSupport.runCSN(["data", "zappos", "--root", root, "--color", "--size", "64", "--triplets", "50", "--out", out])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("left out 1 meta-data row(s): blank or unreadable HeelHeight"))
        #expect(imported.stdout.contains("left out 1 meta-data row(s): no image for the CID"))
        #expect(imported.stdout.contains("wrote \(out): 59 images of 64x64 RGB"))
        #expect(imported.stdout.contains("conditions: Category (3 values), Gender (3 values), HeelHeight (6 values, ordinal, alike within 1), Closure (3 values)"))
        // The network grows a fourth stage for 64x64 and takes three input channels.
        let trained = try TestSupport.runCSN(["train", "--headless", "--data", out, "--out", root + "/run",
                                              "--widths", "4,4,8,8", "--dim", "8", "--batch", "8", "--steps", "2", "--validate-every", "2"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let weights = try SafeTensorsArchive(decoding: AtomicFile.read(root + "/run/model.safetensors"), source: "model")
        #expect(weights.tensors["net0.conv0.weight"]?.shape == [4, 3, 3, 3])
        #expect(weights.tensors["net0.conv3.weight"]?.shape == [8, 8, 3, 3])
    }

    @Test func theOriginalTripletFilesRoundTripAndTrain() throws {
        let folder = TestSupport.temporaryDirectory() + "/lists"
        let exported = try TestSupport.runCSN(["data", "export-triplets", "--data", TestSupport.dejavuDatasetFile, "--out", folder,
                                               "--with-images", "--train-per-condition", "30"])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder + "/images/000000.png"))
        let out = folder + "/lists.safetensors.gz"
        let imported = try TestSupport.runCSN(["data", "import-triplets", "--filenames", folder + "/filenames.json",
                                               "--triplets", folder, "--images", folder, "--out", out])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("triplets: 120 train, "), "\(imported.stdout)")
        let trained = try TestSupport.runCSN(["train", "--headless", "--data", out, "--out", folder + "/run"] + tiny)
        #expect(trained.status == 0, "\(trained.stderr)")
    }

    @Test func badInputExitsNonZeroAndWritesNothing() throws {
        let directory = TestSupport.temporaryDirectory()
        let csv = try ImageFixtures.imageFolder(at: directory, count: 24)
        let out = directory + "/never.safetensors.gz"
        let cases: [([String], String)] = [
            (["--conditions", "shape,colour"], "Error: \(csv): no column 'colour'; the header has: file, shape, tone, height, product"),
            (["--conditions", "shape", "--ordinal", "height"], "Error: --ordinal 'height' must be NAME:THRESHOLD with a threshold of at least 0, e.g. heel:1"),
            (["--conditions", "shape", "--ordinal", "height:1"], "Error: --ordinal names 'height', which is not one of --conditions (shape)"),
            (["--conditions", "shape", "--size", "48"], "Error: --size must be 32 or 64, not 48"),
            (["--conditions", "shape", "--path-column", "path"], "Error: \(csv): no column 'path'; the header has: file, shape, tone, height, product"),
        ]
        for (arguments, message) in cases {
            let result = try TestSupport.runCSN(["data", "import", "--images", directory, "--attributes", csv, "--out", out] + arguments)
            #expect(result.status != 0 && result.stderr.hasPrefix(message), "\(arguments): \(result.stderr)")
        }
        // --out never replaces an input or any file that is not a dataset: the CSV, an image.
        let image = try #require(FileManager.default.subpaths(atPath: directory)?.first { $0.hasSuffix(".png") || $0.hasSuffix(".jpg") })
        for target in [csv, directory + "/" + image] {
            let before = try AtomicFile.read(target)
            let result = try TestSupport.runCSN(["data", "import", "--images", directory, "--attributes", csv, "--conditions", "shape", "--out", target])
            #expect(result.status != 0 && result.stderr.contains("--out \(target) "), "\(result.stderr)")
            #expect(try AtomicFile.read(target) == before, "\(target) was changed")
        }
        let missing = try TestSupport.runCSN(["data", "import", "--images", directory + "/nowhere", "--attributes", csv, "--conditions", "shape", "--out", out])
        #expect(missing.status != 0 && missing.stderr.hasPrefix("Error: \(directory)/nowhere: no such folder"), "\(missing.stderr)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("never") }
        #expect(leftovers.isEmpty)
    }
}
