import Comm
import NN
import Tensor
import Trace

/// Deterministic mode's gradient sum: the same bits at any world size, with any algorithm.
///
/// 1. Each rank computes its gradients chunk by chunk; a chunk is `train.chunk` consecutive
///    samples of the global order, so its contents never depend on the world size. Every
///    chunk's gradient but the last is kept whole (`kept`). Every chunk's weight gradients are
///    computed in the bucket plan's row blocks, the last chunk's as each other's.
/// 2. The last chunk's backward reports its buckets to a `BucketReducer`, which starts
///    each bucket's exact sum as a task on the communication thread, while backward
///    goes on with earlier layers. A bucket holds blocks: whole tensors, or row blocks of a
///    weight that the bucket plan splits.
/// 3. The task takes each block's largest |gradient| over the chunks, and a max all-reduce
///    agrees on it. With 2^e above it, every chunk's values are turned into fixed point of
///    `FixedPointWidth` W bits (Int32 or Int64) with 2^(W-2-H-e) units per 1: |value| ≤
///    2^(W-2-H), so a sum of up to 2^H chunk terms stays within 2^(W-2).
/// 4. The bucket's integer sums are summed across ranks with the configured all-reduce.
///    Integer addition is associative, so ring, halving-doubling, hierarchical and MPI's own
///    all produce the same integers, in any order, on any number of ranks.
/// 5. The sums become Floats again, each rounded once, in the gradient buffer. With the ring
///    (see `TaskCollectives.allReduceSum(_:convertingInto:_:)`) the sums are only
///    reduce-scattered: each rank converts the shard it holds summed, and the Floats are
///    gathered, so the way back moves 4 bytes per gradient.
///
/// The blocks come from the bucket plan, which depends on comm.bucket_mb and the model only,
/// and the width from the number of chunks per step (a global figure): the bits are the same
/// at any world size for one config and global batch.
///
/// Error against the exact real sum: each term is off by at most half a unit, 2^(e+H+1-W), so
/// a block's sum of N chunks is within N·2^(e+H+1-W) plus the final Float rounding (2^-24
/// relative). Losses are summed in Int64 at 2^24 units per 1, by the task of the bucket that
/// ends the buffer, with a count of the chunks whose loss sum was not finite or above 2^18
/// (the sum is then NaN).
final class ExactSum: GradientSync {
    /// Loss units per 1, as a power of two: a chunk's loss sum up to 2^(62-20-24) = 2^18 keeps
    /// the loss sum of a step of 2^20 chunks (the most Lockstep allows) below 2^62.
    static let lossExponent = 24
    static let lossLimit = Double(sign: .plus, exponent: 62 - FixedPointWidth.int64.headroomBits, significand: 1)

    let chunksPerRank: Int
    let updateRange: Range<Int>
    /// Every rank holds the same exact sums: rank 0 checks them all.
    let checkedRange: Range<Int>
    var accounting: CommAccounting { reducer.accounting }
    var width: FixedPointWidth { sums.width }
    private let store: ParameterStore
    private let comm: Communicator
    private let whole: WholeGradients
    private let reducer: BucketReducer
    /// Chunk gradients 0..<chunksPerRank-1; the last chunk's stays in `store.gradients`.
    private let kept: [Tensor]
    /// Each local chunk's loss sum this step.
    private var losses: [Double]
    /// The integer sums of one bucket at a time (tasks run one after another): small enough
    /// to stay in cache from the conversion through the all-reduce to the conversion back.
    private let sums: FixedPointSums
    private let buckets: [ExactBucket]
    /// The bucket that ends the buffer, whose task also sums the losses.
    private let lossBucket: ExactBucket?

