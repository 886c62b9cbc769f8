import Tensor
import TestSupport
import XCTest

/// `gemm` against a triple loop in Double, for every transpose combination, on windows with a
/// leading dimension wider than their columns and a start offset, with beta accumulation.
final class GEMMTests: XCTestCase {
    /// `alpha · op(a) · op(b) + beta · c0` by the definition, (M, N) row-major.
    private func naive(_ a: Matrix, _ ta: Transpose, _ b: Matrix, _ tb: Transpose, c0: [Double], m: Int, n: Int,
                       alpha: Float, beta: Float) -> [Double] {
        let k = ta == .none ? a.cols : a.rows
        var out = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = ta == .none ? element(a, i, p) : element(a, p, i)
                    let bv = tb == .none ? element(b, p, j) : element(b, j, p)
                    s += Double(av) * Double(bv)
                }
                out[i * n + j] = Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * c0[i * n + j])
            }
        }
        return out
    }

    /// A (rows, cols) window cut from a larger random tensor with `rows(_:)` and `columns(_:)`,
    /// so that its leading dimension exceeds `cols` and it starts inside the tensor.
    private func window(rows: Int, cols: Int, _ rng: inout SeededGenerator) -> Matrix {
        let ld = cols + 3
        let full = Matrix(randomTensor([(rows + 2) * ld], &rng), rows: rows + 2, cols: ld)
        return full.rows(1..<(rows + 1)).columns(2..<(cols + 2))
    }

    private func check(m: Int, n: Int, k: Int, _ ta: Transpose, _ tb: Transpose, alpha: Float, beta: Float,
                       seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededGenerator(seed: seed)
        let a = ta == .none ? window(rows: m, cols: k, &rng) : window(rows: k, cols: m, &rng)
        let b = tb == .none ? window(rows: k, cols: n, &rng) : window(rows: n, cols: k, &rng)
        let c = window(rows: m, cols: n, &rng)
        XCTAssertGreaterThan(c.ld, c.cols)
        XCTAssertGreaterThan(c.start, 0)
        let before = c.tensor.toArray()
        var c0: [Double] = []
        for i in 0..<m { for j in 0..<n { c0.append(Double(element(c, i, j))) } }
        let expected = naive(a, ta, b, tb, c0: c0, m: m, n: n, alpha: alpha, beta: beta)

        gemm(a, ta, b, tb, into: c, alpha: alpha, beta: beta)

        var actual: [Double] = []
        for i in 0..<m { for j in 0..<n { actual.append(Double(element(c, i, j))) } }
        let label = "gemm \(m)x\(n)x\(k) \(ta)/\(tb) alpha \(alpha) beta \(beta)"
        assertClose(actual, expected, rtol: 1e-5, atol: 2e-6 * Double(k + 1), label, file: file, line: line)
        // Nothing outside the window is written.
        let after = c.tensor.toArray()
        for i in 0..<after.count where !isInside(c, i) && after[i] != before[i] {
            XCTFail("\(label): element \(i) outside the window changed", file: file, line: line)
            break
        }
    }

    /// Runs `body` once with each provider for every shape.
    private func forEachProvider(_ body: () -> Void) {
        for provider in GEMMProvider.allCases { GEMMPlan.withProvider(provider, body) }
    }

    func testEveryTransposeCombinationOnStridedWindows() {
        forEachProvider {
            var seed: UInt64 = 1
            for ta in [Transpose.none, .transposed] {
                for tb in [Transpose.none, .transposed] {
                    for (alpha, beta) in [(Float(1), Float(0)), (1.5, 1), (-0.5, 0.25)] {
                        check(m: 5, n: 7, k: 3, ta, tb, alpha: alpha, beta: beta, seed: seed)
                        check(m: 1, n: 4, k: 9, ta, tb, alpha: alpha, beta: beta, seed: seed + 100)
                        check(m: 2, n: 3, k: 17, ta, tb, alpha: alpha, beta: beta, seed: seed + 200)
                        seed += 1
                    }
                }
            }
        }
    }

    func testLargeBlockedShapes() {
        forEachProvider {
            var seed: UInt64 = 50
            for ta in [Transpose.none, .transposed] {
                for tb in [Transpose.none, .transposed] {
                    check(m: 67, n: 45, k: 130, ta, tb, alpha: 1, beta: 1, seed: seed)
                    check(m: 130, n: 33, k: 71, ta, tb, alpha: 0.5, beta: 0, seed: seed + 10)
                    seed += 1
                }
            }
        }
    }

    func testBetaZeroIgnoresOldContents() {
        forEachProvider(betaZeroIgnoresOldContents)
    }

    private func betaZeroIgnoresOldContents() {
        var rng = SeededGenerator(seed: 9)
        let a = Matrix(randomTensor([6], &rng), rows: 2, cols: 3)
        let b = Matrix(randomTensor([12], &rng), rows: 3, cols: 4)
        let c = Matrix(Tensor(zeros: [8]), rows: 2, cols: 4)
        c.tensor.fill(.nan)
        gemm(a, .none, b, .none, into: c)
        let expected = naive(a, .none, b, .none, c0: [Double](repeating: 0, count: 8), m: 2, n: 4, alpha: 1, beta: 0)
        assertClose(c.tensor.toArray().doubles, expected, rtol: 1e-6, atol: 1e-6, "beta 0 over NaN")
        // One row, which goes through sgemv.
        let row = Matrix(c.tensor, rows: 1, cols: 4)
        c.tensor.fill(.nan)
        gemm(a.rows(0..<1), .none, b, .none, into: row)
        assertClose(Array(c.tensor.toArray()[0..<4]).doubles, Array(expected[0..<4]), rtol: 1e-6, atol: 1e-6, "one row, beta 0 over NaN")
    }

    func testEmptyInnerDimensionScalesByBeta() {
        let a = Matrix(Tensor(zeros: [3]), start: 0, rows: 3, cols: 0, ld: 1)
        let b = Matrix(Tensor(zeros: [1]), start: 0, rows: 0, cols: 2, ld: 2)
        let backing = Tensor(shape: [10], values: [1, 2, 9, 3, 4, 9, 5, 6, 9, 9])
        let c = Matrix(backing, start: 0, rows: 3, cols: 2, ld: 3)
        gemm(a, .none, b, .none, into: c, beta: 0.5)
        XCTAssertEqual(backing.toArray(), [0.5, 1, 9, 1.5, 2, 9, 2.5, 3, 9, 9])
        backing.fill(.nan)
        gemm(a, .none, b, .none, into: c, beta: 0)
        let after = backing.toArray()
        for r in 0..<3 {
            XCTAssertEqual(after[r * 3], 0)
            XCTAssertEqual(after[r * 3 + 1], 0)
            XCTAssertTrue(after[r * 3 + 2].isNaN, "column outside the window was written")
        }
    }

    func testEmptyOutputIsANoOp() {
        let a = Matrix(Tensor(zeros: [6]), rows: 0, cols: 3)
        let b = Matrix(Tensor(shape: [6], values: [1, 2, 3, 4, 5, 6]), rows: 3, cols: 2)
        let c = Matrix(Tensor(zeros: [2]), rows: 0, cols: 2)
        gemm(a, .none, b, .none, into: c, beta: 1)
        XCTAssertEqual(c.tensor.toArray(), [0, 0])
    }
}
