import Data
import XCTest

/// `SyntheticText`, the seeded stand-in for a text corpus.
final class SyntheticTextTests: XCTestCase {
    func testSyntheticTextIsSeededAndPeriodic() {
        let a = SyntheticText.make(count: 5000, seed: 1)
        XCTAssertEqual(a, SyntheticText.make(count: 5000, seed: 1))
        XCTAssertNotEqual(a, SyntheticText.make(count: 5000, seed: 2))
        XCTAssertEqual(a.count, 5000)
        XCTAssertTrue(a.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 == 32 || $0 == 10 })
        let period = a.firstIndex(of: 10)! + 1
        XCTAssertEqual(a[0..<period].filter { $0 == 32 }.count, 63, "64 words a cycle")
        XCTAssertEqual(Array(a[period..<(2 * period)]), Array(a[0..<period]))
        XCTAssertEqual(Array(a[(4 * period)..<(5 * period)]), Array(a[0..<period]))
        let words = Set(a[0..<period].split(whereSeparator: { $0 == 32 || $0 == 10 }).map(Array.init))
        XCTAssertTrue(words.count > 8 && words.count <= 16, "\(words.count) words")
        XCTAssertTrue(words.allSatisfy { (2...7).contains($0.count) })
        XCTAssertEqual(SyntheticText.make(count: 0, seed: 1), [])
    }
}
