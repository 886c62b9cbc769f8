import Foundation
import Metrics
import XCTest

final class MetricsTests: XCTestCase {
    func testCRC32CKnownValues() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)  // RFC 3720, B.4
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        let crc = CRC32C.checksum(Array("123456789".utf8))
        XCTAssertEqual(CRC32C.masked(Array("123456789".utf8)), ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
    }

    func testTFRecordFramesAndChecksRecords() throws {
        let records: [[UInt8]] = [[], [1, 2, 3], Array(repeating: 7, count: 300)]
        let bytes = records.flatMap(TFRecord.frame)
        XCTAssertEqual(bytes.count, records.reduce(0) { $0 + 16 + $1.count })
        XCTAssertEqual(try TFRecord.records(bytes), records)
        var corrupt = bytes
        corrupt[16 + 12 + 1] ^= 1  // a data byte of the second record
        XCTAssertThrowsError(try TFRecord.records(corrupt)) { error in
            XCTAssertEqual("\(error)", "TFRecord: record 1: the data's CRC does not match")
        }
        XCTAssertThrowsError(try TFRecord.records(Array(bytes.dropLast(2))))
    }

    func testEventsDecodeToWhatWasWritten() throws {
        let version = try TensorBoardEvent.decode(TensorBoardEvent.fileVersion(wallTime: 1_700_000_000.25))
        XCTAssertEqual(version.fileVersion, "brain.Event:2")
        XCTAssertEqual(version.wallTime, 1_700_000_000.25)
        let event = try TensorBoardEvent.decode(TensorBoardEvent.scalars([("train/loss", 0.625), ("train/lr", 3e-4)], step: 300,
                                                                         wallTime: 12.5))
        XCTAssertEqual(event.step, 300)
        XCTAssertEqual(event.wallTime, 12.5)
        XCTAssertEqual(event.scalars, ["train/loss": 0.625, "train/lr": 3e-4])
        // The bytes, field by field: wall_time (1, fixed64), step (2, varint 300 = ac 02), summary (5).
        let bytes = TensorBoardEvent.scalars([("a", 1)], step: 300, wallTime: 0)
        XCTAssertEqual(Array(bytes.prefix(12)), [0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0xAC, 0x02])
        XCTAssertEqual(Array(bytes.suffix(12)), [0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01, 0x61, 0x15, 0x00, 0x00, 0x80, 0x3F])
    }

    func testJSONLinesAndTags() throws {
        let record = MetricRecord(kind: .eval, step: 40, epoch: 2, wallSeconds: 1.5, time: 10,
                                  values: [.init("val_loss", 0.5), .init("val_accuracy", .nan)])
        XCTAssertEqual(record.jsonLine, "{\"kind\":\"eval\",\"step\":40,\"epoch\":2,\"val_loss\":0.5,\"val_accuracy\":null,\"wall_s\":1.5,\"time\":10.0}")
        XCTAssertEqual(MetricRecord.tag(kind: .eval, key: "val_loss"), "val/loss")
        XCTAssertEqual(MetricRecord.tag(kind: .train, key: "grad_norm"), "train/grad_norm")

        let dir = NSTemporaryDirectory() + "metrics-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let lines = try JSONLinesWriter(path: dir + "/m.jsonl")
        let train = MetricRecord(kind: .train, step: 20, epoch: 1, wallSeconds: 0.5, time: 9, values: [.init("loss", 1.25)])
        try lines.write(train)
        try lines.write(record)
        let read = try MetricsReader.read(path: dir + "/m.jsonl")
        XCTAssertEqual(read.map(\.step), [20, 40])
        XCTAssertEqual(read[0]["loss"], 1.25)
        XCTAssertEqual(read[1]["val_loss"], 0.5)
        XCTAssertTrue(read[1]["val_accuracy"]?.isNaN ?? false)

        let board = try TensorBoardWriter(directory: dir + "/tb", time: 100)
        try board.write(train)
        try board.write(record)
        let events = try TFRecord.records([UInt8](try Data(contentsOf: URL(fileURLWithPath: board.path)))).map(TensorBoardEvent.decode)
        XCTAssertEqual(events.count, 3)
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[1].scalars, ["train/loss": 1.25])
        XCTAssertEqual(events[2].scalars, ["val/loss": 0.5], "a null value is left out")
        XCTAssertEqual(events[2].step, 40)
        XCTAssertTrue(board.path.contains("/events.out.tfevents.100."))
    }
}
