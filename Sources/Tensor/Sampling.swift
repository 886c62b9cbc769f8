/// Drawing a token from a row of logits, as nanoGPT's `generate` does: the softmax of the
/// logits divided by a temperature, optionally over the k largest only. Greedy decoding is
/// `argmax` (Reductions.swift).

/// The k-th largest value of a 1 × V row, k in 1...V: top-k sampling keeps the values at or
/// above it (ties with it included, as nanoGPT's `logits < v[:, [-1]]` keeps them).
///
/// It bisects over the 32-bit keys that order Floats as integers: the largest key t with at
/// least k values at or above it is the k-th largest value's. 32 passes over the row, no
/// scratch and no reordering.
public func kthLargest(_ row: Matrix, _ k: Int) -> Float {
    precondition(row.rows == 1 && k >= 1 && k <= row.cols, "kthLargest: k = \(k) of a \(row.rows)x\(row.cols) row")
    let p = row.pointer, n = row.cols
    func atOrAbove(_ key: UInt32) -> Int {
        var count = 0
        for j in 0..<n where orderKey(p[j]) >= key { count += 1 }
        return count
    }
    // Invariant: at least k values have keys ≥ low; fewer than k have keys > high.
    var low: UInt32 = 0, high: UInt32 = .max
    while low < high {
        let middle = low + (high - low) / 2 + 1
        if atOrAbove(middle) >= k { low = middle } else { high = middle - 1 }
    }
    return floatOfOrderKey(low)
}

/// A draw from softmax(x / τ) over the entries x ≥ `floor` of a 1 × V row of logits, by the
/// inverse of its distribution function: with w_j = e^((x_j - max)/τ), 0 below the floor, the
/// first j whose running sum of w (in Double) exceeds u·Σw. Logits that are not finite fall back
/// to the row's argmax rather than read a sum that is not a number.
///
/// - Parameters:
///   - logits: (1, V).
///   - temperature: τ > 0.
///   - floor: the least logit kept (`kthLargest` for top-k, -∞ for all).
///   - u: uniform in [0, 1).
///   - weights: (1, V) scratch; receives w.
public func sampleSoftmax(_ logits: Matrix, temperature: Float, floor: Float, uniform u: Double, weights: Matrix) -> Int {
    let n = logits.cols
    precondition(logits.rows == 1 && weights.rows == 1 && weights.cols == n && n > 0 && temperature > 0 && u >= 0 && u < 1,
                 "sampleSoftmax: logits \(logits.rows)x\(n), weights \(weights.rows)x\(weights.cols), temperature \(temperature), u \(u)")
    let x = logits.pointer, w = weights.pointer
    let top = x[firstMaximum(x, n)], inverse = 1 / temperature
    var total: Double = 0
    for j in 0..<n {
        let v = x[j] >= floor ? exponential((x[j] - top) * inverse) : 0
        w[j] = v
        total += Double(v)
    }
    guard total.isFinite && total > 0 else { return firstMaximum(x, n) }
    let target = u * total
    var running: Double = 0
    var last = 0
    for j in 0..<n where w[j] > 0 {
        running += Double(w[j])
        if running > target { return j }
        last = j
    }
    // Rounding left the running sum a hair below u·Σw: the last token with any weight.
    return last
}

/// A UInt32 that orders as the Float does: negative values' bits inverted, positive values'
/// sign bit set.
@inline(__always)
private func orderKey(_ x: Float) -> UInt32 {
    let bits = x.bitPattern
    return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
}

/// The Float whose `orderKey` is `key`.
private func floatOfOrderKey(_ key: UInt32) -> Float {
    Float(bitPattern: key & 0x8000_0000 != 0 ? key & 0x7FFF_FFFF : ~key)
}
