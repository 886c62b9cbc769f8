import ArgumentParser
import Bench
import Checkpoint
import Comm
import Foundation
import Host
import NN
import Reports
import RunConfig
import Trace
import Train

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model, as one process or one rank per process under mpirun or srun.")

    @OptionGroup var configOptions: ConfigOptions

    @Option(help: "Write the run summary as JSON to this file (rank 0).")
    var summary: String?

    @Option(help: "Write a Chrome trace of every rank's steps to this file (rank 0).")
    var timeline: String?

    @Option(help: "Continue from a checkpoint: a file, or 'latest' in checkpoint.dir.")
    var resume: String?

    @Option(help: "Write each logged step and evaluation to this JSON Lines file (rank 0).")
    var metrics: String?

    @Option(help: "Write the same scalars as TensorBoard event files into this folder (rank 0).")
    var tensorboard: String?

    @Option(help: .hidden)
    var fault: String?

    @Flag(help: "After every step, check that all ranks hold bitwise-identical parameters.")
    var checkIdenticalRanks = false

    @Flag(help: "Print no progress lines.")
    var quiet = false

    func run() throws {
        let wallStart = MonotonicClock.nanoseconds()
        StopSignal.install()
        try World.start()
        // What each rank can get wrong on its own, before the ranks meet in any collective.
        let (settings, injected, prepared) = try StartupAgreement.run {
            let injected = try fault.map { spec throws(ConfigError) in try FaultOption.parse(spec) }
            let settings = try configOptions.load()
            let prepared = try TrainingPreparation.prepare(settings, world: World.size, rank: World.rank,
                                                           ranksOnNode: World.ranksOnNode)
            if World.rank == 0 {
                for (option, path) in [("--summary", summary), ("--timeline", timeline), ("--metrics", metrics)] {
                    if let path { try OutputFile.checkWritable(path, option: option) }
                }
            }
            return (settings, injected, prepared)
        }
        let comm = try World.communicator(settings.comm)
        var options = RunOptions()
        options.printProgress = !quiet
        options.checkIdenticalRanks = checkIdenticalRanks
        options.recordTimeline = timeline != nil
        options.resume = resume.map(ResumeSource.init)
        options.fault = injected
        options.activity = RankActivity()
        options.metricsPath = metrics
        options.tensorboardDirectory = tensorboard
        if comm.rank == 0 {
            options.corePeak = CorePeak.cachedOrMeasured(store: World.ranksOnNode <= ProcessInfo.processInfo.activeProcessorCount)
        }
        // Watching from the first collective on; stopped before MPI_Finalize on every path out.
        let watchdog = comm.size > 1
            ? try Watchdog(activity: options.activity!, comm: comm, timeoutSeconds: settings.comm.timeoutSeconds) : nil
        defer { watchdog?.stop() }
        let trainer = try Trainer(settings: settings, comm: comm, options: options, prepared: prepared)
        watchdog?.nameBuckets(trainer.bucketNames)
        if let resumed = trainer.resumedPath, trainer.state.step >= trainer.totalSteps {
            if comm.rank == 0 {
                FileHandle.standardError.write(Data("lockstep: nothing to do: \(resumed) is at step \(trainer.state.step) and this run ends at step \(trainer.totalSteps); raise train.steps or train.epochs to train further\n".utf8))
            }
            comm.shutdown()
            return
        }
        if comm.rank == 0 && !quiet {
            Console.line("lockstep \(Lockstep.version): \(settings.modelName), \(trainer.model.parameters.totalCount) parameters, world \(comm.size), global batch \(trainer.globalBatch), \(trainer.totalSteps) steps"
                         + (options.corePeak.map { ", MFU against \(NumberText.fixed($0.peak.gflops, 1)) GFLOP/s per core (\($0.source.rawValue))" } ?? ""))
            Console.line(trainer.gemmPlan.line)
            if let paths = (trainer.model as? Sequential)?.convolutionPaths { Console.line("convolutions (tensor.conv = \(settings.tensor.conv.rawValue)): \(paths)") }
        }
        var result = try trainer.run()
        result.wallS = MonotonicClock.seconds(since: wallStart)
        if let timeline {
            try TimelineWriter.write(trainer.recorder.timeline, comm: comm, to: timeline)
        }
        if comm.rank == 0 {
            if !quiet && (result.stoppedBy == "steps" || result.stoppedBy == "target_accuracy") {
                Console.line("done: \(result.steps) steps, " + result.outcomeText
                             + ", step median \(NumberText.fixed(result.stepMsMedian, 2)) ms")
            }
            if let summary {
                try write(result.json(), to: summary)
            }
        }
        comm.shutdown()
        watchdog?.stop()
        if result.stoppedBy == StopSignal.name(SIGTERM) || result.stoppedBy == StopSignal.name(SIGUSR1) {
            if comm.rank == 0 {
                FileHandle.standardError.write(Data("lockstep: stopped by \(result.stoppedBy) after step \(result.steps); checkpoint written, resume with --resume latest\n".utf8))
            }
            World.finish()
            Foundation.exit(ExitCode.preempted)
        }
    }
}

/// Writes `data` to `path`, with a one-line error naming the path.
func write(_ data: Data, to path: String) throws {
    do {
        try data.write(to: URL(fileURLWithPath: path))
    } catch {
        throw TrainingError("\(path): cannot write: \((error as NSError).localizedDescription)")
    }
}
