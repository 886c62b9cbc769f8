import Data
import Foundation
import TestSupport
import XCTest

/// `FashionMNIST.load` on small folders written here, and on the real dataset.
final class FashionMNISTTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("fashion")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Writes a split of `images` 3×4 images and `labels` labels; gzip'd when `gzip`.
    private func writeSplit(_ prefix: String, images: Int, labels: [UInt8], gzip: Bool) throws {
        let pixels = (0..<(images * 12)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ images) }
        let imagePath = try IDXReaderTests.write(IDXReaderTests.idx([images, 3, 4], pixels), dir, "\(prefix)-images-idx3-ubyte")
        let labelPath = try IDXReaderTests.write(IDXReaderTests.idx([labels.count], labels), dir, "\(prefix)-labels-idx1-ubyte")
        if gzip {
            for path in [imagePath, labelPath] {
                _ = try IDXReaderTests.gzip(path)
                try FileManager.default.removeItem(atPath: path)
            }
        }
    }

    func testLoadsAFolderOfRawAndGzippedFiles() throws {
        try writeSplit("train", images: 5, labels: [0, 9, 3, 3, 1], gzip: true)
        try writeSplit("t10k", images: 2, labels: [7, 2], gzip: false)
        let (train, test) = try FashionMNIST.load(directory: dir)
        XCTAssertEqual(train.count, 5)
        XCTAssertEqual(train.imageShape, [1, 3, 4])
        XCTAssertEqual(train.imageSize, 12)
        XCTAssertEqual(train.labels, [0, 9, 3, 3, 1])
        XCTAssertEqual(train.pixels, (0..<60).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 5) })
        XCTAssertEqual(train.classes, 10)
        XCTAssertEqual(test.count, 2)
        XCTAssertEqual(test.labels, [7, 2])

        let (first, rest) = train.split(at: 2)
        XCTAssertEqual(first.labels, [0, 9])
        XCTAssertEqual(rest.labels, [3, 3, 1])
        XCTAssertEqual(first.pixels, Array(train.pixels[0..<24]))
        XCTAssertEqual(rest.pixels, Array(train.pixels[24...]))
        XCTAssertEqual(rest.imageShape, [1, 3, 4])
    }

    func testImageAndLabelCountMismatch() throws {
        try writeSplit("train", images: 4, labels: [1, 2, 3, 4], gzip: false)
        try writeSplit("t10k", images: 2, labels: [1, 2, 3], gzip: false)
        assertThrows("\(dir)/t10k-images-idx3-ubyte: 2 images but \(dir)/t10k-labels-idx1-ubyte has 3 labels") {
            try FashionMNIST.load(directory: dir)
        }
    }

    func testLabelOutOfRange() throws {
        try writeSplit("train", images: 3, labels: [1, 10, 3], gzip: true)
        try writeSplit("t10k", images: 1, labels: [0], gzip: true)
        assertThrows("\(dir)/train-images-idx3-ubyte.gz: label 10 outside 0..<10") { try FashionMNIST.load(directory: dir) }
    }

    func testMissingFolderAndFile() throws {
        assertThrows("\(dir)/absent: dataset folder not found (install Debian's dataset-fashion-mnist, or set data.path)") {
            try FashionMNIST.load(directory: dir + "/absent")
        }
        try writeSplit("train", images: 1, labels: [1], gzip: false)
        try FileManager.default.removeItem(atPath: dir + "/train-labels-idx1-ubyte")
        assertThrows("\(dir)/train-labels-idx1-ubyte.gz: not found") { try FashionMNIST.load(directory: dir) }
    }

    func testLabeledImagesChecksSizes() {
        assertThrows("src: 10 pixel bytes are not a whole number of [1, 2, 2] images") {
            try LabeledImages(imageShape: [1, 2, 2], pixels: [UInt8](repeating: 0, count: 10), labels: [0, 0], classes: 3,
                              source: "src")
        }
        assertThrows("src: 2 images but 3 labels") {
            try LabeledImages(imageShape: [1, 2, 2], pixels: [UInt8](repeating: 0, count: 8), labels: [0, 0, 1], classes: 3,
                              source: "src")
        }
        assertThrows("src: label -1 outside 0..<3") {
            try LabeledImages(imageShape: [1, 2, 2], pixels: [UInt8](repeating: 0, count: 8), labels: [0, -1], classes: 3,
                              source: "src")
        }
    }

    /// The dataset Debian's dataset-fashion-mnist installs (scripts/install-deps puts it there):
    /// 60,000 training and 10,000 test images of 28×28, ten classes of equal size.
    func testRealDataset() throws {
        let (train, test) = try FashionMNIST.load(directory: FashionMNIST.defaultPath)
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual(test.count, 10_000)
        for (set, perClass) in [(train, 6_000), (test, 1_000)] {
            XCTAssertEqual(set.imageShape, [1, 28, 28])
            XCTAssertEqual(set.pixels.count, set.count * 784)
            var counts = [Int](repeating: 0, count: 10)
            for label in set.labels { counts[Int(label)] += 1 }
            XCTAssertEqual(counts, [Int](repeating: perClass, count: 10))
            XCTAssertEqual(set.pixels.min(), 0)
            XCTAssertEqual(set.pixels.max(), 255)
        }
    }
}
