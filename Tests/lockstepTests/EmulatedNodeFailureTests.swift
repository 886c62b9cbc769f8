import Foundation
import TestSupport
import XCTest

/// Failures of a whole emulated node (scripts/cluster/emulate, 2 nodes × 2 ranks):
///  - every process of node 2 killed: mpirun must end the job (non-zero) within 30 s, the last
///    checkpoint must verify, and the run must resume from it at world 2 on one node;
///  - node 2's link cut: the watchdog (comm.timeout_s = 3) must name ranks 2 and 3 as not
///    answering. With the link down, Open MPI's abort cannot reach node 2's daemon and mpirun
///    does not end by itself, so the test ends the whole job (mpirun, its process group, every
///    process in the nodes' namespaces) rather than hang, and reports how long each part took.
///
/// These need root, as CI has: without it they fail, never skip. Each test brings its own
/// cluster up and tears it down in tearDown, whatever happened.
final class EmulatedNodeFailureTests: XCTestCase {
    private var dir = ""
    private var cluster: EmulatedCluster?

    override func setUp() {
        super.setUp()
        dir = Lockstep.temporaryDirectory("emulated-failure")
    }

    override func tearDown() {
        if let down = EmulatedCluster.downAfterTest(cluster) {
            XCTAssertEqual(down.status, 0, "emulate down in tearDown\n\(down.output)")
        }
        try? FileManager.default.removeItem(atPath: dir)
        super.tearDown()
    }

    private func upTwoByTwo() throws -> EmulatedCluster {
        let cluster = try EmulatedCluster.upForTest("EmulatedNodeFailureTests", nodes: 2, ranksPerNode: 2, dir: dir + "/cluster")
        self.cluster = cluster
        return cluster
    }

    // MARK: - A node dies

    func testKilledNodeEndsTheJobAndTheRunResumesOnOneNode() throws {
        let cluster = try upTwoByTwo()
        let checkpoints = dir + "/ckpt"
        // 8000 steps last about 15-20 s on 2 nodes × 2 ranks here; the kill comes at the first checkpoint.
        let settings = ["train.steps=8000", "checkpoint.every_steps=100", "checkpoint.dir=\(checkpoints)"]
        let job = try cluster.start(Tiny.train(settings), logDir: dir + "/job")
        defer { if job.isRunning { job.killEverything(nodes: cluster.nodes) } }

        let progressed = Lockstep.waitUntil(timeout: 60) { latestTarget(in: checkpoints) != nil || !job.isRunning }
        guard progressed, job.isRunning else {
            return XCTFail("the run ended, or wrote no checkpoint within 60 s (exit \(String(describing: job.status)))\n\(job.output)")
        }
        let startedToCheckpoint = Date().timeIntervalSince(job.started)

        // Everything inside node 2: Open MPI's daemon (orted) and ranks 2 and 3.
        let victims = EmulatedCluster.pids(node: 2)
        let ranksOnNode2 = EmulatedCluster.ranks(among: victims)
        XCTAssertEqual(ranksOnNode2.keys.sorted(), [2, 3], "the ranks inside lockstep-node2 (pids \(victims))")
        XCTAssertTrue(victims.contains { ProcessTable.commandLine(of: $0).first?.hasSuffix("orted") == true },
                      "no orted among lockstep-node2's processes \(victims.map { ProcessTable.commandLine(of: $0).first ?? "?" })")
        for pid in victims { kill(pid, SIGKILL) }
        let killedAt = Date()

        let ended = job.waitForExit(timeout: 30)
        let endSeconds = Date().timeIntervalSince(killedAt)
        guard ended else {
            job.killEverything(nodes: cluster.nodes)
            return XCTFail("mpirun still ran 30 s after node 2's processes were killed: the job hangs\n\(job.output)")
        }
        let status = job.status ?? -1
        XCTAssertNotEqual(status, 0, "mpirun must report the lost node\n\(job.output)")
        let node1Gone = Lockstep.waitUntil(timeout: 10) { EmulatedCluster.pids(node: 1).isEmpty }
        XCTAssertTrue(node1Gone, "processes \(EmulatedCluster.pids(node: 1)) still run in lockstep-node1 10 s after mpirun exited")
        print("EmulatedNodeFailureTests: first checkpoint \(secondsText(startedToCheckpoint)) after the start; "
            + "mpirun exited \(status) \(secondsText(endSeconds)) after SIGKILL of node 2's \(victims.count) processes; "
            + "Open MPI said \"ORTE has lost communication with a remote daemon\": \(job.stderr.contains("ORTE has lost communication with a remote daemon"))")

        // The newest checkpoint is whole.
        let latest = try XCTUnwrap(latestTarget(in: checkpoints), "latest")
        let verify = verifyCheckpoint(checkpoints + "/latest")
        XCTAssertEqual(verify.status, 0, "the checkpoint left by the killed job\n\(verify.output)")
        let saved = try SafeTensorsFile(path: checkpoints + "/" + latest)
        let step = try XCTUnwrap(Int(saved.metadata["step"] ?? ""), "step of \(latest)")
        XCTAssertGreaterThan(step, 0)
        XCTAssertLessThan(step, 8000, "the run had finished before the kill")
        XCTAssertEqual(saved.metadata["world_size"], "4")

        // Node 2 is gone: finish the run at world 2 on one node (plain mpirun, outside the cluster).
        let resumed = Lockstep.mpirun(2, Tiny.train(settings, ["--resume", "latest", "--summary", dir + "/summary.json"]), timeout: 180)
        assertSucceeded(resumed, "--resume latest at world 2 after node 2 died")
        print("EmulatedNodeFailureTests: resumed at world 2 from step \(step), finished in \(secondsText(resumed.seconds))")
        for note in ["resuming at world 2 (saved at world 4): train.accumulate = 2 keeps the global batch of 128",
                     "resuming from \(checkpoints)/\(latest) at step \(step)"] {
            XCTAssertTrue(resumed.stderr.contains("lockstep: note: " + note), "stderr lacks \"\(note)\"\n\(resumed.output)")
        }
        let summary = try Summary(dir + "/summary.json")
        XCTAssertEqual(summary.int("steps"), 8000)
        XCTAssertEqual(summary.int("world"), 2)
        XCTAssertEqual(summary.int("nodes"), 1)
        XCTAssertEqual(summary.int("global_batch"), 128)
        XCTAssertEqual(summary.int("accumulate"), 2)
        XCTAssertEqual(summary.checkpoint?["resumed_from"] as? String, "\(checkpoints)/\(latest)")
        XCTAssertEqual(latestTarget(in: checkpoints), checkpointName(step: 8000))
        let final = verifyCheckpoint(checkpoints + "/latest")
        XCTAssertEqual(final.status, 0, final.output)
    }

