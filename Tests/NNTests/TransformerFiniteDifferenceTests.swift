import NN
import Tensor
import TestSupport
import XCTest

/// The transformer's kernels and a whole small GPT against central finite differences of
/// objectives evaluated in Double: LayerNorm, GELU, causal attention and the embeddings with
/// `L = Σ r·y` for a fixed random r, and the GPT's summed cross-entropy for every parameter,
/// wte's gradient included (the tied head's part and the embedding's part).
///
/// These functions are smooth, so a step of 1e-2 leaves a truncation error of order 1e-5;
/// `checkGradient` allows 2e-4 + 1% per element and 0.2% over each vector, and must reject the
/// analytic gradient scaled by 1.03.
final class TransformerFiniteDifferenceTests: EveryGEMMProviderTestCase {
    /// ∂objective/∂t[i] for the first `count` elements of `t`, by central differences.
    private func numeric(_ t: Tensor, count: Int? = nil, eps: Float = 1e-2, _ objective: () -> Double) -> [Double?] {
        (0..<(count ?? t.count)).map { i in
            let saved = t[i]
            t[i] = saved + eps
            let plus = objective()
            t[i] = saved - eps
            let minus = objective()
            t[i] = saved
            return (plus - minus) / (Double(saved + eps) - Double(saved - eps))
        }
    }

    private func projection(_ r: [Float], _ y: Tensor) -> Double {
        r.indices.reduce(0.0) { $0 + Double(r[$1]) * Double(y[$1]) }
    }

    private func values(_ t: Tensor) -> [Double] { t.toArray().map(Double.init) }

    private func random(_ shape: [Int], _ rng: inout SeededGenerator, _ low: Float = -1, _ high: Float = 1) -> Tensor {
        Tensor(shape: shape, values: (0..<Tensor.elementCount(shape)).map { _ in rng.uniform(low, high) })
    }

    func testLayerNorm() {
        everyGEMMProvider {
            let rows = 3, c = 8
            var rng = SeededGenerator(seed: 101)
            let x = random([rows * c], &rng, -2, 2), weight = random([c], &rng, 0.5, 1.5), bias = random([c], &rng)
            let y = Tensor(zeros: [rows * c]), mean = Tensor(zeros: [rows]), rstd = Tensor(zeros: [rows])
            let r = (0..<(rows * c)).map { _ in rng.uniform(-1, 1) }
            func objective() -> Double {
                layerNormForward(Matrix(x, rows: rows, cols: c), weight: weight, bias: bias, into: Matrix(y, rows: rows, cols: c),
                                 mean: mean, rstd: rstd)
                return projection(r, y)
            }
            _ = objective()
            let dy = Tensor(shape: [rows * c], values: r), dx = Tensor(zeros: [rows * c])
            let dw = Tensor(zeros: [c]), db = Tensor(zeros: [c])
            layerNormBackward(Matrix(dy, rows: rows, cols: c), input: Matrix(x, rows: rows, cols: c), weight: weight, mean: mean,
                              rstd: rstd, inputGradient: Matrix(dx, rows: rows, cols: c), weightGradient: dw, biasGradient: db)
            checkGradient(values(dx), numeric(x, objective), "layer norm input")
            checkGradient(values(dw), numeric(weight, objective), "layer norm weight")
            checkGradient(values(db), numeric(bias, objective), "layer norm bias")
        }
    }

    func testGELUWithItsBias() {
        everyGEMMProvider {
            let rows = 3, c = 9
            var rng = SeededGenerator(seed: 102)
            let x = random([rows * c], &rng, -4, 4), bias = random([c], &rng, -0.5, 0.5)
            let pre = Tensor(zeros: [rows * c]), y = Tensor(zeros: [rows * c])
            let r = (0..<(rows * c)).map { _ in rng.uniform(-1, 1) }
            func objective() -> Double {
                pre.assign(x)
                addBiasGELU(Matrix(pre, rows: rows, cols: c), bias: bias, into: Matrix(y, rows: rows, cols: c))
                return projection(r, y)
            }
            _ = objective()
            let d = Tensor(shape: [rows * c], values: r), db = Tensor(zeros: [c])
            geluBackward(Matrix(d, rows: rows, cols: c), preActivation: Matrix(pre, rows: rows, cols: c), biasGradient: db)
            checkGradient(values(d), numeric(x, objective), "gelu input")
            checkGradient(values(db), numeric(bias, objective), "gelu bias")
        }
    }

