import Foundation
import Tensor
import TestSupport
import XCTest

/// The normal sampler: moments and quantiles of a large sample, odd lengths, and determinism.
final class SeededGeneratorTests: XCTestCase {
    private func sample(_ count: Int, seed: UInt64, mean: Float = 0, std: Float = 1) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        var values = [Float](repeating: .nan, count: count)
        values.withUnsafeMutableBufferPointer { rng.fillNormal($0, mean: mean, std: std) }
        return values
    }

    func testNormalMomentsAndQuantiles() {
        let n = 200_000
        let v = sample(n, seed: 5, mean: 0.5, std: 2).map { (Double($0) - 0.5) / 2 }
        let mean = v.reduce(0, +) / Double(n)
        let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        XCTAssertEqual(mean, 0, accuracy: 5 / Double(n).squareRoot())
        XCTAssertEqual(variance, 1, accuracy: 5 * (2 / Double(n)).squareRoot())
        // The fraction below a few quantiles of N(0, 1), within 5 standard errors.
        for (z, p) in [(-1.959964, 0.025), (-1.0, 0.158655), (0.0, 0.5), (1.0, 0.841345), (2.575829, 0.995)] {
            let below = Double(v.filter { $0 < z }.count) / Double(n)
            XCTAssertEqual(below, p, accuracy: 5 * (p * (1 - p) / Double(n)).squareRoot(), "P(Z < \(z))")
        }
    }

    func testSameSeedSameValuesAndOddLengths() {
        let a = sample(1001, seed: 9)
        XCTAssertEqual(a, sample(1001, seed: 9))
        XCTAssertFalse(a.contains { !$0.isFinite })
        XCTAssertEqual(Array(sample(1000, seed: 9)), Array(a[0..<1000]), "a shorter fill is a prefix")
        XCTAssertNotEqual(Array(sample(1000, seed: 10)), Array(a[0..<1000]))
    }
}
