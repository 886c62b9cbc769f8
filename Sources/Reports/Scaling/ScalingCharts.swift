import Foundation
import Host

/// The charts of a scaling report, each an SVG file beside report.md:
/// throughput.svg and efficiency.svg against ranks with the ideal line, breakdown.svg (a
/// step's time by phase per world), and with a cost model allreduce-fit.svg (measured
/// all-reduce times and the fitted model) and projection-NETWORK.svg (projected efficiency
/// per algorithm, with the measured points and the model on this machine).
public enum ScalingCharts {
    /// (file name, SVG text), in the order report.md shows them.
    public static func render(_ report: ScalingReport) -> [(name: String, svg: String)] {
        var charts: [(String, String)] = []
        let ok = report.okRuns.sorted { $0.world < $1.world }
        guard !ok.isEmpty else { return [] }
        let oversubscribed = ok.filter(\.oversubscribed).map(\.world)
        let cores = report.machine.cores
        let hollowNote = oversubscribed.isEmpty ? "" : "; hollow: more ranks than the \(cores) cores (oversubscribed)"
        let model = report.model ?? "model"
        let modeText = report.mode == .strong ? "strong scaling, global batch \(report.globalBatch ?? 0)" : "weak scaling, batch \(ok[0].batchPerRank) per rank"
        let ranksAxis = ChartAxis("ranks", scale: .log2, lower: 1, upper: Double(ok.last!.world) * 1.0001 < 2 ? 2 : nil) { ReportText.number($0) }

        // Throughput with the ideal line.
        let base = ok[0]
        let baseRate = base.metrics!.samplesPerS
        let maxWorld = ok.last!.world
        let idealWorlds = stride(from: 0, through: Int(log2(Double(max(maxWorld, 2))).rounded(.up)), by: 1).map { 1 << $0 }
            .filter { $0 >= base.world && $0 <= max(maxWorld, base.world * 2) }
        let ideal = (Set(idealWorlds).union(ok.map(\.world))).sorted().map { (x: Double($0), y: baseRate * Double($0) / Double(base.world)) }
        let measured = ok.map { (x: Double($0.world), y: $0.metrics!.samplesPerS) }
        let hollow = ok.filter(\.oversubscribed).map { (x: Double($0.world), y: $0.metrics!.samplesPerS) }
        var throughputSeries = [
            SVGLineChart.Series("ideal (linear from \(ReportText.ranks(base.world)))", color: "#999999", points: ideal, markers: false, dashed: true),
            SVGLineChart.Series("measured", color: SVGDocument.palette[0], points: measured),
        ]
        if !hollow.isEmpty {
            throughputSeries.append(SVGLineChart.Series("oversubscribed", color: SVGDocument.palette[0], points: hollow, line: false, hollow: true))
        }
        charts.append(("throughput.svg", SVGLineChart(
            title: "Throughput: \(model), \(modeText)", note: "global samples per second over the timed steps\(hollowNote)",
            x: ranksAxis, y: ChartAxis("samples/s"), series: throughputSeries).svg()))

        // Efficiency with the ideal line.
        let effPoints = ok.map { (x: Double($0.world), y: $0.metrics!.efficiency) }
        var effSeries = [
            SVGLineChart.Series("ideal", color: "#999999", points: [(x: Double(min(base.world, 1)), y: 1), (x: Double(max(maxWorld, 2)), y: 1)],
                                markers: false, dashed: true),
            SVGLineChart.Series("measured", color: SVGDocument.palette[2], points: effPoints),
        ]
        let effHollow = ok.filter(\.oversubscribed).map { (x: Double($0.world), y: $0.metrics!.efficiency) }
        if !effHollow.isEmpty {
            effSeries.append(SVGLineChart.Series("oversubscribed", color: SVGDocument.palette[2], points: effHollow, line: false, hollow: true))
        }
        let effMax = max(1.1, (effPoints.map(\.y).max() ?? 1) * 1.05)
        charts.append(("efficiency.svg", SVGLineChart(
            title: "Scaling efficiency: \(model), \(modeText)",
            note: "throughput(k) / (k × throughput(\(base.world))) × \(base.world)\(hollowNote)",
            x: ranksAxis, y: ChartAxis("efficiency", lower: 0, upper: effMax), series: effSeries).svg()))

        // The step by phase.
        let names = ["compute (forward + backward)", "exposed communication", "data", "optimizer", "other"]
        let colors = [SVGDocument.palette[0], SVGDocument.palette[3], SVGDocument.palette[1], SVGDocument.palette[2], "#bbbbbb"]
        let parts = names.indices.map { i in
            SVGStackedBarChart.Part(names[i], color: colors[i], values: ok.map { $0.metrics!.breakdown.parts[i].ms })
        }
        charts.append(("breakdown.svg", SVGStackedBarChart(
            title: "Time per step by phase: \(model)", note: "bars: rank 0's phase means over all steps; labels: the mean step time over the timed steps",
            categories: ok.map { $0.oversubscribed ? "\($0.world) (over)" : "\($0.world)" }, categoryLabel: "ranks",
            y: ChartAxis("ms per step"), parts: parts, barLabels: ok.map { ReportText.ms($0.metrics!.stepMs) }).svg()))

        if let fit = report.costModel { charts.append(("allreduce-fit.svg", fitChart(fit))) }
        if let projection = report.projection, let fit = report.costModel {
            for network in projection.networks {
                charts.append(("projection-\(fileSafe(network.name)).svg", projectionChart(projection, network: network, fit: fit, report: report)))
            }
        }
        return charts
    }

