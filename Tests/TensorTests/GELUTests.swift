import Foundation
import Tensor
import TestSupport
import XCTest

/// The tanh-approximated GELU and its backward against PyTorch's formulas in Double, over the
/// whole range of inputs (the vectorised exponential's underflow and overflow included), on
/// windows whose leading dimension exceeds their columns.
final class GELUTests: XCTestCase {
    /// ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as PyTorch writes it.
    private func gelu(_ x: Double) -> Double {
        0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    }

    /// PyTorch's GeluBackward for approximate="tanh".
    private func geluDerivative(_ x: Double) -> Double {
        let k = (2 / Double.pi).squareRoot()
        let inner = k * (x + 0.044715 * x * x * x)
        let t = tanh(inner)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
    }

    /// Inputs from -30 to 30 in uneven steps, then extremes.
    private let inputs: [Float] = (0..<601).map { Float($0 - 300) * 0.1 + 0.0123 } + [0, -0.0, 1e-6, -1e-6, 1e4, -1e4, 1e30, -1e30]

    private func window(_ values: [Float], cols: Int, ld: Int) -> Matrix {
        let rows = (values.count + cols - 1) / cols
        let t = Tensor(zeros: [rows * ld])
        t.fill(.nan)
        for (i, v) in values.enumerated() { t[(i / cols) * ld + i % cols] = v }
        for i in values.count..<(rows * cols) { t[(i / cols) * ld + i % cols] = 0.5 }
        return Matrix(t, start: 0, rows: rows, cols: cols, ld: ld)
    }

    func testForwardMatchesTheTanhFormula() {
        let cols = 13
        let x = window(inputs, cols: cols, ld: cols + 3)
        let y = window([Float](repeating: 0, count: x.rows * cols), cols: cols, ld: cols + 1)
        var rng = SeededGenerator(seed: 51)
        let bias = Tensor(shape: [cols], values: (0..<cols).map { _ in rng.uniform(-0.01, 0.01) })
        let before = x.tensor.toArray()
        addBiasGELU(x, bias: bias, into: y)
        for r in 0..<x.rows {
            for j in 0..<cols {
                let pre = before[r * x.ld + j] + bias[j]
                XCTAssertEqual(x.tensor[r * x.ld + j], pre, "the biased pre-activation is kept")
                let expected = gelu(Double(pre))
                let actual = Double(y.tensor[r * y.ld + j])
                XCTAssertEqual(actual, expected, accuracy: 2e-6 * max(abs(expected), 1e-3), "gelu(\(pre))")
            }
            for j in cols..<x.ld { XCTAssertTrue(x.tensor[r * x.ld + j].isNaN, "outside the window") }
            XCTAssertEqual(y.tensor[r * y.ld + cols].isNaN, true, "outside the output window")
        }
    }

    func testBackwardMatchesTheDerivativeAndSumsTheBiasGradient() {
        let cols = 11
        let x = window(inputs, cols: cols, ld: cols + 2)
        var rng = SeededGenerator(seed: 52)
        let upstream = (0..<(x.rows * cols)).map { _ in rng.uniform(-1, 1) }
        let dy = window(upstream, cols: cols, ld: cols + 5)
        let biasGradient = Tensor(shape: [cols], values: (0..<cols).map { Float($0) })
        geluBackward(dy, preActivation: x, biasGradient: biasGradient)
        var sums = (0..<cols).map { Double($0) }
        for r in 0..<x.rows {
            for j in 0..<cols {
                let pre = Double(x.tensor[r * x.ld + j])
                let expected = Double(upstream[r * cols + j]) * geluDerivative(pre)
                let actual = Double(dy.tensor[r * dy.ld + j])
                XCTAssertEqual(actual, expected, accuracy: 3e-6 * max(abs(expected), 1e-2), "gelu'(\(pre))")
                sums[j] += actual
            }
            XCTAssertTrue(dy.tensor[r * dy.ld + cols].isNaN, "outside the window")
        }
        assertClose(biasGradient.toArray().map(Double.init), sums, rtol: 1e-5, atol: 1e-5, "bias gradient")
    }
}
