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
        abstract: "Render a scaling report's report.md and charts from its report.json.",
        discussion: """
            Without options the output is a pure function of report.json: rendering twice gives the same bytes. With --bench \
            the cost model is fitted again and the projection recomputed; with only --network, --ranks-per-node, \
            --project-ranks or --overlap the report's existing cost model is projected again.
            """)

    @Argument(help: "The folder of a scaling study (lockstep scale --out DIR).")
    var directory: String

    @OptionGroup(title: "Cost model and projection")
    var projection: ProjectionOptions

    func run() throws {
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
