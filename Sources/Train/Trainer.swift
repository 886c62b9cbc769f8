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

    public init() {}
}

/// The training loop of one rank.
///
/// A step: for each of `accumulate` micro-batches, assemble this rank's shard of the global
/// batch, forward, loss, backward; the last micro-batch's backward hands finished gradient
/// buckets to the reducer, whose all-reduces overlap the rest of backward; then wait for
/// them, check they are finite, and take the optimizer step with the gradients averaged
/// over the world. Everything a step touches is allocated before the first step.
public final class Trainer {
    public let settings: TrainingConfig
    public let comm: Communicator
    public let model: Sequential
    public let optimizer: Optimizer
    public let reducer: GradientReducer
    public let timeline: Timeline
    private let options: RunOptions
    private let train: LabeledImages
    private let loader: BatchLoader
    private let sampler: DistributedSampler
    private let evaluator: Evaluator
    private let schedule: LRSchedule
    private let wholeGradients: WholeGradients
    private let progress: ProgressReporter
    /// Optimizer steps in one epoch, the same on every rank.
    public let stepsPerEpoch: Int
    public let totalSteps: Int
    public private(set) var state: TrainingState

    /// Builds everything a run needs. Rank 0's initial parameters are broadcast to all ranks.
    public init(settings: TrainingConfig, comm: Communicator, data: (train: LabeledImages, test: LabeledImages),
                options: RunOptions) throws {
        self.settings = settings
        self.comm = comm
        self.options = options
        BLASThreads.set(1)  // one rank per core: OpenBLAS's own threads would only compete
        let t = settings.train
        train = data.train
        model = try Sequential(spec: settings.model, maxBatch: t.batch)
        model.initialize(seed: t.seed)
        try model.parameters.values.buffer.withRawBytes { (bytes) throws(CommError) in try comm.broadcast(bytes, root: 0) }
        optimizer = switch settings.optimizer {
        case let .sgd(momentum, nesterov, weightDecay):
            SGD(model.parameters, momentum: Float(momentum), nesterov: nesterov, weightDecay: Float(weightDecay))
        case let .adamW(beta1, beta2, epsilon, weightDecay):
            AdamW(model.parameters, beta1: Float(beta1), beta2: Float(beta2), epsilon: Float(epsilon),
                  weightDecay: Float(weightDecay))
        }
        sampler = DistributedSampler(datasetCount: train.count, world: comm.size, rank: comm.rank, shuffle: t.shuffle,
                                     seed: t.seed, dropLast: false)
        let perStep = t.batch * t.accumulate
        stepsPerEpoch = sampler.samplesPerRank / perStep
        guard stepsPerEpoch >= 1 else {
            throw TrainingError("train.batch × train.accumulate = \(perStep) per rank exceeds the \(sampler.samplesPerRank) training samples each of \(comm.size) ranks gets per epoch; lower train.batch or use fewer ranks",
                                exitCode: ExitCode.usage)
        }
        totalSteps = t.steps > 0 ? t.steps : t.epochs * stepsPerEpoch
        let globalBatch = settings.globalBatch(world: comm.size)
        let s = settings.schedule
        schedule = LRSchedule(lr: settings.lr, decay: s.decay, warmupSteps: s.warmupSteps, totalSteps: totalSteps,
                              scaling: s.linearScaling ? (globalBatch, s.baseBatch) : nil)
        loader = BatchLoader(data: train, capacity: t.batch)
        evaluator = Evaluator(model: model, test: data.test, comm: comm)
        timeline = Timeline(enabled: options.recordTimeline, capacity: min(totalSteps, 100_000) * 16 + 64)
        reducer = GradientReducer(store: model.parameters, comm: comm, bucketBytes: Int(settings.comm.bucketMB * 1_048_576),
                                  progress: settings.comm.progress, timeline: timeline)
        wholeGradients = WholeGradients(model.parameters)
        progress = ProgressReporter(totalSteps: totalSteps, totalEpochs: (totalSteps + stepsPerEpoch - 1) / stepsPerEpoch,
                                    globalBatch: globalBatch, enabled: options.printProgress && comm.rank == 0)
        state = TrainingState()
    }

