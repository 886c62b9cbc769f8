import CBLAS
import Tensor
import TestSupport
import XCTest

/// oneDNN's matmul runs the calls `gemm` gives it (it does not silently hand them to OpenBLAS),
/// agrees with OpenBLAS on every transpose combination, odd leading dimensions, alpha and beta,
/// and the plan routes shapes as installed.
final class OneDNNMatmulTests: XCTestCase {
    /// A (rows, cols) window of a random tensor whose row stride is `cols + pad`.
    private func window(rows: Int, cols: Int, pad: Int, _ rng: inout SeededGenerator) -> Matrix {
        Matrix(randomTensor([rows * (cols + pad)], &rng), start: 0, rows: rows, cols: cols, ld: cols + pad)
    }

    func testOneDNNRunsEveryLayoutAndMatchesOpenBLAS() throws {
        XCTAssertTrue(OneDNN.isAvailable, "oneDNN has no CPU engine here: install libdnnl-dev (scripts/install-deps)")
        var rng = SeededGenerator(seed: 3)
        for ta in [Transpose.none, .transposed] {
            for tb in [Transpose.none, .transposed] {
                for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (0.75, -1.5)] {
                    let (m, n, k) = (37, 29, 61)
                    let a = ta == .none ? window(rows: m, cols: k, pad: 3, &rng) : window(rows: k, cols: m, pad: 5, &rng)
                    let b = tb == .none ? window(rows: k, cols: n, pad: 1, &rng) : window(rows: n, cols: k, pad: 7, &rng)
                    let c0 = window(rows: m, cols: n, pad: 11, &rng)
                    let viaBLAS = Matrix(Tensor(shape: [c0.tensor.count], values: c0.tensor.toArray()), start: 0, rows: m, cols: n, ld: c0.ld)
                    GEMMPlan.withProvider(.openblas) { gemm(a, ta, b, tb, into: viaBLAS, alpha: alpha, beta: beta) }
                    XCTAssertTrue(OneDNNMatmul.run(a, ta, b, tb, into: c0, k: k, alpha: alpha, beta: beta),
                                  "oneDNN refused \(m)x\(n)x\(k) \(ta)/\(tb) alpha \(alpha) beta \(beta)")
                    assertClose(c0.tensor.toArray().doubles, viaBLAS.tensor.toArray().doubles, rtol: 1e-5, atol: 1e-4,
                                "oneDNN vs OpenBLAS \(ta)/\(tb) alpha \(alpha) beta \(beta)")
                }
            }
        }
    }

    /// Deterministic mode may name oneDNN: the same call on the same operands gives the same bits.
    func testRepeatedCallsGiveTheSameBits() throws {
        XCTAssertTrue(OneDNN.isAvailable, "oneDNN has no CPU engine here: install libdnnl-dev (scripts/install-deps)")
        var rng = SeededGenerator(seed: 5)
        let a = window(rows: 96, cols: 200, pad: 0, &rng), b = window(rows: 130, cols: 200, pad: 0, &rng)
        let first = window(rows: 96, cols: 130, pad: 0, &rng), second = window(rows: 96, cols: 130, pad: 0, &rng)
        XCTAssertTrue(OneDNNMatmul.run(a, .none, b, .transposed, into: first, k: 200, alpha: 1, beta: 0))
        XCTAssertTrue(OneDNNMatmul.run(a, .none, b, .transposed, into: second, k: 200, alpha: 1, beta: 0))
        XCTAssertEqual(first.tensor.toArray().map(\.bitPattern), second.tensor.toArray().map(\.bitPattern))
    }

    func testPlanRoutesShapesAsInstalled() throws {
        XCTAssertTrue(OneDNN.isAvailable, "oneDNN has no CPU engine here: install libdnnl-dev (scripts/install-deps)")
        let shape = GEMMShape(m: 4, n: 6, k: 8, transA: false, transB: true, accumulates: false)
        defer { GEMMPlan.reset() }
        GEMMPlan.install([shape: .onednn])
        XCTAssertEqual(GEMMPlan.provider(for: shape), .onednn)
        XCTAssertEqual(GEMMPlan.provider(for: GEMMShape(m: 4, n: 6, k: 8, transA: false, transB: true, accumulates: true)), .openblas)
        GEMMPlan.withProvider(.openblas) { XCTAssertEqual(GEMMPlan.provider(for: shape), .openblas) }
        XCTAssertEqual(GEMMPlan.provider(for: shape), .onednn)
        GEMMPlan.reset()
        XCTAssertEqual(GEMMPlan.provider(for: shape), .openblas)
    }

    /// A shape the plan did not see takes the provider of the nearest planned shape with its
    /// transposes and accumulation, within a factor of 2 in each size; a tie goes to the
    /// smaller planned sizes.
    func testUnplannedShapesTakeTheNearestPlannedShapesProvider() {
        func shape(_ m: Int, _ n: Int, _ k: Int, _ ops: String = "NT") -> GEMMShape {
            GEMMShape(m: m, n: n, k: k, transA: ops.first == "T", transB: ops.last == "T", accumulates: false)
        }
        defer { GEMMPlan.reset() }
        GEMMPlan.install([shape(128, 1024, 784): .onednn, shape(128, 10, 1024): .openblas,
                          shape(100, 64, 64): .onednn, shape(400, 64, 64): .openblas])
        XCTAssertEqual(GEMMPlan.provider(for: shape(131, 1024, 784)), .onednn, "a rank's share of a balanced batch")
        XCTAssertEqual(GEMMPlan.provider(for: shape(125, 10, 1024)), .openblas)
        XCTAssertEqual(GEMMPlan.provider(for: shape(300, 1024, 784)), .openblas, "beyond a factor of 2: OpenBLAS")
        XCTAssertEqual(GEMMPlan.provider(for: shape(128, 1024, 784, "NN")), .openblas, "other transposes: OpenBLAS")
        XCTAssertEqual(GEMMPlan.provider(for: shape(200, 64, 64)), .onednn, "a tie goes to the smaller planned sizes")
    }
}
