import Foundation
import TestSupport
import XCTest

/// The emulated cluster of scripts/cluster/emulate, for the tests that train on it: bring it up
/// and down, run or start jobs on it through scripts/cluster/mpirun-cluster, and find and end
/// the processes inside a node's network namespace.
///
/// Only one emulated cluster exists at a time (the namespaces, links and bridge have fixed
/// names), so `clearLeftovers` first removes what a crashed earlier run left. Everything here
/// needs root, as CI has; `requireRoot` fails (never skips) the test without it.
struct EmulatedCluster {
    static let emulate = Lockstep.path("scripts/cluster/emulate")
    static let mpirunCluster = Lockstep.path("scripts/cluster/mpirun-cluster")

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// The cluster's folder (hostfile, agent, cluster.env).
    let dir: String
    let nodes: Int
    let ranksPerNode: Int
    var ranks: Int { nodes * ranksPerNode }

    /// Fails the test (and throws) when not run as root.
    static func requireRoot(_ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        guard getuid() == 0 else {
            let message = "\(what) needs root: it creates network namespaces, veth links and a bridge "
                + "(scripts/cluster/emulate). Run the tests as root, as CI does."
            XCTFail(message, file: file, line: line)
            throw Failure(message)
        }
    }

    /// `emulate down` by name: whatever an earlier, crashed run left behind.
    static func clearLeftovers() throws {
        let result = runProcess(emulate, ["down"], timeout: 60)
        guard result.status == 0 else { throw Failure("emulate down (leftovers) failed\n\(result.output)") }
    }

    /// `emulate up --nodes N --ranks-per-node R --dir DIR extra…`.
    static func up(nodes: Int, ranksPerNode: Int, dir: String, extra: [String] = []) throws -> EmulatedCluster {
        let result = runProcess(emulate, ["up", "--nodes", String(nodes), "--ranks-per-node", String(ranksPerNode),
                                          "--dir", dir] + extra, timeout: 120)
        guard result.status == 0 else { throw Failure("emulate up failed\n\(result.output)") }
        return EmulatedCluster(dir: dir, nodes: nodes, ranksPerNode: ranksPerNode)
    }

    /// A test's own cluster: root checked, an earlier run's leftovers cleared, then `up`.
    static func upForTest(_ what: String, nodes: Int, ranksPerNode: Int, dir: String) throws -> EmulatedCluster {
        try requireRoot(what)
        try clearLeftovers()
        return try up(nodes: nodes, ranksPerNode: ranksPerNode, dir: dir)
    }

    /// A tearDown's `emulate down`: of the test's cluster, or by name when the test failed
    /// before `up` returned; nil when not root (nothing was brought up).
    static func downAfterTest(_ cluster: EmulatedCluster?) -> ProcessResult? {
        guard getuid() == 0 else { return nil }
        return cluster?.down() ?? runProcess(emulate, ["down"], timeout: 60)
    }

    /// `emulate down --dir DIR`: ends what still runs in the nodes, removes namespaces, links, bridge and files.
    func down() -> ProcessResult { runProcess(Self.emulate, ["down", "--dir", dir], timeout: 60) }

    /// The arguments of mpirun-cluster for `lockstep arguments…` on every rank.
    func launch(_ arguments: [String], mpiArguments: [String] = []) -> [String] {
        [dir, "-np", String(ranks)] + mpiArguments + [Lockstep.binary] + arguments
    }

    /// Runs `lockstep arguments…` on all ranks of the cluster and waits for it.
    func mpirun(_ arguments: [String], mpiArguments: [String] = [], timeout: Double = 300) -> ProcessResult {
        runProcess(Self.mpirunCluster, launch(arguments, mpiArguments: mpiArguments), environment: Lockstep.environment,
                   currentDirectory: Lockstep.root, timeout: timeout)
    }

    /// Starts `lockstep arguments…` on all ranks without waiting; its output goes to files in `logDir`.
    func start(_ arguments: [String], logDir: String) throws -> ClusterJob {
        try ClusterJob(Self.mpirunCluster, launch(arguments), logDir: logDir)
    }

