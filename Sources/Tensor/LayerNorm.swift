/// Layer normalisation over the last dimension, as `torch.nn.LayerNorm(C)` with eps 1e-5:
/// `y = (x - mean)·rstd·weight + bias`, rstd = 1/√(biased variance + eps), per row.
///
/// The row reductions run eight lanes wide (SIMD8), so that they vectorise; the variance is
/// taken around the mean in a second pass, as exact as PyTorch's.

/// PyTorch's default `eps`.
public let layerNormEpsilon: Float = 1e-5

/// - Parameters:
///   - x: (rows, C).
///   - weight, bias: (C).
///   - y: receives (rows, C).
///   - mean, rstd: receive (rows), for backward.
public func layerNormForward(_ x: Matrix, weight: Tensor, bias: Tensor, into y: Matrix, mean: Tensor, rstd: Tensor) {
    let n = x.cols
    precondition(weight.count == n && bias.count == n && y.rows == x.rows && y.cols == n && mean.count >= x.rows
                 && rstd.count >= x.rows && n > 0,
                 "layerNormForward: x \(x.rows)x\(n), weight \(weight.count), bias \(bias.count), y \(y.rows)x\(y.cols), mean \(mean.count), rstd \(rstd.count)")
    let w = weight.pointer, b = bias.pointer
    for r in 0..<x.rows {
        let src = x.pointer + r * x.ld, dst = y.pointer + r * y.ld
        var lanes = SIMD8<Float>(repeating: 0)
        var j = 0
        while j + 8 <= n {
            lanes += src.lanes(at: j)
            j += 8
        }
        var total = lanes.sum()
        while j < n {
            total += src[j]
            j += 1
        }
        let mu = total / Float(n)
        lanes = SIMD8(repeating: 0)
        j = 0
        while j + 8 <= n {
            let d = src.lanes(at: j) - mu
            lanes += d * d
            j += 8
        }
        var squares = lanes.sum()
        while j < n {
            squares += (src[j] - mu) * (src[j] - mu)
            j += 1
        }
        let s = 1 / (squares / Float(n) + layerNormEpsilon).squareRoot()
        mean.pointer[r] = mu
        rstd.pointer[r] = s
        for j in 0..<n { dst[j] = (src[j] - mu) * s * w[j] + b[j] }
    }
}

/// LayerNorm's backward. With x̂ = (x - mean)·rstd and g = dy·weight per row:
/// `dx += rstd·(g - mean(g) - x̂·mean(g·x̂))`, `weightGradient += Σ_rows dy·x̂`,
/// `biasGradient += Σ_rows dy`.
///
/// - Parameters:
///   - dy: (rows, C).
///   - x: (rows, C), the forward input; mean and rstd what forward saved for it.
///   - dx: (rows, C), accumulated into (the residual stream's gradient).
///   - weightGradient, biasGradient: (C), accumulated into.
public func layerNormBackward(_ dy: Matrix, input x: Matrix, weight: Tensor, mean: Tensor, rstd: Tensor,
                              inputGradient dx: Matrix, weightGradient: Tensor, biasGradient: Tensor) {
    let n = x.cols
    precondition(dy.rows == x.rows && dy.cols == n && dx.rows == x.rows && dx.cols == n && weight.count == n
                 && weightGradient.count == n && biasGradient.count == n && mean.count >= x.rows && rstd.count >= x.rows,
                 "layerNormBackward: dy \(dy.rows)x\(dy.cols), x \(x.rows)x\(n), dx \(dx.rows)x\(dx.cols), weight \(weight.count)")
    let w = weight.pointer, dw = weightGradient.pointer, db = biasGradient.pointer
    for r in 0..<x.rows {
        let g = dy.pointer + r * dy.ld, src = x.pointer + r * x.ld, out = dx.pointer + r * dx.ld
        let mu = mean.pointer[r], s = rstd.pointer[r]
        // Σ g and Σ g·x̂, with the parameter gradients on the way.
        var gLanes = SIMD8<Float>(repeating: 0), gxLanes = SIMD8<Float>(repeating: 0)
        var j = 0
        while j + 8 <= n {
            let d = g.lanes(at: j)
            let xhat = (src.lanes(at: j) - mu) * s
            let scaled = d * w.lanes(at: j)
            gLanes += scaled
            gxLanes += scaled * xhat
            dw.setLanes(dw.lanes(at: j) + d * xhat, at: j)
            db.setLanes(db.lanes(at: j) + d, at: j)
            j += 8
        }
        var gSum = gLanes.sum(), gxSum = gxLanes.sum()
        while j < n {
            let xhat = (src[j] - mu) * s
            gSum += g[j] * w[j]
            gxSum += g[j] * w[j] * xhat
            dw[j] += g[j] * xhat
            db[j] += g[j]
            j += 1
        }
        let gMean = gSum / Float(n), gxMean = gxSum / Float(n)
        for j in 0..<n {
            let xhat = (src[j] - mu) * s
            out[j] += s * (g[j] * w[j] - gMean - xhat * gxMean)
        }
    }
}
