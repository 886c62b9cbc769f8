import Data
import Foundation
import Tensor
import TestSupport
import XCTest

/// Writes IDX files, raw and gzip'd, to a temp folder and reads them back.
final class IDXReaderTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("idx")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// An IDX file of unsigned bytes: magic 00 00 08 NN, big-endian sizes, then `data`.
    static func idx(_ dimensions: [Int], _ data: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
        for d in dimensions {
            bytes += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)]
        }
        return bytes + data
    }

    /// Writes `bytes` to `dir/name` and returns the path.
    static func write(_ bytes: [UInt8], _ dir: String, _ name: String) throws -> String {
        let path = dir + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Compresses `path` with the gzip command into `path.gz` (keeping `path`) and returns it.
    static func gzip(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = runProcess("/usr/bin/gzip", ["-n", "-k", "-f", path])
        XCTAssertEqual(result.status, 0, result.output, file: file, line: line)
        return path + ".gz"
    }

    private func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) } }

    func testReadsRawAndGzipped() throws {
        let data = pattern(3 * 2 * 4)
        let raw = try Self.write(Self.idx([3, 2, 4], data), dir, "images-idx3-ubyte")
        let gz = try Self.gzip(raw)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: gz)), Data(Self.idx([3, 2, 4], data)), "really compressed")
        for path in [raw, gz] {
            let array = try IDXReader.read(path, expectedDimensions: 3)
            XCTAssertEqual(array.dimensions, [3, 2, 4], path)
            XCTAssertEqual(array.bytes, data, path)
        }
        // Sizes above 255 use every byte of the big-endian header.
        let large = pattern(70_000)
        let path = try Self.gzip(try Self.write(Self.idx([70_000], large), dir, "labels-idx1-ubyte"))
        let labels = try IDXReader.read(path)
        XCTAssertEqual(labels.dimensions, [70_000])
        XCTAssertEqual(labels.bytes, large)
    }

    func testTruncatedData() throws {
        let path = try Self.write(Self.idx([3, 2, 4], pattern(20)), dir, "short")
        assertThrows("\(path): truncated: the header says 3×2×4 = 24 bytes of data, the file has 20") {
            try IDXReader.read(path)
        }
        let gz = try Self.gzip(path)
        assertThrows("\(gz): truncated: the header says 3×2×4 = 24 bytes of data, the file has 20") {
            try IDXReader.read(gz)
        }
    }

    func testTrailingBytes() throws {
        let path = try Self.write(Self.idx([5], pattern(8)), dir, "long")
        assertThrows("\(path): has trailing bytes: the header says 5 = 5 bytes of data, the file has 8") {
            try IDXReader.read(path, expectedDimensions: 1)
        }
    }

    func testHeaderSizesTooLargeForAnyFile() throws {
        let huge = 0xFFFF_FFFF
        let path = try Self.write(Self.idx([huge, huge, huge], pattern(5)), dir, "huge")
        assertThrows("\(path): IDX sizes 4294967295×4294967295×4294967295 are too large") { try IDXReader.read(path) }
        // Also beside a 0, so that no reader of the sizes can overflow either.
        let empty = try Self.write(Self.idx([0, huge, huge], []), dir, "empty")
        assertThrows("\(empty): IDX sizes 0×4294967295×4294967295 are too large") { try IDXReader.read(empty) }
        // An empty array with sane sizes is fine.
        let none = try Self.write(Self.idx([0, 28, 28], []), dir, "none")
        let array = try IDXReader.read(none)
        XCTAssertEqual(array.dimensions, [0, 28, 28])
        XCTAssertEqual(array.bytes, [])
    }

    func testBadMagic() throws {
        let path = try Self.write(Array("PK\u{8}\u{3}".utf8) + pattern(30), dir, "zip")
        assertThrows("\(path): not an IDX file (magic 50 4b 08 03, expected 00 00 08 0N)") {
            try IDXReader.read(path)
        }
    }

    func testWrongElementType() throws {
        let path = try Self.write(Self.idx([2, 2], pattern(16), type: 0x0D), dir, "floats")
        assertThrows("\(path): IDX element type 0xd is not supported (only unsigned bytes, 0x08)") {
            try IDXReader.read(path)
        }
    }

    func testWrongDimensionCount() throws {
        let path = try Self.write(Self.idx([6], pattern(6)), dir, "labels")
        assertThrows("\(path): IDX magic 00 00 08 01 gives 1 dimensions, expected 3") {
            try IDXReader.read(path, expectedDimensions: 3)
        }
    }

    func testTruncatedHeader() throws {
        let short = try Self.write([0, 0], dir, "two")
        assertThrows("\(short): truncated: 2 bytes, too short for an IDX header") { try IDXReader.read(short) }
        let empty = try Self.write([], dir, "empty")
        assertThrows("\(empty): truncated: 0 bytes, too short for an IDX header") { try IDXReader.read(empty) }
        let header = try Self.write(Array(Self.idx([28, 28, 3], [])[0..<10]), dir, "header")
        assertThrows("\(header): truncated: the header needs 16 bytes, the file has 10") { try IDXReader.read(header) }
    }

    func testMissingFile() {
        assertThrows("\(dir)/absent: cannot open: No such file or directory") { try IDXReader.read(dir + "/absent") }
    }

    func testTruncatedGzipStream() throws {
        // Incompressible data, so that cutting the stream in half cuts the data too.
        var rng = SeededGenerator(seed: 1)
        let data = (0..<4000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let raw = try Self.write(Self.idx([4000], data), dir, "labels-idx1-ubyte")
        let gz = try Self.gzip(raw)
        let compressed = try Data(contentsOf: URL(fileURLWithPath: gz))
        let cut = try Self.write([UInt8](compressed.prefix(compressed.count / 2)), dir, "cut.gz")
        assertThrows("\(cut): corrupt or truncated gzip data: unexpected end of file") { try IDXReader.read(cut) }

        // A stream whose checksum does not match.
        var corrupt = [UInt8](compressed)
        corrupt[corrupt.count - 6] ^= 0xFF
        let bad = try Self.write(corrupt, dir, "crc.gz")
        assertThrows("\(bad): corrupt or truncated gzip data: incorrect data check") { try IDXReader.read(bad) }
    }
}
