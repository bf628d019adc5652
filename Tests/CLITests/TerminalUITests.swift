import Basics
import Foundation
import Testing
import TestSupport

/// The real binary in tmux, driven with keys as a person would, read back with capture-pane.
@Suite(.serialized) struct TerminalUITests {
    let socket = "csn-test-\(getpid())"

    /// Runs a tmux client command through the shell (`system` waits for and reaps it; the tmux
    /// server it may start must not hold a pipe of ours, so output goes through a file).
    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        let output = TestSupport.temporaryDirectory("csn-tmux") + "/out"
        let quoted = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let status = system("tmux -L \(socket) \(quoted) > \(output) 2>/dev/null < /dev/null")
        guard status == 0 || arguments.first == "kill-server" else { throw CSNError("tmux \(arguments.first ?? "") failed (\(status))") }
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }

    func screen() throws -> [String] { try tmux(["capture-pane", "-t", "ui", "-p"]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    /// Waits until some line of the screen satisfies `condition` (60 s at most).
    func waitFor(_ what: String, _ condition: ([String]) -> Bool) throws -> [String] {
        let deadline = Date().addingTimeInterval(60)
        while true {
            let lines = try screen()
            if condition(lines) { return lines }
            guard Date() < deadline else {
                Issue.record("timed out waiting for \(what); the screen was:\n\(lines.joined(separator: "\n"))")
                throw CancellationError()
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    @Test func trainSwitchViewsPauseResizeAndQuit() throws {
        let out = TestSupport.temporaryDirectory() + "/run"
        defer { _ = try? tmux(["kill-server"]) }
        try tmux(["new-session", "-d", "-s", "ui", "-x", "80", "-y", "24", "bash --norc --noprofile"])
        let command = "\(TestSupport.csnBinary) --data \(TestSupport.dejavuDatasetFile) --widths 4,8,8 --dim 8 --batch 8 --steps 100000 --validate-every 20 --out \(out); echo EXIT=$?"
        try tmux(["send-keys", "-t", "ui", command, "Enter"])
        var lines = try waitFor("training to start") { $0[0].hasPrefix("csn [running] csn-learned · step ") }
        #expect(lines[1].hasPrefix(" 1 Monitor │ 2 Masks │ 3 Subspaces │ 4 Neighbours"))
        #expect(lines.contains { $0.hasPrefix("loss (EMA 0.90)") })

        try tmux(["send-keys", "-t", "ui", "2"])
        lines = try waitFor("the masks view") { $0.contains { $0.hasPrefix("masks m = ReLU(beta), 4 x 8") } }
        try tmux(["send-keys", "-t", "ui", "3"])
        lines = try waitFor("the subspaces view") { $0[2].hasPrefix("character subspace: ") }
        try tmux(["send-keys", "-t", "ui", "4"])
        lines = try waitFor("the neighbours view") { $0[2].hasPrefix("query ") || $0[2].hasPrefix("  finding the neighbours") }
        // Search by attributes: the query becomes the first matching image.
        try tmux(["send-keys", "-t", "ui", "/"])
        lines = try waitFor("the search prompt") { $0[23].hasPrefix("search: ▏") }
        try tmux(["send-keys", "-t", "ui", "-l", "char:g"])
        try tmux(["send-keys", "-t", "ui", "Enter"])
        lines = try waitFor("the search's first match") { $0[2].hasPrefix("query ") && $0[2].contains("match 1 of ") && $0[2].contains("for 'char:g'") }
        #expect(lines[2].hasPrefix("query DejaVu") && lines[2].contains("/g ["), "\(lines[2])")
        try tmux(["send-keys", "-t", "ui", "1"])
        lines = try waitFor("the monitor again") { $0.contains { $0.hasPrefix("loss (EMA") } }

        try tmux(["send-keys", "-t", "ui", "Space"])
        lines = try waitFor("pause") { $0[0].hasPrefix("csn [paused]") }
        try tmux(["send-keys", "-t", "ui", "Space"])
        lines = try waitFor("resume") { $0[0].hasPrefix("csn [running]") }

        try tmux(["resize-window", "-t", "ui", "-x", "100", "-y", "40"])
        lines = try waitFor("the new size") { $0.count >= 40 && $0[39].hasPrefix("? help  q quit") }
        try tmux(["resize-window", "-t", "ui", "-x", "50", "-y", "15"])
        lines = try waitFor("the too-small message") { $0.contains { $0.hasPrefix("csn needs at least 60x20") } }
        try tmux(["resize-window", "-t", "ui", "-x", "80", "-y", "24"])

        try tmux(["send-keys", "-t", "ui", "q"])
        lines = try waitFor("exit and a restored terminal") { $0.contains { $0 == "EXIT=0" } }
        // The summary may wrap at 80 columns: read the screen as one text.
        #expect(lines.joined().contains("stopped; checkpoint in \(out)"), "\(lines)")
        #expect(!lines.contains { $0.hasPrefix(" 1 Monitor") }, "the UI is gone from the screen")
        #expect(FileManager.default.fileExists(atPath: out + "/model.safetensors"))
    }

    /// A closed SSH session (SIGHUP) and Ctrl-\\ (SIGQUIT) end the UI as q does: the checkpoint is
    /// saved, the terminal is back in cooked mode with echo, and no crash report is drawn.
    @Test func hangUpAndQuitRestoreTheTerminal() throws {
        // One after another: the cases share the tmux server.
        for signal in [SIGHUP, SIGQUIT, SIGTERM] { try endTheUI(with: signal) }
    }

    func endTheUI(with signal: Int32) throws {
        let folder = TestSupport.temporaryDirectory()
        let out = folder + "/run", modes = folder + "/stty"
        defer { _ = try? tmux(["kill-server"]) }
        try tmux(["new-session", "-d", "-s", "ui", "-x", "80", "-y", "24", "bash --norc --noprofile"])
        let command = "\(TestSupport.csnBinary) --data \(TestSupport.dejavuDatasetFile) --widths 4,8,8 --dim 8 --batch 8 --steps 100000 --out \(out); echo EXIT=$?; stty -a > \(modes)"
        try tmux(["send-keys", "-t", "ui", command, "Enter"])
        _ = try waitFor("training to start") { $0[0].hasPrefix("csn [running] csn-learned · step ") }
        let shell = try tmux(["list-panes", "-t", "ui", "-F", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let children = try String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)
        let csn = try #require(children.split(separator: " ").first.flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }, "no csn under the pane's shell")
        kill(csn, signal)
        let lines = try waitFor("exit after the signal") { $0.contains { $0.hasPrefix("EXIT=") } }
        #expect(lines.contains("EXIT=0"), "\(lines)")
        #expect(!lines.joined().contains("crashed") && !lines.joined().contains("Backtrace"), "\(lines)")
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: modes) && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        let settings = try String(contentsOfFile: modes, encoding: .utf8).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" })
        #expect(settings.contains("icanon") && settings.contains("echo") && !settings.contains("-icanon"), "\(settings)")
        #expect(FileManager.default.fileExists(atPath: out + "/model.safetensors"), "signal \(signal)")
        try tmux(["kill-server"])
    }

    @Test func withoutATerminalItSaysSoInOneLine() throws {
        let result = try TestSupport.runCSN([])
        #expect(result.status != 0)
        #expect(result.stderr == "Error: csn's UI needs a terminal; without one, use `csn train --headless` (and `csn eval`, `csn tsne`, `csn neighbours`, `csn masks`)\n")
    }
}
