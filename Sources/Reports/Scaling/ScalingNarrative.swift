import Foundation
import Host

/// The report's findings in plain words, each sentence derived from the numbers: where a
/// step's time goes, what changed from the baseline, and what limits scaling.
enum ScalingNarrative {
    typealias T = ReportText

    /// The summary: the headline, oversubscription, and what limits scaling.
    static func summary(_ report: ScalingReport) -> [String] {
        let ok = report.okRuns.sorted { $0.world < $1.world }
        var lines: [String] = []
        guard let base = ok.first, let bm = base.metrics else {
            return ["No run finished, so there is nothing to report yet; the runs below say why."]
        }
        guard let last = ok.last, last.world != base.world, let lm = last.metrics else {
            lines.append("Only \(T.ranks(base.world)) ran (\(T.number(bm.samplesPerS)) samples/s, \(T.ms(bm.stepMs)) per step), so there is no scaling to compare.")
            return lines + failures(report)
        }
        lines.append("Throughput went from \(T.number(bm.samplesPerS)) samples/s at \(T.ranks(base.world)) to \(T.number(lm.samplesPerS)) at \(T.ranks(last.world)): a speedup of \(NumberText.fixed(lm.speedup, 2))× for \(T.number(Double(last.world) / Double(base.world)))× the ranks, a \(report.mode.rawValue)-scaling efficiency of \(NumberText.fixed(lm.efficiency, 2)).")
        let over = ok.filter(\.oversubscribed)
        if !over.isEmpty {
            let most = over.map { $0.metrics?.ranksPerCore ?? 1 }.max() ?? 1
            let runs = over.count == 1 ? "The run at \(T.ranks(over[0].world)) had" : "The runs at \(T.list(over.map { String($0.world) })) ranks had"
            lines.append("\(runs) more ranks than this machine's \(report.machine.cores) cores (up to \(T.number(most)) ranks per core), so \(over.count == 1 ? "its" : "their") ranks time-share cores: \(over.count == 1 ? "it measures" : "they measure") the machine's limit, not Lockstep's scaling.")
        }
        let busy = ok.filter { ($0.loadAverage ?? 0) >= 0.5 * Double(report.machine.cores) }
        if !busy.isEmpty {
            let loads = busy.map { "\(NumberText.fixed($0.loadAverage ?? 0, 1)) before \(T.ranks($0.world))" }
            lines.append("Other work was running on the machine: its load average was \(T.list(loads)) on \(report.machine.cores) cores, so those runs competed for the cores and read slower than the machine can do.")
        }
        let fits = ok.filter { !$0.oversubscribed }
        if let top = fits.last, top.world != base.world {
            lines.append(limit(report, top, base))
        }
        if last.oversubscribed || fits.last?.world != last.world {
            lines.append(limit(report, last, base))
        }
        let threshold = ok.first { ($0.metrics?.efficiency ?? 1) < 0.9 }
        if let t = threshold {
            let before = ok.last { $0.world < t.world && $0.world != base.world && ($0.metrics?.efficiency ?? 0) >= 0.9 }
            if let before {
                lines.append("Efficiency stays at 0.9 or above up to \(T.ranks(before.world)) and falls to \(NumberText.fixed(t.metrics!.efficiency, 2)) at \(T.ranks(t.world)).")
            } else {
                lines.append("Efficiency is below 0.9 from the first world beyond the baseline: \(NumberText.fixed(t.metrics!.efficiency, 2)) at \(T.ranks(t.world)).")
            }
        } else {
            lines.append("Efficiency stays at 0.9 or above at every measured world.")
        }
        return lines + failures(report)
    }

