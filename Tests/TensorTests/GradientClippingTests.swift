import Tensor
import TestSupport
import XCTest

/// The squared norm over a buffer range, in Double, and torch's clip factor.
final class GradientClippingTests: XCTestCase {
    func testSumOfSquaresOverRanges() {
        var rng = SeededGenerator(seed: 91)
        let x = randomTensor([103], &rng, -3, 3)
        for range in [0..<103, 5..<6, 9..<9, 17..<100, 1..<9] {
            let expected = x.toArray()[range].reduce(0.0) { $0 + Double($1) * Double($1) }
            assertClose(sumOfSquares(x, range: range), expected, rtol: 1e-14, atol: 0, "range \(range)")
        }
        // Squares of 1e20 overflow Float, not Double; 1 + 1e-8 keeps its digits.
        XCTAssertEqual(sumOfSquares(Tensor(shape: [2], values: [1e20, 1e20]), range: 0..<2), 2 * Double(Float(1e20)) * Double(Float(1e20)))
        let small = Tensor(shape: [9], values: [1, 1e-4, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(sumOfSquares(small, range: 0..<9), 1 + Double(Float(1e-4)) * Double(Float(1e-4)))
    }

    func testClipFactorAsTorch() {
        XCTAssertEqual(gradientClipFactor(totalNorm: 4, maxNorm: 1), Float(1 / (4 + 1e-6)))
        XCTAssertEqual(gradientClipFactor(totalNorm: 0.5, maxNorm: 1), 1)
        XCTAssertEqual(gradientClipFactor(totalNorm: 0, maxNorm: 1), 1)
        XCTAssertEqual(gradientClipFactor(totalNorm: 1, maxNorm: 1), Float(1 / (1 + 1e-6)), "a norm at the limit is still scaled")
    }
}
