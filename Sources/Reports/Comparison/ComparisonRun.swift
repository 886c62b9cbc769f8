import Foundation
import Host
import Train

/// One finished run of `lockstep bench compare`, as its raw record in the JSON: which
/// system, world and repetition, the figures compared, and how it was launched.
public struct ComparisonRun: Codable, Equatable, Sendable {
    public var system: ComparisonPlan.System
    public var kind: ComparisonPlan.Kind
    public var world: Int
    /// 1-based, per system, kind and world.
    public var repetition: Int
    /// 1-based position among all runs of the comparison, in launch order.
    public var order: Int
    /// Global samples per second over the timed steps.
    public var samplesPerS: Double
    public var stepMsMedian: Double
    /// The largest peak resident set of any rank (MB).
    public var peakRssMb: Double
    /// Seconds from the first step to the evaluation that first reached the target; nil if
    /// none did (or no target was set).
    public var timeToTargetS: Double?
    public var testAccuracy: Double
    /// Optimizer steps taken, warm-up included.
    public var steps: Int
    /// The child's wall time, start-up and data loading included.
    public var seconds: Double
    /// The 1-minute load average just before the run.
    public var loadAverage: Double?
    /// The command line, as a shell would take it.
    public var command: String

    public init(system: ComparisonPlan.System, kind: ComparisonPlan.Kind, world: Int, repetition: Int, order: Int,
                samplesPerS: Double, stepMsMedian: Double, peakRssMb: Double, timeToTargetS: Double?, testAccuracy: Double,
                steps: Int, seconds: Double, loadAverage: Double?, command: String) {
        self.system = system
        self.kind = kind
        self.world = world
        self.repetition = repetition
        self.order = order
        self.samplesPerS = samplesPerS
        self.stepMsMedian = stepMsMedian
        self.peakRssMb = peakRssMb
        self.timeToTargetS = timeToTargetS
        self.testAccuracy = testAccuracy
        self.steps = steps
        self.seconds = seconds
        self.loadAverage = loadAverage
        self.command = command
    }

    enum CodingKeys: String, CodingKey {
        case system, kind, world, repetition = "repeat", order, samplesPerS = "samples_per_s", stepMsMedian = "step_ms_median"
        case peakRssMb = "peak_rss_mb", timeToTargetS = "time_to_target_s", testAccuracy = "test_accuracy", steps
        case seconds, loadAverage = "load_average", command
    }

    /// The figures of a run, from the JSON it wrote.
    public struct Figures: Equatable, Sendable {
        public var samplesPerS: Double
        public var stepMsMedian: Double
        public var peakRssMb: Double
        public var timeToTargetS: Double?
        public var testAccuracy: Double
        public var steps: Int
        public var world: Int
        /// The reference's torch version.
        public var torch: String?
    }

    /// Reads the figures `system` wrote to `path`: Lockstep's run summary (`--summary`) or
    /// the reference's result (`--json`).
    /// - Throws: `ReportError` if the file is missing or not what `system` writes.
    public static func figures(of system: ComparisonPlan.System, at path: String) throws -> Figures {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReportError.failure("\(path): missing, though the run exited 0")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            switch system {
            case .lockstep:
                let s = try decoder.decode(RunSummary.self, from: data)
                return Figures(samplesPerS: s.samplesPerS, stepMsMedian: s.stepMsMedian, peakRssMb: s.peakRssMbMax,
                               timeToTargetS: s.timeToTargetS, testAccuracy: s.testAccuracy, steps: s.steps, world: s.world)
            case .pytorch:
                let r = try decoder.decode(ReferenceResult.self, from: data)
                return Figures(samplesPerS: r.samplesPerS, stepMsMedian: r.stepMsMedian, peakRssMb: r.peakRssMb,
                               timeToTargetS: r.timeToTargetS, testAccuracy: r.testAccuracy, steps: r.steps, world: r.world,
                               torch: r.torch)
            }
        } catch let error as DecodingError {
            throw ReportError.failure("\(path): not a \(system == .lockstep ? "Lockstep run summary" : "torch_reference.py result"): \(Self.describe(error))")
        }
    }

    /// The fields of torch_reference.py's JSON that the comparison reads.
    private struct ReferenceResult: Decodable {
        var samplesPerS: Double
        var stepMsMedian: Double
        var peakRssMb: Double
        var timeToTargetS: Double?
        var testAccuracy: Double
        var steps: Int
        var world: Int
        var torch: String

        enum CodingKeys: String, CodingKey {
            case samplesPerS = "samples_per_s", stepMsMedian = "step_ms_median", peakRssMb = "peak_rss_mb"
            case timeToTargetS = "time_to_target_s", testAccuracy = "test_accuracy", steps, world, torch
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .keyNotFound(key, _): "no \(key.stringValue)"
        case let .typeMismatch(_, c), let .valueNotFound(_, c): "\(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        case let .dataCorrupted(c): c.debugDescription
        @unknown default: "\(error)"
        }
    }
}
