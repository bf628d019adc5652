/// Which of Winograd's minimal filterings a 3x3 convolution uses, and the sizes of its buffers.
///
/// - F(2x2, 3x3): 2x2 output tiles from 4x4 input tiles, 16 products per tile and channel pair
///   where the direct form takes 36 (2.25x fewer multiplies). Any even side.
/// - F(4x4, 3x3): 4x4 output tiles from 6x6 input tiles, 36 products where the direct form takes
///   144 (4x fewer), and 0.56x the transformed data of F(2x2). Sides that are multiples of 4. Its
///   transforms have larger constants (up to 8), so its rounding error is some ten times F(2x2)'s,
///   still far below what training notices (KernelTests measures both against the definition).
public enum WinogradTile: Int, Sendable, CaseIterable, Comparable {
    case two = 2, four = 4

    public static func < (a: WinogradTile, b: WinogradTile) -> Bool { a.rawValue < b.rawValue }

    /// The largest tile that divides `side`, or nil when the side is odd.
    public static func largest(forSide side: Int) -> WinogradTile? {
        side % 4 == 0 ? .four : side % 2 == 0 ? .two : nil
    }

    /// Side of an input tile (output side + 2).
    public var inputSide: Int { rawValue + 2 }
    /// Transformed positions per tile: 16 or 36.
    public var positions: Int { inputSide * inputSide }
    public var name: String { "F(\(rawValue)x\(rawValue), 3x3)" }
}

/// Sizes of the Winograd buffers for `batch` images of side `side`. Layouts: transformed weights
/// U [P, Cout, Cin]; transformed inputs V [P, C, T] and products M [P, C, T], with P the tile's
/// positions and T = batch * (side / tile)^2 tiles, tile t = (n * tilesPerRow + ty) * tilesPerRow + tx.
/// The P position blocks of V and M lie `positionStride` apart, a little more than C * T: with
/// C * T a multiple of 4 KiB the P streams a transform reads or writes would share cache sets.
public enum WinogradSizes {
    public static func tiles(batch: Int, side: Int, tile: WinogradTile = .two) -> Int {
        batch * (side / tile.rawValue) * (side / tile.rawValue)
    }
    /// Distance between the position blocks of V or M.
    public static func positionStride(channels: Int, batch: Int, side: Int, tile: WinogradTile = .two) -> Int {
        channels * tiles(batch: batch, side: side, tile: tile) + 32
    }
    /// Transformed inputs V, products M or their gradients: [P, C, T] with padded blocks.
    public static func inputs(channels: Int, batch: Int, side: Int, tile: WinogradTile = .two) -> Int {
        tile.positions * positionStride(channels: channels, batch: batch, side: side, tile: tile)
    }
    /// Transformed weights U, [P, Cout, Cin], or their gradient dU, [P, Cin, Cout] (the layout
    /// its product writes without a transposed operand from far memory; see WinogradProducts).
    public static func weights(inChannels: Int, outChannels: Int, tile: WinogradTile = .two) -> Int {
        tile.positions * inChannels * outChannels
    }
}
