/// 2-D max pooling of whole (H, W) planes, recording for each output the input index that won,
/// so that backward routes the gradient without searching again.
///
/// Plane `i` of x is the `i`-th (H, W) plane in memory, for (B, C, H, W) as well as the
/// channel-major (C, B, H, W) of Lockstep's activations; y and argmax hold plane `i`'s outputs
/// at the same plane index.
///
/// - Parameters:
///   - x: (planes, H, W).
///   - planes: the planes to pool; the others of y and argmax are left alone.
///   - y: receives (planes, OH, OW).
///   - argmax: receives, per output, the winning element's index within its (H, W) plane;
///     ties go to the first in row-major order, as in PyTorch.
public func maxPoolForward(_ x: Tensor, planes: Range<Int>, geometry g: ConvGeometry, into y: Tensor,
                           argmax: UnsafeMutableBufferPointer<Int32>) {
    let (oh, ow, k, s, p) = (g.outHeight, g.outWidth, g.kernel, g.stride, g.padding)
    precondition(planes.lowerBound >= 0 && planes.upperBound * g.height * g.width <= x.count
                 && planes.upperBound * oh * ow <= y.count && planes.upperBound * oh * ow <= argmax.count,
                 "maxPoolForward: planes \(planes) of \(g) do not fit x \(x.count), y \(y.count), argmax \(argmax.count)")
    let src = x.pointer, dst = y.pointer, arg = argmax.baseAddress!
    if k == 2 && s == 2 && p == 0 {
        maxPool2x2(src, planes: planes, height: g.height, width: g.width, into: dst, argmax: arg)
        return
    }
    for plane in planes {
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

/// The common 2×2, stride 2, unpadded window, with the same tie and NaN rules. Each output row
/// is pooled eight outputs at a time by plain vector comparisons (NaN never wins one), while
/// the largest magnitude bits of its inputs are noted; the rare row whose inputs hold a NaN is
/// then pooled again window by window with PyTorch's rule that NaN wins.
///
/// A row of 8 or more outputs ends with a block that overlaps the one before it. A shorter
/// row of 4 to 7 is one block that reads into the next row pair and writes into the next output
/// row, which is pooled right after it; only the range's last row (and any row of fewer than 4)
/// is pooled one by one, with the NaN rule directly.
private func maxPool2x2(_ src: UnsafeMutablePointer<Float>, planes: Range<Int>, height: Int, width: Int,
                        into dst: UnsafeMutablePointer<Float>, argmax arg: UnsafeMutablePointer<Int32>) {
    let oh = height / 2, ow = width / 2
    let w = Int32(truncatingIfNeeded: width)
    for plane in planes {
        for yo in 0..<oh {
            let r0 = src + plane * height * width + 2 * yo * width, r1 = r0 + width
            let row = plane * oh + yo
            let out = dst + row * ow, idx = arg + row * ow
            let top = Int32(truncatingIfNeeded: 2 * yo * width)
            var magnitudes = SIMD8<UInt32>()
            if ow >= 8 {
                var xo = 0
                while xo + 8 <= ow {
                    poolEight(r0, r1, from: xo, top: top, width: w, into: out, argmax: idx, magnitudes: &magnitudes)
                    xo += 8
                }
                if xo < ow { poolEight(r0, r1, from: ow - 8, top: top, width: w, into: out, argmax: idx, magnitudes: &magnitudes) }
            } else if ow >= 4 && row < planes.upperBound * oh - 1 {
                poolEight(r0, r1, from: 0, top: top, width: w, into: out, argmax: idx, magnitudes: &magnitudes)
            } else {
                poolRowWithNaN(r0, r1, top: top, width: w, outputs: ow, into: out, argmax: idx)
                continue
            }
            if magnitudes.max() > Float.infinity.bitPattern {
                poolRowWithNaN(r0, r1, top: top, width: w, outputs: ow, into: out, argmax: idx)
            }
        }
    }
}

/// Outputs `first ..< first + 8` of one row of 2×2 windows over rows `r0` and `r1`, as vectors:
/// each later candidate (r0 right, r1 left, r1 right) wins only if greater. Notes the largest
/// magnitude bits of the inputs in `magnitudes`.
@inline(__always)
private func poolEight(_ r0: UnsafeMutablePointer<Float>, _ r1: UnsafeMutablePointer<Float>, from first: Int, top: Int32,
                       width w: Int32, into out: UnsafeMutablePointer<Float>, argmax idx: UnsafeMutablePointer<Int32>,
                       magnitudes: inout SIMD8<UInt32>) {
    let upper = UnsafeRawPointer(r0 + 2 * first).loadUnaligned(as: SIMD16<Float>.self)
    let lower = UnsafeRawPointer(r1 + 2 * first).loadUnaligned(as: SIMD16<Float>.self)
    let a = upper.evenHalf, b = upper.oddHalf, c = lower.evenHalf, d = lower.oddHalf
    // The largest bits of all four, less the sign bit: above +∞'s only if one is NaN.
    let bits = pointwiseMax(pointwiseMax(unsafeBitCast(a, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, unsafeBitCast(b, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF),
                            pointwiseMax(unsafeBitCast(c, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, unsafeBitCast(d, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF))
    magnitudes = pointwiseMax(magnitudes, bits)
    let corner = SIMD8<Int32>(repeating: top &+ 2 &* Int32(truncatingIfNeeded: first)) &+ SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
    var best = a, at = corner
    var wins = b .> best
    best.replace(with: b, where: wins)
    at.replace(with: corner &+ 1, where: wins)
    wins = c .> best
    best.replace(with: c, where: wins)
    at.replace(with: corner &+ w, where: wins)
    wins = d .> best
    best.replace(with: d, where: wins)
    at.replace(with: corner &+ (w &+ 1), where: wins)
    UnsafeMutableRawPointer(out + first).storeBytes(of: best, as: SIMD8<Float>.self)
    UnsafeMutableRawPointer(idx + first).storeBytes(of: at, as: SIMD8<Int32>.self)
}

/// One output row of 2×2 windows, window by window, where NaN wins: each later element wins
/// if greater, or if NaN.
private func poolRowWithNaN(_ r0: UnsafeMutablePointer<Float>, _ r1: UnsafeMutablePointer<Float>, top: Int32, width: Int32,
                            outputs: Int, into out: UnsafeMutablePointer<Float>, argmax idx: UnsafeMutablePointer<Int32>) {
    for xo in 0..<outputs {
        let j = 2 * xo
        let first = top &+ Int32(truncatingIfNeeded: j)
        var best = r0[j], at = first
        func consider(_ v: Float, _ index: Int32) {
            if v > best || v.isNaN {
                best = v
                at = index
            }
        }
        consider(r0[j + 1], first &+ 1)
        consider(r1[j], first &+ width)
        consider(r1[j + 1], first &+ width &+ 1)
        out[xo] = best
        idx[xo] = at
    }
}

/// Routes each output gradient to the input element that won its window. The planes of
/// `planes` in `dx` are overwritten, the others left alone.
public func maxPoolBackward(_ dy: Tensor, argmax: UnsafeBufferPointer<Int32>, planes: Range<Int>, geometry g: ConvGeometry,
                            into dx: Tensor) {
    let outPlane = g.outputPlane
    let inPlane = g.height * g.width
    precondition(planes.lowerBound >= 0 && planes.upperBound * inPlane <= dx.count && planes.upperBound * outPlane <= dy.count
                 && planes.upperBound * outPlane <= argmax.count,
                 "maxPoolBackward: planes \(planes) of \(g) do not fit dx \(dx.count), dy \(dy.count), argmax \(argmax.count)")
    let d = dx.pointer, gy = dy.pointer, arg = argmax.baseAddress!
    (d + planes.lowerBound * inPlane).update(repeating: 0, count: planes.count * inPlane)
    // Windows that do not overlap have winners of their own: each is written once.
    let disjoint = g.kernel <= g.stride
    for plane in planes {
        let image = d + plane * inPlane
        let go = gy + plane * outPlane
        let idx = arg + plane * outPlane
        if disjoint {
            for q in 0..<outPlane { image[Int(idx[q])] = go[q] }
        } else {
            for q in 0..<outPlane { image[Int(idx[q])] += go[q] }
        }
    }
}
