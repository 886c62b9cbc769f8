import Tensor

/// A LayerNorm of `GPT` (nanoGPT's `ln_1`, `ln_2`, `ln_f`): its weight and bias slices in the
/// store, and the output, mean and rstd of up to `maxRows` rows that forward keeps for backward.
///
/// - `weight`: [C], initialised to 1; `bias`: [C], to 0 (the slice after the weight).
/// - x: (rows, C) → `output`: (rows, C).
struct LayerNorm {
    /// The slice index of the weight; the bias is the next.
    let index: Int
    let weight: Tensor, bias: Tensor, weightGradient: Tensor, biasGradient: Tensor
    /// (maxRows, C), and (maxRows) each.
    let output: Tensor, mean: Tensor, rstd: Tensor

    init(_ store: ParameterStore, index: Int, maxRows: Int) {
        self.index = index
        weight = store.value(index)
        bias = store.value(index + 1)
        weightGradient = store.gradient(index)
        biasGradient = store.gradient(index + 1)
        output = Tensor(zeros: [maxRows, weight.count])
        mean = Tensor(zeros: [maxRows])
        rstd = Tensor(zeros: [maxRows])
    }

    /// The first `rows` rows of `output`.
    func output(rows: Int) -> Matrix { Matrix(output, rows: rows, cols: weight.count) }

    func forward(_ x: Matrix) {
        // x: (rows, C) -> output: (rows, C)
        layerNormForward(x, weight: weight, bias: bias, into: output(rows: x.rows), mean: mean, rstd: rstd)
    }

    /// `dx += ∂/∂x`, the parameter gradients accumulated and reported (bias, then weight).
    func backward(_ dy: Matrix, input x: Matrix, inputGradient dx: Matrix, observer: GradientObserver) {
        layerNormBackward(dy, input: x, weight: weight, mean: mean, rstd: rstd, inputGradient: dx,
                          weightGradient: weightGradient, biasGradient: biasGradient)
        observer.reportWhole(parameter: index + 1)
        observer.reportWhole(parameter: index)
    }
}
