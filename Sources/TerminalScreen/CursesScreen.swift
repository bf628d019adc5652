import CCurses
import Foundation
import TUI

/// The terminal through ncursesw. Only the thread that created it may use it. Each frame is
/// compared with the previous one and only changed cells are written, then refreshed once.
/// Colours: the 256-colour palette when the terminal has it, else mapped to the 8 basic colours,
/// else none (monochrome keeps bold and reverse).
public final class CursesScreen: Screen {
    public let colourDepth: ColourDepth
    private var previous: CellBuffer?
    private var pairs: [Int: Int16] = [:]
    private var active = true

    /// Sets the terminal up (locale for UTF-8, raw keys, no echo, hidden cursor, colours).
    public init() {
        setlocale(LC_ALL, "")
        initscr()
        cbreak()
        noecho()
        keypad(csn_stdscr(), true)
        curs_set(0)
        set_escdelay(25)
        if has_colors() {
            start_color()
            use_default_colors()
        }
        colourDepth = !has_colors() ? .none : (csn_colors() >= 256 ? .full256 : .basic8)
    }

    /// Restores the terminal; safe to call more than once.
    public func close() {
        guard active else { return }
        active = false
        endwin()
    }

    deinit { close() }

    public var size: (width: Int, height: Int) { (Int(csn_cols()), Int(csn_lines())) }

    public func draw(_ buffer: CellBuffer) {
        let changes = CellDiff.changes(from: previous, to: buffer)
        if changes.full { erase() }
        for (x, y) in changes.cells {
            let cell = buffer[x, y]
            var attributes: attr_t = 0
            if cell.style.bold { attributes |= csn_a_bold() }
            if cell.style.reverse || (colourDepth == .none && cell.style.background != .default) { attributes |= csn_a_reverse() }
            if cell.style.dim { attributes |= csn_a_dim() }
            let scalar = cell.character.unicodeScalars.first?.value ?? 0x20
            _ = csn_put_cell(Int32(y), Int32(x), wchar_t(scalar), attributes, pair(cell.style))
        }
        previous = buffer
        refresh()
    }

    public func readKey(timeoutMilliseconds: Int) -> Key? {
        timeout(Int32(timeoutMilliseconds))
        var code: wint_t = 0
        let status = get_wch(&code)
        if status == ERR { return nil }
        let value = Int32(code)
        if status == csn_key_code_yes() {
            switch value {
            case csn_key_up(): return .up
            case csn_key_down(): return .down
            case csn_key_left(): return .left
            case csn_key_right(): return .right
            case csn_key_btab(): return .backTab
            case csn_key_enter(): return .enter
            case csn_key_backspace(): return .backspace
            case csn_key_resize():
                previous = nil
                return .resize
            default: return nil
            }
        }
        switch value {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 127, 8: return .backspace
        default:
            guard let scalar = UnicodeScalar(UInt32(value)) else { return nil }
            return .character(Character(scalar))
        }
    }

    /// The colour pair for a style's colours, allocated on first use.
    private func pair(_ style: Style) -> Int16 {
        guard colourDepth != .none else { return 0 }
        let foreground = map(style.foreground), background = map(style.background)
        if foreground == -1 && background == -1 { return 0 }
        let key = Int(foreground + 1) << 10 | Int(background + 1)
        if let existing = pairs[key] { return existing }
        guard pairs.count + 1 < Int(csn_color_pairs()), pairs.count < Int(Int16.max) - 1 else { return 0 }
        let number = Int16(pairs.count + 1)
        init_pair(number, foreground, background)
        pairs[key] = number
        return number
    }

    private func map(_ colour: Colour) -> Int16 {
        guard case .index(let index) = colour else { return -1 }
        return colourDepth == .full256 ? Int16(index) : Int16(Colour.basic(index))
    }
}
