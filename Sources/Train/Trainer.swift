import Comm
import Data
import Foundation
import NN
import Tensor

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

    public init() {}
}

/// The training loop of one rank.
///
/// A step: for each of `accumulate` micro-batches, assemble this rank's shard of the global
/// batch, forward, loss, backward; the last micro-batch's backward hands finished gradient
/// buckets to the reducer, whose all-reduces overlap the rest of backward; then wait for
/// them, check they are finite, and take the optimizer step with the gradients averaged
/// over the world. A one-value all-reduce then lets every rank agree whether a stop signal
/// arrived. Everything a step touches is allocated before the first step.
public final class Trainer {
    public let settings: TrainingConfig
    public let comm: Communicator
    public let model: Sequential
    public let optimizer: Optimizer
    public let reducer: GradientReducer
    public let timeline: Timeline
    /// Micro-batches per step: the config's, or what keeps a resumed run's global batch.
    public let accumulate: Int
    public let globalBatch: Int
    /// Optimizer steps in one epoch, the same on every rank.
    public let stepsPerEpoch: Int
    public let totalSteps: Int
    public private(set) var state = TrainingState()
    /// Lines for the user about how the run was set up (resume fallbacks, adjustments).
    public private(set) var notes: [String] = []
    private let options: RunOptions
    private let loader: BatchLoader
    private let sampler: DistributedSampler
    private let evaluator: Evaluator
    private let schedule: LRSchedule
    private let wholeGradients: WholeGradients
    private let progress: ProgressReporter
    private let checkpoints: CheckpointWriter?
    private var resumedFrom: (path: String, seconds: Double)?
    private let activity: RankActivity
    private var watchdog: Watchdog?
    /// Deterministic mode's exact gradient sum, or nil.
    private let exact: ExactGradientSum?
    /// Whether each rank updates only its shard (optimizer.sharded, at world > 1).
    private let sharded: Bool
    /// With the parameters and gradients of a sharded one-node world in memory its ranks share
    /// (comm.shared_memory): the bucketed sum of the gradients there, overlapped with backward.
    private let sharedSum: SharedGradientSum?
    /// That shared memory, or nil.
    private var nodeMemory: NodeSharedMemory? { sharedSum?.memory }
    /// The split of each step's global batch by the ranks' speed (train.balance, at world > 1), or nil.
    private var balancer: BatchBalancer?
    /// Whether each rank takes a contiguous part of every step's global batch from the epoch's
    /// global order (deterministic mode: whole chunks; train.balance: a part sized by its
    /// speed), with each sample's loss scaled by 1 / global batch so that the summed gradients
    /// are already the mean. Otherwise a rank reads its interleaved DistributedSampler shard,
    /// averages over its own samples, and the all-reduced sum is divided by the world size.
    private var takesPartsOfGlobalBatch: Bool { exact != nil || balancer != nil }
    /// The gradient scale of a micro-batch's loss (see `takesPartsOfGlobalBatch`).
    private var lossScale: Float { 1 / Float(takesPartsOfGlobalBatch ? globalBatch : settings.train.batch * accumulate) }
    /// Time spent per phase over the run (ns).
    private var phases = PhaseTimes()
    /// The samples this rank's loss sum covers in the coming step: its share of the global
    /// batch, or in deterministic mode all of it on rank 0 (which holds the exact global loss)
    /// and none elsewhere.
    private var lossSamplesPerStep: Int {
        if exact != nil { return comm.rank == 0 ? globalBatch : 0 }
        return balancer?.shares[comm.rank] ?? settings.train.batch * accumulate
    }
    /// Deterministic mode: each local chunk's loss sum, and the time of the exact sums (ns).
    private lazy var chunkLosses = [Double](repeating: 0, count: exact?.chunksPerRank ?? 0)
    /// Communication the step waits for in full: deterministic mode's exact sums, and the
    /// sharded optimizer's reduce-scatter and allgather (ns).
    private var blockingCommNanoseconds: UInt64 = 0
    /// Control values agreed by all-reduces. Every step a max over `maxControl`: the stop
    /// signal, the non-finite flag and, with train.balance, `speedControl`, one slot per rank
    /// for its compute seconds per sample (zero in the other ranks' copies). At logging steps a
    /// sum over `sumControl`: loss sum and sample count.
    private var control: [Double]
    private var speedControl: Range<Int> { 2..<(control.count - 2) }
    private var maxControl: Range<Int> { 0..<speedControl.upperBound }
    private var sumControl: Range<Int> { (control.count - 2)..<control.count }