    /// The pids in node `node`'s network namespace (`ip netns pids lockstep-nodeN`).
    static func pids(node: Int) -> [Int32] {
        guard let tool = try? ipTool() else { return [] }
        let result = runProcess(tool, ["netns", "pids", "lockstep-node\(node)"], timeout: 30)
        return result.stdout.split(separator: "\n").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// The names (comm) of the processes in node `node`'s namespace, sorted.
    static func processNames(node: Int) -> [String] {
        pids(node: node).compactMap { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }.sorted()
    }

    /// `ip arguments…`, throwing with its output when it fails.
    @discardableResult
    static func ip(_ arguments: [String]) throws -> String {
        let result = runProcess(try ipTool(), arguments, timeout: 30)
        guard result.status == 0 else { throw Failure("ip \(arguments.joined(separator: " ")) failed\n\(result.output)") }
        return result.stdout
    }

    private static func ipTool() throws -> String {
        guard let tool = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first(where: {
            FileManager.default.isExecutableFile(atPath: $0)
        }) else { throw Failure("no ip command: install iproute2") }
        return tool
    }

    /// The `lockstep` rank processes among `pids`, by world rank.
    static func ranks(among pids: [Int32]) -> [Int: Int32] {
        var ranks: [Int: Int32] = [:]
        for pid in pids where ProcessTable.commandLine(of: pid).first == Lockstep.binary {
            if let rank = ProcessTable.environment(of: pid, "OMPI_COMM_WORLD_RANK").flatMap(Int.init) { ranks[rank] = pid }
        }
        return ranks
    }
}

/// A job started on the emulated cluster, its stdout and stderr written to files so that a test
/// can read them while it runs (a pipe is read only at the end). Open MPI's daemon on every other
/// node daemonizes (its parent is init, it has a session of its own), and each rank has a process
/// group of its own, so neither the process tree nor mpirun's process group holds the whole job:
/// `killEverything` also ends every process inside the nodes' namespaces.
final class ClusterJob: @unchecked Sendable {
    let process: Process
    let stdoutPath: String
    let stderrPath: String
    let started = Date()

    init(_ executable: String, _ arguments: [String], logDir: String) throws {
        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)
        stdoutPath = logDir + "/job.out"
        stderrPath = logDir + "/job.err"
        for path in [stdoutPath, stderrPath] {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw EmulatedCluster.Failure("cannot create \(path)")
            }
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(Lockstep.environment) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: Lockstep.root)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    var output: String { "--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }

    /// Waits up to `timeout` seconds for the job to end; true if it did. It never kills.
    func waitForExit(timeout: Double) -> Bool {
        Lockstep.waitUntil(timeout: timeout) { !process.isRunning }
    }

    /// mpirun's exit status, once it has ended.
    var status: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// SIGKILL to mpirun's process group, to its descendants, and to every process inside the
    /// cluster's node namespaces (where the other nodes' daemons and all ranks are); then waits
    /// up to `timeout` seconds for mpirun to be reaped. Returns whether it was.
    @discardableResult
    func killEverything(nodes: Int, timeout: Double = 15) -> Bool {
        if let group = processGroup, group > 1, group != getpgrp() { kill(-group, SIGKILL) }
        for child in ProcessTable.descendants(of: pid).reversed() { kill(child, SIGKILL) }
        kill(pid, SIGKILL)
        return Lockstep.waitUntil(timeout: timeout) {
            for node in 1...nodes {
                for p in EmulatedCluster.pids(node: node) { kill(p, SIGKILL) }
            }
            return !process.isRunning
        }
    }

    /// mpirun's process group (field 5 of /proc/PID/stat), while it exists.
    var processGroup: Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 ? Int32(fields[2]) : nil
    }
}

/// "12.34 s".
func secondsText(_ seconds: Double) -> String { String(format: "%.2f s", seconds) }
