import Foundation
import TestSupport
import XCTest

/// The run summary reports how the gradients were communicated: the algorithm, the bucket
/// size, the all-reduce time per step, the part of it the step waited for, and the overlap.
final class CommSummaryTests: XCTestCase {
    func testWorld2SummaryHasCommunicationFigures() throws {
        let dir = Lockstep.temporaryDirectory("comm-summary")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = Lockstep.mpirun(2, Tiny.train(["train.steps=20", "comm.algorithm=ring"],
                                                   ["--summary", dir + "/summary.json"]), timeout: 120)
        assertSucceeded(result)
        let summary = try Summary(dir + "/summary.json")
        XCTAssertEqual(summary.int("world"), 2)
        XCTAssertEqual(summary.string("algorithm"), "ring")
        XCTAssertEqual(try XCTUnwrap(summary.double("bucket_mb")), 0.004, accuracy: 1e-12, "tiny.toml's comm.bucket_mb")
        let total = try XCTUnwrap(summary.double("comm_ms_total"), "comm_ms_total")
        let exposed = try XCTUnwrap(summary.double("comm_ms_exposed"), "comm_ms_exposed")
        let overlap = try XCTUnwrap(summary.double("overlap_fraction"), "overlap_fraction")
        XCTAssertGreaterThan(total, 0, "two ranks all-reduce gradients every step")
        XCTAssertGreaterThanOrEqual(exposed, 0)
        XCTAssertTrue((0...1).contains(overlap), "overlap_fraction \(overlap)")
        XCTAssertEqual(overlap, max(0, 1 - exposed / total), accuracy: 1e-9, "overlap_fraction = 1 - exposed / total")
        XCTAssertNil(summary.double("peer_wait_ms"), "an MPI wait cannot tell a slower rank from a slower transfer")
    }

    /// With the node-shared sum, rank 1 made slow (8 ms more per step) keeps rank 0 waiting for
    /// it every step. That wait is the peer's compute, booked as peer_wait_ms, not as exposed
    /// communication, which is only the sums left once both ranks have finished backward.
    func testSlowPeerIsBookedApartFromExposedCommunication() throws {
        let dir = Lockstep.temporaryDirectory("comm-peer-wait")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = Lockstep.mpirun(2, Tiny.train(["train.steps=20", "optimizer.sharded=true"],
                                                   ["--summary", dir + "/summary.json", "--fault", "slow:rank=1:step=1:us=250"]),
                                     environment: ["LOCKSTEP_FAULT_INJECTION": "1"], timeout: 120)
        assertSucceeded(result)
        let summary = try Summary(dir + "/summary.json")
        XCTAssertEqual(summary.string("algorithm"), "node shared memory (sharded optimizer)")
        let peerWait = try XCTUnwrap(summary.double("peer_wait_ms"), "peer_wait_ms")
        let exposed = try XCTUnwrap(summary.double("comm_ms_exposed"), "comm_ms_exposed")
        let total = try XCTUnwrap(summary.double("comm_ms_total"), "comm_ms_total")
        XCTAssertGreaterThan(peerWait, 4, "rank 0 waits about 8 ms per step for rank 1")
        XCTAssertLessThan(exposed, 2, "the slow rank's delay is not communication")
        XCTAssertGreaterThan(total, 0, "the ranks sum each other's gradients every step")
        XCTAssertLessThanOrEqual(exposed, total)
    }
}
