import Foundation

/// Fixed-point conversion for exact, order-independent sums (deterministic mode).
///
/// A Float `x` becomes the Int64 `round(x · 2^f)`; integer addition is associative, so a sum of
/// such integers has the same bits in any order, on any number of ranks. The caller picks
/// `f` per tensor from the largest magnitude so that the sum cannot overflow.

/// `into[i] += round(x[i] · 2^exponent)` for every element (round half to even).
public func accumulateFixedPoint(_ x: UnsafeBufferPointer<Float>, exponent: Int, into: UnsafeMutablePointer<Int64>) {
    let scale = Double(sign: .plus, exponent: exponent, significand: 1)
    for i in x.indices {
        into[i] &+= Int64((Double(x[i]) * scale).rounded(.toNearestOrEven))
    }
}

/// `out[i] = Float(Double(sum[i]) · 2^-exponent)`: the sums back as Floats.
public func fixedPointToFloat(_ sum: UnsafePointer<Int64>, exponent: Int, into out: UnsafeMutableBufferPointer<Float>) {
    let scale = Double(sign: .plus, exponent: -exponent, significand: 1)
    for i in out.indices {
        out[i] = Float(Double(sum[i]) * scale)
    }
}
