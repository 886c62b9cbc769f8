/// Why a run stopped early, with the exit code the CLI returns for it.
public struct TrainingError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public let exitCode: Int32
    /// Whether every rank meets this error alike (it follows from values the ranks agreed on),
    /// or it may be this rank's alone; see the CLI's rule for fatal errors.
    public let sameOnEveryRank: Bool

    /// - Parameter sameOnEveryRank: by default, usage errors, non-finite gradients and ranks
    ///   that disagree, which the ranks find together.
    public init(_ description: String, exitCode: Int32 = ExitCode.failure, sameOnEveryRank: Bool? = nil) {
        self.description = description
        self.exitCode = exitCode
        self.sameOnEveryRank = sameOnEveryRank ?? [ExitCode.usage, ExitCode.nonFinite, ExitCode.mismatch].contains(exitCode)
    }
}

/// Lockstep's exit codes, documented in README.md.
public enum ExitCode {
    public static let success: Int32 = 0
    /// A run failed: I/O, MPI, a bad dataset or checkpoint.
    public static let failure: Int32 = 1
    /// A usage or config error.
    public static let usage: Int32 = 2
    /// The watchdog ended a stalled job.
    public static let stalled: Int32 = 3
    /// A non-finite loss or gradient stopped the run.
    public static let nonFinite: Int32 = 4
    /// Ranks disagree on the config, the model or the binary.
    public static let mismatch: Int32 = 5
    /// SIGTERM or SIGUSR1: a checkpoint was written and the run stopped; resubmit to continue.
    public static let preempted: Int32 = 75
}
