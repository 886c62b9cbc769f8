/// GELU with PyTorch's tanh approximation (`F.gelu(x, approximate="tanh")`):
/// `gelu(x) = ½·x·(1 + tanh(u))` with `u = √(2/π)·(x + 0.044715·x³)`.
///
/// Since ½·(1 + tanh(u)) = σ(2u) = 1 / (1 + e^(-2u)), both directions are computed from one
/// vectorised exponential, without the cancellation that 1 + tanh(u) has for large negative u:
/// `gelu(x) = x·s` and `gelu'(x) = s + 2·x·s·(1 - s)·√(2/π)·(1 + 3·0.044715·x²)`, s = σ(2u).

private let sqrtTwoOverPi: Float = 0.797_884_56
private let cubic: Float = 0.044_715

/// σ(2u) for the pre-activation x.
@inline(__always)
private func halfOnePlusTanh(_ x: Float) -> Float {
    let u = sqrtTwoOverPi * (x + cubic * x * x * x)
    return 1 / (1 + exponential(-2 * u))
}

/// `x[r, j] += bias[j]`, then `y[r, j] = gelu(x[r, j])`: the epilogue of the MLP's first linear
/// layer. x keeps the biased pre-activation, which backward reads.
///
/// - Parameters:
///   - x: (rows, cols), the GEMM's output.
///   - bias: (cols).
///   - y: (rows, cols).
public func addBiasGELU(_ x: Matrix, bias: Tensor, into y: Matrix) {
    precondition(bias.count == x.cols && y.rows == x.rows && y.cols == x.cols,
                 "addBiasGELU: x \(x.rows)x\(x.cols), bias \(bias.count), y \(y.rows)x\(y.cols)")
    let b = bias.pointer
    for r in 0..<x.rows {
        let input = x.pointer + r * x.ld, output = y.pointer + r * y.ld
        for j in 0..<x.cols {
            let v = input[j] + b[j]
            input[j] = v
            output[j] = v * halfOnePlusTanh(v)
        }
    }
}

/// GELU's backward, in place: `dy[r, j] *= gelu'(x[r, j])`, and `biasGradient[j] += Σ_r dy[r, j]`
/// of the result, the bias gradient of the linear layer before it.
///
/// - Parameters:
///   - dy: (rows, cols), the gradient of the GELU's output; left holding that of its input.
///   - x: (rows, cols), the pre-activation `addBiasGELU` kept.
///   - biasGradient: (cols), accumulated into.
public func geluBackward(_ dy: Matrix, preActivation x: Matrix, biasGradient: Tensor) {
    precondition(x.rows == dy.rows && x.cols == dy.cols && biasGradient.count == dy.cols,
                 "geluBackward: dy \(dy.rows)x\(dy.cols), x \(x.rows)x\(x.cols), bias gradient \(biasGradient.count)")
    let sums = biasGradient.pointer
    for r in 0..<dy.rows {
        let g = dy.pointer + r * dy.ld, input = x.pointer + r * x.ld
        for j in 0..<dy.cols {
            // Beyond ±20, s is exactly 0 or 1 and the slope exactly 0 or 1; the clamp keeps v³
            // finite there, where 0·∞ would give NaN.
            let v = min(max(input[j], -20), 20)
            let s = halfOnePlusTanh(v)
            let slope = s + 2 * v * s * (1 - s) * sqrtTwoOverPi * (1 + 3 * cubic * v * v)
            let d = g[j] * slope
            g[j] = d
            sums[j] += d
        }
    }
}
