import Foundation
import TestSupport
import XCTest

/// A rank that stops making progress (here: a test-only fault stalls rank 1 at the start of
/// step 5) must not hang the job: after comm.timeout_s the watchdog prints one line saying
/// which step stalled, which ranks arrived and which did not, and ends the job with exit 3.
final class WatchdogTests: XCTestCase {
    func testStalledRankIsNamedAndTheJobEnds() { assertStallEndsTheJob([]) }

    /// The others wait in the node-shared memory's barrier rather than in an all-reduce.
    func testStalledRankWithNodeSharedParameters() { assertStallEndsTheJob(["optimizer.sharded=true"]) }

    private func assertStallEndsTheJob(_ settings: [String], file: StaticString = #filePath, line: UInt = #line) {
        let result = Lockstep.mpirun(4, Tiny.train(["train.steps=20", "comm.timeout_s=2"] + settings,
                                                   ["--fault", "stall:rank=1:step=5"]),
                                     environment: ["LOCKSTEP_FAULT_INJECTION": "1"], timeout: 60)
        assertFailed(result, code: 3, contains: [], "stalled rank 1 with \(settings)", file: file, line: line)
        XCTAssertLessThan(result.seconds, 15, "the watchdog (timeout 2 s) took too long to end the job\n\(result.output)",
                          file: file, line: line)
        let lines = errorLines(result).filter { $0.contains("watchdog") }
        XCTAssertEqual(lines.count, 1, "one watchdog line\n\(result.output)", file: file, line: line)
        guard let watchdogLine = lines.first else { return }
        for text in ["step 5", "ranks 0, 2, 3 arrived", "rank 1 has not"] {
            XCTAssertTrue(watchdogLine.contains(text), "the watchdog line lacks \"\(text)\": \(watchdogLine)", file: file, line: line)
        }
    }

    /// With node-shared parameters, rank 1 stalled just before its update: the others wait for
    /// its shard of the parameters, a wait the watchdog watches and names.
    func testRankStalledInItsUpdateIsNamedWhileTheOthersWaitForItsParameters() {
        let result = Lockstep.mpirun(4, Tiny.train(["train.steps=20", "comm.timeout_s=2", "optimizer.sharded=true"],
                                                   ["--fault", "stall:rank=1:step=5:at=update"]),
                                     environment: ["LOCKSTEP_FAULT_INJECTION": "1"], timeout: 60)
        assertFailed(result, code: 3, contains: [], "rank 1 stalled in its update")
        XCTAssertLessThan(result.seconds, 15, "the watchdog (timeout 2 s) took too long to end the job\n\(result.output)")
        let lines = errorLines(result).filter { $0.contains("watchdog") }
        XCTAssertEqual(lines.count, 1, "one watchdog line\n\(result.output)")
        guard let watchdogLine = lines.first else { return }
        for text in ["step 5: the wait for every rank's updated parameters has not completed", "ranks 0, 2, 3 arrived",
                     "rank 1 has not: it is at step 5, computing"] {
            XCTAssertTrue(watchdogLine.contains(text), "the watchdog line lacks \"\(text)\": \(watchdogLine)")
        }
    }

    /// Rank 0 stalled while it initialises the parameters that the others wait for at start-up:
    /// start-up's collectives are watched too, and the verdict names that wait.
    func testAStallAtStartUpIsNamedAndTheJobEnds() {
        let result = Lockstep.mpirun(2, Tiny.train(["train.steps=5", "comm.timeout_s=2"],
                                                   ["--fault", "stall:rank=0:step=1:at=startup"]),
                                     environment: ["LOCKSTEP_FAULT_INJECTION": "1"], timeout: 60)
        assertFailed(result, code: 3, contains: [], "rank 0 stalled at start-up")
        XCTAssertLessThan(result.seconds, 15, "the watchdog (timeout 2 s) took too long to end the job\n\(result.output)")
        let lines = errorLines(result).filter { $0.contains("watchdog") }
        XCTAssertEqual(lines.count, 1, "one watchdog line\n\(result.output)")
        for text in ["step 0: the start-up exchange (checks, parameters, resume) has not completed", "rank 1 arrived",
                     "rank 0 has not: it is at step 0, starting"] {
            XCTAssertTrue(lines.first?.contains(text) ?? false, "the watchdog line lacks \"\(text)\": \(lines.first ?? "")")
        }
    }

    /// The fault option is refused unless the environment opts in, so a normal run cannot reach it.
    func testFaultOptionNeedsTheEnvironmentGate() {
        let result = Lockstep.run(Tiny.train(["train.steps=5"], ["--fault", "stall:rank=1:step=5"]),
                                  environment: ["LOCKSTEP_FAULT_INJECTION": ""], timeout: 60)
        assertFailed(result, code: 2, contains: ["--fault is a test-only option", "LOCKSTEP_FAULT_INJECTION=1"])
        XCTAssertEqual(errorLines(result).count, 1, result.output)

        let underMPI = Lockstep.mpirun(2, Tiny.train(["train.steps=5"], ["--fault", "nan:rank=0:step=3"]),
                                       environment: ["LOCKSTEP_FAULT_INJECTION": "0"], timeout: 60)
        assertFailed(underMPI, code: 2, contains: ["--fault is a test-only option; it needs LOCKSTEP_FAULT_INJECTION=1"])
    }
}