    /// Trains to the end (or the accuracy target) and returns the summary.
    public func run() throws -> RunSummary {
        let t = settings.train
        let world = comm.size
        let globalBatch = settings.globalBatch(world: world)
        let gradScale = 1 / Float(world)
        let lossScale = 1 / Float(t.batch * t.accumulate)
        var indices = sampler.indices(epoch: state.epoch)
        var stepNanos = [UInt64](repeating: 0, count: totalSteps)
        var phaseNanos = [UInt64](repeating: 0, count: 6)  // data, forward, backward, wait, optimizer, evaluation
        var lossSinceLog = 0.0, stepsSinceLog = 0
        var summaryLosses: [RunSummary.LossPoint] = []
        var evals: [RunSummary.EvalPoint] = []
        var lastLoss = Double.nan
        var timeToTarget: Double?
        var stoppedBy = "steps"
        let trainStart = MonotonicClock.nanoseconds()
        var lastLogTime = trainStart, lastLogStep = state.step
        let firstStep = state.step

        while state.step < totalSteps {
            if state.epochStep == stepsPerEpoch {
                state.epoch += 1
                state.epochStep = 0
                indices = sampler.indices(epoch: state.epoch)
            }
            timeline.step = state.step
            let stepStart = MonotonicClock.nanoseconds()
            var localLoss = 0.0
            for micro in 0..<t.accumulate {
                let first = (state.epochStep * t.accumulate + micro) * t.batch
                let t0 = MonotonicClock.nanoseconds()
                loader.load(indices[first..<(first + t.batch)], into: model.input)
                let t1 = MonotonicClock.nanoseconds()
                model.forward(batch: t.batch)
                localLoss += CrossEntropy.lossAndGradient(model, labels: loader.labelBuffer, batch: t.batch,
                                                          gradientScale: lossScale)
                let t2 = MonotonicClock.nanoseconds()
                if micro == t.accumulate - 1 {
                    reducer.beginStep()
                    model.backward(batch: t.batch, observer: reducer)
                } else {
                    model.backward(batch: t.batch, observer: wholeGradients)
                }
                let t3 = MonotonicClock.nanoseconds()
                timeline.record(.data, start: t0, end: t1)
                timeline.record(.forward, start: t1, end: t2)
                timeline.record(.backward, start: t2, end: t3)
                phaseNanos[0] += t1 - t0
                phaseNanos[1] += t2 - t1
                phaseNanos[2] += t3 - t2
            }
            let waitStart = MonotonicClock.nanoseconds()
            try reducer.finishStep()
            let waitEnd = MonotonicClock.nanoseconds()
            phaseNanos[3] += waitEnd - waitStart
            if let bad = firstNonFinite(UnsafeBufferPointer(model.parameters.gradients.buffer)) {
                let name = model.parameters.slice(containing: bad)?.name ?? "element \(bad)"
                guard t.skipNonFinite else {
                    throw TrainingError("step \(state.step + 1): non-finite gradient in \(name) (local loss \(localLoss)); no checkpoint is written from this state. Lower optimizer.lr, or set train.skip_nonfinite = true to skip such steps",
                                        exitCode: ExitCode.nonFinite)
                }
                model.parameters.zeroGradients()
                state.skippedSteps += 1
            } else {
                optimizer.step(lr: schedule.lr(at: state.step), gradScale: gradScale)
                model.parameters.zeroGradients()
            }
            let stepEnd = MonotonicClock.nanoseconds()
            timeline.record(.optimizer, start: waitEnd, end: stepEnd)
            timeline.record(.step, start: stepStart, end: stepEnd)
            phaseNanos[4] += stepEnd - waitEnd
            stepNanos[state.step] = stepEnd - stepStart
            state.step += 1
            state.epochStep += 1
            lossSinceLog += localLoss
            stepsSinceLog += 1

            if options.checkIdenticalRanks { try checkIdenticalParameters() }

            let epochEnds = state.epochStep == stepsPerEpoch
            let last = state.step == totalSteps
            if state.step % t.logEvery == 0 || epochEnds || last {
                var totals = [lossSinceLog, Double(stepsSinceLog * globalBatch)]
                try totals.withUnsafeMutableBufferPointer { (b) throws(CommError) in try comm.allReduce(b, .sum) }
                lastLoss = totals[0] / totals[1]
                summaryLosses.append(.init(step: state.step, loss: lastLoss))
                let now = MonotonicClock.nanoseconds()
                let rate = Double((state.step - lastLogStep) * globalBatch) / (Double(now - lastLogTime) / 1e9)
                let perStep = Double(now - trainStart) / 1e9 / Double(state.step - firstStep)
                progress.step(state.step, epoch: state.epoch + 1, loss: lastLoss, samplesPerSecond: rate,
                              secondsLeft: perStep * Double(totalSteps - state.step))
                lossSinceLog = 0
                stepsSinceLog = 0
                lastLogTime = now
                lastLogStep = state.step
            }
            if (t.evalEvery > 0 && state.step % t.evalEvery == 0) || epochEnds || last {
                let e0 = MonotonicClock.nanoseconds()
                let (accuracy, loss) = try evaluator.evaluate()
                let e1 = MonotonicClock.nanoseconds()
                timeline.record(.evaluation, start: e0, end: e1)
                phaseNanos[5] += e1 - e0
                evals.append(.init(step: state.step, accuracy: accuracy, loss: loss, elapsedS: Double(e1 - trainStart) / 1e9))
                progress.evaluation(step: state.step, accuracy: accuracy, loss: loss)
                if t.targetAccuracy > 0 && accuracy >= t.targetAccuracy && timeToTarget == nil {
                    timeToTarget = Double(e1 - trainStart) / 1e9
                    stoppedBy = "target_accuracy"
                    break
                }
            }
        }
        let trainSeconds = Double(MonotonicClock.nanoseconds() - trainStart) / 1e9
        if evals.last?.step != state.step {
            let (accuracy, loss) = try evaluator.evaluate()
            evals.append(.init(step: state.step, accuracy: accuracy, loss: loss, elapsedS: trainSeconds))
        }
        return try summarize(stepNanos: Array(stepNanos[firstStep..<state.step]), phaseNanos: phaseNanos,
                             losses: summaryLosses, evals: evals, finalLoss: lastLoss, trainSeconds: trainSeconds,
                             timeToTarget: timeToTarget, stoppedBy: stoppedBy)
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

    private func summarize(stepNanos: [UInt64], phaseNanos: [UInt64], losses: [RunSummary.LossPoint],
                           evals: [RunSummary.EvalPoint], finalLoss: Double, trainSeconds: Double, timeToTarget: Double?,
                           stoppedBy: String) throws -> RunSummary {
        let globalBatch = settings.globalBatch(world: comm.size)
        let steps = stepNanos.count
        // Throughput over the steps after warm-up (the first few touch cold memory).
        let warmup = steps > 20 ? 3 : 0
        let timed = stepNanos.dropFirst(warmup)
        let timedSeconds = Double(timed.reduce(0, +)) / 1e9
        let sorted = stepNanos.sorted()
        let median = sorted.isEmpty ? 0 : Double(sorted[sorted.count / 2]) / 1e6
        var rss = [ResourceUsage.peakResidentMB]
        try rss.withUnsafeMutableBufferPointer { (b) throws(CommError) in try comm.allReduce(b, .max) }
        let perStep = { (ns: UInt64) in steps > 0 ? Double(ns) / 1e6 / Double(steps) : 0 }
        let commTotal = perStep(reducer.commNanoseconds), commExposed = perStep(reducer.exposedNanoseconds)
        let env = ProcessInfo.processInfo.environment
        let algorithm: String
        if let mpi = comm as? MPICommunicator, settings.comm.allReduce.algorithm == .auto {
            let picks = Set(reducer.plan.buckets.map { mpi.algorithm(forBytes: $0.count * 4).rawValue }).sorted()
            algorithm = "auto (\(picks.joined(separator: ", ")))"
        } else {
            algorithm = comm.size == 1 ? "none (world 1)" : settings.comm.allReduce.algorithm.rawValue
        }
        return RunSummary(
            lockstepVersion: Lockstep.version, configHash: String(SHA256.hex(settings.config.canonicalText).prefix(16)),
            model: settings.model.name, parameters: model.parameters.totalCount, world: comm.size, nodes: comm.nodeCount,
            batchPerRank: settings.train.batch, accumulate: settings.train.accumulate, globalBatch: globalBatch,
            steps: state.step, epochs: state.epoch + 1,
            samplesPerS: timedSeconds > 0 ? Double(timed.count * globalBatch) / timedSeconds : 0,
            stepMsMedian: median, finalLoss: finalLoss, testAccuracy: evals.last?.accuracy ?? 0,
            testLoss: evals.last?.loss ?? 0, wallS: 0, trainS: trainSeconds, timeToTargetS: timeToTarget,
            peakRssMb: ResourceUsage.peakResidentMB, peakRssMbMax: rss[0], algorithm: algorithm,
            compression: settings.comm.allReduce.compression.rawValue, progress: settings.comm.progress.rawValue,
            bucketMb: settings.comm.bucketMB, buckets: reducer.plan.buckets.count,
            commMsTotal: commTotal, commMsExposed: commExposed,
            overlapFraction: commTotal > 0 ? max(0, 1 - commExposed / commTotal) : 0,
            phaseMs: Dictionary(uniqueKeysWithValues: zip(["data", "forward", "backward", "wait", "optimizer", "evaluation"],
                                                          phaseNanos.map(perStep))),
            lossHistory: losses, evalHistory: evals, skippedSteps: state.skippedSteps, stoppedBy: stoppedBy,
            checkpoint: nil, slurmJobId: env["SLURM_JOB_ID"], nodeList: env["SLURM_JOB_NODELIST"],
            hostname: comm.processorName)
    }
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
