import Host

/// What the scaling report derives from one run's summary, against the study's baseline (the
/// smallest world that ran, normally 1).
///
/// - throughput T(k): the summary's samples_per_s, global samples per second over the timed
///   steps (the first 3 are warm-up and excluded when a run has more than 20 steps).
/// - speedup S(k) = T(k) / T(b), with b the baseline world. Under strong scaling every step
///   processes the same global batch, so this is also time per step at b over time per step
///   at k; under weak scaling it is the rate at which samples are processed (scaled speedup).
/// - efficiency E(k) = S(k) · b / k. For b = 1: weak, T(k) / (k · T(1)); strong, S(k) / k.
/// - step time: 1000 · global batch / T(k) ms, the mean over the timed steps.
/// - MFU: the summary's model FLOPs utilisation, model FLOPs per second ÷ (k × one core's peak).
public struct ScalingMetrics: Codable, Equatable, Sendable {
    public var samplesPerS: Double
    public var stepMs: Double
    public var stepMsMedian: Double
    public var globalBatch: Int
    public var speedup: Double
    public var efficiency: Double
    public var breakdown: StepBreakdown
    /// All-reduce time per step (ms), hidden or not.
    public var commMsTotal: Double
    /// The share of all-reduce time hidden behind backward.
    public var overlapFraction: Double
    /// forward + backward per sample of one rank (µs).
    public var computeUsPerSample: Double
    /// Ranks per core of a node (above 1: oversubscribed).
    public var ranksPerCore: Double
    /// Model FLOPs utilisation; nil for a summary without it.
    public var mfu: Double?

    enum CodingKeys: String, CodingKey {
        case samplesPerS = "samples_per_s", stepMs = "step_ms", stepMsMedian = "step_ms_median", globalBatch = "global_batch"
        case speedup, efficiency, breakdown, commMsTotal = "comm_ms_total", overlapFraction = "overlap_fraction"
        case computeUsPerSample = "compute_us_per_sample", ranksPerCore = "ranks_per_core", mfu
    }

    /// A step's time by phase (ms, rank 0's means): compute = forward + backward, exposed
    /// communication = the wait for all-reduces after backward, data, optimizer (the update
    /// and the per-step agreement all-reduce), and other = the step time not in a phase.
    public struct StepBreakdown: Codable, Equatable, Sendable {
        public var compute: Double
        public var exposedComm: Double
        public var data: Double
        public var optimizer: Double
        public var other: Double

        enum CodingKeys: String, CodingKey {
            case compute, exposedComm = "exposed_comm", data, optimizer, other
        }

        /// (name, value) in chart order.
        public var parts: [(name: String, ms: Double)] {
            [("compute", compute), ("exposed communication", exposedComm), ("data", data), ("optimizer", optimizer), ("other", other)]
        }

        public var total: Double { compute + exposedComm + data + optimizer + other }
    }

    /// Fills in `metrics` for every ok run with a usable summary (a run whose summary lacks
    /// throughput is marked failed), and returns the baseline world.
    public static func derive(_ runs: inout [ScalingRun], cores: Int) -> Int? {
        for i in runs.indices where runs[i].status == .ok {
            let rate = runs[i].summary?["samples_per_s"]?.double ?? 0
            if !(rate > 0 && rate.isFinite) {
                runs[i].status = .failed
                runs[i].failure = runs[i].failure ?? "the run summary has no positive samples_per_s"
            }
        }
        let ok = runs.filter { $0.status == .ok }
        guard let base = ok.min(by: { $0.world < $1.world }), let baseRate = base.summary?["samples_per_s"]?.double else {
            for i in runs.indices { runs[i].metrics = nil }
            return nil
        }
        for i in runs.indices {
            guard runs[i].status == .ok, let s = runs[i].summary else {
                runs[i].metrics = nil
                continue
            }
            runs[i].metrics = metrics(s, world: runs[i].world, batchPerRank: runs[i].batchPerRank, baseWorld: base.world,
                                      baseRate: baseRate, cores: cores)
        }
        return base.world
    }

    static func metrics(_ s: JSONValue, world: Int, batchPerRank: Int, baseWorld: Int, baseRate: Double, cores: Int) -> ScalingMetrics {
        let rate = s["samples_per_s"]?.double ?? 0
        let batch = s["batch_per_rank"]?.int ?? batchPerRank
        let accumulate = s["accumulate"]?.int ?? 1
        let global = s["global_batch"]?.int ?? batch * accumulate * world
        let step = 1000 * Double(global) / rate
        let phase = { (name: String) in s["phase_ms"]?[name]?.double ?? 0 }
        let compute = phase("forward") + phase("backward")
        var breakdown = StepBreakdown(compute: compute, exposedComm: phase("wait"), data: phase("data"),
                                      optimizer: phase("optimizer") + phase("agree"), other: 0)
        breakdown.other = max(0, step - breakdown.total)
        let speedup = rate / baseRate
        let nodes = max(s["nodes"]?.int ?? 1, 1)
        return ScalingMetrics(
            samplesPerS: rate, stepMs: step, stepMsMedian: s["step_ms_median"]?.double ?? step, globalBatch: global,
            speedup: speedup, efficiency: speedup * Double(baseWorld) / Double(world), breakdown: breakdown,
            commMsTotal: s["comm_ms_total"]?.double ?? 0, overlapFraction: s["overlap_fraction"]?.double ?? 0,
            computeUsPerSample: 1000 * compute / Double(max(batch * accumulate, 1)),
            ranksPerCore: Double((world + nodes - 1) / nodes) / Double(max(cores, 1)), mfu: s["mfu"]?.double)
    }
}
