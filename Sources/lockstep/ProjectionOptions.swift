import ArgumentParser
import Bench
import Checkpoint
import Foundation
import Host
import Reports
import RunConfig
import Train

/// The cost-model options shared by `scale`, `report` and `cost-model`: the all-reduce
/// benchmark files to fit, and the cluster to project to.
struct ProjectionOptions: ParsableArguments {
    @Option(name: .customLong("bench"),
            help: ArgumentHelp("A `lockstep bench allreduce --json` file to fit the all-reduce cost model on (repeatable: the median of each point is fitted).",
                               valueName: "file"))
    var bench: [String] = []

    @Option(name: .customLong("network"),
            help: ArgumentHelp("A network to project to: \(NetworkSpec.presets.map(\.name).joined(separator: ", ")), or NAME:GBPS:LATENCY_US (repeatable; default \(NetworkSpec.defaultNames.joined(separator: " and "))).",
                               valueName: "spec"))
    var networks: [String] = []

    @Option(help: "Ranks per node in the projection (default: this machine's cores).")
    var ranksPerNode: Int?

    @Option(help: "World sizes to project to, comma separated (default 8,16,…,1024).")
    var projectRanks: String?

    @Option(help: "Overlap efficiency ω in [0, 1] (default: measured on the largest multi-rank run within the cores).")
    var overlap: Double?

    @Option(name: .customLong("gamma-ns-per-byte"), help: "γ, the reduction time per byte (default: measured here, in cache).")
    var gamma: Double?

    @Option(help: "Cache capacities the fit may place in β(n), 0 to 3.")
    var maxCapacities = 3

    @Flag(help: "Fit one α for all message sizes (no eager limit).")
    var oneAlpha = false

    /// Whether any projection setting was given (so `report` recomputes the projection).
    var anyGiven: Bool {
        !bench.isEmpty || !networks.isEmpty || ranksPerNode != nil || projectRanks != nil || overlap != nil || gamma != nil
    }

    func validated() throws {
        if let ranksPerNode, ranksPerNode < 1 { throw UsageError("--ranks-per-node must be positive, got \(ranksPerNode)") }
        if let overlap, !(0...1).contains(overlap) { throw UsageError("--overlap must be between 0 and 1, got \(overlap)") }
        if let gamma, !(gamma >= 0) { throw UsageError("--gamma-ns-per-byte must be 0 or more, got \(gamma)") }
        if !(0...3).contains(maxCapacities) { throw UsageError("--max-capacities must be 0, 1, 2 or 3, got \(maxCapacities)") }
        _ = try networkSpecs()
        _ = try ranks()
    }

    func networkSpecs() throws -> [NetworkSpec] {
        do {
            let names = networks.isEmpty ? NetworkSpec.defaultNames : networks.flatMap { $0.split(separator: ",").map(String.init) }
            return try names.map { try NetworkSpec.parse($0) }
        } catch let e as ReportError {
            throw UsageError("--network \(e.description)")
        }
    }

    func ranks() throws -> [Int] {
        guard let projectRanks else { return ScalingProjection.defaultRanks }
        return try RankList.parse(projectRanks, option: "--project-ranks")
    }

    /// The benchmark files fitted, or nil without --bench.
    func fit(print: Bool) throws -> CostModelFit? {
        guard !bench.isEmpty else { return nil }
        var reports: [(path: String, report: AllReduceBenchmark.Report)] = []
        for path in bench {
            switch Result(catching: { () throws(ReportError) in try CostModelFit.loadBench(path) }) {
            case let .success(report): reports.append((path, report))
            case let .failure(error) where error.inRequest: throw UsageError("--bench \(error.description)")
            case let .failure(error): throw error
            }
        }
        let gammaCost: ReductionCost
        if let gamma {
            gammaCost = ReductionCost(constant: gamma * 1e-9, source: "given (--gamma-ns-per-byte \(gamma))")
        } else {
            if print { Console.line("measuring γ (a streaming fp32 add in cache)…") }
            gammaCost = ReductionCost.measureInCache()
        }
        return try CostModelFit.fit(reports, gamma: gammaCost, maxCapacities: maxCapacities, splitLatency: !oneAlpha)
    }
}

/// Comma-separated positive integers, e.g. --ranks 1,2,4,8.
enum RankList {
    static func parse(_ text: String, option: String) throws -> [Int] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = items.map { Int($0) }
        guard !items.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw UsageError("\(option) \(text): expected positive whole numbers separated by commas, e.g. 1,2,4,8")
        }
        return Array(Set(values.map { $0! })).sorted()
    }
}