    // MARK: - A node's link is cut

    func testCutLinkIsNamedByTheWatchdog() throws {
        let cluster = try upTwoByTwo()
        let checkpoints = dir + "/ckpt"
        // Far more steps than the test waits for: the run must still be going when the link goes down.
        let job = try cluster.start(Tiny.train(["train.steps=200000", "checkpoint.every_steps=100", "checkpoint.dir=\(checkpoints)",
                                                "comm.timeout_s=3"]),
                                    logDir: dir + "/job")
        var linkDown = false
        defer {
            if job.isRunning { job.killEverything(nodes: cluster.nodes) }
            if linkDown { _ = try? EmulatedCluster.ip(["link", "set", "lockstep-v2", "up"]) }
        }

        let progressed = Lockstep.waitUntil(timeout: 60) { latestTarget(in: checkpoints) != nil || !job.isRunning }
        guard progressed, job.isRunning else {
            return XCTFail("the run ended, or wrote no checkpoint within 60 s (exit \(String(describing: job.status)))\n\(job.output)")
        }
        // The bridge's end of node 2's veth pair: node 2 keeps its address but reaches no one.
        try EmulatedCluster.ip(["link", "set", "lockstep-v2", "down"])
        linkDown = true
        let cutAt = Date()

        // timeout 3 s, then up to a grace of 2 s for the answers: about 5 s.
        let watchdogLine: () -> String? = {
            job.stderr.split(separator: "\n").map(String.init).first { $0.hasPrefix("lockstep: error: watchdog: ") }
        }
        let named = Lockstep.waitUntil(timeout: 30) { watchdogLine() != nil || !job.isRunning }
        let messageSeconds = Date().timeIntervalSince(cutAt)
        let line = watchdogLine()

        // Does the job end by itself? (MPI_Abort must reach node 2's daemon, across the cut link.)
        let observe = 10.0
        let messageAt = Date()
        let endedByItself = job.waitForExit(timeout: observe)
        let endSeconds = Date().timeIntervalSince(messageAt)
        let statusByItself = job.status
        let before = (1...cluster.nodes).map { "node \($0): " + EmulatedCluster.processNames(node: $0).joined(separator: ", ") }

        // End everything, whatever happened: mpirun's group, its descendants, every process in the nodes.
        let group = job.processGroup
        let killAt = Date()
        let reaped = job.killEverything(nodes: cluster.nodes)
        let killSeconds = Date().timeIntervalSince(killAt)
        let leftInNodes = (1...cluster.nodes).flatMap { EmulatedCluster.pids(node: $0) }
        try EmulatedCluster.ip(["link", "set", "lockstep-v2", "up"])
        linkDown = false

        print("EmulatedNodeFailureTests: link cut; watchdog line \(line == nil ? "NOT seen" : "seen") \(secondsText(messageSeconds)) after the cut; "
            + (endedByItself ? "mpirun exited \(statusByItself ?? -1) by itself \(secondsText(endSeconds)) later"
                             : "mpirun still ran \(secondsText(endSeconds)) later")
            + " (processes left: \(before.joined(separator: "; ")))"
            + "; killing the job (mpirun's process group \(group.map(String.init) ?? "?"), the test's is \(getpgrp())) took \(secondsText(killSeconds))")

        XCTAssertTrue(named, "no watchdog line within 30 s of cutting node 2's link\n\(job.output)")
        XCTAssertTrue(reaped, "mpirun was not reaped within 15 s of SIGKILL to the whole job\n\(job.output)")
        XCTAssertEqual(leftInNodes, [], "processes left in the nodes after the kill")
        guard let line else { return }
        XCTAssertLessThan(messageSeconds, 15, "the watchdog (timeout 3 s, grace 2 s) took too long\n\(job.output)")
        for text in ["has not completed after 3.0 s (comm.timeout_s)", "ranks 0, 1 arrived",
                     "rank 2 did not answer (dead, stuck in the kernel, or unreachable)",
                     "rank 3 did not answer (dead, stuck in the kernel, or unreachable)", "Aborting the job"] {
            XCTAssertTrue(line.contains(text), "the watchdog line lacks \"\(text)\": \(line)")
        }
        XCTAssertEqual(job.stderr.components(separatedBy: "lockstep: error: watchdog: ").count - 1, 1,
                       "one verdict from rank 0\n\(job.output)")
    }
}
