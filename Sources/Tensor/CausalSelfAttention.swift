/// Causal multi-head self-attention over a fused QKV buffer, the part of nanoGPT's
/// `CausalSelfAttention` between `c_attn` and `c_proj`: per sequence b and head h, with hs = C/heads,
/// `P = softmax(Q·Kᵀ / √hs)` under the causal mask (position i attends to j ≤ i), and `Y = P·V`.
///
/// - qkv: (B, T, 3C), row (b, t) holding q, k and v of token t, each (heads, hs) in head order, as
///   `c_attn`'s output splits into them. Head h's Q, K and V are strided (T, hs) windows of it
///   (leading dimension 3C), handed to GEMM as they are.
/// - probabilities: (B, heads, T, T), P, kept for backward.
/// - y: (B, T, C), head h's output in columns h·hs..<(h+1)·hs, the layout `c_proj` reads.
///
/// Only the causal lower triangle is computed, in tiles of `tile` rows: rows r0..<r1 of the
/// scores need keys 0..<r1 only, so every GEMM of forward and backward runs over a staircase of
/// tiles that covers the triangle (`scoreArea` elements of each T × T matrix) instead of the whole
/// square. Entries above the diagonal inside a diagonal tile are stored as zeros and never read
/// outside it.
public struct CausalSelfAttention: Equatable, Sendable {
    /// T, the sequence length.
    public let context: Int
    public let heads: Int
    /// C, the model width; a multiple of `heads`.
    public let embed: Int
    /// Rows per causal tile.
    public let tile: Int

    /// Tiles of 64 rows: at T = 256 the GEMMs cover 62.5% of the square, and each is still
    /// large enough for OpenBLAS to run near its peak.
    public static let defaultTile = 64

    public init(context: Int, heads: Int, embed: Int, tile: Int = CausalSelfAttention.defaultTile) {
        precondition(context > 0 && heads > 0 && embed % heads == 0 && tile > 0,
                     "CausalSelfAttention: context \(context), embed \(embed) over \(heads) heads, tile \(tile)")
        self.context = context
        self.heads = heads
        self.embed = embed
        self.tile = tile
    }

    /// hs = C / heads.
    public var headSize: Int { embed / heads }
    /// Elements of `probabilities` per sequence: heads·T·T.
    public var probabilitiesPerSequence: Int { heads * context * context }
    /// Elements of the scratch buffer `backward` needs: one T × T matrix.
    public var scratchCount: Int { context * context }

    /// The row tiles r0..<r1 covering 0..<T.
    private var tiles: StrideTo<Int> { stride(from: 0, to: context, by: tile) }
    private func end(_ r0: Int) -> Int { min(r0 + tile, context) }

    /// Elements of each T × T matrix the tiles cover: Σ over tiles of rows·r1.
    public var scoreArea: Int { tiles.reduce(0) { $0 + (end($1) - $1) * end($1) } }
    /// The GEMM FLOPs of forward per sequence, Q·Kᵀ and P·V over the tiles: 2 × 2·hs·area per head.
    public var forwardFlopsPerSequence: Int { 4 * embed * scoreArea }
    /// Backward's per sequence: dP = dY·Vᵀ, dV = Pᵀ·dY, dQ = dS·K and dK = dSᵀ·Q.
    public var backwardFlopsPerSequence: Int { 8 * embed * scoreArea }

    var scale: Float { 1 / Float(headSize).squareRoot() }

    /// Head h's Q (part 0), K (1) or V (2) of sequence b: (T, hs) with leading dimension 3C.
    private func part(_ qkv: Tensor, _ part: Int, _ b: Int, _ h: Int) -> Matrix {
        Matrix(qkv, start: b * context * 3 * embed + part * embed + h * headSize, rows: context, cols: headSize, ld: 3 * embed)
    }

    /// Head h's columns of sequence b in a (B, T, C) buffer.
    private func columns(_ t: Tensor, _ b: Int, _ h: Int) -> Matrix {
        Matrix(t, start: b * context * embed + h * headSize, rows: context, cols: headSize, ld: embed)
    }

    /// Square `index` (T × T) of a buffer of them, e.g. (B, heads, T, T) probabilities.
    func square(_ t: Tensor, _ index: Int) -> Matrix {
        Matrix(t, start: index * context * context, rows: context, cols: context, ld: context)
    }

    private func check(_ batch: Int, _ buffers: [(String, Tensor, Int)]) {
        precondition(batch > 0, "CausalSelfAttention: batch \(batch)")
        for (name, t, perSequence) in buffers {
            precondition(t.count >= batch * perSequence,
                         "CausalSelfAttention: \(name) has \(t.count) elements, \(batch) sequences need \(batch * perSequence)")
        }
    }

    /// Y = softmax(QKᵀ/√hs, causal)·V for the first `batch` sequences.
    public func forward(qkv: Tensor, probabilities: Tensor, into y: Tensor, batch: Int) {
        let tc = context * embed
        check(batch, [("qkv", qkv, 3 * tc), ("probabilities", probabilities, probabilitiesPerSequence), ("y", y, tc)])
        for b in 0..<batch {
            for h in 0..<heads {
                let q = part(qkv, 0, b, h), k = part(qkv, 1, b, h), v = part(qkv, 2, b, h)
                let p = square(probabilities, b * heads + h), out = columns(y, b, h)
                for r0 in tiles {
                    let r1 = end(r0)
                    let scores = p.rows(r0..<r1).columns(0..<r1)
                    // S = Q·Kᵀ/√hs: (r1-r0, hs)·(hs, r1)
                    gemm(q.rows(r0..<r1), .none, k.rows(0..<r1), .transposed, into: scores, alpha: scale)
                    causalSoftmax(scores, firstRow: r0)
                    // Y = P·V: (r1-r0, r1)·(r1, hs)
                    gemm(scores, .none, v.rows(0..<r1), .none, into: out.rows(r0..<r1))
                }
            }
        }
    }

