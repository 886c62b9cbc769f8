import Foundation
import TestSupport
import XCTest

/// The emulated cluster of scripts/cluster/emulate: nodes that are network namespaces with
/// hostnames of their own, joined by veth links on a bridge, so that Open MPI uses TCP between
/// nodes and shared memory inside one. `up` then `down` must leave no namespace, link or bridge
/// behind, and the real binary's all-reduces must sum exactly across 2 and 3 such nodes, with
/// the hierarchical algorithm seeing the node boundaries.
///
/// These need root (namespaces, veth, bridge, tc), as CI has: without it they fail, never skip.
/// Each test tears the cluster down in tearDown, whatever happened.
final class EmulatedClusterTests: XCTestCase {
    private var dir = ""
    private var clusterDir: String { dir + "/cluster" }
    private let emulate = Lockstep.path("scripts/cluster/emulate")
    private let mpirunCluster = Lockstep.path("scripts/cluster/mpirun-cluster")

    private struct ClusterError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    override func setUp() {
        guard isRoot else { return }
        dir = Lockstep.temporaryDirectory("cluster")
        // What a crashed earlier run may have left (the cluster has fixed names).
        let leftover = runProcess(emulate, ["down"], timeout: 60)
        XCTAssertEqual(leftover.status, 0, "emulate down (leftovers)\n\(leftover.output)")
    }

    private var isRoot: Bool { getuid() == 0 }

    /// Fails (never skips) the test when not run as root.
    private func requireRoot() throws {
        guard isRoot else {
            let message = "EmulatedClusterTests need root: they create network namespaces, veth links, a bridge and tc "
                + "qdiscs (scripts/cluster/emulate). Run `swift test` as root, as CI does."
            XCTFail(message)
            throw ClusterError(message)
        }
    }

    override func tearDown() {
        guard !dir.isEmpty else { return }
        let down = runProcess(emulate, ["down", "--dir", clusterDir], timeout: 60)
        XCTAssertEqual(down.status, 0, "emulate down in tearDown\n\(down.output)")
        try? FileManager.default.removeItem(atPath: dir)
    }

    // MARK: - up and down

