import Tensor
import TestSupport
import XCTest

/// Greedy choice, the top-k threshold and the softmax draw: against sorting and against the
/// softmax's distribution function.
final class SamplingTests: XCTestCase {
    private func row(_ values: [Float]) -> Matrix { Matrix(Tensor(shape: [1, values.count], values: values), rows: 1, cols: values.count) }

    func testArgmaxTakesTheFirstOfTies() {
        XCTAssertEqual(argmax(row([0.5, -1, 2, 2, 1])), 2)
        XCTAssertEqual(argmax(row([-3])), 0)
        XCTAssertEqual(argmax(row([-.infinity, -5, -5])), 1)
    }

    func testKthLargestAgainstSorting() {
        var rng = SeededGenerator(seed: 91)
        for n in [1, 2, 7, 256] {
            // Values of both signs, zeros, ties and infinities.
            var values = (0..<n).map { _ in (rng.uniform(-4, 4) * 4).rounded() / 4 }
            if n > 2 {
                values[0] = -.infinity
                values[1] = .infinity
                values[2] = 0
            }
            let sorted = values.sorted(by: >)
            for k in 1...n {
                XCTAssertEqual(kthLargest(row(values), k), sorted[k - 1], "k = \(k) of \(n)")
            }
        }
        XCTAssertEqual(kthLargest(row([-0.5, -0.25, -2]), 2), -0.5)
        let tiny = Float.leastNonzeroMagnitude
        XCTAssertEqual(kthLargest(row([tiny, 5 * tiny, -tiny]), 1), 5 * tiny, "subnormals")
        XCTAssertEqual(kthLargest(row([tiny, 5 * tiny, -tiny]), 3), -tiny, "subnormals")
    }

    /// Uniforms on a fine grid land on each token in proportion to its probability.
    func testDrawsFollowTheSoftmaxAtTheTemperature() {
        let logits: [Float] = [1, 3, -2, 0.5, 3]
        let weights = Matrix(Tensor(zeros: [1, logits.count]), rows: 1, cols: logits.count)
        for (temperature, floor) in [(Float(1), -Float.infinity), (0.5, -.infinity), (2, 0.75)] {
            let kept = logits.map { $0 >= floor ? exp(Double($0 - 3) / Double(temperature)) : 0 }
            let total = kept.reduce(0, +)
            let grid = 20_000
            var counts = [Int](repeating: 0, count: logits.count)
            for i in 0..<grid {
                counts[sampleSoftmax(row(logits), temperature: temperature, floor: floor, uniform: (Double(i) + 0.5) / Double(grid),
                                     weights: weights)] += 1
            }
            for j in logits.indices {
                XCTAssertEqual(Double(counts[j]) / Double(grid), kept[j] / total, accuracy: 2 / Double(grid),
                               "token \(j) at temperature \(temperature), floor \(floor)")
            }
        }
        XCTAssertEqual(sampleSoftmax(row(logits), temperature: 1, floor: 3, uniform: 0.999_999, weights: weights), 4)
        XCTAssertEqual(sampleSoftmax(row([0, .infinity, 1]), temperature: 1, floor: -.infinity, uniform: 0.5,
                                     weights: weights.columns(0..<3)), 1, "an infinite logit falls back to the argmax")
    }
}
