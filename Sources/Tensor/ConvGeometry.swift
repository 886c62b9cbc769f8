/// The shape arithmetic of a 2-D window sliding over (C, H, W) planes, shared by convolution
/// and pooling. Output size follows PyTorch: `(H + 2·padding - kernel) / stride + 1`.
public struct ConvGeometry: Equatable, Sendable {
    public let channels: Int
    public let height: Int
    public let width: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int

    public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.channels = channels
        self.height = height
        self.width = width
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    /// Whether the window fits at least once: positive sizes and a kernel no wider than the padded input.
    public var isValid: Bool {
        channels > 0 && height > 0 && width > 0 && kernel > 0 && stride > 0 && padding >= 0
            && height + 2 * padding >= kernel && width + 2 * padding >= kernel
    }
    /// Elements in one input plane stack (C·H·W).
    public var inputSize: Int { channels * height * width }
    /// Rows of the im2col matrix: C·k·k.
    public var patchSize: Int { channels * kernel * kernel }
    /// Output positions per image: OH·OW.
    public var outputPlane: Int { outHeight * outWidth }
}

/// Unfolds a batch of images into patch columns.
///
/// - Parameters:
///   - x: (B, C, H, W), of which the first `batch` images are read.
///   - col: receives (C·k·k, B·OH·OW): row `(c·k + i)·k + j`, column `(b·OH + oh)·OW + ow` holds
///     `x[b, c, oh·s - p + i, ow·s - p + j]`, or 0 in the padding.
public func im2col(_ x: Tensor, batch: Int, geometry g: ConvGeometry, into col: Tensor) {
    let plane = g.outputPlane
    let columns = batch * plane
    precondition(batch * g.inputSize <= x.count && g.patchSize * columns <= col.count,
                 "im2col: batch \(batch) of \(g) needs x \(batch * g.inputSize), col \(g.patchSize * columns)")
    let src = x.pointer, dst = col.pointer
    let (oh, ow, k, s, p) = (g.outHeight, g.outWidth, g.kernel, g.stride, g.padding)
    for c in 0..<g.channels {
        for i in 0..<k {
            for j in 0..<k {
                let rowBase = dst + ((c * k + i) * k + j) * columns
                for b in 0..<batch {
                    let image = src + (b * g.channels + c) * g.height * g.width
                    let out = rowBase + b * plane
                    for y in 0..<oh {
                        let iy = y * s - p + i
                        let o = out + y * ow
                        if iy < 0 || iy >= g.height {
                            o.update(repeating: 0, count: ow)
                            continue
                        }
                        let line = image + iy * g.width
                        // The outputs whose input column lies inside the image: xo·s - p + j in 0..<W.
                        let first = min(max(0, (p - j + s - 1) / s), ow)
                        let last = g.width - 1 + p - j  // xo·s ≤ last
                        let end = last < 0 ? first : max(min(ow, last / s + 1), first)
                        o.update(repeating: 0, count: first)
                        if s == 1 {
                            (o + first).update(from: line + (first - p + j), count: end - first)
                        } else {
                            for xo in first..<end { o[xo] = line[xo * s - p + j] }
                        }
                        (o + end).update(repeating: 0, count: ow - end)
                    }
                }
            }
        }
    }
}

/// The adjoint of `im2col`: adds each patch column back into the image it came from.
///
/// - Parameters:
///   - col: (C·k·k, B·OH·OW), laid out as `im2col` writes it.
///   - dx: (B, C, H, W); the first `batch` images are overwritten with the folded sums.
public func col2im(_ col: Tensor, batch: Int, geometry g: ConvGeometry, into dx: Tensor) {
    let plane = g.outputPlane
    let columns = batch * plane
    precondition(batch * g.inputSize <= dx.count && g.patchSize * columns <= col.count,
                 "col2im: batch \(batch) of \(g) needs dx \(batch * g.inputSize), col \(g.patchSize * columns)")
    let src = col.pointer, dst = dx.pointer
    dst.update(repeating: 0, count: batch * g.inputSize)
    let (oh, ow, k, s, p) = (g.outHeight, g.outWidth, g.kernel, g.stride, g.padding)
    for c in 0..<g.channels {
        for i in 0..<k {
            for j in 0..<k {
                let rowBase = src + ((c * k + i) * k + j) * columns
                for b in 0..<batch {
                    let image = dst + (b * g.channels + c) * g.height * g.width
                    let input = rowBase + b * plane
                    for y in 0..<oh {
                        let iy = y * s - p + i
                        if iy < 0 || iy >= g.height { continue }
                        let line = image + iy * g.width
                        let o = input + y * ow
                        let first = min(max(0, (p - j + s - 1) / s), ow)
                        let last = g.width - 1 + p - j  // xo·s ≤ last
                        let end = last < 0 ? first : max(min(ow, last / s + 1), first)
                        for xo in first..<end { line[xo * s - p + j] += o[xo] }
                    }
                }
            }
        }
    }
}

/// `y[b, c, q] = act(cb[c, b·plane + q] + bias[c])`: turns a convolution's GEMM output, laid out
/// channel-major as (C, B·plane), into (B, C, plane), adding the bias and, if `relu`, clamping at 0.
public func channelMajorToBatchMajor(_ cb: Tensor, channels: Int, batch: Int, plane: Int, bias: Tensor, relu: Bool,
                                     into y: Tensor) {
    precondition(channels * batch * plane <= cb.count && channels * batch * plane <= y.count && bias.count == channels,
                 "channelMajorToBatchMajor: \(channels)x\(batch)x\(plane) with cb \(cb.count), y \(y.count), bias \(bias.count)")
    let s = cb.pointer, d = y.pointer, bp = bias.pointer
    for c in 0..<channels {
        let bc = bp[c]
        for b in 0..<batch {
            let from = s + (c * batch + b) * plane
            let to = d + (b * channels + c) * plane
            if relu {
                for q in 0..<plane {
                    let v = from[q] + bc
                    to[q] = v > 0 ? v : 0
                }
            } else {
                for q in 0..<plane { to[q] = from[q] + bc }
            }
        }
    }
}

/// The gradient counterpart of `channelMajorToBatchMajor`: `cb[c, b·plane + q] = dy[b, c, q]`,
/// zeroed where the ReLU output `y` was not positive if `relu`, with `biasGrad[c] += Σ` of the result.
public func batchMajorToChannelMajor(_ dy: Tensor, output y: Tensor, channels: Int, batch: Int, plane: Int, relu: Bool,
                                     into cb: Tensor, biasGrad: Tensor) {
    precondition(channels * batch * plane <= cb.count && channels * batch * plane <= dy.count && biasGrad.count == channels,
                 "batchMajorToChannelMajor: \(channels)x\(batch)x\(plane) with cb \(cb.count), dy \(dy.count)")
    let s = dy.pointer, o = y.pointer, d = cb.pointer, gb = biasGrad.pointer
    for c in 0..<channels {
        var acc: Float = 0
        for b in 0..<batch {
            let from = s + (b * channels + c) * plane
            let out = o + (b * channels + c) * plane
            let to = d + (c * batch + b) * plane
            if relu {
                for q in 0..<plane {
                    let g = from[q], o = out[q]
                    let v = o > 0 ? g : 0
                    to[q] = v
                    acc += v
                }
            } else {
                for q in 0..<plane {
                    to[q] = from[q]
                    acc += from[q]
                }
            }
        }
        gb[c] += acc
    }
}
