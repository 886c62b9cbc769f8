import NN
import Tensor
import TestSupport
import XCTest

/// The models of Configs/fashion-mlp.toml and Configs/fashion-cnn.toml against PyTorch
/// (Fixtures/mlp.json, cnn.json): logits, mean cross-entropy and every parameter's gradient,
/// from the same formula weights, inputs and labels.
final class ModelFixtureTests: EveryGEMMProviderTestCase {
    /// The MLP of Configs/fashion-mlp.toml.
    static let mlpSpec = ModelSpec(name: "fashion-mlp", inputShape: [1, 28, 28], layers: [
        (nil, .flatten),
        (nil, .linear(inFeatures: 784, outFeatures: 1024)),
        (nil, .relu),
        (nil, .linear(inFeatures: 1024, outFeatures: 1024)),
        (nil, .relu),
        (nil, .linear(inFeatures: 1024, outFeatures: 10)),
    ])

    /// The CNN of Configs/fashion-cnn.toml.
    static let cnnSpec = ModelSpec(name: "fashion-cnn", inputShape: [1, 28, 28], layers: [
        (nil, .conv2d(inChannels: 1, outChannels: 32, kernel: 3, stride: 1, padding: 1)),
        (nil, .relu),
        (nil, .maxPool2d(kernel: 2, stride: 2, padding: 0)),
        (nil, .conv2d(inChannels: 32, outChannels: 64, kernel: 3, stride: 1, padding: 1)),
        (nil, .relu),
        (nil, .maxPool2d(kernel: 2, stride: 2, padding: 0)),
        (nil, .flatten),
        (nil, .linear(inFeatures: 3136, outFeatures: 128)),
        (nil, .relu),
        (nil, .linear(inFeatures: 128, outFeatures: 10)),
    ])

    /// Logits of Float32 against the Float64 reference: relative to the largest logit.
    private let logitTolerance = 1e-4
    /// Gradients: each element within 1e-4 of its own size plus 1e-4 of the largest element
    /// of its parameter; sums and sums of squares within 1e-4 relative.
    private let gradientTolerance = 1e-4

    func testFormulaMatchesNumpyBitForBit() throws {
        for name in ["mlp.json", "cnn.json"] {
            let check = try ModelFixture.load(name).formulaCheck
            let n = check.symmetric.count
            XCTAssertEqual(Formula.symmetric(seed: check.seed, count: n, scale: check.scale), check.symmetric)
            XCTAssertEqual(Formula.unit(seed: check.seed, count: n), check.unit)
            XCTAssertEqual(Formula.labels(seed: check.seed, count: n, classes: 10), check.labels)
        }
    }

    func testMLPMatchesPyTorch() throws {
        try everyGEMMProvider {
            try checkModel(Self.mlpSpec, fixture: "mlp.json")
        }
    }

    func testCNNMatchesPyTorch() throws {
        try everyGEMMProvider {
            try checkModel(Self.cnnSpec, fixture: "cnn.json")
        }
    }

    /// The same batch inside a larger model buffer whose unused rows hold garbage, and as two
    /// micro-batches of 2 accumulated into the same gradients, gives the same results.
    func testCNNMicroBatchesAccumulateToTheWholeBatch() throws {
        try everyGEMMProvider {
            try checkModel(Self.cnnSpec, fixture: "cnn.json", maxBatch: 7, microBatch: 2)
        }
    }

    /// The CNN with its convolutions through oneDNN (tensor.conv = "onednn"), whole and in
    /// micro-batches of 3 (oneDNN's parts of 2 and 1 images).
    func testCNNThroughOneDNNMatchesPyTorch() throws {
        try checkModel(Self.cnnSpec, fixture: "cnn.json", conv: .onednn)
        try checkModel(Self.cnnSpec, fixture: "cnn.json", maxBatch: 7, microBatch: 3, conv: .onednn)
    }

    func testMLPMicroBatchesAccumulateToTheWholeBatch() throws {
        try everyGEMMProvider {
            try checkModel(Self.mlpSpec, fixture: "mlp.json", maxBatch: 5, microBatch: 3)
        }
    }

    /// Fills `model` with the fixture's formula weights, in the fixture's parameter order.
    static func loadWeights(_ model: Sequential, _ fixture: ModelFixture) {
        XCTAssertEqual(model.parameters.slices.map(\.name), fixture.parameters.map(\.name), "parameter names and order")
        for (slice, p) in zip(model.parameters.slices, fixture.parameters) {
            XCTAssertEqual(slice.shape, p.shape, slice.name)
            model.parameters.values.view(at: slice.offset, shape: [slice.count])
                .assign(Formula.symmetric(seed: p.seed, count: slice.count, scale: p.scale))
        }
    }

