import Comm
import NN
import Trace

/// Starts each bucket's sum as soon as backward has finished it, like PyTorch DDP's Reducer;
/// the machinery of `BucketedAllReduce` and `ExactSum`, which differ only in what a bucket's
/// sum is (`start`).
///
/// Protocol of one step:
/// 1. `beginStep` re-arms every bucket with the number of gradient elements it waits for.
/// 2. Backward reports each finished block of a parameter's gradient (`gradientReady`). The
///    block's bucket counts it down; at zero the bucket's sum is started, and it runs on the
///    communication thread while backward computes earlier layers.
/// 3. `finishStep` waits for the buckets still in flight. The time spent waiting there is
///    the exposed communication; the time the sums ran is the total.
///
/// Every rank runs the same backward, so buckets start in the same order everywhere and the
/// collectives match. All state is preallocated: a step allocates nothing.
final class BucketReducer: GradientObserver {
    var plan: BucketPlan { countdown.plan }
    private var countdown: BucketCountdown
    private let store: ParameterStore
    /// Starts bucket b's sum over the ranks.
    private let start: (Int) throws(CommError) -> CommRequest
    /// Whether started sums advance only when tested (comm.progress = "test").
    private let testsProgress: Bool
    private let recorder: PhaseRecorder
    private var requests: [CommRequest?]
    private var started: [Bool]
    /// The next bucket whose request is tested in `test` progress mode.
    private var oldestInFlight = 0
    /// An error from starting a bucket, rethrown by `finishStep`.
    private var failure: CommError?

    private(set) var accounting = CommAccounting()

    init(store: ParameterStore, plan: BucketPlan, testsProgress: Bool, recorder: PhaseRecorder,
         start: @escaping (Int) throws(CommError) -> CommRequest) {
        self.store = store
        self.start = start
        self.testsProgress = testsProgress
        self.recorder = recorder
        countdown = BucketCountdown(plan: plan)
        requests = [CommRequest?](repeating: nil, count: plan.buckets.count)
        started = [Bool](repeating: false, count: plan.buckets.count)
    }

    /// Re-arms the buckets.
    func beginStep() {
        countdown.rearm()
        for b in plan.buckets.indices {
            requests[b] = nil
            started[b] = false
        }
        oldestInFlight = 0
    }

    func rowBlocks(ofParameter index: Int) -> [Range<Int>] { countdown.rowBlocks[index] }

    func gradientReady(parameter index: Int, rows: Range<Int>) {
        if let bucket = countdown.report(parameter: index, rows: rows, rowLength: store.slices[index].rowLength) {
            startBucket(bucket)
        }
        if testsProgress { testOldest() }
    }

    /// Waits for every bucket, then accounts the step's communication time.
    /// - Throws: `CommError` from any bucket's sum.
    func finishStep() throws(CommError) {
        let waitStart = MonotonicClock.nanoseconds()
        for b in plan.buckets.indices where !started[b] {
            startBucket(b)  // only if backward reported less than it computed
        }
        if let failure {
            self.failure = nil
            throw failure
        }
        for b in plan.buckets.indices {
            recorder.waiting(.waitingGradients, bucket: b)
            try requests[b]!.wait()
        }
        accounting.exposed += MonotonicClock.nanoseconds() - waitStart
        for b in plan.buckets.indices {
            let interval = requests[b]!.interval
            accounting.total += interval.end &- interval.start
            recorder.record(.allReduce(bucket: b), start: interval.start, end: interval.end)
        }
    }

    private func startBucket(_ bucket: Int) {
        do {
            requests[bucket] = try start(bucket)
        } catch {
            failure = error
        }
        started[bucket] = true
    }

    private func testOldest() {
        while oldestInFlight < plan.buckets.count, started[oldestInFlight],
              let request = requests[oldestInFlight], (try? request.test()) ?? true {
            oldestInFlight += 1
        }
    }
}
