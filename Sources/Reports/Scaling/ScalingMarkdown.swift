import Foundation
import Host

/// report.md of a scaling study: the findings in words, the charts, the table of runs, the
/// runs that are missing and why, the projection when there is a cost model, the machine, and
/// the commands that ran. A pure function of the report, so re-rendering gives the same bytes.
public enum ScalingMarkdown {
    typealias T = ReportText

    public static func render(_ report: ScalingReport, charts: [String]) -> String {
        var md: [String] = []
        let ok = report.okRuns.sorted { $0.world < $1.world }
        let model = report.model ?? "a model"
        md.append("# Scaling report: \(model), \(report.mode.rawValue) scaling over \(T.list(report.ranks.map(String.init))) ranks")
        md.append("")
        var setup = "Lockstep \(report.lockstepVersion), started \(report.created) on \(report.machine.hostname). Config `\(report.config)`"
        if let hash = report.configHash { setup += " (hash \(hash))" }
        if !report.overrides.isEmpty { setup += " with " + report.overrides.map { "`--set \($0)`" }.joined(separator: ", ") }
        setup += ". "
        if report.mode == .strong {
            setup += "Strong scaling: the global batch stays \(report.globalBatch ?? 0), each rank takes global / ranks."
        } else {
            setup += "Weak scaling: each rank's batch stays \(report.runs.first?.batchPerRank ?? 0); the global batch grows with the ranks."
        }
        setup += " Launched with \(report.launcher.rawValue)\(report.launcherArguments.isEmpty ? "" : " (extra arguments `\(report.launcherArguments.joined(separator: " "))`)") on \(report.machine.cores) cores."
        md.append(setup)
        md.append("")

        md.append("## Summary")
        md.append("")
        for line in ScalingNarrative.summary(report) { md.append("- " + line) }
        md.append("")

        let base = charts.filter { ["throughput.svg", "efficiency.svg", "breakdown.svg"].contains($0) }
        if !base.isEmpty {
            md.append("## Charts")
            md.append("")
            let titles = ["throughput.svg": "Throughput against ranks, with the ideal line", "efficiency.svg": "Scaling efficiency against ranks",
                          "breakdown.svg": "Time per step by phase"]
            for name in base { md.append("![\(titles[name]!)](\(name))") ; md.append("") }
        }

        md.append("## Runs")
        md.append("")
        md.append("| ranks | batch per rank | global batch | samples/s | step ms (mean) | step ms (median) | speedup | efficiency | MFU | compute ms | exposed comm ms | data ms | optimizer ms | other ms | all-reduce ms (hidden) | load | status |")
        md.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for run in report.runs.sorted(by: { $0.world < $1.world }) {
            let world = "\(run.world)\(run.oversubscribed ? " (over)" : "")"
            if let m = run.metrics {
                let b = m.breakdown
                md.append("| \(world) | \(run.batchPerRank) | \(m.globalBatch) | \(T.number(m.samplesPerS)) | \(T.number(m.stepMs)) | \(T.number(m.stepMsMedian)) | \(NumberText.fixed(m.speedup, 2)) | \(NumberText.fixed(m.efficiency, 2)) | \(m.mfu.map(T.percent) ?? "–") | \(T.number(b.compute)) | \(T.number(b.exposedComm)) | \(T.number(b.data)) | \(T.number(b.optimizer)) | \(T.number(b.other)) | \(m.commMsTotal > 0 ? "\(T.number(m.commMsTotal)) (\(T.percent(m.overlapFraction)))" : "–") | \(run.loadAverage.map { NumberText.fixed($0, 1) } ?? "–") | ok |")
            } else {
                let status = run.status == .pending ? "not run" : "**failed** (exit \(run.exitCode.map(String.init) ?? "?"))"
                md.append("| \(world) | \(run.batchPerRank) | – | – | – | – | – | – | – | – | – | – | – | – | – | \(run.loadAverage.map { NumberText.fixed($0, 1) } ?? "–") | \(status) |")
            }
        }
        md.append("")
        if let b = report.baselineWorld {
            md.append("MFU: model FLOPs per second ÷ (ranks × one core's peak FMA rate, `lockstep bench peak`). Speedup and efficiency are relative to \(T.ranks(b))\(b == 1 ? "" : ", the smallest world that ran"). \"(over)\": more ranks than cores. Phase times are rank 0's means per step; compute is forward + backward; exposed comm is the wait for all-reduces after backward; other is the step time outside the phases; load is the machine's 1-minute load average when the run started.")
            md.append("")
        }

        if !ok.isEmpty {
            md.append("## Where the time goes")
            md.append("")
            for paragraph in ScalingNarrative.perWorld(report) {
                md.append(paragraph)
                md.append("")
            }
        }

        let missing = report.runs.filter { $0.status != .ok }.sorted { $0.world < $1.world }
        if !missing.isEmpty {
            md.append("## Missing runs")
            md.append("")
            for run in missing {
                if run.status == .pending {
                    md.append("- **World \(run.world)**: not run; the study stopped before it.")
                    continue
                }
                md.append("- **World \(run.world)** failed: \(inline(run.failure ?? "exit \(run.exitCode ?? -1)"))\(run.seconds.map { " after \(T.number($0)) s" } ?? "").")
                if let tail = run.stderrTail, !tail.isEmpty {
                    md.append("")
                    md.append("  Its stderr ended with:")
                    md.append("")
                    md.append("  ```")
                    for line in tail { md.append("  " + line.replacingOccurrences(of: "```", with: "'''")) }
                    md.append("  ```")
                }
            }
            md.append("")
        }

        if let fit = report.costModel {
            md.append(contentsOf: costModelSection(report, fit, charts: charts))
        }

        md.append("## Machine")
        md.append("")
        let m = report.machine
        md.append("- CPU: \(m.cpuModel), \(m.cores) cores (\(m.logicalCPUs) logical CPUs)\(m.lastLevelCache.map { ", \($0) last-level cache" } ?? ""), \(T.number(m.memoryGB)) GB memory")
        md.append("- OpenBLAS: \(m.openBLAS)")
        md.append("- MPI: \(m.mpi)\(m.launcherVersion.map { "; launcher \($0)" } ?? "")")
        md.append("- Kernel: \(m.kernel); host \(m.hostname)")
        md.append("")

        md.append("## Commands")
        md.append("")
        md.append("```")
        for run in report.runs.sorted(by: { $0.world < $1.world }) { md.append(ExternalCommand.shellLine(run.command)) }
        md.append("```")
        md.append("")
        md.append("Each run's summary is in `runs/<ranks>.json`, its output in `runs/<ranks>.out` and `runs/<ranks>.err`; `report.json` holds them all. `lockstep report <this folder>` renders this file and the charts again from `report.json`. Definitions: Lockstep's Docs/scaling.md and Docs/cost-model.md.")
        md.append("")
        return md.joined(separator: "\n")
    }

