import Foundation
import Host

/// Writes a scaling report's files into its folder: report.json, the SVG charts and report.md
/// (which links them). Charts of an earlier rendering that no longer apply are removed.
public enum ScalingReportFiles {
    /// - Returns: the paths written.
    /// - Throws: `ReportError` naming the file that cannot be written.
    @discardableResult
    public static func write(_ report: ScalingReport, to directory: String, json: Bool = true) throws -> [String] {
        let fm = FileManager.default
        var written: [String] = []
        func put(_ data: Data, _ name: String) throws {
            let path = directory + "/" + name
            do {
                try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw ReportError.failure("\(path): cannot write: \((error as NSError).localizedDescription)")
            }
            written.append(path)
        }
        if json { try put(report.json(), "report.json") }
        let charts = ScalingCharts.render(report)
        let names = Set(charts.map(\.name))
        for old in (try? fm.contentsOfDirectory(atPath: directory)) ?? []
        where old.hasSuffix(".svg") && !names.contains(old) && (old.hasPrefix("projection-") || old == "allreduce-fit.svg"
                                                                  || ["throughput.svg", "efficiency.svg", "breakdown.svg"].contains(old)) {
            try? fm.removeItem(atPath: directory + "/" + old)
        }
        for chart in charts { try put(Data(chart.svg.utf8), chart.name) }
        try put(Data(ScalingMarkdown.render(report, charts: charts.map(\.name)).utf8), "report.md")
        return written
    }
}
