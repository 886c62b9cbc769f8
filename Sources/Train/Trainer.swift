import Checkpoint
import Comm
import Foundation
import GradSync
import Host
import NN
import RunConfig
import Tensor
import Trace

/// Options of one run that are not part of the config.
public struct RunOptions: Sendable {
    /// Print progress (rank 0 only in any case).
    public var printProgress = true
    /// After every step, compare a checksum of the parameters across ranks (a test mode).
    public var checkIdenticalRanks = false
    /// Record a timeline (see Timeline).
    public var recordTimeline = false
    /// Continue from a checkpoint.
    public var resume: ResumeSource?
    /// A test-only fault (see FaultInjection).
    public var fault: FaultInjection?
    /// What the rank is doing, for a watchdog started before the trainer (so that it watches
    /// start-up's collectives too); nil: the trainer's own, unwatched.
    public var activity: RankActivity?
    /// Rank 0 writes each logged step and evaluation to this JSON Lines file (--metrics).
    public var metricsPath: String?
    /// Rank 0 writes the same scalars as TensorBoard event files into this folder (--tensorboard).
    public var tensorboardDirectory: String?
    /// One core's peak FMA rate, for model FLOPs utilisation (rank 0's; nil: no MFU).
    public var corePeak: (peak: CorePeak, source: CorePeak.Source)?

    public init() {}
}

/// Where a run is: what a checkpoint must save to continue at the exact next example.
public struct TrainingState: Equatable, Sendable {
    /// Optimizer steps taken.
    public var step = 0
    /// The current epoch (0-based).
    public var epoch = 0
    /// Steps taken in the current epoch.
    public var epochStep = 0
    public var skippedSteps = 0
}

/// The training loop of one rank. A step, as Docs/architecture.md draws it: the step plan says
/// which examples this rank computes; for each micro-batch they are loaded, run forward and
/// backward, and backward hands finished gradient blocks to the gradient sync strategy, whose
/// sums overlap the rest of backward; `finish` waits for the sums; the ranks agree on stopping,
/// finiteness, the loss and their speeds; the optimizer updates what this rank owns and the
/// strategy makes the parameters whole again. The checkpointer, the evaluator and the metrics
/// each decide when they run. Everything a step touches is allocated before the first step.
public final class Trainer {
    public let settings: TrainingConfig
    public let comm: Communicator
    public let model: TrainableModel
    public let optimizer: Optimizer
    public let recorder: PhaseRecorder
    public let totalSteps: Int
    /// Optimizer steps in one epoch: the steps whose global batches together see the training set once.
    public let stepsPerEpoch: Int
    public var globalBatch: Int { plan.globalBatch }
    public internal(set) var state = TrainingState()
    /// Lines for the user about how the run was set up (resume fallbacks, adjustments).
    public internal(set) var notes: [String] = []
    let options: RunOptions
    var plan: StepPlan
    let sync: GradientSync
    let source: ExampleSource
    let schedule: LRSchedule
    let evaluator: Evaluator
    let checkpointer: Checkpointer
    let agreement: Agreement
    var resumedFrom: (path: String, seconds: Double)?
    /// Which library runs each GEMM shape, and how that was decided (`planGEMMs`).
    public private(set) var gemmPlan = GEMMPlanReport.unplanned

    /// Builds everything a run needs: reads the data, checks that all ranks agree, restores a
    /// checkpoint or broadcasts rank 0's initial parameters, and sizes the epoch.
    public convenience init(settings: TrainingConfig, comm: Communicator, options: RunOptions) throws {
        try self.init(settings: settings, comm: comm, options: options,
                      prepared: .prepare(settings, world: comm.size, rank: comm.rank, ranksOnNode: comm.localSize))
    }

