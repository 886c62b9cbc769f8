import Foundation
import TOML
import XCTest

/// The fuzz target's seed corpus and regression inputs (Fuzz/Corpus/toml, Fuzz/Regressions/toml)
/// read without a trap, to a document or to an error inside the input.
final class FuzzInputTests: XCTestCase {
    func testSeedCorpusAndRegressionInputs() throws {
        let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz").standardizedFileURL
        var count = 0
        for folder in ["Corpus/toml", "Regressions/toml"] {
            let url = fuzz.appendingPathComponent(folder)
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() {
                let bytes = [UInt8](try Data(contentsOf: url.appendingPathComponent(name)))
                let lines = bytes.filter { $0 == UInt8(ascii: "\n") }.count + 1
                do {
                    _ = try TOMLDocument(parsing: bytes).root.walk()
                } catch {
                    XCTAssert((1...lines).contains(error.line) && error.column >= 1, "\(folder)/\(name): \(error)")
                }
                count += 1
            }
        }
        XCTAssertGreaterThan(count, 20)
    }
}
