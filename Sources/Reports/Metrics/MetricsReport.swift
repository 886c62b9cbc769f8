import Foundation
import Host
import Metrics

/// `lockstep report --metrics FILE`: the curves of a run's JSON Lines metrics as SVG charts
/// next to a short Markdown summary, in the style of the scaling report:
/// metrics-report.md, metrics-loss.svg (training and validation loss), metrics-validation.svg
/// (validation accuracy), metrics-throughput.svg, metrics-grad-norm.svg. A pure function of the
/// file: rendering twice gives the same bytes.
public enum MetricsReport {
    public static let markdownName = "metrics-report.md"

    /// - Returns: the paths written.
    /// - Throws: `ReportError` naming the file that cannot be read or written.
    @discardableResult
    public static func write(metrics path: String, to directory: String) throws(ReportError) -> [String] {
        let records: [MetricRecord]
        switch Result(catching: { () throws(MetricsError) in try MetricsReader.read(path: path) }) {
        case let .success(r): records = r
        case let .failure(error): throw ReportError.request(error.description)
        }
        guard records.contains(where: { $0.kind == .train }) else {
            throw ReportError.request("\(path): no training records; is it a file of lockstep train --metrics?")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportError.failure("\(directory): cannot create it: \((error as NSError).localizedDescription)")
        }
        var written: [String] = []
        let charts = render(records)
        for (name, svg) in charts {
            try put(svg, directory + "/" + name)
            written.append(directory + "/" + name)
        }
        let md = markdown(records, source: path, charts: charts.map(\.name))
        try put(md, directory + "/" + markdownName)
        written.append(directory + "/" + markdownName)
        return written
    }

