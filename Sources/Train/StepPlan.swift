import RunConfig
import Tensor

/// Which examples of a step's global batch this rank computes, in which micro-batches, and
/// how their losses are scaled so that the step's gradient is the mean over the global batch.
///
/// A step of global batch G consumes the positions 0..<G of its global batch (the next G
/// examples of the epoch's global order, or G token windows drawn for the step), the same at
/// any world size. Ranks take them in one of two ways:
/// - **interleaved** (the default, as PyTorch's DistributedSampler): rank r takes positions
///   r, r + world, r + 2·world, …, in `accumulate` micro-batches of `train.batch`; each rank
///   averages over its own examples, and the all-reduced sum is divided by the world size;
/// - **parts** (deterministic mode, and `train.balance`): rank r takes a contiguous part of the
///   global batch, even or sized by its measured speed (`BatchBalancer`), cut into micro-batches
///   (deterministic mode: its chunks); each example's loss is scaled by 1/G, so that the summed
///   gradients are already the mean.
struct StepPlan {
    let world: Int
    let rank: Int
    /// train.batch: the examples of one micro-batch in the interleaved split.
    let batch: Int
    /// Micro-batches per step in the interleaved split: the config's, or what keeps a resumed
    /// run's global batch at another world size.
    let accumulate: Int
    let globalBatch: Int
    /// Deterministic mode's chunk, its chunks per rank and step, and the integers of its sums.
    let chunk: Int?
    let fixedPoint: FixedPointWidth
    /// The split by speed (train.balance at world > 1), or nil.
    private(set) var balancer: BatchBalancer?

    /// - Parameters:
    ///   - resumed: a resumed checkpoint's global batch, which this run keeps, and its path.
    ///   - config: the config `t` was read from, whose origins the messages name.
    /// - Throws: `TrainingError` (exit 2) when the global batch cannot be split as asked.
    init(_ t: TrainingConfig.TrainSettings, world: Int, rank: Int, resumed: (globalBatch: Int, path: String)?,
         config: Config? = nil) throws(TrainingError) {
        func origin(_ keys: String...) -> String { config.map { "\($0.origin(of: keys)): " } ?? "" }
        self.world = world
        self.rank = rank
        batch = t.batch
        let perStep = t.batch * world
        if let (kept, path) = resumed {
            guard kept % perStep == 0 else { throw Self.cannotKeep(kept, from: path, batch: t.batch, world: world) }
            accumulate = kept / perStep
        } else {
            accumulate = t.accumulate
        }
        globalBatch = perStep * accumulate
        if t.deterministic {
            let perRank = t.batch * accumulate
            guard perRank % t.chunk == 0 else {
                throw TrainingError(origin("train.chunk", "train.batch", "train.accumulate") + "train.chunk = \(t.chunk) must divide the \(perRank) samples each rank takes per step (train.batch × accumulate) in deterministic mode",
                                    exitCode: ExitCode.usage)
            }
            let chunks = globalBatch / t.chunk
            let width = t.fixedPoint ?? .auto(chunks: chunks)
            guard chunks <= width.maxChunks else {
                let fix = width == .int32 ? "set train.fixed_point = \"int64\" or raise train.chunk" : "raise train.chunk"
                throw TrainingError(origin("train.chunk", "train.fixed_point") + "deterministic mode sums at most \(width.maxChunks) chunks per step in \(width.rawValue); \(globalBatch) samples in chunks of \(t.chunk) are \(chunks): \(fix)",
                                    exitCode: ExitCode.usage)
            }
            chunk = t.chunk
            fixedPoint = width
        } else {
            chunk = nil
            fixedPoint = .int32
        }
        // train.balance gives a rank up to half as many examples again as the even share.
        balancer = t.balance && world > 1
            ? BatchBalancer(world: world, perRank: t.batch * accumulate, maxShare: (t.batch + t.batch / 2) * accumulate,
                            minimum: accumulate)
            : nil
    }

    /// The most examples one micro-batch can hold: what the model's buffers are sized for.
    static func maxMicroBatch(_ t: TrainingConfig.TrainSettings, world: Int) -> Int {
        t.deterministic ? t.chunk : (t.balance && world > 1 ? t.batch + t.batch / 2 : t.batch)
    }

    /// Whether ranks take contiguous parts of the global batch (see the type's notes).
    var takesParts: Bool { chunk != nil || balancer != nil }

    /// Micro-batches this rank runs per step: deterministic mode's chunks, else `accumulate`.
    var microBatches: Int { chunk.map { batch * accumulate / $0 } ?? accumulate }

    /// The positions in the step's global batch that micro-batch `micro` of this rank takes.
    func positions(micro: Int) -> BatchPositions {
        guard takesParts else { return BatchPositions(first: rank + world * micro * batch, count: batch, stride: world) }
        let perRank = batch * accumulate
        let part = balancer?.range(ofRank: rank) ?? (rank * perRank)..<((rank + 1) * perRank)
        let first = part.lowerBound + micro * part.count / microBatches
        return BatchPositions(first: first, count: part.lowerBound + (micro + 1) * part.count / microBatches - first, stride: 1)
    }

    /// The examples this rank computes in a step.
    var examplesPerStep: Int { balancer?.shares[rank] ?? batch * accumulate }

    /// The scale of each micro-batch's summed loss: 1 / (examples this rank averages over) in
    /// the interleaved split, 1 / global batch when ranks take parts.
    var lossScale: Float { 1 / Float(takesParts ? globalBatch : batch * accumulate) }

    /// What the optimizer multiplies the summed gradients by: 1 / world turns a sum of the ranks'
    /// means into the mean; with parts the sum already is.
    var gradientScale: Float { takesParts ? 1 : 1 / Float(world) }

    /// Takes every rank's compute seconds per example of the step just run (train.balance).
    mutating func update(secondsPerExample: some Collection<Double>) {
        balancer?.update(secondsPerSample: secondsPerExample)
    }

    /// The message for a kept global batch that this world cannot split as train.batch asks.
    private static func cannotKeep(_ kept: Int, from path: String, batch: Int, world: Int) -> TrainingError {
        let worlds = (1...max(kept / batch, 1)).filter { kept % (batch * $0) == 0 }
        let batches = kept % world == 0 ? (1...(kept / world)).filter { (kept / world) % $0 == 0 } : []
        let alternative = batches.isEmpty
            ? "; no per-rank batch works at world \(world), since \(kept) samples do not split evenly over \(world) ranks"
            : ", or set train.batch to one of \(batches.map(String.init).joined(separator: ", ")) at world \(world)"
        return TrainingError("cannot resume \(path) at world \(world): its global batch \(kept) is not a multiple of train.batch \(batch) × \(world) ranks, so the sample order would change; resume at world \(worlds.map(String.init).joined(separator: ", "))\(alternative)",
                             exitCode: ExitCode.usage)
    }
}

/// Positions in a step's global batch: `count` of them from `first`, `stride` apart.
struct BatchPositions: Sequence, Equatable {
    let first: Int
    let count: Int
    let stride: Int

    func makeIterator() -> StrideToIterator<Int> {
        Swift.stride(from: first, to: first + count * stride, by: stride).makeIterator()
    }
}
