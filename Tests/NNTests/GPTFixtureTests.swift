import NN
import Tensor
import TestSupport
import XCTest

/// A small GPT (2 layers, 2 heads, width 32, context 16, vocabulary 64) against PyTorch
/// (Fixtures/gpt.json, gpt.bin): logits, loss and every parameter's gradient from the same
/// formula weights and tokens; then two training steps of AdamW with clipping to a global
/// gradient norm of 1, which acts in both.
final class GPTFixtureTests: EveryGEMMProviderTestCase {
    /// Builds the fixture's model with room for one more sequence than its batch, loads the
    /// formula weights, and writes the tokens and targets (garbage, in range, past the batch).
    static func model(_ f: GPTFixture) throws -> GPT {
        let c = f.config
        let config = GPTConfig(vocab: c.vocab, context: c.context, layers: c.layers, heads: c.heads, embed: c.embed)
        let model = try GPT(config: config, maxBatch: f.batch + 1)
        XCTAssertEqual(model.parameters.slices.map(\.name), f.parameters.map(\.name), "parameter names and order")
        XCTAssertEqual(model.parameters.totalCount, config.parameterCount)
        for (slice, p) in zip(model.parameters.slices, f.parameters) {
            XCTAssertEqual(slice.shape, p.shape, slice.name)
            model.parameters.values.view(at: slice.offset, shape: [slice.count])
                .assign(Formula.symmetric(seed: p.seed, count: slice.count, scale: p.scale).map { p.offset + $0 })
        }
        let n = f.batch * c.context
        let tokens = Formula.labels(seed: f.tokens.seed, count: n, classes: c.vocab)
        let targets = Formula.labels(seed: f.targets.seed, count: n, classes: c.vocab)
        for i in 0..<model.tokens.count {
            model.tokens[i] = i < n ? tokens[i] : Int32(i % c.vocab)
            model.targets[i] = i < n ? targets[i] : 0
        }
        return model
    }

    func testLogitsLossAndGradientsMatchPyTorch() throws {
        try everyGEMMProvider {
            let f = try GPTFixture.load()
            let model = try Self.model(f)
            let positions = f.batch * f.config.context
            model.parameters.gradients.fill(.nan)
            model.parameters.zeroGradients()
            model.forward(batch: f.batch)
            let loss = model.lossAndGradient(batch: f.batch, gradientScale: 1 / Float(positions)) / Double(positions)
            model.backward(batch: f.batch, observer: WholeGradients(model.parameters))

            let expectedLogits = try XCTUnwrap(f.values["logits"])
            let logits = Array(model.logits.toArray()[0..<(positions * f.config.vocab)]).map(Double.init)
            assertClose(logits, expectedLogits, rtol: 1e-4, atol: 1e-4 * maxMagnitude(expectedLogits), "logits")
            assertClose(loss, f.losses[0], rtol: 1e-5, atol: 0, "loss")
            assertClose(model.loss(batch: f.batch) / Double(positions), f.losses[0], rtol: 1e-5, atol: 0, "loss without gradient")
            let expected = try XCTUnwrap(f.values["gradients"])
            let gradients = model.parameters.gradients.toArray().map(Double.init)
            for slice in model.parameters.slices {
                let e = Array(expected[slice.range])
                XCTAssertGreaterThan(maxMagnitude(e), 1e-4, "\(slice.name): too small a gradient to test")
                assertClose(Array(gradients[slice.range]), e, rtol: 1e-4, atol: 1e-4 * maxMagnitude(e), "\(slice.name) gradient")
            }
        }
    }