    /// Builds everything a run needs: checks that all ranks agree, restores a checkpoint or
    /// broadcasts rank 0's initial parameters, and sizes the epoch.
    public init(settings: TrainingConfig, comm: Communicator, data: (train: LabeledImages, test: LabeledImages),
                options: RunOptions) throws {
        self.settings = settings
        self.comm = comm
        self.options = options
        let activity = RankActivity()
        self.activity = activity
        BLASThreads.set(1)  // one rank per core: OpenBLAS's own threads would only compete
        let t = settings.train
        // train.balance gives a rank up to half as many samples again as the even share.
        let balancing = t.balance && comm.size > 1
        // Before the first collective whose presence depends on the config (the shared memory).
        try StartupCheck.verify(settings: settings, comm: comm)
        var nodeMemory: NodeSharedMemory?
        let memory: ParameterMemory = { count in
            // The sharded optimizer of a one-node world shares its buffers (comm.shared_memory);
            // compression is a choice of what travels, so it keeps the ring.
            let c = settings.comm
            guard settings.shardedOptimizer && c.sharedMemory && c.allReduce.compression == .none,
                  let shared = try (comm as? MPICommunicator)?.makeNodeSharedMemory(count: count) else {
                return ParameterStore.privateMemory(count)
            }
            nodeMemory = shared
            return (TensorStorage(borrowing: shared.parameters, from: shared),
                    TensorStorage(borrowing: shared.gradients[shared.rank], from: shared))
        }
        model = try Sequential(spec: settings.model,
                               maxBatch: t.deterministic ? t.chunk : (balancing ? t.batch + t.batch / 2 : t.batch),
                               memory: memory)
        optimizer = switch settings.optimizer {
        case let .sgd(momentum, nesterov, weightDecay):
            SGD(model.parameters, momentum: Float(momentum), nesterov: nesterov, weightDecay: Float(weightDecay))
        case let .adamW(beta1, beta2, epsilon, weightDecay):
            AdamW(model.parameters, beta1: beta1, beta2: beta2, epsilon: Float(epsilon),
                  weightDecay: Float(weightDecay))
        }
        let layout = Checkpoint.layout(model.parameters, optimizer)

        var resumePoint: Resume.Point?
        if let source = options.resume {
            let start = MonotonicClock.nanoseconds()
            resumePoint = try Resume.load(source, checkpointDirectory: settings.checkpoint.directory, comm: comm,
                                          layout: layout, notes: &notes)
            resumedFrom = (resumePoint!.path, MonotonicClock.seconds(since: start))
        }
        if let point = resumePoint {
            let savedBatch = point.int(Checkpoint.Key.globalBatch)
            let perStep = t.batch * comm.size
            guard savedBatch % perStep == 0 else {
                let worlds = (1...max(savedBatch / t.batch, 1)).filter { savedBatch % (t.batch * $0) == 0 }
                let batches = savedBatch % comm.size == 0
                    ? (1...(savedBatch / comm.size)).filter { (savedBatch / comm.size) % $0 == 0 } : []
                let alternative = batches.isEmpty
                    ? "; no per-rank batch works at world \(comm.size), since \(savedBatch) samples do not split evenly over \(comm.size) ranks"
                    : ", or set train.batch to one of \(batches.map(String.init).joined(separator: ", ")) at world \(comm.size)"
                throw TrainingError("cannot resume \(point.path) at world \(comm.size): its global batch \(savedBatch) is not a multiple of train.batch \(t.batch) × \(comm.size) ranks, so the sample order would change; resume at world \(worlds.map(String.init).joined(separator: ", "))\(alternative)",
                                    exitCode: ExitCode.usage)
            }
            accumulate = savedBatch / perStep
            if accumulate != t.accumulate {
                notes.append("resuming at world \(comm.size) (saved at world \(point.int(Checkpoint.Key.world))): train.accumulate = \(accumulate) keeps the global batch of \(savedBatch)")
            }
        } else {
            accumulate = t.accumulate
        }
        globalBatch = t.batch * comm.size * accumulate
        let plan = BucketPlan(slices: model.parameters.slices, capBytes: Int(settings.comm.bucketMB * 1_048_576))
        if t.deterministic {
            guard (t.batch * accumulate) % t.chunk == 0 else {
                throw TrainingError("train.chunk = \(t.chunk) must divide the \(t.batch * accumulate) samples each rank takes per step (train.batch × accumulate) in deterministic mode",
                                    exitCode: ExitCode.usage)
            }
            let chunks = globalBatch / t.chunk
            let width = t.fixedPoint ?? .auto(chunks: chunks)
            guard chunks <= width.maxChunks else {
                let fix = width == .int32 ? "set train.fixed_point = \"int64\" or raise train.chunk" : "raise train.chunk"
                throw TrainingError("deterministic mode sums at most \(width.maxChunks) chunks per step in \(width.rawValue); \(globalBatch) samples in chunks of \(t.chunk) are \(chunks): \(fix)",
                                    exitCode: ExitCode.usage)
            }
            exact = ExactGradientSum(store: model.parameters, comm: comm, plan: plan, chunk: t.chunk,
                                     chunksPerRank: t.batch * accumulate / t.chunk, width: width)
        } else {
            exact = nil
        }
        sharded = settings.shardedOptimizer && comm.size > 1
        balancer = balancing
            ? BatchBalancer(world: comm.size, perRank: t.batch * accumulate, maxShare: model.maxBatch * accumulate,
                            minimum: accumulate)
            : nil
        control = [Double](repeating: 0, count: 2 + (balancing ? comm.size : 0) + 2)
        if sharded {
            optimizer.updateRange = shard(of: comm.rank, count: model.parameters.totalCount, ranks: comm.size)
        }

        sampler = DistributedSampler(datasetCount: data.train.count, world: comm.size, rank: comm.rank, shuffle: t.shuffle,
                                     seed: t.seed, dropLast: false)
        stepsPerEpoch = sampler.samplesPerRank / (t.batch * accumulate)
        guard stepsPerEpoch >= 1 else {
            throw TrainingError("train.batch × accumulate = \(t.batch * accumulate) per rank exceeds the \(sampler.samplesPerRank) training samples each of \(comm.size) ranks gets per epoch; lower train.batch or use fewer ranks",
                                exitCode: ExitCode.usage)
        }
        totalSteps = t.steps > 0 ? t.steps : t.epochs * stepsPerEpoch
        let s = settings.schedule
        schedule = LRSchedule(lr: settings.lr, decay: s.decay, warmupSteps: s.warmupSteps, totalSteps: totalSteps,
                              scaling: s.linearScaling ? (globalBatch, s.baseBatch) : nil)
        loader = BatchLoader(data: data.train, capacity: model.maxBatch)
        evaluator = Evaluator(model: model, test: data.test, comm: comm)
        timeline = Timeline(enabled: options.recordTimeline, capacity: min(totalSteps, 100_000) * 16 + 64)
        reducer = GradientReducer(store: model.parameters, comm: comm, plan: plan, exact: exact,
                                  progress: settings.comm.progress, timeline: timeline, activity: activity)
        let store = model.parameters, timeline = timeline
        sharedSum = nodeMemory.map { SharedGradientSum(store: store, memory: $0, plan: plan, timeline: timeline, activity: activity) }
        wholeGradients = WholeGradients(model.parameters)
        progress = ProgressReporter(totalSteps: totalSteps, totalEpochs: (totalSteps + stepsPerEpoch - 1) / stepsPerEpoch,
                                    globalBatch: globalBatch, enabled: options.printProgress && comm.rank == 0)
        checkpoints = comm.rank == 0 && !settings.checkpoint.directory.isEmpty
            ? try CheckpointWriter(directory: settings.checkpoint.directory, keep: settings.checkpoint.keep,
                                   store: model.parameters, optimizer: optimizer)
            : nil

        if let point = resumePoint {
            try restore(point)
        } else {
            if let nodeMemory {
                // One copy for the node: rank 0 fills it.
                if comm.rank == 0 { model.initialize(seed: t.seed) }
                try nodeMemory.synchronize()
            } else {
                model.initialize(seed: t.seed)
                try model.parameters.values.buffer.withRawBytes { (bytes) throws(CommError) in try comm.broadcast(bytes, root: 0) }
            }
        }
    }

