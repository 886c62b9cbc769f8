import NN
import Tensor
import TestSupport
import XCTest

/// A Conv2d that runs its ReLU and max pooling itself, against the same convolution followed by
/// a separate MaxPool2d (whose backward the finite-difference tests check): outputs, input
/// gradients and parameter gradients. Inputs are continuous random values, so windows do not
/// tie and both route each gradient to the same winner.
final class FusedPoolingTests: XCTestCase {
    private struct Case {
        let conv: ConvGeometry
        let outChannels: Int
        let poolKernel: Int, poolStride: Int, poolPadding: Int
        let relu: Bool
        let batch: Int
    }

    private let cases = [
        // The CNN's second convolution in small: 2×2 pooling of even planes.
        Case(conv: ConvGeometry(channels: 3, height: 8, width: 6, kernel: 3, padding: 1), outChannels: 4,
             poolKernel: 2, poolStride: 2, poolPadding: 0, relu: true, batch: 3),
        // Odd output planes (5 × 7): the last row and column are in no window.
        Case(conv: ConvGeometry(channels: 2, height: 5, width: 7, kernel: 3, padding: 1), outChannels: 3,
             poolKernel: 2, poolStride: 2, poolPadding: 0, relu: true, batch: 2),
        // Overlapping, padded windows, and no ReLU.
        Case(conv: ConvGeometry(channels: 2, height: 7, width: 6, kernel: 3, padding: 1), outChannels: 2,
             poolKernel: 3, poolStride: 2, poolPadding: 1, relu: false, batch: 2),
        // Planes large enough that the batch runs in three groups of one image.
        Case(conv: ConvGeometry(channels: 32, height: 44, width: 44, kernel: 3, padding: 1), outChannels: 4,
             poolKernel: 2, poolStride: 2, poolPadding: 0, relu: true, batch: 3),
    ]

    func testFusedPoolingMatchesConvolutionThenPooling() {
        for (n, c) in cases.enumerated() {
            let pool = ConvGeometry(channels: c.outChannels, height: c.conv.outHeight, width: c.conv.outWidth,
                                    kernel: c.poolKernel, stride: c.poolStride, padding: c.poolPadding)
            let label = "case \(n): \(c.conv), pool \(pool), relu \(c.relu)"
            let fused = Conv2d(name: "conv", geometry: c.conv, outChannels: c.outChannels, relu: c.relu, pool: pool)
            let conv = Conv2d(name: "conv", geometry: c.conv, outChannels: c.outChannels, relu: c.relu)
            let pooling = MaxPool2d(name: "pool", geometry: pool)
            let requests = conv.parameterRequests.map { (name: "conv.\($0.suffix)", shape: $0.shape) }
            let fusedStore = ParameterStore(named: requests), store = ParameterStore(named: requests)
            var rng = SeededGenerator(seed: UInt64(40 + n))
            for i in 0..<store.values.count { store.values[i] = rng.uniform(-0.5, 0.5) }
            fusedStore.values.assign(store.values)
            fused.bind(fusedStore, first: 0)
            conv.bind(store, first: 0)
            // One image more than the batch, holding garbage that nothing may read.
            let maxBatch = c.batch + 1
            for layer in [fused, conv, pooling] as [Layer] { layer.allocate(maxBatch: maxBatch) }

            let x = Tensor(zeros: [c.conv.channels, maxBatch, c.conv.height, c.conv.width])
            for i in 0..<x.count { x[i] = rng.uniform(-1, 1) }
            let hidden = Tensor(zeros: [c.outChannels, maxBatch, pool.height, pool.width])
            let y = Tensor(zeros: [c.outChannels, maxBatch, pool.outHeight, pool.outWidth]), fusedY = Tensor(zeros: y.shape)
            fused.forward(x, into: fusedY, batch: c.batch)
            conv.forward(x, into: hidden, batch: c.batch)
            pooling.forward(hidden, into: y, batch: c.batch)
            let live = c.outChannels * c.batch * pool.outputPlane
            assertClose(Array(fusedY.toArray()[0..<live]), Array(y.toArray()[0..<live]), rtol: 1e-5, atol: 1e-6, "\(label) y")
            if c.relu {
                let active = y.toArray()[0..<live].filter { $0 > 0 }.count
                XCTAssertTrue(active > 0 && active < live, "\(label): the ReLU must be active on some outputs and not others")
            }

            let dy = Tensor(zeros: y.shape)
            for i in 0..<live { dy[i] = rng.uniform(-1, 1) }
            let fusedDy = Tensor(zeros: y.shape)
            fusedDy.assign(dy)
            let dHidden = Tensor(zeros: hidden.shape)
            let dx = Tensor(zeros: x.shape), fusedDx = Tensor(zeros: x.shape)
            pooling.backward(input: hidden, output: y, outputGradient: dy, inputGradient: dHidden, batch: c.batch,
                             observer: WholeGradients(store))
            conv.backward(input: x, output: hidden, outputGradient: dHidden, inputGradient: dx, batch: c.batch,
                          observer: WholeGradients(store))
            fused.backward(input: x, output: fusedY, outputGradient: fusedDy, inputGradient: fusedDx, batch: c.batch,
                           observer: WholeGradients(fusedStore))
            let inputs = c.conv.channels * c.batch * c.conv.height * c.conv.width
            assertClose(Array(fusedDx.toArray()[0..<inputs]), Array(dx.toArray()[0..<inputs]), rtol: 1e-4, atol: 1e-5,
                        "\(label) dx")
            for slice in store.slices {
                assertClose(Array(fusedStore.gradients.toArray()[slice.range]), Array(store.gradients.toArray()[slice.range]),
                            rtol: 1e-4, atol: 1e-5, "\(label) \(slice.name) gradient")
                XCTAssertGreaterThan(store.gradients.toArray()[slice.range].map(abs).max() ?? 0, 1e-3,
                                     "\(label) \(slice.name): the gradient is too small to compare")
            }
        }
    }

    /// The CNN of Configs/fashion-cnn.toml runs each convolution with its ReLU and pooling as one layer.
    func testTheCNNFusesEachConvolutionWithItsReLUAndPooling() throws {
        let model = try Sequential(spec: ModelFixtureTests.cnnSpec, maxBatch: 2)
        XCTAssertEqual(model.layers.map(\.name), ["conv1", "conv2", "flatten1", "fc1", "fc2"])
        let convolutions = model.layers.compactMap { $0 as? Conv2d }
        XCTAssertEqual(convolutions.map(\.relu), [true, true])
        XCTAssertEqual(convolutions.map { $0.pool?.outputPlane }, [14 * 14, 7 * 7])
    }
}
