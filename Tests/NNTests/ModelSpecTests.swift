import NN
import TestSupport
import XCTest

/// `ModelSpec.resolve()`: names, shapes, and the exact text of each error.
final class ModelSpecTests: XCTestCase {
    func testResolvesTheFashionModels() throws {
        let cnn = try ModelFixtureTests.cnnSpec.resolve()
        XCTAssertEqual(cnn.map(\.name), ["conv1", "relu1", "maxpool2d1", "conv2", "relu2", "maxpool2d2", "flatten1", "fc1",
                                         "relu3", "fc2"])
        XCTAssertEqual(cnn.map(\.outputShape), [[32, 28, 28], [32, 28, 28], [32, 14, 14], [64, 14, 14], [64, 14, 14],
                                                [64, 7, 7], [3136], [128], [128], [10]])
        XCTAssertEqual(cnn.first?.inputShape, [1, 28, 28])
        let mlp = try ModelFixtureTests.mlpSpec.resolve()
        XCTAssertEqual(mlp.map(\.name), ["flatten1", "fc1", "relu1", "fc2", "relu2", "fc3"])
        XCTAssertEqual(mlp.map(\.outputShape), [[784], [1024], [1024], [1024], [1024], [10]])

        let model = try Sequential(spec: ModelFixtureTests.cnnSpec, maxBatch: 2)
        XCTAssertEqual(model.parameters.slices.map(\.name), ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                                            "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        XCTAssertEqual(model.parameters.slices.map(\.shape), [[32, 1, 3, 3], [32], [64, 32, 3, 3], [64], [128, 3136], [128],
                                                             [10, 128], [10]])
        // Back to back in layout order.
        var offset = 0
        for s in model.parameters.slices {
            XCTAssertEqual(s.offset, offset)
            offset += s.count
        }
        XCTAssertEqual(model.parameters.totalCount, offset)
    }

    func testGivenNamesAreKept() throws {
        let spec = ModelSpec(name: "m", inputShape: [4], layers: [("hidden", .linear(inFeatures: 4, outFeatures: 3)),
                                                                  (nil, .relu), (nil, .linear(inFeatures: 3, outFeatures: 2))])
        XCTAssertEqual(try spec.resolve().map(\.name), ["hidden", "relu1", "fc2"])
    }

    private func spec(_ layers: [(String?, LayerSpec)], input: [Int] = [1, 28, 28]) -> ModelSpec {
        ModelSpec(name: "m", inputShape: input, layers: layers.map { (name: $0.0, spec: $0.1) })
    }

    func testShapeChainErrors() {
        assertThrows("layer 4 (fc2, linear): in is 512 but its input has 1024 features") {
            try spec([(nil, .flatten), (nil, .linear(inFeatures: 784, outFeatures: 1024)), (nil, .relu),
                      (nil, .linear(inFeatures: 512, outFeatures: 10))]).resolve()
        }
        assertThrows("layer 5 (fc1, linear): in is 3136 but its input has 6272 features") {
            try spec([(nil, .conv2d(inChannels: 1, outChannels: 32, kernel: 3, stride: 1, padding: 1)), (nil, .relu),
                      (nil, .maxPool2d(kernel: 2, stride: 2, padding: 0)), (nil, .flatten),
                      (nil, .linear(inFeatures: 3136, outFeatures: 10))]).resolve()
        }
        assertThrows("layer 2 (conv2, conv2d): in is 16 channels but its input has 8") {
            try spec([(nil, .conv2d(inChannels: 1, outChannels: 8, kernel: 3, stride: 1, padding: 1)),
                      (nil, .conv2d(inChannels: 16, outChannels: 8, kernel: 3, stride: 1, padding: 1)), (nil, .flatten),
                      (nil, .linear(inFeatures: 6272, outFeatures: 10))]).resolve()
        }
    }

    func testMissingFlatten() {
        assertThrows("layer 1 (fc1, linear): needs a flat input but receives 1×28×28; add a flatten layer before it") {
            try spec([(nil, .linear(inFeatures: 784, outFeatures: 10))]).resolve()
        }
        assertThrows("layer 3 (fc1, linear): needs a flat input but receives 4×14×14; add a flatten layer before it") {
            try spec([(nil, .conv2d(inChannels: 1, outChannels: 4, kernel: 3, stride: 1, padding: 1)),
                      (nil, .maxPool2d(kernel: 2, stride: 2, padding: 0)),
                      (nil, .linear(inFeatures: 784, outFeatures: 10))]).resolve()
        }
        assertThrows("the last layer gives [4, 28, 28]; the model must end in class scores (flatten and linear)") {
            try spec([(nil, .conv2d(inChannels: 1, outChannels: 4, kernel: 3, stride: 1, padding: 1)), (nil, .relu)]).resolve()
        }
        assertThrows("layer 2 (conv1, conv2d): needs a (channels, height, width) input but receives [784]") {
            try spec([(nil, .flatten), (nil, .conv2d(inChannels: 1, outChannels: 4, kernel: 3, stride: 1, padding: 1))]).resolve()
        }
    }

    func testOtherErrors() {
        assertThrows("model.layers is empty") { try spec([]).resolve() }
        assertThrows("model.input must be positive dimensions, got [1, 0, 28]") {
            try spec([(nil, .flatten)], input: [1, 0, 28]).resolve()
        }
        assertThrows("layer 1 (conv1, conv2d): a 5×5 kernel with padding 0 does not fit a 4×4 input") {
            try spec([(nil, .conv2d(inChannels: 1, outChannels: 2, kernel: 5, stride: 1, padding: 0)), (nil, .flatten),
                      (nil, .linear(inFeatures: 2, outFeatures: 2))], input: [1, 4, 4]).resolve()
        }
        assertThrows("layer 1 (maxpool2d1, maxpool2d): kernel and stride must be positive, and padding at most half the kernel") {
            try spec([(nil, .maxPool2d(kernel: 2, stride: 2, padding: 2)), (nil, .flatten),
                      (nil, .linear(inFeatures: 196, outFeatures: 2))]).resolve()
        }
        assertThrows("layer 2 (fc1, linear): in and out must be positive, got in = 784, out = 0") {
            try spec([(nil, .flatten), (nil, .linear(inFeatures: 784, outFeatures: 0))]).resolve()
        }
        assertThrows("layer 3 (a, linear): the name a is used twice") {
            try spec([(nil, .flatten), ("a", .linear(inFeatures: 784, outFeatures: 10)),
                      ("a", .linear(inFeatures: 10, outFeatures: 10))]).resolve()
        }
        // Sequential reports the same error.
        assertThrows("layer 1 (fc1, linear): needs a flat input but receives 1×28×28; add a flatten layer before it") {
            try Sequential(spec: spec([(nil, .linear(inFeatures: 784, outFeatures: 10))]), maxBatch: 1)
        }
    }
}