    /// Copies a checkpoint's tensors in and positions the run at its step and sample.
    private func restore(_ point: Resume.Point) throws {
        let n = model.parameters.totalCount * 4
        point.data.withUnsafeBytes { raw in
            // Node-shared parameters are one copy, which rank 0 writes.
            if nodeMemory == nil || comm.rank == 0 {
                UnsafeMutableRawPointer(model.parameters.values.pointer).copyMemory(from: raw.baseAddress!, byteCount: n)
            }
            for (i, s) in optimizer.state.enumerated() {
                UnsafeMutableRawPointer(s.buffer.pointer).copyMemory(from: raw.baseAddress! + (i + 1) * n, byteCount: n)
            }
        }
        try nodeMemory?.synchronize()
        optimizer.steps = point.int(Checkpoint.Key.optimizerSteps)
        state.step = point.int(Checkpoint.Key.step)
        state.epoch = point.int(Checkpoint.Key.epoch)
        state.skippedSteps = point.int(Checkpoint.Key.skippedSteps)
        let position = point.int(Checkpoint.Key.samplerGlobalPosition)
        guard position % globalBatch == 0, sampler.localPosition(globalPosition: position) != nil else {
            throw TrainingError("\(point.path): sampler position \(position) is not a whole number of global batches of \(globalBatch)")
        }
        state.epochStep = position / globalBatch
        if point.metadata[Checkpoint.Key.configHash] != SHA256.hex(settings.config.canonicalText) {
            notes.append("the config differs from the one \(point.path) was written with; the model and optimizer match")
        }
    }

