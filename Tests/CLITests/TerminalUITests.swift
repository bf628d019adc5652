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
        let command = "\(TestSupport.csnBinary) --data \(TestSupport.dejavuDatasetFile) --widths 4,8,8 --dim 8 --batch 8 --steps 100000 --out \(out); echo EXIT=$?; stty -a > \(modes).part && mv \(modes).part \(modes)"
        try tmux(["send-keys", "-t", "ui", command, "Enter"])
        _ = try waitFor("training to start") { $0[0].hasPrefix("csn [running] csn-learned · step ") }
        let shell = try tmux(["list-panes", "-t", "ui", "-F", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let children = try String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)
        let csn = try #require(children.split(separator: " ").first.flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }, "no csn under the pane's shell")
        kill(csn, signal)
        let lines = try waitFor("exit after the signal") { $0.contains(where: Self.isExitStatus) }
        #expect(lines.contains("EXIT=0"), "\(lines)")
        #expect(!lines.joined().contains("crashed") && !lines.joined().contains("Backtrace"), "\(lines)")
        // The shell writes the modes to a side file and renames it, so the file is never read half-written.
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: modes) && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        let settings = try String(contentsOfFile: modes, encoding: .utf8).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" })
        #expect(settings.contains("icanon") && settings.contains("echo") && !settings.contains("-icanon"), "\(settings)")
        #expect(FileManager.default.fileExists(atPath: out + "/model.safetensors"), "signal \(signal)")
        try tmux(["kill-server"])
    }

    /// The shell's "EXIT=<status>" line, not the typed command: a long command wraps on the
    /// screen, and its last row can start with "EXIT=$?".
    static func isExitStatus(_ line: String) -> Bool {
        line.hasPrefix("EXIT=") && line.count > 5 && line.dropFirst(5).allSatisfy(\.isNumber)
    }

    @Test func watchFollowsRunsThatAnotherProcessKeepsWriting() throws {
        let root = TestSupport.temporaryDirectory()
        for run in ["jsonl-run", "events-run"] { try FileManager.default.createDirectory(atPath: root + "/" + run, withIntermediateDirectories: true) }
        let metrics = root + "/jsonl-run/metrics.jsonl", events = root + "/events-run/events.out.tfevents.1.host"
        try AtomicFile.write((1...9).map { #"{"step": \#($0 * 100), "loss": \#(1.0 / Double($0))}"# }.joined(separator: "\n") + "\n", to: metrics)
        try AtomicFile.write(Self.eventRecords(steps: [100, 200, 300]), to: events)
        defer { _ = try? tmux(["kill-server"]) }
        try tmux(["new-session", "-d", "-s", "ui", "-x", "100", "-y", "30", "bash --norc --noprofile"])
        try tmux(["send-keys", "-t", "ui", "\(TestSupport.csnBinary) watch \(root); echo EXIT=$?", "Enter"])
        var lines = try waitFor("both runs") { $0[0].hasPrefix("csn watch · 2 runs · 1 tag") }
        #expect(lines[1].contains("● events-run") && lines[1].contains("● jsonl-run"))
        #expect(lines.contains { $0.contains("loss") })
        // The other process appends: a JSONL line in two writes (the first half is waited for),
        // event records, and a record with a bad checksum, which is skipped and counted.
        try append(#"{"step": 1234, "lo"#, to: metrics)
        Thread.sleep(forTimeInterval: 0.5)
        try append(#"ss": 0.05}"# + "\n", to: metrics)
        lines = try waitFor("the appended step") { $0.contains { $0.contains("1234") } }
        var damaged = Self.eventRecords(steps: [400])
        damaged[damaged.count - 6] ^= 1
        try append(damaged + Self.eventRecords(steps: [500]), to: events)
        lines = try waitFor("the corrupt record counted") { $0[0].contains("1 corrupt record skipped") }
        // A run that appears while watching is picked up, and `/` filters the charts by tag.
        try FileManager.default.createDirectory(atPath: root + "/late-run", withIntermediateDirectories: true)
        try AtomicFile.write(#"{"step": 1, "accuracy": 0.5}"# + "\n", to: root + "/late-run/metrics.jsonl")
        lines = try waitFor("the new run") { $0[0].hasPrefix("csn watch · 3 runs · 2 tags") }
        try tmux(["send-keys", "-t", "ui", "/"])
        try tmux(["send-keys", "-t", "ui", "-l", "acc"])
        try tmux(["send-keys", "-t", "ui", "Enter"])
        lines = try waitFor("the filter") { $0[0].contains("1 tag matching 'acc'") }
        #expect(!lines.contains { $0.hasPrefix("loss") })
        try tmux(["send-keys", "-t", "ui", "q"])
        lines = try waitFor("exit") { $0.contains(where: Self.isExitStatus) }
        #expect(lines.contains("EXIT=0"))
    }

    @Test func exploreOpensVectorsFromAnyModelWithProjectorLabels() throws {
        let folder = TestSupport.temporaryDirectory()
        let rows = 60, d = 8
        var generator = SeededGenerator(seed: 5)
        // Two clusters under "shape" (the first half of the dimensions), ramps under "size".
        let vectors = (0..<(rows * d)).map { i -> Float in
            let row = i / d, column = i % d
            return (column < d / 2 ? Float(row % 2) * 3 : Float(row) / 20) + Float(generator.index(below: 100)) / 1000
        }
        var archive = SafeTensorsArchive()
        archive.tensors["embeddings"] = SafeTensor(vectors, shape: [rows, d])
        archive.tensors["masks"] = SafeTensor((0..<(2 * d)).map { ($0 < d) == ($0 % d < d / 2) ? Float(1) : 0 }, shape: [2, d])
        archive.metadata = ["format": "csn-embeddings/1", "conditions": #"["shape","size"]"#]
        try AtomicFile.write(archive.encoded(), to: folder + "/e.safetensors")
        try AtomicFile.write("name\tshape\tsize\n" + (0..<rows).map { "item\($0)\t\(["round", "square"][$0 % 2])\t\($0)" }.joined(separator: "\n") + "\n",
                             to: folder + "/metadata.tsv")
        defer { _ = try? tmux(["kill-server"]) }
        try tmux(["new-session", "-d", "-s", "ui", "-x", "100", "-y", "30", "bash --norc --noprofile"])
        try tmux(["send-keys", "-t", "ui", "\(TestSupport.csnBinary) explore --embeddings \(folder)/e.safetensors --labels \(folder)/metadata.tsv; echo EXIT=$?", "Enter"])
        var lines = try waitFor("the explorer") { $0[0].hasPrefix("csn [exploring] e.safetensors 60 x 8, masks 2 x 8") }
        try tmux(["send-keys", "-t", "ui", "3"])
        lines = try waitFor("the map of shape") { $0.contains { $0.hasPrefix("shape subspace: map of step 0") } }
        try tmux(["send-keys", "-t", "ui", "4"])
        lines = try waitFor("the neighbours as text") { $0.contains { $0.contains("shape: query is round") } }
        // Under shape, the nearest rows are all round (the same cluster); they are listed by name.
        let shapeColumn = lines.compactMap { line -> String? in
            guard let range = line.range(of: #"^\d\.\d\d \w+  item\d+"#, options: .regularExpression) else { return nil }
            return String(line[range])
        }
        #expect(shapeColumn.count == 8, "\(lines)")
        #expect(shapeColumn.allSatisfy { $0.contains(" round ") }, "\(shapeColumn)")
        try tmux(["send-keys", "-t", "ui", "q"])
        lines = try waitFor("exit") { $0.contains(where: Self.isExitStatus) }
        #expect(lines.contains("EXIT=0"))
    }

    func append(_ text: String, to path: String) throws { try append(Array(text.utf8), to: path) }

    func append(_ bytes: [UInt8], to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(bytes))
        handle.closeFile()
    }

    /// Event records of a `loss` scalar, framed as TensorBoard's writers frame them, built here
    /// byte by byte so the test does not lean on the reader's own encoder.
    static func eventRecords(steps: [Int64]) -> [UInt8] {
        steps.flatMap { step -> [UInt8] in
            let value: [UInt8] = [0x0A, 4] + Array("loss".utf8) + [0x15] + withUnsafeBytes(of: Float(1) / Float(step)) { Array($0) }
            let summary: [UInt8] = [0x0A, UInt8(value.count)] + value
            var event: [UInt8] = [0x10] + varint(UInt64(step))
            event += [0x2A, UInt8(summary.count)] + summary
            return frame(event)
        }
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value, out: [UInt8] = []
        repeat {
            out.append(UInt8(value & 0x7F) | (value >= 0x80 ? 0x80 : 0))
            value >>= 7
        } while value > 0
        return out
    }

    static func frame(_ data: [UInt8]) -> [UInt8] {
        func crc(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            crc = ~crc
            return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
        }
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
        return length + withUnsafeBytes(of: crc(length).littleEndian) { Array($0) } + data + withUnsafeBytes(of: crc(data).littleEndian) { Array($0) }
    }

    @Test func withoutATerminalItSaysSoInOneLine() throws {
        let result = try TestSupport.runCSN([])
        #expect(result.status != 0)
        #expect(result.stderr == "Error: csn's UI needs a terminal; without one, use `csn train --headless` (and `csn eval`, `csn tsne`, `csn neighbours`, `csn masks`)\n")
    }
}
