import NN
import Tensor
import TestSupport
import XCTest

/// One layer bound to its own parameters and buffers. The objective is a fixed random
/// projection of the outputs, `L = Σ r·y` over the live batch, so that `dL/dy = r`.
final class LayerHarness {
    let layer: Layer
    let store: ParameterStore
    let batch: Int
    /// (maxBatch, inputShape…) and (maxBatch, outputShape…); rows past `batch` hold garbage.
    let x: Tensor, y: Tensor, dy: Tensor, dx: Tensor
    /// The projection: (batch, outputShape…).
    let r: [Float]
    /// Whether the output passes through a ReLU, whose pattern of positive outputs must not
    /// change within a finite-difference stencil.
    let hasReLU: Bool

    /// - Parameter hasReLU: when set, inputs and weights are drawn from a grid of quarters and
    ///   biases are odd multiples of 1/32, so that every pre-activation is an odd multiple of
    ///   1/32, at least 0.031 from the ReLU's kink: a step of 0.01 in any single input or
    ///   parameter moves it by at most 0.01 and never across the kink.
    init(_ layer: Layer, inputShape: [Int], outputShape: [Int], batch: Int, hasReLU: Bool, seed: UInt64) {
        self.layer = layer
        self.batch = batch
        self.hasReLU = hasReLU
        let maxBatch = batch + 1
        store = ParameterStore(named: layer.parameterRequests.map { (name: "\(layer.name).\($0.suffix)", shape: $0.shape) })
        layer.bind(store, first: 0)
        layer.allocate(maxBatch: maxBatch)
        x = Tensor(zeros: [maxBatch] + inputShape)
        y = Tensor(zeros: [maxBatch] + outputShape)
        dy = Tensor(zeros: y.shape)
        dx = Tensor(zeros: x.shape)
        var rng = SeededGenerator(seed: seed)
        func quarter(_ range: ClosedRange<Int>) -> Float { Float(Int(rng.next() % UInt64(range.count)) + range.lowerBound) / 4 }
        for slice in store.slices {
            for i in slice.range {
                if !hasReLU {
                    store.values[i] = rng.uniform(-0.5, 0.5)
                } else if slice.name.hasSuffix(".bias") {
                    store.values[i] = Float(2 * (Int(rng.next() % 16) - 8) + 1) / 32
                } else {
                    store.values[i] = quarter(-2...2)
                }
            }
        }
        for i in 0..<x.count {
            x[i] = i >= batch * x.count / maxBatch ? 1e3 : hasReLU ? quarter(-4...4) : rng.uniform(-1, 1)
        }
        r = (0..<(batch * y.count / maxBatch)).map { _ in rng.uniform(-1, 1) }
    }

    /// Forward, then `Σ r·y` in Double.
    func objective() -> Double {
        layer.forward(x, into: y, batch: batch)
        var s = 0.0
        for i in r.indices { s += Double(r[i]) * Double(y[i]) }
        return s
    }

    /// Which live outputs are positive, after the last forward.
    private func pattern() -> [Bool] { r.indices.map { y[$0] > 0 } }

    /// The backward pass's gradients of the objective: (input, parameters).
    func analytic() -> (input: [Double], parameters: [Double]) {
        _ = objective()
        store.zeroGradients()
        dy.fill(0)
        for i in r.indices { dy[i] = r[i] }
        dx.fill(.nan)
        layer.backward(input: x, output: y, outputGradient: dy, inputGradient: dx, batch: batch,
                       observer: WholeGradients(store))
        let live = batch * x.count / (batch + 1)
        return (Array(dx.toArray()[0..<live]).map(Double.init), store.gradients.toArray().map(Double.init))
    }

    /// Central differences with step `eps` over the live inputs and every parameter. An element
    /// whose stencil changes the ReLU pattern is left out (nil).
    func numeric(eps: Float) -> (input: [Double?], parameters: [Double?]) {
        _ = objective()
        let base = pattern()
        func derivative(_ t: Tensor, _ i: Int) -> Double? {
            let saved = t[i]
            t[i] = saved + eps
            let plus = objective()
            let plusPattern = pattern()
            t[i] = saved - eps
            let minus = objective()
            let minusPattern = pattern()
            t[i] = saved
            if hasReLU && (plusPattern != base || minusPattern != base) { return nil }
            // The actual step, as Float rounds saved ± eps.
            return (plus - minus) / (Double(saved + eps) - Double(saved - eps))
        }
        let live = batch * x.count / (batch + 1)
        return ((0..<live).map { derivative(x, $0) }, (0..<store.values.count).map { derivative(store.values, $0) })
    }
}