    /// Two steps of forward, backward, the global norm (as the trainer will sum it), the clip
    /// factor passed as the update's gradient scale, and AdamW with decay on 2-D parameters only.
    func testTwoClippedAdamWStepsMatchPyTorch() throws {
        try everyGEMMProvider {
            let f = try GPTFixture.load()
            let model = try Self.model(f)
            let positions = f.batch * f.config.context
            let o = f.optimizer
            let adam = AdamW(model.parameters, beta1: o.beta1, beta2: o.beta2, epsilon: o.eps, weightDecay: o.weightDecay,
                             decayScope: .matrices)
            for step in 0..<2 {
                model.forward(batch: f.batch)
                let loss = model.lossAndGradient(batch: f.batch, gradientScale: 1 / Float(positions)) / Double(positions)
                model.backward(batch: f.batch, observer: WholeGradients(model.parameters))
                assertClose(loss, f.losses[step], rtol: 1e-5, atol: 0, "loss before step \(step + 1)")
                let norm = sumOfSquares(model.parameters.gradients, range: 0..<model.parameters.totalCount).squareRoot()
                assertClose(norm, f.norms[step], rtol: 1e-5, atol: 0, "gradient norm at step \(step + 1)")
                let clip = gradientClipFactor(totalNorm: norm, maxNorm: o.maxNorm)
                XCTAssertLessThan(clip, 0.5, "clipping acts")
                adam.step(lr: o.lr, gradScale: clip)
                XCTAssertEqual(maxAbs(model.parameters.gradients), 0, "the step leaves the gradients zeroed")
            }
            let params = try XCTUnwrap(f.values["params"]), expAvg = try XCTUnwrap(f.values["exp_avg"])
            let values = model.parameters.values.toArray().map(Double.init), m = adam.state[0].buffer.toArray().map(Double.init)
            let c = f.config.embed
            for slice in model.parameters.slices {
                // The key bias's gradient is 0 (a constant added to a row's scores leaves its softmax
                // alone), so its elements hold rounding noise, Float32's in one and float64's in the
                // other, which Adam normalises into steps of up to lr either way: only its bound is checked.
                let noise = slice.name.hasSuffix("c_attn.bias") ? (slice.offset + c)..<(slice.offset + 2 * c) : slice.offset..<slice.offset
                for range in [slice.offset..<noise.lowerBound, noise.upperBound..<slice.range.upperBound] where !range.isEmpty {
                    // The two updates move each parameter by about 2e-3: 1e-6 of absolute error is 0.05% of them.
                    assertClose(Array(values[range]), Array(params[range]), rtol: 1e-5, atol: 1e-6, "\(slice.name)[\(range)] after two steps")
                    let e = Array(expAvg[range])
                    assertClose(Array(m[range]), e, rtol: 1e-4, atol: 1e-4 * maxMagnitude(e), "\(slice.name)[\(range)] exp_avg")
                }
                if !noise.isEmpty {
                    assertClose(Array(values[noise]), Array(params[noise]), rtol: 0, atol: 2.5 * Double(o.lr), "\(slice.name) key bias")
                }
            }
        }
    }

    /// The batch as micro-batches of 2 and 1 sequences accumulates to the same gradients.
    func testMicroBatchesAccumulateToTheWholeBatch() throws {
        try everyGEMMProvider {
            let f = try GPTFixture.load()
            let model = try Self.model(f)
            let t = f.config.context, positions = f.batch * t
            let tokens = Array(model.tokens), targets = Array(model.targets)
            model.parameters.zeroGradients()
            var loss = 0.0
            for (first, count) in [(0, 2), (2, 1)] {
                for i in 0..<(count * t) {
                    model.tokens[i] = tokens[first * t + i]
                    model.targets[i] = targets[first * t + i]
                }
                model.forward(batch: count)
                loss += model.lossAndGradient(batch: count, gradientScale: 1 / Float(positions))
                model.backward(batch: count, observer: WholeGradients(model.parameters))
            }
            assertClose(loss / Double(positions), f.losses[0], rtol: 1e-5, atol: 0, "loss")
            let expected = try XCTUnwrap(f.values["gradients"])
            let gradients = model.parameters.gradients.toArray().map(Double.init)
            for slice in model.parameters.slices {
                let e = Array(expected[slice.range])
                assertClose(Array(gradients[slice.range]), e, rtol: 1e-4, atol: 1e-4 * maxMagnitude(e), "\(slice.name) gradient")
            }
        }
    }
}
