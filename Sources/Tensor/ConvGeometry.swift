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

/// Unfolds images into patch columns.
///
/// Images are laid out channel-major, as Lockstep keeps every (C, H, W) activation: x is
/// (C, batch, H, W), so that channel c of image b is plane c·batch + b. A convolution's GEMM
/// then writes its (C_out, batch·OH·OW) result straight into the next activation.
///
/// - Parameters:
///   - x: (C, batch, H, W).
///   - samples: the images to unfold, a range of `0..<batch`.
///   - col: receives (C·k·k, G·OH·OW) for the G = samples.count images: row `(c·k + i)·k + j`,
///     column `(g·OH + oh)·OW + ow` holds `x[c, samples.lowerBound + g, oh·s - p + i, ow·s - p + j]`,
///     or 0 in the padding.
public func im2col(_ x: Tensor, batch: Int, samples: Range<Int>, geometry g: ConvGeometry, into col: Tensor) {
    let plane = g.outputPlane, image = g.height * g.width
    let columns = samples.count * plane
    precondition(samples.lowerBound >= 0 && samples.upperBound <= batch && batch * g.inputSize <= x.count
                 && g.patchSize * columns <= col.count,
                 "im2col: samples \(samples) of \(batch) for \(g) need x \(batch * g.inputSize), col \(g.patchSize * columns)")
    let src = x.pointer, dst = col.pointer
    let (oh, ow, k, s, p) = (g.outHeight, g.outWidth, g.kernel, g.stride, g.padding)
    for c in 0..<g.channels {
        for i in 0..<k {
            for j in 0..<k {
                let rowBase = dst + ((c * k + i) * k + j) * columns
                if let shift = g.sameWidthShift(i, j) {
                    // The group's planes follow each other in x as their patch rows do in col
                    // (OH·OW = H·W): one copy for all of them, whose spill into each image's
                    // padding is cleared after it. One image's padding rows at the bottom and
                    // the next one's at the top are one run.
                    let from = src + (c * batch + samples.lowerBound) * image + shift.block.lowerBound + shift.offset
                    (rowBase + shift.block.lowerBound).update(from: from, count: (samples.count - 1) * plane + shift.block.count)
                    let top = shift.rows.lowerBound * ow, bottom = (oh - shift.rows.upperBound) * ow
                    rowBase.update(repeating: 0, count: top)
                    for n in 0..<samples.count {
                        let out = rowBase + n * plane
                        shift.clearWrappedColumns(out, width: ow)
                        (out + shift.rows.upperBound * ow).update(repeating: 0, count: bottom + (n + 1 < samples.count ? top : 0))
                    }
                    continue
                }
                // The outputs whose input column lies inside the image: ow·s - p + j in 0..<W.
                let first = min(max(0, (p - j + s - 1) / s), ow)
                let last = g.width - 1 + p - j
                let end = last < 0 ? first : max(min(ow, last / s + 1), first)
                for (n, b) in samples.enumerated() {
                    let source = src + (c * batch + b) * image
                    let out = rowBase + n * plane
                    for y in 0..<oh {
                        let iy = y * s - p + i
                        let o = out + y * ow
                        if iy < 0 || iy >= g.height {
                            o.update(repeating: 0, count: ow)
                            continue
                        }
                        let line = source + iy * g.width
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

/// The adjoint of `im2col`: folds patch columns back into the images they came from.
///
/// - Parameters:
///   - col: (C·k·k, G·OH·OW) for the G = samples.count images, laid out as `im2col` writes it.
///     Entries that fall in the padding may be set to 0 on the way: they are the gradient of
///     nothing.
///   - dx: (C, batch, H, W); the planes of `samples` are overwritten with the folded sums,
///     the others left alone.
public func col2im(_ col: Tensor, batch: Int, samples: Range<Int>, geometry g: ConvGeometry, into dx: Tensor) {
    let plane = g.outputPlane, image = g.height * g.width
    let columns = samples.count * plane
    precondition(samples.lowerBound >= 0 && samples.upperBound <= batch && batch * g.inputSize <= dx.count
                 && g.patchSize * columns <= col.count,
                 "col2im: samples \(samples) of \(batch) for \(g) need dx \(batch * g.inputSize), col \(g.patchSize * columns)")
    let src = col.pointer, dst = dx.pointer
    for c in 0..<g.channels { (dst + (c * batch + samples.lowerBound) * image).update(repeating: 0, count: samples.count * image) }
    let (oh, ow, k, s, p) = (g.outHeight, g.outWidth, g.kernel, g.stride, g.padding)
    for c in 0..<g.channels {
        for i in 0..<k {
            for j in 0..<k {
                let rowBase = src + ((c * k + i) * k + j) * columns
                if let shift = g.sameWidthShift(i, j) {
                    for n in 0..<samples.count {
                        let input = rowBase + n * plane
                        // Zeroed, the wrapped entries add nothing to the neighbouring row they map onto.
                        shift.clearWrappedColumns(input, width: ow)
                        let from = input + shift.block.lowerBound
                        let to = dst + (c * batch + samples.lowerBound + n) * image + shift.block.lowerBound + shift.offset
                        for t in 0..<shift.block.count { to[t] += from[t] }
                    }
                    continue
                }
                let first = min(max(0, (p - j + s - 1) / s), ow)
                let last = g.width - 1 + p - j
                let end = last < 0 ? first : max(min(ow, last / s + 1), first)
                for (n, b) in samples.enumerated() {
                    let target = dst + (c * batch + b) * image
                    let input = rowBase + n * plane
                    for y in 0..<oh {
                        let iy = y * s - p + i
                        if iy < 0 || iy >= g.height { continue }
                        let line = target + iy * g.width
                        let o = input + y * ow
                        if s == 1 {
                            let shifted = line + (j - p)
                            for xo in first..<end { shifted[xo] += o[xo] }
                        } else {
                            for xo in first..<end { line[xo * s - p + j] += o[xo] }
                        }
                    }
                }
            }
        }
    }
}

/// For stride 1 and "same" width (OW = W, as padding (k - 1) / 2 gives, and then OH = H as
/// well): patch row (i, j) of an image is the image itself shifted by i - p rows and j - p
/// columns. Its rows that lie inside the image are then one contiguous run of the image,
/// except for the |j - p| columns at one edge of each row that wrap around from the
/// neighbouring row and belong to the padding.
struct SameWidthShift {
    /// The output rows whose input row lies inside the image.
    let rows: Range<Int>
    /// The output positions (y·OW + x) that one contiguous copy covers.
    let block: Range<Int>
    /// Input position minus output position, (i - p)·W + j - p.
    let offset: Int
    /// j - p: the wrapped columns are the first -columnShift or the last columnShift of each row.
    let columnShift: Int

    /// Zeroes the wrapped columns of `rows` in one image's patch row `out` (OH, OW).
    func clearWrappedColumns(_ out: UnsafeMutablePointer<Float>, width: Int) {
        guard columnShift != 0 else { return }
        let wrapped = columnShift < 0 ? 0..<(-columnShift) : (width - columnShift)..<width
        for y in rows {
            for x in wrapped { out[y * width + x] = 0 }
        }
    }
}

extension ConvGeometry {
    /// The contiguous form of patch row (i, j), or nil unless stride is 1 and OW = W > padding
    /// (and so OH = H).
    func sameWidthShift(_ i: Int, _ j: Int) -> SameWidthShift? {
        guard stride == 1, outWidth == width, outHeight == height, padding < width else { return nil }
        // Output row y reads input row y + i - p.
        let top = min(max(0, padding - i), outHeight)
        let rows = top..<max(min(outHeight, height + padding - i), top)
        let d = j - padding
        let start = rows.lowerBound * width + max(0, -d)
        let block = start..<max(rows.upperBound * width - max(0, d), start)
        return SameWidthShift(rows: rows, block: block, offset: (i - padding) * width + d, columnShift: d)
    }
}

/// `m[r, j] += bias[r]`, then, if `relu`, `m[r, j] = max(m[r, j], 0)`: a convolution's
/// epilogue, with one channel per row of its (C_out, batch·OH·OW) output.
public func addBiasPerRow(_ m: Matrix, bias: Tensor, relu: Bool) {
    precondition(bias.count == m.rows, "addBiasPerRow: bias of \(bias.count) for \(m.rows) rows")
    for r in 0..<m.rows {
        let row = m.pointer + r * m.ld
        let b = bias.pointer[r]
        if relu {
            for j in 0..<m.cols {
                let v = row[j] + b
                row[j] = v > 0 ? v : 0
            }
        } else {
            for j in 0..<m.cols { row[j] += b }
        }
    }
}

/// The gradient counterpart of `addBiasPerRow`: zeroes `dy` where the ReLU output `y` was not
/// positive (if `relu`), in place, and adds each row's sum into `biasGrad`.
public func reluBackwardWithRowSums(_ dy: Matrix, output y: Matrix, relu: Bool, biasGrad: Tensor) {
    precondition(dy.rows == y.rows && dy.cols == y.cols && biasGrad.count == dy.rows,
                 "reluBackwardWithRowSums: dy \(dy.rows)x\(dy.cols), y \(y.rows)x\(y.cols), bias \(biasGrad.count)")
    for r in 0..<dy.rows {
        let g = dy.pointer + r * dy.ld, o = y.pointer + r * y.ld
        // Eight running sums, so that the loop vectorises (one sum would be a serial chain).
        var sums = SIMD8<Float>.zero
        var j = 0
        while j + 8 <= dy.cols {
            var v = UnsafeRawPointer(g + j).loadUnaligned(as: SIMD8<Float>.self)
            if relu {
                let out = UnsafeRawPointer(o + j).loadUnaligned(as: SIMD8<Float>.self)
                v.replace(with: SIMD8<Float>(repeating: 0), where: .!(out .> SIMD8<Float>(repeating: 0)))
                UnsafeMutableRawPointer(g + j).storeBytes(of: v, as: SIMD8<Float>.self)
            }
            sums += v
            j += 8
        }
        var sum = sums.sum()
        while j < dy.cols {
            let v = relu && !(o[j] > 0) ? 0 : g[j]
            g[j] = v
            sum += v
            j += 1
        }
        biasGrad.pointer[r] += sum
    }
}

/// Channel-major planes to sample-major rows: x (C, batch, P) → y (batch, C·P), as a flatten
/// after convolutions needs; and back with `reverse`.
public func transposePlanes(_ x: Tensor, channels: Int, batch: Int, plane: Int, into y: Tensor, reverse: Bool = false) {
    precondition(channels * batch * plane <= x.count && channels * batch * plane <= y.count,
                 "transposePlanes: \(channels)×\(batch)×\(plane) in \(x.count) and \(y.count) elements")
    let s = x.pointer, d = y.pointer
    for c in 0..<channels {
        for b in 0..<batch {
            let channelMajor = (c * batch + b) * plane, sampleMajor = (b * channels + c) * plane
            if reverse {
                (d + channelMajor).update(from: s + sampleMajor, count: plane)
            } else {
                (d + sampleMajor).update(from: s + channelMajor, count: plane)
            }
        }
    }
}