    private func checkModel(_ spec: ModelSpec, fixture name: String, maxBatch: Int? = nil, microBatch: Int? = nil,
                            conv: ConvAlgorithm = .im2col, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try ModelFixture.load(name)
        let batch = fixture.input.shape[0]
        XCTAssertEqual(Array(fixture.input.shape[1...]), spec.inputShape)
        let model = try Sequential(spec: spec, maxBatch: maxBatch ?? batch, conv: conv)
        XCTAssertEqual(model.classes, 10)
        let convolutions = model.layers.compactMap { $0 as? Conv2d }
        XCTAssertEqual(convolutions.map(\.usesOneDNN), convolutions.map { _ in conv != .im2col },
                       "\(name): the convolutions run by \(conv)", file: file, line: line)
        Self.loadWeights(model, fixture)

        let sampleSize = spec.inputShape.reduce(1, *)
        let images = Formula.unit(seed: fixture.input.seed, count: batch * sampleSize)
        let labels = Formula.labels(seed: fixture.labels.seed, count: batch, classes: fixture.labels.classes)
        XCTAssertEqual(labels, fixture.labels.values, "formula labels")

        model.input.fill(1e3)  // rows past the batch must never be read
        model.parameters.gradients.fill(.nan)
        model.parameters.zeroGradients()
        let step = microBatch ?? batch
        var loss = 0.0
        var logits: [Float] = []
        for start in stride(from: 0, to: batch, by: step) {
            let count = min(step, batch - start)
            model.input.view(at: 0, shape: [count * sampleSize])
                .assign(Array(images[(start * sampleSize)..<((start + count) * sampleSize)]))
            model.forward(batch: count)
            logits += Array(model.logits.toArray()[0..<(count * 10)])
            loss += labels[start..<(start + count)].withUnsafeBufferPointer {
                CrossEntropy.lossAndGradient(model, labels: $0, batch: count, gradientScale: 1 / Float(batch))
            }
            model.backward(batch: count, observer: WholeGradients(model.parameters))
        }
        loss /= Double(batch)

        let expectedScale = maxMagnitude(fixture.logits)
        assertClose(logits.map(Double.init), fixture.logits, rtol: logitTolerance, atol: logitTolerance * expectedScale,
                    "\(name) logits", file: file, line: line)
        assertClose(loss, fixture.loss, rtol: 1e-5, atol: 0, "\(name) loss", file: file, line: line)

        for (slice, p) in zip(model.parameters.slices, fixture.parameters) {
            let g = model.parameters.gradients.toArray()[slice.range].map(Double.init)
            let label = "\(name) \(slice.name) gradient"
            if let full = p.gradient {
                assertClose(g, full, rtol: gradientTolerance, atol: gradientTolerance * maxMagnitude(full), label,
                            file: file, line: line)
            } else {
                let indices = try XCTUnwrap(p.sampleIndices), values = try XCTUnwrap(p.sampleValues)
                XCTAssertGreaterThan(indices.count, 3000, label)
                assertClose(indices.map { g[$0] }, values, rtol: gradientTolerance,
                            atol: gradientTolerance * maxMagnitude(values), label + " sample", file: file, line: line)
                let squares = g.reduce(0) { $0 + $1 * $1 }
                let total = g.reduce(0, +)
                assertClose(squares, try XCTUnwrap(p.sumOfSquares), rtol: gradientTolerance, atol: 0, label + " Σg²",
                            file: file, line: line)
                // Σg cancels: compare it to the scale of its terms, Σ|g| ≤ √(n·Σg²).
                let scale = (Double(g.count) * squares).squareRoot()
                assertClose(total, try XCTUnwrap(p.sum), rtol: gradientTolerance, atol: 1e-6 * scale, label + " Σg",
                            file: file, line: line)
            }
        }
    }

    /// A gradient observer that splits each weight into blocks of `rows` rows and records what
    /// backward reports, as the gradient reducer does.
    final class BlockRecorder: GradientObserver {
        let store: ParameterStore
        let blockRows: Int
        var reported: [[Range<Int>]]

        init(_ store: ParameterStore, blockRows: Int) {
            self.store = store
            self.blockRows = blockRows
            reported = Array(repeating: [], count: store.slices.count)
        }

        func rowBlocks(ofParameter index: Int) -> [Range<Int>] {
            let rows = store.slices[index].rows
            return stride(from: 0, to: rows, by: blockRows).map { $0..<min($0 + blockRows, rows) }
        }

        func gradientReady(parameter index: Int, rows: Range<Int>) { reported[index].append(rows) }
    }

    /// Backward computes each weight in the blocks the observer asks for, reports every row of
    /// every parameter exactly once, and gives the same gradients as whole blocks.
    func testRowBlocksGiveTheSameGradientsAndReportEveryRow() throws {
        try everyGEMMProvider {
            for (spec, name) in [(Self.cnnSpec, "cnn.json"), (Self.mlpSpec, "mlp.json")] {
                let fixture = try ModelFixture.load(name)
                let batch = fixture.input.shape[0]
                let model = try Sequential(spec: spec, maxBatch: batch)
                Self.loadWeights(model, fixture)
                model.input.assign(Formula.unit(seed: fixture.input.seed, count: model.input.count))
                let labels = fixture.labels.values

                func gradients(_ observer: GradientObserver) -> [Float] {
                    model.parameters.zeroGradients()
                    model.forward(batch: batch)
                    _ = labels.withUnsafeBufferPointer {
                        CrossEntropy.lossAndGradient(model, labels: $0, batch: batch, gradientScale: 1 / Float(batch))
                    }
                    model.backward(batch: batch, observer: observer)
                    return model.parameters.gradients.toArray()
                }
                let whole = gradients(WholeGradients(model.parameters))
                let recorder = BlockRecorder(model.parameters, blockRows: 7)
                let blocked = gradients(recorder)
                // Blocks of rows may take other OpenBLAS kernels, so allow for rounding.
                assertClose(blocked.map(Double.init), whole.map(Double.init), rtol: 1e-5,
                            atol: 1e-6 * maxMagnitude(whole.map(Double.init)), "\(name): blocked and whole gradients")
                for (index, slice) in model.parameters.slices.enumerated() {
                    let rows = recorder.reported[index].sorted { $0.lowerBound < $1.lowerBound }
                    var next = 0
                    for r in rows {
                        XCTAssertEqual(r.lowerBound, next, "\(name) \(slice.name): reported rows \(rows)")
                        next = r.upperBound
                    }
                    XCTAssertEqual(next, slice.rows, "\(name) \(slice.name): reported rows \(rows)")
                }
            }
        }
    }
}