    private static func put(_ text: String, _ path: String) throws(ReportError) {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ReportError.failure("\(path): cannot write: \((error as NSError).localizedDescription)")
        }
    }

    /// (step, value) of `key` in records of `kind`, finite values only.
    static func series(_ records: [MetricRecord], _ kind: MetricRecord.Kind, _ key: String) -> [(x: Double, y: Double)] {
        records.filter { $0.kind == kind }.compactMap { r in r[key].flatMap { $0.isFinite ? (x: Double(r.step), y: $0) : nil } }
    }

    /// Whether the records are of a language model (tokens per second, bits per token).
    static func isLanguageModel(_ records: [MetricRecord]) -> Bool { records.contains { $0["tokens_per_s"] != nil } }

    public static func render(_ records: [MetricRecord]) -> [(name: String, svg: String)] {
        let steps = ChartAxis("step", includeZero: true)
        var charts: [(String, String)] = []
        let train = series(records, .train, "loss"), val = series(records, .eval, "val_loss")
        var lossSeries = [SVGLineChart.Series("training loss (mean since the last log)", color: SVGDocument.palette[0], points: train,
                                              markers: train.count <= 60)]
        if !val.isEmpty { lossSeries.append(SVGLineChart.Series("validation loss", color: SVGDocument.palette[3], points: val)) }
        charts.append(("metrics-loss.svg", SVGLineChart(title: "Loss", note: "per prediction, in nats", x: steps,
                                                        y: ChartAxis("loss"), series: lossSeries).svg()))
        let accuracy = series(records, .eval, "val_accuracy").map { (x: $0.x, y: $0.y * 100) }
        if !accuracy.isEmpty {
            let language = isLanguageModel(records)
            charts.append(("metrics-validation.svg", SVGLineChart(
                title: language ? "Validation: next-token accuracy" : "Validation accuracy",
                note: "at each evaluation", x: steps, y: ChartAxis("accuracy (%)", upper: 100),
                series: [SVGLineChart.Series("validation accuracy", color: SVGDocument.palette[2], points: accuracy)]).svg()))
        }
        let language = isLanguageModel(records)
        let rate = series(records, .train, language ? "tokens_per_s" : "samples_per_s")
        charts.append(("metrics-throughput.svg", SVGLineChart(
            title: "Throughput", note: "over each logging interval", x: steps, y: ChartAxis(language ? "tokens/s" : "samples/s"),
            series: [SVGLineChart.Series(language ? "tokens/s" : "samples/s", color: SVGDocument.palette[1], points: rate,
                                         markers: rate.count <= 60)]).svg()))
        let norm = series(records, .train, "grad_norm")
        if !norm.isEmpty {
            charts.append(("metrics-grad-norm.svg", SVGLineChart(
                title: "Gradient norm", note: "global norm of the averaged gradient at each logged step, before clipping", x: steps,
                y: ChartAxis("norm"), series: [SVGLineChart.Series("gradient norm", color: SVGDocument.palette[4], points: norm,
                                                                   markers: norm.count <= 60)]).svg()))
        }
        return charts
    }

    public static func markdown(_ records: [MetricRecord], source: String, charts: [String]) -> String {
        let train = records.filter { $0.kind == .train }, evals = records.filter { $0.kind == .eval }
        let language = isLanguageModel(records)
        var md = ["# Training metrics: `\(source.split(separator: "/").last.map(String.init) ?? source)`", ""]
        let wall = records.map(\.wallSeconds).filter(\.isFinite).max() ?? 0
        md.append("\(train.count) logged step\(train.count == 1 ? "" : "s") (\(train.first!.step)–\(train.last!.step)) and \(evals.count) evaluation\(evals.count == 1 ? "" : "s") over \(NumberText.fixed(wall, 1)) s of training.")
        md.append("")
        md.append("## Summary")
        md.append("")
        let losses = train.compactMap { r in r["loss"].map { (r.step, $0) } }.filter { $0.1.isFinite }
        if let first = losses.first, let last = losses.last, let best = losses.min(by: { $0.1 < $1.1 }) {
            md.append("- Training loss: \(NumberText.fixed(first.1, 4)) at step \(first.0), \(NumberText.fixed(last.1, 4)) at step \(last.0); lowest \(NumberText.fixed(best.1, 4)) at step \(best.0).")
        }
        if let last = evals.last {
            var line = "- Validation at step \(last.step): loss \(NumberText.fixed(last["val_loss"] ?? .nan, 4))"
            if language, let bits = last["val_bits_per_token"] { line += " (\(NumberText.fixed(bits, 4)) bits/token)" }
            line += ", accuracy \(NumberText.fixed((last["val_accuracy"] ?? .nan) * 100, 2))%"
            if let best = evals.max(by: { ($0["val_accuracy"] ?? 0) < ($1["val_accuracy"] ?? 0) }), best.step != last.step {
                line += "; best accuracy \(NumberText.fixed((best["val_accuracy"] ?? .nan) * 100, 2))% at step \(best.step)"
            }
            md.append(line + ".")
        }
        let rateKey = language ? "tokens_per_s" : "samples_per_s"
        let rates = train.compactMap { $0[rateKey] }.filter(\.isFinite)
        if !rates.isEmpty {
            md.append("- Throughput: median \(NumberText.grouped(Statistics.median(rates))) \(language ? "tokens" : "samples")/s over the logging intervals (\(NumberText.grouped(rates.min()!))–\(NumberText.grouped(rates.max()!))).")
        }
        let norms = train.compactMap { r in r["grad_norm"].map { (r.step, $0) } }.filter { $0.1.isFinite }
        if let top = norms.max(by: { $0.1 < $1.1 }) {
            md.append("- Gradient norm: median \(NumberText.fixed(Statistics.median(norms.map(\.1)), 4)), largest \(NumberText.fixed(top.1, 4)) at step \(top.0).")
        }
        md.append("")
        md.append("## Charts")
        md.append("")
        let titles = ["metrics-loss.svg": "Training and validation loss", "metrics-validation.svg": "Validation accuracy",
                      "metrics-throughput.svg": "Throughput", "metrics-grad-norm.svg": "Gradient norm"]
        for chart in charts {
            md.append("![\(titles[chart] ?? chart)](\(chart))")
            md.append("")
        }
        if !evals.isEmpty {
            md.append("## Evaluations")
            md.append("")
            md.append(language ? "| step | epoch | val loss | bits/token | accuracy | wall s |" : "| step | epoch | val loss | accuracy | wall s |")
            md.append(language ? "|---:|---:|---:|---:|---:|---:|" : "|---:|---:|---:|---:|---:|")
            for r in evals {
                let loss = NumberText.fixed(r["val_loss"] ?? .nan, 4), acc = NumberText.fixed((r["val_accuracy"] ?? .nan) * 100, 2) + "%"
                let bits = language ? " \(NumberText.fixed(r["val_bits_per_token"] ?? .nan, 4)) |" : ""
                md.append("| \(r.step) | \(r.epoch) | \(loss) |\(bits) \(acc) | \(NumberText.fixed(r.wallSeconds, 1)) |")
            }
            md.append("")
        }
        return md.joined(separator: "\n")
    }
}