    /// Trains to the end (or the accuracy target, or a stop signal) and returns the summary.
    public func run() throws -> RunSummary {
        if comm.size > 1 {
            // Started here, not in init: its thread must stop (defer) before any exit path.
            let slices = model.parameters.slices, plan = reducer.plan
            let names = plan.buckets.indices.map { plan.describe($0, slices) }
            watchdog = try Watchdog(activity: activity, comm: comm, timeoutSeconds: settings.comm.timeoutSeconds,
                                    describeBucket: { names.indices.contains($0) ? names[$0] : "?" })
        }
        defer { watchdog?.stop() }
        if comm.rank == 0 {
            // What changed about the run goes to stderr even with --quiet.
            var lines = notes
            if let kernel = BLASKernel.replacementNote { lines.append(kernel) }
            if let r = resumedFrom { lines.append("resuming from \(r.path) at step \(state.step) (epoch \(state.epoch + 1))") }
            for line in lines { FileHandle.standardError.write(Data("lockstep: note: \(line)\n".utf8)) }
        }
        let t = settings.train
        var indices = epochIndices(state.epoch)
        var stepNanos = [UInt64](repeating: 0, count: max(totalSteps - state.step, 0))
        var lossSinceLog = 0.0, samplesSinceLog = 0
        var losses: [RunSummary.LossPoint] = []
        var evals: [RunSummary.EvalPoint] = []
        var lastLoss = Double.nan
        var timeToTarget: Double?
        var stoppedBy = "steps"
        let trainStart = MonotonicClock.nanoseconds()
        var lastLogTime = trainStart, lastLogStep = state.step
        let firstStep = state.step
        var stopSignal: Int32 = 0

        training: while state.step < totalSteps {
            if state.epochStep == stepsPerEpoch {
                state.epoch += 1
                state.epochStep = 0
                indices = epochIndices(state.epoch)
            }
            let stepNumber = state.step + 1
            timeline.step = state.step
            activity.set(.computing, step: stepNumber)
            stallIfInjected(at: .step, step: stepNumber)
            let stepStart = MonotonicClock.nanoseconds()
            let lossSamples = lossSamplesPerStep
            let localLoss = try trainStep(indices, stepNumber: stepNumber)
            let stepEnd = MonotonicClock.nanoseconds()
            timeline.record(.step, start: stepStart, end: stepEnd)
            stepNanos[state.step - firstStep] = stepEnd - stepStart
            state.step += 1
            state.epochStep += 1
            if localLoss.isFinite {
                lossSinceLog += localLoss
                samplesSinceLog += lossSamples
            }

            if options.checkIdenticalRanks { try checkIdenticalParameters() }

            // Agree on a stop signal every step; sum the losses at logging steps.
            let epochEnds = state.epochStep == stepsPerEpoch
            let last = state.step == totalSteps
            let logging = state.step % t.logEvery == 0 || epochEnds || last
            stopSignal = Int32(control[0])
            if logging {
                let sums = sumControl
                control[sums.lowerBound] = lossSinceLog
                control[sums.lowerBound + 1] = Double(samplesSinceLog)
                activity.set(.waitingControl, step: stepNumber)
                try control.withUnsafeMutableBufferPointer { (b) throws(CommError) in
                    try comm.allReduce(UnsafeMutableBufferPointer(rebasing: b[sums]), .sum)
                }
                lastLoss = control[sums.lowerBound] / control[sums.lowerBound + 1]
                losses.append(.init(step: state.step, loss: lastLoss))
                let now = MonotonicClock.nanoseconds()
                let rate = Double((state.step - lastLogStep) * globalBatch) / (Double(now - lastLogTime) / 1e9)
                let perStep = Double(now - trainStart) / 1e9 / Double(state.step - firstStep)
                progress.step(state.step, epoch: state.epoch + 1, loss: lastLoss, samplesPerSecond: rate,
                              secondsLeft: perStep * Double(totalSteps - state.step))
                lossSinceLog = 0
                samplesSinceLog = 0
                lastLogTime = now
                lastLogStep = state.step
            }
            if (t.evalEvery > 0 && state.step % t.evalEvery == 0) || epochEnds || last {
                activity.set(.evaluating, step: stepNumber)
                let e0 = MonotonicClock.nanoseconds()
                let (accuracy, loss) = try evaluator.evaluate()
                let e1 = MonotonicClock.nanoseconds()
                timeline.record(.evaluation, start: e0, end: e1)
                phases.evaluation += e1 - e0
                evals.append(.init(step: state.step, accuracy: accuracy, loss: loss, elapsedS: Double(e1 - trainStart) / 1e9))
                progress.evaluation(step: state.step, accuracy: accuracy, loss: loss)
                if t.targetAccuracy > 0 && accuracy >= t.targetAccuracy && timeToTarget == nil {
                    timeToTarget = Double(e1 - trainStart) / 1e9
                    stoppedBy = "target_accuracy"
                }
            }
            let c = settings.checkpoint
            if stopSignal != 0 || last || timeToTarget != nil || (c.everySteps > 0 && state.step % c.everySteps == 0)
                || (c.everyEpoch && epochEnds) {
                if sharded {
                    // Rank 0 writes the whole optimizer state: gather every rank's shard of it.
                    for s in optimizer.state { try comm.allGatherShards(s.buffer.buffer) }
                }
                try saveCheckpoint()
            }
            if stopSignal != 0 {
                stoppedBy = StopSignal.name(stopSignal)
                break training
            }
            if timeToTarget != nil { break training }
        }
        activity.set(.finished, step: state.step)
        try checkpoints?.finish()
        let trainSeconds = Double(MonotonicClock.nanoseconds() - trainStart) / 1e9
        if stopSignal == 0 && evals.last?.step != state.step {
            let (accuracy, loss) = try evaluator.evaluate()
            evals.append(.init(step: state.step, accuracy: accuracy, loss: loss, elapsedS: trainSeconds))
        }
        return try summarize(stepNanos: Array(stepNanos[0..<(state.step - firstStep)]),
                             losses: losses, evals: evals, finalLoss: lastLoss, trainSeconds: trainSeconds,
                             timeToTarget: timeToTarget, stoppedBy: stoppedBy)
    }

