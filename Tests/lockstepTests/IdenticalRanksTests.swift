import Foundation
import TestSupport
import XCTest

/// `--check-identical-ranks` compares a checksum of every rank's parameters after every step
/// and stops the run if any rank differs from rank 0. Every algorithm must keep the ranks
/// bitwise identical at worlds 3 and 4, with and without 16-bit compression.
final class IdenticalRanksTests: XCTestCase {
    private func check(world: Int, _ comm: [String], file: StaticString = #filePath, line: UInt = #line) {
        let what = "world \(world), \(comm.joined(separator: " "))"
        let result = Lockstep.mpirun(world, Tiny.train(["train.steps=10"] + comm, ["--check-identical-ranks"]), timeout: 120)
        assertSucceeded(result, what, file: file, line: line)
        XCTAssertFalse(result.stderr.contains("differ from rank 0"), "\(what)\n\(result.output)", file: file, line: line)
    }

    private func everyAlgorithm(world: Int) {
        for algorithm in ["mpi", "ring", "rhd", "hierarchical", "auto"] {
            check(world: world, ["comm.algorithm=\(algorithm)"])
        }
        check(world: world, ["comm.algorithm=hierarchical", "comm.ranks_per_node=2"])
    }

    func testWorld3EveryAlgorithm() { everyAlgorithm(world: 3) }
    func testWorld4EveryAlgorithm() { everyAlgorithm(world: 4) }

    func testFP16Compression() {
        for world in [3, 4] {
            check(world: world, ["comm.compression=fp16", "comm.algorithm=ring"])
            check(world: world, ["comm.compression=fp16", "comm.algorithm=rhd"])
        }
        check(world: 4, ["comm.compression=fp16", "comm.algorithm=hierarchical", "comm.ranks_per_node=2"])
    }

    func testBF16Compression() {
        for world in [3, 4] {
            check(world: world, ["comm.compression=bf16", "comm.algorithm=ring"])
            check(world: world, ["comm.compression=bf16", "comm.algorithm=rhd"])
        }
        check(world: 3, ["comm.compression=bf16", "comm.algorithm=hierarchical", "comm.ranks_per_node=2"])
    }
}
