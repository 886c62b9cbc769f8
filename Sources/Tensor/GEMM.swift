import CBLAS

/// Whether GEMM reads an operand as stored or transposed.
public enum Transpose: Sendable {
    case none, transposed

    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// `c = alpha · op(a) · op(b) + beta · c` in Float32 through the provider `GEMMPlan` gives the
/// shape (OpenBLAS's `cblas_sgemm` or oneDNN's matmul), or, when a
/// is one row as stored (decoding one token), `cblas_sgemv`: OpenBLAS 0.3.21's sgemm with one
/// row takes four times as long as sgemv on a [1536, 384] weight, and about as long on the
/// other weights of Configs/gpt-bench.toml.
///
/// - Parameters:
///   - a: `op(a)` is M × K.
///   - b: `op(b)` is K × N.
///   - c: M × N; with `beta == 0` its old contents are ignored.
public func gemm(_ a: Matrix, _ transA: Transpose, _ b: Matrix, _ transB: Transpose, into c: Matrix,
                 alpha: Float = 1, beta: Float = 0) {
    let (m, ka) = transA == .none ? (a.rows, a.cols) : (a.cols, a.rows)
    let (kb, n) = transB == .none ? (b.rows, b.cols) : (b.cols, b.rows)
    precondition(ka == kb && c.rows == m && c.cols == n,
                 "gemm: op(a) \(m)x\(ka) · op(b) \(kb)x\(n) into c \(c.rows)x\(c.cols)")
    if m == 0 || n == 0 { return }
    if let trace = GEMMTrace.active {
        trace.calls.append(.init(a: a, transA: transA, b: b, transB: transB, c: c, alpha: alpha, beta: beta))
        if trace.recordsOnly { return }
    }
    if ka == 0 {
        if beta != 1 { scaleRows(c, by: beta) }
        return
    }
    if m == 1 && transA == .none {
        // cᵀ = alpha · op(b)ᵀ · aᵀ + beta · cᵀ, op(b)ᵀ being b read the other way.
        cblas_sgemv(CblasRowMajor, transB == .none ? CblasTrans : CblasNoTrans, Int32(b.rows), Int32(b.cols), alpha,
                    b.pointer, Int32(b.ld), a.pointer, 1, beta, c.pointer, 1)
        return
    }
    if GEMMPlan.state.usesOneDNN,
       GEMMPlan.provider(for: GEMMShape(m: m, n: n, k: ka, transA: transA == .transposed, transB: transB == .transposed,
                                         accumulates: beta != 0)) == .onednn,
       OneDNNMatmul.run(a, transA, b, transB, into: c, k: ka, alpha: alpha, beta: beta) {
        return
    }
    openBLASGEMM(a, transA, b, transB, into: c, k: ka, alpha: alpha, beta: beta)
}

/// `cblas_sgemm` on the operands as `gemm` checked them.
func openBLASGEMM(_ a: Matrix, _ transA: Transpose, _ b: Matrix, _ transB: Transpose, into c: Matrix, k: Int,
                  alpha: Float, beta: Float) {
    cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas, Int32(c.rows), Int32(c.cols), Int32(k),
                alpha, a.pointer, Int32(a.ld), b.pointer, Int32(b.ld), beta, c.pointer, Int32(c.ld))
}

private func scaleRows(_ c: Matrix, by beta: Float) {
    for r in 0..<c.rows {
        let row = c.pointer + r * c.ld
        for j in 0..<c.cols { row[j] = beta == 0 ? 0 : row[j] * beta }
    }
}

/// OpenBLAS's own thread pool. Lockstep runs one rank per core, so each rank asks for one thread.
public enum BLASThreads {
    /// Sets the number of threads OpenBLAS uses in this process.
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    /// OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Cooperlake".
    public static var configuration: String { String(cString: openblas_get_config()) }
}

/// The GEMM calls made while it is active, so that a benchmark can replay each one alone
/// and compare a whole step with the sum of its GEMMs. Single-threaded benchmarking only:
/// nothing activates it in training, where it costs one load per GEMM.
public final class GEMMTrace {
    public struct Call {
        public let a: Matrix, transA: Transpose, b: Matrix, transB: Transpose, c: Matrix
        public let alpha: Float, beta: Float

        /// 2·M·N·K.
        public var flops: Double {
            let m = transA == .none ? a.rows : a.cols, k = transA == .none ? a.cols : a.rows
            return 2 * Double(m) * Double(c.cols) * Double(k)
        }

        /// e.g. "128×1024×784 NT".
        public var shape: String {
            let k = transA == .none ? a.cols : a.rows
            return "\(c.rows)×\(c.cols)×\(k) \(transA == .none ? "N" : "T")\(transB == .none ? "N" : "T")"
        }

        /// The plan's key for this call.
        public var planShape: GEMMShape {
            GEMMShape(m: c.rows, n: c.cols, k: transA == .none ? a.cols : a.rows, transA: transA == .transposed,
                      transB: transB == .transposed, accumulates: beta != 0)
        }

        /// The provider the plan gives this call now (sgemv for one row stays OpenBLAS's).
        public var provider: GEMMProvider {
            c.rows == 1 && transA == .none ? .openblas : GEMMPlan.provider(for: planShape)
        }

        /// Runs the call again (overwriting its output).
        public func replay() { gemm(a, transA, b, transB, into: c, alpha: alpha, beta: beta) }
    }

    public var calls: [Call] = []
    /// Whether the calls are only recorded, not computed (their outputs keep what they held):
    /// to learn a step's shapes at a fraction of its cost.
    public let recordsOnly: Bool

    nonisolated(unsafe) public static var active: GEMMTrace?

    public init(recordsOnly: Bool = false) { self.recordsOnly = recordsOnly }
}
