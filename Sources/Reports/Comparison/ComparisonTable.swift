import Foundation
import Host

/// The text table `lockstep bench compare` prints: per world and metric, each system's
/// median [min–max] and the ratio Lockstep / PyTorch, then the scaling efficiencies.
public enum ComparisonTable {
    public static func render(_ report: ComparisonReport) -> String {
        var lines: [String] = []
        let runsWord = report.repeats == 1 ? "1 run" : "\(report.repeats) runs"
        lines.append("\(report.model) (\(report.config)), batch \(report.batchPerRank) per rank: Lockstep \(report.lockstepVersion) vs PyTorch \(report.torchVersion) DDP (gloo)")
        lines.append("\(runsWord) per system and world, alternating; throughput over \(report.steps) timed steps after \(report.warmupSteps) untimed; medians [min–max]")
        if let t = report.target {
            let when = t.evalEvery > 0 ? "every \(t.evalEvery) steps and at epoch ends" : "at epoch ends"
            lines.append("time to \(percent(t.accuracy)) test accuracy: evaluating \(when), evaluation included, at most \(t.maxEpochs) epoch\(t.maxEpochs == 1 ? "" : "s")")
        }
        lines.append("\(report.machine.cpuModel), \(report.machine.cores) cores; mpirun --bind-to core, one thread per rank")
        // Both systems are started with this process's environment, OPENBLAS_CORETYPE included:
        // the same OpenBLAS kernels serve Lockstep's GEMMs and PyTorch's.
        lines.append("OpenBLAS for both: \(report.machine.openBLAS)")
        if !report.complete {
            lines.append("INCOMPLETE: \(report.runs.count) of \(report.plannedRuns) runs")
        }
        lines.append("")
        var table: [[String]] = [["world", "metric", "Lockstep", "PyTorch", "Lockstep/PyTorch"]]
        for row in report.medians {
            table.append([String(row.world), label(row.metric, report.target),
                          cell(row.lockstep, runs: row.lockstepRuns, row.metric), cell(row.pytorch, runs: row.pytorchRuns, row.metric),
                          row.ratio.map { String(format: "%.2f", $0) } ?? "–"])
        }
        let widths = (0..<5).map { c in table.map { $0[c].count }.max() ?? 0 }
        for (i, cells) in table.enumerated() {
            let text = cells.enumerated().map { c, s in
                c == 0 || c == 4 ? String(repeating: " ", count: widths[c] - s.count) + s : s.padding(toLength: widths[c], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
            lines.append(text.replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression))
            if i == 0 { lines.append(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))) }
        }
        if !report.scaling.isEmpty {
            lines.append("")
            for s in report.scaling {
                func e(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "–" }
                lines.append("scaling efficiency, world 1 → \(s.world) (throughput(\(s.world)) / (\(s.world) × throughput(1))): Lockstep \(e(s.lockstep)), PyTorch \(e(s.pytorch))")
            }
        }
        lines.append("ratios above 1 favour Lockstep for samples/s; below 1 for the others")
        return lines.joined(separator: "\n")
    }

    private static func label(_ metric: ComparisonStatistics.Metric, _ target: ComparisonPlan.Target?) -> String {
        switch metric {
        case .samplesPerS: "samples/s (higher is better)"
        case .stepMsMedian: "step ms, median (lower)"
        case .peakRssMb: "peak RSS MB per rank (lower)"
        case .timeToTargetS: "time to \(target.map { percent($0.accuracy) } ?? "target") s (lower)"
        }
    }

    private static func cell(_ spread: ComparisonStatistics.Spread?, runs: Int, _ metric: ComparisonStatistics.Metric) -> String {
        guard let spread else { return runs == 0 ? "–" : "not reached (0/\(runs))" }
        var text = format(spread.median, metric)
        if spread.n > 1 { text += " [\(format(spread.min, metric))–\(format(spread.max, metric))]" }
        if spread.n < runs { text += " (\(spread.n)/\(runs) reached)" }
        return text
    }

    /// A value in the metric's usual precision; samples/s with thousands separators.
    static func format(_ value: Double, _ metric: ComparisonStatistics.Metric) -> String {
        switch metric {
        case .samplesPerS: NumberText.grouped(Int(value.rounded()))
        case .stepMsMedian: String(format: "%.2f", value)
        case .peakRssMb: String(format: "%.0f", value)
        case .timeToTargetS: String(format: "%.1f", value)
        }
    }

    private static func percent(_ accuracy: Double) -> String {
        let p = accuracy * 100
        return p == p.rounded() ? "\(Int(p))%" : String(format: "%.1f%%", p)
    }
}