    static func costModelSection(_ report: ScalingReport, _ fit: CostModelFit, charts: [String]) -> [String] {
        var md: [String] = []
        md.append("## All-reduce cost model\(report.projection == nil ? "" : " and projection")")
        md.append("")
        if let p = report.projection {
            for line in ScalingNarrative.projection(p, fit: fit) { md.append("- " + line) }
            md.append("")
        }
        if charts.contains("allreduce-fit.svg") {
            md.append("![All-reduce time: measured and fitted](allreduce-fit.svg)")
            md.append("")
        }
        md.append("Fitted on \(T.list(fit.benchFiles.map { "`\($0)`" })) (median of each algorithm and size over the files) at world \(T.list(fit.worlds.map(String.init))). γ = \(T.number(fit.gamma.at(1_048_576) * 1e9)) ns/byte, \(fit.gamma.source).")
        md.append("")
        md.append("| fit | α intra | β intra, n the buffer size | α inter | β inter | points | max error | median error | max error \(T.bytes(Double(fit.goal.lowBytes)))–\(T.bytes(Double(fit.goal.highBytes))) | held out: max (median) |")
        md.append("|---|---|---|---|---|---:|---:|---:|---:|---:|")
        for p in fit.algorithms + [fit.joint, fit.textbook] {
            md.append("| \(p.name) | \(p.intra?.alphaText ?? "–") | \(p.intra?.betaText ?? "–") | \(p.inter?.alphaText ?? "–") | \(p.inter?.betaText ?? "–") | \(p.points) | \(T.percent(p.maxError)) | \(T.percent(p.medianError)) | \(p.maxErrorInGoal.map { T.percent($0) } ?? "–") | \(p.holdOutMaxError.map { "\(T.percent($0)) (\(T.percent(p.holdOutMedianError ?? 0)))" } ?? "–") |")
        }
        md.append("")
        md.append("The goal is within \(T.percent(fit.goal.tolerance)) for every algorithm over \(T.bytes(Double(fit.goal.lowBytes)))–\(T.bytes(Double(fit.goal.highBytes))): \(fit.meetsGoal ? "met" : "**not met**"). \"held out\": each size of that range predicted by a fit on the other sizes (how well the model interpolates). \"joint\" is one parameter set for all algorithms; \"textbook\" is joint with one β for every size, the plain Thakur–Rabenseifner–Gropp model.\(fit.skipped.isEmpty ? "" : " Not fitted: " + fit.skipped.joined(separator: "; ") + ".")")
        md.append("")
        md.append("<details><summary>Every measured point</summary>")
        md.append("")
        md.append("| algorithm | world | bytes | measured µs | model µs | error | joint µs | textbook µs |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for p in fit.points {
            md.append("| \(p.algorithm) | \(p.world)\(p.nodes > 1 ? " (\(p.nodes) nodes)" : "") | \(T.bytes(Double(p.bytes))) | \(T.number(p.measuredUs)) | \(T.number(p.modelUs)) | \(p.error >= 0 ? "+" : "")\(T.percent(p.error)) | \(T.number(p.jointUs)) | \(T.number(p.textbookUs)) |")
        }
        md.append("")
        md.append("</details>")
        md.append("")
        md += nodeSplitSection(fit)
        guard let p = report.projection else { return md }
        for network in p.networks {
            let file = "projection-\(ScalingCharts.fileSafe(network.name)).svg"
            md.append("### \(network.description): \(T.number(network.gbps)) Gb/s, \(T.number(network.latencyUs)) µs, \(p.ranksPerNode) ranks per node")
            md.append("")
            if charts.contains(file) {
                md.append("![Projected efficiency on \(network.description)](\(file))")
                md.append("")
            }
            md.append("| ranks | nodes | batch per rank | " + ScalingProjection.algorithms.map { "\($0): efficiency, step ms (exposed)" }.joined(separator: " | ") + " |")
            md.append("|---:|---:|---:|" + ScalingProjection.algorithms.map { _ in "---:" }.joined(separator: "|") + "|")
            for r in p.ranks {
                let rows = ScalingProjection.algorithms.map { p.row(network.name, $0, r) }
                guard let any = rows.compactMap({ $0 }).first else { continue }
                md.append("| \(r) | \(any.nodes) | \(T.number(any.batchPerRank)) | " + rows.map { row in
                    row.map { "\(NumberText.fixed($0.efficiency, 2)), \(T.number($0.parts.stepMs)) (\(T.number($0.parts.exposedMs)))" } ?? "–"
                }.joined(separator: " | ") + " |")
            }
            md.append("")
        }
        if !p.thisMachine.isEmpty {
            md.append("The same model on this machine, at the measured worlds (ranks per core > 1 stretches every phase):")
            md.append("")
            md.append("| ranks | algorithm | model step ms | measured step ms | model efficiency | measured efficiency |")
            md.append("|---:|---|---:|---:|---:|---:|")
            for row in p.thisMachine.sorted(by: { $0.world < $1.world }) {
                md.append("| \(row.world)\(row.slowdown > 1 ? " (over)" : "") | \(row.algorithm) | \(T.number(row.parts.stepMs)) | \(T.number(row.measuredStepMs)) | \(NumberText.fixed(row.efficiency, 2)) | \(NumberText.fixed(row.measuredEfficiency, 2)) |")
            }
            md.append("")
        }
        let s = p.step
        var model = "Step model: data \(T.ms(s.dataMs)) + forward \(T.ms(s.forwardMs)) + backward \(T.ms(s.backwardMs)) (at \(T.number(s.batchPerRank)) samples per rank, scaled with the per-rank batch) + optimizer \(T.ms(s.optimizerMs)) + other \(T.ms(p.otherMs)), measured at \(T.ranks(p.baselineWorld)); plus the exposed part of \(s.bucketBytes.count) bucket all-reduce\(s.bucketBytes.count == 1 ? "" : "s") (\(T.bytes(s.gradientBytes)) of gradients) run in order by one communication thread, at overlap efficiency ω = \(NumberText.fixed(s.overlap, 2)) (\(s.overlapSource)); plus a 16-byte agreement all-reduce per step."
        if !p.notes.isEmpty { model += " Notes: " + p.notes.joined(separator: "; ") + "." }
        md.append(model)
        md.append("")
        return md
    }

