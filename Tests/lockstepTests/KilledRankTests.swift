import Foundation
import TestSupport
import XCTest

/// A rank that dies with SIGKILL (the OOM killer, a node failure) must end the whole job
/// instead of leaving the others hanging in a collective, and the last checkpoint must still
/// verify and resume.
final class KilledRankTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("killed-rank")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func testSIGKILLOfOneRankEndsTheJobAndTheRunResumes() throws {
        // The checkpoint folder (a unique path) is what the run is recognised by.
        let checkpoints = dir + "/ckpt"
        let job = try Lockstep.startMPI(2, Tiny.train(["train.steps=200000", "checkpoint.every_steps=200",
                                                       "checkpoint.dir=\(checkpoints)"]))
        defer {
            if job.isRunning {
                job.killTree(SIGKILL)
                _ = job.wait(timeout: 10)
            }
        }
        let progressed = Lockstep.waitUntil(timeout: 60) { latestTarget(in: checkpoints) != nil || !job.isRunning }
        guard progressed, job.isRunning else {
            let result = job.wait(timeout: 5)
            XCTFail("the run ended or wrote no checkpoint within 60 s\n\(result.output)")
            return
        }
        let ranks = Lockstep.rankProcesses(of: job)
        XCTAssertEqual(ranks.keys.sorted(), [0, 1], "rank processes under mpirun \(job.pid)")
        let victim = try XCTUnwrap(ranks[1], "rank 1's pid")
        XCTAssertTrue(ProcessTable.commandLine(of: victim).contains("checkpoint.dir=\(checkpoints)"))
        XCTAssertEqual(kill(victim, SIGKILL), 0, "kill -9 \(victim)")
        let killedAt = Date()

        let result = job.wait(timeout: 30)
        let seconds = Date().timeIntervalSince(killedAt)
        XCTAssertFalse(result.timedOut, "mpirun still ran 30 s after rank 1 was killed: the job hangs\n\(result.output)")
        XCTAssertNotEqual(result.status, 0, "mpirun must report the failure\n\(result.output)")
        print("KilledRankTests: mpirun exited \(result.status) \(String(format: "%.2f", seconds)) s after SIGKILL of rank 1")
        let gone = Lockstep.waitUntil(timeout: 10) { !ranks.values.contains(where: ProcessTable.isAlive) }
        XCTAssertTrue(gone, "rank processes \(ranks.values.filter(ProcessTable.isAlive)) still run 10 s after mpirun exited")

        // The newest checkpoint is whole, and the run goes on from it.
        let latest = try XCTUnwrap(latestTarget(in: checkpoints), "latest")
        let verify = verifyCheckpoint(checkpoints + "/latest")
        XCTAssertEqual(verify.status, 0, "the checkpoint left by the killed job\n\(verify.output)")
        let step = try XCTUnwrap(Int(SafeTensorsFile(path: checkpoints + "/" + latest).metadata["step"] ?? ""), "step of \(latest)")
        XCTAssertGreaterThan(step, 0)

        // Resume with a short remaining run (the step count is in the config; the model is not).
        let end = step + 50
        let resumed = Lockstep.mpirun(2, Tiny.train(["train.steps=\(end)", "checkpoint.every_steps=200",
                                                     "checkpoint.dir=\(checkpoints)"],
                                                    ["--resume", "latest", "--summary", dir + "/summary.json"], quiet: false),
                                      timeout: 120)
        assertSucceeded(resumed, "--resume latest after the kill")
        XCTAssertTrue(resumed.stderr.contains("resuming from \(checkpoints)/\(latest) at step \(step)"), resumed.output)
        let summary = try Summary(dir + "/summary.json")
        XCTAssertEqual(summary.int("steps"), end)
        XCTAssertEqual(summary.checkpoint?["resumed_from"] as? String, "\(checkpoints)/\(latest)")
        let final = verifyCheckpoint(checkpoints + "/latest")
        XCTAssertEqual(final.status, 0, final.output)
        XCTAssertEqual(latestTarget(in: checkpoints), checkpointName(step: end))
    }
}
