import Foundation
import Bench
import Host

/// The cost model's parameters fitted on `lockstep bench allreduce --json` measurements, and
/// how well they reproduce them.
///
/// For each algorithm (ring, rhd, hierarchical) the measured times T(n) at each size n are
/// fitted by weighted least squares on the algorithm's step list (CostModel.steps), with the
/// weights 1/T so that the relative error is what is minimised: a 64 KiB point counts as
/// much as a 64 MiB one. γ is measured apart (ReductionCost); the unknowns are non-negative:
/// the latency α and the per-byte time β, intra-node and (when the benchmark spanned several
/// nodes) inter-node.
///
/// On one node the intra-node link is shared memory, and the fit may also place an eager
/// limit (α below and above it) and up to `maxCapacities` cache capacities in β(n) (see
/// CostModel.LinkCost); which of these shapes is kept is decided by the corrected Akaike
/// criterion, so a refinement stays only when it earns its parameters. The textbook model
/// (one α and one β for every size and algorithm) is fitted too, and its error reported.
public struct CostModelFit: Codable, Equatable, Sendable {
    /// One fitted parameter set and its error on the points it was fitted on.
    public struct Parameters: Codable, Equatable, Sendable {
        /// ring, rhd, hierarchical; "joint" (one set for all three); "textbook" (joint, one β).
        public var name: String
        public var intra: CostModel.LinkCost?
        public var inter: CostModel.LinkCost?
        public var points: Int
        /// Largest and median |model − measured| / measured, over all points and over the goal's sizes.
        public var maxError: Double
        public var medianError: Double
        public var maxErrorInGoal: Double?
        public var medianErrorInGoal: Double?
        /// Leave-one-size-out: each size of the goal's range predicted by a fit on the other
        /// sizes; the largest and median error. How well the model interpolates, not only fits.
        public var holdOutMaxError: Double?
        public var holdOutMedianError: Double?

        enum CodingKeys: String, CodingKey {
            case name, intra, inter, points, maxError = "max_error", medianError = "median_error"
            case maxErrorInGoal = "max_error_in_goal", medianErrorInGoal = "median_error_in_goal"
            case holdOutMaxError = "hold_out_max_error", holdOutMedianError = "hold_out_median_error"
        }
    }

    /// One measured all-reduce and what the fits say of it.
    public struct Point: Codable, Equatable, Sendable {
        public var algorithm: String
        public var world: Int
        public var nodes: Int
        public var bytes: Int
        /// Median over the benchmark files given.
        public var measuredUs: Double
        /// The algorithm's own fit, the joint fit, the textbook fit.
        public var modelUs: Double
        public var jointUs: Double
        public var textbookUs: Double

        public var error: Double { (modelUs - measuredUs) / measuredUs }

        enum CodingKeys: String, CodingKey {
            case algorithm, world, nodes, bytes, measuredUs = "measured_us", modelUs = "model_us", jointUs = "joint_us"
            case textbookUs = "textbook_us"
        }
    }

    /// The accuracy asked of the per-algorithm fits: within `tolerance` from `lowBytes` to `highBytes`.
    public struct Goal: Codable, Equatable, Sendable {
        public var lowBytes: Int
        public var highBytes: Int
        public var tolerance: Double

        enum CodingKeys: String, CodingKey {
            case lowBytes = "low_bytes", highBytes = "high_bytes", tolerance
        }

        public static let standard = Goal(lowBytes: 64 << 10, highBytes: 64 << 20, tolerance: 0.15)
    }

    public var benchFiles: [String]
    public var worlds: [Int]
    public var nodes: [Int]
    public var gamma: ReductionCost
    public var goal: Goal
    public var algorithms: [Parameters]
    public var joint: Parameters
    public var textbook: Parameters
    public var points: [Point]
    /// Rows not fitted, and why.
    public var skipped: [String]

    enum CodingKeys: String, CodingKey {
        case benchFiles = "bench_files", worlds, nodes, gamma, goal, algorithms, joint, textbook, points, skipped
    }

    /// The parameters for `algorithm`: its own fit, or the joint one if it was not measured.
    public func parameters(_ algorithm: CostModel.Algorithm) -> Parameters {
        algorithms.first { $0.name == algorithm.rawValue } ?? joint
    }

