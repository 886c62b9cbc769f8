import Comm
import NN
import Tensor
import Trace

/// The default strategy, as PyTorch DDP: the flat gradient buffer is cut into buckets
/// (`BucketPlan`), each bucket's fp32 all-reduce starts as soon as backward has finished it
/// and runs while backward computes earlier layers, and every rank then holds the whole sum
/// and updates every parameter. Micro-batches before the last accumulate locally, as DDP's
/// `no_sync()`.
final class BucketedAllReduce: GradientSync {
    private let reducer: BucketReducer
    private let whole: WholeGradients
    private let comm: Communicator
    private let store: ParameterStore

    init(store: ParameterStore, comm: Communicator, plan: BucketPlan, testsProgress: Bool, recorder: PhaseRecorder) {
        self.comm = comm
        self.store = store
        whole = WholeGradients(store)
        reducer = BucketReducer(store: store, plan: plan, testsProgress: testsProgress, recorder: recorder) {
            (bucket) throws(CommError) in
            let range = plan.buckets[bucket]
            return try comm.startAllReduceSum(UnsafeMutableBufferPointer(start: store.gradients.pointer + range.lowerBound,
                                                                         count: range.count))
        }
        updateRange = 0..<store.totalCount
        checkedRange = (comm.rank * store.totalCount / comm.size)..<((comm.rank + 1) * store.totalCount / comm.size)
    }

    var name: String { reducer.plan.algorithmName(on: comm) }

    let updateRange: Range<Int>
    let checkedRange: Range<Int>
    var accounting: CommAccounting { reducer.accounting }

    var bucketNames: [String] { reducer.plan.names(store.slices) }

    func beginStep(_ step: Int) { reducer.beginStep() }

    func observer(forMicroBatch micro: Int, of count: Int, loss: Double) -> GradientObserver {
        micro == count - 1 ? reducer : whole
    }

    func microBatchDone(_ micro: Int, of count: Int) {}

    func finish() throws(CommError) -> SyncOutcome {
        try reducer.finishStep()
        return SyncOutcome()
    }

    func afterUpdate() throws(CommError) {}

    func gatherForCheckpoint(_ state: [Tensor]) throws(CommError) {}
}
