import Foundation
import TestSupport
import XCTest

/// Data parallelism must not change the mathematics: 4 ranks of batch 32 see the same global
/// batches of 128 as 1 rank of batch 128 (DistributedSampler: rank r takes positions r, r+4, …
/// of the same seeded order), so with the same seed every step's global mean loss and the
/// final weights and optimizer state agree up to float summation order, for every algorithm.
final class EquivalenceTests: XCTestCase {
    static let steps = 20
    static let tolerance = 1e-4

    /// The world-1 reference, run once for the class.
    nonisolated(unsafe) private static var reference: (dir: String, losses: [(step: Int, loss: Double)], checkpoint: SafeTensorsFile)?
    nonisolated(unsafe) private static var referenceFailure: String?

    private var dir = ""

    override class func tearDown() {
        if let dir = reference?.dir { try? FileManager.default.removeItem(atPath: dir) }
        super.tearDown()
    }

    override func setUp() {
        dir = Lockstep.temporaryDirectory("equivalence")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private static func settings(batch: Int, checkpointDir: String) -> [String] {
        ["train.steps=\(steps)", "train.batch=\(batch)", "train.log_every=1", "checkpoint.dir=\(checkpointDir)"]
    }

    /// World 1, batch 128.
    private func worldOne() throws -> (losses: [(step: Int, loss: Double)], checkpoint: SafeTensorsFile) {
        if let r = Self.reference { return (r.losses, r.checkpoint) }
        if let failure = Self.referenceFailure { throw NSError(domain: "lockstep-tests", code: 1, userInfo: [NSLocalizedDescriptionKey: failure]) }
        let refDir = Lockstep.temporaryDirectory("equivalence-w1")
        let result = Lockstep.run(Tiny.train(Self.settings(batch: 128, checkpointDir: refDir + "/ckpt"),
                                             ["--summary", refDir + "/summary.json"]), timeout: 120)
        guard result.status == 0 else {
            Self.referenceFailure = "the world-1 reference run failed\n\(result.output)"
            XCTFail(Self.referenceFailure!)
            throw NSError(domain: "lockstep-tests", code: 1, userInfo: [NSLocalizedDescriptionKey: Self.referenceFailure!])
        }
        let summary = try Summary(refDir + "/summary.json")
        XCTAssertEqual(summary.int("world"), 1)
        XCTAssertEqual(summary.int("global_batch"), 128)
        let checkpoint = try SafeTensorsFile(path: refDir + "/ckpt/latest")
        Self.reference = (refDir, summary.losses, checkpoint)
        return (summary.losses, checkpoint)
    }

    /// World 4, batch 32, with `comm` settings (and `arguments`), against world 1.
    /// - Returns: the world-4 run's summary, nil if it failed.
    @discardableResult
    private func compare(_ comm: [String], arguments: [String] = [], environment: [String: String] = [:],
                         file: StaticString = #filePath, line: UInt = #line) throws -> Summary? {
        let (expectedLosses, expectedCheckpoint) = try worldOne()
        let what = "world 4 with \(comm.joined(separator: " "))"
        let result = Lockstep.mpirun(4, Tiny.train(Self.settings(batch: 32, checkpointDir: dir + "/ckpt") + comm,
                                                   ["--summary", dir + "/summary.json"] + arguments),
                                     environment: environment, timeout: 120)
        assertSucceeded(result, what, file: file, line: line)
        guard result.status == 0 else { return nil }
        let summary = try Summary(dir + "/summary.json")
        XCTAssertEqual(summary.int("world"), 4, what, file: file, line: line)
        XCTAssertEqual(summary.int("global_batch"), 128, what, file: file, line: line)
        XCTAssertEqual(summary.int("steps"), Self.steps, what, file: file, line: line)
        XCTAssertEqual(summary.losses.count, Self.steps, "\(what): train.log_every=1 logs every step", file: file, line: line)
        assertLossesClose(summary.losses, expectedLosses, relative: Self.tolerance, "\(what): global mean loss",
                          file: file, line: line)
        let checkpoint = try SafeTensorsFile(path: dir + "/ckpt/latest")
        XCTAssertEqual(checkpoint.metadata["step"], String(Self.steps), what, file: file, line: line)
        XCTAssertEqual(checkpoint.metadata["world_size"], "4", what, file: file, line: line)
        // Parameters and the optimizer's momentum, every element.
        XCTAssertTrue(checkpoint.names.contains("optim.momentum.fc1.weight"), "\(what): \(checkpoint.names)", file: file, line: line)
        assertCheckpointsClose(checkpoint, expectedCheckpoint, relative: Self.tolerance, "\(what): final tensors",
                               file: file, line: line)
        return summary
    }

    func testMPI() throws { try compare(["comm.algorithm=mpi"]) }
    /// MPI_Iallreduce tested between layers by the main thread, with no communication thread.
    func testMPIWithTestProgress() throws { try compare(["comm.algorithm=mpi", "comm.progress=test"]) }
    func testRing() throws { try compare(["comm.algorithm=ring"]) }
    func testRecursiveHalvingDoubling() throws { try compare(["comm.algorithm=rhd"]) }
    func testHierarchical() throws { try compare(["comm.algorithm=hierarchical"]) }
    func testHierarchicalTwoRanksPerNode() throws { try compare(["comm.algorithm=hierarchical", "comm.ranks_per_node=2"]) }
    func testAuto() throws { try compare(["comm.algorithm=auto"]) }
    /// Each rank updates a quarter of the parameters, after summing its quarter straight out
    /// of the other ranks' gradients in memory the four share; the checkpoint gathers the
    /// momentum back.
    func testShardedOptimizer() throws {
        let summary = try compare(["optimizer.sharded=true"])
        XCTAssertEqual(summary?.string("algorithm"), "node shared memory (sharded optimizer)")
    }

    /// The same updates through MPI: the ring's reduce-scatter and allgather.
    func testShardedOptimizerOverTheRing() throws {
        let summary = try compare(["optimizer.sharded=true", "comm.shared_memory=false"])
        XCTAssertEqual(summary?.string("algorithm"), "ring reduce-scatter + allgather (sharded optimizer)")
    }

    /// Two emulated nodes of two ranks share no memory between them, so the ring carries it.
    func testShardedOptimizerAcrossNodes() throws {
        let summary = try compare(["optimizer.sharded=true", "comm.ranks_per_node=2"])
        XCTAssertEqual(summary?.string("algorithm"), "ring reduce-scatter + allgather (sharded optimizer)")
        XCTAssertEqual(summary?.int("nodes"), 2)
    }

    /// The MLP config's pair, node-shared sharding with a balanced split, around a slow rank.
    func testShardedAndBalanced() throws {
        let summary = try compare(["optimizer.sharded=true", "train.balance=true"],
                                  arguments: ["--fault", "slow:rank=3:step=1:us=2000"],
                                  environment: ["LOCKSTEP_FAULT_INJECTION": "1"])
        XCTAssertEqual(summary?.string("algorithm"), "node shared memory (sharded optimizer)")
        XCTAssertLessThan(try XCTUnwrap(summary?.doubles("batch_share_mean"))[3], 21)
    }

    /// train.balance with rank 3 made slow (it sleeps 2 ms per sample): the step's 128 samples
    /// are split unevenly, rank 3 taking fewer, yet every step averages the same 128 samples.
    func testBalancedSplitAroundASlowRank() throws {
        guard let summary = try compare(["train.balance=true"], arguments: ["--fault", "slow:rank=3:step=1:us=2000"],
                                        environment: ["LOCKSTEP_FAULT_INJECTION": "1"]) else { return }
        let shares = try XCTUnwrap(summary.doubles("batch_share_mean"), "the summary has batch_share_mean")
        XCTAssertEqual(shares.count, 4)
        XCTAssertEqual(shares.reduce(0, +), 128, accuracy: 1e-9, "the shares sum to the global batch every step")
        // Step 1 is even; from step 2 on rank 3 is at or near the least allowed share, 16.
        XCTAssertLessThan(shares[3], 21, "the slow rank's mean share: \(shares)")
        // The others share the rest by their own speeds, which oversubscribed cores make unequal.
        for r in 0..<3 { XCTAssertGreaterThan(shares[r], shares[3] + 2, "rank \(r)'s mean share: \(shares)") }
    }
}