    /// For benchmarks that spanned several nodes: each algorithm's measured time split by the
    /// fitted model into its steps inside a node, between nodes, and its reductions.
    static func nodeSplitSection(_ fit: CostModelFit) -> [String] {
        let spanning = fit.points.filter { $0.nodes > 1 }
        guard !spanning.isEmpty else { return [] }
        var md = ["### Inside a node and between nodes", ""]
        md.append("The measurements across \(T.list(Set(spanning.map(\.nodes)).sorted().map(String.init))) nodes, split by each algorithm's fit into the steps that stay inside a node (shared memory), the steps that cross the network, and the reductions. Where the share between nodes is high, the network limits the algorithm; hierarchical keeps all but its leaders' steps inside the nodes.")
        md.append("")
        md.append("| algorithm | ranks (nodes) | bytes | measured µs | model µs | inside nodes µs | between nodes µs | reduce µs | between nodes |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for point in spanning {
            guard let algorithm = CostModel.Algorithm(rawValue: point.algorithm) else { continue }
            let parameters = fit.parameters(algorithm)
            guard let intra = parameters.intra, let inter = parameters.inter else { continue }
            let n = Double(point.bytes)
            let measurement = CostModelFit.Measurement(algorithm: algorithm, world: point.world, nodes: point.nodes,
                                                       bytes: point.bytes, seconds: point.measuredUs / 1e6)
            let parts = CostModel.parts(measurement.steps, bytes: n, intra: intra, inter: inter, gamma: fit.gamma.at(n))
            md.append("| \(point.algorithm) | \(point.world) (\(point.nodes)) | \(T.bytes(n)) | \(T.number(point.measuredUs)) | \(T.number(parts.total * 1e6)) | \(T.number(parts.intra * 1e6)) | \(T.number(parts.inter * 1e6)) | \(T.number(parts.reduce * 1e6)) | \(T.percent(parts.total > 0 ? parts.inter / parts.total : 0)) |")
        }
        md.append("")
        return md
    }

    static func inline(_ s: String) -> String { "`" + s.replacingOccurrences(of: "`", with: "'") + "`" }
}
