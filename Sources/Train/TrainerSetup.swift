import Checkpoint
import Comm
import Crypto
import Foundation
import Host
import NN
import RunConfig
import Tensor
import Trace

/// How a trainer comes to its first step: its optimizer, the checkpoint it resumes, its first
/// parameters, and the watchdog.
extension Trainer {
    /// The optimizer optimizer.name asks for, over `store`.
    static func makeOptimizer(_ settings: TrainingConfig.OptimizerSettings, _ store: ParameterStore) -> Optimizer {
        switch settings {
        case let .sgd(momentum, nesterov, weightDecay):
            SGD(store, momentum: Float(momentum), nesterov: nesterov, weightDecay: Float(weightDecay))
        case let .adamW(beta1, beta2, epsilon, weightDecay, decayMatricesOnly):
            AdamW(store, beta1: beta1, beta2: beta2, epsilon: Float(epsilon), weightDecay: Float(weightDecay),
                  decayScope: decayMatricesOnly ? .matrices : .all)
        }
    }

    /// The checkpoint `source` names, loaded on rank 0 and shared, with how long that took.
    static func resume(_ source: ResumeSource?, settings: TrainingConfig, comm: Communicator,
                       layout: [(name: String, shape: [Int])], activity: RankActivity,
                       notes: inout [String]) throws -> (point: Resume.Point, seconds: Double)? {
        guard let source else { return nil }
        let start = MonotonicClock.nanoseconds()
        // Rank 0 reads and verifies the file while the others wait for what it finds.
        if comm.rank == 0 { activity.set(.starting, step: 0) }
        defer { activity.set(.waitingStartup, step: 0) }
        let point = try Resume.load(source, checkpointDirectory: settings.checkpoint.directory, comm: comm, layout: layout,
                                    notes: &notes)
        return (point, MonotonicClock.seconds(since: start))
    }

    /// Fills the parameters from `seed` on rank 0 and gives every rank the same: through the
    /// node's one copy in `memory`, or by a broadcast.
    func initializeParameters(seed: UInt64, memory: NodeMemory?) throws {
        if memory == nil || comm.rank == 0 {
            recorder.activity.set(.starting, step: 0)
            model.initialize(seed: seed)
            recorder.waiting(.waitingStartup)
        }
        if let memory {
            try memory.synchronize()
        } else {
            try comm.broadcast(UnsafeMutableRawBufferPointer(model.parameters.values.buffer), root: 0)
        }
    }

    /// Copies a checkpoint's tensors in and positions the run at its step and example.
    func restore(_ point: Resume.Point, memory: NodeMemory?) throws {
        let n = model.parameters.totalCount * MemoryLayout<Float>.stride
        point.data.withUnsafeBytes { raw in
            // Node-shared parameters are one copy, which rank 0 writes.
            if memory == nil || comm.rank == 0 {
                UnsafeMutableRawPointer(model.parameters.values.pointer).copyMemory(from: raw.baseAddress!, byteCount: n)
            }
            for (i, s) in optimizer.state.enumerated() {
                UnsafeMutableRawPointer(s.buffer.pointer).copyMemory(from: raw.baseAddress! + (i + 1) * n, byteCount: n)
            }
        }
        try memory?.synchronize()
        let m = point.metadata
        optimizer.steps = m.optimizerSteps
        state = TrainingState(step: m.step, epoch: m.epoch, epochStep: 0, skippedSteps: m.skippedSteps)
        guard m.samplerGlobalPosition % plan.globalBatch == 0 else {
            throw TrainingError("\(point.path): sampler position \(m.samplerGlobalPosition) is not a whole number of global batches of \(plan.globalBatch)")
        }
        state.epochStep = m.samplerGlobalPosition / plan.globalBatch
        guard state.epochStep <= stepsPerEpoch else {
            throw TrainingError("\(point.path): sampler position \(m.samplerGlobalPosition) is past the end of this run's epoch, \(stepsPerEpoch) steps of \(plan.globalBatch) samples")
        }
        if m.configHash != SHA256.hex(settings.config.canonicalText) {
            notes.append("the config differs from the one \(point.path) was written with; the model and optimizer match")
        }
    }

    /// What a checkpoint of the run as it stands records.
    func checkpointMetadata() -> CheckpointMetadata {
        let t = settings.train
        return CheckpointMetadata(
            lockstepVersion: Lockstep.version, step: state.step, epoch: state.epoch, epochStep: state.epochStep,
            skippedSteps: state.skippedSteps, samplerSeed: t.seed, samplerShuffle: t.shuffle,
            samplerGlobalPosition: state.epochStep * plan.globalBatch, optimizer: settings.optimizer.name,
            optimizerSteps: optimizer.steps, lrBase: schedule.base, lrNext: schedule.lr(at: state.step),
            config: settings.config.canonicalText, configHash: SHA256.hex(settings.config.canonicalText), world: comm.size,
            globalBatch: plan.globalBatch, batchPerRank: t.batch, accumulate: plan.accumulate)
    }

    /// What changed about the run goes to stderr on rank 0, even with --quiet.
    func printNotes() {
        guard comm.rank == 0 else { return }
        var lines = notes
        if let kernel = BLASKernel.replacementNote { lines.append(kernel) }
        if let r = resumedFrom { lines.append("resuming from \(r.path) at step \(state.step) (epoch \(state.epoch + 1))") }
        for line in lines { FileHandle.standardError.write(Data("lockstep: note: \(line)\n".utf8)) }
    }

    /// Compares a checksum of the parameters across ranks; they must agree bitwise.
    func checkIdenticalParameters() throws {
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

extension Trainer {
    /// The checkpoint the run resumed from, if it did.
    public var resumedPath: String? { resumedFrom?.path }
}
