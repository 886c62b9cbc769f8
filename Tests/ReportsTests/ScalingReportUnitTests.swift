import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Host
import Reports
import XCTest

/// The scaling report's pieces without launching anything: the launch plan, the metrics and
/// their baseline, the words derived from them, and the SVG they are drawn in.
final class ScalingReportUnitTests: XCTestCase {
    private func plan(_ mode: ScalingMode, _ ranks: [Int], launcher: ScalingPlan.Launcher = .mpirun, global: Int? = nil) throws -> ScalingPlan {
        try ScalingPlan(mode: mode, launcher: launcher, ranks: ranks, batch: 32, accumulate: 1, globalBatch: global, cores: 2,
                        executable: "lockstep", config: "c.toml", overrides: ["train.steps=5"], launcherArguments: ["--mca", "btl", "self,tcp"],
                        directory: "out", timelines: false)
    }

    func testLaunchPlan() throws {
        let weak = try plan(.weak, [8, 1, 2, 2])
        XCTAssertEqual(weak.ranks, [1, 2, 8])
        XCTAssertEqual(weak.launches.map(\.batchPerRank), [32, 32, 32])
        XCTAssertEqual(weak.launches.map(\.oversubscribed), [false, false, true])
        XCTAssertEqual(weak.launches[1].arguments, ["mpirun", "-np", "2", "--bind-to", "core", "--mca", "btl", "self,tcp", "lockstep", "train",
                                                    "--config", "c.toml", "--summary", "out/runs/2.json", "--quiet", "--set", "train.steps=5"])
        XCTAssertEqual(Array(weak.launches[2].arguments.prefix(4)), ["mpirun", "-np", "8", "--oversubscribe"])
        let strong = try plan(.strong, [1, 2, 4], global: 64)
        XCTAssertEqual(strong.launches.map(\.batchPerRank), [64, 32, 16])
        XCTAssertEqual(strong.launches[2].arguments.suffix(2), ["--set", "train.batch=16"])
        XCTAssertThrowsError(try plan(.strong, [1, 3])) { error in
            XCTAssertTrue("\(error)".contains("the global batch 32 does not divide evenly over 3 ranks"), "\(error)")
        }
        let srun = try plan(.weak, [2, 4], launcher: .srun)
        XCTAssertEqual(Array(srun.launches[0].arguments.prefix(5)), ["srun", "-n", "2", "--mpi=pmix", "--cpu-bind=cores"])
        let oversubscribed = Array(srun.launches[1].arguments.drop { $0 != "srun" }.prefix(5))
        XCTAssertEqual(oversubscribed, ["srun", "-n", "4", "--mpi=pmix", "--overcommit"])
    }

    /// A run of `world` ranks with a summary of the given throughput and phases.
    private func run(_ world: Int, rate: Double, forward: Double, backward: Double, wait: Double, comm: Double,
                     batch: Int = 32) -> ScalingRun {
        var r = ScalingRun(world: world, batchPerRank: batch, oversubscribed: world > 2, command: ["x"])
        r.status = .ok
        r.summary = .object([
            "world": .number(Double(world)), "batch_per_rank": .number(Double(batch)), "accumulate": .number(1),
            "global_batch": .number(Double(batch * world)), "samples_per_s": .number(rate), "step_ms_median": .number(1),
            "comm_ms_total": .number(comm), "overlap_fraction": .number(comm > 0 ? max(0, 1 - wait / comm) : 0), "nodes": .number(1),
            "model": .string("m"), "phase_ms": .object(["data": .number(0.1), "forward": .number(forward), "backward": .number(backward),
                                                         "wait": .number(wait), "optimizer": .number(0.2)]),
        ])
        return r
    }

