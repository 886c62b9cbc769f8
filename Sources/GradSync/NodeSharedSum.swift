import Comm
import NN
import Tensor
import Trace

/// The sharded optimizer on one node, in the ranks' shared memory (`NodeMemory`): the
/// parameters are one copy for the node, and the gradients are summed while backward runs, on
/// the buckets of `BucketReducer`, with nothing sent.
///
/// Protocol of one step (`NodeMemory` has the memory and its ordering). A step of B
/// buckets owns the counter points base + 1 … base + B + 2, with base growing by B + 2 every
/// step, so that counters only grow:
/// 1. `beginStep` re-arms the buckets.
/// 2. Backward reports each finished block of a gradient (`gradientReady`). When buckets
///    0…b are complete the rank publishes base + b + 1.
/// 3. After each report but the last, the rank goes through the buckets in order: once every rank has
///    published bucket b, it adds its 1/world part of that bucket over all ranks, into the
///    buffer of the rank whose optimizer shard holds it. During backward it stops at the first
///    bucket that some rank has not finished, and goes back to computing.
/// 4. `finish` waits for each bucket left and sums its part, then publishes base + B + 1
///    and waits until every rank has: every sum is written before any rank reads its shard,
///    and nobody reads another rank's gradients any more, so each may zero its own.
/// 5. Each rank updates its shard of the shared parameters; `afterUpdate` publishes
///    base + B + 2 and waits until every rank has, so that the next forward reads complete
///    parameters.
/// Every rank sums every bucket in the same order, so the result does not depend on timing.
///
/// Time accounting, as Horovod's timeline tells negotiation from the reduction: the step's
/// communication is exposed only from the moment every rank has finished backward (or its
/// update) until it is done. Before that moment a waiting rank waits for a slower rank to
/// compute: that is `accounting.peerWait`, and the sums it runs meanwhile are hidden behind
/// that rank's backward.
final class NodeSharedSum: GradientSync, GradientObserver {
    let name = "node shared memory (sharded optimizer)"
    let updateRange: Range<Int>
    var checkedRange: Range<Int> { updateRange }
    private let memory: NodeMemory
    private var countdown: BucketCountdown
    private var plan: BucketPlan { countdown.plan }
    private let store: ParameterStore
    private let recorder: PhaseRecorder
    private let whole: WholeGradients
    /// The checkpoint's gather of optimizer state, which does not live in shared memory.
    private let comm: Communicator
    /// Per bucket: this rank's part of it, cut where one rank's optimizer shard ends and the next begins.
    private let parts: [[(range: Range<Int>, owner: Int)]]
    /// Buckets 0..<complete are finished on this rank; 0..<summed are summed.
    private var complete = 0, summed = 0
    /// Steps begun so far, this one included.
    private var stepsBegun: UInt64 = 0
    /// Sum time inside backward this step (ns).
    private var overlapped: UInt64 = 0
    /// An error from a report, rethrown by `finish`.
    private var failure: CommError?

    /// Communication time of the steps so far, the part of it after every rank had finished
    /// computing, and the time spent waiting for slower ranks to finish computing.
    private(set) var accounting = CommAccounting(peerWait: 0)

    /// - Parameter store: the model's buffers, in `memory` (the parameters and this rank's gradients).
    init(store: ParameterStore, memory: NodeMemory, comm: Communicator, plan: BucketPlan, recorder: PhaseRecorder) {
        self.store = store
        self.memory = memory
        self.comm = comm
        countdown = BucketCountdown(plan: plan)
        self.recorder = recorder
        whole = WholeGradients(store)
        updateRange = shard(of: memory.rank, count: store.totalCount, ranks: memory.size)
        let shards = (0..<memory.size).map { shard(of: $0, count: store.totalCount, ranks: memory.size) }
        parts = plan.buckets.map { bucket in
            let mine = shard(of: memory.rank, count: bucket.count, ranks: memory.size)
            let part = (bucket.lowerBound + mine.lowerBound)..<(bucket.lowerBound + mine.upperBound)
            return shards.enumerated().compactMap { owner, owned in
                let piece = part.clamped(to: owned)
                return piece.isEmpty ? nil : (piece, owner)
            }
        }
    }

    /// Re-arms the buckets.
    func beginStep(_ step: Int) {
        stepsBegun += 1
        countdown.rearm()
        complete = 0
        summed = 0
        overlapped = 0
    }

    func rowBlocks(ofParameter index: Int) -> [Range<Int>] { countdown.rowBlocks[index] }

