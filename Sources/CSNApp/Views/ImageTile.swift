import Datasets
import TUI

/// A dataset image as the views draw it: in colour when the data has colour and the terminal
/// shows 256 colours, on the grey ramp for grey data, and as ASCII shading on terminals with
/// fewer colours (or with --ascii), where a grey ramp cannot be shown.
public enum ImageTile {
    /// Image `index` averaged down by `factor`, as a widget of (size / factor) square pixels.
    public static func make(_ dataset: ImageDataset, _ index: Int, factor: Int, depth: ColourDepth, ascii: Bool) -> HalfBlockImage {
        let plain = ascii || depth != .full256
        let colour = dataset.channels == 3 && !plain
        let pixels = colour ? dataset.interleavedImage(index).pixels[...] : dataset.greyImage(index)
        let side = dataset.imageSize / factor
        return HalfBlockImage(pixels: HalfBlockImage.downsample(pixels, size: dataset.imageSize, factor: factor, channels: colour ? 3 : 1),
                              width: side, height: side, channels: colour ? 3 : 1, ascii: plain)
    }
}
