import Foundation
import TestSupport
import XCTest

/// A run stopped at step s and resumed equals the uninterrupted run bitwise: parameters and
/// optimizer state of the final checkpoints, at world 2. The stop is made by train.steps = s
/// (the schedule is constant, so the step count does not change the updates), mid-epoch and
/// exactly at an epoch's end (64 steps of 2 × 32 of the 4096 images).
final class ResumeEquivalenceTests: XCTestCase {
    static let total = 80
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("resume")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func interrupted(at stop: Int, _ extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        let whole = Lockstep.mpirun(2, Tiny.train(["train.steps=\(Self.total)", "checkpoint.dir=\(dir)/whole"] + extra), timeout: 120)
        assertSucceeded(whole, "uninterrupted", file: file, line: line)
        let first = Lockstep.mpirun(2, Tiny.train(["train.steps=\(stop)", "checkpoint.dir=\(dir)/parts"] + extra), timeout: 120)
        assertSucceeded(first, "run to step \(stop)", file: file, line: line)
        XCTAssertEqual(latestTarget(in: dir + "/parts"), checkpointName(step: stop), file: file, line: line)
        let rest = Lockstep.mpirun(2, Tiny.train(["train.steps=\(Self.total)", "checkpoint.dir=\(dir)/parts"] + extra,
                                                 ["--resume", "latest"], quiet: false), timeout: 120)
        assertSucceeded(rest, "resumed from step \(stop)", file: file, line: line)
        XCTAssertTrue(rest.stderr.contains("resuming from \(dir)/parts/\(checkpointName(step: stop)) at step \(stop)"), rest.output, file: file, line: line)
        guard whole.status == 0, rest.status == 0 else { return }
        let a = try SafeTensorsFile(path: "\(dir)/parts/\(checkpointName(step: Self.total))")
        let b = try SafeTensorsFile(path: "\(dir)/whole/\(checkpointName(step: Self.total))")
        XCTAssertGreaterThan(a.tensors.count, 4, "parameters and optimizer state", file: file, line: line)
        assertCheckpointsBitwiseEqual(a, b, "stopped at \(stop) and resumed vs uninterrupted", file: file, line: line)
        for key in ["step", "epoch", "epoch_step", "sampler.global_position", "optimizer.steps", "data_sha256"] {
            XCTAssertEqual(a.metadata[key], b.metadata[key], key, file: file, line: line)
        }
    }

    func testStoppedMidEpoch() throws { try interrupted(at: 37) }

    func testStoppedAtAnEpochEnd() throws { try interrupted(at: 64) }

    /// AdamW keeps two state tensors per parameter and a step count for its bias correction.
    func testAdamWStoppedMidEpoch() throws { try interrupted(at: 37, ["optimizer.name=adamw", "optimizer.lr=0.01"]) }
}
