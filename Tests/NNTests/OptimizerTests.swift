import NN
import Tensor
import TestSupport
import XCTest

/// SGD (with and without Nesterov) and AdamW against three steps of torch.optim
/// (Fixtures/sgd.json, adamw.json), parameters and optimizer state after every step.
final class OptimizerTests: XCTestCase {
    /// A store holding the fixture's parameter vector, split in two slices so that the
    /// optimizers are seen to treat the flat buffer as a whole.
    private func store(count: Int, seed: UInt64, scale: Float) -> ParameterStore {
        let store = ParameterStore(named: [(name: "a.weight", shape: [count - 7]), (name: "a.bias", shape: [7])])
        store.values.assign(Formula.symmetric(seed: seed, count: count, scale: scale))
        return store
    }

    func testSGDMatchesPyTorch() throws {
        let f = try Fixtures.load(SGDFixture.self, "sgd.json", in: .module)
        XCTAssertEqual(f.runs.map(\.nesterov), [false, true])
        for run in f.runs {
            // gradScale 0.5 on gradients twice as large: the same update.
            for gradScale: Float in [1, 0.5] {
                let s = store(count: f.count, seed: f.paramSeed, scale: f.scale)
                let sgd = SGD(s, momentum: f.momentum, nesterov: run.nesterov, weightDecay: f.weightDecay)
                XCTAssertEqual(sgd.state.map(\.name), ["momentum"])
                for (t, expected) in run.steps.enumerated() {
                    s.gradients.assign(Formula.symmetric(seed: f.gradSeeds[t], count: f.count, scale: f.scale).map { $0 / gradScale })
                    sgd.step(lr: f.lr, gradScale: gradScale)
                    XCTAssertEqual(sgd.steps, t + 1)
                    let label = "SGD nesterov \(run.nesterov) gradScale \(gradScale) step \(t + 1)"
                    assertClose(s.values.toArray().map(Double.init), expected.params, rtol: 1e-5, atol: 1e-6, label + " params")
                    assertClose(sgd.state[0].buffer.toArray().map(Double.init), expected.momentumBuffer, rtol: 1e-5, atol: 1e-6,
                                label + " momentum")
                }
            }
        }
    }

    func testAdamWMatchesPyTorch() throws {
        let f = try Fixtures.load(AdamWFixture.self, "adamw.json", in: .module)
        for gradScale: Float in [1, 0.25] {
            let s = store(count: f.count, seed: f.paramSeed, scale: f.scale)
            let adam = AdamW(s, beta1: f.beta1, beta2: f.beta2, epsilon: f.eps, weightDecay: f.weightDecay)
            XCTAssertEqual(adam.state.map(\.name), ["exp_avg", "exp_avg_sq"])
            for (t, expected) in f.steps.enumerated() {
                s.gradients.assign(Formula.symmetric(seed: f.gradSeeds[t], count: f.count, scale: f.scale).map { $0 / gradScale })
                adam.step(lr: f.lr, gradScale: gradScale)
                XCTAssertEqual(adam.steps, t + 1)
                let label = "AdamW gradScale \(gradScale) step \(t + 1)"
                assertClose(s.values.toArray().map(Double.init), expected.params, rtol: 1e-5, atol: 1e-6, label + " params")
                assertClose(adam.state[0].buffer.toArray().map(Double.init), expected.expAvg, rtol: 1e-5, atol: 1e-7,
                            label + " exp_avg")
                assertClose(adam.state[1].buffer.toArray().map(Double.init), expected.expAvgSq, rtol: 1e-5, atol: 1e-9,
                            label + " exp_avg_sq")
            }
        }
    }

    /// Plain SGD (no momentum) is `p -= lr·(g + wd·p)` and keeps no state.
    func testSGDWithoutMomentum() {
        let s = ParameterStore(named: [(name: "w", shape: [3])])
        s.values.assign([1, -2, 0.5])
        s.gradients.assign([0.5, 0.25, -1])
        let sgd = SGD(s, momentum: 0, nesterov: false, weightDecay: 0.1)
        XCTAssertTrue(sgd.state.isEmpty)
        sgd.step(lr: 0.5, gradScale: 2)
        let expected: [Double] = [1 - 0.5 * (1 + 0.1), -2 - 0.5 * (0.5 - 0.2), 0.5 - 0.5 * (-2 + 0.05)]
        assertClose(s.values.toArray().map(Double.init), expected, rtol: 1e-6, atol: 1e-7, "plain SGD")
    }
}