    /// - Parameter chunksPerRank: the chunks this rank computes in each step, its micro-batches.
    init(store: ParameterStore, comm: Communicator, plan: BucketPlan, chunksPerRank: Int, width: FixedPointWidth,
         testsProgress: Bool, recorder: PhaseRecorder) {
        self.store = store
        self.comm = comm
        self.chunksPerRank = chunksPerRank
        updateRange = 0..<store.totalCount
        checkedRange = comm.rank == 0 ? updateRange : 0..<0
        whole = WholeGradients(rowBlocks: plan.blocks.map { $0.map(\.rows) })
        losses = [Double](repeating: 0, count: chunksPerRank)
        kept = (0..<max(chunksPerRank - 1, 0)).map { _ in store.makeStateBuffer() }
        let sums = FixedPointSums(count: plan.buckets.map(\.count).max() ?? 0, width: width)
        self.sums = sums
        let chunks = kept + [store.gradients]
        buckets = plan.buckets.indices.map { b in
            var blocks: [(slice: Int, elements: Range<Int>)] = []
            for (index, slice) in store.slices.enumerated() {
                for block in plan.blocks[index] where block.bucket == b {
                    let first = slice.offset + block.rows.lowerBound * slice.rowLength
                    blocks.append((index, first..<(first + block.rows.count * slice.rowLength)))
                }
            }
            return ExactBucket(range: plan.buckets[b], blocks: blocks, chunks: chunks, sums: sums)
        }
        lossBucket = buckets.first { $0.range.upperBound == store.totalCount }
        lossBucket?.carriesLoss = true
        let tasks = buckets.map { bucket -> CommTask in bucket.run }
        reducer = BucketReducer(store: store, plan: plan, testsProgress: testsProgress, recorder: recorder) {
            (bucket) throws(CommError) in try comm.startTask(tasks[bucket])
        }
    }

    var name: String { reducer.plan.algorithmName(on: comm) }

    var bucketNames: [String] { reducer.plan.names(store.slices) }

    func beginStep(_ step: Int) { reducer.beginStep() }

    /// The last chunk's backward starts the buckets' sums, whose last also sums the losses:
    /// they are set before it begins.
    func observer(forMicroBatch micro: Int, of count: Int, loss: Double) -> GradientObserver {
        losses[micro] = loss
        guard micro == count - 1 else { return whole }
        setLosses(losses)
        return reducer
    }

    /// Moves the gradients of a chunk before the last (just computed into `store.gradients`) aside.
    func microBatchDone(_ micro: Int, of count: Int) {
        guard micro < kept.count else { return }
        kept[micro].assign(store.gradients)
        store.zeroGradients()
    }

    /// Waits for every bucket's exact sum. Rank 0 holds the exact global loss sum, the others
    /// none, so that the ranks' losses still add up to it exactly.
    func finish() throws(CommError) -> SyncOutcome {
        try reducer.finishStep()
        let (loss, nonFiniteSlice) = result()
        return SyncOutcome(loss: comm.rank == 0 ? .world(loss) : .none, nonFiniteSlice: nonFiniteSlice)
    }

    func afterUpdate() throws(CommError) {}

    func gatherForCheckpoint(_ state: [Tensor]) throws(CommError) {}

    /// This rank's per-chunk loss sums, summed exactly with the bucket that ends the buffer.
    private func setLosses(_ losses: [Double]) {
        var total: Int64 = 0, nonFinite: Int64 = 0
        for loss in losses {
            let units = (loss * Double(1 << ExactSum.lossExponent)).rounded(.toNearestOrEven)
            if abs(units) < ExactSum.lossLimit {
                total += Int64(units)
            } else {
                nonFinite += 1
            }
        }
        lossBucket?.loss = (total, nonFinite)
    }

    /// Once every bucket's request has completed: the global loss sum, and the first tensor
    /// that holds NaN or ±Inf, if any (then its bucket's gradients are left as they are).
    private func result() -> (loss: Double, nonFiniteSlice: Int?) {
        let (total, nonFinite) = lossBucket?.loss ?? (0, 0)
        let loss = nonFinite > 0 ? .nan : Double(total) / Double(1 << ExactSum.lossExponent)
        var nonFiniteSlice: Int?
        for bucket in buckets {
            if let slice = bucket.nonFiniteSlice, slice < (nonFiniteSlice ?? .max) { nonFiniteSlice = slice }
        }
        return (loss, nonFiniteSlice)
    }
}

/// The integer sums of a bucket, shared by the buckets' tasks, and the loss sum and count of
/// non-finite losses (always Int64).
private final class FixedPointSums {
    let width: FixedPointWidth
    private let memory: UnsafeMutableRawPointer
    let loss: UnsafeMutablePointer<Int64>

    init(count: Int, width: FixedPointWidth) {
        self.width = width
        memory = .allocate(byteCount: count * MemoryLayout<Int64>.stride, alignment: MemoryLayout<Int64>.alignment)
        switch width {
        case .int32: memory.initializeMemory(as: Int32.self, repeating: 0, count: count)
        case .int64: memory.initializeMemory(as: Int64.self, repeating: 0, count: count)
        }
        loss = .allocate(capacity: 2)
        loss.initialize(repeating: 0, count: 2)
    }

    /// The sums, as the integers of `width` (the memory is bound to that type only).
    func pointer<I: FixedPointSumElement>(_ type: I.Type) -> UnsafeMutablePointer<I> {
        memory.assumingMemoryBound(to: I.self)
    }

