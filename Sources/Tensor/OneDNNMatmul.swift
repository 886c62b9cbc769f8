import CDNNL
import Foundation

/// oneDNN's f32 matmul as a GEMM provider: one primitive per distinct call (sizes, transposes,
/// leading dimensions, alpha, beta), created on first use and kept; each call sets the three
/// buffers and runs it. A transposed operand is the stored matrix read through swapped strides,
/// alpha is an output scale and beta a sum post-op. A call oneDNN cannot take (no engine, no
/// primitive for that layout) returns false, and is remembered so, so that `gemm` uses OpenBLAS.
public enum OneDNNMatmul {
    struct Key: Hashable {
        let m, n, k: Int
        let transA, transB: Bool
        let lda, ldb, ldc: Int
        let alpha, beta: UInt32

        init(_ a: Matrix, _ transA: Transpose, _ b: Matrix, _ transB: Transpose, _ c: Matrix, k: Int, alpha: Float, beta: Float) {
            (m, n, self.k) = (c.rows, c.cols, k)
            (self.transA, self.transB) = (transA == .transposed, transB == .transposed)
            (lda, ldb, ldc) = (a.ld, b.ld, c.ld)
            (self.alpha, self.beta) = (alpha.bitPattern, beta.bitPattern)
        }
    }

    /// A created primitive, destroyed with its entry.
    final class Entry {
        var matmul: lockstep_dnnl_matmul
        init(_ matmul: lockstep_dnnl_matmul) { self.matmul = matmul }
        deinit { lockstep_dnnl_matmul_destroy(&matmul) }
    }

    /// The primitives by call; nil for a call oneDNN refused. The lock also keeps two threads
    /// from setting the same primitive's buffers at once.
    final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var entries: [Key: Entry?] = [:]
    }

    static let cache = Cache()

    /// `c = alpha · op(a) · op(b) + beta · c` with `op(a)` M × K and `op(b)` K × N (checked by `gemm`).
    /// - Returns: false when oneDNN cannot run this call (nothing was written).
    public static func run(_ a: Matrix, _ transA: Transpose, _ b: Matrix, _ transB: Transpose, into c: Matrix, k: Int,
                    alpha: Float, beta: Float) -> Bool {
        let key = Key(a, transA, b, transB, c, k: k, alpha: alpha, beta: beta)
        cache.lock.lock()
        defer { cache.lock.unlock() }
        guard let entry = entry(key), let runtime = OneDNN.runtime else { return false }
        return lockstep_dnnl_matmul_execute(&entry.matmul, runtime.stream, a.pointer, b.pointer, c.pointer) == dnnl_success
    }

    /// Creates the primitive of this call without running it.
    /// - Returns: false when oneDNN has none for it.
    public static func prepare(_ a: Matrix, _ transA: Transpose, _ b: Matrix, _ transB: Transpose, into c: Matrix, k: Int,
                        alpha: Float, beta: Float) -> Bool {
        cache.lock.lock()
        defer { cache.lock.unlock() }
        return entry(Key(a, transA, b, transB, c, k: k, alpha: alpha, beta: beta)) != nil
    }

    /// The primitive for `key`, created on first use; the caller holds the lock.
    private static func entry(_ key: Key) -> Entry? {
        if let known = cache.entries[key] { return known }
        let created = create(key)
        cache.entries[key] = .some(created)
        return created
    }

    private static func create(_ key: Key) -> Entry? {
        guard let runtime = OneDNN.runtime else { return nil }
        // OpenMP's thread count is per thread: the thread that runs the primitives asks for one.
        _ = lockstep_dnnl_pin_one_thread()
        // op(a)(i, p) lies at i·lda + p as stored, at p·lda + i when transposed; the same for b.
        let (aRow, aCol) = key.transA ? (1, key.lda) : (key.lda, 1)
        let (bRow, bCol) = key.transB ? (1, key.ldb) : (key.ldb, 1)
        var matmul = lockstep_dnnl_matmul()
        let status = lockstep_dnnl_matmul_create(&matmul, runtime.engine, Int64(key.m), Int64(key.n), Int64(key.k),
                                                 Int64(aRow), Int64(aCol), Int64(bRow), Int64(bCol), Int64(key.ldc),
                                                 Float(bitPattern: key.alpha), Float(bitPattern: key.beta))
        guard status == dnnl_success else { return nil }
        return Entry(matmul)
    }
}
