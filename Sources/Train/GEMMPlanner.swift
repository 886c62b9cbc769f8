import Comm
import Host
import Tensor

/// One GEMM shape's time per call on each provider, in seconds; `onednn` is infinite when
/// oneDNN cannot run the shape.
public struct GEMMTiming: Sendable, Equatable {
    public let shape: GEMMShape
    public var openblas: Double
    public var onednn: Double

    public init(shape: GEMMShape, openblas: Double, onednn: Double) {
        (self.shape, self.openblas, self.onednn) = (shape, openblas, onednn)
    }

    /// The faster provider; OpenBLAS on a tie.
    public var faster: GEMMProvider { onednn < openblas ? .onednn : .openblas }
}

/// Times both providers on GEMM shapes, on scratch operands of the shapes' dense layout: oneDNN's
/// primitive is created first (not timed), then calls alternate between the providers until
/// `secondsPerShape` is spent (at least one each, at most 7), and each provider's median is
/// kept. A large shape thus costs one call each: the GPT's shapes take 2 to 30 ms a call.
public enum GEMMPlanner {
    public static func time(_ shapes: [GEMMShape], secondsPerShape: Double = 0.02) -> [GEMMTiming] {
        shapes.map { time($0, budget: secondsPerShape) }
    }

    private static func time(_ shape: GEMMShape, budget: Double) -> GEMMTiming {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        // a: (M, K) or stored (K, M); b: (K, N) or stored (N, K); c: (M, N).
        let a = shape.transA ? dense(rows: k, cols: m) : dense(rows: m, cols: k)
        let b = shape.transB ? dense(rows: n, cols: k) : dense(rows: k, cols: n)
        let c = dense(rows: m, cols: n)
        let ta: Transpose = shape.transA ? .transposed : .none, tb: Transpose = shape.transB ? .transposed : .none
        let beta: Float = shape.accumulates ? 1 : 0
        let blas = { GEMMPlan.withProvider(.openblas) { gemm(a, ta, b, tb, into: c, beta: beta) } }
        guard OneDNNMatmul.prepare(a, ta, b, tb, into: c, k: k, alpha: 1, beta: beta) else {
            return GEMMTiming(shape: shape, openblas: seconds(blas), onednn: .infinity)
        }
        let dnnl = { _ = OneDNNMatmul.run(a, ta, b, tb, into: c, k: k, alpha: 1, beta: beta) }
        var blasTimes: [Double] = [], dnnlTimes: [Double] = [], spent = 0.0
        repeat {
            blasTimes.append(seconds(blas))
            dnnlTimes.append(seconds(dnnl))
            spent += blasTimes.last! + dnnlTimes.last!
        } while spent < budget && blasTimes.count < 7
        return GEMMTiming(shape: shape, openblas: Statistics.median(blasTimes), onednn: Statistics.median(dnnlTimes))
    }

    /// A rows × cols matrix of small values (no denormals, no overflow when accumulated).
    private static func dense(rows: Int, cols: Int) -> Matrix {
        let t = Tensor(zeros: [max(rows * cols, 1)])
        t.fill(0.25)
        return Matrix(t, start: 0, rows: rows, cols: cols, ld: max(cols, 1))
    }

    private static func seconds(_ body: () -> Void) -> Double {
        let start = MonotonicClock.nanoseconds()
        body()
        return MonotonicClock.seconds(since: start)
    }
}