    deinit {
        memory.deallocate()
        loss.deallocate()
    }
}

/// Int32 or Int64: Tensor's conversions and Comm's exact sums.
private typealias FixedPointSumElement = FixedPointInteger & ExactSumElement

/// One bucket's exact sum, run as a task on the communication thread. It holds what it reads
/// and writes, so a step abandoned after an error cannot free them under that thread.
private final class ExactBucket {
    /// The bucket's elements of the flat buffer.
    let range: Range<Int>
    /// Per block: its tensor, and its elements (within `range`).
    let blocks: [(slice: Int, elements: Range<Int>)]
    let chunks: [Tensor]
    let sums: FixedPointSums
    /// Whether this task also sums this rank's loss sum (in fixed point) and count of
    /// non-finite losses over the world, after the gradients; `loss` holds the sums then.
    var carriesLoss = false
    var loss: (sum: Int64, nonFinite: Int64) = (0, 0)
    /// Per block: the largest |gradient| over the chunks, then over the ranks.
    private var maxima: [Double]
    /// After a run: the first tensor whose block holds NaN or ±Inf, or nil.
    private(set) var nonFiniteSlice: Int?

    init(range: Range<Int>, blocks: [(slice: Int, elements: Range<Int>)], chunks: [Tensor], sums: FixedPointSums) {
        self.range = range
        self.blocks = blocks
        self.chunks = chunks
        self.sums = sums
        maxima = [Double](repeating: 0, count: blocks.count)
    }

    func run(_ collectives: any TaskCollectives) throws(CommError) {
        for (k, block) in blocks.enumerated() {
            var largest: Float = 0
            for g in chunks {
                let m = maxAbs(UnsafeBufferPointer(start: g.pointer + block.elements.lowerBound, count: block.elements.count))
                if !(m <= largest) { largest = m }
            }
            // MPI's max may drop a NaN; +Inf survives it and is as non-finite.
            maxima[k] = largest.isNaN ? .infinity : Double(largest)
        }
        try maxima.withUnsafeMutableBufferPointer { (b) throws(CommError) in try collectives.allReduceMax(b) }
        if let bad = maxima.firstIndex(where: { !$0.isFinite }) {
            nonFiniteSlice = blocks[bad].slice
            return
        }
        nonFiniteSlice = nil
        switch sums.width {
        case .int32: try sumBlocks(Int32.self, collectives)
        case .int64: try sumBlocks(Int64.self, collectives)
        }
        if carriesLoss {
            let pair = sums.loss
            pair[0] = loss.sum
            pair[1] = loss.nonFinite
            try collectives.allReduceSum(UnsafeMutableBufferPointer(start: pair, count: 2))
            loss = (pair[0], pair[1])
        }
    }

    /// Converts the chunks' blocks to `I`, sums them over the ranks and converts them back
    /// into the gradient buffer.
    private func sumBlocks<I: FixedPointSumElement>(_ type: I.Type, _ collectives: any TaskCollectives) throws(CommError) {
        let sums = self.sums.pointer(I.self)  // element i of the bucket at sums[i - range.lowerBound]
        for (k, block) in blocks.enumerated() {
            let exponent = exponent(k)
            for (n, g) in chunks.enumerated() {
                I.convert(UnsafeBufferPointer(start: g.pointer + block.elements.lowerBound, count: block.elements.count),
                          exponent: exponent, into: sums + (block.elements.lowerBound - range.lowerBound), accumulate: n > 0)
            }
        }
        let gradients = chunks[chunks.count - 1]
        try collectives.allReduceSum(UnsafeMutableBufferPointer(start: sums, count: range.count),
                                     convertingInto: UnsafeMutableBufferPointer(start: gradients.pointer + range.lowerBound,
                                                                                count: range.count)) { summed in
            let held = (summed.lowerBound + range.lowerBound)..<(summed.upperBound + range.lowerBound)
            for (k, block) in blocks.enumerated() {
                let part = block.elements.clamped(to: held)
                if part.isEmpty { continue }
                I.toFloat(sums + (part.lowerBound - range.lowerBound), exponent: exponent(k),
                          into: UnsafeMutableBufferPointer(start: gradients.pointer + part.lowerBound, count: part.count))
            }
        }
    }

    /// Units per 1 of block `k` as a power of two: 2^(W-2-H) over the power of two above its
    /// largest value.
    private func exponent(_ k: Int) -> Int {
        let width = sums.width
        return maxima[k] > 0 ? width.bits - 2 - width.headroomBits - (maxima[k].exponent + 1) : 0
    }
}