    /// The gradient of the first `batch` sequences' qkv, from that of y.
    ///
    /// - Parameters:
    ///   - dy: (B, T, C).
    ///   - qkv, probabilities: what forward read and kept.
    ///   - scratch: `scratchCount` elements, overwritten.
    ///   - dqkv: receives (B, T, 3C).
    public func backward(outputGradient dy: Tensor, qkv: Tensor, probabilities: Tensor, scratch: Tensor, into dqkv: Tensor,
                         batch: Int) {
        let tc = context * embed
        check(batch, [("dy", dy, tc), ("qkv", qkv, 3 * tc), ("probabilities", probabilities, probabilitiesPerSequence),
                      ("dqkv", dqkv, 3 * tc)])
        precondition(scratch.count >= scratchCount, "CausalSelfAttention: scratch of \(scratch.count), \(scratchCount) needed")
        let ds = square(scratch, 0)
        for b in 0..<batch {
            for h in 0..<heads {
                let q = part(qkv, 0, b, h), k = part(qkv, 1, b, h), v = part(qkv, 2, b, h)
                let dq = part(dqkv, 0, b, h), dk = part(dqkv, 1, b, h), dv = part(dqkv, 2, b, h)
                let p = square(probabilities, b * heads + h), g = columns(dy, b, h)
                for r0 in tiles {
                    let r1 = end(r0)
                    let block = ds.rows(r0..<r1).columns(0..<r1)
                    // dP = dY·Vᵀ: (r1-r0, hs)·(hs, r1), then dS through the softmax.
                    gemm(g.rows(r0..<r1), .none, v.rows(0..<r1), .transposed, into: block)
                    causalSoftmaxBackward(block, probabilities: p.rows(r0..<r1).columns(0..<r1), firstRow: r0)
                    // dQ = dS·K/√hs: (r1-r0, r1)·(r1, hs)
                    gemm(block, .none, k.rows(0..<r1), .none, into: dq.rows(r0..<r1), alpha: scale)
                }
                for c0 in tiles {
                    let c1 = end(c0)
                    // Keys c0..<c1 are seen by queries c0..<T.
                    // dK = dSᵀ·Q/√hs: (c1-c0, T-c0)·(T-c0, hs)
                    gemm(ds.rows(c0..<context).columns(c0..<c1), .transposed, q.rows(c0..<context), .none,
                         into: dk.rows(c0..<c1), alpha: scale)
                    // dV = Pᵀ·dY: (c1-c0, T-c0)·(T-c0, hs)
                    gemm(p.rows(c0..<context).columns(c0..<c1), .transposed, g.rows(c0..<context), .none, into: dv.rows(c0..<c1))
                }
            }
        }
    }
}

/// Row i of `scores` (absolute row firstRow + i) becomes the softmax of its columns 0...firstRow + i,
/// in place; its later columns become 0.
func causalSoftmax(_ scores: Matrix, firstRow: Int) {
    for i in 0..<scores.rows {
        let row = scores.pointer + i * scores.ld
        let n = firstRow + i + 1
        var lanes = SIMD8<Float>(repeating: -.infinity)
        var j = 0
        while j + 8 <= n {
            // A select rather than pointwiseMax and max(), which stay calls.
            let v = row.lanes(at: j)
            lanes.replace(with: v, where: v .> lanes)
            j += 8
        }
        var m = lanes[0]
        for k in 1..<8 { m = max(m, lanes[k]) }
        while j < n {
            m = max(m, row[j])
            j += 1
        }
        for j in 0..<n { row[j] = exponential(row[j] - m) }
        var sums = SIMD8<Float>(repeating: 0)
        j = 0
        while j + 8 <= n {
            sums += row.lanes(at: j)
            j += 8
        }
        var z = sums.sum()
        while j < n {
            z += row[j]
            j += 1
        }
        let inverse = 1 / z
        for j in 0..<n { row[j] *= inverse }
        (row + n).update(repeating: 0, count: scores.cols - n)
    }
}

/// Softmax's backward row by row, in place: `dS[i, j] = P[i, j]·(dP[i, j] - Σ_k P[i, k]·dP[i, k])`
/// over the causal columns; the later columns of each row become 0.
private func causalSoftmaxBackward(_ gradient: Matrix, probabilities p: Matrix, firstRow: Int) {
    for i in 0..<gradient.rows {
        let g = gradient.pointer + i * gradient.ld, prob = p.pointer + i * p.ld
        let n = firstRow + i + 1
        var lanes = SIMD8<Float>(repeating: 0)
        var j = 0
        while j + 8 <= n {
            lanes += g.lanes(at: j) * prob.lanes(at: j)
            j += 8
        }
        var dot = lanes.sum()
        while j < n {
            dot += g[j] * prob[j]
            j += 1
        }
        for j in 0..<n { g[j] = prob[j] * (g[j] - dot) }
        (g + n).update(repeating: 0, count: gradient.cols - n)
    }
}