    func gradientReady(parameter index: Int, rows: Range<Int>) {
        _ = countdown.report(parameter: index, rows: rows, rowLength: store.slices[index].rowLength)
        let before = complete
        while complete < plan.buckets.count && countdown.isComplete(complete) { complete += 1 }
        guard failure == nil else { return }
        do {
            if complete > before { try memory.publish(point(complete - 1)) }
            // After the last report backward has nothing left to hide sums behind.
            guard complete < plan.buckets.count else { return }
            let start = MonotonicClock.nanoseconds()
            if try sumFinishedBuckets() { overlapped += MonotonicClock.nanoseconds() - start }
        } catch {
            failure = error
        }
    }

    func observer(forMicroBatch micro: Int, of count: Int, loss: Double) -> GradientObserver {
        micro == count - 1 ? self : whole
    }

    func microBatchDone(_ micro: Int, of count: Int) {}

    /// Sums the rest, waiting for each bucket, and waits until every rank has summed.
    /// - Throws: `CommError` from the memory synchronisation, here or during backward.
    func finish() throws(CommError) -> SyncOutcome {
        let start = MonotonicClock.nanoseconds()
        if let failure {
            self.failure = nil
            throw failure
        }
        let buckets = plan.buckets.count
        if complete < buckets {
            complete = buckets  // only if backward reported less than it computed
            try memory.publish(point(complete - 1))
        }
        // Every rank has finished backward once every rank has published the last bucket.
        var allFinished: UInt64?
        var hidden: UInt64 = 0  // sums before that moment
        while summed < buckets {
            recorder.waiting(.waitingGradients, bucket: summed)
            try memory.waitUntilAllReached(point(summed))
            if allFinished == nil, try memory.allReached(point(buckets - 1)) { allFinished = MonotonicClock.nanoseconds() }
            let sumStart = MonotonicClock.nanoseconds()
            sum(bucket: summed)
            if allFinished == nil { hidden += MonotonicClock.nanoseconds() - sumStart }
            summed += 1
        }
        try memory.publish(point(buckets))
        try memory.waitUntilAllReached(point(buckets))
        let end = MonotonicClock.nanoseconds()
        accounting.total += overlapped
        account(start: start, allFinished: allFinished ?? end, end: end, sumsBefore: hidden)
        return SyncOutcome()
    }

    /// After this rank's optimizer has updated its shard of the shared parameters: zeroes the
    /// rest of its gradients and waits until every rank has updated, so that all of the
    /// parameters are visible.
    /// - Throws: `CommError` from the memory synchronisation.
    func afterUpdate() throws(CommError) {
        store.zeroGradients(outside: updateRange)
        let start = MonotonicClock.nanoseconds()
        let updated = point(plan.buckets.count + 1)
        try memory.publish(updated)
        var allFinished = start
        if !(try memory.allReached(updated)) {
            recorder.waiting(.waitingParameters)
            try memory.waitUntilAllReached(updated)
            allFinished = MonotonicClock.nanoseconds()
        }
        account(start: start, allFinished: allFinished, end: MonotonicClock.nanoseconds(), sumsBefore: 0)
    }

    /// Books a wait from `start` to `end` in which every rank had finished computing at
    /// `allFinished`, with `sumsBefore` ns of sums before that, hidden behind a slower rank.
    private func account(start: UInt64, allFinished: UInt64, end: UInt64, sumsBefore: UInt64) {
        let beforeAll = allFinished - start
        accounting.peerWait! += beforeAll - min(beforeAll, sumsBefore)
        accounting.exposed += end - allFinished
        accounting.total += end - allFinished + sumsBefore
    }

    /// Adds this rank's part of `bucket` over all ranks into its owners' buffers.
    private func sum(bucket: Int) {
        let start = MonotonicClock.nanoseconds()
        for part in parts[bucket] { memory.sum(part.range, into: part.owner) }
        recorder.record(.allReduce(bucket: bucket), start: start, end: MonotonicClock.nanoseconds())
    }

    var bucketNames: [String] { plan.names(store.slices) }

    func gatherForCheckpoint(_ state: [Tensor]) throws(CommError) {
        for buffer in state { try comm.allGatherShards(buffer.buffer) }
    }

    /// Bucket b's point in the counters this step; b = B and B + 1 are the step's two
    /// synchronisations (summed, updated).
    private func point(_ bucket: Int) -> UInt64 { (stepsBegun - 1) * UInt64(plan.buckets.count + 2) + UInt64(bucket) + 1 }

    /// Sums this rank's part of each finished bucket in order, up to the first that some rank
    /// has not finished. Returns whether it summed any.
    private func sumFinishedBuckets() throws(CommError) -> Bool {
        let first = summed
        while summed < complete, try memory.allReached(point(summed)) {
            sum(bucket: summed)
            summed += 1
        }
        return summed > first
    }
}