/// Every layer's backward, and the loss's gradient, against central finite differences.
///
/// The objectives are linear in each single input or parameter between ReLU kinks, so central
/// differences are exact up to Float32 rounding (about 1e-5 here); `checkGradient` allows 2e-4
/// plus 1% per element and 0.2% over the whole vector, and must reject the analytic gradient
/// scaled by 1.03.
final class FiniteDifferenceTests: EveryGEMMProviderTestCase {
    private func checkLayer(_ h: LayerHarness, eps: Float, minimumChecked: Double = 1, _ label: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        let a = h.analytic()
        let n = h.numeric(eps: eps)
        checkGradient(a.input, n.input, "\(label) input gradient", minimumChecked: minimumChecked, file: file, line: line)
        if !a.parameters.isEmpty {
            for slice in h.store.slices {
                checkGradient(Array(a.parameters[slice.range]), Array(n.parameters[slice.range]), "\(label) \(slice.name)",
                              minimumChecked: minimumChecked, file: file, line: line)
            }
        }
        // Rows past the batch of the input gradient are not written.
        let live = h.batch * h.x.count / (h.batch + 1)
        XCTAssertTrue(h.dx.toArray()[live...].allSatisfy(\.isNaN), "\(label): dx past the batch was written",
                      file: file, line: line)
    }

    func testLinear() {
        everyGEMMProvider {
            let layer = Linear(name: "fc", inFeatures: 5, outFeatures: 4, relu: false)
            checkLayer(LayerHarness(layer, inputShape: [5], outputShape: [4], batch: 3, hasReLU: false, seed: 1), eps: 1e-2, "linear")
        }
    }

    func testLinearWithFusedReLU() {
        everyGEMMProvider {
            let layer = Linear(name: "fc", inFeatures: 6, outFeatures: 5, relu: true)
            let h = LayerHarness(layer, inputShape: [6], outputShape: [5], batch: 4, hasReLU: true, seed: 2)
            _ = h.objective()
            let active = h.r.indices.filter { h.y[$0] > 0 }.count
            XCTAssertTrue(active > 0 && active < h.r.count, "the ReLU must be active on some outputs and not others")
            checkLayer(h, eps: 1e-2, "linear+relu")
        }
    }

    /// A convolution of geometry `g` against finite differences, on each path under each GEMM
    /// provider; with `relu`, the ReLU must be active on some outputs and not others.
    private func checkConv(_ g: ConvGeometry, outChannels: Int, relu: Bool, seed: UInt64, _ label: String) {
        everyGEMMProvider {
            for algorithm in [ConvAlgorithm.im2col, .onednn] {
                let layer = Conv2d(name: "conv", geometry: g, outChannels: outChannels, relu: relu, algorithm: algorithm)
                let h = LayerHarness(layer, inputShape: [g.channels, g.height, g.width],
                                     outputShape: [outChannels, g.outHeight, g.outWidth], batch: 2, hasReLU: relu, seed: seed)
                if relu {
                    _ = h.objective()
                    let active = h.r.indices.filter { h.y[$0] > 0 }.count
                    XCTAssertTrue(active > 0 && active < h.r.count, "the ReLU must be active on some outputs and not others")
                }
                checkLayer(h, eps: 1e-2, "\(label) by \(algorithm)")
                XCTAssertEqual(layer.usesOneDNN, algorithm == .onednn)
            }
        }
    }

    func testConv2dWithStrideAndPadding() {
        checkConv(ConvGeometry(channels: 2, height: 5, width: 6, kernel: 3, stride: 2, padding: 1), outChannels: 3, relu: false,
                  seed: 3, "conv stride 2 padding 1")
    }

    func testConv2dWithFusedReLU() {
        checkConv(ConvGeometry(channels: 2, height: 6, width: 5, kernel: 3, stride: 1, padding: 1), outChannels: 2, relu: true,
                  seed: 4, "conv+relu")
    }

    func testConv2dWithoutPaddingStride3() {
        checkConv(ConvGeometry(channels: 1, height: 8, width: 7, kernel: 2, stride: 3, padding: 0), outChannels: 2, relu: false,
                  seed: 5, "conv stride 3")
    }

    func testMaxPool2d() {
        everyGEMMProvider {
            for g in [ConvGeometry(channels: 2, height: 6, width: 5, kernel: 3, stride: 2, padding: 1),
                      ConvGeometry(channels: 2, height: 4, width: 6, kernel: 2, stride: 2, padding: 0),
                      ConvGeometry(channels: 1, height: 5, width: 5, kernel: 2, stride: 1, padding: 1)] {
                let layer = MaxPool2d(name: "pool", geometry: g)
                let h = LayerHarness(layer, inputShape: [g.channels, g.height, g.width],
                                     outputShape: [g.channels, g.outHeight, g.outWidth], batch: 2, hasReLU: false, seed: 6)
                // Distinct values 0.05 apart, shuffled: a step of 0.01 never changes a window's winner.
                let live = 2 * g.inputSize
                var rng = SeededGenerator(seed: 60)
                var values = (0..<live).map { Float($0) * 0.05 - 1 }
                values.shuffle(using: &rng)
                for i in 0..<live { h.x[i] = values[i] }
                checkLayer(h, eps: 1e-2, "maxpool \(g)")
            }
        }
    }

