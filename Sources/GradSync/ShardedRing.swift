import Comm
import NN
import Tensor
import Trace

/// The sharded optimizer (ZeRO stage 1) over the ring: after backward the gradients are
/// reduce-scattered, so that each rank holds the world's sum of its shard only; each rank
/// updates its shard of the parameters (and keeps optimizer state for it alone); the updated
/// shards are then allgathered. With `comm.compression` the reduce-scatter sends fp16 or bf16;
/// the allgather always sends fp32, so every rank holds the same parameters.
///
/// Both collectives block: the step waits for them in full, so all of their time is exposed.
final class ShardedRing: GradientSync {
    let name = "ring reduce-scatter + allgather (sharded optimizer)"
    let updateRange: Range<Int>
    var checkedRange: Range<Int> { updateRange }
    private(set) var accounting = CommAccounting()
    /// The reduce-scatter is one collective over the whole buffer.
    let bucketNames: [String] = []
    private let store: ParameterStore
    private let comm: Communicator
    private let whole: WholeGradients

    init(store: ParameterStore, comm: Communicator) {
        self.store = store
        self.comm = comm
        whole = WholeGradients(store)
        updateRange = shard(of: comm.rank, count: store.totalCount, ranks: comm.size)
    }

    func beginStep(_ step: Int) {}

    func observer(forMicroBatch micro: Int, of count: Int, loss: Double) -> GradientObserver { whole }

    func microBatchDone(_ micro: Int, of count: Int) {}

    func finish() throws(CommError) -> SyncOutcome {
        try timed { () throws(CommError) in _ = try comm.reduceScatterSum(store.gradients.buffer) }
        return SyncOutcome()
    }

    func afterUpdate() throws(CommError) {
        store.zeroGradients(outside: updateRange)
        try timed { () throws(CommError) in try comm.allGatherShards(store.values.buffer) }
    }

    func gatherForCheckpoint(_ state: [Tensor]) throws(CommError) {
        for buffer in state { try comm.allGatherShards(buffer.buffer) }
    }

    /// Runs a blocking collective and books all of its time as exposed.
    private func timed(_ body: () throws(CommError) -> Void) throws(CommError) {
        let start = MonotonicClock.nanoseconds()
        try body()
        let elapsed = MonotonicClock.nanoseconds() - start
        accounting.total += elapsed
        accounting.exposed += elapsed
    }
}
