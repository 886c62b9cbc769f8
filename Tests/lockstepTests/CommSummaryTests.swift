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
    }
}
