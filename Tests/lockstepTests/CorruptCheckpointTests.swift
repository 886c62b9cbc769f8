import Foundation
import TestSupport
import XCTest

/// Damaged and foreign checkpoint files: `lockstep checkpoint verify` exits 1 with the
/// reason, `--resume FILE` refuses them with a message and never modifies them, and
/// `--resume latest` falls back to the newest checkpoint that verifies, saying so.
final class CorruptCheckpointTests: XCTestCase {
    private var dir = ""
    /// A real checkpoint (step 4 of tiny) and the folder it was written to (also holding step 2).
    private var original = ""
    private var checkpoints: String { dir + "/ckpt" }
    private static let settings = ["train.steps=4", "checkpoint.every_steps=2"]

    override func setUpWithError() throws {
        dir = Lockstep.temporaryDirectory("corrupt")
        let result = Lockstep.run(Tiny.train(Self.settings + ["checkpoint.dir=\(checkpoints)"]), timeout: 60)
        guard result.status == 0 else {
            XCTFail("writing the checkpoints failed\n\(result.output)")
            throw NSError(domain: "lockstep-tests", code: 1)
        }
        original = checkpoints + "/" + checkpointName(step: 4)
        XCTAssertEqual(checkpointFiles(in: checkpoints), [checkpointName(step: 2), checkpointName(step: 4)])
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    private func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = dir + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The header length of a safetensors file.
    private func headerLength(_ b: [UInt8]) -> Int { (0..<8).reduce(0) { $0 | Int(b[$1]) << (8 * $1) } }

    /// `verify` exits 1 naming `reasons`; `--resume` refuses with the same reason and leaves the file as it was.
    private func expectRejected(_ path: String, reasons: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try bytes(path)
        let verify = verifyCheckpoint(path)
        assertFailed(verify, code: 1, contains: [path] + reasons, "checkpoint verify \(path)", file: file, line: line)
        XCTAssertEqual(errorLines(verify).count, 1, verify.output, file: file, line: line)

        let resume = Lockstep.run(Tiny.train(Self.settings + ["checkpoint.dir=\(dir)/resumed"], ["--resume", path]), timeout: 60)
        assertFailed(resume, code: 1, contains: [path] + reasons, "--resume \(path)", file: file, line: line)
        XCTAssertEqual(try bytes(path), before, "--resume modified \(path)", file: file, line: line)
        XCTAssertTrue(checkpointFiles(in: dir + "/resumed").isEmpty, "a refused resume wrote checkpoints", file: file, line: line)
    }

    func testOriginalVerifies() {
        let verify = verifyCheckpoint(original)
        XCTAssertEqual(verify.status, 0, verify.output)
        XCTAssertTrue(verify.stdout.contains("valid (step 4, 8 tensors"), verify.output)
    }

    func testTruncated() throws {
        let b = try bytes(original)
        try expectRejected(try write(Array(b.dropLast(100)), "truncated.safetensors"), reasons: ["truncated"])
        try expectRejected(try write([], "empty.safetensors"), reasons: ["truncated"])
    }

    func testFlippedByteInTheData() throws {
        var b = try bytes(original)
        let dataStart = 8 + headerLength(b)
        b[dataStart + (b.count - dataStart) / 2] ^= 0x55
        try expectRejected(try write(b, "data-flip.safetensors"), reasons: ["data checksum", "corrupt"])
    }

    func testFlippedByteInAMetadataValue() throws {
        var b = try bytes(original)
        let header = Array(b[8..<(8 + headerLength(b))])
        // The model name inside the stored config text: a metadata value, still valid JSON when changed.
        let needle = Array("tiny-mlp".utf8)
        let at = try XCTUnwrap((0...(header.count - needle.count)).first { Array(header[$0..<($0 + needle.count)]) == needle },
                               "the config text in the metadata")
        b[8 + at] = UInt8(ascii: "T")
        try expectRejected(try write(b, "metadata-flip.safetensors"), reasons: ["metadata checksum", "corrupt"])
    }

    /// A valid safetensors file from another tool, without Lockstep's metadata.
    func testForeignSafetensorsFile() throws {
        let path = dir + "/foreign.safetensors"
        try SafeTensorsFile.write([("fc1.weight", [32, 64], (0..<2048).map { Float($0) / 2048 }),
                                   ("fc1.bias", [32], [Float](repeating: 0.5, count: 32))],
                                  metadata: ["format": "pt"], to: path)
        XCTAssertEqual(try SafeTensorsFile(path: path).names, ["fc1.weight", "fc1.bias"], "the foreign file itself is valid")
        try expectRejected(path, reasons: ["not a Lockstep checkpoint"])

        let bare = dir + "/bare.safetensors"
        try SafeTensorsFile.write([("w", [2, 3], [1, 2, 3, 4, 5, 6])], metadata: [:], to: bare)
        try expectRejected(bare, reasons: ["not a Lockstep checkpoint"])
    }

    func testRandomBytes() throws {
        var generator = SystemRandomNumberGenerator()
        var b = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        b[7] = 0xFF  // a header length no 5000-byte file can hold
        try expectRejected(try write(b, "random.bin"), reasons: ["not a safetensors file"])
    }

    /// The same refusal under mpirun: every rank must end cleanly with exit 1 and the reason.
    func testResumeRefusalUnderMPIExitsCleanly() throws {
        var b = try bytes(original)
        let dataStart = 8 + headerLength(b)
        b[b.count - 7] ^= 0x01
        XCTAssertGreaterThan(b.count - 7, dataStart)
        let path = try write(b, "data-flip.safetensors")
        let result = Lockstep.mpirun(2, Tiny.train(Self.settings, ["--resume", path]), timeout: 60)
        assertFailed(result, code: 1, contains: [path, "data checksum"], "--resume of a corrupt file at world 2")
        XCTAssertEqual(try bytes(path), b)
    }

    /// `latest` points at a corrupted step 4: resume falls back to step 2, says so, and finishes.
    func testResumeLatestFallsBackToThePreviousValidCheckpoint() throws {
        var b = try bytes(original)
        b[b.count - 3] ^= 0x20
        try Data(b).write(to: URL(fileURLWithPath: original))
        XCTAssertEqual(latestTarget(in: checkpoints), checkpointName(step: 4))
        XCTAssertEqual(verifyCheckpoint(original).status, 1)

        let result = Lockstep.run(Tiny.train(Self.settings + ["checkpoint.dir=\(checkpoints)"],
                                             ["--resume", "latest", "--summary", dir + "/summary.json"], quiet: true),
                                  timeout: 60)
        assertSucceeded(result, "--resume latest with a corrupt newest checkpoint")
        XCTAssertTrue(result.stderr.contains("skipping \(original)"), "the fallback is announced on stderr, even with --quiet\n\(result.output)")
        XCTAssertTrue(result.stderr.contains("data checksum"), "with the reason\n\(result.output)")
        let previous = checkpoints + "/" + checkpointName(step: 2)
        XCTAssertTrue(result.stderr.contains("resuming from \(previous) at step 2"), result.output)
        let summary = try Summary(dir + "/summary.json")
        XCTAssertEqual(summary.checkpoint?["resumed_from"] as? String, previous)
        XCTAssertEqual(summary.int("steps"), 4)
        // Steps 3 and 4 were trained again and step 4 written anew.
        XCTAssertEqual(verifyCheckpoint(checkpoints + "/latest").status, 0)
    }
}