    /// One optimizer step on this rank's shard `indices` of the epoch: micro-batches,
    /// gradient all-reduce overlapped with backward, the finiteness check, the update.
    /// - Returns: this rank's summed loss over its micro-batches.
    private func trainStep(_ indices: [Int], stepNumber: Int) throws -> Double {
        let t = settings.train
        var localLoss = 0.0
        var computeNanos: UInt64 = 0
        let micros = exact?.chunksPerRank ?? accumulate
        for micro in 0..<micros {
            let samples = microBatch(micro, of: micros)
            let t0 = MonotonicClock.nanoseconds()
            loader.load(indices[samples], into: model.input)
            if let fault = options.fault, fault.rank == comm.rank {
                if fault.step == stepNumber, fault.kind == .nan { model.input[0] = .nan }
                if stepNumber >= fault.step, case let .slow(us) = fault.kind { usleep(UInt32(us * samples.count)) }
            }
            let t1 = MonotonicClock.nanoseconds()
            model.forward(batch: samples.count)
            let loss = CrossEntropy.lossAndGradient(model, labels: loader.labelBuffer, batch: samples.count,
                                                    gradientScale: lossScale)
            localLoss += loss
            if exact != nil { chunkLosses[micro] = loss }
            let t2 = MonotonicClock.nanoseconds()
            if micro == micros - 1 && !sharded {
                exact?.setLosses(chunkLosses)
                reducer.beginStep(step: stepNumber)
                model.backward(batch: samples.count, observer: reducer)
            } else if micro == micros - 1, let sharedSum {
                sharedSum.beginStep(step: stepNumber)
                model.backward(batch: samples.count, observer: sharedSum)
            } else {
                model.backward(batch: samples.count, observer: wholeGradients)
                exact?.keep(chunk: micro)
            }
            let t3 = MonotonicClock.nanoseconds()
            timeline.record(.data, start: t0, end: t1)
            timeline.record(.forward, start: t1, end: t2)
            timeline.record(.backward, start: t2, end: t3)
            phases.data += t1 - t0
            phases.forward += t2 - t1
            phases.backward += t3 - t2
            computeNanos += t3 - t0
        }
        let waitStart = MonotonicClock.nanoseconds()
        if sharded {
            activity.set(.waitingGradients, step: stepNumber)
            if let sharedSum {
                try sharedSum.finishStep()
            } else {
                _ = try comm.reduceScatterSum(model.parameters.gradients.buffer)
                blockingCommNanoseconds += MonotonicClock.nanoseconds() - waitStart
            }
        } else {
            try reducer.finishStep()
        }
        var exactNonFinite: Int?  // a tensor the exact sum found NaN or ±Inf in (the same on every rank)
        if let exact {
            let (loss, bad) = exact.result()
            // Rank 0 holds the exact global loss sum, the others none, so the logging sum stays exact.
            localLoss = comm.rank == 0 ? loss : 0
            exactNonFinite = bad
        }
        let waitEnd = MonotonicClock.nanoseconds()
        phases.wait += waitEnd - waitStart
        // Every rank holds the same summed gradients: each checks its 1/world share for NaN
        // and ±Inf, and one two-value all-reduce agrees on that and on a stop signal.
        let gradients = model.parameters.gradients
        let share = sharded ? optimizer.updateRange
            : (comm.rank * gradients.count / comm.size)..<((comm.rank + 1) * gradients.count / comm.size)
        control[0] = Double(StopSignal.pending)
        control[1] = exactNonFinite != nil
            || firstNonFinite(UnsafeBufferPointer(rebasing: UnsafeBufferPointer(gradients.buffer)[share])) != nil ? 1 : 0
        let speeds = speedControl
        if let balancer {
            for (r, slot) in speeds.enumerated() {
                control[slot] = r == comm.rank ? Double(computeNanos) / 1e9 / Double(balancer.shares[r]) : 0
            }
        }
        activity.set(.waitingControl, step: stepNumber)
        let maxima = maxControl
        try control.withUnsafeMutableBufferPointer { (b) throws(CommError) in
            try comm.allReduce(UnsafeMutableBufferPointer(rebasing: b[maxima]), .max)
        }
        balancer?.update(secondsPerSample: control[speeds])
        activity.set(.computing, step: stepNumber)
        var gathered: UInt64 = 0  // the sharded update's allgather or shared-memory wait (ns)
        if control[1] != 0 {
            let name = exactNonFinite.map { model.parameters.slices[$0].name }
                ?? firstNonFinite(UnsafeBufferPointer(gradients.buffer)).flatMap { model.parameters.slice(containing: $0)?.name }
                ?? "?"
            guard t.skipNonFinite else {
                try checkpoints?.finish()
                let loss = localLoss.isFinite ? "" : ", where rank \(comm.rank)'s loss is \(localLoss)"
                throw TrainingError("step \(stepNumber): non-finite gradient, first in \(name)\(loss); the run stops and writes no checkpoint from this state. Lower optimizer.lr, check the data, or set train.skip_nonfinite = true to skip such steps",
                                    exitCode: ExitCode.nonFinite)
            }
            state.skippedSteps += 1
            progress.note("lockstep: step \(stepNumber): non-finite gradient in \(name); step skipped (train.skip_nonfinite)")
            model.parameters.zeroGradients()
        } else {
            stallIfInjected(at: .update, step: stepNumber)
            // A plain sum over the world is divided by it; see `takesPartsOfGlobalBatch`.
            optimizer.step(lr: schedule.lr(at: state.step), gradScale: takesPartsOfGlobalBatch ? 1 : 1 / Float(comm.size))
            if sharded { gathered = try gatherShardedUpdate() }
        }
        let end = MonotonicClock.nanoseconds()
        timeline.record(.optimizer, start: waitEnd, end: end)
        phases.optimizer += end - waitEnd - gathered
        return localLoss
    }

