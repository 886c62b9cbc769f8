import Comm
import NN
import Tensor

/// How one step's gradients become the world's sum. One type per strategy:
///
/// - `BucketedAllReduce`: as PyTorch DDP, buckets of the flat gradient buffer are all-reduced
///   while backward computes earlier layers; every rank then holds the whole sum and updates
///   every parameter.
/// - `ShardedRing` (ZeRO stage 1): the gradients are reduce-scattered after backward, each rank
///   updates its shard, and the parameters are allgathered.
/// - `NodeSharedSum`: the sharded optimizer on one node, in memory the ranks share: the ranks
///   sum each other's gradients bucket by bucket while backward runs, and send nothing.
/// - `ExactSum` (deterministic mode): fixed-point sums that give the same bits at any world size.
///
/// A step, as the trainer drives it:
/// 1. `beginStep`.
/// 2. For each micro-batch m of M, after its forward: backward reports its finished gradient
///    blocks to `observer(forMicroBatch:of:loss:)`; then `microBatchDone`. The last
///    micro-batch's observer starts the sums while backward still runs.
/// 3. `finish` waits until this rank holds the world's sum in `updateRange`.
/// 4. The ranks agree on stopping and finiteness; this rank's optimizer updates `updateRange`.
/// 5. `afterUpdate` makes every rank's parameters whole again where ranks updated shards.
public protocol GradientSync: AnyObject {
    /// What the run summary calls this strategy, e.g. "ring reduce-scatter + allgather (sharded optimizer)".
    var name: String { get }
    /// The elements of the flat buffers this rank's optimizer updates: all of them, or its shard.
    var updateRange: Range<Int> { get }
    /// The elements whose summed gradients this rank checks for NaN and ±Inf. Together the
    /// ranks check every element once.
    var checkedRange: Range<Int> { get }
    /// Starts 1-based step `step`.
    func beginStep(_ step: Int)
    /// What micro-batch `micro` of `count`'s backward reports to, after a forward whose summed
    /// loss is `loss`.
    func observer(forMicroBatch micro: Int, of count: Int, loss: Double) -> GradientObserver
    /// Micro-batch `micro` of `count` has finished its backward.
    func microBatchDone(_ micro: Int, of count: Int)
    /// Waits for the sums of this step.
    /// - Throws: `CommError` from any of its collectives.
    func finish() throws(CommError) -> SyncOutcome
    /// After the optimizer has updated `updateRange`.
    /// - Throws: `CommError` from any of its collectives.
    func afterUpdate() throws(CommError)
    /// Before a checkpoint: gives every rank the whole of each optimizer state buffer where the
    /// ranks updated shards of it (rank 0 writes the whole state).
    func gatherForCheckpoint(_ state: [Tensor]) throws(CommError)
    /// The communication of the steps so far.
    var accounting: CommAccounting { get }
    /// What each bucket the watchdog may name holds, e.g. "fc3.bias, fc3.weight, fc2.weight[768..<1024]".
    var bucketNames: [String] { get }
}

/// What a step's sum found beyond the gradients.
public struct SyncOutcome: Sendable, Equatable {
    /// Which part of the step's loss this rank holds.
    public var loss: LossShare
    /// A tensor the sum found NaN or ±Inf in (the same on every rank), or nil.
    public var nonFiniteSlice: Int?

    public init(loss: LossShare = .own, nonFiniteSlice: Int? = nil) {
        self.loss = loss
        self.nonFiniteSlice = nonFiniteSlice
    }
}

/// Which part of a step's loss a rank holds after the sum.
public enum LossShare: Sendable, Equatable {
    /// The loss of its own examples.
    case own
    /// The world's loss, which the sum computed (deterministic mode's exact sum, on rank 0).
    case world(Double)
    /// None: another rank holds the world's loss.
    case none
}

/// Gradient communication over a run, in nanoseconds.
public struct CommAccounting: Sendable, Equatable {
    /// How long the sums ran.
    public var total: UInt64 = 0
    /// Of which the steps waited for after every rank had finished backward.
    public var exposed: UInt64 = 0
    /// How long this rank waited for slower ranks to finish computing; nil where a wait cannot
    /// tell a slower rank from a slower transfer, and both count as exposed.
    public var peerWait: UInt64?

    public init(total: UInt64 = 0, exposed: UInt64 = 0, peerWait: UInt64? = nil) {
        self.total = total
        self.exposed = exposed
        self.peerWait = peerWait
    }
}

extension ParameterStore {
    /// Zeroes the gradients outside `range` (the optimizer zeroed those it updated).
    func zeroGradients(outside range: Range<Int>) {
        let g = gradients.pointer
        g.update(repeating: 0, count: range.lowerBound)
        (g + range.upperBound).update(repeating: 0, count: gradients.count - range.upperBound)
    }
}
