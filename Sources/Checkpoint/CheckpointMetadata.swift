/// What a checkpoint records besides its tensors: where the run was and how it was set up.
/// It travels as safetensors' `__metadata__`, one string per field under the keys below, so
/// that any safetensors reader shows it; reading it back checks every field's presence and
/// type, and a field that is missing or malformed is an error naming it.
public struct CheckpointMetadata: Codable, Equatable, Sendable {
    /// `Checkpoint.format`.
    public var format: String
    public var lockstepVersion: String
    /// Optimizer steps taken.
    public var step: Int
    /// The epoch the run is in (0-based), and the steps taken in it.
    public var epoch: Int
    public var epochStep: Int
    public var skippedSteps: Int
    /// The sampler's seed, which with the epoch is the whole of its generator's state.
    public var samplerSeed: UInt64
    public var samplerShuffle: Bool
    /// Samples of the epoch consumed in global order: epochStep × globalBatch.
    public var samplerGlobalPosition: Int
    /// optimizer.name, and the optimizer's own step count.
    public var optimizer: String
    public var optimizerSteps: Int
    /// The schedule's base rate, and the rate of the next step.
    public var lrBase: Double
    public var lrNext: Float
    /// The run's config as canonical text, and its SHA-256.
    public var config: String
    public var configHash: String
    public var world: Int
    public var globalBatch: Int
    public var batchPerRank: Int
    public var accumulate: Int

    public init(format: String = Checkpoint.format, lockstepVersion: String, step: Int, epoch: Int, epochStep: Int,
                skippedSteps: Int, samplerSeed: UInt64, samplerShuffle: Bool, samplerGlobalPosition: Int, optimizer: String,
                optimizerSteps: Int, lrBase: Double, lrNext: Float, config: String, configHash: String, world: Int,
                globalBatch: Int, batchPerRank: Int, accumulate: Int) {
        self.format = format
        self.lockstepVersion = lockstepVersion
        self.step = step
        self.epoch = epoch
        self.epochStep = epochStep
        self.skippedSteps = skippedSteps
        self.samplerSeed = samplerSeed
        self.samplerShuffle = samplerShuffle
        self.samplerGlobalPosition = samplerGlobalPosition
        self.optimizer = optimizer
        self.optimizerSteps = optimizerSteps
        self.lrBase = lrBase
        self.lrNext = lrNext
        self.config = config
        self.configHash = configHash
        self.world = world
        self.globalBatch = globalBatch
        self.batchPerRank = batchPerRank
        self.accumulate = accumulate
    }

    /// The keys of `__metadata__`, as every version of Lockstep has written them.
    enum CodingKeys: String, CodingKey {
        case format, lockstepVersion = "lockstep_version", step, epoch, epochStep = "epoch_step"
        case skippedSteps = "skipped_steps", samplerSeed = "sampler.seed", samplerShuffle = "sampler.shuffle"
        case samplerGlobalPosition = "sampler.global_position", optimizer = "optimizer.name"
        case optimizerSteps = "optimizer.steps", lrBase = "lr.base", lrNext = "lr.next", config, configHash = "config_hash"
        case world = "world_size", globalBatch = "global_batch", batchPerRank = "batch_per_rank", accumulate
    }

    /// The fields as `__metadata__` strings.
    var strings: [String: String] { StringMap.encode(self) }

    /// Reads the fields of a checkpoint's `__metadata__`, and checks their ranges: counts not
    /// negative, the world and the batches positive with the global batch their product, the
    /// rates finite. (The checksums guard against damage, not against a file made to mislead.)
    /// - Throws: `CheckpointError` naming `path` and the first field that is missing, malformed
    ///   or out of range.
    public init(strings: [String: String], path: String) throws(CheckpointError) {
        do {
            self = try StringMap.decode(CheckpointMetadata.self, from: strings)
        } catch {
            throw CheckpointError("\(path): metadata \(error.description)")
        }
        let counts = [(CodingKeys.step, step), (.epoch, epoch), (.epochStep, epochStep), (.skippedSteps, skippedSteps),
                      (.samplerGlobalPosition, samplerGlobalPosition), (.optimizerSteps, optimizerSteps)]
        // At most 2^62, so that a run can count on from it without overflow.
        for (key, value) in counts where value < 0 || value > 1 << 62 {
            throw CheckpointError("\(path): metadata \(key.rawValue) is \(value), not a count (0 to 2^62)")
        }
        let sizes = [(CodingKeys.world, world), (.globalBatch, globalBatch), (.batchPerRank, batchPerRank), (.accumulate, accumulate)]
        for (key, value) in sizes where value < 1 {
            throw CheckpointError("\(path): metadata \(key.rawValue) is \(value), not a positive integer")
        }
        let (perStep, overflow1) = batchPerRank.multipliedReportingOverflow(by: world)
        let (product, overflow2) = perStep.multipliedReportingOverflow(by: accumulate)
        guard !overflow1 && !overflow2 && product == globalBatch else {
            throw CheckpointError("\(path): metadata global_batch \(globalBatch) is not batch_per_rank × world_size × accumulate = \(batchPerRank) × \(world) × \(accumulate)")
        }
        for (key, value) in [(CodingKeys.lrBase, lrBase), (.lrNext, Double(lrNext))] where !value.isFinite {
            throw CheckpointError("\(path): metadata \(key.rawValue) is \(value), not a finite number")
        }
    }
}