    func testCausalAttention() {
        everyGEMMProvider {
            let attention = CausalSelfAttention(context: 5, heads: 2, embed: 4, tile: 2)
            let batch = 2, n = batch * 5
            var rng = SeededGenerator(seed: 103)
            let qkv = random([n * 12], &rng, -1.5, 1.5)
            let p = Tensor(zeros: [batch * attention.probabilitiesPerSequence]), y = Tensor(zeros: [n * 4])
            let r = (0..<(n * 4)).map { _ in rng.uniform(-1, 1) }
            func objective() -> Double {
                attention.forward(qkv: qkv, probabilities: p, into: y, batch: batch)
                return projection(r, y)
            }
            _ = objective()
            let dqkv = Tensor(zeros: [n * 12])
            attention.backward(outputGradient: Tensor(shape: [n * 4], values: r), qkv: qkv, probabilities: p,
                               scratch: Tensor(zeros: [attention.scratchCount]), into: dqkv, batch: batch)
            checkGradient(values(dqkv), numeric(qkv, objective), "attention qkv")
        }
    }

    func testEmbeddings() {
        everyGEMMProvider {
            let vocab = 6, context = 4, c = 3, sequences = 2
            var rng = SeededGenerator(seed: 104)
            let wte = random([vocab * c], &rng), wpe = random([context * c], &rng), x = Tensor(zeros: [sequences * context * c])
            let tokens: [Int32] = [5, 1, 5, 0, 2, 5, 1, 3]
            let r = (0..<x.count).map { _ in rng.uniform(-1, 1) }
            func objective() -> Double {
                tokens.withUnsafeBufferPointer {
                    embeddingForward(tokens: $0, tokenTable: Matrix(wte, rows: vocab, cols: c), positionTable: Matrix(wpe, rows: context, cols: c),
                                     sequences: sequences, context: context, into: x)
                }
                return projection(r, x)
            }
            let dwte = Tensor(zeros: [vocab * c]), dwpe = Tensor(zeros: [context * c])
            tokens.withUnsafeBufferPointer {
                embeddingBackward(Tensor(shape: [x.count], values: r), tokens: $0, sequences: sequences, context: context,
                                  tokenGradient: Matrix(dwte, rows: vocab, cols: c), positionGradient: Matrix(dwpe, rows: context, cols: c))
            }
            // Token 4 never occurs: its row has no gradient, which the numeric one must agree with.
            let numericWte = numeric(wte, objective)
            checkGradient(values(dwte), numericWte, "token embedding")
            XCTAssertEqual(Array(values(dwte)[(4 * c)..<(5 * c)]), [0, 0, 0])
            checkGradient(values(dwpe), numeric(wpe, objective), "position embedding")
        }
    }

    /// Every parameter of a one-block GPT against differences of its summed cross-entropy. Two
    /// of the seven tokens never occur in the input, so their rows of wte get only the head's
    /// gradient, the others both the head's and the embedding's.
    func testWholeGPTWithTiedHead() throws {
        try everyGEMMProvider {
            let config = GPTConfig(vocab: 7, context: 5, layers: 1, heads: 2, embed: 4)
            let batch = 2
            let model = try GPT(config: config, maxBatch: batch)
            var rng = SeededGenerator(seed: 105)
            for i in 0..<model.parameters.totalCount { model.parameters.values[i] = rng.uniform(-0.8, 0.8) }
            let tokens: [Int32] = [0, 3, 1, 3, 6, 2, 0, 6, 1, 3], targets: [Int32] = [3, 1, 5, 6, 2, 4, 6, 1, 3, 0]
            XCTAssertEqual(Set(tokens).count, 5, "tokens 4 and 5 are not in the input")
            for i in tokens.indices {
                model.tokens[i] = tokens[i]
                model.targets[i] = targets[i]
            }
            model.parameters.zeroGradients()
            model.forward(batch: batch)
            _ = model.lossAndGradient(batch: batch, gradientScale: 1)
            model.backward(batch: batch, observer: WholeGradients(model.parameters))
            let analytic = values(model.parameters.gradients)
            let numerical = numeric(model.parameters.values, eps: 1e-2) {
                model.forward(batch: batch)
                return model.loss(batch: batch)
            }
            for slice in model.parameters.slices {
                checkGradient(Array(analytic[slice.range]), Array(numerical[slice.range]), slice.name)
            }
            let wte = model.parameters.slices[0]
            for token in [4, 5] {
                let row = Array(analytic[(wte.offset + token * 4)..<(wte.offset + token * 4 + 4)])
                XCTAssertGreaterThan(maxMagnitude(row), 1e-3, "token \(token)'s head gradient")
            }
        }
    }
}
