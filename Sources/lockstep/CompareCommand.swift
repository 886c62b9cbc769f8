import ArgumentParser
import Bench
import Checkpoint
import Foundation
import Host
import Reports
import RunConfig
import Train

/// `lockstep bench compare`: Lockstep against the PyTorch DDP reference on the same config,
/// machine and mpirun, side by side; prints a table of medians and ratios and writes every
/// raw run to JSON.
struct CompareBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare Lockstep with PyTorch DDP (scripts/bench/torch_reference.py) on one config, side by side.",
        discussion: """
            For each world size, runs `mpirun -np W --bind-to core lockstep train --config F …` and \
            `mpirun -np W --bind-to core PYTHON torch_reference.py --config F …` alternately, --repeat times each \
            (--oversubscribe when W exceeds the cores): throughput runs of --steps timed steps, then with \
            --target-accuracy time-to-accuracy runs. Prints medians [min–max] and ratios Lockstep/PyTorch of \
            samples/s, step time, peak RSS per rank and time to accuracy, and the scaling efficiency from world 1; \
            writes the raw runs and the medians to --json. --quick is a smoke test of the harness: 1 repeat, \
            20 steps, worlds 1 and 2.
            """)

    @Option(help: "The TOML config both systems train (fashion-mnist data).")
    var config: String

    @Option(help: "World sizes, comma separated (default 1,2).")
    var worlds: String?

    @Option(name: .customLong("repeat"), help: "Runs per system and world (default 5; --quick 1).")
    var repeats: Int?

    @Option(help: "Timed steps per throughput run (default 200; --quick 20).")
    var steps: Int?

    @Option(help: "Also measure the time to this test accuracy (0…1), e.g. 0.88.")
    var targetAccuracy: Double?

    @Option(help: "With --target-accuracy: evaluate every this many steps (0: at each epoch's end only).")
    var evalEvery: Int = 0

    @Option(help: "With --target-accuracy: give up after this many epochs.")
    var maxEpochs: Int = 20

    @Option(help: "The PyTorch DDP reference script.")
    var reference = "scripts/bench/torch_reference.py"

    @Option(help: "The Python that runs it (3.11, with torch and numpy).")
    var python = "/usr/bin/python3"

    @Option(help: "Write the raw runs and the medians here (default runs/bench/compare-<config>.json).")
    var json: String?

    @Option(help: "Seconds one run may take before it is stopped and the comparison fails (default 900; --quick 300).")
    var timeout: Double?

    @Flag(help: "A smoke test of the harness: 1 repeat, 20 steps, worlds 1,2, no accuracy target.")
    var quick = false

    @Flag(help: "Print the commands and exit without running them.")
    var dryRun = false

    func run() throws {
        let worldList = try RankList.parse(worlds ?? "1,2", option: "--worlds")
        let repeatCount = repeats ?? (quick ? 1 : 5)
        let timedSteps = steps ?? (quick ? 20 : 200)
        guard repeatCount >= 1 else { throw UsageError("--repeat must be positive, got \(repeatCount)") }
        guard timedSteps >= 1 else { throw UsageError("--steps must be positive, got \(timedSteps)") }
        let runTimeout = timeout ?? (quick ? 300 : 900)
        guard runTimeout > 0 else { throw UsageError("--timeout must be positive, got \(runTimeout)") }
        var target: ComparisonPlan.Target?
        if let targetAccuracy {
            if quick { throw UsageError("--quick measures no time to accuracy; drop --target-accuracy or --quick") }
            guard targetAccuracy > 0 && targetAccuracy <= 1 else {
                throw UsageError("--target-accuracy is a fraction in (0, 1], e.g. 0.88, got \(targetAccuracy)")
            }
            guard evalEvery >= 0 else { throw UsageError("--eval-every must be 0 or more, got \(evalEvery)") }
            guard maxEpochs >= 1 else { throw UsageError("--max-epochs must be positive, got \(maxEpochs)") }
            target = .init(accuracy: targetAccuracy, evalEvery: evalEvery, maxEpochs: maxEpochs)
        }
        let settings = try TrainingConfig(Config.load(path: config))
        guard settings.data.dataset == .fashionMNIST else {
            throw UsageError("\(config): data.dataset is \"\(settings.data.dataset.rawValue)\"; the PyTorch reference reads fashion-mnist only")
        }
        guard let mpirun = ExternalCommand.find("mpirun") else {
            throw UsageError("mpirun is not on PATH (Debian: apt-get install openmpi-bin)")
        }
        guard let pythonPath = ExternalCommand.find(python) else {
            throw UsageError("--python \(python): not found or not executable")
        }
        guard FileManager.default.isReadableFile(atPath: reference) else {
            throw UsageError("--reference \(reference): no such file (run from the repository root, or pass --reference)")
        }
        let machine = MachineInfo.current()
        let stem = URL(fileURLWithPath: config).deletingPathExtension().lastPathComponent
        let output = json ?? "runs/bench/compare-\(stem)\(quick ? "-quick" : "").json"
        let work = NSTemporaryDirectory() + "lockstep-compare-\(stem)-\(UUID().uuidString.prefix(8))"
        var lockstepOverrides: [String] = []
        if !settings.checkpoint.directory.isEmpty { lockstepOverrides.append("checkpoint.dir=") }
        let plan = ComparisonPlan(config: config, worlds: worldList, repeats: repeatCount, steps: timedSteps, target: target,
                                  cores: machine.cores, mpirun: mpirun, lockstep: ExternalCommand.currentExecutable,
                                  python: pythonPath, reference: reference, directory: work, lockstepOverrides: lockstepOverrides)
        if dryRun {
            for l in plan.launches { Console.line(ExternalCommand.shellLine(l.arguments(port: 29533))) }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TrainingError("cannot create the folders for \(output) and \(work): \((error as NSError).localizedDescription)")
        }
        ChildProcess.stopOnInterrupt()
        let torch: String
        do {
            torch = try ComparisonBenchmark.torchVersion(python: pythonPath, directory: work)
        } catch let e as TrainingError {
            throw UsageError("--python \(python): \(e.description)")
        }
        var report = ComparisonReport(config: config, model: settings.modelName, batchPerRank: settings.train.batch, plan: plan,
                                      quick: quick, torchVersion: torch, python: pythonPath, reference: reference, machine: machine)
        Console.line("lockstep bench compare: \(settings.modelName), worlds \(worldList.map(String.init).joined(separator: ", ")), \(repeatCount) run\(repeatCount == 1 ? "" : "s") each, \(timedSteps) timed steps\(target.map { ", time to \(String($0.accuracy)) accuracy" } ?? ""); Lockstep \(Lockstep.version) vs PyTorch \(torch); \(plan.launches.count) runs, results in \(output)")
        if !lockstepOverrides.isEmpty {
            Console.line("note: the config writes checkpoints; Lockstep's runs here do not (--set checkpoint.dir=), as the reference writes none")
        }
        try ComparisonBenchmark.run(plan, report: &report, directory: work, timeout: runTimeout, log: Console.line,
                                    save: { try write($0.json(), to: output) })
        try? FileManager.default.removeItem(atPath: work)
        Console.line("")
        Console.line(report.table)
        Console.line("")
        Console.line("raw runs, medians and ratios: \(output)")
    }
}
