/// 2-D max pooling over (B, C, H, W), recording for each output the input index that won,
/// so that backward routes the gradient without searching again.
///
/// - Parameters:
///   - x: (B, C, H, W).
///   - y: receives (B, C, OH, OW).
///   - argmax: receives, per output, the winning element's index within its (H, W) plane;
///     ties go to the first in row-major order, as in PyTorch.
public func maxPoolForward(_ x: Tensor, batch: Int, geometry g: ConvGeometry, into y: Tensor,
                           argmax: UnsafeMutableBufferPointer<Int32>) {
    let planes = batch * g.channels
    let (oh, ow, k, s, p) = (g.outHeight, g.outWidth, g.kernel, g.stride, g.padding)
    precondition(planes * g.height * g.width <= x.count && planes * oh * ow <= y.count && planes * oh * ow <= argmax.count,
                 "maxPoolForward: batch \(batch) of \(g) does not fit its buffers")
    let src = x.pointer, dst = y.pointer, arg = argmax.baseAddress!
    if k == 2 && s == 2 && p == 0 {
        maxPool2x2(src, planes: planes, height: g.height, width: g.width, into: dst, argmax: arg)
        return
    }
    for plane in 0..<planes {
        let image = src + plane * g.height * g.width
        let out = dst + plane * oh * ow
        let idx = arg + plane * oh * ow
        for yo in 0..<oh {
            let y0 = yo * s - p
            for xo in 0..<ow {
                let x0 = xo * s - p
                // As PyTorch: start at the window's first element, and let NaN win.
                var best = -Float.infinity
                var bestIndex = Int32(max(y0, 0) * g.width + max(x0, 0))
                for i in max(y0, 0)..<min(y0 + k, g.height) {
                    for j in max(x0, 0)..<min(x0 + k, g.width) {
                        let v = image[i * g.width + j]
                        if v > best || v.isNaN {
                            best = v
                            bestIndex = Int32(i * g.width + j)
                        }
                    }
                }
                out[yo * ow + xo] = best
                idx[yo * ow + xo] = bestIndex
            }
        }
    }
}

/// The common 2×2, stride 2, unpadded window, with the same tie and NaN rules, unrolled.
private func maxPool2x2(_ src: UnsafeMutablePointer<Float>, planes: Int, height: Int, width: Int,
                        into dst: UnsafeMutablePointer<Float>, argmax arg: UnsafeMutablePointer<Int32>) {
    let oh = height / 2, ow = width / 2
    for plane in 0..<planes {
        let image = src + plane * height * width
        let out = dst + plane * oh * ow
        let idx = arg + plane * oh * ow
        for yo in 0..<oh {
            let top = 2 * yo * width
            let r0 = image + top, r1 = r0 + width
            for xo in 0..<ow {
                let j = 2 * xo
                let a = r0[j], b = r0[j + 1], c = r1[j], d = r1[j + 1]
                // Branch-free: each later element wins if greater, or if NaN.
                var best = a
                var at = top + j
                let takeB = b > best || b.isNaN
                best = takeB ? b : best
                at = takeB ? top + j + 1 : at
                let takeC = c > best || c.isNaN
                best = takeC ? c : best
                at = takeC ? top + width + j : at
                let takeD = d > best || d.isNaN
                best = takeD ? d : best
                at = takeD ? top + width + j + 1 : at
                out[yo * ow + xo] = best
                idx[yo * ow + xo] = Int32(truncatingIfNeeded: at)
            }
        }
    }
}

/// Routes each output gradient to the input element that won its window: `dx` is overwritten.
public func maxPoolBackward(_ dy: Tensor, argmax: UnsafeBufferPointer<Int32>, batch: Int, geometry g: ConvGeometry,
                            into dx: Tensor) {
    let planes = batch * g.channels
    let outPlane = g.outputPlane
    let inPlane = g.height * g.width
    precondition(planes * inPlane <= dx.count && planes * outPlane <= dy.count, "maxPoolBackward: buffers too small")
    let d = dx.pointer, gy = dy.pointer, arg = argmax.baseAddress!
    d.update(repeating: 0, count: planes * inPlane)
    for plane in 0..<planes {
        let image = d + plane * inPlane
        let go = gy + plane * outPlane
        let idx = arg + plane * outPlane
        for q in 0..<outPlane { image[Int(idx[q])] += go[q] }
    }
}
