import Foundation
import Testing
import TestSupport

/// `csn train --headless` and `csn eval`, run as a person would.
@Suite struct TrainCommandTests {
    let data = TestSupport.dejavuDatasetFile
    var tiny: [String] { ["--data", data, "--widths", "4,8,8", "--dim", "8", "--batch", "8"] }

    @Test func trainResumeAndEvalEndToEnd() throws {
        let out = TestSupport.temporaryDirectory() + "/run"
        let trained = try TestSupport.runCSN(["train", "--headless"] + tiny + ["--steps", "4", "--validate-every", "2", "--mask-mean", "0.45", "--mask-std", "0.35", "--out", out])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("test triplet accuracy (best validation checkpoint, 1500 triplets):"))
        #expect(trained.stdout.contains("accuracy (%) character      font    weight     slant      mean"))
        // Without a terminal: a start line, then one plain log line per validation, no carriage returns.
        let all = trained.stdout.split(separator: "\n")
        #expect(all[0].hasPrefix("training csn-learned on dejavu.safetensors.gz (") && all[0].contains("steps 1 to 4 of 8 triplets"), "\(all[0])")
        let lines = Array(all.dropFirst())
        #expect(lines[0].hasPrefix("step 2/4 val ") && lines[1].hasPrefix("step 4/4 val ") && !trained.stdout.contains("\r"), "\(lines)")
        #expect(lines[0].contains("(character ") && lines[0].contains("slant -)"))
        let config = try String(contentsOfFile: out + "/config.json", encoding: .utf8)
        #expect(config.contains("\"maskMean\" : 0.45") && config.contains("\"maskStd\" : 0.35"), "the start given: \(config)")
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: out))
        #expect(files == ["config.json", "model.safetensors", "best.safetensors", "metrics.jsonl"])
        let metrics = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(metrics.count == 2 && metrics[0].contains("\"validation_mean\""))

        let again = try TestSupport.runCSN(["train", "--headless"] + tiny + ["--steps", "4", "--out", out])
        #expect(again.status != 0)
        #expect(again.stderr.hasPrefix("Error: --out \(out) already holds a checkpoint; use --resume \(out) to continue it"))

        let resumed = try TestSupport.runCSN(["train", "--headless", "--resume", out, "--steps", "6"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.hasPrefix("resuming csn-learned from step 4 of 6"))

        let evaluated = try TestSupport.runCSN(["eval", out, "--split", "val", "--last"])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        #expect(evaluated.stdout.hasPrefix("\(out)/model.safetensors: csn-learned, step 6, val split, 1500 triplets"))
        #expect(evaluated.stdout.contains("csn-learned "))
    }

    @Test func ctrlCStopsCleanlyAndSaves() throws {
        let out = TestSupport.temporaryDirectory() + "/run"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestSupport.csnBinary)
        process.arguments = ["train", "--headless"] + tiny + ["--steps", "100000", "--out", out]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = Pipe()
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: out + "/model.safetensors") && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 1)
        kill(process.processIdentifier, SIGINT)
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("stopped at step "), "\(output)")
        #expect(output.contains("test triplet accuracy"))
    }

    @Test func compareLabelsTheMaskInitialisation() throws {
        let out = TestSupport.temporaryDirectory() + "/compare"
        let result = try TestSupport.runCSN(["compare", "--data", data, "--budget", "8", "--batch", "8", "--models", "csn-learned",
                                             "--mask-init", "disjoint", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        let table = result.stdout.split(separator: "\n").drop { !$0.hasPrefix("error (%)") }
        #expect(table.dropFirst().first?.hasPrefix("csn-learned (disjoint init) ") == true, "\(result.stdout)")
    }

    /// Seeds, pools, embedding sizes and mask settings: a table with spreads per setting, the
    /// chart against the pool size, the summary against D, and every run in the CSV.
    @Test func compareSweepsSeedsPoolsSizesAndMaskSettings() throws {
        let folder = TestSupport.temporaryDirectory()
        let result = try TestSupport.runCSN(["compare", "--data", data, "--budget", "8", "--batch", "8", "--models", "csn-learned",
                                             "--seeds", "1,2", "--train-triplets", "8,16", "--dims", "4,8", "--mask-lr-scale", "10",
                                             "--mask-init", "uniform", "--csv", folder + "/runs.csv", "--out", folder + "/compare"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("pool of 16 training triplets, D = 8:"), "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("csn-learned (uniform init, mask lr x10) (2) ") && $0.contains(" ± ") })
        #expect(lines.contains { $0.hasPrefix("mean test error (%) against the training-pool size, D = 4") })
        #expect(lines.contains { $0.hasPrefix("mean test error (%) against the embedding size D, pool 8") })
        let csv = try String(contentsOfFile: folder + "/runs.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + 2 * 2 * 2, "\(csv.count) lines")
        #expect(csv[0] == "model,seed,train_triplets,dim,error_character,error_font,error_weight,error_slant,error_mean,folder")
        // The pool is drawn once per seed: every model of a seed trains on the same triplets.
        let config = try String(contentsOfFile: folder + "/compare/seed2/pool16/dim8/csn-learned-uniforminit-masklrx10/config.json", encoding: .utf8)
        #expect(config.contains("\"maskLearningRateScale\" : 10") && config.contains("\"trainTriplets\" : 16") && config.contains("\"maskInitialization\" : \"uniform\""), "\(config)")
    }

    @Test func badOptionsAndCheckpointsAreNamed() throws {
        let cases: [([String], String)] = [
            (["train", "--headless", "--lr=-1"], "Error: --lr: the learning rate must be a positive number, not -1.0"),
            (["train", "--headless", "--steps", "0"], "Error: --steps: the number of steps must be between 1 and 1000000000, not 0"),
            (["train", "--headless", "--steps", "5", "--epochs", "1"], "Error: give either --steps or --epochs, not both"),
            (["train", "--headless", "--widths", "8,x"], "Error: --widths must be 1 to 6 integers between 1 and 4096 separated by commas, not '8,x'"),
            (["train", "--headless", "--model", "siamese"], "Error: The value 'siamese' is invalid for '--model <model>'"),
            (["train", "--headless", "--data", "/nonexistent.gz"], "Error: /nonexistent.gz: no such file"),
            (["eval", "/nonexistent-run"], "Error: /nonexistent-run: no such checkpoint folder"),
            (["eval", "/tmp", "--split", "train"], "Error: --split must be val or test: the train split has no fixed triplets"),
            (["compare", "--budget", "10", "--batch", "64"], "Error: --budget (10) must be at least --batch (64)"),
            (["compare", "--seeds", "1,x"], "Error: --seeds: 'x' is not a seed (a whole number from 0)"),
            (["compare", "--train-triplets", "64,,128"], "Error: --train-triplets: '' is not a pool size between --batch (64) and 100000000"),
            (["compare", "--mask-lr-scale", "0"], "Error: --mask-lr-scale: '0' is not a factor above 0 and at most 10000"),
            (["compare", "--seed", "1", "--seeds", "2"], "Error: give --seed or --seeds, not both"),
            (["compare", "--seeds", "1,2,1"], "Error: --seeds gives '1' twice"),
            (["compare", "--models", ""], "Error: --models must name one or more models separated by commas, not ''"),
            (["train", "--headless", "--widths", "4,,8"], "Error: --widths must be 1 to 6 integers between 1 and 4096 separated by commas, not '4,,8'"),
            (["train", "--headless", "--epochs", "inf"], "Error: --epochs must be a positive number up to 1000000, not inf"),
            (["train", "--headless", "--mask-mean", "1e9"],
             "Error: --mask-mean/--mask-std: the mask start N(1e+09, 0.7) needs a mean between -100 and 100 and a standard deviation between 0 and 100"),
            (["train", "--headless", "--mask-std", "nan"], "Error: --mask-mean/--mask-std: the mask start N(0.9, nan) needs a mean"),
        ]
        for (arguments, expected) in cases {
            let result = try TestSupport.runCSN(arguments)
            #expect(result.status != 0, "\(arguments) exited 0")
            #expect(result.stderr.hasPrefix(expected), "\(arguments): \(result.stderr)")
        }
    }

    /// The UI's key help comes from the table the UI decodes keys with: exploring lists no pause or save.
    @Test func keyHelpFollowsTheMode() throws {
        let explore = try TestSupport.runCSN(["explore", "--help"])
        let train = try TestSupport.runCSN(["ui", "--help"])
        #expect(explore.stdout.contains("  c / C           next / previous condition"), "\(explore.stdout)")
        #expect(!explore.stdout.contains("pause or resume training") && !explore.stdout.contains("save a checkpoint"))
        #expect(explore.stdout.contains("  q, Ctrl-C       quit\n") || explore.stdout.hasSuffix("  q, Ctrl-C       quit"), "\(explore.stdout)")
        #expect(train.stdout.contains("  space           pause or resume training"), "\(train.stdout)")
        #expect(train.stdout.contains("  q, Ctrl-C       quit (saves a checkpoint)"))
    }

    /// Piped, long work says what it starts and how far it got: training's first line comes at once.
    @Test func pipedTrainingStartsWithALine() throws {
        let out = TestSupport.temporaryDirectory() + "/run"
        let result = try TestSupport.runCSN(["train", "--headless"] + tiny + ["--steps", "2", "--out", out])
        #expect(result.stdout.hasPrefix("training csn-learned on dejavu.safetensors.gz ("), "\(result.stdout)")
        #expect(result.stdout.split(separator: "\n").first?.hasSuffix("; checkpoints in \(out)") == true)
    }
}
