import Tensor

/// The GPT one sequence at a time with a `KVCache`, for generation: a call runs only the new
/// positions through the blocks, attending over the cached ones, and computes the logits of the
/// last new position only.
extension GPT {
    /// Runs tokens[start..<start + n] of sequence 0 at positions start..<start + n, start being
    /// `cache.count`, and appends their keys and values to `cache`. The logits of position
    /// start + n - 1 go where `forward(batch:)` puts them, row start + n - 1 of sequence 0
    /// (`nextLogits(cache)`); the other rows of `logits` are left as they were.
    ///
    /// - Precondition: `cache` was made for this model's config; 1 ≤ n ≤ T - start.
    public func forward(appending n: Int, to cache: KVCache) {
        let start = cache.count, end = start + n
        precondition(cache.context == config.context && cache.keys.count == config.layers && n > 0 && end <= config.context,
                     "GPT: \(n) new positions after \(start) of \(config.context), a cache of \(cache.context) positions and \(cache.keys.count) blocks")
        checkIds(tokens, start..<end, "a token")
        embeddingForward(tokens: UnsafeBufferPointer(rebasing: tokens[start..<end]), tokenTable: tokenTable,
                         positionTable: positionTable, sequences: 1, context: n, firstPosition: start,
                         into: residuals[0])                                  // (n, C)
        for (i, block) in blocks.enumerated() {
            block.forward(stream(i, rows: n), into: stream(i + 1, rows: n), appendingTo: cache.keys[i], values: cache.values[i],
                          at: start)
        }
        cache.count = end
        // logits = ln_f(x)·wteᵀ of the last position: (1, C)·(C, V)
        lnF.forward(stream(config.layers, rows: n).rows(n - 1..<n))
        gemm(lnF.output(rows: 1), .none, tokenTable, .transposed, into: nextLogits(cache))
    }

    /// The logits of the token after the cached positions, (1, V): row `cache.count - 1` of
    /// sequence 0 in `logits`.
    public func nextLogits(_ cache: KVCache) -> Matrix {
        precondition(cache.count > 0, "GPT: no logits before the first position")
        return Matrix(logits, start: (cache.count - 1) * config.vocab, rows: 1, cols: config.vocab, ld: config.vocab)
    }
}
