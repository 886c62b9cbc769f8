import Host

/// What `lockstep bench compare` makes of its runs: per world size and metric, each system's
/// median with min and max, and the ratio of the medians Lockstep / PyTorch; and each
/// system's scaling efficiency from world 1, throughput(W) / (W × throughput(1)), from the
/// median throughputs.
public enum ComparisonStatistics {
    /// The figures compared, each from the runs of one kind.
    public enum Metric: String, Codable, Sendable, CaseIterable {
        case samplesPerS = "samples_per_s"
        case stepMsMedian = "step_ms_median"
        case peakRssMb = "peak_rss_mb"
        case timeToTargetS = "time_to_target_s"

        /// The runs the metric is read from.
        public var kind: ComparisonPlan.Kind { self == .timeToTargetS ? .accuracy : .throughput }

        /// Whether a larger value is better.
        public var higherIsBetter: Bool { self == .samplesPerS }

        /// The metric's value in `run`; nil when the run has none (a target never reached).
        public func value(_ run: ComparisonRun) -> Double? {
            switch self {
            case .samplesPerS: run.samplesPerS
            case .stepMsMedian: run.stepMsMedian
            case .peakRssMb: run.peakRssMb
            case .timeToTargetS: run.timeToTargetS
            }
        }
    }

    /// Median, min and max of some runs' values.
    public struct Spread: Codable, Equatable, Sendable {
        public var median: Double
        public var min: Double
        public var max: Double
        /// Runs with a value.
        public var n: Int

        /// nil for no values. The median of an even count is the mean of the middle two.
        public init?(_ values: [Double]) {
            guard let low = values.min(), let high = values.max() else { return nil }
            median = Statistics.median(values)
            min = low
            max = high
            n = values.count
        }
    }

    /// One metric at one world size.
    public struct Row: Codable, Equatable, Sendable {
        public var world: Int
        public var metric: Metric
        public var lockstep: Spread?
        public var pytorch: Spread?
        /// Runs of each system this row draws on (a time to target may be missing from some).
        public var lockstepRuns: Int
        public var pytorchRuns: Int
        /// lockstep.median / pytorch.median; nil if either is missing.
        public var ratio: Double?

        enum CodingKeys: String, CodingKey {
            case world, metric, lockstep, pytorch, lockstepRuns = "lockstep_runs", pytorchRuns = "pytorch_runs", ratio
        }
    }

    /// Scaling efficiency from world 1 to `world`.
    public struct Scaling: Codable, Equatable, Sendable {
        public var world: Int
        public var lockstep: Double?
        public var pytorch: Double?
    }

    /// A row for each world of `worlds` and each metric with runs of its kind, in that order.
    public static func rows(_ runs: [ComparisonRun], worlds: [Int]) -> [Row] {
        var rows: [Row] = []
        for world in worlds {
            for metric in Metric.allCases {
                let mine = runs.filter { $0.world == world && $0.kind == metric.kind }
                guard !mine.isEmpty else { continue }
                let l = mine.filter { $0.system == .lockstep }, p = mine.filter { $0.system == .pytorch }
                let ls = Spread(l.compactMap(metric.value)), ps = Spread(p.compactMap(metric.value))
                let ratio: Double? = if let ls, let ps, ps.median != 0 { ls.median / ps.median } else { nil }
                rows.append(Row(world: world, metric: metric, lockstep: ls, pytorch: ps, lockstepRuns: l.count,
                                pytorchRuns: p.count, ratio: ratio))
            }
        }
        return rows
    }

    /// Scaling efficiency for each world above 1, if world 1 was measured.
    public static func scaling(_ rows: [Row]) -> [Scaling] {
        let throughput = rows.filter { $0.metric == .samplesPerS }
        guard let base = throughput.first(where: { $0.world == 1 }) else { return [] }
        func efficiency(_ spread: Spread?, _ baseSpread: Spread?, world: Int) -> Double? {
            guard let spread, let baseSpread, baseSpread.median > 0 else { return nil }
            return spread.median / (Double(world) * baseSpread.median)
        }
        return throughput.filter { $0.world > 1 }.map { row in
            Scaling(world: row.world, lockstep: efficiency(row.lockstep, base.lockstep, world: row.world),
                    pytorch: efficiency(row.pytorch, base.pytorch, world: row.world))
        }
    }
}
