/// What the screen layer must send to turn the last frame into the next: every cell when there is
/// no last frame or its size changed, else only the cells that differ. Pure, so it is tested
/// without a terminal.
public enum CellDiff {
    public static func changes(from previous: CellBuffer?, to next: CellBuffer) -> (full: Bool, cells: [(x: Int, y: Int)]) {
        let full = previous.map { $0.width != next.width || $0.height != next.height } ?? true
        var cells: [(x: Int, y: Int)] = []
        for y in 0..<next.height {
            for x in 0..<next.width where full || previous![x, y] != next[x, y] {
                cells.append((x, y))
            }
        }
        return (full, cells)
    }
}
