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

/// AdamW with weight decay on the parameters of two or more dimensions only, over the whole
/// store and over shards that cut slices, against the update computed element by element.
final class AdamWDecayScopeTests: XCTestCase {
    func testDecayOnlyOnMatricesInEveryShard() {
        let shapes: [(name: String, shape: [Int])] = [("w", [3, 4]), ("b", [3]), ("ln.weight", [2]), ("v", [2, 2]), ("c", [5])]
        let total = 12 + 3 + 2 + 4 + 5
        let decayed = Set(Array(0..<12) + Array(17..<21))
        let p0 = Formula.symmetric(seed: 500, count: total, scale: 1), g = Formula.symmetric(seed: 501, count: total, scale: 1)
        let lr: Float = 0.1, wd: Float = 0.5
        // One step of AdamW from zero moments is p·(1 - lr·wd) - lr·g/(|g| + ε) (bias corrections cancel).
        func expected(_ i: Int) -> Double {
            let decay = decayed.contains(i) ? 1 - Double(lr * wd) : 1
            return Double(p0[i]) * decay - Double(lr) * Double(g[i]) / (abs(Double(g[i])) + 1e-8)
        }
        for shard in [0..<total, 0..<13, 13..<19, 19..<total, 5..<6] {
            let store = ParameterStore(named: shapes)
            store.values.assign(p0)
            store.gradients.assign(g)
            let adam = AdamW(store, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: wd, decayScope: .matrices)
            adam.updateRange = shard
            adam.step(lr: lr, gradScale: 1)
            for i in 0..<total {
                let want = shard.contains(i) ? expected(i) : Double(p0[i])
                XCTAssertEqual(Double(store.values[i]), want, accuracy: 1e-6, "element \(i) with shard \(shard)")
            }
        }
        // The default decays everything, as before.
        let store = ParameterStore(named: shapes)
        store.values.assign(p0)
        store.gradients.assign(g)
        let adam = AdamW(store, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: wd)
        adam.step(lr: lr, gradScale: 1)
        for i in 0..<total {
            let want = Double(p0[i]) * (1 - Double(lr * wd)) - Double(lr) * Double(g[i]) / (abs(Double(g[i])) + 1e-8)
            XCTAssertEqual(Double(store.values[i]), want, accuracy: 1e-6, "element \(i) decays by default")
        }
    }
}
