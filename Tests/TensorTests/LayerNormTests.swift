import Foundation
import Tensor
import TestSupport
import XCTest

/// LayerNorm forward and backward against the definitions in Double, on windows, with rows of
/// widths that are and are not multiples of the eight lanes, and with a large common offset
/// (which a one-pass variance would lose).
final class LayerNormTests: XCTestCase {
    private struct Case {
        let rows: Int, cols: Int, offset: Float
    }

    private let cases = [Case(rows: 5, cols: 32, offset: 0), Case(rows: 3, cols: 13, offset: 0), Case(rows: 4, cols: 7, offset: 300)]

    private func window(_ rng: inout SeededGenerator, rows: Int, cols: Int, ld: Int, offset: Float) -> Matrix {
        let t = Tensor(zeros: [(rows + 1) * ld])
        t.fill(.nan)
        for r in 0..<rows { for j in 0..<cols { t[(r + 1) * ld + j] = offset + rng.uniform(-2, 2) } }
        return Matrix(t, start: ld, rows: rows, cols: cols, ld: ld)
    }

    private func row(_ m: Matrix, _ r: Int) -> [Double] {
        (0..<m.cols).map { Double(m.tensor[m.start + r * m.ld + $0]) }
    }

    private func statistics(_ x: [Double]) -> (mean: Double, rstd: Double) {
        let mean = x.reduce(0, +) / Double(x.count)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)
        return (mean, 1 / (variance + 1e-5).squareRoot())
    }

    func testForwardMatchesTheDefinition() {
        var rng = SeededGenerator(seed: 61)
        for c in cases {
            let x = window(&rng, rows: c.rows, cols: c.cols, ld: c.cols + 3, offset: c.offset)
            let y = window(&rng, rows: c.rows, cols: c.cols, ld: c.cols + 1, offset: 0)
            let weight = randomTensor([c.cols], &rng, 0.5, 1.5), bias = randomTensor([c.cols], &rng)
            let mean = Tensor(zeros: [c.rows + 2]), rstd = Tensor(zeros: [c.rows + 2])
            layerNormForward(x, weight: weight, bias: bias, into: y, mean: mean, rstd: rstd)
            for r in 0..<c.rows {
                let xs = row(x, r), (mu, s) = statistics(xs)
                assertClose(Double(mean[r]), mu, rtol: 1e-6, atol: 1e-6, "mean \(r)")
                assertClose(Double(rstd[r]), s, rtol: 2e-5, atol: 0, "rstd \(r)")
                let expected = xs.indices.map { (xs[$0] - mu) * s * Double(weight[$0]) + Double(bias[$0]) }
                // x - mean in Float loses the offset's last bits: 300 carries 2e-5 of absolute error.
                assertClose(row(y, r), expected, rtol: 1e-5, atol: c.offset == 0 ? 1e-5 : 1e-4, "\(c) row \(r)")
            }
            XCTAssertTrue(y.tensor[0].isNaN && y.tensor[y.start + c.cols].isNaN, "outside the output window")
        }
    }

    func testBackwardMatchesTheDefinitionAndAccumulates() {
        var rng = SeededGenerator(seed: 62)
        for c in cases {
            let x = window(&rng, rows: c.rows, cols: c.cols, ld: c.cols + 2, offset: c.offset)
            let y = window(&rng, rows: c.rows, cols: c.cols, ld: c.cols, offset: 0)
            let dy = window(&rng, rows: c.rows, cols: c.cols, ld: c.cols + 4, offset: 0)
            let dx = window(&rng, rows: c.rows, cols: c.cols, ld: c.cols + 1, offset: 0)
            let weight = randomTensor([c.cols], &rng, 0.5, 1.5), bias = randomTensor([c.cols], &rng)
            let dw = randomTensor([c.cols], &rng), db = randomTensor([c.cols], &rng)
            let mean = Tensor(zeros: [c.rows]), rstd = Tensor(zeros: [c.rows])
            layerNormForward(x, weight: weight, bias: bias, into: y, mean: mean, rstd: rstd)
            let dxBefore = (0..<c.rows).map { row(dx, $0) }
            var dwExpected = dw.toArray().map(Double.init), dbExpected = db.toArray().map(Double.init)
            layerNormBackward(dy, input: x, weight: weight, mean: mean, rstd: rstd, inputGradient: dx, weightGradient: dw,
                              biasGradient: db)
            for r in 0..<c.rows {
                let xs = row(x, r), g = row(dy, r), (mu, s) = statistics(xs)
                let n = Double(c.cols)
                let xhat = xs.map { ($0 - mu) * s }
                let scaled = g.indices.map { g[$0] * Double(weight[$0]) }
                let gMean = scaled.reduce(0, +) / n
                let gxMean = zip(scaled, xhat).reduce(0) { $0 + $1.0 * $1.1 } / n
                let expected = xs.indices.map { dxBefore[r][$0] + s * (scaled[$0] - gMean - xhat[$0] * gxMean) }
                assertClose(row(dx, r), expected, rtol: 1e-4, atol: c.offset == 0 ? 1e-5 : 2e-4, "\(c) dx row \(r)")
                for j in 0..<c.cols {
                    dwExpected[j] += g[j] * xhat[j]
                    dbExpected[j] += g[j]
                }
            }
            assertClose(dw.toArray().map(Double.init), dwExpected, rtol: 1e-5, atol: c.offset == 0 ? 1e-5 : 2e-4, "\(c) dweight")
            assertClose(db.toArray().map(Double.init), dbExpected, rtol: 1e-5, atol: 1e-5, "\(c) dbias")
            XCTAssertTrue(dx.tensor[0].isNaN && dx.tensor[dx.start + c.cols].isNaN, "outside the gradient window")
        }
    }
}
