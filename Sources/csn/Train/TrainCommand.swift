import ArgumentParser
import Basics
import CSN
import Datasets
import Dispatch
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model; --headless prints progress instead of opening the terminal UI.",
        discussion: """
        Writes a checkpoint folder (--out): config.json, model.safetensors (every --checkpoint-every \
        steps and on stop), best.safetensors (best validation accuracy) and metrics.jsonl. Ctrl-C stops \
        cleanly and saves. --resume DIR continues a run exactly where it stopped.
        """
    )

    @Flag(help: "Print progress (a progress bar on a terminal, log lines otherwise) instead of the UI.")
    var headless = false

    @OptionGroup var options: TrainingOptions

    @Option(help: "Checkpoint folder; default runs/MODEL-DATE-TIME.")
    var out: String?

    @Option(help: "Continue the run saved in this checkpoint folder (its config is used; --steps may extend it).")
    var resume: String?

    func run() throws {
        // Signals first: a Ctrl-C while the data loads stops the run as soon as it exists.
        let stop = StopTarget()
        let signals = StopSignals { stop.fire() }
        defer { signals.restore() }
        let (session, folder) = try makeSession()
        let directory = folder.path
        defer { withExtendedLifetime(folder) {} }
        let trainer = Trainer(session: session, checkpointDirectory: directory)
        let final = HeadlessRun.run(trainer, stop: stop)
        switch final.state {
        case .diverged(let message), .failed(let message):
            throw CSNError("\(message)\nthe last good checkpoint stays in \(directory)")
        default: break
        }
        // The final table: test accuracy of the best validation checkpoint.
        let best = directory + "/" + Checkpoint.bestFile
        if FileManager.default.fileExists(atPath: best) { try Checkpoint.restore(session, from: best, optimizerState: false) }
        let accuracies = Evaluator.accuracy(model: session.model, dataset: session.dataset, triplets: session.dataset.testTriplets)
        print("")
        print("test triplet accuracy (\(FileManager.default.fileExists(atPath: best) ? "best validation checkpoint" : "last weights"), \(session.dataset.testTriplets.count) triplets):")
        print(AccuracyTable.render(conditions: session.dataset.conditions.map(\.name), rows: [(session.config.model.rawValue, accuracies)]))
        print("checkpoint: \(directory)")
    }

    private func makeSession() throws -> (TrainingSession, RunFolder) {
        try RunSetup.makeSession(options: options, out: out, resume: resume)
    }

    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: Date())
    }
}

/// Runs a trainer to the end with progress on stdout, stopping cleanly on Ctrl-C or SIGTERM.
enum HeadlessRun {
    /// `stop` receives the signals when the caller installed them already (before the run existed).
    static func run(_ trainer: Trainer, label: String = "", stop: StopTarget? = nil) -> TrainingSnapshot {
        let signals = stop == nil ? StopSignals { trainer.stop() } : nil
        defer { signals?.restore() }
        stop?.set { trainer.stop() }
        let interactive = Terminal.isInteractive
        print(startLine(trainer, label: label))
        fflush(nil)
        trainer.start()
        var logged = 0
        var lastLine = Date()
        var snapshot = trainer.snapshot
        // Not a terminal: one plain line per validation, written as soon as it is seen.
        func logValidations() {
            while logged < snapshot.validationHistory.count {
                print(ProgressLine.logLine(snapshot, validation: snapshot.validationHistory[logged], label: label))
                logged += 1
            }
            fflush(nil)
        }
        while !snapshot.state.isOver {
            Thread.sleep(forTimeInterval: 0.2)
            snapshot = trainer.snapshot
            if interactive {
                print("\r" + ProgressLine.text(snapshot, label: label, width: Terminal.width), terminator: "")
                fflush(nil)
            } else {
                logValidations()
                // A line every few seconds between validations, so that a log shows the run is alive.
                if Date().timeIntervalSince(lastLine) >= Progress.logEvery {
                    print(ProgressLine.aliveLine(snapshot, label: label))
                    fflush(nil)
                    lastLine = Date()
                }
            }
        }
        snapshot = trainer.wait()
        if interactive { print("\r" + ProgressLine.text(snapshot, label: label, width: Terminal.width)) } else { logValidations() }
        if case .stopped = snapshot.state { print("stopped at step \(snapshot.step); \(snapshot.lastCheckpoint ?? "")") }
        return snapshot
    }

