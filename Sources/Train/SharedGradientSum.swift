import Comm
import NN

/// The sharded optimizer's gradient sum on one node, in the ranks' shared memory, while
/// backward runs: the counterpart of `GradientReducer`, on the same buckets.
///
/// Protocol of one step (NodeSharedMemory has the memory and its ordering):
/// 1. `beginStep` re-arms the buckets. The step's points are base + 1 … base + B for its B
///    buckets, with base growing by B every step, so that counters only grow.
/// 2. Backward reports each finished block of a gradient (`gradientReady`). When buckets
///    0…b are complete the rank publishes base + b + 1.
/// 3. After each report, the rank goes through the buckets in order: once every rank has
///    published bucket b, it adds its 1/world part of that bucket over all ranks, into the
///    buffer of the rank whose optimizer shard holds it. During backward it stops at the first
///    bucket that some rank has not finished, and goes back to computing.
/// 4. `finishStep` waits for each bucket left and sums its part, then synchronizes the node:
///    every sum is written before any rank reads its shard.
/// The exposed communication is `finishStep`; the total adds the sums that ran inside backward.
/// Every rank sums every bucket in the same order, so the result does not depend on timing.
final class SharedGradientSum: GradientObserver {
    let memory: NodeSharedMemory
    private var countdown: BucketCountdown
    private var plan: BucketPlan { countdown.plan }
    private let store: ParameterStore
    private let timeline: Timeline
    private let activity: RankActivity
    /// Per bucket: this rank's part of it, cut where one rank's optimizer shard ends and the next begins.
    private let parts: [[(range: Range<Int>, owner: Int)]]
    /// Buckets 0..<complete are finished on this rank; 0..<summed are summed.
    private var complete = 0, summed = 0
    /// Steps begun so far, this one included.
    private var stepsBegun: UInt64 = 0
    private var step = 0
    /// Sum time inside backward this step (ns).
    private var overlapped: UInt64 = 0
    /// An error from a report, rethrown by `finishStep`.
    private var failure: CommError?

    /// Communication time of the steps so far, and the part of it the steps waited for (ns).
    private(set) var commNanoseconds: UInt64 = 0
    private(set) var exposedNanoseconds: UInt64 = 0

    init(store: ParameterStore, memory: NodeSharedMemory, plan: BucketPlan, timeline: Timeline, activity: RankActivity) {
        self.store = store
        self.memory = memory
        countdown = BucketCountdown(plan: plan)
        self.timeline = timeline
        self.activity = activity
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

    /// Re-arms the buckets for 1-based step `step`.
    func beginStep(step: Int) {
        self.step = step
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
            let start = MonotonicClock.nanoseconds()
            if try sumBuckets(waiting: false) { overlapped += MonotonicClock.nanoseconds() - start }
        } catch {
            failure = error
        }
    }

    /// Sums the rest, waiting for each bucket, and synchronizes the node.
    /// - Throws: `CommError` from the memory synchronisation, here or during backward.
    func finishStep() throws(CommError) {
        let start = MonotonicClock.nanoseconds()
        if let failure {
            self.failure = nil
            throw failure
        }
        if complete < plan.buckets.count {
            complete = plan.buckets.count  // only if backward reported less than it computed
            try memory.publish(point(complete - 1))
        }
        _ = try sumBuckets(waiting: true)
        try memory.synchronize()
        let end = MonotonicClock.nanoseconds()
        timeline.record(.commWait, start: start, end: end)
        exposedNanoseconds += end - start
        commNanoseconds += end - start + overlapped
    }

    /// Bucket b's point in the counters this step.
    private func point(_ bucket: Int) -> UInt64 { (stepsBegun - 1) * UInt64(plan.buckets.count) + UInt64(bucket) + 1 }

    /// Sums this rank's part of each finished bucket in order, up to the first that some rank
    /// has not finished, or with `waiting` of every bucket. Returns whether it summed any.
    private func sumBuckets(waiting: Bool) throws(CommError) -> Bool {
        let first = summed
        while summed < complete {
            if waiting {
                activity.set(.waitingGradients, step: step, bucket: summed)
                try memory.waitUntilAllReached(point(summed))
            } else if !(try memory.allReached(point(summed))) {
                break
            }
            let start = MonotonicClock.nanoseconds()
            for part in parts[summed] { memory.sum(part.range, into: part.owner) }
            timeline.record(.allReduce(bucket: summed), start: start, end: MonotonicClock.nanoseconds())
            summed += 1
        }
        return summed > first
    }
}
