/// Fixed-point conversion for exact, order-independent sums (deterministic mode).
///
/// A Float `x` becomes the integer `round(x · 2^f)` (Int32 or Int64); integer addition is
/// associative, so a sum of such integers has the same bits in any order, on any number of
/// ranks. The caller picks `f` per block from the largest magnitude so that the sum cannot
/// overflow.
///
/// Both directions avoid the Double ⇄ Int64 instructions that AVX2 lacks, so that they
/// vectorise: adding 1.5 · 2^52 to a Double of magnitude below 2^51 leaves the rounded integer
/// in the low bits of its significand (the add rounds half to even), and an Int64 becomes a
/// Double through its two 32-bit halves, each exact, summed with one rounding.
///
/// The conversions are never inlined: callers in other modules would get them compiled
/// without AVX2.
public protocol FixedPointInteger: FixedWidthInteger, SignedInteger {
    /// `into[i] = round(x[i] · 2^exponent)` (round half to even), or `+=` when `accumulate`.
    /// - Precondition: every |x[i]| · 2^exponent fits the type (Int64: below 2^51); the
    ///   caller's exponent guarantees it.
    static func convert(_ x: UnsafeBufferPointer<Float>, exponent: Int, into: UnsafeMutablePointer<Self>, accumulate: Bool)
    /// `out[i] = Float(Double(sums[i]) · 2^-exponent)`: the sums back as Floats, each rounded once.
    static func toFloat(_ sums: UnsafePointer<Self>, exponent: Int, into out: UnsafeMutableBufferPointer<Float>)
}

/// 1.5 · 2^52: a Double this large has a unit in the last place of 1.
private let roundingMagic = 6_755_399_441_055_744.0
private let roundingMagicBits = Int64(bitPattern: roundingMagic.bitPattern)

@inline(__always)
private func fixedPoint(_ x: Float, _ scale: Double) -> Int64 {
    Int64(bitPattern: (Double(x) * scale + roundingMagic).bitPattern) &- roundingMagicBits
}

/// Both types' conversion: the low bits of `fixedPoint`, which are the whole result when the
/// value fits the type.
@inline(__always)
private func convertToFixedPoint<I: FixedWidthInteger>(_ x: UnsafeBufferPointer<Float>, exponent: Int,
                                                       into: UnsafeMutablePointer<I>, accumulate: Bool) {
    let scale = Double(sign: .plus, exponent: exponent, significand: 1)
    guard let source = x.baseAddress else { return }
    if accumulate {
        for i in 0..<x.count { into[i] &+= I(truncatingIfNeeded: fixedPoint(source[i], scale)) }
    } else {
        for i in 0..<x.count { into[i] = I(truncatingIfNeeded: fixedPoint(source[i], scale)) }
    }
}

extension Int64: FixedPointInteger {
    @inline(never)
    public static func convert(_ x: UnsafeBufferPointer<Float>, exponent: Int, into: UnsafeMutablePointer<Int64>,
                               accumulate: Bool) {
        convertToFixedPoint(x, exponent: exponent, into: into, accumulate: accumulate)
    }

    @inline(never)
    public static func toFloat(_ sums: UnsafePointer<Int64>, exponent: Int, into out: UnsafeMutableBufferPointer<Float>) {
        let scale = Double(sign: .plus, exponent: -exponent, significand: 1)
        // high · 2^32 + low, with high = sum >> 32 (signed) and low = sum & (2^32 - 1); each half
        // is made exact from a magic Double whose significand it fills.
        let two52 = 4_503_599_627_370_496.0, two52Bits = two52.bitPattern
        guard let target = out.baseAddress else { return }
        for i in 0..<out.count {
            let s = sums[i]
            let high = Double(bitPattern: UInt64(bitPattern: (s >> 32) &+ roundingMagicBits)) - roundingMagic
            let low = Double(bitPattern: two52Bits | UInt64(UInt32(truncatingIfNeeded: s))) - two52
            target[i] = Float((high * 4_294_967_296 + low) * scale)
        }
    }
}

extension Int32: FixedPointInteger {
    /// Exact while every |x[i]| · 2^exponent ≤ 2^31.
    @inline(never)
    public static func convert(_ x: UnsafeBufferPointer<Float>, exponent: Int, into: UnsafeMutablePointer<Int32>,
                               accumulate: Bool) {
        convertToFixedPoint(x, exponent: exponent, into: into, accumulate: accumulate)
    }

    /// A Double holds every Int32 exactly.
    @inline(never)
    public static func toFloat(_ sums: UnsafePointer<Int32>, exponent: Int, into out: UnsafeMutableBufferPointer<Float>) {
        let scale = Double(sign: .plus, exponent: -exponent, significand: 1)
        guard let target = out.baseAddress else { return }
        for i in 0..<out.count { target[i] = Float(Double(sums[i]) * scale) }
    }
}
