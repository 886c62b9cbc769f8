import Foundation

/// Numerically stable row-wise log-softmax: `out[r, j] = x[r, j] - max_r - log Σ_k exp(x[r, k] - max_r)`.
public func logSoftmax(_ x: Matrix, into out: Matrix) {
    precondition(x.rows == out.rows && x.cols == out.cols, "logSoftmax: \(x.rows)x\(x.cols) into \(out.rows)x\(out.cols)")
    for r in 0..<x.rows {
        let src = x.pointer + r * x.ld, dst = out.pointer + r * out.ld
        let shift = rowMax(src, x.cols)
        var z: Float = 0
        for j in 0..<x.cols { z += expf(src[j] - shift) }
        let logZ = logf(z)
        // (x - max) is exact near the max; subtracting max + log Σ at once would lose the
        // low digits of large logits.
        for j in 0..<x.cols { dst[j] = (src[j] - shift) - logZ }
    }
}

/// The summed softmax cross-entropy of `logits` against class `labels`, and its gradient.
///
/// - Parameters:
///   - logits: (B, classes).
///   - labels: B class indices in `0..<classes`.
///   - gradient: (B, classes); receives `gradientScale · (softmax(logits) - onehot(labels))`.
///     For a mean over a batch of N samples, pass `1/N`.
/// - Returns: Σ_r -log softmax(logits)[r, labels[r]] over the B rows, in Double.
public func softmaxCrossEntropy(logits: Matrix, labels: UnsafeBufferPointer<Int32>, gradient: Matrix?,
                                gradientScale: Float) -> Double {
    precondition(labels.count >= logits.rows, "softmaxCrossEntropy: \(labels.count) labels for \(logits.rows) rows")
    if let g = gradient {
        precondition(g.rows == logits.rows && g.cols == logits.cols, "softmaxCrossEntropy: gradient \(g.rows)x\(g.cols)")
    }
    var total: Double = 0
    let classes = logits.cols
    for r in 0..<logits.rows {
        let src = logits.pointer + r * logits.ld
        let label = Int(labels[r])
        precondition(label >= 0 && label < classes, "softmaxCrossEntropy: label \(label) outside 0..<\(classes)")
        let shift = rowMax(src, classes)
        var z: Float = 0
        for j in 0..<classes { z += expf(src[j] - shift) }
        let logZ = logf(z)
        total += Double(logZ - (src[label] - shift))
        if let g = gradient {
            let dst = g.pointer + r * g.ld
            let invZ = 1 / z
            for j in 0..<classes { dst[j] = expf(src[j] - shift) * invZ * gradientScale }
            dst[label] -= gradientScale
        }
    }
    return total
}

@inline(__always)
private func rowMax(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    var m = -Float.infinity
    for j in 0..<n where p[j] > m { m = p[j] }
    return m
}
