import Foundation
import Host
import Train

/// The JSON `lockstep bench compare` writes: what was compared and how, the machine, every
/// raw run in launch order, and the medians, ratios and scaling efficiencies made of them
/// (see `ComparisonStatistics`), with the printed table. It is rewritten after each run, so
/// an interrupted comparison keeps what it measured (`complete` is false until the end).
public struct ComparisonReport: Codable, Sendable {
    public var config: String
    public var model: String
    public var batchPerRank: Int
    public var worlds: [Int]
    public var repeats: Int
    /// Timed steps per throughput run, and the untimed steps before them.
    public var steps: Int
    public var warmupSteps: Int
    public var target: ComparisonPlan.Target?
    public var quick: Bool
    public var lockstepVersion: String
    public var torchVersion: String
    public var python: String
    public var reference: String
    public var machine: MachineInfo
    /// ISO 8601, UTC.
    public var startedAt: String
    public var complete: Bool
    /// Runs the plan holds; `runs` has them all once complete.
    public var plannedRuns: Int
    public var runs: [ComparisonRun]
    public var medians: [ComparisonStatistics.Row]
    public var scaling: [ComparisonStatistics.Scaling]
    public var table: String

    enum CodingKeys: String, CodingKey {
        case config, model, batchPerRank = "batch_per_rank", worlds, repeats = "repeat", steps, warmupSteps = "warmup_steps"
        case target, quick, lockstepVersion = "lockstep_version", torchVersion = "torch_version", python, reference, machine
        case startedAt = "started_at", complete, plannedRuns = "planned_runs", runs, medians, scaling, table
    }

    public init(config: String, model: String, batchPerRank: Int, plan: ComparisonPlan, quick: Bool, torchVersion: String,
                python: String, reference: String, machine: MachineInfo) {
        self.config = config
        self.model = model
        self.batchPerRank = batchPerRank
        worlds = plan.worlds
        repeats = plan.repeats
        steps = plan.steps
        warmupSteps = plan.warmupSteps
        target = plan.target
        self.quick = quick
        lockstepVersion = Lockstep.version
        self.torchVersion = torchVersion
        self.python = python
        self.reference = reference
        self.machine = machine
        startedAt = ISO8601DateFormatter().string(from: Date())
        complete = false
        plannedRuns = plan.launches.count
        runs = []
        medians = []
        scaling = []
        table = ""
        refresh()
    }

    /// Recomputes the medians, scaling efficiencies and table from `runs`.
    public mutating func refresh() {
        medians = ComparisonStatistics.rows(runs, worlds: worlds)
        scaling = ComparisonStatistics.scaling(medians)
        table = ComparisonTable.render(self)
    }

    /// The report as pretty JSON with sorted keys.
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return (try? encoder.encode(self)) ?? Data()
    }
}
