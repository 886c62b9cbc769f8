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
