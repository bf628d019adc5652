/// 2x2 max pooling, stride 2, on `planes` planes of height x width (even sizes). The forward pass
/// caches the index of each maximum within its plane for the backward pass.

public func maxPoolForward(_ out: FloatPointer, _ argmax: UnsafeMutablePointer<Int32>, _ input: ConstFloatPointer,
                           planes: Int, height: Int, width: Int) {
    let outHeight = height / 2, outWidth = width / 2
    for p in 0..<planes {
        let x = input + p * height * width
        let y = out + p * outHeight * outWidth
        let arg = argmax + p * outHeight * outWidth
        for oy in 0..<outHeight {
            for ox in 0..<outWidth {
                let topLeft = (2 * oy) * width + 2 * ox
                var best = topLeft
                if x[topLeft + 1] > x[best] { best = topLeft + 1 }
                if x[topLeft + width] > x[best] { best = topLeft + width }
                if x[topLeft + width + 1] > x[best] { best = topLeft + width + 1 }
                y[oy * outWidth + ox] = x[best]
                arg[oy * outWidth + ox] = Int32(best)
            }
        }
    }
}

/// dInput += dOut routed to each window's maximum.
public func maxPoolBackward(_ dInput: FloatPointer, _ dOut: ConstFloatPointer, _ argmax: UnsafePointer<Int32>,
                            planes: Int, height: Int, width: Int) {
    let outArea = (height / 2) * (width / 2)
    for p in 0..<planes {
        let dx = dInput + p * height * width
        for i in 0..<outArea {
            let o = p * outArea + i
            dx[Int(argmax[o])] += dOut[o]
        }
    }
}
