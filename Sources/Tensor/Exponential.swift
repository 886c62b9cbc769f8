/// e^x in a form whose loops vectorise: no calls, no branches, only arithmetic, selects and
/// bit operations on Floats (libm's `expf` is a call per element, eight times slower here).
///
/// x = n·ln 2 + r with n = round(x / ln 2) and |r| ≤ ln 2 / 2 (ln 2 split in two parts, so that
/// r is exact); e^r from Cephes' degree-6 polynomial; 2^n from the exponent bits. Within 2 ulp
/// of e^x for x in [-87.33, 88.37]; 0 below (where e^x is no longer a normal Float), +∞ above
/// (e^x > 2.4·10³⁸, within a factor 1.5 of Float's largest), NaN for NaN.
@inline(__always)
func exponential(_ x: Float) -> Float {
    let low: Float = -87.33, high: Float = 88.37
    let clamped = min(max(x, low), high)
    // Adding 1.5·2^23 rounds x/ln 2 to the nearest integer, which the low bits then hold.
    let magic: Float = 12_582_912
    let shifted = clamped * 1.442_695_04 + magic
    let n = shifted - magic
    let r = clamped - n * 0.693_359_375 - n * -2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    p = p * (r * r) + r + 1
    let exponentBits = (shifted.bitPattern &- magic.bitPattern &+ 127) << 23
    let result = p * Float(bitPattern: exponentBits)
    return x < low ? 0 : (x > high ? .infinity : result)
}
