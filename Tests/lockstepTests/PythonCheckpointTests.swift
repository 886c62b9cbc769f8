import Foundation
import TestSupport
import XCTest

/// Checkpoints are plain safetensors files that Python users read without Lockstep.
/// scripts/checkpoint_check.py loads one (with the `safetensors` package when LOCKSTEP_PYTHON
/// names a Python that has it, as scripts/test provides; otherwise Debian's /usr/bin/python3
/// parsing the format with numpy) and compares names, shapes and values with
/// `lockstep checkpoint inspect --json`.
final class PythonCheckpointTests: XCTestCase {
    private var dir = ""
    private let script = Lockstep.path("scripts/checkpoint_check.py")

    /// LOCKSTEP_PYTHON (with safetensors), else Debian's python3 (not the first python3 on PATH).
    private var python: (path: String, reader: String) {
        if let explicit = ProcessInfo.processInfo.environment["LOCKSTEP_PYTHON"], !explicit.isEmpty {
            return (explicit, "safetensors")
        }
        return ("/usr/bin/python3", "numpy")
    }

    override func setUp() {
        dir = Lockstep.temporaryDirectory("python")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Writes a world-2 checkpoint of 10 steps into `dir/folder` and returns its path.
    private func checkpoint(_ settings: [String], folder: String = "ckpt") throws -> String {
        let result = Lockstep.mpirun(2, Tiny.train(["train.steps=10", "checkpoint.dir=\(dir)/\(folder)"] + settings), timeout: 120)
        assertSucceeded(result, "writing a checkpoint")
        return "\(dir)/\(folder)/\(checkpointName(step: 10))"
    }

    private func check(_ path: String) -> ProcessResult {
        runProcess(python.path, [script, path, "--lockstep", Lockstep.binary, "--reader", python.reader], timeout: 120)
    }

    func testPythonReadsWhatLockstepWrote() throws {
        for (label, settings) in [("sgd", [String]()), ("adamw", ["optimizer.name=adamw"])] {
            let path = try checkpoint(settings, folder: label)
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), "\(label): \(path)")
            let result = check(path)
            XCTAssertEqual(result.status, 0, "\(label): \(python.path) \(script)\n\(result.output)")
            XCTAssertTrue(result.stdout.contains("reader: \(python.reader)"), "\(label): read with \(python.reader)\n\(result.output)")
            let tensors = label == "sgd" ? 8 : 12
            XCTAssertTrue(result.stdout.contains("\(tensors) tensors"), "\(label)\n\(result.output)")
        }
    }

    /// The same comparison from Swift: inspect's JSON against this file's own reader.
    func testInspectJSONMatchesTheFile() throws {
        let path = try checkpoint([])
        let inspect = Lockstep.run(["checkpoint", "inspect", "--json", path], timeout: 60)
        XCTAssertEqual(inspect.status, 0, inspect.output)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        let tensors = try XCTUnwrap(report["tensors"] as? [[String: Any]])
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(tensors.compactMap { $0["name"] as? String }, file.names)
        XCTAssertEqual(report["metadata"] as? [String: String], file.metadata)
        for t in tensors {
            let name = t["name"] as? String ?? "?"
            let mine = try XCTUnwrap(file[name], name)
            XCTAssertEqual(t["shape"] as? [Int], mine.shape, name)
            let sum = mine.values.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual((t["sum"] as? NSNumber)?.doubleValue ?? .nan, sum, accuracy: 1e-9 * max(1, abs(sum)), name)
            let first = ((t["first"] as? [NSNumber]) ?? []).map { Float($0.doubleValue) }
            XCTAssertEqual(first.map(\.bitPattern), mine.values.prefix(4).map(\.bitPattern), name)
        }
    }

    /// The check must be able to fail: one flipped data byte is caught (by lockstep and by
    /// the script's own SHA-256 of the data section).
    func testPythonCheckRejectsACorruptedCopy() throws {
        let path = try checkpoint([])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 5] ^= 0x10
        let copy = dir + "/corrupt.safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: copy))
        let result = check(copy)
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.stdout.contains("FAIL: data_sha256"), result.output)
    }
}
