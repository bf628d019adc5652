import ArgumentParser
import Basics
import CSN
import CSNApp
import Datasets
import Dispatch
import Foundation
import TUI
import TerminalScreen

/// `csn` with no subcommand: train in the terminal UI.
struct UICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Train in the terminal UI (what `csn` alone does).",
        discussion: "Views: 1 monitor, 2 masks, 3 subspaces (t-SNE), 4 neighbours. Keys:\n" + KeyHelp.text(isTraining: true)
    )

    @OptionGroup var options: TrainingOptions

    @Option(help: "Checkpoint folder; default runs/MODEL-DATE-TIME.")
    var out: String?

    @Option(help: "Continue the run saved in this checkpoint folder.")
    var resume: String?

    @OptionGroup var output: AsciiOption

    func run() throws {
        try TerminalUI.requireTerminal()
        let (session, folder) = try RunSetup.makeSession(options: options, out: out, resume: resume)
        let directory = folder.path
        defer { withExtendedLifetime(folder) {} }
        let trainer = Trainer(session: session, checkpointDirectory: directory)
        let worker = try AnalysisWorker(config: session.config, dataset: session.dataset, weights: trainer.weights)
        let final = try TerminalUI.run(trainer: trainer, fixedSnapshot: nil, worker: worker,
                                       dataName: (options.data.resolvedPath as NSString).lastPathComponent, ascii: output.ascii)
        print("\(final.model.rawValue): step \(final.step)/\(final.totalSteps), \(final.state); checkpoint in \(directory)")
        if case .diverged(let message) = final.state { throw CSNError(message) }
        if case .failed(let message) = final.state { throw CSNError(message) }
    }
}

enum TerminalUI {
    static func requireTerminal() throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw CSNError("csn's UI needs a terminal; without one, use `csn train --headless` (and `csn eval`, `csn tsne`, `csn neighbours`, `csn masks`)")
        }
    }

    /// Sets the terminal up, runs the app, and restores the terminal on every way out.
    @discardableResult
    static func run(trainer: Trainer?, fixedSnapshot: TrainingSnapshot?, worker: AnalysisWorker, dataName: String, ascii: Bool,
                    title: String? = nil) throws -> TrainingSnapshot {
        let screen = CursesScreen()
        defer { screen.close() }
        let app = App(screen: screen, trainer: trainer, fixedSnapshot: fixedSnapshot, worker: worker, dataName: dataName, ascii: ascii, title: title)
        let stopFlag = app.stopRequested
        let signals = StopSignals { stopFlag.set() }
        defer { signals.restore() }
        return app.run()
    }
}

/// The key table as command help, from the same table the UI decodes keys with.
enum KeyHelp {
    static func text(isTraining: Bool) -> String {
        Action.help(isTraining: isTraining, searchExample: "NAME:VALUE terms (font:Lato char:g)")
            .map { "  " + $0.keys.padding(toLength: 16, withPad: " ", startingAt: 0) + $0.meaning }
            .joined(separator: "\n")
    }
}
