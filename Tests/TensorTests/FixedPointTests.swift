import Tensor
import XCTest

/// The vectorised fixed-point conversions of deterministic mode, against the plain Double
/// arithmetic they stand for: Int64 or Int32(round-half-even(x · 2^e)) and Float(Double(s) · 2^-e).
final class FixedPointTests: XCTestCase {
    /// `x` converted, or added onto `start`.
    private func toFixedPoint<I: FixedPointInteger>(_ x: [Float], exponent: Int, onto start: [I]? = nil,
                                                    as type: I.Type = Int64.self) -> [I] {
        var out = start ?? [I](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                I.convert(source, exponent: exponent, into: target.baseAddress!, accumulate: start != nil)
            }
        }
        return out
    }

    private func reference(_ x: Float, exponent: Int) -> Int64 {
        Int64((Double(x) * Double(sign: .plus, exponent: exponent, significand: 1)).rounded(.toNearestOrEven))
    }

    /// Random values whose scaled magnitude stays within 2^`bits`, as deterministic mode's
    /// exponent keeps them, the bounds themselves, and values too small for a unit.
    private func values(exponent: Int, bits: Int, extremes: [Float] = []) -> [Float] {
        var generator = SystemRandomNumberGenerator()
        let bound = Float(sign: .plus, exponent: bits - exponent, significand: 1)
        return (0..<1003).map { _ in Float.random(in: -bound...bound, using: &generator) }
            + [0, -0, bound, -bound, .leastNonzeroMagnitude, -.leastNormalMagnitude] + extremes.map { $0 * bound }
    }

    /// Asserts that the sums converted back are the Double arithmetic's, bit for bit.
    private func assertBackToFloat<I: FixedPointInteger>(_ sums: [I], exponents: [Int]) {
        for exponent in exponents {
            var out = [Float](repeating: .nan, count: sums.count)
            sums.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { I.toFloat(s.baseAddress!, exponent: exponent, into: $0) }
            }
            for (i, s) in sums.enumerated() {
                let expected = Float(Double(s) * Double(sign: .plus, exponent: -exponent, significand: 1))
                XCTAssertEqual(out[i].bitPattern, expected.bitPattern, "\(s) at 2^-\(exponent)")
            }
        }
    }

    func testConversionRoundsLikeDoubleArithmetic() {
        for exponent in [0, 10, 22, 41, -3] {
            let x = values(exponent: exponent, bits: 41)
            for (v, converted) in zip(x, toFixedPoint(x, exponent: exponent)) {
                XCTAssertEqual(converted, reference(v, exponent: exponent), "\(v) at 2^\(exponent)")
            }
        }
    }

    func testInt32ConversionRoundsLikeDoubleArithmetic() {
        for exponent in [0, 7, 23, 30, -5] {
            // Up to the ends of Int32's range: 1.99 · 2^30 and -2^31.
            let x = values(exponent: exponent, bits: 30, extremes: [1.99, -2])
            for (v, converted) in zip(x, toFixedPoint(x, exponent: exponent, as: Int32.self)) {
                XCTAssertEqual(Int64(converted), reference(v, exponent: exponent), "\(v) at 2^\(exponent)")
            }
        }
    }

    func testHalvesRoundToEven() {
        XCTAssertEqual(toFixedPoint([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.25, 0.75], exponent: 0), [0, 2, 2, 0, -2, -2, 0, 1])
        XCTAssertEqual(toFixedPoint([0.125, 0.375], exponent: 2), [0, 2], "0.5 → 0 and 1.5 → 2 after scaling")
        XCTAssertEqual(toFixedPoint([0.5, 1.5, 2.5, -0.5, -1.5, -2.5], exponent: 0, as: Int32.self), [0, 2, 2, 0, -2, -2])
    }

    func testAccumulateAdds() {
        XCTAssertEqual(toFixedPoint([1, -2, 3.5], exponent: 1, onto: [10, 10, -1 << 40]), [12, 6, (-1 << 40) + 7])
    }

    func testInt32AccumulateWrapsLikeTheSumItStandsFor() {
        // Partial sums may pass Int32's range on the way; the final sum is right if it fits.
        let big = Float(1 << 30)
        let once = toFixedPoint([big, -big, 3], exponent: 0, onto: [Int32.max - 5, Int32.min + 5, -10], as: Int32.self)
        XCTAssertEqual(toFixedPoint([-big, big, 0], exponent: 0, onto: once, as: Int32.self), [Int32.max - 5, Int32.min + 5, -7])
    }

    func testSumsBackToFloat() {
        var generator = SystemRandomNumberGenerator()
        let limit: Int64 = 1 << 62
        var sums = (0..<1000).map { _ in Int64.random(in: -limit...limit, using: &generator) }
        sums += [0, 1, -1, limit, -limit, Int64(UInt32.max), -Int64(UInt32.max), 1 << 32, -(1 << 32), (1 << 53) + 1,
                 -(1 << 53) - 1, 0x7FFF_FFFF_0000_0001 >> 1]
        assertBackToFloat(sums, exponents: [0, 20, 42, 60])
    }

    func testInt32SumsBackToFloat() {
        var generator = SystemRandomNumberGenerator()
        var sums = (0..<1000).map { _ in Int32.random(in: .min ... .max, using: &generator) }
        sums += [0, 1, -1, .max, .min, (1 << 24) + 1, -(1 << 24) - 1, 0x7FFF_FFC0]
        // 2^-150 makes Float subnormals: still one rounding.
        assertBackToFloat(sums, exponents: [0, 13, 24, 31, 150])
    }
}
