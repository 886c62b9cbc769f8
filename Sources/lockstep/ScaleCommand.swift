import ArgumentParser
import Bench
import Checkpoint
import Foundation
import Host
import Reports
import RunConfig
import Train

/// `lockstep scale`: runs `lockstep train` at each world size as a child process under
/// mpirun or srun, and writes the scaling report (report.json, report.md, SVG charts).
struct ScaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Run a scaling study: train at each world size, then write report.md, report.json and charts.",
        discussion: """
            Each world runs as `mpirun -np K [--bind-to core | --oversubscribe] lockstep train --config F --summary DIR/runs/K.json` \
            (or `srun -n K --mpi=pmix …` inside a SLURM allocation). Weak scaling keeps each rank's batch; strong scaling keeps \
            the global batch and gives each rank global / K. With --bench, the report adds the all-reduce cost model fitted on \
            that benchmark and its projection to larger worlds. See Docs/scaling.md.
            """)

    @Option(help: "The TOML config every run trains.")
    var config: String

    @Option(help: "World sizes, comma separated (default: powers of two up to this machine's cores).")
    var ranks: String?

    @Option(help: "weak (each rank's batch fixed) or strong (the global batch fixed).")
    var mode = "weak"

    @Option(help: "Strong scaling's global batch (default: train.batch × accumulate × the smallest world).")
    var globalBatch: Int?

    @Option(help: "mpirun, or srun (inside a SLURM allocation).")
    var launcher = "mpirun"

    @Option(help: "The report's folder (default runs/scale-<config>-<mode>).")
    var out: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config key in every run, e.g. --set train.steps=200 (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(name: [.customLong("mpirun-args"), .customLong("launcher-args")],
            help: ArgumentHelp("Extra launcher arguments, as one string, e.g. \"--mca btl self,tcp\".", valueName: "args"))
    var launcherArgs: String = ""

    @Option(help: "Seconds one run may take before it is stopped and reported failed.")
    var timeout: Double = 1800

    @Flag(help: "Also write each run's Chrome trace timeline to DIR/runs/<K>.trace.json.")
    var timelines = false

    @Flag(help: "Print the commands and exit without running them.")
    var dryRun = false

    @OptionGroup(title: "Cost model and projection")
    var projection: ProjectionOptions

    func run() throws {
        guard let scalingMode = ScalingMode(rawValue: mode) else { throw UsageError("--mode: expected weak or strong, got \(mode)") }
        guard let launch = ScalingPlan.Launcher(rawValue: launcher) else { throw UsageError("--launcher: expected mpirun or srun, got \(launcher)") }
        if let globalBatch, globalBatch < 1 { throw UsageError("--global-batch must be positive, got \(globalBatch)") }
        if globalBatch != nil && scalingMode == .weak { throw UsageError("--global-batch applies to --mode strong only") }
        guard timeout > 0 else { throw UsageError("--timeout must be positive, got \(timeout)") }
        try projection.validated()
        let settings = try TrainingConfig(Config.load(path: config, overrides: overrides))
        let env = ProcessInfo.processInfo.environment
        var machine = MachineInfo.current(launcher: launch.rawValue)
        var nodes = 1, cores = machine.cores
        switch launch {
        case .mpirun:
            guard ExternalCommand.find("mpirun") != nil else { throw UsageError("--launcher mpirun: mpirun is not on PATH (Debian: apt-get install openmpi-bin)") }
            if getuid() == 0 && (env["OMPI_ALLOW_RUN_AS_ROOT"] == nil || env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] == nil) && !launcherArgs.contains("--allow-run-as-root") {
                throw UsageError("running as root: mpirun refuses unless OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 are set (or --mpirun-args --allow-run-as-root)")
            }
        case .srun:
            guard !(env["SLURM_JOB_ID"] ?? "").isEmpty else {
                throw UsageError("--launcher srun runs inside a SLURM allocation (salloc or sbatch), and SLURM_JOB_ID is not set; use --launcher mpirun outside SLURM")
            }
            guard ExternalCommand.find("srun") != nil else { throw UsageError("--launcher srun: srun is not on PATH") }
            nodes = Int(env["SLURM_JOB_NUM_NODES"] ?? env["SLURM_NNODES"] ?? "") ?? 1
            cores = Int(env["SLURM_CPUS_ON_NODE"] ?? "") ?? cores
            machine.cores = cores
        }
        let worlds: [Int]
        if let ranks {
            worlds = try RankList.parse(ranks, option: "--ranks")
        } else {
            worlds = (0...10).map { 1 << $0 }.filter { $0 <= max(cores * nodes, 1) }
        }
        let fit = try projection.fit(print: !dryRun)
        // Paths inside the current folder stay relative, so that commands and reports read well and move with the folder.
        let cwd = FileManager.default.currentDirectoryPath
        func local(_ path: String) -> String {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            return absolute.hasPrefix(cwd + "/") ? String(absolute.dropFirst(cwd.count + 1)) : absolute
        }
        let directory = local(out ?? "runs/scale-\(URL(fileURLWithPath: config).deletingPathExtension().lastPathComponent)-\(scalingMode.rawValue)")
        let configPath = local(config)
        let extra = launcherArgs.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let plan: ScalingPlan
        do {
            plan = try ScalingPlan(mode: scalingMode, launcher: launch, ranks: worlds, batch: settings.train.batch,
                                   accumulate: settings.train.accumulate, globalBatch: globalBatch, cores: cores, nodes: nodes,
                                   executable: local(ExternalCommand.currentExecutable), config: configPath, overrides: overrides,
                                   launcherArguments: extra, directory: directory, timelines: timelines)
        } catch {
            throw UsageError("--mode \(scalingMode.rawValue): \(error.description) (--global-batch)")
        }
        if dryRun {
            for l in plan.launches { Console.line(ExternalCommand.shellLine(l.arguments)) }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: directory + "/runs", withIntermediateDirectories: true)
        } catch {
            throw UsageError("--out \(directory): cannot create it: \((error as NSError).localizedDescription)")
        }

        var report = ScalingReport(config: config, mode: scalingMode, launcher: launch, launcherArguments: extra, overrides: overrides,
                                   plan: plan, machine: machine)
        report.costModel = fit
        try ScalingReportFiles.write(report, to: directory)
        let modeText = scalingMode == .strong ? "strong scaling, global batch \(plan.globalBatch ?? 0)" : "weak scaling, batch \(settings.train.batch) per rank"
        Console.line("lockstep scale: \(settings.modelName), \(modeText), worlds \(worlds.map(String.init).joined(separator: ", ")) on \(cores) cores\(nodes > 1 ? " × \(nodes) nodes" : "") (\(launch.rawValue)); report in \(directory)")
        for (i, l) in plan.launches.enumerated() {
            Console.line("[\(i + 1)/\(plan.launches.count)] world \(l.world)\(l.oversubscribed ? " (oversubscribed)" : ""), batch \(l.batchPerRank) per rank: \(ExternalCommand.shellLine(l.arguments))")
            report.runs[i] = ScalingRunner.run(l, timeoutSeconds: timeout)
            report.refresh()
            let r = report.runs[i]
            if let m = r.metrics {
                Console.line("      ok in \(String(format: "%.1f", r.seconds ?? 0)) s: \(Int(m.samplesPerS.rounded())) samples/s, step \(String(format: "%.3g", m.stepMs)) ms (compute \(String(format: "%.3g", m.breakdown.compute)), exposed comm \(String(format: "%.3g", m.breakdown.exposedComm))), efficiency \(String(format: "%.2f", m.efficiency))")
            } else {
                Console.line("      FAILED after \(String(format: "%.1f", r.seconds ?? 0)) s: \(r.failure ?? "exit \(r.exitCode ?? -1)")")
                for line in r.stderrTail ?? [] { Console.line("        | " + line) }
            }
            try ScalingReportFiles.write(report, to: directory)
        }
        if let fit {
            do {
                report.projection = try ScalingProjection.make(report: report, fit: fit, networks: projection.networkSpecs(),
                                                               ranksPerNode: projection.ranksPerNode, ranks: projection.ranks(),
                                                               overlap: projection.overlap)
            } catch let e as ReportError {
                Console.line("no projection: \(e.description)")
            }
        }
        let files = try ScalingReportFiles.write(report, to: directory)
        Console.line("report: \(directory)/report.md (\(files.filter { $0.hasSuffix(".svg") }.count) charts, data in report.json)")
        let failed = report.runs.filter { $0.status != .ok }
        if !failed.isEmpty {
            throw TrainingError("scale: \(failed.count) of \(report.runs.count) runs failed (\(failed.map { "world \($0.world): \($0.failure ?? "exit \($0.exitCode ?? -1)")" }.joined(separator: "; "))); \(directory)/report.md lists what is missing")
        }
    }
}