    func testUpThenDownLeavesNothingBehind() throws {
        try requireRoot()
        let before = try networkState()
        XCTAssertFalse(before.namespaces.contains { $0.hasPrefix("lockstep-") }, "a cluster is up before the test: \(before)")

        try up(nodes: 3, ranksPerNode: 2, extra: ["--bandwidth", "1gbit"])
        let during = try networkState()
        XCTAssertEqual(Set(during.namespaces).subtracting(before.namespaces),
                       ["lockstep-node1", "lockstep-node2", "lockstep-node3"])
        XCTAssertEqual(Set(during.links).subtracting(before.links),
                       ["lockstep-br0", "lockstep-v1", "lockstep-v2", "lockstep-v3"])
        let hostfile = try String(contentsOfFile: clusterDir + "/hostfile", encoding: .utf8)
        XCTAssertEqual(hostfile, "10.213.0.1 slots=2\n10.213.0.2 slots=2\n10.213.0.3 slots=2\n")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: clusterDir + "/agent"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: clusterDir + "/cluster.env"))

        // Each node has its own hostname, its own address, and only the cluster's route.
        let agent = runProcess(clusterDir + "/agent", ["10.213.0.2", "hostname;", "ip", "-4", "-o", "addr;", "ip", "route"],
                               timeout: 30)
        XCTAssertEqual(agent.status, 0, agent.output)
        XCTAssertTrue(agent.stdout.hasPrefix("lockstep-node2\n"), agent.output)
        XCTAssertTrue(agent.stdout.contains("inet 10.213.0.2/24"), agent.output)
        let routes = agent.stdout.split(separator: "\n").filter { !$0.contains("inet ") && $0 != "lockstep-node2" }
        XCTAssertEqual(routes.map { $0.split(separator: " ").first.map(String.init) ?? "" }, ["10.213.0.0/24"],
                       "a node routes only its subnet\n\(agent.output)")

        let status = runProcess(emulate, ["status", "--dir", clusterDir], timeout: 30)
        XCTAssertEqual(status.status, 0, status.output)
        XCTAssertTrue(status.stdout.contains("state: up (3 namespaces, 3 links)"), status.output)
        XCTAssertEqual(status.stdout.components(separatedBy: "tbf").count - 1, 6, "tbf on both ends of 3 links\n\(status.output)")

        // A second `up` refuses, and changes nothing.
        let again = runProcess(emulate, ["up", "--nodes", "2", "--ranks-per-node", "1", "--dir", dir + "/other"], timeout: 60)
        XCTAssertEqual(again.status, 2, again.output)
        XCTAssertTrue(again.stderr.contains("exists already"), again.output)
        XCTAssertEqual(try networkState(), during)

        let down = runProcess(emulate, ["down", "--dir", clusterDir], timeout: 60)
        XCTAssertEqual(down.status, 0, down.output)
        XCTAssertEqual(try networkState(), before, "emulate down left something behind\n\(down.output)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: clusterDir), "emulate down left \(clusterDir)")

        // Idempotent.
        let downAgain = runProcess(emulate, ["down", "--dir", clusterDir], timeout: 60)
        XCTAssertEqual(downAgain.status, 0, downAgain.output)
        XCTAssertEqual(try networkState(), before)
    }

    // MARK: - all-reduce across nodes

    func testAllReduceAcrossTwoNodes() throws {
        try requireRoot()
        try checkAllReduce(nodes: 2, ranksPerNode: 2)

        // Open MPI's own account: TCP to the ranks of the other node, shared memory (vader)
        // to the one on the same node.
        let verbose = runProcess(mpirunCluster, [clusterDir, "-np", "4", "--mca", "btl_base_verbose", "100", Lockstep.binary,
                                                 "bench", "allreduce", "--sizes", "4K", "--algorithms", "ring",
                                                 "--iterations", "1"],
                                 environment: Lockstep.environment, currentDirectory: Lockstep.root, timeout: 300)
        XCTAssertEqual(verbose.status, 0, verbose.output)
        let text = verbose.stdout + verbose.stderr
        XCTAssertTrue(text.contains("Using tcp btl for send to"), "no TCP between nodes\n\(verbose.output)")
        XCTAssertTrue(text.contains("Using vader btl for send to"), "no shared memory inside a node\n\(verbose.output)")
        for line in text.split(separator: "\n") where line.contains("btl:tcp: path from") {
            XCTAssertTrue(line.contains("path from 10.213.0."), "TCP outside the cluster's subnet: \(line)")
        }
    }

    func testAllReduceAcrossThreeNodes() throws {
        try requireRoot()
        try checkAllReduce(nodes: 3, ranksPerNode: 2)
    }

    /// Brings up `nodes` nodes, runs `bench allreduce --verify` for ring, rhd and hierarchical
    /// on every rank, and checks the sums, the node count the algorithms saw, and that the
    /// bytes went through each node's link.
    private func checkAllReduce(nodes: Int, ranksPerNode: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        try up(nodes: nodes, ranksPerNode: ranksPerNode)
        let sentBefore = try (1...nodes).map { try bytesSent(node: $0) }
        let json = dir + "/bench.json"
        let ranks = nodes * ranksPerNode
        let result = runProcess(mpirunCluster, [clusterDir, "-np", String(ranks), Lockstep.binary,
                                                "bench", "allreduce", "--sizes", "4K,1M,4M",
                                                "--algorithms", "ring,rhd,hierarchical", "--verify", "--json", json],
                                environment: Lockstep.environment, currentDirectory: Lockstep.root, timeout: 300)
        XCTAssertEqual(result.status, 0, result.output, file: file, line: line)
        XCTAssertFalse(result.stdout.contains("WRONG"), result.output, file: file, line: line)

        let report = try Lockstep.summary(at: json)
        XCTAssertEqual(report["world"] as? Int, ranks, "\(report)", file: file, line: line)
        XCTAssertEqual(report["nodes"] as? Int, nodes, "the all-reduces saw the wrong node count\n\(report)", file: file, line: line)
        let rows = report["rows"] as? [[String: Any]] ?? []
        XCTAssertEqual(rows.count, 9, "\(report)", file: file, line: line)
        for algorithm in ["ring", "rhd", "hierarchical"] {
            let mine = rows.filter { $0["algorithm"] as? String == algorithm }
            XCTAssertEqual(mine.compactMap { $0["bytes"] as? Int }.sorted(), [4096, 1 << 20, 4 << 20], algorithm,
                           file: file, line: line)
            for row in mine {
                XCTAssertEqual(row["correct"] as? Bool, true, "\(algorithm): \(row)", file: file, line: line)
                XCTAssertEqual(row["ran"] as? String, algorithm, "\(row)", file: file, line: line)
            }
        }

        // Every node sent at least its share of the 4 MB all-reduces through its own link:
        // the traffic between ranks of different nodes really crossed the bridge.
        for node in 1...nodes {
            let sent = try bytesSent(node: node) - sentBefore[node - 1]
            XCTAssertGreaterThan(sent, 4 << 20, "lockstep-node\(node) sent only \(sent) bytes on its link", file: file, line: line)
        }
    }

    // MARK: - Helpers

    private func up(nodes: Int, ranksPerNode: Int, extra: [String] = []) throws {
        let result = runProcess(emulate, ["up", "--nodes", String(nodes), "--ranks-per-node", String(ranksPerNode),
                                          "--dir", clusterDir] + extra, timeout: 120)
        guard result.status == 0 else { throw ClusterError("emulate up failed\n\(result.output)") }
    }

    private struct NetworkState: Equatable, CustomStringConvertible {
        var namespaces: [String]
        var links: [String]
        var description: String { "namespaces \(namespaces), links \(links)" }
    }

    /// The names of the network namespaces and of the root namespace's links.
    private func networkState() throws -> NetworkState {
        let namespaces = try ip(["netns", "list"]).split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        let links = try ip(["-o", "link", "show"]).split(separator: "\n").compactMap { line -> String? in
            let fields = line.components(separatedBy: ": ")
            guard fields.count > 1 else { return nil }
            return fields[1].components(separatedBy: "@")[0]
        }
        return NetworkState(namespaces: namespaces.sorted(), links: links.sorted())
    }

    /// Bytes sent so far on the link of node `node`, as its namespace counts them.
    private func bytesSent(node: Int) throws -> Int {
        let text = try ip(["-n", "lockstep-node\(node)", "-s", "-j", "link", "show", "dev", "lockstep0"])
        guard let links = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]],
              let stats = links.first?["stats64"] as? [String: Any], let tx = stats["tx"] as? [String: Any],
              let bytes = tx["bytes"] as? Int else {
            throw ClusterError("cannot read the output of ip -s -j link: \(text)")
        }
        return bytes
    }

    private func ip(_ arguments: [String]) throws -> String {
        guard let tool = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first(where: {
            FileManager.default.isExecutableFile(atPath: $0)
        }) else {
            throw ClusterError("no ip command: install iproute2")
        }
        let result = runProcess(tool, arguments, timeout: 30)
        guard result.status == 0 else {
            throw ClusterError("ip \(arguments.joined(separator: " ")) failed\n\(result.output)")
        }
        return result.stdout
    }
}
