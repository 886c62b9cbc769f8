import Foundation
import TestSupport
import XCTest

/// A NaN in the gradients (here: a test-only fault puts one into rank 0's input at step 3)
/// stops the run with exit 4, names the step and the tensor, and writes no checkpoint from
/// the poisoned state; with train.skip_nonfinite the step is skipped and the run goes on.
final class NonFiniteTests: XCTestCase {
    private var dir = ""
    private let tensors = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]

    override func setUp() {
        dir = Lockstep.temporaryDirectory("nonfinite")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func testNaNStopsTheRunAndKeepsOnlyEarlierCheckpoints() throws {
        try assertNaNStopsTheRun([])
    }

    /// Deterministic mode finds the NaN in its per-bucket maxima, before any Int64 sum.
    func testNaNStopsADeterministicRun() throws {
        try assertNaNStopsTheRun(["train.deterministic=true", "train.chunk=8"])
    }

    private func assertNaNStopsTheRun(_ settings: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let checkpoints = dir + "/ckpt"
        let result = Lockstep.mpirun(2, Tiny.train(["train.steps=10", "checkpoint.every_steps=1", "checkpoint.keep=10",
                                                    "checkpoint.dir=\(checkpoints)"] + settings, ["--fault", "nan:rank=0:step=3"]),
                                     environment: ["LOCKSTEP_FAULT_INJECTION": "1"], timeout: 60)
        assertFailed(result, code: 4, contains: ["step 3", "non-finite"], "NaN at step 3 with \(settings)", file: file, line: line)
        let line = errorLines(result).first { $0.contains("non-finite") } ?? ""
        XCTAssertTrue(tensors.contains { line.contains($0) }, "the message names no tensor: \(line)")

        XCTAssertEqual(checkpointFiles(in: checkpoints), [checkpointName(step: 1), checkpointName(step: 2)],
                       "only the checkpoints before step 3")
        XCTAssertEqual(latestTarget(in: checkpoints), checkpointName(step: 2))
        for name in checkpointFiles(in: checkpoints) {
            let verify = verifyCheckpoint(checkpoints + "/" + name)
            XCTAssertEqual(verify.status, 0, "\(name)\n\(verify.output)")
            let values = try SafeTensorsFile(path: checkpoints + "/" + name).tensors.flatMap(\.values)
            XCTAssertTrue(values.allSatisfy(\.isFinite), "\(name) holds non-finite values")
        }
    }

    func testSkipNonFiniteSkipsTheStepAndFinishes() throws {
        let result = Lockstep.mpirun(2, Tiny.train(["train.steps=10", "train.skip_nonfinite=true", "checkpoint.dir=\(dir)/ckpt"],
                                                   ["--fault", "nan:rank=0:step=3", "--summary", dir + "/summary.json"],
                                                   quiet: false),
                                     environment: ["LOCKSTEP_FAULT_INJECTION": "1"], timeout: 60)
        assertSucceeded(result, "train.skip_nonfinite = true")
        XCTAssertTrue(result.stdout.contains("step 3: non-finite gradient"), "the skipped step is reported\n\(result.output)")
        let summary = try Summary(dir + "/summary.json")
        XCTAssertEqual(summary.int("skipped_steps"), 1)
        XCTAssertEqual(summary.int("steps"), 10)
        XCTAssertEqual(summary.string("stopped_by"), "steps")
        let values = try SafeTensorsFile(path: dir + "/ckpt/latest").tensors.flatMap(\.values)
        XCTAssertTrue(values.allSatisfy(\.isFinite), "the final checkpoint holds non-finite values")
    }
}
