import ArgumentParser
import Bench
import Checkpoint
import Comm
import CommMPI
import Data
import Foundation
import Host
import Reports
import RunConfig
import Train

/// Turns errors into one line on stderr and an exit code (README's table).
enum Failure {
    static func report(_ message: String, usage: Bool = false) {
        let line = message.split(separator: "\n").joined(separator: " ")
        FileHandle.standardError.write(Data("lockstep: error: \(line)\n".utf8))
        if usage { FileHandle.standardError.write(Data("lockstep: see 'lockstep --help'\n".utf8)) }
    }

    /// A usage error: one `lockstep: error:` line, then `hint` (how to use the command) as it is.
    static func reportUsage(_ message: String, hint: String) {
        let line = message.split(separator: "\n").joined(separator: " ")
        let rest = hint.isEmpty || hint.hasSuffix("\n") ? hint : hint + "\n"
        FileHandle.standardError.write(Data("lockstep: error: \(line)\n\(rest)".utf8))
    }

    /// An argument parser's error, given as its full message ("Error: …", then help and usage
    /// lines): the error on the `lockstep: error:` line, the rest below it.
    static func reportParseError(_ fullMessage: String) {
        var lines = fullMessage.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
        guard !lines.isEmpty else { return reportUsage("invalid arguments", hint: "lockstep: see 'lockstep --help'") }
        var first = lines.removeFirst()
        if first.hasPrefix("Error: ") { first.removeFirst("Error: ".count) }
        reportUsage(first, hint: lines.joined(separator: "\n"))
    }

    /// Reports `error` and exits. Errors every rank meets alike (a bad config) are printed by
    /// rank 0 and end each rank normally; an error of one rank ends the whole job.
    static func exit(_ error: Error) -> Never {
        let (message, code, everyRank): (String, Int32, Bool) = switch error {
        case let e as ConfigError: ("config: \(e.description)", ExitCode.usage, true)
        case let e as UsageError: (e.description, ExitCode.usage, true)
        case let e as TrainingError: (e.description, e.exitCode, [ExitCode.usage, ExitCode.nonFinite, ExitCode.mismatch].contains(e.exitCode))
        case let e as DataError: ("data: \(e.description)", ExitCode.failure, true)
        case let e as CheckpointError: ("checkpoint: \(e.description)", ExitCode.failure, true)
        case let e as CommError: ("communication: \(e.description)", ExitCode.failure, false)
        case let e as ReportError: (e.description, e.inRequest ? ExitCode.usage : ExitCode.failure, true)
        case let e as ChildProcessError: (e.description, e.exitCode, true)
        default: ("\(error)", ExitCode.failure, false)
        }
        if !MPIRuntime.isInitialized || World.rank == 0 || !everyRank { report(message) }
        if MPIRuntime.isInitialized && !everyRank { MPIRuntime.abortWorld(code: code) }
        World.finish()
        Foundation.exit(code)
    }
}

/// A usage error found after parsing, e.g. a bad `--ranks` list.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