    /// The same, from what this rank has prepared on its own (see `TrainingPreparation`).
    public init(settings: TrainingConfig, comm: Communicator, options: RunOptions, prepared: TrainingPreparation) throws {
        let workload = prepared.workload
        self.settings = settings
        self.comm = comm
        self.options = options
        BLASThreads.set(1)  // one rank per core: OpenBLAS's own threads would only compete
        recorder = PhaseRecorder(timeline: Timeline(enabled: options.recordTimeline, capacity: 0),
                                 activity: options.activity ?? RankActivity())
        // Every collective of start-up is a wait the watchdog watches.
        recorder.waiting(.waitingStartup)
        // Before the first collective whose presence depends on the config (the shared memory).
        try StartupCheck.verify(settings: settings, comm: comm)
        let choice = SyncChoice(settings.sync, comm: comm)
        let (built, examples) = try workload(choice.memory)
        let optimizer = Self.makeOptimizer(settings.optimizer, built.parameters)
        let resumed = try Self.resume(options.resume, settings: settings, comm: comm, layout: Checkpoint.layout(built.parameters, optimizer),
                                      activity: recorder.activity, notes: &notes)
        plan = try StepPlan(settings.train, world: comm.size, rank: comm.rank,
                            resumed: resumed.map { ($0.point.metadata.globalBatch, $0.point.path) }, config: settings.config)
        if let point = resumed?.point, plan.accumulate != settings.train.accumulate {
            notes.append("resuming at world \(comm.size) (saved at world \(point.metadata.world)): train.accumulate = \(plan.accumulate) keeps the global batch of \(plan.globalBatch)")
        }
        sync = choice.make(store: built.parameters, recorder: recorder, chunksPerRank: plan.microBatches, width: plan.fixedPoint)
        optimizer.updateRange = sync.updateRange
        model = options.fault?.wrap(built, rank: comm.rank, recorder: recorder) ?? built
        self.optimizer = options.fault?.wrap(optimizer, rank: comm.rank, recorder: recorder) ?? optimizer
        source = examples(plan.globalBatch)
        stepsPerEpoch = source.examplesPerEpoch / plan.globalBatch
        guard stepsPerEpoch >= 1 else {
            throw TrainingError("\(settings.config.origin(of: "train.batch", "train.accumulate")): "
                                + Workloads.batchTooLarge(perRank: plan.globalBatch / comm.size, examplesPerEpoch: source.examplesPerEpoch,
                                                          world: comm.size),
                                exitCode: ExitCode.usage)
        }
        let t = settings.train
        totalSteps = t.steps > 0 ? t.steps : t.epochs * stepsPerEpoch
        recorder.timeline.reserve(min(totalSteps, 100_000) * 16 + 64)
        let s = settings.schedule
        schedule = LRSchedule(lr: settings.lr, decay: s.decay, warmupSteps: s.warmupSteps, totalSteps: totalSteps,
                              scaling: s.linearScaling ? (plan.globalBatch, s.baseBatch) : nil)
        evaluator = Evaluator(model: model, source: source, comm: comm, settings: t)
        checkpointer = Checkpointer(settings.checkpoint, comm: comm, store: built.parameters, optimizer: optimizer)
        agreement = Agreement(comm: comm)
        if let resumed {
            if !t.initFrom.isEmpty { notes.append("train.init_from is not used: the run resumes from \(resumed.point.path)") }
            try restore(resumed.point, memory: choice.sharedParameters)
            resumedFrom = (resumed.point.path, resumed.seconds)
        } else if !t.initFrom.isEmpty {
            try initializeParameters(from: t.initFrom, memory: choice.sharedParameters)
        } else {
            try initializeParameters(seed: t.seed, memory: choice.sharedParameters)
        }
        let (source, plan, sync) = (source, plan, sync)
        gemmPlan = try Self.planGEMMs(settings, comm: comm) {
            Self.traceGEMMShapes(model: built, source: source, plan: plan, sync: sync)
        }
        recorder.activity.set(.starting, step: state.step)
    }

    /// What each gradient bucket holds, for a watchdog's verdict.
    public var bucketNames: [String] { sync.bucketNames }

