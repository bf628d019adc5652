import Analysis
import ArgumentParser
import TUI
import Basics
import CSN
import Datasets
import Foundation

struct TSNECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tsne",
        abstract: "Map a condition's subspace (or any vectors) to 2-D with t-SNE.",
        discussion: """
        With a checkpoint: embeds a seeded sample of a split's images, applies the condition's mask \
        and maps the result; draws it in braille coloured by the condition's values, or writes x, y \
        and the labels with --out. With --input FILE (one vector a line, tab- or comma-separated, or \
        a 2-D float32/float64 .npy): maps those vectors; --out writes x, y per input line. Up to \
        1,000,000 points: the repulsion is summed exactly on small maps (below 12,000 points when \
        built for AVX-512, else 2,500), by Barnes-Hut up to 15,000 and FFT-interpolated from there \
        (FIt-SNE's method), and from 50,000 the nearest neighbours are approximate (a \
        random-projection forest refined by neighbours of neighbours); --method and --neighbours \
        choose for themselves.
        """
    )

    @Argument(help: "Run folder (omit with --input).")
    var checkpoint: String?

    @OptionGroup var weights: WeightsOptions

    @Option(help: "Vectors to map instead of a checkpoint's embeddings (.tsv, .csv, .txt or .npy).")
    var input: String?

    @Option(help: "Condition whose masked subspace to map, or 'none' for the unmasked embedding.")
    var condition: String?

    @Option(help: "Images to sample from the split.")
    var points = 2000

    @Option(name: .customLong("split"), help: "Split to sample: train, val or test (default: test)")
    var splitOption: Split?
    var split: Split { splitOption ?? .test }

    @Option(help: "Perplexity (3 x perplexity neighbours per point).")
    var perplexity: Double = 30

    @Option(help: "Gradient-descent iterations (250 of them with early exaggeration).")
    var iterations = 1000

    @Option(help: "Seed for the sample and the initialisation.")
    var seed: UInt64 = 1

    @Option(help: "Worker threads.")
    var threads = 2

    @Option(help: "Repulsion: auto (as above), exact (O(N^2): slow on large maps), bh (Barnes-Hut) or fft.")
    var method: TSNEConfig.Repulsion = .automatic

    @Option(help: "Nearest neighbours: auto (exact below 50,000 points), exact or approximate.")
    var neighbours: TSNEConfig.NeighbourSearch = .automatic

    @Option(help: "Write the map as CSV here instead of drawing it.")
    var out: String?

    @OptionGroup var output: AsciiOption

    func validate() throws {
        if (checkpoint == nil) == (input == nil) { throw ValidationError("give a checkpoint folder or --input FILE, not both or neither") }
        if checkpoint != nil && condition == nil { throw ValidationError("--condition is needed with a checkpoint (or 'none')") }
        guard (2...10_000_000).contains(points) else { throw ValidationError("--points must be between 2 and 10000000, not \(points)") }
        guard (1...1_000_000).contains(iterations) else { throw ValidationError("--iterations must be between 1 and 1000000, not \(iterations)") }
        guard (1...TrainingConfig.maxThreads).contains(threads) else { throw ValidationError("--threads must be between 1 and \(TrainingConfig.maxThreads), not \(threads)") }
        guard perplexity.isFinite, perplexity >= 1, perplexity <= 10_000 else { throw ValidationError("--perplexity must be between 1 and 10000, not \(perplexity)") }
    }

    func run() throws {
        var config = TSNEConfig()
        config.perplexity = perplexity
        config.seed = seed
        config.threads = threads
        config.repulsion = method
        config.neighbours = neighbours
        let (vectors, dimension, labels, rowNames) = try input.map { try readVectors($0) } ?? embedCheckpoint()
        let started = Date()
        let preparation = PreparationProgress()
        let tsne = try TSNE(points: vectors, dimension: dimension, config: config, progress: preparation.report)
        preparation.finish()
        let progress = Progress("t-SNE", unit: "iterations", total: iterations)
        var lastKL = Double.nan
        tsne.optimize(iterations: iterations, progress: { event in
            if case .klDivergence(let iteration, let kl) = event {
                lastKL = kl
                progress.advance(to: iteration, of: iterations)
            }
        })
        progress.finish("KL divergence \(String(format: "%.4f", lastKL)) after \(tsne.iteration) iterations")
        let seconds = Date().timeIntervalSince(started)
        let kl = tsne.currentKLDivergence()
        let n = vectors.count / dimension
        let layout = tsne.layout
        guard layout.allSatisfy(\.isFinite), kl.isFinite else {
            throw CSNError("t-SNE diverged (the map holds non-finite coordinates); nothing was written")
        }
        if let out {
            var csv = "x,y" + (rowNames.isEmpty ? "" : "," + rowNames.joined(separator: ",")) + "\n"
            for i in 0..<n {
                csv += "\(layout[2 * i]),\(layout[2 * i + 1])" + (labels.isEmpty ? "" : "," + labels[i].map(csvField).joined(separator: ",")) + "\n"
            }
            try AtomicFile.write(csv, to: out)
            print("wrote \(out): \(n) points, KL divergence \(String(format: "%.4f", kl)) after \(tsne.iteration) iterations in \(String(format: "%.2f", seconds)) s")
            return
        }
        let shortfall = checkpoint != nil && n < points ? " (the whole \(split) split; \(points) asked for)" : ""
        print("\(n) points\(shortfall), KL divergence \(String(format: "%.4f", kl)) (last reported \(String(format: "%.4f", lastKL))), \(String(format: "%.2f", seconds)) s")
        let colourColumn = labels.isEmpty ? nil : (condition.flatMap { name in rowNames.firstIndex(of: name) } ?? 0)
        var ids: [Int] = Array(repeating: 0, count: n)
        var legend: [String] = []
        if let colourColumn {
            var seen: [String: Int] = [:]
            for i in 0..<n {
                let value = labels[i][colourColumn]
                if seen[value] == nil { seen[value] = seen.count; legend.append(value) }
                ids[i] = seen[value]!
            }
        }
        let width = max(20, Terminal.width - 2), height = max(10, width / 4)
        let colour = Terminal.isInteractive && !output.ascii
        let palette = Colour.categorical
        var buffer = CellBuffer(width: width, height: height)
        Scatter(x: (0..<n).map { layout[2 * $0] }, y: (0..<n).map { layout[2 * $0 + 1] },
                colours: ids.map { palette[$0 % palette.count] }, ascii: output.ascii).render(in: buffer.bounds, into: &buffer)
        print(buffer.text(colour: colour), terminator: "")
        if !legend.isEmpty {
            var key = CellBuffer(width: 4000, height: 1)
            var x = key.write("colour by \(rowNames[colourColumn!]): ", x: 0, y: 0)
            for (k, name) in legend.prefix(palette.count).enumerated() {
                x = key.write(colour ? "\u{2588} " : "\(k): ", x: x, y: 0, style: Style(foreground: palette[k]))
                x = key.write(name + "  ", x: x, y: 0)
            }
            if legend.count > palette.count { key.write("(\(legend.count) values; colours repeat)", x: x, y: 0) }
            print(key.text(colour: colour), terminator: "")
        }
    }

    private func csvField(_ text: String) -> String {
        text.contains(",") || text.contains("\"") ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// Masked embeddings of a seeded sample of the split, with each image's name and values.
    private func embedCheckpoint() throws -> ([Float], Int, [[String]], [String]) {
        guard let checkpoint, let condition else { throw CSNError("give a run folder and --condition, or --input FILE") }
        let saved = try weights.open(checkpoint)
        let dataset = saved.dataset, model = saved.model
        let c: Int? = condition == "none" ? nil : try dataset.conditionIndex(named: condition)
        let sample = dataset.sample(points, from: split, seed: seed)
        let d = model.shape.embeddingDimension
        let vectors = Evaluator.maskedEmbeddings(sample, model: model, condition: c, dataset: dataset)
        let labels = sample.map { image in [dataset.imageNames[Int(image)]] + dataset.conditions.map { $0.valueNames[Int($0.labels[Int(image)])] } }
        return (vectors, d, labels, ["image"] + dataset.conditions.map(\.name))
    }

    /// One vector a line (tab, comma or space separated), or a 2-D .npy of float32/float64.
    private func readVectors(_ path: String) throws -> ([Float], Int, [[String]], [String]) {
        let (values, dimension) = try VectorFile.read(try AtomicFile.read(path), source: path, numpy: path.hasSuffix(".npy"))
        return (values, dimension, [], [])
    }
}

extension TSNEConfig.Repulsion: ExpressibleByArgument {}
extension TSNEConfig.NeighbourSearch: ExpressibleByArgument {}

/// Progress of t-SNE's preparation (nearest neighbours, then the affinities), one bar a stage.
private final class PreparationProgress {
    private var current: (stage: AffinityMatrix.Stage, bar: Progress)?

    func report(_ stage: AffinityMatrix.Stage, _ done: Int, _ total: Int) {
        if current?.stage != stage {
            current?.bar.finish()
            current = (stage, Progress("t-SNE \(stage.rawValue)", unit: "steps", total: total))
        }
        current?.bar.advance(to: done, of: total)
    }

    func finish() {
        current?.bar.finish()
        current = nil
    }
}