    /// Why the step at `run` is longer than ideal scaling from `base` would make it.
    static func limit(_ report: ScalingReport, _ run: ScalingRun, _ base: ScalingRun) -> String {
        let m = run.metrics!, b = base.metrics!
        let shrink = report.mode == .strong ? Double(base.world) / Double(run.world) : 1
        let ideal = b.stepMs * shrink
        let delta = m.stepMs - ideal
        let idealText = report.mode == .strong ? "ideal strong scaling (\(T.ms(b.stepMs)) × \(base.world)/\(run.world) = \(T.ms(ideal)))" : "at \(T.ranks(base.world)) (\(T.ms(ideal)))"
        guard delta > 0.02 * ideal else {
            return "At \(T.ranks(run.world)) a step takes \(T.ms(m.stepMs)), within 2% of \(idealText): nothing limits scaling there yet."
        }
        let changes = zip(m.breakdown.parts, b.breakdown.parts).map { (name: $0.name, delta: $0.ms - $1.ms * shrink) }
            .filter { abs($0.delta) >= 0.05 * delta }
        let grew = changes.filter { $0.delta > 0 }.sorted { $0.delta > $1.delta }
        let shrank = changes.filter { $0.delta < 0 }.sorted { $0.delta < $1.delta }
        /// A phase's name in the sentence, and why it grows.
        func what(_ name: String) -> (label: String, why: String?) {
            switch name {
            case "compute":
                return ("compute", run.oversubscribed ? "\(T.number(m.ranksPerCore)) ranks per core"
                    : report.mode == .strong && run.batchPerRank < base.batchPerRank ? "smaller per-rank batches, shared caches and memory bandwidth"
                    : "shared caches and memory bandwidth, and the communication thread")
            case "optimizer":
                return ("the optimizer phase", report.mode == .strong ? "it does not shrink with the per-rank batch" : "the update and the per-step agreement all-reduce")
            case "data": return ("data loading", nil)
            case "other": return ("time outside the phases", nil)
            default: return (name, nil)
            }
        }
        func phrase(_ c: (name: String, delta: Double)) -> String {
            let w = what(c.name)
            return "\(w.label) \(T.ms(c.delta))\(w.why.map { " (\($0))" } ?? "")"
        }
        var text = "What limits scaling at \(T.ranks(run.world)): a step takes \(T.ms(m.stepMs)), \(T.ms(delta)) more than \(idealText)"
        if let main = grew.first {
            text += ". It grew by " + T.list(grew.map(phrase))
            if !shrank.isEmpty {
                text += "; " + T.list(shrank.map { "\(what($0.name).label) took \(T.ms(-$0.delta)) less" })
            }
            text += ". The main limit is \(main.name == "compute" && run.oversubscribed ? "oversubscription" : what(main.name).label)."
        } else {
            text += "."
        }
        return text
    }

    /// One paragraph per world: where the step's time goes and what changed from the baseline.
    static func perWorld(_ report: ScalingReport) -> [String] {
        let ok = report.okRuns.sorted { $0.world < $1.world }
        guard let base = ok.first, let b = base.metrics else { return [] }
        return ok.map { run in
            let m = run.metrics!
            var s: [String] = []
            let parts = m.breakdown.parts.filter { $0.ms >= 0.01 * m.stepMs }.sorted { $0.ms > $1.ms }
            s.append("**\(T.ranks(run.world))\(run.oversubscribed ? " (oversubscribed)" : "")**: a step takes \(T.ms(m.stepMs)): " + parts.map { "\($0.name) \(T.ms($0.ms)) (\(T.percent($0.ms / m.stepMs)))" }.joined(separator: ", ") + ".")
            if run.world != base.world {
                let change = m.computeUsPerSample / b.computeUsPerSample - 1
                if abs(change) >= 0.05 {
                    var causes: [String] = []
                    if change > 0 {
                        if report.mode == .strong && run.batchPerRank < base.batchPerRank {
                            causes.append("the per-rank batch fell from \(base.batchPerRank) to \(run.batchPerRank), and smaller matrices multiply less efficiently")
                        }
                        causes.append(run.oversubscribed
                            ? "\(T.ranks(run.world)) share \(report.machine.cores) cores"
                            : "the ranks share caches and memory bandwidth even with a core each, and the communication thread competes with compute")
                    }
                    let because = causes.isEmpty ? "" : (causes.count == 1 && run.oversubscribed ? " because " : ": ") + causes.joined(separator: "; besides, ")
                    s.append("Compute per sample \(change > 0 ? "rose" : "fell") \(T.percent(abs(change))) from \(T.ranks(base.world)) (\(T.number(b.computeUsPerSample)) → \(T.number(m.computeUsPerSample)) µs)\(because).")
                } else {
                    s.append("Compute per sample is within 5% of \(T.ranks(base.world))'s (\(T.number(m.computeUsPerSample)) µs).")
                }
                if m.commMsTotal > 0 {
                    let hidden = m.overlapFraction < 0.005 ? "none of it was hidden behind backward" : "\(T.percent(m.overlapFraction)) of it was hidden behind backward"
                    s.append("The all-reduces ran \(T.ms(m.commMsTotal)) per step; \(hidden), and the step waited \(T.ms(m.breakdown.exposedComm)) for them (\(T.percent(m.breakdown.exposedComm / m.stepMs)) of the step).")
                }
                s.append("Efficiency \(NumberText.fixed(m.efficiency, 2)).")
            }
            return s.joined(separator: " ")
        }
    }

