import CMPI
import Comm
import Foundation
import Glibc

/// Runs the all-reduces that `startAllReduceSum` hands off, in submission order, so that
/// they progress while the caller computes.
///
/// Open MPI here has no asynchronous progress: a non-blocking collective advances only inside
/// some MPI call of its process. Two ways to keep it moving are offered (comm.progress):
///
/// - `thread`: a communication thread takes each submitted buffer and runs the configured
///   algorithm to completion on its own communicator, while the main thread computes.
/// - `test`: for the `mpi` algorithm, the main thread issues MPI_Iallreduce and tests the
///   oldest request between layers (through `test`), with no extra thread.
///
/// Besides buffers to sum, the queue takes tasks (`CommTask`), which the thread runs in their
/// turn; in test mode a task waits for the requests before it and runs at once.
///
/// Every rank submits the same buffers in the same order, so the thread's collectives match
/// across ranks. Slots are preallocated: submitting a buffer allocates nothing.
final class CollectiveQueue: RequestQueue, @unchecked Sendable {
    enum Progress { case thread, test }

    private struct Slot {
        var base: UnsafeMutablePointer<Float>?
        var count = 0
        var task: CommTask?
        var request: MPI_Request? = nil
        var done = false
        var error: CommError?
        var start: UInt64 = 0
        var end: UInt64 = 0
    }

    private static let capacity = 1024
    private let progress: Progress
    private let pacing: WaitPacing
    /// Runs one all-reduce to completion (on the communication thread).
    private let run: (UnsafeMutableBufferPointer<Float>) throws(CommError) -> Void
    /// Runs a task to completion (on the communication thread, or at once in test mode).
    private let runTask: (CommTask) throws(CommError) -> Void
    /// Starts a non-blocking MPI all-reduce (test mode).
    private let issue: ((UnsafeMutableBufferPointer<Float>, UnsafeMutablePointer<MPI_Request?>) throws(CommError) -> Void)?
    private var slots = [Slot](repeating: Slot(), count: CollectiveQueue.capacity)
    private var submitted = 0
    private var finished = 0
    private var stopping = false
    private var mutex = pthread_mutex_t()
    private var workAvailable = pthread_cond_t()
    private var workDone = pthread_cond_t()
    private var thread: Thread?

