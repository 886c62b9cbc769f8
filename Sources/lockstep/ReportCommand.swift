import ArgumentParser
import Bench
import Checkpoint
import Foundation
import Host
import Reports
import RunConfig
import Train

/// `lockstep report DIR`: renders report.md and the charts again from DIR/report.json, and
/// with cost-model options (re)computes the projection first.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a scaling report's report.md and charts from its report.json, or a run's metrics (--metrics).",
        discussion: """
            Without options the output is a pure function of report.json: rendering twice gives the same bytes. With --bench \
            the cost model is fitted again and the projection recomputed; with only --network, --ranks-per-node, \
            --project-ranks or --overlap the report's existing cost model is projected again.
            """)

    @Argument(help: "The folder of a scaling study (lockstep scale --out DIR).")
    var directory: String?

    @Option(help: "Instead: draw a run's metrics (lockstep train --metrics FILE) as SVG charts and a Markdown summary.")
    var metrics: String?

    @Option(help: "With --metrics: the folder to write (default: the metrics file's folder).")
    var out: String?

    @OptionGroup(title: "Cost model and projection")
    var projection: ProjectionOptions

    func run() throws {
        if let metrics {
            guard directory == nil, !projection.anyGiven else { throw UsageError("--metrics takes no scaling study folder and no cost-model options") }
            let folder = out ?? URL(fileURLWithPath: metrics).deletingLastPathComponent().path
            let files = try MetricsReport.write(metrics: metrics, to: folder)
            Console.line("wrote \(folder)/\(MetricsReport.markdownName) and \(files.count - 1) charts from \(metrics)")
            return
        }
        guard let directory else { throw UsageError("give the folder of a scaling study, or --metrics FILE") }
        try projection.validated()
        var report = try ScalingReport.load(directory: directory)
        report.refresh()
        if projection.anyGiven {
            if let fit = try projection.fit(print: true) { report.costModel = fit }
            guard let fit = report.costModel else {
                throw UsageError("\(directory)/report.json has no cost model to project with: give --bench FILE (from lockstep bench allreduce --json)")
            }
            report.projection = try ScalingProjection.make(report: report, fit: fit, networks: projection.networkSpecs(),
                                                           ranksPerNode: projection.ranksPerNode, ranks: projection.ranks(),
                                                           overlap: projection.overlap)
        }
        let files = try ScalingReportFiles.write(report, to: directory)
        Console.line("wrote \(directory)/report.md and \(files.filter { $0.hasSuffix(".svg") }.count) charts from report.json")
    }
}
