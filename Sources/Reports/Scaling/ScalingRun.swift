import Host

/// One world size of a scaling study: how it was launched, how it ended, its run summary as
/// `lockstep train --summary` wrote it, and the metrics derived from it.
public struct ScalingRun: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable {
        /// Finished with exit 0 and a summary.
        case ok
        /// Ended with a non-zero exit, by timeout, or without a summary.
        case failed
        /// Not run (yet): the study was interrupted before it.
        case pending
    }

    public var world: Int
    public var batchPerRank: Int
    public var oversubscribed: Bool
    public var status: Status
    /// The launcher's exit status (nil while pending).
    public var exitCode: Int32?
    /// Why the run failed, in one line.
    public var failure: String?
    /// The last lines the run wrote to stderr (failed runs only).
    public var stderrTail: [String]?
    public var seconds: Double?
    /// The machine's 1-minute load average when the run started (other work competing for the cores).
    public var loadAverage: Double?
    /// The command line, as run.
    public var command: [String]
    public var summary: JSONValue?
    /// Derived from the summaries; nil unless ok.
    public var metrics: ScalingMetrics?

    public init(world: Int, batchPerRank: Int, oversubscribed: Bool, command: [String]) {
        self.world = world
        self.batchPerRank = batchPerRank
        self.oversubscribed = oversubscribed
        self.status = .pending
        self.command = command
    }

    enum CodingKeys: String, CodingKey {
        case world, batchPerRank = "batch_per_rank", oversubscribed, status, exitCode = "exit_code", failure
        case stderrTail = "stderr_tail", seconds, loadAverage = "load_average", command, summary, metrics
    }
}
