import Tensor
import XCTest

/// The vectorised fixed-point conversions of deterministic mode, against the plain Double
/// arithmetic they stand for: Int64(round-half-even(x · 2^e)) and Float(Double(s) · 2^-e).
final class FixedPointTests: XCTestCase {
    private func toFixedPoint(_ x: [Float], exponent: Int, onto start: [Int64]? = nil) -> [Int64] {
        var out = start ?? [Int64](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                convertToFixedPoint(source, exponent: exponent, into: target.baseAddress!, accumulate: start != nil)
            }
        }
        return out
    }

    private func reference(_ x: Float, exponent: Int) -> Int64 {
        Int64((Double(x) * Double(sign: .plus, exponent: exponent, significand: 1)).rounded(.toNearestOrEven))
    }

    func testConversionRoundsLikeDoubleArithmetic() {
        var generator = SystemRandomNumberGenerator()
        for exponent in [0, 10, 22, 41, -3] {
            // Values whose scaled magnitude stays below 2^42, as deterministic mode's exponent keeps them.
            let bound = Float(sign: .plus, exponent: 41 - exponent, significand: 1)
            var x = (0..<1003).map { _ in Float.random(in: -bound...bound, using: &generator) }
            x += [0, -0, bound, -bound, .leastNonzeroMagnitude, -.leastNormalMagnitude]
            let converted = toFixedPoint(x, exponent: exponent)
            for (i, v) in x.enumerated() {
                XCTAssertEqual(converted[i], reference(v, exponent: exponent), "\(v) at 2^\(exponent)")
            }
        }
    }

    func testHalvesRoundToEven() {
        XCTAssertEqual(toFixedPoint([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.25, 0.75], exponent: 0), [0, 2, 2, 0, -2, -2, 0, 1])
        XCTAssertEqual(toFixedPoint([0.125, 0.375], exponent: 2), [0, 2], "0.5 → 0 and 1.5 → 2 after scaling")
    }

    func testAccumulateAdds() {
        XCTAssertEqual(toFixedPoint([1, -2, 3.5], exponent: 1, onto: [10, 10, -1 << 40]), [12, 6, (-1 << 40) + 7])
    }

    func testSumsBackToFloat() {
        var generator = SystemRandomNumberGenerator()
        let limit: Int64 = 1 << 62
        var sums = (0..<1000).map { _ in Int64.random(in: -limit...limit, using: &generator) }
        sums += [0, 1, -1, limit, -limit, Int64(UInt32.max), -Int64(UInt32.max), 1 << 32, -(1 << 32), (1 << 53) + 1,
                 -(1 << 53) - 1, 0x7FFF_FFFF_0000_0001 >> 1]
        for exponent in [0, 20, 42, 60] {
            var out = [Float](repeating: .nan, count: sums.count)
            sums.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { fixedPointToFloat(s.baseAddress!, exponent: exponent, into: $0) }
            }
            for (i, s) in sums.enumerated() {
                let expected = Float(Double(s) * Double(sign: .plus, exponent: -exponent, significand: 1))
                XCTAssertEqual(out[i].bitPattern, expected.bitPattern, "\(s) at 2^-\(exponent)")
            }
        }
    }
}