    func testReLU() {
        everyGEMMProvider {
            let layer = ReLU(name: "relu", features: 12)
            let h = LayerHarness(layer, inputShape: [12], outputShape: [12], batch: 3, hasReLU: true, seed: 7)
            // Inputs at least 0.1 from the kink, of both signs.
            for i in 0..<(3 * 12) {
                let v = h.x[i]
                h.x[i] = (v < 0 ? -0.1 : 0.1) + v * 0.9
            }
            checkLayer(h, eps: 1e-2, "relu")
        }
    }

    /// The loss's logit gradient against differences of the mean loss.
    func testCrossEntropy() throws {
        try everyGEMMProvider {
            let spec = ModelSpec(name: "logits", inputShape: [3], layers: [(nil, .linear(inFeatures: 3, outFeatures: 6))])
            let model = try Sequential(spec: spec, maxBatch: 5)
            let batch = 4
            var rng = SeededGenerator(seed: 8)
            for i in 0..<model.logits.count { model.logits[i] = rng.uniform(-3, 3) }
            let labels: [Int32] = [5, 0, 2, 2]
            let meanLoss = { labels.withUnsafeBufferPointer { CrossEntropy.loss(model, labels: $0, batch: batch) } / Double(batch) }

            let loss = labels.withUnsafeBufferPointer {
                CrossEntropy.lossAndGradient(model, labels: $0, batch: batch, gradientScale: 1 / Float(batch))
            }
            XCTAssertEqual(loss / Double(batch), meanLoss(), accuracy: 1e-7)
            let analytic = model.logitsGradient.toArray()[0..<(batch * 6)].map(Double.init)
            let eps: Float = 1e-2
            var numeric: [Double?] = []
            for i in 0..<(batch * 6) {
                let saved = model.logits[i]
                model.logits[i] = saved + eps
                let plus = meanLoss()
                model.logits[i] = saved - eps
                let minus = meanLoss()
                model.logits[i] = saved
                numeric.append((plus - minus) / (Double(saved + eps) - Double(saved - eps)))
            }
            checkGradient(analytic, numeric, "cross-entropy")
        }
    }

    /// A whole small model (conv with stride and padding and its ReLU and overlapping max
    /// pooling fused in, a separate ReLU, flatten, two linear layers) against differences of its
    /// mean cross-entropy, for every parameter. Flatten aliases its buffers, so its gradient
    /// passes through unchanged.
    func testSmallModel() throws {
        try everyGEMMProvider {
            try checkSmallModel(conv: .im2col)
            try checkSmallModel(conv: .onednn)
        }
    }

    private func checkSmallModel(conv: ConvAlgorithm) throws {
        let spec = ModelSpec(name: "small", inputShape: [2, 7, 6], layers: [
            (nil, .conv2d(inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: 1)),
            (nil, .relu),
            (nil, .maxPool2d(kernel: 2, stride: 1, padding: 0)),
            (nil, .relu),
            (nil, .flatten),
            (nil, .linear(inFeatures: 18, outFeatures: 5)),
            (nil, .relu),
            (nil, .linear(inFeatures: 5, outFeatures: 4)),
        ])
        let model = try Sequential(spec: spec, maxBatch: 4, conv: conv)
        XCTAssertEqual(model.layers.map(\.name), ["conv1", "relu2", "flatten1", "fc1", "fc2"])
        let batch = 3
        var rng = SeededGenerator(seed: 9)
        for i in 0..<model.parameters.values.count { model.parameters.values[i] = rng.uniform(-0.6, 0.6) }
        for i in 0..<model.input.count { model.input[i] = i < batch * 84 ? rng.uniform(-1, 1) : 1e3 }
        let labels: [Int32] = [3, 0, 1]
        func meanLoss() -> Double {
            model.forward(batch: batch)
            return labels.withUnsafeBufferPointer { CrossEntropy.loss(model, labels: $0, batch: batch) } / Double(batch)
        }

        model.parameters.zeroGradients()
        model.forward(batch: batch)
        _ = labels.withUnsafeBufferPointer {
            CrossEntropy.lossAndGradient(model, labels: $0, batch: batch, gradientScale: 1 / Float(batch))
        }
        model.backward(batch: batch, observer: WholeGradients(model.parameters))
        let analytic = model.parameters.gradients.toArray().map(Double.init)

        let eps: Float = 1e-3
        let values = model.parameters.values
        var numeric: [Double?] = []
        for i in 0..<values.count {
            let saved = values[i]
            values[i] = saved + eps
            let plus = meanLoss()
            values[i] = saved - eps
            let minus = meanLoss()
            values[i] = saved
            numeric.append((plus - minus) / (Double(saved + eps) - Double(saved - eps)))
        }
        for slice in model.parameters.slices {
            checkGradient(Array(analytic[slice.range]), Array(numeric[slice.range]), "small model by \(conv) \(slice.name)")
        }
    }
}
