import Foundation
import Host

/// Step time and scaling efficiency projected to worlds larger than one machine: the fitted
/// all-reduce cost model (intra-node α, β per algorithm, γ) and a network's (α, β) between
/// nodes give each gradient bucket's all-reduce time; the step model (StepTimeModel) adds the
/// measured compute phases and the overlap measured on this machine.
///
/// Efficiency is defined as for measured runs: throughput(p) / (p · throughput(1)), with the
/// model's own world-1 step (no communication) as throughput(1).
public struct ScalingProjection: Codable, Equatable, Sendable {
    public struct Row: Codable, Equatable, Sendable {
        public var network: String
        /// ring, rhd, hierarchical, or auto (per bucket, as Lockstep's auto picks).
        public var algorithm: String
        public var ranks: Int
        public var nodes: Int
        public var batchPerRank: Double
        public var parts: StepTimeModel.Parts
        /// The all-reduces' time if every byte were free: the latency (α) terms alone.
        public var latencyMs: Double
        public var samplesPerS: Double
        public var efficiency: Double

        enum CodingKeys: String, CodingKey {
            case network, algorithm, ranks, nodes, batchPerRank = "batch_per_rank", parts, latencyMs = "latency_ms"
            case samplesPerS = "samples_per_s", efficiency
        }
    }

    /// The model at a measured world on this machine, beside the measurement.
    public struct MachineRow: Codable, Equatable, Sendable {
        public var world: Int
        public var algorithm: String
        /// Ranks per core (each phase is stretched by it when above 1).
        public var slowdown: Double
        public var parts: StepTimeModel.Parts
        public var efficiency: Double
        public var measuredStepMs: Double
        public var measuredEfficiency: Double

        enum CodingKeys: String, CodingKey {
            case world, algorithm, slowdown, parts, efficiency, measuredStepMs = "measured_step_ms"
            case measuredEfficiency = "measured_efficiency"
        }
    }

    public static let algorithms = ["ring", "rhd", "hierarchical", "auto"]
    public static let defaultRanks = [8, 16, 32, 64, 128, 256, 512, 1024]