    /// Whether every per-algorithm fit is within the goal over the goal's sizes.
    public var meetsGoal: Bool {
        !algorithms.isEmpty && algorithms.allSatisfy { ($0.maxErrorInGoal ?? .infinity) <= goal.tolerance }
    }

    /// A measurement ready to fit.
    struct Measurement {
        var algorithm: CostModel.Algorithm
        var world: Int
        var nodes: Int
        var bytes: Int
        var seconds: Double

        /// The algorithm's steps for this all-reduce, as the fits charge them: a step that
        /// crosses nodes for some ranks counts as inter-node.
        var steps: [CostModel.Step] {
            CostModel.steps(algorithm, p: world, perNode: (world + nodes - 1) / nodes, bytes: Double(bytes)).map { s in
                var s = s
                if s.link == .both { s.link = .inter }
                return s
            }
        }
    }

    /// Fits the benchmark reports (several runs of the same benchmark: the median time of
    /// each algorithm, world and size is fitted).
    /// - Throws: `ReportError` when no row can be fitted.
    public static func fit(_ reports: [(path: String, report: AllReduceBenchmark.Report)], gamma: ReductionCost,
                           goal: Goal = .standard, maxCapacities: Int = 3, splitLatency: Bool = true) throws -> CostModelFit {
        var groups: [String: (Measurement, [Double])] = [:]
        var skipped = Set<String>()
        for (_, report) in reports {
            for row in report.rows {
                guard report.world > 1 else {
                    skipped.insert("world 1: no communication to fit")
                    continue
                }
                guard let algorithm = CostModel.Algorithm(rawValue: row.algorithm) else {
                    skipped.insert(row.algorithm == "mpi" ? "mpi: Open MPI's own algorithm choice is not modeled"
                                   : row.algorithm == "auto" ? "auto: it runs ring, rhd or hierarchical, fitted on their own rows"
                                   : "\(row.algorithm): not a modeled algorithm")
                    continue
                }
                guard row.us > 0, row.us.isFinite else { continue }
                let key = "\(algorithm.rawValue)/\(report.world)/\(report.nodes)/\(row.bytes)"
                let m = Measurement(algorithm: algorithm, world: report.world, nodes: max(report.nodes, 1), bytes: row.bytes,
                                    seconds: row.us * 1e-6)
                groups[key, default: (m, [])].1.append(row.us * 1e-6)
            }
        }
        let measurements = groups.keys.sorted().map { key -> Measurement in
            var (m, times) = groups[key]!
            m.seconds = Statistics.median(times)
            return m
        }.sorted { ($0.algorithm.rawValue, $0.world, $0.nodes, $0.bytes) < ($1.algorithm.rawValue, $1.world, $1.nodes, $1.bytes) }
        guard !measurements.isEmpty else {
            throw ReportError.request("the benchmark has no ring, rhd or hierarchical rows at a world above 1 to fit; run lockstep bench allreduce under mpirun -np 2 or more")
        }

        var perAlgorithm: [Parameters] = []
        var predictions: [Int: Double] = [:]
        for algorithm in CostModel.Algorithm.allCases {
            let indices = measurements.indices.filter { measurements[$0].algorithm == algorithm }
            guard !indices.isEmpty else { continue }
            let group = indices.map { measurements[$0] }
            var (p, predicted) = fitGroup(group, name: algorithm.rawValue, gamma: gamma, goal: goal,
                                          maxCapacities: maxCapacities, splitLatency: splitLatency)
            // Hold each size of the goal's range out in turn, and predict it from the others.
            var heldOut: [Double] = []
            for bytes in Set(group.map(\.bytes)).sorted() where bytes >= goal.lowBytes && bytes <= goal.highBytes {
                let rest = group.filter { $0.bytes != bytes }
                guard Set(rest.map(\.bytes)).count >= 4 else { continue }
                let (q, _) = fitGroup(rest, name: p.name, gamma: gamma, goal: goal, maxCapacities: maxCapacities, splitLatency: splitLatency)
                for m in group where m.bytes == bytes {
                    let t = predict(m, intra: q.intra ?? CostModel.LinkCost(alpha: 0, beta: 0), inter: q.inter, gamma: gamma)
                    heldOut.append(abs(t - m.seconds) / m.seconds)
                }
            }
            p.holdOutMaxError = heldOut.max()
            p.holdOutMedianError = heldOut.isEmpty ? nil : Statistics.median(heldOut)
            perAlgorithm.append(p)
            for (i, t) in zip(indices, predicted) { predictions[i] = t }
        }
        let (joint, jointPredicted) = fitGroup(measurements, name: "joint", gamma: gamma, goal: goal, maxCapacities: maxCapacities,
                                               splitLatency: splitLatency)
        let (textbook, textbookPredicted) = fitGroup(measurements, name: "textbook", gamma: gamma, goal: goal, maxCapacities: 0,
                                                     splitLatency: false)
        let points = measurements.indices.map { i in
            let m = measurements[i]
            return Point(algorithm: m.algorithm.rawValue, world: m.world, nodes: m.nodes, bytes: m.bytes, measuredUs: m.seconds * 1e6,
                         modelUs: (predictions[i] ?? 0) * 1e6, jointUs: jointPredicted[i] * 1e6,
                         textbookUs: textbookPredicted[i] * 1e6)
        }
        return CostModelFit(benchFiles: reports.map(\.path), worlds: Array(Set(measurements.map(\.world))).sorted(),
                            nodes: Array(Set(measurements.map(\.nodes))).sorted(), gamma: gamma, goal: goal,
                            algorithms: perAlgorithm, joint: joint, textbook: textbook, points: points,
                            skipped: skipped.sorted())
    }