    func testMetricsAndBaseline() {
        var runs = [run(1, rate: 1000, forward: 10, backward: 20, wait: 0, comm: 0),
                    run(2, rate: 1800, forward: 10, backward: 20, wait: 3, comm: 5),
                    run(8, rate: 2000, forward: 40, backward: 80, wait: 60, comm: 60)]
        XCTAssertEqual(ScalingMetrics.derive(&runs, cores: 2), 1)
        let m = runs.map { $0.metrics! }
        XCTAssertEqual(m.map(\.efficiency), [1, 0.9, 0.25])
        XCTAssertEqual(m[1].stepMs, 1000 * 64 / 1800, accuracy: 1e-12, "1000 · global batch / throughput")
        XCTAssertEqual(m[2].breakdown.compute, 120)
        XCTAssertEqual(m[2].ranksPerCore, 4)
        XCTAssertEqual(m[0].computeUsPerSample, 1000 * 30 / 32, accuracy: 1e-9)
        // World 1 failed: the smallest world that ran is the baseline.
        runs[0].status = .failed
        XCTAssertEqual(ScalingMetrics.derive(&runs, cores: 2), 2)
        XCTAssertNil(runs[0].metrics)
        XCTAssertEqual(runs[2].metrics!.efficiency, 2000.0 / 1800 * 2 / 8, accuracy: 1e-12)
        // A summary without throughput is a failed run.
        runs[1].summary = .object(["world": .number(2)])
        _ = ScalingMetrics.derive(&runs, cores: 2)
        XCTAssertEqual(runs[1].status, .failed)
    }

    func testReportSaysWhatLimitsScaling() throws {
        let machine = MachineInfo(hostname: "h", cpuModel: "cpu", cores: 2, logicalCPUs: 2, lastLevelCache: nil, memoryGB: 1,
                                  openBLAS: "OpenBLAS", mpi: "Open MPI", launcherVersion: nil, kernel: "Linux")
        let p = try plan(.weak, [1, 2, 8])
        var report = ScalingReport(config: "c.toml", mode: .weak, launcher: .mpirun, launcherArguments: [], overrides: [], plan: p,
                                   machine: machine, created: Date(timeIntervalSince1970: 0))
        report.runs = [run(1, rate: 1000, forward: 10, backward: 20, wait: 0, comm: 0),
                       run(2, rate: 1800, forward: 10, backward: 20, wait: 3, comm: 5),
                       run(8, rate: 2000, forward: 40, backward: 80, wait: 60, comm: 60)]
        report.refresh()
        let charts = ScalingCharts.render(report)
        XCTAssertEqual(charts.map(\.name), ["throughput.svg", "efficiency.svg", "breakdown.svg"])
        let md = ScalingMarkdown.render(report, charts: charts.map(\.name))
        XCTAssertTrue(md.contains("a weak-scaling efficiency of 0.25"), md)
        XCTAssertTrue(md.contains("The run at 8 ranks had more ranks than this machine's 2 cores (up to 4 ranks per core)"), md)
        XCTAssertTrue(md.contains("The main limit is exposed communication") || md.contains("The main limit is oversubscription"), md)
        XCTAssertTrue(md.contains("Compute per sample rose 300% from 1 rank (938 → 3,750 µs) because 8 ranks share 2 cores"), md)
        XCTAssertTrue(md.contains("Efficiency stays at 0.9 or above up to 2 ranks and falls to 0.25 at 8 ranks."), md)
        XCTAssertEqual(md, ScalingMarkdown.render(report, charts: charts.map(\.name)), "rendering is deterministic")
        // Round trip through report.json renders the same.
        let decoded = try JSONDecoder().decode(ScalingReport.self, from: report.json())
        XCTAssertEqual(ScalingMarkdown.render(decoded, charts: charts.map(\.name)), md)
    }

    func testSVGIsWellFormedWhateverTheText() {
        let chart = SVGLineChart(title: "A <title> & \"quotes\" 'too'", note: "µs → ∞", x: ChartAxis("x < y", scale: .log2),
                                 y: ChartAxis("y & z", scale: .log10),
                                 series: [SVGLineChart.Series("a&b", color: "#000", points: [(1, 1), (2, 10), (4, 1000)]),
                                          SVGLineChart.Series("bad points", color: "#111", points: [(1, .nan), (0, -1)])])
        let bars = SVGStackedBarChart(title: "<bars>", categories: ["1", "2 (over)"], categoryLabel: "ranks", y: ChartAxis("ms"),
                                      parts: [.init("a", color: "#123", values: [1, 2]), .init("b", color: "#456", values: [0, 3])])
        for svg in [chart.svg(), bars.svg()] {
            let parser = XMLParser(data: Data(svg.utf8))
            XCTAssertTrue(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")\n\(svg)")
            XCTAssertFalse(svg.contains("nan"), "non-finite points are dropped")
        }
    }
}
