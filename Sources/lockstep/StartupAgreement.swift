import CommMPI
import Crypto
import Foundation
import Host

/// Start-up work whose outcome may differ between ranks — a config or dataset one node lacks,
/// a folder only rank 0 writes to, memory one process may not have — followed by one exchange
/// of the outcomes, so that no rank goes on into a collective that a failed peer will never
/// join.
///
/// 1. Every rank runs the work on its own, before any communicator of Lockstep's exists.
/// 2. One MPI_Allgather on MPI_COMM_WORLD of (exit code, hash of the message): 0 for success.
/// 3. If some rank failed, every rank stops: a failed rank prints its message (prefixed with
///    its rank) unless a lower rank failed with the same text, and every rank exits with the
///    lowest failed rank's code, normally, after MPI_Finalize. Otherwise all go on.
enum StartupAgreement {
    /// Runs `work` on every rank and agrees on its outcome.
    /// - Throws: `StartupFailure` on every rank when any rank's work failed.
    static func run<T>(_ work: () throws -> T) throws -> T {
        let outcome = Result(catching: work)
        guard World.size > 1 else { return try outcome.get() }
        var mine: [Int64] = [0, 0]
        if case let .failure(error) = outcome {
            let (message, code, _) = Failure.describe(error)
            mine = [Int64(code), Int64(bitPattern: hash(message))]
        }
        let all = try MPIRuntime.allGatherWorld(mine)
        let failed = (0..<World.size).filter { all[2 * $0] != 0 }
        guard let first = failed.first else { return try outcome.get() }
        let code = Int32(all[2 * first])
        guard case let .failure(error) = outcome else { throw StartupFailure(original: nil, code: code) }
        let sameEarlier = failed.contains { $0 < World.rank && all[2 * $0] == mine[0] && all[2 * $0 + 1] == mine[1] }
        throw StartupFailure(original: sameEarlier ? nil : error, code: code)
    }

    private static func hash(_ text: String) -> UInt64 {
        SHA256.hash(data: Array(text.utf8)).withUnsafeBytes { $0.load(as: UInt64.self) }
    }
}

/// The ranks agreed at start-up that the job cannot run: `original` is this rank's own error
/// to print, or nil where another rank prints it.
struct StartupFailure: Error {
    let original: Error?
    let code: Int32
}