    /// The model time of one measurement under `intra`/`inter`.
    static func predict(_ m: Measurement, intra: CostModel.LinkCost, inter: CostModel.LinkCost?, gamma: ReductionCost) -> Double {
        let n = Double(m.bytes)
        return CostModel.time(m.steps, bytes: n, intra: intra, inter: inter, gamma: gamma.at(n))
    }

    /// The structure of one candidate model: where the eager limit is (nil: one α), and the
    /// cache capacities in β(n).
    struct Shape {
        var eagerLimit: Double?
        var capacities: [Double]
    }

    /// Fits one set of parameters on `ms`: every eager limit between the measured message sizes
    /// (or none) and up to `maxCapacities` cache capacities (powers of two from 64 KiB to the
    /// largest buffer), each shape by weighted NNLS; the shape with the smallest corrected
    /// Akaike criterion wins. Returns it with the model's time for each measurement.
    static func fitGroup(_ ms: [Measurement], name: String, gamma: ReductionCost, goal: Goal,
                         maxCapacities: Int, splitLatency: Bool = true) -> (Parameters, [Double]) {
        let largest = Double(ms.map(\.bytes).max() ?? 0)
        var messageSizes = Set<Double>()
        for m in ms {
            for step in m.steps {
                messageSizes.insert(step.bytes)
            }
        }
        let sortedMessages = messageSizes.sorted()
        // An eager limit between two neighbouring message sizes (their geometric mean), or none.
        // Open MPI's eager limits are a few KiB (shared memory) to 64 KiB (TCP): none is sought above.
        var limits: [Double?] = [nil]
        if splitLatency {
            for (a, b) in zip(sortedMessages, sortedMessages.dropFirst()) where a >= 256 && (a * b).squareRoot() <= 65536 {
                limits.append((a * b).squareRoot())
            }
        }
        var capacities: [Double] = []
        var c = 65536.0
        while c < largest { capacities.append(c); c *= 2 }
        var capacitySets: [[Double]] = [[]]
        var frontier: [[Double]] = [[]]
        for _ in 0..<maxCapacities {
            frontier = frontier.flatMap { set in capacities.filter { $0 > (set.last ?? 0) }.map { set + [$0] } }
            capacitySets += frontier
        }
        var best: (aicc: Double, intra: CostModel.LinkCost?, inter: CostModel.LinkCost?)?
        for limit in limits {
            for set in capacitySets {
                let fit = solve(ms, shape: Shape(eagerLimit: limit, capacities: set), gamma: gamma)
                let k = Double(fit.parameters), m = Double(ms.count)
                guard fit.sse.isFinite, m - k - 1 > 0 else { continue }
                let aicc = m * log(max(fit.sse, 1e-300) / m) + 2 * k + 2 * k * (k + 1) / (m - k - 1)
                if best == nil || aicc < best!.aicc - 1e-9 { best = (aicc, fit.intra, fit.inter) }
            }
        }
        if best == nil {  // too few points for the criterion: the plain model
            let fit = solve(ms, shape: Shape(eagerLimit: nil, capacities: []), gamma: gamma)
            best = (0, fit.intra, fit.inter)
        }
        let intra = best!.intra ?? CostModel.LinkCost(alpha: 0, beta: 0)
        let predicted = ms.map { predict($0, intra: intra, inter: best!.inter, gamma: gamma) }
        let errors = zip(ms, predicted).map { abs(($1 - $0.seconds) / $0.seconds) }
        let inGoal = ms.indices.filter { ms[$0].bytes >= goal.lowBytes && ms[$0].bytes <= goal.highBytes }.map { errors[$0] }
        let parameters = Parameters(name: name, intra: best!.intra, inter: best!.inter, points: ms.count,
                                    maxError: errors.max() ?? 0, medianError: Statistics.median(errors),
                                    maxErrorInGoal: inGoal.max(), medianErrorInGoal: inGoal.isEmpty ? nil : Statistics.median(inGoal))
        return (parameters, predicted)
    }

