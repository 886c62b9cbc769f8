import NN
import Tensor
import TestSupport
import XCTest

/// Conv2d through oneDNN's direct convolution against the im2col reference: outputs, input
/// gradients, weight and bias gradients (accumulated onto what is already there), with and
/// without the fused ReLU and pooling, at odd sizes. Inputs are continuous random values, so
/// pooling windows do not tie.
final class DirectConvolutionTests: XCTestCase {
    private struct Case {
        let conv: ConvGeometry
        let outChannels: Int
        let relu: Bool
        /// (kernel, stride, padding) of a fused max pooling.
        let pool: (Int, Int, Int)?
        let batch: Int
    }

    private let cases = [
        // The CNN's layers in small: one input channel, then 2×2 pooling.
        Case(conv: ConvGeometry(channels: 1, height: 8, width: 8, kernel: 3, padding: 1), outChannels: 32, relu: true, pool: (2, 2, 0), batch: 3),
        Case(conv: ConvGeometry(channels: 32, height: 6, width: 6, kernel: 3, padding: 1), outChannels: 64, relu: true, pool: (2, 2, 0), batch: 7),
        // One image of 5 × 5, no padding, no ReLU, no pooling; channels not a multiple of 16.
        Case(conv: ConvGeometry(channels: 3, height: 5, width: 5, kernel: 3, padding: 0), outChannels: 5, relu: false, pool: nil, batch: 1),
        // Stride 2 and padding 2, with a ReLU.
        Case(conv: ConvGeometry(channels: 5, height: 7, width: 6, kernel: 3, stride: 2, padding: 2), outChannels: 7, relu: true, pool: nil, batch: 3),
        // A 5×5 kernel, padding 2, odd output planes pooled by padded overlapping windows.
        Case(conv: ConvGeometry(channels: 2, height: 5, width: 7, kernel: 5, padding: 2), outChannels: 18, relu: true, pool: (3, 2, 1), batch: 7),
        // Odd planes (5 × 7) under 2×2 pooling: the last row and column are in no window.
        Case(conv: ConvGeometry(channels: 17, height: 5, width: 7, kernel: 3, padding: 1), outChannels: 3, relu: false, pool: (2, 2, 0), batch: 1),
    ]

    func testDirectConvolutionMatchesIm2col() {
        for (n, c) in cases.enumerated() {
            let pool = c.pool.map { ConvGeometry(channels: c.outChannels, height: c.conv.outHeight, width: c.conv.outWidth,
                                                 kernel: $0.0, stride: $0.1, padding: $0.2) }
            let label = "case \(n): \(c.conv), out \(c.outChannels), pool \(String(describing: pool)), relu \(c.relu), batch \(c.batch)"
            let direct = Conv2d(name: "conv", geometry: c.conv, outChannels: c.outChannels, relu: c.relu, pool: pool, algorithm: .onednn)
            let reference = Conv2d(name: "conv", geometry: c.conv, outChannels: c.outChannels, relu: c.relu, pool: pool)
            let requests = reference.parameterRequests.map { (name: "conv.\($0.suffix)", shape: $0.shape) }
            let directStore = ParameterStore(named: requests), store = ParameterStore(named: requests)
            var rng = SeededGenerator(seed: UInt64(60 + n))
            for i in 0..<store.values.count { store.values[i] = rng.uniform(-0.5, 0.5) }
            // Gradients accumulate: both start from the same nonzero values.
            for i in 0..<store.gradients.count { store.gradients[i] = rng.uniform(-0.1, 0.1) }
            directStore.values.assign(store.values)
            directStore.gradients.assign(store.gradients)
            direct.bind(directStore, first: 0)
            reference.bind(store, first: 0)
            // The largest batch is one more than the batch run, which runs in parts (7: 4, 2, 1).
            direct.allocate(maxBatch: c.batch + 1)
            reference.allocate(maxBatch: c.batch + 1)
            XCTAssertTrue(direct.usesOneDNN, "\(label): oneDNN did not create the primitives")
            XCTAssertFalse(reference.usesOneDNN)

            let outH = pool?.outHeight ?? c.conv.outHeight, outW = pool?.outWidth ?? c.conv.outWidth
            let x = Tensor(zeros: [c.conv.channels, c.batch, c.conv.height, c.conv.width])
            for i in 0..<x.count { x[i] = rng.uniform(-1, 1) }
            let y = Tensor(zeros: [c.outChannels, c.batch, outH, outW]), directY = Tensor(zeros: y.shape)
            reference.forward(x, into: y, batch: c.batch)
            direct.forward(x, into: directY, batch: c.batch)
            assertClose(directY.toArray(), y.toArray(), rtol: 1e-4, atol: 1e-5, "\(label) y")
            if c.relu {
                let active = y.toArray().filter { $0 > 0 }.count
                XCTAssertTrue(active > 0 && active < y.count, "\(label): the ReLU must be active on some outputs and not others")
            }

            let dy = Tensor(zeros: y.shape), directDy = Tensor(zeros: y.shape)
            for i in 0..<dy.count { dy[i] = rng.uniform(-1, 1) }
            directDy.assign(dy)
            let dx = Tensor(zeros: x.shape), directDx = Tensor(zeros: x.shape)
            reference.backward(input: x, output: y, outputGradient: dy, inputGradient: dx, batch: c.batch, observer: WholeGradients(store))
            direct.backward(input: x, output: directY, outputGradient: directDy, inputGradient: directDx, batch: c.batch,
                            observer: WholeGradients(directStore))
            assertClose(directDx.toArray(), dx.toArray(), rtol: 1e-4, atol: 1e-5, "\(label) dx")
            XCTAssertGreaterThan(dx.toArray().map(abs).max() ?? 0, 1e-3, "\(label): the input gradient is too small to compare")
            for slice in store.slices {
                assertClose(Array(directStore.gradients.toArray()[slice.range]), Array(store.gradients.toArray()[slice.range]),
                            rtol: 1e-4, atol: 1e-5, "\(label) \(slice.name) gradient")
            }
        }
    }

    /// With `.im2col` no layer touches oneDNN; the CNN's layers get oneDNN's primitives with `.onednn`.
    func testTheCNNReportsItsConvolutionPaths() throws {
        let reference = try Sequential(spec: ModelFixtureTests.cnnSpec, maxBatch: 4)
        XCTAssertEqual(reference.convolutionPaths, "conv1 im2col, conv2 im2col")
        let direct = try Sequential(spec: ModelFixtureTests.cnnSpec, maxBatch: 4, conv: .onednn)
        let paths = try XCTUnwrap(direct.convolutionPaths)
        XCTAssertTrue(paths.hasPrefix("conv1 onednn (") && paths.contains("conv2 onednn ("), paths)
    }
}
