import Tensor

/// A tensor of `shape` filled with values uniform in [low, high) from `rng`.
func randomTensor(_ shape: [Int], _ rng: inout SeededGenerator, _ low: Float = -1, _ high: Float = 1) -> Tensor {
    let t = Tensor(zeros: shape)
    for i in 0..<t.count { t[i] = rng.uniform(low, high) }
    return t
}

/// Element (r, c) of a matrix window, read through its tensor.
func element(_ m: Matrix, _ r: Int, _ c: Int) -> Float { m.tensor[m.start + r * m.ld + c] }

/// Whether flat element `i` of `m.tensor` lies inside the window `m`.
func isInside(_ m: Matrix, _ i: Int) -> Bool {
    let local = i - m.start
    guard local >= 0, m.rows > 0 else { return false }
    let r = local / m.ld, c = local % m.ld
    return r < m.rows && c < m.cols
}

/// `Σ a[i]·b[i]` in Double.
func dot(_ a: Tensor, _ b: Tensor, count: Int) -> Double {
    var s = 0.0
    for i in 0..<count { s += Double(a[i]) * Double(b[i]) }
    return s
}

extension Array where Element == Float {
    var doubles: [Double] { map(Double.init) }
}
