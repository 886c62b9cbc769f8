import Foundation
import Synchronization

/// Runs another program to completion as a child process, with its stdout and stderr in
/// files (a chatty child never blocks on a full pipe), a deadline, and the lines of its
/// stderr that say why it failed.
///
/// A child runs in its own process group, so Ctrl-C at the terminal does not reach it: after
/// `stopOnInterrupt()`, SIGINT, SIGTERM or SIGHUP stop the running child (mpirun passes the
/// SIGTERM on to its ranks) and make `run` throw, instead of leaving it running.
public enum ChildProcess {
    private static let interruption = Atomic<Int32>(0)

    /// From now on SIGINT, SIGTERM and SIGHUP stop the running child and end `run` with an error.
    public static func stopOnInterrupt() {
        for signo in [SIGINT, SIGTERM, SIGHUP] {
            signal(signo) { number in ChildProcess.interruption.store(number, ordering: .relaxed) }
        }
    }
    /// How a child ended.
    public struct Outcome: Sendable {
        /// The exit status, or 128 + the signal that ended it.
        public var exitCode: Int32
        public var seconds: Double
        /// Whether it was stopped at its deadline.
        public var timedOut: Bool
        public var stdoutPath: String
        public var stderrPath: String

        /// The lines of stderr that say what went wrong (see `ChildProcess.tail(of:lines:)`).
        public func stderrTail(lines: Int = 4) -> [String] {
            let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            return ChildProcess.tail(of: text, lines: lines)
        }
    }

    /// Runs `arguments` (the first an absolute path) with `environment` added to this
    /// process's, writing its output to `stdoutPath` and `stderrPath`. After `timeout`
    /// seconds it gets SIGTERM (mpirun passes it on to the ranks), 10 s later SIGKILL.
    /// - Throws: `ChildProcessError` if it cannot be started or its output files cannot be made,
    ///   or if an interrupt arrived (see `stopOnInterrupt`); the child is stopped first.
    public static func run(_ arguments: [String], environment: [String: String], stdoutPath: String, stderrPath: String,
                           timeout: Double) throws -> Outcome {
        try checkInterruption()
        let fm = FileManager.default
        guard fm.createFile(atPath: stdoutPath, contents: nil), fm.createFile(atPath: stderrPath, contents: nil),
              let out = FileHandle(forWritingAtPath: stdoutPath), let err = FileHandle(forWritingAtPath: stderrPath) else {
            throw ChildProcessError("cannot create \(stdoutPath) and \(stderrPath) for a child's output")
        }
        defer {
            try? out.close()
            try? err.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let start = Date()
        do {
            try process.run()
        } catch {
            throw ChildProcessError("cannot start \(arguments[0]): \((error as NSError).localizedDescription)")
        }
        /// SIGTERM, then after 10 s SIGKILL.
        func stop() {
            process.terminate()
            let grace = Date().addingTimeInterval(10)
            while process.isRunning && Date() < grace { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        var timedOut = false
        while process.isRunning {
            if interruption.load(ordering: .relaxed) != 0 {
                stop()
                try checkInterruption()
            }
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                stop()
                break
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        let code = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Outcome(exitCode: code, seconds: Date().timeIntervalSince(start), timedOut: timedOut,
                       stdoutPath: stdoutPath, stderrPath: stderrPath)
    }

    /// - Throws: `ChildProcessError` (with the signal) if an interrupt arrived.
    private static func checkInterruption() throws(ChildProcessError) {
        let signo = interruption.load(ordering: .relaxed)
        guard signo != 0 else { return }
        let name = signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : signo == SIGHUP ? "SIGHUP" : "signal \(signo)"
        throw ChildProcessError("interrupted by \(name); the running child was stopped", signal: signo)
    }

    /// The telling lines of `text` (a child's stderr): the child's own first error line
    /// (`…: error: …`, a Swift fatal error, else its last Python exception), then its last
    /// `lines` lines, each once and at most 300 characters. mpirun's notices (the blocks
    /// between rules of dashes) only count when the child wrote nothing else.
    static func tail(of text: String, lines: Int) -> [String] {
        var own: [String] = [], notices: [String] = [], inNotice = false
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = String(raw.trimmingCharacters(in: .whitespaces).prefix(300))
            if line.count >= 10 && line.allSatisfy({ $0 == "-" }) {
                inNotice.toggle()
            } else if !line.isEmpty {
                if inNotice { notices.append(line) } else { own.append(line) }
            }
        }
        guard !own.isEmpty else { return Array(notices.suffix(lines + 2)) }
        let telling = own.first { $0.contains("error:") || $0.contains("Fatal error") }
            ?? own.last { $0.range(of: #"^[A-Za-z_.]*(Error|Exception)\b"#, options: .regularExpression) != nil }
        var kept: [String] = []
        for line in (telling.map { [$0] } ?? []) + own.suffix(lines) where !kept.contains(line) { kept.append(line) }
        return kept
    }
}

/// A child process that could not run, or an interrupt that stopped it.
public struct ChildProcessError: Error, Equatable, CustomStringConvertible {
    public let description: String
    /// The signal that interrupted this program, if one did.
    public let signal: Int32?

    /// What this program exits with: 128 + the signal that interrupted it, else 1.
    public var exitCode: Int32 { signal.map { 128 + $0 } ?? 1 }

    public init(_ description: String, signal: Int32? = nil) {
        self.description = description
        self.signal = signal
    }
}