    init(progress: Progress, pacing: WaitPacing,
         run: @escaping (UnsafeMutableBufferPointer<Float>) throws(CommError) -> Void,
         runTask: @escaping (CommTask) throws(CommError) -> Void,
         issue: ((UnsafeMutableBufferPointer<Float>, UnsafeMutablePointer<MPI_Request?>) throws(CommError) -> Void)?) {
        self.progress = progress
        self.pacing = pacing
        self.run = run
        self.runTask = runTask
        self.issue = issue
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&workAvailable, nil)
        pthread_cond_init(&workDone, nil)
        if progress == .thread {
            // The thread holds the queue until serve() returns, so a queue dropped right after
            // it is made (an early error) cannot be freed under a thread that has not yet run.
            let t = Thread { self.serve() }
            t.name = "lockstep-comm"
            t.start()
            thread = t
        }
    }

    /// Stops the communication thread after the submitted work is done, and waits for it to
    /// leave serve() (before MPI_Finalize).
    func shutdown() {
        pthread_mutex_lock(&mutex)
        stopping = true
        pthread_cond_broadcast(&workAvailable)
        while progress == .thread && thread != nil {
            pthread_cond_wait(&workDone, &mutex)
        }
        pthread_mutex_unlock(&mutex)
    }

    /// Whether every submitted collective has completed.
    var isIdle: Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return finished == submitted
    }

    func submit(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError) -> CommRequest {
        let ticket = enqueue(Slot(base: buffer.baseAddress, count: buffer.count, start: MonotonicClock.nanoseconds()))
        if progress == .test {
            try withUnsafeMutablePointer(to: &slots[ticket % CollectiveQueue.capacity].request) { (request) throws(CommError) in
                try issue!(buffer, request)
            }
        }
        return CommRequest(queue: self, ticket: ticket)
    }

    func submit(_ task: @escaping CommTask) throws(CommError) -> CommRequest {
        let ticket = enqueue(Slot(task: task, start: MonotonicClock.nanoseconds()))
        if progress == .test {
            if ticket > 0 { try testInOrder(upTo: ticket - 1, blocking: true) }
            var failure: CommError?
            do { try runTask(task) } catch { failure = error }
            complete(ticket % CollectiveQueue.capacity, error: failure)
        }
        return CommRequest(queue: self, ticket: ticket)
    }

    /// Puts `slot` in the next place of the queue (waking the thread in thread mode) and
    /// returns its ticket.
    private func enqueue(_ slot: Slot) -> Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        precondition(submitted - finished < CollectiveQueue.capacity,
                     "CollectiveQueue: more than \(CollectiveQueue.capacity) collectives in flight")
        let ticket = submitted
        slots[ticket % CollectiveQueue.capacity] = slot
        submitted += 1
        if progress == .thread { pthread_cond_signal(&workAvailable) }
        return ticket
    }

    /// Marks slot `i`, the oldest unfinished one, done (with its error, and when it started if
    /// that was later than its submission), and wakes its waiters.
    private func complete(_ i: Int, error: CommError?, startedAt start: UInt64? = nil) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        slots[i].task = nil
        if let start { slots[i].start = start }
        slots[i].end = MonotonicClock.nanoseconds()
        slots[i].error = error
        slots[i].done = true
        finished += 1
        pthread_cond_broadcast(&workDone)
    }

    func test(_ ticket: Int) throws(CommError) -> Bool {
        if progress == .test { try testInOrder(upTo: ticket, blocking: false) }
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        let slot = slots[ticket % CollectiveQueue.capacity]
        if let error = slot.error, slot.done { throw error }
        return slot.done
    }

    func wait(_ ticket: Int) throws(CommError) {
        if progress == .test {
            try testInOrder(upTo: ticket, blocking: true)
        } else {
            pacing.awaiting {
                pthread_mutex_lock(&mutex)
                while !slots[ticket % CollectiveQueue.capacity].done { pthread_cond_wait(&workDone, &mutex) }
                pthread_mutex_unlock(&mutex)
            }
        }
        pthread_mutex_lock(&mutex)
        let error = slots[ticket % CollectiveQueue.capacity].error
        pthread_mutex_unlock(&mutex)
        if let error { throw error }
    }

    func interval(_ ticket: Int) -> (start: UInt64, end: UInt64) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        let slot = slots[ticket % CollectiveQueue.capacity]
        return (slot.start, slot.end)
    }

    /// Test mode: tests (or waits on) the outstanding MPI requests in order, up to `ticket`.
    private func testInOrder(upTo ticket: Int, blocking: Bool) throws(CommError) {
        while finished <= ticket {
            let i = finished % CollectiveQueue.capacity
            var flag: Int32 = 0
            let code = blocking ? MPI_Wait(&slots[i].request, nil) : MPI_Test(&slots[i].request, &flag, nil)
            if code == MPI_SUCCESS && !blocking && flag == 0 { return }
            complete(i, error: code == MPI_SUCCESS ? nil
                : CommError(operation: "MPI_Iallreduce (\(slots[i].count) floats)", code: code, reason: MPIRuntime.errorString(code)))
        }
    }

    /// The communication thread: runs submitted all-reduces in order until shut down.
    private func serve() {
        pacing.adoptCurrentThread()
        pthread_mutex_lock(&mutex)
        while true {
            while finished == submitted && !stopping { pthread_cond_wait(&workAvailable, &mutex) }
            if finished == submitted && stopping { break }
            let i = finished % CollectiveQueue.capacity
            let buffer = UnsafeMutableBufferPointer(start: slots[i].base, count: slots[i].count)
            let task = slots[i].task
            pthread_mutex_unlock(&mutex)
            let start = MonotonicClock.nanoseconds()
            var failure: CommError?
            do {
                if let task { try runTask(task) } else { try run(buffer) }
            } catch { failure = error }
            complete(i, error: failure, startedAt: start)
            pthread_mutex_lock(&mutex)
        }
        thread = nil
        pthread_cond_broadcast(&workDone)
        pthread_mutex_unlock(&mutex)
    }
}