    static func fileSafe(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    /// The fit error of the per-algorithm fits over the goal's sizes, in words.
    static func fitErrorText(_ fit: CostModelFit) -> String {
        let parts = fit.algorithms.map { "\($0.name) \(ReportText.percent($0.maxErrorInGoal ?? $0.maxError))" }
        return "largest fit error \(ReportText.bytes(Double(fit.goal.lowBytes)))–\(ReportText.bytes(Double(fit.goal.highBytes))): \(parts.joined(separator: ", "))"
    }

    static func fitChart(_ fit: CostModelFit) -> String {
        var series: [SVGLineChart.Series] = []
        let groups = Array(Set(fit.points.map { "\($0.algorithm)|\($0.world)|\($0.nodes)" })).sorted()
        let algorithmOrder = CostModel.Algorithm.allCases.map(\.rawValue)
        let ordered = groups.sorted { a, b in
            let pa = a.split(separator: "|"), pb = b.split(separator: "|")
            return (algorithmOrder.firstIndex(of: String(pa[0])) ?? 9, a) < (algorithmOrder.firstIndex(of: String(pb[0])) ?? 9, b)
        }
        for (i, key) in ordered.enumerated() {
            let parts = key.split(separator: "|").map(String.init)
            let points = fit.points.filter { $0.algorithm == parts[0] && "\($0.world)" == parts[1] && "\($0.nodes)" == parts[2] }
                .sorted { $0.bytes < $1.bytes }
            guard let algorithm = CostModel.Algorithm(rawValue: parts[0]), let lo = points.first, let hi = points.last else { continue }
            let color = SVGDocument.palette[i % SVGDocument.palette.count]
            let label = groups.count > 3 ? "\(parts[0]) p=\(parts[1])" : parts[0]
            series.append(SVGLineChart.Series("\(label) measured", color: color,
                                              points: points.map { (x: Double($0.bytes), y: $0.measuredUs * 1e-6) }, line: false))
            // The model on a fine grid, so that its regimes show.
            let p = fit.parameters(algorithm)
            var curve: [(x: Double, y: Double)] = []
            var n = Double(lo.bytes)
            let m = CostModelFit.Measurement(algorithm: algorithm, world: Int(parts[1])!, nodes: Int(parts[2])!, bytes: 0, seconds: 0)
            while n <= Double(hi.bytes) * 1.0001 {
                var mm = m
                mm.bytes = Int(n)
                curve.append((x: n, y: CostModelFit.predict(mm, intra: p.intra ?? CostModel.LinkCost(alpha: 0, beta: 0), inter: p.inter,
                                                            gamma: fit.gamma)))
                n *= pow(2, 0.125)
            }
            series.append(SVGLineChart.Series("\(label) model", color: color, points: curve, markers: false))
        }
        let worlds = ReportText.list(fit.worlds.map(String.init))
        return SVGLineChart(title: "All-reduce time: measured and the fitted α–β–γ model",
                            note: "world \(worlds); \(fitErrorText(fit))",
                            x: ChartAxis("buffer size (bytes)", scale: .log2, format: ChartAxis.bytes),
                            y: ChartAxis("time per all-reduce", scale: .log10, format: ChartAxis.seconds), series: series).svg()
    }

    static func projectionChart(_ projection: ScalingProjection, network: NetworkSpec, fit: CostModelFit, report: ScalingReport) -> String {
        var series: [SVGLineChart.Series] = []
        for (i, algorithm) in ScalingProjection.algorithms.enumerated() {
            let rows = projection.rows.filter { $0.network == network.name && $0.algorithm == algorithm }.sorted { $0.ranks < $1.ranks }
            guard !rows.isEmpty else { continue }
            series.append(SVGLineChart.Series(algorithm == "auto" ? "auto (Lockstep's pick)" : algorithm,
                                              color: [SVGDocument.palette[0], SVGDocument.palette[1], SVGDocument.palette[2], SVGDocument.palette[4]][i],
                                              points: rows.map { (x: Double($0.ranks), y: $0.efficiency) }, dashed: algorithm == "auto"))
        }
        let machine = projection.thisMachine.sorted { $0.world < $1.world }
        if !machine.isEmpty {
            series.append(SVGLineChart.Series("model, this machine", color: "#777777",
                                              points: machine.map { (x: Double($0.world), y: $0.efficiency) }, markers: false, dashed: true))
            series.append(SVGLineChart.Series("measured, this machine", color: "#000000",
                                              points: machine.filter { $0.slowdown <= 1 }.map { (x: Double($0.world), y: $0.measuredEfficiency) },
                                              line: false))
            let over = machine.filter { $0.slowdown > 1 }
            if !over.isEmpty {
                series.append(SVGLineChart.Series("measured, oversubscribed", color: "#000000",
                                                  points: over.map { (x: Double($0.world), y: $0.measuredEfficiency) }, line: false, hollow: true))
            }
        }
        let maxY = max(1.1, (series.flatMap(\.points).map(\.y).max() ?? 1) * 1.05)
        return SVGLineChart(
            title: "Projected efficiency: \(network.description), \(projection.ranksPerNode) ranks per node",
            note: "α_e \(ReportText.number(network.latencyUs)) µs, \(ReportText.number(network.gbps)) Gb/s; ω = \(NumberText.fixed(projection.step.overlap, 2)); \(fitErrorText(fit))",
            x: ChartAxis("ranks", scale: .log2, lower: 1) { ReportText.number($0) }, y: ChartAxis("efficiency", lower: 0, upper: maxY),
            series: series).svg()
    }
}
