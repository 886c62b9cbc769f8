import Data
import Tensor
import TestSupport
import XCTest

/// `BatchLoader` (bytes to x/255, labels) and `SyntheticImages`.
final class BatchTests: XCTestCase {
    func testBatchLoaderNormalisesAndCopiesLabels() throws {
        var pixels: [UInt8] = (0..<(5 * 6)).map { UInt8(truncatingIfNeeded: $0 * 53) }
        pixels[4 * 6 + 1] = 255
        let data = try LabeledImages(imageShape: [1, 2, 3], pixels: pixels, labels: [4, 0, 2, 1, 3], classes: 5, source: "t")
        let loader = BatchLoader(data: data)
        let input = Tensor(zeros: [4, 1, 2, 3])
        input.fill(-1)
        let labels = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 4)
        defer { labels.deallocate() }
        labels.initialize(repeating: -1)
        let order = [9, 3, 0, 4, 9]
        loader.load(order[1..<4], into: input, labels: labels)
        for (k, image) in [3, 0, 4].enumerated() {
            for j in 0..<6 {
                XCTAssertEqual(input[k * 6 + j], Float(pixels[image * 6 + j]) / 255, accuracy: 1e-7, "row \(k) pixel \(j)")
            }
        }
        XCTAssertEqual(Array(input.toArray()[18...]), [Float](repeating: -1, count: 6), "the row past the batch")
        XCTAssertEqual(Array(labels), [1, 4, 3, -1], "the labels, and the slot past the batch untouched")
        XCTAssertEqual(input.toArray().max() ?? 0, 1, accuracy: 1e-7, "a 255 byte becomes 1")

        loader.load([2][...], into: input, labels: labels)
        XCTAssertEqual(labels[0], 2)
        XCTAssertEqual(input[0], Float(pixels[12]) / 255, accuracy: 1e-7)
    }

    func testSyntheticImagesAreDeterministicBySeed() {
        let a = SyntheticImages.make(count: 50, classes: 4, imageShape: [1, 5, 5], noise: 20, seed: 7)
        let b = SyntheticImages.make(count: 50, classes: 4, imageShape: [1, 5, 5], noise: 20, seed: 7)
        let c = SyntheticImages.make(count: 50, classes: 4, imageShape: [1, 5, 5], noise: 20, seed: 8)
        XCTAssertEqual(a.pixels, b.pixels)
        XCTAssertEqual(a.labels, b.labels)
        XCTAssertNotEqual(a.pixels, c.pixels)
        XCTAssertNotEqual(a.labels, c.labels)
        XCTAssertEqual(a.count, 50)
        XCTAssertEqual(a.imageShape, [1, 5, 5])
        XCTAssertEqual(a.pixels.count, 50 * 25)
        XCTAssertEqual(a.classes, 4)
        XCTAssertEqual(Set(a.labels), [0, 1, 2, 3])
    }

    /// Each sample is its class's prototype plus noise in ±noise (clamped to bytes): samples of
    /// one class differ by at most 2·noise per pixel, and without noise not at all.
    func testSyntheticImagesAreNoisyPrototypes() {
        for noise in [0, 15] {
            let d = SyntheticImages.make(count: 200, classes: 3, imageShape: [1, 4, 4], noise: noise, seed: 1)
            var first: [Int32: Int] = [:]
            var largest = 0
            for i in 0..<d.count {
                let label = d.labels[i]
                guard let f = first[label] else {
                    first[label] = i
                    continue
                }
                for j in 0..<16 {
                    largest = max(largest, abs(Int(d.pixels[i * 16 + j]) - Int(d.pixels[f * 16 + j])))
                }
            }
            XCTAssertEqual(first.count, 3)
            if noise == 0 {
                XCTAssertEqual(largest, 0)
            } else {
                XCTAssertLessThanOrEqual(largest, 2 * noise)
                XCTAssertGreaterThan(largest, noise, "the noise must show")
            }
        }
    }
}