    /// Stops this rank's main thread if a test injected a stall here (see FaultInjection).
    private func stallIfInjected(at point: FaultInjection.StallPoint, step: Int) {
        guard let fault = options.fault, fault.rank == comm.rank, fault.step == step,
              case let .stall(seconds, at) = fault.kind, at == point else { return }
        usleep(UInt32(min(seconds, 4000) * 1e6))
    }

    /// After a sharded update: zeroes the gradients outside this rank's shard (the optimizer
    /// zeroed its own) and gathers every rank's updated shard of the parameters, or with
    /// node-shared parameters waits until every shard's owner has written it.
    /// - Returns: the nanoseconds of that communication, which count as waiting.
    private func gatherShardedUpdate() throws -> UInt64 {
        let gradients = model.parameters.gradients, owned = optimizer.updateRange
        gradients.pointer.update(repeating: 0, count: owned.lowerBound)
        (gradients.pointer + owned.upperBound).update(repeating: 0, count: gradients.count - owned.upperBound)
        let start = MonotonicClock.nanoseconds()
        if let sharedSum {
            try sharedSum.finishUpdate()
        } else {
            try comm.allGatherShards(model.parameters.values.buffer)
            blockingCommNanoseconds += MonotonicClock.nanoseconds() - start
        }
        let end = MonotonicClock.nanoseconds()
        phases.wait += end - start
        return end - start
    }

    /// The epoch's samples as this rank reads them: its interleaved share, or the whole global
    /// order when it takes parts of each step's global batch (`takesPartsOfGlobalBatch`).
    private func epochIndices(_ epoch: Int) -> [Int] {
        takesPartsOfGlobalBatch ? sampler.globalOrder(epoch: epoch) : sampler.indices(epoch: epoch)
    }

