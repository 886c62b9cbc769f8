import ArgumentParser
import Bench
import Checkpoint
import Comm
import CommMPI
import Data
import Foundation
import Host
import Interop
import Reports
import RunConfig
import Train

/// Turns errors into one line on stderr and an exit code (README's table), with one rule for
/// a job of several ranks: whatever the error and whichever rank meets it, the job ends
/// within seconds.
///
/// - An error that every rank meets alike — the ranks agreed on it (a config or start-up error
///   after `StartupAgreement`, a non-finite gradient, ranks that disagree, a checkpoint that does
///   not resume) — is printed once, by rank 0 (or by the failed rank, prefixed with it, after a
///   start-up exchange), and every rank exits normally with its code.
/// - Any other error of a multi-rank job (a failed write on the rank that writes, a failed
///   collective) may be this rank's alone: it prints the message prefixed with its rank and
///   ends the whole job at once with MPI_Abort and the error's code, so that no rank is left
///   waiting in a collective for a peer that has given up.
enum Failure {
    static func report(_ message: String) {
        let line = message.split(separator: "\n").joined(separator: " ")
        FileHandle.standardError.write(Data("lockstep: error: \(line)\n".utf8))
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

    /// An error's one-line message, its exit code, and whether every rank meets it alike.
    static func describe(_ error: Error) -> (message: String, code: Int32, sameOnEveryRank: Bool) {
        switch error {
        case let e as ConfigError: ("config: \(e.description)", ExitCode.usage, true)
        case let e as UsageError: (e.description, ExitCode.usage, true)
        case let e as TrainingError: (e.description, e.exitCode, e.sameOnEveryRank)
        case let e as DataError: ("data: \(e.description)", ExitCode.failure, false)
        case let e as CheckpointError: ("checkpoint: \(e.description)", ExitCode.failure, e.sameOnEveryRank)
        case let e as CommError: ("communication: \(e.description)", ExitCode.failure, false)
        case let e as ReportError: (e.description, e.inRequest ? ExitCode.usage : ExitCode.failure, true)
        case let e as ChildProcessError: (e.description, e.exitCode, true)
        case let e as OutOfMemory: (e.description, ExitCode.failure, false)
        case let e as InteropError: (e.description, ExitCode.failure, true)
        default: ("\(error)", ExitCode.failure, false)
        }
    }

    /// Reports `error` and exits, as the rule above says.
    static func exit(_ error: Error) -> Never {
        let world = World.size
        if let agreed = error as? StartupFailure {
            if let original = agreed.original { report(prefixed(describe(original).message, world: world)) }
            World.finish()
            Foundation.exit(agreed.code)
        }
        let (message, code, sameOnEveryRank) = describe(error)
        if world > 1 && !sameOnEveryRank {
            report(prefixed(message, world: world))
            MPIRuntime.abortWorld(code: code)
        }
        if World.rank == 0 { report(message) }
        World.finish()
        Foundation.exit(code)
    }

    /// "rank 1: …" in a job of several ranks.
    private static func prefixed(_ message: String, world: Int) -> String {
        world > 1 ? "rank \(World.rank): \(message)" : message
    }
}

/// The system had no memory for a tensor: one rank's, since ranks may differ in what they have.
struct OutOfMemory: Error, CustomStringConvertible {
    let bytes: Int
    var description: String {
        bytes == .max ? "out of memory: a tensor's size does not fit in 64 bits"
            : "out of memory: cannot allocate \(NumberText.grouped(bytes >> 20)) MB for a tensor (see the memory limits: ulimit -v, cgroups)"
    }
}

/// A usage error found after parsing, e.g. a bad `--ranks` list.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
