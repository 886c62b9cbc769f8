import Foundation
import TestSupport
import XCTest

/// SIGTERM to the ranks (as SLURM sends with --signal before a time limit): the run finishes
/// the step, all ranks agree to stop, a checkpoint of that step is written, and the job
/// exits 75 through mpirun. Resuming it must give bitwise the weights of an uninterrupted run.
final class StopSignalTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("sigterm")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Signals both ranks of `job` once `ready` holds; returns the result.
    private func terminate(_ job: BackgroundProcess, when ready: @escaping () -> Bool, file: StaticString = #filePath,
                           line: UInt = #line) -> ProcessResult? {
        defer {
            if job.isRunning {
                job.killTree(SIGKILL)
                _ = job.wait(timeout: 10)
            }
        }
        guard Lockstep.waitUntil(timeout: 60, { ready() || !job.isRunning }), job.isRunning else {
            XCTFail("the run ended or made no progress within 60 s\n\(job.wait(timeout: 5).output)", file: file, line: line)
            return nil
        }
        let ranks = Lockstep.rankProcesses(of: job)
        XCTAssertEqual(ranks.keys.sorted(), [0, 1], "rank processes", file: file, line: line)
        for pid in ranks.values { kill(pid, SIGTERM) }
        let result = job.wait(timeout: 60)
        XCTAssertFalse(result.timedOut, "the job did not stop within 60 s of SIGTERM\n\(result.output)", file: file, line: line)
        return result
    }

    /// A long run signalled at whatever step it has reached.
    func testSIGTERMWritesACheckpointAtTheStopStepAndExits75() throws {
        let checkpoints = dir + "/ckpt"
        let job = try Lockstep.startMPI(2, Tiny.train(["train.steps=200000", "checkpoint.every_steps=500",
                                                       "checkpoint.dir=\(checkpoints)"], ["--summary", dir + "/summary.json"]))
        guard let result = terminate(job, when: { latestTarget(in: checkpoints) != nil }) else { return }
        XCTAssertEqual(result.status, 75, "exit code through mpirun\n\(result.output)")
        let line = try XCTUnwrap(result.stderr.split(separator: "\n").first { $0.contains("stopped by SIGTERM after step") },
                                 "the stop message\n\(result.output)")
        let words = line.split(whereSeparator: { !$0.isNumber && !$0.isLetter })
        let after = words.firstIndex(of: "step").map { words.index(after: $0) }
        let step = try XCTUnwrap(after.flatMap { words.indices.contains($0) ? Int(words[$0]) : nil }, "the step in: \(line)")
        XCTAssertEqual(latestTarget(in: checkpoints), checkpointName(step: step), "a checkpoint at the stop step")
        XCTAssertEqual(verifyCheckpoint(checkpoints + "/latest").status, 0)
        let summary = try Summary(dir + "/summary.json")
        XCTAssertEqual(summary.string("stopped_by"), "SIGTERM")
        XCTAssertEqual(summary.int("steps"), step)
    }

    /// A deterministic stop step: rank 0 is held at the start of step 100 (a test-only stall)
    /// until the signal arrives, so the stop comes after step 100. The resumed run must end
    /// bitwise where an uninterrupted run of the same config ends.
    func testResumedAfterSIGTERMEqualsUninterruptedBitwise() throws {
        let settings = ["train.steps=200", "checkpoint.every_steps=99"]
        let checkpoints = dir + "/ckpt"
        let job = try Lockstep.startMPI(2, Tiny.train(settings + ["checkpoint.dir=\(checkpoints)"],
                                                      ["--fault", "stall:rank=0:step=100:seconds=20"]),
                                        environment: ["LOCKSTEP_FAULT_INJECTION": "1"])
        guard let stopped = terminate(job, when: { latestTarget(in: checkpoints) == checkpointName(step: 99) }) else { return }
        XCTAssertEqual(stopped.status, 75, "exit code through mpirun\n\(stopped.output)")
        XCTAssertTrue(stopped.stderr.contains("stopped by SIGTERM after step 100"), stopped.output)
        XCTAssertEqual(latestTarget(in: checkpoints), checkpointName(step: 100))
        XCTAssertEqual(verifyCheckpoint(checkpoints + "/latest").status, 0)

        let resumed = Lockstep.mpirun(2, Tiny.train(settings + ["checkpoint.dir=\(checkpoints)"], ["--resume", "latest"]),
                                      timeout: 120)
        assertSucceeded(resumed, "resume after SIGTERM")
        let uninterrupted = Lockstep.mpirun(2, Tiny.train(settings + ["checkpoint.dir=\(dir)/whole"]), timeout: 120)
        assertSucceeded(uninterrupted, "uninterrupted run")
        guard resumed.status == 0, uninterrupted.status == 0 else { return }
        let a = try SafeTensorsFile(path: checkpoints + "/" + checkpointName(step: 200))
        let b = try SafeTensorsFile(path: dir + "/whole/" + checkpointName(step: 200))
        assertCheckpointsBitwiseEqual(a, b, "resumed after SIGTERM vs uninterrupted, step 200")
        for key in ["step", "epoch", "epoch_step", "sampler.global_position", "optimizer.steps", "data_sha256"] {
            XCTAssertEqual(a.metadata[key], b.metadata[key], key)
        }
    }
}
