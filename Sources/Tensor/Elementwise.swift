/// Elementwise and row-wise kernels over the first `rows` rows of a matrix. The loops run over
/// raw pointers so that the compiler vectorises them; shapes are checked once per call.

/// `m[r, j] += bias[j]`, then, if `relu`, `m[r, j] = max(m[r, j], 0)`: the epilogue of a
/// Linear layer, fused so that the activation is read and written once.
public func addBiasRows(_ m: Matrix, bias: Tensor, relu: Bool) {
    precondition(bias.count == m.cols, "addBiasRows: bias of \(bias.count) for \(m.cols) columns")
    let b = bias.pointer
    let n = m.cols
    for r in 0..<m.rows {
        let row = m.pointer + r * m.ld
        if relu {
            for j in 0..<n { row[j] = max(row[j] + b[j], 0) }
        } else {
            for j in 0..<n { row[j] += b[j] }
        }
    }
}

/// `m[r, j] += bias[j] + residual[r, j]`: the epilogue of a linear layer whose output joins a
/// residual stream (a transformer block's projections), fused so that each is read once.
public func addBiasAndResidual(_ m: Matrix, bias: Tensor, residual: Matrix) {
    precondition(bias.count == m.cols && residual.rows == m.rows && residual.cols == m.cols,
                 "addBiasAndResidual: m \(m.rows)x\(m.cols), bias \(bias.count), residual \(residual.rows)x\(residual.cols)")
    let b = bias.pointer
    for r in 0..<m.rows {
        let row = m.pointer + r * m.ld, res = residual.pointer + r * residual.ld
        for j in 0..<m.cols { row[j] += b[j] + res[j] }
    }
}

/// `dx[i] = y[i] > 0 ? dy[i] : 0` for the first `count` elements: ReLU's backward, read from
/// the ReLU's output so that no mask is stored. `dx` may be `dy` itself.
public func reluBackward(_ dy: Tensor, output y: Tensor, into dx: Tensor, count: Int) {
    precondition(count <= dy.count && count <= y.count && count <= dx.count,
                 "reluBackward: \(count) elements, dy \(dy.count), y \(y.count), dx \(dx.count)")
    let g = dy.pointer, o = y.pointer, d = dx.pointer
    for i in 0..<count {
        let gi = g[i], oi = o[i]  // both loaded unconditionally, so the select vectorises
        d[i] = oi > 0 ? gi : 0
    }
}

/// `y[i] = max(x[i], 0)` for the first `count` elements.
public func relu(_ x: Tensor, into y: Tensor, count: Int) {
    precondition(count <= x.count && count <= y.count, "relu: \(count) elements, x \(x.count), y \(y.count)")
    let s = x.pointer, d = y.pointer
    for i in 0..<count { d[i] = max(s[i], 0) }
}

/// `sums[j] += Σ_r m[r, j]`: a bias gradient from the output gradient. `sums` is a 1 × cols row.
public func accumulateColumnSums(_ m: Matrix, into sums: Matrix) {
    precondition(sums.rows == 1 && sums.cols == m.cols, "accumulateColumnSums: \(sums.rows)x\(sums.cols) sums for \(m.cols) columns")
    let s = sums.pointer
    for r in 0..<m.rows {
        let row = m.pointer + r * m.ld
        for j in 0..<m.cols { s[j] += row[j] }
    }
}

/// `dst = UInt8 pixel · scale + shift` for a gathered batch: `rows[k]` names the source row
/// (one image of `channels` planes) of sample k. This is where images kept as bytes become
/// Floats, one batch at a time, written channel-major: (channels, batch, rowLength/channels).
public func gatherNormalizedBytes(_ source: UnsafeBufferPointer<UInt8>, rowLength: Int, channels: Int = 1,
                                  rows: UnsafeBufferPointer<Int>, into dst: Tensor, scale: Float = 1 / 255, shift: Float = 0) {
    precondition(rows.count * rowLength <= dst.count && channels > 0 && rowLength % channels == 0,
                 "gatherNormalizedBytes: \(rows.count) rows of \(rowLength) (\(channels) channels) into \(dst.count)")
    let d = dst.pointer, plane = rowLength / channels, batch = rows.count
    for (k, r) in rows.enumerated() {
        precondition(r >= 0 && (r + 1) * rowLength <= source.count, "gatherNormalizedBytes: row \(r) outside the source")
        for c in 0..<channels {
            let s = source.baseAddress! + r * rowLength + c * plane
            let o = d + (c * batch + k) * plane
            for j in 0..<plane { o[j] = Float(s[j]) * scale + shift }
        }
    }
}
