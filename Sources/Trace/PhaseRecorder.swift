import Comm

/// Where a rank's time goes, recorded once. Each phase of a step goes to three places: the
/// timeline (when it records), the run's totals per phase, and, as what the rank is doing
/// now, the watchdog's view (`RankActivity`). Recording costs two clock reads and a few
/// stores; nothing allocates.
public final class PhaseRecorder {
    public let timeline: Timeline
    public let activity: RankActivity
    /// Nanoseconds spent in each phase over the run.
    public private(set) var totals = PhaseTimes()
    /// The 1-based step being run, which every record is tagged with.
    public var step = 0 {
        didSet { timeline.step = step - 1 }
    }

    public init(timeline: Timeline, activity: RankActivity) {
        self.timeline = timeline
        self.activity = activity
    }

    /// Runs `body` as `phase`: the watchdog sees the rank in it while it runs, and its interval
    /// goes to the timeline and the totals.
    @inline(__always)
    public func measure<R, E: Error>(_ phase: Timeline.Phase, _ body: () throws(E) -> R) throws(E) -> R {
        activity.set(phase.activity, step: step)
        let start = MonotonicClock.nanoseconds()
        let result = try body()
        record(phase, start: start, end: MonotonicClock.nanoseconds())
        return result
    }

    /// The rank now waits as `kind`, on bucket `bucket` if it waits for one: for the watchdog.
    @inline(__always)
    public func waiting(_ kind: RankActivity.Kind, bucket: Int = -1) {
        activity.set(kind, step: step, bucket: bucket)
    }

    /// Books an interval measured elsewhere: to the timeline, and to the totals where `phase`
    /// is one of the main thread's.
    @inline(__always)
    public func record(_ phase: Timeline.Phase, start: UInt64, end: UInt64) {
        timeline.record(phase, start: start, end: end)
        totals.add(phase, end &- start)
    }

    /// Books time that `phase` spent waiting on other ranks, which counts as `wait` instead.
    @inline(__always)
    public func move(_ nanoseconds: UInt64, from phase: Timeline.Phase, to other: Timeline.Phase) {
        totals.add(phase, 0 &- nanoseconds)
        totals.add(other, nanoseconds)
    }
}

/// Nanoseconds per phase of the main thread, over a run.
public struct PhaseTimes: Sendable, Equatable {
    public var data: UInt64 = 0, forward: UInt64 = 0, backward: UInt64 = 0, wait: UInt64 = 0, agree: UInt64 = 0
    public var optimizer: UInt64 = 0, evaluation: UInt64 = 0, checkpoint: UInt64 = 0

    public init() {}

    /// Adds `nanoseconds` to `phase`'s total (wrapping, so that `move` can take some away).
    @inline(__always)
    mutating func add(_ phase: Timeline.Phase, _ nanoseconds: UInt64) {
        switch phase {
        case .data: data &+= nanoseconds
        case .forward: forward &+= nanoseconds
        case .backward: backward &+= nanoseconds
        case .commWait: wait &+= nanoseconds
        case .agree: agree &+= nanoseconds
        case .optimizer: optimizer &+= nanoseconds
        case .evaluation: evaluation &+= nanoseconds
        case .checkpoint: checkpoint &+= nanoseconds
        case .step, .allReduce: break
        }
    }

    /// The totals by the names the run summary's `phase_ms` uses.
    public var named: [(name: String, nanoseconds: UInt64)] {
        [("data", data), ("forward", forward), ("backward", backward), ("wait", wait), ("agree", agree),
         ("optimizer", optimizer), ("evaluation", evaluation), ("checkpoint", checkpoint)]
    }
}

extension Timeline.Phase {
    /// What the watchdog sees a rank doing in this phase.
    var activity: RankActivity.Kind {
        switch self {
        case .data, .forward, .backward, .optimizer, .step, .allReduce: .computing
        case .commWait: .waitingGradients
        case .agree: .waitingControl
        case .evaluation: .evaluating
        case .checkpoint: .checkpointing
        }
    }
}
