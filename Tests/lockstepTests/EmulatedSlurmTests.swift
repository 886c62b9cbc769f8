import Foundation
import TestSupport
import XCTest

/// SLURM across emulated nodes (scripts/cluster/slurm on scripts/cluster/emulate): one slurmd
/// per node namespace, so that `sbatch -N 2 --ntasks-per-node 2` of train.sbatch places two
/// ranks on each node and `srun --mpi=pmix` starts them there; the run spans both nodes (the
/// summary's nodes and node list say so, and auto picks the hierarchical all-reduce).
///
/// Needs root, as CI has: without it the test fails, never skips. The cluster and the daemons
/// are brought up for the test and stopped in tearDown, whatever happened.
final class EmulatedSlurmTests: XCTestCase {
    private static let slurm = Lockstep.path("scripts/cluster/slurm")
    private var dir = ""
    private var cluster: EmulatedCluster?

    override func setUp() {
        super.setUp()
        dir = Lockstep.temporaryDirectory("emulated-slurm")
    }

    override func tearDown() {
        if let cluster {
            let stop = runProcess(Self.slurm, ["stop", "--cluster", cluster.dir], timeout: 120)
            XCTAssertEqual(stop.status, 0, "cluster slurm stop\n\(stop.output)")
        }
        if let down = EmulatedCluster.downAfterTest(cluster) {
            XCTAssertEqual(down.status, 0, "emulate down\n\(down.output)")
        }
        try? FileManager.default.removeItem(atPath: dir)
        super.tearDown()
    }

    /// A client command (sbatch, scontrol…) inside the cluster, from the repository root.
    private func client(_ cluster: EmulatedCluster, _ arguments: [String], extra: [String: String] = [:]) -> ProcessResult {
        runProcess(Self.slurm, ["run", "--cluster", cluster.dir] + arguments, environment: Lockstep.environment.merging(extra) { $1 },
                   currentDirectory: Lockstep.root, timeout: 60)
    }

    func testTrainBatchJobSpansTwoNodes() throws {
        let cluster = try EmulatedCluster.upForTest("EmulatedSlurmTests", nodes: 2, ranksPerNode: 2, dir: dir + "/cluster")
        self.cluster = cluster
        let start = runProcess(Self.slurm, ["start", "--cluster", cluster.dir], timeout: 180)
        XCTAssertEqual(start.status, 0, start.output)
        guard start.status == 0 else { return }

        let output = dir + "/train-%j.out", outputDir = dir + "/out"
        let submit = client(cluster, ["sbatch", "--parsable", "-N", "2", "--ntasks-per-node", "2", "--output=\(output)",
                                      Lockstep.path("scripts/slurm/train.sbatch")],
                            extra: ["CONFIG": "Configs/tiny.toml", "OUTPUT_DIR": outputDir, "TRAIN_ARGS": "--set train.steps=100"])
        let jobId = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard submit.status == 0, Int(jobId) != nil else { return XCTFail("sbatch printed no job id\n\(submit.output)") }
        let log = output.replacingOccurrences(of: "%j", with: jobId)

        let (fields, _) = SlurmJob.wait(timeout: 180) { SlurmJob.fields(client(cluster, ["scontrol", "show", "job", jobId]).stdout) }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? "(no job log)"
        XCTAssertEqual(fields["JobState"], "COMPLETED", "job \(jobId): \(fields)\n--- \(log)\n\(text)")
        XCTAssertEqual(fields["ExitCode"], "0:0", text)
        XCTAssertEqual(fields["NodeList"], "node[1-2]", text)
        guard fields["JobState"] == "COMPLETED" else { return }

        let summary = try Lockstep.summary(at: outputDir + "/summary.json")
        XCTAssertEqual(summary["world"] as? Int, 4, "\(summary)")
        XCTAssertEqual(summary["nodes"] as? Int, 2, "two ranks on each emulated node: \(summary)")
        XCTAssertEqual(summary["node_list"] as? String, "node[1-2]")
        XCTAssertEqual(summary["slurm_job_id"] as? String, jobId)
        XCTAssertEqual(summary["algorithm"] as? String, "auto (hierarchical)")
        XCTAssertEqual(summary["steps"] as? Int, 100)
        XCTAssertGreaterThan(summary["test_accuracy"] as? Double ?? 0, 0.9)
    }
}
