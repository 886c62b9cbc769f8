import Foundation

/// A process started without waiting for it, for tests that act on a running job (signals,
/// killing a rank): its output is drained in the background, and `wait` collects the result.
public final class BackgroundProcess: @unchecked Sendable {
    public let process: Process
    private let out: OutputCollector
    private let err: OutputCollector
    private let start = Date()

    /// Starts `executable arguments…`. - Throws: if it cannot be started.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                currentDirectory: String? = nil) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        out = OutputCollector(outPipe.fileHandleForReading)
        err = OutputCollector(errPipe.fileHandleForReading)
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Waits until the process ends or `timeout` seconds have passed since the call; at the
    /// deadline it kills the process and its descendants. `seconds` counts from the start.
    public func wait(timeout: Double) -> ProcessResult {
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                killTree(SIGKILL)
                break
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, stdoutBytes: out.bytes(), stderr: err.text(), timedOut: timedOut,
                             seconds: Date().timeIntervalSince(start))
    }

    /// Sends `signal` to the process and all its descendants (descendants first).
    public func killTree(_ signal: Int32) {
        for child in ProcessTable.descendants(of: pid).reversed() { kill(child, signal) }
        kill(pid, signal)
    }
}

/// What /proc tells about processes.
public enum ProcessTable {
    /// The parent pid of `pid`, from /proc/PID/stat (nil if it is gone).
    public static func parent(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm) ": state, ppid, …
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// Whether `pid` exists and is not a zombie.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first ?? ""
        return state != "Z" && state != "X"
    }

    /// All pids currently in /proc.
    public static func all() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    }

    /// The children of `pid`.
    public static func children(of pid: Int32) -> [Int32] {
        all().filter { parent(of: $0) == pid }.sorted()
    }

    /// Children, grandchildren, … of `pid`, parents before their children.
    public static func descendants(of pid: Int32) -> [Int32] {
        var result: [Int32] = []
        var frontier = [pid]
        let table = all().map { ($0, parent(of: $0)) }
        while let next = frontier.first {
            frontier.removeFirst()
            let kids = table.filter { $0.1 == next }.map(\.0).sorted()
            result += kids
            frontier += kids
        }
        return result
    }

    /// The NUL-separated command line of `pid`.
    public static func commandLine(of pid: Int32) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The environment variable `name` of `pid` (readable as root or as its owner).
    public static func environment(of pid: Int32, _ name: String) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
        for entry in data.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            if text.hasPrefix(name + "=") { return String(text.dropFirst(name.count + 1)) }
        }
        return nil
    }
}

extension Lockstep {
    /// Starts `lockstep arguments…` as `ranks` ranks under `mpirun --oversubscribe`, without waiting.
    public static func startMPI(_ ranks: Int, _ arguments: [String], environment extra: [String: String] = [:]) throws
        -> BackgroundProcess {
        try BackgroundProcess("/usr/bin/mpirun", ["--oversubscribe", "-np", String(ranks), binary] + arguments,
                              environment: environment.merging(extra) { $1 }, currentDirectory: root)
    }

    /// The rank processes (the `lockstep` binary) under a running mpirun, by world rank.
    public static func rankProcesses(of mpirun: BackgroundProcess) -> [Int: Int32] {
        var ranks: [Int: Int32] = [:]
        for pid in ProcessTable.descendants(of: mpirun.pid) where ProcessTable.commandLine(of: pid).first == binary {
            if let rank = ProcessTable.environment(of: pid, "OMPI_COMM_WORLD_RANK").flatMap(Int.init) { ranks[rank] = pid }
        }
        return ranks
    }

    /// Polls `condition` every 20 ms until it holds (true) or `timeout` seconds pass (false).
    public static func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}