    /// Trains to the end (or the accuracy target, or a stop signal) and returns the summary.
    public func run() throws -> RunSummary {
        printNotes()
        let t = settings.train
        var stepTimes = StepTimes()
        var evaluations: [RunSummary.EvalPoint] = []
        var timeToTarget: Double?
        var stoppedBy = StopReason.steps
        let trainStart = MonotonicClock.nanoseconds()
        let metrics = MetricsLog(examples: examplesKind, every: t.logEvery, totalSteps: totalSteps, stepsPerEpoch: stepsPerEpoch,
                                 globalBatch: plan.globalBatch, startStep: state.step, startTime: trainStart,
                                 utilisation: utilisation,
                                 printing: options.printProgress && comm.rank == 0, sinks: try metricsSinks())

        while state.step < totalSteps && stoppedBy == .steps {
            if state.epochStep == stepsPerEpoch {
                state.epoch += 1
                state.epochStep = 0
            }
            let stepStart = MonotonicClock.nanoseconds()
            let agreed = try trainStep(metrics)
            let stepEnd = MonotonicClock.nanoseconds()
            recorder.record(.step, start: stepStart, end: stepEnd)
            stepTimes.add(stepEnd - stepStart)
            state.step += 1
            state.epochStep += 1
            if options.checkIdenticalRanks { try checkIdenticalParameters() }

            let epochEnds = state.epochStep == stepsPerEpoch, last = state.step == totalSteps
            try metrics.step(state.step, epoch: state.epoch + 1, lossSum: agreed.lossSum, lossCount: agreed.lossCount,
                             lr: Double(schedule.lr(at: state.step - 1)),
                             gradientNorm: agreed.squares.squareRoot() * Double(plan.gradientScale), epochEnds: epochEnds, now: stepEnd)
            if evaluator.isDue(step: state.step, epochEnds: epochEnds, last: last) {
                let result = try recorder.measure(.evaluation) { () throws(CommError) in try evaluator.evaluate() }
                let elapsed = MonotonicClock.seconds(since: trainStart)
                evaluations.append(.init(step: state.step, accuracy: result.accuracy, loss: result.loss, elapsedS: elapsed))
                try metrics.evaluation(step: state.step, epoch: state.epoch + 1, result)
                if t.targetAccuracy > 0 && result.accuracy >= t.targetAccuracy {
                    timeToTarget = elapsed
                    stoppedBy = .targetAccuracy
                }
            }
            if agreed.stopSignal != 0 { stoppedBy = .signal(agreed.stopSignal) }
            if checkpointer.isDue(step: state.step, epochEnds: epochEnds, last: last, stopping: stoppedBy != .steps) {
                try recorder.measure(.checkpoint) { try checkpointer.save(checkpointMetadata(), optimizer: optimizer, sync: sync) }
            }
        }
        recorder.activity.set(.finished, step: state.step)
        try checkpointer.finish()
        let trainSeconds = MonotonicClock.seconds(since: trainStart)
        if stoppedBy.isSignal == false && evaluations.last?.step != state.step {
            let result = try evaluator.evaluate()
            evaluations.append(.init(step: state.step, accuracy: result.accuracy, loss: result.loss, elapsedS: trainSeconds))
            try metrics.evaluation(step: state.step, epoch: state.epoch + 1, result)
        }
        return try summarize(stepTimes: stepTimes, losses: metrics.losses, evaluations: evaluations, finalLoss: metrics.lastLoss,
                             trainSeconds: trainSeconds, timeToTarget: timeToTarget, stoppedBy: stoppedBy)
    }

    /// One optimizer step: this rank's micro-batches with the gradient sums overlapped with
    /// backward, the agreement, and the update.
    /// - Returns: what the ranks agreed on.
    private func trainStep(_ metrics: MetricsLog) throws -> Agreed {
        let step = state.step + 1
        recorder.step = step
        sync.beginStep(step)
        var loss = 0.0
        let computeStart = MonotonicClock.nanoseconds()
        let micros = plan.microBatches
        for micro in 0..<micros {
            let positions = plan.positions(micro: micro)
            recorder.measure(.data) { source.loadTraining(state, positions: positions) }
            let microLoss = recorder.measure(.forward) { model.forward(batch: positions.count, gradientScale: plan.lossScale) }
            recorder.measure(.backward) {
                model.backward(batch: positions.count, observer: sync.observer(forMicroBatch: micro, of: micros, loss: microLoss))
            }
            sync.microBatchDone(micro, of: micros)
            loss += microLoss
        }
        let computeSeconds = MonotonicClock.seconds(since: computeStart)
        let outcome = try recorder.measure(.commWait) { () throws(CommError) in try sync.finish() }
        let record = ControlRecord(step: outcome, loss: loss, examples: plan.examplesPerStep, plan: plan,
                                   predictionsPerExample: model.predictionsPerExample, computeSeconds: computeSeconds,
                                   gradients: model.parameters.gradients, checked: sync.checkedRange)
        try recorder.measure(.agree) { () throws(CommError) in try agreement.exchange(record) }
        let agreed = agreement.agreed
        plan.update(secondsPerExample: agreed.secondsPerExample)
        if agreed.nonFinite || !agreed.squares.isFinite {
            try skipNonFinite(step: step, found: outcome.nonFiniteSlice, localLoss: loss, metrics: metrics)
        } else {
            let scale = plan.gradientScale * clipFactor(squares: agreed.squares)
            recorder.measure(.optimizer) { optimizer.step(lr: schedule.lr(at: state.step), gradScale: scale) }
            try recorder.measure(.commWait) { () throws(CommError) in try sync.afterUpdate() }
        }
        return agreed
    }

