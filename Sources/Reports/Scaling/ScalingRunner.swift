import Foundation
import Host

/// Runs one launch of a scaling study as a child process (mpirun or srun, which start the
/// ranks), with its stdout and stderr in files beside its summary, and turns how it ended
/// into the run's record: ok with the summary, or failed with the exit code, a one-line
/// reason and the tail of stderr.
public enum ScalingRunner {
    /// Lines of stderr kept in the report for a failed run.
    public static let tailLines = 12

    public static func run(_ launch: ScalingPlan.Launch, timeoutSeconds: Double) -> ScalingRun {
        var run = ScalingRun(world: launch.world, batchPerRank: launch.batchPerRank, oversubscribed: launch.oversubscribed,
                             command: launch.arguments)
        let fm = FileManager.default
        for stale in [launch.summaryPath, launch.stdoutPath, launch.stderrPath] + (launch.timelinePath.map { [$0] } ?? []) {
            try? fm.removeItem(atPath: stale)
        }
        guard let executable = ExternalCommand.find(launch.arguments[0]) else {
            run.status = .failed
            run.exitCode = 127
            run.failure = "\(launch.arguments[0]) not found on PATH"
            return run
        }
        _ = fm.createFile(atPath: launch.stdoutPath, contents: nil)
        _ = fm.createFile(atPath: launch.stderrPath, contents: nil)
        guard let out = FileHandle(forWritingAtPath: launch.stdoutPath), let err = FileHandle(forWritingAtPath: launch.stderrPath) else {
            run.status = .failed
            run.failure = "cannot write \(launch.stdoutPath)"
            return run
        }
        defer {
            try? out.close()
            try? err.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(launch.arguments.dropFirst())
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        run.loadAverage = loadAverage()
        let start = Date()
        do {
            try process.run()
        } catch {
            run.status = .failed
            run.exitCode = 127
            run.failure = "cannot start \(executable): \(error.localizedDescription)"
            return run
        }
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(start) > timeoutSeconds {
                timedOut = true
                process.terminate()  // SIGTERM: mpirun and srun pass it on to the ranks
                let grace = Date().addingTimeInterval(10)
                while process.isRunning && Date() < grace { usleep(50_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        run.seconds = Date().timeIntervalSince(start)
        let code = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        run.exitCode = code
        let stderrLines = (try? String(contentsOfFile: launch.stderrPath, encoding: .utf8))
            .map { $0.split(separator: "\n").map { String(plain($0).prefix(400)) }.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty } } ?? []
        let errorLine = stderrLines.first { $0.hasPrefix("lockstep: error:") }
        let crash = stderrLines.first { $0.contains("Fatal error:") || $0.contains("Program crashed") }
        if timedOut {
            run.status = .failed
            run.failure = "timed out after \(Int(timeoutSeconds)) s and was stopped"
        } else if code != 0 {
            run.status = .failed
            run.failure = "exit \(code)" + (errorLine.map { ": " + $0 } ?? "")
                + (crash.map { (errorLine == nil ? ": " : "; then it crashed: ") + $0.trimmingCharacters(in: .whitespaces) } ?? "")
        } else if let data = fm.contents(atPath: launch.summaryPath) {
            if let summary = try? JSONDecoder().decode(JSONValue.self, from: data) {
                run.status = .ok
                run.summary = summary
            } else {
                run.status = .failed
                run.failure = "\(launch.summaryPath) is not JSON"
            }
        } else {
            run.status = .failed
            run.failure = "exit 0 but no summary at \(launch.summaryPath)"
        }
        if run.status == .failed { run.stderrTail = tail(stderrLines) }
        return run
    }

    /// What of a failed run's stderr the report keeps: the lines that say what went wrong
    /// (Lockstep's error line, a crash, mpirun's verdict), then the last few lines, at most
    /// `tailLines` in all. A crash's register dump would otherwise fill the tail.
    static func tail(_ lines: [String]) -> [String] {
        let markers = ["lockstep: error:", "lockstep:", "Fatal error:", "Program crashed", "exited on signal", "non-zero exit code",
                       "Killed", "Segmentation fault", "srun: error", "ORTE", "PMIx"]
        var kept: [String] = [], seen = Set<String>()
        /// Lines that differ only in addresses (one per rank) count once.
        func key(_ line: String) -> String {
            line.replacingOccurrences(of: #"0x[0-9a-fA-F]+"#, with: "0x…", options: .regularExpression)
        }
        for line in lines where markers.contains(where: { line.contains($0) }) && kept.count < tailLines - 4 {
            if seen.insert(key(line)).inserted { kept.append(line) }
        }
        for line in lines.suffix(4) where seen.insert(key(line)).inserted { kept.append(line) }
        return Array(kept.prefix(tailLines))
    }

    /// The 1-minute load average (/proc/loadavg), if readable.
    public static func loadAverage() -> Double? {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.flatMap { Double($0) }
    }

    /// `line` without terminal colour codes (ESC [ … m).
    static func plain<S: StringProtocol>(_ line: S) -> String {
        var out = ""
        var escape = false
        for c in line {
            if escape {
                if c.isLetter { escape = false }
            } else if c == "\u{1B}" {
                escape = true
            } else {
                out.append(c)
            }
        }
        return out
    }
}
