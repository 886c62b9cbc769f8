import Comm
import NN
import Tensor

/// Deterministic mode's gradient sum: the same bits at any world size, with any algorithm.
///
/// 1. Each rank computes its gradients chunk by chunk; a chunk is `train.chunk` consecutive
///    samples of the global order, so its contents never depend on the world size, and its
///    gradient is kept whole (`keep`).
/// 2. A max all-reduce agrees on each tensor's largest |gradient| over all chunks of the step.
///    With 2^e above it, every chunk's values are turned into Int64 fixed point with 2^(62-H-e)
///    units per 1: |value| < 2^(62-H), so a sum of up to 2^H chunk terms (H = 20: a million
///    chunks per step, e.g. 1024 ranks × 1024 chunks) stays below 2^62.
/// 3. The Int64 buffers are summed across ranks with the configured all-reduce. Integer
///    addition is associative, so ring, halving-doubling, hierarchical and MPI's own all
///    produce the same integers, in any order, on any number of ranks.
/// 4. The sums become Floats again, each rounded once.
///
/// Error against the exact real sum: each term is off by at most half a unit, 2^(e+H-63), so
/// a tensor's sum is within N·2^(e+H-63) plus the final Float rounding (2^-24 relative), with
/// N the number of chunks: for N = 8 chunks that is below 2^-39 of the tensor's largest value.
/// Losses are summed the same way, at 2^32 units per 1.
final class ExactGradientSum {
    static let headroomBits = 20
    static let lossExponent = 32

    let chunk: Int
    let chunksPerRank: Int
    private let store: ParameterStore
    private let comm: Communicator
    /// Chunk gradients 0..<chunksPerRank-1; the last chunk's stays in `store.gradients`.
    private let kept: [Tensor]
    /// One Int64 per gradient element, and one for the loss.
    private var sums: [Int64]
    private var maxima: [Double]
    private var exponents: [Int]

    init(store: ParameterStore, comm: Communicator, chunk: Int, chunksPerRank: Int) {
        self.store = store
        self.comm = comm
        self.chunk = chunk
        self.chunksPerRank = chunksPerRank
        kept = (0..<max(chunksPerRank - 1, 0)).map { _ in store.makeStateBuffer() }
        sums = [Int64](repeating: 0, count: store.totalCount + 1)
        maxima = [Double](repeating: 0, count: store.slices.count)
        exponents = [Int](repeating: 0, count: store.slices.count)
    }

    /// Moves the gradients of local chunk `index` (just computed into `store.gradients`) aside.
    func keep(chunk index: Int) {
        guard index < kept.count else { return }
        kept[index].assign(store.gradients)
        store.zeroGradients()
    }

    /// The exact sum over every chunk of every rank, written into `store.gradients`.
    /// - Parameter losses: this rank's per-chunk loss sums.
    /// - Returns: the global loss sum, or the index of a tensor holding NaN or ±Inf (then the
    ///   gradients are left as they are).
    func reduce(losses: [Double]) throws(CommError) -> (loss: Double, nonFiniteSlice: Int?) {
        let chunks = kept + [store.gradients]
        for (s, slice) in store.slices.enumerated() {
            var largest: Float = 0
            for g in chunks {
                let m = maxAbs(UnsafeBufferPointer(start: g.pointer + slice.offset, count: slice.count))
                if !(m <= largest) { largest = m }
            }
            maxima[s] = Double(largest)
        }
        try maxima.withUnsafeMutableBufferPointer { (b) throws(CommError) in try comm.allReduce(b, .max) }
        if let bad = maxima.firstIndex(where: { !$0.isFinite }) { return (0, bad) }
        for s in maxima.indices {
            exponents[s] = maxima[s] > 0 ? 62 - ExactGradientSum.headroomBits - maxima[s].exponent - 1 : 0
        }
        try sums.withUnsafeMutableBufferPointer { (all) throws(CommError) in
            all.update(repeating: 0)
            let base = all.baseAddress!
            for g in chunks {
                for (s, slice) in store.slices.enumerated() {
                    accumulateFixedPoint(UnsafeBufferPointer(start: g.pointer + slice.offset, count: slice.count),
                                         exponent: exponents[s], into: base + slice.offset)
                }
            }
            for loss in losses {
                base[store.totalCount] &+= Int64((loss * Double(1 << ExactGradientSum.lossExponent)).rounded(.toNearestOrEven))
            }
            try comm.allReduceSum(all)
            for (s, slice) in store.slices.enumerated() {
                fixedPointToFloat(base + slice.offset, exponent: exponents[s],
                                  into: UnsafeMutableBufferPointer(start: store.gradients.pointer + slice.offset, count: slice.count))
            }
        }
        return (Double(sums[store.totalCount]) / Double(1 << ExactGradientSum.lossExponent), nil)
    }
}
