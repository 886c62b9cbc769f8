import Foundation
import Checkpoint
import XCTest

/// The safetensors header Lockstep writes parses back, and malformed files are refused with a reason.
final class SafeTensorsTests: XCTestCase {
    private func parse(_ bytes: [UInt8]) throws -> SafeTensors.Header {
        try SafeTensors.parseHeader(fileSize: bytes.count) { offset, count in Array(bytes[offset..<(offset + count)]) }
    }

    private func file(_ shapes: [(name: String, shape: [Int])], metadata: [String: String]) -> [UInt8] {
        let data = shapes.flatMap { [UInt8](repeating: 7, count: $0.shape.reduce(1, *) * 4) }
        return SafeTensors.encodeHeader(shapes, metadata: metadata) + data
    }

    func testRoundTrip() throws {
        let shapes = [(name: "fc1.weight", shape: [3, 2]), (name: "fc1.bias", shape: [3]), (name: "we\"ird", shape: [0])]
        let bytes = file(shapes, metadata: ["step": "12", "config": "a = \"b\"\nc = 1"])
        let header = try parse(bytes)
        XCTAssertEqual(header.dataOffset % 8, 0, "data starts 8-byte aligned")
        XCTAssertEqual(header.entries.map(\.name), ["fc1.weight", "fc1.bias", "we\"ird"].sorted { _, _ in false })
        XCTAssertEqual(header.entries.map(\.shape), [[3, 2], [3], [0]])
        XCTAssertEqual(header.entries.map(\.range), [0..<24, 24..<36, 36..<36])
        XCTAssertEqual(header.metadata, ["step": "12", "config": "a = \"b\"\nc = 1"])
        XCTAssertEqual(header.dataLength, 36)
        // The header is plain JSON a Python reader takes.
        let length = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let json = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any]
        XCTAssertEqual((json?["fc1.bias"] as? [String: Any])?["data_offsets"] as? [Int], [24, 36])
    }

    func testTruncatedDataIsRefused() {
        let bytes = Array(file([(name: "w", shape: [4])], metadata: [:]).dropLast(3))
        XCTAssertThrowsError(try parse(bytes)) { error in
            XCTAssertEqual("\(error)", "truncated: the header describes 16 bytes of data, the file has 13")
        }
    }

    func testTrailingBytesAreRefused() {
        XCTAssertThrowsError(try parse(file([(name: "w", shape: [1])], metadata: [:]) + [0])) { error in
            XCTAssertEqual("\(error)", "1 bytes after the last tensor")
        }
    }

    func testGarbageIsNotSafetensors() {
        XCTAssertThrowsError(try parse([1, 2, 3])) { XCTAssertEqual("\($0)", "truncated: 3 bytes, too short for a safetensors header") }
        XCTAssertThrowsError(try parse([UInt8](repeating: 0xFF, count: 64))) { error in
            XCTAssertTrue("\(error)".hasPrefix("not a safetensors file (header length"), "\(error)")
        }
        var notJSON: [UInt8] = [4, 0, 0, 0, 0, 0, 0, 0] + Array("{{{{".utf8)
        XCTAssertThrowsError(try parse(notJSON)) { XCTAssertEqual("\($0)", "not a safetensors file (the header is not a JSON object)") }
        notJSON = [2, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8)
        XCTAssertNoThrow(try parse(notJSON), "an empty safetensors file is valid")
    }

    func testOtherDtypesAndBadShapesAreRefused() {
        func header(_ json: String) -> [UInt8] {
            let body = Array(json.utf8)
            return (0..<8).map { UInt8(truncatingIfNeeded: UInt64(body.count) >> (8 * UInt64($0))) } + body + [UInt8](repeating: 0, count: 8)
        }
        XCTAssertThrowsError(try parse(header(#"{"w":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#))) {
            XCTAssertEqual("\($0)", "tensor w: dtype F16, Lockstep reads F32 only")
        }
        XCTAssertThrowsError(try parse(header(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#))) {
            XCTAssertEqual("\($0)", "tensor w: shape [3] does not match its 8 bytes")
        }
        XCTAssertThrowsError(try parse(header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#))) {
            XCTAssertEqual("\($0)", "tensor a: data at byte 4, expected 0 (gaps or overlaps)")
        }
    }
}