    /// Where micro-batch `micro` of this step lies in the epoch's `indices`: in the default
    /// mode a micro-batch of this rank's shard; otherwise one of `micros` equal pieces of this
    /// rank's part of the step's global batch, an even part (deterministic mode, whose pieces
    /// are its chunks) or the balancer's.
    private func microBatch(_ micro: Int, of micros: Int) -> Range<Int> {
        let perRank = settings.train.batch * accumulate
        guard takesPartsOfGlobalBatch else {
            let first = state.epochStep * perRank + micro * settings.train.batch
            return first..<(first + settings.train.batch)
        }
        let part = balancer?.range(ofRank: comm.rank) ?? (comm.rank * perRank)..<((comm.rank + 1) * perRank)
        let first = state.epochStep * globalBatch + part.lowerBound
        return (first + micro * part.count / micros)..<(first + (micro + 1) * part.count / micros)
    }

    /// Runs `count` steps on the first batches of epoch 0 and returns each step's time (ns):
    /// the step benchmark's measurement, with the very code of training.
    public func timeSteps(_ count: Int) throws -> [UInt64] {
        let indices = epochIndices(0)
        model.parameters.zeroGradients()  // a benchmark may have replayed GEMMs into them
        var times: [UInt64] = []
        for i in 0..<count {
            state.epochStep = i % stepsPerEpoch
            let start = MonotonicClock.nanoseconds()
            _ = try trainStep(indices, stepNumber: i + 1)
            times.append(MonotonicClock.nanoseconds() - start)
        }
        state = TrainingState()
        return times
    }

    /// Hands the current state to the checkpoint writer (rank 0; the others go on).
    private func saveCheckpoint() throws {
        guard let checkpoints else { return }
        activity.set(.checkpointing, step: state.step)
        let start = MonotonicClock.nanoseconds()
        let metadata: [String: String] = [
            Checkpoint.Key.format: Checkpoint.format,
            Checkpoint.Key.version: Lockstep.version,
            Checkpoint.Key.step: String(state.step),
            Checkpoint.Key.epoch: String(state.epoch),
            Checkpoint.Key.epochStep: String(state.epochStep),
            Checkpoint.Key.skippedSteps: String(state.skippedSteps),
            Checkpoint.Key.samplerSeed: String(sampler.seed),
            Checkpoint.Key.samplerShuffle: String(sampler.shuffle),
            Checkpoint.Key.samplerGlobalPosition: String(state.epochStep * globalBatch),
            Checkpoint.Key.optimizer: settings.config.string("optimizer.name"),
            Checkpoint.Key.optimizerSteps: String(optimizer.steps),
            Checkpoint.Key.lrBase: String(schedule.base),
            Checkpoint.Key.lrNext: String(schedule.lr(at: state.step)),
            Checkpoint.Key.config: settings.config.canonicalText,
            Checkpoint.Key.configHash: SHA256.hex(settings.config.canonicalText),
            Checkpoint.Key.world: String(comm.size),
            Checkpoint.Key.globalBatch: String(globalBatch),
            Checkpoint.Key.batchPerRank: String(settings.train.batch),
            Checkpoint.Key.accumulate: String(accumulate),
        ]
        try checkpoints.save(step: state.step, metadata: metadata)
        timeline.record(.checkpoint, start: start, end: MonotonicClock.nanoseconds())
    }

    /// Compares a checksum of the parameters across ranks; they must agree bitwise.
    private func checkIdenticalParameters() throws {
        var mine = ParameterChecksum.of(model.parameters.values)
        var all = [UInt64](repeating: 0, count: comm.size)
        try withUnsafeBytes(of: &mine) { m in
            try all.withUnsafeMutableBytes { a in try comm.allGather(m, into: a) }
        }
        let differing = all.indices.filter { all[$0] != all[0] }
        if !differing.isEmpty {
            throw TrainingError("after step \(state.step) the parameters of ranks \(differing.map(String.init).joined(separator: ", ")) differ from rank 0's (checksums \(differing.map { String(all[$0], radix: 16) }.joined(separator: ", ")) vs \(String(all[0], radix: 16)))")
        }
    }

