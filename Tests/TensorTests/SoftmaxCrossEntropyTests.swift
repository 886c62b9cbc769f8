import Foundation
import Tensor
import TestSupport
import XCTest

/// Softmax cross-entropy and log-softmax against the same formulas in Double, including
/// logits of ±1e4 whose exponentials overflow Float unless shifted.
final class SoftmaxCrossEntropyTests: XCTestCase {
    private let classes = 5

    /// Random rows, then extreme ones.
    private func logitRows() -> [[Float]] {
        var rng = SeededGenerator(seed: 31)
        var rows = (0..<6).map { _ in (0..<classes).map { _ in rng.uniform(-4, 4) } }
        rows.append([1e4, -1e4, 0, 3, 1e4])
        rows.append([-1e4, -1e4, -1e4, -1e4, -1e4])
        rows.append([-1e4, 1e4, -1e4, 0, 5])
        rows.append([1e4, 1e4 - 1, 1e4 - 2, 1e4 - 3, 1e4 - 4])
        return rows
    }

    private let labels: [Int32] = [0, 4, 2, 1, 3, 0, 1, 3, 0, 4]

    /// log softmax of a row, in Double.
    private func logSoftmaxReference(_ row: [Float]) -> [Double] {
        let d = row.map(Double.init)
        let m = d.max()!
        let logZ = m + log(d.reduce(0) { $0 + exp($1 - m) })
        return d.map { $0 - logZ }
    }

    private func matrix(_ rows: [[Float]], ld: Int) -> Matrix {
        let t = Tensor(zeros: [rows.count * ld])
        t.fill(.nan)  // the padding columns must never be read
        for (r, row) in rows.enumerated() {
            for (j, v) in row.enumerated() { t[r * ld + j] = v }
        }
        return Matrix(t, start: 0, rows: rows.count, cols: classes, ld: ld)
    }

    func testLossAndGradientMatchDouble() {
        let rows = logitRows()
        let logits = matrix(rows, ld: classes + 2)
        let gradient = Matrix(Tensor(zeros: [rows.count * classes]), rows: rows.count, cols: classes)
        let scale: Float = 0.25
        let loss = labels.withUnsafeBufferPointer {
            softmaxCrossEntropy(logits: logits, labels: $0, gradient: gradient, gradientScale: scale)
        }
        var expectedLoss = 0.0
        var expectedGradient: [Double] = []
        for (r, row) in rows.enumerated() {
            let lp = logSoftmaxReference(row)
            expectedLoss -= lp[Int(labels[r])]
            for j in 0..<classes {
                expectedGradient.append(Double(scale) * (exp(lp[j]) - (j == Int(labels[r]) ? 1 : 0)))
            }
        }
        XCTAssertTrue(loss.isFinite)
        XCTAssertGreaterThan(loss, 4e4, "the extreme rows put 2e4 on each of two samples")
        assertClose(loss, expectedLoss, rtol: 1e-6, atol: 1e-4, "summed loss")
        let g = gradient.tensor.toArray()
        XCTAssertNil(g.firstIndex { !$0.isFinite })
        assertClose(g.doubles, expectedGradient, rtol: 1e-5, atol: 1e-6, "gradient")
        for r in 0..<rows.count {
            let rowSum = g[(r * classes)..<((r + 1) * classes)].reduce(0, +)
            XCTAssertEqual(rowSum, 0, accuracy: 1e-6, "row \(r) of softmax - onehot sums to 0")
        }

        // Without a gradient the loss is the same.
        let lossOnly = labels.withUnsafeBufferPointer {
            softmaxCrossEntropy(logits: logits, labels: $0, gradient: nil, gradientScale: 0)
        }
        XCTAssertEqual(lossOnly, loss)
    }

    func testLogSoftmaxMatchesDouble() {
        let rows = logitRows()
        let x = matrix(rows, ld: classes + 1)
        let out = Matrix(Tensor(zeros: [rows.count * (classes + 3)]), start: 0, rows: rows.count, cols: classes, ld: classes + 3)
        logSoftmax(x, into: out)
        var actual: [Double] = [], expected: [Double] = []
        for (r, row) in rows.enumerated() {
            expected += logSoftmaxReference(row)
            for j in 0..<classes { actual.append(Double(element(out, r, j))) }
        }
        XCTAssertNil(actual.firstIndex { !$0.isFinite })
        assertClose(actual, expected, rtol: 1e-6, atol: 1e-5, "log softmax")
        // The columns between rows are not written.
        for r in 0..<rows.count {
            for j in classes..<(classes + 3) where r * (classes + 3) + j < out.tensor.count {
                XCTAssertEqual(out.tensor[r * (classes + 3) + j], 0)
            }
        }
    }
}
