import Tensor

/// One pre-LayerNorm block of `GPT`, nanoGPT's `Block`:
/// `m = x + attn.c_proj(attention(attn.c_attn(ln_1(x))))`, then
/// `y = m + mlp.c_proj(gelu(mlp.c_fc(ln_2(m))))`.
///
/// Its 12 parameter slices start at `first`, in nanoGPT's order: ln_1 weight and bias,
/// attn.c_attn [3C, C] and bias, attn.c_proj [C, C] and bias, ln_2, mlp.c_fc [4C, C] and bias,
/// mlp.c_proj [C, 4C] and bias. It keeps every activation backward reads, for up to
/// maxBatch·T rows; x and y belong to the model's residual stream.
final class TransformerBlock {
    /// The parameter names after "transformer.h.{i}.", with their shapes, in layout order.
    static func parameterShapes(embed c: Int) -> [(suffix: String, shape: [Int])] {
        [("ln_1.weight", [c]), ("ln_1.bias", [c]), ("attn.c_attn.weight", [3 * c, c]), ("attn.c_attn.bias", [3 * c]),
         ("attn.c_proj.weight", [c, c]), ("attn.c_proj.bias", [c]), ("ln_2.weight", [c]), ("ln_2.bias", [c]),
         ("mlp.c_fc.weight", [4 * c, c]), ("mlp.c_fc.bias", [4 * c]), ("mlp.c_proj.weight", [c, 4 * c]),
         ("mlp.c_proj.bias", [c])]
    }

    let attention: CausalSelfAttention
    private let ln1: LayerNorm, ln2: LayerNorm
    private let attn: LinearWeight, attnProj: LinearWeight, fc: LinearWeight, mlpProj: LinearWeight
    private let attnBias: Tensor, attnProjBias: Tensor, fcBias: Tensor, mlpProjBias: Tensor
    private let attnBiasGradient: Tensor, attnProjBiasGradient: Tensor, fcBiasGradient: Tensor, mlpProjBiasGradient: Tensor
    /// (maxBatch·T, 3C): c_attn's output.
    private let qkv: Tensor
    /// (maxBatch, heads, T, T): the attention probabilities.
    private let probabilities: Tensor
    /// (maxBatch·T, C): the heads' outputs side by side, c_proj's input.
    private let heads: Tensor
    /// (maxBatch·T, C): x + the attention's output.
    private let middle: Tensor
    /// (maxBatch·T, 4C): c_fc's output with its bias (GELU's input), and the GELU's output.
    private let preActivation: Tensor, hidden: Tensor

    init(_ store: ParameterStore, first: Int, attention: CausalSelfAttention, maxBatch: Int) {
        self.attention = attention
        let rows = maxBatch * attention.context, c = attention.embed
        ln1 = LayerNorm(store, index: first, maxRows: rows)
        attn = LinearWeight(store, index: first + 2)
        attnProj = LinearWeight(store, index: first + 4)
        ln2 = LayerNorm(store, index: first + 6, maxRows: rows)
        fc = LinearWeight(store, index: first + 8)
        mlpProj = LinearWeight(store, index: first + 10)
        (attnBias, attnBiasGradient) = (store.value(first + 3), store.gradient(first + 3))
        (attnProjBias, attnProjBiasGradient) = (store.value(first + 5), store.gradient(first + 5))
        (fcBias, fcBiasGradient) = (store.value(first + 9), store.gradient(first + 9))
        (mlpProjBias, mlpProjBiasGradient) = (store.value(first + 11), store.gradient(first + 11))
        qkv = Tensor(zeros: [rows, 3 * c])
        probabilities = Tensor(zeros: [maxBatch * attention.probabilitiesPerSequence])
        heads = Tensor(zeros: [rows, c])
        middle = Tensor(zeros: [rows, c])
        preActivation = Tensor(zeros: [rows, 4 * c])
        hidden = Tensor(zeros: [rows, 4 * c])
    }

    private func rows(_ t: Tensor, _ rows: Int) -> Matrix { Matrix(t, rows: rows, cols: t.shape[1]) }

    /// x: (batch·T, C) → y: (batch·T, C).
    func forward(_ x: Matrix, into y: Matrix, batch: Int) {
        forward(x, into: y) { _, _ in
            attention.forward(qkv: qkv, probabilities: probabilities, into: heads, batch: batch)
        }
    }

    /// The incremental forward of one sequence: x: (n, C), positions start..<start + n → y: (n, C).
    /// The new positions' keys and values are appended to `keys` and `values`, (heads, T, hs)
    /// each, whose rows 0..<start hold those of the positions before.
    func forward(_ x: Matrix, into y: Matrix, appendingTo keys: Tensor, values: Tensor, at start: Int) {
        forward(x, into: y) { qkv, heads in
            attention.forward(appending: qkv, at: start, keys: keys, values: values, probabilities: probabilities, into: heads)
        }
    }

