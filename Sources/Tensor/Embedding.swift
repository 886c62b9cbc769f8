/// Token and position embeddings, as nanoGPT's `wte(idx) + wpe(arange(T))`.

/// `x[b, t, :] = wte[tokens[b·T + t], :] + wpe[p0 + t, :]` for the first `sequences` sequences,
/// p0 being `firstPosition`: 0 for whole sequences, the position of the first new token when
/// an incremental forward appends tokens to those before.
///
/// - Parameters:
///   - tokens: (sequences, T) token ids, each in `0..<wte.rows`.
///   - tokenTable: wte, (V, C).
///   - positionTable: wpe, (T_max, C) with p0 + T ≤ T_max; rows p0..<p0 + T are used.
///   - x: receives (sequences, T, C).
public func embeddingForward(tokens: UnsafeBufferPointer<Int32>, tokenTable wte: Matrix, positionTable wpe: Matrix,
                             sequences: Int, context: Int, firstPosition: Int = 0, into x: Tensor) {
    let c = wte.cols, n = sequences * context
    precondition(wpe.cols == c && firstPosition >= 0 && firstPosition + context <= wpe.rows && tokens.count >= n
                 && x.count >= n * c,
                 "embeddingForward: wte \(wte.rows)x\(c), wpe \(wpe.rows)x\(wpe.cols), \(tokens.count) tokens, x \(x.count), \(sequences)x\(context) from position \(firstPosition)")
    for row in 0..<n {
        let token = Int(tokens[row])
        precondition(token >= 0 && token < wte.rows, "embeddingForward: token \(token) outside 0..<\(wte.rows)")
        let e = wte.pointer + token * wte.ld, p = wpe.pointer + (firstPosition + row % context) * wpe.ld
        let out = x.pointer + row * c
        for j in 0..<c { out[j] = e[j] + p[j] }
    }
}

/// The embeddings' backward: `wteGradient[tokens[b·T + t], :] += dx[b, t, :]` and
/// `wpeGradient[t, :] += dx[b, t, :]`, for the first `sequences` sequences.
///
/// - Parameters:
///   - dx: (sequences, T, C).
///   - tokenGradient: (V, C), accumulated into.
///   - positionGradient: (T_max, C), accumulated into.
public func embeddingBackward(_ dx: Tensor, tokens: UnsafeBufferPointer<Int32>, sequences: Int, context: Int,
                              tokenGradient dwte: Matrix, positionGradient dwpe: Matrix) {
    let c = dwte.cols, n = sequences * context
    precondition(dwpe.cols == c && context <= dwpe.rows && tokens.count >= n && dx.count >= n * c,
                 "embeddingBackward: wte \(dwte.rows)x\(c), wpe \(dwpe.rows)x\(dwpe.cols), \(tokens.count) tokens, dx \(dx.count)")
    for row in 0..<n {
        let token = Int(tokens[row])
        precondition(token >= 0 && token < dwte.rows, "embeddingBackward: token \(token) outside 0..<\(dwte.rows)")
        let g = dx.pointer + row * c
        let e = dwte.pointer + token * dwte.ld, p = dwpe.pointer + (row % context) * dwpe.ld
        for j in 0..<c {
            e[j] += g[j]
            p[j] += g[j]
        }
    }
}
