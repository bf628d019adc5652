/// Shrinks an image to fit a square of `size` pixels: the aspect ratio is kept, each output pixel
/// is the area-weighted average of the source pixels it covers, and the margin is filled with the
/// mean colour of the image's border (white for product photos, black for glyphs).
/// The result is planar (C x size x size), the layout datasets store.
public enum ImageFitter {
    public static func fit(_ image: DecodedImage, size: Int) -> [UInt8] {
        let c = image.channels
        let scale = Double(size) / Double(max(image.width, image.height))
        let outWidth = max(1, min(size, Int((Double(image.width) * scale).rounded())))
        let outHeight = max(1, min(size, Int((Double(image.height) * scale).rounded())))
        let left = (size - outWidth) / 2, top = (size - outHeight) / 2
        let columns = AreaWeights(source: image.width, target: outWidth)
        let rows = AreaWeights(source: image.height, target: outHeight)
        let fill = borderMean(image)
        var result = [UInt8](repeating: 0, count: c * size * size)
        for channel in 0..<c {
            let plane = channel * size * size
            for i in 0..<(size * size) { result[plane + i] = fill[channel] }
        }
        // Rows first: each output row is a weighted sum of source rows, then columns.
        var rowSums = [Float](repeating: 0, count: image.width * c)
        image.pixels.withUnsafeBufferPointer { source in
            for y in 0..<outHeight {
                for i in rowSums.indices { rowSums[i] = 0 }
                for (sourceRow, weight) in rows.terms(y) {
                    let base = sourceRow * image.width * c
                    for i in 0..<(image.width * c) { rowSums[i] += weight * Float(source[base + i]) }
                }
                for x in 0..<outWidth {
                    for channel in 0..<c {
                        var value: Float = 0
                        for (sourceColumn, weight) in columns.terms(x) { value += weight * rowSums[sourceColumn * c + channel] }
                        result[channel * size * size + (top + y) * size + left + x] = UInt8(max(0, min(255, value.rounded())))
                    }
                }
            }
        }
        return result
    }

    private static func borderMean(_ image: DecodedImage) -> [UInt8] {
        let c = image.channels
        var sums = [Double](repeating: 0, count: c)
        var count = 0
        for y in 0..<image.height {
            for x in 0..<image.width where y == 0 || y == image.height - 1 || x == 0 || x == image.width - 1 {
                for channel in 0..<c { sums[channel] += Double(image.pixels[(y * image.width + x) * c + channel]) }
                count += 1
            }
        }
        return sums.map { UInt8(($0 / Double(count)).rounded()) }
    }
}

/// For each output coordinate, the source coordinates it covers and their shares (summing to 1),
/// flat: the terms of coordinate t are entries offsets[t]..<offsets[t + 1].
private struct AreaWeights {
    private var offsets: [Int] = [0]
    private var sources: [Int] = []
    private var shares: [Float] = []

    init(source: Int, target: Int) {
        let step = Double(source) / Double(target)
        for t in 0..<target {
            let from = Double(t) * step, to = Double(t + 1) * step
            let first = Int(from), last = min(source - 1, Int((to - 1e-9).rounded(.down)))
            for s in first...max(first, last) {
                let overlap = min(to, Double(s + 1)) - max(from, Double(s))
                sources.append(s)
                shares.append(Float(max(0, overlap) / step))
            }
            offsets.append(sources.count)
        }
    }

    func terms(_ t: Int) -> some Sequence<(Int, Float)> {
        (offsets[t]..<offsets[t + 1]).lazy.map { (sources[$0], shares[$0]) }
    }
}