    public var mode: ScalingMode
    public var globalBatch: Int?
    public var ranksPerNode: Int
    public var networks: [NetworkSpec]
    public var ranks: [Int]
    public var baselineWorld: Int
    public var step: StepTimeModel
    /// Measured per-step time not in any phase at the baseline (loop overhead), kept as is.
    public var otherMs: Double
    public var rows: [Row]
    public var thisMachine: [MachineRow]
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case mode, globalBatch = "global_batch", ranksPerNode = "ranks_per_node", networks, ranks
        case baselineWorld = "baseline_world", step, otherMs = "other_ms", rows, thisMachine = "this_machine", notes
    }

    /// Projects `report`'s workload with `fit` over `networks`.
    /// - Parameters:
    ///   - ranksPerNode: nil: this machine's cores.
    ///   - overlap: ω; nil: calibrated on the largest measured multi-rank run within the cores.
    /// - Throws: `ReportError` when the report has no finished run to take the workload from.
    public static func make(report: ScalingReport, fit: CostModelFit, networks: [NetworkSpec], ranksPerNode: Int?,
                            ranks: [Int], overlap: Double?) throws -> ScalingProjection {
        guard let baseWorld = report.baselineWorld, let base = report.okRuns.first(where: { $0.world == baseWorld }),
              let s = base.summary, let baseMetrics = base.metrics else {
            throw ReportError.request("the projection needs at least one finished run to take the compute times and gradient size from")
        }
        let phase = { (run: ScalingRun, name: String) in run.summary?["phase_ms"]?[name]?.double ?? 0 }
        let parameters = Double(s["parameters"]?.int ?? 0)
        let gradient = parameters * 4
        let buckets = StepTimeModel.buckets(gradientBytes: gradient, capBytes: (s["bucket_mb"]?.double ?? 25) * 1_048_576,
                                            count: max(s["buckets"]?.int ?? 1, 1))
        let batch0 = Double(base.batchPerRank * max(s["accumulate"]?.int ?? 1, 1))
        var step = StepTimeModel(dataMs: phase(base, "data"), forwardMs: phase(base, "forward"), backwardMs: phase(base, "backward"),
                                 optimizerMs: phase(base, "optimizer") + phase(base, "agree"), batchPerRank: batch0, bucketBytes: buckets, overlap: 1,
                                 overlapSource: "")
        var notes: [String] = []
        let cores = max(report.machine.cores, 1)

        // ω: given, or measured on the largest multi-rank run that had a core per rank.
        let reference = report.okRuns.filter { $0.world > 1 && !$0.oversubscribed && ($0.metrics?.commMsTotal ?? 0) > 0 }
            .max { $0.world < $1.world }
        if let overlap {
            step.overlap = min(max(overlap, 0), 1)
            step.overlapSource = "given"
        } else if let ref = reference, let m = ref.metrics {
            let scaled = buckets.map { m.commMsTotal * $0 / max(gradient, 1) }
            step.overlap = StepTimeModel.calibrateOverlap(backwardMs: phase(ref, "backward"), bucketBytes: buckets, bucketMs: scaled,
                                                          exposedMs: m.breakdown.exposedComm)
            step.overlapSource = "measured at world \(ref.world): \(fmt(m.commMsTotal)) ms of all-reduce per step, \(fmt(m.breakdown.exposedComm)) ms exposed, backward \(fmt(phase(ref, "backward"))) ms"
        } else {
            step.overlap = 1
            step.overlapSource = "assumed 1: no multi-rank run with a core per rank to measure it"
        }
        let otherMs = baseMetrics.breakdown.other
        let controlBytes = 16.0
        let world1Batch = report.mode == .strong ? Double(report.globalBatch ?? Int(batch0)) : batch0
        let world1 = step.step(batch: world1Batch, bucketSeconds: [], controlSeconds: 0)
        let world1Rate = world1Batch / (world1.stepMs + otherMs)

        func intra(_ a: CostModel.Algorithm) -> CostModel.LinkCost {
            fit.parameters(a).intra ?? fit.joint.intra ?? CostModel.LinkCost(alpha: 0, beta: 0)
        }
        /// Each bucket's time and the latency-only time for `algorithm` ("auto": per bucket).
        func bucketTimes(_ algorithm: String, p: Int, perNode: Int, inter: CostModel.LinkCost?) -> (full: [Double], latency: [Double]) {
            let nodes = (p + perNode - 1) / perNode
            var full: [Double] = [], latency: [Double] = []
            for bytes in buckets {
                let a = CostModel.Algorithm(rawValue: algorithm) ?? CostModel.autoAlgorithm(bytes: bytes, p: p, nodes: nodes)
                let steps = CostModel.steps(a, p: p, perNode: perNode, bytes: bytes)
                let link = intra(a)
                full.append(CostModel.time(steps, bytes: bytes, intra: link, inter: inter, gamma: fit.gamma.at(bytes)))
                let alphaOnly = link.latencyOnly
                latency.append(CostModel.time(steps, bytes: bytes, intra: alphaOnly,
                                              inter: inter?.latencyOnly, gamma: 0))
            }
            return (full, latency)
        }
        func control(p: Int, perNode: Int, inter: CostModel.LinkCost?) -> Double {
            CostModel.time(CostModel.steps(.rhd, p: p, perNode: perNode, bytes: controlBytes), bytes: controlBytes,
                           intra: fit.joint.intra ?? intra(.rhd), inter: inter, gamma: fit.gamma.at(controlBytes))
        }

        let perNode = max(ranksPerNode ?? cores, 1)
        var rows: [Row] = []
        var skippedWorlds = Set<Int>()
        for network in networks {
            for algorithm in algorithms {
                for p in ranks {
                    let b = report.mode == .strong ? Double(report.globalBatch ?? Int(batch0)) / Double(p) : batch0
                    guard b >= 1 else {
                        skippedWorlds.insert(p)
                        continue
                    }
                    let times = bucketTimes(algorithm, p: p, perNode: perNode, inter: network.link)
                    var parts = step.step(batch: b, bucketSeconds: times.full, controlSeconds: control(p: p, perNode: perNode, inter: network.link))
                    parts.stepMs += otherMs
                    let rate = Double(p) * b / parts.stepMs * 1000
                    rows.append(Row(network: network.name, algorithm: algorithm, ranks: p, nodes: (p + perNode - 1) / perNode,
                                    batchPerRank: b, parts: parts, latencyMs: times.latency.reduce(0, +) * 1e3, samplesPerS: rate,
                                    efficiency: (b / parts.stepMs) / world1Rate))
                }
            }
        }
        if !skippedWorlds.isEmpty {
            notes.append("not projected at \(skippedWorlds.sorted().map(String.init).joined(separator: ", ")) ranks: the global batch of \(report.globalBatch ?? 0) leaves less than one sample per rank")
        }

        // The same model on this machine, at the measured worlds.
        var machine: [MachineRow] = []
        for run in report.okRuns {
            guard let m = run.metrics else { continue }
            let nodes = max(run.summary?["nodes"]?.int ?? 1, 1)
            let local = (run.world + nodes - 1) / nodes
            let name = run.summary?["algorithm"]?.string ?? "auto"
            let algorithm = run.world == 1 ? "none" : ["hierarchical", "ring", "rhd"].first { name.hasPrefix($0) } ?? "auto"
            let times = run.world == 1 ? (full: [Double](), latency: [Double]()) : bucketTimes(algorithm, p: run.world, perNode: local, inter: nil)
            let slowdown = max(1, Double(local) / Double(cores))
            var parts = step.step(batch: Double(run.batchPerRank * max(run.summary?["accumulate"]?.int ?? 1, 1)), bucketSeconds: times.full,
                                  controlSeconds: run.world == 1 ? 0 : control(p: run.world, perNode: local, inter: nil), slowdown: slowdown)
            parts.stepMs += otherMs * slowdown
            let b = Double(run.batchPerRank * max(run.summary?["accumulate"]?.int ?? 1, 1))
            machine.append(MachineRow(world: run.world, algorithm: algorithm, slowdown: slowdown, parts: parts,
                                      efficiency: (b / parts.stepMs) / world1Rate, measuredStepMs: m.stepMs,
                                      measuredEfficiency: m.efficiency))
        }
        if report.runs.contains(where: { ($0.summary?["compression"]?.string ?? "none") != "none" }) {
            notes.append("gradient compression is not modeled: the projection sends fp32")
        }
        if baseWorld != 1 {
            notes.append("the compute times come from world \(baseWorld), the smallest that ran")
        }
        return ScalingProjection(mode: report.mode, globalBatch: report.globalBatch, ranksPerNode: perNode, networks: networks,
                                 ranks: ranks, baselineWorld: baseWorld, step: step, otherMs: otherMs, rows: rows,
                                 thisMachine: machine, notes: notes)
    }

    /// The row of `network`, `algorithm` at `ranks`.
    public func row(_ network: String, _ algorithm: String, _ ranks: Int) -> Row? {
        rows.first { $0.network == network && $0.algorithm == algorithm && $0.ranks == ranks }
    }

    static func fmt(_ v: Double) -> String { ReportText.number(v) }
}
