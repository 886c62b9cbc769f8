/// Whole-tensor reductions.

/// The sum of all elements, accumulated in Double.
public func sum(_ x: Tensor) -> Double {
    let p = x.pointer
    var acc: Double = 0
    for i in 0..<x.count { acc += Double(p[i]) }
    return acc
}

/// Σ x[i]² over `range` of `x`, accumulated in Double: a gradient's squared L2 norm, for
/// clipping by the global norm (the sum over every parameter, and over ranks, is the caller's).
// Never inlined: callers in other modules would get it compiled without AVX2.
@inline(never)
public func sumOfSquares(_ x: Tensor, range: Range<Int>) -> Double {
    precondition(range.lowerBound >= 0 && range.upperBound <= x.count, "sumOfSquares: \(range) outside 0..<\(x.count)")
    let p = x.pointer + range.lowerBound, n = range.count
    // Eight Double lanes (two AVX2 registers), each Float squared exactly in Double.
    var lanes = SIMD8<Double>(repeating: 0)
    var j = 0
    while j + 8 <= n {
        let v = SIMD8<Double>(p.lanes(at: j))
        lanes += v * v
        j += 8
    }
    var total = lanes.sum()
    while j < n {
        total += Double(p[j]) * Double(p[j])
        j += 1
    }
    return total
}

/// The largest |x[i]|, or 0 for an empty buffer. NaN propagates.
// Never inlined: callers in other modules would get it compiled without AVX2.
@inline(never)
public func maxAbs(_ x: UnsafeBufferPointer<Float>) -> Float {
    // The bits of |v| order like the values, and every NaN's lie above +Inf's: one
    // vectorisable integer max finds both the largest magnitude and any NaN.
    var largest: UInt32 = 0
    x.withMemoryRebound(to: UInt32.self) { bits in
        for b in bits { largest = max(largest, b & 0x7FFF_FFFF) }
    }
    return Float(bitPattern: largest)
}

/// The largest |x[i]| of a tensor, or 0 if it is empty. NaN propagates.
public func maxAbs(_ x: Tensor) -> Float { maxAbs(UnsafeBufferPointer(x.buffer)) }

/// The index of the first non-finite element (NaN or ±Inf) in `x`, or nil.
public func firstNonFinite(_ x: UnsafeBufferPointer<Float>) -> Int? {
    // A vectorisable pass first: an element is non-finite iff its exponent bits are all set,
    // and the largest exponent field over the buffer says whether any is.
    var largestExponent: UInt32 = 0
    x.withMemoryRebound(to: UInt32.self) { bits in
        for b in bits { largestExponent = max(largestExponent, b & 0x7F80_0000) }
    }
    if largestExponent != 0x7F80_0000 { return nil }
    return x.firstIndex { !$0.isFinite }
}

/// How many rows of `m` have their largest value (the first on ties) in the column `labels` names.
public func countArgmaxMatches(_ m: Matrix, labels: UnsafeBufferPointer<Int32>) -> Int {
    precondition(labels.count >= m.rows, "countArgmaxMatches: \(labels.count) labels for \(m.rows) rows")
    var matches = 0
    for r in 0..<m.rows where firstMaximum(m.pointer + r * m.ld, m.cols) == Int(labels[r]) { matches += 1 }
    return matches
}

/// The column of the largest value of a 1 × cols row (the first on ties): greedy decoding's token.
public func argmax(_ row: Matrix) -> Int {
    precondition(row.rows == 1 && row.cols > 0, "argmax: a \(row.rows)x\(row.cols) matrix, not a row")
    return firstMaximum(row.pointer, row.cols)
}

/// The index of the largest of `p[0..<n]`, the first on ties; 0 for n ≤ 1.
@inline(__always)
func firstMaximum(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Int {
    var best = 0
    var bestValue = p[0]
    for j in 1..<max(n, 1) where p[j] > bestValue {
        best = j
        bestValue = p[j]
    }
    return best
}

extension UnsafeMutablePointer where Pointee == Float {
    /// Elements j..<j+8 as one vector, for the row reductions that run eight lanes wide.
    @inline(__always)
    func lanes(at j: Int) -> SIMD8<Float> { UnsafeRawPointer(self + j).loadUnaligned(as: SIMD8<Float>.self) }

    /// Stores `v` into elements j..<j+8.
    @inline(__always)
    func setLanes(_ v: SIMD8<Float>, at j: Int) { UnsafeMutableRawPointer(self + j).storeBytes(of: v, as: SIMD8<Float>.self) }
}