    /// Solves for the intra-node α (one, or below and above the eager limit), β and each
    /// capacity's increment, and the inter-node α_e, β_e (those that occur), by weighted NNLS.
    static func solve(_ ms: [Measurement], shape: Shape, gamma: ReductionCost)
        -> (intra: CostModel.LinkCost?, inter: CostModel.LinkCost?, sse: Double, parameters: Int) {
        // Columns: α_i (small messages), α_i (large), β_i, one increment per capacity, α_e, β_e.
        let caps = shape.capacities.count
        let columns = 5 + caps
        let alphaE = 3 + caps, betaE = 4 + caps
        var rows: [[Double]] = [], targets: [Double] = [], weights: [Double] = []
        for m in ms {
            let n = Double(m.bytes)
            var row = [Double](repeating: 0, count: columns)
            var reduceTime = 0.0
            for s in m.steps {
                if s.link == .intra {
                    row[shape.eagerLimit.map { s.bytes > $0 ? 1 : 0 } ?? 0] += s.count
                    row[2] += s.count * s.bytes
                    for (k, c) in shape.capacities.enumerated() { row[3 + k] += s.count * s.bytes * max(0, 1 - c / n) }
                } else {
                    row[alphaE] += s.count
                    row[betaE] += s.count * s.bytes * s.flows
                }
                reduceTime += s.count * s.reduced * gamma.at(n)
            }
            rows.append(row)
            targets.append(m.seconds - reduceTime)
            weights.append(1 / m.seconds)
        }
        // A capacity's increment may be negative (copies can get cheaper per byte past a size),
        // as long as β(n) stays positive for every n.
        let solution = NonNegativeLeastSquares.solve(rows: rows, targets: targets, weights: weights, free: Set(3..<(3 + caps)))
        let x = solution.x
        var lowest = x[2], running = x[2]
        for k in 0..<caps { running += x[3 + k]; lowest = min(lowest, running) }
        if lowest < 0 { return (nil, nil, .infinity, 0) }
        let usedIntra = rows.contains { $0[0] != 0 || $0[1] != 0 }, usedInter = rows.contains { $0[alphaE] != 0 }
        let split = shape.eagerLimit != nil && rows.contains { $0[0] != 0 } && rows.contains { $0[1] != 0 }
        let intra = usedIntra
            ? CostModel.LinkCost(alpha: x[0], beta: x[2], alphaLarge: split ? x[1] : nil, eagerLimit: split ? shape.eagerLimit : nil,
                                 capacities: shape.capacities.enumerated().map { .init(bytes: $1, increment: x[3 + $0]) })
            : nil
        let inter = usedInter ? CostModel.LinkCost(alpha: x[alphaE], beta: x[betaE]) : nil
        let parameters = (usedIntra ? (split ? 3 : 2) + caps : 0) + (usedInter ? 2 : 0)
        return (intra, inter, solution.weightedSSE, parameters)
    }

    /// Reads a `lockstep bench allreduce --json` file.
    /// - Throws: `ReportError`: a request error if it does not exist, a failure if it is not a benchmark.
    public static func loadBench(_ path: String) throws(ReportError) -> AllReduceBenchmark.Report {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .request("\(path): no such file (write one with mpirun -np 2 lockstep bench allreduce --json \(path))")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw .failure("\(path): cannot read it") }
        do {
            return try JSONDecoder().decode(AllReduceBenchmark.Report.self, from: data)
        } catch {
            throw .failure("\(path): not a lockstep bench allreduce --json file: \(JSONProblem.describe(error))")
        }
    }
}
