import Foundation
import Host
import Train

/// A scaling study as `lockstep scale` writes it to DIR/report.json: how it was run, on what
/// machine, every run's summary with the derived metrics, and optionally the all-reduce cost
/// model fitted on a benchmark with its projection to larger worlds. `lockstep report DIR`
/// renders report.md and the charts from this file alone.
public struct ScalingReport: Codable, Equatable, Sendable {
    public static let currentFormat = "lockstep-scaling-report/1"

    public var format: String
    public var lockstepVersion: String
    /// When the study started (UTC, ISO 8601).
    public var created: String
    /// The config path as given.
    public var config: String
    public var model: String?
    public var configHash: String?
    public var mode: ScalingMode
    public var launcher: ScalingPlan.Launcher
    public var launcherArguments: [String]
    /// --set overrides given to every run.
    public var overrides: [String]
    /// World sizes asked for.
    public var ranks: [Int]
    /// Strong scaling's fixed global batch.
    public var globalBatch: Int?
    /// The world efficiencies are relative to: the smallest that ran.
    public var baselineWorld: Int?
    public var machine: MachineInfo
    public var runs: [ScalingRun]
    /// The all-reduce cost model, fitted on `lockstep bench allreduce` measurements.
    public var costModel: CostModelFit?
    /// Step time and efficiency projected to larger worlds with the cost model.
    public var projection: ScalingProjection?

    enum CodingKeys: String, CodingKey {
        case format, lockstepVersion = "lockstep_version", created, config, model, configHash = "config_hash", mode, launcher
        case launcherArguments = "launcher_arguments", overrides, ranks, globalBatch = "global_batch"
        case baselineWorld = "baseline_world", machine, runs, costModel = "cost_model", projection
    }

    public init(config: String, mode: ScalingMode, launcher: ScalingPlan.Launcher, launcherArguments: [String],
                overrides: [String], plan: ScalingPlan, machine: MachineInfo, created: Date = Date()) {
        format = Self.currentFormat
        lockstepVersion = Lockstep.version
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        self.created = formatter.string(from: created)
        self.config = config
        self.mode = mode
        self.launcher = launcher
        self.launcherArguments = launcherArguments
        self.overrides = overrides
        ranks = plan.ranks
        globalBatch = plan.globalBatch
        self.machine = machine
        runs = plan.launches.map { ScalingRun(world: $0.world, batchPerRank: $0.batchPerRank, oversubscribed: $0.oversubscribed,
                                              command: $0.arguments) }
    }

    /// Recomputes everything derived from the runs: metrics, baseline, model name, config hash.
    public mutating func refresh() {
        baselineWorld = ScalingMetrics.derive(&runs, cores: machine.cores)
        let first = runs.first { $0.status == .ok }?.summary
        model = first?["model"]?.string ?? model
        configHash = first?["config_hash"]?.string ?? configHash
    }

    /// The runs that finished, by world.
    public var okRuns: [ScalingRun] { runs.filter { $0.status == .ok && $0.metrics != nil } }

    /// Pretty JSON with sorted keys: the same report gives the same bytes.
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return ((try? encoder.encode(self)) ?? Data()) + Data("\n".utf8)
    }

    /// Reads DIR/report.json.
    /// - Throws: `ReportError`: a request error if it does not exist, a failure if it cannot be read.
    public static func load(directory: String) throws(ReportError) -> ScalingReport {
        let path = directory + "/report.json"
        guard FileManager.default.fileExists(atPath: path) else {
            throw .request("\(path): no such file (lockstep scale --out \(directory) writes it)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw .failure("\(path): cannot read it") }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            let report = try decoder.decode(ScalingReport.self, from: data)
            guard report.format.hasPrefix("lockstep-scaling-report/") else {
                throw ReportError.failure("\(path): not a Lockstep scaling report (format \(report.format))")
            }
            return report
        } catch let error as ReportError {
            throw error
        } catch {
            throw .failure("\(path): not a readable scaling report: \(JSONProblem.describe(error))")
        }
    }
}
