import NN
import Tensor
import TestSupport
import XCTest

/// `Sequential.initialize(seed:)`: every parameter uniform in ±1/√fan_in, as PyTorch's
/// default initialisation of Linear and Conv2d, and reproducible by seed.
final class InitializationTests: XCTestCase {
    /// The fan-in of each parameter of the Fashion CNN, from the layer shapes.
    private let cnnFanIns = ["conv1.weight": 1 * 3 * 3, "conv1.bias": 1 * 3 * 3, "conv2.weight": 32 * 3 * 3,
                             "conv2.bias": 32 * 3 * 3, "fc1.weight": 3136, "fc1.bias": 3136, "fc2.weight": 128,
                             "fc2.bias": 128]

    func testValuesAreUniformWithinTheFanInBound() throws {
        let model = try Sequential(spec: ModelFixtureTests.cnnSpec, maxBatch: 1)
        model.parameters.values.fill(.nan)
        model.initialize(seed: 3)
        XCTAssertEqual(Set(model.parameters.slices.map(\.name)), Set(cnnFanIns.keys))
        for slice in model.parameters.slices {
            let fanIn = try XCTUnwrap(cnnFanIns[slice.name])
            let bound = 1 / Double(fanIn).squareRoot()
            let v = model.parameters.values.toArray()[slice.range].map(Double.init)
            let n = Double(v.count)
            XCTAssertLessThanOrEqual(maxMagnitude(v), bound, "\(slice.name): outside ±1/√\(fanIn)")
            let mean = v.reduce(0, +) / n
            let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
            // U(-b, b) has mean 0 and variance b²/3; the sample variance of n draws has a
            // relative standard deviation of √(0.8/n). Both within 5 standard errors.
            let expectedVariance = bound * bound / 3
            XCTAssertEqual(mean, 0, accuracy: 5 * (expectedVariance / n).squareRoot(), "\(slice.name) mean")
            XCTAssertEqual(variance, expectedVariance, accuracy: 5 * (0.8 / n).squareRoot() * expectedVariance,
                           "\(slice.name) variance")
            if v.count >= 1000 {
                XCTAssertGreaterThan(maxMagnitude(v), 0.99 * bound, "\(slice.name): the range is not filled")
            }
        }
    }

    func testSameSeedSameValuesOtherSeedOtherValues() throws {
        func values(_ seed: UInt64) throws -> [Float] {
            let model = try Sequential(spec: ModelFixtureTests.mlpSpec, maxBatch: 1)
            model.initialize(seed: seed)
            return model.parameters.values.toArray()
        }
        let a = try values(11), b = try values(11), c = try values(12)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.count, 784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10)
        let same = zip(a, c).filter { $0 == $1 }.count
        XCTAssertLessThan(same, a.count / 1000, "seeds 11 and 12 give nearly the same values")
        // Re-initialising overwrites everything.
        let model = try Sequential(spec: ModelFixtureTests.mlpSpec, maxBatch: 1)
        model.initialize(seed: 12)
        model.initialize(seed: 11)
        XCTAssertEqual(model.parameters.values.toArray(), a)
    }
}