    /// The block around its attention, which `attend` runs from the first x.rows rows of qkv
    /// (rows, 3C) into those of the heads' outputs (rows, C).
    private func forward(_ x: Matrix, into y: Matrix, attend: (_ qkv: Matrix, _ heads: Matrix) -> Void) {
        let n = x.rows
        let qkv = rows(self.qkv, n), heads = rows(self.heads, n), middle = rows(self.middle, n)
        let pre = rows(preActivation, n), hidden = rows(self.hidden, n)
        ln1.forward(x)
        attn.forward(ln1.output(rows: n), into: qkv)                          // (n, 3C)
        addBiasRows(qkv, bias: attnBias, relu: false)
        attend(qkv, heads)                                                    // (n, C)
        attnProj.forward(heads, into: middle)                                 // (n, C)
        addBiasAndResidual(middle, bias: attnProjBias, residual: x)
        ln2.forward(middle)
        fc.forward(ln2.output(rows: n), into: pre)                            // (n, 4C)
        addBiasGELU(pre, bias: fcBias, into: hidden)
        mlpProj.forward(hidden, into: y)                                      // (n, C)
        addBiasAndResidual(y, bias: mlpProjBias, residual: middle)
    }

    /// From the gradient of y in `dResidual`, accumulates every parameter gradient (reported as
    /// each becomes final, from mlp.c_proj back to ln_1) and leaves the gradient of x in
    /// `dResidual`.
    ///
    /// - Parameters:
    ///   - x: (batch·T, C), forward's input.
    ///   - dResidual: (batch·T, C), the residual stream's gradient.
    ///   - scratch: the gradient buffers the blocks share.
    func backward(input x: Matrix, residualGradient dResidual: Matrix, scratch: BlockScratch, batch: Int,
                  observer: GradientObserver) {
        let n = x.rows, c = attention.embed
        let dNarrow = Matrix(scratch.narrow, rows: n, cols: c)
        let dHidden = Matrix(scratch.wide, rows: n, cols: 4 * c), dqkv = Matrix(scratch.wide, rows: n, cols: 3 * c)

        // mlp.c_proj, whose output gradient is the residual stream's: bias first, as Linear.
        accumulateColumnSums(dResidual, into: Matrix(mlpProjBiasGradient, rows: 1, cols: c))
        observer.reportWhole(parameter: mlpProj.index + 1)
        mlpProj.accumulateGradient(outputGradient: dResidual, input: rows(hidden, n), observer: observer)
        mlpProj.inputGradient(dResidual, into: dHidden)                       // (n, 4C)
        // GELU, then c_fc, whose bias gradient the GELU's backward sums.
        geluBackward(dHidden, preActivation: rows(preActivation, n), biasGradient: fcBiasGradient)
        observer.reportWhole(parameter: fc.index + 1)
        fc.accumulateGradient(outputGradient: dHidden, input: ln2.output(rows: n), observer: observer)
        fc.inputGradient(dHidden, into: dNarrow)                              // (n, C)
        ln2.backward(dNarrow, input: rows(middle, n), inputGradient: dResidual, observer: observer)

        // attn.c_proj, then the attention, then c_attn.
        accumulateColumnSums(dResidual, into: Matrix(attnProjBiasGradient, rows: 1, cols: c))
        observer.reportWhole(parameter: attnProj.index + 1)
        attnProj.accumulateGradient(outputGradient: dResidual, input: rows(heads, n), observer: observer)
        attnProj.inputGradient(dResidual, into: dNarrow)                      // (n, C)
        attention.backward(outputGradient: scratch.narrow, qkv: qkv, probabilities: probabilities, scratch: scratch.square,
                           into: scratch.wide, batch: batch)                  // (n, 3C)
        accumulateColumnSums(dqkv, into: Matrix(attnBiasGradient, rows: 1, cols: 3 * c))
        observer.reportWhole(parameter: attn.index + 1)
        attn.accumulateGradient(outputGradient: dqkv, input: ln1.output(rows: n), observer: observer)
        attn.inputGradient(dqkv, into: dNarrow)                               // (n, C)
        ln1.backward(dNarrow, input: x, inputGradient: dResidual, observer: observer)
    }
}

/// The gradient buffers every block's backward uses in turn, for up to maxBatch·T rows.
struct BlockScratch {
    /// (maxBatch·T, 4C): the MLP's hidden gradient, then the attention's qkv gradient (3C wide).
    let wide: Tensor
    /// (maxBatch·T, C): the gradient of a LayerNorm's output, or of the heads' outputs.
    let narrow: Tensor
    /// The attention's T × T scratch.
    let square: Tensor

    init(attention: CausalSelfAttention, maxBatch: Int) {
        let rows = maxBatch * attention.context
        wide = Tensor(zeros: [rows * 4 * attention.embed])
        narrow = Tensor(zeros: [rows * attention.embed])
        square = Tensor(zeros: [attention.scratchCount])
    }
}