    private func summarize(stepNanos: [UInt64], losses: [RunSummary.LossPoint],
                           evals: [RunSummary.EvalPoint], finalLoss: Double, trainSeconds: Double, timeToTarget: Double?,
                           stoppedBy: String) throws -> RunSummary {
        let steps = stepNanos.count
        // Throughput over the steps after warm-up (the first few touch cold memory).
        let warmup = RunSummary.warmupSteps(steps: steps)
        let timed = stepNanos.dropFirst(warmup)
        let timedSeconds = Double(timed.reduce(0, +)) / 1e9
        let sorted = stepNanos.sorted()
        let median = sorted.isEmpty ? 0 : Double(sorted[sorted.count / 2]) / 1e6
        var rss = [ResourceUsage.peakResidentMB]
        try rss.withUnsafeMutableBufferPointer { (b) throws(CommError) in try comm.allReduce(b, .max) }
        let perStep = { (ns: UInt64) in steps > 0 ? Double(ns) / 1e6 / Double(steps) : 0 }
        let commTotal = perStep(reducer.commNanoseconds + (sharedSum?.commNanoseconds ?? 0) + blockingCommNanoseconds)
        let commExposed = perStep(reducer.exposedNanoseconds + (sharedSum?.exposedNanoseconds ?? 0) + blockingCommNanoseconds)
        let env = ProcessInfo.processInfo.environment
        let algorithm: String
        if comm.size == 1 {
            algorithm = "none (world 1)"
        } else if sharded {
            algorithm = nodeMemory != nil ? "node shared memory (sharded optimizer)"
                : "ring reduce-scatter + allgather (sharded optimizer)"
        } else if let mpi = comm as? MPICommunicator, settings.comm.allReduce.algorithm == .auto {
            let picks = Set(reducer.plan.buckets.map { mpi.algorithm(forBytes: $0.count * 4).rawValue }).sorted()
            algorithm = "auto (\(picks.joined(separator: ", ")))"
        } else {
            algorithm = settings.comm.allReduce.algorithm.rawValue
        }
        var checkpointStats = checkpoints?.stats
        if let r = resumedFrom {
            checkpointStats = checkpointStats ?? RunSummary.CheckpointStats(written: 0, snapshotMsMean: 0, writeMsMean: 0, bytes: 0)
            checkpointStats?.resumedFrom = r.path
            checkpointStats?.loadMs = r.seconds * 1000
        }
        return RunSummary(
            lockstepVersion: Lockstep.version, configHash: String(SHA256.hex(settings.config.canonicalText).prefix(16)),
            model: settings.model.name, parameters: model.parameters.totalCount, world: comm.size, nodes: comm.nodeCount,
            batchPerRank: settings.train.batch, accumulate: accumulate, globalBatch: globalBatch,
            steps: state.step, epochs: state.epoch + 1,
            samplesPerS: timedSeconds > 0 ? Double(timed.count * globalBatch) / timedSeconds : 0,
            stepMsMedian: median, finalLoss: finalLoss, testAccuracy: evals.last?.accuracy ?? 0,
            testLoss: evals.last?.loss ?? 0, wallS: 0, trainS: trainSeconds, timeToTargetS: timeToTarget,
            peakRssMb: ResourceUsage.peakResidentMB, peakRssMbMax: rss[0], algorithm: algorithm,
            compression: settings.comm.allReduce.compression.rawValue, fixedPoint: exact?.width.rawValue,
            batchShareMean: balancer?.meanShares, progress: settings.comm.progress.rawValue,
            bucketMb: settings.comm.bucketMB, buckets: reducer.plan.buckets.count,
            commMsTotal: commTotal, commMsExposed: commExposed, peerWaitMs: sharedSum.map { perStep($0.peerWaitNanoseconds) },
            overlapFraction: commTotal > 0 ? max(0, 1 - commExposed / commTotal) : 0,
            phaseMs: ["data": perStep(phases.data), "forward": perStep(phases.forward), "backward": perStep(phases.backward),
                      "wait": perStep(phases.wait), "optimizer": perStep(phases.optimizer),
                      "evaluation": perStep(phases.evaluation)],
            lossHistory: losses, evalHistory: evals, skippedSteps: state.skippedSteps, stoppedBy: stoppedBy,
            checkpoint: checkpointStats, slurmJobId: env["SLURM_JOB_ID"], nodeList: env["SLURM_JOB_NODELIST"],
            hostname: comm.processorName, blasKernel: BLASKernel.current)
    }
}

/// Nanoseconds spent in each phase of the steps.
struct PhaseTimes {
    var data: UInt64 = 0, forward: UInt64 = 0, backward: UInt64 = 0, wait: UInt64 = 0, optimizer: UInt64 = 0
    var evaluation: UInt64 = 0
}

/// Where a run is: what a checkpoint must save to continue at the exact next sample.
public struct TrainingState: Equatable, Sendable {
    /// Optimizer steps taken.
    public var step = 0
    /// The current epoch (0-based).
    public var epoch = 0
    /// Steps taken in the current epoch.
    public var epochStep = 0
    public var skippedSteps = 0
}

/// A 64-bit FNV-1a hash of a tensor's bits, to compare parameters across ranks cheaply.
enum ParameterChecksum {
    static func of(_ t: Tensor) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in t.buffer {
            h = (h ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3
        }
        return h
    }
}

extension UnsafeMutableBufferPointer where Element == Float {
    /// The buffer's bytes, for byte-wise collectives.
    func withRawBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws(CommError) -> R) throws(CommError) -> R {
        try body(UnsafeMutableRawBufferPointer(self))
    }
}
