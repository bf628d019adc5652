import CSN
import Datasets
import Foundation
import TUI

/// Everything a frame is drawn from: immutable values, read by the UI thread only.
public struct FrameInput {
    public var state: AppState
    public var training: TrainingSnapshot
    public var analysis: AnalysisSnapshot
    public var dataset: ImageDataset
    /// The images of the map (the analysis worker's map sample).
    public var mapSample: [Int32]
    /// Per condition, the values the map colours (nil: the most frequent ones).
    public var highlighted: [[Int]?]
    public var dataName: String
    public var ascii: Bool
    /// Whether a run is training (keys such as pause and save then apply).
    public var isTraining: Bool
    /// The screen's colours: images are drawn in colour only on 256-colour terminals.
    public var colourDepth: ColourDepth = .full256
    /// The header's text when it is not a training run's (vectors from an embeddings file).
    public var title: String? = nil
    /// Now, in monotonic seconds (the system's uptime): the map's age is told from it.
    public var now: Double = ProcessInfo.processInfo.systemUptime
}

/// The whole screen: header, tabs, the selected view, a status line, and the help on top.
public enum FrameView {
    public static let minimumSize = (width: 60, height: 20)

    public static func render(_ input: FrameInput, into buffer: inout CellBuffer) {
        let area = buffer.bounds
        buffer.ellipsis = input.ascii ? "~" : "…"
        guard area.width >= minimumSize.width, area.height >= minimumSize.height else {
            let text = "csn needs at least \(minimumSize.width)x\(minimumSize.height); this terminal is \(area.width)x\(area.height)"
            buffer.write(String(text.prefix(area.width)), x: 0, y: area.height / 2, style: Style(bold: true))
            return
        }
        let parts = area.split(.vertical, [.length(1), .length(1), .fill, .length(1)])
        let separator = input.ascii ? " - " : " · "
        let title = input.title.map { "csn [exploring] " + $0 + separator + input.dataName } ?? header(input.training, dataName: input.dataName, separator: separator)
        buffer.write(title, x: 0, y: 0, style: Style(bold: true), clip: parts[0])
        Tabs(titles: AppView.allCases.map(\.title), selected: input.state.view.rawValue, ascii: input.ascii).render(in: parts[1], into: &buffer)
        let body = parts[2]
        switch input.state.view {
        case .monitor: MonitorView.render(input, in: body, into: &buffer)
        case .masks: MasksView.render(input, in: body, into: &buffer)
        case .subspaces: SubspacesView.render(input, in: body, into: &buffer)
        case .neighbours: NeighboursView.render(input, in: body, into: &buffer)
        }
        if let search = input.state.searchText {
            buffer.write("search: " + search + (input.ascii ? "_" : "▏") + "   (Enter to search, Esc to cancel)", x: 0, y: parts[3].y, style: Style(bold: true), clip: parts[3])
        } else {
            let status = input.state.message ?? input.training.lastCheckpoint ?? ""
            buffer.write(String("? help  q quit  \(status)".prefix(area.width)), x: 0, y: parts[3].y, style: Style(foreground: .dimGrey), clip: parts[3])
        }
        if input.state.showHelp {
            help(Action.help(isTraining: input.isTraining, searchExample: ImageQuery.example(for: input.dataset)), in: body, into: &buffer)
        }
    }

    static func header(_ s: TrainingSnapshot, dataName: String, separator: String) -> String {
        let state: String
        switch s.state {
        case .diverged(let message): state = "DIVERGED: \(message)"
        case .failed(let message): state = "FAILED: \(message)"
        default: state = "\(s.state)"
        }
        let eta = TrainingSnapshot.duration(s.secondsRemaining)
        return ["csn [\(state)] \(s.model.rawValue)", "step \(s.step)/\(s.totalSteps)", "epoch \(String(format: "%.2f", s.epoch))",
                "\(Int(s.tripletsPerSecond)) triplets/s", "ETA \(eta)", "lr \(String(format: "%.1e", Double(s.learningRate)))", dataName]
            .joined(separator: separator)
    }


    static func help(_ table: [(keys: String, meaning: String)], in area: Rect, into buffer: inout CellBuffer) {
        let width = min(area.width - 4, 96), height = min(area.height - 2, table.count + 2)
        let box = Rect(x: area.x + (area.width - width) / 2, y: area.y + 1, width: width, height: height)
        buffer.fill(box, style: Style(reverse: true))
        buffer.write(" keys ", x: box.x + 2, y: box.y, style: Style(bold: true, reverse: true), clip: box)
        for (i, entry) in table.prefix(height - 2).enumerated() {
            let line = " " + entry.keys.padding(toLength: 16, withPad: " ", startingAt: 0) + entry.meaning
            buffer.write(line, x: box.x + 1, y: box.y + 1 + i, style: Style(reverse: true), clip: box)
        }
    }
}
