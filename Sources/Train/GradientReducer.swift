import Comm
import NN
import Tensor

/// Sums gradients across ranks while backward runs, like PyTorch DDP's Reducer.
///
/// Protocol of one step:
/// 1. `beginStep` re-arms every bucket with the number of gradient elements it waits for.
/// 2. Backward reports each finished block of a parameter's gradient (`gradientReady`). The
///    block's bucket counts it down; at zero the bucket's all-reduce is started, and it runs
///    on the communication thread while backward computes earlier layers.
/// 3. `finishStep` waits for the buckets still in flight. The time spent waiting there is
///    the exposed communication; the time the all-reduces ran is the total.
///
/// A bucket's sum is an fp32 all-reduce, or in deterministic mode the bucket's exact sum
/// (`ExactGradientSum`), a task on the same thread.
///
/// Every rank runs the same backward, so buckets start in the same order everywhere and the
/// collectives match. All state is preallocated: a step allocates nothing.
public final class GradientReducer: GradientObserver {
    public var plan: BucketPlan { countdown.plan }
    private var countdown: BucketCountdown
    private let comm: Communicator
    private let store: ParameterStore
    private let progress: ProgressMode
    private let exact: ExactGradientSum?
    private var requests: [CommRequest?]
    private var started: [Bool]
    /// The next bucket whose request is tested in `test` progress mode.
    private var oldestInFlight = 0
    private let timeline: Timeline
    private let activity: RankActivity
    private var step = 0

    /// Communication time of the steps so far, in nanoseconds.
    public private(set) var commNanoseconds: UInt64 = 0
    /// Of which the step waited for, in nanoseconds.
    public private(set) var exposedNanoseconds: UInt64 = 0

    init(store: ParameterStore, comm: Communicator, plan: BucketPlan, exact: ExactGradientSum?, progress: ProgressMode,
         timeline: Timeline, activity: RankActivity) {
        self.store = store
        self.activity = activity
        self.comm = comm
        self.progress = progress
        self.exact = exact
        self.timeline = timeline
        countdown = BucketCountdown(plan: plan)
        requests = [CommRequest?](repeating: nil, count: plan.buckets.count)
        started = [Bool](repeating: false, count: plan.buckets.count)
    }

    /// Re-arms the buckets for 1-based step `step`.
    public func beginStep(step: Int) {
        self.step = step
        countdown.rearm()
        for b in plan.buckets.indices {
            requests[b] = nil
            started[b] = false
        }
        oldestInFlight = 0
    }

    public func rowBlocks(ofParameter index: Int) -> [Range<Int>] { countdown.rowBlocks[index] }

    public func gradientReady(parameter index: Int, rows: Range<Int>) {
        if let bucket = countdown.report(parameter: index, rows: rows, rowLength: store.slices[index].rowLength) {
            start(bucket)
        }
        if progress == .test { testOldest() }
    }

    /// Waits for every bucket, then accounts the step's communication time.
    /// - Throws: `CommError` from any bucket's all-reduce.
    public func finishStep() throws(CommError) {
        let waitStart = MonotonicClock.nanoseconds()
        for b in plan.buckets.indices where !started[b] {
            start(b)  // only if backward reported less than it computed
        }
        if let failure {
            self.failure = nil
            throw failure
        }
        for b in plan.buckets.indices {
            activity.set(.waitingGradients, step: step, bucket: b)
            try requests[b]!.wait()
        }
        let waitEnd = MonotonicClock.nanoseconds()
        timeline.record(.commWait, start: waitStart, end: waitEnd)
        exposedNanoseconds += waitEnd - waitStart
        for b in plan.buckets.indices {
            let interval = requests[b]!.interval
            commNanoseconds += interval.end &- interval.start
            timeline.record(.allReduce(bucket: b), start: interval.start, end: interval.end)
        }
    }

    private func start(_ bucket: Int) {
        let range = plan.buckets[bucket]
        let buffer = UnsafeMutableBufferPointer(start: store.gradients.pointer + range.lowerBound, count: range.count)
        do {
            if let exact {
                requests[bucket] = try exact.start(bucket: bucket)
            } else {
                requests[bucket] = try comm.startAllReduceSum(buffer)
            }
        } catch {
            failure = error
        }
        started[bucket] = true
    }

    /// An error from starting a bucket, rethrown by `finishStep`.
    private var failure: CommError?

    private func testOldest() {
        while oldestInFlight < plan.buckets.count, started[oldestInFlight],
              let request = requests[oldestInFlight], (try? request.test()) ?? true {
            oldestInFlight += 1
        }
    }
}