    /// What is trained, on what, for how long and where it is saved: the first line of a run.
    static func startLine(_ trainer: Trainer, label: String) -> String {
        let session = trainer.session, config = session.config, dataset = session.dataset
        let epochs = Double(config.steps * config.batchSize) / Double(max(1, session.epochTriplets))
        let conditions = dataset.conditions.map(\.name).joined(separator: ", ")
        return "\(label)training \(config.model.rawValue) on \((config.dataPath as NSString).lastPathComponent) "
            + "(\(dataset.imageIndices(in: .train).count) training images; conditions \(conditions)): "
            + "steps \(session.step + 1) to \(config.steps) of \(config.batchSize) triplets (\(String(format: "%.2f", epochs)) epochs in all)"
            + (trainer.checkpointDirectory.map { "; checkpoints in \($0)" } ?? "")
    }
}

/// "[#####.....] step 500/2000 loss 0.1234 val 81.2% 412 triplets/s ETA 3m12s"
enum ProgressLine {
    /// "step 120/2000 loss 0.2301 352 triplets/s ETA 5m20s", for logs between validations.
    static func aliveLine(_ s: TrainingSnapshot, label: String) -> String {
        let loss = s.lossHistory.last.map { String(format: "%.4f", Double($0.triplet + $0.embedding + $0.mask)) } ?? "-"
        return "\(label)step \(s.step)/\(s.totalSteps) loss \(loss) \(Int(s.tripletsPerSecond)) triplets/s ETA \(TrainingSnapshot.duration(s.secondsRemaining))"
    }

    static func text(_ s: TrainingSnapshot, label: String, width: Int) -> String {
        let fraction = Double(s.step) / Double(max(s.totalSteps, 1))
        let loss = s.lossHistory.last.map { String(format: "%.4f", Double($0.triplet + $0.embedding + $0.mask)) } ?? "-"
        let validation = s.latestValidation.map { String(format: "%.1f%%", 100 * Evaluator.mean($0)) } ?? "-"
        let eta = TrainingSnapshot.duration(s.secondsRemaining)
        let state = s.state == .running ? "" : " [\(s.state)]"
        let details = "\(label)step \(s.step)/\(s.totalSteps) epoch \(String(format: "%.2f", s.epoch)) loss \(loss) val \(validation) "
            + "\(Int(s.tripletsPerSecond)) triplets/s ETA \(eta)\(state)"
        let barWidth = max(0, min(30, width - details.count - 4))
        guard barWidth >= 5 else { return String(details.prefix(max(0, width - 1))) }
        let filled = Int(fraction * Double(barWidth))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "] " + details
    }

    /// "step 500/2000 val 81.2% (character 90.1, font 75.0, ...) loss 0.1234 412 triplets/s"
    static func logLine(_ s: TrainingSnapshot, validation: TrainingSnapshot.ValidationPoint, label: String) -> String {
        let loss = s.lossHistory.last(where: { $0.step <= validation.step }).map { String(format: "%.4f", Double($0.triplet + $0.embedding + $0.mask)) } ?? "-"
        let parts = zip(s.conditionNames, validation.accuracies).map { name, value in
            "\(name) \(value.isNaN ? "-" : String(format: "%.1f", 100 * value))"
        }
        return "\(label)step \(validation.step)/\(s.totalSteps) val \(String(format: "%.1f%%", 100 * Evaluator.mean(validation.accuracies))) "
            + "(\(parts.joined(separator: ", "))) loss \(loss) \(Int(s.tripletsPerSecond)) triplets/s"
    }

}