    /// The factor that clips the step's averaged gradient to optimizer.clip_norm, from the
    /// squared global norm of the summed gradient; 1 without clipping.
    private func clipFactor(squares: Double) -> Float {
        guard settings.clipNorm > 0 else { return 1 }
        return gradientClipFactor(totalNorm: squares.squareRoot() * Double(plan.gradientScale), maxNorm: settings.clipNorm)
    }

    /// After the ranks found a non-finite gradient: stops the run (exit 4), or with
    /// train.skip_nonfinite drops the step's gradients and goes on.
    private func skipNonFinite(step: Int, found slice: Int?, localLoss: Double, metrics: MetricsLog) throws {
        let store = model.parameters
        let name = slice.map { store.slices[$0].name }
            ?? firstNonFinite(UnsafeBufferPointer(store.gradients.buffer)).flatMap { store.slice(containing: $0)?.name } ?? "?"
        guard settings.train.skipNonFinite else {
            try checkpointer.finish()
            let loss = localLoss.isFinite ? "" : ", where rank \(comm.rank)'s loss is \(localLoss)"
            throw TrainingError("step \(step): non-finite gradient, first in \(name)\(loss); the run stops and writes no checkpoint from this state. Lower optimizer.lr, check the data, or set train.skip_nonfinite = true to skip such steps",
                                exitCode: ExitCode.nonFinite)
        }
        state.skippedSteps += 1
        metrics.note("lockstep: step \(step): non-finite gradient in \(name); step skipped (train.skip_nonfinite)")
        store.zeroGradients()
    }

    /// What the run's examples are, for the progress lines.
    var examplesKind: MetricsLog.Examples {
        model.predictionsPerExample > 1 ? .tokens(context: model.predictionsPerExample) : .images
    }

    /// Runs `count` steps on the first batches of epoch 0 and returns each step's time (ns):
    /// the step benchmark's measurement, with the very code of training.
    public func timeSteps(_ count: Int) throws -> [UInt64] {
        model.parameters.zeroGradients()  // a benchmark may have replayed GEMMs into them
        let metrics = MetricsLog(examples: examplesKind, every: .max, totalSteps: count, stepsPerEpoch: 1, globalBatch: plan.globalBatch,
                                 startStep: 0,
                                 startTime: MonotonicClock.nanoseconds(), printing: false)
        var times: [UInt64] = []
        for i in 0..<count {
            state = TrainingState(step: i, epochStep: i % stepsPerEpoch)
            let start = MonotonicClock.nanoseconds()
            _ = try trainStep(metrics)
            times.append(MonotonicClock.nanoseconds() - start)
        }
        state = TrainingState()
        return times
    }
}

/// Why a run stopped.
enum StopReason: Equatable {
    case steps, targetAccuracy
    case signal(Int32)

    var isSignal: Bool { if case .signal = self { true } else { false } }

    /// As the run summary's `stopped_by` names it.
    var name: String {
        switch self {
        case .steps: "steps"
        case .targetAccuracy: "target_accuracy"
        case let .signal(signo): StopSignal.name(signo)
        }
    }
}

extension ControlRecord {
    /// This rank's record of a step: its stop signal, what the sum found, the sum of squares of
    /// the gradients it checks (non-finite if one of them is), its speed, and its share of the
    /// loss (`outcome` says which share it holds).
    init(step outcome: SyncOutcome, loss: Double, examples: Int, plan: StepPlan, predictionsPerExample: Int,
         computeSeconds: Double, gradients: Tensor, checked: Range<Int>) {
        self.init()
        stopSignal = Double(StopSignal.pending)
        nonFinite = outcome.nonFiniteSlice != nil ? 1 : 0
        squares = sumOfSquares(gradients, range: checked)
        secondsPerExample = computeSeconds / Double(max(examples, 1))
        let (sum, count): (Double, Int) = switch outcome.loss {
        case .own: (loss, examples)
        case let .world(total): (total, plan.globalBatch)
        case .none: (0, 0)
        }
        if sum.isFinite {
            lossSum = sum
            lossCount = Double(count * predictionsPerExample)
        }
    }
}
