import Foundation
import Host

/// Runs the launches of a `ComparisonPlan` one after another, as child processes: each run's
/// stdout and stderr go to files in the work folder, its JSON result becomes a raw
/// `ComparisonRun` in the report, and the report (medians, ratios, table) is refreshed and
/// saved after every run. The first failing run ends the comparison with a one-line error
/// carrying its exit code and the telling lines of its stderr.
public enum ComparisonBenchmark {
    /// What every run's environment adds: one OpenBLAS thread per rank and, as root, the
    /// variables without which mpirun refuses to start.
    public static var environment: [String: String] {
        var env = ["OPENBLAS_NUM_THREADS": "1"]
        if getuid() == 0 {
            env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
            env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        }
        return env
    }

    /// torch's version as `python` imports it along with numpy and tomllib.
    /// - Throws: `ReportError` saying why it cannot (the last line of Python's stderr).
    public static func torchVersion(python: String, directory: String) throws -> String {
        let outcome = try ChildProcess.run(
            [python, "-c", "import tomllib, numpy, torch; print(torch.__version__)"], environment: environment,
            stdoutPath: directory + "/python-check.out", stderrPath: directory + "/python-check.err", timeout: 120)
        let version = ((try? String(contentsOfFile: outcome.stdoutPath, encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard outcome.exitCode == 0, !version.isEmpty else {
            let reason = outcome.stderrTail(lines: 1).last ?? "exit \(outcome.exitCode)"
            throw ReportError.failure("\(python) cannot import tomllib, numpy and torch (\(reason)); the reference needs Python 3.11 with torch and numpy, e.g. Debian's /usr/bin/python3 with python3-torch")
        }
        return version
    }

    /// Runs every launch of `plan` in order, appending to `report.runs`.
    /// - Parameters:
    ///   - directory: the work folder the plan's result paths point into.
    ///   - timeout: seconds one run may take.
    ///   - log: progress lines.
    ///   - save: called with the report after each run, and before a failure is thrown.
    /// - Throws: `ReportError` for the first run that fails, times out or writes no result.
    public static func run(_ plan: ComparisonPlan, report: inout ComparisonReport, directory: String, timeout: Double,
                           log: (String) -> Void, save: (ComparisonReport) throws -> Void) throws {
        let total = plan.launches.count
        for (i, launch) in plan.launches.enumerated() {
            do {
                try runOne(launch, order: i + 1, of: total, report: &report, directory: directory, timeout: timeout, log: log)
            } catch {
                try save(report)
                throw error
            }
            try save(report)
        }
        report.complete = true
        report.refresh()
        try save(report)
    }

    /// Runs `launch`, the `order`-th of `total`, and appends its record to the report.
    private static func runOne(_ launch: ComparisonPlan.Launch, order: Int, of total: Int, report: inout ComparisonReport,
                               directory: String, timeout: Double, log: (String) -> Void) throws {
        let arguments = launch.arguments(port: FreePort.find() ?? 29533 + order % 500)
        let command = ExternalCommand.shellLine(arguments)
        log("[\(order)/\(total)] \(launch.title)\(launch.oversubscribed ? " (oversubscribed)" : ""): \(command)")
        try? FileManager.default.removeItem(atPath: launch.resultPath)
        let load = ScalingRunner.loadAverage()
        let outcome = try ChildProcess.run(arguments, environment: environment, stdoutPath: "\(directory)/\(launch.label).out",
                                           stderrPath: "\(directory)/\(launch.label).err", timeout: timeout)
        func failure(_ what: String) -> ReportError {
            let tail = outcome.stderrTail()
            return ReportError.failure("bench compare: \(launch.title) \(what)\(tail.isEmpty ? "" : ": " + tail.joined(separator: " | "))"
                                 + "; its output is in \(outcome.stderrPath) and \(outcome.stdoutPath); command: \(command)")
        }
        if outcome.timedOut { throw failure("timed out after \(Int(timeout)) s and was stopped") }
        if outcome.exitCode != 0 { throw failure("failed with exit code \(outcome.exitCode)") }
        let figures: ComparisonRun.Figures
        do {
            figures = try ComparisonRun.figures(of: launch.system, at: launch.resultPath)
        } catch let e as ReportError {
            throw failure("exited 0 but \(e.description)")
        }
        if figures.world != launch.world {
            throw failure("ran at world \(figures.world), not \(launch.world)")
        }
        report.runs.append(ComparisonRun(
            system: launch.system, kind: launch.kind, world: launch.world, repetition: launch.repetition, order: order,
            samplesPerS: figures.samplesPerS, stepMsMedian: figures.stepMsMedian, peakRssMb: figures.peakRssMb,
            timeToTargetS: figures.timeToTargetS, testAccuracy: figures.testAccuracy, steps: figures.steps,
            seconds: outcome.seconds, loadAverage: load, command: command))
        report.refresh()
        var line = "      \(NumberText.grouped(Int(figures.samplesPerS.rounded()))) samples/s, step \(String(format: "%.2f", figures.stepMsMedian)) ms, peak RSS \(String(format: "%.0f", figures.peakRssMb)) MB/rank, test accuracy \(String(format: "%.2f", figures.testAccuracy * 100))%, \(figures.steps) step\(figures.steps == 1 ? "" : "s")"
        if launch.kind == .accuracy {
            line += figures.timeToTargetS.map { String(format: ", target reached in %.1f s", $0) } ?? ", target NOT reached"
        }
        log(line + String(format: " (%.1f s in all)", outcome.seconds))
    }
}
