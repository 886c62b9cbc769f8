import Foundation
import TestSupport
import XCTest

/// Training across emulated nodes (scripts/cluster/emulate: network namespaces with hostnames of
/// their own on a bridge, so Open MPI uses TCP between nodes and shared memory inside one) must
/// not change the mathematics: 2 nodes × 2 ranks of batch 32 end with the same losses and weights
/// as 1 rank of batch 128 (EquivalenceTests does the same on one node), and the run knows it
/// spanned 2 nodes.
///
/// These need root, as CI has: without it they fail, never skip. The cluster is brought up once
/// for the class and torn down after it, whatever happened.
final class EmulatedTrainingTests: XCTestCase {
    static let steps = 20
    static let tolerance = 1e-4

    nonisolated(unsafe) private static var root = ""
    nonisolated(unsafe) private static var cluster: EmulatedCluster?
    nonisolated(unsafe) private static var setupFailure = ""
    /// The world-1 reference, run once for the class.
    nonisolated(unsafe) private static var reference: (losses: [(step: Int, loss: Double)], checkpoint: SafeTensorsFile)?

    private var dir = ""

    override class func setUp() {
        super.setUp()
        guard getuid() == 0 else { return }  // each test fails in requireRoot
        root = Lockstep.temporaryDirectory("emulated-training")
        do {
            try EmulatedCluster.clearLeftovers()
            cluster = try EmulatedCluster.up(nodes: 2, ranksPerNode: 2, dir: root + "/cluster")
        } catch {
            setupFailure = "\(error)"
        }
    }

    override class func tearDown() {
        if let cluster {
            let down = cluster.down()
            if down.status != 0 { print("EmulatedTrainingTests: emulate down failed\n\(down.output)") }
        } else if getuid() == 0 {
            _ = try? EmulatedCluster.clearLeftovers()
        }
        if !root.isEmpty { try? FileManager.default.removeItem(atPath: root) }
        super.tearDown()
    }

    override func setUp() {
        super.setUp()
        dir = Lockstep.temporaryDirectory("emulated-training-test")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
        super.tearDown()
    }

    private func requireCluster() throws -> EmulatedCluster {
        try EmulatedCluster.requireRoot("EmulatedTrainingTests")
        guard let cluster = Self.cluster else {
            XCTFail("the emulated cluster did not come up\n\(Self.setupFailure)")
            throw EmulatedCluster.Failure(Self.setupFailure)
        }
        return cluster
    }

    private static func settings(batch: Int, checkpointDir: String) -> [String] {
        ["train.steps=\(steps)", "train.batch=\(batch)", "train.log_every=1", "checkpoint.dir=\(checkpointDir)"]
    }

    /// World 1, batch 128 (a plain process, no mpirun).
    private func worldOne() throws -> (losses: [(step: Int, loss: Double)], checkpoint: SafeTensorsFile) {
        if let reference = Self.reference { return reference }
        let refDir = Self.root + "/world1"
        let result = Lockstep.run(Tiny.train(Self.settings(batch: 128, checkpointDir: refDir + "/ckpt"),
                                             ["--summary", refDir + "/summary.json"]), timeout: 120)
        assertSucceeded(result, "the world-1 reference run")
        guard result.status == 0 else { throw EmulatedCluster.Failure("the world-1 reference run failed") }
        let summary = try Summary(refDir + "/summary.json")
        XCTAssertEqual(summary.int("world"), 1)
        XCTAssertEqual(summary.int("global_batch"), 128)
        let reference = (summary.losses, try SafeTensorsFile(path: refDir + "/ckpt/latest"))
        Self.reference = reference
        return reference
    }

    /// 2 nodes × 2 ranks, batch 32, with comm.algorithm = `algorithm`, against world 1.
    private func compare(algorithm: String, ran expectedRan: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let cluster = try requireCluster()
        let expected = try worldOne()
        let what = "2 nodes × 2 ranks, comm.algorithm=\(algorithm)"
        let result = cluster.mpirun(Tiny.train(Self.settings(batch: 32, checkpointDir: dir + "/ckpt") + ["comm.algorithm=\(algorithm)"],
                                               ["--summary", dir + "/summary.json"]), timeout: 180)
        assertSucceeded(result, what, file: file, line: line)
        guard result.status == 0 else { return }
        print("EmulatedTrainingTests: \(what): \(secondsText(result.seconds)) for mpirun")

        let summary = try Summary(dir + "/summary.json")
        XCTAssertEqual(summary.int("world"), 4, what, file: file, line: line)
        XCTAssertEqual(summary.int("nodes"), 2, "\(what): the run did not see 2 nodes\n\(summary.json)", file: file, line: line)
        XCTAssertEqual(summary.string("hostname"), "lockstep-node1", "\(what): rank 0 runs on the first node", file: file, line: line)
        XCTAssertEqual(summary.int("global_batch"), 128, what, file: file, line: line)
        XCTAssertEqual(summary.int("batch_per_rank"), 32, what, file: file, line: line)
        XCTAssertEqual(summary.int("steps"), Self.steps, what, file: file, line: line)
        XCTAssertEqual(summary.string("algorithm"), expectedRan, "\(what): the algorithm that ran", file: file, line: line)
        XCTAssertEqual(summary.losses.count, Self.steps, "\(what): train.log_every=1 logs every step", file: file, line: line)
        assertLossesClose(summary.losses, expected.losses, relative: Self.tolerance, "\(what): global mean loss",
                          file: file, line: line)

        let checkpoint = try SafeTensorsFile(path: dir + "/ckpt/latest")
        XCTAssertEqual(checkpoint.metadata["step"], String(Self.steps), what, file: file, line: line)
        XCTAssertEqual(checkpoint.metadata["world_size"], "4", what, file: file, line: line)
        XCTAssertTrue(checkpoint.names.contains("optim.momentum.fc1.weight"), "\(what): \(checkpoint.names)", file: file, line: line)
        let worst = assertCheckpointsClose(checkpoint, expected.checkpoint, relative: Self.tolerance, "\(what): final tensors",
                                           file: file, line: line)
        print("EmulatedTrainingTests: \(what): worst relative difference from world 1: \(worst)")
    }

    func testHierarchicalAcrossTwoNodesMatchesWorldOne() throws {
        try compare(algorithm: "hierarchical", ran: "hierarchical")
    }

    /// Auto picks hierarchical across several nodes of several ranks.
    func testAutoAcrossTwoNodesMatchesWorldOne() throws {
        try compare(algorithm: "auto", ran: "auto (hierarchical)")
    }
}