    static func failures(_ report: ScalingReport) -> [String] {
        report.runs.filter { $0.status != .ok }.map { run in
            run.status == .pending
                ? "World \(run.world) did not run (the study stopped before it); it is missing from the charts."
                : "World \(run.world) failed (\(run.failure ?? "exit \(run.exitCode ?? -1)")); it is missing from the charts and tables."
        }
    }

    /// The projection in words: per network, the best algorithm at the largest world, where
    /// efficiency falls, and how much of the all-reduce time is latency.
    static func projection(_ p: ScalingProjection, fit: CostModelFit) -> [String] {
        var lines: [String] = []
        let goal = "\(T.bytes(Double(fit.goal.lowBytes)))–\(T.bytes(Double(fit.goal.highBytes)))"
        let worst = fit.algorithms.map { $0.maxErrorInGoal ?? $0.maxError }.max() ?? 0
        let medians = fit.algorithms.compactMap(\.medianErrorInGoal)
        lines.append("The fitted model reproduces the measured all-reduces within \(T.percent(worst)) (median \(T.percent(Statistics.median(medians)))) over \(goal) at world \(T.list(fit.worlds.map(String.init)))\(fit.meetsGoal ? ", inside the \(T.percent(fit.goal.tolerance)) goal" : ", outside the \(T.percent(fit.goal.tolerance)) goal: read the projection as a rough guide"). The textbook model (one β for all sizes and algorithms) is off by up to \(T.percent(fit.textbook.maxErrorInGoal ?? fit.textbook.maxError)).")
        guard let top = p.ranks.max() else { return lines }
        for network in p.networks {
            let atTop = ScalingProjection.algorithms.compactMap { p.row(network.name, $0, top) }
            guard let best = atTop.filter({ $0.algorithm != "auto" }).max(by: { $0.efficiency < $1.efficiency }) else { continue }
            let others = atTop.filter { $0.algorithm != best.algorithm }.map { "\($0.algorithm) \(NumberText.fixed($0.efficiency, 2))" }
            var s = "On \(network.description) (\(T.number(network.latencyUs)) µs) with \(p.ranksPerNode) ranks per node, the model projects an efficiency of \(NumberText.fixed(best.efficiency, 2)) at \(T.ranks(top)) with \(best.algorithm): \(T.ms(best.parts.stepMs)) per step, of which \(T.ms(best.parts.exposedMs)) exposed communication (\(T.ms(best.parts.commMs)) of all-reduce in all)"
            s += others.isEmpty ? "." : "; \(T.list(others))."
            lines.append(s)
            let bestAt = p.ranks.map { r in ScalingProjection.algorithms.filter { $0 != "auto" }.compactMap { p.row(network.name, $0, r) }.max { $0.efficiency < $1.efficiency } }
            if let below = bestAt.compactMap({ $0 }).first(where: { $0.efficiency < 0.9 }) {
                if let lastGood = bestAt.compactMap({ $0 }).last(where: { $0.ranks < below.ranks && $0.efficiency >= 0.9 }) {
                    lines.append("With the best algorithm at each size, efficiency stays at 0.9 or above up to \(T.ranks(lastGood.ranks)) and is \(NumberText.fixed(below.efficiency, 2)) at \(T.ranks(below.ranks)).")
                } else {
                    lines.append("Even with the best algorithm at each size, efficiency is below 0.9 from the smallest projected world on (\(NumberText.fixed(below.efficiency, 2)) at \(T.ranks(below.ranks))).")
                }
            } else {
                lines.append("With the best algorithm at each size, efficiency stays at 0.9 or above up to \(T.ranks(top)).")
            }
            if let auto = p.row(network.name, "auto", top), auto.efficiency < best.efficiency - 0.02 {
                let picks = Set(p.step.bucketBytes.map { CostModel.autoAlgorithm(bytes: $0, p: top, nodes: auto.nodes).rawValue }).sorted()
                lines.append("Lockstep's auto picks \(T.list(picks)) there, at \(NumberText.fixed(auto.efficiency, 2)): by this model, comm.algorithm = \"\(best.algorithm)\" would do better on such a cluster.")
            }
            if let ring = p.row(network.name, "ring", top), ring.parts.commMs > 0 {
                lines.append("At \(T.ranks(top)) the ring's 2(p−1) = \(2 * (top - 1)) latencies per all-reduce cost \(T.ms(ring.latencyMs)) per step, \(T.percent(ring.latencyMs / ring.parts.commMs)) of its all-reduce time; rhd needs 2·lg p = \(2 * CostModel.ceilLog2(top)) per all-reduce.")
            }
        }
        return lines
    }
}
