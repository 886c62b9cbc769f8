import Comm
import NN
import Tensor

/// Deterministic mode's gradient sum: the same bits at any world size, with any algorithm.
///
/// 1. Each rank computes its gradients chunk by chunk; a chunk is `train.chunk` consecutive
///    samples of the global order, so its contents never depend on the world size. Every
///    chunk's gradient but the last is kept whole (`keep`).
/// 2. The last chunk's backward reports its buckets to the `GradientReducer`, which starts
///    each bucket's exact sum (`start`) as a task on the communication thread, while backward
///    goes on with earlier layers. A bucket holds blocks: whole tensors, or row blocks of a
///    weight that the bucket plan splits.
/// 3. The task takes each block's largest |gradient| over the chunks, and a max all-reduce
///    agrees on it. With 2^e above it, every chunk's values are turned into Int64 fixed
///    point with 2^(62-H-e) units per 1: |value| < 2^(62-H), so a sum of up to 2^H chunk terms
///    (H = 20: a million chunks per step, e.g. 1024 ranks × 1024 chunks) stays below 2^62.
/// 4. The bucket's Int64 sums are summed across ranks with the configured all-reduce. Integer
///    addition is associative, so ring, halving-doubling, hierarchical and MPI's own all
///    produce the same integers, in any order, on any number of ranks.
/// 5. The sums become Floats again, each rounded once, in the gradient buffer. With the ring
///    (see `TaskCollectives.allReduceSum(_:convertingInto:_:)`) the Int64 sums are only
///    reduce-scattered: each rank converts the shard it holds summed, and the Floats are
///    gathered, so the way back moves 4 bytes per gradient.
///
/// The blocks come from the bucket plan, which depends on comm.bucket_mb and the model only:
/// the bits are the same at any world size for one config.
///
/// Error against the exact real sum: each term is off by at most half a unit, 2^(e+H-63), so
/// a block's sum is within N·2^(e+H-63) plus the final Float rounding (2^-24 relative), with
/// N the number of chunks: for N = 8 chunks that is below 2^-39 of the block's largest value.
/// Losses are summed the same way, at 2^24 units per 1, by the task of the bucket that ends
/// the buffer, with a count of the chunks whose loss sum was not finite or above 2^18 (the sum is then NaN).
final class ExactGradientSum {
    static let headroomBits = 20
    /// Loss units per 1, as a power of two: a chunk's loss sum up to 2^(62-H-24) = 2^18 keeps
    /// the loss sum of a step of 2^H chunks below 2^62.
    static let lossExponent = 24

    let chunk: Int
    let chunksPerRank: Int
    private let store: ParameterStore
    private let comm: Communicator
    /// Chunk gradients 0..<chunksPerRank-1; the last chunk's stays in `store.gradients`.
    private let kept: [Tensor]
    /// The Int64 sums of one bucket at a time (tasks run one after another), then the loss
    /// sum and the count of non-finite losses: small enough to stay in cache from the
    /// conversion through the all-reduce to the conversion back.
    private let sums: FixedPointSums
    private let buckets: [ExactBucket]
    /// The bucket that ends the buffer, whose task also sums the losses.
    private let lossBucket: ExactBucket?
    private let tasks: [CommTask]

    init(store: ParameterStore, comm: Communicator, plan: BucketPlan, chunk: Int, chunksPerRank: Int) {
        self.store = store
        self.comm = comm
        self.chunk = chunk
        self.chunksPerRank = chunksPerRank
        kept = (0..<max(chunksPerRank - 1, 0)).map { _ in store.makeStateBuffer() }
        let sums = FixedPointSums(count: (plan.buckets.map(\.count).max() ?? 0) + 2)
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
        tasks = buckets.map { bucket -> CommTask in bucket.run }
    }

    /// Moves the gradients of local chunk `index` (just computed into `store.gradients`) aside.
    func keep(chunk index: Int) {
        guard index < kept.count else { return }
        kept[index].assign(store.gradients)
        store.zeroGradients()
    }

    /// This rank's per-chunk loss sums, summed exactly with the bucket that ends the buffer.
    /// Call before the last chunk's backward starts a bucket.
    func setLosses(_ losses: [Double]) {
        var total: Int64 = 0, nonFinite: Int64 = 0
        for loss in losses {
            let units = (loss * Double(1 << ExactGradientSum.lossExponent)).rounded(.toNearestOrEven)
            if abs(units) < Double(sign: .plus, exponent: 62 - ExactGradientSum.headroomBits, significand: 1) {
                total += Int64(units)
            } else {
                nonFinite += 1
            }
        }
        lossBucket?.loss = (total, nonFinite)
    }

    /// Starts bucket `b`'s exact sum over every chunk of every rank, into `store.gradients`.
    func start(bucket b: Int) throws(CommError) -> CommRequest {
        try comm.startTask(tasks[b])
    }

    /// Once every bucket's request has completed: the global loss sum, and the first tensor
    /// that holds NaN or ±Inf, if any (then its bucket's gradients are left as they are).
    func result() -> (loss: Double, nonFiniteSlice: Int?) {
        let (total, nonFinite) = lossBucket?.loss ?? (0, 0)
        let loss = nonFinite > 0 ? .nan : Double(total) / Double(1 << ExactGradientSum.lossExponent)
        var nonFiniteSlice: Int?
        for bucket in buckets {
            if let slice = bucket.nonFiniteSlice, slice < (nonFiniteSlice ?? .max) { nonFiniteSlice = slice }
        }
        return (loss, nonFiniteSlice)
    }
}

/// The Int64 sums of a bucket, shared by the buckets' tasks.
private final class FixedPointSums {
    let pointer: UnsafeMutablePointer<Int64>

    init(count: Int) {
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }

    deinit { pointer.deallocate() }
}

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
        let sums = self.sums.pointer  // element i of the bucket at sums[i - range.lowerBound]
        for (k, block) in blocks.enumerated() {
            let exponent = exponent(k)
            for (n, g) in chunks.enumerated() {
                convertToFixedPoint(UnsafeBufferPointer(start: g.pointer + block.elements.lowerBound, count: block.elements.count),
                                    exponent: exponent, into: sums + (block.elements.lowerBound - range.lowerBound),
                                    accumulate: n > 0)
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
                fixedPointToFloat(sums + (part.lowerBound - range.lowerBound), exponent: exponent(k),
                                  into: UnsafeMutableBufferPointer(start: gradients.pointer + part.lowerBound, count: part.count))
            }
        }
        if carriesLoss {
            let pair = sums + range.count
            pair[0] = loss.sum
            pair[1] = loss.nonFinite
            try collectives.allReduceSum(UnsafeMutableBufferPointer(start: pair, count: 2))
            loss = (pair[0], pair[1])
        }
    }

    /// Units per 1 of block `k` as a power of two: 2^(62-H) above its largest value.
    private func exponent(_ k: Int) -> Int {
        maxima[k] > 0 ? 62 - ExactGradientSum.headroomBits - maxima[k].exponent - 1 : 0
    }
}
