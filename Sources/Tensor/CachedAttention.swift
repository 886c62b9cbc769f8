/// Causal self-attention one sequence at a time with a key-value cache, for decoding: the keys
/// and values of the positions already seen are kept, so new positions compute their own
/// q, k and v only and attend over the cache, instead of running the whole sequence again.
///
/// The cache of one layer is two buffers of (heads, T, hs), `cacheCount` elements each: head h's
/// keys (or values) of positions 0..<T as a contiguous (T, hs) matrix, which the scores and the
/// weighted sum read row after row.
extension CausalSelfAttention {
    /// Elements of one layer's key (or value) cache: heads·T·hs = T·C.
    public var cacheCount: Int { context * embed }

    /// Head h's (T, hs) matrix in a (heads, T, hs) cache.
    private func cached(_ t: Tensor, _ h: Int) -> Matrix {
        Matrix(t, start: h * context * headSize, rows: context, cols: headSize, ld: headSize)
    }

    /// The attention of new positions start..<start + n of one sequence, n = `qkv.rows`: their
    /// keys and values are appended to the cache, then each attends over positions 0 through
    /// itself, as `forward` computes those rows of a whole sequence.
    ///
    /// - Parameters:
    ///   - qkv: (n, 3C), c_attn's output for the new positions, laid out as `forward`'s qkv rows.
    ///   - start: the positions the cache holds; start + n ≤ T.
    ///   - keys, values: (heads, T, hs) each: rows 0..<start of each head hold the earlier
    ///     positions'; rows start..<start + n receive the new ones'.
    ///   - probabilities: (heads, T, T), forward's layout for one sequence: rows start..<start + n
    ///     of each head's square receive P over columns 0..<start + n.
    ///   - y: receives (n, C), head h's output in columns h·hs..<(h+1)·hs, as forward's.
    public func forward(appending qkv: Matrix, at start: Int, keys: Tensor, values: Tensor, probabilities: Tensor,
                        into y: Matrix) {
        let n = qkv.rows, end = start + n, hs = headSize
        precondition(n > 0 && start >= 0 && end <= context && qkv.cols == 3 * embed && y.rows == n && y.cols == embed
                     && keys.count >= cacheCount && values.count >= cacheCount && probabilities.count >= probabilitiesPerSequence,
                     "CausalSelfAttention: \(n) new positions at \(start) of \(context), qkv \(qkv.rows)x\(qkv.cols), y \(y.rows)x\(y.cols), keys \(keys.count), values \(values.count), probabilities \(probabilities.count)")
        for h in 0..<heads {
            let columns = h * hs..<(h + 1) * hs
            let k = cached(keys, h), v = cached(values, h)
            copyRows(qkv.columns(columns.shifted(by: embed)), into: k.rows(start..<end))
            copyRows(qkv.columns(columns.shifted(by: 2 * embed)), into: v.rows(start..<end))
            let scores = square(probabilities, h).rows(start..<end).columns(0..<end)
            // S = Q·Kᵀ/√hs: (n, hs)·(hs, start + n)
            gemm(qkv.columns(columns), .none, k.rows(0..<end), .transposed, into: scores, alpha: scale)
            causalSoftmax(scores, firstRow: start)
            // Y = P·V: (n, start + n)·(start + n, hs)
            gemm(scores, .none, v.rows(0..<end), .none, into: y.columns(columns))
        }
    }
}

extension Range<Int> {
    fileprivate func shifted(by offset: Int) -> Range<Int> { (lowerBound + offset)..<(upperBound + offset) }
}

/// `destination = source`, row by row; both are rows × cols.
private func copyRows(_ source: Matrix, into destination: Matrix) {
    precondition(source.rows == destination.rows && source.cols == destination.cols,
                 "copyRows: \(source.rows)x\(source.cols) into \(destination.rows)x\(destination.cols)")
    for r in 0..<source.rows {
        (destination.pointer + r * destination.ld).update(from: source.pointer + r * source.ld, count: source.cols)
    }
}
