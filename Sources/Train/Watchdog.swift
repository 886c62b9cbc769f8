import Comm
import Trace
import Foundation
import Synchronization

/// Aborts a job whose collective has not completed within comm.timeout_s, and says who is
/// late, like Horovod's stall inspector. Every rank runs one watchdog thread; they talk over
/// a side channel of their own, apart from the stuck collectives.
///
/// 1. Each watchdog checks its own rank every 50 ms. Once the rank has waited in a
///    collective for longer than the timeout, it reports STALL to rank 0 (rank 0 notes it
///    directly).
/// 2. On the first STALL, rank 0's watchdog sends STATUS? to every rank, and every watchdog
///    answers STATUS with its rank's activity, step, bucket and how long it has been at it.
/// 3. After all answers, or a grace period, rank 0 prints one line: the step and collective
///    that stalled, which ranks arrived, and where each late rank is (or that it did not
///    answer), then aborts the job with `ExitCode.stalled`.
/// 4. A rank that reported STALL and is not ended by rank 0 within twice the grace period
///    (rank 0 itself may be the stuck one) prints its own view and aborts.
public final class Watchdog: @unchecked Sendable {
    private enum Message: Int64 { case stall = 1, statusRequest = 2, status = 3 }

    private let activity: RankActivity
    private let channel: SideChannel
    private let rank: Int
    /// Ends the job from the watchdog's thread (MPI_Abort may be called from any thread).
    private let comm: Communicator
    private let size: Int
    private let timeout: Double
    private let grace: Double
    /// What each gradient bucket holds, once the trainer has cut them.
    private let bucketNames = Mutex<[String]>([])
    private let running = Atomic<Bool>(true)
    private let stopped = DispatchSemaphore(value: 0)

    /// Starts watching `activity`; from the first collective of a run on, so that start-up's
    /// waits are watched too.
    public init(activity: RankActivity, comm: Communicator, timeoutSeconds: Double) throws(CommError) {
        self.activity = activity
        rank = comm.rank
        self.comm = comm
        size = comm.size
        timeout = timeoutSeconds
        grace = min(10, max(2, timeoutSeconds / 2))
        guard let channel = try comm.makeSideChannel() else {
            preconditionFailure("Watchdog: a world of one has no side channel")
        }
        self.channel = channel
        // The thread holds the watchdog until it stops watching.
        let t = Thread {
            self.watch()
            self.stopped.signal()
        }
        t.name = "lockstep-watchdog"
        t.start()
    }

    /// Names the gradient buckets in the verdict (see `GradientSync.bucketNames`).
    public func nameBuckets(_ names: [String]) {
        bucketNames.withLock { $0 = names }
    }

    /// Stops watching and waits for the thread to leave MPI (before MPI_Finalize).
    public func stop() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        stopped.wait()
    }

    private func watch() {
        var reportedStall = false
        var stallSeen: (step: Int, kind: RankActivity.Kind, bucket: Int)?
        var askedAt: UInt64 = 0
        var statuses: [Int: [Int64]] = [:]
        var ownDeadline: UInt64 = 0
        while running.load(ordering: .relaxed) {
            usleep(50_000)
            let me = activity.snapshot
            let now = MonotonicClock.nanoseconds()
            if me.kind.waits && Double(me.milliseconds) / 1000 > timeout && !reportedStall {
                reportedStall = true
                ownDeadline = now + UInt64(2 * grace * 1e9)
                if rank == 0 {
                    stallSeen = (me.step, me.kind, me.bucket)
                } else {
                    try? channel.post(words(.stall, me), to: 0)
                }
            }
            while let (source, message) = (try? channel.poll()) ?? nil {
                switch Message(rawValue: message[0]) {
                case .stall where rank == 0:
                    if stallSeen == nil {
                        stallSeen = (Int(message[2]), RankActivity.Kind(rawValue: message[3]) ?? .starting, Int(message[4]))
                    }
                case .statusRequest:
                    try? channel.post(words(.status, activity.snapshot), to: source)
                case .status where rank == 0:
                    statuses[source] = message
                default:
                    break
                }
            }
            if rank == 0, stallSeen != nil {
                if askedAt == 0 {
                    askedAt = now
                    for r in 1..<size { try? channel.post(words(.statusRequest, me), to: r) }
                }
                if statuses.count == size - 1 || Double(now - askedAt) / 1e9 > grace {
                    statuses[0] = words(.status, activity.snapshot)
                    abort(verdict(stallSeen!, statuses))
                }
            } else if reportedStall && now > ownDeadline {
                abort("watchdog on rank \(rank): step \(me.step): \(me.kind.text)\(bucketText(me.bucket)) for \(seconds(me.milliseconds)) (comm.timeout_s = \(timeout)); rank 0 did not end the job, so some rank, perhaps rank 0, is stuck or gone")
            }
        }
    }

    private func words(_ message: Message, _ s: (kind: RankActivity.Kind, step: Int, bucket: Int, milliseconds: Int)) -> [Int64] {
        [message.rawValue, Int64(rank), Int64(s.step), s.kind.rawValue, Int64(s.bucket), Int64(s.milliseconds), 0, 0]
    }

    /// "step 5: the gradient all-reduce (bucket 0: fc3.bias … fc2.weight) has not completed after 3.0 s
    /// (comm.timeout_s = 3): ranks 0, 2, 3 arrived; rank 1 has not: it is at step 5, computing, for 3.2 s"
    private func verdict(_ stall: (step: Int, kind: RankActivity.Kind, bucket: Int), _ statuses: [Int: [Int64]]) -> String {
        var arrived: [Int] = []
        var late: [String] = []
        for r in 0..<size {
            guard let s = statuses[r] else {
                late.append("rank \(r) did not answer (dead, stuck in the kernel, or unreachable)")
                continue
            }
            let kind = RankActivity.Kind(rawValue: s[3]) ?? .starting
            if Int(s[2]) == stall.step && kind == stall.kind {
                arrived.append(r)
            } else {
                late.append("rank \(r) has not: it is at step \(s[2]), \(kind.text)\(bucketText(Int(s[4]))), for \(seconds(Int(s[5])))")
            }
        }
        let arrivedText = arrived.isEmpty ? "no rank arrived" : "rank\(arrived.count > 1 ? "s" : "") \(arrived.map(String.init).joined(separator: ", ")) arrived"
        return "watchdog: step \(stall.step): \(stall.kind.awaited)\(bucketText(stall.bucket)) has not completed after \(String(format: "%.1f", timeout)) s (comm.timeout_s): \(arrivedText); \(late.joined(separator: "; ")). Aborting the job"
    }

    private func bucketText(_ bucket: Int) -> String {
        guard bucket >= 0 else { return "" }
        let name = bucketNames.withLock { $0.indices.contains(bucket) ? $0[bucket] : "?" }
        return " (bucket \(bucket): \(name))"
    }

    private func seconds(_ ms: Int) -> String { String(format: "%.1f s", Double(ms) / 1000) }

    private func abort(_ message: String) -> Never {
        FileHandle.standardError.write(Data("lockstep: error: \(message)\n".utf8))
        comm.abort(code: ExitCode.stalled)
    }
}
